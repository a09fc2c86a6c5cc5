//! The DuckDB load client: one connection, every call on tokio's blocking pool, every change in a
//! transaction.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use arrow::array::{Array, ArrayRef, make_array};
use arrow::datatypes::DataType as ArrowType;
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use async_trait::async_trait;
use destination::bookkeeping::{self, MarkKind};
use destination::chain::{root_table, stored_chain};
use destination::dlt_tables::{LOADS_TABLE, PIPELINE_STATE_TABLE, VERSION_TABLE};
use destination::{
    DestinationError, FileFormat, JobReport, LoadClient, LoadJob, QueryResult, SchemaSlot, SchemaUpdate,
    SqlDialect, StorageColumn, StorageTables, StoredSchema, StoredState, cell_text as text,
    plan_schema_update,
};
use duckdb::Connection;
use package::schema::{Schema, WriteDisposition};
use serde_json::Value;

use crate::config::{CREDENTIALS_KEY, DEFAULT_THREADS, DuckDbConfig, GLOBAL_CONFIG_KEY};
use crate::dialect::DuckDbDialect;
use crate::error::{from_duckdb, from_join, from_open};
use crate::{CAPABILITIES, DESTINATION_NAME};

/// An open database: the first connection, which later clients clone, and its catalog name.
pub(crate) struct Database {
    root: Connection,
    catalog: String,
}

type Result<T, E = DestinationError> = std::result::Result<T, E>;

/// A client of the DuckDB destination (see [`destination::LoadClient`] for the contracts).
pub struct DuckDbClient {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Mutex<Connection>,
    dialect: DuckDbDialect,
    config: Arc<DuckDbConfig>,
    schema: SchemaSlot,
}

impl fmt::Debug for DuckDbClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DuckDbClient")
            .field("path", &self.inner.config.path)
            .field("dataset", &self.inner.config.dataset_name)
            .finish_non_exhaustive()
    }
}

fn poisoned(what: &str) -> DestinationError {
    DestinationError::terminal(
        DESTINATION_NAME,
        format!("{what}: a previous DuckDB call panicked"),
    )
}

fn open_database(config: &DuckDbConfig) -> Result<Database> {
    let path = &config.path;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        return Err(DestinationError::configuration(
            DESTINATION_NAME,
            CREDENTIALS_KEY,
            format!(
                "cannot open the DuckDB database file {}: its directory {} does not exist",
                path.display(),
                parent.display()
            ),
        ));
    }
    let setting = |e: duckdb::Error| from_duckdb(e, "DuckDB settings");
    let threads = config.threads.unwrap_or(DEFAULT_THREADS);
    let mut flags = duckdb::Config::default()
        .threads(i64::from(threads))
        .map_err(setting)?
        // Row order within a table is not part of dlt's contract; keeping it makes DuckDB buffer
        // rows between its threads.
        .with("preserve_insertion_order", "false")
        .map_err(setting)?
        // Each job file is read once: caching its blocks only adds to the memory held.
        .with("enable_external_file_cache", "false")
        .map_err(setting)?;
    if let Some(limit) = &config.memory_limit {
        flags = flags.max_memory(limit).map_err(setting)?;
    }
    let root = Connection::open_with_flags(path, flags).map_err(|e| from_open(e, path))?;
    for (name, value) in &config.settings {
        let valid_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let refused = |why: String| {
            DestinationError::configuration(
                DESTINATION_NAME,
                GLOBAL_CONFIG_KEY,
                format!("DuckDB refused the setting {name} = {value:?}: {why}"),
            )
        };
        if !valid_name {
            return Err(refused("not a DuckDB setting name".to_owned()));
        }
        let literal = DuckDbDialect::default().quote_literal(value);
        root.execute_batch(&format!("SET GLOBAL {name} = {literal}"))
            .map_err(|e| refused(e.to_string()))?;
    }
    let catalog = root
        .query_row("SELECT current_database()", [], |row| row.get::<_, String>(0))
        .map_err(|e| from_duckdb(e, "SELECT current_database()"))?;
    Ok(Database { root, catalog })
}

