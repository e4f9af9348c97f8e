//! Bolt while the instance starts: the data directory is still being recovered, so the
//! only question answered is how far that has come.
//!
//! Owns: the backend a connection gets before the node exists. It authenticates as the
//! real server does, answers `SHOW STORAGE INFO` with the recovery's figures, and fails
//! every other statement and every transaction with
//! `Neo.TransientError.General.DatabaseUnavailable` (drivers retry transient errors),
//! naming the phase. Once the instance serves, these connections are closed between
//! requests and clients reconnect to the real server on the same port.

use std::sync::Arc;

use weft_bolt::messages::Dict;
use weft_bolt::packstream::BoltValue;
use weft_bolt::session::{Auth, Backend, BackendError, Progress, RunInfo};
use weft_storage::durability::{RecoveryPhase, RecoveryProgress};

use crate::auth::Credentials;

/// The code of every refusal while starting.
pub const STARTING: &str = "Neo.TransientError.General.DatabaseUnavailable";

/// See the module docs.
pub struct StartingBackend {
    progress: Arc<RecoveryProgress>,
    credentials: Option<Arc<Credentials>>,
    /// The rows of the one open result, and its id.
    open: Option<(i64, Vec<Vec<BoltValue>>)>,
    next_qid: i64,
}

impl StartingBackend {
    pub fn new(progress: Arc<RecoveryProgress>, credentials: Option<Arc<Credentials>>) -> Self {
        StartingBackend {
            progress,
            credentials,
            open: None,
            next_qid: 0,
        }
    }

    /// Why a statement cannot run yet.
    fn unavailable(&self) -> BackendError {
        let phase = self.progress.phase();
        let (records, _) = self.progress.wal();
        let (loaded, total) = self.progress.snapshot();
        let detail = match phase {
            RecoveryPhase::Snapshot => format!("{}: {loaded} of {total} objects", phase.name()),
            RecoveryPhase::Wal => format!("{}: {records} records so far", phase.name()),
            _ => phase.name().to_string(),
        };
        BackendError::new(
            STARTING,
            format!(
                "the database is recovering its data directory ({detail}, {:.1} s); only SHOW STORAGE INFO is \
                 answered until it is ready: retry, or watch /health",
                self.progress.elapsed().as_secs_f64()
            ),
        )
    }

    /// `SHOW STORAGE INFO`'s rows while starting: `(storage info, value)`.
    fn storage_info(&self) -> Vec<Vec<BoltValue>> {
        let int = |v: u64| BoltValue::Integer(i64::try_from(v).unwrap_or(i64::MAX));
        let (records, bytes) = self.progress.wal();
        let (loaded, total) = self.progress.snapshot();
        let rows = [
            ("status", BoltValue::String("recovering".into())),
            ("recovery_phase", BoltValue::String(self.progress.phase().name().into())),
            (
                "recovery_seconds",
                BoltValue::Float(self.progress.elapsed().as_secs_f64()),
            ),
            ("snapshot_objects_loaded", int(loaded)),
            ("snapshot_objects", int(total)),
            ("wal_records_replayed", int(records)),
            ("wal_bytes_replayed", int(bytes)),
        ];
        rows.into_iter()
            .map(|(name, value)| vec![BoltValue::String(name.into()), value])
            .collect()
    }
}

/// Whether `query` is `SHOW STORAGE INFO` (any case and spacing, an optional `;`).
fn is_storage_info(query: &str) -> bool {
    let words: Vec<String> = query
        .trim()
        .trim_end_matches(';')
        .split_whitespace()
        .map(str::to_ascii_uppercase)
        .collect();
    words == ["SHOW", "STORAGE", "INFO"]
}

impl Backend for StartingBackend {
    fn authenticate(&mut self, auth: &Auth) -> Result<(), BackendError> {
        self.credentials
            .as_ref()
            .map_or(Ok(()), |credentials| credentials.verify(auth))
    }

    fn run(&mut self, query: &str, _: &Dict, _: &Dict, in_tx: bool) -> Result<RunInfo, BackendError> {
        if in_tx || !is_storage_info(query) {
            return Err(self.unavailable());
        }
        let qid = self.next_qid;
        self.next_qid += 1;
        self.open = Some((qid, self.storage_info()));
        Ok(RunInfo {
            fields: vec!["storage info".into(), "value".into()],
            qid,
        })
    }

    fn pull(&mut self, qid: i64, n: i64) -> Result<(Vec<Vec<BoltValue>>, Progress), BackendError> {
        let Some((_, rows)) = self.open.as_mut().filter(|(open, _)| *open == qid) else {
            return Err(BackendError::new(
                weft_bolt::session::REQUEST_INVALID,
                format!("query {qid} has no open result; RUN it first"),
            ));
        };
        let wanted = usize::try_from(n).unwrap_or(usize::MAX).min(rows.len());
        let taken: Vec<_> = rows.drain(..wanted).collect();
        let has_more = !rows.is_empty();
        if !has_more {
            self.open = None;
        }
        let metadata = if has_more {
            Vec::new()
        } else {
            vec![("type".to_string(), BoltValue::String("r".into()))]
        };
        Ok((taken, Progress { has_more, metadata }))
    }

    fn discard(&mut self, qid: i64, n: i64) -> Result<Progress, BackendError> {
        self.pull(qid, n).map(|(_, progress)| progress)
    }

    fn begin(&mut self, _: &Dict) -> Result<(), BackendError> {
        Err(self.unavailable())
    }

    fn commit(&mut self) -> Result<Dict, BackendError> {
        Err(self.unavailable())
    }

    fn rollback(&mut self) -> Result<(), BackendError> {
        Ok(())
    }

    fn reset(&mut self) {
        self.open = None;
    }

    /// No routing table yet: this instance does not know its role (a Raft member may turn
    /// out a follower), and a driver would keep a guess for the table's whole lifetime.
    fn route(&mut self, _: &Dict, _: Option<&str>) -> Result<Dict, BackendError> {
        Err(self.unavailable())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_show_storage_info_is_recognised() {
        for yes in ["SHOW STORAGE INFO", "show  storage\ninfo;", " Show Storage Info ; "] {
            assert!(is_storage_info(yes), "{yes:?}");
        }
        for no in ["SHOW STORAGE", "SHOW STORAGE INFO now", "MATCH (n) RETURN n", ""] {
            assert!(!is_storage_info(no), "{no:?}");
        }
    }

    #[test]
    fn statements_other_than_storage_info_are_refused_as_transient() {
        let mut backend = StartingBackend::new(RecoveryProgress::new(), None);
        let refused = backend
            .run("MATCH (n) RETURN n", &Vec::new(), &Vec::new(), false)
            .unwrap_err();
        assert_eq!(refused.code, STARTING);
        assert!(refused.message.contains("recovering"), "{}", refused.message);
        assert_eq!(backend.begin(&Vec::new()).unwrap_err().code, STARTING);
        assert_eq!(backend.route(&Vec::new(), None).unwrap_err().code, STARTING);

        let run = backend
            .run("SHOW STORAGE INFO", &Vec::new(), &Vec::new(), false)
            .unwrap();
        let (rows, progress) = backend.pull(run.qid, -1).unwrap();
        assert!(!progress.has_more);
        assert_eq!(rows[0][0], BoltValue::String("status".into()));
        assert_eq!(rows[0][1], BoltValue::String("recovering".into()));
        assert_eq!(rows[1][1], BoltValue::String("starting".into()));
    }
}
