"""Crash test: acknowledged transactions survive SIGKILL, and none is ever half there.

Usage: python crash.py WEFT_BINARY [--cycles N] [--seconds S] [--writers W] [--seed X]
(run by tests/crash/run.sh, which makes the venv with the neo4j driver).

Each cycle starts `weft serve` on a data directory kept across cycles, runs W writer
threads, kills the server with SIGKILL at a random moment, restarts it and checks:
- every transaction a writer saw acknowledged (COMMIT returned) is present;
- every transaction present is whole: its 3 nodes and 2 relationships, never fewer.
Transactions cut off by the kill may be present or absent, but only whole. Snapshots are
taken every second and WAL segments are small, so kills also land during snapshots,
segment rotation and retention.
"""
import argparse
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import neo4j

GROUP = 3  # nodes per transaction


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, data_dir, log):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [binary, "serve", "--bolt-address", f"127.0.0.1:{self.port}", "--http-address", "127.0.0.1:0",
             "--data-dir", data_dir, "--snapshot-interval", "1", "--wal-segment-size", "64KiB",
             "--snapshot-retention", "2"],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited at start with {self.proc.returncode}; see the log")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise AssertionError("server did not start within 60 s")

    def uri(self):
        return f"bolt://127.0.0.1:{self.port}"

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)


def writer(uri, name, acked, attempted, stop):
    """Writes transactions (name, seq) until the server dies or `stop` is set. Sequence
    numbers are never reused: one cut off by a kill may have committed."""
    try:
        with neo4j.GraphDatabase.driver(uri, auth=("crash", "test"), max_transaction_retry_time=0) as driver:
            with driver.session() as session:
                while not stop.is_set():
                    attempted[name] += 1
                    seq = attempted[name]
                    tx = session.begin_transaction()
                    tx.run("CREATE (a:Crash {w: $w, s: $s, k: 0})-[:NEXT]->(b:Crash {w: $w, s: $s, k: 1})"
                           "-[:NEXT]->(c:Crash {w: $w, s: $s, k: 2})", w=name, s=seq).consume()
                    tx.commit()
                    acked.append(seq)  # only after COMMIT's SUCCESS
    except Exception:  # the kill: the connection drops mid-transaction
        pass


def check(uri, acked_by_writer):
    with neo4j.GraphDatabase.driver(uri, auth=("crash", "test")) as driver, driver.session() as session:
        groups = {(r["w"], r["s"]): (r["nodes"], r["rels"]) for r in session.run(
            "MATCH (n:Crash) OPTIONAL MATCH (n)-[r:NEXT]->() "
            "RETURN n.w AS w, n.s AS s, count(DISTINCT n) AS nodes, count(r) AS rels")}
    for key, (nodes, rels) in groups.items():
        assert (nodes, rels) == (GROUP, GROUP - 1), f"partial transaction {key}: {nodes} nodes, {rels} rels"
    missing = [(w, s) for w, seqs in acked_by_writer.items() for s in seqs if (w, s) not in groups]
    assert not missing, f"acknowledged but lost after restart: {missing[:5]} ({len(missing)} in all)"
    return len(groups)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--cycles", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=2.0, help="longest run before a kill")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--log", default="target/crash-server.log", help="the servers' output")
    args = parser.parse_args()
    # The driver logs every connection the kill breaks; those are expected here.
    logging.getLogger("neo4j").setLevel(logging.CRITICAL)
    rng = random.Random(args.seed)
    print(f"crash test: {args.cycles} cycles, {args.writers} writers, seed {args.seed}", flush=True)
    acked = {f"w{i}": [] for i in range(args.writers)}
    attempted = {w: 0 for w in acked}
    with tempfile.TemporaryDirectory() as data_dir, open(args.log, "ab") as log:
        data = os.path.join(data_dir, "data")
        server = Server(args.binary, data, log)
        try:
            for cycle in range(1, args.cycles + 1):
                stop = threading.Event()
                threads = [threading.Thread(target=writer, args=(server.uri(), w, acked[w], attempted, stop))
                           for w in acked]
                [t.start() for t in threads]
                time.sleep(rng.uniform(0.05, args.seconds))
                server.kill()
                stop.set()
                [t.join(timeout=60) for t in threads]
                assert not any(t.is_alive() for t in threads), "a writer hung after the kill"
                server = Server(args.binary, data, log)
                present = check(server.uri(), acked)
                total = sum(len(s) for s in acked.values())
                print(f"cycle {cycle}: {total} acknowledged so far, {present} present and whole", flush=True)
            server.stop()
        finally:
            # Whatever failed, the server this test started does not outlive it.
            if server.proc.poll() is None:
                server.kill()
    print("crash test passed", flush=True)


if __name__ == "__main__":
    sys.exit(main())
