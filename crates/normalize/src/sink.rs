//! Where job files go: the load package decides their names and places.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// Creates the job files the normalizer writes, one Parquet file at a time per table. The load
/// package implements it to create `new_jobs/<table>.<file_id>.0.parquet`.
pub trait JobSink {
    /// A new, empty file for rows of `table` (a normalized table name), and its path.
    fn create(&mut self, table: &str) -> io::Result<(File, PathBuf)>;
}

/// A [`JobSink`] creating `<dir>/<table>.<file_id>.0.parquet` with a random 10-hex `file_id`, as
/// dlt names job files. For tests and tools; the pipeline uses the load package's sink.
#[derive(Debug, Clone)]
pub struct DirSink {
    dir: PathBuf,
    rng: fastrand::Rng,
}

impl DirSink {
    /// Files go to `dir`, which must exist.
    pub fn new(dir: impl AsRef<Path>) -> DirSink {
        DirSink {
            dir: dir.as_ref().to_path_buf(),
            rng: fastrand::Rng::new(),
        }
    }
}

impl JobSink for DirSink {
    fn create(&mut self, table: &str) -> io::Result<(File, PathBuf)> {
        loop {
            let file_id: String = (0..10)
                .map(|_| char::from_digit(self.rng.u32(0..16), 16).unwrap_or('0'))
                .collect();
            let path = self.dir.join(format!("{table}.{file_id}.0.parquet"));
            match File::options().write(true).create_new(true).open(&path) {
                Ok(file) => return Ok((file, path)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl<S: JobSink + ?Sized> JobSink for &mut S {
    fn create(&mut self, table: &str) -> io::Result<(File, PathBuf)> {
        (**self).create(table)
    }
}
