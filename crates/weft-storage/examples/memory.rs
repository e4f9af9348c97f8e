//! Measures memory per vertex and per edge from the allocator.
//!
//! `cargo run --release -p weft-storage --example memory -- VERTICES EDGES`
//!
//! Builds VERTICES vertices with one label and no properties, then EDGES edges of one
//! type between random vertices, committing in batches like a bulk load would, runs
//! garbage collection, and divides the live heap growth of each phase by its object
//! count. The allocator is mimalloc wrapped in a counter of the live bytes of its blocks
//! (size-class rounding included), so the figure is measured, not estimated from struct
//! sizes.

#[path = "../tests/support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{live_bytes, Counting};
use weft_storage::{Gid, IsolationLevel, Storage};

#[global_allocator]
static GLOBAL: Counting = Counting;

const BATCH: u64 = 10_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<u64> = std::env::args().skip(1).map(|a| a.parse()).collect::<Result<_, _>>()?;
    let [vertices, edges] = args[..] else {
        return Err("usage: memory VERTICES EDGES".into());
    };
    if vertices == 0 {
        return Err("VERTICES must be at least 1".into());
    }
    let storage = Storage::new();
    let label = storage.label("Node");
    let edge_type = storage.edge_type("LINK");
    storage.collect_garbage();
    let base = live_bytes();

    // Vertices, committed in batches.
    let mut done = 0;
    while done < vertices {
        let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
        for _ in done..(done + BATCH).min(vertices) {
            let gid = txn.create_vertex()?;
            txn.add_label(gid, label)?;
        }
        txn.commit()?;
        done = (done + BATCH).min(vertices);
    }
    storage.collect_garbage();
    let after_vertices = live_bytes();

    // Edges between pseudo-random vertices (xorshift, fixed seed), committed in batches.
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut done = 0;
    while done < edges {
        let mut txn = storage.begin(IsolationLevel::SnapshotIsolation);
        for _ in done..(done + BATCH).min(edges) {
            let (from, to) = (Gid(next() % vertices), Gid(next() % vertices));
            txn.create_edge(from, to, edge_type)?;
        }
        txn.commit()?;
        done = (done + BATCH).min(edges);
        if done % 1_000_000 == 0 {
            eprintln!("{done} edges");
        }
    }
    let stats = storage.collect_garbage();
    let after_edges = live_bytes();
    eprintln!("gc: {stats:?}");

    let per_vertex = (after_vertices - base) as f64 / vertices as f64;
    let per_edge = if edges == 0 {
        0.0
    } else {
        (after_edges - after_vertices) as f64 / edges as f64
    };
    println!("memory: bytes_per_vertex={per_vertex:.0} bytes_per_edge={per_edge:.0}");
    Ok(())
}
