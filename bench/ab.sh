#!/usr/bin/env bash
# Two builds of Weft side by side in one run, measured by the same client (`weft bench`)
# over Bolt on the standard social graph: point, hop1, hop2, agg and create at 1 and 16
# connections, each workload run on the "before" server then on the "after" one, so drift
# of the machine hits both alike. Writes a dated table of before/after ratios to
# bench/results/ab-<date>.md (commit it): the gate for changes that must not cost speed.
#   bash bench/ab.sh --before REV|BINARY [--after REV|BINARY] [--persons N] [--edges M]
#                    [--seconds S] [--warmup S] [--name NAME]
# --before/--after: a git revision (built here, in target/bench/ab-build) or the path of a
# `weft` binary; --after defaults to the working tree's release build. Defaults: 100,000
# persons, 1,000,000 edges, 10 s per run after 2 s of warm-up (about 12 minutes on 2 cores
# plus the builds). Both servers write their WAL without fsync (`--wal-sync off`), so the
# figures are the engine's and the request path's, not the disk's.
set -euo pipefail
cd "$(dirname "$0")/.."
before="" after="" persons=100000 edges=1000000 seconds=10 warmup=2 name=ab
while [ $# -gt 0 ]; do
  case "$1" in
    --before) before=$2; shift 2 ;;
    --after) after=$2; shift 2 ;;
    --persons) persons=$2; shift 2 ;;
    --edges) edges=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    *) echo "usage: bash bench/ab.sh --before REV|BINARY [--after REV|BINARY] [--persons N] [--edges M] [--seconds S] [--warmup S] [--name NAME]" >&2; exit 2 ;;
  esac
done
[ -n "$before" ] || { echo "bench/ab.sh: --before is required (a git revision or a weft binary)" >&2; exit 2; }

out=target/bench/$name
rm -rf "$out" && mkdir -p "$out"

# A binary for REV|BINARY, printed with what it is (for the report).
resolve() {
  if [ -x "$1" ] && [ -f "$1" ]; then
    echo "$(realpath "$1")|binary $1"
    return
  fi
  local rev tree
  rev=$(git rev-parse --short "$1^{commit}") || { echo "bench/ab.sh: $1 is neither a binary nor a revision" >&2; exit 2; }
  tree=target/bench/ab-build/$rev
  if [ ! -x "$tree/target/release/weft" ]; then
    echo "== building $rev (release)" >&2
    rm -rf "$tree" && mkdir -p "$(dirname "$tree")"
    git worktree add --detach --force "$tree" "$rev" >/dev/null
    (cd "$tree" && cargo build --quiet --release -p weft-server)
  fi
  echo "$PWD/$tree/target/release/weft|commit $rev"
}
if [ -z "$after" ]; then
  cargo build --quiet --release -p weft-server
  after=target/release/weft
  label="working tree at $(git rev-parse --short HEAD)"
  git diff --quiet HEAD -- crates Cargo.toml Cargo.lock || label+=" + uncommitted changes"
  after_bin=$(realpath "$after")
  after_label=$label
else
  IFS='|' read -r after_bin after_label <<<"$(resolve "$after")"
fi
IFS='|' read -r before_bin before_label <<<"$(resolve "$before")"

source bench/ports.sh

declare -A port pid
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
for side in before after; do
  bin_var=${side}_bin
  port[$side]=$(free_port)
  "${!bin_var}" serve --bolt-address "127.0.0.1:${port[$side]}" --http-address "127.0.0.1:$(free_port)" \
    --data-dir "$PWD/$out/$side-data" --wal-sync off --snapshot-interval 0 --snapshot-on-exit false \
    > "$out/$side.log" 2>&1 &
  pid[$side]=$!
  pids+=("$!")
  wait_port "${port[$side]}" "${pid[$side]}" "$out/$side.log"
done

common=(--persons "$persons" --edges "$edges" --duration "$seconds" --warmup "$warmup" --timeout 120)
# The after build's client measures both servers.
b() {  # b SIDE OUTPUT ARGS...
  local side=$1 output=$2; shift 2
  "$after_bin" bench --address "127.0.0.1:${port[$side]}" --server-pid "${pid[$side]}" "${common[@]}" \
    --output "$out/$output" "$@" >/dev/null || echo "weft bench reported errors on $side (see the table)" >&2
}
# Every read before any create: creates add persons, which agg then has to scan.
for workload in point hop1 hop2 agg create; do
  for connections in 1 16; do
    for side in before after; do
      echo "== $workload x$connections on $side" >&2
      b "$side" "$side-$workload-$connections.json" --workloads "$workload" --connections "$connections"
    done
  done
done

date=$(date -u +%Y-%m-%d)
mkdir -p bench/results
python3 bench/ab_report.py "$out" --before "$before_label" --after "$after_label" > "bench/results/$name-$date.md"
cat "bench/results/$name-$date.md"
echo "ab.sh took $SECONDS s; table in bench/results/$name-$date.md" >&2
