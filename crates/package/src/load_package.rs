//! Load packages: `load/new/<id>` (being written), `load/normalized/<id>` (pending), `load/loaded/<id>`
//! (archived), and the job files inside them.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fsutil::{self, Durability};
use crate::ids::{self, JobFileName, LoadId};
use crate::schema::{Schema, WriteDisposition};

/// The file holding the package's schema.
pub const SCHEMA_FILE: &str = "schema.json";
/// The file holding the package's [`PackageState`].
pub const PACKAGE_STATE_FILE: &str = "package_state.json";
/// The layout version written into [`PackageState::format_version`].
pub const PACKAGE_STATE_FORMAT_VERSION: u32 = 1;

/// Where a job file is in its lifecycle; each state is a folder of the package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobState {
    /// `new_jobs/`: waiting to be loaded (also after a retry).
    New,
    /// `started_jobs/`: a loader took it. Found here after a crash, the job may or may not have reached the
    /// destination; the loader's idempotent load decides.
    Started,
    /// `completed_jobs/`: the destination has the rows.
    Completed,
    /// `failed_jobs/`: failed for good; `<file name>.exception` beside it says why.
    Failed,
}

impl JobState {
    /// All states, in lifecycle order.
    pub const ALL: [JobState; 4] = [
        JobState::New,
        JobState::Started,
        JobState::Completed,
        JobState::Failed,
    ];

    /// The package folder that holds jobs in this state.
    pub fn folder(self) -> &'static str {
        match self {
            JobState::New => "new_jobs",
            JobState::Started => "started_jobs",
            JobState::Completed => "completed_jobs",
            JobState::Failed => "failed_jobs",
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JobState::New => "new",
            JobState::Started => "started",
            JobState::Completed => "completed",
            JobState::Failed => "failed",
        })
    }
}

/// The suffix of the text file that says why a job failed.
pub const EXCEPTION_SUFFIX: &str = ".exception";

/// A job file in a package: its parsed name, its state and where it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    name: JobFileName,
    state: JobState,
    path: PathBuf,
}

impl Job {
    /// The parsed file name.
    pub fn name(&self) -> &JobFileName {
        &self.name
    }

    /// The table the job's rows belong to.
    pub fn table(&self) -> &str {
        self.name.table()
    }

    /// The job id, stable across retries and resumes: `<table>.<file_id>.<format>`.
    pub fn job_id(&self) -> String {
        self.name.job_id()
    }

    /// The current file name, with the retry count.
    pub fn file_name(&self) -> String {
        self.name.file_name()
    }

    /// The state the job was in when this value was made.
    pub fn state(&self) -> JobState {
        self.state
    }

    /// The job file's path in that state: read the rows from here.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Rows and bytes of one job, as normalize wrote them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JobMetrics {
    /// The table the job's rows belong to.
    pub table: String,
    /// Rows in the file, as counted by the writer (0 when the writer did not say).
    pub rows: u64,
    /// Size of the file in bytes.
    pub bytes: u64,
}

/// `package_state.json`: what the loader needs besides the schema and the job files.
///
/// Write dispositions, keys and parent links of tables are in the package's schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageState {
    /// Layout version of this file ([`PACKAGE_STATE_FORMAT_VERSION`]).
    pub format_version: u32,
    /// The package's load id (also its directory name).
    pub load_id: LoadId,
    /// When normalize started the package (RFC 3339, UTC).
    pub created_at: String,
    /// When normalize committed it.
    pub committed_at: String,
    /// The name of the package's schema.
    pub schema_name: String,
    /// The schema's version number.
    pub schema_version: u64,
    /// The schema's version hash, written to `_dlt_loads.schema_version_hash` and `_dlt_version`.
    pub schema_version_hash: String,
    /// The pipeline state as of this package (dlt's state document), to be written to
    /// `_dlt_pipeline_state` in the same load so a new machine restores cursors from the destination.
    #[serde(default)]
    pub pipeline_state: Option<serde_json::Value>,
    /// Root tables whose resource was extracted into this package, including those that produced no rows.
    /// A `replace` table among them is emptied, with its nested tables, even when no job carries rows.
    #[serde(default)]
    pub extracted_tables: Vec<String>,
    /// Metrics per job, by job id (`<table>.<file_id>.<format>`, stable across retries).
    #[serde(default)]
    pub jobs: BTreeMap<String, JobMetrics>,
}

