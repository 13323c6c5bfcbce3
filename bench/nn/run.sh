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
# Median epoch throughput, wall clock and per CPU-second (the latter is less disturbed
# by other jobs on a shared machine).
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
rate=$(awk '$1 == "epoch" { print $10 }' "$work/train.log" | median)
cpu_rate=$(awk '$1 == "epoch" { gsub(/\(/, "", $12); print $12 }' "$work/train.log" | median)
rss=$(sed -n 's/^peak RSS \([0-9.]*\) MB/\1/p' "$work/train.log")

torch_rate="" torch_cpu_rate=""
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "== PyTorch reference (torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), 1 thread, $torch_epochs epoch(s))"
  /usr/bin/python3 "$root/bench/nn/torch_reference.py" "$data" "$torch_epochs" | tee "$work/torch.log"
  torch_rate=$(sed -n 's/^torch_samples_per_s //p' "$work/torch.log")
  torch_cpu_rate=$(sed -n 's/^torch_samples_per_cpu_s //p' "$work/torch.log")
else
  echo "== PyTorch not importable by /usr/bin/python3 (apt-get install python3-torch): reference figure only"
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "| figure | gossip-learner | target | reference |"
echo "|---|---:|---:|---|"
echo "| validation accuracy (kept epoch $kept) | $acc | >= 0.82 | PyTorch GRU 0.824 (notes) |"
echo "| validation macro-F1 (kept epoch $kept) | $f1 | >= 0.50 | PyTorch GRU 0.505 (notes) |"
if [[ -n $torch_rate ]]; then
  echo "| training samples/s, 1 thread, wall clock (median epoch) | $rate | >= 2x PyTorch | PyTorch now: $torch_rate ($(ratio "$rate" "$torch_rate")x) |"
  echo "| training samples per CPU-second (median epoch) | $cpu_rate | >= 2x PyTorch | PyTorch now: $torch_cpu_rate ($(ratio "$cpu_rate" "$torch_cpu_rate")x) |"
else
  echo "| training samples/s, 1 thread, wall clock (median epoch) | $rate | >= 3740 | PyTorch GRU 1,870 (notes; $(ratio "$rate" 1870)x) |"
  echo "| training samples per CPU-second (median epoch) | $cpu_rate | >= 3740 | PyTorch GRU 1,870 (notes; $(ratio "$cpu_rate" 1870)x) |"
fi
echo "| peak RSS of train (VmHWM) | $rss MB | <= 50 MB | |"
