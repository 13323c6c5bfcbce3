"""Remote mode of tools/cluster: a gossip-learner cluster on real hosts, driven over SSH.

  tools/cluster up      --hosts FILE [--ssh-config F] [--install binary|deb] [--data PATH] [--scheme iid|dirichlet]
                        [--alpha A] [--eval-data PATH] [--key-file K] [--port P] [--cluster NAME] [--static]
                        [--binary PATH] [--packages DIR] [--dir DIR] [-- EXTRA RUN FLAGS]
  tools/cluster status  --hosts FILE [--json]
  tools/cluster watch   --hosts FILE [--seconds S] [--every S]
  tools/cluster logs I  --hosts FILE [-n LINES]
  tools/cluster collect --hosts FILE --out DIR
  tools/cluster down    --hosts FILE

FILE lists one host per line, `DESTINATION [REMOTE_DIR]` (DESTINATION as ssh takes it;
REMOTE_DIR default ~/gossip-learner; `#` starts a comment). Only the system's OpenSSH
client is used (`ssh -F` with --ssh-config). `up` splits the data once here (under --dir,
default .cluster-remote), pushes shard i to host i with the cluster key and a node.toml, and
starts the node: with --install binary (default) the bare binary in REMOTE_DIR, run as a
detached process that outlives the SSH session; with --install deb the package from dist/
matching the host's architecture, installed with sudo and run as the gossip-learner service.
Nodes find each other by mDNS (--static: by the hosts' addresses). Each host is checked
first (reachable, architecture, sudo, port free, REMOTE_DIR ours) and one that fails is
reported and left out; the others go on. A folder that tools/cluster did not make is never
written into or deleted, here or on a host.
"""
import argparse
import concurrent.futures
import glob
import importlib.machinery
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARKER = ".made-by-tools-cluster"  # in every REMOTE_DIR and --dir that tools/cluster made
STATE = "remote.json"              # the cluster recorded in --dir
ELF_MACHINES = {62: "amd64", 183: "arm64", 40: "armhf"}
SERVICE_SOCKET = "/run/gossip-learner/status.sock"


class HostError(Exception):
    """What went wrong on one host, said so that the user knows what to do."""


def die(msg, code=1):
    print(f"cluster: error: {msg}", file=sys.stderr)
    sys.exit(code)


def loopback_module():
    """tools/cluster (the loopback launcher), for its data split."""
    loader = importlib.machinery.SourceFileLoader("cluster_loopback", os.path.join(ROOT, "tools", "cluster"))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


# ---- the hosts file