impl PackageState {
    /// Total rows per table over all jobs.
    pub fn rows_per_table(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for m in self.jobs.values() {
            *out.entry(m.table.clone()).or_insert(0) += m.rows;
        }
        out
    }

    /// Tables whose rows this load replaces, in schema order: every table whose effective write
    /// disposition is `replace` and whose root table is in [`extracted_tables`](Self::extracted_tables)
    /// or has a job in this package.
    ///
    /// A nested table takes the disposition of the nearest ancestor that sets one; a root table without
    /// one is `append`, as in dlt.
    pub fn tables_to_replace(&self, schema: &Schema) -> Vec<String> {
        let root_of = |name: &str| -> String {
            let mut current = name.to_owned();
            // bounded walk: a cycle in parent links cannot loop forever
            for _ in 0..=schema.tables.len() {
                match schema.table(&current).and_then(|t| t.parent.clone()) {
                    Some(parent) => current = parent,
                    None => break,
                }
            }
            current
        };
        let disposition_of = |name: &str| -> WriteDisposition {
            let mut current = name.to_owned();
            for _ in 0..=schema.tables.len() {
                let Some(table) = schema.table(&current) else {
                    break;
                };
                if let Some(d) = table.write_disposition {
                    return d;
                }
                match &table.parent {
                    Some(parent) => current = parent.clone(),
                    None => break,
                }
            }
            WriteDisposition::Append
        };
        let mut touched_roots: Vec<String> = self.extracted_tables.clone();
        touched_roots.extend(self.jobs.values().map(|m| root_of(&m.table)));
        schema
            .tables
            .iter()
            .filter(|t| disposition_of(&t.name) == WriteDisposition::Replace)
            .filter(|t| touched_roots.contains(&root_of(&t.name)))
            .map(|t| t.name.clone())
            .collect()
    }
}

/// What normalize hands over when it commits a package.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommitInfo {
    /// The pipeline state to store with the package (see [`PackageState::pipeline_state`]).
    pub pipeline_state: Option<serde_json::Value>,
    /// Rows written per job file, by job file name (as returned by [`NewPackage::create_job_file`]).
    /// Jobs not named here get 0 rows.
    pub job_rows: BTreeMap<String, u64>,
    /// See [`PackageState::extracted_tables`].
    pub extracted_tables: Vec<String>,
}

impl CommitInfo {
    /// Adds `rows` to the count of the job file at `path`.
    pub fn add_rows(&mut self, path: &Path, rows: u64) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        *self.job_rows.entry(name).or_insert(0) += rows;
    }
}

/// A package being written by normalize, in `load/new/<load_id>/`. Never loaded until [`commit`](Self::commit)
/// renames it to `load/normalized/`. Dropping it without committing leaves it for
/// [`PipelineDir::recover`](crate::PipelineDir::recover) to remove.
#[derive(Debug)]
pub struct NewPackage {
    load_id: LoadId,
    dir: PathBuf,
    normalized_dir: PathBuf,
    created_at: String,
    durability: Durability,
    /// The extract this package is made from, removed once the package is committed.
    extract_dir: Option<PathBuf>,
}

impl NewPackage {
    /// Creates the package directory `dir` (already claimed) with its job folders.
    pub(crate) fn create(
        load_id: LoadId,
        dir: PathBuf,
        normalized_dir: PathBuf,
        durability: Durability,
        extract_dir: Option<PathBuf>,
    ) -> Result<Self> {
        for state in JobState::ALL {
            fsutil::create_dir_all(&dir.join(state.folder()))?;
        }
        Ok(NewPackage {
            load_id,
            dir,
            normalized_dir,
            created_at: ids::now_rfc3339(),
            durability,
            extract_dir,
        })
    }

    /// The package's load id.
    pub fn load_id(&self) -> &LoadId {
        &self.load_id
    }

    /// The package directory (`load/new/<load_id>`).
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Creates `new_jobs/<table>.<file_id>.0.parquet` for normalize to write, and returns it with its path.
    ///
    /// This is the normalizer's job sink. The table name must be one path component without `.` (see
    /// [`validate_name`](crate::validate_name)); anything else is refused with `InvalidInput` before any
    /// file is touched, so a path never escapes the package.
    pub fn create_job_file(&self, table: &str) -> io::Result<(File, PathBuf)> {
        self.create_job_file_with_format(table, ids::PARQUET)
    }

