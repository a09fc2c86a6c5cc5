//! Fault injection: each kind fires exactly on the n-th matching request, for `times` requests.

mod common;

use std::time::{Duration, SystemTime};

use common::Api;
use looker_mock::{Fault, FaultKind, MockConfig, RetryAfter, Storm};
use reqwest::StatusCode;

fn with_faults(faults: Vec<Fault>) -> MockConfig {
    MockConfig {
        faults,
        ..MockConfig::default()
    }
}

/// Status of each of `n` GETs of `path` (None: the connection failed).
async fn statuses(api: &Api, path: &str, n: usize) -> Vec<Option<u16>> {
    let mut out = Vec::new();
    for _ in 0..n {
        let resp = api
            .client
            .get(api.url(path))
            .header("Authorization", format!("token {}", api.token))
            .send()
            .await;
        out.push(match resp {
            Ok(r) => {
                let s = r.status().as_u16();
                let _ = r.bytes().await;
                Some(s)
            }
            Err(_) => None,
        });
    }
    out
}

#[tokio::test]
async fn status_faults_fire_on_the_nth_matching_request() {
    for status in [429u16, 500, 502, 503, 504] {
        let api = Api::start(with_faults(vec![Fault::new(
            "/users",
            3,
            FaultKind::Status {
                status,
                retry_after: None,
            },
        )]))
        .await;
        // Other paths do not count.
        assert_eq!(statuses(&api, "/roles", 4).await, vec![Some(200); 4]);
        let got = statuses(&api, "/users?limit=1", 5).await;
        assert_eq!(
            got,
            vec![Some(200), Some(200), Some(status), Some(200), Some(200)]
        );
        assert_eq!(api.server.stats().faults_served, 1);
    }
}

#[tokio::test]
async fn error_body_and_retry_after_seconds() {
    let api = Api::start(with_faults(vec![Fault::new(
        "/looks",
        1,
        FaultKind::Status {
            status: 429,
            retry_after: Some(RetryAfter::Seconds(7)),
        },
    )]))
    .await;
    let r = api.get("/looks/search").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers["retry-after"], "7");
    let body = r.json();
    assert!(body["message"].is_string());
    assert_eq!(
        body["documentation_url"],
        "https://cloud.google.com/looker/docs/r/err/4.0/429/get/looks/search"
    );
    assert_eq!(api.get("/looks/search").await.status, StatusCode::OK);
}

#[tokio::test]
async fn retry_after_http_date() {
    let api = Api::start(with_faults(vec![Fault::new(
        "/groups",
        2,
        FaultKind::Status {
            status: 503,
            retry_after: Some(RetryAfter::HttpDate(Duration::from_secs(30))),
        },
    )]))
    .await;
    assert_eq!(api.get("/groups").await.status, StatusCode::OK);
    let r = api.get("/groups").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    let date = httpdate::parse_http_date(r.headers["retry-after"].to_str().unwrap()).unwrap();
    let ahead = date.duration_since(SystemTime::now()).unwrap_or_default();
    assert!(
        ahead > Duration::from_secs(20) && ahead <= Duration::from_secs(31),
        "{ahead:?}"
    );
}

#[tokio::test]
async fn times_covers_consecutive_requests_and_retries_count() {
    let api = Api::start(with_faults(vec![
        Fault::new(
            "/users",
            2,
            FaultKind::Status {
                status: 503,
                retry_after: None,
            },
        )
        .times(3),
    ]))
    .await;
    let got = statuses(&api, "/users?limit=1", 6).await;
    assert_eq!(
        got,
        vec![Some(200), Some(503), Some(503), Some(503), Some(200), Some(200)]
    );
    assert_eq!(api.server.stats().faults_served, 3);
}

