//! Raft between members over the node-to-node RPC crate: openraft's client side
//! ([`Network`], one per peer, made by [`Connector`]) and its server side
//! ([`RaftService`], the `Raft` gRPC service).
//!
//! Owns: carrying openraft's messages, encoded with postcard, in `RaftRequest`s and
//! `RaftReply`s (a reply holds openraft's own result, error included), the per-call
//! deadline openraft asks for, and full snapshots: the storage snapshot file streamed
//! with checksums (weft-rpc's files), the vote and meta in the request metadata. A
//! member answers only members of its own database (the header's database id).

use std::path::PathBuf;

use openraft::error::{Fatal, NetworkError, RPCError, RaftError, RemoteError, ReplicationClosed, StreamingError};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse};
use openraft::storage::Snapshot;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use tonic::{Request, Response, Status, Streaming};
use weft_rpc::client::{channel, ClientConfig};
use weft_rpc::pb::raft_client::RaftClient;
use weft_rpc::pb::{self, RaftReply, RaftRequest};
use weft_rpc::Identity;

use crate::machine::SnapshotFile;
use crate::{Member, TypeConfig};

/// The metadata key that carries a snapshot's vote and meta.
const SNAPSHOT_META: &str = "weft-raft-snapshot-bin";

/// Largest snapshot a member accepts (1 TiB): a bound, not a target.
const MAX_SNAPSHOT: u64 = 1 << 40;

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
        let client = channel(&node.raft_address, &self.config).map(|channel| {
            RaftClient::new(channel)
                .max_decoding_message_size(MAX_MESSAGE)
                .max_encoding_message_size(MAX_MESSAGE)
        });
        Network {
            target,
            address: node.raft_address.clone(),
            client: client.map_err(|e| e.to_string()),
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
    header: pb::Header,
}

impl Network {
    fn client(&self) -> Result<RaftClient<Channel>, NetworkError> {
        self.client
            .clone()
            .map_err(|why| NetworkError::new(&std::io::Error::other(format!("{}: {why}", self.address))))
    }

    /// One unary call: `request` encoded, the reply decoded as openraft's result.
    async fn call<Req, Resp, E>(
        &mut self,
        request: &Req,
        option: &RPCOption,
        vote: bool,
    ) -> Result<Resp, RPCError<u64, Member, RaftError<u64, E>>>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let payload = encode(request).map_err(|e| NetworkError::new(&e))?;
        let mut call = Request::new(RaftRequest {
            header: Some(self.header.clone()),
            payload,
        });
        call.set_timeout(option.hard_ttl());
        let mut client = self.client()?;
        let reply = if vote {
            client.vote(call).await
        } else {
            client.append_entries(call).await
        };
        let reply = reply.map_err(|status| unreachable(&self.address, &status))?;
        let answer: Result<Resp, RaftError<u64, E>> =
            decode(&reply.get_ref().payload).map_err(|status| NetworkError::new(&StatusError(status)))?;
        answer.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

/// A gRPC status as an error value (openraft's errors wrap `std::error::Error`s).
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.message())]
struct StatusError(Status);

/// A failed call: the peer could not be reached, or answered with an error status.
fn unreachable(address: &str, status: &Status) -> openraft::error::Unreachable {
    let error = std::io::Error::other(format!("{address}: {}", status.message()));
    openraft::error::Unreachable::new(&error)
}

impl RaftNetwork<TypeConfig> for Network {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<u64>, RPCError<u64, Member, RaftError<u64>>> {
        self.call(&rpc, &option, false).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<u64>,
        option: RPCOption,
    ) -> Result<VoteResponse<u64>, RPCError<u64, Member, RaftError<u64>>> {
        self.call(&rpc, &option, true).await
    }

