//! Extract, the first stage of looker-load (extract → normalize → load): the Looker API 4.0
//! client, the resource catalogue, paging, retries, and the stream of pages handed to normalize.
//!
//! ```text
//! Looker API ──pages──▶ [extract] ──Page{resource, offset, items, body}──▶ normalize ──▶ load
//! ```
//!
//! * [`Resource`] and [`ResourceSpec`]: what can be extracted, from which endpoint, paged how, keyed
//!   by what ([`Resource::ALL`], [`Resource::DEFAULT`]).
//! * [`LookerSettings`] and [`Credentials`]: instance URL (normalised to `/api/4.0/`), API3 key pair
//!   or pre-issued token, page size, retry and concurrency limits. Secrets stay in
//!   [`secrecy::SecretString`] and never reach `Debug`, logs or errors.
//! * [`Extractor::extract`]: fetches resources concurrently through one pool of in-flight requests,
//!   pages ahead (limit/offset with `sorts=id`), retries 429/5xx/timeouts/resets with jittered
//!   exponential backoff and `Retry-After`, slows the whole pool on 429/503, renews the token before
//!   it expires and once on 401, and sends the pages of each resource in order through a bounded
//!   channel, so memory does not depend on the instance's size.
//! * `queries` has no list endpoint: its items are the queries referenced by looks, dashboard
//!   elements and scheduled plans; embedded ones are reused, the rest fetched by id, each once.
//! * [`ExtractError`]: failures by what the caller does next (fix configuration, fix credentials,
//!   rerun later, report a server bug).
//!
//! ```no_run
//! use looker::{Credentials, Extractor, LookerSettings, Resource, SecretString};
//!
//! # async fn demo() -> Result<(), looker::ExtractError> {
//! let settings = LookerSettings::new(
//!     "https://acme.cloud.looker.com",
//!     Credentials::ClientCredentials {
//!         client_id: "abc".into(),
//!         client_secret: SecretString::from("…".to_owned()),
//!     },
//! )?;
//! let extractor = Extractor::new(settings)?;
//! let (tx, mut rx) = tokio::sync::mpsc::channel::<looker::Page>(8);
//! let consumer = tokio::spawn(async move {
//!     while let Some(page) = rx.recv().await {
//!         println!("{} @{}: {} items", page.resource, page.offset, page.items);
//!     }
//! });
//! let report = extractor.extract(&Resource::DEFAULT, tx).await?;
//! let _ = consumer.await;
//! println!("{} requests, {} retries", report.requests, report.retries);
//! # Ok(())
//! # }
//! ```

mod client;
mod error;
mod extract;
mod limiter;
mod page;
mod resource;
mod retry;
mod settings;

pub use error::ExtractError;
pub use extract::{ExtractReport, Extractor, Page, ResourceReport};
pub use resource::{Paging, Resource, ResourceSpec, UnknownResource};
pub use settings::{CONFIG_SECTION, Credentials, LookerSettings, normalize_base_url};

/// Re-exported so callers can build [`Credentials`] without naming the crate.
pub use secrecy::SecretString;
