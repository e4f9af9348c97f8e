//! Snapshots: a written snapshot loads back into the same graph (ids, schema, timestamp),
//! a snapshot taken while commits go on shows exactly the commits at or below its
//! timestamp, WAL-style records apply after it, and any damage to the file is refused with
//! an error naming it, never a panic.

mod sinks;

use sinks::RecordingSink;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use weft_common::temporal::{self, Date, LocalDateTime, LocalTime, ZonedDateTime, ZonedTime};
use weft_storage::durability::frame::{encode_frame, FrameRead, FrameReader};
use weft_storage::durability::{list_snapshots, load_snapshot, write_snapshot, DurabilityError, Uuid};
use weft_storage::{Direction, Gid, IsolationLevel, Origin, Storage, Value};

const SI: IsolationLevel = IsolationLevel::SnapshotIsolation;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One value of every type in turn, nested ones and temporal ones included.
fn value(rng: &mut Rng) -> Value {
    let time = LocalTime {
        nanos: rng.below(temporal::NANOS_PER_DAY as u64) as i64,
    };
    let date = Date {
        days: rng.below(40_000) as i64 - 20_000,
    };
    match rng.below(13) {
        0 => Value::Bool(rng.below(2) == 0),
        1 => Value::Int(rng.next() as i64),
        2 => Value::Float(rng.below(1000) as f64 / 7.0),
        3 => Value::from(format!("s{}", rng.below(100)).as_str()),
        4 => Value::List(vec![Value::Int(1), Value::from("x"), Value::List(vec![])]),
        5 => Value::Map(BTreeMap::from([("k".to_string(), Value::Int(rng.below(9) as i64))])),
        6 => Value::Date(date),
        7 => Value::LocalTime(time),
        8 => Value::ZonedTime(ZonedTime {
            time,
            offset_seconds: 3600,
        }),
        9 => Value::LocalDateTime(LocalDateTime { date, time }),
        10 => Value::ZonedDateTime(ZonedDateTime {
            local: LocalDateTime { date, time },
            offset_seconds: -7200,
            zone: Some("America/Sao_Paulo".into()),
        }),
        11 => Value::Duration(temporal::Duration {
            months: 3,
            days: -2,
            seconds: rng.below(100_000) as i64,
            nanos: 5,
        }),
        _ => Value::String(String::new()),
    }
}

/// A random graph with a schema, deleted vertices and edges, removed properties and
/// unlabelled vertices; returns the storage.
fn random_graph(seed: u64, vertices: usize) -> Storage {
    let storage = Storage::new();
    storage.create_label_index("A").unwrap();
    storage.create_label_property_index("B", "p0").unwrap();
    storage.create_label_property_index("A", "p1").unwrap();
    storage.create_edge_type_index("T1").unwrap();
    storage.create_existence_constraint("C", "id").unwrap();
    storage.create_unique_constraint("C", &["id"]).unwrap();
    let mut rng = Rng(seed | 1);
    let labels: Vec<_> = ["A", "B", "C", "D"].iter().map(|l| storage.label(l)).collect();
    let props: Vec<_> = (0..5).map(|i| storage.property(&format!("p{i}"))).collect();
    let (id, types) = (
        storage.property("id"),
        [storage.edge_type("T0"), storage.edge_type("T1")],
    );
    let mut gids = Vec::new();
    for chunk in 0..vertices.div_ceil(100) {
        let mut txn = storage.begin(SI);
        for i in 0..100.min(vertices - chunk * 100) {
            let gid = txn.create_vertex().unwrap();
            let label = labels[rng.below(5) as usize % 4];
            if rng.below(5) > 0 {
                txn.add_label(gid, label).unwrap();
            }
            if label == labels[2] || rng.below(3) == 0 {
                txn.add_label(gid, labels[2]).unwrap();
                txn.set_vertex_property(gid, id, Value::Int((chunk * 100 + i) as i64))
                    .unwrap();
            }
            for _ in 0..rng.below(4) {
                let p = props[rng.below(5) as usize];
                txn.set_vertex_property(gid, p, value(&mut rng)).unwrap();
            }
            gids.push(gid);
        }
        for _ in 0..150 {
            let (a, b) = (
                gids[rng.below(gids.len() as u64) as usize],
                gids[rng.below(gids.len() as u64) as usize],
            );
            let e = txn.create_edge(a, b, types[rng.below(2) as usize]).unwrap();
            if rng.below(2) == 0 {
                txn.set_edge_property(&e, props[rng.below(5) as usize], value(&mut rng))
                    .unwrap();
            }
        }
        txn.commit().unwrap();
    }
    // Deletions and property removals in later transactions.
    let mut txn = storage.begin(SI);
    for gid in gids.iter().step_by(17) {
        txn.delete_vertex(*gid, true).unwrap();
    }
    for gid in gids.iter().skip(3).step_by(13) {
        if let Ok(edges) = txn.edges(*gid, Direction::Out, &[]) {
            if let Some(e) = edges.first() {
                txn.delete_edge(e).unwrap();
            }
            let _ = txn.set_vertex_property(*gid, props[0], Value::Null);
        }
    }
    txn.commit().unwrap();
    storage
}

