"""End-to-end `weft proxy` in front of a three-member Raft cluster, with real processes and
the real drivers (neo4j, pymgclient) talking to the proxy only.

Usage: python proxy.py WEFT_BINARY   (run by tests/e2e/run.sh). Starts three `weft serve`
members (with --auth, so the proxy must pass the clients' credentials on) and one `weft
proxy` on free loopback ports, and stops them all (by pid) whatever happens. Each check
prints one line; any failed assertion exits non-zero. Bounded: every wait gives up after
30 s, the failover after 15 s.
"""
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import mgclient
import neo4j

from raft_member import Checks, RaftMember, free_port, leader, wait_until

BINARY = sys.argv[1]
AUTH = ("a", "b")
FAILOVER = 15
logging.getLogger("neo4j").setLevel(logging.CRITICAL)
check = Checks("proxy")


class Member(RaftMember):
    def __init__(self, n, root, raft_ports):
        # --auth: the proxy must pass the clients' credentials on.
        super().__init__(BINARY, n, root, raft_ports, flags=["--auth", ":".join(AUTH)], auth=AUTH)

    def queries(self):
        """This member's `weft_queries_total`, all types together."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/metrics", timeout=5) as response:
            text = response.read().decode()
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("weft_queries_total"))


class ProxyProcess:
    def __init__(self, root, members):
        self.port = free_port()
        self.log = open(os.path.join(root, "proxy.log"), "ab")
        addresses = ",".join(f"127.0.0.1:{m.bolt_port}" for m in members)
        self.process = subprocess.Popen([BINARY, "proxy", "--members", addresses, "--listen", f"127.0.0.1:{self.port}",
                                         "--refresh", "0.5"], stdout=self.log, stderr=self.log)
        wait_until("the proxy listens",
                   lambda: socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close() is None, OSError)

    def driver(self, scheme="bolt", auth=AUTH, **config):
        return neo4j.GraphDatabase.driver(f"{scheme}://127.0.0.1:{self.port}", auth=auth, **config)

    def kill(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)


def count(session, label):
    query = f"MATCH (x:{label}) RETURN count(x) AS c"
    return session.execute_read(lambda tx: tx.run(query).single()["c"])


root = tempfile.mkdtemp(prefix="weft-proxy-e2e-")
raft_ports = {n: free_port() for n in (1, 2, 3)}
members = [Member(n, root, raft_ports) for n in (1, 2, 3)]
proxy = None
try:
    for m in members:
        m.start()
    boss = leader(members)
    wait_until("the leader takes writes", lambda: boss.run("CREATE (:Start) RETURN 1") is not None,
               neo4j.exceptions.Neo4jError)
    proxy = ProxyProcess(root, members)

    def writes_through_the_proxy_reach_the_leader_and_every_member():
        with proxy.driver() as d, d.session() as s:
            for n in range(20):
                s.execute_write(lambda tx: tx.run("CREATE (:Item {n: $n})", n=n).consume())
            # An autocommit write (no access mode: it goes to the leader).
            s.run("CREATE (:Item {n: 20})").consume()
        for m in members:
            wait_until(f"member {m.n} holds the 21 items",
                       lambda m=m: m.run("MATCH (i:Item) RETURN count(i)")[0][0] == 21)

    def wrong_credentials_are_refused():
        with proxy.driver(auth=("a", "wrong")) as d:
            try:
                d.verify_connectivity()
                raise AssertionError("the proxy let a wrong password in")
            except neo4j.exceptions.AuthError:
                pass

    def reads_are_spread_over_every_member():
        before = {m.n: m.queries() for m in members}
        with proxy.driver() as d, d.session() as s:
            for _ in range(60):
                assert count(s, "Item") == 21
        after = {m.n: m.queries() for m in members}
        served = {n: after[n] - before[n] for n in before}
        # 60 reads; the proxy's own SHOW CLUSTER asks add a few per member.
        assert all(q >= 10 for q in served.values()), served
        print(f"   queries served per member for 60 reads: {served}", flush=True)

    def a_write_in_a_read_session_is_refused_and_changes_nothing():
        # Marked read-only on the member too: a write there is refused, never applied (so
        # that a read the proxy sends again after a lost connection cannot write twice).
        with proxy.driver() as d, d.session(default_access_mode=neo4j.READ_ACCESS) as s:
            try:
                s.run("CREATE (:Sneaked)").consume()
                raise AssertionError("a write in a read session was taken")
            except neo4j.exceptions.ClientError as error:
                assert "AccessMode" in error.code or "read" in error.message.lower(), error
        with proxy.driver() as d, d.session() as s:
            assert count(s, "Sneaked") == 0

    def a_routing_driver_is_given_the_proxy_for_every_role():
        with proxy.driver("neo4j") as d, d.session() as s:
            summary = s.execute_write(lambda tx: tx.run("CREATE (:Routed)").consume())
            assert summary.server.address.port == proxy.port, summary.server.address
            assert count(s, "Routed") == 1

    def bookmarks_and_consistency_pass_through():
        # Causal chaining: each write's bookmark makes the next read, on whichever member
        # the proxy picks, see that write.
        with proxy.driver() as d, d.session() as s:
            for n in range(15):
                s.execute_write(lambda tx: tx.run("CREATE (:Chain {n: $n})", n=n).consume())
                seen = s.execute_read(lambda tx: tx.run("MATCH (c:Chain) RETURN max(c.n) AS m").single()["m"])
                assert seen == n, (seen, n)
        # SET SESSION CONSISTENCY (pymgclient, one connection to the proxy): replayed on each
        # member the session's reads reach, so each sees a write acknowledged just before.
        leader_now = leader(members)
        reader = mgclient.connect(host="127.0.0.1", port=proxy.port, username=AUTH[0], password=AUTH[1])
        reader.autocommit = True
        cursor = reader.cursor()
        cursor.execute("SET SESSION CONSISTENCY TO LINEARIZABLE")
        for n in range(15, 25):
            leader_now.run("CREATE (:Chain {n: $n})", n=n)
            cursor.execute("MATCH (c:Chain) RETURN max(c.n)")
            assert cursor.fetchall() == [(n,)]
        reader.close()
        # The level in an autocommit read's metadata (neo4j driver, READ session).
        with proxy.driver() as d, d.session(default_access_mode=neo4j.READ_ACCESS) as s:
            leader_now.run("CREATE (:Chain {n: 25})")
            query = neo4j.Query("MATCH (c:Chain) RETURN max(c.n) AS m", metadata={"consistency": "LAST_COMMITTED"})
            assert s.run(query).single()["m"] == 25

    def pymgclient_writes_and_reads():
        connection = mgclient.connect(host="127.0.0.1", port=proxy.port, username=AUTH[0], password=AUTH[1])
        cursor = connection.cursor()
        cursor.execute("CREATE (:Mg {n: 1})")
        connection.commit()
        cursor.execute("MATCH (m:Mg) RETURN count(m)")
        assert cursor.fetchall() == [(1,)]
        connection.commit()
        connection.close()

    def reads_go_on_while_a_follower_is_down():
        follower = next(m for m in members if m is not leader(members))
        follower.kill()
        with proxy.driver() as d, d.session() as s:
            for _ in range(20):
                assert count(s, "Item") == 21
        follower.start()
        wait_until(f"member {follower.n} is back", lambda: follower.role() == "follower",
                   (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError))

    def the_leader_killed_its_open_transaction_fails_and_writes_resume():
        old = leader(members)
        with proxy.driver(max_transaction_retry_time=1.0) as d:
            # A write transaction open on the leader when it dies fails, transiently.
            with d.session() as s:
                tx = s.begin_transaction()
                tx.run("CREATE (:Doomed)").consume()
                old.kill()
                killed = time.time()
                try:
                    tx.run("CREATE (:Doomed)").consume()
                    tx.commit()
                    raise AssertionError("a transaction outlived its leader")
                except neo4j.exceptions.Neo4jError as error:
                    assert error.code == "Neo.TransientError.General.DatabaseUnavailable", error.code
                finally:
                    tx.close()
                assert time.time() - killed < 10, time.time() - killed
            # Writes through the proxy succeed again once a new leader is elected.
            # MERGE: a retried write whose first try committed unseen leaves one node.
            last, seen = None, None
            while time.time() - killed < FAILOVER:
                try:
                    with d.session() as s:
                        s.execute_write(lambda tx: tx.run("MERGE (:After {k: 1})").consume())
                        seen = s.last_bookmarks()
                    break
                except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError) as error:
                    last = error
                    time.sleep(0.1)
            else:
                raise AssertionError(f"no write succeeded within {FAILOVER} s of the kill: {last}")
            print(f"   writes resumed {time.time() - killed:.1f} s after the leader was killed", flush=True)
            # Read after the write (its bookmarks), on whichever member serves it.
            with d.session(bookmarks=seen) as s:
                after, doomed = count(s, "After"), count(s, "Doomed")
                assert (after, doomed) == (1, 0), f"After {after}, Doomed {doomed}"

    check("writes via bolt://proxy (execute_write, autocommit) reach the leader and every member",
          writes_through_the_proxy_reach_the_leader_and_every_member)
    check("a wrong password is refused at the proxy", wrong_credentials_are_refused)
    check("execute_read reads are spread over all three members", reads_are_spread_over_every_member)
    check("a write in a read session (autocommit) is refused and changes nothing",
          a_write_in_a_read_session_is_refused_and_changes_nothing)
    check("neo4j://proxy gets the proxy for every role", a_routing_driver_is_given_the_proxy_for_every_role)
    check("bookmarks, SET SESSION CONSISTENCY (pymgclient) and tx metadata consistency pass through",
          bookmarks_and_consistency_pass_through)
    check("pymgclient through the proxy: a write and a read", pymgclient_writes_and_reads)
    check("reads keep working while a follower is killed", reads_go_on_while_a_follower_is_down)
    check(f"the leader SIGKILLed: its open transaction fails as transient, writes resume within {FAILOVER} s",
          the_leader_killed_its_open_transaction_fails_and_writes_resume)
    print(f"e2e proxy: {check.passed} passed, 0 failed")
except BaseException:
    # What the proxy saw, before its directory goes.
    with open(os.path.join(root, "proxy.log"), "rb") as log:
        sys.stderr.write("--- proxy.log (end) ---\n" + b"".join(log.readlines()[-40:]).decode(errors="replace"))
    raise
finally:
    if proxy is not None:
        proxy.kill()
    for m in members:
        m.kill()
    shutil.rmtree(root, ignore_errors=True)
