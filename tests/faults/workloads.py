"""Client workloads that record a history, and the checkers that judge it.

Owns: the history (every operation as invoke, then ok, fail or info: ok and fail are
definite, info means the outcome is unknown, say a connection lost mid-commit), the
workloads (set, bank, large) and what each promises:
- set: every acknowledged insert is present at the end on MAIN and on every replica;
  no insert that definitely failed is present anywhere.
- bank: transfers between accounts keep the total; every read, on MAIN or a replica,
  sees the same total (snapshot isolation on each), and so does every node at the end.
- large: transactions of 10,000 creates arrive whole or not at all: a read never sees part
  of one, and every acknowledged one is whole everywhere at the end.
Every loop stops at its deadline.
"""
import json
import random
import threading
import time

import neo4j

TOTAL, ACCOUNTS, LARGE = 1000, 5, 10_000


class History:
    def __init__(self, path):
        self.ops, self.lock, self.file = [], threading.Lock(), open(path, "w")

    def add(self, process, kind, f, value, error=None):
        op = {"process": process, "type": kind, "f": f, "value": value, "time": time.time()}
        if error is not None:
            op["error"] = f"{type(error).__name__} {getattr(error, 'code', '') or ''}".strip()
            op["message"] = str(error)[:200]
        with self.lock:
            self.ops.append(op)
            self.file.write(json.dumps(op) + "\n")

    def outcomes(self, f):
        """value -> final type (ok, fail or info) of every invoked `f`."""
        done = {}
        for op in self.ops:
            if op["f"] == f and op["type"] != "invoke":
                done[json.dumps(op["value"])] = op["type"]
        return done


def classify(error):
    """ok, fail (definitely not applied) or info (unknown) for an error a write raised."""
    code = getattr(error, "code", "") or ""
    if code == "Neo.DatabaseError.Transaction.CommitNotConfirmed":
        return "ok"  # committed on MAIN, a replica's confirmation missing
    if code.startswith("Neo.ClientError") or code.startswith("Neo.TransientError"):
        return "fail"
    if isinstance(error, neo4j.exceptions.ServiceUnavailable) and "Couldn't connect" in str(error):
        return "fail"  # no connection was made: the statement never left the client
    return "info"


def driver(node):
    return neo4j.GraphDatabase.driver(f"bolt://{node.bolt}", auth=("any", "thing"), connection_timeout=2,
                                      connection_acquisition_timeout=5, max_transaction_retry_time=0)


def write(history, process, drv, f, value, query, **params):
    history.add(process, "invoke", f, value)
    try:
        with drv.session() as s:
            s.run(query, params).consume()
        history.add(process, "ok", f, value)
    except Exception as error:  # noqa: BLE001 - every failure is recorded and judged
        history.add(process, classify(error), f, value, error)
        time.sleep(0.05)


def read(drv, query, consistency=None):
    """The rows of a read; `consistency` goes in the transaction metadata (on a Raft
    member: NONE, LAST_COMMITTED or LINEARIZABLE)."""
    if consistency:
        query = neo4j.Query(query, metadata={"consistency": consistency})
    with drv.session(default_access_mode=neo4j.READ_ACCESS) as s:
        return [r.values() for r in s.run(query)]


def set_clients(history, main, deadline, clients=2, limit=100_000):
    def client(c):
        with driver(main) as drv:
            for i in range(limit):
                if time.time() > deadline:
                    return
                value = c * limit + i
                write(history, f"set{c}", drv, "add", value, "CREATE (:SetItem {id: $id})", id=value)
    return [threading.Thread(target=client, args=(c,), daemon=True) for c in range(clients)]


