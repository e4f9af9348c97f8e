//! The running fingerprint: a storage's digest kept up to date commit by commit, so that
//! its value as of any later commit is read without a scan.
//!
//! Owns: the running state of one storage ([`Running`]) and each commit's change to it
//! ([`Change`]). Nothing is kept until [`Storage::keep_fingerprint`] is called (a Raft
//! member does, at its first check); that call scans the graph once as of the newest
//! commit handed out, and every commit staged after that point records its change: for
//! each object its operations name, the object's hash after the commit less its hash
//! before it (a created object had none, a deleted one has none after). Changes are kept
//! by commit timestamp until the digest is read at a timestamp, which folds them in.
//!
//! Promises: [`Storage::fingerprint_at`] equals what a scan by a transaction reading at
//! that timestamp would compute (commits are staged in timestamp order under the commit
//! lock, and each change is recorded there, before the commit's writes are marked
//! committed). A commit's change is computed from its own writes, which no other writer
//! can touch until it commits (write-write conflicts), mostly before the commit lock is
//! taken; a transaction that aborts records nothing.

use std::collections::{BTreeMap, BTreeSet};

use weft_common::{EdgeRef, Gid};

use super::{edge_hash, vertex_hash, Fingerprint};
use crate::delta::{IsolationLevel, Viewer};
use crate::record::Op;
use crate::storage::{Inner, Storage};
use crate::vertex;

/// Changes kept unread beyond this many are folded in as of the newest visible commit
/// (a member whose checks stopped must not grow without end). While the first scan runs
/// they are all kept: it takes seconds, not millions of commits.
const MOST_PENDING: usize = 1 << 20;

/// Whether, and from where, a storage keeps its running fingerprint.
#[derive(Default)]
pub(crate) enum Running {
    #[default]
    Off,
    /// The first scan runs, at `base_ts`; commits after it record their changes.
    Scanning {
        base_ts: u64,
        pending: BTreeMap<u64, Change>,
    },
    /// `base` is the digest as of `base_ts`; `pending` the changes of later commits.
    Ready {
        base_ts: u64,
        base: Fingerprint,
        pending: BTreeMap<u64, Change>,
    },
}

impl Running {
    fn pending(&mut self) -> Option<&mut BTreeMap<u64, Change>> {
        match self {
            Running::Off => None,
            Running::Scanning { pending, .. } | Running::Ready { pending, .. } => Some(pending),
        }
    }
}

/// One commit's change to the digest and to the object counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Change {
    digest: u128,
    vertices: i64,
    edges: i64,
}

impl Change {
    fn into(self, fingerprint: &mut Fingerprint) {
        fingerprint.digest = fingerprint.digest.wrapping_add(self.digest);
        fingerprint.vertices = fingerprint.vertices.wrapping_add_signed(self.vertices);
        fingerprint.edges = fingerprint.edges.wrapping_add_signed(self.edges);
    }
}

/// Sees the newest committed state, without the running transactions' writes.
const BEFORE: Viewer = Viewer {
    txn_id: u64::MAX,
    start_ts: u64::MAX,
    isolation: IsolationLevel::ReadCommitted,
};

/// Sees the newest committed state and the writes of the transaction `txn_id` (the
/// one committing), and no other running transaction's.
fn after(txn_id: u64) -> Viewer {
    Viewer {
        txn_id,
        start_ts: u64::MAX,
        isolation: IsolationLevel::ReadCommitted,
    }
}

/// Whether commits must record their changes.
pub(crate) fn kept(inner: &Inner) -> bool {
    !matches!(*inner.fingerprint.lock(), Running::Off)
}

/// The change the transaction `txn_id` makes by `ops`, from its writes as they stand
/// (uncommitted) over the newest committed state.
pub(crate) fn change_of(inner: &Inner, txn_id: u64, ops: &[Op]) -> Change {
    let mut vertices = BTreeSet::new();
    let mut edges = BTreeMap::new();
    for op in ops {
        match op {
            Op::CreateVertex(gid)
            | Op::DeleteVertex(gid)
            | Op::AddLabel(gid, _)
            | Op::RemoveLabel(gid, _)
            | Op::SetVertexProperty(gid, _, _) => {
                vertices.insert(*gid);
            }
            Op::CreateEdge(edge) | Op::DeleteEdge(edge) | Op::SetEdgeProperty(edge, _, _) => {
                edges.insert(edge.gid, *edge);
            }
        }
    }
    let mut change = Change::default();
    let mut bytes = Vec::with_capacity(256);
    for (viewer, sign) in [(BEFORE, -1), (after(txn_id), 1)] {
        let mut add = |hash: u128| match sign {
            1 => change.digest = change.digest.wrapping_add(hash),
            _ => change.digest = change.digest.wrapping_sub(hash),
        };
        let mut seen = (0, 0);
        for gid in &vertices {
            if let Some(hash) = vertex_as_seen(inner, &mut bytes, *gid, &viewer) {
                add(hash);
                seen.0 += 1;
            }
        }
        for edge in edges.values() {
            if let Some(hash) = edge_as_seen(inner, &mut bytes, edge, &viewer) {
                add(hash);
                seen.1 += 1;
            }
        }
        change.vertices += sign * seen.0;
        change.edges += sign * seen.1;
    }
    change
}

