//! Behaviour beyond dlt's: file rotation, schema changes mid-stream, schema evolution across runs,
//! identifier collisions across runs, hostile input.

use std::collections::BTreeMap;
use std::fs::File;

use arrow::array::{Array, StringArray};
use normalize::naming::compute_tag;
use normalize::{
    Compression, DataType, DirSink, NormalizeError, NormalizeOptions, NormalizeOutput, Normalizer, Schema,
    TableHints, WriteDisposition,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::json;

fn options() -> NormalizeOptions {
    NormalizeOptions {
        load_id: "1700000000.1".to_owned(),
        row_id_seed: Some(7),
        ..NormalizeOptions::default()
    }
}

fn normalize(
    schema: Schema,
    options: NormalizeOptions,
    pages: &[(&str, String)],
) -> (NormalizeOutput, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut normalizer = Normalizer::new(schema, options, DirSink::new(dir.path()));
    for (resource, page) in pages {
        normalizer.push_page(resource, page.as_bytes()).unwrap();
    }
    (normalizer.finish().unwrap(), dir)
}

/// Column names of a Parquet file.
fn file_columns(path: &std::path::Path) -> Vec<String> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

fn file_rows(path: &std::path::Path) -> usize {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    reader.map(|b| b.unwrap().num_rows()).sum()
}

fn items(n: usize, f: impl Fn(usize) -> serde_json::Value) -> String {
    serde_json::to_string(&(0..n).map(f).collect::<Vec<_>>()).unwrap()
}

#[test]
fn files_rotate_by_rows() {
    let page = items(10, |i| json!({"id": i, "tags": ["a", "b"]}));
    let opts = NormalizeOptions {
        file_max_rows: Some(3),
        ..options()
    };
    let (out, _dir) = normalize(Schema::new("s"), opts, &[("t", page)]);
    let root: Vec<_> = out.files.iter().filter(|f| f.table == "t").collect();
    assert_eq!(root.len(), 4);
    assert!(
        root.iter()
            .all(|f| f.rows <= 3 && file_rows(&f.path) as u64 == f.rows)
    );
    assert_eq!(root.iter().map(|f| f.rows).sum::<u64>(), 10);
    let tags: u64 = out
        .files
        .iter()
        .filter(|f| f.table == "t__tags")
        .map(|f| f.rows)
        .sum();
    assert_eq!(tags, 20);
    assert_eq!(out.rows_per_table["t"], 10);
    assert!(
        out.files
            .iter()
            .all(|f| f.bytes == std::fs::metadata(&f.path).unwrap().len())
    );
}

#[test]
fn files_rotate_by_bytes() {
    let text = "x".repeat(1000);
    let pages: Vec<(&str, String)> = (0..30)
        .map(|p| {
            (
                "t",
                items(
                    1000,
                    |i| json!({"id": p * 1000 + i, "text": format!("{text}{i}")}),
                ),
            )
        })
        .collect();
    let opts = NormalizeOptions {
        file_max_bytes: Some(1 << 20),
        compression: Compression::None,
        ..options()
    };
    let (out, _dir) = normalize(Schema::new("s"), opts, &pages);
    assert!(out.files.len() > 2, "{} files", out.files.len());
    // a file is closed once it passes the limit, so it exceeds it by at most one batch
    assert!(out.files.iter().all(|f| f.bytes < 12 << 20));
    assert_eq!(out.files.iter().map(|f| f.rows).sum::<u64>(), 30_000);
}

#[test]
fn a_new_column_after_rows_were_written_opens_a_wider_file() {
    // more rows than one batch: the first file is written before the new column shows up
    let first = items(9000, |i| json!({"id": i, "name": "n"}));
    let second = items(10, |i| json!({"id": 9000 + i, "name": "n", "late": true}));
    let (out, _dir) = normalize(Schema::new("s"), options(), &[("t", first), ("t", second)]);
    let files: Vec<_> = out.files.iter().filter(|f| f.table == "t").collect();
    assert_eq!(files.len(), 2);
    let narrow = file_columns(&files[0].path);
    let wide = file_columns(&files[1].path);
    assert!(!narrow.contains(&"late".to_owned()));
    assert_eq!(wide.last().map(String::as_str), Some("late"));
    assert_eq!(files[0].rows + files[1].rows, 9010);
    // the schema lists the column once, at the end
    let table = out.schema.table("t").unwrap();
    assert_eq!(table.columns.last().unwrap().name, "late");
}

#[test]
fn a_new_column_before_the_first_write_widens_the_buffered_file() {
    let page = items(5, |i| {
        if i < 4 {
            json!({"id": i})
        } else {
            json!({"id": i, "late": "x"})
        }
    });
    let (out, _dir) = normalize(Schema::new("s"), options(), &[("t", page)]);
    assert_eq!(out.files.len(), 1);
    assert!(file_columns(&out.files[0].path).contains(&"late".to_owned()));
}

#[test]
fn schema_evolves_across_runs() {
    let hints = BTreeMap::from([(
        "users".to_owned(),
        TableHints {
            write_disposition: Some(WriteDisposition::Merge),
            primary_key: vec!["id".to_owned()],
            ..TableHints::default()
        },
    )]);
    let opts = NormalizeOptions {
        tables: hints,
        ..options()
    };
    let page1 = json!([{"id": 1, "name": "a", "roles": [1, 2]}]).to_string();
    let (out1, _d1) = normalize(
        Schema::new("looker_data_source"),
        opts.clone(),
        &[("users", page1.clone())],
    );
    let v1 = out1.schema.version;
    // the stored form reads back as the same schema
    let stored: Schema = serde_json::from_str(&serde_json::to_string(&out1.schema).unwrap()).unwrap();
    assert_eq!(stored, out1.schema);

    // the same data again: nothing changes, the version stays
    let (out2, _d2) = normalize(stored.clone(), opts.clone(), &[("users", page1)]);
    assert_eq!(out2.schema.version, v1);
    assert_eq!(out2.schema.version_hash, out1.schema.version_hash);

    // a new column and a new nested table: the version is bumped once, old columns keep their order
    let page3 = json!([{"id": 2, "name": "b", "email": "e", "groups": ["g"]}]).to_string();
    let (out3, _d3) = normalize(stored, opts, &[("users", page3)]);
    assert_eq!(out3.schema.version, v1 + 1);
    assert_eq!(out3.schema.previous_hashes[0], out1.schema.version_hash);
    let users = out3.schema.table("users").unwrap();
    let names: Vec<&str> = users.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "name", "_dlt_load_id", "_dlt_id", "email"]);
    assert!(
        out3.schema
            .table("users__groups")
            .unwrap()
            .column("_dlt_root_id")
            .is_some()
    );
    // a nested table of the first run is still there, though this run had no rows for it
    assert!(out3.schema.table("users__roles").is_some());
    // the first file of this run already has the old columns: the loader sees one layout per file
    let file = out3.files.iter().find(|f| f.table == "users").unwrap();
    assert_eq!(
        file_columns(&file.path),
        ["id", "name", "_dlt_load_id", "_dlt_id", "email"]
    );
}

