//! One client session's connections to the members: at most one per member, opened when
//! first needed with the client's credentials and Bolt version, and reused.
//!
//! Owns: opening and dropping these connections, replaying the session's `SET SESSION
//! CONSISTENCY` statement on each before its first use (and again after the session
//! changes it), and sorting a member's failures into the three cases the proxy acts on
//! ([`MemberError`]).
//!
//! Promises: a connection opened before its member was last marked down is dropped
//! instead of used (it may lead to a process that died since); a member that cannot be
//! reached is marked down; every answer is awaited for `--answer-timeout` at most.

use std::collections::HashMap;
use std::sync::Arc;

use weft_bolt::{BackendError, Version};
use weft_client::{Client, ClientError, ConnectOptions, Credentials};

use crate::cluster::{Cluster, Member};
use crate::error::{NOT_A_LEADER, UNAUTHORIZED, UNAVAILABLE};

/// The `user_agent` of a session's connections to the members, before the client's own.
const PROXY_AGENT: &str = concat!("weft-proxy/", env!("CARGO_PKG_VERSION"));

/// How a request to a member failed.
#[derive(Debug)]
pub enum MemberError {
    /// Nothing of the request can have taken effect (the member could not be reached, or
    /// was lost before the statement ran): safe to send it elsewhere.
    Unreachable(String),
    /// The member answered with a failure (or refused the credentials); it passes to the
    /// client unchanged. The member has ended any transaction of the connection.
    Refused(BackendError),
    /// A follower refused an autocommit write with `NotALeader` before running it: safe
    /// to send to the leader.
    NotALeader(BackendError),
    /// The connection broke after the request was sent: what it did is unknown.
    Lost(String),
}

/// A connection to one member.
pub struct Link {
    pub client: Client,
    /// The member's epoch when the connection was opened.
    epoch: u64,
    /// The session's consistency generation this connection was last told.
    consistency: u64,
}

/// The session's connections; see the module documentation.
pub struct Links {
    cluster: Arc<Cluster>,
    options: ConnectOptions,
    open: HashMap<usize, Link>,
    /// The session's `SET SESSION CONSISTENCY` statement, and how often it was set.
    consistency: Option<String>,
    generation: u64,
}

impl Links {
    /// No connections yet; they will speak `version`, as the client does.
    pub fn new(cluster: Arc<Cluster>, version: Version) -> Links {
        let options = ConnectOptions {
            user_agent: PROXY_AGENT.to_string(),
            read_timeout: Some(cluster.answer_timeout),
            version: Some(version),
            ..ConnectOptions::default()
        };
        Links {
            cluster,
            options,
            open: HashMap::new(),
            consistency: None,
            generation: 0,
        }
    }

    /// Names the client in the connections' `user_agent`.
    pub fn set_client_agent(&mut self, agent: &str) {
        self.options.user_agent = format!("{PROXY_AGENT} ({agent})");
    }

    /// The client logged on as `credentials`; connections made for another user go.
    pub fn log_on(&mut self, credentials: Credentials) {
        let same = |a: &Credentials, b: &Credentials| a.user == b.user && a.password == b.password;
        if !same(&self.options.credentials, &credentials) {
            self.open.clear();
            self.options.credentials = credentials;
        }
    }

    /// The connection to `member`, opened now if there is none (or only a stale one),
    /// told the session's consistency if it has not been yet.
    pub fn get(&mut self, member: &Arc<Member>) -> Result<&mut Link, MemberError> {
        let epoch = member.epoch();
        if self.open.get(&member.id).is_some_and(|link| link.epoch != epoch) {
            self.open.remove(&member.id);
        }
        if !self.open.contains_key(&member.id) {
            let connected = Client::connect_with(&member.address, &self.options).map_err(connect_error);
            let client = connected.inspect_err(|error| self.unreachable(member, error))?;
            let link = Link {
                client,
                epoch,
                consistency: 0,
            };
            self.open.insert(member.id, link);
        }
        self.replay_consistency(member)?;
        self.open.get_mut(&member.id).ok_or_else(|| gone(member))
    }

    /// The connection to `member` as it is, if open: the one a transaction runs on.
    pub fn existing(&mut self, member: &Member) -> Option<&mut Link> {
        self.open.get_mut(&member.id)
    }

    /// Drops the connection to `member` (the member rolls back what it left open).
    pub fn drop_link(&mut self, member: &Member) {
        self.open.remove(&member.id);
    }

    /// The session set its consistency with `statement`, which already ran on the
    /// connection to member `ran_on`; the others are told before their next use.
    pub fn remember_consistency(&mut self, statement: &str, ran_on: usize) {
        self.generation += 1;
        self.consistency = Some(statement.to_string());
        if let Some(link) = self.open.get_mut(&ran_on) {
            link.consistency = self.generation;
        }
    }

    fn replay_consistency(&mut self, member: &Member) -> Result<(), MemberError> {
        let Some(statement) = self.consistency.as_deref() else {
            return Ok(());
        };
        let Some(link) = self.open.get_mut(&member.id) else {
            return Err(gone(member));
        };
        if link.consistency == self.generation {
            return Ok(());
        }
        match link.client.run(statement, &Vec::new()) {
            Ok(_) => {
                link.consistency = self.generation;
                Ok(())
            }
            Err(error) => {
                let error = match request_error(error) {
                    MemberError::Lost(why) => MemberError::Unreachable(why),
                    other => other,
                };
                self.open.remove(&member.id);
                self.unreachable(member, &error);
                Err(error)
            }
        }
    }

    /// Marks `member` down if `error` says it cannot be reached.
    fn unreachable(&self, member: &Member, error: &MemberError) {
        if let MemberError::Unreachable(why) = error {
            self.cluster.mark_down(member, why);
        }
    }
}

fn gone(member: &Member) -> MemberError {
    MemberError::Unreachable(format!("the connection to member {} is gone", member.address))
}

/// Sorts a failure to connect and log on. A member that closes the connection during the
/// log-on has refused the credentials (Weft closes after such a FAILURE, which the client
/// then cannot report as such); one that cannot be connected to is unreachable.
pub fn connect_error(error: ClientError) -> MemberError {
    use std::io::ErrorKind;
    match error {
        ClientError::Query { code, message, .. } => MemberError::Refused(BackendError::new(code, message)),
        ClientError::Closed => MemberError::Refused(logon_refused()),
        ClientError::Io(io) if matches!(io.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => {
            MemberError::Refused(logon_refused())
        }
        ClientError::NoCommonVersion => MemberError::Refused(BackendError::new(
            UNAVAILABLE,
            "a member speaks no Bolt version this client speaks; connect to the proxy with Bolt 4.4 or 5.x",
        )),
        other => MemberError::Unreachable(other.to_string()),
    }
}

fn logon_refused() -> BackendError {
    BackendError::new(
        UNAUTHORIZED,
        "the cluster's member closed the connection while the proxy logged on with your credentials: it refused \
         them (the proxy passes basic or no credentials through as they are)",
    )
}

/// Sorts a failure of a request on an open connection.
pub fn request_error(error: ClientError) -> MemberError {
    match error {
        ClientError::Query { code, message, at_run } if at_run && code == NOT_A_LEADER => {
            MemberError::NotALeader(BackendError::new(code, message))
        }
        ClientError::Query { code, message, .. } => MemberError::Refused(BackendError::new(code, message)),
        lost => MemberError::Lost(lost.to_string()),
    }
}
