//! The one pool of in-flight requests shared by the whole run, with adaptive throttling.
//!
//! At most `max` requests are in flight. A 429 or 503 anywhere halves the allowed count (at most
//! once per pause) and pauses every new request for the retry delay; each run of `limit`
//! successes then allows one more, back up to `max` (additive increase, multiplicative decrease).
//! Waiting requests get slots in arrival order, so pages fetched ahead are served oldest first.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// The pool: a fair (first come, first served) semaphore whose number of permits follows the
/// allowed count, so the oldest waiting request always goes next and none is starved.
#[derive(Debug)]
pub(crate) struct Limiter {
    max: usize,
    semaphore: Semaphore,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The allowed number of requests in flight.
    limit: usize,
    /// Permits to retire as they come back, after a narrowing: the semaphore's permits (free and
    /// held) minus `debt` equal `limit`.
    debt: usize,
    paused_until: Option<Instant>,
    successes: usize,
    throttles: u64,
}

/// A slot in the pool; freed on drop.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    limiter: &'a Limiter,
    permit: Option<SemaphorePermit<'a>>,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let Some(permit) = self.permit.take() else {
            return;
        };
        let mut s = self.limiter.lock();
        if s.debt > 0 {
            s.debt -= 1;
            permit.forget();
        }
    }
}

impl Limiter {
    pub(crate) fn new(max: usize) -> Self {
        let max = max.clamp(1, Semaphore::MAX_PERMITS);
        Limiter {
            max,
            semaphore: Semaphore::new(max),
            state: Mutex::new(State {
                limit: max,
                debt: 0,
                paused_until: None,
                successes: 0,
                throttles: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn pause(&self) -> Option<Instant> {
        let s = self.lock();
        s.paused_until.filter(|until| *until > Instant::now())
    }

    /// Waits for a free slot (and for the end of any pause). Slots are handed out in the order
    /// they were asked for.
    pub(crate) async fn acquire(&self) -> Permit<'_> {
        loop {
            if let Some(until) = self.pause() {
                tokio::time::sleep_until(until).await;
                continue;
            }
            // The semaphore is never closed; if it were, the pool would merely stop limiting.
            let permit = self.semaphore.acquire().await.ok();
            let permit = Permit {
                limiter: self,
                permit,
            };
            // A throttle that came while waiting: give the slot back and wait out the pause.
            if self.pause().is_some() {
                drop(permit);
                continue;
            }
            return permit;
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
            if s.debt > 0 {
                s.debt -= 1;
            } else {
                self.semaphore.add_permits(1);
            }
            tracing::debug!(limit = s.limit, "request pool widened after successes");
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
            let narrower = (s.limit / 2).max(1);
            s.debt += s.limit - narrower;
            s.limit = narrower;
            s.successes = 0;
            // Retire free permits at once; held ones are retired as they come back.
            while s.debt > 0 {
                match self.semaphore.try_acquire() {
                    Ok(p) => {
                        p.forget();
                        s.debt -= 1;
                    }
                    Err(_) => break,
                }
            }
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

    async fn peak_of(limiter: Arc<Limiter>, tasks: usize) -> usize {
        let current = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..tasks {
            let (limiter, current, peak) = (limiter.clone(), current.clone(), peak.clone());
            set.spawn(async move {
                let _permit = limiter.acquire().await;
                let now = current.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
                current.fetch_sub(1, Ordering::SeqCst);
            });
        }
        while set.join_next().await.is_some() {}
        peak.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn a_narrowed_pool_holds_fewer_requests_even_with_slots_held() {
        let limiter = Arc::new(Limiter::new(8));
        let held: Vec<_> = {
            let mut v = Vec::new();
            for _ in 0..6 {
                v.push(limiter.acquire().await);
            }
            v
        };
        limiter.on_throttle(Duration::from_millis(1));
        assert_eq!(limiter.limit(), 4);
        drop(held);
        assert_eq!(peak_of(limiter.clone(), 20).await, 4);
        limiter.on_throttle(Duration::from_millis(1));
        assert_eq!(peak_of(limiter.clone(), 20).await, 2);
        for _ in 0..100 {
            limiter.on_success();
        }
        assert_eq!(peak_of(limiter, 20).await, 8);
    }

    #[tokio::test]
    async fn slots_go_to_waiters_in_arrival_order() {
        let limiter = Arc::new(Limiter::new(1));
        let first = limiter.acquire().await;
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut set = tokio::task::JoinSet::new();
        for i in 0..5 {
            let (limiter, order) = (limiter.clone(), order.clone());
            set.spawn(async move {
                let _p = limiter.acquire().await;
                order.lock().expect("lock").push(i);
            });
            // On this single-threaded runtime, yielding lets task i run until it waits in the
            // queue, before task i + 1 exists.
            for _ in 0..3 {
                tokio::task::yield_now().await;
            }
        }
        drop(first);
        while set.join_next().await.is_some() {}
        assert_eq!(*order.lock().expect("lock"), [0, 1, 2, 3, 4]);
    }
}