/// A vertex's hash as `viewer` sees it, `None` when it does not exist for it.
fn vertex_as_seen(inner: &Inner, bytes: &mut Vec<u8>, gid: Gid, viewer: &Viewer) -> Option<u128> {
    let (labels, props) = inner
        .with_vertex(gid, |v| {
            let labels = vertex::visible_labels(v, viewer)?;
            let live = v.life == vertex::Life::Live;
            Some((labels, vertex::visible_properties(live, &v.props, &v.delta, viewer).1))
        })
        .flatten()?;
    Some(vertex_hash(inner, bytes, gid, labels, props))
}

/// An edge's hash as `viewer` sees it, `None` when it does not exist for it.
fn edge_as_seen(inner: &Inner, bytes: &mut Vec<u8>, edge: &EdgeRef, viewer: &Viewer) -> Option<u128> {
    let exists = inner
        .with_vertex(edge.from, |v| vertex::visible_out_edge(v, viewer, edge.gid))
        .flatten()
        .is_some();
    if !exists {
        return None;
    }
    let props = inner
        .edges
        .get(edge.gid.0)
        .map(|slot| {
            let data = slot.lock();
            vertex::visible_properties(true, &data.props, &data.delta, viewer).1
        })
        .unwrap_or_default();
    Some(edge_hash(inner, bytes, edge, props))
}

/// Records the change of the commit staged at `ts`, under the commit lock and before
/// its writes are marked committed; `computed` is the change worked out before the lock
/// was taken, if the digest was kept then.
pub(crate) fn record(inner: &Inner, ts: u64, computed: Option<Change>, txn_id: u64, ops: &[Op]) {
    let mut running = inner.fingerprint.lock();
    let Some(pending) = running.pending() else {
        return;
    };
    // Kept since the change was skipped: the scan began after the lock was last free,
    // so this commit is after its point and must count.
    let change = computed.unwrap_or_else(|| change_of(inner, txn_id, ops));
    pending.insert(ts, change);
    if pending.len() > MOST_PENDING {
        let visible = inner.engine.lock().last_committed;
        fold(&mut running, visible);
    }
}

/// Folds the changes up to `ts` into the base (a scan still running keeps them all).
fn fold(running: &mut Running, ts: u64) -> Option<Fingerprint> {
    let Running::Ready { base_ts, base, pending } = running else {
        return None;
    };
    if ts < *base_ts {
        return None;
    }
    let later = pending.split_off(&(ts + 1));
    for change in std::mem::replace(pending, later).into_values() {
        change.into(base);
    }
    *base_ts = ts;
    Some(*base)
}

/// Turns a first scan that did not finish back to [`Running::Off`].
struct Abandoned<'a> {
    inner: &'a Inner,
    at: u64,
    armed: bool,
}

impl Drop for Abandoned<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let mut running = self.inner.fingerprint.lock();
        if matches!(*running, Running::Scanning { base_ts, .. } if base_ts == self.at) {
            *running = Running::Off;
        }
    }
}

impl Storage {
    /// Starts keeping this storage's running fingerprint: scans the graph once (on the
    /// calling thread) as of the newest commit handed out, and from then on every commit
    /// records its change. Returns that commit's timestamp and the scan's fingerprint;
    /// `None` when it is kept already, or `stop` ended the scan (then nothing is kept).
    pub fn keep_fingerprint(&self, stop: &dyn Fn() -> bool) -> Option<(u64, Fingerprint)> {
        let txn = {
            let _serial = self.inner.commit_lock.lock();
            let mut running = self.inner.fingerprint.lock();
            if !matches!(*running, Running::Off) {
                return None;
            }
            let txn = self.begin_after_assigned();
            *running = Running::Scanning {
                base_ts: txn.start_ts(),
                pending: BTreeMap::new(),
            };
            txn
        };
        let at = txn.start_ts();
        // Should the scan fail (a panic), nothing is kept and the next call starts over.
        let mut abandoned = Abandoned {
            inner: &self.inner,
            at,
            armed: true,
        };
        let scanned = txn.fingerprint_unless(stop);
        drop(txn);
        abandoned.armed = false;
        let mut running = self.inner.fingerprint.lock();
        match (scanned, &mut *running) {
            (Some(base), Running::Scanning { base_ts, pending }) if *base_ts == at => {
                let pending = std::mem::take(pending);
                *running = Running::Ready {
                    base_ts: at,
                    base,
                    pending,
                };
                Some((at, base))
            }
            (None, Running::Scanning { base_ts, .. }) if *base_ts == at => {
                *running = Running::Off;
                None
            }
            _ => None,
        }
    }

