//! What a destination can do, as data. The loader plans from these values (file format, merge and replace
//! strategy, identifier limits) instead of asking "which destination is this?".

use std::borrow::Cow;

/// A file format a load job can carry to the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileFormat {
    /// Apache Parquet (normalize's output; typed, columnar).
    Parquet,
    /// Newline-delimited JSON.
    Jsonl,
    /// Comma-separated values.
    Csv,
    /// dlt's `insert_values`: literal `INSERT ... VALUES` statements.
    InsertValues,
}

impl FileFormat {
    /// The job file extension dlt uses for the format (`<table>.<file_id>.<retry>.<ext>`).
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Parquet => "parquet",
            FileFormat::Jsonl => "jsonl",
            FileFormat::Csv => "csv",
            FileFormat::InsertValues => "insert_values",
        }
    }

    /// The format of a job file extension (`parquet`, `jsonl`, ...), ignoring a trailing `.gz`.
    pub fn from_extension(ext: &str) -> Option<FileFormat> {
        let ext = ext.strip_suffix(".gz").unwrap_or(ext);
        [
            FileFormat::Parquet,
            FileFormat::Jsonl,
            FileFormat::Csv,
            FileFormat::InsertValues,
        ]
        .into_iter()
        .find(|f| f.extension() == ext)
    }
}

/// How `merge` tables meet existing rows (dlt's `merge_strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MergeStrategy {
    /// Delete the destination rows whose key is in the load (children through `_dlt_root_id`), then insert
    /// the load's rows deduplicated by primary key. dlt's default.
    DeleteInsert,
    /// `MERGE INTO ... USING staging`: update matching keys, insert the others.
    Upsert,
    /// Insert only the keys the destination does not have yet.
    InsertOnly,
    /// Slowly changing dimension type 2 (`_dlt_valid_from` / `_dlt_valid_to`).
    Scd2,
}

/// How `replace` tables are emptied and refilled (dlt's `replace_strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplaceStrategy {
    /// Truncate the table chain once per load, then insert the jobs. dlt's default; not atomic across
    /// tables.
    TruncateAndInsert,
    /// Load into the staging dataset, then truncate and insert from staging in one transaction.
    InsertFromStaging,
    /// Swap or clone the staging table in (destination specific).
    StagingOptimized,
}

/// What the destination does to unquoted identifiers; quoted identifiers are folded the same way before
/// quoting so that names stay addressable without quotes (dlt's `casefold_identifier`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseFolding {
    /// Names are stored as given (DuckDB, BigQuery).
    None,
    /// Names are lower-cased (Postgres, Redshift, Databricks).
    Lower,
    /// Names are upper-cased (Snowflake).
    Upper,
}

impl CaseFolding {
    /// `name` as the destination stores it.
    pub fn apply<'a>(self, name: &'a str) -> Cow<'a, str> {
        match self {
            CaseFolding::None => Cow::Borrowed(name),
            CaseFolding::Lower => Cow::Owned(name.to_lowercase()),
            CaseFolding::Upper => Cow::Owned(name.to_uppercase()),
        }
    }
}

/// A destination's capabilities. Build one from [`Capabilities::SQL_DEFAULTS`] and override what differs:
///
/// ```
/// use destination::Capabilities;
/// // PostgreSQL: identifiers longer than NAMEDATALEN-1 = 63 bytes are truncated by the server.
/// let pg = Capabilities { max_identifier_length: 63, max_column_identifier_length: 63, ..Capabilities::SQL_DEFAULTS };
/// assert!(pg.supports_transactional_ddl);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// The file format normalize should write for direct loads.
    pub preferred_file_format: FileFormat,
    /// Every file format the destination loads directly.
    pub supported_file_formats: &'static [FileFormat],
    /// The file format for staged loads (files in a bucket the destination copies from); `None` when the
    /// destination does not load from staging.
    pub preferred_staging_file_format: Option<FileFormat>,
    /// Every file format the destination copies from a staging bucket; empty: no bucket staging.
    pub supported_staging_file_formats: &'static [FileFormat],
    /// Merge strategies the destination implements; the first is the default.
    pub merge_strategies: &'static [MergeStrategy],
    /// Replace strategies the destination implements; the first is the default.
    pub replace_strategies: &'static [ReplaceStrategy],
    /// Longest table or dataset name, in UTF-8 bytes. Longer names are refused (a terminal error), never
    /// silently truncated by the server. Vendor limits (as dlt records them): PostgreSQL 63
    /// (`NAMEDATALEN`-1, longer names are truncated with a notice), Redshift 127, MS SQL 128, Snowflake
    /// and Databricks 255, BigQuery 1024 for tables, DuckDB none documented (dlt uses 65536).
    pub max_identifier_length: usize,
    /// Longest column name, in UTF-8 bytes: as [`Capabilities::max_identifier_length`] except BigQuery
    /// (300).
    pub max_column_identifier_length: usize,
    /// What the destination does to identifier case.
    pub case_folding: CaseFolding,
    /// Whether DDL (CREATE/ALTER/DROP) can run inside a transaction and roll back.
    pub supports_transactional_ddl: bool,
    /// Whether one `ALTER TABLE` may add several columns; otherwise one statement per column.
    pub alter_add_multi_column: bool,
    /// Whether `TRUNCATE TABLE` exists (and may run in a transaction); otherwise `DELETE FROM`.
    pub supports_truncate_command: bool,
    /// Default (precision, scale) of dlt `decimal` columns without hints (dlt: 38, 9).
    pub decimal_precision: (u32, u32),
    /// Default (precision, scale) of dlt `wei` columns (large integers).
    pub wei_precision: (u32, u32),
    /// Default fractional-second digits of timestamps (dlt: 6, microseconds).
    pub timestamp_precision: u32,
    /// Largest supported fractional-second digits of timestamps.
    pub max_timestamp_precision: u32,
    /// How many load jobs may run at once on one client; `None` for no limit of its own.
    pub max_parallel_load_jobs: Option<usize>,
    /// Longest SQL statement, in bytes.
    pub max_query_length: usize,
}

