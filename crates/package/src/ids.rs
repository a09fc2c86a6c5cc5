//! Names that become paths: load ids, job file names, table/resource/schema/pipeline names.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The longest table, resource, schema or pipeline name accepted, in bytes. A job file name adds about
/// 30 bytes to a table name and must stay under the usual 255-byte limit of a file name.
pub const MAX_NAME_LEN: usize = 200;

/// The id of a load package (and of the extract it came from): unix time in seconds with a fraction, as
/// dlt writes it (`1749667187.541553`).
///
/// Ids made here have six fractional digits and are unique and strictly increasing within a pipeline
/// directory: each is later than the clock, than the previous id of this process and than every id
/// already on disk. Ids made by dlt (any number of fractional digits) parse too. Ordering is numeric:
/// by seconds, then by the fraction as a decimal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LoadId(String);

impl LoadId {
    /// Parses a load id: ASCII digits, optionally a `.` and more digits.
    pub fn parse(s: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidName {
            kind: "load id",
            name: s.to_owned(),
            reason,
        };
        let (secs, frac) = match s.split_once('.') {
            Some((secs, frac)) => (secs, Some(frac)),
            None => (s, None),
        };
        if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("must be unix seconds in ASCII digits"));
        }
        if secs.parse::<u64>().is_err() {
            return Err(invalid("seconds out of range"));
        }
        if let Some(frac) = frac
            && (frac.is_empty() || frac.len() > 18 || !frac.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(invalid("the fraction must be 1 to 18 ASCII digits"));
        }
        Ok(LoadId(s.to_owned()))
    }

    /// The id as text (also its directory name).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn secs(&self) -> u64 {
        let secs = self.0.split_once('.').map_or(self.0.as_str(), |(s, _)| s);
        secs.parse().unwrap_or(0)
    }

    fn frac(&self) -> &str {
        self.0.split_once('.').map_or("", |(_, f)| f)
    }

    /// The id in whole microseconds, rounded down.
    pub(crate) fn floor_micros(&self) -> u64 {
        let mut micros = 0u64;
        let digits = self.frac().as_bytes();
        for i in 0..6 {
            micros = micros * 10 + digits.get(i).map_or(0, |d| u64::from(d - b'0'));
        }
        self.secs().saturating_mul(1_000_000).saturating_add(micros)
    }

    fn from_micros(micros: u64) -> Self {
        LoadId(format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000))
    }
}

impl Ord for LoadId {
    fn cmp(&self, other: &Self) -> Ordering {
        self.secs().cmp(&other.secs()).then_with(|| {
            let (a, b) = (self.frac().as_bytes(), other.frac().as_bytes());
            let len = a.len().max(b.len());
            let digit = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(b'0');
            (0..len)
                .map(|i| digit(a, i).cmp(&digit(b, i)))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
                // numerically equal ("5" and "50"): order by text so Ord agrees with Eq
                .then_with(|| self.0.cmp(&other.0))
        })
    }
}

impl PartialOrd for LoadId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for LoadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for LoadId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        LoadId::parse(s)
    }
}

impl TryFrom<String> for LoadId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        LoadId::parse(&s)
    }
}

impl From<LoadId> for String {
    fn from(id: LoadId) -> String {
        id.0
    }
}

/// The last id this process made, in microseconds.
static LAST_MICROS: AtomicU64 = AtomicU64::new(0);

/// A fresh load id later than the clock, than every id this process made and than `after_micros`.
pub(crate) fn next_load_id(after_micros: u64) -> LoadId {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    let mut chosen = 0;
    // fetch_update retries on contention; the closure always returns Some.
    let _ = LAST_MICROS.fetch_update(AtomicOrdering::SeqCst, AtomicOrdering::SeqCst, |last| {
        chosen = now
            .max(last.saturating_add(1))
            .max(after_micros.saturating_add(1));
        Some(chosen)
    });
    LoadId::from_micros(chosen)
}

