//! The DuckDB destination, the default of looker-load: the last step of extract → normalize → load,
//! copying the Parquet jobs of a load package into an embedded DuckDB file.
//!
//! * The dataset is a schema in the database file (`CREATE SCHEMA IF NOT EXISTS`), merge staging and
//!   load bookkeeping live in `<dataset>_staging`.
//! * Tables are created and evolved from the dlt schema (one `ALTER TABLE ... ADD COLUMN` per column, as
//!   dlt does for DuckDB); `_dlt_loads`, `_dlt_version` and `_dlt_pipeline_state` are dlt's.
//! * A job is one transaction: `INSERT INTO <table> BY NAME SELECT * FROM read_parquet(<file>,
//!   union_by_name=true)` plus its bookkeeping row, so loading a job twice loads it once
//!   ([`destination::bookkeeping`]).
//! * `append` inserts; `replace` empties the table chain once per load, then inserts; `merge` stages the
//!   chain and `complete_load` runs dlt's delete-insert on the primary key (nested tables through
//!   `_dlt_root_id`) in the transaction that writes `_dlt_loads`.
//! * `complete_load` ends with a `CHECKPOINT`: the WAL is written into the database file inside the
//!   load step, so closing the database at exit has nothing left to do.
//!
//! DuckDB settings, measured on the 100,000-user mock package (63 tables, 1.04 M rows) on 2 cores:
//! one worker thread ([`config::DEFAULT_THREADS`]; more threads cost CPU in lock contention without
//! shortening a load made of small per-job transactions); DuckDB's own memory limit unless one is set
//! (a bounded buffer pool, 128 MB, cut peak RSS from about 270 to 210 MiB, but a job wider than it
//! runs out of memory, and Looker's open-ended maps make tables of thousands of columns);
//! `preserve_insertion_order = false` (row order within a table is not part of dlt's contract); no
//! external file cache (each job file is read once). String compression (FSST, dictionary) is left
//! on: it is most of the load's CPU time, but without it the database file grows from 68 MiB to
//! 124–170 MiB.
//!
//! DuckDB is embedded and synchronous: every call runs on tokio's blocking pool, one connection per
//! client. Dev builds link DuckDB's prebuilt `libduckdb.so` (`scripts/duckdb-lib.sh`, `DUCKDB_LIB_DIR`);
//! the `bundled` feature compiles it in for release builds.

mod client;
pub mod config;
pub mod dialect;
mod error;

use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use destination::{
    Capabilities, CaseFolding, Destination, DestinationError, FileFormat, LoadClient, MergeStrategy,
    ReplaceStrategy,
};

pub use client::DuckDbClient;
pub use config::DuckDbConfig;
pub use dialect::DuckDbDialect;

/// The destination's name, as in `destination = "duckdb"`.
pub const DESTINATION_NAME: &str = "duckdb";

/// What the DuckDB destination can do (dlt's `_set_duckdb_raw_capabilities`, loading Parquet only).
pub const CAPABILITIES: Capabilities = Capabilities {
    preferred_file_format: FileFormat::Parquet,
    supported_file_formats: &[FileFormat::Parquet],
    preferred_staging_file_format: None,
    supported_staging_file_formats: &[],
    merge_strategies: &[MergeStrategy::DeleteInsert],
    replace_strategies: &[ReplaceStrategy::TruncateAndInsert],
    // DuckDB documents no identifier length limit; dlt uses 65536 for tables and columns.
    max_identifier_length: 65536,
    max_column_identifier_length: 65536,
    // Identifiers are case-insensitive but stored as given.
    case_folding: CaseFolding::None,
    supports_transactional_ddl: true,
    // `ALTER TABLE` takes one `ADD COLUMN` per statement in DuckDB.
    alter_add_multi_column: false,
    // DuckDB's TRUNCATE is an alias of DELETE; the loader uses DELETE FROM.
    supports_truncate_command: false,
    decimal_precision: dialect::DECIMAL_PRECISION,
    wei_precision: dialect::WEI_PRECISION,
    timestamp_precision: 6,
    // TIMESTAMP_NS (without time zone).
    max_timestamp_precision: 9,
    // One writer per client: concurrent transactions on one table may conflict, and DuckDB's commits
    // and checkpoints are serialised anyway.
    max_parallel_load_jobs: Some(1),
    max_query_length: 32 * 1024 * 1024,
};

/// The DuckDB destination for one database file and dataset. Creating it validates the settings and
/// does no I/O; the first [`Destination::connect`] opens the file (creating it if missing) and keeps the
/// database open, so later clients share it (DuckDB allows one writing process per file).
pub struct DuckDbDestination {
    config: Arc<DuckDbConfig>,
    database: Arc<Mutex<Option<client::Database>>>,
}

impl fmt::Debug for DuckDbDestination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DuckDbDestination")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl DuckDbDestination {
    /// A destination with validated `config`.
    pub fn new(config: DuckDbConfig) -> Result<Self, DestinationError> {
        config.validate()?;
        Ok(DuckDbDestination {
            config: Arc::new(config),
            database: Arc::new(Mutex::new(None)),
        })
    }

    /// The settings.
    pub fn config(&self) -> &DuckDbConfig {
        &self.config
    }

    /// The DuckDB library's version (`v1.5.5`), from a throwaway in-memory database.
    pub fn library_version() -> Result<String, DestinationError> {
        let conn =
            duckdb::Connection::open_in_memory().map_err(|e| error::from_duckdb(e, "open in-memory"))?;
        conn.query_row("SELECT version()", [], |row| row.get::<_, String>(0))
            .map_err(|e| error::from_duckdb(e, "SELECT version()"))
    }
}

#[async_trait]
impl Destination for DuckDbDestination {
    fn name(&self) -> &str {
        DESTINATION_NAME
    }

    fn capabilities(&self) -> &Capabilities {
        &CAPABILITIES
    }

    /// `duckdb:<absolute path>`, as dlt prints it in the load summary.
    fn location(&self) -> String {
        let path = std::path::absolute(&self.config.path).unwrap_or_else(|_| self.config.path.clone());
        format!("{DESTINATION_NAME}:{}", path.display())
    }

    async fn connect(&self) -> Result<Box<dyn LoadClient>, DestinationError> {
        let config = self.config.clone();
        let database = self.database.clone();
        let client = tokio::task::spawn_blocking(move || client::DuckDbClient::open(config, &database))
            .await
            .map_err(|e| error::from_join(e, "connect"))??;
        Ok(Box::new(client))
    }
}
