#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Exact packets through superpeer-dataplane on net_pcap: a pcap in, a pcap out.

    pcap_test.py SUPERPEER SUPERPEER_DATAPLANE

scapy writes the input (ARP requests, ICMP echo, the echo frame cut at every length, bad IPv4
checksums and lengths, fragments, IP options, wrong ports, IPv6, VLAN, a malformed PPSPP
datagram; then the answered requests again tagged for the VLAN given with --vlan, with a
tagged echo at the largest frame and one byte past it); the data plane reads it through
net_pcap and writes what it sends to another pcap; then every output packet is checked field
by field (addresses, opcodes, TTL, identifiers, payload, and checksums recomputed by scapy),
and the exit summary must count each refused frame under its own reason.
A third run serves the swarm open to plain PPSPP: frames past the MTU (one of them longer
than an mbuf, which net_pcap chains over two) are counted as oversized and the echo at the
largest frame is answered; a HANDSHAKE + REQUEST cut at every length, at the Ethernet layer
and inside the datagram with the IPv4 and UDP lengths agreeing, is one drop per cut (but the
cut that leaves a whole handshake, which is answered with one); after all of it the whole
request is answered. Exit 0, 1, or 77 without scapy.
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

try:
    from scapy.all import (ARP, ICMP, IP, UDP, Dot1Q, Ether, ICMPv6EchoReply,
                           ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr,
                           ICMPv6NDOptSrcLLAddr, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                           IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, HBHOptUnknown, PadN, Raw, raw,
                           rdpcap, wrpcap)
except ImportError:
    print("python3-scapy is not installed", file=sys.stderr)
    sys.exit(77)

SP, DP = sys.argv[1], sys.argv[2]
MAC = "02:70:63:61:70:00"   # net_pcap's address for its first port
PEER = "02:00:00:00:00:02"
US, THEM = "10.0.0.1", "10.0.0.2"
US6, THEM6 = "fd00::1", "fd00::2"
SOLICITED = "ff02::1:ff00:1"
SOLICITED_MAC = "33:33:ff:00:00:01"
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


def run(work, frames, extra=()):
    wrpcap(os.path.join(work, "in.pcap"), frames)
    out = os.path.join(work, "out.pcap")
    if os.path.exists(out):
        os.unlink(out)
    args = [DP, "-l", "0", "--no-huge", "-m", "256", "--file-prefix", "sppcap%d" % os.getpid(),
            "--no-pci", "--vdev",
            "net_pcap0,rx_pcap=%s/in.pcap,tx_pcap=%s" % (work, out), "--",
            "--store", os.path.join(work, "store"), "--public",
            os.path.join(work, "key", "provider.pub"), "--ip", US, "--ip6", US6,
            "--keyring", "sppcap%d" % os.getpid()] + list(extra)
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # net_pcap reads the whole file at once; the summary comes on SIGTERM.
        time.sleep(2)
        p.terminate()
        text = p.communicate(timeout=30)[0]
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return text, (rdpcap(out) if os.path.exists(out) else [])


def counters(text):
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^drop (\S+): (\d+)$", text, re.M)}


MAX_FRAME = 1500 + 14   # --mtu (default 1500) is the IP packet; the frame adds Ethernet


def big_echo(frame_len):
    """An echo request whose frame is frame_len bytes, untagged, IPv4 length agreeing."""
    return Ether(dst=MAC, src=PEER) / IP(src=THEM, dst=US, id=4343) / ICMP(id=0x55, seq=1) / \
        Raw(bytes(frame_len - 42))


def handshake_request(channel, swarm_id):
    """RFC 7574: dest channel 0, HANDSHAKE (version 1, min version 1, swarm ID, end), then
    REQUEST chunks 0-1 (32-bit chunk ranges)."""
    hs = struct.pack(">IBI", 0, 0, channel) + b"\x00\x01\x01\x01" + \
        b"\x02" + struct.pack(">H", len(swarm_id)) + swarm_id + b"\xff"
    return hs + struct.pack(">BII", 8, 0, 1)


