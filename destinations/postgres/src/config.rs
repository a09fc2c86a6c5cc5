//! PostgreSQL settings, resolved from `[destination.postgres.credentials]` (or
//! `DESTINATION__POSTGRES__CREDENTIALS*`) by the pipeline's configuration and validated here once, before
//! any connection is made.
//!
//! Credentials come as dlt's fields (`database`, `username`, `password`, `host`, `port`,
//! `connect_timeout`) or as one connection string: a URL (`postgresql://user:pass@host:5432/db`) or a
//! libpq `key=value` list. `sslmode` (`disable`, `allow`, `prefer`, `require`, `verify-ca`,
//! `verify-full`; default `prefer`) and `sslrootcert` mean what they mean to libpq (see [`crate::tls`]).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use destination::DestinationError;
use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::config::Host;

use crate::DESTINATION_NAME;

/// The whole connection string, as users set it.
pub const CREDENTIALS_KEY: &str = "DESTINATION__POSTGRES__CREDENTIALS";
/// The database setting.
pub const DATABASE_KEY: &str = "DESTINATION__POSTGRES__CREDENTIALS__DATABASE";
/// The user setting.
pub const USERNAME_KEY: &str = "DESTINATION__POSTGRES__CREDENTIALS__USERNAME";
/// The password setting.
pub const PASSWORD_KEY: &str = "DESTINATION__POSTGRES__CREDENTIALS__PASSWORD";
/// The host setting.
pub const HOST_KEY: &str = "DESTINATION__POSTGRES__CREDENTIALS__HOST";
/// The port setting.
pub const PORT_KEY: &str = "DESTINATION__POSTGRES__CREDENTIALS__PORT";
/// The TLS mode setting.
pub const SSLMODE_KEY: &str = "DESTINATION__POSTGRES__CREDENTIALS__SSLMODE";
/// The trusted root certificates setting.
pub const SSLROOTCERT_KEY: &str = "DESTINATION__POSTGRES__CREDENTIALS__SSLROOTCERT";
/// The dataset setting.
pub const DATASET_KEY: &str = "DATASET_NAME";

/// dlt's default port.
pub const DEFAULT_PORT: u16 = 5432;
/// dlt's default connect timeout (15 s).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// dlt's credential fields of `[destination.postgres.credentials]`.
#[derive(Clone, Default)]
pub struct Credentials {
    /// The database to connect to.
    pub database: String,
    /// The user.
    pub username: String,
    /// The password, if the server asks for one.
    pub password: Option<SecretString>,
    /// Host name or IP address; a path starting with `/` is a Unix socket directory.
    pub host: String,
    /// The port (default 5432).
    pub port: Option<u16>,
    /// Seconds to wait for a connection (default 15).
    pub connect_timeout: Option<u64>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("database", &self.database)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("host", &self.host)
            .field("port", &self.port)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// libpq's `sslmode`: whether the connection is encrypted and what of the server is verified.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SslMode {
    /// Plain text only.
    Disable,
    /// libpq tries plain text first, then TLS; here it behaves as `prefer` (TLS when offered).
    Allow,
    /// TLS when the server offers it, plain text otherwise; the certificate is not verified. libpq's
    /// default.
    #[default]
    Prefer,
    /// TLS always; the certificate is not verified unless `sslrootcert` is given (then as `verify-ca`).
    Require,
    /// TLS always; the certificate must be signed by a trusted root.
    VerifyCa,
    /// TLS always; the certificate must be signed by a trusted root and name the host.
    VerifyFull,
}

impl SslMode {
    /// The name as libpq spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// The driver's mode: whether TLS is off, tried or required.
    fn driver_mode(self) -> tokio_postgres::config::SslMode {
        match self {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Allow | SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                tokio_postgres::config::SslMode::Require
            }
        }
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SslMode {
    type Err = DestinationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            SslMode::Disable,
            SslMode::Allow,
            SslMode::Prefer,
            SslMode::Require,
            SslMode::VerifyCa,
            SslMode::VerifyFull,
        ]
        .into_iter()
        .find(|m| m.as_str() == s.trim())
        .ok_or_else(|| {
            config_error(
                SSLMODE_KEY,
                format!(
                    "unknown sslmode {s:?}: expected disable, allow, prefer, require, verify-ca or verify-full"
                ),
            )
        })
    }
}

/// TLS settings of the connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// The mode.
    pub mode: SslMode,
    /// PEM file of trusted root certificates (`sslrootcert`); `system` or none: the system's store.
    pub root_cert: Option<PathBuf>,
}