fn assert_same(a: &Storage, b: &Storage) {
    assert_eq!(a.dump(), b.dump());
    assert_eq!(a.index_info(), b.index_info());
    assert_eq!(a.constraint_info(), b.constraint_info());
    assert_eq!(a.last_committed(), b.last_committed());
}

#[test]
fn round_trip_keeps_graph_schema_timestamp_and_ids() {
    // Set up: a random graph and its snapshot.
    let dir = tempfile::tempdir().unwrap();
    let db = Uuid::new_v4();
    let original = random_graph(7, 1500);
    let info = write_snapshot(&original, dir.path(), db, 3).unwrap();

    // Act: load it.
    let (loaded, loaded_info) = load_snapshot(&info.path, db).unwrap();

    // Check: same graph, schema and timestamp; the info agrees with the file.
    assert_same(&original, &loaded);
    assert_eq!(info, loaded_info);
    assert_eq!(info.ts, original.last_committed());
    assert_eq!(info.vertices as usize, original.dump().vertices.len());
    assert_eq!(info.edges as usize, original.dump().edges.len());
    assert!(info.path.ends_with(format!("snapshot-{:020}.snap", info.ts)));
    let taken = original
        .dump()
        .vertices
        .values()
        .find_map(|v| v.labels.contains("C").then(|| v.props["id"].clone()))
        .unwrap();
    let unique_clash = {
        let (c, id) = (loaded.label("C"), loaded.property("id"));
        let mut txn = loaded.begin(SI);
        let v = txn.create_vertex().unwrap();
        txn.add_label(v, c).unwrap();
        txn.set_vertex_property(v, id, taken).unwrap();
        txn.commit()
    };
    assert!(unique_clash.is_err(), "the unique constraint holds over loaded data");
    let b = loaded.label("B");
    let p0 = loaded.property("p0");
    let txn = loaded.begin(SI);
    let old = original.begin(SI);
    let probe = Value::from("s1");
    let index_hits = txn.vertices_with_property(b, p0, &probe);
    assert_eq!(index_hits, old.vertices_with_property(b, p0, &probe));
    // Every index, filled together on load, holds what the original's does; every edge
    // type's sources were rebuilt.
    for (l, p) in [("A", "p1"), ("B", "p0"), ("C", "id")] {
        let all = |s: &Storage, t: &weft_storage::Transaction| {
            let mut hits = t.vertices_in_range(s.label(l), s.property(p), Bound::Unbounded, Bound::Unbounded);
            hits.sort();
            hits
        };
        let hits = all(&loaded, &txn);
        assert!(!hits.is_empty(), ":{l}({p})");
        assert_eq!(hits, all(&original, &old), ":{l}({p})");
    }
    for t in ["T0", "T1"] {
        let ends = |s: &Storage, txn: &weft_storage::Transaction| {
            let edges = txn.edges_with_type(s.edge_type(t));
            edges.iter().map(|e| (e.gid, e.from, e.to)).collect::<Vec<_>>()
        };
        assert_eq!(ends(&loaded, &txn), ends(&original, &old), "{t}");
    }
    drop((txn, old));

    // Check: new ids collide with nothing the snapshot held, vertex or edge.
    let before = original.dump();
    let mut txn = loaded.begin(SI);
    let v = txn.create_vertex().unwrap();
    let e = txn.create_edge(v, v, loaded.edge_type("T0")).unwrap();
    assert!(v.0 > *before.vertices.keys().last().unwrap());
    assert!(!before.vertices.contains_key(&v.0));
    assert!(!before.edges.contains_key(&e.gid.0) && e.gid.0 > *before.edges.keys().last().unwrap());
    txn.commit().unwrap();
}

