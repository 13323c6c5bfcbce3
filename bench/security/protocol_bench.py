"""The issue-12 part B targets for the protocol-level attacks, one fresh open pair per case.

A target node gossips with an honest friend (static peers, hidden 64, 0.5 s gossip interval,
a checkpoint every 5 s). After a quiet window the attack runs, then a window of the same
length is measured. Per case: the target alive, its RSS growth (VmRSS) and log growth over the
attack and the window after it, the honest exchange rate (the target's exchanges_ok per
second) in the window against the quiet one, non-finite values in the target's parameter
sample, its mode and peer count, model_age against samples_trained for both nodes, and
whether the target restarts from its own checkpoint with finite parameters.

Cases: forged-hello (one Hello with another signature naming the other node, to each),
round-peer (a RoundRequest naming the friend as coordinator, model of 1e30s), round-nan (NaN
learning rate), round-batch0, round-epochs (2^32 - 1), round-flood (300 made-up coordinators
and addresses), age-liar (a third peer claiming age 2^64 - 1 at every exchange).
Usage: GL_BIN=build/gossip-learner python3 bench/security/protocol_bench.py [--cases a,b] [--window 30]
"""
import argparse
import math
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
from gossip_attacks import AgeLiar  # noqa: E402
from gossip_wire import HELLO, ROUND_REQUEST, ask, hello_body, round_request_body  # noqa: E402
from harness import ClusterTestCase, wait_for  # noqa: E402

CASES = ["forged-hello", "round-peer", "round-nan", "round-batch0", "round-epochs", "round-flood", "age-liar"]
COMMON = ["--hidden", "64", "--eval-interval-s", "5", "--discovery", "static", "--gossip-interval-s", "0.5",
          "--checkpoint-interval-s", "5"]


class Run(ClusterTestCase):
    def runTest(self):
        pass


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def finite(x):
    """NaN and Inf reach the status document as null."""
    return x is not None and math.isfinite(x)


def exchange_rate(node, seconds):
    a, t0 = node.status(), time.monotonic()
    time.sleep(seconds)
    b = node.status()
    return (b["exchanges_ok"] - a["exchanges_ok"]) / (time.monotonic() - t0)


def send_or_error(address, msg_type, body):
    try:
        return ask(address, msg_type, body)[0]
    except (ConnectionError, OSError) as e:
        return f"{type(e).__name__}"


def attack(case, target, friend, signature, count):
    zeros = [0.0] * count
    fid = friend.status()["id"]
    if case == "forged-hello":
        send_or_error(target.address, HELLO, hello_body("forger", "another-model", friend.address))
        send_or_error(friend.address, HELLO, hello_body("forger", "another-model", target.address))
    elif case == "round-peer":
        send_or_error(target.address, ROUND_REQUEST, round_request_body(fid, friend.address, signature, [1e30] * count))
    elif case == "round-nan":
        send_or_error(target.address, ROUND_REQUEST,
                      round_request_body(fid, friend.address, signature, zeros, lr=float("nan")))
    elif case == "round-batch0":
        send_or_error(target.address, ROUND_REQUEST, round_request_body(fid, friend.address, signature, zeros, batch=0))
    elif case == "round-epochs":
        send_or_error(target.address, ROUND_REQUEST,
                      round_request_body(fid, friend.address, signature, zeros, epochs=2**32 - 1))
    elif case == "round-flood":
        for i in range(300):
            made_up = f"127.0.{i // 250 + 1}.{i % 250 + 1}:{20000 + i}"
            send_or_error(target.address, ROUND_REQUEST, round_request_body(f"made-up-{i}", made_up, signature, zeros))


def run_case(case, window, quiet):
    run = Run()
    run.setUp()
    try:
        shards, eval_file = run.make_shards(2)
        friend = run.add_node("friend", shards[1], COMMON)
        signature = friend.start().wait_ready()["signature"]
        extra = ["--eval-data", eval_file, "--peers", friend.address]
        liar = None
        if case == "age-liar":
            liar = AgeLiar("liar", signature, None, None)
            extra += ["--peers", liar.address]
        target = run.add_node("target", shards[0], COMMON + extra)
        friend.extra += ["--peers", target.address]
        friend.stop(), friend.start()
        target.start()
        target.wait_ready(), friend.wait_ready()
        wait_for(lambda: target.status()["exchanges_ok"] >= 4, 60, "first exchanges")
        before_rate = exchange_rate(target, quiet)
        rss0, log0 = rss_mb(target.proc.pid), os.path.getsize(target.log_path)
        count = target.status()["param_count"]
        attack(case, target, friend, signature, count)
        during_rate = exchange_rate(target, window) if target.alive() else 0.0
        alive = target.alive()
        result = {"case": case, "alive": alive, "quiet_rate": before_rate, "attacked_rate": during_rate}
        if alive:
            s, f = target.status(), friend.status()
            result.update(
                rss_growth_mb=rss_mb(target.proc.pid) - rss0,
                log_growth_kb=(os.path.getsize(target.log_path) - log0) / 1024,
                nonfinite=sum(1 for x in s["param_sample"] if not finite(x)),
                max_abs=max((abs(x) for x in s["param_sample"] if finite(x)), default=float("nan")),
                mode=s["mode"], peers=len(s["peers"]),
                age_per_sample=s["model_age"] / max(1, s["samples_trained"]),
                friend_age_per_sample=f["model_age"] / max(1, f["samples_trained"]),
                eval=s["eval"]["accuracy"] if s["eval"] else None)
            target.stop()
            target.start()
            try:
                r = target.wait_ready(30)
                result["restart"] = "finite" if all(finite(x) for x in r["param_sample"]) else "NON-FINITE"
            except AssertionError:
                result["restart"] = "failed"
        if liar:
            liar.stop()
        return result
    finally:
        run.tearDown()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--window", type=float, default=30)
    parser.add_argument("--quiet", type=float, default=15)
    args = parser.parse_args()
    print(f"binary: {os.environ.get('GL_BIN', 'build/gossip-learner')}")
    for case in args.cases.split(","):
        r = run_case(case, args.window, args.quiet)
        kept = 100 * r["attacked_rate"] / r["quiet_rate"] if r["quiet_rate"] else float("nan")
        print(f"{case}: alive {r['alive']}, exchanges/s {r['quiet_rate']:.2f} -> {r['attacked_rate']:.2f} "
              f"({kept:.0f}% kept), " + ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                                                 for k, v in r.items()
                                                 if k not in ("case", "alive", "quiet_rate", "attacked_rate")),
              flush=True)


if __name__ == "__main__":
    main()
