//! End-to-end tests of the inspection commands: `info`, `trace`, `schema`, `query` and `drop`, against
//! pipelines loaded with `run --demo` into DuckDB.

mod common;

use std::collections::BTreeMap;

use common::{Project, stderr, stdout};
use package::PipelineDir;
use package::schema::Schema;

const PIPELINE: &str = "looker_data_pipeline";

/// Runs `run --demo` with 50 users and returns its standard output.
fn run_demo(project: &Project) -> String {
    let out = project.run(&["run", "--demo", "--demo-users", "50"]);
    assert!(out.status.success(), "run failed: {}", stderr(&out));
    stdout(&out)
}

/// The `- table: n row(s)` lines following the line that starts with `heading`.
fn rows_after(text: &str, heading: &str) -> BTreeMap<String, u64> {
    text.lines()
        .skip_while(|l| !l.starts_with(heading))
        .skip(1)
        .map_while(|l| {
            let (table, rest) = l.strip_prefix("- ")?.split_once(": ")?;
            let n = rest.strip_suffix(" row(s)")?.parse().ok()?;
            Some((table.to_owned(), n))
        })
        .collect()
}

/// The load ids the run summary calls LOADED.
fn loaded_ids(run_output: &str) -> Vec<String> {
    run_output
        .lines()
        .filter_map(|l| {
            l.strip_prefix("Load package ")?
                .strip_suffix(" is LOADED and contains no failed jobs")
        })
        .map(str::to_owned)
        .collect()
}

fn pipeline_dir(project: &Project) -> PipelineDir {
    PipelineDir::new(project.pipelines_dir(), PIPELINE).expect("pipeline dir")
}

/// `schema --format json`, parsed as a dlt schema.
fn schema_json(project: &Project) -> Schema {
    let out = project.run(&["schema", "--format", "json"]);
    assert!(out.status.success(), "schema failed: {}", stderr(&out));
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = PipelineDir::at(scratch.path());
    let path = dir.schema_path("looker_data_source").expect("schema path");
    std::fs::create_dir_all(path.parent().expect("schemas dir")).expect("mkdir");
    std::fs::write(&path, &out.stdout).expect("write schema");
    dir.read_schema("looker_data_source")
        .expect("schema --format json parses as a dlt schema")
        .expect("schema present")
}

fn table_names(schema: &Schema) -> Vec<String> {
    schema.tables.iter().map(|t| t.name.clone()).collect()
}