#[test]
fn empty_storage_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let db = Uuid::new_v4();
    let info = write_snapshot(&Storage::new(), dir.path(), db, 0).unwrap();
    let (loaded, _) = load_snapshot(&info.path, db).unwrap();
    assert_same(&Storage::new(), &loaded);
    assert_eq!((info.ts, info.vertices, info.edges), (0, 0, 0));
}

#[test]
fn snapshot_under_concurrent_commits_is_the_graph_at_its_timestamp_and_wal_applies_after() {
    // Set up: a graph, a record of every commit, and writers that keep committing.
    let dir = tempfile::tempdir().unwrap();
    let db = Uuid::new_v4();
    let original = Storage::new();
    let sink = RecordingSink::new("replica");
    sink.attach(&original);
    let stop = Arc::new(AtomicBool::new(false));
    let info = std::thread::scope(|s| {
        for t in 0..3u64 {
            let (storage, stop) = (original.clone(), stop.clone());
            s.spawn(move || writer(&storage, &stop, t));
        }
        std::thread::sleep(Duration::from_millis(100));
        original.create_label_property_index("W", "n").unwrap();

        // Act: snapshots while the writers go on.
        let first = write_snapshot(&original, dir.path(), db, 1).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let second = write_snapshot(&original, dir.path(), db, 1).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        stop.store(true, Ordering::SeqCst);
        [first, second]
    });

    // Check: each snapshot is the graph that replaying the commits up to its timestamp
    // gives; records after it apply to the loaded graph and reach the final state.
    let records: Vec<(u64, Vec<u8>)> = sink.received().into_iter().map(|r| (r.ts, r.record)).collect();
    for snap in &info {
        let reference = Storage::new();
        for (_, record) in records.iter().filter(|(ts, _)| *ts <= snap.ts) {
            reference.apply(record, Origin::Applied { epoch: 1 }).unwrap();
        }
        let (loaded, _) = load_snapshot(&snap.path, db).unwrap();
        assert_same(&reference, &loaded);
        for (_, record) in records.iter().filter(|(ts, _)| *ts > snap.ts) {
            loaded.apply(record, Origin::Applied { epoch: 1 }).unwrap();
        }
        assert_same(&original, &loaded);
    }
    assert!(info[0].ts < info[1].ts, "commits went on between the snapshots");
    assert!(
        records.last().unwrap().0 > info[1].ts,
        "commits went on after the snapshots"
    );
}

/// Commits small transactions on its own vertices until told to stop.
fn writer(storage: &Storage, stop: &AtomicBool, t: u64) {
    let (w, n, kind) = (storage.label("W"), storage.property("n"), storage.edge_type("NEXT"));
    let mut mine: Vec<Gid> = Vec::new();
    let mut i = 0i64;
    while !stop.load(Ordering::SeqCst) {
        let mut txn = storage.begin(SI);
        let v = txn.create_vertex().unwrap();
        txn.add_label(v, w).unwrap();
        txn.set_vertex_property(v, n, Value::Int(i * 10 + t as i64)).unwrap();
        if let Some(prev) = mine.last() {
            let e = txn.create_edge(*prev, v, kind).unwrap();
            txn.set_edge_property(&e, n, Value::Int(i)).unwrap();
        }
        if i % 7 == 3 {
            txn.delete_vertex(mine.remove(0), true).unwrap();
        }
        txn.commit().unwrap();
        mine.push(v);
        i += 1;
    }
}

