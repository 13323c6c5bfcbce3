"""Node-level discovery with a real avahi-daemon and real node processes.

The file runs its own private D-Bus bus + avahi-daemon (tools/avahi-test-daemon with its
own AVAHI_TEST_DIR / netns / host name), so restarting that daemon (test 5) never disturbs
a daemon somebody else started (e.g. tools/test's), and stops only that instance. Every
test uses its own --cluster name. Without root, or when the daemon cannot be started,
every test skips with the reason. Eviction is "state dead, or gone from the peer table":
on one daemon a SIGKILLed node's service is withdrawn (goodbye) ~1 s later, which removes
its mdns-only entry before the failure detector would declare it dead. The multi-host case
(simulated hosts on a bridge, each with its own daemon; a crashed host sends no goodbye) runs
its nodes through bench/discovery_cluster/in-host.
"""
import contextlib
import os
import shutil
import signal
import subprocess
import time
import unittest
from unittest import mock

import harness
from harness import ClusterTestCase, wait_for

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
AVAHI_TOOL = os.path.join(ROOT, "tools", "avahi-test-daemon")
IN_HOST = os.path.join(ROOT, "bench", "discovery_cluster", "in-host")
INSTANCE = f"glit{os.getpid()}"
AVAHI_ENV = {"AVAHI_TEST_DIR": f"/tmp/gl-avahi-{INSTANCE}", "AVAHI_TEST_NETNS": f"gl-avahi-{INSTANCE}",
             "AVAHI_TEST_HOSTNAME": INSTANCE}
COMMON = ["--gossip-interval-s", "0.5", "--eval-interval-s", "0", "--checkpoint-interval-s", "0"]
EVICTION_LIMIT_S = 10


def lan_host(i):
    """The tools/avahi-test-daemon instance of simulated host i (192.0.2.i+1 on this file's bridge)."""
    name = f"{INSTANCE}h{i}"
    return {"AVAHI_TEST_DIR": f"/tmp/gl-avahi-{name}", "AVAHI_TEST_NETNS": name, "AVAHI_TEST_HOSTNAME": name,
            "AVAHI_TEST_LAN": f"{INSTANCE}lan", "AVAHI_TEST_ADDR": f"192.0.2.{i + 1}/24"}


def avahi_tool(action, instance=AVAHI_ENV):
    """Runs tools/avahi-test-daemon ACTION on one of this file's private instances; returns the result."""
    return subprocess.run([AVAHI_TOOL, action], env={**os.environ, **instance}, capture_output=True, text=True,
                          timeout=60)


def remove_instance(instance):
    avahi_tool("stop", instance)
    shutil.rmtree(instance["AVAHI_TEST_DIR"], ignore_errors=True)


def bus_of(instance):
    return f"unix:path={instance['AVAHI_TEST_DIR']}/run/system_bus_socket"


