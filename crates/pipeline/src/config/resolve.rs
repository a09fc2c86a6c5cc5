//! Providers and lookup: reading the TOML files, finding a key along dlt's section paths in
//! provider order, and the checks run over whole files and the environment (unknown keys in
//! looker-load's sections, secrets in `config.toml`).

use std::path::{Path, PathBuf};

use super::env::Environment;
use super::error::{ConfigError, Origin};
use super::keys::{
    self, DLT_DESTINATION_KEYS, DUCKDB_CREDENTIAL_KEYS, DUCKDB_IGNORED_CREDENTIAL_KEYS, HINT_KEYS,
    POSTGRES_CREDENTIAL_KEYS, SOURCE_KEYS, SOURCE_MODULE, SOURCE_NAME, UNSUPPORTED_HINT_KEYS, dotted,
    env_name, join,
};
use super::value::{Raw, redact_url};

/// Which of dlt's two files a TOML file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    /// `secrets.toml`: may hold secrets.
    Secrets,
    /// `config.toml`: never read for secrets.
    Config,
}

/// One parsed TOML file.
#[derive(Debug)]
pub(crate) struct TomlFile {
    pub(crate) path: PathBuf,
    pub(crate) kind: FileKind,
    pub(crate) table: toml::Table,
}

/// Reads and parses a TOML file; `None` if it does not exist.
pub(crate) fn read_toml(path: &Path, kind: FileKind) -> Result<Option<TomlFile>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ConfigError::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    let table = text.parse::<toml::Table>().map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start).min(text.len());
        let before = text.get(..offset).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit_once('\n')
            .map_or(before, |(_, tail)| tail)
            .chars()
            .count()
            + 1;
        ConfigError::Parse {
            file: path.to_owned(),
            line,
            column,
            // Only the parser's message: the snippet it can render would quote the file, and
            // the file may be secrets.toml.
            message: e.message().trim().to_owned(),
        }
    })?;
    Ok(Some(TomlFile {
        path: path.to_owned(),
        kind,
        table,
    }))
}

/// The value at a key path inside a TOML table.
pub(crate) fn get_path<'t, S: AsRef<str>>(table: &'t toml::Table, path: &[S]) -> Option<&'t toml::Value> {
    let (last, parents) = path.split_last()?;
    let mut table = table;
    for seg in parents {
        table = table.get(seg.as_ref())?.as_table()?;
    }
    table.get(last.as_ref())
}

/// How to look a key up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lookup {
    /// The key is a secret: `config.toml` files are skipped.
    pub(crate) secret: bool,
    /// Try the pipeline-scoped paths (`<pipeline_name>.<path>`) first, across all providers,
    /// as dlt does for source and destination keys.
    pub(crate) scoped: bool,
}

/// Finds keys across providers: environment first, then the files in precedence order.
#[derive(Debug)]
pub(crate) struct Resolver<'a> {
    pub(crate) env: &'a Environment,
    /// Project secrets, project config, global secrets, global config (those that exist).
    pub(crate) files: &'a [TomlFile],
    /// The pipeline name, for pipeline-scoped lookups.
    pub(crate) scope: Option<String>,
}

