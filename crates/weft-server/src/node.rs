//! The composition root: one Weft instance as the server runs it.
//!
//! Owns: building the instance from its configuration (recover the data directory, plug
//! the WAL into the commit pipeline, start the snapshot, sync and garbage-collection
//! workers, start replication in the role kept in the data directory), the engine every
//! connection queries, the instance's [`Role`], and the admin commands the server's layers
//! register with the engine (durability's and replication's; the Raft layer's later).
//! Promises: [`Node::close`] stops replication and the workers, then takes the final
//! snapshot if asked and syncs the WAL.
//!
//! Clones share one instance.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use parking_lot::{Mutex, RwLock};
use weft_query::Engine;
use weft_replication::{Replication, ReplicationConfig, RoleInfo};
use weft_rpc::{ClusterTls, DatabaseId, Identity};
use weft_storage::durability::{BackgroundWorker, Durability, DurabilityConfig};
use weft_storage::{GcWorker, Storage};

use crate::role::Role;

/// One Bolt request being answered; see [`Node::answering`].
pub struct InFlight(Arc<AtomicU64>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How often garbage collection runs.
const GC_INTERVAL: Duration = Duration::from_secs(1);

/// Starts `storage`'s garbage collector, which also hands freed memory back to the OS
/// when writes go quiet ([`crate::memory`]).
pub(crate) fn start_gc(storage: &Storage) -> GcWorker {
    let mut release = crate::memory::Release::new();
    storage.start_gc_with(GC_INTERVAL, move |stats| release.after_pass(stats))
}

/// What an instance is built from (the `weft serve` flags that are not about sockets).
#[derive(Clone, Debug, Default)]
pub struct NodeConfig {
    /// The data directory and WAL settings; `None` keeps everything in memory.
    pub durability: Option<DurabilityConfig>,
    /// Take a snapshot this often (when durable).
    pub snapshot_interval: Option<Duration>,
    /// Stop statements that run longer.
    pub query_timeout: Option<Duration>,
    /// How this instance meets other Weft instances (replication, Raft).
    pub cluster: ClusterSettings,
    /// Raft membership flags; a data directory that holds a member is one without them.
    pub raft: Option<crate::raft::RaftSettings>,
}

/// The node-to-node settings of an instance.
#[derive(Clone, Debug)]
pub struct ClusterSettings {
    /// How the instance names itself to peers (its Bolt address).
    pub name: String,
    /// The host a REPLICA's replication server listens on.
    pub replication_host: String,
    /// Mutual TLS between nodes (`--cluster-cert`, `--cluster-key`, `--cluster-ca`).
    pub tls: Option<Arc<ClusterTls>>,
    /// How often a Raft leader checks the members' fingerprints.
    pub fingerprint_every: std::time::Duration,
}

impl ClusterSettings {
    /// How this instance calls other instances (mutual TLS when configured).
    pub fn client_config(&self) -> weft_rpc::client::ClientConfig {
        weft_rpc::client::ClientConfig {
            tls: self.tls.clone(),
            ..Default::default()
        }
    }

    /// How this instance serves other instances.
    pub fn server_config(&self) -> weft_rpc::server::ServerConfig {
        weft_rpc::server::ServerConfig { tls: self.tls.clone() }
    }
}

impl Default for ClusterSettings {
    fn default() -> ClusterSettings {
        ClusterSettings {
            name: "weft".into(),
            replication_host: "127.0.0.1".into(),
            tls: None,
            fingerprint_every: weft_raft::check::CheckSettings::default().every,
        }
    }
}

/// One running instance; clones share it.
#[derive(Clone)]
pub struct Node {
    inner: Arc<Inner>,
}

/// A [`Node`] that may have been dropped.
#[derive(Clone)]
pub struct WeakNode(std::sync::Weak<Inner>);

impl WeakNode {
    /// The instance, while it exists.
    pub fn upgrade(&self) -> Option<Node> {
        self.0.upgrade().map(|inner| Node { inner })
    }
}

struct Inner {
    engine: Engine,
    durability: Option<Arc<Durability>>,
    replication: Option<Arc<Replication>>,
    /// Set when the instance is a member of a Raft cluster (then it has no replication).
    raft: Option<Arc<crate::raft::RaftMember>>,
    role: RwLock<Role>,
    /// Stopped (dropped) by `close`, before the final snapshot; shared with replication's
    /// host, whose snapshot installs move garbage collection to the new storage.
    workers: Arc<Mutex<Workers>>,
    /// Bolt requests being answered now (`SHOW CLUSTER`'s in-flight queries).
    in_flight: Arc<AtomicU64>,
}

#[derive(Default)]
struct Workers {
    background: Option<BackgroundWorker>,
    gc: Option<GcWorker>,
}

impl Node {
    /// Opens an instance: recovers its data directory if it has one, then starts its
    /// workers. A standalone instance until a role change.
    pub fn open(config: NodeConfig) -> anyhow::Result<Node> {
        let Some(durability_config) = config.durability.clone() else {
            let engine = Engine::new().with_query_timeout(config.query_timeout);
            return Ok(Node::assemble(engine, None, None, true, Arc::default()));
        };
        let dir = durability_config.dir.clone();
        if config.raft.is_some() || weft_raft::node::is_member(&crate::raft::raft_dir(&dir)) {
            return Node::open_raft(&config, &dir);
        }
        let durability = Durability::open(durability_config)
            .with_context(|| format!("cannot open the data directory {}", dir.display()))?;
        let background = durability.start_background(config.snapshot_interval);
        let engine = Engine::with_storage(durability.storage().clone()).with_query_timeout(config.query_timeout);
        let workers: Arc<Mutex<Workers>> = Arc::default();
        workers.lock().background = Some(background);
        let replication = start_replication(&config.cluster, &engine, &durability, &workers)?;
        let node = Node::assemble(engine, Some(durability), Some(replication), true, workers);
        Ok(node)
    }

    /// A member of a Raft cluster on `dir`: the Raft log is its write-ahead log and its
    /// snapshots are the state machine's, so it opens no durability of its own.
    fn open_raft(config: &NodeConfig, dir: &std::path::Path) -> anyhow::Result<Node> {
        let settings = config.raft.clone().unwrap_or_default();
        let in_flight = Arc::new(AtomicU64::new(0));
        let (engine, member) = crate::raft::start(
            dir,
            &settings,
            &config.cluster.name,
            &config.cluster,
            config.query_timeout,
            in_flight.clone(),
        )?;
        crate::admin::register(&engine, None, None);
        crate::admin::raft::register(&engine, &member, &in_flight);
        let node = Node {
            inner: Arc::new(Inner {
                engine,
                durability: None,
                replication: None,
                raft: Some(member),
                role: RwLock::new(Role::RaftMember),
                workers: Arc::default(),
                in_flight,
            }),
        };
        crate::admin::routing::register(node.downgrade());
        Ok(node)
    }

    /// An in-memory instance around `engine` (tests, embedding); no workers run.
    pub fn in_memory(engine: Engine) -> Node {
        Node::assemble(engine, None, None, false, Arc::default())
    }

    fn assemble(
        engine: Engine,
        durability: Option<Arc<Durability>>,
        replication: Option<Arc<Replication>>,
        collect_garbage: bool,
        workers: Arc<Mutex<Workers>>,
    ) -> Node {
        crate::admin::register(&engine, durability.clone(), replication.clone());
        if collect_garbage {
            workers.lock().gc = Some(start_gc(&engine.storage()));
        }
        let node = Node {
            inner: Arc::new(Inner {
                engine,
                durability,
                replication,
                raft: None,
                role: RwLock::new(Role::Standalone),
                workers,
                in_flight: Arc::default(),
            }),
        };
        crate::admin::routing::register(node.downgrade());
        node
    }

    /// A handle that does not keep the instance alive (for what the engine holds, such
    /// as procedures, which would otherwise keep it from ever being dropped).
    pub fn downgrade(&self) -> WeakNode {
        WeakNode(Arc::downgrade(&self.inner))
    }

    /// Counts a Bolt request as being answered until the guard drops.
    pub fn answering(&self) -> InFlight {
        self.inner.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.inner.in_flight.clone())
    }

    /// The engine every connection queries.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The instance's durability, when it has a data directory.
    pub fn durability(&self) -> Option<&Arc<Durability>> {
        self.inner.durability.as_ref()
    }

    /// The instance's role: MAIN or REPLICA when it has a data directory (replication
    /// keeps the role there), standalone in memory.
    pub fn role(&self) -> Role {
        match self.inner.replication.as_ref().map(|r| r.role()) {
            Some(RoleInfo::Main) => Role::Main,
            Some(RoleInfo::Replica { .. }) => Role::Replica,
            None => self.inner.role.read().clone(),
        }
    }

    /// The routing table a driver's ROUTE gets: a Raft member's lists the cluster's
    /// members, any other instance routes every role to itself.
    pub fn route(
        &self,
        routing: &weft_bolt::messages::Dict,
        db: Option<&str>,
    ) -> Result<weft_bolt::messages::Dict, weft_bolt::BackendError> {
        match &self.inner.raft {
            Some(member) => member.route(db),
            None => self.role().route(routing, db),
        }
    }

    /// The instance's Raft membership, when it is a member of a Raft cluster.
    pub fn raft(&self) -> Option<&Arc<crate::raft::RaftMember>> {
        self.inner.raft.as_ref()
    }

    /// The instance's replication, when it has a data directory.
    pub fn replication(&self) -> Option<&Arc<Replication>> {
        self.inner.replication.as_ref()
    }

    /// Replaces the database with the snapshot at `path` (of this database) while the
    /// instance runs: the engine's barrier holds new transactions back and waits up to
    /// `wait` for running ones, durability makes the snapshot the local history, and
    /// garbage collection moves to the new storage. Returns the snapshot's timestamp.
    pub fn install_snapshot(&self, path: &std::path::Path, wait: Duration) -> anyhow::Result<u64> {
        let durability = self.inner.durability.as_ref().ok_or_else(|| {
            anyhow::anyhow!("this instance keeps data in memory only; it has no snapshots to install")
        })?;
        install(&self.inner.engine, durability, &self.inner.workers, path, false, wait)
    }

    /// Why the instance refuses writes, when it does (see [`writes_refused`]).
    pub fn writes_refused(&self) -> Option<String> {
        writes_refused(&self.inner.engine.storage(), self.inner.durability.as_deref())
    }

    /// Clean shutdown: stops the workers, then (when durable) takes a final snapshot if
    /// asked and syncs the WAL.
    pub fn close(&self, snapshot: bool) -> anyhow::Result<()> {
        if let Some(replication) = &self.inner.replication {
            replication.shutdown();
        }
        if let Some(member) = &self.inner.raft {
            member.stop();
        }
        let Workers { background, gc } = std::mem::take(&mut *self.inner.workers.lock());
        // Dropping a worker stops its thread and waits for it.
        drop(background);
        drop(gc);
        if let Some(durability) = &self.inner.durability {
            durability
                .close(snapshot)
                .context("the final snapshot or WAL sync failed")?;
        }
        Ok(())
    }
}

