//! DuckDB specifics beyond the conformance suite: the linked library's version, DuckDB's type names,
//! the generated SQL, names qualified by catalog, file paths with quotes, and clear errors for bad or
//! locked database files.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use destination::conformance::{Rows, Session, column, root_dlt_columns, schema, table, write_job};
use destination::{Destination, ErrorKind, LoadJob, SqlDialect};
use duckdb_dest::{CAPABILITIES, DuckDbConfig, DuckDbDestination, DuckDbDialect};
use package::schema::{Column, DataType, WriteDisposition};

fn destination(dir: &std::path::Path, file: &str, dataset: &str) -> DuckDbDestination {
    DuckDbDestination::new(DuckDbConfig::new(dir.join(file), dataset)).expect("valid config")
}

#[test]
fn links_duckdb_1_5_5() {
    assert_eq!(DuckDbDestination::library_version().expect("version"), "v1.5.5");
}

/// A dlt type, a change to the column's hints, and the DuckDB type expected.
type Case = (DataType, &'static dyn Fn(&mut Column), &'static str);

#[test]
fn type_names_follow_dlt() {
    let d = DuckDbDialect::default();
    let ty = |data_type: DataType, f: &dyn Fn(&mut Column)| {
        let mut c = column("c", data_type, true);
        f(&mut c);
        d.column_type(&c)
    };
    let none = &|_: &mut Column| {};
    let cases: [Case; 18] = [
        (DataType::Text, none, "VARCHAR"),
        (DataType::Text, &|c| c.precision = Some(64), "VARCHAR"),
        (DataType::Double, none, "DOUBLE"),
        (DataType::Bool, none, "BOOLEAN"),
        (DataType::Bigint, none, "BIGINT"),
        (DataType::Bigint, &|c| c.precision = Some(8), "TINYINT"),
        (DataType::Bigint, &|c| c.precision = Some(16), "SMALLINT"),
        (DataType::Bigint, &|c| c.precision = Some(32), "INTEGER"),
        (DataType::Bigint, &|c| c.precision = Some(128), "HUGEINT"),
        (DataType::Timestamp, none, "TIMESTAMP WITH TIME ZONE"),
        (
            DataType::Timestamp,
            &|c| c.precision = Some(3),
            "TIMESTAMP WITH TIME ZONE",
        ),
        (
            DataType::Timestamp,
            &|c| (c.timezone, c.precision) = (Some(false), Some(3)),
            "TIMESTAMP_MS",
        ),
        (
            DataType::Timestamp,
            &|c| (c.timezone, c.precision) = (Some(false), Some(9)),
            "TIMESTAMP_NS",
        ),
        (DataType::Date, none, "DATE"),
        (DataType::Time, none, "TIME"),
        (DataType::Decimal, none, "DECIMAL(38,9)"),
        (DataType::Wei, none, "DECIMAL(38,0)"),
        (DataType::Json, none, "JSON"),
    ];
    for (data_type, f, expected) in cases {
        assert_eq!(ty(data_type, f).as_deref(), Ok(expected), "{data_type:?}");
    }
    assert_eq!(ty(DataType::Binary, none).as_deref(), Ok("BLOB"));
    assert!(ty(DataType::Bigint, &|c| c.precision = Some(256)).is_err());
    assert!(ty(DataType::Decimal, &|c| c.precision = Some(76)).is_err());
    assert!(
        ty(DataType::Timestamp, &|c| (c.timezone, c.precision) =
            (Some(false), Some(12)))
        .is_err()
    );
}

