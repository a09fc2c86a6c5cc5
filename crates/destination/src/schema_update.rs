//! Schema evolution planned once for every SQL destination: compare the dlt schema with the tables the
//! destination already has and emit only additive DDL, as dlt does (`_build_schema_update_sql`):
//! `CREATE TABLE` for new tables (`IF NOT EXISTS` for dlt's own), `ALTER TABLE ... ADD COLUMN` for new
//! columns. Types are never changed and nothing is dropped; type changes arrive as variant columns.

use std::collections::{BTreeMap, HashSet};

use package::schema::{Column, Schema, Table};

use crate::capabilities::Capabilities;
use crate::dialect::{SqlDialect, SqlError};
use crate::dlt_tables::{LOADS_TABLE, VERSION_TABLE, is_dlt_table, loads_table, version_table};

/// A column as the destination reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageColumn {
    /// The column name as stored (after the destination's case folding).
    pub name: String,
    /// The destination's type name (`BIGINT`, `TIMESTAMP WITH TIME ZONE`, `numeric`...).
    pub data_type: String,
    /// Whether the column accepts NULL.
    pub nullable: bool,
}

/// The tables a dataset already has, with their columns in order, keyed by stored table name.
pub type StorageTables = BTreeMap<String, Vec<StorageColumn>>;

/// What a schema update changed at the destination.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaUpdate {
    /// Tables created, in creation order.
    pub new_tables: Vec<String>,
    /// Columns added to existing tables, as (table, column).
    pub new_columns: Vec<(String, String)>,
    /// Whether a new `_dlt_version` row was written (the schema hash was new to the destination).
    pub stored_version: bool,
}

impl SchemaUpdate {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.new_tables.is_empty() && self.new_columns.is_empty() && !self.stored_version
    }
}

/// DDL statements to run (in order, in one transaction where DDL is transactional) and the update they
/// make.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaUpdatePlan {
    /// The statements.
    pub statements: Vec<String>,
    /// What they change.
    pub update: SchemaUpdate,
}

const DISPLAY_LIMIT: usize = 80;

fn display_name(name: &str) -> String {
    if name.chars().count() <= DISPLAY_LIMIT {
        name.to_string()
    } else {
        let head: String = name.chars().take(DISPLAY_LIMIT).collect();
        format!("{head}… ({} bytes)", name.len())
    }
}

/// Checks that `name` can be a table (`is_column` false) or column name at a destination with `caps`:
/// not empty, no NUL, not longer than the destination allows (in UTF-8 bytes). Names are refused rather
/// than truncated by the server, which would silently merge different columns.
pub fn validate_identifier(caps: &Capabilities, name: &str, is_column: bool) -> Result<(), SqlError> {
    let invalid = |reason: String| SqlError::InvalidIdentifier {
        name: display_name(name),
        reason,
    };
    if name.is_empty() {
        return Err(invalid("is empty".to_string()));
    }
    if name.contains('\0') {
        return Err(invalid("contains a NUL character".to_string()));
    }
    let limit = if is_column {
        caps.max_column_identifier_length
    } else {
        caps.max_identifier_length
    };
    if name.len() > limit {
        return Err(invalid(format!(
            "is {} bytes long; the destination allows {limit} (shorten it in the schema's naming)",
            name.len()
        )));
    }
    Ok(())
}

/// Checks every table and column name of `table`, and that no two columns fold to the same stored name.
pub fn validate_table(dialect: &dyn SqlDialect, caps: &Capabilities, table: &Table) -> Result<(), SqlError> {
    validate_identifier(caps, &table.name, false)?;
    let mut seen = HashSet::new();
    for column in &table.columns {
        validate_identifier(caps, &column.name, true)?;
        if !seen.insert(dialect.fold_identifier(&column.name)) {
            return Err(SqlError::InvalidIdentifier {
                name: display_name(&column.name),
                reason: format!(
                    "collides with another column of table {:?} at the destination",
                    table.name
                ),
            });
        }
    }
    Ok(())
}

/// The tables a schema update must have at the destination, in creation order: `_dlt_version` and
/// `_dlt_loads` as dlt defines them (a schema's own copies are ignored), then the schema's tables that
/// have columns.
pub fn tables_to_store(schema: &Schema) -> Vec<Table> {
    let mut tables = vec![version_table(), loads_table()];
    tables.extend(
        schema
            .tables
            .iter()
            .filter(|t| t.name != VERSION_TABLE && t.name != LOADS_TABLE && !t.columns.is_empty())
            .cloned(),
    );
    tables
}

/// Plans the DDL that brings `dataset` from `existing` to `schema`: creates missing tables, adds missing
/// columns (one `ALTER TABLE` per column unless [`Capabilities::alter_add_multi_column`]). Stored names
/// are compared after the dialect's case folding. Validates every identifier first.
pub fn plan_schema_update(
    dialect: &dyn SqlDialect,
    caps: &Capabilities,
    dataset: &str,
    schema: &Schema,
    existing: &StorageTables,
) -> Result<SchemaUpdatePlan, SqlError> {
    validate_identifier(caps, dataset, false)?;
    let tables = tables_to_store(schema);
    for table in &tables {
        validate_table(dialect, caps, table)?;
    }
    let mut plan = SchemaUpdatePlan::default();
    for table in &tables {
        match existing.get(&dialect.fold_identifier(&table.name)) {
            None => {
                plan.statements
                    .push(dialect.create_table_sql(dataset, table, is_dlt_table(&table.name))?);
                plan.update.new_tables.push(table.name.clone());
            }
            Some(stored) => {
                let stored: HashSet<&str> = stored.iter().map(|c| c.name.as_str()).collect();
                let missing: Vec<&Column> = table
                    .columns
                    .iter()
                    .filter(|c| !stored.contains(dialect.fold_identifier(&c.name).as_str()))
                    .collect();
                if missing.is_empty() {
                    continue;
                }
                if caps.alter_add_multi_column {
                    plan.statements
                        .push(dialect.add_columns_sql(dataset, &table.name, &missing)?);
                } else {
                    for column in &missing {
                        plan.statements
                            .push(dialect.add_columns_sql(dataset, &table.name, &[column])?);
                    }
                }
                plan.update
                    .new_columns
                    .extend(missing.iter().map(|c| (table.name.clone(), c.name.clone())));
            }
        }
    }
    Ok(plan)
}
