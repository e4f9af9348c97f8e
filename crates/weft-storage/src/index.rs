//! Secondary indexes: label+property (also used for composite uniqueness constraints),
//! and the declarations of label and edge-type indexes (every label's vertices and every
//! edge type's source vertices are kept anyway, in `members.rs`).
//!
//! Entries are versioned by omission: a write inserts an entry for the new state and never
//! removes one, so an index holds every state some transaction may still see. Readers
//! re-check each hit against the object's state as they see it, and the garbage
//! collector removes entries that match no state anyone can see any more.
//!
//! A tuple index keeps its entries twice: ordered in a B+ tree, for ranges, and by a hash
//! of their values, for equality lookups (a bulk load's `MATCH (a:Person {id: r.s})`
//! probes a hash instead of descending the tree). Both change together, entry by entry.
//! A hash shared by more than [`FEW`] entries (a common value) stops listing them and
//! sends its lookups to the tree, so no list grows long. The hash is keyed afresh for
//! each index (values from clients cannot be chosen to collide), so the hash map takes
//! it as its own hash instead of hashing it again, and a hash listing one vertex holds
//! it inline: a lookup of a unique key touches the map's bucket and nothing else.
//! The set of indexes is an immutable [`Schema`] swapped whole by DDL; writers read it
//! while holding the object's lock, which is what makes building an index while writes
//! go on consistent (see the module docs of `ddl.rs`).

use crate::vertex::VertexData;
use scc::{Guard, HashMap as ConcurrentMap, TreeIndex};
use std::collections::hash_map::RandomState;
use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, Hash, Hasher};
use std::ops::Bound;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use thin_vec::ThinVec;
use weft_common::value::OrderedValue;
use weft_common::{EdgeTypeId, Gid, LabelId, PropertyId, Value};

/// Key of a tuple index: the property values in the index's property order, then the
/// vertex id so equal values from different vertices are distinct entries.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TupleKey {
    pub values: Box<[OrderedValue]>,
    pub gid: Gid,
}

/// Vertices with a label, keyed by the values of one or more properties (all present).
pub struct TupleIndex {
    pub label: LabelId,
    pub props: Vec<PropertyId>,
    pub entries: TreeIndex<TupleKey, ()>,
    /// The same entries' vertices by the hash of their values ([`TupleIndex::hash`]).
    by_hash: ConcurrentMap<u64, Listed, TakeAsIs>,
    /// This index's keys for that hash.
    hash_keys: (u64, u64),
    pub len: AtomicI64,
}

/// The vertices listed under one hash of values.
enum Listed {
    /// One vertex (a unique key's usual case), inline.
    One(Gid),
    /// Two up to [`FEW`] vertices.
    Several(ThinVec<Gid>),
    /// More than [`FEW`] entries shared the hash at some point: lookups go to the tree.
    Crowded,
}

/// Hashes a `u64` key to itself: the keys of `by_hash` are already keyed hashes.
#[derive(Clone, Copy, Default)]
struct TakeAsIs;

impl BuildHasher for TakeAsIs {
    type Hasher = AsIs;
    fn build_hasher(&self) -> AsIs {
        AsIs(0)
    }
}

struct AsIs(u64);

impl Hasher for AsIs {
    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed here; any other input is folded in all the same.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Entries a hash lists before its lookups go to the tree instead.
pub const FEW: usize = 16;

impl TupleIndex {
    pub fn new(label: LabelId, props: Vec<PropertyId>) -> Self {
        let random = RandomState::new();
        TupleIndex {
            label,
            props,
            entries: TreeIndex::new(),
            by_hash: ConcurrentMap::with_hasher(TakeAsIs),
            hash_keys: (random.hash_one(0u8), random.hash_one(1u8)),
            len: AtomicI64::new(0),
        }
    }

