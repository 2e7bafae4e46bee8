#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# capture_test.sh SUPERPEER: Wireshark's ESP decryption (tshark) of a whole download.
#
#   superpeer seed --sa-in/--sa-out  <--ESP in UDP, captured on lo-->  superpeer fetch
#   tshark -r capture, with the two SAs as ESP SA table entries:
#     every ESP packet both ways decrypts, carries UDP (next header 17), ICV good
#
# The keys are given to tshark exactly as to the tools (0x key || salt, as `ip xfrm` writes
# them). Exit 77 when tshark is missing or this machine does not let it capture on lo.
set -u
sp=$1
command -v tshark >/dev/null || { echo "tshark is not installed" >&2; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/sp-capture.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

"$sp" keygen -o "$work/key" >/dev/null
head -c $((2 << 20)) /dev/urandom >"$work/content"
"$sp" pack --key "$work/key/provider.key" -o "$work/store" "$work/content" >/dev/null
k_in=$(hex 20) k_out=$(hex 36)

timeout --foreground 120 "$sp" seed --public "$work/key/provider.pub" --listen 127.0.0.1:0 \
	--sa-in "0x1001:0x$k_in" --sa-out "0x2002:0x$k_out" "$work/store" >"$work/seed.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	port=$(sed -n 's/^listening on .*:\([0-9]*\),.*/\1/p' "$work/seed.out")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "seeder did not start: $(cat "$work/seed.out")"; exit 1; }

timeout --foreground 120 tshark -i lo -f "udp port $port" -w "$work/cap.pcapng" -q >"$work/tshark.out" 2>&1 &
tpid=$!
pids+=($tpid)
for _ in $(seq 100); do
	grep -q "Capturing on" "$work/tshark.out" && break
	if ! kill -0 $tpid 2>/dev/null; then
		echo "tshark cannot capture on lo here: $(cat "$work/tshark.out")" >&2
		exit 77
	fi
	sleep 0.1
done
sleep 0.5

timeout 60 "$sp" fetch --manifest "$work/store/manifest" --public "$work/key/provider.pub" \
	--peer "127.0.0.1:$port" --esp-port "$port" -o "$work/out" --sa-out "0x1001:0x$k_in" \
	--sa-in "0x2002:0x$k_out" >/dev/null || { echo "FAIL: fetch failed"; exit 1; }
cmp -s "$work/out" "$work/content" || { echo "FAIL: content differs"; exit 1; }
sleep 1
kill -INT $tpid
wait $tpid 2>/dev/null

sa() { echo "uat:esp_sa:\"IPv4\",\"127.0.0.1\",\"127.0.0.1\",\"$1\",\"AES-GCM with 16 octet ICV [RFC4106]\",\"0x$2\",\"NULL\",\"\""; }
# The inner UDP header carries the same ports, so tshark takes the inner payload for ESP in
# UDP too: only the first (outer) value of each field counts. A PPSPP datagram to channel 0
# (fetch's handshake) starts with four zero bytes, the RFC 3948 non-ESP marker, so tshark
# reads the decrypted datagram as IKE, fails on it and shows no ICV verdict for that frame:
# such frames count as decrypted when the inner UDP header was dissected (two udp.length
# values) and are reported apart.
tshark -r "$work/cap.pcapng" -d "udp.port==$port,udpencap" \
	-o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE \
	-o "$(sa 0x00001001 "$k_in")" -o "$(sa 0x00002002 "$k_out")" \
	-T fields -E separator=/t -e esp.spi -e esp.protocol -e esp.icv_good -e udp.length \
	-e frame.protocols 2>/dev/null |
	awk -F '\t' '{ split($1, s, ","); n[s[1]]++
	       if ($2 ~ /^0x11/ && $3 ~ /^1/) ok[s[1]]++
	       else if ($4 ~ /,/ && $5 ~ /isakmp/) { ok[s[1]]++; ike[s[1]]++ } }
	     END { for (k in n) printf "%s %d %d %d\n", k, n[k], ok[k], ike[k] }' \
	>"$work/summary"
cat "$work/summary"
fail=0
for spi in 0x00001001 0x00002002; do
	read -r _ total good ike < <(grep "^$spi " "$work/summary") || true
	if [ -z "${total:-}" ] || [ "$total" -eq 0 ]; then
		echo "FAIL: no ESP packets with SPI $spi in the capture"
		fail=1
	elif [ "$good" != "$total" ]; then
		echo "FAIL: SPI $spi: $good of $total decrypted with a good ICV"
		fail=1
	else
		echo "SPI $spi: all $total ESP packets decrypted by tshark, UDP inside, ICV good" \
			"(${ike:-0} handshakes to channel 0 shown as IKE without a verdict)"
	fi
	total= good= ike=
done
exit $fail
