//! Prefetching for bulk loads: the vertices a run of edges touches are scattered over
//! memory, and waiting for each slot and adjacency list in turn, one cache miss after
//! another, is what bounds a load's speed. A loader that knows its next operations asks
//! for their memory [`AHEAD`] operations early (the slots), then half as early (the
//! adjacency lists, whose addresses are in the slots).
//!
//! Owns: the look-ahead distance and the hints (a slot, an adjacency list's header and
//! next entry, a property string), given through [`ahead`] to the direct loader
//! (`direct.rs`) and the snapshot's edge loading, and through [`scan_ahead`] to label
//! scans that read properties (`read.rs`), which meet the same two misses per vertex:
//! its slot, then its property string.

use crate::delta::Adjacent;
use crate::table::SlotTable;
use crate::vertex::{VertexData, VertexSlot};
use thin_vec::ThinVec;

/// How many operations ahead a loader asks for a vertex slot.
const AHEAD: usize = 16;

/// Called before a loader's operation `i` of `ends` (each operation's `(from, to)`
/// vertices: an edge's ends, or one vertex twice): asks for the slots of the operation
/// [`AHEAD`] on, and for the adjacency lists (out of `from`, into `to`) of the one half as
/// far on.
pub(crate) fn ahead(vertices: &SlotTable<VertexSlot>, ends: &[(u64, u64)], i: usize) {
    if let Some((from, to)) = ends.get(i + AHEAD) {
        prefetch_slot(vertices, *from);
        prefetch_slot(vertices, *to);
    }
    if let Some((from, to)) = ends.get(i + AHEAD / 2) {
        prefetch_adjacency(vertices, *from, |v| &v.out_edges);
        prefetch_adjacency(vertices, *to, |v| &v.in_edges);
    }
}

/// Called before a scan reads vertex `i` of `gids`: asks for the slot [`AHEAD`] vertices
/// on, and for the property string of the one half as far on.
pub(crate) fn scan_ahead(vertices: &SlotTable<VertexSlot>, gids: &[weft_common::Gid], i: usize) {
    if let Some(gid) = gids.get(i + AHEAD) {
        prefetch_slot(vertices, gid.0);
    }
    let Some(v) = gids
        .get(i + AHEAD / 2)
        .and_then(|g| vertices.get(g.0))
        .and_then(|slot| slot.try_lock())
    else {
        return;
    };
    let bytes = v.props.bytes();
    // The length and capacity sit just before the bytes; most strings fit a line or two.
    prefetch(bytes.as_ptr().wrapping_sub(2 * std::mem::size_of::<usize>()));
    prefetch(bytes.as_ptr().wrapping_add(48));
}

/// Asks for the slot of vertex `gid`, if the table has one.
fn prefetch_slot(vertices: &SlotTable<VertexSlot>, gid: u64) {
    if let Some(slot) = vertices.get(gid) {
        let start = (slot as *const VertexSlot).cast::<u8>();
        prefetch(start);
        prefetch(start.wrapping_add(std::mem::size_of::<VertexSlot>() - 1));
    }
}

/// Asks for the header of one of a vertex's adjacency lists and the place its next entry
/// goes (the slot was asked for earlier, so its lock is at hand; a slot someone holds is
/// skipped).
fn prefetch_adjacency(vertices: &SlotTable<VertexSlot>, gid: u64, list: impl Fn(&VertexData) -> &ThinVec<Adjacent>) {
    let Some(v) = vertices.get(gid).and_then(|slot| slot.try_lock()) else {
        return;
    };
    let list = list(&v);
    let data = list.as_ptr().cast::<u8>();
    // The length and capacity sit just before the entries.
    prefetch(data.wrapping_sub(2 * std::mem::size_of::<usize>()));
    prefetch(data.wrapping_add(list.len() * std::mem::size_of::<Adjacent>()));
}

/// Asks the CPU to start loading the cache line at `at` (a hint: never a fault, whatever
/// the address).
#[inline]
fn prefetch(at: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` needs SSE, which is part of the x86_64 baseline every build
    // of this crate targets; a prefetch reads nothing the program sees and never faults,
    // whatever the address (the test below gives it null and dangling ones).
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(at.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

#[cfg(test)]
mod tests {
    use super::prefetch;

    #[test]
    fn a_prefetch_of_any_address_is_harmless() {
        let data = vec![7u8; 4096];
        prefetch(data.as_ptr());
        prefetch(data.as_ptr().wrapping_add(4095));
        prefetch(std::ptr::null());
        prefetch(data.as_ptr().wrapping_add(1 << 40));
        prefetch(usize::MAX as *const u8);
        assert!(data.iter().all(|b| *b == 7));
    }
}
