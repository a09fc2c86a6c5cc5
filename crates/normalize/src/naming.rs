//! dlt's `snake_case` naming convention (`dlt/common/normalizers/naming/snake_case.py` and `naming.py`),
//! character for character, including the shortening of long identifiers with a hash tag.
//!
//! Python's `\d` matches every Unicode decimal digit (category Nd), and `str.strip()` strips every
//! character for which `str.isspace()` holds; both are reproduced here, so identifiers in any script
//! normalize exactly as dlt normalizes them.

use base64::Engine as _;
use sha3::Shake128;
use sha3::digest::{ExtendableOutput, Update, XofReader};

/// dlt's separator of path fragments in table and column names (`PATH_SEPARATOR`).
pub const PATH_SEPARATOR: &str = "__";

/// The name dlt gives to an empty key (`EMPTY_KEY_IDENTIFIER`).
pub const EMPTY_KEY: &str = "_empty";

/// Bytes of shake_128 in a shortening tag: dlt's `_compute_tag` with collision probability 0.001,
/// `int((3 * log2(1000)) // 8 + 1)` = 4 bytes, i.e. 6 base64 characters.
const TAG_BYTES: usize = 4;

/// dlt's `snake_case` naming convention with an optional maximum identifier length (the destination's
/// `max_identifier_length`; `None` never shortens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnakeCase {
    max_length: Option<usize>,
}

impl SnakeCase {
    /// The convention shortening identifiers longer than `max_length` characters (`None` or 0: never).
    pub fn new(max_length: Option<usize>) -> SnakeCase {
        SnakeCase {
            max_length: max_length.filter(|&n| n > 0),
        }
    }

    /// The maximum identifier length, if any.
    pub fn max_length(&self) -> Option<usize> {
        self.max_length
    }

    /// dlt's `normalize_identifier`: strip, reduce the alphabet, snake case, shorten. `None` when the
    /// identifier is empty or only whitespace (dlt raises `ValueError`).
    pub fn normalize_identifier(&self, identifier: &str) -> Option<String> {
        let stripped = py_strip(identifier);
        if stripped.is_empty() {
            return None;
        }
        let snake = to_snake_case(stripped);
        Some(shorten_identifier(&snake, stripped, self.max_length))
    }

    /// dlt's `normalize_path`: breaks `path` at `__`, normalizes each fragment, joins them with `__`
    /// and shortens the whole with a tag computed from `path`. Keys of source objects go through this,
    /// so a key containing `__` names a nested path. The result is empty when `path` has no fragment
    /// (e.g. `"__"`).
    pub fn normalize_path(&self, path: &str) -> String {
        let fragments: Vec<String> = break_path(path)
            .into_iter()
            .filter_map(|f| self.normalize_identifier(f))
            .collect();
        let joined = make_path(fragments.iter().map(String::as_str));
        shorten_identifier(&joined, path, self.max_length)
    }

    /// dlt's `normalize_tables_path` (the same as [`SnakeCase::normalize_path`] in `snake_case`).
    pub fn normalize_tables_path(&self, path: &str) -> String {
        self.normalize_path(path)
    }

    /// dlt's `shorten_fragments`: joins already normalized fragments with `__` (skipping blank ones) and
    /// shortens the result with a tag computed from the joined path itself.
    pub fn shorten_fragments<'a>(&self, fragments: impl IntoIterator<Item = &'a str>) -> String {
        let joined = make_path(fragments);
        shorten_identifier(&joined, &joined, self.max_length)
    }

    /// dlt's `shorten_identifier` with this convention's maximum length.
    pub fn shorten(&self, normalized: &str, original: &str) -> String {
        shorten_identifier(normalized, original, self.max_length)
    }
}

/// dlt's `break_path`: the fragments of `path` split at `__`, blank fragments dropped.
pub fn break_path(path: &str) -> Vec<&str> {
    path.split(PATH_SEPARATOR)
        .filter(|f| !py_strip(f).is_empty())
        .collect()
}

