#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# tap_test.sh SUPERPEER SUPERPEER_DATAPLANE: the data plane on net_tap, the kernel of a network
# namespace as its peer. The data plane runs inside the namespace, so the tap device it
# creates is there; the kernel side gets 10.79.0.2/24 and fd00:79::2/64 on it:
#
#   superpeer-dataplane (net_tap)  ==tap spt<pid>==  kernel, 10.79.0.2, fd00:79::2: ping,
#   10.79.0.1, fd00:79::1 (all in the namespace spt<pid>)      superpeer fetch [--sa-*]
#
# Numbered cases:
#  - the kernel resolves the data plane (ARP, Neighbor Discovery) and is answered ICMP and
#    ICMPv6 echo;
#  - superpeer fetch downloads an open swarm plain over IPv4 and over IPv6, and a protected
#    one through ESP in UDP with an SA pair put in with `superpeer sa add`: byte-identical;
#  - two workers, the tap device with two queues: 16 fetches at once, byte-identical, and the
#    kernel's per-flow queue choice spreads them over both workers; the start line says so.
# What the kernel sends that is not for the data plane (IPv6 router solicitations, MLD) is a
# counted drop; nothing else may be. Bounded by timeouts; the namespace and the processes go
# on exit, also on failure. Exit 77 without root, a network namespace or /dev/net/tun.
set -u
. "$(dirname "$0")/dp_lib.sh"
sp=$1 dp=$2
ns=spt$$ tap=spt$$
work=$(mktemp -d "${TMPDIR:-/tmp}/sp-tap.XXXXXX")
dp_pid= fpids=
cleanup() {
	[ -n "$dp_pid" ] && kill -TERM "$dp_pid" 2>/dev/null && wait "$dp_pid" 2>/dev/null
	[ -n "$fpids" ] && kill $fpids 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$work" "/var/run/dpdk/spt$$"* "/dev/shm/superpeer-spt$$.keyring"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "needs root for a network namespace" >&2; exit 77; }
[ -c /dev/net/tun ] || { echo "no /dev/net/tun: the tap PMD cannot work here" >&2; exit 77; }
ip netns add "$ns" 2>/dev/null || { echo "cannot create a network namespace" >&2; exit 77; }
ip -n "$ns" link set lo up

"$sp" keygen -o "$work/key" >/dev/null
head -c $((4 << 20)) /dev/urandom >"$work/content"
"$sp" pack --key "$work/key/provider.key" -o "$work/store" "$work/content" >/dev/null
head -c $((1 << 20)) /dev/urandom >"$work/content2"
"$sp" pack --key "$work/key/provider.key" -o "$work/store2" "$work/content2" >/dev/null
pub=$work/key/provider.pub
export SUPERPEER_KEYRING=spt$$
dp_ini "$work/dp.ini" 10.79.0.1 fd00:79::1 "spt$$" "open:$work/store:yes" \
	"protected:$work/store2:no"

# start_dp LCORES: the data plane in the namespace on a tap device with one queue per worker
# (lcore 0 alone: one worker; more: the main lcore and the workers), then the kernel side of
# the device addressed and up.
start_dp() {
	ip netns exec "$ns" timeout --foreground 120 "$dp" --lcores "$1" --no-huge -m 512 \
		--file-prefix "spt$$" --no-pci --vdev "net_tap0,iface=$tap" -- \
		--config "$work/dp.ini" >"$work/dp.out" 2>&1 &
	dp_pid=$!
	for _ in $(seq 100); do
		grep -q "^superpeer-dataplane: 10.79.0.1" "$work/dp.out" && break
		kill -0 "$dp_pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q "^superpeer-dataplane: 10.79.0.1" "$work/dp.out"; then
		# The driver missing from this DPDK, or the kernel's tun refused: a facility, skip.
		if grep -qE 'failed to parse device "net_tap|/dev/net/tun' "$work/dp.out"; then
			echo "no tap PMD or tun device: $(tail -3 "$work/dp.out")" >&2
			exit 77
		fi
		fail "data plane did not start: $(tail -5 "$work/dp.out")"
		exit 1
	fi
	ip -n "$ns" addr add 10.79.0.2/24 dev "$tap"
	ip -n "$ns" addr add fd00:79::2/64 dev "$tap" nodad
	ip -n "$ns" link set "$tap" up
}

# fetch NAME PEER MANIFEST [options...]: superpeer fetch in the namespace into $work/NAME,
# output in $work/NAME.out, in the background (its pid added to $fpids).
fetch() {
	ip netns exec "$ns" timeout 60 "$sp" fetch --manifest "$3" --public "$pub" --peer "$2" \
		-o "$work/$1" "${@:4}" >"$work/$1.out" 2>&1 &
	fpids="$fpids $!"
}
# fetched CONTENT NAME...: every fetch done and byte-identical to CONTENT.
fetched() {
	local f=$1
	shift
	for p in $fpids; do wait "$p"; done
	fpids=
	for n in "$@"; do
		cmp -s "$work/$n" "$work/$f" || fail "fetch $n: $(tail -2 "$work/$n.out")"
	done
}
# no_drops_but_kernel_chatter: drops other than not_for_us (router solicitations, MLD) fail.
no_drops_but_kernel_chatter() {
	grep -E "^drop " "$work/dp.out" | grep -v "^drop not_for_us: " &&
		fail "the data plane dropped packets"
}

start_dp 0

begin "the kernel resolves the data plane and is answered ICMP and ICMPv6 echo"
ip netns exec "$ns" ping -c 3 -i 0.2 -W 2 10.79.0.1 >"$work/ping" 2>&1 ||
	fail "no echo reply: $(tail -2 "$work/ping")"
ip netns exec "$ns" ping -6 -c 3 -i 0.2 -W 2 fd00:79::1 >"$work/ping" 2>&1 ||
	fail "no ICMPv6 echo reply: $(tail -2 "$work/ping")"
ip -n "$ns" neigh show dev "$tap" | grep -q "10.79.0.1 lladdr" ||
	fail "no ARP entry: $(ip -n "$ns" neigh show dev "$tap")"

begin "superpeer fetch over IPv4 and IPv6, plain, and through ESP in UDP: byte-identical"
k_in=0x$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
k_out=0x$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
"$sp" sa add in spi 0x7001 peer 10.79.0.2 encap aead "$k_in" &&
	"$sp" sa add out spi 0x7002 peer 10.79.0.2 encap 47001 aead "$k_out" || fail "sa add"
fetch v4 10.79.0.1:6778 "$work/store/manifest"
fetch v6 "[fd00:79::1]:6778" "$work/store/manifest"
fetched content v4 v6
fetch esp 10.79.0.1:6778 "$work/store2/manifest" --local-port 47001 --sa-out "0x7001:$k_in" \
	--sa-in "0x7002:$k_out"
fetched content2 esp
grep -q ', ESP$' "$work/esp.out" || fail "not over ESP: $(head -1 "$work/esp.out")"
"$sp" sa list | grep "spi 0x00007002" | grep -q "packets [1-9]" ||
	fail "outbound SA unused: $("$sp" sa list)"
stop_dp
grep -q "chunks served" "$work/dp.out" || fail "no summary: $(tail -3 "$work/dp.out")"
no_drops_but_kernel_chatter

begin "two workers, a tap queue each: 16 fetches at once spread over both by the kernel"
if [ "$(nproc)" -lt 2 ]; then
	echo "skipped: needs 2 CPUs"
else
	ip -n "$ns" link del "$tap" 2>/dev/null # gone with the data plane; be sure
	start_dp 0@0,1@0,2@1
	grep -q "^superpeer-dataplane: 10.79.0.1, .*, 2 workers, " "$work/dp.out" &&
		grep -q "^superpeer-dataplane: flows spread over the workers' queues by the kernel's tun queue choice (flow hash)$" \
			"$work/dp.out" || fail "start lines: $(head -3 "$work/dp.out")"
	names=
	for i in $(seq 16); do
		fetch "w$i" 10.79.0.1:6778 "$work/store/manifest" --local-port $((47100 + i))
		names="$names w$i"
	done
	# shellcheck disable=SC2086
	fetched content $names
	stop_dp
	grep "^worker lcore" "$work/dp.out"
	# 16 flows all on one of two queues: 1 time in 32768 (the kernel's hash decides).
	for q in 0 1; do
		grep -Eq "^worker lcore $((q + 1)) busy: .*, queue $q: [1-9][0-9]* chunks served" \
			"$work/dp.out" || fail "queue $q served nothing: $(grep "^worker" "$work/dp.out")"
	done
	no_drops_but_kernel_chatter
fi

echo "$cases cases, $failures failed"
[ $failures -eq 0 ]
