#!/bin/sh
# Benchmarks of `gossip-learner simulate` (bench/RESULTS.md "Simulate"). From the repository root:
#   bench/simulate/run.sh scaling   cost per simulated gossip interval (3 s) at 10, 100, 1,000 nodes
#   bench/simulate/run.sh modes     gossip / local / central at 100 nodes, IID and Dirichlet 0.3
#   bench/simulate/run.sh big       1,000 nodes, IID and Dirichlet 0.3, whole runs
# Data: data/names split 90/10 into a training file and a held-out file (seed 7), in $WORK.
set -eu
BIN=${GL_BIN:-build/gossip-learner}
WORK=${WORK:-/tmp/gl-sim-bench}
mkdir -p "$WORK"
if [ ! -f "$WORK/train.tsv" ]; then
  "$BIN" split --data data/names --nodes 10 --seed 7 --out "$WORK/holdout" >/dev/null
  cp "$WORK/holdout/node-0.tsv" "$WORK/eval.tsv"
  head -n 50 "$WORK/eval.tsv" > "$WORK/eval50.tsv"   # scoring kept negligible in the scaling runs
  for i in 1 2 3 4 5 6 7 8 9; do cat "$WORK/holdout/node-$i.tsv"; done > "$WORK/train.tsv"
fi
run() {  # OUT ARGS...: one run, its summary and CPU seconds
  out=$1; shift
  rm -rf "${WORK:?}/$out"
  /usr/bin/time -f "cpu_s %U+%S" "$BIN" simulate --data "$WORK/train.tsv" --out "$WORK/$out" "$@" 2>&1 | tail -n 2
}
case ${1:-scaling} in
  scaling)
    for n in 10 100 1000; do
      echo "== $n nodes, 60 s virtual (20 intervals)"
      run "scale-$n" --nodes "$n" --eval-data "$WORK/eval50.tsv" --duration 60 --sample-every 60
    done ;;
  modes)
    for scheme in ${SCHEMES:-iid dirichlet}; do
      for mode in gossip local central; do
        echo "== 100 nodes, $scheme, $mode"
        run "modes-$scheme-$mode" --nodes 100 --scheme "$scheme" --mode "$mode" --eval-data "$WORK/eval.tsv" \
          --duration "${DURATION:-600}" --sample-every 120
      done
    done ;;
  big)
    for scheme in iid dirichlet; do
      echo "== 1000 nodes, $scheme"
      run "big-$scheme" --nodes 1000 --scheme "$scheme" --eval-data "$WORK/eval.tsv" \
        --duration "${DURATION:-1800}" --sample-every 300
    done ;;
esac
