//! Isolation under interleavings: two to four transactions on a small graph (vertices with
//! an integer property `v`), their steps interleaved at random on one thread.
//!
//! The test keeps every committed state by commit timestamp and predicts each step:
//! - snapshot isolation: a read returns the transaction's own write, else the committed
//!   state as of its start (so no dirty and no non-repeatable reads); a write fails at once
//!   with a retryable conflict when another running transaction wrote the vertex or one
//!   that committed after this one started did (no lost update);
//! - read committed: reads see the newest committed state; writes conflict only with
//!   running transactions;
//! - read uncommitted: reads see the newest state, committed or not.
//!
//! Write skew is allowed under snapshot isolation; a named test below shows it.

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use std::collections::{BTreeMap, BTreeSet};
use weft_storage::{Gid, IsolationLevel, PropertyId, Storage, StorageError, Transaction, Value};

const SI: IsolationLevel = IsolationLevel::SnapshotIsolation;
const RC: IsolationLevel = IsolationLevel::ReadCommitted;
const RU: IsolationLevel = IsolationLevel::ReadUncommitted;
/// Vertices in the graph; their `v` starts at 0, 10, 20, ...
const VERTICES: usize = 3;

#[derive(Clone, Copy, Debug)]
enum Action {
    Read(usize),
    /// Read, then write the value read plus one.
    Increment(usize),
    Set(usize, i64),
    Commit,
    Abort,
    /// A garbage-collection pass while the transactions run.
    CollectGarbage,
}

fn action() -> impl Strategy<Value = Action> {
    let vertex = || 0..VERTICES;
    prop_oneof![
        4 => vertex().prop_map(Action::Read),
        3 => vertex().prop_map(Action::Increment),
        2 => (vertex(), 100..104i64).prop_map(|(i, c)| Action::Set(i, c)),
        2 => Just(Action::Commit),
        1 => Just(Action::Abort),
        1 => Just(Action::CollectGarbage),
    ]
}

fn isolation() -> impl Strategy<Value = IsolationLevel> {
    prop_oneof![4 => Just(SI), 1 => Just(RC), 1 => Just(RU)]
}

/// The isolation level of each slot, and steps as (slot, action). A slot runs one
/// transaction at a time: it begins at the slot's first action after the previous ended.
fn schedule() -> impl Strategy<Value = (Vec<IsolationLevel>, Vec<(usize, Action)>)> {
    prop::collection::vec(isolation(), 2..=4).prop_flat_map(|levels| {
        let slots = levels.len();
        (Just(levels), prop::collection::vec((0..slots, action()), 1..40))
    })
}

/// A running transaction and what the test knows about it.
struct Running {
    txn: Transaction,
    isolation: IsolationLevel,
    start_ts: u64,
    /// Its own writes that took effect.
    writes: BTreeMap<usize, i64>,
    /// The last value it read of each vertex.
    reads: BTreeMap<usize, i64>,
}

/// A committed transaction, for the first-committer-wins check.
#[derive(Debug)]
struct Committed {
    isolation: IsolationLevel,
    start_ts: u64,
    commit_ts: u64,
    wrote: BTreeSet<usize>,
}

struct Sim {
    storage: Storage,
    v: PropertyId,
    gids: Vec<Gid>,
    /// Every committed state, by commit timestamp, oldest first.
    history: Vec<(u64, Vec<i64>)>,
    slots: Vec<Option<Running>>,
    levels: Vec<IsolationLevel>,
    committed: Vec<Committed>,
}

impl Sim {
    fn new(levels: Vec<IsolationLevel>) -> Self {
        let storage = Storage::new();
        let v = storage.property("v");
        let mut txn = storage.begin(SI);
        let initial: Vec<i64> = (0..VERTICES as i64).map(|i| i * 10).collect();
        let gids = initial
            .iter()
            .map(|x| {
                let gid = txn.create_vertex().unwrap();
                txn.set_vertex_property(gid, v, Value::Int(*x)).unwrap();
                gid
            })
            .collect();
        let ts = txn.commit().unwrap().unwrap();
        Sim {
            storage,
            v,
            gids,
            history: vec![(ts, initial)],
            slots: levels.iter().map(|_| None).collect(),
            levels,
            committed: Vec::new(),
        }
    }

    fn latest(&self) -> &[i64] {
        &self.history.last().expect("the initial state").1
    }

    /// The committed state a snapshot starting at `ts` sees.
    fn as_of(&self, ts: u64) -> &[i64] {
        let (_, state) = self
            .history
            .iter()
            .rev()
            .find(|(c, _)| *c <= ts)
            .expect("a state at or before");
        state
    }

