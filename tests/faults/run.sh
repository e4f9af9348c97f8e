#!/usr/bin/env bash
# The fault suite (tests/faults/run.py), on MAIN/REPLICA replication and on a Raft cluster:
# real `weft serve` processes in network namespaces
# of their own, a nemesis, and workloads whose history is checked. Needs root; prints why
# and passes when this machine cannot make network namespaces, unless WEFT_FAULTS_REQUIRED=1
# (as in .ci/run), when that fails.
#   bash tests/faults/run.sh [--seconds S] [--seed N]     (default 20 s; .ci/run runs this)
# A long run: bash tests/faults/run.sh --seconds 600
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/venv.sh
venv_with neo4j
cargo build --quiet --release -p weft-server
# Partitions are nftables rules: install the tool where it is missing and we may.
if ! command -v nft > /dev/null && [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
  echo "installing nftables for the partitions"
  timeout 300 bash -c 'apt-get install -y -qq nftables || { apt-get update -qq && apt-get install -y -qq nftables; }' \
    > /dev/null 2>&1 || echo "could not install nftables"
fi
seconds=20
for arg in "$@"; do [ "${prev:-}" = "--seconds" ] && seconds="$arg"; prev="$arg"; done
# Bounded: the faults last S seconds; healing, catch-up and the checks get 5 minutes more.
# SIGINT, so that the suite still removes its namespaces and bridge if it runs over.
for topology in replication raft; do
  timeout -s INT -k 30 "$(python3 -c "print(int($seconds) + 300)")" \
    "$venv/bin/python" tests/faults/run.py "$PWD/target/release/weft" --topology "$topology" "$@"
done
