#!/usr/bin/env bash
# Where a running server's memory goes: `weft serve` loaded with the standard social graph
# by `weft bench` (100k persons, 1M KNOWS with a property, UNWIND batches over Bolt), then
# restarted so the same graph comes back from its WAL. After each, the process's resident
# memory and SHOW STORAGE INFO's estimate by owner (vertices, edges, properties, indexes,
# version chains; "other" is resident memory the estimates do not cover). The table goes
# to bench/results/memory-server-<date>.md (commit it).
#   bash bench/memory_server.sh [--persons N] [--edges M]
set -euo pipefail
cd "$(dirname "$0")/.."
persons=100000 edges=1000000
while [ $# -gt 0 ]; do
  case "$1" in
    --persons) persons=$2; shift 2 ;;
    --edges) edges=$2; shift 2 ;;
    *) echo "usage: bash bench/memory_server.sh [--persons N] [--edges M]" >&2; exit 2 ;;
  esac
done
source bench/ports.sh
cargo build --quiet --release -p weft-server
weft=$PWD/target/release/weft
out=target/bench/memory-server
rm -rf "$out" && mkdir -p "$out"
commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- crates Cargo.toml Cargo.lock || commit+=" + uncommitted changes"
bolt=$(free_port) http=$(free_port)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null || true' EXIT

start() {
  "$weft" serve --bolt-address "127.0.0.1:$bolt" --http-address "127.0.0.1:$http" \
    --data-dir "$PWD/$out/data" --wal-sync off --snapshot-interval 0 --snapshot-on-exit false \
    >> "$out/server.log" 2>&1 &
  server=$!
  wait_port "$bolt" "$server" "$out/server.log"
}

# reading NAME: after a pause for the collector, resident memory and the owners' figures.
reading() {
  sleep 3
  "$weft" shell --address "127.0.0.1:$bolt" --format csv -c "SHOW STORAGE INFO" |
    sed -n 's/^"\{0,1\}\(memory_[a-z_]*\)"\{0,1\},\([0-9]*\)$/\1 \2/p' > "$out/$1.txt"
  [ -s "$out/$1.txt" ] || { echo "SHOW STORAGE INFO gave no memory figures" >&2; exit 1; }
}

start
"$weft" bench --address "127.0.0.1:$bolt" --server-pid "$server" --persons "$persons" --edges "$edges" \
  --workloads point --connections 1 --duration 1 --warmup 0 --output "$out/load.json" > /dev/null
reading loaded
kill "$server"; wait "$server" 2>/dev/null || true
started=$(date +%s.%N)
start
until curl -sf "http://127.0.0.1:$http/health" > /dev/null; do sleep 0.1; done
recovery_s=$(python3 -c "print($(date +%s.%N) - $started)")
reading restarted
kill "$server"; wait "$server" 2>/dev/null || true
server=""

date=$(date -u +%Y-%m-%d)
python3 - "$out" "$commit" "$persons" "$edges" "$recovery_s" > "bench/results/memory-server-$date.md" <<'REPORT'
import json, sys, datetime
out, commit, persons, edges, recovery = sys.argv[1:6]
def figures(name):
    return {k: int(v) for k, v in (line.split() for line in open(f"{out}/{name}.txt"))}
loaded, restarted = figures("loaded"), figures("restarted")
load = json.load(open(f"{out}/load.json"))
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
mib = lambda b: f"{b / 1048576:,.1f}"
print("# Where a server's memory goes\n")
print(f"- {now}, commit {commit}; `bash bench/memory_server.sh`; `weft serve --wal-sync off`")
print(f"- standard graph: {int(persons):,} persons (3 properties), {int(edges):,} KNOWS edges (1 property), "
      f"index on :Person(id); loaded by `weft bench` in {load['load_s']:.1f} s; "
      f"restart to /health ready in {float(recovery):.1f} s")
print("- owners: SHOW STORAGE INFO's estimate from the objects' sizes; other = resident memory "
      "minus the owners (allocator rounding and kept free memory, buffers, code, stacks)\n")
print("| owner | after the load, MiB | after a restart from the WAL, MiB |")
print("|---|---:|---:|")
for key in ["memory_vertices", "memory_edges", "memory_properties", "memory_indexes",
            "memory_version_chains", "memory_columns", "memory_other", "memory_res"]:
    name = "resident (total)" if key == "memory_res" else key.removeprefix("memory_").replace("_", " ")
    print(f"| {name} | {mib(loaded[key])} | {mib(restarted[key])} |")
per_edge = (loaded["memory_edges"] + loaded["memory_properties"]) / int(edges)
print(f"\nEdges with their adjacency entries and objects: {loaded['memory_edges'] / int(edges):.0f} B per edge; "
      f"with every property string counted against them, {per_edge:.0f} B.")
REPORT
cat "bench/results/memory-server-$date.md"
