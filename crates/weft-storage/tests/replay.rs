//! Commit-hook replay: every commit record storage A hands its hook, applied in order to
//! an empty storage B, rebuilds the same graph, schema and timestamps.
//!
//! The workload mixes what a primary really sees: transactions that commit, abort, are
//! dropped, are refused by the hook or break a constraint at commit; two transactions
//! interleaved; lost-update attempts that must conflict; detach deletes; edge properties;
//! index and constraint DDL (some refused). After every step the records so far are
//! replayed into B and the two must agree. Records must round-trip through
//! `CommitRecord::decode`/`encode`, B must re-emit exactly the records it applies (so a
//! replica can feed another), and a record applied twice must fail and change nothing.
//! Damaged records must never make decoding or applying panic. Loading every record
//! directly, as recovery does, must rebuild the same graph too.

#[path = "replay/records.rs"]
mod records;
mod sinks;

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use std::ops::Bound;

use sinks::RecordingSink;
use std::sync::Arc;
use weft_storage::record::CommitRecord;
use weft_storage::{Direction, EdgeRef, Gid, IsolationLevel, Origin, Storage, StorageError, Transaction, Value};

/// How records from the replayed storage arrive.
const APPLIED: Origin = Origin::Applied { epoch: 1 };

const SI: IsolationLevel = IsolationLevel::SnapshotIsolation;
const LABELS: [&str; 2] = ["Person", "City"];
const KEYS: [&str; 2] = ["name", "age"];
const TYPES: [&str; 2] = ["KNOWS", "IN"];

fn value_pool() -> Vec<Value> {
    vec![
        Value::Null,
        Value::Int(1),
        Value::Int(2),
        Value::Float(1.0),
        Value::from("a"),
        Value::from("b"),
        Value::List(vec![Value::Int(1), Value::from("x")]),
    ]
}

// ---------------------------------------------------------------------------------------
// A storage whose hook collects records, and can be told to refuse the next one
// ---------------------------------------------------------------------------------------

struct Recorded {
    storage: Storage,
    sink: Arc<RecordingSink>,
}

impl Recorded {
    fn new() -> Self {
        let storage = Storage::new();
        let sink = RecordingSink::new("replica");
        sink.attach(&storage);
        Recorded { storage, sink }
    }

    fn records(&self) -> Vec<(u64, Vec<u8>)> {
        self.sink.received().into_iter().map(|r| (r.ts, r.record)).collect()
    }
}

/// Everything a replica must reproduce.
fn assert_same(a: &Storage, b: &Storage, context: &str) {
    assert_eq!(b.dump(), a.dump(), "dump differs {context}");
    assert_eq!(b.index_info(), a.index_info(), "index_info differs {context}");
    assert_eq!(
        b.constraint_info(),
        a.constraint_info(),
        "constraint_info differs {context}"
    );
    assert_eq!(
        b.last_committed(),
        a.last_committed(),
        "last_committed differs {context}"
    );
    assert_eq!(scans(b), scans(a), "index scans differ {context}");
}

/// Every label, label+property and edge-type scan, by name and sorted (the order of an
/// unindexed scan follows adjacency order, which abort does not keep), for comparing
/// storages.
fn scans(s: &Storage) -> Vec<String> {
    fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
        items.sort();
        items
    }
    let txn = s.begin(SI);
    let mut out = Vec::new();
    for l in LABELS {
        out.push(format!("{l}: {:?}", sorted(txn.vertices_with_label(s.label(l)))));
        for k in KEYS {
            let all = txn.vertices_in_range(s.label(l), s.property(k), Bound::Unbounded, Bound::Unbounded);
            let one = txn.vertices_with_property(s.label(l), s.property(k), &Value::from("a"));
            out.push(format!("{l}.{k}: {:?} {:?}", sorted(all), sorted(one)));
        }
    }
    for t in TYPES {
        // Edge type ids are local to a storage; object ids are not.
        let edges = txn
            .edges_with_type(s.edge_type(t))
            .iter()
            .map(|e| (e.gid, e.from, e.to))
            .collect();
        out.push(format!("{t}: {:?}", sorted::<(Gid, Gid, Gid)>(edges)));
    }
    out
}

