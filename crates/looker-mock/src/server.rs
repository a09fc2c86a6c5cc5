//! The HTTP server: routing, auth, paging, faults and stats.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::data::{Kind, Res, render_one};
use crate::json::{Json, Sel};
use crate::{Dataset, FaultKind, MockConfig, RetryAfter, Second, Stats};

/// Bytes generated per streamed chunk of a list response.
const CHUNK: usize = 64 * 1024;
/// Largest accepted request body (login forms are tiny).
const MAX_BODY: usize = 64 * 1024;
/// Seconds of request timeline kept (a day); later requests are not added to it.
const MAX_TIMELINE: usize = 86_400;

/// A running mock Looker server; dropping it or calling [`MockServer::shutdown`] stops it.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl MockServer {
    /// Starts a server on `127.0.0.1` with an ephemeral port.
    pub async fn start(config: MockConfig) -> std::io::Result<MockServer> {
        Self::start_on(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a server on `addr` (port 0: an ephemeral port). Must be called within a tokio
    /// runtime; the server runs on that runtime until stopped.
    pub async fn start_on(config: MockConfig, addr: SocketAddr) -> std::io::Result<MockServer> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config, format!("http://{addr}")));
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, shared.clone(), stop_rx));
        Ok(MockServer {
            addr,
            shared,
            stop,
            task: Some(task),
        })
    }

    /// `http://HOST:PORT`, without a trailing slash; the API lives under `/api/4.0`.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// The generated data, for exact expectations in tests.
    pub fn dataset(&self) -> &Dataset {
        &self.shared.dataset
    }

    /// Stops accepting connections, closes the open ones and waits until the server task ended.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of descriptors or similar: back off briefly rather than spin.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                connections.spawn(async move {
                    let service = service_fn(move |req| handle(shared.clone(), req));
                    let _ = http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// shared state

#[derive(Debug)]
struct Shared {
    config: MockConfig,
    dataset: Dataset,
    base_url: String,
    tokens: Mutex<HashMap<String, Instant>>,
    tokens_issued: AtomicU64,
    fault_hits: Vec<AtomicU64>,
    requests: Mutex<BTreeMap<&'static str, u64>>,
    total_requests: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    logins: AtomicU64,
    logouts: AtomicU64,
    unauthorized: AtomicU64,
    faults_served: AtomicU64,
    bytes_sent: AtomicU64,
    /// When the first request arrived: the origin of the timeline and of the storm window.
    first_request: OnceLock<Instant>,
    /// Requests that arrived within the storm window so far.
    storm_seen: AtomicU64,
    storm_throttled: AtomicU64,
    /// 429s without `Retry-After` served by the quirks.
    quirk_throttled: AtomicU64,
    /// Sum of the requests' in-flight times, in nanoseconds.
    in_flight_ns: AtomicU64,
    /// The latest response end, in nanoseconds after the first request.
    last_end_ns: AtomicU64,
    timeline: Mutex<Vec<Second>>,
}

impl Shared {
    fn new(config: MockConfig, base_url: String) -> Self {
        Shared {
            dataset: Dataset::new(&config),
            fault_hits: config.faults.iter().map(|_| AtomicU64::new(0)).collect(),
            config,
            base_url,
            tokens: Mutex::new(HashMap::new()),
            tokens_issued: AtomicU64::new(0),
            requests: Mutex::new(BTreeMap::new()),
            total_requests: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
            logins: AtomicU64::new(0),
            logouts: AtomicU64::new(0),
            unauthorized: AtomicU64::new(0),
            faults_served: AtomicU64::new(0),
            bytes_sent: AtomicU64::new(0),
            first_request: OnceLock::new(),
            storm_seen: AtomicU64::new(0),
            storm_throttled: AtomicU64::new(0),
            quirk_throttled: AtomicU64::new(0),
            in_flight_ns: AtomicU64::new(0),
            last_end_ns: AtomicU64::new(0),
            timeline: Mutex::new(Vec::new()),
        }
    }

    /// Time since the first request (zero for the first request itself).
    fn since_first(&self, at: Instant) -> Duration {
        at.saturating_duration_since(*self.first_request.get_or_init(|| at))
    }