/// Checks a name that becomes one path component (table, resource, schema or pipeline name).
///
/// Refused: empty names, names over [`MAX_NAME_LEN`] bytes, path separators (`/`, `\`), `.` (which also
/// rules out `.` and `..`, and keeps job file names parseable), NUL and other control characters.
pub fn validate_name(kind: &'static str, name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        Some("is empty")
    } else if name.len() > MAX_NAME_LEN {
        Some("is longer than 200 bytes")
    } else if name.contains(['/', '\\']) {
        Some("contains a path separator")
    } else if name.contains('.') {
        Some("contains '.'")
    } else if name.chars().any(char::is_control) {
        Some("contains a control character")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidName {
            kind,
            name: name.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// The file format of jobs written by normalize.
pub const PARQUET: &str = "parquet";

/// A parsed job file name: `<table>.<file_id>.<retry_count>.<format>` (dlt's `ParsedLoadJobFileName`).
///
/// `format` may itself hold dots (`jsonl.gz`). The job id, which names the job across retries, is the
/// file name without the retry count: `users.abc1234567.parquet`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobFileName {
    table: String,
    file_id: String,
    retry_count: u32,
    format: String,
}

impl JobFileName {
    /// A new job name with a fresh random 10-hex-digit file id and retry count 0.
    pub fn new(table: &str, format: &str) -> Result<Self> {
        validate_name("table name", table)?;
        validate_format(format)?;
        let file_id: String = (0..10)
            .map(|_| char::from_digit(fastrand::u32(..16), 16).unwrap_or('0'))
            .collect();
        Ok(JobFileName {
            table: table.to_owned(),
            file_id,
            retry_count: 0,
            format: format.to_owned(),
        })
    }

    /// Parses a job file name.
    pub fn parse(file_name: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidName {
            kind: "job file name",
            name: file_name.to_owned(),
            reason,
        };
        let mut parts = file_name.splitn(4, '.');
        let (Some(table), Some(file_id), Some(retry), Some(format)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("expected <table>.<file_id>.<retry_count>.<format>"));
        };
        validate_name("table name", table)
            .map_err(|_| invalid("the table part is not a valid table name"))?;
        if file_id.is_empty() || !file_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(invalid("the file id must be ASCII letters and digits"));
        }
        if retry.is_empty() || !retry.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("the retry count must be digits"));
        }
        let retry_count = retry
            .parse()
            .map_err(|_| invalid("the retry count is out of range"))?;
        validate_format(format).map_err(|_| invalid("the format part is not a file format"))?;
        Ok(JobFileName {
            table: table.to_owned(),
            file_id: file_id.to_owned(),
            retry_count,
            format: format.to_owned(),
        })
    }

    /// The table the job's rows belong to.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The random file id.
    pub fn file_id(&self) -> &str {
        &self.file_id
    }

    /// How many times the job was retried after a transient failure.
    pub fn retry_count(&self) -> u32 {
        self.retry_count
    }

    /// The file format (`parquet`, `jsonl.gz`, ...).
    pub fn format(&self) -> &str {
        &self.format
    }

    /// The file name: `<table>.<file_id>.<retry_count>.<format>`.
    pub fn file_name(&self) -> String {
        format!(
            "{}.{}.{}.{}",
            self.table, self.file_id, self.retry_count, self.format
        )
    }

    /// The job id, stable across retries: `<table>.<file_id>.<format>`.
    pub fn job_id(&self) -> String {
        format!("{}.{}.{}", self.table, self.file_id, self.format)
    }

    /// The same job with another retry count.
    pub fn with_retry_count(&self, retry_count: u32) -> Self {
        JobFileName {
            retry_count,
            ..self.clone()
        }
    }
}

impl fmt::Display for JobFileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}.{}.{}",
            self.table, self.file_id, self.retry_count, self.format
        )
    }
}

impl FromStr for JobFileName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        JobFileName::parse(s)
    }
}

/// A file format: dot-separated parts of lowercase ASCII letters, digits and `_` (`parquet`, `jsonl.gz`).
fn validate_format(format: &str) -> Result<()> {
    let ok = !format.is_empty()
        && format.len() <= 32
        && format.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        });
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidName {
            kind: "file format",
            name: format.to_owned(),
            reason: "must be lowercase ASCII letters, digits and '_' in dot-separated parts",
        })
    }
}

/// `time` as RFC 3339 in UTC with microseconds: `2025-06-11T18:39:47.541553Z`.
pub fn format_rfc3339(time: SystemTime) -> String {
    let micros = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    let secs = micros / 1_000_000;
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX);
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        micros % 1_000_000
    )
}

/// The current time as RFC 3339 in UTC (see [`format_rfc3339`]).
pub fn now_rfc3339() -> String {
    format_rfc3339(SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(format_rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let t = UNIX_EPOCH + Duration::from_micros(1_749_667_187_541_553);
        assert_eq!(format_rfc3339(t), "2025-06-11T18:39:47.541553Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(format_rfc3339(leap), "2000-02-29T00:00:00.000000Z");
    }

    #[test]
    fn load_id_order_is_numeric() {
        let ids = [
            "1795922976.2609165",
            "1795922976.26",
            "999999999.9",
            "1795922976.3",
            "1795922976",
        ];
        let mut parsed: Vec<LoadId> = ids.iter().map(|s| LoadId::parse(s).unwrap()).collect();
        parsed.sort();
        let got: Vec<&str> = parsed.iter().map(LoadId::as_str).collect();
        assert_eq!(
            got,
            [
                "999999999.9",
                "1795922976",
                "1795922976.26",
                "1795922976.2609165",
                "1795922976.3"
            ]
        );
        assert_eq!(
            LoadId::parse("1795922976.2609165").unwrap().floor_micros(),
            1_795_922_976_260_916
        );
    }

    #[test]
    fn load_id_after_a_dlt_id_is_greater() {
        let dlt = LoadId::parse("4000000000.2609165").unwrap();
        let ours = next_load_id(dlt.floor_micros());
        assert!(ours > dlt, "{ours} > {dlt}");
    }

    #[test]
    fn load_id_rejects_paths() {
        for bad in ["", ".", "..", "../1", "1/2", "1.2.3", "12a", "1.", "1\0"] {
            assert!(LoadId::parse(bad).is_err(), "{bad:?}");
        }
    }
}
