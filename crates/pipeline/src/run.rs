//! `looker-load run`: finish what earlier runs left (pending extracts and packages), then extract,
//! normalize and load new data in one streaming pass: pages flow from the extractor straight into the
//! normalizer through a bounded channel, so memory stays flat whatever the instance's size.

use std::time::{Duration, Instant};

use looker::{ExtractReport, Extractor, LookerSettings, Page, Resource};
use package::{PipelineDir, Step, Trace, TraceStep};
use tokio::sync::{mpsc, oneshot};

use crate::PipelineError;
use crate::config::Settings;
use crate::load::{self, LoadedPackage};
use crate::normalize::{self, Normalized};

/// What a run did.
#[derive(Debug)]
pub struct RunOutcome {
    /// Packages loaded, pending ones from earlier runs first.
    pub loaded: Vec<LoadedPackage>,
    /// The extractor's report for the new data.
    pub extract: ExtractReport,
    /// The destination's description (`duckdb:/path`).
    pub location: String,
    /// Time spent extracting and normalizing new data (one streaming pass).
    pub extract_normalize: Duration,
    /// Time spent loading.
    pub load: Duration,
    /// Wall time of the run.
    pub elapsed: Duration,
}

/// Runs the pipeline: load pending packages, normalize pending extracts, then extract new data.
pub async fn run(
    settings: &Settings,
    looker: LookerSettings,
    resources: &[Resource],
) -> Result<RunOutcome, PipelineError> {
    let started = Instant::now();
    let mut trace = Trace::new(&settings.pipeline_name, "run");
    let dir = PipelineDir::new(&settings.pipelines_dir, &settings.pipeline_name)?;
    let lock = dir.lock()?;
    let recovered = dir.recover(&lock)?;
    if !recovered.is_empty() {
        tracing::warn!(?recovered, "removed work an interrupted run left unfinished");
    }
    let destination = load::destination(settings)?;
    let identifier_limit = Some(destination.capabilities().max_identifier_length);
    let result = run_steps(
        settings,
        &dir,
        destination.as_ref(),
        identifier_limit,
        looker,
        resources,
        &mut trace,
    )
    .await;
    if let Err(e) = &result {
        match trace.steps.last_mut() {
            Some(step) => step.error = Some(e.to_string()),
            None => {
                let mut step = TraceStep::start(Step::Load);
                step.error = Some(e.to_string());
                trace.steps.push(step);
            }
        }
    }
    trace.finish();
    if let Err(e) = dir.write_trace(&trace) {
        tracing::warn!(error = %e, "could not write trace.json");
    }
    drop(lock);
    let (loaded, extract, extract_normalize, load) = result?;
    Ok(RunOutcome {
        loaded,
        extract,
        location: destination.location(),
        extract_normalize,
        load,
        elapsed: started.elapsed(),
    })
}

type Steps = (Vec<LoadedPackage>, ExtractReport, Duration, Duration);

async fn run_steps(
    settings: &Settings,
    dir: &PipelineDir,
    destination: &dyn destination::Destination,
    identifier_limit: Option<usize>,
    looker: LookerSettings,
    resources: &[Resource],
    trace: &mut Trace,
) -> Result<Steps, PipelineError> {
    // 1. What earlier runs left: packages first, then extracts.
    let load_started = Instant::now();
    let mut loaded = load::load_pending(dir, destination).await?;
    {
        let dir = dir.clone();
        let settings_clone = settings.clone();
        let normalized = tokio::task::spawn_blocking(move || {
            normalize::normalize_extracts(&dir, &settings_clone, identifier_limit)
        })
        .await
        .map_err(|e| PipelineError::Internal(format!("normalize stopped: {e}")))??;
        for n in normalized {
            loaded.push(load::load_package(destination, n.package).await?);
        }
    }
    let mut load_time = load_started.elapsed();

    // 2. New data: extract → normalize in one pass, once the destination is known to accept a connection.
    load::check_destination(destination).await?;
    let step = TraceStep::start(Step::Extract);
    let (report, normalized) =
        extract_and_normalize(settings, dir, identifier_limit, looker, resources).await?;
    let streamed = step_finish(trace, step, &report, &normalized);

    // 3. Load it, with the extract and normalize buffers handed back first.
    crate::memory::release_free_heap();
    let step = TraceStep::start(Step::Load);
    let load_started = Instant::now();
    let package = load::load_package(destination, normalized.package).await?;
    load_time += load_started.elapsed();
    let mut load_step = step;
    load_step.duration_secs = load_started.elapsed().as_secs_f64();
    load_step.rows = package.rows_per_table.clone();
    load_step.load_ids = vec![package.load_id.clone()];
    trace.steps.push(load_step);
    loaded.push(package);
    Ok((loaded, report, streamed, load_time))
}

