//! Raw values as found in TOML files, the environment or flags, and their conversion to typed
//! values with errors that name the key and where it was found.
//!
//! Environment values are always text: numbers arrive as strings, lists as Python/JSON literals
//! (`["users", 'looks']`, which is what dlt documents) or as plain comma lists (`users,looks`).
//! TOML values get the same leniency dlt gives them: a number may be written as a string.

use std::time::Duration;

use super::error::{ConfigError, Origin};

/// A value before conversion.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Raw<'a> {
    /// A value from a TOML file.
    Toml(&'a toml::Value),
    /// Text from an environment variable or a flag.
    Text(&'a str),
}

impl<'a> Raw<'a> {
    /// The value as text, if it is text (a TOML string or an environment value).
    pub(crate) fn text(self) -> Option<&'a str> {
        match self {
            Raw::Toml(toml::Value::String(s)) => Some(s),
            Raw::Toml(_) => None,
            Raw::Text(s) => Some(s),
        }
    }

    /// Whether the value is a TOML table (a section rather than a value).
    pub(crate) fn is_table(self) -> bool {
        matches!(self, Raw::Toml(toml::Value::Table(_)))
    }

    /// A TOML kind name for error messages.
    fn kind(self) -> &'static str {
        match self {
            Raw::Toml(v) => v.type_str(),
            Raw::Text(_) => "string",
        }
    }
}

/// Placeholder written by `dlt init` into generated TOML files.
const DLT_PLACEHOLDER: &str = "<configure me>";

/// How a value is shown in an error: quoted, shortened, `<redacted>` for secrets, and with any
/// password inside a URL masked.
pub(crate) fn render(raw: Raw<'_>, secret: bool) -> String {
    if secret {
        return "<redacted>".to_owned();
    }
    let shown = match raw {
        Raw::Text(_) | Raw::Toml(toml::Value::String(_)) => {
            format!("{:?}", redact_url(raw.text().unwrap_or_default()))
        }
        Raw::Toml(toml::Value::Table(_)) => "a table".to_owned(),
        Raw::Toml(toml::Value::Array(_)) => format!("an array {}", redact_url(&raw_toml(raw))),
        Raw::Toml(_) => raw_toml(raw),
    };
    shorten(&shown, 120)
}

fn raw_toml(raw: Raw<'_>) -> String {
    match raw {
        Raw::Toml(v) => v.to_string(),
        Raw::Text(s) => s.to_owned(),
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let head: String = s.chars().take(max).collect();
        format!("{head}…")
    }
}

/// Masks the password of anything shaped like `scheme://user:password@host…`, even when the
/// rest is not a valid URL. It errs on the side of masking: everything from the first `:` after
/// the scheme to the last `@` is hidden, so an unencoded `/` or `@` in a password cannot leak.
pub(crate) fn redact_url(s: &str) -> String {
    let Some(scheme_end) = s.find("://") else {
        return s.to_owned();
    };
    let rest_start = scheme_end + 3;
    let rest = &s[rest_start..];
    let Some(at) = rest.rfind('@') else {
        return s.to_owned();
    };
    let Some(colon) = rest[..at].find(':') else {
        return s.to_owned();
    };
    format!("{}{}:***{}", &s[..rest_start], &rest[..colon], &rest[at..])
}

/// Builds [`ConfigError::Invalid`].
pub(crate) fn invalid(
    key: &str,
    origin: &Origin,
    raw: Raw<'_>,
    secret: bool,
    expected: impl Into<String>,
) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        origin: origin.clone(),
        value: render(raw, secret),
        expected: expected.into(),
    }
}

/// A non-empty string (surrounding whitespace removed) that is not dlt's placeholder.
pub(crate) fn to_string(
    key: &str,
    origin: &Origin,
    raw: Raw<'_>,
    secret: bool,
) -> Result<String, ConfigError> {
    let Some(text) = raw.text() else {
        return Err(invalid(
            key,
            origin,
            raw,
            secret,
            format!("a string, not a {}", raw.kind()),
        ));
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid(key, origin, raw, secret, "a non-empty string"));
    }
    if text == DLT_PLACEHOLDER {
        return Err(invalid(
            key,
            origin,
            raw,
            secret,
            "a real value (`<configure me>` is the placeholder written by `dlt init`)",
        ));
    }
    Ok(text.to_owned())
}

/// A whole number of at least `min`, from a TOML integer or text.
pub(crate) fn to_int<T>(key: &str, origin: &Origin, raw: Raw<'_>, min: T) -> Result<T, ConfigError>
where
    T: TryFrom<i64> + std::str::FromStr + PartialOrd + Copy + std::fmt::Display,
{
    let expected = || format!("a whole number of at least {min}");
    let parsed = match raw {
        Raw::Toml(toml::Value::Integer(i)) => T::try_from(*i).ok(),
        _ => raw.text().and_then(|t| t.trim().parse::<T>().ok()),
    };
    match parsed {
        Some(n) if n >= min => Ok(n),
        _ => Err(invalid(key, origin, raw, false, expected())),
    }
}

/// A boolean: TOML `true`/`false`, or text `true`/`false`/`1`/`0`/`yes`/`no` (any case), as dlt reads
/// booleans from the environment.
pub(crate) fn to_bool(key: &str, origin: &Origin, raw: Raw<'_>) -> Result<bool, ConfigError> {
    let parsed = match raw {
        Raw::Toml(toml::Value::Boolean(b)) => Some(*b),
        _ => raw
            .text()
            .and_then(|t| match t.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Some(true),
                "false" | "0" | "no" => Some(false),
                _ => None,
            }),
    };
    parsed.ok_or_else(|| invalid(key, origin, raw, false, "true or false"))
}

