//! Configuration: dlt's `.dlt/config.toml` and `.dlt/secrets.toml`, the environment and the
//! command-line flags, resolved once — before extract, normalize and load, before any network
//! call — into a validated [`Settings`] value.
//!
//! Users come from dlt, so dlt's files, sections and environment variables work unchanged.
//!
//! # Where values come from
//!
//! Most important first:
//!
//! 1. command-line flags ([`Overrides`]);
//! 2. environment variables: the TOML key path upper-cased with `__` between sections,
//!    e.g. `SOURCES__LOOKER_DATA_SOURCE__CLIENT_ID`;
//! 3. `.dlt/secrets.toml` in the project directory (the current directory, or
//!    `DLT_PROJECT_DIR`; the folder name can be changed with `DLT_CONFIG_FOLDER` as in dlt);
//! 4. `.dlt/config.toml` in the project directory;
//! 5. `secrets.toml`, then `config.toml`, in the global directory `~/.dlt/` (`DLT_GLOBAL_DIR`
//!    overrides it; dlt would use `/var/dlt` for root, looker-load always uses the home
//!    directory). dlt merges project and global files per kind, so a non-secret key in the
//!    global `secrets.toml` beats the project `config.toml` there; here the project wins.
//!
//! Secrets (`client_secret`, `access_token`, `password`, private keys, `aws_secret_access_key`,
//! connection strings with a password, ...) are read only from `secrets.toml` or the
//! environment. A secret in a `config.toml` is an error ([`ConfigError::SecretInConfig`]); dlt
//! silently ignores it.
//!
//! # Section paths
//!
//! A key of the Looker source is looked up as dlt does, most specific first, in each provider
//! before moving to the next provider:
//! `sources.looker.looker_data_source.<key>`, `sources.looker.<key>`,
//! `sources.looker_data_source.<key>` (the canonical one), `sources.<key>`. dlt also tries the
//! bare `<key>` (`CLIENT_ID`, `BASE_URL`, `RESOURCES`); looker-load does not, because such
//! generic names are often set for other programs and would send the Looker credentials to
//! the wrong place. A bare key in a `.dlt` TOML file is reported with a warning.
//!
//! Like dlt, source and destination keys are first looked up scoped by the pipeline name
//! (`[looker_data_pipeline.sources.looker_data_source]`,
//! `LOOKER_DATA_PIPELINE__SOURCES__LOOKER_DATA_SOURCE__CLIENT_ID`) in every provider, then
//! unscoped.
//!
//! Pipeline keys (`destination`, `staging`, `dataset_name`, `pipelines_dir`) are looked up in
//! `[pipelines.<pipeline_name>]`, `[pipeline]`, `[pipelines]` and at the top level; dlt's names
//! `destination_type` and `staging_type` are accepted next to `destination` and `staging`. A
//! top-level `destination = "..."` cannot share a file with `[destination.<name>]` tables (TOML
//! forbids it): use `[pipeline] destination`, `destination_type` or `DESTINATION`.
//!
//! Destination credentials are looked up in `destination.<name>.credentials`, then dlt's
//! fallbacks `destination.credentials` and `credentials`.
//!
//! Unknown keys inside looker-load's own sections (`[sources.looker_data_source]`,
//! `[sources.looker]`, `[destination.duckdb]`, `[destination.postgres]` and their
//! credentials, in files and in the environment) are errors with a "did you mean"; other
//! sections (`[runtime]`, `[normalize]`, other sources) are left alone. dlt's loader tuning keys
//! in the destination sections (`create_indexes`, `replace_strategy`, ...) are accepted and
//! ignored with a warning.
//!
//! Not read: dlt's vault providers and `/run/secrets/<name>` files.

mod destination;
mod env;
mod error;
mod hints;
pub(crate) mod keys;
mod looker;
mod resolve;
mod value;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use destination::{DestinationKind, DuckdbConfig, PostgresConfig, SslMode};
pub use env::Environment;
pub use error::{ConfigError, Origin, UnknownName};
pub use hints::NestedHints;
pub use looker::{Credentials, LookerConfig, LookerCredentials, ResourceHints, WriteDisposition};

use keys::{join, path};
use resolve::{FileKind, Lookup, Resolver, read_toml};
use value::Raw;

/// Default `pipeline_name`.
pub const DEFAULT_PIPELINE_NAME: &str = "looker_data_pipeline";
/// Default `dataset_name`.
pub const DEFAULT_DATASET_NAME: &str = "looker_data_data";

