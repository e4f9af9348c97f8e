//! Membership sets kept for every label and every edge type without being asked for:
//! for a label, the vertices having it; for an edge type, the vertices with an outgoing
//! edge of it ("sources"). Each set holds every vertex that qualifies in some version a
//! transaction may still see (and possibly some that no longer do).
//!
//! Owns: the sets label scans and edge-type scans read instead of visiting every vertex. A set is a bitset
//! over vertex ids, cut into blocks of [`BLOCK_BITS`] ids allocated the first time a
//! member falls in them, so a label costs one bit per id in the ranges it occupies
//! (12.5 KiB for 100k vertices) and a few KiB of tree above them ([`MemberSet`]).
//!
//! Promises: a vertex is in a set before any transaction can see it with the label (or
//! the out-edge) — the bit is set by the writer that adds it, while it holds the vertex's
//! lock (the snapshot loader, which nobody reads while it runs, sets a frame's bits after
//! the frame). A bit may outlive what put it there (removed, aborted, deleted): readers re-check
//! every member against the state they see, and a bit is cleared only under the vertex's
//! lock, once no version left qualifies ([`Members::settle`], called by the garbage
//! collector, by an abort, and by direct loading).
//!
//! Exact answers: a label's set also counts the transactions that changed who has the
//! label and are not settled yet (not aborted, or committed and not yet collected by the
//! garbage collector, which settles the bits of what they changed). While that count is
//! zero, every bit says exactly whether every reader sees the label, so
//! [`LabelProbe::settled_contains`] answers from the bit without visiting the vertex. A
//! writer counts itself in ([`Members::begin_change`]) before it sets a bit or changes a
//! label's visibility, and out ([`Members::end_change`]) once settled; a reader checks the
//! count before and a change counter around its read of the bit, so a writer that starts
//! meanwhile sends it to the vertex. Loaders, which run before anyone reads, do not count.

use crate::settle::ChangeCount;
use parking_lot::RwLock;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use weft_common::{EdgeTypeId, Gid, LabelId};

/// Ids per block of a set (512 bytes of bits).
pub const BLOCK_BITS: u64 = 4096;
const WORDS: usize = (BLOCK_BITS / 64) as usize;
/// Blocks per leaf, and leaves per middle level, of a set's directory tree.
const FAN: usize = 128;
/// Middle levels per set: enough for every id a vertex table can hand out.
const TOP: usize = (crate::table::MAX_SLOTS / BLOCK_BITS) as usize / (FAN * FAN);

type Block = [AtomicU64; WORDS];
type Leaf = Box<[OnceLock<Box<Block>>]>;
type Mid = Box<[OnceLock<Leaf>]>;

/// `n` empty slots, each filled the first time it is needed.
fn lazy<T>(n: usize) -> Box<[OnceLock<T>]> {
    (0..n).map(|_| OnceLock::new()).collect()
}

/// The members of one label or edge type: a three-level tree of blocks, each node made
/// the first time a member falls under it and kept for the set's life, so reads take no
/// lock. A set costs 1.5 KiB, plus 3 KiB per 64M ids and 2 KiB per 512k ids it has a
/// member in, plus its blocks.
pub struct MemberSet {
    top: Box<[OnceLock<Mid>]>,
    /// Transactions that changed who is in the set, counted in by
    /// [`Members::begin_change`].
    count: ChangeCount,
}

impl Default for MemberSet {
    fn default() -> Self {
        MemberSet {
            top: lazy(TOP),
            count: ChangeCount::default(),
        }
    }
}

impl MemberSet {
    /// The block holding `gid`'s bit, with the word and bit in it, if it exists.
    fn block(&self, gid: Gid) -> Option<(&Block, usize, u64)> {
        let p = place(gid);
        let block = self.top.get(p.top)?.get()?[p.mid].get()?[p.leaf].get()?;
        Some((block, p.word, p.bit))
    }

