//! The extraction run: resources fetched concurrently, pages fetched ahead and delivered in order,
//! queries gathered from the objects that reference them.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use url::Url;

use crate::client::{Client, show_url};
use crate::error::ExtractError;
use crate::page::{ParsedPage, QueryRefs, parse_item, parse_page};
use crate::resource::{Paging, Resource};
use crate::settings::LookerSettings;

/// Bytes of pages one resource may fetch ahead of the one being delivered: with the page size
/// it bounds the speculative window, so memory does not grow with large items.
const FETCH_AHEAD_BYTES: usize = 32 << 20;

/// One page of one resource, as it travels to normalize.
#[derive(Debug, Clone)]
pub struct Page {
    /// The resource the items belong to.
    pub resource: Resource,
    /// The index of the page's first item within the resource (0, page_size, 2·page_size, …).
    pub offset: u64,
    /// Number of items in `body`.
    pub items: usize,
    /// A JSON array of items: exactly as Looker served it, or, for `queries`, an array built from
    /// the query objects (embedded ones copied byte for byte, the rest as served by
    /// `GET /queries/{id}`).
    pub body: Bytes,
}

/// What happened to one resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceReport {
    /// Whether the resource's pages were sent (false for looks, dashboards or scheduled plans
    /// fetched only to find query ids).
    pub emitted: bool,
    /// Pages sent.
    pub pages: u64,
    /// Items in those pages.
    pub items: u64,
    /// Bytes of JSON in those pages.
    pub bytes: u64,
    /// HTTP requests made for the resource, retries included.
    pub requests: u64,
    /// Pages fetched ahead past the resource's end and dropped when the short page came (at
    /// most `concurrency − 1`; some may have been cancelled before they were sent). Zero when
    /// the server sends `X-Total-Count`.
    pub speculative: u64,
}

/// What an extraction did, for the run summary and the trace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtractReport {
    /// Every resource fetched, selected or fetched for query ids, with its figures.
    pub resources: BTreeMap<Resource, ResourceReport>,
    /// HTTP requests made, login and logout included.
    pub requests: u64,
    /// Attempts that were retries of an earlier attempt (after 429, 5xx, timeouts, resets).
    pub retries: u64,
    /// 429 and 503 answers seen.
    pub throttled: u64,
    /// Logins, the first one and renewals included.
    pub logins: u64,
    /// Logins caused by a 401 (a token rejected before its announced expiry).
    pub relogins: u64,
    /// Wall time of the extraction.
    pub elapsed: Duration,
    /// Referenced query ids that answered 404 (deleted, or hidden from the API user), sorted.
    pub skipped_queries: Vec<String>,
}

/// Extracts Looker resources and streams their pages.
///
/// Cheap to clone (the client is shared); the token lives across [`Extractor::extract`] calls
/// until the logout that ends each call. Run one extraction at a time per extractor: the logout
/// ending one would revoke the token another is using (that one would then log in again).
#[derive(Debug, Clone)]
pub struct Extractor {
    client: Arc<Client>,
    page_size: u32,
    concurrency: usize,
}

impl Extractor {
    /// Validates and normalises the settings and builds the HTTP client; no request is made.
    ///
    /// Fails with [`ExtractError::Configuration`] naming the key to fix.
    pub fn new(settings: LookerSettings) -> Result<Self, ExtractError> {
        Ok(Extractor {
            client: Arc::new(Client::new(&settings)?),
            page_size: settings.page_size,
            concurrency: settings.concurrency,
        })
    }

