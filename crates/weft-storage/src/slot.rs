//! The slot a thread gives back while its commit waits on the commit pipeline.
//!
//! Owns: the contract between a caller that limits how many threads do engine work at
//! once (the server's worker pool) and the one place where a committer only waits (for
//! the WAL's fsync, for replicas' acknowledgements). A thread that runs with a [`Slot`]
//! gives it back for the length of that wait and takes it again before going on, so
//! that other sessions' queries run meanwhile and more commits reach the pipeline to
//! share its next fsync and round trip. Without a slot the wait is a plain wait.

use std::cell::RefCell;
use std::sync::Arc;

/// A limited resource a thread holds while it does engine work; see the module docs.
pub trait Slot: Send + Sync {
    /// Lets another thread have the slot (called before a commit waits).
    fn give_back(&self);
    /// Blocks until this thread holds the slot again (called after the wait).
    fn take_again(&self);
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<dyn Slot>>> = const { RefCell::new(None) };
}

/// Runs `work` on this thread with `slot` as the one its commit waits give back.
pub fn run_in_slot<R>(slot: Arc<dyn Slot>, work: impl FnOnce() -> R) -> R {
    /// Puts back the slot that was current before, also when `work` panics.
    struct Restore(Option<Arc<dyn Slot>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|current| *current.borrow_mut() = self.0.take());
        }
    }
    let _restore = Restore(CURRENT.with(|current| current.borrow_mut().replace(slot)));
    work()
}

/// Runs `wait` with this thread's slot given back, if it runs in one.
pub fn outside_slot<R>(wait: impl FnOnce() -> R) -> R {
    let Some(slot) = CURRENT.with(|current| current.borrow().clone()) else {
        return wait();
    };
    /// Takes the slot again, also when `wait` panics.
    struct Retake(Arc<dyn Slot>);
    impl Drop for Retake {
        fn drop(&mut self) {
            self.0.take_again();
        }
    }
    slot.give_back();
    let _retake = Retake(slot);
    wait()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI32, Ordering};

    /// Counts how many times the slot is held (1 while held, 0 while given back).
    struct Counted(AtomicI32);
    impl Slot for Counted {
        fn give_back(&self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
        fn take_again(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_wait_gives_the_slot_back_and_takes_it_again() {
        let slot = Arc::new(Counted(AtomicI32::new(1)));
        let seen = run_in_slot(slot.clone(), || outside_slot(|| slot.0.load(Ordering::SeqCst)));
        assert_eq!(seen, 0, "given back during the wait");
        assert_eq!(slot.0.load(Ordering::SeqCst), 1, "held again after it");
        assert_eq!(outside_slot(|| 7), 7, "no slot outside run_in_slot");
    }
}
