//! Loading the object frames of a version 2 snapshot: each vertex arrives with both its
//! adjacency lists, so a frame builds its vertices whole, each list allocated once for
//! what the item holds, touching no other vertex. Graph frames load on several threads
//! at once in any order; then edge property frames fill the edge table; then the rest of
//! any list too long to write inline, from adjacency frames, is appended.
//!
//! Nothing ties a vertex's lists to the other ends' lists but the file itself, so the load
//! keeps a tally: every out-entry `(from, to, edge, type)` must match an in-entry stored
//! with the other end, and every edge marked as having properties must have them in an
//! edge property frame, and no other. Both are checked as sums of a 64-bit mix over the
//! whole file (and counts), which also proves every edge's far end is a vertex of the file.

use super::codec;
use super::load::{Ctx, FrameLabels};
use crate::delta::Adjacent;
use crate::durability::error::DurabilityError;
use crate::vertex::{EdgeData, Life};
use std::sync::atomic::{AtomicU64, Ordering};
use thin_vec::ThinVec;
use weft_common::encoding::get_varint;
use weft_common::{EdgeTypeId, Gid};

/// What the loaded frames promised each other, summed over the whole file.
#[derive(Default)]
pub(super) struct Tally {
    out: Sums,
    into: Sums,
    marked: Sums,
    with_props: Sums,
}

#[derive(Default)]
struct Sums {
    count: AtomicU64,
    mix: AtomicU64,
}

/// One frame's share of a [`Sums`], added once at the frame's end.
#[derive(Default, Clone, Copy)]
struct Local {
    count: u64,
    mix: u64,
}

impl Local {
    fn add(&mut self, mix: u64) {
        self.count += 1;
        self.mix = self.mix.wrapping_add(mix);
    }

    fn add_to(self, sums: &Sums) {
        sums.count.fetch_add(self.count, Ordering::Relaxed);
        sums.mix.fetch_add(self.mix, Ordering::Relaxed);
    }
}

impl Sums {
    fn get(&self) -> (u64, u64) {
        (self.count.load(Ordering::Relaxed), self.mix.load(Ordering::Relaxed))
    }
}

impl Tally {
    /// The number of edges, once every frame agrees with every other.
    pub(super) fn edges(&self) -> Result<u64, &'static str> {
        if self.out.get() != self.into.get() {
            return Err("adjacency lists of the snapshot do not match each other");
        }
        if self.marked.get() != self.with_props.get() {
            return Err("edge properties of the snapshot do not match its edges");
        }
        Ok(self.out.get().0)
    }
}

/// A 64-bit mix of one edge as both its ends see it (splitmix64's finalizer over the
/// fields, each folded in by its own odd constant).
fn edge_mix(from: u64, to: u64, edge: u64, edge_type: u32) -> u64 {
    let mut h = edge.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for (part, k) in [
        (from, 0xC2B2_AE3D_27D4_EB4F),
        (to, 0x1656_67B1_9E37_79F9),
        (u64::from(edge_type), 0x27D4_EB2F_1656_67C5),
    ] {
        h = finish(h ^ part.wrapping_mul(k));
    }
    h
}

