//! Shortest paths in both dialects: Neo4j's `shortestPath`, `allShortestPaths` and
//! `SHORTEST k` / `ALL SHORTEST`, and Memgraph's `*BFS`, `*WSHORTEST` and `*ALLSHORTEST`
//! with their lambdas, on small graphs whose answers are known, and against an
//! exhaustive search on random graphs.

mod support;

use support::{fail, rows, run, text};

use proptest::prelude::*;
use weft_query::{Engine, ErrorKind};

/// Three ways from a to d: a-b-c-d (3 steps, weight 3), a-e-d and a-f-d (2 steps,
/// weight 10 each).
fn roads() -> Engine {
    let engine = Engine::new();
    run(
        &engine,
        "CREATE (a:P {n: 'a'}), (b:P {n: 'b'}), (c:P {n: 'c'}), (d:P {n: 'd'}), (e:P {n: 'e'}), (f:P {n: 'f'}),
                (a)-[:R {w: 1}]->(b), (b)-[:R {w: 1}]->(c), (c)-[:R {w: 1}]->(d),
                (a)-[:R {w: 5}]->(e), (e)-[:R {w: 5}]->(d),
                (a)-[:R {w: 2}]->(f), (f)-[:R {w: 8}]->(d)",
    );
    engine
}

const NAMES: &str = "[x IN nodes(p) | x.n]";

#[test]
fn neo4j_shortest_and_all_shortest() {
    let engine = roads();
    let one = run(
        &engine,
        &format!(
            "MATCH (a:P {{n: 'a'}}), (d:P {{n: 'd'}}), p = shortestPath((a)-[:R*]->(d)) RETURN length(p), {NAMES}"
        ),
    );
    assert_eq!(one.rows.len(), 1);
    assert_eq!(text(&one.rows[0][0]), "2");
    let all = run(
        &engine,
        &format!(
            "MATCH (a:P {{n: 'a'}}), (d:P {{n: 'd'}}), p = allShortestPaths((a)-[:R*]->(d)) \
             RETURN {NAMES} AS names ORDER BY names"
        ),
    );
    assert_eq!(rows(&all), vec![vec!["[a,e,d]"], vec!["[a,f,d]"]]);
    // Undirected, from the far end: the same lengths.
    let back = run(
        &engine,
        "MATCH (a:P {n: 'a'}), (d:P {n: 'd'}) MATCH p = shortestPath((d)-[*]-(a)) RETURN length(p)",
    );
    assert_eq!(rows(&back), vec![vec!["2"]]);
    // Against the direction there is none; an upper bound below the length finds none.
    let none = run(
        &engine,
        "MATCH (a:P {n: 'a'}), (d:P {n: 'd'}), p = shortestPath((d)-[*]->(a)) RETURN p",
    );
    assert!(none.rows.is_empty());
    let bounded = run(
        &engine,
        "MATCH (a:P {n: 'a'}), (d:P {n: 'd'}), p = shortestPath((a)-[*..1]->(d)) RETURN p",
    );
    assert!(bounded.rows.is_empty());
    // The relationship variable holds the path's relationships.
    let rels = run(
        &engine,
        "MATCH (a:P {n: 'a'}), (c:P {n: 'c'}), p = shortestPath((a)-[r:R*]->(c)) RETURN [x IN r | x.w]",
    );
    assert_eq!(rows(&rels), vec![vec!["[1,1]"]]);
}

#[test]
fn gql_selectors() {
    let engine = roads();
    let k = run(
        &engine,
        &format!(
            "MATCH (a:P {{n: 'a'}}), (d:P {{n: 'd'}}) MATCH p = SHORTEST 3 (a)-[:R*]->(d) RETURN {NAMES} AS names"
        ),
    );
    let mut got = rows(&k);
    got.sort();
    assert_eq!(got, vec![vec!["[a,b,c,d]"], vec!["[a,e,d]"], vec!["[a,f,d]"]]);
    let all = run(
        &engine,
        "MATCH (a:P {n: 'a'}), (d:P {n: 'd'}) MATCH p = ALL SHORTEST (a)-[:R*]->(d) RETURN count(p)",
    );
    assert_eq!(rows(&all), vec![vec!["2"]]);
    let any = run(
        &engine,
        "MATCH (a:P {n: 'a'}), (d:P {n: 'd'}) MATCH p = ANY SHORTEST (a)-[:R*]->(d) RETURN length(p)",
    );
    assert_eq!(rows(&any), vec![vec!["2"]]);
}

