//! Login, tokens, logout and the 401/404 bodies, over real HTTP.

mod common;

use std::time::Duration;

use common::{Api, client, login};
use looker_mock::{MockConfig, MockServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn login_returns_a_fresh_token_each_time() {
    let server = MockServer::start(MockConfig::default()).await.unwrap();
    let c = client();
    let resp = c
        .post(format!("{}/api/4.0/login", server.base_url()))
        .form(&[
            ("client_id", looker_mock::DEMO_CLIENT_ID),
            ("client_secret", looker_mock::DEMO_CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 4, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["refresh_token"], Value::Null);
    let first = body["access_token"].as_str().unwrap().to_owned();
    assert!(first.len() >= 32);
    let second = login(&c, &server.base_url()).await;
    assert_ne!(first, second);
    assert_eq!(server.stats().logins, 2);
}

#[tokio::test]
async fn login_accepts_deprecated_query_params() {
    let server = MockServer::start(MockConfig::default()).await.unwrap();
    let resp = client()
        .post(format!(
            "{}/api/4.0/login?client_id={}&client_secret={}",
            server.base_url(),
            looker_mock::DEMO_CLIENT_ID,
            looker_mock::DEMO_CLIENT_SECRET
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn wrong_credentials_get_404_with_looker_body() {
    let server = MockServer::start(MockConfig::default()).await.unwrap();
    for (id, secret) in [
        (looker_mock::DEMO_CLIENT_ID, "wrong"),
        ("wrong", looker_mock::DEMO_CLIENT_SECRET),
        ("", ""),
    ] {
        let resp = client()
            .post(format!("{}/api/4.0/login", server.base_url()))
            .form(&[("client_id", id), ("client_secret", secret)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        let body: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"message": "Not found", "documentation_url": "https://cloud.google.com/looker/docs/r/err/4.0/404/post/login"})
        );
    }
    assert_eq!(server.stats().logins, 0);
}

#[tokio::test]
async fn missing_or_invalid_token_gets_401_with_looker_body() {
    let api = Api::start(MockConfig::default()).await;
    let c = client();
    let no_token = c.get(api.url("/users")).send().await.unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    let body: Value = serde_json::from_slice(&no_token.bytes().await.unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"message": "Requires authentication.", "documentation_url": "https://cloud.google.com/looker/docs/r/err/4.0/401/get/users"})
    );
    for header in ["token nope", "Bearer nope", "Basic abc", "token", ""] {
        let resp = c
            .get(api.url("/looks"))
            .header("Authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{header:?}");
    }
    assert_eq!(api.server.stats().unauthorized, 6);
}

#[tokio::test]
async fn token_and_bearer_schemes_are_both_accepted_case_insensitively() {
    let api = Api::start(MockConfig::default()).await;
    for scheme in ["token", "Token", "TOKEN", "Bearer", "bearer"] {
        let resp = client()
            .get(api.url("/roles"))
            .header("Authorization", format!("{scheme} {}", api.token))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{scheme}");
    }
}

#[tokio::test]
async fn tokens_expire_after_the_ttl() {
    let config = MockConfig {
        token_ttl: Duration::from_millis(300),
        ..MockConfig::default()
    };
    let api = Api::start(config).await;
    assert_eq!(api.get("/roles").await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let r = api.get("/roles").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["message"], "Requires authentication.");
    // A new login works again.
    let token = login(&api.client, &api.server.base_url()).await;
    let resp = api
        .client
        .get(api.url("/roles"))
        .header("Authorization", format!("token {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn expires_in_reports_the_ttl() {
    let server = MockServer::start(MockConfig {
        token_ttl: Duration::from_secs(3599),
        ..MockConfig::default()
    })
    .await
    .unwrap();
    let resp = client()
        .post(format!("{}/api/4.0/login", server.base_url()))
        .form(&[
            ("client_id", looker_mock::DEMO_CLIENT_ID),
            ("client_secret", looker_mock::DEMO_CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(body["expires_in"], 3599);
}

#[tokio::test]
async fn logout_invalidates_the_token_on_both_paths() {
    let api = Api::start(MockConfig::default()).await;
    for path in ["/api/4.0/logout", "/api/logout"] {
        let token = login(&api.client, &api.server.base_url()).await;
        let other = login(&api.client, &api.server.base_url()).await;
        let url = format!("{}{path}", api.server.base_url());
        let resp = api
            .client
            .delete(&url)
            .header("Authorization", format!("token {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        assert!(resp.bytes().await.unwrap().is_empty());
        let after = api
            .client
            .get(api.url("/roles"))
            .header("Authorization", format!("token {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
        // Other tokens stay valid.
        let still = api
            .client
            .get(api.url("/roles"))
            .header("Authorization", format!("Bearer {other}"))
            .send()
            .await
            .unwrap();
        assert_eq!(still.status(), StatusCode::OK);
        // Logging out twice is unauthorized.
        let again = api
            .client
            .delete(&url)
            .header("Authorization", format!("token {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    }
    let stats = api.server.stats();
    assert_eq!(stats.logouts, 2);
    assert_eq!(stats.requests["DELETE /logout"], 4);
}

#[tokio::test]
async fn unknown_paths_and_ids_get_404() {
    let api = Api::start(MockConfig::default()).await;
    for path in [
        "/nope",
        "/users/999999",
        "/users/abc",
        "/looks/0",
        "/queries/1",
        "/connections/nope",
        "/dashboards/99",
    ] {
        let r = api.get(path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        let body = r.json();
        assert_eq!(body["message"], "Not found", "{path}");
        assert!(
            body["documentation_url"]
                .as_str()
                .unwrap()
                .starts_with("https://cloud.google.com/looker/docs/r/err/4.0/404/get/")
        );
    }
    assert_eq!(api.server.stats().requests["GET (unknown)"], 1);
    assert_eq!(api.server.stats().requests["GET /users/{id}"], 2);
}