impl DuckDbClient {
    /// Opens a client, opening the database first if this destination has not yet.
    pub(crate) fn open(
        config: Arc<DuckDbConfig>,
        database: &Mutex<Option<Database>>,
    ) -> Result<DuckDbClient> {
        let mut database = database.lock().map_err(|_| poisoned("connect"))?;
        if database.is_none() {
            *database = Some(open_database(&config)?);
        }
        let Some(db) = database.as_ref() else {
            return Err(poisoned("connect"));
        };
        let conn = db.root.try_clone().map_err(|e| from_duckdb(e, "connect"))?;
        // Timestamps with time zone come back in UTC whatever the machine's zone.
        conn.execute_batch("SET TimeZone = 'UTC'")
            .map_err(|e| from_duckdb(e, "SET TimeZone"))?;
        Ok(DuckDbClient {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                dialect: DuckDbDialect::new(Some(db.catalog.clone())),
                config,
                schema: SchemaSlot::default(),
            }),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn blocking<T, F>(&self, operation: String, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Inner, &Connection, &str) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        let op = operation.clone();
        tokio::task::spawn_blocking(move || {
            let conn = inner.conn.lock().map_err(|_| poisoned(&op))?;
            f(&inner, &conn, &op)
        })
        .await
        .map_err(|e| from_join(e, &operation))?
    }
}

impl Inner {
    fn dataset(&self) -> &str {
        &self.config.dataset_name
    }

    fn staging(&self) -> &str {
        &self.config.staging_dataset_name
    }

    fn schema(&self, op: &str) -> Result<Arc<Schema>> {
        self.schema.get(DESTINATION_NAME, op)
    }

    fn set_schema(&self, schema: Schema, op: &str) -> Result<()> {
        self.schema.set(DESTINATION_NAME, schema, op)
    }

    /// Creates the dataset, the staging dataset and the bookkeeping table if missing.
    fn prepare_dataset(&self, conn: &Connection, op: &str) -> Result<()> {
        let d = &self.dialect;
        exec(conn, &d.create_dataset_sql(self.dataset()), op)?;
        exec(conn, &d.create_dataset_sql(self.staging()), op)?;
        let create = bookkeeping::create_table_sql(d, self.staging()).map_err(|e| sql_error(e, op))?;
        exec(conn, &create, op)
    }

    fn table_exists(&self, conn: &Connection, dataset: &str, table: &str, op: &str) -> Result<bool> {
        Ok(!query(conn, &self.dialect.table_exists_sql(dataset, table), op)?
            .rows
            .is_empty())
    }

    fn storage_tables(&self, conn: &Connection, op: &str) -> Result<StorageTables> {
        let result = query(conn, &self.dialect.select_storage_columns_sql(self.dataset()), op)?;
        let mut tables: StorageTables = BTreeMap::new();
        for row in &result.rows {
            let [table, column, data_type, nullable] = row.as_slice() else {
                continue;
            };
            tables.entry(text(table)).or_default().push(StorageColumn {
                name: text(column),
                data_type: text(data_type),
                nullable: text(nullable) == "YES",
            });
        }
        Ok(tables)
    }

    fn has_mark(
        &self,
        conn: &Connection,
        load_id: &str,
        kind: MarkKind,
        name: &str,
        op: &str,
    ) -> Result<bool> {
        let sql = bookkeeping::select_mark_sql(&self.dialect, self.staging(), load_id, kind, name);
        Ok(!query(conn, &sql, op)?.rows.is_empty())
    }

    fn mark(&self, conn: &Connection, load_id: &str, kind: MarkKind, name: &str, op: &str) -> Result<()> {
        exec(
            conn,
            &bookkeeping::insert_mark_sql(&self.dialect, self.staging(), load_id, kind, name),
            op,
        )
    }

    fn load_completed(&self, conn: &Connection, load_id: &str, op: &str) -> Result<bool> {
        Ok(
            !query(conn, &self.dialect.select_load_sql(self.dataset(), load_id), op)?
                .rows
                .is_empty(),
        )
    }

