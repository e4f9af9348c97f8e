//! What replication keeps in the data directory (`replication.json`): the instance's role,
//! the replicas a MAIN registered, and, on a replica, the database it takes records for.
//! Restored at start, so a restart needs no flags.
//!
//! Promises: the file is replaced atomically (written aside, fsynced, renamed, directory
//! fsynced); a file that cannot be read or parsed stops the start with an error naming it,
//! never a silent fall-back to MAIN.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::mode::ReplicaMode;
use crate::ReplicationError;

/// The file's name in the data directory.
pub const STATE_FILE: &str = "replication.json";

/// The instance's role as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum StoredRole {
    Main,
    Replica { port: u16 },
}

/// A replica a MAIN registered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredReplica {
    pub name: String,
    pub address: String,
    pub mode: ReplicaMode,
}

/// Everything replication keeps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredState {
    pub role: StoredRole,
    #[serde(default)]
    pub replicas: Vec<StoredReplica>,
    /// On a replica: the database (UUID bytes) whose records it applies, fixed at the
    /// first contact with a MAIN.
    #[serde(default)]
    pub main_database: Option<[u8; 16]>,
}

impl Default for StoredState {
    /// Every instance starts as MAIN with no replicas.
    fn default() -> StoredState {
        StoredState {
            role: StoredRole::Main,
            replicas: Vec::new(),
            main_database: None,
        }
    }
}

impl StoredState {
    /// The state kept in `dir`, or the default when there is none yet.
    pub fn load(dir: &Path) -> Result<StoredState, ReplicationError> {
        let path = dir.join(STATE_FILE);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| ReplicationError::State {
                path,
                reason: format!("not a replication state file: {e}"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(StoredState::default()),
            Err(e) => Err(ReplicationError::State {
                path,
                reason: e.to_string(),
            }),
        }
    }

    /// Replaces the state kept in `dir` with this one, durably.
    pub fn save(&self, dir: &Path) -> Result<(), ReplicationError> {
        let path = dir.join(STATE_FILE);
        let aside: PathBuf = dir.join(format!(".{STATE_FILE}.new"));
        let failed = |reason: std::io::Error| ReplicationError::State {
            path: path.clone(),
            reason: reason.to_string(),
        };
        let text = serde_json::to_vec_pretty(self).expect("the state always serialises");
        let mut file = File::create(&aside).map_err(failed)?;
        file.write_all(&text).map_err(failed)?;
        file.sync_all().map_err(failed)?;
        drop(file);
        fs::rename(&aside, &path).map_err(failed)?;
        File::open(dir).and_then(|d| d.sync_all()).map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_defaults_to_main() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(StoredState::load(dir.path()).unwrap(), StoredState::default());
        let state = StoredState {
            role: StoredRole::Replica { port: 10_000 },
            replicas: vec![StoredReplica {
                name: "r1".into(),
                address: "10.0.0.2:10000".into(),
                mode: ReplicaMode::SyncWithTimeout { millis: 2500 },
            }],
            main_database: Some([3; 16]),
        };
        state.save(dir.path()).unwrap();
        assert_eq!(StoredState::load(dir.path()).unwrap(), state);
    }

    #[test]
    fn a_damaged_state_file_stops_the_start_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(STATE_FILE), b"{\"role\": \"boss\"}").unwrap();
        let error = StoredState::load(dir.path()).unwrap_err().to_string();
        assert!(error.contains(STATE_FILE), "{error}");
    }
}