    /// Counts a request arriving at `at` in the timeline; `faulted` when it gets a fault.
    fn note_second(&self, at: Instant, faulted: bool) {
        let second = usize::try_from(self.since_first(at).as_secs()).unwrap_or(usize::MAX);
        if second >= MAX_TIMELINE {
            return;
        }
        if let Ok(mut t) = self.timeline.lock() {
            if t.len() <= second {
                t.resize(second + 1, Second::default());
            }
            if faulted {
                t[second].faulted += 1;
            } else {
                t[second].requests += 1;
            }
        }
    }

    /// Whether the storm answers 429 to a request arriving at `at`.
    fn storm_hits(&self, at: Instant) -> bool {
        let Some(storm) = &self.config.storm else {
            return false;
        };
        let since = self.since_first(at);
        if since < storm.start || since >= storm.start.saturating_add(storm.duration) {
            return false;
        }
        let k = self.storm_seen.fetch_add(1, Ordering::Relaxed);
        splitmix(self.config.seed ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15)) % 100 < u64::from(storm.percent)
    }

    fn stats(&self) -> Stats {
        let requests = self
            .requests
            .lock()
            .map(|m| m.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect())
            .unwrap_or_default();
        Stats {
            requests,
            total_requests: self.total_requests.load(Ordering::Relaxed),
            max_in_flight: self.max_in_flight.load(Ordering::Relaxed),
            logins: self.logins.load(Ordering::Relaxed),
            logouts: self.logouts.load(Ordering::Relaxed),
            unauthorized: self.unauthorized.load(Ordering::Relaxed),
            faults_served: self.faults_served.load(Ordering::Relaxed),
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            storm_throttled: self.storm_throttled.load(Ordering::Relaxed),
            quirk_throttled: self.quirk_throttled.load(Ordering::Relaxed),
            in_flight_time: Duration::from_nanos(self.in_flight_ns.load(Ordering::Relaxed)),
            active_span: Duration::from_nanos(self.last_end_ns.load(Ordering::Relaxed)),
            timeline: self.timeline.lock().map(|t| t.clone()).unwrap_or_default(),
        }
    }

    /// Counts a request to `template`; returns how many it has had, this one included.
    fn count_endpoint(&self, template: &'static str) -> u64 {
        match self.requests.lock() {
            Ok(mut m) => {
                let n = m.entry(template).or_insert(0);
                *n += 1;
                *n
            }
            Err(_) => 0,
        }
    }

    /// Quirks: whether the `n`-th request to `template` gets a 429 without `Retry-After` (one
    /// request per endpoint, the 1st, 2nd or 3rd by seed; never a login or logout).
    fn quirk_throttles(&self, template: &str, n: u64) -> bool {
        if !self.config.quirks || template.starts_with("POST /login") || template.contains("/logout") {
            return false;
        }
        let h = template
            .bytes()
            .fold(self.config.seed ^ 0x429, |h, b| splitmix(h ^ u64::from(b)));
        n == 1 + h % 3
    }

    /// The first fault whose window covers this request (every matching fault counts it).
    fn fault_for(&self, target: &str) -> Option<FaultKind> {
        let mut chosen = None;
        for (fault, hits) in self.config.faults.iter().zip(&self.fault_hits) {
            if target.contains(fault.path.as_str()) {
                let n = hits.fetch_add(1, Ordering::Relaxed) + 1;
                if chosen.is_none() && n >= fault.nth && n < fault.nth.saturating_add(fault.times.max(1)) {
                    chosen = Some(fault.kind.clone());
                }
            }
        }
        chosen
    }

    fn issue_token(&self) -> String {
        let n = self.tokens_issued.fetch_add(1, Ordering::Relaxed);
        let token = self.dataset.token(n);
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.insert(token.clone(), Instant::now());
        }
        token
    }

    /// The valid token of this request, if any (expired tokens are forgotten).
    fn authorized(&self, req: &Request<Incoming>) -> Option<String> {
        let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("token") && !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let token = token.trim();
        let mut tokens = self.tokens.lock().ok()?;
        let issued = *tokens.get(token)?;
        if issued.elapsed() >= self.config.token_ttl {
            tokens.remove(token);
            return None;
        }
        Some(token.to_owned())
    }
}

