//! The Bolt [`Backend`] over Weft's query engine: one per connection.
//!
//! Owns: the connection's explicit transaction and its open results. Promises to the
//! session: query errors arrive as [`BackendError`]s carrying the engine's Neo4j status
//! code, and a failed statement ends its transaction; after `reset` no transaction or
//! result is left open, and dropping the backend (a client that hangs up) rolls back.
//!
//! Results stream: RUN starts the statement as an engine [`Cursor`] that owns its
//! transaction, and each PULL runs the pipeline only as far as the rows it asks for, so a
//! large result never sits in server memory. An autocommit statement commits when its last
//! row is pulled (or it is discarded) and reports its bookmark then. Within an explicit
//! transaction only the newest statement streams: RUN, COMMIT and a PULL of an older
//! result first run the streaming statement to its end and keep its remaining rows, so
//! each statement sees exactly the writes made before it.
//!
//! Schema statements in an explicit transaction are collected and applied at its commit;
//! a transaction either changes the schema or writes data (Neo4j's rule, refused with
//! `ForbiddenDueToTransactionType`). `SHOW …` runs anywhere, at once.

use std::collections::{HashMap, VecDeque};

use weft_bolt::control::{control_statement, Control};
use weft_bolt::messages::Dict;
use weft_bolt::{Auth, Backend, BackendError, BoltValue, Dialect, Progress, RunInfo, Version};
use weft_query::{
    forbidden_mix, AccessMode, Cursor, Engine, InTransaction, Mix, QueryError, QueryStats, ResultValue, SchemaChange,
    Txn,
};

use crate::consistency::{self, Consistency};
use crate::convert;
use crate::node::Node;

/// The status code for parameters the engine cannot take.
const PARAMETER_TYPE_ERROR: &str = "Neo.ClientError.Statement.TypeError";

/// One open result of a RUN.
enum Open {
    /// Rows computed ahead, waiting to be pulled, and the final summary.
    Buffered {
        rows: VecDeque<Vec<BoltValue>>,
        summary: Dict,
    },
    /// A running statement. Its cursor owns the transaction: its own when `autocommit`,
    /// else the connection's explicit one until the statement ends.
    Live {
        cursor: Box<Cursor<'static>>,
        autocommit: bool,
    },
}

/// Runs one connection's queries against an [`Engine`].
pub struct EngineBackend {
    /// The one user allowed in, when authentication is on.
    credentials: Option<std::sync::Arc<crate::auth::Credentials>>,
    /// The instance: its role answers ROUTE.
    node: Node,
    engine: Engine,
    dialect: Dialect,
    /// The explicit transaction while no statement of it is streaming.
    tx: Option<Txn>,
    /// True while an explicit transaction is open (its transaction may be in a cursor).
    explicit: bool,
    results: HashMap<i64, Open>,
    next_qid: i64,
    /// The explicit transaction's schema changes, applied at its commit.
    schema: Vec<SchemaChange>,
    /// True once a statement of the explicit transaction has written data.
    wrote_data: bool,
    /// The negotiated Bolt version, which a link to the leader speaks too.
    version: Version,
    /// The credentials the session authenticated with (a link to the leader uses them).
    auth: Auth,
    /// True for a member's link to its leader: what arrives on it is never forwarded.
    forwarded: bool,
    /// The link to the leader that writes reaching a Raft follower go through.
    link: crate::forward::Link,
    /// The session's consistency level (`SET SESSION CONSISTENCY TO …`).
    consistency: Consistency,
}

impl EngineBackend {
    /// A backend writing graph values in `dialect` (chosen by the negotiated version).
    /// With `credentials`, sessions must authenticate as that user; without, anyone may.
    pub fn new(
        node: impl Into<Node>,
        dialect: Dialect,
        credentials: Option<std::sync::Arc<crate::auth::Credentials>>,
    ) -> EngineBackend {
        let node = node.into();
        EngineBackend {
            credentials,
            engine: node.engine().clone(),
            node,
            dialect,
            tx: None,
            explicit: false,
            results: HashMap::new(),
            next_qid: 0,
            schema: Vec::new(),
            wrote_data: false,
            version: Version::V4_4,
            auth: Auth::from_dict(&Vec::new()),
            forwarded: false,
            link: crate::forward::Link::default(),
            consistency: Consistency::None,
        }
    }

