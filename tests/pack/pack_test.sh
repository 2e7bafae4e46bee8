#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# pack_test.sh SUPERPEER VECTORS_JSON [large]: `superpeer keygen/pack/verify` end to end.
#
#   keygen -> key pair           pack CONTENT -> STORE/{chunks,tree,manifest}   verify STORE
#
# Numbered cases: round trips for both hashes and several chunk sizes; swarm IDs equal to the
# PPSPP vector roots; every bad input fails with exactly one line on stderr and leaves nothing
# under the final name (nor a temporary directory); damaged stores are refused with the
# damage named. With "large": 256 MiB packs and verifies within 64 MiB of memory.
set -u
sp=$1 vectors=$2 mode=${3:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/sp-pack.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
failures=0 cases=0

fail() { echo "FAIL case $cases: $*"; failures=$((failures + 1)); }
begin() { cases=$((cases + 1)); echo "case $cases: $*"; }

# expect_error DESCRIPTION PATTERN NOTHERE CMD...: CMD fails, writes one stderr line matching
# PATTERN, and NOTHERE (a path) does not exist afterwards.
expect_error() {
	local what=$1 pattern=$2 nothere=$3
	shift 3
	begin "$what"
	"$@" >"$work/out" 2>"$work/err"
	local rc=$?
	[ $rc -ne 0 ] || fail "$what: exit 0"
	[ "$(wc -l <"$work/err")" -eq 1 ] || { fail "$what: not one error line:"; cat "$work/err"; }
	grep -q -- "$pattern" "$work/err" || fail "$what: '$(cat "$work/err")' lacks '$pattern'"
	if [ -n "$nothere" ] && [ -e "$nothere" ]; then fail "$what: $nothere exists"; fi
	if ls -A "$work" | grep -q '\.tmp-'; then fail "$what: temporary directory left behind"; fi
}

key=$work/key/provider.key pub=$work/key/provider.pub
begin "keygen"
"$sp" keygen -o "$work/key" >"$work/out" 2>"$work/err" || fail "keygen failed: $(cat "$work/err")"
[ "$(stat -c %a "$key")" = 600 ] || fail "secret key mode $(stat -c %a "$key")"
grep -qE '^[0-9a-f]{64}$' "$key" && grep -qE '^[0-9a-f]{64}$' "$pub" || fail "key files not hex"
"$sp" keygen --secret "$work/other.key" --public "$work/other.pub" >/dev/null ||
	fail "keygen --secret/--public"
expect_error "keygen over an existing key" "already exists" "" "$sp" keygen -o "$work/key"

if [ "$mode" != large ]; then
begin "help"
for c in "" keygen pack verify; do
	"$sp" $c --help >"$work/out" 2>&1 && grep -q usage "$work/out" || fail "$c --help"
done

# ---- round trips ----
head -c 200003 /dev/urandom >"$work/content"
for hash in sha256 sha1; do
	for cs in 512 1024 4096 8192; do
		begin "round trip $hash chunk $cs"
		s=$work/store-$hash-$cs
		"$sp" pack --hash $hash --chunk-size $cs --key "$key" -o "$s" "$work/content" \
			>"$work/out" 2>"$work/err" || { fail "pack: $(cat "$work/err")"; continue; }
		[ -s "$work/err" ] && fail "pack wrote to stderr (not a terminal): $(cat "$work/err")"
		id=$(tail -n 1 "$work/out")
		echo "$id" | grep -qE "^[0-9a-f]{$([ $hash = sha1 ] && echo 40 || echo 64)}\$" ||
			fail "swarm id '$id'"
		cmp -s "$s/chunks" "$work/content" || fail "chunks differ from the content"
		"$sp" verify --public "$pub" "$s" >"$work/out" 2>"$work/err" ||
			fail "verify: $(cat "$work/err")"
		[ "$(tail -n 1 "$work/out")" = "$id" ] || fail "verify's root differs"
		grep -q "^chunk-size: $cs\$" "$s/manifest" || fail "manifest chunk size"
		grep -q "^name: content\$" "$s/manifest" || fail "manifest name"
	done
done

begin "relative output path with a trailing slash"
(cd "$work" && "$sp" pack --key "$key" -o rel/ content >/dev/null 2>"$work/err") ||
	fail "pack -o rel/: $(cat "$work/err")"
[ -f "$work/rel/manifest" ] || fail "no store at rel"

# ---- vector roots ----
begin "vector roots"
/usr/bin/python3 - "$vectors" "$work" <<'PY' >"$work/vlist" || fail "vector extraction"
import json, sys
v = json.load(open(sys.argv[1]))
for t in v["tests"]:
    g = t["generator"]
    if g == "text":
        data = t["content_text"].encode()
    elif g == "repeat":
        data = t["repeat_byte"].encode() * t["length"]
    else:
        data = bytes(i % 251 for i in range(t["length"]))
    path = "%s/vec%d" % (sys.argv[2], t["tcId"])
    open(path, "wb").write(data)
    print(path, v["chunk_size"], t["sha1_root"], t["sha256_root"])
PY
while read -r path cs r1 r256; do
	for hash in sha1 sha256; do
		want=$([ $hash = sha1 ] && echo "$r1" || echo "$r256")
		got=$("$sp" pack --hash $hash --chunk-size "$cs" --name "vec" --key "$key" \
			-o "$path.$hash" "$path" | tail -n 1)
		[ "$got" = "$want" ] || fail "$path $hash: $got, want $want"
		"$sp" verify --public "$pub" "$path.$hash" >/dev/null || fail "$path $hash verify"
	done
done <"$work/vlist"
[ "$(wc -l <"$work/vlist")" -ge 4 ] || fail "fewer than 4 vectors"

# ---- bad input to pack ----
: >"$work/empty"
mkdir -p "$work/adir"
echo "not a key" >"$work/bad.key"
s=$work/bad-store
expect_error "missing content" "cannot open" "$s" "$sp" pack --key "$key" -o "$s" "$work/nope"
expect_error "empty content" "empty" "$s" "$sp" pack --key "$key" -o "$s" "$work/empty"
expect_error "content is a directory" "not a regular file" "$s" \
	"$sp" pack --key "$key" -o "$s" "$work/adir"
expect_error "missing key" "provider.nokey" "$s" \
	"$sp" pack --key "$work/key/provider.nokey" -o "$s" "$work/content"
expect_error "bad key" "hex" "$s" "$sp" pack --key "$work/bad.key" -o "$s" "$work/content"
expect_error "bad chunk size" "chunk-size" "$s" \
	"$sp" pack --chunk-size 1000 --key "$key" -o "$s" "$work/content"
expect_error "chunk size too big" "chunk-size" "$s" \
	"$sp" pack --chunk-size 16384 --key "$key" -o "$s" "$work/content"
expect_error "bad hash" "hash" "$s" "$sp" pack --hash md5 --key "$key" -o "$s" "$work/content"
expect_error "output parent missing" "nodir" "$work/nodir/s" \
	"$sp" pack --key "$key" -o "$work/nodir/s" "$work/content"
expect_error "output exists" "already exists" "" \
	"$sp" pack --key "$key" -o "$work/adir" "$work/content"
expect_error "bad name" "name" "$s" \
	"$sp" pack --name "$(printf 'a\tb')" --key "$key" -o "$s" "$work/content"
expect_error "no arguments" "CONTENTFILE" "" "$sp" pack
expect_error "output parent is a file" "temporary directory" "$work/content/s" \
	"$sp" pack --key "$key" -o "$work/content/s" "$work/content"
# Permission cases need a user whom mode bits stop (root is not stopped).
if [ "$(id -u)" != 0 ]; then
	mkdir "$work/ro" && chmod 555 "$work/ro"
	expect_error "unwritable output parent" "temporary directory" "$work/ro/s" \
		"$sp" pack --key "$key" -o "$work/ro/s" "$work/content"
	chmod 755 "$work/ro"
	cp "$work/content" "$work/unreadable" && chmod 000 "$work/unreadable"
	expect_error "unreadable content" "Permission denied" "$s" \
		"$sp" pack --key "$key" -o "$s" "$work/unreadable"
	cp -r "$work/store-sha256-1024" "$work/locked" && chmod 000 "$work/locked"
	expect_error "verify: unreadable store" "cannot open store" "" \
		"$sp" verify --public "$pub" "$work/locked"
	chmod 755 "$work/locked"
fi

# ---- bad stores and keys to verify ----
good=$work/store-sha256-1024
damaged() { rm -rf "$work/d"; cp -r "$good" "$work/d"; }
expect_error "verify: no such store" "cannot open store" "" \
	"$sp" verify --public "$pub" "$work/nostore"
expect_error "verify: wrong public key" "not by" "" \
	"$sp" verify --public "$work/other.pub" "$good"
expect_error "verify: missing public key file" "cannot open key" "" \
	"$sp" verify --public "$work/none.pub" "$good"
expect_error "verify: store is a file" "cannot open store" "" \
	"$sp" verify --public "$pub" "$work/content"
damaged
printf '\x5a' | dd of="$work/d/chunks" bs=1 seek=$((1024 * 77 + 5)) conv=notrunc status=none
cmp -s "$work/d/chunks" "$good/chunks" && printf '\xa5' |
	dd of="$work/d/chunks" bs=1 seek=$((1024 * 77 + 5)) conv=notrunc status=none
expect_error "verify: one byte flipped in chunk 77" "chunk 77 " "" \
	"$sp" verify --public "$pub" "$work/d"
damaged
truncate -s -100 "$work/d/tree"
expect_error "verify: truncated tree" "truncated" "" "$sp" verify --public "$pub" "$work/d"
damaged
truncate -s 40 "$work/d/tree"
expect_error "verify: tree without a header" "truncated" "" "$sp" verify --public "$pub" "$work/d"
damaged
printf 'X' | dd of="$work/d/tree" bs=1 seek=0 conv=notrunc status=none
expect_error "verify: tree magic" "magic" "" "$sp" verify --public "$pub" "$work/d"
damaged
printf '\x01' | dd of="$work/d/tree" bs=1 seek=$((64 + 32 * 201 + 3)) conv=notrunc status=none
expect_error "verify: interior tree node altered" "bin 201 " "" \
	"$sp" verify --public "$pub" "$work/d"
damaged
truncate -s -1 "$work/d/chunks"
expect_error "verify: truncated chunks" "manifest says" "" "$sp" verify --public "$pub" "$work/d"
damaged
rm "$work/d/manifest"
expect_error "verify: no manifest" "manifest" "" "$sp" verify --public "$pub" "$work/d"
damaged
sed -i 's/^name: content$/name: contenT/' "$work/d/manifest"
expect_error "verify: manifest altered" "signature does not verify" "" \
	"$sp" verify --public "$pub" "$work/d"
damaged
sed -i 's/^chunk-size: 1024$/chunk-size: 1000/' "$work/d/manifest"
expect_error "verify: manifest malformed" "manifest:4: bad chunk size" "" \
	"$sp" verify --public "$pub" "$work/d"
damaged
cp "$work/store-sha1-1024/tree" "$work/d/tree"
expect_error "verify: tree of another store" "does not match the manifest" "" \
	"$sp" verify --public "$pub" "$work/d"

fi # not large

# ---- large content, bounded memory ----
if [ "$mode" = large ]; then
	begin "256 MiB in bounded memory"
	big=$work/big
	head -c $((1 << 20)) /dev/urandom >"$big"
	truncate -s $((256 << 20)) "$big"
	head -c 4097 /dev/urandom >>"$big"
	start=$(date +%s.%N)
	/usr/bin/time -f '%M' -o "$work/rss" "$sp" pack --key "$key" -o "$work/bigstore" "$big" \
		>/dev/null 2>"$work/err" || fail "large pack: $(cat "$work/err")"
	end=$(date +%s.%N)
	rss=$(tail -n 1 "$work/rss")
	echo "pack: 256 MiB in $(echo "$end - $start" | bc) s, max RSS $rss KiB"
	[ "$rss" -lt 65536 ] || fail "pack max RSS $rss KiB >= 64 MiB"
	/usr/bin/time -f '%M' -o "$work/rss" "$sp" verify --public "$pub" "$work/bigstore" \
		>/dev/null 2>"$work/err" || fail "large verify: $(cat "$work/err")"
	rss=$(tail -n 1 "$work/rss")
	echo "verify: max RSS $rss KiB"
	[ "$rss" -lt 65536 ] || fail "verify max RSS $rss KiB >= 64 MiB"

	begin "SIGTERM during pack leaves nothing behind"
	"$sp" pack --key "$key" -o "$work/killed" "$big" >/dev/null 2>"$work/err" &
	pid=$!
	sleep 0.2
	kill -TERM $pid 2>/dev/null
	if wait $pid; then
		echo "(pack finished before the signal; nothing to check)"
	else
		[ -e "$work/killed" ] && fail "output exists after SIGTERM"
		ls -A "$work" | grep -q '\.tmp-' && fail "temporary directory left after SIGTERM"
		grep -q interrupted "$work/err" || fail "no 'interrupted' message: $(cat "$work/err")"
	fi
fi

echo "$cases cases, $failures failed"
[ $failures -eq 0 ]
