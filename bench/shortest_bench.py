"""Shortest-path latency on the standard social graph, one engine per run, for
bench/shortest.sh: the same seeded random pairs of person ids, one query per pair (the
length of a shortest directed KNOWS path), one client, timed end to end.

  python3 bench/shortest_bench.py weft PORT PERSONS PAIRS OUT.json
  python3 bench/shortest_bench.py falkordb PORT PERSONS PAIRS OUT.json
  python3 bench/shortest_bench.py kuzu DATA_DIR PERSONS PAIRS OUT.json

Weft is asked over Bolt (the neo4j driver), FalkorDB over RESP (its Python client), Kuzu
in process (its Python API, with the graph copied in from DATA_DIR's CSVs first). Writes
{"engine", "version", "pairs", "found", "p50_ms", "p99_ms", "mean_ms", "lengths"} to OUT.json;
`lengths` (null: no path) lets the report check that the engines agree.
"""
import json
import os
import random
import sys
import tempfile
import time

WEFT = ("MATCH (a:Person {id: $a}), (b:Person {id: $b}) "
        "MATCH p = shortestPath((a)-[:KNOWS*]->(b)) RETURN length(p)")
# FalkorDB takes shortestPath only in WITH or RETURN (null when there is none).
FALKOR = ("MATCH (a:Person {id: $a}), (b:Person {id: $b}) "
          "RETURN length(shortestPath((a)-[:KNOWS*]->(b)))")
KUZU = ("MATCH p = (a:Person)-[:KNOWS* SHORTEST 1..30]->(b:Person) "
        "WHERE a.id = $a AND b.id = $b RETURN length(p)")


def pairs(persons, count):
    rng = random.Random(42)
    out = []
    while len(out) < count:
        a, b = rng.randrange(persons), rng.randrange(persons)
        if a != b:
            out.append((a, b))
    return out


def timed(ask, todo):
    """Runs ask(a, b) -> length or None for each pair, after a few warm-up calls."""
    for a, b in todo[:5]:
        ask(a, b)
    latencies, lengths = [], []
    for a, b in todo:
        t = time.perf_counter()
        lengths.append(ask(a, b))
        latencies.append(time.perf_counter() - t)
    return latencies, lengths


def weft(port, todo):
    import neo4j
    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("any", "thing")) as d, d.session() as s:
        def ask(a, b):
            rows = s.run(WEFT, a=a, b=b).values()
            return rows[0][0] if rows else None
        version = d.get_server_info().agent
        return version, timed(ask, todo)


def falkordb(port, todo):
    import falkordb as client
    graph = client.FalkorDB(host="127.0.0.1", port=int(port)).select_graph("social")

    def ask(a, b):
        rows = graph.query(FALKOR, {"a": a, "b": b}).result_set
        return rows[0][0] if rows else None
    return "falkordb", timed(ask, todo)


def kuzu(data, todo):
    import kuzu as client
    with tempfile.TemporaryDirectory(prefix="kuzu-shortest-") as tmp:
        conn = client.Connection(client.Database(os.path.join(tmp, "db")))
        conn.execute("CREATE NODE TABLE Person(id INT64, name STRING, age INT64, PRIMARY KEY (id))")
        conn.execute("CREATE REL TABLE KNOWS(FROM Person TO Person, since INT64)")
        conn.execute(f"COPY Person FROM '{os.path.join(data, 'persons.csv')}' (HEADER=true)")
        conn.execute(f"COPY KNOWS FROM '{os.path.join(data, 'knows.csv')}' (HEADER=true)")

        def ask(a, b):
            result = conn.execute(KUZU, {"a": a, "b": b})
            return result.get_next()[0] if result.has_next() else None
        return f"kuzu {client.__version__}", timed(ask, todo)


def main():
    engine, where, persons, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    todo = pairs(persons, count)
    version, (latencies, lengths) = {"weft": weft, "falkordb": falkordb, "kuzu": kuzu}[engine](where, todo)
    ordered = sorted(latencies)
    pct = lambda p: ordered[int((len(ordered) - 1) * p)] * 1e3
    figures = {
        "engine": engine, "version": version, "pairs": len(todo),
        "found": sum(1 for l in lengths if l is not None),
        "p50_ms": pct(0.5), "p99_ms": pct(0.99), "mean_ms": sum(latencies) / len(latencies) * 1e3,
        "lengths": lengths,
    }
    print(f"{engine}: {figures['found']}/{len(todo)} paths, p50 {figures['p50_ms']:.2f} ms, "
          f"p99 {figures['p99_ms']:.2f} ms", file=sys.stderr)
    with open(out, "w") as f:
        json.dump(figures, f)


main()
