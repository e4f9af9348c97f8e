//! The worker pool: a commit that only waits (for its fsync, for replicas) gives its
//! worker back, so other sessions' queries run meanwhile.

mod support;

use std::sync::{Arc, Condvar, Mutex};

use weft_bolt::Request;
use weft_server::ServerConfig;
use weft_storage::{CommitEntry, CommitError, CommitSink, SinkTicket};

use support::{assert_success, run, TestServer};

/// A commit stage whose waits block until the test opens it, counting who waits.
#[derive(Default)]
struct Gate {
    state: Mutex<(bool, usize)>,
    changed: Condvar,
}

impl CommitSink for Gate {
    fn name(&self) -> &str {
        "gate"
    }
    fn append(&self, entry: &CommitEntry<'_>) -> Result<SinkTicket, CommitError> {
        Ok(SinkTicket(entry.ts))
    }
    fn wait(&self, _: SinkTicket) -> Result<(), CommitError> {
        let mut state = self.state.lock().unwrap();
        state.1 += 1;
        self.changed.notify_all();
        while !state.0 {
            state = self.changed.wait(state).unwrap();
        }
        Ok(())
    }
}

#[test]
fn a_commit_waiting_on_its_pipeline_leaves_the_only_worker_to_other_sessions() {
    // Set up: one worker; a commit stage that holds every commit until opened.
    let engine = weft_query::Engine::new();
    let gate = Arc::new(Gate::default());
    engine.storage().add_commit_sink(gate.clone());
    let config = ServerConfig {
        workers: 1,
        ..ServerConfig::default()
    };
    let server = TestServer::start_engine(engine, config, false);
    let (mut writer, mut reader) = (server.connect(), server.connect());
    writer.open();
    reader.open();

    // Act: one session's write reaches the gate and waits there; another session reads.
    writer.send(run("CREATE (:N)"));
    writer.send(Request::Pull { n: -1, qid: -1 });
    {
        let mut state = gate.state.lock().unwrap();
        while state.1 == 0 {
            state = gate.changed.wait(state).unwrap();
        }
    }
    let (rows, _) = reader.query("RETURN 1 AS one");

    // Check: the read ran while the commit waited; the commit then completes.
    assert_eq!(rows.len(), 1);
    gate.state.lock().unwrap().0 = true;
    gate.changed.notify_all();
    assert_success(writer.recv());
    assert_success(writer.recv());
    let (rows, _) = reader.query("MATCH (n:N) RETURN n");
    assert_eq!(rows.len(), 1);
    server.shutdown();
}
