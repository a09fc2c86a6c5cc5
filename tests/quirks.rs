//! End to end against the mock with every quirk of real instances on (`MockConfig::quirks`,
//! API.md §7 item 13): `""` and mixed-format timestamps, missing keys, the `lookml` folder, filter
//! maps keyed by field names, HTML 404 pages, hidden query ids, 429s without `Retry-After`,
//! `expires_in` 3599. Everything loads into DuckDB with exact counts, as dlt would load it.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Mock, Project, Tables, assert_ok, column, column_types, number, stderr, stdout, table_rows};
use looker_mock::{Dataset, MockConfig};
use serde_json::Value;

const DATASET: &str = "looker_data_data";
const ALL_RESOURCES: &str = "users,looks,dashboards,queries,projects,folders,groups,roles,lookml_models,\
                             scheduled_plans,connections,user_attributes";
const MAP_RESOURCES: &str = "users,looks,dashboards,queries";
const JSON_MAPS: (&str, &str) = ("SOURCES__LOOKER_DATA_SOURCE__OPEN_MAPS_AS_JSON", "true");

fn quirky_mock(revision: u64) -> Mock {
    Mock::start(MockConfig {
        quirks: true,
        revision,
        ..MockConfig::with_size(40, 12, 6)
    })
}

/// The items the mock serves for `resource` (list items in id order; for `queries` every
/// referenced query that is not hidden).
fn served(dataset: &Dataset, resource: &str) -> Vec<Value> {
    if resource == "queries" {
        return dataset
            .referenced_query_ids()
            .iter()
            .filter_map(|id| dataset.query(id))
            .collect();
    }
    (0..dataset.count(resource))
        .map(|i| dataset.item(resource, i).expect("item in range"))
        .collect()
}

/// Every string at `path` below each item (`None` where a key is missing or null).
fn strings(items: &[Value], path: &[&str]) -> Vec<Option<String>> {
    items
        .iter()
        .map(|item| {
            let mut v = item;
            for key in path {
                v = v.get(*key)?;
            }
            v.as_str().map(str::to_owned)
        })
        .collect()
}

fn column_count(columns: &BTreeMap<String, BTreeMap<String, String>>) -> usize {
    columns.values().map(BTreeMap::len).sum()
}

/// Seconds since the epoch of the first string at `path` matching `pick`, read the way the mock
/// meant it (an epoch digit string, or an RFC 3339 timestamp with its offset).
fn epoch_of(value: &str) -> i64 {
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse().expect("epoch digits");
    }
    // YYYY-MM-DDTHH:MM:SS[.fff](+|-)HH:MM
    let num = |s: &str| -> i64 { s.parse().expect("number") };
    let (y, m, d) = (num(&value[0..4]), num(&value[5..7]), num(&value[8..10]));
    let (hh, mm, ss) = (num(&value[11..13]), num(&value[14..16]), num(&value[17..19]));
    let tz = &value[value.len() - 6..];
    let offset = (num(&tz[1..3]) * 60 + num(&tz[4..6])) * 60;
    let offset = if tz.starts_with('-') { -offset } else { offset };
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + hh * 3600 + mm * 60 + ss - offset
}

