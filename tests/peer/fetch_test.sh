#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# fetch_test.sh SUPERPEER: superpeer seed and superpeer fetch over real UDP sockets on
# loopback, plain and with ESP in UDP (the project's own ESP on both ends).
#
#   superpeer pack CONTENT -> STORE      superpeer seed STORE  <--UDP [ESP]-->  superpeer fetch -o OUT
#
# Numbered cases: byte-identical downloads (IPv4 plain; IPv6 with AES-128 ESP; AES-256 ESP
# with ESN, SHA-1 and 8 KiB chunks); wrong ESP keys, a manifest signed by another key, a
# store altered on disk, an existing output, a missing store: each a non-zero exit with one
# clear line, no output file and no temporary file left (the altered chunks asked again
# after a second); a chunk altered once on the way (seed --corrupt-once) asked again and
# the download complete; a chunk lost on the way (seed --lose-once) taken as lost from the
# order of arrival and asked again; numeric options that are not numbers in range (12x, -1, 0x,
# 1400abc; --nat-keepalive abc, -1, 3601; --keepalive 0, 3601, 1s)
# refused with one line naming the option. Every process is bounded by timeout and killed on
# exit.
set -u
sp=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/sp-fetch.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
failures=0 cases=0
fail() { echo "FAIL case $cases: $*"; failures=$((failures + 1)); }
begin() { cases=$((cases + 1)); echo "case $cases: $*"; }

# seed STORE LISTEN [args...]: starts a seeder, sets $port.
seed() {
	local store=$1 listen=$2
	shift 2
	: >"$work/seed.out"
	timeout --foreground 120 "$sp" seed --public "$work/key/provider.pub" --listen "$listen" "$@" "$store" \
		>"$work/seed.out" 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do
		port=$(sed -n 's/^listening on .*:\([0-9]*\),.*/\1/p' "$work/seed.out")
		[ -n "$port" ] && return 0
		sleep 0.1
	done
	fail "seeder did not start: $(cat "$work/seed.out")"
	port=1
}
stop_seed() {
	kill -TERM "${pids[-1]}" 2>/dev/null
	wait "${pids[-1]}" 2>/dev/null
}
no_leftovers() {
	[ -e "$work/out" ] && fail "$1: output file exists"
	ls -A "$work" | grep -q '^\.fetch-' && fail "$1: temporary file left behind"
	rm -f "$work/out"
}
expect_fetch_error() { # description pattern fetch-args...
	local what=$1 pattern=$2
	shift 2
	timeout 60 "$sp" fetch -o "$work/out" --timeout 2 "$@" >"$work/stdout" 2>"$work/err"
	local rc=$?
	[ $rc -ne 0 ] || fail "$what: exit 0"
	[ "$(wc -l <"$work/err")" -eq 1 ] || { fail "$what: not one error line:"; cat "$work/err"; }
	grep -q -- "$pattern" "$work/err" || fail "$what: '$(cat "$work/err")' lacks '$pattern'"
	no_leftovers "$what"
}

hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

"$sp" keygen -o "$work/key" >/dev/null
"$sp" keygen -o "$work/other" >/dev/null
head -c $((8 << 20)) /dev/urandom >"$work/content"
head -c 3000001 /dev/urandom >"$work/content2"
swarm=$("$sp" pack --key "$work/key/provider.key" -o "$work/store" "$work/content" | tail -n 1)
"$sp" pack --hash sha1 --chunk-size 8192 --key "$work/key/provider.key" -o "$work/store2" \
	"$work/content2" >/dev/null
pub=$work/key/provider.pub

begin "IPv4, plain"
seed "$work/store" 127.0.0.1:0
got=$(timeout 60 "$sp" fetch --manifest "$work/store/manifest" --public "$pub" \
	--peer "127.0.0.1:$port" -o "$work/out" | tail -n 1)
cmp -s "$work/out" "$work/content" || fail "content differs"
[ "$got" = "$swarm" ] || fail "swarm ID $got, pack said $swarm"
rm -f "$work/out"
stop_seed

