//! The normalize step: pages of Looker items (from the extractor's channel, or from an extract on disk)
//! into a load package of Parquet job files, with the pipeline's schema evolved and stored.

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use looker::Resource;
use normalize::{JobSink, NormalizeOptions, NormalizeOutput, Normalizer, TableHints};
use package::schema::{Schema, WriteDisposition};
use package::{CommitInfo, NewPackage, NormalizedPackage, PipelineDir, PipelineState};

use crate::PipelineError;
use crate::config::Settings;
pub use crate::hints::table_hints;

/// The name of the schema, as dlt names the schema of `@dlt.source def looker_data_source()`.
pub const SCHEMA_NAME: &str = "looker_data_source";

/// Creates the normalizer's job files inside a new load package.
struct PackageSink<'a>(&'a NewPackage);

impl JobSink for PackageSink<'_> {
    fn create(&mut self, table: &str) -> io::Result<(File, PathBuf)> {
        self.0.create_job_file(table)
    }
}

/// What one normalize step produced.
#[derive(Debug)]
pub struct Normalized {
    /// The committed package, ready to load.
    pub package: NormalizedPackage,
    /// Rows written per table.
    pub rows_per_table: BTreeMap<String, u64>,
    /// Items read (root rows).
    pub items: u64,
    /// Bytes of JSON read.
    pub bytes: u64,
    /// Time spent normalizing (pages waited for included when streaming).
    pub elapsed: Duration,
}

/// Normalizes the pages `next` yields into `package` and commits it. The pipeline's schema is read
/// first and stored again before the package is published, so a crash in between leaves a schema
/// that is a superset of what any package holds.
pub fn normalize_into(
    dir: &PipelineDir,
    package: NewPackage,
    settings: &Settings,
    resources: &[Resource],
    max_identifier_length: Option<usize>,
    next: impl FnMut() -> Option<Result<(Resource, Bytes), PipelineError>>,
) -> Result<Normalized, PipelineError> {
    let started = Instant::now();
    let schema = dir
        .read_schema(SCHEMA_NAME)?
        .unwrap_or_else(|| Schema::new(SCHEMA_NAME));
    let state = pipeline_state(dir, settings)?;
    let mut tables = table_hints(settings, resources);
    tables.insert(
        STATE_TABLE.to_owned(),
        TableHints {
            write_disposition: Some(WriteDisposition::Append),
            ..TableHints::default()
        },
    );
    let options = NormalizeOptions {
        max_identifier_length,
        load_id: package.load_id().to_string(),
        tables,
        ..NormalizeOptions::default()
    };
    let state_row = state_row(&state)?;
    let schema_before = schema.clone();
    let outcome = normalize_pages(schema, options, &package, resources, &state_row, next);
    let (output, items, bytes) = match outcome.and_then(|(mut output, items, bytes)| {
        empty_replace_jobs(&mut output, resources, &package)?;
        Ok((output, items, bytes))
    }) {
        Ok(v) => v,
        Err(e) => {
            if let Err(abandon) = package.abandon() {
                tracing::warn!(error = %abandon, "could not remove the incomplete load package");
            }
            return Err(e);
        }
    };

    let mut info = CommitInfo {
        pipeline_state: Some(
            serde_json::to_value(&state)
                .map_err(|e| PipelineError::Internal(format!("pipeline state: {e}")))?,
        ),
        extracted_tables: resources.iter().map(|r| r.name().to_owned()).collect(),
        ..CommitInfo::default()
    };
    for file in &output.files {
        info.add_rows(&file.path, file.rows);
    }
    crate::hints::warn_open_map_growth(&schema_before, &output.schema, resources);
    dir.write_schema(&output.schema)?;
    crate::crash::point("normalize:before_commit");
    let package = package.commit(&output.schema, info)?;
    crate::crash::point("normalize:after_commit");
    Ok(Normalized {
        package,
        rows_per_table: output.rows_per_table,
        items,
        bytes,
        elapsed: started.elapsed(),
    })
}

/// A `replace` resource that yielded no rows still replaces: its root table (once it has received
/// data in an earlier load) gets a job file without rows, which makes the destination empty the table
/// chain, as dlt does.
fn empty_replace_jobs(
    output: &mut normalize::NormalizeOutput,
    resources: &[Resource],
    package: &NewPackage,
) -> Result<(), PipelineError> {
    for resource in resources {
        let Some(root) = output
            .schema
            .tables
            .iter()
            .find(|t| t.parent.is_none() && t.resource.as_deref() == Some(resource.name()))
        else {
            continue;
        };
        let written = output.rows_per_table.get(&root.name).copied().unwrap_or(0);
        if root.write_disposition != Some(WriteDisposition::Replace) || !root.seen_data() || written > 0 {
            continue;
        }
        let file = normalize::write_empty_job(root, &mut PackageSink(package))?;
        tracing::info!(resource = resource.name(), table = %root.name, "no rows: the table chain is emptied at load");
        output.files.push(file);
    }
    Ok(())
}

