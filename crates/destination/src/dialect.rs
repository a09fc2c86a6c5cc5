//! The shared SQL layer: a [`SqlDialect`] with two required methods (identifier quoting and type mapping)
//! and defaulted hooks for every statement the loader runs. A destination overrides only what differs
//! from the defaults, which are ANSI SQL as PostgreSQL and DuckDB accept it.
//!
//! Identifiers always go through [`SqlDialect::quote_identifier`] and values through
//! [`SqlDialect::quote_literal`]; no hook pastes a raw name or value into SQL.

use package::schema::{Column, DataType, Schema, Table};

use crate::chain::{root_key_column, row_key_column};
use crate::dlt_tables::{
    LOAD_STATUS_COMPLETED, LOADS_TABLE, PIPELINE_STATE_TABLE, VERSION_TABLE, loads_table, version_table,
};

/// An error building SQL: the input cannot be expressed at this destination. Destination crates turn it
/// into a terminal [`crate::DestinationError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SqlError {
    /// The column's dlt type (with its precision or timezone hints) has no type at the destination.
    #[error("column {column:?}: {data_type} {reason}")]
    UnsupportedType {
        /// The column name.
        column: String,
        /// The dlt data type name.
        data_type: &'static str,
        /// Why it cannot be mapped.
        reason: String,
    },
    /// A table, column or dataset name the destination cannot hold.
    #[error("identifier {name:?} {reason}")]
    InvalidIdentifier {
        /// The offending name (shortened for display when very long).
        name: String,
        /// Why it is refused.
        reason: String,
    },
    /// A table lacks a key column the operation needs.
    #[error("table {table:?} has no {key} column")]
    MissingKey {
        /// The table.
        table: String,
        /// The key that is missing.
        key: &'static str,
    },
    /// A table has no columns, so no table can be created.
    #[error("table {table:?} has no columns")]
    NoColumns {
        /// The table.
        table: String,
    },
}

