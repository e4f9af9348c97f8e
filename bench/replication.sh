#!/usr/bin/env bash
# Commit throughput with replication, as a ratio to no replication in the same run: one
# CREATE per transaction (`weft bench` create workload) at 1 and 16 connections against a
# MAIN with no replica, 1 SYNC, 2 SYNC, 1 ASYNC and 1 STRICT_SYNC replica; and the ASYNC
# replica's lag under that load (MAIN's weft_replica_lag_seconds sampled every 50 ms). Every instance is a `weft serve`
# process on this machine with its own data directory under target/ and the default
# durability (each commit fsynced), so a SYNC commit pays the replica's fsync too.
# Writes a dated table to bench/results/replication-<date>.md (commit it).
#   bash bench/replication.sh [--seconds S] [--warmup S]
# Defaults: 10 s per run after 2 s of warm-up (about 3 minutes plus the build).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/ports.sh
source bench/servers.sh
seconds=10 warmup=2
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
servers_init replication

# measure CONFIG MODE...: a MAIN with one replica per MODE, the create workload on it.
measure() {
  local config="$1"; shift
  start "$config-main"; local main=$bolt main_http=$http n=0
  for mode in "$@"; do
    n=$((n + 1))
    start "$config-replica$n"; local port; port=$(free_port)
    shell "$bolt" "SET REPLICATION ROLE TO REPLICA WITH PORT $port" > /dev/null
    shell "$main" "REGISTER REPLICA r$n $mode TO '127.0.0.1:$port'" > /dev/null
  done
  for _ in $(seq 1 200); do
    [ "$(shell "$main" "SHOW REPLICAS" | grep -vc ',ready,' || true)" -le 1 ] && break
    sleep 0.1
  done
  echo "== $config: $(shell "$main" "SHOW REPLICAS" | tail -n +2 | cut -d, -f1,3,5 | tr '\n' ' ')" >&2
  # The replicas' lag on MAIN, sampled while the load runs (stops with the load).
  python3 - "$main_http" "$root/$config.lag" <<'PY' &
import sys, time, urllib.request
port, out = sys.argv[1:3]
samples, deadline = [], time.time() + 600
while time.time() < deadline:
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except OSError:
        break
    samples += [line.split()[-1] for line in text.splitlines() if line.startswith("weft_replica_lag_seconds{")]
    with open(out, "w") as f:
        f.write("\n".join(samples))
    time.sleep(0.05)
PY
  local sampler=$!
  "$weft" bench --address "127.0.0.1:$main" --workloads create --connections 1,16 --duration "$seconds" \
    --warmup "$warmup" --persons 1000 --edges 1000 --json --output "$root/$config.json" > /dev/null
  stop_all
  wait "$sampler" 2>/dev/null || true
}

measure none
measure sync1 SYNC
measure sync2 SYNC SYNC
measure async1 ASYNC
measure strict1 STRICT_SYNC
out="bench/results/replication-$(date -u +%Y-%m-%d).md"
python3 - "$root" "$seconds" "$warmup" "$(git rev-parse --short HEAD)" > "$out" <<'PY'
import json, sys, datetime
root, seconds, warmup, commit = sys.argv[1:5]
configs = [("none", "no replica"), ("sync1", "1 SYNC"), ("sync2", "2 SYNC"), ("async1", "1 ASYNC"),
           ("strict1", "1 STRICT_SYNC")]
runs = {c: {r["connections"]: r for r in json.load(open(f"{root}/{c}.json"))["runs"]} for c, _ in configs}
print("# Commit throughput with replication\n")
print(f"- {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, commit {commit}; "
      f"{seconds} s per run after {warmup} s of warm-up; every instance on this machine (2 cores shared by "
      "the MAIN, its replicas and the client), each commit fsynced on every instance that holds it")
print("- workload: `weft bench` create (one CREATE per transaction); ratio: q/s ÷ q/s with no replica\n")
print("| replicas | connections | q/s | ratio | p50 ms | p99 ms | errors |")
print("|---|---:|---:|---:|---:|---:|---:|")
for c, label in configs:
    for conns in sorted(runs[c]):
        r, base = runs[c][conns], runs["none"][conns]
        print(f"| {label} | {conns} | {r['qps']:,.0f} | {r['qps'] / base['qps']:.2f} | "
              f"{r['latency_ms']['p50']:.3f} | {r['latency_ms']['p99']:.3f} | {r['errors']} |")
lags = sorted(float(x) for x in open(f"{root}/async1.lag").read().split())
pick = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))] * 1000
print(f"\nASYNC replica lag under that load (age of the oldest commit it has not acknowledged, "
      f"{len(lags)} samples every 50 ms): p50 {pick(0.5):.1f} ms, p99 {pick(0.99):.1f} ms, max {lags[-1] * 1000:.1f} ms")
PY
cat "$out"
echo "table in $out"
