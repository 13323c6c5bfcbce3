#!/usr/bin/env python3
"""Discovery timings of issue 4 with real avahi-daemons and real node processes (stdlib only).

  bench/discovery_cluster/run.py [--nodes 8] [--repeats 5] [--mode single|hosts]

N-1 nodes run (mdns discovery only, LAN-default gossip and probe settings, --hidden 32);
then, --repeats times, a new node joins and is killed again:
  (a) join:  from starting the new node's process until every other node lists it alive,
             found by mdns.                                     Target <= 2 s.
  (b) evict: from the kill until every other node lists it dead or no longer lists it.
                                                                Target <= 5 s.
--mode single: one private avahi-daemon for every node (loopback). The kill is a SIGKILL of
  the node process; the daemon then withdraws its service (~1 s, goodbye): the mDNS path.
--mode hosts (closer to real Pis): every node is a simulated host: its own network
  namespace on a bridge (192.0.2.0/24, exists only inside the namespaces) with its own
  avahi-daemon (tools/avahi-test-daemon multi-host mode). The kill is a host crash: node and
  avahi-daemon SIGKILLed and the host's link taken down, so there is no goodbye and the
  others' mDNS caches keep the service: eviction is the gossip failure detector's alone.
Needs root. Status sockets are polled every --poll s; figures are rounded up to that.
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
os.environ.setdefault("GL_BIN", os.path.join(ROOT, "build", "gossip-learner"))
import harness  # noqa: E402  (NodeProcess, free_ports, wait_for)

AVAHI_TOOL = os.path.join(ROOT, "tools", "avahi-test-daemon")
IN_HOST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "in-host")
TAG = f"dcb{os.getpid()}"  # names this run's daemons, namespaces and bridge
JOIN_TARGET_S, EVICT_TARGET_S = 2.0, 5.0


def avahi_tool(action, instance):
    res = subprocess.run([AVAHI_TOOL, action], env={**os.environ, **instance}, capture_output=True, text=True,
                         timeout=60)
    if res.returncode != 0:
        raise RuntimeError(f"avahi-test-daemon {action} ({instance['AVAHI_TEST_NETNS']}): {res.stderr.strip()}")


def bus_of(instance):
    return f"unix:path={instance['AVAHI_TEST_DIR']}/run/system_bus_socket"


class SingleDaemon:
    """Every node on loopback, one private avahi-daemon; a crash is a SIGKILL of the node."""

    def __init__(self, hosts):
        self.instance = {"AVAHI_TEST_DIR": f"/tmp/gl-avahi-{TAG}", "AVAHI_TEST_NETNS": f"gl-avahi-{TAG}",
                         "AVAHI_TEST_HOSTNAME": TAG}

    def up(self):
        avahi_tool("start", self.instance)

    def down(self):
        avahi_tool("stop", self.instance)
        shutil.rmtree(self.instance["AVAHI_TEST_DIR"], ignore_errors=True)

    def place(self, host):
        """(listen address, environment) for a node process on simulated host `host`."""
        return f"127.0.0.1:{harness.free_ports(1)[0]}", {"DBUS_SYSTEM_BUS_ADDRESS": bus_of(self.instance)}

    def crash(self, host, node):
        node.stop(signal.SIGKILL)

    def revive(self, host):
        pass


class SimulatedHosts:
    """One network namespace + avahi-daemon per host on a shared bridge; a crash takes the host down."""

    def __init__(self, hosts):
        self.instances = [{"AVAHI_TEST_DIR": f"/tmp/gl-avahi-{TAG}h{i}", "AVAHI_TEST_NETNS": f"{TAG}h{i}",
                           "AVAHI_TEST_HOSTNAME": f"{TAG}h{i}", "AVAHI_TEST_LAN": f"{TAG}lan",
                           "AVAHI_TEST_ADDR": f"192.0.2.{i + 1}/24"} for i in range(hosts)]
        self.next_port = 7100

    def up(self):
        for instance in self.instances:
            avahi_tool("start", instance)

    def down(self):
        for instance in self.instances:
            avahi_tool("stop", instance)
            shutil.rmtree(instance["AVAHI_TEST_DIR"], ignore_errors=True)

    def place(self, host):
        self.next_port += 1  # a new node is a new peer, even on a host that crashed before
        instance = self.instances[host]
        return (f"192.0.2.{host + 1}:{self.next_port}",
                {"DBUS_SYSTEM_BUS_ADDRESS": bus_of(instance), "GL_HOST_NETNS": instance["AVAHI_TEST_NETNS"]})

    def crash(self, host, node):
        instance = self.instances[host]  # link first: not even a goodbye may leave the host
        subprocess.run(["ip", "-n", instance["AVAHI_TEST_NETNS"], "link", "set", "eth0", "down"], check=True)
        with open(os.path.join(instance["AVAHI_TEST_DIR"], "avahi-run", "pid")) as f:
            os.kill(int(f.read().strip()), signal.SIGKILL)
        node.stop(signal.SIGKILL)

    def revive(self, host):
        instance = self.instances[host]
        subprocess.run(["ip", "-n", instance["AVAHI_TEST_NETNS"], "link", "set", "eth0", "up"], check=True)
        avahi_tool("start", instance)


class Cluster:
    """Node processes placed on a topology's hosts."""

    def __init__(self, topology, workdir, shard, common):
        self.topology, self.workdir, self.shard, self.common = topology, workdir, shard, common
        self.nodes = []

    def kill_all(self):
        for node in self.nodes:
            if node.alive():
                node.stop(signal.SIGKILL)

    def start(self, name, host):
        listen, env = self.topology.place(host)
        node = harness.NodeProcess(self.workdir, name, int(listen.rsplit(":", 1)[1]), self.shard, self.common)
        node.address = listen
        self.nodes.append(node)
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)  # inherited by the node process (and, in hosts mode, by in-host)
        try:
            return node.start()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k)
                else:
                    os.environ[k] = v


