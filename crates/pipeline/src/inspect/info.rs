//! `looker-load info`: the pipeline's state, pending work, last load and resources, read from the
//! working directory only (no network, no destination connection).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use looker::Resource;
use package::schema::Schema;
use package::{JobState, LoadId, PipelineDir, PipelineState, Recovery};
use serde_json::Value;

use super::time::short;
use super::trace::{TraceView, trace};
use super::{InspectError, human_bytes};
use crate::config::Settings;
use crate::normalize::{SCHEMA_NAME, table_hints};

/// Everything `looker-load info` shows. [`Display`](fmt::Display) is the report.
#[derive(Debug, Clone)]
pub struct PipelineInfo {
    /// The pipeline's name.
    pub pipeline_name: String,
    /// The destination dataset.
    pub dataset_name: String,
    /// The destination's name (`duckdb`, ...).
    pub destination: String,
    /// The destination's location (`duckdb:/path/file.duckdb`), when this build has the destination.
    pub location: Option<String>,
    /// `<pipelines_dir>/<pipeline_name>`.
    pub working_dir: PathBuf,
    /// Whether the working directory exists (some command ran here).
    pub ran: bool,
    /// `state.json`, if written.
    pub state: Option<PipelineState>,
    /// The stored schema, if any.
    pub schema: Option<SchemaSummary>,
    /// Extracts waiting for normalize, oldest first.
    pub pending_extracts: Vec<ExtractSummary>,
    /// Load packages waiting for load, oldest first.
    pub pending_packages: Vec<PackageSummary>,
    /// Leftovers of an interrupted run (the next run removes them).
    pub leftovers: Recovery,
    /// How many packages were loaded and archived.
    pub loaded_packages: usize,
    /// The most recently loaded package.
    pub last_load: Option<LastLoad>,
    /// The last run's trace, if one was written and is readable.
    pub last_run: Option<TraceView>,
    /// The resources with tables in the schema or selected by the configuration, in catalogue order.
    pub resources: Vec<ResourceInfo>,
    /// Why the configured resource selection could not be read, if it could not.
    pub selection_error: Option<String>,
}

/// The stored schema in brief.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaSummary {
    /// The schema's name.
    pub name: String,
    /// Its version.
    pub version: u64,
    /// Its version hash.
    pub version_hash: String,
    /// Tables holding data (all but dlt's `_dlt_*` tables).
    pub data_tables: usize,
    /// dlt's own tables (`_dlt_loads`, `_dlt_version`, `_dlt_pipeline_state`).
    pub dlt_tables: usize,
}

/// A pending extract in brief.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractSummary {
    /// Its id (the load id of the package it becomes).
    pub id: LoadId,
    /// Pages per resource.
    pub pages: Vec<(String, usize)>,
}

/// A pending load package in brief.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageSummary {
    /// The load id.
    pub id: LoadId,
    /// Jobs per state, in [`JobState::ALL`] order.
    pub jobs: [usize; 4],
    /// Rows over all tables, as counted by normalize.
    pub rows: u64,
}

/// The last loaded package in brief.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastLoad {
    /// The load id.
    pub id: LoadId,
    /// When it was archived (RFC 3339), if the file system says.
    pub loaded_at: Option<String>,
    /// The schema version it was loaded with.
    pub schema_version: u64,
    /// Completed jobs.
    pub completed_jobs: usize,
    /// Failed jobs.
    pub failed_jobs: usize,
    /// Rows per table.
    pub rows_per_table: BTreeMap<String, u64>,
    /// Bytes of job files.
    pub bytes: u64,
}

/// One resource as `info` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceInfo {
    /// The resource.
    pub resource: Resource,
    /// Selected by the configuration (extracted by the next run).
    pub selected: bool,
    /// Its tables in the stored schema (root and nested).
    pub tables: usize,
    /// Rows of its root table in the last load, if the last load had it.
    pub rows_last_load: Option<u64>,
    /// Its write disposition: the stored schema's, else the configured one.
    pub write_disposition: String,
    /// The incremental cursor kept in state, or `full refresh`.
    pub cursor: String,
}

