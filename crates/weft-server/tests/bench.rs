//! `weft bench` end to end: the built binary loads a small standard graph into a real
//! server, runs workloads and reports; against a server that is gone it fails instead of
//! hanging.

mod support;

use std::process::{Command, Output};

fn bench(address: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weft"))
        .args([
            "bench",
            "--address",
            address,
            "--persons",
            "300",
            "--edges",
            "2000",
            "--timeout",
            "10",
        ])
        .args(args)
        .output()
        .expect("weft bench runs")
}

#[test]
fn loads_the_graph_runs_the_workloads_and_reports_json() {
    // Set up: an empty server.
    let server = support::TestServer::start();
    let address = format!("127.0.0.1:{}", server.port);

    // Act: every workload at 1 and 3 connections, a few hundred queries each.
    let output = bench(
        &address,
        &[
            "--workloads",
            "point,hop1,hop2,agg,create,mix",
            "--connections",
            "1,3",
            "--count",
            "200",
            "--warmup",
            "0.1",
            "--json",
        ],
    );

    // Check: success, one run per workload and connection count, no errors, figures filled in.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "weft bench failed: {stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    let runs = report["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 12);
    for run in runs {
        assert_eq!(run["ok"], 200, "{run}");
        assert_eq!(run["errors"], 0, "{run}");
        assert!(run["qps"].as_f64().is_some_and(|q| q > 0.0), "{run}");
        assert!(run["latency_ms"]["p99"].as_f64().is_some_and(|p| p > 0.0), "{run}");
    }
    assert!(stderr.contains("loaded 2/2 batches"), "{stderr}");

    // Act again: the graph is found and used, not loaded twice.
    let again = bench(
        &address,
        &[
            "--workloads",
            "point",
            "--connections",
            "2",
            "--count",
            "50",
            "--warmup",
            "0",
        ],
    );

    // Check: the table form, and the load skipped.
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert!(String::from_utf8_lossy(&again.stderr).contains("using the graph already loaded"));
    assert!(stdout.contains("| point | 2 |"), "{stdout}");
}

#[test]
fn refuses_a_graph_that_is_not_the_standard_one() {
    // Set up: a server holding other persons.
    let server = support::TestServer::start();
    let address = format!("127.0.0.1:{}", server.port);
    let mut client = server.connect();
    client.open();
    client.query("CREATE (:Person {id: 0})");

    // Act
    let output = bench(&address, &["--workloads", "point", "--count", "10"]);

    // Check: a message saying what is there and what to do.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("already holds 1 persons, which are not") && stderr.contains("--graph existing"),
        "{stderr}"
    );
}

#[test]
fn a_server_that_is_gone_fails_the_run_with_its_error() {
    // Set up: an address where nothing listens any more.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    drop(listener);

    // Act
    let output = bench(&address, &["--count", "10"]);

    // Check: a non-zero exit naming the address.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains(&format!("cannot connect to {address}")), "{stderr}");
}

#[test]
fn a_server_that_goes_away_mid_run_ends_it_with_the_errors_seen() {
    // Set up: a server, and a long run against it.
    let server = support::TestServer::start();
    let address = format!("127.0.0.1:{}", server.port);
    let child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args([
            "bench",
            "--address",
            &address,
            "--persons",
            "300",
            "--edges",
            "2000",
            "--timeout",
            "5",
        ])
        .args([
            "--workloads",
            "point",
            "--connections",
            "4",
            "--duration",
            "60",
            "--warmup",
            "0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("weft bench starts");

    // Act: stop the server once the run is under way.
    std::thread::sleep(std::time::Duration::from_secs(2));
    server.shutdown();
    let output = child.wait_with_output().expect("weft bench ends");

    // Check: it ended long before its 60 s, non-zero, with the lost connections reported.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(stdout.contains("connection(s) lost"), "{stdout}");
}
