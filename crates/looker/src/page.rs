//! Reading pages: validation, item counts, the key that detects repeated pages, and the query
//! references carried by looks, dashboards and scheduled plans.

use std::collections::HashSet;

use bytes::Bytes;

/// A page read and checked.
#[derive(Debug)]
pub(crate) struct ParsedPage {
    pub(crate) body: Bytes,
    pub(crate) items: usize,
    /// Identifies the page's first item: equal keys on consecutive pages mean a repeated page.
    pub(crate) first_key: Option<Vec<u8>>,
    /// Query references, when collected.
    pub(crate) refs: Option<QueryRefs>,
}

/// Query ids referenced by one page, and the queries it embeds (id and JSON text), each id once.
#[derive(Debug, Default)]
pub(crate) struct QueryRefs {
    pub(crate) embedded: Vec<(String, Vec<u8>)>,
    pub(crate) referenced: Vec<String>,
}

/// Deepest nesting the scanner accepts (serde_json's default limit is 128).
const MAX_DEPTH: usize = 512;

/// Reads a page body as a JSON array of items; `collect_refs` also gathers query references.
/// The error is a human-readable description of what is wrong.
///
/// One pass over the bytes, building no JSON values: strings are skipped with `memchr`, items
/// are counted at the top level, and only the fields holding query references (`query_id`,
/// `query`, `dashboard_elements[].{query_id, query, result_maker, look}`) are looked at. The
/// structure is checked (brackets, strings, separators, literals) so a truncated or non-JSON body
/// fails here with the page's URL; normalize parses the items fully afterwards.
pub(crate) fn parse_page(body: Bytes, collect_refs: bool) -> Result<ParsedPage, String> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'[') {
        let what = match first {
            None => "an empty body".to_owned(),
            Some(b'{') => "a JSON object".to_owned(),
            Some(b'<') => "an HTML/XML document".to_owned(),
            Some(_) => "something else".to_owned(),
        };
        // Still report a JSON syntax error first when there is one: it is the more precise cause.
        return Err(match Scanner::new(&body).whole_value() {
            Err(e) => e,
            Ok(()) => format!("expected a JSON array of items, got {what}"),
        });
    }
    let mut sc = Scanner::new(&body);
    if !collect_refs {
        let counted = count_items(&mut sc);
        return counted.map(|(items, first_key)| ParsedPage {
            body,
            items,
            first_key,
            refs: None,
        });
    }
    let mut collector = collect_refs.then(Collector::default);
    let mut items = 0usize;
    let mut first_key: Option<Vec<u8>> = None;
    sc.ws();
    sc.expect(b'[')?;
    sc.ws();
    if sc.peek() == Some(b']') {
        sc.pos += 1;
    } else {
        loop {
            sc.ws();
            let start = sc.pos;
            match collector.as_mut() {
                Some(c) => {
                    let id = sc.item_refs(c)?;
                    if items == 0 {
                        first_key = id.map(|(a, b)| body[a..b].to_vec());
                    }
                }
                None => {
                    sc.skip_value()?;
                    if items == 0 {
                        first_key = Some(body[start..sc.pos].to_vec());
                    }
                }
            }
            items += 1;
            sc.ws();
            match sc.next_byte()? {
                b',' => {}
                b']' => break,
                _ => return Err(sc.error_before("expected `,` or `]` after an item")),
            }
        }
    }
    sc.end()?;
    Ok(ParsedPage {
        body,
        items,
        first_key,
        refs: collector.map(|c| c.out),
    })
}

