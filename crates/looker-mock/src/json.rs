//! A small streaming JSON writer with `fields=` selection, used on the hot path instead of building
//! `serde_json::Value` trees.

/// A parsed `fields=` selection such as `id,title,model(id,label)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Sel {
    keys: Vec<(String, Option<Sel>)>,
}

impl Sel {
    /// Parses a `fields=` value; `None` when it names no field.
    pub(crate) fn parse(s: &str) -> Option<Sel> {
        let mut chars = s.chars().peekable();
        let sel = Self::parse_list(&mut chars);
        if sel.keys.is_empty() { None } else { Some(sel) }
    }

    fn parse_list(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Sel {
        let mut keys = Vec::new();
        let mut name = String::new();
        while let Some(c) = chars.next() {
            match c {
                ',' => {
                    let n = std::mem::take(&mut name);
                    if !n.trim().is_empty() {
                        keys.push((n.trim().to_owned(), None));
                    }
                }
                '(' => {
                    let sub = Self::parse_list(chars);
                    let n = std::mem::take(&mut name);
                    if !n.trim().is_empty() {
                        keys.push((n.trim().to_owned(), (!sub.keys.is_empty()).then_some(sub)));
                    }
                }
                ')' => break,
                _ => name.push(c),
            }
        }
        if !name.trim().is_empty() {
            keys.push((name.trim().to_owned(), None));
        }
        Sel { keys }
    }

    /// Whether `key` is selected, and if so the selection below it (`None`: everything).
    fn get(&self, key: &str) -> Option<Option<&Sel>> {
        self.keys
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, sub)| sub.as_ref())
    }
}

struct Frame<'s> {
    first: bool,
    is_array: bool,
    sel: Option<&'s Sel>,
}

/// Writes JSON into a byte buffer. Keys outside the selection are skipped together with their
/// values, containers included. Selections apply to objects; arrays pass theirs to their elements.
pub(crate) struct Json<'b, 's> {
    out: &'b mut Vec<u8>,
    stack: Vec<Frame<'s>>,
    /// Selection for the object or array value that follows the last key.
    next_sel: Option<&'s Sel>,
    /// Depth of skipped containers; nothing is written while > 0.
    skip: u32,
    /// The next value is skipped (its key was not selected).
    skip_next: bool,
    /// Selection of top-level objects.
    root_sel: Option<&'s Sel>,
}

impl<'b, 's> Json<'b, 's> {
    /// A writer appending to `out`; `sel` applies to the top-level objects written.
    pub(crate) fn new(out: &'b mut Vec<u8>, sel: Option<&'s Sel>) -> Self {
        Json {
            out,
            stack: Vec::with_capacity(8),
            next_sel: None,
            skip: 0,
            skip_next: false,
            root_sel: sel,
        }
    }

    /// Whether the next value is written; writes the array comma when it is.
    #[inline]
    fn begin_value(&mut self) -> bool {
        if self.skip > 0 {
            return false;
        }
        if self.skip_next {
            self.skip_next = false;
            return false;
        }
        if let Some(top) = self.stack.last_mut()
            && top.is_array
        {
            if !top.first {
                self.out.push(b',');
            }
            top.first = false;
        }
        true
    }

