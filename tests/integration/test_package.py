"""The Debian package: tools/package makes it lintian-clean, it installs, systemd-analyze
accepts its units, the unit's ExecStart line runs with the packaged config as the service
user, `gossip-learner status` finds the service's socket with no flags (root and the
gossip-learner group may read it, others not), `status --prometheus` exports it, and
`dpkg --purge` leaves nothing behind but the system user (Debian policy).

systemd is not PID 1 here, so the test does what the unit asks systemd to do (User, Group,
UMask, RuntimeDirectory, StateDirectory) and runs ExecStart in a network namespace of its
own, so the packaged listen address 0.0.0.0:7070 touches no real interface. Skips with the
reason without root or Debian's packaging tools, or when gossip-learner is already
installed (a real installation is never replaced).
"""
import configparser
import grp
import json
import os
import pwd
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile
import unittest

from harness import BIN, DATA, wait_for

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
NETNS = "gldeploy-pkg"
UNITS = ["gossip-learner.service", "gossip-learner-metrics.service", "gossip-learner-metrics.timer"]
LEFT_BY_PURGE_NEVER = ["/usr/bin/gossip-learner", "/etc/gossip-learner", "/var/lib/gossip-learner",
                       "/run/gossip-learner", "/usr/share/doc/gossip-learner",
                       "/usr/share/man/man1/gossip-learner.1.gz"] + [f"/lib/systemd/system/{u}" for u in UNITS]


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=kw.pop("timeout", 300), **kw)


def installed():
    res = run(["dpkg-query", "-W", "-f=${Status}", "gossip-learner"])
    return res.returncode == 0 and "not-installed" not in res.stdout


def why_not_runnable():
    if os.geteuid() != 0:
        return "needs root (dpkg -i, the service user, a network namespace)"
    for tool in ("dpkg-deb", "dpkg-shlibdeps", "help2man", "setpriv", "ip"):
        if shutil.which(tool) is None:
            return f"missing {tool} (tools/install-deps)"
    if installed():
        return "gossip-learner is installed on this machine; not replacing it"
    return None


