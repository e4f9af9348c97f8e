//! The procedures and SHOW statements drivers, shells and tools call: Neo4j 5's catalog
//! SHOWs (with YIELD, WHERE and RETURN), `dbms.components()`, the schema procedures,
//! Memgraph's `mg.procedures()`, and a procedure another layer registers.

mod support;

use support::{rows, run};

use weft_query::procedures::{ProcMode, Procedure};
use weft_query::{Engine, QValue, ResultValue};

#[test]
fn show_indexes_and_constraints_in_neo4j_columns() {
    let engine = Engine::new();
    run(&engine, "CREATE INDEX ON :Person(id)");
    run(&engine, "CREATE INDEX ON :City");
    run(&engine, "CREATE CONSTRAINT ON (p:Person) ASSERT p.email IS UNIQUE");
    let all = run(&engine, "SHOW INDEXES");
    assert_eq!(
        all.columns,
        [
            "id",
            "name",
            "state",
            "populationPercent",
            "type",
            "entityType",
            "labelsOrTypes",
            "properties",
            "indexProvider",
            "owningConstraint",
            "lastRead",
            "readCount"
        ]
    );
    assert_eq!(all.rows.len(), 2);
    let range = run(
        &engine,
        "SHOW INDEXES YIELD name, type, labelsOrTypes, properties WHERE type = 'RANGE' RETURN name, labelsOrTypes, properties",
    );
    assert_eq!(rows(&range), vec![vec!["index_Person_id", "[Person]", "[id]"]]);
    let lookup = run(&engine, "SHOW ALL INDEXES WHERE type = 'LOOKUP'");
    assert_eq!(lookup.rows.len(), 1);
    assert_eq!(run(&engine, "SHOW RANGE INDEXES").rows.len(), 1);
    assert_eq!(run(&engine, "SHOW LOOKUP INDEXES").rows.len(), 1);
    let constraints = run(&engine, "SHOW CONSTRAINTS YIELD type, labelsOrTypes, properties");
    assert_eq!(rows(&constraints), vec![vec!["UNIQUENESS", "[Person]", "[email]"]]);
    // Memgraph's forms are unchanged.
    assert_eq!(run(&engine, "SHOW INDEX INFO").rows.len(), 2);
    assert_eq!(run(&engine, "SHOW CONSTRAINT INFO").rows.len(), 1);
}

#[test]
fn show_procedures_functions_and_databases() {
    let engine = Engine::new();
    // Without YIELD, Neo4j's default columns; YIELD * gives every one.
    assert_eq!(
        run(&engine, "SHOW PROCEDURES").columns,
        ["name", "description", "mode", "worksOnSystem"]
    );
    assert_eq!(
        run(&engine, "SHOW FUNCTIONS").columns,
        ["name", "category", "description"]
    );
    assert_eq!(run(&engine, "SHOW FUNCTIONS YIELD *").columns.len(), 6);
    let schema = run(
        &engine,
        "SHOW PROCEDURES YIELD name, mode WHERE name STARTS WITH 'db.schema' RETURN name, mode ORDER BY name",
    );
    assert_eq!(
        rows(&schema),
        vec![
            vec!["db.schema.nodeTypeProperties", "READ"],
            vec!["db.schema.relTypeProperties", "READ"],
            vec!["db.schema.visualization", "READ"]
        ]
    );
    let functions = run(
        &engine,
        "SHOW FUNCTIONS YIELD name, category WHERE name IN ['count', 'tolower'] RETURN *",
    );
    let mut got = rows(&functions);
    got.sort();
    assert_eq!(got, vec![vec!["Aggregating", "count"], vec!["Scalar", "tolower"]]);
    let dbs = run(&engine, "SHOW DATABASES YIELD name, currentStatus, default");
    assert_eq!(rows(&dbs), vec![vec!["neo4j", "online", "true"]]);
    assert_eq!(run(&engine, "SHOW DATABASE neo4j").rows.len(), 1);
    assert_eq!(run(&engine, "SHOW DATABASE other").rows.len(), 0);
    let mg = run(
        &engine,
        "CALL mg.procedures() YIELD name WHERE name = 'db.labels' RETURN name",
    );
    assert_eq!(mg.rows.len(), 1);
    let components = run(
        &engine,
        "CALL dbms.components() YIELD name, versions, edition RETURN name, versions[0]",
    );
    assert_eq!(rows(&components), vec![vec!["Neo4j Kernel", "5.13.0"]]);
}

