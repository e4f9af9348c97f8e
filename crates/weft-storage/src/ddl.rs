//! Index and constraint DDL: each change takes its own commit timestamp and produces a
//! commit record, like a transaction, so it replays and replicates in order.
//!
//! Building an index while writes go on: the new schema is published first, so every
//! writer that locks a vertex afterwards maintains the index itself; then every vertex is
//! visited under its lock and the entries of each of its versions still in its undo chain
//! are gathered, and inserted sorted by key once the scan is done (all of it under the
//! commit lock, so no commit is published before the index is whole). A writer that read
//! the old schema held the vertex lock while writing, so the visit sees its write.
//! Entries are over-complete by design; readers re-check.
//!
//! A snapshot being loaded is the exception: nobody reads it yet, so its whole schema is
//! declared first and its indexes filled together afterwards ([`Storage::load_schema`]).

use crate::delta::{chain, UndoAction, Viewer};
use crate::error::{Result, StorageError};
use crate::index::{Schema, TupleIndex, TupleKey, UniqueConstraint};
use crate::pipeline::{CommitEntry, Origin};
use crate::record::{CommitRecord, DdlOp};
use crate::storage::{Inner, Storage};
use crate::vertex::{Life, VertexData};
use std::sync::Arc;
use weft_common::{Gid, LabelId, PropertyId, Value};

/// A description of one index, for `SHOW INDEX INFO`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum IndexInfo {
    Label(String),
    LabelProperty(String, String),
    EdgeType(String),
}

/// A description of one constraint, for `SHOW CONSTRAINT INFO`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConstraintInfo {
    Exists(String, String),
    Unique(String, Vec<String>),
}

impl Storage {
    pub fn create_label_index(&self, label: &str) -> Result<u64> {
        self.change(&DdlOp::CreateLabelIndex(label.into()))
    }

    pub fn drop_label_index(&self, label: &str) -> Result<u64> {
        self.change(&DdlOp::DropLabelIndex(label.into()))
    }

    pub fn create_label_property_index(&self, label: &str, prop: &str) -> Result<u64> {
        self.change(&DdlOp::CreateLabelPropertyIndex(label.into(), prop.into()))
    }

    pub fn drop_label_property_index(&self, label: &str, prop: &str) -> Result<u64> {
        self.change(&DdlOp::DropLabelPropertyIndex(label.into(), prop.into()))
    }

    pub fn create_edge_type_index(&self, edge_type: &str) -> Result<u64> {
        self.change(&DdlOp::CreateEdgeTypeIndex(edge_type.into()))
    }

    pub fn drop_edge_type_index(&self, edge_type: &str) -> Result<u64> {
        self.change(&DdlOp::DropEdgeTypeIndex(edge_type.into()))
    }

    pub fn create_existence_constraint(&self, label: &str, prop: &str) -> Result<u64> {
        self.change(&DdlOp::CreateExistenceConstraint(label.into(), prop.into()))
    }

    pub fn drop_existence_constraint(&self, label: &str, prop: &str) -> Result<u64> {
        self.change(&DdlOp::DropExistenceConstraint(label.into(), prop.into()))
    }

    pub fn create_unique_constraint(&self, label: &str, props: &[&str]) -> Result<u64> {
        let props = props.iter().map(|p| p.to_string()).collect();
        self.change(&DdlOp::CreateUniqueConstraint(label.into(), props))
    }

    pub fn drop_unique_constraint(&self, label: &str, props: &[&str]) -> Result<u64> {
        let props = props.iter().map(|p| p.to_string()).collect();
        self.change(&DdlOp::DropUniqueConstraint(label.into(), props))
    }

    /// The indexes in force, sorted.
    pub fn index_info(&self) -> Vec<IndexInfo> {
        let schema = self.inner.schema();
        let mut out: Vec<IndexInfo> = schema
            .label
            .iter()
            .map(|l| IndexInfo::Label(self.label_name(*l)))
            .collect();
        out.extend(
            schema
                .label_property
                .keys()
                .map(|(l, p)| IndexInfo::LabelProperty(self.label_name(*l), self.property_name(*p))),
        );
        out.extend(
            schema
                .edge_type
                .iter()
                .map(|t| IndexInfo::EdgeType(self.edge_type_name(*t))),
        );
        out.sort();
        out
    }

