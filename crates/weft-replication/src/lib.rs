//! MAIN/REPLICA replication: a MAIN ships every commit record to the replicas it
//! registered; a REPLICA applies them in order and refuses writes of its own.
//!
//! Owns: the instance's replication role and registered replicas, kept in the data
//! directory (`state.rs`, our own small text format) and restored at start; on MAIN, the commit sink that queues
//! records and makes commits wait as each replica's mode says (`sink.rs`), one link and one
//! shipper task per replica (`link.rs`, `shipper.rs`); on a REPLICA, the service that
//! applies what MAIN sends (`replica.rs`). Traffic goes over `weft-rpc`.
//!
//! Does not own: the query engine or the data directory. The server hands in a [`Host`]:
//! the current storage, the engine's read-only switch and the durability epoch.
//!
//! A replica that is behind catches up from MAIN's files (`catchup.rs`); epoch histories
//! (`history.rs`) tell a replica that is merely behind from one that diverged.
//!
//! STRICT_SYNC replicas prepare each record durably before MAIN commits it (`sink.rs`
//! asks, `replica.rs` keeps it). A commit a SYNC replica missed stands, with a warning
//! for the client naming the replica (a `Degraded` commit error).

/// Where, under the data directory, a replica receives MAIN's snapshot before installing it.
pub const INCOMING_DIR: &str = "replication-incoming";

/// Where, under the data directory, a replica keeps the newest STRICT_SYNC record prepared.
pub const PREPARED_FILE: &str = "replication.prepared";

/// Largest message on a replication stream: a commit record may be up to the WAL's frame
/// limit (1 GiB), plus its envelope.
pub(crate) const MAX_MESSAGE: usize = (1 << 30) + (1 << 20);

mod catchup;
mod history;
mod link;
mod mode;
mod replica;
mod shipper;
mod sink;
mod state;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::runtime::Runtime;
use tokio::sync::{oneshot, watch};
use weft_rpc::client::ClientConfig;
use weft_rpc::pb::replication_server::ReplicationServer;
use weft_rpc::server::ServerConfig;
use weft_rpc::{DatabaseId, Identity};
use weft_storage::durability::Durability;
use weft_storage::Storage;

pub use history::EpochMark;
pub use link::{LinkState, LinkStatus, QUEUE_LIMIT};
pub use mode::ReplicaMode;
pub use sink::REPLICATION_SINK;
pub use state::{StoredRole, StoredState, STATE_FILE};

use link::ReplicaLink;
use replica::ReplicaService;
use shipper::ShipperContext;
use sink::ReplicationSink;
use state::{SharedState, StoredReplica};

/// What replication needs from the instance it runs in.
pub trait Host: Send + Sync + 'static {
    /// The storage commits go to now (it can be replaced by a snapshot install).
    fn storage(&self) -> Storage;
    /// Refuses writes with `reason`, or allows them again (`None`).
    fn set_read_only(&self, reason: Option<String>);
    /// Starts a new epoch, `at_least` or above (on promotion to MAIN); the new epoch.
    fn advance_epoch(&self, at_least: u64) -> Result<u64, String>;
    /// The instance's durability files: a MAIN reads its history back from them to bring a
    /// replica that is behind up to date.
    fn durability(&self) -> Arc<Durability>;
    /// Replaces the database with the snapshot at `path`, received from the MAIN a
    /// replica applies; the snapshot's timestamp.
    fn install_snapshot(&self, path: &Path) -> Result<u64, String>;
}

/// Why a replication command failed.
#[derive(Debug, thiserror::Error)]
pub enum ReplicationError {
    #[error("replication state file {path}: {reason}")]
    State { path: PathBuf, reason: String },
    /// The command does not fit the instance's role or the registered replicas.
    #[error("{0}")]
    Refused(String),
    #[error("cannot listen for replication on {address}: {reason}")]
    Listen { address: String, reason: String },
    #[error(transparent)]
    Rpc(#[from] weft_rpc::RpcError),
}

fn refused(message: impl Into<String>) -> ReplicationError {
    ReplicationError::Refused(message.into())
}

/// How replication is set up on an instance.
#[derive(Clone, Debug)]
pub struct ReplicationConfig {
    /// The data directory, where `replication.state` lives.
    pub data_dir: PathBuf,
    /// This instance's database and epoch.
    pub identity: Identity,
    /// How this instance names itself to peers (its Bolt address, say).
    pub name: String,
    /// The host a replica listens on (the port comes with `SET REPLICATION ROLE`).
    pub bind_host: String,
    pub client: ClientConfig,
    pub server: ServerConfig,
}

/// The role as `SHOW REPLICATION ROLE` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleInfo {
    Main,
    Replica { address: SocketAddr },
}