    /// Waits, before a transaction starts here, for what it must see: the level its
    /// metadata or the session asks for, and the bookmarks it carries.
    fn before_reading(&self, extra: &Dict) -> Result<(), BackendError> {
        let level = consistency::requested(extra)?.unwrap_or(self.consistency);
        let bookmark = consistency::newest_bookmark(extra)?;
        consistency::before_reading(&self.node, level, bookmark)
    }

    /// The open explicit transaction's terminate flag ([`weft_query::Txn::terminator`]):
    /// set from another thread, it stops the statement running in it. `None` without a
    /// local transaction (none open, or one forwarded to the leader).
    pub fn terminator(&self) -> Option<std::sync::Arc<std::sync::atomic::AtomicBool>> {
        self.tx.as_ref().map(|tx| tx.terminator())
    }

    /// Sets the negotiated Bolt version (the version a link to the leader speaks).
    pub fn speaking(mut self, version: Version) -> EngineBackend {
        self.version = version;
        self
    }

    /// The leader a write that reaches this member goes to: set on a Raft follower
    /// that knows its leader, unless the session is itself a link from another member.
    fn leader(&self) -> Option<crate::forward::Leader> {
        if self.forwarded {
            return None;
        }
        self.node.raft()?.leader_bolt_address()
    }

    /// Runs `query` on the leader as an autocommit statement.
    fn run_on_leader(
        &mut self,
        leader: &crate::forward::Leader,
        query: &str,
        parameters: &Dict,
    ) -> Result<RunInfo, BackendError> {
        let (auth, version) = (self.auth.clone(), self.version);
        self.forwarded(|link| link.run(leader, &auth, version, query, parameters))
    }

    /// A statement `run` on the link to the leader; its rows wait for PULL.
    fn forwarded(
        &mut self,
        run: impl FnOnce(&mut crate::forward::Link) -> Result<crate::forward::Forwarded, BackendError>,
    ) -> Result<RunInfo, BackendError> {
        match run(&mut self.link) {
            Ok(done) => {
                let open = Open::Buffered {
                    rows: done.rows.into(),
                    summary: done.summary,
                };
                Ok(self.open(done.columns, open))
            }
            Err(error) => {
                self.abort();
                Err(error)
            }
        }
    }

    fn open(&mut self, columns: Vec<String>, open: Open) -> RunInfo {
        let qid = self.next_qid;
        self.next_qid += 1;
        self.results.insert(qid, open);
        RunInfo { fields: columns, qid }
    }

    fn rows(&self, rows: Vec<Vec<ResultValue>>) -> Vec<Vec<BoltValue>> {
        let dialect = self.dialect;
        let rows = rows.into_iter();
        rows.map(|row| row.into_iter().map(|v| convert::result_value(v, dialect)).collect())
            .collect()
    }

    /// Ends a statement whose rows are all pulled or discarded: completes its updates,
    /// commits it if it is autocommit (the summary then carries the bookmark) or hands
    /// the explicit transaction back.
    fn end_statement(&mut self, cursor: Cursor<'static>, autocommit: bool) -> Result<Dict, QueryError> {
        let no_columns = cursor.columns().is_empty();
        let plan = cursor.plan().map(plan_metadata);
        let (stats, txn) = cursor.close()?;
        if !autocommit && stats.writes_data() {
            if !self.schema.is_empty() {
                return Err(forbidden_mix(Mix::WritesAfterSchema));
            }
            self.wrote_data = true;
        }
        let mut metadata = summary(no_columns, &stats);
        metadata.extend(plan);
        if autocommit {
            // A statement that wrote nothing (or an admin statement, which commits by
            // itself) saw everything up to the newest commit: that is its bookmark.
            let (ts, warning) = match txn {
                Some(txn) => txn.commit_warned()?,
                None => (None, None),
            };
            let ts = ts.unwrap_or_else(|| self.engine.last_committed());
            metadata.push(("bookmark".to_string(), BoltValue::String(ts.to_string())));
            metadata.extend(notifications(warning));
        } else {
            self.tx = txn;
        }
        Ok(metadata)
    }

