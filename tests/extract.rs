//! End-to-end tests of `looker-load extract` and `looker-load resources`.

mod common;

use common::{Project, stderr, stdout};
use looker_mock::{MockConfig, MockServer};

/// Reads the summary table printed by `extract`: resource → (pages, records).
fn summary(out: &str) -> std::collections::BTreeMap<String, u64> {
    out.lines()
        .skip_while(|l| !l.starts_with("resource"))
        .skip(1)
        .take_while(|l| !l.starts_with("Extracted"))
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            Some((cols.first()?.to_string(), cols.get(2)?.parse().ok()?))
        })
        .collect()
}

#[test]
fn extract_demo_writes_every_selected_resource_with_exact_counts() {
    let project = Project::new();
    let out = project.run(&[
        "extract",
        "--demo",
        "--demo-users",
        "230",
        "--page-size",
        "100",
        "--resources",
        "users,looks,dashboards,queries,projects,folders,groups,roles,lookml_models,scheduled_plans,connections,user_attributes",
    ]);
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let counts = summary(&stdout(&out));
    let expected = looker_mock::Dataset::new(&MockConfig::with_size(230, 23, 11));
    assert_eq!(counts.len(), 12, "{}", stdout(&out));
    for (resource, n) in &counts {
        assert_eq!(*n as usize, expected.count(resource), "records of {resource}");
    }
    // The pages are on disk, under a published extract.
    let extracted = project
        .pipelines_dir()
        .join("looker_data_pipeline/extract/extracted");
    let ids: Vec<_> = std::fs::read_dir(&extracted).expect("extracted dir").collect();
    assert_eq!(ids.len(), 1);
    let users = ids[0].as_ref().expect("entry").path().join("users");
    let pages = std::fs::read_dir(users).expect("users pages").count();
    assert_eq!(pages, 3, "230 users in pages of 100");
}

#[test]
fn missing_credentials_exit_2_naming_key_and_env_var() {
    let project = Project::new();
    project.write(
        ".dlt/config.toml",
        "[sources.looker_data_source]\nbase_url = \"http://127.0.0.1:9\"\n",
    );
    let out = project.run(&["extract"]);
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("client_id"), "{err}");
    assert!(err.contains("SOURCES__LOOKER_DATA_SOURCE__CLIENT_ID"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rejected_credentials_fail_clearly_without_leaking_the_secret() {
    let server = MockServer::start(MockConfig::default()).await.expect("mock");
    let project = Project::new();
    let secret = "sup3r-s3cret-value-XYZ";
    project.write(
        ".dlt/secrets.toml",
        &format!(
            "[sources.looker_data_source]\nbase_url = \"{}\"\nclient_id = \"someone\"\nclient_secret = \"{secret}\"\n",
            server.base_url()
        ),
    );
    let (out, project) = tokio::task::spawn_blocking(move || {
        let o = project.command().args(["-vv", "extract"]).output().expect("run");
        (o, project)
    })
    .await
    .expect("join");
    assert!(!out.status.success());
    let (o, e) = (stdout(&out), stderr(&out));
    assert!(e.contains("client_id") && e.contains("rejected"), "{e}");
    assert!(
        !o.contains(secret) && !e.contains(secret),
        "secret leaked:\n{o}\n{e}"
    );
    // Nothing half-written is left as an extract.
    let extract = project.pipelines_dir().join("looker_data_pipeline/extract");
    for state in ["new", "extracted"] {
        let left: Vec<_> = std::fs::read_dir(extract.join(state))
            .map(|d| d.collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{state}: {left:?}");
    }
    server.shutdown().await;
}

#[test]
fn resources_lists_the_catalogue() {
    let project = Project::new();
    let out = project.run(&["resources"]);
    assert!(out.status.success());
    let text = stdout(&out);
    for name in [
        "users",
        "looks",
        "dashboards",
        "queries",
        "projects",
        "folders",
        "groups",
        "roles",
        "lookml_models",
        "scheduled_plans",
        "connections",
        "user_attributes",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(name)),
            "{name} missing:\n{text}"
        );
    }
}