    /// Extracts `resources` and sends their pages to `tx`, in order within each resource.
    ///
    /// Resources run concurrently, and every request (logins included) takes a slot of the one
    /// pool of `concurrency` in-flight requests. Every extracted resource yields at least one page;
    /// a page has zero items only when the resource is empty. Selecting [`Resource::Queries`] also
    /// fetches looks, dashboards and scheduled plans for the query ids they reference; their pages
    /// are sent only when they are selected too. Duplicates in `resources` are ignored.
    ///
    /// The token is released (`DELETE /logout`) at the end, success or failure. On error the
    /// pages already sent are valid but the extraction is incomplete.
    pub async fn extract(
        &self,
        resources: &[Resource],
        tx: mpsc::Sender<Page>,
    ) -> Result<ExtractReport, ExtractError> {
        let started = Instant::now();
        let c = &self.client.counters;
        let before = [
            c.requests.load(Ordering::Relaxed),
            c.retries.load(Ordering::Relaxed),
            c.logins.load(Ordering::Relaxed),
            c.relogins.load(Ordering::Relaxed),
            self.client.throttles(),
        ];
        let result = self.run(resources, tx).await;
        self.client.logout().await;
        let (resources, skipped_queries) = result?;
        let report = ExtractReport {
            resources,
            requests: c.requests.load(Ordering::Relaxed) - before[0],
            retries: c.retries.load(Ordering::Relaxed) - before[1],
            logins: c.logins.load(Ordering::Relaxed) - before[2],
            relogins: c.relogins.load(Ordering::Relaxed) - before[3],
            throttled: self.client.throttles() - before[4],
            elapsed: started.elapsed(),
            skipped_queries,
        };
        tracing::info!(
            requests = report.requests,
            retries = report.retries,
            "extract finished in {:.2?}",
            report.elapsed
        );
        Ok(report)
    }

    async fn run(
        &self,
        resources: &[Resource],
        tx: mpsc::Sender<Page>,
    ) -> Result<(BTreeMap<Resource, ResourceReport>, Vec<String>), ExtractError> {
        let selected: BTreeSet<Resource> = resources.iter().copied().collect();
        let want_queries = selected.contains(&Resource::Queries);
        let mut lists: BTreeSet<Resource> = selected
            .iter()
            .copied()
            .filter(|r| *r != Resource::Queries)
            .collect();
        let sources = Resource::Queries.spec().referenced_by;
        if want_queries {
            lists.extend(sources.iter().copied());
        }
        let collector = Arc::new(Mutex::new(Collected::default()));
        let (query_tx, query_rx) = mpsc::channel::<Vec<Vec<u8>>>(2);
        let mut tasks: JoinSet<Result<Outcome, ExtractError>> = JoinSet::new();
        for resource in lists {
            let sink = (want_queries && sources.contains(&resource)).then(|| QuerySink {
                collected: collector.clone(),
                tx: query_tx.clone(),
            });
            let job = ListJob {
                client: self.client.clone(),
                resource,
                emit: selected.contains(&resource),
                tx: tx.clone(),
                sink,
                page_size: self.page_size,
                max_window: self.concurrency,
                requests: Arc::new(AtomicU64::new(0)),
            };
            tasks.spawn(job.run());
        }
        drop(query_tx);
        if want_queries {
            let job = QueriesJob {
                client: self.client.clone(),
                collected: collector,
                rx: query_rx,
                tx,
                page_size: self.page_size,
                // Ids wait in the pool's queue, so a slow or retried head never leaves slots idle;
                // each pending query costs a few KB at most.
                window: self.concurrency.saturating_mul(8).max(16),
                requests: Arc::new(AtomicU64::new(0)),
            };
            tasks.spawn(job.run());
        }
        let mut reports = BTreeMap::new();
        let mut skipped = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match flatten(joined) {
                Ok(outcome) => {
                    reports.insert(outcome.resource, outcome.report);
                    skipped.extend(outcome.skipped);
                }
                Err(e) => {
                    tasks.abort_all();
                    while tasks.join_next().await.is_some() {}
                    return Err(e);
                }
            }
        }
        Ok((reports, skipped))
    }
}

/// What a resource task returns.
struct Outcome {
    resource: Resource,
    report: ResourceReport,
    skipped: Vec<String>,
}

fn flatten<T>(joined: Result<Result<T, ExtractError>, tokio::task::JoinError>) -> Result<T, ExtractError> {
    match joined {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(ExtractError::Cancelled),
    }
}

/// A spawned task that is aborted when dropped (speculative pages past the end).
struct Ahead<T>(JoinHandle<T>);

impl<T> Ahead<T> {
    fn spawn<F>(future: F) -> Self
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        Ahead(tokio::spawn(future))
    }
}

impl<T> Ahead<Result<T, ExtractError>> {
    async fn join(&mut self) -> Result<T, ExtractError> {
        flatten((&mut self.0).await)
    }
}

impl<T> Drop for Ahead<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Query ids seen so far by every source resource.
#[derive(Debug, Default)]
struct Collected {
    embedded: HashSet<String>,
    referenced: HashSet<String>,
}

/// Where a source resource sends what it finds about queries.
struct QuerySink {
    collected: Arc<Mutex<Collected>>,
    tx: mpsc::Sender<Vec<Vec<u8>>>,
}

