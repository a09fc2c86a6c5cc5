//! Retries against the mock over real HTTP: 429 with and without Retry-After, 5xx, resets, slow
//! answers, exhausted attempts, malformed pages.

mod common;

use std::time::{Duration, Instant};

use common::{items_of, mock_settings, run, served};
use looker::{ExtractError, Resource};
use looker_mock::{Fault, FaultKind, MockConfig, MockServer, RetryAfter};

fn status(status: u16, retry_after: Option<RetryAfter>) -> FaultKind {
    FaultKind::Status { status, retry_after }
}

async fn mock_with(users: usize, faults: Vec<Fault>) -> MockServer {
    let mut cfg = MockConfig::with_size(users, 3, 3);
    cfg.faults = faults;
    MockServer::start(cfg).await.expect("mock")
}

/// `Retry-After: 1` is waited out even though the backoff alone would retry after milliseconds.
#[tokio::test]
async fn retry_after_seconds_is_honoured() {
    let mock = mock_with(
        25,
        vec![Fault::new(
            "/users?",
            2,
            status(429, Some(RetryAfter::Seconds(1))),
        )],
    )
    .await;
    let mut settings = mock_settings(&mock);
    settings.max_retry_delay = Duration::from_secs(5);
    let started = Instant::now();
    let (result, pages) = run(settings, &[Resource::Users]).await;
    let report = result.expect("extract");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(items_of(&pages, Resource::Users), 25);
    assert_eq!((report.retries, report.throttled), (1, 1));
    mock.shutdown().await;
}

/// `Retry-After` as an HTTP date (one-second resolution, so the wait is at least 1 s of the 2).
#[tokio::test]
async fn retry_after_http_date_is_honoured() {
    let mock = mock_with(
        5,
        vec![Fault::new(
            "/users?",
            1,
            status(503, Some(RetryAfter::HttpDate(Duration::from_secs(2)))),
        )],
    )
    .await;
    let mut settings = mock_settings(&mock);
    settings.max_retry_delay = Duration::from_secs(5);
    let started = Instant::now();
    let (result, pages) = run(settings, &[Resource::Users]).await;
    result.expect("extract");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(items_of(&pages, Resource::Users), 5);
    mock.shutdown().await;
}

/// `Retry-After` beyond the cap is clamped to `max_retry_delay`.
#[tokio::test]
async fn retry_after_is_clamped_to_the_cap() {
    let mock = mock_with(
        5,
        vec![Fault::new(
            "/users?",
            1,
            status(429, Some(RetryAfter::Seconds(3600))),
        )],
    )
    .await;
    let (result, pages) = run(mock_settings(&mock), &[Resource::Users]).await;
    result.expect("extract: the 1 h wait is clamped to 100 ms");
    assert_eq!(items_of(&pages, Resource::Users), 5);
    mock.shutdown().await;
}

