//! End-to-end data tests of `looker-load run`, `extract`, `normalize` and `load` against a mock Looker
//! and a real DuckDB file: every table's rows equal what dlt's relational normalizer makes of the items
//! the mock serves, the dlt tables record each load, and write dispositions, schema evolution and
//! destination failures behave as dlt's do.

mod common;

use std::collections::BTreeMap;
use std::io::Read as _;

use common::{Mock, Project, assert_ok, column, expected_rows, stderr, stdout, table_rows};
use looker_mock::MockConfig;

const DATASET: &str = "looker_data_data";
const ALL: &str = "users,looks,dashboards,queries,projects,folders,groups,roles,lookml_models,scheduled_plans,connections,user_attributes";
const RESOURCES: [&str; 12] = [
    "users",
    "looks",
    "dashboards",
    "queries",
    "projects",
    "folders",
    "groups",
    "roles",
    "lookml_models",
    "scheduled_plans",
    "connections",
    "user_attributes",
];
/// Users loaded with `merge` (primary key `id`) instead of the default `replace`.
const USERS_MERGE: &str = "[sources.looker_data_source.resources.users]\nwrite_disposition = \"merge\"\n";
/// Users loaded with `append`.
const USERS_APPEND: &str = "[sources.looker_data_source.resources.users]\nwrite_disposition = \"append\"\n";

fn mock(users: usize, revision: u64) -> Mock {
    Mock::start(MockConfig {
        revision,
        ..MockConfig::with_size(users, users / 10, users / 20)
    })
}

/// The dataset's tables without dlt's own, with their row counts.
fn data_tables(project: &Project) -> BTreeMap<String, u64> {
    table_rows(&project.database(), DATASET)
        .into_iter()
        .filter(|(t, _)| !t.starts_with("_dlt_"))
        .collect()
}

fn sql(project: &Project, query: &str) -> Vec<Option<String>> {
    column(&project.database(), query)
}

fn count(project: &Project, query: &str) -> i64 {
    common::number(&project.database(), query)
}

/// The `_dlt_pipeline_state` rows' `state`, decoded: base64 → zlib → JSON.
fn pipeline_states(project: &Project) -> Vec<serde_json::Value> {
    use base64::Engine as _;
    sql(
        project,
        &format!("SELECT state FROM {DATASET}._dlt_pipeline_state ORDER BY created_at"),
    )
    .into_iter()
    .map(|state| {
        let compressed = base64::engine::general_purpose::STANDARD
            .decode(state.expect("state is set"))
            .expect("state is base64");
        let mut json = String::new();
        flate2::read::ZlibDecoder::new(compressed.as_slice())
            .read_to_string(&mut json)
            .expect("state is zlib-compressed text");
        serde_json::from_str(&json).expect("state is JSON")
    })
    .collect()
}

