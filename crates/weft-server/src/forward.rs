//! Writes that reach a Raft follower, carried to the leader over Bolt, so that a client
//! connected to any member gets its writes done (the internal proxy).
//!
//! Owns: one connection's link to the leader — a Bolt client connection speaking the
//! client's own protocol version (values pass through unchanged) with the client's
//! credentials — and the transaction forwarded on it. What is forwarded: an autocommit
//! statement this member refused as `NotALeader` before it ran anything, and an explicit
//! transaction that is not read-only (BEGIN without mode "r") begun on a follower, from
//! BEGIN to COMMIT. A forwarded statement's rows are collected on the leader's side and
//! then handed out by PULL.
//!
//! Promises: a member never forwards what arrived forwarded (its connections carry
//! [`FORWARD_AGENT`]), so a stale view of the leader cannot make a loop; the wait for the
//! leader gives the worker slot back; a lost link fails the request with a status that
//! says whether the outcome is known.

use weft_bolt::messages::Dict;
use weft_bolt::{Auth, BackendError, BoltValue, Version};
use weft_client::{Client, ClientError, ConnectOptions, Credentials};

/// The `user_agent` of a member's connection to the leader.
pub const FORWARD_AGENT: &str = concat!("weft-forward/", env!("CARGO_PKG_VERSION"));

/// Whether a session's `user_agent` is a member's link (of any version).
pub fn is_link(user_agent: &str) -> bool {
    user_agent.starts_with("weft-forward/")
}

/// Where a link goes: the leader's member id, Bolt address and term. A new term means a
/// new connection: the one kept may lead to a process that has restarted since.
pub type Leader = (u64, String, u64);

/// A forwarded statement's outcome: its columns, rows and final summary.
pub struct Forwarded {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<BoltValue>>,
    pub summary: Dict,
}

/// One connection's link to the leader; see the module docs.
#[derive(Default)]
pub struct Link {
    /// The open connection and whom it reaches.
    client: Option<(Leader, Client)>,
    /// True while an explicit transaction is open on the leader.
    in_tx: bool,
}

impl Link {
    /// Whether the connection's explicit transaction runs on the leader.
    pub fn in_transaction(&self) -> bool {
        self.in_tx
    }

    /// Runs `query` on `leader` as an autocommit statement.
    pub fn run(
        &mut self,
        leader: &Leader,
        auth: &Auth,
        version: Version,
        query: &str,
        parameters: &Dict,
    ) -> Result<Forwarded, BackendError> {
        self.rollback();
        self.connect(leader, auth, version)?;
        self.run_in_transaction(query, parameters)
    }

    /// Runs `query` in the forwarded transaction (or, from [`Link::run`], on its own).
    pub fn run_in_transaction(&mut self, query: &str, parameters: &Dict) -> Result<Forwarded, BackendError> {
        let Some((_, client)) = self.client.as_mut() else {
            return Err(no_link());
        };
        let ran = weft_storage::slot::outside_slot(|| client.run(query, parameters));
        // An autocommit statement commits on the leader: a link lost meanwhile leaves
        // its outcome unknown.
        let committing = !self.in_tx;
        let result = ran.map_err(|error| self.failed(error, committing))?;
        Ok(Forwarded {
            columns: result.columns,
            rows: result.rows,
            summary: result.summary,
        })
    }

    /// Opens an explicit transaction on the leader with BEGIN's `extra` as the client sent it.
    pub fn begin(&mut self, leader: &Leader, auth: &Auth, version: Version, extra: &Dict) -> Result<(), BackendError> {
        self.rollback();
        let client = self.connect(leader, auth, version)?;
        let begun = weft_storage::slot::outside_slot(|| client.begin_with(extra.clone()));
        begun.map_err(|error| self.failed(error, false))?;
        self.in_tx = true;
        Ok(())
    }

    /// Commits the forwarded transaction; the leader's metadata (its bookmark) goes back.
    pub fn commit(&mut self) -> Result<Dict, BackendError> {
        self.in_tx = false;
        let Some((_, client)) = self.client.as_mut() else {
            return Err(no_link());
        };
        let committed = weft_storage::slot::outside_slot(|| client.commit_summary());
        committed.map_err(|error| self.failed(error, true))
    }

    /// Rolls the forwarded transaction back, if one is open; a link that fails doing so
    /// is dropped (the leader rolls back what a lost connection left open).
    pub fn rollback(&mut self) {
        if !std::mem::take(&mut self.in_tx) {
            return;
        }
        if let Some((_, client)) = self.client.as_mut() {
            let rolled = weft_storage::slot::outside_slot(|| client.rollback());
            if rolled.is_err_and(|e| e.connection_lost()) {
                self.client = None;
            }
        }
    }

    /// The connection to `leader`, opened now unless the open one already goes there.
    fn connect(&mut self, leader: &Leader, auth: &Auth, version: Version) -> Result<&mut Client, BackendError> {
        if self.client.as_ref().is_some_and(|(to, _)| to != leader) {
            self.client = None;
        }
        if self.client.is_none() {
            let basic = auth.scheme == "basic";
            let options = ConnectOptions {
                credentials: Credentials {
                    user: auth.principal.clone().filter(|_| basic),
                    password: auth.credentials.clone().filter(|_| basic),
                },
                user_agent: FORWARD_AGENT.to_string(),
                version: Some(version),
                read_timeout: Some(ANSWER_WAIT),
                ..ConnectOptions::default()
            };
            let connected = weft_storage::slot::outside_slot(|| Client::connect_with(&leader.1, &options));
            let client = connected.map_err(|error| {
                BackendError::new(
                    UNAVAILABLE,
                    format!(
                        "this member is a Raft follower and cannot reach the leader, member {} at {}, to forward \
                         the write: {error}",
                        leader.0, leader.1
                    ),
                )
            })?;
            self.client = Some((leader.clone(), client));
        }
        match self.client.as_mut() {
            Some((_, client)) => Ok(client),
            None => Err(no_link()),
        }
    }

    /// The error a forwarded request ends with. The leader's own refusal passes through
    /// as it is (it has ended its transaction); a lost link is dropped, and a COMMIT
    /// lost on the way has an unknown outcome, which is not retryable.
    fn failed(&mut self, error: ClientError, committing: bool) -> BackendError {
        self.in_tx = false;
        match error {
            ClientError::Query { code, message, .. } => BackendError::new(code, message),
            lost_link => {
                let leader = self
                    .client
                    .take()
                    .map(|((id, address, _), _)| format!("member {id} at {address}"));
                let leader = leader.unwrap_or_else(|| "the leader".into());
                if committing {
                    BackendError::new(
                        "Neo.DatabaseError.Transaction.CommitOutcomeUnknown",
                        format!(
                            "the link to the leader ({leader}) was lost while it ran or committed the forwarded \
                             write; whether it committed is unknown: {lost_link}"
                        ),
                    )
                } else {
                    lost(&leader, &lost_link.to_string())
                }
            }
        }
    }
}

/// Longest wait for the leader's answer to one forwarded request: a leader that stopped
/// answering (paused, cut off) fails the request instead of holding it for ever.
const ANSWER_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Retryable: the leader is out of reach now; a driver tries again.
const UNAVAILABLE: &str = "Neo.TransientError.General.DatabaseUnavailable";

fn no_link() -> BackendError {
    BackendError::new(UNAVAILABLE, "no link to the leader is open; run the transaction again")
}

fn lost(leader: &str, why: &str) -> BackendError {
    BackendError::new(
        UNAVAILABLE,
        format!("the link to the leader ({leader}) was lost while forwarding a write; nothing was committed: {why}"),
    )
}