    /// As [`MemberSet::block`], making the nodes and block when missing (`None` only for
    /// an id beyond any vertex table).
    fn block_or_new(&self, gid: Gid) -> Option<(&Block, usize, u64)> {
        let p = place(gid);
        let mid = self.top.get(p.top)?.get_or_init(|| lazy(FAN));
        let leaf = mid[p.mid].get_or_init(|| lazy(FAN));
        let block = leaf[p.leaf].get_or_init(|| Box::new(std::array::from_fn(|_| AtomicU64::new(0))));
        Some((block, p.word, p.bit))
    }

    fn insert(&self, gid: Gid) {
        debug_assert!(gid.0 < crate::table::MAX_SLOTS, "vertex id {gid} beyond any table");
        if let Some((block, word, bit)) = self.block_or_new(gid) {
            // Read first, so a bit already set costs no write to a line others read. A
            // release: a reader that sees the bit sees the writer's count before it.
            if block[word].load(Ordering::Relaxed) & bit == 0 {
                block[word].fetch_or(bit, Ordering::Release);
            }
        }
    }

    fn remove(&self, gid: Gid) {
        if let Some((block, word, bit)) = self.block(gid) {
            block[word].fetch_and(!bit, Ordering::Relaxed);
        }
    }

    fn contains(&self, gid: Gid) -> bool {
        self.block(gid)
            .is_some_and(|(block, word, bit)| block[word].load(Ordering::Relaxed) & bit != 0)
    }

    /// `gid`'s bit when no transaction that changed the set is unsettled, from before the
    /// read to after it; `None` otherwise. Orderings: a bit set or cleared before the
    /// count went back to zero is seen (the writer's or collector's release, this
    /// acquire); a bit set by a writer counted in after the first load changes the
    /// counter before the bit (its store is a release), so the second load sees the
    /// difference.
    fn settled_contains(&self, gid: Gid) -> Option<bool> {
        let changes = self.count.settled()?;
        let member = self
            .block(gid)
            .is_some_and(|(block, word, bit)| block[word].load(Ordering::Acquire) & bit != 0);
        (self.count.changes() == changes).then_some(member)
    }

    /// Who changes the set ([`crate::settle`]).
    pub fn change_count(&self) -> &ChangeCount {
        &self.count
    }

    /// The blocks that exist, in id order, with the first id each covers.
    fn blocks(&self) -> impl Iterator<Item = (u64, &Block)> {
        let first = |t: usize, m: usize, l: usize| ((t * FAN + m) * FAN + l) as u64 * BLOCK_BITS;
        self.top
            .iter()
            .enumerate()
            .filter_map(|(t, mid)| Some((t, mid.get()?)))
            .flat_map(move |(t, mid)| {
                mid.iter()
                    .enumerate()
                    .filter_map(|(m, leaf)| Some((m, leaf.get()?)))
                    .flat_map(move |(m, leaf)| {
                        leaf.iter()
                            .enumerate()
                            .filter_map(move |(l, block)| Some((first(t, m, l), &**block.get()?)))
                    })
            })
    }

    /// Every member, in id order.
    pub fn gids(&self) -> Vec<Gid> {
        let mut out = Vec::new();
        for (first, block) in self.blocks() {
            for (w, word) in block.iter().enumerate() {
                let mut bits = word.load(Ordering::Relaxed);
                let base = first + w as u64 * 64;
                while bits != 0 {
                    out.push(Gid(base + u64::from(bits.trailing_zeros())));
                    bits &= bits - 1;
                }
            }
        }
        out
    }

    /// Bytes the set holds.
    pub fn heap_bytes(&self) -> usize {
        let mids: Vec<&Mid> = self.top.iter().filter_map(OnceLock::get).collect();
        let leaves = mids.iter().flat_map(|m| m.iter()).filter(|l| l.get().is_some()).count();
        TOP * std::mem::size_of::<OnceLock<Mid>>()
            + mids.len() * FAN * std::mem::size_of::<OnceLock<Leaf>>()
            + leaves * FAN * std::mem::size_of::<OnceLock<Box<Block>>>()
            + self.blocks().count() * std::mem::size_of::<Block>()
    }
}

