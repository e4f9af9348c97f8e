#!/usr/bin/env bash
# Quorum writes of a three-member Raft cluster, as a ratio to one standalone instance and
# beside a three-member etcd (installed from Debian if missing) in the same run: one CREATE per transaction (`weft bench` create workload) at 1 and 16
# connections against the leader; then failover time: from the leader's SIGKILL until the
# first write a new leader acknowledges (a client tries the other members in turn). Every instance on
# this machine (2 cores shared by the members and the client), each commit fsynced on a
# majority; then point reads through `weft proxy` with the leader alone and with all three
# members serving them. Writes a dated table to bench/results/raft-<date>.md (commit it).
#   bash bench/raft.sh [--seconds S] [--warmup S]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/ports.sh
source bench/servers.sh
source tests/venv.sh
venv_with neo4j
seconds=10 warmup=2
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
servers_init raft

load() {
  "$weft" bench --address "127.0.0.1:$1" --workloads create --connections 1,16 --duration "$seconds" \
    --warmup "$warmup" --persons 1000 --edges 1000 --json --output "$root/$2.json" > /dev/null
}

echo "== standalone" >&2
start standalone
load "$bolt" standalone
stop_all

echo "== three members" >&2
raft_ports=("$(free_port)" "$(free_port)" "$(free_port)")
members="1=127.0.0.1:${raft_ports[0]},2=127.0.0.1:${raft_ports[1]},3=127.0.0.1:${raft_ports[2]}"
bolts=()
for n in 1 2 3; do
  start "m$n" --node-id "$n" --raft-address "127.0.0.1:${raft_ports[$((n - 1))]}" --initial-members "$members"
  bolts+=("$bolt")
done
printf '%s\n' "${pids[@]}" > "$root/pids"
printf '%s\n' "${bolts[@]}" > "$root/bolts"
# The leader's Bolt port, once the members agree on one and it takes a write. A follower
# takes writes too (it forwards them), so the leader is the member SHOW CLUSTER names.
leader() {
  "$venv/bin/python" - "$root/bolts" <<'PY'
import sys, time, neo4j
ports = open(sys.argv[1]).read().split()
deadline = time.time() + 30
while time.time() < deadline:
    for port in ports:
        try:
            with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("a", "b")) as d, d.session() as s:
                rows = [r.values() for r in s.run("SHOW CLUSTER")]
                lead = [row[2] for row in rows if row[3] == "leader" and row[2]]
                if lead and lead[0].endswith(f":{port}"):
                    s.run("CREATE (:Probe) RETURN 1").consume()
                    print(port)
                    sys.exit(0)
        except Exception:
            pass
    time.sleep(0.1)
sys.exit("no leader took a write within 30 s")
PY
}
leader_port=$(leader)
load "$leader_port" raft3
# Reads through `weft proxy`: point lookups marked read-only (mode r), the proxy given the
# leader alone, then all three members (it sends each read to the least busy one).
read_load() {
  local port proxy
  port=$(free_port)
  "$weft" proxy --members "$1" --listen "127.0.0.1:$port" > "$root/$2-proxy.log" 2>&1 &
  proxy=$!
  wait_port "$port" "$proxy" "$root/$2-proxy.log"
  "$weft" bench --address "127.0.0.1:$port" --workloads point --connections 1,16 --duration "$seconds" \
    --warmup "$warmup" --persons 1000 --edges 1000 --read-only --json --output "$root/$2.json" > /dev/null
  kill "$proxy"
  wait "$proxy" 2>/dev/null || true
}
echo "== reads through weft proxy: the leader alone, then three members" >&2
read_load "127.0.0.1:$leader_port" proxy1
read_load "127.0.0.1:${bolts[0]},127.0.0.1:${bolts[1]},127.0.0.1:${bolts[2]}" proxy3
"$venv/bin/python" - "$root/bolts" "$root/pids" "$root/failover.txt" "$(leader)" <<'PY'
import os, signal, sys, time, neo4j
ports, pids, out = open(sys.argv[1]).read().split(), open(sys.argv[2]).read().split(), sys.argv[3]
def write(port):
    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("a", "b"), connection_timeout=1,
                                    max_transaction_retry_time=0) as d, d.session() as s:
        s.run("CREATE (:Failover) RETURN 1").consume()
def takes_write(candidates):
    for i in candidates:
        try:
            write(ports[i])
            return i
        except Exception:
            pass
# One failover: three members keep a quorum through the loss of one only. The leader is
# the one whose port the routine above found; a client then writes through any member
# that is left (a follower forwards to the new leader).
old = ports.index(sys.argv[4])
os.kill(int(pids[old]), signal.SIGKILL)
killed, rest, took = time.time(), [i for i in range(3) if i != old], None
while took is None and time.time() - killed < 30:
    if takes_write(rest) is not None:
        took = time.time() - killed
open(out, "w").write(f"{took:.2f}" if took is not None else "none within 30")
PY
stop_all

