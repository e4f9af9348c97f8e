//! Requests about the cluster itself, which only the leader can carry out because they
//! change the membership: adding a member (as a learner that catches up, then as a voter
//! unless it is to stay a learner), removing one, and a member telling its Bolt address
//! (so every member, and every driver asking for a routing table, learns where the others
//! take clients).
//!
//! Owns: the [`AdminRequest`] messages, the leader's handling of them ([`handle`]), the
//! client call that sends one to the leader ([`send`], [`to_leader`]) and each member's
//! announcement of its own Bolt address ([`announce`]). A member that is not the leader
//! answers [`AdminError::NotLeader`] naming the leader it knows; the caller goes there.
//!
//! Adding member N at an address: the leader first sends it [`AdminRequest::Join`], which
//! a member started with only `--node-id N --raft-address` waits for: it learns the
//! cluster's database id from the header and starts its Raft. Then the leader adds it as
//! a learner, waits (bounded) until it holds the log up to the change, and makes it a
//! voter. Promises: a member is never added under another member's id or address, and
//! the last voter is never removed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{ChangeMembershipError, ClientWriteError};
use openraft::{ChangeMembers, Raft};
use serde::{Deserialize, Serialize};
use tonic::transport::Channel;
use tonic::Request;
use weft_rpc::client::{channel, ClientConfig};
use weft_rpc::pb::raft_client::RaftClient;
use weft_rpc::pb::{self, RaftRequest};

use crate::{Member, TypeConfig};

/// A request only the leader carries out (except [`AdminRequest::Join`], see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminRequest {
    /// Member `id` takes Bolt clients at `bolt_address` (its Raft address stays as the
    /// membership has it).
    Announce { id: u64, bolt_address: String },
    /// Adds member `id`, whose Raft service listens at `raft_address`; a voter once it
    /// has caught up, unless `learner`.
    AddMember {
        id: u64,
        raft_address: String,
        learner: bool,
    },
    /// Takes member `id` out of the cluster.
    RemoveMember { id: u64 },
    /// The leader to a member waiting to be added: you are member `id` of the cluster
    /// this request's header names.
    Join { id: u64 },
    /// The log index a read must see applied: the leader's applied index, after it has
    /// confirmed its leadership with a majority when `linearizable`.
    ReadIndex { linearizable: bool },
    /// Member `id`'s graph differs from the leader's (see [`crate::check`]): the leader
    /// sends it a fresh snapshot of its own, which it takes.
    Resync { id: u64 },
    /// Any member, not only the leader: how it is ([`MemberReport`]), for `SHOW CLUSTER`
    /// on another member.
    Status,
}

/// What a member tells of itself when asked ([`AdminRequest::Status`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberReport {
    /// `leader`, `follower`, `candidate`, `learner` or `shutdown`.
    pub role: String,
    pub term: u64,
    pub last_log_index: Option<u64>,
    pub applied_index: Option<u64>,
    /// Its newest fingerprint.
    pub fingerprint: Option<crate::check::CheckedAt>,
    /// Whether its graph differs from the leader's.
    pub restricted: bool,
    /// The client requests it answers now, when its host counts them.
    pub in_flight: Option<u64>,
}

/// What a request that was carried out answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminAnswer {
    Done,
    /// For [`AdminRequest::ReadIndex`]: the index to wait for.
    ReadIndex(u64),
    /// For [`AdminRequest::Status`].
    Status(MemberReport),
}

/// How long the leader waits for a new member to catch up before it leaves it a learner.
pub const CATCH_UP: Duration = Duration::from_secs(600);

/// What a member needs to reach other members: how to connect, its header, and the
/// channels it opened (one per address and time-out, kept: a read index per read must
/// not cost a new connection). Belongs to one running member (channels live on its
/// runtime).
#[derive(Clone, Debug)]
pub struct Reach {
    pub client: ClientConfig,
    pub header: pb::Header,
    channels: Arc<parking_lot::Mutex<HashMap<(String, Duration), Channel>>>,
}

impl Reach {
    pub fn new(client: ClientConfig, header: pb::Header) -> Reach {
        Reach {
            client,
            header,
            channels: Arc::default(),
        }
    }

    /// The same, for calls that may take as long as a new member's catch-up.
    fn patient(&self) -> Reach {
        Reach {
            client: ClientConfig {
                request_timeout: CATCH_UP + Duration::from_secs(60),
                ..self.client.clone()
            },
            ..self.clone()
        }
    }

    /// The same, for calls that must answer within `timeout` (a status asked while a
    /// client waits).
    pub fn brief(&self, timeout: Duration) -> Reach {
        Reach {
            client: ClientConfig {
                request_timeout: timeout,
                connect_timeout: timeout,
                ..self.client.clone()
            },
            ..self.clone()
        }
    }

