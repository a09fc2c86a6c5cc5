//! A JSON parser producing a flat tape, with the semantics of Python's `json.loads` (what dlt sees from
//! `requests`' `response.json()`): integers of any size, `NaN`/`Infinity` accepted, duplicate keys
//! resolved by the caller (last value wins at the first key's position). Iterative: any depth parses
//! without growing the call stack.
//!
//! Strings without escapes are spans of the input; escaped strings are decoded into an arena. Lone UTF-16
//! surrogates in `\u` escapes become U+FFFD (Python would keep them, and dlt then fails to encode them).

use std::fmt::Write as _;

/// Position of a token on the tape.
pub(crate) type TokIdx = u32;

/// One token. Containers record the index one past their last token (`end`) and their member count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Tok {
    Null,
    Bool(bool),
    Int(i64),
    /// A finite float. Non-finite values (`NaN`, `Infinity`, overflow) become [`Tok::Null`]: dlt's
    /// extract writes them as JSON `null`.
    Float(f64),
    /// An integer outside `i64`: kept as its digits (a string span).
    BigInt(Span),
    Str(Span),
    /// An object key, followed by its value's tokens.
    Key(Span),
    Obj {
        end: TokIdx,
        len: u32,
    },
    Arr {
        end: TokIdx,
        len: u32,
    },
}

/// A string: a range of the input, or of the arena when it had escapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    len: u32,
    in_arena: bool,
}

/// Why a page is not JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    /// Byte offset in the input.
    pub offset: usize,
    pub reason: &'static str,
}

/// A parsed document, reusable across pages to keep its buffers.
#[derive(Debug, Default)]
pub(crate) struct Tape {
    pub toks: Vec<Tok>,
    input: String,
    arena: String,
}

const WS: [bool; 256] = {
    let mut t = [false; 256];
    t[b' ' as usize] = true;
    t[b'\t' as usize] = true;
    t[b'\n' as usize] = true;
    t[b'\r' as usize] = true;
    t
};

impl Tape {
    /// The text of a span.
    pub(crate) fn str(&self, span: Span) -> &str {
        let (start, end) = (span.start as usize, span.start as usize + span.len as usize);
        if span.in_arena {
            self.arena.get(start..end).unwrap_or("")
        } else {
            // spans start and end next to ASCII quotes, on character boundaries
            self.input.get(start..end).unwrap_or("")
        }
    }

    /// The raw bytes of a span (for hashing keys).
    pub(crate) fn bytes(&self, span: Span) -> &[u8] {
        self.str(span).as_bytes()
    }

    /// The index after the value starting at `idx`.
    pub(crate) fn next(&self, idx: TokIdx) -> TokIdx {
        match self.toks.get(idx as usize) {
            Some(Tok::Obj { end, .. } | Tok::Arr { end, .. }) => *end,
            _ => idx + 1,
        }
    }

    /// Parses `input` (UTF-8, an optional BOM skipped) into this tape, replacing its content.
    pub(crate) fn parse(&mut self, input: &[u8]) -> Result<(), ParseError> {
        let text = page_text(input)?;
        self.clear();
        self.input.push_str(text);
        let input = std::mem::take(&mut self.input);
        let result = Parser {
            input: input.as_bytes(),
            text: &input,
            pos: 0,
            tape: self,
            one_value: false,
        }
        .run();
        self.input = input;
        result.map(|_| ())
    }

    /// Parses the one JSON value starting at byte `start` of `text` into this tape, replacing its
    /// content; returns the offset just past the value. Only the value's text is kept, so the tape holds
    /// one item of a page, never the page.
    pub(crate) fn parse_value(&mut self, text: &str, start: usize) -> Result<usize, ParseError> {
        self.clear();
        let rest = text.get(start..).ok_or(ParseError {
            offset: start,
            reason: "unexpected end of input",
        })?;
        let parsed = Parser {
            input: rest.as_bytes(),
            text: rest,
            pos: 0,
            tape: self,
            one_value: true,
        }
        .run();
        let len = parsed.map_err(|e| ParseError {
            offset: start + e.offset,
            reason: e.reason,
        })?;
        // spans are relative to the value's first byte
        self.input.push_str(rest.get(..len).unwrap_or(""));
        Ok(start + len)
    }

