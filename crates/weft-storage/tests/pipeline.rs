//! The commit pipeline: records reach every sink in timestamp order and sink order, a
//! commit is visible to new snapshots only once every sink holds its record, a refusal
//! leaves no trace in any sink, a fatal failure stops all further writes, and applied
//! records travel with their received bytes and origin.

mod sinks;

use sinks::RecordingSink;
use std::thread;
use weft_storage::{CommitErrorKind, ErrorKind, IsolationLevel, Origin, Storage, StorageError, Value};

fn create_vertex(storage: &Storage) -> Result<Option<u64>, StorageError> {
    let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
    let v = txn.create_vertex()?;
    txn.set_vertex_property(v, storage.property("k"), Value::Int(1))?;
    txn.commit()
}

fn visible_vertices(storage: &Storage, isolation: IsolationLevel) -> usize {
    storage.begin(isolation).vertices().count()
}

#[test]
fn a_commit_is_visible_to_new_snapshots_only_once_every_sink_holds_it() {
    let storage = Storage::new();
    let log = RecordingSink::gated("log");
    log.attach(&storage);
    let committer = {
        let storage = storage.clone();
        thread::spawn(move || create_vertex(&storage))
    };
    while log.received().is_empty() {
        thread::yield_now();
    }
    // Appended but not held: snapshots do not see it, read committed does.
    assert_eq!(visible_vertices(&storage, IsolationLevel::SnapshotIsolation), 0);
    assert_eq!(visible_vertices(&storage, IsolationLevel::ReadCommitted), 1);
    assert_eq!(storage.last_committed(), 0);
    log.release();
    assert_eq!(committer.join().unwrap(), Ok(Some(1)));
    assert_eq!(visible_vertices(&storage, IsolationLevel::SnapshotIsolation), 1);
    assert_eq!(storage.last_committed(), 1);
    assert_eq!(storage.active_transactions(), 0);
}

#[test]
fn committers_and_schema_changes_waiting_on_a_sink_do_not_block_each_other() {
    let storage = Storage::new();
    let log = RecordingSink::gated("log");
    log.attach(&storage);
    let mut committers: Vec<_> = (0..7)
        .map(|_| {
            let storage = storage.clone();
            thread::spawn(move || create_vertex(&storage))
        })
        .collect();
    committers.push({
        let storage = storage.clone();
        thread::spawn(move || storage.create_label_index("Person").map(Some))
    });
    // All eight append while none is held: the commit lock is not held while waiting.
    while log.received().len() < 8 {
        thread::yield_now();
    }
    log.release();
    let mut stamps: Vec<u64> = committers
        .into_iter()
        .map(|c| c.join().unwrap().unwrap().unwrap())
        .collect();
    stamps.sort_unstable();
    assert_eq!(stamps, (1..=8).collect::<Vec<_>>());
    assert_eq!(
        log.timestamps(),
        (1..=8).collect::<Vec<_>>(),
        "appends in timestamp order"
    );
    assert_eq!(visible_vertices(&storage, IsolationLevel::SnapshotIsolation), 7);
    assert_eq!(storage.index_info().len(), 1);
}

#[test]
fn a_fatal_wait_refuses_the_commit_and_every_later_write() {
    let storage = Storage::new();
    let log = RecordingSink::new("log");
    log.fail_waits(Some(CommitErrorKind::Fatal));
    log.attach(&storage);
    let error = create_vertex(&storage).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Fatal);
    assert!(error.to_string().contains("disk full"), "{error}");
    assert!(error.to_string().contains("restart"), "{error}");
    log.fail_waits(None);
    let error = create_vertex(&storage).unwrap_err();
    assert!(matches!(&error, StorageError::Commit(e) if e.is_fatal()), "{error}");
    assert_eq!(visible_vertices(&storage, IsolationLevel::SnapshotIsolation), 0);
    assert!(storage.create_label_index("L").is_err(), "DDL is refused as well");
    assert!(storage.index_info().is_empty());
    assert_eq!(storage.active_transactions(), 0);
    assert!(storage.commit_failure().is_some());
}

#[test]
fn a_failed_schema_change_wait_puts_the_schema_back() {
    let storage = Storage::new();
    let log = RecordingSink::new("log");
    log.fail_waits(Some(CommitErrorKind::Fatal));
    log.attach(&storage);
    assert!(storage.create_label_index("Person").is_err());
    assert!(
        storage.index_info().is_empty(),
        "the index is not durable, so it is gone"
    );
}

