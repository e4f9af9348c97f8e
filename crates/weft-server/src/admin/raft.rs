//! The admin commands of a Raft member: `SHOW CLUSTER`, `ADD MEMBER <id> AT "<h:p>" [AS
//! LEARNER]`, `REMOVE MEMBER <id>`, and the MAIN/REPLICA statements, which a member
//! refuses with the reason.
//!
//! Owns: turning the member's view of the cluster into rows: its own state, and what
//! each other member says of itself when asked (or, of one that does not answer, its
//! address and, on the leader, how far it holds the log).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use weft_query::error::Result;
use weft_query::{AdminArgs, AdminCommand, Engine, ErrorKind, QueryError, QueryResult, ResultValue};
use weft_raft::admin::{AdminError, AdminRequest};

use crate::raft::RaftMember;

/// Registers `SHOW CLUSTER` and the refusals of replication's statements.
pub fn register(engine: &Engine, member: &Arc<RaftMember>, in_flight: &Arc<AtomicU64>) {
    let weak = Arc::downgrade(member);
    let in_flight = in_flight.clone();
    engine.register_admin(AdminCommand::new("SHOW CLUSTER", true, move |_, args| {
        args.end()?;
        let member = weak.upgrade().ok_or_else(stopped)?;
        show_cluster(&member, in_flight.load(Ordering::Relaxed))
    }));
    let weak = Arc::downgrade(member);
    engine.register_admin(AdminCommand::new("ADD MEMBER", false, move |_, args| {
        let id = member_id(args)?;
        args.keyword("AT")?;
        let raft_address = args.string("the new member's Raft address, as \"host:port\"")?;
        let learner = args.eat_keyword("AS");
        if learner {
            args.keyword("LEARNER")?;
        }
        args.end()?;
        weft_rpc::client::host_of(&raft_address)
            .map_err(|e| QueryError::runtime(ErrorKind::SemanticError, "RaftMembership", e.to_string()))?;
        let member = weak.upgrade().ok_or_else(stopped)?;
        let request = AdminRequest::AddMember {
            id,
            raft_address,
            learner,
        };
        member.change_membership(&request).map_err(membership_error)?;
        Ok(QueryResult::default())
    }));
    let weak = Arc::downgrade(member);
    engine.register_admin(AdminCommand::new("REMOVE MEMBER", false, move |_, args| {
        let id = member_id(args)?;
        args.end()?;
        let member = weak.upgrade().ok_or_else(stopped)?;
        member
            .change_membership(&AdminRequest::RemoveMember { id })
            .map_err(membership_error)?;
        Ok(QueryResult::default())
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

/// A member id: a positive integer.
fn member_id(args: &mut AdminArgs<'_>) -> Result<u64> {
    let id = args.integer("a member id")?;
    u64::try_from(id).map_err(|_| {
        QueryError::runtime(
            ErrorKind::SemanticError,
            "RaftMembership",
            format!("{id} is not a member id; ids are positive integers"),
        )
    })
}

/// A membership change that did not happen: the leader's refusal is the client's to fix;
/// a leader out of reach (or slow to answer) is a retry later, which is safe.
fn membership_error(error: AdminError) -> QueryError {
    match error {
        AdminError::Refused(why) => QueryError::runtime(ErrorKind::SemanticError, "RaftMembership", why),
        other => QueryError::runtime(
            ErrorKind::ReadOnly,
            "NoQuorum",
            format!(
                "the leader could not be asked, or did not answer in time ({other}); the change may or may not \
                 have happened: SHOW CLUSTER tells, and asking again is safe"
            ),
        ),
    }
}

/// One row's figures.
struct Report {
    role: String,
    term: Option<u64>,
    last: Option<u64>,
    applied: Option<u64>,
    fingerprint: Option<weft_raft::check::CheckedAt>,
    health: String,
    in_flight: Option<u64>,
}

fn stopped() -> QueryError {
    QueryError::runtime(ErrorKind::DatabaseError, "Raft", "the Raft member has stopped")
}

/// How long `SHOW CLUSTER` waits for each other member to say how it is.
const REPORT_WAIT: Duration = Duration::from_millis(500);

/// The rows of `SHOW CLUSTER`; `in_flight`: the Bolt requests this member answers now
/// (this one included). Each other member is asked how it is (role, log, fingerprint,
/// requests in flight; at most [`REPORT_WAIT`], all at once); one that does not answer
/// shows what this member knows of it (on a leader: how far it holds the log) with the
/// health `unreachable`. A fingerprint shows as `digest@log index`; a member whose graph
/// differs from the leader's shows as `restricted`.
fn show_cluster(member: &RaftMember, in_flight: u64) -> Result<QueryResult> {
    let (me, mut members) = member.status().ok_or_else(stopped)?;
    let voters = member.voters();
    let reports = member.reports(REPORT_WAIT);
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
            let own = Report {
                role: if me.restricted.is_some() {
                    "restricted".into()
                } else {
                    me.role.to_string()
                },
                term: Some(me.term),
                last: me.last_log_index,
                applied: me.applied_index,
                fingerprint: me.fingerprint,
                health: if me.restricted.is_some() { "resyncing" } else { "up" }.into(),
                in_flight: Some(in_flight),
            };
            let row = if id == me.id {
                own
            } else {
                match reports.get(&id) {
                    Some(Ok(report)) => Report {
                        role: if report.restricted {
                            "restricted".into()
                        } else {
                            report.role.clone()
                        },
                        term: Some(report.term),
                        last: report.last_log_index,
                        applied: report.applied_index,
                        fingerprint: report.fingerprint,
                        health: if report.restricted { "resyncing" } else { "up" }.into(),
                        in_flight: report.in_flight,
                    },
                    // Of a member that did not answer, a leader knows how far it holds
                    // the log; any member knows whether it votes.
                    _ => Report {
                        role: if voters.contains(&id) { "follower" } else { "learner" }.into(),
                        term: None,
                        last: me.replicated.get(&id).copied().flatten(),
                        applied: None,
                        fingerprint: None,
                        health: "unreachable".into(),
                        in_flight: None,
                    },
                }
            };
            let address = if id == me.id { &me.member } else { &known };
            vec![
                ResultValue::Int(i64::try_from(id).unwrap_or(i64::MAX)),
                text(&address.raft_address),
                text(&address.bolt_address),
                ResultValue::String(row.role),
                int(row.term),
                int(row.last),
                int(row.applied),
                match row.fingerprint {
                    Some(at) => ResultValue::String(format!("{}@{}", at.short(), at.index)),
                    None => ResultValue::Null,
                },
                ResultValue::String(row.health),
                int(row.in_flight),
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
            "fingerprint",
            "health",
            "in_flight_queries",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        ..Default::default()
    })
}