#[test]
fn run_loads_every_table_with_the_rows_the_relational_normalizer_gives() {
    let mock = mock(230, 0);
    assert_eq!(mock.dataset().count("users"), 230);
    let project = Project::new();
    let out = project.run_against(&mock, &["run", "--page-size", "100", "--resources", ALL], &[]);
    assert_ok(&out, "run");

    let tables = common::expected_tables(mock.dataset(), &RESOURCES);
    let expected = tables.rows.clone();
    // Child tables of lists of scalars and of objects, below nested objects, and below a map key
    // with a dot (`orders.created_date`).
    for table in [
        "users__role_ids",
        "dashboards__dashboard_elements",
        "dashboards__dashboard_elements__result_maker__query__fields",
        "queries__filter_config__orders_created_date__values",
    ] {
        assert!(expected.contains_key(table), "{table} in {expected:?}");
    }
    assert_eq!(data_tables(&project), expected);

    // Data columns are the flattened, snake_cased keys that received a value (variants aside); root
    // tables carry dlt's row id and load id, child tables their parent's id and list position.
    let loaded = all_columns(&project);
    for (table, expected_columns) in &tables.columns {
        let columns = &loaded[table];
        let data: std::collections::BTreeSet<String> = columns
            .iter()
            .filter(|c| !c.starts_with("_dlt_") && !c.contains("__v_"))
            .cloned()
            .collect();
        assert_eq!(&data, expected_columns, "columns of {table}");
        let dlt: Vec<&str> = columns
            .iter()
            .filter(|c| c.starts_with("_dlt_"))
            .map(String::as_str)
            .collect();
        if table.contains("__") {
            assert_eq!(dlt, ["_dlt_id", "_dlt_list_idx", "_dlt_parent_id"], "{table}");
        } else {
            assert_eq!(dlt, ["_dlt_id", "_dlt_load_id"], "{table}");
        }
    }
    for column in [
        "can__show",
        "ui_state__homepage_group_id_preference",
        "credentials_email__email",
    ] {
        assert!(loaded["users"].contains(column), "users.{column}");
    }
    // Map keys that are LookML field names (`users.state`) become `filters__users_state`.
    let filters: Vec<&String> = loaded["queries"]
        .iter()
        .filter(|c| c.starts_with("filters__"))
        .collect();
    assert!(filters.len() >= 3, "{filters:?}");
    assert!(filters.iter().all(|c| !c.contains('.')), "{filters:?}");

    let loads = sql(
        &project,
        &format!("SELECT status::VARCHAR FROM {DATASET}._dlt_loads"),
    );
    assert_eq!(loads, [Some("0".to_owned())]);
    assert_eq!(
        count(&project, &format!("SELECT count(*) FROM {DATASET}._dlt_version")),
        1
    );
    let states = pipeline_states(&project);
    assert_eq!(states.len(), 1);
    assert_eq!(
        states[0]["pipeline_name"], "looker_data_pipeline",
        "{}",
        states[0]
    );
    assert_eq!(states[0]["dataset_name"], DATASET, "{}", states[0]);
    // The root tables carry the load id of the package that `_dlt_loads` records.
    let load_ids = sql(
        &project,
        &format!("SELECT DISTINCT _dlt_load_id FROM {DATASET}.users"),
    );
    assert_eq!(
        load_ids,
        sql(&project, &format!("SELECT load_id FROM {DATASET}._dlt_loads"))
    );
    assert!(project.packages("normalized").is_empty());
    assert_eq!(project.packages("loaded").len(), 1);
    let printed = stdout(&out);
    assert!(printed.contains("- users: 230 row(s)"), "{printed}");
}

/// Column names per table of the dataset.
fn all_columns(project: &Project) -> BTreeMap<String, std::collections::BTreeSet<String>> {
    let conn = common::open_database(&project.database());
    let query = format!(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = '{DATASET}'"
    );
    let mut stmt = conn.prepare(&query).expect("prepare");
    let mut out: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for row in stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .expect("columns")
    {
        let (table, column) = row.expect("row");
        out.entry(table).or_default().insert(column);
    }
    out
}

/// Column names of a table of the dataset.
fn columns(project: &Project, table: &str) -> Vec<String> {
    sql(
        project,
        &format!(
            "SELECT column_name FROM information_schema.columns \
             WHERE table_schema = '{DATASET}' AND table_name = '{table}' ORDER BY column_name"
        ),
    )
    .into_iter()
    .map(|c| c.expect("column name"))
    .collect()
}

