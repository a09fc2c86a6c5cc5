//! Arrow values in PostgreSQL's binary wire format, for `COPY ... FROM STDIN (FORMAT binary)`.
//!
//! Each Parquet column is first cast to one canonical Arrow type (Int64, Float64, Utf8, Binary,
//! microsecond timestamps and times, Date32, Decimal128), checking for overflow, then paired with the
//! destination column's PostgreSQL type into a [`Conversion`]. A value that does not fit the
//! destination type (an integer too large for `smallint`) is an error, never truncated or NULLed.

use std::error::Error as StdError;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array,
    StringArray, Time64MicrosecondArray, TimestampMicrosecondArray,
};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType as ArrowType, Field, TimeUnit};
use arrow::record_batch::RecordBatch;
use bytes::{BufMut, BytesMut};
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

type BoxError = Box<dyn StdError + Sync + Send>;

/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
/// Days between the Unix epoch and PostgreSQL's.
const PG_EPOCH_DAYS: i32 = 10_957;

/// How one Parquet column becomes values of its destination column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conversion {
    /// Every value is NULL (an Arrow `Null` column).
    Null,
    Bool,
    IntToI16,
    IntToI32,
    IntToI64,
    IntToF64,
    IntToNumeric,
    FloatToF64,
    FloatToF32,
    Text,
    TextToJsonb,
    Bytea,
    Timestamp,
    Date,
    Time,
    DecimalToNumeric,
    DecimalToF64,
}

/// The canonical Arrow type a column is cast to before encoding, or `None` when the type cannot be
/// loaded.
fn canonical(data_type: &ArrowType) -> Option<ArrowType> {
    use ArrowType as A;
    Some(match data_type {
        A::Null => A::Null,
        A::Boolean => A::Boolean,
        A::Int8 | A::Int16 | A::Int32 | A::Int64 | A::UInt8 | A::UInt16 | A::UInt32 | A::UInt64 => A::Int64,
        A::Float16 | A::Float32 | A::Float64 => A::Float64,
        A::Utf8 | A::LargeUtf8 | A::Utf8View => A::Utf8,
        A::Dictionary(_, value) if canonical(value) == Some(A::Utf8) => A::Utf8,
        A::Binary | A::LargeBinary | A::BinaryView | A::FixedSizeBinary(_) => A::Binary,
        A::Timestamp(_, tz) => A::Timestamp(TimeUnit::Microsecond, tz.clone()),
        A::Date32 | A::Date64 => A::Date32,
        A::Time32(_) | A::Time64(_) => A::Time64(TimeUnit::Microsecond),
        A::Decimal128(p, s) => A::Decimal128(*p, *s),
        A::Decimal256(_, s) => A::Decimal128(38, (*s).min(38)),
        _ => return None,
    })
}

fn is_text(ty: &Type) -> bool {
    [Type::TEXT, Type::VARCHAR, Type::BPCHAR, Type::NAME, Type::JSON].contains(ty)
}

/// The conversion of a Parquet column of `field`'s type into a column of PostgreSQL type `ty`.
pub(crate) fn conversion(field: &Field, ty: &Type) -> Result<Conversion, String> {
    use ArrowType as A;
    use Conversion as C;
    let refuse = || {
        format!(
            "column {:?}: Parquet type {} cannot be loaded into PostgreSQL type {}",
            field.name(),
            field.data_type(),
            ty.name()
        )
    };
    let Some(source) = canonical(field.data_type()) else {
        return Err(refuse());
    };
    Ok(match (source, ty) {
        (A::Null, _) => C::Null,
        (A::Boolean, t) if *t == Type::BOOL => C::Bool,
        (A::Int64, t) if *t == Type::INT2 => C::IntToI16,
        (A::Int64, t) if *t == Type::INT4 => C::IntToI32,
        (A::Int64, t) if *t == Type::INT8 => C::IntToI64,
        (A::Int64, t) if *t == Type::FLOAT8 => C::IntToF64,
        (A::Int64, t) if *t == Type::NUMERIC => C::IntToNumeric,
        (A::Float64, t) if *t == Type::FLOAT8 => C::FloatToF64,
        (A::Float64, t) if *t == Type::FLOAT4 => C::FloatToF32,
        (A::Utf8, t) if is_text(t) => C::Text,
        (A::Utf8, t) if *t == Type::JSONB => C::TextToJsonb,
        (A::Binary, t) if *t == Type::BYTEA => C::Bytea,
        (A::Timestamp(..), t) if *t == Type::TIMESTAMPTZ || *t == Type::TIMESTAMP => C::Timestamp,
        (A::Date32, t) if *t == Type::DATE => C::Date,
        (A::Time64(_), t) if *t == Type::TIME => C::Time,
        (A::Decimal128(..), t) if *t == Type::NUMERIC => C::DecimalToNumeric,
        (A::Decimal128(..), t) if *t == Type::FLOAT8 => C::DecimalToF64,
        _ => return Err(refuse()),
    })
}

