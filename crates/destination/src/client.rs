//! The destination contracts: [`Destination`] (a configured target, no I/O until `connect`) and
//! [`LoadClient`] (one connection's worth of loading).

use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use package::schema::{Schema, WriteDisposition};

use crate::capabilities::{Capabilities, FileFormat};
use crate::chain::write_disposition;
use crate::error::{DestinationError, Result};
use crate::schema_update::{SchemaUpdate, StorageTables};

/// A configured destination. Building one does no I/O; [`Destination::connect`] does.
#[async_trait]
pub trait Destination: Send + Sync + Debug {
    /// The destination type's name as users write it in `destination = "..."` (`duckdb`, `postgres`).
    fn name(&self) -> &str;

    /// What the destination can do.
    fn capabilities(&self) -> &Capabilities;

    /// Where the data goes, for the run summary and logs (`duckdb:/path/to/file.duckdb`). Never contains
    /// secrets.
    fn location(&self) -> String {
        self.name().to_string()
    }

    /// Opens a client for one load (or one command such as `query`). Errors name the setting to fix
    /// when the destination cannot be reached with the configuration given.
    async fn connect(&self) -> Result<Box<dyn LoadClient>>;
}

/// One job of a load package: a file holding rows of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadJob {
    /// The load package's id (`_dlt_load_id` of its root rows).
    pub load_id: String,
    /// The table the rows go to.
    pub table_name: String,
    /// The job's id, stable across retries: the file name without retry count and extension
    /// (`<table>.<file_id>`).
    pub job_id: String,
    /// The job file.
    pub file_path: PathBuf,
    /// The file's format.
    pub file_format: FileFormat,
    /// The table's write disposition (its root table's).
    pub write_disposition: WriteDisposition,
}

impl LoadJob {
    /// The job for the file at `path`, named `<table>.<file_id>.<retry_count>.<ext>` as in dlt packages,
    /// with the write disposition `schema` gives its table. Errors are terminal: the file name or table
    /// does not belong to this package.
    pub fn from_file(schema: &Schema, load_id: &str, path: &Path) -> Result<LoadJob> {
        let bad =
            |why: &str| DestinationError::terminal("load", format!("job file {}: {why}", path.display()));
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| bad("not a UTF-8 file name"))?;
        let (table, file_id, _retry, format) = parse_job_file_name(file_name)
            .ok_or_else(|| bad("expected <table>.<file_id>.<retry_count>.<format>"))?;
        let disposition = write_disposition(schema, table)
            .ok_or_else(|| bad(&format!("table {table:?} is not in the schema")))?;
        Ok(LoadJob {
            load_id: load_id.to_string(),
            table_name: table.to_string(),
            job_id: format!("{table}.{file_id}"),
            file_path: path.to_path_buf(),
            file_format: format,
            write_disposition: disposition,
        })
    }
}

/// Splits a dlt job file name `<table>.<file_id>.<retry_count>.<format>[.gz]` into its parts.
pub fn parse_job_file_name(file_name: &str) -> Option<(&str, &str, u32, FileFormat)> {
    let rest = file_name.strip_suffix(".gz").unwrap_or(file_name);
    let (rest, ext) = rest.rsplit_once('.')?;
    let format = FileFormat::from_extension(ext)?;
    let (rest, retry) = rest.rsplit_once('.')?;
    let retry = retry.parse().ok()?;
    let (table, file_id) = rest.rsplit_once('.')?;
    if table.is_empty() || file_id.is_empty() {
        return None;
    }
    Some((table, file_id, retry, format))
}

/// The outcome of [`LoadClient::load_job`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobReport {
    /// Rows written by this call (0 when skipped), if the destination reports it.
    pub rows: Option<u64>,
    /// The job had already been loaded (or its load completed) and was skipped.
    pub already_loaded: bool,
}

/// The schema a client was last given by [`LoadClient::update_stored_schema`]: the jobs and merges of
/// the load follow it. Shared by every destination's client.
#[derive(Debug, Default)]
pub struct SchemaSlot(Mutex<Option<Arc<Schema>>>);

impl SchemaSlot {
    /// The schema, or a terminal error when `update_stored_schema` has not run on this client.
    pub fn get(&self, destination: &str, op: &str) -> Result<Arc<Schema>> {
        let schema = self.0.lock().map_err(|_| poisoned(destination, op))?;
        schema.clone().ok_or_else(|| {
            DestinationError::terminal(
                destination,
                format!("{op}: update_stored_schema must run first on this client"),
            )
        })
    }

    /// Keeps `schema` for the rest of the load.
    pub fn set(&self, destination: &str, schema: Schema, op: &str) -> Result<()> {
        *self.0.lock().map_err(|_| poisoned(destination, op))? = Some(Arc::new(schema));
        Ok(())
    }
}