/// `id → value of field` of every item the mock serves for `resource`.
fn served_field(mock: &Mock, resource: &str, field: &str) -> BTreeMap<String, String> {
    common::served_items(mock.dataset(), resource)
        .iter()
        .map(|item| {
            let id = item["id"].as_str().expect("string id").to_owned();
            let value = match &item[field] {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (id, value)
        })
        .collect()
}

/// `id → field` of a table, as text.
fn loaded_field(project: &Project, table: &str, field: &str) -> BTreeMap<String, String> {
    let conn = common::open_database(&project.database());
    let query = format!("SELECT id::VARCHAR, {field}::VARCHAR FROM {DATASET}.{table}");
    let mut stmt = conn.prepare(&query).unwrap_or_else(|e| panic!("{query}: {e}"));
    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .map(|r| r.expect("row"))
        .collect()
}

#[test]
fn replace_twice_gives_the_same_rows_and_two_loads() {
    let mock = mock(60, 0);
    let project = Project::new();
    let args = ["run", "--resources", ALL];
    assert_ok(&project.run_against(&mock, &args, &[]), "first run");
    let first = data_tables(&project);
    assert_eq!(first, expected_rows(mock.dataset(), &RESOURCES));
    assert_ok(&project.run_against(&mock, &args, &[]), "second run");
    assert_eq!(data_tables(&project), first);
    let loads = sql(
        &project,
        &format!("SELECT status::VARCHAR FROM {DATASET}._dlt_loads"),
    );
    assert_eq!(loads, [Some("0".to_owned()), Some("0".to_owned())]);
    // The schema did not change: one stored version; one state row per load.
    assert_eq!(
        count(&project, &format!("SELECT count(*) FROM {DATASET}._dlt_version")),
        1
    );
    assert_eq!(pipeline_states(&project).len(), 2);
    assert_eq!(project.packages("loaded").len(), 2);
}

#[test]
fn a_replace_resource_without_rows_empties_its_tables_as_dlt_does() {
    let project = Project::new();
    let args = ["run", "--resources", "users,looks"];
    let full = mock(60, 0);
    assert_ok(&project.run_against(&full, &args, &[]), "first run");
    let first = data_tables(&project);
    assert!(first["users"] > 0 && first["users__role_ids"] > 0, "{first:?}");
    drop(full);
    // The instance now has no users (looks keep theirs): users and its child tables are emptied.
    let empty = Mock::start(MockConfig {
        users: 0,
        ..MockConfig::with_size(60, 6, 3)
    });
    assert_ok(&project.run_against(&empty, &args, &[]), "second run");
    let second = data_tables(&project);
    for (table, rows) in &second {
        if table.starts_with("users") {
            assert_eq!(*rows, 0, "{table}: {second:?}");
        } else {
            assert_eq!(Some(rows), first.get(table), "{table}");
        }
    }
    assert_eq!(second.len(), first.len(), "no table is dropped");
}

#[test]
fn append_twice_doubles_users_and_their_children() {
    let mock = mock(60, 0);
    let project = Project::new();
    project.write(".dlt/config.toml", USERS_APPEND);
    let args = ["run", "--resources", "users,looks"];
    assert_ok(&project.run_against(&mock, &args, &[]), "first run");
    let expected = expected_rows(mock.dataset(), &["users", "looks"]);
    assert_eq!(data_tables(&project), expected);
    assert_ok(&project.run_against(&mock, &args, &[]), "second run");
    let second = data_tables(&project);
    for (table, rows) in &expected {
        // Users append; looks keep the default replace.
        let factor = if table.starts_with("users") { 2 } else { 1 };
        assert_eq!(second.get(table), Some(&(rows * factor)), "{table}");
    }
    assert_eq!(second["users"], 120);
    assert_eq!(second["users__role_ids"], 2 * expected["users__role_ids"]);
    // Appended rows are new rows, each with its own id.
    let distinct = count(
        &project,
        &format!("SELECT count(DISTINCT _dlt_id) FROM {DATASET}.users__role_ids"),
    );
    assert_eq!(distinct as u64, second["users__role_ids"]);
}

#[test]
fn merge_updates_changed_users_in_place_and_replaces_their_children() {
    let project = Project::new();
    project.write(".dlt/config.toml", USERS_MERGE);
    let args = ["run", "--resources", "users"];
    {
        let rev0 = mock(230, 0);
        assert_ok(&project.run_against(&rev0, &args, &[]), "run at revision 0");
        assert_eq!(data_tables(&project), expected_rows(rev0.dataset(), &["users"]));
    }
    let rev1 = mock(230, 1);
    assert_ok(&project.run_against(&rev1, &args, &[]), "run at revision 1");
    let expected = expected_rows(rev1.dataset(), &["users"]);
    // Revision 1 changed the length of some users' `looker_versions`: their old children must go.
    let rev0 = looker_mock::Dataset::new(&MockConfig::with_size(230, 23, 11));
    let changed_lists = common::served_items(&rev0, "users")
        .iter()
        .zip(common::served_items(rev1.dataset(), "users"))
        .filter(|(a, b)| a["looker_versions"] != b["looker_versions"])
        .count();
    assert_eq!(changed_lists, 32, "users with ids divisible by 7");
    assert_eq!(
        data_tables(&project),
        expected,
        "one row per user, children not duplicated"
    );
    // Each user's versions are those of revision 1, in order.
    let mut versions = sql(
        &project,
        &format!(
            "SELECT u.id || ':' || string_agg(v.value, ',' ORDER BY v._dlt_list_idx) \
             FROM {DATASET}.users u JOIN {DATASET}.users__looker_versions v ON v._dlt_parent_id = u._dlt_id \
             GROUP BY u.id ORDER BY u.id"
        ),
    );
    let mut served: Vec<Option<String>> = common::served_items(rev1.dataset(), "users")
        .iter()
        .map(|u| {
            let list: Vec<&str> = u["looker_versions"]
                .as_array()
                .expect("list")
                .iter()
                .map(|v| v.as_str().expect("version"))
                .collect();
            Some(format!("{}:{}", u["id"].as_str().expect("id"), list.join(",")))
        })
        .collect();
    served.sort();
    versions.sort();
    assert_eq!(versions, served);
    assert_eq!(
        count(
            &project,
            &format!("SELECT count(DISTINCT id) FROM {DATASET}.users")
        ),
        230
    );
    for field in ["first_name", "display_name", "email"] {
        assert_eq!(
            loaded_field(&project, "users", field),
            served_field(&rev1, "users", field),
            "{field}"
        );
    }
    // Revision 1 renamed users: the loaded names are the new ones.
    let renamed = served_field(&rev1, "users", "first_name");
    assert_eq!(renamed["7"], loaded_field(&project, "users", "first_name")["7"]);
    // Every child row hangs off a loaded user, through `_dlt_root_id` (merge propagates it).
    for child in expected.keys().filter(|t| t.starts_with("users__")) {
        let orphans = count(
            &project,
            &format!(
                "SELECT count(*) FROM {DATASET}.{child} c WHERE c._dlt_root_id IS NULL \
                 OR NOT EXISTS (SELECT 1 FROM {DATASET}.users u WHERE u._dlt_id = c._dlt_root_id)"
            ),
        );
        assert_eq!(orphans, 0, "{child}");
    }
    drop(rev1);

    // Revision 2 appends three users: merge inserts them and keeps everyone else once.
    let rev2 = mock(230, 2);
    assert_ok(&project.run_against(&rev2, &args, &[]), "run at revision 2");
    assert_eq!(data_tables(&project), expected_rows(rev2.dataset(), &["users"]));
    assert_eq!(
        loaded_field(&project, "users", "first_name"),
        served_field(&rev2, "users", "first_name")
    );
    assert_eq!(
        sql(
            &project,
            &format!("SELECT count(*)::VARCHAR FROM {DATASET}._dlt_loads WHERE status = 0")
        ),
        [Some("3".to_owned())]
    );
}

#[test]
fn a_new_field_becomes_a_new_column_and_old_columns_stay() {
    let project = Project::new();
    let args = ["run", "--resources", "users,looks"];
    {
        let rev0 = mock(60, 0);
        assert_ok(&project.run_against(&rev0, &args, &[]), "run at revision 0");
    }
    let before = columns(&project, "users");
    assert!(before.contains(&"first_name".to_owned()), "{before:?}");
    assert!(!before.contains(&"is_partner".to_owned()), "{before:?}");

    let rev1 = mock(60, 1);
    assert_ok(&project.run_against(&rev1, &args, &[]), "run at revision 1");
    let after = columns(&project, "users");
    let added: Vec<&String> = after.iter().filter(|c| !before.contains(c)).collect();
    assert_eq!(added, ["is_partner"]);
    assert!(before.iter().all(|c| after.contains(c)), "{before:?} → {after:?}");
    let types = sql(
        &project,
        &format!(
            "SELECT data_type FROM information_schema.columns WHERE table_schema = '{DATASET}' \
             AND table_name = 'users' AND column_name = 'is_partner'"
        ),
    );
    assert_eq!(types, [Some("BOOLEAN".to_owned())]);
    assert_eq!(
        loaded_field(&project, "users", "is_partner"),
        served_field(&rev1, "users", "is_partner")
    );
    assert_eq!(
        loaded_field(&project, "looks", "title"),
        served_field(&rev1, "looks", "title")
    );
    assert_eq!(
        data_tables(&project),
        expected_rows(rev1.dataset(), &["users", "looks"])
    );
    // A changed schema is stored as a new version.
    assert_eq!(
        count(&project, &format!("SELECT count(*) FROM {DATASET}._dlt_version")),
        2
    );
}

#[test]
fn extract_normalize_and_load_as_separate_commands() {
    let mock = mock(230, 0);
    let project = Project::new();
    let out = project.run_against(&mock, &["extract", "--page-size", "100", "--resources", ALL], &[]);
    assert_ok(&out, "extract");
    let out = project.run(&["normalize"]);
    assert_ok(&out, "normalize");
    let pending = project.packages("normalized");
    assert_eq!(pending.len(), 1, "{}", stdout(&out));

    // The package's Parquet files hold the expected rows of every table (issue 02).
    let expected = expected_rows(mock.dataset(), &RESOURCES);
    let jobs = project
        .working_dir()
        .join("load/normalized")
        .join(&pending[0])
        .join("new_jobs");
    let parquet = duckdb::Connection::open_in_memory().expect("in-memory DuckDB");
    for (table, rows) in &expected {
        let glob = jobs.join(format!("{table}.*.parquet"));
        let query = format!("SELECT count(*) FROM read_parquet('{}')", glob.display());
        let n: i64 = parquet
            .query_row(&query, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{query}: {e}"));
        assert_eq!(n as u64, *rows, "{table}");
    }
    let query = format!(
        "SELECT count(*) FROM read_parquet('{}') WHERE first_name IS NOT NULL AND _dlt_load_id = '{}'",
        jobs.join("users.*.parquet").display(),
        pending[0]
    );
    let named: i64 = parquet.query_row(&query, [], |r| r.get(0)).expect(&query);
    assert_eq!(named, 230);
    drop(parquet);

    let out = project.run(&["load"]);
    assert_ok(&out, "load");
    assert!(project.packages("normalized").is_empty());
    assert_eq!(project.packages("loaded"), pending);
    assert_eq!(data_tables(&project), expected);
    assert_eq!(
        sql(&project, &format!("SELECT load_id FROM {DATASET}._dlt_loads")),
        [Some(pending[0].clone())]
    );

    // Nothing is left pending: load and normalize have nothing to do, and run loads only its own data.
    let out = project.run(&["load"]);
    assert_ok(&out, "second load");
    assert!(
        stdout(&out).contains("No pending load packages"),
        "{}",
        stdout(&out)
    );
    let out = project.run(&["normalize"]);
    assert_ok(&out, "second normalize");
    assert!(stdout(&out).contains("No pending extracts"), "{}", stdout(&out));
    let out = project.run_against(&mock, &["run", "--resources", ALL], &[]);
    assert_ok(&out, "run");
    assert!(
        stdout(&out).contains("1 load package(s) were loaded"),
        "{}",
        stdout(&out)
    );
    assert_eq!(data_tables(&project), expected);
    assert_eq!(
        count(&project, &format!("SELECT count(*) FROM {DATASET}._dlt_loads")),
        2
    );
}

#[test]
fn a_bad_database_path_exits_2_and_keeps_the_package_for_the_next_run() {
    let mock = mock(60, 0);
    let project = Project::new();
    let bad = "/nonexistent/dir/x.duckdb";
    let args = ["run", "--resources", "users,looks"];

    // A fresh run with a bad path fails before asking Looker for anything.
    let out = project.run_against(&mock, &args, &[("DESTINATION__DUCKDB__CREDENTIALS", bad)]);
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(bad), "{err}");
    assert!(err.contains("DESTINATION__DUCKDB__CREDENTIALS"), "{err}");
    assert_eq!(
        mock.server().stats().total_requests,
        0,
        "nothing extracted in vain"
    );
    assert!(!std::path::Path::new(bad).exists());

    // A package left pending by separate steps survives a run with a bad path.
    assert_ok(
        &project.run_against(&mock, &["extract", "--resources", "users,looks"], &[]),
        "extract",
    );
    assert_ok(&project.run(&["normalize"]), "normalize");
    let pending = project.packages("normalized");
    assert_eq!(pending.len(), 1);
    let out = project.run_against(&mock, &args, &[("DESTINATION__DUCKDB__CREDENTIALS", bad)]);
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("kept"), "{}", stderr(&out));
    assert_eq!(
        project.packages("normalized"),
        pending,
        "the normalized package is kept"
    );

    // The next run with a good path loads the kept package first, then its own.
    let out = project.run_against(&mock, &args, &[]);
    assert_ok(&out, "run with the default path");
    assert!(
        stdout(&out).contains("2 load package(s) were loaded"),
        "{}",
        stdout(&out)
    );
    let loads = sql(
        &project,
        &format!("SELECT load_id FROM {DATASET}._dlt_loads ORDER BY load_id"),
    );
    assert_eq!(loads.len(), 2);
    assert_eq!(loads[0].as_deref(), Some(pending[0].as_str()));
    assert!(project.packages("normalized").is_empty());
    // Both packages replace users and looks: the rows are those of one load.
    assert_eq!(
        data_tables(&project),
        expected_rows(mock.dataset(), &["users", "looks"])
    );
}

