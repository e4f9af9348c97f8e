#!/usr/bin/env bash
# Memory per vertex and per edge, measured from the allocator by the storage example,
# compared with Memgraph's documented estimate (about 204 B per vertex, 154 B per edge;
# see their "storage memory usage" docs). Our target is at most half of it.
#   bash bench/memory.sh [--check] [VERTICES EDGES]     (default 1000000 10000000)
# --check exits non-zero when a figure is above the target.
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi
vertices=${1:-1000000}
edges=${2:-10000000}

line=$(cargo run --quiet --release -p weft-storage --example memory -- "$vertices" "$edges" | tail -n 1)
echo "$line"
per_vertex=$(sed -E 's/.*bytes_per_vertex=([0-9]+).*/\1/' <<<"$line")
per_edge=$(sed -E 's/.*bytes_per_edge=([0-9]+).*/\1/' <<<"$line")
awk -v v="$per_vertex" -v e="$per_edge" 'BEGIN {
  printf "ratio to Memgraph estimate: vertex %.2f (204 B), edge %.2f (154 B); target <= 0.50\n", v / 204, e / 154
}'
if [ "$check" = 1 ] && { [ "$per_vertex" -gt 102 ] || [ "$per_edge" -gt 77 ]; }; then
  echo "memory figure above target (102 B per vertex, 77 B per edge)" >&2
  exit 1
fi
