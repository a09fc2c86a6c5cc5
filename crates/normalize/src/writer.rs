//! Per-table Arrow column builders and the Parquet files they are written to, with dlt's type mapping
//! (`dlt/common/libs/pyarrow.py::get_py_arrow_datatype`) and file rotation.

use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{
    ArrayBuilder, ArrayRef, BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder,
    Int64Builder, StringBuilder, Time64MicrosecondBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType as ArrowType, Field, Schema as ArrowSchema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use package::schema::{Column, DataType};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use crate::coerce::Cell;
use crate::error::NormalizeError;
use crate::sink::JobSink;

/// dlt's default decimal precision and scale (`dlt/common/arithmetics.py`).
pub(crate) const DEFAULT_DECIMAL: (u8, i8) = (38, 9);

/// dlt's id columns: nearly every value is distinct, so they are written without a dictionary.
const UNIQUE_COLUMNS: [&str; 3] = ["_dlt_id", "_dlt_parent_id", "_dlt_root_id"];

/// Rows buffered per table before they are written as one record batch.
const BATCH_ROWS: usize = 8192;
/// Approximate bytes buffered per table before they are written as one record batch.
const BATCH_BYTES: usize = 2 << 20;
/// A row group is closed once its encoded size passes this, bounding the writer's memory.
const ROW_GROUP_BYTES: usize = 2 << 20;
/// Rows per row group at most.
const ROW_GROUP_ROWS: usize = 32 * 1024;
/// A file is closed once it holds this many column chunks (row groups × columns): the Parquet writer
/// keeps every chunk's metadata (statistics included) until the footer is written, so a file of many
/// row groups would hold memory growing with its rows.
pub(crate) const FILE_MAX_COLUMN_CHUNKS: usize = 1024;

/// The Arrow type of a dlt column (dlt's mapping; `json` is JSON text, `wei` a decimal without scale).
pub fn arrow_type(column: &Column) -> ArrowType {
    match column.data_type {
        DataType::Text | DataType::Json => ArrowType::Utf8,
        DataType::Double => ArrowType::Float64,
        DataType::Bool => ArrowType::Boolean,
        DataType::Timestamp => {
            let tz = if column.timezone == Some(false) {
                None
            } else {
                Some("UTC".into())
            };
            ArrowType::Timestamp(TimeUnit::Microsecond, tz)
        }
        DataType::Bigint => ArrowType::Int64,
        DataType::Binary => ArrowType::Binary,
        DataType::Decimal => {
            let (p, s) = decimal_precision(column);
            ArrowType::Decimal128(p, s)
        }
        DataType::Wei => ArrowType::Decimal128(38, 0),
        DataType::Date => ArrowType::Date32,
        DataType::Time => ArrowType::Time64(TimeUnit::Microsecond),
    }
}

/// Precision and scale of a decimal column: its hints, else dlt's (38, 9).
pub(crate) fn decimal_precision(column: &Column) -> (u8, i8) {
    let p = column
        .precision
        .and_then(|p| u8::try_from(p).ok())
        .filter(|p| (1..=38).contains(p));
    let s = column
        .scale
        .and_then(|s| i8::try_from(s).ok())
        .filter(|s| *s >= 0);
    match (p, s) {
        (Some(p), Some(s)) if s as u8 <= p => (p, s),
        (Some(p), None) => (p, 0),
        _ => DEFAULT_DECIMAL,
    }
}

/// The decimal scale values of a column are scaled by.
pub(crate) fn cell_scale(column: &Column) -> u32 {
    match column.data_type {
        DataType::Decimal => decimal_precision(column).1 as u32,
        _ => 0,
    }
}

/// Bytes a row takes in a column's buffer whatever its value (value slot or offset; validity bits are
/// left out): a null costs as much as a value, and wide tables are mostly nulls.
fn fixed_width(ty: &ArrowType) -> usize {
    match ty {
        ArrowType::Boolean => 1,
        ArrowType::Date32 | ArrowType::Utf8 | ArrowType::Binary => 4,
        ArrowType::Decimal128(..) => 16,
        _ => 8,
    }
}

/// One column's buffer.
#[derive(Debug)]
enum Builder {
    Text(StringBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
    Timestamp(TimestampMicrosecondBuilder),
    Date(Date32Builder),
    Time(Time64MicrosecondBuilder),
    Binary(BinaryBuilder),
    Decimal(Decimal128Builder),
}

impl Builder {
    fn new(ty: &ArrowType) -> Builder {
        match ty {
            ArrowType::Float64 => Builder::Float(Float64Builder::new()),
            ArrowType::Boolean => Builder::Bool(BooleanBuilder::new()),
            ArrowType::Timestamp(_, tz) => {
                Builder::Timestamp(TimestampMicrosecondBuilder::new().with_timezone_opt(tz.clone()))
            }
            ArrowType::Int64 => Builder::Int(Int64Builder::new()),
            ArrowType::Binary => Builder::Binary(BinaryBuilder::new()),
            ArrowType::Decimal128(p, s) => Builder::Decimal(
                Decimal128Builder::new()
                    .with_precision_and_scale(*p, *s)
                    .unwrap_or_else(|_| Decimal128Builder::new()),
            ),
            ArrowType::Date32 => Builder::Date(Date32Builder::new()),
            ArrowType::Time64(_) => Builder::Time(Time64MicrosecondBuilder::new()),
            _ => Builder::Text(StringBuilder::new()),
        }
    }

    fn append_null(&mut self) {
        match self {
            Builder::Text(b) => b.append_null(),
            Builder::Int(b) => b.append_null(),
            Builder::Float(b) => b.append_null(),
            Builder::Bool(b) => b.append_null(),
            Builder::Timestamp(b) => b.append_null(),
            Builder::Date(b) => b.append_null(),
            Builder::Time(b) => b.append_null(),
            Builder::Binary(b) => b.append_null(),
            Builder::Decimal(b) => b.append_null(),
        }
    }

    /// Appends `cell`; returns the bytes it takes beyond the column's fixed width (see [`fixed_width`]).
    /// A cell of another kind than the builder (impossible: cells are coerced to the column's type) is
    /// stored as null.
    fn append(&mut self, cell: &Cell<'_>) -> usize {
        match (self, cell) {
            (Builder::Text(b), Cell::Text(s)) => {
                b.append_value(s);
                s.len()
            }
            (Builder::Int(b), Cell::Int(v)) => {
                b.append_value(*v);
                0
            }
            (Builder::Float(b), Cell::Float(v)) => {
                b.append_value(*v);
                0
            }
            (Builder::Bool(b), Cell::Bool(v)) => {
                b.append_value(*v);
                0
            }
            (Builder::Timestamp(b), Cell::Timestamp(v)) => {
                b.append_value(*v);
                0
            }
            (Builder::Date(b), Cell::Date(v)) => {
                b.append_value(*v);
                0
            }
            (Builder::Time(b), Cell::Time(v)) => {
                b.append_value(*v);
                0
            }
            (Builder::Binary(b), Cell::Binary(v)) => {
                b.append_value(v);
                v.len()
            }
            (Builder::Decimal(b), Cell::Decimal(v)) => {
                b.append_value(**v);
                0
            }
            (b, _) => {
                b.append_null();
                0
            }
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Text(b) => ArrayBuilder::finish(b),
            Builder::Int(b) => ArrayBuilder::finish(b),
            Builder::Float(b) => ArrayBuilder::finish(b),
            Builder::Bool(b) => ArrayBuilder::finish(b),
            Builder::Timestamp(b) => ArrayBuilder::finish(b),
            Builder::Date(b) => ArrayBuilder::finish(b),
            Builder::Time(b) => ArrayBuilder::finish(b),
            Builder::Binary(b) => ArrayBuilder::finish(b),
            Builder::Decimal(b) => ArrayBuilder::finish(b),
        }
    }
}

/// A finished job file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    /// The normalized table name.
    pub table: String,
    /// Where the sink put it.
    pub path: PathBuf,
    /// Rows in the file.
    pub rows: u64,
    /// Size of the file in bytes.
    pub bytes: u64,
}

/// Writes a job file of `table` holding no rows, with the table's columns (dlt's types, nullability).
/// Loading it into a `replace` table empties the table chain, as dlt does for a replace resource that
/// yielded nothing.
pub fn write_empty_job(
    table: &package::schema::Table,
    sink: &mut impl JobSink,
) -> Result<WrittenFile, NormalizeError> {
    let (file, path) = sink
        .create(&table.name)
        .map_err(|e| write_error(&table.name, PathBuf::new(), e))?;
    let fields: Vec<Field> = table
        .columns
        .iter()
        .map(|c| Field::new(&c.name, arrow_type(c), c.nullable))
        .collect();
    let schema: SchemaRef = Arc::new(ArrowSchema::new(fields));
    let writer =
        ArrowWriter::try_new(file, schema, None).map_err(|e| write_error(&table.name, path.clone(), e))?;
    writer
        .close()
        .map_err(|e| write_error(&table.name, path.clone(), e))?;
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or_default();
    Ok(WrittenFile {
        table: table.name.clone(),
        path,
        rows: 0,
        bytes,
    })
}

/// How job files are written and rotated.
#[derive(Debug, Clone)]
pub(crate) struct WriteSettings {
    pub properties: WriterProperties,
    pub file_max_rows: Option<u64>,
    pub file_max_bytes: Option<u64>,
    /// Bytes of rows buffered in column builders across all tables before the largest buffer is
    /// written.
    pub buffer_budget: usize,
    /// Memory of open row groups across all tables before the largest row group is closed.
    pub row_group_budget: usize,
}

#[derive(Debug)]
struct OpenFile {
    /// Writes straight to the file: the Parquet writer buffers its own output.
    writer: ArrowWriter<std::fs::File>,
    path: PathBuf,
    rows: u64,
    /// The writer's in-progress (encoded) size after the last batch or row group written.
    row_group_bytes: usize,
    /// The writer's memory (encoded pages, encoders and dictionaries) after the last batch written.
    row_group_memory: usize,
    schema: SchemaRef,
}

/// The buffered rows of one table and its open job file.
#[derive(Debug, Default)]
pub(crate) struct TableWriter {
    /// Builders by column id; `None` for ids of other tables' columns never used here.
    builders: Vec<Option<Builder>>,
    /// The row each column last received a value in (to fill nulls).
    stamps: Vec<u64>,
    /// Column ids in file order with their Arrow fields.
    fields: Vec<(usize, Arc<Field>)>,
    batch_rows: usize,
    /// Bytes of the buffered rows: fixed widths plus text and binary values.
    batch_bytes: usize,
    /// Sum of the fixed widths of the columns.
    row_width: usize,
    rows_total: u64,
    file: Option<OpenFile>,
}

impl TableWriter {
    /// Approximate bytes of the rows buffered in the column builders.
    pub(crate) fn buffered_bytes(&self) -> usize {
        self.batch_bytes
    }

    /// Memory held by the open file's row group not yet written out (encoded pages, encoders and
    /// dictionaries), as of the last batch written (asking the Parquet writer costs a walk over all its
    /// columns).
    pub(crate) fn row_group_memory(&self) -> usize {
        self.file.as_ref().map_or(0, |f| f.row_group_memory)
    }

    /// Closes the open file's row group, writing it out.
    pub(crate) fn close_row_group(&mut self, table: &str) -> Result<(), NormalizeError> {
        if let Some(open) = self.file.as_mut() {
            open.writer
                .flush()
                .map_err(|e| write_error(table, open.path.clone(), e))?;
            open.row_group_bytes = 0;
            open.row_group_memory = 0;
        }
        Ok(())
    }

    /// Whether rows were written to an open file (then a new column needs a new file).
    pub(crate) fn has_open_file(&self) -> bool {
        self.file.is_some()
    }

    /// Adds column `id` at file position `position`, backfilled with nulls for the buffered rows.
    pub(crate) fn add_column(&mut self, id: usize, position: usize, column: &Column) {
        let ty = arrow_type(column);
        let mut builder = Builder::new(&ty);
        for _ in 0..self.batch_rows {
            builder.append_null();
        }
        if self.builders.len() <= id {
            self.builders.resize_with(id + 1, || None);
            self.stamps.resize(id + 1, 0);
        }
        self.builders[id] = Some(builder);
        self.row_width += fixed_width(&ty);
        self.batch_bytes += fixed_width(&ty) * self.batch_rows;
        let field = Arc::new(Field::new(&column.name, ty, column.nullable));
        let position = position.min(self.fields.len());
        self.fields.insert(position, (id, field));
    }

    /// Appends one row given as (column id, cell) pairs; columns not named get null. Returns the row's
    /// approximate size in the buffers.
    pub(crate) fn append_row(&mut self, cells: &[(usize, Cell<'_>)]) -> usize {
        self.rows_total += 1;
        let stamp = self.rows_total;
        let mut bytes = self.row_width;
        for (id, cell) in cells {
            if let Some(Some(builder)) = self.builders.get_mut(*id) {
                bytes += builder.append(cell);
                self.stamps[*id] = stamp;
            }
        }
        for (id, _) in &self.fields {
            if self.stamps[*id] != stamp
                && let Some(Some(builder)) = self.builders.get_mut(*id)
            {
                builder.append_null();
            }
        }
        self.batch_rows += 1;
        self.batch_bytes += bytes;
        bytes
    }

    /// Writes the buffered rows when a batch is full (or the file's row limit is reached) and rotates
    /// the file past its limits.
    pub(crate) fn maybe_flush(
        &mut self,
        table: &str,
        sink: &mut dyn JobSink,
        settings: &WriteSettings,
        done: &mut Vec<WrittenFile>,
    ) -> Result<(), NormalizeError> {
        let file_rows = self.file.as_ref().map_or(0, |f| f.rows);
        let row_limit_hit = settings
            .file_max_rows
            .is_some_and(|max| file_rows + self.batch_rows as u64 >= max);
        if self.batch_rows >= BATCH_ROWS || self.batch_bytes >= BATCH_BYTES || row_limit_hit {
            self.flush(table, sink, settings)?;
            self.rotate_if_full(table, settings, done)?;
        }
        Ok(())
    }

    /// Writes the buffered rows to the open file, opening one when needed.
    pub(crate) fn flush(
        &mut self,
        table: &str,
        sink: &mut dyn JobSink,
        settings: &WriteSettings,
    ) -> Result<(), NormalizeError> {
        if self.batch_rows == 0 {
            return Ok(());
        }
        if self.file.is_none() {
            let (file, path) = sink
                .create(table)
                .map_err(|e| write_error(table, PathBuf::new(), e))?;
            let schema: SchemaRef = Arc::new(ArrowSchema::new(
                self.fields.iter().map(|(_, f)| f.clone()).collect::<Vec<_>>(),
            ));
            // dlt's row ids are unique: a dictionary only costs time
            let mut properties = settings.properties.clone().into_builder();
            for (_, field) in &self.fields {
                if UNIQUE_COLUMNS.contains(&field.name().as_str()) {
                    properties = properties
                        .set_column_dictionary_enabled(ColumnPath::from(field.name().as_str()), false);
                }
            }
            let writer = ArrowWriter::try_new(file, schema.clone(), Some(properties.build()))
                .map_err(|e| write_error(table, path.clone(), e))?;
            self.file = Some(OpenFile {
                writer,
                path,
                rows: 0,
                row_group_bytes: 0,
                row_group_memory: 0,
                schema,
            });
        }
        let Some(open) = self.file.as_mut() else {
            return Ok(());
        };
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.fields.len());
        for (id, _) in &self.fields {
            match self.builders.get_mut(*id) {
                Some(Some(builder)) => arrays.push(builder.finish()),
                _ => return Err(write_error(table, open.path.clone(), "column buffer missing")),
            }
        }
        let batch = RecordBatch::try_new(open.schema.clone(), arrays)
            .map_err(|e| write_error(table, open.path.clone(), e))?;
        open.writer
            .write(&batch)
            .map_err(|e| write_error(table, open.path.clone(), e))?;
        open.row_group_bytes = open.writer.in_progress_size();
        if open.row_group_bytes >= ROW_GROUP_BYTES || open.writer.in_progress_rows() >= ROW_GROUP_ROWS {
            open.writer
                .flush()
                .map_err(|e| write_error(table, open.path.clone(), e))?;
            open.row_group_bytes = 0;
            open.row_group_memory = 0;
        } else {
            open.row_group_memory = open.writer.memory_size();
        }
        open.rows += self.batch_rows as u64;
        self.batch_rows = 0;
        self.batch_bytes = 0;
        Ok(())
    }

    /// Closes the open file once it reached a limit (rows, bytes, or column chunks).
    pub(crate) fn rotate_if_full(
        &mut self,
        table: &str,
        settings: &WriteSettings,
        done: &mut Vec<WrittenFile>,
    ) -> Result<(), NormalizeError> {
        let Some(open) = self.file.as_ref() else {
            return Ok(());
        };
        let size = (open.writer.bytes_written() + open.row_group_bytes) as u64;
        let chunks = open.writer.flushed_row_groups().len() * open.schema.fields().len();
        let full = settings.file_max_rows.is_some_and(|max| open.rows >= max)
            || settings.file_max_bytes.is_some_and(|max| size >= max)
            || chunks >= FILE_MAX_COLUMN_CHUNKS;
        if full {
            self.close(table, done)?;
        }
        Ok(())
    }

    /// Closes the open file (after writing buffered rows with [`TableWriter::flush`]).
    pub(crate) fn close(&mut self, table: &str, done: &mut Vec<WrittenFile>) -> Result<(), NormalizeError> {
        let Some(mut open) = self.file.take() else {
            return Ok(());
        };
        open.writer
            .finish()
            .map_err(|e| write_error(table, open.path.clone(), e))?;
        let bytes = open.writer.bytes_written() as u64;
        std::io::Write::flush(open.writer.inner_mut())
            .map_err(|e| write_error(table, open.path.clone(), e))?;
        done.push(WrittenFile {
            table: table.to_owned(),
            path: open.path,
            rows: open.rows,
            bytes,
        });
        Ok(())
    }
}

fn write_error(
    table: &str,
    path: PathBuf,
    source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> NormalizeError {
    NormalizeError::WriteFile {
        table: table.to_owned(),
        path,
        source: source.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::DirSink;

    fn settings() -> WriteSettings {
        WriteSettings {
            properties: WriterProperties::builder()
                .set_offset_index_disabled(true)
                .build(),
            file_max_rows: None,
            file_max_bytes: None,
            buffer_budget: 1 << 20,
            row_group_budget: 1 << 20,
        }
    }

    /// A table of `columns` bigint columns.
    fn wide_table(columns: usize) -> TableWriter {
        let mut writer = TableWriter::default();
        for id in 0..columns {
            writer.add_column(id, id, &Column::new(format!("c{id}"), DataType::Bigint));
        }
        writer
    }

    #[test]
    fn buffered_bytes_count_nulls_and_values() {
        let mut writer = wide_table(3);
        writer.add_column(3, 3, &Column::new("t", DataType::Text));
        writer.append_row(&[(3, Cell::Text("abcd".into()))]);
        writer.append_row(&[(0, Cell::Int(1))]);
        // three 8-byte slots and one 4-byte offset per row, and the text's bytes
        assert_eq!(writer.buffered_bytes(), 2 * (3 * 8 + 4) + 4);
    }

    #[test]
    fn a_closed_row_group_holds_no_memory() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = DirSink::new(dir.path());
        let mut writer = wide_table(4);
        for i in 0..100 {
            writer.append_row(&[(0, Cell::Int(i)), (1, Cell::Int(i * 2))]);
        }
        writer.flush("t", &mut sink, &settings()).unwrap();
        assert!(writer.row_group_memory() > 0);
        writer.close_row_group("t").unwrap();
        assert_eq!(
            writer.row_group_memory(),
            0,
            "the budget must see the row group gone"
        );
    }

    #[test]
    fn files_rotate_before_their_footer_grows_past_a_bound() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = DirSink::new(dir.path());
        let columns = 256;
        let mut writer = wide_table(columns);
        let mut done = Vec::new();
        for group in 0..40 {
            for i in 0..10 {
                writer.append_row(&[(0, Cell::Int(group * 10 + i))]);
            }
            writer.flush("t", &mut sink, &settings()).unwrap();
            writer.close_row_group("t").unwrap();
            writer.rotate_if_full("t", &settings(), &mut done).unwrap();
        }
        writer.close("t", &mut done).unwrap();
        assert_eq!(done.iter().map(|f| f.rows).sum::<u64>(), 400);
        let per_file = FILE_MAX_COLUMN_CHUNKS / columns;
        assert_eq!(done.len(), 40_usize.div_ceil(per_file));
        for file in &done {
            let reader = parquet::file::serialized_reader::SerializedFileReader::new(
                std::fs::File::open(&file.path).unwrap(),
            )
            .unwrap();
            let groups = parquet::file::reader::FileReader::metadata(&reader).num_row_groups();
            assert!(groups * columns <= FILE_MAX_COLUMN_CHUNKS, "{groups} row groups");
        }
    }
}
