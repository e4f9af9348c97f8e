# Shared by the benchmark scripts (source it): a free local port, waiting for a server
# that this script started to listen, loading the standard graph with LOAD CSV, and
# starting FalkorDB in a network namespace.

# Prints a TCP port nothing listens on at the moment.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_port PORT PID [LOG]: waits up to 10 s for a listener on PORT; fails at once if the
# server (PID) exits, naming its LOG when given.
wait_port() {
  for _ in $(seq 1 100); do
    kill -0 "$2" 2>/dev/null || { echo "the server (pid $2) exited${3:+: see $3}" >&2; return 1; }
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), timeout=0.2)" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2; return 1
}

# The standard graph's CSV files (gen_graph.py's persons.csv and knows.csv, in a server's
# import directory) loaded with LOAD CSV in batches: the statements, for timing them one
# by one, and load_standard_csv WEFT_SHELL_COMMAND... to run both.
persons_query="LOAD CSV WITH HEADERS FROM 'file:///persons.csv' AS row CALL { WITH row CREATE (:Person {id: toInteger(row.id), name: row.name, age: toInteger(row.age)}) } IN TRANSACTIONS OF 10000 ROWS"
knows_query="LOAD CSV WITH HEADERS FROM 'file:///knows.csv' AS row CALL { WITH row MATCH (a:Person {id: toInteger(row.src)}), (b:Person {id: toInteger(row.dst)}) CREATE (a)-[:KNOWS {since: toInteger(row.since)}]->(b) } IN TRANSACTIONS OF 10000 ROWS"
load_standard_csv() {
  "$@" -c "CREATE INDEX ON :Person(id)" >/dev/null
  "$@" -c "$persons_query" >/dev/null
  "$@" -c "$knows_query" >/dev/null
}

# start_falkordb REDIS MODULE DIR [MODULE ARGUMENTS...], inside a private network namespace
# (unshare -n; FalkorDB listens on every interface): loopback up, FalkorDB's redis-server
# on 127.0.0.1:6379 with its files in DIR/falkordb-dir and its log in DIR/falkordb.log,
# killed by pid when the shell exits; waits until it listens. Its pid is $falkordb.
start_falkordb() {
  local redis=$1 module=$2 dir=$3
  shift 3
  ip link set lo up
  mkdir -p "$dir/falkordb-dir"
  "$redis" --bind 127.0.0.1 --port 6379 --save '' --appendonly no --dir "$dir/falkordb-dir" \
    --daemonize no --loadmodule "$module" "$@" > "$dir/falkordb.log" 2>&1 &
  falkordb=$!
  trap 'kill $falkordb 2>/dev/null || true' EXIT
  wait_port 6379 "$falkordb" "$dir/falkordb.log"
}
