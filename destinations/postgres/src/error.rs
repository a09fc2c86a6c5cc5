//! PostgreSQL errors converted once into [`DestinationError`], by what the loader does next, from the
//! server's SQLSTATE (or, without one, from how the connection failed).
//!
//! | SQLSTATE | kind |
//! |---|---|
//! | class 08 (connection exception), 40001 (serialization), 40P01 (deadlock), 57P01–57P03 (shutdown, cannot connect now), 53xxx (insufficient resources), 55P03 (lock not available), 58000/58030 (system, I/O) | transient |
//! | 28P01 (wrong password), 28000 (authorization) | configuration: password / username |
//! | 3D000 (database does not exist) | configuration: database |
//! | 42501 (permission denied) on `CREATE SCHEMA` | configuration: username |
//! | TLS: unreadable roots, refused server certificate | configuration: sslrootcert |
//! | TLS: server without TLS under `require`/`verify-*`, handshake failure, TLS-only role under `disable` | configuration: sslmode |
//! | everything else | terminal |
//!
//! A closed connection or an I/O error without SQLSTATE is transient: the client reconnects on its
//! next call. Messages come from the server's error fields, never from the settings, so they hold no
//! password.

use destination::DestinationError;

use crate::DESTINATION_NAME;
use crate::config::{
    DATABASE_KEY, HOST_KEY, PASSWORD_KEY, PostgresConfig, SSLMODE_KEY, SSLROOTCERT_KEY, SslMode, USERNAME_KEY,
};
use crate::tls::TlsFailure;

/// What an error means for the caller, before the message is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Retry (after reconnecting).
    Transient,
    /// Fail the job.
    Terminal,
    /// Fix the setting `key`.
    Configuration(&'static str),
}

/// The class of SQLSTATE `code`.
pub(crate) fn classify(code: &str) -> Class {
    match code {
        "28P01" => Class::Configuration(PASSWORD_KEY),
        "28000" => Class::Configuration(USERNAME_KEY),
        "3D000" => Class::Configuration(DATABASE_KEY),
        "40001" | "40P01" | "55P03" | "57P01" | "57P02" | "57P03" | "58000" | "58030" => Class::Transient,
        c if c.starts_with("08") || c.starts_with("53") => Class::Transient,
        _ => Class::Terminal,
    }
}

/// The server's message with its detail and hint, or the driver's text.
fn message(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => {
            let mut text = format!("{} (SQLSTATE {})", db.message(), db.code().code());
            if let Some(detail) = db.detail() {
                text.push_str(&format!("; {detail}"));
            }
            if let Some(hint) = db.hint() {
                text.push_str(&format!("; hint: {hint}"));
            }
            text
        }
        None => {
            let mut text = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                text.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            text
        }
    }
}

fn build(
    class: Class,
    text: String,
    error: impl std::error::Error + Send + Sync + 'static,
) -> DestinationError {
    match class {
        Class::Transient => DestinationError::transient(DESTINATION_NAME, text),
        Class::Terminal => DestinationError::terminal(DESTINATION_NAME, text),
        Class::Configuration(key) => DestinationError::configuration(DESTINATION_NAME, key, text),
    }
    .with_source(error)
}

/// A driver error during `operation` (`load_job users.1a2b`, `update_stored_schema`).
pub(crate) fn from_pg(error: tokio_postgres::Error, operation: &str) -> DestinationError {
    let class = match error.code() {
        Some(code) => classify(code.code()),
        // No SQLSTATE: the connection broke (closed, reset, timed out) or the protocol failed.
        None if error.is_closed() || io_cause(&error) => Class::Transient,
        None => Class::Terminal,
    };
    let text = format!("{operation}: {}", message(&error));
    build(class, text, error)
}

/// A `CREATE SCHEMA` that failed: permission denied names the user setting.
pub(crate) fn from_create_schema(
    error: tokio_postgres::Error,
    schema: &str,
    config: &PostgresConfig,
    operation: &str,
) -> DestinationError {
    if error.code().map(|c| c.code()) == Some("42501") {
        let text = format!(
            "{operation}: user {:?} may not create schema {schema:?} in database {:?}: {} (grant it CREATE \
             on the database, or create the schema for it)",
            config.username(),
            config.database(),
            message(&error)
        );
        return build(Class::Configuration(USERNAME_KEY), text, error);
    }
    from_pg(error, operation)
}

