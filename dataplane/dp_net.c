/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per packet: one received frame in, answers queued on the worker's tx array. ARP requests
 * and ICMP echo requests are answered in the same mbuf; PPSPP datagrams (plain, or ESP in
 * UDP) go to the peer's seeder channel, whose output is built into fresh mbufs. Every other
 * frame is a counted drop. Single-segment mbufs only (the pool is sized for the MTU).
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "dp.h"

#define DP_DROP_NAME(e, name, text) name,
const char *const dp_drop_names[DP_DROP_COUNT] = { DP_DROP_REASONS(DP_DROP_NAME) };
#undef DP_DROP_NAME

void dp_tx_flush(struct dp_worker *w);

static void dp_drop(struct dp_worker *w, struct rte_mbuf *m, enum dp_drop why)
{
	w->drops[why]++;
	rte_pktmbuf_free(m);
}

static void dp_tx(struct dp_worker *w, struct rte_mbuf *m)
{
	if (w->n_tx == DP_TX_MAX)
		dp_tx_flush(w);
	w->tx[w->n_tx++] = m;
}

static void dp_arp_input(struct dp_worker *w, struct rte_mbuf *m, struct rte_ether_hdr *eth,
			 uint32_t len)
{
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);

	if (len < sizeof(*eth) + sizeof(*a)) {
		dp_drop(w, m, DP_DROP_SHORT);
		return;
	}
	if (a->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    a->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || a->arp_hlen != 6 ||
	    a->arp_plen != 4 || a->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
	    a->arp_data.arp_tip != w->cfg->ip4) {
		dp_drop(w, m, DP_DROP_ARP_OTHER);
		return;
	}
	/* The reply, in place: the requester becomes the target. */
	a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	a->arp_data.arp_tha = a->arp_data.arp_sha;
	a->arp_data.arp_tip = a->arp_data.arp_sip;
	a->arp_data.arp_sha = w->cfg->mac;
	a->arp_data.arp_sip = w->cfg->ip4;
	eth->dst_addr = a->arp_data.arp_tha;
	eth->src_addr = w->cfg->mac;
	dp_tx(w, m);
}

static void dp_icmp_input(struct dp_worker *w, struct rte_mbuf *m, struct rte_ether_hdr *eth,
			  struct rte_ipv4_hdr *ip, uint32_t l4len)
{
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ip + 1);
	struct rte_ether_addr mac;
	uint32_t cksum;

	if (l4len < sizeof(*ic)) {
		dp_drop(w, m, DP_DROP_SHORT);
		return;
	}
	if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ic->icmp_code != 0) {
		dp_drop(w, m, DP_DROP_ICMP_OTHER);
		return;
	}
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_cksum = 0;
	cksum = rte_raw_cksum(ic, l4len);
	ic->icmp_cksum = (uint16_t)~cksum;
	if (ic->icmp_cksum == 0)
		ic->icmp_cksum = 0xffff;
	ip->dst_addr = ip->src_addr;
	ip->src_addr = w->cfg->ip4;
	ip->time_to_live = 64;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	mac = eth->src_addr;
	eth->dst_addr = mac;
	eth->src_addr = w->cfg->mac;
	dp_tx(w, m);
}

/* The peer's slot: found, or a free one claimed; NULL when the probe window is full. */
static struct dp_peer *dp_peer_get(struct dp_worker *w, const uint8_t addr[16], bool v6,
				   uint16_t port)
{
	uint32_t h = port * 40503u;
	struct dp_peer *free_slot = NULL;

	for (unsigned i = 0; i < 16; i += 4) {
		uint32_t x;

		memcpy(&x, addr + i, 4);
		h = (h ^ x) * 2654435761u;
	}
	for (unsigned k = 0; k < 16; k++) {
		struct dp_peer *p = &w->peers[(h + k) & (DP_PEERS - 1)];

		if (p->used && p->ch.state != SEEDER_ST_CLOSED) {
			if (p->port == port && memcmp(p->addr, addr, 16) == 0)
				return p;
		} else if (free_slot == NULL) {
			free_slot = p;
		}
	}
	if (free_slot != NULL) {
		free_slot->used = true;
		memcpy(free_slot->addr, addr, 16);
		free_slot->v6 = v6;
		free_slot->port = port;
		do
			w->next_channel = w->next_channel * 1103515245u + 12345u;
		while (w->next_channel == 0);
		seeder_channel_init(&free_slot->ch, w->cfg->store, w->next_channel);
	}
	return free_slot;
}

