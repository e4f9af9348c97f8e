//! The proxy's view of the cluster, shared by every session: the members, which of them
//! leads, which are down, and how many queries the proxy has running on each.
//!
//! Owns: the choice of a member for a transaction — the leader for anything that may
//! write, and for a read the healthy member with the fewest in-flight queries (ties go
//! round in turn, so an idle cluster still spreads reads; a member that is down, or says
//! it is restricted, is not healthy) — and the handshake between
//! sessions that need a fresh view and the discovery thread that makes one.
//!
//! Promises: choosing takes a read lock for the length of a scan over a few atomics and
//! never while a member answers; in-flight counts are exact (an RAII [`Busy`] guard per
//! query or transaction); a member marked down is skipped for reads for [`DOWN_FOR`] or
//! until discovery hears from it again, and its [`Member::epoch`] moves on so sessions
//! drop the connections they had to it before using them again.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, RwLock};
use weft_client::Credentials;

use crate::args::ProxyConfig;

/// How long a member that failed to connect or lost a connection is skipped.
pub const DOWN_FOR: Duration = Duration::from_secs(5);

/// Longest a request waits for a leader to be known before it fails as transient.
pub const LEADER_WAIT: Duration = Duration::from_secs(5);

/// The shortest pause between two discovery rounds, however many sessions ask.
const ROUND_GAP: Duration = Duration::from_millis(50);

/// One member as the proxy sees it.
pub struct Member {
    /// Its index in the cluster's list, which never shrinks: a session's key for it.
    pub id: usize,
    /// Its Bolt address, `host:port`.
    pub address: String,
    in_flight: AtomicU64,
    /// Milliseconds after the cluster's start until which it counts as down; 0: up.
    down_until: AtomicU64,
    /// Moves on each time it is marked down.
    epoch: AtomicU64,
    /// The member says its graph differs from the leader's: it serves no reads.
    restricted: AtomicBool,
}

impl Member {
    fn new(id: usize, address: String) -> Member {
        Member {
            id,
            address,
            in_flight: AtomicU64::new(0),
            down_until: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
            restricted: AtomicBool::new(false),
        }
    }

    /// Counts one query or transaction on this member until the guard is dropped.
    pub fn busy(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        Busy(self.clone())
    }

    /// Queries and transactions the proxy has running on this member now.
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Changes whenever the member is marked down: a connection opened in another epoch
    /// may lead to a process that has died since.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }
}

