//! Retry decisions in one place: which answers are retried, and how long to wait.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// Backoff policy: exponential from `initial`, jittered, capped at `max`; `Retry-After` honoured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    pub(crate) max_attempts: u32,
    pub(crate) initial: Duration,
    pub(crate) max: Duration,
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first retry): `initial * 2^(retry-1)`,
    /// scaled by a random factor in [0.5, 1.5) so clients spread out, capped at `max`.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let exp = retry.saturating_sub(1).min(30);
        let base = self.initial.saturating_mul(1u32 << exp).min(self.max);
        base.mul_f64(0.5 + fastrand::f64()).min(self.max)
    }

    /// The wait before retry number `retry`, from the `Retry-After` header when it has one
    /// (clamped to `max`), else [`RetryPolicy::backoff`].
    pub(crate) fn delay(&self, retry: u32, headers: Option<&HeaderMap>) -> Duration {
        match headers.and_then(|h| retry_after(h, SystemTime::now())) {
            Some(wait) => wait.min(self.max),
            None => self.backoff(retry),
        }
    }
}

/// Statuses worth retrying: 408, 429 and every 5xx except 501 (Not Implemented) and 505 (HTTP
/// Version Not Supported), which answer the same every time.
pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429)
        || (status.is_server_error() && !matches!(status.as_u16(), 501 | 505))
}

/// Statuses that mean the server is overloaded: they also slow down the whole client.
pub(crate) fn is_throttle_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 503)
}

/// Parses `Retry-After`: delay-seconds or an HTTP date (a date in the past means no wait).
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_str(v).expect("header"));
        h
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(retry_after(&headers("7"), now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(&headers(" 0 "), now), Some(Duration::ZERO));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(42));
        assert_eq!(retry_after(&headers(&later), now), Some(Duration::from_secs(42)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(42));
        assert_eq!(retry_after(&headers(&earlier), now), Some(Duration::ZERO));
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&headers("-3"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_attempts: 5,
            initial: Duration::from_secs(1),
            max: Duration::from_secs(300),
        };
        for _ in 0..50 {
            let d1 = p.backoff(1);
            assert!(
                d1 >= Duration::from_millis(500) && d1 < Duration::from_millis(1500),
                "{d1:?}"
            );
            let d4 = p.backoff(4);
            assert!(
                d4 >= Duration::from_secs(4) && d4 < Duration::from_secs(12),
                "{d4:?}"
            );
            assert!(p.backoff(40) <= Duration::from_secs(300));
        }
        assert_eq!(
            p.delay(1, Some(&headers("9999"))),
            Duration::from_secs(300),
            "clamped"
        );
        assert_eq!(
            p.delay(3, Some(&headers("2"))),
            Duration::from_secs(2),
            "header wins"
        );
    }

    #[test]
    fn retryable_statuses() {
        for s in [408, 429, 500, 502, 503, 504, 599] {
            assert!(is_retryable_status(StatusCode::from_u16(s).expect("s")), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 422, 501, 505] {
            assert!(!is_retryable_status(StatusCode::from_u16(s).expect("s")), "{s}");
        }
    }
}
