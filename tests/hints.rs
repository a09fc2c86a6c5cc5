//! End-to-end tests of resource hints given in configuration as dlt spells them
//! (`[sources.looker_data_source.resources.<name>]`) and of `open_maps_as_json`, against the mock and
//! a real DuckDB file.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Mock, Project, assert_ok, column_types, open_database, table_rows};
use looker_mock::MockConfig;

const DATASET: &str = "looker_data_data";
const RESOURCES: &str = "users,looks,dashboards,queries";

fn mock() -> Mock {
    Mock::start(MockConfig {
        users: 40,
        looks: 12,
        dashboards: 6,
        ..MockConfig::default()
    })
}

fn data_tables(project: &Project) -> BTreeSet<String> {
    table_rows(&project.database(), DATASET)
        .into_keys()
        .filter(|t| !t.starts_with("_dlt"))
        .collect()
}

fn run(project: &Project, mock: &Mock, env: &[(&str, &str)]) {
    let out = project.run_against(mock, &["run", "--resources", RESOURCES], env);
    assert_ok(&out, "run");
}

#[test]
fn open_maps_as_json_keeps_looker_maps_whole() {
    let mock = mock();
    let plain = Project::new();
    run(&plain, &mock, &[]);
    let hinted = Project::new();
    run(
        &hinted,
        &mock,
        &[("SOURCES__LOOKER_DATA_SOURCE__OPEN_MAPS_AS_JSON", "true")],
    );

    let plain_columns = column_types(&plain.database(), DATASET);
    let hinted_columns = column_types(&hinted.database(), DATASET);
    // Without the setting, dlt's normalizer makes a column per key of each map.
    let queries = &plain_columns["queries"];
    assert!(
        queries.keys().any(|c| c.starts_with("vis_config__")),
        "the mock's queries have vis_config keys: {queries:?}"
    );
    // With it, each map is one JSON column and no column or table is named after a map's keys.
    let queries = &hinted_columns["queries"];
    for map in ["filters", "vis_config"] {
        assert_eq!(
            queries.get(map).map(String::as_str),
            Some("JSON"),
            "queries.{map}: {queries:?}"
        );
        assert!(
            !queries.keys().any(|c| c.starts_with(&format!("{map}__"))),
            "{queries:?}"
        );
    }
    let elements = &hinted_columns["dashboards__dashboard_elements"];
    for map in ["query__filters", "query__vis_config", "result_maker__vis_config"] {
        assert_eq!(
            elements.get(map).map(String::as_str),
            Some("JSON"),
            "{map}: {elements:?}"
        );
        assert!(
            !elements.keys().any(|c| c.starts_with(&format!("{map}__"))),
            "{elements:?}"
        );
    }
    assert!(
        plain_columns["dashboards__dashboard_elements"]
            .keys()
            .any(|c| c.starts_with("query__vis_config__")),
        "{:?}",
        plain_columns["dashboards__dashboard_elements"]
    );
    let total = |c: &BTreeMap<String, BTreeMap<String, String>>| c.values().map(BTreeMap::len).sum::<usize>();
    assert!(total(&hinted_columns) < total(&plain_columns));

    // The same rows in every table both have.
    let plain_rows = table_rows(&plain.database(), DATASET);
    let hinted_rows = table_rows(&hinted.database(), DATASET);
    for (table, rows) in &hinted_rows {
        if !table.starts_with("_dlt") {
            assert_eq!(plain_rows.get(table), Some(rows), "{table}");
        }
    }
    // The JSON holds the map: a filter value reads back.
    let conn = open_database(&hinted.database());
    let filters: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM {DATASET}.queries WHERE json_type(filters) = 'OBJECT'"),
            [],
            |r| r.get(0),
        )
        .expect("query");
    assert!(filters > 0);
}

#[test]
fn resource_hints_from_config_toml_shape_the_tables() {
    let mock = mock();
    let project = Project::new();
    project.write(
        ".dlt/config.toml",
        "[sources.looker_data_source.resources.users]\nmax_table_nesting = 0\n\
         [sources.looker_data_source.resources.queries.columns]\nvis_config = { data_type = \"json\" }\n\
         [sources.looker_data_source.resources.dashboards.nested_hints.dashboard_elements.columns]\n\
         query__vis_config = { data_type = \"json\" }\n",
    );
    run(&project, &mock, &[]);
    let tables = data_tables(&project);
    assert!(
        !tables.iter().any(|t| t.starts_with("users__")),
        "max_table_nesting = 0 leaves no child table of users: {tables:?}"
    );
    let all = column_types(&project.database(), DATASET);
    let users = &all["users"];
    assert_eq!(
        users.get("role_ids").map(String::as_str),
        Some("JSON"),
        "{users:?}"
    );
    assert_eq!(all["queries"].get("vis_config").map(String::as_str), Some("JSON"));
    assert!(
        all["queries"].keys().any(|c| c.starts_with("filters__")),
        "only vis_config is hinted"
    );
    let elements = &all["dashboards__dashboard_elements"];
    assert_eq!(
        elements.get("query__vis_config").map(String::as_str),
        Some("JSON")
    );
    assert!(
        !elements.keys().any(|c| c.starts_with("query__vis_config__")),
        "{elements:?}"
    );

    // `info` shows the hints where they came from.
    let out = project.run_against(&mock, &["info"], &[]);
    assert_ok(&out, "info");
}

#[test]
fn a_bad_hint_names_the_key_and_loads_nothing() {
    let mock = mock();
    let project = Project::new();
    project.write(
        ".dlt/config.toml",
        "[sources.looker_data_source.resources.looks.columns]\nvis_config = { data_type = \"jsonb\" }\n",
    );
    let out = project.run_against(&mock, &["run", "--resources", RESOURCES], &[]);
    assert!(!out.status.success());
    let err = common::stderr(&out);
    assert!(
        err.contains("sources.looker_data_source.resources.looks.columns.vis_config.data_type"),
        "{err}"
    );
    assert!(
        !project.database().exists(),
        "nothing is loaded on a configuration error"
    );
}
