//! Configuration resolution against real files in temporary directories and an injected
//! environment. The process environment and `~/.dlt` are never touched (the one test of
//! `load_from_process` runs itself as a child process with a crafted environment).

use std::path::{Path, PathBuf};
use std::time::Duration;

use pipeline::config::{
    self, ConfigError, Credentials, DestinationKind, Environment, Origin, Overrides, Settings, SslMode,
    WriteDisposition,
};
use secrecy::ExposeSecret;

/// A project directory and a global directory, both temporary.
struct Dirs {
    project: tempfile::TempDir,
    global: tempfile::TempDir,
}

impl Dirs {
    fn new() -> Self {
        Dirs {
            project: tempfile::tempdir().unwrap(),
            global: tempfile::tempdir().unwrap(),
        }
    }

    /// Writes `<project>/.dlt/<name>`.
    fn project(&self, name: &str, text: &str) -> &Self {
        let dir = self.project.path().join(".dlt");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), text).unwrap();
        self
    }

    /// Writes `<global>/<name>`.
    fn global(&self, name: &str, text: &str) -> &Self {
        std::fs::write(self.global.path().join(name), text).unwrap();
        self
    }

    fn project_file(&self, name: &str) -> PathBuf {
        self.project.path().join(".dlt").join(name)
    }

    fn global_file(&self, name: &str) -> PathBuf {
        self.global.path().join(name)
    }

    fn load_with(&self, env: &[(&str, &str)], overrides: &Overrides) -> Result<Settings, ConfigError> {
        let env: Environment = env.iter().copied().collect();
        config::load(self.project.path(), Some(self.global.path()), &env, overrides)
    }

    fn load(&self, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        self.load_with(env, &Overrides::default())
    }

    fn ok(&self, env: &[(&str, &str)]) -> Settings {
        match self.load(env) {
            Ok(s) => s,
            Err(e) => panic!("load failed: {e}"),
        }
    }

    fn err(&self, env: &[(&str, &str)]) -> ConfigError {
        match self.load(env) {
            Ok(s) => panic!("load succeeded: {s:?}"),
            Err(e) => e,
        }
    }
}

fn file_origin(path: PathBuf, key: &str) -> Origin {
    Origin::File {
        path,
        key: key.to_owned(),
    }
}

fn env_origin(name: &str) -> Origin {
    Origin::Environment {
        name: name.to_owned(),
    }
}

const PG_ENV: (&str, &str) = ("DESTINATION", "postgres");

// ---------------------------------------------------------------------------------------------
// Defaults

#[test]
fn defaults_without_any_configuration() {
    let dirs = Dirs::new();
    let s = dirs.ok(&[]);
    assert_eq!(s.pipeline_name, "looker_data_pipeline");
    assert_eq!(s.dataset_name, "looker_data_data");
    assert_eq!(s.pipelines_dir, dirs.global.path().join("pipelines"));
    assert_eq!(
        s.working_dir(),
        dirs.global.path().join("pipelines/looker_data_pipeline")
    );
    assert_eq!(s.destination, DestinationKind::Duckdb);
    assert_eq!(s.staging, None);
    assert_eq!(s.duckdb.path, Path::new("looker_data_pipeline.duckdb"));
    assert!(s.postgres.is_none());
    assert!(s.looker.base_url.is_none() && s.looker.client_id.is_none());
    assert!(s.looker.resources.is_none() && s.looker.page_size.is_none());
    assert!(s.resources.is_empty());
    assert!(s.files.is_empty());
    assert_eq!(s.origins["destination"], Origin::Default);
    assert_eq!(s.origins["pipeline_name"], Origin::Default);
}

#[test]
fn without_global_dir_only_project_files_are_read() {
    let dirs = Dirs::new();
    dirs.global("config.toml", "[sources.looker_data_source]\npage_size = 3\n");
    let env = Environment::new();
    let s = config::load(dirs.project.path(), None, &env, &Overrides::default()).unwrap();
    assert_eq!(s.looker.page_size, None);
    assert!(s.pipelines_dir.ends_with("dlt/pipelines"));
}

// ---------------------------------------------------------------------------------------------
// Precedence

#[test]
fn precedence_flag_env_secrets_config_global() {
    let dirs = Dirs::new();
    let section = |n: u32| format!("[sources.looker_data_source]\npage_size = {n}\n");
    dirs.global("config.toml", &section(1));
    dirs.global("secrets.toml", &section(2));
    dirs.project("config.toml", &section(3));
    dirs.project("secrets.toml", &section(4));
    let env = [("SOURCES__LOOKER_DATA_SOURCE__PAGE_SIZE", "5")];
    let flags = Overrides {
        page_size: Some(6),
        ..Overrides::default()
    };

    let s = dirs.load_with(&env, &flags).unwrap();
    assert_eq!(s.looker.page_size, Some(6));
    assert_eq!(
        s.origins["sources.looker_data_source.page_size"],
        Origin::CommandLine { flag: "--page-size" }
    );

    let s = dirs.ok(&env);
    assert_eq!(s.looker.page_size, Some(5));
    assert_eq!(
        s.origins["sources.looker_data_source.page_size"],
        env_origin("SOURCES__LOOKER_DATA_SOURCE__PAGE_SIZE")
    );

    let key = "sources.looker_data_source.page_size";
    let s = dirs.ok(&[]);
    assert_eq!(s.looker.page_size, Some(4));
    assert_eq!(
        s.origins[key],
        file_origin(dirs.project_file("secrets.toml"), key)
    );

    std::fs::remove_file(dirs.project_file("secrets.toml")).unwrap();
    let s = dirs.ok(&[]);
    assert_eq!(s.looker.page_size, Some(3));
    assert_eq!(s.origins[key], file_origin(dirs.project_file("config.toml"), key));

    std::fs::remove_file(dirs.project_file("config.toml")).unwrap();
    let s = dirs.ok(&[]);
    assert_eq!(s.looker.page_size, Some(2));
    assert_eq!(s.origins[key], file_origin(dirs.global_file("secrets.toml"), key));

    std::fs::remove_file(dirs.global_file("secrets.toml")).unwrap();
    let s = dirs.ok(&[]);
    assert_eq!(s.looker.page_size, Some(1));
    assert_eq!(s.origins[key], file_origin(dirs.global_file("config.toml"), key));
}

#[test]
fn precedence_of_secrets() {
    let dirs = Dirs::new();
    let section = |v: &str| format!("[sources.looker_data_source]\nclient_secret = \"{v}\"\n");
    dirs.global("secrets.toml", &section("global"));
    dirs.project("secrets.toml", &section("project"));
    let secret = |s: &Settings| {
        s.looker
            .client_secret
            .as_ref()
            .unwrap()
            .expose_secret()
            .to_owned()
    };

    assert_eq!(
        secret(&dirs.ok(&[("SOURCES__LOOKER_DATA_SOURCE__CLIENT_SECRET", "env")])),
        "env"
    );
    assert_eq!(secret(&dirs.ok(&[])), "project");
    std::fs::remove_file(dirs.project_file("secrets.toml")).unwrap();
    assert_eq!(secret(&dirs.ok(&[])), "global");
}

#[test]
fn project_config_beats_global_secrets_for_plain_keys() {
    let dirs = Dirs::new();
    dirs.global(
        "secrets.toml",
        "[sources.looker_data_source]\nclient_id = \"global\"\n",
    );
    dirs.project(
        "config.toml",
        "[sources.looker_data_source]\nclient_id = \"project\"\n",
    );
    assert_eq!(dirs.ok(&[]).looker.client_id.as_deref(), Some("project"));
}