/// One query or transaction running on a member; see [`Member::busy`].
pub struct Busy(Arc<Member>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Where the discovery rounds stand; sessions ask for one and wait for its end.
#[derive(Default)]
struct Rounds {
    requested: bool,
    started: u64,
    finished: u64,
    stopped: bool,
}

/// The shared view; see the module documentation.
pub struct Cluster {
    start: Instant,
    members: RwLock<Vec<Arc<Member>>>,
    /// The leader and the term it leads in, as discovery last saw it.
    leader: RwLock<Option<(Arc<Member>, u64)>>,
    /// Where the next tie between equally busy readers starts.
    turn: AtomicUsize,
    rounds: Mutex<Rounds>,
    wake: Condvar,
    /// The credentials discovery logs on with; `fixed` ones (`--auth`) are never replaced.
    credentials: Mutex<Option<Credentials>>,
    fixed_credentials: bool,
    pub refresh: Duration,
    pub answer_timeout: Duration,
}

impl Cluster {
    pub fn new(config: &ProxyConfig) -> Cluster {
        let members = config.members.iter().cloned().enumerate();
        Cluster {
            start: Instant::now(),
            members: RwLock::new(
                members
                    .map(|(id, address)| Arc::new(Member::new(id, address)))
                    .collect(),
            ),
            leader: RwLock::new(None),
            turn: AtomicUsize::new(0),
            rounds: Mutex::new(Rounds::default()),
            wake: Condvar::new(),
            fixed_credentials: config.discovery_credentials.is_some(),
            credentials: Mutex::new(config.discovery_credentials.clone()),
            refresh: config.refresh,
            answer_timeout: config.answer_timeout,
        }
    }

    /// Every member known, in order.
    pub fn members(&self) -> Vec<Arc<Member>> {
        self.members.read().clone()
    }

    /// How many members are known.
    pub fn member_count(&self) -> usize {
        self.members.read().len()
    }

    /// The member at `address`, added to the list if discovery names one not given.
    pub fn member_at(&self, address: &str) -> Arc<Member> {
        if let Some(known) = self.members.read().iter().find(|m| m.address == address) {
            return known.clone();
        }
        let mut members = self.members.write();
        if let Some(known) = members.iter().find(|m| m.address == address) {
            return known.clone();
        }
        tracing::info!(
            member = address,
            "a member not in --members was named by the cluster; using it too"
        );
        let member = Arc::new(Member::new(members.len(), address.to_string()));
        members.push(member.clone());
        member
    }

    /// The member a read goes to: the healthy one with the fewest in-flight queries.
    pub fn pick_reader(&self) -> Option<Arc<Member>> {
        let members = self.members.read();
        let now = self.now_ms();
        let loads: Vec<Option<u64>> = members
            .iter()
            .map(|m| (!self.down_at(m, now) && !m.restricted.load(Ordering::Relaxed)).then(|| m.in_flight()))
            .collect();
        let start = self.turn.fetch_add(1, Ordering::Relaxed);
        least_busy(&loads, start).map(|i| members[i].clone())
    }

    /// The leader, unless none is known or it is marked down.
    pub fn leader(&self) -> Option<Arc<Member>> {
        let leader = self.leader.read().as_ref().map(|(member, _)| member.clone());
        leader.filter(|member| !self.is_down(member))
    }

    /// The leader, waiting (asking discovery again) until `deadline` while none is known.
    pub fn leader_by(&self, deadline: Instant) -> Option<Arc<Member>> {
        loop {
            if let Some(leader) = self.leader() {
                return Some(leader);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || !self.refresh_and_wait(left) {
                return self.leader();
            }
            if self.leader().is_none() {
                // An election is under way: give it a moment before asking again.
                std::thread::sleep(left.min(Duration::from_millis(100)));
            }
        }
    }

    /// Records what discovery found: `leader` in `term`, or no leader.
    pub fn set_leader(&self, found: Option<(Arc<Member>, u64)>) {
        let mut leader = self.leader.write();
        let before = leader.as_ref().map(|(m, term)| (m.id, *term));
        let after = found.as_ref().map(|(m, term)| (m.id, *term));
        if before != after {
            match &found {
                Some((member, term)) => tracing::info!(leader = %member.address, term, "the cluster's leader"),
                None => tracing::info!("no leader is known now"),
            }
        }
        *leader = found;
    }

    /// A member refused a write as not the leader: forget it as leader, ask again.
    pub fn not_the_leader(&self, member: &Member) {
        {
            let mut leader = self.leader.write();
            if leader.as_ref().is_some_and(|(known, _)| known.id == member.id) {
                *leader = None;
            }
        }
        self.request_refresh();
    }

    /// Skips `member` for [`DOWN_FOR`]; its connections in every session are dropped.
    pub fn mark_down(&self, member: &Member, why: &str) {
        let until = self.now_ms() + millis(DOWN_FOR);
        let was_up = member.down_until.swap(until, Ordering::AcqRel) == 0;
        member.epoch.fetch_add(1, Ordering::AcqRel);
        if was_up {
            tracing::warn!(member = %member.address, "member marked down: {why}");
        }
        if self
            .leader
            .read()
            .as_ref()
            .is_some_and(|(known, _)| known.id == member.id)
        {
            self.request_refresh();
        }
    }

    /// Discovery heard from `member`: it serves again.
    pub fn mark_up(&self, member: &Member) {
        if member.down_until.swap(0, Ordering::AcqRel) != 0 {
            tracing::info!(member = %member.address, "member is up again");
        }
    }

    /// Discovery heard whether `member` is restricted (serves no reads) or not.
    pub fn set_restricted(&self, member: &Member, restricted: bool) {
        if member.restricted.swap(restricted, Ordering::Relaxed) != restricted {
            let address = &member.address;
            match restricted {
                true => tracing::warn!(member = %address, "member is restricted: no reads go to it"),
                false => tracing::info!(member = %address, "member serves reads again"),
            }
        }
    }

    pub fn is_down(&self, member: &Member) -> bool {
        self.down_at(member, self.now_ms())
    }

    fn down_at(&self, member: &Member, now_ms: u64) -> bool {
        now_ms < member.down_until.load(Ordering::Acquire)
    }

    fn now_ms(&self) -> u64 {
        // Never 0, which means "up" in `down_until`.
        millis(self.start.elapsed()) + 1
    }

    /// The credentials of discovery's queries, if any are known.
    pub fn discovery_credentials(&self) -> Option<Credentials> {
        self.credentials.lock().clone()
    }

    /// A client logged on with `credentials`: discovery uses them unless `--auth` was given.
    pub fn client_logged_on(&self, credentials: &Credentials) {
        if self.fixed_credentials {
            return;
        }
        let mut known = self.credentials.lock();
        let first = known.is_none();
        *known = Some(credentials.clone());
        drop(known);
        if first {
            self.request_refresh();
        }
    }

    /// Asks discovery for a round now, without waiting for it.
    pub fn request_refresh(&self) {
        self.rounds.lock().requested = true;
        self.wake.notify_all();
    }

    /// Asks discovery for a round and waits, up to `timeout`, until one that started
    /// after this call ends; false if it did not in time or the proxy stops.
    pub fn refresh_and_wait(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut rounds = self.rounds.lock();
        rounds.requested = true;
        let target = rounds.started + 1;
        self.wake.notify_all();
        while rounds.finished < target && !rounds.stopped {
            if self.wake.wait_until(&mut rounds, deadline).timed_out() {
                return false;
            }
        }
        !rounds.stopped
    }

    /// For discovery: waits until a round is asked for or `refresh` has passed; the
    /// round's number, or `None` once the proxy stops.
    pub fn next_round(&self) -> Option<u64> {
        std::thread::sleep(ROUND_GAP);
        let mut rounds = self.rounds.lock();
        if !rounds.requested && !rounds.stopped {
            let gap = self.refresh.saturating_sub(ROUND_GAP);
            self.wake.wait_for(&mut rounds, gap);
        }
        if rounds.stopped {
            return None;
        }
        rounds.requested = false;
        rounds.started += 1;
        Some(rounds.started)
    }

    /// For discovery: round `round` is over; its waiters go on.
    pub fn round_done(&self, round: u64) {
        self.rounds.lock().finished = round;
        self.wake.notify_all();
    }

    /// Ends discovery and every wait for it.
    pub fn stop(&self) {
        self.rounds.lock().stopped = true;
        self.wake.notify_all();
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX / 2)
}

/// The index of the least loaded member (`None`: down), looking from `start` round the
/// list so that ties go to each member in turn; `None` if every member is down.
pub fn least_busy(loads: &[Option<u64>], start: usize) -> Option<usize> {
    let count = loads.len();
    let mut best: Option<(usize, u64)> = None;
    for step in 0..count {
        let i = (start + step) % count;
        if let Some(load) = loads[i] {
            if best.is_none_or(|(_, least)| load < least) {
                best = Some((i, load));
            }
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests;
