//! Random interleavings of a few transactions over a few vertices, shared by the model
//! tests of exact label bits (`settled_labels.rs`) and kept columns (`kept_columns.rs`):
//! the steps, their strategy, and how a step applies.

use proptest::prelude::*;
use weft_storage::{Gid, IsolationLevel, LabelId, PropertyId, Storage, Transaction, Value};

/// Transactions open at once.
pub const SLOTS: usize = 3;

#[derive(Debug, Clone)]
pub enum Step {
    Begin(usize),
    /// Slot, vertex, key, value (0 removes the property).
    Set(usize, usize, usize, i64),
    AddLabel(usize, usize, usize),
    RemoveLabel(usize, usize, usize),
    Delete(usize, usize),
    Commit(usize),
    Abort(usize),
    Collect,
}

/// Steps over `vertices` vertices, `labels` labels and `keys` property keys.
pub fn step(vertices: usize, labels: usize, keys: usize) -> impl Strategy<Value = Step> {
    let (s, v, l) = (0..SLOTS, 0..vertices, 0..labels);
    prop_oneof![
        s.clone().prop_map(Step::Begin),
        (s.clone(), v.clone(), 0..keys, -2..3i64).prop_map(|(s, v, k, x)| Step::Set(s, v, k, x)),
        (s.clone(), v.clone(), l.clone()).prop_map(|(s, v, l)| Step::AddLabel(s, v, l)),
        (s.clone(), v.clone(), l).prop_map(|(s, v, l)| Step::RemoveLabel(s, v, l)),
        (s.clone(), v).prop_map(|(s, v)| Step::Delete(s, v)),
        s.clone().prop_map(Step::Commit),
        s.prop_map(Step::Abort),
        Just(Step::Collect),
    ]
}

/// The graph a model runs over and its open transactions.
pub struct World {
    pub storage: Storage,
    pub vertices: Vec<Gid>,
    pub labels: Vec<LabelId>,
    pub keys: Vec<PropertyId>,
    pub slots: Vec<Option<Transaction>>,
}

impl World {
    /// Applies one step. Writes may fail (a conflict, a vertex already deleted): the
    /// models only need whatever state results.
    pub fn apply(&mut self, step: Step) {
        let (vertices, labels, keys) = (&self.vertices, &self.labels, &self.keys);
        match step {
            Step::Begin(s) => self.slots[s] = Some(self.storage.begin(IsolationLevel::SnapshotIsolation)),
            Step::Set(s, v, k, x) => {
                if let Some(t) = self.slots[s].as_mut() {
                    let value = if x == 0 { Value::Null } else { Value::Int(x) };
                    let _ = t.set_vertex_property(vertices[v], keys[k], value);
                }
            }
            Step::AddLabel(s, v, l) => {
                if let Some(t) = self.slots[s].as_mut() {
                    let _ = t.add_label(vertices[v], labels[l]);
                }
            }
            Step::RemoveLabel(s, v, l) => {
                if let Some(t) = self.slots[s].as_mut() {
                    let _ = t.remove_label(vertices[v], labels[l]);
                }
            }
            Step::Delete(s, v) => {
                if let Some(t) = self.slots[s].as_mut() {
                    let _ = t.delete_vertex(vertices[v], false);
                }
            }
            Step::Commit(s) => {
                if let Some(t) = self.slots[s].take() {
                    let _ = t.commit();
                }
            }
            Step::Abort(s) => {
                if let Some(t) = self.slots[s].take() {
                    t.abort();
                }
            }
            Step::Collect => {
                self.storage.collect_garbage();
            }
        }
    }

    /// The open transactions.
    pub fn open(&self) -> impl Iterator<Item = &Transaction> {
        self.slots.iter().flatten()
    }
}

/// Ends a threaded test's writer transaction: every fifth round aborts, the others
/// commit (a conflict may refuse them).
pub fn end_round(txn: Transaction, round: usize) {
    if round.is_multiple_of(5) {
        txn.abort();
    } else {
        let _ = txn.commit();
    }
}

/// A thread that collects garbage `rounds` times, yielding between passes.
pub fn collector<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    storage: &'scope Storage,
    rounds: usize,
) -> std::thread::ScopedJoinHandle<'scope, ()> {
    scope.spawn(move || {
        for _ in 0..rounds {
            storage.collect_garbage();
            std::thread::yield_now();
        }
    })
}

/// The models' proptest settings: 256 cases, failures kept beside the test file.
pub fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}
