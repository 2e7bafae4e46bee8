#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# seeder_test.sh SUPERPEER TEST_SEEDER: packs contents of awkward sizes (1 chunk, 2^k, 2^k+1,
# a short last chunk) with both hashes, then runs test_seeder on each store.
set -eu
sp=$1 t=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/sp-seeder.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$sp" keygen -o "$work/key" >/dev/null
fail=0
for spec in "sha256 1024 1000" "sha256 1024 65536" "sha256 1024 66560" "sha256 1024 300001" \
	"sha1 1024 300001" "sha256 512 100000" "sha256 8192 1000000"; do
	set -- $spec
	head -c "$3" /dev/urandom >"$work/c"
	rm -rf "$work/s"
	"$sp" pack --hash "$1" --chunk-size "$2" --key "$work/key/provider.key" -o "$work/s" \
		"$work/c" >/dev/null
	echo "== $1, chunk $2, $3 bytes"
	"$t" "$work/s" "$work/key/provider.pub" "$work/c" || fail=1
done
exit $fail
