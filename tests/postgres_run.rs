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

// ----- errors through the binary: one line naming the setting, the package kept -------------------

/// `host`, `port` of the test server URL (`postgresql://user@host:port/db?...`).
fn host_port(url: &str) -> (String, String) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = host_port.rsplit_once(':').expect("the test URL has host:port");
    (host.to_string(), port.to_string())
}

/// A project with one normalized package (20 demo users) for Postgres (63-byte names) waiting to be
/// loaded into `dataset`.
fn project_with_a_package(url: &str, dataset: &str) -> Project {
    let project = Project::new();
    for args in [
        &["extract", "--demo", "--demo-users", "20"][..],
        &["normalize"][..],
    ] {
        let out = postgres(&project, url, dataset, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(pending(&project), 1, "one normalized package");
    project
}

/// Load packages waiting in `load/normalized/`.
fn pending(project: &Project) -> usize {
    std::fs::read_dir(project.working_dir().join("load/normalized"))
        .map(|d| d.count())
        .unwrap_or_default()
}

/// `looker-load --destination postgres <args>` with `credentials` and `dataset`.
fn postgres(project: &Project, credentials: &str, dataset: &str, args: &[&str]) -> std::process::Output {
    project
        .command()
        .env("DESTINATION__POSTGRES__CREDENTIALS", credentials)
        .env("DATASET_NAME", dataset)
        .arg("--destination")
        .arg("postgres")
        .args(args)
        .output()
        .expect("run looker-load")
}

/// Runs `sql` on the test server as its superuser, through `looker-load query`.
fn admin(url: &str, sql: &str) {
    let project = Project::new();
    let out = postgres(&project, url, "looker_admin", &["query", sql]);
    assert!(out.status.success(), "{sql}: {}", stderr(&out));
}

/// The failed load's output: a non-zero exit, and one error line naming `key` and none of `secrets`.
fn assert_one_line_naming(out: &std::process::Output, key: &str, secrets: &[&str]) {
    assert!(!out.status.success(), "the load must fail: {}", stdout(out));
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(out);
    let lines: Vec<&str> = err.lines().filter(|l| l.contains(key)).collect();
    assert_eq!(lines.len(), 1, "one line names {key}: {err}");
    for secret in secrets {
        assert!(
            !err.contains(secret) && !stdout(out).contains(secret),
            "{secret} leaked: {err}"
        );
    }
}

/// Loads the kept package with working `credentials` and checks the 20 users arrived.
fn load_fixed(project: &Project, credentials: &str, dataset: &str) {
    let out = postgres(project, credentials, dataset, &["load"]);
    assert!(out.status.success(), "load with fixed settings: {}", stderr(&out));
    assert_eq!(pending(project), 0, "the kept package is loaded");
    let out = postgres(
        project,
        credentials,
        dataset,
        &["query", &format!("select count(*) from {dataset}.users")],
    );
    assert!(stdout(&out).lines().any(|l| l.trim() == "20"), "{}", stdout(&out));
}

fn drop_dataset(url: &str, dataset: &str) {
    admin(url, &format!("drop schema if exists {dataset}_staging cascade"));
    admin(url, &format!("drop schema if exists {dataset} cascade"));
}

#[test]
fn wrong_password_names_the_password_setting_and_keeps_the_package() {
    let Some(url) = server_url() else { return };
    let (host, port) = host_port(&url);
    let role = format!("looker_pw_{}", std::process::id());
    let dataset = format!("looker_pw_{}", std::process::id());
    admin(
        &url,
        &format!("create role {role} login password 'right-Pa55' in role looker_load_password"),
    );
    admin(&url, &format!("grant create on database postgres to {role}"));
    let project = project_with_a_package(&url, &dataset);
    let wrong = format!("postgresql://{role}:wr0ng-Secret@{host}:{port}/postgres?sslmode=disable");
    let out = postgres(&project, &wrong, &dataset, &["load"]);
    assert_one_line_naming(
        &out,
        "DESTINATION__POSTGRES__CREDENTIALS__PASSWORD",
        &["wr0ng-Secret"],
    );
    assert_eq!(pending(&project), 1, "the package is kept");
    let right = format!("postgresql://{role}:right-Pa55@{host}:{port}/postgres?sslmode=disable");
    load_fixed(&project, &right, &dataset);
    drop_dataset(&url, &dataset);
    admin(&url, &format!("revoke create on database postgres from {role}"));
    admin(&url, &format!("drop role {role}"));
}

#[test]
fn unreachable_host_and_missing_database_name_their_settings_and_keep_the_package() {
    let Some(url) = server_url() else { return };
    let (host, port) = host_port(&url);
    let dataset = format!("looker_unreach_{}", std::process::id());
    let project = project_with_a_package(&url, &dataset);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let unreachable = format!("postgresql://postgres:pw-Unseen@127.0.0.1:{closed}/postgres?sslmode=disable");
    let out = postgres(&project, &unreachable, &dataset, &["load"]);
    assert_one_line_naming(&out, "DESTINATION__POSTGRES__CREDENTIALS__HOST", &["pw-Unseen"]);
    assert_eq!(out.status.code(), Some(2), "a configuration error");
    assert_eq!(pending(&project), 1, "the package is kept");

    let missing = format!("postgresql://postgres@{host}:{port}/no_such_database?sslmode=disable");
    let out = postgres(&project, &missing, &dataset, &["load"]);
    assert_one_line_naming(&out, "DESTINATION__POSTGRES__CREDENTIALS__DATABASE", &[]);
    assert!(stderr(&out).contains("no_such_database"), "{}", stderr(&out));
    assert_eq!(pending(&project), 1, "the package is kept");

    load_fixed(&project, &url, &dataset);
    drop_dataset(&url, &dataset);
}

#[test]
fn create_schema_denied_names_the_user_setting_and_a_grant_fixes_it() {
    let Some(url) = server_url() else { return };
    let (host, port) = host_port(&url);
    let role = format!("looker_nocreate_{}", std::process::id());
    let dataset = format!("looker_denied_{}", std::process::id());
    admin(&url, &format!("create role {role} login"));
    let project = project_with_a_package(&url, &dataset);
    let credentials = format!("postgresql://{role}@{host}:{port}/postgres?sslmode=disable");
    let out = postgres(&project, &credentials, &dataset, &["load"]);
    assert_one_line_naming(&out, "DESTINATION__POSTGRES__CREDENTIALS__USERNAME", &[]);
    assert!(stderr(&out).contains("may not create schema"), "{}", stderr(&out));
    assert_eq!(pending(&project), 1, "the package is kept");

    admin(&url, &format!("grant create on database postgres to {role}"));
    load_fixed(&project, &credentials, &dataset);
    drop_dataset(&url, &dataset);
    admin(&url, &format!("revoke create on database postgres from {role}"));
    admin(&url, &format!("drop role {role}"));
}

#[test]
fn verify_full_through_the_binary_encrypts_and_a_wrong_ca_names_sslrootcert() {
    let Some(url) = server_url() else { return };
    let Some((_, root)) = url.split_once("sslrootcert=") else {
        panic!("the test server URL carries sslrootcert (scripts/pg.sh starts it with TLS): {url}");
    };
    let root = root.split('&').next().unwrap_or_default().to_owned();
    let other = root.replace("ca.crt", "other-ca.crt");
    assert!(std::path::Path::new(&other).is_file(), "{other}");
    let verify = |ca: &str| {
        url.replace("sslmode=disable", "sslmode=verify-full")
            .replace(&root, ca)
    };
    let dataset = format!("looker_tls_{}", std::process::id());
    let project = project_with_a_package(&url, &dataset);

    let out = postgres(&project, &verify(&other), &dataset, &["load"]);
    assert_one_line_naming(&out, "SSLROOTCERT", &[]);
    assert_eq!(pending(&project), 1, "the package is kept");

    let good = verify(&root);
    load_fixed(&project, &good, &dataset);
    let out = postgres(
        &project,
        &good,
        &dataset,
        &[
            "query",
            "select ssl from pg_stat_ssl where pid = pg_backend_pid()",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).lines().any(|l| l.trim() == "true"),
        "the connection is encrypted: {}",
        stdout(&out)
    );
    drop_dataset(&url, &dataset);
}