#[test]
fn schema_procedures_describe_what_is_stored() {
    let engine = Engine::new();
    run(
        &engine,
        "CREATE (:A {x: 1}), (:A {x: 2, y: 'two'}), (:B:A {x: 1.5}), (:C)-[:R {w: [1, 2]}]->(:C)-[:R]->(:C)",
    );
    let nodes = run(
        &engine,
        "CALL db.schema.nodeTypeProperties() YIELD nodeType, propertyName, propertyTypes, mandatory \
         RETURN nodeType, propertyName, propertyTypes, `mandatory` ORDER BY nodeType, propertyName",
    );
    assert_eq!(
        rows(&nodes),
        vec![
            vec![":`A`", "x", "[Long]", "true"],
            vec![":`A`", "y", "[String]", "false"],
            vec![":`A`:`B`", "x", "[Double]", "true"],
            vec![":`C`", "null", "null", "false"],
        ]
    );
    let rels = run(
        &engine,
        "CALL db.schema.relTypeProperties() YIELD relType, propertyName, propertyTypes, mandatory",
    );
    assert_eq!(rows(&rels), vec![vec![":`R`", "w", "[LongArray]", "false"]]);
}

#[test]
fn another_layer_adds_a_procedure() {
    let engine = Engine::new();
    let echo = Procedure::native(
        "test.echo(value :: STRING?) :: (said :: STRING?, length :: INTEGER?)",
        "Says it back.",
        ProcMode::Read,
        |args| {
            let said = match args.first() {
                Some(QValue::String(s)) => s.clone(),
                _ => String::new(),
            };
            Ok(vec![vec![QValue::Int(said.len() as i64), QValue::String(said)]
                .into_iter()
                .rev()
                .collect()])
        },
    )
    .unwrap();
    engine.register_procedure(echo);
    let said = run(&engine, "CALL test.echo('hi') YIELD said, length RETURN said, length");
    assert_eq!(rows(&said), vec![vec!["hi", "2"]]);
    let listed = run(
        &engine,
        "SHOW PROCEDURES YIELD name, signature WHERE name = 'test.echo' RETURN signature",
    );
    assert_eq!(
        rows(&listed),
        vec![vec![
            "test.echo(value :: STRING?) :: (said :: STRING?, length :: INTEGER?)"
        ]]
    );
}

#[test]
fn the_schema_as_a_graph_of_virtual_entities() {
    let engine = Engine::new();
    run(&engine, "CREATE INDEX ON :Person(id)");
    run(&engine, "CREATE CONSTRAINT ON (c:City) ASSERT c.name IS UNIQUE");
    run(
        &engine,
        "CREATE (:Person {id: 1})-[:KNOWS]->(:Person {id: 2})-[:LIVES_IN]->(:City {name: 'Oslo'})",
    );
    let schema = run(
        &engine,
        "CALL db.schema.visualization() YIELD nodes, relationships \
         RETURN [n IN nodes | labels(n)[0]] AS labels, [n IN nodes | n.indexes] AS indexes, \
                [n IN nodes | n.constraints] AS constraints, \
                [r IN relationships | startNode(r).name + '-' + type(r) + '->' + endNode(r).name] AS rels",
    );
    assert_eq!(
        rows(&schema),
        vec![vec![
            "[City,Person]",
            "[[],[id]]",
            "[[UNIQUE (name)],[]]",
            "[Person-KNOWS->Person,Person-LIVES_IN->City]"
        ]]
    );
    // The entities are virtual: their ids come from the top of the range.
    let nodes = run(&engine, "CALL db.schema.visualization() YIELD nodes RETURN nodes");
    let ResultValue::List(nodes) = &nodes.rows[0][0] else {
        panic!("a list")
    };
    for node in nodes {
        let ResultValue::Node(n) = node else { panic!("a node") };
        assert!((n.id as i64) < 0, "{}", n.id);
    }
    // They answer label checks and property reads as stored nodes do.
    let cities = run(
        &engine,
        "CALL db.schema.visualization() YIELD nodes UNWIND nodes AS n \
         WITH n WHERE n:City AND NOT n:Person RETURN n.name AS name, n:City AS city",
    );
    assert_eq!(rows(&cities), vec![vec!["City", "true"]]);
}