#[test]
fn memgraph_bfs_with_filters_and_weights() {
    let engine = roads();
    // One path per node reached, nearest first.
    let bfs = run(
        &engine,
        "MATCH (a:P {n: 'a'})-[*BFS]->(x) RETURN x.n AS n, count(*) AS paths ORDER BY n",
    );
    assert_eq!(
        rows(&bfs),
        vec![
            vec!["b", "1"],
            vec!["c", "1"],
            vec!["d", "1"],
            vec!["e", "1"],
            vec!["f", "1"]
        ]
    );
    // The filter keeps the search off e and f.
    let filtered = run(
        &engine,
        &format!(
            "MATCH p = (a:P {{n: 'a'}})-[*BFS ..5 (r, n | n.n <> 'e' AND n.n <> 'f')]->(d:P {{n: 'd'}}) RETURN {NAMES}"
        ),
    );
    assert_eq!(rows(&filtered), vec![vec!["[a,b,c,d]"]]);
    let capped = run(&engine, "MATCH (a:P {n: 'a'})-[*BFS ..1]->(x) RETURN count(x)");
    assert_eq!(rows(&capped), vec![vec!["3"]]);
    // Least weight: a-b-c-d (3) beats a-e-d (10) and a-f-d (10).
    let weighted = run(
        &engine,
        &format!("MATCH p = (a:P {{n: 'a'}})-[*WSHORTEST (r, n | r.w) total]->(d:P {{n: 'd'}}) RETURN {NAMES}, total"),
    );
    assert_eq!(rows(&weighted), vec![vec!["[a,b,c,d]", "3"]]);
    let all = run(
        &engine,
        "MATCH (a:P {n: 'a'})-[*ALLSHORTEST (r, n | 10 - r.w) total]->(d:P {n: 'd'}) RETURN total",
    );
    // Inverted weights: a-e-d and a-f-d both cost 5+5 = 8+2 = 10; a-b-c-d costs 27.
    assert_eq!(rows(&all), vec![vec!["10"], vec!["10"]]);
    let e = fail(
        &engine,
        "MATCH (a:P {n: 'a'})-[*WSHORTEST (r, n | -1) total]->(d:P {n: 'd'}) RETURN total",
    );
    assert_eq!(e.kind, ErrorKind::ArgumentError);
    assert!(e.message.contains("negative"), "{}", e.message);
}

#[test]
fn a_where_on_the_path_picks_the_shortest_path_it_keeps() {
    let engine = roads();
    let ends = "MATCH (a:P {n: 'a'}), (d:P {n: 'd'})";
    let avoid_e = run(
        &engine,
        &format!(
            "{ends} MATCH p = shortestPath((a)-[:R*]->(d)) WHERE none(x IN nodes(p) WHERE x.n = 'e') RETURN {NAMES}"
        ),
    );
    assert_eq!(rows(&avoid_e), vec![vec!["[a,f,d]"]]);
    let avoid_both = run(
        &engine,
        &format!(
            "{ends} MATCH p = shortestPath((a)-[:R*]->(d)) WHERE none(x IN nodes(p) WHERE x.n IN ['e', 'f']) RETURN {NAMES}"
        ),
    );
    assert_eq!(rows(&avoid_both), vec![vec!["[a,b,c,d]"]]);
    let light = run(
        &engine,
        &format!("{ends} MATCH p = allShortestPaths((a)-[r:R*]->(d)) WHERE all(x IN r WHERE x.w < 5) RETURN {NAMES}"),
    );
    assert_eq!(rows(&light), vec![vec!["[a,b,c,d]"]]);
    let all = run(
        &engine,
        &format!(
            "{ends} MATCH p = allShortestPaths((a)-[:R*]->(d)) WHERE length(p) > 0 RETURN {NAMES} AS names ORDER BY names"
        ),
    );
    assert_eq!(rows(&all), vec![vec!["[a,e,d]"], vec!["[a,f,d]"]]);
    let none = run(
        &engine,
        &format!("{ends} MATCH p = shortestPath((a)-[:R*]->(d)) WHERE length(p) > 5 RETURN p"),
    );
    assert!(none.rows.is_empty());
    // The GQL selectors choose first and filter after, as Neo4j orders path selection.
    let gql = run(
        &engine,
        &format!(
            "{ends} MATCH p = SHORTEST 1 (a)-[:R*]->(d) WHERE none(x IN nodes(p) WHERE x.n IN ['e', 'f']) RETURN p"
        ),
    );
    assert!(gql.rows.is_empty());
    // A far end the pattern refuses ends the search at once.
    let missing = run(
        &engine,
        &format!("{ends} MATCH p = SHORTEST 3 (a)-[:R*]->(d:Missing) RETURN p"),
    );
    assert!(missing.rows.is_empty());
    // The ends must be bound before the search for it to test the WHERE on each path.
    let e = fail(
        &engine,
        "MATCH p = shortestPath((a:P {n: 'a'})-[:R*]->(d:P {n: 'd'})) WHERE length(p) > 1 RETURN p",
    );
    assert!(e.message.contains("both ends bound"), "{}", e.message);
}