#[tokio::test]
async fn faults_match_the_query_string_too() {
    let api = Api::start(with_faults(vec![Fault::new(
        "offset=20",
        1,
        FaultKind::Status {
            status: 500,
            retry_after: None,
        },
    )]))
    .await;
    assert_eq!(api.get("/users?limit=10&offset=10").await.status, StatusCode::OK);
    assert_eq!(
        api.get("/users?limit=10&offset=20").await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(api.get("/users?limit=10&offset=20").await.status, StatusCode::OK);
}

#[tokio::test]
async fn malformed_gives_200_with_invalid_json() {
    let api = Api::start(with_faults(vec![Fault::new(
        "/dashboards/search",
        2,
        FaultKind::Malformed,
    )]))
    .await;
    let ok = api.get("/dashboards/search").await;
    assert_eq!(ok.status, StatusCode::OK);
    ok.json();
    let bad = api.get("/dashboards/search").await;
    assert_eq!(bad.status, StatusCode::OK);
    assert!(!bad.body.is_empty());
    assert!(serde_json::from_slice::<serde_json::Value>(&bad.body).is_err());
    assert!(bad.body.len() < ok.body.len());
    api.get("/dashboards/search").await.json();
}

#[tokio::test]
async fn reset_closes_the_connection_without_an_answer() {
    let api = Api::start(with_faults(vec![Fault::new("/roles", 2, FaultKind::Reset)])).await;
    let got = statuses(&api, "/roles", 3).await;
    assert_eq!(got, vec![Some(200), None, Some(200)]);
    assert_eq!(api.server.stats().faults_served, 1);
}

#[tokio::test]
async fn slow_answers_normally_after_the_delay() {
    let api = Api::start(with_faults(vec![Fault::new(
        "/projects",
        2,
        FaultKind::Slow(Duration::from_millis(50)),
    )]))
    .await;
    let mut served = Vec::new();
    for _ in 0..3 {
        let r = api.get("/projects").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json().as_array().unwrap().len(), 4);
        served.push(api.server.stats().faults_served);
    }
    assert_eq!(served, [0, 1, 1]);
}

#[tokio::test]
async fn login_can_be_faulted_too() {
    let api = Api::start(with_faults(vec![Fault::new(
        "/login",
        2,
        FaultKind::Status {
            status: 429,
            retry_after: None,
        },
    )]))
    .await;
    // The first login happened in Api::start.
    let resp = api
        .client
        .post(format!("{}/api/4.0/login", api.server.base_url()))
        .form(&[
            ("client_id", looker_mock::DEMO_CLIENT_ID),
            ("client_secret", looker_mock::DEMO_CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(api.server.stats().logins, 1);
}

#[test]
fn cli_fault_specs_parse() {
    let f: Fault = "/users:3:2:429@5".parse().unwrap();
    assert_eq!(
        f,
        Fault::new(
            "/users",
            3,
            FaultKind::Status {
                status: 429,
                retry_after: Some(RetryAfter::Seconds(5))
            }
        )
        .times(2)
    );
    assert!("/users:0:500".parse::<Fault>().is_err());
}

/// Statuses and `Retry-After` headers of `n` GETs of `path`.
async fn answers(api: &Api, path: &str, n: usize) -> Vec<(u16, Option<String>)> {
    let mut out = Vec::new();
    for _ in 0..n {
        let r = api
            .client
            .get(api.url(path))
            .header("Authorization", format!("token {}", api.token))
            .send()
            .await
            .expect("answer");
        let retry_after = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        out.push((r.status().as_u16(), retry_after));
        let _ = r.bytes().await;
    }
    out
}

#[tokio::test]
async fn a_storm_throttles_its_share_of_requests_deterministically() {
    // With seed 43 the first request of the window (the helper's login) is not hit.
    let storm = || MockConfig {
        storm: Some(Storm::new(30, Duration::from_secs(3600))),
        seed: 43,
        ..MockConfig::default()
    };
    let first = Api::start(storm()).await;
    let got = answers(&first, "/roles", 200).await;
    let throttled = got.iter().filter(|(s, _)| *s == 429).count();
    assert!((30..=90).contains(&throttled), "30 % of 200, got {throttled}");
    assert!(got.iter().all(|(s, ra)| match s {
        429 => ra.as_deref() == Some("1"),
        200 => ra.is_none(),
        _ => false,
    }));
    let stats = first.server.stats();
    assert_eq!(stats.storm_throttled, throttled as u64);
    assert_eq!(stats.faults_served, throttled as u64);
    let faulted: u64 = stats.timeline.iter().map(|s| s.faulted).sum();
    let requests: u64 = stats.timeline.iter().map(|s| s.requests).sum();
    assert_eq!((faulted, requests), (throttled as u64, stats.total_requests));
    // Same seed, same order of requests: the same requests are hit.
    let second = Api::start(storm()).await;
    assert_eq!(answers(&second, "/roles", 200).await, got);
}

#[tokio::test]
async fn no_storm_outside_its_window() {
    let api = Api::start(MockConfig {
        storm: Some(Storm::new(100, Duration::from_secs(3600)).starting_after(Duration::from_secs(3600))),
        ..MockConfig::default()
    })
    .await;
    assert!(answers(&api, "/roles", 20).await.iter().all(|(s, _)| *s == 200));
    assert_eq!(api.server.stats().storm_throttled, 0);
}