    /// The running fingerprint as of the commit at `ts`: `None` while it is not kept
    /// (or its first scan runs), when `ts` is before the last point it was read at (it
    /// is read forward only), or past the newest commit handed out.
    pub fn fingerprint_at(&self, ts: u64) -> Option<Fingerprint> {
        if ts > self.last_assigned() {
            return None;
        }
        fold(&mut self.inner.fingerprint.lock(), ts)
    }

    /// Whether this storage keeps its running fingerprint (its first scan included).
    pub fn keeps_fingerprint(&self) -> bool {
        kept(&self.inner)
    }
}

#[cfg(test)]
mod tests {
    use crate::{IsolationLevel, Storage, Transaction, Value};
    use weft_common::Gid;

    fn scan(storage: &Storage) -> super::Fingerprint {
        storage.begin(IsolationLevel::SnapshotIsolation).fingerprint()
    }

    fn newest(storage: &Storage) -> super::Fingerprint {
        storage.fingerprint_at(storage.last_committed()).expect("kept")
    }

    fn write(storage: &Storage, isolation: IsolationLevel, f: impl FnOnce(&Storage, &mut Transaction)) {
        let mut txn = storage.begin(isolation);
        f(storage, &mut txn);
        txn.commit().unwrap();
    }

    /// Every kind of write, each followed by a comparison with a scan.
    #[test]
    fn the_running_fingerprint_follows_every_kind_of_write() {
        let storage = Storage::new();
        write(&storage, IsolationLevel::SnapshotIsolation, |s, t| {
            let a = t.create_vertex().unwrap();
            t.add_label(a, s.label("Person")).unwrap();
        });
        let (at, base) = storage.keep_fingerprint(&|| false).unwrap();
        assert_eq!((at, base), (storage.last_committed(), scan(&storage)));
        assert_eq!(storage.keep_fingerprint(&|| false), None, "kept already");
        let (name, knows, since) = (
            storage.property("name"),
            storage.edge_type("KNOWS"),
            storage.property("since"),
        );
        type Step = Box<dyn Fn(&Storage, &mut Transaction)>;
        let steps: Vec<Step> = vec![
            Box::new(move |_, t| {
                t.set_vertex_property(Gid(0), name, Value::from("ada"))
                    .map(drop)
                    .unwrap()
            }),
            Box::new(move |_, t| {
                let b = t.create_vertex().unwrap();
                let e = t.create_edge(Gid(0), b, knows).unwrap();
                t.set_edge_property(&e, since, Value::Int(2020)).map(drop).unwrap();
                t.create_edge(b, Gid(0), knows).map(drop).unwrap();
            }),
            Box::new(move |s, t| {
                t.add_label(Gid(1), s.label("Admin")).map(drop).unwrap();
                t.remove_label(Gid(0), s.label("Person")).map(drop).unwrap();
                t.set_vertex_property(Gid(0), name, Value::Null).map(drop).unwrap();
            }),
            Box::new(move |_, t| {
                let edge = t.edges(Gid(0), crate::Direction::Out, &[]).unwrap()[0];
                t.set_edge_property(&edge, since, Value::Int(2021)).map(drop).unwrap();
            }),
            Box::new(move |_, t| {
                let edge = t.edges(Gid(1), crate::Direction::Out, &[]).unwrap()[0];
                t.delete_edge(&edge).unwrap();
            }),
            Box::new(|_, t| {
                // Made and gone in one transaction: no change at all.
                let c = t.create_vertex().unwrap();
                t.delete_vertex(c, false).unwrap();
            }),
            Box::new(|_, t| t.delete_vertex(Gid(1), true).unwrap()),
        ];
        for (n, step) in steps.iter().enumerate() {
            write(&storage, IsolationLevel::SnapshotIsolation, step);
            assert_eq!(newest(&storage), scan(&storage), "after step {n}");
        }
        // Read committed writes over a commit newer than its start.
        let mut late = storage.begin(IsolationLevel::ReadCommitted);
        write(&storage, IsolationLevel::SnapshotIsolation, |_, t| {
            t.set_vertex_property(Gid(0), name, Value::Int(1)).map(drop).unwrap()
        });
        late.set_vertex_property(Gid(0), name, Value::Int(2)).unwrap();
        late.commit().unwrap();
        assert_eq!(newest(&storage), scan(&storage), "read committed");
    }

