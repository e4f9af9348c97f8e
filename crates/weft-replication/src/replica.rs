//! The replica side: the `Replication` service a REPLICA serves to its MAIN.
//!
//! Owns: which MAIN a replica takes records from (the database it is pinned to) and the
//! in-order, durable application of received records. Promises: a record is applied only
//! when the replica holds exactly the commit before it (`prev_commit_ts`), with MAIN's
//! timestamp, through the replica's own commit pipeline (so its WAL has it, by its fsync
//! policy) before it is acknowledged; anything else (a gap, a record it already has a
//! commit at) stops the stream with an acknowledgement that says why. The batches that
//! wait while one is applied are applied next as one group, sharing one fsync and one
//! acknowledgement. Streams end when the
//! instance stops being a replica. A replica with data of another
//! database refuses the MAIN. A snapshot MAIN streams for a catch-up lands checked and
//! durable under `replication-incoming/` and replaces the replica's database while no
//! record is applied; the received copy is removed once installed (the install writes a
//! local snapshot of its own). A STRICT_SYNC record is first prepared: kept durably in
//! `replication.prepared` before MAIN commits it, and applied when it arrives on the
//! record stream like any other.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status, Streaming};
use weft_rpc::pb::replication_server::Replication;
use weft_rpc::pb::{
    Ack, FileChunk, FileReceipt, HelloReply, HelloRequest, PrepareReply, PrepareRequest, Record, RecordBatch,
};
use weft_rpc::{DatabaseId, Identity};
use weft_storage::record::CommitRecord;
use weft_storage::Origin;

use crate::history::{self, EpochMark};
use crate::state::SharedState;
use crate::Host;

/// The replica's side of replication; see the module docs.
pub struct ReplicaService {
    /// Becomes true when this instance stops being a replica: open streams end.
    pub(crate) halted: tokio::sync::watch::Receiver<bool>,
    pub(crate) host: Arc<dyn Host>,
    /// This instance's own identity (its data directory's database id).
    pub(crate) own: Identity,
    pub(crate) name: String,
    /// The database whose records this replica applies, once known.
    pub(crate) pinned: Arc<Mutex<Option<DatabaseId>>>,
    /// The replication state: the pinned database and the epoch history are kept there.
    pub(crate) stored: SharedState,
    /// MAIN's history as its last hello told it, adopted once MAIN sends data (which
    /// means it found this replica's history to follow its own).
    pub(crate) offered: Arc<Mutex<Option<Offered>>>,
    /// Held while a batch is applied and while a MAIN says hello; a promotion takes it to
    /// wait until no record is being applied.
    pub(crate) apply_lock: Arc<Mutex<()>>,
    /// Bumped by every hello: a record stream opened before it ends, so only one MAIN
    /// connection applies records at a time.
    pub(crate) generation: Arc<AtomicU64>,
    /// Where snapshots from MAIN land before they are installed.
    pub(crate) incoming: PathBuf,
    /// Where the newest STRICT_SYNC record prepared is kept.
    pub(crate) prepared: PathBuf,
}

/// Largest snapshot a replica accepts (1 TiB): a bound, not a target.
const MAX_SNAPSHOT: u64 = 1 << 40;

/// Batches received and checked but not yet applied, at most (MAIN waits for room).
const QUEUED_BATCHES: usize = 64;

/// Batches applied as one group, at most.
const GROUP_BATCHES: usize = 16;

/// A MAIN's epoch history as offered in its hello.
#[derive(Clone, Debug)]
pub(crate) struct Offered {
    ended: Vec<EpochMark>,
    epoch: u64,
}

impl Offered {
    fn from_marks(marks: &[weft_rpc::pb::EpochMark]) -> Option<Offered> {
        let (current, ended) = marks.split_last()?;
        Some(Offered {
            ended: ended
                .iter()
                .map(|m| EpochMark {
                    epoch: m.epoch,
                    last_ts: m.last_commit_ts,
                })
                .collect(),
            epoch: current.epoch,
        })
    }
}

