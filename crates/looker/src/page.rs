//! Reading pages: validation, item counts, the key that detects repeated pages, and the query
//! references carried by looks, dashboards and scheduled plans.

use std::collections::HashSet;
use std::fmt;

use bytes::Bytes;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_json::value::RawValue;

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

/// Parses a page body as a JSON array of items; `collect_refs` also gathers query references.
/// The error is a human-readable description of what is wrong.
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
        return Err(match serde_json::from_slice::<&RawValue>(&body) {
            Err(e) => format!("invalid JSON: {e}"),
            Ok(_) => format!("expected a JSON array of items, got {what}"),
        });
    }
    if collect_refs {
        let items: Vec<ItemRefs<'_>> =
            serde_json::from_slice(&body).map_err(|e| format!("invalid JSON: {e}"))?;
        let first_key = items
            .first()
            .and_then(|i| i.id)
            .map(|id| id.get().as_bytes().to_vec());
        let refs = collect(&items);
        let count = items.len();
        drop(items);
        Ok(ParsedPage {
            body,
            items: count,
            first_key,
            refs: Some(refs),
        })
    } else {
        let items: Vec<&RawValue> =
            serde_json::from_slice(&body).map_err(|e| format!("invalid JSON: {e}"))?;
        let first_key = items.first().map(|i| i.get().as_bytes().to_vec());
        let count = items.len();
        drop(items);
        Ok(ParsedPage {
            body,
            items: count,
            first_key,
            refs: None,
        })
    }
}

/// Validates the body of `GET /queries/{id}` (one JSON value) and returns its text.
pub(crate) fn parse_item(body: &[u8]) -> Result<&str, String> {
    let raw: &RawValue = serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    if raw.get().starts_with('{') {
        Ok(raw.get())
    } else {
        Err("expected a JSON object".to_owned())
    }
}

/// A Looker id: a string in API 4.0, a number on older instances.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Id(String);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id (string or integer)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                Ok(Id(v.to_owned()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
        }
        d.deserialize_any(IdVisitor)
    }
}

/// The parts of a look, dashboard or scheduled plan that reference queries.
#[derive(Deserialize)]
struct ItemRefs<'a> {
    #[serde(default, borrow)]
    id: Option<&'a RawValue>,
    #[serde(default)]
    query_id: Option<Id>,
    #[serde(default, borrow)]
    query: Option<&'a RawValue>,
    #[serde(default, borrow)]
    dashboard_elements: Option<Vec<ElementRefs<'a>>>,
}

#[derive(Deserialize)]
struct ElementRefs<'a> {
    #[serde(default)]
    query_id: Option<Id>,
    #[serde(default, borrow)]
    query: Option<&'a RawValue>,
    #[serde(default, borrow)]
    result_maker: Option<HolderRefs<'a>>,
    #[serde(default, borrow)]
    look: Option<HolderRefs<'a>>,
}

/// A `result_maker` or an element's `look`: both carry `query_id` and `query`.
#[derive(Deserialize)]
struct HolderRefs<'a> {
    #[serde(default)]
    query_id: Option<Id>,
    #[serde(default, borrow)]
    query: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct QueryHead {
    #[serde(default)]
    id: Option<Id>,
}

#[derive(Default)]
struct Collector {
    seen_embedded: HashSet<String>,
    seen_referenced: HashSet<String>,
    out: QueryRefs,
}

impl Collector {
    fn id(&mut self, id: Option<&Id>) {
        if let Some(Id(id)) = id
            && !id.is_empty()
            && !self.seen_referenced.contains(id.as_str())
        {
            self.seen_referenced.insert(id.clone());
            self.out.referenced.push(id.clone());
        }
    }

    fn query(&mut self, query: Option<&RawValue>) {
        let Some(raw) = query else { return };
        let Ok(QueryHead { id: Some(Id(id)) }) = serde_json::from_str::<QueryHead>(raw.get()) else {
            return;
        };
        if id.is_empty() || self.seen_embedded.contains(id.as_str()) {
            return;
        }
        self.seen_embedded.insert(id.clone());
        self.out.embedded.push((id, raw.get().as_bytes().to_vec()));
    }
}

fn collect(items: &[ItemRefs<'_>]) -> QueryRefs {
    let mut c = Collector::default();
    for item in items {
        c.id(item.query_id.as_ref());
        c.query(item.query);
        for el in item.dashboard_elements.iter().flatten() {
            c.id(el.query_id.as_ref());
            c.query(el.query);
            for holder in [&el.result_maker, &el.look].into_iter().flatten() {
                c.id(holder.query_id.as_ref());
                c.query(holder.query);
            }
        }
    }
    c.out
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
}
