//! The Bolt [`Backend`] over Weft's query engine: one per connection.
//!
//! Owns: the connection's explicit transaction and its open results. Promises to the
//! session: query errors arrive as [`BackendError`]s carrying the engine's Neo4j status
//! code; after `reset` no transaction or result is left open.
//!
//! Results are buffered: RUN executes the whole query and PULL hands out batches of the
//! materialised rows. Streaming through `Engine::cursor` can replace this later without
//! changing the session. Credentials are accepted unchecked until authentication exists.

use std::collections::{HashMap, VecDeque};

use weft_bolt::messages::Dict;
use weft_bolt::{Auth, Backend, BackendError, BoltValue, Dialect, Progress, RunInfo};
use weft_query::{Engine, QueryError, QueryResult, QueryStats};
use weft_storage::{IsolationLevel, Transaction};

use crate::convert;

/// The status code for parameters the engine cannot take.
const PARAMETER_TYPE_ERROR: &str = "Neo.ClientError.Statement.TypeError";

/// A finished query whose rows wait to be pulled.
struct Buffered {
    rows: VecDeque<Vec<BoltValue>>,
    summary: Dict,
}

/// Runs one connection's queries against an [`Engine`].
pub struct EngineBackend {
    engine: Engine,
    dialect: Dialect,
    tx: Option<Transaction>,
    results: HashMap<i64, Buffered>,
    next_qid: i64,
    credentials: Option<std::sync::Arc<crate::auth::Credentials>>,
}

impl EngineBackend {
    /// A backend writing graph values in `dialect` (chosen by the negotiated version).
    /// With `credentials`, sessions must authenticate as that user; without, anyone may.
    pub fn new(
        engine: Engine,
        dialect: Dialect,
        credentials: Option<std::sync::Arc<crate::auth::Credentials>>,
    ) -> EngineBackend {
        EngineBackend {
            credentials,
            engine,
            dialect,
            tx: None,
            results: HashMap::new(),
            next_qid: 0,
        }
    }

    fn buffer(&mut self, result: QueryResult) -> RunInfo {
        let summary = summary(&result);
        let dialect = self.dialect;
        let rows = result.rows.into_iter();
        let rows = rows.map(|row| row.into_iter().map(|v| convert::result_value(v, dialect)).collect());
        let qid = self.next_qid;
        self.next_qid += 1;
        let buffered = Buffered {
            rows: rows.collect(),
            summary,
        };
        self.results.insert(qid, buffered);
        RunInfo {
            fields: result.columns,
            qid,
        }
    }

    /// Takes up to `n` rows (-1: all) of `qid`, closing the result when it runs out.
    fn take(&mut self, qid: i64, n: i64) -> Result<(Vec<Vec<BoltValue>>, Progress), BackendError> {
        let Some(result) = self.results.get_mut(&qid) else {
            let message = format!("query {qid} has no open result; RUN it first");
            return Err(BackendError::new(weft_bolt::session::REQUEST_INVALID, message));
        };
        let count = usize::try_from(n).map_or(result.rows.len(), |n| n.min(result.rows.len()));
        let rows: Vec<_> = result.rows.drain(..count).collect();
        if !result.rows.is_empty() {
            let progress = Progress {
                has_more: true,
                metadata: Vec::new(),
            };
            return Ok((rows, progress));
        }
        let metadata = self.results.remove(&qid).map(|r| r.summary).unwrap_or_default();
        Ok((
            rows,
            Progress {
                has_more: false,
                metadata,
            },
        ))
    }

    fn abort(&mut self) {
        if let Some(tx) = self.tx.take() {
            tx.abort();
        }
        self.results.clear();
        self.next_qid = 0;
    }
}

impl Backend for EngineBackend {
    fn authenticate(&mut self, auth: &Auth) -> Result<(), BackendError> {
        self.credentials
            .as_ref()
            .map_or(Ok(()), |credentials| credentials.verify(auth))
    }

