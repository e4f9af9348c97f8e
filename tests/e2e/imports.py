"""End-to-end LOAD CSV checks with the real drivers against a running `weft serve`.

Usage: python imports.py PORT SERVER_PID IMPORT_DIR   (run by tests/e2e/run.sh, which
starts the server with its data directory; IMPORT_DIR is that directory's `import`). The
files are written here, into the server's import directory. Each check prints one line;
any failed assertion exits non-zero.
"""
import gzip
import os
import sys

import mgclient
import neo4j

import checks

check = checks.Checks()

PORT = int(sys.argv[1])
SERVER_PID = int(sys.argv[2])
IMPORT_DIR = sys.argv[3]
URI = f"bolt://127.0.0.1:{PORT}"


def server_rss_kib():
    return checks.server_rss_kib(SERVER_PID)


def write(name, text, compress=False):
    path = os.path.join(IMPORT_DIR, name)
    opener = gzip.open if compress else open
    with opener(path, "wt", encoding="utf-8", newline="") as f:
        f.write(text)
    return path


PEOPLE = 2000


def people_and_friends_in_batches():
    lines = ["id,name,bio"]
    for i in range(PEOPLE):
        lines.append(f'{i},"Person {i}, the {i % 7}th","said ""hi""\nand left"')
    write("people.csv", "\ufeff" + "\n".join(lines) + "\n")
    edges = ["from,to"] + [f"{i},{(i * 7 + 1) % PEOPLE}" for i in range(PEOPLE)]
    write("knows.csv.gz", "\n".join(edges) + "\n", compress=True)
    with neo4j.GraphDatabase.driver(URI, auth=("any", "thing")) as d, d.session() as s:
        s.run("CREATE INDEX ON :Person(id)").consume()
        summary = s.run(
            "LOAD CSV WITH HEADERS FROM 'file:///people.csv' AS row "
            "CALL { WITH row CREATE (:Person {id: toInteger(row.id), name: row.name, bio: row.bio}) } "
            "IN TRANSACTIONS OF 500 ROWS"
        ).consume()
        assert summary.counters.nodes_created == PEOPLE, summary.counters
        summary = s.run(
            "LOAD CSV WITH HEADERS FROM 'file:///knows.csv.gz' AS row "
            "CALL { WITH row MATCH (a:Person {id: toInteger(row.from)}), (b:Person {id: toInteger(row.to)}) "
            "CREATE (a)-[:KNOWS]->(b) } IN TRANSACTIONS"
        ).consume()
        assert summary.counters.relationships_created == PEOPLE, summary.counters
        rec = s.run("MATCH (p:Person {id: 3}) RETURN p.name AS name, p.bio AS bio").single()
        assert rec["name"] == "Person 3, the 3th" and rec["bio"] == 'said "hi"\nand left', rec
        lines = s.run("LOAD CSV FROM 'file:///people.csv' AS r RETURN max(linenumber()) AS last").single()
        # Each record spans two lines (the bio holds a newline); a record counts from its first.
        assert lines["last"] == 2 * PEOPLE, lines


def malformed_rows_and_forbidden_places():
    write("wide.csv", "a,b\n1,2\n3,4,5\n")
    with neo4j.GraphDatabase.driver(URI, auth=("any", "thing")) as d, d.session() as s:
        try:
            s.run("LOAD CSV WITH HEADERS FROM 'file:///wide.csv' AS r CREATE (:Wide {a: r.a})").consume()
            raise AssertionError("a malformed row was accepted")
        except neo4j.exceptions.ClientError as e:
            assert e.code == "Neo.ClientError.Statement.ExternalResourceFailed", e.code
            assert "wide.csv, line 3, column 3" in e.message, e.message
        assert s.run("MATCH (w:Wide) RETURN count(w) AS n").single()["n"] == 0
        for url in ["file:///../secret.csv", "https://example.com/a.csv"]:
            try:
                s.run(f"LOAD CSV FROM '{url}' AS r RETURN r").consume()
                raise AssertionError(f"{url} was read")
            except neo4j.exceptions.ClientError as e:
                assert e.code == "Neo.ClientError.Statement.ExternalResourceFailed", e.code
        batched = "LOAD CSV FROM 'file:///wide.csv' AS r CALL { WITH r CREATE (:Wide) } IN TRANSACTIONS"
        try:
            s.execute_write(lambda tx: tx.run(batched).consume())
            raise AssertionError("IN TRANSACTIONS ran inside a managed transaction")
        except neo4j.exceptions.ClientError as e:
            assert e.code == "Neo.ClientError.Transaction.ForbiddenDueToTransactionType", e.code
        assert s.run("MATCH (w:Wide) RETURN count(w) AS n").single()["n"] == 0


def a_large_file_streams_in_flat_memory():
    # 64 MB of records read in batches that write nothing: the server holds one record
    # (and one batch) at a time, so its memory does not grow with the file.
    row = "x" * 100
    with open(os.path.join(IMPORT_DIR, "large.csv"), "w") as f:
        f.write("id,payload\n")
        for i in range(600_000):
            f.write(f"{i},{row}\n")
    size_mib = os.path.getsize(os.path.join(IMPORT_DIR, "large.csv")) / 2**20
    with neo4j.GraphDatabase.driver(URI, auth=("any", "thing")) as d, d.session() as s:
        before = server_rss_kib()
        summary = s.run(
            "LOAD CSV WITH HEADERS FROM 'file:///large.csv' AS row "
            "CALL { WITH row WITH row WHERE row.id = 'none' CREATE (:Never) } IN TRANSACTIONS OF 1000 ROWS"
        ).consume()
        growth_mib = (server_rss_kib() - before) / 1024
        assert summary.counters.nodes_created == 0
        assert growth_mib < size_mib / 4, f"server memory grew by {growth_mib:.0f} MiB over a {size_mib:.0f} MiB file"
    os.remove(os.path.join(IMPORT_DIR, "large.csv"))


def pymgclient_loads_csv():
    write("m.csv", "k\n1\n2\n")
    conn = mgclient.connect(host="127.0.0.1", port=PORT)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("LOAD CSV WITH HEADERS FROM 'file:///m.csv' AS row CREATE (:MgCsv {k: toInteger(row.k)})")
    cur.execute("MATCH (n:MgCsv) RETURN sum(n.k)")
    assert cur.fetchall() == [(3,)]
    conn.close()


check("neo4j: LOAD CSV in batches, quoted fields, BOM, .csv.gz, linenumber()", people_and_friends_in_batches)
check("neo4j: malformed rows, paths outside the import dir, batches in a managed transaction", malformed_rows_and_forbidden_places)
check("neo4j: a 64 MB file streams through batches in flat memory", a_large_file_streams_in_flat_memory)
check("pymgclient: LOAD CSV", pymgclient_loads_csv)
print(f"e2e imports: {check.passed} passed, 0 failed")
