#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# workers_test.sh SUPERPEER SUPERPEER_DATAPLANE: the data plane with two workers, peers spread
# over them by the port.
#
#   superpeer-dataplane, 2 workers            ==veth==   spwB 10.78.0.2 in NS
#   net_af_packet on spwA, qpairs=2                       16 x superpeer fetch, 2 with ESP,
#   (one socket per queue in a PACKET_FANOUT_HASH          superpeer seed (an ingest's source)
#    group: the kernel spreads flows by their hash)
#
# Cases, in order:
# - the start line names what spreads the flows;
# - 16 plain fetches at once, each from its own port, byte-identical, served by both workers
#   (/superpeer/workers: each served chunks; all 16 flows on one queue: 1 time in 32768);
# - two fetches through ESP in UDP, each peer with its own SA pair, claimed by the worker its
#   flow lands on;
# - an ingest from `superpeer seed` runs on one worker (chunks_ingested), completes and is
#   served back byte-identical, and so does one over IPv6: the owner asks for the source's
#   MAC (ARP, Neighbor Discovery) and the reply may come in on the other worker's queue,
#   which hands it over (whether it does depends on the kernel's hash and on which worker
#   owns the ingest; tests/dataplane/test_ingest_steer.c makes it happen every time);
# - an ingest through ESP in UDP: its frames, when they land on the other queue, are steered
#   to the owner before they are opened;
# - 3 ARP replies nobody asked for: counted (arp_other), handed to no worker;
# - no drop of any other reason than those (no `sa_owner`);
# - an SA pair for any peer given at start with two workers: warned about;
# - more af_packet sockets than workers: refused.
# Lcores: the main one (key ring) and worker 1 on CPU 0, worker 2 on CPU 1, so this runs on
# 2 cores (idle workers sleep). Every process under timeout; the
# namespace, the veth and the processes are removed on exit, also on failure. Exit 77 when
# this machine cannot make a netns/veth, lacks the af_packet PMD or has fewer than 2 CPUs.
set -u
. "$(dirname "$0")/dp_lib.sh"
sp=$1 dp=$2
ns=spw$$ va=spw$$a vb=spw$$b
work=$(mktemp -d "${TMPDIR:-/tmp}/sp-workers.XXXXXX")
dp_pid= seed_pid= fpids=
cleanup() {
	[ -n "$dp_pid" ] && kill -TERM "$dp_pid" 2>/dev/null && wait "$dp_pid" 2>/dev/null
	[ -n "$seed_pid" ] && kill "$seed_pid" 2>/dev/null
	[ -n "$fpids" ] && kill $fpids 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	ip link del "$va" 2>/dev/null
	rm -rf "$work" "/var/run/dpdk/spw$$"* "/dev/shm/superpeer-spw$$.keyring"
}
trap cleanup EXIT

[ "$(nproc)" -ge 2 ] || { echo "needs 2 CPUs (two workers)" >&2; exit 77; }
veth_ns "$ns" "$va" "$vb" 10.78.0.2/24 fd00:78::2/64

"$sp" keygen -o "$work/key" >/dev/null
head -c $((4 << 20)) /dev/urandom >"$work/content"
"$sp" pack --key "$work/key/provider.key" -o "$work/store" "$work/content" >/dev/null
pub=$work/key/provider.pub man=$work/store/manifest
n_chunks=4096
hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
export SUPERPEER_KEYRING=spw$$

dp_ini "$work/dp.ini" 10.78.0.1 fd00:78::1 "spw$$" "sample:$work/store:yes" \
	"protected:$work/store2:no"
head -c $((2 << 20)) /dev/urandom >"$work/content2"
"$sp" pack --key "$work/key/provider.key" -o "$work/store2" "$work/content2" \
	>/dev/null
# dp2 SECONDS QPAIRS [options...]: the data plane with two workers (lcores 1 and 2) on the
# host side of the veth, af_packet with QPAIRS sockets, under timeout, which replaces the
# calling shell (run it with & or in a subshell: $! is then timeout, which passes a
# SIGTERM on to the data plane).
dp2() {
	exec timeout --foreground "$1" "$dp" --lcores 0@0,1@0,2@1 --no-huge -m 512 \
		--file-prefix "spw$$" --no-pci --vdev "net_af_packet0,iface=$va,qpairs=$2" -- \
		--config "$work/dp.ini" "${@:3}"
}
# seed_in_ns ADDR:PORT STORE OUT [options...]: superpeer seed in the namespace, as $seed_pid,
# once it listens (5 s at most).
seed_in_ns() {
	ip netns exec "$ns" timeout --foreground 120 "$sp" seed --public "$pub" --listen "$1" \
		"${@:4}" "$2" >"$3" 2>&1 &
	seed_pid=$!
	for _ in $(seq 50); do grep -q "^listening on" "$3" && break; sleep 0.1; done
}