/* Bytes of Ethernet + IP + UDP headers towards the peer. */
static uint32_t dp_reply_hdrs_len(const struct dp_peer *p)
{
	return (uint32_t)(sizeof(struct rte_ether_hdr) + sizeof(struct rte_udp_hdr) +
			  (p->v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr)));
}

/* Headers of a packet to the peer: Ethernet, IPv4 or IPv6, UDP; returns the UDP header. */
static struct rte_udp_hdr *dp_reply_headers(struct dp_worker *w, struct rte_mbuf *m,
					    const struct dp_peer *p)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_udp_hdr *udp;

	eth->dst_addr = p->mac;
	eth->src_addr = w->cfg->mac;
	if (p->v6) {
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(eth + 1);

		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
		memset(ip6, 0, sizeof(*ip6));
		ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip6->proto = IPPROTO_UDP;
		ip6->hop_limits = 64;
		memcpy(ip6->src_addr, w->cfg->ip6, 16);
		memcpy(ip6->dst_addr, p->addr, 16);
		udp = (struct rte_udp_hdr *)(ip6 + 1);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);

		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		memset(ip, 0, sizeof(*ip));
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_UDP;
		ip->src_addr = w->cfg->ip4;
		memcpy(&ip->dst_addr, p->addr + 12, 4);
		udp = (struct rte_udp_hdr *)(ip + 1);
	}
	udp->src_port = rte_cpu_to_be_16(w->cfg->udp_port);
	udp->dst_port = rte_cpu_to_be_16(p->port);
	return udp;
}

/* Lengths and checksums once the UDP payload is len bytes. */
static void dp_reply_finish(struct rte_mbuf *m, const struct dp_peer *p, uint32_t len)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	uint32_t l4 = (uint32_t)sizeof(struct rte_udp_hdr) + len;

	if (p->v6) {
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(eth + 1);
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip6 + 1);

		ip6->payload_len = rte_cpu_to_be_16((uint16_t)l4);
		udp->dgram_len = rte_cpu_to_be_16((uint16_t)l4);
		udp->dgram_cksum = 0;
		udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip6, udp);
		m->data_len = (uint16_t)(sizeof(*eth) + sizeof(*ip6) + l4);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

		ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4));
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		udp->dgram_len = rte_cpu_to_be_16((uint16_t)l4);
		udp->dgram_cksum = 0;
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
		m->data_len = (uint16_t)(sizeof(*eth) + sizeof(*ip) + l4);
	}
	m->pkt_len = m->data_len;
}