    /// An uncommitted write to vertex `i` by a running transaction other than `slot`.
    fn uncommitted(&self, slot: usize, i: usize) -> Option<i64> {
        let others = self.slots.iter().enumerate().filter(|(s, _)| *s != slot);
        others.filter_map(|(_, r)| r.as_ref()?.writes.get(&i).copied()).next()
    }

    fn running(&mut self, slot: usize) -> &mut Running {
        if self.slots[slot].is_none() {
            let isolation = self.levels[slot];
            let txn = self.storage.begin(isolation);
            assert_eq!(
                txn.start_ts(),
                self.storage.last_committed(),
                "a transaction starts at the newest commit"
            );
            let start_ts = txn.start_ts();
            let (writes, reads) = (BTreeMap::new(), BTreeMap::new());
            self.slots[slot] = Some(Running {
                txn,
                isolation,
                start_ts,
                writes,
                reads,
            });
        }
        self.slots[slot].as_mut().expect("just begun")
    }

    fn step(&mut self, slot: usize, action: Action) {
        match action {
            Action::Read(i) => drop(self.read(slot, i)),
            Action::Increment(i) => {
                let seen = self.read(slot, i);
                self.write(slot, i, seen + 1);
            }
            Action::Set(i, c) => self.write(slot, i, c),
            Action::Commit => self.commit(slot),
            Action::Abort => {
                if let Some(r) = self.slots[slot].take() {
                    r.txn.abort();
                }
            }
            Action::CollectGarbage => drop(self.storage.collect_garbage()),
        }
    }

    /// What a read of vertex `i` by `slot` must return under its isolation level.
    fn expected_read(&mut self, slot: usize, i: usize) -> i64 {
        let (isolation, start_ts) = {
            let r = self.running(slot);
            if let Some(own) = r.writes.get(&i) {
                return *own;
            }
            (r.isolation, r.start_ts)
        };
        match isolation {
            IsolationLevel::SnapshotIsolation => self.as_of(start_ts)[i],
            IsolationLevel::ReadCommitted => self.latest()[i],
            IsolationLevel::ReadUncommitted => self.uncommitted(slot, i).unwrap_or(self.latest()[i]),
        }
    }

    fn read(&mut self, slot: usize, i: usize) -> i64 {
        let expected = self.expected_read(slot, i);
        let dirty = self.uncommitted(slot, i);
        let (gid, v) = (self.gids[i], self.v);
        let r = self.running(slot);
        let got = match r.txn.vertex_property(gid, v) {
            Ok(Some(Value::Int(x))) => x,
            other => panic!("reading vertex {i}: {other:?}"),
        };
        if got != expected {
            // Name the rule that broke, for the report.
            let rule = match (r.isolation, dirty, r.reads.get(&i)) {
                (IsolationLevel::ReadUncommitted, _, _) => "read uncommitted must see the newest state",
                (_, Some(d), _) if d == got => "dirty read",
                (IsolationLevel::SnapshotIsolation, _, Some(prev)) if !r.writes.contains_key(&i) && *prev != got => {
                    "non-repeatable read"
                }
                (IsolationLevel::SnapshotIsolation, _, _) => "snapshot read differs from the state at start",
                _ => "read committed must see the newest commit",
            };
            panic!(
                "{rule}: {:?} txn (start {}) read vertex {i} = {got}, expected {expected}",
                r.isolation, r.start_ts
            );
        }
        r.reads.insert(i, got);
        got
    }

    /// Whether a write of vertex `i` by `slot` must conflict.
    fn must_conflict(&mut self, slot: usize, i: usize) -> bool {
        let (isolation, start_ts, own) = {
            let r = self.running(slot);
            (r.isolation, r.start_ts, r.writes.contains_key(&i))
        };
        let running_writer = self.uncommitted(slot, i).is_some();
        let later_commit = self
            .committed
            .iter()
            .any(|c| c.commit_ts > start_ts && c.wrote.contains(&i));
        !own && (running_writer || (isolation == SI && later_commit))
    }

    fn write(&mut self, slot: usize, i: usize, value: i64) {
        let conflict = self.must_conflict(slot, i);
        let newest = self.latest()[i];
        let old = self.running(slot).writes.get(&i).copied().unwrap_or(newest);
        let (gid, v) = (self.gids[i], self.v);
        let r = self.running(slot);
        let got = r.txn.set_vertex_property(gid, v, Value::Int(value));
        if conflict {
            assert!(
                matches!(&got, Err(e @ StorageError::SerializationConflict(_)) if e.is_retryable()),
                "lost update: {:?} txn (start {}) wrote vertex {i} over a concurrent write: {got:?}",
                r.isolation,
                r.start_ts
            );
        } else {
            assert_eq!(got, Ok(Some(Value::Int(old))), "{:?} write of vertex {i}", r.isolation);
            r.writes.insert(i, value);
        }
    }

