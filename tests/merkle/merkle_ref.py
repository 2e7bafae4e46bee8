#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Reference PPSPP Merkle root (RFC 7574 section 5), written apart from the C code.

usage: merkle_ref.py FILE sha1|sha256 CHUNK_SIZE   -> prints the root (swarm ID) as hex

Leaves are H(chunk); the tree is the smallest complete binary tree with at least as many
leaves as chunks; missing leaves are zero strings of hash length; two zero children make a
zero parent; every other parent is H(left + right).
"""
import hashlib
import sys


def root(data, hname, chunk_size):
    if not data:
        raise ValueError("empty content has no tree")
    h = lambda b: hashlib.new(hname, b).digest()
    zero = bytes(hashlib.new(hname).digest_size)
    level = [(h(data[i:i + chunk_size]), False)
             for i in range(0, len(data), chunk_size)]
    width = 1
    while width < len(level):
        width *= 2
    level += [(zero, True)] * (width - len(level))
    while len(level) > 1:
        nxt = []
        for (left, lz), (right, rz) in zip(level[0::2], level[1::2]):
            nxt.append((zero, True) if lz and rz else (h(left + right), False))
        level = nxt
    return level[0][0]


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    with open(sys.argv[1], "rb") as f:
        content = f.read()
    print(root(content, sys.argv[2], int(sys.argv[3])).hex())
