//! Handing memory the server has freed back to the operating system.
//!
//! Owns: when the heap's free pages are returned. mimalloc (version 3, as built by
//! `libmimalloc-sys`) gives pages that became free back to its shared arenas and purges
//! them from there a second later, but only when some thread next works in the
//! allocator; after a burst of writes (a bulk load) the memory the burst freed (undo
//! deltas, parsed statements, result rows) would stay resident for as long as the
//! server is idle. The garbage collector's thread calls [`Release::after_pass`] after
//! each pass; it purges the arenas once the collector has caught up with the writes, and
//! at least every [`RELEASE_EVERY`] otherwise, so a read-only workload's churn goes back
//! too. Pages still partly in use stay: in the bulk-load benchmark the release takes
//! resident memory from about 300 to about 250 MiB, not to what the graph alone needs.
//! Nothing here changes what is allocated; it only shortens how long free pages are held.
//!
//! Also whether the heap is backed by transparent huge pages
//! ([`disable_transparent_huge_pages`]): mimalloc asks for them on its arenas, and then
//! every page it purged and uses again comes back as a whole 2 MiB page, cleared by the
//! kernel. In the bulk-load benchmark (`weft bench`, 1.1M rows in UNWIND batches) that
//! clearing took about 5% of the server's time; over 9 alternating runs each, the load
//! took 10.5 s on average without huge pages against 12.0 s with them, the settled
//! resident set was about 20 MiB smaller, and read latencies were unchanged within the
//! run-to-run spread.

use std::time::{Duration, Instant};

use weft_storage::GcStats;

/// The longest the server holds free pages while queries keep running.
pub const RELEASE_EVERY: Duration = Duration::from_secs(10);

/// The shortest time between two releases for writes going quiet: the collector comes
/// back every 100 ms while writes keep it busy, so bursty writes go quiet many times a
/// second, and a release walks the whole heap.
pub const RELEASE_GAP: Duration = Duration::from_secs(1);

/// The collector's view of write activity, deciding when to return free pages.
pub(crate) struct Release {
    /// Whether the last pass collected any commit (the deltas of writes it freed).
    writes_last_pass: bool,
    /// Writes went quiet and no release has followed yet.
    owed: bool,
    last: Instant,
    /// How many times it has released (for tests and logs).
    releases: u64,
}

impl Release {
    pub(crate) fn new() -> Release {
        Release {
            writes_last_pass: false,
            owed: false,
            last: Instant::now(),
            releases: 0,
        }
    }

    /// Called after every collector pass with what it freed: releases once a pass
    /// collects no commit after one that did (the collector has caught up with the
    /// writes; a long-running reader, which holds collection back, delays this until it
    /// ends), at most once per [`RELEASE_GAP`] (a quiet pass inside the gap leaves the
    /// release to the next quiet pass after it), or when [`RELEASE_EVERY`] has gone by.
    pub(crate) fn after_pass(&mut self, stats: &GcStats) {
        self.owed |= self.writes_last_pass && stats.commits == 0;
        self.writes_last_pass = stats.commits > 0;
        let gap_passed = self.releases == 0 || self.last.elapsed() >= RELEASE_GAP;
        let quiet_release = self.owed && stats.commits == 0 && gap_passed;
        if quiet_release || self.last.elapsed() >= RELEASE_EVERY {
            release_free_memory();
            self.last = Instant::now();
            self.releases += 1;
            self.owed = false;
        }
    }
}

/// Returns to the OS the pages mimalloc holds free, whichever thread freed them
/// (`tests/memory_release.rs` checks both cases).
pub fn release_free_memory() {
    // SAFETY: `mi_collect` takes no pointers and may be called from any thread at any
    // time; it frees nothing that is in use, only purges pages mimalloc holds free.
    // Exercised by tests/memory_release.rs, which runs it under mimalloc.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// Stops the kernel from backing any further page fault of this process with a
/// transparent huge page (`PR_SET_THP_DISABLE`), whatever mimalloc asked for with
/// `madvise`. Returns whether the kernel took the request (kernels before 3.15 refuse it,
/// and huge pages then stay as they were); elsewhere than on Linux, `false`.
#[cfg(target_os = "linux")]
pub fn disable_transparent_huge_pages() -> bool {
    let (on, unused): (libc::c_ulong, libc::c_ulong) = (1, 0);
    // SAFETY: PR_SET_THP_DISABLE takes integers only (passed at the width the kernel
    // reads them) and changes a flag of this process; it touches no memory of ours.
    // Exercised by `tests::huge_pages_can_be_turned_off`.
    unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, on, unused, unused, unused) == 0 }
}

#[cfg(not(target_os = "linux"))]
pub fn disable_transparent_huge_pages() -> bool {
    false
}

/// True when the kernel backs no page fault of this process with a transparent huge
/// page (after [`disable_transparent_huge_pages`]); elsewhere than on Linux, `false`.
#[cfg(target_os = "linux")]
pub fn transparent_huge_pages_disabled() -> bool {
    let unused: libc::c_ulong = 0;
    // SAFETY: PR_GET_THP_DISABLE takes integers only and reads a flag of this process.
    // Exercised by `tests::huge_pages_can_be_turned_off`.
    unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, unused, unused, unused, unused) == 1 }
}

#[cfg(not(target_os = "linux"))]
pub fn transparent_huge_pages_disabled() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn huge_pages_can_be_turned_off() {
        assert!(
            disable_transparent_huge_pages(),
            "the kernel refused PR_SET_THP_DISABLE"
        );
        assert!(transparent_huge_pages_disabled());
        // Memory faulted in afterwards works as before.
        let block = vec![7u8; 8 << 20];
        assert_eq!(block.iter().map(|&b| u64::from(b)).sum::<u64>(), 7 * (8 << 20));
    }

    fn pass(commits: usize) -> GcStats {
        GcStats {
            commits,
            ..GcStats::default()
        }
    }

    #[test]
    fn releases_when_writes_go_quiet_and_not_while_they_run() {
        let mut release = Release::new();
        release.after_pass(&pass(3));
        release.after_pass(&pass(5));
        assert_eq!(release.releases, 0, "no release while commits keep coming");
        release.after_pass(&pass(0));
        assert_eq!(release.releases, 1, "the first quiet pass after writes releases");
        release.after_pass(&pass(0));
        assert_eq!(release.releases, 1, "a second quiet pass has nothing new to return");
    }

    #[test]
    fn quiet_spells_closer_than_the_gap_wait_for_it() {
        let mut release = Release::new();
        release.after_pass(&pass(2));
        release.after_pass(&pass(0));
        assert_eq!(release.releases, 1);
        release.after_pass(&pass(4));
        release.after_pass(&pass(0));
        assert_eq!(release.releases, 1, "quiet again within the gap: owed, not done");
        release.last = Instant::now() - RELEASE_GAP;
        release.after_pass(&pass(3));
        assert_eq!(release.releases, 1, "not while commits are being collected");
        release.after_pass(&pass(0));
        assert_eq!(
            release.releases, 2,
            "the owed release, on the first quiet pass after the gap"
        );
        release.after_pass(&pass(0));
        assert_eq!(release.releases, 2);
    }

    #[test]
    fn releases_on_a_schedule_when_writes_never_stop() {
        let mut release = Release::new();
        release.last = Instant::now() - RELEASE_EVERY;
        release.after_pass(&pass(1));
        assert_eq!(release.releases, 1);
        release.after_pass(&pass(1));
        assert_eq!(release.releases, 1, "the schedule restarts from the last release");
    }
}
