//! The pipeline directory: pending order, leftovers of crashes, ids, names, the lock and extracts.

mod common;

use std::collections::HashSet;
use std::fs;
use std::io::{ErrorKind, Write};

use common::{committed, pipeline, schema, write_job};
use package::{CommitInfo, Durability, Error, LoadId, PipelineDir};

#[test]
fn pending_is_ordered_by_load_id() {
    let (_tmp, dir) = pipeline();
    // packages committed out of creation order are still listed oldest first
    let a = dir.new_package().unwrap();
    let b = dir.new_package().unwrap();
    let c = dir.new_package().unwrap();
    let ids = [a.load_id().clone(), b.load_id().clone(), c.load_id().clone()];
    c.commit(&schema(), CommitInfo::default()).unwrap();
    a.commit(&schema(), CommitInfo::default()).unwrap();
    b.commit(&schema(), CommitInfo::default()).unwrap();
    // a package made by dlt, with a 7-digit fraction and an earlier time, sorts numerically
    let dlt_id = "1000000000.2609165";
    fs::create_dir_all(dir.root().join("load/normalized").join(dlt_id)).unwrap();
    // entries that are not packages are skipped
    fs::create_dir_all(dir.root().join("load/normalized/not-a-package")).unwrap();
    fs::write(
        dir.root().join("load/normalized/1000000001.5"),
        "a file, not a package",
    )
    .unwrap();

    let pending: Vec<LoadId> = dir
        .pending()
        .unwrap()
        .iter()
        .map(|p| p.load_id().clone())
        .collect();
    let mut expected = vec![LoadId::parse(dlt_id).unwrap()];
    expected.extend(ids);
    assert_eq!(pending, expected);
}

#[test]
fn a_package_left_in_new_is_never_pending() {
    let (tmp, dir) = pipeline();
    let done = committed(&dir);
    let crashed = dir.new_package().unwrap();
    write_job(&crashed, "users", b"half a parquet file");
    let crashed_id = crashed.load_id().clone();
    drop(crashed); // normalize crashed before commit

    let dir = PipelineDir::new(tmp.path(), "looker_data_pipeline").unwrap();
    let pending = dir.pending().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].load_id(), done.load_id());
    assert!(matches!(dir.normalized(&crashed_id), Err(Error::NotFound { .. })));

    let report = dir.abandoned().unwrap();
    assert_eq!(report.new_packages, vec![crashed_id.clone()]);
    assert!(
        dir.root().join("load/new").join(crashed_id.as_str()).exists(),
        "reporting removes nothing"
    );

    let lock = dir.lock().unwrap();
    let removed = dir.recover(&lock).unwrap();
    assert_eq!(removed.new_packages, vec![crashed_id.clone()]);
    assert!(!dir.root().join("load/new").join(crashed_id.as_str()).exists());
    assert!(dir.abandoned().unwrap().is_empty());
    // the pending package is untouched
    assert_eq!(dir.pending().unwrap().len(), 1);
    assert_eq!(dir.pending().unwrap()[0].state().unwrap().jobs.len(), 2);
}

#[test]
fn load_ids_are_unique_and_increasing_across_rapid_calls() {
    let (_tmp, dir) = pipeline();
    let dir = dir.with_durability(Durability::NoSync);
    let mut previous: Option<LoadId> = None;
    for _ in 0..200 {
        let package = dir.new_package().unwrap();
        let id = package.load_id().clone();
        assert!(
            id.as_str()
                .split_once('.')
                .is_some_and(|(s, f)| s.len() >= 10 && f.len() == 6),
            "{id}"
        );
        if let Some(prev) = &previous {
            assert!(id > *prev, "{id} after {prev}");
        }
        previous = Some(id);
        package.abandon().unwrap();
    }

    // threads share the process-wide sequence
    let ids: Vec<LoadId> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    (0..50)
                        .map(|_| dir.new_extract().unwrap().id().clone())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let unique: HashSet<&LoadId> = ids.iter().collect();
    assert_eq!(unique.len(), 200);
}