    /// Runs the explicit transaction's streaming statement, if any, to its end: its
    /// remaining rows wait in memory and the transaction returns to `self.tx`.
    fn settle(&mut self) -> Result<(), QueryError> {
        let live = self.results.iter().find(|(_, open)| matches!(open, Open::Live { .. }));
        let Some(qid) = live.map(|(qid, _)| *qid) else {
            return Ok(());
        };
        let Some(Open::Live { mut cursor, autocommit }) = self.results.remove(&qid) else {
            return Ok(());
        };
        let rows = cursor.fetch(usize::MAX)?;
        let rows = self.rows(rows).into();
        let summary = self.end_statement(*cursor, autocommit)?;
        self.results.insert(qid, Open::Buffered { rows, summary });
        Ok(())
    }

    /// Takes up to `n` rows (-1: all) of `qid`, closing the result when it runs out.
    fn take(&mut self, qid: i64, n: i64) -> Result<(Vec<Vec<BoltValue>>, Progress), BackendError> {
        let wanted = usize::try_from(n).unwrap_or(usize::MAX);
        let (rows, done) = match self.results.get_mut(&qid) {
            None => {
                let message = format!("query {qid} has no open result; RUN it first");
                return Err(BackendError::new(weft_bolt::session::REQUEST_INVALID, message));
            }
            Some(Open::Buffered { rows, .. }) => {
                let taken: Vec<_> = rows.drain(..wanted.min(rows.len())).collect();
                (taken, rows.is_empty())
            }
            Some(Open::Live { cursor, .. }) => match cursor.fetch(wanted) {
                Ok(fetched) => {
                    let done = cursor.is_exhausted();
                    (self.rows(fetched), done)
                }
                Err(error) => return Err(self.fail(error)),
            },
        };
        if !done {
            let progress = Progress {
                has_more: true,
                metadata: Vec::new(),
            };
            return Ok((rows, progress));
        }
        let metadata = match self.results.remove(&qid) {
            Some(Open::Buffered { summary, .. }) => summary,
            Some(Open::Live { cursor, autocommit }) => {
                self.end_statement(*cursor, autocommit).map_err(|e| self.fail(e))?
            }
            None => Vec::new(),
        };
        Ok((
            rows,
            Progress {
                has_more: false,
                metadata,
            },
        ))
    }

    /// Discards up to `n` rows (-1: all) of `qid`; a live statement still completes its
    /// updates.
    fn skip(&mut self, qid: i64, n: i64) -> Result<Progress, BackendError> {
        if n < 0 {
            if let Some(Open::Live { cursor, autocommit }) = self.results.remove(&qid) {
                let metadata = self.end_statement(*cursor, autocommit).map_err(|e| self.fail(e))?;
                return Ok(Progress {
                    has_more: false,
                    metadata,
                });
            }
        }
        self.take(qid, n).map(|(_, progress)| progress)
    }

    /// A query error: the statement's transaction has ended (the session now fails until
    /// RESET), so nothing of this connection stays open.
    fn fail(&mut self, error: QueryError) -> BackendError {
        self.abort();
        query_error(error)
    }

    fn abort(&mut self) {
        self.link.rollback();
        if let Some(tx) = self.tx.take() {
            tx.abort();
        }
        // Dropping a live cursor drops the transaction it owns, which rolls it back.
        self.results.clear();
        self.explicit = false;
        self.next_qid = 0;
        self.schema.clear();
        self.wrote_data = false;
    }

