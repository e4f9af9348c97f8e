//! Schema statements inside explicit transactions, over Bolt: applied at commit, never
//! mixed with data writes, and SHOW statements anywhere.

mod support;

use weft_bolt::BoltValue;
use weft_client::{Client, ClientError, Credentials};

const FORBIDDEN: &str = "Neo.ClientError.Transaction.ForbiddenDueToTransactionType";

fn connect() -> (support::TestServer, Client) {
    let server = support::TestServer::start();
    let client = Client::connect(&format!("127.0.0.1:{}", server.port), &Credentials::default()).expect("connect");
    (server, client)
}

fn count(client: &mut Client, query: &str) -> usize {
    client.run(query, &Vec::new()).expect("query").rows.len()
}

fn code(result: Result<impl std::fmt::Debug, ClientError>) -> String {
    match result {
        Err(ClientError::Query { code, .. }) => code,
        other => panic!("expected a query failure, got {other:?}"),
    }
}

#[test]
fn schema_changes_in_a_transaction_apply_at_commit() {
    // Set up
    let (_server, mut client) = connect();

    // Act: two changes in one transaction, looked at before and after the commit.
    client.begin().expect("begin");
    let created = client
        .run("CREATE INDEX FOR (p:Person) ON (p.id)", &Vec::new())
        .expect("create index");
    client
        .run("CREATE CONSTRAINT ON (p:Person) ASSERT p.email IS UNIQUE", &Vec::new())
        .expect("create constraint");
    let before_commit = count(&mut client, "SHOW INDEX INFO");
    client.commit().expect("commit");

    // Check: counters at RUN, nothing visible before the commit, both after.
    let stats = weft_bolt::packstream::dict_get(&created.summary, "stats");
    assert_eq!(
        stats.and_then(|s| weft_bolt::packstream::dict_get(s.as_dict().expect("dict"), "indexes-added")),
        Some(&BoltValue::Integer(1))
    );
    assert_eq!(before_commit, 0);
    assert_eq!(count(&mut client, "SHOW INDEX INFO"), 1);
    assert_eq!(count(&mut client, "SHOW CONSTRAINT INFO"), 1);
}

#[test]
fn rolled_back_schema_changes_leave_nothing() {
    let (_server, mut client) = connect();
    client.begin().expect("begin");
    client
        .run("CREATE INDEX ON :Person(id)", &Vec::new())
        .expect("create index");
    client.rollback().expect("rollback");
    assert_eq!(count(&mut client, "SHOW INDEX INFO"), 0);
}

#[test]
fn a_transaction_cannot_write_data_and_change_the_schema() {
    // Set up
    let (_server, mut client) = connect();

    // Act: data then schema, and schema then data, each in its own transaction.
    client.begin().expect("begin");
    client.run("CREATE (:Person {id: 1})", &Vec::new()).expect("create");
    let schema_after_data = client.run("CREATE INDEX ON :Person(id)", &Vec::new());
    client.begin().expect("begin");
    client
        .run("CREATE INDEX ON :Person(id)", &Vec::new())
        .expect("create index");
    let data_after_schema = client.run("CREATE (:Person {id: 2})", &Vec::new());

    // Check: both refused with the transaction-type code, and neither transaction left
    // anything: no person, no index.
    assert_eq!(code(schema_after_data), FORBIDDEN);
    assert_eq!(code(data_after_schema), FORBIDDEN);
    assert_eq!(count(&mut client, "MATCH (p:Person) RETURN p"), 0);
    assert_eq!(count(&mut client, "SHOW INDEX INFO"), 0);
}

#[test]
fn show_statements_and_reads_run_in_any_transaction() {
    let (_server, mut client) = connect();
    client.run("CREATE INDEX ON :Person(id)", &Vec::new()).expect("index");
    client.begin().expect("begin");
    client.run("CREATE (:Person {id: 1})", &Vec::new()).expect("create");
    assert_eq!(count(&mut client, "SHOW INDEX INFO"), 1);
    assert_eq!(count(&mut client, "MATCH (p:Person) RETURN p"), 1);
    client.commit().expect("commit");
    assert_eq!(count(&mut client, "MATCH (p:Person) RETURN p"), 1);
}

#[test]
fn a_missing_parameter_has_its_own_code() {
    let (_server, mut client) = connect();
    assert_eq!(
        code(client.run("RETURN $absent", &Vec::new())),
        "Neo.ClientError.Statement.ParameterMissing"
    );
}