enum Current {
    Main { sink: Arc<ReplicationSink> },
    Replica { address: SocketAddr, serving: Serving },
}

/// A running replica server: stopping it ends the open record streams too (a graceful
/// shutdown alone would wait for them for ever).
struct Serving {
    stop: oneshot::Sender<()>,
    halt: watch::Sender<bool>,
}

impl Serving {
    fn end(self) {
        let _ = self.halt.send(true);
        let _ = self.stop.send(());
    }
}

/// An instance's replication; see the crate docs.
pub struct Replication {
    config: ReplicationConfig,
    host: Arc<dyn Host>,
    runtime: Option<Runtime>,
    current: Mutex<Current>,
    /// Shared with the replica service, which records the pinned database in it.
    stored: SharedState,
    pinned: Arc<Mutex<Option<DatabaseId>>>,
    epoch: Mutex<u64>,
    /// Shared with the replica service: held while records are applied.
    apply_lock: Arc<Mutex<()>>,
    generation: Arc<AtomicU64>,
}

impl Replication {
    /// Starts replication in the role kept in the data directory: MAIN (with its
    /// registered replicas) when there is none.
    pub fn start(config: ReplicationConfig, host: Arc<dyn Host>) -> Result<Arc<Replication>, ReplicationError> {
        let stored = StoredState::load(&config.data_dir)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("weft-replication")
            .enable_all()
            .build()
            .map_err(|e| refused(format!("cannot start the replication runtime: {e}")))?;
        let last = host.storage().last_committed();
        let replication = Arc::new(Replication {
            pinned: Arc::new(Mutex::new(stored.main_database.map(DatabaseId))),
            epoch: Mutex::new(config.identity.epoch),
            current: Mutex::new(Current::Main {
                sink: Arc::new(ReplicationSink::new(last)),
            }),
            stored: SharedState {
                state: Arc::new(Mutex::new(stored.clone())),
                dir: config.data_dir.clone(),
            },
            apply_lock: Arc::new(Mutex::new(())),
            generation: Arc::new(AtomicU64::new(0)),
            runtime: Some(runtime),
            config,
            host,
        });
        match stored.role {
            StoredRole::Main => {
                let current = replication.current.lock();
                if let Current::Main { sink } = &*current {
                    replication.plug(sink);
                    for replica in stored.replicas {
                        replication.start_link(sink, replica.name, replica.address, replica.mode);
                    }
                }
            }
            StoredRole::Replica { port } => {
                let (address, serving) = replication.listen(port)?;
                *replication.current.lock() = Current::Replica { address, serving };
                replication.host.set_read_only(Some(replica_reason()));
            }
        }
        Ok(replication)
    }

    fn runtime(&self) -> &Runtime {
        self.runtime.as_ref().expect("the runtime lives until drop")
    }

    /// Who this instance speaks for: the replicated database (the one a replica pinned,
    /// which a promoted replica goes on serving, else its own) and its current epoch.
    fn identity(&self) -> Identity {
        Identity {
            database: self.pinned.lock().unwrap_or(self.config.identity.database),
            epoch: *self.epoch.lock(),
        }
    }

    /// Plugs a MAIN's sink into the storage's commit pipeline.
    fn plug(&self, sink: &Arc<ReplicationSink>) {
        let storage = self.host.storage();
        storage.remove_commit_sink(REPLICATION_SINK);
        storage.add_commit_sink(sink.clone());
    }

    /// Adds a link to `sink` and starts its shipper.
    fn start_link(&self, sink: &Arc<ReplicationSink>, name: String, address: String, mode: ReplicaMode) {
        let link = Arc::new(ReplicaLink::new(name, address, mode));
        sink.add(link.clone());
        let context = ShipperContext {
            identity: self.identity(),
            sender: self.config.name.clone(),
            client: self.config.client.clone(),
            sink: sink.clone(),
            host: self.host.clone(),
            history: self.stored.get().history,
        };
        self.runtime().spawn(shipper::run(link, context));
    }