#[test]
fn sql_snapshots() {
    let d = DuckDbDialect::new(Some("my \"db\"".into()));
    assert_eq!(d.qualified_table("ds", "users"), r#""my ""db"""."ds"."users""#);
    assert_eq!(
        d.insert_parquet_sql("ds", "users", "/tmp/it's; here/users.a.0.parquet"),
        r#"INSERT INTO "my ""db"""."ds"."users" BY NAME SELECT * FROM read_parquet('/tmp/it''s; here/users.a.0.parquet', union_by_name=true)"#
    );
    assert_eq!(
        d.create_dataset_sql("ds"),
        r#"CREATE SCHEMA IF NOT EXISTS "my ""db"""."ds""#
    );
    assert_eq!(
        d.select_storage_columns_sql("ds"),
        r#"SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE table_catalog = 'my "db"' AND table_schema = 'ds' ORDER BY table_name, ordinal_position"#
    );
    let t = table("t", vec![column("a", DataType::Json, false)], None, None);
    assert_eq!(
        d.create_table_sql("ds", &t, false).as_deref(),
        Ok(r#"CREATE TABLE "my ""db"""."ds"."t" ("a" JSON NOT NULL)"#)
    );
    let plain = DuckDbDialect::default();
    assert_eq!(plain.qualified_table("ds", "t"), r#""ds"."t""#);
    const {
        assert!(!CAPABILITIES.alter_add_multi_column);
        assert!(CAPABILITIES.max_identifier_length == 65536);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_types_are_duckdbs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = destination(dir.path(), "types.duckdb", "data");
    let s = Session::start(&dest).await;
    let mut columns: Vec<Column> = [
        DataType::Text,
        DataType::Bigint,
        DataType::Double,
        DataType::Bool,
        DataType::Timestamp,
        DataType::Date,
        DataType::Time,
        DataType::Decimal,
        DataType::Wei,
        DataType::Json,
        DataType::Binary,
    ]
    .into_iter()
    .map(|t| column(&format!("c_{}", t.as_str()), t, true))
    .collect();
    columns.extend(root_dlt_columns());
    let sc = schema(
        1,
        "h",
        vec![table("t", columns, Some(WriteDisposition::Append), None)],
    );
    s.update(&sc).await;
    let storage = s.client.get_storage_tables().await.expect("storage");
    let types: Vec<(String, String)> = storage["t"]
        .iter()
        .map(|c| (c.name.clone(), c.data_type.clone()))
        .collect();
    let expected = [
        ("c_text", "VARCHAR"),
        ("c_bigint", "BIGINT"),
        ("c_double", "DOUBLE"),
        ("c_bool", "BOOLEAN"),
        ("c_timestamp", "TIMESTAMP WITH TIME ZONE"),
        ("c_date", "DATE"),
        ("c_time", "TIME"),
        ("c_decimal", "DECIMAL(38,9)"),
        ("c_wei", "DECIMAL(38,0)"),
        ("c_json", "JSON"),
        ("c_binary", "BLOB"),
        ("_dlt_load_id", "VARCHAR"),
        ("_dlt_id", "VARCHAR"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(types, expected);
    let loads: Vec<(String, String, bool)> = storage["_dlt_loads"]
        .iter()
        .map(|c| (c.name.clone(), c.data_type.clone(), c.nullable))
        .collect();
    let expected_loads = [
        ("load_id", "VARCHAR", false),
        ("schema_name", "VARCHAR", true),
        ("status", "BIGINT", false),
        ("inserted_at", "TIMESTAMP WITH TIME ZONE", false),
        ("schema_version_hash", "VARCHAR", true),
    ];
    let expected_loads: Vec<(String, String, bool)> = expected_loads
        .iter()
        .map(|(a, b, n)| (a.to_string(), b.to_string(), *n))
        .collect();
    assert_eq!(loads, expected_loads);
    let version: Vec<&str> = storage["_dlt_version"]
        .iter()
        .map(|c| c.data_type.as_str())
        .collect();
    assert_eq!(
        version,
        [
            "BIGINT",
            "BIGINT",
            "TIMESTAMP WITH TIME ZONE",
            "VARCHAR",
            "VARCHAR",
            "VARCHAR"
        ]
    );
}

/// A dataset named like the database file's catalog (`looker.duckdb`, dataset `looker`) is ambiguous in
/// dlt; names qualified by catalog make it work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dataset_named_like_the_catalog() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = destination(dir.path(), "looker.duckdb", "looker");
    let s = Session::start(&dest).await;
    let mut columns = vec![column("id", DataType::Bigint, true)];
    columns.extend(root_dlt_columns());
    let sc = schema(
        1,
        "h",
        vec![table("users", columns, Some(WriteDisposition::Replace), None)],
    );
    s.update(&sc).await;
    let rows = Rows::new()
        .bigint("id", &[Some(1)])
        .texts("_dlt_load_id", &["1.1"])
        .texts("_dlt_id", &["a"]);
    s.load(&sc, "1.1", "users", "f", rows).await;
    s.complete(&sc, "1.1").await;
    let r = s.query(r#"SELECT count(*) FROM "looker"."looker"."users""#).await;
    assert_eq!(r.scalar(), Some(&serde_json::json!(1)));
    let state = s
        .client
        .get_stored_schema("conformance")
        .await
        .expect("stored schema");
    assert!(state.is_some());
}

/// A dataset name with quotes, semicolons and unicode is quoted everywhere, staging dataset included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_dataset_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dataset = "we\"ird; DROP SCHEMA main; -- dåtå";
    let dest = destination(dir.path(), "hostile.duckdb", dataset);
    let s = Session::start(&dest).await;
    let mut id = column("id", DataType::Bigint, false);
    id.primary_key = true;
    let mut columns = vec![id];
    columns.extend(root_dlt_columns());
    let sc = schema(
        1,
        "h",
        vec![table("users", columns, Some(WriteDisposition::Merge), None)],
    );
    s.update(&sc).await;
    for (load, ids) in [("1.1", ["a", "b"]), ("2.1", ["c", "d"])] {
        let rows = Rows::new()
            .bigint("id", &[Some(1), Some(2)])
            .texts("_dlt_load_id", &[load, load])
            .texts("_dlt_id", &ids);
        s.load(&sc, load, "users", "f", rows).await;
        s.complete(&sc, load).await;
    }
    let d = DuckDbDialect::default();
    let r = s
        .query(&format!(
            "SELECT count(*) FROM {}",
            d.qualified_table(dataset, "users")
        ))
        .await;
    assert_eq!(r.scalar(), Some(&serde_json::json!(2)));
    let schemas = s
        .query("SELECT schema_name FROM information_schema.schemata ORDER BY schema_name")
        .await;
    let schemas: Vec<String> = schemas
        .rows
        .iter()
        .map(|r| r[0].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        schemas.contains(&dataset.to_string()) && schemas.contains(&format!("{dataset}_staging")),
        "{schemas:?}"
    );
}

/// Job files whose path holds quotes and semicolons load: the path is a quoted literal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_paths_are_quoted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = destination(dir.path(), "paths.duckdb", "data");
    let s = Session::start(&dest).await;
    let mut columns = vec![column("id", DataType::Bigint, true)];
    columns.extend(root_dlt_columns());
    let sc = schema(
        1,
        "h",
        vec![table("users", columns, Some(WriteDisposition::Append), None)],
    );
    s.update(&sc).await;
    let jobs = dir.path().join("it's; DROP SCHEMA data; --");
    std::fs::create_dir(&jobs).expect("mkdir");
    let rows = Rows::new()
        .bigint("id", &[Some(1), Some(2)])
        .texts("_dlt_load_id", &["1.1", "1.1"])
        .texts("_dlt_id", &["a", "b"]);
    let path = write_job(&jobs, "users", "f", 0, rows);
    let job = LoadJob::from_file(&sc, "1.1", &path).expect("job");
    let report = s.client.load_job(&job).await.expect("load_job");
    assert_eq!(report.rows, Some(2));
    let missing = LoadJob {
        file_path: jobs.join("users.g.0.parquet"),
        job_id: "users.g".into(),
        ..job
    };
    let err = s.client.load_job(&missing).await.expect_err("missing file");
    assert_eq!(err.kind(), ErrorKind::Terminal);
    assert!(err.to_string().contains("users.g.0.parquet"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_job_before_schema_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = destination(dir.path(), "order.duckdb", "data");
    let client = dest.connect().await.expect("connect");
    let path = write_job(dir.path(), "users", "f", 0, Rows::new().bigint("id", &[Some(1)]));
    let job = LoadJob {
        load_id: "1".into(),
        table_name: "users".into(),
        job_id: "users.f".into(),
        file_path: path,
        file_format: destination::FileFormat::Parquet,
        write_disposition: WriteDisposition::Append,
    };
    let err = client.load_job(&job).await.expect_err("no schema yet");
    assert!(
        err.to_string().contains("update_stored_schema must run first"),
        "{err}"
    );
    assert!(
        client
            .get_stored_schema("x")
            .await
            .expect("no dataset yet is not an error")
            .is_none()
    );
    assert!(
        client
            .get_stored_state("p")
            .await
            .expect("no state table is not an error")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_paths_are_configuration_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing_dir =
        DuckDbDestination::new(DuckDbConfig::new(dir.path().join("nope/x.duckdb"), "d")).expect("config");
    let err = missing_dir.connect().await.expect_err("missing directory");
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert_eq!(err.config_key(), Some("DESTINATION__DUCKDB__CREDENTIALS"));
    assert!(
        err.to_string().contains("nope") && err.to_string().contains("does not exist"),
        "{err}"
    );

    let file = dir.path().join("plain.txt");
    std::fs::write(&file, "not a directory").expect("write");
    let under_file = DuckDbDestination::new(DuckDbConfig::new(file.join("x.duckdb"), "d")).expect("config");
    let err = under_file.connect().await.expect_err("parent is a file");
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert!(err.to_string().contains("plain.txt"), "{err}");

    let garbage = dir.path().join("garbage.duckdb");
    std::fs::write(&garbage, vec![7u8; 8192]).expect("write");
    let not_duckdb = DuckDbDestination::new(DuckDbConfig::new(&garbage, "d")).expect("config");
    let err = not_duckdb.connect().await.expect_err("not a database");
    assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
    assert!(err.to_string().contains("garbage.duckdb"), "{err}");

    let is_dir = DuckDbDestination::new(DuckDbConfig::new(dir.path(), "d"));
    assert!(is_dir.is_err_and(|e| e.kind() == ErrorKind::Configuration));
}

const LOCK_HOLDER: &str = "DUCKDB_DEST_TEST_LOCK_HOLDER";

/// Another process holding the file: a terminal error naming the file and saying what to do. The test
/// re-runs itself as that other process (selected by an environment variable).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locked_file_is_a_clear_error() {
    if let Some(path) = std::env::var_os(LOCK_HOLDER) {
        let holder = DuckDbDestination::new(DuckDbConfig::new(path, "d")).expect("config");
        let _client = holder.connect().await.expect("holder connects");
        println!("LOCKED");
        std::io::stdout().flush().expect("flush");
        // Hold the lock until the parent closes stdin.
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("locked.duckdb");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "locked_file_is_a_clear_error",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(LOCK_HOLDER, &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the lock holder");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
    let locked = lines.any(|line| line.contains("LOCKED"));
    assert!(locked, "the holder process did not take the lock");

    let dest = DuckDbDestination::new(DuckDbConfig::new(&path, "d")).expect("config");
    let err = dest.connect().await.expect_err("the file is locked");
    // Release the holder and read its output to the end so it exits cleanly.
    drop(child.stdin.take());
    lines.for_each(drop);
    let _ = child.wait();
    assert_eq!(err.kind(), ErrorKind::Terminal, "{err}");
    let message = err.to_string();
    assert!(
        message.contains("locked.duckdb") && message.contains("locked by another process"),
        "{message}"
    );
}

/// A table wide enough to outgrow the default memory limit while its job is inserted (DuckDB keeps
/// a 256 KiB block per column of the uncommitted rows), with the job that loads it.
async fn wide_table_job(s: &Session, columns: usize) -> (package::schema::Schema, LoadJob) {
    let names: Vec<String> = (0..columns).map(|i| format!("c{i}")).collect();
    let mut cols: Vec<Column> = names.iter().map(|n| column(n, DataType::Text, true)).collect();
    cols.extend(root_dlt_columns());
    let sc = schema(
        1,
        "wide",
        vec![table("wide", cols, Some(WriteDisposition::Append), None)],
    );
    s.update(&sc).await;
    let n = 64;
    let values: Vec<String> = (0..n).map(|i| format!("value {i}")).collect();
    let values: Vec<Option<&str>> = values.iter().map(|v| Some(v.as_str())).collect();
    let ids: Vec<String> = (0..n).map(|i| format!("id{i}")).collect();
    let mut rows = Rows::new();
    for name in &names {
        rows = rows.text(name, &values);
    }
    let rows = rows
        .texts("_dlt_load_id", &vec!["1.1"; n])
        .texts("_dlt_id", &ids.iter().map(String::as_str).collect::<Vec<_>>());
    let path = write_job(s.dir(), "wide", "f", 0, rows);
    let job = LoadJob::from_file(&sc, "1.1", &path).expect("job");
    (sc, job)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wide_table_loads_by_default_and_a_user_memory_limit_is_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = destination(dir.path(), "wide.duckdb", "data");
    assert_eq!(dest.config().memory_limit, None);
    let s = Session::start(&dest).await;
    let (sc, job) = wide_table_job(&s, 1000).await;
    let report = s.client.load_job(&job).await.expect("load_job");
    assert_eq!(report.rows, Some(64));
    s.complete(&sc, "1.1").await;
    assert_eq!(s.count("data.wide").await, 64);

    // A limit the user chose is kept: the job fails, clearly, and loads nothing.
    let dir = tempfile::tempdir().expect("tempdir");
    let config = DuckDbConfig::new(dir.path().join("small.duckdb"), "data").with_memory_limit("64MB");
    let dest = DuckDbDestination::new(config).expect("valid config");
    let s = Session::start(&dest).await;
    let (_, job) = wide_table_job(&s, 1000).await;
    let err = s.client.load_job(&job).await.expect_err("out of memory");
    assert_eq!(err.kind(), ErrorKind::Terminal);
    assert!(err.to_string().contains("memory_limit"), "{err}");
    assert_eq!(s.count("data.wide").await, 0);
}

/// dlt's `global_config`: settings applied when the database opens; one DuckDB refuses names
/// `global_config`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_config_settings_apply_and_bad_ones_name_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spill = dir.path().join("spill");
    let config = DuckDbConfig::new(dir.path().join("s.duckdb"), "d")
        .with_threads(2)
        .with_memory_limit("300MB")
        .with_setting("temp_directory", spill.to_string_lossy());
    let dest = DuckDbDestination::new(config).expect("config");
    let client = dest.connect().await.expect("connect");
    let r = client
        .query("SELECT current_setting('threads')::VARCHAR, current_setting('temp_directory')")
        .await
        .expect("query");
    assert_eq!(r.rows[0][0], serde_json::json!("2"));
    assert_eq!(r.rows[0][1], serde_json::json!(spill.to_string_lossy()));
    drop(client);
    drop(dest);

    for (name, value) in [
        ("no_such_setting", "1"),
        ("threads; DROP TABLE x", "1"),
        ("threads", "many"),
    ] {
        let config = DuckDbConfig::new(dir.path().join("b.duckdb"), "d").with_setting(name, value);
        let dest = DuckDbDestination::new(config).expect("config");
        let err = dest.connect().await.expect_err("refused setting");
        assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
        assert!(err.to_string().contains("global_config"), "{err}");
    }
}
