//! PostgreSQL's SQL: only what differs from the shared ANSI layer (lower-case folding of identifiers,
//! the numeric limits, and the binary `COPY` that loads a job).

use destination::dialect::{AnsiDialect, SqlDialect, SqlError, quote_identifier_with};
use package::schema::{Column, DataType};

/// Default (precision, scale) of `decimal` (dlt's 38, 9).
pub const DECIMAL_PRECISION: (u32, u32) = AnsiDialect::DECIMAL_PRECISION;
/// Default (precision, scale) of `wei` (dlt's postgres: `numeric(156,78)`).
pub const WEI_PRECISION: (u32, u32) = AnsiDialect::WEI_PRECISION;
/// PostgreSQL's largest declared `numeric` precision.
pub const MAX_NUMERIC_PRECISION: u32 = 1000;

/// PostgreSQL's dialect: dlt's postgres type mapper (`varchar`, `bigint`, `double precision`,
/// `boolean`, `timestamp with time zone`, `date`, `time without time zone`, `numeric(p,s)`, `jsonb`,
/// `bytea`) and identifiers folded to lower case before quoting, as dlt does, so that tables stay
/// addressable without quotes.
#[derive(Debug, Clone, Copy, Default)]
pub struct PostgresDialect;

impl PostgresDialect {
    /// `COPY <table> (<columns>) FROM STDIN (FORMAT binary)`.
    pub fn copy_in_sql(&self, dataset: &str, table: &str, columns: &[&str]) -> String {
        format!(
            "COPY {} ({}) FROM STDIN (FORMAT binary)",
            self.qualified_table(dataset, table),
            self.column_list(columns)
        )
    }

    /// A `SELECT` of `columns` from `table` that is prepared (never run) to learn the columns' types.
    pub fn column_types_sql(&self, dataset: &str, table: &str, columns: &[&str]) -> String {
        format!(
            "SELECT {} FROM {}",
            self.column_list(columns),
            self.qualified_table(dataset, table)
        )
    }

    /// Whether `table` exists in `dataset`.
    pub fn table_exists_sql(&self, dataset: &str, table: &str) -> String {
        format!(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = {} AND table_name = {}",
            self.quote_literal(&self.fold_identifier(dataset)),
            self.quote_literal(&self.fold_identifier(table))
        )
    }

    /// Whether schema `dataset` exists.
    pub fn schema_exists_sql(&self, dataset: &str) -> String {
        format!(
            "SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname = {}",
            self.quote_literal(&self.fold_identifier(dataset))
        )
    }
}

impl SqlDialect for PostgresDialect {
    fn quote_identifier(&self, name: &str) -> String {
        quote_identifier_with(&self.fold_identifier(name), '"')
    }

    fn fold_identifier(&self, name: &str) -> String {
        name.to_lowercase()
    }

    fn column_type(&self, column: &Column) -> Result<String, SqlError> {
        if matches!(column.data_type, DataType::Decimal | DataType::Wei) {
            let (p, s) = if column.data_type == DataType::Decimal {
                DECIMAL_PRECISION
            } else {
                WEI_PRECISION
            };
            let (p, s) = (column.precision.unwrap_or(p), column.scale.unwrap_or(s));
            if p == 0 || p > MAX_NUMERIC_PRECISION || s > p {
                return Err(SqlError::UnsupportedType {
                    column: column.name.clone(),
                    data_type: column.data_type.as_str(),
                    reason: format!("numeric({p},{s}) is outside PostgreSQL's 1..=1000 digits"),
                });
            }
            return Ok(format!("numeric({p},{s})"));
        }
        AnsiDialect.column_type(column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use destination::dlt_tables::loads_table;
    use package::schema::Table;

    fn col(name: &str, data_type: DataType) -> Column {
        Column {
            name: name.into(),
            data_type,
            nullable: true,
            ..Column::default()
        }
    }

    #[test]
    fn types_follow_dlt_postgres() {
        let d = PostgresDialect;
        let ty = |c: Column| d.column_type(&c).unwrap_or_else(|e| e.to_string());
        assert_eq!(ty(col("a", DataType::Text)), "varchar");
        assert_eq!(ty(col("a", DataType::Bigint)), "bigint");
        assert_eq!(ty(col("a", DataType::Double)), "double precision");
        assert_eq!(ty(col("a", DataType::Bool)), "boolean");
        assert_eq!(ty(col("a", DataType::Timestamp)), "timestamp with time zone");
        assert_eq!(ty(col("a", DataType::Date)), "date");
        assert_eq!(ty(col("a", DataType::Time)), "time without time zone");
        assert_eq!(ty(col("a", DataType::Decimal)), "numeric(38,9)");
        assert_eq!(ty(col("a", DataType::Wei)), "numeric(156,78)");
        assert_eq!(ty(col("a", DataType::Json)), "jsonb");
        assert_eq!(ty(col("a", DataType::Binary)), "bytea");
        let mut small = col("a", DataType::Bigint);
        small.precision = Some(16);
        assert_eq!(ty(small), "smallint");
        let mut text = col("a", DataType::Text);
        text.precision = Some(20);
        assert_eq!(ty(text), "varchar(20)");
        let mut ts = col("a", DataType::Timestamp);
        ts.precision = Some(3);
        ts.timezone = Some(false);
        assert_eq!(ty(ts), "timestamp (3) without time zone");
        let mut huge = col("a", DataType::Decimal);
        huge.precision = Some(1001);
        assert!(d.column_type(&huge).is_err());
        let mut wide = col("a", DataType::Bigint);
        wide.precision = Some(128);
        assert!(d.column_type(&wide).is_err());
    }

    #[test]
    fn identifiers_fold_and_quote() {
        let d = PostgresDialect;
        assert_eq!(d.quote_identifier("MiXed"), "\"mixed\"");
        assert_eq!(d.quote_identifier("a\"b"), "\"a\"\"b\"");
        assert_eq!(d.qualified_table("DS", "t;x"), "\"ds\".\"t;x\"");
        assert_eq!(d.quote_literal("it's"), "'it''s'");
    }

    #[test]
    fn statements() {
        let d = PostgresDialect;
        assert_eq!(
            d.copy_in_sql("ds", "users", &["id", "Name"]),
            "COPY \"ds\".\"users\" (\"id\", \"name\") FROM STDIN (FORMAT binary)"
        );
        assert_eq!(
            d.create_table_sql("ds", &loads_table(), true).ok().as_deref(),
            Some(
                "CREATE TABLE IF NOT EXISTS \"ds\".\"_dlt_loads\" (\"load_id\" varchar(64) NOT NULL, \
                 \"schema_name\" varchar, \"status\" bigint NOT NULL, \"inserted_at\" timestamp with time \
                 zone NOT NULL, \"schema_version_hash\" varchar)"
            )
        );
        let table = Table {
            name: "users".into(),
            columns: vec![col("email", DataType::Text), col("logins", DataType::Bigint)],
            ..Table::default()
        };
        let cols: Vec<&Column> = table.columns.iter().collect();
        assert_eq!(
            d.add_columns_sql("ds", "users", &cols).ok().as_deref(),
            Some("ALTER TABLE \"ds\".\"users\" ADD COLUMN \"email\" varchar, ADD COLUMN \"logins\" bigint")
        );
        assert_eq!(
            d.schema_exists_sql("DS"),
            "SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname = 'ds'"
        );
    }
}