    fn commit(&mut self, slot: usize) {
        let Some(r) = self.slots[slot].take() else { return };
        let before = self.storage.last_committed();
        let ts = r.txn.commit().expect("a commit without constraints cannot fail");
        if r.writes.is_empty() {
            assert_eq!(ts, None, "a transaction that wrote nothing commits without a timestamp");
            return;
        }
        assert_eq!(ts, Some(before + 1), "commit timestamps follow one another");
        let mut state = self.latest().to_vec();
        r.writes.iter().for_each(|(i, x)| state[*i] = *x);
        self.history.push((before + 1, state));
        self.committed.push(Committed {
            isolation: r.isolation,
            start_ts: r.start_ts,
            commit_ts: before + 1,
            wrote: r.writes.keys().copied().collect(),
        });
    }

    /// First committer wins: two snapshot transactions that wrote one vertex never
    /// overlapped.
    fn check_no_lost_update(&self) {
        let si: Vec<&Committed> = self.committed.iter().filter(|c| c.isolation == SI).collect();
        for (n, a) in si.iter().enumerate() {
            for b in &si[n + 1..] {
                let overlap = a.start_ts < b.commit_ts && b.start_ts < a.commit_ts;
                let same_vertex = !a.wrote.is_disjoint(&b.wrote);
                assert!(!overlap || !same_vertex, "both committed: {a:?} and {b:?}");
            }
        }
    }

    /// After everything ends: a new reader sees the last committed state.
    fn check_final(&mut self) {
        self.slots.iter_mut().for_each(|s| drop(s.take()));
        assert_eq!(self.storage.active_transactions(), 0);
        self.storage.collect_garbage();
        let reader = self.storage.begin(SI);
        let values: Vec<i64> = self
            .gids
            .iter()
            .map(|g| {
                reader
                    .vertex_property(*g, self.v)
                    .unwrap()
                    .and_then(|x| x.as_int())
                    .unwrap()
            })
            .collect();
        assert_eq!(values, self.latest(), "final state");
    }
}

/// `PROPTEST_CASES` overrides the number of cases (for a longer soak).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(256),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    /// Every read and write of random interleavings follows the isolation rules.
    #[test]
    fn interleavings_follow_the_isolation_rules((levels, steps) in schedule()) {
        // Set up: the committed graph and one slot per transaction.
        let mut sim = Sim::new(levels);

        // Act + check: each step is predicted from the committed history.
        for (slot, action) in steps {
            sim.step(slot, action);
        }

        // Check: first committer wins, and the end state is the last commit.
        sim.check_no_lost_update();
        sim.check_final();
    }
}

// ---------------------------------------------------------------------------------------
// Named scenarios
// ---------------------------------------------------------------------------------------

/// Two vertices `x`, `y` with `v` = 0, committed.
fn two_vertices() -> (Storage, PropertyId, Gid, Gid) {
    let storage = Storage::new();
    let v = storage.property("v");
    let mut txn = storage.begin(SI);
    let x = txn.create_vertex().unwrap();
    let y = txn.create_vertex().unwrap();
    txn.set_vertex_property(x, v, Value::Int(0)).unwrap();
    txn.set_vertex_property(y, v, Value::Int(0)).unwrap();
    txn.commit().unwrap();
    (storage, v, x, y)
}

fn value(txn: &Transaction, gid: Gid, v: PropertyId) -> Value {
    txn.vertex_property(gid, v).unwrap().unwrap()
}

#[test]
fn write_skew_is_allowed_under_snapshot_isolation() {
    // Set up: the invariant "x + y >= 0" holds; two transactions each read both.
    let (storage, v, x, y) = two_vertices();
    let mut t1 = storage.begin(SI);
    let mut t2 = storage.begin(SI);
    assert_eq!((value(&t1, x, v), value(&t1, y, v)), (Value::Int(0), Value::Int(0)));
    assert_eq!((value(&t2, x, v), value(&t2, y, v)), (Value::Int(0), Value::Int(0)));

    // Act: each writes a different vertex, then both commit.
    t1.set_vertex_property(x, v, Value::Int(-1)).unwrap();
    t2.set_vertex_property(y, v, Value::Int(-1)).unwrap();
    let c1 = t1.commit();
    let c2 = t2.commit();

    // Check: both commit (snapshot isolation is not serializable): x + y = -2.
    assert_eq!((c1, c2), (Ok(Some(2)), Ok(Some(3))));
    let reader = storage.begin(SI);
    assert_eq!(
        (value(&reader, x, v), value(&reader, y, v)),
        (Value::Int(-1), Value::Int(-1))
    );
}

