//! Records on their own, for `replay.rs`: a fixed sample covering every op, DDL change
//! and value type; damaged copies of it and random bytes, which must never make decoding
//! or applying panic; and a hostile record with the largest edge id.

use crate::{cases, config, Recorded, SI};
use proptest::prelude::*;
use std::sync::OnceLock;
use weft_common::temporal::{Date, Duration, LocalDateTime, LocalTime, ZonedDateTime};
use weft_storage::record::{CommitRecord, RecordEdge, RecordOp};
use weft_storage::{Gid, Storage, Value};

/// Records covering every op, every DDL change and every value type, from one fixed run.
fn sample_records() -> &'static [Vec<u8>] {
    static RECORDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    RECORDS.get_or_init(|| {
        let a = Recorded::new();
        let s = &a.storage;
        let (person, name, knows) = (s.label("Person"), s.property("name"), s.edge_type("KNOWS"));
        let mut txn = s.begin(SI);
        let v = txn.create_vertex().unwrap();
        let w = txn.create_vertex().unwrap();
        txn.add_label(v, person).unwrap();
        for value in every_value_type() {
            txn.set_vertex_property(v, name, value).unwrap();
        }
        let e = txn.create_edge(v, w, knows).unwrap();
        txn.set_edge_property(&e, name, Value::from("edge")).unwrap();
        txn.commit().unwrap();
        let mut txn = s.begin(SI);
        txn.remove_label(v, person).unwrap();
        txn.delete_edge(&e).unwrap();
        txn.delete_vertex(w, false).unwrap();
        txn.commit().unwrap();
        s.create_label_index("Person").unwrap();
        s.create_label_property_index("Person", "name").unwrap();
        s.create_edge_type_index("KNOWS").unwrap();
        s.create_existence_constraint("City", "name").unwrap();
        s.create_unique_constraint("City", &["name", "age"]).unwrap();
        s.drop_label_index("Person").unwrap();
        s.drop_label_property_index("Person", "name").unwrap();
        s.drop_edge_type_index("KNOWS").unwrap();
        s.drop_existence_constraint("City", "name").unwrap();
        s.drop_unique_constraint("City", &["name", "age"]).unwrap();
        a.records().into_iter().map(|(_, r)| r).collect()
    })
}

fn every_value_type() -> Vec<Value> {
    let date = Date { days: 19_000 };
    let time = LocalTime {
        nanos: 3_600_000_000_123,
    };
    let local = LocalDateTime { date, time };
    let map = [("k".to_string(), Value::Int(1))].into_iter().collect();
    vec![
        Value::Bool(true),
        Value::Int(-7),
        Value::Float(2.5),
        Value::from("text"),
        Value::List(vec![Value::Null, Value::List(vec![Value::Int(1)])]),
        Value::Map(map),
        Value::Date(date),
        Value::LocalTime(time),
        Value::LocalDateTime(local),
        Value::ZonedDateTime(ZonedDateTime {
            local,
            offset_seconds: 3600,
            zone: Some("Europe/Paris".into()),
        }),
        Value::Duration(Duration {
            months: 1,
            days: 2,
            seconds: 3,
            nanos: 4,
        }),
    ]
}

/// Decoding never panics; what decodes re-encodes to something that decodes the same,
/// and its header gives the same timestamp without decoding the rest; applying it to an empty storage never panics, and a failed apply changes nothing.
fn check_damaged(bytes: &[u8]) {
    let peeked = CommitRecord::peek_ts(bytes);
    let Ok(record) = CommitRecord::decode(bytes) else {
        return;
    };
    assert_eq!(
        CommitRecord::decode(&record.encode()).as_ref(),
        Ok(&record),
        "decode∘encode"
    );
    assert_eq!(peeked, Ok(record.ts()), "peeked timestamp");
    let storage = Storage::new();
    if storage.apply(bytes, super::APPLIED).is_err() {
        assert_eq!(storage.dump(), Storage::new().dump(), "a failed apply left traces");
        assert_eq!(storage.last_committed(), 0, "a failed apply moved the clock");
        assert!(storage.index_info().is_empty() && storage.constraint_info().is_empty());
    }
}

