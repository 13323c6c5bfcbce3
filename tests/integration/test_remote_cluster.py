"""tools/cluster's remote mode on simulated hosts: up, mDNS, learning, status, collect, down over SSH.

Each simulated host is a network namespace on a bridge (198.51.100.0/24, TEST-NET-2, which
exists only inside these namespaces) with its own D-Bus + avahi-daemon
(tools/avahi-test-daemon's multi-host mode), its own sshd (host key and authorised key made
here; sshd's SetEnv hands its sessions the host's bus address) and its link capped by tc tbf
at 20 Mbit/s each way. The launcher runs from one more namespace on the bridge, so only
addresses inside these namespaces are ever contacted. Besides three good hosts the hosts
file lists one whose port is taken, one that reports another architecture and one that
refuses SSH: each is reported, and the others go on. Skips with the reason where root,
namespaces, sshd or avahi are missing. The namespaces share this machine's file system, so
the three nodes run with --install binary (three package installs would be one); RemoteDebTest
runs --install deb on a single host, with a stand-in for systemctl (systemd is not PID 1 here).
Figures (up time, time to see peers, bytes per minute, failures) are printed for bench/RESULTS.md.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from harness import BIN, DATA, wait_for

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CLUSTER = os.path.join(ROOT, "tools", "cluster")
AVAHI_TOOL = os.path.join(ROOT, "tools", "avahi-test-daemon")
PREFIX = "gldeploy"          # every namespace, folder and host name of this test
LAN = f"{PREFIX}-lan"         # the bridge's namespace
CONTROL = f"{PREFIX}-ctl"     # the launcher's namespace
SUBNET = "198.51.100"
PORT = 26070
GOOD, PORT_TAKEN, OTHER_ARCH = 3, 3, 4  # hosts 0-2 good; host 3 port taken; host 4 "riscv64"
HOSTS = 5
RATE = "20mbit"
LEARN_TARGET = 0.60


def host_ns(i):
    return f"{PREFIX}-h{i}"


def address(i):
    return f"{SUBNET}.{10 + i}"


def run(cmd, check=True, timeout=60, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({res.returncode}): {res.stderr.strip()}")
    return res


def netns_pids(ns):
    res = run(["ip", "netns", "pids", ns], check=False)
    return [int(p) for p in res.stdout.split()] if res.returncode == 0 else []


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def discovery_delay(log):
    """Seconds from a node's "listening on" log line to the last of its peers "added (mdns)"."""
    def seconds(line):
        h, m, sec = line.split()[0].split(":")
        return 3600 * int(h) + 60 * int(m) + float(sec)
    lines = log.splitlines()
    start = next(seconds(line) for line in lines if "listening on" in line)
    added = {line.split(" peer ", 1)[1].split()[0]: seconds(line) for line in reversed(lines)
             if " peer " in line and "added (mdns)" in line}
    if len(added) < GOOD - 1:
        raise AssertionError(f"the log shows {len(added)} peer(s) found by mDNS:\n{log[-2000:]}")
    return max(added.values()) - start