// ---------------------------------------------------------------------------------------
// The workload
// ---------------------------------------------------------------------------------------

/// A choice among the ids handed out so far (modulo their number).
#[derive(Clone, Copy, Debug)]
struct Pick(u16);

#[derive(Clone, Debug)]
enum Write {
    CreateVertex,
    DeleteVertex { v: Pick, detach: bool },
    AddLabel { v: Pick, label: usize },
    RemoveLabel { v: Pick, label: usize },
    SetProperty { v: Pick, key: usize, value: Value },
    CreateEdge { from: Pick, to: Pick, ty: usize },
    DeleteEdge { e: Pick },
    SetEdgeProperty { e: Pick, key: usize, value: Value },
}

#[derive(Clone, Copy, Debug)]
enum End {
    Commit,
    Abort,
    Drop,
    HookRefuses,
}

#[derive(Clone, Debug)]
enum Schema {
    LabelIndex(usize),
    LabelPropertyIndex(usize, usize),
    EdgeTypeIndex(usize),
    Exists(usize, usize),
    Unique(usize, Vec<usize>),
}

#[derive(Clone, Debug)]
enum Step {
    /// One transaction of writes, then its end.
    Txn {
        writes: Vec<Write>,
        end: End,
    },
    /// Two transactions whose writes alternate; both try to commit.
    Interleaved {
        a: Vec<Write>,
        b: Vec<Write>,
        b_commits_first: bool,
    },
    /// Two transactions write one vertex: the second write must conflict.
    LostUpdate {
        v: Pick,
        first_commits_early: bool,
    },
    Ddl {
        create: bool,
        schema: Schema,
        refused: bool,
    },
    CollectGarbage,
}

fn pick() -> impl Strategy<Value = Pick> {
    any::<u16>().prop_map(Pick)
}

fn write() -> impl Strategy<Value = Write> {
    let value = || prop::sample::select(value_pool());
    prop_oneof![
        4 => Just(Write::CreateVertex),
        2 => (pick(), any::<bool>()).prop_map(|(v, detach)| Write::DeleteVertex { v, detach }),
        3 => (pick(), 0..2usize).prop_map(|(v, label)| Write::AddLabel { v, label }),
        1 => (pick(), 0..2usize).prop_map(|(v, label)| Write::RemoveLabel { v, label }),
        4 => (pick(), 0..2usize, value()).prop_map(|(v, key, value)| Write::SetProperty { v, key, value }),
        4 => (pick(), pick(), 0..2usize).prop_map(|(from, to, ty)| Write::CreateEdge { from, to, ty }),
        1 => pick().prop_map(|e| Write::DeleteEdge { e }),
        2 => (pick(), 0..2usize, value()).prop_map(|(e, key, value)| Write::SetEdgeProperty { e, key, value }),
    ]
}