/// Where a vertex id's bit lives.
struct Place {
    top: usize,
    mid: usize,
    leaf: usize,
    word: usize,
    bit: u64,
}

fn place(gid: Gid) -> Place {
    let block = (gid.0 / BLOCK_BITS) as usize;
    Place {
        top: block / (FAN * FAN),
        mid: (block / FAN) % FAN,
        leaf: block % FAN,
        word: ((gid.0 % BLOCK_BITS) / 64) as usize,
        bit: 1u64 << (gid.0 % 64),
    }
}

/// One label's set, held by a reader that checks many vertices against it.
#[derive(Clone)]
pub struct LabelProbe(Arc<MemberSet>);

impl LabelProbe {
    /// Whether `gid` has the label for every reader, when the set can say (see the
    /// module docs); `None` when the vertex must be asked.
    pub fn settled_contains(&self, gid: Gid) -> Option<bool> {
        self.0.settled_contains(gid)
    }
}

/// What a family of sets is keyed by: a label or an edge type, both dense small ids.
pub trait MemberKey: Copy {
    fn index(self) -> usize;
    fn from_index(i: usize) -> Self;
}

impl MemberKey for LabelId {
    fn index(self) -> usize {
        self.0 as usize
    }
    fn from_index(i: usize) -> Self {
        LabelId(i as u32)
    }
}

impl MemberKey for EdgeTypeId {
    fn index(self) -> usize {
        self.0 as usize
    }
    fn from_index(i: usize) -> Self {
        EdgeTypeId(i as u32)
    }
}

/// One set per key, indexed by the key's id.
pub struct Members<K> {
    sets: RwLock<Vec<Option<Arc<MemberSet>>>>,
    key: PhantomData<fn(K)>,
}

/// The vertices of every label.
pub type LabelMembers = Members<LabelId>;

/// For every edge type, the vertices with an outgoing edge of it.
pub type TypeSources = Members<EdgeTypeId>;

impl<K> Default for Members<K> {
    fn default() -> Self {
        Members {
            sets: RwLock::default(),
            key: PhantomData,
        }
    }
}

impl<K: MemberKey> Members<K> {
    /// Adds `gid` to `key`'s set; the caller holds the vertex's lock and has just given
    /// it the label (or the out-edge).
    pub fn insert(&self, key: K, gid: Gid) {
        if let Some(Some(set)) = self.sets.read().get(key.index()) {
            return set.insert(gid);
        }
        self.set_or_create(key).insert(gid);
    }

    /// [`Members::insert`] for many (key, id) pairs, taking each set's lock once per key
    /// rather than once per pair: for loaders, which insert millions.
    pub fn insert_many(&self, mut pairs: Vec<(K, Gid)>) {
        pairs.sort_unstable_by_key(|(k, gid)| (k.index(), *gid));
        pairs.dedup_by_key(|(k, gid)| (k.index(), *gid));
        for group in pairs.chunk_by(|a, b| a.0.index() == b.0.index()) {
            let set = self.set_or_create(group[0].0);
            group.iter().for_each(|(_, gid)| set.insert(*gid));
        }
    }

    /// Counts a transaction in as changing who has `key`: called before its first such
    /// change (a bit set, a label removed, a vertex with the label deleted).
    pub fn begin_change(&self, key: K) {
        self.set_or_create(key).count.begin();
    }

    /// Counts a transaction out again once what it changed is settled: aborted and undone,
    /// or committed and collected.
    pub fn end_change(&self, key: K) {
        if let Some(set) = self.set(key) {
            set.count.end();
        }
    }

    /// A probe into `key`'s set, when any vertex ever qualified.
    pub fn probe(&self, key: K) -> Option<LabelProbe> {
        self.set(key).map(LabelProbe)
    }

