"""8 nodes, one of them poisoned (issue 6 target): the honest nodes' holdout accuracy stays
within 2 points of a clean run.

Clean run: 8 honest keyed nodes. Poisoned run: the same 7 honest nodes plus, in the 8th slot, a
Python peer with the right key that answers every exchange with the model it was sent scaled
(x1000) or replaced by random weights, and pushes such a model to a random honest node every
gossip interval. Both runs last the same time; the score is the mean eval accuracy of nodes
0..6 (smoothed over the last three readings).
Usage: GL_BIN=build/gossip-learner python3 bench/security/poison_bench.py [--seconds 90] [--mode scale|random]
"""
import argparse
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "integration"))
from harness import ClusterTestCase, wait_for  # noqa: E402
from test_security import EXCHANGE_REQUEST, Client, PeerServer, make_key, model_body  # noqa: E402


class Run(ClusterTestCase):
    def runTest(self):
        pass


def poisoner(mode):
    rng = random.Random(1)
    if mode == "scale":
        return lambda params: [x * 1000 for x in params]
    return lambda params: [rng.gauss(0, 1) for _ in params]


def one_run(args, poisoned):
    run = Run()
    run.setUp()
    try:
        key_file, key = make_key(run)
        shards, eval_file = run.make_shards(8)
        common = ["--hidden", str(args.hidden), "--discovery", "static", "--key-file", key_file,
                  "--checkpoint-interval", "0", "--eval-interval", "5", "--gossip-interval", "1",
                  "--eval-data", eval_file]
        honest = [run.add_node(f"n{i}", shards[i], common) for i in range(7 if poisoned else 8)]
        bad = None
        seen = []  # the last honest model the poisoner received
        stop = threading.Event()
        addresses = [n.address for n in honest]
        if poisoned:
            honest[0].start()
            signature = honest[0].wait_ready()["signature"]
            honest[0].stop()
            poison = poisoner(args.mode)

            def answer(params):  # remembers the honest model it was sent, for the pushes
                seen[:] = params
                return poison(params)
            bad = PeerServer("poisoner", signature, key, answer)
            addresses.append(bad.address)
        for node in honest:
            node.extra += [f"--peer={a}" for a in addresses if a != node.address]
            node.start()
        for node in honest:
            node.wait_ready()

        def push():  # the poisoner also starts exchanges, one per gossip interval
            rng = random.Random(2)
            while not stop.wait(1.0):
                try:
                    target = rng.choice(honest[:7])
                    status = target.status()
                    if not status:
                        continue
                    client = Client(target.address, key)
                    params = list(seen) or [0.01] * status["param_count"]
                    client.request(EXCHANGE_REQUEST, model_body("poisoner", status["signature"], poison(params),
                                                                10 ** 9, 1000))
                    client.close()
                except (OSError, ConnectionError):
                    pass

        if poisoned:
            threading.Thread(target=push, daemon=True).start()
        scores = []
        start = time.monotonic()
        while time.monotonic() - start < args.seconds:
            time.sleep(5)
            s = [n.status() for n in honest[:7]]
            if all(x and x["eval"] for x in s):
                scores.append(sum(x["eval"]["accuracy"] for x in s) / 7)
        stop.set()
        final = [n.status() for n in honest[:7]]
        rejected = sum(x["rejected_updates"] for x in final)
        if bad:
            bad.stop()
        return sum(scores[-3:]) / len(scores[-3:]), rejected, (bad.exchanges if bad else 0)
    finally:
        run.tearDown()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--mode", default="scale", choices=["scale", "random"])
    args = parser.parse_args()
    clean, clean_rejected, _ = one_run(args, poisoned=False)
    dirty, rejected, answered = one_run(args, poisoned=True)
    print(f"clean run:    honest eval accuracy {clean:.4f} (rejected updates {clean_rejected})")
    print(f"poisoned run: honest eval accuracy {dirty:.4f} (rejected updates {rejected}; poisoner answered "
          f"{answered} exchanges and pushed one per second), mode {args.mode}")
    gap = 100 * (clean - dirty)
    print(f"gap: {gap:+.2f} points (target within 2: {'met' if abs(gap) <= 2 else 'NOT met'})")


if __name__ == "__main__":
    main()
