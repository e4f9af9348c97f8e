"""End-to-end checks with the real Python drivers against a running `weft serve`.

Usage: python drivers.py PORT   (run by tests/e2e/run.sh, which starts and stops the server)
Each check prints one line; any failed assertion exits non-zero.
"""
import sys
import threading

import mgclient
import neo4j

PORT = int(sys.argv[1])
URI = f"bolt://127.0.0.1:{PORT}"
passed = 0


def check(name, fn):
    global passed
    fn()
    passed += 1
    print(f"ok {name}", flush=True)


def neo4j_round_trip():
    with neo4j.GraphDatabase.driver(URI, auth=("any", "thing")) as d, d.session() as s:
        props = {"i": -7, "f": 1.5, "s": "hé", "b": True, "l": [1, 2, 3], "n": None}
        rec = s.run("CREATE (n:RT $props) RETURN n, n.l AS l", props=props).single()
        node = rec["n"]
        assert node.labels == {"RT"}, node.labels
        assert dict(node) == {k: v for k, v in props.items() if v is not None}, dict(node)
        assert rec["l"] == [1, 2, 3]
        when = s.run("RETURN date('2024-01-05') AS d, duration('P1DT2H') AS dur").single()
        assert when["d"] == neo4j.time.Date(2024, 1, 5), when["d"]
        rel = s.run("CREATE (a:A)-[r:R {w: 2}]->(b:B) RETURN r, type(r) AS t").single()
        assert rel["t"] == "R" and rel["r"]["w"] == 2
        path = s.run("MATCH p = (:A)-[:R]->(:B) RETURN p").single()["p"]
        assert len(path.relationships) == 1 and len(path.nodes) == 2


def neo4j_counters_and_errors():
    with neo4j.GraphDatabase.driver(URI, auth=("any", "thing")) as d, d.session() as s:
        summary = s.run("UNWIND range(1, 3) AS i CREATE (:C {i: i})").consume()
        assert summary.counters.nodes_created == 3, summary.counters
        try:
            s.run("RETURN (").consume()
            raise AssertionError("syntax error was not raised")
        except neo4j.exceptions.CypherSyntaxError as e:
            assert e.code == "Neo.ClientError.Statement.SyntaxError", e.code
        assert s.run("MATCH (c:C) RETURN count(c) AS n").single()["n"] == 3


def neo4j_transactions():
    with neo4j.GraphDatabase.driver(URI, auth=("any", "thing")) as d, d.session() as s:
        with s.begin_transaction() as tx:
            tx.run("CREATE (:T {v: 1})")
            tx.rollback()
        assert s.run("MATCH (t:T) RETURN count(t) AS n").single()["n"] == 0
        with s.begin_transaction() as tx:
            tx.run("CREATE (:T {v: 1})")
            tx.commit()
        assert s.run("MATCH (t:T) RETURN count(t) AS n").single()["n"] == 1


def neo4j_retries_conflicts():
    # Concurrent increments through execute_write: conflicts are retried, nothing is lost.
    with neo4j.GraphDatabase.driver(URI, auth=("any", "thing")) as d:
        with d.session() as s:
            s.run("CREATE (:Counter {v: 0})").consume()

        def worker():
            with d.session() as s:
                for _ in range(20):
                    s.execute_write(lambda tx: tx.run("MATCH (c:Counter) SET c.v = c.v + 1").consume())

        threads = [threading.Thread(target=worker) for _ in range(4)]
        [t.start() for t in threads]
        [t.join(timeout=60) for t in threads]
        with d.session() as s:
            assert s.run("MATCH (c:Counter) RETURN c.v AS v").single()["v"] == 80


def neo4j_streams_large_results():
    with neo4j.GraphDatabase.driver(URI, auth=("any", "thing")) as d, d.session(fetch_size=1000) as s:
        total = sum(r["i"] for r in s.run("UNWIND range(1, 200000) AS i RETURN i"))
        assert total == 200000 * 200001 // 2, total


def pymgclient_autocommit_and_transactions():
    conn = mgclient.connect(host="127.0.0.1", port=PORT)
    cur = conn.cursor()
    cur.execute("CREATE (n:M {x: 1, l: [1, 2]}) RETURN n")
    node = cur.fetchall()[0][0]
    assert node.labels == {"M"} and node.properties == {"x": 1, "l": [1, 2]}, node
    conn.rollback()
    cur.execute("MATCH (n:M) RETURN count(n)")
    assert cur.fetchall() == [(0,)]
    cur.execute("CREATE (:M {x: 2})")
    conn.commit()
    try:
        cur.execute("RETURN (")
        raise AssertionError("syntax error was not raised")
    except mgclient.DatabaseError:
        pass
    conn.autocommit = True
    cur.execute("MATCH (n:M) RETURN n.x")
    assert cur.fetchall() == [(2,)]
    conn.close()


check("neo4j: property types, nodes, relationships, paths", neo4j_round_trip)
check("neo4j: counters and syntax errors", neo4j_counters_and_errors)
check("neo4j: explicit transactions commit and roll back", neo4j_transactions)
check("neo4j: execute_write retries conflicts, no lost increments", neo4j_retries_conflicts)
check("neo4j: large result streams in batches", neo4j_streams_large_results)
check("pymgclient: autocommit, transactions, errors", pymgclient_autocommit_and_transactions)
print(f"e2e: {passed} passed, 0 failed")