/// Makes MAIN's offered history this replica's (before the first data it sends is kept).
fn adopt(stored: &SharedState, offered: &Mutex<Option<Offered>>) -> Result<(), String> {
    let Some(offer) = offered.lock().take() else {
        return Ok(());
    };
    stored
        .update(|s| {
            s.history = offer.ended;
            s.main_epoch = Some(offer.epoch);
        })
        .map_err(|e| format!("cannot keep MAIN's epoch history: {e}"))
}

/// Refuses a MAIN of an epoch older than one that took this replica over, or than the
/// one its data was made in: it was replaced by a promotion and must not take the replica
/// over (nor end the current MAIN's stream). A replica holding nothing is bound only by
/// the MAINs that took it over.
fn refuse_stale(stored: &SharedState, host: &dyn Host, main: Identity, sender: &str) -> Result<(), Status> {
    let holds_data = host.storage().last_committed() > 0;
    let stored = stored.get();
    let newer = stored.seen_epoch.filter(|&e| main.epoch < e);
    match newer.or(stored.main_epoch.filter(|&e| main.epoch < e && holds_data)) {
        Some(following) => Err(Status::failed_precondition(format!(
            "this replica follows a MAIN of epoch {following}; `{sender}` is of the older epoch {}: it was replaced \
             by a promotion; make it a REPLICA of the current MAIN",
            main.epoch
        ))),
        None => Ok(()),
    }
}

