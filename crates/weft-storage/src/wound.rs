//! Applied records win over local transactions. A member that applies a commit record it
//! received (from its Raft leader, or its MAIN) may find an object held by a local
//! transaction that never committed: one that began writing while this member still
//! led, and cannot commit now that it follows. Failing the apply would stop the member.
//! Instead the applier wounds that transaction — marks its state, so that its next change
//! and its commit fail with a conflict — and undoes its changes to the object in the way,
//! as the transaction's own abort would.
//!
//! Owns: the undo of one transaction's uncommitted changes to one vertex or edge (which
//! abort uses too) and the wounding. A local transaction that held only ids without
//! versions (an edge without properties between other vertices) is not wounded; it cannot
//! commit anyway, since it began in an earlier spell of this member's lead
//! ([`crate::CommitSink::local_epoch`]). Promises: a transaction is wounded only under the
//! commit lock, and a transaction checks for a wound under that lock before it stages its
//! commit, so a wounded transaction never commits and a committing one is never wounded.
//! A transaction that has committed is never touched: an applied record that meets one
//! still fails, as a real divergence must.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use parking_lot::Mutex;
use weft_common::Gid;

use crate::delta::{CommitState, Delta, UndoAction, TXN_ID_BASE};
use crate::record::RecordOp;
use crate::storage::Inner;
use crate::vertex::{some_version_has_label, some_version_has_out_type, undo_edge, undo_vertex, EdgeData, VertexData};

impl Inner {
    /// Undoes, on vertex `gid`, the changes of `state`'s transaction at the head of its
    /// version chain, keeping the vertex counter and the label and source sets right.
    pub(crate) fn undo_vertex_changes(&self, gid: Gid, v: &mut VertexData, state: &Arc<CommitState>) {
        let (mut lost_label, mut lost_out_edge) = (false, false);
        while let Some(d) = v.delta.take_if(|d| Arc::ptr_eq(&d.state, state)) {
            let Delta { action, next, .. } = *d;
            v.delta = next;
            match action {
                UndoAction::DeleteObject => {
                    self.vertex_count.fetch_sub(1, Ordering::Relaxed);
                }
                UndoAction::RecreateObject => {
                    self.vertex_count.fetch_add(1, Ordering::Relaxed);
                }
                _ => {}
            }
            lost_label |= matches!(action, UndoAction::RemoveLabel(_) | UndoAction::DeleteObject);
            lost_out_edge |= matches!(action, UndoAction::RemoveOutEdge(_));
            undo_vertex(v, action);
        }
        // A label or out-edge type it added is gone again: unless an older version has
        // it, its member bit can go now (nothing queues the vertex for collection).
        if lost_label {
            self.members.settle(gid, |l| some_version_has_label(v, l));
        }
        if lost_out_edge {
            self.sources.settle(gid, |t| some_version_has_out_type(v, t));
        }
    }

    /// Undoes, on an edge's slot, the changes of `state`'s transaction.
    pub(crate) fn undo_edge_changes(data: &mut EdgeData, state: &Arc<CommitState>) {
        while let Some(d) = data.delta.take_if(|d| Arc::ptr_eq(&d.state, state)) {
            let Delta { action, next, .. } = *d;
            data.delta = next;
            undo_edge(data, action);
        }
    }

    /// Before an applied record's operation: every vertex and edge slot it touches that a
    /// local uncommitted transaction other than `own` holds is taken from it. True if
    /// anything was taken.
    pub(crate) fn clear_for_replay(&self, op: &RecordOp, own: &Arc<CommitState>) -> bool {
        let (vertices, edge) = match op {
            RecordOp::CreateVertex(g)
            | RecordOp::DeleteVertex(g)
            | RecordOp::AddLabel(g, _)
            | RecordOp::RemoveLabel(g, _)
            | RecordOp::SetVertexProperty(g, _, _) => ([Some(*g), None], None),
            RecordOp::CreateEdge(e) | RecordOp::DeleteEdge(e) | RecordOp::SetEdgeProperty(e, _, _) => {
                ([Some(e.from), Some(e.to)], Some(e.gid))
            }
        };
        let mut took = false;
        for gid in vertices.into_iter().flatten() {
            took |= self.clear_vertex(Gid(gid), own);
        }
        if let Some(gid) = edge {
            took |= self.clear_edge(gid, own);
        }
        took
    }

    fn clear_vertex(&self, gid: Gid, own: &Arc<CommitState>) -> bool {
        self.vertices.get(gid.0).is_some_and(|slot| {
            self.clear_slot(
                slot,
                gid,
                own,
                |v| &v.delta,
                |v, state| self.undo_vertex_changes(gid, v, state),
            )
        })
    }

    fn clear_edge(&self, gid: u64, own: &Arc<CommitState>) -> bool {
        self.edges
            .get(gid)
            .is_some_and(|slot| self.clear_slot(slot, Gid(gid), own, |e| &e.delta, Self::undo_edge_changes))
    }

    /// Takes the object in `slot` (`at`) from a local uncommitted transaction other than
    /// `own` that holds its newest version: under the commit lock, wounds it and `undo`es
    /// its changes there. True if it took anything.
    fn clear_slot<T>(
        &self,
        slot: &Mutex<T>,
        at: Gid,
        own: &Arc<CommitState>,
        delta: fn(&T) -> &Option<Box<Delta>>,
        undo: impl FnOnce(&mut T, &Arc<CommitState>),
    ) -> bool {
        let holder = |data: &T| delta(data).as_ref().and_then(|d| held_by_other(&d.state, own));
        if holder(&slot.lock()).is_none() {
            return false;
        }
        // Commit lock, then the object: the order committers take them in.
        let _serial = self.commit_lock.lock();
        let mut data = slot.lock();
        let Some(state) = holder(&data) else {
            return false;
        };
        wound(&state, at);
        undo(&mut data, &state);
        self.gc.mark_dirty();
        true
    }
}

/// `state` if it is another transaction's that has not committed.
fn held_by_other(state: &Arc<CommitState>, own: &Arc<CommitState>) -> Option<Arc<CommitState>> {
    (state.get() >= TXN_ID_BASE && !Arc::ptr_eq(state, own)).then(|| state.clone())
}

fn wound(state: &CommitState, at: Gid) {
    if !state.is_wounded() {
        tracing::warn!(object = %at, "a local transaction held an object an applied commit changes; it is rolled back");
    }
    state.wound();
}