def why_not_runnable():
    if os.geteuid() != 0:
        return "needs root (network namespaces, sshd, avahi-daemon)"
    for tool in ("ip", "tc", "sshd", "ssh", "ssh-keygen", "avahi-daemon", "dbus-daemon"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            return f"missing {tool} (tools/install-deps)"
    probe = f"{PREFIX}-probe{os.getpid()}"
    if run(["ip", "netns", "add", probe], check=False).returncode != 0:
        return "cannot create network namespaces here"
    run(["ip", "netns", "del", probe], check=False)
    return None


class SimulatedHosts:
    """The namespaces, daemons and ssh client files; stop() removes every one of them."""

    def __init__(self, count, port_taken=None, commands=None):
        """`count` hosts; on host `port_taken` something listens on PORT; commands[i] = {name: sh script}
        puts stand-in commands first on host i's PATH."""
        self.count, self.port_taken, self.commands = count, port_taken, commands or {}
        self.dir = tempfile.mkdtemp(prefix=f"{PREFIX}-remote-")
        self.listener = None
        self.sshd_pidfiles = []

    def avahi_env(self, i):
        return {**os.environ, "AVAHI_TEST_DIR": f"{self.dir}/avahi-{i}", "AVAHI_TEST_NETNS": host_ns(i),
                "AVAHI_TEST_HOSTNAME": host_ns(i), "AVAHI_TEST_LAN": LAN, "AVAHI_TEST_ADDR": f"{address(i)}/24"}

    def start(self):
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{self.dir}/id"])
        os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation folder
        known, config = [], ["Host *", "  User root", f"  IdentityFile {self.dir}/id", "  IdentitiesOnly yes",
                             f"  UserKnownHostsFile {self.dir}/known_hosts", "  GlobalKnownHostsFile /dev/null",
                             "  StrictHostKeyChecking yes", "  LogLevel ERROR"]
        for i in range(self.count):
            run([AVAHI_TOOL, "start"], env=self.avahi_env(i), timeout=90)
            for dev_ns, dev in ((host_ns(i), "eth0"), (LAN, f"v-{host_ns(i)}"[:15])):
                run(["tc", "-n", dev_ns, "qdisc", "replace", "dev", dev, "root", "tbf", "rate", RATE,
                     "burst", "32kb", "latency", "50ms"])
            known.append(self.start_sshd(i))
            config += [f"Host pi{i}", f"  HostName {address(i)}"]
        config += ["Host pi-refuses", f"  HostName {address(0)}", "  Port 2200"]
        with open(f"{self.dir}/known_hosts", "w") as f:
            f.write("".join(known))
        with open(f"{self.dir}/ssh_config", "w") as f:
            f.write("\n".join(config) + "\n")
        run(["ip", "netns", "add", CONTROL])
        run(["ip", "-n", CONTROL, "link", "add", "eth0", "type", "veth", "peer", "name", "v-ctl", "netns", LAN])
        run(["ip", "-n", LAN, "link", "set", "v-ctl", "master", "br0", "up"])
        run(["ip", "-n", CONTROL, "addr", "add", f"{SUBNET}.2/24", "dev", "eth0"])
        run(["ip", "-n", CONTROL, "link", "set", "eth0", "up"])
        run(["ip", "-n", CONTROL, "link", "set", "lo", "up"])
        if self.port_taken is not None:
            self.listener = subprocess.Popen(
                ["ip", "netns", "exec", host_ns(self.port_taken), sys.executable, "-c",
                 f"import socket,time; s=socket.socket(); s.bind(('0.0.0.0',{PORT})); s.listen(); time.sleep(600)"])
        with open(f"{self.dir}/hosts", "w") as f:
            f.write("# simulated Pis (tests/integration/test_remote_cluster.py)\n")
            for i in range(self.count):
                f.write(f"pi{i} {self.remote_dir(i)}   # host {i}\n")
            f.write(f"pi-refuses {self.dir}/refuses\n")

    def remote_dir(self, i):
        return f"{self.dir}/host-{i}/gossip-learner"

    def start_sshd(self, i):
        d = f"{self.dir}/sshd-{i}"
        os.makedirs(d)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{d}/host_key"])
        shutil.copy(f"{self.dir}/id.pub", f"{d}/authorized_keys")
        env = f"DBUS_SYSTEM_BUS_ADDRESS=unix:path={self.dir}/avahi-{i}/run/system_bus_socket"
        if i in self.commands:
            os.makedirs(f"{d}/bin")
            for name, script in self.commands[i].items():
                with open(f"{d}/bin/{name}", "w") as f:
                    f.write("#!/bin/sh\n" + script.format(dir=d))
                os.chmod(f"{d}/bin/{name}", 0o755)
            env += f" PATH={d}/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        with open(f"{d}/sshd_config", "w") as f:
            f.write(f"ListenAddress {address(i)}\nPort 22\nHostKey {d}/host_key\nPidFile {d}/pid\n"
                    f"AuthorizedKeysFile {d}/authorized_keys\nPermitRootLogin prohibit-password\n"
                    "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
                    f"UseDNS no\nPrintMotd no\nSetEnv {env}\n")
        run(["ip", "netns", "exec", host_ns(i), "/usr/sbin/sshd", "-f", f"{d}/sshd_config", "-E", f"{d}/log"])
        self.sshd_pidfiles.append(f"{d}/pid")
        with open(f"{d}/host_key.pub") as f:
            return f"{address(i)} {f.read()}"

    def stop(self):
        for i in range(self.count):  # nodes a failed test left behind, then the host's daemons
            for pid in netns_pids(host_ns(i)):
                if comm(pid) == "gossip-learner":
                    os.kill(pid, signal.SIGKILL)
        if self.listener:
            self.listener.kill()
            self.listener.wait()
        for pidfile in self.sshd_pidfiles:
            try:
                with open(pidfile) as f:
                    os.kill(int(f.read()), signal.SIGTERM)
            except (OSError, ValueError):
                pass
        run(["ip", "netns", "del", CONTROL], check=False)
        for i in range(self.count):
            run([AVAHI_TOOL, "stop"], env=self.avahi_env(i), check=False, timeout=90)
        # the bridge's namespace: avahi-test-daemon keeps it while a port (the launcher's veth, which
        # the kernel removes asynchronously) is left on it
        run(["ip", "netns", "del", LAN], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


class SimulatedHostsTestCase(unittest.TestCase):
    """Starts make_hosts() once for the class and drives tools/cluster from the launcher's namespace."""

    @classmethod
    def make_hosts(cls):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        reason = why_not_runnable()
        if reason:
            raise unittest.SkipTest(reason)
        cls.hosts = cls.make_hosts()
        try:
            cls.hosts.start()
        except Exception:
            cls.hosts.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.hosts.stop()

    def launcher(self, *args, check_rc=0, timeout=180):
        """tools/cluster ARGS --hosts ... run from the launcher's namespace."""
        h = self.hosts
        verb, rest = args[0], list(args[1:])
        extra = []
        if "--" in rest:
            extra = rest[rest.index("--"):]
            rest = rest[:rest.index("--")]
        cmd = ["ip", "netns", "exec", CONTROL, sys.executable, CLUSTER, verb, *rest, "--hosts", f"{h.dir}/hosts",
               "--ssh-config", f"{h.dir}/ssh_config", "--dir", f"{h.dir}/launcher", *extra]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                             env={**os.environ, "GL_BIN": BIN})
        if check_rc is not None:
            self.assertEqual(res.returncode, check_rc, f"tools/cluster {verb}:\n{res.stdout}\n{res.stderr}")
        return res

    def statuses(self):
        res = self.launcher("status", "--json", check_rc=None)
        return json.loads(res.stdout) if res.stdout.strip() else {}


class RemoteClusterTest(SimulatedHostsTestCase):
    @classmethod
    def make_hosts(cls):
        return SimulatedHosts(HOSTS, port_taken=PORT_TAKEN, commands={OTHER_ARCH: {"dpkg": "echo riscv64\n"}})

    def test_up_learn_status_collect_down(self):
        h = self.hosts
        started = time.monotonic()
        up = self.launcher("up", "--install", "binary", "--binary", BIN, "--data", DATA, "--port", str(PORT),
                           "--cluster", f"{PREFIX}{os.getpid()}", "--", "--gossip-interval-s", "1",
                           "--eval-interval-s", "5", "--checkpoint-interval-s", "5", check_rc=1)
        up_s = time.monotonic() - started
        self.assertIn(f"3 of {HOSTS + 1} node(s) up", up.stdout, up.stdout + up.stderr)
        self.assertRegex(up.stderr, rf"node-{PORT_TAKEN} \(pi{PORT_TAKEN}\): check failed: port {PORT} taken")
        self.assertRegex(up.stderr, rf"node-{OTHER_ARCH} \(pi{OTHER_ARCH}\): check failed: wrong architecture: "
                                    "the host is riscv64")
        self.assertRegex(up.stderr, r"node-5 \(pi-refuses\): check failed: unreachable over ssh: .*refused")
        self.assertLessEqual(up_s, 60, "up took longer than 60 s")
        self.assertFalse(os.path.exists(f"{h.dir}/refuses"), "a folder was made on a host that failed")

        # every node sees the two others through mDNS (how soon: from the logs, after collect)
        def all_found():
            s = self.statuses()
            ok = len(s) == GOOD and all(
                v and sum(1 for p in v["peers"] if "mdns" in p["found_by"] and p["state"] == "alive") == GOOD - 1
                for v in s.values())
            return s if ok else None
        wait_for(all_found, 30, "every node to find the others by mDNS", interval=0.2)

        evicted = set()

        def learned():
            s = self.statuses()
            for name, v in s.items():
                evicted.update(f"{name}->{p['id']}" for p in (v or {}).get("peers", []) if p["state"] != "alive")
            ok = len(s) == GOOD and all(v and v["validation"] and v["validation"]["accuracy"] >= LEARN_TARGET
                                        for v in s.values())
            return s if ok else None
        wait_for(learned, 150, f"every node's validation accuracy to pass {LEARN_TARGET:.0%}", interval=2)
        # 45 s or more on the capped links, for the traffic rate; peers must stay alive throughout
        final = wait_for(lambda: (lambda s: s if learned() and min(v["uptime_s"] for v in s.values()) >= 45
                                  else None)(self.statuses()), 90, "45 s of gossip", interval=3)
        self.assertEqual(evicted, set(), "a live peer was declared suspect or dead on the capped links")

        table = self.launcher("status").stdout
        for i in range(GOOD):
            self.assertRegex(table, rf"node-{i}\s+pi{i}\s")
        watched = self.launcher("watch", "--seconds", "0").stdout
        self.assertRegex(watched, r"^-- \d\d:\d\d:\d\d\n")
        self.assertEqual(watched.count("node-"), GOOD)
        self.assertIn("listening on", self.launcher("logs", "1", "-n", "1000").stdout)

        seen_s = {}
        out = os.path.join(h.dir, "collected")
        collect = self.launcher("collect", "--out", out)
        self.assertIn(f"collected {GOOD} of {GOOD}", collect.stdout)
        for i in range(GOOD):
            node = os.path.join(out, f"node-{i}")
            for name in ("model.bin", "model.ckpt"):
                self.assertGreater(os.path.getsize(os.path.join(node, name)), 1000)
            with open(os.path.join(node, "status.json")) as f:
                self.assertEqual(json.load(f)["id"], f"node-{i}")
            with open(os.path.join(node, "log"), errors="replace") as f:
                seen_s[f"node-{i}"] = discovery_delay(f.read())
        eval_file = os.path.join(h.dir, "launcher", "data", "eval.tsv")
        scored = run([BIN, "eval", "--model", os.path.join(out, "node-0", "model.bin"), "--data", eval_file, "--json"])
        self.assertGreater(json.loads(scored.stdout)["accuracy"], 0.5)

        down = self.launcher("down")
        self.assertIn(f"{GOOD} of {GOOD} node(s) down", down.stdout)
        left = [(host_ns(i), pid) for i in range(HOSTS) for pid in netns_pids(host_ns(i))
                if comm(pid) == "gossip-learner"]
        self.assertEqual(left, [], "node processes left after down")
        self.assertIn("node-0 (pi0): not running", self.launcher("down").stdout)  # twice: harmless
        after = os.path.join(h.dir, "collected-after-down")  # the final checkpoints and last statuses
        self.assertIn(f"collected {GOOD} of {GOOD}", self.launcher("collect", "--out", after).stdout)
        with open(os.path.join(after, "node-1", "status.json")) as f:
            self.assertGreaterEqual(json.load(f)["validation"]["accuracy"], LEARN_TARGET)

        nodes = sorted(final.items())
        sent = ", ".join(f"{n} {60 * v['bytes_sent'] / v['uptime_s'] / 1e6:.1f}" for n, v in nodes)
        exchanges = ", ".join(f"{n} {v['exchanges_ok']}/{v['exchanges_failed']}" for n, v in nodes)
        accuracy = ", ".join(f"{n} {v['validation']['accuracy']:.3f}" for n, v in nodes)
        seen = ", ".join(f"{n} {t:.2f}" for n, t in sorted(seen_s.items()))
        print(f"FIGURES up {up_s:.1f} s; both peers found by mDNS, seconds after node start: {seen}; "
              f"sent per node per minute (MB): {sent}; exchanges ok/failed: {exchanges}; validation: {accuracy} "
              f"after {max(v['uptime_s'] for _, v in nodes):.0f} s")
        self.assertLessEqual(max(seen_s.values()), 5.0, "a node took more than 5 s to see the others by mDNS")

    def test_bad_host_file_names_the_line(self):
        bad = os.path.join(self.hosts.dir, "bad-hosts")
        with open(bad, "w") as f:
            f.write("# fine\npi0 /srv/gl\npi1 /srv/gl extra-field\n")
        res = subprocess.run([sys.executable, CLUSTER, "status", "--hosts", bad], capture_output=True, text=True,
                             timeout=30)
        self.assertEqual(res.returncode, 2)
        self.assertIn(f"{bad}:3:", res.stderr)
        self.assertIn("expected 'DESTINATION [REMOTE_DIR]'", res.stderr)

    def test_foreign_folders_are_never_taken_over(self):
        h = self.hosts
        foreign_local = os.path.join(h.dir, "users-own-folder")
        os.makedirs(foreign_local)
        with open(os.path.join(foreign_local, "precious"), "w") as f:
            f.write("mine")
        res = subprocess.run(["ip", "netns", "exec", CONTROL, sys.executable, CLUSTER, "up", "--hosts",
                              f"{h.dir}/hosts", "--ssh-config", f"{h.dir}/ssh_config", "--dir", foreign_local],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 1)
        self.assertIn("was not made by tools/cluster", res.stderr)
        self.assertEqual(os.listdir(foreign_local), ["precious"])

        foreign_remote = os.path.join(h.dir, "host-0-foreign")
        os.makedirs(foreign_remote)
        with open(os.path.join(foreign_remote, "precious"), "w") as f:
            f.write("mine")
        hosts = os.path.join(h.dir, "hosts-foreign")
        with open(hosts, "w") as f:
            f.write(f"pi0 {foreign_remote}\n")
        res = subprocess.run(["ip", "netns", "exec", CONTROL, sys.executable, CLUSTER, "up", "--hosts", hosts,
                              "--ssh-config", f"{h.dir}/ssh_config", "--dir", os.path.join(h.dir, "launcher-foreign"),
                              "--binary", BIN, "--port", str(PORT + 1)],
                             capture_output=True, text=True, timeout=60, env={**os.environ, "GL_BIN": BIN})
        self.assertEqual(res.returncode, 1)
        self.assertIn("exists and was not made by tools/cluster", res.stderr)
        self.assertEqual(os.listdir(foreign_remote), ["precious"])


# systemd is not PID 1 here: the stand-in does what the unit asks (its user, UMask, RuntimeDirectory)
SYSTEMCTL = r"""case "$1" in
  restart) install -d -o gossip-learner -g gossip-learner -m 750 /run/gossip-learner
    cmd=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/gossip-learner.service)
    setpriv --reuid=gossip-learner --regid=gossip-learner --init-groups sh -c "umask 0007 && exec $cmd" \
      >{dir}/service.log 2>&1 </dev/null &
    echo $! >{dir}/service.pid ;;
  disable) p=$(cat {dir}/service.pid); kill "$p"; while kill -0 "$p" 2>/dev/null; do sleep 0.2; done ;;
esac
"""


class RemoteDebTest(SimulatedHostsTestCase):
    """--install deb on one simulated host (they share one file system, so one install is all there is)."""

    @classmethod
    def make_hosts(cls):
        return SimulatedHosts(1, commands={0: {"systemctl": SYSTEMCTL, "journalctl": "cat {dir}/service.log\n"}})

    def setUp(self):
        if subprocess.run(["dpkg-query", "-W", "-f=${Status}", "gossip-learner"], capture_output=True,
                          text=True).stdout.startswith("install ok"):
            self.skipTest("gossip-learner is installed on this machine; not replacing it")
        for tool in ("dpkg-shlibdeps", "help2man", "setpriv"):
            if shutil.which(tool) is None:
                self.skipTest(f"missing {tool} (tools/install-deps)")

    def tearDown(self):
        run(["dpkg", "--purge", "gossip-learner"], check=False, timeout=120)

    def test_up_status_collect_down_with_the_package(self):
        h = self.hosts
        dist = os.path.join(h.dir, "dist")
        made = run([os.path.join(ROOT, "tools", "package"), run(["dpkg", "--print-architecture"]).stdout.strip()],
                   timeout=300, cwd=ROOT, env={**os.environ, "DIST": dist,
                                               "PACKAGE_BUILD": os.path.dirname(os.path.abspath(BIN))})
        self.assertIn("package: made", made.stdout)
        with open(f"{h.dir}/hosts", "w") as f:
            f.write(f"pi0 {h.dir}/deb-dir\n")
        up = self.launcher("up", "--install", "deb", "--packages", dist, "--data", DATA, "--cluster", f"{PREFIX}deb")
        self.assertIn("1 of 1 node(s) up", up.stdout)
        with open("/etc/gossip-learner/node.toml") as f:
            self.assertIn('id = "node-0"', f.read())
        self.assertRegex(self.launcher("status").stdout, r"node-0\s+pi0\s")
        self.assertIn("listening on", self.launcher("logs", "0").stdout)
        self.assertIn("node-0 (pi0): stopped", self.launcher("down").stdout)
        out = os.path.join(h.dir, "collected")
        self.assertIn("collected 1 of 1", self.launcher("collect", "--out", out).stdout)
        self.assertEqual(sorted(os.listdir(os.path.join(out, "node-0"))),
                         ["log", "model.bin", "model.ckpt", "status.json"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
