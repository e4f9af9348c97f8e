//! The Bolt [`Backend`] of one client connection: relays each transaction to a member.
//!
//! Owns: where each request goes and what its failure means to the client. An explicit
//! transaction (BEGIN .. COMMIT/ROLLBACK) or autocommit statement whose `mode` is `r`
//! goes to the least busy healthy member; anything else to the leader. A transaction
//! stays on its member to the end. Results are read whole from the member (weft-client
//! pipelines RUN and PULL) and handed out by the client's PULLs.
//!
//! Retries, only where nothing can have run twice: a BEGIN, a member that could not be
//! reached, an autocommit write refused at RUN with `NotALeader` (after asking who leads
//! now), and a read whose connection broke. A write whose connection broke after it was
//! sent fails with `CommitOutcomeUnknown`; a transaction whose member was lost before its
//! COMMIT fails as transient (nothing of it committed), so drivers run it again.
//!
//! Metadata passes through: BEGIN's `extra` (bookmarks, `tx_metadata` with its
//! `consistency`, `tx_timeout`, mode) goes to the member as the client sent it. An
//! autocommit statement whose RUN carries such entries is sent as BEGIN + RUN + COMMIT,
//! since weft-client's autocommit RUN sends none of them. `SET SESSION CONSISTENCY` is
//! remembered and told to every member connection of the session before its next use;
//! pymgclient's `BEGIN`/`COMMIT`/`ROLLBACK` statements drive an explicit transaction.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use weft_bolt::control::{control_statement, Control};
use weft_bolt::messages::Dict;
use weft_bolt::packstream::dict_get;
use weft_bolt::session::{single_instance_route, REQUEST_INVALID};
use weft_bolt::{Auth, Backend, BackendError, BoltValue, Progress, RunInfo, Version};
use weft_client::{ClientError, Credentials, QueryResult};

use crate::cluster::{Busy, Cluster, Member, LEADER_WAIT};
use crate::error::{outcome_unknown, unavailable, UNAUTHORIZED};
use crate::links::{request_error, Links, MemberError};

/// Pause before sending a write again after a `NotALeader` (an election, a new leader
/// catching up).
const NOT_A_LEADER_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// The explicit transaction open on a member.
struct OpenTx {
    member: Arc<Member>,
    /// Opened with mode `r`: its member refuses writes in it.
    read: bool,
    /// Counts the transaction in its member's in-flight queries until it ends.
    _busy: Busy,
}

/// Which failures of a try on a member [`ProxyBackend::on_a_member`] tries again after.
#[derive(Clone, Copy)]
struct Retry {
    not_a_leader: bool,
    after_lost: bool,
}

/// A result read from a member, handed out by PULL.
struct Buffered {
    rows: VecDeque<Vec<BoltValue>>,
    summary: Dict,
}

/// One client connection's backend; see the module documentation.
pub struct ProxyBackend {
    cluster: Arc<Cluster>,
    links: Links,
    /// The proxy's address as this client reached it: ROUTE's answer when the client
    /// sends no address of its own.
    local: String,
    tx: Option<OpenTx>,
    results: HashMap<i64, Buffered>,
    next_qid: i64,
}

impl ProxyBackend {
    pub fn new(cluster: Arc<Cluster>, version: Version, local: String) -> ProxyBackend {
        ProxyBackend {
            links: Links::new(cluster.clone(), version),
            cluster,
            local,
            tx: None,
            results: HashMap::new(),
            next_qid: 0,
        }
    }

    /// Opens the connection to one member now, so that wrong credentials fail the log-on
    /// itself; the connection is kept for the session's queries.
    fn check_log_on(&mut self) -> Result<(), BackendError> {
        for _ in 0..=self.cluster.member_count() {
            let Some(member) = self.cluster.pick_reader() else {
                break;
            };
            match self.links.get(&member) {
                Ok(_) => return Ok(()),
                Err(MemberError::Refused(error) | MemberError::NotALeader(error)) => return Err(error),
                Err(MemberError::Unreachable(_) | MemberError::Lost(_)) => {}
            }
        }
        Err(no_member(&self.cluster))
    }

    /// The member for a new transaction: a reader for `read`, else the leader (waiting
    /// until `deadline` while none is known).
    fn choose(&self, read: bool, deadline: Instant) -> Result<Arc<Member>, BackendError> {
        if read {
            return self.cluster.pick_reader().ok_or_else(|| no_member(&self.cluster));
        }
        self.cluster.leader_by(deadline).ok_or_else(|| {
            unavailable(
                "no leader of the cluster is known: it may be electing one or have lost its majority; run the write \
                 again",
            )
        })
    }