#[test]
fn a_locked_database_exits_1_and_keeps_the_package() {
    let mock = mock(60, 0);
    let project = Project::new();
    assert_ok(
        &project.run_against(&mock, &["extract", "--resources", "users"], &[]),
        "extract",
    );
    assert_ok(&project.run(&["normalize"]), "normalize");
    let pending = project.packages("normalized");
    assert_eq!(pending.len(), 1);

    // This process holds DuckDB's write lock on the file, as a DuckDB shell or notebook would.
    let holder = duckdb::Connection::open(project.database()).expect("open the database");
    let out = project.run_against(&mock, &["run", "--resources", "users"], &[]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("looker_data_pipeline.duckdb"), "{err}");
    assert!(err.contains("locked"), "{err}");
    assert_eq!(
        project.packages("normalized"),
        pending,
        "the normalized package is kept"
    );

    drop(holder);
    let out = project.run(&["load"]);
    assert_ok(&out, "load after the lock is released");
    assert_eq!(project.packages("loaded"), pending);
    assert_eq!(data_tables(&project), expected_rows(mock.dataset(), &["users"]));
}

/// The naming the expectations above rely on, checked against dlt's own examples.
#[test]
fn snake_case_follows_dlt() {
    for (raw, normalized) in [
        ("firstName", "first_name"),
        ("HTTPResponseCode", "http_response_code"),
        ("homepageGroupIdPreference", "homepage_group_id_preference"),
        ("1st place", "_1st_place"),
        ("Weird Name!!", "weird_namex"),
        ("email@domain", "emailadomain"),
        ("ÄÖÜ umlaut", "_umlaut"),
        ("trailing_", "trailingx"),
        ("orders.created_date", "orders_created_date"),
        ("a__b", "a_b"),
    ] {
        assert_eq!(common::snake_case(raw), normalized, "{raw}");
    }
}

#[test]
fn duckdb_global_config_from_dlt_settings_reaches_the_database() {
    let project = Project::new();
    project.write(
        ".dlt/config.toml",
        "[destination.duckdb.credentials.global_config]\nthreads = 2\nmemory_limit = \"400MB\"\n",
    );
    assert_ok(&project.run(&["run", "--demo", "--demo-users", "20"]), "run");
    let out = project.run(&["query", "SELECT current_setting('threads')::VARCHAR AS t"]);
    assert_ok(&out, "query");
    assert!(stdout(&out).lines().any(|l| l.trim() == "2"), "{}", stdout(&out));

    // The environment form is JSON; a setting DuckDB refuses names global_config and loads nothing.
    let project = Project::new();
    let out = project
        .command()
        .env(
            "DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG",
            r#"{"no_such_setting": 1}"#,
        )
        .args(["run", "--demo", "--demo-users", "20"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("global_config"), "{}", stderr(&out));
}
