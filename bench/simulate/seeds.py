#!/usr/bin/env python3
"""The table of `bench/simulate/run.sh seeds`: issue 15's targets (every node at 80% on the
held-out file having sent <= 15 MB, and at 74% within 2.4 MB) per seed, from each gossip
run's curves.csv and summary.json, with one model trained on all the data (the run's central
folder) beside it. Usage: seeds.py SEED GOSSIP_FOLDER CENTRAL_FOLDER [SEED ...]."""
import csv
import json
import statistics
import sys

TARGETS = ((0.74, 2.4), (0.80, 15.0))  # (accuracy, MB the last node may have sent by then)


def summary(folder):
    with open(folder + "/summary.json") as f:
        return json.load(f)


def first_reached(folder):
    """(nodes, [{node: (t_s, mb_sent)} of each node's first record at or above each target's accuracy])."""
    firsts, nodes = [{} for _ in TARGETS], set()
    with open(folder + "/curves.csv") as f:
        for r in csv.DictReader(f):
            nodes.add(r["node"])
            for (accuracy, _), first in zip(TARGETS, firsts):
                if r["node"] not in first and float(r["accuracy"]) >= accuracy:
                    first[r["node"]] = (float(r["t_s"]), float(r["mb_sent"]))
    return len(nodes), firsts


def cell(nodes, first, budget_mb):
    """The markdown cell for one target and whether it was met."""
    if len(first) < nodes:
        return f"{len(first)} of {nodes} nodes", False
    last_mb = max(mb for _, mb in first.values())
    last_s = max(t for t, _ in first.values())
    return f"{last_s:.0f} s, {last_mb:.1f} MB", last_mb <= budget_mb


def main(args):
    if not args or len(args) % 3:
        sys.exit("usage: seeds.py SEED GOSSIP_FOLDER CENTRAL_FOLDER [SEED GOSSIP_FOLDER CENTRAL_FOLDER ...]")
    runs = list(zip(args[::3], args[1::3], args[2::3]))
    print("| seed | every node >= 74% (<= 2.4 MB) | every node >= 80% (<= 15 MB) | end min / median | "
          "one model on all the data, end |")
    print("|---|---|---|---|---|")
    met = [0] * len(TARGETS)
    ends, central_ends = [], []
    for seed, gossip, central in runs:
        cells = []
        nodes, firsts = first_reached(gossip)
        for k, ((_, budget), first) in enumerate(zip(TARGETS, firsts)):
            text, ok = cell(nodes, first, budget)
            met[k] += ok
            cells.append(text + (" (met)" if ok else ""))
        s, c = summary(gossip), summary(central)
        ends.append(s["median_accuracy"])
        central_ends.append(c["median_accuracy"])
        print(f"| {seed} | {cells[0]} | {cells[1]} | {100 * s['min_accuracy']:.1f} / "
              f"{100 * s['median_accuracy']:.1f}% | {100 * c['median_accuracy']:.1f}% |")
    print(f"\nEvery node at 74% within 2.4 MB on {met[0]} of {len(runs)} seeds, at 80% within 15 MB on "
          f"{met[1]} of {len(runs)}; mean end median {100 * statistics.mean(ends):.2f}% "
          f"(one model on all the data: {100 * statistics.mean(central_ends):.2f}%).")


if __name__ == "__main__":
    main(sys.argv[1:])
