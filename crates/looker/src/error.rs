//! Errors of the extract stage, by what the caller does next.

use crate::resource::Resource;

/// Why an extraction failed. URLs in errors are the path and query only (never credentials);
/// no variant ever holds a client secret or a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// A setting is missing or wrong; fix it and rerun (the command-line tool exits with 2).
    #[error("invalid configuration `{key}`: {message}")]
    Configuration {
        /// The TOML key to fix, e.g. `sources.looker_data_source.base_url`.
        key: String,
        /// What is wrong.
        message: String,
    },

    /// The instance could not be reached at all (DNS, refused connection, TLS) before any answer.
    #[error("cannot reach Looker at {base_url}: {cause}; check sources.looker_data_source.base_url")]
    Unreachable {
        /// The instance URL (no credentials).
        base_url: String,
        /// The transport error.
        cause: String,
    },

    /// Looker refused the credentials: a rejected client_id/client_secret pair, or an expired or
    /// invalid access token. Fix the credentials and rerun.
    #[error("{message}")]
    Authentication {
        /// What was rejected and which settings to check.
        message: String,
    },

    /// Looker answered a status that retrying cannot fix (a 4xx other than 401/429).
    #[error("{method} {url} failed with HTTP {status}{}", fmt_message(message))]
    Status {
        /// The HTTP method.
        method: &'static str,
        /// Path and query of the request.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// Looker's `message`, or a description of a non-JSON body.
        message: Option<String>,
    },

    /// A retryable failure (429, 5xx, timeout, connection error) persisted through every attempt.
    #[error("{method} {url} failed after {attempts} attempts; last error: {last}")]
    RetriesExhausted {
        /// The HTTP method.
        method: &'static str,
        /// Path and query of the request.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last status or transport error.
        last: String,
    },

    /// A page could not be read as a JSON array of items.
    #[error("malformed page of `{resource}` at offset {offset} from {url}: {detail}")]
    Malformed {
        /// The resource being extracted.
        resource: Resource,
        /// The offset of the page (the item index of its first item).
        offset: u64,
        /// Path and query of the request.
        url: String,
        /// What is wrong with the body.
        detail: String,
    },

    /// A response other than a page (the login answer) was not what the API documents.
    #[error("unexpected answer to {method} {url}: {detail}")]
    UnexpectedResponse {
        /// The HTTP method.
        method: &'static str,
        /// Path and query of the request.
        url: String,
        /// What is wrong (never the body of a login answer).
        detail: String,
    },

    /// The server answered a later page with the same items as the previous one: it ignores
    /// `offset`, and paging would never end.
    #[error(
        "`{resource}`: the page at offset {offset} ({url}) repeats the previous page; \
         the server ignores `offset`, so paging cannot complete"
    )]
    RepeatedPage {
        /// The resource being extracted.
        resource: Resource,
        /// The offset of the repeated page.
        offset: u64,
        /// Path and query of the request.
        url: String,
    },

    /// A request failed in a way retrying cannot fix (e.g. a redirect loop).
    #[error("{method} {url} failed: {cause}")]
    Transport {
        /// The HTTP method.
        method: &'static str,
        /// Path and query of the request.
        url: String,
        /// The transport error.
        cause: String,
    },

    /// The extraction was cancelled (its runtime is shutting down).
    #[error("the extraction was cancelled")]
    Cancelled,

    /// The receiver of the pages was dropped before extraction finished.
    #[error("the page channel closed while extracting `{resource}`")]
    ChannelClosed {
        /// The resource whose page could not be delivered.
        resource: Resource,
    },
}

impl ExtractError {
    /// True when the error is the user's to fix in the configuration (bad setting, rejected
    /// credentials, unreachable base URL), as opposed to a failure of the run.
    pub fn is_configuration(&self) -> bool {
        matches!(
            self,
            ExtractError::Configuration { .. }
                | ExtractError::Authentication { .. }
                | ExtractError::Unreachable { .. }
        )
    }

    /// The HTTP status of a [`ExtractError::Status`] error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ExtractError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

fn fmt_message(message: &Option<String>) -> String {
    match message {
        Some(m) => format!(": {m}"),
        None => String::new(),
    }
}