#[test]
fn flags_override_pipeline_settings() {
    let dirs = Dirs::new();
    dirs.project(
        "config.toml",
        "pipeline_name = \"from_file\"\ndataset_name = \"file_ds\"\npipelines_dir = \"/file\"\n\
         [pipeline]\ndestination = \"bigquery\"\n",
    );
    let env = [("DATASET_NAME", "env_ds"), ("DESTINATION", "snowflake")];
    let s = dirs.ok(&env);
    assert_eq!(s.pipeline_name, "from_file");
    assert_eq!(s.dataset_name, "env_ds");
    assert_eq!(s.pipelines_dir, Path::new("/file"));
    assert_eq!(s.destination, DestinationKind::Snowflake);

    let flags = Overrides {
        destination: Some(DestinationKind::Filesystem),
        pipeline_name: Some("from_flag".to_owned()),
        dataset_name: Some("flag_ds".to_owned()),
        pipelines_dir: Some(PathBuf::from("/flag")),
        resources: Some(vec!["users".to_owned(), "looks".to_owned()]),
        request_timeout: Some(Duration::from_millis(2500)),
        ..Overrides::default()
    };
    let s = dirs.load_with(&env, &flags).unwrap();
    assert_eq!(s.pipeline_name, "from_flag");
    assert_eq!(s.dataset_name, "flag_ds");
    assert_eq!(s.pipelines_dir, Path::new("/flag"));
    assert_eq!(s.destination, DestinationKind::Filesystem);
    assert_eq!(
        s.looker.resources.as_deref(),
        Some(&["users".to_owned(), "looks".to_owned()][..])
    );
    assert_eq!(s.looker.request_timeout, Some(Duration::from_millis(2500)));
    assert_eq!(s.duckdb.path, Path::new("from_flag.duckdb"));
    assert_eq!(
        s.origins["destination"],
        Origin::CommandLine {
            flag: "--destination"
        }
    );
}

