//! The conformance suite: scenarios every destination runs against a fresh, empty dataset, so all
//! destinations keep the same contracts (round trips of every dlt type, schema evolution, nested tables,
//! exactly-once jobs, write dispositions, dlt's own tables, hostile identifiers, resuming after a crash).
//!
//! Each scenario is an `async fn(&dyn Destination)` that panics with a message when the destination
//! breaks a contract; it writes its own small Parquet job files (as normalize would) and skips only what
//! the destination's [`Capabilities`] rule out. [`conformance_tests!`](crate::conformance_tests)
//! generates one `#[tokio::test]` per scenario from a fixture factory:
//!
//! ```ignore
//! struct Fixture { _dir: tempfile::TempDir, destination: MyDestination }
//! impl AsRef<dyn destination::Destination> for Fixture { fn as_ref(&self) -> &(dyn Destination + 'static) { &self.destination } }
//! async fn fixture() -> Fixture { /* a fresh dataset */ }
//! destination::conformance_tests!(fixture);
//! ```
//!
//! Values are compared through [`LoadClient::query`] with portable SQL; where destinations render a
//! type differently (timestamps, decimals), the check looks for the essential part of the value.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array, StringArray,
    Time64MicrosecondArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{Field, Schema as ArrowSchema};
use arrow::record_batch::RecordBatch;
use package::schema::{Column, DataType, Schema, Table, WriteDisposition};
use serde_json::{Value, json};

use crate::capabilities::{Capabilities, MergeStrategy, ReplaceStrategy};
use crate::client::{Destination, LoadClient, LoadJob};
use crate::dlt_tables;
use crate::error::ErrorKind;

/// The schema name every scenario uses.
pub const SCHEMA_NAME: &str = "conformance";

// ---------------------------------------------------------------------------------------------------
// Building schemas and job files

/// A column of `data_type`.
pub fn column(name: &str, data_type: DataType, nullable: bool) -> Column {
    Column {
        name: name.to_string(),
        data_type,
        nullable,
        ..Column::default()
    }
}

/// dlt's columns of a root table: `_dlt_load_id` and `_dlt_id` (row key), both NOT NULL.
pub fn root_dlt_columns() -> Vec<Column> {
    let mut id = column(dlt_tables::ROW_KEY, DataType::Text, false);
    id.row_key = true;
    id.unique = true;
    vec![column(dlt_tables::LOAD_ID, DataType::Text, false), id]
}

/// dlt's columns of a nested table: `_dlt_parent_id`, `_dlt_list_idx`, `_dlt_id`, and with `root_key`
/// (merge tables) `_dlt_root_id`.
pub fn nested_dlt_columns(root_key: bool) -> Vec<Column> {
    let mut parent = column("_dlt_parent_id", DataType::Text, false);
    parent.parent_key = true;
    let mut id = column(dlt_tables::ROW_KEY, DataType::Text, false);
    id.row_key = true;
    id.unique = true;
    let mut columns = vec![parent, column("_dlt_list_idx", DataType::Bigint, false), id];
    if root_key {
        let mut root = column(dlt_tables::ROOT_KEY, DataType::Text, false);
        root.root_key = true;
        columns.push(root);
    }
    columns
}

/// A table.
pub fn table(
    name: &str,
    columns: Vec<Column>,
    disposition: Option<WriteDisposition>,
    parent: Option<&str>,
) -> Table {
    Table {
        name: name.to_string(),
        columns,
        write_disposition: disposition,
        resource: parent.is_none().then(|| name.to_string()),
        parent: parent.map(str::to_string),
        x_normalizer: serde_json::Map::new(),
    }
}

/// A schema named [`SCHEMA_NAME`] with `tables`, at `version` with hash `hash`.
pub fn schema(version: u64, hash: &str, tables: Vec<Table>) -> Schema {
    Schema {
        version,
        version_hash: hash.to_string(),
        engine_version: package::schema::SCHEMA_ENGINE_VERSION,
        name: SCHEMA_NAME.to_string(),
        tables,
        settings: json!({}),
        normalizers: json!({"names": "snake_case"}),
        previous_hashes: Vec::new(),
    }
}

/// Parquet columns for a job file, built by name.
#[derive(Debug, Default)]
pub struct Rows {
    fields: Vec<Field>,
    arrays: Vec<ArrayRef>,
}

impl Rows {
    /// No columns yet.
    pub fn new() -> Self {
        Rows::default()
    }

    fn push(mut self, name: &str, array: ArrayRef) -> Self {
        let nullable = array.null_count() > 0 || !name.starts_with("_dlt");
        self.fields
            .push(Field::new(name, array.data_type().clone(), nullable));
        self.arrays.push(array);
        self
    }

    /// A `text` (or `json`) column.
    pub fn text(self, name: &str, values: &[Option<&str>]) -> Self {
        self.push(name, Arc::new(StringArray::from(values.to_vec())))
    }

    /// A non-null `text` column.
    pub fn texts(self, name: &str, values: &[&str]) -> Self {
        self.push(name, Arc::new(StringArray::from(values.to_vec())))
    }

    /// A `bigint` column.
    pub fn bigint(self, name: &str, values: &[Option<i64>]) -> Self {
        self.push(name, Arc::new(Int64Array::from(values.to_vec())))
    }

    /// A `double` column.
    pub fn double(self, name: &str, values: &[Option<f64>]) -> Self {
        self.push(name, Arc::new(Float64Array::from(values.to_vec())))
    }

    /// A `bool` column.
    pub fn boolean(self, name: &str, values: &[Option<bool>]) -> Self {
        self.push(name, Arc::new(BooleanArray::from(values.to_vec())))
    }

    /// A `timestamp` column: microseconds since the epoch, UTC (dlt's `timestamp[us, tz=UTC]`).
    pub fn timestamp(self, name: &str, values: &[Option<i64>]) -> Self {
        self.push(
            name,
            Arc::new(TimestampMicrosecondArray::from(values.to_vec()).with_timezone("UTC")),
        )
    }

    /// A `date` column: days since the epoch.
    pub fn date(self, name: &str, values: &[Option<i32>]) -> Self {
        self.push(name, Arc::new(Date32Array::from(values.to_vec())))
    }