/// 429 without Retry-After (as real instances send it): exponential backoff, then success; the
/// whole client pauses, so the other resources' requests wait too.
#[tokio::test]
async fn too_many_requests_without_retry_after_backs_off() {
    let mock = mock_with(25, vec![Fault::new("/users?", 1, status(429, None)).times(3)]).await;
    let mut settings = mock_settings(&mock);
    settings.initial_retry_delay = Duration::from_millis(40);
    settings.max_retry_delay = Duration::from_secs(2);
    let started = Instant::now();
    let (result, pages) = run(settings, &[Resource::Users]).await;
    let report = result.expect("extract");
    // Waits of 40, 80 and 160 ms, each scaled by a factor of at least 0.5.
    assert!(
        started.elapsed() >= Duration::from_millis(140),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(items_of(&pages, Resource::Users), 25);
    assert_eq!((report.retries, report.throttled), (3, 3));
    assert_eq!(served(&mock, "GET /users"), 3 + 3);
    mock.shutdown().await;
}

#[tokio::test]
async fn server_errors_are_retried() {
    for code in [500, 502, 503, 504] {
        let mock = mock_with(35, vec![Fault::new("offset=10", 1, status(code, None)).times(2)]).await;
        let (result, pages) = run(mock_settings(&mock), &[Resource::Users]).await;
        let report = result.unwrap_or_else(|e| panic!("{code}: {e}"));
        assert_eq!(items_of(&pages, Resource::Users), 35, "{code}");
        assert_eq!(report.retries, 2, "{code}");
        mock.shutdown().await;
    }
}

#[tokio::test]
async fn connection_resets_and_timeouts_are_retried() {
    let mock = mock_with(
        25,
        vec![
            Fault::new("offset=0", 1, FaultKind::Reset),
            Fault::new("offset=10", 1, FaultKind::Slow(Duration::from_secs(5))),
        ],
    )
    .await;
    let mut settings = mock_settings(&mock);
    settings.request_timeout = Duration::from_millis(500);
    let (result, pages) = run(settings, &[Resource::Users]).await;
    let report = result.expect("extract");
    assert_eq!(items_of(&pages, Resource::Users), 25);
    assert_eq!(report.retries, 2);
    mock.shutdown().await;
}

/// Attempts exhausted: the error names method, URL (path and query), attempts and last status.
#[tokio::test]
async fn exhausted_retries_name_url_status_and_attempts() {
    let mock = mock_with(25, vec![Fault::new("offset=10", 1, status(503, None)).times(100)]).await;
    let (result, _) = run(mock_settings(&mock), &[Resource::Users]).await;
    let err = result.expect_err("exhausted");
    let ExtractError::RetriesExhausted {
        attempts, ref url, ..
    } = err
    else {
        panic!("{err:?}");
    };
    assert_eq!(attempts, 4);
    assert_eq!(url, "/api/4.0/users?limit=10&offset=10&sorts=id");
    let text = err.to_string();
    assert!(
        text.contains("GET /api/4.0/users?limit=10&offset=10&sorts=id"),
        "{text}"
    );
    assert!(text.contains("4 attempts"), "{text}");
    assert!(text.contains("503"), "{text}");
    assert!(text.contains("Service Unavailable"), "{text}");
    assert_eq!(mock.stats().logouts, 1, "logout after a failure too");
    mock.shutdown().await;
}

/// A page that is not valid JSON: retried? No: a 200 with a broken body is an error naming the
/// resource, the offset and the URL.
#[tokio::test]
async fn malformed_page_names_resource_offset_and_url() {
    let mock = mock_with(35, vec![Fault::new("offset=20", 1, FaultKind::Malformed)]).await;
    let (result, pages) = run(mock_settings(&mock), &[Resource::Users]).await;
    let err = result.expect_err("malformed");
    let ExtractError::Malformed {
        resource,
        offset,
        ref url,
        ..
    } = err
    else {
        panic!("{err:?}");
    };
    assert_eq!((resource, offset), (Resource::Users, 20));
    assert_eq!(url, "/api/4.0/users?limit=10&offset=20&sorts=id");
    let text = err.to_string();
    assert!(
        text.contains("`users`") && text.contains("offset 20") && text.contains(url.as_str()),
        "{text}"
    );
    // The pages before it were delivered, in order.
    let offsets: Vec<u64> = pages.iter().map(|p| p.offset).collect();
    assert_eq!(offsets, [0, 10]);
    mock.shutdown().await;
}

/// Malformed JSON among the queries' sources is reported against that source.
#[tokio::test]
async fn malformed_source_page_names_the_source() {
    let mut cfg = MockConfig::with_size(3, 25, 5);
    cfg.faults = vec![Fault::new(
        "/looks/search?limit=10&offset=10",
        1,
        FaultKind::Malformed,
    )];
    let mock = MockServer::start(cfg).await.expect("mock");
    let (result, _) = run(mock_settings(&mock), &[Resource::Queries]).await;
    let err = result.expect_err("malformed");
    assert!(
        matches!(
            err,
            ExtractError::Malformed {
                resource: Resource::Looks,
                offset: 10,
                ..
            }
        ),
        "{err:?}"
    );
    mock.shutdown().await;
}

/// A URL where nothing listens fails at once, naming the base URL and the key to fix.
#[tokio::test]
async fn unreachable_instance_fails_fast() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let settings = common::settings(&format!("http://127.0.0.1:{port}"));
    let (result, _) = run(settings, &[Resource::Users]).await;
    let err = result.expect_err("unreachable");
    assert!(matches!(err, ExtractError::Unreachable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&format!("http://127.0.0.1:{port}")), "{text}");
    assert!(text.contains("sources.looker_data_source.base_url"), "{text}");
}

