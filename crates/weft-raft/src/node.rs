//! One member of a Raft cluster, running: its identity on disk, its log, state machine,
//! openraft instance, proposer and `Raft` gRPC server, on a runtime of its own.
//!
//! Owns: the member's directory (`<data>/raft/`): `member` (its id, Raft address and the
//! cluster's database id, written at the first start, so a restart needs no flags),
//! the log (`log/`, `raft-state`), the snapshots (`snapshots/`) and received snapshot
//! files (`incoming/`); bootstrapping (the lowest id of the initial members initializes
//! the cluster; the others wait to be contacted; a member started without initial
//! members waits until a leader adds it, learning the cluster's database id then) and
//! telling the instance its role as it changes. Promises: [`RaftNode::stop`] stops the Raft instance and the server.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use openraft::{Raft, ServerState};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use weft_rpc::client::ClientConfig;
use weft_rpc::server::ServerConfig;
use weft_rpc::{DatabaseId, Identity};
use weft_storage::durability::Uuid;

use crate::admin::{AdminAnswer, AdminError, AdminReply, AdminRequest, MemberReport, Reach};
use crate::check::{CheckSettings, CheckedAt, Fingerprints};
use crate::log::LogStore;
use crate::machine::{Host, StateMachine};
use crate::network::{Connector, RaftService, MAX_MESSAGE};
use crate::propose::Proposer;
use crate::{Member, TypeConfig};

/// How a member starts.
#[derive(Clone, Debug)]
pub struct RaftNodeConfig {
    /// The member's directory (`<data>/raft`).
    pub dir: PathBuf,
    /// Its id and Raft address; `None` takes them from `member` (a restart).
    pub id: Option<u64>,
    pub raft_address: Option<String>,
    /// Where its Bolt clients connect (for redirects and `SHOW CLUSTER`).
    pub bolt_address: String,
    /// The cluster's first members (`--initial-members`), by id: their Raft addresses.
    pub initial_members: BTreeMap<u64, String>,
    pub client: ClientConfig,
    pub server: ServerConfig,
    /// Heartbeat interval; elections time out after 3 to 6 of them.
    pub heartbeat: Duration,
    /// How often the leader checks every member's fingerprint.
    pub checks: CheckSettings,
}

/// What a member reports of itself for `SHOW CLUSTER` and its role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberStatus {
    pub id: u64,
    pub member: Member,
    /// `leader`, `follower`, `candidate`, `learner` or `shutdown`.
    pub role: &'static str,
    pub term: u64,
    pub last_log_index: Option<u64>,
    pub applied_index: Option<u64>,
    pub leader: Option<u64>,
    /// A leader that has applied its term's first entry (the proposer's own test).
    pub writable: bool,
    /// Whether the member is in touch with a majority: on a leader, a majority answered
    /// within the longest election timeout; elsewhere, it knows a leader.
    pub quorum: bool,
    /// On a leader: the newest log index each member is known to hold.
    pub replicated: BTreeMap<u64, Option<u64>>,
    /// This member's newest fingerprint (see [`crate::check`]).
    pub fingerprint: Option<CheckedAt>,
    /// Why this member is restricted (its graph differs from the leader's), when it is.
    pub restricted: Option<String>,
}

/// Sends admin requests (membership changes, read indexes) to the leader on a member's
/// behalf.
#[derive(Clone)]
pub struct Admin {
    runtime: tokio::runtime::Handle,
    raft: Raft<TypeConfig>,
    reach: Reach,
    /// The newest commit timestamp the state machine has applied.
    applied: tokio::sync::watch::Receiver<u64>,
}

/// Longest any admin request may take from a caller's thread (ADD MEMBER's catch-up
/// included).
const ADMIN_BOUND: Duration = Duration::from_secs(900);

