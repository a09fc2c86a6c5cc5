//! `looker-load show` against a real pipeline: a run from the mock Looker into DuckDB, then the report
//! gathered, rendered, served over HTTP and drawn by headless Chromium (when installed; required in CI).

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use looker_mock::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, MockConfig, MockServer};
use package::{LoadId, Step, Trace, TraceStep};
use pipeline::config::{self, Environment, Overrides, Settings};
use pipeline::show::{
    self, ColumnReport, LoadRecord, PackageStatus, PackageSummary, Report, RowCount, StateSummary,
    TableReport,
};

const HOSTILE: &str = "<script>alert(1)</script>";
const HOSTILE_ATTR: &str = "x\" onmouseover=\"alert(2)";

fn settings(project: &Path, base_url: &str, duckdb: &Path) -> Settings {
    let pipelines = project.join("pipelines");
    let env: Environment = [
        ("SOURCES__LOOKER_DATA_SOURCE__BASE_URL", base_url),
        ("SOURCES__LOOKER_DATA_SOURCE__CLIENT_ID", DEMO_CLIENT_ID),
        ("SOURCES__LOOKER_DATA_SOURCE__CLIENT_SECRET", DEMO_CLIENT_SECRET),
        ("PIPELINE_NAME", "show_test"),
        ("DATASET_NAME", "show_data"),
        ("PIPELINES_DIR", pipelines.to_str().unwrap()),
        ("DESTINATION__DUCKDB__CREDENTIALS", duckdb.to_str().unwrap()),
    ]
    .into_iter()
    .collect();
    config::load(project, None, &env, &Overrides::default()).unwrap()
}

