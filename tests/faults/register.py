"""The register workload and its linearizability checker.

Owns: clients that read, write and compare-and-set a few registers (one `Register` vertex
per key) through the nodes given (MAIN; or every Raft member, reads LINEARIZABLE),
recording each operation in the history, and the check that the answers are
linearizable per key: some order of the operations, each taking effect at one
instant between its invocation and its answer, explains every read and every
compare-and-set. That is what MAIN promises, across its own crashes and restarts (a commit
is answered only once durable), and what a Raft cluster promises through any member
(writes go through the leader, reads confirm a read index); replicas promise less (their
reads may be stale), so they are not asked. An operation that definitely failed took no effect and is left out; one
whose outcome is unknown (info) may have taken effect at any time after its invocation,
or never. The search is Wing and Gong's, with Lowe's memo of visited states, bounded in
steps; every client loop stops at its deadline.
"""
import random
import threading
import time

import workloads as w

KEYS = 3
INFINITY = float("inf")
SEARCH_LIMIT = 2_000_000


def set_up(main):
    with w.driver(main) as drv, drv.session() as s:
        s.run("UNWIND range(0, $n - 1) AS k CREATE (:Register {k: k, v: 0})", n=KEYS).consume()


def clients(history, entries, deadline, seed, count=3, limit=100_000):
    """`count` clients, client c talking to entries[c mod len(entries)]."""
    def client(c):
        rng = random.Random(seed * 100 + c)
        with w.driver(entries[c % len(entries)]) as drv:
            for i in range(limit):
                if time.time() > deadline:
                    return
                key = rng.randrange(KEYS)
                roll = rng.random()
                if roll < 0.5:
                    read(history, f"reg{c}", drv, key)
                elif roll < 0.8:
                    value = (c + 1) * limit + i
                    w.write(history, f"reg{c}", drv, "write", [key, value],
                            "MATCH (r:Register {k: $k}) SET r.v = $v", k=key, v=value)
                else:
                    old, new = rng.choice([0, *last_values(history, key)]), (c + 1) * limit + i
                    cas(history, f"reg{c}", drv, key, old, new)
                # After an error, a pause: each operation of unknown outcome doubles the
                # orders the checker may have to try.
                time.sleep(0.3 if last_outcome(history, f"reg{c}") in ("info", "fail") else 0.01)
    return [threading.Thread(target=client, args=(c,), daemon=True) for c in range(count)]


def last_outcome(history, process):
    """The type of `process`'s newest answered operation."""
    with history.lock:
        return next((op["type"] for op in reversed(history.ops) if op["process"] == process), None)


def last_values(history, key, n=3):
    """Values recently written to `key`: likely current, so some compare-and-sets succeed."""
    with history.lock:
        recent = [op["value"][1] for op in history.ops[-60:] if op["f"] == "write" and op["value"][0] == key]
    return recent[-n:]


def read(history, process, drv, key):
    history.add(process, "invoke", "read", [key, None])
    try:
        # LINEARIZABLE: on a Raft follower the read waits for the leader's read index.
        rows = w.read(drv, f"MATCH (r:Register {{k: {key}}}) RETURN r.v", "LINEARIZABLE")
        history.add(process, "ok", "read", [key, rows[0][0]])
    except Exception as error:  # noqa: BLE001 - a read that fails took no effect
        history.add(process, "fail", "read", [key, None], error)


def cas(history, process, drv, key, old, new):
    history.add(process, "invoke", "cas", [key, old, new])
    try:
        with drv.session() as s:
            swapped = s.run("MATCH (r:Register {k: $k}) WHERE r.v = $old SET r.v = $new RETURN count(r)",
                            k=key, old=old, new=new).single()[0]
        # A compare that did not match changed nothing: still an answer to explain.
        history.add(process, "ok", "cas", [key, old, new, bool(swapped)])
    except Exception as error:  # noqa: BLE001
        history.add(process, w.classify(error), "cas", [key, old, new, None], error)


def operations(history, key):
    """The key's operations: (invoked, answered or infinity, kind, value, definite)."""
    pending, done = {}, []
    for op in history.ops:
        if op["f"] not in ("read", "write", "cas") or op["value"][0] != key:
            continue
        if op["type"] == "invoke":
            pending[op["process"]] = op
            continue
        start = pending.pop(op["process"])
        if op["type"] == "fail":
            continue
        definite = op["type"] == "ok"
        done.append((start["time"], op["time"] if definite else INFINITY, op["f"], op["value"], definite))
    # An operation still pending when the history ended has an unknown outcome too.
    done += [(op["time"], INFINITY, op["f"], op["value"], False) for op in pending.values() if op["f"] != "read"]
    return sorted(done, key=lambda op: op[0])


