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

use destination::conformance::{Rows, Session, column, root_dlt_columns, schema, table, write_job};
use destination::{Destination, LoadJob};
use package::schema::{DataType, WriteDisposition};
use postgres_dest::{PostgresConfig, PostgresDestination};

const JOB_ROWS: usize = 100_000;

fn rows(load_id: &str, start: usize, n: usize) -> Rows {
    let ids: Vec<Option<i64>> = (start..start + n).map(|i| Some(i as i64)).collect();
    let names: Vec<String> = (start..start + n).map(|i| format!("user {i}")).collect();
    let emails: Vec<String> = (start..start + n)
        .map(|i| format!("user{i}@example.com"))
        .collect();
    let dlt_ids: Vec<String> = (start..start + n).map(|i| format!("id{i:012}")).collect();
    let ts: Vec<Option<i64>> = (start..start + n)
        .map(|i| Some(1_700_000_000_000_000 + i as i64 * 1_000_000))
        .collect();
    let flags: Vec<Option<bool>> = (start..start + n).map(|i| Some(i % 3 == 0)).collect();
    let score: Vec<Option<f64>> = (start..start + n).map(|i| Some(i as f64 / 7.0)).collect();
    Rows::new()
        .bigint("id", &ids)
        .text(
            "first_name",
            &names.iter().map(|s| Some(s.as_str())).collect::<Vec<_>>(),
        )
        .text(
            "email",
            &emails.iter().map(|s| Some(s.as_str())).collect::<Vec<_>>(),
        )
        .timestamp("created_at", &ts)
        .boolean("is_disabled", &flags)
        .double("score", &score)
        .texts("_dlt_load_id", &vec![load_id; n])
        .texts("_dlt_id", &dlt_ids.iter().map(String::as_str).collect::<Vec<_>>())
}

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
    for (d, disposition) in [
        WriteDisposition::Append,
        WriteDisposition::Replace,
        WriteDisposition::Merge,
    ]
    .into_iter()
    .enumerate()
    {
        let s = Session::start(&dest).await;
        let mut id = column("id", DataType::Bigint, false);
        id.primary_key = disposition == WriteDisposition::Merge;
        let mut columns = vec![
            id,
            column("first_name", DataType::Text, true),
            column("email", DataType::Text, true),
            column("created_at", DataType::Timestamp, true),
            column("is_disabled", DataType::Bool, true),
            column("score", DataType::Double, true),
        ];
        columns.extend(root_dlt_columns());
        let name = format!("users_{disposition:?}").to_lowercase();
        let sc = schema(1, &name, vec![table(&name, columns, Some(disposition), None)]);
        s.update(&sc).await;
        for load in 1..=2 {
            // Load ids are unique per database: a completed load id is never loaded again.
            let load_id = format!("{d}{load}.0");
            let mut jobs = Vec::new();
            for (n, start) in (0..total).step_by(JOB_ROWS).enumerate() {
                let path = write_job(
                    s.dir(),
                    &name,
                    &format!("{load}f{n}"),
                    0,
                    rows(&load_id, start, JOB_ROWS.min(total - start)),
                );
                jobs.push(LoadJob::from_file(&sc, &load_id, &path).expect("job"));
            }
            let started = Instant::now();
            for job in &jobs {
                s.client.load_job(job).await.expect("load_job");
            }
            s.complete(&sc, &load_id).await;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "{disposition:?} load {load}: {total} rows in {} jobs, {secs:.3} s, {:.0} rows/s",
                jobs.len(),
                total as f64 / secs
            );
        }
        s.finish().await;
    }
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
