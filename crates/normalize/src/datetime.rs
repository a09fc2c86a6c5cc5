//! Date and time parsing as dlt does it: pendulum's ISO 8601 parser (`pendulum/rust/src/parsing.rs`,
//! pendulum 3.3) with pendulum's `_parse_common` fallback (`pendulum/parsing/__init__.py`), the value
//! checks of Python's `datetime`, and `pendulum.from_timestamp` for numbers.
//!
//! Results are microseconds since the Unix epoch in UTC; naive values are taken as UTC (dlt's context
//! timezone defaults to UTC).

use crate::naming::nd_digit_value;

/// Microseconds per second.
const MICROS: i64 = 1_000_000;
/// Seconds from 0001-01-01 to 1970-01-01 (the earliest second Python's `datetime` holds).
const MIN_EPOCH_SECONDS: i64 = -62_135_596_800;
/// Seconds from 1970-01-01 to 10000-01-01 (one past the latest second Python's `datetime` holds).
const MAX_EPOCH_SECONDS: i64 = 253_402_300_800;

/// A parsed calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

/// A parsed date and time, with its UTC offset in seconds when it had one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DateTime {
    pub date: Date,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub microsecond: u32,
    pub offset_seconds: Option<i32>,
}

/// What an ISO-like string parsed into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parsed {
    DateTime(DateTime),
    Date(Date),
    /// A time of day, or a duration: neither becomes a timestamp.
    Other,
}

impl DateTime {
    /// Microseconds since the epoch in UTC; `None` outside the years 1..9999 Python's `datetime` holds
    /// (dlt fails on those with an `OverflowError`).
    pub(crate) fn to_utc_micros(self) -> Option<i64> {
        let days = days_from_civil(self.date.year, self.date.month, self.date.day);
        let seconds = days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
            - i64::from(self.offset_seconds.unwrap_or(0));
        // Python refuses offsets of a whole day or more when it converts
        if self.offset_seconds.is_some_and(|o| o.abs() >= 86_400) {
            return None;
        }
        if !(MIN_EPOCH_SECONDS..MAX_EPOCH_SECONDS).contains(&seconds) {
            return None;
        }
        Some(seconds * MICROS + i64::from(self.microsecond))
    }

    fn is_valid(&self) -> bool {
        self.date.is_valid()
            && self.hour < 24
            && self.minute < 60
            && self.second < 60
            && self.microsecond < 1_000_000
            // Python's tzinfo offsets must lie strictly within one day
            && self.offset_seconds.is_none_or(|o| o.abs() < 86_400)
    }
}

impl Date {
    /// Midnight of this date as UTC microseconds.
    pub(crate) fn to_utc_micros(self) -> Option<i64> {
        DateTime {
            date: self,
            hour: 0,
            minute: 0,
            second: 0,
            microsecond: 0,
            offset_seconds: None,
        }
        .to_utc_micros()
    }

