//! dlt's own tables in every dataset, column for column as dlt defines them
//! (`dlt/common/schema/utils.py`: `version_table`, `loads_table`, `pipeline_state_table`). Columns are
//! only ever appended by dlt, never reordered; keep the order.

use package::schema::{Column, DataType, Table, WriteDisposition};

/// Completed loads; one row per load package, written last by `complete_load` (the commit point).
pub const LOADS_TABLE: &str = "_dlt_loads";
/// Stored schema versions; one row per new schema hash.
pub const VERSION_TABLE: &str = "_dlt_version";
/// Pipeline state snapshots riding in load packages.
pub const PIPELINE_STATE_TABLE: &str = "_dlt_pipeline_state";

/// The row key of every dlt row (`_dlt_id`).
pub const ROW_KEY: &str = "_dlt_id";
/// The root row key propagated to nested tables of merge tables (`_dlt_root_id`).
pub const ROOT_KEY: &str = "_dlt_root_id";
/// The load id column of root tables (`_dlt_load_id`).
pub const LOAD_ID: &str = "_dlt_load_id";

/// Status value of a completed load in `_dlt_loads.status`.
pub const LOAD_STATUS_COMPLETED: i64 = 0;

/// Whether `table` is one of dlt's own tables (its name starts with `_dlt`).
pub fn is_dlt_table(table: &str) -> bool {
    table.starts_with("_dlt")
}

fn column(name: &str, data_type: DataType, nullable: bool) -> Column {
    Column {
        name: name.to_string(),
        data_type,
        nullable,
        ..Column::default()
    }
}

fn dlt_table(name: &str, columns: Vec<Column>, write_disposition: Option<WriteDisposition>) -> Table {
    Table {
        name: name.to_string(),
        columns,
        write_disposition,
        resource: None,
        parent: None,
        x_normalizer: serde_json::Map::new(),
    }
}

/// `_dlt_version`: `version bigint, engine_version bigint, inserted_at timestamp, schema_name text,
/// version_hash text, schema text`, all NOT NULL. (dlt's write disposition is `skip`: never loaded from
/// jobs, so it is `None` here.)
pub fn version_table() -> Table {
    dlt_table(
        VERSION_TABLE,
        vec![
            column("version", DataType::Bigint, false),
            column("engine_version", DataType::Bigint, false),
            column("inserted_at", DataType::Timestamp, false),
            column("schema_name", DataType::Text, false),
            column("version_hash", DataType::Text, false),
            column("schema", DataType::Text, false),
        ],
        None,
    )
}

/// `_dlt_loads`: `load_id text(64) NOT NULL, schema_name text, status bigint NOT NULL, inserted_at
/// timestamp NOT NULL, schema_version_hash text`.
pub fn loads_table() -> Table {
    let mut load_id = column("load_id", DataType::Text, false);
    load_id.precision = Some(64);
    dlt_table(
        LOADS_TABLE,
        vec![
            load_id,
            column("schema_name", DataType::Text, true),
            column("status", DataType::Bigint, false),
            column("inserted_at", DataType::Timestamp, false),
            column("schema_version_hash", DataType::Text, true),
        ],
        None,
    )
}

/// `_dlt_pipeline_state`: `version bigint, engine_version bigint, pipeline_name text, state text,
/// created_at timestamp` (NOT NULL), `version_hash text`, `_dlt_load_id text(64) NOT NULL`, and with
/// `with_dlt_id` the row key `_dlt_id text(64) NOT NULL` (as dlt adds when the state rides in a package).
pub fn pipeline_state_table(with_dlt_id: bool) -> Table {
    let mut load_id = column(LOAD_ID, DataType::Text, false);
    load_id.precision = Some(64);
    let mut columns = vec![
        column("version", DataType::Bigint, false),
        column("engine_version", DataType::Bigint, false),
        column("pipeline_name", DataType::Text, false),
        column("state", DataType::Text, false),
        column("created_at", DataType::Timestamp, false),
        column("version_hash", DataType::Text, true),
        load_id,
    ];
    if with_dlt_id {
        let mut id = column(ROW_KEY, DataType::Text, false);
        id.precision = Some(64);
        id.unique = true;
        id.row_key = true;
        columns.push(id);
    }
    dlt_table(PIPELINE_STATE_TABLE, columns, Some(WriteDisposition::Append))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(t: &Table) -> Vec<&str> {
        t.columns.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn column_order_is_dlts() {
        assert_eq!(
            names(&version_table()),
            [
                "version",
                "engine_version",
                "inserted_at",
                "schema_name",
                "version_hash",
                "schema"
            ]
        );
        assert_eq!(
            names(&loads_table()),
            [
                "load_id",
                "schema_name",
                "status",
                "inserted_at",
                "schema_version_hash"
            ]
        );
        assert_eq!(
            names(&pipeline_state_table(true)),
            [
                "version",
                "engine_version",
                "pipeline_name",
                "state",
                "created_at",
                "version_hash",
                "_dlt_load_id",
                "_dlt_id"
            ]
        );
        assert_eq!(pipeline_state_table(false).columns.len(), 7);
    }

    #[test]
    fn nullability_is_dlts() {
        let loads = loads_table();
        let nullable: Vec<&str> = loads
            .columns
            .iter()
            .filter(|c| c.nullable)
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(nullable, ["schema_name", "schema_version_hash"]);
        assert!(version_table().columns.iter().all(|c| !c.nullable));
        assert!(is_dlt_table("_dlt_loads") && !is_dlt_table("users"));
    }
}
