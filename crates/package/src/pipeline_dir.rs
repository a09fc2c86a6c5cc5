//! The pipeline working directory `<pipelines_dir>/<pipeline_name>/`.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::extract::{ExtractedPackage, NewExtract};
use crate::fsutil::{self, Durability};
use crate::ids::{self, LoadId, validate_name};
use crate::load_package::{LoadedPackage, NewPackage, NormalizedPackage};
use crate::schema::Schema;
use crate::state::PipelineState;
use crate::trace::Trace;

/// `load/`.
pub const LOAD: &str = "load";
/// `load/new/` and `extract/new/`: being written.
pub const NEW: &str = "new";
/// `load/normalized/`: complete packages waiting to be loaded.
pub const NORMALIZED: &str = "normalized";
/// `load/loaded/`: archived packages.
pub const LOADED: &str = "loaded";
/// `extract/`.
pub const EXTRACT: &str = "extract";
/// `extract/extracted/`: complete extracts waiting for normalize.
pub const EXTRACTED: &str = "extracted";
/// The pipeline state file.
pub const STATE_FILE: &str = "state.json";
/// The folder of stored schemas (`<name>.schema.json`).
pub const SCHEMAS_DIR: &str = "schemas";
/// The suffix of a stored schema file.
pub const SCHEMA_SUFFIX: &str = ".schema.json";
/// The last run's trace.
pub const TRACE_FILE: &str = "trace.json";
/// The lock file taken by [`PipelineDir::lock`].
pub const LOCK_FILE: &str = ".lock";

/// The working directory of one pipeline: load packages, extracts, state, schemas and trace.
///
/// Making a `PipelineDir` touches nothing on disk; folders are made when first written, and reading a
/// pipeline that never ran lists nothing.
#[derive(Debug, Clone)]
pub struct PipelineDir {
    root: PathBuf,
    durability: Durability,
}

/// An exclusive advisory lock on a pipeline directory, held until dropped (or the process ends).
///
/// Commands that write (run, extract, normalize, load, drop) should hold it, so two runs never work on
/// the same packages; [`PipelineDir::recover`] requires it.
#[derive(Debug)]
pub struct PipelineLock {
    root: PathBuf,
    _file: File,
}

/// Leftovers of interrupted runs, as reported by [`PipelineDir::abandoned`] or removed by
/// [`PipelineDir::recover`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Packages in `load/new/`: normalize stopped before committing. Their data is not lost: the extract
    /// they came from is still pending, or (for a package normalized straight from extraction) the
    /// pipeline state was not advanced, so the next run extracts the rows again.
    pub new_packages: Vec<LoadId>,
    /// Extracts in `extract/new/`: extraction stopped before committing; the state was not advanced.
    pub new_extracts: Vec<LoadId>,
    /// Extracts in `extract/extracted/` whose load package already exists (a crash after the package
    /// commit, before the extract was removed). Normalizing them again would load their rows twice.
    pub consumed_extracts: Vec<LoadId>,
    /// Temporary files of interrupted atomic writes (`.state.json.*.tmp`, ...).
    pub temp_files: Vec<PathBuf>,
}

impl Recovery {
    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.new_packages.is_empty()
            && self.new_extracts.is_empty()
            && self.consumed_extracts.is_empty()
            && self.temp_files.is_empty()
    }
}

impl PipelineDir {
    /// The directory `<pipelines_dir>/<pipeline_name>`. The pipeline name must be one path component
    /// without `.` (see [`validate_name`]).
    pub fn new(pipelines_dir: impl AsRef<Path>, pipeline_name: &str) -> Result<Self> {
        validate_name("pipeline name", pipeline_name)?;
        Ok(PipelineDir::at(pipelines_dir.as_ref().join(pipeline_name)))
    }

