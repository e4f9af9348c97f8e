//! Replication between real instances over loopback sockets: each instance is a durable
//! storage in its own temporary data directory with its own `Replication`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use weft_common::Value;
use weft_replication::{Host, LinkState, ReplicaMode, Replication, ReplicationConfig, RoleInfo};
use weft_rpc::client::ClientConfig;
use weft_rpc::server::ServerConfig;
use weft_rpc::{DatabaseId, Identity};
use weft_storage::durability::{Durability, DurabilityConfig};
use weft_storage::{IsolationLevel, Storage};

struct TestHost {
    durability: Arc<Durability>,
    read_only: Mutex<Option<String>>,
}

impl Host for TestHost {
    fn storage(&self) -> Storage {
        self.durability.storage()
    }
    fn set_read_only(&self, reason: Option<String>) {
        *self.read_only.lock() = reason;
    }
    fn advance_epoch(&self, at_least: u64) -> Result<u64, String> {
        self.durability.advance_epoch_to(at_least).map_err(|e| e.to_string())
    }
    fn durability(&self) -> Arc<Durability> {
        self.durability.clone()
    }
    fn install_snapshot(&self, path: &std::path::Path) -> Result<u64, String> {
        let (storage, info) = self
            .durability
            .load_received_snapshot(path)
            .map_err(|e| e.to_string())?;
        self.durability
            .install_loaded(&storage, &info)
            .map_err(|e| e.to_string())?;
        Ok(info.ts)
    }
}

struct Instance {
    host: Arc<TestHost>,
    replication: Arc<Replication>,
}

impl Instance {
    fn open(dir: &std::path::Path, name: &str) -> Instance {
        Instance::open_with(DurabilityConfig::new(dir), name)
    }

    fn open_with(config: DurabilityConfig, name: &str) -> Instance {
        let dir = config.dir.clone();
        let dir = dir.as_path();
        let durability = Durability::open(config).unwrap();
        let identity = Identity {
            database: DatabaseId(*durability.db_id().as_bytes()),
            epoch: durability.epoch(),
        };
        let host = Arc::new(TestHost {
            durability,
            read_only: Mutex::new(None),
        });
        let config = ReplicationConfig {
            data_dir: dir.to_path_buf(),
            identity,
            name: name.to_string(),
            bind_host: "127.0.0.1".into(),
            client: ClientConfig::default(),
            server: ServerConfig::default(),
        };
        let replication = Replication::start(config, host.clone()).unwrap();
        Instance { host, replication }
    }

    fn storage(&self) -> Storage {
        self.host.storage()
    }

    /// Commits one vertex with `n`; the commit's timestamp.
    fn write(&self, n: i64) -> u64 {
        let storage = self.storage();
        let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
        let v = txn.create_vertex().unwrap();
        txn.set_vertex_property(v, storage.property("n"), Value::Int(n))
            .unwrap();
        txn.commit().unwrap().expect("a write has a commit timestamp")
    }

    /// Commits one vertex for each of `values`, one transaction each.
    fn write_all(&self, values: std::ops::Range<i64>) {
        values.for_each(|n| {
            self.write(n);
        });
    }

    /// The `n` of every vertex, sorted.
    fn values(&self) -> Vec<i64> {
        let storage = self.storage();
        let txn = storage.begin(IsolationLevel::SnapshotIsolation);
        let key = storage.property("n");
        let mut values: Vec<i64> = txn
            .vertices()
            .filter_map(|v| txn.vertex_property(v, key).unwrap())
            .filter_map(|value| value.as_int())
            .collect();
        values.sort_unstable();
        values
    }

    fn become_replica(&self, port: u16) -> String {
        self.replication.set_replica(port).unwrap();
        match self.replication.role() {
            RoleInfo::Replica { address } => address.to_string(),
            RoleInfo::Main => panic!("still MAIN"),
        }
    }

    fn state_of(&self, name: &str) -> weft_replication::LinkStatus {
        let replicas = self.replication.replicas();
        replicas.into_iter().find(|r| r.name == name).expect("registered")
    }

