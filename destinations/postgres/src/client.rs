//! The PostgreSQL load client: one connection (reopened when it breaks), every change in a
//! transaction, job rows streamed with binary `COPY`.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use destination::bookkeeping::{self, MarkKind};
use destination::chain::root_table;
use destination::dlt_tables::{LOADS_TABLE, PIPELINE_STATE_TABLE, VERSION_TABLE};
use destination::{
    DestinationError, FileFormat, JobReport, LoadClient, LoadJob, QueryResult, SchemaSlot, SchemaUpdate,
    SqlDialect, StorageColumn, StorageTables, StoredSchema, StoredState, cell_text as text,
    plan_schema_update,
};
use package::schema::{Schema, WriteDisposition};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use serde_json::Value;
use tokio::sync::Mutex;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, GenericClient, SimpleQueryMessage};

use crate::config::PostgresConfig;
use crate::dialect::PostgresDialect;
use crate::encode;
use crate::error::{ConnectError, from_connect, from_create_schema, from_pg, terminal};
use crate::{CAPABILITIES, DESTINATION_NAME};

type Result<T, E = DestinationError> = std::result::Result<T, E>;

/// Rows per Arrow batch read from a job file.
const BATCH_ROWS: usize = 8192;

/// Opens a connection (with TLS as `sslmode` asks) and drives it on a background task until the
/// client is dropped.
pub(crate) async fn open_connection(config: &PostgresConfig) -> Result<Client, ConnectError> {
    let tls = crate::tls::client_config(config.tls()).map_err(ConnectError::Tls)?;
    let (client, connection) = config
        .pg()
        .connect(crate::tls::MakeRustlsConnect::new(tls))
        .await
        .map_err(ConnectError::Driver)?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(target: "postgres", %error, "connection ended");
        }
    });
    Ok(client)
}

/// A client of the PostgreSQL destination (see [`destination::LoadClient`] for the contracts).
pub struct PostgresClient {
    config: Arc<PostgresConfig>,
    dialect: PostgresDialect,
    conn: Mutex<Option<Client>>,
    schema: SchemaSlot,
}

impl fmt::Debug for PostgresClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresClient")
            .field("location", &self.config.location())
            .field("dataset", &self.config.dataset_name)
            .finish_non_exhaustive()
    }
}

impl PostgresClient {
    pub(crate) fn new(config: Arc<PostgresConfig>, client: Client) -> Self {
        PostgresClient {
            config,
            dialect: PostgresDialect,
            conn: Mutex::new(Some(client)),
            schema: SchemaSlot::default(),
        }
    }

