//! Handing freed heap back to the operating system between steps.
//!
//! glibc keeps the memory a step frees in its arenas for reuse. After the streaming extract + normalize
//! step that is the normalizer's buffers and the pages in flight; the load step then grows DuckDB's own
//! memory on top of what glibc kept. Trimming between the steps lowered the peak of `run` at 10,000
//! users from 197 to 171 MiB (`just bench`); at 100,000 users DuckDB's own memory sets the peak.

/// Returns the free pages of the allocator's arenas to the kernel (glibc's `malloc_trim`). Live
/// allocations are untouched; on other C libraries it does nothing.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_free_heap() {
    // SAFETY: malloc_trim walks glibc's arenas under their locks and unmaps or advises away pages that
    // hold no allocation; it reads no Rust data, frees nothing in use and may be called from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Returns the free pages of the allocator's arenas to the kernel; a no-op on this platform.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_heap() {}