    fn wait_for_state(&self, name: &str, state: LinkState) -> weft_replication::LinkStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let status = self.state_of(name);
            if status.state == state {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "replica `{name}` never became {state:?}: {status:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A MAIN and a REPLICA listening on a free port, each in its own directory, with the
/// replica registered as `r1` in `mode` and ready. Instances drop before their directories.
struct Pair {
    main: Instance,
    replica: Instance,
    /// Where the replica listens.
    address: String,
    main_dir: tempfile::TempDir,
    replica_dir: tempfile::TempDir,
}

fn pair(mode: ReplicaMode) -> Pair {
    let (main_dir, replica_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let main = Instance::open(main_dir.path(), "main");
    let replica = Instance::open(replica_dir.path(), "replica");
    let address = replica.become_replica(0);
    main.replication.register("r1", mode, &address).unwrap();
    main.wait_for_state("r1", LinkState::Ready);
    Pair {
        main,
        replica,
        address,
        main_dir,
        replica_dir,
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_sync_replica_holds_every_commit_before_it_is_acknowledged() {
    let set_up = pair(ReplicaMode::Sync);
    let (main, replica) = (&set_up.main, &set_up.replica);
    assert!(replica.host.read_only.lock().is_some(), "a replica refuses writes");
    for n in 0..20 {
        let ts = main.write(n);
        // SYNC: acknowledged only once the replica applied it durably.
        assert_eq!(replica.storage().last_committed(), ts);
    }
    assert_eq!(replica.values(), (0..20).collect::<Vec<_>>());
    let status = main.state_of("r1");
    assert_eq!((status.acked_ts, status.behind), (main.storage().last_committed(), 0));
    assert_eq!(status.mode.to_string(), "SYNC");
}

#[test]
fn an_async_replica_catches_up_and_a_dropped_one_stops() {
    let set_up = pair(ReplicaMode::Async);
    let (main, replica) = (&set_up.main, &set_up.replica);

    main.write_all(0..50);
    let last = main.storage().last_committed();
    wait_until("the async replica caught up", || {
        replica.storage().last_committed() == last
    });
    assert_eq!(replica.values().len(), 50);

    main.replication.drop_replica("r1").unwrap();
    assert!(main.replication.replicas().is_empty());
    main.write(99);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        replica.storage().last_committed(),
        last,
        "a dropped replica still got records"
    );
    assert!(main.replication.drop_replica("r1").is_err());
}

#[test]
fn roles_and_replicas_survive_a_restart() {
    let (main_dir, replica_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let port = {
        let replica = Instance::open(replica_dir.path(), "replica");
        let address = replica.become_replica(0);
        let port: u16 = address.rsplit_once(':').unwrap().1.parse().unwrap();
        // Bound again at this port on restart: let it go first.
        drop(replica);
        port
    };
    {
        let main = Instance::open(main_dir.path(), "main");
        main.replication
            .register(
                "r1",
                ReplicaMode::SyncWithTimeout { millis: 3000 },
                &format!("127.0.0.1:{port}"),
            )
            .unwrap();
    }
    let replica = Instance::open(replica_dir.path(), "replica");
    assert!(matches!(replica.replication.role(), RoleInfo::Replica { address } if address.port() == port));
    assert!(replica.host.read_only.lock().is_some());
    let main = Instance::open(main_dir.path(), "main");
    let status = main.state_of("r1");
    assert_eq!(status.mode, ReplicaMode::SyncWithTimeout { millis: 3000 });
    main.wait_for_state("r1", LinkState::Ready);
    let ts = main.write(7);
    assert_eq!(replica.storage().last_committed(), ts);
}

#[test]
fn a_replica_with_commits_main_never_had_is_diverged_and_left_alone() {
    let Pair {
        main,
        replica,
        address,
        main_dir: _main_dir,
        replica_dir: _replica_dir,
    } = pair(ReplicaMode::Sync);
    let port = address.rsplit_once(':').unwrap().1.parse().unwrap();
    main.write_all(0..3);

    // The replica is promoted, takes two commits of its own, and goes back to REPLICA.
    replica.replication.set_main().unwrap();
    assert!(replica.host.read_only.lock().is_none());
    replica.write(100);
    let held = replica.write(101);
    replica.become_replica(port);

    let status = main.wait_for_state("r1", LinkState::Diverged);
    assert!(status.last_error.unwrap().contains("diverged"));
    main.write(3);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        replica.storage().last_committed(),
        held,
        "a diverged replica was written to"
    );
}

#[test]
fn a_replica_with_data_of_another_database_is_refused() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let main = Instance::open(dirs[0].path(), "main");
    // A replica that already holds data of its own database.
    let other = Instance::open(dirs[1].path(), "other");
    other.write(1);
    let other_address = other.become_replica(0);
    main.replication
        .register("other", ReplicaMode::Async, &other_address)
        .unwrap();
    let status = main.wait_for_state("other", LinkState::Unreachable);
    wait_until("the refusal is reported", || {
        main.state_of("other")
            .last_error
            .is_some_and(|e| e.contains("holds data of database"))
    });
    drop(status);
}

#[test]
fn commands_that_do_not_fit_the_role_are_refused() {
    let (main_dir, replica_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let main = Instance::open(main_dir.path(), "main");
    let replica = Instance::open(replica_dir.path(), "replica");
    let address = replica.become_replica(0);

    assert!(main.replication.register("bad", ReplicaMode::Async, "no-port").is_err());
    main.replication.register("r1", ReplicaMode::Async, &address).unwrap();
    let twice = main
        .replication
        .register("r2", ReplicaMode::Async, &address)
        .unwrap_err();
    assert!(twice.to_string().contains("already registered"), "{twice}");
    let busy = main.replication.set_replica(0).unwrap_err();
    assert!(busy.to_string().contains("DROP REPLICA"), "{busy}");
    let on_replica = replica
        .replication
        .register("x", ReplicaMode::Async, "127.0.0.1:1")
        .unwrap_err();
    assert!(on_replica.to_string().contains("only a MAIN"), "{on_replica}");
    assert!(replica.replication.set_replica(0).is_err());
}

#[test]
fn a_replica_that_was_down_catches_up_from_the_queue_and_is_ready_again() {
    let Pair {
        main,
        replica,
        replica_dir,
        main_dir: _main_dir,
        ..
    } = pair(ReplicaMode::Sync);
    main.write(0);

    drop(replica);
    main.wait_for_state("r1", LinkState::Unreachable);
    // Commits go on without the SYNC replica, and wait for it in the queue.
    let mut last = 0;
    for n in 1..=5 {
        last = main.write(n);
    }
    assert_eq!(main.state_of("r1").behind, 5);

    let replica = Instance::open(replica_dir.path(), "replica");
    main.wait_for_state("r1", LinkState::Ready);
    assert_eq!(replica.storage().last_committed(), last);
    assert_eq!(replica.values(), (0..=5).collect::<Vec<_>>());
}

/// A MAIN whose WAL rotates every 4 KiB and keeps `retention` snapshots.
fn small_files(dir: &std::path::Path, retention: usize) -> DurabilityConfig {
    DurabilityConfig {
        wal_segment_size: 4 << 10,
        snapshot_retention: retention,
        ..DurabilityConfig::new(dir)
    }
}

/// Registers a fresh replica (in `dir`) as `name` while `writer_commits` more commits
/// arrive on MAIN, and waits until it is ready and holds what MAIN holds.
fn register_late(
    main: &Instance,
    dir: &std::path::Path,
    name: &str,
    mode: ReplicaMode,
    writer_commits: i64,
) -> Instance {
    let late = Instance::open(dir, name);
    let address = late.become_replica(0);
    main.replication.register(name, mode, &address).unwrap();
    (0..writer_commits).for_each(|n| {
        main.write(10_000 + n);
    });
    main.wait_for_state(name, LinkState::Ready);
    let last = main.storage().last_committed();
    wait_until("the late replica holds every commit", || {
        late.storage().last_committed() == last
    });
    assert_eq!(late.values(), main.values());
    late
}

#[test]
fn a_replica_registered_after_commits_catches_up_from_the_wal_while_writes_go_on() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let main = Instance::open_with(small_files(dirs[0].path(), 3), "main");
    main.write_all(0..500);
    let late = register_late(&main, dirs[1].path(), "late", ReplicaMode::Sync, 50);
    // The WAL path: nothing was installed, so the replica took no snapshot.
    assert!(late.host.durability.snapshots().unwrap().is_empty());
    // Live again: a SYNC commit is held by the replica when acknowledged.
    let ts = main.write(-1);
    assert_eq!(late.storage().last_committed(), ts);
}

#[test]
fn a_replica_whose_missing_commits_were_purged_gets_a_snapshot_then_the_wal() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let main = Instance::open_with(small_files(dirs[0].path(), 1), "main");
    main.write_all(0..300);
    main.host.durability.create_snapshot().unwrap();
    main.write_all(300..400);
    let snapshot = main.host.durability.create_snapshot().unwrap();
    main.write_all(400..420);
    assert!(
        main.host.durability.wal_after(0).unwrap().is_none(),
        "retention must have purged the start of the WAL"
    );
    let late = register_late(&main, dirs[1].path(), "late", ReplicaMode::Async, 30);
    // Installed as the replica's own snapshot, then the records after it were applied.
    let installed = late.host.durability.snapshots().unwrap();
    assert_eq!(installed.iter().map(|s| s.ts).collect::<Vec<_>>(), [snapshot.ts]);
    assert!(
        !late
            .host
            .durability
            .data_dir()
            .join(weft_replication::INCOMING_DIR)
            .read_dir()
            .unwrap()
            .any(|_| true),
        "the received copy of the snapshot stays behind"
    );
    // The replica's own files recover what it holds.
    let values = late.values();
    drop(late);
    let reopened = Instance::open(dirs[1].path(), "late");
    assert_eq!(reopened.values(), values);
}

#[test]
fn a_hole_in_mains_wal_is_never_skipped_a_snapshot_past_it_is_sent_instead() {
    // Set up: MAIN's WAL of small segments, one from the middle gone (no snapshot yet).
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let main = Instance::open_with(small_files(dirs[0].path(), 3), "main");
    main.write_all(0..500);
    let durability = &main.host.durability;
    let segments =
        weft_storage::durability::list_segments(&durability.data_dir().join("wal"), durability.db_id()).unwrap();
    assert!(segments.len() >= 4, "small segments rotate: {}", segments.len());
    std::fs::remove_file(&segments[1].path).unwrap();

    // Act: a fresh replica registers; reading the WAL from the start meets the hole.
    let late = register_late(&main, dirs[1].path(), "late", ReplicaMode::Async, 20);

    // Check: it holds every commit MAIN has (register_late compares), which it got from
    // a snapshot past the hole, not from the records either side of it.
    let installed = late.host.durability.snapshots().unwrap();
    assert!(
        installed.iter().any(|s| s.ts + 1 >= segments[2].from_ts),
        "no snapshot past the hole was installed: {installed:?}"
    );
}

/// A MAIN `a` with a SYNC replica `b` holding its 10 commits; `b` then loses `a`.
fn failover_pair(dirs: &[tempfile::TempDir]) -> (Instance, Instance) {
    let a = Instance::open(dirs[0].path(), "a");
    let b = Instance::open(dirs[1].path(), "b");
    let b_address = b.become_replica(0);
    a.replication.register("b", ReplicaMode::Sync, &b_address).unwrap();
    a.wait_for_state("b", LinkState::Ready);
    a.write_all(0..10);
    a.replication.drop_replica("b").unwrap();
    (a, b)
}

#[test]
fn an_old_main_returns_as_a_replica_of_the_promoted_one_and_catches_up() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let (a, b) = failover_pair(&dirs);
    b.replication.set_main().unwrap();
    b.write_all(100..120);
    let a_address = a.become_replica(0);
    b.replication.register("a", ReplicaMode::Sync, &a_address).unwrap();
    b.wait_for_state("a", LinkState::Ready);
    assert_eq!(a.values(), b.values());
    let ts = b.write(200);
    assert_eq!(a.storage().last_committed(), ts, "SYNC again once caught up");

    // The history it adopted survives a restart: it is still seen to follow `b`.
    b.replication.drop_replica("a").unwrap();
    drop(a);
    let a = Instance::open(dirs[0].path(), "a");
    let RoleInfo::Replica { address } = a.replication.role() else {
        panic!("the role was lost");
    };
    b.replication
        .register("a", ReplicaMode::Sync, &address.to_string())
        .unwrap();
    b.wait_for_state("a", LinkState::Ready);
}

#[test]
fn an_old_main_with_commits_the_promoted_one_lacks_is_diverged_though_it_is_behind_in_count() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let (a, b) = failover_pair(&dirs);
    // `a` commits what `b` never gets; `b` is promoted and commits more than `a` ever had.
    a.write_all(10..13);
    b.replication.set_main().unwrap();
    b.write_all(100..130);
    let held = a.storage().last_committed();
    assert!(held < b.storage().last_committed());
    let a_address = a.become_replica(0);
    b.replication.register("a", ReplicaMode::Sync, &a_address).unwrap();
    let status = b.wait_for_state("a", LinkState::Diverged);
    let why = status.last_error.unwrap();
    assert!(why.contains("commits MAIN never had") && why.contains("wipe"), "{why}");
    b.write(300);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(a.storage().last_committed(), held, "a diverged replica was written to");
}