    /// Like [`create_job_file`](Self::create_job_file), for another file format (`jsonl`, `jsonl.gz`, ...).
    pub fn create_job_file_with_format(&self, table: &str, format: &str) -> io::Result<(File, PathBuf)> {
        let folder = self.dir.join(JobState::New.folder());
        loop {
            let name = JobFileName::new(table, format)?;
            let path = folder.join(name.file_name());
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => return Ok((file, path)),
                // a random file id collided: draw another
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io("create job file", path, e).into()),
            }
        }
    }

    /// Publishes the package: writes `schema.json` and `package_state.json`, flushes every file and
    /// folder, then renames `load/new/<id>` to `load/normalized/<id>` in one step. If the package was
    /// made from an extract, the extract is removed afterwards (a crash in between leaves it for
    /// [`PipelineDir::recover`](crate::PipelineDir::recover), which sees it was consumed).
    ///
    /// Every file in `new_jobs/` must be a job file with a valid name, and every name in
    /// `info.job_rows` must be one of them.
    pub fn commit(self, schema: &Schema, info: CommitInfo) -> Result<NormalizedPackage> {
        let new_jobs = self.dir.join(JobState::New.folder());
        let mut jobs = BTreeMap::new();
        let mut paths = Vec::new();
        let mut known_files = HashSet::new();
        for entry in fsutil::list_dir(&new_jobs)? {
            let name = JobFileName::parse(&entry.name)
                .map_err(|e| Error::corrupt(&entry.path, format!("not a job file: {e}")))?;
            let bytes = fs::metadata(&entry.path)
                .map_err(|e| Error::io("inspect", &entry.path, e))?
                .len();
            let rows = info.job_rows.get(&entry.name).copied().unwrap_or(0);
            jobs.insert(
                name.job_id(),
                JobMetrics {
                    table: name.table().to_owned(),
                    rows,
                    bytes,
                },
            );
            known_files.insert(entry.name);
            paths.push(entry.path);
        }
        if let Some(unknown) = info.job_rows.keys().find(|k| !known_files.contains(k.as_str())) {
            return Err(Error::UnknownJob {
                load_id: self.load_id.clone(),
                job: unknown.clone(),
            });
        }
        let state = PackageState {
            format_version: PACKAGE_STATE_FORMAT_VERSION,
            load_id: self.load_id.clone(),
            created_at: self.created_at.clone(),
            committed_at: ids::now_rfc3339(),
            schema_name: schema.name.clone(),
            schema_version: schema.version,
            schema_version_hash: schema.version_hash.clone(),
            pipeline_state: info.pipeline_state,
            extracted_tables: info.extracted_tables,
            jobs,
        };
        let schema_path = self.dir.join(SCHEMA_FILE);
        let state_path = self.dir.join(PACKAGE_STATE_FILE);
        fsutil::write_new(
            &schema_path,
            &fsutil::to_json(&schema_path, schema)?,
            self.durability,
        )?;
        fsutil::write_new(
            &state_path,
            &fsutil::to_json(&state_path, &state)?,
            self.durability,
        )?;
        fsutil::sync_files(&paths, self.durability)?;
        for folder in JobState::ALL {
            fsutil::sync_dir(&self.dir.join(folder.folder()), self.durability)?;
        }
        fsutil::sync_dir(&self.dir, self.durability)?;
        let target = self.normalized_dir.join(self.load_id.as_str());
        fsutil::rename_dir(&self.dir, &target, "load package", self.durability)?;
        if let Some(extract) = &self.extract_dir
            && let Err(e) = fsutil::remove_dir_all(extract)
        {
            tracing::warn!(error = %e, "the extract was normalized but could not be removed; recover removes it later");
        }
        Ok(NormalizedPackage {
            inner: PackageDir {
                load_id: self.load_id,
                dir: target,
            },
            durability: self.durability,
        })
    }

    /// Discards the package (normalize failed): removes its directory and everything in it.
    pub fn abandon(self) -> Result<()> {
        fsutil::remove_dir_all(&self.dir)
    }
}

/// Read access shared by normalized and loaded packages.
#[derive(Debug, Clone)]
struct PackageDir {
    load_id: LoadId,
    dir: PathBuf,
}

impl PackageDir {
    fn schema(&self) -> Result<Schema> {
        fsutil::read_json(&self.dir.join(SCHEMA_FILE), "package schema")
    }

