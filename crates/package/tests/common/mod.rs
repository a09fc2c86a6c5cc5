//! Shared fixtures for the package tests.

#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;

use package::schema::{Column, DataType, Schema, Table, WriteDisposition};
use package::{CommitInfo, NewPackage, NormalizedPackage, PipelineDir};

/// A pipeline directory in a fresh temporary folder (kept alive by the returned guard).
pub fn pipeline() -> (tempfile::TempDir, PipelineDir) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = PipelineDir::new(tmp.path(), "looker_data_pipeline").expect("pipeline dir");
    (tmp, dir)
}

/// A small schema: `users` (replace) with nested `users__roles`, `looks` (merge), `events` (append).
pub fn schema() -> Schema {
    let col = |name: &str, data_type| Column {
        name: name.to_owned(),
        data_type,
        nullable: true,
        ..Default::default()
    };
    Schema {
        version: 2,
        version_hash: "MxS+xCfUhash=".to_owned(),
        engine_version: 11,
        name: "looker".to_owned(),
        tables: vec![
            Table {
                name: "users".to_owned(),
                columns: vec![col("id", DataType::Bigint), col("email", DataType::Text)],
                write_disposition: Some(WriteDisposition::Replace),
                resource: Some("users".to_owned()),
                ..Default::default()
            },
            Table {
                name: "users__roles".to_owned(),
                columns: vec![col("value", DataType::Text)],
                parent: Some("users".to_owned()),
                ..Default::default()
            },
            Table {
                name: "looks".to_owned(),
                columns: vec![col("id", DataType::Bigint)],
                write_disposition: Some(WriteDisposition::Merge),
                resource: Some("looks".to_owned()),
                ..Default::default()
            },
            Table {
                name: "events".to_owned(),
                columns: vec![col("id", DataType::Bigint)],
                resource: Some("events".to_owned()),
                ..Default::default()
            },
        ],
        ..Default::default()
    }
}

/// Writes a job file for `table` with `bytes` into `package`, returning its path.
pub fn write_job(package: &NewPackage, table: &str, bytes: &[u8]) -> PathBuf {
    let (mut file, path) = package.create_job_file(table).expect("create job file");
    file.write_all(bytes).expect("write job");
    path
}

/// A committed package with one `users` job and one `looks` job.
pub fn committed(dir: &PipelineDir) -> NormalizedPackage {
    let package = dir.new_package().expect("new package");
    let users = write_job(&package, "users", b"PAR1 users PAR1");
    let looks = write_job(&package, "looks", b"PAR1 looks PAR1");
    let mut info = CommitInfo::default();
    info.add_rows(&users, 3);
    info.add_rows(&looks, 2);
    package.commit(&schema(), info).expect("commit")
}
