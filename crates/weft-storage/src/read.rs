//! Transaction reads: objects, adjacency and scans, each as the transaction sees them.
//!
//! Every read locks the object briefly, copies what it needs and undoes the deltas the
//! transaction may not see. Index scans return candidates that are re-checked the same
//! way, so stale index entries never leak into results.

use crate::delta::Viewer;
use crate::error::{Result, StorageError};
use crate::members::LabelProbe;
use crate::storage::Inner;
use crate::txn::Transaction;
use crate::vertex::{self, Direction, VertexData};
use std::ops::Bound;
use std::sync::Arc;
use weft_common::value::OrderedValue;
use weft_common::EdgeRef;
use weft_common::{EdgeTypeId, Gid, LabelId, PropertyId, Value};

impl Inner {
    /// Runs `f` on a vertex's newest state under its lock.
    pub(crate) fn with_vertex<R>(&self, gid: Gid, f: impl FnOnce(&VertexData) -> R) -> Option<R> {
        let slot = self.vertices.get(gid.0)?;
        let guard = slot.lock();
        Some(f(&guard))
    }
}

/// Members below which a label scan stays on one thread (starting threads costs more).
const PARALLEL_SCAN_MIN: usize = 16_384;

/// Helper threads all label scans of the process may run at once: one per CPU.
static MAX_SCAN_HELPERS: std::sync::LazyLock<usize> =
    std::sync::LazyLock::new(|| std::thread::available_parallelism().map_or(1, |n| n.get()));

/// Helper threads scans are running now.
static SCAN_HELPERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Helper threads one scan took from the process's allowance, given back when dropped.
struct ScanHelpers {
    count: usize,
}

impl ScanHelpers {
    /// Up to `wanted` helpers, as many as the allowance has left (maybe none).
    fn reserve(wanted: usize) -> ScanHelpers {
        use std::sync::atomic::Ordering::AcqRel;
        let mut count = 0;
        let _ = SCAN_HELPERS.fetch_update(AcqRel, std::sync::atomic::Ordering::Acquire, |running| {
            count = wanted.min(MAX_SCAN_HELPERS.saturating_sub(running));
            Some(running + count)
        });
        ScanHelpers { count }
    }
}

impl Drop for ScanHelpers {
    fn drop(&mut self) {
        SCAN_HELPERS.fetch_sub(self.count, std::sync::atomic::Ordering::AcqRel);
    }
}

impl Transaction {
    fn viewer(&self) -> &Viewer {
        &self.viewer
    }

    /// True when the vertex exists for this transaction.
    pub fn vertex_exists(&self, gid: Gid) -> bool {
        self.inner
            .with_vertex(gid, |v| vertex::visible_exists(v, self.viewer()))
            .unwrap_or(false)
    }

    /// The vertex's labels.
    pub fn labels(&self, gid: Gid) -> Result<Vec<LabelId>> {
        self.inner
            .with_vertex(gid, |v| vertex::visible_labels(v, self.viewer()))
            .flatten()
            .ok_or(StorageError::VertexNotFound(gid))
    }

    /// Whether the vertex exists for this transaction and has every one of `labels`
    /// (no allocation when the vertex has no pending versions).
    pub fn vertex_has_labels(&self, gid: Gid, labels: &[LabelId]) -> bool {
        self.inner
            .with_vertex(gid, |v| {
                labels.iter().all(|l| vertex::visible_has_label(v, self.viewer(), *l))
            })
            .unwrap_or(false)
    }

    /// Whether the vertex exists and has `label` for this transaction, answered from the
    /// label's member bits when those are exact for every reader (no transaction that
    /// changed the label is unsettled; see [`crate::members`]), without visiting the
    /// vertex; `None` when the vertex must be asked ([`Transaction::vertex_has_labels`]).
    pub fn settled_has_label(&self, gid: Gid, label: LabelId) -> Option<bool> {
        self.label_probe(label)?.settled_contains(gid)
    }

    /// [`Transaction::settled_has_label`] for many vertices: a probe into `label`'s set,
    /// to keep for the statement (`None` while no vertex ever had the label).
    pub fn label_probe(&self, label: LabelId) -> Option<LabelProbe> {
        self.inner.members.probe(label)
    }

