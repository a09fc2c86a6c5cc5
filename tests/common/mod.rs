//! Helpers for the end-to-end tests of the `looker-load` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch project: its own `.dlt` dir, global dir, home and pipelines dir, so no test reads the
/// user's configuration or another test's state.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join(".dlt")).expect("mkdir .dlt");
        std::fs::create_dir_all(dir.path().join("global")).expect("mkdir global");
        Project { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn pipelines_dir(&self) -> PathBuf {
        self.path().join("pipelines")
    }

    pub fn write(&self, relative: &str, text: &str) {
        std::fs::write(self.path().join(relative), text).expect("write file");
    }

    /// The binary, run in the project with a clean environment.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_looker-load"));
        cmd.current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("DLT_PROJECT_DIR", self.path())
            .env("DLT_GLOBAL_DIR", self.path().join("global"))
            .env("PIPELINES_DIR", self.pipelines_dir())
            .env("RUST_LOG", "info");
        if let Some(lib) = std::env::var_os("LD_LIBRARY_PATH") {
            cmd.env("LD_LIBRARY_PATH", lib);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run looker-load")
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

// ----- a mock Looker for tests that are not async ------------------------------------------------

/// A mock Looker server with its own multi-thread runtime, so a test can run the binary (blocking)
/// while the server answers it.
pub struct Mock {
    runtime: tokio::runtime::Runtime,
    server: Option<looker_mock::MockServer>,
}

impl Mock {
    /// Starts the mock with `config` on a free localhost port.
    pub fn start(config: looker_mock::MockConfig) -> Mock {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("mock runtime");
        let server = runtime
            .block_on(looker_mock::MockServer::start(config))
            .expect("start the mock Looker");
        Mock {
            runtime,
            server: Some(server),
        }
    }

    pub fn server(&self) -> &looker_mock::MockServer {
        self.server.as_ref().expect("mock running")
    }

    pub fn dataset(&self) -> &looker_mock::Dataset {
        self.server().dataset()
    }

    pub fn base_url(&self) -> String {
        self.server().base_url()
    }

    /// The environment that points `looker-load` at this mock with the demo credentials.
    pub fn env(&self) -> [(&'static str, String); 3] {
        [
            ("SOURCES__LOOKER_DATA_SOURCE__BASE_URL", self.base_url()),
            (
                "SOURCES__LOOKER_DATA_SOURCE__CLIENT_ID",
                looker_mock::DEMO_CLIENT_ID.to_owned(),
            ),
            (
                "SOURCES__LOOKER_DATA_SOURCE__CLIENT_SECRET",
                looker_mock::DEMO_CLIENT_SECRET.to_owned(),
            ),
        ]
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.shutdown());
        }
    }
}

impl Project {
    /// Runs the binary against `mock`, with extra environment variables.
    pub fn run_against(&self, mock: &Mock, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.command();
        cmd.args(args);
        for (key, value) in mock.env() {
            cmd.env(key, value);
        }
        for (key, value) in env {
            cmd.env(key, value);
        }
        cmd.output().expect("run looker-load")
    }

    /// The DuckDB file of the default pipeline (`<pipeline_name>.duckdb` in the project dir).
    pub fn database(&self) -> PathBuf {
        self.path().join("looker_data_pipeline.duckdb")
    }

    /// The working directory of the default pipeline.
    pub fn working_dir(&self) -> PathBuf {
        self.pipelines_dir().join("looker_data_pipeline")
    }

    /// The load ids (directory names) under `load/<state>/` of the default pipeline.
    pub fn packages(&self, state: &str) -> Vec<String> {
        let dir = self.working_dir().join("load").join(state);
        let mut ids: Vec<String> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => panic!("read {}: {e}", dir.display()),
        };
        ids.sort();
        ids
    }
}

/// Panics with the binary's output unless it exited 0.
pub fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout(out),
        stderr(out)
    );
}

// ----- what dlt's relational normalizer makes of the mock's data ---------------------------------