    fn state(&self) -> Result<PackageState> {
        fsutil::read_json(&self.dir.join(PACKAGE_STATE_FILE), "package state")
    }

    fn jobs(&self, state: JobState) -> Result<Vec<Job>> {
        let folder = self.dir.join(state.folder());
        let mut jobs = Vec::new();
        for entry in fsutil::list_dir(&folder)? {
            if state == JobState::Failed && entry.name.ends_with(EXCEPTION_SUFFIX) {
                continue;
            }
            let name = JobFileName::parse(&entry.name)
                .map_err(|e| Error::corrupt(&entry.path, format!("not a job file: {e}")))?;
            jobs.push(Job {
                name,
                state,
                path: entry.path,
            });
        }
        jobs.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(jobs)
    }

    fn all_jobs(&self) -> Result<Vec<Job>> {
        let mut all = Vec::new();
        for state in JobState::ALL {
            all.extend(self.jobs(state)?);
        }
        Ok(all)
    }

    fn exception(&self, job: &Job) -> Result<Option<String>> {
        let path = self
            .dir
            .join(JobState::Failed.folder())
            .join(format!("{}{EXCEPTION_SUFFIX}", job.name.file_name()));
        match fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("read", path, e)),
        }
    }
}

/// A complete package waiting to be loaded, in `load/normalized/<load_id>/`.
///
/// Job transitions are single atomic renames between the job folders. They are not flushed to disk one
/// by one: after a power loss a job may show up one step back (completed → started), which the loader
/// contract (see the crate docs) makes harmless. [`mark_loaded`](Self::mark_loaded) flushes the folders
/// before archiving the package.
#[derive(Debug, Clone)]
pub struct NormalizedPackage {
    inner: PackageDir,
    durability: Durability,
}

impl NormalizedPackage {
    pub(crate) fn open(load_id: LoadId, dir: PathBuf, durability: Durability) -> Self {
        NormalizedPackage {
            inner: PackageDir { load_id, dir },
            durability,
        }
    }

    /// The package's load id.
    pub fn load_id(&self) -> &LoadId {
        &self.inner.load_id
    }

    /// The package directory.
    pub fn path(&self) -> &Path {
        &self.inner.dir
    }

    /// The schema stored with the package.
    pub fn schema(&self) -> Result<Schema> {
        self.inner.schema()
    }

    /// The package state.
    pub fn state(&self) -> Result<PackageState> {
        self.inner.state()
    }

    /// The jobs in `state`, ordered by table, file id and retry count. On resume, `Started` lists the jobs
    /// a crashed loader had taken.
    pub fn jobs(&self, state: JobState) -> Result<Vec<Job>> {
        self.inner.jobs(state)
    }

    /// All jobs, new first, then started, completed and failed.
    pub fn all_jobs(&self) -> Result<Vec<Job>> {
        self.inner.all_jobs()
    }

    /// The failure message of a failed job, if any.
    pub fn exception(&self, job: &Job) -> Result<Option<String>> {
        self.inner.exception(job)
    }

    /// `new_jobs/` → `started_jobs/`.
    pub fn start_job(&self, job: &Job) -> Result<Job> {
        self.transition(job, &[JobState::New], "new", JobState::Started, job.name.clone())
    }

    /// `started_jobs/` → `completed_jobs/`: the destination has the job's rows.
    pub fn complete_job(&self, job: &Job) -> Result<Job> {
        self.transition(
            job,
            &[JobState::Started],
            "started",
            JobState::Completed,
            job.name.clone(),
        )
    }

    /// `started_jobs/` (or `new_jobs/`, for a job that cannot even start) → `failed_jobs/`, with `message`
    /// in `failed_jobs/<file name>.exception`. The message is written first, so a failed job always has
    /// its reason beside it.
    pub fn fail_job(&self, job: &Job, message: &str) -> Result<Job> {
        if !matches!(job.state, JobState::Started | JobState::New) {
            return Err(Error::WrongJobState {
                job: job.file_name(),
                expected: "started or new",
                actual: job.state,
            });
        }
        let source = self.inner.dir.join(job.state.folder()).join(job.name.file_name());
        if !fsutil::exists(&source) {
            return Err(Error::NotFound {
                what: "job file",
                path: source,
            });
        }
        let exception = self
            .inner
            .dir
            .join(JobState::Failed.folder())
            .join(format!("{}{EXCEPTION_SUFFIX}", job.name.file_name()));
        fsutil::write_atomic(&exception, message.as_bytes(), Durability::NoSync)?;
        self.transition(
            job,
            &[JobState::Started, JobState::New],
            "started or new",
            JobState::Failed,
            job.name.clone(),
        )
    }

