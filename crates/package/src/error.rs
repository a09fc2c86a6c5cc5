//! Errors of the package store, named by what the caller does next.

use std::io;
use std::path::PathBuf;

use crate::ids::LoadId;
use crate::load_package::JobState;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an operation on the pipeline working directory failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file system refused an operation (permissions, disk full, ...). Fix the environment and rerun:
    /// nothing was half-applied, because every state change is one atomic rename.
    #[error("could not {op} {}: {source}", path.display())]
    Io {
        /// What was being done, as a verb phrase ("read", "rename", "create directory").
        op: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A file exists but does not hold what it should (unparseable JSON, a job file with a malformed
    /// name). The package or file needs a person's attention; it is never loaded as if it were whole.
    #[error("{} is corrupt: {reason}", path.display())]
    Corrupt {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Something that should exist does not (a job file moved by someone else, a package id that is not
    /// pending).
    #[error("{what} not found at {}", path.display())]
    NotFound {
        /// What was looked for ("job file", "load package").
        what: &'static str,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The target of a move or create already exists; nothing was overwritten.
    #[error("{what} already exists at {}", path.display())]
    AlreadyExists {
        /// What was to be created ("job file", "load package").
        what: &'static str,
        /// Where.
        path: PathBuf,
    },
    /// A name that becomes part of a path (table, resource, schema or pipeline name, load id, job file
    /// name) is not acceptable. Nothing was written.
    #[error("invalid {kind} {name:?}: {reason}")]
    InvalidName {
        /// What the name names ("table name", "load id", ...).
        kind: &'static str,
        /// The name as given (may hold control characters; shown escaped).
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A job transition was asked of a job that is not in the state the transition starts from.
    #[error("job {job} is {actual}, but this transition starts from {expected}")]
    WrongJobState {
        /// The job file name.
        job: String,
        /// The state(s) the transition accepts.
        expected: &'static str,
        /// The state the job is in.
        actual: JobState,
    },
    /// The commit named rows for a job that is not in the package.
    #[error("load package {load_id} has no job file {job}")]
    UnknownJob {
        /// The package.
        load_id: LoadId,
        /// The job file name given.
        job: String,
    },
    /// `mark_loaded` was called while jobs are still waiting or running; the package stays pending.
    #[error("load package {load_id} still has {new} new and {started} started jobs")]
    Unfinished {
        /// The package.
        load_id: LoadId,
        /// Jobs in `new_jobs/`.
        new: usize,
        /// Jobs in `started_jobs/`.
        started: usize,
    },
    /// Another process holds the pipeline's lock: wait for it to finish.
    #[error("pipeline directory {} is in use by another process", path.display())]
    Locked {
        /// The pipeline directory.
        path: PathBuf,
    },
    /// An operation that needs the pipeline lock was given the lock of another pipeline directory.
    #[error("the lock given is not the lock of pipeline directory {}", path.display())]
    WrongLock {
        /// The pipeline directory the operation was for.
        path: PathBuf,
    },
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Corrupt {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl From<Error> for io::Error {
    /// Keeps the OS error kind of an I/O failure; names and other refusals become `InvalidInput`,
    /// everything else `Other`. The original error stays reachable as the source.
    fn from(e: Error) -> Self {
        let kind = match &e {
            Error::Io { source, .. } => source.kind(),
            Error::InvalidName { .. } => io::ErrorKind::InvalidInput,
            Error::NotFound { .. } => io::ErrorKind::NotFound,
            Error::AlreadyExists { .. } => io::ErrorKind::AlreadyExists,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, e)
    }
}