/// Why a connection could not be opened.
#[derive(Debug)]
pub(crate) enum ConnectError {
    /// The TLS settings could not be turned into a TLS client (unreadable `sslrootcert`, ...).
    Tls(TlsFailure),
    /// The driver failed: unreachable server, refused TLS or login, missing database.
    Driver(tokio_postgres::Error),
}

/// The TLS failure behind a driver error, if any.
fn tls_cause(error: &tokio_postgres::Error) -> Option<&TlsFailure> {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(tls) = cause.downcast_ref::<TlsFailure>() {
            return Some(tls);
        }
        source = cause.source();
    }
    None
}

fn tls_error(failure: &TlsFailure, config: &PostgresConfig) -> (Class, String) {
    let mode = config.tls().mode;
    let server = config.server();
    match failure {
        TlsFailure::RootCertificates(m) => (
            Class::Configuration(SSLROOTCERT_KEY),
            format!("sslmode={mode} needs trusted root certificates: {m}"),
        ),
        TlsFailure::Certificate(m) => (
            Class::Configuration(SSLROOTCERT_KEY),
            format!(
                "the certificate of the PostgreSQL server at {server} was refused under sslmode={mode} ({m});                  set sslrootcert to the CA that signed it, or check the host name"
            ),
        ),
        TlsFailure::Handshake(m) => (
            Class::Configuration(SSLMODE_KEY),
            format!("TLS with the PostgreSQL server at {server} failed under sslmode={mode}: {m}"),
        ),
    }
}

/// An error opening a connection: an unreachable server is a configuration error naming the host, a
/// TLS failure names `sslrootcert` or `sslmode`; server errors are classified as in [`from_pg`].
pub(crate) fn from_connect(error: ConnectError, config: &PostgresConfig) -> DestinationError {
    let error = match error {
        ConnectError::Tls(failure) => {
            let (class, text) = tls_error(&failure, config);
            return build(class, text, failure);
        }
        ConnectError::Driver(error) => error,
    };
    if let Some(failure) = tls_cause(&error) {
        let (class, text) = tls_error(failure, config);
        return build(class, text, error);
    }
    if error.code().is_none() && error.to_string().contains("does not support TLS") {
        // The server answered the TLS request with "no" while sslmode requires it.
        let text = format!(
            "the PostgreSQL server at {} does not accept TLS connections, but sslmode={} requires TLS \
             (turn ssl on at the server, or use sslmode=prefer)",
            config.server(),
            config.tls().mode
        );
        return build(Class::Configuration(SSLMODE_KEY), text, error);
    }
    if error.code().map(|c| c.code()) == Some("28000")
        && config.tls().mode == SslMode::Disable
        && error
            .as_db_error()
            .is_some_and(|db| db.message().contains("no encryption"))
    {
        let text = format!(
            "the PostgreSQL server at {} accepts user {:?} only over TLS: {} (use sslmode=require or \
             verify-full)",
            config.server(),
            config.username(),
            message(&error)
        );
        return build(Class::Configuration(SSLMODE_KEY), text, error);
    }
    let operation = format!("connect to {}", config.location());
    if error.code().is_none() && (io_cause(&error) || error.to_string().contains("timeout")) {
        let text = format!(
            "cannot reach the PostgreSQL server at {}: {}",
            config.server(),
            message(&error)
        );
        return build(Class::Configuration(HOST_KEY), text, error);
    }
    from_pg(error, &operation)
}

fn io_cause(error: &tokio_postgres::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if cause.is::<std::io::Error>() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// A failure that is not the driver's (a Parquet file that cannot be read, a value PostgreSQL cannot
/// hold): terminal.
pub(crate) fn terminal(operation: &str, message: impl std::fmt::Display) -> DestinationError {
    DestinationError::terminal(DESTINATION_NAME, format!("{operation}: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_by_next_step() {
        assert_eq!(classify("28P01"), Class::Configuration(PASSWORD_KEY));
        assert_eq!(classify("28000"), Class::Configuration(USERNAME_KEY));
        assert_eq!(classify("3D000"), Class::Configuration(DATABASE_KEY));
        for transient in [
            "08006", "08001", "40001", "40P01", "57P01", "57P03", "53300", "55P03",
        ] {
            assert_eq!(classify(transient), Class::Transient, "{transient}");
        }
        for terminal in ["22P02", "42P01", "42501", "23505", "XX000"] {
            assert_eq!(classify(terminal), Class::Terminal, "{terminal}");
        }
    }
}
