//! A fingerprint of a whole graph, for telling whether two storages that should hold the
//! same graph (the members of a Raft cluster at the same log index) do.
//!
//! Owns: the digest. Each object is hashed from a canonical, name-based encoding (a
//! vertex: its id, its label names sorted, its properties sorted by name; an edge: its id,
//! endpoints, type name and properties), with SipHash-1-3 under fixed keys (128-bit
//! output, stable across processes, platforms and versions); the graph's digest is the
//! wrapping sum of the objects' hashes. The sum does not depend on the order objects are
//! visited in, nor on the ids a storage interned its names under, so two storages built
//! by different histories of the same commits agree, and one object that differs in any
//! label, property or endpoint changes it.
//!
//! Two ways to it: a scan of everything one transaction sees
//! ([`Transaction::fingerprint`]), and the running digest a storage keeps once asked to
//! ([`running`]): a scan once, then each commit's change (its objects' hashes after the
//! commit less their hashes before it), so that the digest at any later commit costs
//! nothing to read.

pub(crate) mod running;

use std::fmt;
use std::hash::Hasher;

use siphasher::sip128::{Hasher128, SipHasher13};
use weft_common::encoding::{encode_value, put_str, put_varint};
use weft_common::{EdgeRef, Gid, LabelId, PropertyId, Value};

use crate::storage::Inner;
use crate::txn::Transaction;
use crate::vertex::Direction;

/// Fixed SipHash keys: a fingerprint must mean the same on every member.
const KEYS: (u64, u64) = (0x5765_6674_4650_7631, 0x6772_6170_6864_6967);

/// The digest of a graph and how many objects went into it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fingerprint {
    pub digest: u128,
    pub vertices: u64,
    pub edges: u64,
}

impl fmt::Display for Fingerprint {
    /// The digest's first 64 bits in hex: enough to tell two graphs apart at a glance.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", (self.digest >> 64) as u64)
    }
}

/// The hash of one object's canonical encoding.
fn object_hash(bytes: &[u8]) -> u128 {
    let mut hasher = SipHasher13::new_with_keys(KEYS.0, KEYS.1);
    hasher.write(bytes);
    hasher.finish128().as_u128()
}

/// The hash of a vertex with these labels and properties; `bytes` is scratch space.
pub(crate) fn vertex_hash(
    inner: &Inner,
    bytes: &mut Vec<u8>,
    gid: Gid,
    labels: Vec<LabelId>,
    props: Vec<(PropertyId, Value)>,
) -> u128 {
    let mut labels: Vec<String> = labels.into_iter().map(|l| inner.labels.name(l.0)).collect();
    labels.sort_unstable();
    bytes.clear();
    bytes.push(b'V');
    put_varint(bytes, gid.0);
    put_varint(bytes, labels.len() as u64);
    for label in &labels {
        put_str(bytes, label);
    }
    put_props(inner, bytes, props);
    object_hash(bytes)
}

/// The hash of an edge with these properties; `bytes` is scratch space.
pub(crate) fn edge_hash(inner: &Inner, bytes: &mut Vec<u8>, edge: &EdgeRef, props: Vec<(PropertyId, Value)>) -> u128 {
    bytes.clear();
    bytes.push(b'E');
    put_varint(bytes, edge.gid.0);
    put_varint(bytes, edge.from.0);
    put_varint(bytes, edge.to.0);
    put_str(bytes, &inner.edge_types.name(edge.edge_type.0));
    put_props(inner, bytes, props);
    object_hash(bytes)
}

/// Properties by name, sorted by name.
fn put_props(inner: &Inner, bytes: &mut Vec<u8>, props: Vec<(PropertyId, Value)>) {
    let mut named: Vec<(String, Value)> = props
        .into_iter()
        .map(|(key, value)| (inner.properties.name(key.0), value))
        .collect();
    named.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    put_varint(bytes, named.len() as u64);
    for (name, value) in &named {
        put_str(bytes, name);
        encode_value(bytes, value);
    }
}