    /// A `time` column: microseconds since midnight.
    pub fn time(self, name: &str, values: &[Option<i64>]) -> Self {
        self.push(name, Arc::new(Time64MicrosecondArray::from(values.to_vec())))
    }

    /// A `decimal` (or `wei`) column of `precision` and `scale`, from unscaled integers.
    pub fn decimal(self, name: &str, values: &[Option<i128>], precision: u8, scale: i8) -> Self {
        let array = Decimal128Array::from(values.to_vec()).with_precision_and_scale(precision, scale);
        let array = array.unwrap_or_else(|e| panic!("decimal({precision},{scale}): {e}"));
        self.push(name, Arc::new(array))
    }

    /// A `binary` column.
    pub fn binary(self, name: &str, values: &[Option<&[u8]>]) -> Self {
        self.push(name, Arc::new(BinaryArray::from(values.to_vec())))
    }

    /// The record batch.
    pub fn batch(self) -> RecordBatch {
        let schema = Arc::new(ArrowSchema::new(self.fields));
        RecordBatch::try_new(schema, self.arrays).unwrap_or_else(|e| panic!("record batch: {e}"))
    }
}

/// Writes `rows` as the Parquet job `<table>.<file_id>.<retry>.parquet` in `dir`.
pub fn write_job(dir: &Path, table: &str, file_id: &str, retry: u32, rows: Rows) -> PathBuf {
    let path = dir.join(format!("{table}.{file_id}.{retry}.parquet"));
    let batch = rows.batch();
    let file = std::fs::File::create(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None)
        .unwrap_or_else(|e| panic!("parquet writer: {e}"));
    writer
        .write(&batch)
        .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    writer
        .close()
        .unwrap_or_else(|e| panic!("close {}: {e}", path.display()));
    path
}

// ---------------------------------------------------------------------------------------------------
// Driving a destination

/// A connected client with a scratch directory for job files.
#[derive(Debug)]
pub struct Session {
    /// The client.
    pub client: Box<dyn LoadClient>,
    /// The destination's capabilities.
    pub caps: Capabilities,
    dir: tempfile::TempDir,
}

impl Session {
    /// Connects and ensures the dataset.
    pub async fn start(destination: &dyn Destination) -> Session {
        let client = destination
            .connect()
            .await
            .unwrap_or_else(|e| panic!("connect: {e}"));
        client
            .ensure_dataset()
            .await
            .unwrap_or_else(|e| panic!("ensure_dataset: {e}"));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        Session {
            client,
            caps: destination.capabilities().clone(),
            dir,
        }
    }

    /// The scratch directory for job files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Applies `schema`.
    pub async fn update(&self, schema: &Schema) -> crate::SchemaUpdate {
        self.client
            .update_stored_schema(schema)
            .await
            .unwrap_or_else(|e| panic!("update_stored_schema: {e}"))
    }

    /// Writes and loads one job, returning the job.
    pub async fn load(
        &self,
        schema: &Schema,
        load_id: &str,
        table: &str,
        file_id: &str,
        rows: Rows,
    ) -> LoadJob {
        let path = write_job(self.dir(), table, file_id, 0, rows);
        let job = LoadJob::from_file(schema, load_id, &path).unwrap_or_else(|e| panic!("job {table}: {e}"));
        let report = self
            .client
            .load_job(&job)
            .await
            .unwrap_or_else(|e| panic!("load_job {}: {e}", job.job_id));
        assert!(
            !report.already_loaded,
            "job {} was new but reported as already loaded",
            job.job_id
        );
        job
    }

    /// Completes load `load_id` of `schema`.
    pub async fn complete(&self, schema: &Schema, load_id: &str) {
        self.client
            .complete_load(load_id, &schema.name, &schema.version_hash)
            .await
            .unwrap_or_else(|e| panic!("complete_load {load_id}: {e}"));
    }

    /// Runs `sql`, panicking on errors.
    pub async fn query(&self, sql: &str) -> crate::QueryResult {
        self.client
            .query(sql)
            .await
            .unwrap_or_else(|e| panic!("query {sql}: {e}"))
    }

    /// `SELECT count(*)` of `dataset.table` (the caller passes the quoted, qualified name).
    pub async fn count(&self, qualified_table: &str) -> i64 {
        let result = self
            .query(&format!("SELECT count(*) AS n FROM {qualified_table}"))
            .await;
        result
            .scalar()
            .and_then(Value::as_i64)
            .unwrap_or_else(|| panic!("count of {qualified_table}: {result:?}"))
    }

    /// Drops the dataset if the destination can (scenarios clean up after themselves).
    pub async fn finish(self) {
        if let Err(e) = self.client.drop_dataset().await
            && e.kind() != ErrorKind::Unsupported
        {
            panic!("drop_dataset: {e}");
        }
    }
}

/// The qualified name of `table` in the dataset, for the SQL of checks: `"dataset"."table"` quoted
/// ANSI-style. Destinations whose query surface needs another form pass their own in
/// [`Names::qualify`].
#[derive(Debug, Clone)]
pub struct Names {
    /// The dataset.
    pub dataset: String,
}

impl Names {
    /// `"dataset"."table"` with embedded quotes doubled.
    pub fn qualify(&self, table: &str) -> String {
        let q = |s: &str| crate::dialect::quote_identifier_with(s, '"');
        format!("{}.{}", q(&self.dataset), q(table))
    }

    /// `"name"` with embedded quotes doubled.
    pub fn quote(&self, name: &str) -> String {
        crate::dialect::quote_identifier_with(name, '"')
    }
}

fn ids(result: &crate::QueryResult) -> Vec<String> {
    result
        .rows
        .iter()
        .map(|r| r.iter().map(render).collect::<Vec<_>>().join("|"))
        .collect()
}

