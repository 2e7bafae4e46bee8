#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Interop of the ESP module with scapy's ESP (an independent implementation).

    interop_scapy.py ESP_TOOL

For AES-GCM-128/256 x ESN off/on x IPv4/IPv6 x raw ESP (proto 50)/ESP-in-UDP 4500, and
payload sizes from 0 to 1452 bytes, each packet is checked four ways:
  1. scapy encrypts with iv = the 64-bit sequence number; we seal the same payload with the
     same sequence number: the ESP bytes must be identical (header, IV, padding, ICV);
  2. we open scapy's packet (ESP-in-UDP through esp_udp_classify): payload and next header;
  3. scapy decrypts the packet we sealed, inside a real IPv4/IPv6 (and UDP) header;
  4. scapy encrypts with a random IV and we open it (we never assume IV = seq).
Plus RFC 3948 keep-alives and non-ESP markers, and tampered packets. Exit 0, 1, or 77 when
scapy is missing.
"""
import random
import struct
import subprocess
import sys

try:
    from scapy.all import IP, IPv6, UDP, Raw, raw
    from scapy.layers.ipsec import ESP, SecurityAssociation
except ImportError:
    print("python3-scapy is not installed: cannot run the ESP interop", file=sys.stderr)
    sys.exit(77)

SPI = 0x1000A5C3
SIZES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 255, 256,
         511, 512, 1000, 1023, 1024, 1025, 1400, 1452]
ADDRS = {4: ("192.0.2.1", "198.51.100.7"), 6: ("2001:db8::1", "2001:db8:1::7")}


class Tool:
    def __init__(self, path, key, salt, esn):
        args = [path, "--key", key.hex(), "--salt", salt.hex(), "--spi", str(SPI)]
        if esn:
            args.append("--esn")
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, bufsize=1)

    def cmd(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        return self.p.stdout.readline().split()

    def close(self):
        self.p.stdin.close()
        rc = self.p.wait(timeout=30)
        if rc != 0:
            raise RuntimeError("esp_tool exited %d" % rc)


failures = 0
checks = 0


def check(cond, what):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)


def outer(af, natt):
    src, dst = ADDRS[af]
    if af == 4:
        base = IP(src=dst, dst=src, proto=17 if natt else 50)
    else:
        base = IPv6(src=dst, dst=src, nh=17 if natt else 50)
    if natt:
        base = base / UDP(sport=4500, dport=4500)
    return base


def seqs(rng, esn, n):
    fixed = [1, 2, 0xFFFFFFFF] + ([0x100000001, 0x1FFFFFFFF, 0x500001234] if esn else [])
    out = fixed[:]
    while len(out) < n:
        lo = rng.randrange(1, 1 << 32)
        hi = rng.randrange(0, 6) if esn else 0
        out.append(hi << 32 | lo)
    return out


def run_config(path, rng, key_len, esn):
    key = bytes(rng.randrange(256) for _ in range(key_len))
    salt = bytes(rng.randrange(256) for _ in range(4))
    tool = Tool(path, key, salt, esn)
    tag = "aes%d esn=%d" % (key_len * 8, esn)
    for af in (4, 6):
        src, dst = ADDRS[af]
        for natt in (False, True):
            nat = UDP(sport=4500, dport=4500) if natt else None
            sa = SecurityAssociation(ESP, spi=SPI, crypt_algo="AES-GCM", crypt_key=key + salt,
                                     auth_algo="NULL", esn_en=esn, esn=0, nat_t_header=nat)
            for size, seq in zip(SIZES, seqs(rng, esn, len(SIZES))):
                hi, lo = seq >> 32, seq & 0xFFFFFFFF
                what = "%s ipv%d natt=%d size=%d seq=%#x" % (tag, af, natt, size, seq)
                data = bytes((i * 13 + size) & 0xFF for i in range(size))
                ip = IP(src=src, dst=dst) if af == 4 else IPv6(src=src, dst=dst)
                inner = ip / UDP(sport=6778, dport=7000) / Raw(load=data)
                inner = inner.__class__(raw(inner))
                udp_bytes = raw(inner[UDP])

                # 1. identical bytes for the same sequence number and IV.
                enc = sa.encrypt(inner, seq_num=lo, iv=struct.pack("!Q", seq), esn_en=esn,
                                 esn=hi)
                theirs = raw(enc[ESP])
                r = tool.cmd("seal %d 17 %s" % (seq, udp_bytes.hex()))
                check(r[0] == "ok", what + ": we refused to seal: " + " ".join(r))
                ours = bytes.fromhex(r[1]) if r[0] == "ok" else b""
                check(ours == theirs, what + ": sealed bytes differ from scapy's\n ours  "
                      + ours.hex() + "\n scapy " + theirs.hex())

                # 2. we open scapy's packet, as it came off the wire.
                if natt:
                    check(enc[UDP].dport == 4500, what + ": scapy did not use port 4500")
                    r = tool.cmd("udp %d %s" % (seq - 1, raw(enc[UDP].payload).hex()))
                else:
                    r = tool.cmd("open %d %s" % (seq - 1, theirs.hex()))
                check(r == ["ok", str(seq), "17", udp_bytes.hex()] or
                      (len(udp_bytes) == 0 and r == ["ok", str(seq), "17"]),
                      what + ": we could not open scapy's packet: " + " ".join(r))

                # 3. scapy decrypts ours inside a real header.
                wire = outer(af, natt) / ESP(ours)
                wire = wire.__class__(raw(wire))
                try:
                    dec = sa.decrypt(wire, esn_en=esn, esn=hi)
                    # scapy 2.5 keeps the outer UDP header when it decrypts IPv6 NAT-T
                    # transport mode (IPv4 is right): the payload is the last UDP layer.
                    got = dec.getlayer(UDP, nb=2) if (natt and af == 6) else dec[UDP]
                    check(got is not None and raw(got) == udp_bytes,
                          what + ": scapy decrypted other bytes")
                except Exception as exc:  # scapy raises on a bad ICV
                    check(False, what + ": scapy refused our packet: %r" % exc)

                # 4. a random IV from scapy.
                enc = sa.encrypt(inner, seq_num=lo, esn_en=esn, esn=hi)
                r = tool.cmd("open %d %s" % (seq - 1, raw(enc[ESP]).hex()))
                check(r[:3] == ["ok", str(seq), "17"], what + ": random IV: " + " ".join(r))

                # 5. a flipped bit anywhere in scapy's packet is refused.
                bad = bytearray(theirs)
                pos = rng.randrange(len(bad))
                bad[pos] ^= 1 << rng.randrange(8)
                r = tool.cmd("open %d %s" % (seq - 1, bytes(bad).hex()))
                check(r[0] == "drop", what + ": tampered byte %d accepted" % pos)
    # RFC 3948: keep-alive and the IKE non-ESP marker on port 4500.
    check(tool.cmd("udp 0 ff") == ["drop", "keepalive"], "keep-alive")
    ike = b"\x00\x00\x00\x00" + bytes(range(40))
    check(tool.cmd("udp 0 " + ike.hex()) == ["drop", "non_esp"], "non-ESP marker")
    tool.close()


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    rng = random.Random(4303)
    for key_len in (16, 32):
        for esn in (False, True):
            run_config(sys.argv[1], rng, key_len, esn)
    print("%d checks, %d failed (%d packets each way)" % (checks, failures, 4 * 4 * len(SIZES)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