def listed(status, node):
    return next((p for p in (status or {}).get("peers", []) if p["address"] == node.address), None)


def alive_by_mdns(status, node):
    entry = listed(status, node)
    return entry is not None and entry["state"] == "alive" and "mdns" in entry["found_by"]


def timed(since, condition, timeout, what, poll):
    """Seconds from `since` until condition() first holds (polled every `poll` s)."""
    harness.wait_for(condition, timeout, what, interval=poll)
    return time.monotonic() - since


def run(args, cluster):
    topology = cluster.topology
    stable = [cluster.start(f"s{i}", i) for i in range(args.nodes - 1)]
    for node in stable:
        node.wait_ready()
    harness.wait_for(lambda: all(alive_by_mdns(n.status(), o) for n in stable for o in stable if o is not n), 60,
                     "the first nodes to find each other")
    joiner_host = args.nodes - 1
    joins, evictions = [], []
    for r in range(args.repeats):
        started = time.monotonic()
        joiner = cluster.start(f"j{r}", joiner_host)
        joins.append(timed(started, lambda: all(alive_by_mdns(n.status(), joiner) for n in stable), 30,
                           f"every node to list j{r} alive", args.poll))
        harness.wait_for(lambda: all(alive_by_mdns(joiner.status(), n) for n in stable), 30,
                         f"j{r} to list every node alive")
        killed = time.monotonic()
        topology.crash(joiner_host, joiner)
        evictions.append(timed(killed, lambda: all((listed(s, joiner) or {"state": "dead"})["state"] == "dead"
                                                   for s in (n.status() for n in stable)),
                               60, f"every node to evict j{r}", args.poll))
        print(f"repeat {r + 1}: join {joins[-1]:.2f} s, evict {evictions[-1]:.2f} s", flush=True)
        topology.revive(joiner_host)
    return joins, evictions


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nodes", type=int, default=8, help="nodes incl. the joining one (4-8 in the issue)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--mode", choices=["single", "hosts"], default="hosts")
    p.add_argument("--poll", type=float, default=0.05, help="status polling interval, s")
    p.add_argument("--keep-logs", action="store_true", help="keep the nodes' logs (the work dir is printed)")
    args = p.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces for the avahi-daemons)")
    workdir = tempfile.mkdtemp(prefix="gl-bench-disc-")
    subprocess.run([harness.BIN, "split", "--data", harness.DATA, "--nodes", "1", "--out", workdir], check=True,
                   capture_output=True)
    if args.mode == "hosts":
        harness.BIN, os.environ["GL_REAL_BIN"] = IN_HOST, os.path.abspath(harness.BIN)
    topology = (SimulatedHosts if args.mode == "hosts" else SingleDaemon)(args.nodes)
    common = ["--hidden", "32", "--discovery", "mdns", "--cluster", TAG, "--eval-interval-s", "0",
              "--checkpoint-interval-s", "0"]
    cluster = Cluster(topology, workdir, os.path.join(workdir, "node-0.tsv"), common)
    try:
        topology.up()
        joins, evictions = run(args, cluster)
    finally:
        cluster.kill_all()
        topology.down()
        if args.keep_logs:
            print(f"node logs in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{args.mode} mode, {args.nodes} nodes, {args.repeats} repeats, polled every {args.poll * 1000:.0f} ms")
    for name, values, target in [("(a) join  ", joins, JOIN_TARGET_S), ("(b) evict ", evictions, EVICT_TARGET_S)]:
        print(f"{name} median {statistics.median(values):.2f} s  max {max(values):.2f} s   target <= {target:.0f} s  "
              f"{'MET' if max(values) <= target else 'MISSED'}   all: {' '.join(f'{v:.2f}' for v in values)}")


if __name__ == "__main__":
    main()