/* Everything the peer's channel has to send, each datagram in its own packet. */
static void dp_ppspp_output(struct dp_worker *w, struct dp_peer *p)
{
	const struct dp_config *cfg = w->cfg;
	uint32_t hdrs = dp_reply_hdrs_len(p);

	for (;;) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
		uint32_t room, cap;
		uint8_t *pay, *d;
		int n;

		if (m == NULL) {
			w->drops[DP_DROP_NO_MBUF]++;
			return;
		}
		room = rte_pktmbuf_tailroom(m);
		if (room > (uint32_t)cfg->mtu + sizeof(struct rte_ether_hdr))
			room = (uint32_t)cfg->mtu + sizeof(struct rte_ether_hdr);
		pay = (uint8_t *)(dp_reply_headers(w, m, p) + 1);
		cap = room - hdrs;
		d = pay;
		if (cfg->esp) {
			/* ESP header + IV, inner UDP header, then the datagram; room for the
			 * trailer (pad <= 3, pad length, next header) and the ICV. */
			d = pay + ESP_PREFIX_LEN + sizeof(struct rte_udp_hdr);
			cap -= ESP_OVERHEAD + sizeof(struct rte_udp_hdr) + 3;
		}
		n = seeder_output(&p->ch, d, cap, 0);
		if (n <= 0) {
			rte_pktmbuf_free(m);
			return;
		}
		if (cfg->esp) {
			struct rte_udp_hdr *in = (struct rte_udp_hdr *)(pay + ESP_PREFIX_LEN);
			struct esp_seal_pkt s = {
				.sa = w->sa_out, .src = (const uint8_t *)in, .out = pay,
				.len = (uint32_t)n + sizeof(*in), .out_cap = room - hdrs,
				.next_hdr = ESP_NH_UDP,
			};

			in->src_port = rte_cpu_to_be_16(cfg->udp_port);
			in->dst_port = rte_cpu_to_be_16(p->port);
			in->dgram_len = rte_cpu_to_be_16((uint16_t)s.len);
			in->dgram_cksum = 0;
			if (esp_seal_burst(&w->eng, &s, 1, 0) != 1) {
				w->esp_drops[s.reason]++;
				w->drops[DP_DROP_ESP]++;
				rte_pktmbuf_free(m);
				return;
			}
			n = (int)s.out_len;
		}
		dp_reply_finish(m, p, (uint32_t)n);
		dp_tx(w, m);
	}
}

/* UDP to us, after IPv4 or IPv6: src is the peer's address (IPv4-mapped for IPv4). */
static void dp_udp_input(struct dp_worker *w, struct rte_mbuf *m, struct rte_ether_hdr *eth,
			 struct rte_udp_hdr *udp, uint32_t l4len, const uint8_t src[16], bool v6)
{
	uint8_t *pay = (uint8_t *)(udp + 1);
	uint32_t plen;
	const uint8_t *dgram = pay;
	size_t dlen;
	struct dp_peer *p;
	enum seeder_reason r;

	if (l4len < sizeof(*udp) || rte_be_to_cpu_16(udp->dgram_len) != l4len) {
		dp_drop(w, m, DP_DROP_UDP_BAD);
		return;
	}
	if (rte_be_to_cpu_16(udp->dst_port) != w->cfg->udp_port) {
		dp_drop(w, m, DP_DROP_UDP_PORT);
		return;
	}
	plen = l4len - (uint32_t)sizeof(*udp);
	dlen = plen;
	if (w->cfg->esp) {
		enum esp_drop c = esp_udp_classify(pay, plen);
		struct esp_open_pkt o = { .sa = w->sa_in, .data = pay, .len = plen };
		const struct rte_udp_hdr *in;

		if (c != ESP_DROP_NONE) {
			w->esp_drops[c]++;
			dp_drop(w, m, DP_DROP_ESP);
			return;
		}
		if (memcmp(pay, w->sa_in->spi_be, 4) != 0)
			o.sa = NULL; /* counted as bad_spi */
		if (esp_open_burst(&w->eng, &o, 1, 0) != 1) {
			w->esp_drops[o.reason]++;
			dp_drop(w, m, DP_DROP_ESP);
			return;
		}
		in = (const struct rte_udp_hdr *)(pay + ESP_PREFIX_LEN);
		if (o.next_hdr != ESP_NH_UDP || o.payload_len < sizeof(*in) ||
		    rte_be_to_cpu_16(in->dgram_len) != o.payload_len) {
			dp_drop(w, m, DP_DROP_INNER_BAD);
			return;
		}
		dgram = (const uint8_t *)(in + 1);
		dlen = o.payload_len - sizeof(*in);
	}
	p = dp_peer_get(w, src, v6, rte_be_to_cpu_16(udp->src_port));
	if (p == NULL) {
		dp_drop(w, m, DP_DROP_PEERS_FULL);
		return;
	}
	p->mac = eth->src_addr;
	r = seeder_input(&p->ch, dgram, dlen);
	if (r != SEEDER_R_OK && r != SEEDER_R_CLOSED) {
		w->ppspp_refused[r]++;
		w->drops[DP_DROP_PPSPP]++;
		if (p->ch.state == SEEDER_ST_IDLE)
			p->used = false; /* a refused first datagram opens nothing */
	}
	rte_pktmbuf_free(m);
	uint64_t before = p->ch.chunks_sent;

