//! Trimming the WAL as a Raft log and replication need: `truncate_after` drops every record
//! above a timestamp durably (so their timestamps can be reused), `purge_upto` deletes
//! whole segments at or below one through the file retainer.

use std::path::Path;
use std::sync::Arc;
use weft_storage::durability::io::faulty::{FaultyFs, SyncFault};
use weft_storage::durability::{
    list_segments, list_segments_with, read_segments, read_segments_with, FileRetainer, ReadOptions, Uuid, WalOptions,
    WalWriter,
};

fn payload(ts: u64, tag: &str) -> Vec<u8> {
    format!("{tag} record {ts};").repeat(1 + (ts % 5) as usize).into_bytes()
}

fn options(db: Uuid) -> WalOptions {
    WalOptions {
        segment_size: 512,
        ..WalOptions::new(db)
    }
}

fn read_all(dir: &Path, db: Uuid) -> Vec<(u64, Vec<u8>)> {
    read_segments(dir, db, ReadOptions::default())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A WAL of records `1..=100` over many small segments.
fn written(dir: &Path, db: Uuid) -> (WalWriter, Vec<(u64, Vec<u8>)>) {
    let records: Vec<(u64, Vec<u8>)> = (1..=100).map(|ts| (ts, payload(ts, "old"))).collect();
    let writer = WalWriter::open(dir, options(db)).unwrap();
    for (ts, record) in &records {
        writer.append_durable(*ts, record).unwrap();
    }
    (writer, records)
}

/// [`written`] on an in-memory disk.
fn written_on(fs: &FaultyFs, dir: &Path, db: Uuid) -> (WalWriter, Vec<(u64, Vec<u8>)>) {
    let records: Vec<(u64, Vec<u8>)> = (1..=100).map(|ts| (ts, payload(ts, "old"))).collect();
    let writer = WalWriter::open_with(Arc::new(fs.clone()), dir, options(db)).unwrap();
    for (ts, record) in &records {
        writer.append_durable(*ts, record).unwrap();
    }
    (writer, records)
}

fn read_on(fs: &FaultyFs, dir: &Path, db: Uuid) -> Vec<(u64, Vec<u8>)> {
    read_segments_with(Arc::new(fs.clone()), dir, db, ReadOptions::default())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn truncate_after_drops_later_records_and_lets_their_timestamps_be_reused() {
    // Cuts inside a segment, at a segment's last record, before everything, after
    // everything (on an in-memory disk: the fsyncs would only make this slow).
    let (dir, db) = (Path::new("/wal"), Uuid::new_v4());
    let boundary = {
        let fs = FaultyFs::new();
        written_on(&fs, dir, db);
        list_segments_with(&fs, dir, db).unwrap()[3].from_ts - 1
    };
    for ts in [37u64, boundary, 0, 100, 250] {
        // Set up.
        let fs = FaultyFs::new();
        let (writer, records) = written_on(&fs, dir, db);

        // Act: truncate, then append new records right above the cut.
        writer.truncate_after(ts).unwrap();
        assert_eq!(writer.last_ts(), (ts > 0).then_some(ts.min(100)), "cut at {ts}");
        let fresh: Vec<(u64, Vec<u8>)> = (ts + 1..ts + 20).map(|t| (t, payload(t, "new"))).collect();
        for (t, record) in &fresh {
            writer.append_durable(*t, record).unwrap();
        }
        drop(writer);

        // Check: the records at or below the cut, then the new ones, also after a
        // crash and a reopen; the segments still chain.
        fs.crash_losing_unsynced();
        let mut expected: Vec<_> = records.iter().filter(|(t, _)| *t <= ts).cloned().collect();
        expected.extend(fresh);
        assert_eq!(read_on(&fs, dir, db), expected, "cut at {ts}");
        let reopened = WalWriter::open_with(Arc::new(fs.clone()), dir, options(db)).unwrap();
        assert_eq!(reopened.last_ts(), Some(ts + 19));
        let segments = list_segments_with(&fs, dir, db).unwrap();
        for pair in segments.windows(2) {
            assert!(pair[0].from_ts < pair[1].from_ts && pair[0].seq < pair[1].seq);
        }
    }
}

#[test]
fn a_crash_while_truncating_leaves_a_prefix_of_the_log() {
    // Each fsync of the truncation fails in turn, then the machine crashes.
    let mut failed = 0;
    for nth in 1..=12u64 {
        // Set up: records 1..=60 in small segments on a faulty disk.
        let fs = FaultyFs::new();
        let dir = Path::new("/wal");
        let db = Uuid::new_v4();
        let writer = WalWriter::open_with(Arc::new(fs.clone()), dir, options(db)).unwrap();
        let records: Vec<(u64, Vec<u8>)> = (1..=60).map(|ts| (ts, payload(ts, "old"))).collect();
        for (ts, record) in &records {
            writer.append_durable(*ts, record).unwrap();
        }

        // Act: truncate after 23 with the nth fsync failing, then crash.
        fs.fail_syncs(SyncFault::Nth(nth));
        let outcome = writer.truncate_after(23);
        drop(writer);
        fs.crash_losing_unsynced();
        fs.fail_syncs(SyncFault::Never);

        // Check: what is left reads back as a prefix of the log, at least up to the cut,
        // and all of it is cut when the truncation succeeded.
        let left = read_on(&fs, dir, db);
        assert_eq!(left, records[..left.len()].to_vec(), "fsync {nth}");
        assert!(left.len() >= 23, "fsync {nth}: lost records at or below the cut");
        match outcome {
            Ok(()) => assert_eq!(left.len(), 23, "fsync {nth}"),
            Err(_) => failed += 1,
        }
        WalWriter::open_with(Arc::new(fs.clone()), dir, options(db)).unwrap();
    }
    assert!((3..12).contains(&failed), "{failed} truncations failed");
}

#[test]
fn purge_upto_deletes_whole_segments_through_the_retainer() {
    // Set up: many segments; a reader holds one of the old ones.
    let tmp = tempfile::tempdir().unwrap();
    let db = Uuid::new_v4();
    let (writer, records) = written(tmp.path(), db);
    let before = list_segments(tmp.path(), db).unwrap();
    let retainer = FileRetainer::default();
    let mut reader = retainer.locker();
    reader.add(&before[1].path);

    // Act: purge everything at or below 50.
    let purged = writer.purge_upto(50, &retainer).unwrap();

    // Check: exactly the segments whose whole range is at or below 50 went (the held
    // one once released); reading above 50 still finds every record.
    let expected: Vec<_> = before
        .iter()
        .filter(|s| s.to_ts.is_some_and(|to| to <= 50))
        .map(|s| s.path.clone())
        .collect();
    assert!(expected.len() >= 2, "{} segments at or below 50", expected.len());
    assert_eq!(purged, expected);
    assert!(before[1].path.exists(), "a held segment stays until released");
    assert!(!before[0].path.exists());
    drop(reader);
    assert!(!before[1].path.exists());
    let after = list_segments(tmp.path(), db).unwrap();
    assert_eq!(after.len(), before.len() - expected.len());
    assert!(after[0].from_ts <= 51);
    let above: Vec<_> = read_all(tmp.path(), db).into_iter().filter(|(t, _)| *t > 50).collect();
    assert_eq!(above, records[50..].to_vec());

    // Check: the newest segment is never purged, and the writer goes on.
    assert_eq!(writer.purge_upto(u64::MAX, &retainer).unwrap().len(), after.len() - 1);
    writer.append_durable(101, b"more").unwrap();
    assert_eq!(list_segments(tmp.path(), db).unwrap().len(), 1);
    assert_eq!(read_all(tmp.path(), db).last().unwrap().0, 101);
}

#[test]
fn truncate_after_refuses_to_cut_through_corruption() {
    // Set up: a flipped byte in the middle of the segment that holds the cut.
    let tmp = tempfile::tempdir().unwrap();
    let db = Uuid::new_v4();
    let (writer, _) = written(tmp.path(), db);
    let segment = list_segments(tmp.path(), db).unwrap()[2].clone();
    let before = list_segments(tmp.path(), db).unwrap();
    let mut bytes = std::fs::read(&segment.path).unwrap();
    bytes[80] ^= 0x10;
    std::fs::write(&segment.path, &bytes).unwrap();

    // Act: cut at the segment's last record.
    let error = writer.truncate_after(segment.to_ts.unwrap()).unwrap_err();

    // Check: named corruption, and nothing deleted or cut: the files are left as they
    // were for a human to look at.
    assert!(error.is_corruption(), "{error}");
    assert!(
        error.to_string().contains(&segment.path.display().to_string()),
        "{error}"
    );
    assert_eq!(std::fs::read(&segment.path).unwrap(), bytes);
    assert_eq!(list_segments(tmp.path(), db).unwrap(), before);
}
