#!/usr/bin/env bash
# Durable CREATE over Bolt at 1, 8 and 32 connections, beside the disk's own fsync rate
# measured in the same run: a real `weft serve` (its default worker pool) under
# `--wal-sync always` and then `--wal-sync off`, loaded by `weft bench` (one CREATE per
# transaction), with the raw single-writer fdatasync rate (append 100 B + fdatasync on the
# file system of the data directory) measured just before. Where bench/durability.sh
# measures the storage's commit path with one thread per committer, this measures what a
# client sees: connections served by the server's workers. Writes a dated table to
# bench/results/durable-bolt-<date>.md (commit it).
#   bash bench/durable_bolt.sh [--seconds S] [--warmup S] [--connections 1,8,32]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/ports.sh
source bench/servers.sh
seconds=5 warmup=1 connections=1,8,32
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
servers_init durable-bolt

# The disk's own rate: one writer appending 100 B and calling fdatasync, for 2 s.
python3 - "$root/fsync-probe" > "$root/fsync.txt" <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
n, started = 0, time.monotonic()
while time.monotonic() - started < 2.0:
    os.write(fd, b"x" * 100)
    os.fdatasync(fd)
    n += 1
print(n / (time.monotonic() - started))
os.close(fd)
PY

for policy in always off; do
  echo "== --wal-sync $policy" >&2
  start "$policy" --wal-sync "$policy"
  "$weft" bench --address "127.0.0.1:$bolt" --workloads create --connections "$connections" --duration "$seconds" \
    --warmup "$warmup" --persons 1000 --edges 1000 --server-pid "${pids[-1]}" --json --output "$root/$policy.json" > /dev/null
  stop_all
done

out="bench/results/durable-bolt-$(date -u +%Y-%m-%d).md"
python3 - "$root" "$seconds" "$warmup" "$(git rev-parse --short HEAD)" "$(nproc)" > "$out" <<'PY'
import json, sys, datetime
root, seconds, warmup, commit, cores = sys.argv[1:6]
fsync = float(open(f"{root}/fsync.txt").read())
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
print("# Durable CREATE over Bolt beside the disk's fsync rate\n")
print(f"- {now}, commit {commit}; `bash bench/durable_bolt.sh`; {seconds} s per run after {warmup} s of warm-up; "
      f"{cores} cores shared by the server and `weft bench`; the server's default worker pool")
print(f"- raw fsync rate of the data directory's file system (one writer, append 100 B + fdatasync): "
      f"{fsync:,.0f}/s, measured just before\n")
print("| --wal-sync | connections | commits/s | ÷ raw fsyncs/s | ÷ 1 connection | p50 ms | p99 ms | errors |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for policy in ("always", "off"):
    runs = {r["connections"]: r for r in json.load(open(f"{root}/{policy}.json"))["runs"]}
    one = runs[min(runs)]["qps"]
    for c in sorted(runs):
        r = runs[c]
        print(f"| {policy} | {c} | {r['qps']:,.0f} | {r['qps'] / fsync:.2f} | {r['qps'] / one:.2f} | "
              f"{r['latency_ms']['p50']:.3f} | {r['latency_ms']['p99']:.3f} | {r['errors']} |")
PY
cat "$out"
