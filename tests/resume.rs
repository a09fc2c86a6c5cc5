//! Crash safety of `looker-load run`, end to end against the binary.
//!
//! Each test ends a run at one moment (a crash point armed through `LOOKER_LOAD_CRASH_AT`, which aborts
//! the process as hard as `SIGKILL`, or a real `SIGKILL` sent by the test), checks what the crash left on
//! disk, reruns, and compares the DuckDB dataset with the one a clean run gives in a separate project:
//! the same rows per table, no duplicate, every package loaded exactly once and recorded in
//! `_dlt_loads`, nothing left pending.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::{Project, stderr, stdout};

const DATASET: &str = "looker_data_data";
const STAGING: &str = "looker_data_data_staging";
const PIPELINE: &str = "looker_data_pipeline";
const DB_FILE: &str = "looker_data_pipeline.duckdb";
const CRASH_AT: &str = "LOOKER_LOAD_CRASH_AT";
const SIGABRT: i32 = 6;
const SIGKILL: i32 = 9;

/// A crashed run: small pages, so extraction delivers several pages.
const CRASH_RUN: &[&str] = &["run", "--demo", "--demo-users", "300", "--page-size", "50"];
/// The rerun, and the clean run that gives the reference.
const RUN: &[&str] = &["run", "--demo", "--demo-users", "300"];
/// Users loaded with `append` instead of the default `replace`.
const USERS_APPEND: (&str, &str) = (
    "SOURCES__LOOKER_DATA_SOURCE__RESOURCES__USERS__WRITE_DISPOSITION",
    "append",
);

// ----- running the binary ------------------------------------------------------------------------

fn run_with(project: &Project, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = project.command();
    cmd.args(args);
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.output().expect("run looker-load")
}

fn run_ok(project: &Project, args: &[&str], env: &[(&str, &str)]) -> Output {
    let out = run_with(project, args, env);
    assert!(
        out.status.success(),
        "looker-load {args:?} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout(&out),
        stderr(&out)
    );
    out
}

/// Runs [`CRASH_RUN`] with `point` armed and checks the process aborted there.
fn crash(project: &Project, point: &str, env: &[(&str, &str)]) -> Output {
    let mut env = env.to_vec();
    env.push((CRASH_AT, point));
    let out = run_with(project, CRASH_RUN, &env);
    assert_eq!(
        out.status.signal(),
        Some(SIGABRT),
        "the run should abort at {point}, it ended with {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout(&out),
        stderr(&out)
    );
    let name = match point.rsplit_once(':') {
        Some((name, n)) if n.parse::<u64>().is_ok() => name,
        _ => point,
    };
    assert!(
        stderr(&out).contains(&format!("crash point {name} reached")),
        "the abort should come from {point}\nstderr:\n{}",
        stderr(&out)
    );
    out
}

/// The load ids the run reported as loaded, in the order it printed them.
fn reported_loads(out: &Output) -> Vec<String> {
    stdout(out)
        .lines()
        .filter_map(|l| l.strip_prefix("Load package "))
        .filter_map(|l| l.strip_suffix(" is LOADED and contains no failed jobs"))
        .map(str::to_owned)
        .collect()
}

// ----- the working directory ---------------------------------------------------------------------

fn work_dir(project: &Project) -> PathBuf {
    project.pipelines_dir().join(PIPELINE)
}

/// The package (or extract) ids in `area` (`load/normalized`, ...), oldest first.
fn ids(project: &Project, area: &str) -> Vec<String> {
    let dir = work_dir(project).join(area);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut ids: Vec<package::LoadId> = entries
        .map(|e| e.expect("list entry").file_name().to_string_lossy().into_owned())
        .map(|name| package::LoadId::parse(&name).expect("only load ids in a package area"))
        .collect();
    ids.sort();
    ids.into_iter().map(|id| id.to_string()).collect()
}