/// Everything a run needs to know, resolved and checked.
///
/// `Debug` and `Display` never show a secret.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Name of the pipeline (`pipeline_name`, `PIPELINE_NAME`, `--pipeline-name`): names its
    /// working directory and the default DuckDB file. Default `looker_data_pipeline`.
    pub pipeline_name: String,
    /// Dataset (schema) the tables are loaded into (`dataset_name`, `DATASET_NAME`,
    /// `--dataset-name`). Default `looker_data_data`.
    pub dataset_name: String,
    /// Directory holding the working directories of pipelines (`pipelines_dir`,
    /// `PIPELINES_DIR`, `--pipelines-dir`; a leading `~/` is the home directory). Default
    /// `$DLT_DATA_DIR/pipelines` if `DLT_DATA_DIR` is set, else `pipelines` in the global
    /// directory (`~/.dlt/pipelines`).
    pub pipelines_dir: PathBuf,
    /// Where to load (`destination`, `DESTINATION`, dlt's `destination_type` /
    /// `DESTINATION_TYPE`, `--destination`). Default duckdb.
    pub destination: DestinationKind,
    /// Where warehouse loads stage their files (`staging`, `STAGING`, dlt's `staging_type`,
    /// `--staging`). Only `filesystem` is valid. Default none.
    pub staging: Option<DestinationKind>,
    /// The Looker source.
    pub looker: LookerConfig,
    /// Per-resource hints, by resource name; only resources with at least one hint appear.
    pub resources: BTreeMap<String, ResourceHints>,
    /// The DuckDB database; resolved whatever the destination (it has a default).
    pub duckdb: DuckdbConfig,
    /// The Postgres connection; resolved (and required) only when the destination is Postgres.
    pub postgres: Option<PostgresConfig>,
    /// Where each resolved setting came from, by canonical dotted key (e.g. `destination`,
    /// `sources.looker_data_source.client_id`). Never holds values.
    pub origins: BTreeMap<String, Origin>,
    /// The TOML files that were found and read, most important first.
    pub files: Vec<PathBuf>,
}

impl Settings {
    /// The pipeline's working directory: `<pipelines_dir>/<pipeline_name>`.
    pub fn working_dir(&self) -> PathBuf {
        self.pipelines_dir.join(&self.pipeline_name)
    }

    fn origin(&self, key: &str) -> String {
        self.origins
            .get(key)
            .map(|o| format!("  ({o})"))
            .unwrap_or_default()
    }
}

