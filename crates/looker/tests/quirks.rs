//! Extraction against the mock with real instances' quirks on (API.md §7 item 13): every item
//! arrives, hidden query ids are skipped and reported exactly, 429s without `Retry-After` are
//! retried, HTML 404 pages never break a run.

mod common;

use std::collections::BTreeSet;

use common::{items_of, mock_settings, run, values_of};
use looker::{Credentials, ExtractError, Resource};
use looker_mock::{MockConfig, MockServer};
use secrecy::SecretString;
use serde_json::Value;

fn quirky(users: usize, looks: usize, dashboards: usize) -> MockConfig {
    MockConfig {
        quirks: true,
        revision: 2,
        ..MockConfig::with_size(users, looks, dashboards)
    }
}

#[tokio::test]
async fn everything_loads_and_hidden_queries_are_skipped_exactly() {
    for (users, looks, dashboards) in [(1, 2, 1), (35, 23, 9), (120, 61, 30)] {
        let mock = MockServer::start(quirky(users, looks, dashboards))
            .await
            .expect("mock");
        let d = mock.dataset();
        let (result, pages) = run(mock_settings(&mock), &Resource::ALL).await;
        let report = result.unwrap_or_else(|e| panic!("{users}/{looks}/{dashboards}: {e}"));
        let hidden = d.hidden_query_ids();
        assert!(!hidden.is_empty(), "{users}/{looks}/{dashboards}");
        assert_eq!(report.skipped_queries, hidden, "{users}/{looks}/{dashboards}");
        for r in Resource::ALL {
            let want = if r == Resource::Queries {
                d.count("queries") - hidden.len()
            } else {
                d.count(r.name())
            };
            assert_eq!(items_of(&pages, r), want, "{users}/{looks}/{dashboards}: {r}");
            assert_eq!(report.resources[&r].items as usize, want, "{r}");
        }
        let queries: BTreeSet<String> = values_of(&pages, Resource::Queries)
            .iter()
            .map(|q| q["id"].as_str().expect("query id").to_owned())
            .collect();
        for id in d.referenced_query_ids() {
            assert_eq!(queries.contains(&id), !hidden.contains(&id), "query {id}");
        }
        let folders = values_of(&pages, Resource::Folders);
        assert_eq!(
            folders.last().map(|f| f["id"].clone()),
            Some(Value::from("lookml"))
        );
        let stats = mock.stats();
        assert!(stats.quirk_throttled > 0, "{stats}");
        assert!(report.retries >= stats.quirk_throttled, "{stats}");
        assert_eq!(
            stats.logins, 1,
            "expires_in 3599 with a null refresh_token parses"
        );
    }
}

#[tokio::test]
async fn an_html_404_on_a_list_is_a_clear_error_with_status_and_url() {
    // A base URL with a wrong path prefix makes every request a 404 page (an access token is
    // given, so no login answers first).
    let mock = MockServer::start(quirky(5, 2, 1)).await.expect("mock");
    let mut settings = common::settings(&format!("{}/nope", mock.base_url()));
    settings.credentials = Credentials::AccessToken(SecretString::from("a-token".to_owned()));
    let (result, _) = run(settings, &[Resource::Roles]).await;
    let err = result.expect_err("a 404 page");
    let text = err.to_string();
    assert!(!matches!(err, ExtractError::Malformed { .. }), "{text}");
    assert!(text.contains("404"), "{text}");
    assert!(text.contains("/nope/api/4.0/"), "{text}");
    assert!(text.contains("HTML page \"Looker Not Found (404)\""), "{text}");
}
