//! The quirks switch: what real instances send beyond the spec's happy path (API.md §7 item 13).

mod common;

use std::collections::BTreeSet;

use common::{Api, client};
use looker_mock::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Dataset, MockConfig, MockServer};
use reqwest::StatusCode;
use serde_json::Value;

fn config(revision: u64) -> MockConfig {
    MockConfig {
        quirks: true,
        revision,
        ..MockConfig::with_size(120, 30, 12)
    }
}

fn all(d: &Dataset, resource: &str) -> Vec<Value> {
    (0..d.count(resource))
        .map(|i| d.item(resource, i).expect("item in range"))
        .collect()
}

/// Every string value at `path` (keys of nested objects joined by `.`) of the items.
fn strings<'a>(items: &'a [Value], path: &[&str]) -> Vec<&'a str> {
    items
        .iter()
        .filter_map(|item| {
            let mut v = item;
            for key in path {
                v = v.get(*key)?;
            }
            v.as_str()
        })
        .collect()
}

#[test]
fn without_quirks_nothing_changes() {
    let plain = Dataset::new(&MockConfig::with_size(120, 30, 12));
    let explicit = Dataset::new(&MockConfig {
        quirks: false,
        ..MockConfig::with_size(120, 30, 12)
    });
    for resource in ["users", "looks", "dashboards", "folders", "queries", "projects"] {
        assert_eq!(all(&plain, resource), all(&explicit, resource), "{resource}");
    }
    assert!(plain.hidden_query_ids().is_empty());
    let folders = all(&plain, "folders");
    assert!(folders.iter().all(|f| f["id"] != "lookml"));
}

#[test]
fn quirks_are_deterministic_by_seed() {
    let a = Dataset::new(&config(1));
    let b = Dataset::new(&config(1));
    let other = Dataset::new(&MockConfig { seed: 7, ..config(1) });
    for resource in ["users", "looks", "queries", "folders"] {
        assert_eq!(all(&a, resource), all(&b, resource), "{resource}");
    }
    assert_eq!(a.hidden_query_ids(), b.hidden_query_ids());
    assert_ne!(all(&a, "users"), all(&other, "users"));
}

#[test]
fn timestamps_come_in_every_rendering_and_item_1_keeps_lookers() {
    let d = Dataset::new(&config(0));
    let users = all(&d, "users");
    let created = strings(&users, &["credentials_email", "created_at"]);
    assert!(created[0].ends_with(".000+00:00"), "{}", created[0]);
    let is_offset = |s: &&str| s.ends_with("-07:00") && !s.contains(".000-");
    let no_fraction = |s: &&str| s.len() == 25 && s.ends_with("+00:00") && !s.contains('.');
    let epoch = |s: &&str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    assert!(created.iter().any(is_offset), "{created:?}");
    assert!(created.iter().any(no_fraction), "{created:?}");
    assert!(created.iter().any(epoch), "{created:?}");
    // `""` for "never" next to ISO values; no epoch digits where the first value may be any row's.
    let logged_in = strings(&users, &["credentials_email", "logged_in_at"]);
    assert!(!logged_in[0].is_empty());
    assert!(logged_in.contains(&""));
    assert!(logged_in.iter().any(is_offset));
    assert!(!logged_in.iter().any(epoch));
    // An offset timestamp is the same instant as Looker's rendering of it.
    let plain = all(&Dataset::new(&MockConfig::with_size(120, 30, 12)), "users");
    let plain_created = strings(&plain, &["credentials_email", "created_at"]);
    let i = created.iter().position(is_offset).expect("an offset timestamp");
    let local_hour: i64 = created[i][11..13].parse().unwrap();
    let utc_hour: i64 = plain_created[i][11..13].parse().unwrap();
    assert_eq!(
        (local_hour + 7) % 24,
        utc_hour,
        "{} vs {}",
        created[i],
        plain_created[i]
    );
    assert_eq!(created[i][14..19], plain_created[i][14..19]);
}

#[test]
fn users_miss_keys_and_carry_empty_strings_and_nulls() {
    let d = Dataset::new(&config(0));
    let users = all(&d, "users");
    let missing = users.iter().filter(|u| u.get("is_iam_admin").is_none()).count();
    assert!(missing > 0 && missing < users.len(), "{missing}");
    for u in &users {
        let has = |k: &str| u.get(k).is_some();
        assert_eq!(has("is_iam_admin"), has("is_service_account"), "{}", u["id"]);
        assert_eq!(has("is_iam_admin"), has("can_manage_api3_creds"), "{}", u["id"]);
    }
    assert!(users[0].get("is_iam_admin").is_some());
    assert!(users.iter().any(|u| u["display_name"] == ""));
    assert!(
        users
            .iter()
            .any(|u| u["email"] == "" && u["credentials_email"].is_object())
    );
    assert!(users.iter().any(|u| u["locale"].is_null()));
    assert!(users.iter().any(|u| u["home_folder_id"].is_null()));
    let projects = all(&d, "projects");
    assert!(projects.iter().any(|p| p["git_username"] == ""));
}

