//! Secrets never leak: the client secret, a pre-issued token and an issued token appear in no
//! error (Display or Debug), no `Debug` of the extractor and no log line, in failing scenarios.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::tiny::{TOKEN, serve};
use common::{mock_settings, run_with};
use looker::{Credentials, ExtractError, Extractor, Resource};
use looker_mock::{DEMO_CLIENT_ID, Fault, FaultKind, MockConfig, MockServer, RetryAfter};
use secrecy::SecretString;

const SECRET: &str = "S3cr3t-sentinel-9f8e7d";
const PRE_ISSUED: &str = "pre-issued-token-sentinel-4c3b2a";

/// Log output captured at TRACE level for the current thread (the test runtime is single-threaded,
/// so every task of the extraction logs here).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

fn with_secret(base_url: &str) -> looker::LookerSettings {
    let mut s = common::settings(base_url);
    s.credentials = Credentials::ClientCredentials {
        client_id: DEMO_CLIENT_ID.to_owned(),
        client_secret: SecretString::from(SECRET.to_owned()),
    };
    s.max_attempts = 2;
    s
}

fn check(what: &str, text: &str) {
    for secret in [SECRET, PRE_ISSUED, TOKEN] {
        assert!(!text.contains(secret), "{what} leaks a secret: {text}");
    }
}

async fn failing(extractor: &Extractor, resources: &[Resource], what: &str) -> ExtractError {
    let (result, _) = run_with(extractor, resources).await;
    let err = result.expect_err(what);
    check(what, &err.to_string());
    check(what, &format!("{err:?}"));
    check(what, &format!("{extractor:?}"));
    err
}

#[tokio::test]
async fn secrets_appear_in_no_error_debug_or_log() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // 1. The mock accepts another secret: login answers 404.
    let mock = MockServer::start(MockConfig::default()).await.expect("mock");
    let extractor = Extractor::new(with_secret(&mock.base_url())).expect("extractor");
    let err = failing(&extractor, &[Resource::Users], "rejected pair").await;
    assert!(matches!(err, ExtractError::Authentication { .. }));
    mock.shutdown().await;

    // 2. The mock accepts the secret; then 401s, 429s, 503s until attempts run out.
    let mut cfg = MockConfig::with_size(30, 3, 3);
    cfg.client_secret = SECRET.to_owned();
    cfg.faults = vec![
        Fault::new(
            "/users?",
            2,
            FaultKind::Status {
                status: 401,
                retry_after: None,
            },
        ),
        Fault::new(
            "/users?",
            3,
            FaultKind::Status {
                status: 429,
                retry_after: Some(RetryAfter::Seconds(0)),
            },
        ),
        Fault::new(
            "/users?",
            4,
            FaultKind::Status {
                status: 503,
                retry_after: None,
            },
        )
        .times(10),
    ];
    let mock = MockServer::start(cfg).await.expect("mock");
    let extractor = Extractor::new(with_secret(&mock.base_url())).expect("extractor");
    let err = failing(&extractor, &[Resource::Users], "exhausted").await;
    assert!(matches!(err, ExtractError::RetriesExhausted { .. }), "{err:?}");
    assert!(mock.stats().logins >= 2, "the 401 path ran");

    // 3. Malformed page with a working login.
    let mut cfg = MockConfig::with_size(30, 3, 3);
    cfg.client_secret = SECRET.to_owned();
    cfg.faults = vec![Fault::new("/users?", 1, FaultKind::Malformed)];
    let mock2 = MockServer::start(cfg).await.expect("mock");
    let extractor = Extractor::new(with_secret(&mock2.base_url())).expect("extractor");
    failing(&extractor, &[Resource::Users], "malformed").await;

    // 4. A pre-issued token that is rejected.
    let mut settings = mock_settings(&mock);
    settings.credentials = Credentials::AccessToken(SecretString::from(PRE_ISSUED.to_owned()));
    let extractor = Extractor::new(settings).expect("extractor");
    failing(&extractor, &[Resource::Users], "bad token").await;
    mock.shutdown().await;
    mock2.shutdown().await;

    // 5. A server that issues a known token, then echoes secrets in its error bodies, then rejects
    //    the token even after a re-login.
    let server = serve(|_, target| {
        if target.contains("/users") {
            let body = format!(r#"{{"message":"bad secret {SECRET} for token {TOKEN}"}}"#);
            (400, "application/json", body.into_bytes())
        } else {
            (
                401,
                "application/json",
                br#"{"message":"Requires authentication."}"#.to_vec(),
            )
        }
    })
    .await;
    let extractor = Extractor::new(with_secret(&server.url)).expect("extractor");
    let err = failing(&extractor, &[Resource::Roles], "401 after relogin").await;
    assert!(matches!(err, ExtractError::Authentication { .. }), "{err:?}");
    let err = failing(&extractor, &[Resource::Users], "echoing server").await;
    assert_eq!(err.status(), Some(400));

    // Give the logs of finished tasks a moment, then check everything that was logged.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let logs = captured.text();
    assert!(logs.contains("retry"), "retries were logged: {logs}");
    assert!(
        logs.contains("logging in again"),
        "the re-login was logged: {logs}"
    );
    check("logs", &logs);
}