/// One column of a batch, cast and ready to encode row by row.
#[derive(Debug)]
pub(crate) struct EncodedColumn {
    array: ArrayRef,
    conversion: Conversion,
    scale: i8,
}

/// The columns of `batch` (in the order of `conversions`), cast to their canonical types.
pub(crate) fn columns(batch: &RecordBatch, conversions: &[Conversion]) -> Result<Vec<EncodedColumn>, String> {
    let options = CastOptions {
        safe: false,
        ..CastOptions::default()
    };
    let schema = batch.schema();
    batch
        .columns()
        .iter()
        .zip(schema.fields().iter())
        .zip(conversions)
        .map(|((array, field), conversion)| {
            let target = canonical(array.data_type()).ok_or_else(|| {
                format!(
                    "column {:?}: Parquet type {} cannot be loaded",
                    field.name(),
                    array.data_type()
                )
            })?;
            let array: ArrayRef = if *array.data_type() == target {
                Arc::clone(array)
            } else {
                cast_with_options(array, &target, &options)
                    .map_err(|e| format!("column {:?}: {e}", field.name()))?
            };
            let scale = match array.data_type() {
                ArrowType::Decimal128(_, s) => *s,
                _ => 0,
            };
            Ok(EncodedColumn {
                array,
                conversion: *conversion,
                scale,
            })
        })
        .collect()
}

impl EncodedColumn {
    /// The value of row `row`.
    pub(crate) fn cell(&self, row: usize) -> Cell<'_> {
        use Conversion as C;
        let a = &self.array;
        if a.is_null(row) || self.conversion == C::Null {
            return Cell::Null;
        }
        // The downcasts cannot fail: `columns` cast every array to the canonical type its
        // conversion was chosen for. A mismatch would be a bug, reported as an encoding error.
        match self.conversion {
            C::Null => Cell::Null,
            C::Bool => downcast::<BooleanArray>(a).map_or(Cell::Bug, |a| Cell::Bool(a.value(row))),
            C::IntToI16 | C::IntToI32 | C::IntToI64 | C::IntToF64 | C::IntToNumeric => {
                match downcast::<Int64Array>(a) {
                    Some(a) => Cell::Int(a.value(row), self.conversion),
                    None => Cell::Bug,
                }
            }
            C::FloatToF64 | C::FloatToF32 => match downcast::<Float64Array>(a) {
                Some(a) => Cell::Float(a.value(row), self.conversion),
                None => Cell::Bug,
            },
            C::Text => downcast::<StringArray>(a).map_or(Cell::Bug, |a| Cell::Text(a.value(row))),
            C::TextToJsonb => downcast::<StringArray>(a).map_or(Cell::Bug, |a| Cell::Jsonb(a.value(row))),
            C::Bytea => downcast::<BinaryArray>(a).map_or(Cell::Bug, |a| Cell::Bytes(a.value(row))),
            C::Timestamp => {
                downcast::<TimestampMicrosecondArray>(a).map_or(Cell::Bug, |a| Cell::Timestamp(a.value(row)))
            }
            C::Date => downcast::<Date32Array>(a).map_or(Cell::Bug, |a| Cell::Date(a.value(row))),
            C::Time => downcast::<Time64MicrosecondArray>(a).map_or(Cell::Bug, |a| Cell::Time(a.value(row))),
            C::DecimalToNumeric | C::DecimalToF64 => match downcast::<Decimal128Array>(a) {
                Some(a) => Cell::Decimal(a.value(row), self.scale, self.conversion),
                None => Cell::Bug,
            },
        }
    }
}