/// A 429 storm over every endpoint (30 % of all requests, logins included): the extraction
/// completes with every item exactly once, each 429 was retried (never a permanent failure),
/// and the pool never exceeded its size.
#[tokio::test]
async fn a_429_storm_ends_with_every_item_extracted_exactly_once() {
    let mut cfg = MockConfig::with_size(140, 45, 25);
    // No Retry-After, so the test's millisecond backoff applies; a window longer than any run.
    let mut storm = looker_mock::Storm::new(30, Duration::from_secs(3600));
    storm.retry_after = None;
    cfg.storm = Some(storm);
    cfg.latency = Duration::from_millis(2);
    let mock = MockServer::start(cfg).await.expect("mock");
    let mut settings = mock_settings(&mock);
    settings.concurrency = 4;
    // 0.3^12: no request runs out of attempts by bad luck.
    settings.max_attempts = 12;
    settings.max_retry_delay = Duration::from_millis(20);
    let (result, pages) = run(settings, &Resource::ALL).await;
    let report = result.expect("the storm is ridden out");
    let stats = mock.stats();
    assert!(stats.storm_throttled > 10, "the storm hit: {stats}");
    assert_eq!(report.throttled, stats.storm_throttled);
    assert_eq!(report.retries, stats.storm_throttled, "every 429 retried once");
    assert!(stats.max_in_flight <= 4, "{stats}");
    for r in Resource::ALL {
        let values = common::values_of(&pages, r);
        assert_eq!(values.len(), mock.dataset().count(r.name()), "{r}");
        let ids: std::collections::BTreeSet<String> = values
            .iter()
            .map(|v| v.get("id").unwrap_or(&v["name"]).to_string())
            .collect();
        assert_eq!(ids.len(), values.len(), "{r}: no item twice");
        if r != Resource::Queries {
            for (i, v) in values.iter().enumerate() {
                assert_eq!(Some(v), mock.dataset().item(r.name(), i).as_ref(), "{r}[{i}]");
            }
        } else {
            for q in &values {
                let id = q["id"].as_str().expect("query ids are strings");
                assert_eq!(Some(q), mock.dataset().query(id).as_ref());
            }
        }
    }
    // Requests beyond the storm's 429s: the same as a calm run needs (no redundant request).
    let calm = MockServer::start(MockConfig::with_size(140, 45, 25))
        .await
        .expect("mock");
    let mut settings = mock_settings(&calm);
    settings.concurrency = 4;
    run(settings, &Resource::ALL).await.0.expect("calm run");
    assert_eq!(
        stats.total_requests - stats.storm_throttled,
        calm.stats().total_requests
    );
}

/// 429 (rate limited) gets twice the attempts of other failures: with `max_attempts` 4, six 429s
/// in a row are ridden out, eight are not.
#[tokio::test]
async fn rate_limited_requests_get_twice_the_attempts() {
    let mock = mock_with(25, vec![Fault::new("offset=10", 1, status(429, None)).times(6)]).await;
    let (result, pages) = run(mock_settings(&mock), &[Resource::Users]).await;
    let report = result.expect("six 429s are within 2 × 4 attempts");
    assert_eq!(items_of(&pages, Resource::Users), 25);
    assert_eq!((report.retries, report.throttled), (6, 6));
    let mock = mock_with(25, vec![Fault::new("offset=10", 1, status(429, None)).times(8)]).await;
    let (result, _) = run(mock_settings(&mock), &[Resource::Users]).await;
    match result {
        Err(ExtractError::RetriesExhausted { attempts, .. }) => assert_eq!(attempts, 8),
        other => panic!("{other:?}"),
    }
}
