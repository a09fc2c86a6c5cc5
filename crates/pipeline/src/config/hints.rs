//! Structured resource hints as dlt spells them: `columns` (dlt's `TTableSchemaColumns`, a map of
//! column name → column schema, or a list of column schemas with `name`) and `nested_hints` (dlt's
//! `nested_hints`: nested table path → hints for that table).
//!
//! In TOML they are tables:
//!
//! ```toml
//! [sources.looker_data_source.resources.looks.columns]
//! query__filter_config = { data_type = "json" }
//!
//! [sources.looker_data_source.resources.dashboards.nested_hints.dashboard_elements.columns]
//! vis_config = { data_type = "json" }
//! ```
//!
//! In the environment (`SOURCES__LOOKER_DATA_SOURCE__RESOURCES__LOOKS__COLUMNS`) they are JSON text,
//! as dlt reads dictionaries from environment variables.

use std::collections::BTreeMap;

use normalize::{ColumnHint, DataType};
use serde_json::Value as Json;

use super::error::{ConfigError, Origin};
use super::keys::suggest;
use super::value::{Raw, invalid};

/// Column properties looker-load applies.
const COLUMN_KEYS: &[&str] = &["name", "data_type", "nullable", "primary_key", "merge_key"];

/// Column properties dlt knows that looker-load does not apply: refused rather than ignored, since
/// ignoring them would load something else than the user asked for.
const UNSUPPORTED_COLUMN_KEYS: &[&str] = &[
    "unique",
    "sort",
    "partition",
    "cluster",
    "precision",
    "scale",
    "timezone",
    "dedup_sort",
    "hard_delete",
    "root_key",
    "parent_key",
    "row_key",
    "variant",
    "description",
];

/// Hint keys accepted for a nested table.
const NESTED_KEYS: &[&str] = &["columns"];

/// One resource's column hints, with the columns flagged `primary_key` / `merge_key` (dlt's column
/// form of the table's keys) collected apart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ParsedColumns {
    /// The hints, in the order given (TOML keeps a table's key order).
    pub(crate) columns: Vec<ColumnHint>,
    /// Columns with `primary_key = true`.
    pub(crate) primary_key: Vec<String>,
    /// Columns with `merge_key = true`.
    pub(crate) merge_key: Vec<String>,
}

/// Hints for one nested table (`nested_hints.<path>`), as dlt's `make_nested_hints`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NestedHints {
    /// Column hints of the nested table, e.g. `vis_config` as `json` on `dashboard_elements`.
    pub columns: Vec<ColumnHint>,
}

/// A hint value with the order of every object's entries kept (serde_json's map sorts them; the order
/// of column hints is the order of the columns dlt creates).
#[derive(Debug, Clone)]
enum Hint {
    Object(Vec<(String, Hint)>),
    List(Vec<Hint>),
    Scalar(Json),
}

impl Hint {
    fn from_toml(value: &toml::Value) -> Hint {
        match value {
            toml::Value::Table(table) => Hint::Object(
                table
                    .iter()
                    .map(|(k, v)| (k.clone(), Hint::from_toml(v)))
                    .collect(),
            ),
            toml::Value::Array(items) => Hint::List(items.iter().map(Hint::from_toml).collect()),
            toml::Value::String(s) => Hint::Scalar(Json::from(s.as_str())),
            toml::Value::Integer(i) => Hint::Scalar(Json::from(*i)),
            toml::Value::Float(f) => Hint::Scalar(Json::from(*f)),
            toml::Value::Boolean(b) => Hint::Scalar(Json::from(*b)),
            toml::Value::Datetime(d) => Hint::Scalar(Json::from(d.to_string())),
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Hint::Scalar(Json::String(s)) => Some(s),
            _ => None,
        }
    }