begin "IPv6, ESP AES-128"
k1=0x$(hex 20) k2=0x$(hex 20)
seed "$work/store" "[::1]:0" --sa-in "0x1001:$k1" --sa-out "0x2002:$k2"
timeout 60 "$sp" fetch --manifest "$work/store/manifest" --public "$pub" --peer "[::1]:$port" \
	-o "$work/out" --esp-port "$port" --sa-out "0x1001:$k1" --sa-in "0x2002:$k2" >"$work/stdout" ||
	fail "fetch failed"
grep -q ', ESP$' "$work/stdout" || fail "not reported as ESP: $(head -1 "$work/stdout")"
cmp -s "$work/out" "$work/content" || fail "content differs"
rm -f "$work/out"

begin "wrong ESP keys"
expect_fetch_error "wrong keys" "no answer" --manifest "$work/store/manifest" --public "$pub" \
	--peer "[::1]:$port" --esp-port "$port" --sa-out "0x1001:$k2" --sa-in "0x2002:$k1"
stop_seed
grep -q "failed ESP" "$work/seed.out" && ! grep -q " 0 failed ESP" "$work/seed.out" ||
	fail "seeder did not count the failed ESP: $(tail -1 "$work/seed.out")"

begin "ESP AES-256 with ESN, SHA-1, 8 KiB chunks, CAM 4"
k3=0x$(hex 36) k4=0x$(hex 36)
seed "$work/store2" 127.0.0.1:0 --mtu 9000 --esn --sa-in "4096:$k3" --sa-out "8192:$k4"
timeout 60 "$sp" fetch --manifest "$work/store2/manifest" --public "$pub" --cam 4 \
	--peer "127.0.0.1:$port" -o "$work/out" --esn --sa-out "4096:$k3" --sa-in "8192:$k4" --esp-port "$port" \
	>/dev/null || fail "fetch failed"
cmp -s "$work/out" "$work/content2" || fail "content differs"
rm -f "$work/out"
stop_seed

begin "manifest signed by another key"
seed "$work/store" 127.0.0.1:0
expect_fetch_error "other key" "not signed by" --manifest "$work/store/manifest" \
	--public "$work/other/provider.pub" --peer "127.0.0.1:$port"

begin "output exists"
echo keep >"$work/out"
timeout 30 "$sp" fetch --manifest "$work/store/manifest" --public "$pub" \
	--peer "127.0.0.1:$port" -o "$work/out" 2>"$work/err" && fail "exit 0"
grep -q "exists" "$work/err" || fail "$(cat "$work/err")"
[ "$(cat "$work/out")" = keep ] || fail "output overwritten"
rm -f "$work/out"
stop_seed

begin "store altered on disk after packing: every other chunk still arrives"
cp -r "$work/store" "$work/bad"
# flip OFFSET: the byte there inverted (writing a fixed value left it unchanged 1 time in 256)
flip() {
	local v
	v=$(od -An -tu1 -j "$1" -N1 "$work/bad/chunks" | tr -d ' ')
	printf "\\$(printf %03o $((255 - v)))" |
		dd of="$work/bad/chunks" bs=1 seek="$1" conv=notrunc 2>/dev/null
}
flip $((100 * 1024 + 7))
flip $((5000 * 1024))
cmp -s "$work/bad/chunks" "$work/store/chunks" && fail "store not altered"
seed "$work/bad" 127.0.0.1:0
# Chunks 100 and 5000 fail the Merkle check each time they come; their neighbours, whose
# uncles only the refused datagrams carried, must still arrive (the seeder sends full paths
# for what is asked again). Each is asked again once a second after it failed (then after 2,
# 4 ... s), so by the 2 s timeout both have failed at least twice.
expect_fetch_error "altered store" "stalled at 8190 of 8192 chunks ([0-9]* did not verify" \
	--manifest "$work/bad/manifest" --public "$pub" --peer "127.0.0.1:$port"
bad=$(sed -n 's/.*(\([0-9]*\) did not verify.*/\1/p' "$work/err")
[ "${bad:-0}" -ge 4 ] || fail "altered chunks not asked again: ${bad:-?} bad copies"
stop_seed

begin "a chunk altered once on the way: asked again a second later, the download completes"
seed "$work/store" 127.0.0.1:0 --corrupt-once 100
timeout 60 "$sp" fetch --manifest "$work/store/manifest" --public "$pub" \
	--peer "127.0.0.1:$port" -o "$work/out" >"$work/stdout" 2>"$work/err" ||
	fail "fetch: $(cat "$work/err")"
