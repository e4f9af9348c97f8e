//! What a member must remember about Raft beside its log: its vote, the newest index it
//! knows committed (as of the last write of this file: it is not written for every
//! commit), and the newest log id purged from the log (so the log's start is known once
//! its first entries are gone).
//!
//! Owns the file `raft-state` in the Raft directory: `WEFTRAFT`, a format byte (1), the
//! vote (a presence byte, then term, node and committed flag), the committed and purged
//! log ids (each a presence byte, then term, node, index) and a CRC-32C of everything
//! before it. It is replaced whole ([`replace_file`]), so a crash leaves the old state or
//! the new one.

use std::fs;
use std::path::{Path, PathBuf};

use weft_common::encoding::{get_u8, put_u8};
use weft_storage::durability::replace_file;

use crate::codec::{begin_sealed, get_opt_log_id, get_vote, open_sealed, put_opt_log_id, put_vote, seal};
use crate::{LogId, Vote};

const MAGIC: &[u8; 8] = b"WEFTRAFT";
const FORMAT: u8 = 1;
const FILE: &str = "raft-state";

/// The state kept in `raft-state`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HardState {
    pub vote: Option<Vote>,
    pub committed: Option<LogId>,
    pub purged: Option<LogId>,
}

/// Why `raft-state` could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HardStateError {
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{path} is damaged ({why}); the member cannot know what it voted for, so it does not start")]
    Damaged { path: PathBuf, why: String },
}

impl HardState {
    /// Whether `dir` holds a state file.
    pub fn exists(dir: &Path) -> bool {
        dir.join(FILE).exists()
    }

    /// Reads the state in `dir`; the empty state when there is no file yet.
    pub fn load(dir: &Path) -> Result<HardState, HardStateError> {
        let path = dir.join(FILE);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(HardState::default()),
            Err(error) => return Err(HardStateError::Io { path, error }),
        };
        Self::decode(&bytes).map_err(|why| HardStateError::Damaged { path, why })
    }

    /// Replaces the state in `dir` durably.
    pub fn store(&self, dir: &Path) -> Result<(), HardStateError> {
        let path = dir.join(FILE);
        replace_file(&path, &self.encode()).map_err(|error| HardStateError::Io { path, error })
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = begin_sealed(MAGIC, FORMAT);
        match &self.vote {
            Some(vote) => {
                put_u8(&mut out, 1);
                put_vote(&mut out, vote);
            }
            None => put_u8(&mut out, 0),
        }
        put_opt_log_id(&mut out, &self.committed);
        put_opt_log_id(&mut out, &self.purged);
        seal(&mut out);
        out
    }

    fn decode(bytes: &[u8]) -> Result<HardState, String> {
        let rest = open_sealed(bytes, MAGIC, FORMAT, "Raft state file")?;
        let mut at = 0;
        let parsed = (|| {
            let vote = match get_u8(rest, &mut at)? {
                0 => None,
                _ => Some(get_vote(rest, &mut at)?),
            };
            let committed = get_opt_log_id(rest, &mut at)?;
            let purged = get_opt_log_id(rest, &mut at)?;
            Ok::<_, weft_common::encoding::DecodeError>(HardState {
                vote,
                committed,
                purged,
            })
        })()
        .map_err(|e| e.to_string())?;
        if at != rest.len() {
            return Err(format!("{} unexpected bytes at the end", rest.len() - at));
        }
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openraft::CommittedLeaderId;

    #[test]
    fn the_state_survives_a_reload_and_damage_is_named() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(HardState::load(dir.path()).unwrap(), HardState::default());
        let state = HardState {
            vote: Some(Vote::new_committed(7, 2)),
            committed: Some(LogId::new(CommittedLeaderId::new(7, 2), 120)),
            purged: None,
        };
        state.store(dir.path()).unwrap();
        assert_eq!(HardState::load(dir.path()).unwrap(), state);

        let path = dir.path().join(FILE);
        let mut bytes = fs::read(&path).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 1;
        fs::write(&path, &bytes).unwrap();
        let error = HardState::load(dir.path()).unwrap_err().to_string();
        assert!(error.contains("checksum mismatch"), "{error}");
    }
}