    /// Runs `attempt` on the member chosen for a read (`read`) or a write, choosing again
    /// where that is safe: after `NotALeader` when `not_a_leader` says so (a follower
    /// refused a write before running it), after an unreachable member, and after a lost
    /// connection when `after_lost` says so (nothing of it can have run, or it was only a
    /// read). A write lost after it was sent is of unknown outcome. Returns what the try
    /// gave, the member and its in-flight count.
    fn on_a_member<T>(
        &mut self,
        read: bool,
        retry: Retry,
        mut attempt: impl FnMut(&mut crate::links::Link) -> Result<T, MemberError>,
    ) -> Result<(T, Arc<Member>, Busy), BackendError> {
        let deadline = Instant::now() + LEADER_WAIT;
        let mut tries = 0;
        loop {
            tries += 1;
            let member = self.choose(read, deadline)?;
            let busy = member.busy();
            let error = match self.links.get(&member).and_then(&mut attempt) {
                Ok(done) => return Ok((done, member, busy)),
                Err(error) => error,
            };
            drop(busy);
            let again = tries <= self.cluster.member_count() + 1 && Instant::now() < deadline;
            match error {
                MemberError::NotALeader(_) if retry.not_a_leader && again => {
                    self.cluster.not_the_leader(&member);
                    std::thread::sleep(NOT_A_LEADER_PAUSE);
                }
                MemberError::Refused(error) | MemberError::NotALeader(error) => return Err(error),
                MemberError::Unreachable(why) => {
                    self.lost(&member, &why);
                    if !again {
                        return Err(unavailable(format!(
                            "member {} cannot be reached: {why}",
                            member.address
                        )));
                    }
                }
                MemberError::Lost(why) => {
                    self.lost(&member, &why);
                    if !retry.after_lost {
                        return Err(outcome_unknown(&member.address, &why));
                    }
                    if !again {
                        return Err(unavailable(format!("member {} was lost: {why}", member.address)));
                    }
                }
            }
        }
    }

    /// Runs an autocommit statement where `extra` says, retrying where that is safe.
    fn run_autocommit(&mut self, query: &str, parameters: &Dict, extra: &Dict) -> Result<Ran, BackendError> {
        let read = is_read(extra);
        let wrapped = needs_transaction(extra);
        let retry = Retry {
            not_a_leader: !read,
            after_lost: read,
        };
        let (result, member, _busy) = self.on_a_member(read, retry, |link| {
            if wrapped {
                in_transaction(&mut link.client, query, parameters, extra)
            } else if read {
                // Marked read-only on the member too: it refuses to write, so that a read
                // sent again after a lost connection cannot write twice.
                link.client
                    .run_with(query, parameters, &read_mode())
                    .map_err(request_error)
            } else {
                link.client.run(query, parameters).map_err(request_error)
            }
        })?;
        Ok(Ran { result, member })
    }

    /// Runs a statement in the open explicit transaction.
    fn run_in_transaction(&mut self, query: &str, parameters: &Dict) -> Result<Ran, BackendError> {
        let Some(member) = self.tx.as_ref().map(|tx| tx.member.clone()) else {
            return Err(BackendError::new(
                REQUEST_INVALID,
                "RUN in a transaction that is not open; send BEGIN",
            ));
        };
        let ran = match self.links.existing(&member) {
            Some(link) => link.client.run(query, parameters).map_err(request_error),
            None => Err(MemberError::Lost("the connection is gone".into())),
        };
        match ran {
            Ok(result) => Ok(Ran { result, member }),
            Err(error) => {
                self.tx = None;
                Err(self.failed_in_transaction(&member, error))
            }
        }
    }

    /// The client's error for a failure inside a transaction, which has ended with it.
    fn failed_in_transaction(&mut self, member: &Member, error: MemberError) -> BackendError {
        match error {
            MemberError::Refused(error) | MemberError::NotALeader(error) => error,
            MemberError::Unreachable(why) | MemberError::Lost(why) => {
                self.lost(member, &why);
                unavailable(format!(
                    "the connection to member {} was lost in the middle of the transaction; nothing of it was \
                     committed, run it again: {why}",
                    member.address
                ))
            }
        }
    }

    /// `member` broke a connection: it is dropped and the member skipped for a while.
    fn lost(&mut self, member: &Member, why: &str) {
        self.links.drop_link(member);
        self.cluster.mark_down(member, why);
    }

