//! The dlt schema model: tables, columns and their types, stored as `schema.json` in every load package and
//! in `schemas/<name>.schema.json` of the pipeline, in dlt's layout (engine version 11) so dlt tools read it.
//!
//! The JSON written by [`Schema`]'s `Serialize` is dlt's `Schema.to_dict()` layout: `tables` and `columns`
//! are objects keyed by name whose key order is the order of appearance, names are repeated inside each
//! table and column, and unset column properties are omitted. [`Schema::version_hash`] is dlt's
//! `generate_version_hash` over that document, so a dlt tool verifying the hash of a schema written here
//! finds it intact.

use std::fmt::Write as _;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use sha3::{Digest, Sha3_256};

/// dlt's engine version of the stored schema layout.
pub const SCHEMA_ENGINE_VERSION: u32 = 11;

/// dlt's module name of the relational JSON normalizer, recorded under `normalizers.json.module`.
pub const RELATIONAL_NORMALIZER_MODULE: &str = "dlt.common.normalizers.json.relational";

/// How many previous version hashes a schema remembers (`previous_hashes`), as dlt.
const MAX_PREVIOUS_HASHES: usize = 10;

/// A dlt data type (`dlt/common/data_types/typing.py`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataType {
    /// Text (Arrow `Utf8`).
    #[default]
    Text,
    /// A 64-bit float.
    Double,
    /// A boolean.
    Bool,
    /// A point in time, microseconds, UTC.
    Timestamp,
    /// A 64-bit integer.
    Bigint,
    /// Bytes.
    Binary,
    /// Nested data kept as JSON. dlt's legacy name `complex` is read as `json`.
    #[serde(alias = "complex")]
    Json,
    /// A decimal, (38, 9) unless hinted.
    Decimal,
    /// A large integer (dlt's type for Ethereum amounts).
    Wei,
    /// A calendar date.
    Date,
    /// A time of day.
    Time,
}

impl DataType {
    /// Every data type, in dlt's order.
    pub const ALL: [DataType; 11] = [
        DataType::Text,
        DataType::Double,
        DataType::Bool,
        DataType::Timestamp,
        DataType::Bigint,
        DataType::Binary,
        DataType::Json,
        DataType::Decimal,
        DataType::Wei,
        DataType::Date,
        DataType::Time,
    ];

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

    /// The data type named `name` (dlt's spelling; `complex` is the legacy name of `json`).
    pub fn from_name(name: &str) -> Option<DataType> {
        if name == "complex" {
            return Some(DataType::Json);
        }
        DataType::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl std::fmt::Display for DataType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
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

impl WriteDisposition {
    /// dlt's name of the disposition.
    pub fn as_str(self) -> &'static str {
        match self {
            WriteDisposition::Append => "append",
            WriteDisposition::Replace => "replace",
            WriteDisposition::Merge => "merge",
        }
    }
}

/// One column of a table, with dlt's column properties. Unset properties are omitted from the JSON.
///
/// dlt also stores *incomplete* columns (hints without a `data_type`, e.g. a primary key declared before
/// any data arrived). They cannot be created at a destination, so this model does not hold them: reading
/// a schema drops columns that have no `data_type`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Column {
    /// The normalized column name.
    pub name: String,
    /// The dlt data type.
    pub data_type: DataType,
    /// Whether the column may hold nulls (dlt's own columns may not).
    pub nullable: bool,
    /// Precision: digits of a decimal, bytes of text or binary, fractional digits of a timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<u32>,
    /// Scale of a decimal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<u32>,
    /// Whether a timestamp is time-zone aware (dlt's default when absent: yes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<bool>,
    /// A variant column (`<col>__v_<type>`) holding values that did not fit `<col>`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub variant: bool,
    /// Part of the primary key (merge deduplicates by it).
    #[serde(default, skip_serializing_if = "is_false")]
    pub primary_key: bool,
    /// Part of the merge key.
    #[serde(default, skip_serializing_if = "is_false")]
    pub merge_key: bool,
    /// The row's key (`_dlt_id`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub row_key: bool,
    /// The parent row's key in a nested table (`_dlt_parent_id`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub parent_key: bool,
    /// The root row's key in a nested table of a merge chain (`_dlt_root_id`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub root_key: bool,
    /// Values are unique.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
    /// A human description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Every other property dlt knows or carries (`partition`, `cluster`, `sort`, `hard_delete`,
    /// `dedup_sort`, `x-*` hints such as looker-load's `x-source-path`), kept as read.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Column {
    /// A nullable column of `data_type` with no other hints, as dlt infers one from data.
    pub fn new(name: impl Into<String>, data_type: DataType) -> Column {
        Column {
            name: name.into(),
            data_type,
            nullable: true,
            ..Column::default()
        }
    }
}

