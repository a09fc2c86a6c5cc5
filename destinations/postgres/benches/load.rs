//! Load throughput of the PostgreSQL destination: a users-like table of `LOAD_BENCH_ROWS` rows (default
//! 1,000,000) in Parquet jobs of 100,000 rows, loaded with append, replace and merge (the same workload
//! as duckdb-dest's bench). Prints wall time and rows/s per disposition. Run with
//! `LOOKER_LOAD_TEST_POSTGRES_URL=$(scripts/pg.sh start) cargo bench -p postgres-dest`; the bench
//! loads into a fresh schema and drops it at the end.

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
