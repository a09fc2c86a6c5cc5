//! Destination settings: the closed set of destinations, and the typed configuration of DuckDB
//! and Postgres (the others get theirs when their crates land; their sections are listed in
//! DESIGN §2 and are left alone until then).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::error::{ConfigError, Origin, UnknownName};
use super::keys::{POSTGRES_URL_PARAMS, env_name, path, suggest};
use super::resolve::{Lookup, Resolver, under};
use super::value::{self, Raw, invalid, percent_decode, redact_url};

/// Where the data is loaded. A closed set: choosing the destination crate is one `match`.
///
/// Parsed from the `destination` setting with [`FromStr`] (case-insensitive; dlt's
/// `dlt.destinations.<name>` form is accepted too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DestinationKind {
    /// DuckDB, embedded; the default.
    Duckdb,
    /// PostgreSQL.
    Postgres,
    /// Google BigQuery.
    Bigquery,
    /// Snowflake.
    Snowflake,
    /// Amazon Redshift.
    Redshift,
    /// Databricks.
    Databricks,
    /// Files in a local directory or a bucket; also the staging area of the warehouses.
    Filesystem,
}

impl DestinationKind {
    /// Every destination, in documentation order.
    pub const ALL: [DestinationKind; 7] = [
        DestinationKind::Duckdb,
        DestinationKind::Postgres,
        DestinationKind::Bigquery,
        DestinationKind::Snowflake,
        DestinationKind::Redshift,
        DestinationKind::Databricks,
        DestinationKind::Filesystem,
    ];

    const NAMES: &'static [&'static str] = &[
        "duckdb",
        "postgres",
        "bigquery",
        "snowflake",
        "redshift",
        "databricks",
        "filesystem",
    ];

    /// The name used in configuration, logs and dlt: `duckdb`, `postgres`, ...
    pub const fn name(self) -> &'static str {
        match self {
            DestinationKind::Duckdb => "duckdb",
            DestinationKind::Postgres => "postgres",
            DestinationKind::Bigquery => "bigquery",
            DestinationKind::Snowflake => "snowflake",
            DestinationKind::Redshift => "redshift",
            DestinationKind::Databricks => "databricks",
            DestinationKind::Filesystem => "filesystem",
        }
    }
}

impl fmt::Display for DestinationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DestinationKind {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_ascii_lowercase();
        let name = name.strip_prefix("dlt.destinations.").unwrap_or(&name);
        DestinationKind::ALL
            .into_iter()
            .find(|d| d.name() == name)
            .ok_or_else(|| UnknownName::new("destination", s.trim(), Self::NAMES))
    }
}

/// The DuckDB database (`[destination.duckdb]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuckdbConfig {
    /// The database file. From `credentials` under `[destination.duckdb]`
    /// (`DESTINATION__DUCKDB__CREDENTIALS`), given as a path, as dlt's `duckdb:///relative.duckdb`
    /// or `duckdb:////absolute.duckdb`, or as `:pipeline:` for `<pipeline_name>.duckdb` inside
    /// the pipeline's working directory. A relative path is relative to the current directory.
    /// Default: `<pipeline_name>.duckdb` in the current directory.
    pub path: PathBuf,
    /// DuckDB settings from dlt's `global_config` (`[destination.duckdb.credentials.global_config]`,
    /// e.g. `memory_limit = "512MB"`, `threads = 2`), as text, applied when the database opens.
    pub global_config: Vec<(String, String)>,
}

/// How strictly the Postgres connection uses TLS: libpq's `sslmode`, as the Postgres destination
/// applies it.
pub use postgres_dest::SslMode;

