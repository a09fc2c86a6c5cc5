//! DuckDB errors converted once into [`DestinationError`], by what the loader does next. DuckDB reports
//! its error class as the message prefix (`IO Error:`, `Transaction Error:`, `Conversion Error:` ...).

use std::path::Path;

use destination::DestinationError;

use crate::DESTINATION_NAME;
use crate::config::CREDENTIALS_KEY;

/// The message of a DuckDB error (DuckDB's own text when it has one).
fn message(error: &duckdb::Error) -> String {
    match error {
        duckdb::Error::DuckDBFailure(_, Some(message)) => message.clone(),
        other => other.to_string(),
    }
}

/// A DuckDB error during `operation` (`load_job users.1a2b`, `update_stored_schema`).
pub(crate) fn from_duckdb(error: duckdb::Error, operation: &str) -> DestinationError {
    let text = message(&error);
    if out_of_memory(&text) {
        return DestinationError::terminal(
            DESTINATION_NAME,
            format!("{operation}: {text} (lower the DuckDB threads or raise its memory_limit)"),
        )
        .with_source(error);
    }
    let transient = text.starts_with("Transaction Error")
        || text.starts_with("TransactionContext Error")
        || text.starts_with("Interrupt Error")
        || text.contains("write-write conflict");
    let base = if transient {
        DestinationError::transient(DESTINATION_NAME, format!("{operation}: {text}"))
    } else {
        DestinationError::terminal(DESTINATION_NAME, format!("{operation}: {text}"))
    };
    base.with_source(error)
}

/// Whether DuckDB's message says its buffer pool could not grow within the memory limit: an `Out of
/// Memory Error` during a statement, or a commit that fails for the same reason (`TransactionContext
/// Error: Failed to commit: could not allocate block ...`, which retrying does not cure).
fn out_of_memory(text: &str) -> bool {
    text.starts_with("Out of Memory Error") || text.contains("could not allocate block")
}

/// An error opening the database file at `path`: a missing directory, a permission problem or a file
/// that is not a DuckDB database is a configuration error naming the path and the setting; a lock
/// held by another process is terminal (close the other process and rerun).
pub(crate) fn from_open(error: duckdb::Error, path: &Path) -> DestinationError {
    let text = message(&error);
    let shown = path.display();
    if text.contains("Could not set lock") || text.contains("Conflicting lock") {
        return DestinationError::terminal(
            DESTINATION_NAME,
            format!(
                "the database file {shown} is locked by another process; close it (a DuckDB shell, a \
                 notebook, another looker-load) and rerun. DuckDB said: {text}"
            ),
        )
        .with_source(error);
    }
    let reason = if text.contains("Permission denied") {
        "permission denied"
    } else if text.contains("No such file or directory") {
        "its directory does not exist"
    } else if text.contains("not a valid DuckDB database") || text.contains("Database file is corrupt") {
        "the file is not a DuckDB database"
    } else {
        "it cannot be opened"
    };
    DestinationError::configuration(
        DESTINATION_NAME,
        CREDENTIALS_KEY,
        format!("cannot open the DuckDB database file {shown}: {reason} ({text})"),
    )
    .with_source(error)
}

/// A blocking DuckDB task that could not finish (it panicked or the runtime shut down).
pub(crate) fn from_join(error: tokio::task::JoinError, operation: &str) -> DestinationError {
    DestinationError::terminal(
        DESTINATION_NAME,
        format!("{operation}: the DuckDB task did not finish: {error}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_memory_at_commit_is_terminal() {
        let commit = "TransactionContext Error: Failed to commit: could not allocate block of size 256.0 KiB \
                      (121.9 MiB/122.0 MiB used)";
        assert!(out_of_memory(commit));
        assert!(out_of_memory(
            "Out of Memory Error: could not allocate block of size 256.0 KiB"
        ));
        assert!(!out_of_memory(
            "TransactionContext Error: Catalog write-write conflict"
        ));
    }
}
