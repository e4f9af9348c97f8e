//! MAIN's side of a catch-up: what a shipper sends a replica whose missing commits are no
//! longer (or never were) in its queue.
//!
//! Owns: running durability's choice of files (WAL records only, or a snapshot and the WAL
//! records after it, whichever is fewer bytes) off the async runtime, streaming the
//! snapshot file, and reading WAL records in rounds on a blocking thread.
//! Promises: only records MAIN holds durably are read (a round stops at the durable
//! timestamp it was started with); each record carries the commit before it in MAIN's log,
//! the first one the commit the round started after (the plan made sure the log reaches
//! back to it, and the reading stops at a hole inside it); the files read are held
//! against retention until the round or transfer ends.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use weft_rpc::client::ClientConfig;
use weft_rpc::pb::Header;
use weft_storage::durability::{CatchUp, Durability, SnapshotInfo};

use crate::link::{Shipped, BATCH_BYTES};

/// Records per batch a round hands to the shipper.
const ROUND_BATCH: usize = 256;

/// What a round yields: a batch of records, or why it could not go on.
pub type RoundItem = Result<Vec<Shipped>, RoundError>;

/// Why a round stopped.
#[derive(Debug)]
pub struct RoundError {
    pub message: String,
    /// The WAL misses the commits before this one: the next catch-up must go by a
    /// snapshot past it.
    pub hole_end: Option<u64>,
}

impl From<String> for RoundError {
    fn from(message: String) -> Self {
        RoundError {
            message,
            hole_end: None,
        }
    }
}

/// Chooses how a replica holding every commit up to `held` catches up (possibly taking a
/// snapshot first), with the files held; `hole_end` is where a hole found in the WAL
/// ends (0: none), which only a snapshot gets a replica past.
pub async fn plan(durability: Arc<Durability>, held: u64, hole_end: u64) -> Result<CatchUp, String> {
    tokio::task::spawn_blocking(move || durability.plan_catch_up_past(held, hole_end).map_err(|e| e.to_string()))
        .await
        .map_err(|e| format!("planning the catch-up failed: {e}"))?
}

/// Longest a snapshot transfer and install may take: a bound, not a target (the usual
/// request deadline would cut off any snapshot larger than a few seconds of transfer).
const SNAPSHOT_DEADLINE: Duration = Duration::from_secs(24 * 3600);

/// Streams `snapshot` to the replica at `address`, which installs it; the snapshot's
/// timestamp once the replica holds it, and the bytes sent.
pub async fn send_snapshot(
    address: &str,
    config: &ClientConfig,
    header: Header,
    snapshot: &SnapshotInfo,
) -> Result<(u64, u64), String> {
    let config = ClientConfig {
        request_timeout: SNAPSHOT_DEADLINE,
        ..config.clone()
    };
    let mut client = crate::shipper::connect(address, &config).map_err(|e| e.to_string())?;
    let name = snapshot
        .path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("the snapshot {} has no file name", snapshot.path.display()))?
        .to_string();
    let outgoing = weft_rpc::files::send(snapshot.path.clone(), name, header, None);
    let receipt = client
        .send_file(outgoing.chunks)
        .await
        .map_err(|status| format!("the replica did not take the snapshot: {}", status.message()))?
        .into_inner();
    let sent = outgoing
        .reader
        .await
        .map_err(|e| format!("reading the snapshot failed: {e}"))?
        .map_err(|e| format!("reading the snapshot {} failed: {e}", snapshot.path.display()))?;
    if receipt.size != sent.size || receipt.crc32c != sent.crc32c {
        return Err(format!(
            "the replica received {} bytes (CRC {:08x}) of the snapshot, {} bytes (CRC {:08x}) were sent",
            receipt.size, receipt.crc32c, sent.size, sent.crc32c
        ));
    }
    Ok((snapshot.ts, sent.size))
}

/// Reads the WAL records after `after` and up to `durable` on a blocking thread, in
/// batches of about [`BATCH_BYTES`]; the channel closes when the round is done. A round
/// that meets damage or ends before `durable` (the log lacks records MAIN acknowledged)
/// fails saying where a snapshot must take over ([`RoundError::hole_end`]), so that the
/// next catch-up is not the same round again.
pub fn wal_round(durability: Arc<Durability>, after: u64, durable: u64) -> mpsc::Receiver<RoundItem> {
    let (batches, receiver) = mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        if let Err(error) = read_round(&durability, after, durable, &batches) {
            let _ = batches.blocking_send(Err(error));
        }
    });
    receiver
}

fn read_round(
    durability: &Durability,
    after: u64,
    durable: u64,
    out: &mpsc::Sender<RoundItem>,
) -> Result<(), RoundError> {
    let Some((_held, records)) = durability.wal_after(after).map_err(|e| e.to_string())? else {
        return Err(format!(
            "MAIN's WAL no longer holds the commits after {after} (retention removed them); a snapshot is needed"
        )
        .into());
    };
    let (mut prev, mut batch, mut bytes) = (after, Vec::new(), 0);
    let now = Instant::now();
    for record in records {
        let (ts, record) = record.map_err(|e| RoundError {
            message: format!("reading MAIN's WAL for the catch-up failed: {e}"),
            // Damage the reading cannot pass (a hole, a corrupt or misordered record):
            // the next catch-up goes by a snapshot past it, or past every commit MAIN
            // holds durably when the damage does not say where it ends. An I/O failure
            // may pass: the same plan is tried again.
            hole_end: e.hole_end().or(e.is_corruption().then_some(durable + 1)),
        })?;
        if ts > durable {
            break;
        }
        if !batch.is_empty() && (batch.len() == ROUND_BATCH || bytes + record.len() > BATCH_BYTES) {
            bytes = 0;
            if out.blocking_send(Ok(std::mem::take(&mut batch))).is_err() {
                return Ok(());
            }
        }
        bytes += record.len();
        batch.push(Shipped {
            ts,
            prev,
            record: Arc::from(record),
            queued: now,
        });
        prev = ts;
    }
    if !batch.is_empty() && out.blocking_send(Ok(batch)).is_err() {
        return Ok(());
    }
    if prev < durable {
        return Err(RoundError {
            message: format!(
                "MAIN's WAL ends at commit {prev}, before its durable commit {durable}: the log lacks records; a \
                 snapshot is needed"
            ),
            hole_end: Some(durable + 1),
        });
    }
    Ok(())
}
