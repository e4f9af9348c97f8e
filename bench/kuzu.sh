#!/usr/bin/env bash
# Weft beside Kuzu, both embedded, in one run on the standard social graph (100k persons,
# 1M KNOWS, seed 42): point, hop1, hop2 and agg with the same query text and start ids,
# each for a time budget. Weft through `Engine::execute` (bench/query.sh), Kuzu through its
# Python API (bench/kuzu_bench.py; its per-call Python cost, some microseconds, counts against
# it). Writes the side-by-side table to bench/results/kuzu-<date>.md (commit it).
#   bash bench/kuzu.sh [SECONDS_PER_QUERY]      (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-3}
shared=${WEFT_SHARED_DIR:-../shared}
data=${WEFT_BENCH_DATA:-target/bench/social}
out=target/bench/kuzu
mkdir -p "$out"
if [ ! -f "$data/knows.csv" ]; then
  echo "generating the social graph into $data (a minute or so)..." >&2
  python3 "$shared/bench/gen_graph.py" --out "$data" --persons 100000 --edges 1000000 --seed 42 >/dev/null
fi
venv=target/kuzu-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check kuzu
commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- crates Cargo.toml Cargo.lock || commit+=" + uncommitted changes"

echo "== Weft (in process)" >&2
bash bench/query.sh "$seconds" | tee "$out/weft.txt" >&2
echo "== Kuzu (embedded, Python API)" >&2
"$venv/bin/python" bench/kuzu_bench.py "$data" "$seconds" "$out/kuzu.json" >&2

date=$(date -u +%Y-%m-%d)
python3 - "$out" "$commit" "$seconds" > "bench/results/kuzu-$date.md" <<'REPORT'
import json, sys, datetime
out, commit, seconds = sys.argv[1], sys.argv[2], sys.argv[3]
weft = {}
for line in open(f"{out}/weft.txt"):
    parts = line.split()
    if parts and parts[0] in ("point", "hop1", "hop2", "agg"):
        weft[parts[0]] = {"qps": float(parts[1]), "p50_us": float(parts[2]), "p99_us": float(parts[3])}
kuzu = json.load(open(f"{out}/kuzu.json"))
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
print("# Weft beside Kuzu, both embedded\n")
print(f"- {now}, Weft at commit {commit}, Kuzu {kuzu['version']} (PyPI); `bash bench/kuzu.sh {seconds}`")
print("- standard graph, seed 42: 100,000 persons, 1,000,000 KNOWS edges; the same query text and "
      f"start ids on both, {seconds} s per query, one caller; 2 cores (both engines may use both)")
print("- Weft: `Engine::execute` in process, scans shared by 2 threads; Kuzu: `Connection.execute` "
      "from Python, results fetched (its Python call cost counts against it)")
print(f"- Kuzu loaded the CSVs with COPY in {kuzu['load_s']:.1f} s (Weft's load here goes through Cypher; "
      "see bench/results/compare-*.md for the load over Bolt)")
print("- ratios: Kuzu latency ÷ Weft latency, Weft q/s ÷ Kuzu q/s: above 1, Weft is ahead\n")
print("| query | Weft q/s | Weft p50 µs | Weft p99 µs | Kuzu q/s | Kuzu p50 µs | Kuzu p99 µs | q/s ratio | p50 ratio | p99 ratio |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for name in ("point", "hop1", "hop2", "agg"):
    w, k = weft.get(name), kuzu["queries"].get(name)
    if not w or not k:
        print(f"| {name} | missing | | | | | | | | |")
        continue
    print(f"| {name} | {w['qps']:,.0f} | {w['p50_us']:,.0f} | {w['p99_us']:,.0f} | {k['qps']:,.0f} | "
          f"{k['p50_us']:,.0f} | {k['p99_us']:,.0f} | {w['qps'] / k['qps']:.2f} | "
          f"{k['p50_us'] / w['p50_us']:.2f} | {k['p99_us'] / w['p99_us']:.2f} |")
REPORT
cat "bench/results/kuzu-$date.md"