    /// Empties the tape, giving back buffers a very large item grew, so one outlier does not hold its
    /// memory for the rest of the run.
    fn clear(&mut self) {
        const KEEP_TOKS: usize = 1 << 16;
        const KEEP_BYTES: usize = 1 << 20;
        self.toks.clear();
        self.arena.clear();
        self.input.clear();
        if self.toks.capacity() > 4 * KEEP_TOKS {
            self.toks.shrink_to(KEEP_TOKS);
        }
        if self.input.capacity() > 4 * KEEP_BYTES {
            self.input.shrink_to(KEEP_BYTES);
        }
        if self.arena.capacity() > 4 * KEEP_BYTES {
            self.arena.shrink_to(KEEP_BYTES);
        }
    }
}

/// The text of a page: `input` without a BOM, checked to be UTF-8 and under 4 GiB (spans are 32-bit).
fn page_text(input: &[u8]) -> Result<&str, ParseError> {
    let input = input.strip_prefix(b"\xef\xbb\xbf").unwrap_or(input);
    if u32::try_from(input.len()).is_err() {
        return Err(ParseError {
            offset: 0,
            reason: "page larger than 4 GiB",
        });
    }
    std::str::from_utf8(input).map_err(|e| ParseError {
        offset: e.valid_up_to(),
        reason: "invalid UTF-8",
    })
}

/// The items of a page (a JSON array), parsed one at a time into a [`Tape`]: the tape's memory is bounded
/// by the largest item, whatever the page's length. Faults found before the first item (not UTF-8, not
/// an array) refuse the page before any item is read; a fault after an item is reported when reached.
#[derive(Debug)]
pub(crate) struct PageItems<'a> {
    text: &'a str,
    /// Offset of the next item, or of the closing bracket.
    pos: usize,
    done: bool,
}

/// Why a page is refused when it is JSON but not an array.
pub(crate) const NOT_AN_ARRAY: &str = "the page is JSON but not an array";

impl<'a> PageItems<'a> {
    /// Checks the page's encoding and opening bracket.
    pub(crate) fn new(input: &'a [u8]) -> Result<PageItems<'a>, ParseError> {
        let text = page_text(input)?;
        let mut items = PageItems {
            text,
            pos: 0,
            done: false,
        };
        items.skip_ws();
        if text.as_bytes().get(items.pos) != Some(&b'[') {
            // say whether it is JSON at all, as a whole-page parse would
            let mut tape = Tape::default();
            tape.parse(text.as_bytes())?;
            return Err(ParseError {
                offset: 0,
                reason: NOT_AN_ARRAY,
            });
        }
        items.pos += 1;
        items.skip_ws();
        if text.as_bytes().get(items.pos) == Some(&b']') {
            items.close()?;
        }
        Ok(items)
    }

    /// Parses the next item into `tape` (its value is token 0); `false` after the last one.
    pub(crate) fn next_item(&mut self, tape: &mut Tape) -> Result<bool, ParseError> {
        if self.done {
            return Ok(false);
        }
        self.pos = tape.parse_value(self.text, self.pos)?;
        self.skip_ws();
        match self.text.as_bytes().get(self.pos) {
            Some(b',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(b']') => {
                self.close()?;
                Ok(true)
            }
            Some(_) => Err(ParseError {
                offset: self.pos,
                reason: "expected ',' or a closing bracket",
            }),
            None => Err(ParseError {
                offset: self.pos,
                reason: "unexpected end of input",
            }),
        }
    }

    /// At the closing bracket: only whitespace may follow.
    fn close(&mut self) -> Result<(), ParseError> {
        self.pos += 1;
        self.skip_ws();
        if self.pos != self.text.len() {
            return Err(ParseError {
                offset: self.pos,
                reason: "extra data after the document",
            });
        }
        self.done = true;
        Ok(())
    }

    fn skip_ws(&mut self) {
        let bytes = self.text.as_bytes();
        while self.pos < bytes.len() && WS[bytes[self.pos] as usize] {
            self.pos += 1;
        }
    }
}

struct Frame {
    idx: usize,
    is_obj: bool,
    len: u32,
}

struct Parser<'a> {
    input: &'a [u8],
    /// The same input as text (validated UTF-8).
    text: &'a str,
    pos: usize,
    tape: &'a mut Tape,
    /// Stop after one value (an item of a page) instead of requiring the end of the input.
    one_value: bool,
}

