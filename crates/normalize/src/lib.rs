//! Normalize: the middle stage of looker-load (extract → **normalize** → load).
//!
//! Extract hands over pages of Looker items (a resource name and the page body: a JSON array of
//! objects, as the API served it). Normalize turns them into dlt-compatible relational rows, written as
//! Parquet job files through a [`JobSink`] (the load package names and places them), and evolves the
//! dlt [`Schema`] as data reveals tables and columns. Load then reads the files by column name.
//!
//! The rules are dlt 1.31's (`relational.py`, `jsonl.py`, `snake_case.py`), so a dataset loaded by
//! looker-load has the tables and columns the dlt pipeline of the same config creates:
//!
//! * nested objects are flattened into `parent__child` columns; lists become nested tables
//!   `<table>__<key>` (lists of scalars get a `value` column, lists of lists a `list` table), with
//!   `_dlt_id`, `_dlt_parent_id`, `_dlt_list_idx` and, in merge chains, `_dlt_root_id`; root rows carry
//!   `_dlt_load_id`;
//! * names follow dlt's `snake_case` convention and shortening with a hash tag past the destination's
//!   maximum identifier length;
//! * types are inferred as dlt does (`iso_timestamp` detection, UTC), values are coerced into existing
//!   columns, and values that do not fit go to variant columns `<col>__v_<type>`;
//! * a column appears once it receives a non-null value.
//!
//! Where looker-load deliberately differs from dlt:
//!
//! * **Identifier collisions** are detected instead of silently merged: when two different source key
//!   paths of one table normalize to the same column name (e.g. `na!e` and `na%e` → `na_e`), the path
//!   seen first keeps the name and each later one gets `<name>_<tag>`, where `<tag>` is dlt's 6-character
//!   shortening tag of its raw key path (the raw keys joined with `__`); the name is then shortened as
//!   any other. Both columns carry the hint `x-source-path` (the raw keys), so later runs give the same
//!   names whatever order the keys arrive in. A warning is logged. The same rule applies to nested tables
//!   (recorded in `x-normalizer.source-path`), to source keys that normalize to one of dlt's own column
//!   names (`_dlt_load_id`, `_dlt_parent_id`, ...; a row's own `_dlt_id` key keeps dlt's meaning: it is
//!   the row id), and to source keys holding the name of a variant column.
//! * **Integers outside the 64-bit range** are read as their digits (text): dlt cannot write them
//!   (its extract or Parquet writer fails). `NaN`, `Infinity` and overflowing floats become null, as
//!   they do in dlt after its extract.
//! * **Values dlt crashes on** (a timestamp whose UTC conversion leaves the years 1–9999, a datetime
//!   string with a ±24:00 offset, epoch numbers out of range) are not timestamps here: they stay text or
//!   go to a variant column.
//! * A blank list key or a key made only of separators (`__`) is named `_empty` (dlt produces an empty
//!   name or puts the list's rows in the parent table); a nested row carrying its own `_dlt_id` still
//!   gets `_dlt_parent_id` and `_dlt_list_idx`; lone UTF-16 surrogates in `\u` escapes become U+FFFD.
//! * Any JSON is accepted without panicking and without deep recursion, whatever its nesting.
//!
//! Memory stays bounded whatever the input size: items are parsed one at a time (the tape holds one
//! item, never a page); rows are buffered per table in Arrow builders and written every 8192 rows (or
//! 2 MiB); row groups close at 32 Ki rows or 2 MiB encoded; a file closes at 1 000 000 rows, 128 MiB or
//! 1024 column chunks (the Parquet writer keeps each chunk's metadata until the footer); and one budget
//! across all tables ([`NormalizeOptions::memory_budget`], 32 MiB: half for buffered rows, half for open
//! row groups) makes the largest table write first.

mod coerce;
mod core;
mod datetime;
mod error;
pub mod ids;
mod json;
mod merge;
pub mod naming;
mod pyconv;
mod sink;
mod writer;

#[cfg(test)]
mod vector_tests;

use std::collections::BTreeMap;

pub use package::schema::{DataType, Schema, WriteDisposition};
use parquet::basic::Compression as ParquetCompression;
use parquet::file::properties::{EnabledStatistics, WriterProperties};

