"""At least 100,000 hostile frames at a live keyed node (issue 6 targets): 0 crashes, 0 non-finite
parameters, training rate (samples_trained per wall-clock second) down by <= 20% under the load.

A keyed target (hidden 128, the default) gossips with a keyed friend. The training rate is
measured over a quiet window, then while tools/gossip_attacks.py's flood() sends
the frames (random, truncated, oversized, wrong version, bad magic, unknown flag, unsealed,
wrong MAC, wrong key, replayed across and within connections; one per connection), then over
a second quiet window.

The flooder is a child process. In a deployment the attacker is another machine; here it
shares the node's cores, so --isolate says how the bench keeps it off the node's CPU:
  none  the flooder at normal priority on any core: the raw same-machine figure, where the
        flooder's own CPU use counts against the node;
  core  (default) the target node on the first CPU for the whole run (quiet windows too), the
        friend node and the flooder on the others: the node pays only for handling the frames;
  train-core  the node's training thread alone on the first CPU; its other threads (io,
        status, discovery), the friend and the flooder on the others: a node with a core
        for training and the rest shared, as on a 4-core Pi whose io thread and neighbours
        share the other cores (the flooder still competes with the node's io thread);
  idle  the flooder at nice 19 under SCHED_IDLE: it only gets CPU time nobody else wants, which
        on a busy shared machine starves it (the flood rate printed shows it).
The flooder connects from its own loopback address (--flooder-host, default 127.0.0.2), as
another machine would: the node's per-host frame rate limit throttles it, not the friend
(both nodes listen on 127.0.0.1). --flooder-host 127.0.0.1 shares the friend's address, as
runs before 2026-11-27 05:00 UTC did.
Usage: GL_BIN=build/gossip-learner python3 bench/security/hostile_bench.py [--frames 100000]
       [--isolate core|train-core|idle|none] [--max-frames-per-second 200] [--io-nice N]   (0 = no limit: every frame
       reaches the parser) [--flooder-host 127.0.0.2]
"""
import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
from harness import ClusterTestCase, make_key, wait_for  # noqa: E402
from gossip_attacks import flood  # noqa: E402


def run_bin():
    return os.environ.get("GL_BIN", "build/gossip-learner")


class Run(ClusterTestCase):
    def runTest(self):
        pass


def rate(node, seconds):
    """Samples trained per second over the next `seconds`."""
    a = node.status()
    t0 = time.monotonic()
    time.sleep(seconds)
    b = node.status()
    return (b["samples_trained"] - a["samples_trained"]) / (time.monotonic() - t0)


def thread_cpu(pid):
    """CPU seconds per thread id of process `pid` (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    result = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        result[tid] = (int(fields[11]) + int(fields[12])) / ticks
    return result


NODE_CPUS = {min(os.sched_getaffinity(0))}
OTHER_CPUS = (os.sched_getaffinity(0) - NODE_CPUS) or NODE_CPUS


def pin(pid, cpus):
    """Every thread of process `pid` to `cpus`."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        os.sched_setaffinity(int(tid), cpus)


def busiest_thread(pid, seconds=2.0):
    """The thread id of `pid` that used the most CPU over the next `seconds` (the training thread)."""
    before = thread_cpu(pid)
    time.sleep(seconds)
    after = thread_cpu(pid)
    return max(after, key=lambda t: after[t] - before.get(t, 0))


