//! The load step: pending load packages into the destination, oldest first. Each job moves
//! new → started → completed in the package; `complete_load` (the `_dlt_loads` row) is the commit
//! point, after which the package is archived in `load/loaded/`. A crash anywhere is finished by the
//! next run: the destination skips jobs it already holds, so nothing loads twice.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use destination::{Destination, DestinationError, ErrorKind, LoadJob};
use package::{JobState, LoadId, NormalizedPackage, PipelineDir};

use crate::PipelineError;
use crate::config::{ConfigError, DestinationKind, Origin, Settings};

/// Attempts per job before a transient error fails the load (the package stays pending).
const JOB_ATTEMPTS: u32 = 5;
/// Wait before the first retry of a job; it doubles with each retry (0.5, 1, 2, 4 s), so a server
/// that restarts or fails over has time to come back.
const JOB_RETRY_DELAY: Duration = Duration::from_millis(500);

/// The destination the settings name, ready to connect.
pub fn destination(settings: &Settings) -> Result<Box<dyn Destination>, PipelineError> {
    match settings.destination {
        DestinationKind::Duckdb => {
            let mut config = duckdb_dest::DuckDbConfig::new(&settings.duckdb.path, &settings.dataset_name);
            for (name, value) in &settings.duckdb.global_config {
                let invalid = |expected: &str| ConfigError::Invalid {
                    key: format!("destination.duckdb.credentials.global_config.{name}"),
                    origin: settings
                        .origins
                        .get("destination.duckdb.credentials.global_config")
                        .cloned()
                        .unwrap_or(Origin::Default),
                    value: value.clone(),
                    expected: expected.to_owned(),
                };
                config = match name.as_str() {
                    "threads" => match value.parse::<u32>() {
                        Ok(n) if n >= 1 => config.with_threads(n),
                        _ => return Err(invalid("a whole number of threads, at least 1").into()),
                    },
                    "memory_limit" => config.with_memory_limit(value.clone()),
                    _ => config.with_setting(name.clone(), value.clone()),
                };
            }
            Ok(Box::new(duckdb_dest::DuckDbDestination::new(config)?))
        }
        DestinationKind::Postgres => {
            let pg = settings.postgres.as_ref().ok_or_else(|| {
                PipelineError::Internal("postgres destination without postgres settings".to_owned())
            })?;
            let credentials = postgres_dest::config::Credentials {
                database: pg.database.clone(),
                username: pg.username.clone(),
                password: pg.password.clone(),
                host: pg.host.clone(),
                port: Some(pg.port),
                connect_timeout: Some(pg.connect_timeout.as_secs().max(1)),
            };
            let config =
                postgres_dest::PostgresConfig::from_credentials(&credentials, &settings.dataset_name)?
                    .with_tls(pg.sslmode, pg.sslrootcert.clone());
            Ok(Box::new(postgres_dest::PostgresDestination::new(config)?))
        }
        other => Err(ConfigError::Invalid {
            key: "destination".to_owned(),
            origin: settings
                .origins
                .get("destination")
                .cloned()
                .unwrap_or(Origin::Default),
            value: other.name().to_owned(),
            expected: "a destination available in this build: duckdb, postgres".to_owned(),
        }
        .into()),
    }
}

/// Opens the destination once and releases it: a wrong path, a locked file or refused credentials are
/// reported before any data is extracted, not after.
pub async fn check_destination(destination: &dyn Destination) -> Result<(), PipelineError> {
    let client = destination.connect().await?;
    drop(client);
    Ok(())
}

/// What loading one package did.
#[derive(Debug, Clone)]
pub struct LoadedPackage {
    /// The package's load id.
    pub load_id: LoadId,
    /// Jobs loaded by this run (jobs found already loaded after a crash included).
    pub jobs: usize,
    /// Rows per table as counted by normalize.
    pub rows_per_table: BTreeMap<String, u64>,
    /// Job retries after transient errors.
    pub retries: u32,
    /// Time spent.
    pub elapsed: Duration,
}

/// Loads every pending package of `dir` into `destination`, oldest first.
pub async fn load_pending(
    dir: &PipelineDir,
    destination: &dyn Destination,
) -> Result<Vec<LoadedPackage>, PipelineError> {
    let mut loaded = Vec::new();
    for package in dir.pending()? {
        loaded.push(load_package(destination, package).await?);
    }
    Ok(loaded)
}

/// Loads one package and archives it.
pub async fn load_package(
    destination: &dyn Destination,
    package: NormalizedPackage,
) -> Result<LoadedPackage, PipelineError> {
    let started = Instant::now();
    let id = package.load_id().clone();
    let load_id = id.to_string();
    let schema = package.schema()?;
    let kept = |source: DestinationError| PipelineError::Load {
        load_id: load_id.clone(),
        source,
    };
    let client = destination.connect().await.map_err(kept)?;
    client.ensure_dataset().await.map_err(kept)?;
    client.update_stored_schema(&schema).await.map_err(kept)?;

    // Jobs a crashed run had started come first; the destination skips those it already holds.
    let mut jobs = package.jobs(JobState::Started)?;
    for job in package.jobs(JobState::New)? {
        jobs.push(package.start_job(&job)?);
    }
    let mut retries = 0;
    let count = jobs.len();
    for job in jobs {
        let mut job = job;
        loop {
            let load_job = LoadJob::from_file(&schema, &load_id, job.path())?;
            crate::crash::point("load:inside_job");
            match client.load_job(&load_job).await {
                Ok(_) => {
                    crate::crash::point("load:job_committed");
                    package.complete_job(&job)?;
                    crate::crash::point("load:after_job");
                    break;
                }
                Err(e) if e.kind() == ErrorKind::Transient && job.name().retry_count() + 1 < JOB_ATTEMPTS => {
                    let delay = JOB_RETRY_DELAY * 2u32.pow(job.name().retry_count().min(4));
                    tracing::warn!(
                        job = %job.file_name(),
                        error = %e,
                        retry_in = ?delay,
                        "transient load error, retrying"
                    );
                    tokio::time::sleep(delay).await;
                    retries += 1;
                    let retried = package.retry_job(&job)?;
                    job = package.start_job(&retried)?;
                }
                // The job stays started: the package is never completed without it, and the next run
                // tries it again once the cause is fixed.
                Err(e) => return Err(PipelineError::Load { load_id, source: e }),
            }
        }
    }
    crate::crash::point("load:before_complete");
    client
        .complete_load(&load_id, &schema.name, &schema.version_hash)
        .await
        .map_err(kept)?;
    crate::crash::point("load:after_complete");
    let rows_per_table = package.state()?.rows_per_table();
    package.mark_loaded()?;
    Ok(LoadedPackage {
        load_id: id,
        jobs: count,
        rows_per_table,
        retries,
        elapsed: started.elapsed(),
    })
}

impl From<DestinationError> for PipelineError {
    fn from(e: DestinationError) -> Self {
        PipelineError::Destination(e)
    }
}