def parse_hosts(path):
    """[(destination, remote_dir, line_number)]; exits naming the line on a bad one."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError as e:
        die(f"cannot read the hosts file: {e}", 2)
    hosts, seen = [], {}
    for number, line in enumerate(lines, 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        where = f"{path}:{number}: '{line.strip()}'"
        if len(fields) > 2:
            die(f"{where}: expected 'DESTINATION [REMOTE_DIR]', got {len(fields)} fields", 2)
        destination = fields[0]
        remote_dir = fields[1] if len(fields) == 2 else "~/gossip-learner"
        if destination.startswith("-"):
            die(f"{where}: a destination cannot start with '-' (ssh would read it as an option)", 2)
        if not (remote_dir.startswith("/") or remote_dir == "~" or remote_dir.startswith("~/")):
            die(f"{where}: REMOTE_DIR must be absolute or start with ~/", 2)
        if remote_dir.rstrip("/") in ("", "~", "/"):
            die(f"{where}: REMOTE_DIR must be a folder of its own, not {remote_dir}", 2)
        if destination in seen:
            die(f"{where}: {destination} is already listed on line {seen[destination]}", 2)
        seen[destination] = number
        hosts.append((destination, remote_dir.rstrip("/"), number))
    if not hosts:
        die(f"{path} lists no hosts", 2)
    return hosts


def shell_path(path):
    """`path` quoted for the remote shell, with a leading ~ left to expand to $HOME."""
    if path == "~":
        return '"$HOME"'
    if path.startswith("~/"):
        return '"$HOME"/' + shlex.quote(path[2:])
    return shlex.quote(path)


# ---- ssh

class Ssh:
    def __init__(self, config):
        self.base = ["ssh"] + (["-F", config] if config else []) + [
            "-o", "BatchMode=yes", "-o", "ConnectTimeout=8", "-o", "ServerAliveInterval=5",
            "-o", "ServerAliveCountMax=3"]

    def run(self, destination, script, data=None, timeout=120):
        """Runs `script` with sh on the host (stdin = data); raises HostError when ssh cannot connect."""
        try:
            res = subprocess.run(self.base + [destination, "sh -c " + shlex.quote(script)], input=data,
                                 capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise HostError(f"no answer over ssh within {timeout} s")
        if res.returncode == 255:
            why = res.stderr.decode(errors="replace").strip().splitlines()
            raise HostError(f"unreachable over ssh: {why[-1] if why else 'ssh failed'}")
        return res

    def push(self, destination, data, remote_path, mode, sudo=""):
        """Writes bytes `data` to `remote_path` (a shell word) with `mode`."""
        script = f"umask 077 && {sudo} install -m {mode} /dev/stdin {remote_path}"
        res = self.run(destination, script, data=data)
        if res.returncode != 0:
            raise HostError(f"cannot write {remote_path}: {res.stderr.decode(errors='replace').strip()}")

    def address(self, destination):
        """The host name or address ssh connects to for `destination` (after the ssh config)."""
        res = subprocess.run(self.base + ["-G", destination], capture_output=True, text=True)
        for line in res.stdout.splitlines():
            if line.startswith("hostname "):
                return line.split(None, 1)[1]
        return destination


# ---- one host

class Host:
    """One line of the hosts file and what tools/cluster knows and does there."""

    def __init__(self, index, destination, remote_dir, install, port):
        self.index, self.destination, self.remote_dir = index, destination, remote_dir
        self.install, self.port = install, port
        self.name = f"node-{index}"
        self.dir = shell_path(remote_dir)
        self.sudo = ""
        self.arch = None

    def record(self):
        return {"index": self.index, "destination": self.destination, "remote_dir": self.remote_dir,
                "install": self.install, "port": self.port, "arch": self.arch, "sudo": self.sudo}

    @classmethod
    def from_record(cls, r):
        host = cls(r["index"], r["destination"], r["remote_dir"], r["install"], r["port"])
        host.arch, host.sudo = r.get("arch"), r.get("sudo", "")
        return host

    def binary(self):
        return "/usr/bin/gossip-learner" if self.install == "deb" else f"{self.dir}/gossip-learner"

    def status_command(self):
        if self.install == "deb":
            return f"{self.sudo} {self.binary()} status --json --socket {SERVICE_SOCKET}"
        return f"{self.binary()} status --json --state-dir {self.dir}/state"

    def log_command(self, lines):
        if self.install == "deb":
            return f"{self.sudo} journalctl -u gossip-learner.service --no-pager -n {int(lines)}"
        return f"tail -n {int(lines)} {self.dir}/log"

    def last_status(self):
        """Where `down` keeps the node's last status document."""
        return "/var/lib/gossip-learner/last-status.json" if self.install == "deb" else f"{self.dir}/last-status.json"

    def checkpoint_dir(self):
        return "/var/lib/gossip-learner" if self.install == "deb" else f"{self.dir}/state"


PROBE = r"""
echo "arch=$(dpkg --print-architecture 2>/dev/null || uname -m)"
if [ -e {dir} ]; then
  if [ -f {dir}/{marker} ]; then echo dir=ours; else echo dir=foreign; fi
else echo dir=absent; fi
if command -v ss >/dev/null 2>&1; then
  if [ -n "$(ss -Hltn "sport = :{port}")" ]; then echo port=taken; else echo port=free; fi
else echo port=unknown; fi
if [ "$(id -u)" = 0 ]; then echo sudo=root
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then echo sudo=yes
else echo sudo=no; fi
if command -v avahi-daemon >/dev/null 2>&1 || [ -x /usr/sbin/avahi-daemon ]; then echo avahi=yes; else echo avahi=no; fi
"""