#[test]
fn every_resource_loads_with_exact_counts_through_every_quirk() {
    let mock = quirky_mock(1);
    let dataset = mock.dataset();
    let project = Project::new();
    let out = project.run_against(&mock, &["run", "--resources", ALL_RESOURCES], &[]);
    assert_ok(&out, "run against the quirky mock");
    let (out_text, err_text) = (stdout(&out), stderr(&out));

    // Exact rows in every table, parents and children, as dlt's relational normalizer makes them.
    let resources: Vec<&str> = ALL_RESOURCES.split(',').collect();
    let mut expected = Tables::default();
    for resource in &resources {
        expected.add(resource, served(dataset, resource).iter());
    }
    let loaded: BTreeMap<String, u64> = table_rows(&project.database(), DATASET)
        .into_iter()
        .filter(|(t, _)| !t.starts_with("_dlt"))
        .collect();
    assert_eq!(loaded, expected.rows);
    for resource in &resources {
        assert!(loaded[*resource] > 0, "{resource}");
    }

    // The hidden queries are skipped, counted and warned about once; every other query loads.
    let hidden = dataset.hidden_query_ids();
    assert!(!hidden.is_empty());
    assert!(
        out_text.contains(&format!(
            "Skipped {} referenced queries that Looker answered 404",
            hidden.len()
        )),
        "{out_text}"
    );
    assert_eq!(
        err_text.matches("referenced queries that answered 404").count(),
        1,
        "{err_text}"
    );
    let loaded_ids: BTreeSet<String> = column(
        &project.database(),
        &format!("SELECT id::VARCHAR FROM {DATASET}.queries"),
    )
    .into_iter()
    .flatten()
    .collect();
    let referenced: BTreeSet<String> = dataset.referenced_query_ids().into_iter().collect();
    let skipped: BTreeSet<String> = referenced.difference(&loaded_ids).cloned().collect();
    assert_eq!(skipped, hidden.iter().cloned().collect::<BTreeSet<_>>());
    // `looker-load trace` names the skipped ids.
    let trace = project.run_against(&mock, &["trace"], &[]);
    assert_ok(&trace, "trace");
    assert!(
        stdout(&trace).contains(&format!(
            "Skipped {} referenced query id(s) that answered 404 (deleted, or hidden from the API user): {}",
            hidden.len(),
            hidden.join(", ")
        )),
        "{}",
        stdout(&trace)
    );
    // The mock's one 429 without Retry-After per endpoint was retried after a back-off.
    assert!(
        mock.server().stats().quirk_throttled >= 3,
        "{}",
        mock.server().stats()
    );
    assert!(err_text.contains("HTTP 429"), "{err_text}");

    // `""` for "never" next to ISO values: a timestamp column and dlt's `__v_text` variant.
    let types = column_types(&project.database(), DATASET);
    for (table, col) in [
        ("users", "credentials_email__logged_in_at"),
        ("connections", "created_at"),
    ] {
        assert_eq!(
            types[table].get(col).map(String::as_str),
            Some("TIMESTAMP WITH TIME ZONE"),
            "{table}.{col}"
        );
        assert_eq!(
            types[table].get(&format!("{col}__v_text")).map(String::as_str),
            Some("VARCHAR"),
            "{table}.{col}__v_text"
        );
    }
    let users = served(dataset, "users");
    let logged_in = strings(&users, &["credentials_email", "logged_in_at"]);
    let never = logged_in.iter().filter(|v| v.as_deref() == Some("")).count() as i64;
    assert!(never > 0);
    assert_eq!(
        number(
            &project.database(),
            &format!(
                "SELECT count(*) FROM {DATASET}.users WHERE credentials_email__logged_in_at__v_text = ''"
            )
        ),
        never
    );

    // Offsets, no fraction and epoch digits all land as the instant they name.
    let created = strings(&users, &["credentials_email", "created_at"]);
    let ids = strings(&users, &["id"]);
    let mut kinds = BTreeSet::new();
    for (id, value) in ids.iter().zip(&created) {
        let (Some(id), Some(value)) = (id, value) else {
            continue;
        };
        let kind = if value.bytes().all(|b| b.is_ascii_digit()) {
            "epoch"
        } else if value.ends_with("-07:00") {
            "offset"
        } else if !value.contains('.') {
            "no fraction"
        } else {
            "looker"
        };
        kinds.insert(kind);
        let loaded = number(
            &project.database(),
            &format!(
                "SELECT floor(epoch(credentials_email__created_at))::BIGINT FROM {DATASET}.users WHERE id = {id}"
            ),
        );
        assert_eq!(loaded, epoch_of(value), "user {id}: {value}");
    }
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    let millis = number(
        &project.database(),
        &format!(
            "SELECT count(*) FROM {DATASET}.users WHERE epoch_ms(credentials_email__created_at) % 1000 <> 0"
        ),
    );
    assert!(millis > 0, "offset timestamps keep their milliseconds");

    // Keys missing on some users are columns with nulls there.
    let missing = users.iter().filter(|u| u.get("is_iam_admin").is_none()).count() as i64;
    assert!(missing > 0);
    assert_eq!(
        number(
            &project.database(),
            &format!("SELECT count(*) FROM {DATASET}.users WHERE is_iam_admin IS NULL")
        ),
        missing
    );

    // The folder with the non-numeric id `lookml`, nulls and all.
    assert_eq!(types["folders"].get("id").map(String::as_str), Some("VARCHAR"));
    let lookml = column(
        &project.database(),
        &format!(
            "SELECT coalesce(created_at::VARCHAR, '') || coalesce(creator_id::VARCHAR, '') || \
             coalesce(content_metadata_id::VARCHAR, '') FROM {DATASET}.folders WHERE id = 'lookml'"
        ),
    );
    assert_eq!(lookml, vec![Some(String::new())]);
}

#[test]
fn open_maps_as_json_keeps_tables_and_columns_constant_while_field_names_grow() {
    let plain = Project::new();
    let hinted = Project::new();
    let mut shape = Vec::new();
    for revision in [1, 2] {
        let mock = quirky_mock(revision);
        let out = plain.run_against(&mock, &["run", "--resources", MAP_RESOURCES], &[]);
        assert_ok(&out, &format!("plain run at revision {revision}"));
        let plain_err = stderr(&out);
        let out = hinted.run_against(&mock, &["run", "--resources", MAP_RESOURCES], &[JSON_MAPS]);
        assert_ok(&out, &format!("hinted run at revision {revision}"));
        let hinted_err = stderr(&out);
        // Past 20 new columns in one map, the plain run names the config line; the hinted one
        // has nothing to warn about.
        assert!(
            plain_err.contains(
                "to keep it as one JSON column, add to .dlt/config.toml: \
                 [sources.looker_data_source.resources.queries.columns] filters = { data_type = \"json\" }"
            ),
            "revision {revision}: {plain_err}"
        );
        assert!(
            !hinted_err.contains("an open-ended Looker map made"),
            "revision {revision}: {hinted_err}"
        );
        let (p, h) = (
            column_types(&plain.database(), DATASET),
            column_types(&hinted.database(), DATASET),
        );
        shape.push((p.len(), column_count(&p), h.len(), column_count(&h)));
        if revision == 2 {
            let names = |c: &BTreeMap<String, BTreeMap<String, String>>| {
                c["queries"]
                    .keys()
                    .filter(|k| k.starts_with("filters__custom_r2_"))
                    .count()
            };
            assert_eq!(names(&p) as u64, Dataset::REVISION_FIELDS, "{:?}", p["queries"]);
            assert_eq!(names(&h), 0);
            assert_eq!(
                h["queries"].get("filter_config").map(String::as_str),
                Some("JSON")
            );
        }
    }
    let [
        (p1_tables, p1_columns, h1_tables, h1_columns),
        (p2_tables, p2_columns, h2_tables, h2_columns),
    ] = shape[..]
    else {
        panic!("two runs: {shape:?}");
    };
    assert_eq!((h1_tables, h1_columns), (h2_tables, h2_columns), "{shape:?}");
    assert!(p2_tables > p1_tables && p2_columns > p1_columns, "{shape:?}");
    assert!(p1_tables > h1_tables && p1_columns > h1_columns, "{shape:?}");
}
