#!/usr/bin/env bash
# Builds and runs the gossip exchange benchmark; prints figures beside the issue-3 targets.
# Usage: bench/gossip/run.sh [BUILD_DIR=build] [exchanges=300] [params=75000]
set -euo pipefail
build_dir=${1:-build}
cmake --build "$build_dir" --target gossip_exchange_bench -j2 >/dev/null
bench=$(find "$build_dir" -name gossip_exchange_bench -type f -executable | head -1)
"$bench" "${2:-300}" "${3:-75000}"