	dp_ppspp_output(w, p);
	w->chunks_sent += p->ch.chunks_sent - before;
}

static void dp_ip4_input(struct dp_worker *w, struct rte_mbuf *m, struct rte_ether_hdr *eth,
			 uint32_t len)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	uint32_t total, l4len;

	if (len < sizeof(*eth) + sizeof(*ip)) {
		dp_drop(w, m, DP_DROP_SHORT);
		return;
	}
	if ((ip->version_ihl >> 4) != 4 || (ip->version_ihl & 0xf) < 5) {
		dp_drop(w, m, DP_DROP_IP_BAD_HDR);
		return;
	}
	if ((ip->version_ihl & 0xf) != 5) {
		dp_drop(w, m, DP_DROP_IP_OPTIONS);
		return;
	}
	total = rte_be_to_cpu_16(ip->total_length);
	if (total < sizeof(*ip) || total > len - sizeof(*eth) || rte_ipv4_cksum(ip) != 0) {
		dp_drop(w, m, DP_DROP_IP_BAD_HDR);
		return;
	}
	if (ip->dst_addr != w->cfg->ip4) {
		dp_drop(w, m, DP_DROP_NOT_FOR_US);
		return;
	}
	if (rte_be_to_cpu_16(ip->fragment_offset) &
	    (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) {
		dp_drop(w, m, DP_DROP_IP_FRAGMENT);
		return;
	}
	l4len = total - (uint32_t)sizeof(*ip);
	switch (ip->next_proto_id) {
	case IPPROTO_ICMP:
		dp_icmp_input(w, m, eth, ip, l4len);
		break;
	case IPPROTO_UDP: {
		uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff };

		memcpy(mapped + 12, &ip->src_addr, 4);
		dp_udp_input(w, m, eth, (struct rte_udp_hdr *)(ip + 1), l4len, mapped, false);
		break;
	}
	default:
		dp_drop(w, m, DP_DROP_IP_PROTO);
	}
}

/* ff02::1:ffXX:XXXX, the solicited-node multicast group of our address (RFC 4291 2.7.1). */
static bool dp_ip6_is_our_solicited(const struct dp_config *cfg, const uint8_t *a)
{
	static const uint8_t prefix[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff };

	return memcmp(a, prefix, 13) == 0 && memcmp(a + 13, cfg->ip6 + 13, 3) == 0;
}

enum {
	ND_NS = 135,
	ND_NA = 136,
	ND_OPT_TLLA = 2,
	ICMP6_ECHO_REQUEST = 128,
	ICMP6_ECHO_REPLY = 129,
};

/* A Neighbor Solicitation for our address becomes the Advertisement, in the same mbuf. */
static void dp_nd_input(struct dp_worker *w, struct rte_mbuf *m, struct rte_ether_hdr *eth,
			struct rte_ipv6_hdr *ip6, uint8_t *icmp, uint32_t l4len)
{
	static const uint8_t unspecified[16], all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	bool from_unspecified = memcmp(ip6->src_addr, unspecified, 16) == 0;
	const uint32_t na_len = 4 + 4 + 16 + 8; /* header, flags, target, TLLA option */

