"""End-to-end Raft cluster with real processes and the real neo4j driver.

Usage: python raft.py WEFT_BINARY   (run by tests/e2e/run.sh). Starts three `weft serve`
members on free loopback ports with --node-id, --raft-address and --initial-members,
each with its own data directory, and stops them (by pid) whatever happens. Each check
prints one line; any failed assertion exits non-zero. Bounded: every wait gives up
after 30 s.
"""
import logging
import os
import shutil
import sys
import tempfile

import neo4j

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from weft_process import WeftProcess, free_port, wait_until  # noqa: E402 - the shared module lives one folder up

BINARY = sys.argv[1]
logging.getLogger("neo4j").setLevel(logging.CRITICAL)
passed = 0


class Member(WeftProcess):
    def __init__(self, n, root, raft_ports):
        super().__init__(BINARY, f"member{n}", root, "127.0.0.1", free_port(), free_port())
        self.n, self.raft_ports = n, raft_ports
        self.first = True

    def start(self):
        # The Raft flags on the first start only: a restart finds them in the data directory.
        if self.first:
            members = ",".join(f"{i}=127.0.0.1:{p}" for i, p in self.raft_ports.items())
            self.extra = ["--node-id", str(self.n), "--raft-address", f"127.0.0.1:{self.raft_ports[self.n]}",
                          "--initial-members", members]
            self.first = False
        else:
            self.extra = []
        super().start()

    def arguments(self):
        return super().arguments() + self.extra

    def run(self, query, **params):
        with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{self.bolt_port}", auth=("a", "b")) as d:
            with d.session() as s:
                return [r.values() for r in s.run(query, params)]

    def cluster(self):
        return {row[0]: row for row in self.run("SHOW CLUSTER")}


def check(name, fn):
    global passed
    fn()
    passed += 1
    print(f"ok raft: {name}", flush=True)


def leader(members):
    """The running member that says it is the leader, once one does."""
    found = []

    def one():
        found[:] = [m for m in members if m.running() and m.cluster().get(m.n, [None] * 4)[3] == "leader"]
        return len(found) == 1
    wait_until("a leader is elected", one, neo4j.exceptions.Neo4jError)
    return found[0]


root = tempfile.mkdtemp(prefix="weft-raft-e2e-")
raft_ports = {n: free_port() for n in (1, 2, 3)}
members = [Member(n, root, raft_ports) for n in (1, 2, 3)]
try:
    for m in members:
        m.start()

    def writes_on_the_leader_reach_every_member():
        boss = leader(members)
        wait_until("the leader takes writes",
                   lambda: boss.run("CREATE (:Item {n: 0}) RETURN 1") is not None, neo4j.exceptions.Neo4jError)
        boss.run("UNWIND range(1, 99) AS n CREATE (:Item {n: n})")
        for m in members:
            wait_until(f"member {m.n} holds the 100 items",
                       lambda m=m: m.run("MATCH (i:Item) RETURN count(i)")[0][0] == 100)

    def a_follower_refuses_writes_naming_the_leader():
        boss = leader(members)
        follower = next(m for m in members if m is not boss)
        try:
            follower.run("CREATE (:Item {n: -1})")
            raise AssertionError("a follower took a write")
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.WriteServiceUnavailable) as raised:
            # The driver turns NotALeader into WriteServiceUnavailable, keeping the server's
            # error as the one it was raised from.
            error = raised if isinstance(raised, neo4j.exceptions.Neo4jError) else raised.__context__
            assert error.code == "Neo.ClientError.Cluster.NotALeader", error.code
            assert f"member {boss.n}" in error.message, error.message
        assert follower.run("MATCH (i:Item {n: -1}) RETURN count(i)")[0][0] == 0

    def show_cluster_lists_the_members():
        rows = leader(members).cluster()
        assert sorted(rows) == [1, 2, 3], rows
        assert sum(1 for row in rows.values() if row[3] == "leader") == 1, rows
        for m in members:
            assert rows[m.n][1] == f"127.0.0.1:{raft_ports[m.n]}", rows

    def replication_statements_are_refused_on_a_member():
        try:
            members[0].run("SHOW REPLICAS")
            raise AssertionError("a Raft member ran SHOW REPLICAS")
        except neo4j.exceptions.Neo4jError as error:
            assert "Raft cluster" in error.message, error.message

    def the_leader_killed_a_new_one_takes_writes_and_the_old_one_catches_up_after_a_restart():
        old = leader(members)
        old.kill()
        others = [m for m in members if m is not old]
        boss = leader(others)
        assert boss is not old
        wait_until("the new leader takes writes",
                   lambda: boss.run("CREATE (:Item {n: 100}) RETURN 1") is not None, neo4j.exceptions.Neo4jError)
        boss.run("UNWIND range(101, 149) AS n CREATE (:Item {n: n})")
        old.start()
        for m in members:
            wait_until(f"member {m.n} holds the 150 items",
                       lambda m=m: m.run("MATCH (i:Item) RETURN count(i), sum(i.n)")[0] == [150, sum(range(150))],
                       neo4j.exceptions.Neo4jError)

    check("writes on the leader reach every member", writes_on_the_leader_reach_every_member)
    check("a follower refuses writes with NotALeader naming the leader", a_follower_refuses_writes_naming_the_leader)
    check("SHOW CLUSTER lists the three members and one leader", show_cluster_lists_the_members)
    check("MAIN/REPLICA statements are refused on a member", replication_statements_are_refused_on_a_member)
    check("the leader SIGKILLed, a new leader takes writes, the old one restarts with no flags and catches up",
          the_leader_killed_a_new_one_takes_writes_and_the_old_one_catches_up_after_a_restart)
    print(f"e2e raft: {passed} passed, 0 failed")
finally:
    for m in members:
        m.kill()
    shutil.rmtree(root, ignore_errors=True)