/// Settings of the PostgreSQL destination. `Debug` and [`PostgresConfig::location`] never show the
/// password.
#[derive(Clone)]
pub struct PostgresConfig {
    pg: tokio_postgres::Config,
    tls: TlsSettings,
    /// The dataset: a schema in the database holding the tables and dlt's `_dlt_*` tables.
    pub dataset_name: String,
    /// The staging dataset (merge staging, load bookkeeping); `<dataset>_staging` as in dlt.
    pub staging_dataset_name: String,
}

impl fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("location", &self.location())
            .field("tls", &self.tls)
            .field("dataset_name", &self.dataset_name)
            .field("staging_dataset_name", &self.staging_dataset_name)
            .finish_non_exhaustive()
    }
}

fn config_error(key: &str, message: impl Into<String>) -> DestinationError {
    DestinationError::configuration(DESTINATION_NAME, key, message)
}

impl PostgresConfig {
    /// Settings from a connection string: `postgresql://user:password@host:port/database?sslmode=...`
    /// (also `postgres://`) or `host=... user=... dbname=...`. The port defaults to 5432 and the
    /// connect timeout to 15 s; `sslmode` and `sslrootcert` are read here (the driver knows neither
    /// `verify-*` nor root files).
    pub fn from_connection_string(
        connection_string: &str,
        dataset_name: impl Into<String>,
    ) -> Result<Self, DestinationError> {
        let (rest, tls) = split_tls_params(connection_string.trim())?;
        let pg = tokio_postgres::Config::from_str(&rest).map_err(|e| {
            config_error(
                CREDENTIALS_KEY,
                format!("not a PostgreSQL connection URL or key=value list: {e}"),
            )
        })?;
        Ok(PostgresConfig::with_defaults(pg, dataset_name.into()).with_tls(tls.mode, tls.root_cert))
    }

    /// Uses TLS `mode`, trusting the PEM certificates in `root_cert` (or the system's store).
    pub fn with_tls(mut self, mode: SslMode, root_cert: Option<PathBuf>) -> Self {
        self.pg.ssl_mode(mode.driver_mode());
        self.tls = TlsSettings { mode, root_cert };
        self
    }

    /// The TLS settings.
    pub fn tls(&self) -> &TlsSettings {
        &self.tls
    }

    /// Settings from dlt's credential fields.
    pub fn from_credentials(
        credentials: &Credentials,
        dataset_name: impl Into<String>,
    ) -> Result<Self, DestinationError> {
        let mut pg = tokio_postgres::Config::new();
        if credentials.host.is_empty() {
            return Err(config_error(HOST_KEY, "the host is empty"));
        }
        pg.host(&credentials.host)
            .port(credentials.port.unwrap_or(DEFAULT_PORT))
            .dbname(&credentials.database)
            .user(&credentials.username);
        if let Some(password) = &credentials.password {
            pg.password(password.expose_secret());
        }
        if let Some(seconds) = credentials.connect_timeout {
            pg.connect_timeout(Duration::from_secs(seconds));
        }
        Ok(PostgresConfig::with_defaults(pg, dataset_name.into()))
    }

    fn with_defaults(mut pg: tokio_postgres::Config, dataset_name: String) -> Self {
        if pg.get_ports().is_empty() {
            pg.port(DEFAULT_PORT);
        }
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        if pg.get_application_name().is_none() {
            pg.application_name("looker-load");
        }
        // Timestamps with time zone are read back in UTC whatever the server's zone; notices such as
        // "relation already exists, skipping" stay out of the log.
        pg.options("-c TimeZone=UTC -c client_min_messages=warning");
        let tls = TlsSettings::default();
        pg.ssl_mode(tls.mode.driver_mode());
        PostgresConfig {
            pg,
            tls,
            staging_dataset_name: format!("{dataset_name}_staging"),
            dataset_name,
        }
    }

    /// Uses `name` as the staging dataset.
    pub fn with_staging_dataset(mut self, name: impl Into<String>) -> Self {
        self.staging_dataset_name = name.into();
        self
    }

    /// Uses `dataset` (and `<dataset>_staging`) instead of the dataset given at construction.
    pub fn with_dataset(mut self, dataset: impl Into<String>) -> Self {
        self.dataset_name = dataset.into();
        self.staging_dataset_name = format!("{}_staging", self.dataset_name);
        self
    }

    /// The driver's connection settings.
    pub(crate) fn pg(&self) -> &tokio_postgres::Config {
        &self.pg
    }

    /// The database name (empty when the server's default, the user name, applies).
    pub fn database(&self) -> &str {
        self.pg.get_dbname().unwrap_or_default()
    }

