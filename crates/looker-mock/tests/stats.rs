//! Request statistics and the server lifecycle.

mod common;

use std::time::Duration;

use common::Api;
use looker_mock::{MockConfig, MockServer};

#[tokio::test]
async fn counts_requests_per_endpoint_template() {
    let api = Api::start(MockConfig::default()).await;
    api.list("/users?limit=5").await;
    api.list("/users?limit=5&offset=5").await;
    api.json("/looks/2").await;
    api.json("/looks/3").await;
    let q = api.server.dataset().referenced_query_ids()[0].clone();
    api.json(&format!("/queries/{q}")).await;
    let s = api.server.stats();
    assert_eq!(s.requests["POST /login"], 1);
    assert_eq!(s.requests["GET /users"], 2);
    assert_eq!(s.requests["GET /looks/{id}"], 2);
    assert_eq!(s.requests["GET /queries/{id}"], 1);
    assert_eq!(s.total_requests, 6);
    assert_eq!(s.logins, 1);
    assert_eq!(s.unauthorized, 0);
    assert!(s.bytes_sent > 1000);
    assert_eq!(s.max_in_flight, 1);
}

#[tokio::test]
async fn max_in_flight_sees_concurrent_requests() {
    let api = Api::start(MockConfig {
        latency: Duration::from_millis(400),
        ..MockConfig::default()
    })
    .await;
    let gets = (0..5).map(|_| api.get("/roles"));
    let replies = futures_join_all(gets).await;
    assert!(replies.iter().all(|r| r.status == 200));
    let stats = api.server.stats();
    assert_eq!(stats.max_in_flight, 5);
    // Each of the five spent at least the 400 ms delay in flight; the login is in the span too.
    assert!(stats.in_flight_time >= Duration::from_millis(2000), "{stats}");
    assert!(stats.active_span >= Duration::from_millis(400), "{stats}");
    assert!(stats.mean_in_flight() > 1.0, "{stats}");
    assert_eq!(
        stats.timeline.iter().map(|s| s.requests).sum::<u64>(),
        stats.total_requests
    );
}

async fn futures_join_all<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    // Poll all futures concurrently on this task.
    let mut futs: Vec<_> = futs.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in futs.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|v| v.unwrap()).collect()
}

#[tokio::test]
async fn shutdown_and_drop_stop_the_server() {
    let server = MockServer::start(MockConfig::default()).await.unwrap();
    let url = format!("{}/api/4.0/roles", server.base_url());
    server.shutdown().await;
    assert!(common::client().get(&url).send().await.is_err());

    let server = MockServer::start(MockConfig::default()).await.unwrap();
    let url = format!("{}/api/4.0/roles", server.base_url());
    drop(server);
    tokio::task::yield_now().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(common::client().get(&url).send().await.is_err());
}
