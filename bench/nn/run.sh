#!/usr/bin/env bash
# Model benchmark (issue 2): runs the default `gossip-learner train` on data/names and
# prints its quality, speed and memory beside the targets; when `import torch` works
# with /usr/bin/python3, also times a PyTorch GRU on the same data in the same run.
# Usage: bench/nn/run.sh [PATH/TO/gossip-learner] [TORCH_EPOCHS]   (default: build/gossip-learner, 2)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build/gossip-learner}
torch_epochs=${2:-2}
data=$root/data/names
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[[ -x $bin ]] || { echo "no binary at $bin: build it first (cmake --build build)" >&2; exit 1; }
echo "== gossip-learner train --data data/names (defaults: hidden 128, batch 32, lr 3e-3, 15 epochs)"
"$bin" train --data "$data" --out "$work/model.glm" | tee "$work/train.log"

kept=$(sed -n 's/^kept epoch \([0-9]*\).*/\1/p' "$work/train.log")
read -r acc f1 < <(sed -n 's/^kept epoch .*validation accuracy \([0-9.]*\) macro-F1 \([0-9.]*\);.*/\1 \2/p' "$work/train.log")
# Median epoch throughput: robust to other jobs sharing the machine.
rate=$(awk '$1 == "epoch" { print $10 }' "$work/train.log" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
best_rate=$(awk '$1 == "epoch" { print $10 }' "$work/train.log" | sort -n | tail -1)
rss=$(sed -n 's/^peak RSS \([0-9.]*\) MB/\1/p' "$work/train.log")

torch_rate=""
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "== PyTorch reference (torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), 1 thread, $torch_epochs epoch(s))"
  /usr/bin/python3 "$root/bench/nn/torch_reference.py" "$data" "$torch_epochs" | tee "$work/torch.log"
  torch_rate=$(sed -n 's/^torch_samples_per_s //p' "$work/torch.log")
else
  echo "== PyTorch not importable by /usr/bin/python3 (apt-get install python3-torch): reference figure only"
fi

echo
echo "| figure | gossip-learner | target | reference |"
echo "|---|---:|---:|---|"
echo "| validation accuracy (kept epoch $kept) | $acc | >= 0.82 | PyTorch GRU 0.824 |"
echo "| validation macro-F1 (kept epoch $kept) | $f1 | >= 0.50 | PyTorch GRU 0.505 |"
if [[ -n $torch_rate ]]; then
  ratio=$(awk -v a="$rate" -v b="$torch_rate" 'BEGIN { printf "%.2f", a / b }')
  echo "| training samples/s, 1 thread (median epoch; best $best_rate) | $rate | >= 2x PyTorch = $((2 * torch_rate)) | PyTorch measured now: $torch_rate (${ratio}x) |"
else
  echo "| training samples/s, 1 thread (median epoch; best $best_rate) | $rate | >= 3740 | PyTorch GRU 1,870 (notes) |"
fi
echo "| peak RSS of train (VmHWM) | $rss MB | <= 50 MB | |"