// ---------------------------------------------------------------------------------------------
// responses

/// Ends the in-flight span of a request when its response body is done (or dropped).
#[derive(Debug)]
struct InFlight {
    shared: Arc<Shared>,
    started: Instant,
}

impl InFlight {
    fn start(shared: &Arc<Shared>) -> Self {
        let started = Instant::now();
        shared.since_first(started);
        let now = shared.in_flight.fetch_add(1, Ordering::AcqRel) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::AcqRel);
        InFlight {
            shared: shared.clone(),
            started,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let shared = &self.shared;
        shared.in_flight.fetch_sub(1, Ordering::AcqRel);
        let now = Instant::now();
        let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        shared.in_flight_ns.fetch_add(
            nanos(now.saturating_duration_since(self.started)),
            Ordering::Relaxed,
        );
        shared
            .last_end_ns
            .fetch_max(nanos(shared.since_first(now)), Ordering::Relaxed);
    }
}

/// SplitMix64: a well-mixed 64-bit hash of `x`.
fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Which items a list response holds, in served order.
#[derive(Debug)]
enum Order {
    Asc,
    Desc,
    Explicit(Arc<Vec<u32>>),
}

/// A list response generated chunk by chunk while hyper sends it.
#[derive(Debug)]
struct ListGen {
    kind: Kind,
    sel: Option<Sel>,
    order: Order,
    /// Number of items in the full (unpaged) order.
    total: usize,
    pos: usize,
    end: usize,
    started: bool,
    written: usize,
    closed: bool,
}

impl ListGen {
    fn item_at(&self, pos: usize) -> usize {
        match &self.order {
            Order::Asc => pos,
            Order::Desc => self.total - 1 - pos,
            Order::Explicit(v) => v[pos] as usize,
        }
    }

    /// Appends the next chunk (about `limit` bytes) to `out`; true when the list is complete.
    fn fill(&mut self, dataset: &Dataset, out: &mut Vec<u8>, limit: usize) -> bool {
        if !self.started {
            self.started = true;
            out.push(b'[');
        }
        while self.pos < self.end && out.len() < limit {
            if self.written > 0 {
                out.push(b',');
            }
            let index = self.item_at(self.pos);
            dataset.write(self.kind, index, &mut Json::new(out, self.sel.as_ref()));
            self.pos += 1;
            self.written += 1;
        }
        if self.pos >= self.end && !self.closed {
            self.closed = true;
            out.push(b']');
        }
        self.closed
    }
}

#[derive(Debug)]
enum Payload {
    Full(Option<Bytes>),
    List(Box<ListGen>, bool),
}

/// The response body: fixed bytes or a streamed list; counts bytes sent and ends the in-flight span.
#[derive(Debug)]
struct MockBody {
    payload: Payload,
    shared: Arc<Shared>,
    _in_flight: Option<InFlight>,
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        let chunk = match &mut this.payload {
            Payload::Full(bytes) => bytes.take(),
            Payload::List(_, true) => None,
            Payload::List(list, done) => {
                let mut out = Vec::with_capacity(CHUNK + CHUNK / 4);
                *done = list.fill(&this.shared.dataset, &mut out, CHUNK);
                Some(Bytes::from(out))
            }
        };
        match chunk {
            Some(bytes) => {
                this.shared
                    .bytes_sent
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                if this.is_end_stream() {
                    // The response is complete once its last bytes are handed to hyper.
                    this._in_flight = None;
                }
                Poll::Ready(Some(Ok(Frame::data(bytes))))
            }
            None => {
                this._in_flight = None;
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.payload {
            Payload::Full(b) => b.is_none(),
            Payload::List(_, done) => *done,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.payload {
            Payload::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Payload::Full(None) => SizeHint::with_exact(0),
            Payload::List(..) => SizeHint::default(),
        }
    }
}

/// A response under construction (status, headers, payload), finished by `into_response`.
struct Reply {
    status: StatusCode,
    /// The `Content-Type` of a non-empty body.
    content_type: &'static str,
    headers: Vec<(header::HeaderName, HeaderValue)>,
    payload: Payload,
}

impl Reply {
    fn json(status: StatusCode, body: Vec<u8>) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            payload: Payload::Full(Some(Bytes::from(body))),
        }
    }