/// Rows per table the run reported, over all packages it loaded.
fn reported_rows(outcome: &pipeline::run::RunOutcome) -> BTreeMap<String, u64> {
    let mut rows = BTreeMap::new();
    for package in &outcome.loaded {
        for (table, n) in &package.rows_per_table {
            *rows.entry(table.clone()).or_insert(0) += n;
        }
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_of_a_real_run_is_rendered_served_and_drawn() {
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let project = tempfile::tempdir().unwrap();
    let duckdb = project.path().join("show.duckdb");
    let settings = settings(project.path(), &mock.base_url(), &duckdb);

    let looker = pipeline::extract::looker_settings(&settings.looker).unwrap();
    let resources = pipeline::extract::selected_resources(&settings).unwrap();
    let outcome = pipeline::run::run(&settings, looker, &resources).await.unwrap();
    let rows = reported_rows(&outcome);
    assert_eq!(outcome.loaded.len(), 1, "a first run loads one package");
    assert_eq!(rows.get("users"), Some(&50), "the mock serves 50 users");
    let load_id = outcome.loaded[0].load_id.to_string();

    let report = show::collect(&settings).await.unwrap();
    assert_eq!(report.destination_error, None);
    assert_eq!(report.pipeline_name, "show_test");
    assert_eq!(report.dataset_name, "show_data");
    assert_eq!(report.destination, "duckdb");
    assert!(report.location.as_deref().unwrap().ends_with("show.duckdb"));
    assert!(report.working_dir_exists);
    // Every table the run loaded rows into is listed with exactly those rows, counted in DuckDB.
    for (table, n) in &rows {
        let listed = report
            .table(table)
            .unwrap_or_else(|| panic!("{table} not in the report"));
        assert_eq!(listed.rows, RowCount::Count(*n), "rows of {table}");
        assert!(listed.in_schema, "{table} comes from the stored schema");
    }
    assert_eq!(report.table("_dlt_loads").unwrap().rows, RowCount::Count(1));
    // Nested tables follow their parent, one level deeper.
    let nested: Vec<&TableReport> = report.tables.iter().filter(|t| t.parent.is_some()).collect();
    assert!(!nested.is_empty(), "Looker items have nested lists");
    for child in nested {
        let parent = report
            .tables
            .iter()
            .position(|t| Some(&t.name) == child.parent.as_ref());
        let here = report.tables.iter().position(|t| t.name == child.name);
        assert!(parent < here, "{} listed after its parent", child.name);
        assert!(child.depth >= 1);
    }
    let users = report.table("users").unwrap();
    assert_eq!(users.depth, 0);
    let id = users.columns.iter().find(|c| c.name == "id").unwrap();
    assert_eq!(id.data_type.as_deref(), Some("text"), "Looker ids are strings");
    assert_eq!(id.destination_type.as_deref(), Some("VARCHAR"));
    assert!(id.hints.contains(&"primary_key".to_owned()), "{:?}", id.hints);
    assert!(users.columns.iter().any(|c| c.name == "_dlt_load_id"));
    // The load, its package and the run.
    assert_eq!(report.loads.len(), 1);
    assert_eq!(report.loads[0].load_id, load_id);
    assert_eq!(report.loads[0].status, "0");
    assert_eq!(report.loaded_packages, 1);
    assert_eq!(report.packages.len(), 1);
    assert_eq!(report.packages[0].status, PackageStatus::Loaded);
    assert_eq!(report.packages[0].load_id, load_id);
    assert_eq!(report.packages[0].rows_per_table, rows);
    let trace = report.trace.as_ref().unwrap();
    let steps: Vec<Step> = trace.steps.iter().map(|s| s.step).collect();
    assert_eq!(steps, [Step::Extract, Step::Normalize, Step::Load]);
    assert!(report.state.as_ref().is_some_and(|s| s.version_hash.is_some()));
    assert_eq!(report.schema.as_ref().unwrap().name, "looker_data_source");

    let html = show::render(&report);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<h1>show_test</h1>"));
    for (table, n) in &rows {
        assert!(
            html.contains(&format!("<tr data-table=\"{table}\" data-rows=\"{n}\">")),
            "row of {table} with {n} rows"
        );
    }
    assert!(html.contains(&format!("<code>{load_id}</code>")));
    assert!(!html.contains("<script"), "the page has no scripts");
    assert!(
        !html.contains("<link") && !html.contains(" src="),
        "no external assets"
    );

    // The same report over HTTP.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(show::serve(settings.clone(), listener, async {
        let _ = stopped.await;
    }));
    let (status, head, body) = http(addr, "GET", "/").await;
    assert_eq!(status, 200, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/html; charset=utf-8")
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("content-security-policy: default-src 'none'")
    );
    assert!(body.contains("<tr data-table=\"users\" data-rows=\"50\">"));
    assert_eq!(http(addr, "GET", "/nope").await.0, 404);
    assert_eq!(http(addr, "POST", "/").await.0, 405);

    // `show --output` writes the same page (only the time it was gathered differs).
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("report.html");
    show::show(
        &settings,
        show::ShowOptions {
            output: Some(file.clone()),
            port: 0,
            no_serve: false,
        },
    )
    .await
    .unwrap();
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(written.len(), html.len());
    assert!(written.contains("<tr data-table=\"users\" data-rows=\"50\">"));
    // Drawn by a real browser: a screenshot of the written file, the DOM of the served page.
    if let Some(chromium) = chromium() {
        let shot = screenshot(&chromium, out.path(), &file);
        keep("report", &file, &shot);
        let dom = dump_dom(&chromium, out.path(), &format!("http://{addr}/")).await;
        assert!(dom.contains("<code>users</code>"), "users in the served DOM");
        assert!(dom.contains("data-rows=\"50\""));
    }

    let _ = stop.send(());
    server.await.unwrap().unwrap();
    mock.shutdown().await;

    // A destination that cannot be opened: the report still shows the working directory.
    let garbage = project.path().join("garbage.duckdb");
    std::fs::write(&garbage, b"this is not a DuckDB database file, not at all").unwrap();
    let mut broken = settings.clone();
    broken.duckdb.path = garbage;
    let report = show::collect(&broken).await.unwrap();
    assert!(report.destination_error.is_some());
    assert_eq!(report.table("users").unwrap().rows, RowCount::Unknown);
    assert!(report.loads.is_empty());
    assert_eq!(
        report.packages.len(),
        1,
        "packages come from the working directory"
    );
    let html = show::render(&report);
    assert!(html.contains("Destination not queried"));
    assert!(html.contains("<tr data-table=\"users\" data-rows=\"\">"));

    // A DuckDB file that does not exist is reported, and not created.
    let mut missing = settings.clone();
    missing.duckdb.path = project.path().join("never.duckdb");
    let report = show::collect(&missing).await.unwrap();
    assert!(
        report
            .destination_error
            .as_deref()
            .is_some_and(|e| e.contains("does not exist yet")),
        "{:?}",
        report.destination_error
    );
    assert!(!missing.duckdb.path.exists());
}