impl Admin {
    /// Runs `work` on the member's runtime and waits for it from this (non-async) thread,
    /// at most `bound`; a member stopped meanwhile makes it an error, not a panic.
    fn wait_for<T: Send + 'static>(
        &self,
        bound: Duration,
        work: impl std::future::Future<Output = Result<T, AdminError>> + Send + 'static,
    ) -> Result<T, AdminError> {
        let (done, answer) = std::sync::mpsc::channel();
        self.runtime.spawn(async move {
            let _ = done.send(work.await);
        });
        answer.recv_timeout(bound).unwrap_or_else(|error| {
            Err(AdminError::Refused(match error {
                std::sync::mpsc::RecvTimeoutError::Timeout => format!("no answer within {} s", bound.as_secs()),
                std::sync::mpsc::RecvTimeoutError::Disconnected => "the member stopped meanwhile".into(),
            }))
        })
    }

    /// Carries out `request` on the leader (here, if this member leads), waiting for
    /// it; call it outside any async context.
    pub fn run(&self, request: &AdminRequest) -> AdminReply {
        let (raft, reach, request) = (self.raft.clone(), self.reach.clone(), request.clone());
        self.wait_for(ADMIN_BOUND, async move {
            crate::admin::to_leader(&raft, &reach, &request).await
        })
    }

    /// Asks each of `members` (id, Raft address) how it is, all at once, each answer
    /// bounded by `timeout`.
    pub fn reports(
        &self,
        members: Vec<(u64, String)>,
        timeout: Duration,
    ) -> Vec<(u64, Result<MemberReport, AdminError>)> {
        let reach = self.reach.brief(timeout);
        let asked: Vec<u64> = members.iter().map(|(id, _)| *id).collect();
        let answers = self.wait_for(timeout + Duration::from_secs(1), async move {
            let mut calls = tokio::task::JoinSet::new();
            for (id, address) in members {
                let reach = reach.clone();
                calls.spawn(async move {
                    let answer = match crate::admin::send(&address, &reach, &AdminRequest::Status).await {
                        Ok(AdminAnswer::Status(report)) => Ok(report),
                        Ok(_) => Err(AdminError::Refused("an answer that is not a status".into())),
                        Err(error) => Err(error),
                    };
                    (id, answer)
                });
            }
            Ok(calls.join_all().await)
        });
        answers.unwrap_or_else(|error| asked.into_iter().map(|id| (id, Err(error.clone()))).collect())
    }

    /// Waits until this member has applied what a read must see: the leader's applied
    /// index (`linearizable`: once the leader has confirmed with a majority that it still
    /// leads). Answers the commit timestamp applied by then, which the storage must make
    /// visible before the read starts (the leader's own commits become visible after
    /// their entries are applied). Gives up after `timeout`.
    pub fn read_barrier(&self, linearizable: bool, timeout: Duration) -> Result<u64, AdminError> {
        let (raft, reach, applied) = (self.raft.clone(), self.reach.clone(), self.applied.clone());
        self.wait_for(timeout, async move {
            let asked = AdminRequest::ReadIndex { linearizable };
            let AdminAnswer::ReadIndex(index) = crate::admin::to_leader(&raft, &reach, &asked).await? else {
                return Err(AdminError::Refused(
                    "the leader answered something else than a read index".into(),
                ));
            };
            raft.wait(None)
                .applied_index_at_least(Some(index), "a read's index is applied")
                .await
                .map_err(|e| AdminError::Refused(format!("this member did not apply index {index}: {e}")))?;
            let ts = *applied.borrow();
            Ok(ts)
        })
    }
}

