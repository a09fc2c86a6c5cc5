//! `state.json`: the pipeline state in dlt's layout (`TPipelineState`, engine version 4).

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha3::{Digest, Sha3_256};

/// dlt's `PIPELINE_STATE_ENGINE_VERSION`.
pub const PIPELINE_STATE_ENGINE_VERSION: u32 = 4;

/// The pipeline state: dlt's `TPipelineState`.
///
/// Incremental cursors live under `sources.<source>.resources.<resource>.incremental.<cursor_path>`.
/// Keys this type does not know are kept in [`extra`](Self::extra) and written back unchanged, so a state
/// written by dlt survives a round trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineState {
    /// Bumped by [`bump_version_if_modified`](Self::bump_version_if_modified) when the content changes.
    #[serde(rename = "_state_version", default)]
    pub state_version: u64,
    /// The layout version ([`PIPELINE_STATE_ENGINE_VERSION`]).
    #[serde(rename = "_state_engine_version", default = "engine_version")]
    pub engine_version: u32,
    /// Content hash of the last bump (see [`version_hash`](Self::version_hash)).
    #[serde(rename = "_version_hash", default, skip_serializing_if = "Option::is_none")]
    pub version_hash: Option<String>,
    /// The pipeline's name.
    pub pipeline_name: String,
    /// The destination dataset.
    pub dataset_name: String,
    /// The schema resources without their own schema go to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_schema_name: Option<String>,
    /// All schemas in the working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_names: Option<Vec<String>>,
    /// The destination's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_name: Option<String>,
    /// The destination's type (`duckdb`, `postgres`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_type: Option<String>,
    /// The staging destination's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staging_name: Option<String>,
    /// The staging destination's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staging_type: Option<String>,
    /// Local-only state: never synced to the destination, not part of the version hash.
    #[serde(rename = "_local", default)]
    pub local: Map<String, Value>,
    /// Source state, incremental cursors included.
    #[serde(default)]
    pub sources: Map<String, Value>,
    /// Keys not modelled above, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn engine_version() -> u32 {
    PIPELINE_STATE_ENGINE_VERSION
}

impl PipelineState {
    /// A fresh state (version 0, no hash) for a pipeline and dataset.
    pub fn new(pipeline_name: impl Into<String>, dataset_name: impl Into<String>) -> Self {
        PipelineState {
            state_version: 0,
            engine_version: PIPELINE_STATE_ENGINE_VERSION,
            version_hash: None,
            pipeline_name: pipeline_name.into(),
            dataset_name: dataset_name.into(),
            default_schema_name: None,
            schema_names: None,
            destination_name: None,
            destination_type: None,
            staging_name: None,
            staging_type: None,
            local: Map::new(),
            sources: Map::new(),
            extra: Map::new(),
        }
    }

    /// dlt's state version hash: base64 of sha3-256 over the state as compact JSON with sorted keys,
    /// leaving out `_state_version`, `_state_engine_version`, `_version_hash` and `_local`
    /// (`generate_pipeline_state_version_hash`).
    pub fn version_hash(&self) -> String {
        let mut value = match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            // a struct of strings, maps and numbers always serializes to an object
            _ => Map::new(),
        };
        for key in [
            "_state_version",
            "_state_engine_version",
            "_version_hash",
            "_local",
        ] {
            value.remove(key);
        }
        let mut canonical = Vec::new();
        write_sorted(&Value::Object(value), &mut canonical);
        base64::engine::general_purpose::STANDARD.encode(Sha3_256::digest(&canonical))
    }

    /// dlt's `bump_state_version_if_modified`: recomputes the hash; when a previous hash exists and differs,
    /// increments [`state_version`](Self::state_version). Returns whether the version was bumped.
    pub fn bump_version_if_modified(&mut self) -> bool {
        let hash = self.version_hash();
        let bumped = matches!(&self.version_hash, Some(previous) if *previous != hash);
        if bumped {
            self.state_version += 1;
        }
        self.version_hash = Some(hash);
        bumped
    }

    /// The state of source `source`, if any.
    pub fn source(&self, source: &str) -> Option<&Value> {
        self.sources.get(source)
    }
}

/// Compact JSON with object keys sorted at every level, whatever map order serde_json was built with.
fn write_sorted(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                // serializing a string into a Vec cannot fail
                let _ = serde_json::to_writer(&mut *out, key);
                out.push(b':');
                if let Some(v) = map.get(key) {
                    write_sorted(v, out);
                }
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_sorted(item, out);
            }
            out.push(b']');
        }
        scalar => {
            let _ = serde_json::to_writer(&mut *out, scalar);
        }
    }
}
