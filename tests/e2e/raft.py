"""End-to-end Raft cluster with real processes and the real neo4j driver.

Usage: python raft.py WEFT_BINARY   (run by tests/e2e/run.sh). Starts three `weft serve`
members on free loopback ports with --node-id, --raft-address and --initial-members,
each with its own data directory, and stops them (by pid) whatever happens. Each check
prints one line; any failed assertion exits non-zero. Bounded: every wait gives up
after 30 s.
"""
import base64
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.request

import mgclient
import neo4j

from raft_member import Checks, RaftMember, free_port, leader, wait_until

BINARY = sys.argv[1]
logging.getLogger("neo4j").setLevel(logging.CRITICAL)
check = Checks("raft")


class Member(RaftMember):
    def __init__(self, n, root, raft_ports):
        # Fingerprint checks often, so that a check follows every few writes here.
        super().__init__(BINARY, n, root, raft_ports, flags=["--fingerprint-interval", "0.5"])


class Joiner(Member):
    """A member started with only --node-id and --raft-address: it waits, without Bolt,
    until ADD MEMBER adds it."""

    def start(self):
        self.extra = ["--node-id", str(self.n), "--raft-address", f"127.0.0.1:{self.raft_ports[self.n]}"]
        self.process = subprocess.Popen([self.binary, "serve", *self.arguments()], stdout=self.log, stderr=self.log)

    def wait_for_bolt(self):
        wait_until(f"member {self.n} serves Bolt",
                   lambda: socket.create_connection(("127.0.0.1", self.bolt_port), timeout=0.2).close() is None,
                   OSError)


def leader_and_follower():
    """The leader, and one member that is not it."""
    boss = leader(members)
    return boss, next(m for m in members if m is not boss)


