//! The admin commands the server's layers register with the engine (see
//! `weft_query::admin`): the query engine knows none of them.
//!
//! Owns: which commands exist on an instance: durability's ([`storage`]: `SHOW STORAGE
//! INFO`, `CREATE SNAPSHOT`, `SHOW SNAPSHOTS`), replication's ([`replication`]: roles and
//! replicas) and, on a Raft member, the cluster's ([`raft`]); and the procedures they add
//! ([`routing`]: `dbms.cluster.routing.getRoutingTable`).

pub mod raft;
pub mod replication;
pub mod routing;
pub mod storage;

use std::sync::Arc;

use weft_query::{AdminCommand, Engine};
use weft_replication::Replication;
use weft_storage::durability::Durability;

/// Registers every command an instance with `durability` and `replication` (or none: in
/// memory) offers.
pub fn register(engine: &Engine, durability: Option<Arc<Durability>>, replication: Option<Arc<Replication>>) {
    replication::register(engine, replication);
    let info = durability.clone();
    engine.register_admin(AdminCommand::new("SHOW STORAGE INFO", true, move |engine, args| {
        args.end()?;
        storage::storage_info(&engine.storage(), info.as_deref())
    }));
    let snapshots = durability.clone();
    engine.register_admin(AdminCommand::new("CREATE SNAPSHOT", true, move |_, args| {
        args.end()?;
        storage::create_snapshot(snapshots.as_deref())
    }));
    engine.register_admin(AdminCommand::new("SHOW SNAPSHOTS", true, move |_, args| {
        args.end()?;
        storage::show_snapshots(durability.as_deref())
    }));
}
