//! Exactly-once loading for transactional SQL destinations.
//!
//! A small table `_dlt_load_jobs` in the staging dataset records, per load, what has been done:
//!
//! | kind | name | written when |
//! |---|---|---|
//! | `job` | the job id (`<table>.<file_id>`) | in the same transaction that inserts the job's rows |
//! | `replace` | the root table | in the transaction that emptied the table chain for this load |
//! | `merge` | the root table | in the transaction that (re)created the chain's staging tables |
//!
//! A job whose `job` row exists is skipped, so a job retried after a crash between the destination's
//! commit and the package's own bookkeeping loads no duplicate. This works for nested tables, which
//! have no `_dlt_load_id`. A `replace` chain is emptied once per load, by its first job (whichever
//! table it is for), and a retry does not empty it again. `merge` roots are what `complete_load`
//! merges. `complete_load` deletes the load's rows in the transaction that writes `_dlt_loads`; after
//! that the `_dlt_loads` row itself makes any late retry a no-op.
//!
//! The table lives in the staging dataset so the dataset keeps exactly dlt's tables.

use package::schema::{Column, DataType};

use crate::dialect::{SqlDialect, SqlError};

/// The bookkeeping table's name (in the staging dataset).
pub const LOAD_JOBS_TABLE: &str = "_dlt_load_jobs";

/// What a bookkeeping row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MarkKind {
    /// A job's rows are in.
    Job,
    /// A replace chain was emptied for this load.
    Replace,
    /// A merge chain's staging tables were prepared for this load.
    Merge,
}

impl MarkKind {
    /// The value stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            MarkKind::Job => "job",
            MarkKind::Replace => "replace",
            MarkKind::Merge => "merge",
        }
    }
}

/// `CREATE TABLE IF NOT EXISTS` of the bookkeeping table.
pub fn create_table_sql(dialect: &dyn SqlDialect, staging: &str) -> Result<String, SqlError> {
    let text = |name: &str| Column {
        name: name.into(),
        data_type: DataType::Text,
        ..Column::default()
    };
    let columns = [
        text("load_id"),
        text("kind"),
        text("name"),
        Column {
            name: "inserted_at".into(),
            data_type: DataType::Timestamp,
            ..Column::default()
        },
    ];
    let defs = columns
        .iter()
        .map(|c| dialect.column_definition_sql(c, true))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(format!(
        "CREATE TABLE IF NOT EXISTS {} ({}, PRIMARY KEY ({}))",
        dialect.qualified_table(staging, LOAD_JOBS_TABLE),
        defs.join(", "),
        dialect.column_list(&["load_id", "kind", "name"])
    ))
}

fn condition(dialect: &dyn SqlDialect, load_id: &str, kind: MarkKind) -> String {
    format!(
        "{} = {} AND {} = {}",
        dialect.quote_identifier("load_id"),
        dialect.quote_literal(load_id),
        dialect.quote_identifier("kind"),
        dialect.quote_literal(kind.as_str())
    )
}

/// Selects the `name` of every mark of `kind` in load `load_id`, in the order they were written.
pub fn select_marks_sql(dialect: &dyn SqlDialect, staging: &str, load_id: &str, kind: MarkKind) -> String {
    format!(
        "SELECT {} FROM {} WHERE {} ORDER BY {}, {}",
        dialect.quote_identifier("name"),
        dialect.qualified_table(staging, LOAD_JOBS_TABLE),
        condition(dialect, load_id, kind),
        dialect.quote_identifier("inserted_at"),
        dialect.quote_identifier("name"),
    )
}

/// Selects the mark (`kind`, `name`) of load `load_id`: one row if it exists.
pub fn select_mark_sql(
    dialect: &dyn SqlDialect,
    staging: &str,
    load_id: &str,
    kind: MarkKind,
    name: &str,
) -> String {
    format!(
        "SELECT {} FROM {} WHERE {} AND {} = {}",
        dialect.quote_identifier("name"),
        dialect.qualified_table(staging, LOAD_JOBS_TABLE),
        condition(dialect, load_id, kind),
        dialect.quote_identifier("name"),
        dialect.quote_literal(name),
    )
}

/// Writes the mark (`kind`, `name`) of load `load_id`.
pub fn insert_mark_sql(
    dialect: &dyn SqlDialect,
    staging: &str,
    load_id: &str,
    kind: MarkKind,
    name: &str,
) -> String {
    format!(
        "INSERT INTO {} ({}) VALUES ({}, {}, {}, {})",
        dialect.qualified_table(staging, LOAD_JOBS_TABLE),
        dialect.column_list(&["load_id", "kind", "name", "inserted_at"]),
        dialect.quote_literal(load_id),
        dialect.quote_literal(kind.as_str()),
        dialect.quote_literal(name),
        dialect.current_timestamp_sql(),
    )
}

/// Deletes every mark of load `load_id` (run by `complete_load`).
pub fn delete_load_sql(dialect: &dyn SqlDialect, staging: &str, load_id: &str) -> String {
    format!(
        "DELETE FROM {} WHERE {} = {}",
        dialect.qualified_table(staging, LOAD_JOBS_TABLE),
        dialect.quote_identifier("load_id"),
        dialect.quote_literal(load_id)
    )
}