    /// The constraints in force, sorted.
    pub fn constraint_info(&self) -> Vec<ConstraintInfo> {
        let schema = self.inner.schema();
        let mut out: Vec<ConstraintInfo> = schema
            .existence
            .iter()
            .map(|(l, p)| ConstraintInfo::Exists(self.label_name(*l), self.property_name(*p)))
            .collect();
        out.extend(schema.unique.iter().map(|u| {
            let props = u.index.props.iter().map(|p| self.property_name(*p)).collect();
            ConstraintInfo::Unique(self.label_name(u.index.label), props)
        }));
        out.sort();
        out
    }

    /// Runs one local DDL change through the commit pipeline, with its own timestamp.
    fn change(&self, op: &DdlOp) -> Result<u64> {
        self.apply_ddl(op, None)
    }

    /// Re-creates one schema entry of a snapshot or WAL being loaded, at timestamp `ts`, as
    /// if its record had been received.
    pub(crate) fn load_ddl(&self, op: &DdlOp, ts: u64) -> Result<u64> {
        self.load_ddl_then(op, ts, Fill::Now)
    }

    /// Re-creates a loaded snapshot's schema, entry `i` at timestamp `i + 1`: every
    /// declaration first, then the new indexes filled together (see [`fill_indexes`]).
    /// On error, returns the entry that failed with its error.
    pub(crate) fn load_schema(&self, ops: &[DdlOp]) -> std::result::Result<(), (usize, StorageError)> {
        for (i, op) in ops.iter().enumerate() {
            self.load_ddl_then(op, i as u64 + 1, Fill::Later).map_err(|e| (i, e))?;
        }
        let schema = self.inner.schema();
        let indexes: Vec<&TupleIndex> = ops.iter().filter_map(|op| self.new_index(&schema, op)).collect();
        fill_indexes(&self.inner, &indexes);
        Ok(())
    }

    fn load_ddl_then(&self, op: &DdlOp, ts: u64, fill: Fill) -> Result<u64> {
        let record = CommitRecord::Ddl { ts, op: op.clone() }.encode();
        let origin = Origin::Applied { epoch: 0 };
        let entry = CommitEntry {
            ts,
            record: &record,
            origin,
        };
        self.apply_ddl_then(op, Some(entry), fill)
    }

    /// Runs one DDL change: under the commit lock it takes a timestamp, changes the
    /// schema (writers see the new one at once) and hands its record to the commit
    /// pipeline; outside the lock it waits for the pipeline like any commit. `applied`
    /// is a received record's entry (its timestamp and bytes).
    pub(crate) fn apply_ddl(&self, op: &DdlOp, applied: Option<CommitEntry<'_>>) -> Result<u64> {
        self.apply_ddl_then(op, applied, Fill::Now)
    }

    /// [`Storage::apply_ddl`], filling a new index now or leaving that to the caller (who
    /// must do it before anyone reads the storage).
    fn apply_ddl_then(&self, op: &DdlOp, applied: Option<CommitEntry<'_>>, fill: Fill) -> Result<u64> {
        let inner = &self.inner;
        let serial = inner.commit_lock.lock();
        let ts = inner.next_commit_ts(applied.map(|a| a.ts))?;
        let before = inner.schema();
        let mut after = (*before).clone();
        self.change_schema(&mut after, op)?;
        let after = Arc::new(after);
        *inner.schema.write() = after.clone();
        if fill == Fill::Now {
            if let Some(index) = self.new_index(&after, op) {
                fill_indexes(inner, &[index]);
            }
        }
        let mut encoded = Vec::new();
        let entry = CommitEntry::applied_or_local(applied, ts, &mut encoded, || {
            CommitRecord::Ddl { ts, op: op.clone() }.encode()
        });
        let tickets = match inner.pipeline.append(&entry) {
            Ok(tickets) => tickets,
            Err(refused) => {
                *inner.schema.write() = before;
                return Err(refused.into());
            }
        };
        inner.assign(ts);
        drop(serial);
        let settled = inner.settle(ts, tickets);
        if !settled.published {
            // Not durable, and the pipeline has stopped. The schema goes back unless a
            // later change, staged before the stop and failing too, replaced it already;
            // then one of the two may stay in memory. That is harmless: every write is
            // refused from now on, and a restart builds the schema from the files.
            let _serial = inner.commit_lock.lock();
            let mut schema = inner.schema.write();
            if Arc::ptr_eq(&schema, &after) {
                *schema = before;
            }
        } else {
            tracing::info!(?op, ts, "schema changed");
        }
        settled.result().map(|()| ts)
    }

