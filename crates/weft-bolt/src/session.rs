//! The Bolt server session: which request is legal when, and what the server answers.
//!
//! Owns: the per-connection state machine of the Bolt server, from the end of the version
//! handshake to GOODBYE. It is fed one decoded [`Request`] at a time and returns the
//! [`Response`]s to send, calling a [`Backend`] for everything that needs credentials,
//! storage or the query engine.
//!
//! ```text
//!  Connected --HELLO (4.x, 5.0: carries auth)--------------------------> Ready
//!  Connected --HELLO (5.1+)--> Authentication --LOGON--> Ready --LOGOFF--> Authentication
//!  Ready --RUN--> Streaming --PULL/DISCARD (last batch)--> Ready
//!  Ready --BEGIN--> TxReady --RUN--> TxStreaming --PULL/DISCARD (all streams done)--> TxReady
//!  TxReady --COMMIT/ROLLBACK--> Ready
//!  any FAILURE --> Failed (only RESET is heard; everything else is IGNORED)
//!  RESET (any state after authentication) --> Ready;  GOODBYE (any state) --> Defunct
//! ```
//!
//! Promises to the server above: [`Session::handle`] never panics and never does I/O; after
//! any FAILURE the session is [`State::Failed`] until RESET, except that a failure before
//! authentication completes makes it [`State::Defunct`]; once defunct, the server must close
//! the connection and the session answers nothing more. A request the current state does
//! not allow is a FAILURE with [`REQUEST_INVALID`].
//!
//! Modelling choices: RESET is handled as soon as it is read, so the protocol's transient
//! INTERRUPTED state is never observable and has no variant. The session keeps no clock:
//! `t_first` is 0 and `t_last` is 0 unless the backend's summary gives one. ROUTE is
//! answered with the backend's routing table; by default that of a single instance, which
//! serves every role at the address the client used, so `neo4j://` URIs work too.
//!
//! Needs from below: a [`Backend`] that authenticates, runs queries, streams their
//! records and manages explicit transactions.

use crate::handshake::Version;
use crate::messages::{Dict, Request, Response};
use crate::packstream::{dict_get, BoltValue};

/// What HELLO answers as `server`; drivers check that it starts with `Neo4j/`.
pub const SERVER_AGENT: &str = "Neo4j/5.x compatible Weft/0.1";

/// The status code for a request the session state does not allow.
pub const REQUEST_INVALID: &str = "Neo.ClientError.Request.Invalid";

/// Seconds a driver may keep a routing table before asking again.
pub const ROUTING_TTL: i64 = 300;

/// The status code ROUTE fails with when the client did not say which address it used.
pub const ROUTING_UNSUPPORTED: &str = "Neo.ClientError.Procedure.ProcedureNotFound";

/// From this version HELLO carries no credentials; LOGON and LOGOFF do.
const LOGON_SINCE: Version = Version::new(5, 1);

/// From this version clients may send TELEMETRY.
const TELEMETRY_SINCE: Version = Version::new(5, 4);

/// Credentials from HELLO (before 5.1) or LOGON (5.1+).
#[derive(Clone, PartialEq, Eq)]
pub struct Auth {
    /// `none`, `basic`, `bearer`, `kerberos` or a custom scheme; `none` when absent.
    pub scheme: String,
    pub principal: Option<String>,
    pub credentials: Option<String>,
}

impl Auth {
    /// Reads `scheme`, `principal` and `credentials` from a HELLO extra or LOGON auth map.
    pub fn from_dict(dict: &Dict) -> Auth {
        let text = |key| dict_get(dict, key).and_then(BoltValue::as_str).map(str::to_owned);
        Auth {
            scheme: text("scheme").unwrap_or_else(|| "none".to_string()),
            principal: text("principal"),
            credentials: text("credentials"),
        }
    }
}