impl Capabilities {
    /// A transactional SQL database loading Parquet directly, with dlt's precision defaults. Destinations
    /// start from this and override what differs.
    pub const SQL_DEFAULTS: Capabilities = Capabilities {
        preferred_file_format: FileFormat::Parquet,
        supported_file_formats: &[FileFormat::Parquet],
        preferred_staging_file_format: None,
        supported_staging_file_formats: &[],
        merge_strategies: &[MergeStrategy::DeleteInsert],
        replace_strategies: &[ReplaceStrategy::TruncateAndInsert],
        // The SQL standard leaves the limit to the implementation; 63 bytes (PostgreSQL's NAMEDATALEN-1)
        // is the most common small one and what dlt assumes for generic SQL.
        max_identifier_length: 63,
        max_column_identifier_length: 63,
        case_folding: CaseFolding::None,
        supports_transactional_ddl: true,
        alter_add_multi_column: true,
        supports_truncate_command: true,
        decimal_precision: (38, 9),
        wei_precision: (76, 0),
        timestamp_precision: 6,
        max_timestamp_precision: 6,
        max_parallel_load_jobs: None,
        max_query_length: 32 * 1024 * 1024,
    };

    /// Whether the destination can copy load jobs from a staging bucket.
    pub fn supports_staging(&self) -> bool {
        !self.supported_staging_file_formats.is_empty()
    }

    /// Whether `format` can be loaded directly.
    pub fn supports_file_format(&self, format: FileFormat) -> bool {
        self.supported_file_formats.contains(&format)
    }

    /// Whether the destination implements `strategy` for merge tables.
    pub fn supports_merge_strategy(&self, strategy: MergeStrategy) -> bool {
        self.merge_strategies.contains(&strategy)
    }

    /// Whether the destination implements `strategy` for replace tables.
    pub fn supports_replace_strategy(&self, strategy: ReplaceStrategy) -> bool {
        self.replace_strategies.contains(&strategy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_format_extensions_round_trip() {
        for f in [
            FileFormat::Parquet,
            FileFormat::Jsonl,
            FileFormat::Csv,
            FileFormat::InsertValues,
        ] {
            assert_eq!(FileFormat::from_extension(f.extension()), Some(f));
        }
        assert_eq!(FileFormat::from_extension("jsonl.gz"), Some(FileFormat::Jsonl));
        assert_eq!(FileFormat::from_extension("xlsx"), None);
    }

    #[test]
    fn case_folding_applies() {
        assert_eq!(CaseFolding::None.apply("MiXed"), "MiXed");
        assert_eq!(CaseFolding::Lower.apply("MiXed"), "mixed");
        assert_eq!(CaseFolding::Upper.apply("MiXed"), "MIXED");
    }

    #[test]
    fn sql_defaults_have_no_staging() {
        let caps = Capabilities::SQL_DEFAULTS;
        assert!(!caps.supports_staging());
        assert!(caps.supports_file_format(FileFormat::Parquet));
        assert!(!caps.supports_file_format(FileFormat::Csv));
        assert!(caps.supports_merge_strategy(MergeStrategy::DeleteInsert));
        assert!(!caps.supports_merge_strategy(MergeStrategy::Scd2));
        assert!(caps.supports_replace_strategy(ReplaceStrategy::TruncateAndInsert));
    }
}