fn schema() -> impl Strategy<Value = Schema> {
    prop_oneof![
        (0..2usize).prop_map(Schema::LabelIndex),
        (0..2usize, 0..2usize).prop_map(|(l, k)| Schema::LabelPropertyIndex(l, k)),
        (0..2usize).prop_map(Schema::EdgeTypeIndex),
        (0..2usize, 0..2usize).prop_map(|(l, k)| Schema::Exists(l, k)),
        (0..2usize, prop_oneof![Just(vec![0]), Just(vec![1]), Just(vec![0, 1])])
            .prop_map(|(l, ks)| Schema::Unique(l, ks)),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let writes = || prop::collection::vec(write(), 1..8);
    let end =
        prop_oneof![6 => Just(End::Commit), 1 => Just(End::Abort), 1 => Just(End::Drop), 1 => Just(End::HookRefuses)];
    prop_oneof![
        8 => (writes(), end).prop_map(|(writes, end)| Step::Txn { writes, end }),
        2 => (writes(), writes(), any::<bool>()).prop_map(|(a, b, b_commits_first)| Step::Interleaved { a, b, b_commits_first }),
        2 => (pick(), any::<bool>()).prop_map(|(v, first_commits_early)| Step::LostUpdate { v, first_commits_early }),
        3 => (any::<bool>(), schema(), prop::bool::weighted(0.2)).prop_map(|(create, schema, refused)| Step::Ddl { create, schema, refused }),
        1 => Just(Step::CollectGarbage),
    ]
}

/// Runs the workload on A, remembering every id handed out so writes can pick them.
struct Workload {
    a: Recorded,
    vertices: Vec<Gid>,
    edges: Vec<EdgeRef>,
}

impl Workload {
    fn vertex(&self, pick: Pick) -> Gid {
        match self.vertices.len() {
            0 => Gid(0),
            n => self.vertices[usize::from(pick.0) % n],
        }
    }

    fn edge(&self, pick: Pick) -> Option<EdgeRef> {
        let n = self.edges.len();
        (n > 0).then(|| self.edges[usize::from(pick.0) % n])
    }

    /// Applies one write; its errors (missing objects, conflicts) are part of the workload.
    fn write(&mut self, txn: &mut Transaction, w: &Write) {
        let s = &self.a.storage;
        let _ = match w {
            Write::CreateVertex => txn.create_vertex().map(|g| self.vertices.push(g)),
            Write::DeleteVertex { v, detach } => txn.delete_vertex(self.vertex(*v), *detach),
            Write::AddLabel { v, label } => txn.add_label(self.vertex(*v), s.label(LABELS[*label])).map(drop),
            Write::RemoveLabel { v, label } => txn.remove_label(self.vertex(*v), s.label(LABELS[*label])).map(drop),
            Write::SetProperty { v, key, value } => txn
                .set_vertex_property(self.vertex(*v), s.property(KEYS[*key]), value.clone())
                .map(drop),
            Write::CreateEdge { from, to, ty } => txn
                .create_edge(self.vertex(*from), self.vertex(*to), s.edge_type(TYPES[*ty]))
                .map(|e| self.edges.push(e)),
            Write::DeleteEdge { e } => match self.edge(*e) {
                Some(e) => txn.delete_edge(&e),
                None => Ok(()),
            },
            Write::SetEdgeProperty { e, key, value } => match self.edge(*e) {
                Some(e) => txn
                    .set_edge_property(&e, s.property(KEYS[*key]), value.clone())
                    .map(drop),
                None => Ok(()),
            },
        };
    }

    fn run(&mut self, step: &Step) {
        match step {
            Step::Txn { writes, end } => self.transaction(writes, *end),
            Step::Interleaved { a, b, b_commits_first } => self.interleaved(a, b, *b_commits_first),
            Step::LostUpdate { v, first_commits_early } => self.lost_update(*v, *first_commits_early),
            Step::Ddl {
                create,
                schema,
                refused,
            } => self.ddl(*create, schema, *refused),
            Step::CollectGarbage => drop(self.a.storage.collect_garbage()),
        }
    }

    fn transaction(&mut self, writes: &[Write], end: End) {
        let before = self.a.storage.dump();
        let mut txn = self.a.storage.begin(SI);
        writes.iter().for_each(|w| self.write(&mut txn, w));
        match end {
            End::Commit => drop(txn.commit()),
            End::Abort => txn.abort(),
            End::Drop => drop(txn),
            End::HookRefuses => {
                self.a.sink.refuse_next(true);
                let result = txn.commit();
                let hook_ran = !self.a.sink.refuse_next(false);
                // The hook runs only for a commit that wrote and passed its constraints.
                match result {
                    Ok(None) | Err(StorageError::ConstraintViolation(_)) => assert!(!hook_ran, "{result:?}"),
                    Err(StorageError::Commit(_)) => assert!(hook_ran, "sink refusal without the sink"),
                    other => panic!("a commit the hook refuses gave {other:?}"),
                }
                assert_eq!(self.a.storage.dump(), before, "a refused commit left traces");
            }
        }
        if matches!(end, End::Abort | End::Drop) {
            assert_eq!(self.a.storage.dump(), before, "an aborted transaction left traces");
        }
    }

    fn interleaved(&mut self, a: &[Write], b: &[Write], b_commits_first: bool) {
        let mut ta = self.a.storage.begin(SI);
        let mut tb = self.a.storage.begin(SI);
        for i in 0..a.len().max(b.len()) {
            if let Some(w) = a.get(i) {
                self.write(&mut ta, w);
            }
            if let Some(w) = b.get(i) {
                self.write(&mut tb, w);
            }
        }
        let (first, second) = if b_commits_first { (tb, ta) } else { (ta, tb) };
        let _ = first.commit();
        let _ = second.commit();
    }

    fn lost_update(&mut self, v: Pick, first_commits_early: bool) {
        let (v, age) = (self.vertex(v), self.a.storage.property("age"));
        let mut first = self.a.storage.begin(SI);
        let mut second = self.a.storage.begin(SI);
        let wrote = first.set_vertex_property(v, age, Value::Int(10)).is_ok();
        let committed = wrote && first_commits_early && matches!(first.commit(), Ok(Some(_)));
        let second_write = second.set_vertex_property(v, age, Value::Int(20));
        if wrote && (committed || !first_commits_early) {
            assert!(
                matches!(&second_write, Err(e) if e.is_retryable()),
                "second writer of vertex {v} must conflict, got {second_write:?}"
            );
        }
        second.abort();
    }

    fn ddl(&mut self, create: bool, schema: &Schema, refused: bool) {
        let s = &self.a.storage;
        let (indexes, constraints) = (s.index_info(), s.constraint_info());
        self.a.sink.refuse_next(refused);
        let result = match (schema, create) {
            (Schema::LabelIndex(l), true) => s.create_label_index(LABELS[*l]),
            (Schema::LabelIndex(l), false) => s.drop_label_index(LABELS[*l]),
            (Schema::LabelPropertyIndex(l, k), true) => s.create_label_property_index(LABELS[*l], KEYS[*k]),
            (Schema::LabelPropertyIndex(l, k), false) => s.drop_label_property_index(LABELS[*l], KEYS[*k]),
            (Schema::EdgeTypeIndex(t), true) => s.create_edge_type_index(TYPES[*t]),
            (Schema::EdgeTypeIndex(t), false) => s.drop_edge_type_index(TYPES[*t]),
            (Schema::Exists(l, k), true) => s.create_existence_constraint(LABELS[*l], KEYS[*k]),
            (Schema::Exists(l, k), false) => s.drop_existence_constraint(LABELS[*l], KEYS[*k]),
            (Schema::Unique(l, ks), true) => s.create_unique_constraint(LABELS[*l], &names(ks)),
            (Schema::Unique(l, ks), false) => s.drop_unique_constraint(LABELS[*l], &names(ks)),
        };
        let hook_ran = !self.a.sink.refuse_next(false);
        if refused && hook_ran {
            assert!(
                matches!(result, Err(StorageError::Commit(_))),
                "refused DDL gave {result:?}"
            );
        }
        if result.is_err() {
            assert_eq!(
                (s.index_info(), s.constraint_info()),
                (indexes, constraints),
                "failed DDL changed the schema"
            );
        }
    }
}

fn names(keys: &[usize]) -> Vec<&'static str> {
    keys.iter().map(|k| KEYS[*k]).collect()
}

