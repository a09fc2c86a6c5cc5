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
        SchemaFormat::Yaml => yaml::to_yaml(&json).map_err(unreadable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
