//! PostgreSQL settings, resolved from `[destination.postgres.credentials]` (or
//! `DESTINATION__POSTGRES__CREDENTIALS*`) by the pipeline's configuration and validated here once, before
//! any connection is made.
//!
//! Credentials come as dlt's fields (`database`, `username`, `password`, `host`, `port`,
//! `connect_timeout`) or as one connection string: a URL (`postgresql://user:pass@host:5432/db`) or a
//! libpq `key=value` list. `sslmode` may be `disable` or `prefer`; TLS is not built in, so `prefer`
//! connects without it and `require` is refused.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use destination::DestinationError;
use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::config::{Host, SslMode};

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

/// Settings of the PostgreSQL destination. `Debug` and [`PostgresConfig::location`] never show the
/// password.
#[derive(Clone)]
pub struct PostgresConfig {
    pg: tokio_postgres::Config,
    /// The dataset: a schema in the database holding the tables and dlt's `_dlt_*` tables.
    pub dataset_name: String,
    /// The staging dataset (merge staging, load bookkeeping); `<dataset>_staging` as in dlt.
    pub staging_dataset_name: String,
}

impl fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("location", &self.location())
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
    /// connect timeout to 15 s.
    pub fn from_connection_string(
        connection_string: &str,
        dataset_name: impl Into<String>,
    ) -> Result<Self, DestinationError> {
        let pg = tokio_postgres::Config::from_str(connection_string.trim()).map_err(|e| {
            config_error(
                CREDENTIALS_KEY,
                format!("not a PostgreSQL connection URL or key=value list: {e}"),
            )
        })?;
        Ok(PostgresConfig::with_defaults(pg, dataset_name.into()))
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
        // Timestamps with time zone are read back in UTC whatever the server's zone.
        pg.options("-c TimeZone=UTC");
        PostgresConfig {
            pg,
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
        if self.pg.get_ssl_mode() == SslMode::Require {
            return Err(config_error(
                CREDENTIALS_KEY,
                "sslmode=require is not supported: this build connects without TLS (use sslmode=disable \
                 or prefer)",
            ));
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            key("postgresql://u@h/d?sslmode=require", "ds").as_deref(),
            Some(CREDENTIALS_KEY)
        );
        assert_eq!(
            key("postgresql://u@h/d", &"x".repeat(64)).as_deref(),
            Some(DATASET_KEY)
        );
        assert_eq!(key("not a url at all=", "ds").as_deref(), Some(CREDENTIALS_KEY));
        assert_eq!(key("postgresql://u@h/d?sslmode=prefer", "ds"), None);
    }
}