    /// The connection, reopened if the server closed it (a restart, an idle timeout). A failure to
    /// reconnect is transient: the loader retries.
    async fn connection(&self, op: &str) -> Result<tokio::sync::MutexGuard<'_, Option<Client>>> {
        let mut guard = self.conn.lock().await;
        if guard.as_ref().is_none_or(Client::is_closed) {
            *guard = None;
            let client = open_connection(&self.config).await.map_err(|e| {
                let error = from_connect(e, &self.config).context(op);
                // A server restarting refuses connections for a moment: worth the loader's retry.
                let refused = error.config_key() == Some(crate::config::HOST_KEY);
                if error.kind() == destination::ErrorKind::Terminal || refused {
                    DestinationError::transient(DESTINATION_NAME, error.to_string())
                } else {
                    error
                }
            })?;
            *guard = Some(client);
        }
        Ok(guard)
    }

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

    /// Creates the dataset, the staging dataset and the bookkeeping table if missing. Schemas that
    /// exist are not created again, so a user without CREATE on the database can load into schemas
    /// made for it.
    async fn prepare_dataset(&self, c: &impl GenericClient, op: &str) -> Result<()> {
        let d = &self.dialect;
        for schema in [self.dataset(), self.staging()] {
            if query(c, &d.schema_exists_sql(schema), op).await?.rows.is_empty() {
                c.batch_execute(&d.create_dataset_sql(schema))
                    .await
                    .map_err(|e| from_create_schema(e, schema, &self.config, op))?;
            }
        }
        let create = bookkeeping::create_table_sql(d, self.staging()).map_err(|e| sql_error(e, op))?;
        exec(c, &create, op).await
    }

    async fn table_exists(&self, c: &impl GenericClient, table: &str, op: &str) -> Result<bool> {
        let sql = self.dialect.table_exists_sql(self.dataset(), table);
        Ok(!query(c, &sql, op).await?.rows.is_empty())
    }

    async fn storage_tables(&self, c: &impl GenericClient, op: &str) -> Result<StorageTables> {
        let sql = self.dialect.select_storage_columns_sql(self.dataset());
        let result = query(c, &sql, op).await?;
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

    async fn has_mark(
        &self,
        c: &impl GenericClient,
        load_id: &str,
        kind: MarkKind,
        name: &str,
        op: &str,
    ) -> Result<bool> {
        let sql = bookkeeping::select_mark_sql(&self.dialect, self.staging(), load_id, kind, name);
        Ok(!query(c, &sql, op).await?.rows.is_empty())
    }

    async fn mark(
        &self,
        c: &impl GenericClient,
        load_id: &str,
        kind: MarkKind,
        name: &str,
        op: &str,
    ) -> Result<()> {
        let sql = bookkeeping::insert_mark_sql(&self.dialect, self.staging(), load_id, kind, name);
        exec(c, &sql, op).await
    }

    async fn load_completed(&self, c: &impl GenericClient, load_id: &str, op: &str) -> Result<bool> {
        let sql = self.dialect.select_load_sql(self.dataset(), load_id);
        Ok(!query(c, &sql, op).await?.rows.is_empty())
    }

    async fn load_job_inner(&self, job: &LoadJob, op: &str) -> Result<JobReport> {
        if job.file_format != FileFormat::Parquet {
            return Err(terminal(
                op,
                format!(
                    "PostgreSQL loads Parquet jobs; got {}",
                    job.file_format.extension()
                ),
            ));
        }
        let schema = self.schema(op)?;
        let root = root_table(&schema, &job.table_name)
            .ok_or_else(|| terminal(op, format!("table {:?} is not in the schema", job.table_name)))?;
        let (file_schema, reader) = open_parquet(job, op).await?;
        let d = &self.dialect;

        let mut guard = self.connection(op).await?;
        let client = guard.as_mut().ok_or_else(|| poisoned(op))?;
        let tx = client.transaction().await.map_err(|e| from_pg(e, op))?;
        if self.load_completed(&tx, &job.load_id, op).await?
            || self
                .has_mark(&tx, &job.load_id, MarkKind::Job, &job.job_id, op)
                .await?
        {
            return Ok(JobReport {
                rows: Some(0),
                already_loaded: true,
            });
        }
        // Replace and merge chains are staged: the first job of a chain in this load (re)creates its
        // staging tables; complete_load moves the rows in, in the transaction that writes _dlt_loads.
        let staged = match job.write_disposition {
            WriteDisposition::Append => None,
            WriteDisposition::Replace => Some(MarkKind::Replace),
            WriteDisposition::Merge => Some(MarkKind::Merge),
        };
        let target = match staged {
            None => self.dataset(),
            Some(kind) => {
                if !self.has_mark(&tx, &job.load_id, kind, &root.name, op).await? {
                    let stage = bookkeeping::stage_chain_sql(
                        d,
                        self.staging(),
                        &schema,
                        &job.load_id,
                        kind,
                        &root.name,
                    )
                    .map_err(|e| sql_error(e, op))?;
                    for sql in &stage {
                        exec(&tx, sql, op).await?;
                    }
                }
                self.staging()
            }
        };
        let rows = copy_job(&tx, d, target, &job.table_name, file_schema, reader, op).await?;
        self.mark(&tx, &job.load_id, MarkKind::Job, &job.job_id, op)
            .await?;
        tx.commit().await.map_err(|e| from_pg(e, op))?;
        Ok(JobReport {
            rows: Some(rows),
            already_loaded: false,
        })
    }

    async fn complete_load_inner(
        &self,
        load_id: &str,
        schema_name: &str,
        hash: &str,
        op: &str,
    ) -> Result<()> {
        let schema = self.schema(op)?;
        let d = &self.dialect;
        let mut guard = self.connection(op).await?;
        let client = guard.as_mut().ok_or_else(|| poisoned(op))?;
        let tx = client.transaction().await.map_err(|e| from_pg(e, op))?;
        if self.load_completed(&tx, load_id, op).await? {
            return Ok(());
        }
        // Replace chains: the old rows are deleted and the staged rows inserted in this one
        // transaction, so readers see the old rows until the commit and the new ones after it (DELETE,
        // not TRUNCATE: TRUNCATE is not MVCC-safe and would show an empty table to snapshots taken
        // before it). Merge chains: dlt's delete-insert. Then _dlt_loads, the commit point.
        let staged = query(
            &tx,
            &bookkeeping::select_staged_sql(d, self.staging(), load_id),
            op,
        )
        .await?;
        let load = bookkeeping::CompleteLoad {
            dataset: self.dataset(),
            staging: self.staging(),
            load_id,
            schema: &schema,
            schema_name,
            schema_hash: hash,
            use_truncate: false,
        };
        let statements = bookkeeping::complete_load_sql(d, load, &staged).map_err(|e| sql_error(e, op))?;
        for sql in &statements {
            exec(&tx, sql, op).await?;
        }
        tx.commit().await.map_err(|e| from_pg(e, op))
    }

    async fn update_stored_schema_inner(&self, schema: &Schema, op: &str) -> Result<SchemaUpdate> {
        let schema_json = serde_json::to_string(schema)
            .map_err(|e| terminal(op, format!("cannot serialize the schema: {e}")))?;
        let mut guard = self.connection(op).await?;
        let client = guard.as_mut().ok_or_else(|| poisoned(op))?;
        let tx = client.transaction().await.map_err(|e| from_pg(e, op))?;
        self.prepare_dataset(&tx, op).await?;
        let existing = self.storage_tables(&tx, op).await?;
        let plan = plan_schema_update(&self.dialect, &CAPABILITIES, self.dataset(), schema, &existing)
            .map_err(|e| sql_error(e, op))?;
        for sql in &plan.statements {
            exec(&tx, sql, op).await?;
        }
        let mut update = plan.update;
        let by_hash = self
            .dialect
            .select_stored_schema_sql(self.dataset(), None, Some(&schema.version_hash));
        if query(&tx, &by_hash, op).await?.rows.is_empty() {
            exec(
                &tx,
                &self
                    .dialect
                    .insert_version_sql(self.dataset(), schema, &schema_json),
                op,
            )
            .await?;
            update.stored_version = true;
        }
        tx.commit().await.map_err(|e| from_pg(e, op))?;
        drop(guard);
        self.set_schema(schema.clone(), op)?;
        Ok(update)
    }
}