    /// Rolls back the open transaction, if any; a connection that fails doing so is
    /// dropped (the member rolls back what a lost connection left open).
    fn end_transaction(&mut self) {
        let Some(tx) = self.tx.take() else { return };
        if let Some(link) = self.links.existing(&tx.member) {
            if link.client.rollback().is_err_and(|error| error.connection_lost()) {
                self.links.drop_link(&tx.member);
            }
        }
    }

    fn open(&mut self, result: QueryResult) -> RunInfo {
        let qid = self.next_qid;
        self.next_qid += 1;
        let buffered = Buffered {
            rows: result.rows.into(),
            summary: result.summary,
        };
        self.results.insert(qid, buffered);
        RunInfo {
            fields: result.columns,
            qid,
        }
    }

    /// Up to `n` rows (-1: all) of `qid`, closing the result when it runs out.
    fn take(&mut self, qid: i64, n: i64) -> Result<(Vec<Vec<BoltValue>>, Progress), BackendError> {
        let Some(open) = self.results.get_mut(&qid) else {
            let message = format!("query {qid} has no open result; RUN it first");
            return Err(BackendError::new(REQUEST_INVALID, message));
        };
        let wanted = usize::try_from(n).unwrap_or(usize::MAX).min(open.rows.len());
        let rows: Vec<_> = open.rows.drain(..wanted).collect();
        if !open.rows.is_empty() {
            let progress = Progress {
                has_more: true,
                metadata: Vec::new(),
            };
            return Ok((rows, progress));
        }
        let metadata = self.results.remove(&qid).map(|open| open.summary).unwrap_or_default();
        let progress = Progress {
            has_more: false,
            metadata,
        };
        Ok((rows, progress))
    }

    /// The answer to `BEGIN`, `COMMIT` or `ROLLBACK` sent as a statement.
    fn control(&mut self, control: Control) -> Result<RunInfo, BackendError> {
        match control {
            Control::Begin => self.begin(&Vec::new())?,
            Control::Commit => drop(self.commit()?),
            Control::Rollback => self.rollback()?,
        }
        let summary = vec![("type".to_string(), BoltValue::String("r".into()))];
        Ok(self.open(QueryResult {
            summary,
            ..QueryResult::default()
        }))
    }
}

/// A statement's result and the member it ran on.
struct Ran {
    result: QueryResult,
    member: Arc<Member>,
}

impl Backend for ProxyBackend {
    fn hello(&mut self, extra: &Dict) {
        if let Some(agent) = dict_get(extra, "user_agent").and_then(BoltValue::as_str) {
            self.links.set_client_agent(agent);
        }
    }

    fn authenticate(&mut self, auth: &Auth) -> Result<(), BackendError> {
        let credentials = credentials(auth)?;
        self.end_transaction();
        self.results.clear();
        self.links.log_on(credentials.clone());
        self.check_log_on()?;
        self.cluster.client_logged_on(&credentials);
        Ok(())
    }

    fn run(&mut self, query: &str, parameters: &Dict, extra: &Dict, in_tx: bool) -> Result<RunInfo, BackendError> {
        if !in_tx {
            if let Some(control) = control_statement(query) {
                return self.control(control);
            }
        }
        let ran = if in_tx || self.tx.is_some() {
            self.run_in_transaction(query, parameters)?
        } else {
            // The session allows one autocommit result at a time.
            self.results.clear();
            self.run_autocommit(query, parameters, extra)?
        };
        if is_session_consistency(query) {
            self.links.remember_consistency(query, ran.member.id);
        }
        Ok(self.open(ran.result))
    }

    fn pull(&mut self, qid: i64, n: i64) -> Result<(Vec<Vec<BoltValue>>, Progress), BackendError> {
        self.take(qid, n)
    }

    fn discard(&mut self, qid: i64, n: i64) -> Result<Progress, BackendError> {
        self.take(qid, n).map(|(_, progress)| progress)
    }

    fn begin(&mut self, extra: &Dict) -> Result<(), BackendError> {
        self.end_transaction();
        self.results.clear();
        let read = is_read(extra);
        // Nothing ran yet: another member (or the next leader) may take it.
        let retry = Retry {
            not_a_leader: false,
            after_lost: true,
        };
        let ((), member, busy) = self.on_a_member(read, retry, |link| {
            link.client.begin_with(extra.clone()).map_err(request_error)
        })?;
        self.tx = Some(OpenTx {
            member,
            read,
            _busy: busy,
        });
        Ok(())
    }

