//! Garbage collection: frees undo deltas no running transaction can need, objects whose
//! deletion everyone sees, and index entries that match no visible state.
//!
//! Each commit queues the objects it touched under its commit timestamp. A pass takes the
//! oldest start timestamp among running transactions; every queued commit at or before it
//! is final for everyone, so the chains of its objects are cut there. Index entries are
//! swept for vertices whose chain is then empty (their newest state is the only state).
//! Passes run on demand ([`Storage::collect_garbage`]) and from a background thread
//! ([`Storage::start_gc`]), which comes back sooner while writes keep it busy
//! ([`BUSY_INTERVAL`]) so that their deltas are freed, and their memory reused, soon after
//! they stop being needed; its index sweeps, which visit every entry, stay at the
//! interval asked for.

use crate::delta::{chain, drop_chain, truncate_chain, UndoAction};
use crate::storage::{Inner, Storage};
use crate::vertex::{some_version_has_label, some_version_has_out_type, Life, VertexData};
use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::Duration;
use thin_vec::ThinVec;
use weft_common::{Gid, LabelId, PropertyId};

struct Pending {
    ts: u64,
    vertices: Vec<Gid>,
    edges: Vec<Gid>,
    settles: Settles,
}

/// What a commit counted in as changing ([`crate::settle`]), counted out once the commit
/// is collected.
#[derive(Default)]
pub(crate) struct Settles {
    /// Labels whose membership the commit changed.
    pub labels: Vec<LabelId>,
    /// Vertex property keys the commit set.
    pub props: Vec<PropertyId>,
}

/// Commits waiting for their deltas to become unneeded.
#[derive(Default)]
pub(crate) struct GcQueue {
    pending: Mutex<VecDeque<Pending>>,
    dirty: AtomicBool,
    running: Mutex<()>,
}

impl GcQueue {
    /// Queues a commit's objects; called under the commit lock, so in timestamp order.
    pub fn push(&self, ts: u64, vertices: Vec<Gid>, edges: Vec<Gid>, settles: Settles) {
        self.pending.lock().push_back(Pending {
            ts,
            vertices,
            edges,
            settles,
        });
        self.dirty.store(true, Ordering::Release);
    }

    /// Notes that index entries may have gone stale (after an abort).
    pub fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::Release);
    }

    fn take_ready(&self, oldest: u64) -> Vec<Pending> {
        let mut pending = self.pending.lock();
        let ready = pending.iter().take_while(|p| p.ts <= oldest).count();
        pending.drain(..ready).collect()
    }
}

/// The background collector's wait after a pass that collected some commit, when
/// shorter than its interval.
pub const BUSY_INTERVAL: Duration = Duration::from_millis(100);

/// What one pass freed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GcStats {
    pub commits: usize,
    pub deltas_freed: usize,
    pub vertices_freed: usize,
    pub edge_objects_freed: usize,
    /// Index entries and label member bits that matched no visible state any more.
    pub index_entries_removed: usize,
}

impl Storage {
    /// Runs one garbage collection pass now.
    pub fn collect_garbage(&self) -> GcStats {
        collect(&self.inner)
    }

    /// Starts a background thread that collects garbage every `interval` until the
    /// returned handle or the storage is dropped.
    pub fn start_gc(&self, interval: Duration) -> GcWorker {
        self.start_gc_with(interval, |_| {})
    }

    /// As [`Storage::start_gc`], calling `after_pass` on the collector's thread with what
    /// each pass freed (the server uses it to hand freed memory back to the OS once writes
    /// go quiet).
    pub fn start_gc_with(&self, interval: Duration, mut after_pass: impl FnMut(&GcStats) + Send + 'static) -> GcWorker {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let signal = stop.clone();
        let handle = std::thread::Builder::new()
            .name("weft-gc".into())
            .spawn(move || {
                let (mut wait, mut swept) = (interval, std::time::Instant::now());
                loop {
                    {
                        let mut stopped = signal.0.lock();
                        if !*stopped {
                            signal.1.wait_for(&mut stopped, wait);
                        }
                        if *stopped {
                            return;
                        }
                    }
                    let Some(inner) = weak.upgrade() else { return };
                    let sweep = swept.elapsed() >= interval;
                    let stats = collect_then(&inner, sweep);
                    drop(inner);
                    if sweep {
                        swept = std::time::Instant::now();
                    }
                    wait = if stats.commits > 0 {
                        interval.min(BUSY_INTERVAL)
                    } else {
                        interval
                    };
                    after_pass(&stats);
                }
            })
            .expect("spawning the GC thread");
        GcWorker {
            stop,
            handle: Some(handle),
        }
    }
}