    fn run(&mut self, query: &str, parameters: &Dict, in_tx: bool) -> Result<RunInfo, BackendError> {
        let params =
            convert::parameters(parameters).map_err(|e| BackendError::new(PARAMETER_TYPE_ERROR, e.to_string()))?;
        // Memgraph's clients (pymgclient) open and close transactions with the statements
        // BEGIN, COMMIT and ROLLBACK sent as queries; they drive the same transaction.
        if !in_tx {
            match control_statement(query) {
                Some(Control::Begin) => self.begin(&Vec::new())?,
                Some(Control::Commit) => self.commit().map(drop)?,
                Some(Control::Rollback) => self.rollback()?,
                None => {}
            }
            if control_statement(query).is_some() {
                return Ok(self.buffer(QueryResult::default()));
            }
        }
        let result = match (in_tx || self.tx.is_some(), self.tx.as_mut()) {
            (true, Some(tx)) => self.engine.execute_in(tx, query, &params),
            (true, None) => {
                let message = "RUN inside a transaction that is not open; send BEGIN first";
                return Err(BackendError::new(weft_bolt::session::REQUEST_INVALID, message));
            }
            (false, _) => self.engine.execute(query, &params),
        };
        Ok(self.buffer(result.map_err(query_error)?))
    }

    fn pull(&mut self, qid: i64, n: i64) -> Result<(Vec<Vec<BoltValue>>, Progress), BackendError> {
        self.take(qid, n)
    }

    fn discard(&mut self, qid: i64, n: i64) -> Result<Progress, BackendError> {
        self.take(qid, n).map(|(_, progress)| progress)
    }

    fn begin(&mut self, _extra: &Dict) -> Result<(), BackendError> {
        self.abort();
        self.tx = Some(self.engine.storage().begin(IsolationLevel::SnapshotIsolation));
        Ok(())
    }

    fn commit(&mut self) -> Result<Dict, BackendError> {
        let tx = self.tx.take().ok_or_else(|| {
            BackendError::new(
                weft_bolt::session::REQUEST_INVALID,
                "COMMIT without an open transaction",
            )
        })?;
        self.results.clear();
        self.next_qid = 0;
        let committed = tx.commit().map_err(|e| query_error(QueryError::from(e)))?;
        // A transaction that wrote nothing has no commit timestamp; it saw everything up
        // to the newest commit, which is the bookmark a causal follower needs.
        let ts = committed.unwrap_or_else(|| self.engine.storage().last_committed());
        Ok(vec![("bookmark".to_string(), BoltValue::String(ts.to_string()))])
    }

    fn rollback(&mut self) -> Result<(), BackendError> {
        self.abort();
        Ok(())
    }

    fn reset(&mut self) {
        self.abort();
    }
}

/// A transaction-control statement sent as query text.
enum Control {
    Begin,
    Commit,
    Rollback,
}

fn control_statement(query: &str) -> Option<Control> {
    let word = query.trim().trim_end_matches(';').trim();
    match word.to_ascii_uppercase().as_str() {
        "BEGIN" => Some(Control::Begin),
        "COMMIT" => Some(Control::Commit),
        "ROLLBACK" => Some(Control::Rollback),
        _ => None,
    }
}

fn query_error(error: QueryError) -> BackendError {
    BackendError::new(error.status(), error.message)
}

/// The final PULL's metadata: the query `type` and the non-zero Neo4j counters.
fn summary(result: &QueryResult) -> Dict {
    let stats = counters(&result.stats);
    let kind = match (stats.is_empty(), result.columns.is_empty()) {
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

/// Neo4j's counter names for the non-zero counts; removing a property counts as setting it
/// (to null), as Neo4j reports it.
fn counters(stats: &QueryStats) -> Dict {
    let counts = [
        ("nodes-created", stats.nodes_created),
        ("nodes-deleted", stats.nodes_deleted),
        ("relationships-created", stats.relationships_created),
        ("relationships-deleted", stats.relationships_deleted),
        ("properties-set", stats.properties_set + stats.properties_removed),
        ("labels-added", stats.labels_added),
        ("labels-removed", stats.labels_removed),
        ("indexes-added", stats.indexes_added),
        ("indexes-removed", stats.indexes_removed),
        ("constraints-added", stats.constraints_added),
        ("constraints-removed", stats.constraints_removed),
    ];
    counts
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(name, count)| {
            (
                name.to_string(),
                BoltValue::Integer(i64::try_from(count).unwrap_or(i64::MAX)),
            )
        })
        .collect()
}
