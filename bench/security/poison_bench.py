"""8 nodes, one of them poisoned (issue 6 target): the honest nodes' holdout accuracy stays
within 2 points of a clean run.

Clean run: 8 honest keyed nodes. Poisoned runs: the same 7 honest nodes plus, in the 8th slot,
a Python peer with the right key that answers every exchange with a poisoned model and pushes
one to a random honest node every gossip interval, always claiming age 10^9. Poisons:
  scale:  the model it was sent x1000
  random: random N(0,1) weights
  noise:  the model it was sent plus random noise of L2 norm --noise-norm (default 150: inside
          max_update_norm 200 at any model size, so only the merge can bound it)
  flip:   the model it was sent x -1 (a directed attack: 2 model norms away, inside the bound)
  shrink: the model it was sent x 0.5 (the same pull toward zero, from half a norm away)
  age:    the first (nearly untrained) model it received, resent for ever: only the lie about
          its age can make it count
Run `absent` has the 7 honest nodes alone: on Dirichlet shards the 8th shard's data is missing
from every poisoned run, which costs accuracy by itself. Every run lasts the same time; the score is the mean eval accuracy of nodes 0..6 (smoothed
over the last three readings). `--merge`, `--clip-factor`, `--clip-drop-factor`, `--consensus-pull` and
`--clip-radial-share` set the honest nodes' merge, clipping and pull (config/node.toml).
Usage: GL_BIN=build/gossip-learner python3 bench/security/poison_bench.py [--seconds 90]
           [--merge age-weighted|trimmed-mean] [--merge-window 4] [--clip-factor 1] [--clip-drop-factor 2]
           [--clip-radial-share 0.05] [--consensus-pull 0.0025]
           [--runs clean,absent,scale,random,noise,flip,shrink,age] [--shards iid|dirichlet] [--noise-norm 150]
"""
import argparse
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
from gossip_wire import EXCHANGE_REQUEST, Client, PeerServer, model_body  # noqa: E402
from harness import ClusterTestCase, make_key  # noqa: E402

LYING_AGE = 10 ** 9
POISONS = ["scale", "random", "noise", "flip", "shrink", "age"]


class Run(ClusterTestCase):
    def runTest(self):
        pass


class Poisoner:
    """Turns the honest model it was last sent into the poisoned one it sends back or pushes."""

    def __init__(self, mode, noise_norm):
        self.mode, self.noise_norm, self.rng = mode, noise_norm, random.Random(1)
        self.seen = []   # the last honest model received
        self.first = []  # the first one (mode age)

    def answer(self, params):
        self.seen[:] = params
        if not self.first:
            self.first[:] = params
        return self.poison(params)

    def poison(self, params):
        if self.mode == "scale":
            return [x * 1000 for x in params]
        if self.mode == "random":
            return [self.rng.gauss(0, 1) for _ in params]
        if self.mode == "flip":
            return [-x for x in params]
        if self.mode == "shrink":
            return [0.5 * x for x in params]
        if self.mode == "noise":
            noise = [self.rng.gauss(0, 1) for _ in params]
            scale = self.noise_norm / sum(v * v for v in noise) ** 0.5
            return [x + scale * v for x, v in zip(params, noise)]
        return list(self.first or params)


class LyingPeerServer(PeerServer):
    """A PeerServer whose exchange replies claim LYING_AGE."""

    def answer(self, msg_type, body):
        reply_type, reply = super().answer(msg_type, body)
        if msg_type == EXCHANGE_REQUEST:
            # model_body ends with u64 age, u64 local_samples: overwrite the age.
            reply = reply[:-16] + LYING_AGE.to_bytes(8, "little") + reply[-8:]
        return reply_type, reply