    /// Whether the vertex has `label`.
    pub fn has_label(&self, gid: Gid, label: LabelId) -> Result<bool> {
        Ok(self.labels(gid)?.contains(&label))
    }

    /// One property of a vertex.
    pub fn vertex_property(&self, gid: Gid, key: PropertyId) -> Result<Option<Value>> {
        let seen = self.inner.with_vertex(gid, |v| {
            vertex::visible_property(v.life == vertex::Life::Live, &v.props, &v.delta, self.viewer(), key)
        });
        match seen {
            Some((true, value)) => Ok(value),
            _ => Err(StorageError::VertexNotFound(gid)),
        }
    }

    /// All properties of a vertex, in key order.
    pub fn vertex_properties(&self, gid: Gid) -> Result<Vec<(PropertyId, Value)>> {
        let seen = self.inner.with_vertex(gid, |v| {
            vertex::visible_properties(v.life == vertex::Life::Live, &v.props, &v.delta, self.viewer())
        });
        match seen {
            Some((true, all)) => Ok(all),
            _ => Err(StorageError::VertexNotFound(gid)),
        }
    }

    /// Edges leaving (`Out`) or entering (`In`) a vertex, restricted to `types` unless it
    /// is empty.
    pub fn edges(&self, gid: Gid, dir: Direction, types: &[EdgeTypeId]) -> Result<Vec<EdgeRef>> {
        let list = self
            .inner
            .with_vertex(gid, |v| vertex::visible_adjacency(v, self.viewer(), dir))
            .flatten()
            .ok_or(StorageError::VertexNotFound(gid))?;
        let wanted = |t: EdgeTypeId| types.is_empty() || types.contains(&t);
        Ok(list
            .into_iter()
            .filter(|a| wanted(a.edge_type()))
            .map(|a| match dir {
                Direction::Out => EdgeRef {
                    gid: a.edge(),
                    from: gid,
                    to: a.other(),
                    edge_type: a.edge_type(),
                },
                Direction::In => EdgeRef {
                    gid: a.edge(),
                    from: a.other(),
                    to: gid,
                    edge_type: a.edge_type(),
                },
            })
            .collect())
    }

    /// True when the edge exists for this transaction.
    pub fn edge_exists(&self, e: &EdgeRef) -> bool {
        self.inner
            .with_vertex(e.from, |v| vertex::visible_out_edge(v, self.viewer(), e.gid))
            .flatten()
            .is_some_and(|a| a.other() == e.to && a.edge_type() == e.edge_type)
    }

    /// One property of an edge.
    pub fn edge_property(&self, e: &EdgeRef, key: PropertyId) -> Result<Option<Value>> {
        let Some(slot) = self.inner.edges.get(e.gid.0) else {
            return Ok(None);
        };
        let data = slot.lock();
        Ok(vertex::visible_property(true, &data.props, &data.delta, self.viewer(), key).1)
    }

    /// All properties of an edge, in key order.
    pub fn edge_properties(&self, e: &EdgeRef) -> Result<Vec<(PropertyId, Value)>> {
        let Some(slot) = self.inner.edges.get(e.gid.0) else {
            return Ok(Vec::new());
        };
        let data = slot.lock();
        Ok(vertex::visible_properties(true, &data.props, &data.delta, self.viewer()).1)
    }

    /// Every vertex this transaction sees, in id order (streams; no index needed).
    pub fn vertices(&self) -> VertexScan {
        VertexScan {
            inner: self.inner.clone(),
            viewer: self.viewer,
            next: 0,
            end: self.inner.vertices.high_water(),
        }
    }

    /// Vertices with `label`, in id order, from the label's members (`members.rs`).
    pub fn vertices_with_label(&self, label: LabelId) -> Vec<Gid> {
        let Some(members) = self.inner.members.set(label) else {
            return Vec::new();
        };
        let check = |gid: &Gid| {
            self.inner
                .with_vertex(*gid, |v| vertex::visible_has_label(v, self.viewer(), label))
                .unwrap_or(false)
        };
        members.gids().into_iter().filter(check).collect()
    }