dp2 300 2 >"$work/dp.out" 2>&1 &
dp_pid=$!
dp_wait_ready 10.78.0.1

# tel PATH: one telemetry command's reply (JSON) on stdout.
tel() {
	/usr/bin/python3 - "/var/run/dpdk/spw$$/dpdk_telemetry.v2" "$1" <<-'PY'
	import json, socket, sys
	s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
	s.settimeout(5)
	s.connect(sys.argv[1])
	json.loads(s.recv(16384))
	s.send(sys.argv[2].encode())
	print(json.dumps(json.loads(s.recv(65536))[sys.argv[2]]))
	PY
}

begin "two workers; the start line says what spreads the flows"
grep "^superpeer-dataplane: " "$work/dp.out"
grep -q "^superpeer-dataplane: 10.78.0.1, .*, 2 workers, " "$work/dp.out" ||
	fail "not 2 workers: $(head -3 "$work/dp.out")"
grep -q "^superpeer-dataplane: flows spread over the workers' queues by the kernel's packet fanout (flow hash)$" \
	"$work/dp.out" || fail "no spread line: $(head -3 "$work/dp.out")"

begin "16 plain fetches at once, each from its own port: byte-identical, served by both workers"
fpids=
for i in $(seq 16); do
	ip netns exec "$ns" timeout 120 "$sp" fetch --manifest "$man" --public "$pub" \
		--peer 10.78.0.1:6778 --local-port $((41000 + i)) -o "$work/out$i" \
		>"$work/fetch$i.out" 2>&1 &
	fpids="$fpids $!"
done
for p in $fpids; do wait "$p" || fail "a fetch failed: $(cat "$work"/fetch*.out | grep -v "^[0-9a-f]*$" | head -3)"; done
fpids=
for i in $(seq 16); do
	cmp -s "$work/out$i" "$work/content" || fail "fetch $i: content differs"
done
tel /superpeer/workers >"$work/w1" || fail "telemetry: $(cat "$work/w1")"
cat "$work/w1"
/usr/bin/python3 - "$work/w1" "$n_chunks" <<'PY' || fail "workers: $(cat "$work/w1")"
import json, sys
w = json.load(open(sys.argv[1]))
n = 16 * int(sys.argv[2])
assert sorted(w) == ["lcore_1", "lcore_2"], w
assert sorted(v["queue"] for v in w.values()) == [0, 1], w
sent = [v["chunks_sent"] for v in w.values()]
# Every fetch got every chunk; a chunk sent twice (re-asked) counts twice.
assert min(sent) > 0 and sum(sent) >= n, ("served by one worker only, or too few", sent, n)
PY

begin "ESP in UDP from two peers, each with its own SA pair: claimed where its flow lands"
k1i=0x$(hex 20) k1o=0x$(hex 20) k2i=0x$(hex 20) k2o=0x$(hex 20)
"$sp" sa add in spi 0x3001 peer 10.78.0.2 encap aead "$k1i" &&
	"$sp" sa add out spi 0x4001 peer 10.78.0.2 encap 42001 aead "$k1o" &&
	"$sp" sa add in spi 0x3002 peer 10.78.0.2 encap aead "$k2i" &&
	"$sp" sa add out spi 0x4002 peer 10.78.0.2 encap 42002 aead "$k2o" || fail "sa add"
for i in 1 2; do
	eval "ki=\$k${i}i ko=\$k${i}o"
	ip netns exec "$ns" timeout 120 "$sp" fetch --manifest "$work/store2/manifest" --public "$pub" \
		--peer 10.78.0.1:6778 --local-port $((42000 + i)) --sa-out "0x300$i:$ki" \
		--sa-in "0x400$i:$ko" -o "$work/esp$i" >"$work/espfetch$i.out" 2>&1 &
	fpids="$fpids $!"
