//! The HTTP query API and console over real sockets: Neo4j's transactional endpoints
//! (autocommit, explicit transactions, expiry, cancelling a running statement), basic
//! authentication, the same-origin rule, and the embedded console files.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};
use weft_server::web::WebConfig;
use weft_server::{Credentials, ServerConfig};

use support::{TestServer, TIMEOUT};

/// One HTTP/1.1 exchange: status, headers (lower-case names) and body.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn json(&self) -> Json {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
    /// The first error's code, or "" when none.
    fn error_code(&self) -> String {
        self.json()["errors"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&Json>) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
    let body = body.map(Json::to_string).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) {
        request.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let response = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = response.split_once("\r\n\r\n").expect("headers end");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v == "chunked");
    let body = if chunked { dechunk(body) } else { body.to_string() };
    Reply { status, headers, body }
}

/// The body of a chunked transfer: each chunk's size in hex, a line break, its bytes.
fn dechunk(mut raw: &str) -> String {
    let mut body = String::new();
    while let Some((size, rest)) = raw.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("chunk size");
        if size == 0 {
            break;
        }
        body.push_str(&rest[..size]);
        raw = &rest[size + 2..];
    }
    body
}

fn statements(texts: &[&str]) -> Json {
    let list: Vec<Json> = texts
        .iter()
        .map(|t| json!({"statement": t, "resultDataContents": ["row", "graph"], "includeStats": true}))
        .collect();
    json!({ "statements": list })
}

fn post(port: u16, path: &str, body: &Json) -> Reply {
    http(port, "POST", path, &[], Some(body))
}

fn count(port: u16, label: &str) -> i64 {
    let reply = post(
        port,
        "/db/neo4j/tx/commit",
        &statements(&[&format!("MATCH (n:{label}) RETURN count(n)")]),
    );
    reply.json()["results"][0]["data"][0]["row"][0]
        .as_i64()
        .expect("a count")
}

fn with_web(web: WebConfig, auth: Option<Credentials>) -> TestServer {
    let config = ServerConfig {
        auth: auth.map(Arc::new),
        web,
        ..ServerConfig::default()
    };
    TestServer::start_with(config, true)
}

/// A server whose one worker a single request occupies.
fn one_worker() -> TestServer {
    let config = ServerConfig {
        workers: 1,
        ..ServerConfig::default()
    };
    TestServer::start_with(config, true)
}

/// Sends `body` to `path` and reads nothing back; the connection stays open.
fn send_without_reading(port: u16, path: &str, body: &Json) -> TcpStream {
    let body = body.to_string();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    stream
}