/// A number of seconds (whole or fractional), more than zero unless `allow_zero`.
pub(crate) fn to_seconds(
    key: &str,
    origin: &Origin,
    raw: Raw<'_>,
    allow_zero: bool,
) -> Result<Duration, ConfigError> {
    let secs = match raw {
        Raw::Toml(toml::Value::Integer(i)) => Some(*i as f64),
        Raw::Toml(toml::Value::Float(f)) => Some(*f),
        _ => raw.text().and_then(|t| t.trim().parse::<f64>().ok()),
    };
    let expected = if allow_zero {
        "a number of seconds, zero or more"
    } else {
        "a number of seconds, more than zero"
    };
    match secs.and_then(|s| Duration::try_from_secs_f64(s).ok()) {
        Some(d) if allow_zero || !d.is_zero() => Ok(d),
        _ => Err(invalid(key, origin, raw, false, expected)),
    }
}

/// A list of strings: a TOML array of strings, or text holding a Python/JSON list literal or a
/// comma-separated list. Items are trimmed; empty items are dropped.
pub(crate) fn to_list(key: &str, origin: &Origin, raw: Raw<'_>) -> Result<Vec<String>, ConfigError> {
    let expected = "a list of names: a TOML array like [\"users\", \"looks\"], or text like \
                    '[\"users\", \"looks\"]' or users,looks";
    let items = match raw {
        Raw::Toml(toml::Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| invalid(key, origin, raw, false, expected))?,
        _ => {
            let text = raw
                .text()
                .ok_or_else(|| invalid(key, origin, raw, false, expected))?;
            parse_list(text).map_err(|why| invalid(key, origin, raw, false, format!("{expected} ({why})")))?
        }
    };
    Ok(items
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect())
}

/// Parses `'["a", "b"]'`, `"('a', 'b')"`, `a,b` or `a`.
pub(crate) fn parse_list(text: &str) -> Result<Vec<String>, String> {
    let text = text.trim();
    let close = match text.chars().next() {
        Some('[') => ']',
        Some('(') => ')',
        _ => return Ok(text.split(',').map(str::to_owned).collect()),
    };
    let mut chars = text.chars().peekable();
    chars.next(); // the opening bracket
    let mut items = Vec::new();
    loop {
        skip_spaces(&mut chars);
        match chars.next() {
            Some(c) if c == close => break,
            Some(q @ ('"' | '\'')) => items.push(parse_quoted(&mut chars, q)?),
            Some(c) => return Err(format!("unexpected `{c}`: list items must be quoted")),
            None => return Err(format!("no closing `{close}`")),
        }
        skip_spaces(&mut chars);
        match chars.next() {
            Some(',') => continue,
            Some(c) if c == close => break,
            Some(c) => return Err(format!("unexpected `{c}` after an item")),
            None => return Err(format!("no closing `{close}`")),
        }
    }
    skip_spaces(&mut chars);
    if let Some(c) = chars.next() {
        return Err(format!("unexpected `{c}` after the closing `{close}`"));
    }
    Ok(items)
}

fn skip_spaces(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while chars.peek().is_some_and(|c| c.is_whitespace()) {
        chars.next();
    }
}

/// A quoted string after its opening quote, with Python/JSON escapes.
fn parse_quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, quote: char) -> Result<String, String> {
    let mut out = String::new();
    loop {
        match chars.next() {
            None => return Err("an unterminated string".to_owned()),
            Some(c) if c == quote => return Ok(out),
            Some('\\') => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let c = u32::from_str_radix(&hex, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or_else(|| format!("a bad escape \\u{hex}"))?;
                    out.push(c);
                }
                Some(c @ ('\\' | '\'' | '"' | '/')) => out.push(c),
                Some(c) => {
                    out.push('\\');
                    out.push(c);
                }
                None => return Err("an unterminated string".to_owned()),
            },
            Some(c) => out.push(c),
        }
    }
}

/// Decodes `%XX` escapes; `None` if the result is not UTF-8 or an escape is malformed.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_literals() {
        assert_eq!(parse_list(r#"["users","looks"]"#).unwrap(), ["users", "looks"]);
        assert_eq!(parse_list("['users', 'looks',]").unwrap(), ["users", "looks"]);
        assert_eq!(parse_list("('users',)").unwrap(), ["users"]);
        assert_eq!(parse_list("[]").unwrap(), Vec::<String>::new());
        assert_eq!(parse_list("users, looks").unwrap(), ["users", " looks"]);
        assert_eq!(parse_list(r#"["a\"b", "c\u0041"]"#).unwrap(), ["a\"b", "cA"]);
        assert!(parse_list("[users]").is_err());
        assert!(parse_list("['users'").is_err());
        assert!(parse_list("['users'] x").is_err());
        assert!(parse_list("['users' 'looks']").is_err());
    }

    #[test]
    fn url_passwords_are_masked() {
        assert_eq!(
            redact_url("postgresql://u:p@ss@h:5/db?x=1"),
            "postgresql://u:***@h:5/db?x=1"
        );
        assert_eq!(redact_url("postgresql://u@h/db"), "postgresql://u@h/db");
        assert_eq!(redact_url("file.duckdb"), "file.duckdb");
        assert_eq!(redact_url("x://a:b@"), "x://a:***@");
        assert_eq!(redact_url("pg://u:p/w@h/db"), "pg://u:***@h/db");
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("p%40ss%3Aw%C3%B6rd").unwrap(), "p@ss:wörd");
        assert_eq!(percent_decode("plain").unwrap(), "plain");
        assert!(percent_decode("bad%zz").is_none());
        assert!(percent_decode("cut%4").is_none());
        assert!(percent_decode("%ff").is_none());
    }
}
