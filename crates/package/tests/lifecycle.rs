//! Load packages from normalize's first job file to the archive, and the job lifecycle in between.

mod common;

use std::fs;

use common::{committed, pipeline, schema, write_job};
use package::{CommitInfo, Error, JobFileName, JobState, PipelineDir};

#[test]
fn full_lifecycle_new_normalized_loaded() {
    let (_tmp, dir) = pipeline();
    let package = dir.new_package().unwrap();
    let id = package.load_id().clone();
    let new_path = dir.root().join("load/new").join(id.as_str());
    assert_eq!(package.path(), new_path);
    for folder in ["new_jobs", "started_jobs", "completed_jobs", "failed_jobs"] {
        assert!(new_path.join(folder).is_dir(), "{folder}");
    }

    let users = write_job(&package, "users", b"0123456789");
    let name = users.file_name().unwrap().to_str().unwrap();
    let parsed = JobFileName::parse(name).unwrap();
    assert_eq!(parsed.table(), "users");
    assert_eq!(parsed.retry_count(), 0);
    assert_eq!(parsed.format(), "parquet");
    assert_eq!(parsed.file_id().len(), 10);
    assert!(parsed.file_id().bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(users.parent().unwrap(), new_path.join("new_jobs"));
    assert!(
        dir.pending().unwrap().is_empty(),
        "an uncommitted package is not pending"
    );

    let mut info = CommitInfo {
        pipeline_state: Some(serde_json::json!({"pipeline_name": "looker_data_pipeline"})),
        extracted_tables: vec!["users".into()],
        ..Default::default()
    };
    info.add_rows(&users, 7);
    let normalized = package.commit(&schema(), info).unwrap();
    assert!(!new_path.exists(), "load/new/<id> is gone after commit");
    assert_eq!(
        normalized.path(),
        dir.root().join("load/normalized").join(id.as_str())
    );
    assert_eq!(normalized.schema().unwrap(), schema());

    let state = normalized.state().unwrap();
    assert_eq!(state.load_id, id);
    assert_eq!(state.schema_name, "looker");
    assert_eq!(state.schema_version, 2);
    assert_eq!(state.schema_version_hash, "MxS+xCfUhash=");
    assert_eq!(
        state.pipeline_state.as_ref().unwrap()["pipeline_name"],
        "looker_data_pipeline"
    );
    let metrics = &state.jobs[&parsed.job_id()];
    assert_eq!(
        (metrics.table.as_str(), metrics.rows, metrics.bytes),
        ("users", 7, 10)
    );
    assert_eq!(state.rows_per_table()["users"], 7);

    let pending = dir.pending().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].load_id(), &id);

    let job = normalized.jobs(JobState::New).unwrap().remove(0);
    let started = normalized.start_job(&job).unwrap();
    assert!(matches!(
        normalized.clone().mark_loaded(),
        Err(Error::Unfinished {
            new: 0,
            started: 1,
            ..
        })
    ));
    let done = normalized.complete_job(&started).unwrap();
    assert_eq!(done.state(), JobState::Completed);
    assert_eq!(fs::read(done.path()).unwrap(), b"0123456789");

    let loaded = normalized.mark_loaded().unwrap();
    assert_eq!(loaded.path(), dir.root().join("load/loaded").join(id.as_str()));
    assert!(dir.pending().unwrap().is_empty());
    let archived = dir.loaded().unwrap();
    assert_eq!(archived.len(), 1);
    assert_eq!(archived[0].load_id(), &id);
    assert_eq!(archived[0].jobs(JobState::Completed).unwrap().len(), 1);
    assert_eq!(archived[0].state().unwrap().jobs.len(), 1);
}

#[test]
fn retry_renames_with_the_next_retry_count() {
    let (_tmp, dir) = pipeline();
    let package = committed(&dir);
    let job = package
        .jobs(JobState::New)
        .unwrap()
        .into_iter()
        .find(|j| j.table() == "users")
        .unwrap();
    let file_id = job.name().file_id().to_owned();
    let job_id = job.job_id();

    let started = package.start_job(&job).unwrap();
    assert_eq!(
        started.path(),
        package.path().join("started_jobs").join(job.file_name())
    );
    let retried = package.retry_job(&started).unwrap();
    assert_eq!(retried.state(), JobState::New);
    assert_eq!(retried.file_name(), format!("users.{file_id}.1.parquet"));
    assert_eq!(
        retried.path(),
        package
            .path()
            .join("new_jobs")
            .join(format!("users.{file_id}.1.parquet"))
    );
    assert!(!started.path().exists());
    assert_eq!(retried.job_id(), job_id, "the job id survives retries");

    let again = package.retry_job(&package.start_job(&retried).unwrap()).unwrap();
    assert_eq!(again.file_name(), format!("users.{file_id}.2.parquet"));

    // the package state's metrics are keyed by the job id, which the loader finds for any retry
    assert!(package.state().unwrap().jobs.contains_key(&again.job_id()));
}