def probe(ssh, host, args):
    """Checks the host can take a node; sets host.arch and host.sudo; raises HostError if not."""
    res = ssh.run(host.destination, PROBE.format(dir=host.dir, marker=MARKER, port=host.port), timeout=30)
    facts = dict(line.split("=", 1) for line in res.stdout.decode(errors="replace").splitlines() if "=" in line)
    host.arch = facts.get("arch", "?")
    sudo = facts.get("sudo", "no")
    if host.install == "deb":
        if sudo == "no":
            raise HostError(f"no sudo: --install deb needs passwordless sudo for {host.destination}'s user "
                            "(or use --install binary)")
        host.sudo = "" if sudo == "root" else "sudo -n"
    if facts.get("dir") == "foreign":
        raise HostError(f"{host.remote_dir} exists and was not made by tools/cluster: "
                        "name another REMOTE_DIR for this host in the hosts file")
    if facts.get("avahi") == "no" and not args.static:
        raise HostError("no avahi-daemon, so no mDNS: 'sudo apt install avahi-daemon' there, or use --static")
    if facts.get("port") == "taken":
        raise HostError(f"port {host.port} taken: something already listens there (a node left running? "
                        "'tools/cluster down --hosts ...', or pick another --port)")
    artifact(host, args)  # wrong architecture shows up here


def elf_arch(path):
    with open(path, "rb") as f:
        head = f.read(20)
    if head[:4] != b"\x7fELF":
        return None
    return ELF_MACHINES.get(int.from_bytes(head[18:20], "little"))


def artifact(host, args):
    """The file to push to `host`: the .deb or binary built for its architecture."""
    if host.install == "deb":
        debs = sorted(glob.glob(os.path.join(args.packages, f"gossip-learner_*_{host.arch}.deb")), key=os.path.getmtime)
        if not debs:
            built = sorted({os.path.basename(p).rsplit("_", 1)[1][:-4]
                            for p in glob.glob(os.path.join(args.packages, "*.deb"))})
            raise HostError(f"wrong architecture: the host is {host.arch}, {args.packages} has packages for "
                            f"{', '.join(built) or 'none'} (run tools/package)")
        return debs[-1]
    candidates = [args.binary] if args.binary else [
        os.environ.get("GL_BIN", os.path.join(ROOT, "build", "gossip-learner")),
        os.path.join(ROOT, f"build-{host.arch}", "gossip-learner")]
    for path in candidates:
        if os.path.isfile(path) and elf_arch(path) == host.arch:
            return path
    raise HostError(f"wrong architecture: the host is {host.arch} and no binary for it was found "
                    f"(looked at {', '.join(candidates)}; tools/cross-build {host.arch}, or --binary PATH)")


def node_toml(host, args, peers, shard, eval_path, key_file, state_dir, status_socket=""):
    lines = ["# written by tools/cluster up; see config/node.toml for every key", "[node]",
             f'id = "{host.name}"', f'listen = "0.0.0.0:{host.port}"', f'data = "{shard}"',
             f'eval_data = "{eval_path}"', f'state_dir = "{state_dir}"', f'status_socket = "{status_socket}"',
             f'key_file = "{key_file}"',
             f'cluster = "{args.cluster}"', f'discovery = "{"static" if args.static else "mdns"}"',
             "peers = [" + ", ".join(f'"{p}"' for p in peers) + "]"]
    return ("\n".join(lines) + "\n").encode()


def remote_home(ssh, host):
    res = ssh.run(host.destination, 'printf %s "$HOME"', timeout=30)
    return res.stdout.decode().strip()


def start_binary(ssh, host, args, files, peers):
    """Binary mode: REMOTE_DIR/{gossip-learner, shard.tsv, eval.tsv, cluster.key, node.toml, log, pid, state/}."""
    res = ssh.run(host.destination, f"mkdir -p {host.dir}/state && touch {host.dir}/{MARKER}", timeout=30)
    if res.returncode != 0:
        raise HostError(f"cannot make {host.remote_dir}: {res.stderr.decode(errors='replace').strip()}")
    home = remote_home(ssh, host)
    absolute = host.remote_dir.replace("~", home, 1) if host.remote_dir.startswith("~") else host.remote_dir
    ssh.push(host.destination, files["binary"], f"{host.dir}/gossip-learner", "755")
    ssh.push(host.destination, files["shard"], f"{host.dir}/shard.tsv", "600")
    ssh.push(host.destination, files["eval"], f"{host.dir}/eval.tsv", "600")
    ssh.push(host.destination, files["key"], f"{host.dir}/cluster.key", "600")
    toml = node_toml(host, args, peers, f"{absolute}/shard.tsv", f"{absolute}/eval.tsv", f"{absolute}/cluster.key",
                     f"{absolute}/state")
    ssh.push(host.destination, toml, f"{host.dir}/node.toml", "600")
    extra = " ".join(shlex.quote(a) for a in args.extra)
    # setsid + nohup + no terminal: the node outlives the SSH session (and a logout's SIGHUP).
    script = (f"cd {host.dir} && nohup setsid ./gossip-learner run --config node.toml {extra} "
              f">log 2>&1 </dev/null & echo $! > {host.dir}/pid")
    res = ssh.run(host.destination, script, timeout=30)
    if res.returncode != 0:
        raise HostError(f"cannot start the node: {res.stderr.decode(errors='replace').strip()}")


