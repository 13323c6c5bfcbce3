#!/bin/sh
# Builds tests/fuzz/frame_fuzzer.cc with clang (libFuzzer + AddressSanitizer + UBSan) and runs
# it for a bounded time. Exit 77 (ctest: skipped) when clang or libFuzzer is missing.
#   run_fuzz.sh SOURCE_DIR WORK_DIR SECONDS [extra libFuzzer flags...]
set -eu
src=$1; work=$2; seconds=$3; shift 3
CXX_FUZZ=${CXX_FUZZ:-clang++}
if ! command -v "$CXX_FUZZ" >/dev/null 2>&1; then
  echo "SKIP: $CXX_FUZZ not installed (apt-get install clang libclang-rt-14-dev)"; exit 77
fi
mkdir -p "$work/corpus"
bin=$work/frame_fuzzer
if ! "$CXX_FUZZ" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$src/src" "$src/tests/fuzz/frame_fuzzer.cc" "$src/src/gossip/wire/codec.cc" "$src/src/gossip/wire/model_codec.cc" \
    "$src/src/gossip/wire/auth.cc" \
    "$src/src/gossip/wire/frame_cipher.cc" \
    "$src/src/common/status.cc" "$src/src/common/log.cc" -lsodium -o "$bin" 2>"$work/build.log"; then
  if grep -q "fuzzer" "$work/build.log" && ! grep -q "error:.*\.cc" "$work/build.log"; then
    echo "SKIP: libFuzzer runtime missing (apt-get install libclang-rt-14-dev)"; cat "$work/build.log"; exit 77
  fi
  cat "$work/build.log"; exit 1
fi
# Seeds: valid frames of each kind, so mutations start past the header checks.
python3 "$src/tests/fuzz/seeds.py" "$work/corpus"
exec "$bin" -max_total_time="$seconds" -rss_limit_mb=1024 -print_final_stats=1 "$@" "$work/corpus"