/// One table. Columns keep their order of appearance (dlt's hash covers the order).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Table {
    /// The normalized table name.
    #[serde(default)]
    pub name: String,
    /// Columns by name, in the order they appeared.
    #[serde(default, with = "ordered_columns")]
    pub columns: Vec<Column>,
    /// Root tables only. dlt's `skip` (its own bookkeeping tables) reads as `None`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_disposition"
    )]
    pub write_disposition: Option<WriteDisposition>,
    /// The resource whose items fill this table (root tables only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The parent table of a nested (child) table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// dlt's normalizer notes (`seen-data`, `max_nesting`).
    #[serde(
        rename = "x-normalizer",
        default,
        skip_serializing_if = "serde_json::Map::is_empty"
    )]
    pub x_normalizer: serde_json::Map<String, serde_json::Value>,
}

fn lenient_disposition<'de, D: Deserializer<'de>>(d: D) -> Result<Option<WriteDisposition>, D::Error> {
    let raw = Option::<String>::deserialize(d)?;
    Ok(match raw.as_deref() {
        Some("append") => Some(WriteDisposition::Append),
        Some("replace") => Some(WriteDisposition::Replace),
        Some("merge") => Some(WriteDisposition::Merge),
        _ => None,
    })
}

impl Table {
    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The column named `name`, mutable.
    pub fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }

    /// A nested (child) table: one with a parent.
    pub fn is_nested(&self) -> bool {
        self.parent.is_some()
    }

    /// Whether rows were ever normalized into this table (dlt's `x-normalizer.seen-data`).
    pub fn seen_data(&self) -> bool {
        self.x_normalizer
            .get("seen-data")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// Marks the table as having received rows (dlt's `x-normalizer.seen-data`).
    pub fn set_seen_data(&mut self) {
        self.x_normalizer
            .insert("seen-data".to_owned(), Value::Bool(true));
    }

    /// dlt's `max_table_nesting` of this table, stored as `x-normalizer.max_nesting`.
    pub fn max_nesting(&self) -> Option<u32> {
        self.x_normalizer
            .get("max_nesting")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
    }
}

/// A whole schema: dlt's stored schema document.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Schema {
    /// Incremented each time the content (hash) changes.
    pub version: u64,
    /// dlt's content hash ([`Schema::version_hash`]).
    pub version_hash: String,
    /// The layout version, [`SCHEMA_ENGINE_VERSION`].
    pub engine_version: u32,
    /// The schema name (dlt: the source's name, e.g. `looker_data_source`).
    pub name: String,
    /// Tables by name, in the order they appeared.
    #[serde(with = "ordered_tables")]
    pub tables: Vec<Table>,
    /// dlt's settings: type detections, default hints, preferred types.
    #[serde(default)]
    pub settings: serde_json::Value,
    /// dlt's normalizers: naming convention and JSON normalizer (with its propagation config).
    #[serde(default)]
    pub normalizers: serde_json::Value,
    /// The last 10 version hashes, newest first.
    #[serde(default)]
    pub previous_hashes: Vec<String>,
}