/// dlt's `snake_case` naming convention for one identifier (`naming/snake_case.py`): `+-*@|` become
/// `x_xal`, other runs of characters outside `[A-Za-z0-9_]` become `_`, camelCase is split and
/// lowercased, a leading digit gets `_`, trailing `_` become `x`, and runs of `_` collapse.
pub fn snake_case(identifier: &str) -> String {
    let translated: String = identifier
        .trim()
        .chars()
        .map(|c| match c {
            '+' | '*' => 'x',
            '-' => '_',
            '@' => 'a',
            '|' => 'l',
            c => c,
        })
        .collect();
    // `[^a-zA-Z\d_]+` → `_`
    let mut s: Vec<char> = Vec::with_capacity(translated.len());
    let mut in_run = false;
    for c in translated.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            s.push(c);
            in_run = false;
        } else if !in_run {
            s.push('_');
            in_run = true;
        }
    }
    // `([^_])([A-Z][a-z]+)` → `\1_\2`
    let mut a = Vec::with_capacity(s.len() + 4);
    let mut i = 0;
    while i < s.len() {
        let lowers = s[(i + 2).min(s.len())..]
            .iter()
            .take_while(|c| c.is_ascii_lowercase())
            .count();
        if s[i] != '_' && i + 1 < s.len() && s[i + 1].is_ascii_uppercase() && lowers > 0 {
            a.push(s[i]);
            a.push('_');
            a.extend_from_slice(&s[i + 1..i + 2 + lowers]);
            i += 2 + lowers;
        } else {
            a.push(s[i]);
            i += 1;
        }
    }
    // `([a-z0-9])([A-Z])` → `\1_\2`, then lowercase
    let mut b = String::with_capacity(a.len() + 4);
    let mut i = 0;
    while i < a.len() {
        if (a[i].is_ascii_lowercase() || a[i].is_ascii_digit())
            && i + 1 < a.len()
            && a[i + 1].is_ascii_uppercase()
        {
            b.push(a[i]);
            b.push('_');
            b.push(a[i + 1].to_ascii_lowercase());
            i += 2;
        } else {
            b.push(a[i].to_ascii_lowercase());
            i += 1;
        }
    }
    if b.starts_with(|c: char| c.is_ascii_digit()) {
        b.insert(0, '_');
    }
    let stripped = b.trim_end_matches('_');
    let trailing = b.len() - stripped.len();
    let mut out = String::with_capacity(b.len());
    for c in stripped.chars().chain(std::iter::repeat_n('x', trailing)) {
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    out
}

/// What dlt's relational normalizer makes of a set of items: rows and data columns per table.
#[derive(Debug, Default)]
pub struct Tables {
    /// Rows per table.
    pub rows: std::collections::BTreeMap<String, u64>,
    /// Columns that received at least one non-null value, per table (dlt's `_dlt_*` columns and
    /// variant columns left out).
    pub columns: std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
}

impl Tables {
    /// Adds `items` loaded as table `table`: nested objects flatten into their row (keys joined with
    /// `__`), every list becomes a child table `<parent>__<path>` with one row per element (a scalar
    /// as column `value`, an object flattened, a list through a row `{"list": …}`); nulls give no
    /// column and empty lists no rows.
    pub fn add<'a>(&mut self, table: &str, items: impl IntoIterator<Item = &'a serde_json::Value>) {
        for item in items {
            self.row(table, item);
        }
    }

    fn row(&mut self, table: &str, value: &serde_json::Value) {
        *self.rows.entry(table.to_owned()).or_insert(0) += 1;
        self.columns.entry(table.to_owned()).or_default();
        match value {
            serde_json::Value::Object(fields) => self.flatten(table, "", fields),
            // A list in a list: the row `{"list": value}` has a child table `list`.
            serde_json::Value::Array(items) => self.add(&format!("{table}__list"), items.iter()),
            serde_json::Value::Null => {}
            _ => self.column(table, "value"),
        }
    }

    fn flatten(&mut self, table: &str, path: &str, fields: &serde_json::Map<String, serde_json::Value>) {
        for (key, value) in fields {
            let name = format!("{path}{}", snake_case(key));
            match value {
                serde_json::Value::Object(inner) => self.flatten(table, &format!("{name}__"), inner),
                serde_json::Value::Array(items) => self.add(&format!("{table}__{name}"), items.iter()),
                serde_json::Value::Null => {}
                _ => self.column(table, &name),
            }
        }
    }

    fn column(&mut self, table: &str, name: &str) {
        self.columns
            .entry(table.to_owned())
            .or_default()
            .insert(name.to_owned());
    }
}

