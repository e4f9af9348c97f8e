"""End-to-end checks with the real Python drivers against a running `weft serve`.

Usage: python drivers.py PORT SERVER_PID   (run by tests/e2e/run.sh, which starts and stops
the server; the pid lets a check watch the server's memory). Each check prints one line;
any failed assertion exits non-zero.
"""
import datetime
import sys
import threading

import mgclient
import neo4j

import checks

check = checks.Checks()

PORT = int(sys.argv[1])
SERVER_PID = int(sys.argv[2])
URI = f"bolt://127.0.0.1:{PORT}"


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


def expect_error(session, query, exception, code):
    """Runs `query`, which must fail with the driver's `exception` and Neo4j `code`."""
    try:
        session.run(query).consume()
    except exception as e:
        assert e.code == code, e.code
        return e
    raise AssertionError(f"{query!r} did not raise {exception.__name__}")


def neo4j_parameters_round_trip():
    # Every value type goes to the server as a parameter and comes back unchanged.
    zoned = datetime.datetime(2024, 3, 1, 12, 30, 5, 123456, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    values = {
        "null": None,
        "bool": False,
        "int": -(2**63),
        "float": -0.25,
        "string": "grüße \u2603",
        "list": [1, "two", [3.0, None]],
        "map": {"a": 1, "b": {"c": [True]}},
        "date": datetime.date(1999, 12, 31),
        "local_time": datetime.time(23, 59, 58, 250000),
        "local_datetime": datetime.datetime(2020, 2, 29, 8, 0, 1),
        "datetime": zoned,
        "duration": neo4j.time.Duration(months=14, days=3, seconds=7, nanoseconds=9),
    }
    with neo4j.GraphDatabase.driver(URI, auth=("any", "thing")) as d, d.session() as s:
        for name, value in values.items():
            back = s.run("RETURN $v AS v", v=value).single()["v"]
            if isinstance(back, (neo4j.time.Date, neo4j.time.Time, neo4j.time.DateTime)):
                back = back.to_native()
            assert back == value, (name, value, back)
        # Properties hold scalars and lists of one scalar type, as in Neo4j: no maps, no
        # nested or mixed lists (those round-trip as values above, not as properties).
        stored = {k: v for k, v in values.items() if k not in ("null", "map", "list")}
        stored["list"] = [1, 2, 3]
        node = s.run("CREATE (n:AllTypes $props) RETURN n", props=stored).single()["n"]
        assert set(node.keys()) == set(stored), node.keys()
        assert node["list"] == stored["list"] and node["int"] == stored["int"]


def neo4j_runtime_errors():
    with neo4j.GraphDatabase.driver(URI, auth=("any", "thing")) as d, d.session() as s:
        e = expect_error(s, "UNWIND [1, 0] AS x RETURN 10 / x", neo4j.exceptions.ClientError,
                         "Neo.ClientError.Statement.ArithmeticError")
        assert "zero" in e.message, e.message
        s.run("CREATE CONSTRAINT ON (u:Unique) ASSERT u.k IS UNIQUE").consume()
        s.run("CREATE (:Unique {k: 1})").consume()
        expect_error(s, "CREATE (:Unique {k: 1})", neo4j.exceptions.ConstraintError,
                     "Neo.ClientError.Schema.ConstraintValidationFailed")
        # The failed statement wrote nothing and the session goes on.
        assert s.run("MATCH (u:Unique) RETURN count(u) AS n").single()["n"] == 1


def neo4j_counters_and_errors():
    with neo4j.GraphDatabase.driver(URI, auth=("any", "thing")) as d, d.session() as s:
        summary = s.run("UNWIND range(1, 3) AS i CREATE (:C {i: i})").consume()
        assert summary.counters.nodes_created == 3, summary.counters
        expect_error(s, "RETURN (", neo4j.exceptions.CypherSyntaxError, "Neo.ClientError.Statement.SyntaxError")
        assert s.run("MATCH (c:C) RETURN count(c) AS n").single()["n"] == 3


def neo4j_routing_uri():
    # neo4j:// makes the driver ask for a routing table first; a single instance serves
    # every role itself.
    with neo4j.GraphDatabase.driver(f"neo4j://127.0.0.1:{PORT}", auth=("any", "thing")) as d:
        d.verify_connectivity()
        records, _, _ = d.execute_query("RETURN 40 + 2 AS n", routing_=neo4j.RoutingControl.READ)
        assert records[0]["n"] == 42
        d.execute_query("CREATE (:Routed)")
        records, _, _ = d.execute_query("MATCH (r:Routed) RETURN count(r) AS n")
        assert records[0]["n"] == 1


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

        # Each worker has its own driver. Sharing one driver's pool between threads trips a
        # race in the driver (6.x): after a failure the session hands its connection back to
        # the pool before the transaction's own rollback has looked at it, so another thread's
        # BEGIN can make that rollback raise ResultFailedError instead of retrying.
        def worker():
            with neo4j.GraphDatabase.driver(URI, auth=("any", "thing")) as own, own.session() as s:
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


def server_rss_kib():
    return checks.server_rss_kib(SERVER_PID)


def neo4j_million_rows_bounded_memory():
    # A million rows of ~40 bytes each stream through; the server holds one batch at a
    # time, so its resident memory stays far below the size of the whole result.
    rows = 1_000_000
    with neo4j.GraphDatabase.driver(URI, auth=("any", "thing")) as d, d.session(fetch_size=1000) as s:
        before = server_rss_kib()
        peak, count, total = before, 0, 0
        query = "UNWIND range(1, $n) AS i RETURN i, 'row number ' + toString(i) AS label"
        for record in s.run(query, n=rows):
            count += 1
            total += record["i"]
            if count % 50_000 == 0:
                peak = max(peak, server_rss_kib())
        assert count == rows and total == rows * (rows + 1) // 2, (count, total)
        growth_mib = (peak - before) / 1024
        assert growth_mib < 64, f"server memory grew by {growth_mib:.0f} MiB while streaming"


def neo4j_fifty_concurrent_sessions():
    sessions, writes = 50, 10
    errors = []
    with neo4j.GraphDatabase.driver(URI, auth=("any", "thing"), max_connection_pool_size=sessions) as d:
        barrier = threading.Barrier(sessions)

        def worker(n):
            try:
                with d.session() as s:
                    barrier.wait(timeout=60)
                    for i in range(writes):
                        s.execute_write(lambda tx: tx.run("CREATE (:Many {s: $s, i: $i})", s=n, i=i).consume())
                    mine = s.run("MATCH (m:Many {s: $s}) RETURN count(m) AS c", s=n).single()["c"]
                    assert mine == writes, (n, mine)
            except Exception as e:  # reported below, with the session number
                errors.append((n, repr(e)))

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(sessions)]
        [t.start() for t in threads]
        [t.join(timeout=120) for t in threads]
        assert not errors, errors[:3]
        assert not any(t.is_alive() for t in threads), "a session did not finish"
        with d.session() as s:
            assert s.run("MATCH (m:Many) RETURN count(m) AS c").single()["c"] == sessions * writes


