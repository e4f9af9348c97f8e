"""What the Raft end-to-end harnesses (raft.py, proxy.py) share: a cluster member process,
finding the leader, and the one-line report of each check.

Owns: `RaftMember`, a `weft serve` given the Raft flags on its first start only (a
restart finds them in its data directory) plus any flags of the harness's own on every
start; `leader(members)`, the one running member that says it leads; `Checks`, which runs
and counts named checks and prints one line for each.
"""
import os
import sys

import neo4j

from checks import Checks  # noqa: F401 - raft.py and proxy.py take it from here

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from weft_process import WeftProcess, free_port, wait_until  # noqa: E402 - the shared module lives one folder up


class RaftMember(WeftProcess):
    def __init__(self, binary, n, root, raft_ports, flags=(), auth=("a", "b")):
        super().__init__(binary, f"member{n}", root, "127.0.0.1", free_port(), free_port())
        self.n, self.raft_ports, self.flags, self.auth = n, raft_ports, list(flags), auth
        self.first = True
        self.extra = []

    def start(self):
        self.extra = list(self.flags)
        if self.first:
            members = ",".join(f"{i}=127.0.0.1:{p}" for i, p in self.raft_ports.items())
            self.extra += ["--node-id", str(self.n), "--raft-address", f"127.0.0.1:{self.raft_ports[self.n]}",
                           "--initial-members", members]
            self.first = False
        super().start()

    def arguments(self):
        return super().arguments() + self.extra

    def run(self, query, **params):
        with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{self.bolt_port}", auth=self.auth) as d:
            with d.session() as s:
                return [r.values() for r in s.run(query, params)]

    def cluster(self):
        """SHOW CLUSTER as this member answers it, by member id."""
        return {row[0]: row for row in self.run("SHOW CLUSTER")}

    def role(self):
        return self.cluster().get(self.n, [None] * 4)[3]


def leader(members):
    """The running member that says it is the leader, once one does."""
    found = []

    def one():
        found[:] = [m for m in members if m.running() and m.role() == "leader"]
        return len(found) == 1
    wait_until("a leader is elected", one, (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError))
    return found[0]


