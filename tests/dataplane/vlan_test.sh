#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# vlan_test.sh SUPERPEER SUPERPEER_DATAPLANE: the data plane on an 802.1Q VLAN, against the
# Linux kernel's VLAN interfaces.
#
#   superpeer-dataplane (net_af_packet on spvA, vlan = 100) ==veth== spvB in NS
#   10.79.100.1, fd00:79:100::1                                      spvB.100: 10.79.100.2
#                                                                    spvB.200: 10.79.100.3
#                                                                    spvB (untagged): .4
#
# Cases: tagged ARP requests and an echo from a raw socket (scapy): only VLAN 100's answered,
# tagged 100; then with kernel VLAN interfaces (when the kernel has 8021q):
# ARP, ICMP echo, Neighbor Discovery and ICMPv6 echo over VLAN 100; the same from
# VLAN 200 and untagged go unanswered and are counted as `vlan`; a swarm fetched over
# VLAN 100 byte-identical; an ingest from a seeder on VLAN 100 (frames the data plane starts,
# its ARP requests included, carry the tag). af_packet offers tag insertion and stripping, so
# the port does it here; tests/dataplane/pcap_test.py covers the software path. Every process
# runs under timeout; the namespace, the veth and the processes are removed on exit, also on
# failure. Exit 77 when this machine cannot make a netns/veth/VLAN or lacks af_packet.
set -u
. "$(dirname "$0")/dp_lib.sh"
sp=$1 dp=$2
ns=spvl$$ va=spv$$A vb=spv$$B
work=$(mktemp -d "${TMPDIR:-/tmp}/sp-vlan.XXXXXX")
dp_pid= seed_pid=
cleanup() {
	[ -n "$dp_pid" ] && kill -TERM "$dp_pid" 2>/dev/null && wait "$dp_pid" 2>/dev/null
	[ -n "$seed_pid" ] && kill "$seed_pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	ip link del "$va" 2>/dev/null
	rm -rf "$work" "/var/run/dpdk/spv$$"* "/dev/shm/superpeer-spv$$.keyring"
}
trap cleanup EXIT
N() { ip netns exec "$ns" "$@"; }

[ "$(id -u)" = 0 ] || { echo "needs root for a network namespace" >&2; exit 77; }
ip netns add "$ns" 2>/dev/null || { echo "cannot create a network namespace" >&2; exit 77; }
ip link add "$va" type veth peer name "$vb" || { echo "cannot create a veth pair" >&2; exit 77; }
ip link set "$vb" netns "$ns"
ip link set "$va" up
N ip link set "$vb" up
N ip link set lo up
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import scapy.all" 2>/dev/null ||
	{ echo "python3-scapy is not installed" >&2; exit 77; }
# Kernel VLAN interfaces need the 8021q module, which some kernels (this CI's) lack; the
# cases that use them are then said to be not run. Tagged frames themselves need nothing.
kvlan=yes
for id in 100 200; do
	N ip link add link "$vb" name "$vb.$id" type vlan id $id 2>/dev/null || { kvlan=no; break; }
	N ip link set "$vb.$id" up
done
if [ $kvlan = yes ]; then
	N ip addr add 10.79.100.2/24 dev "$vb.100"
	N ip addr add fd00:79:100::2/64 dev "$vb.100" nodad
	N ip addr add 10.79.100.3/24 dev "$vb.200"
	N ip addr add 10.79.100.4/24 dev "$vb"
	for l in "$vb.100" "$vb.200"; do N ethtool -K "$l" tx off >/dev/null 2>&1; done
fi
N ethtool -K "$vb" tx off >/dev/null 2>&1 ||
	{ echo "ethtool is needed to turn off veth checksum offload" >&2; exit 77; }

"$sp" keygen -o "$work/key" >/dev/null
pub=$work/key/provider.pub
for n in 1 2; do
	head -c $((4 << 20)) /dev/urandom >"$work/content$n"
	"$sp" pack --key "$work/key/provider.key" -o "$work/store$n" "$work/content$n" |
		tail -1 >"$work/id$n"
done
export SUPERPEER_KEYRING=spv$$
cat >"$work/dp.ini" <<EOF
[dataplane]
ip = 10.79.100.1/24
ip6 = fd00:79:100::1/64
vlan = 100
keyring = spv$$

[swarm one]
store = $work/store1
public = $pub
open = yes
EOF
: >"$work/dp.out"
timeout --foreground 300 "$dp" -l 0 --no-huge -m 256 --file-prefix "spv$$" --no-pci \
	--vdev "net_af_packet0,iface=$va" -- --config "$work/dp.ini" >"$work/dp.out" 2>&1 &
dp_pid=$!
dp_wait_ready 10.79.100.1
grep "^superpeer-dataplane:" "$work/dp.out"
# af_packet offers tag insertion (the kernel puts the tag on); pcap_test.py covers software.
grep -q "vlan 100 (tag by the port)" "$work/dp.out" || fail "tag insertion not by the port"
drops_vlan() { "$sp" stats | awk '$1 == "drop_vlan" { print $2 }'; }

