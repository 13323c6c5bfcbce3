#!/usr/bin/env python3
"""Coordinator-mode benchmark (issue 5) on this machine, loopback, real processes.

  bench/coordinator/run.py [--nodes 8] [--alpha 0.3] [--rounds 30] [--hidden 128] [--epochs 1]
                           [--strategy S] [--extra "--client-lr 0.01 ..."]

Holds out an IID tenth of data/names as the common evaluation file, splits the rest into
--nodes Dirichlet(alpha) shards, starts one coordinator (the node's default strategy and
round settings unless --strategy / --extra say otherwise; fraction 1 = all nodes every
round, E = --epochs) and one node per shard, and records after every round the global
model's accuracy and macro-F1 on the held-out file and the coordinator's overhead (round wall
time minus the slowest participant's training time: everything but the nodes' training).
Targets (issue 5): >= 78% holdout accuracy by round 30; overhead <= 50 ms per round.
"""
import argparse
import os
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


def gl(*args):
    res = subprocess.run([harness.BIN] + list(args), capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"gossip-learner {' '.join(args)} failed: {res.stderr}")


def make_data(workdir, nodes, alpha, seed):
    holdout = os.path.join(workdir, "holdout")
    gl("split", "--data", harness.DATA, "--nodes", "10", "--scheme", "iid", "--seed", "7", "--out", holdout)
    train = os.path.join(workdir, "train.tsv")
    with open(train, "w") as out:
        for i in range(1, 10):
            with open(os.path.join(holdout, f"node-{i}.tsv")) as part:
                out.write(part.read())
    shards = os.path.join(workdir, "shards")
    gl("split", "--data", train, "--nodes", str(nodes), "--scheme", "dirichlet", "--alpha", str(alpha),
       "--seed", str(seed), "--out", shards)
    sizes = []
    for i in range(nodes):
        with open(os.path.join(shards, f"node-{i}.tsv")) as f:
            sizes.append(sum(1 for _ in f))
    return [os.path.join(shards, f"node-{i}.tsv") for i in range(nodes)], os.path.join(holdout, "node-0.tsv"), sizes


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nodes", type=int, default=8)
    p.add_argument("--alpha", type=float, default=0.3)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--strategy", default="", help="fedavg | fednova | trimmed-mean (default: the node's)")
    p.add_argument("--extra", default="", help="more run flags for every process")
    args = p.parse_args()

    workdir = tempfile.mkdtemp(prefix="gl-bench-coord-")
    shards, eval_file, sizes = make_data(workdir, args.nodes, args.alpha, args.seed)
    print(f"{args.nodes} Dirichlet({args.alpha}) shards, sizes {min(sizes)}..{max(sizes)} names; "
          f"hidden {args.hidden}, E={args.epochs}, {args.strategy or 'default strategy'}, all nodes every round")
    common = ["--hidden", str(args.hidden), "--seed", "1", "--eval-interval-s", "600", "--checkpoint-interval-s", "0",
              "--discovery", "static", "--cluster", "bench-coord", "--gossip-interval-s", "0"] + args.extra.split()
    ports = harness.free_ports(args.nodes + 1)
    coordinator = harness.NodeProcess(workdir, "coord", ports[0], eval_file, common + [
        "--role", "coordinator", "--eval-data", eval_file, "--min-nodes", str(args.nodes),
        "--local-epochs", str(args.epochs), "--fraction", "1"] + (["--strategy", args.strategy] if args.strategy else []))
    nodes = [harness.NodeProcess(workdir, f"n{i}", ports[i + 1], shards[i], common + ["--peers", coordinator.address])
             for i in range(args.nodes)]
    coordinator.extra += sum((["--peers", n.address] for n in nodes), [])
    everyone = nodes + [coordinator]
    per_round = {}
    start = time.monotonic()
    try:
        for n in everyone:
            n.start().wait_ready(60)
        while True:
            s = coordinator.status()
            if s and s.get("round"):
                per_round.setdefault(s["round"], {})["overhead_ms"] = s["last_overhead_ms"]
                per_round[s["round"]]["round_ms"] = s["last_round_ms"]
                per_round[s["round"]]["bytes"] = s["bytes_sent"] + s["bytes_received"]
                if s.get("global"):
                    per_round.setdefault(s["global_round"], {})["global"] = s["global"]
                if s.get("global_round", 0) >= args.rounds:
                    break
            if time.monotonic() - start > 3600:
                sys.exit("no result within an hour")
            time.sleep(0.1)
    finally:
        for n in everyone:
            if n.alive():
                n.stop(signal.SIGTERM)
    print(" round  accuracy  macro-F1  round s  overhead ms  coordinator MB (cumulative)")
    for r in sorted(per_round):
        g = per_round[r].get("global")
        if g is None or "overhead_ms" not in per_round[r]:
            continue
        print(f"{r:6d}  {100 * g['accuracy']:7.1f}%  {g['macro_f1']:8.3f}  {per_round[r]['round_ms'] / 1000:7.2f}  "
              f"{per_round[r]['overhead_ms']:11.1f}  {per_round[r]['bytes'] / 1e6:8.1f}")
    overheads = [v["overhead_ms"] for v in per_round.values() if "overhead_ms" in v]
    final = per_round[args.rounds]["global"]["accuracy"] if "global" in per_round.get(args.rounds, {}) else None
    best = max(v["global"]["accuracy"] for v in per_round.values() if "global" in v)
    print(f"holdout accuracy at round {args.rounds}: {100 * final:.1f}% (best {100 * best:.1f}%; target >= 78%)"
          if final is not None else "round result missing")
    print(f"coordinator overhead per round: median {statistics.median(overheads):.1f} ms, mean "
          f"{statistics.mean(overheads):.1f} ms, max {max(overheads):.1f} ms over {len(overheads)} rounds "
          f"(target <= 50 ms); wall time {time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main()
