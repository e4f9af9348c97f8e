//! An instance that is a member of a Raft cluster: its storage is the Raft state
//! machine's, its commit pipeline is the member's proposer (the Raft log is its
//! write-ahead log), and it takes writes only while it is the leader.
//!
//! Owns: the [`RaftMember`] the node holds (the running [`RaftNode`] and how to stop it),
//! the host the state machine applies to (the engine's storage, replaced in place when a
//! snapshot is installed), the read-only switch that follows the member's role, and the
//! member's restart in place: a member whose proposal failed (it lost the lead with
//! commits in flight, which its storage holds and the log may not) or whose Raft stopped
//! is stopped, given a fresh storage and started again on its directory, as a process
//! restart would, by a supervisor thread of its own.

mod route;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use parking_lot::Mutex;
use weft_query::{Engine, ReadOnlyCause};
use weft_raft::admin::{AdminError, AdminRequest};
use weft_raft::machine::Host;
use weft_raft::node::{MemberStatus, RaftNode, RaftNodeConfig};
use weft_raft::propose::Proposer;
use weft_storage::{GcWorker, Storage};

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
    /// The running member (`None` while it restarts, and once stopped).
    node: Mutex<Option<RaftNode>>,
    /// Garbage collection of the current storage (moved along when it is replaced).
    gc: Arc<Mutex<Option<GcWorker>>>,
    pub id: u64,
    engine: Engine,
    /// How the member starts (again).
    config: RaftNodeConfig,
    /// Which start of the member runs now: a restart request of an earlier one is stale.
    generation: AtomicU64,
    /// Where a running member asks its supervisor for a restart.
    restarts: std::sync::mpsc::Sender<(u64, String)>,
    stopping: AtomicBool,
    /// Fingerprint mismatches found by the starts before the running one.
    earlier_mismatches: AtomicU64,
    /// The Bolt requests the instance answers now (told to the other members).
    in_flight: Arc<AtomicU64>,
}

impl RaftMember {
    /// The member's own status, and every member it knows (id, Raft and Bolt address).
    pub fn status(&self) -> Option<(MemberStatus, Vec<(u64, weft_raft::Member)>)> {
        self.node.lock().as_ref().map(|node| (node.status(), node.members()))
    }

    /// Why this member is restricted (its graph differs from the leader's), when it is.
    pub fn restricted(&self) -> Option<String> {
        self.node.lock().as_ref().and_then(RaftNode::restricted)
    }

    /// How each other member is, as it says when asked (at most `timeout` each, asked all
    /// at once); why not, for one that did not answer.
    pub fn reports(&self, timeout: Duration) -> BTreeMap<u64, Result<weft_raft::admin::MemberReport, String>> {
        let Some((me, members)) = self.status() else {
            return BTreeMap::new();
        };
        let Ok(admin) = self.admin() else {
            return BTreeMap::new();
        };
        let others = members
            .into_iter()
            .filter(|(id, _)| *id != me.id)
            .map(|(id, member)| (id, member.raft_address))
            .collect();
        weft_storage::slot::outside_slot(|| admin.reports(others, timeout))
            .into_iter()
            .map(|(id, answer)| (id, answer.map_err(|e| e.to_string())))
            .collect()
    }

    /// Why this member serves no reads now: it is restricted, or it restarts in place
    /// (the engine may still hold the graph it restarts to replace).
    pub fn read_refusal(&self) -> Option<String> {
        match self.node.lock().as_ref() {
            Some(node) => node
                .restricted()
                .map(|why| format!("it is restricted until it has resynced: {why}")),
            None if self.stopping.load(Ordering::SeqCst) => Some("it has stopped".into()),
            None => Some("it is restarting in place".into()),
        }
    }

    /// Fingerprint checks that found this member's graph different (since its last start
    /// in place).
    pub fn fingerprint_mismatches(&self) -> u64 {
        let current = self.node.lock().as_ref().map_or(0, RaftNode::fingerprint_mismatches);
        self.earlier_mismatches.load(Ordering::Relaxed) + current
    }

    /// Carries out a membership change on the leader, waiting for it (adding a member
    /// waits until it has caught up).
    pub fn change_membership(&self, request: &AdminRequest) -> Result<(), AdminError> {
        let admin = self.admin()?;
        weft_storage::slot::outside_slot(|| admin.run(request)).map(drop)
    }

    /// Waits until this member has applied what a read at `linearizable` or last-committed
    /// consistency must see (see [`weft_raft::node::Admin::read_barrier`]); answers the
    /// commit timestamp the storage must make visible before the read.
    pub fn read_barrier(&self, linearizable: bool, timeout: Duration) -> Result<u64, AdminError> {
        let admin = self.admin()?;
        weft_storage::slot::outside_slot(|| admin.read_barrier(linearizable, timeout))
    }

    /// What sends admin requests for the running member (not holding the member's lock
    /// while a request waits).
    fn admin(&self) -> Result<weft_raft::node::Admin, AdminError> {
        let admin = self.node.lock().as_ref().and_then(RaftNode::admin);
        admin.ok_or_else(|| AdminError::Refused("the Raft member has stopped".into()))
    }

