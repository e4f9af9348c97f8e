//! A concurrent, append-mostly table of object slots indexed by dense 64-bit ids.
//!
//! Ids are handed out by an atomic counter (the table's own, or for edges the storage's
//! edge counter), so the table is an array: a fixed directory of lazily allocated chunks
//! of `CHUNK` slots. Lookup is two array reads and no hashing;
//! memory per object is the slot itself, with at most one partly used chunk of slack.
//! A slot is never moved or freed while the table lives, so references to slots are
//! stable; objects deleted by the garbage collector give back everything the slot owns
//! (labels, properties, adjacency, deltas) but not the slot.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

const CHUNK_BITS: u32 = 16;
const CHUNK: usize = 1 << CHUNK_BITS;
const DIRECTORY: usize = 1 << 16;

/// Largest number of slots a table can hold (2^32).
pub const MAX_SLOTS: u64 = (CHUNK * DIRECTORY) as u64;

/// The slot array. `T::default()` is the state of a never-used slot.
pub struct SlotTable<T> {
    chunks: Box<[OnceLock<Box<[T]>>]>,
    next: AtomicU64,
}

impl<T: Default> Default for SlotTable<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Default> SlotTable<T> {
    /// An empty table; only the directory is allocated.
    pub fn new() -> Self {
        let chunks = (0..DIRECTORY).map(|_| OnceLock::new()).collect();
        SlotTable {
            chunks,
            next: AtomicU64::new(0),
        }
    }

    /// Reserves the next id and returns it with its slot; `None` when the table is full.
    pub fn allocate(&self) -> Option<(u64, &T)> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        if id >= MAX_SLOTS {
            self.next.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        Some((id, self.slot_or_create(id)))
    }

    /// The slot of `id`, reserving ids up to it (used when replaying records that carry
    /// their ids). `None` when `id` is beyond the table's capacity.
    pub fn ensure(&self, id: u64) -> Option<&T> {
        if id >= MAX_SLOTS {
            return None;
        }
        self.next.fetch_max(id + 1, Ordering::Relaxed);
        Some(self.slot_or_create(id))
    }

    /// The slot of an already allocated `id`.
    pub fn get(&self, id: u64) -> Option<&T> {
        if id >= self.next.load(Ordering::Acquire) {
            return None;
        }
        let chunk = self.chunks.get((id >> CHUNK_BITS) as usize)?.get()?;
        chunk.get(id as usize & (CHUNK - 1))
    }

    /// Slots allocated so far (whole chunks, used or not).
    pub fn allocated_slots(&self) -> u64 {
        let chunks = self.high_water().min(MAX_SLOTS).div_ceil(CHUNK as u64) as usize;
        let allocated = self.chunks.iter().take(chunks).filter(|c| c.get().is_some()).count();
        allocated as u64 * CHUNK as u64
    }

    /// One past the largest id handed out so far.
    pub fn high_water(&self) -> u64 {
        self.next.load(Ordering::Acquire)
    }

    fn slot_or_create(&self, id: u64) -> &T {
        let chunk = self.chunks[(id >> CHUNK_BITS) as usize].get_or_init(|| (0..CHUNK).map(|_| T::default()).collect());
        &chunk[id as usize & (CHUNK - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    #[test]
    fn allocates_dense_ids_across_chunks() {
        // Set up + act: more ids than one chunk holds.
        let table: SlotTable<AtomicU32> = SlotTable::new();
        for expect in 0..(CHUNK as u64 + 10) {
            let (id, slot) = table.allocate().unwrap();
            assert_eq!(id, expect);
            slot.store(id as u32, Ordering::Relaxed);
        }

        // Check: every slot keeps what was written, and unallocated ids are absent.
        assert_eq!(
            table.get(CHUNK as u64 + 3).unwrap().load(Ordering::Relaxed),
            CHUNK as u32 + 3
        );
        assert!(table.get(CHUNK as u64 + 10).is_none());
        assert!(table.ensure(MAX_SLOTS).is_none());
        assert!(table.ensure(5 * CHUNK as u64).is_some());
        assert_eq!(table.high_water(), 5 * CHUNK as u64 + 1);
    }

    #[test]
    fn concurrent_allocation_hands_out_unique_ids() {
        let table: SlotTable<AtomicU32> = SlotTable::new();
        let ids: Vec<Vec<u64>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| (0..20_000).map(|_| table.allocate().unwrap().0).collect()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut all: Vec<u64> = ids.into_iter().flatten().collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 80_000);
    }
}