/// The single value of a one-row, one-column `query` table.
fn scalar(project: &Project, sql: &str) -> String {
    let out = project.run(&["query", sql]);
    assert!(out.status.success(), "query {sql} failed: {}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "header, rule, row, count: {text}");
    assert_eq!(lines[3], "(1 row)");
    lines[2].trim().to_owned()
}

#[test]
fn info_after_run_shows_dataset_loaded_package_and_nothing_pending() {
    let project = Project::new();
    let ids = loaded_ids(&run_demo(&project));
    assert_eq!(ids.len(), 1);
    let out = project.run(&["info"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("dataset:      looker_data_data"), "{text}");
    assert!(text.contains(&format!("Last load: package {}", ids[0])), "{text}");
    assert!(text.contains("Pending extracts: none"), "{text}");
    assert!(text.contains("Pending load packages: none"), "{text}");
    assert!(text.contains("COMPLETED"), "{text}");
    // The users resource: selected, its 5 tables, 50 rows, full refresh.
    let users = text
        .lines()
        .find(|l| l.trim_start().starts_with("users "))
        .expect("users row");
    let cols: Vec<&str> = users.split_whitespace().collect();
    assert_eq!(cols[..5], ["users", "yes", "5", "50", "replace"], "{users}");
    assert!(users.ends_with("full refresh"), "{users}");

    // `show --output` writes the HTML report of the same pipeline.
    let html = project.path().join("report.html");
    let out = project.run(&["show", "--output", html.to_str().expect("utf-8 path")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = std::fs::read_to_string(&html).expect("report written");
    assert!(
        page.starts_with("<!DOCTYPE html>"),
        "{}",
        &page[..page.len().min(200)]
    );
    assert!(page.contains(&ids[0]), "the report names the loaded package");
    assert!(page.contains("users__role_ids"), "the report lists the tables");
}

#[test]
fn trace_lists_steps_with_the_rows_of_the_run_summary() {
    let project = Project::new();
    let run = run_demo(&project);
    let loaded = rows_after(&run, "Loaded rows per table:");
    assert_eq!(loaded.get("users"), Some(&50));

    let out = project.run(&["trace"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("Run `looker-load run` of pipeline looker_data_pipeline"),
        "{text}"
    );
    assert!(text.contains("COMPLETED in"), "{text}");
    for step in ["extract", "normalize", "load"] {
        assert!(
            text.contains(&format!("Step {step} COMPLETED in ")),
            "{step}: {text}"
        );
    }
    assert!(text.contains("- users: 50 item(s)"), "{text}");
    let from_load = rows_after(&text, "Loaded load package");
    assert_eq!(from_load, loaded, "trace load step vs run summary");
    let from_normalize = rows_after(&text, "Normalized data");
    assert_eq!(from_normalize, loaded, "trace normalize step vs run summary");

    // --json prints trace.json as stored.
    let out = project.run(&["trace", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stored =
        std::fs::read_to_string(pipeline_dir(&project).root().join("trace.json")).expect("trace.json");
    assert_eq!(stdout(&out).trim_end(), stored.trim_end());
}

#[test]
fn schema_as_json_and_yaml_lists_the_same_tables() {
    let project = Project::new();
    run_demo(&project);
    let schema = schema_json(&project);
    let names = table_names(&schema);
    for table in ["users", "users__role_ids"] {
        let t = schema
            .table(table)
            .unwrap_or_else(|| panic!("{table} in {names:?}"));
        assert!(t.column("_dlt_id").is_some(), "{table} has _dlt_id");
    }
    assert_eq!(
        schema.table("users__role_ids").and_then(|t| t.parent.as_deref()),
        Some("users")
    );
    assert_eq!(
        schema
            .table("users")
            .and_then(|t| t.write_disposition)
            .map(|w| w.as_str()),
        Some("replace")
    );

    // YAML is the default; its table keys are the JSON's, in the same order.
    let out = project.run(&["schema"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let yaml = stdout(&out);
    let yaml_tables: Vec<String> = yaml
        .lines()
        .skip_while(|l| *l != "tables:")
        .skip(1)
        .take_while(|l| l.starts_with(' '))
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.trim().strip_suffix(':'))
        .map(str::to_owned)
        .collect();
    assert_eq!(yaml_tables, names);
    assert!(
        yaml.contains("\n    parent: users\n"),
        "nested tables name their parent"
    );
}

#[test]
fn query_prints_rows_as_table_or_json_and_fails_clearly_on_bad_sql() {
    let project = Project::new();
    run_demo(&project);
    assert_eq!(
        scalar(&project, "select count(*) from looker_data_data.users"),
        "50"
    );

    let out = project.run(&[
        "query",
        "--json",
        "select id, email from looker_data_data.users order by id limit 2",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(lines[0], "[");
    assert!(lines[1].starts_with("{\"id\":\"1\",\"email\":"), "{text}");
    assert_eq!(lines[3], "]");

    let out = project.run(&["query", "select * from looker_data_data.no_such_table"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("query failed"), "{err}");
    assert!(err.contains("no_such_table"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn drop_removes_the_resource_tables_and_state_and_the_next_run_recreates_them() {
    let project = Project::new();
    run_demo(&project);
    let looks = scalar(&project, "select count(*) from looker_data_data.looks");
    let users_tables: Vec<String> = table_names(&schema_json(&project))
        .into_iter()
        .filter(|t| t == "users" || t.starts_with("users__"))
        .collect();
    assert_eq!(users_tables.len(), 5, "{users_tables:?}");

    // State of two resources, as incremental loading keeps it; drop resets only the dropped one's.
    let dir = pipeline_dir(&project);
    let mut state = dir.read_state().expect("read state").expect("state");
    set_sources(
        &mut state,
        r#"{"looker_data_source": {"resources": {
            "users": {"incremental": {"updated_at": {"last_value": "2025-01-01T00:00:00Z"}}},
            "looks": {"incremental": {"updated_at": {"last_value": "2025-02-02T00:00:00Z"}}}
        }}}"#,
    );
    dir.write_state(&state).expect("write state");
    let info = stdout(&project.run(&["info"]));
    assert!(info.contains("updated_at > 2025-01-01T00:00:00Z"), "{info}");

    let out = project.run(&["drop", "users"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for table in &users_tables {
        assert!(text.contains(table.as_str()), "{table} reported dropped: {text}");
    }
    assert!(text.contains("Resource users: state reset"), "{text}");

    // Gone at the destination, from the schema and from state; looks untouched.
    let out = project.run(&["query", "select count(*) from looker_data_data.users"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("query failed"), "{}", stderr(&out));
    let out = project.run(&["query", "select count(*) from looker_data_data.users__role_ids"]);
    assert_eq!(out.status.code(), Some(1));
    let schema = schema_json(&project);
    let left: Vec<String> = table_names(&schema)
        .into_iter()
        .filter(|t| t.starts_with("users"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(schema.table("looks").is_some());
    assert_eq!(
        scalar(&project, "select count(*) from looker_data_data.looks"),
        looks
    );
    let state = dir.read_state().expect("read state").expect("state");
    let resources = &state.sources["looker_data_source"]["resources"];
    assert!(resources.get("users").is_none(), "{resources}");
    assert!(resources.get("looks").is_some(), "{resources}");
    // The destination recorded the new schema version.
    assert_eq!(
        scalar(&project, "select max(version) from looker_data_data._dlt_version"),
        schema.version.to_string()
    );

    // The next run loads users again.
    run_demo(&project);
    assert_eq!(
        scalar(&project, "select count(*) from looker_data_data.users"),
        "50"
    );
    assert_ne!(
        scalar(&project, "select count(*) from looker_data_data.users__role_ids"),
        "0"
    );
    let names = table_names(&schema_json(&project));
    for table in &users_tables {
        assert!(names.contains(table), "{table} back in {names:?}");
    }
}

/// Replaces the sources of `state` with `sources` (JSON text), parsed through the state type (the tests
/// have no JSON crate of their own).
fn set_sources(state: &mut package::PipelineState, sources: &str) {
    let text = format!(r#"{{"pipeline_name": "p", "dataset_name": "d", "sources": {sources}}}"#);
    let scratch = tempfile::tempdir().expect("temp dir");
    std::fs::write(scratch.path().join("state.json"), text).expect("write");
    let parsed = PipelineDir::at(scratch.path())
        .read_state()
        .expect("parse")
        .expect("state");
    state.sources = parsed.sources;
}

#[test]
fn drop_refuses_unknown_resources_and_pending_work() {
    let project = Project::new();
    let out = project.run(&["drop", "userz"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("userz"), "{err}");
    assert!(err.contains("valid resources: users, looks"), "{err}");

    run_demo(&project);
    let out = project.run(&["extract", "--demo", "--demo-users", "50"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let info = stdout(&project.run(&["info"]));
    assert!(
        info.contains("Pending extracts: 1, ready to be normalized"),
        "{info}"
    );
    assert!(info.contains("users (1 page)"), "{info}");

    let out = project.run(&["drop", "users"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("1 pending extract(s)"), "{err}");
    assert!(err.contains("looker-load normalize"), "{err}");
    assert_eq!(
        scalar(&project, "select count(*) from looker_data_data.users"),
        "50"
    );
}

#[test]
fn commands_on_a_pipeline_that_never_ran() {
    let project = Project::new();
    let out = project.run(&["info"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("has not run yet"), "{text}");
    assert!(text.contains("dataset:      looker_data_data"), "{text}");

    for args in [
        &["trace"][..],
        &["schema"],
        &["query", "select 1"],
        &["drop", "users"],
    ] {
        let out = project.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(err.contains("not found"), "{args:?}: {err}");
    }
    // Nothing was created by looking.
    assert!(!project.pipelines_dir().exists());
    assert!(!project.path().join("looker_data_pipeline.duckdb").exists());
}