impl<'a> Resolver<'a> {
    /// Walks `candidates` (most specific first) in each provider in precedence order, calling
    /// `accept` on every value found until it returns `Some`. `accept` gets the candidate path
    /// (without the pipeline scope), the raw value and its origin; it returns `None` to keep
    /// looking (e.g. a table where a value was expected) or an error to stop.
    pub(crate) fn find<T>(
        &self,
        candidates: &[Vec<String>],
        lookup: Lookup,
        mut accept: impl FnMut(&[String], Raw<'a>, &Origin) -> Result<Option<T>, ConfigError>,
    ) -> Result<Option<(T, Origin)>, ConfigError> {
        let mut tiers: Vec<Option<&str>> = Vec::with_capacity(2);
        if lookup.scoped
            && let Some(scope) = self.scope.as_deref()
        {
            tiers.push(Some(scope));
        }
        tiers.push(None);
        for tier in tiers {
            let full = |candidate: &[String]| -> Vec<String> {
                tier.map(str::to_owned)
                    .into_iter()
                    .chain(candidate.iter().cloned())
                    .collect()
            };
            for candidate in candidates {
                let name = env_name(&full(candidate));
                if let Some(text) = self.env.lookup(&name)? {
                    let origin = Origin::Environment { name };
                    if let Some(found) = accept(candidate, Raw::Text(text), &origin)? {
                        return Ok(Some((found, origin)));
                    }
                }
            }
            for file in self.files {
                if lookup.secret && file.kind == FileKind::Config {
                    continue;
                }
                for candidate in candidates {
                    let key_path = full(candidate);
                    if let Some(value) = get_path(&file.table, &key_path) {
                        let origin = Origin::File {
                            path: file.path.clone(),
                            key: dotted(&key_path),
                        };
                        if let Some(found) = accept(candidate, Raw::Toml(value), &origin)? {
                            return Ok(Some((found, origin)));
                        }
                    }
                }
            }
        }
        Ok(None)
    }

    /// Prefixes to check sections under: the root, and the pipeline scope if known.
    fn roots(&self) -> Vec<Vec<String>> {
        let mut roots = vec![Vec::new()];
        if let Some(scope) = &self.scope {
            roots.push(vec![scope.clone()]);
        }
        roots
    }

    /// Names of resources that have hints in any provider, in any source section path.
    pub(crate) fn hinted_resources(&self) -> std::collections::BTreeSet<String> {
        let mut names = std::collections::BTreeSet::new();
        for file in self.files {
            for root in self.roots() {
                for section in keys::source_sections() {
                    let mut p = root.clone();
                    p.extend(section);
                    p.push("resources".to_owned());
                    if let Some(toml::Value::Table(t)) = get_path(&file.table, &p) {
                        names.extend(t.keys().cloned());
                    }
                }
            }
        }
        for name in self.env.names() {
            for view in self.env_views(name) {
                if let Some((_, rest)) = source_env_rest(&view)
                    && let ["resources", resource, _field] = rest.as_slice()
                {
                    names.insert((*resource).to_owned());
                }
                // The shared `[sources]` level, read like the TOML form.
                if let [sources, resources, resource, field] = view.as_slice()
                    && sources == "sources"
                    && resources == "resources"
                    && HINT_KEYS.contains(&field.as_str())
                {
                    names.insert(resource.clone());
                }
            }
        }
        names
    }

    /// The lower-cased `__` segments of an upper-case variable name, with and without the
    /// pipeline scope; empty for names that are not upper case (dlt reads only upper case).
    fn env_views(&self, name: &str) -> Vec<Vec<String>> {
        if name != name.to_uppercase() {
            return Vec::new();
        }
        let segs: Vec<String> = name.split("__").map(str::to_lowercase).collect();
        let mut views = Vec::with_capacity(2);
        if let Some(scope) = &self.scope
            && segs.len() > 1
            && segs[0] == scope.to_lowercase()
        {
            views.push(segs[1..].to_vec());
        }
        views.push(segs);
        views
    }

    /// Rejects unknown keys in looker-load's own sections, in files and in the environment,
    /// refuses secrets in `config.toml`, and warns about keys that are accepted but ignored.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        for file in self.files {
            warn_bare_keys(file);
            for root in self.roots() {
                check_file_sections(file, &root)?;
                if file.kind == FileKind::Config {
                    check_no_secrets(file, &root)?;
                }
            }
        }
        for name in self.env.names() {
            for view in self.env_views(name) {
                check_env_var(name, &view)?;
            }
        }
        Ok(())
    }
}

/// dlt falls back to bare top-level keys (`client_id = ...`); looker-load does not, because
/// names like `base_url` or `CLIENT_ID` are too generic to trust. Say so instead of ignoring
/// them silently.
fn warn_bare_keys(file: &TomlFile) {
    for key in file.table.keys() {
        if SOURCE_KEYS.contains(&key.as_str()) {
            tracing::warn!(
                file = %file.path.display(),
                key = %key,
                "top-level `{key}` is ignored: looker-load reads it only under [{}] (or [sources.{SOURCE_MODULE}], [sources])",
                keys::SOURCE_SECTION
            );
        }
    }
}