    /// The key for a vertex state, or `None` when a property is missing.
    pub fn key_of(&self, gid: Gid, get: impl Fn(PropertyId) -> Option<Value>) -> Option<TupleKey> {
        let values: Option<Vec<OrderedValue>> = self.props.iter().map(|p| get(*p).map(OrderedValue)).collect();
        Some(TupleKey {
            values: values?.into_boxed_slice(),
            gid,
        })
    }

    /// The hash of a value tuple under this index's keys, equal for equivalent tuples
    /// (`1` and `1.0` alike).
    fn hash(&self, values: &[OrderedValue]) -> u64 {
        let mut hasher = siphasher::sip::SipHasher13::new_with_keys(self.hash_keys.0, self.hash_keys.1);
        values.hash(&mut hasher);
        hasher.finish()
    }

    pub fn insert(&self, key: TupleKey) {
        let (hash, gid) = (self.hash(&key.values), key.gid);
        if self.entries.insert_sync(key, ()).is_ok() {
            let mut listed = self.by_hash.entry_sync(hash).or_insert(Listed::Several(ThinVec::new()));
            let listed = listed.get_mut();
            *listed = match std::mem::replace(listed, Listed::Crowded) {
                Listed::Several(gids) if gids.is_empty() => Listed::One(gid),
                Listed::One(first) => Listed::Several(thin_vec::thin_vec![first, gid]),
                Listed::Several(mut gids) if gids.len() < FEW => {
                    gids.push(gid);
                    Listed::Several(gids)
                }
                Listed::Several(_) | Listed::Crowded => Listed::Crowded,
            };
            self.len.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Removes `key`; `true` when it was there.
    pub fn remove(&self, key: &TupleKey) -> bool {
        let removed = self.entries.remove_sync(key);
        if removed {
            // One of the vertex's ids under the hash goes: another tuple of the same
            // vertex may share the hash and keep the other.
            self.by_hash
                .remove_if_sync(&self.hash(&key.values), |listed| match listed {
                    Listed::One(gid) => *gid == key.gid,
                    Listed::Several(gids) => {
                        if let Some(at) = gids.iter().position(|g| *g == key.gid) {
                            gids.swap_remove(at);
                        }
                        gids.is_empty()
                    }
                    Listed::Crowded => false,
                });
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
        removed
    }

    /// Entries (value, gid) whose single-property value lies within the bounds (a
    /// one-property index), in key order.
    pub fn range(&self, lower: Bound<&Value>, upper: Bound<&Value>) -> Vec<(OrderedValue, Gid)> {
        let lo = match lower {
            Bound::Included(v) => Bound::Included(bound_key(v, Gid(0))),
            Bound::Excluded(v) => Bound::Excluded(bound_key(v, Gid(u64::MAX))),
            Bound::Unbounded => Bound::Unbounded,
        };
        let hi = match upper {
            Bound::Included(v) => Bound::Included(bound_key(v, Gid(u64::MAX))),
            Bound::Excluded(v) => Bound::Excluded(bound_key(v, Gid(0))),
            Bound::Unbounded => Bound::Unbounded,
        };
        if let (Bound::Included(l) | Bound::Excluded(l), Bound::Included(h) | Bound::Excluded(h)) = (&lo, &hi) {
            if l > h {
                return Vec::new();
            }
        }
        let guard = Guard::new();
        self.entries
            .range((lo, hi), &guard)
            .filter_map(|(k, _)| Some((k.values.first()?.clone(), k.gid)))
            .collect()
    }

    /// The vertices of the entries whose whole tuple equals `values`, in id order, and
    /// possibly some whose tuple only hashes alike: callers check each vertex's values,
    /// as they must anyway (an entry may be of a state they do not see).
    pub fn lookup(&self, values: &[OrderedValue]) -> Vec<Gid> {
        let listed = self.by_hash.read_sync(&self.hash(values), |_, listed| match listed {
            Listed::One(gid) => Some(vec![*gid]),
            Listed::Several(gids) => Some(gids.to_vec()),
            Listed::Crowded => None,
        });
        match listed {
            None => Vec::new(),
            Some(Some(mut gids)) => {
                gids.sort_unstable();
                gids.dedup();
                gids
            }
            Some(None) => self.tree_lookup(values),
        }
    }

    /// The entries whose whole tuple equals `values`, from the tree, in id order.
    fn tree_lookup(&self, values: &[OrderedValue]) -> Vec<Gid> {
        let key = |gid| TupleKey {
            values: values.to_vec().into_boxed_slice(),
            gid,
        };
        let guard = Guard::new();
        self.entries
            .range(key(Gid(0))..=key(Gid(u64::MAX)), &guard)
            .map(|(k, _)| k.gid)
            .collect()
    }

    /// Number of distinct value tuples among the entries (for the planner).
    pub fn distinct_values(&self) -> u64 {
        let guard = Guard::new();
        let mut count = 0;
        let mut last: Option<&[OrderedValue]> = None;
        for (k, _) in self.entries.iter(&guard) {
            if last != Some(&k.values[..]) {
                count += 1;
                last = Some(&k.values[..]);
            }
        }
        count
    }
}

fn bound_key(v: &Value, gid: Gid) -> TupleKey {
    TupleKey {
        values: vec![OrderedValue(v.clone())].into_boxed_slice(),
        gid,
    }
}

/// A uniqueness constraint and the tuple index that enforces it.
pub struct UniqueConstraint {
    pub index: TupleIndex,
}

/// The set of indexes and constraints in force; replaced whole by DDL.
#[derive(Default, Clone)]
pub struct Schema {
    /// Labels with a declared label index. Every label's members are kept whether or not
    /// one is declared (`members.rs`); the declaration is what `SHOW INDEX INFO` lists.
    pub label: BTreeSet<LabelId>,
    pub label_property: HashMap<(LabelId, PropertyId), Arc<TupleIndex>>,
    /// Edge types with a declared edge index. Every type's source vertices are kept
    /// whether or not one is declared (`members.rs`), as for labels.
    pub edge_type: BTreeSet<EdgeTypeId>,
    pub existence: Vec<(LabelId, PropertyId)>,
    pub unique: Vec<Arc<UniqueConstraint>>,
}

impl Schema {
    /// Every tuple index that covers vertices with `label` (indexes and uniqueness).
    pub fn tuple_indexes_for(&self, label: LabelId) -> impl Iterator<Item = &TupleIndex> {
        let plain = self.label_property.values().map(|i| i.as_ref());
        let unique = self.unique.iter().map(|u| &u.index);
        plain.chain(unique).filter(move |i| i.label == label)
    }

    /// Every tuple index, indexes and uniqueness constraints alike.
    pub fn all_tuple_indexes(&self) -> impl Iterator<Item = &TupleIndex> {
        let plain = self.label_property.values().map(|i| i.as_ref());
        plain.chain(self.unique.iter().map(|u| &u.index))
    }

    /// Inserts the tuple-index entries of a vertex that just gained `label` (its writer
    /// holds its lock).
    pub(crate) fn label_added(&self, gid: Gid, v: &VertexData, label: LabelId) {
        for index in self.tuple_indexes_for(label) {
            if let Some(key) = index.key_of(gid, |p| v.props.get(p)) {
                index.insert(key);
            }
        }
    }

    /// Inserts the entries of a vertex whose property `prop` was just set (its writer
    /// holds its lock).
    pub(crate) fn property_set(&self, gid: Gid, v: &VertexData, prop: PropertyId) {
        for label in v.label_vec().iter() {
            for index in self.tuple_indexes_for(*label).filter(|i| i.props.contains(&prop)) {
                if let Some(key) = index.key_of(gid, |p| v.props.get(p)) {
                    index.insert(key);
                }
            }
        }
    }
}