/// Resolution of the page interleaving of [`normalize_extracts`].
const PROGRESS_SCALE: u64 = 1 << 32;

/// Bytes of pages handed to the second normalizer thread ahead of it: enough for the reading thread
/// to normalize one of its own large pages while the other thread keeps busy.
const PAGES_AHEAD_BYTES: usize = 16 << 20;

/// Pages on their way to the second normalizer thread, bounded by their bytes (one page is always
/// admitted, whatever its size).
struct PageQueue {
    state: Mutex<QueueState>,
    changed: Condvar,
    limit: usize,
}

#[derive(Default)]
struct QueueState {
    pages: VecDeque<(Resource, Bytes)>,
    bytes: usize,
    /// No more pages will be sent.
    closed: bool,
    /// The receiver stopped (it failed): sending is pointless.
    gone: bool,
}

/// The receiver stopped.
struct ReceiverGone;

impl PageQueue {
    fn new(limit: usize) -> PageQueue {
        PageQueue {
            state: Mutex::new(QueueState::default()),
            changed: Condvar::new(),
            limit,
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // the state stays consistent whatever a panicking holder did: each change is one assignment
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, QueueState>) -> MutexGuard<'a, QueueState> {
        self.changed.wait(guard).unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a page, waiting while the queue is full.
    fn send(&self, page: (Resource, Bytes)) -> Result<(), ReceiverGone> {
        let mut state = self.lock();
        while !state.gone && !state.pages.is_empty() && state.bytes + page.1.len() > self.limit {
            state = self.wait(state);
        }
        if state.gone {
            return Err(ReceiverGone);
        }
        state.bytes += page.1.len();
        state.pages.push_back(page);
        self.changed.notify_all();
        Ok(())
    }

    /// The next page, waiting for one; `None` once the sender is done and the queue empty.
    fn recv(&self) -> Option<(Resource, Bytes)> {
        let mut state = self.lock();
        loop {
            if let Some(page) = state.pages.pop_front() {
                state.bytes -= page.1.len();
                self.changed.notify_all();
                return Some(page);
            }
            if state.closed {
                return None;
            }
            state = self.wait(state);
        }
    }

    /// Marks the queue closed when dropped: the receiver ends after the queued pages.
    fn sender_guard(&self) -> impl Drop + '_ {
        Guard(move || {
            self.lock().closed = true;
            self.changed.notify_all();
        })
    }

    /// Marks the receiver gone when dropped: the sender stops waiting and queued pages are dropped.
    fn receiver_guard(&self) -> impl Drop + '_ {
        Guard(move || {
            let mut state = self.lock();
            state.gone = true;
            state.pages.clear();
            state.bytes = 0;
            self.changed.notify_all();
        })
    }
}

/// Runs its function when dropped.
struct Guard<F: FnMut()>(F);

impl<F: FnMut()> Drop for Guard<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// The normalizer's output, items and bytes read.
type Outcome = (NormalizeOutput, u64, u64);

