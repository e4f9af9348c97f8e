"""End-to-end replication with real processes and real drivers.

Usage: python replication.py WEFT_BINARY   (run by tests/e2e/run.sh). Starts one MAIN and
four replicas as `weft serve` processes on free loopback ports, each with its own data
directory, and stops them (by pid) whatever happens. Each check prints one line; any
failed assertion exits non-zero. Bounded: every wait gives up after 30 s.
"""
import json
import logging
import os
import shutil
import sys
import tempfile
import urllib.request

import mgclient
import neo4j

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from weft_process import WeftProcess, free_port, wait_until  # noqa: E402 - the shared module lives one folder up
from checks import Checks  # noqa: E402

BINARY = sys.argv[1]
check = Checks()
# The warnings a commit's summary carries are checked below; the driver need not print them.
logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)


class Server(WeftProcess):
    """One `weft serve` on free loopback ports with its own data directory, restartable."""

    def __init__(self, name, root):
        super().__init__(BINARY, name, root, "127.0.0.1", free_port(), free_port())
        self.bolt, self.http = self.bolt_port, self.http_port
        self.replication_port = free_port()

    def driver(self):
        return neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{self.bolt}", auth=("any", "thing"))

    def run(self, query, **params):
        with self.driver() as d, d.session() as s:
            return [r.values() for r in s.run(query, params)]

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http}/metrics", timeout=5) as response:
            return response.read().decode()

    def count(self):
        return self.run("MATCH (n:Item) RETURN count(n)")[0][0]




def replica_states(main):
    return {row[0]: row[4] for row in main.run("SHOW REPLICAS")}


