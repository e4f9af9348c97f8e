//! Subqueries as users write them, on the small graph of Neo4j's manual (people, their
//! dogs and friends): COUNT, COLLECT and EXISTS as values in WHERE, WITH and RETURN, and
//! `CALL (scope) { }`.

mod support;

use support::{rows, run};

use std::collections::BTreeMap;
use weft_query::Engine;

fn people() -> Engine {
    let engine = Engine::new();
    run(
        &engine,
        "CREATE (andy:Person {name: 'Andy', age: 36}), (timothy:Person {name: 'Timothy', age: 25}),
                (peter:Person {name: 'Peter', age: 35}),
                (andy)-[:KNOWS]->(timothy), (andy)-[:KNOWS]->(peter),
                (andy)-[:HAS_DOG]->(:Dog {name: 'Andy'}),
                (peter)-[:HAS_DOG]->(:Dog {name: 'Fido'}), (peter)-[:HAS_DOG]->(:Dog {name: 'Ozzy'})",
    );
    engine
}

#[test]
fn count_subqueries() {
    let engine = people();
    let more_than_one = run(
        &engine,
        "MATCH (person:Person) WHERE COUNT { (person)-[:HAS_DOG]->(:Dog) } > 1 RETURN person.name AS name",
    );
    assert_eq!(rows(&more_than_one), vec![vec!["Peter"]]);
    let per_person = run(
        &engine,
        "MATCH (person:Person) RETURN person.name, COUNT { (person)-[:HAS_DOG]->(:Dog) } AS dogs ORDER BY person.name",
    );
    assert_eq!(
        rows(&per_person),
        vec![vec!["Andy", "1"], vec!["Peter", "2"], vec!["Timothy", "0"]]
    );
    // The full form, with WHERE, and a UNION inside.
    let full = run(
        &engine,
        "MATCH (p:Person) RETURN p.name, COUNT { MATCH (p)-[:KNOWS]->(f) WHERE f.age > 30 RETURN f } AS older \
         ORDER BY p.name",
    );
    assert_eq!(
        rows(&full),
        vec![vec!["Andy", "1"], vec!["Peter", "0"], vec!["Timothy", "0"]]
    );
    let union = run(
        &engine,
        "MATCH (p:Person {name: 'Andy'}) RETURN COUNT { MATCH (p)-[:HAS_DOG]->(d) RETURN d.name AS n \
         UNION MATCH (p)-[:KNOWS]->(f) RETURN f.name AS n } AS names",
    );
    assert_eq!(rows(&union), vec![vec!["3"]]);
    // A body without RETURN counts its rows.
    let bare = run(
        &engine,
        "MATCH (p:Person) RETURN p.name, COUNT { MATCH (p)-[:HAS_DOG]->(d) WHERE d.name <> 'Fido' } AS n ORDER BY p.name",
    );
    assert_eq!(
        rows(&bare),
        vec![vec!["Andy", "1"], vec!["Peter", "1"], vec!["Timothy", "0"]]
    );
    // In WITH ... WHERE, next to an ordinary condition.
    let with = run(
        &engine,
        "MATCH (p:Person) WITH p WHERE p.age > 30 AND COUNT { (p)-->() } >= 2 RETURN p.name",
    );
    assert_eq!(rows(&with), vec![vec!["Andy"], vec!["Peter"]]);
}

#[test]
fn collect_and_exists_as_values() {
    let engine = people();
    let dogs = run(
        &engine,
        "MATCH (person:Person) RETURN person.name AS name, \
         COLLECT { MATCH (person)-[:HAS_DOG]->(d:Dog) RETURN d.name ORDER BY d.name } AS dogs ORDER BY name",
    );
    assert_eq!(
        rows(&dogs),
        vec![
            vec!["Andy", "[Andy]"],
            vec!["Peter", "[Fido,Ozzy]"],
            vec!["Timothy", "[]"]
        ]
    );
    let same_name = run(
        &engine,
        "MATCH (p:Person) RETURN p.name, EXISTS { MATCH (p)-[:HAS_DOG]->(d) WITH d WHERE d.name = p.name RETURN d } \
         AS namesake ORDER BY p.name",
    );
    assert_eq!(
        rows(&same_name),
        vec![vec!["Andy", "true"], vec!["Peter", "false"], vec!["Timothy", "false"]]
    );
    let either = run(
        &engine,
        "MATCH (p:Person) WHERE p.age < 30 OR EXISTS { MATCH (p)-[:HAS_DOG]->(d) WITH d WHERE d.name = 'Ozzy' RETURN d } \
         RETURN p.name ORDER BY p.name",
    );
    assert_eq!(rows(&either), vec![vec!["Peter"], vec!["Timothy"]]);
    let e = engine
        .execute(
            "MATCH (p:Person) RETURN COLLECT { MATCH (p)-->(x) RETURN x.name, x.age } AS two",
            &BTreeMap::new(),
        )
        .unwrap_err();
    assert!(e.message.contains("exactly one column"), "{}", e.message);
}

