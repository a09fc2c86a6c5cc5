//! The command-line forms of a [`Fault`] (`PATH:NTH[:TIMES]:KIND`) and of a [`Storm`]
//! (`PCT%:DURATION[@START][:RETRY_AFTER]`).

use std::str::FromStr;
use std::time::Duration;

use crate::{Fault, FaultKind, RetryAfter, Storm};

/// A `--storm` value that does not follow `PCT%:DURATION[@START][:RETRY_AFTER]`; fix the flag.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid storm {spec:?}: {reason} (expected PCT%:DURATION[@START][:RETRY_AFTER], e.g. 20%:10s or 20%:10s@5s:1)"
)]
pub struct ParseStormError {
    spec: String,
    reason: &'static str,
}

/// `10s`, `1500ms`, or a bare number of seconds.
fn parse_duration(s: &str) -> Option<Duration> {
    if let Some(ms) = s.strip_suffix("ms") {
        return ms.parse().ok().map(Duration::from_millis);
    }
    let secs = s.strip_suffix('s').unwrap_or(s);
    secs.parse().ok().map(Duration::from_secs)
}

impl FromStr for Storm {
    type Err = ParseStormError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let err = |reason| ParseStormError {
            spec: spec.to_owned(),
            reason,
        };
        let mut parts = spec.split(':');
        let percent = parts
            .next()
            .and_then(|p| p.strip_suffix('%'))
            .and_then(|p| p.parse::<u8>().ok())
            .filter(|p| *p <= 100)
            .ok_or_else(|| err("PCT% must be a percentage from 0% to 100%"))?;
        let window = parts.next().ok_or_else(|| err("DURATION is missing"))?;
        let (duration, start) = match window.split_once('@') {
            Some((d, s)) => (d, Some(s)),
            None => (window, None),
        };
        let duration = parse_duration(duration).ok_or_else(|| err("DURATION must be like 10s or 500ms"))?;
        let start = match start {
            Some(s) => parse_duration(s).ok_or_else(|| err("START must be like 5s or 500ms"))?,
            None => Duration::ZERO,
        };
        let retry_after = match parts.next() {
            None => Some(1),
            Some(ra) if ra.eq_ignore_ascii_case("none") => None,
            Some(ra) => Some(
                ra.parse()
                    .map_err(|_| err("RETRY_AFTER must be a number of seconds or `none`"))?,
            ),
        };
        if parts.next().is_some() {
            return Err(err("too many `:`-separated parts"));
        }
        Ok(Storm {
            percent,
            start,
            duration,
            retry_after,
        })
    }
}

/// A `--fault` value that does not follow `PATH:NTH[:TIMES]:KIND`; fix the flag and retry.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid fault {spec:?}: {reason} (expected PATH:NTH[:TIMES]:KIND, KIND = 429[@SECS] | 429@date | 500 | 502 | 503 | 504 | malformed | slow@MS | reset)"
)]
pub struct ParseFaultError {
    spec: String,
    reason: &'static str,
}

impl FromStr for FaultKind {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (head, arg) = match s.split_once('@') {
            Some((h, a)) => (h, Some(a)),
            None => (s, None),
        };
        match (head.to_ascii_lowercase().as_str(), arg) {
            ("malformed", None) => Ok(FaultKind::Malformed),
            ("reset", None) => Ok(FaultKind::Reset),
            ("slow", Some(ms)) => ms
                .parse::<u64>()
                .map(|ms| FaultKind::Slow(Duration::from_millis(ms)))
                .map_err(|_| "slow@MS needs a number of milliseconds"),
            ("429", arg) => {
                let retry_after = match arg {
                    None => None,
                    Some(a) if a.eq_ignore_ascii_case("date") => {
                        Some(RetryAfter::HttpDate(Duration::from_secs(1)))
                    }
                    Some(a) => Some(RetryAfter::Seconds(
                        a.parse()
                            .map_err(|_| "429@SECS needs a number of seconds or `date`")?,
                    )),
                };
                Ok(FaultKind::Status {
                    status: 429,
                    retry_after,
                })
            }
            ("500" | "502" | "503" | "504", None) => Ok(FaultKind::Status {
                status: head.parse().map_err(|_| "bad status")?,
                retry_after: None,
            }),
            _ => Err("unknown fault kind"),
        }
    }
}