#[test]
fn a_non_fatal_wait_error_reaches_the_committer_but_the_commit_stands() {
    let storage = Storage::new();
    let (wal, replica) = (RecordingSink::new("wal"), RecordingSink::new("replica"));
    wal.attach(&storage);
    replica.attach(&storage);
    replica.fail_waits(Some(CommitErrorKind::Retryable));
    let error = create_vertex(&storage).unwrap_err();
    assert!(matches!(error, StorageError::NotConfirmed(_)), "{error}");
    assert!(!error.is_retryable(), "a commit that stands must not be run again");
    assert!(error.to_string().contains("committed on this instance"), "{error}");
    assert_eq!(visible_vertices(&storage, IsolationLevel::SnapshotIsolation), 1);
    replica.fail_waits(None);
    assert_eq!(create_vertex(&storage), Ok(Some(2)), "the pipeline goes on");
}

#[test]
fn sinks_see_records_in_list_order_and_a_refusal_is_taken_back_from_earlier_sinks() {
    let storage = Storage::new();
    let (wal, replica) = (RecordingSink::new("wal"), RecordingSink::new("replica"));
    wal.attach(&storage);
    replica.attach(&storage);
    assert_eq!(storage.commit_sinks(), vec!["wal", "replica"]);
    create_vertex(&storage).unwrap();
    replica.refuse_next(true);
    let error = create_vertex(&storage).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Retryable, "{error}");
    assert_eq!(wal.timestamps(), vec![1], "the WAL gave the refused record back");
    assert_eq!(replica.timestamps(), vec![1]);
    assert_eq!(visible_vertices(&storage, IsolationLevel::ReadUncommitted), 1, "undone");
    assert_eq!(create_vertex(&storage), Ok(Some(2)), "timestamps go on without a gap");
    assert!(storage.remove_commit_sink("replica"));
    create_vertex(&storage).unwrap();
    assert_eq!(wal.timestamps(), vec![1, 2, 3]);
    assert_eq!(replica.timestamps(), vec![1, 2]);
}

#[test]
fn a_sink_that_cannot_take_a_record_back_stops_the_pipeline() {
    let storage = Storage::new();
    let (wal, replica) = (RecordingSink::without_revoke("wal"), RecordingSink::new("replica"));
    wal.attach(&storage);
    replica.attach(&storage);
    replica.refuse_next(true);
    let error = create_vertex(&storage).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Fatal, "{error}");
    assert!(
        create_vertex(&storage).is_err(),
        "no write after a record that cannot be taken back"
    );
}

#[test]
fn an_applied_record_travels_with_its_bytes_and_origin() {
    let main = Storage::new();
    let shipped = RecordingSink::new("to replica");
    shipped.attach(&main);
    main.create_label_index("Person").unwrap();
    create_vertex(&main).unwrap();

    let replica = Storage::new();
    let wal = RecordingSink::new("wal");
    wal.attach(&replica);
    for record in shipped.received() {
        assert_eq!(record.origin, Origin::Local);
        let ts = replica.apply(&record.record, Origin::Applied { epoch: 7 }).unwrap();
        assert_eq!(ts, record.ts);
    }
    let logged = wal.received();
    assert_eq!(logged.len(), 2);
    for (got, sent) in logged.iter().zip(shipped.received()) {
        assert_eq!(got.record, sent.record, "the received bytes are logged, not re-encoded");
        assert_eq!(got.origin, Origin::Applied { epoch: 7 });
    }
    assert_eq!(replica.dump(), main.dump());
    assert_eq!(replica.index_info(), main.index_info());
}

#[test]
fn the_wal_gives_back_a_record_a_later_sink_refused_and_recovery_never_sees_it() {
    use weft_storage::durability::{Durability, DurabilityConfig};
    let dir = tempfile::tempdir().unwrap();
    let durability = Durability::open(DurabilityConfig::new(dir.path())).unwrap();
    let storage = durability.storage().clone();
    let replica = RecordingSink::new("replica");
    replica.attach(&storage);
    assert_eq!(storage.commit_sinks(), vec!["wal", "replica"]);
    create_vertex(&storage).unwrap();
    replica.refuse_next(true);
    assert_eq!(create_vertex(&storage).unwrap_err().kind(), ErrorKind::Retryable);
    assert_eq!(
        create_vertex(&storage),
        Ok(Some(2)),
        "the refused commit left no timestamp behind"
    );
    drop((storage, durability));

    let recovered = Durability::open(DurabilityConfig::new(dir.path())).unwrap();
    assert_eq!(recovered.recovery().wal_records, 2);
    let storage = recovered.storage();
    assert_eq!(visible_vertices(&storage, IsolationLevel::SnapshotIsolation), 2);
}

