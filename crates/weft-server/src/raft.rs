//! An instance that is a member of a Raft cluster: its storage is the Raft state
//! machine's, its commit pipeline is the member's proposer (the Raft log is its
//! write-ahead log), and it takes writes only while it is the leader.
//!
//! Owns: the [`RaftMember`] the node holds (the running [`RaftNode`] and how to stop it),
//! the host the state machine applies to (the engine's storage, replaced in place when a
//! snapshot is installed) and the read-only switch that follows the member's role.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use parking_lot::Mutex;
use weft_bolt::messages::Dict;
use weft_bolt::{BackendError, BoltValue};
use weft_query::{Engine, ReadOnlyCause};
use weft_raft::admin::{AdminError, AdminRequest};
use weft_raft::machine::Host;
use weft_raft::node::{MemberStatus, RaftNode, RaftNodeConfig};
use weft_raft::propose::Proposer;
use weft_storage::{GcWorker, Storage};

/// Seconds a driver keeps a Raft member's routing table: short, so that a driver learns
/// of a new leader soon even when it is not told by a failed write.
const ROUTING_TTL: i64 = 10;

/// How long a snapshot install waits for running reads before it gives up.
const INSTALL_WAIT: Duration = Duration::from_secs(10);

/// `--node-id`, `--raft-address` and `--initial-members` (all optional on a restart).
#[derive(Clone, Debug, Default)]
pub struct RaftSettings {
    pub id: Option<u64>,
    pub raft_address: Option<String>,
    pub initial_members: BTreeMap<u64, String>,
}

