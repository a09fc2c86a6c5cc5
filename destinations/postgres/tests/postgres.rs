//! PostgreSQL-specific behaviour against the test server (see `common` for how it is found): errors by
//! what the user does next, recovery from a server-side disconnect, and values at the edges of the
//! binary COPY encoding.

mod common;

use destination::conformance::{Rows, Session, column, root_dlt_columns, schema, table};
use destination::{Destination, ErrorKind, LoadJob};
use package::schema::{DataType, WriteDisposition};
use postgres_dest::config::{DATABASE_KEY, HOST_KEY, USERNAME_KEY};
use postgres_dest::{PostgresConfig, PostgresDestination};
use serde_json::json;

/// `host=... port=... user=...` of the test server, as seen from a session on it.
async fn server_params(url: &str) -> (String, i64, String) {
    let destination = common::destination(url, "params");
    let client = destination.connect().await.expect("connect");
    let r = client
        .query("SELECT host(inet_server_addr()) AS host, inet_server_port() AS port, current_user AS usr")
        .await
        .expect("server address");
    let text = |c: &str| {
        r.get(0, c)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let port = r
        .get(0, "port")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or_default();
    (text("host"), port, text("usr"))
}

#[tokio::test]
async fn missing_database_names_the_database_setting() {
    let Some(url) = common::server_url("missing_database_names_the_database_setting") else {
        return;
    };
    let (host, port, user) = server_params(&url).await;
    let config = PostgresConfig::from_connection_string(
        &format!("host={host} port={port} user={user} dbname=no_such_db_here sslmode=disable"),
        "ds",
    )
    .expect("config");
    let err = PostgresDestination::new(config)
        .expect("valid")
        .connect()
        .await
        .err();
    let err = err.expect("connecting to a missing database fails");
    assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
    assert_eq!(err.config_key(), Some(DATABASE_KEY), "{err}");
    assert!(err.to_string().contains("no_such_db_here"), "{err}");
}

#[tokio::test]
async fn unreachable_server_names_the_host_setting() {
    if common::server_url("unreachable_server_names_the_host_setting").is_none() {
        return;
    }
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let config = PostgresConfig::from_connection_string(
        &format!("postgresql://someone:secret-pw@127.0.0.1:{port}/db"),
        "ds",
    )
    .expect("config");
    let err = PostgresDestination::new(config)
        .expect("valid")
        .connect()
        .await
        .err();
    let err = err.expect("nothing listens there");
    assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
    assert_eq!(err.config_key(), Some(HOST_KEY), "{err}");
    let shown = err.to_string();
    assert!(shown.contains(&format!("127.0.0.1:{port}")), "{shown}");
    assert!(!shown.contains("secret-pw"), "{shown}");
}

#[tokio::test]
async fn create_schema_without_permission_names_the_user_setting() {
    let Some(url) = common::server_url("create_schema_without_permission_names_the_user_setting") else {
        return;
    };
    let (host, port, _) = server_params(&url).await;
    let admin = common::destination(&url, "admin")
        .connect()
        .await
        .expect("connect");
    let role = common::fresh_dataset("nocreate");
    admin
        .query(&format!("CREATE ROLE \"{role}\" LOGIN"))
        .await
        .expect("create role");
    let config = PostgresConfig::from_connection_string(
        &format!("host={host} port={port} user={role} dbname=postgres sslmode=disable"),
        common::fresh_dataset("denied"),
    )
    .expect("config");
    let destination = PostgresDestination::new(config).expect("valid");
    let result = match destination.connect().await {
        Ok(client) => client.ensure_dataset().await,
        Err(e) => Err(e),
    };
    admin
        .query(&format!("DROP ROLE \"{role}\""))
        .await
        .expect("drop role");
    let err = result.expect_err("a role without CREATE cannot create schemas");
    assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
    assert_eq!(err.config_key(), Some(USERNAME_KEY), "{err}");
    assert!(err.to_string().contains("may not create schema"), "{err}");
}

fn events_schema() -> package::schema::Schema {
    let mut small = column("small", DataType::Bigint, true);
    small.precision = Some(16);
    let mut amount = column("amount", DataType::Decimal, true);
    amount.precision = Some(20);
    amount.scale = Some(4);
    let mut columns = vec![
        column("id", DataType::Bigint, false),
        small,
        amount,
        column("nothing", DataType::Date, true),
        column("doc", DataType::Json, true),
    ];
    columns.extend(root_dlt_columns());
    schema(
        1,
        "events-v1",
        vec![table("events", columns, Some(WriteDisposition::Append), None)],
    )
}

fn events_rows(load_id: &str, ids: &[i64], small: &[Option<i64>], dlt_ids: &[&str]) -> Rows {
    let n = ids.len();
    Rows::new()
        .bigint("id", &ids.iter().map(|i| Some(*i)).collect::<Vec<_>>())
        .bigint("small", small)
        .decimal(
            "amount",
            &[Some(-12_345), Some(1), Some(0), Some(99_999_999)][..n],
            20,
            4,
        )
        .text("doc", &[Some(r#"{"k": "ü"}"#), None, Some("[]"), Some("1")][..n])
        .texts("_dlt_load_id", &vec![load_id; n])
        .texts("_dlt_id", dlt_ids)
}

#[tokio::test]
async fn edge_values_and_a_refused_value_roll_back_the_job() {
    let Some(url) = common::server_url("edge_values_and_a_refused_value_roll_back_the_job") else {
        return;
    };
    let destination = common::destination(&url, "edges");
    let t = format!("\"{}\".\"events\"", destination.config().dataset_name);
    let s = Session::start(&destination).await;
    let sc = events_schema();
    s.update(&sc).await;

    // 70000 does not fit the smallint column: the job fails as a whole, terminal, nothing stays.
    let bad = common_job(
        &s,
        &sc,
        "1.1",
        "bad",
        events_rows("1.1", &[1, 2], &[Some(1), Some(70_000)], &["a", "b"]),
    );
    let err = s.client.load_job(&bad).await.expect_err("70000 is no smallint");
    assert_eq!(err.kind(), ErrorKind::Terminal, "{err}");
    assert_eq!(s.count(&t).await, 0, "the failed job left no rows");

    let rows = events_rows(
        "1.1",
        &[1, 2, 3, 4],
        &[Some(-32_768), None, Some(32_767), Some(0)],
        &["a", "b", "c", "d"],
    );
    s.load(&sc, "1.1", "events", "good", rows).await;
    s.complete(&sc, "1.1").await;
    let r = s
        .query(&format!(
            "SELECT small, amount::text AS amount, nothing, doc->>'k' AS k, jsonb_typeof(doc) AS kind FROM {t} ORDER BY id"
        ))
        .await;
    let column = |c: &str| -> Vec<serde_json::Value> {
        (0..r.rows.len())
            .map(|i| r.get(i, c).cloned().unwrap_or_default())
            .collect()
    };
    assert_eq!(
        column("small"),
        [json!(-32768), json!(null), json!(32767), json!(0)]
    );
    assert_eq!(
        column("amount"),
        [
            json!("-1.2345"),
            json!("0.0001"),
            json!("0.0000"),
            json!("9999.9999")
        ]
    );
    assert_eq!(column("nothing"), vec![json!(null); 4]);
    assert_eq!(column("k"), [json!("ü"), json!(null), json!(null), json!(null)]);
    assert_eq!(
        column("kind"),
        [json!("object"), json!(null), json!("array"), json!("number")]
    );
    s.finish().await;
}

fn common_job(
    s: &Session,
    sc: &package::schema::Schema,
    load_id: &str,
    file_id: &str,
    rows: Rows,
) -> LoadJob {
    let path = destination::conformance::write_job(s.dir(), "events", file_id, 0, rows);
    LoadJob::from_file(sc, load_id, &path).expect("job")
}

#[tokio::test]
async fn a_dropped_connection_is_transient_and_the_retry_reconnects() {
    let Some(url) = common::server_url("a_dropped_connection_is_transient_and_the_retry_reconnects") else {
        return;
    };
    let destination = common::destination(&url, "restart");
    let t = format!("\"{}\".\"events\"", destination.config().dataset_name);
    let s = Session::start(&destination).await;
    let sc = events_schema();
    s.update(&sc).await;
    s.load(
        &sc,
        "1.1",
        "events",
        "one",
        events_rows("1.1", &[1, 2], &[None, None], &["a", "b"]),
    )
    .await;

    // The server ends the session (as a restart or an administrator would: SQLSTATE 57P01).
    let pid = s.query("SELECT pg_backend_pid() AS pid").await;
    let pid = pid
        .scalar()
        .and_then(serde_json::Value::as_i64)
        .expect("backend pid");
    let admin = common::destination(&url, "admin")
        .connect()
        .await
        .expect("connect");
    let killed = admin
        .query(&format!("SELECT pg_terminate_backend({pid}) AS ok"))
        .await
        .expect("terminate");
    assert_eq!(killed.scalar(), Some(&json!(true)));

    let job = common_job(
        &s,
        &sc,
        "1.1",
        "two",
        events_rows("1.1", &[3, 4], &[None, None], &["c", "d"]),
    );
    let mut attempts = 0;
    let report = loop {
        attempts += 1;
        match s.client.load_job(&job).await {
            Ok(report) => break report,
            Err(e) if e.is_transient() && attempts < 3 => continue,
            Err(e) => panic!("attempt {attempts}: {e} ({:?})", e.kind()),
        }
    };
    assert!(!report.already_loaded);
    assert_eq!(report.rows, Some(2));
    let again = s.client.load_job(&job).await.expect("reload");
    assert!(again.already_loaded, "the retried job is not loaded twice");
    s.complete(&sc, "1.1").await;
    assert_eq!(s.count(&t).await, 4);
    s.finish().await;
}

/// The shared suite's hostile-identifier scenario stops at its 200-byte name on PostgreSQL (refused, as
/// it must be); this one loads hostile names within 63 bytes. Mixed case is folded to lower case, as dlt
/// does on PostgreSQL.
#[tokio::test]
async fn hostile_identifiers_within_63_bytes() {
    let Some(url) = common::server_url("hostile_identifiers_within_63_bytes") else {
        return;
    };
    let destination = common::destination(&url, "hostile");
    let dialect = postgres_dest::PostgresDialect;
    let s = Session::start(&destination).await;
    let table_name = "t\"; DROP TABLE users; --";
    let longest = "é".repeat(31) + "x"; // 63 bytes
    let hostile = [
        r#"a"b"#,
        "x'); DELETE FROM y; --",
        "Ünïcødé ✓ 名前",
        "semi;colon",
        "back\\slash",
        "MiXed",
        longest.as_str(),
    ];
    let mut columns: Vec<_> = hostile.iter().map(|n| column(n, DataType::Text, true)).collect();
    columns.extend(root_dlt_columns());
    let sc = schema(
        1,
        "hostile-v1",
        vec![table(table_name, columns, Some(WriteDisposition::Append), None)],
    );
    s.update(&sc).await;
    let mut rows = Rows::new();
    for (i, name) in hostile.iter().enumerate() {
        rows = rows.text(name, &[Some(&format!("v{i}"))]);
    }
    rows = rows.texts("_dlt_load_id", &["1.1"]).texts("_dlt_id", &["h1"]);
    let path = destination::conformance::write_job(s.dir(), "hostile", "f", 0, rows);
    let job = LoadJob {
        load_id: "1.1".into(),
        table_name: table_name.into(),
        job_id: "hostile.f".into(),
        file_path: path,
        file_format: destination::FileFormat::Parquet,
        write_disposition: WriteDisposition::Append,
    };
    s.client.load_job(&job).await.expect("load into a hostile table");
    s.complete(&sc, "1.1").await;

    use destination::SqlDialect;
    let select = hostile
        .iter()
        .map(|n| dialect.quote_identifier(n))
        .collect::<Vec<_>>()
        .join(", ");
    let dataset = destination.config().dataset_name.clone();
    let r = s
        .query(&format!(
            "SELECT {select} FROM {}",
            dialect.qualified_table(&dataset, table_name)
        ))
        .await;
    let values: Vec<String> = r.rows[0]
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(values, ["v0", "v1", "v2", "v3", "v4", "v5", "v6"]);
    let storage = s.client.get_storage_tables().await.expect("storage tables");
    let stored = storage
        .get(&table_name.to_lowercase())
        .expect("the hostile table, under its exact (folded) name");
    for name in hostile {
        let folded = name.to_lowercase();
        assert!(
            stored.iter().any(|c| c.name == folded),
            "column {folded:?} stored: {stored:?}"
        );
    }
    // The users table the name tried to drop never existed; the dataset holds only what was created.
    assert!(!storage.contains_key("users"));

    // One byte more is refused before anything reaches the server.
    let too_long = "é".repeat(32);
    let mut columns = vec![column(&too_long, DataType::Text, true)];
    columns.extend(root_dlt_columns());
    let sc2 = schema(2, "hostile-v2", vec![table("t2", columns, None, None)]);
    let err = s.client.update_stored_schema(&sc2).await.expect_err("64 bytes");
    assert_eq!(err.kind(), ErrorKind::Terminal, "{err}");
    s.finish().await;
}

/// A TCP relay in front of the test server that can "restart": drop every connection and refuse new
/// ones (as a server that is going down and coming back), then accept again on the same port.
struct Relay {
    port: u16,
    upstream: std::net::SocketAddr,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Relay {
    async fn start(upstream: std::net::SocketAddr) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind relay");
        let port = listener.local_addr().expect("relay address").port();
        let mut relay = Relay {
            port,
            upstream,
            task: None,
        };
        relay.serve(listener);
        relay
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let upstream = self.upstream;
        self.task = Some(tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        }));
    }

    /// Drops every relayed connection and stops listening: connections are refused.
    async fn go_down(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Listens again on the same port.
    async fn come_back(&mut self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("rebind the relay port");
        self.serve(listener);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_mid_load_is_transient_and_the_load_resumes() {
    let Some(url) = common::server_url("a_server_restart_mid_load_is_transient_and_the_load_resumes") else {
        return;
    };
    let (host, port) = common::host_port(&url);
    let upstream = format!("{host}:{port}").parse().expect("server address");
    let mut relay = Relay::start(upstream).await;
    let config = PostgresConfig::from_connection_string(
        &format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres sslmode=disable connect_timeout=5",
            relay.port
        ),
        common::fresh_dataset("restart"),
    )
    .expect("config");
    let t = format!("\"{}\".\"events\"", config.dataset_name);
    let destination = PostgresDestination::new(config).expect("valid");
    let s = Session::start(&destination).await;
    let sc = events_schema();
    s.update(&sc).await;
    s.load(
        &sc,
        "1.1",
        "events",
        "one",
        events_rows("1.1", &[1, 2], &[None, None], &["a", "b"]),
    )
    .await;

    // The server goes away: the job fails on the broken connection, then on the refused reconnect;
    // both are transient, so the loader would retry.
    relay.go_down().await;
    let job = common_job(
        &s,
        &sc,
        "1.1",
        "two",
        events_rows("1.1", &[3, 4], &[None, None], &["c", "d"]),
    );
    for attempt in ["on the broken connection", "while the server refuses connections"] {
        let err = s.client.load_job(&job).await.expect_err("the server is down");
        assert_eq!(err.kind(), ErrorKind::Transient, "{attempt}: {err}");
    }
    relay.come_back().await;
    let report = s
        .client
        .load_job(&job)
        .await
        .expect("the retry after the restart");
    assert_eq!(report.rows, Some(2));
    s.complete(&sc, "1.1").await;
    assert_eq!(s.count(&t).await, 4, "each job loaded once");
    s.finish().await;
}
