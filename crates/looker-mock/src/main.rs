//! `looker-mock`: runs the mock Looker API 4.0 server standalone.
//!
//! Prints `listening on http://HOST:PORT` as its first stdout line, serves until SIGINT or
//! SIGTERM, then prints the request statistics to stderr.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use looker_mock::{Fault, MockConfig, MockServer, Storm};

/// A mock Looker API 4.0 server with deterministic, seeded data and fault injection.
#[derive(Debug, Parser)]
#[command(name = "looker-mock", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Number of users.
    #[arg(long, default_value_t = 50)]
    users: usize,
    /// Number of looks.
    #[arg(long, default_value_t = 20)]
    looks: usize,
    /// Number of dashboards.
    #[arg(long, default_value_t = 10)]
    dashboards: usize,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Revision of the data (0: base). From 1, some users and looks change and users gain
    /// `is_partner`; from 2, new users are added.
    #[arg(long, default_value_t = 0)]
    revision: u64,
    /// Access token lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    token_ttl: u64,
    /// Delay added to every request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Client id accepted by POST /login.
    #[arg(long, default_value = looker_mock::DEMO_CLIENT_ID)]
    client_id: String,
    /// Client secret accepted by POST /login.
    #[arg(long, default_value = looker_mock::DEMO_CLIENT_SECRET, hide_default_value = true)]
    client_secret: String,
    /// Inject a fault: PATH:NTH[:TIMES]:KIND with KIND = 429[@SECS] | 429@date | 500 | 502 | 503
    /// | 504 | malformed | slow@MS | reset. Repeatable.
    #[arg(long = "fault", value_name = "PATH:NTH[:TIMES]:KIND")]
    faults: Vec<Fault>,
    /// A 429 storm: PCT%:DURATION[@START][:RETRY_AFTER], e.g. `20%:10s` (20 % of all requests
    /// answered 429 with `Retry-After: 1` for 10 s from the first request) or `20%:10s@5s`
    /// (starting 5 s after it). Which requests are hit is deterministic by --seed.
    #[arg(long, value_name = "PCT%:DURATION[@START][:RETRY_AFTER]")]
    storm: Option<Storm>,
    /// Leave `X-Total-Count` out of paged answers, as the recorded real instances do.
    #[arg(long)]
    no_total_count: bool,
    /// Serve what real instances send beyond the spec: `""` and mixed-format timestamps, missing
    /// keys, the `lookml` folder, filter maps keyed by field names (new ones per --revision), HTML
    /// 404 pages, 429s without Retry-After, hidden query ids, `expires_in` 3599.
    #[arg(long)]
    quirks: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("looker-mock: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(args))
}

async fn run(args: Args) -> ExitCode {
    let config = MockConfig {
        users: args.users,
        looks: args.looks,
        dashboards: args.dashboards,
        seed: args.seed,
        revision: args.revision,
        client_id: args.client_id,
        client_secret: args.client_secret,
        token_ttl: Duration::from_secs(args.token_ttl),
        latency: Duration::from_millis(args.latency_ms),
        faults: args.faults,
        storm: args.storm,
        total_count: !args.no_total_count,
        quirks: args.quirks,
    };
    let server = match MockServer::start_on(config, SocketAddr::new(args.host, args.port)).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("looker-mock: cannot listen on {}:{}: {e}", args.host, args.port);
            return ExitCode::from(2);
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {}", server.base_url());
        let _ = out.flush();
    }
    wait_for_signal().await;
    let stats = server.stats();
    server.shutdown().await;
    eprint!("{stats}");
    ExitCode::SUCCESS
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
