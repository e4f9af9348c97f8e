//! Raft between members over the node-to-node RPC crate: openraft's client side
//! ([`Network`], one per peer, made by [`Connector`]) and its server side
//! ([`RaftService`], the `Raft` gRPC service).
//!
//! Owns: carrying openraft's messages, encoded with postcard, in `RaftRequest`s and
//! `RaftReply`s (a reply holds openraft's own result, error included), the per-call
//! deadline openraft asks for, and full snapshots: the storage snapshot file streamed
//! with checksums (weft-rpc's files), the vote and meta in the request metadata. A
//! member answers only members of its own database (the header's database id), except
//! for the join that tells a new member which database that is ([`crate::admin`]).

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use tokio::sync::oneshot;

use openraft::error::{
    Fatal, NetworkError, PayloadTooLarge, RPCError, RaftError, RemoteError, ReplicationClosed, StreamingError,
    Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse};
use openraft::storage::Snapshot;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status, Streaming};
use weft_rpc::client::{channel, ClientConfig};
use weft_rpc::pb::raft_client::RaftClient;
use weft_rpc::pb::{self, RaftReply, RaftRequest};
use weft_rpc::Identity;

use crate::admin::{AdminAnswer, AdminError, AdminReply, AdminRequest, MemberReport, Reach};
use crate::machine::{SnapshotFile, StateMachine};
use crate::{Member, TypeConfig};

/// The metadata key that carries a snapshot's vote and meta.
const SNAPSHOT_META: &str = "weft-raft-snapshot-bin";

/// The metadata key that marks a snapshot sent for a resync (see [`crate::check`]): the
/// member takes it as its own and restarts, rather than installing it through openraft.
const RESYNC: &str = "weft-raft-resync";

/// Largest snapshot a member accepts (1 TiB): a bound, not a target.
const MAX_SNAPSHOT: u64 = 1 << 40;

/// Longest a snapshot's transfer and install may take.
const SNAPSHOT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Largest append of more than one entry (bytes): small enough to reach a follower and be
/// fsynced there within a heartbeat interval.
const APPEND_BUDGET: usize = 1 << 20;

/// Largest message: a batch of entries may carry large commit records.
pub const MAX_MESSAGE: usize = 256 << 20;