/// Reads `--initial-members` (`1=host:port,2=host:port,…`).
pub fn parse_members(text: &str) -> Result<BTreeMap<u64, String>, String> {
    let mut members = BTreeMap::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (id, address) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}` is not id=host:port"))?;
        let id: u64 = id
            .trim()
            .parse()
            .map_err(|_| format!("`{id}` in `{part}` is not a member id"))?;
        weft_rpc::client::host_of(address.trim()).map_err(|e| e.to_string())?;
        if members.insert(id, address.trim().to_string()).is_some() {
            return Err(format!("member {id} is listed twice"));
        }
    }
    Ok(members)
}

/// The Raft directory of a data directory.
pub fn raft_dir(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("raft")
}

/// A running member, stopped once by [`RaftMember::stop`].
pub struct RaftMember {
    /// Holds the data directory's lock: no second process opens it meanwhile.
    _dir: weft_storage::durability::DataDir,
    node: Mutex<Option<RaftNode>>,
    /// Garbage collection of the current storage (moved along when it is replaced).
    gc: Arc<Mutex<Option<GcWorker>>>,
    pub id: u64,
}

impl RaftMember {
    /// The member's own status, and every member it knows (id, Raft and Bolt address).
    pub fn status(&self) -> Option<(MemberStatus, Vec<(u64, weft_raft::Member)>)> {
        self.node.lock().as_ref().map(|node| (node.status(), node.members()))
    }

    /// Carries out a membership change on the leader, waiting for it (adding a member
    /// waits until it has caught up).
    pub fn change_membership(&self, request: &AdminRequest) -> Result<(), AdminError> {
        let admin = self.node.lock().as_ref().and_then(RaftNode::admin);
        let admin = admin.ok_or_else(|| AdminError::Refused("the Raft member has stopped".into()))?;
        weft_storage::slot::outside_slot(|| admin.run(request)).map(drop)
    }

    /// Waits until this member has applied what a read at `linearizable` or last-committed
    /// consistency must see (see [`weft_raft::node::Admin::read_barrier`]).
    pub fn read_barrier(&self, linearizable: bool, timeout: Duration) -> Result<(), AdminError> {
        let admin = self.node.lock().as_ref().and_then(RaftNode::admin);
        let admin = admin.ok_or_else(|| AdminError::Refused("the Raft member has stopped".into()))?;
        weft_storage::slot::outside_slot(|| admin.read_barrier(linearizable, timeout))
    }

    /// The ids of the voting members (the others are learners).
    pub fn voters(&self) -> std::collections::BTreeSet<u64> {
        self.node.lock().as_ref().map(RaftNode::voters).unwrap_or_default()
    }

    /// Where writes go now: the leader's Bolt address, when a leader with a majority is
    /// known and has told its address. `None` on the leader itself.
    pub fn leader_bolt_address(&self) -> Option<(u64, String)> {
        let (me, members) = self.status()?;
        let leader = me.leader.filter(|_| me.quorum && me.leader != Some(me.id))?;
        let (_, member) = members.into_iter().find(|(id, _)| *id == leader)?;
        (!member.bolt_address.is_empty()).then_some((leader, member.bolt_address))
    }

    /// The routing table for ROUTE: the leader writes (none while no leader has a
    /// majority), every member whose Bolt address is known reads and routes.
    pub fn route(&self, db: Option<&str>) -> Result<Dict, BackendError> {
        let (me, mut members) = self.status().ok_or_else(|| {
            BackendError::new(
                "Neo.TransientError.General.DatabaseUnavailable",
                "the Raft member has stopped",
            )
        })?;
        if !members.iter().any(|(id, _)| *id == me.id) {
            members.push((me.id, me.member.clone()));
        }
        let address = |id: u64| {
            let own = (id == me.id).then(|| me.member.bolt_address.clone());
            own.or_else(|| {
                members
                    .iter()
                    .find(|(m, _)| *m == id)
                    .map(|(_, m)| m.bolt_address.clone())
            })
            .filter(|a| !a.is_empty())
        };
        let writers: Vec<String> = me.leader.filter(|_| me.quorum).and_then(address).into_iter().collect();
        let everyone: Vec<String> = members.iter().filter_map(|(id, _)| address(*id)).collect();
        let server = |role: &str, addresses: &[String]| {
            BoltValue::Dictionary(vec![
                (
                    "addresses".to_string(),
                    BoltValue::List(addresses.iter().cloned().map(BoltValue::String).collect()),
                ),
                ("role".to_string(), BoltValue::String(role.to_string())),
            ])
        };
        Ok(vec![
            ("ttl".to_string(), BoltValue::Integer(ROUTING_TTL)),
            ("db".to_string(), BoltValue::String(db.unwrap_or("neo4j").to_string())),
            (
                "servers".to_string(),
                BoltValue::List(vec![
                    server("WRITE", &writers),
                    server("READ", &everyone),
                    server("ROUTE", &everyone),
                ]),
            ),
        ])
    }

    /// Stops the member, then garbage collection.
    pub fn stop(&self) {
        if let Some(node) = self.node.lock().take() {
            node.stop();
        }
        self.gc.lock().take();
    }
}

/// The engine's storage, as the state machine sees it.
struct EngineHost {
    engine: Engine,
    proposer: Arc<Proposer>,
    gc: Arc<Mutex<Option<GcWorker>>>,
}

impl Host for EngineHost {
    fn storage(&self) -> Storage {
        self.engine.storage()
    }

    fn replace_storage(&self, storage: Storage) -> Result<(), String> {
        storage.add_commit_sink(self.proposer.clone());
        let installed = self
            .engine
            .replace_storage(INSTALL_WAIT, |_old| Ok::<_, String>(storage))
            .map_err(|e| e.to_string())?;
        let mut gc = self.gc.lock();
        if gc.is_some() {
            *gc = Some(installed.start_gc(crate::node::GC_INTERVAL));
        }
        Ok(())
    }
}

/// Why a member in `status` refuses writes, if it does. Writable exactly when the
/// proposer takes commits (a new leader only once it has applied its term's first entry,
/// no member whose proposal failed) and a majority answers; a member out of touch with
/// any majority says so with the retryable `NoQuorum`, a follower names its leader.
fn refusal(failure: Option<String>, status: &MemberStatus) -> Option<(ReadOnlyCause, String)> {
    let redirect = |why: String| Some((ReadOnlyCause::NotALeader, why));
    match (failure, status.role) {
        (Some(why), _) => redirect(format!("this Raft member must be restarted: {why}")),
        (None, _) if !status.quorum => Some((
            ReadOnlyCause::NoQuorum,
            match status.role {
                "leader" => format!("leader {} has not heard from a majority of the cluster", status.id),
                role => format!("this member is a Raft {role} and knows no leader"),
            },
        )),
        (None, _) if status.writable => None,
        (None, "leader") => redirect("this member was just elected leader and is catching up; try again".into()),
        (None, role) => redirect(match status.leader {
            Some(leader) => format!("this member is a Raft {role}; send writes to the leader, member {leader}"),
            None => format!("this member is a Raft {role} and knows no leader"),
        }),
    }
}

/// Starts the member in `data_dir`: an engine on a fresh storage, which the member's
/// snapshot (if any) and log then fill.
pub fn start(
    data_dir: &Path,
    settings: &RaftSettings,
    bolt_address: &str,
    cluster: &crate::ClusterSettings,
    query_timeout: Option<Duration>,
) -> anyhow::Result<(Engine, Arc<RaftMember>)> {
    let locked = weft_storage::durability::DataDir::open(data_dir)
        .with_context(|| format!("cannot open the data directory {}", data_dir.display()))?;
    let proposer = Proposer::new();
    let storage = Storage::new();
    storage.add_commit_sink(proposer.clone());
    let engine = Engine::with_storage(storage).with_query_timeout(query_timeout);
    engine.set_read_only(Some("this Raft member has not found its leader yet".into()));
    let gc = Arc::new(Mutex::new(Some(engine.storage().start_gc(crate::node::GC_INTERVAL))));
    let host = Arc::new(EngineHost {
        engine: engine.clone(),
        proposer: proposer.clone(),
        gc: gc.clone(),
    });
    let config = RaftNodeConfig {
        dir: raft_dir(data_dir),
        id: settings.id,
        raft_address: settings.raft_address.clone(),
        bolt_address: bolt_address.to_string(),
        initial_members: settings.initial_members.clone(),
        client: weft_rpc::client::ClientConfig {
            tls: cluster.tls.clone(),
            ..Default::default()
        },
        server: weft_rpc::server::ServerConfig {
            tls: cluster.tls.clone(),
        },
        heartbeat: Duration::from_millis(100),
    };
    let (switch, own) = (engine.clone(), proposer.clone());
    let node = RaftNode::start(config, host, proposer, move |status| {
        switch.set_read_only_because(refusal(own.failure(), status));
        tracing::info!(role = status.role, term = status.term, leader = ?status.leader, quorum = status.quorum, "Raft role");
    })
    .with_context(|| format!("cannot start the Raft member in {}", data_dir.display()))?;
    let id = node.id;
    Ok((
        engine,
        Arc::new(RaftMember {
            _dir: locked,
            node: Mutex::new(Some(node)),
            gc,
            id,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_members_are_read_and_mistakes_named() {
        let members = parse_members("1=127.0.0.1:7001, 2=127.0.0.1:7002,3=h:7003").unwrap();
        assert_eq!(members.len(), 3);
        assert_eq!(members[&2], "127.0.0.1:7002");
        assert!(parse_members("1=a:1,1=b:2").unwrap_err().contains("twice"));
        assert!(parse_members("x=a:1").unwrap_err().contains("not a member id"));
        assert!(parse_members("1:a:1").unwrap_err().contains("not id=host:port"));
    }

    fn status(role: &'static str, leader: Option<u64>, writable: bool, quorum: bool) -> MemberStatus {
        MemberStatus {
            id: 1,
            member: weft_raft::Member::default(),
            role,
            term: 3,
            last_log_index: Some(9),
            applied_index: Some(9),
            leader,
            writable,
            quorum,
            replicated: BTreeMap::new(),
        }
    }

    #[test]
    fn writes_are_refused_for_the_reason_that_tells_the_client_what_to_do() {
        let cause = |failure: Option<&str>, status: MemberStatus| {
            refusal(failure.map(String::from), &status).map(|(cause, why)| (cause, why.contains("member 2")))
        };
        assert_eq!(cause(None, status("leader", Some(1), true, true)), None);
        // A leader that lost its majority, and a member that knows no leader: retry later.
        assert_eq!(
            cause(None, status("leader", Some(1), true, false)),
            Some((ReadOnlyCause::NoQuorum, false))
        );
        assert_eq!(
            cause(None, status("candidate", None, false, false)),
            Some((ReadOnlyCause::NoQuorum, false))
        );
        // A follower sends the client to its leader.
        assert_eq!(
            cause(None, status("follower", Some(2), false, true)),
            Some((ReadOnlyCause::NotALeader, true))
        );
        assert_eq!(
            cause(None, status("leader", Some(1), false, true)),
            Some((ReadOnlyCause::NotALeader, false))
        );
        assert_eq!(
            cause(Some("log"), status("leader", Some(1), true, true)),
            Some((ReadOnlyCause::NotALeader, false))
        );
    }
}