/// Why a member could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(String),
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },
    #[error(transparent)]
    Log(#[from] crate::log::OpenError),
    #[error(transparent)]
    Machine(#[from] crate::machine::OpenError),
    #[error("cannot start Raft: {0}")]
    Raft(String),
    #[error("cannot serve Raft on {address}: {error}")]
    Listen { address: String, error: weft_rpc::RpcError },
}

/// A running member; see the module docs.
pub struct RaftNode {
    runtime: Option<Runtime>,
    pub id: u64,
    pub raft: Raft<TypeConfig>,
    pub proposer: Arc<Proposer>,
    pub database: Uuid,
    pub raft_address: String,
    /// This member's own addresses.
    member: Member,
    /// A leader that heard from no majority for longer has lost its quorum (ms).
    quorum_window: u64,
    /// How this member reaches the others with admin requests.
    reach: Reach,
    /// The newest commit timestamp the state machine has applied.
    applied: tokio::sync::watch::Receiver<u64>,
    fingerprints: Arc<Fingerprints>,
    stop: Option<oneshot::Sender<()>>,
}

const MEMBER_FILE: &str = "member";

/// The cluster's database id for a bootstrap from `members`: the same on every member
/// started with the same `--initial-members`.
pub fn cluster_database(members: &BTreeMap<u64, String>) -> Uuid {
    let text: String = members.iter().map(|(id, address)| format!("{id}={address};")).collect();
    let mut bytes = [0u8; 16];
    for (i, chunk) in bytes.chunks_mut(4).enumerate() {
        let salted = format!("weft-cluster-{i}:{text}");
        chunk.copy_from_slice(&crc32c::crc32c(salted.as_bytes()).to_le_bytes());
    }
    Uuid::from_bytes(bytes)
}

/// The member file: `id=`, `raft_address=`, `database=` lines.
fn read_member(dir: &Path) -> Result<Option<(u64, String, Uuid)>, StartError> {
    let path = dir.join(MEMBER_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(StartError::Io { path, error }),
    };
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix('='))
            .map(str::trim)
            .ok_or_else(|| StartError::Config(format!("{} lacks `{name}=`", path.display())))
    };
    let id = field("id")?
        .parse()
        .map_err(|e| StartError::Config(format!("{}: id: {e}", path.display())))?;
    let database = Uuid::parse_str(field("database")?)
        .map_err(|e| StartError::Config(format!("{}: database: {e}", path.display())))?;
    Ok(Some((id, field("raft_address")?.to_string(), database)))
}

fn write_member(dir: &Path, id: u64, address: &str, database: Uuid) -> Result<(), StartError> {
    let path = dir.join(MEMBER_FILE);
    let text = format!("id={id}\nraft_address={address}\ndatabase={database}\n");
    weft_storage::durability::replace_file(&path, text.as_bytes()).map_err(|error| StartError::Io { path, error })
}

/// Writes a new member's Raft state and member file, in that order (a member file
/// without the state beside it is refused at the next start).
fn settle_identity(dir: &Path, id: u64, address: &str, database: Uuid) -> Result<(), StartError> {
    crate::hard_state::HardState::default()
        .store(dir)
        .map_err(|e| StartError::Config(e.to_string()))?;
    write_member(dir, id, address, database)
}

/// Binds the member's Raft address and serves `service` there until the returned
/// sender is used or dropped.
async fn serve(
    config: &RaftNodeConfig,
    raft_address: &str,
    service: RaftService,
) -> Result<oneshot::Sender<()>, StartError> {
    let listen = |error| StartError::Listen {
        address: raft_address.to_string(),
        error,
    };
    let (incoming, _) = weft_rpc::server::bind(raft_address).await.map_err(listen)?;
    let server = weft_rpc::pb::raft_server::RaftServer::new(service)
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE);
    let router = weft_rpc::server::builder(&config.server)
        .map_err(listen)?
        .add_service(server);
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let served = router
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stopped.await;
            })
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "the Raft server stopped");
        }
    });
    Ok(stop)
}

/// Whether `dir` holds a member (it was started as one before).
pub fn is_member(dir: &Path) -> bool {
    dir.join(MEMBER_FILE).exists()
}

