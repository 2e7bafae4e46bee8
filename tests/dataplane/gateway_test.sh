#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# gateway_test.sh SUPERPEER SUPERPEER_DATAPLANE: peers behind a router, reached through the
# configured gateway (IPv4 and IPv6), with the Linux kernel as the router.
#
#   superpeer-dataplane ==veth== R (namespace, forwarding) ==veth== S (namespace)
#   10.78.1.2/24                 10.78.1.1, fd00:78:1::1,           10.78.2.2, fd00:78:2::2
#   fd00:78:1::2/64              fe80::1 | 10.78.2.1, fd00:78:2::1  superpeer seed, fetch, ping
#
# R answers ARP and Neighbor Solicitations only for its own addresses (no proxy ARP), so an
# ingest from S completes only if the data plane sends to S through R's MAC. Cases: echo
# replies to an off-link peer; an ingest from an IPv6 peer off the link with no IPv6 gateway
# refused with a reason; an IPv4 ingest through `gateway` and a fetch of the result from S;
# the router's MAC changed, the next ingest follows it (stale neighbour probed again); then
# (restarted with a link-local `gateway6`) the same over IPv6. Every process runs under
# timeout; namespaces, veths and processes are removed on exit, also on failure. Exit 77 when
# this machine cannot make a netns/veth or lacks the af_packet PMD.
set -u
. "$(dirname "$0")/dp_lib.sh"
sp=$1 dp=$2
nr=spgr$$ ns=spgs$$ va=spg$$a vb=spg$$b vc=spg$$c vd=spg$$d
work=$(mktemp -d "${TMPDIR:-/tmp}/sp-gw.XXXXXX")
dp_pid= seed_pid=
cleanup() {
	[ -n "$dp_pid" ] && kill -TERM "$dp_pid" 2>/dev/null && wait "$dp_pid" 2>/dev/null
	[ -n "$seed_pid" ] && kill "$seed_pid" 2>/dev/null
	ip netns del "$nr" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	ip link del "$va" 2>/dev/null
	rm -rf "$work" "/var/run/dpdk/spg$$"* "/dev/shm/superpeer-spg$$.keyring"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "needs root for network namespaces" >&2; exit 77; }
ip netns add "$nr" 2>/dev/null && ip netns add "$ns" 2>/dev/null ||
	{ echo "cannot create a network namespace" >&2; exit 77; }
ip link add "$va" type veth peer name "$vb" && ip link add "$vc" type veth peer name "$vd" ||
	{ echo "cannot create a veth pair" >&2; exit 77; }
ip link set "$vb" netns "$nr"
ip link set "$vc" netns "$nr"
ip link set "$vd" netns "$ns"
ip link set "$va" up
R() { ip netns exec "$nr" "$@"; }
S() { ip netns exec "$ns" "$@"; }
R sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
R ip addr add 10.78.1.1/24 dev "$vb"
R ip addr add fd00:78:1::1/64 dev "$vb" nodad
R ip addr add fe80::1/64 dev "$vb" nodad
R ip addr add 10.78.2.1/24 dev "$vc"
R ip addr add fd00:78:2::1/64 dev "$vc" nodad
S ip addr add 10.78.2.2/24 dev "$vd"
S ip addr add fd00:78:2::2/64 dev "$vd" nodad
for l in "$vb" "$vc" lo; do R ip link set "$l" up; done
for l in "$vd" lo; do S ip link set "$l" up; done
S ip route add default via 10.78.2.1
S ip -6 route add default via fd00:78:2::1
# The kernels would leave UDP checksums to an offload that af_packet never performs.
for l in "$vb" "$vc"; do R ethtool -K "$l" tx off >/dev/null 2>&1; done
S ethtool -K "$vd" tx off >/dev/null 2>&1 ||
	{ echo "ethtool is needed to turn off veth checksum offload" >&2; exit 77; }

"$sp" keygen -o "$work/key" >/dev/null
pub=$work/key/provider.pub
for n in 4 5 6; do
	head -c $((3 << 20)) /dev/urandom >"$work/content$n"
	"$sp" pack --key "$work/key/provider.key" -o "$work/store$n" "$work/content$n" |
		tail -1 >"$work/id$n"
done
export SUPERPEER_KEYRING=spg$$

