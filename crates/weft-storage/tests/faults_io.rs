//! Durability under injected I/O faults, driven as a user of the crate drives it: open
//! [`Durability`] on a [`FaultyFs`], commit through its storage, break the disk, restart.
//!
//! One invariant throughout: after a restart the database holds exactly a prefix of the
//! commits that were issued, containing every one that was acknowledged as durable, each
//! whole (a commit writes two properties; a half-applied one would miss one).

mod commits;

use commits::{commit, commits};
use std::path::Path;
use std::sync::Arc;
use weft_storage::durability::io::faulty::{FaultyFs, SyncFault, Tail};
use weft_storage::durability::{Durability, DurabilityConfig, SyncPolicy};
use weft_storage::StorageError;

const ROOT: &str = "/db";

fn config(sync: SyncPolicy) -> DurabilityConfig {
    DurabilityConfig {
        wal_segment_size: 1 << 10,
        wal_sync: sync,
        ..DurabilityConfig::new(ROOT)
    }
}

fn open(fs: &FaultyFs, sync: SyncPolicy) -> Arc<Durability> {
    Durability::open_with(config(sync), Arc::new(fs.clone())).expect("recovery")
}

/// Checks the invariant: `found` is `0..k` for some `acked <= k <= issued`.
fn assert_prefix(found: &[i64], acked: i64, issued: i64, context: &str) {
    let k = found.len() as i64;
    assert_eq!(found, (0..k).collect::<Vec<_>>(), "not a prefix ({context})");
    assert!(k >= acked, "lost acknowledged commits: {k} < {acked} ({context})");
    assert!(k <= issued, "more commits than issued ({context})");
}

#[test]
fn a_failed_fsync_fails_its_commit_and_refuses_every_later_one() {
    // Each of the next few fsyncs in turn fails: record data, and (past the 1 KiB
    // segment size) a new segment's header and its directory.
    for nth in 1..=6u64 {
        // Set up: acknowledged commits on a healthy disk.
        let fs = FaultyFs::new();
        let durability = open(&fs, SyncPolicy::Always);
        for n in 0..10 {
            commit(&durability.storage(), n).unwrap();
        }

        // Act: from now, the nth fsync fails; commit until one fails.
        fs.fail_syncs(SyncFault::Nth(nth));
        let mut acked = 10;
        let error = loop {
            assert!(acked < 40, "no commit failed (fsync {nth})");
            match commit(&durability.storage(), acked) {
                Ok(_) => acked += 1,
                Err(e) => break e,
            }
        };

        // Check: the failure says fsync; later commits are refused (no retry), even
        // once the disk is healthy again.
        assert!(matches!(&error, StorageError::Commit(c) if c.is_fatal()), "{error}");
        assert!(error.to_string().contains("fsync"), "{error}");
        fs.fail_syncs(SyncFault::Never);
        let later = commit(&durability.storage(), acked + 1).unwrap_err();
        assert!(later.to_string().contains("restart"), "{later}");
        assert!(matches!(&later, StorageError::Commit(c) if c.is_fatal()));

        // Check: a restart (with and without losing the page cache) has every
        // acknowledged commit.
        drop(durability);
        let crashed = fs.fork();
        crashed.crash_losing_unsynced();
        for disk in [&fs, &crashed] {
            let reopened = open(disk, SyncPolicy::Always);
            assert_prefix(&commits(&reopened.storage()), acked, acked + 1, &format!("fsync {nth}"));
        }
    }
}