/// Asserts that loading `bytes` (written as the snapshot file at `path`) fails with a
/// corruption error naming the file.
fn assert_refused(path: &Path, bytes: &[u8], db: Uuid, what: &str) {
    std::fs::write(path, bytes).unwrap();
    match load_snapshot(path, db) {
        Ok(_) => panic!("{what}: a damaged snapshot loaded"),
        Err(e) => {
            assert!(e.is_corruption(), "{what}: {e}");
            let name = path.file_name().unwrap().to_str().unwrap();
            assert!(e.to_string().contains(name), "{what}: {e}");
        }
    }
}

#[test]
fn truncation_and_byte_flips_anywhere_are_refused_naming_the_file() {
    // Set up: a small snapshot (several frames of every kind).
    let dir = tempfile::tempdir().unwrap();
    let db = Uuid::new_v4();
    let original = random_graph(11, 40);
    let info = write_snapshot(&original, dir.path(), db, 0).unwrap();
    let good = std::fs::read(&info.path).unwrap();
    let damaged = dir.path().join("snapshot-00000000000000000099.snap");

    // Act + check: a cut at every frame boundary and at every few bytes between, and a
    // flip of every few bytes (each of the header's), the bit moving along.
    let mut boundaries = vec![64];
    let mut frames = FrameReader::new(&good, 64);
    while let FrameRead::Frame { .. } = frames.next_frame() {
        boundaries.push(frames.position() as usize);
    }
    assert!(boundaries.len() > 6, "several frames: {boundaries:?}");
    let offsets: Vec<usize> = (0..good.len()).filter(|i| *i < 64 || i % 5 == 0).collect();
    for len in boundaries.iter().chain(&offsets).filter(|l| **l < good.len()) {
        assert_refused(&damaged, &good[..*len], db, &format!("cut at {len}"));
    }
    for at in offsets.iter().chain(boundaries.iter().filter(|b| **b < good.len())) {
        let mut bytes = good.clone();
        bytes[*at] ^= 1 << (at % 8);
        assert_refused(&damaged, &bytes, db, &format!("flip at {at}"));
    }
    let mut longer = good.clone();
    longer.extend_from_slice(&good[64..100]);
    assert_refused(&damaged, &longer, db, "bytes after the footer");

    // Check: the intact file still loads.
    std::fs::write(&damaged, &good).unwrap();
    assert_same(&original, &load_snapshot(&damaged, db).unwrap().0);
}

#[test]
fn another_databases_snapshot_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (db, other) = (Uuid::new_v4(), Uuid::new_v4());
    let info = write_snapshot(&random_graph(3, 10), dir.path(), db, 0).unwrap();
    for error in [
        load_snapshot(&info.path, other).err(),
        list_snapshots(dir.path(), other).err(),
    ] {
        match error {
            Some(e @ DurabilityError::ForeignDatabase { .. }) => {
                assert!(e.to_string().contains(info.path.to_str().unwrap()), "{e}")
            }
            other => panic!("expected a foreign database error, got {other:?}"),
        }
    }
}

