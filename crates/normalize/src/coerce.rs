//! dlt's type inference and coercion of one value into a column type (`type_helpers.py`:
//! `py_type_to_sc_type`, `_COERCE_DISPATCH`, `coerce_value`; `detections.py::is_iso_timestamp`).

use std::borrow::Cow;
use std::fmt::Write as _;

use base64::Engine as _;
use package::schema::DataType;

use crate::datetime;
use crate::json::{Tape, Tok, TokIdx, write_json};
use crate::pyconv;

/// A source value as dlt's normalizer sees it (a Python object from `json.loads`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Val<'t> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string, or an integer too large for a bigint (kept as its digits; see the crate docs).
    Str(&'t str),
    /// A dict or list kept whole (a `json` column, or nesting beyond the limit).
    Json(TokIdx),
}

impl<'t> Val<'t> {
    /// The value at `idx` of `tape`.
    pub(crate) fn at(tape: &'t Tape, idx: TokIdx) -> Val<'t> {
        match tape.toks.get(idx as usize) {
            None | Some(Tok::Null) => Val::Null,
            Some(Tok::Bool(b)) => Val::Bool(*b),
            Some(Tok::Int(i)) => Val::Int(*i),
            Some(Tok::Float(f)) => Val::Float(*f),
            Some(Tok::BigInt(s) | Tok::Str(s) | Tok::Key(s)) => Val::Str(tape.str(*s)),
            Some(Tok::Obj { .. } | Tok::Arr { .. }) => Val::Json(idx),
        }
    }

    /// dlt's `py_type_to_sc_type` of the value's Python type (`None` for `None`).
    pub(crate) fn py_type(&self) -> Option<DataType> {
        match self {
            Val::Null => None,
            Val::Bool(_) => Some(DataType::Bool),
            Val::Int(_) => Some(DataType::Bigint),
            Val::Float(_) => Some(DataType::Double),
            Val::Str(_) => Some(DataType::Text),
            Val::Json(_) => Some(DataType::Json),
        }
    }
}

/// A value ready for a column builder.
#[derive(Debug, Clone)]
pub(crate) enum Cell<'t> {
    Text(Cow<'t, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Microseconds since the epoch, UTC.
    Timestamp(i64),
    /// Days since the epoch.
    Date(i32),
    /// Microseconds since midnight.
    Time(i64),
    Binary(Vec<u8>),
    /// Unscaled value of a decimal with the column's scale (boxed: rare, and it keeps cells small).
    Decimal(Box<i128>),
}

/// dlt's `_infer_column_type` for a new column: the `iso_timestamp` detection for strings, else the
/// Python type's dlt type. `None` for null.
pub(crate) fn infer_type(val: &Val<'_>) -> Option<DataType> {
    match val {
        Val::Str(s) if datetime::detect_timestamp(s).is_some() => Some(DataType::Timestamp),
        other => other.py_type(),
    }
}

/// dlt's `coerce_value(to_type, py_type(value), value)`, returning the cell to store, or `None` when dlt
/// raises (the value then goes to a variant column). `scale` is the column's decimal scale.
pub(crate) fn coerce<'t>(tape: &'t Tape, to: DataType, val: &Val<'t>, scale: u32) -> Option<Cell<'t>> {
    match (to, *val) {
        (_, Val::Null) => None,
        // to text
        (DataType::Text, Val::Str(s)) => Some(Cell::Text(Cow::Borrowed(s))),
        (DataType::Text, Val::Int(i)) => Some(Cell::Text(Cow::Owned(i.to_string()))),
        (DataType::Text, Val::Float(f)) => Some(Cell::Text(Cow::Owned(pyconv::py_float_repr(f)))),
        (DataType::Text, Val::Bool(b)) => Some(Cell::Text(Cow::Borrowed(if b { "True" } else { "False" }))),
        (DataType::Text | DataType::Json, Val::Json(idx)) => {
            let mut text = String::new();
            write_json(tape, idx, &mut text);
            Some(Cell::Text(Cow::Owned(text)))
        }
        // to bigint
        (DataType::Bigint, Val::Int(i)) => Some(Cell::Int(i)),
        (DataType::Bigint, Val::Str(s)) => pyconv::text_to_bigint(s).map(Cell::Int),
        (DataType::Bigint, Val::Float(f)) => pyconv::double_to_bigint(f).map(Cell::Int),
        // to double
        (DataType::Double, Val::Float(f)) => Some(Cell::Float(f)),
        (DataType::Double, Val::Int(i)) => Some(Cell::Float(i as f64)),
        (DataType::Double, Val::Str(s)) => pyconv::text_to_double(s).map(Cell::Float),
        // to bool
        (DataType::Bool, Val::Bool(b)) => Some(Cell::Bool(b)),
        (DataType::Bool, Val::Int(i)) => Some(Cell::Bool(i != 0)),
        (DataType::Bool, Val::Float(f)) => Some(Cell::Bool(f != 0.0)),
        (DataType::Bool, Val::Str(s)) => pyconv::text_to_bool(s).map(Cell::Bool),
        // to timestamp
        (DataType::Timestamp, Val::Str(s)) => datetime::text_to_timestamp(s).map(Cell::Timestamp),
        (DataType::Timestamp, Val::Int(i)) => datetime::int_to_timestamp(i).map(Cell::Timestamp),
        (DataType::Timestamp, Val::Float(f)) => datetime::float_to_timestamp(f).map(Cell::Timestamp),
        // to json: text must be JSON itself
        (DataType::Json, Val::Str(s)) => {
            let mut inner = Tape::default();
            inner.parse(s.as_bytes()).ok()?;
            let mut text = String::new();
            write_json(&inner, 0, &mut text);
            Some(Cell::Text(Cow::Owned(text)))
        }
        // to date
        (DataType::Date, Val::Str(s)) => datetime::text_to_date(s).map(Cell::Date),
        (DataType::Date, Val::Int(i)) => datetime::int_to_timestamp(i)
            .and_then(|us| i32::try_from(us.div_euclid(86_400_000_000)).ok())
            .map(Cell::Date),
        (DataType::Date, Val::Float(f)) => datetime::float_to_timestamp(f)
            .and_then(|us| i32::try_from(us.div_euclid(86_400_000_000)).ok())
            .map(Cell::Date),
        // to time
        (DataType::Time, Val::Str(s)) => datetime::text_to_time(s).map(Cell::Time),
        // to decimal and wei
        (DataType::Decimal | DataType::Wei, Val::Str(s)) => {
            decimal_from_text(crate::naming::py_strip(s), scale)
        }
        (DataType::Decimal | DataType::Wei, Val::Int(i)) => i128::from(i)
            .checked_mul(10i128.checked_pow(scale)?)
            .map(|v| Cell::Decimal(Box::new(v))),
        (DataType::Decimal | DataType::Wei, Val::Float(f)) => {
            if !f.is_finite() {
                return None;
            }
            decimal_from_text(&pyconv::py_float_repr(f), scale)
        }
        // to binary
        (DataType::Binary, Val::Str(s)) => match s.strip_prefix("0x") {
            Some(hex) => hex_decode(hex).map(Cell::Binary),
            None => base64::engine::general_purpose::STANDARD
                .decode(s)
                .ok()
                .map(Cell::Binary),
        },
        (DataType::Binary, Val::Int(i)) => {
            if i < 0 {
                // Python's int.to_bytes refuses negative numbers without `signed=True`
                return None;
            }
            let bytes = i.to_le_bytes();
            let len = (64 - i.leading_zeros()).div_ceil(8) as usize;
            Some(Cell::Binary(bytes[..len].to_vec()))
        }
        _ => None,
    }
}

/// A decimal text (`Decimal(text)`) as an unscaled integer with `scale` digits after the point, when
/// it is exact at that scale and fits 38 digits.
fn decimal_from_text<'t>(text: &str, scale: u32) -> Option<Cell<'t>> {
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(pos) => (&body[..pos], body[pos + 1..].parse::<i32>().ok()?),
        None => (body, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part
        .bytes()
        .chain(frac_part.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut digits: String = format!("{int_part}{frac_part}");
    // value = digits × 10^(exponent - frac_len); we want digits × 10^(exponent - frac_len + scale)
    let shift = exponent
        .saturating_sub(frac_part.len() as i32)
        .saturating_add(scale as i32);
    let significant = digits.trim_start_matches('0').len() as i64;
    if significant == 0 {
        return Some(Cell::Decimal(Box::new(0)));
    }
    if significant + i64::from(shift) > 38 {
        // more than 38 digits at this scale
        return None;
    }
    if shift >= 0 {
        digits.extend(std::iter::repeat_n('0', shift as usize));
    } else {
        let cut = shift.unsigned_abs() as usize;
        let keep = digits.len().saturating_sub(cut);
        if !digits[keep..].bytes().all(|b| b == b'0') {
            return None;
        }
        digits.truncate(keep);
    }
    let trimmed = digits.trim_start_matches('0');
    if trimmed.len() > 38 {
        return None;
    }
    let value: i128 = if trimmed.is_empty() {
        0
    } else {
        trimmed.parse().ok()?
    };
    Some(Cell::Decimal(Box::new(if negative { -value } else { value })))
}

fn hex_decode(hex: &str) -> Option<Vec<u8>> {
    let bytes = hex.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks(2)
        .map(|pair| {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            Some((hi * 16 + lo) as u8)
        })
        .collect()
}

/// A human description of a value's type for error messages.
pub(crate) fn describe(val: &Val<'_>) -> String {
    let mut out = String::new();
    match val.py_type() {
        Some(t) => {
            let _ = write!(out, "{t}");
        }
        None => out.push_str("null"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        let t = |s: &str| match decimal_from_text(s, 9) {
            Some(Cell::Decimal(v)) => Some(*v),
            _ => None,
        };
        assert_eq!(t("1.5"), Some(1_500_000_000));
        assert_eq!(t("-2"), Some(-2_000_000_000));
        assert_eq!(t("1e-9"), Some(1));
        assert_eq!(t("1e-10"), None);
        assert_eq!(t("abc"), None);
        assert_eq!(t("1e999999999"), None);
        assert_eq!(t("0e999999999"), Some(0));
        assert_eq!(t("1e-2147483648"), None);
    }
}