def start_deb(ssh, host, args, files, peers):
    """Package mode: install the .deb, fill /etc/gossip-learner and /var/lib/gossip-learner, start the service."""
    s = host.sudo
    res = ssh.run(host.destination, f"mkdir -p {host.dir} && touch {host.dir}/{MARKER}", timeout=30)
    if res.returncode != 0:
        raise HostError(f"cannot make {host.remote_dir}: {res.stderr.decode(errors='replace').strip()}")
    ssh.push(host.destination, files["deb"], f"{host.dir}/gossip-learner.deb", "644")
    # Recommends (libnss-mdns) are for people typing .local names; the probe checked avahi-daemon.
    res = ssh.run(host.destination, f"{s} env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
                  f"--no-install-recommends {host.dir}/gossip-learner.deb", timeout=600)
    if res.returncode != 0:
        raise HostError(f"installing the package failed: {res.stderr.decode(errors='replace').strip()[-400:]}")
    state = "/var/lib/gossip-learner"
    res = ssh.run(host.destination, f"{s} install -d -o gossip-learner -g gossip-learner -m 750 {state}", timeout=30)
    if res.returncode != 0:
        raise HostError(f"cannot make {state}: {res.stderr.decode(errors='replace').strip()}")
    ssh.push(host.destination, files["shard"], f"{state}/shard.tsv", "640", sudo=s)
    ssh.push(host.destination, files["eval"], f"{state}/eval.tsv", "640", sudo=s)
    ssh.push(host.destination, files["key"], "/etc/gossip-learner/cluster.key", "600", sudo=s)
    toml = node_toml(host, args, peers, f"{state}/shard.tsv", f"{state}/eval.tsv", "/etc/gossip-learner/cluster.key",
                     state, SERVICE_SOCKET)
    ssh.push(host.destination, toml, "/etc/gossip-learner/node.toml", "644", sudo=s)
    res = ssh.run(host.destination, f"{s} chown gossip-learner:gossip-learner {state}/shard.tsv "
                  f"/etc/gossip-learner/cluster.key {state}/eval.tsv 2>/dev/null; "
                  f"{s} systemctl enable gossip-learner.service && {s} systemctl restart gossip-learner.service",
                  timeout=60)
    if res.returncode != 0:
        raise HostError(f"cannot start gossip-learner.service: {res.stderr.decode(errors='replace').strip()}")


def query_status(ssh, host, timeout=30):
    """The node's status document, or raises HostError."""
    res = ssh.run(host.destination, host.status_command(), timeout=timeout)
    if res.returncode != 0:
        raise HostError(res.stderr.decode(errors="replace").strip() or "status failed")
    try:
        return json.loads(res.stdout)
    except json.JSONDecodeError:
        raise HostError("the node's status is not JSON")


def wait_until_up(ssh, host, deadline):
    while True:
        try:
            return query_status(ssh, host)
        except HostError as e:
            if time.monotonic() > deadline:
                log = ssh.run(host.destination, host.log_command(15), timeout=30).stdout.decode(errors="replace")
                raise HostError(f"the node did not answer its status within 60 s ({e}); its log says:\n{log}")
        time.sleep(0.5)


# ---- local state (--dir)

def load_state(args):
    listed = {d for d, _, _ in parse_hosts(args.hosts)}
    path = os.path.join(args.dir, STATE)
    try:
        with open(path) as f:
            state = json.load(f)
    except (OSError, ValueError):
        die(f"no cluster recorded in {args.dir} (start one with 'tools/cluster up --hosts FILE [--dir DIR]')")
    hosts = [Host.from_record(r) for r in state["hosts"] if r["destination"] in listed]
    if not hosts:
        die(f"none of the hosts in {args.hosts} runs a node recorded in {args.dir}")
    return state, hosts