def step(state, op):
    """The register after `op` takes effect on `state`, or None if `op` cannot happen there."""
    _, _, kind, value, definite = op
    if kind == "read":
        return state if value[1] == state else None
    if kind == "write":
        return value[1]
    old, new = value[1], value[2]
    if definite and value[3] is None:
        # Committed, its answer lost (not confirmed by a replica): it swapped if it matched.
        return new if state == old else state
    if definite and not value[3]:
        return state if state != old else None
    return new if state == old else None


def linearizable(ops, initial=0):
    """Whether `ops` (sorted by invocation) are linearizable from `initial`; None if the
    search ran out of steps. Operations with an unknown outcome may also never happen."""
    n = len(ops)
    must = sum(1 << i for i, op in enumerate(ops) if op[4])
    seen = set()
    stack = [(0, initial)]
    steps = 0
    while stack:
        done, state = stack.pop()
        if done & must == must:
            return True
        if (done, state) in seen:
            continue
        seen.add((done, state))
        steps += 1
        if steps > SEARCH_LIMIT:
            return None
        # Candidates: operations not yet taken that were invoked before the earliest
        # answer among the definite ones not yet taken (nothing may follow that answer
        # without it having happened). The scan starts at the first one not taken.
        earliest = INFINITY
        for i in range((~done & (done + 1)).bit_length() - 1, n):
            if done >> i & 1:
                continue
            start, end = ops[i][0], ops[i][1]
            if start > earliest:
                break
            earliest = min(earliest, end)
            after = step(state, ops[i])
            if after is not None:
                stack.append((done | 1 << i, after))
            if not ops[i][4]:
                # Unknown outcome: it may also never have happened.
                stack.append((done | 1 << i, state))
    return False


def written(op):
    """The value `op` writes, if it is a write or a compare-and-set."""
    _, _, kind, value, _ = op
    return value[1] if kind == "write" else value[2] if kind == "cas" else None


def observed(ops):
    """Values some definite operation saw: what reads returned and what swaps compared to."""
    seen = {op[3][1] for op in ops if op[2] == "read"}
    return seen | {op[3][1] for op in ops if op[2] == "cas" and op[4] and op[3][3]}


def check(history):
    problems, count = [], 0
    for key in range(KEYS):
        ops = operations(history, key)
        count += len(ops)
        # First without the operations of unknown outcome whose value nobody saw: a
        # history that has an order without them has one with them (they never took
        # effect). Only if that finds none is the whole history searched.
        seen = observed(ops)
        pruned = [op for op in ops if op[4] or written(op) in seen]
        verdict = linearizable(pruned) or linearizable(ops)
        if verdict is None:
            problems.append(f"key {key}: the search for an order of its {len(ops)} operations ran out of steps")
        elif not verdict:
            problems.append(f"key {key}: no order of its {len(ops)} operations explains the answers")
    return count, problems


def self_check():
    """The checker accepts a history that has an order and refuses one that has none."""
    write = (0.0, 1.0, "write", [0, 5], True)
    fresh = (2.0, 3.0, "read", [0, 5], True)
    stale = (2.0, 3.0, "read", [0, 0], True)
    unknown = (0.5, INFINITY, "write", [0, 7], False)
    assert linearizable([write, fresh])
    assert not linearizable([write, stale]), "a read after a write saw the old value"
    assert linearizable([write, unknown, fresh]), "an unknown write may never have happened"
    assert observed([write, fresh, unknown]) == {5}
    assert linearizable([write, unknown, (2.0, 3.0, "read", [0, 7], True)]), "or may have"
    swap = (2.0, 3.0, "cas", [0, 5, 9, True], True)
    assert linearizable([write, swap, (4.0, 5.0, "read", [0, 9], True)])
    assert not linearizable([write, (2.0, 3.0, "cas", [0, 5, 9, False], True)]), "the compare should have matched"
    unconfirmed = (2.0, 3.0, "cas", [0, 5, 9, None], True)
    assert linearizable([write, unconfirmed, (4.0, 5.0, "read", [0, 9], True)]), "an unconfirmed swap happened"
    assert not linearizable([write, unconfirmed, (4.0, 5.0, "read", [0, 5], True)]), "and its compare matched"