    /// The ids of the voting members (the others are learners).
    pub fn voters(&self) -> std::collections::BTreeSet<u64> {
        self.node.lock().as_ref().map(RaftNode::voters).unwrap_or_default()
    }

    /// Where writes go now: the leader's id, Bolt address and term, when a leader with a
    /// majority is known and has told its address. `None` on the leader itself.
    pub fn leader_bolt_address(&self) -> Option<(u64, String, u64)> {
        let (me, members) = self.status()?;
        let leader = me.leader.filter(|_| me.quorum && me.leader != Some(me.id))?;
        let (_, member) = members.into_iter().find(|(id, _)| *id == leader)?;
        (!member.bolt_address.is_empty()).then_some((leader, member.bolt_address, me.term))
    }

    /// Stops the member, then garbage collection; no restart follows.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Taken out first: the lock is not held while the member stops.
        let running = self.node.lock().take();
        if let Some(node) = running {
            node.stop();
        }
        self.gc.lock().take();
    }

    /// Starts the member (again) on a fresh storage, which its snapshot and log fill.
    fn launch(&self) -> Result<RaftNode, anyhow::Error> {
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let proposer = Proposer::new();
        let storage = Storage::new();
        storage.add_commit_sink(proposer.clone());
        let host = Arc::new(EngineHost {
            engine: self.engine.clone(),
            proposer: proposer.clone(),
            in_flight: self.in_flight.clone(),
            gc: self.gc.clone(),
            pending: Mutex::new(Some((0, storage))),
        });
        let (switch, own, restarts) = (self.engine.clone(), proposer.clone(), self.restarts.clone());
        let starting = host.clone();
        let node = RaftNode::start(self.config.clone(), host.clone(), proposer.clone(), move |status| {
            let failure = own.failure();
            // Until the engine has the member's storage, no write may reach the one it had.
            if !starting.is_pending() {
                switch.set_read_only_because(refusal(failure.clone(), status));
            }
            tracing::info!(role = status.role, term = status.term, leader = ?status.leader, quorum = status.quorum, "Raft role");
            let stopped = (status.role == "shutdown").then(|| "its Raft stopped".to_string());
            if let Some(why) = failure.or(stopped) {
                let _ = restarts.send((generation, why));
            }
        })
        .with_context(|| format!("cannot start the Raft member in {}", self.config.dir.display()))?;
        // Running transactions on the old storage hold the hand-over back; the member
        // runs meanwhile, its storage kept apart.
        while let Err(error) = host.activate() {
            if self.stopping.load(Ordering::SeqCst) {
                node.stop();
                anyhow::bail!("stopped before the engine took the member's storage");
            }
            tracing::warn!("the engine has not taken the member's storage yet: {error}; trying again");
            std::thread::sleep(Duration::from_millis(500));
        }
        self.engine
            .set_read_only_because(refusal(proposer.failure(), &node.status()));
        Ok(node)
    }

    /// Stops the running member and starts it again (see the module docs), trying again
    /// with a growing pause until it starts or the member is stopped.
    fn restart(&self, why: &str) {
        tracing::warn!(
            id = self.id,
            "restarting the Raft member in place, its storage rebuilt from its snapshot and log: {why}"
        );
        self.engine.set_read_only(Some("this Raft member is restarting".into()));
        let running = self.node.lock().take();
        if let Some(node) = running {
            self.earlier_mismatches
                .fetch_add(node.fingerprint_mismatches(), Ordering::Relaxed);
            node.stop();
        }
        let mut pause = Duration::from_millis(200);
        while !self.stopping.load(Ordering::SeqCst) {
            match self.launch() {
                Ok(node) => {
                    let mut running = self.node.lock();
                    if self.stopping.load(Ordering::SeqCst) {
                        // Stopped while it restarted: it stays stopped.
                        drop(running);
                        node.stop();
                    } else {
                        *running = Some(node);
                        tracing::info!(id = self.id, "the Raft member restarted");
                    }
                    return;
                }
                Err(error) => {
                    tracing::error!(
                        id = self.id,
                        "the Raft member did not restart: {error:#}; trying again in {pause:?}"
                    );
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(30));
                }
            }
        }
    }
}

/// The engine's storage, as the state machine sees it.
/// While a member starts, its snapshot and log fill a storage of its own (`pending`),
/// which the engine takes only once the member has started: clients meanwhile read what
/// the engine held before, never a half-filled storage.
struct EngineHost {
    engine: Engine,
    proposer: Arc<Proposer>,
    in_flight: Arc<AtomicU64>,
    gc: Arc<Mutex<Option<GcWorker>>>,
    /// The storage the member starts on, numbered (a snapshot installed meanwhile
    /// replaces it with the next number).
    pending: Mutex<Option<(u64, Storage)>>,
}