impl From<Engine> for Node {
    fn from(engine: Engine) -> Node {
        Node::in_memory(engine)
    }
}

/// Replaces the database with the snapshot at `path` (of this database, or `received` from
/// the MAIN a replica applies): the engine's barrier holds new transactions back and waits
/// up to `wait` for running ones, durability makes the snapshot the local history, and
/// garbage collection moves to the new storage. Returns the snapshot's timestamp.
fn install(
    engine: &Engine,
    durability: &Durability,
    workers: &Mutex<Workers>,
    path: &std::path::Path,
    received: bool,
    wait: Duration,
) -> anyhow::Result<u64> {
    // Read and check the file before any transaction is held back.
    let (loaded, info) = if received {
        durability.load_received_snapshot(path)?
    } else {
        durability.load_snapshot_file(path)?
    };
    let installed = engine.replace_storage(wait, |_old| {
        durability.install_loaded(&loaded, &info).map(|_| loaded.clone())
    })?;
    let mut workers = workers.lock();
    if workers.gc.is_some() {
        workers.gc = Some(start_gc(&installed));
    }
    Ok(installed.last_committed())
}

/// How long a snapshot install from MAIN waits for the replica's running reads.
const INSTALL_WAIT: Duration = Duration::from_secs(10);

/// What replication uses of the instance: the engine's storage and read-only switch, the
/// durability files and epoch, and snapshot installs.
struct NodeHost {
    engine: Engine,
    durability: Arc<Durability>,
    workers: Arc<Mutex<Workers>>,
}

