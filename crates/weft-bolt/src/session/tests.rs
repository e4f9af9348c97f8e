use std::collections::HashMap;

use super::*;

const UNAUTHORIZED: &str = "Neo.ClientError.Security.Unauthorized";
const SYNTAX_ERROR: &str = "Neo.ClientError.Statement.SyntaxError";

/// A backend that records its calls; every query yields `ROWS` integer rows, a query
/// containing `FAIL` is a syntax error and the only valid password is `secret`.
#[derive(Default)]
struct FakeBackend {
    calls: Vec<String>,
    /// Per open query: (rows sent, autocommit).
    streams: HashMap<i64, (i64, bool)>,
    next_qid: i64,
}

const ROWS: i64 = 3;

impl FakeBackend {
    /// Advances query `qid` by `n` rows; returns the row range and the progress.
    fn advance(&mut self, qid: i64, n: i64) -> (std::ops::Range<i64>, Progress) {
        let (sent, autocommit) = self.streams[&qid];
        let end = if n == -1 { ROWS } else { (sent + n).min(ROWS) };
        let has_more = end < ROWS;
        let mut metadata = vec![entry("type", BoltValue::String("r".into()))];
        if has_more {
            self.streams.insert(qid, (end, autocommit));
        } else {
            self.streams.remove(&qid);
            metadata.push(entry("bookmark", BoltValue::String(format!("bm:{qid}"))));
        }
        (sent..end, Progress { has_more, metadata })
    }
}

impl Backend for FakeBackend {
    fn authenticate(&mut self, auth: &Auth) -> Result<(), BackendError> {
        self.calls.push(format!("authenticate {:?}", auth.principal));
        match auth.credentials.as_deref() {
            Some("secret") => Ok(()),
            _ => Err(BackendError::new(UNAUTHORIZED, "wrong credentials")),
        }
    }

    fn run(&mut self, query: &str, _parameters: &Dict, _extra: &Dict, in_tx: bool) -> Result<RunInfo, BackendError> {
        self.calls.push(format!("run {query} in_tx={in_tx}"));
        if query.contains("FAIL") {
            return Err(BackendError::new(SYNTAX_ERROR, "bad query"));
        }
        self.next_qid += 1;
        self.streams.insert(self.next_qid, (0, !in_tx));
        Ok(RunInfo {
            fields: vec!["x".to_string()],
            qid: self.next_qid,
        })
    }

    fn pull(&mut self, qid: i64, n: i64) -> Result<(Vec<Vec<BoltValue>>, Progress), BackendError> {
        self.calls.push(format!("pull {qid} {n}"));
        let (rows, progress) = self.advance(qid, n);
        Ok((rows.map(|i| vec![BoltValue::Integer(i)]).collect(), progress))
    }

    fn discard(&mut self, qid: i64, n: i64) -> Result<Progress, BackendError> {
        self.calls.push(format!("discard {qid} {n}"));
        Ok(self.advance(qid, n).1)
    }

    fn begin(&mut self, _extra: &Dict) -> Result<(), BackendError> {
        self.calls.push("begin".to_string());
        Ok(())
    }

    fn commit(&mut self) -> Result<Dict, BackendError> {
        self.calls.push("commit".to_string());
        Ok(vec![entry("bookmark", BoltValue::String("bm:tx".into()))])
    }

    fn rollback(&mut self) -> Result<(), BackendError> {
        self.calls.push("rollback".to_string());
        Ok(())
    }

    fn reset(&mut self) {
        self.calls.push("reset".to_string());
        self.streams.clear();
    }
}

fn text(s: &str) -> BoltValue {
    BoltValue::String(s.to_string())
}

fn credentials(password: &str) -> Dict {
    vec![
        entry("scheme", text("basic")),
        entry("principal", text("neo4j")),
        entry("credentials", text(password)),
    ]
}

fn run(query: &str) -> Request {
    Request::Run {
        query: query.to_string(),
        parameters: Vec::new(),
        extra: Vec::new(),
    }
}

fn pull(n: i64) -> Request {
    Request::Pull { n, qid: -1 }
}

fn begin() -> Request {
    Request::Begin { extra: Vec::new() }
}

/// A 4.4 session past HELLO, with the backend's calls so far cleared.
fn ready(backend: &mut FakeBackend) -> Session {
    let mut session = Session::new(Version::V4_4);
    let hello = Request::Hello {
        extra: credentials("secret"),
    };
    assert!(is_success(&session.handle(hello, backend)));
    backend.calls.clear();
    session
}

