//! The server's Prometheus metrics: what is counted, and where the numbers are kept.
//!
//! Owns: the process-wide recorder (installed on first use, with its upkeep thread), the
//! metric names, and the per-connection [`Observer`] that derives query, error, latency
//! and transaction counts from the Bolt requests and the session's responses alone — the
//! session and backend stay unaware of metrics. Promises to the HTTP endpoint: a
//! [`PrometheusHandle`] that renders every `weft_` metric in the text format.
//!
//! Replication's figures (per replica, on a MAIN) and a Raft member's (restricted,
//! fingerprint mismatches) are read when `/metrics` is rendered ([`record_replicas`],
//! [`record_raft`]).
//!
//! Counts are per process: several servers in one process (as in tests) share them.

use std::collections::VecDeque;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use weft_bolt::control::{control_statement, Control};

use ::metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use weft_bolt::messages::Dict;
use weft_bolt::{BoltValue, Request, Response};

const REPLICA_BEHIND: &str = "weft_replica_behind_transactions";
const REPLICA_LAG: &str = "weft_replica_lag_seconds";
const REPLICA_CONNECTED: &str = "weft_replica_connected";
const REPLICA_SHIPPED: &str = "weft_replica_shipped_bytes_total";
const CONNECTIONS_OPEN: &str = "weft_connections_open";
const CONNECTIONS_ACCEPTED: &str = "weft_connections_accepted_total";
const QUERIES: &str = "weft_queries_total";
const QUERY_ERRORS: &str = "weft_query_errors_total";
const QUERY_DURATION: &str = "weft_query_duration_seconds";
const COMMITTED: &str = "weft_transactions_committed_total";
const ROLLED_BACK: &str = "weft_transactions_rolled_back_total";
const AUTH_FAILURES: &str = "weft_authentication_failures_total";
const RAFT_RESTRICTED: &str = "weft_raft_restricted";
const RAFT_MISMATCHES: &str = "weft_raft_fingerprint_mismatches_total";

/// Histogram buckets of query latency, in seconds.
const DURATION_BUCKETS: &[f64] = &[0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0];

/// How often histogram samples are folded into their buckets.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The process's recorder, installed by the first caller; `None` when another metrics
/// recorder was installed first (the embedding program then owns the numbers).
pub fn handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE.get_or_init(install).clone()
}

/// Sets the replication figures from the replicas' states (called before rendering).
pub fn record_replicas(replicas: &[weft_replication::LinkStatus]) {
    for replica in replicas {
        let name = replica.name.clone();
        gauge!(REPLICA_BEHIND, "replica" => name.clone()).set(replica.behind as f64);
        gauge!(REPLICA_LAG, "replica" => name.clone()).set(replica.lag.as_secs_f64());
        gauge!(REPLICA_CONNECTED, "replica" => name.clone()).set(if replica.state.connected() { 1.0 } else { 0.0 });
        counter!(REPLICA_SHIPPED, "replica" => name).absolute(replica.shipped_bytes);
    }
}

/// Sets a Raft member's figures: whether its graph differs from the leader's, and how
/// many checks found it so since it started.
pub fn record_raft(member: &crate::raft::RaftMember) {
    gauge!(RAFT_RESTRICTED).set(if member.restricted().is_some() { 1.0 } else { 0.0 });
    counter!(RAFT_MISMATCHES).absolute(member.fingerprint_mismatches());
}

fn install() -> Option<PrometheusHandle> {
    let builder =
        PrometheusBuilder::new().set_buckets_for_metric(Matcher::Full(QUERY_DURATION.into()), DURATION_BUCKETS);
    let installed = builder.and_then(PrometheusBuilder::install_recorder);
    let handle = match installed {
        Ok(handle) => handle,
        Err(error) => {
            tracing::warn!(%error, "metrics are not exported: {error}");
            return None;
        }
    };
    describe();
    let upkeep = handle.clone();
    let spawned = std::thread::Builder::new()
        .name("weft-metrics".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_INTERVAL);
            upkeep.run_upkeep();
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "no metrics upkeep thread; histograms fold only when scraped");
    }
    Some(handle)
}

