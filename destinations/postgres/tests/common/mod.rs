//! Finding the test server: `LOOKER_LOAD_TEST_POSTGRES_URL` (a connection URL to a database where the
//! tests may create and drop schemas, e.g. the one `scripts/pg.sh start` prints). Without it the
//! tests print why and pass, unless `LOOKER_LOAD_REQUIRE_POSTGRES=1` (CI), where a missing server fails.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use postgres_dest::{PostgresConfig, PostgresDestination};

/// The URL of the test server, or `None` (after saying why) when tests should return early.
pub fn server_url(test: &str) -> Option<String> {
    match std::env::var("LOOKER_LOAD_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            let required = std::env::var("LOOKER_LOAD_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
                || std::env::var("CI").is_ok_and(|v| v == "true");
            assert!(
                !required,
                "{test}: a PostgreSQL server is required here (CI or LOOKER_LOAD_REQUIRE_POSTGRES=1) but \
                 LOOKER_LOAD_TEST_POSTGRES_URL is not set \
                 (start a server with scripts/pg.sh start)"
            );
            eprintln!(
                "{test}: no PostgreSQL server (set LOOKER_LOAD_TEST_POSTGRES_URL, e.g. from scripts/pg.sh start); \
                 returning without running"
            );
            None
        }
    }
}

/// A dataset name no other test (or earlier run) uses.
pub fn fresh_dataset(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A destination on the test server with a fresh dataset.
pub fn destination(url: &str, prefix: &str) -> PostgresDestination {
    let config = PostgresConfig::from_connection_string(url, fresh_dataset(prefix)).expect("test server URL");
    PostgresDestination::new(config).expect("valid config")
}

/// The test server's `(host, port)` from its URL.
pub fn host_port(url: &str) -> (String, u16) {
    let config = PostgresConfig::from_connection_string(url, "ds").expect("test server URL");
    let server = config.server();
    let (host, port) = server.rsplit_once(':').expect("host:port");
    (host.to_string(), port.parse().expect("port"))
}

/// The CA file `scripts/pg.sh` made for the server's certificate (the URL's `sslrootcert`), and the
/// second CA next to it that signed nothing. Fails when the server was started without TLS.
pub fn ca_files(url: &str) -> (String, String) {
    let config = PostgresConfig::from_connection_string(url, "ds").expect("test server URL");
    let ca = config.tls().root_cert.clone().expect(
        "the test server URL has no sslrootcert: start the server with scripts/pg.sh (needs the openssl CLI)",
    );
    let other = ca.with_file_name("other-ca.crt");
    assert!(
        ca.is_file() && other.is_file(),
        "{} and other-ca.crt next to it",
        ca.display()
    );
    (ca.display().to_string(), other.display().to_string())
}

/// Runs `sql` as the test server's superuser.
pub async fn admin(url: &str, sql: &str) -> destination::QueryResult {
    use destination::Destination;
    let client = destination(url, "admin")
        .connect()
        .await
        .expect("connect as admin");
    client.query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}
