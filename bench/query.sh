#!/usr/bin/env bash
# In-process query benchmark on the standard synthetic social graph (100k persons, 1M KNOWS
# edges, seed 42 — see ../shared/bench/README.md): point lookup by indexed id, 1-hop and
# 2-hop neighbour counts, an aggregation, a filtered top-k, and one-hop aggregations over
# every relationship. Prints queries/s, p50/p99 latency, rows/s, the ratio to the same work
# done directly on the storage API, and for the column path's shapes its speedup over the
# row path, all in the same run.
#   bash bench/query.sh [SECONDS_PER_QUERY]      (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${WEFT_SHARED_DIR:-../shared}
data=${WEFT_BENCH_DATA:-target/bench/social}
if [ ! -f "$data/knows.csv" ]; then
  echo "generating the social graph into $data (a minute or so)..." >&2
  python3 "$shared/bench/gen_graph.py" --out "$data" --persons 100000 --edges 1000000 --seed 42 >/dev/null
fi
cargo run --quiet --release -p weft-query --example social_bench -- "$data" "${1:-3}"
