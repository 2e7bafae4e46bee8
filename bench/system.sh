#!/usr/bin/env bash
# bench/system.sh [BUILD_DIR] [SECONDS] — the system benchmark of docs/performance.md:
#
#   superpeer-dataplane (lcore 0, one worker) ==net_memif== superpeer-loadgen (lcore 1)
#
# For 1024-, 4096- and 8192-byte chunks, a 256 MiB swarm served to 16 loadgen peers, plain
# and through ESP in UDP (AES-128-GCM): chunks/s and Gbit/s of chunk payload served on one
# worker core. In the same run, the ceilings on the same cores: dpdk-testpmd forwarding in io
# mode on the same memif pair against the loadgen's flood of frames the size of an ESP chunk
# datagram (I/O), and ipsec-mb AES-GCM seal bursts (bench_crypto). Prints a Markdown table.
# Normal pages (--no-huge): hugepages would raise every figure (DESIGN 6 says by ~40% for
# packet rate); this 2-vCPU VM has none reserved. Installs dpdk-dev (dpdk-testpmd) if absent.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${2:-10}
command -v dpdk-testpmd >/dev/null || apt-get install -y -qq dpdk-dev >/dev/null
sp=$build/tools/superpeer dp=$build/dataplane/superpeer-dataplane lg=$build/tools/superpeer-loadgen
work=$(mktemp -d "${TMPDIR:-/tmp}/sp-system.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work" /var/run/dpdk/spsys*
}
trap cleanup EXIT
k_in=0x000102030405060708090a0b0c0d0e0f10111213
k_out=0x202122232425262728292a2b2c2d2e2f30313233
eal() { echo "-l $1 --no-huge -m 1024 --no-pci --file-prefix spsys$2 --log-level 1"; }

"$sp" keygen -o "$work/key" >/dev/null
head -c $((256 << 20)) /dev/urandom >"$work/content"

# serve CHUNK MODE: one data plane, one loadgen run; prints the loadgen's last line.
serve() {
	local chunk=$1 mode=$2 sock=$work/m.sock esp_dp=() esp_lg=()
	if [ "$mode" = esp ]; then
		esp_dp=(--sa-in "0x1001:$k_in" --sa-out "0x2002:$k_out")
		esp_lg=(--sa-out "0x1001:$k_in" --sa-in "0x2002:$k_out")
	fi
	rm -f "$sock"
	# shellcheck disable=SC2046
	"$dp" $(eal 0 dp) --vdev "net_memif0,role=server,socket=$sock" -- --ip 10.99.0.1 \
		--store "$work/store$chunk" --public "$work/key/provider.pub" --open --mtu 9000 \
		--keyring "spsys$$" --idle-sleep-us 0 "${esp_dp[@]}" >"$work/dp.out" 2>&1 &
	local dpid=$!
	pids+=("$dpid")
	sleep 2
	# shellcheck disable=SC2046
	"$lg" $(eal 1 lg) --vdev "net_memif0,role=client,socket=$sock" -- --target 10.99.0.1 \
		--ip 10.99.0.2 --manifest "$work/store$chunk/manifest" --peers 16 \
		--seconds "$secs" "${esp_lg[@]}" 2>/dev/null | tail -1
	kill -INT "$dpid"
	wait "$dpid" 2>/dev/null || true
}

# flood BYTES: dpdk-testpmd io-forwarding the loadgen's frames back; prints Gbit/s back.
flood() {
	local sock=$work/t.sock
	rm -f "$sock"
	# shellcheck disable=SC2046
	# testpmd forwards on lcore 0; its main lcore (1, shared with the loadgen) only waits.
	sleep $((secs + 4)) | dpdk-testpmd $(eal 0,1 tp) --main-lcore 1 \
		--vdev "net_memif0,role=server,socket=$sock" \
		-- --forward-mode=io --port-topology=loop --auto-start >"$work/tp.out" 2>&1 &
	pids+=($!)
	sleep 2
	# shellcheck disable=SC2046
	"$lg" $(eal 1 lg) --vdev "net_memif0,role=client,socket=$sock" -- --flood "$1" \
		--seconds "$secs" 2>/dev/null | tail -1
	wait 2>/dev/null || true
}

"$build/bench/bench_crypto" --benchmark_filter='BM_gcm128_seal_burst32/(1024|4096|8192)$' \
	--benchmark_min_time=0.5 --benchmark_format=csv 2>/dev/null >"$work/gcm.csv"

echo "| chunk | served plain | served ESP (AES-128-GCM) | I/O ceiling: testpmd io, same frames | crypto ceiling: GCM seal burst | ESP / min(ceilings) |"
echo "|---|---|---|---|---|---|"
for chunk in 1024 4096 8192; do
	"$sp" pack --key "$work/key/provider.key" --chunk-size "$chunk" -o "$work/store$chunk" \
		"$work/content" >/dev/null
	plain=$(serve "$chunk" plain)
	esp=$(serve "$chunk" esp)
	# An ESP chunk datagram: Ethernet, IPv4, UDP, ESP header + IV, inner UDP, PPSPP DATA
	# header (13) and the chunk, trailer and ICV (about 60 bytes of INTEGRITY on average).
	frame=$((14 + 20 + 8 + 16 + 8 + 13 + chunk + 4 + 16))
	io=$(flood "$frame")
	gcm=$(awk -F, -v c="$chunk" '$1 ~ "seal_burst32/"c"\"" { print $6 }' "$work/gcm.csv")
	awk -v c="$chunk" -v p="$plain" -v e="$esp" -v io="$io" -v g="$gcm" -v f="$frame" 'BEGIN {
		split(p, a, " "); split(e, b, " ")
		pc = a[7]; pg = a[9]; ec = b[7]; eg = b[9]
		match(io, /back [0-9.]+ Mpps/); mpps = substr(io, RSTART + 5, RLENGTH - 10)
		iog = mpps * 1e6 * c * 8 / 1e9          # chunk payload the I/O ceiling carries
		cg = g * 8 / 1e9                         # bytes/s of 1 KiB seals -> Gbit/s
		m = iog < cg ? iog : cg
		printf "| %d B | %s chunks/s, %s Gbit/s | %s chunks/s, %s Gbit/s | %.2f Mpps of %d-byte frames = %.2f Gbit/s of chunks | %.1f Gbit/s | %.0f %% |\n",
			c, pc, pg, ec, eg, mpps, f, iog, cg, 100 * eg / m
	}'
done
