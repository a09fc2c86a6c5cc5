//! The inspection commands: `info`, `trace`, `schema`, `query` and `drop`. They read what extract →
//! normalize → load left in the working directory (state, schema, packages, trace) and at the
//! destination, and `drop` undoes a resource's load (its tables, schema entries and state).
//!
//! Each command returns a value whose `Display` is the text the binary prints, so the binary stays a
//! thin parser of flags.

mod drop;
mod info;
mod query;
mod schema;
mod time;
mod trace;
mod yaml;

use std::path::PathBuf;

pub use drop::{DropPlan, DropReport, DroppedResource, plan_drop};
pub use info::{ExtractSummary, LastLoad, PackageSummary, PipelineInfo, ResourceInfo, SchemaSummary, info};
pub use query::{QueryOutput, query};
pub use schema::{SchemaFormat, schema};
pub use trace::{TraceView, trace};

use crate::PipelineError;

/// Why an inspection command failed, by what the user does next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InspectError {
    /// A resource name that is not in the catalogue (exit code 2).
    #[error(transparent)]
    UnknownResource(#[from] looker::UnknownResource),
    /// The command needs something an earlier run writes, and no run wrote it yet: run the pipeline.
    #[error("{what} of pipeline {pipeline} not found at {}: {hint}", path.display())]
    NothingYet {
        /// What is missing ("trace", "schema", "DuckDB database").
        what: &'static str,
        /// The pipeline's name.
        pipeline: String,
        /// Where it was looked for.
        path: PathBuf,
        /// What to do.
        hint: &'static str,
    },
    /// Pending extracts or load packages would bring dropped tables back: finish them first.
    #[error(
        "pipeline {pipeline} has {packages} pending load package(s) and {extracts} pending extract(s); \
         finish them with `looker-load load` (packages) or `looker-load normalize` then `load` (extracts), \
         then drop"
    )]
    PendingWork {
        /// The pipeline's name.
        pipeline: String,
        /// Pending load packages.
        packages: usize,
        /// Pending extracts.
        extracts: usize,
    },
    /// A file of the working directory is not what it should be (unparseable JSON).
    #[error("cannot read {}: {reason}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The destination refused the SQL of `looker-load query`: fix the statement.
    #[error("query failed: {0}")]
    Query(#[source] destination::DestinationError),
    /// The destination refused an operation of `drop` (connect, drop tables, record the schema).
    #[error("destination error: {0}")]
    Destination(#[source] destination::DestinationError),
    /// Settings, working directory or destination setup failed as in the other commands.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
}

impl InspectError {
    /// The process exit code: 2 for bad usage or configuration, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            InspectError::UnknownResource(_) => 2,
            InspectError::Query(e) | InspectError::Destination(e)
                if e.kind() == destination::ErrorKind::Configuration =>
            {
                2
            }
            InspectError::Pipeline(e) => e.exit_code(),
            _ => 1,
        }
    }
}

impl From<package::Error> for InspectError {
    fn from(e: package::Error) -> Self {
        InspectError::Pipeline(PipelineError::Package(e))
    }
}

/// Bytes for people: `812 B`, `168.9 kB`, `12.3 MB`.
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_well() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(168_897), "168.9 kB");
        assert_eq!(human_bytes(12_345_678), "12.3 MB");
        assert_eq!(human_bytes(u64::MAX), "18446744.1 TB");
    }

    #[test]
    fn exit_codes_follow_the_contract() {
        let unknown: InspectError = "userz".parse::<looker::Resource>().unwrap_err().into();
        assert_eq!(unknown.exit_code(), 2);
        assert!(
            unknown.to_string().contains("valid resources: users"),
            "{unknown}"
        );
        let pending = InspectError::PendingWork {
            pipeline: "p".into(),
            packages: 1,
            extracts: 0,
        };
        assert_eq!(pending.exit_code(), 1);
        let query = InspectError::Query(destination::DestinationError::terminal("duckdb", "no table"));
        assert_eq!(query.exit_code(), 1);
        assert!(query.to_string().starts_with("query failed: "), "{query}");
    }
}