#[test]
fn load_ids_follow_ids_already_on_disk() {
    let (_tmp, dir) = pipeline();
    // a package from the far future (another machine's clock, or dlt) must not be overtaken
    let future = "4102444800.1234567";
    fs::create_dir_all(dir.root().join("load/loaded").join(future)).unwrap();
    let package = dir.new_package().unwrap();
    assert!(
        package.load_id() > &LoadId::parse(future).unwrap(),
        "{}",
        package.load_id()
    );
    let extract = dir.new_extract().unwrap();
    assert!(extract.id() > package.load_id());
}

#[test]
fn hostile_table_names_are_refused() {
    let (_tmp, dir) = pipeline();
    let package = dir.new_package().unwrap();
    let long = "x".repeat(201);
    for bad in [
        "../x",
        "a/b",
        "a\0b",
        "",
        ".",
        "..",
        "a\\b",
        "users.x",
        "tab\tle",
        "/etc/passwd",
        &long,
    ] {
        let err = package.create_job_file(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}: {err}");
    }
    // nothing was created anywhere
    assert_eq!(fs::read_dir(package.path().join("new_jobs")).unwrap().count(), 0);
    assert!(!dir.root().join("load/new/x").exists());
    assert!(!dir.root().join("load/x").exists());
    // names the normalizer produces are fine, including unicode and 200 bytes
    for good in ["users__roles", "über_table", &"y".repeat(200)] {
        package.create_job_file(good).unwrap();
    }
}

#[test]
fn hostile_pipeline_schema_and_resource_names_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in ["..", "a/b", "", "x\0"] {
        assert!(
            matches!(PipelineDir::new(tmp.path(), bad), Err(Error::InvalidName { .. })),
            "{bad:?}"
        );
    }
    let dir = PipelineDir::new(tmp.path(), "p").unwrap();
    let mut s = schema();
    s.name = "../evil".into();
    assert!(matches!(dir.write_schema(&s), Err(Error::InvalidName { .. })));
    assert!(matches!(
        dir.read_schema("../evil"),
        Err(Error::InvalidName { .. })
    ));
    let extract = dir.new_extract().unwrap();
    assert!(matches!(
        extract.write_page("../users", 0, b"[]"),
        Err(Error::InvalidName { .. })
    ));
    assert!(!tmp.path().join("evil.schema.json").exists());
}

#[test]
fn the_lock_is_exclusive() {
    let (_tmp, dir) = pipeline();
    let lock = dir.lock().unwrap();
    assert!(matches!(dir.lock(), Err(Error::Locked { .. })));
    // recovery needs this directory's lock
    let (_other_tmp, other) = pipeline();
    let other_lock = other.lock().unwrap();
    assert!(matches!(dir.recover(&other_lock), Err(Error::WrongLock { .. })));
    dir.recover(&lock).unwrap();
    drop(lock);
    let _again = dir.lock().unwrap();
}

#[test]
fn reading_a_pipeline_that_never_ran_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = PipelineDir::new(tmp.path(), "never_ran").unwrap();
    assert!(!dir.exists());
    assert!(dir.pending().unwrap().is_empty());
    assert!(dir.loaded().unwrap().is_empty());
    assert!(dir.pending_extracts().unwrap().is_empty());
    assert!(dir.read_state().unwrap().is_none());
    assert!(dir.read_trace().unwrap().is_none());
    assert!(dir.read_schema("looker").unwrap().is_none());
    assert!(dir.schema_names().unwrap().is_empty());
    assert!(dir.abandoned().unwrap().is_empty());
    assert!(!dir.exists());
}