done
for p in $fpids; do wait "$p" || fail "an ESP fetch failed: $(cat "$work"/espfetch*.out | head -3)"; done
fpids=
for i in 1 2; do
	cmp -s "$work/esp$i" "$work/content2" || fail "ESP fetch $i: content differs"
	grep -q ', ESP$' "$work/espfetch$i.out" || fail "fetch $i not over ESP: $(head -1 "$work/espfetch$i.out")"
done
"$sp" sa list >"$work/sa"
for spi in 0x00003001 0x00003002 0x00004001 0x00004002; do
	grep "spi $spi" "$work/sa" | grep -q "packets [1-9]" || fail "SA $spi not used: $(cat "$work/sa")"
done

begin "an ingest from superpeer seed runs on one worker, completes, is served back"
head -c $((4 << 20)) /dev/urandom >"$work/content3"
id3=$("$sp" pack --key "$work/key/provider.key" -o "$work/store3" "$work/content3" | tail -1)
seed_in_ns 10.78.0.2:7100 "$work/store3" "$work/seed.out"
"$sp" swarm ingest "$work/store3/manifest" --public "$pub" --from 10.78.0.2:7100 --open ||
	fail "swarm ingest"
ingest_wait "$id3" 60 || fail "ingest not complete: $("$sp" swarm list)"
kill "$seed_pid" 2>/dev/null; wait "$seed_pid" 2>/dev/null; seed_pid=
ip netns exec "$ns" timeout 120 "$sp" fetch --manifest "$work/store3/manifest" --public "$pub" \
	--peer 10.78.0.1:6778 --local-port 43000 -o "$work/ingested" >/dev/null || fail "fetch of the ingested swarm"
cmp -s "$work/ingested" "$work/content3" || fail "ingested content differs"
tel /superpeer/workers >"$work/w2" || fail "telemetry: $(cat "$work/w2")"
cat "$work/w2"
/usr/bin/python3 - "$work/w2" "$n_chunks" <<'PY' || fail "ingest: $(cat "$work/w2")"
import json, sys
w = json.load(open(sys.argv[1]))
ing = sorted(v["chunks_ingested"] for v in w.values())
assert ing == [0, int(sys.argv[2])], ("one worker ingests every chunk", ing)
PY

begin "an ingest over IPv6 (Neighbor Discovery: the advertisement may come in on either queue)"
head -c $((2 << 20)) /dev/urandom >"$work/content4"
id4=$("$sp" pack --key "$work/key/provider.key" -o "$work/store4" "$work/content4" | tail -1)
seed_in_ns '[fd00:78::2]:7101' "$work/store4" "$work/seed4.out"
"$sp" swarm ingest "$work/store4/manifest" --public "$pub" --from '[fd00:78::2]:7101' --open ||
	fail "swarm ingest over IPv6"
ingest_wait "$id4" 60 || fail "IPv6 ingest not complete: $("$sp" swarm list | grep "^$id4 ")"
kill "$seed_pid" 2>/dev/null; wait "$seed_pid" 2>/dev/null; seed_pid=
ip netns exec "$ns" timeout 120 "$sp" fetch --manifest "$work/store4/manifest" --public "$pub" \
	--peer '[fd00:78::1]:6778' --local-port 43001 -o "$work/ingested6" >/dev/null ||
	fail "fetch of the swarm ingested over IPv6"
cmp -s "$work/ingested6" "$work/content4" || fail "content ingested over IPv6 differs"

begin "an ingest through ESP in UDP: its frames steered before they are opened, if need be"
head -c $((2 << 20)) /dev/urandom >"$work/content5"
id5=$("$sp" pack --key "$work/key/provider.key" -o "$work/store5" "$work/content5" | tail -1)
k5i=0x$(hex 20) k5o=0x$(hex 20)
"$sp" sa add in spi 0x6001 peer 10.78.0.2 encap aead "$k5i" &&
	"$sp" sa add out spi 0x6002 peer 10.78.0.2 encap 7102 aead "$k5o" || fail "sa add (ingest)"
seed_in_ns 10.78.0.2:7102 "$work/store5" "$work/seed5.out" --sa-in "0x6002:$k5o" \
	--sa-out "0x6001:$k5i"
"$sp" swarm ingest "$work/store5/manifest" --public "$pub" --from 10.78.0.2:7102 --esp-port 7102 ||
	fail "swarm ingest through ESP"