    /// The user name.
    pub fn username(&self) -> &str {
        self.pg.get_user().unwrap_or_default()
    }

    /// `host:port` of the first host, for messages.
    pub fn server(&self) -> String {
        let host = match self.pg.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(Host::Unix(p)) => p.display().to_string(),
            None => "localhost".to_string(),
        };
        let port = self.pg.get_ports().first().copied().unwrap_or(DEFAULT_PORT);
        format!("{host}:{port}")
    }

    /// `postgres://user@host:port/database`, without the password.
    pub fn location(&self) -> String {
        format!(
            "{DESTINATION_NAME}://{}@{}/{}",
            self.username(),
            self.server(),
            self.database()
        )
    }

    /// Checks the settings without connecting.
    pub fn validate(&self) -> Result<(), DestinationError> {
        if self.pg.get_user().is_none_or(str::is_empty) {
            return Err(config_error(USERNAME_KEY, "the user name is empty"));
        }
        if let Some(path) = &self.tls.root_cert
            && path.as_os_str().is_empty()
        {
            return Err(config_error(SSLROOTCERT_KEY, "sslrootcert is empty"));
        }
        if self.pg.get_ports().contains(&0) {
            return Err(config_error(PORT_KEY, "port 0 is not a server port"));
        }
        for (what, name) in [
            ("dataset", &self.dataset_name),
            ("staging dataset", &self.staging_dataset_name),
        ] {
            if name.is_empty() || name.contains('\0') {
                return Err(config_error(
                    DATASET_KEY,
                    format!("the {what} name {name:?} is empty or contains NUL"),
                ));
            }
            if name.len() > crate::CAPABILITIES.max_identifier_length {
                return Err(config_error(
                    DATASET_KEY,
                    format!(
                        "the {what} name {name:?} is longer than PostgreSQL's {} bytes",
                        crate::CAPABILITIES.max_identifier_length
                    ),
                ));
            }
        }
        if self.dataset_name.to_lowercase() == self.staging_dataset_name.to_lowercase() {
            return Err(config_error(
                DATASET_KEY,
                "the dataset and the staging dataset must differ",
            ));
        }
        Ok(())
    }
}

/// Takes `sslmode` and `sslrootcert` out of a connection string (URL query or `key=value` list) and
/// returns the rest for the driver.
fn split_tls_params(s: &str) -> Result<(String, TlsSettings), DestinationError> {
    let mut tls = TlsSettings::default();
    let mut take = |key: &str, value: String| -> Result<bool, DestinationError> {
        match key {
            "sslmode" => tls.mode = value.parse()?,
            "sslrootcert" => tls.root_cert = Some(PathBuf::from(value)),
            _ => return Ok(false),
        }
        Ok(true)
    };
    if s.starts_with("postgres://") || s.starts_with("postgresql://") {
        let Some((base, query)) = s.split_once('?') else {
            return Ok((s.to_string(), tls));
        };
        let mut kept = Vec::new();
        for param in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = param.split_once('=').unwrap_or((param, ""));
            if !take(key, percent_decode(value))? {
                kept.push(param);
            }
        }
        let rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        return Ok((rest, tls));
    }
    let mut kept = Vec::new();
    for (key, value) in key_values(s)? {
        if !take(&key, value.clone())? {
            let escaped = value.replace('\\', "\\\\").replace('\'', "\\'");
            kept.push(format!("{key}='{escaped}'"));
        }
    }
    Ok((kept.join(" "), tls))
}

