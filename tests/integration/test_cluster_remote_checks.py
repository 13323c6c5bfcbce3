"""tools/cluster_remote.py at unit level: the hosts-file parser and the per-host checks of `up`.

The checks run against a stand-in for ssh that answers the probe with given facts, so the
cases the simulated hosts of test_remote_cluster.py do not cover (no sudo for --install deb,
no package for the host's architecture, a REMOTE_DIR tools/cluster did not make) are
checked here, with the error text the user sees.
"""
import argparse
import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import cluster_remote  # noqa: E402


class ProbeAnswers:
    """Answers every ssh run with the probe output for the given facts."""

    def __init__(self, **facts):
        self.facts = {"arch": "amd64", "dir": "absent", "port": "free", "sudo": "root", "avahi": "yes", **facts}

    def run(self, destination, script, data=None, timeout=120):
        out = "".join(f"{k}={v}\n" for k, v in self.facts.items())
        return subprocess.CompletedProcess([], 0, out.encode(), b"")


class HostsFileTest(unittest.TestCase):
    def parse(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".hosts", delete=False) as f:
            f.write(text)
        self.addCleanup(os.unlink, f.name)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            try:
                return f.name, cluster_remote.parse_hosts(f.name), ""
            except SystemExit as e:
                self.assertEqual(e.code, 2)
                return f.name, None, err.getvalue()

    def test_comments_blank_lines_and_the_default_folder(self):
        _, hosts, _ = self.parse("# my Pis\n\npi@a.local\npi@b.local  /srv/gl/  # second\n")
        self.assertEqual(hosts, [("pi@a.local", "~/gossip-learner", 3), ("pi@b.local", "/srv/gl", 4)])

    def test_each_bad_line_is_named(self):
        cases = {"pi@a x y\n": "expected 'DESTINATION [REMOTE_DIR]'",
                 "-oProxyCommand=x\n": "cannot start with '-'",
                 "pi@a relative/dir\n": "must be absolute or start with ~/",
                 "pi@a ~\n": "a folder of its own",
                 "pi@a\npi@a /srv\n": "already listed on line 2"}
        for text, why in cases.items():
            path, hosts, err = self.parse("# header\n" + text)
            self.assertIsNone(hosts, text)
            line = text.count("\n") + 1
            self.assertIn(f"{path}:{line}:", err, text)
            self.assertIn(why, err, text)

    def test_an_empty_file_is_refused(self):
        _, hosts, err = self.parse("# nothing\n")
        self.assertIsNone(hosts)
        self.assertIn("lists no hosts", err)

    def test_remote_paths_are_quoted_with_home_left_to_expand(self):
        self.assertEqual(cluster_remote.shell_path("~/g l"), "\"$HOME\"/'g l'")
        self.assertEqual(cluster_remote.shell_path("/srv/x;rm"), "'/srv/x;rm'")


class ProbeTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="gldeploy-probe-")
        self.binary = os.path.join(self.root, "gossip-learner")
        with open(self.binary, "wb") as f:  # an x86-64 ELF header is all the check reads
            f.write(b"\x7fELF" + bytes(14) + (62).to_bytes(2, "little"))
        self.args = argparse.Namespace(binary=self.binary, static=False)

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def probe(self, install="binary", **facts):
        host = cluster_remote.Host(0, "pi@a", "~/gl", install, 7070)
        try:
            cluster_remote.probe(ProbeAnswers(**facts), host, self.args)
        except cluster_remote.HostError as e:
            return host, str(e)
        return host, None

    def test_a_fit_host_passes(self):
        host, error = self.probe()
        self.assertIsNone(error)
        self.assertEqual(host.arch, "amd64")

    def test_deb_without_sudo(self):
        _, error = self.probe(install="deb", sudo="no")
        self.assertIn("no sudo", error)
        self.assertIn("--install binary", error)

    def test_deb_with_sudo_runs_commands_through_it(self):
        self.args.packages = os.path.join(self.root, "dist")
        os.makedirs(self.args.packages)
        open(os.path.join(self.root, "dist", "gossip-learner_0.1.0_arm64.deb"), "w").close()
        host, error = self.probe(install="deb", sudo="yes", arch="arm64")
        self.assertIsNone(error)
        self.assertEqual(host.sudo, "sudo -n")
        _, error = self.probe(install="deb", sudo="yes", arch="armhf")
        self.assertIn(f"wrong architecture: the host is armhf, {self.args.packages} has packages for arm64", error)

    def test_binary_of_another_architecture(self):
        _, error = self.probe(arch="arm64")
        self.assertIn("wrong architecture: the host is arm64", error)

    def test_no_avahi_daemon_without_static(self):
        _, error = self.probe(avahi="no")
        self.assertIn("no avahi-daemon", error)
        self.args.static = True
        self.assertIsNone(self.probe(avahi="no")[1])

    def test_port_taken(self):
        _, error = self.probe(port="taken")
        self.assertIn("port 7070 taken", error)

    def test_a_folder_tools_cluster_did_not_make(self):
        _, error = self.probe(dir="foreign")
        self.assertIn("~/gl exists and was not made by tools/cluster", error)


if __name__ == "__main__":
    unittest.main(verbosity=2)
