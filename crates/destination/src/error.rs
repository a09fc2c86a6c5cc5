//! Destination errors, named by what the caller does next. Each destination crate converts its driver's
//! errors into these once, in its own `error.rs`.

use std::error::Error as StdError;

/// A boxed underlying cause (a driver or I/O error).
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What went wrong at the destination, by what the caller does next.
///
/// Messages never contain secrets: destination crates build them from their own redacted settings.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DestinationError {
    /// Worth retrying as is: a dropped connection, a timeout, a lock or transaction conflict, a rate
    /// limit. The loader retries the job (bounded), then leaves the package pending.
    #[error("{destination}: {message}")]
    Transient {
        /// The destination's name (`duckdb`, `postgres`, ...).
        destination: String,
        /// What failed, naming the table, job or path involved.
        message: String,
        /// The driver error, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// Retrying the same input will fail again: bad data, a type the destination refuses, an identifier
    /// too long. The loader fails the job and keeps the package.
    #[error("{destination}: {message}")]
    Terminal {
        /// The destination's name.
        destination: String,
        /// What failed, naming the table, job or path involved.
        message: String,
        /// The driver error, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// A setting is missing or wrong (a path that cannot be opened, bad credentials). The command exits
    /// with status 2 and tells the user which key to set.
    #[error("{destination}: {message} (check `{key}`)")]
    Configuration {
        /// The destination's name.
        destination: String,
        /// The setting to fix, as its environment variable or TOML path
        /// (`DESTINATION__DUCKDB__CREDENTIALS`).
        key: String,
        /// What is wrong with it.
        message: String,
        /// The driver error, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// The destination does not offer this operation (an optional power such as `query` or staging).
    #[error("the {destination} destination does not support {operation}")]
    Unsupported {
        /// The operation, as the client method or feature name (`query`, `drop_tables`, `merge`).
        operation: &'static str,
        /// The destination's name.
        destination: String,
    },
}

/// The kind of a [`DestinationError`], for retry and exit-code decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Retry.
    Transient,
    /// Fail the job, keep the package.
    Terminal,
    /// Fix a setting (exit status 2).
    Configuration,
    /// The destination cannot do this.
    Unsupported,
}

impl DestinationError {
    /// A retryable error.
    pub fn transient(destination: impl Into<String>, message: impl Into<String>) -> Self {
        DestinationError::Transient {
            destination: destination.into(),
            message: message.into(),
            source: None,
        }
    }

    /// A non-retryable error.
    pub fn terminal(destination: impl Into<String>, message: impl Into<String>) -> Self {
        DestinationError::Terminal {
            destination: destination.into(),
            message: message.into(),
            source: None,
        }
    }

    /// A configuration error naming the setting to fix.
    pub fn configuration(
        destination: impl Into<String>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        DestinationError::Configuration {
            destination: destination.into(),
            key: key.into(),
            message: message.into(),
            source: None,
        }
    }

    /// The destination does not support `operation`.
    pub fn unsupported(destination: impl Into<String>, operation: &'static str) -> Self {
        DestinationError::Unsupported {
            operation,
            destination: destination.into(),
        }
    }

    /// Attaches the underlying cause (ignored for [`DestinationError::Unsupported`]).
    pub fn with_source(mut self, cause: impl Into<BoxError>) -> Self {
        match &mut self {
            DestinationError::Transient { source, .. }
            | DestinationError::Terminal { source, .. }
            | DestinationError::Configuration { source, .. } => *source = Some(cause.into()),
            DestinationError::Unsupported { .. } => {}
        }
        self
    }

    /// Prefixes the message with context (`load_job users.1a2b3c`), keeping kind and source.
    pub fn context(mut self, context: impl std::fmt::Display) -> Self {
        match &mut self {
            DestinationError::Transient { message, .. }
            | DestinationError::Terminal { message, .. }
            | DestinationError::Configuration { message, .. } => *message = format!("{context}: {message}"),
            DestinationError::Unsupported { .. } => {}
        }
        self
    }

    /// What the caller does next.
    pub fn kind(&self) -> ErrorKind {
        match self {
            DestinationError::Transient { .. } => ErrorKind::Transient,
            DestinationError::Terminal { .. } => ErrorKind::Terminal,
            DestinationError::Configuration { .. } => ErrorKind::Configuration,
            DestinationError::Unsupported { .. } => ErrorKind::Unsupported,
        }
    }

    /// Whether retrying the same call may succeed.
    pub fn is_transient(&self) -> bool {
        self.kind() == ErrorKind::Transient
    }

    /// The setting to fix, for configuration errors.
    pub fn config_key(&self) -> Option<&str> {
        match self {
            DestinationError::Configuration { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// The result type of destination operations.
pub type Result<T, E = DestinationError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_messages() {
        let e = DestinationError::configuration("duckdb", "DESTINATION__DUCKDB__CREDENTIALS", "no such dir");
        assert_eq!(e.kind(), ErrorKind::Configuration);
        assert_eq!(e.config_key(), Some("DESTINATION__DUCKDB__CREDENTIALS"));
        assert_eq!(
            e.to_string(),
            "duckdb: no such dir (check `DESTINATION__DUCKDB__CREDENTIALS`)"
        );

        let e = DestinationError::transient("duckdb", "conflict").context("load_job users.abc");
        assert!(e.is_transient());
        assert_eq!(e.to_string(), "duckdb: load_job users.abc: conflict");

        let e = DestinationError::unsupported("filesystem", "query");
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert_eq!(e.to_string(), "the filesystem destination does not support query");
    }

    #[test]
    fn source_is_kept() {
        let io = std::io::Error::other("disk full");
        let e = DestinationError::terminal("duckdb", "write failed").with_source(io);
        let source = StdError::source(&e).map(|s| s.to_string());
        assert_eq!(source.as_deref(), Some("disk full"));
    }
}
