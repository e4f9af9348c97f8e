//! Random operations against durability on a faulty disk, checked against a trivial
//! model: commits, snapshots, epoch advances, failing fsyncs, a disk that fills up, clean restarts and
//! crashes cutting unsynced tails anywhere. Deterministic (seeded) and bounded.
//!
//! The model is two numbers: commits issued and commits acknowledged. After every restart
//! the database must hold commits `0..k`, each whole, with `acknowledged <= k <= issued`.

mod commits;

use commits::{commit, commits};
use std::sync::Arc;
use weft_storage::durability::io::faulty::{FaultyFs, SyncFault, Tail};
use weft_storage::durability::{Durability, DurabilityConfig};
use weft_storage::StorageError;

/// A small deterministic generator (PCG-style LCG, high bits).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn open(fs: &FaultyFs) -> Arc<Durability> {
    let config = DurabilityConfig {
        wal_segment_size: 700,
        snapshot_retention: 2,
        ..DurabilityConfig::new("/db")
    };
    Durability::open_with(config, Arc::new(fs.clone())).expect("recovery never fails after a crash")
}

/// The model: commits issued (ids `0..issued`) and acknowledged (`0..acked`).
struct Model {
    issued: i64,
    acked: i64,
    /// A commit failed: the WAL refuses writes until a restart.
    broken: bool,
}

/// Heals the disk, restarts (after a crash if `crash`), checks the model, resets it.
fn restart(
    fs: &FaultyFs,
    durability: Arc<Durability>,
    model: &mut Model,
    rng: &mut Rng,
    crash: bool,
) -> Arc<Durability> {
    drop(durability);
    if crash {
        let cuts: Vec<u64> = (0..8).map(|_| rng.below(4000)).collect();
        let zeros = rng.below(2) == 0;
        fs.crash(|path, len| {
            let cut = cuts[path.as_os_str().len() % cuts.len()] as usize % (len + 1);
            if zeros {
                Tail::KeepThenZeros(cut)
            } else {
                Tail::Keep(cut)
            }
        });
    }
    fs.fail_syncs(SyncFault::Never);
    fs.set_capacity(None);
    let reopened = open(fs);
    let found = commits(&reopened.storage());
    let k = found.len() as i64;
    assert_eq!(found, (0..k).collect::<Vec<_>>(), "not a prefix");
    assert!(
        model.acked <= k && k <= model.issued,
        "{} <= {k} <= {}",
        model.acked,
        model.issued
    );
    *model = Model {
        issued: k,
        acked: k,
        broken: false,
    };
    reopened
}

#[test]
fn random_operations_on_a_faulty_disk_keep_every_acknowledged_commit() {
    for seed in 1..=40u64 {
        let mut rng = Rng(seed);
        let fs = FaultyFs::new();
        let mut durability = open(&fs);
        let mut model = Model {
            issued: 0,
            acked: 0,
            broken: false,
        };
        for _ in 0..150 {
            match rng.below(100) {
                0..=64 if !model.broken => {
                    let n = model.issued;
                    model.issued += 1;
                    match commit(&durability.storage(), n) {
                        Ok(_) => model.acked = model.issued,
                        Err(e) => {
                            assert!(matches!(&e, StorageError::Commit(c) if c.is_fatal()), "{e}");
                            model.broken = true;
                        }
                    }
                }
                65..=71 => {
                    // A snapshot may fail on an injected fault; it never loses commits.
                    let _ = durability.create_snapshot();
                }
                72..=74 => {
                    // So may an epoch advance (which stops the WAL if sealing fails).
                    if durability.advance_epoch().is_err() {
                        model.broken = true;
                    }
                }
                75..=82 => fs.fail_syncs(SyncFault::Nth(1 + rng.below(4))),
                83..=88 => fs.set_capacity(Some(fs.used() + rng.below(600))),
                89..=93 => durability = restart(&fs, durability, &mut model, &mut rng, false),
                _ => durability = restart(&fs, durability, &mut model, &mut rng, true),
            }
        }
        restart(&fs, durability, &mut model, &mut rng, true);
    }
}
