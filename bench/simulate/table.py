#!/usr/bin/env python3
"""The markdown table of `bench/simulate/run.sh table`: one row per simulation, from its
--out folder's summary.json and the user and system CPU seconds /usr/bin/time wrote beside it
(FOLDER.cpu). Usage: table.py SCHEME FOLDER [SCHEME FOLDER ...]; rows in that order."""
import json
import sys


def row(scheme, folder):
    with open(folder + "/summary.json") as f:
        s = json.load(f)
    with open(folder + ".cpu") as f:
        cpu_s = sum(float(x) for x in f.read().split())
    percent = lambda key: f"{100 * s[key]:.1f}%"
    return (f"| {s['mode']} | {scheme} | {percent('median_accuracy')} | {percent('p10_accuracy')} | "
            f"{percent('min_accuracy')} | {s['mb_sent_per_node']:.2f} | {s['mean_epochs']:.1f} | "
            f"{s['virtual_s']:.1f} | {cpu_s:.1f} |")


def main(args):
    if not args or len(args) % 2:
        sys.exit("usage: table.py SCHEME FOLDER [SCHEME FOLDER ...]")
    print("| mode | scheme | median | p10 | min | MB sent/node | local epochs | virtual s | CPU s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for scheme, folder in zip(args[::2], args[1::2]):
        print(row(scheme, folder))


if __name__ == "__main__":
    main(sys.argv[1:])
