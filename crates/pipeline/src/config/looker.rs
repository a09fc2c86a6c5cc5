//! The Looker source settings (`[sources.looker_data_source]`) and per-resource hints.

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

pub use looker::Credentials;
pub use package::schema::WriteDisposition;

use super::error::{ConfigError, Origin, UnknownName};
use super::hints::{self, NestedHints};
use super::keys::{self, SOURCE_SECTION, env_name, source_sections};
use super::resolve::{Lookup, Resolver, check_resource_name, under};
use super::value::{self, Raw, invalid, redact_url};

/// Settings of the Looker source, from `[sources.looker_data_source]` (or dlt's other section
/// paths, see the module documentation) and `SOURCES__LOOKER_DATA_SOURCE__<KEY>`.
///
/// Every field is optional here: `--demo` fills the connection from the built-in mock, and the
/// extractor applies its defaults to unset tuning knobs. [`LookerConfig::require_credentials`]
/// returns the connection or an error naming the key to set.
///
/// `Debug` never shows `client_secret` or `access_token`.
#[derive(Debug, Clone, Default)]
pub struct LookerConfig {
    /// The instance URL, e.g. `https://acme.cloud.looker.com` (`base_url`). An `http(s)` URL of
    /// a host, with an optional port (the legacy API port 19999 works) and an optional API path,
    /// without user info, query or fragment.
    pub base_url: Option<Url>,
    /// API3 client id (`client_id`), from Looker's Admin → Users → API keys.
    pub client_id: Option<String>,
    /// API3 client secret (`client_secret`, secret: secrets.toml or the environment only).
    pub client_secret: Option<SecretString>,
    /// A pre-issued API access token (`access_token`, secret), used instead of logging in with
    /// `client_id`/`client_secret`. It cannot be renewed, so a run fails once it expires. When
    /// the key pair is also set, the key pair is used.
    pub access_token: Option<SecretString>,
    /// Resources to extract (`resources`), e.g. `["users", "looks"]`; the environment form is a
    /// Python/JSON list literal or a comma list. Unset: the default set.
    pub resources: Option<Vec<String>>,
    /// Items per page on paged endpoints (`page_size`, at least 1). Unset: the extractor's default.
    pub page_size: Option<u32>,
    /// Attempts per request, the first included (`max_attempts`, at least 1; dlt's
    /// `request_max_attempts`). Unset: 5.
    pub max_attempts: Option<u32>,
    /// Time limit for one request attempt (`request_timeout`, seconds, more than zero).
    /// Unset: 60 s.
    pub request_timeout: Option<Duration>,
    /// Longest wait between two attempts, also the cap on `Retry-After` (`max_retry_delay`,
    /// seconds). Unset: 300 s.
    pub max_retry_delay: Option<Duration>,
    /// Most requests in flight at once for the whole run (`concurrency`, at least 1).
    /// Unset: the extractor's default.
    pub concurrency: Option<usize>,
    /// Keep Looker's open-ended maps (`Query.filters`, `Query.filter_config`, `vis_config`, in
    /// queries, looks' queries and dashboard elements) whole as `json` columns instead of a column or
    /// table per key (`open_maps_as_json`). Unset: off, the tables dlt makes. Configured column
    /// hints win over it.
    pub open_maps_as_json: Option<bool>,
}

/// How to authenticate to Looker.
///
/// `Debug` never shows the secret or the token.
/// A complete, checked Looker connection.
#[derive(Debug, Clone)]
pub struct LookerCredentials {
    /// The instance URL.
    pub base_url: Url,
    /// How to authenticate.
    pub auth: Credentials,
}

fn looker_missing(key: &str, file: &'static str) -> ConfigError {
    ConfigError::Missing {
        key: key.to_owned(),
        section: SOURCE_SECTION.to_owned(),
        file,
        env: env_name(&["sources", keys::SOURCE_NAME, key]),
        alternative: None,
    }
}

impl LookerConfig {
    /// The connection, or [`ConfigError::Missing`] naming the first absent key (`base_url`,
    /// then `client_id`, then `client_secret`) with its TOML section and environment variable.
    /// With `access_token` set, `client_id` and `client_secret` are not needed.
    pub fn require_credentials(&self) -> Result<LookerCredentials, ConfigError> {
        let base_url = self
            .base_url
            .clone()
            .ok_or_else(|| looker_missing("base_url", "config.toml"))?;
        let auth = match (&self.client_id, &self.client_secret, &self.access_token) {
            (Some(client_id), Some(client_secret), _) => Credentials::ClientCredentials {
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
            },
            (None, _, Some(token)) | (Some(_), None, Some(token)) => Credentials::AccessToken(token.clone()),
            (None, _, None) => return Err(looker_missing("client_id", "secrets.toml")),
            (Some(_), None, None) => return Err(looker_missing("client_secret", "secrets.toml")),
        };
        Ok(LookerCredentials { base_url, auth })
    }
}

