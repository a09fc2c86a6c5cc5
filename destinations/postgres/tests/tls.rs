//! TLS against the test server, which `scripts/pg.sh` starts with `ssl=on`, a certificate for
//! `localhost` and `127.0.0.1` signed by its own throwaway CA, and a group role whose members may log
//! in over TLS only (see the script). Each test connects with one `sslmode` and checks what the server
//! saw (`pg_stat_ssl`) or the error the user gets.

mod common;

use destination::{Destination, DestinationError, ErrorKind};
use postgres_dest::config::{SSLMODE_KEY, SSLROOTCERT_KEY};
use postgres_dest::{PostgresConfig, PostgresDestination, SslMode};

/// Connects with the key=value settings `settings` and asks whether the session is encrypted.
async fn encrypted(settings: &str) -> Result<bool, DestinationError> {
    let config = PostgresConfig::from_connection_string(settings, common::fresh_dataset("tls"))?;
    let client = PostgresDestination::new(config)?.connect().await?;
    let r = client
        .query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .await?;
    Ok(r.scalar() == Some(&serde_json::json!(true)))
}

fn base(url: &str, user: &str) -> String {
    let (host, port) = common::host_port(url);
    format!("host={host} port={port} user={user} dbname=postgres")
}

#[tokio::test]
async fn require_encrypts_without_verifying() {
    let Some(url) = common::server_url("require_encrypts_without_verifying") else {
        return;
    };
    let (_, other_ca) = common::ca_files(&url);
    let b = base(&url, "postgres");
    assert!(encrypted(&format!("{b} sslmode=require")).await.expect("require"));
    // prefer takes TLS when the server offers it; disable never does.
    assert!(encrypted(&format!("{b} sslmode=prefer")).await.expect("prefer"));
    assert!(!encrypted(&format!("{b} sslmode=disable")).await.expect("disable"));
    // require with a root file verifies as verify-ca (libpq): the wrong CA is refused.
    let err = encrypted(&format!("{b} sslmode=require sslrootcert='{other_ca}'"))
        .await
        .expect_err("require with a root file verifies the chain");
    assert_eq!(err.config_key(), Some(SSLROOTCERT_KEY), "{err}");
}

#[tokio::test]
async fn verify_full_with_the_ca_succeeds() {
    let Some(url) = common::server_url("verify_full_with_the_ca_succeeds") else {
        return;
    };
    let (ca, _) = common::ca_files(&url);
    let (_, port) = common::host_port(&url);
    for host in ["127.0.0.1", "localhost"] {
        let settings = format!(
            "host={host} port={port} user=postgres dbname=postgres sslmode=verify-full sslrootcert='{ca}'"
        );
        assert!(
            encrypted(&settings).await.expect("verify-full with the right CA"),
            "{host}"
        );
    }
    // The same through a URL, as users write it.
    let url_form =
        format!("postgresql://postgres@127.0.0.1:{port}/postgres?sslmode=verify-full&sslrootcert={ca}");
    assert!(encrypted(&url_form).await.expect("URL form"));
}

#[tokio::test]
async fn verify_full_with_a_wrong_ca_names_sslrootcert() {
    let Some(url) = common::server_url("verify_full_with_a_wrong_ca_names_sslrootcert") else {
        return;
    };
    let (_, other_ca) = common::ca_files(&url);
    let b = base(&url, "postgres");
    let err = encrypted(&format!(
        "{b} password=hunter2-secret sslmode=verify-full sslrootcert='{other_ca}'"
    ))
    .await
    .expect_err("a certificate the CA did not sign");
    assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
    assert_eq!(err.config_key(), Some(SSLROOTCERT_KEY), "{err}");
    let shown = err.to_string();
    assert!(
        shown.contains("certificate") && shown.contains("refused"),
        "{shown}"
    );
    assert!(shown.contains("verify-full"), "{shown}");
    assert!(!shown.contains("hunter2-secret"), "{shown}");
    assert_eq!(shown.lines().count(), 1, "{shown}");

    // A root file that does not exist is named before any connection.
    let err = encrypted(&format!("{b} sslmode=verify-full sslrootcert=/no/such/ca.crt"))
        .await
        .expect_err("missing root file");
    assert_eq!(err.config_key(), Some(SSLROOTCERT_KEY), "{err}");
    assert!(err.to_string().contains("/no/such/ca.crt"), "{err}");
}

#[tokio::test]
async fn verify_ca_ignores_the_host_name_and_verify_full_does_not() {
    let Some(url) = common::server_url("verify_ca_ignores_the_host_name_and_verify_full_does_not") else {
        return;
    };
    let (ca, _) = common::ca_files(&url);
    let (host, port) = common::host_port(&url);
    // The connection goes to the server's address, TLS checks the name not-the-server.test.
    let b = format!("host=not-the-server.test hostaddr={host} port={port} user=postgres dbname=postgres");
    assert!(
        encrypted(&format!("{b} sslmode=verify-ca sslrootcert='{ca}'"))
            .await
            .expect("verify-ca checks the chain only")
    );
    let err = encrypted(&format!("{b} sslmode=verify-full sslrootcert='{ca}'"))
        .await
        .expect_err("the certificate is not for not-the-server.test");
    assert_eq!(err.config_key(), Some(SSLROOTCERT_KEY), "{err}");
    assert!(err.to_string().contains("host name"), "{err}");
}

#[tokio::test]
async fn a_tls_only_role_with_sslmode_disable_names_sslmode() {
    let Some(url) = common::server_url("a_tls_only_role_with_sslmode_disable_names_sslmode") else {
        return;
    };
    let role = common::fresh_dataset("tlsonly");
    common::admin(
        &url,
        &format!("CREATE ROLE \"{role}\" LOGIN IN ROLE looker_load_tls_only"),
    )
    .await;
    let b = base(&url, &role);
    let plain = encrypted(&format!("{b} sslmode=disable")).await;
    let tls = encrypted(&format!("{b} sslmode=require")).await;
    common::admin(&url, &format!("DROP ROLE \"{role}\"")).await;
    let err = plain.expect_err("pg_hba.conf rejects plain text for the role");
    assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
    assert_eq!(err.config_key(), Some(SSLMODE_KEY), "{err}");
    assert!(err.to_string().contains("only over TLS"), "{err}");
    assert!(tls.expect("the role over TLS"));
}

#[test]
fn sslmode_names_parse_as_libpq_spells_them() {
    for (name, mode) in [
        ("disable", SslMode::Disable),
        ("allow", SslMode::Allow),
        ("prefer", SslMode::Prefer),
        ("require", SslMode::Require),
        ("verify-ca", SslMode::VerifyCa),
        ("verify-full", SslMode::VerifyFull),
    ] {
        assert_eq!(name.parse::<SslMode>().ok(), Some(mode));
        assert_eq!(mode.to_string(), name);
    }
}