/// Counts the items of a page known to start with `[` in one pass over its brackets and strings;
/// also returns the first item's text.
fn count_items(sc: &mut Scanner<'_>) -> Result<(usize, Option<Vec<u8>>), String> {
    let body = sc.b;
    sc.ws();
    let open = sc.pos;
    let mut separators = 0usize;
    let mut first_end = None;
    sc.container(|at, _| {
        separators += 1;
        first_end.get_or_insert(at);
    })?;
    let close = sc.pos - 1;
    sc.end()?;
    let inner = body[open + 1..close].trim_ascii();
    if inner.is_empty() {
        return Ok((0, None));
    }
    let first = first_end.map_or(inner, |end| body[open + 1..end].trim_ascii());
    if first.is_empty() || body[open + 1..close].trim_ascii_end().ends_with(b",") {
        return Err(sc.error_at(open, "empty item in the array"));
    }
    Ok((separators, Some(first.to_vec())))
}

/// Validates the body of `GET /queries/{id}` (one JSON value) and returns its text.
pub(crate) fn parse_item(body: &[u8]) -> Result<&str, String> {
    let mut sc = Scanner::new(body);
    sc.ws();
    let start = sc.pos;
    if sc.peek() != Some(b'{') {
        sc.whole_value()?;
        return Err("expected a JSON object".to_owned());
    }
    sc.skip_value()?;
    let end = sc.pos;
    sc.end()?;
    std::str::from_utf8(&body[start..end]).map_err(|e| format!("invalid UTF-8: {e}"))
}

/// The index of the quote closing a string whose contents start at `i` (escapes skipped).
#[inline]
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let j = quote_or_backslash(b, i)?;
        if b[j] == b'"' {
            return Some(j);
        }
        i = j + 2;
    }
}

/// The first `"` or `\\` at or after `i`, eight bytes at a time.
#[inline]
fn quote_or_backslash(b: &[u8], mut i: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let q = w ^ (ONES * u64::from(b'"'));
        let e = w ^ (ONES * u64::from(b'\\'));
        // A zero byte in `q` or `e` marks a match; the lowest flagged byte is always a true one.
        let found = ((q.wrapping_sub(ONES) & !q) | (e.wrapping_sub(ONES) & !e)) & HIGH;
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    b.get(i..)?
        .iter()
        .position(|&c| c == b'"' || c == b'\\')
        .map(|k| i + k)
}

