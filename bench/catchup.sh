#!/usr/bin/env bash
# Catch-up rate of a replica that is N transactions behind, by the two paths a MAIN has:
# WAL records read from its segment files, and its snapshot followed by the WAL after it.
# A MAIN (`weft serve`, default durability) takes N one-CREATE transactions (`weft bench`
# create workload, 16 connections); then a fresh replica is registered and timed until it
# holds MAIN's newest commit (WAL path); then MAIN takes a snapshot and a second fresh
# replica is timed the same way (the snapshot is fewer bytes than the WAL, so it is sent).
# Rates are bytes MAIN shipped (its weft_replica_shipped_bytes_total) per second and
# transactions per second. The replica applies with its own default durability.
# Writes a dated table to bench/results/catchup-<date>.md (commit it).
#   bash bench/catchup.sh [--transactions N]
# Default N: 200000 (about a minute to load plus the catch-ups).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/ports.sh
source bench/servers.sh
transactions=200000
while [ $# -gt 0 ]; do
  case "$1" in
    --transactions) transactions="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
servers_init catchup
last_commit() { shell "$1" "SHOW STORAGE INFO" | grep -E '^"?last_commit' | cut -d, -f2 | tr -d '"'; }
shipped() {
  python3 -c "import urllib.request, sys
for line in urllib.request.urlopen('http://127.0.0.1:$1/metrics', timeout=5).read().decode().splitlines():
    if line.startswith('weft_replica_shipped_bytes_total{replica=\"$2\"}'): print(int(float(line.split()[-1])))"
}

start main; main=$bolt main_http=$http
echo "== loading $transactions transactions" >&2
"$weft" bench --address "127.0.0.1:$main" --workloads create --connections 16 --count "$transactions" \
  --warmup 0 --persons 1000 --edges 1000 --json --output "$root/load.json" > /dev/null
target=$(last_commit "$main")
wal_mb=$(shell "$main" "SHOW STORAGE INFO" | grep -E '^"?wal_bytes' | cut -d, -f2 | tr -d '"')

# catch_up NAME: registers a fresh replica NAME and prints "seconds bytes".
catch_up() {
  start "$1"; local replica=$bolt port; port=$(free_port)
  shell "$replica" "SET REPLICATION ROLE TO REPLICA WITH PORT $port" > /dev/null
  local began; began=$(date +%s.%N)
  shell "$main" "REGISTER REPLICA $1 ASYNC TO '127.0.0.1:$port'" > /dev/null
  for _ in $(seq 1 36000); do
    [ "$(last_commit "$replica")" = "$target" ] && break
    sleep 0.05
  done
  [ "$(last_commit "$replica")" = "$target" ] || { echo "$1 never caught up: see $root/$1.log" >&2; exit 1; }
  local ended; ended=$(date +%s.%N)
  echo "$(python3 -c "print(f'{$ended - $began:.2f}')") $(shipped "$main_http" "$1")"
}

echo "== WAL path" >&2
read -r wal_seconds wal_bytes < <(catch_up wal)
shell "$main" "CREATE SNAPSHOT" > /dev/null
echo "== snapshot path" >&2
read -r snap_seconds snap_bytes < <(catch_up snap)
grep -q "installed MAIN's snapshot" "$root/snap.log" || {
  echo "the snapshot path was not taken; MAIN's plans:" >&2; grep 'catching a replica up' "$root/main.log" >&2; exit 1; }
grep -q "installed MAIN's snapshot" "$root/wal.log" && { echo "the WAL path installed a snapshot" >&2; exit 1; }

out="bench/results/catchup-$(date +%Y-%m-%d).md"
python3 - "$out" "$transactions" "$target" "$wal_mb" "$wal_seconds" "$wal_bytes" "$snap_seconds" "$snap_bytes" <<'EOF'
import datetime, os, subprocess, sys
out, n, target, wal_bytes_on_disk, ws, wb, ss, sb = sys.argv[1:]
n, ws, wb, ss, sb = int(n), float(ws), int(wb), float(ss), int(sb)
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
rows = [("WAL records", ws, wb), ("snapshot + WAL after it", ss, sb)]
with open(out, "w") as f:
    f.write(f"# Replica catch-up rate, {datetime.date.today()} (commit {commit})\n\n")
    f.write(f"`bash bench/catchup.sh --transactions {n}` on {os.cpu_count()} cores: a fresh ASYNC replica "
            f"registered on a MAIN holding {n} one-CREATE transactions (newest commit {target}, WAL "
            f"{int(wal_bytes_on_disk) / 1e6:.1f} MB on disk), timed until it holds MAIN's newest commit. "
            "Both instances default durability (the replica fsyncs what it applies).\n\n")
    f.write("| path | seconds | MB shipped | MB/s | transactions/s |\n|---|---|---|---|---|\n")
    for name, seconds, shipped in rows:
        f.write(f"| {name} | {seconds:.2f} | {shipped / 1e6:.1f} | {shipped / 1e6 / seconds:.1f} | {n / seconds:,.0f} |\n")
print(open(out).read())
EOF