fn poisoned(what: &str) -> DestinationError {
    DestinationError::terminal(
        DESTINATION_NAME,
        format!("{what}: a previous call panicked while holding the client"),
    )
}

/// Opens the job's Parquet file on the blocking pool: its Arrow schema and a batch reader.
async fn open_parquet(job: &LoadJob, op: &str) -> Result<(SchemaRef, ParquetRecordBatchReader)> {
    let path = job.file_path.clone();
    let opened = tokio::task::spawn_blocking(move || {
        let file = File::open(&path).map_err(|e| format!("cannot open job file {}: {e}", path.display()))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| format!("job file {} is not Parquet: {e}", path.display()))?;
        let schema = builder.schema().clone();
        let reader = builder
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|e| format!("job file {}: {e}", path.display()))?;
        Ok::<_, String>((schema, reader))
    })
    .await
    .map_err(|e| terminal(op, format!("the Parquet reader did not finish: {e}")))?;
    opened.map_err(|e| terminal(op, e))
}

/// Streams the job's batches through `COPY ... FROM STDIN (FORMAT binary)` into `dataset.table`,
/// decoding Parquet on the blocking pool while the previous batch is sent. Returns the row count.
async fn copy_job(
    tx: &tokio_postgres::Transaction<'_>,
    d: &PostgresDialect,
    dataset: &str,
    table: &str,
    file_schema: SchemaRef,
    reader: ParquetRecordBatchReader,
    op: &str,
) -> Result<u64> {
    let names: Vec<&str> = file_schema.fields().iter().map(|f| f.name().as_str()).collect();
    if names.is_empty() {
        return Ok(0);
    }
    let statement = tx
        .prepare(&d.column_types_sql(dataset, table, &names))
        .await
        .map_err(|e| from_pg(e, op))?;
    let types: Vec<Type> = statement.columns().iter().map(|c| c.type_().clone()).collect();
    let conversions = file_schema
        .fields()
        .iter()
        .zip(&types)
        .map(|(field, ty)| encode::conversion(field, ty))
        .collect::<Result<Vec<_>, String>>()
        .map_err(|e| terminal(op, format!("table {table:?}: {e}")))?;

    let (sender, mut batches) = tokio::sync::mpsc::channel::<Result<RecordBatch, String>>(2);
    let decoder = tokio::task::spawn_blocking(move || {
        for batch in reader {
            if sender.blocking_send(batch.map_err(|e| e.to_string())).is_err() {
                break;
            }
        }
    });

    let sink = tx
        .copy_in(&d.copy_in_sql(dataset, table, &names))
        .await
        .map_err(|e| from_pg(e, op))?;
    let writer = BinaryCopyInWriter::new(sink, &types);
    let mut writer = std::pin::pin!(writer);
    while let Some(batch) = batches.recv().await {
        let batch = batch.map_err(|e| terminal(op, format!("reading the job file: {e}")))?;
        let columns = encode::columns(&batch, &conversions).map_err(|e| terminal(op, e))?;
        for row in 0..batch.num_rows() {
            let cells: Vec<encode::Cell<'_>> = columns.iter().map(|c| c.cell(row)).collect();
            let values: Vec<&(dyn ToSql + Sync)> = cells.iter().map(|c| c as &(dyn ToSql + Sync)).collect();
            writer.as_mut().write(&values).await.map_err(|e| from_pg(e, op))?;
        }
    }
    let rows = writer.as_mut().finish().await.map_err(|e| from_pg(e, op))?;
    decoder
        .await
        .map_err(|e| terminal(op, format!("the Parquet reader did not finish: {e}")))?;
    Ok(rows)
}