    #[test]
    fn an_aborted_transaction_changes_nothing_and_reads_go_forward_only() {
        let storage = Storage::new();
        storage.keep_fingerprint(&|| false).unwrap();
        write(&storage, IsolationLevel::SnapshotIsolation, |_, t| {
            t.create_vertex().unwrap();
        });
        let first = storage.last_committed();
        let before = newest(&storage);
        let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
        let v = txn.create_vertex().unwrap();
        txn.add_label(v, storage.label("Gone")).unwrap();
        txn.abort();
        assert_eq!(newest(&storage), before);
        write(&storage, IsolationLevel::SnapshotIsolation, |_, t| {
            t.create_vertex().unwrap();
        });
        assert_eq!(
            storage.fingerprint_at(storage.last_committed() + 1),
            None,
            "not handed out yet"
        );
        assert_eq!(newest(&storage).vertices, 2);
        assert_eq!(storage.fingerprint_at(first), None, "read past it already");
    }

    #[test]
    fn a_scan_told_to_stop_keeps_nothing() {
        let storage = Storage::new();
        write(&storage, IsolationLevel::SnapshotIsolation, |_, t| {
            t.create_vertex().unwrap();
        });
        assert_eq!(storage.keep_fingerprint(&|| true), None);
        assert!(!storage.keeps_fingerprint());
        assert_eq!(storage.fingerprint_at(storage.last_committed()), None);
    }

    /// Commits racing with the first scan: each counts once, in the scan or as a change.
    #[test]
    fn commits_during_the_first_scan_are_counted_once() {
        let storage = Storage::new();
        let (kind, weight) = (storage.edge_type("NEXT"), storage.property("weight"));
        let writers: Vec<_> = (0..3)
            .map(|_| {
                let storage = storage.clone();
                std::thread::spawn(move || {
                    let mut last = None;
                    for n in 0..300 {
                        write(&storage, IsolationLevel::SnapshotIsolation, |_, t| {
                            let v = t.create_vertex().unwrap();
                            t.set_vertex_property(v, weight, Value::Int(n)).unwrap();
                            if let Some(prev) = last {
                                t.create_edge(prev, v, kind).unwrap();
                            }
                            last = Some(v);
                        });
                    }
                })
            })
            .collect();
        while storage.last_committed() < 100 {
            std::thread::yield_now();
        }
        storage.keep_fingerprint(&|| false).unwrap();
        writers.into_iter().for_each(|w| w.join().unwrap());
        assert_eq!(newest(&storage), scan(&storage));
        assert_eq!(newest(&storage).vertices, 900);
    }

    /// Records applied from another storage's log (as a follower applies them) keep the
    /// same running fingerprint as the storage that made them computes by scanning.
    #[test]
    fn applied_records_keep_the_running_fingerprint_of_the_graph_they_build() {
        let source = Storage::new();
        let log = std::sync::Arc::new(parking_lot::Mutex::new(Vec::new()));
        source.add_commit_sink(std::sync::Arc::new(Recorder(log.clone())));
        let follower = Storage::new();
        follower.keep_fingerprint(&|| false).unwrap();
        let (tag, weight) = (source.label("Tag"), source.property("weight"));
        let link = source.edge_type("LINK");
        for n in 0..40u64 {
            write(&source, IsolationLevel::SnapshotIsolation, |_, t| {
                let v = t.create_vertex().unwrap();
                t.set_vertex_property(v, weight, Value::Int(n as i64)).unwrap();
                if n % 3 == 0 {
                    t.add_label(v, tag).unwrap();
                }
                if n > 0 {
                    let e = t.create_edge(Gid(n - 1), v, link).unwrap();
                    t.set_edge_property(&e, weight, Value::Float(n as f64)).unwrap();
                }
                if n % 7 == 6 {
                    t.delete_vertex(Gid(n - 3), true).unwrap();
                }
            });
        }
        for record in log.lock().iter() {
            follower.apply(record, crate::Origin::Applied { epoch: 0 }).unwrap();
        }
        assert_eq!(newest(&follower), scan(&source));
    }

    /// A sink that keeps every record it is given.
    struct Recorder(std::sync::Arc<parking_lot::Mutex<Vec<Vec<u8>>>>);

    impl crate::CommitSink for Recorder {
        fn name(&self) -> &str {
            "recorder"
        }
        fn append(&self, entry: &crate::CommitEntry<'_>) -> Result<crate::SinkTicket, crate::CommitError> {
            self.0.lock().push(entry.record.to_vec());
            Ok(crate::SinkTicket::NOTHING)
        }
        fn wait(&self, _: crate::SinkTicket) -> Result<(), crate::CommitError> {
            Ok(())
        }
    }
}