#[test]
fn a_refused_commit_s_record_never_reaches_the_wal_even_when_another_committer_writes_meanwhile() {
    use weft_storage::durability::{Durability, DurabilityConfig};
    use weft_storage::{CommitEntry, CommitError, CommitSink, SinkTicket};

    /// Lets a batch run (syncs the WAL) before refusing the first commit at timestamp 2.
    struct SyncThenRefuse(std::sync::Arc<Durability>, std::sync::atomic::AtomicBool);
    impl CommitSink for SyncThenRefuse {
        fn name(&self) -> &str {
            "replica"
        }
        fn append(&self, entry: &CommitEntry<'_>) -> Result<SinkTicket, CommitError> {
            if entry.ts == 2 && !self.1.swap(true, std::sync::atomic::Ordering::SeqCst) {
                self.0.sync().unwrap();
                return Err(CommitError::new(CommitErrorKind::Retryable, "replica", "not now"));
            }
            Ok(SinkTicket::NOTHING)
        }
        fn wait(&self, _: SinkTicket) -> Result<(), CommitError> {
            Ok(())
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let durability = Durability::open(DurabilityConfig::new(dir.path())).unwrap();
    let storage = durability.storage();
    let refuser = SyncThenRefuse(durability.clone(), std::sync::atomic::AtomicBool::new(false));
    storage.add_commit_sink(std::sync::Arc::new(refuser));
    create_vertex(&storage).unwrap();
    assert_eq!(create_vertex(&storage).unwrap_err().kind(), ErrorKind::Retryable);
    assert_eq!(create_vertex(&storage), Ok(Some(2)));
    // The sink holds the durability, which holds the storage: part them to close it.
    assert!(storage.remove_commit_sink("replica"));
    drop((storage, durability));

    let recovered = Durability::open(DurabilityConfig::new(dir.path())).unwrap();
    assert_eq!(recovered.recovery().wal_records, 2);
    assert_eq!(
        visible_vertices(&recovered.storage(), IsolationLevel::SnapshotIsolation),
        2
    );
}

#[test]
fn a_group_cut_short_by_a_panic_still_publishes_what_it_staged() {
    use weft_storage::record::CommitRecord;
    use weft_storage::{CommitEntry, CommitError, CommitSink, SinkTicket};

    /// Panics when handed the record at timestamp 2, as a broken sink would.
    struct PanicsAtTwo;
    impl CommitSink for PanicsAtTwo {
        fn name(&self) -> &str {
            "broken"
        }
        fn append(&self, entry: &CommitEntry<'_>) -> Result<SinkTicket, CommitError> {
            assert_ne!(entry.ts, 2, "the sink broke");
            Ok(SinkTicket::NOTHING)
        }
        fn wait(&self, _: SinkTicket) -> Result<(), CommitError> {
            Ok(())
        }
    }

    // Set up: three records from a leader; a member whose sink panics on the second.
    let leader = Storage::new();
    let log = RecordingSink::new("log");
    log.attach(&leader);
    for _ in 0..3 {
        create_vertex(&leader).unwrap();
    }
    let records = log.received();
    let member = Storage::new();
    member.add_commit_sink(std::sync::Arc::new(PanicsAtTwo));

    // Act: apply the three as one group; the panic unwinds out of it.
    let applying = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let group = records
            .iter()
            .map(|r| (CommitRecord::decode(&r.record).unwrap(), r.record.as_slice()));
        member.apply_group(group, Origin::Applied { epoch: 1 })
    }));

    // Check: the first record, staged before the panic, is published and its transaction
    // finished (nothing pins the garbage collector); the member goes on committing.
    assert!(applying.is_err());
    assert_eq!(member.last_committed(), 1);
    assert_eq!(visible_vertices(&member, IsolationLevel::SnapshotIsolation), 1);
    assert_eq!(member.active_transactions(), 0);
    assert!(member.remove_commit_sink("broken"));
    assert_eq!(create_vertex(&member), Ok(Some(2)));
}

#[test]
fn a_write_the_pipeline_would_refuse_takes_nothing_that_an_applied_record_needs() {
    let leader = Storage::new();
    let shipped = RecordingSink::new("to follower");
    shipped.attach(&leader);
    let follower = Storage::new();
    follower.add_commit_sink(sinks::Member::follower());

    // A local write on the follower, begun before the leader's record arrives, is refused
    // at its first change; it held no vertex id when the record takes the same one.
    let mut local = follower.begin(IsolationLevel::SnapshotIsolation);
    match local.create_vertex() {
        Err(StorageError::Commit(e)) => assert!(matches!(e.kind, CommitErrorKind::Redirect { .. }), "{e}"),
        other => panic!("a follower's write went ahead: {other:?}"),
    }
    create_vertex(&leader).unwrap();
    for record in shipped.received() {
        follower.apply(&record.record, Origin::Applied { epoch: 1 }).unwrap();
    }
    drop(local);

    assert_eq!(follower.dump(), leader.dump());
    assert!(matches!(create_vertex(&follower), Err(StorageError::Commit(_))));
    assert_eq!(visible_vertices(&follower, IsolationLevel::SnapshotIsolation), 1);
}