/// libpq's `sslmode` names.
const SSLMODE_NAMES: &[&str] = &[
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

/// Parses an `sslmode` as libpq spells it (any case).
fn parse_sslmode(text: &str) -> Result<SslMode, UnknownName> {
    text.trim()
        .to_ascii_lowercase()
        .parse()
        .map_err(|_| UnknownName::new("sslmode", text.trim(), SSLMODE_NAMES))
}

/// The Postgres connection (`[destination.postgres.credentials]`).
///
/// Each field is looked up in `destination.postgres.credentials`, then dlt's fallbacks
/// `destination.credentials` and `credentials`. Instead of separate keys, the whole
/// `credentials` may be a connection string
/// `postgresql://user:password@host:port/database?sslmode=require&connect_timeout=10` (user and
/// password percent-encoded). Each field is taken from the most important provider that has it,
/// whether as a key or inside a connection string (the key wins when both sit at the same place).
///
/// `Debug` and `Display` never show the password.
#[derive(Debug, Clone)]
pub struct PostgresConfig {
    /// Server host name or IP address (`host`). Required.
    pub host: String,
    /// Server port (`port`). Default 5432.
    pub port: u16,
    /// Database to load into (`database`). Required.
    pub database: String,
    /// Login role (`username`). Required.
    pub username: String,
    /// Password (`password`, secret: secrets.toml or the environment only). Surrounding
    /// whitespace is removed, as dlt does. Absent for trust or peer authentication.
    pub password: Option<SecretString>,
    /// Time limit for establishing a connection (`connect_timeout`, seconds). Default 15 s.
    pub connect_timeout: Duration,
    /// TLS mode (`sslmode`: disable, allow, prefer, require, verify-ca, verify-full). Default prefer.
    pub sslmode: SslMode,
    /// File of trusted root certificates for `verify-ca`/`verify-full` (`sslrootcert`).
    pub sslrootcert: Option<PathBuf>,
    /// Client character set (`client_encoding`), if not the server default.
    pub client_encoding: Option<String>,
}

impl PostgresConfig {
    /// Default port.
    pub const DEFAULT_PORT: u16 = 5432;
    /// Default connect timeout (dlt's).
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

    /// The connection as a URL with the password shown as `***`, for logs and summaries.
    pub fn redacted_url(&self) -> String {
        let password = if self.password.is_some() { ":***" } else { "" };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!(
            "postgresql://{}{password}@{host}:{}/{}",
            self.username, self.port, self.database
        )
    }
}

impl fmt::Display for PostgresConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted_url())
    }
}

/// What a Postgres connection string holds.
#[derive(Debug, Default)]
struct PostgresUrl {
    host: Option<String>,
    port: Option<u16>,
    database: Option<String>,
    username: Option<String>,
    password: Option<SecretString>,
    sslmode: Option<SslMode>,
    sslrootcert: Option<PathBuf>,
    connect_timeout: Option<Duration>,
    client_encoding: Option<String>,
}

const POSTGRES_URL_EXAMPLE: &str = "a connection string like \
    postgresql://user:password@host:5432/database?sslmode=require";

/// Parses a connection string. The error text never contains the password.
fn parse_postgres_url(s: &str) -> Result<PostgresUrl, String> {
    let url = url::Url::parse(s.trim()).map_err(|e| format!("not a URL: {e}"))?;
    let scheme = url.scheme();
    let driver = scheme.split('+').next().unwrap_or(scheme);
    if driver != "postgresql" && driver != "postgres" {
        return Err(format!(
            "the scheme is `{scheme}`, not postgresql:// or postgres://"
        ));
    }
    let decode = |part: &str, what: &str| -> Result<Option<String>, String> {
        if part.is_empty() {
            return Ok(None);
        }
        percent_decode(part)
            .map(Some)
            .ok_or_else(|| format!("the {what} has a bad %-escape"))
    };
    let mut out = PostgresUrl {
        username: decode(url.username(), "user name")?,
        password: decode(url.password().unwrap_or(""), "password")?
            .map(|p| SecretString::from(p.trim().to_owned())),
        host: match url.host() {
            None => None,
            Some(url::Host::Domain(d)) => decode(d, "host")?,
            Some(url::Host::Ipv4(a)) => Some(a.to_string()),
            Some(url::Host::Ipv6(a)) => Some(a.to_string()),
        },
        port: url.port(),
        ..PostgresUrl::default()
    };
    let db_path = url.path().trim_start_matches('/');
    if db_path.contains('/') {
        return Err("the path must be just the database name".to_owned());
    }
    out.database = decode(db_path, "database name")?;
    for (param, val) in url.query_pairs() {
        let val = val.trim();
        match param.as_ref() {
            "sslmode" => out.sslmode = Some(parse_sslmode(val).map_err(|e| e.to_string())?),
            "sslrootcert" => out.sslrootcert = Some(PathBuf::from(val)),
            "client_encoding" => out.client_encoding = Some(val.to_owned()),
            "connect_timeout" => {
                let secs: f64 = val
                    .parse()
                    .map_err(|_| format!("connect_timeout `{val}` is not a number of seconds"))?;
                out.connect_timeout = Some(
                    Duration::try_from_secs_f64(secs)
                        .ok()
                        .filter(|d| !d.is_zero())
                        .ok_or_else(|| format!("connect_timeout `{val}` must be more than zero seconds"))?,
                );
            }
            other => {
                return Err(format!(
                    "unknown parameter `{other}`{}; accepted: {}",
                    suggest(other, POSTGRES_URL_PARAMS)
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default(),
                    POSTGRES_URL_PARAMS.join(", ")
                ));
            }
        }
    }
    Ok(out)
}