type Meta = openraft::SnapshotMeta<u64, Member>;

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, postcard::Error> {
    postcard::to_allocvec(value)
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Status> {
    postcard::from_bytes(bytes)
        .map_err(|e| Status::invalid_argument(format!("a Raft message that does not decode: {e}")))
}

/// Makes a [`Network`] for each peer openraft talks to.
#[derive(Clone)]
pub struct Connector {
    pub identity: Identity,
    /// This member's name in the peers' logs and errors.
    pub name: String,
    pub config: ClientConfig,
}

impl RaftNetworkFactory<TypeConfig> for Connector {
    type Network = Network;

    async fn new_client(&mut self, target: u64, node: &Member) -> Network {
        let connect = |config: &ClientConfig| {
            channel(&node.raft_address, config)
                .map(|channel| {
                    RaftClient::new(channel)
                        .max_decoding_message_size(MAX_MESSAGE)
                        .max_encoding_message_size(MAX_MESSAGE)
                })
                .map_err(|e| e.to_string())
        };
        // A snapshot's transfer and install take as long as its size needs: its channel
        // has no request deadline of its own; openraft cancels a transfer it gives up on.
        let long = ClientConfig {
            request_timeout: SNAPSHOT_DEADLINE,
            ..self.config.clone()
        };
        Network {
            target,
            address: node.raft_address.clone(),
            client: connect(&self.config),
            snapshot_client: connect(&long),
            header: self.identity.header(&self.name),
        }
    }
}

/// openraft's connection to one peer.
pub struct Network {
    target: u64,
    address: String,
    /// Why there is no client, when the peer's address is not one.
    client: Result<RaftClient<Channel>, String>,
    snapshot_client: Result<RaftClient<Channel>, String>,
    header: pb::Header,
}

impl Network {
    fn client(&self, snapshot: bool) -> Result<RaftClient<Channel>, Unreachable> {
        let client = if snapshot { &self.snapshot_client } else { &self.client };
        client
            .clone()
            .map_err(|why| Unreachable::new(&std::io::Error::other(format!("{}: {why}", self.address))))
    }

    /// One unary call: `request` encoded, the reply decoded as openraft's result.
    /// `entries`: how many log entries the request carries (for a too-large answer).
    async fn call<Req, Resp, E>(
        &mut self,
        request: &Req,
        option: &RPCOption,
        vote: bool,
        entries: u64,
    ) -> Result<Resp, RPCError<u64, Member, RaftError<u64, E>>>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let payload = encode(request).map_err(|e| NetworkError::new(&e))?;
        // openraft gives an append one heartbeat interval: a batch too large to send and
        // fsync in that time would time out again on every retry, and the follower would
        // never catch up. Asking for fewer entries keeps each append small.
        if entries > 1 && payload.len() > APPEND_BUDGET {
            let fit = (entries as usize * APPEND_BUDGET / payload.len()).max(1) as u64;
            return Err(PayloadTooLarge::new_entries_hint(fit.min(entries - 1)).into());
        }
        let mut call = Request::new(RaftRequest {
            header: Some(self.header.clone()),
            payload,
        });
        call.set_timeout(option.hard_ttl());
        let mut client = self.client(false)?;
        let reply = if vote {
            client.vote(call).await
        } else {
            client.append_entries(call).await
        };
        let reply = reply.map_err(|status| call_error(&self.address, &status, entries))?;
        let answer: Result<Resp, RaftError<u64, E>> =
            decode(&reply.get_ref().payload).map_err(|status| NetworkError::new(&StatusError(status)))?;
        answer.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

/// A gRPC status as an error value (openraft's errors wrap `std::error::Error`s).
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.message())]
struct StatusError(Status);

/// A failed call, as openraft should treat it: a peer that cannot be reached (openraft
/// backs off before it tries again), a message too large for the peer (it sends fewer
/// entries), or any other failure of the call (it tries again at once).
fn call_error<E: std::error::Error>(address: &str, status: &Status, entries: u64) -> RPCError<u64, Member, E> {
    let error = std::io::Error::other(format!("{address}: {}", status.message()));
    match status.code() {
        Code::Unavailable | Code::FailedPrecondition | Code::Unimplemented => Unreachable::new(&error).into(),
        Code::OutOfRange | Code::ResourceExhausted if entries > 1 => {
            PayloadTooLarge::new_entries_hint(entries / 2).into()
        }
        _ => NetworkError::new(&error).into(),
    }
}

impl RaftNetwork<TypeConfig> for Network {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<u64>, RPCError<u64, Member, RaftError<u64>>> {
        let entries = rpc.entries.len() as u64;
        self.call(&rpc, &option, false, entries).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<u64>,
        option: RPCOption,
    ) -> Result<VoteResponse<u64>, RPCError<u64, Member, RaftError<u64>>> {
        self.call(&rpc, &option, true, 0).await
    }

