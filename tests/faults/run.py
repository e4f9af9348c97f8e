"""The fault suite, on one of two topologies, each node a real `weft serve` in its own
network namespace:
- replication: a MAIN with a SYNC, a STRICT_SYNC and an ASYNC replica; every write goes to
  MAIN, reads go everywhere;
- raft: a three-member Raft cluster; each workload writes through its own member (a
  follower forwards to the leader), reads go everywhere, register reads are LINEARIZABLE.
The set, bank, large and register workloads run while a nemesis kills, pauses and
isolates nodes and partitions the network (leader and MAIN included); then the faults are
healed and the history is checked (see workloads.py and register.py for what each
workload promises); on the Raft topology, every member's graph fingerprint must then
agree with the others' at the same log index.

Usage: python run.py WEFT_BINARY [--topology replication|raft] [--seconds S] [--seed N]
(tests/faults/run.sh runs both).
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

from cluster import Member, Network, Node, available, fingerprints_agree, own_role, partition
import register
import workloads as w

parser = argparse.ArgumentParser()
parser.add_argument("binary")
parser.add_argument("--seconds", type=float, default=20)
parser.add_argument("--seed", type=int, default=int(time.time()))
parser.add_argument("--topology", choices=["replication", "raft"], default="replication")
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
print(f"fault suite ({args.topology}): seed {args.seed}, {args.seconds:.0f} s of faults", flush=True)
root = tempfile.mkdtemp(prefix="weft-faults-")
network = None
nodes = []
try:
    network = Network()

    def wait_until(what, done, seconds=60):
        deadline = time.time() + seconds
        while True:
            try:
                if done():
                    return
            except Exception:  # noqa: BLE001 - a node still coming back
                pass
            assert time.time() < deadline, f"timed out waiting until {what}: {safely(describe)}"
            time.sleep(0.2)

    def safely(look):
        """What `look()` says, or why it could not say (a node may be down)."""
        try:
            return look()
        except Exception as error:  # noqa: BLE001 - only for a failure message
            return f"(unknown: {error!r})"

    def last_commit(node):
        with w.driver(node) as drv:
            return dict((row[0], row[1]) for row in w.read(drv, "SHOW STORAGE INFO"))["last_commit_timestamp"]

    if args.topology == "replication":
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

        def describe():
            with w.driver(main) as drv:
                return {row[0]: (row[4], row[5]) for row in w.read(drv, "SHOW REPLICAS")}

        def converged():
            last = last_commit(main)
            return all(state == "ready" and ts == last for state, ts in describe().values())

        wait_until("every replica is ready", lambda: all(s == "ready" for s, _ in describe().values()))
        # Every write goes to MAIN; MAIN may not be paused or isolated (a replica is).
        entry = {"set": main, "bank": main, "large": main, "register": [main]}
        faults_of = {node.name: ["kill", "pause", "isolate", "partition"] for node in replicas.values()}
        faults_of[main.name] = ["kill", "partition"]
    else:
        members = {n: f"{network.address(n)}:7000" for n in (1, 2, 3)}
        nodes = [Member(args.binary, network, n, root, f"member{n}", members) for n in (1, 2, 3)]
        for node in nodes:
            node.start()

        def describe():
            return {node.name: own_role(node) for node in nodes}

        def converged():
            lasts = {last_commit(node) for node in nodes}
            return len(lasts) == 1 and "leader" in describe().values()

        def writable():
            with w.driver(nodes[0]) as drv, drv.session() as s:
                s.run("CREATE (:Probe) WITH 1 AS x MATCH (p:Probe) DELETE p").consume()
            return True
        wait_until("the cluster takes writes", writable)
        # Each workload writes through a member of its own: followers forward to the leader.
        # Register clients on every member: their histories are judged together.
        entry = {"set": nodes[0], "bank": nodes[1], "large": nodes[2], "register": nodes}
        faults_of = {node.name: ["kill", "pause", "isolate", "partition"] for node in nodes}

    w.set_up_bank(entry["bank"])
    register.set_up(entry["register"][0])
    wait_until("the set-up reached every node", converged)

    history = w.History(f"{root}/history.jsonl")
    deadline = time.time() + args.seconds
    readers = nodes
    threads = (w.set_clients(history, entry["set"], deadline)
               + w.bank_clients(history, entry["bank"], readers, deadline, args.seed)
               + w.large_clients(history, entry["large"], readers, deadline)
               + register.clients(history, entry["register"], deadline, args.seed))

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
            fault = rng.choice(faults_of[victim.name])
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
    wait_until("every node caught up after the faults", converged, seconds=120)

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
    check("bank: every read on every node sees the same total, and every node ends with it",
          w.check_bank(history, nodes))
    check("large: 10k-change transactions seen whole or not at all, acknowledged ones everywhere",
          w.check_large(history, nodes))
    if args.topology == "raft":
        check("fingerprints: every member's graph agrees with the others' at the same log index, none restricted",
              fingerprints_agree(nodes, writable, wait_until))
    where = "+".join(node.name for node in entry["register"])
    check(f"register: reads, writes and compare-and-sets through {where} linearizable per key",
          register.check(history))
    print(f"faults: {passed} passed, {failed} failed")
    if failed:
        print(f"history and logs kept in {root}")
        root = None
        sys.exit(1)
except BaseException:
    if root:
        print(f"history and logs kept in {root}")
        root = None
    raise
finally:
    for node in nodes:
        node.kill()
    if network:
        network.close()
    if root:
        shutil.rmtree(root, ignore_errors=True)