    fn load_job(&self, conn: &Connection, job: &LoadJob, op: &str) -> Result<JobReport> {
        if job.file_format != FileFormat::Parquet {
            return Err(DestinationError::terminal(
                DESTINATION_NAME,
                format!(
                    "{op}: DuckDB loads Parquet jobs; got {}",
                    job.file_format.extension()
                ),
            ));
        }
        let file = job.file_path.to_str().ok_or_else(|| {
            DestinationError::terminal(
                DESTINATION_NAME,
                format!("{op}: job path {} is not UTF-8", job.file_path.display()),
            )
        })?;
        if !Path::new(file).is_file() {
            return Err(DestinationError::terminal(
                DESTINATION_NAME,
                format!("{op}: job file {file} does not exist"),
            ));
        }
        let schema = self.schema(op)?;
        let root = root_table(&schema, &job.table_name).ok_or_else(|| {
            DestinationError::terminal(
                DESTINATION_NAME,
                format!("{op}: table {:?} is not in the schema", job.table_name),
            )
        })?;
        let chain = stored_chain(&schema, &root.name);
        let d = &self.dialect;
        in_transaction(conn, op, |conn| {
            if self.load_completed(conn, &job.load_id, op)?
                || self.has_mark(conn, &job.load_id, MarkKind::Job, &job.job_id, op)?
            {
                return Ok(JobReport {
                    rows: Some(0),
                    already_loaded: true,
                });
            }
            let target = match job.write_disposition {
                WriteDisposition::Append => self.dataset(),
                WriteDisposition::Replace => {
                    if !self.has_mark(conn, &job.load_id, MarkKind::Replace, &root.name, op)? {
                        for table in &chain {
                            exec(
                                conn,
                                &d.truncate_table_sql(self.dataset(), &table.name, false),
                                op,
                            )?;
                        }
                        self.mark(conn, &job.load_id, MarkKind::Replace, &root.name, op)?;
                    }
                    self.dataset()
                }
                WriteDisposition::Merge => {
                    if !self.has_mark(conn, &job.load_id, MarkKind::Merge, &root.name, op)? {
                        let stage = bookkeeping::stage_chain_sql(
                            d,
                            self.staging(),
                            &schema,
                            &job.load_id,
                            MarkKind::Merge,
                            &root.name,
                        )
                        .map_err(|e| sql_error(e, op))?;
                        for sql in stage {
                            exec(conn, &sql, op)?;
                        }
                    }
                    self.staging()
                }
            };
            let rows = conn
                .execute(&d.insert_parquet_sql(target, &job.table_name, file), [])
                .map_err(|e| from_duckdb(e, op))?;
            self.mark(conn, &job.load_id, MarkKind::Job, &job.job_id, op)?;
            Ok(JobReport {
                rows: Some(rows as u64),
                already_loaded: false,
            })
        })
    }

    fn complete_load(
        &self,
        conn: &Connection,
        load_id: &str,
        schema_name: &str,
        hash: &str,
        op: &str,
    ) -> Result<()> {
        let schema = self.schema(op)?;
        let d = &self.dialect;
        in_transaction(conn, op, |conn| {
            if self.load_completed(conn, load_id, op)? {
                return Ok(());
            }
            let roots = query(
                conn,
                &bookkeeping::select_marks_sql(d, self.staging(), load_id, MarkKind::Merge),
                op,
            )?;
            for row in &roots.rows {
                let root = row.first().map(text).unwrap_or_default();
                let chain = stored_chain(&schema, &root);
                if chain.is_empty() {
                    return Err(DestinationError::terminal(
                        DESTINATION_NAME,
                        format!("{op}: merge table {root:?} is not in the schema"),
                    ));
                }
                let statements = d
                    .merge_delete_insert_sql(self.dataset(), self.staging(), &chain)
                    .map_err(|e| sql_error(e, &format!("{op}: merge {root}")))?;
                for sql in statements {
                    exec(conn, &sql, &format!("{op}: merge {root}"))?;
                }
            }
            exec(
                conn,
                &d.insert_load_sql(self.dataset(), load_id, schema_name, hash),
                op,
            )?;
            exec(
                conn,
                &bookkeeping::delete_load_sql(d, self.staging(), load_id),
                op,
            )
        })?;
        // Write the WAL into the database file now, inside the load step, rather than when the
        // database closes at exit. The load is committed already: a failed checkpoint (another
        // client's open transaction) only leaves the work to DuckDB's next checkpoint.
        if let Err(e) = exec(conn, "CHECKPOINT", op) {
            tracing::warn!(target: "duckdb", error = %e, "checkpoint after the load failed");
        }
        Ok(())
    }