fn sql_error(error: destination::SqlError, op: &str) -> DestinationError {
    DestinationError::from_sql(DESTINATION_NAME, error).context(op)
}

async fn exec(c: &impl GenericClient, sql: &str, op: &str) -> Result<()> {
    tracing::trace!(target: "postgres", %sql, "execute");
    c.batch_execute(sql).await.map_err(|e| from_pg(e, op))
}

/// Runs one statement and returns its rows as JSON: booleans and numbers (integers, floats) as such,
/// everything else as PostgreSQL's text form (timestamps in UTC, `numeric` as text, `bytea` as
/// `\x` hex). The statement is prepared first for its column types, then run with the simple
/// protocol, which returns every value as text.
async fn query(c: &impl GenericClient, sql: &str, op: &str) -> Result<QueryResult> {
    tracing::trace!(target: "postgres", %sql, "query");
    let statement = c.prepare(sql).await.map_err(|e| from_pg(e, op))?;
    let columns: Vec<String> = statement.columns().iter().map(|c| c.name().to_string()).collect();
    let types: Vec<Type> = statement.columns().iter().map(|c| c.type_().clone()).collect();
    let messages = c.simple_query(sql).await.map_err(|e| from_pg(e, op))?;
    let mut rows = Vec::new();
    for message in messages {
        let SimpleQueryMessage::Row(row) = message else {
            continue;
        };
        let values = (0..row.len())
            .map(|i| match row.get(i) {
                None => Value::Null,
                Some(v) => typed(v, types.get(i)),
            })
            .collect();
        rows.push(values);
    }
    Ok(QueryResult { columns, rows })
}

/// A text value as JSON by its column type.
fn typed(value: &str, ty: Option<&Type>) -> Value {
    let Some(ty) = ty else {
        return Value::String(value.to_string());
    };
    if *ty == Type::BOOL {
        return Value::Bool(value == "t");
    }
    if [Type::INT2, Type::INT4, Type::INT8, Type::OID].contains(ty)
        && let Ok(n) = value.parse::<i64>()
    {
        return Value::from(n);
    }
    if [Type::FLOAT4, Type::FLOAT8].contains(ty)
        && let Some(n) = value.parse::<f64>().ok().and_then(serde_json::Number::from_f64)
    {
        return Value::Number(n);
    }
    Value::String(value.to_string())
}

