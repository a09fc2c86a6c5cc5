//! The normalizer's memory does not grow with the input: the live heap at its peak is the same for 4×
//! the items, whatever accumulates per row, per page, per row group or per file. Measured with a
//! counting allocator (allocation sizes are deterministic for a seeded, uncompressed run), so the
//! assertion is structural, not a timing.
#![allow(unsafe_code)] // the counting allocator

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use normalize::{Compression, DirSink, NormalizeOptions, Normalizer, Schema};
use serde_json::json;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let live = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on as is.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Items shaped like Looker's: a wide root row, a nested object, lists of objects and of scalars.
fn page(first: usize, n: usize) -> Vec<u8> {
    let items: Vec<serde_json::Value> = (first..first + n)
        .map(|i| {
            let mut item = json!({
                "id": i,
                "email": format!("user{i}@example.com"),
                "created_at": "2024-05-01T10:00:00Z",
                "is_disabled": i % 7 == 0,
                "credentials_email": {"email": format!("user{i}@example.com"), "logged_in_at": null},
                "role_ids": [1, 2, i % 5],
                "sessions": (0..i % 4).map(|s| json!({"id": s, "ip": format!("10.0.{s}.{}", i % 250)})).collect::<Vec<_>>(),
            });
            for k in 0..40 {
                item[format!("field_{k}")] = if (i + k) % 3 == 0 { json!(null) } else { json!(format!("v{}", i % 97)) };
            }
            item
        })
        .collect();
    serde_json::to_vec(&items).unwrap()
}

/// Peak live heap while normalizing `items` items in pages of 200, above what was live before (the
/// pages included).
fn peak_while_normalizing(items: usize) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let pages: Vec<Vec<u8>> = (0..items / 200).map(|p| page(p * 200, 200)).collect();
    let options = NormalizeOptions {
        load_id: "1700000000.1".to_owned(),
        row_id_seed: Some(3),
        compression: Compression::None,
        memory_budget: 1 << 20,
        ..NormalizeOptions::default()
    };
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let mut normalizer = Normalizer::new(Schema::new("s"), options, DirSink::new(dir.path()));
    let mut rows = 0;
    for page in &pages {
        rows += normalizer.push_page("users", page).unwrap().rows;
    }
    let out = normalizer.finish().unwrap();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    assert!(rows as usize > items * 5, "nested rows are written too");
    assert!(out.files.iter().all(|f| f.rows > 0));
    drop(out);
    drop(pages);
    peak
}

#[test]
fn peak_memory_does_not_grow_with_the_items() {
    // warm up lazily allocated statics (thread locals, the tracing dispatcher) so both runs see them
    peak_while_normalizing(200);
    // the pages are built before the measurement starts: only the normalizer's memory counts
    // The first items fill the 1 MiB budget and the files' first row groups: memory grows, then stays
    // within a bound (a file's footer metadata grows until the file rotates, a step of a few hundred
    // KiB). Anything kept per row, page or row group would add megabytes here.
    let small = peak_while_normalizing(12_000);
    let large = peak_while_normalizing(48_000);
    assert!(
        large <= small + (1 << 20),
        "peak heap grew with the input: {small} bytes for 12,000 items, {large} bytes for 48,000"
    );
}