    /// Checks a DDL change against the schema and the data, and applies it to `schema`.
    fn change_schema(&self, schema: &mut Schema, op: &DdlOp) -> Result<()> {
        let exists = |what: String| Err(StorageError::AlreadyExists(what));
        let missing = |what: String| Err(StorageError::DoesNotExist(what));
        match op {
            DdlOp::CreateLabelIndex(l) => {
                let label = self.label(l);
                if !schema.label.insert(label) {
                    return exists(format!("index on :{l}"));
                }
            }
            DdlOp::DropLabelIndex(l) => {
                if self.find_label(l).is_none_or(|label| !schema.label.remove(&label)) {
                    return missing(format!("index on :{l}"));
                }
            }
            DdlOp::CreateLabelPropertyIndex(l, p) => {
                let key = (self.label(l), self.property(p));
                if schema.label_property.contains_key(&key) {
                    return exists(format!("index on :{l}({p})"));
                }
                schema
                    .label_property
                    .insert(key, Arc::new(TupleIndex::new(key.0, vec![key.1])));
            }
            DdlOp::DropLabelPropertyIndex(l, p) => {
                let key = self.find_label(l).zip(self.find_property(p));
                if key.and_then(|k| schema.label_property.remove(&k)).is_none() {
                    return missing(format!("index on :{l}({p})"));
                }
            }
            DdlOp::CreateEdgeTypeIndex(t) => {
                let edge_type = self.edge_type(t);
                if !schema.edge_type.insert(edge_type) {
                    return exists(format!("edge index on :{t}"));
                }
            }
            DdlOp::DropEdgeTypeIndex(t) => {
                if self.find_edge_type(t).is_none_or(|e| !schema.edge_type.remove(&e)) {
                    return missing(format!("edge index on :{t}"));
                }
            }
            DdlOp::CreateExistenceConstraint(l, p) => {
                let key = (self.label(l), self.property(p));
                if schema.existence.contains(&key) {
                    return exists(format!("existence constraint on :{l}({p})"));
                }
                crate::constraints::check_existing_existence(self, key.0, key.1)?;
                schema.existence.push(key);
            }
            DdlOp::DropExistenceConstraint(l, p) => {
                let key = self.find_label(l).zip(self.find_property(p));
                let before = schema.existence.len();
                schema.existence.retain(|k| Some(*k) != key);
                if schema.existence.len() == before {
                    return missing(format!("existence constraint on :{l}({p})"));
                }
            }
            DdlOp::CreateUniqueConstraint(l, ps) => {
                let label = self.label(l);
                let props: Vec<PropertyId> = ps.iter().map(|p| self.property(p)).collect();
                if schema
                    .unique
                    .iter()
                    .any(|u| u.index.label == label && u.index.props == props)
                {
                    return exists(format!("unique constraint on :{l}({})", ps.join(", ")));
                }
                crate::constraints::check_existing_unique(self, label, &props)?;
                schema.unique.push(Arc::new(UniqueConstraint {
                    index: TupleIndex::new(label, props),
                }));
            }
            DdlOp::DropUniqueConstraint(l, ps) => {
                let label = self.find_label(l);
                let props: Option<Vec<PropertyId>> = ps.iter().map(|p| self.find_property(p)).collect();
                let before = schema.unique.len();
                schema
                    .unique
                    .retain(|u| Some(u.index.label) != label || Some(&u.index.props) != props.as_ref());
                if schema.unique.len() == before {
                    return missing(format!("unique constraint on :{l}({})", ps.join(", ")));
                }
            }
        }
        Ok(())
    }