/// The dlt name of a write disposition.
pub(crate) fn write_disposition_name(wd: WriteDisposition) -> &'static str {
    match wd {
        WriteDisposition::Append => "append",
        WriteDisposition::Replace => "replace",
        WriteDisposition::Merge => "merge",
    }
}

/// Parses a write disposition as dlt spells it: `append`, `replace` or `merge`.
pub(crate) fn parse_write_disposition(text: &str) -> Result<WriteDisposition, UnknownName> {
    const NAMES: &[&str] = &["append", "replace", "merge"];
    match text.trim().to_ascii_lowercase().as_str() {
        "append" => Ok(WriteDisposition::Append),
        "replace" => Ok(WriteDisposition::Replace),
        "merge" => Ok(WriteDisposition::Merge),
        _ => Err(UnknownName::new("write disposition", text.trim(), NAMES)),
    }
}

/// Hints for one resource, from `[sources.looker_data_source.resources.<name>]` or
/// `SOURCES__LOOKER_DATA_SOURCE__RESOURCES__<NAME>__<HINT>`. They override the resource's
/// defaults in the catalogue. dlt's other hints (`table_name`, `schema_contract`, ...) are refused
/// rather than silently ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResourceHints {
    /// `write_disposition`: `append`, `replace` or `merge`.
    pub write_disposition: Option<WriteDisposition>,
    /// `primary_key`: a column name or a list of them (`"id"`, `["a", "b"]`, or in the
    /// environment `a,b` / `'["a","b"]'`); also the columns hinted `primary_key = true`.
    pub primary_key: Option<Vec<String>>,
    /// `merge_key`: like `primary_key`; merge deletes the destination rows whose merge key appears
    /// in the new data.
    pub merge_key: Option<Vec<String>>,
    /// `max_table_nesting`: child tables deeper than this stay whole as `json` columns (0: no child
    /// tables at all).
    pub max_table_nesting: Option<u32>,
    /// `columns`: column hints of the root table (dlt's `columns` argument), e.g.
    /// `query__filter_config = { data_type = "json" }` keeps that map whole as JSON.
    pub columns: Vec<normalize::ColumnHint>,
    /// `nested_hints`: hints of nested tables by their path under the root table
    /// (`dashboard_elements`, levels joined by `__`).
    pub nested_hints: BTreeMap<String, NestedHints>,
}

/// Candidate paths for a source key, most specific first.
fn source_candidates(tail: &[&str]) -> Vec<Vec<String>> {
    under(&source_sections(), tail)
}

fn source_key(key: &str) -> String {
    format!("{SOURCE_SECTION}.{key}")
}

const SCOPED: Lookup = Lookup {
    secret: false,
    scoped: true,
};
const SCOPED_SECRET: Lookup = Lookup {
    secret: true,
    scoped: true,
};

/// Finds a source key along dlt's section paths. A `resources` table holds per-resource
/// hints, not the selection, so it is skipped.
fn lookup_source<'a>(
    res: &Resolver<'a>,
    key: &str,
    lookup: Lookup,
) -> Result<Option<(Raw<'a>, Origin)>, ConfigError> {
    res.find(&source_candidates(&[key]), lookup, |_, raw, _| {
        Ok((!(key == "resources" && raw.is_table())).then_some(raw))
    })
}