    /// Writes an object key; the next value call writes its value.
    #[inline]
    pub(crate) fn key(&mut self, k: &str) {
        if self.skip > 0 {
            return;
        }
        let Some(top) = self.stack.last_mut() else {
            return;
        };
        self.next_sel = None;
        if let Some(sel) = top.sel {
            match sel.get(k) {
                None => {
                    self.skip_next = true;
                    return;
                }
                Some(sub) => self.next_sel = sub,
            }
        }
        if !top.first {
            self.out.push(b',');
        }
        top.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(k.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn open(&mut self, is_array: bool) {
        if !self.begin_value() {
            self.skip += 1;
            return;
        }
        let sel = match self.stack.last() {
            None => self.root_sel,
            Some(top) if top.is_array => top.sel,
            Some(_) => self.next_sel,
        };
        self.next_sel = None;
        self.stack.push(Frame {
            first: true,
            is_array,
            sel,
        });
        self.out.push(if is_array { b'[' } else { b'{' });
    }

    fn close(&mut self) {
        if self.skip > 0 {
            self.skip -= 1;
            return;
        }
        if let Some(frame) = self.stack.pop() {
            self.out.push(if frame.is_array { b']' } else { b'}' });
        }
    }

    // ---- values ----

    /// Opens an object value.
    #[inline]
    pub(crate) fn vo(&mut self) {
        self.open(false);
    }
    /// Opens an array value.
    #[inline]
    pub(crate) fn va(&mut self) {
        self.open(true);
    }
    /// Closes the innermost object.
    #[inline]
    pub(crate) fn end_o(&mut self) {
        self.close();
    }
    /// Closes the innermost array.
    #[inline]
    pub(crate) fn end_a(&mut self) {
        self.close();
    }
    /// A string value.
    #[inline]
    pub(crate) fn vs(&mut self, v: &str) {
        if self.begin_value() {
            write_str(self.out, v);
        }
    }
    /// An integer value.
    #[inline]
    pub(crate) fn vi(&mut self, v: i64) {
        if self.begin_value() {
            write_int(self.out, v);
        }
    }
    /// An integer rendered as a JSON string (Looker's string ids).
    #[inline]
    pub(crate) fn vid(&mut self, v: u64) {
        if self.begin_value() {
            self.out.push(b'"');
            write_int(self.out, v as i64);
            self.out.push(b'"');
        }
    }
    /// A boolean value.
    #[inline]
    pub(crate) fn vb(&mut self, v: bool) {
        if self.begin_value() {
            self.out.extend_from_slice(if v { b"true" } else { b"false" });
        }
    }
    /// A null value.
    #[inline]
    pub(crate) fn vn(&mut self) {
        if self.begin_value() {
            self.out.extend_from_slice(b"null");
        }
    }
    /// Pre-rendered JSON written as is.
    #[inline]
    pub(crate) fn vraw(&mut self, v: &[u8]) {
        if self.begin_value() {
            self.out.extend_from_slice(v);
        }
    }

    // ---- key + value ----

    /// `"k": "v"`.
    #[inline]
    pub(crate) fn s(&mut self, k: &str, v: &str) {
        self.key(k);
        self.vs(v);
    }
    /// `"k": "v"` or `"k": null`.
    #[inline]
    pub(crate) fn os(&mut self, k: &str, v: Option<&str>) {
        self.key(k);
        match v {
            Some(v) => self.vs(v),
            None => self.vn(),
        }
    }
    /// `"k": 12`.
    #[inline]
    pub(crate) fn i(&mut self, k: &str, v: i64) {
        self.key(k);
        self.vi(v);
    }
    /// `"k": "12"` (string id).
    #[inline]
    pub(crate) fn id(&mut self, k: &str, v: u64) {
        self.key(k);
        self.vid(v);
    }
    /// `"k": "12"` or `"k": null`.
    #[inline]
    pub(crate) fn oid(&mut self, k: &str, v: Option<u64>) {
        self.key(k);
        match v {
            Some(v) => self.vid(v),
            None => self.vn(),
        }
    }
    /// `"k": true`.
    #[inline]
    pub(crate) fn b(&mut self, k: &str, v: bool) {
        self.key(k);
        self.vb(v);
    }
    /// `"k": null`.
    #[inline]
    pub(crate) fn n(&mut self, k: &str) {
        self.key(k);
        self.vn();
    }
    /// `"k": <raw JSON>`.
    #[inline]
    pub(crate) fn raw(&mut self, k: &str, v: &[u8]) {
        self.key(k);
        self.vraw(v);
    }
    /// `"k": {` (close with `end_o`).
    #[inline]
    pub(crate) fn o(&mut self, k: &str) {
        self.key(k);
        self.vo();
    }
    /// `"k": [` (close with `end_a`).
    #[inline]
    pub(crate) fn a(&mut self, k: &str) {
        self.key(k);
        self.va();
    }
    /// `"k": "<timestamp>"` rendered like Looker (`2021-11-09T16:11:29.000+00:00`).
    #[inline]
    pub(crate) fn ts(&mut self, k: &str, epoch_secs: i64) {
        self.key(k);
        if self.begin_value() {
            self.out.push(b'"');
            write_timestamp(self.out, epoch_secs);
            self.out.push(b'"');
        }
    }
    /// `"k": "<timestamp>"` in the given rendering (see [`TsStyle`]).
    pub(crate) fn ts_styled(&mut self, k: &str, epoch_secs: i64, style: TsStyle) {
        self.key(k);
        if self.begin_value() {
            self.out.push(b'"');
            match style {
                TsStyle::Looker => write_timestamp(self.out, epoch_secs),
                TsStyle::NoFraction => {
                    write_timestamp(self.out, epoch_secs);
                    // `.000+00:00` → `+00:00`
                    let len = self.out.len();
                    self.out.drain(len - 10..len - 6);
                }
                TsStyle::Offset { minutes, millis } => {
                    write_timestamp(self.out, epoch_secs + i64::from(minutes) * 60);
                    let len = self.out.len();
                    self.out.truncate(len - 9);
                    let m = millis % 1000;
                    self.out.push(b'0' + (m / 100) as u8);
                    self.out.push(b'0' + (m / 10 % 10) as u8);
                    self.out.push(b'0' + (m % 10) as u8);
                    let sign = if minutes < 0 { b'-' } else { b'+' };
                    let abs = minutes.unsigned_abs();
                    self.out.push(sign);
                    self.out.push(b'0' + (abs / 600 % 10) as u8);
                    self.out.push(b'0' + (abs / 60 % 10) as u8);
                    self.out.push(b':');
                    self.out.push(b'0' + (abs % 60 / 10) as u8);
                    self.out.push(b'0' + (abs % 10) as u8);
                }
                TsStyle::EpochDigits => write_int(self.out, epoch_secs),
            }
            self.out.push(b'"');
        }
    }
    /// A timestamp or null.
    #[inline]
    pub(crate) fn ots(&mut self, k: &str, epoch_secs: Option<i64>) {
        match epoch_secs {
            Some(t) => self.ts(k, t),
            None => self.n(k),
        }
    }
    /// An array of string values.
    pub(crate) fn strs<S: AsRef<str>>(&mut self, k: &str, items: &[S]) {
        self.a(k);
        for s in items {
            self.vs(s.as_ref());
        }
        self.end_a();
    }
    /// An array of string ids.
    pub(crate) fn ids(&mut self, k: &str, items: &[u64]) {
        self.a(k);
        for &v in items {
            self.vid(v);
        }
        self.end_a();
    }
    /// `"k": "<formatted>"` from `format_args!`, without allocating.
    pub(crate) fn fmt(&mut self, k: &str, args: std::fmt::Arguments<'_>) {
        self.key(k);
        self.vfmt(args);
    }
    /// A string value from `format_args!`, without allocating.
    pub(crate) fn vfmt(&mut self, args: std::fmt::Arguments<'_>) {
        if self.begin_value() {
            let start = self.out.len();
            let _ = std::io::Write::write_fmt(self.out, args);
            // Escape if the formatted text needs it (rare: only some vocabulary pieces).
            let needs = self.out[start..]
                .iter()
                .any(|&b| b == b'"' || b == b'\\' || b < 0x20);
            if needs {
                let text = String::from_utf8_lossy(&self.out[start..]).into_owned();
                self.out.truncate(start);
                write_str(self.out, &text);
            } else {
                self.out.insert(start, b'"');
                self.out.push(b'"');
            }
        }
    }
}

/// Writes `s` as a JSON string literal.
#[inline]
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 0xf) as usize]);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Writes a decimal integer.
#[inline]
pub(crate) fn write_int(out: &mut Vec<u8>, v: i64) {
    let mut buf = [0u8; 20];
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[i..]);
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// How a timestamp string is rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TsStyle {
    /// `2021-11-09T16:11:29.000+00:00`, Looker's usual rendering.
    Looker,
    /// `2021-11-09T16:11:29+00:00`.
    NoFraction,
    /// The same instant in local time at a UTC offset, with milliseconds:
    /// `2021-11-09T09:11:29.417-07:00`.
    Offset {
        /// Offset from UTC in minutes.
        minutes: i16,
        /// Milliseconds past the second (0–999).
        millis: u16,
    },
    /// Unix-epoch seconds as a digit string: `1636474289`.
    EpochDigits,
}