#[tokio::test]
async fn a_pipeline_that_never_ran_gives_an_empty_report() {
    let project = tempfile::tempdir().unwrap();
    let settings = settings(
        project.path(),
        "http://127.0.0.1:9",
        &project.path().join("none.duckdb"),
    );
    let report = show::collect(&settings).await.unwrap();
    assert!(!report.working_dir_exists);
    assert!(report.tables.is_empty() && report.packages.is_empty() && report.trace.is_none());
    assert!(report.state.is_none() && report.schema.is_none());
    let html = show::render(&report);
    assert!(html.contains("No working directory"));
    assert!(html.contains("No tables yet"));
    assert!(html.contains("No run left a trace yet"));
    assert!(!project.path().join("pipelines").exists(), "show writes nothing");
}

#[tokio::test]
async fn a_port_in_use_is_a_usage_error_naming_the_flag() {
    let project = tempfile::tempdir().unwrap();
    let settings = settings(
        project.path(),
        "http://127.0.0.1:9",
        &project.path().join("none.duckdb"),
    );
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = taken.local_addr().unwrap().port();
    let options = show::ShowOptions {
        output: None,
        port,
        no_serve: false,
    };
    let e = show::show(&settings, options).await.unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("--port"), "{e}");
    assert!(e.to_string().contains(&port.to_string()), "{e}");
}

/// A report whose every string is hostile markup.
fn hostile_report() -> Report {
    let mut trace = Trace::new(HOSTILE, HOSTILE);
    let mut step = TraceStep::start(Step::Load);
    step.duration_secs = 0.5;
    step.rows.insert(HOSTILE.to_owned(), 3);
    step.load_ids.push(LoadId::parse("1749667187.541553").unwrap());
    step.error = Some(HOSTILE.to_owned());
    trace.steps.push(step);
    trace.finish();
    Report {
        generated_at: HOSTILE.to_owned(),
        pipeline_name: HOSTILE.to_owned(),
        dataset_name: HOSTILE_ATTR.to_owned(),
        destination: HOSTILE.to_owned(),
        location: Some(HOSTILE.to_owned()),
        working_dir: PathBuf::from(HOSTILE),
        working_dir_exists: false,
        state: Some(StateSummary {
            version: 1,
            engine_version: 4,
            version_hash: Some(HOSTILE.to_owned()),
            destination_type: Some(HOSTILE.to_owned()),
            sources: vec![(HOSTILE.to_owned(), HOSTILE_ATTR.to_owned())],
        }),
        schema: None,
        tables: vec![
            TableReport {
                name: HOSTILE.to_owned(),
                write_disposition: Some(HOSTILE.to_owned()),
                resource: Some(HOSTILE.to_owned()),
                in_schema: true,
                columns: vec![ColumnReport {
                    name: HOSTILE_ATTR.to_owned(),
                    data_type: Some(HOSTILE.to_owned()),
                    destination_type: Some(HOSTILE.to_owned()),
                    nullable: true,
                    hints: vec![HOSTILE.to_owned()],
                }],
                rows: RowCount::Count(7),
                ..TableReport::default()
            },
            TableReport {
                name: HOSTILE_ATTR.to_owned(),
                parent: Some(HOSTILE.to_owned()),
                depth: 1,
                in_schema: false,
                rows: RowCount::Error(HOSTILE_ATTR.to_owned()),
                ..TableReport::default()
            },
        ],
        destination_error: Some(HOSTILE.to_owned()),
        loads: vec![LoadRecord {
            load_id: HOSTILE.to_owned(),
            schema_name: HOSTILE.to_owned(),
            status: HOSTILE_ATTR.to_owned(),
            inserted_at: HOSTILE.to_owned(),
            schema_version_hash: HOSTILE_ATTR.to_owned(),
        }],
        packages: vec![PackageSummary {
            load_id: HOSTILE.to_owned(),
            created_at: HOSTILE.to_owned(),
            committed_at: HOSTILE.to_owned(),
            rows_per_table: [(HOSTILE_ATTR.to_owned(), 2)].into_iter().collect(),
            ..PackageSummary::default()
        }],
        notices: vec![HOSTILE.to_owned()],
        trace: Some(trace),
        ..Report::default()
    }
}