def one_run(args, mode):
    run = Run()
    run.setUp()
    try:
        key_file, key = make_key(run)
        shards, eval_file = run.make_shards(8, scheme=args.shards)
        common = ["--hidden", str(args.hidden), "--discovery", "static", "--key-file", key_file,
                  "--checkpoint-interval-s", "0", "--eval-interval-s", "5", "--gossip-interval-s", "1",
                  "--eval-data", eval_file, "--merge", args.merge, "--merge-window", str(args.merge_window),
                  "--clip-factor", str(args.clip_factor), "--clip-drop-factor", str(args.clip_drop_factor),
                  "--clip-radial-share", str(args.clip_radial_share), "--consensus-pull", str(args.consensus_pull)]
        poisoned = mode not in ("clean", "absent")
        honest = [run.add_node(f"n{i}", shards[i], common) for i in range(8 if mode == "clean" else 7)]
        bad = None
        stop = threading.Event()
        addresses = [n.address for n in honest]
        if poisoned:
            honest[0].start()
            signature = honest[0].wait_ready()["signature"]
            honest[0].stop()
            poisoner = Poisoner(mode, args.noise_norm)
            bad = LyingPeerServer("poisoner", signature, key, poisoner.answer)
            addresses.append(bad.address)
        for node in honest:
            node.extra += [f"--peers={a}" for a in addresses if a != node.address]
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
                    params = list(poisoner.seen) or [0.01] * status["param_count"]
                    client.request(EXCHANGE_REQUEST, model_body("poisoner", status["signature"],
                                                                poisoner.poison(params), LYING_AGE, 1000))
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
                scores.append([x["eval"]["accuracy"] for x in s])
        stop.set()
        final = [n.status() for n in honest[:7]]
        rejected = sum(x["rejected_updates"] for x in final)
        clipped = sum(x["merges_clipped"] for x in final)
        dropped = sum(x["merges_dropped"] for x in final)
        if bad:
            bad.stop()
        last = scores[-3:]
        mean = sum(sum(row) / 7 for row in last) / len(last)
        worst = min(sum(row[i] for row in last) / len(last) for i in range(7))
        return mean, worst, rejected, clipped, dropped, (bad.exchanges if bad else 0)
    finally:
        run.tearDown()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--merge", default="age-weighted", choices=["age-weighted", "average", "trimmed-mean"])
    parser.add_argument("--merge-window", type=int, default=4, help="trimmed-mean: distinct peers kept")
    parser.add_argument("--clip-factor", type=float, default=1, help="the node's default; 0 = no clipping")
    parser.add_argument("--clip-drop-factor", type=float, default=2, help="the node's default; 0 = never drop")
    parser.add_argument("--clip-radial-share", type=float, default=0.05, help="the node's default; 0 = no cap")
    parser.add_argument("--consensus-pull", type=float, default=0.0025, help="the node's default; 0 = off")
    parser.add_argument("--noise-norm", type=float, default=150, help="noise: L2 norm of the noise")
    parser.add_argument("--shards", default="iid", choices=["iid", "dirichlet"], help="dirichlet: alpha 0.3")
    parser.add_argument("--runs", default="clean," + ",".join(POISONS),
                        help="comma-separated: clean, absent and/or " + ", ".join(POISONS) + " (gaps need clean)")
    args = parser.parse_args()
    clean = None
    print(f"merge {args.merge} (window {args.merge_window}), clip factor {args.clip_factor}, "
          f"drop factor {args.clip_drop_factor}, radial share {args.clip_radial_share}, "
          f"consensus pull {args.consensus_pull}, {args.shards} shards, "
          f"{args.seconds:.0f} s per run, hidden {args.hidden}, noise norm {args.noise_norm}")
    print("run     honest mean  worst node  rejected  clipped  dropped  poisoner answered  gap vs clean")
    for mode in args.runs.split(","):
        mean, worst, rejected, clipped, dropped, answered = one_run(args, mode)
        if mode == "clean":
            clean = mean
        gap = "" if clean is None or mode == "clean" else f"{100 * (mean - clean):+.2f} pt" + (
            " (met)" if abs(100 * (mean - clean)) <= 2 else " (NOT met)")
        print(f"{mode:7s} {mean:11.4f}  {worst:10.4f}  {rejected:8d}  {clipped:7d}  {dropped:7d}  {answered:17d}  {gap}",
              flush=True)


if __name__ == "__main__":
    main()