fn is_success(responses: &[Response]) -> bool {
    matches!(responses, [Response::Success { .. }])
}

fn metadata(responses: &[Response]) -> &Dict {
    match responses.last() {
        Some(Response::Success { metadata }) => metadata,
        other => panic!("expected SUCCESS last, got {other:?}"),
    }
}

fn failure_code(responses: &[Response]) -> &str {
    match responses {
        [Response::Failure { code, .. }] => code,
        other => panic!("expected one FAILURE, got {other:?}"),
    }
}

fn records(responses: &[Response]) -> Vec<i64> {
    let values = responses.iter().filter_map(|r| match r {
        Response::Record { fields } => fields[0].as_int(),
        _ => None,
    });
    values.collect()
}

#[test]
fn bolt_4_hello_carries_credentials() {
    // Set up: a 4.4 session.
    let mut backend = FakeBackend::default();
    let mut session = Session::new(Version::V4_4);

    // Act: HELLO with basic auth.
    let hello = Request::Hello {
        extra: credentials("secret"),
    };
    let responses = session.handle(hello, &mut backend);

    // Check: authenticated at once; server agent, connection id and hints reported.
    let meta = metadata(&responses);
    assert!(dict_get(meta, "server")
        .and_then(BoltValue::as_str)
        .unwrap()
        .starts_with("Neo4j/"));
    assert!(dict_get(meta, "connection_id").is_some());
    assert_eq!(dict_get(meta, "hints"), Some(&BoltValue::Dictionary(Vec::new())));
    assert_eq!(backend.calls, ["authenticate Some(\"neo4j\")"]);
    assert_eq!(session.state(), &State::Ready);
}

#[test]
fn bolt_4_wrong_password_is_fatal() {
    // Set up: a 4.4 session.
    let mut backend = FakeBackend::default();
    let mut session = Session::new(Version::V4_4);

    // Act: HELLO with a wrong password.
    let hello = Request::Hello {
        extra: credentials("guess"),
    };
    let responses = session.handle(hello, &mut backend);

    // Check: the backend's code is reported and the connection must close.
    assert_eq!(failure_code(&responses), UNAUTHORIZED);
    assert!(session.is_defunct());
    assert!(session.handle(Request::Reset, &mut backend).is_empty());
}

#[test]
fn bolt_5_1_hello_then_logon() {
    // Set up: a 5.1 session.
    let mut backend = FakeBackend::default();
    let mut session = Session::new(Version::new(5, 1)).with_connection_id("bolt-7");

    // Act: HELLO (its credentials, if any, are not used), then LOGON.
    let hello = session.handle(Request::Hello { extra: Vec::new() }, &mut backend);
    let state_after_hello = session.state().clone();
    let logon = Request::Logon {
        auth: credentials("secret"),
    };
    let logon = session.handle(logon, &mut backend);

    // Check: HELLO does not authenticate; LOGON does.
    assert_eq!(dict_get(metadata(&hello), "connection_id"), Some(&text("bolt-7")));
    assert_eq!(state_after_hello, State::Authentication);
    assert!(is_success(&logon));
    assert_eq!(backend.calls, ["authenticate Some(\"neo4j\")"]);
    assert_eq!(session.state(), &State::Ready);
}

#[test]
fn bolt_5_1_run_before_logon_is_fatal() {
    // Set up: a 5.1 session past HELLO.
    let mut backend = FakeBackend::default();
    let mut session = Session::new(Version::new(5, 1));
    session.handle(Request::Hello { extra: Vec::new() }, &mut backend);

    // Act: RUN without LOGON.
    let responses = session.handle(run("RETURN 1"), &mut backend);

    // Check: invalid, and the connection must close; the backend saw nothing.
    assert_eq!(failure_code(&responses), REQUEST_INVALID);
    assert!(session.is_defunct());
    assert!(backend.calls.is_empty());
}

#[test]
fn bolt_5_1_logoff_returns_to_authentication() {
    // Set up: a 5.1 session logged on.
    let mut backend = FakeBackend::default();
    let mut session = Session::new(Version::new(5, 1));
    session.handle(Request::Hello { extra: Vec::new() }, &mut backend);
    session.handle(
        Request::Logon {
            auth: credentials("secret"),
        },
        &mut backend,
    );

    // Act: LOGOFF.
    let responses = session.handle(Request::Logoff, &mut backend);

    // Check: a new LOGON is expected.
    assert!(is_success(&responses));
    assert_eq!(session.state(), &State::Authentication);
}