fn finish(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The direction byte of an adjacency frame's item.
const OUT: u64 = 0;
const IN: u64 = 1;

impl Ctx<'_> {
    /// Builds the vertices of one graph frame with their lists; returns how many, and
    /// tells `report` how many objects that came to (vertices and outgoing edges).
    pub(super) fn load_graph(
        &self,
        at: u64,
        payload: &[u8],
        tally: &Tally,
        report: &dyn Fn(u64),
    ) -> Result<u64, DurabilityError> {
        let bad = |what| self.bad(at, what);
        let pos = &mut 1;
        let n = varint(payload, pos).ok_or_else(|| bad("malformed graph frame"))?;
        let mut share = Share::default();
        let (mut frame, mut sources) = (FrameLabels::default(), Vec::new());
        let mut labels = Vec::new();
        for _ in 0..n {
            let gid = varint(payload, pos).ok_or_else(|| bad("malformed graph frame"))?;
            labels.clear();
            for _ in 0..varint(payload, pos).ok_or_else(|| bad("malformed graph frame"))? {
                let label = varint(payload, pos).ok_or_else(|| bad("malformed graph frame"))?;
                labels.push(self.label(at, label)?);
            }
            let props = codec::get_props(payload, pos).ok_or_else(|| bad("malformed graph frame"))?;
            let props = self.props(at, props)?;
            let mut lists = [ThinVec::new(), ThinVec::new()];
            for (dir, list) in lists.iter_mut().enumerate() {
                let inline = varint(payload, pos).ok_or_else(|| bad("malformed graph frame"))?;
                // An entry takes at least three bytes.
                list.reserve(inline.min((payload.len() - *pos) as u64 / 3) as usize);
                self.entries(at, payload, pos, (gid, dir as u64, inline), &mut share, |a| {
                    list.push(a)
                })?;
            }
            let [out_edges, in_edges] = lists;
            sources.extend(types_of(&out_edges).map(|t| (t, Gid(gid))));
            let mut v = self.create_vertex(at, gid, props, &labels, &mut frame)?;
            v.out_edges = out_edges;
            v.in_edges = in_edges;
        }
        if *pos != payload.len() {
            return Err(bad("malformed graph frame"));
        }
        self.inner.vertex_count.fetch_add(n as i64, Ordering::Relaxed);
        // Loaded before anyone reads: every snapshot taken later sees them.
        self.inner.sources.insert_many(sources);
        frame.publish(self.inner);
        report(n + share.out.count);
        share.add_to(tally);
        Ok(n)
    }

    /// Fills the edge table from one edge property frame; returns how many edges.
    pub(super) fn load_edge_props(&self, at: u64, payload: &[u8], tally: &Tally) -> Result<u64, DurabilityError> {
        let bad = |what| self.bad(at, what);
        let pos = &mut 1;
        let n = varint(payload, pos).ok_or_else(|| bad("malformed edge property frame"))?;
        let mut with_props = Local::default();
        for _ in 0..n {
            let gid = varint(payload, pos).ok_or_else(|| bad("malformed edge property frame"))?;
            let props = codec::get_props(payload, pos).ok_or_else(|| bad("malformed edge property frame"))?;
            if gid >= self.next_edge {
                return Err(bad("edge id above the edge counter"));
            }
            if props.is_empty() {
                return Err(bad("edge property item without properties"));
            }
            let props = self.props(at, props)?;
            let slot = self
                .inner
                .edges
                .ensure(gid)
                .ok_or_else(|| bad("edge id out of range"))?;
            let mut stored = slot.lock();
            if !stored.is_vacant() {
                return Err(bad("edge id appears twice"));
            }
            *stored = EdgeData {
                deleted: false,
                props,
                delta: None,
            };
            with_props.add(finish(gid));
        }
        if *pos != payload.len() {
            return Err(bad("malformed edge property frame"));
        }
        with_props.add_to(&tally.with_props);
        Ok(n)
    }

    /// Appends one adjacency frame's entries to lists of loaded vertices (after every
    /// graph frame); returns how many, and tells `report` how many were outgoing (edges).
    pub(super) fn load_adjacency(
        &self,
        at: u64,
        payload: &[u8],
        tally: &Tally,
        report: &dyn Fn(u64),
    ) -> Result<u64, DurabilityError> {
        let bad = |what| self.bad(at, what);
        let pos = &mut 1;
        let n = varint(payload, pos).ok_or_else(|| bad("malformed adjacency frame"))?;
        let mut share = Share::default();
        let mut entries = 0;
        let mut part = Vec::new();
        for _ in 0..n {
            let [gid, dir, count] = [(); 3].map(|_| varint(payload, pos));
            let (Some(gid), Some(dir @ (OUT | IN)), Some(count)) = (gid, dir, count) else {
                return Err(bad("malformed adjacency frame"));
            };
            part.clear();
            self.entries(at, payload, pos, (gid, dir, count), &mut share, |a| part.push(a))?;
            let types: Vec<EdgeTypeId> = if dir == OUT {
                types_of(&part).collect()
            } else {
                Vec::new()
            };
            let slot = self
                .inner
                .vertices
                .get(gid)
                .ok_or_else(|| bad("adjacency of a vertex not in the snapshot"))?;
            let mut v = slot.lock();
            if v.life != Life::Live {
                return Err(bad("adjacency of a vertex not in the snapshot"));
            }
            let list = if dir == OUT { &mut v.out_edges } else { &mut v.in_edges };
            list.extend(part.drain(..));
            drop(v);
            self.inner
                .sources
                .insert_many(types.into_iter().map(|t| (t, Gid(gid))).collect());
            entries += count;
        }
        if *pos != payload.len() {
            return Err(bad("malformed adjacency frame"));
        }
        report(share.out.count);
        share.add_to(tally);
        Ok(entries)
    }

    /// Reads `count` entries of the list of vertex `gid` in direction `dir`, each
    /// tallied into `share` and handed to `push`.
    fn entries(
        &self,
        at: u64,
        payload: &[u8],
        pos: &mut usize,
        (gid, dir, count): (u64, u64, u64),
        share: &mut Share,
        mut push: impl FnMut(Adjacent),
    ) -> Result<(), DurabilityError> {
        for _ in 0..count {
            let (adjacent, has_props) = self.entry(at, payload, pos)?;
            let (from, to) = ends(dir, gid, adjacent.other().0);
            let mix = edge_mix(from, to, adjacent.edge().0, adjacent.edge_type().0);
            if dir == OUT {
                share.out.add(mix);
                if has_props {
                    share.marked.add(finish(adjacent.edge().0));
                }
            } else {
                share.into.add(mix);
            }
            push(adjacent);
        }
        Ok(())
    }

    /// One adjacency entry: type, other end, and edge id with its properties bit.
    fn entry(&self, at: u64, payload: &[u8], pos: &mut usize) -> Result<(Adjacent, bool), DurabilityError> {
        let bad = |what| self.bad(at, what);
        let [edge_type, other, edge] = [(); 3].map(|_| varint(payload, pos));
        let (Some(edge_type), Some(other), Some(edge)) = (edge_type, other, edge) else {
            return Err(bad("malformed adjacency entry"));
        };
        let edge_type = usize::try_from(edge_type)
            .ok()
            .and_then(|t| self.names.edge_types.get(t))
            .ok_or_else(|| bad("edge type id without a name"))?;
        if other >= self.high_water {
            return Err(bad("edge endpoint above the vertex counter"));
        }
        let (id, has_props) = (edge >> 1, edge & 1 == 1);
        if id >= self.next_edge {
            return Err(bad("edge id above the edge counter"));
        }
        Ok((Adjacent::new(EdgeTypeId(*edge_type), Gid(other), Gid(id)), has_props))
    }
}

