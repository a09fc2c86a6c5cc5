//! Load throughput of the PostgreSQL destination, in two modes.
//!
//! * With `LOAD_BENCH_PACKAGE=<dir>` (a normalized load package, e.g. of the 100,000-user workload:
//!   `looker-mock --users 100000 --looks 10000 --dashboards 5000`, then `looker-load --destination
//!   postgres extract` and `normalize`): loads every job of the package into a fresh schema through the
//!   library (schema update, jobs, `complete_load`), twice (a first load, then a replace over the
//!   rows), and prints rows/s of each. With `LOOKER_LOAD_BIN=<looker-load>` it then loads a copy of the
//!   same package into a scratch DuckDB file with `looker-load --destination duckdb load`, in the same
//!   run, for comparison.
//! * Otherwise a users-like table of `LOAD_BENCH_ROWS` rows (default 1,000,000) in Parquet jobs of
//!   100,000 rows, loaded with append, replace and merge (the same workload as duckdb-dest's bench).
//!
//! Run with `LOOKER_LOAD_TEST_POSTGRES_URL=$(scripts/pg.sh start) cargo bench -p postgres-dest`; the
//! bench loads into fresh schemas and drops them at the end.

use std::time::Instant;

use destination::conformance::{Session, bench_dispositions};
use destination::{Destination, LoadJob};
use postgres_dest::{PostgresConfig, PostgresDestination};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let total: usize = std::env::var("LOAD_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let Ok(url) = std::env::var("LOOKER_LOAD_TEST_POSTGRES_URL") else {
        eprintln!("set LOOKER_LOAD_TEST_POSTGRES_URL (scripts/pg.sh start prints one)");
        std::process::exit(2);
    };
    if let Ok(package) = std::env::var("LOAD_BENCH_PACKAGE") {
        package_bench(&url, std::path::Path::new(&package)).await;
        return;
    }
    let dataset = format!("bench_{}", std::process::id());
    let dest = PostgresDestination::new(PostgresConfig::from_connection_string(&url, dataset).expect("URL"))
        .expect("config");
    println!("postgres at {}", dest.location());
    bench_dispositions(&dest, total).await;
}

/// Loads the normalized package in `dir` into Postgres (twice: fresh, then replacing) and, with
/// `LOOKER_LOAD_BIN`, into DuckDB through the binary.
async fn package_bench(url: &str, dir: &std::path::Path) {
    let text = std::fs::read_to_string(dir.join("schema.json")).expect("the package's schema.json");
    let sc: package::schema::Schema = serde_json::from_str(&text).expect("schema.json");
    let mut files: Vec<_> = ["new_jobs", "started_jobs", "completed_jobs"]
        .iter()
        .flat_map(|d| std::fs::read_dir(dir.join(d)).into_iter().flatten())
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    files.sort();
    let rows: u64 = files
        .iter()
        .map(|p| {
            let file = std::fs::File::open(p).expect("job file");
            let reader = parquet::file::reader::SerializedFileReader::new(file).expect("parquet");
            use parquet::file::reader::FileReader;
            reader.metadata().file_metadata().num_rows() as u64
        })
        .sum();
    let dataset = format!("bench_pkg_{}", std::process::id());
    let dest = PostgresDestination::new(PostgresConfig::from_connection_string(url, dataset).expect("URL"))
        .expect("config");
    println!(
        "package {}: {} jobs, {rows} rows; postgres at {}",
        dir.display(),
        files.len(),
        dest.location()
    );
    let s = Session::start(&dest).await;
    for (n, what) in ["first load", "replace over it"].iter().enumerate() {
        let load_id = format!("{}.{n}", 1_800_000_000 + n);
        let started = Instant::now();
        s.update(&sc).await;
        for file in &files {
            let job = LoadJob::from_file(&sc, &load_id, file).expect("job");
            s.client.load_job(&job).await.expect("load_job");
        }
        s.complete(&sc, &load_id).await;
        let secs = started.elapsed().as_secs_f64();
        println!("postgres {what}: {secs:.2} s, {:.0} rows/s", rows as f64 / secs);
    }
    s.finish().await;

    let Ok(bin) = std::env::var("LOOKER_LOAD_BIN") else {
        println!("duckdb: set LOOKER_LOAD_BIN to the looker-load binary to compare");
        return;
    };
    let scratch = tempfile::tempdir().expect("scratch dir");
    let pipelines = scratch.path().join("pipelines");
    let target = pipelines
        .join("bench/load/normalized")
        .join(dir.file_name().expect("package directory name"));
    std::fs::create_dir_all(&target).expect("mkdir");
    let copied = std::process::Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", dir.display()))
        .arg(&target)
        .status()
        .expect("cp");
    assert!(copied.success(), "copy the package");
    let started = Instant::now();
    let out = std::process::Command::new(bin)
        .current_dir(scratch.path())
        .env("PIPELINES_DIR", &pipelines)
        .env(
            "DESTINATION__DUCKDB__CREDENTIALS",
            scratch.path().join("bench.duckdb"),
        )
        .args(["--destination", "duckdb", "--pipeline-name", "bench", "load"])
        .output()
        .expect("run looker-load");
    let secs = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "duckdb load: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!(
        "duckdb (looker-load load, whole process): {secs:.2} s, {:.0} rows/s",
        rows as f64 / secs
    );
}
