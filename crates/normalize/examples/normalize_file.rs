//! Normalizes one JSON page file into Parquet job files and prints the resulting dlt schema.
//!
//! `cargo run -p normalize --example normalize_file -- <resource> <page.json> <out-dir> [merge-pk]`

use std::collections::BTreeMap;

use normalize::{DirSink, NormalizeOptions, Normalizer, Schema, TableHints, WriteDisposition};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, resource, page, out, rest @ ..] = args.as_slice() else {
        eprintln!("usage: normalize_file <resource> <page.json> <out-dir> [merge-primary-key]");
        std::process::exit(2);
    };
    let hints = match rest.first() {
        Some(pk) => TableHints {
            write_disposition: Some(WriteDisposition::Merge),
            primary_key: vec![pk.clone()],
            ..TableHints::default()
        },
        None => TableHints::default(),
    };
    std::fs::create_dir_all(out)?;
    let options = NormalizeOptions {
        load_id: "1749667187.541553".to_owned(),
        tables: BTreeMap::from([(resource.clone(), hints)]),
        ..NormalizeOptions::default()
    };
    let mut normalizer = Normalizer::new(Schema::new("looker_data_source"), options, DirSink::new(out));
    normalizer.push_page(resource, &std::fs::read(page)?)?;
    let output = normalizer.finish()?;
    for file in &output.files {
        eprintln!("{} {} rows {} bytes", file.path.display(), file.rows, file.bytes);
    }
    println!("{}", serde_json::to_string_pretty(&output.schema)?);
    Ok(())
}