    /// A schema change in an explicit transaction: collected for the commit.
    fn queue_schema_change(&mut self, change: SchemaChange) -> Result<RunInfo, QueryError> {
        let mode = self.tx.as_ref().map_or(AccessMode::ReadWrite, |tx| tx.mode());
        if let Some(refused) = self.engine.write_refusal(mode) {
            return Err(refused);
        }
        if self.wrote_data {
            return Err(forbidden_mix(Mix::SchemaAfterWrites));
        }
        let summary = summary(true, &change.stats());
        self.schema.push(change);
        let rows = VecDeque::new();
        Ok(self.open(Vec::new(), Open::Buffered { rows, summary }))
    }

    /// An admin statement that runs anywhere (`SHOW …`), run at once outside the
    /// explicit transaction.
    fn run_outside_transaction(
        &mut self,
        query: &str,
        params: &std::collections::BTreeMap<String, weft_common::Value>,
    ) -> Result<RunInfo, QueryError> {
        let mut cursor = self.engine.start(query, params)?;
        let columns = cursor.columns().to_vec();
        let rows = self.rows(cursor.fetch(usize::MAX)?).into();
        let (stats, _) = cursor.close()?;
        let summary = summary(columns.is_empty(), &stats);
        Ok(self.open(columns, Open::Buffered { rows, summary }))
    }
}

impl Backend for EngineBackend {
    fn hello(&mut self, extra: &Dict) {
        let agent = weft_bolt::packstream::dict_get(extra, "user_agent").and_then(BoltValue::as_str);
        self.forwarded = agent.is_some_and(crate::forward::is_link);
    }

    fn authenticate(&mut self, auth: &Auth) -> Result<(), BackendError> {
        self.credentials
            .as_ref()
            .map_or(Ok(()), |credentials| credentials.verify(auth))?;
        if self.auth != *auth {
            // Another user (LOGOFF, then LOGON): a link to the leader speaks for the last one.
            self.link = crate::forward::Link::default();
            self.auth = auth.clone();
        }
        Ok(())
    }

    fn run(&mut self, query: &str, parameters: &Dict, extra: &Dict, in_tx: bool) -> Result<RunInfo, BackendError> {
        let params = convert::parameters(parameters, self.dialect)
            .map_err(|e| BackendError::new(PARAMETER_TYPE_ERROR, e.to_string()))?;
        if let Some(level) = consistency::session_statement(query) {
            self.consistency = level?;
            let open = Open::Buffered {
                rows: VecDeque::new(),
                summary: summary(true, &QueryStats::default()),
            };
            return Ok(self.open(Vec::new(), open));
        }
        // Memgraph's clients (pymgclient) open and close transactions with the statements
        // BEGIN, COMMIT and ROLLBACK sent as queries; they drive the same transaction.
        if !in_tx {
            if let Some(control) = control_statement(query) {
                match control {
                    Control::Begin => self.begin(&Vec::new())?,
                    Control::Commit => self.commit().map(drop)?,
                    Control::Rollback => self.rollback()?,
                }
                let summary = summary(true, &QueryStats::default());
                let open = Open::Buffered {
                    rows: VecDeque::new(),
                    summary,
                };
                return Ok(self.open(Vec::new(), open));
            }
        }
        if self.link.in_transaction() {
            return self.forwarded(|link| link.run_in_transaction(query, parameters));
        }
        if in_tx || self.explicit {
            self.settle().map_err(|e| self.fail(e))?;
            if self.tx.is_some() {
                let outside = match self.engine.classify_in_transaction(query).map_err(|e| self.fail(e))? {
                    InTransaction::Query => None,
                    InTransaction::Schema(change) => Some(self.queue_schema_change(change)),
                    InTransaction::Anywhere => Some(self.run_outside_transaction(query, &params)),
                };
                if let Some(ran) = outside {
                    return ran.map_err(|e| self.fail(e));
                }
            }
            let Some(tx) = self.tx.take() else {
                let message = "RUN inside a transaction that is not open; send BEGIN first";
                return Err(BackendError::new(weft_bolt::session::REQUEST_INVALID, message));
            };
            let cursor = self.engine.start_in(tx, query, &params).map_err(|e| self.fail(e))?;
            let columns = cursor.columns().to_vec();
            let open = Open::Live {
                cursor: Box::new(cursor),
                autocommit: false,
            };
            return Ok(self.open(columns, open));
        }
        // The session allows one autocommit result at a time; a leftover is rolled back.
        self.results.clear();
        if let Err(error) = self.before_reading(extra) {
            // A restricted Raft member still answers SHOW CLUSTER and the like.
            let restricted = self.node.raft().is_some_and(|member| member.read_refusal().is_some());
            if !restricted || !matches!(self.engine.classify_in_transaction(query), Ok(InTransaction::Anywhere)) {
                return Err(error);
            }
        }
        // A statement marked read-only (a driver's read session) refuses to write.
        let mode = if weft_bolt::packstream::dict_get(extra, "mode").and_then(BoltValue::as_str) == Some("r") {
            AccessMode::Read
        } else {
            AccessMode::ReadWrite
        };
        let cursor = match self.engine.start_as(mode, query, &params) {
            Ok(cursor) => cursor,
            // Refused before it ran anything: a write on a follower goes to the leader.
            Err(error) if error.is_redirect() => match self.leader() {
                Some(leader) => return self.run_on_leader(&leader, query, parameters),
                None => return Err(self.fail(error)),
            },
            Err(error) => return Err(self.fail(error)),
        };
        let columns = cursor.columns().to_vec();
        let open = Open::Live {
            cursor: Box::new(cursor),
            autocommit: true,
        };
        Ok(self.open(columns, open))
    }

