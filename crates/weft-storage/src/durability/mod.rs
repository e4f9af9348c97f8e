//! Durability files and the service built on them: the on-disk layer under the commit
//! pipeline's WAL step, snapshots, recovery and retention.
//!
//! Owns: the file header every durability file starts with ([`header`]), the record framing
//! `length | crc32c | payload` ([`frame`]), write-ahead-log segments in one directory
//! with group commit, rotation, listing and reading back ([`wal`]), snapshot files
//! ([`snapshot`]), the locked data directory and database id ([`data_dir`]), the file
//! retainer ([`retainer`]), the file-system seam every file operation goes through
//! ([`io`]: [`RealFs`] in production, a fault-injecting disk for tests), and [`Durability`]
//! ([`manager`]), which recovers a database at start, plugs the WAL into the commit
//! pipeline, takes snapshots and applies retention.
//! Promises to the layer above: a record [`WalWriter::wait_durable`] has acknowledged under
//! [`SyncPolicy::Always`] survives a crash; reading back yields whole records in increasing
//! timestamp order, never a half-written one; damage is told apart — a torn tail of the
//! newest segment (a crash while writing: cut with a warning) from corruption anywhere
//! earlier (an error naming the file and byte offset, never skipped silently); a file of
//! another database is refused by name, and so is a file of a later epoch than the data
//! directory's or a WAL segment whose epoch is below its predecessor's. No input bytes
//! make this code panic.
//! Needs from below: a POSIX-like file system where `fsync` of a file and of its directory
//! makes data and names durable.
//! Must not know: what a record means (payloads are opaque bytes; the commit record format
//! lives in [`crate::record`]).
//!
//! # File format (version 1)
//!
//! All integers little-endian.
//!
//! ```text
//! file    := header(64 bytes) frame*
//! header  := magic:[u8;8] version:u16 reserved:u16(=0) db_id:[u8;16] epoch:u64
//!            from_ts:u64 to_ts:u64 reserved:[u8;8](=0) crc32c:u32 (of bytes 0..60)
//!   magic  "WEFT-WAL" for a WAL segment, "WEFT-SNP" for a snapshot
//!   to_ts  u64::MAX = open/unknown (always so in a WAL segment, see below)
//! frame   := length:u32 crc32c:u32 payload:[u8; length]
//!   crc32c covers the 4 length bytes then the payload; length <= 1 GiB
//! WAL frame payload := commit_ts:u64 record (the commit record, opaque here)
//! ```
//!
//! A WAL segment's header is written once, when the segment is created, and never
//! rewritten: `from_ts` is the timestamp of its first record and `to_ts` is left open. The
//! end of a segment's range is derived: for every segment but the newest it is below the
//! next segment's `from_ts`; for the newest it is the last valid record. Segment files are
//! named `wal-{seq:020}-{from_ts:020}.log` so that lexical order is log order.
//!
//! Tail rule: a damaged frame after which no valid frame follows in the newest segment is a
//! torn tail (a crash during the last write): readers stop there with a warning and the
//! writer truncates it when it opens. A damaged frame with a valid frame after it, or any
//! damage in an older segment, is corruption.

pub mod data_dir;
pub mod frame;
pub mod header;
pub mod io;
pub mod manager;
mod priority;
pub mod progress;
pub mod retainer;
pub mod snapshot;
pub mod wal;

mod error;

/// The WAL's name in the commit pipeline.
pub const WAL_SINK: &str = "wal";

pub use data_dir::{remove_file, replace_file, DataDir};
pub use error::DurabilityError;
pub use header::{FileHeader, FileKind, HeaderError};
pub use io::{FileSystem, RealFs};
pub use manager::{
    BackgroundWorker, CatchUp, CatchUpPlan, Durability, DurabilityConfig, DurabilityInfo, RecoveryReport,
};
pub use progress::{RecoveryPhase, RecoveryProgress};
pub use retainer::{FileLocker, FileRetainer};
pub use snapshot::{
    list_snapshots, list_snapshots_with, load_snapshot, load_snapshot_with, snapshot_name, write_snapshot,
    write_snapshot_with, SnapshotInfo,
};
pub use uuid::Uuid;
pub use wal::{
    check_epochs, list_segments, list_segments_with, read_segments, read_segments_with, ReadOptions, SegmentInfo,
    SyncPolicy, Ticket, WalOptions, WalRecords, WalStats, WalWriter,
};