/// The job file names in one job folder of a package, sorted.
fn jobs(project: &Project, area: &str, id: &str, folder: &str) -> Vec<String> {
    let dir = work_dir(project).join(area).join(id).join(folder);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| e.expect("list entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn job_table(file_name: &str) -> &str {
    file_name.split('.').next().unwrap_or_default()
}

/// The one package a crash during load left pending (none in `load/new`, none archived yet).
fn the_pending_package(project: &Project) -> String {
    assert!(
        ids(project, "load/new").is_empty(),
        "no package may be half written"
    );
    assert!(ids(project, "load/loaded").is_empty(), "nothing was loaded yet");
    let pending = ids(project, "load/normalized");
    assert_eq!(pending.len(), 1, "one pending package: {pending:?}");
    pending[0].clone()
}

/// Jobs of a pending package per state: (new, started, completed, failed).
fn job_states(project: &Project, id: &str) -> [usize; 4] {
    ["new_jobs", "started_jobs", "completed_jobs", "failed_jobs"]
        .map(|folder| jobs(project, "load/normalized", id, folder).len())
}

// ----- the DuckDB file ---------------------------------------------------------------------------

/// A read view of a project's DuckDB file. It opens a copy (with the write-ahead log), so looking
/// never checkpoints the file the rerun has to recover.
struct Db {
    conn: duckdb::Connection,
    _copy: tempfile::TempDir,
}

impl Db {
    fn open(project: &Project) -> Option<Db> {
        let file = project.path().join(DB_FILE);
        if !file.is_file() {
            return None;
        }
        let copy = tempfile::tempdir().expect("temp dir");
        std::fs::copy(&file, copy.path().join(DB_FILE)).expect("copy the database");
        let wal = project.path().join(format!("{DB_FILE}.wal"));
        if wal.is_file() {
            std::fs::copy(&wal, copy.path().join(format!("{DB_FILE}.wal"))).expect("copy the WAL");
        }
        let conn = duckdb::Connection::open(copy.path().join(DB_FILE)).expect("open the database copy");
        Some(Db { conn, _copy: copy })
    }

    fn count(&self, sql: &str) -> u64 {
        let n: i64 = self
            .conn
            .query_row(sql, [], |row| row.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        u64::try_from(n).expect("a count")
    }

    fn strings(&self, sql: &str) -> Vec<String> {
        let mut statement = self.conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        statement
            .query_map([], |row| row.get::<_, String>(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .map(|r| r.expect("a text value"))
            .collect()
    }

    fn tables(&self, schema: &str) -> BTreeSet<String> {
        self.strings(&format!(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}'"
        ))
        .into_iter()
        .collect()
    }

    fn columns(&self, table: &str) -> BTreeSet<String> {
        self.strings(&format!(
            "SELECT column_name FROM information_schema.columns \
             WHERE table_schema = '{DATASET}' AND table_name = '{table}'"
        ))
        .into_iter()
        .collect()
    }

    fn rows(&self, table: &str) -> u64 {
        self.count(&format!("SELECT count(*) FROM {}", qualified(DATASET, table)))
    }

    /// Rows per table of every data table (not `_dlt_*`).
    fn data_counts(&self) -> BTreeMap<String, u64> {
        self.tables(DATASET)
            .into_iter()
            .filter(|t| !t.starts_with("_dlt"))
            .map(|t| {
                let n = self.rows(&t);
                (t, n)
            })
            .collect()
    }

    /// `_dlt_loads` as (load_id, status), in the order the loads were committed.
    fn loads(&self) -> Vec<(String, i64)> {
        if !self.tables(DATASET).contains("_dlt_loads") {
            return Vec::new();
        }
        let sql = format!(
            "SELECT load_id, status FROM {} ORDER BY inserted_at, load_id",
            qualified(DATASET, "_dlt_loads")
        );
        let mut statement = self.conn.prepare(&sql).expect("select _dlt_loads");
        statement
            .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))
            .expect("query _dlt_loads")
            .map(|r| r.expect("a _dlt_loads row"))
            .collect()
    }

    /// The exactly-once marks (`job` rows of the staging `_dlt_load_jobs`) of one load.
    fn job_marks(&self, load_id: &str) -> u64 {
        if !self.tables(STAGING).contains("_dlt_load_jobs") {
            return 0;
        }
        self.count(&format!(
            "SELECT count(*) FROM {} WHERE load_id = '{load_id}' AND kind = 'job'",
            qualified(STAGING, "_dlt_load_jobs")
        ))
    }
}

fn qualified(schema: &str, table: &str) -> String {
    format!("\"{schema}\".\"{}\"", table.replace('"', "\"\""))
}

// ----- the reference and the final check ---------------------------------------------------------

/// What a clean run in its own project gives.
struct Reference {
    /// Rows per data table.
    counts: BTreeMap<String, u64>,
    /// The job file names of its one package.
    jobs: Vec<String>,
}

fn reference(args: &[&str], env: &[(&str, &str)]) -> Reference {
    let project = Project::new();
    run_ok(&project, args, env);
    let loaded = ids(&project, "load/loaded");
    assert_eq!(loaded.len(), 1, "a clean run loads one package");
    let db = Db::open(&project).expect("the clean run made a database");
    let counts = db.data_counts();
    assert!(
        counts.get("users").copied().unwrap_or(0) > 0,
        "the reference has users"
    );
    Reference {
        counts,
        jobs: jobs(&project, "load/loaded", &loaded[0], "completed_jobs"),
    }
}

/// Checks the state a finished rerun must leave: `expected` rows per data table, `packages` packages
/// loaded and each recorded once in `_dlt_loads` with status 0, no row of an unknown load, no duplicate
/// row, nothing pending. Tables of `appended` roots keep rows of several loads; every other data table
/// holds only the last load's rows (they are `replace`).
fn assert_exactly_once(
    project: &Project,
    expected: &BTreeMap<String, u64>,
    packages: usize,
    appended: &[&str],
) {
    for area in ["load/new", "load/normalized", "extract/new", "extract/extracted"] {
        assert!(ids(project, area).is_empty(), "{area} is empty after the rerun");
    }
    let loaded = ids(project, "load/loaded");
    assert_eq!(loaded.len(), packages, "packages loaded: {loaded:?}");
    for id in &loaded {
        for folder in ["new_jobs", "started_jobs", "failed_jobs"] {
            assert!(
                jobs(project, "load/loaded", id, folder).is_empty(),
                "{folder} of loaded package {id} is empty"
            );
        }
    }

    let db = Db::open(project).expect("the database exists");
    let loads = db.loads();
    let load_ids: Vec<String> = loads.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(
        load_ids, loaded,
        "_dlt_loads holds each archived package once, in load order"
    );
    assert!(loads.iter().all(|(_, status)| *status == 0), "{loads:?}");
    let last = loaded.last().expect("a package was loaded");

    assert_eq!(&db.data_counts(), expected, "rows per data table");

    let is_appended = |table: &str| {
        appended
            .iter()
            .any(|root| table == *root || table.starts_with(&format!("{root}__")))
    };
    let loads_table = qualified(DATASET, "_dlt_loads");
    for table in db.tables(DATASET) {
        if table == "_dlt_loads" || table == "_dlt_version" {
            continue;
        }
        let name = qualified(DATASET, &table);
        let columns = db.columns(&table);
        if columns.contains("_dlt_load_id") {
            let orphans = db.count(&format!(
                "SELECT count(*) FROM {name} WHERE _dlt_load_id NOT IN (SELECT load_id FROM {loads_table})"
            ));
            assert_eq!(orphans, 0, "{table}: rows of a load missing from _dlt_loads");
            if !table.starts_with("_dlt") && !is_appended(&table) {
                let stale = db.count(&format!(
                    "SELECT count(*) FROM {name} WHERE _dlt_load_id <> '{last}'"
                ));
                assert_eq!(stale, 0, "{table} (replace) holds only the last load's rows");
            }
        }
        if columns.contains("_dlt_id") {
            let distinct = db.count(&format!("SELECT count(DISTINCT _dlt_id) FROM {name}"));
            assert_eq!(distinct, db.rows(&table), "{table}: a _dlt_id appears twice");
        }
        if columns.contains("id") && !columns.contains("_dlt_parent_id") {
            let key = if is_appended(&table) {
                "(id, _dlt_load_id)"
            } else {
                "id"
            };
            let distinct = db.count(&format!("SELECT count(DISTINCT {key}) FROM {name}"));
            assert_eq!(distinct, db.rows(&table), "{table}: a duplicate {key}");
        }
    }

    let state = qualified(DATASET, "_dlt_pipeline_state");
    assert_eq!(
        db.count(&format!("SELECT count(DISTINCT _dlt_load_id) FROM {state}")),
        packages as u64,
        "one pipeline state row per package"
    );
    assert_eq!(db.rows("_dlt_pipeline_state"), packages as u64);
    if db.tables(STAGING).contains("_dlt_load_jobs") {
        let marks = db.count(&format!(
            "SELECT count(*) FROM {}",
            qualified(STAGING, "_dlt_load_jobs")
        ));
        assert_eq!(marks, 0, "completed loads leave no exactly-once marks behind");
    }
}

/// Reruns without a crash point, checks the outcome against `reference` (`packages` loaded in all) and
/// that the rerun reported the packages it loaded, oldest first.
fn resume(project: &Project, reference: &Reference, packages: usize) -> Output {
    let before = ids(project, "load/loaded");
    let out = run_ok(project, RUN, &[]);
    assert_exactly_once(project, &reference.counts, packages, &[]);
    let by_rerun: Vec<String> = ids(project, "load/loaded")
        .into_iter()
        .filter(|id| !before.contains(id))
        .collect();
    assert_eq!(
        reported_loads(&out),
        by_rerun,
        "the packages the rerun reports, in load order"
    );
    out
}

// ----- extract and normalize ---------------------------------------------------------------------

#[test]
fn crash_while_pages_stream_in_leaves_an_unpublished_package_and_rerun_loads_once() {
    let reference = reference(RUN, &[]);
    let project = Project::new();
    crash(&project, "extract:page:3", &[]);
    assert_eq!(ids(&project, "load/new").len(), 1, "the package being written");
    assert!(ids(&project, "load/normalized").is_empty());
    assert!(ids(&project, "load/loaded").is_empty());

    resume(&project, &reference, 1);
}

#[test]
fn crash_before_the_package_commit_discards_it_and_rerun_loads_once() {
    let reference = reference(RUN, &[]);
    let project = Project::new();
    crash(&project, "normalize:before_commit", &[]);
    let new = ids(&project, "load/new");
    assert_eq!(new.len(), 1, "the package is written but not published");
    assert_eq!(
        jobs(&project, "load/new", &new[0], "new_jobs").len(),
        reference.jobs.len(),
        "every job file is written"
    );
    assert!(ids(&project, "load/normalized").is_empty());

    resume(&project, &reference, 1);
}

#[test]
fn crash_after_the_package_commit_loads_the_pending_package_first_then_new_data() {
    let reference = reference(RUN, &[]);
    let project = Project::new();
    crash(&project, "normalize:after_commit", &[]);
    let pending = the_pending_package(&project);
    assert_eq!(
        job_states(&project, &pending),
        [reference.jobs.len(), 0, 0, 0],
        "nothing of the package was loaded"
    );
    if let Some(db) = Db::open(&project) {
        assert!(db.loads().is_empty());
    }

    let out = resume(&project, &reference, 2);
    let loaded = ids(&project, "load/loaded");
    assert_eq!(loaded[0], pending, "the pending package is the older one");
    assert_eq!(
        reported_loads(&out),
        loaded,
        "the pending package loads first, then the new extraction"
    );
    // The pending package really reached the destination: its pipeline state row is there.
    let db = Db::open(&project).expect("database");
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM {} WHERE _dlt_load_id = '{pending}'",
            qualified(DATASET, "_dlt_pipeline_state")
        )),
        1
    );
}

