//! File-system primitives: atomic writes, renames, directory flushes, listings.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// How hard state changes are pushed to stable storage.
///
/// Every state change is an atomic rename whatever is chosen, so a crashed *process* never leaves a
/// half-written package or state file. Durability is about a crashed *machine* (power loss, kernel
/// panic): with [`Durability::Sync`] the files and directories that make a package complete, and the
/// pipeline's state files, are flushed (`fsync`) before and after the rename that publishes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Flush files and directories at the commit points (package commit, `mark_loaded`, state writes).
    #[default]
    Sync,
    /// Skip every flush. Safe against process crashes, not against power loss. For tests and scratch runs.
    NoSync,
}

impl Durability {
    pub(crate) fn on(self) -> bool {
        self == Durability::Sync
    }
}

/// Flushes a directory, so the renames and creations inside it survive a power loss.
pub(crate) fn sync_dir(dir: &Path, durability: Durability) -> Result<()> {
    if !durability.on() {
        return Ok(());
    }
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io("flush directory", dir, e))
}

/// Flushes the contents of many files, several at a time: on the usual disks a flush waits for the
/// device, and parallel flushes share that wait.
pub(crate) fn sync_files(paths: &[PathBuf], durability: Durability) -> Result<()> {
    if !durability.on() || paths.is_empty() {
        return Ok(());
    }
    let threads = paths.len().clamp(1, 8);
    let chunk = paths.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = paths
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || -> Result<()> {
                    for path in part {
                        File::open(path)
                            .and_then(|f| f.sync_all())
                            .map_err(|e| Error::io("flush", path, e))?;
                    }
                    Ok(())
                })
            })
            .collect();
        for handle in handles {
            match handle.join() {
                Ok(result) => result?,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(())
    })
}

/// Creates `dir` and its parents.
pub(crate) fn create_dir_all(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))
}

/// Renames `from` to `to` (one atomic step on one file system). A missing source is `NotFound`.
pub(crate) fn rename(from: &Path, to: &Path, what: &'static str) -> Result<()> {
    match fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound && fs::symlink_metadata(from).is_err() => {
            Err(Error::NotFound {
                what,
                path: from.to_path_buf(),
            })
        }
        Err(e) => Err(Error::io("rename", from, e)),
    }
}

/// Renames a directory `from` into `to`, refusing to replace an existing `to`, then flushes both parent
/// directories.
pub(crate) fn rename_dir(from: &Path, to: &Path, what: &'static str, durability: Durability) -> Result<()> {
    if fs::symlink_metadata(to).is_ok() {
        return Err(Error::AlreadyExists {
            what,
            path: to.to_path_buf(),
        });
    }
    if let Some(parent) = to.parent() {
        create_dir_all(parent)?;
    }
    rename(from, to, what)?;
    if let Some(parent) = to.parent() {
        sync_dir(parent, durability)?;
    }
    if let Some(parent) = from.parent() {
        sync_dir(parent, durability)?;
    }
    Ok(())
}

/// Writes a file that does not exist yet and is not visible to readers until its directory is
/// published (package and extract files). Flushed when `durability` asks.
pub(crate) fn write_new(path: &Path, bytes: &[u8], durability: Durability) -> Result<()> {
    let mut file = File::create(path).map_err(|e| Error::io("create", path, e))?;
    file.write_all(bytes).map_err(|e| Error::io("write", path, e))?;
    if durability.on() {
        file.sync_all().map_err(|e| Error::io("flush", path, e))?;
    }
    Ok(())
}

/// Replaces `path` with `bytes` atomically: a temporary file in the same directory is written, flushed
/// and renamed over `path`, then the directory is flushed. Readers see the old or the new content,
/// never a mix; a crash leaves at most a stray `.<name>.*.tmp` file, which readers ignore.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], durability: Durability) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(
        ".{name}.{}.{:08x}{TMP_SUFFIX}",
        std::process::id(),
        fastrand::u32(..)
    ));
    let result = (|| {
        write_new(&tmp, bytes, durability)?;
        rename(&tmp, path, "temporary file")?;
        sync_dir(dir, durability)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The suffix of temporary files written by [`write_atomic`].
pub(crate) const TMP_SUFFIX: &str = ".tmp";

/// Whether `name` is one of our temporary files.
pub(crate) fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(TMP_SUFFIX)
}

/// Serializes `value` as pretty JSON and writes it atomically.
pub(crate) fn write_json_atomic<T: Serialize>(path: &Path, value: &T, durability: Durability) -> Result<()> {
    let bytes = to_json(path, value)?;
    write_atomic(path, &bytes, durability)
}

/// Serializes `value` as pretty JSON.
pub(crate) fn to_json<T: Serialize>(path: &Path, value: &T) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::corrupt(path, format!("cannot serialize: {e}")))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Reads and parses a JSON file; `None` when it does not exist.
pub(crate) fn read_json_opt<T: DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| Error::corrupt(path, format!("not valid JSON of the expected shape: {e}")))
}

/// Reads and parses a JSON file that must exist.
pub(crate) fn read_json<T: DeserializeOwned>(path: &Path, what: &'static str) -> Result<T> {
    read_json_opt(path)?.ok_or_else(|| Error::NotFound {
        what,
        path: path.to_path_buf(),
    })
}

/// One entry of a directory listing.
#[derive(Debug)]
pub(crate) struct Entry {
    pub name: String,
    pub path: PathBuf,
    pub is_dir: bool,
}

/// Lists `dir`, skipping hidden entries (names starting with `.`: temporary files, lock files). A missing
/// directory lists as empty. Names that are not UTF-8 cannot be ours and are skipped with a warning.
pub(crate) fn list_dir(dir: &Path) -> Result<Vec<Entry>> {
    let read = match fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("list", dir, e)),
    };
    let mut out = Vec::new();
    for entry in read {
        let entry = entry.map_err(|e| Error::io("list", dir, e))?;
        let path = entry.path();
        let Ok(name) = entry.file_name().into_string() else {
            tracing::warn!(path = %path.display(), "skipping a file whose name is not UTF-8");
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let is_dir = entry
            .file_type()
            .map_err(|e| Error::io("inspect", &path, e))?
            .is_dir();
        out.push(Entry { name, path, is_dir });
    }
    Ok(out)
}

/// Removes a directory tree; a missing one is fine.
pub(crate) fn remove_dir_all(dir: &Path) -> Result<()> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", dir, e)),
    }
}

/// Whether anything exists at `path` (a dangling symlink counts).
pub(crate) fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}
