//! What replication keeps in the data directory (`replication.state`): the instance's
//! role, the replicas a MAIN registered, the epoch history of its data (`history.rs`),
//! and, on a replica, the database and epoch of the MAIN it takes records from. Restored
//! at start, so a restart needs no flags.
//!
//! The file is our own small text format, one `key=value` line each, as the data
//! directory's id file is (on-disk formats are ours, never a serde format):
//!
//! ```text
//! version=1
//! role=replica 10000              # or: role=main
//! main_database=0a1b…             # 32 hex digits; only on a replica that met its MAIN
//! main_epoch=7                    # on a replica: the epoch its newest commits were made in
//! seen_epoch=9                    # on a replica: the newest epoch of a MAIN that took it over
//! epoch=0 1200                    # one line per ended epoch, oldest first: epoch, newest commit
//! replica=r1\t10.0.0.2:10000\tSYNC_WITH_TIMEOUT 2500   # one line per replica, in order
//! ```
//!
//! Fields of a `replica` line are separated by tabs; `\`, tab and newline inside a field
//! are written `\\`, `\t` and `\n`. Modes: `SYNC`, `ASYNC`, `STRICT_SYNC`,
//! `SYNC_WITH_TIMEOUT <millis>`.
//!
//! Promises: the file is replaced atomically (written aside, fsynced, renamed, directory
//! fsynced); a file that cannot be read or parsed stops the start with an error naming it
//! and the line, never a silent fall-back to MAIN.

use std::fs;
use std::path::{Path, PathBuf};

use crate::history::EpochMark;
use crate::mode::ReplicaMode;
use crate::ReplicationError;

/// The file's name in the data directory.
pub const STATE_FILE: &str = "replication.state";

/// The format's version, the file's first line.
const VERSION: u32 = 1;

/// The instance's role as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoredRole {
    Main,
    Replica { port: u16 },
}

/// A replica a MAIN registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredReplica {
    pub name: String,
    pub address: String,
    pub mode: ReplicaMode,
}

/// Everything replication keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredState {
    pub role: StoredRole,
    pub replicas: Vec<StoredReplica>,
    /// On a replica: the database (UUID bytes) whose records it applies, fixed at the
    /// first contact with a MAIN.
    pub main_database: Option<[u8; 16]>,
    /// On a replica: the epoch its newest commits were made in (its MAIN's, or its own
    /// when it made them as MAIN before it became a replica).
    pub main_epoch: Option<u64>,
    /// On a replica: the newest epoch of a MAIN that took it over; a MAIN of an older
    /// epoch was replaced by a promotion and is refused.
    pub seen_epoch: Option<u64>,
    /// The ended epochs this instance's data went through, oldest first.
    pub history: Vec<EpochMark>,
}

impl Default for StoredState {
    /// Every instance starts as MAIN with no replicas.
    fn default() -> StoredState {
        StoredState {
            role: StoredRole::Main,
            replicas: Vec::new(),
            main_database: None,
            main_epoch: None,
            seen_epoch: None,
            history: Vec::new(),
        }
    }
}

impl StoredState {
    /// The state kept in `dir`, or the default when there is none yet.
    pub fn load(dir: &Path) -> Result<StoredState, ReplicationError> {
        let path = dir.join(STATE_FILE);
        let failed = |reason: String| ReplicationError::State {
            path: path.clone(),
            reason,
        };
        match fs::read(&path) {
            Ok(bytes) => {
                let text = String::from_utf8(bytes).map_err(|_| failed("not UTF-8 text".into()))?;
                StoredState::parse(&text).map_err(failed)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(StoredState::default()),
            Err(e) => Err(failed(e.to_string())),
        }
    }

    /// Replaces the state kept in `dir` with this one, durably.
    pub fn save(&self, dir: &Path) -> Result<(), ReplicationError> {
        let path = dir.join(STATE_FILE);
        weft_storage::durability::replace_file(&path, self.render().as_bytes()).map_err(|reason| {
            ReplicationError::State {
                path: path.clone(),
                reason: reason.to_string(),
            }
        })
    }

    fn render(&self) -> String {
        let mut text = format!("version={VERSION}\n");
        match self.role {
            StoredRole::Main => text.push_str("role=main\n"),
            StoredRole::Replica { port } => text.push_str(&format!("role=replica {port}\n")),
        }
        if let Some(database) = self.main_database {
            let hex: String = database.iter().map(|b| format!("{b:02x}")).collect();
            text.push_str(&format!("main_database={hex}\n"));
        }
        if let Some(epoch) = self.main_epoch {
            text.push_str(&format!("main_epoch={epoch}\n"));
        }
        if let Some(epoch) = self.seen_epoch {
            text.push_str(&format!("seen_epoch={epoch}\n"));
        }
        for mark in &self.history {
            text.push_str(&format!("epoch={} {}\n", mark.epoch, mark.last_ts));
        }
        for replica in &self.replicas {
            let mode = match replica.mode {
                ReplicaMode::Sync => "SYNC".to_string(),
                ReplicaMode::Async => "ASYNC".to_string(),
                ReplicaMode::StrictSync => "STRICT_SYNC".to_string(),
                ReplicaMode::SyncWithTimeout { millis } => format!("SYNC_WITH_TIMEOUT {millis}"),
            };
            let fields = [escape(&replica.name), escape(&replica.address), mode];
            text.push_str(&format!("replica={}\n", fields.join("\t")));
        }
        text
    }

    fn parse(text: &str) -> Result<StoredState, String> {
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, line)) if line == format!("version={VERSION}") => {}
            Some((_, line)) => return Err(format!("line 1 is `{line}`, expected `version={VERSION}`")),
            None => return Err("the file is empty".into()),
        }
        let mut state = StoredState::default();
        let mut role = None;
        for (index, line) in lines {
            let at = |problem: &str| format!("line {}: {problem}: `{line}`", index + 1);
            let (key, value) = line.split_once('=').ok_or_else(|| at("not key=value"))?;
            match key {
                "role" => {
                    role = Some(match value.split_once(' ') {
                        None if value == "main" => StoredRole::Main,
                        Some(("replica", port)) => StoredRole::Replica {
                            port: port.parse().map_err(|_| at("not a port"))?,
                        },
                        _ => return Err(at("not a role")),
                    })
                }
                "main_database" => {
                    state.main_database = Some(parse_database(value).ok_or_else(|| at("not 32 hex digits"))?)
                }
                "main_epoch" => state.main_epoch = Some(value.parse().map_err(|_| at("not an epoch"))?),
                "seen_epoch" => state.seen_epoch = Some(value.parse().map_err(|_| at("not an epoch"))?),
                "epoch" => {
                    let mark = value
                        .split_once(' ')
                        .and_then(|(epoch, last)| Some((epoch.parse().ok()?, last.parse().ok()?)));
                    let (epoch, last_ts) = mark.ok_or_else(|| at("not `epoch newest-commit`"))?;
                    state.history.push(EpochMark { epoch, last_ts });
                }
                "replica" => {
                    let fields: Vec<&str> = value.split('\t').collect();
                    let [name, address, mode] = fields[..] else {
                        return Err(at("a replica takes three tab-separated fields"));
                    };
                    state.replicas.push(StoredReplica {
                        name: unescape(name).ok_or_else(|| at("bad escape"))?,
                        address: unescape(address).ok_or_else(|| at("bad escape"))?,
                        mode: parse_mode(mode).ok_or_else(|| at("not a replication mode"))?,
                    });
                }
                _ => return Err(at("unknown key")),
            }
        }
        state.role = role.ok_or("no role= line")?;
        Ok(state)
    }
}