fn step_finish(
    trace: &mut Trace,
    mut step: TraceStep,
    report: &ExtractReport,
    normalized: &Normalized,
) -> Duration {
    let elapsed = normalized.elapsed.max(report.elapsed);
    step.duration_secs = elapsed.as_secs_f64();
    step.rows = report
        .resources
        .iter()
        .filter(|(_, r)| r.emitted)
        .map(|(res, r)| (res.name().to_owned(), r.items))
        .collect();
    step.bytes = normalized.bytes;
    step.retries = report.retries;
    step.skipped_queries = report.skipped_queries.clone();
    trace.steps.push(step);
    let mut norm = TraceStep::start(Step::Normalize);
    norm.duration_secs = normalized.elapsed.as_secs_f64();
    norm.rows = normalized.rows_per_table.clone();
    norm.bytes = normalized.bytes;
    norm.load_ids = vec![normalized.package.load_id().clone()];
    trace.steps.push(norm);
    elapsed
}

/// Extracts `resources` and normalizes their pages as they arrive into a new load package. The package
/// is committed only if the extraction completed: a partial full-refresh would delete rows at load.
pub async fn extract_and_normalize(
    settings: &Settings,
    dir: &PipelineDir,
    identifier_limit: Option<usize>,
    looker: LookerSettings,
    resources: &[Resource],
) -> Result<(ExtractReport, Normalized), PipelineError> {
    let extractor = Extractor::new(looker)?;
    let (tx, mut rx) = mpsc::channel::<Page>(crate::extract::PAGE_CHANNEL);
    let (done_tx, done_rx) = oneshot::channel();
    let selected = resources.to_vec();
    let extraction = tokio::spawn(async move {
        let result = extractor.extract(&selected, tx).await;
        let _ = done_tx.send(result);
    });

    let progress = crate::progress::Progress::start("extract and normalize");
    let counters = progress.counters();
    let package = dir.new_package()?;
    let normalize = {
        let dir = dir.clone();
        let settings = settings.clone();
        let resources = resources.to_vec();
        tokio::task::spawn_blocking(move || {
            let mut done_rx = Some(done_rx);
            let mut report = None;
            let normalized =
                normalize::normalize_into(&dir, package, &settings, &resources, identifier_limit, || {
                    match rx.blocking_recv() {
                        Some(page) => {
                            counters.page(page.items as u64, page.body.len() as u64);
                            Some(Ok((page.resource, page.body)))
                        }
                        // The extractor has finished: only a complete extraction may be committed.
                        None => match done_rx.take().map(|d| d.blocking_recv()) {
                            Some(Ok(Ok(r))) => {
                                report = Some(r);
                                None
                            }
                            Some(Ok(Err(e))) => Some(Err(e.into())),
                            Some(Err(_)) | None => Some(Err(PipelineError::Internal(
                                "the extractor stopped without a result".to_owned(),
                            ))),
                        },
                    }
                })?;
            let report =
                report.ok_or_else(|| PipelineError::Internal("extraction has no report".to_owned()))?;
            Ok::<_, PipelineError>((report, normalized))
        })
    };
    let result = normalize.await;
    progress.finish();
    let result = result.map_err(|e| PipelineError::Internal(format!("normalize stopped: {e}")))?;
    // On a normalize error the receiver is gone and the extractor stops at its next page.
    let _ = extraction.await;
    result
}