#[test]
fn logon_is_invalid_before_bolt_5_1() {
    // Set up: a 4.4 session, ready.
    let mut backend = FakeBackend::default();
    let mut session = ready(&mut backend);

    // Act: LOGON, which 4.4 does not know.
    let logon = Request::Logon {
        auth: credentials("secret"),
    };
    let responses = session.handle(logon, &mut backend);

    // Check: invalid; the session failed but stays open.
    assert_eq!(failure_code(&responses), REQUEST_INVALID);
    assert_eq!(session.state(), &State::Failed);
}

#[test]
fn run_before_hello_is_fatal() {
    // Set up: a fresh session.
    let mut backend = FakeBackend::default();
    let mut session = Session::new(Version::V5_0);

    // Act: RUN first.
    let responses = session.handle(run("RETURN 1"), &mut backend);

    // Check: invalid and defunct.
    assert_eq!(failure_code(&responses), REQUEST_INVALID);
    assert!(session.is_defunct());
}

#[test]
fn autocommit_run_and_pull_in_batches() {
    // Set up: a ready session.
    let mut backend = FakeBackend::default();
    let mut session = ready(&mut backend);

    // Act: RUN, then PULL 2 twice.
    let run_responses = session.handle(run("RETURN x"), &mut backend);
    let first = session.handle(pull(2), &mut backend);
    let state_between = session.state().clone();
    let second = session.handle(pull(2), &mut backend);

    // Check: RUN reports fields and t_first but no qid outside a transaction.
    let run_meta = metadata(&run_responses);
    assert_eq!(dict_get(run_meta, "fields"), Some(&BoltValue::List(vec![text("x")])));
    assert_eq!(dict_get(run_meta, "t_first"), Some(&BoltValue::Integer(0)));
    assert_eq!(dict_get(run_meta, "qid"), None);
    // Check: the first batch has more, the second ends with the summary and bookmark.
    assert_eq!(records(&first), [0, 1]);
    assert_eq!(metadata(&first), &vec![entry("has_more", BoltValue::Boolean(true))]);
    assert_eq!(state_between, State::Streaming { qid: 1 });
    assert_eq!(records(&second), [2]);
    let summary = metadata(&second);
    assert_eq!(dict_get(summary, "type"), Some(&text("r")));
    assert_eq!(dict_get(summary, "t_last"), Some(&BoltValue::Integer(0)));
    assert_eq!(dict_get(summary, "bookmark"), Some(&text("bm:1")));
    assert_eq!(session.state(), &State::Ready);
    assert_eq!(backend.calls, ["run RETURN x in_tx=false", "pull 1 2", "pull 1 2"]);
}

#[test]
fn autocommit_discard_closes_the_result() {
    // Set up: a ready session with an open result.
    let mut backend = FakeBackend::default();
    let mut session = ready(&mut backend);
    session.handle(run("RETURN x"), &mut backend);

    // Act: DISCARD all.
    let responses = session.handle(Request::Discard { n: -1, qid: -1 }, &mut backend);

    // Check: no records, a final summary, back to Ready.
    assert_eq!(records(&responses), Vec::<i64>::new());
    assert_eq!(dict_get(metadata(&responses), "bookmark"), Some(&text("bm:1")));
    assert_eq!(session.state(), &State::Ready);
}

#[test]
fn explicit_transaction_commits() {
    // Set up: a ready session.
    let mut backend = FakeBackend::default();
    let mut session = ready(&mut backend);

    // Act: BEGIN, RUN, PULL all, COMMIT.
    let begun = session.handle(begin(), &mut backend);
    let run_responses = session.handle(run("CREATE ()"), &mut backend);
    let pulled = session.handle(pull(-1), &mut backend);
    let state_before_commit = session.state().clone();
    let committed = session.handle(Request::Commit, &mut backend);

    // Check: RUN reports its qid; the PULL summary has no bookmark; COMMIT does.
    assert!(is_success(&begun));
    assert_eq!(dict_get(metadata(&run_responses), "qid"), Some(&BoltValue::Integer(1)));
    assert_eq!(records(&pulled), [0, 1, 2]);
    assert_eq!(dict_get(metadata(&pulled), "bookmark"), None);
    assert_eq!(state_before_commit, State::TxReady);
    assert_eq!(metadata(&committed), &vec![entry("bookmark", text("bm:tx"))]);
    assert_eq!(session.state(), &State::Ready);
    assert_eq!(
        backend.calls,
        ["begin", "run CREATE () in_tx=true", "pull 1 -1", "commit"]
    );
}

