#!/usr/bin/env bash
# The main job, end to end: set up, make a provider key, pack a sample file into a signed
# store, verify it, and print its swarm ID and the pack throughput next to `openssl dgst`
# hashing the same file on the same machine.
#
#   scripts/demo.sh [SIZE_MIB]     (default 256)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-256}

scripts/setup.sh
sp=build/tools/superpeer
work=$(mktemp -d "${TMPDIR:-/tmp}/superpeer-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== provider key"
"$sp" keygen --secret "$work/provider.key" --public "$work/provider.pub"

echo "== sample content: $size_mib MiB of random bytes"
head -c "$((size_mib * 1024 * 1024))" /dev/urandom >"$work/sample.bin"

echo "== pack (SHA-256, 1024-byte chunks)"
t0=$(date +%s.%N)
swarm=$("$sp" pack --hash sha256 --chunk-size 1024 --name sample.bin \
	--key "$work/provider.key" -o "$work/store" "$work/sample.bin" | tail -n 1)
t1=$(date +%s.%N)

echo "== verify"
"$sp" verify --public "$work/provider.pub" "$work/store"

t2=$(date +%s.%N)
openssl dgst -sha256 "$work/sample.bin" >/dev/null
t3=$(date +%s.%N)

echo
echo "swarm ID: $swarm"
awk -v mib="$size_mib" -v p="$(awk "BEGIN{print $t1-$t0}")" \
	-v o="$(awk "BEGIN{print $t3-$t2}")" 'BEGIN {
	printf "pack:               %.0f MiB/s (%.2f s for %d MiB, Merkle tree + signature)\n", mib / p, p, mib
	printf "openssl dgst -sha256: %.0f MiB/s (same file, one plain SHA-256 stream)\n", mib / o
}'