@contextlib.contextmanager
def environment(**values):
    """Node processes started inside the block get these environment variables."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


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
        cls.bus = environment(DBUS_SYSTEM_BUS_ADDRESS=bus_of(AVAHI_ENV))
        cls.bus.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.bus.__exit__(None, None, None)
        remove_instance(AVAHI_ENV)

    def start_nodes(self, names, cluster, shards, hidden=32, static_peers=False):
        """Starts one node per name and shard, discovering by mdns (and, with static_peers, given
        every other one as a static peer too), and waits until each answers its status socket."""
        args = COMMON + ["--hidden", str(hidden), "--discovery", "both" if static_peers else "mdns",
                         "--cluster", cluster]
        nodes = [self.add_node(name, shard, args) for name, shard in zip(names, shards)]
        if static_peers:
            for node in nodes:
                node.extra += sum((["--peers", other.address] for other in nodes if other is not node), [])
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

    def test_txt_record_names_the_wire_version_and_the_role(self):
        """Peers filter on TXT "proto" and follow a coordinator by TXT "role": both must be what the
        node speaks and is, as the daemon itself serves them (avahi-browse, not our own resolver)."""
        shards, _ = self.make_shards(2)
        coordinator = self.add_node("t-coord", shards[0], COMMON + ["--discovery", "mdns", "--cluster", "it-disc-txt",
                                                                    "--role", "coordinator", "--min-nodes", "2"])
        node = self.add_node("t-node", shards[1], COMMON + ["--discovery", "mdns", "--cluster", "it-disc-txt"])
        for n in (coordinator, node):
            n.start()
            n.wait_ready()

        def published():
            """{node id: TXT dict} of this test's services, once both have resolved."""
            out = subprocess.run(["avahi-browse", "--resolve", "--parsable", "--terminate", "_gossip-learner._tcp"],
                                 capture_output=True, text=True, timeout=30).stdout
            txts = {}
            for line in out.splitlines():
                fields = line.split(";")
                if fields[0] != "=" or len(fields) < 10:
                    continue
                txt = dict(item.strip('"').split("=", 1) for item in fields[9].split('" "') if "=" in item)
                if txt.get("cluster") == "it-disc-txt":
                    txts[txt.get("id")] = txt
            return txts if {"t-coord", "t-node"} <= txts.keys() else None
        txts = wait_for(published, 20, "avahi-browse to resolve both services of cluster it-disc-txt")
        self.assertEqual(txts["t-coord"]["proto"], "2", txts)  # gossip::kProtocolVersion
        self.assertEqual(txts["t-node"]["proto"], "2", txts)
        self.assertEqual(txts["t-coord"]["role"], "coordinator", txts)
        self.assertEqual(txts["t-node"]["role"], "node", txts)
        # "sig" is compared verbatim by peers: the published hash of the signature must not change
        # between builds (FNV-1a 64 from the seed earlier builds used, first 12 hex digits).
        h = 1469598103934665603
        for byte in coordinator.status()["signature"].encode():
            h = ((h ^ byte) * 1099511628211) % 2**64
        self.assertEqual(txts["t-coord"]["sig"], f"{h:016x}"[:12], txts)

    def kill_and_restart(self, nodes, source, stays_listed, crash=None, restart=None):
        """Crashes the last node (default: SIGKILL): every other one must evict it within
        EVICTION_LIMIT_S (state dead; or gone, unless stays_listed). Restarted (default: same
        port, same state dir), it must be listed alive (found by `source`) by every other one
        again and exchange with each of them."""
        victim, others = nodes[-1], nodes[:-1]
        killed = time.monotonic()
        (crash or (lambda: victim.stop(signal.SIGKILL)))()

        def evicted(status):
            entry = peer_entry(status, victim)
            return entry["state"] == "dead" if entry is not None else not stays_listed
        wait_for(lambda: all(evicted(n.status()) for n in others), EVICTION_LIMIT_S,
                 f"{victim.name} to be evicted by every other node", interval=0.05)
        elapsed = time.monotonic() - killed
        print(f"crashed node evicted by all others after {elapsed:.2f} s (limit {EVICTION_LIMIT_S} s)")
        self.assertLess(elapsed, EVICTION_LIMIT_S)
        before = [(peer_entry(n.status(), victim) or {}).get("exchanges", 0) for n in others]

        (restart or victim.start)()
        victim.wait_ready()

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
        self.kill_and_restart(nodes, "mdns", stays_listed=False)

    def test_sigkilled_static_peer_is_declared_dead_by_probes_then_readmitted(self):
        """Its static entry outlives the mDNS goodbye, so only the failure detector can evict it."""
        shards, _ = self.make_shards(3)
        nodes = self.start_nodes([f"d{i}" for i in range(3)], "it-disc-dead", shards, static_peers=True)
        self.wait_connected(nodes)
        self.kill_and_restart(nodes, "static", stays_listed=True)

    def start_on_host(self, node, host):
        """Starts `node` inside simulated host `host` (its netns, its avahi-daemon)."""
        with environment(DBUS_SYSTEM_BUS_ADDRESS=bus_of(host), GL_HOST_NETNS=host["AVAHI_TEST_NETNS"],
                         GL_REAL_BIN=os.path.abspath(harness.BIN)), mock.patch.object(harness, "BIN", IN_HOST):
            node.start()

    def test_crashed_host_on_a_lan_is_declared_dead_then_readmitted(self):
        """Multi-host variant (closer to real Pis): 3 simulated hosts, each its own netns on a
        bridge with its own avahi-daemon, real mDNS between them. A host crash (link down, then
        daemon and node SIGKILLed) sends no goodbye and the others' mDNS caches keep its service,
        so only the failure detector evicts it; restarted, its new announcement re-admits it."""
        hosts = [lan_host(i) for i in range(3)]
        for host in hosts:
            self.addCleanup(remove_instance, host)
            res = avahi_tool("start", host)
            self.assertEqual(res.returncode, 0, res.stderr)
        shards, _ = self.make_shards(3)
        args = COMMON + ["--hidden", "32", "--discovery", "mdns", "--cluster", "it-disc-lan"]
        nodes = [self.add_node(f"h{i}", shards[i], args) for i in range(3)]
        for i, (node, host) in enumerate(zip(nodes, hosts)):
            node.address = f"192.0.2.{i + 1}:{node.port}"
            self.start_on_host(node, host)
        for node in nodes:
            node.wait_ready()
        self.wait_connected(nodes)
        victim, crashed = nodes[-1], hosts[-1]

        def crash_host():
            subprocess.run(["ip", "-n", crashed["AVAHI_TEST_NETNS"], "link", "set", "eth0", "down"], check=True)
            with open(os.path.join(crashed["AVAHI_TEST_DIR"], "avahi-run", "pid")) as f:
                os.kill(int(f.read().strip()), signal.SIGKILL)
            victim.stop(signal.SIGKILL)

        def restart_host():
            subprocess.run(["ip", "-n", crashed["AVAHI_TEST_NETNS"], "link", "set", "eth0", "up"], check=True)
            self.assertEqual(avahi_tool("start", crashed).returncode, 0)
            self.start_on_host(victim, crashed)
        self.kill_and_restart(nodes, "mdns", stays_listed=True, crash=crash_host, restart=restart_host)

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
        with environment(DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={self.workdir}/no-such-bus-socket"):
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