    fn update_stored_schema(&self, conn: &Connection, schema: &Schema, op: &str) -> Result<SchemaUpdate> {
        let schema_json = serde_json::to_string(schema).map_err(|e| {
            DestinationError::terminal(
                DESTINATION_NAME,
                format!("{op}: cannot serialize the schema: {e}"),
            )
        })?;
        let update = in_transaction(conn, op, |conn| {
            self.prepare_dataset(conn, op)?;
            let existing = self.storage_tables(conn, op)?;
            let plan = plan_schema_update(&self.dialect, &CAPABILITIES, self.dataset(), schema, &existing)
                .map_err(|e| sql_error(e, op))?;
            for sql in &plan.statements {
                exec(conn, sql, op)?;
            }
            let mut update = plan.update;
            let by_hash =
                self.dialect
                    .select_stored_schema_sql(self.dataset(), None, Some(&schema.version_hash));
            if query(conn, &by_hash, op)?.rows.is_empty() {
                exec(
                    conn,
                    &self
                        .dialect
                        .insert_version_sql(self.dataset(), schema, &schema_json),
                    op,
                )?;
                update.stored_version = true;
            }
            Ok(update)
        })?;
        self.set_schema(schema.clone(), op)?;
        Ok(update)
    }
}

fn sql_error(error: destination::SqlError, op: &str) -> DestinationError {
    DestinationError::from_sql(DESTINATION_NAME, error).context(op)
}

fn exec(conn: &Connection, sql: &str, op: &str) -> Result<()> {
    tracing::trace!(target: "duckdb", %sql, "execute");
    conn.execute_batch(sql).map_err(|e| from_duckdb(e, op))
}

/// Runs `f` between `BEGIN TRANSACTION` and `COMMIT`, rolling back when it fails.
fn in_transaction<T>(conn: &Connection, op: &str, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    exec(conn, "BEGIN TRANSACTION", op)?;
    let result = f(conn).and_then(|value| exec(conn, "COMMIT", op).map(|()| value));
    if result.is_err() {
        // The transaction may already be gone (a failed COMMIT aborts it); nothing more to undo.
        let _ = conn.execute_batch("ROLLBACK");
    }
    result
}

