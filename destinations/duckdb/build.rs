//! Dev and CI builds link DuckDB's prebuilt `libduckdb.so` from `DUCKDB_LIB_DIR` (see
//! `scripts/duckdb-lib.sh`); libduckdb-sys's build script does the linking. This script only explains
//! the link failure ahead of time when neither that directory nor the `bundled` feature is given (a
//! warning, so `cargo check` and clippy still work without it), and embeds the directory as an rpath in
//! this crate's own test, bench and example binaries so `cargo test` runs them without
//! `LD_LIBRARY_PATH`.

fn main() {
    println!("cargo::rerun-if-env-changed=DUCKDB_LIB_DIR");
    if std::env::var_os("CARGO_FEATURE_BUNDLED").is_some() {
        return;
    }
    match std::env::var("DUCKDB_LIB_DIR") {
        Ok(dir) if !dir.is_empty() => {
            if !std::path::Path::new(&dir).join("libduckdb.so").is_file()
                && !std::path::Path::new(&dir).join("libduckdb.dylib").is_file()
            {
                println!("cargo::warning=DUCKDB_LIB_DIR={dir} holds no libduckdb; run scripts/duckdb-lib.sh");
            }
            println!("cargo::rustc-link-arg=-Wl,-rpath,{dir}");
        }
        _ => {
            println!(
                "cargo::warning=DUCKDB_LIB_DIR is not set, so linking libduckdb will fail. Link the prebuilt DuckDB with \
                 `export DUCKDB_LIB_DIR=$(scripts/duckdb-lib.sh)` (what the justfile does), or build \
                 DuckDB from source with `--features duckdb-dest/bundled` (slow)."
            );
        }
    }
}
