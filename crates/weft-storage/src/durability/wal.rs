//! Write-ahead-log segments in one directory: appending with group commit
//! ([`WalWriter`]), truncating after a timestamp, purging old segments and starting a new
//! epoch ([`WalWriter::truncate_after`], [`WalWriter::purge_upto`],
//! [`WalWriter::start_epoch`]), reading back across segments ([`read_segments`]) and
//! listing segments with their timestamp ranges and epochs ([`list_segments`], for
//! retention and replica catch-up). Every file operation goes through a
//! [`crate::durability::io::FileSystem`] (the `*_with` functions and
//! [`WalWriter::open_with`] take one; the others use the real file system).
//!
//! Promises: segments are named `wal-{seq:020}-{from_ts:020}.log`, so lexical order is log
//! order; a segment appears under that name only once its header is durable (it is written
//! as `*.tmp`, fsynced, renamed, and the directory fsynced); records come back in strictly
//! increasing timestamp order, each exactly once. The tail rule and the byte layout are
//! in [`crate::durability`].

mod files;
mod reader;
mod segment;
mod writer;

pub use reader::{read_segments, read_segments_with, ReadOptions, WalRecords};
pub use segment::{check_epochs, list_segments, list_segments_with, SegmentInfo};
pub use writer::{Ticket, WalStats, WalWriter};

use std::time::Duration;
use uuid::Uuid;

/// Default size past which the writer starts a new segment: 64 MiB.
pub const DEFAULT_SEGMENT_SIZE: u64 = 64 << 20;

/// When the writer fsyncs written records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncPolicy {
    /// Every batch is fsynced before its committers return: an acknowledged commit
    /// survives power loss.
    Always,
    /// Batches are written at once but fsynced at most once per interval (at the first
    /// batch after it elapsed, or when the owner calls [`WalWriter::sync`] from a timer):
    /// a crash of the machine may lose up to that much acknowledged work.
    Interval(Duration),
    /// Never fsync records (tests, bulk loads): the OS decides when data reaches the disk.
    Off,
}

/// How a [`WalWriter`] writes.
#[derive(Clone, Debug)]
pub struct WalOptions {
    /// The database every segment must belong to.
    pub db_id: Uuid,
    /// Written into the header of each new segment.
    pub epoch: u64,
    /// A new segment is started for a batch once the current one holds this many bytes.
    pub segment_size: u64,
    pub sync: SyncPolicy,
    /// On open, accept knowingly a corrupt newest segment (it is left as it is, logged, and
    /// writing goes on in a new segment) instead of refusing to open.
    pub skip_corrupt: bool,
}

impl WalOptions {
    /// Defaults: epoch 0, 64 MiB segments, fsync every batch, corruption refused.
    pub fn new(db_id: Uuid) -> Self {
        WalOptions {
            db_id,
            epoch: 0,
            segment_size: DEFAULT_SEGMENT_SIZE,
            sync: SyncPolicy::Always,
            skip_corrupt: false,
        }
    }
}
