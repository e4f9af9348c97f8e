#!/usr/bin/env bash
# End-to-end tests with the real Python clients (neo4j, pymgclient, GQLAlchemy), installed
# into a virtual environment here; starts `weft serve` on a free loopback port and stops it
# (by pid) whatever happens, and runs the driver, LOAD CSV and tool checks against it; then
# the replication, Raft and `weft proxy` checks, which start their own servers; then the
# web console in headless Chromium (Debian's chromium and chromium-driver, installed here
# when missing; skipped with the reason only where they cannot be installed). Bounded:
# each script has 300 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/venv.sh
venv_with neo4j pymgclient gqlalchemy selenium
cargo build --quiet --release -p weft-server
# For the console checks (here and in raft.py): Debian's browser and its WebDriver.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  { apt-get update -qq && apt-get install -y -qq chromium chromium-driver; } >/dev/null 2>&1 || true
fi
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Waits (at most 5 s) until something listens on loopback port $1.
wait_for_port() {
  for _ in $(seq 1 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), timeout=0.2)" 2>/dev/null && return
    sleep 0.1
  done
}
data=$(mktemp -d)
port=$(free_port)
./target/release/weft serve --bolt-address "127.0.0.1:$port" --http-address 127.0.0.1:0 --data-dir "$data" > target/e2e-server.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"' EXIT
wait_for_port "$port"
timeout 300 "$venv/bin/python" tests/e2e/drivers.py "$port" "$server"
timeout 300 "$venv/bin/python" tests/e2e/imports.py "$port" "$server" "$data/import"
timeout 300 "$venv/bin/python" tests/e2e/tools.py "$port"
timeout 300 "$venv/bin/python" tests/e2e/replication.py ./target/release/weft
timeout 300 "$venv/bin/python" tests/e2e/raft.py ./target/release/weft
timeout 300 "$venv/bin/python" tests/e2e/proxy.py ./target/release/weft

# The console, in a real browser, against a server that requires a password; one worker,
# so that a cancelled query that kept running would stall the next one.
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  console_data=$(mktemp -d)
  http_port=$(free_port)
  ./target/release/weft serve --bolt-address 127.0.0.1:0 --http-address "127.0.0.1:$http_port" \
    --data-dir "$console_data" --auth console:s3cret --workers 1 > target/e2e-console-server.log 2>&1 &
  console_server=$!
  trap 'kill "$server" "$console_server" 2>/dev/null || true; wait "$server" "$console_server" 2>/dev/null || true; rm -rf "$data" "$console_data"' EXIT
  wait_for_port "$http_port"
  timeout 300 "$venv/bin/python" tests/e2e/http_api.py "$http_port" "$console_server" console s3cret
  mkdir -p target/console-screenshots
  timeout 300 "$venv/bin/python" tests/e2e/console.py "$http_port" target/console-screenshots console s3cret
else
  echo "e2e console: skipped: Debian's chromium and chromium-driver could not be installed on this machine"
fi
