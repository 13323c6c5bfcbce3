"""Resource-exhaustion attacks on a live node (issue 12 B3, B4, B6): what each costs the node.

Targets: the node stays up, its RSS grows < 50 MB, its log < 5 MB, and honest exchanges keep
>= 50% of their rate. A target node (hidden 128, the default: frames up to ~316 KB) gossips
with a friend every 0.5 s; the attacker connects from 127.0.0.2, as another machine would.

  strings  2,000 Hellos with unique 300 KB node ids, then 1,500 ExchangeRequests with unique
           300 KB sender ids and a model the node refuses; then 4 status clients that connect
           and never read, held 8 s. Prints RSS and log growth, the status document's size and
           read time, and whether the lazy clients were let go.
  slots    32 half-sent frames from one address, refilled as the node closes them, for
           --seconds, open and keyed: the target's exchanges per second before and during.
  fds      the node's open-file limit lowered (prlimit) to what it has open, then one status
           client and one TCP client wait: 'accept failed' lines and node CPU over 2 s, then
           the limit is restored and the status must answer again.

Usage: GL_BIN=<binary> python3 bench/security/resource_bench.py [--cases strings,slots,fds] [--seconds 15]
"""
import argparse
import os
import resource
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
from gossip_attacks import ATTACKER, HUGE, hold_slots, send_one  # noqa: E402
from gossip_wire import EXCHANGE_REQUEST, HELLO, frame, hello_body, model_body  # noqa: E402
from harness import ClusterTestCase, make_key, rss_bytes, wait_for  # noqa: E402


class Run(ClusterTestCase):
    def runTest(self):
        pass


def rss_mb(pid):
    return rss_bytes(pid) / 2**20