/// The items the mock serves for `resource`, as the extractor gets them: list items in id order, and
/// for `queries` every referenced query by id.
pub fn served_items(dataset: &looker_mock::Dataset, resource: &str) -> Vec<serde_json::Value> {
    if resource == "queries" {
        return dataset
            .referenced_query_ids()
            .iter()
            .map(|id| dataset.query(id).expect("referenced query"))
            .collect();
    }
    (0..dataset.count(resource))
        .map(|i| dataset.item(resource, i).expect("item in range"))
        .collect()
}

/// The tables (parents and children) that loading `resources` from `dataset` gives.
pub fn expected_tables(dataset: &looker_mock::Dataset, resources: &[&str]) -> Tables {
    let mut tables = Tables::default();
    for resource in resources {
        tables.add(resource, served_items(dataset, resource).iter());
    }
    tables
}

/// Rows per table (parents and children) that loading `resources` from `dataset` gives.
pub fn expected_rows(
    dataset: &looker_mock::Dataset,
    resources: &[&str],
) -> std::collections::BTreeMap<String, u64> {
    expected_tables(dataset, resources).rows
}

// ----- reading the DuckDB file ---------------------------------------------------------------------

/// Opens the DuckDB file read-only. Drop the connection before running the binary again: DuckDB
/// admits one process at a time.
pub fn open_database(path: &Path) -> duckdb::Connection {
    let config = duckdb::Config::default()
        .access_mode(duckdb::AccessMode::ReadOnly)
        .expect("read-only config");
    duckdb::Connection::open_with_flags(path, config)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

/// Rows per table of `dataset` in the DuckDB file, `_dlt_*` tables included.
pub fn table_rows(path: &Path, dataset: &str) -> std::collections::BTreeMap<String, u64> {
    let conn = open_database(path);
    let tables: Vec<String> = {
        let mut stmt = conn
            .prepare("SELECT table_name FROM information_schema.tables WHERE table_schema = ?")
            .expect("prepare");
        stmt.query_map([dataset], |r| r.get::<_, String>(0))
            .expect("list tables")
            .map(|r| r.expect("table name"))
            .collect()
    };
    tables
        .into_iter()
        .map(|t| {
            let sql = format!("SELECT count(*) FROM \"{dataset}\".\"{t}\"");
            let n: i64 = conn
                .query_row(&sql, [], |r| r.get(0))
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            (t, n as u64)
        })
        .collect()
}

/// The first column of every row of `sql`, as text (`NULL` as `None`).
pub fn column(path: &Path, sql: &str) -> Vec<Option<String>> {
    let conn = open_database(path);
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    stmt.query_map([], |r| r.get::<_, Option<String>>(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .map(|r| r.expect("row"))
        .collect()
}

/// The single integer `sql` answers.
pub fn number(path: &Path, sql: &str) -> i64 {
    open_database(path)
        .query_row(sql, [], |r| r.get::<_, i64>(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Table → column → DuckDB type of every table of `dataset` in the DuckDB file.
pub fn column_types(
    path: &Path,
    dataset: &str,
) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> {
    let conn = open_database(path);
    let mut stmt = conn
        .prepare(
            "SELECT table_name, column_name, data_type FROM information_schema.columns \
             WHERE table_schema = ? ORDER BY table_name, ordinal_position",
        )
        .expect("prepare");
    let rows = stmt
        .query_map([dataset], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .expect("query");
    let mut out: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> =
        std::collections::BTreeMap::new();
    for row in rows {
        let (table, column, ty) = row.expect("row");
        out.entry(table).or_default().insert(column, ty);
    }
    out
}
