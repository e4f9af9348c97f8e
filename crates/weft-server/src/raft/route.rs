//! The routing table a Raft member gives drivers for ROUTE.
//!
//! Owns: turning the member's view of the cluster into Bolt's routing table: the leader
//! writes (none while no leader has a majority), every member whose Bolt address is
//! known routes, and reads unless it is this member and it is restricted. The table lives [`ROUTING_TTL`] seconds in a driver.

use weft_bolt::messages::Dict;
use weft_bolt::{BackendError, BoltValue};

use super::RaftMember;

/// Seconds a driver keeps a Raft member's routing table: short, so that a driver learns
/// of a new leader soon even when it is not told by a failed write.
const ROUTING_TTL: i64 = 10;

impl RaftMember {
    /// The routing table for ROUTE: the leader writes (none while no leader has a
    /// majority), every member whose Bolt address is known reads and routes.
    pub fn route(&self, db: Option<&str>) -> Result<Dict, BackendError> {
        let (me, mut members) = self.status().ok_or_else(|| {
            BackendError::new(
                "Neo.TransientError.General.DatabaseUnavailable",
                "the Raft member has stopped",
            )
        })?;
        if !members.iter().any(|(id, _)| *id == me.id) {
            members.push((me.id, me.member.clone()));
        }
        let address = |id: u64| {
            let own = (id == me.id).then(|| me.member.bolt_address.clone());
            own.or_else(|| {
                members
                    .iter()
                    .find(|(m, _)| *m == id)
                    .map(|(_, m)| m.bolt_address.clone())
            })
            .filter(|a| !a.is_empty())
        };
        let writers: Vec<String> = me.leader.filter(|_| me.quorum).and_then(address).into_iter().collect();
        let everyone: Vec<String> = members.iter().filter_map(|(id, _)| address(*id)).collect();
        // A restricted member's graph is not to be read: it leaves itself out of its readers.
        let readers: Vec<String> = members
            .iter()
            .filter(|(id, _)| *id != me.id || me.restricted.is_none())
            .filter_map(|(id, _)| address(*id))
            .collect();
        let server = |role: &str, addresses: &[String]| {
            BoltValue::Dictionary(vec![
                (
                    "addresses".to_string(),
                    BoltValue::List(addresses.iter().cloned().map(BoltValue::String).collect()),
                ),
                ("role".to_string(), BoltValue::String(role.to_string())),
            ])
        };
        Ok(vec![
            ("ttl".to_string(), BoltValue::Integer(ROUTING_TTL)),
            ("db".to_string(), BoltValue::String(db.unwrap_or("neo4j").to_string())),
            (
                "servers".to_string(),
                BoltValue::List(vec![
                    server("WRITE", &writers),
                    server("READ", &readers),
                    server("ROUTE", &everyone),
                ]),
            ),
        ])
    }
}
