//! Durability end to end inside one process: commits survive a reopen through the WAL
//! alone and through snapshot plus WAL; retention keeps what recovery needs; damage falls
//! back or stops the start with an error naming the file.

mod sinks;

use sinks::RecordingSink;
use std::fs;
use std::path::Path;
use std::sync::Arc;
use weft_common::spatial::{Crs, Point};
use weft_storage::durability::{
    list_segments, Durability, DurabilityConfig, DurabilityError, SyncPolicy, WalOptions, WalWriter,
};
use weft_storage::record::{CommitRecord, RecordOp};
use weft_storage::{IsolationLevel, Origin, Storage, Value};

fn config(dir: &Path) -> DurabilityConfig {
    DurabilityConfig {
        wal_segment_size: 4 << 10,
        ..DurabilityConfig::new(dir)
    }
}

fn add_people(storage: &Storage, from: i64, to: i64) {
    let (person, id) = (storage.label("Person"), storage.property("id"));
    for n in from..to {
        let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
        let v = txn.create_vertex().unwrap();
        txn.add_label(v, person).unwrap();
        txn.set_vertex_property(v, id, Value::Int(n)).unwrap();
        txn.commit().unwrap();
    }
}

fn people(storage: &Storage) -> Vec<i64> {
    let id = storage.property("id");
    let txn = storage.begin(IsolationLevel::SnapshotIsolation);
    let mut ids: Vec<i64> = txn
        .vertices()
        .filter_map(|v| match txn.vertex_property(v, id) {
            Ok(Some(Value::Int(n))) => Some(n),
            _ => None,
        })
        .collect();
    ids.sort_unstable();
    ids
}

fn reopen(config: DurabilityConfig) -> Arc<Durability> {
    Durability::open(config).expect("recovery")
}

#[test]
fn commits_survive_a_reopen_from_the_wal_alone() {
    let dir = tempfile::tempdir().unwrap();
    let durability = reopen(config(dir.path()));
    durability
        .storage()
        .create_label_property_index("Person", "id")
        .unwrap();
    add_people(&durability.storage(), 0, 200);
    let before = durability.storage().dump();
    let last = durability.storage().last_committed();
    drop(durability);

    let durability = reopen(config(dir.path()));
    assert!(durability.recovery().snapshot.is_none());
    assert_eq!(durability.recovery().wal_records, 201, "200 commits and one index");
    assert_eq!(durability.storage().dump(), before);
    assert_eq!(durability.storage().last_committed(), last);
    assert_eq!(durability.storage().index_info().len(), 1);
    add_people(&durability.storage(), 200, 210);
    assert_eq!(
        people(&durability.storage()).len(),
        210,
        "new commits go on after recovery"
    );
}

#[test]
fn a_snapshot_plus_the_wal_after_it_recovers_everything() {
    let dir = tempfile::tempdir().unwrap();
    let durability = reopen(config(dir.path()));
    add_people(&durability.storage(), 0, 100);
    let snapshot = durability.create_snapshot().unwrap();
    add_people(&durability.storage(), 100, 150);
    drop(durability);

    let durability = reopen(config(dir.path()));
    let report = durability.recovery();
    assert_eq!(report.snapshot.as_ref().map(|s| s.ts), Some(snapshot.ts));
    assert_eq!(
        report.wal_records, 50,
        "only the records after the snapshot are replayed"
    );
    assert_eq!(people(&durability.storage()), (0..150).collect::<Vec<_>>());
}

/// Sets property `loc` of a new vertex to `value`, in its own transaction.
fn add_place(storage: &Storage, value: Value) {
    let loc = storage.property("loc");
    let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
    let v = txn.create_vertex().unwrap();
    txn.set_vertex_property(v, loc, value).unwrap();
    txn.commit().unwrap();
}

fn places(storage: &Storage) -> Vec<Value> {
    let loc = storage.property("loc");
    let txn = storage.begin(IsolationLevel::SnapshotIsolation);
    let mut values: Vec<Value> = txn
        .vertices()
        .filter_map(|v| txn.vertex_property(v, loc).ok().flatten())
        .collect();
    values.sort_by(Value::order_cmp);
    values
}