pub use crate::core::PageStats;
pub use crate::error::NormalizeError;
pub use crate::merge::merge_outputs;
pub use crate::sink::{DirSink, JobSink};
pub use crate::writer::{WrittenFile, arrow_type, write_empty_job};

/// Compression of the Parquet job files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// No compression.
    None,
    /// Snappy, pyarrow's (and so dlt's) default.
    #[default]
    Snappy,
}

/// dlt's resource hints for one root table (`@dlt.resource(write_disposition=..., primary_key=...,
/// columns=..., max_table_nesting=...)`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableHints {
    /// The table's write disposition; dlt's default is `append`.
    pub write_disposition: Option<WriteDisposition>,
    /// Primary key columns (source names, normalized as dlt does). They are not nullable and come
    /// first in the table, as dlt's incomplete hint columns do.
    pub primary_key: Vec<String>,
    /// Column hints, e.g. `{name: "vis_config", data_type: json}` keeps a value whole as JSON.
    pub columns: Vec<ColumnHint>,
    /// dlt's `max_table_nesting`: deeper objects and lists stay whole as JSON.
    pub max_table_nesting: Option<u32>,
    /// Merge key columns (source names): merge deletes the destination rows whose merge key appears
    /// in the new data. Not nullable, as dlt makes them.
    pub merge_key: Vec<String>,
    /// Hints of nested tables (dlt's `nested_hints`), in the order given: their tables are created
    /// with the hinted columns right after the root table, as dlt creates them.
    pub nested: Vec<NestedTableHints>,
}

/// Hints of one nested table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NestedTableHints {
    /// The nested table's path below the root table, one entry per level (dlt's tuple path):
    /// `["dashboard_elements"]` is `dashboards__dashboard_elements`. An entry may hold `__` for a
    /// list inside a nested object (`["dashboard_elements", "result_maker__filterables"]`).
    pub path: Vec<String>,
    /// Column hints of that table (`vis_config` as `json` keeps it whole).
    pub columns: Vec<ColumnHint>,
}

/// One column hint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnHint {
    /// The column's source name (normalized as dlt does; `__` separates a nested path).
    pub name: String,
    /// Its data type; a typed hint creates the column before any data arrives, as dlt does.
    pub data_type: Option<DataType>,
    /// Whether it may be null (default: yes).
    pub nullable: Option<bool>,
}

/// Default of [`NormalizeOptions::memory_budget`].
pub const DEFAULT_MEMORY_BUDGET: usize = 32 << 20;

/// How to normalize.
#[derive(Debug, Clone)]
pub struct NormalizeOptions {
    /// The destination's maximum identifier length (dlt's `max_identifier_length`; duckdb 65536,
    /// postgres 63). Longer names are shortened with dlt's hash tag. `None`: never shortened.
    pub max_identifier_length: Option<usize>,
    /// A job file is closed once it holds this many rows (`None`: no limit; default 1 000 000).
    pub file_max_rows: Option<u64>,
    /// A job file is closed once it reaches about this many bytes (`None`: no limit; default
    /// 128 MiB). Checked after each record batch of up to 8192 rows, so a file may pass it by a batch.
    pub file_max_bytes: Option<u64>,
    /// The load id written to `_dlt_load_id` of root rows.
    pub load_id: String,
    /// Hints per resource (root table), keyed by the resource name given to
    /// [`Normalizer::push_page`].
    pub tables: BTreeMap<String, TableHints>,
    /// Compression of the job files.
    pub compression: Compression,
    /// Seed for the random root row ids (`_dlt_id`); `None` draws from the system. For reproducible
    /// tests only: real loads need ids unique across runs.
    pub row_id_seed: Option<u64>,
    /// Bytes all tables together may hold in buffered rows and open Parquet row groups (half each)
    /// before the largest is written out (default 32 MiB). It bounds the normalizer's memory whatever
    /// the input's size; a smaller budget gives smaller row groups.
    pub memory_budget: usize,
}

