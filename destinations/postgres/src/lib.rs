//! The PostgreSQL destination of looker-load: the last step of extract → normalize → load, copying the
//! Parquet jobs of a load package into a PostgreSQL database with binary `COPY`.
//!
//! * The dataset is a schema in the database (`CREATE SCHEMA` when missing); merge staging and load
//!   bookkeeping live in `<dataset>_staging`. Identifiers are folded to lower case and quoted; names
//!   longer than 63 bytes are refused (the server would truncate them).
//! * Tables are created and evolved from the dlt schema with the shared SQL layer
//!   ([`destination::SqlDialect`]), dlt's postgres types (`varchar`, `bigint`, `double precision`,
//!   `boolean`, `timestamp with time zone`, `date`, `time`, `numeric(p,s)`, `jsonb`, `bytea`).
//! * A job is one transaction: `COPY <table> (<columns>) FROM STDIN (FORMAT binary)` fed with the
//!   Arrow batches of the job file, plus its bookkeeping row, so loading a job twice loads it once
//!   ([`destination::bookkeeping`]). No SQL `INSERT` text is ever built from values.
//! * `append` copies into the dataset. `replace` and `merge` copy into `<dataset>_staging` (the chain's
//!   staging tables are recreated by the chain's first job in a load); `complete_load` then, in the one
//!   transaction that writes `_dlt_loads`, replaces each replace chain (`DELETE` + `INSERT … SELECT`
//!   from staging: dlt's `insert-from-staging`, so readers never see an empty table and a crash
//!   mid-load leaves the old rows) and runs dlt's delete-insert for merge chains (nested tables through
//!   `_dlt_root_id`). A replace job without rows still empties its chain.
//!
//! The client uses one tokio-postgres connection, reopened when the server closes it, so a server
//! restart mid-load surfaces as a transient error and the retry runs on a new connection. TLS follows
//! libpq's `sslmode` (`disable` … `verify-full`, with `sslrootcert`) with rustls; see [`tls`].

mod client;
pub mod config;
pub mod dialect;
mod encode;
mod error;
pub mod tls;

use std::sync::Arc;

use async_trait::async_trait;
use destination::{
    Capabilities, CaseFolding, Destination, DestinationError, FileFormat, LoadClient, MergeStrategy,
    ReplaceStrategy,
};

pub use client::PostgresClient;
pub use config::{Credentials, PostgresConfig, SslMode, TlsSettings};
pub use dialect::PostgresDialect;

/// The destination's name, as in `destination = "postgres"`.
pub const DESTINATION_NAME: &str = "postgres";

/// What the PostgreSQL destination can do (dlt's postgres capabilities, loading Parquet by binary COPY).
pub const CAPABILITIES: Capabilities = Capabilities {
    preferred_file_format: FileFormat::Parquet,
    supported_file_formats: &[FileFormat::Parquet],
    preferred_staging_file_format: None,
    supported_staging_file_formats: &[],
    merge_strategies: &[MergeStrategy::DeleteInsert],
    // dlt's `insert-from-staging`: a replace is atomic (see `complete_load`).
    replace_strategies: &[ReplaceStrategy::InsertFromStaging],
    // NAMEDATALEN-1: the server silently truncates longer names, so they are refused up front.
    max_identifier_length: 63,
    max_column_identifier_length: 63,
    case_folding: CaseFolding::Lower,
    supports_transactional_ddl: true,
    alter_add_multi_column: true,
    supports_truncate_command: true,
    decimal_precision: dialect::DECIMAL_PRECISION,
    wei_precision: dialect::WEI_PRECISION,
    timestamp_precision: 6,
    max_timestamp_precision: 6,
    // One connection per client; jobs on it run one after another.
    max_parallel_load_jobs: Some(1),
    max_query_length: 32 * 1024 * 1024,
};

/// The PostgreSQL destination for one database and dataset. Creating it validates the settings and
/// does no I/O; [`Destination::connect`] opens a connection.
#[derive(Debug)]
pub struct PostgresDestination {
    config: Arc<PostgresConfig>,
}

impl PostgresDestination {
    /// A destination with validated `config`.
    pub fn new(config: PostgresConfig) -> Result<Self, DestinationError> {
        config.validate()?;
        Ok(PostgresDestination {
            config: Arc::new(config),
        })
    }

    /// The settings.
    pub fn config(&self) -> &PostgresConfig {
        &self.config
    }
}

#[async_trait]
impl Destination for PostgresDestination {
    fn name(&self) -> &str {
        DESTINATION_NAME
    }

    fn capabilities(&self) -> &Capabilities {
        &CAPABILITIES
    }

    /// `postgres://user@host:port/database`, never with the password.
    fn location(&self) -> String {
        self.config.location()
    }

    /// Connects. An unreachable server is a configuration error naming the host setting; a wrong
    /// password, a missing database or an unknown user name their settings too.
    async fn connect(&self) -> Result<Box<dyn LoadClient>, DestinationError> {
        let client = client::open_connection(&self.config)
            .await
            .map_err(|e| error::from_connect(e, &self.config))?;
        Ok(Box::new(PostgresClient::new(self.config.clone(), client)))
    }
}