impl RaftNode {
    /// Starts the member: reads or writes its identity, opens its log and state machine
    /// (its snapshot goes to `host`), starts Raft and its server, and bootstraps the
    /// cluster when it is the lowest initial member and the log is empty. `role_changed` is called
    /// (on the member's runtime) with every new status.
    pub fn start(
        config: RaftNodeConfig,
        host: Arc<dyn Host>,
        proposer: Arc<Proposer>,
        role_changed: impl Fn(&MemberStatus) + Send + Sync + 'static,
    ) -> Result<RaftNode, StartError> {
        let dir = config.dir.clone();
        std::fs::create_dir_all(&dir).map_err(|error| StartError::Io {
            path: dir.clone(),
            error,
        })?;
        let (id, raft_address, database) = match read_member(&dir)? {
            Some((id, address, database)) => {
                if config.id.is_some_and(|given| given != id) {
                    return Err(StartError::Config(format!(
                        "{} belongs to member {id}, not to --node-id {}",
                        dir.display(),
                        config.id.unwrap_or_default()
                    )));
                }
                if config.raft_address.as_ref().is_some_and(|given| *given != address) {
                    return Err(StartError::Config(format!(
                        "member {id} has the Raft address {address} (kept in {}); --raft-address says otherwise: \
                         the others know it by the kept one",
                        dir.display()
                    )));
                }
                // A member that forgot its vote could vote twice in a term: its state must
                // be there (it is written at the first start).
                if !crate::hard_state::HardState::exists(&dir) {
                    return Err(StartError::Config(format!(
                        "{} holds member {id} but not its Raft state (raft-state): the member cannot know what it \
                         voted for; restore the directory, or wipe it and add the member anew",
                        dir.display()
                    )));
                }
                (id, address, Some(database))
            }
            None => {
                let (Some(id), Some(address)) = (config.id, config.raft_address.clone()) else {
                    return Err(StartError::Config(
                        "a new Raft member needs --node-id and --raft-address".into(),
                    ));
                };
                if config.initial_members.is_empty() {
                    // Not a founding member: it waits until a leader adds it.
                    (id, address, None)
                } else {
                    if config.initial_members.get(&id) != Some(&address) {
                        return Err(StartError::Config(format!(
                            "--initial-members must list this member as {id}={address}"
                        )));
                    }
                    let database = cluster_database(&config.initial_members);
                    settle_identity(&dir, id, &address, database)?;
                    (id, address, Some(database))
                }
            }
        };
        // One worker: Raft's tasks are short and never block (storage work goes to the
        // blocking pool), and on a small machine a second worker mostly adds wake-ups
        // between threads competing for the same cores (about 7% fewer quorum writes).
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("weft-raft")
            .enable_all()
            .build()
            .map_err(|error| StartError::Io {
                path: dir.clone(),
                error,
            })?;
        let name = format!("member {id} ({raft_address})");
        // The Raft service answers from the start: a member waiting to be added hears
        // its join through it.
        let (join_sender, join) = oneshot::channel();
        let joining = database.is_none().then_some(join_sender);
        let (service, handles) = RaftService::new(id, name.clone(), dir.join("incoming"), joining);
        let stop = runtime.block_on(serve(&config, &raft_address, service))?;
        let database = match database {
            Some(database) => database,
            None => {
                tracing::info!(
                    id,
                    raft = %raft_address,
                    "this Raft member waits to be added: run ADD MEMBER {id} AT \"{raft_address}\" on a member of the cluster"
                );
                let identity = runtime
                    .block_on(join)
                    .map_err(|_| StartError::Raft("stopped while waiting to be added".into()))?;
                let database = Uuid::from_bytes(identity.database.0);
                settle_identity(&dir, id, &raft_address, database)?;
                tracing::info!(id, %database, "added to the cluster");
                database
            }
        };
        let identity = Identity {
            database: DatabaseId(*database.as_bytes()),
            epoch: 0,
        };
        let _ = handles.identity.set(identity);
        let reach = Reach::new(config.client.clone(), identity.header(&name));
        let _ = handles.reach.set(reach.clone());
        let log = LogStore::open(&dir, database)?;
        let machine = StateMachine::open(&dir.join("snapshots"), database, host)?;
        machine.set_proposer(proposer.clone());
        let fingerprints = machine.fingerprints();
        let _ = handles.machine.set(machine.clone());
        let applied = machine.watch_applied();
        let applied_ts = applied.clone();
        let heartbeat = config.heartbeat.as_millis().max(10) as u64;
        let raft_config = openraft::Config {
            cluster_name: format!("weft-{database}"),
            heartbeat_interval: heartbeat,
            election_timeout_min: heartbeat * 3,
            election_timeout_max: heartbeat * 6,
            ..openraft::Config::default()
        }
        .validate()
        .map_err(|e| StartError::Config(e.to_string()))?;
        let connector = Connector {
            identity,
            name: name.clone(),
            config: config.client.clone(),
        };
        let self_member = Member {
            raft_address: raft_address.clone(),
            bolt_address: config.bolt_address.clone(),
        };
        let raft = runtime.block_on(async {
            let raft = Raft::new(id, Arc::new(raft_config), connector, log, machine)
                .await
                .map_err(|e| StartError::Raft(e.to_string()))?;
            let _ = handles.raft.set(raft.clone());
            proposer.start(raft.clone(), applied);
            crate::check::start(raft.clone(), id, fingerprints.clone(), reach.clone(), config.checks);
            // Whether to initialize is the log's to say, not the member file's: a first start
            // that failed after writing the file must still initialize on the next one.
            let lowest = config.initial_members.keys().next() == Some(&id);
            let initialized = raft
                .is_initialized()
                .await
                .map_err(|e| StartError::Raft(e.to_string()))?;
            if lowest && !initialized {
                let members: BTreeMap<u64, Member> = config
                    .initial_members
                    .iter()
                    .map(|(member, address)| {
                        let bolt = if *member == id {
                            config.bolt_address.clone()
                        } else {
                            String::new()
                        };
                        (
                            *member,
                            Member {
                                raft_address: address.clone(),
                                bolt_address: bolt,
                            },
                        )
                    })
                    .collect();
                raft.initialize(members)
                    .await
                    .map_err(|e| StartError::Raft(format!("cannot initialize the cluster: {e}")))?;
                tracing::info!(id, "initialized the Raft cluster");
            }
            watch_role(raft.clone(), id, self_member.clone(), heartbeat * 6, role_changed);
            if !config.bolt_address.is_empty() {
                crate::admin::announce(raft.clone(), id, config.bolt_address.clone(), reach.clone());
            }
            Ok::<_, StartError>(raft)
        })?;
        tracing::info!(id, raft = %raft_address, %database, "Raft member started");
        Ok(RaftNode {
            runtime: Some(runtime),
            id,
            raft,
            proposer,
            database,
            raft_address,
            member: self_member,
            quorum_window: heartbeat * 6,
            reach,
            applied: applied_ts,
            fingerprints,
            stop: Some(stop),
        })
    }