#[test]
fn retry_naming_parses_like_dlt() {
    let name = JobFileName::parse("users.abc1234567.1.parquet").unwrap();
    assert_eq!(name.table(), "users");
    assert_eq!(name.file_id(), "abc1234567");
    assert_eq!(name.retry_count(), 1);
    assert_eq!(name.format(), "parquet");
    assert_eq!(name.job_id(), "users.abc1234567.parquet");
    assert_eq!(name.with_retry_count(2).file_name(), "users.abc1234567.2.parquet");

    let gz = JobFileName::parse("users.ec7bb927d1.0.insert_values.gz").unwrap();
    assert_eq!(gz.format(), "insert_values.gz");
    assert_eq!(gz.to_string(), "users.ec7bb927d1.0.insert_values.gz");

    for bad in [
        "users.parquet",
        "users.abc.x.parquet",
        ".abc.0.parquet",
        "users.abc.0.",
        "users.abc.0.PARQUET",
        "users..0.parquet",
    ] {
        assert!(JobFileName::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn failed_job_keeps_its_exception() {
    let (_tmp, dir) = pipeline();
    let package = committed(&dir);
    let job = package.jobs(JobState::New).unwrap().remove(0);
    let started = package.start_job(&job).unwrap();
    let failed = package
        .fail_job(&started, "column \"x\" has the wrong type")
        .unwrap();
    assert_eq!(failed.state(), JobState::Failed);
    let exception_path = package
        .path()
        .join("failed_jobs")
        .join(format!("{}.exception", job.file_name()));
    assert_eq!(
        fs::read_to_string(exception_path).unwrap(),
        "column \"x\" has the wrong type"
    );
    assert_eq!(
        package.exception(&failed).unwrap().as_deref(),
        Some("column \"x\" has the wrong type")
    );

    // the exception file is not listed as a job
    let failed_jobs = package.jobs(JobState::Failed).unwrap();
    assert_eq!(failed_jobs, vec![failed.clone()]);

    // a failed job cannot be completed, retried or failed again
    assert!(matches!(
        package.complete_job(&failed),
        Err(Error::WrongJobState {
            actual: JobState::Failed,
            ..
        })
    ));
    assert!(matches!(
        package.retry_job(&failed),
        Err(Error::WrongJobState { .. })
    ));
    assert!(matches!(
        package.fail_job(&failed, "again"),
        Err(Error::WrongJobState { .. })
    ));

    // failed jobs do not block archiving once nothing is new or started
    let other = package.jobs(JobState::New).unwrap().remove(0);
    package.complete_job(&package.start_job(&other).unwrap()).unwrap();
    let loaded = package.mark_loaded().unwrap();
    assert_eq!(loaded.jobs(JobState::Failed).unwrap().len(), 1);
}

#[test]
fn transitions_check_the_source_state_and_file() {
    let (_tmp, dir) = pipeline();
    let package = committed(&dir);
    let job = package.jobs(JobState::New).unwrap().remove(0);
    assert!(matches!(
        package.complete_job(&job),
        Err(Error::WrongJobState {
            actual: JobState::New,
            ..
        })
    ));
    assert!(matches!(
        package.retry_job(&job),
        Err(Error::WrongJobState { .. })
    ));
    let started = package.start_job(&job).unwrap();
    // the stale `job` value still says New, but the job was started: nothing is overwritten
    assert!(matches!(
        package.start_job(&job),
        Err(Error::AlreadyExists { .. })
    ));
    let done = package.complete_job(&started).unwrap();
    assert!(matches!(
        package.complete_job(&started),
        Err(Error::AlreadyExists { .. })
    ));
    assert!(done.path().is_file());

    // a job file removed behind the package's back is reported, not invented
    let other = package.jobs(JobState::New).unwrap().remove(0);
    fs::remove_file(other.path()).unwrap();
    assert!(matches!(package.start_job(&other), Err(Error::NotFound { .. })));
    assert!(matches!(
        package.fail_job(&other, "gone"),
        Err(Error::NotFound { .. })
    ));
    assert!(
        package.exception(&other).unwrap().is_none(),
        "no exception without a failed job"
    );
}

#[test]
fn resume_lists_jobs_left_in_started() {
    let (tmp, dir) = pipeline();
    let package = committed(&dir);
    let id = package.load_id().clone();
    let jobs = package.jobs(JobState::New).unwrap();
    assert_eq!(jobs.len(), 2);
    let started = package.start_job(&jobs[0]).unwrap();
    // the loader process dies here: nothing but the files survive
    drop(package);
    drop(dir);

    let dir = PipelineDir::new(tmp.path(), "looker_data_pipeline").unwrap();
    let pending = dir.pending().unwrap();
    assert_eq!(pending.len(), 1);
    let package = &pending[0];
    assert_eq!(package.load_id(), &id);
    let resumed = package.jobs(JobState::Started).unwrap();
    assert_eq!(resumed.len(), 1);
    assert_eq!(resumed[0].file_name(), started.file_name());
    assert_eq!(resumed[0].state(), JobState::Started);
    assert_eq!(package.jobs(JobState::New).unwrap().len(), 1);
    let all: Vec<JobState> = package.all_jobs().unwrap().iter().map(|j| j.state()).collect();
    assert_eq!(all, [JobState::New, JobState::Started]);

    // the loader may complete it (idempotent reload) or send it back for a retry
    let retried = package.retry_job(&resumed[0]).unwrap();
    assert_eq!(retried.name().retry_count(), 1);
}

#[test]
fn commit_refuses_rows_for_unknown_jobs_and_stray_files() {
    let (_tmp, dir) = pipeline();
    let package = dir.new_package().unwrap();
    write_job(&package, "users", b"x");
    let mut info = CommitInfo::default();
    info.job_rows.insert("users.0000000000.0.parquet".into(), 1);
    let new_path = package.path().to_path_buf();
    let err = package.commit(&schema(), info).unwrap_err();
    assert!(matches!(err, Error::UnknownJob { .. }), "{err}");
    assert!(
        new_path.is_dir(),
        "a refused commit leaves the package in load/new"
    );
    assert!(dir.pending().unwrap().is_empty());

    let package = dir.new_package().unwrap();
    fs::write(package.path().join("new_jobs/notes.txt"), "hello").unwrap();
    let err = package.commit(&schema(), CommitInfo::default()).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err}");
    assert!(dir.pending().unwrap().is_empty());
}

#[test]
fn abandon_removes_the_new_package() {
    let (_tmp, dir) = pipeline();
    let package = dir.new_package().unwrap();
    write_job(&package, "users", b"x");
    let path = package.path().to_path_buf();
    package.abandon().unwrap();
    assert!(!path.exists());
    assert!(dir.abandoned().unwrap().is_empty());
}

#[test]
fn job_files_for_other_formats() {
    let (_tmp, dir) = pipeline();
    let package = dir.new_package().unwrap();
    let (_f, path) = package.create_job_file_with_format("users", "jsonl.gz").unwrap();
    let name = JobFileName::parse(path.file_name().unwrap().to_str().unwrap()).unwrap();
    assert_eq!(name.format(), "jsonl.gz");
    for bad in ["", "JSONL", "../x", "a/b", "jsonl..gz"] {
        assert!(
            package.create_job_file_with_format("users", bad).is_err(),
            "{bad:?}"
        );
    }
}

#[test]
fn tables_to_replace_follow_parents_and_extracted_roots() {
    let (_tmp, dir) = pipeline();
    // only a looks job, but users was extracted (with no rows)
    let package = dir.new_package().unwrap();
    write_job(&package, "looks", b"x");
    let info = CommitInfo {
        extracted_tables: vec!["users".into(), "looks".into()],
        ..Default::default()
    };
    let normalized = package.commit(&schema(), info).unwrap();
    let state = normalized.state().unwrap();
    assert_eq!(state.tables_to_replace(&schema()), ["users", "users__roles"]);

    // nothing of users in the package: nothing to replace
    let package = dir.new_package().unwrap();
    write_job(&package, "events", b"x");
    let state = package
        .commit(&schema(), CommitInfo::default())
        .unwrap()
        .state()
        .unwrap();
    assert!(state.tables_to_replace(&schema()).is_empty());

    // a nested job alone touches its root
    let package = dir.new_package().unwrap();
    write_job(&package, "users__roles", b"x");
    let state = package
        .commit(&schema(), CommitInfo::default())
        .unwrap()
        .state()
        .unwrap();
    assert_eq!(state.tables_to_replace(&schema()), ["users", "users__roles"]);
}

#[test]
fn mark_loaded_refuses_new_jobs() {
    let (_tmp, dir) = pipeline();
    let package = committed(&dir);
    let id = package.load_id().clone();
    let err = package.mark_loaded().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unfinished {
                new: 2,
                started: 0,
                ..
            }
        ),
        "{err}"
    );
    // still pending
    assert_eq!(dir.pending().unwrap()[0].load_id(), &id);
    assert_eq!(dir.normalized(&id).unwrap().load_id(), &id);
}
