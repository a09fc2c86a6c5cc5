//! `looker-load drop <resource>...`: drops each resource's tables (its root table and every nested table
//! under it) at the destination, removes them from the stored schema (new version, recorded in
//! `_dlt_version` too) and resets the resource's state, as `dlt pipeline <name> drop` does. The next run
//! loads the resource from scratch.
//!
//! The pipeline lock is held from planning to the end. Pending extracts or packages make `drop` refuse:
//! loading them afterwards would bring the dropped tables back with old data.
//!
//! Order of the changes, so an interruption never leaves a table the schema forgets: the destination's
//! tables are dropped first, then the schema and state files are replaced (each atomically). Stopped in
//! between, the local schema still lists the tables, and the next run creates them again at the
//! destination.

use std::fmt;

use looker::Resource;
use package::schema::Schema;
use package::{PipelineDir, PipelineLock, PipelineState};
use serde_json::Value;

use super::InspectError;
use super::info::root_table_name;
use crate::config::{DestinationKind, Settings};
use crate::normalize::SCHEMA_NAME;

/// What dropping one resource does (planned) or did (applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedResource {
    /// The resource.
    pub resource: Resource,
    /// Its tables: the root table first, then nested tables, parents before children.
    pub tables: Vec<String>,
    /// Whether state.json holds state of the resource (reset by the drop).
    pub state_reset: bool,
}

/// A drop, planned while holding the pipeline lock: [`Display`](fmt::Display) says what
/// [`apply`](Self::apply) will change.
#[derive(Debug)]
pub struct DropPlan {
    dir: PipelineDir,
    lock: PipelineLock,
    pipeline_name: String,
    dataset_name: String,
    destination: String,
    schema: Option<Schema>,
    state: Option<PipelineState>,
    /// The resources to drop, in the order given.
    pub resources: Vec<DroppedResource>,
}

/// What a drop changed: [`Display`](fmt::Display) is the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropReport {
    /// The resources, with the tables dropped and whether their state was reset.
    pub resources: Vec<DroppedResource>,
    /// The dataset the tables were dropped from.
    pub dataset_name: String,
    /// The destination's name.
    pub destination: String,
    /// The stored schema's new version, when tables were removed from it.
    pub schema_version: Option<u64>,
}

/// Plans dropping the resources `names` (catalogue names, see `looker-load resources`). Takes the
/// pipeline lock; fails with [`InspectError::UnknownResource`] for a name not in the catalogue, with
/// [`InspectError::PendingWork`] when extracts or packages wait, and with [`InspectError::NothingYet`]
/// when the pipeline never ran.
pub fn plan_drop(settings: &Settings, names: &[String]) -> Result<DropPlan, InspectError> {
    let mut resources: Vec<Resource> = Vec::with_capacity(names.len());
    for name in names {
        let resource: Resource = name.parse()?;
        if !resources.contains(&resource) {
            resources.push(resource);
        }
    }
    let dir = PipelineDir::new(&settings.pipelines_dir, &settings.pipeline_name)?;
    if !dir.exists() {
        return Err(InspectError::NothingYet {
            what: "working directory",
            pipeline: settings.pipeline_name.clone(),
            path: dir.root().to_path_buf(),
            hint: "the pipeline never ran, so there is nothing to drop",
        });
    }
    let lock = dir.lock()?;
    let packages = dir.pending()?.len();
    let extracts = dir.pending_extracts()?.len();
    if packages > 0 || extracts > 0 {
        return Err(InspectError::PendingWork {
            pipeline: settings.pipeline_name.clone(),
            packages,
            extracts,
        });
    }
    let schema = dir.read_schema(SCHEMA_NAME)?;
    let state = dir.read_state()?;
    let resources = resources
        .into_iter()
        .map(|resource| DroppedResource {
            resource,
            tables: schema
                .as_ref()
                .map(|s| resource_tables(s, resource))
                .unwrap_or_default(),
            state_reset: state
                .as_ref()
                .is_some_and(|s| resource_state(s, resource).is_some()),
        })
        .collect();
    Ok(DropPlan {
        dir,
        lock,
        pipeline_name: settings.pipeline_name.clone(),
        dataset_name: settings.dataset_name.clone(),
        destination: settings.destination.name().to_owned(),
        schema,
        state,
        resources,
    })
}

