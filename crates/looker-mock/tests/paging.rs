//! limit/offset, page/per_page, sorts, fields and the paging headers, over real HTTP.

mod common;

use common::{Api, ids};
use looker_mock::MockConfig;
use reqwest::StatusCode;
use serde_json::Value;

/// (endpoint, resource) for every endpoint paged with limit/offset and sortable by id.
const PAGED: &[(&str, &str)] = &[
    ("/users", "users"),
    ("/looks/search", "looks"),
    ("/dashboards/search", "dashboards"),
    ("/folders/search", "folders"),
    ("/groups", "groups"),
];

fn numeric(ids: &[String]) -> Vec<u64> {
    ids.iter().map(|s| s.parse().unwrap()).collect()
}

fn config() -> MockConfig {
    MockConfig::with_size(437, 23, 17)
}

#[tokio::test]
async fn limit_offset_pages_concatenate_to_the_whole_list_in_id_order() {
    let api = Api::start(config()).await;
    let d = api.server.dataset();
    for &(endpoint, resource) in PAGED {
        let count = d.count(resource);
        assert!(count > 3, "{resource}");
        for k in [1, 7, 100, count, count + 5] {
            let mut all = Vec::new();
            let mut offset = 0;
            loop {
                let page = api
                    .list(&format!("{endpoint}?limit={k}&offset={offset}&sorts=id"))
                    .await;
                let n = page.len();
                assert!(n <= k);
                all.extend(page);
                offset += k;
                if n < k {
                    break;
                }
            }
            let got = numeric(&ids(&all));
            let want: Vec<u64> = (1..=count as u64).collect();
            assert_eq!(got, want, "{endpoint} limit {k}");
        }
        // The last page is short, and the one after it is empty.
        let k = 10;
        let last = count / k * k;
        let page = api
            .list(&format!("{endpoint}?limit={k}&offset={last}&sorts=id"))
            .await;
        assert_eq!(page.len(), count % k, "{endpoint}");
        let beyond = api
            .list(&format!("{endpoint}?limit={k}&offset={}&sorts=id", count + 10))
            .await;
        assert!(beyond.is_empty());
    }
}

#[tokio::test]
async fn without_limit_the_whole_list_is_served() {
    let api = Api::start(config()).await;
    let d = api.server.dataset();
    for &(endpoint, resource) in PAGED {
        let all = api.list(endpoint).await;
        assert_eq!(all.len(), d.count(resource), "{endpoint}");
    }
    for (endpoint, resource) in [
        ("/looks", "looks"),
        ("/dashboards", "dashboards"),
        ("/folders", "folders"),
        ("/projects", "projects"),
        ("/roles", "roles"),
        ("/connections", "connections"),
        ("/user_attributes", "user_attributes"),
        ("/lookml_models", "lookml_models"),
        ("/scheduled_plans?all_users=true", "scheduled_plans"),
    ] {
        // Unpaged endpoints ignore limit/offset like Looker does.
        let all = api.list(endpoint).await;
        assert_eq!(all.len(), d.count(resource), "{endpoint}");
        if resource != "lookml_models" {
            let sep = if endpoint.contains('?') { '&' } else { '?' };
            let r = api.get(&format!("{endpoint}{sep}limit=2&offset=1")).await;
            assert_eq!(
                r.json().as_array().unwrap().len(),
                d.count(resource),
                "{endpoint}"
            );
            assert!(r.headers.get("link").is_none());
        }
    }
}

#[tokio::test]
async fn lookml_models_take_optional_limit_offset() {
    let api = Api::start(config()).await;
    let all = api.list("/lookml_models").await;
    let page = api.list("/lookml_models?limit=2&offset=1").await;
    assert_eq!(page.len(), 2);
    assert_eq!(page[0]["name"], all[1]["name"]);
    assert_eq!(page[1]["name"], all[2]["name"]);
}

#[tokio::test]
async fn deprecated_page_per_page_works_and_limit_offset_win() {
    let api = Api::start(config()).await;
    let count = api.server.dataset().count("users");
    let per_page = 50;
    let mut all = Vec::new();
    for page in 1.. {
        let items = api
            .list(&format!("/users?page={page}&per_page={per_page}&sorts=id"))
            .await;
        let n = items.len();
        all.extend(items);
        if n < per_page {
            break;
        }
    }
    assert_eq!(numeric(&ids(&all)), (1..=count as u64).collect::<Vec<_>>());
    // limit/offset win over page/per_page.
    let items = api
        .list("/users?page=3&per_page=5&limit=2&offset=10&sorts=id")
        .await;
    assert_eq!(ids(&items), ["11", "12"]);
    // page/per_page on the other LO+pp endpoints.
    let items = api.list("/looks/search?page=2&per_page=10&sorts=id").await;
    assert_eq!(numeric(&ids(&items)), (11..=20).collect::<Vec<_>>());
}