/// Credentials never reach logs through `{:?}`.
impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("scheme", &self.scheme)
            .field("principal", &self.principal)
            .field("credentials", &self.credentials.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A failure the client sees as a FAILURE message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct BackendError {
    /// A Neo4j status code such as `Neo.ClientError.Security.Unauthorized`.
    pub code: String,
    /// What went wrong and what the user can do about it.
    pub message: String,
}

impl BackendError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> BackendError {
        BackendError {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// What RUN learned: the result's column names and the id PULL and DISCARD refer to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunInfo {
    pub fields: Vec<String>,
    pub qid: i64,
}

/// Where a result stream stands after PULL or DISCARD.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    /// Whether records remain; the stream stays open while true.
    pub has_more: bool,
    /// Summary entries for the last batch (`type`, `t_last`, `stats`, `bookmark` after
    /// autocommit, ...); ignored while `has_more`.
    pub metadata: Dict,
}

/// What the session needs from the server: authentication, queries and transactions.
///
/// Every call that fails answers the client with a FAILURE carrying the error's code.
/// The session only calls `pull`/`discard` with a `qid` that `run` returned and whose
/// stream is still open, and only calls `commit`/`rollback` inside a transaction.
pub trait Backend {
    /// Sees HELLO's `extra` (`user_agent`, `routing`, ...) before any other call.
    fn hello(&mut self, extra: &Dict) {
        let _ = extra;
    }
    /// Checks credentials; an error closes the connection.
    fn authenticate(&mut self, auth: &Auth) -> Result<(), BackendError>;
    /// Starts a query, in the open transaction if `in_tx`, else as its own autocommit one;
    /// `extra` is RUN's (bookmarks, tx_metadata, mode and db of an autocommit query).
    fn run(&mut self, query: &str, parameters: &Dict, extra: &Dict, in_tx: bool) -> Result<RunInfo, BackendError>;
    /// Up to `n` records (-1: all) of query `qid`. An autocommit query commits when its
    /// last batch is produced and reports its `bookmark` in that batch's metadata.
    fn pull(&mut self, qid: i64, n: i64) -> Result<(Vec<Vec<BoltValue>>, Progress), BackendError>;
    /// Drops up to `n` records (-1: all) of query `qid`, as `pull` without the records.
    fn discard(&mut self, qid: i64, n: i64) -> Result<Progress, BackendError>;
    /// Opens an explicit transaction; `extra` holds bookmarks, mode, db, tx_timeout.
    fn begin(&mut self, extra: &Dict) -> Result<(), BackendError>;
    /// Commits the open transaction; returns its metadata, usually `bookmark`.
    fn commit(&mut self) -> Result<Dict, BackendError>;
    /// Rolls back the open transaction.
    fn rollback(&mut self) -> Result<(), BackendError>;
    /// Drops any open transaction and result streams; cannot fail.
    fn reset(&mut self);
    /// The routing table (`rt`) for ROUTE. The default is a single instance's: every role
    /// (WRITE, READ, ROUTE) at the address the client connected to, from the routing
    /// context the driver sends.
    fn route(&mut self, routing: &Dict, db: Option<&str>) -> Result<Dict, BackendError> {
        single_instance_route(routing, db)
    }
}

/// A single instance's routing table: every role (WRITE, READ, ROUTE) at the address the
/// client connected to, from the routing context the driver sends.
pub fn single_instance_route(routing: &Dict, db: Option<&str>) -> Result<Dict, BackendError> {
    let Some(address) = dict_get(routing, "address").and_then(BoltValue::as_str) else {
        return Err(BackendError::new(
            ROUTING_UNSUPPORTED,
            "ROUTE needs the address the client connected to in its routing context",
        ));
    };
    let server = |role: &str| {
        BoltValue::Dictionary(vec![
            (
                "addresses".to_string(),
                BoltValue::List(vec![BoltValue::String(address.to_string())]),
            ),
            ("role".to_string(), BoltValue::String(role.to_string())),
        ])
    };
    Ok(vec![
        ("ttl".to_string(), BoltValue::Integer(ROUTING_TTL)),
        ("db".to_string(), BoltValue::String(db.unwrap_or("neo4j").to_string())),
        (
            "servers".to_string(),
            BoltValue::List(vec![server("WRITE"), server("READ"), server("ROUTE")]),
        ),
    ])
}

/// Where a session stands; see the module documentation for the transitions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// Handshake done; expects HELLO.
    Connected,
    /// 5.1+: HELLO done; expects LOGON.
    Authentication,
    /// Authenticated, no transaction or result open.
    Ready,
    /// An autocommit query's result is open.
    Streaming { qid: i64 },
    /// An explicit transaction is open, with no result open.
    TxReady,
    /// An explicit transaction with open results; `last` is the newest query's id.
    TxStreaming { open: Vec<i64>, last: i64 },
    /// A request failed; only RESET (or GOODBYE) is heard.
    Failed,
    /// The connection must close.
    Defunct,
}