impl QuerySink {
    /// Records the page's references and forwards the embedded queries not seen before.
    async fn offer(&self, refs: QueryRefs) {
        let fresh: Vec<Vec<u8>> = {
            let mut c = self.collected.lock().unwrap_or_else(PoisonError::into_inner);
            for id in refs.referenced {
                c.referenced.insert(id);
            }
            refs.embedded
                .into_iter()
                .filter_map(|(id, raw)| c.embedded.insert(id).then_some(raw))
                .collect()
        };
        // The queries task only stops early on an error, which the run reports itself.
        if !fresh.is_empty() {
            let _ = self.tx.send(fresh).await;
        }
    }
}

/// A fetched page: its URL, the page, and the `X-Total-Count` hint.
type FetchedPage = (Url, ParsedPage, Option<u64>);

/// A query fetched by id: its URL and body, or no body when it answered 404.
type FetchedQuery = (Url, Option<Bytes>);

/// Extraction of one list resource.
struct ListJob {
    client: Arc<Client>,
    resource: Resource,
    emit: bool,
    tx: mpsc::Sender<Page>,
    sink: Option<QuerySink>,
    page_size: u32,
    max_window: usize,
    requests: Arc<AtomicU64>,
}

impl ListJob {
    async fn run(self) -> Result<Outcome, ExtractError> {
        let spec = self.resource.spec();
        let mut report = ResourceReport {
            emitted: self.emit,
            ..ResourceReport::default()
        };
        match spec.paging {
            Paging::LimitOffset { sorts } => self.run_paged(sorts, &mut report).await?,
            Paging::None | Paging::ById => {
                let url = self.client.url(spec.endpoint, None, spec.query_params);
                let (_, page, _) = self.fetch(0, url).join().await?;
                self.deliver(0, page, &mut report).await?;
            }
        }
        report.requests = self.requests.load(Ordering::Relaxed);
        tracing::info!(
            resource = self.resource.name(),
            items = report.items,
            pages = report.pages,
            requests = report.requests,
            "extracted {}{}",
            self.resource,
            if self.emit { "" } else { " (for query ids only)" }
        );
        Ok(Outcome {
            resource: self.resource,
            report,
            skipped: Vec::new(),
        })
    }

    /// Spawns the fetch and parse of one page.
    fn fetch(&self, offset: u64, url: Url) -> Ahead<Result<FetchedPage, ExtractError>> {
        let client = self.client.clone();
        let requests = self.requests.clone();
        let resource = self.resource;
        let collect_refs = self.sink.is_some();
        Ahead::spawn(async move {
            let fetched = client.get(&url, &requests).await?;
            match parse_page(fetched.body, collect_refs) {
                Ok(page) => Ok((url, page, fetched.total_count)),
                Err(detail) => Err(ExtractError::Malformed {
                    resource,
                    offset,
                    url: show_url(&url),
                    detail,
                }),
            }
        })
    }

    async fn run_paged(
        &self,
        sorts: Option<&'static str>,
        report: &mut ResourceReport,
    ) -> Result<(), ExtractError> {
        let spec = self.resource.spec();
        let limit = u64::from(self.page_size);
        let limit_text = limit.to_string();
        let url_at = |offset: u64| {
            let offset_text = offset.to_string();
            let mut params: Vec<(&str, &str)> = vec![("limit", &limit_text), ("offset", &offset_text)];
            if let Some(sorts) = sorts {
                params.push(("sorts", sorts));
            }
            params.extend_from_slice(spec.query_params);
            self.client.url(spec.endpoint, None, &params)
        };
        let mut pending: VecDeque<(u64, Ahead<Result<FetchedPage, ExtractError>>)> = VecDeque::new();
        let mut next_offset = 0u64;
        let mut window = 1usize;
        let mut previous_key: Option<Vec<u8>> = None;
        // `X-Total-Count` when sent: pages at or past it are not fetched ahead (only the page
        // after a full one is always fetched, since the short page is what ends the resource).
        let mut total_hint: Option<u64> = None;
        loop {
            while pending.is_empty()
                || (pending.len() < window && total_hint.is_none_or(|total| next_offset < total))
            {
                let ahead = self.fetch(next_offset, url_at(next_offset));
                pending.push_back((next_offset, ahead));
                next_offset += limit;
            }
            let Some((offset, mut ahead)) = pending.pop_front() else {
                break;
            };
            let (url, mut page, total) = ahead.join().await?;
            total_hint = total;
            if offset > 0 && page.first_key.is_some() && page.first_key == previous_key {
                return Err(ExtractError::RepeatedPage {
                    resource: self.resource,
                    offset,
                    url: show_url(&url),
                });
            }
            previous_key = page.first_key.take();
            let (items, bytes) = (page.items as u64, page.body.len());
            if items == 0 && offset > 0 {
                break;
            }
            self.deliver(offset, page, report).await?;
            if items < limit {
                break;
            }
            if items > limit {
                tracing::warn!(
                    resource = self.resource.name(),
                    "{} answered {items} items to limit={limit}: taking it as the complete rest",
                    show_url(&url)
                );
                break;
            }
            // Full page: fetch further ahead, within the byte budget.
            let by_bytes = (FETCH_AHEAD_BYTES / bytes.max(1)).max(1);
            window = (window * 2).min(self.max_window).min(by_bytes).max(1);
        }
        report.speculative = pending.len() as u64;
        Ok(())
    }

