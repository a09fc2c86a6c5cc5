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
//!
//! The driver is sans-I/O, so blocking (DuckDB) and async (PostgreSQL) clients share it: it hands out
//! the statements, the client runs them in its transactions.
//!
//! * `load_job`, in the job's transaction: skip when [`select_mark_sql`] finds the job (or the load is
//!   in `_dlt_loads`); for a `replace`/`merge` chain without its mark in this load run
//!   [`stage_chain_sql`]; copy the rows (into staging for staged chains); run [`insert_mark_sql`] for
//!   the job.
//! * `complete_load`, in one transaction: return when the load is in `_dlt_loads`; read
//!   [`select_staged_sql`]; run [`complete_load_sql`] with its rows.

use package::schema::{Column, DataType, Schema};

use crate::chain::stored_chain;
use crate::client::{QueryResult, cell_text};
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
    /// The kind stored as `kind`, if it is one.
    pub fn parse(kind: &str) -> Option<MarkKind> {
        [MarkKind::Job, MarkKind::Replace, MarkKind::Merge]
            .into_iter()
            .find(|k| k.as_str() == kind)
    }

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

/// The statements that stage the chain of root table `root` for load `load_id` (kind `Replace` or
/// `Merge`): each table of the chain dropped and created again in the staging dataset, then the mark.
/// Run in the transaction of the chain's first job in the load (when [`select_mark_sql`] finds no
/// mark), so a retried job does not empty the staged rows again.
pub fn stage_chain_sql(
    dialect: &dyn SqlDialect,
    staging: &str,
    schema: &Schema,
    load_id: &str,
    kind: MarkKind,
    root: &str,
) -> Result<Vec<String>, SqlError> {
    let mut sql = Vec::new();
    for table in stored_chain(schema, root) {
        sql.push(dialect.drop_table_sql(staging, &table.name));
        sql.push(dialect.create_table_sql(staging, table, false)?);
    }
    sql.push(insert_mark_sql(dialect, staging, load_id, kind, root));
    Ok(sql)
}

/// Selects `kind` and `name` of the load's `replace` and `merge` marks (the staged chains), in the
/// order they were written.
pub fn select_staged_sql(dialect: &dyn SqlDialect, staging: &str, load_id: &str) -> String {
    format!(
        "SELECT {} FROM {} WHERE {} = {} AND {} IN ({}, {}) ORDER BY {}, {}",
        dialect.column_list(&["kind", "name"]),
        dialect.qualified_table(staging, LOAD_JOBS_TABLE),
        dialect.quote_identifier("load_id"),
        dialect.quote_literal(load_id),
        dialect.quote_identifier("kind"),
        dialect.quote_literal(MarkKind::Replace.as_str()),
        dialect.quote_literal(MarkKind::Merge.as_str()),
        dialect.quote_identifier("inserted_at"),
        dialect.quote_identifier("name"),
    )
}

/// Where a load completes.
#[derive(Debug, Clone, Copy)]
pub struct CompleteLoad<'a> {
    /// The dataset.
    pub dataset: &'a str,
    /// The staging dataset.
    pub staging: &'a str,
    /// The load.
    pub load_id: &'a str,
    /// The schema of the load (chains, keys).
    pub schema: &'a Schema,
    /// The schema name written to `_dlt_loads`.
    pub schema_name: &'a str,
    /// The schema version hash written to `_dlt_loads`.
    pub schema_hash: &'a str,
    /// Empty replace tables with `TRUNCATE` (not MVCC-safe on some databases) instead of `DELETE`.
    pub use_truncate: bool,
}

/// What `complete_load` runs in its one transaction, given the rows of [`select_staged_sql`]: each
/// staged `replace` chain replaced from staging (dlt's `insert-from-staging`), each `merge` chain
/// merged by delete-insert, the `_dlt_loads` row, and the load's marks deleted.
pub fn complete_load_sql(
    dialect: &dyn SqlDialect,
    load: CompleteLoad<'_>,
    staged: &QueryResult,
) -> Result<Vec<String>, SqlError> {
    let mut sql = Vec::new();
    for row in &staged.rows {
        let cell = |i: usize| row.get(i).map(cell_text).unwrap_or_default();
        let (kind, root) = (cell(0), cell(1));
        let chain = stored_chain(load.schema, &root);
        if chain.is_empty() {
            return Err(SqlError::NoColumns { table: root });
        }
        match MarkKind::parse(&kind) {
            Some(MarkKind::Replace) => sql.extend(dialect.replace_from_staging_sql(
                load.dataset,
                load.staging,
                &chain,
                load.use_truncate,
            )),
            Some(MarkKind::Merge) => {
                sql.extend(dialect.merge_delete_insert_sql(load.dataset, load.staging, &chain)?)
            }
            Some(MarkKind::Job) | None => {}
        }
    }
    sql.push(dialect.insert_load_sql(load.dataset, load.load_id, load.schema_name, load.schema_hash));
    sql.push(delete_load_sql(dialect, load.staging, load.load_id));
    Ok(sql)
}