#[test]
fn malformed_searches_are_refused() {
    let engine = roads();
    let e = fail(&engine, "MATCH p = shortestPath((a)-[*]->(b)-[*]->(c)) RETURN p");
    assert_eq!(e.detail, "InvalidShortestPath");
    let e = fail(&engine, "MATCH p = shortestPath((a)-[*2..]->(b)) RETURN p");
    assert_eq!(e.detail, "InvalidShortestPath");
}

/// Every trail's length from `from` to `to` over `edges` (directed), by exhaustive search.
fn lengths(edges: &[(usize, usize)], from: usize, to: usize) -> Vec<usize> {
    fn go(edges: &[(usize, usize)], at: usize, to: usize, used: &mut Vec<usize>, out: &mut Vec<usize>) {
        if at == to && !used.is_empty() {
            out.push(used.len());
        }
        for (i, &(a, b)) in edges.iter().enumerate() {
            if a == at && !used.contains(&i) {
                used.push(i);
                go(edges, b, to, used, out);
                used.pop();
            }
        }
    }
    let mut out = Vec::new();
    go(edges, from, to, &mut Vec::new(), &mut out);
    out.sort();
    out
}

/// Steps from `from` to `to` over directed `edges`, breadth first.
fn distance(edges: &[(usize, usize)], from: usize, to: usize) -> Option<usize> {
    let mut seen = vec![from];
    let mut frontier = vec![from];
    let mut steps = 0;
    while !frontier.is_empty() {
        steps += 1;
        let mut next = Vec::new();
        for &at in &frontier {
            for &(a, b) in edges {
                if a == at && !seen.contains(&b) {
                    if b == to {
                        return Some(steps);
                    }
                    seen.push(b);
                    next.push(b);
                }
            }
        }
        frontier = next;
    }
    None
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn lengths_agree_with_an_exhaustive_search(
        edges in proptest::collection::vec((0usize..6, 0usize..6), 0..11),
        from in 0usize..6,
        to in 0usize..6,
    ) {
        prop_assume!(from != to);
        let engine = Engine::new();
        run(&engine, "UNWIND range(0, 5) AS i CREATE (:V {i: i})");
        for (a, b) in &edges {
            run(&engine, &format!("MATCH (a:V {{i: {a}}}), (b:V {{i: {b}}}) CREATE (a)-[:E]->(b)"));
        }
        let expected = lengths(&edges, from, to);
        let ends = format!("MATCH (a:V {{i: {from}}}), (b:V {{i: {to}}})");
        let shortest = run(&engine, &format!("{ends} MATCH p = shortestPath((a)-[:E*]->(b)) RETURN length(p)"));
        let shortest: Vec<String> = rows(&shortest).into_iter().map(|r| r[0].clone()).collect();
        prop_assert_eq!(shortest, expected.first().map(|l| l.to_string()).into_iter().collect::<Vec<_>>());
        let all = run(&engine, &format!("{ends} MATCH p = allShortestPaths((a)-[:E*]->(b)) RETURN count(p)"));
        let fewest = expected.iter().filter(|l| Some(*l) == expected.first()).count();
        prop_assert_eq!(rows(&all), vec![vec![fewest.to_string()]]);
        let k = run(&engine, &format!("{ends} MATCH p = SHORTEST 3 (a)-[:E*]->(b) RETURN length(p) AS l ORDER BY l"));
        let k: Vec<String> = rows(&k).into_iter().map(|r| r[0].clone()).collect();
        let want: Vec<String> = expected.iter().take(3).map(|l| l.to_string()).collect();
        prop_assert_eq!(k, want);
        let bfs = run(&engine, &format!("{ends} MATCH p = (a)-[:E *BFS]->(b) RETURN length(p)"));
        prop_assert_eq!(rows(&bfs).len(), usize::from(!expected.is_empty()));
        // Undirected, searched from both ends: the length of a breadth-first walk.
        let both: Vec<(usize, usize)> = edges.iter().flat_map(|&(a, b)| [(a, b), (b, a)]).collect();
        let undirected = distance(&both, from, to);
        let got = run(&engine, &format!("{ends} MATCH p = shortestPath((a)-[:E*]-(b)) RETURN length(p)"));
        let got: Vec<String> = rows(&got).into_iter().map(|r| r[0].clone()).collect();
        prop_assert_eq!(got, undirected.map(|d| d.to_string()).into_iter().collect::<Vec<_>>());
    }
}

