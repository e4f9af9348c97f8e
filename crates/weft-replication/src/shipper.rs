//! The task that feeds one replica: connect, ask what it holds (`Hello`), then keep one
//! record stream open, sending queued records in order and taking its acknowledgements.
//!
//! Owns: the connection life of a [`ReplicaLink`]. Promises: a replica holding commits
//! MAIN never had is marked `diverged` and sent nothing (never overwritten); one missing
//! commits that are not queued (registered after them, or fallen further behind than the
//! queue holds) is caught up from files (`catchup.rs`) while it shows `recovery`, and
//! commits do not wait for it meanwhile; a catch-up that cannot go on marks it `behind`
//! and is tried again; a lost connection is retried with back-off until the link is
//! dropped.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use weft_rpc::client::{channel, ClientConfig};
use weft_rpc::pb::replication_client::ReplicationClient;
use weft_rpc::pb::{EpochMark as EpochMarkPb, HelloRequest, PrepareRequest, Record, RecordBatch};
use weft_rpc::{Backoff, Identity};

use weft_storage::durability::CatchUpPlan;

use crate::catchup::{self, RoundItem};
use crate::history::{self, EpochMark};
use crate::link::{LinkState, ReplicaLink, Shipped};
use crate::sink::ReplicationSink;
use crate::Host;

/// Records per message on the stream.
const BATCH: usize = 256;

/// What a shipper needs from its MAIN.
#[derive(Clone)]
pub struct ShipperContext {
    pub identity: Identity,
    /// How this MAIN names itself to replicas.
    pub sender: String,
    pub client: ClientConfig,
    pub sink: Arc<ReplicationSink>,
    pub host: Arc<dyn Host>,
    /// MAIN's ended epochs (its current one is the identity's).
    pub history: Vec<EpochMark>,
}

/// Runs until the link is stopped.
pub async fn run(link: Arc<ReplicaLink>, context: ShipperContext) {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
    while !link.stopped() {
        if let Err((state, error)) = session(&link, &context, &mut backoff).await {
            if link.stopped() {
                break;
            }
            tracing::debug!(replica = %link.name, state = state.name(), %error, "replica link down");
            link.set_state(state, Some(error));
        }
        let pause = backoff.next_delay();
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = link.wake.notified() => {
                // A new record or a stop: look again after the pause, not at once.
                tokio::time::sleep(pause).await;
            }
        }
    }
    link.set_state(LinkState::Unreachable, Some("dropped".into()));
}

type Failure = (LinkState, String);

