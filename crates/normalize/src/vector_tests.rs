//! Checks against answers recorded from dlt 1.31.0 (`fixtures/normalize/gen_vectors.py` →
//! `fixtures/normalize/vectors.json`).

use serde_json::Value;

use crate::naming::SnakeCase;
use crate::{datetime, ids, naming, pyconv};

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/normalize/vectors.json"
    );
    let text = std::fs::read_to_string(path).expect("fixtures/normalize/vectors.json");
    serde_json::from_str(&text).expect("vectors.json is JSON")
}

fn max_length(v: &Value) -> Option<usize> {
    v["max_length"].as_u64().map(|n| n as usize)
}

#[test]
fn naming_matches_dlt() {
    let vectors = vectors();
    let mut checked = 0;
    for case in vectors["naming"].as_array().unwrap() {
        let n = SnakeCase::new(max_length(case));
        let ident = case["identifier"].as_str().unwrap();
        let expected_ident = case["normalize_identifier"].as_str();
        assert_eq!(
            n.normalize_identifier(ident).as_deref(),
            expected_ident,
            "normalize_identifier({ident:?}) {case}"
        );
        assert_eq!(
            n.normalize_path(ident),
            case["normalize_path"].as_str().unwrap(),
            "normalize_path({ident:?}) {case}"
        );
        assert_eq!(
            n.normalize_tables_path(ident),
            case["normalize_tables_path"].as_str().unwrap(),
            "{case}"
        );
        checked += 1;
    }
    for case in vectors["fragments"].as_array().unwrap() {
        let n = SnakeCase::new(max_length(case));
        let fragments: Vec<&str> = case["fragments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        assert_eq!(
            n.shorten_fragments(fragments.iter().copied()),
            case["shortened"].as_str().unwrap(),
            "{case}"
        );
        checked += 1;
    }
    assert!(checked > 300);
}

#[test]
fn unicode_digits_match_python() {
    let vectors = vectors();
    let zeros: Vec<u32> = vectors["unicode_nd_zeros"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect();
    let mut count = 0;
    for cp in 0..0x110000u32 {
        if char::from_u32(cp).is_some_and(naming::is_nd_digit) {
            count += 1;
        }
    }
    assert_eq!(count, vectors["unicode_nd_count"].as_u64().unwrap());
    for z in zeros {
        assert_eq!(naming::nd_digit_value(char::from_u32(z).unwrap()), Some(0));
    }
}

#[test]
fn digest128_matches_dlt() {
    for case in vectors()["digest128"].as_array().unwrap() {
        let input = case["input"].as_str().unwrap();
        assert_eq!(
            ids::digest128(input, 10),
            case["digest"].as_str().unwrap(),
            "{input:?}"
        );
    }
}

fn ok_or_none<T>(v: &Value, f: impl Fn(&Value) -> T) -> Option<T> {
    if v.is_object() { None } else { Some(f(v)) }
}

#[test]
fn text_coercions_match_dlt() {
    for case in vectors()["text"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let ts = ok_or_none(&case["timestamp"], |v| v.as_i64().unwrap());
        // detection: dlt's `is_iso_timestamp`, except where dlt's own conversion of the value fails
        // (documented: such values are not timestamps here)
        let detected = case["detect"].as_str() == Some("timestamp") && ts.is_some();
        assert_eq!(
            datetime::detect_timestamp(text).is_some(),
            detected,
            "detect {text:?}"
        );
        assert_eq!(datetime::text_to_timestamp(text), ts, "timestamp {text:?}");
        if detected {
            assert_eq!(datetime::detect_timestamp(text), ts, "detected value {text:?}");
        }
        let bigint = ok_or_none(&case["bigint"], |v| v.as_i64().unwrap());
        assert_eq!(pyconv::text_to_bigint(text), bigint, "bigint {text:?}");
        let double = ok_or_none(&case["double"], |v| v.as_str().unwrap().to_owned());
        assert_eq!(
            pyconv::text_to_double(text).map(pyconv::py_float_repr),
            double,
            "double {text:?}"
        );
        let boolean = ok_or_none(&case["bool"], |v| v.as_bool().unwrap());
        assert_eq!(pyconv::text_to_bool(text), boolean, "bool {text:?}");
    }
}

#[test]
fn number_coercions_match_dlt() {
    for case in vectors()["numbers"].as_array().unwrap() {
        let repr = case["repr"].as_str().unwrap();
        let ts = ok_or_none(&case["timestamp"], |v| v.as_i64().unwrap());
        let text = case["text"].as_str().unwrap();
        let bigint = ok_or_none(&case["bigint"], |v| v.as_i64().unwrap());
        let boolean = case["bool"].as_bool().unwrap();
        if case["type"] == "bigint" {
            let i = case["value"].as_i64().unwrap();
            assert_eq!(datetime::int_to_timestamp(i), ts, "timestamp of {i}");
            assert_eq!(i.to_string(), text);
            assert_eq!(Some(i), bigint);
            assert_eq!(i != 0, boolean);
        } else {
            let f: f64 = repr.parse().unwrap();
            assert_eq!(datetime::float_to_timestamp(f), ts, "timestamp of {repr}");
            assert_eq!(pyconv::py_float_repr(f), text, "str of {repr}");
            assert_eq!(pyconv::double_to_bigint(f), bigint, "bigint of {repr}");
            assert_eq!(f != 0.0, boolean);
        }
    }
}
