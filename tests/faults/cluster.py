"""Real `weft serve` processes, each in a network namespace of its own, and the faults a
nemesis does to them.

Owns: the test network (one bridge, one veth pair and one namespace per node, addresses
198.18.<net>.<n>/24 in the range reserved for network tests, with the bridge at .254 so
the test process reaches every node), the
nodes' processes (started, killed with SIGKILL, paused with SIGSTOP and resumed, restarted
on their data directory), isolation (a node's link to the bridge taken down, so it
neither sends nor receives) and partitions between chosen nodes (nftables rules in each
node's own namespace that drop what it sends to or receives from the nodes cut off from
it; the test process still reaches every node). Every name it makes carries the harness's pid, every process
it starts is tracked by pid, and `Network.close` removes all of it whatever happened.
Needs root (network namespaces); `available()` says whether this machine allows them.
"""
import os
import shutil
import subprocess
import sys

import neo4j

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from weft_process import WeftProcess  # noqa: E402 - the shared module lives one folder up


def sh(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True)


def available():
    """Whether network namespaces can be made here (root, a kernel that allows them)."""
    if os.geteuid() != 0:
        return False, "network namespaces need root"
    if shutil.which("ip") is None:
        return False, "the `ip` command (iproute2) is missing"
    if shutil.which("nft") is None:
        return False, "the `nft` command (nftables) is missing"
    probe = f"weftprobe{os.getpid()}"
    made = sh("ip", "netns", "add", probe, check=False)
    if made.returncode != 0:
        return False, f"cannot make a network namespace: {made.stderr.strip()}"
    sh("ip", "netns", "del", probe, check=False)
    return True, ""


class Network:
    """A bridge and the namespaces hanging off it; `close` removes them."""

    def __init__(self):
        tag = os.getpid() % 100000
        self.bridge = f"wb{tag}"
        self.net = tag % 250
        self.namespaces = []
        self.links = []
        sh("ip", "link", "add", self.bridge, "type", "bridge")
        sh("ip", "addr", "add", f"198.18.{self.net}.254/24", "dev", self.bridge)
        sh("ip", "link", "set", self.bridge, "up")

    def address(self, n):
        """Node `n`'s address."""
        return f"198.18.{self.net}.{n}"

    def attach(self, n):
        """A namespace for node `n` wired to the bridge; its address."""
        ns, host_end, node_end = f"weft{os.getpid()}n{n}", f"wv{os.getpid() % 100000}h{n}", f"wv{os.getpid() % 100000}n{n}"
        sh("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        sh("ip", "link", "add", host_end, "type", "veth", "peer", "name", node_end)
        self.links.append(host_end)
        sh("ip", "link", "set", host_end, "master", self.bridge)
        sh("ip", "link", "set", host_end, "up")
        sh("ip", "link", "set", node_end, "netns", ns)
        address = self.address(n)
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{address}/24", "dev", node_end)
        sh("ip", "netns", "exec", ns, "ip", "link", "set", node_end, "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        return ns, host_end, address

    def close(self):
        for link in self.links:
            sh("ip", "link", "del", link, check=False)
        for ns in self.namespaces:
            sh("ip", "netns", "del", ns, check=False)
        sh("ip", "link", "del", self.bridge, check=False)


class Node(WeftProcess):
    """One `weft serve` in its namespace, with its own data directory."""

    def __init__(self, binary, network, n, root, name):
        ns, self.link, self.address = network.attach(n)
        super().__init__(binary, name, root, self.address, 7687, 7444, launcher=["ip", "netns", "exec", ns],
                         snapshot_interval=5)
        self.ns = ns
        self.isolated = False
        self.cut = False

    @property
    def bolt(self):
        return f"{self.address}:7687"

    @property
    def replication(self):
        return f"{self.address}:10000"

    def isolate(self):
        sh("ip", "link", "set", self.link, "down")
        self.isolated = True

    def heal(self):
        sh("ip", "link", "set", self.link, "up")
        self.isolated = False

    def cut_off(self, others):
        """Drops every packet between this node and `others` (in this node's namespace)."""
        addresses = ", ".join(other.address for other in others)
        rules = (f"table inet weftfaults {{\n"
                 f"  chain input {{ type filter hook input priority 0; ip saddr {{ {addresses} }} drop; }}\n"
                 f"  chain output {{ type filter hook output priority 0; ip daddr {{ {addresses} }} drop; }}\n"
                 f"}}\n")
        self.rejoin()
        subprocess.run(["ip", "netns", "exec", self.ns, "nft", "-f", "-"], input=rules, check=True,
                       capture_output=True, text=True)
        self.cut = True

    def rejoin(self):
        """Removes this node's partition rules, if any."""
        sh("ip", "netns", "exec", self.ns, "nft", "delete", "table", "inet", "weftfaults", check=False)
        self.cut = False


class Member(Node):
    """A Raft member: the first start names its id, Raft address and the initial members
    (`members`: id -> Raft address); a restart finds them in its data directory."""

    def __init__(self, binary, network, n, root, name, members):
        super().__init__(binary, network, n, root, name)
        self.n, self.members, self.founded = n, members, False

    def arguments(self):
        # Fingerprint checks every second: the run ends by comparing every member's.
        checks = ["--fingerprint-interval", "1"]
        if self.founded:
            return super().arguments() + checks
        initial = ",".join(f"{i}={address}" for i, address in self.members.items())
        return super().arguments() + ["--node-id", str(self.n), "--raft-address", self.members[self.n],
                                      "--initial-members", initial] + checks

    def start(self):
        super().start()
        self.founded = True


def own_row(node):
    """The SHOW CLUSTER row `node` reports for itself."""
    # Autocommit, not execute_query: a write transaction on a follower runs on the leader.
    with neo4j.GraphDatabase.driver(f"bolt://{node.bolt}", auth=("any", "thing"), connection_timeout=2) as drv:
        with drv.session() as session:
            rows = [record.values() for record in session.run("SHOW CLUSTER")]
    return next(row for row in rows if row[0] == node.n)


def own_role(node):
    """The Raft role `node` reports for itself in SHOW CLUSTER."""
    return own_row(node)[3]


def own_fingerprint(node):
    """The newest fingerprint (`digest@index`) `node` reports for itself, and its role."""
    row = own_row(node)
    return row[7], row[3]


def partition(side, rest):
    """Splits the network in two: no node of `side` reaches a node of `rest`, nor back."""
    for node in side:
        node.cut_off(rest)
    for node in rest:
        node.cut_off(side)


def fingerprints_agree(nodes, write, wait_until):
    """Whether every member ends with the same graph, and none was ever restricted: writes
    move the log (so that the leader proposes check entries) until every member's own
    newest fingerprint is the same one (digest and log index) and none is restricted; and
    no member's log tells of a restriction during the run. As (members, problems)."""
    seen = {}

    def agree():
        write()
        seen.clear()
        seen.update({node.name: own_fingerprint(node) for node in nodes})
        prints = {fingerprint for fingerprint, _ in seen.values()}
        return None not in prints and len(prints) == 1 and all(role != "restricted" for _, role in seen.values())
    problems = []
    try:
        wait_until("every member's fingerprint agrees", agree, seconds=60)
    except AssertionError:
        problems.append(f"fingerprints and roles: {seen}")
    for node in nodes:
        node.log.flush()
        with open(node.log.name, "rb") as log:
            if b"this Raft member is restricted" in log.read():
                problems.append(f"{node.name} was restricted during the run (see its log)")
    return len(nodes), problems
