//! Data revisions: what changes from one revision to the next, and what stays.

mod common;

use common::Api;
use looker_mock::{Dataset, MockConfig};
use serde_json::Value;

fn dataset(revision: u64) -> Dataset {
    Dataset::new(&MockConfig {
        revision,
        ..MockConfig::with_size(120, 30, 12)
    })
}

fn all(d: &Dataset, resource: &str) -> Vec<Value> {
    (0..d.count(resource))
        .map(|i| d.item(resource, i).expect("item in range"))
        .collect()
}

/// The keys whose values differ between two objects (keys present in one only included).
fn changed_keys(a: &Value, b: &Value) -> Vec<String> {
    let (a, b) = (a.as_object().expect("object"), b.as_object().expect("object"));
    let mut keys: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[test]
fn revision_0_is_the_default_data() {
    let d0 = dataset(0);
    let default = Dataset::new(&MockConfig::with_size(120, 30, 12));
    for resource in [
        "users",
        "looks",
        "dashboards",
        "folders",
        "groups",
        "scheduled_plans",
    ] {
        assert_eq!(all(&d0, resource), all(&default, resource), "{resource}");
    }
    assert!(all(&d0, "users").iter().all(|u| u.get("is_partner").is_none()));
}

#[test]
fn revision_1_renames_every_7th_user_and_adds_is_partner() {
    let (d0, d1) = (dataset(0), dataset(1));
    assert_eq!(d1.count("users"), d0.count("users"));
    let mut renamed = 0;
    for (u0, u1) in all(&d0, "users").iter().zip(all(&d1, "users").iter()) {
        assert_eq!(u0["id"], u1["id"]);
        let id: u64 = u1["id"].as_str().expect("id").parse().expect("numeric id");
        let changed = changed_keys(u0, u1);
        assert_eq!(u1["is_partner"], Value::Bool(id.is_multiple_of(4)), "user {id}");
        if id.is_multiple_of(7) {
            renamed += 1;
            assert_eq!(
                changed,
                ["display_name", "first_name", "is_partner", "looker_versions"],
                "user {id}"
            );
            let first = u1["first_name"].as_str().expect("first_name");
            let last = u1["last_name"].as_str().expect("last_name");
            assert_eq!(u1["display_name"], format!("{first} {last}"));
            // The email keeps the name the account was created with.
            assert_eq!(u0["email"], u1["email"]);
            let (v0, v1) = (u0["looker_versions"].as_array(), u1["looker_versions"].as_array());
            let (v0, v1) = (v0.expect("list"), v1.expect("list"));
            assert!(
                v1.len() == v0.len() + 1 || (v1.len() == 1 && v0.len() == 4),
                "user {id}"
            );
        } else {
            assert_eq!(changed, ["is_partner"], "user {id}");
        }
    }
    assert_eq!(renamed, 17);
}

#[test]
fn revision_1_retitles_every_5th_look_and_bumps_updated_at() {
    let (d0, d1) = (dataset(0), dataset(1));
    assert_eq!(d1.count("looks"), d0.count("looks"));
    // Looks repeat the names of their owner, certifier and personal folder, which renamed users change.
    let names = ["user_name", "certification_metadata", "folder"];
    for (l0, l1) in all(&d0, "looks").iter().zip(all(&d1, "looks").iter()) {
        let id: u64 = l1["id"].as_str().expect("id").parse().expect("numeric id");
        let changed = changed_keys(l0, l1);
        let edited: Vec<&str> = changed
            .iter()
            .map(String::as_str)
            .filter(|k| !names.contains(k))
            .collect();
        if id.is_multiple_of(5) {
            assert_eq!(edited, ["title", "updated_at"], "look {id}");
            let (t0, t1) = (
                l0["title"].as_str().expect("title"),
                l1["title"].as_str().expect("title"),
            );
            assert_eq!(t1, format!("{t0} (v2)"));
            assert!(l1["updated_at"].as_str() > l0["updated_at"].as_str(), "look {id}");
        } else {
            assert!(edited.is_empty(), "look {id}: {changed:?}");
        }
    }
}

#[test]
fn revision_1_leaves_resources_without_users_or_looks_unchanged() {
    let (d0, d1) = (dataset(0), dataset(1));
    for resource in [
        "queries",
        "projects",
        "groups",
        "roles",
        "lookml_models",
        "connections",
        "user_attributes",
    ] {
        assert_eq!(all(&d0, resource), all(&d1, resource), "{resource}");
    }
    assert_eq!(d0.referenced_query_ids(), d1.referenced_query_ids());
}

#[test]
fn each_revision_renames_differently_and_deterministically() {
    let (d1, d2, d2_again) = (dataset(1), dataset(2), dataset(2));
    assert_eq!(all(&d2, "users"), all(&d2_again, "users"));
    let u1 = all(&d1, "users");
    let u2 = all(&d2, "users");
    let differing = u1
        .iter()
        .zip(&u2)
        .filter(|(a, b)| a["first_name"] != b["first_name"])
        .count();
    assert!(differing >= 15, "{differing}");
    let looks = all(&d2, "looks");
    assert!(looks[4]["title"].as_str().expect("title").ends_with(" (v3)"));
}

#[test]
fn revision_2_appends_new_users_and_keeps_the_others() {
    let (d1, d2) = (dataset(1), dataset(2));
    assert_eq!(d2.count("users"), 123);
    assert_eq!(dataset(3).count("users"), 126);
    let u1 = all(&d1, "users");
    let u2 = all(&d2, "users");
    let ids: Vec<&str> = u2.iter().map(|u| u["id"].as_str().expect("id")).collect();
    let expected: Vec<String> = (1..=123).map(|i| i.to_string()).collect();
    assert_eq!(ids, expected);
    for (a, b) in u1.iter().zip(&u2) {
        assert!(
            changed_keys(a, b)
                .iter()
                .all(|k| k == "first_name" || k == "display_name"),
            "user {}",
            a["id"]
        );
    }
    // The new users are members of "All Users"; looks, dashboards and folders are unchanged in number.
    let all_users = d2.item("groups", 0).expect("group 1");
    assert_eq!(all_users["user_count"], 123);
    for resource in [
        "looks",
        "dashboards",
        "folders",
        "groups",
        "scheduled_plans",
        "queries",
    ] {
        assert_eq!(d1.count(resource), d2.count(resource), "{resource}");
    }
}

#[tokio::test]
async fn the_server_serves_the_configured_revision() {
    let config = MockConfig {
        revision: 2,
        ..MockConfig::with_size(120, 30, 12)
    };
    let api = Api::start(config).await;
    let served = api.list("/users").await;
    let expected = all(api.server.dataset(), "users");
    assert_eq!(served, expected);
    assert_eq!(served.len(), 123);
    let looks = api.list("/looks/search").await;
    assert_eq!(looks, all(api.server.dataset(), "looks"));
}