# start_dp [gateway6 line]: the data plane on the host side of the first veth, one lcore.
start_dp() {
	cat >"$work/dp.ini" <<-EOF
	; superpeer-dataplane behind a router
	[dataplane]
	ip = 10.78.1.2/24
	gateway = 10.78.1.1
	ip6 = fd00:78:1::2/64
	keyring = spg$$
	neigh-reachable = 1
	$1
	EOF
	: >"$work/dp.out"
	timeout --foreground 300 "$dp" -l 0 --no-huge -m 256 --file-prefix "spg$$" --no-pci \
		--vdev "net_af_packet0,iface=$va" -- --config "$work/dp.ini" >"$work/dp.out" 2>&1 &
	dp_pid=$!
	dp_wait_ready 10.78.1.2
}
# seed N ADDR:PORT: `superpeer seed` in S serving store N.
seed() {
	: >"$work/seed.out"
	S timeout --foreground 120 "$sp" seed --public "$pub" --listen "$2" "$work/store$1" \
		>"$work/seed.out" 2>&1 &
	seed_pid=$!
	for _ in $(seq 50); do grep -q "^listening on" "$work/seed.out" && return; sleep 0.1; done
	fail "seed did not start: $(cat "$work/seed.out")"
}
unseed() { kill "$seed_pid" 2>/dev/null; wait "$seed_pid" 2>/dev/null; seed_pid=; }
# ingest N FROM: ingest store N from FROM, wait until it is served, fetch it back from S at
# PEER (3rd argument) and compare.
ingest() {
	local id
	id=$(cat "$work/id$1")
	"$sp" swarm ingest "$work/store$1/manifest" --public "$pub" --from "$2" --open ||
		{ fail "swarm ingest from $2"; return; }
	ingest_wait "$id" 30
	"$sp" swarm list | grep "^$id " >"$work/list"
	grep -q "^$id .* open " "$work/list" ||
		{ fail "ingest from $2 did not complete: $(cut -c1-200 "$work/list")"
		  "$sp" stats | grep -E "drop|neigh|ingest" | grep -v " 0$"; return; }
	S timeout 120 "$sp" fetch --manifest "$work/store$1/manifest" --public "$pub" \
		--peer "$3" -o "$work/out$1" >/dev/null || fail "fetch from $3 through the router"
	cmp -s "$work/out$1" "$work/content$1" || fail "content fetched from $3 differs"
}

start_dp ""

begin "echo replies to peers behind the router (IPv4, IPv6)"
S ping -c 2 -i 0.2 -W 2 10.78.1.2 >"$work/ping" 2>&1 || fail "no echo reply: $(tail -2 "$work/ping")"
S ping -6 -c 2 -i 0.2 -W 2 fd00:78:1::2 >"$work/ping" 2>&1 ||
	fail "no IPv6 echo reply: $(tail -2 "$work/ping")"

begin "an ingest from an off-link IPv6 peer without gateway6 is refused with the reason"
if "$sp" swarm ingest "$work/store6/manifest" --public "$pub" --from "[fd00:78:2::2]:7101" \
	--open >"$work/refused" 2>&1; then
	fail "taken: $(cat "$work/refused")"
fi
grep -q "no route to the source" "$work/refused" || fail "reason: $(cat "$work/refused")"
[ -z "$("$sp" swarm list)" ] || fail "refused ingest listed: $("$sp" swarm list)"

begin "IPv4 ingest through the gateway, then served to the peer behind it"
seed 4 10.78.2.2:7100
ingest 4 10.78.2.2:7100 10.78.1.2:6778
unseed
R ip neigh show dev "$vb" | grep -q "^10.78.1.2 " ||
	fail "the router never resolved the data plane: $(R ip neigh show dev "$vb")"

begin "the router's MAC changes: the stale entry is probed again and the next ingest follows"
# Linux announces nothing when a MAC changes, and R's own entry for the data plane stays
# fresh, so only the data plane's re-confirmation (neigh-reachable = 1 s) finds the new MAC;
# frames to the old one are dropped by R's kernel (not for this host).
R ip link set dev "$vb" address 02:00:00:78:01:fe
sleep 1.5
seed 5 10.78.2.2:7102
ingest 5 10.78.2.2:7102 10.78.1.2:6778
unseed
"$sp" stats | grep -Eq "neighbour_probes +[1-9]" ||
	fail "no probe counted: $("$sp" stats | grep neighbour)"
stop_dp

begin "IPv6 ingest through a link-local gateway6, then served to the peer behind it"
start_dp "gateway6 = fe80::1"
seed 6 "[fd00:78:2::2]:7101"
ingest 6 "[fd00:78:2::2]:7101" "[fd00:78:1::2]:6778"
unseed
stop_dp

echo "$cases cases, $failures failed"
[ "$failures" = 0 ]