/// Quotes `name` with `quote` (a double quote for ANSI, a backtick for BigQuery), doubling every
/// embedded quote character. NUL, which no SQL destination accepts in a name and which would end the
/// statement early in C drivers, becomes U+FFFD.
pub fn quote_identifier_with(name: &str, quote: char) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push(quote);
    for ch in name.chars() {
        match ch {
            c if c == quote => {
                out.push(quote);
                out.push(quote);
            }
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// A standard SQL string literal: single quotes, embedded single quotes doubled, nothing else escaped
/// (backslashes are ordinary characters with PostgreSQL's `standard_conforming_strings` and in DuckDB).
/// NUL becomes U+FFFD, as in [`quote_identifier_with`].
pub fn quote_literal_standard(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for ch in value.chars() {
        match ch {
            '\'' => out.push_str("''"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Integer type of a dlt `bigint` column by its precision in bits (dlt's `to_db_integer_type`).
/// `None` precision means 64 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegerWidth {
    /// Up to 8 bits.
    Tiny,
    /// Up to 16 bits.
    Small,
    /// Up to 32 bits.
    Int,
    /// Up to 64 bits (the default).
    Big,
    /// Up to 128 bits.
    Huge,
}

impl IntegerWidth {
    /// The width for a `bigint` column's `precision` hint; `None` above 128 bits.
    pub fn of(column: &Column) -> Option<IntegerWidth> {
        match column.precision {
            None => Some(IntegerWidth::Big),
            Some(p) if p <= 8 => Some(IntegerWidth::Tiny),
            Some(p) if p <= 16 => Some(IntegerWidth::Small),
            Some(p) if p <= 32 => Some(IntegerWidth::Int),
            Some(p) if p <= 64 => Some(IntegerWidth::Big),
            Some(p) if p <= 128 => Some(IntegerWidth::Huge),
            Some(_) => None,
        }
    }
}

fn unsupported(column: &Column, reason: impl Into<String>) -> SqlError {
    SqlError::UnsupportedType {
        column: column.name.clone(),
        data_type: column.data_type.as_str(),
        reason: reason.into(),
    }
}

/// SQL generation for one destination. Two methods are required; every other hook has an ANSI default.
///
/// Statement hooks take the dataset (schema) and table names unquoted and quote them themselves.
pub trait SqlDialect: Send + Sync {
    /// `name` as a quoted identifier: embedded quote characters escaped, case folded as the destination
    /// requires ([`crate::CaseFolding`]). Must never return the name unquoted.
    fn quote_identifier(&self, name: &str) -> String;

    /// The destination type of a dlt column (dlt's TypeMapper; see `BEHAVIOUR.md` §2), from its data
    /// type, `precision`, `scale` and `timezone` hints.
    fn column_type(&self, column: &Column) -> Result<String, SqlError>;

    /// `name` as the destination stores it (its case folding), for comparing with catalog queries.
    fn fold_identifier(&self, name: &str) -> String {
        name.to_string()
    }

    /// A string literal holding `value`.
    fn quote_literal(&self, value: &str) -> String {
        quote_literal_standard(value)
    }

    /// The dataset (schema) as it appears in qualified names.
    fn qualified_dataset(&self, dataset: &str) -> String {
        self.quote_identifier(dataset)
    }

    /// `dataset.table`, both quoted.
    fn qualified_table(&self, dataset: &str, table: &str) -> String {
        format!(
            "{}.{}",
            self.qualified_dataset(dataset),
            self.quote_identifier(table)
        )
    }

    /// `CREATE SCHEMA IF NOT EXISTS`.
    fn create_dataset_sql(&self, dataset: &str) -> String {
        format!("CREATE SCHEMA IF NOT EXISTS {}", self.qualified_dataset(dataset))
    }

    /// `DROP SCHEMA ... CASCADE`: the dataset and everything in it.
    fn drop_dataset_sql(&self, dataset: &str) -> String {
        format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            self.qualified_dataset(dataset)
        )
    }

    /// One column definition. `NOT NULL` is emitted only in `CREATE TABLE` (`in_create`) for non-nullable
    /// columns: a column added to a table with rows must accept NULL (as dlt does).
    fn column_definition_sql(&self, column: &Column, in_create: bool) -> Result<String, SqlError> {
        let mut def = format!(
            "{} {}",
            self.quote_identifier(&column.name),
            self.column_type(column)?
        );
        if in_create && !column.nullable {
            def.push_str(" NOT NULL");
        }
        Ok(def)
    }

    /// `CREATE TABLE` with every column of `table`; `if_not_exists` for dlt's own tables.
    fn create_table_sql(
        &self,
        dataset: &str,
        table: &Table,
        if_not_exists: bool,
    ) -> Result<String, SqlError> {
        if table.columns.is_empty() {
            return Err(SqlError::NoColumns {
                table: table.name.clone(),
            });
        }
        let columns = table
            .columns
            .iter()
            .map(|c| self.column_definition_sql(c, true))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(format!(
            "CREATE TABLE {}{} ({})",
            if if_not_exists { "IF NOT EXISTS " } else { "" },
            self.qualified_table(dataset, &table.name),
            columns.join(", ")
        ))
    }

    /// One `ALTER TABLE` adding `columns` (nullable). Callers split into one statement per column when
    /// the destination cannot add several at once ([`crate::Capabilities::alter_add_multi_column`]).
    fn add_columns_sql(&self, dataset: &str, table: &str, columns: &[&Column]) -> Result<String, SqlError> {
        let adds = columns
            .iter()
            .map(|c| Ok(format!("ADD COLUMN {}", self.column_definition_sql(c, false)?)))
            .collect::<Result<Vec<_>, SqlError>>()?;
        Ok(format!(
            "ALTER TABLE {} {}",
            self.qualified_table(dataset, table),
            adds.join(", ")
        ))
    }

    /// `DROP TABLE IF EXISTS`.
    fn drop_table_sql(&self, dataset: &str, table: &str) -> String {
        format!("DROP TABLE IF EXISTS {}", self.qualified_table(dataset, table))
    }

    /// Empties a table: `TRUNCATE TABLE`, or `DELETE FROM` where `use_truncate` is false
    /// ([`crate::Capabilities::supports_truncate_command`]).
    fn truncate_table_sql(&self, dataset: &str, table: &str, use_truncate: bool) -> String {
        let name = self.qualified_table(dataset, table);
        if use_truncate {
            format!("TRUNCATE TABLE {name}")
        } else {
            format!("DELETE FROM {name}")
        }
    }

    /// `INSERT INTO target (columns) SELECT columns FROM source [WHERE condition]`.
    fn insert_from_select_sql(
        &self,
        target: (&str, &str),
        source: (&str, &str),
        columns: &[&str],
        condition: Option<&str>,
    ) -> String {
        let cols = self.column_list(columns);
        let mut sql = format!(
            "INSERT INTO {} ({cols}) SELECT {cols} FROM {}",
            self.qualified_table(target.0, target.1),
            self.qualified_table(source.0, source.1)
        );
        if let Some(condition) = condition {
            sql.push_str(" WHERE ");
            sql.push_str(condition);
        }
        sql
    }

    /// Quoted, comma-separated column names.
    fn column_list(&self, columns: &[&str]) -> String {
        columns
            .iter()
            .map(|c| self.quote_identifier(c))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The `ORDER BY` of merge deduplication when no sort column is hinted: any row per key.
    fn dedup_order_by_sql(&self) -> String {
        "(SELECT NULL)".to_string()
    }

    /// `SELECT select_columns` from `source`, one row per `keys` (the first by
    /// [`SqlDialect::dedup_order_by_sql`]), with `ROW_NUMBER()`.
    fn select_deduplicated_sql(
        &self,
        source: &str,
        keys: &[&str],
        all_columns: &[&str],
        select: &[&str],
    ) -> String {
        format!(
            "SELECT {} FROM (SELECT ROW_NUMBER() OVER (PARTITION BY {} ORDER BY {}) AS _dlt_dedup_rn, {} FROM {source}) AS _dlt_dedup_numbered WHERE _dlt_dedup_rn = 1",
            self.column_list(select),
            self.column_list(keys),
            self.dedup_order_by_sql(),
            self.column_list(all_columns),
        )
    }

    /// dlt's `delete-insert` merge of a table chain (root first) from `staging` into `dataset`, to run in
    /// one transaction:
    ///
    /// 1. delete nested rows whose `_dlt_root_id` belongs to a destination root row with a key (primary
    ///    or merge key) present in staging, then those root rows;
    /// 2. insert the staged root rows, deduplicated by primary key with `ROW_NUMBER()`, and the staged
    ///    nested rows of the root rows kept.
    ///
    /// Without primary and merge keys it is an append from staging (as in dlt). Nested tables need a
    /// root key column when the root has keys.
    fn merge_delete_insert_sql(
        &self,
        dataset: &str,
        staging: &str,
        chain: &[&Table],
    ) -> Result<Vec<String>, SqlError> {
        let Some(root) = chain.first() else {
            return Ok(Vec::new());
        };
        let primary: Vec<&str> = root
            .columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| c.name.as_str())
            .collect();
        let merge: Vec<&str> = root
            .columns
            .iter()
            .filter(|c| c.merge_key)
            .map(|c| c.name.as_str())
            .collect();
        let mut sql = Vec::new();
        let root_dest = self.qualified_table(dataset, &root.name);
        let root_stage = self.qualified_table(staging, &root.name);
        let names = |t: &Table| t.columns.iter().map(|c| c.name.clone()).collect::<Vec<String>>();

        if primary.is_empty() && merge.is_empty() {
            for table in chain {
                let cols = names(table);
                let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
                sql.push(self.insert_from_select_sql(
                    (dataset, &table.name),
                    (staging, &table.name),
                    &cols,
                    None,
                ));
            }
            return Ok(sql);
        }

        let key_match = |keys: &[&str]| {
            keys.iter()
                .map(|k| {
                    let k = self.quote_identifier(k);
                    format!("d.{k} = s.{k}")
                })
                .collect::<Vec<_>>()
                .join(" AND ")
        };
        let clauses: Vec<String> = [&primary, &merge]
            .into_iter()
            .filter(|k| !k.is_empty())
            .map(|k| key_match(k))
            .collect();
        let exists = format!(
            "EXISTS (SELECT 1 FROM {root_stage} AS s WHERE {})",
            clauses.join(" OR ")
        );

        let row_key = if chain.len() > 1 {
            Some(row_key_column(root)?)
        } else {
            None
        };
        if let Some(row_key) = row_key {
            let row_key_q = self.quote_identifier(row_key);
            for table in &chain[1..] {
                let root_key = self.quote_identifier(root_key_column(table)?);
                sql.push(format!(
                    "DELETE FROM {} WHERE {root_key} IN (SELECT d.{row_key_q} FROM {root_dest} AS d WHERE {exists})",
                    self.qualified_table(dataset, &table.name)
                ));
            }
        }
        sql.push(format!("DELETE FROM {root_dest} AS d WHERE {exists}"));

        let root_cols = names(root);
        let root_cols: Vec<&str> = root_cols.iter().map(String::as_str).collect();
        if primary.is_empty() {
            // Merge key only: replace the key's rows with everything staged, no deduplication.
            for table in chain {
                let cols = names(table);
                let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
                sql.push(self.insert_from_select_sql(
                    (dataset, &table.name),
                    (staging, &table.name),
                    &cols,
                    None,
                ));
            }
            return Ok(sql);
        }
        sql.push(format!(
            "INSERT INTO {root_dest} ({}) {}",
            self.column_list(&root_cols),
            self.select_deduplicated_sql(&root_stage, &primary, &root_cols, &root_cols)
        ));
        if let Some(row_key) = row_key {
            let kept_roots = self.select_deduplicated_sql(&root_stage, &primary, &[row_key], &[row_key]);
            for table in &chain[1..] {
                let root_key = self.quote_identifier(root_key_column(table)?);
                let cols = names(table);
                let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
                let condition = format!("{root_key} IN ({kept_roots})");
                sql.push(self.insert_from_select_sql(
                    (dataset, &table.name),
                    (staging, &table.name),
                    &cols,
                    Some(&condition),
                ));
            }
        }
        Ok(sql)
    }

    /// dlt's `insert-from-staging` replace of a table chain, to run in one transaction: empty each
    /// destination table, then copy the staged rows.
    fn replace_from_staging_sql(
        &self,
        dataset: &str,
        staging: &str,
        chain: &[&Table],
        use_truncate: bool,
    ) -> Vec<String> {
        let mut sql = Vec::new();
        for table in chain {
            sql.push(self.truncate_table_sql(dataset, &table.name, use_truncate));
        }
        for table in chain {
            let cols: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
            sql.push(self.insert_from_select_sql(
                (dataset, &table.name),
                (staging, &table.name),
                &cols,
                None,
            ));
        }
        sql
    }

    /// The current time as a timestamp-with-time-zone expression.
    fn current_timestamp_sql(&self) -> String {
        "CURRENT_TIMESTAMP".to_string()
    }

    /// `select` limited to `n` rows.
    fn limit_sql(&self, select: &str, n: u64) -> String {
        format!("{select} LIMIT {n}")
    }

    /// `CREATE TABLE IF NOT EXISTS _dlt_loads (...)`.
    fn create_loads_table_sql(&self, dataset: &str) -> Result<String, SqlError> {
        self.create_table_sql(dataset, &loads_table(), true)
    }

    /// `CREATE TABLE IF NOT EXISTS _dlt_version (...)`.
    fn create_version_table_sql(&self, dataset: &str) -> Result<String, SqlError> {
        self.create_table_sql(dataset, &version_table(), true)
    }

    /// The `_dlt_loads` row that completes a load (status 0), written last.
    fn insert_load_sql(&self, dataset: &str, load_id: &str, schema_name: &str, schema_hash: &str) -> String {
        format!(
            "INSERT INTO {} ({}) VALUES ({}, {}, {LOAD_STATUS_COMPLETED}, {}, {})",
            self.qualified_table(dataset, LOADS_TABLE),
            self.column_list(&[
                "load_id",
                "schema_name",
                "status",
                "inserted_at",
                "schema_version_hash"
            ]),
            self.quote_literal(load_id),
            self.quote_literal(schema_name),
            self.current_timestamp_sql(),
            self.quote_literal(schema_hash),
        )
    }

    /// Whether a load completed: selects its `_dlt_loads` rows.
    fn select_load_sql(&self, dataset: &str, load_id: &str) -> String {
        format!(
            "SELECT {} FROM {} WHERE {} = {}",
            self.column_list(&["load_id", "status"]),
            self.qualified_table(dataset, LOADS_TABLE),
            self.quote_identifier("load_id"),
            self.quote_literal(load_id)
        )
    }

    /// The `_dlt_version` row of `schema`, whose full JSON is `schema_json`.
    fn insert_version_sql(&self, dataset: &str, schema: &Schema, schema_json: &str) -> String {
        format!(
            "INSERT INTO {} ({}) VALUES ({}, {}, {}, {}, {}, {})",
            self.qualified_table(dataset, VERSION_TABLE),
            self.column_list(&[
                "version",
                "engine_version",
                "inserted_at",
                "schema_name",
                "version_hash",
                "schema"
            ]),
            schema.version,
            schema.engine_version,
            self.current_timestamp_sql(),
            self.quote_literal(&schema.name),
            self.quote_literal(&schema.version_hash),
            self.quote_literal(schema_json),
        )
    }

    /// `_dlt_version` columns, newest row first: of schema `schema_name`, or (with `version_hash`) the
    /// row of that hash.
    fn select_stored_schema_sql(
        &self,
        dataset: &str,
        schema_name: Option<&str>,
        version_hash: Option<&str>,
    ) -> String {
        let mut conditions = Vec::new();
        if let Some(name) = schema_name {
            conditions.push(format!(
                "{} = {}",
                self.quote_identifier("schema_name"),
                self.quote_literal(name)
            ));
        }
        if let Some(hash) = version_hash {
            conditions.push(format!(
                "{} = {}",
                self.quote_identifier("version_hash"),
                self.quote_literal(hash)
            ));
        }
        let mut sql = format!(
            "SELECT {} FROM {}",
            self.column_list(&[
                "version",
                "engine_version",
                "inserted_at",
                "schema_name",
                "version_hash",
                "schema"
            ]),
            self.qualified_table(dataset, VERSION_TABLE),
        );
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(&format!(
            " ORDER BY {} DESC",
            self.quote_identifier("inserted_at")
        ));
        self.limit_sql(&sql, 1)
    }

    /// The newest `_dlt_pipeline_state` row of `pipeline_name` whose load completed (status 0), by
    /// load id (dlt's `get_stored_state`).
    fn select_stored_state_sql(&self, dataset: &str, pipeline_name: &str) -> String {
        let q = |c: &str| self.quote_identifier(c);
        let columns = [
            "version",
            "engine_version",
            "pipeline_name",
            "state",
            "created_at",
            "version_hash",
            "_dlt_load_id",
        ]
        .iter()
        .map(|c| format!("s.{}", q(c)))
        .collect::<Vec<_>>()
        .join(", ");
        let sql = format!(
            "SELECT {columns} FROM {} AS s JOIN {} AS l ON l.{} = s.{} WHERE s.{} = {} AND l.{} = {LOAD_STATUS_COMPLETED} ORDER BY l.{} DESC",
            self.qualified_table(dataset, PIPELINE_STATE_TABLE),
            self.qualified_table(dataset, LOADS_TABLE),
            q("load_id"),
            q("_dlt_load_id"),
            q("pipeline_name"),
            self.quote_literal(pipeline_name),
            q("status"),
            q("load_id"),
        );
        self.limit_sql(&sql, 1)
    }

    /// The columns of every table in `dataset`: `table_name, column_name, data_type, is_nullable`
    /// from `information_schema.columns`, in table and column order.
    fn select_storage_columns_sql(&self, dataset: &str) -> String {
        format!(
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = {} ORDER BY table_name, ordinal_position",
            self.quote_literal(&self.fold_identifier(dataset))
        )
    }
}

/// A plain ANSI dialect with PostgreSQL's type names: the defaults of [`SqlDialect`] with nothing
/// overridden. Used to test the shared SQL layer and as a reference for new destinations.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnsiDialect;

impl AnsiDialect {
    /// Default (precision, scale) of `decimal` (dlt's 38, 9).
    pub const DECIMAL_PRECISION: (u32, u32) = (38, 9);
    /// Default (precision, scale) of `wei` (PostgreSQL's 2×78, 78 in dlt).
    pub const WEI_PRECISION: (u32, u32) = (156, 78);
    /// Largest fractional-second digits of `timestamp` and `time`.
    pub const MAX_TIMESTAMP_PRECISION: u32 = 6;
}

impl SqlDialect for AnsiDialect {
    fn quote_identifier(&self, name: &str) -> String {
        quote_identifier_with(name, '"')
    }

    fn column_type(&self, column: &Column) -> Result<String, SqlError> {
        let fractional = |column: &Column| match column.precision {
            Some(p) if p > Self::MAX_TIMESTAMP_PRECISION => Err(unsupported(
                column,
                format!("precision {p} exceeds {}", Self::MAX_TIMESTAMP_PRECISION),
            )),
            Some(p) => Ok(format!(" ({p})")),
            None => Ok(String::new()),
        };
        Ok(match column.data_type {
            DataType::Text => match column.precision {
                Some(n) => format!("varchar({n})"),
                None => "varchar".to_string(),
            },
            DataType::Double => "double precision".to_string(),
            DataType::Bool => "boolean".to_string(),
            DataType::Bigint => match IntegerWidth::of(column) {
                Some(IntegerWidth::Tiny | IntegerWidth::Small) => "smallint".to_string(),
                Some(IntegerWidth::Int) => "integer".to_string(),
                Some(IntegerWidth::Big) => "bigint".to_string(),
                _ => return Err(unsupported(column, "wider than 64 bits")),
            },
            DataType::Timestamp => {
                let zone = if column.timezone == Some(false) {
                    "without"
                } else {
                    "with"
                };
                format!("timestamp{} {zone} time zone", fractional(column)?)
            }
            DataType::Time => format!("time{} without time zone", fractional(column)?),
            DataType::Date => "date".to_string(),
            DataType::Decimal | DataType::Wei => {
                let (p, s) = if column.data_type == DataType::Decimal {
                    Self::DECIMAL_PRECISION
                } else {
                    Self::WEI_PRECISION
                };
                format!(
                    "numeric({},{})",
                    column.precision.unwrap_or(p),
                    column.scale.unwrap_or(s)
                )
            }
            DataType::Json => "jsonb".to_string(),
            DataType::Binary => "bytea".to_string(),
        })
    }
}
