#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# memif_test.sh SUPERPEER SUPERPEER_DATAPLANE SUPERPEER_LOADGEN: two DPDK processes on a
# net_memif pair, the way bench/system.sh measures them:
#
#   superpeer-dataplane (lcore 0) ==net_memif== superpeer-loadgen (lcore 1, 8 peers)
#
# Numbered cases, plain, then ESP in UDP (AES-128-GCM SA pair), then ESP with the data plane
# as the memif client in zero-copy mode (its own mbufs in the rings, the loadgen the server):
#  - the loadgen's peers open channels and are served chunks for 2 s; the data plane's summary
#    shows chunks served and no drop (a full transmit queue holds output back, drops nothing)
#  - the data plane, serving nothing, ingests the swarm from the loadgen's seeder (--seed;
#    in the plain run two of them, --seeds 2, both sources of one `superpeer swarm ingest`
#    with --from twice) through `superpeer swarm ingest`, then serves it: every chunk ingested once, the loadgen saw the ingest
#    complete (every chunk ACKed), both sources sent chunks, nothing dropped
# Then, plain, ESP (an SA pair per peer) and ESP with the data plane the zero-copy client,
# two data plane workers and a loadgen with two queues (--queues 2, peers 0-3 on ring pair 0,
# 4-7 on ring pair 1): every loadgen queue's peers served, by the worker of that queue.
# Last, 3000 loadgen peers each take two chunks and keep their channel open (--hold): the
# data plane counts 3000 channels open at once.
# Figures are printed, never checked (tests assert no timing). The memif server starts first:
# a client cannot start its port without one to connect to.
# Exit 77 with fewer than 2 cores.
set -u
sp=$1 dp=$2 lg=$3
[ "$(nproc)" -ge 2 ] || { echo "needs 2 cores (data plane and loadgen)" >&2; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/sp-memif.XXXXXX")
dp_pid= lg_pid=
cleanup() {
	[ -n "$lg_pid" ] && kill -INT "$lg_pid" 2>/dev/null && wait "$lg_pid" 2>/dev/null
	[ -n "$dp_pid" ] && kill -INT "$dp_pid" 2>/dev/null && wait "$dp_pid" 2>/dev/null
	rm -rf "$work" /var/run/dpdk/spmemif$$* "/dev/shm/superpeer-spmemif$$.keyring"
}
trap cleanup EXIT
failures=0 cases=0
fail() { echo "FAIL case $cases: $*"; failures=$((failures + 1)); }
begin() { cases=$((cases + 1)); echo "case $cases: $*"; }
# started FILE PATTERN PID WHAT: waits (up to 20 s) for PID to print PATTERN into FILE. The
# data plane announces its address once its memif socket is there for the loadgen (a fixed
# 1.5 s sleep lost that race once on a loaded machine: "memif_connect_client(): Failed to
# connect socket"); the loadgen, as the server, says when its port is open.
started() {
	for _ in $(seq 200); do
		grep -q "$2" "$1" && return 0
		kill -0 "$3" 2>/dev/null || break
		sleep 0.1
	done
	fail "$4 did not start: $(tail -3 "$1")"
}
# stop_pair: once the loadgen has printed its summary it polls no more (--linger); the data
# plane leaves first, then the loadgen, which sees the link go down. The other order can
# crash the data plane inside DPDK 22.11's memif PMD (docs/dataplane.md, "net_memif").
stop_pair() {
	for _ in $(seq 100); do grep -qs "^loadgen: " "$work/lg.out" && break; sleep 0.1; done
	kill -INT "$dp_pid"
	wait "$dp_pid"
	dp_pid=
	wait "$lg_pid"
	lg_rc=$?
	lg_pid=
}
# start_pair DP_MEM: both processes, the memif server first; the data plane with DP_MEM
# MiB of memory, on the lcores in dp_eal (default one), the loadgen on those in lg_eal with
# lg_mem MiB; after_dp, when set, runs once the data plane is up (before a copying loadgen
# starts; a zero-copy one, the server, is up already and waits with --go-file).
dp_eal=(-l 0) lg_eal=(-l 1) lg_mem=256 after_dp=
start_pair() {
	local dp_role=role=server lg_role=role=client eal_zc=()
	if [ "$zc" = yes ]; then
		dp_role=role=client,zero-copy=yes lg_role=role=server eal_zc=(--single-file-segments)
	fi
	start_dp() {
		timeout --foreground 60 "$dp" "${dp_eal[@]}" --no-huge -m "$1" --no-pci "${eal_zc[@]}" \
			--file-prefix "spmemif$$dp" --vdev "net_memif0,$dp_role,socket=$work/m.sock" \
			-- --ip 10.99.0.1 --keyring "spmemif$$" "${dp_esp[@]}" "${dp_args[@]}" \
			>"$work/dp.out" 2>&1 &
		dp_pid=$!
		started "$work/dp.out" "^superpeer-dataplane: 10.99.0.1" "$dp_pid" "data plane"
	}
	start_lg() {
		timeout --foreground 60 "$lg" "${lg_eal[@]}" --no-huge -m "$lg_mem" --no-pci \
			--file-prefix "spmemif$$lg" --vdev "net_memif0,$lg_role,socket=$work/m.sock" \
			-- --target 10.99.0.1 --ip 10.99.0.2 --link-wait 30 --linger 30 "${lg_esp[@]}" \
			"${lg_args[@]}" >"$work/lg.out" 2>&1 &
		lg_pid=$!
	}
	: >"$work/lg.out"
	if [ "$zc" = yes ]; then
		start_lg
		started "$work/lg.out" "port open" "$lg_pid" loadgen
		start_dp "$1"
		[ -z "$after_dp" ] || $after_dp
	else
		start_dp "$1"
		[ -z "$after_dp" ] || $after_dp
		start_lg
	fi
}
k_in=0x000102030405060708090a0b0c0d0e0f10111213
k_out=0x202122232425262728292a2b2c2d2e2f30313233

"$sp" keygen -o "$work/key" >/dev/null
head -c $((8 << 20)) /dev/urandom >"$work/content"
"$sp" pack --key "$work/key/provider.key" -o "$work/store" "$work/content" >/dev/null

for run in plain esp esp-zc; do
	mode=${run%-zc} zc=no
	[ "$run" = esp-zc ] && zc=yes
	begin "$run: the loadgen's peers are served over net_memif"
	dp_esp=() lg_esp=()
	if [ $mode = esp ]; then
		dp_esp=(--sa-in "0x1001:$k_in" --sa-out "0x2002:$k_out")
		lg_esp=(--sa-out "0x1001:$k_in" --sa-in "0x2002:$k_out")
	fi
	dp_args=(--store "$work/store" --public "$work/key/provider.pub" --open)
	lg_args=(--manifest "$work/store/manifest" --peers 8 --seconds 2)
	start_pair 256
	stop_pair
	[ "$lg_rc" = 0 ] || fail "loadgen: $(tail -2 "$work/lg.out")"
	tail -1 "$work/lg.out"
	grep -q "^loadgen: 8 peers, 1024-byte chunks, $( [ $mode = esp ] && echo ESP || echo plain): [1-9]" \
		"$work/lg.out" || fail "nothing served: $(tail -1 "$work/lg.out")"
	grep -q "chunks served" "$work/dp.out" || fail "no summary: $(tail -3 "$work/dp.out")"
	# The worker's load: it served for 2 s of a run of 3 or more, so neither 0 nor 100 %.
	busy=$(awk '/^worker lcore 0 busy: / { print int($5) }' "$work/dp.out")
	[ -n "$busy" ] && [ "$busy" -gt 0 ] && [ "$busy" -lt 100 ] ||
		fail "worker load: $(grep busy "$work/dp.out")"
	grep -E "^drop " "$work/dp.out" && fail "the data plane dropped packets"
	rm -f "$work/m.sock"

	# Plain: two seeders (10.99.0.2:20000, 10.99.0.3:20001), both sources from the start (a
	# second `swarm ingest` could come after 8 MiB are in). ESP: one (--esp-port is one port
	# for every source, and each seeder has its own).
	seeds=1 ing_src=(--from 10.99.0.2:20000 --esp-port 20000)
	[ $mode = plain ] && seeds=2 ing_src=(--from 10.99.0.2:20000 --from 10.99.0.3:20001)
	begin "$run: the data plane ingests the swarm from the loadgen's seeder(s): $seeds"
	dp_args=()
	lg_args=(--peer-port 20000 --seed "$work/store" --public "$work/key/provider.pub"
		--seeds $seeds --seconds 40)
	start_pair 512
	sleep 1
	id=$(awk '/^swarm-id:/ { print $2 }' "$work/store/manifest")
	"$sp" swarm --keyring "spmemif$$" ingest "$work/store/manifest" --public \
		"$work/key/provider.pub" "${ing_src[@]}" || fail "swarm ingest"
	for _ in $(seq 300); do
		"$sp" swarm --keyring "spmemif$$" list >"$work/list"
		grep "^$id " "$work/list" | grep -qv ingesting && break
		sleep 0.1
	done
	grep "^$id " "$work/list" | grep -q " 8192 chunks of 1024 " ||
		fail "not served after ingest: $(cat "$work/list")"
	kill -INT "$lg_pid"
	stop_pair
	grep "^ingest 1:" "$work/lg.out" || fail "the loadgen saw no complete ingest: $(tail -3 "$work/lg.out")"
	if [ $seeds = 2 ]; then
		grep -Eq "^ingest 1: .*, sent [1-9][0-9]*/[1-9][0-9]*$" "$work/lg.out" ||
			fail "not both seeders sent chunks: $(grep "^ingest 1:" "$work/lg.out")"
	fi
	grep -q "^chunks ingested: 8192$" "$work/dp.out" ||
		fail "chunks ingested: $(grep ingested "$work/dp.out")"
	if [ $seeds = 2 ]; then
		# The end game asks the last window (256 chunks) of both: copies still on their way
		# when the ingest completes find no channel (drop ppspp); nothing else is dropped.
		late=$(awk '/^drop ppspp: / { print $3 }' "$work/dp.out")
		echo "end-game copies after completion: ${late:-0}"
		[ "${late:-0}" -le 256 ] && ! grep -E "^drop " "$work/dp.out" | grep -qv "^drop ppspp: " ||
			fail "the data plane dropped packets: $(grep -E "^drop " "$work/dp.out")"
	else
		grep -E "^drop " "$work/dp.out" && fail "the data plane dropped packets"
	fi
	rm -f "$work/m.sock"
done
# Two workers, the loadgen on two queues. Main lcore and worker 1 on CPU 0, worker 2 on CPU 1
# (idle workers sleep); the loadgen's two loops on CPUs 1 and 0. Its peers 0-3 are on queue
# 0, 4-7 on queue 1, each always on its own. Through ESP each peer has its own SA pair, put
# in with one `superpeer sa batch` (an SA runs on the worker that first uses it); the
# loadgen's run waits for them (--go-file). esp-zc: the data plane is the zero-copy client.
#
# peer_sas: an SA pair for each of the loadgen's 8 peers, in one batch; then its go file.
peer_sas() {
	for i in $(seq 0 7); do
		echo "add in spi $((0x1001 + i)) peer 10.99.0.$((2 + i)) encap aead $k_in"
		echo "add out spi $((0x2002 + i)) peer 10.99.0.$((2 + i)) encap $((20000 + i)) aead $k_out"
	done | "$sp" sa --keyring "spmemif$$" batch - >"$work/sa.out" 2>&1 ||
		fail "sa batch for the peers: $(tail -3 "$work/sa.out"); data plane: $(tail -3 "$work/dp.out")"
	touch "$work/go"
}
dp_eal=(--lcores 0@0,1@0,2@1) lg_eal=(--lcores 0@1,1@0) lg_mem=512
for run in plain esp esp-zc; do
	mode=${run%-zc} zc=no dp_esp=() lg_esp=() after_dp=
	[ $run = esp-zc ] && zc=yes
	begin "$run, two workers, the loadgen on two queues: each memif ring pair is one worker's"
	dp_args=(--store "$work/store" --public "$work/key/provider.pub" --open)
	lg_args=(--manifest "$work/store/manifest" --peers 8 --seconds 2 --queues 2)
	if [ $mode = esp ]; then
		dp_args=(--store "$work/store" --public "$work/key/provider.pub")
		lg_esp=(--sa-out "0x1001:$k_in" --sa-in "0x2002:$k_out" --sa-per-peer
			--go-file "$work/go")
		after_dp=peer_sas
	fi
	rm -f "$work/go"
	start_pair 512
	stop_pair
	[ "$lg_rc" = 0 ] || fail "loadgen: $(tail -2 "$work/lg.out")"
	grep "^loadgen" "$work/lg.out" | tail -3
	grep -q "^superpeer-dataplane: 10.99.0.1, .*, 2 workers, " "$work/dp.out" &&
		grep -q "^superpeer-dataplane: flows spread over the workers' queues by the memif peer (its choice of ring; it must open 2 each way)$" \
			"$work/dp.out" || fail "start lines: $(head -3 "$work/dp.out")"
	grep -q "^loadgen: 8 peers, 1024-byte chunks, $( [ $mode = esp ] && echo ESP || echo plain): [1-9]" \
		"$work/lg.out" || fail "summary: $(tail -1 "$work/lg.out")"
	for q in 0 1; do
		# Chunks and no frame refused (a frame for the other queue's peers is not_ours);
		# how many peers got chunks in the last second is not asked: two busy loops share
		# the CPUs with the data plane.
		grep -Eq "^loadgen queue $q: [1-9][0-9]* chunks/s, .* [1-4]/4 peers served, drops 0, " \
			"$work/lg.out" || fail "loadgen queue $q: $(grep "^loadgen queue $q" "$work/lg.out")"
		# Worker q+1 has queue q: it served chunks, so that queue's peers reached it.
		grep -Eq "^worker lcore $((q + 1)) busy: .*, queue $q: [1-9][0-9]* chunks served, 0 ingested$" \
			"$work/dp.out" || fail "worker of queue $q: $(grep "^worker" "$work/dp.out")"
	done
	grep -E "^drop " "$work/dp.out" && fail "the data plane dropped packets"
	grep -E "^loadgen esp " "$work/lg.out" && fail "the loadgen refused ESP packets"
	rm -f "$work/m.sock"
done
dp_eal=(-l 0) lg_eal=(-l 1) lg_mem=256 after_dp=

begin "3000 peers hold a channel each at once (loadgen --hold), counted by the data plane"
zc=no dp_esp=() lg_esp=()
# The peers idle for longer than the data plane's peer timeout: their keep-alives hold them.
dp_args=(--store "$work/store" --public "$work/key/provider.pub" --open --max-peers 4096
	--peer-timeout 3)
lg_args=(--manifest "$work/store/manifest" --peers 3000 --window 2 --hold 2 --seconds 6)
start_pair 256
stop_pair
grep -q "^loadgen: hold: 3000 of 3000 peers have an open channel, 3000 of them" "$work/lg.out" ||
	fail "loadgen: $(grep hold "$work/lg.out")"
grep -q "^channels open at most (once a second, summed over workers): 3000$" "$work/dp.out" ||
	fail "data plane: $(grep -E "channels|peers_full" "$work/dp.out")"
grep -q "^peers timed out" "$work/dp.out" && fail "held peers timed out: $(grep timed "$work/dp.out")"
grep -q "^superpeer-dataplane: peer table 4096 slots per worker" "$work/dp.out" ||
	fail "no peer table line: $(head -3 "$work/dp.out")"
rm -f "$work/m.sock"

echo "$cases cases, $failures failed"
[ $failures -eq 0 ]