    async fn full_snapshot(
        &mut self,
        vote: openraft::Vote<u64>,
        snapshot: Snapshot<TypeConfig>,
        cancel: impl std::future::Future<Output = ReplicationClosed> + Send + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse<u64>, StreamingError<TypeConfig, Fatal<u64>>> {
        let _ = option;
        let reply = self.send_snapshot(vote, &snapshot, false, cancel).await?;
        let answer: Result<SnapshotResponse<u64>, Fatal<u64>> =
            decode(&reply.payload).map_err(|status| NetworkError::new(&StatusError(status)))?;
        answer.map_err(|e| StreamingError::RemoteError(RemoteError::new(self.target, e)))
    }
}

impl Network {
    /// Streams `snapshot`'s file to the peer, its vote and meta in the metadata (marked
    /// as a resync when `resync`); the peer's reply.
    async fn send_snapshot(
        &mut self,
        vote: openraft::Vote<u64>,
        snapshot: &Snapshot<TypeConfig>,
        resync: bool,
        cancel: impl std::future::Future<Output = ReplicationClosed> + Send + 'static,
    ) -> Result<RaftReply, StreamingError<TypeConfig, Fatal<u64>>> {
        let meta = encode(&(vote, snapshot.meta.clone())).map_err(|e| NetworkError::new(&e))?;
        // A name of its own for each transfer: a receiver never confuses two of them.
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!("snapshot-{}-{nonce:x}.snap", snapshot.meta.snapshot_id);
        let outgoing = weft_rpc::files::send(snapshot.snapshot.path.clone(), name, self.header.clone(), None);
        let mut call = Request::new(outgoing.chunks);
        call.metadata_mut()
            .insert_bin(SNAPSHOT_META, MetadataValue::from_bytes(&meta));
        if resync {
            call.metadata_mut().insert(RESYNC, MetadataValue::from_static("1"));
        }
        let mut client = self.client(true)?;
        let reply = tokio::select! {
            reply = client.install_snapshot(call) => reply,
            closed = cancel => return Err(StreamingError::Closed(closed)),
        };
        let reply = reply.map_err(|status| match call_error::<Fatal<u64>>(&self.address, &status, 0) {
            RPCError::Unreachable(e) => StreamingError::Unreachable(e),
            _ => StreamingError::Network(NetworkError::new(&StatusError(status))),
        })?;
        Ok(reply.into_inner())
    }
}

/// Sends member `target` (at `address`) the leader's `snapshot` to resync from, and
/// waits until it has taken it.
pub async fn push_resync(
    reach: &Reach,
    target: u64,
    address: &str,
    vote: openraft::Vote<u64>,
    snapshot: Snapshot<TypeConfig>,
) -> AdminReply {
    let unreachable = |why: String| AdminError::Unreachable {
        address: address.to_string(),
        why,
    };
    let client = channel(
        address,
        &ClientConfig {
            request_timeout: SNAPSHOT_DEADLINE,
            ..reach.client.clone()
        },
    )
    .map(|channel| RaftClient::new(channel).max_decoding_message_size(MAX_MESSAGE))
    .map_err(|e| e.to_string());
    let mut network = Network {
        target,
        address: address.to_string(),
        client: client.clone(),
        snapshot_client: client,
        header: reach.header.clone(),
    };
    let never = std::future::pending::<ReplicationClosed>();
    let reply = network
        .send_snapshot(vote, &snapshot, true, never)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    decode::<AdminReply>(&reply.payload).map_err(|status| unreachable(status.message().to_string()))?
}

/// The `Raft` gRPC service of one member. It serves before the member's Raft exists: a
/// member waiting to be added answers only [`AdminRequest::Join`] until then, and
/// everything else is `Unavailable` (openraft retries).
pub struct RaftService {
    raft: Arc<OnceLock<openraft::Raft<TypeConfig>>>,
    /// The cluster's identity; unknown to a member until it has joined.
    identity: Arc<OnceLock<Identity>>,
    /// This member's id: the one a join must name.
    id: u64,
    name: String,
    /// Where received snapshot files land before they are installed.
    incoming: PathBuf,
    /// How the leader reaches other members (for ADD MEMBER's join).
    reach: Arc<OnceLock<Reach>>,
    /// While the member waits to be added: where to say that it was, and as what.
    joined: Arc<Mutex<Option<oneshot::Sender<Identity>>>>,
    /// The member's state machine (a resync hands it the leader's snapshot).
    machine: Arc<OnceLock<StateMachine>>,
}

/// The handles the member keeps to finish starting a [`RaftService`] it serves.
#[derive(Clone)]
pub struct ServiceHandles {
    pub raft: Arc<OnceLock<openraft::Raft<TypeConfig>>>,
    pub identity: Arc<OnceLock<Identity>>,
    pub reach: Arc<OnceLock<Reach>>,
    pub machine: Arc<OnceLock<StateMachine>>,
}

impl RaftService {
    /// The service of member `id`; snapshot files land in `incoming`, which belongs to it
    /// alone: what a transfer cut short left there is removed now. `joined` is told the
    /// cluster's identity when a leader adds this member (for a member that waits).
    pub fn new(
        id: u64,
        name: String,
        incoming: PathBuf,
        joined: Option<oneshot::Sender<Identity>>,
    ) -> (RaftService, ServiceHandles) {
        if let Ok(listing) = std::fs::read_dir(&incoming) {
            for file in listing.flatten() {
                let _ = std::fs::remove_file(file.path());
            }
        }
        let handles = ServiceHandles {
            raft: Arc::default(),
            identity: Arc::default(),
            reach: Arc::default(),
            machine: Arc::default(),
        };
        let service = RaftService {
            raft: handles.raft.clone(),
            identity: handles.identity.clone(),
            id,
            name,
            incoming,
            reach: handles.reach.clone(),
            joined: Arc::new(Mutex::new(joined)),
            machine: handles.machine.clone(),
        };
        (service, handles)
    }

