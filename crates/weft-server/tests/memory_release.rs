//! `weft_server::memory` under the allocator `weft serve` runs on: pages the program has
//! freed leave the process's resident set when released, instead of staying resident
//! until the allocator next happens to touch them.

use mimalloc::MiMalloc;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

const MIB: u64 = 1024 * 1024;

/// This process's resident memory, from `/proc/self/status`.
fn resident() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("reading /proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line");
    kib * 1024
}

#[test]
fn freed_pages_leave_the_resident_set_when_released() {
    // Set up: 256 MiB in 64 KiB blocks, every byte written so it is resident.
    let before = resident();
    let blocks: Vec<Vec<u8>> = (0..4096).map(|_| vec![1u8; 64 * 1024]).collect();
    let peak = resident();
    assert!(
        peak >= before + 200 * MIB,
        "the blocks should be resident: {before} -> {peak}"
    );

    // Act: free them all, then release.
    drop(blocks);
    weft_server::memory::release_free_memory();

    // Check: the process is back near where it started.
    let after = resident();
    assert!(
        after < before + 64 * MIB,
        "resident memory stayed at {} MiB after the release (started at {} MiB, peaked at {} MiB)",
        after / MIB,
        before / MIB,
        peak / MIB
    );
}

#[test]
fn pages_another_thread_freed_leave_when_this_one_releases() {
    // Set up: a thread that writes 256 MiB, frees it, and stays alive without touching
    // the allocator again (as a worker does when the server goes idle).
    let before = resident();
    let (freed, stay) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
    let (freed_tx, freed_rx) = freed;
    let (stay_tx, stay_rx) = stay;
    let worker = std::thread::spawn(move || {
        let blocks: Vec<Vec<u8>> = (0..4096).map(|_| vec![1u8; 64 * 1024]).collect();
        drop(blocks);
        freed_tx.send(()).unwrap();
        let _ = stay_rx.recv();
    });
    freed_rx.recv().unwrap();

    // Act: release from this thread, as the collector's thread does.
    weft_server::memory::release_free_memory();

    // Check, then let the worker go.
    let after = resident();
    stay_tx.send(()).unwrap();
    worker.join().unwrap();
    assert!(
        after < before + 64 * MIB,
        "resident memory stayed at {} MiB after the release (started at {} MiB)",
        after / MIB,
        before / MIB
    );
}
