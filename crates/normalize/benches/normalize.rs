//! Throughput of the normalize stage, single core: MB/s of JSON and rows/s, pages of Looker-like items
//! built from the golden-test fixtures (`fixtures/normalize/<resource>/input.json`), normalized into
//! Snappy Parquet files in a temporary directory.
//!
//! `cargo bench -p normalize --bench normalize [-- <users>]` (default 100000 users, a fifth as many
//! looks, a twentieth as many dashboards); `NORMALIZE_BENCH_RUNS` runs (default 3), the best reported.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use normalize::{DirSink, NormalizeOptions, Normalizer, Schema, TableHints, WriteDisposition};
use serde_json::Value;

const PAGE_ITEMS: usize = 500;

/// `count` items cycling through the fixture's items, each with its own id, strings and numbers.
fn pages(resource: &str, count: usize) -> Vec<Vec<u8>> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../fixtures/normalize/{resource}/input.json"));
    let templates: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON");
    let mut out = Vec::new();
    let mut page: Vec<Value> = Vec::with_capacity(PAGE_ITEMS);
    for i in 0..count {
        let mut item = templates[i % templates.len()].clone();
        if let Value::Object(map) = &mut item {
            map.insert("id".to_owned(), Value::String((i + 1).to_string()));
            for key in ["title", "display_name", "email", "name", "description"] {
                if let Some(Value::String(s)) = map.get_mut(key) {
                    s.push_str(&format!(" #{i}"));
                }
            }
            for key in ["view_count", "favorite_count", "usage_count"] {
                if map.contains_key(key) {
                    map.insert(key.to_owned(), Value::from(i as u64 % 977));
                }
            }
        }
        page.push(item);
        if page.len() == PAGE_ITEMS {
            out.push(serde_json::to_vec(&page).expect("serializable"));
            page.clear();
        }
    }
    if !page.is_empty() {
        out.push(serde_json::to_vec(&page).expect("serializable"));
    }
    out
}

fn main() {
    let scale: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let workload = [("users", scale), ("looks", scale / 5), ("dashboards", scale / 20)];
    let mut tables = BTreeMap::new();
    let mut data = Vec::new();
    for (resource, count) in workload {
        tables.insert(
            resource.to_owned(),
            TableHints {
                write_disposition: Some(WriteDisposition::Merge),
                primary_key: vec!["id".to_owned()],
                ..TableHints::default()
            },
        );
        data.push((resource, pages(resource, count)));
    }
    let runs: usize = std::env::var("NORMALIZE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let mut best = f64::MAX;
    for run in 1..=runs {
        println!("run {run}/{runs}");
        best = best.min(normalize_all(&data, &tables));
    }
    let bytes: usize = data
        .iter()
        .flat_map(|(_, pages)| pages.iter().map(Vec::len))
        .sum();
    println!("best         {:>7.1} MB/s", bytes as f64 / 1e6 / best);
    // the pages themselves are held in memory too: subtract their size for the stage's own share
    if let Some(peak) = peak_rss_kb() {
        println!(
            "peak RSS     {:>7.1} MB (of which {:.1} MB are the input pages)",
            peak as f64 / 1024.0,
            bytes as f64 / 1e6
        );
    }
}

/// The process's peak resident set (Linux `VmHWM`), in KiB.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Normalizes every page once into a fresh directory; returns the seconds taken.
fn normalize_all(data: &[(&str, Vec<Vec<u8>>)], tables: &BTreeMap<String, TableHints>) -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = NormalizeOptions {
        load_id: "1749667187.541553".to_owned(),
        tables: tables.clone(),
        ..NormalizeOptions::default()
    };
    let mut normalizer = Normalizer::new(
        Schema::new("looker_data_source"),
        options,
        DirSink::new(dir.path()),
    );

    let mut bytes = 0u64;
    let mut rows = 0u64;
    let mut items = 0u64;
    let start = Instant::now();
    for (resource, pages) in data {
        let t = Instant::now();
        let (mut r_bytes, mut r_rows) = (0u64, 0u64);
        for page in pages {
            let stats = normalizer.push_page(resource, page).expect("normalize");
            r_bytes += stats.bytes;
            r_rows += stats.rows;
            items += stats.items;
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "{resource:<12} {:>8.1} MB  {:>9} rows  {:>7.1} MB/s  {:>10.0} rows/s",
            r_bytes as f64 / 1e6,
            r_rows,
            r_bytes as f64 / 1e6 / secs,
            r_rows as f64 / secs
        );
        bytes += r_bytes;
        rows += r_rows;
    }
    let output = normalizer.finish().expect("finish");
    let secs = start.elapsed().as_secs_f64();
    let file_bytes: u64 = output.files.iter().map(|f| f.bytes).sum();
    println!(
        "total        {:>8.1} MB  {:>9} rows  {:>7.1} MB/s  {:>10.0} rows/s  ({items} items, {} tables, {} files, {:.1} MB Parquet, {secs:.2} s)",
        bytes as f64 / 1e6,
        rows,
        bytes as f64 / 1e6 / secs,
        rows as f64 / secs,
        output.rows_per_table.len(),
        output.files.len(),
        file_bytes as f64 / 1e6,
    );
    secs
}