#[test]
fn the_lookml_folder_follows_the_numbered_ones() {
    let plain = Dataset::new(&MockConfig::with_size(120, 30, 12));
    let d = Dataset::new(&config(0));
    assert_eq!(d.count("folders"), plain.count("folders") + 1);
    let folders = all(&d, "folders");
    let lookml = folders.last().expect("folders");
    assert_eq!(lookml["id"], "lookml");
    for key in ["created_at", "creator_id", "content_metadata_id", "parent_id"] {
        assert!(lookml[key].is_null(), "{key}: {lookml}");
    }
    assert_eq!(lookml["looks"], Value::Array(Vec::new()));
}

#[test]
fn filter_maps_gain_new_field_names_in_each_revision() {
    let field_names = |revision: u64| -> BTreeSet<String> {
        let d = Dataset::new(&config(revision));
        let mut names = BTreeSet::new();
        for q in all(&d, "queries") {
            let filters = q["filters"].as_object().expect("filters");
            let config = q["filter_config"].as_object().expect("filter_config");
            let keys: BTreeSet<&String> = filters.keys().collect();
            assert_eq!(keys, config.keys().collect(), "query {}", q["id"]);
            for conditions in config.values() {
                let c = &conditions[0];
                assert!(c["type"].is_string() && c["id"].is_i64(), "{c}");
                assert!(c["values"][0]["constant"].is_string() && c["values"][0]["unit"].is_string());
            }
            names.extend(filters.keys().cloned());
        }
        names
    };
    let r0 = field_names(0);
    let r1 = field_names(1);
    let r2 = field_names(2);
    let new_in_1: Vec<_> = r1.difference(&r0).collect();
    let new_in_2: Vec<_> = r2.difference(&r1).collect();
    assert_eq!(new_in_1.len() as u64, Dataset::REVISION_FIELDS, "{new_in_1:?}");
    assert_eq!(new_in_2.len() as u64, Dataset::REVISION_FIELDS, "{new_in_2:?}");
    assert!(new_in_2.iter().all(|f| f.starts_with("custom_r2.")));
    // Dashboard elements' queries carry the same maps.
    let d = Dataset::new(&config(2));
    let dash = d.item("dashboards", 0).expect("dashboard");
    let element = dash["dashboard_elements"]
        .as_array()
        .expect("elements")
        .iter()
        .find(|e| e["query"].is_object())
        .expect("a query tile");
    let filters = element["query"]["filters"].as_object().expect("filters");
    assert!(filters.keys().any(|k| k.starts_with("custom_r2.")), "{filters:?}");
}

#[test]
fn queries_carry_empty_strings() {
    let d = Dataset::new(&config(0));
    let queries = all(&d, "queries");
    for key in ["filter_expression", "row_total", "dynamic_fields", "limit"] {
        assert!(queries.iter().any(|q| q[key] == ""), "{key}");
    }
}

#[tokio::test]
async fn hidden_queries_answer_404_html_pages() {
    let api = Api::start(config(0)).await;
    let d = api.server.dataset();
    let hidden = d.hidden_query_ids();
    assert!(!hidden.is_empty());
    assert!(hidden.len() < d.referenced_query_ids().len());
    for id in &hidden {
        assert!(d.referenced_query_ids().contains(id));
        assert!(d.query(id).is_none());
        // Twice: one request per endpoint may be a 429 instead.
        let mut r = api.get(&format!("/queries/{id}")).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            r = api.get(&format!("/queries/{id}")).await;
        }
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(
            r.headers["content-type"].to_str().unwrap(),
            "text/html; charset=utf-8"
        );
        let body = String::from_utf8_lossy(&r.body);
        assert!(body.starts_with("<!DOCTYPE html>"), "{body}");
        assert!(body.contains(&format!("/queries/{id}")), "{body}");
    }
    // Unknown paths answer HTML too.
    let mut r = api.get("/no/such/thing").await;
    if r.status == StatusCode::TOO_MANY_REQUESTS {
        r = api.get("/no/such/thing").await;
    }
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(String::from_utf8_lossy(&r.body).contains("<title>Looker Not Found (404)</title>"));
}

#[tokio::test]
async fn one_429_without_retry_after_per_endpoint() {
    let api = Api::start(config(0)).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = api.get("/roles").await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.headers.get("retry-after").is_none());
            assert!(r.json()["message"].is_string());
        }
        statuses.push(r.status.as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 1, "{statuses:?}");
    assert!(statuses[3..].iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(api.server.stats().quirk_throttled, 1);
}

#[tokio::test]
async fn login_announces_3599_seconds_and_a_null_refresh_token() {
    let server = MockServer::start(config(0)).await.unwrap();
    let client = client();
    let resp = client
        .post(format!("{}/api/4.0/login", server.base_url()))
        .form(&[
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(v["expires_in"], 3599);
    assert!(v.as_object().unwrap().contains_key("refresh_token"));
    assert!(v["refresh_token"].is_null());
}
