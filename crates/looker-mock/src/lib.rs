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
//! * A [`Storm`] answers 429 to a share of all requests during a time window (deterministic by
//!   seed), to test that a client slows down and recovers.
//! * [`MockConfig::quirks`] (`--quirks`) serves what real instances send beyond the spec: `""` and
//!   mixed-format timestamps, missing keys, the `lookml` folder, filter maps keyed by field names
//!   that grow with the revision, HTML 404 pages, hidden query ids, 429s without `Retry-After`.
//! * [`Stats`] counts requests per endpoint, the peak and mean number in flight, logins, logouts,
//!   401s, and requests per second.

mod data;
mod fault;
mod json;
mod server;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

pub use data::Dataset;
pub use fault::{ParseFaultError, ParseStormError};
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
    /// A time-windowed 429 storm over every endpoint (none: no storm).
    pub storm: Option<Storm>,
    /// Whether paged answers carry `X-Total-Count` (the recorded real instances never sent it).
    pub total_count: bool,
    /// Serve what real instances send beyond the spec's happy path (API.md §7 item 13), all
    /// deterministic by seed:
    ///
    /// * timestamps in four renderings in the same columns: Looker's `….000+00:00`, `-07:00` offsets
    ///   with real milliseconds, no fraction (`…:31+00:00`) and Unix-epoch seconds as digit strings
    ///   (item 1 of each resource keeps Looker's rendering, so the column is a timestamp column);
    /// * `""` in `display_name`, `email`, `git_username`, `filter_expression`, `row_total`,
    ///   `dynamic_fields` (besides the `""` timestamps every mode sends);
    /// * users without `is_iam_admin`, `is_service_account` and `can_manage_api3_creds` (older
    ///   instances), and nulls in `locale` and `home_folder_id`;
    /// * a folder with the non-numeric id `lookml` (null `created_at`, `creator_id`,
    ///   `content_metadata_id`) after the numbered ones;
    /// * `Query.filter_config` on every query with filters (LookML field name → list of condition
    ///   objects), and from revision 1 three more filter fields per query out of
    ///   [`Dataset::REVISION_FIELDS`] field names new in each revision;
    /// * 404s (unknown paths and items, hidden queries) as HTML pages (`text/html`);
    /// * one 429 without `Retry-After` per endpoint (its request number chosen by seed);
    /// * some referenced query ids answer 404 ([`Dataset::hidden_query_ids`]);
    /// * `expires_in` one second short of the token lifetime (3599 for an hour).
    pub quirks: bool,
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
            .field("storm", &self.storm)
            .field("total_count", &self.total_count)
            .field("quirks", &self.quirks)
            .finish()
    }
}

impl Default for MockConfig {
    /// A small instance: 50 users, 20 looks, 10 dashboards, seed 42, revision 0, the demo
    /// credentials, tokens valid for an hour, no latency, no faults, `X-Total-Count` sent, no quirks.
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
            storm: None,
            total_count: true,
            quirks: false,
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

/// A 429 storm: during a time window that starts [`Storm::start`] after the server's first request,
/// [`Storm::percent`] % of the requests that arrive (every endpoint, logins included) are answered
/// 429 with `Retry-After`, the rest normally.
///
/// Which requests are hit is deterministic: the k-th request arriving in the window is hit when a
/// hash of (`seed`, k) falls under the percentage, so the same seed and request count give the same
/// number of 429s. Parse the command-line form `PCT%:DURATION[@START][:RETRY_AFTER]` with
/// [`str::parse`], e.g. `20%:10s`, `20%:10s@5s`, `50%:1500ms@0s:2` (durations in `s` or `ms`,
/// bare numbers are seconds; RETRY_AFTER in seconds, or `none` for no header; default 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Storm {
    /// Share of the requests in the window answered 429, 0 to 100.
    pub percent: u8,
    /// Delay from the first request to the start of the window.
    pub start: Duration,
    /// Length of the window.
    pub duration: Duration,
    /// The `Retry-After` seconds sent with each 429 (none: no header).
    pub retry_after: Option<u64>,
}

impl Storm {
    /// A storm hitting `percent` % of requests for `duration`, starting at the first request, with
    /// `Retry-After: 1`.
    pub fn new(percent: u8, duration: Duration) -> Self {
        Storm {
            percent: percent.min(100),
            start: Duration::ZERO,
            duration,
            retry_after: Some(1),
        }
    }

    /// The same storm starting `start` after the first request.
    pub fn starting_after(mut self, start: Duration) -> Self {
        self.start = start;
        self
    }
}

/// What one second of the server's life saw (seconds counted from its first request).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Second {
    /// Requests that arrived in this second.
    pub requests: u64,
    /// Of those, the ones answered with an injected fault or a storm 429.
    pub faulted: u64,
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
    /// Requests answered 429 by the [`Storm`] (also counted in `faults_served`).
    pub storm_throttled: u64,
    /// Requests answered 429 without `Retry-After` by [`MockConfig::quirks`] (also counted in
    /// `faults_served`).
    pub quirk_throttled: u64,
    /// Sum over requests of the time each was in flight (from request start to response end).
    pub in_flight_time: Duration,
    /// From the first request's start to the latest response end: `in_flight_time / active_span`
    /// is the mean number of requests in flight.
    pub active_span: Duration,
    /// Requests per second since the first request, in order.
    pub timeline: Vec<Second>,
}

impl Stats {
    /// The mean number of requests in flight over [`Stats::active_span`] (0 before any answer).
    pub fn mean_in_flight(&self) -> f64 {
        if self.active_span.is_zero() {
            return 0.0;
        }
        self.in_flight_time.as_secs_f64() / self.active_span.as_secs_f64()
    }
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
        writeln!(
            f,
            "in flight: mean {:.2} over {:.3} s  storm 429s: {}",
            self.mean_in_flight(),
            self.active_span.as_secs_f64(),
            self.storm_throttled
        )?;
        if !self.timeline.is_empty() {
            f.write_str("timeline (second:requests/faulted):")?;
            for (i, s) in self.timeline.iter().enumerate() {
                write!(f, " {i}:{}/{}", s.requests, s.faulted)?;
            }
            writeln!(f)?;
        }
        for (endpoint, count) in &self.requests {
            writeln!(f, "  {count:>8}  {endpoint}")?;
        }
        Ok(())
    }
}