    fn is_valid(&self) -> bool {
        (1..=9999).contains(&self.year)
            && (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
    }
}

/// dlt's `is_iso_timestamp` detection: a non-empty string that parses (pendulum ISO 8601, then the
/// common-format fallback) into a full date and time. Also requires the value to be convertible to UTC,
/// which dlt's own conversion needs anyway (dlt fails the whole normalize on such values later).
pub(crate) fn detect_timestamp(text: &str) -> Option<i64> {
    if let Some(micros) = fast_iso_datetime(text.as_bytes()) {
        return Some(micros);
    }
    if text.is_empty() {
        return None;
    }
    match parse_iso_like(text) {
        Some(Parsed::DateTime(dt)) => dt.to_utc_micros(),
        _ => None,
    }
}

/// dlt's coercion of text into a `timestamp` column (`ensure_datetime` → `_parse_pendulum_datetime`):
/// an ISO 8601 date-time; else an ISO-like date (midnight) or date-time; else a number of seconds since
/// the epoch as Python's `float()` reads it. UTC microseconds, or `None` when dlt refuses the value.
pub(crate) fn text_to_timestamp(text: &str) -> Option<i64> {
    if let Some(micros) = fast_iso_datetime(text.as_bytes()) {
        return Some(micros);
    }
    if let Ok(Parsed::DateTime(dt)) = parse_iso8601(text) {
        return dt.to_utc_micros();
    }
    match parse_iso_like(text) {
        Some(Parsed::DateTime(dt)) => dt.to_utc_micros(),
        Some(Parsed::Date(d)) => d.to_utc_micros(),
        // a time of day raises after parsing, without the fallback to a number
        Some(Parsed::Other) => None,
        None => {
            let seconds = crate::pyconv::parse_py_float(text)?;
            float_to_timestamp(seconds)
        }
    }
}

/// dlt's coercion of text into a `date` column (`date.fromisoformat`, else `ensure_pendulum_date`):
/// days since the epoch.
pub(crate) fn text_to_date(text: &str) -> Option<i32> {
    match parse_iso_like(text) {
        Some(Parsed::Date(d)) if d.is_valid() => i32::try_from(days_from_civil(d.year, d.month, d.day)).ok(),
        Some(Parsed::DateTime(dt)) => {
            let micros = dt.to_utc_micros()?;
            i32::try_from(micros.div_euclid(86_400 * MICROS)).ok()
        }
        _ => None,
    }
}

/// dlt's coercion of text into a `time` column: microseconds since midnight of an ISO time of day.
pub(crate) fn text_to_time(text: &str) -> Option<i64> {
    let mut parser = IsoParser::new(text);
    let raw = parser.parse().ok()?;
    if raw.has_date || !raw.has_time || raw.hour >= 24 || raw.minute >= 60 || raw.second >= 60 {
        return None;
    }
    Some(
        (i64::from(raw.hour) * 3600 + i64::from(raw.minute) * 60 + i64::from(raw.second)) * MICROS
            + i64::from(raw.microsecond),
    )
}

/// The common shape `YYYY-MM-DDTHH:MM:SS[.f…][Z|±HH:MM]` (Looker's rendering) read without the general
/// parser. `Some` only for a valid date-time in range, which pendulum reads the same way; anything else
/// (another shape, an invalid field) is left to the general path.
fn fast_iso_datetime(b: &[u8]) -> Option<i64> {
    fn two(b: &[u8], i: usize) -> Option<u32> {
        let (h, l) = (*b.get(i)?, *b.get(i + 1)?);
        (h.is_ascii_digit() && l.is_ascii_digit()).then(|| u32::from(h - b'0') * 10 + u32::from(l - b'0'))
    }
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = two(b, 0)? * 100 + two(b, 2)?;
    let (month, day, hour, minute, second) = (two(b, 5)?, two(b, 8)?, two(b, 11)?, two(b, 14)?, two(b, 17)?);
    let mut i = 19;
    let mut microsecond = 0u32;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 6 {
                microsecond = microsecond * 10 + u32::from(b[i] - b'0');
            }
            i += 1;
        }
        let digits = i - start;
        if digits == 0 {
            return None;
        }
        for _ in digits..6 {
            microsecond *= 10;
        }
    }
    let offset = match &b[i..] {
        [] => None,
        [b'Z'] => Some(0),
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let minutes = (two(b, i + 1)? * 60 + two(b, i + 4)?) as i32;
            if minutes >= 24 * 60 {
                return None;
            }
            Some(if *sign == b'-' {
                -minutes * 60
            } else {
                minutes * 60
            })
        }
        _ => return None,
    };
    let dt = DateTime {
        date: Date {
            year: year as i32,
            month,
            day,
        },
        hour,
        minute,
        second,
        microsecond,
        offset_seconds: offset,
    };
    if !dt.is_valid() {
        return None;
    }
    dt.to_utc_micros()
}