/// Applies the records B has not seen yet, checking what B re-emits.
fn catch_up(b: &Recorded, records: &[(u64, Vec<u8>)]) {
    let seen = b.sink.received().len();
    for (ts, bytes) in &records[seen..] {
        assert_eq!(b.storage.apply(bytes, APPLIED), Ok(*ts), "applying record at {ts}");
    }
    let reemitted = b.records();
    assert_eq!(reemitted.len(), records.len(), "B's hook runs once per applied record");
    for ((ts_a, a), (ts_b, bb)) in records.iter().zip(&reemitted).skip(seen) {
        assert_eq!(ts_a, ts_b, "re-emitted timestamp");
        assert_eq!(
            CommitRecord::decode(bb),
            CommitRecord::decode(a),
            "B re-emitted a different record at {ts_a}"
        );
    }
}

fn check_round_trip(records: &[(u64, Vec<u8>)]) {
    assert!(
        records.windows(2).all(|w| w[0].0 < w[1].0),
        "record timestamps must increase"
    );
    for (ts, bytes) in records {
        let decoded = CommitRecord::decode(bytes).expect("a record from the hook decodes");
        assert_eq!(decoded.ts(), *ts, "record timestamp");
        assert_eq!(
            &decoded.encode(),
            bytes,
            "record at {ts} does not re-encode to the same bytes"
        );
    }
}

