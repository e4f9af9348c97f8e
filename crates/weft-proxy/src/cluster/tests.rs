use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::*;

fn cluster(members: &[&str]) -> Cluster {
    let listen: SocketAddr = "127.0.0.1:0".parse().unwrap();
    Cluster::new(&ProxyConfig::new(
        members.iter().map(|m| m.to_string()).collect(),
        listen,
    ))
}

#[test]
fn the_least_loaded_member_is_chosen() {
    assert_eq!(least_busy(&[Some(3), Some(1), Some(2)], 0), Some(1));
    assert_eq!(least_busy(&[Some(0), Some(5), Some(0)], 1), Some(2));
}

#[test]
fn members_that_are_down_are_skipped() {
    assert_eq!(least_busy(&[None, Some(9), None], 0), Some(1));
    assert_eq!(least_busy(&[None, None], 0), None);
    assert_eq!(least_busy(&[], 7), None);
}

#[test]
fn ties_go_round_in_turn() {
    let loads = [Some(0), Some(0), Some(0)];
    let picked: Vec<_> = (0..6).map(|start| least_busy(&loads, start)).collect();
    assert_eq!(picked, [0, 1, 2, 0, 1, 2].map(Some));
}

#[test]
fn readers_follow_the_in_flight_counts() {
    // Set up: three members, two of them busy.
    let cluster = cluster(&["a:1", "b:1", "c:1"]);
    let members = cluster.members();
    let _a = members[0].busy();
    let _b = [members[1].busy(), members[1].busy()];

    // Act and check: every pick goes to the idle one, and counts it while busy.
    for _ in 0..5 {
        assert_eq!(cluster.pick_reader().unwrap().address, "c:1");
    }
    let c = members[2].busy();
    assert_eq!(members[2].in_flight(), 1);
    let d = members[2].busy();
    assert_eq!(cluster.pick_reader().unwrap().address, "a:1");
    drop((c, d));
    assert_eq!(members[2].in_flight(), 0);
}

#[test]
fn a_member_marked_down_is_skipped_until_it_is_heard_from() {
    // Set up: two members, the first down.
    let cluster = cluster(&["a:1", "b:1"]);
    let members = cluster.members();
    let epoch = members[0].epoch();
    cluster.mark_down(&members[0], "refused");

    // Check: reads avoid it and its epoch moved on.
    assert!(members[0].epoch() > epoch);
    for _ in 0..4 {
        assert_eq!(cluster.pick_reader().unwrap().address, "b:1");
    }
    cluster.mark_down(&members[1], "refused");
    assert!(cluster.pick_reader().is_none());

    // Act: discovery hears from the first again.
    cluster.mark_up(&members[0]);
    assert_eq!(cluster.pick_reader().unwrap().address, "a:1");
}

#[test]
fn a_leader_down_or_refusing_writes_is_no_leader() {
    let cluster = cluster(&["a:1", "b:1"]);
    let b = cluster.member_at("b:1");
    cluster.set_leader(Some((b.clone(), 3)));
    assert_eq!(cluster.leader().unwrap().address, "b:1");
    cluster.mark_down(&b, "gone");
    assert!(cluster.leader().is_none());
    cluster.mark_up(&b);
    assert_eq!(cluster.leader().unwrap().id, b.id);
    cluster.not_the_leader(&b);
    assert!(cluster.leader().is_none());
}

#[test]
fn a_leader_outside_the_list_is_added() {
    let cluster = cluster(&["a:1"]);
    let c = cluster.member_at("c:1");
    assert_eq!((c.id, cluster.members().len()), (1, 2));
    assert_eq!(cluster.member_at("c:1").id, 1);
}

#[test]
fn a_session_waits_for_the_round_it_asked_for_and_no_longer_than_told() {
    // Set up: a stand-in for discovery that finds a leader in each round.
    let cluster = Arc::new(cluster(&["a:1"]));
    let worker = cluster.clone();
    let discovery = std::thread::spawn(move || {
        while let Some(round) = worker.next_round() {
            let a = worker.member_at("a:1");
            worker.set_leader(Some((a, round)));
            worker.round_done(round);
        }
    });

    // Act and check: waiting for a leader ends once a round found it.
    let deadline = Instant::now() + Duration::from_secs(10);
    assert_eq!(cluster.leader_by(deadline).unwrap().address, "a:1");
    assert!(cluster.refresh_and_wait(Duration::from_secs(10)));

    // Once stopped, nobody waits.
    cluster.stop();
    discovery.join().unwrap();
    assert!(!cluster.refresh_and_wait(Duration::from_secs(10)));
}

#[test]
fn a_restricted_member_takes_no_reads() {
    let cluster = cluster(&["a:1", "b:1"]);
    let a = cluster.member_at("a:1");
    cluster.set_restricted(&a, true);
    for _ in 0..4 {
        assert_eq!(cluster.pick_reader().unwrap().address, "b:1");
    }
    cluster.set_restricted(&a, false);
    let picked: Vec<_> = (0..4).map(|_| cluster.pick_reader().unwrap().id).collect();
    assert!(picked.contains(&a.id), "{picked:?}");
}