def thread_cpu_s(pid):
    """{thread id: CPU seconds} of every thread of `pid`."""
    result = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        result[tid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return result


def training_thread(pid):
    """The node's busiest thread over one quiet second: the training thread."""
    a = thread_cpu_s(pid)
    time.sleep(1)
    b = thread_cpu_s(pid)
    return max(b, key=lambda t: b[t] - a.get(t, 0))


def read_status_timed(path, timeout=60):
    """(document bytes, seconds) of one status read; (None, seconds) if it failed."""
    started = time.monotonic()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(path)
            chunks = []
            while chunk := s.recv(1 << 20):
                chunks.append(chunk)
        return len(b"".join(chunks)), time.monotonic() - started
    except OSError:
        return None, time.monotonic() - started


def start_pair(run, extra=()):
    shards, _ = run.make_shards(2)
    common = ["--discovery", "static", "--gossip-interval-s", "0.5", "--checkpoint-interval-s", "0",
              "--max-update-norm", "0"] + list(extra)
    target = run.add_node("target", shards[0], common)
    friend = run.add_node("friend", shards[1], common)
    target.extra += ["--peers", friend.address]
    friend.extra += ["--peers", target.address]
    target.start(), friend.start()
    target.wait_ready(), friend.wait_ready()
    wait_for(lambda: (target.status() or {}).get("exchanges_ok", 0) > 2, 90, "first exchanges")
    return target, friend


def case_strings(run):
    target, _ = start_pair(run)
    pid = target.proc.pid
    rss0, log0 = rss_mb(pid), os.path.getsize(target.log_path)
    t0 = time.monotonic()
    for i in range(2000):
        send_one(target.address, frame(HELLO, hello_body(f"{i:06d}".ljust(HUGE, "h"), "wrong-signature", "127.0.0.2:1")))
    rss1, log1 = rss_mb(pid), os.path.getsize(target.log_path)
    print(f"hellos: 2000 in {time.monotonic() - t0:.1f} s; alive={target.alive()}; RSS +{rss1 - rss0:.1f} MB; "
          f"log +{(log1 - log0) / 1e6:.2f} MB")
    t0 = time.monotonic()
    for i in range(1500):
        send_one(target.address,
                 frame(EXCHANGE_REQUEST, model_body(f"{i:06d}".ljust(HUGE, "s"), "wrong-signature", [0.0], 1, 1)))
    rss2, log2 = rss_mb(pid), os.path.getsize(target.log_path)
    size, seconds = read_status_timed(target.socket)
    print(f"exchange requests: 1500 in {time.monotonic() - t0:.1f} s; alive={target.alive()}; "
          f"RSS +{rss2 - rss1:.1f} MB; log +{(log2 - log1) / 1e6:.2f} MB; status document {size} bytes read in "
          f"{seconds:.2f} s")
    lazy = []
    for _ in range(4):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(target.socket)
        lazy.append(s)
    time.sleep(8)  # the clients hold on without reading
    rss3 = rss_mb(pid)
    let_go = 0
    for s in lazy:
        s.settimeout(30)
        tail = b""
        try:
            while chunk := s.recv(1 << 20):
                tail = (tail + chunk)[-2:]
        except OSError:
            pass
        let_go += tail != b"}\n"  # the document did not arrive whole
        s.close()
    print(f"lazy status clients: RSS +{rss3 - rss2:.1f} MB while 4 held 8 s; {let_go}/4 cut off by the node")
    print(f"strings total: alive={target.alive()}, RSS +{rss3 - rss0:.1f} MB, log +{(log2 - log0) / 1e6:.2f} MB")


def exchange_rate(node, seconds):
    a = node.status()["exchanges_ok"]
    t0 = time.monotonic()
    time.sleep(seconds)
    return (node.status()["exchanges_ok"] - a) / (time.monotonic() - t0)


def case_slots(run, seconds, keyed):
    extra = ["--key-file", make_key(run)[0]] if keyed else []
    target, _ = start_pair(run, extra)
    quiet = exchange_rate(target, seconds)
    stop = threading.Event()
    attacker = threading.Thread(target=hold_slots, args=(target.address, stop), daemon=True)
    attacker.start()
    time.sleep(1)
    attacked = exchange_rate(target, seconds)
    stop.set()
    attacker.join()
    print(f"slots ({'keyed' if keyed else 'open'}): exchanges/s quiet {quiet:.2f}, with 32 half-sent frames from one "
          f"address {attacked:.2f} ({100 * attacked / quiet:.0f}%); alive={target.alive()}")


def case_fds(run):
    target, _ = start_pair(run, ["--peers", "127.0.0.1:9"])  # nothing there: no extra connections
    pid = target.proc.pid
    training = training_thread(pid)
    open_now = len(os.listdir(f"/proc/{pid}/fd"))
    soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (open_now, hard))
    log0 = os.path.getsize(target.log_path)
    waiting = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    waiting.connect(target.socket)
    host, port = target.address.rsplit(":", 1)
    tcp = socket.create_connection((host, int(port)), timeout=2, source_address=(ATTACKER, 0))
    cpu0, t0 = thread_cpu_s(pid), time.monotonic()
    time.sleep(2)
    cpu1, elapsed = thread_cpu_s(pid), time.monotonic() - t0
    cpu = sum(cpu1[t] - cpu0.get(t, 0) for t in cpu1 if t != training) / elapsed
    with open(target.log_path, errors="replace") as f:
        f.seek(log0)
        failed = sum("accept failed" in line for line in f)
    log_growth = os.path.getsize(target.log_path) - log0
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))
    waiting.settimeout(10)
    answered = b""
    try:
        while chunk := waiting.recv(65536):
            answered += chunk
    except OSError:
        pass
    waiting.close(), tcp.close()
    print(f"fds: limit {open_now}; over 2 s {failed} 'accept failed' lines, log +{log_growth / 1e6:.2f} MB, node CPU "
          f"besides training {100 * cpu:.0f}% of a core; status answered after the limit was raised: "
          f"{len(answered) > 0}; alive={target.alive()}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", default="strings,slots,fds")
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    print(f"binary: {os.environ.get('GL_BIN', 'build/gossip-learner')}")
    for case in args.cases.split(","):
        for keyed in ([False, True] if case == "slots" else [None]):
            run = Run()
            run.setUp()
            try:
                if case == "strings":
                    case_strings(run)
                elif case == "slots":
                    case_slots(run, args.seconds, keyed)
                elif case == "fds":
                    case_fds(run)
                for node in run.nodes:
                    if node.alive():
                        node.stop()
            finally:
                run.tearDown()


if __name__ == "__main__":
    main()