/// The three places dlt looks for credentials, most specific first.
fn credential_levels(kind: &str) -> [Vec<String>; 3] {
    [
        path(&["destination", kind, "credentials"]),
        path(&["destination", "credentials"]),
        path(&["credentials"]),
    ]
}

/// The canonical key of a Postgres credential field, for errors and origins.
fn pg_key(field: &str) -> String {
    format!("destination.postgres.credentials.{field}")
}

/// Looks a Postgres credential field up, as a key or inside a connection string.
fn pg_field<T>(
    res: &Resolver<'_>,
    field: &str,
    secret: bool,
    parse: impl Fn(&str, &Origin, Raw<'_>) -> Result<T, ConfigError>,
    from_url: impl Fn(PostgresUrl) -> Option<T>,
) -> Result<Option<(T, Origin)>, ConfigError> {
    let mut candidates = Vec::new();
    for level in credential_levels("postgres") {
        let mut with_field = level.clone();
        with_field.push(field.to_owned());
        candidates.push(with_field);
        candidates.push(level);
    }
    let key = pg_key(field);
    res.find(
        &candidates,
        Lookup { secret, scoped: true },
        |candidate, raw, origin| {
            if candidate.last().map(String::as_str) == Some(field) {
                return parse(&key, origin, raw).map(Some);
            }
            // The `credentials` level itself: a connection string, or a table (skip it; its
            // keys are separate candidates).
            let Some(text) = raw.text() else {
                return if raw.is_table() {
                    Ok(None)
                } else {
                    Err(invalid(
                        "destination.postgres.credentials",
                        origin,
                        raw,
                        false,
                        POSTGRES_URL_EXAMPLE,
                    ))
                };
            };
            let parsed = parse_postgres_url(text).map_err(|why| ConfigError::Invalid {
                key: "destination.postgres.credentials".to_owned(),
                origin: origin.clone(),
                value: format!("{:?}", redact_url(text)),
                expected: format!("{POSTGRES_URL_EXAMPLE} ({why})"),
            })?;
            Ok(from_url(parsed))
        },
    )
}

fn pg_missing(field: &str) -> ConfigError {
    ConfigError::Missing {
        key: field.to_owned(),
        section: "destination.postgres.credentials".to_owned(),
        file: "secrets.toml",
        env: env_name(&["destination", "postgres", "credentials", field]),
        alternative: Some(
            "or a whole connection string postgresql://user:password@host:port/database in \
             DESTINATION__POSTGRES__CREDENTIALS"
                .to_owned(),
        ),
    }
}

/// Resolves `[destination.postgres.credentials]`.
pub(crate) fn resolve_postgres(
    res: &Resolver<'_>,
    origins: &mut BTreeMap<String, Origin>,
) -> Result<PostgresConfig, ConfigError> {
    let string = |key: &str, origin: &Origin, raw: Raw<'_>| value::to_string(key, origin, raw, false);
    let mut record = |field: &str, origin: Origin| {
        origins.insert(pg_key(field), origin);
    };

    let required = |found: Option<(String, Origin)>, field: &str| found.ok_or_else(|| pg_missing(field));
    let (host, o) = required(pg_field(res, "host", false, string, |u| u.host)?, "host")?;
    record("host", o);
    let (database, o) = required(
        pg_field(res, "database", false, string, |u| u.database)?,
        "database",
    )?;
    record("database", o);
    let (username, o) = required(
        pg_field(res, "username", false, string, |u| u.username)?,
        "username",
    )?;
    record("username", o);

    let password = pg_field(
        res,
        "password",
        true,
        |key, origin, raw| {
            let text = raw
                .text()
                .ok_or_else(|| invalid(key, origin, raw, true, "a string"))?;
            Ok(SecretString::from(text.trim().to_owned()))
        },
        |u| u.password,
    )?
    .map(|(p, o)| {
        record("password", o);
        p
    })
    .filter(|p| !p.expose_secret().is_empty());

    let port = match pg_field(
        res,
        "port",
        false,
        |k, o, r| value::to_int::<u16>(k, o, r, 1),
        |u| u.port,
    )? {
        Some((port, o)) => {
            record("port", o);
            port
        }
        None => {
            record("port", Origin::Default);
            PostgresConfig::DEFAULT_PORT
        }
    };
    let connect_timeout = match pg_field(
        res,
        "connect_timeout",
        false,
        |k, o, r| value::to_seconds(k, o, r, false),
        |u| u.connect_timeout,
    )? {
        Some((t, o)) => {
            record("connect_timeout", o);
            t
        }
        None => PostgresConfig::DEFAULT_CONNECT_TIMEOUT,
    };
    let sslmode = match pg_field(
        res,
        "sslmode",
        false,
        |k, o, r| {
            let text = value::to_string(k, o, r, false)?;
            parse_sslmode(&text).map_err(|e| invalid(k, o, r, false, e.expected()))
        },
        |u| u.sslmode,
    )? {
        Some((m, o)) => {
            record("sslmode", o);
            m
        }
        None => SslMode::default(),
    };
    let sslrootcert = pg_field(
        res,
        "sslrootcert",
        false,
        |k, o, r| value::to_string(k, o, r, false).map(PathBuf::from),
        |u| u.sslrootcert,
    )?
    .map(|(p, o)| {
        record("sslrootcert", o);
        p
    });
    let client_encoding =
        pg_field(res, "client_encoding", false, string, |u| u.client_encoding)?.map(|(e, o)| {
            record("client_encoding", o);
            e
        });
    // dlt's `drivername` may sit in the credentials table; only Postgres drivers make sense.
    pg_field(
        res,
        "drivername",
        false,
        |k, o, r| {
            let text = value::to_string(k, o, r, false)?;
            let driver = text.split('+').next().unwrap_or("");
            if driver == "postgresql" || driver == "postgres" {
                Ok(())
            } else {
                Err(invalid(k, o, r, false, "postgresql"))
            }
        },
        |_| None,
    )?;

    Ok(PostgresConfig {
        host,
        port,
        database,
        username,
        password,
        connect_timeout,
        sslmode,
        sslrootcert,
        client_encoding,
    })
}

/// Resolves `[destination.duckdb]`. dlt's shared fallbacks (`destination.credentials`,
/// `credentials`) are read only when DuckDB is the chosen destination, so a Postgres connection
/// string there is never taken for a DuckDB path.
pub(crate) fn resolve_duckdb(
    res: &Resolver<'_>,
    selected: bool,
    pipeline_name: &str,
    pipelines_dir: &Path,
    origins: &mut BTreeMap<String, Origin>,
) -> Result<DuckdbConfig, ConfigError> {
    let levels = credential_levels("duckdb");
    let levels = if selected { &levels[..] } else { &levels[..1] };
    let mut candidates = Vec::new();
    for level in levels {
        candidates.extend(under(std::slice::from_ref(level), &["database"]));
        candidates.push(level.clone());
    }
    let key = "destination.duckdb.credentials";
    let found = res.find(
        &candidates,
        Lookup {
            secret: false,
            scoped: true,
        },
        |_, raw, origin| {
            if raw.is_table() {
                return Ok(None);
            }
            let text = value::to_string(key, origin, raw, false)?;
            duckdb_path(&text, pipeline_name, pipelines_dir)
                .map(Some)
                .map_err(|why| invalid(key, origin, raw, false, why))
        },
    )?;
    let (path, origin) =
        found.unwrap_or_else(|| (PathBuf::from(format!("{pipeline_name}.duckdb")), Origin::Default));
    origins.insert(key.to_owned(), origin);
    let key = "destination.duckdb.credentials.global_config";
    let found = res.find(
        &under(&levels[..1], &["global_config"]),
        Lookup {
            secret: false,
            scoped: true,
        },
        |_, raw, origin| global_config(key, origin, raw).map(Some),
    )?;
    let global_config = match found {
        Some((settings, origin)) => {
            origins.insert(key.to_owned(), origin);
            settings
        }
        None => Vec::new(),
    };
    Ok(DuckdbConfig { path, global_config })
}

/// dlt's `global_config`: a TOML table of DuckDB settings, or JSON text in the environment
/// (`DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG='{"memory_limit": "512MB"}'`). Values are text,
/// numbers or booleans.
fn global_config(key: &str, origin: &Origin, raw: Raw<'_>) -> Result<Vec<(String, String)>, ConfigError> {
    let expected = "a table of DuckDB settings, e.g. { memory_limit = \"512MB\", threads = 2 }";
    let entries: Vec<(String, serde_json::Value)> = match raw {
        Raw::Toml(toml::Value::Table(table)) => table
            .iter()
            .map(|(k, v)| {
                Ok((
                    k.clone(),
                    serde_json::to_value(v).map_err(|_| invalid(key, origin, raw, false, expected))?,
                ))
            })
            .collect::<Result<_, ConfigError>>()?,
        Raw::Toml(_) => return Err(invalid(key, origin, raw, false, expected)),
        Raw::Text(text) => match serde_json::from_str::<serde_json::Value>(text.trim()) {
            Ok(serde_json::Value::Object(map)) => map.into_iter().collect(),
            _ => {
                return Err(invalid(
                    key,
                    origin,
                    raw,
                    false,
                    format!("{expected}, as JSON text"),
                ));
            }
        },
    };
    entries
        .into_iter()
        .map(|(name, value)| {
            let text = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => {
                    return Err(invalid(
                        &format!("{key}.{name}"),
                        origin,
                        raw,
                        false,
                        "a text, number or boolean value",
                    ));
                }
            };
            Ok((name, text))
        })
        .collect()
}

