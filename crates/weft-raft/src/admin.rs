//! Requests about the cluster itself, which only the leader can carry out because they
//! change the membership: a member telling its Bolt address (so every member, and every
//! driver asking for a routing table, learns where the others take clients).
//!
//! Owns: the [`AdminRequest`] messages, the leader's handling of them ([`handle`]), the
//! client call that sends one to the leader ([`send`]) and each member's announcement of
//! its own Bolt address ([`announce`]). A member that is not the leader answers
//! [`AdminError::NotLeader`] naming the leader it knows; the caller goes there.

use std::collections::BTreeMap;
use std::time::Duration;

use openraft::{ChangeMembers, Raft};
use serde::{Deserialize, Serialize};
use tonic::Request;
use weft_rpc::client::{channel, ClientConfig};
use weft_rpc::pb::raft_client::RaftClient;
use weft_rpc::pb::{self, RaftRequest};

use crate::{Member, TypeConfig};

/// A request only the leader carries out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminRequest {
    /// Member `id` takes Bolt clients at `bolt_address` (its Raft address stays as the
    /// membership has it).
    Announce { id: u64, bolt_address: String },
}

/// Why an admin request was not carried out.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AdminError {
    #[error("member {me} is not the leader (the leader is {leader:?})")]
    NotLeader { me: u64, leader: Option<(u64, String)> },
    #[error("{0}")]
    Refused(String),
    #[error("cannot reach {address}: {why}")]
    Unreachable { address: String, why: String },
}

/// What the leader answers: done, or why not.
pub type AdminReply = Result<(), AdminError>;

/// Carries out `request` on this member, if it is the leader.
pub async fn handle(raft: &Raft<TypeConfig>, request: AdminRequest) -> AdminReply {
    let (me, leader, membership) = {
        let metrics = raft.metrics();
        let m = metrics.borrow();
        let membership = m.membership_config.membership().clone();
        (m.id, m.current_leader, membership)
    };
    if leader != Some(me) {
        let leader = leader.map(|id| {
            let address = membership.get_node(&id).map(|m| m.raft_address.clone());
            (id, address.unwrap_or_default())
        });
        return Err(AdminError::NotLeader { me, leader });
    }
    match request {
        AdminRequest::Announce { id, bolt_address } => {
            let Some(known) = membership.get_node(&id) else {
                return Err(AdminError::Refused(format!("member {id} is not in the cluster")));
            };
            if known.bolt_address == bolt_address {
                return Ok(());
            }
            let member = Member {
                raft_address: known.raft_address.clone(),
                bolt_address,
            };
            // Replacing a node is safe here: its Raft address, by which the others reach
            // it, does not change.
            let nodes = BTreeMap::from([(id, member)]);
            raft.change_membership(ChangeMembers::SetNodes(nodes), true)
                .await
                .map(drop)
                .map_err(|e| AdminError::Refused(e.to_string()))
        }
    }
}

/// Sends `request` to the member at `address` and returns its answer.
pub async fn send(address: &str, config: &ClientConfig, header: pb::Header, request: &AdminRequest) -> AdminReply {
    let unreachable = |why: String| AdminError::Unreachable {
        address: address.to_string(),
        why,
    };
    let payload = postcard::to_allocvec(request).map_err(|e| unreachable(e.to_string()))?;
    let channel = channel(address, config).map_err(|e| unreachable(e.to_string()))?;
    let reply = RaftClient::new(channel)
        .admin(Request::new(RaftRequest {
            header: Some(header),
            payload,
        }))
        .await
        .map_err(|status| unreachable(status.message().to_string()))?;
    postcard::from_bytes::<AdminReply>(&reply.get_ref().payload)
        .map_err(|e| unreachable(format!("an answer that does not decode: {e}")))?
}

/// Sends `request` to the leader this member knows, following one redirect.
pub async fn to_leader(
    raft: &Raft<TypeConfig>,
    config: &ClientConfig,
    header: &pb::Header,
    request: &AdminRequest,
) -> AdminReply {
    let mut answer = handle(raft, request.clone()).await;
    for _ in 0..2 {
        let Err(AdminError::NotLeader {
            leader: Some((_, address)),
            ..
        }) = &answer
        else {
            return answer;
        };
        answer = send(address, config, header.clone(), request).await;
    }
    answer
}

/// Keeps this member's Bolt address in the membership: whenever the membership holds
/// another one (or none) and a leader is known, tells the leader; retries every `pause`.
pub fn announce(raft: Raft<TypeConfig>, id: u64, bolt_address: String, config: ClientConfig, header: pb::Header) {
    tokio::spawn(async move {
        let mut metrics = raft.metrics();
        loop {
            let due = {
                let m = metrics.borrow_and_update();
                let listed = m.membership_config.membership().get_node(&id).cloned();
                m.current_leader.is_some() && listed.is_some_and(|member| member.bolt_address != bolt_address)
            };
            if due {
                let request = AdminRequest::Announce {
                    id,
                    bolt_address: bolt_address.clone(),
                };
                match to_leader(&raft, &config, &header, &request).await {
                    Ok(()) => tracing::info!(id, %bolt_address, "told the leader this member's Bolt address"),
                    Err(error) => {
                        tracing::debug!(%error, "cannot tell the leader this member's Bolt address yet");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                }
            }
            if metrics.changed().await.is_err() {
                return;
            }
        }
    });
}
