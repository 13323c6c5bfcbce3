"""Issue 4: node-level discovery with a real avahi-daemon and real node processes.

The file runs its own private D-Bus bus + avahi-daemon (tools/avahi-test-daemon with its
own AVAHI_TEST_DIR / netns / host name), so restarting that daemon (test 5) never disturbs
a daemon somebody else started (e.g. tools/test's), and stops only that instance. Every
test uses its own --cluster name. Without root, or when the daemon cannot be started,
every test skips with the reason. Eviction is "state dead, or gone from the peer table":
on one daemon a SIGKILLed node's service is withdrawn (goodbye) ~1 s later, which removes
its mdns-only entry before the failure detector would declare it dead.
"""
import contextlib
import os
import shutil
import signal
import subprocess
import time
import unittest

from harness import ClusterTestCase, wait_for

AVAHI_TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "avahi-test-daemon")
INSTANCE = f"glit{os.getpid()}"
AVAHI_ENV = {"AVAHI_TEST_DIR": f"/tmp/gl-avahi-{INSTANCE}", "AVAHI_TEST_NETNS": f"gl-avahi-{INSTANCE}",
             "AVAHI_TEST_HOSTNAME": INSTANCE}
BUS_ADDRESS = f"unix:path={AVAHI_ENV['AVAHI_TEST_DIR']}/run/system_bus_socket"
COMMON = ["--gossip-interval", "0.5", "--eval-interval", "0", "--checkpoint-interval", "0"]
EVICTION_LIMIT_S = 10


def avahi_tool(action):
    """Runs tools/avahi-test-daemon ACTION on this file's private instance; returns the result."""
    return subprocess.run([AVAHI_TOOL, action], env={**os.environ, **AVAHI_ENV}, capture_output=True, text=True,
                          timeout=60)


@contextlib.contextmanager
def bus_address(address):
    """Node processes started inside the block talk to the D-Bus system bus at `address`."""
    saved = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = address
    try:
        yield
    finally:
        if saved is None:
            del os.environ["DBUS_SYSTEM_BUS_ADDRESS"]
        else:
            os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = saved


def peer_entry(status, node):
    """`node`'s entry in a status document's peer list, or None."""
    return next((p for p in (status or {}).get("peers", []) if p["address"] == node.address), None)


def lists_alive(status, node, source="mdns"):
    """The status lists `node` alive, found by `source` (None: by any source)."""
    entry = peer_entry(status, node)
    return entry is not None and entry["state"] == "alive" and (source is None or source in entry["found_by"])


def log_text(node):
    with open(node.log_path, errors="replace") as f:
        return f.read()