	/* RFC 4861 7.1.1: hop limit 255, code 0, at least 24 bytes, target not multicast. */
	if (ip6->hop_limits != 255 || icmp[1] != 0 || l4len < 24 || icmp[8] == 0xff) {
		dp_drop(w, m, DP_DROP_ND_BAD);
		return;
	}
	if (memcmp(icmp + 8, w->cfg->ip6, 16) != 0) {
		dp_drop(w, m, DP_DROP_NOT_FOR_US);
		return;
	}
	if (rte_pktmbuf_tailroom(m) + rte_pktmbuf_data_len(m) <
	    sizeof(*eth) + sizeof(*ip6) + na_len) {
		dp_drop(w, m, DP_DROP_SHORT);
		return;
	}
	/* RFC 4861 7.2.4: to the solicitation's source (all-nodes when it had none), S set
	 * unless answering the unspecified address, O set, our MAC as target link-layer. */
	memcpy(ip6->dst_addr, from_unspecified ? all_nodes : ip6->src_addr, 16);
	memcpy(ip6->src_addr, w->cfg->ip6, 16);
	ip6->payload_len = rte_cpu_to_be_16((uint16_t)na_len);
	ip6->hop_limits = 255;
	icmp[0] = ND_NA;
	icmp[1] = 0;
	icmp[4] = from_unspecified ? 0x20 : 0x60; /* S (0x40) | O (0x20) */
	icmp[5] = icmp[6] = icmp[7] = 0;
	/* target stays at icmp + 8 */
	icmp[24] = ND_OPT_TLLA;
	icmp[25] = 1; /* length in units of 8 bytes */
	memcpy(icmp + 26, w->cfg->mac.addr_bytes, 6);
	icmp[2] = icmp[3] = 0;
	{
		uint16_t c = rte_ipv6_udptcp_cksum(ip6, icmp);

		memcpy(icmp + 2, &c, 2);
	}
	if (from_unspecified) {
		static const struct rte_ether_addr all_nodes_mac = { { 0x33, 0x33, 0, 0, 0, 1 } };

		eth->dst_addr = all_nodes_mac;
	} else {
		eth->dst_addr = eth->src_addr;
	}
	eth->src_addr = w->cfg->mac;
	m->data_len = (uint16_t)(sizeof(*eth) + sizeof(*ip6) + na_len);
	m->pkt_len = m->data_len;
	dp_tx(w, m);
}