def lowest_priority():
    """In a child before exec: nice 19 and SCHED_IDLE (runs only when a core is otherwise idle)."""
    os.nice(19)
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def start_flooder(address, key, frames, connections, isolate, source_host):
    """The flooder as a child process (this script with --flood-only); prints its counts as JSON."""
    cmd = [sys.executable, __file__, "--flood-only", address, key.hex(), str(frames), str(connections), source_host]
    on_other_cpus = lambda: os.sched_setaffinity(0, OTHER_CPUS)  # noqa: E731
    setup = {"idle": lowest_priority, "core": on_other_cpus, "train-core": on_other_cpus, "none": None}[isolate]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, preexec_fn=setup)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=100000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--isolate", choices=["core", "train-core", "idle", "none"], default="core")
    parser.add_argument("--max-frames-per-second", default="200")
    parser.add_argument("--quiet-seconds", type=float, default=30)
    parser.add_argument("--io-nice", help="the nodes' io_nice (default: the node's own default)")
    parser.add_argument("--flooder-host", default="127.0.0.2",
                        help="source address of the flooder's connections (a loopback address)")
    parser.add_argument("--flood-only", nargs=5, metavar=("ADDRESS", "KEY_HEX", "FRAMES", "CONNECTIONS", "SOURCE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.flood_only:
        address, key_hex, frames, connections, source_host = args.flood_only
        print(json.dumps(flood(address, bytes.fromhex(key_hex), int(frames), int(connections),
                               source_host=source_host)))
        return
    run = Run()
    run.setUp()
    try:
        key_file, key = make_key(run)
        shards, eval_file = run.make_shards(2)
        # No update-norm screen: it is not what this bench measures, and two nodes training flat
        # out can drift past its default bound before their first exchange, then never merge
        # (seen on a quiet VM at 25,000 samples/s: the bench then timed out waiting for exchanges).
        common = ["--discovery", "static", "--key-file", key_file, "--checkpoint-interval-s", "0",
                  "--eval-interval-s", "10", "--max-frames-per-second", args.max_frames_per_second,
                  "--max-update-norm", "0"]
        if args.io_nice is not None:
            common += ["--io-nice", args.io_nice]
        # Train flat out (no epoch pacing), so that the rate shows the CPU the node gets.
        if "--intervals-per-epoch" in subprocess.run([run_bin(), "run", "--help"], capture_output=True,
                                                     text=True).stdout:
            common += ["--intervals-per-epoch", "0"]
        target = run.add_node("target", shards[0], common + ["--eval-data", eval_file])
        friend = run.add_node("friend", shards[1], common)
        target.extra.append(f"--peers={friend.address}")
        friend.extra.append(f"--peers={target.address}")
        target.start(), friend.start()
        target.wait_ready(), friend.wait_ready()
        if args.isolate == "core":
            pin(target.proc.pid, NODE_CPUS)
            pin(friend.proc.pid, OTHER_CPUS)
        wait_for(lambda: (target.status() or {}).get("exchanges_ok", 0) > 2, 60, "first exchanges")
        if args.isolate == "train-core":
            pin(target.proc.pid, OTHER_CPUS)
            pin(friend.proc.pid, OTHER_CPUS)
            os.sched_setaffinity(int(busiest_thread(target.proc.pid)), NODE_CPUS)
        q0 = thread_cpu(target.proc.pid)
        quiet_samples0 = target.status()["samples_trained"]
        quiet = rate(target, args.quiet_seconds)
        before = target.status()
        q1 = thread_cpu(target.proc.pid)
        quiet_train_cpu = max(q1[t] - q0.get(t, 0) for t in q1)
        quiet_per_cpu = (before["samples_trained"] - quiet_samples0) / quiet_train_cpu
        quiet_other_cpu = sum(q1[t] - q0.get(t, 0) for t in q1) - quiet_train_cpu

        t0 = time.monotonic()
        a, friend_a = target.status(), friend.status()
        cpu0, children0 = thread_cpu(target.proc.pid), resource.getrusage(resource.RUSAGE_CHILDREN)
        flooder = start_flooder(target.address, key, args.frames, args.connections, args.isolate, args.flooder_host)
        rates = []
        while flooder.poll() is None:
            rates.append(rate(target, 5))
        result = json.loads(flooder.stdout.read() or "{}")
        elapsed = time.monotonic() - t0
        cpu1, children1 = thread_cpu(target.proc.pid), resource.getrusage(resource.RUSAGE_CHILDREN)
        deltas = sorted((cpu1[t] - cpu0.get(t, 0) for t in cpu1), reverse=True)
        b, friend_b = target.status(), friend.status()
        loaded = (b["samples_trained"] - a["samples_trained"]) / elapsed
        quiet_after = rate(target, args.quiet_seconds)
        after = target.status()
        nonfinite = sum(1 for x in after["param_sample"] if not math.isfinite(x))
        drop = 100 * (1 - loaded / quiet)
        drop_both = 100 * (1 - 2 * loaded / (quiet + quiet_after))
        loaded_per_cpu = (b["samples_trained"] - a["samples_trained"]) / deltas[0]
        flooder_cpu = children1.ru_utime + children1.ru_stime - children0.ru_utime - children0.ru_stime
        node_extra_cpu = sum(deltas[1:]) - quiet_other_cpu * elapsed / args.quiet_seconds
        print(f"frames: {args.frames} over {args.connections} connections from {args.flooder_host} in "
              f"{elapsed:.1f} s ({args.frames / elapsed:.0f}/s), isolation: {args.isolate}; client side: {result}")
        print(f"node: alive={target.alive()}, frames_rejected +{after['frames_rejected'] - before['frames_rejected']}, "
              f"auth_failures {after['auth_failures']}, frames_throttled {after['frames_throttled']}, "
              f"exchanges_ok {before['exchanges_ok']} -> {after['exchanges_ok']} "
              f"(+{b['exchanges_ok'] - a['exchanges_ok']} during the flood); the friend's exchanges with it "
              f"during the flood: +{friend_b['exchanges_ok'] - friend_a['exchanges_ok']} ok, "
              f"+{friend_b['exchanges_failed'] - friend_a['exchanges_failed']} failed")
        print(f"non-finite parameters in param_sample: {nonfinite}")
        print(f"CPU during the flood: node training thread {100 * deltas[0] / elapsed:.0f}% of a core, "
              f"its other threads (io, status, discovery) {100 * sum(deltas[1:]) / elapsed:.0f}%; "
              f"the flooder {100 * flooder_cpu / elapsed:.0f}%")
        print(f"node CPU per hostile frame (threads other than training, above their quiet level): "
              f"{1e6 * node_extra_cpu / args.frames:.1f} us")
        print(f"training rate: quiet {quiet:.0f}/s, under load {loaded:.0f}/s (5 s windows: "
              f"{', '.join(f'{r:.0f}' for r in rates)}), after {quiet_after:.0f}/s; drop {drop:.1f}% "
              f"against the quiet window before, {drop_both:.1f}% against the mean of before and after "
              f"(target <= 20%: {'met' if max(drop, drop_both) <= 20 else 'NOT met'})")
        print(f"samples per CPU-second of the training thread (independent of other load on the machine): "
              f"quiet {quiet_per_cpu:.0f}, under the flood {loaded_per_cpu:.0f} "
              f"({100 * (1 - loaded_per_cpu / quiet_per_cpu):+.1f}% drop)")
        if args.isolate == "core":
            # What the node itself loses on its one core: the CPU it spends on the frames, and
            # any slowdown of the training thread per CPU-second (caches, wakeups).
            kept = (1 - node_extra_cpu / elapsed) * min(1.0, loaded_per_cpu / quiet_per_cpu)
            print(f"drop attributable to the node's own work (its extra CPU {100 * node_extra_cpu / elapsed:.1f}% "
                  f"of its core, training per CPU-second x{loaded_per_cpu / quiet_per_cpu:.3f}): "
                  f"{100 * (1 - kept):.1f}% (target <= 20%: {'met' if kept >= 0.8 else 'NOT met'})")
        print(f"eval accuracy: before {before['eval']['accuracy'] if before['eval'] else None}, "
              f"after {after['eval']['accuracy'] if after['eval'] else None}")
        print(f"target exit code on SIGTERM: {target.stop()}")
    finally:
        run.tearDown()


if __name__ == "__main__":
    main()
