#!/usr/bin/env bash
# bench/discovery/run.sh BUILD_DIR [discovery_bench flags]: runs discovery_bench against a
# private avahi-daemon instance of its own (started and stopped here) and prints its figures.
# Targets (issue 4): a new node known within 2 s; no VmRSS/fd growth over 1,000 up/down events.
set -eu
BUILD=${1:?usage: run.sh BUILD_DIR [flags]}; shift
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export AVAHI_TEST_DIR=/tmp/gl-avahi-bench AVAHI_TEST_NETNS=gl-avahi-bench
trap '"$ROOT/tools/avahi-test-daemon" stop >/dev/null; rm -rf "$AVAHI_TEST_DIR"' EXIT
"$ROOT/tools/avahi-test-daemon" start >/dev/null
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$AVAHI_TEST_DIR/run/system_bus_socket
BENCH=$(find "$BUILD" -name discovery_bench -type f -perm -u+x | head -1)
[ -n "$BENCH" ] || { echo "discovery_bench not built in $BUILD" >&2; exit 1; }
"$BENCH" "$@"