impl Default for NormalizeOptions {
    fn default() -> NormalizeOptions {
        NormalizeOptions {
            max_identifier_length: None,
            file_max_rows: Some(1_000_000),
            file_max_bytes: Some(128 << 20),
            load_id: String::new(),
            tables: BTreeMap::new(),
            compression: Compression::Snappy,
            row_id_seed: None,
            memory_budget: DEFAULT_MEMORY_BUDGET,
        }
    }
}

/// What a finished normalizer produced.
#[derive(Debug, Clone)]
pub struct NormalizeOutput {
    /// The evolved schema, its version bumped when it changed.
    pub schema: Schema,
    /// Every job file written, in the order they were closed.
    pub files: Vec<WrittenFile>,
    /// Rows written per table.
    pub rows_per_table: BTreeMap<String, u64>,
}

/// The normalize stage for one load package: feed it pages, then [`Normalizer::finish`].
#[derive(Debug)]
pub struct Normalizer<S: JobSink> {
    core: core::Core,
    tape: json::Tape,
    sink: S,
}

impl<S: JobSink> Normalizer<S> {
    /// A normalizer evolving `schema` (a new one from [`Schema::new`], or the pipeline's stored one)
    /// and writing files through `sink`.
    pub fn new(schema: Schema, options: NormalizeOptions, sink: S) -> Normalizer<S> {
        let compression = match options.compression {
            Compression::None => ParquetCompression::UNCOMPRESSED,
            Compression::Snappy => ParquetCompression::SNAPPY,
        };
        let properties = WriterProperties::builder()
            .set_compression(compression)
            // min/max per column chunk, as pyarrow writes them; per-page statistics cost time for little
            .set_statistics_enabled(EnabledStatistics::Chunk)
            // no page index, as pyarrow's default: the writer would keep it for the whole file
            .set_offset_index_disabled(true)
            .build();
        let settings = writer::WriteSettings {
            properties,
            file_max_rows: options.file_max_rows.filter(|&n| n > 0),
            file_max_bytes: options.file_max_bytes.filter(|&n| n > 0),
            buffer_budget: options.memory_budget / 2,
            row_group_budget: options.memory_budget / 2,
        };
        let naming = naming::SnakeCase::new(options.max_identifier_length);
        let core = core::Core::new(
            schema,
            naming,
            &options.load_id,
            options.tables,
            settings,
            options.row_id_seed,
        );
        Normalizer {
            core,
            tape: json::Tape::default(),
            sink,
        }
    }

    /// Normalizes one page of resource `root_table`: `json` is the page body, a JSON array of items.
    /// Items are parsed one at a time, so memory follows the largest item, not the page. A page that is
    /// not UTF-8 or not an array is refused whole; an error in the middle of a page (a malformed item,
    /// a value that cannot be stored) leaves the rows before it buffered (the package is then incomplete
    /// and must not be loaded).
    pub fn push_page(&mut self, root_table: &str, json: &[u8]) -> Result<PageStats, NormalizeError> {
        let malformed = |e: json::ParseError| NormalizeError::MalformedPage {
            table: root_table.to_owned(),
            offset: e.offset,
            reason: e.reason.to_owned(),
        };
        let mut items = json::PageItems::new(json).map_err(malformed)?;
        let mut stats = PageStats::default();
        let mut root = None;
        while items.next_item(&mut self.tape).map_err(malformed)? {
            stats.items += 1;
            stats.rows += self
                .core
                .push_item(&self.tape, root_table, &mut root, &mut self.sink)?;
        }
        stats.bytes = json.len() as u64;
        Ok(stats)
    }

    /// The schema as evolved so far (its version is bumped by [`Normalizer::finish`]).
    pub fn schema(&self) -> &Schema {
        &self.core.schema
    }

    /// Writes what is buffered, closes every file, and returns the schema (version bumped when it
    /// changed), the files and the row counts.
    pub fn finish(mut self) -> Result<NormalizeOutput, NormalizeError> {
        self.core.finish(&mut self.sink)?;
        let rows_per_table = self.core.rows_per_table();
        let mut schema = std::mem::take(&mut self.core.schema);
        schema.bump_version_if_modified();
        Ok(NormalizeOutput {
            schema,
            files: std::mem::take(&mut self.core.files),
            rows_per_table,
        })
    }
}