#[cfg(test)]
mod tests {
    use package::schema::{Table, WriteDisposition};
    use serde_json::json;

    use super::*;
    use crate::dialect::AnsiDialect;

    fn col(name: &str, data_type: DataType) -> Column {
        Column {
            name: name.into(),
            data_type,
            nullable: true,
            ..Column::default()
        }
    }

    fn schema() -> Schema {
        let mut id = col("id", DataType::Bigint);
        id.primary_key = true;
        let mut row_key = col("_dlt_id", DataType::Text);
        row_key.row_key = true;
        let mut root_key = col("_dlt_root_id", DataType::Text);
        root_key.root_key = true;
        let mut parent_key = col("_dlt_parent_id", DataType::Text);
        parent_key.parent_key = true;
        let root = |name: &str, d| Table {
            name: name.into(),
            columns: vec![id.clone(), row_key.clone()],
            write_disposition: Some(d),
            resource: Some(name.into()),
            ..Table::default()
        };
        Schema {
            name: "s".into(),
            version_hash: "h1".into(),
            tables: vec![
                root("users", WriteDisposition::Replace),
                Table {
                    name: "users__roles".into(),
                    columns: vec![
                        col("value", DataType::Text),
                        row_key.clone(),
                        parent_key,
                        root_key,
                    ],
                    parent: Some("users".into()),
                    ..Table::default()
                },
                Table {
                    name: "users__never".into(),
                    parent: Some("users".into()),
                    ..Table::default()
                },
                root("looks", WriteDisposition::Merge),
            ],
            ..Schema::default()
        }
    }

    #[test]
    fn staging_a_chain_recreates_its_stored_tables_then_marks() {
        let sc = schema();
        let sql = stage_chain_sql(&AnsiDialect, "ds_staging", &sc, "1.1", MarkKind::Replace, "users");
        let sql = sql.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sql.len(), 5, "{sql:#?}");
        assert!(
            sql[0].starts_with("DROP TABLE IF EXISTS \"ds_staging\".\"users\""),
            "{}",
            sql[0]
        );
        assert!(
            sql[1].starts_with("CREATE TABLE \"ds_staging\".\"users\""),
            "{}",
            sql[1]
        );
        assert!(sql[3].contains("\"users__roles\""), "{}", sql[3]);
        assert!(
            !sql.iter().any(|s| s.contains("users__never")),
            "tables without columns are skipped"
        );
        assert!(sql[4].starts_with("INSERT INTO \"ds_staging\".\"_dlt_load_jobs\""));
        assert!(sql[4].contains("'replace', 'users'"), "{}", sql[4]);
    }

    #[test]
    fn completing_replaces_merges_then_commits() {
        let sc = schema();
        let staged = QueryResult {
            columns: vec!["kind".into(), "name".into()],
            rows: vec![
                vec![json!("replace"), json!("users")],
                vec![json!("merge"), json!("looks")],
            ],
        };
        let load = CompleteLoad {
            dataset: "ds",
            staging: "ds_staging",
            load_id: "1.1",
            schema: &sc,
            schema_name: "s",
            schema_hash: "h1",
            use_truncate: false,
        };
        let sql = complete_load_sql(&AnsiDialect, load, &staged).unwrap_or_else(|e| panic!("{e}"));
        let first_insert = sql
            .iter()
            .position(|s| s.starts_with("INSERT INTO \"ds\".\"users\""));
        assert!(sql[0].starts_with("DELETE FROM \"ds\".\"users\""), "{sql:#?}");
        assert!(
            first_insert.is_some_and(|i| i > 1),
            "both tables emptied before refilling: {sql:#?}"
        );
        assert!(
            sql.iter().any(|s| s.contains("\"ds\".\"looks\"")),
            "the merge runs: {sql:#?}"
        );
        let n = sql.len();
        assert!(
            sql[n - 2].starts_with("INSERT INTO \"ds\".\"_dlt_loads\""),
            "{}",
            sql[n - 2]
        );
        assert!(sql[n - 2].contains("'h1'"), "{}", sql[n - 2]);
        assert!(sql[n - 1].starts_with("DELETE FROM \"ds_staging\".\"_dlt_load_jobs\""));

        let unknown = QueryResult {
            columns: staged.columns.clone(),
            rows: vec![vec![json!("merge"), json!("gone")]],
        };
        assert_eq!(
            complete_load_sql(&AnsiDialect, load, &unknown).err(),
            Some(SqlError::NoColumns { table: "gone".into() })
        );
    }
}
