#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# chain_test.sh SUPERPEER SUPERPEER_DATAPLANE: two super-peers in a chain, each serving on
# what it is still receiving (docs/dataplane.md, "Serving while ingesting").
#
#   namespace: bridge br0 10.77.9.2                  host
#     superpeer seed :7200 --tbf 24 Mbit/s--> vb1 == va1  data plane A 10.77.9.1 (af_packet)
#     superpeer fetch                         vb2 == va2  data plane B 10.77.9.3 (af_packet)
#
# A ingests an 8 MiB swarm from the seed (its uplink slowed so the ingest takes ~3 s); B
# ingests the same swarm from A while A is still receiving it, and a fetch downloads it from
# B meanwhile. The seed is paused a quarter of the way in for 5 s: A stands still, B catches
# up with exactly what A can serve (what it holds from the first), the fetch with what B
# holds; B, with nothing to ask, keeps
# its channel to A alive (A drops peers silent for more than 3 s). Then the seed goes on and
# all three complete, the fetch byte-identical. Every process runs under timeout; the
# namespace, the veths and the processes are removed on exit, also on failure. Exit 77 when
# this machine cannot make a netns, veth or bridge, shape with tbf, or lacks the af_packet PMD.
set -u
. "$(dirname "$0")/dp_lib.sh"
sp=$1 dp=$2
ns=spch$$ va1=spc$$a vb1=spc$$b va2=spc$$c vb2=spc$$d
work=$(mktemp -d "${TMPDIR:-/tmp}/sp-chain.XXXXXX")
pid_a= pid_b= seed_pid= fetch_pid= paused=
cleanup() {
	[ -n "$paused" ] && pkill -CONT -f "$paused"
	for p in $pid_a $pid_b $seed_pid $fetch_pid; do kill -TERM "$p" 2>/dev/null; done
	for p in $pid_a $pid_b $seed_pid $fetch_pid; do wait "$p" 2>/dev/null; done
	ip netns del "$ns" 2>/dev/null
	ip link del "$va1" 2>/dev/null
	ip link del "$va2" 2>/dev/null
	rm -rf "$work" /var/run/dpdk/spc$$* /dev/shm/superpeer-spc$$*.keyring
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "needs root for a network namespace" >&2; exit 77; }
ip netns add "$ns" 2>/dev/null || { echo "cannot create a network namespace" >&2; exit 77; }
for v in 1 2; do
	eval "a=\$va$v b=\$vb$v"
	ip link add "$a" type veth peer name "$b" || { echo "cannot create a veth pair" >&2; exit 77; }
	ip link set "$b" netns "$ns"
	ip link set "$a" up
done
ip netns exec "$ns" ip link add br0 type bridge ||
	{ echo "cannot create a bridge in the namespace" >&2; exit 77; }
for v in "$vb1" "$vb2"; do
	ip netns exec "$ns" ip link set "$v" master br0
	ip netns exec "$ns" ip link set "$v" up
done
ip netns exec "$ns" ip addr add 10.77.9.2/24 dev br0
ip netns exec "$ns" ip link set br0 up
ip netns exec "$ns" ip link set lo up
# The kernel would leave UDP checksums to an offload that af_packet never performs.
for v in br0 "$vb1" "$vb2"; do
	ip netns exec "$ns" ethtool -K "$v" tx off >/dev/null 2>&1 ||
		{ echo "ethtool is needed to turn off checksum offload" >&2; exit 77; }
done
# Only what enters A from the namespace is slowed: the seed's chunks (and B's requests).
ip netns exec "$ns" tc qdisc add dev "$vb1" root tbf rate 24mbit burst 64kb latency 200ms ||
	{ echo "no tbf qdisc to slow the source down" >&2; exit 77; }

"$sp" keygen -o "$work/key" >/dev/null
head -c $((8 << 20)) /dev/urandom >"$work/content"
id=$("$sp" pack --key "$work/key/provider.key" -o "$work/store" "$work/content" | tail -1)
pub=$work/key/provider.pub man=$work/store/manifest

# start NAME LCORE IFACE ADDR OPTIONS...: a data plane, its key ring spc$$NAME.
start() {
	local name=$1 lcore=$2 iface=$3 addr=$4
	shift 4
	timeout --foreground 120 "$dp" -l "$lcore" --no-huge -m 256 --file-prefix "spc$$$name" \
		--no-pci --vdev "net_af_packet0,iface=$iface" -- --ip "$addr" --keyring "spc$$$name" \
		"$@" >"$work/dp$name.out" 2>&1 &
	eval "pid_$name=\$!"
	for _ in $(seq 100); do
		grep -q "^superpeer-dataplane: $addr" "$work/dp$name.out" && return 0
		if ! kill -0 "$(eval echo "\$pid_$name")" 2>/dev/null; then
			grep -q "net_af_packet" "$work/dp$name.out" &&
				{ echo "no af_packet PMD: $(tail -3 "$work/dp$name.out")" >&2; exit 77; }
			break
		fi
		sleep 0.1
	done
	fail "data plane $name did not start: $(tail -5 "$work/dp$name.out")"
	exit 1
}
# on NAME ...: superpeer against data plane NAME's key ring.
on() {
	local name=$1
	shift
	SUPERPEER_KEYRING=spc$$$name "$sp" "$@"
}
list() { on "$1" swarm list | grep "^$id "; }
count() { sed -n 's/.* ingesting \([0-9]*\) of .*/\1/p'; }
field() { sed -n "s/.* $1 \\([0-9]*\\).*/\\1/p"; }