/// The transaction id at the end of a `commit` URL (`…/tx/7/commit`).
fn tx_id(reply: &Reply) -> String {
    let commit = reply.json()["commit"].as_str().expect("a commit URL").to_string();
    commit
        .trim_end_matches("/commit")
        .rsplit('/')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn statements_commit_with_rows_meta_graph_and_counters_and_a_failure_writes_nothing() {
    let server = with_web(WebConfig::default(), None);
    let port = server.http_port.unwrap();

    let created = post(
        port,
        "/db/neo4j/tx/commit",
        &statements(&["CREATE (a:Person {name: 'Ada'})-[:KNOWS {since: 1843}]->(b:Person {name: 'Grace'}) RETURN a"]),
    );
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.json()["results"][0]["stats"]["nodes_created"], 2);
    assert!(created.json()["lastBookmarks"][0].is_string(), "{}", created.body);

    let read = post(
        port,
        "/db/neo4j/tx/commit",
        &statements(&["MATCH (a)-[r:KNOWS]->(b) RETURN a.name, r, b"]),
    );
    let body = read.json();
    assert_eq!(body["errors"], json!([]));
    let data = &body["results"][0]["data"][0];
    assert_eq!(data["row"], json!(["Ada", {"since": 1843}, {"name": "Grace"}]));
    assert_eq!(data["meta"][1]["type"], "relationship");
    assert_eq!(data["graph"]["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(data["graph"]["relationships"][0]["type"], "KNOWS");

    // Two statements share one transaction: the second's failure takes the first back.
    let failed = post(
        port,
        "/db/neo4j/tx/commit",
        &statements(&["CREATE (:Lost)", "RETURN 1 +"]),
    );
    assert_eq!(failed.status, 200);
    assert_eq!(failed.error_code(), "Neo.ClientError.Statement.SyntaxError");
    assert_eq!(count(port, "Lost"), 0);

    // EXPLAIN's plan comes with the result.
    let explained = post(
        port,
        "/db/neo4j/tx/commit",
        &statements(&["EXPLAIN MATCH (n:Person) RETURN n"]),
    );
    assert!(
        explained.json()["results"][0]["plan"]["root"]["operatorType"].is_string(),
        "{}",
        explained.body
    );
    server.shutdown();
}

#[test]
fn bad_requests_are_named() {
    let server = with_web(WebConfig::default(), None);
    let port = server.http_port.unwrap();
    let other_db = post(port, "/db/films/tx/commit", &statements(&["RETURN 1"]));
    assert_eq!(
        (other_db.status, other_db.error_code().as_str()),
        (404, "Neo.ClientError.Database.DatabaseNotFound")
    );
    let not_json = http(port, "POST", "/db/neo4j/tx/commit", &[], None);
    assert_eq!(not_json.status, 200, "an empty body is no statements");
    let malformed = post(
        port,
        "/db/neo4j/tx/commit",
        &json!({"statements": [{"text": "RETURN 1"}]}),
    );
    assert_eq!(
        (malformed.status, malformed.error_code().as_str()),
        (400, "Neo.ClientError.Request.InvalidFormat")
    );
    let missing = post(port, "/db/neo4j/tx/99", &statements(&["RETURN 1"]));
    assert_eq!(
        (missing.status, missing.error_code().as_str()),
        (404, "Neo.ClientError.Transaction.TransactionNotFound")
    );
    server.shutdown();
}

#[test]
fn an_explicit_transaction_is_seen_only_once_committed_and_delete_rolls_back() {
    let server = with_web(WebConfig::default(), None);
    let port = server.http_port.unwrap();

    let opened = post(port, "/db/neo4j/tx", &statements(&["CREATE (:Draft)"]));
    assert_eq!(opened.status, 201, "{}", opened.body);
    let id = tx_id(&opened);
    assert!(opened
        .header("location")
        .is_some_and(|l| l.ends_with(&format!("/db/neo4j/tx/{id}"))));
    assert!(opened.json()["transaction"]["expires"].is_string());
    let more = post(port, &format!("/db/neo4j/tx/{id}"), &statements(&["CREATE (:Draft)"]));
    assert_eq!(more.json()["errors"], json!([]), "{}", more.body);
    assert_eq!(count(port, "Draft"), 0, "not committed yet");
    let committed = post(port, &format!("/db/neo4j/tx/{id}/commit"), &statements(&[]));
    assert_eq!(committed.json()["errors"], json!([]));
    assert_eq!(count(port, "Draft"), 2);
    let gone = post(port, &format!("/db/neo4j/tx/{id}"), &statements(&["RETURN 1"]));
    assert_eq!(gone.status, 404);

    let opened = post(port, "/db/neo4j/tx", &statements(&["CREATE (:Dropped)"]));
    let id = tx_id(&opened);
    let rolled_back = http(port, "DELETE", &format!("/db/neo4j/tx/{id}"), &[], None);
    assert_eq!(rolled_back.status, 200);
    assert_eq!(count(port, "Dropped"), 0);
    server.shutdown();
}

#[test]
fn an_idle_transaction_expires_and_is_rolled_back() {
    let web = WebConfig {
        transaction_timeout: Some(Duration::from_secs(1)),
        ..WebConfig::default()
    };
    let server = with_web(web, None);
    let port = server.http_port.unwrap();
    let id = tx_id(&post(port, "/db/neo4j/tx", &statements(&["CREATE (:Abandoned)"])));
    // A probe that finds it renews it for a second; two seconds between probes leave the
    // once-a-second reaper a turn after each expiry.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        std::thread::sleep(Duration::from_secs(2));
        let reply = post(port, &format!("/db/neo4j/tx/{id}"), &statements(&[]));
        if reply.status == 404 {
            break;
        }
        assert!(Instant::now() < deadline, "transaction {id} never expired");
    }
    assert_eq!(count(port, "Abandoned"), 0);
    server.shutdown();
}

#[test]
fn delete_stops_a_running_statement_of_its_transaction() {
    let server = with_web(WebConfig::default(), None);
    let port = server.http_port.unwrap();
    let id = tx_id(&post(port, "/db/neo4j/tx", &statements(&[])));
    let path = format!("/db/neo4j/tx/{id}/commit");
    let long = "UNWIND range(1, 100000) AS i UNWIND range(1, 100000) AS j CREATE (:Endless) RETURN count(*)";
    let running = std::thread::spawn(move || post(port, &path, &statements(&[long])));
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let deleted = http(port, "DELETE", &format!("/db/neo4j/tx/{id}"), &[], None);
    assert_eq!(deleted.status, 200);
    let stopped = running.join().unwrap();
    assert_eq!(
        stopped.error_code(),
        "Neo.ClientError.Transaction.Terminated",
        "{}",
        stopped.body
    );
    assert!(started.elapsed() < TIMEOUT);
    assert_eq!(count(port, "Endless"), 0);
    server.shutdown();
}

#[test]
fn with_auth_every_call_needs_the_user_and_the_console_gets_no_browser_challenge() {
    let server = with_web(WebConfig::default(), Some(Credentials::new("neo4j", "s3cret")));
    let port = server.http_port.unwrap();
    let body = statements(&["RETURN 1"]);

    let anonymous = http(port, "POST", "/db/neo4j/tx/commit", &[], Some(&body));
    assert_eq!(
        (anonymous.status, anonymous.error_code().as_str()),
        (401, "Neo.ClientError.Security.Unauthorized")
    );
    assert!(anonymous.header("www-authenticate").is_some());
    let console = http(
        port,
        "POST",
        "/db/neo4j/tx/commit",
        &[("X-Requested-With", "weft-console")],
        Some(&body),
    );
    assert_eq!(console.status, 401);
    assert!(console.header("www-authenticate").is_none());
    // neo4j:wrong and neo4j:s3cret in base64.
    let wrong = http(
        port,
        "POST",
        "/db/neo4j/tx/commit",
        &[("Authorization", "Basic bmVvNGo6d3Jvbmc=")],
        Some(&body),
    );
    assert_eq!(wrong.status, 401);
    let right = http(
        port,
        "POST",
        "/db/neo4j/tx/commit",
        &[("Authorization", "Basic bmVvNGo6czNjcmV0")],
        Some(&body),
    );
    assert_eq!((right.status, right.json()["errors"].clone()), (200, json!([])));
    let cluster = http(port, "GET", "/console/cluster", &[], None);
    assert_eq!(cluster.status, 401);

    let config = http(port, "GET", "/console/config", &[], None);
    assert_eq!(config.json()["auth_required"], true);
    server.shutdown();
}

#[test]
fn other_origins_are_refused_unless_allowed() {
    let web = WebConfig {
        allow_origin: Some("http://tools.example:8080".into()),
        ..WebConfig::default()
    };
    let server = with_web(web, None);
    let port = server.http_port.unwrap();
    let body = statements(&["CREATE (:Forged)"]);

    let forged = http(
        port,
        "POST",
        "/db/neo4j/tx/commit",
        &[("Origin", "http://evil.example")],
        Some(&body),
    );
    assert_eq!(
        (forged.status, forged.error_code().as_str()),
        (403, "Neo.ClientError.Security.Forbidden")
    );
    assert_eq!(count(port, "Forged"), 0);
    let own = format!("http://127.0.0.1:{port}");
    let same = http(
        port,
        "POST",
        "/db/neo4j/tx/commit",
        &[("Origin", &own)],
        Some(&statements(&["RETURN 1"])),
    );
    assert_eq!(same.status, 200);
    assert!(same.header("access-control-allow-origin").is_none());
    let allowed = [("Origin", "http://tools.example:8080")];
    let preflight = http(port, "OPTIONS", "/db/neo4j/tx/commit", &allowed, None);
    assert_eq!(preflight.status, 204);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("http://tools.example:8080")
    );
    let called = http(
        port,
        "POST",
        "/db/neo4j/tx/commit",
        &allowed,
        Some(&statements(&["RETURN 1"])),
    );
    assert_eq!(called.status, 200);
    assert_eq!(
        called.header("access-control-allow-origin"),
        Some("http://tools.example:8080")
    );
    server.shutdown();
}