impl Parser<'_> {
    fn err(&self, reason: &'static str) -> ParseError {
        ParseError {
            offset: self.pos,
            reason,
        }
    }

    #[inline]
    fn skip_ws(&mut self) {
        while self.pos < self.input.len() && WS[self.input[self.pos] as usize] {
            self.pos += 1;
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    /// Parses a value; returns the offset just past it.
    fn run(mut self) -> Result<usize, ParseError> {
        let mut stack: Vec<Frame> = Vec::new();
        'value: loop {
            self.skip_ws();
            let Some(b) = self.peek() else {
                return Err(self.err("unexpected end of input"));
            };
            match b {
                b'{' | b'[' => {
                    let is_obj = b == b'{';
                    self.pos += 1;
                    let idx = self.tape.toks.len();
                    self.tape.toks.push(if is_obj {
                        Tok::Obj { end: 0, len: 0 }
                    } else {
                        Tok::Arr { end: 0, len: 0 }
                    });
                    self.skip_ws();
                    let close = if is_obj { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        let end = self.tape.toks.len() as TokIdx;
                        self.tape.toks[idx] = if is_obj {
                            Tok::Obj { end, len: 0 }
                        } else {
                            Tok::Arr { end, len: 0 }
                        };
                    } else {
                        stack.push(Frame { idx, is_obj, len: 0 });
                        if is_obj {
                            self.key()?;
                        }
                        continue 'value;
                    }
                }
                b'"' => {
                    let span = self.string()?;
                    self.tape.toks.push(Tok::Str(span));
                }
                b't' => self.literal(b"true", Tok::Bool(true))?,
                b'f' => self.literal(b"false", Tok::Bool(false))?,
                b'n' => self.literal(b"null", Tok::Null)?,
                b'N' => self.literal(b"NaN", Tok::Null)?,
                b'I' => self.literal(b"Infinity", Tok::Null)?,
                b'-' if self.input[self.pos..].starts_with(b"-Infinity") => {
                    self.literal(b"-Infinity", Tok::Null)?
                }
                b'-' | b'0'..=b'9' => self.number()?,
                _ => return Err(self.err("expected a value")),
            }
            // after a value: close containers or move to the next member
            loop {
                let Some(frame) = stack.last_mut() else {
                    if self.one_value {
                        return Ok(self.pos);
                    }
                    self.skip_ws();
                    if self.pos != self.input.len() {
                        return Err(self.err("extra data after the document"));
                    }
                    return Ok(self.pos);
                };
                frame.len += 1;
                self.skip_ws();
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        if frame.is_obj {
                            self.key()?;
                        }
                        continue 'value;
                    }
                    Some(b'}') if frame.is_obj => {}
                    Some(b']') if !frame.is_obj => {}
                    _ => return Err(self.err("expected ',' or a closing bracket")),
                }
                self.pos += 1;
                let end = self.tape.toks.len() as TokIdx;
                let (idx, len) = (frame.idx, frame.len);
                self.tape.toks[idx] = if frame.is_obj {
                    Tok::Obj { end, len }
                } else {
                    Tok::Arr { end, len }
                };
                stack.pop();
            }
        }
    }

    fn key(&mut self) -> Result<(), ParseError> {
        self.skip_ws();
        if self.peek() != Some(b'"') {
            return Err(self.err("expected a string key"));
        }
        let span = self.string()?;
        self.tape.toks.push(Tok::Key(span));
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.err("expected ':'"));
        }
        self.pos += 1;
        Ok(())
    }

    fn literal(&mut self, word: &[u8], tok: Tok) -> Result<(), ParseError> {
        if self.input[self.pos..].starts_with(word) {
            self.pos += word.len();
            self.tape.toks.push(tok);
            Ok(())
        } else {
            Err(self.err("invalid literal"))
        }
    }

    fn number(&mut self) -> Result<(), ParseError> {
        let start = self.pos;
        let bytes = self.input;
        let mut i = self.pos;
        let negative = bytes[i] == b'-';
        if negative {
            i += 1;
        }
        let int_start = i;
        match bytes.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
            }
            _ => {
                self.pos = i;
                return Err(self.err("invalid number"));
            }
        }
        let int_end = i;
        let mut is_float = false;
        // Python's scanner: a fraction or exponent only counts when digits follow
        if bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            is_float = true;
            i += 2;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
        }
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(bytes.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if bytes.get(j).is_some_and(u8::is_ascii_digit) {
                is_float = true;
                i = j;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
            }
        }
        self.pos = i;
        let text = &bytes[start..i];
        if is_float {
            // the text is valid float syntax: parse cannot fail
            let value = std::str::from_utf8(text)
                .ok()
                .and_then(|t| t.parse::<f64>().ok())
                .unwrap_or(f64::NAN);
            self.tape.toks.push(if value.is_finite() {
                Tok::Float(value)
            } else {
                Tok::Null
            });
            return Ok(());
        }
        let digits = &bytes[int_start..int_end];
        let mut magnitude: u64 = 0;
        let mut overflow = false;
        for &d in digits {
            match magnitude
                .checked_mul(10)
                .and_then(|m| m.checked_add(u64::from(d - b'0')))
            {
                Some(m) => magnitude = m,
                None => {
                    overflow = true;
                    break;
                }
            }
        }
        let value = if overflow {
            None
        } else if negative {
            if magnitude <= i64::MAX as u64 + 1 {
                Some((magnitude as i64).wrapping_neg())
            } else {
                None
            }
        } else {
            i64::try_from(magnitude).ok()
        };
        match value {
            Some(v) => self.tape.toks.push(Tok::Int(v)),
            None => {
                // `-0…` cannot overflow, so the text is canonical: keep it as written
                let span = Span {
                    start: start as u32,
                    len: (i - start) as u32,
                    in_arena: false,
                };
                self.tape.toks.push(Tok::BigInt(span));
            }
        }
        Ok(())
    }

    /// Scans a string starting at the opening quote. Returns its span.
    fn string(&mut self) -> Result<Span, ParseError> {
        self.pos += 1;
        let start = self.pos;
        let bytes = self.input;
        // fast scan for the closing quote, a backslash or a control character, 8 bytes at a time
        let mut i = start;
        while i + 8 <= bytes.len() {
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[i..i + 8]);
            let w = u64::from_le_bytes(word);
            let special = has_byte(w, b'"') | has_byte(w, b'\\') | has_less_than_0x20(w);
            if special != 0 {
                i += (special.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        while i < bytes.len() && !matches!(bytes[i], b'"' | b'\\' | 0..=0x1f) {
            i += 1;
        }
        match bytes.get(i) {
            Some(b'"') => {
                self.pos = i + 1;
                Ok(Span {
                    start: start as u32,
                    len: (i - start) as u32,
                    in_arena: false,
                })
            }
            Some(b'\\') => {
                self.pos = i;
                self.escaped_string(start)
            }
            Some(_) => {
                self.pos = i;
                Err(self.err("control character in a string"))
            }
            None => {
                self.pos = i;
                Err(self.err("unterminated string"))
            }
        }
    }

    /// Decodes a string with escapes into the arena; `self.pos` is at the first backslash.
    fn escaped_string(&mut self, start: usize) -> Result<Span, ParseError> {
        let bytes = self.input;
        let arena_start = self.tape.arena.len();
        // the input is valid UTF-8 and `start..pos` ends before an ASCII byte
        self.tape
            .arena
            .push_str(self.text.get(start..self.pos).unwrap_or(""));
        loop {
            let chunk_start = self.pos;
            while self.pos < bytes.len() && !matches!(bytes[self.pos], b'"' | b'\\' | 0..=0x1f) {
                self.pos += 1;
            }
            self.tape
                .arena
                .push_str(self.text.get(chunk_start..self.pos).unwrap_or(""));
            match bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    let len = self.tape.arena.len() - arena_start;
                    if u32::try_from(self.tape.arena.len()).is_err() {
                        return Err(self.err("page larger than 4 GiB"));
                    }
                    return Ok(Span {
                        start: arena_start as u32,
                        len: len as u32,
                        in_arena: true,
                    });
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let Some(&e) = bytes.get(self.pos) else {
                        return Err(self.err("unterminated string"));
                    };
                    self.pos += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err(self.err("invalid escape")),
                    };
                    self.tape.arena.push(c);
                }
                Some(_) => return Err(self.err("control character in a string")),
                None => return Err(self.err("unterminated string")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let digits = self
            .input
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.err("invalid \\u escape"))?;
        let mut value = 0u32;
        for &d in digits {
            let v = (d as char)
                .to_digit(16)
                .ok_or_else(|| self.err("invalid \\u escape"))?;
            value = value * 16 + v;
        }
        self.pos += 4;
        Ok(value)
    }

    /// A `\uXXXX` escape (after `\u`), combining a surrogate pair.
    fn unicode_escape(&mut self) -> Result<char, ParseError> {
        let first = self.hex4()?;
        if (0xd800..0xdc00).contains(&first) {
            if self.input.get(self.pos..self.pos + 2) == Some(b"\\u") {
                let save = self.pos;
                self.pos += 2;
                let second = self.hex4()?;
                if (0xdc00..0xe000).contains(&second) {
                    let c = 0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00);
                    return Ok(char::from_u32(c).unwrap_or('\u{fffd}'));
                }
                self.pos = save;
            }
            return Ok('\u{fffd}');
        }
        Ok(char::from_u32(first).unwrap_or('\u{fffd}'))
    }
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of the result where `w` has byte `b` (exact for the lowest match).
#[inline]
fn has_byte(w: u64, b: u8) -> u64 {
    let x = w ^ (LO * u64::from(b));
    x.wrapping_sub(LO) & !x & HI
}