#[test]
fn collision_names_hold_across_runs() {
    let page1 = json!([{"na!e": 1, "na%e": 2}]).to_string();
    let (out1, _d1) = normalize(Schema::new("s"), options(), &[("t", page1)]);
    let renamed = format!("na_e_{}", compute_tag("na%e"));
    let t = out1.schema.table("t").unwrap();
    assert_eq!(t.column("na_e").unwrap().extra["x-source-path"], json!(["na!e"]));
    assert_eq!(
        t.column(&renamed).unwrap().extra["x-source-path"],
        json!(["na%e"])
    );

    // a later run where only the second key appears, first: it still goes to its own column
    let page2 = json!([{"na%e": 3}, {"na!e": 4}]).to_string();
    let (out2, _d2) = normalize(out1.schema.clone(), options(), &[("t", page2)]);
    let t2 = out2.schema.table("t").unwrap();
    assert_eq!(t2.columns.len(), t.columns.len());
    let file = &out2.files[0];
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&file.path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let batch = reader.into_iter().next().unwrap().unwrap();
    let col = |name: &str| batch.column(batch.schema().index_of(name).unwrap()).clone();
    let plain = col("na_e");
    let other = col(&renamed);
    assert!(plain.is_null(0) && !plain.is_null(1));
    assert!(!other.is_null(0) && other.is_null(1));
    assert_eq!(out2.schema.version, out1.schema.version);
}