impl Schema {
    /// A new schema named `name` as dlt creates one for a source: dlt's tables `_dlt_version` and
    /// `_dlt_loads` (dlt refuses to read a schema without them; their write disposition `skip` and table
    /// descriptions have no place in [`Table`] and are left out), engine version 11, the
    /// `iso_timestamp` type detection, the default hints of dlt's own columns (`_dlt_id` unique row key and
    /// not null, ...), the `snake_case` naming convention and the relational JSON normalizer. Version 1
    /// with its hash set.
    ///
    /// dlt names the schema of `@dlt.source def looker_data_source()` after the function:
    /// `looker_data_source`.
    pub fn new(name: impl Into<String>) -> Schema {
        let settings = serde_json::json!({
            "detections": ["iso_timestamp"],
            "default_hints": {
                "not_null": ["_dlt_id", "_dlt_root_id", "_dlt_parent_id", "_dlt_list_idx", "_dlt_load_id"],
                "parent_key": ["_dlt_parent_id"],
                "root_key": ["_dlt_root_id"],
                "unique": ["_dlt_id"],
                "row_key": ["_dlt_id"],
            }
        });
        let normalizers = serde_json::json!({
            "names": "snake_case",
            "json": {"module": RELATIONAL_NORMALIZER_MODULE},
        });
        let mut schema = Schema {
            version: 0,
            version_hash: String::new(),
            engine_version: SCHEMA_ENGINE_VERSION,
            name: name.into(),
            tables: vec![version_table(), loads_table()],
            settings,
            normalizers,
            previous_hashes: Vec::new(),
        };
        schema.bump_version_if_modified();
        schema
    }

    /// The table named `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The table named `name`, mutable.
    pub fn table_mut(&mut self, name: &str) -> Option<&mut Table> {
        self.tables.iter_mut().find(|t| t.name == name)
    }

    /// The root table of the chain `name` belongs to (the table itself when it has no parent).
    pub fn root_table(&self, name: &str) -> Option<&Table> {
        let mut table = self.table(name)?;
        // a parent chain is at most as long as the table list; a cycle in a corrupt schema ends here
        for _ in 0..=self.tables.len() {
            match table.parent.as_deref() {
                Some(parent) => table = self.table(parent)?,
                None => return Some(table),
            }
        }
        None
    }

    /// Records in `normalizers.json.config.propagation` that the row key of root table `root_table`
    /// is copied into `_dlt_root_id` of every nested row, as dlt does for merge tables.
    pub fn add_root_key_propagation(&mut self, root_table: &str) {
        if !self.normalizers.is_object() {
            self.normalizers = Value::Object(Map::new());
        }
        let Some(normalizers) = self.normalizers.as_object_mut() else {
            return;
        };
        let json = object_entry(normalizers, "json");
        if !json.contains_key("module") {
            json.insert(
                "module".to_owned(),
                Value::String(RELATIONAL_NORMALIZER_MODULE.to_owned()),
            );
        }
        let tables = object_entry(
            object_entry(object_entry(json, "config"), "propagation"),
            "tables",
        );
        let mapping = object_entry(tables, root_table);
        mapping.insert("_dlt_id".to_owned(), Value::String("_dlt_root_id".to_owned()));
    }