/// The state as one instance shares it between its commands and its replica service:
/// changed by copy, saved, then replaced, so memory never shows what the file lacks.
#[derive(Clone)]
pub struct SharedState {
    pub state: std::sync::Arc<parking_lot::Mutex<StoredState>>,
    pub dir: PathBuf,
}

impl SharedState {
    pub fn get(&self) -> StoredState {
        self.state.lock().clone()
    }

    /// Applies `change` and saves the result durably; on error nothing changes.
    pub fn update(&self, change: impl FnOnce(&mut StoredState)) -> Result<(), ReplicationError> {
        let mut state = self.state.lock();
        let mut next = state.clone();
        change(&mut next);
        if next != *state {
            next.save(&self.dir)?;
            *state = next;
        }
        Ok(())
    }
}

fn parse_mode(text: &str) -> Option<ReplicaMode> {
    Some(match text {
        "SYNC" => ReplicaMode::Sync,
        "ASYNC" => ReplicaMode::Async,
        "STRICT_SYNC" => ReplicaMode::StrictSync,
        _ => ReplicaMode::SyncWithTimeout {
            millis: text.strip_prefix("SYNC_WITH_TIMEOUT ")?.parse().ok()?,
        },
    })
}

fn parse_database(hex: &str) -> Option<[u8; 16]> {
    if hex.len() != 32 || !hex.is_ascii() {
        return None;
    }
    let mut bytes = [0u8; 16];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(bytes)
}

fn escape(field: &str) -> String {
    field.replace('\\', "\\\\").replace('\t', "\\t").replace('\n', "\\n")
}

fn unescape(field: &str) -> Option<String> {
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            '\\' => match chars.next()? {
                '\\' => '\\',
                't' => '\t',
                'n' => '\n',
                _ => return None,
            },
            c => c,
        });
    }
    Some(out)
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
            replicas: vec![
                StoredReplica {
                    name: "odd\tname\\ with\nbreaks".into(),
                    address: "10.0.0.2:10000".into(),
                    mode: ReplicaMode::SyncWithTimeout { millis: 2500 },
                },
                StoredReplica {
                    name: "r2".into(),
                    address: "[::1]:7000".into(),
                    mode: ReplicaMode::Async,
                },
            ],
            main_database: Some([0xa3; 16]),
            main_epoch: Some(812_345),
            seen_epoch: Some(900_000),
            history: vec![
                EpochMark {
                    epoch: 0,
                    last_ts: 1200,
                },
                EpochMark {
                    epoch: 40_001,
                    last_ts: 1500,
                },
            ],
        };
        state.save(dir.path()).unwrap();
        assert_eq!(StoredState::load(dir.path()).unwrap(), state);
    }

    #[test]
    fn a_damaged_state_file_stops_the_start_naming_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        for (text, expected) in [
            ("version=1\nrole=boss\n", "line 2"),
            ("version=9\nrole=main\n", "version=1"),
            ("version=1\n", "no role"),
            ("version=1\nrole=main\nreplica=a\tb\n", "three"),
            ("version=1\nrole=main\nepoch=3\n", "newest-commit"),
            ("version=1\nrole=main\nmain_database=xyz\n", "hex"),
        ] {
            fs::write(dir.path().join(STATE_FILE), text).unwrap();
            let error = StoredState::load(dir.path()).unwrap_err().to_string();
            assert!(
                error.contains(STATE_FILE) && error.contains(expected),
                "{text:?}: {error}"
            );
        }
    }
}