cmp -s "$work/out" "$work/content" || fail "content differs"
grep -q "^refused 1 chunks that did not verify (1 asked again)$" "$work/stdout" ||
	fail "$(cat "$work/stdout")"
rm -f "$work/out"
stop_seed

begin "a chunk lost on the way: asked again as later ones arrive, well before the end"
# Chunk 100's datagram is not sent (seed --lose-once). Before the leecher read losses from
# the order of arrival, it was asked again only after the last chunk came, once the whole
# transfer had stalled for 300 ms.
seed "$work/store" 127.0.0.1:0 --lose-once 100
timeout 60 "$sp" fetch --manifest "$work/store/manifest" --public "$pub" \
	--peer "127.0.0.1:$port" -o "$work/out" >"$work/stdout" 2>"$work/err" ||
	fail "fetch: $(cat "$work/err")"
cmp -s "$work/out" "$work/content" || fail "content differs"
grep -q "^seed: chunk 100 not sent" "$work/seed.out" || fail "chunk 100 was not lost"
grep "^asked again: " "$work/stdout"
grep -Eq "^asked again: [1-9][0-9]* chunks lost on the way" "$work/stdout" ||
	fail "no chunk taken as lost: $(cat "$work/stdout")"
rm -f "$work/out"
stop_seed

begin "numbers that are not numbers: one line naming the option, nothing written"
expect_fetch_error "window 12x" "^superpeer fetch: --window '12x': a number from 1 to 1048576$" \
	--manifest "$work/store/manifest" --public "$pub" --peer 127.0.0.1:9 --window 12x
expect_fetch_error "cam 3" "^superpeer fetch: --cam '3': 2 or 4$" \
	--manifest "$work/store/manifest" --public "$pub" --peer 127.0.0.1:9 --cam 3
expect_fetch_error "local port -1" "--local-port '-1': a number from 0 to 65535$" \
	--manifest "$work/store/manifest" --public "$pub" --peer 127.0.0.1:9 --local-port -1
expect_fetch_error "esp port 0x" "--esp-port '0x': a number from 1 to 65535$" \
	--manifest "$work/store/manifest" --public "$pub" --peer 127.0.0.1:9 --esp-port 0x
for v in abc -1 3601; do
	expect_fetch_error "nat-keepalive $v" "^superpeer fetch: --nat-keepalive '$v': a number from 0 to 3600$" \
		--manifest "$work/store/manifest" --public "$pub" --peer 127.0.0.1:9 --nat-keepalive "$v"
done
for v in 0 3601 1s; do
	expect_fetch_error "keepalive $v" "^superpeer fetch: --keepalive '$v': a number from 1 to 3600$" \
		--manifest "$work/store/manifest" --public "$pub" --peer 127.0.0.1:9 --keepalive "$v"
done
# Hex is taken whole, letters too (an SPI as `sa list` prints it, 0xdeadbeef).
timeout 30 "$sp" fetch -o "$work/out" --manifest "$work/nothere" --public "$pub" \
	--peer 127.0.0.1:9 --esp-port 0xfa0 2>"$work/err" && fail "fetch of a missing manifest: exit 0"
grep -q "esp-port" "$work/err" && fail "--esp-port 0xfa0 refused: $(cat "$work/err")"
timeout 30 "$sp" seed --public "$pub" --listen 127.0.0.1:0 --mtu 1400abc "$work/store" \
	>/dev/null 2>"$work/err" && fail "seed --mtu 1400abc: exit 0"
grep -qx "superpeer seed: --mtu '1400abc': a number from 0 to 65507" "$work/err" ||
	fail "seed --mtu 1400abc: $(cat "$work/err")"

begin "seed of a missing store"
timeout 30 "$sp" seed --public "$pub" --listen 127.0.0.1:0 "$work/nothere" >/dev/null \
	2>"$work/err" && fail "exit 0"
[ "$(wc -l <"$work/err")" -eq 1 ] && grep -q "nothere" "$work/err" || fail "$(cat "$work/err")"

echo "$cases cases, $failures failed"
[ $failures -eq 0 ]