#[test]
fn nesting_beyond_dlts_limit_stays_json_and_nothing_recurses() {
    // 5000 nested objects: dlt flattens 1000 levels (its default max_nesting), the rest is JSON
    let depth = 5000;
    let mut text = String::new();
    for _ in 0..depth {
        text.push_str("{\"a\":");
    }
    text.push('1');
    text.push_str(&"}".repeat(depth));
    let page = format!("[{text}]");
    let opts = NormalizeOptions {
        max_identifier_length: Some(63),
        ..options()
    };
    let (out, _dir) = normalize(Schema::new("s"), opts.clone(), &[("deep", page)]);
    let table = out.schema.table("deep").unwrap();
    let json_col = table
        .columns
        .iter()
        .find(|c| c.data_type == DataType::Json)
        .expect("a json column");
    assert!(json_col.name.chars().count() <= 63);

    // and 200 000 nested lists: one nested table per level until the limit, then JSON (names
    // shortened: a file per table must fit the file system's name limit)
    let lists = format!("[{{\"l\":{}1{}}}]", "[".repeat(200_000), "]".repeat(200_000));
    let (out, _dir) = normalize(Schema::new("s"), opts, &[("lists", lists)]);
    assert!(out.schema.tables.len() > 400);
    assert!(
        out.schema
            .tables
            .iter()
            .any(|t| t.columns.iter().any(|c| c.data_type == DataType::Json))
    );
}

#[test]
fn hints_keep_values_whole_and_limit_nesting() {
    let hints = BTreeMap::from([(
        "looks".to_owned(),
        TableHints {
            columns: vec![normalize::ColumnHint {
                name: "query__vis_config".to_owned(),
                data_type: Some(DataType::Json),
                nullable: None,
            }],
            max_table_nesting: Some(2),
            ..TableHints::default()
        },
    )]);
    let page = json!([{"id": 1, "query": {"vis_config": {"a": [1, {"b": 2}]}, "fields": ["x"]}}]).to_string();
    let (out, _dir) = normalize(
        Schema::new("s"),
        NormalizeOptions {
            tables: hints,
            ..options()
        },
        &[("looks", page)],
    );
    let looks = out.schema.table("looks").unwrap();
    assert_eq!(looks.columns[0].name, "query__vis_config");
    assert_eq!(looks.columns[0].data_type, DataType::Json);
    assert_eq!(looks.max_nesting(), Some(2));
    assert!(out.schema.table("looks__query__fields").is_some());
    let file = out.files.iter().find(|f| f.table == "looks").unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&file.path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let batch = reader.into_iter().next().unwrap().unwrap();
    let vis = batch.column(0).as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(vis.value(0), r#"{"a":[1,{"b":2}]}"#);
}

#[test]
fn malformed_pages_are_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut normalizer = Normalizer::new(Schema::new("s"), options(), DirSink::new(dir.path()));
    for (page, reason) in [
        (&b"{\"a\": 1}"[..], "not an array"),
        (b"<html>404</html>", "HTML"),
        (b"[\"\xff\"]", "not UTF-8"),
        (b"", "empty"),
    ] {
        match normalizer.push_page("users", page) {
            Err(NormalizeError::MalformedPage { table, .. }) => assert_eq!(table, "users", "{reason}"),
            other => panic!("{reason}: {other:?}"),
        }
    }
    normalizer.push_page("users", b"[]").unwrap();
    let out = normalizer.finish().unwrap();
    assert!(out.files.is_empty());
    assert!(
        out.schema.table("users").is_none(),
        "a table appears with its first row"
    );
}

