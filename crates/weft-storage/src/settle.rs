//! Counts of unsettled changes: for one label, edge type or property key, how many
//! transactions changed it and are not settled yet, and how many ever counted in.
//!
//! Owns: [`ChangeCount`], the counter pair behind every "is this the same for every
//! reader?" answer: exact label bits (`members.rs`) and kept property columns
//! (`columns.rs`).
//!
//! Promises: a transaction counts itself in ([`ChangeCount::begin`]) before its first
//! change of the key, and out ([`ChangeCount::end`]) once settled: aborted and undone, or
//! committed and collected by the garbage collector, after which every reader sees the
//! one current version. While no transaction is counted in, every object holds one state
//! of the key that every reader sees; an unchanged `changes` between two reads means no
//! transaction counted in between them.

use std::sync::atomic::{AtomicU64, Ordering};

/// The unsettled count and the change counter of one key.
#[derive(Default, Debug)]
pub struct ChangeCount {
    /// Transactions counted in and not yet out.
    unsettled: AtomicU64,
    /// How many times a transaction has counted in, ever.
    changes: AtomicU64,
}

impl ChangeCount {
    /// Counts a transaction in, before its first change of the key.
    pub fn begin(&self) {
        // The count first: a reader that sees the new `changes` also sees the count.
        self.unsettled.fetch_add(1, Ordering::AcqRel);
        self.changes.fetch_add(1, Ordering::AcqRel);
    }

    /// Counts a transaction out once what it changed is settled.
    pub fn end(&self) {
        self.unsettled.fetch_sub(1, Ordering::Release);
    }

    /// The change counter, when no transaction is counted in; `None` while one is. A
    /// caller that reads again later and gets the same number knows nobody counted in
    /// between (a writer raises the count before the counter). The counter is read on
    /// both sides of the count, so a transaction that counted in and out between the
    /// two reads is not missed either.
    pub fn settled(&self) -> Option<u64> {
        let changes = self.changes.load(Ordering::Acquire);
        let quiet = self.unsettled.load(Ordering::Acquire) == 0;
        (quiet && self.changes.load(Ordering::Acquire) == changes).then_some(changes)
    }

    /// The change counter, settled or not.
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::Acquire)
    }

    /// True while some transaction is counted in.
    pub fn is_unsettled(&self) -> bool {
        self.unsettled.load(Ordering::Relaxed) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settled_only_while_nobody_is_counted_in_and_the_counter_moves_on_every_begin() {
        let count = ChangeCount::default();
        assert_eq!(count.settled(), Some(0));
        count.begin();
        count.begin();
        assert_eq!(count.settled(), None);
        assert!(count.is_unsettled());
        count.end();
        assert_eq!(count.settled(), None);
        count.end();
        assert_eq!(count.settled(), Some(2));
        assert_eq!(count.changes(), 2);
    }
}
