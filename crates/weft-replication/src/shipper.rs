//! The task that feeds one replica: connect, ask what it holds (`Hello`), then keep one
//! record stream open, sending queued records in order and taking its acknowledgements.
//!
//! Owns: the connection life of a [`ReplicaLink`]. Promises: a replica holding commits
//! MAIN never had is marked `diverged` and sent nothing (never overwritten); one missing
//! commits that are no longer queued is marked `behind`; a lost connection is retried
//! with back-off until the link is dropped.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use weft_rpc::client::{channel, ClientConfig};
use weft_rpc::pb::replication_client::ReplicationClient;
use weft_rpc::pb::{HelloRequest, Record, RecordBatch};
use weft_rpc::{Backoff, Identity};

use crate::link::{LinkState, ReplicaLink};
use crate::sink::ReplicationSink;

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

/// One connection: hello, check, then stream until something breaks.
async fn session(link: &ReplicaLink, context: &ShipperContext, backoff: &mut Backoff) -> Result<(), Failure> {
    let unreachable = |what: String| (LinkState::Unreachable, what);
    let channel = channel(&link.address, &context.client).map_err(|e| unreachable(e.to_string()))?;
    let mut client = ReplicationClient::new(channel)
        .max_decoding_message_size(crate::MAX_MESSAGE)
        .max_encoding_message_size(crate::MAX_MESSAGE);
    let header = context.identity.header(&context.sender);
    let hello = HelloRequest {
        header: Some(header.clone()),
        history: Vec::new(),
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
    let held = reply.last_commit_ts;
    let main_last = context.sink.last_ts();
    if held > main_last {
        return Err((
            LinkState::Diverged,
            format!(
                "the replica holds commits up to {held}, newer than this MAIN's last commit {main_last}: \
                 its history diverged from MAIN's; wipe its data directory and register it again"
            ),
        ));
    }
    // Behind is decided before the acknowledgement, which would show the link ready.
    if held < main_last && link.first_prev_after(held) != Some(held) {
        return Err((
            LinkState::Behind,
            format!(
                "the replica holds commits up to {held}, MAIN up to {main_last}, and the commits between are no \
                 longer queued; catch-up from WAL and snapshot files is not available yet: wipe the replica's data \
                 directory and register it again"
            ),
        ));
    }
    link.acknowledge(held);
    backoff.reset();
    let (batches, outgoing) = mpsc::channel::<RecordBatch>(8);
    let mut acks = client
        .records(ReceiverStream::new(outgoing))
        .await
        .map_err(|status| unreachable(status.message().to_string()))?
        .into_inner();
    let mut sent = held;
    loop {
        if link.stopped() {
            return Ok(());
        }
        let records = link.batch_after(sent, context.sink.durable_ts(), BATCH);
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
            permit = batches.reserve(), if !records.is_empty() => {
                let permit = permit.map_err(|_| unreachable("the record stream closed".into()))?;
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
            // Also while records wait for room on the stream: a dropped link ends here.
            _ = link.wake.notified() => {}
        }
    }
}