/// High bit set where a byte of `w` is below 0x20 (exact for the lowest match).
#[inline]
fn has_less_than_0x20(w: u64) -> u64 {
    w.wrapping_sub(LO * 0x20) & !w & HI
}

/// Appends the JSON text of the value at `idx` to `out` as dlt writes JSON columns (orjson: compact,
/// non-ASCII as UTF-8; duplicate keys resolved as Python's `dict`: last value at the first position).
/// Iterative, so deep values do not grow the call stack.
pub(crate) fn write_json(tape: &Tape, idx: TokIdx, out: &mut String) {
    enum Step {
        Value(TokIdx),
        Text(&'static str),
        Key(Span),
    }
    let mut stack: Vec<Step> = vec![Step::Value(idx)];
    while let Some(step) = stack.pop() {
        let idx = match step {
            Step::Text(t) => {
                out.push_str(t);
                continue;
            }
            Step::Key(span) => {
                package::schema::write_json_string(out, tape.str(span));
                out.push(':');
                continue;
            }
            Step::Value(idx) => idx,
        };
        let Some(&tok) = tape.toks.get(idx as usize) else {
            continue;
        };
        match tok {
            Tok::Null => out.push_str("null"),
            Tok::Bool(b) => out.push_str(if b { "true" } else { "false" }),
            Tok::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Tok::Float(f) => out.push_str(&crate::pyconv::json_float(f)),
            Tok::BigInt(span) => out.push_str(tape.str(span)),
            Tok::Str(span) | Tok::Key(span) => package::schema::write_json_string(out, tape.str(span)),
            Tok::Arr { .. } => {
                let items: Vec<TokIdx> = array_items(tape, idx).collect();
                stack.push(Step::Text("]"));
                for (i, item) in items.iter().enumerate().rev() {
                    stack.push(Step::Value(*item));
                    if i > 0 {
                        stack.push(Step::Text(","));
                    }
                }
                stack.push(Step::Text("["));
            }
            Tok::Obj { .. } => {
                let members = dedup_members(tape, idx);
                stack.push(Step::Text("}"));
                for (i, (key, value)) in members.iter().enumerate().rev() {
                    stack.push(Step::Value(*value));
                    stack.push(Step::Key(*key));
                    if i > 0 {
                        stack.push(Step::Text(","));
                    }
                }
                stack.push(Step::Text("{"));
            }
        }
    }
}

/// The values of the array at `idx`.
pub(crate) fn array_items(tape: &Tape, idx: TokIdx) -> impl Iterator<Item = TokIdx> + '_ {
    let (mut cur, end) = match tape.toks.get(idx as usize) {
        Some(Tok::Arr { end, .. }) => (idx + 1, *end),
        _ => (0, 0),
    };
    std::iter::from_fn(move || {
        if cur >= end {
            return None;
        }
        let item = cur;
        cur = tape.next(cur);
        Some(item)
    })
}