impl fmt::Display for Settings {
    /// A summary for `info`: one setting per line with where it came from. Secrets show as
    /// "set (hidden)" or "not set".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = |key: &str| self.origin(key);
        writeln!(f, "pipeline_name: {}{}", self.pipeline_name, o("pipeline_name"))?;
        writeln!(f, "dataset_name: {}{}", self.dataset_name, o("dataset_name"))?;
        writeln!(
            f,
            "pipelines_dir: {}{}",
            self.pipelines_dir.display(),
            o("pipelines_dir")
        )?;
        writeln!(f, "destination: {}{}", self.destination, o("destination"))?;
        match self.staging {
            Some(s) => writeln!(f, "staging: {s}{}", o("staging"))?,
            None => writeln!(f, "staging: none")?,
        }
        writeln!(
            f,
            "destination.duckdb.credentials: {}{}",
            self.duckdb.path.display(),
            o("destination.duckdb.credentials")
        )?;
        if let Some(pg) = &self.postgres {
            writeln!(f, "destination.postgres.credentials: {pg}")?;
        }
        let l = &self.looker;
        let s = keys::SOURCE_SECTION;
        let opt = |v: Option<String>| v.unwrap_or_else(|| "not set".to_owned());
        writeln!(
            f,
            "{s}.base_url: {}{}",
            opt(l.base_url.as_ref().map(|u| value::redact_url(u.as_str()))),
            o(&format!("{s}.base_url"))
        )?;
        writeln!(
            f,
            "{s}.client_id: {}{}",
            opt(l.client_id.clone()),
            o(&format!("{s}.client_id"))
        )?;
        for (key, secret) in [
            ("client_secret", &l.client_secret),
            ("access_token", &l.access_token),
        ] {
            writeln!(
                f,
                "{s}.{key}: {}{}",
                looker::secret_state(secret),
                o(&format!("{s}.{key}"))
            )?;
        }
        writeln!(
            f,
            "{s}.resources: {}{}",
            l.resources
                .as_ref()
                .map_or_else(|| "default".to_owned(), |r| r.join(", ")),
            o(&format!("{s}.resources"))
        )?;
        let knobs: [(&str, Option<String>); 6] = [
            ("page_size", l.page_size.map(|v| v.to_string())),
            ("max_attempts", l.max_attempts.map(|v| v.to_string())),
            ("request_timeout", l.request_timeout.map(|d| format!("{d:?}"))),
            ("max_retry_delay", l.max_retry_delay.map(|d| format!("{d:?}"))),
            ("concurrency", l.concurrency.map(|v| v.to_string())),
            ("open_maps_as_json", l.open_maps_as_json.map(|v| v.to_string())),
        ];
        for (key, v) in knobs {
            let v = v.unwrap_or_else(|| "default".to_owned());
            writeln!(f, "{s}.{key}: {v}{}", o(&format!("{s}.{key}")))?;
        }
        for (name, hints) in &self.resources {
            if let Some(wd) = hints.write_disposition {
                writeln!(
                    f,
                    "{s}.resources.{name}.write_disposition: {}",
                    looker::write_disposition_name(wd)
                )?;
            }
            if let Some(pk) = &hints.primary_key {
                writeln!(f, "{s}.resources.{name}.primary_key: {}", pk.join(", "))?;
            }
            if let Some(mk) = &hints.merge_key {
                writeln!(f, "{s}.resources.{name}.merge_key: {}", mk.join(", "))?;
            }
            if let Some(n) = hints.max_table_nesting {
                writeln!(f, "{s}.resources.{name}.max_table_nesting: {n}")?;
            }
            let columns = |columns: &[normalize::ColumnHint]| {
                columns
                    .iter()
                    .map(|c| {
                        let ty = c.data_type.map_or("", |t| t.as_str());
                        let null = match c.nullable {
                            Some(true) => " nullable",
                            Some(false) => " not null",
                            None => "",
                        };
                        format!("{}={ty}{null}", c.name)
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if !hints.columns.is_empty() {
                writeln!(f, "{s}.resources.{name}.columns: {}", columns(&hints.columns))?;
            }
            for (path, nested) in &hints.nested_hints {
                writeln!(
                    f,
                    "{s}.resources.{name}.nested_hints.{path}.columns: {}",
                    columns(&nested.columns)
                )?;
            }
        }
        Ok(())
    }
}

/// Values from command-line flags: they win over every other source. Unset fields leave the
/// setting to the environment and the files.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--destination`.
    pub destination: Option<DestinationKind>,
    /// `--staging`.
    pub staging: Option<DestinationKind>,
    /// `--pipeline-name`.
    pub pipeline_name: Option<String>,
    /// `--dataset-name`.
    pub dataset_name: Option<String>,
    /// `--pipelines-dir`.
    pub pipelines_dir: Option<PathBuf>,
    /// `--resources users,looks`.
    pub resources: Option<Vec<String>>,
    /// `--page-size`.
    pub page_size: Option<u32>,
    /// `--max-attempts`.
    pub max_attempts: Option<u32>,
    /// `--request-timeout` (seconds on the command line).
    pub request_timeout: Option<Duration>,
    /// `--max-retry-delay` (seconds on the command line).
    pub max_retry_delay: Option<Duration>,
    /// `--concurrency`.
    pub concurrency: Option<usize>,
}

/// Resolves the settings from the `.dlt` folder of `project_dir`, the global directory (if
/// any; `None` reads no global files), the environment `env` and the flags in `overrides`.
///
/// Reads only files and `env`: the process environment is not consulted, so tests can inject
/// everything. Fails on the first problem, naming the key to fix.
pub fn load(
    project_dir: &Path,
    global_dir: Option<&Path>,
    env: &Environment,
    overrides: &Overrides,
) -> Result<Settings, ConfigError> {
    let folder = env
        .lookup("DLT_CONFIG_FOLDER")?
        .filter(|f| !f.trim().is_empty())
        .unwrap_or(".dlt");
    let project_settings = project_dir.join(folder);
    let mut dirs = vec![project_settings.clone()];
    if let Some(global) = global_dir
        && !same_dir(global, &project_settings)
    {
        dirs.push(global.to_owned());
    }
    let mut files = Vec::new();
    for dir in &dirs {
        for (name, kind) in [
            ("secrets.toml", FileKind::Secrets),
            ("config.toml", FileKind::Config),
        ] {
            if let Some(file) = read_toml(&dir.join(name), kind)? {
                files.push(file);
            }
        }
    }
    let mut res = Resolver {
        env,
        files: &files,
        scope: None,
    };
    let mut origins = BTreeMap::new();

    let (pipeline_name, origin) = match &overrides.pipeline_name {
        Some(name) => {
            let origin = Origin::CommandLine {
                flag: "--pipeline-name",
            };
            (check_pipeline_name(&origin, Raw::Text(name))?, origin)
        }
        None => pipeline_setting(&res, &["pipeline_name"], None, check_pipeline_name)?
            .unwrap_or_else(|| (DEFAULT_PIPELINE_NAME.to_owned(), Origin::Default)),
    };
    origins.insert("pipeline_name".to_owned(), origin);
    res.scope = Some(pipeline_name.clone());

    res.check()?;

    let (dataset_name, origin) = match &overrides.dataset_name {
        Some(name) => {
            let origin = Origin::CommandLine {
                flag: "--dataset-name",
            };
            (
                value::to_string("dataset_name", &origin, Raw::Text(name), false)?,
                origin,
            )
        }
        None => pipeline_setting(&res, &["dataset_name"], Some(&pipeline_name), |o, r| {
            value::to_string("dataset_name", o, r, false)
        })?
        .unwrap_or_else(|| (DEFAULT_DATASET_NAME.to_owned(), Origin::Default)),
    };
    origins.insert("dataset_name".to_owned(), origin);

    let home = env.lookup("HOME")?.map(PathBuf::from);
    let (pipelines_dir, origin) = match &overrides.pipelines_dir {
        Some(dir) => (
            expand_home(dir, home.as_deref()),
            Origin::CommandLine {
                flag: "--pipelines-dir",
            },
        ),
        None => match pipeline_setting(&res, &["pipelines_dir"], Some(&pipeline_name), |o, r| {
            value::to_string("pipelines_dir", o, r, false)
        })? {
            Some((dir, origin)) => (expand_home(Path::new(&dir), home.as_deref()), origin),
            None => default_pipelines_dir(env, global_dir)?,
        },
    };
    origins.insert("pipelines_dir".to_owned(), origin);

    let (destination, origin) = match overrides.destination {
        Some(d) => (
            d,
            Origin::CommandLine {
                flag: "--destination",
            },
        ),
        None => pipeline_setting(
            &res,
            &["destination", "destination_type"],
            Some(&pipeline_name),
            |o, r| parse_destination("destination", o, r),
        )?
        .unwrap_or((DestinationKind::Duckdb, Origin::Default)),
    };
    origins.insert("destination".to_owned(), origin);

    let staging = match overrides.staging {
        Some(s) => Some((s, Origin::CommandLine { flag: "--staging" })),
        None => pipeline_setting(
            &res,
            &["staging", "staging_type"],
            Some(&pipeline_name),
            |o, r| parse_destination("staging", o, r),
        )?,
    };
    let staging = match staging {
        Some((DestinationKind::Filesystem, origin)) => {
            origins.insert("staging".to_owned(), origin);
            Some(DestinationKind::Filesystem)
        }
        Some((other, origin)) => {
            return Err(ConfigError::Invalid {
                key: "staging".to_owned(),
                origin,
                value: format!("{:?}", other.name()),
                expected: "filesystem (the only staging destination)".to_owned(),
            });
        }
        None => None,
    };

    let looker = looker::resolve_looker(&res, overrides, &mut origins)?;
    let resources = looker::resolve_hints(&res, &mut origins)?;
    let duckdb = destination::resolve_duckdb(
        &res,
        destination == DestinationKind::Duckdb,
        &pipeline_name,
        &pipelines_dir,
        &mut origins,
    )?;
    let postgres = if destination == DestinationKind::Postgres {
        Some(destination::resolve_postgres(&res, &mut origins)?)
    } else {
        None
    };

    Ok(Settings {
        pipeline_name,
        dataset_name,
        pipelines_dir,
        destination,
        staging,
        looker,
        resources,
        duckdb,
        postgres,
        origins,
        files: files.iter().map(|f| f.path.clone()).collect(),
    })
}

/// [`load`] with the real environment, the project directory `DLT_PROJECT_DIR` or the current
/// directory, and the global directory from [`default_global_dir`].
pub fn load_from_process(overrides: &Overrides) -> Result<Settings, ConfigError> {
    let env = Environment::from_process();
    let project_dir = match env.lookup("DLT_PROJECT_DIR")? {
        Some(dir) if !dir.trim().is_empty() => PathBuf::from(dir),
        _ => std::env::current_dir().map_err(|source| ConfigError::Io {
            path: PathBuf::from("."),
            source,
        })?,
    };
    let global_dir = default_global_dir(&env)?;
    load(&project_dir, global_dir.as_deref(), &env, overrides)
}

/// The global dlt directory: `DLT_GLOBAL_DIR` if set, else `~/.dlt`; `None` without a home
/// directory.
pub fn default_global_dir(env: &Environment) -> Result<Option<PathBuf>, ConfigError> {
    if let Some(dir) = env.lookup("DLT_GLOBAL_DIR")?
        && !dir.trim().is_empty()
    {
        return Ok(Some(PathBuf::from(dir)));
    }
    let home = match env.lookup("HOME")? {
        Some(home) if !home.is_empty() => Some(PathBuf::from(home)),
        _ => std::env::home_dir(),
    };
    Ok(home.map(|h| h.join(".dlt")))
}

/// Default pipelines directory and where it came from.
fn default_pipelines_dir(
    env: &Environment,
    global_dir: Option<&Path>,
) -> Result<(PathBuf, Origin), ConfigError> {
    if let Some(dir) = env.lookup("DLT_DATA_DIR")?
        && !dir.trim().is_empty()
    {
        return Ok((
            Path::new(dir).join("pipelines"),
            Origin::Environment {
                name: "DLT_DATA_DIR".to_owned(),
            },
        ));
    }
    let dir = match global_dir {
        Some(global) => global.join("pipelines"),
        // No home directory: dlt falls back to the temporary directory too.
        None => std::env::temp_dir().join("dlt").join("pipelines"),
    };
    Ok((dir, Origin::Default))
}

/// Looks a pipeline key up in `[pipelines.<name>]`, `[pipeline]`, `[pipelines]` and at the top
/// level, for each of its names. Tables are skipped (`[destination.<name>]` is a section).
fn pipeline_setting<T>(
    res: &Resolver<'_>,
    names: &[&str],
    pipeline_name: Option<&str>,
    convert: impl Fn(&Origin, Raw<'_>) -> Result<T, ConfigError>,
) -> Result<Option<(T, Origin)>, ConfigError> {
    let mut prefixes = Vec::with_capacity(4);
    if let Some(name) = pipeline_name {
        prefixes.push(path(&["pipelines", name]));
    }
    prefixes.extend([path(&["pipeline"]), path(&["pipelines"]), Vec::new()]);
    let candidates: Vec<Vec<String>> = prefixes
        .iter()
        .flat_map(|p| names.iter().map(move |n| join(p, &[n])))
        .collect();
    res.find(
        &candidates,
        Lookup {
            secret: false,
            scoped: false,
        },
        |_, raw, origin| {
            if raw.is_table() {
                return Ok(None);
            }
            convert(origin, raw).map(Some)
        },
    )
}

fn parse_destination(key: &str, origin: &Origin, raw: Raw<'_>) -> Result<DestinationKind, ConfigError> {
    let text = value::to_string(key, origin, raw, false)?;
    text.parse::<DestinationKind>()
        .map_err(|e| value::invalid(key, origin, raw, false, e.expected()))
}

/// A pipeline name is a directory name: non-empty, no path separators or control characters.
fn check_pipeline_name(origin: &Origin, raw: Raw<'_>) -> Result<String, ConfigError> {
    let name = value::to_string("pipeline_name", origin, raw, false)?;
    let ok = name != "." && name != ".." && !name.chars().any(|c| c == '/' || c == '\\' || c.is_control());
    if ok {
        Ok(name)
    } else {
        Err(value::invalid(
            "pipeline_name",
            origin,
            raw,
            false,
            "a name usable as a directory name (no `/`, `\\` or control characters)",
        ))
    }
}

/// Replaces a leading `~` with the home directory, when known.
fn expand_home(dir: &Path, home: Option<&Path>) -> PathBuf {
    match (dir.strip_prefix("~"), home) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => dir.to_owned(),
    }
}

/// Whether two paths name the same directory (so its files are not read twice).
fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