#[test]
fn points_survive_the_snapshot_and_the_wal() {
    // Set up: one point of each CRS (and a list of points), half before the snapshot.
    let point = |crs, coords: &[f64]| Value::Point(Point::new(crs, coords).unwrap());
    let before_snapshot = [point(Crs::Cartesian, &[1.5, -2.5]), point(Crs::Wgs84, &[12.5, 56.0])];
    let after_snapshot = [
        point(Crs::Cartesian3D, &[1.0, 2.0, 3.0]),
        Value::List(vec![point(Crs::Wgs84_3D, &[-170.0, -45.0, 100.0])]),
    ];
    let dir = tempfile::tempdir().unwrap();
    let durability = reopen(config(dir.path()));
    before_snapshot
        .iter()
        .for_each(|p| add_place(&durability.storage(), p.clone()));
    durability.create_snapshot().unwrap();
    after_snapshot
        .iter()
        .for_each(|p| add_place(&durability.storage(), p.clone()));
    let written = places(&durability.storage());
    drop(durability);

    // Act: recover from the snapshot, then replay the WAL after it.
    let durability = reopen(config(dir.path()));

    // Check: every point comes back bit for bit, with its CRS.
    assert_eq!(durability.recovery().wal_records, 2);
    assert_eq!(places(&durability.storage()), written);
    assert_eq!(written.len(), 4);
}

#[test]
fn retention_keeps_the_newest_snapshots_and_the_wal_they_need() {
    let dir = tempfile::tempdir().unwrap();
    let config = DurabilityConfig {
        snapshot_retention: 2,
        ..config(dir.path())
    };
    let durability = reopen(config.clone());
    let mut taken = Vec::new();
    for round in 0..4 {
        add_people(&durability.storage(), round * 100, round * 100 + 100);
        taken.push(durability.create_snapshot().unwrap());
    }
    let kept: Vec<u64> = durability.snapshots().unwrap().iter().map(|s| s.ts).collect();
    assert_eq!(kept, vec![taken[2].ts, taken[3].ts]);
    let segments = list_segments(&dir.path().join("wal"), durability.db_id()).unwrap();
    assert!(
        segments[0].from_ts > 1,
        "segments wholly before the oldest kept snapshot are gone"
    );
    assert!(
        segments[0].from_ts <= taken[2].ts + 1,
        "the records after it are all kept"
    );
    // Recovery from the oldest kept snapshot still finds every record after it.
    fs::remove_file(&taken[3].path).unwrap();
    drop(durability);
    let durability = reopen(config);
    assert_eq!(durability.recovery().snapshot.as_ref().map(|s| s.ts), Some(taken[2].ts));
    assert_eq!(people(&durability.storage()), (0..400).collect::<Vec<_>>());
}

#[test]
fn files_a_reader_holds_outlive_retention_until_released() {
    let dir = tempfile::tempdir().unwrap();
    let config = DurabilityConfig {
        snapshot_retention: 1,
        ..config(dir.path())
    };
    let durability = reopen(config);
    add_people(&durability.storage(), 0, 10);
    let first = durability.create_snapshot().unwrap();
    let mut reader = durability.retainer().locker();
    reader.add(&first.path);
    add_people(&durability.storage(), 10, 20);
    durability.create_snapshot().unwrap();
    assert!(first.path.exists(), "held by a reader");
    drop(reader);
    assert!(!first.path.exists(), "deleted once released");
}