def save_state(args, state):
    with open(os.path.join(args.dir, STATE + ".tmp"), "w") as f:
        json.dump(state, f, indent=1)
    os.replace(os.path.join(args.dir, STATE + ".tmp"), os.path.join(args.dir, STATE))


def claim_local_dir(path):
    """Makes --dir, or reuses one tools/cluster made; never takes over another folder."""
    if os.path.isdir(path) and os.listdir(path) and not os.path.exists(os.path.join(path, MARKER)):
        die(f"{path} exists and was not made by tools/cluster: pass another --dir")
    os.makedirs(path, exist_ok=True)
    open(os.path.join(path, MARKER), "a").close()


def for_each_host(hosts, work):
    """Runs work(host) on every host at once; returns {host.index: (result, error text or None)}."""
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(16, len(hosts)))) as pool:
        futures = {pool.submit(work, h): h for h in hosts}
        for future, host in futures.items():
            try:
                results[host.index] = (future.result(), None)
            except HostError as e:
                results[host.index] = (None, str(e))
    return results


def report_failures(hosts, results, verb):
    failed = [h for h in hosts if results[h.index][1]]
    for h in failed:
        print(f"cluster: {h.name} ({h.destination}): {verb} failed: {results[h.index][1]}", file=sys.stderr)
    return failed


# ---- verbs

def cmd_up(args, ssh):
    hosts = [Host(i, d, r, args.install, args.port) for i, (d, r, _) in enumerate(parse_hosts(args.hosts))]
    if args.extra and args.install == "deb":
        die("run flags after -- reach only --install binary nodes; with --install deb the service reads "
            "/etc/gossip-learner/node.toml alone", 2)
    state_path = os.path.join(args.dir, STATE)
    if os.path.exists(state_path):
        with open(state_path) as f:
            if json.load(f).get("running"):
                die(f"a cluster started from {args.dir} may still run: 'tools/cluster down --hosts {args.hosts}' first")
    claim_local_dir(args.dir)
    started = time.monotonic()
    probed = for_each_host(hosts, lambda h: probe(ssh, h, args))
    failed = report_failures(hosts, probed, "check")
    good = [h for h in hosts if h not in failed]
    if not good:
        die("no host can take a node (see above)")

    loopback = loopback_module()
    data_dir = os.path.join(args.dir, "data")
    if os.path.isdir(data_dir):  # our own split from an earlier up
        shutil.rmtree(data_dir)
    split_args = argparse.Namespace(data=args.data, eval_data=args.eval_data, n=len(good), scheme=args.scheme,
                                    alpha=args.alpha, seed=args.seed)
    shards, eval_path = loopback.prepare_data(split_args, args.dir)
    key = args.key_file
    if not key:
        key = os.path.join(args.dir, "cluster.key")
        if not os.path.exists(key):
            loopback.run_tool(["keygen", "--out", key])
    with open(key, "rb") as f:
        key_bytes = f.read()
    with open(eval_path, "rb") as f:
        eval_bytes = f.read()
    addresses = {h.index: f"{ssh.address(h.destination)}:{h.port}" for h in good}
    shard_of = {h.index: shards[i] for i, h in enumerate(good)}

    def start(host):
        files = {"key": key_bytes, "eval": eval_bytes}
        with open(shard_of[host.index], "rb") as f:
            files["shard"] = f.read()
        with open(artifact(host, args), "rb") as f:
            files["deb" if host.install == "deb" else "binary"] = f.read()
        peers = [a for i, a in addresses.items() if i != host.index] if args.static else []
        (start_deb if host.install == "deb" else start_binary)(ssh, host, args, files, peers)
        return wait_until_up(ssh, host, time.monotonic() + 60)

    ran = for_each_host(good, start)
    failed += report_failures(good, ran, "up")
    up = [h for h in good if not ran[h.index][1]]
    save_state(args, {"running": bool(up), "hosts": [h.record() for h in up], "cluster": args.cluster,
                      "eval_data": os.path.abspath(eval_path)})
    print(f"cluster: {len(up)} of {len(hosts)} node(s) up in {time.monotonic() - started:.1f} s "
          f"({args.install}, peers by {'static addresses' if args.static else 'mDNS'}); "
          f"'tools/cluster status --hosts {args.hosts}' to watch")
    return 1 if failed else 0


def fmt_acc(metrics):
    return f"{100 * metrics['accuracy']:5.1f}%" if metrics else "    - "