fn describe() {
    describe_gauge!(
        REPLICA_BEHIND,
        "Commits a replica has not acknowledged yet (queue depth), on a MAIN"
    );
    describe_gauge!(
        REPLICA_LAG,
        Unit::Seconds,
        "How long the oldest commit a replica has not acknowledged has waited, on a MAIN"
    );
    describe_gauge!(
        REPLICA_CONNECTED,
        "1 while a replica takes records (ready or replicating), else 0"
    );
    describe_counter!(REPLICA_SHIPPED, Unit::Bytes, "Commit record bytes sent to a replica");
    describe_gauge!(
        RAFT_RESTRICTED,
        "1 while this Raft member's graph differs from the leader's (it serves no reads and resyncs), else 0"
    );
    describe_counter!(
        RAFT_MISMATCHES,
        "Fingerprint checks that found this Raft member's graph different from the leader's"
    );
    describe_gauge!(CONNECTIONS_OPEN, "Bolt connections open now");
    describe_counter!(CONNECTIONS_ACCEPTED, "Bolt connections accepted");
    describe_counter!(QUERIES, "Queries completed, by the summary's type (r, w, rw, s)");
    describe_counter!(
        QUERY_ERRORS,
        "Query failures, by Neo4j status classification and category"
    );
    describe_histogram!(
        QUERY_DURATION,
        Unit::Seconds,
        "Time from RUN to the final SUCCESS or FAILURE"
    );
    describe_counter!(
        COMMITTED,
        "Transactions committed (BEGIN/COMMIT or the statement COMMIT)"
    );
    describe_counter!(
        ROLLED_BACK,
        "Transactions rolled back, failed to commit, reset or abandoned"
    );
    describe_counter!(AUTH_FAILURES, "HELLO or LOGON requests refused");
    // Unlabelled series show from the first scrape, at zero.
    gauge!(CONNECTIONS_OPEN).increment(0.0);
    for name in [CONNECTIONS_ACCEPTED, COMMITTED, ROLLED_BACK, AUTH_FAILURES] {
        counter!(name).increment(0);
    }
}

/// Counts one open connection while it lives.
pub struct ConnectionGauge(());

impl ConnectionGauge {
    pub fn open() -> ConnectionGauge {
        counter!(CONNECTIONS_ACCEPTED).increment(1);
        gauge!(CONNECTIONS_OPEN).increment(1.0);
        ConnectionGauge(())
    }
}

impl Drop for ConnectionGauge {
    fn drop(&mut self) {
        gauge!(CONNECTIONS_OPEN).decrement(1.0);
    }
}

/// What a request was, as far as the metrics care; taken before the request is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asked {
    Authenticate,
    Run(Option<Control>),
    Stream,
    Begin,
    Commit,
    Rollback,
    Reset,
    Other,
}

impl Asked {
    pub fn of(request: &Request) -> Asked {
        match request {
            Request::Hello { .. } | Request::Logon { .. } => Asked::Authenticate,
            Request::Run { query, .. } => Asked::Run(control_statement(query)),
            Request::Pull { .. } | Request::Discard { .. } => Asked::Stream,
            Request::Begin { .. } => Asked::Begin,
            Request::Commit => Asked::Commit,
            Request::Rollback => Asked::Rollback,
            Request::Reset => Asked::Reset,
            _ => Asked::Other,
        }
    }
}

/// How the connection's open transaction was started, which decides how it can end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tx {
    /// Bolt BEGIN: ends with Bolt COMMIT or ROLLBACK; RUN text goes to the engine.
    Bolt,
    /// RUN "BEGIN": ends with RUN "COMMIT" or "ROLLBACK".
    Text,
}

