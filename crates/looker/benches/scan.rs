//! Cost of the extractor's own look at each page (validation, item count, first key, query
//! references): pages of 500 items rendered from the mock's data, scanned repeatedly.
//!
//! `cargo bench -p looker --bench scan`. The page is handed on to normalize unchanged, so
//! everything measured here is on top of normalize's own parse.

#[path = "../src/page.rs"]
#[allow(dead_code, unused_imports)]
mod page;

use std::hint::black_box;
use std::time::Instant;

use bytes::Bytes;
use looker_mock::{Dataset, MockConfig};

fn main() {
    let data = Dataset::new(&MockConfig::with_size(10_000, 1_000, 500));
    println!("resource      page MB   refs    MB/s   ms/page");
    let mut total = (0usize, 0f64);
    for (resource, refs) in [("users", false), ("looks", true), ("dashboards", true)] {
        let items: Vec<_> = (0..500).filter_map(|i| data.item(resource, i)).collect();
        let body = Bytes::from(serde_json::to_vec(&items).expect("items serialise"));
        let iters = (400 << 20) / body.len() + 3;
        let mut best = f64::MAX;
        for _ in 0..3 {
            let start = Instant::now();
            for _ in 0..iters {
                let page = page::parse_page(black_box(body.clone()), refs).expect("valid page");
                black_box((page.items, page.first_key, page.refs.map(|r| r.referenced.len())));
            }
            best = best.min(start.elapsed().as_secs_f64() / iters as f64);
        }
        total = (total.0 + body.len(), total.1 + best);
        println!(
            "{resource:<12} {:>8.2} {refs:>6} {:>7.0} {:>9.3}",
            body.len() as f64 / 1e6,
            body.len() as f64 / 1e6 / best,
            best * 1e3
        );
    }
    println!(
        "all          {:>8.2}        {:>7.0}",
        total.0 as f64 / 1e6,
        total.0 as f64 / 1e6 / total.1
    );
}