/// Normalizes the pages `next` yields, then the `_dlt_pipeline_state` row, on two threads when the
/// resources split: each resource's tables belong to one thread (tables are disjoint across resources),
/// which has its own writers and its own copy of the schema; the two schemas are merged in resource
/// order, so the schema (table order, version hash) does not depend on the threads' timing.
fn normalize_pages(
    schema: Schema,
    options: NormalizeOptions,
    package: &NewPackage,
    resources: &[Resource],
    state_row: &[u8],
    mut next: impl FnMut() -> Option<Result<(Resource, Bytes), PipelineError>>,
) -> Result<Outcome, PipelineError> {
    let (local, remote) = split_resources(resources);
    if local.is_empty() || remote.is_empty() {
        let mut normalizer = Normalizer::new(schema, options, PackageSink(package));
        let (mut items, mut bytes) = (0u64, 0u64);
        while let Some(page) = next() {
            let (resource, body) = page?;
            let stats = normalizer.push_page(resource.name(), &body)?;
            items += stats.items;
            bytes += stats.bytes;
            crate::crash::point("extract:page");
        }
        normalizer.push_page(STATE_TABLE, state_row)?;
        return Ok((normalizer.finish()?, items, bytes));
    }
    // the two threads share the memory budget
    let options = NormalizeOptions {
        memory_budget: options.memory_budget / 2,
        ..options
    };
    let mut order: Vec<&str> = resources.iter().map(|r| r.name()).collect();
    order.push(STATE_TABLE);
    let queue = PageQueue::new(PAGES_AHEAD_BYTES);
    std::thread::scope(|scope| {
        let helper = {
            let (schema, options, queue) = (schema.clone(), options.clone(), &queue);
            scope.spawn(move || -> Result<Outcome, normalize::NormalizeError> {
                // on an error (or a panic) the reading thread must stop waiting for room
                let _gone = queue.receiver_guard();
                let mut normalizer = Normalizer::new(schema, options, PackageSink(package));
                let (mut items, mut bytes) = (0u64, 0u64);
                while let Some((resource, body)) = queue.recv() {
                    let stats = normalizer.push_page(resource.name(), &body)?;
                    items += stats.items;
                    bytes += stats.bytes;
                }
                Ok((normalizer.finish()?, items, bytes))
            })
        };
        let mine = (|| {
            // however this ends, the other thread is told no more pages come
            let _closed = queue.sender_guard();
            let mut normalizer = Normalizer::new(schema.clone(), options, PackageSink(package));
            let (mut items, mut bytes) = (0u64, 0u64);
            while let Some(page) = next() {
                let (resource, body) = page?;
                if remote.contains(&resource) {
                    // a closed channel means the other thread failed: its error is reported below
                    if queue.send((resource, body)).is_err() {
                        break;
                    }
                } else {
                    let stats = normalizer.push_page(resource.name(), &body)?;
                    items += stats.items;
                    bytes += stats.bytes;
                }
                crate::crash::point("extract:page");
            }
            normalizer.push_page(STATE_TABLE, state_row)?;
            Ok::<_, PipelineError>((normalizer.finish()?, items, bytes))
        })();
        let theirs = helper
            .join()
            .map_err(|_| PipelineError::Internal("the second normalize thread panicked".to_owned()))?;
        let ((mine, my_items, my_bytes), (theirs, their_items, their_bytes)) = (mine?, theirs?);
        let merged = normalize::merge_outputs(&schema, vec![mine, theirs], &order)?;
        Ok((merged, my_items + their_items, my_bytes + their_bytes))
    })
}

/// Splits `resources` in two groups of about equal normalize work (heaviest first, each to the lighter
/// group): the first is normalized on the thread reading the pages, the second on a thread of its own.
fn split_resources(resources: &[Resource]) -> (Vec<Resource>, Vec<Resource>) {
    let mut sorted = resources.to_vec();
    // stable: equal weights keep the given order
    sorted.sort_by_key(|r| std::cmp::Reverse(weight(*r)));
    let (mut local, mut remote) = (Vec::new(), Vec::new());
    let (mut local_weight, mut remote_weight) = (0u32, 0u32);
    for resource in sorted {
        if remote_weight <= local_weight {
            remote_weight += weight(resource);
            remote.push(resource);
        } else {
            local_weight += weight(resource);
            local.push(resource);
        }
    }
    (local, remote)
}

/// The normalize work a resource brings, as MB of JSON of the mock at 100,000 users (looks a tenth,
/// dashboards a twentieth; Looker instances have that shape): users are half of it.
fn weight(resource: Resource) -> u32 {
    match resource {
        Resource::Users => 184,
        Resource::Dashboards => 86,
        Resource::Queries => 31,
        Resource::Folders => 27,
        Resource::Looks => 19,
        Resource::ScheduledPlans => 5,
        _ => 1,
    }
}

/// The pipeline state that rides in the package (and lands in `_dlt_pipeline_state`), stored locally
/// first.
fn pipeline_state(dir: &PipelineDir, settings: &Settings) -> Result<PipelineState, PipelineError> {
    let mut state = dir
        .read_state()?
        .unwrap_or_else(|| PipelineState::new(&settings.pipeline_name, &settings.dataset_name));
    state.dataset_name = settings.dataset_name.clone();
    state.default_schema_name = Some(SCHEMA_NAME.to_owned());
    state.schema_names = Some(vec![SCHEMA_NAME.to_owned()]);
    state.destination_name = Some(settings.destination.name().to_owned());
    state.destination_type = Some(format!("dlt.destinations.{}", settings.destination.name()));
    state.bump_version_if_modified();
    dir.write_state(&state)?;
    Ok(state)
}

/// The table dlt keeps the pipeline state in, one row per load that changed it.
pub const STATE_TABLE: &str = "_dlt_pipeline_state";