def check_set(history, nodes):
    outcomes = history.outcomes("add")
    acked = {int(v) for v, kind in outcomes.items() if kind == "ok"}
    failed = {int(v) for v, kind in outcomes.items() if kind == "fail"}
    problems = []
    for node in nodes:
        with driver(node) as drv:
            present = {row[0] for row in read(drv, "MATCH (n:SetItem) RETURN n.id")}
        lost = acked - present
        if lost:
            problems.append(f"{node.name} lacks {len(lost)} acknowledged inserts, e.g. {sorted(lost)[:5]}")
        ghosts = failed & present
        if ghosts:
            problems.append(f"{node.name} holds {len(ghosts)} inserts that failed, e.g. {sorted(ghosts)[:5]}")
    return len(acked), problems


def set_up_bank(main):
    with driver(main) as drv, drv.session() as s:
        s.run("UNWIND range(0, $n - 1) AS i CREATE (:Account {id: i, balance: $each})", n=ACCOUNTS,
              each=TOTAL // ACCOUNTS).consume()


def bank_clients(history, main, readers, deadline, seed):
    rng = random.Random(seed)

    def transfers():
        with driver(main) as drv:
            while time.time() < deadline:
                a, b = rng.sample(range(ACCOUNTS), 2)
                amount = rng.randint(1, 20)
                write(history, "bank", drv, "transfer", [a, b, amount],
                      "MATCH (a:Account {id: $a}), (b:Account {id: $b}) WHERE a.balance >= $amount "
                      "SET a.balance = a.balance - $amount, b.balance = b.balance + $amount", a=a, b=b, amount=amount)

    def reads(node):
        with driver(node) as drv:
            while time.time() < deadline:
                try:
                    rows = read(drv, "MATCH (a:Account) RETURN count(a), sum(a.balance)")
                    history.add(f"read-{node.name}", "ok", "total", [node.name] + rows[0])
                except Exception:  # noqa: BLE001 - a read that fails tells nothing
                    pass
                time.sleep(0.02)

    return [threading.Thread(target=transfers, daemon=True)] + [
        threading.Thread(target=reads, args=(n,), daemon=True) for n in readers]


def check_bank(history, nodes):
    reads = [op["value"] for op in history.ops if op["f"] == "total"]
    wrong = [r for r in reads if r[1:] != [ACCOUNTS, TOTAL]]
    problems = [f"{len(wrong)} reads saw another total, e.g. {wrong[:3]}"] if wrong else []
    for node in nodes:
        with driver(node) as drv:
            final = read(drv, "MATCH (a:Account) RETURN count(a), sum(a.balance)")[0]
        if final != [ACCOUNTS, TOTAL]:
            problems.append(f"{node.name} ends with {final[0]} accounts holding {final[1]}")
    return len(reads) + len(nodes), problems


def large_clients(history, main, readers, deadline):
    def writes():
        with driver(main) as drv:
            batch = 0
            while time.time() < deadline:
                write(history, "large", drv, "large", batch,
                      "UNWIND range(1, $n) AS i CREATE (:Large {batch: $batch, i: i})", n=LARGE, batch=batch)
                batch += 1

    def reads(node):
        with driver(node) as drv:
            while time.time() < deadline:
                try:
                    rows = read(drv, "MATCH (n:Large) RETURN n.batch, count(*)")
                    history.add(f"read-{node.name}", "ok", "batches", [node.name, rows])
                except Exception:  # noqa: BLE001
                    pass
                time.sleep(0.1)

    return [threading.Thread(target=writes, daemon=True)] + [
        threading.Thread(target=reads, args=(n,), daemon=True) for n in readers]


def check_large(history, nodes):
    problems = []
    partial = [(op["value"][0], b, c) for op in history.ops if op["f"] == "batches"
               for b, c in op["value"][1] if c != LARGE]
    if partial:
        problems.append(f"{len(partial)} reads saw part of a transaction, e.g. {partial[:3]}")
    acked = {int(v) for v, kind in history.outcomes("large").items() if kind == "ok"}
    for node in nodes:
        with driver(node) as drv:
            counts = dict(read(drv, "MATCH (n:Large) RETURN n.batch, count(*)"))
        missing = [b for b in acked if counts.get(b) != LARGE]
        if missing:
            problems.append(f"{node.name} lacks acknowledged large transactions {missing[:5]}")
    return len(acked), problems