/// One source setting: the flag if given (as text, checked by the same rules), otherwise the
/// first provider that has it. Records where it came from.
fn source_setting<T>(
    res: &Resolver<'_>,
    key: &'static str,
    lookup: Lookup,
    flag: Option<(String, &'static str)>,
    convert: impl Fn(&str, &Origin, Raw<'_>) -> Result<T, ConfigError>,
    origins: &mut BTreeMap<String, Origin>,
) -> Result<Option<T>, ConfigError> {
    let full = source_key(key);
    let (value, origin) = if let Some((text, flag)) = flag {
        let origin = Origin::CommandLine { flag };
        (convert(&full, &origin, Raw::Text(&text))?, origin)
    } else if let Some((raw, origin)) = lookup_source(res, key, lookup)? {
        (convert(&full, &origin, raw)?, origin)
    } else {
        return Ok(None);
    };
    origins.insert(full, origin);
    Ok(Some(value))
}

fn seconds_text(d: Duration) -> String {
    d.as_secs_f64().to_string()
}

/// Resolves the Looker source settings, with the flags in `overrides` on top.
pub(crate) fn resolve_looker(
    res: &Resolver<'_>,
    overrides: &super::Overrides,
    origins: &mut BTreeMap<String, Origin>,
) -> Result<LookerConfig, ConfigError> {
    let secret = |k: &str, o: &Origin, r: Raw<'_>| value::to_string(k, o, r, true).map(SecretString::from);
    Ok(LookerConfig {
        base_url: source_setting(res, "base_url", SCOPED, None, parse_base_url, origins)?,
        client_id: source_setting(
            res,
            "client_id",
            SCOPED,
            None,
            |k, o, r| value::to_string(k, o, r, false),
            origins,
        )?,
        client_secret: source_setting(res, "client_secret", SCOPED_SECRET, None, secret, origins)?,
        access_token: source_setting(res, "access_token", SCOPED_SECRET, None, secret, origins)?,
        resources: source_setting(
            res,
            "resources",
            SCOPED,
            overrides
                .resources
                .as_ref()
                .map(|list| (list.join(","), "--resources")),
            |k, o, r| {
                let list = value::to_list(k, o, r)?;
                check_resources(k, o, r, list)
            },
            origins,
        )?,
        page_size: source_setting(
            res,
            "page_size",
            SCOPED,
            overrides.page_size.map(|v| (v.to_string(), "--page-size")),
            |k, o, r| value::to_int::<u32>(k, o, r, 1),
            origins,
        )?,
        max_attempts: source_setting(
            res,
            "max_attempts",
            SCOPED,
            overrides.max_attempts.map(|v| (v.to_string(), "--max-attempts")),
            |k, o, r| value::to_int::<u32>(k, o, r, 1),
            origins,
        )?,
        request_timeout: source_setting(
            res,
            "request_timeout",
            SCOPED,
            overrides
                .request_timeout
                .map(|d| (seconds_text(d), "--request-timeout")),
            |k, o, r| value::to_seconds(k, o, r, false),
            origins,
        )?,
        max_retry_delay: source_setting(
            res,
            "max_retry_delay",
            SCOPED,
            overrides
                .max_retry_delay
                .map(|d| (seconds_text(d), "--max-retry-delay")),
            |k, o, r| value::to_seconds(k, o, r, true),
            origins,
        )?,
        concurrency: source_setting(
            res,
            "concurrency",
            SCOPED,
            overrides.concurrency.map(|v| (v.to_string(), "--concurrency")),
            |k, o, r| value::to_int::<usize>(k, o, r, 1),
            origins,
        )?,
        open_maps_as_json: source_setting(res, "open_maps_as_json", SCOPED, None, value::to_bool, origins)?,
    })
}

fn parse_base_url(key: &str, origin: &Origin, raw: Raw<'_>) -> Result<Url, ConfigError> {
    let text = value::to_string(key, origin, raw, false)?;
    let expected =
        |why: &str| format!("the URL of the Looker instance, like https://acme.cloud.looker.com ({why})");
    let url = Url::parse(&text).map_err(|e| invalid(key, origin, raw, false, expected(&e.to_string())))?;
    let why = if url.scheme() != "https" && url.scheme() != "http" {
        Some("it must start with https:// or http://")
    } else if url.host_str().is_none_or(str::is_empty) {
        Some("it has no host")
    } else if !url.username().is_empty() || url.password().is_some() {
        Some("it must not carry user info: put the API keys in client_id and client_secret")
    } else if url.query().is_some() || url.fragment().is_some() {
        Some("it must not have a query or fragment")
    } else {
        None
    };
    match why {
        Some(why) => Err(ConfigError::Invalid {
            key: key.to_owned(),
            origin: origin.clone(),
            value: format!("{:?}", redact_url(&text)),
            expected: expected(why),
        }),
        None => Ok(url),
    }
}

/// Checks resource names, drops duplicates (keeping the first), and refuses an empty list.
fn check_resources(
    key: &str,
    origin: &Origin,
    raw: Raw<'_>,
    list: Vec<String>,
) -> Result<Vec<String>, ConfigError> {
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for name in list {
        let name = name.trim().to_owned();
        check_resource_name(key, origin, &name)?;
        if !out.contains(&name) {
            out.push(name);
        }
    }
    if out.is_empty() {
        return Err(invalid(
            key,
            origin,
            raw,
            false,
            "at least one resource name (leave the key out to extract the default set)",
        ));
    }
    Ok(out)
}

/// Resolves per-resource hints for every resource that has any, in any provider.
pub(crate) fn resolve_hints(
    res: &Resolver<'_>,
    origins: &mut BTreeMap<String, Origin>,
) -> Result<BTreeMap<String, ResourceHints>, ConfigError> {
    let mut all = BTreeMap::new();
    for name in res.hinted_resources() {
        let base = format!("{SOURCE_SECTION}.resources.{name}");
        let mut hints = ResourceHints::default();
        let mut first_origin = None;

        let mut record = |key: String, origin: Origin| {
            first_origin.get_or_insert_with(|| origin.clone());
            origins.insert(key, origin);
        };
        if let Some((wd, key, origin)) = find_hint(res, &name, "write_disposition", |key, o, raw| {
            if raw.is_table() {
                return Ok(None);
            }
            let text = value::to_string(key, o, raw, false)?;
            parse_write_disposition(&text)
                .map(Some)
                .map_err(|e| invalid(key, o, raw, false, e.expected()))
        })? {
            hints.write_disposition = Some(wd);
            record(key, origin);
        }
        if let Some((pk, key, origin)) = find_hint(res, &name, "primary_key", key_list)? {
            hints.primary_key = Some(pk);
            record(key, origin);
        }
        if let Some((mk, key, origin)) = find_hint(res, &name, "merge_key", key_list)? {
            hints.merge_key = Some(mk);
            record(key, origin);
        }
        if let Some((n, key, origin)) = find_hint(res, &name, "max_table_nesting", |key, o, raw| {
            value::to_int::<u32>(key, o, raw, 0).map(Some)
        })? {
            hints.max_table_nesting = Some(n);
            record(key, origin);
        }
        if let Some((parsed, key, origin)) = find_hint(res, &name, "columns", |key, o, raw| {
            hints::parse_columns(key, o, raw).map(Some)
        })? {
            hints.columns = parsed.columns;
            for (list, extra) in [
                (&mut hints.primary_key, parsed.primary_key),
                (&mut hints.merge_key, parsed.merge_key),
            ] {
                if !extra.is_empty() {
                    let list = list.get_or_insert_with(Vec::new);
                    for name in extra {
                        if !list.contains(&name) {
                            list.push(name);
                        }
                    }
                }
            }
            record(key, origin);
        }
        if let Some((nested, key, origin)) = find_hint(res, &name, "nested_hints", |key, o, raw| {
            hints::parse_nested(key, o, raw).map(Some)
        })? {
            hints.nested_hints = nested;
            record(key, origin);
        }

        if let Some(origin) = first_origin {
            // Names under looker-load's own sections were checked already; this catches those
            // under the shared `[sources.resources]`.
            check_resource_name(&base, &origin, &name)?;
            all.insert(name, hints);
        }
    }
    Ok(all)
}

/// Finds one hint of resource `name` along dlt's section paths; `accept` gets the hint's full key.
/// Returns the value, the key and where it came from.
fn find_hint<'a, T>(
    res: &Resolver<'a>,
    name: &str,
    hint: &str,
    accept: impl Fn(&str, &Origin, Raw<'a>) -> Result<Option<T>, ConfigError>,
) -> Result<Option<(T, String, Origin)>, ConfigError> {
    let key = format!("{SOURCE_SECTION}.resources.{name}.{hint}");
    let found = res.find(
        &source_candidates(&["resources", name, hint]),
        SCOPED,
        |_, raw, o| accept(&key, o, raw),
    )?;
    Ok(found.map(|(value, origin)| (value, key, origin)))
}

/// A list of column names (`primary_key`, `merge_key`): one name or several, never none.
fn key_list(key: &str, origin: &Origin, raw: Raw<'_>) -> Result<Option<Vec<String>>, ConfigError> {
    if raw.is_table() {
        return Ok(None);
    }
    let list = value::to_list(key, origin, raw)?;
    if list.is_empty() {
        return Err(invalid(key, origin, raw, false, "at least one column name"));
    }
    Ok(Some(list))
}

/// Debug-safe view of a secret: whether it is set.
pub(crate) fn secret_state(secret: &Option<SecretString>) -> &'static str {
    match secret {
        Some(s) if !s.expose_secret().is_empty() => "set (hidden)",
        _ => "not set",
    }
}
