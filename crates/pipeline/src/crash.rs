//! Crash points: a testing hook that ends the process at a named place of extract → normalize → load,
//! so tests can prove that a rerun finishes the work exactly once whatever moment a crash hits.
//!
//! When the environment variable [`ENV_VAR`] (`LOOKER_LOAD_CRASH_AT`) names a point, the process ends
//! with [`std::process::abort`] the first time that point is reached; `name:N` ends it the N-th time
//! (counted over the whole process, every package included). Nothing runs after the abort: no
//! destructor, no flush, no `Drop` of the pipeline lock or of the DuckDB connection, so the disk is left
//! as a `SIGKILL` or a power cut would leave it (save for the operating system's page cache). The
//! process dies by `SIGABRT`. One line naming the point is written to stderr first.
//!
//! The variable is read once per process. When it is unset (normal use) a point costs one atomic load.
//! A value that names no point in [`POINTS`] is reported once on stderr and arms nothing.
//!
//! | point | where the process stops |
//! |---|---|
//! | `extract:page` | a page of extracted items has been normalized (during extraction when streaming); the package is in `load/new/` |
//! | `normalize:before_commit` | all job files are written and the schema stored; the package is still in `load/new/` |
//! | `normalize:after_commit` | the package is in `load/normalized/`, nothing of it loaded |
//! | `load:inside_job` | the job is in `started_jobs/`; the destination has not run it |
//! | `load:job_committed` | the destination committed the job; the package still shows it in `started_jobs/` |
//! | `load:after_job` | the job is in `completed_jobs/`, the next one not started |
//! | `load:before_complete` | every job is completed; the `_dlt_loads` row is not written |
//! | `load:after_complete` | the `_dlt_loads` row is written; the package is not yet moved to `load/loaded/` |

use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable that arms a crash point: `<point>` or `<point>:<N>`.
pub const ENV_VAR: &str = "LOOKER_LOAD_CRASH_AT";

/// Every crash point, in pipeline order (see the module docs for where each one stops).
pub const POINTS: &[&str] = &[
    "extract:page",
    "normalize:before_commit",
    "normalize:after_commit",
    "load:inside_job",
    "load:job_committed",
    "load:after_job",
    "load:before_complete",
    "load:after_complete",
];

/// The armed point: its name, on which visit to stop, and the visits so far.
#[derive(Debug)]
struct Armed {
    name: String,
    nth: u64,
    reached: AtomicU64,
}

static ARMED: OnceLock<Option<Armed>> = OnceLock::new();

/// Marks the crash point `name`: ends the process here when [`ENV_VAR`] arms this point and this is the
/// visit it names. Otherwise does nothing.
#[inline]
pub fn point(name: &'static str) {
    if let Some(armed) = ARMED.get_or_init(from_env) {
        armed.reach(name);
    }
}

impl Armed {
    fn reach(&self, name: &str) {
        if self.name != name {
            return;
        }
        let visit = self.reached.fetch_add(1, Ordering::SeqCst) + 1;
        if visit == self.nth {
            // stderr is unbuffered: the line is written before the abort, nothing else runs after it.
            let _ = writeln!(
                std::io::stderr().lock(),
                "crash point {name} reached (visit {visit}): aborting ({ENV_VAR})"
            );
            std::process::abort();
        }
    }
}

fn from_env() -> Option<Armed> {
    let value = std::env::var(ENV_VAR).ok()?;
    match parse(&value) {
        Some(armed) => Some(armed),
        None => {
            let _ = writeln!(
                std::io::stderr().lock(),
                "{ENV_VAR}={value:?} arms nothing: expected one of {} optionally followed by :N (N >= 1)",
                POINTS.join(", ")
            );
            None
        }
    }
}

/// `<point>` or `<point>:<N>`; `None` for an unknown point or an N below 1.
fn parse(value: &str) -> Option<Armed> {
    let value = value.trim();
    let (name, nth) = match value.rsplit_once(':') {
        Some((name, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => (name, n.parse().ok()?),
        _ => (value, 1),
    };
    if nth == 0 || !POINTS.contains(&name) {
        return None;
    }
    Some(Armed {
        name: name.to_owned(),
        nth,
        reached: AtomicU64::new(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(value: &str) -> Option<(String, u64)> {
        parse(value).map(|a| (a.name, a.nth))
    }

    #[test]
    fn a_point_alone_stops_at_its_first_visit() {
        assert_eq!(parsed("load:after_job"), Some(("load:after_job".to_owned(), 1)));
        assert_eq!(parsed(" extract:page "), Some(("extract:page".to_owned(), 1)));
    }

    #[test]
    fn a_visit_number_follows_the_last_colon() {
        assert_eq!(parsed("load:after_job:7"), Some(("load:after_job".to_owned(), 7)));
        assert_eq!(parsed("extract:page:12"), Some(("extract:page".to_owned(), 12)));
    }

    #[test]
    fn unknown_points_and_visit_zero_arm_nothing() {
        assert_eq!(parsed("load:after_jobs"), None);
        assert_eq!(parsed("load:after_job:0"), None);
        assert_eq!(parsed("load:after_job:x"), None);
        assert_eq!(parsed("load:after_job:"), None);
        assert_eq!(parsed(""), None);
        assert_eq!(parsed("load"), None);
    }

    #[test]
    fn other_points_and_earlier_visits_pass() {
        let armed = Armed {
            name: "load:after_job".to_owned(),
            nth: 3,
            reached: AtomicU64::new(0),
        };
        armed.reach("load:inside_job");
        armed.reach("load:after_job");
        armed.reach("load:after_job");
        assert_eq!(armed.reached.load(Ordering::SeqCst), 2);
    }
}