    fn as_bool(&self) -> Option<bool> {
        match self {
            Hint::Scalar(Json::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    fn render(&self) -> String {
        match self {
            Hint::Scalar(v) => v.to_string(),
            Hint::List(_) => "a list".to_owned(),
            Hint::Object(_) => "a table".to_owned(),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Hint {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Hint, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Hint;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Hint, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Hint>()? {
                    entries.push(entry);
                }
                Ok(Hint::Object(entries))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Hint, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Hint>()? {
                    items.push(item);
                }
                Ok(Hint::List(items))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Hint, E> {
                Ok(Hint::Scalar(Json::from(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Hint, E> {
                Ok(Hint::Scalar(Json::from(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Hint, E> {
                Ok(Hint::Scalar(Json::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Hint, E> {
                Ok(Hint::Scalar(Json::from(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Hint, E> {
                Ok(Hint::Scalar(Json::from(v)))
            }
            fn visit_unit<E>(self) -> Result<Hint, E> {
                Ok(Hint::Scalar(Json::Null))
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

/// The hint value: a TOML value, or environment text parsed as JSON.
fn read(key: &str, origin: &Origin, raw: Raw<'_>, expected: &str) -> Result<Hint, ConfigError> {
    match raw {
        Raw::Toml(value) => Ok(Hint::from_toml(value)),
        Raw::Text(text) => serde_json::from_str::<Hint>(text.trim())
            .map_err(|e| invalid(key, origin, raw, false, format!("{expected} as JSON text ({e})"))),
    }
}

fn expected_columns(key: &str) -> String {
    format!(
        "column hints as dlt spells them: a table of column name → {{ data_type = \"json\", nullable = true }} \
         (e.g. [{key}] vis_config = {{ data_type = \"json\" }}), or a list of {{ name = ..., data_type = ... }}"
    )
}

/// Parses `columns`.
pub(crate) fn parse_columns(key: &str, origin: &Origin, raw: Raw<'_>) -> Result<ParsedColumns, ConfigError> {
    let expected = expected_columns(key);
    let hint = read(key, origin, raw, &expected)?;
    columns_of(key, origin, &hint).map_err(|why| invalid(key, origin, raw, false, why.unwrap_or(expected)))
}

/// The column hints in `hint`; `Err(None)` when its shape is wrong, `Err(Some(why))` with a reason,
/// and a ready error for a bad property.
fn columns_of(key: &str, origin: &Origin, hint: &Hint) -> Result<ParsedColumns, Option<String>> {
    let entries: Vec<(String, &Vec<(String, Hint)>)> = match hint {
        Hint::Object(map) => map
            .iter()
            .map(|(name, props)| match props {
                Hint::Object(props) => Ok((name.clone(), props)),
                _ => Err(None),
            })
            .collect::<Result<_, _>>()?,
        Hint::List(items) => items
            .iter()
            .map(|item| {
                let Hint::Object(props) = item else {
                    return Err(None);
                };
                match props
                    .iter()
                    .find(|(k, _)| k == "name")
                    .and_then(|(_, v)| v.as_str())
                {
                    Some(name) => Ok((name.to_owned(), props)),
                    None => Err(Some(
                        "every column in a list of column hints has a `name`".to_owned(),
                    )),
                }
            })
            .collect::<Result<_, _>>()?,
        Hint::Scalar(_) => return Err(None),
    };
    let mut parsed = ParsedColumns::default();
    for (name, props) in entries {
        let name = name.trim().to_owned();
        if name.is_empty() {
            return Err(Some("column names that are not empty".to_owned()));
        }
        let mut hint = ColumnHint {
            name: name.clone(),
            ..ColumnHint::default()
        };
        for (prop, value) in props {
            let prop_key = format!("{key}.{name}.{prop}");
            let bad = |what: String| Some(format!("{prop_key}: {what}, not {}", value.render()));
            match prop.as_str() {
                "name" => {}
                "data_type" => {
                    let data_type = value.as_str().and_then(parse_data_type);
                    hint.data_type = Some(data_type.ok_or_else(|| bad(data_type_expected()))?);
                }
                "nullable" => {
                    hint.nullable = Some(value.as_bool().ok_or_else(|| bad("true or false".to_owned()))?);
                }
                "primary_key" | "merge_key" => {
                    if value.as_bool().ok_or_else(|| bad("true or false".to_owned()))? {
                        let list = if prop == "primary_key" {
                            &mut parsed.primary_key
                        } else {
                            &mut parsed.merge_key
                        };
                        list.push(name.clone());
                    }
                }
                other if UNSUPPORTED_COLUMN_KEYS.contains(&other) => {
                    return Err(Some(format!(
                        "{prop_key}: the `{other}` column hint is not applied by looker-load; the column hints \
                         applied are {}",
                        COLUMN_KEYS[1..].join(", ")
                    )));
                }
                other => {
                    let did_you_mean = suggest(other, COLUMN_KEYS)
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default();
                    return Err(Some(format!(
                        "{prop_key}: a column hint, one of {}{did_you_mean}",
                        COLUMN_KEYS[1..].join(", ")
                    )));
                }
            }
        }
        let _ = origin;
        if hint.data_type.is_some() || hint.nullable.is_some() {
            parsed.columns.push(hint);
        }
    }
    Ok(parsed)
}

fn data_type_expected() -> String {
    let names: Vec<&str> = DataType::ALL.iter().map(|t| t.as_str()).collect();
    format!("one of dlt's data types: {}", names.join(", "))
}

/// A dlt data type name (`complex` is dlt's old name of `json`).
fn parse_data_type(text: &str) -> Option<DataType> {
    let text = text.trim().to_ascii_lowercase();
    if text == "complex" {
        return Some(DataType::Json);
    }
    DataType::ALL.into_iter().find(|t| t.as_str() == text)
}

/// Parses `nested_hints`: nested table path (its name under the root table, levels joined by `__`, e.g.
/// `dashboard_elements` or `dashboard_elements__query_fields`) → hints.
pub(crate) fn parse_nested(
    key: &str,
    origin: &Origin,
    raw: Raw<'_>,
) -> Result<BTreeMap<String, NestedHints>, ConfigError> {
    let expected = format!(
        "nested table hints as dlt's nested_hints: a table of nested path → {{ columns = {{ ... }} }}, e.g. \
         [{key}.dashboard_elements.columns] vis_config = {{ data_type = \"json\" }}"
    );
    let fail =
        |why: Option<String>| invalid(key, origin, raw, false, why.unwrap_or_else(|| expected.clone()));
    let Hint::Object(map) = read(key, origin, raw, &expected)? else {
        return Err(fail(None));
    };
    let mut out = BTreeMap::new();
    for (path, hints) in map {
        let path_key = format!("{key}.{path}");
        let Hint::Object(hints) = hints else {
            return Err(fail(None));
        };
        let path = path.trim().to_owned();
        if path.is_empty() || path.starts_with('_') || path.ends_with('_') {
            return Err(fail(Some(
                "nested table paths like dashboard_elements (levels joined by __)".to_owned(),
            )));
        }
        let mut nested = NestedHints::default();
        for (hint, value) in hints {
            match hint.as_str() {
                "columns" => {
                    let columns_key = format!("{path_key}.columns");
                    let parsed = columns_of(&columns_key, origin, &value)
                        .map_err(|why| fail(why.or_else(|| Some(expected_columns(&columns_key)))))?;
                    if !parsed.primary_key.is_empty() || !parsed.merge_key.is_empty() {
                        return Err(ConfigError::Unsupported {
                            origin: origin.clone(),
                            reason: format!(
                                "{path_key}.columns: primary_key and merge_key apply to the resource's root \
                                 table; nested tables follow their parent through _dlt_parent_id"
                            ),
                        });
                    }
                    nested.columns = parsed.columns;
                }
                other => {
                    return Err(ConfigError::Unsupported {
                        origin: origin.clone(),
                        reason: format!(
                            "the `{other}` nested hint ({path_key}.{other}) is not applied by looker-load; \
                             nested hints applied: {}",
                            NESTED_KEYS.join(", ")
                        ),
                    });
                }
            }
        }
        out.insert(path, nested);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin::Environment { name: "X".to_owned() }
    }

    fn toml_value(text: &str) -> toml::Value {
        let table: toml::Table = toml::from_str(text).expect("valid TOML");
        table.get("v").cloned().expect("key v")
    }

    #[test]
    fn columns_as_a_toml_table_keep_their_order_and_types() {
        let v = toml_value(
            "[v]\nvis_config = { data_type = \"json\" }\nquery__filters = { data_type = \"complex\", \
             nullable = false }\nid = { primary_key = true }\n",
        );
        let parsed = parse_columns("k", &origin(), Raw::Toml(&v)).expect("parsed");
        let names: Vec<&str> = parsed.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["vis_config", "query__filters"]);
        assert_eq!(parsed.columns[0].data_type, Some(DataType::Json));
        assert_eq!(parsed.columns[1].data_type, Some(DataType::Json));
        assert_eq!(parsed.columns[1].nullable, Some(false));
        assert_eq!(parsed.primary_key, ["id"]);
    }

    #[test]
    fn columns_from_environment_json_as_a_map_or_a_list() {
        let map = parse_columns(
            "k",
            &origin(),
            Raw::Text(r#"{"vis_config": {"data_type": "json"}, "org": {"merge_key": true}}"#),
        )
        .expect("map");
        assert_eq!(map.columns.len(), 1);
        assert_eq!(map.merge_key, ["org"]);
        let list = parse_columns(
            "k",
            &origin(),
            Raw::Text(r#"[{"name": "vis_config", "data_type": "json"}]"#),
        )
        .expect("list");
        assert_eq!(list.columns, map.columns);
    }

    #[test]
    fn bad_column_hints_name_the_key_and_what_is_expected() {
        let err = parse_columns("k", &origin(), Raw::Text(r#"{"a": {"data_type": "jsonb"}}"#))
            .expect_err("unknown type")
            .to_string();
        assert!(err.contains("k.a.data_type") && err.contains("json"), "{err}");
        let err = parse_columns("k", &origin(), Raw::Text(r#"{"a": {"data_typ": "json"}}"#))
            .expect_err("typo")
            .to_string();
        assert!(err.contains("did you mean `data_type`"), "{err}");
        let err = parse_columns("k", &origin(), Raw::Text(r#"{"a": {"partition": true}}"#))
            .expect_err("unsupported")
            .to_string();
        assert!(err.contains("partition") && err.contains("not applied"), "{err}");
        let err = parse_columns("k", &origin(), Raw::Text("not json"))
            .expect_err("not json")
            .to_string();
        assert!(err.contains("JSON"), "{err}");
        let err = parse_columns("k", &origin(), Raw::Text(r#"[{"data_type": "json"}]"#))
            .expect_err("no name")
            .to_string();
        assert!(err.contains("`name`"), "{err}");
    }

    #[test]
    fn nested_hints_by_path() {
        let v = toml_value("[v.dashboard_elements.columns]\nvis_config = { data_type = \"json\" }\n");
        let nested = parse_nested("k", &origin(), Raw::Toml(&v)).expect("parsed");
        let hints = nested.get("dashboard_elements").expect("path");
        assert_eq!(hints.columns.len(), 1);
        assert_eq!(hints.columns[0].name, "vis_config");
        let err = parse_nested(
            "k",
            &origin(),
            Raw::Text(r#"{"x": {"write_disposition": "merge"}}"#),
        )
        .expect_err("unsupported")
        .to_string();
        assert!(err.contains("write_disposition") && err.contains("k.x"), "{err}");
        let err = parse_nested(
            "k",
            &origin(),
            Raw::Text(r#"{"x": {"columns": {"id": {"primary_key": true}}}}"#),
        )
        .expect_err("keys on nested")
        .to_string();
        assert!(err.contains("root"), "{err}");
    }
}
