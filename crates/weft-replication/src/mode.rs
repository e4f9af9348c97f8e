//! How a MAIN waits for a replica: the replication modes of `REGISTER REPLICA`.

use std::fmt;
use std::time::Duration;

/// A replica's mode, as registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplicaMode {
    /// A commit waits until the replica holds it durably.
    Sync,
    /// As `Sync`, but a commit waits at most this long; then the replica is demoted to
    /// asynchronous shipping until it has caught up again.
    SyncWithTimeout { millis: u64 },
    /// Commits never wait; records are shipped from a bounded queue.
    Async,
    /// Two phases: every strict replica prepares durably or the transaction aborts
    /// everywhere.
    StrictSync,
}

impl ReplicaMode {
    /// How long a commit waits for this replica: `None` for ever (SYNC), `Some` for a
    /// bound, and `Some(ZERO)` for not at all (ASYNC).
    pub fn commit_wait(self) -> Option<Duration> {
        match self {
            ReplicaMode::Sync | ReplicaMode::StrictSync => None,
            ReplicaMode::SyncWithTimeout { millis } => Some(Duration::from_millis(millis)),
            ReplicaMode::Async => Some(Duration::ZERO),
        }
    }

    /// The timeout of `SYNC WITH TIMEOUT`, in seconds, for `SHOW REPLICAS`.
    pub fn timeout_seconds(self) -> Option<f64> {
        match self {
            ReplicaMode::SyncWithTimeout { millis } => Some(millis as f64 / 1000.0),
            _ => None,
        }
    }
}

/// The mode's keyword as `REGISTER REPLICA` takes it and `SHOW REPLICAS` prints it.
impl fmt::Display for ReplicaMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReplicaMode::Sync | ReplicaMode::SyncWithTimeout { .. } => "SYNC",
            ReplicaMode::Async => "ASYNC",
            ReplicaMode::StrictSync => "STRICT_SYNC",
        })
    }
}