/// Keeps a STRICT_SYNC record durably in `path` (replacing the one before):
/// `commit_ts:u64 prev_commit_ts:u64` (little-endian), the record, then a CRC-32C of all
/// that, so a copy torn by a crash is told from a whole one. Prepares reach a replica one
/// at a time (MAIN sends them under its commit lock, and drops those past their deadline).
fn keep_prepared(path: &std::path::Path, record: &Record) -> std::io::Result<()> {
    use std::io::Write;
    let created = !path.exists();
    let mut bytes = Vec::with_capacity(record.payload.len() + 20);
    bytes.extend_from_slice(&record.commit_ts.to_le_bytes());
    bytes.extend_from_slice(&record.prev_commit_ts.to_le_bytes());
    bytes.extend_from_slice(&record.payload);
    let crc = crc32c::crc32c(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    let mut file = std::fs::File::create(path)?;
    file.write_all(&bytes)?;
    file.sync_data()?;
    if created {
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
    }
    Ok(())
}

/// The timestamp in a snapshot's file name (`snapshot-{ts:020}.snap`).
fn snapshot_ts(name: &str) -> Option<u64> {
    name.strip_prefix("snapshot-")?.strip_suffix(".snap")?.parse().ok()
}

/// The error for a MAIN that reaches an instance that is no longer a replica.
fn no_longer_a_replica() -> Status {
    Status::unavailable("this instance is no longer a replica")
}

impl ReplicaService {
    /// Accepts a MAIN of `database`: the pinned one; or, while none is pinned, this
    /// instance's own database or any database when the replica holds no commit yet.
    fn accept(&self, database: DatabaseId) -> Result<(), Status> {
        let mut pinned = self.pinned.lock();
        match *pinned {
            Some(known) if known == database => return Ok(()),
            Some(known) => {
                return Err(Status::failed_precondition(format!(
                    "this replica applies records of database {known}, not of {database}: wipe its data directory \
                     to replicate another database"
                )))
            }
            None => {}
        }
        let empty = self.host.storage().last_committed() == 0;
        if database != self.own.database && !empty {
            return Err(Status::failed_precondition(format!(
                "this replica holds data of database {}, not of {database}: wipe its data directory to \
                 replicate another database",
                self.own.database
            )));
        }
        self.stored
            .update(|s| s.main_database = Some(database.0))
            .map_err(|e| Status::internal(e.to_string()))?;
        *pinned = Some(database);
        Ok(())
    }

    /// A MAIN's hello: its connection replaces older streams (waiting, on a blocking
    /// section of the runtime's worker, until none applies), the database is pinned, the
    /// MAIN's epoch kept as seen, and its history offered; what this replica holds.
    fn take_over(&self, main: Identity, sender: &str, offer: Option<Offered>) -> Result<u64, Status> {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let held = tokio::task::block_in_place(|| {
            let _applying = self.apply_lock.lock();
            if *self.halted.borrow() {
                return Err(no_longer_a_replica());
            }
            self.accept(main.database)?;
            self.stored
                .update(|s| s.seen_epoch = Some(s.seen_epoch.unwrap_or(0).max(main.epoch)))
                .map_err(|e| Status::internal(e.to_string()))?;
            self.host.set_read_only(Some(format!(
                "this instance is a REPLICA of the MAIN at {sender}; send writes there"
            )));
            *self.offered.lock() = offer;
            Ok(self.host.storage().last_committed())
        })?;
        tracing::info!(main = sender, epoch = main.epoch, held, "MAIN connected");
        Ok(held)
    }

    fn header(&self) -> Option<weft_rpc::pb::Header> {
        Some(self.own.header(&self.name))
    }
}

/// Applies batches in order (while nothing else applies and the instance is still a
/// replica) as one group: their commits share one WAL write and fsync. The newest commit
/// applied from MAIN, and why it stopped if it did.
fn apply_batches(
    host: &dyn Host,
    batches: &[RecordBatch],
    epoch: u64,
    halted: &tokio::sync::watch::Receiver<bool>,
) -> (u64, Option<String>) {
    let storage = host.storage();
    let held = storage.last_committed();
    let (group, mut error) = checked_records(batches.iter().flat_map(|b| &b.records), held);
    if *halted.borrow() {
        return (held, Some("this instance is no longer a replica".into()));
    }
    let (applied, failed) = storage.apply_group(group, Origin::Applied { epoch });
    let applied = applied.unwrap_or(held);
    if let Some(failed) = failed {
        error = Some(format!("cannot apply the commit after {applied}: {failed}"));
    }
    (applied, error)
}

/// The epoch of the MAIN that sent `batch`, if it is one this replica takes records from:
/// of the pinned database, and not replaced by a promotion.
fn batch_epoch(
    batch: &RecordBatch,
    pinned: Option<DatabaseId>,
    stored: &SharedState,
    host: &dyn Host,
) -> Result<u64, Status> {
    let (main, sender) = Identity::read(batch.header.as_ref())?;
    if Some(main.database) != pinned {
        return Err(Status::failed_precondition(
            "records of a database this replica does not apply",
        ));
    }
    refuse_stale(stored, host, main, sender)?;
    Ok(main.epoch)
}

/// The records decoded, up to the first that does not follow on from the one
/// before it (from `held`, the replica's newest commit) or does not decode to the commit
/// it was sent as; and why the rest was left out.
fn checked_records<'a>(
    records: impl Iterator<Item = &'a Record>,
    held: u64,
) -> (Vec<(CommitRecord, &'a [u8])>, Option<String>) {
    let mut group = Vec::new();
    let mut last = held;
    for record in records {
        // MAIN sends only what follows the replica's newest commit (it asked): a record
        // that does not follow it on is from a history this replica does not share.
        if record.prev_commit_ts != last || record.commit_ts <= last {
            let error = format!(
                "the replica holds commits up to {last}, but the next record ({}) follows {}: a commit is missing or the histories differ",
                record.commit_ts, record.prev_commit_ts
            );
            return (group, Some(error));
        }
        match CommitRecord::decode(&record.payload) {
            Ok(decoded) if decoded.ts() == record.commit_ts => group.push((decoded, record.payload.as_slice())),
            Ok(decoded) => {
                let error = format!(
                    "the record sent as commit {} holds commit {}",
                    record.commit_ts,
                    decoded.ts()
                );
                return (group, Some(error));
            }
            Err(error) => {
                return (
                    group,
                    Some(format!("the commit {} does not decode: {error}", record.commit_ts)),
                )
            }
        }
        last = record.commit_ts;
    }
    (group, None)
}

#[tonic::async_trait]
impl Replication for ReplicaService {
    async fn hello(&self, request: Request<HelloRequest>) -> Result<Response<HelloReply>, Status> {
        let (main, sender) = Identity::read(request.get_ref().header.as_ref())?;
        let offer = Offered::from_marks(&request.get_ref().history);
        let held = if let Err(stale) = refuse_stale(&self.stored, self.host.as_ref(), main, sender) {
            // It learns what this replica holds (its history shows the replica diverged
            // from its own) without taking the replica over.
            tracing::warn!(
                main = sender,
                epoch = main.epoch,
                reason = stale.message(),
                "a replaced MAIN said hello"
            );
            if *self.halted.borrow() {
                return Err(no_longer_a_replica());
            }
            self.host.storage().last_committed()
        } else {
            self.take_over(main, sender, offer)?
        };
        // The epoch of the newest commit held: the MAIN's it came from, or this
        // instance's own when it made its commits itself.
        let stored = self.stored.get();
        let (ended, epoch) = history::held_part(&stored.history, stored.main_epoch.unwrap_or(self.own.epoch), held);
        Ok(Response::new(HelloReply {
            header: self.header(),
            last_commit_ts: held,
            history: history::marks(&ended, epoch, held),
        }))
    }

    async fn prepare(&self, request: Request<PrepareRequest>) -> Result<Response<PrepareReply>, Status> {
        let request = request.into_inner();
        let (main, sender) = Identity::read(request.header.as_ref())?;
        if *self.pinned.lock() != Some(main.database) {
            return Err(Status::failed_precondition(
                "no MAIN of this database said hello to this replica",
            ));
        }
        if *self.halted.borrow() {
            return Err(no_longer_a_replica());
        }
        refuse_stale(&self.stored, self.host.as_ref(), main, sender)?;
        let record = request
            .record
            .ok_or_else(|| Status::invalid_argument("the prepare request has no record"))?;
        let path = self.prepared.clone();
        tokio::task::spawn_blocking(move || keep_prepared(&path, &record))
            .await
            .map_err(|e| Status::internal(format!("the prepare writer failed: {e}")))?
            .map_err(|e| Status::internal(format!("cannot keep the prepared record durably: {e}")))?;
        Ok(Response::new(PrepareReply { header: self.header() }))
    }

    type RecordsStream = ReceiverStream<Result<Ack, Status>>;

    async fn records(&self, request: Request<Streaming<RecordBatch>>) -> Result<Response<Self::RecordsStream>, Status> {
        let mut batches = request.into_inner();
        let (acks, outgoing) = mpsc::channel(8);
        let (host, header, pinned) = (self.host.clone(), self.header(), self.pinned.clone());
        let (apply_lock, generation) = (self.apply_lock.clone(), self.generation.clone());
        let (stored, offered) = (self.stored.clone(), self.offered.clone());
        let ours = generation.load(Ordering::SeqCst);
        let mut halted = self.halted.clone();
        // The reader checks each batch's sender and queues it; the applier takes every
        // batch queued by the time it is free as one group (one fsync, one ack), so a
        // replica that falls behind catches up in larger steps instead of a convoy.
        let (queue, mut queued) = mpsc::channel::<(u64, RecordBatch)>(QUEUED_BATCHES);
        let (reader_acks, reader_host, reader_stored) = (acks.clone(), host.clone(), stored.clone());
        let mut reader_halted = halted.clone();
        tokio::spawn(async move {
            loop {
                let batch = tokio::select! {
                    biased;
                    _ = reader_halted.wait_for(|halted| *halted) => None,
                    // The applier stopped: so does the reader (its acks sender goes).
                    _ = queue.closed() => None,
                    batch = batches.next() => batch,
                };
                let Some(Ok(batch)) = batch else {
                    break;
                };
                let checked = batch_epoch(&batch, *pinned.lock(), &reader_stored, reader_host.as_ref());
                let sent = match checked {
                    Ok(epoch) => queue.send((epoch, batch)).await.is_ok(),
                    Err(refused) => {
                        let _ = reader_acks.send(Err(refused)).await;
                        false
                    }
                };
                if !sent {
                    break;
                }
            }
        });
        tokio::spawn(async move {
            let mut carried = None;
            loop {
                let first = match carried.take() {
                    Some(first) => Some(first),
                    None => tokio::select! {
                        biased;
                        _ = halted.wait_for(|halted| *halted) => None,
                        first = queued.recv() => first,
                    },
                };
                let Some((epoch, first)) = first else {
                    break;
                };
                let mut group = vec![first];
                while group.len() < GROUP_BATCHES {
                    match queued.try_recv() {
                        Ok((same, batch)) if same == epoch => group.push(batch),
                        Ok(other) => {
                            carried = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let (applier, still, lock, current) =
                    (host.clone(), halted.clone(), apply_lock.clone(), generation.clone());
                let (stored, offered) = (stored.clone(), offered.clone());
                let applied = tokio::task::spawn_blocking(move || {
                    let _applying = lock.lock();
                    if *still.borrow() || current.load(Ordering::SeqCst) != ours {
                        return None;
                    }
                    if let Err(error) = adopt(&stored, &offered) {
                        return Some((applier.storage().last_committed(), Some(error)));
                    }
                    Some(apply_batches(applier.as_ref(), &group, epoch, &still))
                })
                .await;
                let (durable_ts, error) = match applied {
                    Ok(Some(outcome)) => outcome,
                    // Replaced by a newer connection, or no longer a replica.
                    Ok(None) => break,
                    Err(e) => (0, Some(format!("the applier failed: {e}"))),
                };
                let stop = error.is_some();
                let ack = Ack {
                    header: header.clone(),
                    durable_ts,
                    error: error.unwrap_or_default(),
                };
                if acks.send(Ok(ack)).await.is_err() || stop {
                    break;
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(outgoing)))
    }

    async fn send_file(&self, request: Request<Streaming<FileChunk>>) -> Result<Response<FileReceipt>, Status> {
        let Some(main) = *self.pinned.lock() else {
            return Err(Status::failed_precondition("no MAIN said hello to this replica yet"));
        };
        if *self.halted.borrow() {
            return Err(no_longer_a_replica());
        }
        let ours = self.generation.load(Ordering::SeqCst);
        let expected = Identity {
            database: main,
            epoch: self.own.epoch,
        };
        tokio::fs::create_dir_all(&self.incoming)
            .await
            .map_err(|e| Status::internal(format!("cannot create {}: {e}", self.incoming.display())))?;
        let received = weft_rpc::files::receive(request.into_inner(), &self.incoming, &expected, MAX_SNAPSHOT).await?;
        let receipt = received.receipt(&self.own, &self.name);
        if let Err(stale) = refuse_stale(&self.stored, self.host.as_ref(), received.sender, "the sender") {
            let _ = tokio::fs::remove_file(&received.path).await;
            return Err(stale);
        }
        if !(received.name.starts_with("snapshot-") && received.name.ends_with(".snap")) {
            let _ = tokio::fs::remove_file(&received.path).await;
            return Err(Status::invalid_argument(format!(
                "`{}` is not a snapshot; a replica installs only snapshots",
                received.name
            )));
        }
        let (host, halted, lock, generation) = (
            self.host.clone(),
            self.halted.clone(),
            self.apply_lock.clone(),
            self.generation.clone(),
        );
        let (stored, offered) = (self.stored.clone(), self.offered.clone());
        let path = received.path.clone();
        let snapshot_ts = snapshot_ts(&received.name);
        // Runs to the end even if MAIN gives up waiting: the received copy always goes.
        let installed = tokio::task::spawn_blocking(move || {
            let installed = (|| {
                let _applying = lock.lock();
                if *halted.borrow() || generation.load(Ordering::SeqCst) != ours {
                    return Err(no_longer_a_replica());
                }
                let held = host.storage().last_committed();
                if snapshot_ts.is_none_or(|ts| ts <= held) {
                    return Err(Status::failed_precondition(format!(
                        "the snapshot `{name}` is not newer than this replica's newest commit {held}",
                        name = path.display()
                    )));
                }
                adopt(&stored, &offered).map_err(Status::internal)?;
                host.install_snapshot(&path)
                    .map_err(|e| Status::internal(format!("cannot install the snapshot: {e}")))
            })();
            // Installed as a local snapshot of its own (or refused): the received copy goes.
            let _ = std::fs::remove_file(&path);
            installed
        })
        .await
        .map_err(|e| Status::internal(format!("the snapshot installer failed: {e}")))?;
        let ts = installed?;
        tracing::info!(ts, bytes = received.size, "installed MAIN's snapshot");
        Ok(Response::new(receipt))
    }
}