    fn identity(&self) -> Result<&Identity, Status> {
        self.identity
            .get()
            .ok_or_else(|| Status::unavailable(format!("{} waits to be added to a cluster", self.name)))
    }

    /// The member's Raft, once the sender is known to belong to its cluster.
    fn checked(&self, header: Option<&pb::Header>) -> Result<&openraft::Raft<TypeConfig>, Status> {
        self.identity()?.check(header)?;
        self.raft
            .get()
            .ok_or_else(|| Status::unavailable(format!("{} is starting", self.name)))
    }

    fn reply<T: Serialize>(&self, answer: &T) -> Result<Response<RaftReply>, Status> {
        let payload = encode(answer).map_err(|e| Status::internal(format!("cannot encode the Raft reply: {e}")))?;
        let header = self.identity.get().map(|identity| identity.header(&self.name));
        Ok(Response::new(RaftReply { header, payload }))
    }

    /// How this member is, for another member's `SHOW CLUSTER`.
    fn report(&self, raft: &openraft::Raft<TypeConfig>) -> MemberReport {
        let machine = self.machine.get();
        let m = raft.metrics().borrow().clone();
        MemberReport {
            role: crate::node::role_name(m.state).to_string(),
            term: m.current_term,
            last_log_index: m.last_log_index,
            applied_index: m.last_applied.map(|l| l.index),
            fingerprint: machine.and_then(|m| m.fingerprints().latest()),
            restricted: machine.is_some_and(|m| m.fingerprints().restricted().is_some()),
            in_flight: machine.and_then(StateMachine::in_flight),
        }
    }

    /// A leader adds this member as `id`, for the cluster `remote` speaks for.
    fn join(&self, id: u64, remote: Identity) -> AdminReply {
        if id != self.id {
            return Err(AdminError::Refused(format!(
                "{} is member {}, not {id}",
                self.name, self.id
            )));
        }
        if let Some(known) = self.identity.get() {
            return if known.database == remote.database {
                Ok(AdminAnswer::Done)
            } else {
                Err(AdminError::Refused(format!(
                    "{} belongs to database {} already, not to {}",
                    self.name, known.database, remote.database
                )))
            };
        }
        let Some(joined) = self.joined.lock().take() else {
            return Err(AdminError::Refused(format!("{} is not waiting to join", self.name)));
        };
        joined
            .send(remote)
            .map(|()| AdminAnswer::Done)
            .map_err(|_| AdminError::Refused(format!("{} has stopped", self.name)))
    }
}

#[tonic::async_trait]
impl pb::raft_server::Raft for RaftService {
    async fn append_entries(&self, request: Request<RaftRequest>) -> Result<Response<RaftReply>, Status> {
        let raft = self.checked(request.get_ref().header.as_ref())?;
        let rpc: AppendEntriesRequest<TypeConfig> = decode(&request.get_ref().payload)?;
        let answer = raft.append_entries(rpc).await;
        self.reply(&answer)
    }