    /// The index a creation published in `schema` (a label+property index or a
    /// uniqueness constraint's), which needs filling over the graph.
    fn new_index<'s>(&self, schema: &'s Schema, op: &DdlOp) -> Option<&'s TupleIndex> {
        match op {
            DdlOp::CreateLabelPropertyIndex(l, p) => schema
                .label_property
                .get(&(self.find_label(l)?, self.find_property(p)?))
                .map(|index| &**index),
            DdlOp::CreateUniqueConstraint(l, ps) => {
                let label = self.find_label(l)?;
                let props: Vec<PropertyId> = ps.iter().map(|p| self.find_property(p)).collect::<Option<_>>()?;
                schema
                    .unique
                    .iter()
                    .find(|u| u.index.label == label && u.index.props == props)
                    .map(|u| &u.index)
            }
            _ => None,
        }
    }
}

/// Whether a DDL change fills the index it creates at once.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fill {
    Now,
    Later,
}

/// Fills new indexes over every vertex: one scan under the vertex locks gathers every
/// index's entries, then each index is sorted and filled on a thread of its own (as many
/// threads as cores, taking indexes in turn), since one index fills on one thread only.
fn fill_indexes(inner: &Inner, indexes: &[&TupleIndex]) {
    let mut keys: Vec<Vec<TupleKey>> = indexes.iter().map(|_| Vec::new()).collect();
    for_each_vertex(inner, |gid, v| {
        for (index, keys) in indexes.iter().zip(&mut keys) {
            index_versions(index, gid, v, keys);
        }
    });
    let mut work: Vec<(&TupleIndex, Vec<TupleKey>)> = indexes.iter().copied().zip(keys).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if work.len() <= 1 || cores <= 1 {
        work.into_iter()
            .for_each(|(index, keys)| insert_sorted(keys, |key| index.insert(key)));
        return;
    }
    // Largest first, so the longest fill starts at once.
    work.sort_by_key(|(_, keys)| keys.len());
    let threads = cores.min(work.len());
    let work = parking_lot::Mutex::new(work);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let Some((index, keys)) = work.lock().pop() else { break };
                insert_sorted(keys, |key| index.insert(key));
            });
        }
    });
}

/// Visits every vertex slot under its lock.
fn for_each_vertex(inner: &Inner, mut f: impl FnMut(Gid, &VertexData)) {
    for id in 0..inner.vertices.high_water() {
        let Some(slot) = inner.vertices.get(id) else { continue };
        let v = slot.lock();
        if v.life != Life::Empty || v.delta.is_some() {
            f(Gid(id), &v);
        }
    }
}

/// The tuple-index keys of every version of a vertex still in its undo chain.
fn index_versions(index: &TupleIndex, gid: Gid, v: &VertexData, keys: &mut Vec<TupleKey>) {
    let mut labels: Vec<LabelId> = v.label_vec();
    let mut values: Vec<Option<Value>> = index.props.iter().map(|p| v.props.get(*p)).collect();
    let mut insert = |labels: &[LabelId], values: &[Option<Value>]| {
        if labels.contains(&index.label) {
            if let Some(key) = index.key_of(gid, |p| {
                index.props.iter().position(|x| *x == p).and_then(|i| values[i].clone())
            }) {
                keys.push(key);
            }
        }
    };
    insert(&labels, &values);
    for d in chain(&v.delta) {
        match &d.action {
            UndoAction::AddLabel(l) => labels.push(*l),
            UndoAction::RemoveLabel(l) => labels.retain(|x| x != l),
            UndoAction::SetProperty(p, old) => {
                if let Some(i) = index.props.iter().position(|x| x == p) {
                    values[i] = old.clone();
                }
            }
            _ => continue,
        }
        insert(&labels, &values);
    }
}

/// Inserts a new index's entries in key order: a B+ tree fills several times faster from
/// sorted keys (each insert lands in the leaf the last one filled) than from the scan's
/// order, which for edges and property values is scattered. (Splitting the sorted keys
/// among threads by range was tried: no faster.)
fn insert_sorted<T: Ord>(mut entries: Vec<T>, insert: impl FnMut(T)) {
    entries.sort_unstable();
    entries.into_iter().for_each(insert);
}

/// A viewer that sees every committed change (used while holding the commit lock).
pub(crate) fn latest_committed(inner: &Inner) -> Viewer {
    Viewer::at(inner.engine.lock().last_committed)
}