#[test]
fn a_damaged_newest_snapshot_falls_back_to_an_older_one() {
    let dir = tempfile::tempdir().unwrap();
    let durability = reopen(config(dir.path()));
    add_people(&durability.storage(), 0, 50);
    let older = durability.create_snapshot().unwrap();
    add_people(&durability.storage(), 50, 80);
    let newer = durability.create_snapshot().unwrap();
    add_people(&durability.storage(), 80, 90);
    drop(durability);
    let mut bytes = fs::read(&newer.path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xFF;
    fs::write(&newer.path, bytes).unwrap();

    let durability = reopen(config(dir.path()));
    assert_eq!(durability.recovery().snapshot.as_ref().map(|s| s.ts), Some(older.ts));
    assert_eq!(people(&durability.storage()), (0..90).collect::<Vec<_>>());
}

#[test]
fn corruption_in_the_middle_of_the_wal_stops_the_start_naming_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let durability = reopen(config(dir.path()));
    add_people(&durability.storage(), 0, 300);
    drop(durability);
    let mut segments: Vec<_> = fs::read_dir(dir.path().join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    segments.sort();
    assert!(segments.len() >= 3, "small segments rotate: {segments:?}");
    let damaged = &segments[0];
    let mut bytes = fs::read(damaged).unwrap();
    bytes[100] ^= 0x55;
    fs::write(damaged, bytes).unwrap();

    let error = Durability::open(config(dir.path())).err().expect("refused");
    assert!(matches!(error, DurabilityError::Corrupt { .. }), "{error}");
    let message = error.to_string();
    let name = damaged.file_name().unwrap().to_string_lossy().into_owned();
    assert!(message.contains(&name) && message.contains("offset"), "{message}");

    // Accepting the loss knowingly starts with what could be read.
    let accepting = DurabilityConfig {
        skip_corrupt: true,
        ..config(dir.path())
    };
    let durability = reopen(accepting);
    assert!(people(&durability.storage()).len() < 300);
}

/// Where each frame of a WAL segment's bytes starts (after the 64-byte header, frames are
/// `length:u32 | crc32c:u32 | payload`).
fn frame_starts(bytes: &[u8]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut at = 64;
    while at + 8 <= bytes.len() {
        starts.push(at);
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        at += 8 + len;
    }
    starts
}

#[test]
fn an_older_wal_segment_cut_at_a_frame_boundary_or_a_missing_one_stops_the_start() {
    // Set up: a WAL of several small segments.
    let dir = tempfile::tempdir().unwrap();
    let durability = reopen(config(dir.path()));
    add_people(&durability.storage(), 0, 300);
    let db = durability.db_id();
    drop(durability);
    let segments: Vec<_> = list_segments(&dir.path().join("wal"), db)
        .unwrap()
        .into_iter()
        .map(|s| s.path)
        .collect();
    assert!(segments.len() >= 4, "small segments rotate: {segments:?}");

    // Act: the first segment loses its last two records, cut exactly between frames (its
    // own frames all check out).
    let bytes = fs::read(&segments[0]).unwrap();
    let starts = frame_starts(&bytes);
    fs::write(&segments[0], &bytes[..starts[starts.len() - 2]]).unwrap();

    // Check: the start is refused, naming both segments and the missing commits.
    let error = Durability::open(config(dir.path())).err().expect("refused");
    assert!(matches!(error, DurabilityError::SegmentEndsEarly { .. }), "{error}");
    let message = error.to_string();
    for segment in &segments[..2] {
        let name = segment.file_name().unwrap().to_string_lossy().into_owned();
        assert!(message.contains(&name), "{message}");
    }
    assert!(
        message.contains("ends early") && message.contains("are in neither"),
        "{message}"
    );

    // Act + check: a segment gone from the middle is named the same way.
    fs::write(&segments[0], &bytes).unwrap();
    fs::remove_file(&segments[2]).unwrap();
    let error = Durability::open(config(dir.path())).err().expect("refused");
    match error {
        DurabilityError::SegmentEndsEarly { path, next, .. } => {
            assert_eq!((path, next), (segments[1].clone(), segments[3].clone()));
        }
        other => panic!("expected a segment that ends early, got {other}"),
    }

    // Accepting the loss knowingly starts without the missing commits.
    let accepting = DurabilityConfig {
        skip_corrupt: true,
        ..config(dir.path())
    };
    let durability = reopen(accepting);
    let people = people(&durability.storage());
    assert!(people.len() < 300 && people.contains(&299), "{} people", people.len());
}

#[test]
fn starting_without_recovery_sets_the_old_files_aside() {
    let dir = tempfile::tempdir().unwrap();
    let durability = reopen(config(dir.path()));
    let old_id = durability.db_id();
    add_people(&durability.storage(), 0, 10);
    drop(durability);
    let fresh = DurabilityConfig {
        recover: false,
        ..config(dir.path())
    };
    let durability = reopen(fresh);
    assert!(people(&durability.storage()).is_empty());
    assert_ne!(durability.db_id(), old_id);
    let aside = fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().starts_with("old-"));
    assert!(aside, "the old history is kept beside the new one");
}

#[test]
fn a_second_process_on_the_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _running = reopen(config(dir.path()));
    let error = Durability::open(config(dir.path())).err().expect("refused");
    assert!(matches!(error, DurabilityError::Locked { .. }), "{error}");
}

#[test]
fn interval_sync_and_background_snapshots_run_and_stop() {
    let dir = tempfile::tempdir().unwrap();
    let config = DurabilityConfig {
        wal_sync: SyncPolicy::Interval(std::time::Duration::from_millis(5)),
        ..config(dir.path())
    };
    let durability = reopen(config.clone());
    let worker = durability.start_background(Some(std::time::Duration::from_millis(20)));
    add_people(&durability.storage(), 0, 20);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while durability.snapshots().unwrap().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(
        !durability.snapshots().unwrap().is_empty(),
        "a periodic snapshot was taken"
    );
    drop(worker);
    durability.close(true).unwrap();
    drop(durability);
    assert_eq!(people(&reopen(config).storage()).len(), 20);
}

