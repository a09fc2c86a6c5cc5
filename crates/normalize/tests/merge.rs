//! Normalizers running side by side on disjoint resources, merged: the same schema (tables, their order,
//! columns, version hash) and row counts as one normalizer taking the resources in order.

use std::collections::BTreeMap;

use normalize::{
    DirSink, NormalizeError, NormalizeOptions, NormalizeOutput, Normalizer, Schema, TableHints,
    WriteDisposition, merge_outputs,
};
use serde_json::json;

fn options() -> NormalizeOptions {
    let mut tables = BTreeMap::new();
    for resource in ["users", "looks", "dashboards"] {
        tables.insert(
            resource.to_owned(),
            TableHints {
                write_disposition: Some(WriteDisposition::Merge),
                primary_key: vec!["id".to_owned()],
                ..TableHints::default()
            },
        );
    }
    NormalizeOptions {
        load_id: "1700000000.1".to_owned(),
        row_id_seed: Some(5),
        tables,
        ..NormalizeOptions::default()
    }
}

fn pages(resource: &str) -> Vec<String> {
    (0..3)
        .map(|p| {
            let items: Vec<_> = (0..20)
                .map(|i| {
                    let id = p * 20 + i;
                    match resource {
                        "users" => json!({"id": id, "email": format!("u{id}@x"), "role_ids": [1, id],
                            "credentials": {"email": {"created_at": "2024-01-01T00:00:00Z"}}}),
                        "looks" => json!({"id": id, "title": format!("look {id}"),
                            "query": {"fields": ["a", "b"], "filters": {"x": "1"}}}),
                        _ => json!({"id": id, "elements": [{"id": id, "look": {"id": id, "tags": ["t"]}}],
                            // a column that appears only on the last page
                            "extra": if p == 2 { json!(true) } else { json!(null) }}),
                    }
                })
                .collect();
            serde_json::to_string(&items).unwrap()
        })
        .collect()
}

fn normalize(base: &Schema, resources: &[&str], dir: &std::path::Path) -> NormalizeOutput {
    let mut normalizer = Normalizer::new(base.clone(), options(), DirSink::new(dir));
    for resource in resources {
        for page in pages(resource) {
            normalizer.push_page(resource, page.as_bytes()).unwrap();
        }
    }
    normalizer.finish().unwrap()
}

/// A stored schema from an earlier run: it knows `looks` and `users` with fewer columns.
fn stored() -> Schema {
    let dir = tempfile::tempdir().unwrap();
    let mut normalizer = Normalizer::new(Schema::new("s"), options(), DirSink::new(dir.path()));
    normalizer
        .push_page("looks", br#"[{"id": 1, "title": "x"}]"#)
        .unwrap();
    normalizer.push_page("users", br#"[{"id": 1}]"#).unwrap();
    normalizer.finish().unwrap().schema
}

#[test]
fn merged_outputs_equal_one_normalizer_in_resource_order() {
    for base in [Schema::new("s"), stored()] {
        let dir = tempfile::tempdir().unwrap();
        let order = ["users", "looks", "dashboards"];
        let one = normalize(&base, &order, dir.path());
        for (first, second) in [
            (&["users"][..], &["looks", "dashboards"][..]),
            (&["looks", "dashboards"][..], &["users"][..]),
            (&["dashboards"][..], &["users", "looks"][..]),
        ] {
            let a = normalize(&base, first, dir.path());
            let b = normalize(&base, second, dir.path());
            let (a_files, b_files) = (a.files.len(), b.files.len());
            let merged = merge_outputs(&base, vec![a, b], &order).unwrap();
            let names = |s: &Schema| s.tables.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
            assert_eq!(
                names(&merged.schema),
                names(&one.schema),
                "{first:?} | {second:?}"
            );
            assert_eq!(merged.schema, one.schema, "{first:?} | {second:?}");
            assert_eq!(merged.rows_per_table, one.rows_per_table);
            assert_eq!(merged.files.len(), a_files + b_files);
        }
        assert!(one.schema.version > base.version || base.version_hash.is_empty());
    }
}

#[test]
fn a_table_written_by_both_normalizers_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = Schema::new("s");
    let a = normalize(&base, &["users"], dir.path());
    let b = normalize(&base, &["users", "looks"], dir.path());
    match merge_outputs(&base, vec![a, b], &["users", "looks"]) {
        Err(NormalizeError::Conflict { table }) => assert_eq!(table, "users"),
        other => panic!("{other:?}"),
    }
}
