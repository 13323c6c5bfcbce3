"""At least 100,000 hostile frames at a live keyed node (issue 6 targets): 0 crashes, 0 non-finite
parameters, training rate (samples_trained per wall-clock second) down by <= 20% under the load.

A keyed target (hidden 128, the default) gossips with a keyed friend. The training rate is
measured over a quiet window, then while tests/integration/test_security.py's flood() sends
the frames (random, truncated, oversized, wrong version, bad magic, unknown flag, unsealed,
wrong MAC, wrong key, replayed across and within connections; one per connection).
Usage: GL_BIN=build/gossip-learner python3 bench/security/hostile_bench.py [--frames 100000]
       [--max-frames-per-second 200]   (0 = no limit: every frame reaches the parser)
"""
import argparse
import math
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "integration"))
from harness import ClusterTestCase, wait_for  # noqa: E402
from test_security import flood, make_key  # noqa: E402


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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=100000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--max-frames-per-second", default="200")
    parser.add_argument("--quiet-seconds", type=float, default=30)
    args = parser.parse_args()
    run = Run()
    run.setUp()
    try:
        key_file, key = make_key(run)
        shards, eval_file = run.make_shards(2)
        common = ["--discovery", "static", "--key-file", key_file, "--checkpoint-interval", "0",
                  "--eval-interval", "10", "--max-frames-per-second", args.max_frames_per_second]
        # Train flat out (no epoch pacing), so that the rate shows the CPU the node gets.
        if "--intervals-per-epoch" in subprocess.run([run_bin(), "run", "--help"], capture_output=True,
                                                     text=True).stdout:
            common += ["--intervals-per-epoch", "0"]
        target = run.add_node("target", shards[0], common + ["--eval-data", eval_file])
        friend = run.add_node("friend", shards[1], common)
        target.extra.append(f"--peer={friend.address}")
        friend.extra.append(f"--peer={target.address}")
        target.start(), friend.start()
        target.wait_ready(), friend.wait_ready()
        wait_for(lambda: (target.status() or {}).get("exchanges_ok", 0) > 2, 60, "first exchanges")
        q0 = thread_cpu(target.proc.pid)
        quiet_samples0 = target.status()["samples_trained"]
        quiet = rate(target, args.quiet_seconds)
        before = target.status()
        q1 = thread_cpu(target.proc.pid)
        quiet_train_cpu = max(q1[t] - q0.get(t, 0) for t in q1)
        quiet_per_cpu = (before["samples_trained"] - quiet_samples0) / quiet_train_cpu

        result = {}
        flooder = threading.Thread(target=lambda: result.update(flood(target.address, key, args.frames,
                                                                      args.connections)))
        t0 = time.monotonic()
        a = target.status()
        cpu0, own0 = thread_cpu(target.proc.pid), os.times()
        flooder.start()
        rates = []
        while flooder.is_alive():
            rates.append(rate(target, 5))
        flooder.join()
        elapsed = time.monotonic() - t0
        cpu1, own1 = thread_cpu(target.proc.pid), os.times()
        deltas = sorted((cpu1[t] - cpu0.get(t, 0) for t in cpu1), reverse=True)
        b = target.status()
        loaded = (b["samples_trained"] - a["samples_trained"]) / elapsed
        quiet_after = rate(target, args.quiet_seconds / 2)
        after = target.status()
        nonfinite = sum(1 for x in after["param_sample"] if not math.isfinite(x))
        drop = 100 * (1 - loaded / quiet)
        loaded_per_cpu = (b["samples_trained"] - a["samples_trained"]) / deltas[0]
        print(f"frames: {args.frames} over {args.connections} threads in {elapsed:.1f} s "
              f"({args.frames / elapsed:.0f}/s); client side: {result}")
        print(f"node: alive={target.alive()}, frames_rejected +{after['frames_rejected'] - before['frames_rejected']}, "
              f"auth_failures {after['auth_failures']}, frames_throttled {after['frames_throttled']}, "
              f"exchanges_ok {before['exchanges_ok']} -> {after['exchanges_ok']}")
        print(f"non-finite parameters in param_sample: {nonfinite}")
        print(f"CPU during the flood: node training thread {100 * deltas[0] / elapsed:.0f}% of a core, "
              f"its other threads (io, status, discovery) {100 * sum(deltas[1:]) / elapsed:.0f}%; "
              f"the flooder (this Python process) {100 * (own1.user + own1.system - own0.user - own0.system) / elapsed:.0f}%")
        print(f"training rate: quiet {quiet:.0f}/s, under load {loaded:.0f}/s (5 s windows: "
              f"{', '.join(f'{r:.0f}' for r in rates)}), after {quiet_after:.0f}/s; drop {drop:.1f}% "
              f"(target <= 20%: {'met' if drop <= 20 else 'NOT met'})")
        print(f"samples per CPU-second of the training thread (independent of other load on the machine): "
              f"quiet {quiet_per_cpu:.0f}, under the flood {loaded_per_cpu:.0f} "
              f"({100 * (1 - loaded_per_cpu / quiet_per_cpu):+.1f}% drop)")
        print(f"eval accuracy: before {before['eval']['accuracy'] if before['eval'] else None}, "
              f"after {after['eval']['accuracy'] if after['eval'] else None}")
        print(f"target exit code on SIGTERM: {target.stop()}")
    finally:
        run.tearDown()


if __name__ == "__main__":
    main()