// ----- load --------------------------------------------------------------------------------------

/// Crashes at `point` on the visit `visit` computes from the package's job count, checks the package's
/// jobs and the destination's exactly-once marks before the rerun, then reruns.
fn crash_during_load(point: &str, visit: fn(usize) -> usize) {
    let reference = reference(RUN, &[]);
    let total = reference.jobs.len();
    let visit = visit(total);
    assert!((1..=total).contains(&visit), "the package has {total} jobs");
    // Jobs completed in the package, and jobs the destination holds, when the crash hits.
    let (completed, marked) = match point {
        "load:inside_job" => (visit - 1, visit - 1),
        "load:job_committed" => (visit - 1, visit),
        "load:after_job" => (visit, visit),
        other => panic!("not a job crash point: {other}"),
    };
    let project = Project::new();
    crash(&project, &format!("{point}:{visit}"), &[]);
    let pending = the_pending_package(&project);
    assert_eq!(
        job_states(&project, &pending),
        [0, total - completed, completed, 0],
        "jobs [new, started, completed, failed] after a crash at {point}:{visit}"
    );
    let db = Db::open(&project).expect("the load created the database");
    assert_eq!(
        db.job_marks(&pending),
        marked as u64,
        "jobs the destination holds"
    );
    assert!(db.loads().is_empty(), "the load is not complete");
    drop(db);

    resume(&project, &reference, 2);
}