root = tempfile.mkdtemp(prefix="weft-replication-e2e-")
main, sync, lazy = Server("main", root), Server("sync", root), Server("async", root)
late, strict = Server("late", root), Server("strict", root)
servers = [main, sync, lazy, late, strict]
try:
    for server in servers:
        server.start()

    def set_up_with_memgraph_statements():
        for replica in (sync, lazy):
            # Memgraph's own client sets the role, as Memgraph users do.
            conn = mgclient.connect(host="127.0.0.1", port=replica.bolt)
            conn.autocommit = True
            conn.cursor().execute(f"SET REPLICATION ROLE TO REPLICA WITH PORT {replica.replication_port}")
            conn.close()
        main.run(f"REGISTER REPLICA sync_one SYNC TO \"127.0.0.1:{sync.replication_port}\"")
        main.run(f"REGISTER REPLICA async_one ASYNC TO '127.0.0.1:{lazy.replication_port}'")
        wait_until("both replicas are ready", lambda: replica_states(main) == {"sync_one": "ready", "async_one": "ready"})
        assert sync.run("SHOW REPLICATION ROLE") == [["replica"]]
        assert main.run("SHOW REPLICATION ROLE") == [["main"]]

    def writes_reach_every_replica():
        with main.driver() as d, d.session() as s:
            for i in range(100):
                s.execute_write(lambda tx: tx.run("CREATE (:Item {i: $i})", i=i).consume())
        # SYNC: every acknowledged commit is already on the replica.
        assert sync.count() == 100, sync.count()
        wait_until("the ASYNC replica caught up", lambda: lazy.count() == 100)
        # The MAIN's /metrics has each replica's queue depth, lag and bytes shipped.
        figures = {}
        for line in main.metrics().splitlines():
            if line.startswith("weft_replica_"):
                name, value = line.rsplit(" ", 1)
                figures[name] = float(value)
        assert figures['weft_replica_connected{replica="sync_one"}'] == 1, figures
        assert figures['weft_replica_shipped_bytes_total{replica="async_one"}'] > 0, figures
        assert 'weft_replica_behind_transactions{replica="sync_one"}' in figures, figures
        assert 'weft_replica_lag_seconds{replica="async_one"}' in figures, figures
        # The console's cluster view: MAIN lists both replicas; a replica says it is one.
        with urllib.request.urlopen(f"http://127.0.0.1:{main.http}/console/cluster", timeout=5) as response:
            cluster = json.loads(response.read())
        assert (cluster["mode"], cluster["role"]) == ("replication", "main"), cluster
        name, state = (cluster["members"]["columns"].index(c) for c in ("name", "state"))
        assert {row[name]: row[state] for row in cluster["members"]["rows"]} == \
            {"sync_one": "ready", "async_one": "ready"}, cluster
        with urllib.request.urlopen(f"http://127.0.0.1:{sync.http}/console/cluster", timeout=5) as response:
            assert json.loads(response.read())["role"] == "replica"

    def replicas_refuse_writes_naming_the_main():
        try:
            sync.run("CREATE (:Item {i: -1})")
            raise AssertionError("a replica took a write")
        except neo4j.exceptions.WriteServiceUnavailable as unavailable:
            # A direct bolt:// driver turns NotALeader into "no write service here".
            error = unavailable.__context__
            assert isinstance(error, neo4j.exceptions.NotALeader), repr(error)
            assert error.code == "Neo.ClientError.Cluster.NotALeader", error.code
            assert f"127.0.0.1:{main.bolt}" in error.message, error.message
        assert sync.count() == 100

    def a_killed_sync_replica_does_not_stop_commits_and_catches_up():
        sync.kill()
        wait_until("the killed replica shows as unreachable", lambda: replica_states(main)["sync_one"] == "unreachable")
        with main.driver() as d, d.session() as s:
            summaries = [s.run("CREATE (:Item {i: $i})", i=i).consume() for i in range(100, 150)]
        assert main.count() == 150
        # Each commit stands, and its summary warns that the SYNC replica did not confirm it.
        for summary in summaries:
            notes = summary.metadata.get("notifications") or []
            assert [n["severity"] for n in notes] == ["WARNING"], summary.metadata
            assert "`sync_one`" in notes[0]["description"], notes
        sync.start()  # no flags: the role comes from its data directory
        assert sync.run("SHOW REPLICATION ROLE") == [["replica"]]
        wait_until("the restarted replica caught up", lambda: sync.count() == 150)
        wait_until("it is ready again", lambda: replica_states(main)["sync_one"] == "ready")

    def a_restarted_main_keeps_its_replicas():
        main.stop()
        main.start()
        assert main.run("SHOW REPLICATION ROLE") == [["main"]]
        wait_until("both replicas are ready again", lambda: replica_states(main) == {"sync_one": "ready", "async_one": "ready"})
        main.run("CREATE (:Item {i: 150})")
        assert sync.count() == 151
        wait_until("the ASYNC replica has it", lambda: lazy.count() == 151)

    def become_replica(server):
        server.run(f"SET REPLICATION ROLE TO REPLICA WITH PORT {server.replication_port}")

    def a_late_replica_catches_up_from_files():
        # Registered after MAIN committed: what it lacks is not queued, so MAIN reads its files.
        become_replica(late)
        main.run(f"REGISTER REPLICA late SYNC TO '127.0.0.1:{late.replication_port}'")
        wait_until("the late replica caught up", lambda: late.count() == 151)
        wait_until("it is ready", lambda: replica_states(main)["late"] == "ready")
        main.run("CREATE (:Item {i: 151})")
        assert late.count() == 152, "SYNC once caught up"

    def failover_to_the_sync_replica_and_the_old_main_returns_as_its_replica():
        main.kill()
        sync.run("SET REPLICATION ROLE TO MAIN")
        assert sync.run("SHOW REPLICATION ROLE") == [["main"]]
        with sync.driver() as d, d.session() as s:
            for i in range(152, 162):
                s.execute_write(lambda tx: tx.run("CREATE (:Item {i: $i})", i=i).consume())
        sync.run(f"REGISTER REPLICA async_one ASYNC TO '127.0.0.1:{lazy.replication_port}'")
        sync.run(f"REGISTER REPLICA late SYNC TO '127.0.0.1:{late.replication_port}'")
        wait_until("the other replicas follow the new MAIN", lambda: lazy.count() == 162 and late.count() == 162)
        # The old MAIN comes back as MAIN (its kept role); it is demoted by hand, as after
        # any failover, and registered on the new MAIN.
        main.start()
        for name in ("sync_one", "async_one", "late"):
            main.run(f"DROP REPLICA {name}")
        become_replica(main)
        sync.run(f"REGISTER REPLICA old_main SYNC TO '127.0.0.1:{main.replication_port}'")
        wait_until("the old MAIN caught up", lambda: main.count() == 162)
        wait_until("the old MAIN is ready", lambda: replica_states(sync)["old_main"] == "ready")
        sync.run("CREATE (:Item {i: 162})")
        assert main.count() == 163

    def a_replica_with_commits_main_lacks_is_refused_as_diverged():
        # `late` leaves, is promoted, commits on its own and comes back as a replica.
        sync.run("DROP REPLICA late")
        late.run("SET REPLICATION ROLE TO MAIN")
        late.run("CREATE (:Item {i: -7})")
        held = late.count()
        become_replica(late)
        sync.run("CREATE (:Item {i: 163})")
        sync.run(f"REGISTER REPLICA late SYNC TO '127.0.0.1:{late.replication_port}'")
        wait_until("it shows diverged", lambda: replica_states(sync)["late"] == "diverged")
        row = next(r for r in sync.run("SHOW REPLICAS") if r[0] == "late")
        assert "wipe" in row[7], row
        sync.run("CREATE (:Item {i: 164})")
        assert late.count() == held, "a diverged replica was written to"
        assert late.run("MATCH (n:Item {i: -7}) RETURN count(n)") == [[1]]

    def a_strict_sync_replica_applies_before_the_ack_and_writes_stop_while_it_is_gone():
        become_replica(strict)
        sync.run(f"REGISTER REPLICA strict STRICT_SYNC TO '127.0.0.1:{strict.replication_port}'")
        wait_until("the STRICT_SYNC replica is ready", lambda: replica_states(sync)["strict"] == "ready")
        sync.run("CREATE (:Item {i: 165})")
        assert strict.count() == sync.count(), "applied before the commit was acknowledged"
        strict.kill()
        wait_until("it shows unreachable", lambda: replica_states(sync)["strict"] == "unreachable")
        before = sync.count()
        try:
            sync.run("CREATE (:Item {i: 166})")
            raise AssertionError("a commit went through without its STRICT_SYNC replica")
        except neo4j.exceptions.TransientError as error:
            assert error.code == "Neo.TransientError.Transaction.Conflict", error.code
            assert "STRICT_SYNC replica `strict`" in error.message, error.message
        assert sync.count() == before, "the aborted commit left data on MAIN"
        strict.start()
        wait_until("it is ready again", lambda: replica_states(sync)["strict"] == "ready")
        sync.run("CREATE (:Item {i: 166})")
        assert strict.count() == sync.count() == before + 1

    check("replication: roles and replicas set up with Memgraph's statements", set_up_with_memgraph_statements)
    check("replication: writes reach the SYNC replica before they are acknowledged, and the ASYNC one; "
          "the console's cluster view lists both", writes_reach_every_replica)
    check("replication: a replica refuses writes with NotALeader naming its MAIN", replicas_refuse_writes_naming_the_main)
    check("replication: a killed SYNC replica does not stop commits (each warns, naming it), and catches up after a restart", a_killed_sync_replica_does_not_stop_commits_and_catches_up)
    check("replication: a restarted MAIN keeps its role and replicas", a_restarted_main_keeps_its_replicas)
    check("replication: a replica registered after MAIN has data catches up from MAIN's files", a_late_replica_catches_up_from_files)
    check("replication: MAIN killed, its SYNC replica promoted, the old MAIN returns as its replica", failover_to_the_sync_replica_and_the_old_main_returns_as_its_replica)
    check("replication: a replica with commits MAIN lacks is refused as diverged, its data untouched", a_replica_with_commits_main_lacks_is_refused_as_diverged)
    check("replication: a STRICT_SYNC replica applies before the ack; while it is gone commits fail, naming it, and leave nothing", a_strict_sync_replica_applies_before_the_ack_and_writes_stop_while_it_is_gone)
    print(f"e2e replication: {check.passed} passed, 0 failed")
finally:
    for server in servers:
        server.kill()
    shutil.rmtree(root, ignore_errors=True)
