#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""ESP through superpeer-dataplane against scapy's independent ESP, on net_pcap.

    esp_pcap_test.py SUPERPEER SUPERPEER_DATAPLANE

Four peers, each sealing with scapy's SecurityAssociation (AES-GCM, RFC 4106): IPv4 and
IPv6, raw ESP (IP protocol 50) and ESP in UDP (RFC 3948, port 4500). Each sends one
datagram, HANDSHAKE + REQUEST for chunks 0-1 of a protected swarm. Numbered cases:
  1-4. each peer is answered: every packet sent to it opens in scapy with the peer's SA,
       its inner UDP comes from the PPSPP port to the peer's, it carries the handshake reply
       to the peer's channel and the bytes of chunks 0 and 1; raw ESP goes back raw, ESP in
       UDP goes back from port 4500 to the peer's port (outer UDP checksum 0 on IPv4, as
       Linux sends it; valid on IPv6)
  5. hostile ESP, each counted under its reason and never answered: a replay, a flipped ICV
     bit, an unknown SPI, truncations, a NAT keep-alive, plain PPSPP for the protected swarm
A second run moves the window to 10000 (one peer answered), then:
  6. numbers 10000 - 4096 (the first the window no longer holds) and 1: too_old; 10000
     again: replay; neither peer answered
  7. 10000 - 4095, the oldest the window holds, answered; so are the whole packets of 8
  8. an ESP-in-UDP frame cut at every length (none reaches ESP: short or ip_bad_header),
     and its ESP packet cut at every length with the IPv4 and UDP lengths agreeing (ESP
     short, or the ICV fails): one drop each, no answer
Exit 0, 1, or 77 without scapy.
"""
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
import shutil

try:
    from scapy.all import IP, UDP, Ether, IPv6, Raw, raw, rdpcap, wrpcap
    from scapy.layers.ipsec import ESP, SecurityAssociation
except ImportError:
    print("python3-scapy is not installed", file=sys.stderr)
    sys.exit(77)

SP, DP = sys.argv[1], sys.argv[2]
MAC = "02:70:63:61:70:00"   # net_pcap's address for its first port
PEER_MAC = "02:00:00:00:00:02"
US, US6 = "10.0.0.1", "fd00::1"
PPSPP_PORT, ESP_PORT = 6778, 4500
K_IN = bytes(range(1, 21))            # AES-128 + salt: peers -> data plane, SPI 0x1001
K_OUT = bytes(range(100, 136))        # AES-256 + salt: data plane -> peers, SPI 0x2002
ESP_WINDOW = 4096                     # ESP_REPLAY_WINDOW, dataplane/esp_sa.h
failures = 0
case_no = 0


def case(what):
    global case_no
    case_no += 1
    print("case %d: %s" % (case_no, what))


def check(cond, msg):
    global failures
    if not cond:
        failures += 1
        print("FAIL case %d: %s" % (case_no, msg))


def handshake_request(channel, swarm_id):
    """RFC 7574: dest channel 0, HANDSHAKE (version 1, min version 1, swarm ID, end), then
    REQUEST chunks 0-1 (32-bit chunk ranges)."""
    hs = struct.pack(">IBI", 0, 0, channel) + b"\x00\x01\x01\x01" + \
        b"\x02" + struct.pack(">H", len(swarm_id)) + swarm_id + b"\xff"
    return hs + struct.pack(">BII", 8, 0, 1)


def fix_natt(enc, af):
    """scapy 2.5 leaves the outer UDP length of IPv4 NAT-T at 8: recompute it (and the IPv6
    checksum; IPv4 keeps 0, as Linux sends it)."""
    if UDP in enc:
        enc[UDP].len = None
        if af == 6:
            enc[UDP].chksum = None
    return enc.__class__(raw(enc))


def sa(spi, key, af, natt, port):
    nat = None
    if natt:
        nat = UDP(sport=port, dport=ESP_PORT)
    return SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM", crypt_key=key,
                               auth_algo="NULL", nat_t_header=nat)


def run(work, frames):
    wrpcap(os.path.join(work, "in.pcap"), frames)
    out = os.path.join(work, "out.pcap")
    if os.path.exists(out):
        os.unlink(out)
    args = [DP, "-l", "0", "--no-huge", "-m", "256", "--file-prefix", "spesppcap%d" % os.getpid(),
            "--no-pci", "--vdev", "net_pcap0,rx_pcap=%s/in.pcap,tx_pcap=%s" % (work, out), "--",
            "--store", os.path.join(work, "store"), "--public",
            os.path.join(work, "key", "provider.pub"), "--ip", US, "--ip6", US6,
            "--keyring", "spesppcap%d" % os.getpid(),
            "--sa-in", "0x1001:0x" + K_IN.hex(), "--sa-out", "0x2002:0x" + K_OUT.hex()]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(2)
        p.terminate()
        text = p.communicate(timeout=30)[0]
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return text, (rdpcap(out) if os.path.exists(out) else [])


def counters(text, kind):
    """The exit summary's "KIND reason: N" lines."""
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^%s (\S+): (\d+)$" % kind, text, re.M)}