    fn empty(status: StatusCode) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            payload: Payload::Full(None),
        }
    }

    fn error(status: StatusCode, message: &str, method: &Method, path: &str) -> Reply {
        let mut out = Vec::with_capacity(160);
        let mut w = Json::new(&mut out, None);
        w.vo();
        w.s("message", message);
        w.fmt(
            "documentation_url",
            format_args!(
                "https://cloud.google.com/looker/docs/r/err/4.0/{}/{}/{}",
                status.as_u16(),
                method.as_str().to_ascii_lowercase(),
                path.trim_start_matches('/')
            ),
        );
        w.end_o();
        Reply::json(status, out)
    }

    fn header(mut self, name: header::HeaderName, value: &str) -> Reply {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    /// Replaces the body by its first half: invalid JSON with a 200 status.
    fn malformed(mut self, shared: &Shared) -> Reply {
        let mut body = Vec::new();
        match &mut self.payload {
            Payload::Full(Some(b)) => body.extend_from_slice(b),
            Payload::Full(None) => {}
            Payload::List(list, _) => while !list.fill(&shared.dataset, &mut body, usize::MAX) {},
        }
        if body.len() < 2 {
            body = b"{\"message\":".to_vec();
        } else {
            body.truncate(body.len() / 2);
        }
        self.status = StatusCode::OK;
        self.payload = Payload::Full(Some(Bytes::from(body)));
        self
    }

    fn into_response(self, shared: Arc<Shared>, in_flight: InFlight) -> Response<MockBody> {
        let has_body = !matches!(self.payload, Payload::Full(None));
        let content_type = self.content_type;
        let mut resp = Response::new(MockBody {
            payload: self.payload,
            shared,
            _in_flight: Some(in_flight),
        });
        *resp.status_mut() = self.status;
        let headers = resp.headers_mut();
        if has_body {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        headers.insert(header::SERVER, HeaderValue::from_static("looker-mock"));
        for (k, v) in self.headers {
            headers.append(k, v);
        }
        resp
    }
}

/// Returned by the service to make hyper drop the connection without answering.
#[derive(Debug, thiserror::Error)]
#[error("connection reset by fault injection")]
struct ResetConnection;

// ---------------------------------------------------------------------------------------------
// routing

/// How a list endpoint pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Paging {
    /// No paging: the whole list, whatever the parameters.
    All,
    /// limit/offset only (optional).
    LimitOffset,
    /// limit/offset plus the deprecated page/per_page.
    LimitOffsetPages,
}

#[derive(Debug)]
enum Route {
    Login,
    Logout,
    List {
        kind: Kind,
        paging: Paging,
        sortable: bool,
    },
    Item {
        kind: Kind,
        id: String,
    },
    Unknown,
}

