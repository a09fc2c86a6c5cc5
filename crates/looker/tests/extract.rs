//! Full extractions against the mock over real HTTP: exact counts, order, queries, concurrency.

mod common;

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use common::{items_of, mock_settings, run, served, values_of};
use looker::{ExtractError, Extractor, Resource};
use looker_mock::{Fault, FaultKind, MockConfig, MockServer};
use serde_json::Value;

const PAGE: usize = 10;

fn id_of(v: &Value) -> String {
    match &v["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every resource, for instance sizes around the page size: the items received equal the mock's
/// count, page by page in order, ids strictly increasing, each page's body matching `items`.
#[tokio::test]
async fn every_resource_fully_extracted_at_page_boundaries() {
    for n in [0, 1, PAGE - 1, PAGE, PAGE + 1, 4 * PAGE + 3] {
        let mock = MockServer::start(MockConfig::with_size(n, n, n))
            .await
            .expect("mock");
        let (result, pages) = run(mock_settings(&mock), &Resource::ALL).await;
        let report = result.unwrap_or_else(|e| panic!("size {n}: {e}"));
        for r in Resource::ALL {
            let want = mock.dataset().count(r.name());
            assert_eq!(items_of(&pages, r), want, "size {n}: {r}");
            let rr = &report.resources[&r];
            assert!(rr.emitted, "{r}");
            assert_eq!(rr.items as usize, want, "size {n}: report of {r}");
            assert!(rr.pages >= 1, "every resource yields a page: {r}");
            let values = values_of(&pages, r);
            // Paged resources in id order; the mock serves the others in id order too.
            if r != Resource::Queries {
                for (i, v) in values.iter().enumerate() {
                    assert_eq!(
                        Some(v),
                        mock.dataset().item(r.name(), i).as_ref(),
                        "size {n}: {r}[{i}]"
                    );
                }
            }
        }
        // Paged resources: exactly ceil((n+1)/page) requests (the last page is the short one).
        let want_user_pages = n / PAGE + 1;
        assert_eq!(served(&mock, "GET /users") as usize, want_user_pages, "size {n}");
        assert_eq!(
            report.resources[&Resource::Users].requests as usize,
            want_user_pages
        );
        assert_eq!(mock.stats().logins, 1);
        assert_eq!(mock.stats().logouts, 1);
        assert_eq!(report.retries, 0);
        assert_eq!(report.requests, mock.stats().total_requests, "size {n}");
        mock.shutdown().await;
    }
}

/// Offsets of a resource's pages arrive in increasing order, contiguous, even with fetch-ahead and
/// pages that take different times to serve.
#[tokio::test]
async fn pages_of_a_resource_arrive_in_order() {
    let mut cfg = MockConfig::with_size(237, 5, 5);
    // Early pages slower than later ones, so fetch-ahead completes out of order.
    cfg.faults = vec![
        Fault::new(
            "/users?limit=10&offset=0",
            1,
            FaultKind::Slow(Duration::from_millis(150)),
        ),
        Fault::new(
            "/users?limit=10&offset=10",
            1,
            FaultKind::Slow(Duration::from_millis(100)),
        ),
        Fault::new(
            "/users?limit=10&offset=30",
            1,
            FaultKind::Slow(Duration::from_millis(80)),
        ),
    ];
    let mock = MockServer::start(cfg).await.expect("mock");
    let (result, pages) = run(mock_settings(&mock), &[Resource::Users, Resource::Looks]).await;
    result.expect("extract");
    let offsets: Vec<u64> = pages
        .iter()
        .filter(|p| p.resource == Resource::Users)
        .map(|p| p.offset)
        .collect();
    let want: Vec<u64> = (0..24).map(|i| i * PAGE as u64).collect();
    assert_eq!(offsets, want);
    let ids: Vec<u64> = values_of(&pages, Resource::Users)
        .iter()
        .map(|v| id_of(v).parse().expect("numeric id"))
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids strictly increasing");
    assert_eq!(ids.len(), 237);
    mock.shutdown().await;
}

/// The queries resource: every referenced id exactly once; only ids not embedded in any fetched
/// object are requested, each once.
#[tokio::test]
async fn queries_each_once_and_only_unembedded_ones_fetched() {
    let mock = MockServer::start(MockConfig::with_size(30, 57, 23))
        .await
        .expect("mock");
    let (result, pages) = run(mock_settings(&mock), &Resource::ALL).await;
    let report = result.expect("extract");
    let queries = values_of(&pages, Resource::Queries);
    let got: Vec<String> = queries.iter().map(id_of).collect();
    let unique: BTreeSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "no query twice");
    let want: BTreeSet<String> = mock.dataset().referenced_query_ids().into_iter().collect();
    assert_eq!(got.iter().cloned().collect::<BTreeSet<_>>(), want);
    assert_eq!(got.len(), mock.dataset().count("queries"));
    // Each delivered query is the one the API serves by id.
    for q in &queries {
        assert_eq!(Some(q), mock.dataset().query(&id_of(q)).as_ref());
    }
    // Ids embedded in looks, dashboards or plans as objects need no request.
    let mut embedded = HashSet::new();
    for res in ["looks", "dashboards", "scheduled_plans"] {
        for i in 0..mock.dataset().count(res) {
            let item = mock.dataset().item(res, i).expect("item");
            collect_embedded(&item, &mut embedded);
        }
    }
    let not_embedded = want.iter().filter(|id| !embedded.contains(*id)).count() as u64;
    assert!(
        !embedded.is_empty() && not_embedded > 0,
        "the dataset exercises both paths"
    );
    assert_eq!(served(&mock, "GET /queries/{id}"), not_embedded);
    assert_eq!(report.resources[&Resource::Queries].requests, not_embedded);
    assert!(report.skipped_queries.is_empty());
    // Query pages are contiguous and in order.
    let offsets: Vec<(u64, usize)> = pages
        .iter()
        .filter(|p| p.resource == Resource::Queries)
        .map(|p| (p.offset, p.items))
        .collect();
    let mut next = 0;
    for (offset, items) in offsets {
        assert_eq!(offset, next);
        assert!(items <= PAGE && items > 0);
        next += items as u64;
    }
    mock.shutdown().await;
}

fn collect_embedded(v: &Value, out: &mut HashSet<String>) {
    let mut take = |q: &Value| {
        if q.is_object() {
            out.insert(id_of(q));
        }
    };
    take(&v["query"]);
    for el in v["dashboard_elements"].as_array().into_iter().flatten() {
        take(&el["query"]);
        take(&el["result_maker"]["query"]);
        take(&el["look"]["query"]);
    }
}

/// `queries` alone: looks, dashboards and plans are fetched for their ids but not emitted.
#[tokio::test]
async fn queries_alone_fetches_sources_without_emitting_them() {
    let mock = MockServer::start(MockConfig::with_size(5, 25, 12))
        .await
        .expect("mock");
    let (result, pages) = run(mock_settings(&mock), &[Resource::Queries]).await;
    let report = result.expect("extract");
    assert!(pages.iter().all(|p| p.resource == Resource::Queries));
    assert_eq!(
        items_of(&pages, Resource::Queries),
        mock.dataset().count("queries")
    );
    for source in [Resource::Looks, Resource::Dashboards, Resource::ScheduledPlans] {
        let r = &report.resources[&source];
        assert!(!r.emitted && r.pages == 0 && r.requests >= 1, "{source}: {r:?}");
    }
    assert_eq!(served(&mock, "GET /users"), 0);
    mock.shutdown().await;
}

/// A referenced query that answers 404 is skipped and reported; the rest complete.
#[tokio::test]
async fn missing_queries_are_skipped_and_reported() {
    let mut cfg = MockConfig::with_size(5, 25, 12);
    cfg.faults = vec![
        Fault::new(
            "/queries/",
            2,
            FaultKind::Status {
                status: 404,
                retry_after: None,
            },
        )
        .times(2),
    ];
    let mock = MockServer::start(cfg).await.expect("mock");
    let (result, pages) = run(mock_settings(&mock), &[Resource::Queries]).await;
    let report = result.expect("extract");
    assert_eq!(report.skipped_queries.len(), 2, "{:?}", report.skipped_queries);
    assert_eq!(
        items_of(&pages, Resource::Queries),
        mock.dataset().count("queries") - 2
    );
    let got: HashSet<String> = values_of(&pages, Resource::Queries).iter().map(id_of).collect();
    for id in &report.skipped_queries {
        assert!(!got.contains(id), "skipped {id} not delivered");
    }
    mock.shutdown().await;
}

/// Never more requests in flight than `concurrency`, logins included, over all resources.
#[tokio::test]
async fn concurrency_bound_respected() {
    let mut cfg = MockConfig::with_size(300, 120, 40);
    cfg.latency = Duration::from_millis(15);
    let mock = MockServer::start(cfg).await.expect("mock");
    for concurrency in [1, 3] {
        let mut settings = mock_settings(&mock);
        settings.concurrency = concurrency;
        let before = mock.stats().total_requests;
        let (result, pages) = run(settings, &Resource::ALL).await;
        result.expect("extract");
        assert_eq!(items_of(&pages, Resource::Users), 300);
        let stats = mock.stats();
        assert!(stats.total_requests - before > 50, "enough requests to overlap");
        assert!(
            stats.max_in_flight <= concurrency as u64,
            "max in flight {} > {concurrency}",
            stats.max_in_flight
        );
    }
    // And the pool is used: with room for 3, requests do overlap.
    assert!(mock.stats().max_in_flight >= 2);
    mock.shutdown().await;
}

/// A dropped receiver ends the extraction with ChannelClosed, not a hang.
#[tokio::test]
async fn closed_channel_is_an_error() {
    let mock = MockServer::start(MockConfig::with_size(100, 5, 5))
        .await
        .expect("mock");
    let extractor = Extractor::new(mock_settings(&mock)).expect("extractor");
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    drop(rx);
    let err = extractor
        .extract(&[Resource::Users], tx)
        .await
        .expect_err("closed");
    assert!(
        matches!(
            err,
            ExtractError::ChannelClosed {
                resource: Resource::Users
            }
        ),
        "{err:?}"
    );
    assert_eq!(mock.stats().logouts, 1, "logout still happens");
    mock.shutdown().await;
}

/// An empty selection makes no request at all.
#[tokio::test]
async fn nothing_selected_nothing_requested() {
    let mock = MockServer::start(MockConfig::default()).await.expect("mock");
    let (result, pages) = run(mock_settings(&mock), &[]).await;
    let report = result.expect("extract");
    assert!(pages.is_empty() && report.resources.is_empty());
    assert_eq!(mock.stats().total_requests, 0);
    mock.shutdown().await;
}

/// Without `X-Total-Count` (as real instances answer), pages fetched ahead past the end are
/// counted and bounded by the pool size; the items are exact all the same.
#[tokio::test]
async fn speculative_pages_past_the_end_are_counted_and_bounded() {
    let mut cfg = MockConfig::with_size(237, 5, 5);
    cfg.total_count = false;
    let mock = MockServer::start(cfg).await.expect("mock");
    let mut settings = mock_settings(&mock);
    settings.concurrency = 4;
    let (result, pages) = run(settings, &[Resource::Users]).await;
    let report = result.expect("extract");
    assert_eq!(items_of(&pages, Resource::Users), 237);
    let users = &report.resources[&Resource::Users];
    let needed = (237 / PAGE + 1) as u64;
    assert_eq!(users.pages, needed);
    assert!(users.speculative <= 3, "{users:?}");
    // Pages dropped before their request went out are neither served nor counted as requests.
    let served = served(&mock, "GET /users");
    assert!(served >= needed && served <= users.requests, "{served} {users:?}");
    assert!(users.requests <= needed + users.speculative, "{users:?}");
    mock.shutdown().await;
}
