#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# ref_check.sh SUPERPEER MERKLE_REF_PY: packs random files of assorted sizes with every
# chunk size and both hashes, and compares each swarm ID with the independent Python
# reference of RFC 7574 section 5.
set -eu
sp=$1 ref=$2
py=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/sp-merkle-ref.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0 n=0

"$sp" keygen -o "$work/key" >/dev/null
for size in 1 1023 1024 1025 65553 3145728; do
	head -c "$size" /dev/urandom >"$work/content"
	for cs in 512 1024 2048 4096 8192; do
		# 3 MiB is slow in Python: one chunk size per hash is enough there.
		if [ "$size" -eq 3145728 ] && [ "$cs" -ne 1024 ] && [ "$cs" -ne 8192 ]; then
			continue
		fi
		for hash in sha256 sha1; do
			out="$work/store-$size-$cs-$hash"
			got=$("$sp" pack --hash "$hash" --chunk-size "$cs" --key "$work/key/provider.key" \
				-o "$out" "$work/content" | tail -n 1)
			want=$("$py" "$ref" "$work/content" "$hash" "$cs")
			n=$((n + 1))
			if [ "$got" != "$want" ]; then
				echo "FAIL size $size chunk $cs $hash: superpeer $got, reference $want"
				fail=1
			fi
			rm -rf "$out"
		done
	done
done
echo "$n swarm IDs compared"
exit $fail
