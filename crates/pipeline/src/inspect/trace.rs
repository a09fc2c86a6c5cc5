//! `looker-load trace`: the last run's steps from `trace.json`, as dlt's `pipeline trace` prints them.

use std::fmt;
use std::path::PathBuf;

use package::{PipelineDir, Step, TRACE_FILE, Trace, TraceStep};

use super::time::{seconds_between, short};
use super::{InspectError, human_bytes};
use crate::config::Settings;

/// The last run's trace: [`Display`](fmt::Display) is the text report, [`json`](Self::json) the file.
#[derive(Debug, Clone)]
pub struct TraceView {
    /// The parsed trace.
    pub trace: Trace,
    /// `trace.json` as stored.
    raw: String,
    /// Where it was read.
    pub path: PathBuf,
}

impl TraceView {
    /// `trace.json` as stored, unchanged.
    pub fn json(&self) -> &str {
        &self.raw
    }

    /// The run's outcome in dlt's words: `COMPLETED`, `FAILED`, or `NOT FINISHED` when it never wrote its
    /// end (interrupted).
    pub fn status(&self) -> &'static str {
        if !self.trace.succeeded() {
            "FAILED"
        } else if self.trace.finished_at.is_none() {
            "NOT FINISHED"
        } else {
            "COMPLETED"
        }
    }
}

/// Reads the pipeline's `trace.json`. Fails with [`InspectError::NothingYet`] when no run wrote one.
pub fn trace(settings: &Settings) -> Result<TraceView, InspectError> {
    let dir = PipelineDir::new(&settings.pipelines_dir, &settings.pipeline_name)?;
    let path = dir.root().join(TRACE_FILE);
    let raw = match std::fs::read_to_string(&path) {
        Ok(raw) => raw,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(InspectError::NothingYet {
                what: "trace",
                pipeline: settings.pipeline_name.clone(),
                path,
                hint: "`looker-load run` writes one",
            });
        }
        Err(e) => {
            return Err(InspectError::Unreadable {
                path,
                reason: e.to_string(),
            });
        }
    };
    let trace = serde_json::from_str(&raw).map_err(|e| InspectError::Unreadable {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    Ok(TraceView { trace, raw, path })
}

impl fmt::Display for TraceView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.trace;
        let command = if t.command.is_empty() { "run" } else { &t.command };
        write!(
            f,
            "Run `looker-load {command}` of pipeline {} started at {} and {}",
            t.pipeline_name,
            short(&t.started_at),
            self.status()
        )?;
        match t
            .finished_at
            .as_deref()
            .and_then(|end| seconds_between(&t.started_at, end))
        {
            Some(secs) => write!(f, " in {secs:.2} seconds")?,
            None => {
                if let Some(end) = &t.finished_at {
                    write!(f, " at {}", short(end))?;
                }
            }
        }
        writeln!(f, " with {} step(s).", t.steps.len())?;
        for step in &t.steps {
            writeln!(f)?;
            write_step(f, step)?;
        }
        Ok(())
    }
}