#[test]
fn crash_inside_the_first_job_then_rerun_loads_once() {
    crash_during_load("load:inside_job", |_| 1);
}

#[test]
fn crash_inside_a_job_midway_then_rerun_loads_once() {
    crash_during_load("load:inside_job", |total| total / 2);
}

#[test]
fn crash_after_the_destination_committed_the_first_job_then_rerun_skips_it() {
    // The first job in file name order is the `_dlt_pipeline_state` row, an `append` table: loaded twice,
    // the pending package would show two state rows.
    crash_during_load("load:job_committed", |_| 1);
}

#[test]
fn crash_after_the_destination_committed_a_job_then_rerun_skips_it() {
    crash_during_load("load:job_committed", |total| total / 2);
}

#[test]
fn crash_after_the_destination_committed_the_last_job_then_rerun_loads_once() {
    crash_during_load("load:job_committed", |total| total);
}

#[test]
fn crash_after_the_first_job_then_rerun_loads_once() {
    crash_during_load("load:after_job", |_| 1);
}

#[test]
fn crash_between_jobs_midway_then_rerun_loads_once() {
    crash_during_load("load:after_job", |total| total / 2);
}

#[test]
fn crash_after_the_last_job_then_rerun_loads_once() {
    crash_during_load("load:after_job", |total| total);
}