fn route(method: &Method, path: &str) -> (Route, &'static str) {
    if method == Method::DELETE && path == "/api/logout" {
        return (Route::Logout, "DELETE /logout");
    }
    let Some(rest) = path.strip_prefix("/api/4.0") else {
        return unknown(method);
    };
    let rest = rest.trim_end_matches('/');
    let segs: Vec<&str> = rest.split('/').skip(1).collect();
    use Paging::*;
    let list = |kind, paging, sortable| Route::List {
        kind,
        paging,
        sortable,
    };
    let item = |kind, id: &str| Route::Item {
        kind,
        id: id.to_owned(),
    };
    match (method, segs.as_slice()) {
        (&Method::POST, ["login"]) => (Route::Login, "POST /login"),
        (&Method::DELETE, ["logout"]) => (Route::Logout, "DELETE /logout"),
        (&Method::GET, ["users"]) => (list(Kind::User, LimitOffsetPages, true), "GET /users"),
        (&Method::GET, ["users", id]) => (item(Kind::User, id), "GET /users/{id}"),
        (&Method::GET, ["looks"]) => (list(Kind::Look, All, false), "GET /looks"),
        (&Method::GET, ["looks", "search"]) => {
            (list(Kind::Look, LimitOffsetPages, true), "GET /looks/search")
        }
        (&Method::GET, ["looks", id]) => (item(Kind::LookWithQuery, id), "GET /looks/{id}"),
        (&Method::GET, ["dashboards"]) => (list(Kind::DashboardBase, All, false), "GET /dashboards"),
        (&Method::GET, ["dashboards", "search"]) => (
            list(Kind::Dashboard, LimitOffsetPages, true),
            "GET /dashboards/search",
        ),
        (&Method::GET, ["dashboards", id]) => (item(Kind::Dashboard, id), "GET /dashboards/{id}"),
        (&Method::GET, ["queries", id]) => (item(Kind::Query, id), "GET /queries/{id}"),
        (&Method::GET, ["projects"]) => (list(Kind::Project, All, false), "GET /projects"),
        (&Method::GET, ["projects", id]) => (item(Kind::Project, id), "GET /projects/{id}"),
        (&Method::GET, ["folders"]) => (list(Kind::FolderBase, All, false), "GET /folders"),
        (&Method::GET, ["folders", "search"]) => {
            (list(Kind::Folder, LimitOffsetPages, true), "GET /folders/search")
        }
        (&Method::GET, ["folders", id]) => (item(Kind::Folder, id), "GET /folders/{id}"),
        (&Method::GET, ["groups"]) => (list(Kind::Group, LimitOffsetPages, true), "GET /groups"),
        (&Method::GET, ["groups", id]) => (item(Kind::Group, id), "GET /groups/{id}"),
        (&Method::GET, ["roles"]) => (list(Kind::Role, All, false), "GET /roles"),
        (&Method::GET, ["roles", id]) => (item(Kind::Role, id), "GET /roles/{id}"),
        (&Method::GET, ["lookml_models"]) => {
            (list(Kind::LookmlModel, LimitOffset, false), "GET /lookml_models")
        }
        (&Method::GET, ["lookml_models", id]) => (item(Kind::LookmlModel, id), "GET /lookml_models/{id}"),
        (&Method::GET, ["scheduled_plans"]) => {
            (list(Kind::ScheduledPlan, All, false), "GET /scheduled_plans")
        }
        (&Method::GET, ["scheduled_plans", id]) => {
            (item(Kind::ScheduledPlan, id), "GET /scheduled_plans/{id}")
        }
        (&Method::GET, ["connections"]) => (list(Kind::Connection, All, false), "GET /connections"),
        (&Method::GET, ["connections", id]) => (item(Kind::Connection, id), "GET /connections/{id}"),
        (&Method::GET, ["user_attributes"]) => {
            (list(Kind::UserAttribute, All, false), "GET /user_attributes")
        }
        (&Method::GET, ["user_attributes", id]) => {
            (item(Kind::UserAttribute, id), "GET /user_attributes/{id}")
        }
        _ => unknown(method),
    }
}

fn unknown(method: &Method) -> (Route, &'static str) {
    let template = match *method {
        Method::GET => "GET (unknown)",
        Method::POST => "POST (unknown)",
        Method::PUT => "PUT (unknown)",
        Method::PATCH => "PATCH (unknown)",
        Method::DELETE => "DELETE (unknown)",
        _ => "OTHER (unknown)",
    };
    (Route::Unknown, template)
}

