//! A mock Looker API 4.0 server: the stand-in for the source end of extract → normalize → load.
//!
//! [`MockServer`] is a real HTTP/1.1 server (hyper, keep-alive) that answers every endpoint the
//! extractor (`crates/looker`) calls, with data generated deterministically from a seed and shaped
//! like the official API 4.0 schemas (`tests/data/item_shapes.json`). Tests, benchmarks and
//! `looker-load run --demo` start it in-process; the `looker-mock` binary runs it standalone.
//!
//! * Data is lazy: item `i` of a resource is a pure function of `(seed, resource, i)`, and list
//!   responses are generated page by page and streamed in chunks, so memory stays small whatever the
//!   configured sizes.
//! * Auth works like Looker: `POST /api/4.0/login` (form body) issues a token that expires after
//!   [`MockConfig::token_ttl`]; `DELETE /api/4.0/logout` revokes it; everything else needs
//!   `Authorization: token …` or `Bearer …`.
//! * Faults ([`Fault`]) inject 429/5xx answers (with `Retry-After`), malformed bodies, slow answers and
//!   connection resets on exactly the n-th matching request, so retry logic can be tested exactly.
//! * [`Stats`] counts requests per endpoint, the peak number in flight, logins, logouts and 401s.

mod data;
mod fault;
mod json;
mod server;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

pub use data::Dataset;
pub use fault::ParseFaultError;
pub use server::MockServer;

/// The client id the mock accepts by default (also used by `looker-load run --demo`).
pub const DEMO_CLIENT_ID: &str = "demo-client-id";
/// The client secret the mock accepts by default (also used by `looker-load run --demo`).
pub const DEMO_CLIENT_SECRET: &str = "demo-client-secret";

/// How a [`MockServer`] behaves: dataset sizes, credentials, token lifetime, latency and faults.
#[derive(Clone)]
pub struct MockConfig {
    /// Number of users served by `GET /users`.
    pub users: usize,
    /// Number of looks served by `GET /looks` and `GET /looks/search`.
    pub looks: usize,
    /// Number of dashboards served by `GET /dashboards` and `GET /dashboards/search`.
    pub dashboards: usize,
    /// Seed of the generated data: the same seed and sizes give byte-identical responses.
    pub seed: u64,
    /// Revision of the data, to test loads that see the instance change between runs. Revision 0 is
    /// the base data. From revision 1, every 7th user (ids 7, 14, …) has another `first_name` (and
    /// so `display_name`) for each revision and a `looker_versions` list of another length (one
    /// longer, or one entry when it had them all), every user carries a top-level `is_partner` field
    /// (true for ids divisible by 4) that revision 0 lacks, and every 5th look has a revision-specific
    /// `title` and a later `updated_at`. From revision 2, `3 × (revision − 1)` new users follow the
    /// configured ones (ids `users + 1`, …); they own no content. Ids of existing items never change.
    pub revision: u64,
    /// The client id `POST /login` accepts.
    pub client_id: String,
    /// The client secret `POST /login` accepts (never printed by `Debug`).
    pub client_secret: String,
    /// Lifetime of an access token: sent as `expires_in`, and the token answers 401 once older.
    pub token_ttl: Duration,
    /// Fixed delay added before answering every request (zero: none).
    pub latency: Duration,
    /// Faults to inject, each on chosen requests of the paths it matches.
    pub faults: Vec<Fault>,
}

impl fmt::Debug for MockConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockConfig")
            .field("users", &self.users)
            .field("looks", &self.looks)
            .field("dashboards", &self.dashboards)
            .field("seed", &self.seed)
            .field("revision", &self.revision)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("token_ttl", &self.token_ttl)
            .field("latency", &self.latency)
            .field("faults", &self.faults)
            .finish()
    }
}

