#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Writes the seed corpus of tests/fuzz/fuzz_esp_open.c (tests/fuzz/corpus/esp_open/).

    make_fuzz_seeds.py OUTDIR

Packets are sealed here with the `cryptography` package's AES-GCM, independently of the C
code, under the fuzz target's fixed SA (key bytes 0..31, salt "fuzz", SPI 0x1000a5c3). Seed
layout: flags byte, window top (8 bytes big-endian), packet; see fuzz_esp_open.c.
"""
import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SPI = 0x1000A5C3
SALT = b"fuzz"
ESN, AES256, UDP, STRICT, ROUNDTRIP = 1, 2, 4, 8, 16


def trailer(payload, nh, pad=None):
    if pad is None:
        n = -(len(payload) + 2) % 4
        pad = bytes(range(1, n + 1))
    return payload + pad + bytes([len(pad), nh])


def seal(flags, seq, plaintext):
    key = bytes(range(32 if flags & AES256 else 16))
    hdr = struct.pack("!LL", SPI, seq & 0xFFFFFFFF)
    iv = struct.pack("!Q", seq)
    aad = struct.pack("!LLL", SPI, seq >> 32, seq & 0xFFFFFFFF) if flags & ESN else hdr
    return hdr + iv + AESGCM(key).encrypt(SALT + iv, plaintext, aad)


def seed(flags, top, pkt):
    return bytes([flags]) + struct.pack("!Q", top) + pkt


def main():
    out = sys.argv[1]
    udp = bytes.fromhex("1a7a1b58001c0000") + b"ppspp datagram here!"
    seeds = {
        "valid_raw_aes128": seed(0, 0, seal(0, 1, trailer(udp, 17))),
        "valid_udp_esn_aes256": seed(ESN | AES256 | UDP, 0x100000010,
                                     seal(ESN | AES256, 0x100000011, trailer(udp, 17))),
        "valid_esn_wrap": seed(ESN, 0x1FFFFFFF0, seal(ESN, 0x200000005, trailer(udp, 17))),
        "valid_empty_payload": seed(0, 4, seal(0, 5, trailer(b"", 17))),
        "keepalive": seed(UDP, 0, b"\xff"),
        "ike_marker": seed(UDP, 0, b"\x00\x00\x00\x00" + bytes(40)),
        "short": seed(0, 0, seal(0, 1, trailer(udp, 17))[:33]),
        "too_old": seed(0, 10000, seal(0, 1, trailer(udp, 17))),
        "seq_zero": seed(0, 0, seal(0, 0, trailer(udp, 17))),
        "bad_trailer": seed(0, 0, seal(0, 3, udp[:6] + bytes([200, 17]))),
        "bad_pad_strict": seed(STRICT, 0, seal(0, 3, trailer(udp[:4], 17, b"\x09\x09"))),
        "dummy_nh59": seed(0, 0, seal(0, 9, trailer(b"tfc", 59))),
        "roundtrip_seq_end": seed(ROUNDTRIP | ESN, 0xFFFFFFFE, b"\x11" + udp),
    }
    os.makedirs(out, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(seeds), out))


if __name__ == "__main__":
    main()