#[test]
fn a_full_disk_fails_the_commit_by_name_and_loses_nothing_acknowledged() {
    // The disk fills at every few bytes past what the first commits use.
    for room in (0..1200u64).step_by(37) {
        // Set up: a few commits, then a disk with `room` bytes left.
        let fs = FaultyFs::new();
        let durability = open(&fs, SyncPolicy::Always);
        for n in 0..5 {
            commit(&durability.storage(), n).unwrap();
        }
        fs.set_capacity(Some(fs.used() + room));

        // Act: commit until the disk is full.
        let mut acked = 5;
        let error = loop {
            assert!(acked < 100, "the disk never filled (room {room})");
            match commit(&durability.storage(), acked) {
                Ok(_) => acked += 1,
                Err(e) => break e,
            }
        };

        // Check: the error names the full disk; writes stay refused.
        let message = error.to_string();
        assert!(
            message.contains("disk is full") && message.contains("no space"),
            "{message}"
        );
        assert!(commit(&durability.storage(), 1000).is_err());

        // Check: with space freed, a restart recovers every acknowledged commit (the
        // half-written record is a torn tail) and new commits work and survive.
        drop(durability);
        fs.set_capacity(None);
        let reopened = open(&fs, SyncPolicy::Always);
        assert_eq!(
            commits(&reopened.storage()),
            (0..acked).collect::<Vec<_>>(),
            "room {room}"
        );
        commit(&reopened.storage(), acked).unwrap();
        drop(reopened);
        let again = open(&fs, SyncPolicy::Always);
        assert_eq!(commits(&again.storage()), (0..=acked).collect::<Vec<_>>());
    }
}

#[test]
fn a_full_disk_during_a_snapshot_leaves_no_file_and_recovery_works() {
    // Set up: some commits, and a disk with a little room left.
    let fs = FaultyFs::new();
    let durability = open(&fs, SyncPolicy::Always);
    for n in 0..20 {
        commit(&durability.storage(), n).unwrap();
    }
    fs.set_capacity(Some(fs.used() + 100));

    // Act: the snapshot does not fit.
    let error = durability.create_snapshot().unwrap_err();

    // Check: named, no snapshot listed, restart after freeing space has everything.
    assert!(error.to_string().contains("disk is full"), "{error}");
    assert!(durability.snapshots().unwrap().is_empty());
    drop(durability);
    fs.set_capacity(None);
    let reopened = open(&fs, SyncPolicy::Always);
    assert_eq!(commits(&reopened.storage()), (0..20).collect::<Vec<_>>());
    reopened.create_snapshot().unwrap();
}

/// The only file with unsynced bytes, and how many it has.
fn unsynced_file(fs: &FaultyFs) -> (std::path::PathBuf, usize) {
    let mut unsynced = fs.unsynced();
    assert_eq!(unsynced.len(), 1, "{unsynced:?}");
    unsynced.pop().unwrap()
}

/// Crashes a copy of `fs` once per cut of the unsynced tail of `file` (each byte, both
/// as a plain cut and as a cut followed by zeros) and checks the invariant on each, and
/// that every prefix between the acknowledged and the issued commits came up at some cut.
fn crash_at_every_cut(fs: &FaultyFs, file: &Path, tail: usize, acked: i64, issued: i64) {
    let mut seen = std::collections::BTreeSet::new();
    for cut in 0..=tail {
        for tail_of in [Tail::Keep(cut), Tail::KeepThenZeros(cut)] {
            let crashed = fs.fork();
            crashed.crash(|path, _| if path == file { tail_of } else { Tail::Lose });
            let reopened = open(&crashed, SyncPolicy::Always);
            assert_prefix(&commits(&reopened.storage()), acked, issued, &format!("{tail_of:?}"));
            // A recovered database takes new commits.
            let next = commits(&reopened.storage()).len() as i64;
            seen.insert(next);
            commit(&reopened.storage(), next).unwrap();
        }
    }
    assert_eq!(seen, (acked..=issued).collect(), "cuts of a {tail}-byte tail");
}

