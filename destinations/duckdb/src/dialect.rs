//! DuckDB's SQL: only what differs from the shared ANSI layer (type names, catalog-qualified names,
//! `DELETE` for truncation, loading Parquet with `read_parquet`).

use destination::dialect::{IntegerWidth, SqlDialect, SqlError, quote_identifier_with};
use package::schema::{Column, DataType};

/// Default (precision, scale) of `decimal` (dlt's 38, 9).
pub const DECIMAL_PRECISION: (u32, u32) = (38, 9);
/// Default (precision, scale) of `wei`: DuckDB decimals stop at 38 digits, so dlt uses (38, 0).
pub const WEI_PRECISION: (u32, u32) = (38, 0);
/// DuckDB's widest DECIMAL.
pub const MAX_DECIMAL_PRECISION: u32 = 38;

/// DuckDB's dialect. With a `catalog`, names are qualified `"catalog"."dataset"."table"`, so a dataset
/// named like the database file (`looker.duckdb` with dataset `looker`) is not ambiguous.
#[derive(Debug, Clone, Default)]
pub struct DuckDbDialect {
    catalog: Option<String>,
}

impl DuckDbDialect {
    /// A dialect qualifying names with `catalog` (the attached database's name), if any.
    pub fn new(catalog: Option<String>) -> Self {
        DuckDbDialect { catalog }
    }

    /// `INSERT INTO <table> BY NAME SELECT * FROM read_parquet('<file>', union_by_name=true)`: loads a
    /// Parquet job by column name, so the file's column order does not matter (as dlt's duckdb loader).
    pub fn insert_parquet_sql(&self, dataset: &str, table: &str, file: &str) -> String {
        format!(
            "INSERT INTO {} BY NAME SELECT * FROM read_parquet({}, union_by_name=true)",
            self.qualified_table(dataset, table),
            self.quote_literal(file)
        )
    }

    /// Whether `table` exists in `dataset`.
    pub fn table_exists_sql(&self, dataset: &str, table: &str) -> String {
        format!(
            "SELECT table_name FROM information_schema.tables WHERE {} AND table_name = {}",
            self.schema_condition(dataset),
            self.quote_literal(table)
        )
    }

    fn schema_condition(&self, dataset: &str) -> String {
        let mut condition = format!("table_schema = {}", self.quote_literal(dataset));
        if let Some(catalog) = &self.catalog {
            condition = format!("table_catalog = {} AND {condition}", self.quote_literal(catalog));
        }
        condition
    }
}

fn unsupported(column: &Column, reason: String) -> SqlError {
    SqlError::UnsupportedType {
        column: column.name.clone(),
        data_type: column.data_type.as_str(),
        reason,
    }
}

impl SqlDialect for DuckDbDialect {
    fn quote_identifier(&self, name: &str) -> String {
        quote_identifier_with(name, '"')
    }

    /// dlt's `DuckDbTypeMapper`: `bigint` by precision in bits (TINYINT … HUGEINT); `timestamp` with a
    /// time zone is `TIMESTAMP WITH TIME ZONE` (DuckDB has no precision for it), without one
    /// `TIMESTAMP_S/_MS/TIMESTAMP/_NS` by precision; text precision is ignored (`VARCHAR(n)` is `VARCHAR`).
    fn column_type(&self, column: &Column) -> Result<String, SqlError> {
        Ok(match column.data_type {
            DataType::Text => "VARCHAR".into(),
            DataType::Double => "DOUBLE".into(),
            DataType::Bool => "BOOLEAN".into(),
            DataType::Date => "DATE".into(),
            DataType::Time => "TIME".into(),
            DataType::Json => "JSON".into(),
            DataType::Binary => "BLOB".into(),
            DataType::Bigint => match IntegerWidth::of(column) {
                Some(IntegerWidth::Tiny) => "TINYINT".into(),
                Some(IntegerWidth::Small) => "SMALLINT".into(),
                Some(IntegerWidth::Int) => "INTEGER".into(),
                Some(IntegerWidth::Big) => "BIGINT".into(),
                Some(IntegerWidth::Huge) => "HUGEINT".into(),
                None => return Err(unsupported(column, "wider than 128 bits".into())),
            },
            DataType::Timestamp => {
                if column.timezone != Some(false) {
                    "TIMESTAMP WITH TIME ZONE".into()
                } else {
                    match column.precision {
                        Some(0) => "TIMESTAMP_S".into(),
                        Some(1..=3) => "TIMESTAMP_MS".into(),
                        None | Some(4..=6) => "TIMESTAMP".into(),
                        Some(7..=9) => "TIMESTAMP_NS".into(),
                        Some(p) => return Err(unsupported(column, format!("precision {p} exceeds 9"))),
                    }
                }
            }
            DataType::Decimal | DataType::Wei => {
                let (p, s) = if column.data_type == DataType::Decimal {
                    DECIMAL_PRECISION
                } else {
                    WEI_PRECISION
                };
                let (p, s) = (column.precision.unwrap_or(p), column.scale.unwrap_or(s));
                if p == 0 || p > MAX_DECIMAL_PRECISION || s > p {
                    return Err(unsupported(
                        column,
                        format!("DECIMAL({p},{s}) is outside DuckDB's 1..=38 digits"),
                    ));
                }
                format!("DECIMAL({p},{s})")
            }
        })
    }

    fn qualified_dataset(&self, dataset: &str) -> String {
        match &self.catalog {
            Some(catalog) => format!(
                "{}.{}",
                self.quote_identifier(catalog),
                self.quote_identifier(dataset)
            ),
            None => self.quote_identifier(dataset),
        }
    }

    fn select_storage_columns_sql(&self, dataset: &str) -> String {
        format!(
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE {} ORDER BY table_name, ordinal_position",
            self.schema_condition(dataset)
        )
    }
}