/// Applying any record a second time fails as stale (`StorageError::Apply`, timestamp not
/// newer) and leaves B exactly as it was.
fn check_double_apply(b: &Recorded, records: &[(u64, Vec<u8>)]) {
    let (dump, indexes, constraints, last) = (
        b.storage.dump(),
        b.storage.index_info(),
        b.storage.constraint_info(),
        b.storage.last_committed(),
    );
    let emitted = b.records().len();
    for (ts, bytes) in records {
        let result = b.storage.apply(bytes, APPLIED);
        assert!(
            matches!(result, Err(StorageError::Apply(_))),
            "re-applying record {ts} gave {result:?}"
        );
        assert_eq!(b.storage.dump(), dump, "re-applying record {ts} changed the graph");
        assert_eq!(
            b.storage.index_info(),
            indexes,
            "re-applying record {ts} changed the indexes"
        );
        assert_eq!(
            b.storage.constraint_info(),
            constraints,
            "re-applying {ts} changed the constraints"
        );
        assert_eq!(
            b.storage.last_committed(),
            last,
            "re-applying record {ts} moved the clock"
        );
    }
    assert_eq!(b.records().len(), emitted, "a failed apply reached B's hook");
}

/// `PROPTEST_CASES` overrides the number of cases (for a longer soak).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(cases(64)))]

    /// Replaying A's records into B after every step keeps B equal to A.
    #[test]
    fn replayed_records_rebuild_the_same_storage(steps in prop::collection::vec(step(), 1..30)) {
        // Set up: primary A with a recording hook, replica B recording what it re-emits.
        let mut work = Workload { a: Recorded::new(), vertices: Vec::new(), edges: Vec::new() };
        let b = Recorded::new();

        // Act + check: after every step, B catches up and must equal A.
        for (i, step) in steps.iter().enumerate() {
            work.run(step);
            catch_up(&b, &work.a.records());
            assert_same(&work.a.storage, &b.storage, &format!("after step {i}: {step:?}"));
        }

        // Check: records round-trip, and none applies twice.
        let records = work.a.records();
        check_round_trip(&records);
        check_double_apply(&b, &records);

        // Act + check: B still follows A after the refused re-applications.
        work.run(&Step::Txn { writes: vec![Write::CreateVertex], end: End::Commit });
        catch_up(&b, &work.a.records());
        assert_same(&work.a.storage, &b.storage, "after the double applies");

        // Act + check: C, applying every record as one group (each sees the staged ones
        // before it), ends equal to A too, and re-emits every record once.
        let c = Recorded::new();
        let records = work.a.records();
        let decoded = records.iter().map(|(_, bytes)| (CommitRecord::decode(bytes).unwrap(), bytes.as_slice()));
        let (newest, error) = c.storage.apply_group(decoded, APPLIED);
        prop_assert!(error.is_none(), "the group stopped: {error:?}");
        prop_assert_eq!(newest, records.last().map(|(ts, _)| *ts));
        assert_same(&work.a.storage, &c.storage, "after one group of every record");
        prop_assert_eq!(c.records().len(), records.len());

        // Act + check: D, loading every record directly (recovery's path: no
        // transactions, no undo deltas), ends equal to A, planner counters included.
        let d = Storage::new();
        for (ts, bytes) in &records {
            prop_assert_eq!(d.load_record(CommitRecord::decode(bytes).unwrap()), Ok(*ts));
        }
        d.collect_garbage();
        let a = &work.a.storage;
        assert_same(a, &d, "after loading every record directly");
        prop_assert_eq!(d.approx_vertex_count(), a.approx_vertex_count());
        for l in LABELS {
            prop_assert_eq!(d.approx_label_count(d.label(l)), a.approx_label_count(a.label(l)), "count of {}", l);
        }

        // Act + check: E, loading every record in one run split between two threads by
        // vertex (recovery's path for large runs), ends equal to A as well.
        let e = Storage::new();
        let decoded: Vec<CommitRecord> = records.iter().map(|(_, bytes)| CommitRecord::decode(bytes).unwrap()).collect();
        prop_assert_eq!(e.load_records_split(decoded), Ok(records.last().map_or(0, |(ts, _)| *ts)));
        e.collect_garbage();
        assert_same(a, &e, "after loading every record split between two threads");
        prop_assert_eq!(e.approx_vertex_count(), a.approx_vertex_count());
        for l in LABELS {
            prop_assert_eq!(e.approx_label_count(e.label(l)), a.approx_label_count(a.label(l)), "count of {}", l);
        }
    }
}