#[test]
fn torn_and_zero_filled_tails_recover_to_a_prefix_at_every_cut() {
    // Set up: under `interval`, commits are written at once but durable only once
    // synced: 12 synced commits, then 10 more written and not synced (an unsynced tail
    // of ten frames; no rotation syncs them, the segment is large). Acknowledged as
    // durable: the 12.
    let fs = FaultyFs::new();
    let config = DurabilityConfig {
        wal_segment_size: 1 << 20,
        ..config(SyncPolicy::Interval(std::time::Duration::from_secs(3600)))
    };
    let durability = Durability::open_with(config, Arc::new(fs.clone())).unwrap();
    for n in 0..12 {
        commit(&durability.storage(), n).unwrap();
    }
    durability.sync().unwrap();
    for n in 12..22 {
        commit(&durability.storage(), n).unwrap();
    }
    let (file, tail) = unsynced_file(&fs);

    // Act and check: a crash at every byte of the tail, inside frames and at their
    // boundaries.
    crash_at_every_cut(&fs, &file, tail, 12, 22);
}

#[test]
fn a_failed_fsync_leaves_a_tail_that_recovers_to_a_prefix_at_every_cut() {
    // Set up: acknowledged commits, then one whose fsync fails (written, unsynced).
    let fs = FaultyFs::new();
    let durability = open(&fs, SyncPolicy::Always);
    for n in 0..8 {
        commit(&durability.storage(), n).unwrap();
    }
    fs.fail_syncs(SyncFault::FromNth(1));
    commit(&durability.storage(), 8).unwrap_err();
    let (file, tail) = unsynced_file(&fs);
    fs.fail_syncs(SyncFault::Never);

    // Act and check: the failed commit is there whole or not at all.
    crash_at_every_cut(&fs, &file, tail, 8, 9);
}

/// Regression (found by `faults_model`): a record whose fsync failed stays in the page
/// cache; a restart without a crash recovers and serves it, and writes go on in a new
/// segment. Unless the writer fsyncs the old newest segment at open, a later crash tears
/// that record in a segment that is no longer the newest: recovery then fails on
/// "corruption" and a served commit is lost.
#[test]
fn regression_a_record_whose_fsync_failed_is_made_durable_by_the_restart_that_serves_it() {
    // Set up: commits 0..5 acknowledged, commit 5 written but its fsync failed.
    let fs = FaultyFs::new();
    let durability = open(&fs, SyncPolicy::Always);
    for n in 0..5 {
        commit(&durability.storage(), n).unwrap();
    }
    fs.fail_syncs(SyncFault::Nth(1));
    commit(&durability.storage(), 5).unwrap_err();
    drop(durability);

    // Act: restart without a crash (commit 5 is served from the page cache), commit
    // more, then crash.
    let restarted = open(&fs, SyncPolicy::Always);
    assert_eq!(commits(&restarted.storage()), (0..6).collect::<Vec<_>>());
    for n in 6..10 {
        commit(&restarted.storage(), n).unwrap();
    }
    drop(restarted);
    fs.crash(|_, unsynced| Tail::Keep(unsynced / 2));

    // Check: everything served is still there.
    let recovered = open(&fs, SyncPolicy::Always);
    assert_eq!(commits(&recovered.storage()), (0..10).collect::<Vec<_>>());
}

#[test]
fn a_failed_background_sync_is_reported_before_any_commit_meets_it() {
    // Set up: commits written but not yet fsynced (interval policy).
    let fs = FaultyFs::new();
    let durability = open(&fs, SyncPolicy::Interval(std::time::Duration::from_secs(3600)));
    for n in 0..3 {
        commit(&durability.storage(), n).unwrap();
    }
    assert_eq!(durability.write_failure(), None);

    // Act: the timer's sync fails.
    fs.fail_syncs(SyncFault::Nth(1));
    assert!(durability.sync().is_err());

    // Check: the failure is known at once (health checks read it), and the next commit
    // is refused for good.
    let reason = durability.write_failure().expect("the WAL failure is reported");
    assert!(reason.contains("fsync"), "{reason}");
    fs.fail_syncs(SyncFault::Never);
    let refused = commit(&durability.storage(), 3).unwrap_err();
    assert!(matches!(&refused, StorageError::Commit(c) if c.is_fatal()), "{refused}");
}