/// Items are parsed one at a time: a malformed item stops the page there, with the items before it
/// buffered (a package is abandoned on any error).
#[test]
fn a_malformed_item_stops_the_page_where_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let mut normalizer = Normalizer::new(Schema::new("s"), options(), DirSink::new(dir.path()));
    let page = br#"[{"a": 1}, {"a": 2}, {"a": tru}]"#;
    match normalizer.push_page("users", page) {
        Err(NormalizeError::MalformedPage {
            table,
            offset,
            reason,
        }) => {
            assert_eq!((table.as_str(), offset), ("users", 27), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    for (page, offset) in [(&b"[{\"a\": 3}"[..], 9), (b"[{\"a\": 4}] x", 11)] {
        match normalizer.push_page("users", page) {
            Err(NormalizeError::MalformedPage { offset: at, .. }) => assert_eq!(at, offset),
            other => panic!("{other:?}"),
        }
    }
    let out = normalizer.finish().unwrap();
    // an item is kept once what follows it is known to be a separator
    assert_eq!(out.rows_per_table.get("users"), Some(&2));
}

#[test]
fn arbitrary_bytes_never_panic() {
    let seeds = [
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/normalize/dashboards/input.json"
        ))
        .unwrap(),
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/normalize/edge_hostile_keys/input.json"
        ))
        .unwrap(),
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/normalize/edge_mixed_types/input.json"
        ))
        .unwrap(),
    ];
    let mut rng = fastrand::Rng::with_seed(11);
    let dir = tempfile::tempdir().unwrap();
    let mut normalizer = Normalizer::new(Schema::new("s"), options(), DirSink::new(dir.path()));
    let mut accepted = 0;
    for round in 0..3000 {
        let mut bytes = seeds[round % seeds.len()].clone().into_bytes();
        // mutate a few bytes, cut the tail, or splice in a piece of itself
        for _ in 0..rng.usize(1..4) {
            match rng.u8(0..3) {
                0 => {
                    let i = rng.usize(..bytes.len());
                    bytes[i] = b"{}[]\",:0123456789.eE-+ntfaluxyz\\"[rng.usize(..32)];
                }
                1 => bytes.truncate(rng.usize(..bytes.len())),
                _ => {
                    let start = rng.usize(..bytes.len());
                    let end = (start + rng.usize(..64)).min(bytes.len());
                    let piece = bytes[start..end].to_vec();
                    let at = rng.usize(..bytes.len());
                    bytes.splice(at..at, piece);
                }
            }
            if bytes.is_empty() {
                break;
            }
        }
        match normalizer.push_page("fuzz", &bytes) {
            Ok(_) => accepted += 1,
            Err(NormalizeError::MalformedPage { .. } | NormalizeError::UncoercibleValue { .. }) => {}
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert!(accepted > 10, "some mutations stay valid JSON ({accepted})");
    normalizer.finish().unwrap();
}

#[test]
fn dlt_columns_are_written_non_null_and_ids_link_up() {
    let hints = BTreeMap::from([(
        "d".to_owned(),
        TableHints {
            write_disposition: Some(WriteDisposition::Merge),
            primary_key: vec!["id".into()],
            ..TableHints::default()
        },
    )]);
    let page = json!([{"id": 1, "els": [{"q": [1, 2]}]}]).to_string();
    let (out, _dir) = normalize(
        Schema::new("s"),
        NormalizeOptions {
            tables: hints,
            ..options()
        },
        &[("d", page)],
    );
    let root = out.schema.table("d").unwrap();
    assert_eq!(root.write_disposition, Some(WriteDisposition::Merge));
    assert_eq!(
        out.schema.normalizers["json"]["config"]["propagation"]["tables"]["d"]["_dlt_id"],
        "_dlt_root_id"
    );
    let id = root.column("id").unwrap();
    assert!(id.primary_key && !id.nullable);
    let nested = out.schema.table("d__els__q").unwrap();
    let names: Vec<&str> = nested.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "value",
            "_dlt_root_id",
            "_dlt_parent_id",
            "_dlt_list_idx",
            "_dlt_id"
        ]
    );
    assert!(nested.column("_dlt_parent_id").unwrap().parent_key);
    assert!(nested.column("_dlt_root_id").unwrap().root_key);
    assert!(nested.seen_data());
}

#[test]
fn a_resource_named_like_a_nested_table_gets_its_own_table() {
    let users = json!([{"id": 1, "role_ids": [1, 2]}]).to_string();
    let clash = json!([{"value": "x"}]).to_string();
    let (out, _dir) = normalize(
        Schema::new("s"),
        options(),
        &[("users", users), ("users__role_ids", clash)],
    );
    let nested = out.schema.table("users__role_ids").unwrap();
    assert_eq!(nested.parent.as_deref(), Some("users"));
    let renamed = format!("users__role_ids_{}", compute_tag("users__role_ids"));
    let root = out.schema.table(&renamed).unwrap();
    assert!(root.parent.is_none());
    assert_eq!(root.resource.as_deref(), Some("users__role_ids"));
    assert_eq!(out.rows_per_table[&renamed], 1);
    assert_eq!(out.rows_per_table["users__role_ids"], 2);
}

#[test]
fn the_normalizer_can_move_to_another_thread() {
    fn is_send<T: Send>() {}
    is_send::<Normalizer<DirSink>>();
    is_send::<NormalizeError>();
}