fn file_origin(file: &TomlFile, key_path: &[String]) -> Origin {
    Origin::File {
        path: file.path.clone(),
        key: dotted(key_path),
    }
}

fn unknown_in_file(
    file: &TomlFile,
    section: &[String],
    key: &str,
    valid: &[&'static str],
    also_known: &[&'static str],
) -> ConfigError {
    let all: Vec<&'static str> = valid.iter().chain(also_known).copied().collect();
    ConfigError::UnknownKey {
        origin: file_origin(file, &join(section, &[key])),
        suggestion: keys::suggest(key, &all).map(|s| dotted(&join(section, &[s]))),
        valid: valid.to_vec(),
    }
}

/// Checks the keys of the Looker source sections and of `[destination.duckdb]` and
/// `[destination.postgres]` under `root`.
fn check_file_sections(file: &TomlFile, root: &[String]) -> Result<(), ConfigError> {
    let sections = [
        (join(root, &["sources", SOURCE_NAME]), false),
        (join(root, &["sources", SOURCE_MODULE, SOURCE_NAME]), false),
        (join(root, &["sources", SOURCE_MODULE]), true),
    ];
    for (section, holds_source) in sections {
        if let Some(toml::Value::Table(table)) = get_path(&file.table, &section) {
            for (key, value) in table {
                if key == "resources" {
                    if let toml::Value::Table(resources) = value {
                        check_hint_tables(file, &join(&section, &["resources"]), resources)?;
                    }
                } else if holds_source && key == SOURCE_NAME {
                    // Checked as a section of its own.
                } else if !SOURCE_KEYS.contains(&key.as_str()) {
                    return Err(unknown_in_file(file, &section, key, SOURCE_KEYS, &[]));
                }
            }
        }
    }
    for kind in ["duckdb", "postgres"] {
        let section = join(root, &["destination", kind]);
        let Some(toml::Value::Table(table)) = get_path(&file.table, &section) else {
            continue;
        };
        for (key, value) in table {
            if key == "credentials" {
                if let toml::Value::Table(creds) = value {
                    check_credential_keys(file, &join(&section, &["credentials"]), kind, creds)?;
                }
            } else if DLT_DESTINATION_KEYS.contains(&key.as_str()) {
                warn_ignored(&file_origin(file, &join(&section, &[key])));
            } else {
                return Err(unknown_in_file(
                    file,
                    &section,
                    key,
                    &["credentials"],
                    DLT_DESTINATION_KEYS,
                ));
            }
        }
    }
    Ok(())
}

fn check_hint_tables(
    file: &TomlFile,
    section: &[String],
    resources: &toml::Table,
) -> Result<(), ConfigError> {
    for (resource, hints) in resources {
        let resource_path = join(section, &[resource]);
        let origin = file_origin(file, &resource_path);
        check_resource_name(&dotted(&resource_path), &origin, resource)?;
        let toml::Value::Table(hints) = hints else {
            return Err(super::value::invalid(
                &dotted(&resource_path),
                &origin,
                Raw::Toml(hints),
                false,
                format!(
                    "a table of hints like [{}] write_disposition = \"merge\"",
                    dotted(&resource_path)
                ),
            ));
        };
        for key in hints.keys() {
            let origin = file_origin(file, &join(&resource_path, &[key]));
            if UNSUPPORTED_HINT_KEYS.contains(&key.as_str()) {
                return Err(unsupported_hint(origin, key));
            }
            if !HINT_KEYS.contains(&key.as_str()) {
                return Err(unknown_in_file(file, &resource_path, key, HINT_KEYS, &[]));
            }
        }
    }
    Ok(())
}

fn unsupported_hint(origin: Origin, key: &str) -> ConfigError {
    ConfigError::Unsupported {
        origin,
        reason: format!(
            "the `{key}` resource hint is not applied by looker-load; the hints applied are {}",
            HINT_KEYS.join(", ")
        ),
    }
}

/// Resource names are snake_case, as Looker's resources are and as the environment form
/// (upper-cased, then lower-cased back) requires.
pub(crate) fn check_resource_name(key: &str, origin: &Origin, name: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            key: key.to_owned(),
            origin: origin.clone(),
            value: format!("{name:?}"),
            expected: "a resource name in snake_case, like users or dashboard_elements".to_owned(),
        })
    }
}

