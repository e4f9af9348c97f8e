"""End-to-end checks of the catalog and schema calls that tools make, with the real clients
(the neo4j driver, pymgclient and GQLAlchemy) against a running `weft serve`.

Usage: python tools.py PORT   (run by tests/e2e/run.sh, which starts and stops the server).
Each check prints one line; any failed assertion exits non-zero.
"""
import sys
from typing import Optional

import mgclient
import neo4j
from gqlalchemy import Memgraph, Node
from gqlalchemy.models import MemgraphIndex

import checks

check = checks.Checks()

PORT = int(sys.argv[1])
URI = f"bolt://127.0.0.1:{PORT}"


def neo4j_catalog():
    with neo4j.GraphDatabase.driver(URI, auth=("any", "thing")) as d, d.session() as s:
        s.run("CREATE INDEX ON :Tool(name)").consume()
        s.run("CREATE CONSTRAINT ON (t:Tool) ASSERT t.id IS UNIQUE").consume()
        s.run("CREATE (:Tool {id: 1, name: 'hammer', weight: 1.5})-[:NEXT_TO {cm: 3}]->(:Tool {id: 2, name: 'saw'})").consume()
        component = s.run("CALL dbms.components() YIELD name, versions, edition").single()
        assert component["name"] == "Neo4j Kernel" and component["versions"][0].startswith("5."), component
        indexes = s.run("SHOW INDEXES YIELD name, type, labelsOrTypes, properties").data()
        assert {"name": "index_Tool_name", "type": "RANGE", "labelsOrTypes": ["Tool"], "properties": ["name"]} in indexes, indexes
        # The server is shared with the other e2e checks: look at this check's labels only.
        constraints = s.run("SHOW CONSTRAINTS WHERE 'Tool' IN labelsOrTypes").data()
        assert [(c["type"], c["properties"]) for c in constraints] == [("UNIQUENESS", ["id"])], constraints
        names = [r["name"] for r in s.run("SHOW PROCEDURES YIELD name")]
        for wanted in ["db.labels", "db.schema.nodeTypeProperties", "dbms.cluster.routing.getRoutingTable"]:
            assert wanted in names, (wanted, names)
        assert s.run("SHOW FUNCTIONS YIELD name WHERE name = 'count' RETURN count(*) AS n").single()["n"] == 1
        assert [r["name"] for r in s.run("SHOW DATABASES")] == ["neo4j"]
        props = s.run("CALL db.schema.nodeTypeProperties() YIELD nodeType, propertyName, mandatory "
                      "WHERE nodeType = ':`Tool`' RETURN propertyName, `mandatory` ORDER BY propertyName").values()
        assert props == [["id", True], ["name", True], ["weight", False]], props
        rel = s.run("CALL db.schema.relTypeProperties() YIELD relType, propertyTypes "
                    "WHERE relType = ':`NEXT_TO`' RETURN relType, propertyTypes").single()
        assert rel["relType"] == ":`NEXT_TO`" and rel["propertyTypes"] == ["Long"], rel
        schema = s.run("CALL db.schema.visualization()").single()
        assert ["Tool"] in [sorted(n.labels) for n in schema["nodes"]], schema
        next_to = [r for r in schema["relationships"] if r.type == "NEXT_TO"]
        assert [r.start_node.element_id == r.end_node.element_id for r in next_to] == [True], schema
        assert all(n.id < 0 for n in schema["nodes"]), schema
        # Plans reach the driver's summary, as Neo4j's do.
        plan = s.run("EXPLAIN MATCH (t:Tool)-[:NEXT_TO]->(u) RETURN u").consume().plan
        assert plan["operatorType"] == "Produce" and plan["children"], plan
        assert plan["args"]["EstimatedRows"] >= 0, plan
        profile = s.run("PROFILE MATCH (t:Tool)-[:NEXT_TO]->(u) RETURN u").consume().profile
        match = profile["children"][0]
        assert match["operatorType"] == "Match" and match["rows"] == 1 and match["dbHits"] > 0, profile
        route = s.run("CALL dbms.cluster.routing.getRoutingTable($context, 'neo4j')",
                      context={"address": f"127.0.0.1:{PORT}"}).single()
        roles = sorted(server["role"] for server in route["servers"])
        assert route["ttl"] > 0 and roles == ["READ", "ROUTE", "WRITE"], route


def pymgclient_catalog():
    conn = mgclient.connect(host="127.0.0.1", port=PORT)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SHOW INDEX INFO")
    assert ("label+property", "Tool", "name") in cur.fetchall()
    cur.execute("CALL mg.procedures() YIELD name, signature WHERE name = 'db.labels' RETURN name, signature")
    assert cur.fetchall() == [("db.labels", "db.labels() :: (label :: STRING?)")]
    conn.close()


class Gadget(Node):
    name: str
    size: Optional[int] = None


def gqlalchemy_schema_and_objects():
    db = Memgraph(host="127.0.0.1", port=PORT)
    db.create_index(MemgraphIndex("Gadget", "name"))
    indexes = db.get_indexes()
    assert any(i.label == "Gadget" and i.property == "name" for i in indexes), indexes
    constraints = db.get_constraints()
    assert any(c.label == "Tool" for c in constraints), constraints
    saved = db.save_node(Gadget(name="lever", size=3))
    assert saved._id is not None and saved.size == 3, saved
    rows = list(db.execute_and_fetch("MATCH (g:Gadget {name: 'lever'}) RETURN g.size AS size"))
    assert rows == [{"size": 3}], rows
    loaded = db.load_node(Gadget(name="lever"))
    assert loaded is not None and loaded.size == 3, loaded


check("neo4j: dbms.components, SHOW INDEXES/CONSTRAINTS/PROCEDURES/FUNCTIONS/DATABASES, schema procedures, routing procedure", neo4j_catalog)
check("pymgclient: SHOW INDEX INFO, mg.procedures()", pymgclient_catalog)
check("gqlalchemy: indexes, constraints, saving and loading an object", gqlalchemy_schema_and_objects)
print(f"e2e tools: {check.passed} passed, 0 failed")
