//! `looker-load show`: a self-contained HTML report of the pipeline, after extract → normalize → load.
//!
//! The report gathers what the working directory and the destination know: pipeline state, the stored
//! schema (tables, columns, types, parents), row counts per table counted in the destination, the last
//! `_dlt_loads` rows, the load packages (pending and archived) and the last run's trace (steps, timings,
//! rows). [`collect`] gathers it into a [`Report`], [`render`] turns that into one HTML page with inline
//! CSS and no scripts, and [`show`] writes the page to a file or serves it on `127.0.0.1`.
//!
//! Nothing here writes to the pipeline: no lock is taken, and a DuckDB file that does not exist is not
//! created. A destination that cannot be reached still gives a report, with a notice saying why.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::io::Write as _;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use destination::dialect::quote_identifier_with;
use destination::{Destination, DestinationError, LoadClient, StorageTables};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use package::schema::{Schema, Table};
use package::{JobState, PipelineDir, Trace};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::PipelineError;
use crate::config::{ConfigError, DestinationKind, Origin, Settings};
use crate::load;
use crate::normalize::SCHEMA_NAME;

mod render;

pub use render::render;

/// How many `_dlt_loads` rows and archived load packages the report lists (newest first).
pub const RECENT_LOADS: usize = 20;
/// How many entries of the source state (incremental cursors and the like) the report lists.
const MAX_STATE_ENTRIES: usize = 200;
/// Longest source state value shown, in characters.
const MAX_STATE_VALUE: usize = 200;

/// What `looker-load show` does with the report.
#[derive(Debug, Clone, Default)]
pub struct ShowOptions {
    /// Write the HTML to this file and return, instead of serving it.
    pub output: Option<PathBuf>,
    /// The port to serve on, on 127.0.0.1 (0: any free port; the printed address says which).
    pub port: u16,
    /// Do not serve: without [`output`](Self::output), print the HTML to standard output.
    pub no_serve: bool,
}

/// Everything the report shows, gathered by [`collect`]. Strings are shown as they are (escaped by
/// [`render`]), so they may hold anything, including names that look like markup.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// When the report was gathered (RFC 3339, UTC).
    pub generated_at: String,
    /// The pipeline's name.
    pub pipeline_name: String,
    /// The dataset the tables are loaded into.
    pub dataset_name: String,
    /// The destination's type (`duckdb`, `postgres`, ...).
    pub destination: String,
    /// Where the destination stores data (`duckdb:/path/file.duckdb`), when the destination is
    /// available in this build.
    pub location: Option<String>,
    /// The pipeline's working directory.
    pub working_dir: PathBuf,
    /// Whether the working directory exists (the pipeline ran here before).
    pub working_dir_exists: bool,
    /// `state.json`, if the pipeline has one.
    pub state: Option<StateSummary>,
    /// The stored schema's name and version, if one is stored.
    pub schema: Option<SchemaSummary>,
    /// Tables of the stored schema (parents before their children), then tables only the destination
    /// holds.
    pub tables: Vec<TableReport>,
    /// Why the destination could not be queried; `None` when it was.
    pub destination_error: Option<String>,
    /// The newest `_dlt_loads` rows, newest first (at most [`RECENT_LOADS`]).
    pub loads: Vec<LoadRecord>,
    /// Pending load packages (oldest first), then the newest archived ones (newest first, at most
    /// [`RECENT_LOADS`]).
    pub packages: Vec<PackageSummary>,
    /// Number of archived (loaded) packages in the working directory.
    pub loaded_packages: usize,
    /// Number of complete extracts waiting for normalize.
    pub pending_extracts: usize,
    /// The last run's trace, if any.
    pub trace: Option<Trace>,
    /// Problems met while gathering (an unreadable file, a failed query): the report shows what it could.
    pub notices: Vec<String>,
}

impl Report {
    /// The table named `name`, if listed.
    pub fn table(&self, name: &str) -> Option<&TableReport> {
        self.tables.iter().find(|t| t.name == name)
    }
}

