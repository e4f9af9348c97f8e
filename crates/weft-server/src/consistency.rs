//! What a read must see before it starts: the consistency level of the session or the
//! transaction, and the bookmarks a driver chains its transactions with.
//!
//! Owns: the levels (`NONE` reads this instance's state as it is; `LAST_COMMITTED` waits
//! until this Raft member has applied what the leader had applied when the read began;
//! `LINEARIZABLE` waits for the index the leader returns after confirming with a majority
//! that it still leads), `SET SESSION CONSISTENCY TO …`, the level a transaction asks for
//! in its metadata (`tx_metadata: {consistency: …}`), and bookmarks: a bookmark is the
//! commit timestamp a commit answered with, and a transaction that carries bookmarks
//! waits until this instance has committed (or applied) up to the newest of them.
//!
//! Promises: every wait is bounded (the read index and the bookmark [`WAIT`] each) and
//! ends in an error that names what was not reached; an instance that is not a Raft member is its own leader (standalone,
//! MAIN), except a REPLICA, which refuses the two stronger levels.

use std::time::{Duration, Instant};

use weft_bolt::messages::Dict;
use weft_bolt::packstream::dict_get;
use weft_bolt::{BackendError, BoltValue};

use crate::node::Node;
use crate::role::Role;

/// Longest a transaction waits for its bookmarks or its read index.
pub const WAIT: Duration = Duration::from_secs(30);

/// How fresh a read must be.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Consistency {
    #[default]
    None,
    LastCommitted,
    Linearizable,
}

impl Consistency {
    /// Reads a level's name (any case).
    pub fn parse(text: &str) -> Result<Consistency, BackendError> {
        match text.trim().to_ascii_uppercase().as_str() {
            "NONE" => Ok(Consistency::None),
            "LAST_COMMITTED" => Ok(Consistency::LastCommitted),
            "LINEARIZABLE" => Ok(Consistency::Linearizable),
            _ => Err(BackendError::new(
                INVALID,
                format!("`{text}` is not a consistency level; use NONE, LAST_COMMITTED or LINEARIZABLE"),
            )),
        }
    }
}

const INVALID: &str = "Neo.ClientError.Statement.ArgumentError";

/// The level `SET SESSION CONSISTENCY TO <level>` sets, if `query` is that statement.
pub fn session_statement(query: &str) -> Option<Result<Consistency, BackendError>> {
    let mut words = query.trim().trim_end_matches(';').split_whitespace();
    let lead = ["SET", "SESSION", "CONSISTENCY"];
    if !lead
        .iter()
        .all(|w| words.next().is_some_and(|got| got.eq_ignore_ascii_case(w)))
    {
        return None;
    }
    let rest: Vec<&str> = words.collect();
    Some(match rest.as_slice() {
        [to, level] if to.eq_ignore_ascii_case("TO") => Consistency::parse(level),
        _ => Err(BackendError::new(
            "Neo.ClientError.Statement.SyntaxError",
            "expected SET SESSION CONSISTENCY TO NONE | LAST_COMMITTED | LINEARIZABLE",
        )),
    })
}

/// The level a transaction's metadata asks for (`tx_metadata: {consistency: …}` in BEGIN
/// or an autocommit RUN), if any.
pub fn requested(extra: &Dict) -> Result<Option<Consistency>, BackendError> {
    let metadata = dict_get(extra, "tx_metadata");
    let Some(BoltValue::Dictionary(metadata)) = metadata else {
        return Ok(None);
    };
    match dict_get(metadata, "consistency") {
        None => Ok(None),
        Some(BoltValue::String(level)) => Consistency::parse(level).map(Some),
        Some(other) => Err(BackendError::new(
            INVALID,
            format!("tx_metadata consistency must be a string, not {other:?}"),
        )),
    }
}

/// BEGIN's `extra` carrying the session's `level` in its metadata, unless the transaction
/// names a level of its own (for a transaction forwarded to the leader).
pub fn with_level(extra: &Dict, level: Consistency) -> Dict {
    let name = match level {
        Consistency::None => return extra.clone(),
        Consistency::LastCommitted => "LAST_COMMITTED",
        Consistency::Linearizable => "LINEARIZABLE",
    };
    let mut extra = extra.clone();
    let entry = ("consistency".to_string(), BoltValue::String(name.into()));
    match extra.iter_mut().find(|(key, _)| key == "tx_metadata") {
        Some((_, BoltValue::Dictionary(metadata))) => {
            if dict_get(metadata, "consistency").is_none() {
                metadata.push(entry);
            }
        }
        Some((_, other)) => *other = BoltValue::Dictionary(vec![entry]),
        None => extra.push(("tx_metadata".to_string(), BoltValue::Dictionary(vec![entry]))),
    }
    extra
}