/// A forward-only structural reader of JSON bytes.
struct Scanner<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn new(b: &'a [u8]) -> Self {
        Scanner { b, pos: 0 }
    }

    fn error_at(&self, pos: usize, what: &str) -> String {
        format!("invalid JSON: {what} at byte {pos} of {}", self.b.len())
    }

    /// An error about the byte just consumed.
    fn error_before(&self, what: &str) -> String {
        self.error_at(self.pos.saturating_sub(1), what)
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn next_byte(&mut self) -> Result<u8, String> {
        let c = self
            .peek()
            .ok_or_else(|| self.error_at(self.pos, "unexpected end of the body"))?;
        self.pos += 1;
        Ok(c)
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect(&mut self, want: u8) -> Result<(), String> {
        if self.next_byte()? == want {
            Ok(())
        } else {
            Err(self.error_before(&format!("expected `{}`", want as char)))
        }
    }

    /// Only whitespace may follow.
    fn end(&mut self) -> Result<(), String> {
        self.ws();
        if self.pos < self.b.len() {
            return Err(self.error_at(self.pos, "trailing characters"));
        }
        Ok(())
    }

    /// The whole body is one JSON value.
    fn whole_value(&mut self) -> Result<(), String> {
        self.ws();
        self.skip_value()?;
        self.end()
    }

    /// Skips a string whose opening quote is at `pos`; returns the span of its contents.
    fn string(&mut self) -> Result<(usize, usize), String> {
        let start = self.pos + 1;
        match string_end(self.b, start) {
            Some(end) => {
                self.pos = end + 1;
                Ok((start, end))
            }
            None => Err(self.error_at(self.pos, "unterminated string")),
        }
    }

    /// Skips `true`, `false`, `null` or a number.
    fn scalar(&mut self) -> Result<(), String> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.') {
                self.pos += 1;
            } else {
                break;
            }
        }
        let token = &self.b[start..self.pos];
        let ok = match token.first() {
            Some(b'-' | b'0'..=b'9') => token
                .iter()
                .all(|c| c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.' | b'e' | b'E')),
            _ => matches!(token, b"true" | b"false" | b"null"),
        };
        if ok {
            Ok(())
        } else {
            Err(self.error_at(start, "expected a value"))
        }
    }

    /// Skips one value of any kind. Containers are skipped by their brackets and strings alone
    /// (a truncated or unbalanced body is caught, separators are left to normalize's parse).
    fn skip_value(&mut self) -> Result<(), String> {
        self.ws();
        match self.peek() {
            Some(b'"') => self.string().map(|_| ()),
            Some(b'{' | b'[') => self.container(|_, _| {}),
            Some(_) => self.scalar(),
            None => Err(self.error_at(self.pos, "unexpected end of the body")),
        }
    }

    /// Skips the container opening at `pos`, calling `top(self_pos, byte)` for each `,` and the
    /// closing bracket directly inside it.
    fn container(&mut self, mut top: impl FnMut(usize, u8)) -> Result<(), String> {
        let b = self.b;
        let open_at = self.pos;
        // One bit per open container: 1 for `{`, 0 for `[`. Past 64 levels the bits of the outer
        // ones are lost, so the kind check stops for the rest of this container.
        let mut kinds: u64 = 0;
        let mut depth = 0usize;
        let mut checked = true;
        let mut i = self.pos;
        while i < b.len() {
            match b[i] {
                b'"' => {
                    let Some(end) = string_end(b, i + 1) else {
                        return Err(self.error_at(i, "unterminated string"));
                    };
                    i = end + 1;
                    continue;
                }
                c @ (b'{' | b'[') => {
                    if depth >= MAX_DEPTH {
                        return Err(self.error_at(i, "nested too deep"));
                    }
                    kinds = (kinds << 1) | u64::from(c == b'{');
                    depth += 1;
                    checked &= depth <= 64;
                }
                c @ (b'}' | b']') => {
                    if checked && (kinds & 1 == 1) != (c == b'}') {
                        return Err(self.error_at(i, "mismatched closing bracket"));
                    }
                    kinds >>= 1;
                    depth -= 1;
                    if depth == 0 {
                        top(i, c);
                        self.pos = i + 1;
                        return Ok(());
                    }
                }
                b',' if depth == 1 => top(i, b','),
                _ => {}
            }
            i += 1;
        }
        Err(self.error_at(open_at, "unterminated array or object"))
    }

    /// Reads `"key":` and returns the key's raw span.
    fn key(&mut self) -> Result<(usize, usize), String> {
        if self.peek() != Some(b'"') {
            return Err(self.error_at(self.pos, "expected a key"));
        }
        let span = self.string()?;
        self.ws();
        self.expect(b':')?;
        self.ws();
        Ok(span)
    }

    /// Walks an object's members, calling `member(self, key)` with `pos` at each value; `member`
    /// must consume the value. Anything but an object is skipped when `lenient`, else an error.
    fn object(
        &mut self,
        lenient: bool,
        mut member: impl FnMut(&mut Self, &[u8]) -> Result<(), String>,
    ) -> Result<bool, String> {
        self.ws();
        if self.peek() != Some(b'{') {
            if lenient {
                self.skip_value()?;
                return Ok(false);
            }
            return Err(self.error_at(self.pos, "expected an object (an item)"));
        }
        self.pos += 1;
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(true);
        }
        loop {
            self.ws();
            let (a, b) = self.key()?;
            let bytes = self.b;
            member(self, &bytes[a..b])?;
            self.ws();
            match self.next_byte()? {
                b',' => {}
                b'}' => return Ok(true),
                _ => return Err(self.error_before("expected `,` or `}` after a member")),
            }
        }
    }

    /// Reads an id: a string (escapes decoded) or a number as written; `null`, `""` and other
    /// kinds give none.
    fn id(&mut self) -> Result<Option<String>, String> {
        self.ws();
        match self.peek() {
            Some(b'"') => {
                let (a, b) = self.string()?;
                let raw = &self.b[a..b];
                let text = if raw.contains(&b'\\') {
                    serde_json::from_slice::<String>(&self.b[a - 1..=b]).ok()
                } else {
                    std::str::from_utf8(raw).ok().map(str::to_owned)
                };
                Ok(text.filter(|t| !t.is_empty()))
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                self.scalar()?;
                Ok(std::str::from_utf8(&self.b[start..self.pos])
                    .ok()
                    .map(str::to_owned))
            }
            _ => {
                self.skip_value()?;
                Ok(None)
            }
        }
    }

    /// An embedded query: its `id` and its text, offered to the collector.
    fn query(&mut self, c: &mut Collector) -> Result<(), String> {
        self.ws();
        let start = self.pos;
        let mut id = None;
        let is_object = self.object(true, |sc, key| {
            if key == b"id" {
                id = sc.id()?;
                Ok(())
            } else {
                sc.skip_value()
            }
        })?;
        if is_object && let Some(id) = id {
            c.embedded(id, &self.b[start..self.pos]);
        }
        Ok(())
    }

    /// A `result_maker`, an element's `look`, or a dashboard element: `query_id` and `query`,
    /// plus, for elements, `result_maker` and `look`.
    fn holder(&mut self, c: &mut Collector, element: bool) -> Result<(), String> {
        self.object(true, |sc, key| match key {
            b"query_id" => {
                let id = sc.id()?;
                c.referenced(id);
                Ok(())
            }
            b"query" => sc.query(c),
            b"result_maker" | b"look" if element => sc.holder(c, false),
            _ => sc.skip_value(),
        })?;
        Ok(())
    }

    /// One look, dashboard or scheduled plan: its query references go to `c`; returns the span of
    /// its `id` value.
    fn item_refs(&mut self, c: &mut Collector) -> Result<Option<(usize, usize)>, String> {
        let mut id_span = None;
        self.object(false, |sc, key| match key {
            b"id" => {
                sc.ws();
                let start = sc.pos;
                sc.skip_value()?;
                id_span = Some((start, sc.pos));
                Ok(())
            }
            b"query_id" => {
                let id = sc.id()?;
                c.referenced(id);
                Ok(())
            }
            b"query" => sc.query(c),
            b"dashboard_elements" => {
                sc.ws();
                if sc.peek() != Some(b'[') {
                    return sc.skip_value();
                }
                sc.pos += 1;
                sc.ws();
                if sc.peek() == Some(b']') {
                    sc.pos += 1;
                    return Ok(());
                }
                loop {
                    sc.holder(c, true)?;
                    sc.ws();
                    match sc.next_byte()? {
                        b',' => {}
                        b']' => return Ok(()),
                        _ => return Err(sc.error_before("expected `,` or `]` in an array")),
                    }
                }
            }
            _ => sc.skip_value(),
        })?;
        Ok(id_span)
    }
}

