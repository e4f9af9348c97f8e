//! The admin commands of a Raft member: `SHOW CLUSTER`, and the MAIN/REPLICA statements,
//! which a member refuses with the reason.
//!
//! Owns: turning the member's view of the cluster into rows. A member knows its own
//! state fully; of the others it knows their addresses and, on the leader, how far each
//! has replicated its log.

use std::sync::Arc;

use weft_query::error::Result;
use weft_query::{AdminCommand, Engine, ErrorKind, QueryError, QueryResult, ResultValue};

use crate::raft::RaftMember;

/// Registers `SHOW CLUSTER` and the refusals of replication's statements.
pub fn register(engine: &Engine, member: &Arc<RaftMember>) {
    let weak = Arc::downgrade(member);
    engine.register_admin(AdminCommand::new("SHOW CLUSTER", true, move |_, args| {
        args.end()?;
        let member = weak.upgrade().ok_or_else(stopped)?;
        show_cluster(&member)
    }));
    for keywords in [
        "SHOW REPLICATION ROLE",
        "SET REPLICATION ROLE TO",
        "REGISTER REPLICA",
        "DROP REPLICA",
        "SHOW REPLICAS",
    ] {
        engine.register_admin(AdminCommand::new(keywords, false, |_, _| {
            Err(QueryError::runtime(
                ErrorKind::SemanticError,
                "RaftMember",
                "this instance is a member of a Raft cluster: MAIN/REPLICA replication does not apply to it \
                 (every member holds the whole graph; SHOW CLUSTER lists them)",
            ))
        }));
    }
}

fn stopped() -> QueryError {
    QueryError::runtime(ErrorKind::DatabaseError, "Raft", "the Raft member has stopped")
}

fn show_cluster(member: &RaftMember) -> Result<QueryResult> {
    let (me, mut members) = member.status().ok_or_else(stopped)?;
    // A member that no leader has reached yet knows no membership: it still shows itself.
    if !members.iter().any(|(id, _)| *id == me.id) {
        members.insert(0, (me.id, me.member.clone()));
    }
    let int = |v: Option<u64>| {
        v.map_or(ResultValue::Null, |v| {
            ResultValue::Int(i64::try_from(v).unwrap_or(i64::MAX))
        })
    };
    let text = |s: &str| {
        if s.is_empty() {
            ResultValue::Null
        } else {
            ResultValue::String(s.to_string())
        }
    };
    let rows = members
        .into_iter()
        .map(|(id, known)| {
            // Of the others, a leader knows how far each holds its log; a follower knows
            // only who leads.
            let (role, term, last, applied, health) = if id == me.id {
                (me.role, Some(me.term), me.last_log_index, me.applied_index, "up")
            } else if me.leader == Some(id) {
                ("leader", Some(me.term), None, None, "leading")
            } else {
                let matched = me.replicated.get(&id).copied().flatten();
                let health = match (me.role, matched) {
                    ("leader", Some(_)) => "replicating",
                    ("leader", None) => "unreachable",
                    _ => "unknown",
                };
                ("follower", None, matched, None, health)
            };
            let address = if id == me.id { &me.member } else { &known };
            vec![
                ResultValue::Int(i64::try_from(id).unwrap_or(i64::MAX)),
                text(&address.raft_address),
                text(&address.bolt_address),
                ResultValue::String(role.into()),
                int(term),
                int(last),
                int(applied),
                ResultValue::String(health.into()),
            ]
        })
        .collect();
    Ok(QueryResult {
        columns: [
            "id",
            "raft_address",
            "bolt_address",
            "role",
            "term",
            "last_log_index",
            "applied_index",
            "health",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        ..Default::default()
    })
}
