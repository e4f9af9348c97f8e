//! Property columns kept between statements: for a large label, its members in id order
//! and their values of the properties a column scan read ([`Transaction::label_columns`]),
//! kept while nothing they were read from changes, so that the next scan of that label
//! and those properties reads vectors instead of visiting every vertex.
//!
//! Owns: the change count of every property key, the kept columns, their memory budget
//! and the rule for when they may be used.
//!
//! Promises: kept columns are what every reader sees, or they are not used. A scan keeps
//! them only when, before and after it read, no transaction was counted in as changing
//! the label's members (`members.rs`) or any of the properties, and nobody counted in
//! meanwhile ([`crate::settle`]): every vertex then had one state of them, the one
//! every reader sees. A later scan uses them only while the same holds with the same
//! change counters. A writer counts in before setting a vertex property
//! ([`Columns::begin_property_change`], from `txn.rs`) and before changing who has a
//! label; those are the only changes that can alter what a label's columns hold. Loaders
//! that fill the storage directly, without counting in, hold a [`DirectLoad`] guard, which
//! drops every kept column and keeps none while it lives.
//!
//! [`Transaction::label_columns`]: crate::Transaction::label_columns

use crate::settle::ChangeCount;
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::mem::size_of;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use weft_common::{Gid, LabelId, PropertyId, Value};

/// Members at or above which a scanned label's columns are kept, unless set otherwise:
/// smaller labels scan quickly enough.
const KEEP_MIN: usize = 4096;

/// Bytes all kept columns may hold together; past it, the least recently used label's
/// columns go first.
const BUDGET: usize = 256 << 20;

/// Property change counts and the kept columns of one storage.
pub(crate) struct Columns {
    /// Per property key id, who changes that property on vertices.
    counts: RwLock<Vec<Option<Arc<ChangeCount>>>>,
    /// Scans answered from kept columns.
    reads: AtomicU64,
    kept: Mutex<HashMap<LabelId, Arc<Kept>>>,
    /// Even while no direct loader runs; moves at each loader's start and end.
    epoch: AtomicU64,
    /// Use stamps, for the least recently used.
    clock: AtomicU64,
    /// Members from which a label's columns are kept.
    keep_min: AtomicUsize,
}

impl Default for Columns {
    fn default() -> Self {
        Columns {
            counts: RwLock::default(),
            reads: AtomicU64::new(0),
            kept: Mutex::default(),
            epoch: AtomicU64::new(0),
            clock: AtomicU64::new(0),
            keep_min: AtomicUsize::new(KEEP_MIN),
        }
    }
}

/// One label's kept columns.
pub(crate) struct Kept {
    epoch: u64,
    label_changes: u64,
    /// The label's members, in id order.
    pub gids: Vec<Gid>,
    /// Shared with the entry that replaces this one when it keeps them.
    columns: Vec<Arc<Column>>,
    bytes: usize,
    used: AtomicU64,
}

struct Column {
    key: PropertyId,
    changes: u64,
    /// Per member, in the order of [`Kept::gids`].
    values: Vec<Option<Value>>,
    /// What `values` holds, with the strings and lists in it.
    bytes: usize,
}

impl Kept {
    /// The values of the column at `at` (from [`Columns::find`]).
    pub fn values(&self, at: usize) -> &[Option<Value>] {
        &self.columns[at].values
    }
}

/// What a scan saw settled before it read, checked again when it keeps its columns.
pub(crate) struct Stamp {
    epoch: u64,
    label_changes: u64,
    props: Vec<(PropertyId, u64)>,
}

/// Held by a loader that writes without counting in: no column is kept or used while
/// it lives.
pub(crate) struct DirectLoad<'a>(&'a Columns);

impl Drop for DirectLoad<'_> {
    fn drop(&mut self) {
        self.0.kept.lock().clear();
        self.0.epoch.fetch_add(1, Ordering::AcqRel);
    }
}

impl Columns {
    /// Counts a transaction in as changing property `key` on some vertex, before it does.
    pub fn begin_property_change(&self, key: PropertyId) {
        self.count_or_create(key).begin();
    }

    /// Counts a transaction out of changing `key` once settled (see [`crate::settle`]).
    pub fn end_property_change(&self, key: PropertyId) {
        if let Some(count) = self.count(key) {
            count.end();
        }
    }

    /// How many property keys have a transaction counted in.
    pub fn unsettled_properties(&self) -> usize {
        self.counts.read().iter().flatten().filter(|c| c.is_unsettled()).count()
    }

    /// True when a scan of a label with `members` members keeps its columns.
    pub fn worth_keeping(&self, members: usize) -> bool {
        members >= self.keep_min.load(Ordering::Relaxed)
    }

    /// Keeps the columns of labels with at least `members` members from now on.
    pub fn set_keep_min(&self, members: usize) {
        self.keep_min.store(members, Ordering::Relaxed);
    }