class DiscoveryTest(ClusterTestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root: the test avahi-daemon runs in its own network namespace")
        res = avahi_tool("start")
        if res.returncode != 0:
            avahi_tool("stop")  # whatever part of our private instance did come up
            raise unittest.SkipTest(f"cannot start the test avahi-daemon: {res.stderr.strip() or res.stdout.strip()}")
        cls.bus = bus_address(BUS_ADDRESS)
        cls.bus.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.bus.__exit__(None, None, None)
        avahi_tool("stop")
        shutil.rmtree(AVAHI_ENV["AVAHI_TEST_DIR"], ignore_errors=True)

    def start_nodes(self, names, cluster, shards, hidden=32, static_peers=False):
        """Starts one node per name and shard, discovering by mdns (and, with static_peers, given
        every other one as a static peer too), and waits until each answers its status socket."""
        args = COMMON + ["--hidden", str(hidden), "--discovery", "both" if static_peers else "mdns",
                         "--cluster", cluster]
        nodes = [self.add_node(name, shard, args) for name, shard in zip(names, shards)]
        if static_peers:
            for node in nodes:
                node.extra += sum((["--peer", other.address] for other in nodes if other is not node), [])
        for node in nodes:
            node.start()
        for node in nodes:
            node.wait_ready()
        return nodes

    def wait_connected(self, nodes, timeout=30, what="every node to list the others alive by mdns and exchange"):
        """Waits until every node lists every other one alive (found by mdns) and has exchanged."""
        def connected():
            statuses = [n.status() for n in nodes]
            return all(s is not None and s["exchanges_ok"] > 0 and
                       all(lists_alive(s, other) for other in nodes if other is not node)
                       for node, s in zip(nodes, statuses)) and statuses
        return wait_for(connected, timeout, what)

    def test_four_nodes_find_each_other_by_mdns_and_exchange(self):
        shards, _ = self.make_shards(4)
        nodes = self.start_nodes([f"m{i}" for i in range(4)], "it-disc-find", shards)
        started = time.monotonic()
        statuses = self.wait_connected(nodes)
        print(f"4 nodes connected by mdns {time.monotonic() - started:.2f} s after all were ready")
        for node, status in zip(nodes, statuses):
            self.assertEqual(len(status["peers"]), 3, status["peers"])
            for other in nodes:
                if other is not node:
                    entry = peer_entry(status, other)
                    self.assertEqual(entry["found_by"], ["mdns"], entry)
                    self.assertEqual(entry["id"], other.name, entry)

    def kill_and_restart(self, nodes, source):
        """SIGKILLs the last node: every other one must evict it within EVICTION_LIMIT_S (state dead,
        or gone if mdns was its only source). Restarted on the same port, it must be listed alive
        (found by `source`) by every other one again and exchange with each of them."""
        victim, others = nodes[-1], nodes[:-1]
        static_too = "--peer" in victim.extra
        victim.stop(signal.SIGKILL)
        killed = time.monotonic()

        def evicted(status):
            entry = peer_entry(status, victim)
            return entry["state"] == "dead" if entry is not None else not static_too
        wait_for(lambda: all(evicted(n.status()) for n in others), EVICTION_LIMIT_S,
                 f"{victim.name} to be evicted by every other node", interval=0.05)
        elapsed = time.monotonic() - killed
        print(f"SIGKILLed node evicted by all others after {elapsed:.2f} s (limit {EVICTION_LIMIT_S} s)")
        self.assertLess(elapsed, EVICTION_LIMIT_S)
        before = [(peer_entry(n.status(), victim) or {}).get("exchanges", 0) for n in others]

        victim.start().wait_ready()  # same port, same state dir

        def readmitted_and_exchanging():
            statuses = [n.status() for n in others]
            return ((victim.status() or {}).get("exchanges_ok", 0) > 0 and
                    all(lists_alive(s, victim, source) and peer_entry(s, victim)["exchanges"] > n
                        for s, n in zip(statuses, before)))
        wait_for(readmitted_and_exchanging, 30,
                 f"restarted {victim.name} to be listed alive by every other node and to exchange with each")

    def test_sigkilled_node_is_evicted_then_readmitted(self):
        shards, _ = self.make_shards(4)
        nodes = self.start_nodes([f"k{i}" for i in range(4)], "it-disc-kill", shards)
        self.wait_connected(nodes)
        self.kill_and_restart(nodes, "mdns")

    def test_sigkilled_static_peer_is_declared_dead_by_probes_then_readmitted(self):
        """Its static entry outlives the mDNS goodbye, so only the failure detector can evict it."""
        shards, _ = self.make_shards(3)
        nodes = self.start_nodes([f"d{i}" for i in range(3)], "it-disc-dead", shards, static_peers=True)
        self.wait_connected(nodes)
        self.kill_and_restart(nodes, "static")

    def test_other_cluster_and_other_model_are_never_merged(self):
        shards, _ = self.make_shards(4)
        members = self.start_nodes(["c0", "c1"], "it-disc-merge", shards[:2])
        other_cluster = self.start_nodes(["x-cluster"], "it-disc-merge-other", shards[2:3])[0]
        other_model = self.start_nodes(["x-model"], "it-disc-merge", shards[3:], hidden=48)[0]
        outsiders = [other_cluster, other_model]
        violations = set()

        def check_never_merged():
            """Records any member listing an outsider as alive, and any exchange an outsider made."""
            for member in members:
                status = member.status() or {}
                violations.update(f"{member.name} lists {o.name} alive" for o in outsiders
                                  if lists_alive(status, o, None))
                violations.update(f"{member.name} exchanged with {o.name}" for o in outsiders
                                  if (peer_entry(status, o) or {}).get("exchanges", 0) > 0)
            for outsider in outsiders:
                exchanges = (outsider.status() or {}).get("exchanges_ok", 0)
                if exchanges > 0:
                    violations.add(f"{outsider.name} made {exchanges} exchanges")

        def members_saw_and_skipped_outsiders():
            """Both members exchanged repeatedly and logged skipping both outsiders (or a violation)."""
            check_never_merged()
            if violations:
                return True
            statuses = [m.status() for m in members]
            skipped = all(f"skipping 'gossip-learner {o.name}'" in log_text(m) for m in members for o in outsiders)
            return skipped and all(s is not None and lists_alive(s, other) and peer_entry(s, other)["exchanges"] >= 4
                                   for s, other in zip(statuses, reversed(members)))
        wait_for(members_saw_and_skipped_outsiders, 30,
                 "the members to exchange repeatedly and to log skipping both outsiders")
        check_never_merged()
        self.assertEqual(sorted(violations), [])
        for member in members:
            log = log_text(member)
            self.assertIn("skipping 'gossip-learner x-cluster': cluster 'it-disc-merge-other'", log)
            self.assertIn("skipping 'gossip-learner x-model': signature '", log)

    def test_without_daemon_warns_and_static_peers_still_work(self):
        shards, _ = self.make_shards(2)
        with bus_address(f"unix:path={self.workdir}/no-such-bus-socket"):
            nodes = self.start_nodes(["s0", "s1"], "it-disc-static", shards, static_peers=True)

        def exchanged_statically():
            statuses = [n.status() for n in nodes]
            return all(s is not None and s["exchanges_ok"] > 0 and lists_alive(s, other, "static")
                       for s, other in zip(statuses, reversed(nodes)))
        wait_for(exchanged_statically, 30, "two nodes without a daemon to exchange through static peers")
        for node in nodes:
            self.assertIn("avahi-daemon not reachable: using static peers only", log_text(node))

    def test_daemon_restart_old_nodes_find_each_other_and_a_new_one(self):
        shards, _ = self.make_shards(3)
        old = self.start_nodes(["r0", "r1"], "it-disc-restart", shards[:2])
        self.wait_connected(old)

        res = avahi_tool("stop-avahi")
        self.assertEqual(res.returncode, 0, res.stderr)
        wait_for(lambda: all(peer_entry(n.status(), other) is None for n, other in zip(old, reversed(old))), 15,
                 "the old nodes to drop their mdns peers when the daemon goes")
        res = avahi_tool("start")
        self.assertEqual(res.returncode, 0, res.stderr)

        new = self.start_nodes(["r2"], "it-disc-restart", shards[2:])
        self.wait_connected(old + new, what="old nodes and one started after the daemon restart to find each other")
        for node in old:
            self.assertIn("avahi-daemon connection lost", log_text(node))


if __name__ == "__main__":
    unittest.main(verbosity=2)