fn poisoned(destination: &str, op: &str) -> DestinationError {
    DestinationError::terminal(
        destination,
        format!("{op}: a previous call panicked while holding the client"),
    )
}

/// A `_dlt_version` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSchema {
    /// The schema's version number.
    pub version: i64,
    /// dlt's schema engine version.
    pub engine_version: i64,
    /// When the row was written (RFC 3339).
    pub inserted_at: String,
    /// The schema's name.
    pub schema_name: String,
    /// The schema's version hash.
    pub version_hash: String,
    /// The full schema document as JSON.
    pub schema: String,
}

/// A `_dlt_pipeline_state` row (of a completed load).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredState {
    /// The state's version number.
    pub version: i64,
    /// The state engine version.
    pub engine_version: i64,
    /// The pipeline it belongs to.
    pub pipeline_name: String,
    /// The state: base64 of zlib-compressed JSON.
    pub state: String,
    /// When the state was created (RFC 3339).
    pub created_at: String,
    /// The state's version hash.
    pub version_hash: Option<String>,
    /// The load that carried it.
    pub load_id: String,
}

impl StoredSchema {
    /// The first row of a `_dlt_version` query (columns by name), if there is one.
    pub fn from_first_row(result: &QueryResult) -> Option<StoredSchema> {
        result.rows.first()?;
        let get = |c: &str| result.get(0, c).unwrap_or(&serde_json::Value::Null);
        Some(StoredSchema {
            version: cell_int(get("version")),
            engine_version: cell_int(get("engine_version")),
            inserted_at: cell_text(get("inserted_at")),
            schema_name: cell_text(get("schema_name")),
            version_hash: cell_text(get("version_hash")),
            schema: cell_text(get("schema")),
        })
    }
}

impl StoredState {
    /// The first row of a `_dlt_pipeline_state` query (columns by name), if there is one.
    pub fn from_first_row(result: &QueryResult) -> Option<StoredState> {
        result.rows.first()?;
        let get = |c: &str| result.get(0, c).unwrap_or(&serde_json::Value::Null);
        let version_hash = get("version_hash");
        Some(StoredState {
            version: cell_int(get("version")),
            engine_version: cell_int(get("engine_version")),
            pipeline_name: cell_text(get("pipeline_name")),
            state: cell_text(get("state")),
            created_at: cell_text(get("created_at")),
            version_hash: (!version_hash.is_null()).then(|| cell_text(version_hash)),
            load_id: cell_text(get("_dlt_load_id")),
        })
    }
}

/// A JSON cell as text: strings without quotes, NULL as empty.
pub fn cell_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A JSON cell as an integer (0 when it is not one).
fn cell_int(value: &serde_json::Value) -> i64 {
    value.as_i64().unwrap_or_default()
}

/// The result of [`LoadClient::query`]: column names and rows of JSON values. Numbers and booleans are
/// JSON numbers and booleans, NULL is `null`, everything else (text, timestamps, decimals, binary as
/// hex) is a string.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryResult {
    /// Column names in select order.
    pub columns: Vec<String>,
    /// Rows, each with one value per column.
    pub rows: Vec<Vec<serde_json::Value>>,
}

impl QueryResult {
    /// The value of `column` in row `row`.
    pub fn get(&self, row: usize, column: &str) -> Option<&serde_json::Value> {
        let index = self.columns.iter().position(|c| c == column)?;
        self.rows.get(row)?.get(index)
    }

    /// The first column of the first row, if any (for `SELECT count(*)`).
    pub fn scalar(&self) -> Option<&serde_json::Value> {
        self.rows.first()?.first()
    }
}

/// One client of a destination, used for one load: ensure the dataset, bring the schema up to date,
/// load the jobs, complete the load. Methods take `&self` so a loader may run jobs concurrently up to
/// [`Capabilities::max_parallel_load_jobs`].
///
/// Optional powers default to [`DestinationError::Unsupported`].
#[async_trait]
pub trait LoadClient: Send + Sync + Debug {
    /// The destination's name, for errors.
    fn destination_name(&self) -> &str;

    /// Creates the dataset (and the staging dataset it uses) if missing. Idempotent.
    async fn ensure_dataset(&self) -> Result<()>;

    /// The newest stored version of schema `schema_name` (from `_dlt_version`), or `None` when the
    /// dataset has none.
    async fn get_stored_schema(&self, schema_name: &str) -> Result<Option<StoredSchema>>;

    /// Brings the dataset's tables up to `schema`: creates `_dlt_version`, `_dlt_loads` and missing
    /// tables, adds missing columns; never drops a table or column or changes a type. Writes a
    /// `_dlt_version` row when the destination has no row with the schema's hash. Must be called before
    /// [`LoadClient::load_job`] and [`LoadClient::complete_load`] on this client: they follow this schema
    /// (table chains, keys, dispositions).
    async fn update_stored_schema(&self, schema: &Schema) -> Result<SchemaUpdate>;

