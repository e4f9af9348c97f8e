//! Three and four members in one process, each with its own directories and a real gRPC
//! server on loopback: election, every member applying what the leader proposes, a new
//! leader after the leader stops, a restarted member catching up from its own log, and a
//! late member receiving the leader's snapshot file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openraft::{Config, Raft};
use parking_lot::RwLock;
use tokio::sync::oneshot;
use weft_raft::log::LogStore;
use weft_raft::machine::{Host, StateMachine};
use weft_raft::network::{Connector, RaftService, MAX_MESSAGE};
use weft_raft::propose::Proposer;
use weft_raft::{Member, Proposal, TypeConfig};
use weft_rpc::{DatabaseId, Identity};
use weft_storage::durability::Uuid;
use weft_storage::{CommitEntry, CommitError, CommitSink, IsolationLevel, SinkTicket, Storage, Value};

const DATABASE: Uuid = Uuid::from_u128(0x5745_4654_434c_5553);
const WAIT: Duration = Duration::from_secs(20);

/// A member's storage, whose commit pipeline is the member's proposer.
struct Held {
    storage: RwLock<Storage>,
    proposer: Arc<Proposer>,
}

impl Held {
    fn new(proposer: Arc<Proposer>) -> Held {
        let storage = Storage::new();
        storage.add_commit_sink(proposer.clone());
        Held {
            storage: RwLock::new(storage),
            proposer,
        }
    }
}

impl Host for Held {
    fn storage(&self) -> Storage {
        self.storage.read().clone()
    }
    fn replace_storage(&self, storage: Storage) -> Result<(), String> {
        storage.add_commit_sink(self.proposer.clone());
        *self.storage.write() = storage;
        Ok(())
    }
}

/// Where test commit records come from: a storage whose only sink keeps each record.
struct Source {
    storage: Storage,
    records: Arc<Mutex<Vec<Arc<[u8]>>>>,
}

struct Keep(Arc<Mutex<Vec<Arc<[u8]>>>>);

impl CommitSink for Keep {
    fn name(&self) -> &str {
        "keep"
    }
    fn append(&self, entry: &CommitEntry<'_>) -> Result<SinkTicket, CommitError> {
        self.0.lock().unwrap().push(Arc::from(entry.record));
        Ok(SinkTicket::NOTHING)
    }
    fn wait(&self, _: SinkTicket) -> Result<(), CommitError> {
        Ok(())
    }
}

impl Source {
    fn new() -> Source {
        let storage = Storage::new();
        let records = Arc::default();
        storage.add_commit_sink(Arc::new(Keep(Arc::clone(&records))));
        Source { storage, records }
    }

    /// `count` one-vertex transactions; their records.
    fn commits(&self, count: i64) -> Vec<Arc<[u8]>> {
        let (label, key) = (self.storage.label("Item"), self.storage.property("n"));
        for n in 0..count {
            let mut txn = self.storage.begin(IsolationLevel::SnapshotIsolation);
            let v = txn.create_vertex().unwrap();
            txn.add_label(v, label).unwrap();
            txn.set_vertex_property(v, key, Value::Int(n)).unwrap();
            txn.commit().unwrap();
        }
        std::mem::take(&mut *self.records.lock().unwrap())
    }
}

/// One member: its Raft, its storage and its server.
struct Node {
    id: u64,
    dir: PathBuf,
    address: String,
    raft: Raft<TypeConfig>,
    host: Arc<Held>,
    stop: Option<oneshot::Sender<()>>,
}

fn config() -> Arc<Config> {
    let config = Config {
        heartbeat_interval: 50,
        election_timeout_min: 300,
        election_timeout_max: 600,
        ..Config::default()
    };
    Arc::new(config.validate().unwrap())
}