/// Interprets a DuckDB `credentials` value as a file path.
fn duckdb_path(text: &str, pipeline_name: &str, pipelines_dir: &Path) -> Result<PathBuf, String> {
    let expected = "a database file path, duckdb:///relative/path.duckdb, \
                    duckdb:////absolute/path.duckdb or :pipeline:";
    let path = match text.strip_prefix("duckdb:///") {
        Some(rest) => rest,
        None if text.starts_with("duckdb:") => return Err(expected.to_owned()),
        None => text,
    };
    match path {
        "" => Err(expected.to_owned()),
        ":memory:" => Err(format!(
            "{expected} (an in-memory database would lose the data when the load ends)"
        )),
        ":pipeline:" => Ok(pipelines_dir
            .join(pipeline_name)
            .join(format!("{pipeline_name}.duckdb"))),
        p if p.starts_with("md:") || p.starts_with("motherduck:") => {
            Err(format!("{expected} (MotherDuck is not supported)"))
        }
        p => Ok(PathBuf::from(p)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destination_names() {
        assert_eq!("Postgres".parse(), Ok(DestinationKind::Postgres));
        assert_eq!(" dlt.destinations.duckdb ".parse(), Ok(DestinationKind::Duckdb));
        for d in DestinationKind::ALL {
            assert_eq!(d.name().parse(), Ok(d));
        }
        let err = "postgresql".parse::<DestinationKind>().unwrap_err();
        assert_eq!(err.suggestion, Some("postgres"));
        assert!(err.to_string().contains("duckdb, postgres, bigquery"));
    }

    #[test]
    fn duckdb_paths() {
        let dir = Path::new("/p");
        assert_eq!(duckdb_path("a.duckdb", "x", dir).unwrap(), Path::new("a.duckdb"));
        assert_eq!(
            duckdb_path("duckdb:///a/b.duckdb", "x", dir).unwrap(),
            Path::new("a/b.duckdb")
        );
        assert_eq!(
            duckdb_path("duckdb:////abs.duckdb", "x", dir).unwrap(),
            Path::new("/abs.duckdb")
        );
        assert_eq!(
            duckdb_path(":pipeline:", "x", dir).unwrap(),
            Path::new("/p/x/x.duckdb")
        );
        assert!(duckdb_path(":memory:", "x", dir).is_err());
        assert!(duckdb_path("duckdb:memory", "x", dir).is_err());
        assert!(duckdb_path("md:my_db", "x", dir).is_err());
    }

    #[test]
    fn postgres_url_ipv6_and_errors() {
        let u = parse_postgres_url("postgres://u@[::1]:6000/db").unwrap();
        assert_eq!(u.host.as_deref(), Some("::1"));
        assert_eq!(u.port, Some(6000));
        assert!(u.password.is_none());
        let err = parse_postgres_url("postgresql://u:hunter2@h/db?sslmod=require").unwrap_err();
        assert!(err.contains("did you mean `sslmode`"), "{err}");
        assert!(!err.contains("hunter2"));
        assert!(parse_postgres_url("mysql://u:p@h/db").is_err());
        assert!(parse_postgres_url("postgresql://u:p@h/db/x").is_err());
        assert!(parse_postgres_url("postgresql://u:p@h:99999/db").is_err());
    }
}