#[test]
fn explicit_transaction_rolls_back() {
    // Set up: a session inside a transaction whose query was consumed.
    let mut backend = FakeBackend::default();
    let mut session = ready(&mut backend);
    session.handle(begin(), &mut backend);
    session.handle(run("CREATE ()"), &mut backend);
    session.handle(Request::Discard { n: -1, qid: -1 }, &mut backend);

    // Act: ROLLBACK.
    let responses = session.handle(Request::Rollback, &mut backend);

    // Check: rolled back, back to Ready.
    assert!(is_success(&responses));
    assert_eq!(backend.calls.last().map(String::as_str), Some("rollback"));
    assert_eq!(session.state(), &State::Ready);
}

#[test]
fn transaction_streams_are_pulled_by_qid() {
    // Set up: a transaction with two open results.
    let mut backend = FakeBackend::default();
    let mut session = ready(&mut backend);
    session.handle(begin(), &mut backend);
    session.handle(run("RETURN 1"), &mut backend);
    session.handle(run("RETURN 2"), &mut backend);

    // Act: PULL the newest (qid -1), then the first by id.
    let newest = session.handle(pull(-1), &mut backend);
    let state_between = session.state().clone();
    let first = session.handle(Request::Pull { n: -1, qid: 1 }, &mut backend);

    // Check: -1 meant query 2; the transaction is ready once both are consumed.
    assert_eq!(records(&newest), [0, 1, 2]);
    assert_eq!(state_between, State::TxStreaming { open: vec![1], last: 2 });
    assert_eq!(records(&first), [0, 1, 2]);
    assert_eq!(session.state(), &State::TxReady);
    assert_eq!(&backend.calls[3..], ["pull 2 -1", "pull 1 -1"]);
}

#[test]
fn failure_then_ignored_then_reset_recovers() {
    // Set up: a ready session.
    let mut backend = FakeBackend::default();
    let mut session = ready(&mut backend);

    // Act: a failing RUN, a PULL and a RUN while failed, then RESET and a new RUN.
    let failed = session.handle(run("FAIL"), &mut backend);
    let ignored_pull = session.handle(pull(-1), &mut backend);
    let ignored_run = session.handle(run("RETURN 1"), &mut backend);
    let reset = session.handle(Request::Reset, &mut backend);
    let recovered = session.handle(run("RETURN 1"), &mut backend);

    // Check: the backend's code, IGNORED without calling the backend, then recovery.
    assert_eq!(failure_code(&failed), SYNTAX_ERROR);
    assert_eq!(ignored_pull, [Response::Ignored]);
    assert_eq!(ignored_run, [Response::Ignored]);
    assert!(is_success(&reset));
    assert!(is_success(&recovered));
    assert_eq!(
        backend.calls,
        ["run FAIL in_tx=false", "reset", "run RETURN 1 in_tx=false"]
    );
}

#[test]
fn reset_abandons_an_open_transaction() {
    // Set up: a transaction with an open result.
    let mut backend = FakeBackend::default();
    let mut session = ready(&mut backend);
    session.handle(begin(), &mut backend);
    session.handle(run("RETURN 1"), &mut backend);

    // Act: RESET.
    let responses = session.handle(Request::Reset, &mut backend);

    // Check: the backend dropped everything; the session is ready.
    assert!(is_success(&responses));
    assert_eq!(backend.calls.last().map(String::as_str), Some("reset"));
    assert_eq!(session.state(), &State::Ready);
}

#[test]
fn messages_invalid_per_state() {
    // Set up: for each case, the requests that reach the state, then the invalid one.
    let cases: Vec<(&str, Vec<Request>, Request)> = vec![
        ("COMMIT in Ready", vec![], Request::Commit),
        ("ROLLBACK in Ready", vec![], Request::Rollback),
        ("PULL in Ready", vec![], pull(-1)),
        ("HELLO twice", vec![], Request::Hello { extra: Vec::new() }),
        ("RUN while streaming", vec![run("RETURN 1")], run("RETURN 2")),
        ("BEGIN while streaming", vec![run("RETURN 1")], begin()),
        ("second BEGIN", vec![begin()], begin()),
        (
            "COMMIT with open result",
            vec![begin(), run("RETURN 1")],
            Request::Commit,
        ),
        (
            "PULL of unknown qid",
            vec![begin(), run("RETURN 1")],
            Request::Pull { n: -1, qid: 9 },
        ),
        ("PULL n = 0", vec![run("RETURN 1")], pull(0)),
        ("TELEMETRY before 5.4", vec![], Request::Telemetry { api: 1 }),
        ("LOGOFF before 5.1", vec![], Request::Logoff),
    ];
    for (name, setup, request) in cases {
        let mut backend = FakeBackend::default();
        let mut session = ready(&mut backend);
        for step in setup {
            session.handle(step, &mut backend);
        }

        // Act: the out-of-order request.
        let responses = session.handle(request, &mut backend);

        // Check: invalid, and the session failed but is still open.
        assert_eq!(failure_code(&responses), REQUEST_INVALID, "{name}");
        assert_eq!(session.state(), &State::Failed, "{name}");
    }
}