begin "tagged frames from a raw socket: VLAN 100 answered with tag 100, 200 and untagged counted"
before=$(drops_vlan)
N /usr/bin/python3 - "$vb" "$(cat /sys/class/net/$va/address)" <<'PY' || fail "$(cat "$work/raw" 2>/dev/null)"
import sys
from scapy.all import ARP, ICMP, IP, Dot1Q, Ether, Raw, conf, sniff, sendp, AsyncSniffer
iface, dpmac = sys.argv[1], sys.argv[2]
me = "02:00:00:79:00:02"
def arp(vid, src):
    e = Ether(dst="ff:ff:ff:ff:ff:ff", src=me)
    a = ARP(op=1, hwsrc=me, psrc=src, pdst="10.79.100.1")
    return e / Dot1Q(vlan=vid) / a if vid else e / a
sn = AsyncSniffer(iface=iface, filter=None, store=True,
                  lfilter=lambda p: p[Ether].src == dpmac)
sn.start()
import time; time.sleep(0.3)
sendp([arp(100, "10.79.100.2"), arp(200, "10.79.100.3"), arp(0, "10.79.100.4")],
      iface=iface, verbose=False)
sendp(Ether(dst=dpmac, src=me) / Dot1Q(vlan=100) / IP(src="10.79.100.2", dst="10.79.100.1") /
      ICMP(id=7, seq=1) / Raw(b"vlan" * 8), iface=iface, verbose=False)
time.sleep(1.0)
got = sn.stop()
ok = True
arps = [p for p in got if ARP in p]
echos = [p for p in got if ICMP in p]
for p in got:
    print("  got", p.summary(), "vlan", p[Dot1Q].vlan if Dot1Q in p else None)
if len(arps) != 1 or Dot1Q not in arps[0] or arps[0][Dot1Q].vlan != 100 or \
        arps[0][ARP].op != 2 or arps[0][ARP].pdst != "10.79.100.2":
    print("ARP: expected one reply tagged 100 to 10.79.100.2"); ok = False
if len(echos) != 1 or Dot1Q not in echos[0] or echos[0][Dot1Q].vlan != 100 or \
        echos[0][ICMP].type != 0 or bytes(echos[0][ICMP].payload) != b"vlan" * 8:
    print("ICMP: expected one echo reply tagged 100"); ok = False
sys.exit(0 if ok else 1)
PY
after=$(drops_vlan)
[ "${after:-0}" -ge $((${before:-0} + 2)) ] || fail "drop_vlan ${before:-?} -> ${after:-?}"

if [ $kvlan = no ]; then
	echo "cases with kernel VLAN interfaces (ping, ND, fetch, ingest over VLAN 100) not run:"
	echo "this kernel cannot make a VLAN device (no 8021q)"
	stop_dp
	grep -E "^drop " "$work/dp.out"
	echo "$cases cases, $failures failed"
	[ "$failures" = 0 ]
	exit
fi

begin "ARP, ICMP echo, Neighbor Discovery and ICMPv6 echo over VLAN 100"
N ping -I "$vb.100" -c 2 -i 0.2 -W 2 10.79.100.1 >"$work/ping" 2>&1 ||
	fail "no echo reply: $(tail -2 "$work/ping")"
N ping -6 -I "$vb.100" -c 2 -i 0.2 -W 2 fd00:79:100::1 >"$work/ping" 2>&1 ||
	fail "no IPv6 echo reply: $(tail -2 "$work/ping")"

begin "VLAN 200 and untagged: no answer, each frame counted as vlan"
before=$(drops_vlan)
N ping -I "$vb.200" -c 1 -W 1 10.79.100.1 >/dev/null 2>&1 && fail "answered on VLAN 200"
N ping -I "$vb" -c 1 -W 1 10.79.100.1 >/dev/null 2>&1 && fail "answered untagged"
after=$(drops_vlan)
[ "${after:-0}" -ge $((${before:-0} + 2)) ] || fail "drop_vlan ${before:-?} -> ${after:-?}"

begin "a swarm fetched over VLAN 100, byte-identical"
N timeout 120 "$sp" fetch --manifest "$work/store1/manifest" --public "$pub" \
	--peer 10.79.100.1:6778 -o "$work/out1" >/dev/null || fail "fetch"
cmp -s "$work/out1" "$work/content1" || fail "content differs"

begin "ingest from a seeder on VLAN 100, then served back"
N timeout --foreground 120 "$sp" seed --public "$pub" --listen 10.79.100.2:7100 \
	"$work/store2" >"$work/seed.out" 2>&1 &
seed_pid=$!
for _ in $(seq 50); do grep -q "^listening on" "$work/seed.out" && break; sleep 0.1; done
id2=$(cat "$work/id2")
"$sp" swarm ingest "$work/store2/manifest" --public "$pub" --from 10.79.100.2:7100 --open ||
	fail "swarm ingest"
ingest_wait "$id2" 30
"$sp" swarm list | grep "^$id2 " | grep -q " open " ||
	fail "ingest did not complete: $("$sp" swarm list | grep "^$id2 " | cut -c1-200)"
kill "$seed_pid" 2>/dev/null; wait "$seed_pid" 2>/dev/null; seed_pid=
N timeout 120 "$sp" fetch --manifest "$work/store2/manifest" --public "$pub" \
	--peer 10.79.100.1:6778 -o "$work/out2" >/dev/null || fail "fetch of the ingested swarm"
cmp -s "$work/out2" "$work/content2" || fail "ingested content differs"
stop_dp
grep -E "^drop " "$work/dp.out"

echo "$cases cases, $failures failed"
[ "$failures" = 0 ]
