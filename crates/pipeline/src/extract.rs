//! The extract step on its own (`looker-load extract`): pages from Looker written as they arrive into
//! an extract under the pipeline's working directory, published only when every resource is complete.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use looker::{ExtractReport, Extractor, LookerSettings, Page, Resource};
use package::{LoadId, PipelineDir};
use tokio::sync::mpsc;

use crate::PipelineError;
use crate::config::{LookerConfig, Settings};

/// Pages buffered between the extractor and the writer; bounds memory whatever the instance's size.
pub(crate) const PAGE_CHANNEL: usize = 16;

/// The extractor settings from the resolved configuration: the instance, credentials and tuning.
///
/// Fails with a configuration error naming the key (and environment variable) to set when the
/// instance or its credentials are missing.
pub fn looker_settings(config: &LookerConfig) -> Result<LookerSettings, PipelineError> {
    let connection = config.require_credentials()?;
    let mut settings = LookerSettings::new(connection.base_url.as_str(), connection.auth)?;
    if let Some(v) = config.page_size {
        settings.page_size = v;
    }
    if let Some(v) = config.max_attempts {
        settings.max_attempts = v;
    }
    if let Some(v) = config.request_timeout {
        settings.request_timeout = v;
    }
    if let Some(v) = config.max_retry_delay {
        settings.max_retry_delay = v;
        settings.initial_retry_delay = settings.initial_retry_delay.min(v);
    }
    if let Some(v) = config.concurrency {
        settings.concurrency = v;
    }
    Ok(settings)
}

/// The resources to extract: the configured list, or the default five.
pub fn selected_resources(settings: &Settings) -> Result<Vec<Resource>, PipelineError> {
    match &settings.looker.resources {
        None => Ok(Resource::DEFAULT.to_vec()),
        Some(names) => {
            let mut out = Vec::with_capacity(names.len());
            for name in names {
                let resource = name
                    .parse::<Resource>()
                    .map_err(|e| crate::config::ConfigError::Invalid {
                        key: "sources.looker_data_source.resources".to_owned(),
                        origin: settings
                            .origins
                            .get("sources.looker_data_source.resources")
                            .cloned()
                            .unwrap_or(crate::config::Origin::Default),
                        value: name.clone(),
                        expected: e.to_string(),
                    })?;
                if !out.contains(&resource) {
                    out.push(resource);
                }
            }
            Ok(out)
        }
    }
}

/// What one extraction wrote.
#[derive(Debug)]
pub struct ExtractOutcome {
    /// The id of the published extract (`extract/extracted/<id>`); `normalize` turns it into a load
    /// package with the same id.
    pub extract_id: LoadId,
    /// The extractor's report: pages, items, bytes and requests per resource, retries.
    pub report: ExtractReport,
    /// Wall time of the whole step.
    pub elapsed: Duration,
}

/// Extracts `resources` into a new extract of `dir` and publishes it. On any failure the partial
/// extract is discarded: a full-refresh table loaded from part of a resource would lose rows.
pub async fn extract_to_disk(
    dir: &PipelineDir,
    looker: LookerSettings,
    resources: &[Resource],
) -> Result<ExtractOutcome, PipelineError> {
    let started = Instant::now();
    let extract = Arc::new(dir.new_extract()?);
    let extractor = Extractor::new(looker)?;
    let (tx, mut rx) = mpsc::channel::<Page>(PAGE_CHANNEL);

    let writer = {
        let extract = Arc::clone(&extract);
        tokio::task::spawn_blocking(move || -> Result<(), PipelineError> {
            let mut seq: BTreeMap<Resource, u64> = BTreeMap::new();
            while let Some(page) = rx.blocking_recv() {
                let n = seq.entry(page.resource).or_insert(0);
                extract.write_page(page.resource.name(), *n, &page.body)?;
                *n += 1;
            }
            Ok(())
        })
    };

    let extracted = extractor.extract(resources, tx).await;
    let written = writer
        .await
        .map_err(|e| PipelineError::Internal(format!("extract writer stopped: {e}")))?;
    let extract = Arc::try_unwrap(extract)
        .map_err(|_| PipelineError::Internal("extract still in use after extraction".to_owned()))?;

    // A writer failure (disk full…) closes the channel and so also fails the extractor: report the cause.
    if let Err(e) = written {
        discard(extract);
        return Err(e);
    }
    let report = match extracted {
        Ok(report) => report,
        Err(e) => {
            discard(extract);
            return Err(e.into());
        }
    };
    let info = serde_json::json!({
        "resources": resources.iter().map(|r| r.name()).collect::<Vec<_>>(),
        "skipped_queries": report.skipped_queries,
    });
    let published = extract.commit(Some(&info))?;
    Ok(ExtractOutcome {
        extract_id: published.id().clone(),
        report,
        elapsed: started.elapsed(),
    })
}

fn discard(extract: package::NewExtract) {
    if let Err(e) = extract.abandon() {
        tracing::warn!(error = %e, "could not remove the incomplete extract");
    }
}
