//! Finding the leader and the members that are down: a background thread asks every
//! member `SHOW CLUSTER` each `--refresh` interval, and at once when a session asks.
//!
//! Owns: one connection per member for these asks (kept between rounds), and reading a
//! round's answers: a member that cannot be reached is marked down, one that answers is
//! up, and the leader is the one named with the highest term by the members that
//! answered, unless it is itself down. A round where no member answered leaves the
//! leader as it was (nothing was learnt).
//!
//! Promises: the members are asked in parallel, each ask bounded by [`ASK_TIMEOUT`] once
//! connected, and a round waits at most [`ROUND_WAIT`] for them: a member that answers
//! late (still connecting to a host that is gone, or frozen) is marked when it does, and
//! cannot hold the others' news back; the thread ends when the cluster view is stopped. Logs on with `--auth`, else with the latest
//! client's credentials (a member that requires a password refuses the asks until a
//! client has logged on).

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use weft_bolt::BoltValue;
use weft_client::{Client, ConnectOptions, Credentials};

use crate::cluster::{Cluster, Member};
use crate::links::{connect_error, MemberError};

/// The `user_agent` of discovery's connections.
const DISCOVERY_AGENT: &str = concat!("weft-proxy/", env!("CARGO_PKG_VERSION"), " (discovery)");

/// Longest wait for a member's answer to `SHOW CLUSTER`.
const ASK_TIMEOUT: Duration = Duration::from_secs(5);

/// What one member said in a round.
enum Report {
    /// It answered: the leader it names, with its term, if it names one, and whether it
    /// says it is restricted (its graph differs from the leader's: it serves no reads).
    Answered(Option<(u64, String)>, bool),
    /// It answered with a failure (credentials refused, not a Raft member): it is up.
    Refused(String),
    /// It could not be reached, or the connection broke.
    Unreachable(String),
}

/// Starts the discovery thread; it runs until `cluster.stop()`.
pub fn spawn(cluster: Arc<Cluster>) -> std::io::Result<std::thread::JoinHandle<()>> {
    cluster.request_refresh();
    std::thread::Builder::new()
        .name("weft-proxy-discovery".into())
        .spawn(move || {
            let mut connections: Vec<Slot> = Vec::new();
            let mut refusal_logged = false;
            while let Some(round) = cluster.next_round() {
                let refused = run_round(&cluster, &mut connections);
                match refused {
                    Some(why) if !refusal_logged => {
                        tracing::warn!("a member refused the proxy's SHOW CLUSTER: {why}");
                        refusal_logged = true;
                    }
                    Some(_) => {}
                    None => refusal_logged = false,
                }
                cluster.round_done(round);
            }
        })
}

/// The connection kept for one member's asks; held by the ask under way.
type Slot = Arc<Mutex<Option<Client>>>;

/// Longest a round waits for the members' answers: a member that answers later (it is
/// still connecting, or frozen) is marked up or down when it does, and its leader claim
/// waits for the next round.
const ROUND_WAIT: Duration = Duration::from_millis(1500);

/// Asks every member once, each on a thread of its own, and records what they said; a
/// refusal's reason, if any.
fn run_round(cluster: &Arc<Cluster>, connections: &mut Vec<Slot>) -> Option<String> {
    let members = cluster.members();
    connections.resize_with(members.len(), Slot::default);
    let credentials = cluster.discovery_credentials().unwrap_or_default();
    let (answers, answered_by) = std::sync::mpsc::channel();
    for (member, slot) in members.iter().zip(connections.iter()) {
        let (member, slot, cluster, credentials, answers) = (
            member.clone(),
            slot.clone(),
            cluster.clone(),
            credentials.clone(),
            answers.clone(),
        );
        let spawned = std::thread::Builder::new()
            .name("weft-proxy-ask".into())
            .spawn(move || {
                // The ask of an earlier round still under way: its answer will do.
                let Some(mut connection) = slot.try_lock() else {
                    return;
                };
                let report = ask(&member, &mut connection, &credentials);
                drop(connection);
                let claim = match report {
                    Report::Answered(claim, restricted) => {
                        cluster.mark_up(&member);
                        cluster.set_restricted(&member, restricted);
                        Ok(claim)
                    }
                    Report::Refused(why) => {
                        cluster.mark_up(&member);
                        Err(Some(why))
                    }
                    Report::Unreachable(why) => {
                        cluster.mark_down(&member, &why);
                        Err(None)
                    }
                };
                let _ = answers.send(claim);
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "cannot ask a member this round");
        }
    }
    drop(answers);
    let deadline = std::time::Instant::now() + ROUND_WAIT;
    let mut claims = Vec::new();
    let (mut answered, mut refusal) = (false, None);
    for _ in 0..members.len() {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match answered_by.recv_timeout(left) {
            Ok(Ok(claim)) => {
                answered = true;
                claims.extend(claim);
            }
            Ok(Err(why)) => refusal = why.or(refusal),
            Err(_) => break,
        }
    }
    if answered {
        let leader = newest_claim(claims).map(|(term, address)| (cluster.member_at(&address), term));
        cluster.set_leader(leader.filter(|(member, _)| !cluster.is_down(member)));
    }
    refusal
}

