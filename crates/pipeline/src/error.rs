//! Errors of a pipeline command, by what the user does next.

use crate::config::ConfigError;

/// Why a pipeline command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// Configuration is missing or wrong: fix the named key (exit code 2).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Extraction from Looker failed; nothing partial was kept.
    #[error("extract failed: {0}")]
    Extract(#[from] looker::ExtractError),
    /// Normalizing extracted data failed; the partial package was discarded.
    #[error("normalize failed: {0}")]
    Normalize(#[from] normalize::NormalizeError),
    /// The destination refused an operation outside a job (connect, schema update, commit).
    #[error("load failed: {0}")]
    Destination(#[source] destination::DestinationError),
    /// A job of a load package failed; the package stays pending for the next run.
    #[error("load of package {load_id} failed: {source}; the package is kept and the next run resumes it")]
    Load {
        /// The package.
        load_id: String,
        /// The destination's error.
        #[source]
        source: destination::DestinationError,
    },
    /// The pipeline's working directory could not be read or written.
    #[error(transparent)]
    Package(#[from] package::Error),
    /// The built-in mock Looker of `--demo` could not start.
    #[error("the built-in mock Looker (--demo) could not start: {0}")]
    Demo(#[source] std::io::Error),
    /// A worker task stopped without finishing its work.
    #[error("internal error: {0}")]
    Internal(String),
}

impl PipelineError {
    /// The process exit code for this error: 2 for bad usage or configuration, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            PipelineError::Config(_) => 2,
            PipelineError::Extract(e) if e.is_configuration() => 2,
            PipelineError::Destination(e) | PipelineError::Load { source: e, .. }
                if e.kind() == destination::ErrorKind::Configuration =>
            {
                2
            }
            _ => 1,
        }
    }
}
