"""Measures how far apart honest peers' models are during a normal run, to choose the default
max_update_norm (docs/ARCHITECTURE.md "Security").

Starts N nodes on loopback (default settings, no bound), then a late fresh node; samples each
node's update_norm_max (largest L2 distance of a merged model from the local one) and the norm
of its own parameters (estimated from param_sample). Usage:
  GL_BIN=build/gossip-learner python3 bench/security/update_norms.py [--nodes 4] [--seconds 120]
"""
import argparse
import math
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
from harness import ClusterTestCase  # noqa: E402


class Run(ClusterTestCase):
    def runTest(self):
        pass


def param_norm(status):
    sample = status["param_sample"]
    return math.sqrt(sum(x * x for x in sample) * status["param_count"] / len(sample))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--hidden", default="128")
    args = parser.parse_args()
    run = Run()
    run.setUp()
    try:
        shards, eval_file = run.make_shards(args.nodes + 1)
        common = ["--hidden", args.hidden, "--discovery", "static", "--max-update-norm", "0",
                  "--checkpoint-interval-s", "0", "--eval-interval-s", "5", "--eval-data", eval_file]
        nodes = [run.add_node(f"n{i}", shards[i], common) for i in range(args.nodes)]
        late = run.add_node("late", shards[args.nodes], common)
        everyone = nodes + [late]
        for node in everyone:
            node.extra += [f"--peers={n.address}" for n in everyone if n is not node]
        for node in nodes:
            node.start()
        for node in nodes:
            node.wait_ready()
        start = time.monotonic()
        late_started = False
        while time.monotonic() - start < args.seconds:
            time.sleep(10)
            if not late_started and time.monotonic() - start > args.seconds / 2:
                late.start()
                late.wait_ready()
                late_started = True
            statuses = [(n.name, n.status()) for n in everyone if n.alive()]
            line = "  ".join(f"{name}: merged<= {s['update_norm_max']:.2f} |w|={param_norm(s):.1f} "
                             f"acc={(s['eval'] or {}).get('accuracy', 0):.3f}" for name, s in statuses if s)
            print(f"t={time.monotonic() - start:5.0f}s  {line}", flush=True)
    finally:
        run.tearDown()


if __name__ == "__main__":
    main()