#[test]
fn call_with_a_scope_clause() {
    let engine = people();
    let friends = run(
        &engine,
        "MATCH (p:Person) CALL (p) { MATCH (p)-[:KNOWS]->(f) RETURN count(f) AS friends } \
         RETURN p.name, friends ORDER BY p.name",
    );
    assert_eq!(
        rows(&friends),
        vec![vec!["Andy", "2"], vec!["Peter", "0"], vec!["Timothy", "0"]]
    );
    let nothing = run(&engine, "CALL () { RETURN 1 AS one } RETURN one");
    assert_eq!(rows(&nothing), vec![vec!["1"]]);
    let all = run(&engine, "WITH 2 AS a, 3 AS b CALL (*) { RETURN a * b AS c } RETURN c");
    assert_eq!(rows(&all), vec![vec!["6"]]);
    let e = engine
        .execute(
            "WITH 2 AS a, 3 AS b CALL (a) { RETURN a * b AS c } RETURN c",
            &BTreeMap::new(),
        )
        .unwrap_err();
    assert!(e.message.contains("`b` not defined"), "{}", e.message);
}

#[test]
fn misplaced_batches_and_counts_are_refused_without_harm() {
    let engine = people();
    let refused = |q: &str| engine.execute(q, &BTreeMap::new()).expect_err(q);
    let nested = refused("MATCH (n) RETURN COUNT { CALL { MATCH (m) RETURN m } IN TRANSACTIONS OF 1 ROW RETURN m }");
    assert!(nested.message.contains("nested"), "{}", nested.message);
    let zero = refused("UNWIND [1] AS x CALL { WITH x CREATE (:Z) } IN TRANSACTIONS OF 0 ROWS");
    assert!(zero.message.contains("at least 1"), "{}", zero.message);
    for q in [
        "UNWIND [1, 2] AS x RETURN x LIMIT size([y IN [1] | y])",
        "UNWIND [1] AS x CALL { WITH x CREATE (:Z) } IN TRANSACTIONS OF size([y IN [1] | y]) ROWS",
    ] {
        assert_eq!(refused(q).detail, "NonConstantExpression", "{q}");
    }
    let shortest_where = refused(
        "MATCH (a:Person {name: 'Andy'}), (b:Person {name: 'Peter'}), p = shortestPath((a)-[*]-(b)) \
         WHERE all(n IN nodes(p) WHERE n.age > 20) RETURN p",
    );
    assert_eq!(shortest_where.detail, "UnsupportedFeature");
    let merge =
        refused("MATCH (a:Person {name: 'Andy'}), (b:Person {name: 'Peter'}) MERGE p = shortestPath((a)-[:R]->(b))");
    assert_eq!(merge.detail, "InvalidShortestPath");
    let count = run(&engine, "MATCH (n) RETURN count(n)");
    assert_eq!(rows(&count), vec![vec!["6"]]);
}

#[test]
fn value_subqueries_order_rows() {
    let engine = people();
    // Neo4j's manual: people by how many dogs they have, most first.
    let by_dogs = run(
        &engine,
        "MATCH (p:Person) RETURN p.name AS name ORDER BY COUNT { (p)-[:HAS_DOG]->(:Dog) } DESC, name",
    );
    assert_eq!(rows(&by_dogs), vec![vec!["Peter"], vec!["Andy"], vec!["Timothy"]]);
    // The key may use the projection's names, and EXISTS orders false before true.
    let by_friend = run(
        &engine,
        "MATCH (p:Person) RETURN p.name AS name \
         ORDER BY EXISTS { MATCH (p)-[:KNOWS]->(f) WHERE f.name <> name } DESC, name LIMIT 2",
    );
    assert_eq!(rows(&by_friend), vec![vec!["Andy"], vec!["Peter"]]);
    // With DISTINCT, on the projected names only.
    let distinct = run(
        &engine,
        "MATCH (p:Person) WITH DISTINCT p ORDER BY COLLECT { MATCH (p)-[:HAS_DOG]->(d) RETURN d.name }[0] \
         RETURN p.name AS name",
    );
    assert_eq!(rows(&distinct), vec![vec!["Andy"], vec!["Peter"], vec!["Timothy"]]);
}

#[test]
fn value_subqueries_in_set() {
    let engine = people();
    run(
        &engine,
        "MATCH (p:Person) SET p.dogs = COUNT { (p)-[:HAS_DOG]->(:Dog) }, \
         p += {friends: COLLECT { MATCH (p)-[:KNOWS]->(f) RETURN f.name ORDER BY f.name }}",
    );
    let set = run(
        &engine,
        "MATCH (p:Person) RETURN p.name, p.dogs, p.friends ORDER BY p.name",
    );
    assert_eq!(
        rows(&set),
        vec![
            vec!["Andy", "1", "[Peter,Timothy]"],
            vec!["Peter", "2", "[]"],
            vec!["Timothy", "0", "[]"],
        ]
    );
    // The generated variable stays out of sight.
    let star = run(
        &engine,
        "MATCH (p:Person {name: 'Andy'}) SET p.x = EXISTS { (p)--() } RETURN *",
    );
    assert_eq!(star.columns, vec!["p"]);
}
