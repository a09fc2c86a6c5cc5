//! `looker-load run --destination postgres` end to end against a real PostgreSQL server (`just test` starts
//! one with scripts/pg.sh and sets LOOKER_LOAD_TEST_POSTGRES_URL).

mod common;

use common::{Project, stderr, stdout};

/// The test server's URL; without one the test returns early, except in CI where it fails.
fn server_url() -> Option<String> {
    match std::env::var("LOOKER_LOAD_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            let required = std::env::var("LOOKER_LOAD_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
                || std::env::var("CI").is_ok_and(|v| v == "true");
            assert!(
                !required,
                "a PostgreSQL server is required but LOOKER_LOAD_TEST_POSTGRES_URL is not set"
            );
            eprintln!("no PostgreSQL server (set LOOKER_LOAD_TEST_POSTGRES_URL); returning without running");
            None
        }
    }
}

#[test]
fn run_demo_into_postgres_loads_every_row_and_query_answers() {
    let Some(url) = server_url() else { return };
    let project = Project::new();
    let dataset = format!("looker_e2e_{}", std::process::id());
    let env = |cmd: &mut std::process::Command| {
        cmd.env("DESTINATION__POSTGRES__CREDENTIALS", &url)
            .env("DATASET_NAME", &dataset);
    };
    let mut run = project.command();
    env(&mut run);
    let out = run
        .args(["--destination", "postgres", "run", "--demo", "--demo-users", "50"])
        .output()
        .expect("run");
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert!(stdout(&out).contains("destination postgres"), "{}", stdout(&out));

    let query = |sql: &str| {
        let mut cmd = project.command();
        env(&mut cmd);
        cmd.args(["--destination", "postgres", "query", sql])
            .output()
            .expect("query")
    };
    let out = query(&format!("select count(*) from {dataset}.users"));
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert!(stdout(&out).lines().any(|l| l.trim() == "50"), "{}", stdout(&out));
    let out = query(&format!(
        "select count(*) from {dataset}._dlt_loads where status = 0"
    ));
    assert!(stdout(&out).lines().any(|l| l.trim() == "1"), "{}", stdout(&out));

    for schema in [format!("{dataset}_staging"), dataset.clone()] {
        let out = query(&format!("drop schema if exists {schema} cascade"));
        assert!(out.status.success(), "cleanup: {}", stderr(&out));
    }
}