/// Gathers one page's query references, each id once.
#[derive(Default)]
struct Collector {
    seen_embedded: HashSet<String>,
    seen_referenced: HashSet<String>,
    out: QueryRefs,
}

impl Collector {
    fn referenced(&mut self, id: Option<String>) {
        if let Some(id) = id
            && !self.seen_referenced.contains(id.as_str())
        {
            self.seen_referenced.insert(id.clone());
            self.out.referenced.push(id);
        }
    }

    fn embedded(&mut self, id: String, raw: &[u8]) {
        if self.seen_embedded.contains(id.as_str()) {
            return;
        }
        self.seen_embedded.insert(id.clone());
        self.out.embedded.push((id, raw.to_vec()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_items_and_keys_first_item() {
        let p = parse_page(Bytes::from_static(b" [{\"id\":\"1\"},{\"id\":\"2\"}] "), false).expect("page");
        assert_eq!(p.items, 2);
        assert_eq!(p.first_key.as_deref(), Some(&b"{\"id\":\"1\"}"[..]));
        let empty = parse_page(Bytes::from_static(b"[]"), true).expect("empty");
        assert_eq!((empty.items, empty.first_key), (0, None));
    }

    #[test]
    fn malformed_bodies_are_described() {
        for (body, want) in [
            (&b"[{\"id\":1},"[..], "invalid JSON"),
            (b"{\"message\":\"x\"}", "got a JSON object"),
            (b"<html></html>", "invalid JSON"),
            (b"", "invalid JSON"),
            (b"[1,2]", ""),
        ] {
            match parse_page(Bytes::copy_from_slice(body), false) {
                Ok(p) => assert_eq!((want, p.items), ("", 2)),
                Err(e) => assert!(e.contains(want), "{e}"),
            }
        }
        assert!(
            parse_page(Bytes::from_static(b"[1,2]"), true).is_err(),
            "refs need objects"
        );
    }

    #[test]
    fn collects_every_query_reference_once() {
        let body = br#"[
          {"id":"d1","query_id":null,"dashboard_elements":[
            {"query_id":"10","query":{"id":"10","model":"m"},
             "result_maker":{"query_id":"10","query":{"id":"10","model":"m"}},
             "look":null},
            {"query_id":null,"query":null,
             "result_maker":{"query_id":"11","query":null},
             "look":{"query_id":"12","query":{"id":"12","x":[1]}}},
            {"query_id":13,"result_maker":null}
          ]},
          {"id":"l1","query_id":"14"}
        ]"#;
        let p = parse_page(Bytes::from_static(body), true).expect("page");
        assert_eq!(p.items, 2);
        assert_eq!(p.first_key.as_deref(), Some(&b"\"d1\""[..]));
        let refs = p.refs.expect("refs");
        let mut referenced = refs.referenced.clone();
        referenced.sort();
        assert_eq!(referenced, ["10", "11", "12", "13", "14"]);
        let embedded: Vec<_> = refs
            .embedded
            .iter()
            .map(|(id, raw)| (id.as_str(), String::from_utf8_lossy(raw).into_owned()))
            .collect();
        assert_eq!(
            embedded,
            [
                ("10", r#"{"id":"10","model":"m"}"#.to_owned()),
                ("12", r#"{"id":"12","x":[1]}"#.to_owned())
            ]
        );
    }

    #[test]
    fn single_items_must_be_objects() {
        assert_eq!(parse_item(b" {\"id\":\"1\"} ").expect("ok"), "{\"id\":\"1\"}");
        assert!(parse_item(b"[1]").is_err());
        assert!(parse_item(b"{\"id\":").is_err());
    }

    #[test]
    fn strings_escapes_and_nesting_are_skipped_exactly() {
        let body = br#"[{"id":"a\"]","x":{"y":[1,-2.5e3,true,null,{"z":"\\"}],"w":{}},"v":[]},
            {"id":2,"query_id":"q\u0031","query":{"k":"{\"id\":9}","id":"7"}}]"#;
        let p = parse_page(Bytes::from_static(body), true).expect("page");
        assert_eq!(p.items, 2);
        assert_eq!(p.first_key.as_deref(), Some(&br#""a\"]""#[..]));
        let refs = p.refs.expect("refs");
        assert_eq!(refs.referenced, ["q1"]);
        assert_eq!(refs.embedded.len(), 1);
        assert_eq!(refs.embedded[0].0, "7");
        assert_eq!(refs.embedded[0].1, br#"{"k":"{\"id\":9}","id":"7"}"#.to_vec());
    }

    #[test]
    fn broken_structure_is_invalid_json() {
        // Caught in both modes: truncation, unbalanced or mismatched brackets, open strings,
        // trailing text, empty items.
        let structural: [&[u8]; 8] = [
            b"[{\"a\":1}",
            b"[] x",
            b"[\"abc]",
            b"[[1,2}]",
            b"[\"a\\\"]",
            b"[{\"a\":[1,2]]",
            b"[1,]",
            b"[,1]",
        ];
        // Separators and literals are checked where items are walked field by field (pages whose
        // query references are collected); elsewhere normalize's full parse reports them.
        let walked: [&[u8]; 5] = [
            b"[{\"a\" 1}]",
            b"[{\"a\":1,}]",
            b"[{1:2}]",
            b"[{\"a\":tru}]",
            b"[{\"a\":1}{}]",
        ];
        let cases = structural.iter().flat_map(|b| [(*b, false), (*b, true)]);
        for (body, refs) in cases.chain(walked.iter().map(|b| (*b, true))) {
            let err = parse_page(Bytes::copy_from_slice(body), refs).expect_err("invalid");
            assert!(
                err.contains("invalid JSON"),
                "{}: {err}",
                String::from_utf8_lossy(body)
            );
        }
        // Valid nesting deeper than the 64 levels whose bracket kinds are checked.
        let nested = format!("[{}1{}]", "{\"a\":[".repeat(40), "]}".repeat(40));
        assert_eq!(
            parse_page(Bytes::from(nested.clone()), false)
                .expect("deep")
                .items,
            1
        );
        let wrapped = format!("[{{\"id\":1,\"x\":{nested}}}]");
        assert_eq!(
            parse_page(Bytes::from(wrapped), true).expect("deep refs").items,
            1
        );
        let deep = format!("[{}{}]", "[".repeat(600), "]".repeat(600));
        assert!(parse_page(Bytes::from(deep), false).is_err());
    }

    #[test]
    fn scan_agrees_with_a_full_parse_on_mock_pages() {
        let data = looker_mock::Dataset::new(&looker_mock::MockConfig::with_size(40, 30, 20));
        for resource in ["looks", "dashboards", "users"] {
            let items: Vec<serde_json::Value> = (0..data.count(resource))
                .filter_map(|i| data.item(resource, i))
                .collect();
            let body = serde_json::to_vec(&items).expect("json");
            let p = parse_page(Bytes::from(body), true).expect("page");
            assert_eq!(p.items, items.len());
            let mut want_ref = std::collections::BTreeSet::new();
            let mut want_emb = std::collections::BTreeMap::new();
            let id = |v: &serde_json::Value| match v {
                serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            };
            let mut holder = |h: &serde_json::Value| {
                if let Some(q) = h.get("query_id").and_then(id) {
                    want_ref.insert(q);
                }
                if let Some(q) = h.get("query").filter(|q| q.is_object())
                    && let Some(qid) = q.get("id").and_then(id)
                {
                    want_emb.entry(qid).or_insert_with(|| q.clone());
                }
            };
            for item in &items {
                holder(item);
                for el in item["dashboard_elements"].as_array().into_iter().flatten() {
                    holder(el);
                    for h in [&el["result_maker"], &el["look"]] {
                        holder(h);
                    }
                }
            }
            let refs = p.refs.expect("refs");
            let got_ref: std::collections::BTreeSet<String> = refs.referenced.into_iter().collect();
            let got_emb: std::collections::BTreeMap<String, serde_json::Value> = refs
                .embedded
                .into_iter()
                .map(|(k, raw)| (k, serde_json::from_slice(&raw).expect("embedded query is JSON")))
                .collect();
            assert_eq!(got_ref, want_ref, "{resource}");
            assert_eq!(got_emb, want_emb, "{resource}");
            if resource == "dashboards" {
                assert!(!got_emb.is_empty(), "the mock's dashboards embed queries");
            }
        }
    }
}