/// The `_dlt_pipeline_state` row of a load, as a one-item page: the state as base64 of zlib-compressed
/// JSON (level 9), as dlt writes it, so dlt and looker-load both restore it on a new machine.
fn state_row(state: &PipelineState) -> Result<Vec<u8>, PipelineError> {
    use std::io::Write;

    use base64::Engine;

    let json =
        serde_json::to_vec(state).map_err(|e| PipelineError::Internal(format!("pipeline state: {e}")))?;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(&json)
        .map_err(|e| PipelineError::Internal(format!("compress pipeline state: {e}")))?;
    let compressed = encoder
        .finish()
        .map_err(|e| PipelineError::Internal(format!("compress pipeline state: {e}")))?;
    let row = serde_json::json!([{
        "version": state.state_version,
        "engine_version": state.engine_version,
        "pipeline_name": state.pipeline_name,
        "state": base64::engine::general_purpose::STANDARD.encode(compressed),
        "created_at": package::now_rfc3339(),
        "version_hash": state.version_hash,
    }]);
    serde_json::to_vec(&row).map_err(|e| PipelineError::Internal(format!("pipeline state: {e}")))
}

/// Normalizes every pending extract (`looker-load extract` output) into a load package, oldest first.
/// Each extract is removed once its package is committed.
pub fn normalize_extracts(
    dir: &PipelineDir,
    settings: &Settings,
    max_identifier_length: Option<usize>,
) -> Result<Vec<Normalized>, PipelineError> {
    let mut done = Vec::new();
    for extract in dir.pending_extracts()? {
        let resources = extract_resources(&extract)?;
        // Each resource's pages in order, the resources interleaved by progress (page i of n at
        // (i + ½) / n), so both normalize threads have work all along; the schema does not depend on
        // how resources interleave.
        let mut pages = Vec::new();
        for resource in &resources {
            let listed = extract.pages(resource.name())?;
            let n = listed.len() as u64;
            for (i, page) in listed.into_iter().enumerate() {
                pages.push((
                    (2 * i as u64 + 1) * PROGRESS_SCALE / (2 * n),
                    *resource,
                    page.path,
                ));
            }
        }
        pages.sort_by_key(|(at, _, _)| *at);
        let pages: Vec<(Resource, PathBuf)> = pages.into_iter().map(|(_, r, path)| (r, path)).collect();
        let package = dir.new_package_from_extract(&extract)?;
        let mut pages = pages.into_iter();
        let normalized = normalize_into(dir, package, settings, &resources, max_identifier_length, || {
            let (resource, path) = pages.next()?;
            Some(
                std::fs::read(&path)
                    .map(|body| (resource, Bytes::from(body)))
                    .map_err(|source| {
                        PipelineError::Package(package::Error::Io {
                            op: "read",
                            path: path.clone(),
                            source,
                        })
                    }),
            )
        })?;
        done.push(normalized);
    }
    Ok(done)
}

/// The resources an extract holds: those its info names (in that order), else its folders.
fn extract_resources(extract: &package::ExtractedPackage) -> Result<Vec<Resource>, PipelineError> {
    let names: Vec<String> = match extract.info()? {
        Some(info) => info
            .get("resources")
            .and_then(|r| r.as_array())
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
        None => extract.resources()?,
    };
    names
        .iter()
        .map(|name| {
            name.parse::<Resource>().map_err(|e| {
                PipelineError::Package(package::Error::Corrupt {
                    path: extract.path().to_path_buf(),
                    reason: e.to_string(),
                })
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(len: usize) -> (Resource, Bytes) {
        (Resource::Users, Bytes::from(vec![b' '; len]))
    }

    #[test]
    fn the_page_queue_is_bounded_by_bytes_and_ends_when_either_side_stops() {
        let queue = PageQueue::new(10);
        std::thread::scope(|scope| {
            let receiver = scope.spawn(|| {
                let mut lens = Vec::new();
                while let Some((_, body)) = queue.recv() {
                    // never more than the bound queued, unless one larger page alone
                    let state = queue.lock();
                    assert!(state.bytes <= 10 || state.pages.len() == 1, "{}", state.bytes);
                    drop(state);
                    lens.push(body.len());
                }
                lens
            });
            let guard = queue.sender_guard();
            for len in [4, 4, 4, 30, 1] {
                assert!(queue.send(page(len)).is_ok());
            }
            drop(guard);
            assert_eq!(receiver.join().ok(), Some(vec![4, 4, 4, 30, 1]));
        });
        let queue = PageQueue::new(10);
        drop(queue.receiver_guard());
        assert!(queue.send(page(1)).is_err(), "a failed receiver stops the sender");
    }

    #[test]
    fn resources_split_in_two_groups_of_similar_weight() {
        let (local, remote) = split_resources(&Resource::ALL);
        assert_eq!(remote, [Resource::Users]);
        assert_eq!(local.len(), Resource::ALL.len() - 1);
        let (local, remote) = split_resources(&[Resource::Looks]);
        assert!(local.is_empty() && remote == [Resource::Looks]);
    }
}