/// dlt's `make_path`: non-blank fragments joined with `__` (not normalized, not shortened).
pub fn make_path<'a>(fragments: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for fragment in fragments {
        if py_strip(fragment).is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push_str(PATH_SEPARATOR);
        }
        out.push_str(fragment);
    }
    out
}

/// dlt's `shorten_identifier`: when `normalized` has more than `max_length` characters, keeps its head
/// and tail and puts a 6-character tag computed from `original` in the middle.
pub fn shorten_identifier(normalized: &str, original: &str, max_length: Option<usize>) -> String {
    let Some(max_length) = max_length.filter(|&n| n > 0) else {
        return normalized.to_owned();
    };
    let length = normalized.chars().count();
    if length <= max_length {
        return normalized.to_owned();
    }
    let tag = compute_tag(original);
    let tag_length = tag.chars().count();
    if tag_length > max_length {
        // dlt asserts here; a length this small is not a real destination's
        return tag.chars().take(max_length).collect();
    }
    let remaining = max_length - tag_length;
    let head = remaining / 2 + remaining % 2;
    let tail = remaining / 2;
    let mut out: String = normalized.chars().take(head).collect();
    out.push_str(&tag);
    out.extend(normalized.chars().skip(length - tail));
    out
}

/// dlt's `_compute_tag`: base64 of 4 bytes of shake_128 of `identifier`, without padding, lowercased,
/// with `/` and `+` turned into `a` and `b`.
pub fn compute_tag(identifier: &str) -> String {
    let mut bytes = [0u8; TAG_BYTES];
    let mut hasher = Shake128::default();
    hasher.update(identifier.as_bytes());
    hasher.finalize_xof().read(&mut bytes);
    let encoded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes);
    encoded
        .chars()
        .map(|c| match c {
            '/' => 'a',
            '+' => 'b',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// The snake_case transformation of dlt's `_normalize_identifier` without the shortening, applied to an
/// already stripped, non-empty identifier.
fn to_snake_case(identifier: &str) -> String {
    // reduce the alphabet: + - * @ | become x _ x a l
    // then every run of characters outside [a-zA-Z\d_] becomes one `_`
    let mut reduced: Vec<char> = Vec::with_capacity(identifier.len());
    let mut in_run = false;
    for c in identifier.chars() {
        let c = match c {
            '+' | '*' => 'x',
            '-' => '_',
            '@' => 'a',
            '|' => 'l',
            c => c,
        };
        if c.is_ascii_alphabetic() || c == '_' || is_nd_digit(c) {
            reduced.push(c);
            in_run = false;
        } else if !in_run {
            reduced.push('_');
            in_run = true;
        }
    }
    // `([^_])([A-Z][a-z]+)` -> `\1_\2`, leftmost and non-overlapping like `re.sub`
    let mut broken1: Vec<char> = Vec::with_capacity(reduced.len() + 8);
    let mut i = 0;
    while i < reduced.len() {
        let c = reduced[i];
        if c != '_'
            && i + 2 < reduced.len()
            && reduced[i + 1].is_ascii_uppercase()
            && reduced[i + 2].is_ascii_lowercase()
        {
            let mut end = i + 3;
            while end < reduced.len() && reduced[end].is_ascii_lowercase() {
                end += 1;
            }
            broken1.push(c);
            broken1.push('_');
            broken1.extend_from_slice(&reduced[i + 1..end]);
            i = end;
        } else {
            broken1.push(c);
            i += 1;
        }
    }
    // `([a-z0-9])([A-Z])` -> `\1_\2`, then lowercase
    let mut broken2: Vec<char> = Vec::with_capacity(broken1.len() + 8);
    let mut i = 0;
    while i < broken1.len() {
        let c = broken1[i];
        if (c.is_ascii_lowercase() || c.is_ascii_digit())
            && i + 1 < broken1.len()
            && broken1[i + 1].is_ascii_uppercase()
        {
            broken2.push(c);
            broken2.push('_');
            broken2.push(broken1[i + 1]);
            i += 2;
        } else {
            broken2.push(c);
            i += 1;
        }
    }
    let mut s: String = broken2.into_iter().map(|c| c.to_ascii_lowercase()).collect();
    // a leading digit gets a `_` prefix
    if s.chars().next().is_some_and(is_nd_digit) {
        s.insert(0, '_');
    }
    // every trailing `_` becomes `x`
    let stripped_len = s.trim_end_matches('_').len();
    let trailing = s.len() - stripped_len;
    s.truncate(stripped_len);
    s.extend(std::iter::repeat_n('x', trailing));
    // `__+` -> `_`
    let mut out = String::with_capacity(s.len());
    let mut previous_underscore = false;
    for c in s.chars() {
        if c == '_' {
            if !previous_underscore {
                out.push(c);
            }
            previous_underscore = true;
        } else {
            out.push(c);
            previous_underscore = false;
        }
    }
    out
}

/// Python's `str.isspace()` for one character: Unicode White_Space plus the separators U+001C..U+001F.
pub fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()` without arguments.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(py_isspace)
}

/// The first code point (digit zero) of every block of Unicode decimal digits (category Nd, Unicode 14
/// as in Python 3.11). Each block holds the ten digits 0..9 in order.
const ND_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xde6, 0xe50,
    0xed0, 0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, 0x1bb0, 0x1c40,
    0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10, 0x104a0, 0x10d30, 0x11066,
    0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950,
    0x11c50, 0x11d50, 0x11da0, 0x16a60, 0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6,
    0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
];

/// The value of `c` as a Unicode decimal digit (Python's `\d` / `int()` digits), if it is one.
pub fn nd_digit_value(c: char) -> Option<u32> {
    let cp = c as u32;
    if c.is_ascii() {
        return c.to_digit(10);
    }
    // blocks are sorted: find the last zero at or below `cp`
    let idx = ND_ZEROS.partition_point(|&z| z <= cp);
    let zero = ND_ZEROS[idx.checked_sub(1)?];
    (cp - zero < 10).then_some(cp - zero)
}

/// Whether `c` is a Unicode decimal digit (Python's `\d`).
pub fn is_nd_digit(c: char) -> bool {
    nd_digit_value(c).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dlt_examples() {
        let n = SnakeCase::new(None);
        for (raw, expected) in [
            ("firstName", "first_name"),
            ("HTTPResponseCode", "http_response_code"),
            ("1st place", "_1st_place"),
            ("Weird Name!!", "weird_namex"),
            ("email@domain", "emailadomain"),
            ("ÄÖÜ umlaut", "_umlaut"),
            ("trailing_", "trailingx"),
        ] {
            assert_eq!(n.normalize_identifier(raw).as_deref(), Some(expected), "{raw}");
        }
        assert_eq!(n.normalize_identifier("   "), None);
    }

    #[test]
    fn shortening_uses_the_tag() {
        // BEHAVIOUR.md §1: a 63-character limit on a nested long name
        let n = SnakeCase::new(Some(63));
        let name = n.shorten_fragments([
            "credentials_looker_openid",
            "very_long_nested_field_name_with_many_words_in_it_x",
        ]);
        assert_eq!(name.chars().count(), 63);
        assert!(name.starts_with("credentials_looker_openid__"));
    }

    #[test]
    fn nd_digits() {
        assert_eq!(nd_digit_value('7'), Some(7));
        assert_eq!(nd_digit_value('٣'), Some(3));
        assert_eq!(nd_digit_value('５'), Some(5));
        assert_eq!(nd_digit_value('²'), None);
        assert_eq!(nd_digit_value('a'), None);
        assert_eq!(nd_digit_value('\u{1fbf9}'), Some(9));
    }
}
