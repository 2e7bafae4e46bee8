#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Wireshark's ESP decryption (tshark) against packets the ESP module sealed.

    interop_tshark.py ESP_TOOL

Writes a pcap of packets sealed by esp_tool (AES-GCM-128/256, ESN off/on, IPv4/IPv6, raw
ESP and ESP-in-UDP 4500; scapy only builds the outer Ethernet/IP/UDP headers), has tshark
decrypt it with one ESP SA per SPI, and checks every packet's decrypted payload, pad length
and next header, and (ESN off) that tshark found the ICV good.

The tshark 4.0 SA table ("esp_sa" UAT) has 8 fields, in this order:
    protocol ("IPv4"/"IPv6"), source, destination ("*" = any), SPI ("0x..."),
    encryption ("AES-GCM with 16 octet ICV [RFC4106]"), key ("0x" key || 4-byte salt),
    authentication ("NULL"), authentication key ("")
passed as  -o 'uat:esp_sa:"IPv4","*","*","0x1000a5c3","AES-GCM with 16 octet ICV [RFC4106]",
"0x<key><salt>","NULL",""'  together with -o esp.enable_encryption_decode:TRUE and
-o esp.enable_authentication_check:TRUE. Wireshark 4.0 has no ESN field: it computes the ICV
over SPI || seq_lo only, so for ESN SAs the ICV cannot check; the payload still must match.
Exit 0, 1, or 77 when tshark or scapy is missing.
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile

try:
    from scapy.all import IP, IPv6, UDP, Ether, Raw, raw, wrpcap
except ImportError:
    print("python3-scapy is not installed: cannot build the pcap", file=sys.stderr)
    sys.exit(77)

TSHARK = shutil.which("tshark")
if TSHARK is None:
    print("tshark is not installed: cannot check Wireshark's ESP decryption", file=sys.stderr)
    sys.exit(77)

SIZES = [0, 1, 2, 3, 5, 17, 64, 100, 511, 1024, 1400]
ALGO = "AES-GCM with 16 octet ICV [RFC4106]"


def seal(tool, key, salt, spi, esn, jobs):
    args = [tool, "--key", key.hex(), "--salt", salt.hex(), "--spi", str(spi)]
    if esn:
        args.append("--esn")
    lines = "".join("seal %d 17 %s\n" % (seq, payload.hex()) for seq, payload in jobs)
    out = subprocess.run(args, input=lines, capture_output=True, text=True, check=True,
                         timeout=60).stdout.split("\n")
    res = []
    for line in out[:len(jobs)]:
        f = line.split()
        if f[0] != "ok":
            raise RuntimeError("esp_tool refused to seal: " + line)
        res.append(bytes.fromhex(f[1]))
    return res


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    rng = random.Random(3948)
    frames = []    # (expected payload, esn, description)
    pkts = []
    uat = []
    spi = 0x2000
    for key_len in (16, 32):
        for esn in (False, True):
            spi += 1
            key = bytes(rng.randrange(256) for _ in range(key_len))
            salt = bytes(rng.randrange(256) for _ in range(4))
            for proto in ("IPv4", "IPv6"):
                uat.append('uat:esp_sa:"%s","*","*","%#x","%s","0x%s","NULL",""'
                           % (proto, spi, ALGO, (key + salt).hex()))
            jobs, meta = [], []
            for af in (4, 6):
                for natt in (False, True):
                    for size in SIZES:
                        hi = rng.randrange(0, 3) if esn else 0
                        seq = hi << 32 | rng.randrange(1, 1 << 32)
                        data = bytes(rng.randrange(256) for _ in range(size))
                        payload = raw(UDP(sport=40000, dport=40001, chksum=0) / Raw(data))
                        jobs.append((seq, payload))
                        meta.append((af, natt, size, seq))
            for esp, (af, natt, size, seq), (_, payload) in zip(
                    seal(sys.argv[1], key, salt, spi, esn, jobs), meta, jobs):
                if af == 4:
                    ip = IP(src="192.0.2.1", dst="198.51.100.7")
                else:
                    ip = IPv6(src="2001:db8::1", dst="2001:db8:1::7")
                eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
                if natt:
                    pkt = eth / ip / UDP(sport=4500, dport=4500) / Raw(esp)
                else:
                    if af == 4:
                        ip.proto = 50
                    else:
                        ip.nh = 50
                    pkt = eth / ip / Raw(esp)
                pkts.append(pkt)
                frames.append((payload, esn, "aes%d esn=%d ipv%d natt=%d size=%d seq=%#x spi=%#x"
                               % (key_len * 8, esn, af, natt, size, seq, spi)))

    failures = 0
    with tempfile.TemporaryDirectory(prefix="sp-esp-tshark.") as tmp:
        pcap = os.path.join(tmp, "sealed.pcap")
        wrpcap(pcap, pkts)
        cmd = [TSHARK, "-n", "-r", pcap,
               "-o", "esp.enable_encryption_decode:TRUE",
               "-o", "esp.enable_authentication_check:TRUE"]
        for u in uat:
            cmd += ["-o", u]
        cmd += ["-T", "fields", "-E", "separator=|",
                "-e", "frame.number", "-e", "esp.icv_good", "-e", "esp.pad_len",
                "-e", "esp.protocol", "-e", "esp.contained_data"]
        env = dict(os.environ, HOME=tmp)  # no personal Wireshark profile
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
        if res.returncode != 0:
            print("tshark failed:", res.stderr, file=sys.stderr)
            return 1
        rows = [r.split("|") for r in res.stdout.strip().split("\n")]
    if len(rows) != len(frames):
        print("tshark printed %d rows for %d frames" % (len(rows), len(frames)), file=sys.stderr)
        return 1
    for (payload, esn, what), row in zip(frames, rows):
        _, icv_good, pad_len, nh, contained = row
        pad = (4 - (len(payload) + 2) % 4) % 4
        ok = contained == payload.hex() and pad_len == str(pad) and nh == "0x11"
        if not esn:
            ok = ok and icv_good == "1"
        if not ok:
            failures += 1
            print("FAIL %s: tshark says icv_good=%s pad=%s nh=%s data=%s"
                  % (what, icv_good, pad_len, nh, contained), file=sys.stderr)
    print("%d packets decrypted by tshark, %d failed (%d with the ICV checked)"
          % (len(frames), failures, sum(1 for f in frames if not f[1])))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
