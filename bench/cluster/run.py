#!/usr/bin/env python3
"""Cluster-level benchmarks of gossip-learner on this machine (loopback), printed beside
the targets of issues 3 and 4. Uses tools/cluster; standard library only.

  bench/cluster/run.py accuracy [--nodes 8] [--scheme dirichlet] [--alpha 0.3] [--minutes 15] [--seed 1]
      Every node's accuracy on the common held-out file over time; the time and the bytes
      each node had sent when it first reached the target (default 80%).
  bench/cluster/run.py memory [--nodes 16] [--seconds 60]
      Peak and current RSS of each of N nodes running together.
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLUSTER = os.path.join(ROOT, "tools", "cluster")


def cluster(*args, capture=False):
    res = subprocess.run([sys.executable, CLUSTER] + list(args), capture_output=capture, text=True)
    if res.returncode != 0:
        sys.exit(f"tools/cluster {' '.join(args)} failed:\n{res.stderr if capture else ''}")
    return res.stdout


def statuses(cluster_dir):
    return json.loads(cluster("status", "--json", "--dir", cluster_dir, capture=True))


def proc_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def bench_accuracy(args):
    cluster_dir = os.path.join(ROOT, ".bench-cluster")
    extra = ["--"] + args.run_flags.split() if args.run_flags else []
    cluster("up", str(args.nodes), "--fresh", "--scheme", args.scheme, "--alpha", str(args.alpha), "--static",
            "--dir", cluster_dir, "--base-port", str(args.base_port), "--gossip-interval", str(args.gossip_interval),
            "--seed", str(args.seed), *extra)
    reached = {}
    start = time.time()
    try:
        while time.time() - start < args.minutes * 60:
            time.sleep(args.every)
            st = statuses(cluster_dir)
            accs = {n: (s["eval"]["accuracy"] if s and s.get("eval") else 0.0) for n, s in st.items()}
            for n, s in st.items():
                if n not in reached and accs[n] >= args.target:
                    reached[n] = (time.time() - start, s["bytes_sent"], s["bytes_received"], s["epochs"])
            line = " ".join(f"{100 * a:5.1f}" for a in accs.values())
            print(f"{time.time() - start:6.0f} s  eval acc %: {line}   min {100 * min(accs.values()):5.1f}",
                  flush=True)
            if len(reached) == len(st) and not args.full:
                break
        final = statuses(cluster_dir)
    finally:
        cluster("down", "--dir", cluster_dir)
    print(f"\n== {args.nodes} nodes, {args.scheme} (alpha {args.alpha}) shards, held-out eval file ==")
    print(f"{'node':8} {'final acc':>9} {'reached ' + str(int(100 * args.target)) + '% at':>16} "
          f"{'MB sent then':>13} {'MB recv then':>13} {'MB sent total':>14}")
    for n, s in final.items():
        r = reached.get(n)
        at = f"{r[0]:7.0f} s ep {r[3]:3d}" if r else "never"
        print(f"{n:8} {100 * s['eval']['accuracy']:8.1f}% {at:>16} {(r[1] / 1e6 if r else 0):13.2f} "
              f"{(r[2] / 1e6 if r else 0):13.2f} {s['bytes_sent'] / 1e6:14.2f}")
    print(f"target: every node >= {100 * args.target:.0f}% (reference: PyTorch gossip simulation 77.6%, "
          f"FedAvg 77.4%, local-only 54%)   result: "
          f"{'MET' if len(reached) == len(final) else 'NOT MET'} ({len(reached)}/{len(final)} nodes)")


def bench_memory(args):
    cluster_dir = os.path.join(ROOT, ".bench-cluster")
    cluster("up", str(args.nodes), "--fresh", "--static", "--dir", cluster_dir, "--base-port", "7700")
    try:
        time.sleep(args.seconds)  # a benchmark runs for a fixed time by design
        rows = []
        for i in range(args.nodes):
            with open(os.path.join(cluster_dir, f"node-{i}", "pid")) as f:
                pid = int(f.read())
            rows.append((i, proc_kb(pid, "VmHWM"), proc_kb(pid, "VmRSS")))
        st = statuses(cluster_dir)
    finally:
        cluster("down", "--dir", cluster_dir)
    print(f"\n== {args.nodes} nodes together for {args.seconds} s ==")
    for i, hwm, rss in rows:
        s = st.get(f"node-{i}") or {}
        print(f"node-{i:<3} peak RSS {hwm / 1024:6.1f} MB  RSS {rss / 1024:6.1f} MB  "
              f"exchanges {s.get('exchanges_ok', 0)}  epochs {s.get('epochs', 0)}")
    worst = max(h for _, h, _ in rows) / 1024
    print(f"target: each node's RSS <= 40 MB   worst peak {worst:.1f} MB   result: {'MET' if worst <= 40 else 'NOT MET'}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    a = sub.add_parser("accuracy")
    a.add_argument("--nodes", type=int, default=8)
    a.add_argument("--scheme", default="dirichlet")
    a.add_argument("--alpha", type=float, default=0.3)
    a.add_argument("--minutes", type=float, default=15)
    a.add_argument("--every", type=float, default=15)
    a.add_argument("--target", type=float, default=0.80)
    a.add_argument("--gossip-interval", type=float, default=1.0)
    a.add_argument("--seed", type=int, default=1, help="seed of the shards (and, plus i, of node i)")
    a.add_argument("--full", action="store_true", help="run all --minutes, not only until every node got there")
    a.add_argument("--run-flags", default="", help="extra flags for every node, e.g. '--hidden 64'")
    a.add_argument("--base-port", type=int, default=7600, help="node i listens on base + i (keep runs side by side apart)")
    m = sub.add_parser("memory")
    m.add_argument("--nodes", type=int, default=16)
    m.add_argument("--seconds", type=float, default=60)
    args = p.parse_args()
    {"accuracy": bench_accuracy, "memory": bench_memory}[args.what](args)


if __name__ == "__main__":
    main()
