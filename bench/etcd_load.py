"""Quorum writes against etcd, for bench/raft.sh's comparison: C clients (one OS process
each, so the GIL does not serialise them), each with one keep-alive HTTP/1.1 connection to
etcd's JSON gateway (`POST /v3/kv/put`, a 16-byte key and a 40-byte value, every key new),
for S seconds after W seconds of warm-up. Prints one JSON object: connections, qps, p50,
p99 (ms) and errors, the fields `weft bench --json` reports.

  python etcd_load.py --endpoint H:P --connections C --seconds S --warmup W

Every client talks to the given endpoint (the leader's, as `weft bench` talks to Weft's
leader). Stdlib only.
"""
import argparse
import base64
import http.client
import json
import multiprocessing as mp
import time


def b64(text):
    return base64.b64encode(text.encode()).decode()


def client(index, endpoint, start, warm_until, stop_at, out):
    host, port = endpoint.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    latencies, errors, n = [], 0, 0
    value = b64("v" * 40)
    while time.time() < start:
        time.sleep(0.001)
    while True:
        began = time.time()
        if began >= stop_at:
            break
        body = json.dumps({"key": b64(f"k{index:03d}-{n:011d}"), "value": value})
        n += 1
        try:
            connection.request("POST", "/v3/kv/put", body, {"Content-Type": "application/json"})
            reply = connection.getresponse()
            reply.read()
            ok = reply.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
            connection.close()
            connection = http.client.HTTPConnection(host, int(port), timeout=10)
        ended = time.time()
        if began >= warm_until:
            if ok:
                latencies.append(ended - began)
            else:
                errors += 1
    out.put((latencies, errors))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    args = parser.parse_args()
    start = time.time() + 0.5
    warm_until, stop_at = start + args.warmup, start + args.warmup + args.seconds
    out = mp.Queue()
    workers = [mp.Process(target=client, args=(i, args.endpoint, start, warm_until, stop_at, out))
               for i in range(args.connections)]
    for worker in workers:
        worker.start()
    latencies, errors = [], 0
    for _ in workers:
        got, failed = out.get(timeout=args.seconds + args.warmup + 60)
        latencies += got
        errors += failed
    for worker in workers:
        worker.join(timeout=30)
    latencies.sort()

    def percentile(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0.0
    print(json.dumps({"connections": args.connections, "qps": len(latencies) / args.seconds,
                      "latency_ms": {"p50": percentile(0.50), "p99": percentile(0.99)}, "errors": errors}))


if __name__ == "__main__":
    main()