// ---------------------------------------------------------------------------------------------
// handling

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<MockBody>, ResetConnection> {
    let in_flight = InFlight::start(&shared);
    shared.total_requests.fetch_add(1, Ordering::Relaxed);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| path.clone(), |pq| pq.as_str().to_owned());
    let (route, template) = route(&method, &path);
    let nth = shared.count_endpoint(template);
    let fault = shared.fault_for(&target);
    let storm = fault.is_none() && shared.storm_hits(in_flight.started);
    shared.note_second(in_flight.started, false);
    if !shared.config.latency.is_zero() {
        tokio::time::sleep(shared.config.latency).await;
    }
    let api_path = path.strip_prefix("/api/4.0").unwrap_or(&path).to_owned();
    if storm {
        shared.faults_served.fetch_add(1, Ordering::Relaxed);
        shared.storm_throttled.fetch_add(1, Ordering::Relaxed);
        shared.note_second(in_flight.started, true);
        let mut reply = Reply::error(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests. Please try again later.",
            &method,
            &api_path,
        );
        if let Some(secs) = shared.config.storm.as_ref().and_then(|s| s.retry_after) {
            reply = reply.header(header::RETRY_AFTER, &secs.to_string());
        }
        return Ok(reply.into_response(shared, in_flight));
    }
    if fault.is_none() && shared.quirk_throttles(template, nth) {
        shared.faults_served.fetch_add(1, Ordering::Relaxed);
        shared.quirk_throttled.fetch_add(1, Ordering::Relaxed);
        shared.note_second(in_flight.started, true);
        // The one recorded real 429 had no `Retry-After`.
        let reply = Reply::error(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests. Please try again later.",
            &method,
            &api_path,
        );
        return Ok(reply.into_response(shared, in_flight));
    }
    let mut malformed = false;
    if let Some(kind) = fault {
        shared.faults_served.fetch_add(1, Ordering::Relaxed);
        shared.note_second(in_flight.started, true);
        match kind {
            FaultKind::Reset => return Err(ResetConnection),
            FaultKind::Slow(delay) => tokio::time::sleep(delay).await,
            FaultKind::Malformed => malformed = true,
            FaultKind::Status { status, retry_after } => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                let message = match status.as_u16() {
                    429 => "Too many requests. Please try again later.",
                    502 => "Bad Gateway",
                    503 => "Service Unavailable",
                    504 => "Gateway Timeout",
                    _ => "An error has occurred.",
                };
                let mut reply = Reply::error(status, message, &method, &api_path);
                match retry_after {
                    Some(RetryAfter::Seconds(s)) => {
                        reply = reply.header(header::RETRY_AFTER, &s.to_string());
                    }
                    Some(RetryAfter::HttpDate(after)) => {
                        let at = SystemTime::now() + after;
                        reply = reply.header(header::RETRY_AFTER, &httpdate::fmt_http_date(at));
                    }
                    None => {}
                }
                return Ok(reply.into_response(shared, in_flight));
            }
        }
    }
    let reply = respond(&shared, route, req, &method, &api_path).await;
    let reply = if malformed {
        reply.malformed(&shared)
    } else {
        reply
    };
    Ok(reply.into_response(shared, in_flight))
}

async fn respond(
    shared: &Arc<Shared>,
    route: Route,
    req: Request<Incoming>,
    method: &Method,
    api_path: &str,
) -> Reply {
    let query = req.uri().query().unwrap_or("").to_owned();
    match route {
        Route::Unknown => not_found(shared, method, api_path),
        Route::Login => login(shared, req, &query, method, api_path).await,
        Route::Logout => {
            let Some(token) = shared.authorized(&req) else {
                return unauthorized(shared, method, api_path);
            };
            if let Ok(mut tokens) = shared.tokens.lock() {
                tokens.remove(&token);
            }
            shared.logouts.fetch_add(1, Ordering::Relaxed);
            Reply::empty(StatusCode::NO_CONTENT)
        }
        Route::Item { kind, id } => {
            if shared.authorized(&req).is_none() {
                return unauthorized(shared, method, api_path);
            }
            let params = Params::parse(&query);
            let Some(index) = shared.dataset.index_of(kind.res(), &id) else {
                return not_found(shared, method, api_path);
            };
            if kind == Kind::Query && shared.dataset.is_hidden_query(shared.dataset.query_id_at(index)) {
                // Looker answers 404 for objects the caller may not see.
                return not_found(shared, method, api_path);
            }
            let sel = params.get("fields").and_then(Sel::parse);
            let body = render_one(&shared.dataset, kind, index, sel.as_ref());
            Reply::json(StatusCode::OK, body)
        }
        Route::List {
            kind,
            paging,
            sortable,
        } => {
            if shared.authorized(&req).is_none() {
                return unauthorized(shared, method, api_path);
            }
            let params = Params::parse(&query);
            list(shared, &params, kind, paging, sortable, method, api_path)
        }
    }
}