// ---------------------------------------------------------------------------------------
// Installing a snapshot into a running database: the installed state replaces the old one
// in memory and on disk, and a restart recovers it plus later commits, never the replaced
// history.
// ---------------------------------------------------------------------------------------

#[test]
fn an_installed_snapshot_replaces_a_diverged_history_in_memory_and_on_disk() {
    // Set up: a leader with 50 people and a snapshot of them; a member of the same
    // database that diverged after 20 (its own 20..120) and took a snapshot of that.
    let (leader_dir, member_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let leader = Durability::open(config(leader_dir.path())).unwrap();
    add_people(&leader.storage(), 0, 50);
    let sent = leader.create_snapshot().unwrap();
    std::fs::remove_dir_all(member_dir.path()).unwrap();
    copy_dir(leader_dir.path(), member_dir.path());
    let member = Durability::open(config(member_dir.path())).unwrap();
    drop(leader);
    let old = member.storage();
    add_people(&old, 1000, 1100);
    member.create_snapshot().unwrap();
    add_people(&old, 1100, 1110);

    // Act: install the leader's snapshot, then write on top of it.
    let (installed, written) = member.install_snapshot(&sent.path).unwrap();
    add_people(&installed, 50, 60);

    // Check: the new storage holds the leader's state plus the new writes, the old one
    // logs nothing any more, and a restart recovers exactly the new history.
    assert_eq!(written.ts, sent.ts);
    assert_eq!(people(&installed), (0..60).collect::<Vec<_>>());
    assert_eq!(people(&member.storage()), (0..60).collect::<Vec<_>>());
    assert!(old.commit_sinks().is_empty(), "the replaced storage no longer logs");
    let mut straggler = old.begin(IsolationLevel::SnapshotIsolation);
    straggler.create_vertex().unwrap();
    let refused = straggler.commit().unwrap_err();
    assert!(
        refused.is_retryable(),
        "a straggler on the replaced storage fails: {refused}"
    );
    assert_eq!(installed.commit_sinks(), vec!["wal"]);
    drop((old, installed, member));
    let reopened = Durability::open(config(member_dir.path())).unwrap();
    assert_eq!(people(&reopened.storage()), (0..60).collect::<Vec<_>>());
    assert_eq!(reopened.recovery().snapshot.as_ref().map(|s| s.ts), Some(sent.ts));
    assert_eq!(reopened.recovery().wal_records, 10);
}

#[test]
fn a_snapshot_of_another_database_is_refused_and_changes_nothing() {
    let (mine, theirs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let member = Durability::open(config(mine.path())).unwrap();
    add_people(&member.storage(), 0, 5);
    let other = Durability::open(config(theirs.path())).unwrap();
    add_people(&other.storage(), 100, 110);
    let foreign = other.create_snapshot().unwrap();
    assert_ne!(member.db_id(), other.db_id());

    let Err(error) = member.install_snapshot(&foreign.path) else {
        panic!("another database's snapshot was installed");
    };

    assert!(matches!(error, DurabilityError::ForeignDatabase { .. }), "{error}");
    assert_eq!(people(&member.storage()), (0..5).collect::<Vec<_>>());
    add_people(&member.storage(), 5, 6);
    drop(member);
    let reopened = Durability::open(config(mine.path())).unwrap();
    assert_eq!(people(&reopened.storage()), (0..6).collect::<Vec<_>>());
}

/// Copies a data directory (without its lock file, which belongs to the open instance).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_name() != "LOCK" {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn an_applied_group_shares_its_wal_fsyncs_and_survives_a_reopen() {
    // Set up: a leader's records: 40 people, an index, then every person changed (each
    // change needs the record that made the person).
    let leader = Storage::new();
    let sink = RecordingSink::new("leader");
    sink.attach(&leader);
    add_people(&leader, 0, 40);
    leader.create_label_property_index("Person", "id").unwrap();
    let (person, id) = (leader.label("Person"), leader.property("id"));
    for v in leader
        .begin(IsolationLevel::SnapshotIsolation)
        .vertices_with_label(person)
    {
        let mut txn = leader.begin(IsolationLevel::SnapshotIsolation);
        let Ok(Some(Value::Int(n))) = txn.vertex_property(v, id) else {
            panic!("a person without an id")
        };
        txn.set_vertex_property(v, id, Value::Int(n + 1000)).unwrap();
        txn.commit().unwrap();
    }
    let records = sink.received();
    let dir = tempfile::tempdir().unwrap();
    let member = Durability::open(config(dir.path())).unwrap();
    let before = member.info().unwrap().wal.fsyncs;

    // Act: the member applies all 81 records as one group.
    let decoded = records
        .iter()
        .map(|r| (CommitRecord::decode(&r.record).unwrap(), r.record.as_slice()));
    let (newest, error) = member.storage().apply_group(decoded, Origin::Applied { epoch: 1 });

    // Check: all applied; a handful of fsyncs (the schema change settles what came before
    // it and itself; segments roll over every 4 KiB), not one per record; and a reopen
    // recovers the same graph.
    assert_eq!((newest, error), (Some(leader.last_committed()), None));
    let info = member.info().unwrap();
    assert!(
        info.wal.fsyncs - before < 20,
        "{} fsyncs for {} records",
        info.wal.fsyncs - before,
        records.len()
    );
    assert_eq!(people(&member.storage()), (1000..1040).collect::<Vec<_>>());
    assert_eq!(member.storage().dump(), leader.dump());
    drop(member);
    let reopened = reopen(config(dir.path()));
    assert_eq!(reopened.storage().dump(), leader.dump());
    assert_eq!(reopened.storage().index_info().len(), 1);
}

/// Opens `dir`, failing the test if recovery takes a minute (it must end, not hang).
fn open_within_a_minute(dir: &Path) -> Result<Arc<Durability>, DurabilityError> {
    let (done, result) = std::sync::mpsc::channel();
    let config = config(dir);
    std::thread::spawn(move || done.send(Durability::open(config)));
    result
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("recovery ended within a minute")
}

/// Appends transaction records `(ts, ops)` to the WAL of the data directory at `dir`.
fn append_records(dir: &Path, db: weft_storage::durability::Uuid, records: Vec<(u64, Vec<RecordOp>)>) {
    let mut options = WalOptions::new(db);
    options.sync = SyncPolicy::Off;
    let wal = WalWriter::open(&dir.join("wal"), options).unwrap();
    for (ts, ops) in records {
        wal.append_durable(ts, &CommitRecord::Transaction { ts, ops }.encode())
            .unwrap();
    }
    wal.close().unwrap();
}

#[test]
fn a_bad_record_or_missing_history_early_in_a_long_wal_stops_the_start_with_its_error() {
    // Set up: two data directories whose WALs hold far more records than recovery decodes
    // ahead; in one the first record does not fit the graph, the other starts at ts 3.
    let creates = |from: u64| (from..from + 2_000).map(|ts| (ts, vec![RecordOp::CreateVertex(ts)]));
    let (bad, late) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for (dir, records) in [
        (
            bad.path(),
            std::iter::once((1, vec![RecordOp::DeleteVertex(9)]))
                .chain(creates(2))
                .collect(),
        ),
        (late.path(), creates(3).collect::<Vec<_>>()),
    ] {
        let db = reopen(config(dir)).db_id();
        append_records(dir, db, records);
    }

    // Act + check: each start ends, with the error that names its problem.
    match open_within_a_minute(bad.path()) {
        Err(DurabilityError::Replay { ts: 1, .. }) => {}
        other => panic!("expected the record at ts 1 refused, got {:?}", other.err()),
    }
    match open_within_a_minute(late.path()) {
        Err(DurabilityError::MissingHistory { first_wal_ts: 3 }) => {}
        other => panic!("expected missing history, got {:?}", other.err()),
    }
}

#[test]
fn recovery_progress_counts_every_snapshot_object_and_wal_record_once() {
    // Set up: 100 people, each knowing the next, in a snapshot; 50 more people after it.
    let dir = tempfile::tempdir().unwrap();
    let durability = reopen(config(dir.path()));
    let storage = durability.storage();
    add_people(&storage, 0, 100);
    let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
    let people: Vec<_> = txn.vertices().collect();
    for pair in people.windows(2) {
        txn.create_edge(pair[0], pair[1], storage.edge_type("KNOWS")).unwrap();
    }
    txn.commit().unwrap();
    durability.create_snapshot().unwrap();
    add_people(&storage, 100, 150);
    drop((storage, durability));

    // Act: recover, watching the progress.
    let config = config(dir.path());
    let progress = config.progress.clone();
    let _durability = reopen(config);

    // Check: the snapshot's 100 vertices and 99 edges, and the 50 records, once each.
    assert_eq!(progress.snapshot(), (199, 199));
    assert_eq!(progress.wal().0, 50);
}
