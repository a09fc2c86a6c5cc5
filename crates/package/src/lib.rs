//! The on-disk load package and pipeline working directory of looker-load.
//!
//! In extract → normalize → load this crate sits between the last two (and after the first, when the
//! stages run as separate commands): normalize writes Parquet job files into a package, load reads them and
//! moves each job through its lifecycle. The layout is dlt's, so the two tools read each other's packages.
//!
//! ```text
//! <pipelines_dir>/<pipeline_name>/
//!   extract/new/<id>/<resource>/<seq>.json   being written by `extract`
//!   extract/extracted/<id>/...               complete; waiting for `normalize`
//!   load/new/<load_id>/                      being written by normalize
//!   load/normalized/<load_id>/               complete; waiting for load:
//!       schema.json  package_state.json  new_jobs/ started_jobs/ completed_jobs/ failed_jobs/
//!   load/loaded/<load_id>/                   archived after the destination committed
//!   state.json  schemas/<name>.schema.json  trace.json  .lock
//! ```
//!
//! Job files are `<table>.<file_id>.<retry_count>.<format>` ([`JobFileName`]); the job id is the file name
//! without the retry count. Load ids ([`LoadId`]) are unix seconds with a fraction, unique and increasing.
//!
//! # Crash safety
//!
//! Every state change is one atomic rename on one file system: a package or extract is either in `new/`
//! (incomplete, never used) or in its complete area with every file in it; a job file is in exactly one
//! job folder. Commit points (package and extract commits, [`NormalizedPackage::mark_loaded`], state and
//! schema writes) flush files and directories first ([`Durability`]).
//!
//! Leftovers of an interrupted run are never loaded. [`PipelineDir::abandoned`] reports them and
//! [`PipelineDir::recover`] (under the [`PipelineLock`]) removes them: packages and extracts still in
//! `new/` (their data comes again: from the extract that is still pending, or from Looker, because the
//! pipeline state is only advanced after a package is committed), extracts that were already normalized,
//! and temporary files. Pending packages and extracts are never removed.
//!
//! The load package normalized from an extract takes the extract's id, so an extract whose package exists
//! is known to be consumed and is never normalized twice.
//!
//! # The contract a loader must meet
//!
//! 1. Load only packages from [`PipelineDir::pending`], in that order (oldest load id first).
//! 2. Move a job to `started_jobs/` ([`NormalizedPackage::start_job`]) before sending it, and to
//!    `completed_jobs/` only after the destination has its rows. Transient failures go back to
//!    `new_jobs/` with the retry count bumped ([`NormalizedPackage::retry_job`]); terminal ones to
//!    `failed_jobs/` with the message ([`NormalizedPackage::fail_job`]).
//! 3. **Loading a job is idempotent.** After a crash, jobs found in `started_jobs/` may or may not have
//!    reached the destination, and job transitions are not flushed one by one, so after a power loss a
//!    completed job can reappear as started. Loading such a job again must leave its rows once: either the
//!    job's rows and its completion are one destination transaction, or the loader first deletes what an
//!    earlier attempt of the same job (same load id and job id, see [`Job::job_id`]) wrote. There is no
//!    `.pending_transitions/` folder as in dlt; idempotent jobs make it unnecessary.
//! 4. The `_dlt_loads` row is the commit point, written after every job completed. Only then call
//!    [`NormalizedPackage::mark_loaded`]. A crash between the two leaves the package pending: before
//!    loading a pending package, check `_dlt_loads` for its load id and, if the row is there, only mark
//!    it loaded.
//!
//! # Names
//!
//! Table, resource, schema and pipeline names become path components and are checked by
//! [`validate_name`]: no separators, no `.`, no control characters, at most 200 bytes. Names from the
//! normalizer always pass; anything else is refused before a file is touched.

mod error;
mod extract;
mod fsutil;
mod ids;
mod load_package;
mod pipeline_dir;
pub mod schema;
mod state;
mod trace;

pub use error::{Error, Result};
pub use extract::{EXTRACT_INFO_FILE, ExtractPage, ExtractedPackage, NewExtract};
pub use fsutil::Durability;
pub use ids::{JobFileName, LoadId, MAX_NAME_LEN, PARQUET, format_rfc3339, now_rfc3339, validate_name};
pub use load_package::{
    CommitInfo, EXCEPTION_SUFFIX, Job, JobMetrics, JobState, LoadedPackage, NewPackage, NormalizedPackage,
    PACKAGE_STATE_FILE, PACKAGE_STATE_FORMAT_VERSION, PackageState, SCHEMA_FILE,
};
pub use pipeline_dir::{
    EXTRACT, EXTRACTED, LOAD, LOADED, LOCK_FILE, NEW, NORMALIZED, PipelineDir, PipelineLock, Recovery,
    SCHEMA_SUFFIX, SCHEMAS_DIR, STATE_FILE, TRACE_FILE,
};
pub use state::{PIPELINE_STATE_ENGINE_VERSION, PipelineState};
pub use trace::{Step, TRACE_FORMAT_VERSION, Trace, TraceStep};