/// One connection: hello, check, catch up from files if the queue does not reach back
/// far enough, then stream until something breaks.
async fn session(link: &ReplicaLink, context: &ShipperContext, backoff: &mut Backoff) -> Result<(), Failure> {
    let unreachable = |what: String| (LinkState::Unreachable, what);
    let mut client = connect(&link.address, &context.client).map_err(|e| unreachable(e.to_string()))?;
    let header = context.identity.header(&context.sender);
    let main_history = history::marks(&context.history, context.identity.epoch, context.sink.last_ts());
    let hello = HelloRequest {
        header: Some(header.clone()),
        history: main_history.clone(),
    };
    let reply = client
        .hello(hello)
        .await
        .map_err(|status| unreachable(status.message().to_string()))?
        .into_inner();
    if link.stopped() {
        return Ok(());
    }
    // Connected again: what the replica holds decides the state from here.
    link.set_state(LinkState::Recovery, None);
    let mut held = reply.last_commit_ts;
    // A replica that says nothing of its epochs is judged by its newest commit alone.
    let theirs = reply.history.last().cloned().unwrap_or(EpochMarkPb {
        epoch: context.identity.epoch,
        last_commit_ts: held,
    });
    if let Some(why) = history::diverged(&main_history, Some(&theirs)) {
        return Err((LinkState::Diverged, why));
    }
    let durability = context.host.durability();
    if link.needs_files(held, context.sink.durable_ts()) {
        // Decided before the acknowledgement below, which would show the link ready.
        link.begin_catch_up();
        let catch_up = catchup::plan(durability.clone(), held, link.wal_hole_end())
            .await
            .map_err(|e| (LinkState::Behind, e))?;
        tracing::info!(replica = %link.name, held, plan = ?catch_up.plan, "catching a replica up from files");
        if let CatchUpPlan::Snapshot { snapshot, .. } = &catch_up.plan {
            let (installed, bytes) = catchup::send_snapshot(&link.address, &context.client, header.clone(), snapshot)
                .await
                .map_err(|e| (LinkState::Behind, e))?;
            link.shipped(bytes);
            link.snapshot_installed(installed);
            held = installed;
        }
        // The rounds hold the WAL segments they read themselves.
        drop(catch_up);
    }
    link.acknowledge(held);
    backoff.reset();
    let (batches, outgoing) = mpsc::channel::<RecordBatch>(8);
    let mut acks = client
        .records(ReceiverStream::new(outgoing))
        .await
        .map_err(|status| unreachable(status.message().to_string()))?
        .into_inner();
    // STRICT_SYNC prepares go over this connection while it lasts.
    let mut prepares = link.prepare_jobs.lock().await;
    let mut sent = held;
    // A round of records read from files, while one runs; the batch waiting for room.
    let mut files: Option<mpsc::Receiver<RoundItem>> = None;
    let mut pending: Option<Vec<Shipped>> = None;
    loop {
        if link.stopped() {
            return Ok(());
        }
        if pending.is_none() && files.is_none() {
            let durable = context.sink.durable_ts();
            if link.needs_files(sent, durable) {
                if !link.catching_up() {
                    link.begin_catch_up();
                }
                files = Some(catchup::wal_round(durability.clone(), sent, durable));
                continue;
            }
            if link.catching_up() {
                link.end_catch_up();
                tracing::info!(replica = %link.name, sent, "replica caught up from files");
            }
            pending = Some(link.batch_after(sent, durable, BATCH)).filter(|b| !b.is_empty());
        }
        // Acknowledgements are read while records are sent, so a replica slower than
        // MAIN still gets its acks counted.
        tokio::select! {
            biased;
            ack = acks.message() => match ack {
                Ok(Some(ack)) if ack.error.is_empty() => link.acknowledge(ack.durable_ts),
                Ok(Some(ack)) => {
                    link.acknowledge(ack.durable_ts);
                    return Err((LinkState::Behind, format!("the replica stopped taking records: {}", ack.error)));
                }
                Ok(None) => return Err(unreachable("the replica closed the record stream".into())),
                Err(status) => return Err(unreachable(status.message().to_string())),
            },
            item = next_round_item(&mut files), if pending.is_none() && files.is_some() => match item {
                Some(Ok(batch)) => pending = Some(batch),
                Some(Err(error)) => {
                    if let Some(end) = error.hole_end {
                        // The next session plans past it, by a snapshot.
                        link.wal_hole_found(end);
                    }
                    return Err((LinkState::Behind, error.message));
                }
                None => files = None,
            },
            permit = batches.reserve(), if pending.is_some() => {
                let permit = permit.map_err(|_| unreachable("the record stream closed".into()))?;
                let records = pending.take().unwrap_or_default();
                sent = records.last().map_or(sent, |last| last.ts);
                link.shipped(records.iter().map(|s| s.record.len() as u64).sum());
                permit.send(RecordBatch {
                    header: Some(header.clone()),
                    records: records
                        .into_iter()
                        .map(|s| Record {
                            commit_ts: s.ts,
                            prev_commit_ts: s.prev,
                            payload: s.record.to_vec(),
                        })
                        .collect(),
                });
            }
            Some(job) = prepares.recv() => {
                if std::time::Instant::now() >= job.deadline {
                    // Its commit was aborted already: a late prepare must not reach the replica.
                    continue;
                }
                // Its own task: the loop goes on reading acknowledgements meanwhile.
                let (mut client, header) = (client.clone(), header.clone());
                tokio::spawn(async move {
                    let request = PrepareRequest {
                        header: Some(header),
                        record: Some(Record { commit_ts: job.ts, prev_commit_ts: job.prev, payload: job.record }),
                    };
                    let mut request = tonic::Request::new(request);
                    request.set_timeout(job.deadline.saturating_duration_since(std::time::Instant::now()));
                    let outcome = client.prepare(request).await.map(drop).map_err(|s| s.message().to_string());
                    let _ = job.outcome.send(outcome);
                });
            }
            // Also while records wait for room on the stream: a dropped link ends here.
            _ = link.wake.notified() => {}
        }
    }
}

/// A replication client for the replica at `address`, taking messages as large as a
/// commit record may make them.
pub fn connect(address: &str, config: &ClientConfig) -> Result<ReplicationClient<Channel>, weft_rpc::RpcError> {
    Ok(ReplicationClient::new(channel(address, config)?)
        .max_decoding_message_size(crate::MAX_MESSAGE)
        .max_encoding_message_size(crate::MAX_MESSAGE))
}

/// The next item of a running round (never called without one).
async fn next_round_item(files: &mut Option<mpsc::Receiver<RoundItem>>) -> Option<RoundItem> {
    match files {
        Some(files) => files.recv().await,
        None => None,
    }
}