    /// dlt's `generate_version_hash`: base64 of sha3_256 over the schema document with sorted keys and
    /// without `version`, `version_hash`, `imported_version_hash` and `previous_hashes`, followed by the
    /// names of the tables (sorted) each followed by its column names in order.
    pub fn version_hash(&self) -> String {
        let mut doc = match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            // serializing this model cannot fail nor produce a non-object
            _ => Map::new(),
        };
        doc.remove("version");
        doc.remove("version_hash");
        doc.remove("imported_version_hash");
        doc.remove("previous_hashes");
        let mut content = String::new();
        write_sorted_json(&mut content, &Value::Object(doc));
        let mut hasher = Sha3_256::new();
        hasher.update(content.as_bytes());
        let mut tables: Vec<&Table> = self.tables.iter().collect();
        tables.sort_by(|a, b| a.name.cmp(&b.name));
        for table in tables {
            hasher.update(table.name.as_bytes());
            for column in &table.columns {
                hasher.update(column.name.as_bytes());
            }
        }
        base64::engine::general_purpose::STANDARD.encode(hasher.finalize())
    }

    /// dlt's `bump_version_if_modified`: recomputes the hash; a schema without a hash gets version 1
    /// (or keeps its version), a changed hash increments `version` and remembers the previous hash (the
    /// last 10). Returns whether the version changed.
    pub fn bump_version_if_modified(&mut self) -> bool {
        let hash = self.version_hash();
        let mut bumped = false;
        if self.version_hash.is_empty() {
            if self.version == 0 {
                self.version = 1;
                bumped = true;
            }
        } else if hash != self.version_hash {
            self.version += 1;
            bumped = true;
            let previous = std::mem::take(&mut self.version_hash);
            if !self.previous_hashes.contains(&previous) {
                self.previous_hashes.insert(0, previous);
                self.previous_hashes.truncate(MAX_PREVIOUS_HASHES);
            }
        }
        self.version_hash = hash;
        bumped
    }
}

fn described(name: &str, data_type: DataType, nullable: bool, description: &str) -> Column {
    Column {
        description: Some(description.to_owned()),
        nullable,
        ..Column::new(name, data_type)
    }
}

/// dlt's `_dlt_version` table (`schema/utils.py::version_table`), as far as [`Table`] holds it.
pub fn version_table() -> Table {
    Table {
        name: "_dlt_version".to_owned(),
        columns: vec![
            described(
                "version",
                DataType::Bigint,
                false,
                "Numeric version of the schema, incremented on each schema change",
            ),
            described(
                "engine_version",
                DataType::Bigint,
                false,
                "Version of the dlt schema engine that created this schema",
            ),
            described(
                "inserted_at",
                DataType::Timestamp,
                false,
                "Timestamp when this schema version was stored",
            ),
            described("schema_name", DataType::Text, false, "Name of the schema"),
            described(
                "version_hash",
                DataType::Text,
                false,
                "Unique hash of the schema content, used to detect changes",
            ),
            described(
                "schema",
                DataType::Text,
                false,
                "JSON representation of the complete schema definition",
            ),
        ],
        ..Table::default()
    }
}

/// dlt's `_dlt_loads` table (`schema/utils.py::loads_table`), as far as [`Table`] holds it.
pub fn loads_table() -> Table {
    let mut load_id = described(
        "load_id",
        DataType::Text,
        false,
        "Unique identifier of the load operation",
    );
    load_id.precision = Some(64);
    Table {
        name: "_dlt_loads".to_owned(),
        columns: vec![
            load_id,
            described(
                "schema_name",
                DataType::Text,
                true,
                "Name of the schema associated with this load",
            ),
            described(
                "status",
                DataType::Bigint,
                false,
                "Status of the load operation (0 = success)",
            ),
            described(
                "inserted_at",
                DataType::Timestamp,
                false,
                "Timestamp when the load was completed",
            ),
            described(
                "schema_version_hash",
                DataType::Text,
                true,
                "Hash of the schema version used during this load",
            ),
        ],
        ..Table::default()
    }
}

fn object_entry<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let entry = map
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    match entry {
        Value::Object(m) => m,
        // replaced by an object just above
        _ => unreachable!("entry was made an object"),
    }
}

/// Writes `value` as compact JSON with object keys sorted by code point, escaping as dlt's JSON library
/// (orjson) does: `"`, `\` and control characters only, non-ASCII text as UTF-8.
fn write_sorted_json(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_json_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, k);
                out.push(':');
                write_sorted_json(out, v);
            }
            out.push('}');
        }
    }
}