fn render(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "NULL".to_string(),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------------
// Scenarios

fn users_table(disposition: WriteDisposition) -> Table {
    let mut id = column("id", DataType::Bigint, false);
    id.primary_key = disposition == WriteDisposition::Merge;
    let mut columns = vec![id, column("name", DataType::Text, true)];
    columns.extend(root_dlt_columns());
    table("users", columns, Some(disposition), None)
}

fn roles_table(root_key: bool) -> Table {
    let mut columns = vec![column("value", DataType::Text, true)];
    columns.extend(nested_dlt_columns(root_key));
    table("users__roles", columns, None, Some("users"))
}

fn users_rows(load_id: &str, ids: &[i64], names: &[&str], dlt_ids: &[&str]) -> Rows {
    let load_ids: Vec<&str> = ids.iter().map(|_| load_id).collect();
    Rows::new()
        .bigint("id", &ids.iter().map(|i| Some(*i)).collect::<Vec<_>>())
        .text("name", &names.iter().map(|n| Some(*n)).collect::<Vec<_>>())
        .texts("_dlt_load_id", &load_ids)
        .texts("_dlt_id", dlt_ids)
}

/// (value, parent `_dlt_id`, list index, own `_dlt_id`), with the root id when `root_key`.
fn roles_rows(roles: &[(&str, &str, i64, &str)], root_key: bool) -> Rows {
    let rows = Rows::new()
        .text("value", &roles.iter().map(|r| Some(r.0)).collect::<Vec<_>>())
        .texts("_dlt_parent_id", &roles.iter().map(|r| r.1).collect::<Vec<_>>())
        .bigint(
            "_dlt_list_idx",
            &roles.iter().map(|r| Some(r.2)).collect::<Vec<_>>(),
        )
        .texts("_dlt_id", &roles.iter().map(|r| r.3).collect::<Vec<_>>());
    if root_key {
        rows.texts("_dlt_root_id", &roles.iter().map(|r| r.1).collect::<Vec<_>>())
    } else {
        rows
    }
}

/// Every dlt data type survives a load: a table with one column per type gets two rows (one all-NULL
/// apart from the keys) and the values read back. dlt's columns are NOT NULL, data columns nullable.
pub async fn all_types_round_trip(destination: &dyn Destination, names: &Names) {
    let s = Session::start(destination).await;
    let mut columns = vec![
        column("col_text", DataType::Text, true),
        column("col_bigint", DataType::Bigint, true),
        column("col_double", DataType::Double, true),
        column("col_bool", DataType::Bool, true),
        column("col_timestamp", DataType::Timestamp, true),
        column("col_date", DataType::Date, true),
        column("col_time", DataType::Time, true),
        column("col_decimal", DataType::Decimal, true),
        column("col_wei", DataType::Wei, true),
        column("col_json", DataType::Json, true),
        column("col_binary", DataType::Binary, true),
    ];
    columns.extend(root_dlt_columns());
    let sc = schema(
        1,
        "types-v1",
        vec![table("everything", columns, Some(WriteDisposition::Append), None)],
    );
    let update = s.update(&sc).await;
    assert!(
        update.new_tables.iter().any(|t| t == "everything"),
        "table not created: {update:?}"
    );
    assert!(
        update.stored_version,
        "first schema must be stored in _dlt_version"
    );

    // 2024-05-06T12:34:56.789Z; the date 2024-05-06 (day 19849); the time 12:34:56.5.
    let ts = 1_714_998_896_789_000i64;
    let rows = Rows::new()
        .text("col_text", &[Some("héllo 'quoted' \"double\" \\ ✓"), None])
        .bigint("col_bigint", &[Some(-9_007_199_254_740_993), None])
        .double("col_double", &[Some(1.5), None])
        .boolean("col_bool", &[Some(true), None])
        .timestamp("col_timestamp", &[Some(ts), None])
        .date("col_date", &[Some(19_849), None])
        .time("col_time", &[Some(45_296_500_000), None])
        .decimal("col_decimal", &[Some(12_345_678_900), None], 38, 9)
        .decimal(
            "col_wei",
            &[Some(123_456_789_012_345_678_901_234_567_890), None],
            38,
            0,
        )
        .text("col_json", &[Some(r#"{"a": [1, 2], "b": null}"#), None])
        .binary("col_binary", &[Some(&[0u8, 1, 254, 255][..]), None])
        .texts("_dlt_load_id", &["1700000000.1", "1700000000.1"])
        .texts("_dlt_id", &["row-1", "row-2"]);
    s.load(&sc, "1700000000.1", "everything", "f0", rows).await;
    s.complete(&sc, "1700000000.1").await;

    let t = names.qualify("everything");
    assert_eq!(s.count(&t).await, 2);
    let r = s
        .query(&format!(
            "SELECT * FROM {t} WHERE {} = 'row-1'",
            names.quote("_dlt_id")
        ))
        .await;
    let get = |c: &str| {
        r.get(0, c)
            .cloned()
            .unwrap_or_else(|| panic!("column {c} missing: {:?}", r.columns))
    };
    assert_eq!(get("col_text"), json!("héllo 'quoted' \"double\" \\ ✓"));
    assert_eq!(get("col_bigint"), json!(-9_007_199_254_740_993i64));
    assert_eq!(get("col_double"), json!(1.5));
    assert_eq!(get("col_bool"), json!(true));
    let contains = |c: &str, parts: &[&str]| {
        let v = render(&get(c));
        for p in parts {
            assert!(v.contains(p), "{c} = {v:?} lacks {p:?}");
        }
    };
    contains("col_timestamp", &["2024-05-06", "12:34:56.789"]);
    contains("col_date", &["2024-05-06"]);
    contains("col_time", &["12:34:56.5"]);
    contains("col_decimal", &["12.3456789"]);
    contains("col_wei", &["123456789012345678901234567890"]);
    contains("col_json", &["\"a\"", "[1", "2]"]);
    let binary = render(&get("col_binary")).to_lowercase();
    assert!(
        binary.contains("0001feff")
            || binary.contains("00 01 fe ff")
            || binary.contains("\\x00\\x01\\xfe\\xff"),
        "col_binary = {binary:?}"
    );
    let nulls = s
        .query(&format!(
            "SELECT * FROM {t} WHERE {} = 'row-2'",
            names.quote("_dlt_id")
        ))
        .await;
    for c in nulls.columns.iter().filter(|c| c.starts_with("col_")) {
        assert_eq!(nulls.get(0, c), Some(&Value::Null), "{c} of the NULL row");
    }

    let storage = s
        .client
        .get_storage_tables()
        .await
        .unwrap_or_else(|e| panic!("get_storage_tables: {e}"));
    let stored = storage
        .get("everything")
        .unwrap_or_else(|| panic!("everything not in storage: {storage:?}"));
    let names_in_order: Vec<&str> = stored.iter().map(|c| c.name.as_str()).collect();
    let expected: Vec<&str> = sc.tables[0].columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names_in_order, expected, "column order follows the schema");
    for c in stored {
        assert_eq!(
            c.nullable,
            !c.name.starts_with("_dlt"),
            "nullability of {}",
            c.name
        );
    }
    s.finish().await;
}

/// A new column in the schema is added to the existing table (nullable, old rows NULL); nothing is
/// dropped; the new schema hash gets its own `_dlt_version` row and applying it again changes nothing.
pub async fn schema_evolution_adds_column(destination: &dyn Destination, names: &Names) {
    let s = Session::start(destination).await;
    let v1 = schema(1, "evo-v1", vec![users_table(WriteDisposition::Append)]);
    s.update(&v1).await;
    s.load(
        &v1,
        "1.1",
        "users",
        "a",
        users_rows("1.1", &[1], &["ann"], &["u1"]),
    )
    .await;
    s.complete(&v1, "1.1").await;

    let mut users = users_table(WriteDisposition::Append);
    users.columns.push(column("email", DataType::Text, true));
    users.columns.push(column("logins", DataType::Bigint, false));
    let v2 = schema(2, "evo-v2", vec![users]);
    let update = s.update(&v2).await;
    assert!(update.new_tables.is_empty(), "no table is new: {update:?}");
    assert_eq!(
        update.new_columns,
        vec![
            ("users".to_string(), "email".to_string()),
            ("users".to_string(), "logins".to_string())
        ]
    );
    assert!(update.stored_version);
    let again = s.update(&v2).await;
    assert!(
        again.is_empty(),
        "re-applying a schema changes nothing: {again:?}"
    );

    let rows = users_rows("2.1", &[2], &["bob"], &["u2"])
        .text("email", &[Some("bob@example.com")])
        .bigint("logins", &[Some(3)]);
    s.load(&v2, "2.1", "users", "b", rows).await;
    s.complete(&v2, "2.1").await;

    let t = names.qualify("users");
    let r = s
        .query(&format!("SELECT id, email, logins FROM {t} ORDER BY id"))
        .await;
    assert_eq!(ids(&r), ["1|NULL|NULL", "2|bob@example.com|3"]);
    let storage = s
        .client
        .get_storage_tables()
        .await
        .unwrap_or_else(|e| panic!("get_storage_tables: {e}"));
    let users = &storage["users"];
    assert!(
        users.iter().any(|c| c.name == "logins" && c.nullable),
        "added columns accept NULL: {users:?}"
    );
    let versions = s.count(&names.qualify(dlt_tables::VERSION_TABLE)).await;
    assert_eq!(versions, 2, "one _dlt_version row per schema hash");
    let stored = s
        .client
        .get_stored_schema(SCHEMA_NAME)
        .await
        .unwrap_or_else(|e| panic!("get_stored_schema: {e}"));
    let stored = stored.unwrap_or_else(|| panic!("no stored schema"));
    assert_eq!((stored.version, stored.version_hash.as_str()), (2, "evo-v2"));
    s.finish().await;
}

/// Nested rows load into their own table and join to their parents through `_dlt_parent_id`.
pub async fn child_table_linked(destination: &dyn Destination, names: &Names) {
    let s = Session::start(destination).await;
    let sc = schema(
        1,
        "child-v1",
        vec![users_table(WriteDisposition::Append), roles_table(false)],
    );
    let update = s.update(&sc).await;
    assert!(update.new_tables.contains(&"users__roles".to_string()));
    s.load(
        &sc,
        "1.1",
        "users",
        "a",
        users_rows("1.1", &[1, 2], &["ann", "bob"], &["u1", "u2"]),
    )
    .await;
    let roles = roles_rows(
        &[
            ("admin", "u1", 0, "r1"),
            ("dev", "u1", 1, "r2"),
            ("dev", "u2", 0, "r3"),
        ],
        false,
    );
    s.load(&sc, "1.1", "users__roles", "b", roles).await;
    s.complete(&sc, "1.1").await;

    let r = s
        .query(&format!(
            "SELECT u.name, r.value FROM {} AS u JOIN {} AS r ON r._dlt_parent_id = u._dlt_id ORDER BY u.name, r._dlt_list_idx",
            names.qualify("users"),
            names.qualify("users__roles")
        ))
        .await;
    assert_eq!(ids(&r), ["ann|admin", "ann|dev", "bob|dev"]);
    s.finish().await;
}

/// Loading the same job twice (a retry after a crash, even from a new client) loads it once; so does
/// loading a job of a load that already completed.
pub async fn job_twice_no_duplicates(destination: &dyn Destination, names: &Names) {
    let s = Session::start(destination).await;
    let sc = schema(
        1,
        "twice-v1",
        vec![users_table(WriteDisposition::Append), roles_table(false)],
    );
    s.update(&sc).await;
    let users = s
        .load(
            &sc,
            "1.1",
            "users",
            "a",
            users_rows("1.1", &[1, 2], &["ann", "bob"], &["u1", "u2"]),
        )
        .await;
    let roles = s
        .load(
            &sc,
            "1.1",
            "users__roles",
            "b",
            roles_rows(&[("admin", "u1", 0, "r1")], false),
        )
        .await;

    // The loader crashed before recording the jobs: a new client retries them (retry count 1).
    let retry = Session::start(destination).await;
    retry.update(&sc).await;
    for job in [&users, &roles] {
        let mut again = job.clone();
        again.file_path =
            job.file_path
                .with_file_name(job.file_path.file_name().map_or_else(String::new, |n| {
                    n.to_string_lossy().replace(".0.parquet", ".1.parquet")
                }));
        std::fs::copy(&job.file_path, &again.file_path).unwrap_or_else(|e| panic!("copy job: {e}"));
        let report = retry
            .client
            .load_job(&again)
            .await
            .unwrap_or_else(|e| panic!("retry {}: {e}", job.job_id));
        assert!(
            report.already_loaded,
            "retried job {} must be skipped: {report:?}",
            job.job_id
        );
    }
    retry.complete(&sc, "1.1").await;
    retry.complete(&sc, "1.1").await;
    let report = retry
        .client
        .load_job(&users)
        .await
        .unwrap_or_else(|e| panic!("late retry: {e}"));
    assert!(report.already_loaded, "a job of a completed load must be skipped");

    assert_eq!(s.count(&names.qualify("users")).await, 2);
    assert_eq!(s.count(&names.qualify("users__roles")).await, 1);
    assert_eq!(
        s.count(&names.qualify(dlt_tables::LOADS_TABLE)).await,
        1,
        "complete_load is idempotent"
    );
    retry.finish().await;
}

/// `append` adds: the same rows loaded by two loads are there twice.
pub async fn append_doubles(destination: &dyn Destination, names: &Names) {
    let s = Session::start(destination).await;
    let sc = schema(1, "append-v1", vec![users_table(WriteDisposition::Append)]);
    s.update(&sc).await;
    for load in ["1.1", "2.1"] {
        s.load(
            &sc,
            load,
            "users",
            "a",
            users_rows(load, &[1, 2, 3], &["a", "b", "c"], &["x1", "x2", "x3"]),
        )
        .await;
        s.complete(&sc, load).await;
    }
    assert_eq!(s.count(&names.qualify("users")).await, 6);
    s.finish().await;
}

/// `replace` keeps only the last load's rows, in the root and nested tables, however many jobs the
/// load has; a job retried mid-load (after a crash) neither empties the table again nor duplicates.
pub async fn replace_twice_same_count(destination: &dyn Destination, names: &Names) {
    let s = Session::start(destination).await;
    let sc = schema(
        1,
        "replace-v1",
        vec![users_table(WriteDisposition::Replace), roles_table(false)],
    );
    s.update(&sc).await;
    for load in ["1.1", "2.1"] {
        s.load(
            &sc,
            load,
            "users",
            "a",
            users_rows(load, &[1, 2], &["a", "b"], &["x1", "x2"]),
        )
        .await;
        s.load(&sc, load, "users", "b", users_rows(load, &[3], &["c"], &["x3"]))
            .await;
        s.load(
            &sc,
            load,
            "users__roles",
            "c",
            roles_rows(&[("admin", "x1", 0, "r1")], false),
        )
        .await;
        s.complete(&sc, load).await;
        assert_eq!(s.count(&names.qualify("users")).await, 3, "after load {load}");
        assert_eq!(
            s.count(&names.qualify("users__roles")).await,
            1,
            "after load {load}"
        );
    }

    // A third load whose first job is retried by a new client after a crash.
    let first = s
        .load(&sc, "3.1", "users", "a", users_rows("3.1", &[7], &["g"], &["x7"]))
        .await;
    let retry = Session::start(destination).await;
    retry.update(&sc).await;
    let report = retry
        .client
        .load_job(&first)
        .await
        .unwrap_or_else(|e| panic!("retry: {e}"));
    assert!(report.already_loaded);
    retry
        .load(&sc, "3.1", "users", "b", users_rows("3.1", &[8], &["h"], &["x8"]))
        .await;
    retry.complete(&sc, "3.1").await;
    let r = s
        .query(&format!("SELECT id FROM {} ORDER BY id", names.qualify("users")))
        .await;
    assert_eq!(ids(&r), ["7", "8"]);
    assert_eq!(
        s.count(&names.qualify("users__roles")).await,
        0,
        "nested rows of the old load are gone"
    );
    retry.finish().await;
}

/// A `replace` resource that yields no rows still replaces: its package carries a job without rows
/// (dlt writes one for every extracted replace table), and after the load the table and its nested
/// tables are empty.
pub async fn replace_with_no_rows_empties_the_chain(destination: &dyn Destination, names: &Names) {
    let s = Session::start(destination).await;
    let sc = schema(
        1,
        "replace-empty-v1",
        vec![users_table(WriteDisposition::Replace), roles_table(false)],
    );
    s.update(&sc).await;
    s.load(
        &sc,
        "1.1",
        "users",
        "a",
        users_rows("1.1", &[1, 2], &["a", "b"], &["x1", "x2"]),
    )
    .await;
    s.load(
        &sc,
        "1.1",
        "users__roles",
        "b",
        roles_rows(&[("admin", "x1", 0, "r1")], false),
    )
    .await;
    s.complete(&sc, "1.1").await;
    assert_eq!(s.count(&names.qualify("users")).await, 2);

    let job = s
        .load(&sc, "2.1", "users", "a", users_rows("2.1", &[], &[], &[]))
        .await;
    let retried = s
        .client
        .load_job(&job)
        .await
        .unwrap_or_else(|e| panic!("retry of the empty job: {e}"));
    assert!(retried.already_loaded, "the empty job is recorded like any other");
    s.complete(&sc, "2.1").await;
    assert_eq!(
        s.count(&names.qualify("users")).await,
        0,
        "the replace table is empty"
    );
    assert_eq!(
        s.count(&names.qualify("users__roles")).await,
        0,
        "its nested table is empty too"
    );
    s.finish().await;
}

/// Whether the destination's default replace goes through staging, so that a replace is atomic.
fn replaces_from_staging(caps: &Capabilities) -> bool {
    matches!(
        caps.replace_strategies.first(),
        Some(ReplaceStrategy::InsertFromStaging | ReplaceStrategy::StagingOptimized)
    )
}

/// `replace` through staging is atomic: until `complete_load` commits, readers see the previous load's
/// rows (never an empty or half-filled table), and a load abandoned mid-way (a crash) leaves them in
/// place; the retried load then replaces them. Destinations whose default replace strategy is
/// `truncate-and-insert` (not atomic by definition, as in dlt) are checked for the end state only.
pub async fn replace_is_atomic(destination: &dyn Destination, names: &Names) {
    let s = Session::start(destination).await;
    let atomic = replaces_from_staging(&s.caps);
    let sc = schema(
        1,
        "replace-atomic-v1",
        vec![users_table(WriteDisposition::Replace), roles_table(false)],
    );
    s.update(&sc).await;
    s.load(
        &sc,
        "1.1",
        "users",
        "a",
        users_rows("1.1", &[1, 2, 3], &["a", "b", "c"], &["x1", "x2", "x3"]),
    )
    .await;
    s.load(
        &sc,
        "1.1",
        "users__roles",
        "b",
        roles_rows(&[("admin", "x1", 0, "r1"), ("dev", "x2", 0, "r2")], false),
    )
    .await;
    s.complete(&sc, "1.1").await;
    let users_sql = format!("SELECT id FROM {} ORDER BY id", names.qualify("users"));

    // Load 2 loads its jobs, then the loader "crashes" before complete_load.
    let first = s
        .load(&sc, "2.1", "users", "a", users_rows("2.1", &[7], &["g"], &["x7"]))
        .await;
    s.load(
        &sc,
        "2.1",
        "users__roles",
        "b",
        roles_rows(&[("ops", "x7", 0, "r7")], false),
    )
    .await;
    if atomic {
        assert_eq!(
            ids(&s.query(&users_sql).await),
            ["1", "2", "3"],
            "before complete_load readers see the previous load"
        );
        assert_eq!(s.count(&names.qualify("users__roles")).await, 2);
    }
    let retry = Session::start(destination).await;
    retry.update(&sc).await;
    if atomic {
        assert_eq!(
            ids(&retry.query(&users_sql).await),
            ["1", "2", "3"],
            "an abandoned load leaves the previous rows"
        );
    }
    // The retried load: one job already in, one new, then completion.
    let report = retry
        .client
        .load_job(&first)
        .await
        .unwrap_or_else(|e| panic!("retry: {e}"));
    assert!(report.already_loaded);
    retry
        .load(&sc, "2.1", "users", "c", users_rows("2.1", &[8], &["h"], &["x8"]))
        .await;
    retry.complete(&sc, "2.1").await;
    assert_eq!(ids(&s.query(&users_sql).await), ["7", "8"]);
    let roles = s
        .query(&format!(
            "SELECT value FROM {} ORDER BY value",
            names.qualify("users__roles")
        ))
        .await;
    assert_eq!(ids(&roles), ["ops"]);
    retry.finish().await;
}

/// `merge` (delete-insert on the primary key): one row per id, the newest load's version of a row, and
/// that row's nested rows replaced rather than accumulated; duplicates within a load collapse.
pub async fn merge_dedups_and_replaces_children(destination: &dyn Destination, names: &Names) {
    if !destination
        .capabilities()
        .supports_merge_strategy(MergeStrategy::DeleteInsert)
    {
        return;
    }
    let s = Session::start(destination).await;
    let sc = schema(
        1,
        "merge-v1",
        vec![users_table(WriteDisposition::Merge), roles_table(true)],
    );
    s.update(&sc).await;

    s.load(
        &sc,
        "1.1",
        "users",
        "a",
        users_rows("1.1", &[1, 2], &["ann", "bob"], &["u1", "u2"]),
    )
    .await;
    let roles = roles_rows(
        &[
            ("admin", "u1", 0, "r1"),
            ("dev", "u2", 0, "r2"),
            ("ops", "u2", 1, "r3"),
        ],
        true,
    );
    s.load(&sc, "1.1", "users__roles", "b", roles).await;
    s.complete(&sc, "1.1").await;
    assert_eq!(s.count(&names.qualify("users")).await, 2);

    // Load 2: bob changes (one role now), carol arrives twice in the same load.
    s.load(
        &sc,
        "2.1",
        "users",
        "a",
        users_rows("2.1", &[2, 3], &["bobby", "carol"], &["v2", "v3"]),
    )
    .await;
    s.load(
        &sc,
        "2.1",
        "users",
        "c",
        users_rows("2.1", &[3], &["carol"], &["v3b"]),
    )
    .await;
    s.load(
        &sc,
        "2.1",
        "users__roles",
        "b",
        roles_rows(&[("lead", "v2", 0, "s1"), ("qa", "v3", 0, "s2")], true),
    )
    .await;
    // Merge happens at completion: before it, the dataset still has load 1.
    assert_eq!(s.count(&names.qualify("users")).await, 2);
    // The loader crashed before recording the jobs: a new client retries one and completes the load
    // without restaging the chain.
    let retry = Session::start(destination).await;
    retry.update(&sc).await;
    let again = write_job(
        retry.dir(),
        "users",
        "c",
        1,
        users_rows("2.1", &[3], &["carol"], &["v3b"]),
    );
    let again = LoadJob::from_file(&sc, "2.1", &again).unwrap_or_else(|e| panic!("job: {e}"));
    let report = retry
        .client
        .load_job(&again)
        .await
        .unwrap_or_else(|e| panic!("retry: {e}"));
    assert!(report.already_loaded, "a staged merge job is not staged twice");
    retry.complete(&sc, "2.1").await;
    s.complete(&sc, "2.1").await;

    let users = s
        .query(&format!(
            "SELECT id, name FROM {} ORDER BY id",
            names.qualify("users")
        ))
        .await;
    assert_eq!(ids(&users), ["1|ann", "2|bobby", "3|carol"]);
    let roles = s
        .query(&format!(
            "SELECT u.id, r.value FROM {} AS u JOIN {} AS r ON r._dlt_root_id = u._dlt_id ORDER BY u.id, r.value",
            names.qualify("users"),
            names.qualify("users__roles")
        ))
        .await;
    let roles = ids(&roles);
    assert_eq!(
        &roles[..2],
        ["1|admin", "2|lead"],
        "bob's old roles are gone: {roles:?}"
    );
    let orphans = s
        .query(&format!(
            "SELECT count(*) FROM {} AS r WHERE NOT EXISTS (SELECT 1 FROM {} AS u WHERE u._dlt_id = r._dlt_root_id)",
            names.qualify("users__roles"),
            names.qualify("users")
        ))
        .await;
    assert_eq!(
        orphans.scalar(),
        Some(&json!(0)),
        "no nested row without its root"
    );
    s.finish().await;
}

/// `_dlt_loads`, `_dlt_version` and `_dlt_pipeline_state` have dlt's columns in dlt's order; a completed
/// load has its `_dlt_loads` row (status 0); the stored state is the newest of a completed load.
pub async fn dlt_tables_as_dlt(destination: &dyn Destination, names: &Names) {
    let s = Session::start(destination).await;
    let state = dlt_tables::pipeline_state_table(true);
    let sc = schema(3, "dlt-v3", vec![users_table(WriteDisposition::Append), state]);
    s.update(&sc).await;
    assert!(
        s.client
            .get_stored_state("p")
            .await
            .unwrap_or_else(|e| panic!("get_stored_state: {e}"))
            .is_none(),
        "no state before any load"
    );

    let state_rows = |load_id: &str, version: i64, state: &str, dlt_id: &str| {
        Rows::new()
            .bigint("version", &[Some(version)])
            .bigint("engine_version", &[Some(4)])
            .texts("pipeline_name", &["p"])
            .texts("state", &[state])
            .timestamp("created_at", &[Some(1_700_000_000_000_000)])
            .text("version_hash", &[Some("state-hash")])
            .texts("_dlt_load_id", &[load_id])
            .texts("_dlt_id", &[dlt_id])
    };
    s.load(
        &sc,
        "1.1",
        "_dlt_pipeline_state",
        "s",
        state_rows("1.1", 1, "eNoLAAAAAAE=", "st1"),
    )
    .await;
    s.complete(&sc, "1.1").await;
    // Load 2 carries a newer state but never completes.
    s.load(
        &sc,
        "2.1",
        "_dlt_pipeline_state",
        "s",
        state_rows("2.1", 2, "eNoLAAAAAAI=", "st2"),
    )
    .await;

    let stored = s
        .client
        .get_stored_state("p")
        .await
        .unwrap_or_else(|e| panic!("get_stored_state: {e}"));
    let stored = stored.unwrap_or_else(|| panic!("the completed load's state is stored"));
    assert_eq!(
        (stored.version, stored.state.as_str(), stored.load_id.as_str()),
        (1, "eNoLAAAAAAE=", "1.1")
    );
    assert_eq!(stored.version_hash.as_deref(), Some("state-hash"));
    assert_eq!(stored.pipeline_name, "p");
    assert!(
        stored.created_at.contains("2023-11-14"),
        "created_at = {}",
        stored.created_at
    );
    s.complete(&sc, "2.1").await;
    let newer = s
        .client
        .get_stored_state("p")
        .await
        .unwrap_or_else(|e| panic!("get_stored_state: {e}"));
    assert_eq!(
        newer.map(|st| st.version),
        Some(2),
        "the newest completed load wins"
    );

    let loads = s
        .query(&format!(
            "SELECT load_id, schema_name, status, inserted_at, schema_version_hash FROM {} ORDER BY load_id",
            names.qualify(dlt_tables::LOADS_TABLE)
        ))
        .await;
    assert_eq!(loads.rows.len(), 2);
    assert_eq!(loads.get(0, "load_id"), Some(&json!("1.1")));
    assert_eq!(loads.get(0, "schema_name"), Some(&json!(SCHEMA_NAME)));
    assert_eq!(loads.get(0, "status"), Some(&json!(0)));
    assert_eq!(loads.get(0, "schema_version_hash"), Some(&json!("dlt-v3")));
    assert!(loads.get(0, "inserted_at").is_some_and(|v| !v.is_null()));

    let stored = s
        .client
        .get_stored_schema(SCHEMA_NAME)
        .await
        .unwrap_or_else(|e| panic!("get_stored_schema: {e}"));
    let stored = stored.unwrap_or_else(|| panic!("the schema is in _dlt_version"));
    assert_eq!(
        (stored.version, stored.engine_version),
        (3, i64::from(package::schema::SCHEMA_ENGINE_VERSION))
    );
    assert_eq!(stored.schema_name, SCHEMA_NAME);
    let parsed: Schema =
        serde_json::from_str(&stored.schema).unwrap_or_else(|e| panic!("stored schema JSON: {e}"));
    assert_eq!(parsed, sc, "_dlt_version.schema holds the full schema");
    assert!(
        s.client
            .get_stored_schema("other")
            .await
            .is_ok_and(|o| o.is_none())
    );

    let storage = s
        .client
        .get_storage_tables()
        .await
        .unwrap_or_else(|e| panic!("get_storage_tables: {e}"));
    let columns = |t: &str| -> Vec<(String, bool)> {
        storage
            .get(t)
            .unwrap_or_else(|| panic!("{t} missing"))
            .iter()
            .map(|c| (c.name.clone(), c.nullable))
            .collect()
    };
    let expect =
        |t: Table| -> Vec<(String, bool)> { t.columns.into_iter().map(|c| (c.name, c.nullable)).collect() };
    assert_eq!(
        columns(dlt_tables::LOADS_TABLE),
        expect(dlt_tables::loads_table())
    );
    assert_eq!(
        columns(dlt_tables::VERSION_TABLE),
        expect(dlt_tables::version_table())
    );
    assert_eq!(
        columns(dlt_tables::PIPELINE_STATE_TABLE),
        expect(dlt_tables::pipeline_state_table(true))
    );
    s.finish().await;
}

/// Names with quotes, semicolons, SQL comments, unicode and 200 characters are quoted, never pasted:
/// the table and columns are created with exactly those names and hold the data. Where a name exceeds
/// the destination's limit, the schema update fails with a terminal error instead of truncating.
pub async fn hostile_identifiers(destination: &dyn Destination, names: &Names) {
    let s = Session::start(destination).await;
    let long: String = "ü".repeat(10) + &"x".repeat(190);
    let table_name = "t\"; DROP TABLE users; --";
    let hostile = [
        r#"a"b"#,
        "x'); DELETE FROM y; --",
        "Ünïcødé ✓ 名前",
        "semi;colon",
        "back\\slash",
        long.as_str(),
    ];
    let mut columns: Vec<Column> = hostile.iter().map(|n| column(n, DataType::Text, true)).collect();
    columns.extend(root_dlt_columns());
    let sc = schema(
        1,
        "hostile-v1",
        vec![table(table_name, columns, Some(WriteDisposition::Append), None)],
    );
    if long.len() > destination.capabilities().max_column_identifier_length {
        let err = s.client.update_stored_schema(&sc).await.err();
        let err = err.unwrap_or_else(|| panic!("a {}-byte column name must be refused", long.len()));
        assert_eq!(err.kind(), ErrorKind::Terminal, "{err}");
        s.finish().await;
        return;
    }
    s.update(&sc).await;
    let mut rows = Rows::new();
    for (i, name) in hostile.iter().enumerate() {
        rows = rows.text(name, &[Some(&format!("v{i}"))]);
    }
    rows = rows.texts("_dlt_load_id", &["1.1"]).texts("_dlt_id", &["h1"]);
    // The job file name carries the table name; keep it file-system safe by writing it under a safe
    // name and pointing the job at the hostile table.
    let path = write_job(s.dir(), "hostile", "f", 0, rows);
    let job = LoadJob {
        load_id: "1.1".into(),
        table_name: table_name.into(),
        job_id: "hostile.f".into(),
        file_path: path,
        file_format: crate::FileFormat::Parquet,
        write_disposition: WriteDisposition::Append,
    };
    s.client
        .load_job(&job)
        .await
        .unwrap_or_else(|e| panic!("load_job into a hostile table: {e}"));
    s.complete(&sc, "1.1").await;

    let select = hostile
        .iter()
        .map(|n| names.quote(n))
        .collect::<Vec<_>>()
        .join(", ");
    let r = s
        .query(&format!("SELECT {select} FROM {}", names.qualify(table_name)))
        .await;
    assert_eq!(ids(&r), ["v0|v1|v2|v3|v4|v5"]);
    let storage = s
        .client
        .get_storage_tables()
        .await
        .unwrap_or_else(|e| panic!("get_storage_tables: {e}"));
    let stored = storage
        .get(table_name)
        .unwrap_or_else(|| panic!("hostile table missing: {:?}", storage.keys()));
    for name in hostile {
        assert!(
            stored.iter().any(|c| c.name == name),
            "column {name:?} stored under its exact name"
        );
    }
    s.finish().await;
}

/// Generates one `#[tokio::test]` per conformance scenario. `$fixture` is an async fn returning a value
/// that is `AsRef<dyn Destination>` (and cleans up on drop) for a fresh dataset; `$names` is an
/// expression giving the [`Names`] to qualify tables with for that fixture.
#[macro_export]
macro_rules! conformance_tests {
    ($fixture:path, $names:expr) => {
        $crate::conformance_tests!(@each $fixture, $names,
            all_types_round_trip, schema_evolution_adds_column, child_table_linked, job_twice_no_duplicates,
            append_doubles, replace_twice_same_count, replace_with_no_rows_empties_the_chain, replace_is_atomic,
            merge_dedups_and_replaces_children, dlt_tables_as_dlt, hostile_identifiers);
    };
    (@each $fixture:path, $names:expr, $($scenario:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                let fixture = $fixture().await;
                let names: $crate::conformance::Names = $names(&fixture);
                $crate::conformance::$scenario(fixture.as_ref(), &names).await;
            }
        )+
    };
}

/// Rows of the load benchmark's users-like table: `n` rows from id `start`.
fn bench_rows(load_id: &str, start: usize, n: usize) -> Rows {
    let ids: Vec<Option<i64>> = (start..start + n).map(|i| Some(i as i64)).collect();
    let names: Vec<String> = (start..start + n).map(|i| format!("user {i}")).collect();
    let emails: Vec<String> = (start..start + n)
        .map(|i| format!("user{i}@example.com"))
        .collect();
    let dlt_ids: Vec<String> = (start..start + n).map(|i| format!("id{i:012}")).collect();
    let ts: Vec<Option<i64>> = (start..start + n)
        .map(|i| Some(1_700_000_000_000_000 + i as i64 * 1_000_000))
        .collect();
    let flags: Vec<Option<bool>> = (start..start + n).map(|i| Some(i % 3 == 0)).collect();
    let score: Vec<Option<f64>> = (start..start + n).map(|i| Some(i as f64 / 7.0)).collect();
    Rows::new()
        .bigint("id", &ids)
        .text(
            "first_name",
            &names.iter().map(|s| Some(s.as_str())).collect::<Vec<_>>(),
        )
        .text(
            "email",
            &emails.iter().map(|s| Some(s.as_str())).collect::<Vec<_>>(),
        )
        .timestamp("created_at", &ts)
        .boolean("is_disabled", &flags)
        .double("score", &score)
        .texts("_dlt_load_id", &vec![load_id; n])
        .texts("_dlt_id", &dlt_ids.iter().map(String::as_str).collect::<Vec<_>>())
}

/// The destinations' load benchmark: a users-like table of 8 columns, `total` rows in jobs of 100,000,
/// loaded twice per write disposition (append, replace, merge); prints rows/s per load. Each
/// disposition uses a fresh dataset, dropped afterwards.
pub async fn bench_dispositions(destination: &dyn Destination, total: usize) {
    const JOB_ROWS: usize = 100_000;
    for (d, disposition) in [
        WriteDisposition::Append,
        WriteDisposition::Replace,
        WriteDisposition::Merge,
    ]
    .into_iter()
    .enumerate()
    {
        let s = Session::start(destination).await;
        let mut id = column("id", DataType::Bigint, false);
        id.primary_key = disposition == WriteDisposition::Merge;
        let mut columns = vec![
            id,
            column("first_name", DataType::Text, true),
            column("email", DataType::Text, true),
            column("created_at", DataType::Timestamp, true),
            column("is_disabled", DataType::Bool, true),
            column("score", DataType::Double, true),
        ];
        columns.extend(root_dlt_columns());
        let name = format!("users_{disposition:?}").to_lowercase();
        let sc = schema(1, &name, vec![table(&name, columns, Some(disposition), None)]);
        s.update(&sc).await;
        for load in 1..=2 {
            // Load ids are unique per database: a completed load id is never loaded again.
            let load_id = format!("{d}{load}.0");
            let mut jobs = Vec::new();
            for (n, start) in (0..total).step_by(JOB_ROWS).enumerate() {
                let path = write_job(
                    s.dir(),
                    &name,
                    &format!("{load}f{n}"),
                    0,
                    bench_rows(&load_id, start, JOB_ROWS.min(total - start)),
                );
                jobs.push(LoadJob::from_file(&sc, &load_id, &path).unwrap_or_else(|e| panic!("job: {e}")));
            }
            let started = Instant::now();
            for job in &jobs {
                s.client
                    .load_job(job)
                    .await
                    .unwrap_or_else(|e| panic!("load_job: {e}"));
            }
            s.complete(&sc, &load_id).await;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "{disposition:?} load {load}: {total} rows in {} jobs, {secs:.3} s, {:.0} rows/s",
                jobs.len(),
                total as f64 / secs
            );
        }
        s.finish().await;
    }
}