impl weft_replication::Host for NodeHost {
    fn storage(&self) -> Storage {
        self.engine.storage()
    }

    fn set_read_only(&self, reason: Option<String>) {
        self.engine.set_read_only(reason);
    }

    fn advance_epoch(&self, at_least: u64) -> Result<u64, String> {
        self.durability.advance_epoch_to(at_least).map_err(|e| e.to_string())
    }

    fn durability(&self) -> Arc<Durability> {
        self.durability.clone()
    }

    fn install_snapshot(&self, path: &std::path::Path) -> Result<u64, String> {
        install(&self.engine, &self.durability, &self.workers, path, true, INSTALL_WAIT).map_err(|e| format!("{e:#}"))
    }
}

/// Starts replication in the role the data directory keeps.
fn start_replication(
    cluster: &ClusterSettings,
    engine: &Engine,
    durability: &Arc<Durability>,
    workers: &Arc<Mutex<Workers>>,
) -> anyhow::Result<Arc<Replication>> {
    let config = ReplicationConfig {
        data_dir: durability.data_dir().to_path_buf(),
        identity: Identity {
            database: DatabaseId(*durability.db_id().as_bytes()),
            epoch: durability.epoch(),
        },
        name: cluster.name.clone(),
        bind_host: cluster.replication_host.clone(),
        client: cluster.client_config(),
        server: cluster.server_config(),
    };
    let host = Arc::new(NodeHost {
        engine: engine.clone(),
        durability: durability.clone(),
        workers: workers.clone(),
    });
    Replication::start(config, host).context("cannot start replication")
}

/// Why writes are refused, when they are: the commit pipeline stopped (a commit met a
/// failed WAL write or fsync), or the WAL failed in the background before any commit met it.
pub(crate) fn writes_refused(storage: &weft_storage::Storage, durability: Option<&Durability>) -> Option<String> {
    let pipeline = storage.commit_failure().map(|e| e.to_string());
    pipeline.or_else(|| durability.and_then(Durability::write_failure))
}