echo "== etcd, three members" >&2
# etcd from Debian (bench/ may install it); the same machine, the same fsync per commit.
# etcdctl (etcd-client) finds etcd's leader.
if ! { command -v etcd && command -v etcdctl; } > /dev/null && [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
  timeout 300 apt-get install -y -qq etcd-server etcd-client > /dev/null 2>&1 || echo "could not install etcd" >&2
fi
if command -v etcd > /dev/null && command -v etcdctl > /dev/null; then
  peers=() clients=() cluster=""
  for n in 1 2 3; do
    peers+=("$(free_port)") clients+=("$(free_port)")
    cluster+="${cluster:+,}e$n=http://127.0.0.1:${peers[$((n - 1))]}"
  done
  for n in 1 2 3; do
    etcd --name "e$n" --data-dir "$root/etcd$n" --listen-peer-urls "http://127.0.0.1:${peers[$((n - 1))]}" \
      --initial-advertise-peer-urls "http://127.0.0.1:${peers[$((n - 1))]}" \
      --listen-client-urls "http://127.0.0.1:${clients[$((n - 1))]}" \
      --advertise-client-urls "http://127.0.0.1:${clients[$((n - 1))]}" \
      --initial-cluster "$cluster" --initial-cluster-state new > "$root/etcd$n.log" 2>&1 &
    pids+=($!)
  done
  endpoints="127.0.0.1:${clients[0]},127.0.0.1:${clients[1]},127.0.0.1:${clients[2]}"
  # The leader's client endpoint, once the members agree on one.
  etcd_leader=""
  for _ in $(seq 1 100); do
    etcd_leader=$(ETCDCTL_API=3 etcdctl --endpoints "$endpoints" endpoint status -w json 2>/dev/null | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    if s["Status"]["header"]["member_id"] == s["Status"]["leader"]:
        print(s["Endpoint"].removeprefix("http://"))' || true)
    [ -n "$etcd_leader" ] && break
    sleep 0.2
  done
  [ -n "$etcd_leader" ] || { echo "etcd elected no leader" >&2; exit 1; }
  for c in 1 16; do
    "$venv/bin/python" bench/etcd_load.py --endpoint "$etcd_leader" --connections "$c" --seconds "$seconds" \
      --warmup "$warmup" > "$root/etcd-$c.json"
  done
  stop_all
else
  echo "etcd is not installed: no comparison" >&2
fi

out="bench/results/raft-$(date -u +%Y-%m-%d).md"
python3 - "$root" "$seconds" "$warmup" "$(git rev-parse --short HEAD)" > "$out" <<'PY'
import json, sys, datetime
root, seconds, warmup, commit = sys.argv[1:5]
def rows(name):
    return {r["connections"]: r for r in json.load(open(f"{root}/{name}.json"))["runs"]}
alone, raft = rows("standalone"), rows("raft3")
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
print("# Raft quorum writes\n")
print(f"- {now}, commit {commit}; {seconds} s per run after {warmup} s of warm-up; every instance on this machine "
      "(2 cores shared by the three members and the client); a commit is acknowledged once a majority holds "
      "it durably and the leader applied it")
print("- workload: `weft bench` create (one CREATE per transaction) on the leader; ratio: q/s ÷ q/s of one "
      "standalone instance (its own WAL, fsync per group) in the same run\n")
print("| setup | connections | q/s | ratio | p50 ms | p99 ms | errors |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name, table in (("standalone", alone), ("3 members", raft)):
    for c in sorted(table):
        r = table[c]
        print(f"| {name} | {c} | {r['qps']:,.0f} | {r['qps'] / alone[c]['qps']:.2f} | "
              f"{r['latency_ms']['p50']:.3f} | {r['latency_ms']['p99']:.3f} | {r['errors']} |")
import glob, os
etcd = {json.load(open(p))["connections"]: json.load(open(p)) for p in glob.glob(f"{root}/etcd-*.json")}
if etcd:
    print("\n## Beside etcd (3 members on this machine)\n")
    print("etcd 3.4 from Debian, default settings (fsync per commit); its clients: one process per connection, "
          "keep-alive HTTP/1.1 to the JSON gateway of the leader (`/v3/kv/put`, a new 16-byte key each); Weft's: "
          "`weft bench` (Rust) on the leader. Ratio: Weft q/s ÷ etcd q/s.\n")
    print("| connections | Weft q/s | etcd q/s | ratio | Weft p50 / p99 ms | etcd p50 / p99 ms | etcd errors |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for c in sorted(etcd):
        w, e = raft[c], etcd[c]
        print(f"| {c} | {w['qps']:,.0f} | {e['qps']:,.0f} | {w['qps'] / e['qps']:.2f} | "
              f"{w['latency_ms']['p50']:.2f} / {w['latency_ms']['p99']:.2f} | "
              f"{e['latency_ms']['p50']:.2f} / {e['latency_ms']['p99']:.2f} | {e['errors']} |")
one, three = rows("proxy1"), rows("proxy3")
print("\n## Reads through `weft proxy`\n")
print("`weft bench` point lookups (`MATCH (p:Person {id: $id}) RETURN p.name`, read-only: Bolt mode r) through "
      "`weft proxy` on this machine, the proxy given the leader alone, then all three members (each read to the "
      "member with the fewest queries in flight). Ratio: q/s with three ÷ q/s with one. The members, the proxy "
      "and the client share the 2 cores.\n")
print("| connections | 1 member q/s | 3 members q/s | ratio | 1 member p50 / p99 ms | 3 members p50 / p99 ms |")
print("|---:|---:|---:|---:|---:|---:|")
for c in sorted(one):
    a, b = one[c], three[c]
    print(f"| {c} | {a['qps']:,.0f} | {b['qps']:,.0f} | {b['qps'] / a['qps']:.2f} | "
          f"{a['latency_ms']['p50']:.2f} / {a['latency_ms']['p99']:.2f} | "
          f"{b['latency_ms']['p50']:.2f} / {b['latency_ms']['p99']:.2f} |")
print(f"\nFailover (leader SIGKILLed → first write a new leader acknowledged): "
      f"{open(f'{root}/failover.txt').read()} s")
PY
cat "$out"
echo "table in $out"
