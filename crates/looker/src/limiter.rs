//! The one pool of in-flight requests shared by the whole run, with adaptive throttling.
//!
//! At most `max` requests are in flight. A 429 or 503 anywhere halves the allowed count (at most
//! once per pause) and pauses every new request for the retry delay; each run of `limit`
//! successes then allows one more, back up to `max` (additive increase, multiplicative decrease).

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

#[derive(Debug)]
pub(crate) struct Limiter {
    max: usize,
    state: Mutex<State>,
    notify: Notify,
}

#[derive(Debug)]
struct State {
    in_flight: usize,
    limit: usize,
    paused_until: Option<Instant>,
    successes: usize,
    throttles: u64,
}

/// A slot in the pool; freed on drop.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    limiter: &'a Limiter,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut s = self.limiter.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        drop(s);
        self.limiter.notify.notify_waiters();
    }
}

impl Limiter {
    pub(crate) fn new(max: usize) -> Self {
        let max = max.max(1);
        Limiter {
            max,
            state: Mutex::new(State {
                in_flight: 0,
                limit: max,
                paused_until: None,
                successes: 0,
                throttles: 0,
            }),
            notify: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for a free slot (and for the end of any pause).
    pub(crate) async fn acquire(&self) -> Permit<'_> {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let pause = {
                let mut s = self.lock();
                match s.paused_until {
                    Some(until) if until > Instant::now() => Some(until),
                    _ => {
                        s.paused_until = None;
                        if s.in_flight < s.limit {
                            s.in_flight += 1;
                            return Permit { limiter: self };
                        }
                        None
                    }
                }
            };
            match pause {
                Some(until) => tokio::time::sleep_until(until).await,
                None => notified.await,
            }
        }
    }

    /// Records a successful answer: after `limit` of them in a row, one more request may fly.
    pub(crate) fn on_success(&self) {
        let mut s = self.lock();
        if s.limit >= self.max {
            return;
        }
        s.successes += 1;
        if s.successes >= s.limit {
            s.successes = 0;
            s.limit += 1;
            tracing::debug!(limit = s.limit, "request pool widened after successes");
            drop(s);
            self.notify.notify_waiters();
        }
    }

    /// Records a 429/503: halves the allowed in-flight count (once per pause) and pauses every new
    /// request for `delay`.
    pub(crate) fn on_throttle(&self, delay: Duration) {
        let mut s = self.lock();
        let now = Instant::now();
        s.throttles += 1;
        let already_paused = s.paused_until.is_some_and(|until| until > now);
        if !already_paused {
            s.limit = (s.limit / 2).max(1);
            s.successes = 0;
            tracing::debug!(
                limit = s.limit,
                ?delay,
                "server throttles: request pool narrowed and paused"
            );
        }
        let until = now + delay;
        if s.paused_until.is_none_or(|p| p < until) {
            s.paused_until = Some(until);
        }
    }

    /// 429/503 answers seen so far.
    pub(crate) fn throttles(&self) -> u64 {
        self.lock().throttles
    }

    #[cfg(test)]
    fn limit(&self) -> usize {
        self.lock().limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn never_more_than_max_in_flight() {
        let limiter = Arc::new(Limiter::new(3));
        let current = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let (limiter, current, peak) = (limiter.clone(), current.clone(), peak.clone());
            tasks.spawn(async move {
                let _permit = limiter.acquire().await;
                let now = current.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
                current.fetch_sub(1, Ordering::SeqCst);
            });
        }
        while tasks.join_next().await.is_some() {}
        assert_eq!(peak.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn throttle_halves_once_per_pause_and_recovers() {
        let limiter = Limiter::new(8);
        limiter.on_throttle(Duration::from_millis(20));
        limiter.on_throttle(Duration::from_millis(20));
        assert_eq!(limiter.limit(), 4, "two 429s in one pause halve once");
        let start = Instant::now();
        drop(limiter.acquire().await);
        assert!(start.elapsed() >= Duration::from_millis(20), "paused");
        for _ in 0..4 {
            limiter.on_success();
        }
        assert_eq!(limiter.limit(), 5);
        for _ in 0..100 {
            limiter.on_success();
        }
        assert_eq!(limiter.limit(), 8, "back to max, never beyond");
        assert_eq!(limiter.throttles(), 2);
    }
}