#[test]
fn crash_before_the_loads_row_then_rerun_loads_once() {
    let reference = reference(RUN, &[]);
    let total = reference.jobs.len();
    let project = Project::new();
    crash(&project, "load:before_complete", &[]);
    let pending = the_pending_package(&project);
    assert_eq!(job_states(&project, &pending), [0, 0, total, 0]);
    let db = Db::open(&project).expect("database");
    assert_eq!(db.job_marks(&pending), total as u64);
    assert!(db.loads().is_empty(), "no _dlt_loads row yet");
    drop(db);

    resume(&project, &reference, 2);
}

#[test]
fn crash_after_the_loads_row_before_archiving_then_rerun_loads_once() {
    let reference = reference(RUN, &[]);
    let total = reference.jobs.len();
    let project = Project::new();
    crash(&project, "load:after_complete", &[]);
    let pending = the_pending_package(&project);
    assert_eq!(job_states(&project, &pending), [0, 0, total, 0]);
    let db = Db::open(&project).expect("database");
    assert_eq!(db.loads(), vec![(pending.clone(), 0)], "the load is committed");
    assert_eq!(db.job_marks(&pending), 0, "its marks went with the commit");
    drop(db);

    resume(&project, &reference, 2);
}

#[test]
fn a_crash_while_finishing_a_crashed_load_is_finished_by_the_next_run() {
    let reference = reference(RUN, &[]);
    let total = reference.jobs.len();
    let project = Project::new();
    crash(&project, "load:after_job:3", &[]);
    let first = the_pending_package(&project);

    // The second run finishes the first package (total - 3 jobs), then crashes in its own package.
    let second_visit = total - 3 + total / 2;
    crash(&project, &format!("load:after_job:{second_visit}"), &[]);
    assert_eq!(ids(&project, "load/loaded"), vec![first.clone()]);
    let pending = ids(&project, "load/normalized");
    assert_eq!(pending.len(), 1);
    assert_ne!(pending[0], first);
    assert_eq!(
        job_states(&project, &pending[0]),
        [0, total - total / 2, total / 2, 0]
    );

    resume(&project, &reference, 3);
}

// ----- append: no job loaded twice ---------------------------------------------------------------

