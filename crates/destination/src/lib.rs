//! Load, the last stage of extract → normalize → load: the contracts every destination implements and
//! the SQL they share.
//!
//! * [`Destination`] and [`LoadClient`]: the small required surface (connect; ensure the dataset, update
//!   the stored schema, load a job, complete the load) with optional powers defaulting to
//!   [`DestinationError::Unsupported`].
//! * [`Capabilities`]: what a destination can do, as data the loader plans from.
//! * [`DestinationError`]: errors by what the caller does next (retry, fail the job, fix a setting).
//! * [`SqlDialect`] and [`schema_update`]: SQL generated once (DDL evolution, dlt's tables, merge by
//!   delete-insert, replace from staging); each SQL destination overrides only what differs.
//! * [`dlt_tables`]: `_dlt_loads`, `_dlt_version` and `_dlt_pipeline_state` exactly as dlt defines them.
//! * `conformance` (feature `conformance`): the scenarios every destination's tests run.
//!
//! The traits are async (`async_trait`, `Send` futures, object safe for `Box<dyn LoadClient>`) so network
//! destinations use their async clients directly; embedded DuckDB runs its blocking calls on tokio's
//! blocking pool. This crate does no I/O and has no network dependencies; destination crates
//! (`destinations/*`) do.

pub mod bookkeeping;
pub mod capabilities;
pub mod chain;
pub mod client;
pub mod dialect;
pub mod dlt_tables;
pub mod error;
pub mod schema_update;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use capabilities::{Capabilities, CaseFolding, FileFormat, MergeStrategy, ReplaceStrategy};
pub use client::{
    Destination, JobReport, LoadClient, LoadJob, QueryResult, SchemaSlot, StoredSchema, StoredState,
    cell_text, parse_job_file_name,
};
pub use dialect::{AnsiDialect, SqlDialect, SqlError};
pub use error::{DestinationError, ErrorKind, Result};
pub use schema_update::{SchemaUpdate, SchemaUpdatePlan, StorageColumn, StorageTables, plan_schema_update};

impl DestinationError {
    /// A terminal error from SQL generation: the schema cannot be expressed at `destination`.
    pub fn from_sql(destination: impl Into<String>, error: SqlError) -> Self {
        DestinationError::terminal(destination, error.to_string()).with_source(error)
    }
}