/// One member's `SHOW CLUSTER`, over the connection kept for it (opened if need be).
fn ask(member: &Member, connection: &mut Option<Client>, credentials: &Credentials) -> Report {
    if connection.is_none() {
        let options = ConnectOptions {
            credentials: credentials.clone(),
            user_agent: DISCOVERY_AGENT.to_string(),
            read_timeout: Some(ASK_TIMEOUT),
            ..ConnectOptions::default()
        };
        match Client::connect_with(&member.address, &options) {
            Ok(client) => *connection = Some(client),
            Err(error) => {
                return match connect_error(error) {
                    MemberError::Unreachable(why) | MemberError::Lost(why) => Report::Unreachable(why),
                    MemberError::Refused(failure) | MemberError::NotALeader(failure) => {
                        Report::Refused(failure.to_string())
                    }
                };
            }
        }
    }
    let Some(client) = connection.as_mut() else {
        return Report::Unreachable("no connection".into());
    };
    match client.run("SHOW CLUSTER", &Vec::new()) {
        Ok(result) => Report::Answered(
            leader_claim(&result.columns, &result.rows),
            own_role(&result.columns, &result.rows, &member.address) == Some("restricted"),
        ),
        Err(weft_client::ClientError::Query { code, message, .. }) => Report::Refused(format!("{code}: {message}")),
        Err(lost) => {
            *connection = None;
            Report::Unreachable(lost.to_string())
        }
    }
}

/// The leader a `SHOW CLUSTER` answer names, with its term: of the rows whose role is
/// `leader` and whose Bolt address is known, the one of the newest term (each member
/// reports its own role: a deposed leader may still call itself one for a moment).
pub fn leader_claim(columns: &[String], rows: &[Vec<BoltValue>]) -> Option<(u64, String)> {
    let column = |name: &str| columns.iter().position(|c| c == name);
    let (role, address, term) = (column("role")?, column("bolt_address")?, column("term")?);
    rows.iter()
        .filter_map(|row| {
            let role = row.get(role)?.as_str()?;
            let address = row.get(address)?.as_str().filter(|a| !a.is_empty())?;
            let term = row.get(term).and_then(BoltValue::as_int).unwrap_or(0);
            (role == "leader").then(|| (u64::try_from(term).unwrap_or(0), address.to_string()))
        })
        .max_by_key(|(term, _)| *term)
}

/// The role `SHOW CLUSTER` gives the member at `address`: that of the row with that Bolt
/// address (`None` when no row has it: the member advertises another spelling, and its
/// restriction is then not known to the proxy).
pub fn own_role<'a>(columns: &[String], rows: &'a [Vec<BoltValue>], address: &str) -> Option<&'a str> {
    let column = |name: &str| columns.iter().position(|c| c == name);
    let (role, bolt) = (column("role")?, column("bolt_address")?);
    let text = |row: &'a Vec<BoltValue>, at: usize| row.get(at).and_then(BoltValue::as_str);
    let own = rows.iter().find(|row| text(row, bolt) == Some(address))?;
    text(own, role)
}

/// The claim with the highest term: members that have not yet heard of an election name
/// the leader of an older term.
fn newest_claim(claims: Vec<(u64, String)>) -> Option<(u64, String)> {
    claims.into_iter().max_by_key(|(term, _)| *term)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, address: &str, role: &str, term: Option<i64>) -> Vec<BoltValue> {
        let text = |s: &str| BoltValue::String(s.to_string());
        let term = term.map_or(BoltValue::Null, BoltValue::Integer);
        vec![BoltValue::Integer(id), text("r:1"), text(address), text(role), term]
    }

    fn columns() -> Vec<String> {
        ["id", "raft_address", "bolt_address", "role", "term"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn the_leader_row_names_the_leader_and_its_term() {
        let rows = vec![
            row(1, "h:1", "follower", Some(4)),
            row(2, "h:2", "leader", Some(4)),
            row(3, "h:3", "follower", None),
        ];
        assert_eq!(leader_claim(&columns(), &rows), Some((4, "h:2".to_string())));
    }

    #[test]
    fn no_leader_row_or_no_address_is_no_claim() {
        let rows = vec![row(1, "h:1", "candidate", Some(5)), row(2, "", "leader", Some(4))];
        assert_eq!(leader_claim(&columns(), &rows), None);
        assert_eq!(leader_claim(&["id".to_string()], &rows), None);
    }

    #[test]
    fn a_member_is_found_by_its_address_only() {
        let rows = vec![row(1, "h:1", "leader", Some(4)), row(2, "h:2", "restricted", Some(4))];
        assert_eq!(own_role(&columns(), &rows, "h:1"), Some("leader"));
        assert_eq!(own_role(&columns(), &rows, "h:2"), Some("restricted"));
        // Another spelling of an address matches no row: its role is not known.
        assert_eq!(own_role(&columns(), &rows, "elsewhere:2"), None);
    }

    #[test]
    fn of_two_leader_rows_the_newer_term_is_claimed() {
        let rows = vec![row(1, "h:1", "leader", Some(4)), row(2, "h:2", "leader", Some(5))];
        assert_eq!(leader_claim(&columns(), &rows), Some((5, "h:2".to_string())));
    }

    #[test]
    fn the_newest_term_wins() {
        let claims = vec![(4, "h:1".to_string()), (6, "h:3".to_string()), (5, "h:2".to_string())];
        assert_eq!(newest_claim(claims), Some((6, "h:3".to_string())));
        assert_eq!(newest_claim(Vec::new()), None);
    }
}