/// The tables of `resource`: its root table and every table whose parent chain leads to it.
fn resource_tables(schema: &Schema, resource: Resource) -> Vec<String> {
    root_table_name(schema, resource)
        .map(|root| {
            destination::chain::table_chain(schema, root)
                .into_iter()
                .map(|t| t.name.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// `sources.looker_data_source.resources.<name>` of the state.
fn resource_state(state: &PipelineState, resource: Resource) -> Option<&Value> {
    state.source(SCHEMA_NAME)?.get("resources")?.get(resource.name())
}

impl DropPlan {
    /// Whether the drop changes nothing (no tables, no state for any of the resources).
    pub fn is_empty(&self) -> bool {
        self.resources
            .iter()
            .all(|r| r.tables.is_empty() && !r.state_reset)
    }

    /// Drops the tables at the destination, then writes the schema without them and the state without
    /// the resources' entries.
    pub async fn apply(self, settings: &Settings) -> Result<DropReport, InspectError> {
        let DropPlan {
            dir,
            lock,
            dataset_name,
            destination: destination_name,
            schema,
            state,
            resources,
            ..
        } = self;
        let tables: Vec<String> = resources.iter().flat_map(|r| r.tables.clone()).collect();
        let mut schema_version = None;
        if let (Some(mut schema), false) = (schema, tables.is_empty()) {
            schema.tables.retain(|t| !tables.contains(&t.name));
            remove_propagation(&mut schema, &tables);
            schema.bump_version_if_modified();
            // A DuckDB file that does not exist holds no tables; connecting would create it.
            let database_exists =
                settings.destination != DestinationKind::Duckdb || settings.duckdb.path.exists();
            if database_exists {
                let destination = crate::load::destination(settings)?;
                let client = destination.connect().await.map_err(InspectError::Destination)?;
                client
                    .drop_tables(&tables)
                    .await
                    .map_err(InspectError::Destination)?;
                // Record the new schema version in `_dlt_version`, as dlt's drop does.
                client
                    .update_stored_schema(&schema)
                    .await
                    .map_err(InspectError::Destination)?;
            }
            dir.write_schema(&schema)?;
            schema_version = Some(schema.version);
        }
        if let Some(mut state) = state {
            let mut changed = false;
            if let Some(Value::Object(source)) = state.sources.get_mut(SCHEMA_NAME)
                && let Some(Value::Object(states)) = source.get_mut("resources")
            {
                for r in &resources {
                    changed |= states.remove(r.resource.name()).is_some();
                }
            }
            if changed {
                state.bump_version_if_modified();
                dir.write_state(&state)?;
            }
        }
        drop(lock);
        Ok(DropReport {
            resources,
            dataset_name,
            destination: destination_name,
            schema_version,
        })
    }
}

/// Removes dropped root tables from `normalizers.json.config.propagation.tables` (the root key
/// propagation of merge tables).
fn remove_propagation(schema: &mut Schema, tables: &[String]) {
    let propagation = schema
        .normalizers
        .get_mut("json")
        .and_then(|j| j.get_mut("config"))
        .and_then(|c| c.get_mut("propagation"))
        .and_then(|p| p.get_mut("tables"))
        .and_then(Value::as_object_mut);
    if let Some(propagation) = propagation {
        for table in tables {
            propagation.remove(table);
        }
    }
}

fn table_list(tables: &[String]) -> String {
    if tables.is_empty() {
        "no tables".to_owned()
    } else {
        tables.join(", ")
    }
}

impl fmt::Display for DropPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "About to drop from dataset {} at destination {} (pipeline {}):",
            self.dataset_name, self.destination, self.pipeline_name
        )?;
        for r in &self.resources {
            writeln!(
                f,
                "- {}: {}{}",
                r.resource.name(),
                table_list(&r.tables),
                if r.state_reset {
                    "; and reset its state"
                } else {
                    ""
                }
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for DropReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.resources {
            if r.tables.is_empty() && !r.state_reset {
                writeln!(
                    f,
                    "Resource {}: no tables and no state, nothing to drop",
                    r.resource.name()
                )?;
                continue;
            }
            if !r.tables.is_empty() {
                writeln!(
                    f,
                    "Resource {}: dropped {} table(s) from dataset {} at {}: {}",
                    r.resource.name(),
                    r.tables.len(),
                    self.dataset_name,
                    self.destination,
                    r.tables.join(", ")
                )?;
            }
            if r.state_reset {
                writeln!(f, "Resource {}: state reset", r.resource.name())?;
            }
        }
        if let Some(version) = self.schema_version {
            writeln!(
                f,
                "Schema {SCHEMA_NAME} is now version {version}; the next run loads the dropped resources from scratch"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use package::schema::Table;
    use serde_json::json;

    use super::*;

    fn table(name: &str, resource: Option<&str>, parent: Option<&str>) -> Table {
        Table {
            name: name.to_owned(),
            resource: resource.map(str::to_owned),
            parent: parent.map(str::to_owned),
            ..Table::default()
        }
    }

    #[test]
    fn tables_follow_the_parent_chain_not_the_prefix() {
        let mut schema = Schema::new(SCHEMA_NAME);
        schema.tables = vec![
            table("users", Some("users"), None),
            table("users__role_ids", None, Some("users")),
            table("users__credentials__emails", None, Some("users__credentials")),
            table("users__credentials", None, Some("users")),
            // A root table whose name merely starts like a child of users.
            table("users__archive", Some("users__archive"), None),
            table("looks", Some("looks"), None),
        ];
        assert_eq!(
            resource_tables(&schema, Resource::Users),
            [
                "users",
                "users__role_ids",
                "users__credentials",
                "users__credentials__emails"
            ]
        );
        assert_eq!(resource_tables(&schema, Resource::Looks), ["looks"]);
        assert!(resource_tables(&schema, Resource::Folders).is_empty());
    }

    #[test]
    fn propagation_of_dropped_roots_is_removed() {
        let mut schema = Schema::new(SCHEMA_NAME);
        schema.add_root_key_propagation("users");
        schema.add_root_key_propagation("looks");
        remove_propagation(&mut schema, &["users".to_owned()]);
        let tables = &schema.normalizers["json"]["config"]["propagation"]["tables"];
        assert_eq!(tables.get("users"), None);
        assert_eq!(tables["looks"], json!({"_dlt_id": "_dlt_root_id"}));
    }

    #[test]
    fn resource_state_is_found() {
        let mut state = PipelineState::new("p", "d");
        assert!(resource_state(&state, Resource::Looks).is_none());
        state.sources.insert(
            SCHEMA_NAME.to_owned(),
            json!({"resources": {"looks": {"incremental": {}}}}),
        );
        assert!(resource_state(&state, Resource::Looks).is_some());
        assert!(resource_state(&state, Resource::Users).is_none());
    }
}