/// The pipeline state (`state.json`) in brief.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StateSummary {
    /// `_state_version`.
    pub version: u64,
    /// `_state_engine_version`.
    pub engine_version: u32,
    /// `_version_hash`.
    pub version_hash: Option<String>,
    /// The destination type recorded in the state (`dlt.destinations.duckdb`).
    pub destination_type: Option<String>,
    /// The source state flattened to dotted paths and JSON values (incremental cursors live here),
    /// at most 200 entries, long values shortened.
    pub sources: Vec<(String, String)>,
}

/// The stored schema's identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaSummary {
    /// The schema's name.
    pub name: String,
    /// Its version number.
    pub version: u64,
    /// Its version hash.
    pub version_hash: String,
}

/// One table: its place in the schema, its columns and its row count in the destination.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableReport {
    /// The table's name.
    pub name: String,
    /// The parent table of a nested table.
    pub parent: Option<String>,
    /// Nesting depth: 0 for root tables.
    pub depth: usize,
    /// The write disposition, the root table's for nested tables.
    pub write_disposition: Option<String>,
    /// The resource filling the table (root tables).
    pub resource: Option<String>,
    /// Whether the stored schema has the table (otherwise only the destination does).
    pub in_schema: bool,
    /// The columns, schema order, then columns only the destination has.
    pub columns: Vec<ColumnReport>,
    /// Rows in the destination.
    pub rows: RowCount,
}

/// One column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnReport {
    /// The column's name.
    pub name: String,
    /// dlt's data type (`text`, `bigint`, ...), when the schema has the column.
    pub data_type: Option<String>,
    /// The type the destination stores, when it was read.
    pub destination_type: Option<String>,
    /// Whether the column accepts NULL.
    pub nullable: bool,
    /// dlt hints set on the column (`primary_key`, `row_key`, `parent_key`, ...).
    pub hints: Vec<String>,
}

/// The rows of a table in the destination.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RowCount {
    /// The destination was not queried (see [`Report::destination_error`]).
    #[default]
    Unknown,
    /// The destination has no such table (nothing loaded into it yet).
    Missing,
    /// `SELECT count(*)` said this.
    Count(u64),
    /// The count failed with this message.
    Error(String),
}

impl RowCount {
    /// The count, if known.
    pub fn count(&self) -> Option<u64> {
        match self {
            RowCount::Count(n) => Some(*n),
            _ => None,
        }
    }
}

/// A `_dlt_loads` row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadRecord {
    /// The load id.
    pub load_id: String,
    /// The schema loaded.
    pub schema_name: String,
    /// The status (0: loaded).
    pub status: String,
    /// When the load completed.
    pub inserted_at: String,
    /// The schema version hash the load used.
    pub schema_version_hash: String,
}

/// Where a load package is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PackageStatus {
    /// In `load/normalized/`: waiting to be loaded (or a load of it failed).
    #[default]
    Pending,
    /// In `load/loaded/`: the destination committed it.
    Loaded,
}

/// One load package.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PackageSummary {
    /// The load id.
    pub load_id: String,
    /// Pending or loaded.
    pub status: PackageStatus,
    /// When normalize started it.
    pub created_at: String,
    /// When normalize committed it.
    pub committed_at: String,
    /// The schema version it carries.
    pub schema_version: u64,
    /// Job files.
    pub jobs: usize,
    /// Jobs that failed for good.
    pub failed_jobs: usize,
    /// Rows per table, as normalize counted them.
    pub rows_per_table: BTreeMap<String, u64>,
}

