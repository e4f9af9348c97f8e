//! `weft shell` end to end: the built binary against a real server on an ephemeral port,
//! checking exact output in each format, stdin scripts and exit codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use tokio::sync::oneshot;
use weft_query::Engine;
use weft_server::{serve, ServerConfig};

/// How long the server may take to shut down.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A server on an ephemeral port, stopped when dropped.
struct TestServer {
    runtime: tokio::runtime::Runtime,
    address: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestServer {
    fn start() -> TestServer {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let address = listener.local_addr().expect("local address").to_string();
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = runtime.spawn(serve(listener, Engine::new(), ServerConfig::default(), shutdown));
        TestServer {
            runtime,
            address,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Runs `weft shell --address <server> <args>` with `stdin` as its input.
    fn shell(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
            .args(["shell", "--address", &self.address])
            .args(args)
            .env_remove("WEFT_SHELL_FORMAT")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start weft shell");
        let mut input = child.stdin.take().expect("stdin");
        input.write_all(stdin.as_bytes()).expect("write stdin");
        drop(input);
        child.wait_with_output().expect("weft shell finishes")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = self
                .runtime
                .block_on(async { tokio::time::timeout(TIMEOUT, task).await });
        }
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts exit status 0 and returns stdout.
fn succeeded(output: &Output) -> String {
    assert!(output.status.success(), "weft shell failed: {}", stderr(output));
    stdout(output)
}

#[test]
fn command_prints_an_aligned_table_of_nodes() {
    // Set up: a server.
    let server = TestServer::start();

    // Act: create two nodes and a relationship and return them in one -c.
    let query =
        "CREATE (a:Person {name: 'A'})-[r:KNOWS {since: 2020}]->(b:Person {name: 'Bee'}) RETURN a, r, b.name AS b";
    let output = server.shell(&["-c", query], "");

    // Check: Cypher-like cells, aligned; no summary line since stdout is not a terminal.
    let expected = "\
+-----------------------+------------------------+-------+
| a                     | r                      | b     |
+-----------------------+------------------------+-------+
| (:Person {name: \"A\"}) | [:KNOWS {since: 2020}] | \"Bee\" |
+-----------------------+------------------------+-------+
";
    assert_eq!(succeeded(&output), expected);
}

#[test]
fn csv_and_json_formats() {
    // Set up: a server with two nodes.
    let server = TestServer::start();
    succeeded(&server.shell(&["-c", "CREATE (:P {x: 1, s: 'a,b'}), (:P {x: 2})"], ""));
    let query = "MATCH (p:P) RETURN p.x AS x, p.s AS s ORDER BY x";

    // Act
    let csv = server.shell(&["--format", "csv", "-c", query], "");
    let json = server.shell(
        &[
            "--format",
            "json",
            "-c",
            "MATCH (p:P) WHERE p.x = 2 RETURN p, [1.5] AS l",
        ],
        "",
    );

    // Check: CSV quotes the comma and leaves null empty; JSON is one object per row.
    assert_eq!(succeeded(&csv), "x,s\n1,\"a,b\"\n2,\n");
    let json = succeeded(&json);
    let row: serde_json::Value = serde_json::from_str(json.trim()).expect("one JSON line");
    assert_eq!(row["p"]["labels"], serde_json::json!(["P"]));
    assert_eq!(row["p"]["properties"], serde_json::json!({"x": 2}));
    assert_eq!(row["l"], serde_json::json!([1.5]));
}

#[test]
fn stdin_script_with_parameters_and_multi_line_statements() {
    // Set up: a server and a script with a parameter, a statement over two lines, a `;`
    // inside a string, a comment and a last statement without `;`.
    let server = TestServer::start();
    let script = "\
:param who \"Ann\"
CREATE (:P {name: $who});
MATCH (p:P)
RETURN p.name AS name, 'x;y' AS s; // done
RETURN 2 AS two
";

    // Act
    let output = server.shell(&["--format", "csv"], script);

    // Check: every statement ran, in order.
    assert_eq!(succeeded(&output), "name,s\nAnn,x;y\ntwo\n2\n");
}

#[test]
fn a_syntax_error_fails_with_its_neo4j_code_and_stops_the_script() {
    // Set up: a server.
    let server = TestServer::start();

    // Act: -c with a syntax error; then a script whose second statement is wrong.
    let command = server.shell(&["-c", "RETURN (1"], "");
    let script = server.shell(&["--format", "csv"], "RETURN 1 AS a;\nRETURN nope(;\nRETURN 3 AS c;\n");

    // Check: non-zero exit, the status code on stderr, nothing run after the failure.
    assert!(!command.status.success());
    assert!(
        stderr(&command).contains("Neo.ClientError.Statement.SyntaxError"),
        "{}",
        stderr(&command)
    );
    assert!(!script.status.success());
    assert!(stderr(&script).contains("Neo.ClientError.Statement.SyntaxError"));
    assert_eq!(stdout(&script), "a\n1\n");
}

#[test]
fn param_option_sets_a_parameter_and_a_runtime_error_fails() {
    // Set up: a server.
    let server = TestServer::start();

    // Act: use a parameter from --param, then divide by zero.
    let output = server.shell(
        &["--format", "csv", "-P", "n=41"],
        "RETURN $n + 1 AS m;\nRETURN 1 / 0;\n",
    );

    // Check: the first result printed; the failure exits non-zero and names its code.
    assert!(!output.status.success());
    assert_eq!(stdout(&output), "m\n42\n");
    assert!(stderr(&output).contains("error: Neo."), "{}", stderr(&output));
}

#[test]
fn a_large_result_arrives_in_several_pulls() {
    // Set up: a server.
    let server = TestServer::start();

    // Act: more rows than one PULL batch asks for.
    let output = server.shell(&["--format", "csv", "-c", "UNWIND range(1, 2500) AS i RETURN i"], "");

    // Check: every row, in order.
    let out = succeeded(&output);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2501);
    assert_eq!((lines[0], lines[1], lines[2500]), ("i", "1", "2500"));
}