def main():
    work = tempfile.mkdtemp(prefix="sp-esppcap.")
    try:
        subprocess.run([SP, "keygen", "-o", os.path.join(work, "key")], check=True,
                       stdout=subprocess.DEVNULL, timeout=30)
        content = os.urandom(5000)
        with open(os.path.join(work, "content"), "wb") as f:
            f.write(content)
        swarm = subprocess.run([SP, "pack", "--key", os.path.join(work, "key", "provider.key"),
                                "-o", os.path.join(work, "store"), os.path.join(work, "content")],
                               check=True, stdout=subprocess.PIPE, text=True,
                               timeout=30).stdout.split()[-1]
        swarm_id = bytes.fromhex(swarm)

        peers = [  # (name, af, natt, address, inner port, outer port)
            ("IPv4, ESP in UDP", 4, True, "10.0.0.2", 7001, 40001),
            ("IPv4, raw ESP", 4, False, "10.0.0.3", 7002, 0),
            ("IPv6, ESP in UDP", 6, True, "fd00::2", 7003, 40003),
            ("IPv6, raw ESP", 6, False, "fd00::3", 7004, 0),
        ]
        frames, seq = [], 0
        for i, (name, af, natt, addr, port, oport) in enumerate(peers):
            seq += 1
            ip = IP(src=addr, dst=US) if af == 4 else IPv6(src=addr, dst=US6)
            inner = ip / UDP(sport=port, dport=PPSPP_PORT) / \
                Raw(handshake_request(0x100 + i, swarm_id))
            inner = inner.__class__(raw(inner))
            enc = sa(0x1001, K_IN, af, natt, oport).encrypt(inner, seq_num=seq)
            if natt:
                enc = fix_natt(enc, af)
            frames.append(Ether(dst=MAC, src=PEER_MAC) / enc)

        # Hostile: each must be refused under its own reason.
        first = frames[0]
        replay = first.copy()
        # A fresh sequence number (an old one is a replay before the ICV is even checked).
        seq += 1
        fresh = Ether(dst=MAC, src=PEER_MAC) / fix_natt(sa(0x1001, K_IN, 4, True, 40001).encrypt(
            IP(src="10.0.0.2", dst=US) / UDP(sport=7001, dport=PPSPP_PORT) / Raw(b"y" * 20),
            seq_num=seq), 4)
        b = bytearray(raw(fresh))
        b[-1] ^= 0x01
        flipped = Ether(bytes(b))
        seq += 1
        unknown = Ether(dst=MAC, src=PEER_MAC) / fix_natt(sa(0x9999, K_IN, 4, True, 40001).encrypt(
            IP(src="10.0.0.2", dst=US) / UDP(sport=7001, dport=PPSPP_PORT) / Raw(b"x" * 20),
            seq_num=seq), 4)
        keepalive = Ether(dst=MAC, src=PEER_MAC) / IP(src="10.0.0.2", dst=US) / \
            UDP(sport=40001, dport=ESP_PORT) / Raw(b"\xff")
        plain = Ether(dst=MAC, src=PEER_MAC) / IP(src="10.0.0.9", dst=US) / \
            UDP(sport=7009, dport=PPSPP_PORT) / Raw(handshake_request(0x999, swarm_id))
        # ESP in UDP cut short: less than header + IV + trailer + ICV (34 bytes).
        esp_bytes = raw(first[UDP].payload)
        cuts = [Ether(dst=MAC, src=PEER_MAC) / IP(src="10.0.0.2", dst=US) /
                UDP(sport=40001, dport=ESP_PORT) / Raw(esp_bytes[:n]) for n in (2, 8, 20, 33)]
        hostile = [replay, flipped, unknown, keepalive, plain] + cuts
        text, out = run(work, frames + hostile)

        for i, (name, af, natt, addr, port, oport) in enumerate(peers):
            case("%s: answered, every packet opens in scapy" % name)
            mine = [p for p in out if (IP in p and p[IP].dst == addr) or
                    (IPv6 in p and p[IPv6].dst == addr)]
            check(len(mine) >= 3, "%d packets to %s" % (len(mine), addr))
            peer_sa = sa(0x2002, K_OUT, af, natt, oport)
            got = b""
            for p in mine:
                outer = p[IP] if af == 4 else p[IPv6]
                check(p[Ether].dst == PEER_MAC and p[Ether].src == MAC, "Ethernet")
                if natt:
                    check(UDP in p and p[UDP].sport == ESP_PORT and p[UDP].dport == oport,
                          "outer UDP %s" % p.summary())
                    if af == 4:
                        check(p[UDP].chksum == 0, "outer UDP checksum on IPv4 not 0")
                    else:
                        c = p.copy()
                        del c[UDP].chksum
                        check(raw(Ether(raw(c))) == raw(p), "outer UDP checksum on IPv6")
                else:
                    nh = outer.proto if af == 4 else outer.nh
                    check(nh == 50, "raw ESP expected, next header %d" % nh)
                try:
                    dec = peer_sa.decrypt(outer.__class__(raw(outer)))
                except Exception as exc:
                    check(False, "scapy could not open: %r" % exc)
                    continue
                u = dec.getlayer(UDP, nb=2) if (natt and af == 6) else dec[UDP]
                check(u is not None and u.sport == PPSPP_PORT and u.dport == port,
                      "inner UDP %s" % (u.summary() if u is not None else None))
                if u is not None:
                    got += bytes(u.payload)
            # The handshake reply names the peer's channel as its destination.
            check(got[:4] == struct.pack(">I", 0x100 + i),
                  "first datagram not to the peer's channel")
            check(content[0:1024] in got and content[1024:2048] in got,
                  "chunks 0 and 1 not delivered")

        case("hostile ESP counted by reason, never answered")
        esp, drop = counters(text, "esp"), counters(text, "drop")
        check(esp.get("replay") == 1, "replay: %r" % esp)
        check(esp.get("icv") == 1, "icv: %r" % esp)
        check(esp.get("bad_spi") == 1, "bad_spi: %r" % esp)
        check(esp.get("keepalive") == 1, "keepalive: %r" % esp)
        check(esp.get("short") == 4, "short: %r" % esp)
        check(drop.get("swarm_protected") == 1, "swarm_protected: %r" % drop)
        check(drop.get("esp") == 8, "esp drops: %r" % drop)
        check(not any(p for p in out if (IP in p and p[IP].dst == "10.0.0.9")),
              "the plain peer was answered")
        if failures:
            print(text)
        seen = failures

        # A second run: the window far ahead, then what it must refuse, and frames cut short;
        # each peer that should be answered is answered after all of it.
        def natt_frame(addr, seq, payload):
            n = int(addr.split(".")[-1])
            enc = sa(0x1001, K_IN, 4, True, 40000 + n).encrypt(
                IP(src=addr, dst=US) / UDP(sport=7000 + n, dport=PPSPP_PORT) / Raw(payload),
                seq_num=seq)
            return Ether(dst=MAC, src=PEER_MAC) / fix_natt(enc, 4)

        def hs(n):
            return handshake_request(0x500 + n, swarm_id)

        top = 10000
        high = natt_frame("10.0.0.2", top, hs(2))
        # Window [top - 4095, top]: top - 4096 is the first number it no longer holds.
        old = [natt_frame("10.0.0.5", top - ESP_WINDOW, hs(5)), natt_frame("10.0.0.5", 1, hs(5))]
        edge = natt_frame("10.0.0.6", top - ESP_WINDOW + 1, hs(6))
        # Cut at the Ethernet layer: every length of the frame below its own. An IPv4 total
        # length past the end, or less than the Ethernet and IPv4 headers: none reaches ESP.
        cut_whole = natt_frame("10.0.0.7", top + 1, hs(7))
        cuts2 = [raw(cut_whole)[:n] for n in range(1, len(cut_whole))]
        # Cut inside the ESP packet, the IPv4 and UDP lengths and checksums made to agree: each
        # reaches the ESP module (short, or the ICV fails on what is left; a 4-byte cut of
        # SPI 0x00001001 is no non-ESP marker). None of them moves the window, so the whole
        # packet after them, with the same number, is accepted.
        cut_esp = natt_frame("10.0.0.8", top + 2, hs(8))
        esp8 = raw(cut_esp[UDP].payload)
        cuts3 = [Ether(dst=MAC, src=PEER_MAC) / IP(src="10.0.0.8", dst=US) /
                 UDP(sport=40008, dport=ESP_PORT) / Raw(esp8[:n]) for n in range(len(esp8))]
        fed = [high] + old + [high, edge] + [Raw(c) if len(c) < 14 else Ether(c) for c in cuts2] \
            + cuts3 + [cut_whole, cut_esp]
        text, out = run(work, fed)
        esp, drop = counters(text, "esp"), counters(text, "drop")
        to = lambda a: [p for p in out if IP in p and p[IP].dst == a]

        case("sequence numbers %d and 1 after %d: too_old, the same %d again: replay" %
             (top - ESP_WINDOW, top, top))
        check(esp.get("too_old") == 2, "too_old: %r" % esp)
        check(esp.get("replay") == 1, "replay: %r" % esp)
        check(not to("10.0.0.5"), "%d packets to 10.0.0.5" % len(to("10.0.0.5")))

        case("the oldest number the window holds, %d, answered; so are %d and %d after "
             "their cuts" % (top - ESP_WINDOW + 1, top + 1, top + 2))
        peer_sa = lambda a: sa(0x2002, K_OUT, 4, True, 40000 + int(a.split(".")[-1]))
        for a in ("10.0.0.2", "10.0.0.6", "10.0.0.7", "10.0.0.8"):
            mine = to(a)
            check(len(mine) >= 3, "%d packets to %s" % (len(mine), a))
            got = b""
            for p in mine:
                try:
                    got += bytes(peer_sa(a).decrypt(IP(raw(p[IP])))[UDP].payload)
                except Exception as exc:
                    check(False, "scapy could not open a packet to %s: %r" % (a, exc))
            n = int(a.split(".")[-1])
            check(got[:4] == struct.pack(">I", 0x500 + n) and content[:1024] in got,
                  "%s: no handshake reply or chunk 0" % a)
        check(len(out) == sum(len(to(a)) for a in ("10.0.0.2", "10.0.0.6", "10.0.0.7",
                                                   "10.0.0.8")),
              "packets to others: %s" % [p.summary() for p in out])

        case("an ESP-in-UDP frame cut at each of %d lengths, and its ESP cut at each of %d "
             "with lengths that agree: each one drop, none answered" % (len(cuts2), len(cuts3)))
        total = sum(drop.values())
        check(total == 3 + len(cuts2) + len(cuts3),
              "%d drops, %d expected: %r" % (total, 3 + len(cuts2) + len(cuts3), drop))
        check(drop.get("short", 0) + drop.get("ip_bad_header", 0) == len(cuts2),
              "Ethernet cuts: %r" % drop)
        check(drop.get("esp") == 3 + len(cuts3), "esp drops: %r" % drop)
        check(esp.get("short", 0) + esp.get("icv", 0) == len(cuts3), "ESP cuts: %r" % esp)
        rx = int(re.search(r"rx (\d+) packets", text).group(1)) if "rx " in text else -1
        check(rx == len(fed), "rx %d of %d frames" % (rx, len(fed)))
        if failures > seen:
            print(text)
        print("%d cases, %d failed" % (case_no, failures))
        return 1 if failures else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