/// Writes `s` as a JSON string the way orjson does.
pub fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// dlt stores `columns` and `tables` as JSON objects keyed by name; the order of keys is the order of
/// appearance. These adapters keep that order in a `Vec`. Entries may omit their `name` (dlt's "remove
/// defaults" form); the key supplies it.
macro_rules! ordered_map {
    ($module:ident, $item:ty, $entry:ty, $convert:expr) => {
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
                        let convert: fn(String, $entry) -> Result<Option<$item>, String> = $convert;
                        let mut out = Vec::new();
                        while let Some((key, entry)) = m.next_entry::<String, $entry>()? {
                            if let Some(item) = convert(key, entry).map_err(serde::de::Error::custom)? {
                                out.push(item);
                            }
                        }
                        Ok(out)
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
}

// Columns pass through a JSON value (their property order does not matter) so that incomplete columns,
// which have no `data_type`, can be dropped.
ordered_map!(
    ordered_columns,
    super::Column,
    serde_json::Value,
    |key, mut value| {
        if value.get("data_type").is_none_or(|t| t.is_null()) {
            return Ok(None);
        }
        if let serde_json::Value::Object(obj) = &mut value {
            obj.entry("name")
                .or_insert_with(|| serde_json::Value::String(key));
        }
        serde_json::from_value(value).map(Some).map_err(|e| e.to_string())
    }
);

// Tables are read directly: going through a JSON value would lose the order of their columns.
ordered_map!(ordered_tables, super::Table, super::Table, |key, mut table| {
    if table.name.is_empty() {
        table.name = key;
    }
    Ok(Some(table))
});

#[cfg(test)]
mod tests {
    use super::*;

    /// A schema written by dlt 1.31.0 (`p.default_schema.to_dict()`, merge resource `users` with
    /// primary key `id`), reduced to one table; its hash was computed by dlt's `generate_version_hash`.
    const DLT_SCHEMA: &str = r#"{"version":2,"version_hash":"45a73EUW4pvUnyUIjpLFy7ymSD3XwDAjFCg6Q4InRb4=","engine_version":11,"name":"looker_data_source","tables":{"users":{"columns":{"id":{"name":"id","nullable":false,"primary_key":true,"data_type":"bigint"},"created_at":{"name":"created_at","data_type":"timestamp","nullable":true},"_dlt_load_id":{"name":"_dlt_load_id","data_type":"text","nullable":false},"_dlt_id":{"name":"_dlt_id","data_type":"text","nullable":false,"unique":true,"row_key":true},"created_at__v_text":{"name":"created_at__v_text","data_type":"text","nullable":true,"variant":true,"description":"Variant of column created_at__v_text generated by dlt"}},"write_disposition":"merge","name":"users","resource":"users","x-normalizer":{"seen-data":true}},"users__role_ids":{"name":"users__role_ids","columns":{"value":{"name":"value","data_type":"bigint","nullable":true},"_dlt_root_id":{"name":"_dlt_root_id","data_type":"text","nullable":false,"root_key":true},"_dlt_parent_id":{"name":"_dlt_parent_id","data_type":"text","nullable":false,"parent_key":true},"_dlt_list_idx":{"name":"_dlt_list_idx","data_type":"bigint","nullable":false},"_dlt_id":{"name":"_dlt_id","data_type":"text","nullable":false,"unique":true,"row_key":true}},"parent":"users","x-normalizer":{"seen-data":true}}},"settings":{"detections":["iso_timestamp"],"default_hints":{"not_null":["_dlt_id","_dlt_root_id","_dlt_parent_id","_dlt_list_idx","_dlt_load_id"],"parent_key":["_dlt_parent_id"],"root_key":["_dlt_root_id"],"unique":["_dlt_id"],"row_key":["_dlt_id"]}},"normalizers":{"names":"snake_case","json":{"module":"dlt.common.normalizers.json.relational","config":{"propagation":{"tables":{"users":{"_dlt_id":"_dlt_root_id"}}}}}},"previous_hashes":["m2hCpCUw23w8taho4nGmFz5mOBU0hdrNfTMt6+cEHac="]}"#;

    #[test]
    fn hash_matches_dlt() {
        let schema: Schema = serde_json::from_str(DLT_SCHEMA).unwrap();
        assert_eq!(schema.version_hash(), schema.version_hash);
        assert_eq!(schema.tables[0].columns[0].name, "id");
        assert!(schema.tables[0].columns[0].primary_key);
        assert_eq!(schema.tables[1].parent.as_deref(), Some("users"));
    }

    #[test]
    fn round_trip_keeps_document() {
        let schema: Schema = serde_json::from_str(DLT_SCHEMA).unwrap();
        let again: Value = serde_json::to_value(&schema).unwrap();
        let original: Value = serde_json::from_str(DLT_SCHEMA).unwrap();
        assert_eq!(again, original);
    }

    #[test]
    fn bump_version_only_on_change() {
        let mut schema: Schema = serde_json::from_str(DLT_SCHEMA).unwrap();
        assert!(!schema.bump_version_if_modified());
        assert_eq!(schema.version, 2);
        let old = schema.version_hash.clone();
        schema.tables[1]
            .columns
            .push(Column::new("extra", DataType::Text));
        assert!(schema.bump_version_if_modified());
        assert_eq!(schema.version, 3);
        assert_eq!(schema.previous_hashes[0], old);
        assert!(!schema.bump_version_if_modified());
    }

    #[test]
    fn column_order_changes_hash() {
        let mut schema: Schema = serde_json::from_str(DLT_SCHEMA).unwrap();
        let before = schema.version_hash();
        schema.tables[0].columns.swap(1, 2);
        assert_ne!(schema.version_hash(), before);
    }

    #[test]
    fn new_schema_has_dlt_settings() {
        let mut schema = Schema::new("looker_data_source");
        assert_eq!(schema.version, 1);
        assert_eq!(schema.tables[0].name, "_dlt_version");
        assert_eq!(schema.tables[1].column("load_id").unwrap().precision, Some(64));
        assert_eq!(schema.engine_version, 11);
        assert!(!schema.version_hash.is_empty());
        schema.add_root_key_propagation("users");
        assert_eq!(
            schema.normalizers["json"]["config"]["propagation"]["tables"]["users"]["_dlt_id"],
            "_dlt_root_id"
        );
        assert!(schema.bump_version_if_modified());
        assert_eq!(schema.version, 2);
    }

    #[test]
    fn incomplete_columns_and_skip_disposition_are_read() {
        let doc = r#"{"version":1,"version_hash":"x","engine_version":11,"name":"s","tables":{
            "_dlt_loads":{"columns":{"load_id":{"data_type":"text","nullable":false}},"write_disposition":"skip"},
            "t":{"columns":{"id":{"name":"id","nullable":false,"primary_key":true},
                 "v":{"name":"v","data_type":"complex","nullable":true,"x-custom":1}}}}}"#;
        let schema: Schema = serde_json::from_str(doc).unwrap();
        assert_eq!(schema.tables[0].write_disposition, None);
        assert_eq!(schema.tables[0].columns[0].name, "load_id");
        assert_eq!(schema.tables[1].columns.len(), 1);
        assert_eq!(schema.tables[1].columns[0].data_type, DataType::Json);
        assert_eq!(schema.tables[1].columns[0].extra["x-custom"], 1);
    }

    #[test]
    fn json_strings_escape_like_orjson() {
        let mut out = String::new();
        write_json_string(&mut out, "a\"\\\n\u{1}\u{7f}é");
        assert_eq!(out, "\"a\\\"\\\\\\n\\u0001\u{7f}é\"");
    }
}