impl FromStr for Fault {
    type Err = ParseFaultError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let err = |reason| ParseFaultError {
            spec: spec.to_owned(),
            reason,
        };
        let parts: Vec<&str> = spec.split(':').collect();
        if parts.len() < 3 {
            return Err(err("too few `:`-separated parts"));
        }
        let kind: FaultKind = parts[parts.len() - 1].parse().map_err(err)?;
        let last_num: u64 = parts[parts.len() - 2]
            .parse()
            .map_err(|_| err("NTH must be a positive number"))?;
        let (path_parts, nth, times) = match parts.len() {
            n if n >= 4 && parts[n - 3].parse::<u64>().is_ok() => {
                let nth = parts[n - 3].parse().map_err(|_| err("bad NTH"))?;
                (&parts[..n - 3], nth, last_num)
            }
            n => (&parts[..n - 2], last_num, 1),
        };
        if nth == 0 {
            return Err(err("NTH is 1-based"));
        }
        if times == 0 {
            return Err(err("TIMES must be at least 1"));
        }
        let path = path_parts.join(":");
        if path.is_empty() {
            return Err(err("PATH is empty"));
        }
        Ok(Fault {
            path,
            nth,
            times,
            kind,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_kinds() {
        let f: Fault = "/users:3:429@2".parse().unwrap();
        assert_eq!(f.path, "/users");
        assert_eq!(f.nth, 3);
        assert_eq!(f.times, 1);
        assert_eq!(
            f.kind,
            FaultKind::Status {
                status: 429,
                retry_after: Some(RetryAfter::Seconds(2))
            }
        );
        let f: Fault = "/looks/search:2:3:503".parse().unwrap();
        assert_eq!((f.nth, f.times), (2, 3));
        assert!(matches!(
            f.kind,
            FaultKind::Status {
                status: 503,
                retry_after: None
            }
        ));
        let f: Fault = "/x:1:429@date".parse().unwrap();
        assert!(matches!(
            f.kind,
            FaultKind::Status {
                status: 429,
                retry_after: Some(RetryAfter::HttpDate(_))
            }
        ));
        assert_eq!(
            "/x:1:malformed".parse::<Fault>().unwrap().kind,
            FaultKind::Malformed
        );
        assert_eq!("/x:1:reset".parse::<Fault>().unwrap().kind, FaultKind::Reset);
        assert_eq!(
            "/x:1:slow@250".parse::<Fault>().unwrap().kind,
            FaultKind::Slow(Duration::from_millis(250))
        );
    }

    #[test]
    fn parses_storms() {
        let s: Storm = "20%:10s".parse().unwrap();
        assert_eq!(s, Storm::new(20, Duration::from_secs(10)));
        let s: Storm = "50%:1500ms@2s:3".parse().unwrap();
        assert_eq!(
            (s.percent, s.duration, s.start, s.retry_after),
            (50, Duration::from_millis(1500), Duration::from_secs(2), Some(3))
        );
        assert_eq!("5%:4@1:none".parse::<Storm>().unwrap().retry_after, None);
        for bad in [
            "20:10s",
            "101%:1s",
            "20%",
            "20%:x",
            "20%:1s@y",
            "20%:1s:z",
            "20%:1s:1:2",
        ] {
            assert!(bad.parse::<Storm>().is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn rejects_bad_specs() {
        for bad in [
            "/x",
            "/x:0:500",
            "/x:1:418",
            ":1:500",
            "/x:a:500",
            "/x:1:0:500",
            "/x:1:slow",
        ] {
            assert!(bad.parse::<Fault>().is_err(), "{bad} should not parse");
        }
    }
}