class PackageTest(unittest.TestCase):
    def setUp(self):
        reason = why_not_runnable()
        if reason:
            self.skipTest(reason)
        self.dir = tempfile.mkdtemp(prefix="gldeploy-pkg-")
        self.node = None

    def tearDown(self):
        if self.node and self.node.poll() is None:
            self.node.kill()
            self.node.wait()
        run(["ip", "netns", "del", NETNS])
        if installed():
            run(["dpkg", "--purge", "gossip-learner"])
        shutil.rmtree(self.dir, ignore_errors=True)

    def unit(self, name):
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.optionxform = str
        parser.read(f"/lib/systemd/system/{name}")
        return parser["Service"]

    def as_user(self, user, group, groups, *cmd):
        """Runs cmd as user:group with the given supplementary groups (what systemd's User=/Group= do)."""
        groups_arg = [f"--groups={','.join(groups)}"] if groups else ["--clear-groups"]
        return run(["setpriv", f"--reuid={user}", f"--regid={group}", *groups_arg, *cmd], cwd=self.dir, timeout=60)

    def test_install_run_status_purge(self):
        made = run([os.path.join(ROOT, "tools", "package"), subprocess.check_output(
            ["dpkg", "--print-architecture"], text=True).strip()], cwd=ROOT,
            env={**os.environ, "DIST": self.dir, "PACKAGE_BUILD": os.path.dirname(os.path.abspath(BIN))})
        self.assertEqual(made.returncode, 0, made.stdout + made.stderr)
        debs = [f for f in os.listdir(self.dir) if f.endswith(".deb")]
        self.assertEqual(len(debs), 1, debs)
        if shutil.which("lintian"):  # tools/package ran it: no errors, no warnings
            complaints = [line for line in made.stdout.splitlines() if line[:3] in ("E: ", "W: ")]
            self.assertEqual(complaints, [], "lintian")
        res = run(["dpkg", "-i", os.path.join(self.dir, debs[0])])
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)

        conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", "gossip-learner"]).stdout
        self.assertIn("/etc/gossip-learner/node.toml", conffiles)
        key = os.stat("/etc/gossip-learner/cluster.key")
        self.assertEqual((pwd.getpwuid(key.st_uid).pw_name, stat.S_IMODE(key.st_mode)), ("gossip-learner", 0o600))
        if shutil.which("systemd-analyze"):
            res = run(["systemd-analyze", "verify"] + [f"/lib/systemd/system/{u}" for u in UNITS])
            self.assertEqual(res.returncode, 0, res.stdout + res.stderr)

        service = self.unit("gossip-learner.service")
        user, group = service["User"], service["Group"]
        for folder, mode in (("/run/" + service["RuntimeDirectory"], service["RuntimeDirectoryMode"]),
                             ("/var/lib/" + service["StateDirectory"], service["StateDirectoryMode"])):
            os.makedirs(folder, exist_ok=True)
            shutil.chown(folder, user, group)
            os.chmod(folder, int(mode, 8))
        run([BIN, "split", "--data", DATA, "--nodes", "20", "--scheme", "iid", "--out", f"{self.dir}/shards"])
        shutil.copy(f"{self.dir}/shards/node-0.tsv", "/var/lib/gossip-learner/shard.tsv")
        shutil.chown("/var/lib/gossip-learner/shard.tsv", user, group)
        self.assertEqual(run(["ip", "netns", "add", NETNS]).returncode, 0)
        run(["ip", "-n", NETNS, "link", "set", "lo", "up"])
        exec_start = shlex.split(service["ExecStart"])
        log = open(f"{self.dir}/node.log", "w")
        self.node = subprocess.Popen(
            ["ip", "netns", "exec", NETNS, "setpriv", f"--reuid={user}", f"--regid={group}", "--init-groups",
             "sh", "-c", f"umask {service['UMask']} && exec \"$@\"", "sh", *exec_start],
            stdout=log, stderr=subprocess.STDOUT, cwd="/",
            env={k: v for k, v in os.environ.items() if k != "DBUS_SYSTEM_BUS_ADDRESS"})  # as systemd would

        def answers():
            if self.node.poll() is not None:
                raise AssertionError(f"ExecStart exited with {self.node.returncode}:\n"
                                     + open(f"{self.dir}/node.log").read())
            res = run([BIN, "status", "--json"], cwd=self.dir, timeout=30)  # no flags: the service's socket
            return json.loads(res.stdout) if res.returncode == 0 else None
        status = wait_for(answers, 30, "the packaged node to answer `gossip-learner status`")
        self.assertTrue(status["authenticated"], "the packaged config names the generated key")

        sock = os.stat("/run/gossip-learner/status.sock")
        self.assertEqual((grp.getgrgid(sock.st_gid).gr_name, stat.S_IMODE(sock.st_mode)), (group, 0o660))
        self.assertEqual(self.as_user("nobody", "nogroup", [group], BIN, "status", "--json").returncode, 0,
                         "a member of the gossip-learner group reads the status")
        stranger = self.as_user("nobody", "nogroup", [], BIN, "status", "--json")
        self.assertNotEqual(stranger.returncode, 0, "someone outside the group read the status")
        self.assertIn("Permission denied", stranger.stderr)

        prom = f"{self.dir}/gossip-learner.prom"
        res = run([BIN, "status", "--prometheus", "--out", prom], cwd=self.dir)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertRegex(open(prom).read(), r'gossip_learner_up\{id="[^"]+",cluster="default"\} 1\n')

        self.node.send_signal(signal.SIGTERM)  # ip netns exec hands it to the node (exec chain)
        self.assertEqual(self.node.wait(60), 0, open(f"{self.dir}/node.log").read())
        self.assertTrue(os.path.exists("/var/lib/gossip-learner/model.ckpt"), "the node saved its checkpoint")

        res = run(["dpkg", "--purge", "gossip-learner"])
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertFalse(installed())
        self.assertEqual([p for p in LEFT_BY_PURGE_NEVER if os.path.lexists(p)], [], "left after purge")
        self.assertEqual(pwd.getpwnam("gossip-learner").pw_dir, "/var/lib/gossip-learner")  # the user stays


if __name__ == "__main__":
    unittest.main(verbosity=2)