    /// The pipeline directory at `root`.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        PipelineDir {
            root: root.into(),
            durability: Durability::default(),
        }
    }

    /// The same directory with another durability (default [`Durability::Sync`]).
    pub fn with_durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// The pipeline directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the pipeline directory exists (the pipeline ran here before).
    pub fn exists(&self) -> bool {
        self.root.is_dir()
    }

    fn area(&self, top: &str, sub: &str) -> PathBuf {
        self.root.join(top).join(sub)
    }

    /// Takes the pipeline's exclusive lock, without waiting: [`Error::Locked`] when another process holds it.
    pub fn lock(&self) -> Result<PipelineLock> {
        fsutil::create_dir_all(&self.root)?;
        let path = self.root.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io("open", &path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(PipelineLock {
                root: self.root.clone(),
                _file: file,
            }),
            Err(TryLockError::WouldBlock) => Err(Error::Locked {
                path: self.root.clone(),
            }),
            Err(TryLockError::Error(e)) => Err(Error::io("lock", path, e)),
        }
    }

    // ----- load packages -------------------------------------------------------------------------

    /// Starts a new load package in `load/new/<load_id>/` with a fresh load id.
    pub fn new_package(&self) -> Result<NewPackage> {
        let (load_id, dir) = self.claim_id(&self.area(LOAD, NEW))?;
        NewPackage::create(load_id, dir, self.area(LOAD, NORMALIZED), self.durability, None)
    }

    /// Starts the load package normalized from `extract`; it takes the extract's id. A leftover
    /// `load/new/<id>` of an earlier, interrupted normalize of the same extract is removed first. Fails with
    /// [`Error::AlreadyExists`] when the extract was already normalized. Committing the package removes
    /// the extract.
    pub fn new_package_from_extract(&self, extract: &ExtractedPackage) -> Result<NewPackage> {
        let id = extract.id().clone();
        for area in [NORMALIZED, LOADED] {
            let existing = self.area(LOAD, area).join(id.as_str());
            if fsutil::exists(&existing) {
                return Err(Error::AlreadyExists {
                    what: "load package of this extract",
                    path: existing,
                });
            }
        }
        let new_area = self.area(LOAD, NEW);
        let dir = new_area.join(id.as_str());
        fsutil::remove_dir_all(&dir)?;
        fsutil::create_dir_all(&new_area)?;
        fs::create_dir(&dir).map_err(|e| Error::io("create directory", &dir, e))?;
        NewPackage::create(
            id,
            dir,
            self.area(LOAD, NORMALIZED),
            self.durability,
            Some(extract.path().to_path_buf()),
        )
    }

    /// The complete packages waiting to be loaded, oldest load id first. Packages still in `load/new/` are
    /// never listed (see [`abandoned`](Self::abandoned)).
    pub fn pending(&self) -> Result<Vec<NormalizedPackage>> {
        Ok(self
            .ids_in(&self.area(LOAD, NORMALIZED))?
            .into_iter()
            .map(|(id, dir)| NormalizedPackage::open(id, dir, self.durability))
            .collect())
    }

    /// The pending package `load_id`, or [`Error::NotFound`].
    pub fn normalized(&self, load_id: &LoadId) -> Result<NormalizedPackage> {
        let dir = self.area(LOAD, NORMALIZED).join(load_id.as_str());
        if !dir.is_dir() {
            return Err(Error::NotFound {
                what: "pending load package",
                path: dir,
            });
        }
        Ok(NormalizedPackage::open(load_id.clone(), dir, self.durability))
    }

    /// The archived packages, oldest first.
    pub fn loaded(&self) -> Result<Vec<LoadedPackage>> {
        Ok(self
            .ids_in(&self.area(LOAD, LOADED))?
            .into_iter()
            .map(|(id, dir)| LoadedPackage::open(id, dir))
            .collect())
    }

    // ----- extracts ------------------------------------------------------------------------------

    /// Starts a new extract in `extract/new/<id>/` with a fresh id.
    pub fn new_extract(&self) -> Result<NewExtract> {
        let (id, dir) = self.claim_id(&self.area(EXTRACT, NEW))?;
        Ok(NewExtract::new(
            id,
            dir,
            self.area(EXTRACT, EXTRACTED),
            self.durability,
        ))
    }

    /// The complete extracts waiting for normalize, oldest first. Extracts still in `extract/new/`, and
    /// extracts whose load package already exists, are never listed.
    pub fn pending_extracts(&self) -> Result<Vec<ExtractedPackage>> {
        Ok(self
            .ids_in(&self.area(EXTRACT, EXTRACTED))?
            .into_iter()
            .filter(|(id, _)| !self.is_consumed(id))
            .map(|(id, dir)| ExtractedPackage::open(id, dir))
            .collect())
    }

    fn is_consumed(&self, id: &LoadId) -> bool {
        [NORMALIZED, LOADED]
            .iter()
            .any(|area| fsutil::exists(&self.area(LOAD, area).join(id.as_str())))
    }

    // ----- leftovers -----------------------------------------------------------------------------

    /// Reports the leftovers of interrupted runs without touching them.
    pub fn abandoned(&self) -> Result<Recovery> {
        let ids = |area: PathBuf| -> Result<Vec<LoadId>> {
            Ok(self.ids_in(&area)?.into_iter().map(|(id, _)| id).collect())
        };
        let mut temp_files = temp_files_in(&self.root)?;
        temp_files.extend(temp_files_in(&self.root.join(SCHEMAS_DIR))?);
        Ok(Recovery {
            new_packages: ids(self.area(LOAD, NEW))?,
            new_extracts: ids(self.area(EXTRACT, NEW))?,
            consumed_extracts: ids(self.area(EXTRACT, EXTRACTED))?
                .into_iter()
                .filter(|id| self.is_consumed(id))
                .collect(),
            temp_files,
        })
    }

    /// Removes the leftovers of interrupted runs (see [`Recovery`]) and returns what was removed. Needs the
    /// pipeline lock, so nothing another process is writing is taken for abandoned. Pending packages and
    /// pending extracts are never touched.
    pub fn recover(&self, lock: &PipelineLock) -> Result<Recovery> {
        if lock.root != self.root {
            return Err(Error::WrongLock {
                path: self.root.clone(),
            });
        }
        let found = self.abandoned()?;
        for id in &found.new_packages {
            fsutil::remove_dir_all(&self.area(LOAD, NEW).join(id.as_str()))?;
        }
        for id in &found.new_extracts {
            fsutil::remove_dir_all(&self.area(EXTRACT, NEW).join(id.as_str()))?;
        }
        for id in &found.consumed_extracts {
            fsutil::remove_dir_all(&self.area(EXTRACT, EXTRACTED).join(id.as_str()))?;
        }
        for path in &found.temp_files {
            match fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("remove", path, e)),
            }
        }
        if !found.is_empty() {
            tracing::info!(
                new_packages = found.new_packages.len(),
                new_extracts = found.new_extracts.len(),
                consumed_extracts = found.consumed_extracts.len(),
                temp_files = found.temp_files.len(),
                "removed leftovers of an interrupted run"
            );
        }
        Ok(found)
    }

    // ----- pipeline files ------------------------------------------------------------------------

    /// Reads `state.json`; `None` when the pipeline has no state yet.
    pub fn read_state(&self) -> Result<Option<PipelineState>> {
        fsutil::read_json_opt(&self.root.join(STATE_FILE))
    }

    /// Replaces `state.json` atomically (temporary file, flush, rename, flush of the directory).
    pub fn write_state(&self, state: &PipelineState) -> Result<()> {
        fsutil::write_json_atomic(&self.root.join(STATE_FILE), state, self.durability)
    }

    /// The path of the stored schema `name`.
    pub fn schema_path(&self, name: &str) -> Result<PathBuf> {
        validate_name("schema name", name)?;
        Ok(self.root.join(SCHEMAS_DIR).join(format!("{name}{SCHEMA_SUFFIX}")))
    }

    /// Reads `schemas/<name>.schema.json`; `None` when not stored.
    pub fn read_schema(&self, name: &str) -> Result<Option<Schema>> {
        fsutil::read_json_opt(&self.schema_path(name)?)
    }

    /// Stores `schema` as `schemas/<schema.name>.schema.json`, atomically.
    pub fn write_schema(&self, schema: &Schema) -> Result<()> {
        fsutil::write_json_atomic(&self.schema_path(&schema.name)?, schema, self.durability)
    }

    /// The names of the stored schemas, sorted.
    pub fn schema_names(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = fsutil::list_dir(&self.root.join(SCHEMAS_DIR))?
            .into_iter()
            .filter(|e| !e.is_dir)
            .filter_map(|e| e.name.strip_suffix(SCHEMA_SUFFIX).map(str::to_owned))
            .filter(|n| validate_name("schema name", n).is_ok())
            .collect();
        names.sort();
        Ok(names)
    }

    /// Reads `trace.json`; `None` when no run left a trace.
    pub fn read_trace(&self) -> Result<Option<Trace>> {
        fsutil::read_json_opt(&self.root.join(TRACE_FILE))
    }

    /// Replaces `trace.json` atomically.
    pub fn write_trace(&self, trace: &Trace) -> Result<()> {
        fsutil::write_json_atomic(&self.root.join(TRACE_FILE), trace, self.durability)
    }

    // ----- ids -----------------------------------------------------------------------------------

    /// The directories of `area` named by a load id, oldest first. Other entries are skipped with a warning.
    fn ids_in(&self, area: &Path) -> Result<Vec<(LoadId, PathBuf)>> {
        let mut out = Vec::new();
        for entry in fsutil::list_dir(area)? {
            match LoadId::parse(&entry.name) {
                Ok(id) if entry.is_dir => out.push((id, entry.path)),
                _ => tracing::warn!(path = %entry.path.display(), "skipping an entry that is not a package"),
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Creates `<area>/<id>` for a fresh id later than every id on disk; the creation itself is what claims
    /// the id, so two writers never share one.
    fn claim_id(&self, area: &Path) -> Result<(LoadId, PathBuf)> {
        let mut floor = 0;
        for (top, sub) in [
            (LOAD, NEW),
            (LOAD, NORMALIZED),
            (LOAD, LOADED),
            (EXTRACT, NEW),
            (EXTRACT, EXTRACTED),
        ] {
            for (id, _) in self.ids_in(&self.area(top, sub))? {
                floor = floor.max(id.floor_micros());
            }
        }
        fsutil::create_dir_all(area)?;
        loop {
            let id = ids::next_load_id(floor);
            let dir = area.join(id.as_str());
            match fs::create_dir(&dir) {
                Ok(()) => return Ok((id, dir)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => floor = id.floor_micros(),
                Err(e) => return Err(Error::io("create directory", dir, e)),
            }
        }
    }
}

/// Temporary files of interrupted atomic writes directly in `dir`.
fn temp_files_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let read = match fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("list", dir, e)),
    };
    let mut out = Vec::new();
    for entry in read {
        let entry = entry.map_err(|e| Error::io("list", dir, e))?;
        if entry.file_name().to_str().is_some_and(fsutil::is_temp_name) {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}
