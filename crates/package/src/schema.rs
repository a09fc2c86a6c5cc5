//! The dlt schema model: tables, columns and their types, stored as `schema.json` in every load package and
//! in `schemas/<name>.schema.json` of the pipeline, in dlt's layout (engine version 11) so dlt tools read it.

use serde::{Deserialize, Serialize};

/// dlt's engine version of the stored schema layout.
pub const SCHEMA_ENGINE_VERSION: u32 = 11;

/// A dlt data type (`dlt/common/data_types/typing.py`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataType {
    #[default]
    Text,
    Double,
    Bool,
    Timestamp,
    Bigint,
    Binary,
    Json,
    Decimal,
    Wei,
    Date,
    Time,
}

impl DataType {
    /// The name dlt uses, also the suffix of variant columns (`<col>__v_<name>`).
    pub fn as_str(self) -> &'static str {
        match self {
            DataType::Text => "text",
            DataType::Double => "double",
            DataType::Bool => "bool",
            DataType::Timestamp => "timestamp",
            DataType::Bigint => "bigint",
            DataType::Binary => "binary",
            DataType::Json => "json",
            DataType::Decimal => "decimal",
            DataType::Wei => "wei",
            DataType::Date => "date",
            DataType::Time => "time",
        }
    }
}

/// How a table's new rows meet the rows already at the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteDisposition {
    /// Add the rows.
    Append,
    /// Replace the table's rows with this load's rows.
    #[default]
    Replace,
    /// Delete the rows whose primary key the load carries, then insert (delete-insert).
    Merge,
}

/// One column of a table, with dlt's column properties. Unset properties are omitted from the JSON.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub data_type: DataType,
    pub nullable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<bool>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub variant: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub primary_key: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub merge_key: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub row_key: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub parent_key: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub root_key: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One table. Columns keep their order of appearance (dlt's hash covers the order).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Table {
    pub name: String,
    /// Columns by name, in the order they appeared.
    #[serde(with = "ordered_columns")]
    pub columns: Vec<Column>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_disposition: Option<WriteDisposition>,
    /// The resource whose items fill this table (root tables only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The parent table of a nested (child) table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// dlt's normalizer notes (`seen-data`, `max_nesting`).
    #[serde(rename = "x-normalizer", default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub x_normalizer: serde_json::Map<String, serde_json::Value>,
}

/// A whole schema: dlt's stored schema document.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Schema {
    pub version: u64,
    pub version_hash: String,
    pub engine_version: u32,
    pub name: String,
    /// Tables by name, in the order they appeared.
    #[serde(with = "ordered_tables")]
    pub tables: Vec<Table>,
    #[serde(default)]
    pub settings: serde_json::Value,
    #[serde(default)]
    pub normalizers: serde_json::Value,
    #[serde(default)]
    pub previous_hashes: Vec<String>,
}

impl Schema {
    /// The table named `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }
}

impl Table {
    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// dlt stores `columns` and `tables` as JSON objects keyed by name; the order of keys is the order of
/// appearance. These adapters keep that order in a `Vec`.
macro_rules! ordered_map {
    ($module:ident, $item:ty) => {
        mod $module {
            use serde::de::{MapAccess, Visitor};
            use serde::ser::SerializeMap;
            use serde::{Deserializer, Serializer};

            pub fn serialize<S: Serializer>(items: &[$item], s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(items.len()))?;
                for item in items {
                    map.serialize_entry(&item.name, item)?;
                }
                map.end()
            }

            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<$item>, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Vec<$item>;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("a map keyed by name")
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                        let mut out = Vec::new();
                        while let Some((_key, item)) = m.next_entry::<String, $item>()? {
                            out.push(item);
                        }
                        Ok(out)
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
}

ordered_map!(ordered_columns, super::Column);
ordered_map!(ordered_tables, super::Table);