#[test]
fn a_group_is_invisible_to_readers_until_it_settles_and_then_wholly_visible() {
    // Set up: A makes a vertex and then changes it (the second record needs the first);
    // B's only sink holds every wait until released.
    let a = Recorded::new();
    let name = a.storage.property("name");
    let mut txn = a.storage.begin(SI);
    let v = txn.create_vertex().unwrap();
    txn.commit().unwrap();
    let mut txn = a.storage.begin(SI);
    txn.set_vertex_property(v, name, Value::from("x")).unwrap();
    txn.commit().unwrap();
    let records = a.records();
    let b = Storage::new();
    let gate = RecordingSink::gated("replica");
    gate.attach(&b);

    // Act: apply both as one group on another thread; it stages both, then waits.
    let applier = {
        let b = b.clone();
        std::thread::spawn(move || {
            let decoded = records
                .iter()
                .map(|(_, bytes)| (CommitRecord::decode(bytes).unwrap(), bytes.as_slice()));
            b.apply_group(decoded, APPLIED)
        })
    };
    while gate.received().len() < 2 {
        std::thread::yield_now();
    }

    // Check: staged but unsettled, the group is seen by no new reader; settled, it all is.
    assert_eq!(b.last_committed(), 0);
    assert_eq!(b.begin(SI).vertices().count(), 0, "a reader saw a staged record");
    gate.release();
    let (newest, error) = applier.join().unwrap();
    assert_eq!((newest, error), (Some(a.storage.last_committed()), None));
    let reader = b.begin(SI);
    assert_eq!(
        reader.vertex_property(v, b.property("name")),
        Ok(Some(Value::from("x")))
    );
}

#[test]
fn reapplying_a_delete_record_is_refused_as_stale() {
    // Set up: A creates a vertex, then deletes it; B applies both records.
    let a = Recorded::new();
    let mut txn = a.storage.begin(SI);
    let v = txn.create_vertex().unwrap();
    txn.commit().unwrap();
    let mut txn = a.storage.begin(SI);
    txn.delete_vertex(v, false).unwrap();
    txn.commit().unwrap();
    let b = Recorded::new();
    catch_up(&b, &a.records());

    // Act: the delete record arrives a second time (say, after a replica reconnects).
    let (ts, delete) = a.records()[1].clone();
    let result = b.storage.apply(&delete, APPLIED);

    // Check: refused for its timestamp, not reported as a missing vertex (which would look
    // like divergence to a replication client), and B is unchanged.
    assert!(
        matches!(result, Err(StorageError::Apply(_))),
        "re-applying record {ts} gave {result:?}"
    );
    assert_same(&a.storage, &b.storage, "after the duplicate");
}

/// A fixed walk: detach-deleting a vertex with a self-loop and an in-edge that carries a
/// property replays exactly.
#[test]
fn detach_delete_and_edge_properties_replay() {
    // Set up: A with two connected vertices and an edge property.
    let a = Recorded::new();
    let s = &a.storage;
    let (knows, w8) = (s.edge_type("KNOWS"), s.property("weight"));
    let mut txn = s.begin(SI);
    let x = txn.create_vertex().unwrap();
    let y = txn.create_vertex().unwrap();
    let e = txn.create_edge(x, y, knows).unwrap();
    txn.set_edge_property(&e, w8, Value::Float(0.5)).unwrap();
    txn.create_edge(y, y, knows).unwrap();
    txn.commit().unwrap();

    // Act: detach-delete y (both edges go with it) and replay everything into B.
    let mut txn = s.begin(SI);
    txn.delete_vertex(y, true).unwrap();
    txn.commit().unwrap();
    let b = Recorded::new();
    catch_up(&b, &a.records());

    // Check: B equals A, and x has no edges left.
    assert_same(s, &b.storage, "after detach delete");
    let reader = b.storage.begin(SI);
    assert!(reader.edges(x, Direction::Out, &[]).unwrap().is_empty());
}
