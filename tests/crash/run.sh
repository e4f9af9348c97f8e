#!/usr/bin/env bash
# Crash test (tests/crash/crash.py): SIGKILL `weft serve` at random moments under concurrent
# writers, restart, and check that every acknowledged transaction is there and none is
# partial. CI runs a bounded number of cycles; pass e.g. `--cycles 200 --seconds 5` for a
# longer run. Uses the e2e venv (neo4j driver), made here if missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/venv.sh
venv_with neo4j
cargo build --quiet --release -p weft-server
timeout 600 "$venv/bin/python" tests/crash/crash.py target/release/weft "$@"