/// One connection's view of its queries and transactions; an open transaction counts as
/// rolled back when the observer is dropped with the connection.
#[derive(Default)]
pub struct Observer {
    /// Start times of queries RUN but not yet fully pulled, oldest first.
    running: VecDeque<Instant>,
    tx: Option<Tx>,
}

impl Observer {
    /// Records what answering `asked` (received at `started`) with `responses` means.
    pub fn observe(&mut self, asked: Asked, started: Instant, responses: &[Response]) {
        match responses.last() {
            Some(Response::Success { metadata }) => self.succeeded(asked, started, metadata),
            Some(Response::Failure { code, .. }) => self.failed(asked, started, code),
            // IGNORED, or nothing (GOODBYE).
            _ => {}
        }
    }

    fn succeeded(&mut self, asked: Asked, started: Instant, metadata: &Dict) {
        match asked {
            // A RUN opens a result; a control statement outside a Bolt transaction also
            // moves the text transaction.
            Asked::Run(word) => {
                self.running.push_back(started);
                match (word, self.tx) {
                    (_, Some(Tx::Bolt)) | (None, _) => {}
                    (Some(Control::Begin), tx) => self.begin(tx, Tx::Text),
                    (Some(Control::Commit), Some(Tx::Text)) => self.end(COMMITTED),
                    (Some(Control::Rollback), Some(Tx::Text)) => self.end(ROLLED_BACK),
                    (Some(Control::Commit | Control::Rollback), None) => {}
                }
            }
            // Only the last batch of a result carries its type.
            Asked::Stream => {
                if let Some(BoltValue::String(kind)) = weft_bolt::packstream::dict_get(metadata, "type") {
                    counter!(QUERIES, "type" => kind.clone()).increment(1);
                    self.finish_query(None);
                }
            }
            Asked::Begin => self.begin(self.tx, Tx::Bolt),
            Asked::Commit => self.end(COMMITTED),
            Asked::Rollback | Asked::Reset => self.abandon(),
            Asked::Authenticate | Asked::Other => {}
        }
    }

    fn failed(&mut self, asked: Asked, started: Instant, code: &str) {
        match asked {
            Asked::Authenticate => counter!(AUTH_FAILURES).increment(1),
            Asked::Run(_) | Asked::Stream | Asked::Begin | Asked::Commit | Asked::Rollback => {
                let mut parts = code.split('.').skip(1);
                let classification = parts.next().unwrap_or("Unknown").to_string();
                let category = parts.next().unwrap_or("Unknown").to_string();
                counter!(QUERY_ERRORS, "classification" => classification, "category" => category).increment(1);
                let run_started = matches!(asked, Asked::Run(_)).then_some(started);
                self.finish_query(run_started);
                // A failed session drops its results; a failed COMMIT its transaction.
                self.running.clear();
                if asked == Asked::Commit && self.tx.is_some() {
                    self.end(ROLLED_BACK);
                }
            }
            Asked::Reset | Asked::Other => {}
        }
    }

    /// Records the latency of the query started at `started`, or else the oldest running.
    fn finish_query(&mut self, started: Option<Instant>) {
        if let Some(started) = started.or_else(|| self.running.pop_front()) {
            histogram!(QUERY_DURATION).record(started.elapsed().as_secs_f64());
        }
    }

    /// A new transaction replaces (and so rolls back) any open one.
    fn begin(&mut self, open: Option<Tx>, kind: Tx) {
        if open.is_some() {
            counter!(ROLLED_BACK).increment(1);
        }
        self.tx = Some(kind);
    }

    fn end(&mut self, outcome: &'static str) {
        if self.tx.take().is_some() {
            counter!(outcome).increment(1);
        }
    }

    /// ROLLBACK and RESET abort any open transaction and drop open results.
    fn abandon(&mut self) {
        self.end(ROLLED_BACK);
        self.running.clear();
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.end(ROLLED_BACK);
    }
}