/* The ones'-complement sum over pseudo-header and message, checksum included, is 0xffff. */
static bool dp_ip6_l4_cksum_ok(const struct rte_ipv6_hdr *ip6, const void *l4, uint32_t len)
{
	uint32_t sum = (uint32_t)rte_raw_cksum(l4, len) + rte_ipv6_phdr_cksum(ip6, 0);

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static void dp_icmp6_input(struct dp_worker *w, struct rte_mbuf *m, struct rte_ether_hdr *eth,
			   struct rte_ipv6_hdr *ip6, uint32_t l4len)
{
	uint8_t *icmp = (uint8_t *)(ip6 + 1);
	uint16_t c;

	if (l4len < 8) {
		dp_drop(w, m, DP_DROP_SHORT);
		return;
	}
	if (!dp_ip6_l4_cksum_ok(ip6, icmp, l4len)) {
		dp_drop(w, m, DP_DROP_ICMP6_CKSUM);
		return;
	}
	if (icmp[0] == ND_NS) {
		dp_nd_input(w, m, eth, ip6, icmp, l4len);
		return;
	}
	if (icmp[0] != ICMP6_ECHO_REQUEST || icmp[1] != 0 ||
	    memcmp(ip6->dst_addr, w->cfg->ip6, 16) != 0) {
		dp_drop(w, m, DP_DROP_ICMP6_OTHER);
		return;
	}
	icmp[0] = ICMP6_ECHO_REPLY;
	memcpy(ip6->dst_addr, ip6->src_addr, 16);
	memcpy(ip6->src_addr, w->cfg->ip6, 16);
	ip6->hop_limits = 64;
	icmp[2] = icmp[3] = 0;
	c = rte_ipv6_udptcp_cksum(ip6, icmp);
	memcpy(icmp + 2, &c, 2);
	eth->dst_addr = eth->src_addr;
	eth->src_addr = w->cfg->mac;
	dp_tx(w, m);
}

static void dp_ip6_input(struct dp_worker *w, struct rte_mbuf *m, struct rte_ether_hdr *eth,
			 uint32_t len)
{
	struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(eth + 1);
	uint32_t l4len;

	if (!w->cfg->has_ip6) {
		dp_drop(w, m, DP_DROP_ETHERTYPE);
		return;
	}
	if (len < sizeof(*eth) + sizeof(*ip6)) {
		dp_drop(w, m, DP_DROP_SHORT);
		return;
	}
	l4len = rte_be_to_cpu_16(ip6->payload_len);
	if ((rte_be_to_cpu_32(ip6->vtc_flow) >> 28) != 6 ||
	    l4len > len - sizeof(*eth) - sizeof(*ip6)) {
		dp_drop(w, m, DP_DROP_IP6_BAD_HDR);
		return;
	}
	if (memcmp(ip6->dst_addr, w->cfg->ip6, 16) != 0 &&
	    !dp_ip6_is_our_solicited(w->cfg, ip6->dst_addr)) {
		dp_drop(w, m, DP_DROP_NOT_FOR_US);
		return;
	}
	switch (ip6->proto) {
	case IPPROTO_ICMPV6:
		dp_icmp6_input(w, m, eth, ip6, l4len);
		break;
	case IPPROTO_UDP:
		if (memcmp(ip6->dst_addr, w->cfg->ip6, 16) != 0) {
			dp_drop(w, m, DP_DROP_NOT_FOR_US); /* UDP to a multicast group */
			break;
		}
		dp_udp_input(w, m, eth, (struct rte_udp_hdr *)(ip6 + 1), l4len, ip6->src_addr,
			     true);
		break;
	case 0: case 43: case 44: case 50: case 51: case 60: case 135:
		dp_drop(w, m, DP_DROP_IP6_EXT);
		break;
	default:
		dp_drop(w, m, DP_DROP_IP_PROTO);
	}
}

/* Ours, broadcast, or (with IPv6) our solicited-node group 33:33:ff:XX:XX:XX. */
static bool dp_mac_accepts(const struct dp_config *cfg, const struct rte_ether_addr *d)
{
	if (rte_is_same_ether_addr(d, &cfg->mac) || rte_is_broadcast_ether_addr(d))
		return true;
	return cfg->has_ip6 && d->addr_bytes[0] == 0x33 && d->addr_bytes[1] == 0x33 &&
	       d->addr_bytes[2] == 0xff && memcmp(d->addr_bytes + 3, cfg->ip6 + 13, 3) == 0;
}

void dp_net_input(struct dp_worker *w, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	uint32_t len = rte_pktmbuf_data_len(m);

	w->rx_pkts++;
	w->rx_bytes += len;
	if (m->nb_segs != 1 || len < sizeof(*eth)) {
		dp_drop(w, m, DP_DROP_SHORT);
		return;
	}
	if (!dp_mac_accepts(w->cfg, &eth->dst_addr)) {
		dp_drop(w, m, DP_DROP_NOT_FOR_US);
		return;
	}
	switch (rte_be_to_cpu_16(eth->ether_type)) {
	case RTE_ETHER_TYPE_ARP:
		dp_arp_input(w, m, eth, len);
		break;
	case RTE_ETHER_TYPE_IPV4:
		dp_ip4_input(w, m, eth, len);
		break;
	case RTE_ETHER_TYPE_IPV6:
		dp_ip6_input(w, m, eth, len);
		break;
	default:
		dp_drop(w, m, DP_DROP_ETHERTYPE);
	}
}