impl Node {
    /// Starts member `id` on its directory, listening on `address` (a free port if none).
    async fn start(id: u64, dir: &Path, address: Option<&str>) -> Node {
        let identity = Identity {
            database: DatabaseId(*DATABASE.as_bytes()),
            epoch: 0,
        };
        let (incoming, bound) = weft_rpc::server::bind(address.unwrap_or("127.0.0.1:0")).await.unwrap();
        let proposer = Proposer::new();
        let host = Arc::new(Held::new(proposer.clone()));
        let log = LogStore::open(&dir.join("raft"), DATABASE).unwrap();
        let machine = StateMachine::open(&dir.join("snapshots"), DATABASE, host.clone()).unwrap();
        let applied = machine.watch_applied();
        machine.set_proposer(proposer.clone());
        let connector = Connector {
            identity,
            name: format!("member {id}"),
            config: weft_rpc::client::ClientConfig::default(),
        };
        let raft = Raft::new(id, config(), connector, log, machine).await.unwrap();
        proposer.start(raft.clone(), applied);
        let (service, handles) = RaftService::new(id, format!("member {id}"), dir.join("raft-incoming"), None);
        let _ = handles.identity.set(identity);
        let _ = handles.raft.set(raft.clone());
        let server = weft_rpc::pb::raft_server::RaftServer::new(service)
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE);
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = weft_rpc::server::builder(&Default::default())
                .unwrap()
                .add_service(server)
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = stopped.await;
                })
                .await;
        });
        Node {
            id,
            dir: dir.to_path_buf(),
            address: bound.to_string(),
            raft,
            host,
            stop: Some(stop),
        }
    }

    fn member(&self) -> Member {
        Member {
            raft_address: self.address.clone(),
            bolt_address: String::new(),
        }
    }

    async fn stop(mut self) {
        self.raft.shutdown().await.unwrap();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Let the server's listener go before a restart binds the address again.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    async fn applied_at_least(&self, index: u64) {
        self.raft
            .wait(Some(WAIT))
            .applied_index_at_least(Some(index), "applied")
            .await
            .unwrap_or_else(|e| panic!("member {} did not apply {index}: {e}", self.id));
    }

    fn dump(&self) -> weft_storage::GraphDump {
        self.host.storage().dump()
    }

    /// Commits one vertex with `n` on this member's storage (on a blocking thread).
    async fn commit(&self, n: i64) -> Result<Option<u64>, weft_storage::StorageError> {
        let storage = self.host.storage();
        tokio::task::spawn_blocking(move || {
            let (label, key) = (storage.label("Item"), storage.property("n"));
            let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
            let v = txn.create_vertex()?;
            txn.add_label(v, label)?;
            txn.set_vertex_property(v, key, Value::Int(n))?;
            txn.commit()
        })
        .await
        .unwrap()
    }

    /// Commits `n` once this member takes writes (a new leader first applies its term's
    /// first entry); gives up after [`WAIT`].
    async fn commit_when_writable(&self, n: i64) -> u64 {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            match self.commit(n).await {
                Ok(ts) => return ts.unwrap(),
                Err(e) if std::time::Instant::now() < deadline && is_redirect(&e) => {
                    tokio::time::sleep(Duration::from_millis(20)).await
                }
                Err(e) => panic!("member {} refused a commit: {e}", self.id),
            }
        }
    }

    fn items(&self) -> Vec<i64> {
        let storage = self.host.storage();
        let key = storage.property("n");
        let txn = storage.begin(IsolationLevel::SnapshotIsolation);
        let mut items: Vec<i64> = txn
            .vertices()
            .filter_map(|v| match txn.vertex_property(v, key) {
                Ok(Some(Value::Int(n))) => Some(n),
                _ => None,
            })
            .collect();
        items.sort_unstable();
        items
    }
}

fn is_redirect(error: &weft_storage::StorageError) -> bool {
    matches!(error, weft_storage::StorageError::Commit(c) if matches!(c.kind, weft_storage::CommitErrorKind::Redirect { .. }))
}