#[tokio::test]
async fn sorts_id_desc_and_other_keys() {
    let api = Api::start(config()).await;
    let d = api.server.dataset();
    for &(endpoint, resource) in PAGED {
        let count = d.count(resource) as u64;
        let first = api
            .list(&format!("{endpoint}?limit=3&offset=0&sorts=id%20desc"))
            .await;
        assert_eq!(
            numeric(&ids(&first)),
            vec![count, count - 1, count - 2],
            "{endpoint}"
        );
        let all = api.list(&format!("{endpoint}?sorts=id+desc")).await;
        assert_eq!(numeric(&ids(&all)), (1..=count).rev().collect::<Vec<_>>());
    }
    // updated_at desc, id on looks: non-increasing timestamps, ids ascending among ties.
    let looks = api.list("/looks/search?sorts=updated_at%20desc,id").await;
    assert_eq!(looks.len(), d.count("looks"));
    for pair in looks.windows(2) {
        let (a, b) = (
            pair[0]["updated_at"].as_str().unwrap(),
            pair[1]["updated_at"].as_str().unwrap(),
        );
        assert!(a >= b, "{a} < {b}");
    }
    // Paging over a non-id sort is stable.
    let mut paged = Vec::new();
    for offset in (0..looks.len()).step_by(5) {
        paged.extend(
            api.list(&format!(
                "/looks/search?sorts=updated_at+desc,id&limit=5&offset={offset}"
            ))
            .await,
        );
    }
    assert_eq!(ids(&paged), ids(&looks));
    let users = api.list("/users?sorts=last_name,id").await;
    for pair in users.windows(2) {
        assert!(pair[0]["last_name"].as_str() <= pair[1]["last_name"].as_str());
    }
}

#[tokio::test]
async fn fields_keeps_only_the_named_keys() {
    let api = Api::start(config()).await;
    let looks = api
        .list("/looks/search?fields=id,title,model(id)&limit=3&offset=0&sorts=id")
        .await;
    assert_eq!(looks.len(), 3);
    for look in &looks {
        let obj = look.as_object().unwrap();
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["id", "model", "title"]);
        assert_eq!(
            obj["model"].as_object().unwrap().keys().collect::<Vec<_>>(),
            ["id"]
        );
    }
    let users = api.list("/users?fields=id,email,credentials_email&limit=2").await;
    for u in &users {
        assert_eq!(u.as_object().unwrap().len(), 3);
    }
    let one = api.json("/looks/1?fields=id,query(id,model)").await;
    assert_eq!(one.as_object().unwrap().len(), 2);
    assert_eq!(one["query"].as_object().unwrap().len(), 2);
    let dash = api
        .list("/dashboards/search?fields=id,dashboard_elements(id,query_id)&limit=1")
        .await;
    for el in dash[0]["dashboard_elements"].as_array().unwrap() {
        let keys: Vec<&str> = el.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["id", "query_id"]);
    }
    // Unknown field names select nothing; the objects stay valid JSON.
    let none = api.list("/groups?fields=nope").await;
    assert!(none.iter().all(|g| g.as_object().unwrap().is_empty()));
}

#[tokio::test]
async fn link_and_total_count_headers_when_limit_is_given() {
    let api = Api::start(config()).await;
    let count = api.server.dataset().count("users");
    let base = api.server.base_url();
    let r = api.get("/users?limit=100&offset=0&sorts=id").await;
    assert_eq!(r.status, StatusCode::OK);
    let link = r.headers["link"].to_str().unwrap();
    assert!(
        link.contains(&format!(
            "<{base}/api/4.0/users?sorts=id&limit=100&offset=100>; rel=\"next\""
        )),
        "{link}"
    );
    assert!(link.contains("rel=\"first\""));
    assert_eq!(r.headers["x-total-count"].to_str().unwrap(), count.to_string());
    let last = api
        .get(&format!("/users?limit=100&offset={}", count / 100 * 100))
        .await;
    assert!(!last.headers["link"].to_str().unwrap().contains("rel=\"next\""));
    let unpaged = api.get("/users").await;
    assert!(unpaged.headers.get("link").is_none());
    assert!(unpaged.headers.get("x-total-count").is_none());
}

#[tokio::test]
async fn bad_numbers_get_400() {
    let api = Api::start(config()).await;
    let r = api.get("/users?limit=ten").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["message"].as_str().unwrap().contains("limit"));
}

#[tokio::test]
async fn deleted_filter_on_searches() {
    let api = Api::start(config()).await;
    assert!(api.list("/looks/search?deleted=true").await.is_empty());
    assert_eq!(api.list("/looks/search?deleted=false").await.len(), 23);
    assert!(api.list("/dashboards/search?deleted=true").await.is_empty());
    let v: Vec<Value> = api.list("/dashboards/search?deleted=false&limit=5").await;
    assert_eq!(v.len(), 5);
}