    /// The channel to `address` (made on first use; it reconnects by itself).
    fn channel(&self, address: &str) -> Result<Channel, weft_rpc::RpcError> {
        let key = (address.to_string(), self.client.request_timeout);
        if let Some(open) = self.channels.lock().get(&key) {
            return Ok(open.clone());
        }
        let made = channel(address, &self.client)?;
        self.channels.lock().insert(key, made.clone());
        Ok(made)
    }
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
pub type AdminReply = Result<AdminAnswer, AdminError>;

/// Held by the leader's membership change in progress.
static CHANGES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Carries out `request` on this member, if it is the leader.
pub async fn handle(raft: &Raft<TypeConfig>, reach: &Reach, request: AdminRequest) -> AdminReply {
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
    // Membership changes one at a time, each judged against the membership as it is once
    // the one before has finished (a removal cannot slip between an announcement's check
    // and its change).
    let _turn = match request {
        AdminRequest::ReadIndex { .. } | AdminRequest::Resync { .. } | AdminRequest::Status => None,
        _ => Some(CHANGES.lock().await),
    };
    let membership = raft.metrics().borrow().membership_config.membership().clone();
    let refused = |e: &dyn std::fmt::Display| AdminError::Refused(e.to_string());
    match request {
        AdminRequest::Announce { id, bolt_address } => {
            let Some(known) = membership.get_node(&id) else {
                return Err(AdminError::Refused(format!("member {id} is not in the cluster")));
            };
            if known.bolt_address == bolt_address {
                return Ok(AdminAnswer::Done);
            }
            let member = Member {
                raft_address: known.raft_address.clone(),
                bolt_address,
            };
            // Replacing a node is safe here: its Raft address, by which the others reach
            // it, does not change.
            let nodes = BTreeMap::from([(id, member)]);
            change(raft, ChangeMembers::SetNodes(nodes), true)
                .await
                .map(|_| AdminAnswer::Done)
        }
        AdminRequest::AddMember {
            id,
            raft_address,
            learner,
        } => {
            let voter = membership.voter_ids().any(|v| v == id);
            match membership.get_node(&id) {
                Some(known) if known.raft_address != raft_address => {
                    return Err(AdminError::Refused(format!(
                        "member {id} is already in the cluster at {}; remove it first to move it",
                        known.raft_address
                    )))
                }
                Some(_) if voter || learner => return Ok(AdminAnswer::Done),
                _ => {}
            }
            if let Some((other, _)) = membership
                .nodes()
                .find(|(o, m)| **o != id && m.raft_address == raft_address)
            {
                return Err(AdminError::Refused(format!(
                    "{raft_address} is the Raft address of member {other} already"
                )));
            }
            join(&raft_address, reach, id).await?;
            let node = Member {
                raft_address: raft_address.clone(),
                bolt_address: String::new(),
            };
            let target = change(raft, ChangeMembers::AddNodes(BTreeMap::from([(id, node)])), true).await?;
            if learner {
                return Ok(AdminAnswer::Done);
            }
            let caught_up = raft
                .wait(Some(CATCH_UP))
                .metrics(
                    |m| {
                        let matched = m.replication.as_ref().and_then(|r| r.get(&id).cloned().flatten());
                        matched.is_some_and(|log| log.index >= target)
                    },
                    "the new member catches up",
                )
                .await;
            if caught_up.is_err() {
                return Err(AdminError::Refused(format!(
                    "member {id} did not catch up within {} s: it stays a learner; ADD MEMBER again makes it a voter \
                     once it has",
                    CATCH_UP.as_secs()
                )));
            }
            change(raft, ChangeMembers::AddVoterIds(BTreeSet::from([id])), false)
                .await
                .map(|_| AdminAnswer::Done)
        }
        AdminRequest::RemoveMember { id } => {
            if membership.get_node(&id).is_none() {
                return Err(AdminError::Refused(format!("member {id} is not in the cluster")));
            }
            let voters: BTreeSet<u64> = membership.voter_ids().collect();
            if voters.contains(&id) {
                if voters.len() == 1 {
                    return Err(AdminError::Refused(format!(
                        "member {id} is the last voter: a cluster cannot go on without one"
                    )));
                }
                change(raft, ChangeMembers::RemoveVoters(BTreeSet::from([id])), false).await?;
            }
            // A voter removed without `retain` is gone already; a learner goes now.
            let still = raft
                .metrics()
                .borrow()
                .membership_config
                .membership()
                .get_node(&id)
                .is_some();
            if still {
                change(raft, ChangeMembers::RemoveNodes(BTreeSet::from([id])), false).await?;
            }
            Ok(AdminAnswer::Done)
        }
        AdminRequest::ReadIndex { linearizable } => {
            let index = if linearizable {
                let (read, _) = raft.get_read_log_id().await.map_err(|e| refused(&e))?;
                read.map_or(0, |log| log.index)
            } else {
                raft.metrics().borrow().last_applied.map_or(0, |log| log.index)
            };
            Ok(AdminAnswer::ReadIndex(index))
        }
        AdminRequest::Resync { id } => {
            if id == me {
                return Err(AdminError::Refused(format!(
                    "member {id} leads: there is no other graph to resync it from"
                )));
            }
            let target = membership
                .get_node(&id)
                .ok_or_else(|| AdminError::Refused(format!("member {id} is not in the cluster")))?;
            let snapshot = fresh_snapshot(raft).await?;
            let vote = raft.metrics().borrow().vote;
            tracing::info!(id, snapshot = %snapshot.meta.snapshot_id, "sending member {id} this leader's snapshot to resync from");
            crate::network::push_resync(reach, id, &target.raft_address, vote, snapshot).await
        }
        AdminRequest::Status => Err(AdminError::Refused(
            "a member answers a status request itself; it does not go to the leader".into(),
        )),
        AdminRequest::Join { .. } => Err(AdminError::Refused(
            "this member is in a cluster already; it joins no other".into(),
        )),
    }
}

/// Longest the leader waits for a snapshot of everything it has applied.
const SNAPSHOT_WAIT: Duration = Duration::from_secs(120);

/// A snapshot of the leader's graph as it is now (built for the purpose, so that it is
/// newer than anything a follower has applied when the request came).
async fn fresh_snapshot(raft: &Raft<TypeConfig>) -> Result<openraft::storage::Snapshot<TypeConfig>, AdminError> {
    let refused = |e: &dyn std::fmt::Display| AdminError::Refused(format!("the leader has no snapshot to send: {e}"));
    let applied = raft.metrics().borrow().last_applied;
    raft.trigger().snapshot().await.map_err(|e| refused(&e))?;
    raft.wait(Some(SNAPSHOT_WAIT))
        .metrics(
            |m| m.snapshot >= applied,
            "the leader's snapshot covers what it applied",
        )
        .await
        .map_err(|e| refused(&e))?;
    raft.get_snapshot()
        .await
        .map_err(|e| refused(&e))?
        .ok_or_else(|| refused(&"none was made"))
}

/// How long a membership change waits for one in progress (an announcement, another
/// member's addition) to finish.
const CHANGE_WAIT: Duration = Duration::from_secs(30);

/// Proposes a membership change, waiting while another one is in progress: openraft
/// takes one at a time.
/// Answers the log index of the change.
async fn change(raft: &Raft<TypeConfig>, changes: ChangeMembers<u64, Member>, retain: bool) -> Result<u64, AdminError> {
    let deadline = tokio::time::Instant::now() + CHANGE_WAIT;
    loop {
        match raft.change_membership(changes.clone(), retain).await {
            Ok(done) => return Ok(done.log_id.index),
            Err(error) => {
                let busy = matches!(
                    error.api_error(),
                    Some(ClientWriteError::ChangeMembershipError(
                        ChangeMembershipError::InProgress(_)
                    ))
                );
                if !busy || tokio::time::Instant::now() >= deadline {
                    return Err(AdminError::Refused(error.to_string()));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// How long the leader keeps trying to reach a new member (it may be starting still).
const JOIN_WAIT: Duration = Duration::from_secs(15);

/// Tells the member at `address` that it is member `id` of this cluster, trying again
/// while it cannot be reached yet.
async fn join(address: &str, reach: &Reach, id: u64) -> AdminReply {
    let deadline = tokio::time::Instant::now() + JOIN_WAIT;
    loop {
        match send(address, reach, &AdminRequest::Join { id }).await {
            Err(AdminError::Unreachable { .. }) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            answer => return answer,
        }
    }
}

/// Sends `request` to the member at `address` and returns its answer.
pub async fn send(address: &str, reach: &Reach, request: &AdminRequest) -> AdminReply {
    let unreachable = |why: String| AdminError::Unreachable {
        address: address.to_string(),
        why,
    };
    let payload = postcard::to_allocvec(request).map_err(|e| unreachable(e.to_string()))?;
    let channel = reach.channel(address).map_err(|e| unreachable(e.to_string()))?;
    let reply = RaftClient::new(channel)
        .admin(Request::new(RaftRequest {
            header: Some(reach.header.clone()),
            payload,
        }))
        .await
        .map_err(|status| unreachable(status.message().to_string()))?;
    postcard::from_bytes::<AdminReply>(&reply.get_ref().payload)
        .map_err(|e| unreachable(format!("an answer that does not decode: {e}")))?
}

/// Carries out `request` here if this member leads, else sends it to the leader it
/// knows (following one more redirect).
pub async fn to_leader(raft: &Raft<TypeConfig>, reach: &Reach, request: &AdminRequest) -> AdminReply {
    let mut answer = handle(raft, reach, request.clone()).await;
    let reach = reach.patient();
    for _ in 0..2 {
        let Err(AdminError::NotLeader {
            leader: Some((_, address)),
            ..
        }) = &answer
        else {
            return answer;
        };
        answer = send(address, &reach, request).await;
    }
    answer
}

/// Keeps this member's Bolt address in the membership: whenever the membership holds
/// another one (or none) and a leader is known, tells the leader; retries every second.
pub fn announce(raft: Raft<TypeConfig>, id: u64, bolt_address: String, reach: Reach) {
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
                match to_leader(&raft, &reach, &request).await {
                    Ok(_) => tracing::info!(id, %bolt_address, "told the leader this member's Bolt address"),
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
