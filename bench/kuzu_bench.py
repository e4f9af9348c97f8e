"""Kuzu, embedded, on the standard social graph: the four read workloads of
shared/bench/README.md timed the way Weft's in-process bench times them (the same query
text, the same xorshift start ids, a time budget per query), for bench/kuzu.sh.

  python3 bench/kuzu.py DATA_DIR SECONDS_PER_QUERY OUT.json

DATA_DIR holds persons.csv and knows.csv from gen_graph.py. Prints one line per query and
writes {"load_s", "version", "queries": {name: {qps, p50_us, p99_us}}} to OUT.json.
"""
import json
import os
import sys
import tempfile
import time

import kuzu

QUERIES = [
    ("point", "MATCH (p:Person {id: $id}) RETURN p.name"),
    ("hop1", "MATCH (a:Person {id: $id})-[:KNOWS]->(b:Person) RETURN count(b)"),
    ("hop2", "MATCH (a:Person {id: $id})-[:KNOWS]->(:Person)-[:KNOWS]->(c:Person) "
             "RETURN count(DISTINCT c)"),
    ("agg", "MATCH (p:Person) RETURN p.age AS age, count(*) AS c ORDER BY age"),
]


def ids(persons):
    """The start ids Weft's social_bench draws: xorshift64 from the same seed."""
    state = 0x2545F4914F6CDD1D
    mask = (1 << 64) - 1
    while True:
        state ^= (state << 13) & mask
        state ^= state >> 7
        state ^= (state << 17) & mask
        yield state % persons


def measure(conn, text, budget, persons):
    latencies = []
    draw = ids(persons)
    started = time.perf_counter()
    while time.perf_counter() - started < budget and len(latencies) < 1_000_000:
        params = {"id": next(draw)} if "$id" in text else {}
        t = time.perf_counter()
        result = conn.execute(text, params)
        while result.has_next():
            result.get_next()
        latencies.append(time.perf_counter() - t)
    total = time.perf_counter() - started
    latencies.sort()
    pct = lambda p: latencies[int((len(latencies) - 1) * p)] * 1e6
    return {"qps": len(latencies) / total, "p50_us": pct(0.5), "p99_us": pct(0.99)}


def main():
    data, budget, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    with tempfile.TemporaryDirectory(prefix="kuzu-bench-") as tmp:
        db = kuzu.Database(os.path.join(tmp, "db"))
        conn = kuzu.Connection(db)
        started = time.perf_counter()
        conn.execute("CREATE NODE TABLE Person(id INT64, name STRING, age INT64, PRIMARY KEY (id))")
        conn.execute("CREATE REL TABLE KNOWS(FROM Person TO Person, since INT64)")
        conn.execute(f"COPY Person FROM '{os.path.join(data, 'persons.csv')}' (HEADER=true)")
        conn.execute(f"COPY KNOWS FROM '{os.path.join(data, 'knows.csv')}' (HEADER=true)")
        load_s = time.perf_counter() - started
        persons = conn.execute("MATCH (p:Person) RETURN count(*)").get_next()[0]
        print(f"kuzu {kuzu.__version__}: loaded {persons} persons from CSV in {load_s:.1f} s")
        figures = {}
        for name, text in QUERIES:
            figures[name] = measure(conn, text, budget, persons)
            f = figures[name]
            print(f"{name:<6} {f['qps']:>10.0f} {f['p50_us']:>10.0f} {f['p99_us']:>10.0f}")
    with open(out, "w") as f:
        json.dump({"version": kuzu.__version__, "load_s": load_s, "queries": figures}, f, indent=1)


main()