/// Writes the report to [`ShowOptions::output`], prints it (`no_serve`), or serves it on
/// `127.0.0.1:port` until Ctrl-C. The served page is gathered again on every request, so reloading it
/// shows the pipeline as it is now; between requests nothing is held open (a run may load meanwhile).
pub async fn show(settings: &Settings, options: ShowOptions) -> Result<(), PipelineError> {
    if let Some(path) = &options.output {
        let html = render(&collect(settings).await?);
        std::fs::write(path, html).map_err(|source| package::Error::Io {
            op: "write",
            path: path.clone(),
            source,
        })?;
        println!(
            "Wrote the report of pipeline {} to {}",
            settings.pipeline_name,
            path.display()
        );
        return Ok(());
    }
    if options.no_serve {
        let html = render(&collect(settings).await?);
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(html.as_bytes())
            .and_then(|()| stdout.flush())
            .map_err(|source| package::Error::Io {
                op: "write",
                path: PathBuf::from("<stdout>"),
                source,
            })?;
        return Ok(());
    }
    // A bad pipeline name fails here, before anything is bound.
    PipelineDir::new(&settings.pipelines_dir, &settings.pipeline_name)?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, options.port))
        .await
        .map_err(|e| bind_error(options.port, &e))?;
    let addr = listener.local_addr().map_err(|e| bind_error(options.port, &e))?;
    println!(
        "Serving the report of pipeline {} at http://{addr}/ (Ctrl-C to stop)",
        settings.pipeline_name
    );
    serve(settings.clone(), listener, async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            // Without a handler, Ctrl-C ends the process the default way.
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    })
    .await
}

fn bind_error(port: u16, e: &std::io::Error) -> PipelineError {
    ConfigError::Invalid {
        key: "port".to_owned(),
        origin: Origin::CommandLine { flag: "--port" },
        value: port.to_string(),
        expected: format!("a port free on 127.0.0.1 ({e}); 0 picks any free port"),
    }
    .into()
}

