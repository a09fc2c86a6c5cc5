//! `looker-load schema`: the pipeline's stored schema in dlt's layout, as YAML (dlt's default) or JSON.

use std::str::FromStr;

use package::PipelineDir;

use super::{InspectError, yaml};
use crate::config::Settings;
use crate::normalize::SCHEMA_NAME;

/// How `looker-load schema` prints the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SchemaFormat {
    /// YAML, as `dlt pipeline <name> schema` prints it.
    #[default]
    Yaml,
    /// JSON exactly as stored (`schemas/looker_data_source.schema.json`), pretty-printed.
    Json,
}

impl FromStr for SchemaFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "yaml" | "yml" => Ok(SchemaFormat::Yaml),
            "json" => Ok(SchemaFormat::Json),
            other => Err(format!("unknown schema format `{other}`: expected yaml or json")),
        }
    }
}

/// The stored schema of the pipeline, rendered in `format`, ending with a newline. Fails with
/// [`InspectError::NothingYet`] when no normalize step stored one.
pub fn schema(settings: &Settings, format: SchemaFormat) -> Result<String, InspectError> {
    let dir = PipelineDir::new(&settings.pipelines_dir, &settings.pipeline_name)?;
    let path = dir.schema_path(SCHEMA_NAME)?;
    let Some(schema) = dir.read_schema(SCHEMA_NAME)? else {
        return Err(InspectError::NothingYet {
            what: "schema",
            pipeline: settings.pipeline_name.clone(),
            path,
            hint: "run `looker-load run` (or `extract` then `normalize`) first",
        });
    };
    let unreadable = |reason: String| InspectError::Unreadable {
        path: path.clone(),
        reason,
    };
    let mut json = serde_json::to_string_pretty(&schema).map_err(|e| unreadable(e.to_string()))?;
    match format {
        SchemaFormat::Json => {
            json.push('\n');
            Ok(json)
        }
        SchemaFormat::Yaml => {
            let mut text = yaml::to_yaml(&json).map_err(unreadable)?;
            text.push_str(&open_map_notes(&schema));
            Ok(text)
        }
    }
}

/// YAML comments marking the open-ended Looker maps the schema has unnested into columns and tables
/// named after their keys, each with the config line that keeps it whole as JSON. Empty when none.
fn open_map_notes(schema: &package::schema::Schema) -> String {
    let uses = crate::hints::open_map_uses(schema, &looker::Resource::ALL);
    if uses.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "# Open-ended Looker maps unnested into columns and tables named after their keys (LookML field\n\
         # names, vis_config keys). Keep one whole as JSON with the line shown, or all of them with\n\
         # [sources.looker_data_source] open_maps_as_json = true (for new datasets).\n",
    );
    for u in uses {
        out.push_str(&format!(
            "#   {}.{}: {} columns, {} tables -> {}\n",
            u.table,
            u.column,
            u.columns.len(),
            u.tables.len(),
            u.config_line()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_maps_are_marked() {
        let mut schema = package::schema::Schema::new("s");
        schema.tables.push(package::schema::Table {
            name: "queries".to_owned(),
            columns: vec![package::schema::Column {
                name: "filters__orders_status".to_owned(),
                ..package::schema::Column::default()
            }],
            write_disposition: None,
            resource: Some("queries".to_owned()),
            parent: None,
            x_normalizer: serde_json::Map::new(),
        });
        let notes = open_map_notes(&schema);
        assert!(
            notes.contains("#   queries.filters: 1 columns, 0 tables -> [sources"),
            "{notes}"
        );
        assert!(notes.lines().all(|l| l.starts_with('#')), "{notes}");
        assert!(open_map_notes(&package::schema::Schema::new("s")).is_empty());
    }

    #[test]
    fn formats_parse() {
        assert_eq!("yaml".parse(), Ok(SchemaFormat::Yaml));
        assert_eq!("YML".parse(), Ok(SchemaFormat::Yaml));
        assert_eq!("json".parse(), Ok(SchemaFormat::Json));
        assert!(
            "toml"
                .parse::<SchemaFormat>()
                .unwrap_err()
                .contains("yaml or json")
        );
    }
}