#[test]
fn goodbye_closes_without_reply() {
    // Set up: a transaction with an open result.
    let mut backend = FakeBackend::default();
    let mut session = ready(&mut backend);
    session.handle(begin(), &mut backend);
    session.handle(run("RETURN 1"), &mut backend);

    // Act: GOODBYE, then a request that arrives anyway.
    let goodbye = session.handle(Request::Goodbye, &mut backend);
    let after = session.handle(run("RETURN 1"), &mut backend);

    // Check: no replies; the backend dropped the transaction; the session is defunct.
    assert!(goodbye.is_empty());
    assert!(after.is_empty());
    assert_eq!(backend.calls.last().map(String::as_str), Some("reset"));
    assert!(session.is_defunct());
}

#[test]
fn goodbye_is_heard_while_failed() {
    // Set up: a failed session.
    let mut backend = FakeBackend::default();
    let mut session = ready(&mut backend);
    session.handle(Request::Commit, &mut backend);

    // Act: GOODBYE.
    let responses = session.handle(Request::Goodbye, &mut backend);

    // Check: closed without reply.
    assert!(responses.is_empty());
    assert!(session.is_defunct());
}

#[test]
fn telemetry_succeeds_from_5_4() {
    // Set up: a 5.4 session logged on.
    let mut backend = FakeBackend::default();
    let mut session = Session::new(Version::new(5, 4));
    session.handle(Request::Hello { extra: Vec::new() }, &mut backend);
    let logon = Request::Logon {
        auth: credentials("secret"),
    };
    session.handle(logon, &mut backend);

    // Act: TELEMETRY.
    let responses = session.handle(Request::Telemetry { api: 0 }, &mut backend);

    // Check: accepted, still ready.
    assert!(is_success(&responses));
    assert_eq!(session.state(), &State::Ready);
}

#[test]
fn route_answers_a_single_instance_table_at_the_client_address() {
    // Set up: a ready session.
    let mut backend = FakeBackend::default();
    let mut session = ready(&mut backend);

    // Act: ROUTE, as a neo4j:// driver sends, first without the address it used.
    let route = |routing| Request::Route {
        routing,
        bookmarks: Vec::new(),
        db: None,
        imp_user: None,
    };
    let responses = session.handle(route(Vec::new()), &mut backend);

    // Check: without an address there is no table; RESET recovers as after any failure.
    assert_eq!(failure_code(&responses), ROUTING_UNSUPPORTED);
    assert_eq!(session.state(), &State::Failed);
    assert!(is_success(&session.handle(Request::Reset, &mut backend)));

    // With it: every role at that address, for the default database.
    let address = vec![("address".to_string(), BoltValue::String("db.local:7687".into()))];
    let responses = session.handle(route(address), &mut backend);
    let [Response::Success { metadata }] = &responses[..] else {
        panic!("expected SUCCESS, got {responses:?}");
    };
    let table = dict_get(metadata, "rt").and_then(BoltValue::as_dict).expect("rt");
    assert_eq!(dict_get(table, "db"), Some(&BoltValue::String("neo4j".into())));
    let Some(BoltValue::List(servers)) = dict_get(table, "servers") else {
        panic!("no servers in {table:?}");
    };
    let roles: Vec<_> = servers
        .iter()
        .filter_map(|s| dict_get(s.as_dict()?, "role")?.as_str())
        .collect();
    assert_eq!(roles, ["WRITE", "READ", "ROUTE"]);
    assert_eq!(session.state(), &State::Ready);
}

#[test]
fn auth_debug_redacts_credentials() {
    // Set up: credentials with a password.
    let auth = Auth::from_dict(&credentials("secret"));

    // Act: format for a log.
    let shown = format!("{auth:?}");

    // Check: the password does not appear.
    assert!(!shown.contains("secret"), "{shown}");
    assert!(shown.contains("redacted"));
}