def neo4j_schema_in_managed_transactions():
    # Tools create indexes through managed transactions; a transaction may change the
    # schema or write data, not both; a missing parameter has its own code.
    with neo4j.GraphDatabase.driver(URI, auth=("any", "thing")) as d:
        d.execute_query("CREATE INDEX FOR (s:Schema) ON (s.k)")
        with d.session() as s:
            s.execute_write(lambda tx: tx.run("CREATE CONSTRAINT ON (s:Schema) ASSERT s.u IS UNIQUE").consume())
            rows = s.execute_read(lambda tx: tx.run("SHOW INDEX INFO").data())
            assert any(r.get("label") == "Schema" for r in rows), rows
            tx = s.begin_transaction()
            tx.run("CREATE (:Schema {k: 1})").consume()
            try:
                tx.run("CREATE INDEX FOR (s:Schema) ON (s.other)").consume()
                raise AssertionError("mixing data writes and schema changes was not refused")
            except neo4j.exceptions.ClientError as e:
                assert e.code == "Neo.ClientError.Transaction.ForbiddenDueToTransactionType", e.code
            tx.close()  # the failure ended the transaction on the server; this ends it here
            assert s.run("MATCH (n:Schema) RETURN count(n) AS n").single()["n"] == 0
            expect_error(s, "RETURN $absent", neo4j.exceptions.ClientError,
                         "Neo.ClientError.Statement.ParameterMissing")


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
check("neo4j: every value type round-trips as a parameter", neo4j_parameters_round_trip)
check("neo4j: counters and syntax errors", neo4j_counters_and_errors)
check("neo4j: runtime errors raise the matching exception", neo4j_runtime_errors)
check("neo4j: explicit transactions commit and roll back", neo4j_transactions)
check("neo4j: neo4j:// routing URIs work against a single instance", neo4j_routing_uri)
check("neo4j: execute_write retries conflicts, no lost increments", neo4j_retries_conflicts)
check("neo4j: large result streams in batches", neo4j_streams_large_results)
check("neo4j: a million rows stream with bounded server memory", neo4j_million_rows_bounded_memory)
check("neo4j: 50 concurrent sessions", neo4j_fifty_concurrent_sessions)
check("neo4j: schema statements in managed transactions; ParameterMissing", neo4j_schema_in_managed_transactions)
check("pymgclient: autocommit, transactions, errors", pymgclient_autocommit_and_transactions)
print(f"e2e: {check.passed} passed, 0 failed")