/// The edge types of `list`, each once.
fn types_of(list: &[Adjacent]) -> impl Iterator<Item = EdgeTypeId> {
    let mut types: Vec<EdgeTypeId> = list.iter().map(Adjacent::edge_type).collect();
    types.sort_unstable();
    types.dedup();
    types.into_iter()
}

/// One frame's adjacency entries, tallied, added to the file's [`Tally`] at its end.
#[derive(Default)]
struct Share {
    out: Local,
    into: Local,
    marked: Local,
}

impl Share {
    fn add_to(self, tally: &Tally) {
        self.out.add_to(&tally.out);
        self.into.add_to(&tally.into);
        self.marked.add_to(&tally.marked);
    }
}

/// An entry's edge ends, from the list's direction, its vertex and the other end.
fn ends(dir: u64, gid: u64, other: u64) -> (u64, u64) {
    if dir == OUT {
        (gid, other)
    } else {
        (other, gid)
    }
}

fn varint(payload: &[u8], pos: &mut usize) -> Option<u64> {
    get_varint(payload, pos).ok()
}

#[cfg(test)]
mod tests {
    use super::super::{load_snapshot, write_snapshot};
    use crate::durability::frame::{FrameRead, FrameReader};
    use crate::{IsolationLevel, Storage};
    use weft_common::Value;

    #[test]
    fn lists_longer_than_an_item_holds_continue_in_adjacency_frames() {
        // Set up: a hub with 3 × LIST_CAP out-edges and 2 × LIST_CAP in-edges (every
        // third with a property, some loops), and vertices around it.
        let cap = super::codec::LIST_CAP;
        let storage = Storage::new();
        let (t, u, w) = (storage.edge_type("T"), storage.edge_type("U"), storage.property("w"));
        let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
        let hub = txn.create_vertex().unwrap();
        let others: Vec<_> = (0..cap).map(|_| txn.create_vertex().unwrap()).collect();
        for i in 0..3 * cap {
            let to = if i % 50 == 0 { hub } else { others[i % cap] };
            let e = txn.create_edge(hub, to, if i % 2 == 0 { t } else { u }).unwrap();
            if i % 3 == 0 {
                txn.set_edge_property(&e, w, Value::Int(i as i64)).unwrap();
            }
        }
        for i in 0..2 * cap {
            txn.create_edge(others[(i * 7) % cap], hub, u).unwrap();
        }
        txn.commit().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let db = uuid::Uuid::new_v4();

        // Act: write and load.
        let info = write_snapshot(&storage, dir.path(), db, 0).unwrap();
        let (loaded, loaded_info) = load_snapshot(&info.path, db).unwrap();

        // Check: the lists went partly into adjacency frames, and the graph came back
        // whole, with the hub's sources for both types.
        let bytes = std::fs::read(&info.path).unwrap();
        let mut reader = FrameReader::new(&bytes, 64);
        let mut kinds = Vec::new();
        while let FrameRead::Frame { payload, .. } = reader.next_frame() {
            kinds.push(payload[0]);
        }
        assert!(kinds.contains(&super::codec::kind::ADJACENCY), "{kinds:?}");
        assert_eq!(loaded.dump(), storage.dump());
        assert_eq!(loaded_info.edges as usize, 5 * cap);
        let read = loaded.begin(IsolationLevel::SnapshotIsolation);
        for ty in ["T", "U"] {
            let edges = read.edges_with_type(loaded.edge_type(ty));
            assert!(edges.iter().any(|e| e.from == hub), "{ty}");
        }
    }
}