    async fn vote(&self, request: Request<RaftRequest>) -> Result<Response<RaftReply>, Status> {
        let raft = self.checked(request.get_ref().header.as_ref())?;
        let rpc: VoteRequest<u64> = decode(&request.get_ref().payload)?;
        let answer = raft.vote(rpc).await;
        self.reply(&answer)
    }

    async fn install_snapshot(
        &self,
        request: Request<Streaming<pb::FileChunk>>,
    ) -> Result<Response<RaftReply>, Status> {
        let raft = self
            .raft
            .get()
            .ok_or_else(|| Status::unavailable(format!("{} is starting", self.name)))?;
        let identity = self.identity()?;
        let meta = request
            .metadata()
            .get_bin(SNAPSHOT_META)
            .ok_or_else(|| Status::invalid_argument("a snapshot without its meta"))?
            .to_bytes()
            .map_err(|e| Status::invalid_argument(format!("the snapshot meta is not binary metadata: {e}")))?;
        let (vote, meta): (openraft::Vote<u64>, Meta) = decode(&meta)?;
        let resync = request.metadata().get(RESYNC).is_some();
        let restricted = self
            .machine
            .get()
            .is_some_and(|m| m.fingerprints().restricted().is_some());
        if resync && !restricted {
            let refused: AdminReply = Err(AdminError::Refused(format!(
                "{}'s graph agrees with the leader's: it takes no snapshot to resync",
                self.name
            )));
            return self.reply(&refused);
        }
        tokio::fs::create_dir_all(&self.incoming)
            .await
            .map_err(|e| Status::internal(format!("cannot create {}: {e}", self.incoming.display())))?;
        let received = weft_rpc::files::receive(request.into_inner(), &self.incoming, identity, MAX_SNAPSHOT).await?;
        if resync {
            let machine = self
                .machine
                .get()
                .ok_or_else(|| Status::unavailable(format!("{} is starting", self.name)))?;
            let answer = crate::check::take_leader_snapshot(raft, machine, meta, &received.path).await;
            let _ = tokio::fs::remove_file(&received.path).await;
            return self.reply(&answer);
        }
        let snapshot = Snapshot {
            meta,
            snapshot: Box::new(SnapshotFile {
                path: received.path.clone(),
            }),
        };
        let answer = raft.install_full_snapshot(vote, snapshot).await;
        // Installed (the state machine kept a copy of its own) or refused: it goes.
        let _ = tokio::fs::remove_file(&received.path).await;
        self.reply(&answer)
    }

    async fn admin(&self, request: Request<RaftRequest>) -> Result<Response<RaftReply>, Status> {
        let admin: AdminRequest = decode(&request.get_ref().payload)?;
        if let AdminRequest::Join { id } = admin {
            let (remote, _) = Identity::read(request.get_ref().header.as_ref())?;
            return self.reply(&self.join(id, remote));
        }
        let raft = self.checked(request.get_ref().header.as_ref())?;
        if admin == AdminRequest::Status {
            let answer: AdminReply = Ok(AdminAnswer::Status(self.report(raft)));
            return self.reply(&answer);
        }
        let reach = self
            .reach
            .get()
            .ok_or_else(|| Status::unavailable(format!("{} is starting", self.name)))?;
        let answer = crate::admin::handle(raft, reach, admin).await;
        self.reply(&answer)
    }
}