#[test]
fn extract_lifecycle_and_normalize_from_it() {
    let (_tmp, dir) = pipeline();
    let extract = dir.new_extract().unwrap();
    let id = extract.id().clone();
    assert_eq!(extract.path(), dir.root().join("extract/new").join(id.as_str()));
    extract.write_page("users", 1, br#"[{"id":2}]"#).unwrap();
    extract.write_page("users", 0, br#"[{"id":1}]"#).unwrap();
    extract.write_page("users", 10, br#"[{"id":3}]"#).unwrap();
    let (mut file, _) = extract.create_page("looks", 0).unwrap();
    file.write_all(b"[]").unwrap();
    assert!(matches!(
        extract.write_page("users", 1, b"[]"),
        Err(Error::AlreadyExists { .. })
    ));
    assert!(
        dir.pending_extracts().unwrap().is_empty(),
        "an uncommitted extract is not pending"
    );

    let info = serde_json::json!({"resources": ["users", "looks"]});
    let extracted = extract.commit(Some(&info)).unwrap();
    assert_eq!(
        extracted.path(),
        dir.root().join("extract/extracted").join(id.as_str())
    );
    assert_eq!(extracted.info().unwrap(), Some(info));
    assert_eq!(extracted.resources().unwrap(), ["looks", "users"]);
    let pages = extracted.pages("users").unwrap();
    let seqs: Vec<u64> = pages.iter().map(|p| p.seq).collect();
    assert_eq!(seqs, [0, 1, 10]);
    assert_eq!(fs::read(&pages[2].path).unwrap(), br#"[{"id":3}]"#);

    let pending = dir.pending_extracts().unwrap();
    assert_eq!(pending.len(), 1);
    let package = dir.new_package_from_extract(&pending[0]).unwrap();
    assert_eq!(package.load_id(), &id, "the package takes the extract's id");
    write_job(&package, "users", b"rows");
    let normalized = package.commit(&schema(), CommitInfo::default()).unwrap();
    assert_eq!(normalized.load_id(), &id);
    assert!(!extracted.path().exists(), "the consumed extract is removed");
    assert!(dir.pending_extracts().unwrap().is_empty());
    assert!(matches!(
        dir.new_package_from_extract(&extracted),
        Err(Error::AlreadyExists { .. })
    ));
}

#[test]
fn an_extract_left_in_new_is_never_pending() {
    let (_tmp, dir) = pipeline();
    let extract = dir.new_extract().unwrap();
    extract.write_page("users", 0, b"[{\"id\":").unwrap();
    let id = extract.id().clone();
    drop(extract); // extraction crashed
    assert!(dir.pending_extracts().unwrap().is_empty());
    assert_eq!(dir.abandoned().unwrap().new_extracts, vec![id.clone()]);
    let lock = dir.lock().unwrap();
    assert_eq!(dir.recover(&lock).unwrap().new_extracts, vec![id.clone()]);
    assert!(!dir.root().join("extract/new").join(id.as_str()).exists());
}

#[test]
fn a_crash_between_package_commit_and_extract_removal_never_normalizes_twice() {
    let (_tmp, dir) = pipeline();
    let extract = dir.new_extract().unwrap();
    extract.write_page("users", 0, b"[]").unwrap();
    let extracted = extract.commit(None).unwrap();
    let package = dir.new_package_from_extract(&extracted).unwrap();
    let normalized = package.commit(&schema(), CommitInfo::default()).unwrap();
    // simulate the crash: the extract is still there after the package was committed
    fs::create_dir_all(extracted.path().join("users")).unwrap();
    fs::write(extracted.path().join("users/000000.json"), "[]").unwrap();

    assert!(
        dir.pending_extracts().unwrap().is_empty(),
        "a consumed extract is not pending"
    );
    assert_eq!(
        dir.abandoned().unwrap().consumed_extracts,
        vec![normalized.load_id().clone()]
    );
    // still consumed after the package was loaded
    let loaded = normalized.mark_loaded().unwrap();
    assert!(dir.pending_extracts().unwrap().is_empty());
    let lock = dir.lock().unwrap();
    assert_eq!(
        dir.recover(&lock).unwrap().consumed_extracts,
        vec![loaded.load_id().clone()]
    );
    assert!(!extracted.path().exists());
}

#[test]
fn normalize_of_an_extract_restarts_after_a_crash() {
    let (_tmp, dir) = pipeline();
    let extract = dir.new_extract().unwrap();
    extract.write_page("users", 0, b"[]").unwrap();
    let extracted = extract.commit(None).unwrap();
    let first = dir.new_package_from_extract(&extracted).unwrap();
    let stale = write_job(&first, "users", b"half");
    drop(first); // normalize crashed
    assert_eq!(
        dir.pending_extracts().unwrap().len(),
        1,
        "the extract is still pending"
    );

    let second = dir.new_package_from_extract(&extracted).unwrap();
    assert!(!stale.exists(), "the half-written package was cleared");
    write_job(&second, "users", b"whole");
    let normalized = second.commit(&schema(), CommitInfo::default()).unwrap();
    assert_eq!(normalized.state().unwrap().jobs.len(), 1);
}
