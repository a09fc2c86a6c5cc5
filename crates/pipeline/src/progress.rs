//! Progress of a long run on a terminal: one status line on stderr, redrawn a few times a second, with
//! pages, items, megabytes and MB/s of the streaming extract → normalize pass. When stderr is not a
//! terminal nothing is drawn; the per-resource log lines say what happened instead.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Counters shared between the stage that advances and the line that shows it.
#[derive(Debug, Default)]
pub struct Counters {
    pages: AtomicU64,
    items: AtomicU64,
    bytes: AtomicU64,
}

impl Counters {
    /// Counts one page of `items` items and `bytes` bytes.
    pub fn page(&self, items: u64, bytes: u64) {
        self.pages.fetch_add(1, Ordering::Relaxed);
        self.items.fetch_add(items, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// A status line redrawn while the stage runs; [`Progress::finish`] clears it.
#[derive(Debug)]
pub struct Progress {
    counters: Arc<Counters>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    /// Starts drawing `label` progress when stderr is a terminal.
    pub fn start(label: &'static str) -> Progress {
        let counters = Arc::new(Counters::default());
        let ticker = std::io::stderr().is_terminal().then(|| {
            let counters = Arc::clone(&counters);
            tokio::spawn(async move {
                let started = Instant::now();
                let mut tick = tokio::time::interval(Duration::from_millis(200));
                loop {
                    tick.tick().await;
                    let mb = counters.bytes.load(Ordering::Relaxed) as f64 / 1e6;
                    let secs = started.elapsed().as_secs_f64().max(1e-3);
                    let mut err = std::io::stderr().lock();
                    let _ = write!(
                        err,
                        "\r\x1b[2K{label}: {} pages, {} items, {mb:.1} MB, {:.1} MB/s",
                        counters.pages.load(Ordering::Relaxed),
                        counters.items.load(Ordering::Relaxed),
                        mb / secs
                    );
                    let _ = err.flush();
                }
            })
        });
        Progress { counters, ticker }
    }

    /// The counters the stage advances.
    pub fn counters(&self) -> Arc<Counters> {
        Arc::clone(&self.counters)
    }

    /// Stops drawing and clears the line.
    pub fn finish(self) {
        if let Some(ticker) = self.ticker {
            ticker.abort();
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}
