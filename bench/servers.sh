# Shared by the benchmark scripts that run several `weft serve` processes on this machine
# (source it after bench/ports.sh): `servers_init NAME` builds the release binary and makes
# a work directory target/bench/NAME-<pid>, removed on exit with every server stopped;
# `start NAME [FLAGS...]` runs a server with its own data directory there (and any further
# flags) and sets $bolt and $http to its ports; `shell PORT QUERY` runs one statement,
# printing CSV; `stop_all` stops the servers started so far (by pid).

servers_init() {
  cargo build --quiet --release -p weft-server
  weft=./target/release/weft
  root="target/bench/$1-$$"
  mkdir -p "$root" bench/results
  pids=()
  trap 'stop_all; rm -rf "$root"' EXIT
}

stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  pids=()
}

start() {
  bolt=$(free_port) http=$(free_port)
  "$weft" serve --bolt-address "127.0.0.1:$bolt" --http-address "127.0.0.1:$http" --data-dir "$root/$1" \
    --snapshot-interval 0 "${@:2}" > "$root/$1.log" 2>&1 &
  pids+=($!)
  wait_port "$bolt" "$!" "$root/$1.log"
}

shell() { "$weft" shell --address "127.0.0.1:$1" --format csv -c "$2"; }
