//! Helpers shared by the integration tests: a started mock plus a logged-in client.
#![allow(dead_code)]

use looker_mock::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, MockConfig, MockServer};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

pub struct Api {
    pub server: MockServer,
    pub client: reqwest::Client,
    pub token: String,
}

/// A response: status, headers and raw body.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("invalid JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Logs in with the demo credentials and returns the access token.
pub async fn login(client: &reqwest::Client, base: &str) -> String {
    let resp = client
        .post(format!("{base}/api/4.0/login"))
        .form(&[
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    v["access_token"].as_str().unwrap().to_owned()
}

impl Api {
    pub async fn start(config: MockConfig) -> Api {
        let server = MockServer::start(config).await.unwrap();
        let client = client();
        let token = login(&client, &server.base_url()).await;
        Api {
            server,
            client,
            token,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/4.0{path}", self.server.base_url())
    }

    /// GET `/api/4.0{path}` with the token.
    pub async fn get(&self, path: &str) -> Reply {
        let resp = self
            .client
            .get(self.url(path))
            .header("Authorization", format!("token {}", self.token))
            .send()
            .await
            .unwrap();
        Reply {
            status: resp.status(),
            headers: resp.headers().clone(),
            body: resp.bytes().await.unwrap().to_vec(),
        }
    }

    /// GET that must answer 200 with JSON.
    pub async fn json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "GET {path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        r.json()
    }

    /// GET that must answer 200 with a JSON array.
    pub async fn list(&self, path: &str) -> Vec<Value> {
        match self.json(path).await {
            Value::Array(items) => items,
            other => panic!("GET {path}: not an array: {other}"),
        }
    }
}

/// The ids of a list of items, as strings.
pub fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}