/// Serves the report on `listener` until `shutdown` completes: `GET /` gathers and renders it afresh;
/// other paths answer 404, other methods 405. Requests are answered one report at a time.
pub async fn serve(
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<(), PipelineError> {
    let server = Arc::new(Server {
        settings,
        gate: tokio::sync::Mutex::new(()),
    });
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(error = %e, "accepting a connection failed");
                        // Out of descriptors or similar: back off briefly rather than spin.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let server = server.clone();
                connections.spawn(async move {
                    let service = service_fn(move |request| handle(server.clone(), request));
                    if let Err(e) = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await
                    {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
    Ok(())
}

#[derive(Debug)]
struct Server {
    settings: Settings,
    /// One report at a time: an embedded database is opened once per report.
    gate: tokio::sync::Mutex<()>,
}

async fn handle(
    server: Arc<Server>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = request.method();
    if method != Method::GET && method != Method::HEAD {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Ok(response);
    }
    if !matches!(request.uri().path(), "/" | "/index.html") {
        return Ok(plain(StatusCode::NOT_FOUND, "not found: the report is at /\n"));
    }
    let (status, html) = {
        let _one_at_a_time = server.gate.lock().await;
        match collect(&server.settings).await {
            Ok(report) => (StatusCode::OK, render(&report)),
            Err(e) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                render::error_page(&e.to_string()),
            ),
        }
    };
    let mut response = Response::new(Full::new(Bytes::from(html)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(render::CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

fn plain(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Gathers the report: the working directory's state, schema, packages and trace, then row counts
/// and `_dlt_loads` from the destination. Fails only when the settings name no valid working
/// directory; anything unreadable or unreachable becomes a notice in the report.
pub async fn collect(settings: &Settings) -> Result<Report, PipelineError> {
    let dir = PipelineDir::new(&settings.pipelines_dir, &settings.pipeline_name)?;
    let local = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || read_local(&dir))
            .await
            .map_err(|e| PipelineError::Internal(format!("reading the working directory stopped: {e}")))?
    };
    let mut report = Report {
        generated_at: package::now_rfc3339(),
        pipeline_name: settings.pipeline_name.clone(),
        dataset_name: settings.dataset_name.clone(),
        destination: settings.destination.name().to_owned(),
        working_dir: dir.root().to_path_buf(),
        working_dir_exists: dir.exists(),
        state: local.state,
        schema: local.schema.as_ref().map(|s| SchemaSummary {
            name: s.name.clone(),
            version: s.version,
            version_hash: s.version_hash.clone(),
        }),
        packages: local.packages,
        loaded_packages: local.loaded_packages,
        pending_extracts: local.pending_extracts,
        trace: local.trace,
        notices: local.notices,
        ..Report::default()
    };
    let remote = match load::destination(settings) {
        Ok(destination) => {
            report.location = Some(destination.location());
            if settings.destination == DestinationKind::Duckdb && !settings.duckdb.path.exists() {
                Err(format!(
                    "the DuckDB database {} does not exist yet: nothing was loaded",
                    settings.duckdb.path.display()
                ))
            } else {
                query_destination(destination.as_ref(), &settings.dataset_name)
                    .await
                    .map_err(|e| e.to_string())
            }
        }
        Err(e) => Err(e.to_string()),
    };
    let remote = match remote {
        Ok(remote) => Some(remote),
        Err(e) => {
            report.destination_error = Some(e);
            None
        }
    };
    if let Some(remote) = &remote {
        report.loads = remote.loads.clone();
        if let Some(e) = &remote.loads_error {
            report.notices.push(format!("could not read _dlt_loads: {e}"));
        }
    }
    report.tables = tables(local.schema.as_ref(), remote.as_ref());
    Ok(report)
}

/// What the working directory holds.
#[derive(Debug, Default)]
struct Local {
    state: Option<StateSummary>,
    schema: Option<Schema>,
    trace: Option<Trace>,
    packages: Vec<PackageSummary>,
    loaded_packages: usize,
    pending_extracts: usize,
    notices: Vec<String>,
}

fn read_local(dir: &PipelineDir) -> Local {
    let mut local = Local::default();
    let notices = &mut local.notices;
    local.state = match dir.read_state() {
        Ok(state) => state.map(|s| StateSummary {
            version: s.state_version,
            engine_version: s.engine_version,
            version_hash: s.version_hash.clone(),
            destination_type: s.destination_type.clone(),
            sources: flatten_state(&s.sources),
        }),
        Err(e) => {
            notices.push(format!("could not read the pipeline state: {e}"));
            None
        }
    };
    local.schema = dir.read_schema(SCHEMA_NAME).unwrap_or_else(|e| {
        notices.push(format!("could not read the stored schema: {e}"));
        None
    });
    local.trace = dir.read_trace().unwrap_or_else(|e| {
        notices.push(format!("could not read the last run's trace: {e}"));
        None
    });
    match dir.pending() {
        Ok(pending) => {
            for package in pending {
                let summary = package.state().map(|state| {
                    let failed = package.jobs(JobState::Failed).map(|j| j.len()).unwrap_or(0);
                    package_summary(state, PackageStatus::Pending, failed)
                });
                match summary {
                    Ok(s) => local.packages.push(s),
                    Err(e) => notices.push(format!("could not read a pending load package: {e}")),
                }
            }
        }
        Err(e) => notices.push(format!("could not list the pending load packages: {e}")),
    }
    match dir.loaded() {
        Ok(loaded) => {
            local.loaded_packages = loaded.len();
            for package in loaded.iter().rev().take(RECENT_LOADS) {
                let summary = package.state().map(|state| {
                    let failed = package.jobs(JobState::Failed).map(|j| j.len()).unwrap_or(0);
                    package_summary(state, PackageStatus::Loaded, failed)
                });
                match summary {
                    Ok(s) => local.packages.push(s),
                    Err(e) => notices.push(format!("could not read a loaded package: {e}")),
                }
            }
        }
        Err(e) => notices.push(format!("could not list the loaded packages: {e}")),
    }
    match dir.pending_extracts() {
        Ok(extracts) => local.pending_extracts = extracts.len(),
        Err(e) => notices.push(format!("could not list the pending extracts: {e}")),
    }
    local
}

fn package_summary(
    state: package::PackageState,
    status: PackageStatus,
    failed_jobs: usize,
) -> PackageSummary {
    PackageSummary {
        load_id: state.load_id.to_string(),
        status,
        rows_per_table: state.rows_per_table(),
        created_at: state.created_at,
        committed_at: state.committed_at,
        schema_version: state.schema_version,
        jobs: state.jobs.len(),
        failed_jobs,
    }
}

/// The source state as `dotted.path = value` lines, depth first, at most [`MAX_STATE_ENTRIES`].
fn flatten_state(sources: &serde_json::Map<String, serde_json::Value>) -> Vec<(String, String)> {
    fn walk(prefix: String, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
        if out.len() >= MAX_STATE_ENTRIES {
            return;
        }
        match value {
            serde_json::Value::Object(map) if !map.is_empty() => {
                for (key, v) in map {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(path, v, out);
                }
            }
            other => {
                let mut text = other.to_string();
                if text.chars().count() > MAX_STATE_VALUE {
                    text = text.chars().take(MAX_STATE_VALUE).collect::<String>() + "…";
                }
                out.push((prefix, text));
            }
        }
    }
    let mut out = Vec::new();
    for (key, value) in sources {
        walk(key.clone(), value, &mut out);
    }
    out
}

/// What the destination holds.
#[derive(Debug, Default)]
struct Remote {
    /// Tables and their stored columns; `None` when the destination cannot list them.
    storage: Option<StorageTables>,
    counts: BTreeMap<String, RowCount>,
    loads: Vec<LoadRecord>,
    loads_error: Option<String>,
}

async fn query_destination(destination: &dyn Destination, dataset: &str) -> Result<Remote, DestinationError> {
    let client = destination.connect().await?;
    let folding = destination.capabilities().case_folding;
    let dataset = quote_identifier_with(&folding.apply(dataset), '"');
    let qualified = |table: &str| format!("{dataset}.{}", quote_identifier_with(table, '"'));
    let storage = client.get_storage_tables().await?;
    let mut remote = Remote::default();
    for table in storage.keys() {
        let count = match count_rows(client.as_ref(), &qualified(table)).await {
            Ok(n) => RowCount::Count(n),
            Err(e) => RowCount::Error(e),
        };
        remote.counts.insert(table.clone(), count);
    }
    if let Some(loads_table) = find_key(&storage, "_dlt_loads") {
        let sql = format!(
            "SELECT load_id, schema_name, status, inserted_at, schema_version_hash FROM {} \
             ORDER BY inserted_at DESC, load_id DESC LIMIT {RECENT_LOADS}",
            qualified(loads_table)
        );
        match client.query(&sql).await {
            Ok(result) => {
                let text = |row: usize, column: &str| {
                    result
                        .get(row, column)
                        .map(|v| match v {
                            serde_json::Value::String(s) => s.clone(),
                            serde_json::Value::Null => String::new(),
                            other => other.to_string(),
                        })
                        .unwrap_or_default()
                };
                remote.loads = (0..result.rows.len())
                    .map(|row| LoadRecord {
                        load_id: text(row, "load_id"),
                        schema_name: text(row, "schema_name"),
                        status: text(row, "status"),
                        inserted_at: text(row, "inserted_at"),
                        schema_version_hash: text(row, "schema_version_hash"),
                    })
                    .collect();
            }
            Err(e) => remote.loads_error = Some(e.to_string()),
        }
    }
    remote.storage = Some(storage);
    Ok(remote)
}

async fn count_rows(client: &dyn LoadClient, qualified_table: &str) -> Result<u64, String> {
    let result = client
        .query(&format!("SELECT count(*) FROM {qualified_table}"))
        .await
        .map_err(|e| e.to_string())?;
    match result.scalar() {
        Some(serde_json::Value::Number(n)) => n.as_u64().ok_or_else(|| format!("count(*) returned {n}")),
        Some(serde_json::Value::String(s)) => s.parse().map_err(|_| format!("count(*) returned {s:?}")),
        other => Err(format!("count(*) returned {other:?}")),
    }
}

/// The key of `map` equal to `name`, or equal ignoring ASCII case (destinations that fold case).
fn find_key<'a, V>(map: &'a BTreeMap<String, V>, name: &str) -> Option<&'a String> {
    map.get_key_value(name)
        .map(|(k, _)| k)
        .or_else(|| map.keys().find(|k| k.eq_ignore_ascii_case(name)))
}

/// The tables of the schema in tree order (each parent followed by its children), with their columns
/// and row counts; then tables only the destination has.
fn tables(schema: Option<&Schema>, remote: Option<&Remote>) -> Vec<TableReport> {
    let storage = remote.and_then(|r| r.storage.as_ref());
    let mut out = Vec::new();
    let mut seen_in_storage = std::collections::BTreeSet::new();
    if let Some(schema) = schema {
        let names: std::collections::BTreeSet<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
        let mut children: BTreeMap<&str, Vec<&Table>> = BTreeMap::new();
        let mut roots = Vec::new();
        for table in &schema.tables {
            match table.parent.as_deref() {
                Some(parent) if names.contains(parent) && parent != table.name => {
                    children.entry(parent).or_default().push(table)
                }
                _ => roots.push(table),
            }
        }
        // dlt's own tables after the data tables.
        roots.sort_by_key(|t| t.name.starts_with("_dlt_"));
        // Depth first; a visited set guards against parent cycles in a hand-edited schema.
        let mut visited = std::collections::BTreeSet::new();
        let mut stack: Vec<(&Table, usize)> = roots.into_iter().rev().map(|t| (t, 0)).collect();
        while let Some((table, depth)) = stack.pop() {
            if !visited.insert(table.name.as_str()) {
                continue;
            }
            let stored = storage.and_then(|s| find_key(s, &table.name));
            if let Some(key) = stored {
                seen_in_storage.insert(key.clone());
            }
            out.push(table_report(schema, table, depth, stored, remote));
            if let Some(kids) = children.get(table.name.as_str()) {
                stack.extend(kids.iter().rev().map(|t| (*t, depth + 1)));
            }
        }
    }
    if let (Some(storage), Some(remote)) = (storage, remote) {
        for (name, columns) in storage {
            if seen_in_storage.contains(name) {
                continue;
            }
            out.push(TableReport {
                name: name.clone(),
                in_schema: false,
                columns: columns
                    .iter()
                    .map(|c| ColumnReport {
                        name: c.name.clone(),
                        destination_type: Some(c.data_type.clone()),
                        nullable: c.nullable,
                        ..ColumnReport::default()
                    })
                    .collect(),
                rows: remote.counts.get(name).cloned().unwrap_or(RowCount::Missing),
                ..TableReport::default()
            });
        }
    }
    out
}

fn table_report(
    schema: &Schema,
    table: &Table,
    depth: usize,
    stored: Option<&String>,
    remote: Option<&Remote>,
) -> TableReport {
    let stored_columns = stored.and_then(|key| remote?.storage.as_ref()?.get(key));
    let mut columns: Vec<ColumnReport> = table
        .columns
        .iter()
        .map(|c| {
            let hints = [
                (c.primary_key, "primary_key"),
                (c.merge_key, "merge_key"),
                (c.row_key, "row_key"),
                (c.parent_key, "parent_key"),
                (c.root_key, "root_key"),
                (c.unique, "unique"),
                (c.variant, "variant"),
            ]
            .into_iter()
            .filter(|(set, _)| *set)
            .map(|(_, hint)| hint.to_owned())
            .collect();
            ColumnReport {
                name: c.name.clone(),
                data_type: Some(c.data_type.as_str().to_owned()),
                destination_type: stored_columns.and_then(|cols| {
                    cols.iter()
                        .find(|s| s.name == c.name)
                        .or_else(|| cols.iter().find(|s| s.name.eq_ignore_ascii_case(&c.name)))
                        .map(|s| s.data_type.clone())
                }),
                nullable: c.nullable,
                hints,
            }
        })
        .collect();
    if let Some(stored_columns) = stored_columns {
        for s in stored_columns {
            if !table.columns.iter().any(|c| c.name.eq_ignore_ascii_case(&s.name)) {
                columns.push(ColumnReport {
                    name: s.name.clone(),
                    destination_type: Some(s.data_type.clone()),
                    nullable: s.nullable,
                    ..ColumnReport::default()
                });
            }
        }
    }
    let rows = match (remote, stored) {
        (None, _) => RowCount::Unknown,
        (Some(_), None) => RowCount::Missing,
        (Some(remote), Some(key)) => remote.counts.get(key).cloned().unwrap_or(RowCount::Missing),
    };
    TableReport {
        name: table.name.clone(),
        parent: table.parent.clone(),
        depth,
        write_disposition: schema
            .root_table(&table.name)
            .unwrap_or(table)
            .write_disposition
            .map(|w| w.as_str().to_owned()),
        resource: table.resource.clone(),
        in_schema: true,
        columns,
        rows,
    }
}