fn check_credential_keys(
    file: &TomlFile,
    section: &[String],
    kind: &str,
    creds: &toml::Table,
) -> Result<(), ConfigError> {
    for key in creds.keys() {
        let key = key.as_str();
        match kind {
            "postgres" if POSTGRES_CREDENTIAL_KEYS.contains(&key) => {}
            "duckdb" if DUCKDB_CREDENTIAL_KEYS.contains(&key) => {}
            "duckdb" if DUCKDB_IGNORED_CREDENTIAL_KEYS.contains(&key) => {
                warn_ignored(&file_origin(file, &join(section, &[key])));
            }
            "postgres" => {
                return Err(unknown_in_file(file, section, key, POSTGRES_CREDENTIAL_KEYS, &[]));
            }
            _ => {
                return Err(unknown_in_file(
                    file,
                    section,
                    key,
                    DUCKDB_CREDENTIAL_KEYS,
                    DUCKDB_IGNORED_CREDENTIAL_KEYS,
                ));
            }
        }
    }
    Ok(())
}

fn warn_ignored(origin: &Origin) {
    tracing::warn!(%origin, "ignored: a dlt loader setting that looker-load does not use");
}

/// Whether a `credentials` string carries a secret: a URL with a password, or a service
/// account key. A plain path (DuckDB) does not.
fn credentials_string_is_secret(s: &str) -> bool {
    redact_url(s) != s || s.contains("private_key") || s.contains("PRIVATE KEY")
}