    /// Vertices with an out-edge of one of `types` in some version, that this transaction
    /// sees, in id order, from the types' source sets (`members.rs`). Whether the edge
    /// itself is visible is for the caller's expand to find out.
    pub fn vertices_with_out_type(&self, types: &[EdgeTypeId]) -> Vec<Gid> {
        let mut gids: Vec<Gid> = types
            .iter()
            .filter_map(|t| self.inner.sources.set(*t))
            .flat_map(|set| set.gids())
            .collect();
        if types.len() > 1 {
            gids.sort_unstable();
            gids.dedup();
        }
        let exists = |gid: &Gid| {
            self.inner
                .with_vertex(*gid, |v| vertex::visible_exists(v, self.viewer()))
                .unwrap_or(false)
        };
        gids.retain(exists);
        gids
    }

    /// How many vertices with `label` this transaction sees, when the label's count
    /// answers that without a scan: a snapshot transaction that has written nothing, and
    /// no commit it cannot see has changed the count. `None`: scan instead.
    pub fn exact_label_count(&self, label: LabelId) -> Option<u64> {
        if !self.wrote_nothing() || self.viewer.isolation != crate::IsolationLevel::SnapshotIsolation {
            return None;
        }
        let counts = self.inner.label_counts.lock();
        match counts.get(&label) {
            None => Some(0),
            Some(c) if c.changed_at <= self.viewer.start_ts => Some(c.vertices.max(0) as u64),
            Some(_) => None,
        }
    }

    /// The column form of a label scan: the vertices with `label` this transaction sees,
    /// in id order, with the values of `keys` on each (`None` in `keys`: a property no
    /// vertex has), handed to `f` in batches of up to `batch` vertices as one vector of
    /// values per key. One lock per vertex serves the label check and every key.
    ///
    /// With `threads` above one and a large label, up to `threads - 1` helper threads read
    /// batches while the caller runs `f` on them in order, so reading and consuming
    /// overlap; the caller also reads one batch in every `2n + 1` for `n` helpers (it has
    /// `f` to run besides). At most one helper per CPU runs across all scans of the
    /// process at once; when the allowance is used up, or a helper cannot be started, the
    /// caller reads those batches itself.
    ///
    /// A large label's scan read while nobody was changing the label or the keys leaves
    /// its columns kept, and later scans read those while that still holds, visiting no
    /// vertex (`columns.rs`).
    pub fn label_columns<E>(
        &self,
        label: LabelId,
        keys: &[Option<PropertyId>],
        batch: usize,
        threads: usize,
        mut f: impl FnMut(&[Gid], &[&[Option<Value>]]) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let Some(set) = self.inner.members.set(label) else {
            return Ok(());
        };
        let batch = batch.max(1);
        let columns = &self.inner.columns;
        if let Some((kept, at)) = columns.find(label, set.change_count(), keys) {
            let absent = vec![None; batch.min(kept.gids.len())];
            for (i, gids) in kept.gids.chunks(batch).enumerate() {
                let range = i * batch..i * batch + gids.len();
                let values: Vec<&[Option<Value>]> = at
                    .iter()
                    .map(|at| at.map_or(&absent[..gids.len()], |at| &kept.values(at)[range.clone()]))
                    .collect();
                f(gids, &values)?;
            }
            return Ok(());
        }
        // Read while settled, the scan's columns can serve the next scans too. The stamp
        // comes before the members are listed, so that a member added after the listing
        // moves a counter the stamp holds.
        let known: Vec<PropertyId> = keys.iter().flatten().copied().collect();
        let stamp = columns.stamp(set.change_count(), &known);
        let members = set.gids();
        let stamp = stamp.filter(|_| columns.worth_keeping(members.len()));
        let mut kept_gids = Vec::new();
        let mut kept_values: Vec<Vec<Option<Value>>> = known.iter().map(|_| Vec::new()).collect();
        let mut consume = |gids: Vec<Gid>, values: Vec<Vec<Option<Value>>>| {
            if gids.is_empty() {
                return Ok(());
            }
            f(&gids, &values.iter().map(Vec::as_slice).collect::<Vec<_>>())?;
            if stamp.is_some() {
                kept_gids.extend_from_slice(&gids);
                let known_values = keys.iter().zip(values).filter(|(k, _)| k.is_some());
                for (column, (_, values)) in kept_values.iter_mut().zip(known_values) {
                    column.extend(values);
                }
            }
            Ok(())
        };
        self.scan_columns(label, keys, &members, batch, threads, &mut consume)?;
        if let Some(stamp) = stamp {
            columns.keep(label, set.change_count(), stamp, kept_gids, kept_values);
        }
        Ok(())
    }