def cksum_ok(pkt):
    """scapy recomputes every checksum of a copy whose checksum fields are cleared."""
    c = pkt.copy()
    for layer in (IP, ICMP, UDP):
        if layer in c:
            del c[layer].chksum
    for layer in (ICMPv6EchoReply, ICMPv6ND_NA):
        if layer in c:
            del c[layer].cksum
    return raw(Ether(raw(c))) == raw(pkt)


def main():
    work = tempfile.mkdtemp(prefix="sp-pcap.")
    try:
        subprocess.run([SP, "keygen", "-o", os.path.join(work, "key")], check=True,
                       stdout=subprocess.DEVNULL, timeout=30)
        with open(os.path.join(work, "content"), "wb") as f:
            f.write(os.urandom(100000))
        swarm_id = bytes.fromhex(subprocess.run(
            [SP, "pack", "--key", os.path.join(work, "key", "provider.key"), "-o",
             os.path.join(work, "store"), os.path.join(work, "content")],
            check=True, stdout=subprocess.PIPE, text=True, timeout=30).stdout.split()[-1])

        # A PPSPP datagram the codec refuses (a handshake cut short).
        BADPP = Raw(struct.pack(">I", 5) + b"\x08" + struct.pack(">II", 0, 3))
        arp_req = Ether(dst="ff:ff:ff:ff:ff:ff", src=PEER) / ARP(
            op=1, hwsrc=PEER, psrc=THEM, hwdst="00:00:00:00:00:00", pdst=US)
        echo = Ether(dst=MAC, src=PEER) / IP(src=THEM, dst=US, ttl=7, id=4242) / ICMP(
            id=0x1234, seq=9) / Raw(bytes(range(56)))
        ns = Ether(dst=SOLICITED_MAC, src=PEER) / IPv6(src=THEM6, dst=SOLICITED, hlim=255) / \
            ICMPv6ND_NS(tgt=US6) / ICMPv6NDOptSrcLLAddr(lladdr=PEER)
        echo6 = Ether(dst=MAC, src=PEER) / IPv6(src=THEM6, dst=US6, hlim=9) / \
            ICMPv6EchoRequest(id=0x77, seq=3, data=bytes(range(40)))
        good = [arp_req, echo, ns, echo6]
        bad = {
            "arp_other": [Ether(dst="ff:ff:ff:ff:ff:ff", src=PEER) /
                          ARP(op=1, hwsrc=PEER, psrc=THEM, pdst="10.0.0.9"),
                          # a reply nobody asked for (from an address not in the cache)
                          Ether(dst=MAC, src=PEER) / ARP(op=2, hwsrc=PEER, psrc="10.0.0.7",
                                                         pdst=US)],
            "not_for_us": [Ether(dst="02:99:99:99:99:99", src=PEER) / IP(src=THEM, dst=US) /
                           ICMP(),
                           Ether(dst=MAC, src=PEER) / IP(src=THEM, dst="10.0.0.9") / ICMP(),
                           Ether(dst=MAC, src=PEER) / IPv6(src=THEM6, dst="fd00::9") /
                           ICMPv6EchoRequest(),
                           Ether(dst=SOLICITED_MAC, src=PEER) /
                           IPv6(src=THEM6, dst=SOLICITED, hlim=255) / ICMPv6ND_NS(tgt="fd00::9")],
            "ip_bad_header": [Ether(dst=MAC, src=PEER) / IP(src=THEM, dst=US, chksum=0x1234) /
                              ICMP(),
                              Ether(dst=MAC, src=PEER) / IP(src=THEM, dst=US, len=2000) / ICMP(),
                              Ether(dst=MAC, src=PEER) / IP(src=THEM, dst=US, version=5) /
                              ICMP()],
            "ip_fragment": [Ether(dst=MAC, src=PEER) / IP(src=THEM, dst=US, flags="MF") /
                            ICMP(),
                            Ether(dst=MAC, src=PEER) / IP(src=THEM, dst=US, frag=100) / ICMP()],
            "ip_options": [Ether(dst=MAC, src=PEER) /
                           IP(src=THEM, dst=US, options=b"\x01\x01\x01\x00") / ICMP()],
            "ip_proto": [Ether(dst=MAC, src=PEER) / IP(src=THEM, dst=US, proto=6) / Raw(b"x" * 20)],
            "icmp_other": [Ether(dst=MAC, src=PEER) / IP(src=THEM, dst=US) / ICMP(type=13)],
            "udp_port": [Ether(dst=MAC, src=PEER) / IP(src=THEM, dst=US) / UDP(dport=53) /
                         Raw(b"q")],
            "udp_bad": [Ether(dst=MAC, src=PEER) / IP(src=THEM, dst=US) /
                        UDP(dport=6778, len=200) / Raw(b"q")],
            "ethertype": [Ether(dst=MAC, src=PEER, type=0x88cc) / Raw(b"lldp" * 10)],
            "vlan": [Ether(dst=MAC, src=PEER) / Dot1Q(vlan=3) / IP(src=THEM, dst=US) / ICMP()],
            "nd_bad": [Ether(dst=SOLICITED_MAC, src=PEER) / IPv6(src=THEM6, dst=SOLICITED, hlim=64) /
                       ICMPv6ND_NS(tgt=US6)],
            "icmp6_checksum": [Ether(dst=MAC, src=PEER) / IPv6(src=THEM6, dst=US6) /
                               ICMPv6EchoRequest(cksum=0x1234)],
            "icmp6_other": [Ether(dst=MAC, src=PEER) / IPv6(src=THEM6, dst=US6) /
                            ICMPv6EchoReply()],
            "ip6_ext_header": [Ether(dst=MAC, src=PEER) / IPv6(src=THEM6, dst=US6) /
                               IPv6ExtHdrHopByHop() / ICMPv6EchoRequest(),
                               # a fragment, a routing header with a segment left, an option
                               # whose type says "discard if unknown" (RFC 8200 4.2)
                               Ether(dst=MAC, src=PEER) / IPv6(src=THEM6, dst=US6) /
                               IPv6ExtHdrFragment(m=1) / UDP(sport=7000, dport=6778) / BADPP,
                               Ether(dst=MAC, src=PEER) / IPv6(src=THEM6, dst=US6) /
                               IPv6ExtHdrRouting(segleft=1, addresses=["fd00::7"]) /
                               UDP(sport=7000, dport=6778) / BADPP,
                               Ether(dst=MAC, src=PEER) / IPv6(src=THEM6, dst=US6) /
                               IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0x42,
                                                                         optdata=b"ab")]) /
                               UDP(sport=7000, dport=6778) / BADPP],
            "ip6_bad_header": [Ether(dst=MAC, src=PEER) / IPv6(src=THEM6, dst=US6, plen=900) /
                               ICMPv6EchoRequest(),
                               # a Hop-by-Hop header claiming 48 bytes of a payload of 8
                               Ether(dst=MAC, src=PEER) / IPv6(src=THEM6, dst=US6, nh=0) /
                               Raw(bytes([17, 5, 1, 4, 0, 0, 0, 0]))],
            # A malformed datagram reaches the PPSPP parser whatever headers a host must step
            # over came first: Hop-by-Hop (PadN), Destination Options, Routing with none left.
            "ppspp": [Ether(dst=MAC, src=PEER) / IP(src=THEM, dst=US) / UDP(sport=7000, dport=6778) /
                      BADPP,
                      Ether(dst=MAC, src=PEER) / IPv6(src=THEM6, dst=US6) /
                      IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\x00" * 4)]) /
                      UDP(sport=7000, dport=6778) / BADPP,
                      Ether(dst=MAC, src=PEER) / IPv6(src=THEM6, dst=US6) /
                      IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0x3e, optdata=b"ab")]) /
                      IPv6ExtHdrDestOpt() / IPv6ExtHdrRouting(segleft=0, addresses=[]) /
                      UDP(sport=7000, dport=6778) / BADPP],
        }
        # The echo frame cut short at every length below its full size: each is "short"
        # (below the Ethernet or IPv4 header) or "ip_bad_header" (total length past the end).
        full = raw(echo)
        cuts = [Ether(full[:n]) if n >= 14 else Raw(full[:n]) for n in range(1, len(full))]
        frames = good + [f for v in bad.values() for f in v] + cuts
        text, out = run(work, frames)
        c = counters(text)

        case("ARP request for our address: one exact reply")
        arps = [p for p in out if ARP in p]
        check(len(arps) == 1, "%d ARP packets out" % len(arps))
        if arps:
            a = arps[0]
            check(a[Ether].dst == PEER and a[Ether].src == MAC, "Ethernet " + a.summary())
            check(a[ARP].op == 2 and a[ARP].hwsrc == MAC and a[ARP].psrc == US and
                  a[ARP].hwdst == PEER and a[ARP].pdst == THEM, "ARP fields " + a.summary())

        case("ICMP echo request: one exact reply, checksums right")
        echos = [p for p in out if ICMP in p and IP in p]
        check(len(echos) == 1, "%d ICMP packets out" % len(echos))
        if echos:
            e = echos[0]
            check(e[IP].src == US and e[IP].dst == THEM and e[IP].ttl == 64, e.summary())
            check(e[IP].id == 4242, "IPv4 id %d" % e[IP].id)
            check(e[ICMP].type == 0 and e[ICMP].id == 0x1234 and e[ICMP].seq == 9,
                  "ICMP fields")
            check(bytes(e[ICMP].payload) == bytes(range(56)), "echo payload changed")
            check(cksum_ok(e), "a checksum is wrong")
            check(e[Ether].dst == PEER and e[Ether].src == MAC, "Ethernet addresses")

        case("Neighbor Solicitation for our address: one exact advertisement")
        nas = [p for p in out if ICMPv6ND_NA in p]
        check(len(nas) == 1, "%d NA packets out" % len(nas))
        if nas:
            n = nas[0]
            check(n[Ether].dst == PEER and n[Ether].src == MAC, "Ethernet " + n.summary())
            check(n[IPv6].src == US6 and n[IPv6].dst == THEM6 and n[IPv6].hlim == 255,
                  "IPv6 " + n.summary())
            check(n[ICMPv6ND_NA].tgt == US6 and n[ICMPv6ND_NA].S == 1 and
                  n[ICMPv6ND_NA].O == 1 and n[ICMPv6ND_NA].R == 0, "NA flags/target")
            check(ICMPv6NDOptDstLLAddr in n and n[ICMPv6NDOptDstLLAddr].lladdr == MAC,
                  "target link-layer option")
            check(cksum_ok(n), "NA checksum")

        case("ICMPv6 echo request: one exact reply")
        e6 = [p for p in out if ICMPv6EchoReply in p]
        check(len(e6) == 1, "%d ICMPv6 echo replies" % len(e6))
        if e6:
            e = e6[0]
            check(e[IPv6].src == US6 and e[IPv6].dst == THEM6 and e[IPv6].hlim == 64,
                  e.summary())
            check(e[ICMPv6EchoReply].id == 0x77 and e[ICMPv6EchoReply].seq == 3 and
                  bytes(e[ICMPv6EchoReply].data) == bytes(range(40)), "echo fields")
            check(cksum_ok(e), "ICMPv6 checksum")

        case("nothing else is sent")
        check(len(out) == 4, "%d packets out: %s" % (len(out), [p.summary() for p in out]))

        case("every refused frame counted under its reason")
        for reason, fs in bad.items():
            want = len(fs)
            if reason == "ip_bad_header":
                want += sum(1 for n in range(34, len(full)))   # cut inside the IPv4 payload
            check(c.get(reason, 0) == want,
                  "%s: %d counted, %d expected" % (reason, c.get(reason, 0), want))
        want_short = sum(1 for n in range(1, 34))   # below Ethernet + IPv4 headers
        check(c.get("short", 0) == want_short,
              "short: %d counted, %d expected" % (c.get("short", 0), want_short))
        rx = int(re.search(r"rx (\d+) packets", text).group(1)) if "rx " in text else -1
        check(rx == len(frames), "rx %d of %d frames" % (rx, len(frames)))
        print("\n".join(l for l in text.splitlines() if l.startswith(("drop", "ppspp", "super"))))

        # --vlan 100 on a port without VLAN offloads (net_pcap): tags taken off and put on in
        # software. The same four requests tagged 100 get the same exact answers, tagged 100;
        # untagged and VLAN 200 frames are counted as "vlan".
        tag = lambda f, vid: Ether(dst=f[Ether].dst, src=f[Ether].src) / Dot1Q(vlan=vid) / \
            f[Ether].payload
        # The MTU is the IP packet's: a tagged frame carries 1500 bytes of it in 1518.
        text, out = run(work, [tag(f, 100) for f in good] + [echo, tag(echo, 200)] +
                        [tag(big_echo(n), 100) for n in (MAX_FRAME, MAX_FRAME + 1)],
                        ["--vlan", "100"])
        c = counters(text)
        case("--vlan 100: a tagged echo in %d bytes answered, in %d counted as oversized" %
             (MAX_FRAME + 4, MAX_FRAME + 5))
        bigs = [p for p in out if ICMP in p and p[IP].id == 4343]
        check(len(bigs) == 1 and len(bigs[0]) == MAX_FRAME + 4 and
              bytes(bigs[0][ICMP].payload) == bytes(MAX_FRAME - 42) and cksum_ok(bigs[0]),
              "big echo replies: %s" % [(p.summary(), len(p)) for p in bigs])
        check(c.get("oversized", 0) == 1, "oversized: %d counted, 1 expected" %
              c.get("oversized", 0))
        out = [p for p in out if p not in bigs]
        case("--vlan 100: ARP, echo, NS and echo6 tagged 100 answered, tagged 100, exactly")
        check(len(out) == 4, "%d packets out: %s" % (len(out), [p.summary() for p in out]))
        check(all(Dot1Q in p and p[Dot1Q].vlan == 100 and p[Ether].src == MAC and
                  p[Ether].dst == PEER for p in out), "tags: %s" % [p.summary() for p in out])
        kinds = sorted("arp" if ARP in p else "echo" if ICMP in p else
                       "na" if ICMPv6ND_NA in p else "echo6" if ICMPv6EchoReply in p else "?"
                       for p in out)
        check(kinds == ["arp", "echo", "echo6", "na"], "answers: %s" % kinds)
        check(all(cksum_ok(p) for p in out), "a checksum is wrong")
        for p in out:
            if ICMP in p:
                check(p[IP].src == US and p[IP].dst == THEM and p[IP].id == 4242 and
                      bytes(p[ICMP].payload) == bytes(range(56)), "echo reply " + p.summary())
        case("--vlan 100: an untagged frame and one of VLAN 200 counted as vlan")
        check(c.get("vlan", 0) == 2, "vlan: %d counted, 2 expected" % c.get("vlan", 0))

        # The swarm open to plain PPSPP. Frames past the MTU, then a handshake + request cut
        # short two ways, each cut from a port of its own (a peer of its own); then the whole
        # datagram, which must be answered.
        def pp(sport, payload):
            return Ether(dst=MAC, src=PEER) / IP(src=THEM, dst=US) / \
                UDP(sport=sport, dport=6778) / Raw(payload)

        req = handshake_request(0x77, swarm_id)
        hs_end = req.index(b"\xff", 4 + 1 + 4 + 4 + 3 + len(swarm_id)) + 1
        # Oversized: an echo one byte past the largest frame (the echo at the largest is
        # answered), the request padded to 1600 bytes (IPv4 and UDP lengths agreeing), and
        # padded to 3000, more than an mbuf's 2048 bytes: net_pcap chains it over two.
        over = [big_echo(MAX_FRAME), big_echo(MAX_FRAME + 1),
                pp(7001, req + bytes(1600 - 42 - len(req))),
                pp(7002, req + bytes(3000 - 42 - len(req)))]
        # Cut at the Ethernet layer, every length below the frame's own: "short" below the
        # Ethernet and IPv4 headers, "ip_bad_header" (total length past the end) beyond.
        whole = raw(pp(7003, req))
        cuts_l2 = [Ether(whole[:n]) if n >= 14 else Raw(whole[:n]) for n in range(1, len(whole))]
        # Cut inside the datagram, IPv4 and UDP lengths and checksums agreeing: the cuts reach
        # the PPSPP codec, which refuses every one ("ppspp") but one: cut right after the
        # HANDSHAKE's end option, the datagram is a whole handshake without the REQUEST, and
        # that peer is rightly answered with a handshake and nothing else.
        cuts_pp = [pp(7100 + n, req[:n]) for n in range(len(req))]
        fed = over + cuts_l2 + cuts_pp + [pp(7003, req)]
        text, out = run(work, fed, ["--open"])
        c = counters(text)

        case("oversized: one byte past %d, a 1600-byte datagram, a chained 3000-byte one" %
             MAX_FRAME)
        check(c.get("oversized", 0) == 3, "oversized: %d counted, 3 expected" %
              c.get("oversized", 0))
        bigs = [p for p in out if ICMP in p]
        check(len(bigs) == 1 and len(bigs[0]) == MAX_FRAME and cksum_ok(bigs[0]),
              "echo replies: %s" % [(p.summary(), len(p)) for p in bigs])
        check(not [p for p in out if UDP in p and p[UDP].dport in (7001, 7002)],
              "an oversized datagram was answered")

        case("a PPSPP frame cut at each of %d lengths, its datagram at each of %d: one drop "
             "each, only the whole handshake answered" % (len(cuts_l2), len(cuts_pp)))
        check(c.get("short", 0) == 33 and
              c.get("ip_bad_header", 0) == len(cuts_l2) - 33,
              "Ethernet cuts: short %d, ip_bad_header %d" % (c.get("short", 0),
                                                             c.get("ip_bad_header", 0)))
        check(c.get("ppspp", 0) == len(cuts_pp) - 1,
              "ppspp: %d counted, %d expected" % (c.get("ppspp", 0), len(cuts_pp) - 1))
        total = sum(c.values())
        want = 3 + len(cuts_l2) + len(cuts_pp) - 1
        check(total == want, "%d drops, %d expected: %r" % (total, want, c))
        hs_only = [p for p in out if UDP in p and 7100 <= p[UDP].dport < 7100 + len(req)]
        check([p[UDP].dport for p in hs_only] == [7100 + hs_end] and
              bytes(hs_only[0][UDP].payload)[:5] == struct.pack(">IB", 0x77, 0),
              "cut datagrams answered: %s" % [(p[UDP].dport, len(p)) for p in hs_only])

        case("after all of it the whole request is answered: handshake, then chunks 0 and 1")
        mine = [bytes(p[UDP].payload) for p in out if UDP in p and p[UDP].dport == 7003]
        check(len(mine) >= 3 and mine[0][:5] == struct.pack(">IB", 0x77, 0),
              "%d datagrams to the peer" % len(mine))
        check(len(out) == len(bigs) + len(hs_only) + len(mine),
              "packets to others: %s" % [p.summary() for p in out])
        rx = int(re.search(r"rx (\d+) packets", text).group(1)) if "rx " in text else -1
        check(rx == len(fed), "rx %d of %d frames" % (rx, len(fed)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        for d in os.listdir("/var/run/dpdk") if os.path.isdir("/var/run/dpdk") else []:
            if d == "sppcap%d" % os.getpid():
                shutil.rmtree(os.path.join("/var/run/dpdk", d), ignore_errors=True)
    print("%d cases, %d failed" % (case_no, failures))
    return 1 if failures else 0


sys.exit(main())
