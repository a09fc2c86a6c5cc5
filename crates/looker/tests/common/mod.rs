//! Helpers shared by the integration tests: settings for a mock, and a run that collects pages.
#![allow(dead_code)]

use std::time::Duration;

use looker::{Credentials, ExtractError, ExtractReport, Extractor, LookerSettings, Page, Resource};
use looker_mock::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, MockServer};
use secrecy::SecretString;
use tokio::sync::mpsc;

/// Settings for `base_url` with the demo key pair, small pages and millisecond retry delays.
pub fn settings(base_url: &str) -> LookerSettings {
    let mut s = LookerSettings::new(
        base_url,
        Credentials::ClientCredentials {
            client_id: DEMO_CLIENT_ID.to_owned(),
            client_secret: SecretString::from(DEMO_CLIENT_SECRET.to_owned()),
        },
    )
    .expect("settings");
    s.page_size = 10;
    s.initial_retry_delay = Duration::from_millis(5);
    s.max_retry_delay = Duration::from_millis(100);
    s.request_timeout = Duration::from_secs(10);
    s.max_attempts = 4;
    s
}

pub fn mock_settings(mock: &MockServer) -> LookerSettings {
    settings(&mock.base_url())
}

/// Runs one extraction, collecting every page (a small channel, so back-pressure is exercised).
pub async fn run(
    settings: LookerSettings,
    resources: &[Resource],
) -> (Result<ExtractReport, ExtractError>, Vec<Page>) {
    let extractor = Extractor::new(settings).expect("extractor");
    run_with(&extractor, resources).await
}

pub async fn run_with(
    extractor: &Extractor,
    resources: &[Resource],
) -> (Result<ExtractReport, ExtractError>, Vec<Page>) {
    let (tx, mut rx) = mpsc::channel(2);
    let consumer = tokio::spawn(async move {
        let mut pages = Vec::new();
        while let Some(page) = rx.recv().await {
            pages.push(page);
        }
        pages
    });
    let result = extractor.extract(resources, tx).await;
    let pages = consumer.await.expect("consumer");
    (result, pages)
}

/// Items received per resource.
pub fn items_of(pages: &[Page], resource: Resource) -> usize {
    pages
        .iter()
        .filter(|p| p.resource == resource)
        .map(|p| p.items)
        .sum()
}

/// Every item of `resource`, parsed, in delivery order.
pub fn values_of(pages: &[Page], resource: Resource) -> Vec<serde_json::Value> {
    pages
        .iter()
        .filter(|p| p.resource == resource)
        .flat_map(|p| {
            let items: Vec<serde_json::Value> = serde_json::from_slice(&p.body).expect("page JSON");
            assert_eq!(items.len(), p.items, "Page.items matches the body");
            items
        })
        .collect()
}

/// Requests the mock counted for an endpoint template such as `"GET /users"`.
pub fn served(mock: &MockServer, endpoint: &str) -> u64 {
    mock.stats().requests.get(endpoint).copied().unwrap_or(0)
}

/// Tiny hyper servers for behaviour the mock does not offer.
pub mod tiny {
    use std::convert::Infallible;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use bytes::Bytes;
    use http_body_util::Full;
    use hyper::body::Incoming;
    use hyper::{Method, Request, Response};
    use tokio::net::TcpListener;

    /// The access token the tiny server's login issues.
    pub const TOKEN: &str = "tiny-token-5e471e1";

    /// Status, content type and body.
    pub type Reply = (u16, &'static str, Vec<u8>);

    /// A server answering every request with `handler(method, path_and_query)`; logins succeed
    /// with the token [`TOKEN`], logouts with 204.
    pub struct TinyServer {
        pub url: String,
        /// Requests that reached the handler.
        pub requests: Arc<AtomicU64>,
        task: tokio::task::JoinHandle<()>,
    }

    impl Drop for TinyServer {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    pub async fn serve(handler: impl Fn(&Method, &str) -> Reply + Send + Sync + 'static) -> TinyServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let handler = Arc::new(handler);
        let requests = Arc::new(AtomicU64::new(0));
        let counter = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handler = handler.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let handler = handler.clone();
                        let counter = counter.clone();
                        async move {
                            let target = req.uri().path_and_query().map_or("", |pq| pq.as_str()).to_owned();
                            let (status, content_type, body) = match (req.method(), target.as_str()) {
                                (&Method::POST, "/api/4.0/login") => (
                                    200,
                                    "application/json",
                                    format!(r#"{{"access_token":"{TOKEN}","token_type":"Bearer","expires_in":3599,"refresh_token":null}}"#).into_bytes(),
                                ),
                                (&Method::DELETE, "/api/4.0/logout") => (204, "text/plain", Vec::new()),
                                (method, target) => {
                                    counter.fetch_add(1, Ordering::SeqCst);
                                    handler(method, target)
                                }
                            };
                            let response = Response::builder()
                                .status(status)
                                .header("content-type", content_type)
                                .body(Full::new(Bytes::from(body)))
                                .expect("response");
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        });
        TinyServer { url, requests, task }
    }
}