impl Transaction {
    /// The fingerprint of the graph this transaction sees (reads every object once).
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint_unless(&|| false).unwrap_or_default()
    }

    /// As [`Transaction::fingerprint`], giving up (`None`) as soon as `stop` says so; it
    /// is asked every few thousand vertices, so that a long scan ends soon after.
    pub fn fingerprint_unless(&self, stop: &dyn Fn() -> bool) -> Option<Fingerprint> {
        let mut out = Fingerprint::default();
        let mut bytes = Vec::with_capacity(256);
        let inner = &self.inner;
        for (n, gid) in self.vertices().enumerate() {
            if n % 4096 == 0 && stop() {
                return None;
            }
            let (labels, props) = (self.labels(gid).unwrap_or_default(), self.vertex_properties(gid));
            let hash = vertex_hash(inner, &mut bytes, gid, labels, props.unwrap_or_default());
            out.digest = out.digest.wrapping_add(hash);
            out.vertices += 1;
            for edge in self.edges(gid, Direction::Out, &[]).unwrap_or_default() {
                let props = self.edge_properties(&edge).unwrap_or_default();
                out.digest = out.digest.wrapping_add(edge_hash(inner, &mut bytes, &edge, props));
                out.edges += 1;
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::{IsolationLevel, Storage};
    use weft_common::Value;

    fn fingerprint(storage: &Storage) -> super::Fingerprint {
        storage.begin(IsolationLevel::SnapshotIsolation).fingerprint()
    }

    /// Builds a small graph; `swapped` interns the names in the other order and sets the
    /// properties the other way round, which must not change the fingerprint.
    fn build(swapped: bool) -> Storage {
        let storage = Storage::new();
        if swapped {
            storage.property("since");
            storage.property("name");
            storage.label("Admin");
        }
        let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
        let a = txn.create_vertex().unwrap();
        let b = txn.create_vertex().unwrap();
        let (person, admin) = (storage.label("Person"), storage.label("Admin"));
        let (name, since) = (storage.property("name"), storage.property("since"));
        let labels = if swapped { [admin, person] } else { [person, admin] };
        for label in labels {
            txn.add_label(a, label).unwrap();
        }
        txn.set_vertex_property(b, name, Value::String("b".into())).unwrap();
        txn.set_vertex_property(a, name, Value::String("a".into())).unwrap();
        let knows = storage.edge_type("KNOWS");
        let edge = txn.create_edge(a, b, knows).unwrap();
        txn.set_edge_property(&edge, since, Value::Int(2020)).unwrap();
        txn.commit().unwrap();
        storage
    }

    #[test]
    fn the_same_graph_has_the_same_fingerprint_however_it_was_built() {
        let (one, other) = (fingerprint(&build(false)), fingerprint(&build(true)));
        assert_eq!(one, other);
        assert_eq!((one.vertices, one.edges), (2, 1));
        assert_ne!(one.digest, 0);
    }

    #[test]
    fn any_difference_in_a_label_a_property_or_an_edge_changes_it() {
        let base = fingerprint(&build(false));
        type Change = dyn Fn(&Storage, &mut crate::Transaction);
        let changes: [&Change; 4] = [
            &|s, t| {
                t.set_vertex_property(weft_common::Gid(1), s.property("name"), Value::Int(1))
                    .map(drop)
                    .unwrap()
            },
            &|s, t| t.remove_label(weft_common::Gid(0), s.label("Admin")).map(drop).unwrap(),
            &|s, t| t.add_label(weft_common::Gid(1), s.label("Person")).map(drop).unwrap(),
            &|s, t| {
                t.create_edge(weft_common::Gid(1), weft_common::Gid(0), s.edge_type("KNOWS"))
                    .map(drop)
                    .unwrap()
            },
        ];
        for (n, change) in changes.iter().enumerate() {
            let storage = build(false);
            let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
            change(&storage, &mut txn);
            txn.commit().unwrap();
            assert_ne!(fingerprint(&storage), base, "change {n} went unseen");
        }
    }

    #[test]
    fn a_scan_told_to_stop_gives_up() {
        let storage = build(false);
        let txn = storage.begin(IsolationLevel::SnapshotIsolation);
        assert_eq!(txn.fingerprint_unless(&|| true), None);
        assert_eq!(txn.fingerprint_unless(&|| false), Some(txn.fingerprint()));
    }

    #[test]
    fn a_transaction_sees_the_fingerprint_of_its_own_snapshot() {
        let storage = build(false);
        let before = storage.begin(IsolationLevel::SnapshotIsolation);
        let expected = before.fingerprint();
        let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
        let v = txn.create_vertex().unwrap();
        txn.add_label(v, storage.label("Late")).unwrap();
        txn.commit().unwrap();
        assert_eq!(before.fingerprint(), expected);
        assert_ne!(fingerprint(&storage), expected);
    }
}