    /// Loads one job file. Loading the same job twice (same `load_id` and `job_id`, for example after a
    /// crash between the destination's commit and the package's bookkeeping) must not duplicate rows;
    /// nor may loading a job of a load that already completed. A `replace` chain (a root table and its
    /// nested tables) ends the load holding only this load's rows, even when its jobs have no rows:
    /// with `truncate-and-insert` it is emptied once per load before the first job of the chain; with
    /// `insert-from-staging` the jobs are staged and [`LoadClient::complete_load`] swaps them in
    /// atomically. `merge` jobs are staged and merged by [`LoadClient::complete_load`].
    async fn load_job(&self, job: &LoadJob) -> Result<JobReport>;

    /// Completes the load: runs what the jobs deferred (merges and staged replaces) and writes the `_dlt_loads`
    /// row with status 0. This is the commit point: a load without its row is incomplete, and its rows
    /// are orphans. Idempotent: completing a completed load changes nothing.
    async fn complete_load(&self, load_id: &str, schema_name: &str, schema_hash: &str) -> Result<()>;

    /// The newest `_dlt_pipeline_state` row of `pipeline_name` whose load completed, or `None`.
    async fn get_stored_state(&self, pipeline_name: &str) -> Result<Option<StoredState>> {
        let _ = pipeline_name;
        Err(DestinationError::unsupported(
            self.destination_name(),
            "get_stored_state",
        ))
    }

    /// The dataset's tables and their columns as the destination stores them.
    async fn get_storage_tables(&self) -> Result<StorageTables> {
        Err(DestinationError::unsupported(
            self.destination_name(),
            "get_storage_tables",
        ))
    }

    /// Drops `tables` (and their staging copies) if they exist.
    async fn drop_tables(&self, tables: &[String]) -> Result<()> {
        let _ = tables;
        Err(DestinationError::unsupported(
            self.destination_name(),
            "drop_tables",
        ))
    }

    /// Drops the dataset and its staging dataset with everything in them.
    async fn drop_dataset(&self) -> Result<()> {
        Err(DestinationError::unsupported(
            self.destination_name(),
            "drop_dataset",
        ))
    }

    /// Runs `sql` against the destination (for `looker-load query`) and returns every row.
    async fn query(&self, sql: &str) -> Result<QueryResult> {
        let _ = sql;
        Err(DestinationError::unsupported(self.destination_name(), "query"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use package::schema::{Column, Table};

    #[test]
    fn job_file_names_parse() {
        assert_eq!(
            parse_job_file_name("users.ec7bb927d1.0.parquet"),
            Some(("users", "ec7bb927d1", 0, FileFormat::Parquet))
        );
        assert_eq!(
            parse_job_file_name("users__role_ids.a1.12.jsonl.gz"),
            Some(("users__role_ids", "a1", 12, FileFormat::Jsonl))
        );
        assert_eq!(parse_job_file_name("users.parquet"), None);
        assert_eq!(parse_job_file_name("users.ab.x.parquet"), None);
        assert_eq!(parse_job_file_name(".ab.0.parquet"), None);
        assert_eq!(parse_job_file_name("users.ab.0.xlsx"), None);
    }

    #[test]
    fn load_job_from_file_resolves_disposition() {
        let schema = Schema {
            tables: vec![
                Table {
                    name: "users".into(),
                    columns: vec![Column {
                        name: "id".into(),
                        ..Column::default()
                    }],
                    write_disposition: Some(WriteDisposition::Merge),
                    ..Table::default()
                },
                Table {
                    name: "users__tags".into(),
                    parent: Some("users".into()),
                    ..Table::default()
                },
            ],
            ..Schema::default()
        };
        let job = LoadJob::from_file(&schema, "1.5", Path::new("/p/users__tags.f00.3.parquet"));
        let job = job.ok();
        assert_eq!(job.as_ref().map(|j| j.job_id.as_str()), Some("users__tags.f00"));
        assert_eq!(job.map(|j| j.write_disposition), Some(WriteDisposition::Merge));
        let err = LoadJob::from_file(&schema, "1.5", Path::new("/p/looks.f00.0.parquet"));
        assert!(err.is_err_and(|e| e.to_string().contains("not in the schema")));
    }

    #[test]
    fn query_result_lookup() {
        let r = QueryResult {
            columns: vec!["n".into()],
            rows: vec![vec![serde_json::json!(3)]],
        };
        assert_eq!(r.scalar(), Some(&serde_json::json!(3)));
        assert_eq!(r.get(0, "n"), Some(&serde_json::json!(3)));
        assert_eq!(r.get(1, "n"), None);
    }
}
