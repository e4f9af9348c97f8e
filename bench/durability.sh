#!/usr/bin/env bash
# Durable commit throughput and recovery speed, each beside the disk's own rate measured in
# the same run: commits/s under the WAL sync policies `always` and `off` with 1, 8 and 32
# committing threads next to the raw fsync rate (append 100 B + fdatasync), and recovery
# from the WAL and from a snapshot of 1M vertices + 10M edges next to the sequential read
# rate of the WAL files just written. Prints markdown tables (see bench/README.md).
#   bash bench/durability.sh [--quick] [--seconds S] [--clients 1,8,32]
#                            [--vertices N] [--edges M] [--no-commits] [--no-recovery]
# --quick: 1 s windows and 20k vertices + 200k edges. The data directory is under target/
# (the file system a real data directory would be on, not a tmpfs /tmp) and is removed at
# the end. Run as root to measure recovery with a cold page cache (drop_caches).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="target/bench/durability-$$"
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir"
echo "# durability $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
cargo run --quiet --release -p weft-storage --example durability_bench -- --dir "$dir/data" "$@"