fn write_step(f: &mut fmt::Formatter<'_>, step: &TraceStep) -> fmt::Result {
    let name = match step.step {
        Step::Extract => "extract",
        Step::Normalize => "normalize",
        Step::Load => "load",
    };
    let status = if step.error.is_some() {
        "FAILED"
    } else {
        "COMPLETED"
    };
    writeln!(
        f,
        "Step {name} {status} in {:.2} seconds (started at {}).",
        step.duration_secs,
        short(&step.started_at)
    )?;
    let ids = step
        .load_ids
        .iter()
        .map(|id| id.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut facts = Vec::new();
    if step.bytes > 0 {
        facts.push(match step.step {
            Step::Extract => format!("{} received", human_bytes(step.bytes)),
            Step::Normalize => format!("{} of JSON read", human_bytes(step.bytes)),
            Step::Load => format!("{} loaded", human_bytes(step.bytes)),
        });
    }
    match step.step {
        Step::Extract => facts.push(format!("{} HTTP retries", step.retries)),
        Step::Load => facts.push(format!("{} job retries", step.retries)),
        Step::Normalize => {}
    }
    let facts = if facts.is_empty() {
        String::new()
    } else {
        format!(" ({})", facts.join(", "))
    };
    let (unit, headline) = match step.step {
        Step::Extract => (
            "item(s)",
            format!("Extracted {} item(s){facts}", step.total_rows()),
        ),
        Step::Normalize if ids.is_empty() => ("row(s)", format!("Normalized data{facts}")),
        Step::Normalize => (
            "row(s)",
            format!("Normalized data into load package {ids}{facts}"),
        ),
        Step::Load if ids.is_empty() => ("row(s)", format!("Loaded no package{facts}")),
        Step::Load => ("row(s)", format!("Loaded load package {ids}{facts}")),
    };
    if step.rows.is_empty() {
        writeln!(f, "{headline}.")?;
    } else {
        writeln!(f, "{headline}, for the following tables:")?;
        for (table, rows) in &step.rows {
            writeln!(f, "- {table}: {rows} {unit}")?;
        }
    }
    if !step.skipped_queries.is_empty() {
        const SHOWN: usize = 20;
        let mut ids = step
            .skipped_queries
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if step.skipped_queries.len() > SHOWN {
            ids.push_str(&format!(" and {} more", step.skipped_queries.len() - SHOWN));
        }
        writeln!(
            f,
            "Skipped {} referenced query id(s) that answered 404 (deleted, or hidden from the API user): {ids}",
            step.skipped_queries.len()
        )?;
    }
    if let Some(error) = &step.error {
        writeln!(f, "Error: {error}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(trace: Trace) -> TraceView {
        TraceView {
            raw: serde_json::to_string(&trace).expect("serializable"),
            trace,
            path: PathBuf::from("trace.json"),
        }
    }

    #[test]
    fn completed_run_lists_steps_with_rows() {
        let mut trace = Trace::new("p", "run");
        trace.started_at = "2026-11-29T06:17:04.500000Z".to_owned();
        trace.finished_at = Some("2026-11-29T06:17:05.750000Z".to_owned());
        let mut extract = TraceStep::start(Step::Extract);
        extract.rows.insert("users".to_owned(), 50);
        extract.bytes = 168_897;
        extract.retries = 2;
        extract.skipped_queries = vec!["17".to_owned(), "42".to_owned()];
        let mut load = TraceStep::start(Step::Load);
        load.rows.insert("users".to_owned(), 50);
        load.rows.insert("users__role_ids".to_owned(), 69);
        load.load_ids = vec![package::LoadId::parse("1795933024.535135").expect("id")];
        trace.steps = vec![extract, load];
        let text = view(trace).to_string();
        assert!(
            text.starts_with(
                "Run `looker-load run` of pipeline p started at 2026-11-29 06:17:04 UTC and COMPLETED in 1.25 \
                 seconds with 2 step(s).\n"
            ),
            "{text}"
        );
        assert!(text.contains("Extracted 50 item(s) (168.9 kB received, 2 HTTP retries), for the following tables:\n- users: 50 item(s)\n"), "{text}");
        assert!(
            text.contains(
                "Skipped 2 referenced query id(s) that answered 404 (deleted, or hidden from the API user): 17, 42\n"
            ),
            "{text}"
        );
        assert!(text.contains("Loaded load package 1795933024.535135 (0 job retries), for the following tables:\n- users: 50 row(s)\n- users__role_ids: 69 row(s)\n"), "{text}");
    }

    #[test]
    fn failed_and_unfinished_runs_say_so() {
        let mut trace = Trace::new("p", "run");
        let mut load = TraceStep::start(Step::Load);
        load.error = Some("load failed: disk full".to_owned());
        trace.steps.push(load);
        let failed = view(trace.clone());
        assert_eq!(failed.status(), "FAILED");
        assert!(
            failed.to_string().contains("Step load FAILED in 0.00 seconds"),
            "{failed}"
        );
        assert!(
            failed.to_string().contains("\nError: load failed: disk full\n"),
            "{failed}"
        );
        trace.steps.clear();
        assert_eq!(view(trace).status(), "NOT FINISHED");
    }
}
