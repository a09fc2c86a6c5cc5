//! `trace.json`: the last run's steps, timings, rows per table and retries (`looker-load trace`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{LoadId, now_rfc3339};

/// The layout version written into [`Trace::format_version`].
pub const TRACE_FORMAT_VERSION: u32 = 1;

/// A step of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// Pages from Looker.
    Extract,
    /// Rows into Parquet job files.
    Normalize,
    /// Job files into the destination.
    Load,
}

/// The trace of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// Layout version ([`TRACE_FORMAT_VERSION`]).
    pub format_version: u32,
    /// The pipeline's name.
    pub pipeline_name: String,
    /// The command that ran (`run`, `extract`, `load`, ...).
    #[serde(default)]
    pub command: String,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// When it ended; `None` while running or after a crash.
    #[serde(default)]
    pub finished_at: Option<String>,
    /// The steps, in the order they ran.
    #[serde(default)]
    pub steps: Vec<TraceStep>,
}

impl Trace {
    /// A trace starting now.
    pub fn new(pipeline_name: impl Into<String>, command: impl Into<String>) -> Self {
        Trace {
            format_version: TRACE_FORMAT_VERSION,
            pipeline_name: pipeline_name.into(),
            command: command.into(),
            started_at: now_rfc3339(),
            finished_at: None,
            steps: Vec::new(),
        }
    }

    /// Marks the run finished now.
    pub fn finish(&mut self) {
        self.finished_at = Some(now_rfc3339());
    }

    /// Whether every step succeeded.
    pub fn succeeded(&self) -> bool {
        self.steps.iter().all(|s| s.error.is_none())
    }
}

/// One step of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceStep {
    /// Which step.
    pub step: Step,
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// Wall time in seconds.
    pub duration_secs: f64,
    /// Rows per table (per resource for extract).
    #[serde(default)]
    pub rows: BTreeMap<String, u64>,
    /// Bytes handled (received for extract, written for normalize, loaded for load).
    #[serde(default)]
    pub bytes: u64,
    /// Retries (HTTP retries for extract, job retries for load).
    #[serde(default)]
    pub retries: u64,
    /// The load packages the step produced or loaded.
    #[serde(default)]
    pub load_ids: Vec<LoadId>,
    /// The error that ended the step, if it failed.
    #[serde(default)]
    pub error: Option<String>,
    /// Referenced query ids that answered 404 and were skipped (extract only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_queries: Vec<String>,
}

impl TraceStep {
    /// A step starting now, with nothing counted yet.
    pub fn start(step: Step) -> Self {
        TraceStep {
            step,
            started_at: now_rfc3339(),
            duration_secs: 0.0,
            rows: BTreeMap::new(),
            bytes: 0,
            retries: 0,
            load_ids: Vec::new(),
            error: None,
            skipped_queries: Vec::new(),
        }
    }

    /// Total rows over all tables.
    pub fn total_rows(&self) -> u64 {
        self.rows.values().sum()
    }
}