    fn pull(&mut self, qid: i64, n: i64) -> Result<(Vec<Vec<BoltValue>>, Progress), BackendError> {
        // An older result of the transaction is read only after the newest statement ran.
        if matches!(self.results.get(&qid), Some(Open::Buffered { .. })) {
            self.settle().map_err(|e| self.fail(e))?;
        }
        self.take(qid, n)
    }

    fn discard(&mut self, qid: i64, n: i64) -> Result<Progress, BackendError> {
        self.skip(qid, n)
    }

    fn begin(&mut self, extra: &Dict) -> Result<(), BackendError> {
        self.abort();
        // Drivers mark read transactions (`execute_read`, read sessions) with mode "r":
        // such a transaction refuses writes, as Neo4j's does.
        let read = weft_bolt::packstream::dict_get(extra, "mode").and_then(BoltValue::as_str) == Some("r");
        // A transaction that may write, begun on a Raft follower, runs on the leader.
        if let Some(leader) = self.leader().filter(|_| !read) {
            let (auth, version) = (self.auth.clone(), self.version);
            let extra = consistency::with_level(extra, self.consistency);
            self.link.begin(&leader, &auth, version, &extra)?;
            self.explicit = true;
            return Ok(());
        }
        let mode = if read { AccessMode::Read } else { AccessMode::ReadWrite };
        self.before_reading(extra)?;
        self.tx = Some(self.engine.begin(mode));
        self.explicit = true;
        Ok(())
    }

    fn commit(&mut self) -> Result<Dict, BackendError> {
        if self.link.in_transaction() {
            let committed = self.link.commit();
            self.abort();
            return committed;
        }
        self.settle().map_err(|e| self.fail(e))?;
        let tx = self.tx.take().ok_or_else(|| {
            BackendError::new(
                weft_bolt::session::REQUEST_INVALID,
                "COMMIT without an open transaction",
            )
        })?;
        let schema = std::mem::take(&mut self.schema);
        self.abort();
        let (committed, warning) = tx.commit_warned().map_err(query_error)?;
        // Only a transaction without data writes holds schema changes: they are its commit.
        if !schema.is_empty() {
            self.engine.apply_schema(&schema).map_err(query_error)?;
        }
        // A transaction that wrote nothing has no commit timestamp; it saw everything up
        // to the newest commit, which is the bookmark a causal follower needs.
        let ts = committed
            .filter(|_| schema.is_empty())
            .unwrap_or_else(|| self.engine.last_committed());
        let mut metadata = vec![("bookmark".to_string(), BoltValue::String(ts.to_string()))];
        metadata.extend(notifications(warning));
        Ok(metadata)
    }

    fn rollback(&mut self) -> Result<(), BackendError> {
        self.abort();
        Ok(())
    }

