//! DuckDB settings, resolved from `[destination.duckdb]` (or `DESTINATION__DUCKDB__*`) by the pipeline's
//! configuration and validated here once, before any file is opened.

use std::path::{Path, PathBuf};

use destination::DestinationError;

use crate::DESTINATION_NAME;

/// The setting that names the database file, as users set it.
pub const CREDENTIALS_KEY: &str = "DESTINATION__DUCKDB__CREDENTIALS";
/// The dataset setting, as users set it.
pub const DATASET_KEY: &str = "DATASET_NAME";

/// DuckDB worker threads when [`DuckDbConfig::threads`] is unset: one. A load is a sequence of
/// small transactions (one per job, most tables below one 122,880-row group), which DuckDB cannot
/// spread over threads; with more threads its scheduler mostly contends on locks. Measured on the
/// 100,000-user mock package (63 tables, 1.04 M rows, 2 cores): 1 thread 3.6–4.1 CPU s and 4.2–4.7 s
/// wall, DuckDB's default (one per core) 5.1–5.8 CPU s and 4.5–5.1 s wall.
pub const DEFAULT_THREADS: u32 = 1;

/// Settings of the DuckDB destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuckDbConfig {
    /// The database file (`[destination.duckdb] credentials`). Created if missing; its directory must
    /// exist. dlt's default is `<pipeline_name>.duckdb` in the current directory
    /// ([`DuckDbConfig::default_path`]).
    pub path: PathBuf,
    /// The dataset: a schema inside the database holding the tables and dlt's `_dlt_*` tables.
    pub dataset_name: String,
    /// The staging dataset for merge tables and load bookkeeping; `<dataset>_staging` as in dlt.
    pub staging_dataset_name: String,
    /// DuckDB worker threads; `None` uses [`DEFAULT_THREADS`].
    pub threads: Option<u32>,
    /// DuckDB's memory limit (`"1GB"`, `"512MiB"`); `None` leaves DuckDB's own (80% of RAM). A job
    /// that does not fit the limit fails, loading nothing, with an error naming `memory_limit`. A
    /// wide table needs about 256 KiB per column while its job is inserted, and Looker's open-ended
    /// maps can make tables of thousands of columns, so no lower limit is imposed by default.
    pub memory_limit: Option<String>,
    /// Other DuckDB settings (dlt's `global_config`, e.g. `("temp_directory", "/big/tmp")`), applied
    /// with `SET GLOBAL` when the database opens. A setting DuckDB refuses is a configuration error
    /// naming `global_config`.
    pub settings: Vec<(String, String)>,
}

/// The key DuckDB settings are configured under, in errors.
pub const GLOBAL_CONFIG_KEY: &str = "destination.duckdb.credentials.global_config";

impl DuckDbConfig {
    /// Settings for the file at `path` and dataset `dataset_name`, staging in `<dataset>_staging`.
    pub fn new(path: impl Into<PathBuf>, dataset_name: impl Into<String>) -> Self {
        let dataset_name = dataset_name.into();
        DuckDbConfig {
            path: path.into(),
            staging_dataset_name: format!("{dataset_name}_staging"),
            dataset_name,
            threads: None,
            memory_limit: None,
            settings: Vec::new(),
        }
    }

    /// Settings from dlt's `credentials` value: a file path, or a `duckdb:///path` URL.
    pub fn from_credentials(
        credentials: &str,
        dataset_name: impl Into<String>,
    ) -> Result<Self, DestinationError> {
        let path = credentials.strip_prefix("duckdb:///").unwrap_or(credentials);
        if path.is_empty() {
            return Err(DestinationError::configuration(
                DESTINATION_NAME,
                CREDENTIALS_KEY,
                "the database path is empty",
            ));
        }
        if path == ":memory:" || path.starts_with(":memory:") {
            return Err(DestinationError::configuration(
                DESTINATION_NAME,
                CREDENTIALS_KEY,
                "an in-memory database loses the data when the load ends; give a file path",
            ));
        }
        Ok(DuckDbConfig::new(path, dataset_name))
    }