fn downcast<T: 'static>(array: &ArrayRef) -> Option<&T> {
    array.as_any().downcast_ref::<T>()
}

/// One value in PostgreSQL's binary format for its destination column.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    Null,
    Bool(bool),
    Int(i64, Conversion),
    Float(f64, Conversion),
    Text(&'a str),
    Jsonb(&'a str),
    Bytes(&'a [u8]),
    /// Microseconds since the Unix epoch.
    Timestamp(i64),
    /// Days since the Unix epoch.
    Date(i32),
    /// Microseconds since midnight.
    Time(i64),
    /// Unscaled value and scale.
    Decimal(i128, i8, Conversion),
    /// A column whose array did not have its canonical type.
    Bug,
}

impl ToSql for Cell<'_> {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match *self {
            Cell::Null => return Ok(IsNull::Yes),
            Cell::Bool(v) => out.put_u8(u8::from(v)),
            Cell::Int(v, Conversion::IntToI16) => {
                out.put_i16(i16::try_from(v).map_err(|_| format!("{v} does not fit a smallint column"))?)
            }
            Cell::Int(v, Conversion::IntToI32) => {
                out.put_i32(i32::try_from(v).map_err(|_| format!("{v} does not fit an integer column"))?)
            }
            Cell::Int(v, Conversion::IntToF64) => out.put_f64(v as f64),
            Cell::Int(v, Conversion::IntToNumeric) => put_numeric(i128::from(v), 0, out),
            Cell::Int(v, _) => out.put_i64(v),
            Cell::Float(v, Conversion::FloatToF32) => out.put_f32(v as f32),
            Cell::Float(v, _) => out.put_f64(v),
            Cell::Text(s) => out.put_slice(s.as_bytes()),
            Cell::Jsonb(s) => {
                // jsonb's binary format: version 1, then the JSON text.
                out.put_u8(1);
                out.put_slice(s.as_bytes());
            }
            Cell::Bytes(b) => out.put_slice(b),
            Cell::Timestamp(us) => out.put_i64(
                us.checked_sub(PG_EPOCH_MICROS)
                    .ok_or_else(|| format!("timestamp {us} µs is out of PostgreSQL's range"))?,
            ),
            Cell::Date(days) => out.put_i32(
                days.checked_sub(PG_EPOCH_DAYS)
                    .ok_or_else(|| format!("date {days} is out of PostgreSQL's range"))?,
            ),
            Cell::Time(us) => out.put_i64(us),
            Cell::Decimal(v, scale, Conversion::DecimalToF64) => {
                out.put_f64(v as f64 / 10f64.powi(i32::from(scale)))
            }
            Cell::Decimal(v, scale, _) => put_numeric(v, scale, out),
            Cell::Bug => return Err("internal error: a column was not cast to its canonical type".into()),
        }
        Ok(IsNull::No)
    }

    fn accepts(_ty: &Type) -> bool {
        // Columns are checked against their destination types once per job (`conversion`).
        true
    }

    to_sql_checked!();
}