/// The newest commit timestamp among the `bookmarks` a driver sent, if any.
pub fn newest_bookmark(extra: &Dict) -> Result<Option<u64>, BackendError> {
    let Some(BoltValue::List(bookmarks)) = dict_get(extra, "bookmarks") else {
        return Ok(None);
    };
    let mut newest = None;
    for bookmark in bookmarks {
        let parsed = bookmark.as_str().and_then(|text| text.parse::<u64>().ok());
        let ts = parsed.ok_or_else(|| {
            BackendError::new(
                "Neo.ClientError.Transaction.InvalidBookmark",
                format!("{bookmark:?} is not a bookmark this database gave out"),
            )
        })?;
        newest = newest.max(Some(ts));
    }
    Ok(newest)
}

/// Waits until `node` may start a read at `level` that has seen `bookmark`.
pub fn before_reading(node: &Node, level: Consistency, bookmark: Option<u64>) -> Result<(), BackendError> {
    let mut bookmark = bookmark;
    if let Some(why) = node.raft().and_then(|member| member.read_refusal()) {
        return Err(BackendError::new(
            "Neo.TransientError.General.DatabaseUnavailable",
            format!("this Raft member serves no reads now: {why}"),
        ));
    }
    if level != Consistency::None {
        match node.raft() {
            Some(member) => {
                let applied = member
                    .read_barrier(level == Consistency::Linearizable, WAIT)
                    .map_err(|why| {
                        BackendError::new(
                            "Neo.TransientError.Cluster.NoQuorum",
                            format!("a {level:?} read cannot start: {why}"),
                        )
                    })?;
                // What was applied must also be visible (a leader's own commits are
                // published just after their entries are applied).
                bookmark = bookmark.max(Some(applied));
            }
            None if node.role() == Role::Replica => {
                return Err(BackendError::new(
                    INVALID,
                    "a REPLICA serves reads at consistency NONE only; send the read to the MAIN",
                ))
            }
            None => {}
        }
    }
    if let Some(wanted) = bookmark {
        let deadline = Instant::now() + WAIT;
        let engine = node.engine();
        // Bounded polling: a bookmark is met within one replication round trip.
        weft_storage::slot::outside_slot(|| {
            while engine.last_committed() < wanted {
                if Instant::now() >= deadline {
                    return Err(BackendError::new(
                        "Neo.TransientError.Transaction.BookmarkTimeout",
                        format!(
                            "this instance has committed up to {} and did not reach the bookmark {wanted} within {} s",
                            engine.last_committed(),
                            WAIT.as_secs()
                        ),
                    ));
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Ok(())
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> BoltValue {
        BoltValue::String(s.into())
    }

    #[test]
    fn levels_statements_metadata_and_bookmarks_are_read() {
        assert_eq!(
            session_statement("set session consistency to linearizable;").map(|r| r.unwrap()),
            Some(Consistency::Linearizable)
        );
        assert!(session_statement("SET SESSION CONSISTENCY TO SOMETIMES")
            .unwrap()
            .is_err());
        assert!(session_statement("SET SESSION CONSISTENCY NONE").unwrap().is_err());
        assert!(session_statement("SET n.x = 1").is_none());
        let extra = vec![(
            "tx_metadata".to_string(),
            BoltValue::Dictionary(vec![("consistency".into(), text("last_committed"))]),
        )];
        assert_eq!(requested(&extra).unwrap(), Some(Consistency::LastCommitted));
        assert_eq!(requested(&Vec::new()).unwrap(), None);
        let bookmarks = vec![("bookmarks".to_string(), BoltValue::List(vec![text("7"), text("12")]))];
        assert_eq!(newest_bookmark(&bookmarks).unwrap(), Some(12));
        let foreign = vec![("bookmarks".to_string(), BoltValue::List(vec![text("FB:kcwQ")]))];
        assert_eq!(
            newest_bookmark(&foreign).unwrap_err().code,
            "Neo.ClientError.Transaction.InvalidBookmark"
        );
    }
}