    /// The member's current status (its own addresses as it knows them, also before a
    /// membership names it).
    pub fn status(&self) -> MemberStatus {
        let mut status = status_of(&self.raft.metrics().borrow(), self.id, self.quorum_window);
        status.writable = self.proposer.writable();
        status.member = self.member.clone();
        status.fingerprint = self.fingerprints.latest();
        status.restricted = self.fingerprints.restricted();
        status
    }

    /// Why this member is restricted, when it is (see [`crate::check`]).
    pub fn restricted(&self) -> Option<String> {
        self.fingerprints.restricted()
    }

    /// Checks since this start that found this member's graph different from the leader's.
    pub fn fingerprint_mismatches(&self) -> u64 {
        self.fingerprints.mismatches()
    }

    /// Every member as this one knows them (its own view of the others: id, addresses and,
    /// for itself, the full status).
    pub fn members(&self) -> Vec<(u64, Member)> {
        let metrics = self.raft.metrics();
        let m = metrics.borrow();
        m.membership_config
            .nodes()
            .map(|(id, member)| (*id, member.clone()))
            .collect()
    }

    /// What sends admin requests to the leader for this member (held apart from the
    /// member, since a request may wait minutes); `None` once stopped.
    pub fn admin(&self) -> Option<Admin> {
        Some(Admin {
            runtime: self.runtime.as_ref()?.handle().clone(),
            raft: self.raft.clone(),
            reach: self.reach.clone(),
            applied: self.applied.clone(),
        })
    }

