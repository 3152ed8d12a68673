//! Process-wide settings the binaries (vigil, and the benchmarks that measure it) make first.

/// Turns transparent huge pages off for this process (Linux; elsewhere nothing). With THP, a
/// touched 4 KiB page of an allocator arena can fault in, and zero, 2 MiB: the 1M-event index
/// build peaked ~20-30 MiB higher with it, and the kernel's page zeroing was a visible share of
/// its CPU. Allocation-heavy loads of small records gain nothing from huge pages here. A kernel
/// without the setting leaves things as they were.
pub fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    let _ = nix::sys::prctl::set_thp_disable(true);
}
