//! The extract area: raw pages written by `looker-load extract`, read by a later `looker-load normalize`.
//!
//! ```text
//! extract/new/<extract_id>/<resource>/<seq>.json        being written
//! extract/extracted/<extract_id>/<resource>/<seq>.json  complete, waiting for normalize
//! extract/extracted/<extract_id>/extract_info.json      optional, free-form (state snapshot, resources run)
//! ```
//!
//! The extract id is a [`LoadId`]; the load package normalized from an extract takes the same id, so an
//! extract whose package exists in `load/normalized/` or `load/loaded/` is known to be consumed.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fsutil::{self, Durability};
use crate::ids::{LoadId, validate_name};

/// The optional free-form file of an extract.
pub const EXTRACT_INFO_FILE: &str = "extract_info.json";

/// An extract being written, in `extract/new/<id>/`. Never normalized until [`commit`](Self::commit).
///
/// Methods take `&self`, so one value can be shared (behind an `Arc`) by tasks extracting several
/// resources at once.
#[derive(Debug)]
pub struct NewExtract {
    id: LoadId,
    dir: PathBuf,
    extracted_dir: PathBuf,
    durability: Durability,
}

impl NewExtract {
    pub(crate) fn new(id: LoadId, dir: PathBuf, extracted_dir: PathBuf, durability: Durability) -> Self {
        NewExtract {
            id,
            dir,
            extracted_dir,
            durability,
        }
    }

    /// The extract id (and the load id of the package it will become).
    pub fn id(&self) -> &LoadId {
        &self.id
    }

    /// The extract directory (`extract/new/<id>`).
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Creates `<resource>/<seq>.json` for writing. The resource name must be one path component without
    /// `.`; a page number already written is refused (`AlreadyExists`).
    pub fn create_page(&self, resource: &str, seq: u64) -> Result<(File, PathBuf)> {
        validate_name("resource name", resource)?;
        let folder = self.dir.join(resource);
        fsutil::create_dir_all(&folder)?;
        let path = folder.join(page_file_name(seq));
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => Ok((file, path)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(Error::AlreadyExists {
                what: "extract page",
                path,
            }),
            Err(e) => Err(Error::io("create", path, e)),
        }
    }

    /// Writes one page (the raw response body) as `<resource>/<seq>.json`.
    pub fn write_page(&self, resource: &str, seq: u64, bytes: &[u8]) -> Result<PathBuf> {
        let (mut file, path) = self.create_page(resource, seq)?;
        file.write_all(bytes).map_err(|e| Error::io("write", &path, e))?;
        Ok(path)
    }

    /// Publishes the extract: writes `extract_info.json` when `info` is given, flushes every page and
    /// folder, and renames `extract/new/<id>` to `extract/extracted/<id>` in one step.
    pub fn commit(self, info: Option<&serde_json::Value>) -> Result<ExtractedPackage> {
        if let Some(info) = info {
            let path = self.dir.join(EXTRACT_INFO_FILE);
            fsutil::write_new(&path, &fsutil::to_json(&path, info)?, self.durability)?;
        }
        let mut files = Vec::new();
        let mut folders = Vec::new();
        for entry in fsutil::list_dir(&self.dir)? {
            if entry.is_dir {
                files.extend(fsutil::list_dir(&entry.path)?.into_iter().map(|e| e.path));
                folders.push(entry.path);
            }
        }
        fsutil::sync_files(&files, self.durability)?;
        for folder in &folders {
            fsutil::sync_dir(folder, self.durability)?;
        }
        fsutil::sync_dir(&self.dir, self.durability)?;
        let target = self.extracted_dir.join(self.id.as_str());
        fsutil::rename_dir(&self.dir, &target, "extract", self.durability)?;
        Ok(ExtractedPackage {
            id: self.id,
            dir: target,
        })
    }

    /// Discards the extract (extraction failed): removes its directory.
    pub fn abandon(self) -> Result<()> {
        fsutil::remove_dir_all(&self.dir)
    }
}

fn page_file_name(seq: u64) -> String {
    format!("{seq:06}.json")
}

/// One page of an extract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractPage {
    /// The resource the page belongs to.
    pub resource: String,
    /// The page's sequence number within the resource.
    pub seq: u64,
    /// The file.
    pub path: PathBuf,
}

/// A complete extract in `extract/extracted/<id>/`, waiting for normalize.
#[derive(Debug, Clone)]
pub struct ExtractedPackage {
    id: LoadId,
    dir: PathBuf,
}

impl ExtractedPackage {
    pub(crate) fn open(id: LoadId, dir: PathBuf) -> Self {
        ExtractedPackage { id, dir }
    }

    /// The extract id.
    pub fn id(&self) -> &LoadId {
        &self.id
    }

    /// The extract directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The resources that have pages, sorted by name.
    pub fn resources(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for entry in fsutil::list_dir(&self.dir)? {
            if entry.is_dir {
                validate_name("resource name", &entry.name)
                    .map_err(|e| Error::corrupt(&entry.path, e.to_string()))?;
                out.push(entry.name);
            }
        }
        out.sort();
        Ok(out)
    }

    /// The pages of `resource`, in sequence order.
    pub fn pages(&self, resource: &str) -> Result<Vec<ExtractPage>> {
        validate_name("resource name", resource)?;
        let mut out = Vec::new();
        for entry in fsutil::list_dir(&self.dir.join(resource))? {
            let seq = entry
                .name
                .strip_suffix(".json")
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| Error::corrupt(&entry.path, "not an extract page (<seq>.json)"))?;
            out.push(ExtractPage {
                resource: resource.to_owned(),
                seq,
                path: entry.path,
            });
        }
        out.sort_by_key(|p| p.seq);
        Ok(out)
    }

    /// The `extract_info.json` written at commit, if any.
    pub fn info(&self) -> Result<Option<serde_json::Value>> {
        fsutil::read_json_opt(&self.dir.join(EXTRACT_INFO_FILE))
    }

    /// Removes the extract. Normally done by [`NewPackage::commit`](crate::NewPackage::commit) of the package
    /// made from it; use this to discard an extract deliberately.
    pub fn remove(self) -> Result<()> {
        fsutil::remove_dir_all(&self.dir)
    }
}