#[test]
fn the_console_is_served_from_the_binary() {
    let server = with_web(WebConfig::default(), None);
    let port = server.http_port.unwrap();
    let page = http(port, "GET", "/", &[], None);
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").is_some_and(|t| t.starts_with("text/html")));
    assert!(
        page.body.contains("/console/"),
        "the page loads its scripts from /console/"
    );
    let library = http(port, "GET", "/console/vendor/cytoscape/cytoscape.min.js", &[], None);
    assert_eq!(library.status, 200);
    assert!(library
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/javascript")));
    assert_eq!(http(port, "GET", "/console/nothing-here.js", &[], None).status, 404);
    let cluster = http(port, "GET", "/console/cluster", &[], None).json();
    assert_eq!(
        (cluster["mode"].as_str(), cluster["members"].is_null()),
        (Some("single"), true)
    );
    server.shutdown();
}

#[test]
fn a_page_that_rebinds_a_dns_name_to_loopback_is_refused() {
    let server = with_web(WebConfig::default(), None);
    let port = server.http_port.unwrap();
    let rebound = format!("attacker.example:{port}");
    let body = statements(&["CREATE (:Rebound)"]);
    let refused = http(port, "POST", "/db/neo4j/tx/commit", &[("Host", &rebound)], Some(&body));
    assert_eq!(
        (refused.status, refused.error_code().as_str()),
        (403, "Neo.ClientError.Security.Forbidden")
    );
    assert_eq!(count(port, "Rebound"), 0);
    for host in [
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        "127.0.0.1".to_string(),
    ] {
        let reply = http(port, "GET", "/console/config", &[("Host", &host)], None);
        assert_eq!(reply.status, 200, "{host}");
    }
    server.shutdown();
}

#[test]
fn a_transaction_answers_only_its_opener() {
    let server = with_web(WebConfig::default(), None);
    let port = server.http_port.unwrap();
    // ann:one and bob:two in base64; the server checks no password, but keeps them apart.
    let ann = [("Authorization", "Basic YW5uOm9uZQ==")];
    let bob = [("Authorization", "Basic Ym9iOnR3bw==")];
    let opened = http(
        port,
        "POST",
        "/db/neo4j/tx",
        &ann,
        Some(&statements(&["CREATE (:Anns)"])),
    );
    let id = tx_id(&opened);
    let path = format!("/db/neo4j/tx/{id}/commit");
    let other = http(port, "POST", &path, &bob, Some(&statements(&[])));
    assert_eq!(
        (other.status, other.error_code().as_str()),
        (403, "Neo.ClientError.Security.Forbidden")
    );
    let deleted = http(port, "DELETE", &format!("/db/neo4j/tx/{id}"), &bob, None);
    assert_eq!(deleted.status, 403);
    let own = http(port, "POST", &path, &ann, Some(&statements(&[])));
    assert_eq!(own.json()["errors"], json!([]));
    assert_eq!(count(port, "Anns"), 1);
    server.shutdown();
}

#[test]
fn delete_before_a_queued_statement_starts_means_it_never_runs() {
    // One worker: a long statement holds it while another request waits for it.
    let server = one_worker();
    let port = server.http_port.unwrap();
    let queued_tx = tx_id(&post(port, "/db/neo4j/tx", &statements(&[])));
    let long_tx = tx_id(&post(port, "/db/neo4j/tx", &statements(&[])));
    let long = "UNWIND range(1, 100000) AS i UNWIND range(1, 100000) AS j RETURN count(*)";
    let long_path = format!("/db/neo4j/tx/{long_tx}");
    let running = std::thread::spawn(move || post(port, &long_path, &statements(&[long])));
    std::thread::sleep(Duration::from_millis(300));
    let queued_path = format!("/db/neo4j/tx/{queued_tx}/commit");
    let queued = std::thread::spawn(move || post(port, &queued_path, &statements(&["CREATE (:Queued)"])));
    std::thread::sleep(Duration::from_millis(300));

    assert_eq!(
        http(port, "DELETE", &format!("/db/neo4j/tx/{queued_tx}"), &[], None).status,
        200
    );
    assert_eq!(
        http(port, "DELETE", &format!("/db/neo4j/tx/{long_tx}"), &[], None).status,
        200
    );
    assert_eq!(
        running.join().unwrap().error_code(),
        "Neo.ClientError.Transaction.Terminated"
    );
    let queued = queued.join().unwrap();
    assert_eq!(
        queued.error_code(),
        "Neo.ClientError.Transaction.Terminated",
        "{}",
        queued.body
    );
    assert_eq!(count(port, "Queued"), 0);
    server.shutdown();
}

#[test]
fn a_client_that_hangs_up_mid_statement_leaves_no_transaction_behind() {
    let server = with_web(WebConfig::default(), None);
    let port = server.http_port.unwrap();
    let id = tx_id(&post(port, "/db/neo4j/tx", &statements(&[])));
    // Send a long statement, then hang up without reading the answer.
    let long = statements(&["UNWIND range(1, 100000) AS i UNWIND range(1, 100000) AS j RETURN count(*)"]);
    let stream = send_without_reading(port, &format!("/db/neo4j/tx/{id}"), &long);
    std::thread::sleep(Duration::from_millis(300));
    drop(stream);

    // DELETE stops the statement; the request's own work then ends the transaction.
    assert_eq!(
        http(port, "DELETE", &format!("/db/neo4j/tx/{id}"), &[], None).status,
        200
    );
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let probe = post(port, &format!("/db/neo4j/tx/{id}"), &statements(&[]));
        if probe.status == 404 {
            break;
        }
        assert_eq!(probe.status, 409, "{}", probe.body);
        assert!(
            Instant::now() < deadline,
            "transaction {id} stayed taken after its client left"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server.shutdown();
}

#[test]
fn a_client_that_stops_reading_does_not_keep_the_worker_once_its_transaction_is_deleted() {
    // One worker: while it waits on a client that reads nothing, no one else is served.
    let server = one_worker();
    let port = server.http_port.unwrap();
    let id = tx_id(&post(port, "/db/neo4j/tx", &statements(&[])));
    let huge = statements(&["UNWIND range(1, 20000000) AS i RETURN i, 'padding padding padding' AS p"]);
    let stream = send_without_reading(port, &format!("/db/neo4j/tx/{id}"), &huge);
    // The client reads nothing: the answer fills the socket and the server's channel.
    std::thread::sleep(Duration::from_secs(2));

    assert_eq!(
        http(port, "DELETE", &format!("/db/neo4j/tx/{id}"), &[], None).status,
        200
    );
    let started = Instant::now();
    let after = post(port, "/db/neo4j/tx/commit", &statements(&["RETURN 1"]));
    assert_eq!(after.json()["errors"], json!([]), "{}", after.body);
    assert!(started.elapsed() < TIMEOUT, "the worker stayed with the stalled client");
    drop(stream);
    server.shutdown();
}