/// A 404: Looker's JSON error, or with quirks the HTML page real instances send.
fn not_found(shared: &Shared, method: &Method, api_path: &str) -> Reply {
    if !shared.config.quirks {
        return Reply::error(StatusCode::NOT_FOUND, "Not found", method, api_path);
    }
    let mut body = String::with_capacity(512);
    body.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>Looker Not Found (404)</title>\n</head>\n<body>\n<div class=\"error\">\n\
         <h1>Looker Not Found (404)</h1>\n<p>The page you requested could not be found: ",
    );
    for c in api_path.chars() {
        match c {
            '<' => body.push_str("&lt;"),
            '>' => body.push_str("&gt;"),
            '&' => body.push_str("&amp;"),
            c => body.push(c),
        }
    }
    body.push_str("</p>\n</div>\n</body>\n</html>\n");
    let mut reply = Reply::json(StatusCode::NOT_FOUND, body.into_bytes());
    reply.content_type = "text/html; charset=utf-8";
    reply
}

fn unauthorized(shared: &Shared, method: &Method, api_path: &str) -> Reply {
    shared.unauthorized.fetch_add(1, Ordering::Relaxed);
    Reply::error(
        StatusCode::UNAUTHORIZED,
        "Requires authentication.",
        method,
        api_path,
    )
}

async fn login(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
    query: &str,
    method: &Method,
    api_path: &str,
) -> Reply {
    let body = match http_body_util::Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Reply::error(
                StatusCode::BAD_REQUEST,
                "Request body too large or unreadable",
                method,
                api_path,
            );
        }
    };
    let form = Params::parse(&String::from_utf8_lossy(&body));
    let from_query = Params::parse(query);
    let client_id = form.get("client_id").or_else(|| from_query.get("client_id"));
    let client_secret = form
        .get("client_secret")
        .or_else(|| from_query.get("client_secret"));
    if client_id != Some(shared.config.client_id.as_str())
        || client_secret != Some(shared.config.client_secret.as_str())
    {
        return Reply::error(StatusCode::NOT_FOUND, "Not found", method, api_path);
    }
    let token = shared.issue_token();
    shared.logins.fetch_add(1, Ordering::Relaxed);
    let mut out = Vec::with_capacity(128);
    let mut w = Json::new(&mut out, None);
    w.vo();
    w.s("access_token", &token);
    w.s("token_type", "Bearer");
    let ttl = shared.config.token_ttl.as_secs() as i64;
    // Real API 4.0 logins announce one second less than the lifetime (3599 for an hour).
    let expires_in = if shared.config.quirks {
        (ttl - 1).max(1)
    } else {
        ttl
    };
    w.i("expires_in", expires_in);
    w.n("refresh_token");
    w.end_o();
    Reply::json(StatusCode::OK, out)
}

fn list(
    shared: &Arc<Shared>,
    params: &Params,
    kind: Kind,
    paging: Paging,
    sortable: bool,
    method: &Method,
    api_path: &str,
) -> Reply {
    let dataset = &shared.dataset;
    let res = kind.res();
    // Only soft-deleted content would match `deleted=true`, and the mock has none.
    if params.get("deleted") == Some("true") && matches!(res, Res::Looks | Res::Dashboards) {
        return Reply::json(StatusCode::OK, b"[]".to_vec());
    }
    let mut order = Order::Asc;
    let mut total = dataset.len(res);
    if res == Res::ScheduledPlans && params.get("all_users") != Some("true") {
        let mine = dataset.api_user_plans();
        total = mine.len();
        order = Order::Explicit(mine);
    } else if sortable && let Some(sorts) = params.get("sorts") {
        let sorts = sorts.trim();
        let desc_id = sorts.split_whitespace().collect::<Vec<_>>().as_slice() == ["id", "desc"];
        if desc_id {
            order = Order::Desc;
        } else if let Some(explicit) = dataset.sort_order(res, sorts) {
            order = Order::Explicit(explicit);
        }
    }
    let (start, end, limit) = match page_window(params, paging, total) {
        Ok(w) => w,
        Err(message) => {
            return Reply::error(StatusCode::BAD_REQUEST, &message, method, api_path);
        }
    };
    let sel = params.get("fields").and_then(Sel::parse);
    let returned = end - start;
    let mut reply = Reply {
        content_type: "application/json",
        status: StatusCode::OK,
        headers: Vec::new(),
        payload: Payload::List(
            Box::new(ListGen {
                kind,
                sel,
                order,
                total,
                pos: start,
                end,
                started: false,
                written: 0,
                closed: false,
            }),
            false,
        ),
    };
    if let Some(limit) = limit {
        reply = reply.header(
            header::LINK,
            &links(shared, api_path, params, limit, start, returned, total),
        );
        if shared.config.total_count {
            reply = reply.header(
                header::HeaderName::from_static("x-total-count"),
                &total.to_string(),
            );
        }
    }
    reply
}

