//! Authentication against the mock over real HTTP: login, rejected pair, 401 re-login, token
//! renewal, pre-issued tokens, logout.

mod common;

use std::time::Duration;

use common::{items_of, mock_settings, run, served};
use looker::{Credentials, ExtractError, Extractor, Resource};
use looker_mock::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Fault, FaultKind, MockConfig, MockServer};
use secrecy::SecretString;

fn status(status: u16) -> FaultKind {
    FaultKind::Status {
        status,
        retry_after: None,
    }
}

#[tokio::test]
async fn login_then_extract_then_logout() {
    let mock = MockServer::start(MockConfig::with_size(25, 3, 3))
        .await
        .expect("mock");
    let (result, pages) = run(mock_settings(&mock), &[Resource::Users]).await;
    let report = result.expect("extract");
    assert_eq!(items_of(&pages, Resource::Users), 25);
    let stats = mock.stats();
    assert_eq!((stats.logins, stats.logouts, stats.unauthorized), (1, 1, 0));
    assert_eq!((report.logins, report.relogins), (1, 0));
    assert_eq!(served(&mock, "POST /login"), 1);
    assert_eq!(served(&mock, "DELETE /logout"), 1);
    mock.shutdown().await;
}

#[tokio::test]
async fn rejected_pair_names_the_instance_and_the_keys() {
    let mock = MockServer::start(MockConfig::default()).await.expect("mock");
    let mut settings = mock_settings(&mock);
    settings.credentials = Credentials::ClientCredentials {
        client_id: DEMO_CLIENT_ID.to_owned(),
        client_secret: SecretString::from("wrong-secret".to_owned()),
    };
    let (result, pages) = run(settings, &[Resource::Users]).await;
    let err = result.expect_err("rejected");
    assert!(pages.is_empty());
    assert!(matches!(err, ExtractError::Authentication { .. }), "{err:?}");
    assert!(err.is_configuration());
    let text = err.to_string();
    assert!(
        text.contains("rejected the client_id/client_secret pair"),
        "{text}"
    );
    assert!(text.contains(&mock.base_url()), "{text}");
    assert!(text.contains("sources.looker_data_source.client_id"), "{text}");
    assert!(
        text.contains("sources.looker_data_source.client_secret"),
        "{text}"
    );
    assert_eq!(served(&mock, "POST /login"), 1, "a rejected pair is not retried");
    mock.shutdown().await;
}

/// A 401 in the middle of a resource: one re-login, the request retried, everything delivered.
#[tokio::test]
async fn unauthorized_mid_run_relogs_once() {
    let mut cfg = MockConfig::with_size(55, 3, 3);
    cfg.faults = vec![Fault::new("/users?", 3, status(401))];
    let mock = MockServer::start(cfg).await.expect("mock");
    let (result, pages) = run(mock_settings(&mock), &[Resource::Users]).await;
    let report = result.expect("extract");
    assert_eq!(items_of(&pages, Resource::Users), 55);
    assert_eq!(report.relogins, 1);
    assert_eq!(report.logins, 2);
    assert_eq!(mock.stats().logins, 2);
    mock.shutdown().await;
}

/// Several requests answered 401 at the same time cause one re-login, not one each.
#[tokio::test]
async fn concurrent_unauthorized_cause_one_relogin() {
    let mut cfg = MockConfig::with_size(30, 30, 30);
    cfg.latency = Duration::from_millis(60);
    // The first request of each of the five limit/offset resources, all in flight together.
    cfg.faults = vec![Fault::new("limit=", 1, status(401)).times(5)];
    let mock = MockServer::start(cfg).await.expect("mock");
    let resources = [
        Resource::Users,
        Resource::Looks,
        Resource::Dashboards,
        Resource::Folders,
        Resource::Groups,
    ];
    let (result, pages) = run(mock_settings(&mock), &resources).await;
    let report = result.expect("extract");
    for r in resources {
        assert_eq!(items_of(&pages, r), mock.dataset().count(r.name()), "{r}");
    }
    assert_eq!(mock.stats().faults_served, 5);
    assert_eq!(report.relogins, 1, "{report:?}");
    assert_eq!(mock.stats().logins, 2);
    mock.shutdown().await;
}