    fn reset(&mut self) {
        self.abort();
    }

    fn route(&mut self, routing: &Dict, db: Option<&str>) -> Result<Dict, BackendError> {
        self.node.route(routing, db)
    }
}

fn query_error(error: QueryError) -> BackendError {
    BackendError::new(error.status(), error.message)
}

/// An EXPLAIN's or PROFILE's plan as the summary entry Neo4j's drivers read
/// (`summary.plan` / `summary.profile`): operator, estimated rows and inputs, and under
/// PROFILE the rows, db hits and time (ns) each operator measured.
fn plan_metadata(tree: &weft_query::PlanTree) -> (String, BoltValue) {
    fn node(t: &weft_query::PlanTree) -> BoltValue {
        let text = |s: &str| BoltValue::String(s.to_string());
        let mut args = vec![("EstimatedRows".to_string(), BoltValue::Float(t.estimated_rows))];
        let mut entries = vec![
            ("operatorType".to_string(), text(&t.operator)),
            ("identifiers".to_string(), BoltValue::List(Vec::new())),
            (
                "children".to_string(),
                BoltValue::List(t.children.iter().map(node).collect()),
            ),
        ];
        if let Some(p) = t.profile {
            let int = |n: u64| BoltValue::Integer(i64::try_from(n).unwrap_or(i64::MAX));
            let time = int(u64::try_from(p.time.as_nanos()).unwrap_or(u64::MAX));
            args.extend([
                ("Rows".to_string(), int(p.rows)),
                ("DbHits".to_string(), int(p.db_hits)),
                ("Time".to_string(), time.clone()),
            ]);
            entries.extend([
                ("rows".to_string(), int(p.rows)),
                ("dbHits".to_string(), int(p.db_hits)),
                ("time".to_string(), time),
                ("pageCacheHits".to_string(), int(0)),
                ("pageCacheMisses".to_string(), int(0)),
            ]);
        }
        entries.push(("args".to_string(), BoltValue::Dictionary(args)));
        BoltValue::Dictionary(entries)
    }
    let key = if tree.profile.is_some() { "profile" } else { "plan" };
    (key.to_string(), node(tree))
}

/// The code of the warning a client gets when a SYNC replica did not confirm its commit.
const REPLICA_MISSED_COMMIT: &str = "Weft.ClientNotification.Replication.ReplicaMissedCommit";

/// A summary's `notifications` entry for a commit that stands degraded, as Neo4j's
/// servers shape a notification (drivers show it beside the result, not as an error).
fn notifications(warning: Option<String>) -> Option<(String, BoltValue)> {
    let warning = warning?;
    let field = |key: &str, value: &str| (key.to_string(), BoltValue::String(value.to_string()));
    let notification = vec![
        field("code", REPLICA_MISSED_COMMIT),
        field("title", "A SYNC replica did not confirm the commit"),
        field("description", &warning),
        field("severity", "WARNING"),
        field("category", "GENERIC"),
    ];
    Some((
        "notifications".to_string(),
        BoltValue::List(vec![BoltValue::Dictionary(notification)]),
    ))
}

/// The final PULL's metadata: the query `type` and the non-zero Neo4j counters.
fn summary(no_columns: bool, stats: &QueryStats) -> Dict {
    let stats = counters(stats);
    let kind = match (stats.is_empty(), no_columns) {
        (true, _) => "r",
        (false, true) => "w",
        (false, false) => "rw",
    };
    let mut metadata = vec![("type".to_string(), BoltValue::String(kind.to_string()))];
    if !stats.is_empty() {
        metadata.push(("stats".to_string(), BoltValue::Dictionary(stats)));
    }
    metadata
}

/// Neo4j's counter names for the non-zero counts.
fn counters(stats: &QueryStats) -> Dict {
    stats
        .neo4j_counters()
        .filter(|(_, count)| *count > 0)
        .map(|(name, count)| {
            (
                name.to_string(),
                BoltValue::Integer(i64::try_from(count).unwrap_or(i64::MAX)),
            )
        })
        .collect()
}
