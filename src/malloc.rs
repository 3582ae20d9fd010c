//! The binary's allocator, mimalloc, tuned for a sidecar under a memory limit (BENCHMARKS.md §4,
//! RELIABILITY.md, overload).
//!
//! mimalloc keeps the pages a thread freed for a while (`purge_delay`, 1 s by default) before it
//! gives them back to the kernel. Under overload, freed request and response buffers then pile up
//! and the peak RSS of the defaults reached 72 MiB against a 64 MiB container limit; purging at
//! once keeps it at 46-53 MiB, with no change in throughput measured under load.

/// mimalloc.h's `mi_option_purge_delay`: 15 in mimalloc 2 and 3 (its option numbers are ABI: the
/// enum keeps deprecated options in place). libmimalloc-sys does not name it.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Purges freed pages at once, unless the operator set `MIMALLOC_PURGE_DELAY` themselves.
pub fn tune() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one option of the allocator; options are read per use, not cached.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purge_delay_is_the_option_mimalloc_reads_from_the_environment() {
        // mimalloc read MIMALLOC_PURGE_DELAY at start-up (cargo test leaves it unset unless the
        // caller set it): the default of the option named 15 must be mimalloc's 1000 ms.
        let expected = std::env::var("MIMALLOC_PURGE_DELAY").map_or(1000, |value| value.parse().unwrap());
        assert_eq!(unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) }, expected);
    }
}
