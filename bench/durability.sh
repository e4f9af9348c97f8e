#!/usr/bin/env bash
# Durable commit throughput and recovery speed, each beside the disk's own rate measured in
# the same run: commits/s under the WAL sync policies `always` and `off` with 1, 8 and 32
# committing threads next to the raw fsync rate (append 100 B + fdatasync), and recovery
# from the WAL and from a snapshot of 1M vertices + 10M edges next to the sequential read
# rate of the WAL files just written; then the time from starting `weft serve` on that data
# directory to /health ok. Prints markdown tables (see bench/README.md).
#   bash bench/durability.sh [--quick] [--seconds S] [--clients 1,8,32]
#                            [--vertices N] [--edges M] [--no-commits] [--no-recovery]
# --quick: 1 s windows and 20k vertices + 200k edges. The data directory is under target/
# (the file system a real data directory would be on, not a tmpfs /tmp) and is removed at
# the end. Run as root to measure recovery with a cold page cache (drop_caches).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="target/bench/durability-$$"
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir"
echo "# durability $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
cargo run --quiet --release -p weft-storage --example durability_bench -- --dir "$dir/data" --keep "$@"

# The same data directory served: time from starting `weft serve` to /health saying ok
# (recovery from the newest snapshot and the WAL after it, indexes rebuilt, then Bolt).
if [ -d "$dir/data/recovery" ]; then
  cargo build --quiet --release -p weft-server
  source bench/ports.sh
  bolt=$(free_port) http=$(free_port)
  ./target/release/weft serve --data-dir "$dir/data/recovery" --bolt-address "127.0.0.1:$bolt" \
    --http-address "127.0.0.1:$http" --snapshot-interval 0 --snapshot-on-exit=false > "$dir/serve.log" 2>&1 &
  pid=$!
  python3 - "$http" "$pid" <<'PY'
import json, os, sys, time, urllib.error, urllib.request
port, pid = sys.argv[1], int(sys.argv[2])
started, seen = time.monotonic(), {}
while time.monotonic() - started < 600:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as reply:
            body = json.load(reply)
            if body.get("status") == "ok":
                took = time.monotonic() - started
                phases = ", ".join(f"{p} seen at {t:.1f} s" for p, t in seen.items())
                print(f"\n`weft serve` on this data directory to /health ok: {took:.2f} s ({phases}).")
                sys.exit(0)
    except urllib.error.HTTPError as error:
        body = json.load(error)
        seen.setdefault(body.get("phase", "?"), time.monotonic() - started)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("weft serve exited before it was ready")
    time.sleep(0.05)
sys.exit("weft serve was not ready within 600 s")
PY
  kill "$pid"
  wait "$pid" 2>/dev/null || true
fi