#[derive(Clone, Debug)]
enum Damage {
    Truncate(prop::sample::Index),
    FlipBits(Vec<(prop::sample::Index, u8)>),
    Splice(prop::sample::Index, Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    let index = any::<prop::sample::Index>;
    prop_oneof![
        index().prop_map(Damage::Truncate),
        prop::collection::vec((index(), 0..8u8), 1..4).prop_map(Damage::FlipBits),
        (index(), prop::collection::vec(any::<u8>(), 1..6)).prop_map(|(i, b)| Damage::Splice(i, b)),
    ]
}

fn apply_damage(mut bytes: Vec<u8>, damage: &Damage) -> Vec<u8> {
    match damage {
        Damage::Truncate(at) => bytes.truncate(at.index(bytes.len())),
        Damage::FlipBits(flips) => {
            for (at, bit) in flips {
                let i = at.index(bytes.len());
                bytes[i] ^= 1 << bit;
            }
        }
        Damage::Splice(at, junk) => {
            let i = at.index(bytes.len());
            bytes.splice(i..i, junk.iter().copied());
        }
    }
    bytes
}

proptest! {
    #![proptest_config(config(cases(256)))]

    /// Damaged real records: truncated, bit-flipped or with bytes spliced in.
    #[test]
    fn damaged_records_never_panic(which in any::<prop::sample::Index>(), damage in damage()) {
        // Set up: one real record, damaged.
        let records = sample_records();
        let bytes = apply_damage(records[which.index(records.len())].clone(), &damage);

        // Act + check.
        check_damaged(&bytes);
    }

    /// Random bytes, half of them behind a valid header so decoding gets past it.
    #[test]
    fn random_bytes_never_panic(header in any::<bool>(), kind in 0..2u8, rest in prop::collection::vec(any::<u8>(), 0..48)) {
        // Set up: maybe a valid version, kind and timestamp 1 in front.
        let mut bytes = if header { vec![1, kind, 1, 0, 0, 0, 0, 0, 0, 0] } else { Vec::new() };
        bytes.extend(rest);

        // Act + check.
        check_damaged(&bytes);
    }
}

#[test]
fn every_truncation_of_every_sample_record_is_an_error() {
    // Set up: the sample records, intact.
    for bytes in sample_records() {
        // Act + check: intact records decode; every proper prefix is refused.
        assert!(CommitRecord::decode(bytes).is_ok());
        for len in 0..bytes.len() {
            assert!(
                CommitRecord::decode(&bytes[..len]).is_err(),
                "prefix of {len} bytes of {bytes:?} decoded"
            );
        }
    }
}

#[test]
fn sample_records_replay_to_the_same_storage() {
    // Set up: the fixed run's records.
    let records = sample_records();
    let b = Storage::new();

    // Act: replay them.
    for bytes in records {
        b.apply(bytes, super::APPLIED).unwrap();
    }

    // Check: the final graph holds v with the last value and nothing else.
    let dump = b.dump();
    assert_eq!(dump.vertices.len(), 1);
    assert!(dump.edges.is_empty());
    let v = dump.vertices.values().next().unwrap();
    assert!(v.labels.is_empty());
    assert_eq!(v.props.get("name"), every_value_type().last());
    assert!(b.index_info().is_empty() && b.constraint_info().is_empty());
    assert_eq!(b.last_committed(), records.len() as u64);
}

/// Object ids are never reused (`weft_common::ids`). A record carrying the largest edge
/// id (a damaged or hostile stream can: records have no checksum) must not make local
/// edge creation hand that id out again or wrap around to ids already used.
#[test]
fn a_replayed_edge_id_at_the_top_of_the_range_is_never_handed_out_again() {
    // Set up: apply a record that creates edge u64::MAX (the storage may also refuse it).
    let record = CommitRecord::Transaction {
        ts: 1,
        ops: vec![
            RecordOp::CreateVertex(0),
            RecordOp::CreateEdge(RecordEdge {
                gid: u64::MAX,
                from: 0,
                to: 0,
                edge_type: "KNOWS".into(),
            }),
        ],
    };
    let b = Storage::new();
    let applied = b.apply(&record.encode(), super::APPLIED);

    // Act: create two edges locally.
    let knows = b.edge_type("KNOWS");
    let mut txn = b.begin(SI);
    let v = txn.create_vertex().unwrap();
    let created: Vec<Gid> = (0..2)
        .filter_map(|_| txn.create_edge(v, v, knows).ok())
        .map(|e| e.gid)
        .collect();

    // Check: every id handed out was free (refusing with an error is fine).
    let mut taken = if applied.is_ok() {
        vec![Gid(u64::MAX)]
    } else {
        Vec::new()
    };
    for gid in created {
        assert!(
            !taken.contains(&gid),
            "edge id {gid} handed out while in use (apply gave {applied:?})"
        );
        taken.push(gid);
    }
}
