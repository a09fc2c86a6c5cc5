//! Servers that misbehave in ways the mock does not: offset ignored, limit ignored, no
//! `X-Total-Count`, HTML error pages, validation errors. Each is a tiny hyper server.

mod common;

use std::sync::atomic::Ordering;

use common::tiny::serve;
use common::{items_of, run, values_of};
use looker::{ExtractError, Resource};

fn param(target: &str, name: &str) -> Option<u64> {
    let query = target.split_once('?')?.1;
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
}

fn users(range: std::ops::Range<u64>) -> Vec<u8> {
    let items: Vec<String> = range
        .map(|i| format!(r#"{{"id":"{i}","email":"u{i}@x"}}"#))
        .collect();
    format!("[{}]", items.join(",")).into_bytes()
}

#[tokio::test]
async fn server_ignoring_offset_is_a_repeated_page_error() {
    let server = serve(|_, _| (200, "application/json", users(1..11))).await;
    let (result, pages) = run(common::settings(&server.url), &[Resource::Users]).await;
    let err = result.expect_err("repeated");
    let ExtractError::RepeatedPage {
        resource,
        offset,
        ref url,
    } = err
    else {
        panic!("{err:?}");
    };
    assert_eq!((resource, offset), (Resource::Users, 10));
    assert_eq!(url, "/api/4.0/users?limit=10&offset=10&sorts=id");
    assert!(err.to_string().contains("ignores `offset`"), "{err}");
    assert_eq!(
        items_of(&pages, Resource::Users),
        10,
        "the first page went through"
    );
    assert!(server.requests.load(Ordering::SeqCst) <= 10, "no endless paging");
}

/// Without `X-Total-Count`, pages are fetched ahead speculatively; the items and their order are
/// still exact, and speculation stays within the window.
#[tokio::test]
async fn speculative_paging_without_total_count_is_exact() {
    const N: u64 = 95;
    let server = serve(|_, target| {
        let offset = param(target, "offset").unwrap_or(0);
        let limit = param(target, "limit").unwrap_or(N);
        (
            200,
            "application/json",
            users(offset.min(N)..(offset + limit).min(N)),
        )
    })
    .await;
    let (result, pages) = run(common::settings(&server.url), &[Resource::Users]).await;
    let report = result.expect("extract");
    let ids: Vec<u64> = values_of(&pages, Resource::Users)
        .iter()
        .map(|v| v["id"].as_str().expect("id").parse().expect("number"))
        .collect();
    assert_eq!(ids, (0..N).collect::<Vec<_>>());
    // 10 pages are needed; speculation may add at most a window (concurrency 8) minus one.
    // Requests cancelled in flight once the short page arrived may not reach the handler.
    let sent = report.resources[&Resource::Users].requests;
    assert!((10..=17).contains(&sent), "{report:?}");
    let served = server.requests.load(Ordering::SeqCst);
    assert!((10..=sent).contains(&served), "{served} served, {sent} sent");
}

/// A server that ignores `limit` and sends everything: taken as the whole rest, no duplicates.
#[tokio::test]
async fn server_ignoring_limit_is_taken_once() {
    let server = serve(|_, target| {
        let offset = param(target, "offset").unwrap_or(0);
        (200, "application/json", users(offset.min(25)..25))
    })
    .await;
    let (result, pages) = run(common::settings(&server.url), &[Resource::Users]).await;
    result.expect("extract");
    assert_eq!(items_of(&pages, Resource::Users), 25);
}

/// An HTML 404 page (as real instances send): a status error with status, URL and page title,
/// never a JSON parse error; not retried.
#[tokio::test]
async fn html_error_page_gives_status_and_url() {
    let server = serve(|_, _| {
        (
            404,
            "text/html; charset=utf-8",
            b"<!DOCTYPE html><html><head><title>Looker: Page Not Found</title></head><body>...</body></html>"
                .to_vec(),
        )
    })
    .await;
    let (result, _) = run(common::settings(&server.url), &[Resource::Roles]).await;
    let err = result.expect_err("404");
    assert_eq!(err.status(), Some(404), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("GET /api/4.0/roles failed with HTTP 404"), "{text}");
    assert!(text.contains("Looker: Page Not Found"), "{text}");
    assert!(!text.to_lowercase().contains("expected value"), "{text}");
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
}

/// A 5xx HTML page until attempts run out: the last cause shows status and page title.
#[tokio::test]
async fn html_bad_gateway_exhausts_with_a_readable_cause() {
    let server = serve(|_, _| {
        (
            502,
            "text/html",
            b"<html><head><title>502 Bad Gateway</title></head></html>".to_vec(),
        )
    })
    .await;
    let (result, _) = run(common::settings(&server.url), &[Resource::Projects]).await;
    let err = result.expect_err("exhausted");
    let text = err.to_string();
    assert!(
        matches!(err, ExtractError::RetriesExhausted { attempts: 4, .. }),
        "{err:?}"
    );
    assert!(
        text.contains("/api/4.0/projects") && text.contains("502"),
        "{text}"
    );
    assert!(text.contains("502 Bad Gateway"), "{text}");
    assert_eq!(server.requests.load(Ordering::SeqCst), 4);
}

/// A Looker validation error (422): terminal, with Looker's message.
#[tokio::test]
async fn validation_error_is_terminal_with_lookers_message() {
    let server = serve(|_, _| {
        (
            422,
            "application/json",
            br#"{"message":"Validation Failed","errors":[{"field":"limit","code":"invalid"}],"documentation_url":"https://cloud.google.com/looker/docs/r/err/4.0/422/get/users"}"#.to_vec(),
        )
    })
    .await;
    let (result, _) = run(common::settings(&server.url), &[Resource::Users]).await;
    let err = result.expect_err("422");
    assert_eq!(err.status(), Some(422));
    assert!(err.to_string().ends_with(": Validation Failed"), "{err}");
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
}

/// A page that is a JSON object instead of an array is malformed, naming what came back.
#[tokio::test]
async fn object_instead_of_array_is_malformed() {
    let server = serve(|_, _| (200, "application/json", br#"{"id":"1"}"#.to_vec())).await;
    let (result, _) = run(common::settings(&server.url), &[Resource::Connections]).await;
    let err = result.expect_err("malformed");
    assert!(
        matches!(
            err,
            ExtractError::Malformed {
                resource: Resource::Connections,
                offset: 0,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("expected a JSON array"), "{err}");
}
