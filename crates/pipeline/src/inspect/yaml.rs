//! A small YAML emitter (block style, two-space indentation), enough for
//! `looker-load schema --format yaml`. Keys keep the order the value serializes them in (dlt's schema
//! lists tables and columns in order of appearance). Strings stay plain only when no YAML 1.1 or 1.2
//! reader could take them for anything else; all others are double-quoted with JSON-compatible escapes.

use serde_json::Value as Json;

/// A JSON value that keeps the order of object keys (`serde_json::Value` sorts them in this build).
#[derive(Debug, Clone, PartialEq)]
enum Value {
    /// `null`, `true`, `false` or a number, as JSON writes it.
    Literal(String),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// The JSON document `json` as a YAML document ending with a newline, object keys in their JSON order.
pub(crate) fn to_yaml(json: &str) -> Result<String, String> {
    let mut reader = Reader { text: json, pos: 0 };
    reader.skip_space();
    let value = reader.value()?;
    reader.skip_space();
    if reader.pos != json.len() {
        return Err(format!("trailing characters at byte {}", reader.pos));
    }
    Ok(emit(&value))
}

/// Reads JSON keeping key order. Strings and literals are decoded by serde_json.
struct Reader<'a> {
    text: &'a str,
    pos: usize,
}

impl Reader<'_> {
    fn skip_space(&mut self) {
        while self
            .text
            .as_bytes()
            .get(self.pos)
            .is_some_and(u8::is_ascii_whitespace)
        {
            self.pos += 1;
        }
    }

    /// The byte at the current position.
    fn byte(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// The next byte that is not white space.
    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.byte()
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected `{}` at byte {}", byte as char, self.pos))
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                let mut entries = Vec::new();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(Value::Object(entries));
                }
                loop {
                    let key = self.string()?;
                    self.expect(b':')?;
                    entries.push((key, self.value()?));
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        _ => {
                            self.expect(b'}')?;
                            return Ok(Value::Object(entries));
                        }
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        _ => {
                            self.expect(b']')?;
                            return Ok(Value::Array(items));
                        }
                    }
                }
            }
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(_) => {
                let start = self.pos;
                while self
                    .byte()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.'))
                {
                    self.pos += 1;
                }
                let literal = &self.text[start..self.pos];
                match serde_json::from_str::<Json>(literal) {
                    Ok(Json::Null | Json::Bool(_) | Json::Number(_)) => {
                        Ok(Value::Literal(literal.to_owned()))
                    }
                    _ => Err(format!("unexpected `{literal}` at byte {start}")),
                }
            }
            None => Err("unexpected end of JSON".to_owned()),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        let start = self.pos;
        self.expect(b'"')?;
        loop {
            match self.byte() {
                Some(b'\\') => self.pos += 2,
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(_) => self.pos += 1,
                None => return Err("unterminated string".to_owned()),
            }
        }
        let quoted = self
            .text
            .get(start..self.pos)
            .ok_or("string ends inside a character")?;
        serde_json::from_str(quoted).map_err(|e| e.to_string())
    }
}

fn emit(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        scalar => {
            write_scalar(&mut out, scalar);
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// Writes a non-empty object, each key at `level` spaces.
fn write_map(out: &mut String, map: &[(String, Value)], level: usize) {
    for (i, (key, value)) in map.iter().enumerate() {
        // The first key of a sequence item follows its `- ` on the same line.
        if i > 0 || !out.ends_with("- ") {
            indent(out, level);
        }
        write_string(out, key);
        out.push(':');
        write_nested(out, value, level + 2);
    }
}

/// Writes a non-empty array, each `- ` at `level` spaces.
fn write_seq(out: &mut String, items: &[Value], level: usize) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !out.ends_with("- ") {
            indent(out, level);
        }
        out.push_str("- ");
        match item {
            Value::Object(map) if !map.is_empty() => write_map(out, map, level + 2),
            Value::Array(inner) if !inner.is_empty() => write_seq(out, inner, level + 2),
            scalar => {
                write_scalar(out, scalar);
                out.push('\n');
            }
        }
    }
}

/// Writes the value of a mapping entry after its `key:`; nested blocks start on the next line at `level`.
fn write_nested(out: &mut String, value: &Value, level: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, level);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, level);
        }
        scalar => {
            out.push(' ');
            write_scalar(out, scalar);
            out.push('\n');
        }
    }
}

fn write_scalar(out: &mut String, value: &Value) {
    match value {
        Value::Literal(literal) => out.push_str(&yaml_number(literal)),
        Value::String(s) => write_string(out, s),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

/// A JSON literal as YAML 1.1 and 1.2 both read it: exponents get a mantissa with a dot and a signed
/// exponent (`1e300` → `1.0e+300`), which YAML 1.1 requires to read a float.
fn yaml_number(literal: &str) -> String {
    let is_number = literal.starts_with(|c: char| c == '-' || c.is_ascii_digit());
    let Some(at) = literal.find(['e', 'E']).filter(|_| is_number) else {
        return literal.to_owned();
    };
    let (mantissa, e, exponent) = (&literal[..at], &literal[at..=at], &literal[at + 1..]);
    let mantissa = if mantissa.contains('.') {
        mantissa.to_owned()
    } else {
        format!("{mantissa}.0")
    };
    let exponent = if exponent.starts_with(['+', '-']) {
        exponent.to_owned()
    } else {
        format!("+{exponent}")
    };
    format!("{mantissa}{e}{exponent}")
}

fn write_string(out: &mut String, s: &str) {
    if is_plain_safe(s) {
        out.push_str(s);
    } else {
        write_quoted(out, s);
    }
}

/// Words YAML 1.1 or 1.2 readers resolve to booleans or null.
const RESERVED: [&str; 12] = [
    "null", "true", "false", "yes", "no", "on", "off", "y", "n", "~", "nan", "inf",
];

/// Whether `s` reads back as the same string when written unquoted: it starts with a letter or `_`, holds
/// only letters, digits, spaces and `_ . / - + = ( )`, does not end with a space and is no reserved word.
fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_')
        && !s.ends_with(' ')
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '.' | '/' | '-' | '+' | '=' | '(' | ')')
        })
        && !RESERVED.iter().any(|w| w.eq_ignore_ascii_case(s))
}

