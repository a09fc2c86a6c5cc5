//! Python's number parsing and printing as dlt's coercions meet them: `int()` and `float()` of text
//! (whitespace, `_` separators, Unicode digits), `str()` of a float, and orjson's float format for JSON
//! text.

use crate::naming::{nd_digit_value, py_strip};

/// Text as Python's number parsers see it: stripped, Unicode decimal digits turned into ASCII ones.
/// `None` when a non-ASCII character other than a digit remains.
fn ascii_number(text: &str) -> Option<String> {
    let stripped = py_strip(text);
    let mut out = String::with_capacity(stripped.len());
    for c in stripped.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let digit = nd_digit_value(c)?;
            out.push(char::from(b'0' + digit as u8));
        }
    }
    Some(out)
}

/// Removes `_` separators where PEP 515 allows them (each one between two digits of `is_digit`);
/// `None` when one is misplaced.
fn remove_underscores(text: &str, is_digit: fn(u8) -> bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            let before = i.checked_sub(1).map(|j| bytes[j]);
            let after = bytes.get(i + 1).copied();
            if !(before.is_some_and(is_digit) && after.is_some_and(is_digit)) {
                return None;
            }
        } else {
            out.push(char::from(b));
        }
    }
    Some(out)
}

/// Python's `int(text)` (base 10) or `int(text, 16)`, when the result fits an `i64`.
pub(crate) fn parse_py_int(text: &str, base: u32) -> Option<i64> {
    let ascii = ascii_number(text)?;
    let (negative, rest) = match ascii.as_bytes().first() {
        Some(b'-') => (true, &ascii[1..]),
        Some(b'+') => (false, &ascii[1..]),
        _ => (false, ascii.as_str()),
    };
    let body = if base == 16 {
        let unprefixed = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X"));
        match unprefixed {
            // an `_` may follow the prefix
            Some(after) => after.strip_prefix('_').unwrap_or(after),
            None => rest,
        }
    } else {
        rest
    };
    if body.is_empty() {
        return None;
    }
    let is_digit: fn(u8) -> bool = if base == 16 {
        |b| b.is_ascii_hexdigit()
    } else {
        |b| b.is_ascii_digit()
    };
    let digits = remove_underscores(body, is_digit)?;
    if digits.is_empty() || !digits.bytes().all(is_digit) {
        return None;
    }
    let magnitude = u128::from_str_radix(digits.trim_start_matches('0'), base)
        .ok()
        .or_else(|| {
            // only zeros
            digits.bytes().all(|b| b == b'0').then_some(0)
        })?;
    if negative {
        if magnitude > i64::MAX as u128 + 1 {
            return None;
        }
        Some((magnitude as i128).wrapping_neg() as i64)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Python's `float(text)`.
pub(crate) fn parse_py_float(text: &str) -> Option<f64> {
    let ascii = ascii_number(text)?;
    let lower = ascii.to_ascii_lowercase();
    let unsigned = lower.strip_prefix(['+', '-']).unwrap_or(&lower);
    if matches!(unsigned, "inf" | "infinity" | "nan") {
        return lower.parse::<f64>().ok();
    }
    let cleaned = remove_underscores(&ascii, |b| b.is_ascii_digit())?;
    // Python's grammar: [sign] (digits [. [digits]] | . digits) [(e|E) [sign] digits]
    let bytes = cleaned.as_bytes();
    let mut i = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - frac_start;
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != bytes.len() {
        return None;
    }
    cleaned.parse::<f64>().ok()
}

/// dlt's `_text_to_bigint`: strip, `0x…` read as hexadecimal, else Python's `int()`. `None` when dlt
/// refuses the text or the number does not fit a bigint.
pub(crate) fn text_to_bigint(text: &str) -> Option<i64> {
    let trimmed = py_strip(text);
    match trimmed.strip_prefix("0x") {
        Some(hex) => parse_py_int(hex, 16),
        None => parse_py_int(trimmed, 10),
    }
}

/// dlt's `_text_to_double`: strip, `0x…` read as a hexadecimal integer, else Python's `float()`.
pub(crate) fn text_to_double(text: &str) -> Option<f64> {
    let trimmed = py_strip(text);
    match trimmed.strip_prefix("0x") {
        Some(hex) => parse_py_int(hex, 16).map(|i| i as f64),
        None => parse_py_float(trimmed),
    }
}

/// dlt's `str2bool`.
pub(crate) fn text_to_bool(text: &str) -> Option<bool> {
    const TRUE: [&str; 5] = ["yes", "true", "t", "y", "1"];
    const FALSE: [&str; 5] = ["no", "false", "f", "n", "0"];
    if TRUE.iter().any(|w| w.eq_ignore_ascii_case(text)) {
        Some(true)
    } else if FALSE.iter().any(|w| w.eq_ignore_ascii_case(text)) {
        Some(false)
    } else {
        None
    }
}

/// dlt's `_numeric_to_bigint` of a float: only integral values, and only those a bigint holds.
pub(crate) fn double_to_bigint(value: f64) -> Option<i64> {
    if !value.is_finite() || value.fract() != 0.0 {
        return None;
    }
    // -2^63 and 2^63 are exact doubles; the range check is exact
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&value) {
        Some(value as i64)
    } else {
        None
    }
}

/// The shortest round-trip digits of a finite, non-zero `value` and the decimal exponent of the first
/// digit: `value = 0.d1d2… × 10^(exp + 1)`, i.e. `d1.d2… × 10^exp`.
fn shortest_digits(value: f64) -> (String, i32) {
    let mut buffer = ryu::Buffer::new();
    let text = buffer.format_finite(value.abs());
    let (mantissa, exponent) = match text.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (text, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits: String = format!("{int_part}{frac_part}");
    // exponent of the first digit before removing leading zeros
    let mut first_exp = exponent + int_part.len() as i32 - 1;
    let leading = digits.len() - digits.trim_start_matches('0').len();
    digits.drain(..leading);
    first_exp -= leading as i32;
    let trimmed_len = digits.trim_end_matches('0').len();
    digits.truncate(trimmed_len.max(1));
    (digits, first_exp)
}

/// Writes `digits × 10^exp` (first digit at `exp`) in fixed notation, always with a fractional part.
fn write_fixed(out: &mut String, digits: &str, exp: i32) {
    if exp < 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
        out.push_str(digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
}

fn write_scientific(out: &mut String, digits: &str, exp: i32, pad_exponent: bool) {
    out.push_str(&digits[..1]);
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    if pad_exponent {
        out.push_str(&format!("{:02}", exp.abs()));
    } else {
        out.push_str(&exp.abs().to_string());
    }
}

fn format_float(value: f64, min_fixed_exp: i32, pad_exponent: bool) -> String {
    if value.is_nan() {
        return "nan".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 {
            "inf".to_owned()
        } else {
            "-inf".to_owned()
        };
    }
    let mut out = String::new();
    if value.is_sign_negative() {
        out.push('-');
    }
    if value == 0.0 {
        out.push_str("0.0");
        return out;
    }
    let (digits, exp) = shortest_digits(value);
    if (min_fixed_exp..16).contains(&exp) {
        write_fixed(&mut out, &digits, exp);
    } else {
        write_scientific(&mut out, &digits, exp, pad_exponent);
    }
    out
}

/// Python's `str(float)` / `repr(float)`: fixed notation for exponents -4..15, else `1.5e+16`.
pub(crate) fn py_float_repr(value: f64) -> String {
    format_float(value, -4, true)
}

/// orjson's rendering of a float in JSON text: fixed notation for exponents -5..15, else `1.5e+16`,
/// `1e-6`. Non-finite values have no JSON form; orjson writes `null`.
pub(crate) fn json_float(value: f64) -> String {
    if !value.is_finite() {
        return "null".to_owned();
    }
    format_float(value, -5, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_repr() {
        for (v, s) in [
            (1.0, "1.0"),
            (1e16, "1e+16"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (123.456, "123.456"),
            (1.2345678901234568e20, "1.2345678901234568e+20"),
            (-0.0, "-0.0"),
            (9999000000000000.0, "9999000000000000.0"),
            (5e-324, "5e-324"),
            (1.5e300, "1.5e+300"),
            (0.1, "0.1"),
        ] {
            assert_eq!(py_float_repr(v), s);
        }
    }

    #[test]
    fn orjson_format() {
        for (v, s) in [
            (1e-5, "0.00001"),
            (1e-6, "1e-6"),
            (1.5e-7, "1.5e-7"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.5, "0.5"),
            (100.0, "100.0"),
        ] {
            assert_eq!(json_float(v), s);
        }
    }

    #[test]
    fn ints_and_floats() {
        assert_eq!(text_to_bigint(" 42 "), Some(42));
        assert_eq!(text_to_bigint("0x1F"), Some(31));
        assert_eq!(text_to_bigint("0X1F"), None);
        assert_eq!(text_to_bigint("0x0x1f"), Some(31));
        assert_eq!(text_to_bigint("0x_1f"), None);
        assert_eq!(text_to_bigint("1_000"), Some(1000));
        assert_eq!(text_to_bigint("1__000"), None);
        assert_eq!(text_to_bigint("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(text_to_bigint("9223372036854775808"), None);
        assert_eq!(text_to_bigint("١٢٣"), Some(123));
        assert_eq!(text_to_double("1_0.5"), Some(10.5));
        assert_eq!(text_to_double("5."), Some(5.0));
        assert_eq!(text_to_double("."), None);
        assert!(text_to_double("-nan").is_some_and(f64::is_nan));
        assert_eq!(text_to_bool("TRUE"), Some(true));
        assert_eq!(text_to_bool("on"), None);
    }
}
