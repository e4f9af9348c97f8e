#!/usr/bin/env bash
# End-to-end tests with the real Python clients (neo4j, pymgclient, GQLAlchemy), installed
# into a virtual environment here; starts `weft serve` on a free loopback port and stops it
# (by pid) whatever happens, and runs the driver, LOAD CSV and tool checks against it; then
# the replication, Raft and `weft proxy` checks, which start their own servers. Bounded:
# each script has 300 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/venv.sh
venv_with neo4j pymgclient gqlalchemy
cargo build --quiet --release -p weft-server
data=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
./target/release/weft serve --bolt-address "127.0.0.1:$port" --http-address 127.0.0.1:0 --data-dir "$data" > target/e2e-server.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), timeout=0.2)" 2>/dev/null && break
  sleep 0.1
done
timeout 300 "$venv/bin/python" tests/e2e/drivers.py "$port" "$server"
timeout 300 "$venv/bin/python" tests/e2e/imports.py "$port" "$server" "$data/import"
timeout 300 "$venv/bin/python" tests/e2e/tools.py "$port"
timeout 300 "$venv/bin/python" tests/e2e/replication.py ./target/release/weft
timeout 300 "$venv/bin/python" tests/e2e/raft.py ./target/release/weft
timeout 300 "$venv/bin/python" tests/e2e/proxy.py ./target/release/weft