/// One Bolt connection's protocol state after the handshake.
#[derive(Clone, Debug)]
pub struct Session {
    version: Version,
    connection_id: String,
    state: State,
}

impl Session {
    /// A session for the negotiated `version`, expecting HELLO.
    pub fn new(version: Version) -> Session {
        Session {
            version,
            connection_id: "bolt-0".to_string(),
            state: State::Connected,
        }
    }

    /// Sets the `connection_id` HELLO reports (the server numbers its connections).
    pub fn with_connection_id(mut self, id: impl Into<String>) -> Session {
        self.connection_id = id.into();
        self
    }

    pub fn version(&self) -> Version {
        self.version
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Whether the server must close the connection now.
    pub fn is_defunct(&self) -> bool {
        self.state == State::Defunct
    }

    /// Answers one request: usually one response, RECORDs then SUCCESS for PULL, nothing
    /// for GOODBYE or once the session is defunct.
    pub fn handle(&mut self, request: Request, backend: &mut dyn Backend) -> Vec<Response> {
        match (&self.state, request) {
            // A closed connection answers nothing.
            (State::Defunct, _) => Vec::new(),
            // GOODBYE ends the connection from any state, without a reply.
            (_, Request::Goodbye) => {
                backend.reset();
                self.state = State::Defunct;
                Vec::new()
            }
            // After a failure only RESET is heard.
            (State::Failed, Request::Reset) => self.reset(backend),
            (State::Failed, _) => vec![Response::Ignored],
            // Everything else may fail; a failure before authentication is fatal.
            (state, request) => {
                let authenticated = !matches!(state, State::Connected | State::Authentication);
                self.dispatch(request, backend).unwrap_or_else(|error| {
                    self.state = if authenticated { State::Failed } else { State::Defunct };
                    vec![Response::failure(error.code, error.message)]
                })
            }
        }
    }

    /// The legal requests of each live state; anything else is invalid.
    fn dispatch(&mut self, request: Request, backend: &mut dyn Backend) -> Result<Vec<Response>, BackendError> {
        let logon_flow = self.version >= LOGON_SINCE;
        match (&self.state, request) {
            // HELLO opens the session; before 5.1 it also authenticates.
            (State::Connected, Request::Hello { extra }) => self.hello(&extra, backend),
            // 5.1+: LOGON authenticates, LOGOFF forgets the user.
            (State::Authentication, Request::Logon { auth }) => {
                backend.authenticate(&Auth::from_dict(&auth))?;
                self.state = State::Ready;
                Ok(success(Vec::new()))
            }
            (State::Ready, Request::Logoff) if logon_flow => {
                self.state = State::Authentication;
                Ok(success(Vec::new()))
            }
            // RESET returns any authenticated session to Ready.
            (State::Authentication | State::Connected, Request::Reset) => Err(invalid("RESET", &self.state)),
            (_, Request::Reset) => Ok(self.reset(backend)),
            // Autocommit and transactional queries.
            (
                State::Ready,
                Request::Run {
                    query,
                    parameters,
                    extra,
                },
            ) => self.run(&query, &parameters, &extra, false, backend),
            (
                State::TxReady | State::TxStreaming { .. },
                Request::Run {
                    query,
                    parameters,
                    extra,
                },
            ) => self.run(&query, &parameters, &extra, true, backend),
            // Records from an open result.
            (State::Streaming { .. } | State::TxStreaming { .. }, Request::Pull { n, qid }) => {
                self.pull(n, qid, backend)
            }
            (State::Streaming { .. } | State::TxStreaming { .. }, Request::Discard { n, qid }) => {
                self.discard(n, qid, backend)
            }
            // Explicit transactions.
            (State::Ready, Request::Begin { extra }) => {
                backend.begin(&extra)?;
                self.state = State::TxReady;
                Ok(success(Vec::new()))
            }
            (State::TxReady, Request::Commit) => {
                let metadata = backend.commit()?;
                self.state = State::Ready;
                Ok(success(metadata))
            }
            (State::TxReady, Request::Rollback) => {
                backend.rollback()?;
                self.state = State::Ready;
                Ok(success(Vec::new()))
            }
            // Telemetry is accepted and not recorded.
            (State::Ready, Request::Telemetry { .. }) if self.version >= TELEMETRY_SINCE => Ok(success(Vec::new())),
            (State::Ready, Request::Route { routing, db, .. }) => {
                let table = backend.route(&routing, db.as_deref())?;
                Ok(success(vec![entry("rt", BoltValue::Dictionary(table))]))
            }
            // Anything else is out of order for this state or version.
            (state, request) => Err(invalid(request_name(&request), state)),
        }
    }

    fn hello(&mut self, extra: &Dict, backend: &mut dyn Backend) -> Result<Vec<Response>, BackendError> {
        backend.hello(extra);
        if self.version >= LOGON_SINCE {
            self.state = State::Authentication;
        } else {
            backend.authenticate(&Auth::from_dict(extra))?;
            self.state = State::Ready;
        }
        Ok(success(vec![
            entry("server", BoltValue::String(SERVER_AGENT.to_string())),
            entry("connection_id", BoltValue::String(self.connection_id.clone())),
            entry("hints", BoltValue::Dictionary(Vec::new())),
        ]))
    }

    fn reset(&mut self, backend: &mut dyn Backend) -> Vec<Response> {
        backend.reset();
        self.state = State::Ready;
        success(Vec::new())
    }

    fn run(
        &mut self,
        query: &str,
        parameters: &Dict,
        extra: &Dict,
        in_tx: bool,
        backend: &mut dyn Backend,
    ) -> Result<Vec<Response>, BackendError> {
        let info = backend.run(query, parameters, extra, in_tx)?;
        let fields = info.fields.into_iter().map(BoltValue::String).collect();
        let mut metadata = vec![
            entry("fields", BoltValue::List(fields)),
            entry("t_first", BoltValue::Integer(0)),
        ];
        self.state = match std::mem::replace(&mut self.state, State::Defunct) {
            State::TxStreaming { mut open, .. } => {
                open.push(info.qid);
                State::TxStreaming { open, last: info.qid }
            }
            State::TxReady => State::TxStreaming {
                open: vec![info.qid],
                last: info.qid,
            },
            _ => State::Streaming { qid: info.qid },
        };
        if in_tx {
            metadata.push(entry("qid", BoltValue::Integer(info.qid)));
        }
        Ok(success(metadata))
    }

    fn pull(&mut self, n: i64, qid: i64, backend: &mut dyn Backend) -> Result<Vec<Response>, BackendError> {
        let qid = self.open_stream("PULL", n, qid)?;
        let (records, progress) = backend.pull(qid, n)?;
        let mut responses: Vec<Response> = records.into_iter().map(|fields| Response::Record { fields }).collect();
        responses.extend(self.advance(qid, progress));
        Ok(responses)
    }

    fn discard(&mut self, n: i64, qid: i64, backend: &mut dyn Backend) -> Result<Vec<Response>, BackendError> {
        let qid = self.open_stream("DISCARD", n, qid)?;
        let progress = backend.discard(qid, n)?;
        Ok(self.advance(qid, progress))
    }

    /// The open stream a PULL or DISCARD names (`qid` -1: the newest), if `n` is valid.
    fn open_stream(&self, message: &str, n: i64, qid: i64) -> Result<i64, BackendError> {
        if n == 0 || n < -1 {
            let text = format!("{message} needs n > 0, or -1 for all records, got {n}");
            return Err(BackendError::new(REQUEST_INVALID, text));
        }
        let found = match &self.state {
            State::Streaming { qid: open } => (qid == -1 || qid == *open).then_some(*open),
            State::TxStreaming { open, last } => {
                let wanted = if qid == -1 { *last } else { qid };
                open.contains(&wanted).then_some(wanted)
            }
            _ => None,
        };
        found.ok_or_else(|| {
            let text = format!("{message} names query {qid}, which has no open result; RUN it first");
            BackendError::new(REQUEST_INVALID, text)
        })
    }

    /// The SUCCESS ending a PULL or DISCARD, closing the stream when it is exhausted.
    fn advance(&mut self, qid: i64, progress: Progress) -> Vec<Response> {
        if progress.has_more {
            return success(vec![entry("has_more", BoltValue::Boolean(true))]);
        }
        let mut metadata = progress.metadata;
        let in_tx = matches!(self.state, State::TxStreaming { .. });
        if in_tx {
            // Inside a transaction only COMMIT yields a bookmark.
            metadata.retain(|(key, _)| key != "bookmark");
        }
        default_entry(&mut metadata, "type", BoltValue::String("rw".to_string()));
        default_entry(&mut metadata, "t_last", BoltValue::Integer(0));
        // Some clients (pymgclient) read `has_more` on every PULL summary.
        default_entry(&mut metadata, "has_more", BoltValue::Boolean(false));
        self.close(qid);
        success(metadata)
    }

    fn close(&mut self, qid: i64) {
        self.state = match std::mem::replace(&mut self.state, State::Defunct) {
            State::TxStreaming { mut open, last } => {
                open.retain(|q| *q != qid);
                if open.is_empty() {
                    State::TxReady
                } else {
                    State::TxStreaming { open, last }
                }
            }
            _ => State::Ready,
        };
    }
}

fn success(metadata: Dict) -> Vec<Response> {
    vec![Response::Success { metadata }]
}

fn entry(key: &str, value: BoltValue) -> (String, BoltValue) {
    (key.to_string(), value)
}

fn default_entry(metadata: &mut Dict, key: &str, value: BoltValue) {
    if dict_get(metadata, key).is_none() {
        metadata.push(entry(key, value));
    }
}

fn invalid(message: &str, state: &State) -> BackendError {
    let state = match state {
        State::Connected => "before HELLO",
        State::Authentication => "before LOGON",
        State::Ready => "outside a transaction with no open result",
        State::Streaming { .. } => "while a result is open; PULL or DISCARD it first",
        State::TxReady => "inside a transaction",
        State::TxStreaming { .. } => "inside a transaction with open results; PULL or DISCARD them first",
        State::Failed => "after a failure; send RESET",
        State::Defunct => "after the connection closed",
    };
    BackendError::new(REQUEST_INVALID, format!("{message} is not allowed {state}"))
}

fn request_name(request: &Request) -> &'static str {
    match request {
        Request::Hello { .. } => "HELLO",
        Request::Logon { .. } => "LOGON",
        Request::Logoff => "LOGOFF",
        Request::Goodbye => "GOODBYE",
        Request::Reset => "RESET",
        Request::Run { .. } => "RUN",
        Request::Begin { .. } => "BEGIN",
        Request::Commit => "COMMIT",
        Request::Rollback => "ROLLBACK",
        Request::Discard { .. } => "DISCARD",
        Request::Pull { .. } => "PULL",
        Request::Route { .. } => "ROUTE",
        Request::Telemetry { .. } => "TELEMETRY",
    }
}

#[cfg(test)]
mod tests;