    /// Starts a direct load: every kept column goes, and none is kept until it ends.
    pub fn direct_load(&self) -> DirectLoad<'_> {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.kept.lock().clear();
        DirectLoad(self)
    }

    fn count(&self, key: PropertyId) -> Option<Arc<ChangeCount>> {
        self.counts.read().get(key.0 as usize).cloned().flatten()
    }

    fn count_or_create(&self, key: PropertyId) -> Arc<ChangeCount> {
        if let Some(count) = self.count(key) {
            return count;
        }
        let mut props = self.counts.write();
        let i = key.0 as usize;
        if props.len() <= i {
            props.resize_with(i + 1, || None);
        }
        props[i].get_or_insert_with(Default::default).clone()
    }

    /// `key`'s change counter when nobody is counted in (a key never changed has 0).
    fn property_settled(&self, key: PropertyId) -> Option<u64> {
        self.count(key).map_or(Some(0), |c| c.settled())
    }

    fn epoch(&self) -> Option<u64> {
        let epoch = self.epoch.load(Ordering::Acquire);
        epoch.is_multiple_of(2).then_some(epoch)
    }

    /// The kept columns of `label` for `keys`, when they may be used now: with, per key,
    /// its column's position (`None` for a key no vertex has). `label_count` is the
    /// label's member set's change count.
    pub fn find(
        &self,
        label: LabelId,
        label_count: &ChangeCount,
        keys: &[Option<PropertyId>],
    ) -> Option<(Arc<Kept>, Vec<Option<usize>>)> {
        let epoch = self.epoch()?;
        let kept = self.kept.lock().get(&label).cloned()?;
        if kept.epoch != epoch || label_count.changes() != kept.label_changes {
            // The members changed since (counters only grow): never valid again.
            self.drop_if_same(label, &kept);
            return None;
        }
        if label_count.settled() != Some(kept.label_changes) {
            return None;
        }
        let mut at = Vec::with_capacity(keys.len());
        for key in keys {
            let Some(key) = key else {
                at.push(None);
                continue;
            };
            let i = kept.columns.iter().position(|c| c.key == *key)?;
            if self.property_settled(*key) != Some(kept.columns[i].changes) {
                return None;
            }
            at.push(Some(i));
        }
        kept.used
            .store(self.clock.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
        self.reads.fetch_add(1, Ordering::Relaxed);
        Some((kept, at))
    }

    /// Forgets `label`'s kept columns when they are still `kept`.
    fn drop_if_same(&self, label: LabelId, kept: &Arc<Kept>) {
        let mut map = self.kept.lock();
        if map.get(&label).is_some_and(|k| Arc::ptr_eq(k, kept)) {
            map.remove(&label);
        }
    }

    /// Scans answered from kept columns so far.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// What a scan of a label and `keys` sees settled before it reads, when all of it is.
    pub fn stamp(&self, label_count: &ChangeCount, keys: &[PropertyId]) -> Option<Stamp> {
        let epoch = self.epoch()?;
        let label_changes = label_count.settled()?;
        let props = keys
            .iter()
            .map(|k| Some((*k, self.property_settled(*k)?)))
            .collect::<Option<_>>()?;
        Some(Stamp {
            epoch,
            label_changes,
            props,
        })
    }

    /// Keeps what a scan read under `stamp` (the label's members and, per key, their
    /// values), when everything is still as the stamp saw it. Columns kept before for
    /// other keys of the same label stay while they are still valid.
    pub fn keep(
        &self,
        label: LabelId,
        label_count: &ChangeCount,
        stamp: Stamp,
        gids: Vec<Gid>,
        values: Vec<Vec<Option<Value>>>,
    ) {
        let unchanged = self.epoch() == Some(stamp.epoch)
            && label_count.settled() == Some(stamp.label_changes)
            && stamp.props.iter().all(|(k, c)| self.property_settled(*k) == Some(*c));
        if !unchanged {
            return;
        }
        debug_assert!(values.iter().all(|v| v.len() == gids.len()));
        let mut columns: Vec<Arc<Column>> = stamp
            .props
            .iter()
            .zip(values)
            .map(|((key, changes), values)| {
                let bytes = values_bytes(&values);
                Arc::new(Column {
                    key: *key,
                    changes: *changes,
                    values,
                    bytes,
                })
            })
            .collect();
        let mut kept = self.kept.lock();
        if let Some(old) = kept.get(&label) {
            if old.epoch == stamp.epoch && old.label_changes == stamp.label_changes {
                for column in &old.columns {
                    let fresh = self.property_settled(column.key) == Some(column.changes);
                    if fresh && !columns.iter().any(|c| c.key == column.key) {
                        columns.push(column.clone());
                    }
                }
            }
        }
        let bytes = gids.capacity() * size_of::<Gid>() + columns.iter().map(|c| c.bytes).sum::<usize>();
        if bytes > BUDGET {
            kept.remove(&label);
            return;
        }
        let entry = Kept {
            epoch: stamp.epoch,
            label_changes: stamp.label_changes,
            gids,
            columns,
            bytes,
            used: AtomicU64::new(self.clock.fetch_add(1, Ordering::Relaxed)),
        };
        kept.insert(label, Arc::new(entry));
        let mut total: usize = kept.values().map(|k| k.bytes).sum();
        while total > BUDGET {
            let Some(oldest) = kept
                .iter()
                .min_by_key(|(_, k)| k.used.load(Ordering::Relaxed))
                .map(|(l, _)| *l)
            else {
                break;
            };
            total -= kept.remove(&oldest).map_or(0, |k| k.bytes);
        }
    }

    /// Bytes the kept columns hold.
    pub fn heap_bytes(&self) -> usize {
        self.kept.lock().values().map(|k| k.bytes).sum()
    }
}

fn values_bytes(values: &Vec<Option<Value>>) -> usize {
    let heap: u64 = values.iter().flatten().map(crate::memory::value_heap_bytes).sum();
    values.capacity() * size_of::<Option<Value>>() + heap as usize
}
