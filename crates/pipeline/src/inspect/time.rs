//! RFC 3339 timestamps of trace and package files: parsed for durations, shortened for display.

/// Microseconds since the Unix epoch of an RFC 3339 timestamp (`2025-06-11T18:39:47.541553Z`, also with
/// a `+hh:mm`/`-hh:mm` offset and any number of fraction digits). `None` when it is not one.
pub(crate) fn parse_micros(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(range)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    let mut micros = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        for (i, c) in frac[..digits].bytes().enumerate() {
            if i < 6 {
                micros = micros * 10 + i64::from(c - b'0');
            }
        }
        for _ in digits..6 {
            micros *= 10;
        }
        rest = &frac[digits..];
    }
    let offset_secs = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let tail = rest.get(1..)?;
            let (h, m) = tail.split_once(':')?;
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
            sign * (h * 3600 + m * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    Some(secs * 1_000_000 + micros)
}

/// Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Seconds from `start` to `end`, when both parse and `end` is not earlier.
pub(crate) fn seconds_between(start: &str, end: &str) -> Option<f64> {
    let (s, e) = (parse_micros(start)?, parse_micros(end)?);
    (e >= s).then(|| (e - s) as f64 / 1e6)
}

/// A timestamp for people: `2025-06-11 18:39:47 UTC` for a UTC RFC 3339 value, the text unchanged
/// otherwise.
pub(crate) fn short(text: &str) -> String {
    match (parse_micros(text), text.get(..19)) {
        (Some(_), Some(head)) if text.ends_with(['Z', 'z']) => format!("{} UTC", head.replacen('T', " ", 1)),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_format_rfc3339_writes() {
        for micros in [
            0u64,
            1_749_667_187_541_553,
            951_782_400_000_001,
            4_102_444_799_999_999,
        ] {
            let time = std::time::UNIX_EPOCH + std::time::Duration::from_micros(micros);
            let text = package::format_rfc3339(time);
            assert_eq!(parse_micros(&text), Some(micros as i64), "{text}");
        }
    }

    #[test]
    fn offsets_fractions_and_garbage() {
        assert_eq!(parse_micros("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_micros("1970-01-01T00:00:00.5Z"), Some(500_000));
        assert_eq!(parse_micros("1970-01-01T00:00:00.1234567Z"), Some(123_456));
        assert_eq!(parse_micros("1969-12-31T23:59:59Z"), Some(-1_000_000));
        for bad in [
            "",
            "yesterday",
            "2025-13-01T00:00:00Z",
            "2025-06-11T18:39:47",
            "2025-06-11T18:39:47.Z",
        ] {
            assert_eq!(parse_micros(bad), None, "{bad}");
        }
        assert_eq!(
            seconds_between("2026-11-29T06:17:04.512579Z", "2026-11-29T06:17:05.735574Z"),
            Some(1.222995)
        );
        assert_eq!(
            seconds_between("2026-11-29T06:17:05Z", "2026-11-29T06:17:04Z"),
            None
        );
        assert_eq!(short("2026-11-29T06:17:04.512579Z"), "2026-11-29 06:17:04 UTC");
        assert_eq!(short("not a time"), "not a time");
    }
}