/// `value × 10^-scale` in PostgreSQL's binary `numeric` format: digit count, weight (of the first
/// base-10000 digit), sign, display scale, then base-10000 digits.
pub(crate) fn put_numeric(value: i128, scale: i8, out: &mut BytesMut) {
    let negative = value < 0;
    let mut decimal = value.unsigned_abs().to_string();
    // A negative scale multiplies: 12 with scale -2 is 1200.
    let scale = if scale < 0 {
        decimal.extend(std::iter::repeat_n('0', usize::from(scale.unsigned_abs())));
        0usize
    } else {
        scale as usize
    };
    if decimal.len() <= scale {
        decimal = "0".repeat(scale + 1 - decimal.len()) + &decimal;
    }
    let (int_part, frac_part) = decimal.split_at(decimal.len() - scale);
    let group = |s: &str| s.bytes().fold(0i16, |acc, b| acc * 10 + i16::from(b - b'0'));
    let mut digits: Vec<i16> = Vec::new();
    let int_pad = (4 - int_part.len() % 4) % 4;
    let int_padded = "0".repeat(int_pad) + int_part;
    for chunk in int_padded.as_bytes().chunks(4) {
        digits.push(group(std::str::from_utf8(chunk).unwrap_or("0")));
    }
    let mut weight = digits.len() as i16 - 1;
    let frac_padded = frac_part.to_string() + &"0".repeat((4 - frac_part.len() % 4) % 4);
    for chunk in frac_padded.as_bytes().chunks(4) {
        digits.push(group(std::str::from_utf8(chunk).unwrap_or("0")));
    }
    while digits.first() == Some(&0) {
        digits.remove(0);
        weight -= 1;
    }
    while digits.last() == Some(&0) {
        digits.pop();
    }
    if digits.is_empty() {
        weight = 0;
    }
    out.put_i16(digits.len() as i16);
    out.put_i16(weight);
    out.put_u16(if negative && !digits.is_empty() { 0x4000 } else { 0 });
    out.put_i16(scale as i16);
    for d in digits {
        out.put_i16(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(value: i128, scale: i8) -> Vec<i16> {
        let mut out = BytesMut::new();
        put_numeric(value, scale, &mut out);
        out.chunks(2).map(|c| i16::from_be_bytes([c[0], c[1]])).collect()
    }

    #[test]
    fn numeric_binary_format() {
        // ndigits, weight, sign, dscale, digits...
        assert_eq!(numeric(0, 0), [0, 0, 0, 0]);
        assert_eq!(numeric(0, 3), [0, 0, 0, 3]);
        assert_eq!(numeric(1, 0), [1, 0, 0, 0, 1]);
        assert_eq!(numeric(10_000, 0), [1, 1, 0, 0, 1]);
        assert_eq!(numeric(12_345_678_900, 9), [3, 0, 0, 9, 12, 3456, 7890]);
        assert_eq!(numeric(-1, 3), [1, -1, 0x4000, 3, 10]);
        assert_eq!(numeric(123_456, 2), [2, 0, 0, 2, 1234, 5600]);
        assert_eq!(numeric(12, -2), [1, 0, 0, 0, 1200]);
        assert_eq!(numeric(5, 5), [1, -2, 0, 5, 5000]);
    }

    #[test]
    fn conversions_pair_types() {
        let f = |t: ArrowType| Field::new("c", t, true);
        assert_eq!(
            conversion(&f(ArrowType::Int32), &Type::INT8),
            Ok(Conversion::IntToI64)
        );
        assert_eq!(
            conversion(&f(ArrowType::Utf8), &Type::JSONB),
            Ok(Conversion::TextToJsonb)
        );
        assert_eq!(
            conversion(
                &f(ArrowType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))),
                &Type::TIMESTAMPTZ
            ),
            Ok(Conversion::Timestamp)
        );
        assert_eq!(conversion(&f(ArrowType::Null), &Type::DATE), Ok(Conversion::Null));
        assert!(
            conversion(&f(ArrowType::Utf8), &Type::INT8)
                .is_err_and(|e| e.contains("Utf8") && e.contains("int8"))
        );
    }

    #[test]
    fn overflow_is_an_error() {
        let mut out = BytesMut::new();
        let cell = Cell::Int(70_000, Conversion::IntToI16);
        assert!(cell.to_sql(&Type::INT2, &mut out).is_err());
        let cell = Cell::Int(7, Conversion::IntToI16);
        assert!(cell.to_sql(&Type::INT2, &mut out).is_ok());
        assert_eq!(&out[..], &[0, 7]);
    }
}
