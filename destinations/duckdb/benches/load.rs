//! Load throughput of the DuckDB destination, in two modes (run with `cargo bench -p duckdb-dest` and
//! `DUCKDB_LIB_DIR` set):
//!
//! * synthetic (default): a users-like table of `LOAD_BENCH_ROWS` rows (default 1,000,000) in Parquet
//!   jobs of 100,000 rows, loaded with append, replace and merge; prints wall time and rows/s per
//!   disposition.
//! * a real load package: `LOAD_BENCH_PACKAGE=<pipelines_dir>/<pipeline_name>` loads every pending
//!   package of that pipeline working directory (for example one normalized from the mock at
//!   N=100,000) into a fresh database, reading the job files where they are (the package is left as
//!   it is, so the same package can be loaded again). `LOAD_BENCH_DB` names the database file (default:
//!   a temporary one); `LOAD_BENCH_THREADS` and `LOAD_BENCH_MEMORY_LIMIT` override the destination's
//!   defaults. Prints the time of each step (connect, schema, jobs, complete, close) and the database
//!   file size. Run the bench binary under `/usr/bin/time -v` for CPU time and peak RSS.

use std::path::{Path, PathBuf};
use std::time::Instant;

use destination::conformance::bench_dispositions;
use destination::{Destination, LoadJob};
use duckdb_dest::{DuckDbConfig, DuckDbDestination};
use package::{JobState, PipelineDir};

/// The destination's settings with the bench's overrides from the environment.
fn config(path: PathBuf, dataset: &str) -> DuckDbConfig {
    let mut config = DuckDbConfig::new(path, dataset);
    if let Some(threads) = std::env::var("LOAD_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        config = config.with_threads(threads);
    }
    if let Ok(limit) = std::env::var("LOAD_BENCH_MEMORY_LIMIT") {
        config = config.with_memory_limit(limit);
    }
    config
}

/// The process's resident memory in MiB (`VmRSS`), 0 where /proc is missing.
fn rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024)
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Loads every pending package of the pipeline working directory `root` into the database at `db`.
async fn load_packages(root: &Path, db: &Path) {
    let started = Instant::now();
    let dest = DuckDbDestination::new(config(db.to_owned(), "looker_data_data")).expect("config");
    println!(
        "duckdb {} at {} (threads {:?}, memory limit {:?})",
        DuckDbDestination::library_version().expect("version"),
        dest.location(),
        dest.config().threads,
        dest.config().memory_limit,
    );
    let mut step = Instant::now();
    let mut lap = |what: &str| {
        println!(
            "  {what}: {:.3} s (RSS {} MiB)",
            step.elapsed().as_secs_f64(),
            rss_mib()
        );
        step = Instant::now();
    };
    let client = dest.connect().await.expect("connect");
    client.ensure_dataset().await.expect("ensure_dataset");
    // Extra settings to try (`SET checkpoint_threshold = '1GB'; ...`), one statement per `;`.
    for sql in std::env::var("LOAD_BENCH_SQL").unwrap_or_default().split(';') {
        if !sql.trim().is_empty() {
            client.query(sql).await.expect("LOAD_BENCH_SQL");
        }
    }
    lap("connect");
    for package in PipelineDir::at(root).pending().expect("pending packages") {
        let load_id = package.load_id().to_string();
        let schema = package.schema().expect("schema");
        client.update_stored_schema(&schema).await.expect("schema");
        lap("update_stored_schema");
        let jobs = package.jobs(JobState::New).expect("jobs");
        let mut rows = 0;
        let mut times = Vec::new();
        for job in &jobs {
            let job = LoadJob::from_file(&schema, &load_id, job.path()).expect("job");
            let one = Instant::now();
            let n = client.load_job(&job).await.expect("load_job").rows.unwrap_or(0);
            times.push((one.elapsed().as_secs_f64(), n, job.table_name.clone()));
            if std::env::var_os("LOAD_BENCH_VERBOSE").is_some() {
                println!(
                    "    job {:.3} s, RSS {} MiB: {n} rows of {}",
                    one.elapsed().as_secs_f64(),
                    rss_mib(),
                    job.table_name
                );
            }
            rows += n;
        }
        lap(&format!("{} jobs, {rows} rows", jobs.len()));
        if std::env::var_os("LOAD_BENCH_VERBOSE").is_some() {
            let memory = client
                .query("SELECT tag, memory_usage_bytes // 1048576 AS mib FROM duckdb_memory() WHERE memory_usage_bytes > 0")
                .await
                .expect("duckdb_memory()");
            println!("  DuckDB memory (MiB): {:?}", memory.rows);
        }
        times.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (secs, n, table) in times.iter().take(8) {
            println!("    {secs:.3} s  {n:>7} rows  {table}");
        }
        client
            .complete_load(&load_id, &schema.name, &schema.version_hash)
            .await
            .expect("complete_load");
        lap("complete_load");
    }
    drop(client);
    drop(dest);
    lap("close");
    println!(
        "total {:.3} s; database file {:.1} MiB, WAL {} bytes",
        started.elapsed().as_secs_f64(),
        file_size(db) as f64 / (1024.0 * 1024.0),
        file_size(&db.with_extension("duckdb.wal")),
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    if let Some(root) = std::env::var_os("LOAD_BENCH_PACKAGE") {
        let db = std::env::var_os("LOAD_BENCH_DB")
            .map(PathBuf::from)
            .unwrap_or_else(|| dir.path().join("bench.duckdb"));
        load_packages(Path::new(&root), &db).await;
        return;
    }
    let total: usize = std::env::var("LOAD_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dest = DuckDbDestination::new(config(dir.path().join("bench.duckdb"), "bench")).expect("config");
    println!(
        "duckdb {} at {}",
        DuckDbDestination::library_version().expect("version"),
        dest.location()
    );
    bench_dispositions(&dest, total).await;
}