/// The members (key span, value index) of the object at `idx`, in order, with repeated keys.
pub(crate) fn object_members(tape: &Tape, idx: TokIdx) -> impl Iterator<Item = (Span, TokIdx)> + '_ {
    let (mut cur, end) = match tape.toks.get(idx as usize) {
        Some(Tok::Obj { end, .. }) => (idx + 1, *end),
        _ => (0, 0),
    };
    std::iter::from_fn(move || {
        if cur >= end {
            return None;
        }
        let Some(Tok::Key(span)) = tape.toks.get(cur as usize).copied() else {
            cur = end;
            return None;
        };
        let value = cur + 1;
        cur = tape.next(value);
        Some((span, value))
    })
}

/// The members of the object at `idx` as Python's `dict` keeps them: each key once, at the position of
/// its first occurrence, with the value of its last.
pub(crate) fn dedup_members(tape: &Tape, idx: TokIdx) -> Vec<(Span, TokIdx)> {
    let mut members: Vec<(Span, TokIdx)> = Vec::new();
    let mut positions: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (key, value) in object_members(tape, idx) {
        match positions.get(tape.str(key)) {
            Some(&pos) => members[pos].1 = value,
            None => {
                positions.insert(tape.str(key), members.len());
                members.push((key, value));
            }
        }
    }
    members
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(input: &str) -> String {
        let mut tape = Tape::default();
        tape.parse(input.as_bytes()).unwrap();
        let mut out = String::new();
        write_json(&tape, 0, &mut out);
        out
    }

    #[test]
    fn parses_and_writes_compact() {
        assert_eq!(
            roundtrip(r#" {"a": [1, 2.5, "x\"y", null, true], "b": {}} "#),
            r#"{"a":[1,2.5,"x\"y",null,true],"b":{}}"#
        );
        assert_eq!(roundtrip(r#"{"a":1,"b":2,"a":3}"#), r#"{"a":3,"b":2}"#);
        assert_eq!(
            roundtrip(r#"[1e400, NaN, -Infinity, 99999999999999999999, -0]"#),
            "[null,null,null,99999999999999999999,0]"
        );
        assert_eq!(roundtrip(r#""\ud83d\ude00 \u00e9 \ud800""#), "\"😀 é \u{fffd}\"");
    }

    #[test]
    fn rejects_malformed() {
        let mut tape = Tape::default();
        for bad in [
            "",
            "[",
            "[1,]",
            "{\"a\"}",
            "[01]",
            "[1.]",
            "\"a\u{1}\"",
            "[] x",
            "[tru]",
            "{'a':1}",
        ] {
            assert!(tape.parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert!(tape.parse(b"[\"\xff\"]").is_err());
    }

    /// Every item of `page`, as compact JSON, and the tape's token capacity after the last one.
    fn page_items(page: &str) -> Result<(Vec<String>, usize), ParseError> {
        let mut tape = Tape::default();
        let mut items = PageItems::new(page.as_bytes())?;
        let mut out = Vec::new();
        while items.next_item(&mut tape)? {
            let mut text = String::new();
            write_json(&tape, 0, &mut text);
            out.push(text);
        }
        Ok((out, tape.toks.capacity()))
    }

    #[test]
    fn page_items_are_parsed_one_at_a_time() {
        let (items, _) = page_items("\u{feff}[ ]").unwrap();
        assert!(items.is_empty());
        let (items, _) = page_items("\n[ {\"a\" : [1, \"x\\ny\"]} ,2.5, \"s\",null,[] ]\n").unwrap();
        assert_eq!(items, [r#"{"a":[1,"x\ny"]}"#, "2.5", r#""s""#, "null", "[]"]);
        // the tape holds one item: a page of 10,000 items needs no more tokens than a page of one
        let item = r#"{"id": 1, "tags": ["a", "b", "c"], "owner": {"id": 2, "name": "x"}}"#;
        let one = format!("[{item}]");
        let many = format!("[{}]", vec![item; 10_000].join(","));
        let (_, one_capacity) = page_items(&one).unwrap();
        let (items, many_capacity) = page_items(&many).unwrap();
        assert_eq!(items.len(), 10_000);
        assert_eq!(many_capacity, one_capacity);
    }

    #[test]
    fn page_items_report_faults_where_they_are() {
        for (page, offset, reason) in [
            ("", 0, "unexpected end of input"),
            ("{\"a\": 1}", 0, NOT_AN_ARRAY),
            ("<html>", 0, "expected a value"),
            ("[1,]", 3, "expected a value"),
            ("[1 2]", 3, "expected ',' or a closing bracket"),
            ("[1", 2, "unexpected end of input"),
            ("[1] x", 4, "extra data after the document"),
            ("[01]", 2, "expected ',' or a closing bracket"),
        ] {
            let error = page_items(page).err();
            assert_eq!(error, Some(ParseError { offset, reason }), "{page:?}");
        }
        assert_eq!(
            PageItems::new(b"[\"\xff\"]").err().map(|e| e.reason),
            Some("invalid UTF-8")
        );
    }

    #[test]
    fn deep_nesting_does_not_recurse() {
        let depth = 200_000;
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let mut tape = Tape::default();
        tape.parse(text.as_bytes()).unwrap();
        assert_eq!(tape.toks.len(), depth);
        let mut out = String::new();
        write_json(&tape, 0, &mut out);
        assert_eq!(out, text);
    }
}