#[test]
fn a_strict_sync_replica_prepares_every_commit_and_one_that_is_gone_aborts_commits() {
    let set_up = pair(ReplicaMode::StrictSync);
    let (main, replica) = (&set_up.main, &set_up.replica);
    let mut last = 0;
    for n in 0..10 {
        last = main.write(n);
        // Applied there before the commit is acknowledged here.
        assert_eq!(replica.storage().last_committed(), last);
    }
    // The newest record was prepared durably before it was committed.
    let prepared = std::fs::read(set_up.replica_dir.path().join(weft_replication::PREPARED_FILE)).unwrap();
    assert_eq!(u64::from_le_bytes(prepared[..8].try_into().unwrap()), last);

    // The replica goes away: a commit is refused with the replica named, nothing of it stays.
    replica.replication.shutdown();
    main.wait_for_state("r1", LinkState::Unreachable);
    let values = main.values();
    let storage = main.storage();
    let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
    let v = txn.create_vertex().unwrap();
    txn.set_vertex_property(v, storage.property("n"), Value::Int(-1))
        .unwrap();
    let error = txn
        .commit()
        .expect_err("a commit went through without its STRICT_SYNC replica");
    let message = error.to_string();
    assert!(
        message.contains("STRICT_SYNC replica `r1`") && message.contains("aborted"),
        "{message}"
    );
    assert_eq!(main.values(), values, "the aborted commit left data behind");
    assert_eq!(main.storage().last_committed(), last);
    // Not in MAIN's WAL either: a restart recovers exactly the committed values.
    let Pair { main, main_dir, .. } = set_up;
    drop(main);
    let reopened = Instance::open(main_dir.path(), "main");
    assert_eq!(reopened.values(), values);
}