    /// dlt's default database file: `<pipeline_name>.duckdb` in `dir` (the current directory).
    pub fn default_path(dir: &Path, pipeline_name: &str) -> PathBuf {
        dir.join(format!("{pipeline_name}.duckdb"))
    }

    /// Uses `name` as the staging dataset.
    pub fn with_staging_dataset(mut self, name: impl Into<String>) -> Self {
        self.staging_dataset_name = name.into();
        self
    }

    /// Limits DuckDB to `threads` worker threads.
    pub fn with_threads(mut self, threads: u32) -> Self {
        self.threads = Some(threads);
        self
    }

    /// Adds a DuckDB setting applied with `SET GLOBAL` when the database opens.
    pub fn with_setting(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.push((name.into(), value.into()));
        self
    }

    /// Sets DuckDB's memory limit (`"1GB"`).
    pub fn with_memory_limit(mut self, limit: impl Into<String>) -> Self {
        self.memory_limit = Some(limit.into());
        self
    }

    /// Checks the settings without touching the file system.
    pub fn validate(&self) -> Result<(), DestinationError> {
        let config =
            |key: &str, message: String| DestinationError::configuration(DESTINATION_NAME, key, message);
        if self.path.as_os_str().is_empty() {
            return Err(config(CREDENTIALS_KEY, "the database path is empty".into()));
        }
        if self.path.to_str().is_none() {
            return Err(config(
                CREDENTIALS_KEY,
                format!("the database path {} is not UTF-8", self.path.display()),
            ));
        }
        if self.path.is_dir() {
            return Err(config(
                CREDENTIALS_KEY,
                format!(
                    "{} is a directory; give a database file path such as pipeline.duckdb",
                    self.path.display()
                ),
            ));
        }
        for (what, name) in [
            ("dataset", &self.dataset_name),
            ("staging dataset", &self.staging_dataset_name),
        ] {
            if name.is_empty() || name.contains('\0') {
                return Err(config(
                    DATASET_KEY,
                    format!("the {what} name {name:?} is empty or contains NUL"),
                ));
            }
        }
        if self.dataset_name == self.staging_dataset_name {
            return Err(config(
                DATASET_KEY,
                "the dataset and the staging dataset must differ".into(),
            ));
        }
        if self.threads == Some(0) {
            return Err(config(
                "DESTINATION__DUCKDB__THREADS",
                "threads must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_forms() {
        let c = DuckDbConfig::from_credentials("duckdb:///data/x.duckdb", "ds");
        assert_eq!(c.map(|c| c.path).ok(), Some(PathBuf::from("data/x.duckdb")));
        let c = DuckDbConfig::from_credentials("x.duckdb", "ds").ok();
        assert_eq!(
            c.as_ref().map(|c| c.staging_dataset_name.as_str()),
            Some("ds_staging")
        );
        let e = DuckDbConfig::from_credentials(":memory:", "ds");
        assert!(e.is_err_and(|e| e.config_key() == Some(CREDENTIALS_KEY)));
    }

    #[test]
    fn validation_names_the_key() {
        let ok = DuckDbConfig::new("x.duckdb", "ds");
        assert!(ok.validate().is_ok());
        let same = DuckDbConfig::new("x.duckdb", "ds").with_staging_dataset("ds");
        assert_eq!(
            same.validate()
                .err()
                .and_then(|e| e.config_key().map(String::from))
                .as_deref(),
            Some(DATASET_KEY)
        );
        let dir = DuckDbConfig::new(std::env::temp_dir(), "ds");
        assert!(
            dir.validate()
                .is_err_and(|e| e.to_string().contains("is a directory"))
        );
        assert_eq!(
            DuckDbConfig::default_path(Path::new("/w"), "p"),
            PathBuf::from("/w/p.duckdb")
        );
    }
}