#[test]
fn lost_update_is_refused_to_the_second_writer_at_once() {
    // Set up: two snapshot transactions read x = 0.
    let (storage, v, x, _) = two_vertices();
    let mut t1 = storage.begin(SI);
    let mut t2 = storage.begin(SI);
    assert_eq!(value(&t1, x, v), value(&t2, x, v));

    // Act: t1 increments and commits; then t2 tries to increment.
    t1.set_vertex_property(x, v, Value::Int(1)).unwrap();
    t1.commit().unwrap();
    let second = t2.set_vertex_property(x, v, Value::Int(1));

    // Check: a retryable conflict, and t2 still reads its snapshot.
    assert!(matches!(&second, Err(e @ StorageError::SerializationConflict(_)) if e.is_retryable()));
    assert_eq!(value(&t2, x, v), Value::Int(0));
}

#[test]
fn read_committed_sees_later_commits_but_never_uncommitted_writes() {
    // Set up: a read-committed reader and a writer.
    let (storage, v, x, y) = two_vertices();
    let reader = storage.begin(RC);
    let mut writer = storage.begin(SI);

    // Act + check: an uncommitted write is invisible to the reader.
    writer.set_vertex_property(x, v, Value::Int(5)).unwrap();
    assert_eq!(value(&reader, x, v), Value::Int(0), "dirty read under read committed");

    // Act + check: once committed it is visible to the reader, which started earlier.
    writer.commit().unwrap();
    assert_eq!(value(&reader, x, v), Value::Int(5), "read committed missed a commit");
    assert_eq!(value(&reader, y, v), Value::Int(0));
}

#[test]
fn read_committed_writes_conflict_only_with_running_writers() {
    // Set up: a read-committed transaction and a snapshot writer.
    let (storage, v, x, y) = two_vertices();
    let mut rc = storage.begin(RC);
    let mut other = storage.begin(SI);

    // Act: the other transaction writes y (still running) and x (then commits x later).
    other.set_vertex_property(y, v, Value::Int(7)).unwrap();
    let over_running = rc.set_vertex_property(y, v, Value::Int(8));
    other.set_vertex_property(x, v, Value::Int(7)).unwrap();
    other.commit().unwrap();
    let over_committed = rc.set_vertex_property(x, v, Value::Int(8));

    // Check: a running writer conflicts; a newer commit is simply overwritten.
    assert!(matches!(&over_running, Err(e) if e.is_retryable()), "{over_running:?}");
    assert_eq!(over_committed, Ok(Some(Value::Int(7))));
    rc.commit().unwrap();
    let reader = storage.begin(SI);
    assert_eq!(
        (value(&reader, x, v), value(&reader, y, v)),
        (Value::Int(8), Value::Int(7))
    );
}

#[test]
fn read_uncommitted_sees_uncommitted_writes_until_they_abort() {
    // Set up: a read-uncommitted reader and a writer.
    let (storage, v, x, _) = two_vertices();
    let reader = storage.begin(RU);
    let mut writer = storage.begin(SI);

    // Act + check: the uncommitted write is visible, including a new vertex.
    writer.set_vertex_property(x, v, Value::Int(9)).unwrap();
    let z = writer.create_vertex().unwrap();
    assert_eq!(value(&reader, x, v), Value::Int(9));
    assert!(reader.vertex_exists(z));

    // Act + check: after the abort, the reader sees the old state again.
    writer.abort();
    assert_eq!(value(&reader, x, v), Value::Int(0));
    assert!(!reader.vertex_exists(z));
}

#[test]
fn snapshot_reads_survive_garbage_collection() {
    // Set up: a snapshot reader, then three commits to x.
    let (storage, v, x, _) = two_vertices();
    let reader = storage.begin(SI);
    for n in 1..=3 {
        let mut txn = storage.begin(SI);
        txn.set_vertex_property(x, v, Value::Int(n)).unwrap();
        txn.commit().unwrap();
    }

    // Act: collect garbage while the reader runs.
    storage.collect_garbage();

    // Check: the reader still sees x = 0; a new one sees 3.
    assert_eq!(value(&reader, x, v), Value::Int(0));
    assert_eq!(value(&storage.begin(SI), x, v), Value::Int(3));
}