    /// Hands a page on: query references to the queries task, the page to the channel.
    async fn deliver(
        &self,
        offset: u64,
        page: ParsedPage,
        report: &mut ResourceReport,
    ) -> Result<(), ExtractError> {
        if let (Some(sink), Some(refs)) = (&self.sink, page.refs) {
            sink.offer(refs).await;
        }
        if !self.emit {
            return Ok(());
        }
        report.pages += 1;
        report.items += page.items as u64;
        report.bytes += page.body.len() as u64;
        self.tx
            .send(Page {
                resource: self.resource,
                offset,
                items: page.items,
                body: page.body,
            })
            .await
            .map_err(|_| ExtractError::ChannelClosed {
                resource: self.resource,
            })
    }
}

/// Builds `queries` pages from query objects.
struct QueriesJob {
    client: Arc<Client>,
    collected: Arc<Mutex<Collected>>,
    rx: mpsc::Receiver<Vec<Vec<u8>>>,
    tx: mpsc::Sender<Page>,
    page_size: u32,
    window: usize,
    requests: Arc<AtomicU64>,
}

/// Accumulates items into JSON-array pages.
struct PageBuilder {
    resource: Resource,
    page_size: usize,
    buf: Vec<u8>,
    items: usize,
    offset: u64,
    report: ResourceReport,
}

impl PageBuilder {
    fn new(resource: Resource, page_size: u32) -> Self {
        PageBuilder {
            resource,
            page_size: page_size as usize,
            buf: Vec::new(),
            items: 0,
            offset: 0,
            report: ResourceReport {
                emitted: true,
                ..ResourceReport::default()
            },
        }
    }

    /// The offset the next item will have.
    fn next_offset(&self) -> u64 {
        self.offset + self.items as u64
    }

    async fn push(&mut self, item: &[u8], tx: &mpsc::Sender<Page>) -> Result<(), ExtractError> {
        self.buf.push(if self.items == 0 { b'[' } else { b',' });
        self.buf.extend_from_slice(item);
        self.items += 1;
        if self.items >= self.page_size {
            self.flush(tx).await?;
        }
        Ok(())
    }

    /// Sends the page being built; sends an empty page when nothing was ever sent.
    async fn flush(&mut self, tx: &mpsc::Sender<Page>) -> Result<(), ExtractError> {
        if self.items == 0 {
            if self.report.pages > 0 {
                return Ok(());
            }
            self.buf.push(b'[');
        }
        self.buf.push(b']');
        let body = Bytes::from(std::mem::take(&mut self.buf));
        let page = Page {
            resource: self.resource,
            offset: self.offset,
            items: self.items,
            body,
        };
        self.report.pages += 1;
        self.report.items += self.items as u64;
        self.report.bytes += page.body.len() as u64;
        self.offset += self.items as u64;
        self.items = 0;
        tx.send(page).await.map_err(|_| ExtractError::ChannelClosed {
            resource: self.resource,
        })
    }
}