def status_rows(ssh, hosts):
    results = for_each_host(hosts, lambda h: query_status(ssh, h))
    return [(h, results[h.index][0], results[h.index][1]) for h in hosts]


def print_table(rows):
    print(f"{'node':8} {'host':18} {'loss':>6} {'val':>6} {'eval':>6} {'epochs':>6} {'peers':>7} "
          f"{'exch ok/fail':>12} {'sent MB':>8} {'recv MB':>8}  found by")
    for host, s, error in rows:
        if s is None:
            print(f"{host.name:8} {host.destination:18} {error.splitlines()[0] if error else '?'}")
            continue
        peers = s.get("peers", [])
        alive = sum(1 for p in peers if p.get("state") == "alive")
        found = sorted({src for p in peers for src in p.get("found_by", [])})
        print(f"{host.name:8} {host.destination:18} {s.get('train_loss', 0):6.3f} {fmt_acc(s.get('validation'))} "
              f"{fmt_acc(s.get('eval'))} {s.get('epochs', 0):6d} {alive:3d}/{len(peers):<3d} "
              f"{s.get('exchanges_ok', 0):6d}/{s.get('exchanges_failed', 0):<5d} "
              f"{s.get('bytes_sent', 0) / 1e6:8.2f} {s.get('bytes_received', 0) / 1e6:8.2f}  {','.join(found) or '-'}")


def cmd_status(args, ssh):
    _, hosts = load_state(args)
    rows = status_rows(ssh, hosts)
    if args.json:
        print(json.dumps({h.name: s for h, s, _ in rows}, indent=1))
    else:
        print_table(rows)
    return 0 if all(s is not None for _, s, _ in rows) else 1


def cmd_watch(args, ssh):
    _, hosts = load_state(args)
    end = time.monotonic() + args.seconds
    while True:
        print(time.strftime("-- %H:%M:%S"))
        print_table(status_rows(ssh, hosts))
        if time.monotonic() + args.every > end:
            return 0
        time.sleep(args.every)


def cmd_logs(args, ssh):
    _, hosts = load_state(args)
    host = next((h for h in hosts if h.index == args.index), None)
    if host is None:
        die(f"no node-{args.index}; nodes: {', '.join(h.name for h in hosts)}")
    try:
        res = ssh.run(host.destination, host.log_command(args.n))
    except HostError as e:
        die(f"{host.name} ({host.destination}): {e}")
    sys.stdout.write(res.stdout.decode(errors="replace"))
    return res.returncode


def cmd_collect(args, ssh):
    state, hosts = load_state(args)
    if os.path.exists(args.out) and (not os.path.isdir(args.out) or os.listdir(args.out)):
        die(f"{args.out} exists and is not empty: collect into a new folder")
    os.makedirs(args.out, exist_ok=True)

    def fetch(host):
        out = os.path.join(args.out, host.name)
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "log"), "wb") as f:
            f.write(ssh.run(host.destination, host.log_command(100000)).stdout)
        try:
            status = json.dumps(query_status(ssh, host), indent=1).encode()
        except HostError:  # a stopped node: the status `down` saved
            res = ssh.run(host.destination, f"{host.sudo} cat {host.last_status()}")
            if res.returncode != 0:
                raise HostError("the node does not answer and left no last status")
            status = res.stdout
        with open(os.path.join(out, "status.json"), "wb") as f:
            f.write(status)
        for name in ("model.bin", "model.ckpt"):
            res = ssh.run(host.destination, f"{host.sudo} cat {host.checkpoint_dir()}/{name}")
            if res.returncode != 0:
                raise HostError(f"no {name} yet (a node writes model.bin at every evaluation and model.ckpt "
                                f"every checkpoint_interval_s and when it stops): "
                                f"{res.stderr.decode(errors='replace').strip()}")
            with open(os.path.join(out, name), "wb") as f:
                f.write(res.stdout)

    results = for_each_host(hosts, fetch)
    failed = report_failures(hosts, results, "collect")
    print(f"cluster: collected {len(hosts) - len(failed)} of {len(hosts)} node(s) into {args.out} "
          f"(model.bin: the model its status scored; model.ckpt: its training state; status.json, log); "
          f"score one with:\n"
          f"  gossip-learner eval --model {os.path.join(args.out, hosts[0].name, 'model.bin')} "
          f"--data {state.get('eval_data', 'EVAL.tsv')}")
    return 1 if failed else 0