/// Waits until `node` holds exactly `expected`.
async fn holds(node: &Node, expected: &[i64]) {
    let deadline = std::time::Instant::now() + WAIT;
    while node.items() != expected {
        assert!(
            std::time::Instant::now() < deadline,
            "member {} holds {} items, not {}",
            node.id,
            node.items().len(),
            expected.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn three_members(root: &Path) -> Vec<Node> {
    let mut nodes = Vec::new();
    for id in 1..=3 {
        nodes.push(Node::start(id, &root.join(format!("m{id}")), None).await);
    }
    let members: BTreeMap<u64, Member> = nodes.iter().map(|n| (n.id, n.member())).collect();
    nodes[0].raft.initialize(members).await.unwrap();
    nodes
}

/// The member all see as leader, once one is.
async fn leader(nodes: &[Node]) -> u64 {
    let metrics = nodes[0].raft.wait(Some(WAIT));
    let seen = metrics
        .metrics(
            |m| m.current_leader.is_some_and(|l| nodes.iter().any(|n| n.id == l)),
            "a leader",
        )
        .await
        .unwrap();
    seen.current_leader.unwrap()
}

/// Proposes `records` in proposals of `per` records through the leader; the last index.
async fn propose(nodes: &[Node], leader: u64, records: Vec<Arc<[u8]>>, per: usize) -> u64 {
    let node = nodes.iter().find(|n| n.id == leader).unwrap();
    let mut last = 0;
    for chunk in records.chunks(per) {
        let written = node
            .raft
            .client_write(Proposal {
                records: chunk.to_vec(),
                check: None,
            })
            .await
            .unwrap();
        last = written.log_id.index;
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_member_applies_the_leader_s_proposals_and_a_new_leader_takes_over() {
    // Set up: three members, and records of 60 commits.
    let root = tempfile::tempdir().unwrap();
    let mut nodes = three_members(root.path()).await;
    let source = Source::new();
    let first = leader(&nodes).await;

    // Act: propose the first 40 in batches of 8; stop the leader; propose the rest
    // through the new one; restart the old leader on its directory and address.
    let last = propose(&nodes, first, source.commits(40), 8).await;
    for node in &nodes {
        node.applied_at_least(last).await;
    }
    let at = nodes.iter().position(|n| n.id == first).unwrap();
    let old = nodes.remove(at);
    let (old_dir, old_address) = (old.dir.clone(), old.address.clone());
    old.stop().await;
    let second = leader(&nodes).await;
    assert_ne!(second, first, "a stopped member cannot stay leader");
    let last = propose(&nodes, second, source.commits(20), 8).await;
    nodes.push(Node::start(first, &old_dir, Some(&old_address)).await);

    // Check: every member, the restarted one included, holds exactly the source's graph.
    for node in &nodes {
        node.applied_at_least(last).await;
        assert_eq!(node.dump(), source.storage.dump(), "member {}", node.id);
    }
    for node in nodes {
        node.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_joins_after_the_log_was_purged_gets_the_leader_s_snapshot_file() {
    // Set up: three members holding 30 commits, a snapshot on the leader, its log purged.
    let root = tempfile::tempdir().unwrap();
    let mut nodes = three_members(root.path()).await;
    let source = Source::new();
    let first = leader(&nodes).await;
    let last = propose(&nodes, first, source.commits(30), 5).await;
    let boss = nodes.iter().find(|n| n.id == first).unwrap();
    boss.applied_at_least(last).await;
    boss.raft.trigger().snapshot().await.unwrap();
    boss.raft
        .wait(Some(WAIT))
        .metrics(
            |m| m.snapshot.is_some_and(|s| s.index >= last),
            "snapshot at the last write",
        )
        .await
        .unwrap();
    boss.raft.trigger().purge_log(last).await.unwrap();
    boss.raft
        .wait(Some(WAIT))
        .metrics(|m| m.purged.is_some_and(|p| p.index >= last), "the log purged")
        .await
        .unwrap();

    // Act: a fourth member starts empty and joins as a learner.
    let late = Node::start(4, &root.path().join("m4"), None).await;
    boss.raft.add_learner(4, late.member(), true).await.unwrap();
    late.applied_at_least(last).await;

    // Check: it holds the graph (from the snapshot: the entries are gone from every
    // log it could have read), and after a restart, from the snapshot it kept, too.
    assert_eq!(late.dump(), source.storage.dump());
    let installed = late.raft.metrics().borrow().snapshot;
    assert!(installed.is_some_and(|s| s.index >= last), "{installed:?}");
    assert!(late.dir.join("snapshots/snapshot.meta").exists());
    let (dir, address) = (late.dir.clone(), late.address.clone());
    late.stop().await;
    let late = Node::start(4, &dir, Some(&address)).await;
    assert_eq!(late.dump(), source.storage.dump(), "after a restart");
    nodes.push(late);
    for node in nodes {
        node.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_committed_on_the_leader_reach_every_member_and_followers_refuse_writes() {
    // Set up: three members; the first commit waits until the leader takes writes.
    let root = tempfile::tempdir().unwrap();
    let mut nodes = three_members(root.path()).await;
    let first = leader(&nodes).await;
    let boss = nodes.iter().find(|n| n.id == first).unwrap();
    boss.commit_when_writable(0).await;

    // Act: four concurrent committers on the leader, 25 commits each; one on a follower.
    let mut committers = Vec::new();
    for c in 0..4i64 {
        let storage = boss.host.storage();
        committers.push(tokio::task::spawn_blocking(move || {
            let (label, key) = (storage.label("Item"), storage.property("n"));
            for i in 0..25 {
                let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
                let v = txn.create_vertex().unwrap();
                txn.add_label(v, label).unwrap();
                txn.set_vertex_property(v, key, Value::Int(1 + c * 25 + i)).unwrap();
                txn.commit().unwrap();
            }
        }));
    }
    for committer in committers {
        committer.await.unwrap();
    }
    let follower = nodes.iter().find(|n| n.id != first).unwrap();
    let refused = follower.commit(1000).await.unwrap_err();

    // Check: the follower named the leader; every member holds the 101 commits.
    assert!(is_redirect(&refused), "{refused}");
    assert!(refused.to_string().contains(&boss.address), "{refused}");
    let expected: Vec<i64> = (0..=100).collect();
    for node in &nodes {
        holds(node, &expected).await;
    }

    // Act: the leader stops; the new one takes commits; the old one comes back.
    let at = nodes.iter().position(|n| n.id == first).unwrap();
    let old = nodes.remove(at);
    let (old_dir, old_address) = (old.dir.clone(), old.address.clone());
    old.stop().await;
    let second = leader(&nodes).await;
    let boss = nodes.iter().find(|n| n.id == second).unwrap();
    for n in 101..=120 {
        boss.commit_when_writable(n).await;
    }
    nodes.push(Node::start(first, &old_dir, Some(&old_address)).await);

    // Check: every member, the restarted one rebuilt from its log, holds all 121.
    let expected: Vec<i64> = (0..=120).collect();
    for node in &nodes {
        holds(node, &expected).await;
    }
    for node in nodes {
        node.stop().await;
    }
}
