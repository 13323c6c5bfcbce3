"""Real gossip-learner processes for the integration tests (tests/integration) and the benches
(bench/): start, query, kill, wait.

Every wait is on a condition with a deadline (`wait_for`); nothing sleeps and hopes.
The binary comes from $GL_BIN (ctest sets it, and PYTHONPATH to tools/ for this module).
"""
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

BIN = os.environ.get("GL_BIN", "build/gossip-learner")
DATA = os.environ.get("GL_DATA", os.path.join(os.path.dirname(__file__), "..", "data", "names"))


def wait_for(condition, timeout, what, interval=0.25):
    """Polls condition() until it returns a truthy value; fails the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(v) for v in f.read().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def free_ports(n):
    """n ports free now, chosen below the kernel's ephemeral range: a port the kernel hands
    out (bind to 0) can be taken again by any outgoing connection (a running node's) before
    the node meant to listen on it starts."""
    low, high = _ephemeral_range()
    pool = range(10000, low) if low > 11000 else range(high + 1, 65536)
    candidates = random.sample(pool, min(400, len(pool)))
    ports = []
    for port in candidates:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == n:
            return ports
    raise AssertionError(f"found only {len(ports)} of {n} free ports outside the ephemeral range")


def read_status(path):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(path)
            chunks = []
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        return json.loads(b"".join(chunks))
    except (OSError, ValueError):
        return None


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def all_finite(status):
    return all(math.isfinite(x) for x in status["param_sample"])


def l2(a, b):
    return sum((x - y) ** 2 for x, y in zip(a, b)) ** 0.5


def max_pairwise_distance(statuses):
    samples = [s["param_sample"] for s in statuses]
    return max(l2(a, b) for i, a in enumerate(samples) for b in samples[i + 1:])


class NodeProcess:
    def __init__(self, workdir, name, port, data, extra):
        self.name = name
        self.port = port
        self.address = f"127.0.0.1:{port}"
        self.state_dir = os.path.join(workdir, name)
        self.socket = os.path.join(self.state_dir, "status.sock")
        self.log_path = os.path.join(workdir, name + ".log")
        self.data = data
        self.extra = list(extra)
        self.proc = None

    def start(self, more=()):
        os.makedirs(self.state_dir, exist_ok=True)
        cmd = [BIN, "run", "--id", self.name, "--listen", self.address, "--data", self.data,
               "--state-dir", self.state_dir] + self.extra + list(more)
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        return self

    def status(self):
        return read_status(self.socket)

    def wait_ready(self, timeout=30):
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            return self.status()
        return wait_for(ready, timeout, f"{self.name} to answer its status socket")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if not self.alive():
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"{self.name} ignored signal {sig} for {timeout} s")
        finally:
            self.log.close()

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""


class ClusterTestCase(unittest.TestCase):
    """A temp dir, data shards, and nodes that are always stopped (and their logs shown on failure)."""

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="gl-it-")
        self.nodes = []

    def tearDown(self):
        failed = any(err for _, err in self._outcome.errors) if hasattr(self._outcome, "errors") else False
        for node in self.nodes:
            if node.alive():
                node.stop(signal.SIGKILL)
        if failed or os.environ.get("GL_KEEP_LOGS"):
            for node in self.nodes:
                print(f"--- log of {node.name} ---\n{node.log_tail(15)}")
        shutil.rmtree(self.workdir, ignore_errors=True)

    def gl(self, *args):
        res = subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=120)
        self.assertEqual(res.returncode, 0, f"gossip-learner {' '.join(args)}: {res.stderr}")
        return res.stdout

    def make_shards(self, n, scheme="iid", alpha=0.3, seed=1):
        """Holds out an IID tenth of the data as the common eval file; shards the rest."""
        holdout = os.path.join(self.workdir, "holdout")
        self.gl("split", "--data", DATA, "--nodes", "10", "--scheme", "iid", "--seed", "7", "--out", holdout)
        train = os.path.join(self.workdir, "train.tsv")
        with open(train, "w") as out:
            for i in range(1, 10):
                with open(os.path.join(holdout, f"node-{i}.tsv")) as part:
                    out.write(part.read())
        shards = os.path.join(self.workdir, "shards")
        args = ["split", "--data", train, "--nodes", str(n), "--scheme", scheme, "--seed", str(seed),
                "--out", shards]
        if scheme == "dirichlet":
            args += ["--alpha", str(alpha)]
        self.gl(*args)
        return [os.path.join(shards, f"node-{i}.tsv") for i in range(n)], os.path.join(holdout, "node-0.tsv")

    def add_node(self, name, data, extra=(), port=None):
        port = port or free_ports(1)[0]
        node = NodeProcess(self.workdir, name, port, data, extra)
        self.nodes.append(node)
        return node

    def start_full_mesh(self, nodes):
        """Starts `nodes`, each with the others as static peers, and waits until all are ready."""
        for node in nodes:
            node.extra += [arg for other in nodes if other is not node for arg in ("--peer", other.address)]
            node.start()
        for node in nodes:
            node.wait_ready()


def make_key(case):
    """Runs `gossip-learner keygen` in a ClusterTestCase's workdir; returns (path, key bytes)."""
    key_file = os.path.join(case.workdir, "cluster.key")
    case.gl("keygen", "--out", key_file)
    with open(key_file) as f:
        return key_file, bytes.fromhex(f.read().strip())