root = tempfile.mkdtemp(prefix="weft-raft-e2e-")
raft_ports = {n: free_port() for n in (1, 2, 3)}
members = [Member(n, root, raft_ports) for n in (1, 2, 3)]
extra = []
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

    def writes_sent_to_a_follower_are_forwarded_to_the_leader():
        boss, follower = leader_and_follower()
        wait_until("every member told its Bolt address",
                   lambda: all(row[2] for row in boss.cluster().values()), neo4j.exceptions.Neo4jError)
        # Autocommit with rows back, over the neo4j driver (bolt://: no routing).
        assert follower.run("CREATE (i:Item {n: -1}) RETURN i.n") == [[-1]]
        # An explicit transaction that reads, then writes, then reads its own write.
        with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{follower.bolt_port}", auth=("a", "b")) as d:
            with d.session() as s:
                def work(tx):
                    before = tx.run("MATCH (i:Item) RETURN count(i) AS c").single()["c"]
                    tx.run("CREATE (:Item {n: -2})").consume()
                    return before, tx.run("MATCH (i:Item) RETURN count(i) AS c").single()["c"]
                before, after = s.execute_write(work)
                assert after == before + 1, (before, after)
        # pymgclient, which sends BEGIN and COMMIT as statements.
        connection = mgclient.connect(host="127.0.0.1", port=follower.bolt_port)
        cursor = connection.cursor()
        cursor.execute("CREATE (:Item {n: -3})")
        connection.commit()
        connection.close()
        for m in members:
            wait_until(f"member {m.n} holds the forwarded writes",
                       lambda m=m: m.run("MATCH (i:Item) WHERE i.n < 0 RETURN count(i)")[0][0] == 3)
        boss.run("MATCH (i:Item) WHERE i.n < 0 DELETE i")

    def a_routing_driver_sends_writes_to_the_leader_and_reads_anywhere():
        boss, follower = leader_and_follower()
        with neo4j.GraphDatabase.driver(f"neo4j://127.0.0.1:{follower.bolt_port}", auth=("a", "b")) as d:
            with d.session() as s:
                summary = s.execute_write(lambda tx: tx.run("CREATE (:Routed)").consume())
                assert summary.server.address.port == boss.bolt_port, (summary.server.address, boss.bolt_port)
                wait_until("the routed write is read back",
                           lambda: s.execute_read(lambda tx: tx.run("MATCH (r:Routed) RETURN count(r) AS c")
                                                  .single()["c"]) == 1)
        boss.run("MATCH (r:Routed) DELETE r")

    def reads_wait_for_bookmarks_and_for_the_consistency_asked():
        boss, follower = leader_and_follower()
        # Causal chaining: each write's bookmark makes the next read, wherever the
        # routing driver sends it, see that write.
        with neo4j.GraphDatabase.driver(f"neo4j://127.0.0.1:{follower.bolt_port}", auth=("a", "b")) as d:
            with d.session() as s:
                for n in range(20):
                    s.execute_write(lambda tx: tx.run("CREATE (:Chain {n: $n})", n=n).consume())
                    seen = s.execute_read(lambda tx: tx.run("MATCH (c:Chain) RETURN max(c.n) AS m").single()["m"])
                    assert seen == n, (seen, n)
        # A LINEARIZABLE session on a follower (pymgclient: one connection) sees a write
        # acknowledged on the leader just before.
        reader = mgclient.connect(host="127.0.0.1", port=follower.bolt_port)
        reader.autocommit = True
        cursor = reader.cursor()
        cursor.execute("SET SESSION CONSISTENCY TO LINEARIZABLE")
        for n in range(20, 30):
            boss.run("CREATE (:Chain {n: $n})", n=n)
            cursor.execute("MATCH (c:Chain) RETURN max(c.n)")
            assert cursor.fetchall() == [(n,)]
        try:
            cursor.execute("SET SESSION CONSISTENCY TO SOMETIMES")
            raise AssertionError("an unknown level was taken")
        except mgclient.DatabaseError as error:
            assert "not a consistency level" in str(error), error
        reader.close()
        # The level in a transaction's metadata (neo4j driver).
        with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{follower.bolt_port}", auth=("a", "b")) as d:
            with d.session(default_access_mode=neo4j.READ_ACCESS) as s:
                boss.run("CREATE (:Chain {n: 30})")
                query = neo4j.Query("MATCH (c:Chain) RETURN max(c.n) AS m", metadata={"consistency": "LAST_COMMITTED"})
                assert s.run(query).single()["m"] == 30
        boss.run("MATCH (c:Chain) DELETE c")

    def http(member, method, path, body=None):
        """One HTTP API call to `member` as the cluster's user; the parsed JSON answer."""
        token = base64.b64encode(":".join(member.auth).encode()).decode()
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{member.http_port}{path}", data=data, method=method,
                                         headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def http_on_a_follower_forwards_writes_and_shows_the_cluster():
        boss = leader(members)
        follower = next(m for m in members if m is not boss)
        written = http(follower, "POST", "/db/neo4j/tx/commit",
                       {"statements": [{"statement": "CREATE (:ViaHttp {n: 1}) RETURN 1"}]})
        assert written["errors"] == [], written
        assert boss.run("MATCH (x:ViaHttp) RETURN count(x)") == [[1]]
        cluster = http(follower, "GET", "/console/cluster")
        assert (cluster["mode"], cluster["role"]) == ("raft", "follower"), cluster
        roles = [row[cluster["members"]["columns"].index("role")] for row in cluster["members"]["rows"]]
        assert sorted(roles) == ["follower", "follower", "leader"], cluster

    def the_console_shows_the_cluster():
        follower = next(m for m in members if m is not leader(members))
        shots = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "target", "console-screenshots")
        if not (shutil.which("chromium") and shutil.which("chromedriver")):
            print("   skipped: Debian's chromium and chromium-driver are not installed", flush=True)
            return
        subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "console.py"),
                        str(follower.http_port), shots, "--cluster", "3"], check=True, timeout=120)

    def show_cluster_lists_the_members():
        boss = leader(members)
        rows = boss.cluster()
        # In-flight queries: this query at least on the member asked; each other member
        # answers for itself, and is up.
        assert rows[boss.n][9] >= 1 and all(row[9] is not None and row[9] >= 0 for row in rows.values()), rows
        assert all(row[8] == "up" for row in rows.values()), rows
        assert sorted(rows) == [1, 2, 3], rows
        assert sum(1 for row in rows.values() if row[3] == "leader") == 1, rows
        for m in members:
            assert rows[m.n][1] == f"127.0.0.1:{raft_ports[m.n]}", rows
            assert rows[m.n][2] == f"127.0.0.1:{m.bolt_port}", rows
        # Fingerprints (digest@index): after a write, every member's check at the same
        # index agrees with the leader's, and none is restricted; seen from one member
        # (the others answer for themselves) and by each member of itself.
        boss.run("CREATE (:Printed {n: 1})")

        def agreeing():
            seen = list(boss.cluster().values()) + [m.cluster()[m.n] for m in members]
            return seen[0][7] is not None and all(row[7] == seen[0][7] and row[3] != "restricted" for row in seen)
        wait_until("every member shows the same fingerprint", agreeing)
        boss.run("MATCH (p:Printed) DELETE p")

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

    def a_member_without_a_majority_refuses_writes_and_answers_reads():
        boss = leader(members)
        lone = next(m for m in members if m is not boss)
        for m in members:
            if m is not lone:
                m.kill()

        def refused_for_no_quorum():
            try:
                lone.run("CREATE (:Item {n: -9})")
                return False
            except neo4j.exceptions.WriteServiceUnavailable:
                # Until its election timeout the lone member still follows the killed
                # leader and answers NotALeader, which the driver raises as this.
                return False
            except neo4j.exceptions.Neo4jError as error:
                return error.code == "Neo.TransientError.Cluster.NoQuorum"
        wait_until("the lone member refuses writes with NoQuorum", refused_for_no_quorum)
        assert lone.run("MATCH (i:Item) RETURN count(i)")[0][0] == 150
        try:
            with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{lone.bolt_port}", auth=("a", "b")) as d:
                with d.session() as s:
                    s.run(neo4j.Query("MATCH (i:Item) RETURN count(i)", metadata={"consistency": "LINEARIZABLE"})).consume()
            raise AssertionError("a LINEARIZABLE read ran without a majority")
        except neo4j.exceptions.Neo4jError as error:
            assert error.code == "Neo.TransientError.Cluster.NoQuorum", error.code
        for m in members:
            if m is not lone:
                m.start()
        boss = leader(members)
        wait_until("the healed cluster takes writes again",
                   lambda: lone.run("CREATE (:Item {n: 150}) RETURN 1") is not None, neo4j.exceptions.Neo4jError)
        for m in members:
            wait_until(f"member {m.n} holds 151 items",
                       lambda m=m: m.run("MATCH (i:Item) RETURN count(i)")[0][0] == 151, neo4j.exceptions.Neo4jError)

    check("writes on the leader reach every member", writes_on_the_leader_reach_every_member)
    check("writes sent to a follower (neo4j driver, explicit transaction, pymgclient) are forwarded to the leader",
          writes_sent_to_a_follower_are_forwarded_to_the_leader)
    check("a neo4j:// driver given a follower routes writes to the leader", a_routing_driver_sends_writes_to_the_leader_and_reads_anywhere)
    check("reads wait for bookmarks (neo4j:// causal chaining) and for LINEARIZABLE / LAST_COMMITTED",
          reads_wait_for_bookmarks_and_for_the_consistency_asked)
    check("SHOW CLUSTER lists the three members and one leader", show_cluster_lists_the_members)
    check("MAIN/REPLICA statements are refused on a member", replication_statements_are_refused_on_a_member)
    check("HTTP: a write posted to a follower reaches the leader; /console/cluster lists the members",
          http_on_a_follower_forwards_writes_and_shows_the_cluster)
    check("the console of a follower shows the cluster view (headless Chromium)", the_console_shows_the_cluster)
    check("the leader SIGKILLed, a new leader takes writes, the old one restarts with no flags and catches up",
          the_leader_killed_a_new_one_takes_writes_and_the_old_one_catches_up_after_a_restart)
    def a_member_is_added_catches_up_and_is_removed():
        boss = leader(members)
        raft_ports[4] = free_port()
        joiner = Joiner(4, root, raft_ports)
        extra.append(joiner)
        joiner.start()
        boss.run(f'ADD MEMBER 4 AT "127.0.0.1:{raft_ports[4]}"')
        joiner.wait_for_bolt()
        wait_until("member 4 holds every item",
                   lambda: joiner.run("MATCH (i:Item) RETURN count(i)")[0][0] == 151, neo4j.exceptions.Neo4jError)
        rows = boss.cluster()
        assert sorted(rows) == [1, 2, 3, 4] and rows[4][3] == "follower", rows
        boss.run("REMOVE MEMBER 4")
        wait_until("member 4 is gone from the cluster", lambda: sorted(leader(members).cluster()) == [1, 2, 3])
        joiner.kill()
        try:
            boss.run(f'ADD MEMBER 2 AT "127.0.0.1:{raft_ports[4]}"')
            raise AssertionError("member 2 was added a second time")
        except neo4j.exceptions.Neo4jError as error:
            assert "already in the cluster" in error.message, error.message

    def a_transaction_open_on_a_leader_that_loses_the_lead_gives_way():
        old = leader(members)
        log = os.path.join(root, f"member{old.n}.log")

        def restarts():
            with open(log, encoding="utf-8", errors="replace") as f:
                return f.read().count("restarting the Raft member in place")
        before = restarts()
        with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{old.bolt_port}", auth=old.auth) as d:
            with d.session() as s:
                # It takes the next vertex id, which the next leader will hand out too.
                tx = s.begin_transaction()
                tx.run("CREATE (:Held {n: 1})").consume()
                old.pause()
                try:
                    boss = leader([m for m in members if m is not old])
                    wait_until("the new leader takes writes",
                               lambda: boss.run("CREATE (:After {n: 0}) RETURN 1") is not None,
                               neo4j.exceptions.Neo4jError)
                    boss.run("UNWIND range(1, 9) AS n CREATE (:After {n: n})")
                finally:
                    old.resume()
                wait_until("the old leader applies the new leader's commits",
                           lambda: old.run("MATCH (a:After) RETURN count(a)")[0][0] == 10, neo4j.exceptions.Neo4jError)
                # Refused as NotALeader (which the driver reports as no write service) or
                # as a conflict, if it had changed objects the new leader's commits took.
                try:
                    tx.commit()
                    raise AssertionError("a transaction begun on a leader that lost the lead committed")
                except neo4j.exceptions.WriteServiceUnavailable:
                    pass
                except neo4j.exceptions.Neo4jError as error:
                    assert error.code == "Neo.TransientError.Transaction.Conflict", error.code
        assert restarts() == before, "the old leader had to restart to apply the new leader's commits"
        for m in members:
            wait_until(f"member {m.n} holds the new leader's 10 nodes",
                       lambda m=m: m.run("MATCH (a:After) RETURN count(a)") == [[10]], neo4j.exceptions.Neo4jError)
            assert m.run("MATCH (h:Held) RETURN count(h)") == [[0]], f"member {m.n} holds the uncommitted node"

    check("a transaction open on a leader that loses the lead never commits; the new leader's commits take its ids "
          "without stopping the old leader", a_transaction_open_on_a_leader_that_loses_the_lead_gives_way)
    check("a member left without a majority refuses writes with NoQuorum and answers reads; the cluster heals",
          a_member_without_a_majority_refuses_writes_and_answers_reads)
    check("ADD MEMBER adds a waiting member, which catches up and votes; REMOVE MEMBER takes it out",
          a_member_is_added_catches_up_and_is_removed)
    print(f"e2e raft: {check.passed} passed, 0 failed")
finally:
    for m in members + extra:
        m.kill()
    shutil.rmtree(root, ignore_errors=True)