#[test]
fn hostile_names_are_escaped() {
    let html = show::render(&hostile_report());
    assert!(!html.contains("<script"), "no script element");
    assert!(!html.contains("onmouseover=\""), "no injected attribute");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("x&quot; onmouseover=&quot;alert(2)"));
    assert!(html.contains("<title>looker-load · &lt;script&gt;alert(1)&lt;/script&gt;</title>"));
    assert!(html.contains("<tr data-table=\"&lt;script&gt;alert(1)&lt;/script&gt;\" data-rows=\"7\">"));

    if let Some(chromium) = chromium() {
        let out = tempfile::tempdir().unwrap();
        let file = out.path().join("hostile.html");
        std::fs::write(&file, &html).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let dom = runtime.block_on(dump_dom(
            &chromium,
            out.path(),
            &format!("file://{}", file.display()),
        ));
        // The browser read the names as text: serialized back, they are escaped again, and no element
        // or attribute came from them.
        assert!(
            dom.contains("<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>"),
            "{dom}"
        );
        assert!(!dom.contains("<script"));
        assert!(!dom.contains("onmouseover=\"alert(2)\""), "no injected attribute");
        assert!(dom.contains("data-table=\"x&quot; onmouseover=&quot;alert(2)\""));
        let shot = screenshot(&chromium, out.path(), &file);
        keep("hostile", &file, &shot);
    }
}

/// One HTTP/1.1 request; the status, the head and the body.
async fn http(addr: std::net::SocketAddr, method: &str, path: &str) -> (u16, String, String) {
    tokio::task::spawn_blocking({
        let (method, path) = (method.to_owned(), path.to_owned());
        move || {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
            write!(
                stream,
                "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).unwrap();
            let (head, body) = response.split_once("\r\n\r\n").unwrap();
            let status = head.split(' ').nth(1).unwrap().parse().unwrap();
            (status, head.to_owned(), body.to_owned())
        }
    })
    .await
    .unwrap()
}

/// Debian's Chromium, if installed. Missing in CI (`CI=true`) is a failure; elsewhere the browser
/// checks are left out, saying why.
fn chromium() -> Option<PathBuf> {
    let path = PathBuf::from("/usr/bin/chromium");
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "/usr/bin/chromium is missing; CI must install Debian's chromium package"
    );
    eprintln!("browser check left out: /usr/bin/chromium is not installed (apt-get install chromium)");
    None
}

/// Runs headless Chromium as the machine allows it (root: no sandbox; no background networking on a
/// closed network) with a fresh profile; returns standard output. A browser that hangs is killed after
/// two minutes and fails the test.
fn run_chromium(chromium: &Path, dir: &Path, args: &[String]) -> String {
    let profile = tempfile::tempdir_in(dir).unwrap();
    let log = dir.join("chromium.log");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium did not finish: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = reader.join().unwrap();
    assert!(
        status.success(),
        "chromium failed ({status}): {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    out
}

/// A 1280×2000 screenshot of `file`; checks it is a PNG with more in it than a blank page.
fn screenshot(chromium: &Path, dir: &Path, file: &Path) -> PathBuf {
    let shot = dir.join(format!("{}.png", file.file_stem().unwrap().to_str().unwrap()));
    run_chromium(
        chromium,
        dir,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000".to_owned(),
            format!("file://{}", file.display()),
        ],
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(
        png.len() > 10 * 1024,
        "{} bytes: a blank page compresses to a few KB",
        png.len()
    );
    shot
}

/// The DOM of `url` after load, as Chromium serializes it.
async fn dump_dom(chromium: &Path, dir: &Path, url: &str) -> String {
    let (chromium, dir, url) = (chromium.to_owned(), dir.to_owned(), url.to_owned());
    tokio::task::spawn_blocking(move || run_chromium(&chromium, &dir, &["--dump-dom".to_owned(), url]))
        .await
        .unwrap()
}

/// Copies the page and its screenshot to `$SHOW_TEST_OUTPUT` when set, to look at them.
fn keep(name: &str, html: &Path, png: &Path) {
    if let Some(dir) = std::env::var_os("SHOW_TEST_OUTPUT") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(html, dir.join(format!("{name}.html"))).unwrap();
        std::fs::copy(png, dir.join(format!("{name}.png"))).unwrap();
    }
}