STOP_BINARY = r"""
cd {dir} 2>/dev/null || {{ echo "no {dir}"; exit 0; }}
[ -f pid ] || {{ echo "not running"; exit 0; }}
p=$(cat pid)
ours() {{ case "$(readlink /proc/$p/exe 2>/dev/null)" in */gossip-learner*) return 0;; esac; return 1; }}
alive() {{ ours && [ "$(sed 's/.*) //' /proc/$p/stat 2>/dev/null | cut -d' ' -f1)" != Z ]; }}
if ! alive; then echo "not running"; rm -f pid; exit 0; fi
kill -TERM "$p"
i=0; while alive && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
if alive; then kill -KILL "$p"; echo "ignored SIGTERM for 30 s: killed"; else echo "stopped"; fi
rm -f pid
"""


def cmd_down(args, ssh):
    state, hosts = load_state(args)

    def stop(host):
        # only a status the node gave replaces the one an earlier down kept
        ssh.run(host.destination, f"s=$({host.status_command()}) && printf '%s\\n' \"$s\" | "
                                  f"{host.sudo} tee {host.last_status()} >/dev/null")
        if host.install == "deb":
            res = ssh.run(host.destination,
                          f"{host.sudo} systemctl disable --now gossip-learner.service && echo stopped")
        else:
            res = ssh.run(host.destination, STOP_BINARY.format(dir=host.dir))
        if res.returncode != 0:
            raise HostError(res.stderr.decode(errors="replace").strip())
        return res.stdout.decode(errors="replace").strip()

    results = for_each_host(hosts, stop)
    for h in hosts:
        if results[h.index][0]:
            print(f"cluster: {h.name} ({h.destination}): {results[h.index][0]}")
    failed = report_failures(hosts, results, "down")
    if not failed:
        state["running"] = False
        save_state(args, state)
    print(f"cluster: {len(hosts) - len(failed)} of {len(hosts)} node(s) down; checkpoints and logs stay on the "
          f"hosts ('tools/cluster collect --hosts {args.hosts} --out DIR' brings them back)")
    return 1 if failed else 0


def main(argv):
    extra = argv[argv.index("--") + 1:] if "--" in argv else []  # after --: flags for every 'run'
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(prog="tools/cluster", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("up")
    p.add_argument("--install", choices=["binary", "deb"], default="binary")
    p.add_argument("--data", default=os.path.join(ROOT, "data", "names"))
    p.add_argument("--scheme", choices=["iid", "dirichlet"], default="iid")
    p.add_argument("--alpha", type=float, default=0.3)
    p.add_argument("--eval-data", default="")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--key-file", default="", help="cluster key for every node (default: a new one in --dir)")
    p.add_argument("--port", type=int, default=7070, help="gossip port on every host (default 7070)")
    p.add_argument("--cluster", default="default", help="cluster name published over mDNS")
    p.add_argument("--static", action="store_true", help="peers by the hosts' addresses instead of mDNS")
    p.add_argument("--binary", default="", help="--install binary: the binary to push (default: by architecture)")
    p.add_argument("--packages", default=os.path.join(ROOT, "dist"),
                   help="--install deb: folder of the .deb files (default dist/, where tools/package puts them)")
    p = sub.add_parser("status")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("watch")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--every", type=float, default=10)
    p = sub.add_parser("logs")
    p.add_argument("index", type=int)
    p.add_argument("-n", type=int, default=40)
    p = sub.add_parser("collect")
    p.add_argument("--out", required=True, help="a new folder: node-I/{model.bin, model.ckpt, status.json, log}")
    sub.add_parser("down")
    for p in sub.choices.values():
        p.add_argument("--hosts", required=True, help="hosts file: one 'DESTINATION [REMOTE_DIR]' per line")
        p.add_argument("--ssh-config", default="", help="ssh config file, handed to ssh as -F")
        p.add_argument("--dir", default=".cluster-remote", help="local folder for the split and the cluster record")
    args = parser.parse_args(argv)
    args.extra = extra
    args.dir = os.path.abspath(args.dir)
    ssh = Ssh(args.ssh_config)
    verbs = {"up": cmd_up, "status": cmd_status, "watch": cmd_watch, "logs": cmd_logs, "collect": cmd_collect,
             "down": cmd_down}
    return verbs[args.command](args, ssh)