    /// The ids of the members that vote (the others are learners).
    pub fn voters(&self) -> std::collections::BTreeSet<u64> {
        self.raft
            .metrics()
            .borrow()
            .membership_config
            .membership()
            .voter_ids()
            .collect()
    }

    /// Stops Raft and the server, then the runtime.
    pub fn stop(mut self) {
        self.fingerprints.cancel();
        if let Some(runtime) = self.runtime.take() {
            let raft = self.raft.clone();
            runtime.block_on(async move {
                let _ = raft.shutdown().await;
            });
            if let Some(stop) = self.stop.take() {
                let _ = stop.send(());
            }
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

impl Drop for RaftNode {
    fn drop(&mut self) {
        self.fingerprints.cancel();
        if let Some(runtime) = self.runtime.take() {
            if let Some(stop) = self.stop.take() {
                let _ = stop.send(());
            }
            runtime.shutdown_background();
        }
    }
}

/// A Raft state by the name `SHOW CLUSTER` gives it.
pub(crate) fn role_name(state: ServerState) -> &'static str {
    match state {
        ServerState::Leader => "leader",
        ServerState::Follower => "follower",
        ServerState::Candidate => "candidate",
        ServerState::Learner => "learner",
        ServerState::Shutdown => "shutdown",
    }
}

/// The status of member `id` from its metrics; a leader whose majority last answered
/// more than `quorum_window` ms ago has lost its quorum. `writable` is the caller's to
/// fill in (it follows the leader's gate, which has a memory).
fn status_of(m: &openraft::RaftMetrics<u64, Member>, id: u64, quorum_window: u64) -> MemberStatus {
    let role = role_name(m.state);
    MemberStatus {
        id,
        member: m
            .membership_config
            .membership()
            .get_node(&id)
            .cloned()
            .unwrap_or_default(),
        role,
        term: m.current_term,
        last_log_index: m.last_log_index,
        applied_index: m.last_applied.map(|l| l.index),
        leader: m.current_leader,
        writable: false,
        quorum: match m.state {
            ServerState::Leader => m.millis_since_quorum_ack.is_some_and(|ms| ms <= quorum_window),
            _ => m.current_leader.is_some(),
        },
        replicated: m
            .replication
            .as_ref()
            .map(|r| r.iter().map(|(id, matched)| (*id, matched.map(|l| l.index))).collect())
            .unwrap_or_default(),
        fingerprint: None,
        restricted: None,
    }
}

/// Calls `changed` with this member's status whenever it changes (openraft reports its
/// metrics on every turn of its loop, heartbeats included, so a lost quorum is seen).
fn watch_role(
    raft: Raft<TypeConfig>,
    id: u64,
    me: Member,
    quorum_window: u64,
    changed: impl Fn(&MemberStatus) + Send + Sync + 'static,
) {
    let mut metrics = raft.metrics();
    tokio::spawn(async move {
        let mut last = None;
        let mut gate = crate::propose::LeaderGate::default();
        loop {
            let m = metrics.borrow_and_update().clone();
            let mut status = status_of(&m, id, quorum_window);
            status.writable = gate.writable(&m);
            status.member = me.clone();
            if last.as_ref() != Some(&status) {
                changed(&status);
                last = Some(status);
            }
            if metrics.changed().await.is_err() {
                return;
            }
        }
    });
}