/// Gathers what `info` shows. Works on a pipeline that never ran (nothing is created on disk).
pub fn info(settings: &Settings) -> Result<PipelineInfo, InspectError> {
    let dir = PipelineDir::new(&settings.pipelines_dir, &settings.pipeline_name)?;
    let location = crate::load::destination(settings).ok().map(|d| d.location());
    let ran = dir.exists();
    let mut info = PipelineInfo {
        pipeline_name: settings.pipeline_name.clone(),
        dataset_name: settings.dataset_name.clone(),
        destination: settings.destination.name().to_owned(),
        location,
        working_dir: dir.root().to_path_buf(),
        ran,
        state: None,
        schema: None,
        pending_extracts: Vec::new(),
        pending_packages: Vec::new(),
        leftovers: Recovery::default(),
        loaded_packages: 0,
        last_load: None,
        last_run: None,
        resources: Vec::new(),
        selection_error: None,
    };
    let (selected, selection_error) = match crate::extract::selected_resources(settings) {
        Ok(selected) => (selected, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    info.selection_error = selection_error;
    if !ran {
        info.resources = resources(settings, &selected, None, None, None);
        return Ok(info);
    }
    info.state = dir.read_state()?;
    let schema = dir.read_schema(SCHEMA_NAME)?;
    info.schema = schema.as_ref().map(|s| SchemaSummary {
        name: s.name.clone(),
        version: s.version,
        version_hash: s.version_hash.clone(),
        data_tables: s.tables.iter().filter(|t| !is_dlt_table(&t.name)).count(),
        dlt_tables: s.tables.iter().filter(|t| is_dlt_table(&t.name)).count(),
    });
    for extract in dir.pending_extracts()? {
        let mut pages = Vec::new();
        for resource in extract.resources()? {
            let n = extract.pages(&resource)?.len();
            pages.push((resource, n));
        }
        info.pending_extracts.push(ExtractSummary {
            id: extract.id().clone(),
            pages,
        });
    }
    for package in dir.pending()? {
        let mut jobs = [0; 4];
        for (slot, state) in jobs.iter_mut().zip(JobState::ALL) {
            *slot = package.jobs(state)?.len();
        }
        let rows = package.state()?.rows_per_table().values().sum();
        info.pending_packages.push(PackageSummary {
            id: package.load_id().clone(),
            jobs,
            rows,
        });
    }
    info.leftovers = dir.abandoned()?;
    let loaded = dir.loaded()?;
    info.loaded_packages = loaded.len();
    if let Some(last) = loaded.last() {
        let state = last.state()?;
        let loaded_at = std::fs::metadata(last.path())
            .and_then(|m| m.modified())
            .ok()
            .map(package::format_rfc3339);
        info.last_load = Some(LastLoad {
            id: last.load_id().clone(),
            loaded_at,
            schema_version: state.schema_version,
            completed_jobs: last.jobs(JobState::Completed)?.len(),
            failed_jobs: last.jobs(JobState::Failed)?.len(),
            rows_per_table: state.rows_per_table(),
            bytes: state.jobs.values().map(|j| j.bytes).sum(),
        });
    }
    info.last_run = trace(settings).ok();
    info.resources = resources(
        settings,
        &selected,
        schema.as_ref(),
        info.state.as_ref(),
        info.last_load.as_ref(),
    );
    Ok(info)
}

/// dlt's own tables.
fn is_dlt_table(name: &str) -> bool {
    name.starts_with("_dlt")
}

/// The root table of `resource` in `schema`: the table the resource fills, without a parent.
pub(super) fn root_table_name(schema: &Schema, resource: Resource) -> Option<&str> {
    schema
        .tables
        .iter()
        .filter(|t| t.parent.is_none() && !is_dlt_table(&t.name))
        .find(|t| match &t.resource {
            Some(r) => r == resource.name(),
            None => t.name == resource.name(),
        })
        .map(|t| t.name.as_str())
}

fn resources(
    settings: &Settings,
    selected: &[Resource],
    schema: Option<&Schema>,
    state: Option<&PipelineState>,
    last_load: Option<&LastLoad>,
) -> Vec<ResourceInfo> {
    let hints = table_hints(settings, &Resource::ALL);
    Resource::ALL
        .into_iter()
        .filter_map(|resource| {
            let root = schema.and_then(|s| root_table_name(s, resource).map(|root| (s, root)));
            let is_selected = selected.contains(&resource);
            if root.is_none() && !is_selected {
                return None;
            }
            let tables = root.map_or(0, |(s, root)| destination::chain::table_chain(s, root).len());
            let stored = root
                .and_then(|(s, root)| s.table(root))
                .and_then(|t| t.write_disposition);
            let configured = hints.get(resource.name()).and_then(|h| h.write_disposition);
            let write_disposition = stored
                .or(configured)
                .map_or_else(|| "append".to_owned(), |wd| wd.as_str().to_owned());
            let rows_last_load = match (root, last_load) {
                (Some((_, root)), Some(load)) => load.rows_per_table.get(root).copied(),
                _ => None,
            };
            Some(ResourceInfo {
                resource,
                selected: is_selected,
                tables,
                rows_last_load,
                write_disposition,
                cursor: cursor(state, resource),
            })
        })
        .collect()
}

/// The incremental cursors state keeps for `resource` (dlt's
/// `sources.<source>.resources.<name>.incremental.<cursor_path>.last_value`), or `full refresh`.
fn cursor(state: Option<&PipelineState>, resource: Resource) -> String {
    let incremental = state
        .and_then(|s| s.source(SCHEMA_NAME))
        .and_then(|s| s.get("resources"))
        .and_then(|r| r.get(resource.name()))
        .and_then(|r| r.get("incremental"))
        .and_then(Value::as_object);
    let Some(incremental) = incremental.filter(|m| !m.is_empty()) else {
        return "full refresh".to_owned();
    };
    incremental
        .iter()
        .map(|(path, cursor)| match cursor.get("last_value") {
            Some(Value::String(v)) => format!("{path} > {v}"),
            Some(Value::Null) | None => format!("{path} (no value yet)"),
            Some(v) => format!("{path} > {v}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl fmt::Display for PipelineInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ran {
            writeln!(f, "Pipeline {}", self.pipeline_name)?;
        } else {
            writeln!(
                f,
                "Pipeline {} has not run yet: no working directory at {}",
                self.pipeline_name,
                self.working_dir.display()
            )?;
        }
        writeln!(f, "  working dir:  {}", self.working_dir.display())?;
        writeln!(f, "  dataset:      {}", self.dataset_name)?;
        match &self.location {
            Some(location) => writeln!(f, "  destination:  {} ({location})", self.destination)?,
            None => writeln!(f, "  destination:  {}", self.destination)?,
        }
        match &self.state {
            Some(state) => writeln!(
                f,
                "  state:        version {}, engine {}{}",
                state.state_version,
                state.engine_version,
                state
                    .version_hash
                    .as_deref()
                    .map(|h| format!(", hash {h}"))
                    .unwrap_or_default()
            )?,
            None => writeln!(f, "  state:        none yet")?,
        }
        match &self.schema {
            Some(s) => writeln!(
                f,
                "  schema:       {} version {}, {} and {} (hash {})",
                s.name,
                s.version,
                plural(s.data_tables, "data table", "data tables"),
                plural(s.dlt_tables, "dlt table", "dlt tables"),
                s.version_hash
            )?,
            None => writeln!(f, "  schema:       none yet")?,
        }
        if !self.ran {
            writeln!(
                f,
                "Run `looker-load run` (or `looker-load run --demo`) to extract and load."
            )?;
        } else {
            self.fmt_pending(f)?;
            self.fmt_last(f)?;
        }
        self.fmt_resources(f)
    }
}

impl PipelineInfo {
    fn fmt_pending(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pending_extracts.is_empty() {
            writeln!(f, "Pending extracts: none")?;
        } else {
            writeln!(
                f,
                "Pending extracts: {}, ready to be normalized (`looker-load normalize` or `run`):",
                self.pending_extracts.len()
            )?;
            for e in &self.pending_extracts {
                let pages: Vec<String> = e
                    .pages
                    .iter()
                    .map(|(r, n)| format!("{r} ({})", plural(*n, "page", "pages")))
                    .collect();
                writeln!(f, "  - {}: {}", e.id, pages.join(", "))?;
            }
        }
        if self.pending_packages.is_empty() {
            writeln!(f, "Pending load packages: none")?;
        } else {
            writeln!(
                f,
                "Pending load packages: {}, ready to be loaded (`looker-load load` or `run`):",
                self.pending_packages.len()
            )?;
            for p in &self.pending_packages {
                let states: Vec<String> = JobState::ALL
                    .iter()
                    .zip(p.jobs)
                    .map(|(state, n)| format!("{n} {state}"))
                    .collect();
                writeln!(
                    f,
                    "  - {}: {} ({}), {}",
                    p.id,
                    plural(p.jobs.iter().sum(), "job", "jobs"),
                    states.join(", "),
                    plural(usize::try_from(p.rows).unwrap_or(usize::MAX), "row", "rows")
                )?;
            }
        }
        let l = &self.leftovers;
        if !l.is_empty() {
            writeln!(
                f,
                "Leftovers of an interrupted run (the next run removes them): {}, {}, {}, {}",
                plural(l.new_packages.len(), "unfinished package", "unfinished packages"),
                plural(l.new_extracts.len(), "unfinished extract", "unfinished extracts"),
                plural(l.consumed_extracts.len(), "consumed extract", "consumed extracts"),
                plural(l.temp_files.len(), "temporary file", "temporary files"),
            )?;
        }
        Ok(())
    }

    fn fmt_last(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.last_load {
            Some(load) => {
                writeln!(
                    f,
                    "Last load: package {}{} ({} loaded in all)",
                    load.id,
                    load.loaded_at
                        .as_deref()
                        .map(|t| format!(" loaded at {}", short(t)))
                        .unwrap_or_default(),
                    plural(self.loaded_packages, "package", "packages")
                )?;
                let rows: u64 = load.rows_per_table.values().sum();
                writeln!(
                    f,
                    "  {} completed, {} failed; {} rows in {} ({}); schema version {}",
                    plural(load.completed_jobs, "job", "jobs"),
                    load.failed_jobs,
                    rows,
                    plural(load.rows_per_table.len(), "table", "tables"),
                    human_bytes(load.bytes),
                    load.schema_version
                )?;
            }
            None => writeln!(f, "Last load: none yet")?,
        }
        if let Some(run) = &self.last_run {
            let t = &run.trace;
            let command = if t.command.is_empty() { "run" } else { &t.command };
            let error = t.steps.iter().find_map(|s| s.error.as_deref());
            writeln!(
                f,
                "Last run: `looker-load {command}` started at {}, {}{} (details: `looker-load trace`)",
                short(&t.started_at),
                run.status(),
                error.map(|e| format!(": {e}")).unwrap_or_default()
            )?;
        }
        Ok(())
    }

    fn fmt_resources(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(e) = &self.selection_error {
            writeln!(f, "Configured resources cannot be read: {e}")?;
        }
        if self.resources.is_empty() {
            return writeln!(f, "Resources: none selected or loaded");
        }
        writeln!(f, "Resources:")?;
        let rows: Vec<[String; 6]> = self
            .resources
            .iter()
            .map(|r| {
                [
                    r.resource.name().to_owned(),
                    if r.selected { "yes" } else { "no" }.to_owned(),
                    r.tables.to_string(),
                    r.rows_last_load.map_or_else(|| "-".to_owned(), |n| n.to_string()),
                    r.write_disposition.clone(),
                    r.cursor.clone(),
                ]
            })
            .collect();
        let header = [
            "resource",
            "selected",
            "tables",
            "rows (last load)",
            "disposition",
            "cursor",
        ]
        .map(str::to_owned);
        let mut widths = header.clone().map(|h| h.chars().count());
        for row in &rows {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        for row in std::iter::once(&header).chain(&rows) {
            let mut line = String::from(" ");
            for (c, w) in row.iter().zip(widths) {
                line.push(' ');
                line.push_str(c);
                line.extend(std::iter::repeat_n(' ', w.saturating_sub(c.chars().count()) + 1));
            }
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn cursors_come_from_state() {
        let mut state = PipelineState::new("p", "d");
        assert_eq!(cursor(Some(&state), Resource::Looks), "full refresh");
        assert_eq!(cursor(None, Resource::Looks), "full refresh");
        state.sources.insert(
            SCHEMA_NAME.to_owned(),
            json!({"resources": {"looks": {"incremental": {
                "updated_at": {"initial_value": null, "last_value": "2025-06-11T18:39:47Z", "unique_hashes": []}
            }}}}),
        );
        assert_eq!(
            cursor(Some(&state), Resource::Looks),
            "updated_at > 2025-06-11T18:39:47Z"
        );
        assert_eq!(cursor(Some(&state), Resource::Users), "full refresh");
    }

    #[test]
    fn root_tables_by_resource_hint_or_name() {
        let mut schema = Schema::new(SCHEMA_NAME);
        let table = |name: &str, resource: Option<&str>, parent: Option<&str>| package::schema::Table {
            name: name.to_owned(),
            resource: resource.map(str::to_owned),
            parent: parent.map(str::to_owned),
            ..Default::default()
        };
        schema.tables.push(table("people", Some("users"), None));
        schema
            .tables
            .push(table("people__role_ids", None, Some("people")));
        schema.tables.push(table("looks", None, None));
        schema
            .tables
            .push(table("_dlt_pipeline_state", Some("_dlt_pipeline_state"), None));
        assert_eq!(root_table_name(&schema, Resource::Users), Some("people"));
        assert_eq!(root_table_name(&schema, Resource::Looks), Some("looks"));
        assert_eq!(root_table_name(&schema, Resource::Dashboards), None);
    }
}
