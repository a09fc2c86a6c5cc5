//! The generated data: shapes against item_shapes.json, determinism, query references, plans.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Api, ids};
use looker_mock::{Dataset, MockConfig};
use serde_json::Value;

/// The list endpoint whose items `Dataset::item` describes, per resource.
const ENDPOINTS: &[(&str, &str)] = &[
    ("users", "/users"),
    ("looks", "/looks/search"),
    ("dashboards", "/dashboards/search"),
    ("projects", "/projects"),
    ("folders", "/folders/search"),
    ("groups", "/groups"),
    ("roles", "/roles"),
    ("lookml_models", "/lookml_models"),
    ("scheduled_plans", "/scheduled_plans?all_users=true"),
    ("connections", "/connections"),
    ("user_attributes", "/user_attributes"),
];

/// Maps whose keys are data, not schema.
const DYNAMIC: &[&str] = &["can", "filters", "vis_config", "filter_config", "ui_state"];

fn shapes() -> serde_json::Map<String, Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/item_shapes.json");
    let text = std::fs::read_to_string(path).unwrap();
    match serde_json::from_str(&text).unwrap() {
        Value::Object(m) => m,
        _ => panic!("item_shapes.json is not an object"),
    }
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// Key sets of every non-dynamic object below `v`, by path (`a.b[].c`).
fn object_paths(v: &Value, path: &str, out: &mut BTreeMap<String, Vec<BTreeSet<String>>>) {
    match v {
        Value::Object(m) => {
            out.entry(path.to_owned())
                .or_default()
                .push(m.keys().cloned().collect());
            for (k, x) in m {
                if !DYNAMIC.contains(&k.as_str()) {
                    object_paths(x, &format!("{path}.{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            for x in items {
                object_paths(x, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

async fn served(api: &Api) -> BTreeMap<&'static str, Vec<Value>> {
    let mut all = BTreeMap::new();
    for &(resource, endpoint) in ENDPOINTS {
        all.insert(resource, api.list(endpoint).await);
    }
    let mut queries = Vec::new();
    for id in api.server.dataset().referenced_query_ids() {
        queries.push(api.json(&format!("/queries/{id}")).await);
    }
    all.insert("queries", queries);
    all
}

#[tokio::test]
async fn top_level_key_sets_equal_item_shapes_for_every_resource() {
    let shapes = shapes();
    let api = Api::start(MockConfig::default()).await;
    let served = served(&api).await;
    assert_eq!(served.len(), shapes.len());
    for (resource, shape) in &shapes {
        let items = &served[resource.as_str()];
        assert!(!items.is_empty(), "{resource}: nothing served");
        for item in items {
            assert_eq!(keys(item), keys(shape), "{resource} item {}", item["id"]);
        }
    }
}

#[tokio::test]
async fn nested_key_sets_equal_item_shapes() {
    let shapes = shapes();
    let api = Api::start(MockConfig::with_size(120, 40, 30)).await;
    let served = served(&api).await;
    for (resource, shape) in &shapes {
        let mut want = BTreeMap::new();
        object_paths(shape, resource, &mut want);
        let mut got = BTreeMap::new();
        for item in &served[resource.as_str()] {
            object_paths(item, resource, &mut got);
        }
        for (path, want_sets) in &want {
            let want_keys = &want_sets[0];
            let got_sets = got
                .get(path)
                .unwrap_or_else(|| panic!("{path}: never served as an object"));
            for set in got_sets {
                assert_eq!(set, want_keys, "{path}");
            }
        }
    }
    // Objects that are null in the examples but present in served data have their schema's keys.
    let look_keys = keys(&shapes["looks"]);
    let mut with_query = look_keys.clone();
    with_query.extend(["query".to_owned(), "url".to_owned()]);
    let mut with_dashboards = look_keys.clone();
    with_dashboards.insert("dashboards".to_owned());
    let cert = keys(&shapes["dashboards"]["certification_metadata"]);
    let mut seen_look_tiles = 0;
    for d in &served["dashboards"] {
        for el in d["dashboard_elements"].as_array().unwrap() {
            if el["look"].is_object() {
                seen_look_tiles += 1;
                assert_eq!(keys(&el["look"]), with_query);
                assert_eq!(keys(&el["look"]["query"]), keys(&shapes["queries"]));
                assert_eq!(el["look"]["query_id"], el["query_id"]);
                assert_eq!(el["look"]["id"], el["look_id"]);
            }
        }
    }
    assert!(seen_look_tiles > 0);
    let mut folder_looks = 0;
    for f in &served["folders"] {
        for l in f["looks"].as_array().unwrap() {
            folder_looks += 1;
            assert_eq!(keys(l), with_dashboards);
        }
    }
    assert_eq!(folder_looks, 40, "every look sits in exactly one folder");
    let mut certified = 0;
    for l in &served["looks"] {
        if l["certification_metadata"].is_object() {
            certified += 1;
            assert_eq!(keys(&l["certification_metadata"]), cert);
        }
    }
    assert!(certified > 0);
    let look1 = api.json("/looks/1").await;
    assert_eq!(keys(&look1), with_query);
}

#[tokio::test]
async fn dataset_item_is_exactly_what_is_served() {
    let api = Api::start(MockConfig::default()).await;
    let d = api.server.dataset();
    for &(resource, endpoint) in ENDPOINTS {
        let items = api.list(endpoint).await;
        assert_eq!(items.len(), d.count(resource), "{resource}");
        for (i, item) in items.iter().enumerate() {
            assert_eq!(Some(item), d.item(resource, i).as_ref(), "{resource} {i}");
        }
        assert_eq!(d.item(resource, items.len()), None);
    }
    let ids = d.referenced_query_ids();
    for (i, id) in ids.iter().enumerate() {
        let q = api.json(&format!("/queries/{id}")).await;
        assert_eq!(Some(&q), d.query(id).as_ref());
        assert_eq!(Some(q), d.item("queries", i));
    }
    assert_eq!(d.count("nope"), 0);
    assert_eq!(d.item("nope", 0), None);
}

#[tokio::test]
async fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = Api::start(MockConfig::default()).await;
    let b = Api::start(MockConfig::default()).await;
    let c = Api::start(MockConfig {
        seed: 7,
        ..MockConfig::default()
    })
    .await;
    for path in [
        "/users?limit=20&offset=5&sorts=id",
        "/looks/search?sorts=updated_at+desc,id",
        "/dashboards/search",
        "/folders/search",
        "/scheduled_plans?all_users=true",
        "/looks/3",
    ] {
        let (x, y, z) = (a.get(path).await, b.get(path).await, c.get(path).await);
        assert_eq!(x.body, y.body, "{path}");
        assert_ne!(x.body, z.body, "{path}");
    }
    let (x, z) = (
        a.server.dataset().referenced_query_ids(),
        c.server.dataset().referenced_query_ids(),
    );
    assert_eq!(x.len(), a.server.dataset().count("queries"));
    assert!(!z.is_empty());
}

#[tokio::test]
async fn items_are_pure_functions_of_their_index() {
    // Users 1..50 are the same whatever the total, so any page stands on its own.
    let small = Dataset::new(&MockConfig::with_size(50, 20, 10));
    let big = Dataset::new(&MockConfig::with_size(5000, 20, 10));
    for i in [0, 7, 49] {
        let (s, b) = (small.item("users", i).unwrap(), big.item("users", i).unwrap());
        assert_eq!(s["email"], b["email"]);
        assert_eq!(s["display_name"], b["display_name"]);
        assert_eq!(s["credentials_email"], b["credentials_email"]);
    }
}

/// Walks served looks, dashboards and plans for query ids, as an extractor must.
#[tokio::test]
async fn queries_count_equals_distinct_ids_referenced_by_served_items() {
    for (users, looks, dashboards) in [(50, 20, 10), (10, 1, 3), (10, 0, 12), (10, 30, 0), (300, 61, 47)] {
        let api = Api::start(MockConfig::with_size(users, looks, dashboards)).await;
        let d = api.server.dataset();
        let mut from_looks = BTreeSet::new();
        let mut embedded = BTreeSet::new();
        let mut from_plans = BTreeSet::new();
        for l in api.list("/looks/search").await {
            from_looks.insert(l["query_id"].as_str().unwrap().to_owned());
        }
        for dash in api.list("/dashboards/search").await {
            for el in dash["dashboard_elements"].as_array().unwrap() {
                for v in [
                    &el["query_id"],
                    &el["query"]["id"],
                    &el["result_maker"]["query_id"],
                    &el["result_maker"]["query"]["id"],
                    &el["look"]["query_id"],
                ] {
                    if let Some(id) = v.as_str() {
                        embedded.insert(id.to_owned());
                    }
                }
                // The embedded query is the one the element points to.
                if el["query"].is_object() {
                    assert_eq!(el["query"]["id"], el["query_id"]);
                    assert_eq!(el["result_maker"]["query"], el["query"]);
                    assert_eq!(
                        &el["query"],
                        &api.json(&format!("/queries/{}", el["query_id"].as_str().unwrap()))
                            .await
                    );
                } else {
                    assert!(el["query_id"].is_null() && el["result_maker"].is_null());
                }
            }
        }
        let plans = api.list("/scheduled_plans?all_users=true").await;
        for p in &plans {
            if let Some(id) = p["query_id"].as_str() {
                from_plans.insert(id.to_owned());
            }
        }
        let all: BTreeSet<String> = from_looks
            .iter()
            .chain(&embedded)
            .chain(&from_plans)
            .cloned()
            .collect();
        assert_eq!(
            d.count("queries"),
            all.len(),
            "sizes {users}/{looks}/{dashboards}"
        );
        let mut listed = d.referenced_query_ids();
        let mut sorted_numerically = listed.clone();
        sorted_numerically.sort_by_key(|s| s.parse::<u64>().unwrap());
        assert_eq!(listed, sorted_numerically);
        listed.sort();
        assert_eq!(listed, all.iter().cloned().collect::<Vec<_>>());
        for id in &all {
            assert!(d.query(id).is_some(), "{id}");
        }
        if looks >= 2 && dashboards >= 10 {
            // Some look queries are embedded nowhere, some plan queries are referenced nowhere else.
            assert!(from_looks.iter().any(|q| !embedded.contains(q)));
            assert!(
                from_plans
                    .iter()
                    .any(|q| !embedded.contains(q) && !from_looks.contains(q))
            );
        }
    }
}

#[tokio::test]
async fn scheduled_plans_without_all_users_are_the_api_users_only() {
    let api = Api::start(MockConfig::with_size(100, 60, 40)).await;
    let all = api.list("/scheduled_plans?all_users=true").await;
    assert_eq!(all.len(), api.server.dataset().count("scheduled_plans"));
    assert_eq!(all.len(), 60 / 5 + 40 / 5);
    let mine = api.list("/scheduled_plans").await;
    let also_mine = api.list("/scheduled_plans?all_users=false").await;
    assert_eq!(ids(&mine), ids(&also_mine));
    assert!(!mine.is_empty() && mine.len() < all.len());
    assert!(mine.iter().all(|p| p["user_id"] == "1" && p["user"]["id"] == "1"));
    let want: Vec<&Value> = all.iter().filter(|p| p["user_id"] == "1").collect();
    assert_eq!(mine.iter().collect::<Vec<_>>(), want);
}

#[tokio::test]
async fn derived_sizes_and_values_look_like_a_real_instance() {
    let api = Api::start(MockConfig::with_size(1000, 50, 25)).await;
    let d = api.server.dataset();
    assert_eq!(d.count("users"), 1000);
    assert_eq!(d.count("looks"), 50);
    assert_eq!(d.count("dashboards"), 25);
    assert_eq!(d.count("groups"), 1000 / 200 + 3);
    assert_eq!(d.count("folders"), 8 + 1000 / 20);
    assert_eq!(d.count("scheduled_plans"), 15);
    assert_eq!(d.count("roles"), 8);
    assert_eq!(d.count("projects"), 4);
    assert_eq!(d.count("lookml_models"), 6);
    assert_eq!(d.count("connections"), 4);
    assert_eq!(d.count("user_attributes"), 12);
    let users = api.list("/users").await;
    let text = serde_json::to_string(&users).unwrap();
    // Unicode, ISO timestamps, "" timestamps and ids as strings.
    assert!(text.chars().any(|c| c as u32 > 0x3000), "CJK");
    assert!(text.chars().any(|c| c as u32 > 0x1F000), "emoji");
    assert!(text.contains('é') || text.contains('ü') || text.contains('ø'));
    assert!(users.iter().any(|u| u["credentials_email"]["logged_in_at"] == ""));
    let ts = users[0]["credentials_email"]["created_at"].as_str().unwrap();
    assert_eq!(ts.len(), "2021-11-09T16:11:29.000+00:00".len());
    assert!(ts.ends_with(".000+00:00") && &ts[10..11] == "T");
    // Group sizes add up: everyone is in "All Users" and in exactly one other group.
    let groups = api.list("/groups").await;
    assert_eq!(groups[0]["user_count"], 1000);
    let others: u64 = groups[1..]
        .iter()
        .map(|g| g["user_count"].as_u64().unwrap())
        .sum();
    assert_eq!(others, 1000);
    for u in &users {
        let gs = u["group_ids"].as_array().unwrap();
        assert_eq!(gs[0], "1");
        let g: usize = gs[1].as_str().unwrap().parse().unwrap();
        assert!(g >= 2 && g <= groups.len());
    }
    // Every look and dashboard folder exists; dynamic map keys come from a small vocabulary.
    let folders: BTreeSet<String> = ids(&api.list("/folders").await).into_iter().collect();
    let mut filter_keys = BTreeSet::new();
    for l in api.list("/looks/search").await {
        assert!(folders.contains(l["folder_id"].as_str().unwrap()));
        let q = api
            .json(&format!("/queries/{}", l["query_id"].as_str().unwrap()))
            .await;
        assert_eq!(l["model"]["id"], q["model"]);
        filter_keys.extend(q["filters"].as_object().unwrap().keys().cloned());
    }
    for dash in api.list("/dashboards/search").await {
        assert!(folders.contains(dash["folder_id"].as_str().unwrap()));
    }
    assert!(filter_keys.len() <= 20, "{filter_keys:?}");
    assert!(filter_keys.iter().all(|k| k.contains('.')));
}