/// Users `append`: crash right at the users job (`point` at its visit), rerun, and expect the users of
/// exactly two loads (the crashed package once, the new one once).
fn append_users_crash(point: &str, users_job_completed: bool) {
    let env = [USERS_APPEND];
    let reference = reference(RUN, &env);
    let users_jobs: Vec<&String> = reference
        .jobs
        .iter()
        .filter(|j| job_table(j) == "users")
        .collect();
    assert_eq!(users_jobs.len(), 1, "one users job file");
    // Jobs run in file name order: table, then file id.
    let visit = reference.jobs.iter().filter(|j| job_table(j) < "users").count() + 1;

    let project = Project::new();
    crash(&project, &format!("{point}:{visit}"), &env);
    let pending = the_pending_package(&project);
    let (holding, other) = if users_job_completed {
        ("completed_jobs", "started_jobs")
    } else {
        ("started_jobs", "completed_jobs")
    };
    let in_folder = |folder| {
        jobs(&project, "load/normalized", &pending, folder)
            .iter()
            .any(|j| job_table(j) == "users")
    };
    assert!(in_folder(holding), "the users job is in {holding}");
    assert!(!in_folder(other));
    let db = Db::open(&project).expect("database");
    assert_eq!(
        db.rows("users"),
        reference.counts["users"],
        "the users job reached the destination"
    );
    drop(db);

    run_ok(&project, RUN, &env);
    let is_users = |t: &str| t == "users" || t.starts_with("users__");
    let expected: BTreeMap<String, u64> = reference
        .counts
        .iter()
        .map(|(t, n)| (t.clone(), if is_users(t) { 2 * n } else { *n }))
        .collect();
    assert_exactly_once(&project, &expected, 2, &["users"]);
    let db = Db::open(&project).expect("database");
    for id in ids(&project, "load/loaded") {
        assert_eq!(
            db.count(&format!(
                "SELECT count(*) FROM {} WHERE _dlt_load_id = '{id}'",
                qualified(DATASET, "users")
            )),
            reference.counts["users"],
            "load {id} appended its users once"
        );
    }
}

#[test]
fn append_crash_after_the_users_job_loads_no_job_twice() {
    append_users_crash("load:after_job", true);
}

#[test]
fn append_crash_between_the_destination_commit_and_the_job_move_loads_no_job_twice() {
    append_users_crash("load:job_committed", false);
}

// ----- a real SIGKILL ----------------------------------------------------------------------------

/// splitmix64: the kill delays, reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[test]
fn sigkill_at_seeded_moments_of_large_loads_then_rerun_loads_once() {
    const LARGE: &[&str] = &["run", "--demo", "--demo-users", "20000"];
    const ROUNDS: usize = 3;
    let seed = std::env::var("LOOKER_LOAD_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1e55_u64);
    eprintln!("kill delays from seed {seed} (LOOKER_LOAD_KILL_SEED)");
    let mut rng = Rng(seed);

    let reference = reference(LARGE, &[]);
    let project = Project::new();
    let (mut packages, mut killed) = (0, 0);
    for round in 0..ROUNDS {
        let before: BTreeSet<String> = ids(&project, "load/normalized").into_iter().collect();
        let mut child = project
            .command()
            .args(LARGE)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start looker-load");
        // Wait until this round's own package is being loaded.
        let deadline = Instant::now() + Duration::from_secs(300);
        let loading = |project: &Project| {
            ids(project, "load/normalized")
                .iter()
                .filter(|id| !before.contains(*id))
                .any(|id| job_states(project, id)[1..3].iter().any(|n| *n > 0))
        };
        let began = loop {
            if child.try_wait().expect("poll the run").is_some() {
                break false;
            }
            if loading(&project) {
                break true;
            }
            assert!(Instant::now() < deadline, "round {round}: the load never began");
            std::thread::sleep(Duration::from_millis(2));
        };
        let delay = Duration::from_millis(rng.next() % 1200);
        if began {
            std::thread::sleep(delay);
        }
        child.kill().expect("send SIGKILL");
        let status = child.wait().expect("reap the run");
        if status.signal() == Some(SIGKILL) {
            killed += 1;
            let pending = ids(&project, "load/normalized");
            let marks = Db::open(&project)
                .map(|db| pending.iter().map(|id| db.job_marks(id)).collect::<Vec<_>>())
                .unwrap_or_default();
            let states: Vec<[usize; 4]> = pending.iter().map(|id| job_states(&project, id)).collect();
            eprintln!(
                "round {round}: killed {delay:?} into the load; pending {pending:?}, jobs \
                 [new, started, completed, failed] {states:?}, destination marks {marks:?}"
            );
            assert!(pending.len() <= 1, "at most this round's package is pending");
        } else {
            assert!(status.success(), "round {round}: the run failed: {status:?}");
            eprintln!("round {round}: the run finished before the kill");
        }
        if began || status.success() {
            packages += 1;
        }
    }
    assert!(killed > 0, "no kill landed during a load");

    run_ok(&project, LARGE, &[]);
    assert_exactly_once(&project, &reference.counts, packages + 1, &[]);
}

#[test]
fn every_crash_point_is_exercised_here() {
    let source = include_str!("resume.rs");
    for point in pipeline::crash::POINTS {
        assert!(
            source.contains(&format!("\"{point}")),
            "no test crashes at {point}"
        );
    }
}