begin "a chain: seed -> data plane A -> data plane B -> fetch, each hop serving what it has"
start a 0 "$va1" 10.77.9.1 --peer-timeout 3
start b 1 "$va2" 10.77.9.3 --keepalive 1
ip netns exec "$ns" timeout --foreground 120 "$sp" seed --public "$pub" --listen 10.77.9.2:7200 \
	"$work/store" >"$work/seed.out" 2>&1 &
seed_pid=$!
for _ in $(seq 50); do grep -q "^listening on" "$work/seed.out" && break; sleep 0.1; done
on a swarm ingest "$man" --public "$pub" --from 10.77.9.2:7200 --open || fail "ingest into A"
for _ in $(seq 100); do
	[ "$(list a | count)" -ge 200 ] 2>/dev/null && break
	sleep 0.02
done
on b swarm ingest "$man" --public "$pub" --from 10.77.9.1:6778 --open || fail "ingest into B"
ip netns exec "$ns" timeout 60 "$sp" fetch --manifest "$man" --public "$pub" \
	--peer 10.77.9.3:6778 -o "$work/out" >"$work/fetch.out" 2>&1 &
fetch_pid=$!
for _ in $(seq 200); do
	[ "$(list a | count)" -ge 2048 ] 2>/dev/null && break
	sleep 0.02
done

begin "the seed paused: A stands still, B holds what A can serve, the fetch what B holds"
paused="seed --public $pub --listen 10.77.9.2:7200"
pkill -STOP -f "$paused"
n_a=-1
for _ in $(seq 20); do # what the qdisc still held arrives first
	sleep 0.3
	n=$(list a | count)
	[ "$n" = "$n_a" ] && break
	n_a=$n
done
# A serves the chunks it holds from the first (`servable`): a chunk lost on the seed's
# slowed link just before the pause leaves a hole in A until the seed goes on. B, whose
# link to A loses nothing for long (A is running), ends up with exactly those.
s_a=$(list a | field servable)
for _ in $(seq 30); do
	[ "$(list b | count)" = "$s_a" ] && [ "$(list b | field servable)" = "$s_a" ] &&
		[ "$(list b | field chunks-sent)" -ge "$s_a" ] 2>/dev/null && break
	sleep 0.1
done
echo "A: $(list a)"
echo "B: $(list b)"
[ -n "$n_a" ] && [ "$n_a" -gt 0 ] && [ "$n_a" -lt 8192 ] || fail "A is not part-way: $(list a)"
[ "${s_a:-0}" -gt 0 ] && [ "$s_a" -le "$n_a" ] && [ $((n_a - s_a)) -le 1024 ] ||
	fail "A serves ${s_a:-?} of the $n_a chunks it holds: $(list a)"
[ "$(list b | count)" = "$s_a" ] || fail "B holds $(list b | count) of the $s_a chunks A serves"
[ "$(list a | field channels)" = 1 ] || fail "A serves no channel: $(list a)"
[ "$(list b | field chunks-sent)" -ge "$s_a" ] 2>/dev/null ||
	fail "the fetch was not sent the $s_a chunks B holds: $(list b)"

begin "5 s of nothing new: B keeps its channel to A alive (A drops peers silent for 3 s)"
sleep 5
# superpeer stats leaves out counters that are 0.
tel() { on "$1" stats | awk -v k="$2" '$1 == k { n = $2 } END { print n + 0 }'; }
[ "$(tel a peers_timed_out)" = 0 ] || fail "A dropped B: peers_timed_out $(tel a peers_timed_out)"
[ "$(tel b keepalives_sent)" -gt 0 ] 2>/dev/null || fail "B sent no keep-alive while waiting"
pkill -CONT -f "$paused"
paused=

begin "the seed goes on: A, B and the fetch complete, byte-identical"
wait "$fetch_pid" || fail "fetch from B: $(cat "$work/fetch.out")"
fetch_pid=
cmp -s "$work/out" "$work/content" || fail "content fetched from B differs"
SUPERPEER_KEYRING=spc$$a ingest_wait "$id" 20 || fail "A did not complete: $(list a)"
SUPERPEER_KEYRING=spc$$b ingest_wait "$id" 20 || fail "B did not complete: $(list b)"
echo "A: $(list a)"
echo "B: $(list b)"
list a | grep -q " 8192 chunks of 1024 open channels 1 " || fail "A: $(list a)"
list b | grep -q " 8192 chunks of 1024 open channels 1 chunks-sent " || fail "B: $(list b)"
kill "$seed_pid" 2>/dev/null
wait "$seed_pid" 2>/dev/null
seed_pid=
for name in a b; do
	kill -TERM "$(eval echo "\$pid_$name")"
	wait "$(eval echo "\$pid_$name")"
	eval "pid_$name="
	grep -E "^(keep-alives|peers timed out|chunks ingested)" "$work/dp$name.out" | sed "s/^/$name: /"
done
grep -q "^keep-alives sent: [1-9]" "$work/dpb.out" || fail "B sent A no keep-alive"
grep -q "^peers timed out" "$work/dpa.out" && fail "A dropped a peer"
grep -E "^drop " "$work/dpa.out" "$work/dpb.out"

echo "$cases cases, $failures failed"
[ "$failures" -eq 0 ]