    /// The reading part of [`Transaction::label_columns`] over `members`, batch by batch,
    /// handing each batch's visible vertices and values to `consume` in order.
    fn scan_columns<E>(
        &self,
        label: LabelId,
        keys: &[Option<PropertyId>],
        members: &[Gid],
        batch: usize,
        threads: usize,
        consume: &mut impl FnMut(Vec<Gid>, Vec<Vec<Option<Value>>>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let batches: Vec<&[Gid]> = members.chunks(batch).collect();
        // The caller is one of the `threads`.
        let wanted = if threads > 1 && members.len() >= PARALLEL_SCAN_MIN {
            threads.min(batches.len()) - 1
        } else {
            0
        };
        let helpers = ScanHelpers::reserve(wanted);
        let participants = helpers.count.max(1);
        // Who reads batch `i`: `None` the caller, `Some(t)` helper `t`.
        let period = 2 * helpers.count + 1;
        let reader = |i: usize| (i % period).checked_sub(1).map(|r| r % participants);
        std::thread::scope(|scope| {
            // Per helper, where its batches come from (`None`: the caller reads them).
            let mut sources: Vec<Option<std::sync::mpsc::Receiver<_>>> = (0..participants).map(|_| None).collect();
            for (t, source) in sources.iter_mut().enumerate().take(helpers.count) {
                let (sender, receiver) = std::sync::mpsc::sync_channel(2);
                let batches = &batches;
                let started = std::thread::Builder::new()
                    .name("weft-scan".into())
                    .spawn_scoped(scope, move || {
                        let mine = batches.iter().enumerate().filter(|(i, _)| reader(*i) == Some(t));
                        for (_, candidates) in mine {
                            // The caller stopped (an error from `f`): stop reading.
                            if sender.send(self.read_columns(label, keys, candidates)).is_err() {
                                return;
                            }
                        }
                    });
                *source = started.ok().map(|_| receiver);
            }
            for (i, candidates) in batches.iter().enumerate() {
                let source = reader(i).and_then(|t| sources[t].as_ref());
                let received = source.and_then(|r| r.recv().ok());
                let (gids, columns) = received.unwrap_or_else(|| self.read_columns(label, keys, candidates));
                consume(gids, columns)?;
            }
            Ok(())
        })
    }

    /// One batch of [`Transaction::label_columns`]: the candidates that have `label` for
    /// this transaction and their values of `keys`.
    fn read_columns(
        &self,
        label: LabelId,
        keys: &[Option<PropertyId>],
        candidates: &[Gid],
    ) -> (Vec<Gid>, Vec<Vec<Option<Value>>>) {
        let mut gids = Vec::with_capacity(candidates.len());
        let mut columns: Vec<Vec<Option<Value>>> = keys.iter().map(|_| Vec::with_capacity(candidates.len())).collect();
        for (i, &gid) in candidates.iter().enumerate() {
            crate::prefetch::scan_ahead(&self.inner.vertices, candidates, i);
            self.inner.with_vertex(gid, |v| {
                if !vertex::visible_has_label(v, self.viewer(), label) {
                    return;
                }
                gids.push(gid);
                for (key, column) in keys.iter().zip(columns.iter_mut()) {
                    let value =
                        key.and_then(|key| vertex::visible_property(true, &v.props, &v.delta, self.viewer(), key).1);
                    column.push(value);
                }
            });
        }
        (gids, columns)
    }

    /// Vertices with `label` whose `key` equals `value` (Cypher equality).
    pub fn vertices_with_property(&self, label: LabelId, key: PropertyId, value: &Value) -> Vec<Gid> {
        let schema = self.inner.schema();
        let Some(index) = schema.label_property.get(&(label, key)) else {
            return self
                .range_hits(label, key, Bound::Included(value), Bound::Included(value))
                .into_iter()
                .filter(|(v, _)| v.0.cypher_eq(value) == Some(true))
                .map(|(_, gid)| gid)
                .collect();
        };
        // The entries equal to `value` (no values copied out of the index; one per vertex,
        // in id order, since equal values make equal keys), each checked against the label
        // and value this transaction sees.
        let mut gids = index.lookup(&[OrderedValue(value.clone())]);
        gids.retain(|gid| {
            self.labelled_value(*gid, label, key)
                .is_some_and(|seen| seen.cypher_eq(value) == Some(true))
        });
        gids
    }

    /// The value of `key` on vertex `gid` as this transaction sees it, when it sees the
    /// vertex with `label` (one lock for both).
    fn labelled_value(&self, gid: Gid, label: LabelId, key: PropertyId) -> Option<Value> {
        self.inner
            .with_vertex(gid, |v| {
                if !vertex::visible_has_label(v, self.viewer(), label) {
                    return None;
                }
                vertex::visible_property(true, &v.props, &v.delta, self.viewer(), key).1
            })
            .flatten()
    }

    /// Vertices with `label` whose `key` lies within the bounds in Cypher's total order,
    /// ordered by that value, then by id.
    pub fn vertices_in_range(
        &self,
        label: LabelId,
        key: PropertyId,
        lower: Bound<&Value>,
        upper: Bound<&Value>,
    ) -> Vec<Gid> {
        self.range_hits(label, key, lower, upper)
            .into_iter()
            .map(|(_, gid)| gid)
            .collect()
    }

    /// [`Transaction::vertices_in_range`] with the value this transaction sees on each.
    fn range_hits(
        &self,
        label: LabelId,
        key: PropertyId,
        lower: Bound<&Value>,
        upper: Bound<&Value>,
    ) -> Vec<(OrderedValue, Gid)> {
        let schema = self.inner.schema();
        let index = schema.label_property.get(&(label, key));
        // Index hits carry the entry's value: a vertex is reported at the entry that matches
        // the value this transaction sees, so results stay in value order.
        let candidates: Vec<(Option<OrderedValue>, Gid)> = match index {
            Some(index) => index
                .range(lower, upper)
                .into_iter()
                .map(|(v, g)| (Some(v), g))
                .collect(),
            // Every member: the check below reads label and value under one lock.
            None => match self.inner.members.set(label) {
                Some(members) => members.gids().into_iter().map(|g| (None, g)).collect(),
                None => Vec::new(),
            },
        };
        let bounds = (
            lower.map(|v| OrderedValue(v.clone())),
            upper.map(|v| OrderedValue(v.clone())),
        );
        let mut hits: Vec<(OrderedValue, Gid)> = candidates
            .into_iter()
            .filter_map(|(entry, gid)| {
                let v = OrderedValue(self.labelled_value(gid, label, key)?);
                let matches = entry.is_none_or(|e| e == v);
                let inside = std::ops::RangeBounds::contains(&(bounds.0.as_ref(), bounds.1.as_ref()), &v);
                (matches && inside).then_some((v, gid))
            })
            .collect();
        if index.is_none() {
            hits.sort();
        }
        hits
    }

    /// Edges of one type, grouped by source vertex in id order: the type's source
    /// vertices (`members.rs`) are visited, not every vertex.
    pub fn edges_with_type(&self, edge_type: EdgeTypeId) -> Vec<EdgeRef> {
        self.vertices_with_out_type(&[edge_type])
            .into_iter()
            .flat_map(|gid| self.edges(gid, Direction::Out, &[edge_type]).unwrap_or_default())
            .collect()
    }

    /// Every edge this transaction sees, grouped by source vertex.
    pub fn all_edges(&self) -> Vec<EdgeRef> {
        self.vertices()
            .flat_map(|gid| self.edges(gid, Direction::Out, &[]).unwrap_or_default())
            .collect()
    }
}

/// A streaming scan over every vertex a transaction sees.
pub struct VertexScan {
    inner: Arc<Inner>,
    viewer: Viewer,
    next: u64,
    end: u64,
}

impl Iterator for VertexScan {
    type Item = Gid;

    fn next(&mut self) -> Option<Gid> {
        while self.next < self.end {
            let gid = Gid(self.next);
            self.next += 1;
            if self
                .inner
                .with_vertex(gid, |v| vertex::visible_exists(v, &self.viewer))
                .unwrap_or(false)
            {
                return Some(gid);
            }
        }
        None
    }
}
