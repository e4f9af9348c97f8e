//! Undo deltas, transaction commit state and the visibility rule of MVCC.
//!
//! Every object holds its newest state and a chain of undo deltas, newest first. A delta
//! records how to turn the object back into what it was before one write, and points to
//! the `CommitState` of the transaction that made the write: a transaction id
//! (≥ [`TXN_ID_BASE`]) while it runs, its commit timestamp once committed. Switching that
//! one atomic makes all of a transaction's writes visible at once.
//!
//! Invariant: along a chain, committed deltas are ordered by commit timestamp, newest
//! first, and uncommitted deltas (at most one transaction's, thanks to write-write
//! conflict detection) sit at the head. A reader therefore undoes deltas from the head
//! until it meets the first one it may see, and stops there.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use weft_common::{EdgeTypeId, Gid, LabelId, PropertyId, Value};

/// Transaction ids start here; commit timestamps stay below it.
pub const TXN_ID_BASE: u64 = 1 << 63;

/// The shared "has this transaction committed, and when" cell.
#[derive(Debug)]
pub struct CommitState(AtomicU64, AtomicBool);

impl CommitState {
    /// A running transaction's state.
    pub fn running(txn_id: u64) -> Arc<Self> {
        Arc::new(CommitState(AtomicU64::new(txn_id), AtomicBool::new(false)))
    }

    /// Marks the transaction wounded (`wound.rs`): an applied commit took objects from it,
    /// so it may change nothing more and must not commit.
    pub fn wound(&self) {
        self.1.store(true, Ordering::Release);
    }

    /// Whether [`CommitState::wound`] was called.
    pub fn is_wounded(&self) -> bool {
        self.1.load(Ordering::Acquire)
    }

    /// The transaction id while running, the commit timestamp afterwards.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Publishes the commit timestamp: every delta of the transaction becomes committed.
    pub fn commit(&self, ts: u64) {
        self.0.store(ts, Ordering::Release);
    }
}

/// Isolation level of a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IsolationLevel {
    /// Reads see the database as of the transaction's start (default).
    #[default]
    SnapshotIsolation,
    /// Each read sees the newest committed state.
    ReadCommitted,
    /// Each read sees the newest state, committed or not.
    ReadUncommitted,
}

/// Who is looking: enough of a transaction to decide what it may see.
#[derive(Clone, Copy, Debug)]
pub struct Viewer {
    pub txn_id: u64,
    pub start_ts: u64,
    pub isolation: IsolationLevel,
}

impl Viewer {
    /// A viewer that sees everything committed up to `ts` and nothing uncommitted.
    pub fn at(ts: u64) -> Self {
        Viewer {
            txn_id: u64::MAX,
            start_ts: ts,
            isolation: IsolationLevel::SnapshotIsolation,
        }
    }

    /// True when this viewer must undo a delta whose commit state reads `ts`.
    pub fn must_undo(&self, ts: u64) -> bool {
        if ts == self.txn_id {
            return false;
        }
        match self.isolation {
            IsolationLevel::SnapshotIsolation => ts > self.start_ts,
            IsolationLevel::ReadCommitted => ts >= TXN_ID_BASE,
            IsolationLevel::ReadUncommitted => false,
        }
    }

    /// Whether a writer may add a delta on top of a head delta whose state reads `ts`:
    /// never over another running transaction, and under snapshot isolation never over a
    /// commit this transaction cannot see (that would be a lost update).
    pub fn conflicts_with(&self, ts: u64) -> bool {
        if ts == self.txn_id {
            return false;
        }
        if ts >= TXN_ID_BASE {
            return true;
        }
        self.isolation == IsolationLevel::SnapshotIsolation && ts > self.start_ts
    }
}

/// One entry of a vertex adjacency list: the edge, its type and the vertex at the other
/// end. Packed to 20 bytes because adjacency dominates memory per edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, packed(4))]
pub struct Adjacent {
    edge_type: EdgeTypeId,
    other: Gid,
    edge: Gid,
}

impl Adjacent {
    pub fn new(edge_type: EdgeTypeId, other: Gid, edge: Gid) -> Self {
        Adjacent { edge_type, other, edge }
    }
    /// The edge's type.
    pub fn edge_type(&self) -> EdgeTypeId {
        self.edge_type
    }
    /// The vertex at the other end.
    pub fn other(&self) -> Gid {
        self.other
    }
    /// The edge's id.
    pub fn edge(&self) -> Gid {
        self.edge
    }
}

