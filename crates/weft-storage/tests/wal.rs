//! The WAL's promises under normal operation: records come back whole, once, in timestamp
//! order across segments and reopenings; concurrent committers share fsyncs.

use std::sync::{Arc, Mutex};
use weft_storage::durability::{list_segments, read_segments, ReadOptions, SyncPolicy, Uuid, WalOptions, WalWriter};

fn payload(ts: u64) -> Vec<u8> {
    format!("record {ts};").repeat(1 + (ts % 7) as usize).into_bytes()
}

fn read_all(dir: &std::path::Path, db: Uuid, after_ts: u64) -> Vec<(u64, Vec<u8>)> {
    let options = ReadOptions {
        after_ts,
        ..ReadOptions::default()
    };
    read_segments(dir, db, options)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn round_trip_over_several_segments_and_reopenings() {
    // Set up: small segments so that a few hundred records span many files.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("wal");
    let db = Uuid::new_v4();
    let options = WalOptions {
        segment_size: 1024,
        ..WalOptions::new(db)
    };

    // Act: write 300 records (timestamps with gaps), reopen, write 100 more.
    let expected: Vec<(u64, Vec<u8>)> = (1..=400u64).map(|i| (i * 3, payload(i * 3))).collect();
    let writer = WalWriter::open(&dir, options.clone()).unwrap();
    for (ts, record) in &expected[..300] {
        writer.append_durable(*ts, record).unwrap();
    }
    assert_eq!(writer.stats().records, 300);
    writer.close().unwrap();
    let writer = WalWriter::open(&dir, options).unwrap();
    assert_eq!(writer.last_ts(), Some(900));
    for (ts, record) in &expected[300..] {
        writer.append_durable(*ts, record).unwrap();
    }
    drop(writer);

    // Check: everything back in order; segment ranges chain; `after_ts` filters.
    assert_eq!(read_all(&dir, db, 0), expected);
    let segments = list_segments(&dir, db).unwrap();
    assert!(segments.len() > 5, "{} segments", segments.len());
    for pair in segments.windows(2) {
        assert!(pair[0].seq < pair[1].seq && pair[0].from_ts < pair[1].from_ts);
        assert_eq!(pair[0].to_ts, Some(pair[1].from_ts - 1));
        assert!(pair[0].path < pair[1].path, "lexical order is log order");
    }
    assert_eq!(segments.last().unwrap().to_ts, None);
    assert_eq!(segments[0].from_ts, 3);
    assert_eq!(read_all(&dir, db, 600), expected[200..].to_vec());
    assert_eq!(read_all(&dir, db, 1200), vec![]);
}

#[test]
fn group_commit_shares_fsyncs_among_32_committers() {
    // Set up: one writer, and a commit lock that hands out timestamps in order.
    let tmp = tempfile::tempdir().unwrap();
    let db = Uuid::new_v4();
    let writer = Arc::new(WalWriter::open(tmp.path(), WalOptions::new(db)).unwrap());
    let commit_lock = Arc::new(Mutex::new(0u64));

    // Act: 32 threads commit 25 records each; append under the lock, wait outside it.
    let threads: Vec<_> = (0..32)
        .map(|_| {
            let (writer, commit_lock) = (writer.clone(), commit_lock.clone());
            std::thread::spawn(move || {
                for _ in 0..25 {
                    let ticket = {
                        let mut last = commit_lock.lock().unwrap();
                        *last += 1;
                        writer.append(*last, &payload(*last)).unwrap()
                    };
                    writer.wait_durable(ticket).unwrap();
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());

    // Check: fewer fsyncs than records, and every record back once, in order.
    let stats = writer.stats();
    eprintln!("group commit: {stats:?}");
    assert_eq!(stats.records, 800);
    assert!(stats.fsyncs < stats.records, "{stats:?}");
    assert!(stats.batches < stats.records, "{stats:?}");
    let back = read_all(tmp.path(), db, 0);
    let expected: Vec<(u64, Vec<u8>)> = (1..=800).map(|ts| (ts, payload(ts))).collect();
    assert_eq!(back, expected);
}

#[test]
fn append_refuses_a_timestamp_that_is_not_newer() {
    let tmp = tempfile::tempdir().unwrap();
    let writer = WalWriter::open(tmp.path(), WalOptions::new(Uuid::new_v4())).unwrap();
    writer.append_durable(5, b"five").unwrap();
    let err = writer.append(5, b"again").unwrap_err();
    assert!(err.to_string().contains("not newer"), "{err}");
    writer.append_durable(6, b"six").unwrap();
}

#[test]
fn sync_policies_off_and_interval_write_without_fsync_per_record() {
    for sync in [
        SyncPolicy::Off,
        SyncPolicy::Interval(std::time::Duration::from_secs(3600)),
    ] {
        // Act: 50 records under a policy that does not fsync each batch.
        let tmp = tempfile::tempdir().unwrap();
        let db = Uuid::new_v4();
        let writer = WalWriter::open(
            tmp.path(),
            WalOptions {
                sync,
                ..WalOptions::new(db)
            },
        )
        .unwrap();
        (1..=50).for_each(|ts| writer.append_durable(ts, &payload(ts)).unwrap());

        // Check: only the new segment's header was fsynced; `sync` forces one more.
        assert_eq!(writer.stats().fsyncs, 1, "{sync:?}");
        writer.sync().unwrap();
        assert_eq!(writer.stats().fsyncs, 2, "{sync:?}");
        assert_eq!(read_all(tmp.path(), db, 0).len(), 50);
    }
}

#[test]
fn reopening_truncates_a_torn_tail_and_goes_on() {
    // Set up: ten records, then half a frame appended, as a crash mid-write leaves.
    let tmp = tempfile::tempdir().unwrap();
    let db = Uuid::new_v4();
    let writer = WalWriter::open(tmp.path(), WalOptions::new(db)).unwrap();
    (1..=10).for_each(|ts| writer.append_durable(ts, &payload(ts)).unwrap());
    drop(writer);
    let segment = list_segments(tmp.path(), db).unwrap().pop().unwrap();
    let mut bytes = std::fs::read(&segment.path).unwrap();
    bytes.extend_from_slice(&[40, 0, 0, 0, 1, 2, 3, 4, 5, 6]);
    std::fs::write(&segment.path, &bytes).unwrap();

    // Act: reading cuts the tail; reopening truncates it, and appending goes on.
    assert_eq!(read_all(tmp.path(), db, 0).len(), 10);
    let writer = WalWriter::open(tmp.path(), WalOptions::new(db)).unwrap();
    assert_eq!(std::fs::metadata(&segment.path).unwrap().len(), segment.len);
    assert_eq!(writer.last_ts(), Some(10));
    writer.append_durable(11, &payload(11)).unwrap();

    // Check: all eleven records, the new one in a second segment.
    let back = read_all(tmp.path(), db, 0);
    assert_eq!(
        back.iter().map(|r| r.0).collect::<Vec<_>>(),
        (1..=11).collect::<Vec<_>>()
    );
    assert_eq!(list_segments(tmp.path(), db).unwrap().len(), 2);
}

#[test]
fn a_tentative_record_waits_for_its_confirmation_and_only_it_can_be_revoked() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Uuid::new_v4();
    let writer = WalWriter::open(tmp.path(), WalOptions::new(db)).unwrap();
    writer.append_durable(1, b"one").unwrap();
    let first = writer.append_tentative(2, b"two").unwrap();
    writer.confirm(first);
    let second = writer.append_tentative(3, b"three").unwrap();
    // A sync meanwhile writes what is confirmed and leaves the tentative record alone.
    writer.sync().unwrap();
    assert!(!writer.revoke(first), "confirmed already");
    assert!(writer.revoke(second));
    assert!(!writer.revoke(second), "taken back already");
    let again = writer.append_tentative(3, b"three again").unwrap();
    writer.confirm(again);
    writer.wait_durable(again).unwrap();
    assert!(!writer.revoke(again), "written already");
    assert_eq!(writer.last_ts(), Some(3));
    drop(writer);
    let records = read_all(tmp.path(), db, 0);
    let expected: Vec<(u64, Vec<u8>)> = vec![(1, b"one".to_vec()), (2, b"two".to_vec()), (3, b"three again".to_vec())];
    assert_eq!(records, expected);
}