/// Refuses secrets in a `config.toml`: secret-named keys in the source sections, and anywhere
/// under `[destination]` and `[credentials]`, including connection strings with a password.
fn check_no_secrets(file: &TomlFile, root: &[String]) -> Result<(), ConfigError> {
    let secret_at = |key_path: Vec<String>| ConfigError::SecretInConfig {
        file: file.path.clone(),
        env: env_name(&key_path),
        key: dotted(&key_path),
    };
    for section in keys::source_sections() {
        let section: Vec<String> = root.iter().cloned().chain(section).collect();
        if let Some(toml::Value::Table(table)) = get_path(&file.table, &section) {
            for key in table.keys() {
                if keys::is_secret_key(key) {
                    return Err(secret_at(join(&section, &[key])));
                }
            }
        }
    }
    fn scan(
        value: &toml::Value,
        at: &[String],
        secret_at: &dyn Fn(Vec<String>) -> ConfigError,
    ) -> Result<(), ConfigError> {
        match value {
            toml::Value::String(s)
                if at.last().map(String::as_str) == Some("credentials")
                    && credentials_string_is_secret(s) =>
            {
                Err(secret_at(at.to_vec()))
            }
            toml::Value::Table(table) => {
                for (key, value) in table {
                    let here = join(at, &[key]);
                    if keys::is_secret_key(key) && !value.is_table() {
                        return Err(secret_at(here));
                    }
                    scan(value, &here, secret_at)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    for base in ["destination", "credentials"] {
        let at = join(root, &[base]);
        if let Some(value) = get_path(&file.table, &at) {
            scan(value, &at, &secret_at)?;
        }
    }
    Ok(())
}

/// The part of an environment key path after one of the Looker source sections that
/// looker-load owns, with the length of the section prefix.
fn source_env_rest(view: &[String]) -> Option<(usize, Vec<&str>)> {
    let segs: Vec<&str> = view.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["sources", SOURCE_MODULE, SOURCE_NAME, rest @ ..] => Some((3, rest.to_vec())),
        ["sources", SOURCE_NAME, rest @ ..] => Some((2, rest.to_vec())),
        ["sources", SOURCE_MODULE, rest @ ..] => Some((2, rest.to_vec())),
        _ => None,
    }
}

fn env_unknown(
    name: &str,
    prefix: &[&str],
    key: &str,
    valid: &[&'static str],
    also_known: &[&'static str],
) -> ConfigError {
    let all: Vec<&'static str> = valid.iter().chain(also_known).copied().collect();
    ConfigError::UnknownKey {
        origin: Origin::Environment {
            name: name.to_owned(),
        },
        suggestion: keys::suggest(key, &all).map(|s| {
            let mut p: Vec<&str> = prefix.to_vec();
            p.push(s);
            env_name(&p)
        }),
        valid: valid.to_vec(),
    }
}

/// Checks one environment variable (as lower-cased segments) against looker-load's sections.
fn check_env_var(name: &str, view: &[String]) -> Result<(), ConfigError> {
    let origin = || Origin::Environment {
        name: name.to_owned(),
    };
    if let Some((n, rest)) = source_env_rest(view) {
        let prefix: Vec<&str> = view[..n].iter().map(String::as_str).collect();
        return match rest.as_slice() {
            [key] if SOURCE_KEYS.contains(key) => Ok(()),
            ["resources", resource, field] => {
                let mut resource_prefix = prefix.clone();
                resource_prefix.extend(["resources", resource]);
                check_resource_name(&dotted(&resource_prefix), &origin(), resource)?;
                if UNSUPPORTED_HINT_KEYS.contains(field) {
                    Err(unsupported_hint(origin(), field))
                } else if HINT_KEYS.contains(field) {
                    Ok(())
                } else {
                    Err(env_unknown(name, &resource_prefix, field, HINT_KEYS, &[]))
                }
            }
            ["resources", ..] => Err(env_unknown(name, &prefix, "", HINT_KEYS, &[])),
            [key, ..] => Err(env_unknown(name, &prefix, key, SOURCE_KEYS, &[])),
            [] => Err(env_unknown(name, &prefix, "", SOURCE_KEYS, &[])),
        };
    }
    let segs: Vec<&str> = view.iter().map(String::as_str).collect();
    let (kind, rest) = match segs.as_slice() {
        ["destination", kind @ ("duckdb" | "postgres"), rest @ ..] => (*kind, rest),
        _ => return Ok(()),
    };
    let prefix = ["destination", kind];
    match rest {
        ["credentials"] => Ok(()),
        ["credentials", key] => {
            let creds_prefix = ["destination", kind, "credentials"];
            match kind {
                "postgres" if POSTGRES_CREDENTIAL_KEYS.contains(key) => Ok(()),
                "duckdb" if DUCKDB_CREDENTIAL_KEYS.contains(key) => Ok(()),
                "duckdb" if DUCKDB_IGNORED_CREDENTIAL_KEYS.contains(key) => {
                    warn_ignored(&origin());
                    Ok(())
                }
                "postgres" => Err(env_unknown(
                    name,
                    &creds_prefix,
                    key,
                    POSTGRES_CREDENTIAL_KEYS,
                    &[],
                )),
                _ => Err(env_unknown(
                    name,
                    &creds_prefix,
                    key,
                    DUCKDB_CREDENTIAL_KEYS,
                    DUCKDB_IGNORED_CREDENTIAL_KEYS,
                )),
            }
        }
        [key] if DLT_DESTINATION_KEYS.contains(key) => {
            warn_ignored(&origin());
            Ok(())
        }
        [key, ..] => Err(env_unknown(
            name,
            &prefix,
            key,
            &["credentials"],
            DLT_DESTINATION_KEYS,
        )),
        [] => Ok(()),
    }
}

/// Builds the candidate list `section + tail` for each section.
pub(crate) fn under(sections: &[Vec<String>], tail: &[&str]) -> Vec<Vec<String>> {
    sections.iter().map(|s| join(s, tail)).collect()
}