/// A double-quoted scalar. Escapes are the JSON ones (a subset of YAML's), plus every character YAML
/// does not allow unescaped: C0 and C1 controls, DEL, line and paragraph separators, the byte order mark.
fn write_quoted(out: &mut String, s: &str) {
    use std::fmt::Write as _;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20
                || (0x7f..=0x9f).contains(&(c as u32))
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') =>
            {
                // writing into a String cannot fail
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn yaml(value: &Json) -> String {
        to_yaml(&value.to_string()).expect("valid JSON")
    }

    #[test]
    fn nested_maps_and_sequences() {
        let value = json!({
            "hints": ["_dlt_id", "_dlt_root_id"],
            "name": "looker_data_source",
            "pairs": [{"a": 1, "b": [true, null]}, [1, 2], []],
            "tables": {
                "empty": {"columns": {}},
                "users": {
                    "columns": {"id": {"data_type": "bigint", "nullable": false}},
                    "write_disposition": "replace",
                },
            },
            "version": 2,
        });
        let expected = "\
hints:
  - _dlt_id
  - _dlt_root_id
name: looker_data_source
pairs:
  - a: 1
    b:
      - true
      - null
  - - 1
    - 2
  - []
tables:
  empty:
    columns: {}
  users:
    columns:
      id:
        data_type: bigint
        nullable: false
    write_disposition: replace
version: 2
";
        assert_eq!(yaml(&value), expected);
    }

    #[test]
    fn keys_keep_serialization_order() {
        let mut schema = package::schema::Schema::new("s");
        let mut table = package::schema::Table {
            name: "zeta".to_owned(),
            ..Default::default()
        };
        table.columns.push(package::schema::Column::new(
            "b",
            package::schema::DataType::Bigint,
        ));
        table
            .columns
            .push(package::schema::Column::new("a", package::schema::DataType::Text));
        schema.tables.push(table);
        let json = serde_json::to_string_pretty(&schema).expect("serializable");
        let out = to_yaml(&json).expect("valid JSON");
        let tables = out.find("\n  zeta:\n    name: zeta\n    columns:\n      b:\n        name: b\n        data_type: bigint\n        nullable: true\n      a:\n");
        assert!(tables.is_some(), "{out}");
        let version = out.find("version:").expect("version");
        let name = out.find("\nname: s\n").expect("name");
        assert!(version < name, "{out}");
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        let quoted = [
            "",
            "true",
            "No",
            "null",
            "~",
            "123",
            "1.5",
            "-1",
            ".inf",
            "2026-11-29T06:17:04Z",
            " lead",
            "trail ",
            "a: b",
            "a #b",
            "#x",
            "*ref",
            "&anchor",
            "!tag",
            "{x}",
            "[x]",
            "- item",
            "?",
            "@at",
            "`tick",
            "'single",
            "\"double",
            "multi\nline",
            "tab\there",
            "k:",
            "%x",
            "|x",
            ">x",
        ];
        for s in quoted {
            let out = yaml(&json!(s));
            assert!(out.starts_with('"'), "{s:?} → {out}");
        }
        for s in [
            "users",
            "Unique identifier of the load operation",
            "x-normalizer",
            "dlt.common.json",
            "a+b=c/d",
        ] {
            assert_eq!(yaml(&json!(s)), format!("{s}\n"));
        }
    }

    #[test]
    fn escapes_are_valid_yaml() {
        let out = yaml(&json!({"k\"ey": "a\\b\u{1}\u{85}\u{2028}é\r"}));
        assert_eq!(out, "\"k\\\"ey\": \"a\\\\b\\u0001\\u0085\\u2028é\\r\"\n");
    }

    #[test]
    fn malformed_json_is_an_error() {
        for bad in ["", "{", "[1,", "{\"a\" 1}", "\"open", "nope", "1 2", "{\"a\":1,}"] {
            assert!(to_yaml(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn scalars_at_top_level() {
        assert_eq!(yaml(&json!(null)), "null\n");
        assert_eq!(yaml(&json!({})), "{}\n");
        assert_eq!(yaml(&json!([])), "[]\n");
        assert_eq!(yaml(&json!(1.5e300)), "1.5e+300\n");
        assert_eq!(
            to_yaml("[1E-7, 2e5, 0.25]").expect("valid"),
            "- 1.0E-7\n- 2.0e+5\n- 0.25\n"
        );
        assert_eq!(yaml(&json!(-7)), "-7\n");
    }
}