    async fn full_snapshot(
        &mut self,
        vote: openraft::Vote<u64>,
        snapshot: Snapshot<TypeConfig>,
        cancel: impl std::future::Future<Output = ReplicationClosed> + Send + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse<u64>, StreamingError<TypeConfig, Fatal<u64>>> {
        let meta = encode(&(vote, snapshot.meta.clone())).map_err(|e| NetworkError::new(&e))?;
        let path = snapshot.snapshot.path.clone();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "snapshot".into());
        let outgoing = weft_rpc::files::send(path, name, self.header.clone(), None);
        let mut call = Request::new(outgoing.chunks);
        call.metadata_mut()
            .insert_bin(SNAPSHOT_META, MetadataValue::from_bytes(&meta));
        call.set_timeout(option.hard_ttl());
        let mut client = self.client()?;
        let reply = tokio::select! {
            reply = client.install_snapshot(call) => reply,
            closed = cancel => return Err(StreamingError::Closed(closed)),
        };
        let reply = reply.map_err(|status| unreachable(&self.address, &status))?;
        let answer: Result<SnapshotResponse<u64>, Fatal<u64>> =
            decode(&reply.get_ref().payload).map_err(|status| NetworkError::new(&StatusError(status)))?;
        answer.map_err(|e| StreamingError::RemoteError(RemoteError::new(self.target, e)))
    }
}

/// The `Raft` gRPC service of one member.
pub struct RaftService {
    pub raft: openraft::Raft<TypeConfig>,
    pub identity: Identity,
    pub name: String,
    /// Where received snapshot files land before they are installed.
    pub incoming: PathBuf,
}

impl RaftService {
    fn reply<T: Serialize>(&self, answer: &T) -> Result<Response<RaftReply>, Status> {
        let payload = encode(answer).map_err(|e| Status::internal(format!("cannot encode the Raft reply: {e}")))?;
        Ok(Response::new(RaftReply {
            header: Some(self.identity.header(&self.name)),
            payload,
        }))
    }
}

#[tonic::async_trait]
impl pb::raft_server::Raft for RaftService {
    async fn append_entries(&self, request: Request<RaftRequest>) -> Result<Response<RaftReply>, Status> {
        self.identity.check(request.get_ref().header.as_ref())?;
        let rpc: AppendEntriesRequest<TypeConfig> = decode(&request.get_ref().payload)?;
        let answer = self.raft.append_entries(rpc).await;
        self.reply(&answer)
    }

    async fn vote(&self, request: Request<RaftRequest>) -> Result<Response<RaftReply>, Status> {
        self.identity.check(request.get_ref().header.as_ref())?;
        let rpc: VoteRequest<u64> = decode(&request.get_ref().payload)?;
        let answer = self.raft.vote(rpc).await;
        self.reply(&answer)
    }

    async fn install_snapshot(
        &self,
        request: Request<Streaming<pb::FileChunk>>,
    ) -> Result<Response<RaftReply>, Status> {
        let meta = request
            .metadata()
            .get_bin(SNAPSHOT_META)
            .ok_or_else(|| Status::invalid_argument("a snapshot without its meta"))?
            .to_bytes()
            .map_err(|e| Status::invalid_argument(format!("the snapshot meta is not binary metadata: {e}")))?;
        let (vote, meta): (openraft::Vote<u64>, Meta) = decode(&meta)?;
        tokio::fs::create_dir_all(&self.incoming)
            .await
            .map_err(|e| Status::internal(format!("cannot create {}: {e}", self.incoming.display())))?;
        let received =
            weft_rpc::files::receive(request.into_inner(), &self.incoming, &self.identity, MAX_SNAPSHOT).await?;
        let snapshot = Snapshot {
            meta,
            snapshot: Box::new(SnapshotFile {
                path: received.path.clone(),
            }),
        };
        let answer = self.raft.install_full_snapshot(vote, snapshot).await;
        // Installed (the state machine kept a copy of its own) or refused: it goes.
        let _ = tokio::fs::remove_file(&received.path).await;
        self.reply(&answer)
    }
}