    /// `started_jobs/<table>.<id>.<n>.<fmt>` → `new_jobs/<table>.<id>.<n+1>.<fmt>`: a transient failure, to
    /// be tried again.
    pub fn retry_job(&self, job: &Job) -> Result<Job> {
        let next = job
            .name
            .retry_count()
            .checked_add(1)
            .ok_or_else(|| Error::corrupt(&job.path, "the retry count cannot grow any further"))?;
        self.transition(
            job,
            &[JobState::Started],
            "started",
            JobState::New,
            job.name.with_retry_count(next),
        )
    }

    fn transition(
        &self,
        job: &Job,
        from: &[JobState],
        expected: &'static str,
        to: JobState,
        new_name: JobFileName,
    ) -> Result<Job> {
        if !from.contains(&job.state) {
            return Err(Error::WrongJobState {
                job: job.file_name(),
                expected,
                actual: job.state,
            });
        }
        let source = self.inner.dir.join(job.state.folder()).join(job.name.file_name());
        let target = self.inner.dir.join(to.folder()).join(new_name.file_name());
        if fsutil::exists(&target) {
            return Err(Error::AlreadyExists {
                what: "job file",
                path: target,
            });
        }
        fsutil::rename(&source, &target, "job file")?;
        Ok(Job {
            name: new_name,
            state: to,
            path: target,
        })
    }

    /// Archives the package after the destination committed it (`_dlt_loads` row written): renames
    /// `load/normalized/<id>` to `load/loaded/<id>`, flushed. Refused while any job is new or started; failed
    /// jobs are allowed (whether a load with failed jobs counts as done is the loader's decision).
    pub fn mark_loaded(self) -> Result<LoadedPackage> {
        let new = self.jobs(JobState::New)?.len();
        let started = self.jobs(JobState::Started)?.len();
        if new + started > 0 {
            return Err(Error::Unfinished {
                load_id: self.inner.load_id.clone(),
                new,
                started,
            });
        }
        for state in JobState::ALL {
            let folder = self.inner.dir.join(state.folder());
            if fsutil::exists(&folder) {
                fsutil::sync_dir(&folder, self.durability)?;
            }
        }
        let area = self.inner.dir.parent().and_then(Path::parent).ok_or_else(|| {
            Error::corrupt(
                &self.inner.dir,
                "a normalized package must sit in load/normalized/",
            )
        })?;
        let target = area
            .join(crate::pipeline_dir::LOADED)
            .join(self.inner.load_id.as_str());
        fsutil::rename_dir(&self.inner.dir, &target, "loaded package", self.durability)?;
        Ok(LoadedPackage {
            inner: PackageDir {
                load_id: self.inner.load_id,
                dir: target,
            },
        })
    }
}

/// An archived package in `load/loaded/<load_id>/`: its jobs, schema and state stay for `info` and `trace`.
#[derive(Debug, Clone)]
pub struct LoadedPackage {
    inner: PackageDir,
}

impl LoadedPackage {
    pub(crate) fn open(load_id: LoadId, dir: PathBuf) -> Self {
        LoadedPackage {
            inner: PackageDir { load_id, dir },
        }
    }

    /// The package's load id.
    pub fn load_id(&self) -> &LoadId {
        &self.inner.load_id
    }

    /// The package directory.
    pub fn path(&self) -> &Path {
        &self.inner.dir
    }

    /// The schema stored with the package.
    pub fn schema(&self) -> Result<Schema> {
        self.inner.schema()
    }

    /// The package state.
    pub fn state(&self) -> Result<PackageState> {
        self.inner.state()
    }

    /// The jobs in `state`.
    pub fn jobs(&self, state: JobState) -> Result<Vec<Job>> {
        self.inner.jobs(state)
    }

    /// All jobs.
    pub fn all_jobs(&self) -> Result<Vec<Job>> {
        self.inner.all_jobs()
    }

    /// The failure message of a failed job, if any.
    pub fn exception(&self, job: &Job) -> Result<Option<String>> {
        self.inner.exception(job)
    }
}