#[test]
fn listing_reads_headers_skips_temporaries_and_damaged_files() {
    // Set up: three snapshots at different timestamps, a leftover temporary file and a
    // truncated snapshot.
    let dir = tempfile::tempdir().unwrap();
    let db = Uuid::new_v4();
    let storage = random_graph(5, 30);
    let mut written = vec![write_snapshot(&storage, dir.path(), db, 0).unwrap()];
    for _ in 0..2 {
        let mut txn = storage.begin(SI);
        txn.create_vertex().unwrap();
        txn.commit().unwrap();
        written.push(write_snapshot(&storage, dir.path(), db, 0).unwrap());
    }
    std::fs::write(dir.path().join("snapshot-00000000000000009999.snap.tmp"), b"partial").unwrap();
    let bytes = std::fs::read(&written[2].path).unwrap();
    let cut = dir.path().join("snapshot-00000000000000099999.snap");
    std::fs::write(&cut, &bytes[..bytes.len() - 1]).unwrap();

    // Act + check: the good ones, oldest first, as writing reported them.
    assert_eq!(list_snapshots(dir.path(), db).unwrap(), written);
    assert_eq!(list_snapshots(&dir.path().join("missing"), db).unwrap(), vec![]);
}

#[test]
fn large_graph_round_trips_through_parallel_frames() {
    // Set up: more vertices than one frame holds, so several workers encode and decode.
    let dir = tempfile::tempdir().unwrap();
    let db = Uuid::new_v4();
    let storage = Storage::new();
    let (l, p, t) = (storage.label("L"), storage.property("p"), storage.edge_type("T"));
    for chunk in 0..20u64 {
        let mut txn = storage.begin(SI);
        let gids: Vec<Gid> = (0..10_000).map(|_| txn.create_vertex().unwrap()).collect();
        for (i, gid) in gids.iter().enumerate() {
            txn.add_label(*gid, l).unwrap();
            txn.set_vertex_property(*gid, p, Value::Int((chunk * 10_000) as i64 + i as i64))
                .unwrap();
            txn.create_edge(*gid, gids[(i * 7 + 1) % gids.len()], t).unwrap();
        }
        txn.commit().unwrap();
    }

    // Act: write and load, timed.
    let started = Instant::now();
    let info = write_snapshot(&storage, dir.path(), db, 0).unwrap();
    let wrote = started.elapsed();
    let started = Instant::now();
    let (loaded, _) = load_snapshot(&info.path, db).unwrap();
    eprintln!(
        "200k vertices + 200k edges: {} bytes, written in {wrote:?}, loaded in {:?}",
        info.bytes,
        started.elapsed()
    );

    // Check.
    assert_eq!((info.vertices, info.edges), (200_000, 200_000));
    assert_same(&storage, &loaded);
}

/// The snapshot file's frames rewritten by `change` (each payload, kind byte first), the
/// footer's frame count following.
fn rewrite_frames(bytes: &[u8], change: impl Fn(Vec<u8>) -> Option<Vec<u8>>) -> Vec<u8> {
    let mut out = bytes[..64].to_vec();
    let mut reader = FrameReader::new(bytes, 64);
    let mut frames = 0u64;
    while let FrameRead::Frame { payload, .. } = reader.next_frame() {
        let payload = if payload[0] == 6 {
            let mut footer = payload.to_vec();
            footer[17..25].copy_from_slice(&frames.to_le_bytes());
            footer
        } else {
            match change(payload.to_vec()) {
                Some(p) => p,
                None => continue,
            }
        };
        frames += 1;
        encode_frame(&[&payload], &mut out).unwrap();
    }
    out
}