ingest_wait "$id5" 60 || fail "ESP ingest not complete: $("$sp" swarm list | grep "^$id5 ")"
kill "$seed_pid" 2>/dev/null; wait "$seed_pid" 2>/dev/null; seed_pid=
"$sp" swarm list | grep "^$id5 " | grep -q " protected " ||
	fail "not served as protected: $("$sp" swarm list | grep "^$id5 ")"
"$sp" sa list >"$work/sa5"
for spi in 0x00006001 0x00006002; do
	grep "spi $spi" "$work/sa5" | grep -q "packets [1-9]" || fail "SA $spi not used: $(cat "$work/sa5")"
done
tel /superpeer/workers >"$work/w5" || fail "telemetry: $(cat "$work/w5")"
/usr/bin/python3 - "$work/w5" <<'PY' || fail "ESP ingest: $(cat "$work/w5")"
import json, sys
w = json.load(open(sys.argv[1]))
ing = sorted(v["chunks_ingested"] for v in w.values())
# 4096 + 2048 + 2048 chunks so far, every ingest on one worker or the other.
assert sum(ing) == 4096 + 2048 + 2048, ing
print("steered:", [v["ingest_steered"] for v in w.values()])
PY

begin "ARP replies nobody asked for: handed to no worker, counted (arp_other)"
ip netns exec "$ns" /usr/bin/python3 - "$vb" <<'PY' || fail "could not send ARP replies"
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
me = bytes.fromhex(open("/sys/class/net/%s/address" % sys.argv[1]).read().strip().replace(":", ""))
for last in (97, 98, 99):  # replies about 10.78.0.97-99, which nobody asked for
    arp = bytes.fromhex("0001080006040002") + me + bytes([10, 78, 0, last]) + b"\0" * 6 + \
        bytes([10, 78, 0, 1])
    s.send(b"\xff" * 6 + me + b"\x08\x06" + arp)
PY
sleep 0.5
tel /superpeer/stats >"$work/st"
/usr/bin/python3 - "$work/st" <<'PY' || fail "unsolicited replies: $(cat "$work/st")"
import json, sys
st = json.load(open(sys.argv[1]))
assert st["drop_arp_other"] == 3, st["drop_arp_other"]
PY
kill -TERM "$dp_pid"; wait "$dp_pid" 2>/dev/null; dp_pid=
begin "drops: none but those named"
grep -E "^(drop|esp|ppspp|worker|neighbour)" "$work/dp.out"
# ppspp: a fetch's datagrams after it had everything (ACKs racing the close); not_for_us:
# the namespace's own multicast (IPv6 router solicitations...). sa_owner would mean a flow
# moved between queues.
grep -E "^drop " "$work/dp.out" | grep -Ev "^drop (ppspp|not_for_us|arp_other): " &&
	fail "unexpected drops"
grep -E "^superpeer-dataplane: .*chunks served" "$work/dp.out"

begin "an SA pair for any peer (--sa-in/--sa-out) with two workers: warned at start"
: >"$work/dp.out" # not the last run's start line, found before this one writes
dp2 60 2 --sa-in "0x5001:0x$(hex 20)" --sa-out "0x5002:0x$(hex 20)" >"$work/dp.out" 2>&1 &
dp_pid=$!
dp_wait_ready 10.78.0.1
kill -TERM "$dp_pid"; wait "$dp_pid" 2>/dev/null; dp_pid=
grep "warning" "$work/dp.out"
grep -q "^superpeer-dataplane: warning: --sa-in/--sa-out make one SA pair for any peer, .* with 2 workers, " \
	"$work/dp.out" || fail "no warning: $(grep -v '^EAL' "$work/dp.out" | head -5)"
begin "net_af_packet with more sockets (qpairs) than workers: refused, one line"
(dp2 20 3) >"$work/dp3.out" 2>&1
rc=$?
[ "$rc" = 0 ] || [ "$rc" = 124 ] && fail "started with qpairs=3 for 2 workers (exit $rc)"
grep "qpairs" "$work/dp3.out"
grep -q "^superpeer-dataplane: port 0 (af_packet) has qpairs=3 sockets for 2 workers: give qpairs=2$" \
	"$work/dp3.out" || fail "refusal: $(grep -v '^EAL' "$work/dp3.out" | tail -3)"
echo "$cases cases, $failures failed"
[ "$failures" = 0 ]
