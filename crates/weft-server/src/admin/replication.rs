//! Replication's admin commands, in Memgraph's syntax: `SHOW REPLICATION ROLE`,
//! `SET REPLICATION ROLE TO MAIN | REPLICA WITH PORT <port>`, `REGISTER REPLICA <name>
//! SYNC [WITH TIMEOUT <seconds>] | ASYNC | STRICT_SYNC TO "<host>:<port>"`, `DROP REPLICA
//! <name>` and `SHOW REPLICAS`.
//!
//! Owns: parsing the arguments and turning replication's answers into rows and errors.
//! Promises: a command that does not fit the instance (a REPLICA registering replicas, an
//! instance without a data directory) fails with a message that says why and changes
//! nothing.

use std::sync::Arc;

use weft_query::error::Result;
use weft_query::{AdminArgs, AdminCommand, Engine, ErrorKind, QueryError, QueryResult, ResultValue};
use weft_replication::{LinkStatus, ReplicaMode, Replication, ReplicationError, RoleInfo};

/// What a command does on an instance with replication.
type Handler = fn(&Replication, &mut AdminArgs<'_>) -> Result<QueryResult>;

/// Registers the commands; without `replication` (no data directory) they say so, except
/// that such an instance reports itself as MAIN. The commands hold replication weakly:
/// replication holds the engine, so a strong hold would keep both alive for ever.
pub fn register(engine: &Engine, replication: Option<Arc<Replication>>) {
    let replication = replication.as_ref().map(Arc::downgrade);
    let commands: [(&str, bool, Handler); 5] = [
        ("SHOW REPLICATION ROLE", true, show_role),
        ("SET REPLICATION ROLE TO", false, set_role),
        ("REGISTER REPLICA", false, register_replica),
        ("DROP REPLICA", false, drop_replica),
        ("SHOW REPLICAS", true, show_replicas),
    ];
    for (keywords, anywhere, run) in commands {
        let replication = replication.clone();
        let offline_role = keywords == "SHOW REPLICATION ROLE";
        engine.register_admin(AdminCommand::new(
            keywords,
            anywhere,
            move |_, args| match &replication {
                Some(replication) => match replication.upgrade() {
                    Some(replication) => run(&replication, args),
                    None => Err(QueryError::runtime(
                        ErrorKind::DatabaseError,
                        "Replication",
                        "replication has stopped: the instance is closing",
                    )),
                },
                None if offline_role => {
                    args.end()?;
                    Ok(role_rows("main"))
                }
                None => Err(QueryError::runtime(
                    ErrorKind::SemanticError,
                    "ReplicationOff",
                    "replication needs a data directory (--data-dir): this instance keeps data in memory only",
                )),
            },
        ));
    }
}

fn role_rows(role: &str) -> QueryResult {
    QueryResult {
        columns: vec!["replication role".into()],
        rows: vec![vec![ResultValue::String(role.into())]],
        ..Default::default()
    }
}

fn show_role(replication: &Replication, args: &mut AdminArgs<'_>) -> Result<QueryResult> {
    args.end()?;
    Ok(role_rows(match replication.role() {
        RoleInfo::Main => "main",
        RoleInfo::Replica { .. } => "replica",
    }))
}

fn set_role(replication: &Replication, args: &mut AdminArgs<'_>) -> Result<QueryResult> {
    match args.one_of(&["MAIN", "REPLICA"])? {
        "MAIN" => {
            args.end()?;
            replication.set_main().map_err(refused)?;
        }
        _ => {
            args.keyword("WITH")?;
            args.keyword("PORT")?;
            let port = port(args.integer("port")?)?;
            args.end()?;
            replication.set_replica(port).map_err(refused)?;
        }
    }
    Ok(QueryResult::default())
}

fn port(value: i64) -> Result<u16> {
    u16::try_from(value).ok().filter(|p| *p > 0).ok_or_else(|| {
        QueryError::runtime(
            ErrorKind::SemanticError,
            "InvalidArgument",
            format!("{value} is not a port: use a number from 1 to 65535"),
        )
    })
}

fn register_replica(replication: &Replication, args: &mut AdminArgs<'_>) -> Result<QueryResult> {
    let name = args.name("replica name")?;
    let mode = match args.one_of(&["SYNC", "ASYNC", "STRICT_SYNC"])? {
        "ASYNC" => ReplicaMode::Async,
        "STRICT_SYNC" => ReplicaMode::StrictSync,
        _ if args.eat_keyword("WITH") => {
            args.keyword("TIMEOUT")?;
            let seconds = args.integer("timeout in seconds")?;
            let millis = u64::try_from(seconds)
                .ok()
                .filter(|s| (1..=86_400).contains(s))
                .map(|s| s * 1000)
                .ok_or_else(|| {
                    QueryError::runtime(
                        ErrorKind::SemanticError,
                        "InvalidArgument",
                        format!("a timeout of {seconds} seconds: use 1 to 86400"),
                    )
                })?;
            ReplicaMode::SyncWithTimeout { millis }
        }
        _ => ReplicaMode::Sync,
    };
    args.keyword("TO")?;
    let address = args.string("replica address")?;
    args.end()?;
    replication.register(&name, mode, &address).map_err(refused)?;
    Ok(QueryResult::default())
}

fn drop_replica(replication: &Replication, args: &mut AdminArgs<'_>) -> Result<QueryResult> {
    let name = args.name("replica name")?;
    args.end()?;
    replication.drop_replica(&name).map_err(refused)?;
    Ok(QueryResult::default())
}

fn show_replicas(replication: &Replication, args: &mut AdminArgs<'_>) -> Result<QueryResult> {
    args.end()?;
    let columns = [
        "name",
        "socket_address",
        "sync_mode",
        "timeout",
        "state",
        "commit_timestamp",
        "behind",
        "last_error",
    ];
    Ok(QueryResult {
        columns: columns.map(String::from).to_vec(),
        rows: replication.replicas().into_iter().map(replica_row).collect(),
        ..Default::default()
    })
}

fn replica_row(status: LinkStatus) -> Vec<ResultValue> {
    let int = |v: u64| ResultValue::Int(i64::try_from(v).unwrap_or(i64::MAX));
    let sync_mode = if status.demoted {
        format!("ASYNC (demoted from {})", status.mode)
    } else {
        status.mode.to_string()
    };
    vec![
        ResultValue::String(status.name),
        ResultValue::String(status.address),
        ResultValue::String(sync_mode),
        status
            .mode
            .timeout_seconds()
            .map_or(ResultValue::Null, ResultValue::Float),
        ResultValue::String(status.state.name().into()),
        int(status.acked_ts),
        int(status.behind as u64),
        status.last_error.map_or(ResultValue::Null, ResultValue::String),
    ]
}

/// A refused replication command as the client sees it.
fn refused(error: ReplicationError) -> QueryError {
    match error {
        ReplicationError::Refused(message) => {
            QueryError::runtime(ErrorKind::SemanticError, "ReplicationRefused", message)
        }
        other => QueryError::runtime(ErrorKind::DatabaseError, "Replication", other.to_string()),
    }
}