/// Writes `YYYY-MM-DDTHH:MM:SS.000+00:00`.
pub(crate) fn write_timestamp(out: &mut Vec<u8>, epoch_secs: i64) {
    let days = epoch_secs.div_euclid(86_400);
    let secs = epoch_secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let two = |out: &mut Vec<u8>, v: u32| {
        out.push(b'0' + (v / 10) as u8);
        out.push(b'0' + (v % 10) as u8);
    };
    let y = y.clamp(0, 9999) as u32;
    two(out, y / 100);
    two(out, y % 100);
    out.push(b'-');
    two(out, m);
    out.push(b'-');
    two(out, d);
    out.push(b'T');
    two(out, (secs / 3600) as u32);
    out.push(b':');
    two(out, (secs / 60 % 60) as u32);
    out.push(b':');
    two(out, (secs % 60) as u32);
    out.extend_from_slice(b".000+00:00");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(sel: Option<&Sel>, f: impl FnOnce(&mut Json<'_, '_>)) -> String {
        let mut out = Vec::new();
        let mut j = Json::new(&mut out, sel);
        f(&mut j);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_and_selects() {
        let write = |j: &mut Json<'_, '_>| {
            j.vo();
            j.id("id", 7);
            j.s("title", "Café \"☕\" 売上 🚀\n");
            j.o("model");
            j.s("id", "thelook");
            j.s("label", "The Look");
            j.end_o();
            j.a("els");
            j.vo();
            j.i("x", -3);
            j.n("y");
            j.end_o();
            j.vo();
            j.i("x", 4);
            j.n("y");
            j.end_o();
            j.end_a();
            j.ts("at", 1_636_474_289);
            j.end_o();
        };
        let all = render(None, write);
        let v: serde_json::Value = serde_json::from_str(&all).unwrap();
        assert_eq!(v["title"], "Café \"☕\" 売上 🚀\n");
        assert_eq!(v["id"], "7");
        assert_eq!(v["at"], "2021-11-09T16:11:29.000+00:00");
        assert_eq!(v["els"][1]["x"], 4);

        let sel = Sel::parse("id,model(id),els(y)").unwrap();
        let some = render(Some(&sel), write);
        assert_eq!(
            some,
            r#"{"id":"7","model":{"id":"thelook"},"els":[{"y":null},{"y":null}]}"#
        );
    }

    #[test]
    fn timestamps() {
        let mut out = Vec::new();
        write_timestamp(&mut out, 0);
        assert_eq!(out, b"1970-01-01T00:00:00.000+00:00");
        out.clear();
        write_timestamp(&mut out, 1_709_208_000); // 2024-02-29T12:00:00Z
        assert_eq!(out, b"2024-02-29T12:00:00.000+00:00");
    }

    #[test]
    fn timestamp_renderings() {
        let t = 1_636_474_289; // 2021-11-09T16:11:29Z
        let one = |style| {
            render(None, |j| {
                j.vo();
                j.ts_styled("t", t, style);
                j.end_o();
            })
        };
        assert_eq!(one(TsStyle::Looker), r#"{"t":"2021-11-09T16:11:29.000+00:00"}"#);
        assert_eq!(one(TsStyle::NoFraction), r#"{"t":"2021-11-09T16:11:29+00:00"}"#);
        assert_eq!(
            one(TsStyle::Offset {
                minutes: -420,
                millis: 7
            }),
            r#"{"t":"2021-11-09T09:11:29.007-07:00"}"#
        );
        assert_eq!(
            one(TsStyle::Offset {
                minutes: 330,
                millis: 417
            }),
            r#"{"t":"2021-11-09T21:41:29.417+05:30"}"#
        );
        assert_eq!(one(TsStyle::EpochDigits), r#"{"t":"1636474289"}"#);
    }
}