impl QueriesJob {
    async fn run(mut self) -> Result<Outcome, ExtractError> {
        let resource = Resource::Queries;
        let mut pages = PageBuilder::new(resource, self.page_size);
        // Embedded queries, as the source resources find them.
        let mut embedded = 0u64;
        while let Some(batch) = self.rx.recv().await {
            for raw in batch {
                embedded += 1;
                pages.push(&raw, &self.tx).await?;
            }
        }
        // Every source is done: fetch the ids referenced but never embedded.
        let mut missing: Vec<String> = {
            let c = self.collected.lock().unwrap_or_else(PoisonError::into_inner);
            c.referenced.difference(&c.embedded).cloned().collect()
        };
        missing.sort_by(|a, b| id_order(a).cmp(&id_order(b)));
        tracing::debug!(
            embedded,
            to_fetch = missing.len(),
            "queries: embedded ones taken as found, fetching the rest by id"
        );
        let endpoint = resource.spec().endpoint;
        let mut skipped = Vec::new();
        let mut ids = missing.into_iter();
        let mut pending: VecDeque<(String, Ahead<Result<FetchedQuery, ExtractError>>)> = VecDeque::new();
        loop {
            while pending.len() < self.window {
                let Some(id) = ids.next() else { break };
                let url = self.client.url(endpoint, Some(&id), &[]);
                let client = self.client.clone();
                let requests = self.requests.clone();
                pending.push_back((
                    id,
                    Ahead::spawn(async move {
                        match client.get(&url, &requests).await {
                            Ok(fetched) => Ok((url, Some(fetched.body))),
                            Err(ExtractError::Status { status: 404, .. }) => Ok((url, None)),
                            Err(e) => Err(e),
                        }
                    }),
                ));
            }
            let Some((id, mut ahead)) = pending.pop_front() else {
                break;
            };
            match ahead.join().await? {
                (url, Some(body)) => {
                    let item = parse_item(&body).map_err(|detail| ExtractError::Malformed {
                        resource,
                        offset: pages.next_offset(),
                        url: show_url(&url),
                        detail,
                    })?;
                    pages.push(item.as_bytes(), &self.tx).await?;
                }
                (_, None) => skipped.push(id),
            }
        }
        pages.flush(&self.tx).await?;
        if !skipped.is_empty() {
            tracing::warn!(
                "skipped {} referenced queries that answered 404 (deleted, or not visible to the API user)",
                skipped.len()
            );
        }
        skipped.sort_by(|a, b| id_order(a).cmp(&id_order(b)));
        let mut report = pages.report;
        report.requests = self.requests.load(Ordering::Relaxed);
        tracing::info!(
            resource = resource.name(),
            items = report.items,
            pages = report.pages,
            requests = report.requests,
            "extracted queries"
        );
        Ok(Outcome {
            resource,
            report,
            skipped,
        })
    }
}

/// Sorts numeric ids numerically, before any other id.
fn id_order(id: &str) -> (bool, usize, &str) {
    let numeric = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
    (!numeric, if numeric { id.len() } else { 0 }, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_numerically_first() {
        let mut ids = vec!["10", "9", "abc", "100", "1", "a"];
        ids.sort_by(|a, b| id_order(a).cmp(&id_order(b)));
        assert_eq!(ids, ["1", "9", "10", "100", "a", "abc"]);
    }

    #[tokio::test]
    async fn page_builder_makes_arrays_and_one_empty_page_at_most() {
        let (tx, mut rx) = mpsc::channel(10);
        let mut b = PageBuilder::new(Resource::Queries, 2);
        b.push(b"{\"id\":\"1\"}", &tx).await.expect("push");
        b.push(b"{\"id\":\"2\"}", &tx).await.expect("push");
        b.push(b"{\"id\":\"3\"}", &tx).await.expect("push");
        b.flush(&tx).await.expect("flush");
        b.flush(&tx).await.expect("flush again");
        drop(tx);
        let mut got = Vec::new();
        while let Some(p) = rx.recv().await {
            got.push((p.offset, p.items, String::from_utf8_lossy(&p.body).into_owned()));
        }
        assert_eq!(
            got,
            [
                (0, 2, r#"[{"id":"1"},{"id":"2"}]"#.to_owned()),
                (2, 1, r#"[{"id":"3"}]"#.to_owned())
            ]
        );
        let (tx, mut rx) = mpsc::channel(10);
        let mut empty = PageBuilder::new(Resource::Queries, 2);
        empty.flush(&tx).await.expect("flush");
        let p = rx.recv().await.expect("one empty page");
        assert_eq!((p.items, &p.body[..]), (0, &b"[]"[..]));
    }
}