#[test]
fn a_version_2_snapshot_stores_each_edge_with_both_ends_and_refuses_halves_that_disagree() {
    // Set up: a -[T {w: 1}]-> b, snapshotted.
    let dir = tempfile::tempdir().unwrap();
    let db = Uuid::new_v4();
    let storage = Storage::new();
    let mut txn = storage.begin(SI);
    let (a, b) = (txn.create_vertex().unwrap(), txn.create_vertex().unwrap());
    let e = txn.create_edge(a, b, storage.edge_type("T")).unwrap();
    txn.set_edge_property(&e, storage.property("w"), Value::Int(1)).unwrap();
    txn.commit().unwrap();
    let info = write_snapshot(&storage, dir.path(), db, 0).unwrap();
    let good = std::fs::read(&info.path).unwrap();

    // Check: the header says version 2, and the graph frame holds each vertex with both
    // lists: a's out entry (type 0, b, edge 0 with properties) and b's in entry (type 0, a,
    // edge 0).
    assert_eq!(&good[8..10], &2u16.to_le_bytes());
    let mut graph = None;
    let mut reader = FrameReader::new(&good, 64);
    while let FrameRead::Frame { payload, .. } = reader.next_frame() {
        if payload[0] == 7 {
            graph = Some(payload.to_vec());
        }
    }
    let graph = graph.expect("a graph frame");
    assert_eq!(graph, [7, 2, 0, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0]);

    // Act + check: b's in entry naming b itself as the source, checksum made good, is
    // refused; so is the file without its edge property frame.
    let damaged = dir.path().join("snapshot-00000000000000000099.snap");
    let bent = rewrite_frames(&good, |mut p| {
        if p[0] == 7 {
            p[16] = 1;
        }
        Some(p)
    });
    assert_refused(&damaged, &bent, db, "halves disagree");
    let err = load_snapshot(&damaged, db).err().unwrap().to_string();
    assert!(err.contains("adjacency lists of the snapshot do not match"), "{err}");
    let bare = rewrite_frames(&good, |p| (p[0] != 8).then_some(p));
    assert_refused(&damaged, &bare, db, "edge properties missing");
    let err = load_snapshot(&damaged, db).err().unwrap().to_string();
    assert!(err.contains("edge properties of the snapshot do not match"), "{err}");

    // Act + check: a graph frame twice, and a version 1 vertex frame in a version 2
    // file, are refused too.
    let repeated = {
        let mut out = good[..64].to_vec();
        let mut reader = FrameReader::new(&good, 64);
        let mut frames = 0u64;
        while let FrameRead::Frame { payload, .. } = reader.next_frame() {
            let copies = if payload[0] == 7 { 2 } else { 1 };
            for _ in 0..copies {
                let mut p = payload.to_vec();
                if p[0] == 6 {
                    p[17..25].copy_from_slice(&frames.to_le_bytes());
                }
                frames += 1;
                encode_frame(&[&p], &mut out).unwrap();
            }
        }
        out
    };
    assert_refused(&damaged, &repeated, db, "a graph frame twice");
    let err = load_snapshot(&damaged, db).err().unwrap().to_string();
    assert!(err.contains("vertex id appears twice"), "{err}");
    let old_kind = rewrite_frames(&good, |mut p| {
        if p[0] == 7 {
            p[0] = 3;
        }
        Some(p)
    });
    assert_refused(&damaged, &old_kind, db, "a version 1 frame");
    let err = load_snapshot(&damaged, db).err().unwrap().to_string();
    assert!(err.contains("frame kind unknown to this snapshot's version"), "{err}");

    // Check: rewritten unchanged, it loads as the original.
    std::fs::write(&damaged, rewrite_frames(&good, Some)).unwrap();
    assert_same(&storage, &load_snapshot(&damaged, db).unwrap().0);
}

#[test]
fn a_version_1_snapshot_still_loads() {
    // Set up: a snapshot written by the version 1 writer (before 2026-12-07) of
    // `random_graph(11, 300)` for this database id.
    let dir = tempfile::tempdir().unwrap();
    let db = Uuid::from_u128(0x5eed_0001);
    let path = dir.path().join("snapshot-00000000000000000010.snap");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/snapshot-v1.snap"),
        &path,
    )
    .unwrap();
    assert_eq!(&std::fs::read(&path).unwrap()[8..10], &1u16.to_le_bytes());

    // Act: load it.
    let (loaded, info) = load_snapshot(&path, db).unwrap();

    // Check: the same graph, schema and timestamp as the graph built again here.
    assert_same(&random_graph(11, 300), &loaded);
    assert_eq!((info.ts, info.epoch), (loaded.last_committed(), 2));
}