fn query(conn: &Connection, sql: &str, op: &str) -> Result<QueryResult> {
    tracing::trace!(target: "duckdb", %sql, "query");
    let mut statement = conn.prepare(sql).map_err(|e| from_duckdb(e, op))?;
    let batches: Vec<RecordBatch> = statement
        .query_arrow([])
        .map_err(|e| from_duckdb(e, op))?
        .collect();
    let columns = match batches.first() {
        Some(batch) => batch.schema().fields().iter().map(|f| f.name().clone()).collect(),
        None => statement.column_names(),
    };
    let mut rows = Vec::new();
    for batch in &batches {
        let arrays = batch
            .columns()
            .iter()
            .map(|a| utc_label(a, op))
            .collect::<Result<Vec<_>>>()?;
        let formatters = arrays
            .iter()
            .map(|array| {
                ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default()).map_err(|e| {
                    DestinationError::terminal(
                        DESTINATION_NAME,
                        format!("{op}: cannot read a result column: {e}"),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        for row in 0..batch.num_rows() {
            rows.push(
                arrays
                    .iter()
                    .zip(&formatters)
                    .map(|(array, fmt)| cell(array, fmt, row))
                    .collect(),
            );
        }
    }
    Ok(QueryResult { columns, rows })
}

/// Timestamps with a time zone arrive labelled with the session's zone name (`UTC`, set at connect);
/// relabel them `+00:00`, the same instant, which Arrow formats without a time zone database.
fn utc_label(array: &ArrayRef, op: &str) -> Result<ArrayRef> {
    let ArrowType::Timestamp(unit, Some(_)) = array.data_type() else {
        return Ok(array.clone());
    };
    let data = array
        .to_data()
        .into_builder()
        .data_type(ArrowType::Timestamp(*unit, Some("+00:00".into())))
        .build()
        .map_err(|e| DestinationError::terminal(DESTINATION_NAME, format!("{op}: timestamp column: {e}")))?;
    Ok(make_array(data))
}

/// One result cell as JSON: booleans and numbers as such, everything else as its display text.
fn cell(array: &ArrayRef, formatter: &ArrayFormatter<'_>, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    let shown = formatter.value(row).to_string();
    match array.data_type() {
        ArrowType::Boolean => Value::Bool(shown == "true"),
        ArrowType::Int8 | ArrowType::Int16 | ArrowType::Int32 | ArrowType::Int64 => shown
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or(Value::String(shown)),
        ArrowType::UInt8 | ArrowType::UInt16 | ArrowType::UInt32 | ArrowType::UInt64 => shown
            .parse::<u64>()
            .map(Value::from)
            .unwrap_or(Value::String(shown)),
        ArrowType::Float16 | ArrowType::Float32 | ArrowType::Float64 => shown
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::String(shown)),
        _ => Value::String(shown),
    }
}

#[async_trait]
impl LoadClient for DuckDbClient {
    fn destination_name(&self) -> &str {
        DESTINATION_NAME
    }

    async fn ensure_dataset(&self) -> Result<()> {
        self.blocking("ensure_dataset".into(), |inner, conn, op| {
            in_transaction(conn, op, |conn| inner.prepare_dataset(conn, op))
        })
        .await
    }

    async fn get_stored_schema(&self, schema_name: &str) -> Result<Option<StoredSchema>> {
        let name = schema_name.to_string();
        self.blocking("get_stored_schema".into(), move |inner, conn, op| {
            if !inner.table_exists(conn, inner.dataset(), VERSION_TABLE, op)? {
                return Ok(None);
            }
            let sql = inner
                .dialect
                .select_stored_schema_sql(inner.dataset(), Some(&name), None);
            Ok(StoredSchema::from_first_row(&query(conn, &sql, op)?))
        })
        .await
    }

    async fn update_stored_schema(&self, schema: &Schema) -> Result<SchemaUpdate> {
        let schema = schema.clone();
        self.blocking("update_stored_schema".into(), move |inner, conn, op| {
            inner.update_stored_schema(conn, &schema, op)
        })
        .await
    }

    async fn load_job(&self, job: &LoadJob) -> Result<JobReport> {
        let job = job.clone();
        let op = format!("load_job {} ({})", job.job_id, job.file_path.display());
        self.blocking(op, move |inner, conn, op| inner.load_job(conn, &job, op))
            .await
    }

    async fn complete_load(&self, load_id: &str, schema_name: &str, schema_hash: &str) -> Result<()> {
        let (load_id, schema_name, hash) = (
            load_id.to_string(),
            schema_name.to_string(),
            schema_hash.to_string(),
        );
        self.blocking(format!("complete_load {load_id}"), move |inner, conn, op| {
            inner.complete_load(conn, &load_id, &schema_name, &hash, op)
        })
        .await
    }

    async fn get_stored_state(&self, pipeline_name: &str) -> Result<Option<StoredState>> {
        let name = pipeline_name.to_string();
        self.blocking("get_stored_state".into(), move |inner, conn, op| {
            for table in [PIPELINE_STATE_TABLE, LOADS_TABLE] {
                if !inner.table_exists(conn, inner.dataset(), table, op)? {
                    return Ok(None);
                }
            }
            let result = query(
                conn,
                &inner.dialect.select_stored_state_sql(inner.dataset(), &name),
                op,
            )?;
            Ok(StoredState::from_first_row(&result))
        })
        .await
    }

    async fn get_storage_tables(&self) -> Result<StorageTables> {
        self.blocking("get_storage_tables".into(), |inner, conn, op| {
            inner.storage_tables(conn, op)
        })
        .await
    }

    async fn drop_tables(&self, tables: &[String]) -> Result<()> {
        let tables = tables.to_vec();
        self.blocking("drop_tables".into(), move |inner, conn, op| {
            in_transaction(conn, op, |conn| {
                for table in &tables {
                    exec(conn, &inner.dialect.drop_table_sql(inner.dataset(), table), op)?;
                    exec(conn, &inner.dialect.drop_table_sql(inner.staging(), table), op)?;
                }
                Ok(())
            })
        })
        .await
    }

    async fn drop_dataset(&self) -> Result<()> {
        self.blocking("drop_dataset".into(), |inner, conn, op| {
            in_transaction(conn, op, |conn| {
                exec(conn, &inner.dialect.drop_dataset_sql(inner.dataset()), op)?;
                exec(conn, &inner.dialect.drop_dataset_sql(inner.staging()), op)
            })
        })
        .await
    }

    async fn query(&self, sql: &str) -> Result<QueryResult> {
        let sql = sql.to_string();
        self.blocking("query".into(), move |_, conn, op| query(conn, &sql, op))
            .await
    }
}
