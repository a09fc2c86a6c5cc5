//! Pipeline-level files: state, schemas, trace; atomic writes.

mod common;

use std::collections::BTreeMap;
use std::fs;

use common::{pipeline, schema};
use package::{Error, LoadId, PipelineState, Step, Trace, TraceStep};
use serde_json::json;

#[test]
fn state_round_trip_keeps_unknown_keys() {
    let (_tmp, dir) = pipeline();
    // a state as dlt writes it, with a key this crate does not model
    let dlt_state = json!({
        "_state_version": 3,
        "_state_engine_version": 4,
        "_version_hash": "abc=",
        "pipeline_name": "looker_data_pipeline",
        "dataset_name": "looker_data_data",
        "default_schema_name": "looker",
        "schema_names": ["looker"],
        "destination_type": "dlt.destinations.duckdb",
        "destination_name": "duckdb",
        "_local": {"first_run": false},
        "sources": {"looker": {"resources": {"users": {"incremental": {"updated_at": {
            "last_value": "2024-01-02T00:00:00Z", "unique_hashes": ["Tp44cKMYfAuJ"]}}}}}},
        "future_key": {"x": 1}
    });
    fs::create_dir_all(dir.root()).unwrap();
    fs::write(dir.root().join("state.json"), dlt_state.to_string()).unwrap();

    let state = dir.read_state().unwrap().unwrap();
    assert_eq!(state.state_version, 3);
    assert_eq!(state.dataset_name, "looker_data_data");
    assert_eq!(
        state.source("looker").unwrap()["resources"]["users"]["incremental"]["updated_at"]["last_value"],
        "2024-01-02T00:00:00Z"
    );
    assert_eq!(state.extra["future_key"], json!({"x": 1}));

    dir.write_state(&state).unwrap();
    let written: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.root().join("state.json")).unwrap()).unwrap();
    assert_eq!(written, dlt_state);
    assert_eq!(dir.read_state().unwrap().unwrap(), state);
}

#[test]
fn state_version_bumps_only_on_change() {
    let mut state = PipelineState::new("p", "d");
    assert!(!state.bump_version_if_modified(), "the first hash does not bump");
    assert_eq!(state.state_version, 0);
    let first_hash = state.version_hash.clone().unwrap();
    assert!(!state.bump_version_if_modified());

    // _local does not count
    state.local.insert("first_run".into(), json!(false));
    assert!(!state.bump_version_if_modified());

    state.sources.insert("looker".into(), json!({"resources": {}}));
    assert!(state.bump_version_if_modified());
    assert_eq!(state.state_version, 1);
    assert_ne!(state.version_hash.as_deref(), Some(first_hash.as_str()));

    // key order does not matter
    let mut a = PipelineState::new("p", "d");
    a.sources
        .insert("s".into(), json!({"b": 1, "a": [1, {"z": 1, "y": 2}]}));
    let b: PipelineState = serde_json::from_str(
        r#"{"pipeline_name":"p","dataset_name":"d","sources":{"s":{"a":[1,{"y":2,"z":1}],"b":1}}}"#,
    )
    .unwrap();
    assert_eq!(a.version_hash(), b.version_hash());
    // the hash is base64 of 32 bytes
    assert_eq!(a.version_hash().len(), 44);
}

#[test]
fn a_leftover_temp_file_does_not_corrupt_the_state() {
    let (_tmp, dir) = pipeline();
    let mut state = PipelineState::new("looker_data_pipeline", "looker_data_data");
    state.sources.insert("looker".into(), json!({"cursor": 1}));
    dir.write_state(&state).unwrap();

    // a crash in the middle of the next write leaves a half-written temporary file
    let leftover = dir.root().join(".state.json.12345.deadbeef.tmp");
    fs::write(&leftover, br#"{"pipeline_name": "looker_data_pipel"#).unwrap();
    assert_eq!(
        dir.read_state().unwrap().unwrap(),
        state,
        "readers see the last complete state"
    );

    state.sources.insert("looker".into(), json!({"cursor": 2}));
    dir.write_state(&state).unwrap();
    assert_eq!(dir.read_state().unwrap().unwrap(), state);
    // no temporary file of the successful write remains, and the leftover is reported and removable
    let temps: Vec<_> = fs::read_dir(dir.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert_eq!(temps, [".state.json.12345.deadbeef.tmp"]);
    let report = dir.abandoned().unwrap();
    assert_eq!(report.temp_files, vec![leftover.clone()]);
    let lock = dir.lock().unwrap();
    dir.recover(&lock).unwrap();
    assert!(!leftover.exists());
    assert_eq!(dir.read_state().unwrap().unwrap(), state);
}

#[test]
fn a_corrupt_state_is_an_error_not_an_empty_state() {
    let (_tmp, dir) = pipeline();
    fs::create_dir_all(dir.root()).unwrap();
    fs::write(dir.root().join("state.json"), "{ not json").unwrap();
    let err = dir.read_state().unwrap_err();
    assert!(
        matches!(&err, Error::Corrupt { path, .. } if path.ends_with("state.json")),
        "{err}"
    );
}

#[test]
fn schema_round_trip() {
    let (_tmp, dir) = pipeline();
    let s = schema();
    dir.write_schema(&s).unwrap();
    assert!(dir.root().join("schemas/looker.schema.json").is_file());
    assert_eq!(dir.read_schema("looker").unwrap(), Some(s.clone()));
    assert_eq!(dir.schema_names().unwrap(), ["looker"]);
    assert_eq!(dir.read_schema("other").unwrap(), None);

    // replaced atomically on the next write
    let mut evolved = s.clone();
    evolved.version = 3;
    dir.write_schema(&evolved).unwrap();
    assert_eq!(dir.read_schema("looker").unwrap().unwrap().version, 3);
}

#[test]
fn trace_round_trip() {
    let (_tmp, dir) = pipeline();
    let mut trace = Trace::new("looker_data_pipeline", "run");
    let mut extract = TraceStep::start(Step::Extract);
    extract.rows = BTreeMap::from([("users".to_owned(), 100), ("looks".to_owned(), 20)]);
    extract.retries = 3;
    extract.duration_secs = 1.25;
    extract.bytes = 4096;
    let mut load = TraceStep::start(Step::Load);
    load.load_ids = vec![LoadId::parse("1749667187.541553").unwrap()];
    load.error = Some("relation \"users\" does not exist".into());
    trace.steps = vec![extract, load];
    trace.finish();
    assert!(!trace.succeeded());
    assert_eq!(trace.steps[0].total_rows(), 120);

    dir.write_trace(&trace).unwrap();
    let back = dir.read_trace().unwrap().unwrap();
    assert_eq!(back, trace);
    let raw: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.root().join("trace.json")).unwrap()).unwrap();
    assert_eq!(raw["steps"][0]["step"], "extract");
    assert_eq!(raw["steps"][1]["load_ids"][0], "1749667187.541553");
    assert!(raw["started_at"].as_str().unwrap().ends_with('Z'));
}
