#!/usr/bin/env bash
# security_auth_bench across an emulated LAN link: two network namespaces joined by a veth
# pair, each end rate-limited with tbf (1 Gbit/s and 100 Mbit/s by default, plus the bare
# veth), the `serve` side in one namespace and the `client` side in the other. Prints, per
# link, the open, keyed (MAC) and encrypted exchange times against the 10% target.
#
# This kernel has no sch_netem, so no delay is added: a real LAN's round trips (4 per
# exchange: connect, nonces, request/reply) only lengthen the open exchange, i.e. the figures
# here overstate the MAC's share. Namespaces, links and the key are removed on exit.
#
# Usage (root): bench/security/netns_exchange.sh BUILD_DIR [exchanges=100] ["RATE ..."]
#   e.g. bench/security/netns_exchange.sh build-auth 100 "1gbit 100mbit"
set -euo pipefail

build=${1:?usage: $0 BUILD_DIR [exchanges] [rates]}
exchanges=${2:-100}
rates=${3:-"1gbit 100mbit"}
bench=$(realpath "$build/bench/security/security_auth_bench")
[[ $(id -u) == 0 ]] || { echo "needs root (ip netns, tc)" >&2; exit 2; }
[[ -x $bench ]] || { echo "no $bench: build the security_auth_bench target" >&2; exit 2; }

ns_client=glbench-client-$$
ns_server=glbench-server-$$
server_ip=10.231.0.2
port=7700
work=$(mktemp -d)
server_pid=""

cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  ip netns del "$ns_client" 2>/dev/null || true
  ip netns del "$ns_server" 2>/dev/null || true  # deleting a namespace deletes its veth end
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns_client"
ip netns add "$ns_server"
ip link add glb-c$$ netns "$ns_client" type veth peer name glb-s$$ netns "$ns_server"
ip -n "$ns_client" addr add 10.231.0.1/24 dev glb-c$$
ip -n "$ns_server" addr add "$server_ip/24" dev glb-s$$
for ns in "$ns_client" "$ns_server"; do ip -n "$ns" link set lo up; done
ip -n "$ns_client" link set glb-c$$ up
ip -n "$ns_server" link set glb-s$$ up

key=$work/cluster.key
(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$key")

# Shapes both directions: RATE, or "none" for the bare veth.
shape() {
  local rate=$1
  for pair in "$ns_client glb-c$$" "$ns_server glb-s$$"; do
    set -- $pair
    tc -n "$1" qdisc del dev "$2" root 2>/dev/null || true
    [[ $rate == none ]] || tc -n "$1" qdisc add dev "$2" root tbf rate "$rate" burst 32kb latency 20ms
  done
}

for rate in none $rates; do
  shape "$rate"
  ip netns exec "$ns_server" "$bench" serve "$server_ip:$port" "$key" &
  server_pid=$!
  sleep 0.5
  echo "== link: ${rate/none/bare veth (no rate limit)} =="
  ip netns exec "$ns_client" "$bench" client "$server_ip:$port" "$key" "$exchanges"
  kill "$server_pid"
  wait "$server_pid" || true
  server_pid=""
  echo
done