impl EngineHost {
    /// Whether the member still starts on a storage of its own.
    fn is_pending(&self) -> bool {
        self.pending.lock().is_some()
    }

    /// Hands the storage the member started on to the engine. The lock is not held while
    /// the engine waits for its running transactions, so the state machine goes on
    /// applying to the pending storage meanwhile.
    fn activate(&self) -> Result<(), String> {
        loop {
            let Some((number, storage)) = self.pending.lock().clone() else {
                return Ok(());
            };
            self.install(storage)?;
            let mut pending = self.pending.lock();
            if pending.as_ref().is_some_and(|(now, _)| *now == number) {
                *pending = None;
                return Ok(());
            }
        }
    }

    fn install(&self, storage: Storage) -> Result<(), String> {
        let installed = self
            .engine
            .replace_storage(INSTALL_WAIT, |_old| Ok::<_, String>(storage))
            .map_err(|e| e.to_string())?;
        *self.gc.lock() = Some(crate::node::start_gc(&installed));
        Ok(())
    }
}

impl Host for EngineHost {
    fn storage(&self) -> Storage {
        match self.pending.lock().as_ref() {
            Some((_, pending)) => pending.clone(),
            None => self.engine.storage(),
        }
    }

    fn in_flight(&self) -> Option<u64> {
        Some(self.in_flight.load(Ordering::Relaxed))
    }

    fn replace_storage(&self, storage: Storage) -> Result<(), String> {
        storage.add_commit_sink(self.proposer.clone());
        let mut pending = self.pending.lock();
        if let Some((number, _)) = pending.take() {
            *pending = Some((number + 1, storage));
            return Ok(());
        }
        // Started: nothing makes the storage pending again. The install may wait for
        // running transactions, which must not find `storage()` locked meanwhile.
        drop(pending);
        self.install(storage)
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
/// snapshot (if any) and log then fill, and the supervisor that restarts it in place.
pub fn start(
    data_dir: &Path,
    settings: &RaftSettings,
    bolt_address: &str,
    cluster: &crate::ClusterSettings,
    query_timeout: Option<Duration>,
    in_flight: Arc<AtomicU64>,
) -> anyhow::Result<(Engine, Arc<RaftMember>)> {
    let locked = weft_storage::durability::DataDir::open(data_dir)
        .with_context(|| format!("cannot open the data directory {}", data_dir.display()))?;
    warn_unreachable_address(bolt_address);
    let engine = Engine::with_storage(Storage::new()).with_query_timeout(query_timeout);
    engine.set_read_only(Some("this Raft member has not found its leader yet".into()));
    let config = RaftNodeConfig {
        dir: raft_dir(data_dir),
        id: settings.id,
        raft_address: settings.raft_address.clone(),
        bolt_address: bolt_address.to_string(),
        initial_members: settings.initial_members.clone(),
        client: cluster.client_config(),
        server: cluster.server_config(),
        heartbeat: Duration::from_millis(100),
        checks: weft_raft::check::CheckSettings {
            every: cluster.fingerprint_every,
        },
    };
    let (restarts, requests) = std::sync::mpsc::channel();
    let mut member = RaftMember {
        _dir: locked,
        node: Mutex::new(None),
        gc: Arc::default(),
        id: 0,
        engine: engine.clone(),
        config,
        generation: AtomicU64::new(0),
        restarts,
        stopping: AtomicBool::new(false),
        earlier_mismatches: AtomicU64::new(0),
        in_flight,
    };
    let node = member.launch()?;
    member.id = node.id;
    *member.node.lock() = Some(node);
    let member = Arc::new(member);
    supervise(Arc::downgrade(&member), requests);
    Ok((engine, member))
}

/// Warns when the Bolt address other members and drivers are told cannot reach this
/// member from elsewhere (a wildcard address).
fn warn_unreachable_address(bolt_address: &str) {
    let host = bolt_address.rsplit_once(':').map_or(bolt_address, |(host, _)| host);
    if matches!(host.trim_matches(['[', ']']), "0.0.0.0" | "::" | "") {
        tracing::warn!(
            %bolt_address,
            "the other members and drivers are told this Bolt address, which names no host: give \
             --advertised-address HOST:PORT, or ROUTE tables and forwarded writes will not reach this member"
        );
    }
}

/// Restarts the member when its running start asks; ends with the member.
fn supervise(member: std::sync::Weak<RaftMember>, requests: std::sync::mpsc::Receiver<(u64, String)>) {
    let spawned = std::thread::Builder::new()
        .name("weft-raft-supervisor".into())
        .spawn(move || {
            while let Ok((generation, why)) = requests.recv() {
                let Some(member) = member.upgrade() else {
                    return;
                };
                let current = member.generation.load(Ordering::SeqCst);
                if member.stopping.load(Ordering::SeqCst) {
                    return;
                }
                if generation == current {
                    member.restart(&why);
                }
            }
        });
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start the Raft member's supervisor: a failed member will need a restart");
    }
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
            fingerprint: None,
            restricted: None,
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