#[async_trait]
impl LoadClient for PostgresClient {
    fn destination_name(&self) -> &str {
        DESTINATION_NAME
    }

    async fn ensure_dataset(&self) -> Result<()> {
        let op = "ensure_dataset";
        let mut guard = self.connection(op).await?;
        let client = guard.as_mut().ok_or_else(|| poisoned(op))?;
        let tx = client.transaction().await.map_err(|e| from_pg(e, op))?;
        self.prepare_dataset(&tx, op).await?;
        tx.commit().await.map_err(|e| from_pg(e, op))
    }

    async fn get_stored_schema(&self, schema_name: &str) -> Result<Option<StoredSchema>> {
        let op = "get_stored_schema";
        let guard = self.connection(op).await?;
        let client = guard.as_ref().ok_or_else(|| poisoned(op))?;
        if !self.table_exists(client, VERSION_TABLE, op).await? {
            return Ok(None);
        }
        let sql = self
            .dialect
            .select_stored_schema_sql(self.dataset(), Some(schema_name), None);
        Ok(StoredSchema::from_first_row(&query(client, &sql, op).await?))
    }

    async fn update_stored_schema(&self, schema: &Schema) -> Result<SchemaUpdate> {
        self.update_stored_schema_inner(schema, "update_stored_schema")
            .await
    }

    async fn load_job(&self, job: &LoadJob) -> Result<JobReport> {
        let op = format!("load_job {} ({})", job.job_id, job.file_path.display());
        self.load_job_inner(job, &op).await
    }

    async fn complete_load(&self, load_id: &str, schema_name: &str, schema_hash: &str) -> Result<()> {
        let op = format!("complete_load {load_id}");
        self.complete_load_inner(load_id, schema_name, schema_hash, &op)
            .await
    }

    async fn get_stored_state(&self, pipeline_name: &str) -> Result<Option<StoredState>> {
        let op = "get_stored_state";
        let guard = self.connection(op).await?;
        let client = guard.as_ref().ok_or_else(|| poisoned(op))?;
        for table in [PIPELINE_STATE_TABLE, LOADS_TABLE] {
            if !self.table_exists(client, table, op).await? {
                return Ok(None);
            }
        }
        let sql = self
            .dialect
            .select_stored_state_sql(self.dataset(), pipeline_name);
        let result = query(client, &sql, op).await?;
        Ok(StoredState::from_first_row(&result))
    }

    async fn get_storage_tables(&self) -> Result<StorageTables> {
        let op = "get_storage_tables";
        let guard = self.connection(op).await?;
        let client = guard.as_ref().ok_or_else(|| poisoned(op))?;
        self.storage_tables(client, op).await
    }

    async fn drop_tables(&self, tables: &[String]) -> Result<()> {
        let op = "drop_tables";
        let mut guard = self.connection(op).await?;
        let client = guard.as_mut().ok_or_else(|| poisoned(op))?;
        let tx = client.transaction().await.map_err(|e| from_pg(e, op))?;
        for table in tables {
            exec(&tx, &self.dialect.drop_table_sql(self.dataset(), table), op).await?;
            exec(&tx, &self.dialect.drop_table_sql(self.staging(), table), op).await?;
        }
        tx.commit().await.map_err(|e| from_pg(e, op))
    }

    async fn drop_dataset(&self) -> Result<()> {
        let op = "drop_dataset";
        let mut guard = self.connection(op).await?;
        let client = guard.as_mut().ok_or_else(|| poisoned(op))?;
        let tx = client.transaction().await.map_err(|e| from_pg(e, op))?;
        exec(&tx, &self.dialect.drop_dataset_sql(self.dataset()), op).await?;
        exec(&tx, &self.dialect.drop_dataset_sql(self.staging()), op).await?;
        tx.commit().await.map_err(|e| from_pg(e, op))
    }

    async fn query(&self, sql: &str) -> Result<QueryResult> {
        let op = "query";
        let guard = self.connection(op).await?;
        let client = guard.as_ref().ok_or_else(|| poisoned(op))?;
        query(client, sql, op).await
    }
}