#[test]
fn every_shortest_path_of_a_grid_and_a_long_chain() {
    // A 6×6 grid with edges right and down: C(10, 5) = 252 shortest corner-to-corner paths.
    let engine = Engine::new();
    run(&engine, "CREATE INDEX ON :G(k)");
    run(
        &engine,
        "UNWIND range(0, 5) AS i UNWIND range(0, 5) AS j CREATE (:G {k: i * 10 + j})",
    );
    run(
        &engine,
        "UNWIND range(0, 5) AS i UNWIND range(0, 5) AS j MATCH (a:G {k: i * 10 + j}) \
         OPTIONAL MATCH (r:G {k: i * 10 + j + 1}) WHERE j < 5 OPTIONAL MATCH (d:G {k: i * 10 + j + 10}) \
         FOREACH (x IN CASE WHEN r IS NULL THEN [] ELSE [r] END | CREATE (a)-[:E]->(x)) \
         FOREACH (x IN CASE WHEN d IS NULL THEN [] ELSE [d] END | CREATE (a)-[:E]->(x))",
    );
    let corners = "MATCH (a:G {k: 0}), (b:G {k: 55})";
    let all = run(
        &engine,
        &format!("{corners} MATCH p = allShortestPaths((a)-[:E*]->(b)) RETURN count(p)"),
    );
    assert_eq!(rows(&all), vec![vec!["252"]]);
    let distinct = run(
        &engine,
        &format!("{corners} MATCH p = ALL SHORTEST (a)-[:E*]->(b) RETURN count(DISTINCT [x IN nodes(p) | x.k])"),
    );
    assert_eq!(rows(&distinct), vec![vec!["252"]]);
    let first = run(
        &engine,
        &format!("{corners} MATCH p = allShortestPaths((a)-[:E*]->(b)) RETURN length(p) LIMIT 1"),
    );
    assert_eq!(rows(&first), vec![vec!["10"]]);
    // A chain of 3,000 nodes: one trail, found without a call per step.
    run(&engine, "CREATE INDEX ON :N(i)");
    run(&engine, "UNWIND range(1, 3000) AS i CREATE (:N {i: i})");
    run(
        &engine,
        "UNWIND range(1, 2999) AS i MATCH (a:N {i: i}), (b:N {i: i + 1}) CREATE (a)-[:NEXT]->(b)",
    );
    let chain = run(
        &engine,
        "MATCH (a:N {i: 1}), (b:N {i: 3000}) MATCH p = SHORTEST 2 (a)-[:NEXT*]->(b) RETURN length(p)",
    );
    assert_eq!(rows(&chain), vec![vec!["2999"]]);
}