/// The window `[start, end)` of a list of `total` items, and the page size when paging was asked.
fn page_window(
    params: &Params,
    paging: Paging,
    total: usize,
) -> Result<(usize, usize, Option<usize>), String> {
    let num = |name: &str| -> Result<Option<usize>, String> {
        match params.get(name) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .map(|n| Some(n.max(0) as usize))
                .map_err(|_| format!("Invalid value for {name}: {v:?} is not an integer")),
        }
    };
    if paging == Paging::All {
        return Ok((0, total, None));
    }
    let limit = num("limit")?;
    let offset = num("offset")?;
    let (start, size) = if limit.is_some() || offset.is_some() {
        (offset.unwrap_or(0), limit)
    } else if paging == Paging::LimitOffsetPages
        && let Some(per_page) = num("per_page")?
    {
        let page = num("page")?.unwrap_or(1).max(1);
        ((page - 1).saturating_mul(per_page), Some(per_page))
    } else {
        (0, None)
    };
    let start = start.min(total);
    let end = match size {
        Some(size) => start.saturating_add(size).min(total),
        None => total,
    };
    Ok((start, end, size))
}

/// The `Link` header: `first`, `next` (when the page was full), `prev`, `last`.
fn links(
    shared: &Shared,
    api_path: &str,
    params: &Params,
    limit: usize,
    start: usize,
    returned: usize,
    total: usize,
) -> String {
    let base: String = params
        .pairs
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "limit" | "offset" | "page" | "per_page"))
        .map(|(k, v)| format!("{}={}&", encode(k), encode(v)))
        .collect();
    let url = |offset: usize| {
        format!(
            "<{}/api/4.0{}?{}limit={}&offset={}>",
            shared.base_url, api_path, base, limit, offset
        )
    };
    let mut parts = vec![format!("{}; rel=\"first\"", url(0))];
    if returned == limit && limit > 0 {
        parts.push(format!("{}; rel=\"next\"", url(start + limit)));
    }
    if start > 0 {
        parts.push(format!("{}; rel=\"prev\"", url(start.saturating_sub(limit))));
    }
    if let Some(pages) = total.saturating_sub(1).checked_div(limit) {
        let last = pages * limit;
        parts.push(format!("{}; rel=\"last\"", url(last)));
    }
    parts.join(", ")
}

// ---------------------------------------------------------------------------------------------
// query strings and forms

/// Decoded `application/x-www-form-urlencoded` pairs (query strings and login forms).
#[derive(Debug, Default)]
struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    fn parse(s: &str) -> Params {
        let pairs = s
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect();
        Params { pairs }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (
                    bytes.get(i + 1).and_then(|&b| hex(b)),
                    bytes.get(i + 2).and_then(|&b| hex(b)),
                ) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b',' | b'(' | b')' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_forms() {
        assert_eq!(decode("a+b%20c%2Cd"), "a b c,d");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
        let p = Params::parse("sorts=updated_at+desc%2Cid&limit=5");
        assert_eq!(p.get("sorts"), Some("updated_at desc,id"));
        assert_eq!(p.get("limit"), Some("5"));
    }

    #[test]
    fn windows() {
        let p = Params::parse("limit=10&offset=95&page=1&per_page=3");
        assert_eq!(
            page_window(&p, Paging::LimitOffsetPages, 100),
            Ok((95, 100, Some(10)))
        );
        let p = Params::parse("page=2&per_page=30");
        assert_eq!(
            page_window(&p, Paging::LimitOffsetPages, 100),
            Ok((30, 60, Some(30)))
        );
        assert_eq!(page_window(&p, Paging::LimitOffset, 100), Ok((0, 100, None)));
        assert_eq!(page_window(&p, Paging::All, 100), Ok((0, 100, None)));
        let p = Params::parse("limit=x");
        assert!(page_window(&p, Paging::LimitOffset, 100).is_err());
    }
}