/// The background collector; dropping it stops the thread.
pub struct GcWorker {
    stop: Arc<(Mutex<bool>, Condvar)>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for GcWorker {
    fn drop(&mut self) {
        *self.stop.0.lock() = true;
        self.stop.1.notify_all();
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

fn collect(inner: &Inner) -> GcStats {
    collect_then(inner, true)
}

/// One pass; with `sweep`, also the index sweep when something may have gone stale
/// (left for a later sweeping pass otherwise).
fn collect_then(inner: &Inner, sweep: bool) -> GcStats {
    let _one_at_a_time = inner.gc.running.lock();
    let oldest = inner.oldest_active();
    let ready = inner.gc.take_ready(oldest);
    let mut stats = GcStats {
        commits: ready.len(),
        ..GcStats::default()
    };
    for pending in &ready {
        for gid in &pending.vertices {
            collect_vertex(inner, *gid, oldest, &mut stats);
        }
        // Everyone sees the commit now and the bits of what it took away are settled.
        for label in &pending.settles.labels {
            inner.members.end_change(*label);
        }
        for key in &pending.settles.props {
            inner.columns.end_property_change(*key);
        }
        for gid in &pending.edges {
            collect_edge(inner, *gid, oldest, &mut stats);
        }
    }
    if !ready.is_empty() {
        inner.gc.mark_dirty();
    }
    if sweep && inner.gc.dirty.swap(false, Ordering::AcqRel) {
        stats.index_entries_removed += crate::gc_index::sweep(inner);
    }
    stats
}

fn collect_vertex(inner: &Inner, gid: Gid, oldest: u64, stats: &mut GcStats) {
    let Some(slot) = inner.vertices.get(gid.0) else { return };
    let mut v = slot.lock();
    let cut = truncate_chain(&mut v.delta, oldest);
    stats.deltas_freed += chain(&cut).count();
    // The versions cut away may be the last with a label (one removed, or the vertex
    // deleted): clear the member bits no version left has. Only then: a pass over every
    // label's set for each collected vertex would cost as much as the labels in use.
    if chain(&cut).any(|d| matches!(d.action, UndoAction::AddLabel(_) | UndoAction::RecreateObject)) {
        stats.index_entries_removed += inner.members.settle(gid, |l| some_version_has_label(&v, l));
    }
    // Edges deleted in the versions cut away (their undo re-adds the adjacency).
    let (out_gone, in_gone) = chain(&cut).fold((false, false), |(out, into), d| match d.action {
        UndoAction::AddOutEdge(_) => (true, into),
        UndoAction::AddInEdge(_) => (out, true),
        _ => (out, into),
    });
    // Likewise for the edge types of out-edges deleted in the versions cut away.
    if out_gone {
        stats.index_entries_removed += inner.sources.settle(gid, |t| some_version_has_out_type(&v, t));
    }
    if v.delta.is_none() && v.life == Life::Deleted {
        *v = VertexData::default();
        stats.vertices_freed += 1;
    } else {
        // Only a list that lost edges can have become sparse; the others are not looked
        // at (reading a list's capacity is a cache miss per collected vertex, which a
        // bulk load of edges would pay on every vertex it touched).
        if out_gone {
            shrink_if_sparse(&mut v.out_edges);
        }
        if in_gone {
            shrink_if_sparse(&mut v.in_edges);
        }
    }
    drop(v);
    drop_chain(cut);
}

/// Gives back adjacency capacity left over from deletions.
pub(crate) fn shrink_if_sparse<T>(list: &mut ThinVec<T>) {
    if list.capacity() >= 2 * list.len() + 8 {
        list.shrink_to_fit();
    }
}

fn collect_edge(inner: &Inner, gid: Gid, oldest: u64, stats: &mut GcStats) {
    let Some(slot) = inner.edges.get(gid.0) else {
        return;
    };
    let mut data = slot.lock();
    let cut = truncate_chain(&mut data.delta, oldest);
    stats.deltas_freed += chain(&cut).count();
    // A deleted edge nobody can see any more: its slot is vacant again (ids are not
    // reused, so nothing else will take it).
    let freed = (data.deleted && data.delta.is_none()).then(|| std::mem::take(&mut *data));
    drop(data);
    drop_chain(cut);
    if let Some(freed) = freed {
        drop(freed);
        stats.edge_objects_freed += 1;
    }
}

#[cfg(test)]
mod tests {
    use crate::{Gid, IsolationLevel, Storage};

    #[test]
    fn lists_that_lost_edges_give_their_capacity_back() {
        // Set up: a hub with 1,000 edges out, and one vertex with 1,000 edges in.
        let storage = Storage::new();
        let edge_type = storage.edge_type("E");
        let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
        let (hub, sink) = (txn.create_vertex().unwrap(), txn.create_vertex().unwrap());
        let edges: Vec<_> = (0..1000)
            .map(|_| txn.create_edge(hub, sink, edge_type).unwrap())
            .collect();
        txn.commit().unwrap();
        storage.collect_garbage();
        let capacities = |gid: Gid| {
            let v = storage.inner.vertices.get(gid.0).unwrap().lock();
            (v.out_edges.capacity(), v.in_edges.capacity())
        };
        assert!(capacities(hub).0 >= 1000 && capacities(sink).1 >= 1000);

        // Act: delete all but ten while a reader pins the edges; a second reader, begun
        // after the deletion, pins a later write to the hub, so when the deletion's
        // versions are collected the hub still has a newer one.
        let first = storage.begin(IsolationLevel::SnapshotIsolation);
        let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
        for e in &edges[10..] {
            txn.delete_edge(e).unwrap();
        }
        txn.commit().unwrap();
        let second = storage.begin(IsolationLevel::SnapshotIsolation);
        let mut later = storage.begin(IsolationLevel::SnapshotIsolation);
        let other = later.create_vertex().unwrap();
        later.create_edge(hub, other, edge_type).unwrap();
        later.commit().unwrap();
        storage.collect_garbage();
        assert_eq!(first.edges(hub, crate::Direction::Out, &[]).unwrap().len(), 1000);
        drop(first);
        storage.collect_garbage();

        // Check: both lists are small again, holding what is left, and each reader still
        // sees its version.
        let (hub_out, _) = capacities(hub);
        let (_, sink_in) = capacities(sink);
        assert!(
            hub_out < 64 && sink_in < 64,
            "capacities stayed at {hub_out} and {sink_in}"
        );
        assert_eq!(second.edges(hub, crate::Direction::Out, &[]).unwrap().len(), 10);
        drop(second);
        storage.collect_garbage();
        let txn = storage.begin(IsolationLevel::SnapshotIsolation);
        assert_eq!(txn.edges(hub, crate::Direction::Out, &[]).unwrap().len(), 11);
    }
}