/// A token living 1 s, with slow answers: it is renewed ahead of expiry and the run completes.
#[tokio::test]
async fn short_lived_token_is_renewed_mid_resource() {
    let mut cfg = MockConfig::with_size(60, 3, 3);
    cfg.token_ttl = Duration::from_secs(1);
    cfg.latency = Duration::from_millis(150);
    let mock = MockServer::start(cfg).await.expect("mock");
    let mut settings = mock_settings(&mock);
    settings.concurrency = 1;
    let (result, pages) = run(settings, &[Resource::Users]).await;
    let report = result.expect("extract");
    assert_eq!(items_of(&pages, Resource::Users), 60);
    let stats = mock.stats();
    // 7 pages + login(s) at 150 ms each take over a second: at least one renewal.
    assert!(stats.logins >= 2, "{stats}");
    assert_eq!(stats.unauthorized, 0, "renewed before expiry, not after a 401");
    assert_eq!(report.relogins, 0);
    assert_eq!(report.logins, stats.logins);
    mock.shutdown().await;
}

/// A pre-issued token is used as is, and never logged out.
#[tokio::test]
async fn access_token_is_used_as_is() {
    let mock = MockServer::start(MockConfig::with_size(12, 3, 3))
        .await
        .expect("mock");
    let token = login_directly(&mock).await;
    let mut settings = mock_settings(&mock);
    settings.credentials = Credentials::AccessToken(SecretString::from(token));
    let (result, pages) = run(settings, &[Resource::Users, Resource::Projects]).await;
    let report = result.expect("extract");
    assert_eq!(items_of(&pages, Resource::Users), 12);
    assert_eq!(report.logins, 0);
    assert_eq!(mock.stats().logins, 1, "only the test's own login");
    assert_eq!(mock.stats().logouts, 0);
    mock.shutdown().await;
}

/// A pre-issued token that the server rejects: a clear error, no retry loop.
#[tokio::test]
async fn rejected_access_token_says_expired_or_invalid() {
    let mock = MockServer::start(MockConfig::default()).await.expect("mock");
    let mut settings = mock_settings(&mock);
    settings.credentials = Credentials::AccessToken(SecretString::from("stale-token-0123".to_owned()));
    let (result, _) = run(settings, &[Resource::Users]).await;
    let err = result.expect_err("401");
    assert!(matches!(err, ExtractError::Authentication { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("expired or is invalid"), "{text}");
    assert!(text.contains("/api/4.0/users?"), "{text}");
    assert!(text.contains("sources.looker_data_source.access_token"), "{text}");
    assert_eq!(mock.stats().unauthorized, 1);
    mock.shutdown().await;
}

/// One extractor, two runs: each logs in and out.
#[tokio::test]
async fn extractor_can_run_twice() {
    let mock = MockServer::start(MockConfig::with_size(5, 3, 3))
        .await
        .expect("mock");
    let extractor = Extractor::new(mock_settings(&mock)).expect("extractor");
    for round in 1..=2 {
        let (result, pages) = common::run_with(&extractor, &[Resource::Users]).await;
        let report = result.expect("extract");
        assert_eq!(items_of(&pages, Resource::Users), 5);
        assert_eq!(report.logins, 1);
        assert_eq!(mock.stats().logouts, round);
    }
    mock.shutdown().await;
}

async fn login_directly(mock: &MockServer) -> String {
    let body = reqwest::Client::new()
        .post(format!("{}/api/4.0/login", mock.base_url()))
        .form(&[
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
        ])
        .send()
        .await
        .expect("login")
        .bytes()
        .await
        .expect("body");
    let answer: serde_json::Value = serde_json::from_slice(&body).expect("json");
    answer["access_token"].as_str().expect("token").to_owned()
}