/// How to undo one write.
#[derive(Debug)]
pub enum UndoAction {
    /// The object was created by this write: undoing makes it not exist.
    DeleteObject,
    /// The object was deleted by this write: undoing brings it back.
    RecreateObject,
    AddLabel(LabelId),
    RemoveLabel(LabelId),
    /// Restore a property to its old value (`None`: it was not set).
    SetProperty(PropertyId, Option<Value>),
    AddOutEdge(Adjacent),
    RemoveOutEdge(Gid),
    AddInEdge(Adjacent),
    RemoveInEdge(Gid),
}

/// One link of an undo chain.
#[derive(Debug)]
pub struct Delta {
    pub state: Arc<CommitState>,
    pub action: UndoAction,
    pub next: Option<Box<Delta>>,
}

/// Iterates a chain from the head.
pub fn chain(head: &Option<Box<Delta>>) -> impl Iterator<Item = &Delta> {
    std::iter::successors(head.as_deref(), |d| d.next.as_deref())
}

/// Drops a chain iteratively (a long chain dropped recursively could overflow the stack).
pub fn drop_chain(mut head: Option<Box<Delta>>) {
    while let Some(mut d) = head {
        head = d.next.take();
    }
}

/// Cuts the chain after the last delta that a viewer at `oldest_ts` could still need and
/// returns what was cut off: deltas committed at or before `oldest_ts` are never undone
/// by anyone again.
pub fn truncate_chain(head: &mut Option<Box<Delta>>, oldest_ts: u64) -> Option<Box<Delta>> {
    let mut cursor = head;
    loop {
        let obsolete = matches!(cursor, Some(d) if d.state.get() <= oldest_ts);
        if obsolete {
            return cursor.take();
        }
        match cursor {
            Some(d) => cursor = &mut d.next,
            None => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(state: &Arc<CommitState>, next: Option<Box<Delta>>) -> Option<Box<Delta>> {
        Some(Box::new(Delta {
            state: state.clone(),
            action: UndoAction::DeleteObject,
            next,
        }))
    }

    #[test]
    fn visibility_follows_isolation_level() {
        let si = Viewer {
            txn_id: TXN_ID_BASE + 1,
            start_ts: 10,
            isolation: IsolationLevel::SnapshotIsolation,
        };
        let rc = Viewer {
            isolation: IsolationLevel::ReadCommitted,
            ..si
        };
        let ru = Viewer {
            isolation: IsolationLevel::ReadUncommitted,
            ..si
        };
        // Own writes are always visible; later commits only under read committed.
        assert!(!si.must_undo(TXN_ID_BASE + 1));
        assert!(si.must_undo(11) && !rc.must_undo(11));
        assert!(!si.must_undo(10));
        // Other running transactions are visible only under read uncommitted.
        assert!(si.must_undo(TXN_ID_BASE + 2) && rc.must_undo(TXN_ID_BASE + 2));
        assert!(!ru.must_undo(TXN_ID_BASE + 2));
        // Conflicts: another runner always; a later commit only under SI.
        assert!(si.conflicts_with(TXN_ID_BASE + 2) && rc.conflicts_with(TXN_ID_BASE + 2));
        assert!(si.conflicts_with(11) && !rc.conflicts_with(11));
    }

    #[test]
    fn truncation_keeps_only_deltas_newer_than_oldest_reader() {
        // Set up: chain running → 20 → 10 → 5.
        let s5 = CommitState::running(TXN_ID_BASE + 5);
        let s10 = CommitState::running(TXN_ID_BASE + 10);
        let s20 = CommitState::running(TXN_ID_BASE + 20);
        let run = CommitState::running(TXN_ID_BASE + 30);
        s5.commit(5);
        s10.commit(10);
        s20.commit(20);
        let mut head = delta(&run, delta(&s20, delta(&s10, delta(&s5, None))));

        // Act: the oldest reader started at 12.
        let cut = truncate_chain(&mut head, 12);

        // Check: 10 and 5 are gone, running and 20 stay.
        assert_eq!(chain(&head).count(), 2);
        assert_eq!(chain(&cut).map(|d| d.state.get()).collect::<Vec<_>>(), vec![10, 5]);
        drop_chain(cut);
        assert!(truncate_chain(&mut head, u64::MAX - 1).is_some());
        assert!(head.is_none());
    }
}
