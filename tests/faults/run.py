"""The fault suite: a MAIN with a SYNC, a STRICT_SYNC and an ASYNC replica, each a real
`weft serve` in its own network namespace; the set, bank, large and register workloads run
against them while a nemesis kills, pauses and isolates nodes and partitions the network;
then the faults are healed and the history is checked (see workloads.py and register.py
for what each workload promises).

Usage: python run.py WEFT_BINARY [--seconds S] [--seed N]   (tests/faults/run.sh runs it).
Bounded: the load and the nemesis stop after S seconds; every wait after gives up in 60 s.
Prints one line per check and 'N passed, N failed' at the end; exits non-zero on a failure.
"""
import argparse
import logging
import os
import random
import shutil
import sys
import tempfile
import threading
import time

from cluster import Network, Node, available, partition
import register
import workloads as w

parser = argparse.ArgumentParser()
parser.add_argument("binary")
parser.add_argument("--seconds", type=float, default=20)
parser.add_argument("--seed", type=int, default=int(time.time()))
args = parser.parse_args()

# A killed server makes the driver log every dead connection; the history records them.
logging.getLogger("neo4j").setLevel(logging.CRITICAL)

usable, why = available()
if not usable:
    required = os.environ.get("WEFT_FAULTS_REQUIRED") == "1"
    print(f"fault suite {'cannot run' if required else 'skipped'}: {why}")
    sys.exit(1 if required else 0)

register.self_check()
rng = random.Random(args.seed)
print(f"fault suite: seed {args.seed}, {args.seconds:.0f} s of faults", flush=True)
root = tempfile.mkdtemp(prefix="weft-faults-")
network = None
nodes = []
try:
    network = Network()
    main = Node(args.binary, network, 1, root, "main")
    replicas = {mode: Node(args.binary, network, n, root, name)
                for n, (mode, name) in enumerate([("SYNC", "sync"), ("STRICT_SYNC", "strict"), ("ASYNC", "async")], 2)}
    nodes = [main, *replicas.values()]
    for node in nodes:
        node.start()
    with w.driver(main) as drv, drv.session() as s:
        for mode, node in replicas.items():
            with w.driver(node) as rd, rd.session() as rs:
                rs.run("SET REPLICATION ROLE TO REPLICA WITH PORT 10000").consume()
            s.run(f"REGISTER REPLICA {node.name} {mode} TO '{node.replication}'").consume()

    def states():
        with w.driver(main) as drv:
            return {row[0]: (row[4], row[5]) for row in w.read(drv, "SHOW REPLICAS")}

    def converged():
        with w.driver(main) as drv:
            last = w.read(drv, "SHOW STORAGE INFO")
        last = dict((row[0], row[1]) for row in last)["last_commit_timestamp"]
        return all(state == "ready" and ts == last for state, ts in states().values())

    def wait_until(what, done, seconds=60):
        deadline = time.time() + seconds
        while True:
            try:
                if done():
                    return
            except Exception:  # noqa: BLE001 - a node still coming back
                pass
            assert time.time() < deadline, f"timed out waiting until {what}: {states()}"
            time.sleep(0.2)

    wait_until("every replica is ready", lambda: all(s == "ready" for s, _ in states().values()))
    w.set_up_bank(main)
    register.set_up(main)
    wait_until("the accounts reached every replica", converged)

    history = w.History(f"{root}/history.jsonl")
    deadline = time.time() + args.seconds
    readers = [main, *replicas.values()]
    threads = (w.set_clients(history, main, deadline) + w.bank_clients(history, main, readers, deadline, args.seed)
               + w.large_clients(history, main, readers, deadline) + register.clients(history, main, deadline, args.seed))

    faults = []

    nemesis_failed = []

    def nemesis():
        try:
            faults_until_deadline()
        except Exception as error:  # noqa: BLE001 - reported after the run, which then fails
            nemesis_failed.append(repr(error))

    def faults_until_deadline():
        while time.time() < deadline - 2:
            time.sleep(rng.uniform(1.0, 2.5))
            victim = rng.choice(nodes)
            fault = rng.choice(["kill", "pause", "isolate", "partition"] if victim is not main
                               else ["kill", "partition"])
            if fault == "partition":
                # The victim and a random part of the rest (never all of it) on one side.
                others = [n for n in nodes if n is not victim]
                side = [victim] + rng.sample(others, rng.randrange(len(others)))
                rest = [n for n in nodes if n not in side]
                faults.append(f"partition {'+'.join(n.name for n in side)} | {'+'.join(n.name for n in rest)}")
                partition(side, rest)
                time.sleep(rng.uniform(0.5, 2.0))
                for node in nodes:
                    node.rejoin()
                continue
            faults.append(f"{fault} {victim.name}")
            if fault == "kill":
                victim.kill()
                time.sleep(rng.uniform(0.2, 1.0))
                victim.start()
            elif fault == "pause":
                victim.pause()
                time.sleep(rng.uniform(0.2, 1.5))
                victim.resume()
            else:
                victim.isolate()
                time.sleep(rng.uniform(0.2, 1.5))
                victim.heal()

    threads.append(threading.Thread(target=nemesis, daemon=True))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=args.seconds + 120)
        assert not thread.is_alive(), "a client did not stop"
    print(f"faults: {', '.join(faults) or 'none'}", flush=True)
    assert not nemesis_failed, f"the nemesis failed: {nemesis_failed[0]}"
    for f in ("add", "transfer", "large", "write", "cas"):
        kinds = [op["type"] for op in history.ops if op["f"] == f and op["type"] != "invoke"]
        errors = sorted({op["error"] for op in history.ops if op["f"] == f and "error" in op})
        print(f"history {f}: " + ", ".join(f"{k} {kinds.count(k)}" for k in ("ok", "fail", "info"))
              + (f" ({'; '.join(errors)})" if errors else ""), flush=True)
    for node in nodes:
        node.resume()
        if node.isolated:
            node.heal()
        if node.cut:
            node.rejoin()
        if not node.running():
            node.start()
    wait_until("every replica caught up after the faults", converged)

    passed = failed = 0

    def check(name, outcome):
        global passed, failed
        count, problems = outcome
        if problems:
            failed += 1
            print(f"FAIL {name}: " + "; ".join(problems), flush=True)
        else:
            passed += 1
            print(f"ok {name} ({count} checked)", flush=True)

    # A run that acknowledged nothing, or read nothing somewhere, would check nothing.
    for f in ("add", "transfer", "large", "write", "read"):
        assert any(op["f"] == f and op["type"] == "ok" for op in history.ops), f"no {f} was acknowledged"
    for node in readers:
        assert any(op["process"] == f"read-{node.name}" for op in history.ops), f"no read on {node.name} succeeded"
    check("set: every acknowledged insert on every node, no failed one anywhere", w.check_set(history, nodes))
    check("bank: every read on every node sees the same total", w.check_bank(history))
    check("large: 10k-change transactions seen whole or not at all, acknowledged ones everywhere",
          w.check_large(history, nodes))
    check("register: MAIN's reads, writes and compare-and-sets linearizable per key", register.check(history))
    print(f"faults: {passed} passed, {failed} failed")
    if failed:
        print(f"history and logs kept in {root}")
        root = None
        sys.exit(1)
finally:
    for node in nodes:
        node.kill()
    if network:
        network.close()
    if root:
        shutil.rmtree(root, ignore_errors=True)