/// `pendulum.from_timestamp(int)`: UTC microseconds, `None` outside Python's `datetime` range.
pub(crate) fn int_to_timestamp(seconds: i64) -> Option<i64> {
    if !(MIN_EPOCH_SECONDS..MAX_EPOCH_SECONDS).contains(&seconds) {
        return None;
    }
    Some(seconds * MICROS)
}

/// `pendulum.from_timestamp(float)`: CPython splits the float into whole seconds and microseconds
/// rounded half to even (`_PyTime_ObjectToTimeval`).
pub(crate) fn float_to_timestamp(seconds: f64) -> Option<i64> {
    if !seconds.is_finite() {
        return None;
    }
    let mut int_part = seconds.trunc();
    let mut frac = ((seconds - int_part) * 1e6).round_ties_even();
    if frac >= 1e6 {
        frac -= 1e6;
        int_part += 1.0;
    } else if frac < 0.0 {
        frac += 1e6;
        int_part -= 1.0;
    }
    if !(MIN_EPOCH_SECONDS as f64..MAX_EPOCH_SECONDS as f64).contains(&int_part) {
        return None;
    }
    // both parts are integral and in range
    Some(int_part as i64 * MICROS + frac as i64)
}

/// dlt's `parse_iso_like_datetime`: pendulum's ISO 8601 parser, then, when it raises, the
/// common-format fallback. `None` when neither accepts the text.
pub(crate) fn parse_iso_like(text: &str) -> Option<Parsed> {
    match parse_iso8601(text) {
        Ok(parsed) => Some(parsed),
        Err(()) => parse_common(text),
    }
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
pub(crate) fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

fn days_in_year(year: i32) -> i32 {
    if is_leap(year) { 366 } else { 365 }
}

/// pendulum's `p` helper for long ISO years and week days.
fn p(year: i32) -> i32 {
    year + year / 4 - year / 100 + year / 400
}

fn is_long_year(year: i32) -> bool {
    p(year) % 7 == 4 || p(year - 1) % 7 == 3
}

/// pendulum's `week_day` (1 = Monday .. 7 = Sunday).
fn week_day(year: i32, month: u32, day: u32) -> i32 {
    const TABLE: [i32; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let y = year - i32::from(month < 3);
    let w = (p(y) + TABLE[(month - 1) as usize] + day as i32) % 7;
    if w == 0 { 7 } else { w.abs() }
}

const MONTHS_OFFSETS: [[i32; 14]; 2] = [
    [-1, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365],
    [-1, 0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366],
];

/// The fields pendulum's parser fills.
#[derive(Debug, Default)]
struct RawDateTime {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    microsecond: u32,
    offset_seconds: Option<i32>,
    has_date: bool,
    has_time: bool,
    extended_date_format: bool,
}

/// pendulum's `parse_iso8601`: `Ok` with a date-time, a date, or something else (time, duration) when
/// the parser accepts the text and Python can build the value; `Err` when pendulum raises `ValueError`.
pub(crate) fn parse_iso8601(text: &str) -> Result<Parsed, ()> {
    // a duration (or a malformed one): never a date or a time, whether pendulum accepts it or not
    if text.starts_with('P') {
        return Err(());
    }
    let mut parser = IsoParser::new(text);
    let raw = parser.parse()?;
    match (raw.has_date, raw.has_time) {
        (true, true) => {
            let dt = DateTime {
                date: Date {
                    year: raw.year,
                    month: raw.month,
                    day: raw.day,
                },
                hour: raw.hour,
                minute: raw.minute,
                second: raw.second,
                microsecond: raw.microsecond,
                offset_seconds: raw.offset_seconds,
            };
            // PyDateTime::new validates fields; the offset is only checked when it is used
            let fields_ok = DateTime {
                offset_seconds: None,
                ..dt
            }
            .is_valid();
            if fields_ok {
                Ok(Parsed::DateTime(dt))
            } else {
                Err(())
            }
        }
        (true, false) => {
            let d = Date {
                year: raw.year,
                month: raw.month,
                day: raw.day,
            };
            if d.is_valid() {
                Ok(Parsed::Date(d))
            } else {
                Err(())
            }
        }
        (false, true) => {
            if raw.hour < 24 && raw.minute < 60 && raw.second < 60 {
                Ok(Parsed::Other)
            } else {
                Err(())
            }
        }
        (false, false) => Err(()),
    }
}

/// A port of pendulum's Rust `Parser` for dates and times (intervals are refused: pendulum's Python
/// binding raises on them).
struct IsoParser<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    current: char,
    at_end: bool,
}

impl<'a> IsoParser<'a> {
    fn new(text: &'a str) -> IsoParser<'a> {
        let mut p = IsoParser {
            chars: text.chars().peekable(),
            current: '\0',
            at_end: false,
        };
        p.inc();
        p
    }

    fn inc(&mut self) {
        match self.chars.next() {
            Some(c) => self.current = c,
            None => {
                self.current = '\0';
                self.at_end = true;
            }
        }
    }

    fn end(&self) -> bool {
        self.at_end
    }

    fn parse_integer(&mut self, length: usize) -> Result<u32, ()> {
        let mut value = 0u32;
        for _ in 0..length {
            if self.end() {
                return Err(());
            }
            let digit = self.current.to_digit(10).ok_or(())?;
            value = value * 10 + digit;
            self.inc();
        }
        Ok(value)
    }

    fn parse(&mut self) -> Result<RawDateTime, ()> {
        let mut dt = RawDateTime {
            month: 1,
            day: 1,
            ..RawDateTime::default()
        };
        if self.current == 'T' {
            self.parse_time(&mut dt, false)?;
            return if self.end() { Ok(dt) } else { Err(()) };
        }
        let first = self.parse_integer(2)?;
        if self.current == ':' {
            // a time in extended format
            dt.hour = first;
            dt.extended_date_format = true;
            self.parse_time(&mut dt, true)?;
            return if self.end() { Ok(dt) } else { Err(()) };
        }
        dt.has_date = true;
        dt.year = (first * 100 + self.parse_integer(2)?) as i32;
        if self.current == '-' {
            self.inc();
            dt.extended_date_format = true;
            if self.current == 'W' {
                self.inc();
                let iso_week = self.parse_integer(2)?;
                let mut iso_day = 1;
                if !self.end() && self.current != ' ' && self.current != 'T' {
                    if self.current != '-' {
                        return Err(());
                    }
                    self.inc();
                    iso_day = self.parse_integer(1)?;
                }
                (dt.year, dt.month, dt.day) = iso_to_ymd(dt.year, iso_week, iso_day)?;
            } else {
                dt.month = self.parse_integer(2)?;
                if !self.end() && self.current != ' ' && self.current != 'T' {
                    if self.current == '-' {
                        self.inc();
                        dt.day = self.parse_integer(2)?;
                    } else {
                        let ordinal = (dt.month * 10 + self.parse_integer(1)?) as i32;
                        (dt.year, dt.month, dt.day) = ordinal_to_ymd(dt.year, ordinal, false)?;
                    }
                } else {
                    dt.day = 1;
                }
            }
        } else if self.current == 'W' {
            self.inc();
            let iso_week = self.parse_integer(2)?;
            let mut iso_day = 1;
            if !self.end() && self.current != ' ' && self.current != 'T' {
                iso_day = self.parse_integer(1)?;
            }
            (dt.year, dt.month, dt.day) = iso_to_ymd(dt.year, iso_week, iso_day)?;
        } else {
            dt.month = self.parse_integer(2)?;
            let ordinal_digit = self.parse_integer(1)?;
            if self.end() || self.current == ' ' || self.current == 'T' {
                let ordinal = (dt.month * 10 + ordinal_digit) as i32;
                (dt.year, dt.month, dt.day) = ordinal_to_ymd(dt.year, ordinal, false)?;
            } else {
                dt.day = ordinal_digit * 10 + self.parse_integer(1)?;
            }
        }
        if !self.end() {
            self.parse_time(&mut dt, false)?;
        }
        // an interval (`/`) or trailing data: pendulum's binding raises either way
        if !self.end() {
            return Err(());
        }
        Ok(dt)
    }

    fn parse_fraction(&mut self, dt: &mut RawDateTime) -> Result<(), ()> {
        if self.current != '.' && self.current != ',' {
            return Ok(());
        }
        self.inc();
        dt.microsecond = 0;
        let mut i = 0;
        while i < 6 {
            if let Some(digit) = self.current.to_digit(10) {
                dt.microsecond = dt.microsecond * 10 + digit;
            } else if i == 0 {
                return Err(());
            } else {
                break;
            }
            self.inc();
            i += 1;
        }
        while self.current.is_ascii_digit() {
            self.inc();
        }
        while i < 6 {
            dt.microsecond *= 10;
            i += 1;
        }
        Ok(())
    }

    fn parse_time(&mut self, dt: &mut RawDateTime, skip_hour: bool) -> Result<(), ()> {
        if self.current != 'T' && self.current != ' ' && !skip_hour {
            return Err(());
        }
        dt.has_time = true;
        if !skip_hour {
            self.inc();
            dt.hour = self.parse_integer(2)?;
        }
        if !self.end() && !matches!(self.current, 'Z' | '+' | '-') {
            if self.current == ':' {
                self.inc();
                dt.minute = self.parse_integer(2)?;
                if !self.end() && !matches!(self.current, 'Z' | '+' | '-') {
                    if self.current != ':' {
                        return Err(());
                    }
                    self.inc();
                    dt.second = self.parse_integer(2)?;
                    self.parse_fraction(dt)?;
                    if !dt.extended_date_format {
                        return Err(());
                    }
                }
            } else {
                dt.minute = self.parse_integer(2)?;
                if !self.end() && !matches!(self.current, 'Z' | '+' | '-') {
                    dt.second = self.parse_integer(2)?;
                    self.parse_fraction(dt)?;
                }
                if dt.extended_date_format {
                    return Err(());
                }
            }
        }
        if self.current == 'Z' {
            dt.offset_seconds = Some(0);
            self.inc();
        } else if matches!(self.current, '+' | '-') {
            let sign = if self.current == '+' { 1 } else { -1 };
            self.inc();
            let tz_hour = self.parse_integer(2)? as i32;
            if self.current == ':' {
                self.inc();
            }
            let mut tz_minute = if self.end() {
                0
            } else {
                self.parse_integer(2)? as i32
            };
            tz_minute += tz_hour * 60;
            tz_minute *= sign;
            if tz_minute > 24 * 60 {
                return Err(());
            }
            dt.offset_seconds = Some(tz_minute * 60);
        }
        Ok(())
    }
}

fn iso_to_ymd(iso_year: i32, iso_week: u32, iso_day: u32) -> Result<(i32, u32, u32), ()> {
    if iso_week > 53 || (iso_week > 52 && !is_long_year(iso_year)) {
        return Err(());
    }
    if iso_day > 7 {
        return Err(());
    }
    let ordinal = iso_week as i32 * 7 + iso_day as i32 - (week_day(iso_year, 1, 4) + 3);
    ordinal_to_ymd(iso_year, ordinal, true)
}

fn ordinal_to_ymd(year: i32, ordinal: i32, allow_out_of_bounds: bool) -> Result<(i32, u32, u32), ()> {
    let mut ord = ordinal;
    let mut y = year;
    if ord < 1 {
        if !allow_out_of_bounds {
            return Err(());
        }
        ord += days_in_year(year - 1);
        y -= 1;
    }
    if ord > days_in_year(y) {
        if !allow_out_of_bounds {
            return Err(());
        }
        ord -= days_in_year(y);
        y += 1;
    }
    let leap = usize::from(is_leap(y));
    for i in 1..14 {
        if ord <= MONTHS_OFFSETS[leap][i] {
            let day = ord - MONTHS_OFFSETS[leap][i - 1];
            if day < 1 {
                return Err(());
            }
            return Ok((y, (i - 1) as u32, day as u32));
        }
    }
    Err(())
}

/// pendulum's `_parse_common`: a full match of
/// `(\d{4}([/:]?\d{2}[/:]?\d{2})?)?( ?\d{1,2}:(\d{1,2})?(:\d{1,2})?([.|,]\d{1,9})?)?` with Python's
/// backtracking priorities and Unicode digits. `None` when pendulum raises.
fn parse_common(text: &str) -> Option<Parsed> {
    let chars: Vec<char> = text.chars().collect();
    let digit = |i: usize| chars.get(i).and_then(|&c| nd_digit_value(c));
    let number = |from: usize, len: usize| -> Option<u32> {
        (from..from + len).try_fold(0u32, |acc, i| Some(acc * 10 + digit(i)?))
    };

    // every way to match the optional date, in the regex's priority order:
    // (end position, year, Some((month, day)))
    let mut dates: Vec<(usize, CommonDate)> = Vec::new();
    if let Some(year) = number(0, 4) {
        for monthsep in [true, false] {
            let mut i = 4;
            if monthsep {
                if !matches!(chars.get(i), Some('/' | ':')) {
                    continue;
                }
                i += 1;
            }
            let Some(month) = number(i, 2) else { continue };
            i += 2;
            for daysep in [true, false] {
                let mut j = i;
                if daysep {
                    if !matches!(chars.get(j), Some('/' | ':')) {
                        continue;
                    }
                    j += 1;
                }
                if let Some(day) = number(j, 2) {
                    dates.push((j + 2, Some((year, Some((month, day))))));
                }
            }
        }
        dates.push((4, Some((year, None))));
    }
    dates.push((0, None));

    for (pos, date) in dates {
        if let Some(result) = match_common_time(&chars, pos, &number) {
            let (hour, minute, second, micro) = match result {
                CommonTime::None => {
                    let (year, md) = date?;
                    let (month, day) = md.unwrap_or((1, 1));
                    let d = Date {
                        year: year as i32,
                        month,
                        day,
                    };
                    return d.is_valid().then_some(Parsed::Date(d));
                }
                CommonTime::Some {
                    hour,
                    minute,
                    second,
                    micro,
                } => (hour, minute, second, micro),
            };
            // `int(None)` raises TypeError when the minute is absent
            let minute = minute?;
            let Some((year, md)) = date else {
                return (hour < 24 && minute < 60 && second < 60).then_some(Parsed::Other);
            };
            let (month, day) = md.unwrap_or((1, 1));
            let dt = DateTime {
                date: Date {
                    year: year as i32,
                    month,
                    day,
                },
                hour,
                minute,
                second,
                microsecond: micro,
                offset_seconds: None,
            };
            return dt.is_valid().then_some(Parsed::DateTime(dt));
        }
    }
    None
}

/// The date part of a `_parse_common` match: the year and, when present, month and day.
type CommonDate = Option<(u32, Option<(u32, u32)>)>;

enum CommonTime {
    None,
    Some {
        hour: u32,
        minute: Option<u32>,
        second: u32,
        micro: u32,
    },
}

/// Matches the optional time part of `_parse_common` from `pos` to the end of `chars`, trying the
/// alternatives in the regex's priority order.
fn match_common_time(
    chars: &[char],
    pos: usize,
    number: &dyn Fn(usize, usize) -> Option<u32>,
) -> Option<CommonTime> {
    let n = chars.len();
    for timesep in [true, false] {
        let mut i = pos;
        if timesep {
            if chars.get(i) != Some(&' ') {
                continue;
            }
            i += 1;
        }
        for hour_len in [2, 1] {
            let Some(hour) = number(i, hour_len) else { continue };
            let mut j = i + hour_len;
            if chars.get(j) != Some(&':') {
                continue;
            }
            j += 1;
            for minute_len in [2, 1, 0] {
                let minute = if minute_len == 0 {
                    None
                } else {
                    match number(j, minute_len) {
                        Some(m) => Some(m),
                        None => continue,
                    }
                };
                let k = j + minute_len;
                // optional `:ss`
                let mut second_options: Vec<(usize, u32)> = Vec::new();
                if chars.get(k) == Some(&':') {
                    for second_len in [2, 1] {
                        if let Some(s) = number(k + 1, second_len) {
                            second_options.push((k + 1 + second_len, s));
                        }
                    }
                }
                second_options.push((k, 0));
                for (l, second) in second_options {
                    // optional subsecond `[.|,]\d{1,9}`, greedy
                    if matches!(chars.get(l), Some('.' | '|' | ',')) {
                        for sub_len in (1..=9).rev() {
                            if l + 1 + sub_len == n && number(l + 1, sub_len).is_some() {
                                let digits: Vec<u32> = (l + 1..l + 1 + sub_len.min(6))
                                    .filter_map(|x| chars.get(x).and_then(|&c| nd_digit_value(c)))
                                    .collect();
                                let mut micro = 0;
                                for d in 0..6 {
                                    micro = micro * 10 + digits.get(d).copied().unwrap_or(0);
                                }
                                return Some(CommonTime::Some {
                                    hour,
                                    minute,
                                    second,
                                    micro,
                                });
                            }
                        }
                    }
                    if l == n {
                        return Some(CommonTime::Some {
                            hour,
                            minute,
                            second,
                            micro: 0,
                        });
                    }
                }
            }
        }
    }
    (pos == n).then_some(CommonTime::None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looker_renderings() {
        assert_eq!(
            detect_timestamp("2024-06-11T08:02:17.000+00:00"),
            Some(1_718_092_937_000_000)
        );
        assert_eq!(
            detect_timestamp("2024-06-11T08:02:17.123-07:00"),
            Some(1_718_118_137_123_000)
        );
        assert_eq!(detect_timestamp("2024-06-11"), None);
        assert_eq!(detect_timestamp(""), None);
        assert_eq!(text_to_timestamp("2024-06-11"), Some(1_718_064_000_000_000));
        assert_eq!(text_to_timestamp("1700000000"), Some(1_700_000_000_000_000));
        assert_eq!(text_to_timestamp(""), None);
    }

    #[test]
    fn fast_path_agrees_with_the_general_parser() {
        let mut rng = fastrand::Rng::with_seed(3);
        let pieces: [&[&str]; 9] = [
            &["2024", "0001", "9999", "0000", "1970"],
            &["-"],
            &["01", "02", "12", "13", "00"],
            &["-"],
            &["01", "29", "30", "31", "00", "32"],
            &["T", "t", " "],
            &["00:00:00", "23:59:59", "24:00:00", "12:60:00", "08:02:17"],
            &["", ".", ".0", ".123", ".123456789", ".5x"],
            &[
                "", "Z", "+00:00", "-07:00", "+24:00", "+23:59", "-00:30", "+0530", "+05", "z",
            ],
        ];
        let mut hits = 0;
        for _ in 0..20_000 {
            let text: String = pieces.iter().map(|p| p[rng.usize(..p.len())]).collect();
            let general = parse_iso_like(&text).and_then(|p| match p {
                Parsed::DateTime(dt) => dt.to_utc_micros(),
                _ => None,
            });
            if let Some(fast) = fast_iso_datetime(text.as_bytes()) {
                assert_eq!(Some(fast), general, "{text}");
                hits += 1;
            }
        }
        assert!(hits > 200, "{hits}");
    }

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1, 1, 1), -719_162);
    }
}