    /// Serves the replica side on the bind host and `port`.
    fn listen(&self, port: u16) -> Result<(SocketAddr, Serving), ReplicationError> {
        let wanted = format!("{}:{port}", self.config.bind_host);
        let listen_error = |reason: String| ReplicationError::Listen {
            address: wanted.clone(),
            reason,
        };
        let listener = std::net::TcpListener::bind(&wanted).map_err(|e| listen_error(e.to_string()))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| listen_error(e.to_string()))?;
        let address = listener.local_addr().map_err(|e| listen_error(e.to_string()))?;
        // A snapshot received before a crash and never installed is of no use now.
        let incoming = self.config.data_dir.join(INCOMING_DIR);
        if let Err(error) = std::fs::remove_dir_all(&incoming) {
            if error.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %incoming.display(), %error, "cannot clear received snapshots");
            }
        }
        let (halt, halted) = watch::channel(false);
        let service = ReplicaService {
            halted,
            host: self.host.clone(),
            own: self.identity(),
            name: self.config.name.clone(),
            pinned: self.pinned.clone(),
            apply_lock: self.apply_lock.clone(),
            generation: self.generation.clone(),
            incoming,
            prepared: self.config.data_dir.join(PREPARED_FILE),
            stored: self.stored.clone(),
            offered: Arc::default(),
        };
        let service = ReplicationServer::new(service)
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE);
        let router = weft_rpc::server::builder(&self.config.server)?.add_service(service);
        let (stop, stopped) = oneshot::channel::<()>();
        self.runtime().spawn(async move {
            let listener = match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => listener,
                Err(error) => {
                    tracing::error!(%error, "cannot serve replication");
                    return;
                }
            };
            let incoming = weft_rpc::server::incoming(listener);
            let served = router
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(error) = served {
                tracing::error!(%error, "the replication server stopped");
            }
        });
        tracing::info!(%address, "serving as a REPLICA");
        Ok((address, Serving { stop, halt }))
    }

    fn save(&self, change: impl FnOnce(&mut StoredState)) -> Result<(), ReplicationError> {
        self.stored.update(change)
    }

    pub fn role(&self) -> RoleInfo {
        match &*self.current.lock() {
            Current::Main { .. } => RoleInfo::Main,
            Current::Replica { address, .. } => RoleInfo::Replica { address: *address },
        }
    }

    /// `SET REPLICATION ROLE TO REPLICA WITH PORT port`.
    pub fn set_replica(&self, port: u16) -> Result<(), ReplicationError> {
        let mut current = self.current.lock();
        let Current::Main { sink } = &*current else {
            return Err(refused("this instance is already a REPLICA"));
        };
        if !sink.links().is_empty() {
            return Err(refused(
                "this MAIN has registered replicas; drop them (DROP REPLICA) before making it a REPLICA",
            ));
        }
        let (address, serving) = self.listen(port)?;
        // The port actually bound (0 picks one), so that a restart listens there again.
        let port = address.port();
        // The epoch its commits were made in, kept now: a promotion that fails after
        // advancing the epoch must not make its data look as if made in the new one.
        let following = self.stored.get().main_epoch.unwrap_or(self.identity().epoch);
        let saved = self.save(|s| {
            s.role = StoredRole::Replica { port };
            s.main_epoch = Some(following);
        });
        if let Err(error) = saved {
            serving.end();
            return Err(error);
        }
        self.host.storage().remove_commit_sink(REPLICATION_SINK);
        self.host.set_read_only(Some(replica_reason()));
        *current = Current::Replica { address, serving };
        Ok(())
    }

    /// `SET REPLICATION ROLE TO MAIN`: stops serving as a replica, starts a new epoch and
    /// takes writes. Nothing to do on a MAIN.
    pub fn set_main(&self) -> Result<(), ReplicationError> {
        let mut current = self.current.lock();
        let Current::Replica { address, .. } = &*current else {
            return Ok(());
        };
        let port = address.port();
        let placeholder = Current::Main {
            sink: Arc::new(ReplicationSink::new(0)),
        };
        if let Current::Replica { serving, .. } = std::mem::replace(&mut *current, placeholder) {
            serving.end();
        }
        // No record of the old MAIN is applied after this: the streams are halted and
        // the group being applied, if any, finishes first; only then does the epoch change.
        let _drained = self.apply_lock.lock();
        // The epoch the data was written in ends here, with the newest commit held.
        let stored = self.stored.get();
        let held = self.host.storage().last_committed();
        let following = stored.main_epoch.unwrap_or(self.identity().epoch);
        let (mut history, ended) = history::held_part(&stored.history, following, held);
        history.push(EpochMark {
            epoch: ended,
            last_ts: held,
        });
        let next = history::next_epoch(&history, self.identity().epoch);
        let promoted = self.host.advance_epoch(next).map_err(refused).and_then(|epoch| {
            // An epoch advanced for a promotion that then fails is harmless; a role saved
            // as MAIN without a new epoch would not be.
            self.save(|s| {
                s.role = StoredRole::Main;
                s.main_epoch = None;
                s.seen_epoch = None;
                s.history = history;
            })
            .map(|()| epoch)
        });
        let epoch = match promoted {
            Ok(epoch) => epoch,
            Err(error) => {
                // Still a replica: serve again where it did.
                let (address, serving) = self.listen(port)?;
                *current = Current::Replica { address, serving };
                return Err(error);
            }
        };
        *self.epoch.lock() = epoch;
        let sink = Arc::new(ReplicationSink::new(self.host.storage().last_committed()));
        self.plug(&sink);
        *current = Current::Main { sink };
        self.host.set_read_only(None);
        tracing::info!(epoch, "promoted to MAIN");
        Ok(())
    }

    /// `REGISTER REPLICA name mode TO "address"`.
    pub fn register(&self, name: &str, mode: ReplicaMode, address: &str) -> Result<(), ReplicationError> {
        weft_rpc::client::host_of(address)?;
        let current = self.current.lock();
        let Current::Main { sink } = &*current else {
            return Err(refused("only a MAIN registers replicas; this instance is a REPLICA"));
        };
        if let Some(clash) = sink.links().iter().find(|l| l.name == name || l.address == address) {
            return Err(refused(format!(
                "replica `{}` at {} is already registered",
                clash.name, clash.address
            )));
        }
        self.save(|s| {
            s.replicas.push(StoredReplica {
                name: name.to_string(),
                address: address.to_string(),
                mode,
            })
        })?;
        self.start_link(sink, name.to_string(), address.to_string(), mode);
        Ok(())
    }

    /// `DROP REPLICA name`.
    pub fn drop_replica(&self, name: &str) -> Result<(), ReplicationError> {
        let current = self.current.lock();
        let Current::Main { sink } = &*current else {
            return Err(refused("only a MAIN has replicas to drop; this instance is a REPLICA"));
        };
        if !sink.links().iter().any(|l| l.name == name) {
            return Err(refused(format!("there is no replica `{name}`")));
        }
        self.save(|s| s.replicas.retain(|r| r.name != name))?;
        sink.remove(name);
        Ok(())
    }

    /// `SHOW REPLICAS`: every registered replica, in registration order.
    pub fn replicas(&self) -> Vec<LinkStatus> {
        match &*self.current.lock() {
            Current::Main { sink } => sink.links().iter().map(|l| l.status()).collect(),
            Current::Replica { .. } => Vec::new(),
        }
    }
}

impl Drop for Replication {
    fn drop(&mut self) {
        self.shutdown();
        if let Some(runtime) = self.runtime.take() {
            // Wait (briefly) for the tasks to end, so what they hold, the storage and its
            // data directory among it, is released when this returns; inside another
            // runtime blocking is not allowed, so there they end in the background.
            if tokio::runtime::Handle::try_current().is_ok() {
                runtime.shutdown_background();
            } else {
                runtime.shutdown_timeout(std::time::Duration::from_secs(2));
            }
        }
    }
}

impl Replication {
    /// Stops shipping to replicas, or serving as one (the instance is closing).
    pub fn shutdown(&self) {
        let current = std::mem::replace(
            &mut *self.current.lock(),
            Current::Main {
                sink: Arc::new(ReplicationSink::new(0)),
            },
        );
        match current {
            Current::Main { sink } => sink.stop_all(),
            Current::Replica { serving, .. } => serving.end(),
        }
        // Wait for a record being applied.
        drop(self.apply_lock.lock());
    }
}

/// Why a replica refuses writes.
fn replica_reason() -> String {
    "this instance is a REPLICA; writes go to its MAIN".to_string()
}