#[test]
fn flags_are_checked_like_other_values() {
    let dirs = Dirs::new();
    let flags = Overrides {
        page_size: Some(0),
        ..Overrides::default()
    };
    let err = dirs.load_with(&[], &flags).unwrap_err();
    assert!(
        matches!(
            &err,
            ConfigError::Invalid {
                origin: Origin::CommandLine { flag: "--page-size" },
                ..
            }
        ),
        "{err:?}"
    );
    let flags = Overrides {
        pipeline_name: Some("a/b".to_owned()),
        ..Overrides::default()
    };
    assert!(matches!(
        dirs.load_with(&[], &flags),
        Err(ConfigError::Invalid { .. })
    ));
    let flags = Overrides {
        resources: Some(vec!["Users".to_owned()]),
        ..Overrides::default()
    };
    assert!(matches!(
        dirs.load_with(&[], &flags),
        Err(ConfigError::Invalid { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// dlt section paths

#[test]
fn every_dlt_section_path_is_read_from_toml() {
    for section in [
        "sources.looker.looker_data_source",
        "sources.looker",
        "sources.looker_data_source",
        "sources",
    ] {
        let dirs = Dirs::new();
        dirs.project(
            "secrets.toml",
            &format!("[{section}]\nclient_id = \"id-{section}\"\n"),
        );
        let s = dirs.ok(&[]);
        assert_eq!(
            s.looker.client_id.as_deref(),
            Some(format!("id-{section}").as_str())
        );
        assert_eq!(
            s.origins["sources.looker_data_source.client_id"],
            file_origin(dirs.project_file("secrets.toml"), &format!("{section}.client_id"))
        );
    }
}

#[test]
fn most_specific_section_wins_within_a_file() {
    let dirs = Dirs::new();
    dirs.project(
        "secrets.toml",
        "[sources]\nclient_id = \"d\"\n\
         [sources.looker_data_source]\nclient_id = \"c\"\n\
         [sources.looker]\nclient_id = \"b\"\n\
         [sources.looker.looker_data_source]\nclient_id = \"a\"\n",
    );
    assert_eq!(dirs.ok(&[]).looker.client_id.as_deref(), Some("a"));
    dirs.project(
        "secrets.toml",
        "[sources]\nclient_id = \"d\"\n\
         [sources.looker_data_source]\nclient_id = \"c\"\n\
         [sources.looker]\nclient_id = \"b\"\n",
    );
    assert_eq!(dirs.ok(&[]).looker.client_id.as_deref(), Some("b"));
    dirs.project(
        "secrets.toml",
        "[sources]\nclient_id = \"d\"\n[sources.looker_data_source]\nclient_id = \"c\"\n",
    );
    assert_eq!(dirs.ok(&[]).looker.client_id.as_deref(), Some("c"));
}

#[test]
fn every_dlt_env_form_is_read() {
    let dirs = Dirs::new();
    for name in [
        "SOURCES__LOOKER__LOOKER_DATA_SOURCE__CLIENT_ID",
        "SOURCES__LOOKER__CLIENT_ID",
        "SOURCES__LOOKER_DATA_SOURCE__CLIENT_ID",
        "SOURCES__CLIENT_ID",
    ] {
        let s = dirs.ok(&[(name, name)]);
        assert_eq!(s.looker.client_id.as_deref(), Some(name));
        assert_eq!(
            s.origins["sources.looker_data_source.client_id"],
            env_origin(name)
        );
    }
    // Most specific first.
    let s = dirs.ok(&[
        ("SOURCES__CLIENT_ID", "d"),
        ("SOURCES__LOOKER_DATA_SOURCE__CLIENT_ID", "c"),
        ("SOURCES__LOOKER__CLIENT_ID", "b"),
    ]);
    assert_eq!(s.looker.client_id.as_deref(), Some("b"));
}

#[test]
fn providers_come_before_sections() {
    // As in dlt: the least specific env form beats the most specific file section.
    let dirs = Dirs::new();
    dirs.project(
        "secrets.toml",
        "[sources.looker.looker_data_source]\nclient_id = \"file\"\n",
    );
    let s = dirs.ok(&[("SOURCES__CLIENT_ID", "env")]);
    assert_eq!(s.looker.client_id.as_deref(), Some("env"));
}

#[test]
fn bare_keys_are_not_read() {
    let dirs = Dirs::new();
    dirs.project(
        "secrets.toml",
        "client_id = \"bare\"\nbase_url = \"https://x.looker.com\"\n",
    );
    let s = dirs.ok(&[
        ("CLIENT_ID", "bare-env"),
        ("RESOURCES", "users"),
        ("PAGE_SIZE", "x"),
    ]);
    assert_eq!(s.looker.client_id, None);
    assert_eq!(s.looker.base_url, None);
    assert_eq!(s.looker.resources, None);
    assert_eq!(s.looker.page_size, None);
}

#[test]
fn pipeline_scoped_sections_come_first() {
    let dirs = Dirs::new();
    dirs.project(
        "config.toml",
        "pipeline_name = \"my_pipe\"\n[my_pipe.sources.looker_data_source]\npage_size = 7\n",
    );
    // Scoped config beats unscoped env, as in dlt.
    let s = dirs.ok(&[("SOURCES__LOOKER_DATA_SOURCE__PAGE_SIZE", "5")]);
    assert_eq!(s.looker.page_size, Some(7));
    // Scoped env beats scoped file.
    let s = dirs.ok(&[("MY_PIPE__SOURCES__LOOKER__PAGE_SIZE", "9")]);
    assert_eq!(s.looker.page_size, Some(9));
    // Another pipeline's scope is not read.
    let flags = Overrides {
        pipeline_name: Some("other".to_owned()),
        ..Overrides::default()
    };
    assert_eq!(dirs.load_with(&[], &flags).unwrap().looker.page_size, None);
}

// ---------------------------------------------------------------------------------------------
// Destination and staging

#[test]
fn destination_forms() {
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
    let cases: [Case<'_>; 8] = [
        ("top-level destination", "destination = \"bigquery\"\n", &[]),
        (
            "[pipeline] destination",
            "[pipeline]\ndestination = \"bigquery\"\n",
            &[],
        ),
        (
            "top-level destination_type",
            "destination_type = \"bigquery\"\n",
            &[],
        ),
        (
            "[pipelines.<name>] destination_type",
            "[pipelines.looker_data_pipeline]\ndestination_type = \"bigquery\"\n",
            &[],
        ),
        (
            "dlt reference",
            "destination = \"dlt.destinations.bigquery\"\n",
            &[],
        ),
        ("DESTINATION", "", &[("DESTINATION", "bigquery")]),
        ("DESTINATION_TYPE", "", &[("DESTINATION_TYPE", "BigQuery")]),
        (
            "PIPELINES__<NAME>__DESTINATION_TYPE",
            "",
            &[("PIPELINES__LOOKER_DATA_PIPELINE__DESTINATION_TYPE", "bigquery")],
        ),
    ];
    for (what, toml, env) in cases {
        let dirs = Dirs::new();
        dirs.project("config.toml", toml);
        let s = dirs.ok(env);
        assert_eq!(s.destination, DestinationKind::Bigquery, "{what}");
    }
}

#[test]
fn destination_table_is_a_section_not_the_name() {
    let dirs = Dirs::new();
    dirs.project(
        "config.toml",
        "[pipeline]\ndestination = \"filesystem\"\n[destination.duckdb]\ncredentials = \"x.duckdb\"\n",
    );
    let s = dirs.ok(&[]);
    assert_eq!(s.destination, DestinationKind::Filesystem);
    assert_eq!(s.duckdb.path, Path::new("x.duckdb"));
    // `destination` beats `destination_type` at the same place; env beats files.
    dirs.project(
        "config.toml",
        "destination = \"filesystem\"\ndestination_type = \"bigquery\"\n",
    );
    assert_eq!(dirs.ok(&[]).destination, DestinationKind::Filesystem);
    assert_eq!(
        dirs.ok(&[("DESTINATION_TYPE", "snowflake")]).destination,
        DestinationKind::Snowflake
    );
}

#[test]
fn unknown_destination_lists_valid_names() {
    let dirs = Dirs::new();
    dirs.project("config.toml", "destination = \"mysql\"\n");
    let err = dirs.err(&[]);
    let text = err.to_string();
    assert!(
        matches!(err, ConfigError::Invalid { ref key, .. } if key == "destination"),
        "{err:?}"
    );
    assert!(text.contains("\"mysql\""), "{text}");
    assert!(
        text.contains("duckdb, postgres, bigquery, snowflake, redshift, databricks, filesystem"),
        "{text}"
    );
    assert!(
        text.contains(&dirs.project_file("config.toml").display().to_string()),
        "{text}"
    );

    let err = dirs.err(&[("DESTINATION", "postgresql")]);
    assert!(err.to_string().contains("did you mean `postgres`?"), "{err}");
    assert!(
        err.to_string().contains("environment variable DESTINATION"),
        "{err}"
    );

    let parse = "mysql".parse::<DestinationKind>().unwrap_err();
    assert_eq!(parse.valid.len(), 7);
    assert!(
        parse
            .to_string()
            .starts_with("unknown destination `mysql`: expected one of duckdb")
    );
}

#[test]
fn staging_must_be_filesystem() {
    let dirs = Dirs::new();
    dirs.project("config.toml", "staging = \"filesystem\"\n");
    assert_eq!(dirs.ok(&[]).staging, Some(DestinationKind::Filesystem));
    assert_eq!(
        dirs.ok(&[("STAGING_TYPE", "filesystem")]).staging,
        Some(DestinationKind::Filesystem)
    );
    let err = dirs.err(&[("STAGING", "postgres")]);
    assert!(
        err.to_string()
            .contains("filesystem (the only staging destination)"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// DuckDB

#[test]
fn duckdb_credentials_forms() {
    let dirs = Dirs::new();
    dirs.project(
        "config.toml",
        "[destination.duckdb]\ncredentials = \"data/my.duckdb\"\n",
    );
    assert_eq!(dirs.ok(&[]).duckdb.path, Path::new("data/my.duckdb"));

    let s = dirs.ok(&[("DESTINATION__DUCKDB__CREDENTIALS", "duckdb:///rel.duckdb")]);
    assert_eq!(s.duckdb.path, Path::new("rel.duckdb"));
    assert_eq!(
        s.origins["destination.duckdb.credentials"],
        env_origin("DESTINATION__DUCKDB__CREDENTIALS")
    );
    let s = dirs.ok(&[("DESTINATION__DUCKDB__CREDENTIALS", "duckdb:////abs/x.duckdb")]);
    assert_eq!(s.duckdb.path, Path::new("/abs/x.duckdb"));
    let s = dirs.ok(&[("DESTINATION__DUCKDB__CREDENTIALS", ":pipeline:")]);
    assert_eq!(s.duckdb.path, s.working_dir().join("looker_data_pipeline.duckdb"));

    dirs.project(
        "config.toml",
        "[destination.duckdb.credentials]\ndatabase = \"t.duckdb\"\n",
    );
    assert_eq!(dirs.ok(&[]).duckdb.path, Path::new("t.duckdb"));

    let err = dirs.err(&[("DESTINATION__DUCKDB__CREDENTIALS", ":memory:")]);
    assert!(err.to_string().contains("in-memory"), "{err}");

    // Scoped by the pipeline name first, as dlt does.
    dirs.project(
        "config.toml",
        "[destination.duckdb]\ncredentials = \"plain.duckdb\"\n\
         [looker_data_pipeline.destination.duckdb]\ncredentials = \"scoped.duckdb\"\n",
    );
    assert_eq!(dirs.ok(&[]).duckdb.path, Path::new("scoped.duckdb"));
    // ... even over the unscoped environment variable.
    let s = dirs.ok(&[("DESTINATION__DUCKDB__CREDENTIALS", "env.duckdb")]);
    assert_eq!(s.duckdb.path, Path::new("scoped.duckdb"));
}

#[test]
fn duckdb_uses_shared_fallbacks_only_when_chosen() {
    let dirs = Dirs::new();
    dirs.project(
        "secrets.toml",
        "[destination.credentials]\ndatabase = \"shared.duckdb\"\n",
    );
    assert_eq!(dirs.ok(&[]).duckdb.path, Path::new("shared.duckdb"));
    // With another destination the shared section is not a DuckDB path.
    let s = dirs.ok(&[("DESTINATION", "bigquery")]);
    assert_eq!(s.duckdb.path, Path::new("looker_data_pipeline.duckdb"));
}

// ---------------------------------------------------------------------------------------------
// Postgres

#[test]
fn postgres_from_toml_fields() {
    let dirs = Dirs::new();
    dirs.project(
        "config.toml",
        "[destination.postgres.credentials]\ndatabase = \"dlt_data\"\nusername = \"loader\"\n\
         host = \"db.internal\"\nconnect_timeout = 5\nsslmode = \"verify-full\"\n",
    );
    dirs.project(
        "secrets.toml",
        "[destination.postgres.credentials]\npassword = \"  pw \"\n",
    );
    let s = dirs.ok(&[PG_ENV]);
    let pg = s.postgres.as_ref().unwrap();
    assert_eq!(pg.host, "db.internal");
    assert_eq!(pg.port, 5432);
    assert_eq!(pg.database, "dlt_data");
    assert_eq!(pg.username, "loader");
    assert_eq!(pg.password.as_ref().unwrap().expose_secret(), "pw");
    assert_eq!(pg.connect_timeout, Duration::from_secs(5));
    assert_eq!(pg.sslmode, SslMode::VerifyFull);
    assert_eq!(
        s.origins["destination.postgres.credentials.port"],
        Origin::Default
    );
    assert_eq!(
        pg.to_string(),
        "postgresql://loader:***@db.internal:5432/dlt_data"
    );
}

#[test]
fn postgres_connection_string_with_port_sslmode_and_encoded_password() {
    let dirs = Dirs::new();
    let s = dirs.ok(&[
        PG_ENV,
        (
            "DESTINATION__POSTGRES__CREDENTIALS",
            "postgresql://load%40er:p%40ss%3Aw%2Frd@db.example.com:6543/my%20db?sslmode=require&connect_timeout=3",
        ),
    ]);
    let pg = s.postgres.unwrap();
    assert_eq!(pg.username, "load@er");
    assert_eq!(pg.password.unwrap().expose_secret(), "p@ss:w/rd");
    assert_eq!(pg.host, "db.example.com");
    assert_eq!(pg.port, 6543);
    assert_eq!(pg.database, "my db");
    assert_eq!(pg.sslmode, SslMode::Require);
    assert_eq!(pg.connect_timeout, Duration::from_secs(3));
}

#[test]
fn postgres_connection_string_without_port_or_password() {
    let dirs = Dirs::new();
    let s = dirs.ok(&[
        PG_ENV,
        (
            "DESTINATION__POSTGRES__CREDENTIALS",
            "postgres://loader@localhost/dlt",
        ),
    ]);
    let pg = s.postgres.unwrap();
    assert_eq!(
        (pg.host.as_str(), pg.port, pg.database.as_str()),
        ("localhost", 5432, "dlt")
    );
    assert!(pg.password.is_none());
    assert_eq!(pg.sslmode, SslMode::Prefer);
}

#[test]
fn postgres_connection_string_in_secrets_toml_and_field_overrides() {
    let dirs = Dirs::new();
    dirs.project(
        "secrets.toml",
        "[destination.postgres]\ncredentials = \"postgresql://u:secret@h:5433/db\"\n",
    );
    let s = dirs.ok(&[PG_ENV]);
    let pg = s.postgres.unwrap();
    assert_eq!((pg.port, pg.password.unwrap().expose_secret()), (5433, "secret"));
    // A field key in the environment beats the string in the file.
    let s = dirs.ok(&[PG_ENV, ("DESTINATION__POSTGRES__CREDENTIALS__PORT", "7000")]);
    assert_eq!(s.postgres.unwrap().port, 7000);
    // At the same place, the field key beats the string.
    let s = dirs.ok(&[
        PG_ENV,
        (
            "DESTINATION__POSTGRES__CREDENTIALS",
            "postgresql://u:p@env-host/db",
        ),
        ("DESTINATION__POSTGRES__CREDENTIALS__HOST", "field-host"),
    ]);
    assert_eq!(s.postgres.unwrap().host, "field-host");
    // An env connection string beats fields in files.
    dirs.project(
        "secrets.toml",
        "[destination.postgres.credentials]\nhost = \"file-host\"\ndatabase = \"fdb\"\nusername = \"fu\"\n",
    );
    let s = dirs.ok(&[
        PG_ENV,
        (
            "DESTINATION__POSTGRES__CREDENTIALS",
            "postgresql://eu@env-host/edb",
        ),
    ]);
    let pg = s.postgres.unwrap();
    assert_eq!(
        (pg.host.as_str(), pg.database.as_str(), pg.username.as_str()),
        ("env-host", "edb", "eu")
    );
    assert_eq!(
        s.origins["destination.postgres.credentials.host"],
        env_origin("DESTINATION__POSTGRES__CREDENTIALS")
    );
}

#[test]
fn postgres_dlt_fallback_sections() {
    let dirs = Dirs::new();
    dirs.project(
        "secrets.toml",
        "[destination.credentials]\nhost = \"shared-host\"\ndatabase = \"db\"\n\
         [credentials]\nusername = \"bare-user\"\nhost = \"ignored\"\n",
    );
    let s = dirs.ok(&[PG_ENV]);
    let pg = s.postgres.unwrap();
    assert_eq!(pg.host, "shared-host");
    assert_eq!(pg.username, "bare-user");
    let s = dirs.ok(&[
        PG_ENV,
        ("CREDENTIALS__PASSWORD", "pw"),
        ("DESTINATION__CREDENTIALS__PORT", "1"),
    ]);
    let pg = s.postgres.unwrap();
    assert_eq!(pg.password.unwrap().expose_secret(), "pw");
    assert_eq!(pg.port, 1);
}

#[test]
fn postgres_missing_and_bad_values() {
    let dirs = Dirs::new();
    let err = dirs.err(&[PG_ENV]);
    assert_eq!(
        err.to_string(),
        "missing host: set `host` under [destination.postgres.credentials] in .dlt/secrets.toml or \
         the environment variable DESTINATION__POSTGRES__CREDENTIALS__HOST (or a whole connection \
         string postgresql://user:password@host:port/database in DESTINATION__POSTGRES__CREDENTIALS)"
    );
    let base = [
        PG_ENV,
        ("DESTINATION__POSTGRES__CREDENTIALS__HOST", "h"),
        ("DESTINATION__POSTGRES__CREDENTIALS__DATABASE", "d"),
        ("DESTINATION__POSTGRES__CREDENTIALS__USERNAME", "u"),
    ];
    assert!(dirs.load(&base).is_ok());
    for (name, value, needle) in [
        (
            "DESTINATION__POSTGRES__CREDENTIALS__PORT",
            "70000",
            "whole number",
        ),
        (
            "DESTINATION__POSTGRES__CREDENTIALS__SSLMODE",
            "requir",
            "did you mean `require`?",
        ),
        (
            "DESTINATION__POSTGRES__CREDENTIALS__CONNECT_TIMEOUT",
            "0",
            "more than zero",
        ),
    ] {
        let mut env = base.to_vec();
        env.push((name, value));
        let err = dirs.load(&env).unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
        assert!(err.to_string().contains(name), "{err}");
    }
}

#[test]
fn postgres_bad_connection_string_never_shows_the_password() {
    let dirs = Dirs::new();
    for url in [
        "postgresql://u:hunter2@h:notaport/db",
        "postgresql://u:hunter2@h/db?sslmode=sometimes",
        "postgresql://u:hunter2@h/db?host=x",
        "mysql://u:hunter2@h/db",
    ] {
        let err = dirs.err(&[PG_ENV, ("DESTINATION__POSTGRES__CREDENTIALS", url)]);
        let text = err.to_string();
        assert!(matches!(err, ConfigError::Invalid { .. }), "{err:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!format!("{err:?}").contains("hunter2"));
        assert!(
            text.contains("postgresql://user:password@host:5432/database"),
            "{text}"
        );
    }
}

#[test]
fn postgres_not_resolved_for_other_destinations() {
    let dirs = Dirs::new();
    dirs.project(
        "secrets.toml",
        "[destination.postgres.credentials]\nhost = \"h\"\ndatabase = \"d\"\nusername = \"u\"\nport = \"bad\"\n",
    );
    assert!(dirs.ok(&[]).postgres.is_none());
    let err = dirs.err(&[PG_ENV]);
    assert!(
        matches!(&err, ConfigError::Invalid { key, .. } if key == "destination.postgres.credentials.port"),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Looker values

#[test]
fn resources_list_forms() {
    let dirs = Dirs::new();
    let want = vec!["users".to_owned(), "looks".to_owned()];
    for text in [
        r#"["users","looks"]"#,
        "['users', 'looks']",
        "('users', 'looks')",
        "users,looks",
        " users , looks ,",
        "users,looks,users",
    ] {
        let s = dirs.ok(&[("SOURCES__LOOKER_DATA_SOURCE__RESOURCES", text)]);
        assert_eq!(s.looker.resources.as_ref(), Some(&want), "{text}");
    }
    let s = dirs.ok(&[("SOURCES__LOOKER_DATA_SOURCE__RESOURCES", "users")]);
    assert_eq!(s.looker.resources, Some(vec!["users".to_owned()]));

    dirs.project(
        "config.toml",
        "[sources.looker_data_source]\nresources = [\"users\", \"looks\"]\n",
    );
    assert_eq!(dirs.ok(&[]).looker.resources.as_ref(), Some(&want));
    dirs.project(
        "config.toml",
        "[sources.looker_data_source]\nresources = \"users,looks\"\n",
    );
    assert_eq!(dirs.ok(&[]).looker.resources.as_ref(), Some(&want));

    for bad in ["[users]", "['users'", "[]", ",", "Users", "users;looks"] {
        let err = dirs.err(&[("SOURCES__LOOKER_DATA_SOURCE__RESOURCES", bad)]);
        assert!(matches!(err, ConfigError::Invalid { .. }), "{bad}: {err:?}");
    }
    dirs.project(
        "config.toml",
        "[sources.looker_data_source]\nresources = [\"users\", 3]\n",
    );
    assert!(matches!(dirs.err(&[]), ConfigError::Invalid { .. }));
}

#[test]
fn numbers_and_durations() {
    let dirs = Dirs::new();
    let s = dirs.ok(&[
        ("SOURCES__LOOKER_DATA_SOURCE__PAGE_SIZE", " 500 "),
        ("SOURCES__LOOKER_DATA_SOURCE__MAX_ATTEMPTS", "3"),
        ("SOURCES__LOOKER_DATA_SOURCE__REQUEST_TIMEOUT", "1.5"),
        ("SOURCES__LOOKER_DATA_SOURCE__MAX_RETRY_DELAY", "0"),
        ("SOURCES__LOOKER_DATA_SOURCE__CONCURRENCY", "16"),
    ]);
    assert_eq!(s.looker.page_size, Some(500));
    assert_eq!(s.looker.max_attempts, Some(3));
    assert_eq!(s.looker.request_timeout, Some(Duration::from_millis(1500)));
    assert_eq!(s.looker.max_retry_delay, Some(Duration::ZERO));
    assert_eq!(s.looker.concurrency, Some(16));

    dirs.project(
        "config.toml",
        "[sources.looker_data_source]\npage_size = \"250\"\nrequest_timeout = 30\nmax_retry_delay = 2.5\n",
    );
    let s = dirs.ok(&[]);
    assert_eq!(s.looker.page_size, Some(250));
    assert_eq!(s.looker.request_timeout, Some(Duration::from_secs(30)));
    assert_eq!(s.looker.max_retry_delay, Some(Duration::from_millis(2500)));
}

#[test]
fn bad_numbers_name_key_origin_and_expectation() {
    let dirs = Dirs::new();
    dirs.project(
        "config.toml",
        "[sources.looker_data_source]\npage_size = \"abc\"\n",
    );
    let err = dirs.err(&[]);
    let file = dirs.project_file("config.toml");
    assert_eq!(
        err.to_string(),
        format!(
            "invalid sources.looker_data_source.page_size from `sources.looker_data_source.page_size` in {}: \
             got \"abc\", expected a whole number of at least 1",
            file.display()
        )
    );
    for (name, value) in [
        ("SOURCES__LOOKER_DATA_SOURCE__PAGE_SIZE", "0"),
        ("SOURCES__LOOKER_DATA_SOURCE__PAGE_SIZE", "-1"),
        ("SOURCES__LOOKER_DATA_SOURCE__PAGE_SIZE", "1.5"),
        ("SOURCES__LOOKER_DATA_SOURCE__MAX_ATTEMPTS", "many"),
        ("SOURCES__LOOKER_DATA_SOURCE__REQUEST_TIMEOUT", "0"),
        ("SOURCES__LOOKER_DATA_SOURCE__REQUEST_TIMEOUT", "-3"),
        ("SOURCES__LOOKER_DATA_SOURCE__REQUEST_TIMEOUT", "NaN"),
        ("SOURCES__LOOKER_DATA_SOURCE__CONCURRENCY", "0"),
    ] {
        std::fs::remove_file(&file).ok();
        let err = dirs.err(&[(name, value)]);
        assert!(
            matches!(&err, ConfigError::Invalid { origin: Origin::Environment { name: n }, .. } if n == name),
            "{name}={value}: {err:?}"
        );
    }
    dirs.project("config.toml", "[sources.looker_data_source]\npage_size = 10.0\n");
    assert!(dirs.err(&[]).to_string().contains("got 10.0"));
}

#[test]
fn base_url_is_checked() {
    let dirs = Dirs::new();
    let s = dirs.ok(&[(
        "SOURCES__LOOKER_DATA_SOURCE__BASE_URL",
        "https://acme.cloud.looker.com:19999",
    )]);
    assert_eq!(
        s.looker.base_url.unwrap().as_str(),
        "https://acme.cloud.looker.com:19999/"
    );
    for bad in [
        "acme.looker.com",
        "ftp://acme.looker.com",
        "https://acme.looker.com/?x=1",
        "https://user:hunter2@acme.looker.com",
    ] {
        let err = dirs.err(&[("SOURCES__LOOKER_DATA_SOURCE__BASE_URL", bad)]);
        assert!(matches!(err, ConfigError::Invalid { .. }), "{bad}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}

#[test]
fn require_credentials_names_key_and_env() {
    let dirs = Dirs::new();
    let s = dirs.ok(&[]);
    assert_eq!(
        s.looker.require_credentials().unwrap_err().to_string(),
        "missing base_url: set `base_url` under [sources.looker_data_source] in .dlt/config.toml \
         or the environment variable SOURCES__LOOKER_DATA_SOURCE__BASE_URL"
    );
    dirs.project(
        "config.toml",
        "[sources.looker_data_source]\nbase_url = \"https://x.looker.com\"\n",
    );
    let err = dirs.ok(&[]).looker.require_credentials().unwrap_err();
    assert_eq!(
        err.to_string(),
        "missing client_id: set `client_id` under [sources.looker_data_source] in .dlt/secrets.toml \
         or the environment variable SOURCES__LOOKER_DATA_SOURCE__CLIENT_ID"
    );
    assert!(matches!(
        err,
        ConfigError::Missing { ref key, ref env, .. }
            if key == "client_id" && env == "SOURCES__LOOKER_DATA_SOURCE__CLIENT_ID"
    ));
    let s = dirs.ok(&[("SOURCES__LOOKER_DATA_SOURCE__CLIENT_ID", "id")]);
    assert!(s.looker.require_credentials().unwrap_err().to_string().starts_with(
        "missing client_secret: set `client_secret` under [sources.looker_data_source] in .dlt/secrets.toml"
    ));

    let s = dirs.ok(&[("SOURCES__LOOKER_DATA_SOURCE__ACCESS_TOKEN", "tok")]);
    let creds = s.looker.require_credentials().unwrap();
    assert!(matches!(creds.auth, Credentials::AccessToken(ref t) if t.expose_secret() == "tok"));

    let s = dirs.ok(&[
        ("SOURCES__LOOKER_DATA_SOURCE__ACCESS_TOKEN", "tok"),
        ("SOURCES__LOOKER_DATA_SOURCE__CLIENT_ID", "id"),
        ("SOURCES__LOOKER_DATA_SOURCE__CLIENT_SECRET", "sec"),
    ]);
    let creds = s.looker.require_credentials().unwrap();
    assert_eq!(creds.base_url.as_str(), "https://x.looker.com/");
    match creds.auth {
        Credentials::ClientCredentials {
            client_id,
            client_secret,
        } => {
            assert_eq!((client_id.as_str(), client_secret.expose_secret()), ("id", "sec"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn dlt_placeholders_and_empty_values_are_refused() {
    let dirs = Dirs::new();
    dirs.project(
        "secrets.toml",
        "[sources.looker_data_source]\nclient_secret = \"<configure me>\"\n",
    );
    let err = dirs.err(&[]);
    assert!(
        err.to_string().contains("placeholder written by `dlt init`"),
        "{err}"
    );
    assert!(err.to_string().contains("got <redacted>"), "{err}");
    let err = dirs.err(&[("SOURCES__LOOKER_DATA_SOURCE__CLIENT_ID", "  ")]);
    assert!(err.to_string().contains("a non-empty string"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Resource hints

#[test]
fn resource_hints_from_toml_and_env() {
    let dirs = Dirs::new();
    dirs.project(
        "config.toml",
        "[sources.looker_data_source.resources.users]\nwrite_disposition = \"merge\"\nprimary_key = \"id\"\n\
         [sources.looker_data_source.resources.looks]\nprimary_key = [\"id\", \"space_id\"]\n",
    );
    let s = dirs.ok(&[
        ("SOURCES__LOOKER_DATA_SOURCE__RESOURCES", "users,looks"),
        (
            "SOURCES__LOOKER_DATA_SOURCE__RESOURCES__LOOKS__WRITE_DISPOSITION",
            "append",
        ),
        ("SOURCES__LOOKER__RESOURCES__DASHBOARDS__PRIMARY_KEY", r#"["id"]"#),
        ("SOURCES__RESOURCES__FOLDERS__PRIMARY_KEY", "id,name"),
    ]);
    assert_eq!(
        s.looker.resources,
        Some(vec!["users".to_owned(), "looks".to_owned()])
    );
    let users = &s.resources["users"];
    assert_eq!(users.write_disposition, Some(WriteDisposition::Merge));
    assert_eq!(users.primary_key, Some(vec!["id".to_owned()]));
    let looks = &s.resources["looks"];
    assert_eq!(looks.write_disposition, Some(WriteDisposition::Append));
    assert_eq!(
        looks.primary_key,
        Some(vec!["id".to_owned(), "space_id".to_owned()])
    );
    assert_eq!(s.resources["dashboards"].primary_key, Some(vec!["id".to_owned()]));
    assert_eq!(
        s.resources["folders"].primary_key,
        Some(vec!["id".to_owned(), "name".to_owned()])
    );
    assert_eq!(s.resources.len(), 4);
    assert_eq!(
        s.origins["sources.looker_data_source.resources.looks.write_disposition"],
        env_origin("SOURCES__LOOKER_DATA_SOURCE__RESOURCES__LOOKS__WRITE_DISPOSITION")
    );
    // Env beats the file for the same hint.
    let s = dirs.ok(&[(
        "SOURCES__LOOKER_DATA_SOURCE__RESOURCES__USERS__WRITE_DISPOSITION",
        "replace",
    )]);
    assert_eq!(
        s.resources["users"].write_disposition,
        Some(WriteDisposition::Replace)
    );
}

#[test]
fn bad_resource_hints() {
    let dirs = Dirs::new();
    dirs.project(
        "config.toml",
        "[sources.looker_data_source.resources.users]\nwrite_disposition = \"upsert\"\n",
    );
    let err = dirs.err(&[]);
    assert!(err.to_string().contains("one of append, replace, merge"), "{err}");

    dirs.project(
        "config.toml",
        "[sources.looker_data_source.resources.users]\ntable_name = \"people\"\n",
    );
    let err = dirs.err(&[]);
    assert!(matches!(err, ConfigError::Unsupported { .. }), "{err:?}");
    assert!(err.to_string().contains("not applied by looker-load"), "{err}");

    dirs.project(
        "config.toml",
        "[sources.looker_data_source.resources.looks.columns]\nvis_config = { data_type = \"jsonb\" }\n",
    );
    let err = dirs.err(&[]);
    assert!(
        err.to_string()
            .contains("sources.looker_data_source.resources.looks.columns.vis_config.data_type"),
        "{err}"
    );

    dirs.project(
        "config.toml",
        "[sources.looker_data_source.resources.users]\nprimary_keys = \"id\"\n",
    );
    let err = dirs.err(&[]);
    assert!(
        err.to_string()
            .contains("did you mean `sources.looker_data_source.resources.users.primary_key`?"),
        "{err}"
    );

    std::fs::remove_file(dirs.project_file("config.toml")).unwrap();
    let err = dirs.err(&[(
        "SOURCES__LOOKER_DATA_SOURCE__RESOURCES__USERS__WRITE_DISPOSITON",
        "merge",
    )]);
    assert!(
        err.to_string()
            .contains("did you mean `SOURCES__LOOKER_DATA_SOURCE__RESOURCES__USERS__WRITE_DISPOSITION`?"),
        "{err}"
    );
    let err = dirs.err(&[(
        "SOURCES__LOOKER_DATA_SOURCE__RESOURCES__USERS__MAX_TABLE_NESTING",
        "two",
    )]);
    assert!(err.to_string().contains("a whole number of at least 0"), "{err}");
    let err = dirs.err(&[(
        "SOURCES__LOOKER_DATA_SOURCE__RESOURCES__USERS__SCHEMA_CONTRACT",
        "freeze",
    )]);
    assert!(matches!(err, ConfigError::Unsupported { .. }), "{err:?}");
}

#[test]
fn structured_hints_as_dlt_spells_them() {
    let dirs = Dirs::new();
    dirs.project(
        "config.toml",
        "[sources.looker_data_source.resources.looks]\nmax_table_nesting = 1\nmerge_key = \"folder_id\"\n\
         [sources.looker_data_source.resources.looks.columns]\nquery__filter_config = { data_type = \"json\" }\n\
         query__vis_config = { data_type = \"json\", nullable = true }\n\
         [sources.looker_data_source.resources.dashboards.nested_hints.dashboard_elements.columns]\n\
         vis_config = { data_type = \"json\" }\nquery__filters = { data_type = \"json\" }\n",
    );
    let s = dirs.ok(&[(
        "SOURCES__LOOKER_DATA_SOURCE__RESOURCES__QUERIES__COLUMNS",
        r#"{"vis_config": {"data_type": "json"}, "filters": {"data_type": "json"}, "id": {"primary_key": true}}"#,
    )]);
    let looks = &s.resources["looks"];
    assert_eq!(looks.max_table_nesting, Some(1));
    assert_eq!(looks.merge_key, Some(vec!["folder_id".to_owned()]));
    let names: Vec<&str> = looks.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["query__filter_config", "query__vis_config"]);
    assert!(
        looks
            .columns
            .iter()
            .all(|c| c.data_type == Some(normalize::DataType::Json))
    );
    let dashboards = &s.resources["dashboards"];
    let elements = &dashboards.nested_hints["dashboard_elements"];
    let names: Vec<&str> = elements.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["vis_config", "query__filters"]);
    let queries = &s.resources["queries"];
    let names: Vec<&str> = queries.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["vis_config", "filters"],
        "the environment's order is kept"
    );
    assert_eq!(queries.primary_key, Some(vec!["id".to_owned()]));
    assert_eq!(
        s.origins["sources.looker_data_source.resources.queries.columns"],
        env_origin("SOURCES__LOOKER_DATA_SOURCE__RESOURCES__QUERIES__COLUMNS")
    );
    let shown = s.to_string();
    assert!(
        shown.contains("resources.dashboards.nested_hints.dashboard_elements.columns: vis_config=json"),
        "{shown}"
    );
}

// ---------------------------------------------------------------------------------------------
// Secrets in config.toml

#[test]
fn secret_in_config_toml_is_refused() {
    for (section, key) in [
        ("[sources.looker_data_source]", "client_secret"),
        ("[sources.looker]", "access_token"),
        ("[destination.postgres.credentials]", "password"),
        ("[destination.bigquery.credentials]", "private_key"),
        ("[destination.filesystem.credentials]", "aws_secret_access_key"),
    ] {
        let dirs = Dirs::new();
        dirs.project("config.toml", &format!("{section}\n{key} = \"s3cr3t-value\"\n"));
        let err = dirs.err(&[]);
        let text = err.to_string();
        let file = dirs.project_file("config.toml");
        let dotted = format!("{}.{key}", section.trim_matches(['[', ']']));
        assert!(
            matches!(&err, ConfigError::SecretInConfig { file: f, key: k, .. } if *f == file && *k == dotted),
            "{err:?}"
        );
        assert!(text.contains(&file.display().to_string()), "{text}");
        assert!(text.contains(&format!("`{dotted}`")), "{text}");
        assert!(
            text.contains(&dirs.project_file("secrets.toml").display().to_string()),
            "{text}"
        );
        assert!(!text.contains("s3cr3t-value"), "{text}");
    }
}

#[test]
fn secret_in_global_config_toml_is_refused_even_if_set_elsewhere() {
    let dirs = Dirs::new();
    dirs.global(
        "config.toml",
        "[sources.looker_data_source]\nclient_secret = \"x\"\n",
    );
    let err = dirs.err(&[("SOURCES__LOOKER_DATA_SOURCE__CLIENT_SECRET", "y")]);
    assert!(
        matches!(&err, ConfigError::SecretInConfig { file, env, .. }
            if *file == dirs.global_file("config.toml") && env == "SOURCES__LOOKER_DATA_SOURCE__CLIENT_SECRET"),
        "{err:?}"
    );
}

#[test]
fn connection_strings_in_config_toml() {
    let dirs = Dirs::new();
    dirs.project(
        "config.toml",
        "[destination.postgres]\ncredentials = \"postgresql://u:pw@h/db\"\n",
    );
    assert!(matches!(dirs.err(&[]), ConfigError::SecretInConfig { .. }));
    // Without a password it is not a secret; the password comes from secrets.toml.
    dirs.project(
        "config.toml",
        "[destination.postgres]\ncredentials = \"postgresql://u@h/db\"\n",
    );
    dirs.project(
        "secrets.toml",
        "[destination.postgres.credentials]\npassword = \"pw\"\n",
    );
    let pg = dirs.ok(&[PG_ENV]).postgres.unwrap();
    assert_eq!(
        (pg.username.as_str(), pg.password.unwrap().expose_secret()),
        ("u", "pw")
    );
    // A DuckDB path is not a secret.
    dirs.project(
        "config.toml",
        "[destination.duckdb]\ncredentials = \"x.duckdb\"\n",
    );
    assert!(dirs.load(&[]).is_ok());
}

// ---------------------------------------------------------------------------------------------
// Unknown keys

#[test]
fn unknown_keys_in_our_sections_are_refused_with_a_suggestion() {
    let cases = [
        (
            "[sources.looker_data_source]\nclientid = \"x\"\n",
            "sources.looker_data_source.clientid",
            Some("sources.looker_data_source.client_id"),
        ),
        (
            "[sources.looker.looker_data_source]\npage_sise = 1\n",
            "sources.looker.looker_data_source.page_sise",
            Some("sources.looker.looker_data_source.page_size"),
        ),
        (
            "[sources.looker]\nwarehouse = 1\n",
            "sources.looker.warehouse",
            None,
        ),
        (
            "[destination.postgres.credentials]\npasword = \"x\"\n",
            "destination.postgres.credentials.pasword",
            Some("destination.postgres.credentials.password"),
        ),
        (
            "[destination.duckdb]\ncredential = \"x\"\n",
            "destination.duckdb.credential",
            Some("destination.duckdb.credentials"),
        ),
        (
            "[looker_data_pipeline.sources.looker_data_source]\nbase_ur = \"x\"\n",
            "looker_data_pipeline.sources.looker_data_source.base_ur",
            Some("looker_data_pipeline.sources.looker_data_source.base_url"),
        ),
    ];
    for (toml, key, suggestion) in cases {
        let dirs = Dirs::new();
        dirs.project("secrets.toml", toml);
        let err = dirs.err(&[]);
        match &err {
            ConfigError::UnknownKey {
                origin: Origin::File { key: k, .. },
                suggestion: s,
                ..
            } => {
                assert_eq!(k, key);
                assert_eq!(s.as_deref(), suggestion);
            }
            other => panic!("{toml}: {other:?}"),
        }
        let text = err.to_string();
        match suggestion {
            Some(s) => assert!(text.ends_with(&format!("did you mean `{s}`?")), "{text}"),
            None => assert!(text.contains("expected one of base_url, client_id"), "{text}"),
        }
    }
}

#[test]
fn unknown_env_keys_in_our_sections_are_refused() {
    let dirs = Dirs::new();
    for (name, suggestion) in [
        (
            "SOURCES__LOOKER_DATA_SOURCE__PAGESIZE",
            Some("SOURCES__LOOKER_DATA_SOURCE__PAGE_SIZE"),
        ),
        (
            "SOURCES__LOOKER__CLIENT_SECRETS",
            Some("SOURCES__LOOKER__CLIENT_SECRET"),
        ),
        (
            "DESTINATION__POSTGRES__CREDENTIALS__HOSTT",
            Some("DESTINATION__POSTGRES__CREDENTIALS__HOST"),
        ),
        (
            "DESTINATION__DUCKDB__CREDENTIAL",
            Some("DESTINATION__DUCKDB__CREDENTIALS"),
        ),
        (
            "LOOKER_DATA_PIPELINE__SOURCES__LOOKER_DATA_SOURCE__CONCURENCY",
            Some("SOURCES__LOOKER_DATA_SOURCE__CONCURRENCY"),
        ),
        ("SOURCES__LOOKER_DATA_SOURCE__NOPE_NOPE_NOPE", None),
    ] {
        let err = dirs.err(&[(name, "1")]);
        match &err {
            ConfigError::UnknownKey {
                origin,
                suggestion: s,
                ..
            } => {
                assert_eq!(*origin, env_origin(name));
                assert_eq!(s.as_deref(), suggestion, "{name}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn unrelated_sections_and_dlt_loader_keys_are_accepted() {
    let dirs = Dirs::new();
    dirs.project(
        "config.toml",
        "[runtime]\nlog_level = \"INFO\"\n[normalize]\nworkers = 3\n[extract]\nworkers = 2\n\
         [sources.other_source]\nanything = 1\n[destination.bigquery]\nlocation = \"EU\"\n\
         [destination.postgres]\ncreate_indexes = false\n[destination.duckdb.credentials]\nread_only = false\n\
         [pipelines.other]\nfull_refresh = true\n",
    );
    let s = dirs.ok(&[
        ("RUNTIME__LOG_LEVEL", "DEBUG"),
        ("SOURCES__OTHER__THING", "1"),
        ("DESTINATION__SNOWFLAKE__CREDENTIALS__WAREHOUSE", "w"),
        ("DESTINATION__POSTGRES__REPLACE_STRATEGY", "insert-from-staging"),
        ("lower_case__whatever", "x"),
    ]);
    assert_eq!(s.destination, DestinationKind::Duckdb);
}

// ---------------------------------------------------------------------------------------------
// Files and directories

#[test]
fn toml_syntax_errors_give_line_and_column_without_quoting_the_file() {
    let dirs = Dirs::new();
    dirs.project(
        "secrets.toml",
        "[sources.looker_data_source]\nclient_id = \"id\"\nclient_secret = \"hunter2\n",
    );
    let err = dirs.err(&[]);
    match &err {
        ConfigError::Parse { file, line, .. } => {
            assert_eq!(*file, dirs.project_file("secrets.toml"));
            assert_eq!(*line, 3);
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(!format!("{err:?}").contains("hunter2"));
}

#[test]
fn config_folder_data_dir_and_home_expansion() {
    let dirs = Dirs::new();
    let other = dirs.project.path().join("settings");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(
        other.join("config.toml"),
        "dataset_name = \"from_other_folder\"\n",
    )
    .unwrap();
    let s = dirs.ok(&[("DLT_CONFIG_FOLDER", "settings")]);
    assert_eq!(s.dataset_name, "from_other_folder");
    assert_eq!(s.files, vec![other.join("config.toml")]);

    let s = dirs.ok(&[("DLT_DATA_DIR", "/data/dlt")]);
    assert_eq!(s.pipelines_dir, Path::new("/data/dlt/pipelines"));
    assert_eq!(s.origins["pipelines_dir"], env_origin("DLT_DATA_DIR"));

    let s = dirs.ok(&[("PIPELINES_DIR", "~/work/pipes"), ("HOME", "/home/me")]);
    assert_eq!(s.pipelines_dir, Path::new("/home/me/work/pipes"));
}

#[test]
fn project_dir_equal_to_global_dir_reads_files_once() {
    let dirs = Dirs::new();
    dirs.project("config.toml", "dataset_name = \"x\"\n");
    let env = Environment::new();
    let global = dirs.project.path().join(".dlt");
    let s = config::load(dirs.project.path(), Some(&global), &env, &Overrides::default()).unwrap();
    assert_eq!(s.files.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Redaction

#[test]
fn secrets_never_appear_in_debug_or_display() {
    let dirs = Dirs::new();
    dirs.project(
        "secrets.toml",
        "[sources.looker_data_source]\nclient_id = \"the-id\"\nclient_secret = \"SECRET-ONE\"\n\
         access_token = \"SECRET-TWO\"\n[destination.postgres.credentials]\npassword = \"SECRET-THREE\"\n",
    );
    let s = dirs.ok(&[
        PG_ENV,
        ("DESTINATION__POSTGRES__CREDENTIALS", "postgresql://u@h/db"),
        ("SOURCES__LOOKER_DATA_SOURCE__BASE_URL", "https://x.looker.com"),
    ]);
    let debug = format!("{s:?}");
    let display = s.to_string();
    let creds = format!("{:?}", s.looker.require_credentials().unwrap());
    let pg = s.postgres.as_ref().unwrap();
    let env: Environment = [("SOURCES__LOOKER_DATA_SOURCE__CLIENT_SECRET", "SECRET-FOUR")]
        .into_iter()
        .collect();
    let env_debug = format!("{env:?}");
    for text in [
        &debug,
        &display,
        &creds,
        &format!("{pg}"),
        &format!("{pg:?}"),
        &env_debug,
    ] {
        for secret in ["SECRET-ONE", "SECRET-TWO", "SECRET-THREE", "SECRET-FOUR"] {
            assert!(!text.contains(secret), "{secret} leaked in {text}");
        }
    }
    assert!(display.contains("client_id: the-id"), "{display}");
    assert!(display.contains("client_secret: set (hidden)"), "{display}");
    assert!(display.contains("postgresql://u:***@h:5432/db"), "{display}");
    assert!(
        display.contains("destination: postgres  (environment variable DESTINATION)"),
        "{display}"
    );
    assert!(env_debug.contains("SOURCES__LOOKER_DATA_SOURCE__CLIENT_SECRET"));
}

#[test]
fn invalid_secret_values_are_redacted_in_errors() {
    let dirs = Dirs::new();
    dirs.project(
        "secrets.toml",
        "[sources.looker_data_source]\nclient_secret = 123456789\n",
    );
    let err = dirs.err(&[]);
    assert!(
        err.to_string().contains("got <redacted>, expected a string"),
        "{err}"
    );
    assert!(!format!("{err:?}").contains("123456789"));
}

// ---------------------------------------------------------------------------------------------
// load_from_process, in a child process with a crafted environment

#[test]
fn load_from_process_uses_dlt_project_dir_and_global_dir() {
    const CHILD: &str = "LOOKER_LOAD_CONFIG_TEST_CHILD";
    if let Ok(expected_dir) = std::env::var(CHILD) {
        let s = config::load_from_process(&Overrides::default()).unwrap();
        assert_eq!(s.dataset_name, "from_project");
        assert_eq!(s.looker.page_size, Some(11));
        assert_eq!(s.pipelines_dir, Path::new(&expected_dir).join("pipelines"));
        return;
    }
    let dirs = Dirs::new();
    dirs.project("config.toml", "dataset_name = \"from_project\"\n");
    dirs.global("config.toml", "[sources.looker_data_source]\npage_size = 11\n");
    let exe = std::env::current_exe().unwrap();
    let output = std::process::Command::new(exe)
        .args([
            "--exact",
            "load_from_process_uses_dlt_project_dir_and_global_dir",
            "--nocapture",
        ])
        .env_clear()
        .env(CHILD, dirs.global.path())
        .env("DLT_PROJECT_DIR", dirs.project.path())
        .env("DLT_GLOBAL_DIR", dirs.global.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("1 passed"), "the child ran no test:\n{stdout}");
}
