//! The proxy in front of three fake members: small Bolt servers that answer `SHOW CLUSTER`
//! with the leader the test chooses, refuse autocommit writes as followers do
//! (`NotALeader`), and record which of them ran each statement. Checks where the proxy
//! sends writes and reads, how it follows a new leader and skips a stopped member.

mod fake;

use std::time::{Duration, Instant};

use fake::Cluster;
use weft_bolt::BoltValue;
use weft_client::{Client, ClientError, ConnectOptions, Credentials};
use weft_proxy::{Proxy, ProxyConfig};

fn start_proxy(cluster: &Cluster) -> Proxy {
    let mut config = ProxyConfig::new(cluster.addresses(), "127.0.0.1:0".parse().unwrap());
    config.refresh = Duration::from_millis(200);
    config.answer_timeout = Duration::from_secs(5);
    Proxy::start(config).unwrap()
}

fn connect(proxy: &Proxy, password: &str) -> Result<Client, ClientError> {
    let options = ConnectOptions {
        credentials: Credentials {
            user: Some("user".into()),
            password: Some(password.into()),
        },
        read_timeout: Some(Duration::from_secs(20)),
        ..ConnectOptions::default()
    };
    Client::connect_with(&proxy.local_addr().to_string(), &options)
}

/// The member that ran `query` (each fake answers its own name).
fn ran_on(client: &mut Client, query: &str) -> String {
    let result = client.run(query, &Vec::new()).unwrap();
    result.rows[0][0].as_str().unwrap().to_string()
}

/// The member that ran `query` in a read transaction (BEGIN with mode "r").
fn read_on(client: &mut Client, query: &str) -> String {
    let mode = vec![("mode".to_string(), BoltValue::String("r".into()))];
    client.begin_with(mode).unwrap();
    let member = ran_on(client, query);
    client.commit().unwrap();
    member
}

fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn writes_go_to_the_leader_and_follow_a_new_one() {
    // Set up: member 1 leads.
    let cluster = Cluster::start(3, 1);
    let proxy = start_proxy(&cluster);
    let mut client = connect(&proxy, "pw").unwrap();

    // Act and check: autocommit writes and write transactions run on the leader.
    for _ in 0..5 {
        assert_eq!(ran_on(&mut client, "CREATE (n) RETURN 1"), "m1");
    }
    client.begin().unwrap();
    assert_eq!(ran_on(&mut client, "CREATE (n) RETURN 1"), "m1");
    client.commit().unwrap();

    // Act: member 2 becomes leader; member 1 now refuses writes with NotALeader.
    cluster.set_leader(2);

    // Check: the very next write is retried on the new leader, not failed.
    assert_eq!(ran_on(&mut client, "CREATE (n) RETURN 1"), "m2");
    assert!(cluster.refused_writes() >= 1, "the old leader was asked first");
}

#[test]
fn reads_marked_r_spread_over_every_member() {
    let cluster = Cluster::start(3, 1);
    let proxy = start_proxy(&cluster);
    let mut client = connect(&proxy, "pw").unwrap();

    // Act: sequential reads (in-flight ties go round in turn).
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..9 {
        seen.insert(read_on(&mut client, "MATCH (n) RETURN n"));
    }

    // Check: all three served, over one connection each from this session.
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["m1", "m2", "m3"]);
    assert_eq!(cluster.connections_from_sessions(), 3);
}

#[test]
fn a_stopped_member_is_skipped_and_writes_wait_for_a_new_leader() {
    // Set up: member 1 leads; a session has used every member.
    let cluster = Cluster::start(3, 1);
    let proxy = start_proxy(&cluster);
    let mut client = connect(&proxy, "pw").unwrap();
    for _ in 0..3 {
        read_on(&mut client, "MATCH (n) RETURN n");
    }

    // Act: the leader stops; a moment later member 3 is elected.
    cluster.stop(1);
    let elect = {
        let cluster = cluster.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(500));
            cluster.set_leader(3);
        })
    };

    // Check: reads go on, on the others only; the write reaches the new leader.
    for _ in 0..6 {
        assert_ne!(read_on(&mut client, "MATCH (n) RETURN n"), "m1");
    }
    elect.join().unwrap();
    eventually(
        "a write reaches the new leader",
        || matches!(client.run("CREATE (n) RETURN 1", &Vec::new()), Ok(r) if r.rows[0][0].as_str() == Some("m3")),
    );
}

#[test]
fn the_session_consistency_is_told_to_every_member_it_uses() {
    let cluster = Cluster::start(3, 1);
    let proxy = start_proxy(&cluster);
    let mut client = connect(&proxy, "pw").unwrap();

    // Act: set the level once, then read on every member.
    client
        .run("SET SESSION CONSISTENCY TO LINEARIZABLE", &Vec::new())
        .unwrap();
    for _ in 0..6 {
        read_on(&mut client, "MATCH (n) RETURN n");
    }

    // Check: each member's connection heard the statement exactly once.
    for member in 1..=3 {
        assert_eq!(
            cluster.statements_on(member, "SET SESSION CONSISTENCY TO LINEARIZABLE"),
            1,
            "m{member}"
        );
    }
}

/// The status code of a statement's failure.
fn code(failed: Result<impl Sized, ClientError>) -> String {
    match failed {
        Err(ClientError::Query { code, .. }) => code,
        Err(other) => panic!("the connection to the proxy failed: {other}"),
        Ok(_) => panic!("it succeeded"),
    }
}

#[test]
fn a_leader_lost_mid_transaction_fails_it_and_never_hangs() {
    // Set up: a write transaction open on the leader, member 1.
    let cluster = Cluster::start(3, 1);
    let proxy = start_proxy(&cluster);
    let mut client = connect(&proxy, "pw").unwrap();
    client.begin().unwrap();
    assert_eq!(ran_on(&mut client, "CREATE (n) RETURN 1"), "m1");

    // Act: the leader stops before the next statement.
    cluster.stop(1);
    let started = Instant::now();

    // Check: a transient failure (nothing was committed), at once.
    let failed = client.run("CREATE (n) RETURN 1", &Vec::new());
    assert_eq!(code(failed), "Neo.TransientError.General.DatabaseUnavailable");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());

    // Act: another write transaction on the new leader, which stops before COMMIT.
    cluster.set_leader(2);
    eventually("a transaction begins on the new leader", || client.begin().is_ok());
    assert_eq!(ran_on(&mut client, "CREATE (n) RETURN 1"), "m2");
    cluster.stop(2);

    // Check: whether it committed is unknown, and said so.
    assert_eq!(
        code(client.commit()),
        "Neo.DatabaseError.Transaction.CommitOutcomeUnknown"
    );
}

#[test]
fn wrong_credentials_fail_the_log_on() {
    let cluster = Cluster::start(3, 1);
    let proxy = start_proxy(&cluster);
    assert!(connect(&proxy, "wrong").is_err());
    assert!(connect(&proxy, "pw").is_ok());
}
