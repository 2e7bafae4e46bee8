#!/usr/bin/env bash
# The main job, end to end, on virtual ports:
#
#   superpeer pack sample -> store          superpeer-dataplane (DPDK, net_af_packet)
#   superpeer swarm add, sa add  --keyring->   on veth spdemoA, 10.77.0.1, ESP in UDP :4500
#                                                 ||  veth
#   netns spdemo: spdemoB 10.77.0.2  --  superpeer fetch through ESP in UDP -> sample copy
#
# Packs a random sample into a signed store, verifies it, starts the DPDK data plane, adds
# the swarm and an ESP SA pair made on the spot through the key ring (`superpeer swarm add`,
# `superpeer sa add`), downloads it from a network namespace through ESP,
# checks the copy is byte-identical and prints the swarm ID and the throughputs, next to
# `openssl dgst` hashing the same file. Needs root (namespace, veth, DPDK).
#
#   scripts/demo.sh [SIZE_MIB]     (default 256)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-256}

scripts/setup.sh
sp=build/tools/superpeer
dp=build/dataplane/superpeer-dataplane
work=$(mktemp -d "${TMPDIR:-/tmp}/superpeer-demo.XXXXXX")
ns=spdemo$$ va=spdemo$$a vb=spdemo$$b
dp_pid=
cleanup() {
	[ -n "$dp_pid" ] && kill -TERM "$dp_pid" 2>/dev/null && wait "$dp_pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null || true
	ip link del "$va" 2>/dev/null || true
	rm -rf "$work" "/dev/shm/superpeer-spdemo$$.keyring"
}
trap cleanup EXIT
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

echo "== provider key"
"$sp" keygen --secret "$work/provider.key" --public "$work/provider.pub"

echo "== sample content: $size_mib MiB of random bytes"
head -c "$((size_mib * 1024 * 1024))" /dev/urandom >"$work/sample.bin"
sync "$work/sample.bin" # so the pack below does not pay for writing the sample back

echo "== pack (SHA-256, 1024-byte chunks)"
t0=$(date +%s.%N)
swarm=$("$sp" pack --hash sha256 --chunk-size 1024 --name sample.bin \
	--key "$work/provider.key" -o "$work/store" "$work/sample.bin" | tail -n 1)
t1=$(date +%s.%N)
echo "swarm ID $swarm, packed in $(secs "$t0" "$t1") s"

echo "== verify"
"$sp" verify --public "$work/provider.pub" "$work/store" | head -n 1

echo "== network: veth $va (data plane) <-> $vb 10.77.0.2 in namespace $ns"
ip netns add "$ns"
ip link add "$va" type veth peer name "$vb"
ip link set "$vb" netns "$ns"
ip link set "$va" up
ip netns exec "$ns" ip addr add 10.77.0.2/24 dev "$vb"
ip netns exec "$ns" ip link set "$vb" up
ip netns exec "$ns" ethtool -K "$vb" tx off >/dev/null

echo "== ESP SA pair (AES-128-GCM, RFC 4106), fresh keys"
k_up=0x$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
k_down=0x$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')

echo "== superpeer-dataplane on net_af_packet, 10.77.0.1 (key ring spdemo$$)"
export SUPERPEER_KEYRING=spdemo$$
"$dp" -l 0 --no-huge -m 512 --file-prefix "spdemo$$" --no-pci \
	--vdev "net_af_packet0,iface=$va" -- --ip 10.77.0.1 >"$work/dp.out" 2>&1 &
dp_pid=$!
for _ in $(seq 100); do
	grep -q "^superpeer-dataplane: 10.77.0.1" "$work/dp.out" && break
	kill -0 "$dp_pid" 2>/dev/null || { cat "$work/dp.out"; exit 1; }
	sleep 0.1
done
grep "^superpeer-dataplane: 10.77.0.1" "$work/dp.out"

echo "== superpeer swarm add, superpeer sa add (through the key ring)"
"$sp" swarm add "$work/store" --public "$work/provider.pub" --id "$swarm"
"$sp" sa add in spi 0x1001 peer 10.77.0.2 encap aead "$k_up"
"$sp" sa add out spi 0x2002 peer 10.77.0.2 encap 40000 aead "$k_down"
"$sp" swarm list
"$sp" sa list

echo "== superpeer fetch in $ns, through ESP in UDP to 10.77.0.1:4500"
ip netns exec "$ns" "$sp" fetch --manifest "$work/store/manifest" \
	--public "$work/provider.pub" --peer 10.77.0.1:6778 --local-port 40000 --window 1024 \
	--sa-out "0x1001:$k_up" --sa-in "0x2002:$k_down" -o "$work/copy.bin" | tee "$work/fetch.out"
"$sp" sa list
echo "decrypt a capture of this with (Wireshark esp_sa entries):"
"$sp" sa show in 0x1001 --wireshark
"$sp" sa show out 10.77.0.2 encap 40000 --wireshark
cmp "$work/copy.bin" "$work/sample.bin"
echo "copy is byte-identical"

kill -TERM "$dp_pid"
wait "$dp_pid" || true
dp_pid=
grep -E "^(superpeer-dataplane: rx|drop|esp|ppspp)" "$work/dp.out" || true

t2=$(date +%s.%N)
openssl dgst -sha256 "$work/sample.bin" >/dev/null
t3=$(date +%s.%N)
echo
echo "swarm ID: $swarm"
awk -v mib="$size_mib" -v p="$(secs "$t0" "$t1")" -v o="$(secs "$t2" "$t3")" 'BEGIN {
	printf "superpeer pack:       %5.0f MiB/s (Merkle tree, copy, fsync, signature)\n", mib / p
	printf "openssl dgst -sha256: %5.0f MiB/s (same file, one plain SHA-256 stream)\n", mib / o
}'
sed -n 's/.* in \([0-9.]*\) s (\([0-9.]*\) MiB\/s), ESP/download over ESP:   \2 MiB\/s (DPDK data plane -> veth -> kernel UDP socket, every chunk Merkle-verified)/p' \
	"$work/fetch.out"