#[test]
fn a_replica_that_installed_a_snapshot_can_be_promoted_and_catch_up_another_one() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let main = Instance::open_with(small_files(dirs[0].path(), 1), "main");
    main.write_all(0..200);
    main.host.durability.create_snapshot().unwrap();
    main.write_all(200..260);
    main.host.durability.create_snapshot().unwrap();
    // Nothing after the snapshot: the install alone brings it up to date.
    let first = register_late(&main, dirs[1].path(), "first", ReplicaMode::Sync, 0);
    assert_eq!(
        first.host.durability.snapshots().unwrap().len(),
        1,
        "the install is its only history"
    );
    main.write_all(260..280);
    wait_until("the first replica follows", || {
        first.storage().last_committed() == main.storage().last_committed()
    });

    // The first replica becomes MAIN: its files (installed snapshot, then the WAL after it)
    // bring a fresh replica up to date, with nothing missing in between.
    main.replication.drop_replica("first").unwrap();
    first.replication.set_main().unwrap();
    first.write_all(280..300);
    let second = register_late(&first, dirs[2].path(), "second", ReplicaMode::Sync, 10);
    assert_eq!(second.values().len(), 310);
}

#[test]
fn a_commit_a_sync_replica_missed_stands_with_a_warning_naming_it() {
    let set_up = pair(ReplicaMode::Sync);
    let (main, replica) = (&set_up.main, &set_up.replica);
    main.write(1);
    replica.replication.shutdown();
    main.wait_for_state("r1", LinkState::Unreachable);
    let storage = main.storage();
    let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
    txn.create_vertex().unwrap();
    let (ts, warning) = txn.commit_warned().unwrap();
    assert_eq!(ts, Some(main.storage().last_committed()), "the commit stands");
    let warning = warning.expect("the client is warned");
    assert_eq!(warning.kind, weft_storage::CommitErrorKind::Degraded);
    assert!(warning.message.contains("SYNC replica `r1`"), "{}", warning.message);
}