    fn commit(&mut self) -> Result<Dict, BackendError> {
        let Some(tx) = self.tx.take() else {
            return Err(BackendError::new(REQUEST_INVALID, "COMMIT without an open transaction"));
        };
        let committed = match self.links.existing(&tx.member) {
            Some(link) => link.client.commit_summary().map_err(request_error),
            None => Err(MemberError::Unreachable("the connection is gone".into())),
        };
        match committed {
            Ok(metadata) => Ok(metadata),
            Err(MemberError::Refused(error) | MemberError::NotALeader(error)) => Err(error),
            Err(MemberError::Lost(why)) if !tx.read => {
                self.lost(&tx.member, &why);
                Err(outcome_unknown(&tx.member.address, &why))
            }
            Err(other) => Err(self.failed_in_transaction(&tx.member, other)),
        }
    }

    fn rollback(&mut self) -> Result<(), BackendError> {
        self.end_transaction();
        Ok(())
    }

    fn reset(&mut self) {
        self.end_transaction();
        self.results.clear();
    }

    fn route(&mut self, routing: &Dict, db: Option<&str>) -> Result<Dict, BackendError> {
        // Every role at the proxy itself: drivers send everything here, the proxy routes.
        if dict_get(routing, "address").is_some() {
            return single_instance_route(routing, db);
        }
        let mut routing = routing.clone();
        routing.push(("address".to_string(), BoltValue::String(self.local.clone())));
        single_instance_route(&routing, db)
    }
}

/// An autocommit statement as BEGIN (with the RUN's `extra`), RUN, COMMIT; the summary
/// carries the commit's bookmark. Until COMMIT is sent nothing can have committed, so a
/// connection lost before then is [`MemberError::Unreachable`] (safe to retry).
fn in_transaction(
    client: &mut weft_client::Client,
    query: &str,
    parameters: &Dict,
    extra: &Dict,
) -> Result<QueryResult, MemberError> {
    let before_commit = |error: ClientError| match request_error(error) {
        MemberError::Lost(why) => MemberError::Unreachable(why),
        other => other,
    };
    client.begin_with(extra.clone()).map_err(before_commit)?;
    let mut result = client.run(query, parameters).map_err(before_commit)?;
    let committed = client.commit_summary().map_err(request_error)?;
    result.summary.retain(|(key, _)| dict_get(&committed, key).is_none());
    result.summary.extend(committed);
    Ok(result)
}

/// Whether a BEGIN's or RUN's `extra` marks the transaction read-only (`mode: "r"`).
fn is_read(extra: &Dict) -> bool {
    dict_get(extra, "mode").and_then(BoltValue::as_str) == Some("r")
}

/// Whether an autocommit RUN's `extra` carries what only BEGIN can pass on: bookmarks,
/// transaction metadata (the consistency asked) or a timeout.
fn needs_transaction(extra: &Dict) -> bool {
    extra.iter().any(|(key, value)| match (key.as_str(), value) {
        ("bookmarks", BoltValue::List(list)) => !list.is_empty(),
        ("tx_metadata", BoltValue::Dictionary(entries)) => !entries.is_empty(),
        ("tx_timeout", value) => *value != BoltValue::Null,
        _ => false,
    })
}

/// The credentials to log on to members with: basic or none, as the client sent them.
fn credentials(auth: &Auth) -> Result<Credentials, BackendError> {
    match auth.scheme.as_str() {
        "none" => Ok(Credentials::default()),
        "basic" => Ok(Credentials {
            user: auth.principal.clone(),
            password: auth.credentials.clone(),
        }),
        other => Err(BackendError::new(
            UNAUTHORIZED,
            format!("the proxy passes on basic or no credentials, not the `{other}` scheme"),
        )),
    }
}

fn no_member(cluster: &Cluster) -> BackendError {
    let members: Vec<String> = cluster.members().iter().map(|m| m.address.clone()).collect();
    unavailable(format!(
        "no member of the cluster can be reached now ({}); try again",
        members.join(", ")
    ))
}

/// The RUN metadata that marks a statement read-only.
fn read_mode() -> Dict {
    vec![("mode".to_string(), BoltValue::String("r".into()))]
}

/// Whether `query` is `SET SESSION CONSISTENCY ...`.
fn is_session_consistency(query: &str) -> bool {
    let mut words = query.split_whitespace();
    ["SET", "SESSION", "CONSISTENCY"]
        .iter()
        .all(|expected| words.next().is_some_and(|word| word.eq_ignore_ascii_case(expected)))
}

#[cfg(test)]
mod tests;