    /// The set of `key`, when any vertex ever qualified.
    pub fn set(&self, key: K) -> Option<Arc<MemberSet>> {
        self.sets.read().get(key.index()).cloned().flatten()
    }

    /// Clears every bit of `gid` whose key `keeps` says the vertex no longer qualifies
    /// for. The caller holds the vertex's lock and has checked every version it still
    /// has. Returns how many bits it cleared.
    pub fn settle(&self, gid: Gid, keeps: impl Fn(K) -> bool) -> usize {
        let sets = self.sets.read();
        let mut cleared = 0;
        for (i, set) in sets.iter().enumerate() {
            let Some(set) = set else { continue };
            if set.contains(gid) && !keeps(K::from_index(i)) {
                set.remove(gid);
                cleared += 1;
            }
        }
        cleared
    }

    /// Bytes every set holds.
    pub fn heap_bytes(&self) -> usize {
        self.sets.read().iter().flatten().map(|s| s.heap_bytes()).sum()
    }

    /// How many sets have a transaction counted in.
    pub fn unsettled_keys(&self) -> usize {
        let sets = self.sets.read();
        sets.iter().flatten().filter(|s| s.count.is_unsettled()).count()
    }

    fn set_or_create(&self, key: K) -> Arc<MemberSet> {
        if let Some(set) = self.set(key) {
            return set;
        }
        let mut sets = self.sets.write();
        let i = key.index();
        if sets.len() <= i {
            sets.resize_with(i + 1, || None);
        }
        sets[i].get_or_insert_with(Default::default).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_come_back_in_id_order_across_blocks_and_settle_clears_only_lost_labels() {
        let members = LabelMembers::default();
        let (person, admin) = (LabelId(0), LabelId(3));
        let ids = [9_000u64, 0, 63, 64, 4_095, 4_096, 1 << 20];
        for id in ids {
            members.insert(person, Gid(id));
        }
        members.insert(admin, Gid(64));
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        let want: Vec<Gid> = sorted.into_iter().map(Gid).collect();
        assert_eq!(members.set(person).unwrap().gids(), want);
        assert!(members.set(LabelId(1)).is_none(), "a label nobody had has no set");

        // Vertex 64 lost Person but kept Admin.
        assert_eq!(members.settle(Gid(64), |l| l == admin), 1);
        assert!(!members.set(person).unwrap().gids().contains(&Gid(64)));
        assert_eq!(members.set(admin).unwrap().gids(), vec![Gid(64)]);
        // Settling an id in a block a set never allocated changes nothing.
        assert_eq!(members.settle(Gid(1 << 30), |_| false), 0);
        assert_eq!(members.set(person).unwrap().gids().len(), 6);
        assert!(members.heap_bytes() >= 4 * 512);
    }

    #[test]
    fn insert_many_groups_by_key_and_ignores_repeats() {
        let sources = TypeSources::default();
        let (t, u) = (EdgeTypeId(2), EdgeTypeId(0));
        sources.insert(t, Gid(5));
        let pairs = vec![(t, Gid(9_000)), (u, Gid(1)), (t, Gid(5)), (t, Gid(9_000)), (t, Gid(3))];
        sources.insert_many(pairs);
        assert_eq!(sources.set(t).unwrap().gids(), vec![Gid(3), Gid(5), Gid(9_000)]);
        assert_eq!(sources.set(u).unwrap().gids(), vec![Gid(1)]);
        assert!(sources.set(EdgeTypeId(1)).is_none());
    }

    #[test]
    fn concurrent_inserts_into_new_blocks_lose_no_member() {
        let members = Arc::new(LabelMembers::default());
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let members = members.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000u64 {
                        members.insert(LabelId((i % 2) as u32), Gid(i * 4 + t));
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        let total: usize = (0..2).map(|l| members.set(LabelId(l)).unwrap().gids().len()).sum();
        assert_eq!(total, 80_000);
    }
}