/// `%XX` escapes of a URL query value decoded (invalid escapes kept as they are).
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// libpq's `key = value` list: values optionally single-quoted, backslash escapes.
fn key_values(s: &str) -> Result<Vec<(String, String)>, DestinationError> {
    let bad = |why: &str| {
        config_error(
            CREDENTIALS_KEY,
            format!("not a key=value connection string: {why}"),
        )
    };
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(bad(&format!("{key:?} has no '='")));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    Some('\'') => break,
                    Some('\\') => value.extend(chars.next()),
                    Some(c) => value.push(c),
                    None => return Err(bad("unterminated quoted value")),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        out.push((key, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_settings_from_both_forms() {
        let c = PostgresConfig::from_connection_string(
            "postgresql://u:pw@h:5433/d?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca%20x.pem&application_name=a",
            "ds",
        );
        let c = c.ok();
        assert_eq!(
            c.as_ref().map(|c| c.tls().clone()),
            Some(TlsSettings {
                mode: SslMode::VerifyFull,
                root_cert: Some("/tmp/ca x.pem".into())
            })
        );
        assert_eq!(
            c.as_ref().map(|c| c.pg().get_ssl_mode()),
            Some(tokio_postgres::config::SslMode::Require)
        );
        assert_eq!(c.as_ref().and_then(|c| c.pg().get_application_name()), Some("a"));
        let kv = PostgresConfig::from_connection_string(
            "host=h user=u password='it\\'s q' sslmode = verify-ca sslrootcert='/a b/ca.pem' dbname=d",
            "ds",
        );
        let kv = kv.ok();
        assert_eq!(
            kv.as_ref().map(|c| c.tls().clone()),
            Some(TlsSettings {
                mode: SslMode::VerifyCa,
                root_cert: Some("/a b/ca.pem".into())
            })
        );
        assert_eq!(kv.as_ref().map(|c| c.database()), Some("d"));
        assert_eq!(
            kv.as_ref().map(|c| c.pg().get_password()),
            Some(Some(&b"it's q"[..]))
        );
        let default = PostgresConfig::from_connection_string("postgresql://u@h/d", "ds").ok();
        assert_eq!(default.map(|c| c.tls().mode), Some(SslMode::Prefer));
        let bad = PostgresConfig::from_connection_string("postgresql://u@h/d?sslmode=verify", "ds");
        assert!(bad.is_err_and(|e| e.config_key() == Some(SSLMODE_KEY)));
        let unterminated = PostgresConfig::from_connection_string("host='h user=u", "ds");
        assert!(unterminated.is_err_and(|e| e.config_key() == Some(CREDENTIALS_KEY)));
    }

    #[test]
    fn url_form() {
        let c = PostgresConfig::from_connection_string(
            "postgresql://loader:s3cret@db.example:6543/warehouse?sslmode=disable",
            "looker",
        )
        .ok();
        let c = c.as_ref();
        assert_eq!(
            c.map(|c| c.location()).as_deref(),
            Some("postgres://loader@db.example:6543/warehouse")
        );
        assert_eq!(c.map(|c| c.staging_dataset_name.as_str()), Some("looker_staging"));
        assert_eq!(c.map(|c| c.pg().get_password()), Some(Some(&b"s3cret"[..])));
        assert_eq!(
            c.map(|c| c.pg().get_connect_timeout().copied()),
            Some(Some(DEFAULT_CONNECT_TIMEOUT))
        );
        assert!(c.is_some_and(|c| c.validate().is_ok()));
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn key_value_form_and_default_port() {
        let c = PostgresConfig::from_connection_string("host=127.0.0.1 user=u dbname=d", "ds").ok();
        assert_eq!(
            c.map(|c| c.location()).as_deref(),
            Some("postgres://u@127.0.0.1:5432/d")
        );
    }

    #[test]
    fn fields_form_hides_the_password() {
        let creds = Credentials {
            database: "d".into(),
            username: "u".into(),
            password: Some(SecretString::from("hunter2")),
            host: "h".into(),
            port: None,
            connect_timeout: Some(3),
        };
        assert!(!format!("{creds:?}").contains("hunter2"));
        let c = PostgresConfig::from_credentials(&creds, "ds").ok();
        let c = c.as_ref();
        assert_eq!(c.map(|c| c.server()).as_deref(), Some("h:5432"));
        assert_eq!(
            c.map(|c| c.pg().get_connect_timeout().copied()),
            Some(Some(Duration::from_secs(3)))
        );
        assert!(!format!("{c:?}").contains("hunter2"));
        let empty = PostgresConfig::from_credentials(&Credentials::default(), "ds");
        assert!(empty.is_err_and(|e| e.config_key() == Some(HOST_KEY)));
    }

    #[test]
    fn validation_names_the_key() {
        let key = |s: &str, ds: &str| {
            PostgresConfig::from_connection_string(s, ds)
                .and_then(|c| c.validate())
                .err()
                .and_then(|e| e.config_key().map(String::from))
        };
        assert_eq!(key("postgresql://h/d", "ds").as_deref(), Some(USERNAME_KEY));
        assert_eq!(key("postgresql://u@h/d?sslmode=require", "ds"), None);
        assert_eq!(
            key("postgresql://u@h/d?sslmode=verify-full&sslrootcert=", "ds").as_deref(),
            Some(SSLROOTCERT_KEY)
        );
        assert_eq!(
            key("postgresql://u@h/d", &"x".repeat(64)).as_deref(),
            Some(DATASET_KEY)
        );
        assert_eq!(key("not a url at all=", "ds").as_deref(), Some(CREDENTIALS_KEY));
        assert_eq!(key("postgresql://u@h/d?sslmode=prefer", "ds"), None);
    }
}
