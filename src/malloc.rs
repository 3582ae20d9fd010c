//! glibc's malloc, tuned for a sidecar under a memory limit (RELIABILITY.md, overload).
//!
//! glibc serves an allocation of 128 KiB or more with its own mmap, returned to the kernel when
//! freed, but raises that threshold each time such a block is freed (up to 32 MiB). Requests and
//! responses of hundreds of KiB then land in the per-thread heaps, which keep their pages: under
//! overload the peak RSS of the defaults varied from 48 to 65 MiB. Fixing the threshold keeps
//! large buffers out of the heaps (41–47 MiB in the same test). musl, the container's libc,
//! always maps such blocks: nothing to tune there.

/// Fixes glibc's mmap threshold at its initial 128 KiB; a no-op elsewhere.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const M_MMAP_THRESHOLD: std::ffi::c_int = -3;
        unsafe extern "C" {
            fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
        }
        // SAFETY: mallopt only sets a parameter of the allocator; called before any thread starts.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 128 * 1024);
        }
    }
}