impl Default for MockConfig {
    /// A small instance: 50 users, 20 looks, 10 dashboards, seed 42, revision 0, the demo
    /// credentials, tokens valid for an hour, no latency and no faults.
    fn default() -> Self {
        MockConfig {
            users: 50,
            looks: 20,
            dashboards: 10,
            seed: 42,
            revision: 0,
            client_id: DEMO_CLIENT_ID.to_owned(),
            client_secret: DEMO_CLIENT_SECRET.to_owned(),
            token_ttl: Duration::from_secs(3600),
            latency: Duration::ZERO,
            faults: Vec::new(),
        }
    }
}

impl MockConfig {
    /// The default configuration with the given numbers of users, looks and dashboards.
    pub fn with_size(users: usize, looks: usize, dashboards: usize) -> Self {
        MockConfig {
            users,
            looks,
            dashboards,
            ..MockConfig::default()
        }
    }
}

/// One injected fault: requests whose path (and query string) contains [`Fault::path`] are counted
/// (every one, retries included), and the `nth` to `nth + times - 1` of them get [`Fault::kind`].
///
/// Parse the command-line form `PATH:NTH[:TIMES]:KIND` with [`str::parse`], where KIND is
/// `429`, `429@SECS`, `429@date`, `500`, `502`, `503`, `504`, `malformed`, `slow@MS` or `reset`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Substring of the request target (path plus `?query`), e.g. `"/users"` or `"offset=1000"`.
    pub path: String,
    /// 1-based index, among requests matching `path`, of the first affected request.
    pub nth: u64,
    /// How many consecutive matching requests are affected (at least 1).
    pub times: u64,
    /// What the affected requests get.
    pub kind: FaultKind,
}

impl Fault {
    /// A fault on the `nth` request matching `path`, once.
    pub fn new(path: impl Into<String>, nth: u64, kind: FaultKind) -> Self {
        Fault {
            path: path.into(),
            nth,
            times: 1,
            kind,
        }
    }

    /// The same fault on `times` consecutive matching requests.
    pub fn times(mut self, times: u64) -> Self {
        self.times = times;
        self
    }
}

/// What a faulted request gets instead of its normal answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// An error status (429, 500, 502, 503 or 504) with a Looker error body, optionally with
    /// `Retry-After`.
    Status {
        /// The HTTP status code.
        status: u16,
        /// The `Retry-After` header to send, if any.
        retry_after: Option<RetryAfter>,
    },
    /// A 200 answer whose JSON body is cut short (invalid JSON).
    Malformed,
    /// The normal answer, sent after this extra delay.
    Slow(Duration),
    /// The connection is closed without any answer.
    Reset,
}

/// The value of a `Retry-After` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: <seconds>`.
    Seconds(u64),
    /// `Retry-After: <HTTP date>`, the date being this long after the answer is sent.
    HttpDate(Duration),
}

/// A snapshot of what a [`MockServer`] has served so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests per endpoint template, e.g. `"GET /users"`, `"GET /queries/{id}"`, `"POST /login"`;
    /// requests to unknown paths count under `"<METHOD> (unknown)"`.
    pub requests: BTreeMap<String, u64>,
    /// All requests received (faulted and unauthorized ones included).
    pub total_requests: u64,
    /// The largest number of requests in flight at once (from request start to response end).
    pub max_in_flight: u64,
    /// Successful logins.
    pub logins: u64,
    /// Successful logouts.
    pub logouts: u64,
    /// Requests answered 401 (missing, invalid, expired or revoked token).
    pub unauthorized: u64,
    /// Requests that got a fault instead of their normal answer.
    pub faults_served: u64,
    /// Response body bytes sent.
    pub bytes_sent: u64,
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "requests: {}  max in flight: {}  logins: {}  logouts: {}  401s: {}  faults: {}  bytes sent: {}",
            self.total_requests,
            self.max_in_flight,
            self.logins,
            self.logouts,
            self.unauthorized,
            self.faults_served,
            self.bytes_sent
        )?;
        for (endpoint, count) in &self.requests {
            writeln!(f, "  {count:>8}  {endpoint}")?;
        }
        Ok(())
    }
}
