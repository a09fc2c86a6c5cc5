//! Dev and CI builds link DuckDB's prebuilt `libduckdb.so` from `DUCKDB_LIB_DIR` (see
//! `scripts/duckdb-lib.sh` and the justfile): embed that directory as an rpath so the `looker-load`
//! binary runs without `LD_LIBRARY_PATH`. Builds with DuckDB bundled (`--features bundled`) need nothing.

fn main() {
    println!("cargo::rerun-if-env-changed=DUCKDB_LIB_DIR");
    if std::env::var_os("CARGO_FEATURE_BUNDLED").is_some() {
        return;
    }
    if let Ok(dir) = std::env::var("DUCKDB_LIB_DIR")
        && !dir.is_empty()
    {
        println!("cargo::rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
