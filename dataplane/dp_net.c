/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per packet: one received frame in, answers queued on the worker's tx array. ARP requests
 * and ICMP echo requests are answered in the same mbuf; UDP and ESP go on to dp_ppspp.c.
 * Every other frame is a counted drop. Single-segment mbufs only: the pool is sized for the
 * MTU, and a chained or larger frame is dropped as oversized before anything else.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "dp.h"

#define DP_DROP_NAME(e, name, text) name,
const char *const dp_drop_names[DP_DROP_COUNT] = {DP_DROP_REASONS(DP_DROP_NAME)};
#undef DP_DROP_NAME

void dp_net_drop(struct dp_worker *w, struct rte_mbuf *m, enum dp_drop why)
{
	w->drops[why]++;
	rte_pktmbuf_free(m);
}

void dp_net_tx(struct dp_worker *w, struct rte_mbuf *m)
{
	if (w->cfg->vlan_id != 0) {
		m->vlan_tci = w->cfg->vlan_id;
		if (w->cfg->vlan_tx_hw) {
			m->ol_flags |= RTE_MBUF_F_TX_VLAN;
		} else if (rte_vlan_insert(&m) != 0) { /* no headroom: cannot happen here */
			w->drops[DP_DROP_NO_MBUF]++;
			rte_pktmbuf_free(m);
			return;
		}
	}
	if (w->n_tx == DP_TX_MAX)
		dp_tx_flush(w);
	if (w->n_tx == DP_TX_MAX) {
		/* The port took nothing of a full queue (DATA output pauses before this). */
		w->drops[DP_DROP_TX_FULL]++;
		rte_pktmbuf_free(m);
		return;
	}
	w->tx[w->n_tx++] = m;
}

static void dp_arp_input(
	struct dp_worker *w, struct rte_mbuf *m, struct rte_ether_hdr *eth, uint32_t len)
{
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);

	if (len < sizeof(*eth) + sizeof(*a)) {
		dp_net_drop(w, m, DP_DROP_SHORT);
		return;
	}
	if (a->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
		a->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || a->arp_hlen != 6 ||
		a->arp_plen != 4 || a->arp_data.arp_tip != w->cfg->ip4 ||
		(a->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) &&
			a->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REPLY))) {
		dp_net_drop(w, m, DP_DROP_ARP_OTHER);
		return;
	}
	{
		uint8_t sip[16] = {[10] = 0xff, [11] = 0xff};
		bool reply = a->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REPLY);

		memcpy(sip + 12, &a->arp_data.arp_sip, 4);
		/* A reply teaches only when we (this worker, or another one it is handed to)
		 * asked; a request to us teaches the asker's address, and is answered. */
		if (reply) {
			if (!dp_neigh_reply(w, sip, &a->arp_data.arp_sha))
				dp_net_drop(w, m, DP_DROP_ARP_OTHER); /* nobody asked for it */
			else
				rte_pktmbuf_free(m);
			return;
		}
		dp_neigh_learn(w, sip, &a->arp_data.arp_sha, false);
	}
	/* The reply, in place: the requester becomes the target. */
	a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	a->arp_data.arp_tha = a->arp_data.arp_sha;
	a->arp_data.arp_tip = a->arp_data.arp_sip;
	a->arp_data.arp_sha = w->cfg->mac;
	a->arp_data.arp_sip = w->cfg->ip4;
	eth->dst_addr = a->arp_data.arp_tha;
	eth->src_addr = w->cfg->mac;
	/* The reply is the ARP message alone, whatever trailed the request. */
	m->data_len = (uint16_t)(sizeof(*eth) + sizeof(*a));
	m->pkt_len = m->data_len;
	dp_net_tx(w, m);
}

static void dp_icmp_input(struct dp_worker *w, struct rte_mbuf *m, struct rte_ether_hdr *eth,
	struct rte_ipv4_hdr *ip, uint32_t l4len)
{
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ip + 1);
	struct rte_ether_addr mac;
	uint32_t cksum;

	if (l4len < sizeof(*ic)) {
		dp_net_drop(w, m, DP_DROP_SHORT);
		return;
	}
	if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ic->icmp_code != 0) {
		dp_net_drop(w, m, DP_DROP_ICMP_OTHER);
		return;
	}
	if (sizeof(*ip) + l4len > w->cfg->mtu) {
		dp_net_drop(w, m, DP_DROP_TOO_BIG); /* the echo would not fit our MTU */
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
	m->data_len = (uint16_t)(sizeof(*eth) + sizeof(*ip) + l4len); /* no trailing bytes */
	m->pkt_len = m->data_len;
	dp_net_tx(w, m);
}

static void dp_ip4_input(
	struct dp_worker *w, struct rte_mbuf *m, struct rte_ether_hdr *eth, uint32_t len)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	uint32_t total, l4len;

	if (len < sizeof(*eth) + sizeof(*ip)) {
		dp_net_drop(w, m, DP_DROP_SHORT);
		return;
	}
	if ((ip->version_ihl >> 4) != 4 || (ip->version_ihl & 0xf) < 5) {
		dp_net_drop(w, m, DP_DROP_IP_BAD_HDR);
		return;
	}
	if ((ip->version_ihl & 0xf) != 5) {
		dp_net_drop(w, m, DP_DROP_IP_OPTIONS);
		return;
	}
	total = rte_be_to_cpu_16(ip->total_length);
	if (total < sizeof(*ip) || total > len - sizeof(*eth) || rte_ipv4_cksum(ip) != 0) {
		dp_net_drop(w, m, DP_DROP_IP_BAD_HDR);
		return;
	}
	if (ip->dst_addr != w->cfg->ip4) {
		dp_net_drop(w, m, DP_DROP_NOT_FOR_US);
		return;
	}
	if (rte_be_to_cpu_16(ip->fragment_offset) &
		(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) {
		dp_net_drop(w, m, DP_DROP_IP_FRAGMENT);
		return;
	}
	l4len = total - (uint32_t)sizeof(*ip);
	switch (ip->next_proto_id) {
	case IPPROTO_ICMP:
		dp_icmp_input(w, m, eth, ip, l4len);
		break;
	case IPPROTO_UDP: {
		uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff};

		memcpy(mapped + 12, &ip->src_addr, 4);
		dp_udp_input(w, m, eth, (struct rte_udp_hdr *)(ip + 1), l4len, mapped, false);
		break;
	}
	case IPPROTO_ESP: {
		uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff};

		memcpy(mapped + 12, &ip->src_addr, 4);
		dp_esp_input(w, m, eth, (uint8_t *)(ip + 1), l4len, mapped, false);
		break;
	}
	default:
		dp_net_drop(w, m, DP_DROP_IP_PROTO);
	}
}

/* ff02::1:ffXX:XXXX, the solicited-node multicast group of our address (RFC 4291 2.7.1). */
static bool dp_ip6_is_our_solicited(const struct dp_config *cfg, const uint8_t *a)
{
	static const uint8_t prefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};

	return memcmp(a, prefix, 13) == 0 && memcmp(a + 13, cfg->ip6 + 13, 3) == 0;
}

enum {
	ND_NS = 135,
	ND_NA = 136,
	ND_OPT_SLLA = 1,
	ND_OPT_TLLA = 2,
	ICMP6_ECHO_REQUEST = 128,
	ICMP6_ECHO_REPLY = 129,
};

/* A Neighbor Solicitation for our address becomes the Advertisement, in the same mbuf. */
/* The link-layer address option of type `type` in an NS/NA (options after 24 bytes), or NULL. */
static const uint8_t *dp_nd_option(const uint8_t *icmp, uint32_t l4len, uint8_t type)
{
	for (uint32_t off = 24; off + 8 <= l4len;) {
		uint32_t olen = icmp[off + 1] * 8u;

		if (olen == 0 || off + olen > l4len)
			return NULL;
		if (icmp[off] == type && olen >= 8)
			return icmp + off + 2;
		off += olen;
	}
	return NULL;
}

static void dp_nd_input(struct dp_worker *w, struct rte_mbuf *m, struct rte_ether_hdr *eth,
	struct rte_ipv6_hdr *ip6, uint8_t *icmp, uint32_t l4len)
{
	static const uint8_t unspecified[16], all_nodes[16] = {0xff, 0x02, [15] = 1};
	bool from_unspecified = memcmp(ip6->src_addr, unspecified, 16) == 0;
	const uint32_t na_len = 4 + 4 + 16 + 8; /* header, flags, target, TLLA option */

	/* RFC 4861 7.1.1: hop limit 255, code 0, at least 24 bytes, target not multicast. */
	if (ip6->hop_limits != 255 || icmp[1] != 0 || l4len < 24 || icmp[8] == 0xff) {
		dp_net_drop(w, m, DP_DROP_ND_BAD);
		return;
	}
	if (memcmp(icmp + 8, w->cfg->ip6, 16) != 0) {
		dp_net_drop(w, m, DP_DROP_NOT_FOR_US);
		return;
	}
	if (!from_unspecified) {
		const uint8_t *ll = dp_nd_option(icmp, l4len, ND_OPT_SLLA);

		if (ll != NULL) /* the solicitation teaches its source (RFC 4861 7.2.3) */
			dp_neigh_learn(w, ip6->src_addr, (const struct rte_ether_addr *)ll, false);
	}
	if (rte_pktmbuf_tailroom(m) + rte_pktmbuf_data_len(m) <
		sizeof(*eth) + sizeof(*ip6) + na_len) {
		dp_net_drop(w, m, DP_DROP_SHORT);
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
		static const struct rte_ether_addr all_nodes_mac = {{0x33, 0x33, 0, 0, 0, 1}};

		eth->dst_addr = all_nodes_mac;
	} else {
		eth->dst_addr = eth->src_addr;
	}
	eth->src_addr = w->cfg->mac;
	m->data_len = (uint16_t)(sizeof(*eth) + sizeof(*ip6) + na_len);
	m->pkt_len = m->data_len;
	dp_net_tx(w, m);
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
		dp_net_drop(w, m, DP_DROP_SHORT);
		return;
	}
	if (!dp_ip6_l4_cksum_ok(ip6, icmp, l4len)) {
		dp_net_drop(w, m, DP_DROP_ICMP6_CKSUM);
		return;
	}
	if (icmp[0] == ND_NS) {
		dp_nd_input(w, m, eth, ip6, icmp, l4len);
		return;
	}
	if (icmp[0] == ND_NA) {
		const uint8_t *ll = dp_nd_option(icmp, l4len, ND_OPT_TLLA);

		if (ip6->hop_limits != 255 || icmp[1] != 0 || l4len < 24) {
			dp_net_drop(w, m, DP_DROP_ND_BAD);
			return;
		}
		/* Only an answer to our own solicitation (this worker's or another's) teaches
		 * anything. */
		if (!dp_neigh_reply(w, icmp + 8,
			    ll != NULL ? (const struct rte_ether_addr *)ll : &eth->src_addr)) {
			dp_net_drop(w, m, DP_DROP_ICMP6_OTHER);
			return;
		}
		rte_pktmbuf_free(m);
		return;
	}
	if (icmp[0] != ICMP6_ECHO_REQUEST || icmp[1] != 0 ||
		memcmp(ip6->dst_addr, w->cfg->ip6, 16) != 0) {
		dp_net_drop(w, m, DP_DROP_ICMP6_OTHER);
		return;
	}
	if (sizeof(*ip6) + l4len > w->cfg->mtu) {
		dp_net_drop(w, m, DP_DROP_TOO_BIG);
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
	m->data_len = (uint16_t)(sizeof(*eth) + sizeof(*ip6) + l4len);
	m->pkt_len = m->data_len;
	dp_net_tx(w, m);
}

/*
 * The options of a Hop-by-Hop or Destination Options header (RFC 8200 4.2): Pad1 and PadN
 * are all we know; an unknown option whose two high bits say "skip" is skipped, any other
 * makes us drop the packet (we send no Parameter Problem).
 */
static bool dp_ip6_opts_ok(const uint8_t *o, uint32_t len)
{
	uint32_t i = 2;

	while (i < len) {
		if (o[i] == 0) { /* Pad1 */
			i++;
			continue;
		}
		if (i + 2 > len || i + 2 + o[i + 1] > len)
			return false;
		if (o[i] != 1 && (o[i] >> 6) != 0)
			return false;
		i += 2u + o[i + 1];
	}
	return true;
}

/*
 * Steps over the extension headers a host must accept before UDP or ESP (RFC 8200 4.1):
 * Hop-by-Hop first, Destination Options, a Routing header with no segments left; *nh, *l4 and
 * *len then name the upper layer. Anything else is left in *nh for the caller to refuse.
 * DP_DROP_COUNT when all is well, else the reason to drop.
 */
static enum dp_drop dp_ip6_ext_skip(uint8_t *nh, uint8_t **l4, uint32_t *len)
{
	for (unsigned k = 0; k < 4 && (*nh == 60 || *nh == 43 || (*nh == 0 && k == 0)); k++) {
		const uint8_t *h = *l4;
		uint32_t hlen;

		if (*len < 8 || (hlen = ((uint32_t)h[1] + 1) * 8) > *len)
			return DP_DROP_IP6_BAD_HDR;
		if (*nh == 43 ? h[3] != 0 : !dp_ip6_opts_ok(h, hlen))
			return DP_DROP_IP6_EXT;
		*nh = h[0];
		*l4 += hlen;
		*len -= hlen;
	}
	return DP_DROP_COUNT;
}

static void dp_ip6_input(
	struct dp_worker *w, struct rte_mbuf *m, struct rte_ether_hdr *eth, uint32_t len)
{
	struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(eth + 1);
	uint32_t l4len;
	uint8_t nh, *l4;

	if (!w->cfg->has_ip6) {
		dp_net_drop(w, m, DP_DROP_ETHERTYPE);
		return;
	}
	if (len < sizeof(*eth) + sizeof(*ip6)) {
		dp_net_drop(w, m, DP_DROP_SHORT);
		return;
	}
	l4len = rte_be_to_cpu_16(ip6->payload_len);
	if ((rte_be_to_cpu_32(ip6->vtc_flow) >> 28) != 6 ||
		l4len > len - sizeof(*eth) - sizeof(*ip6)) {
		dp_net_drop(w, m, DP_DROP_IP6_BAD_HDR);
		return;
	}
	if (memcmp(ip6->dst_addr, w->cfg->ip6, 16) != 0 &&
		!dp_ip6_is_our_solicited(w->cfg, ip6->dst_addr)) {
		dp_net_drop(w, m, DP_DROP_NOT_FOR_US);
		return;
	}
	nh = ip6->proto;
	l4 = (uint8_t *)(ip6 + 1);
	if (nh == 0 || nh == 43 || nh == 60) {
		enum dp_drop why = dp_ip6_ext_skip(&nh, &l4, &l4len);

		if (why != DP_DROP_COUNT) {
			dp_net_drop(w, m, why);
			return;
		}
		if (nh == IPPROTO_ICMPV6) { /* answers are built on the header in place */
			dp_net_drop(w, m, DP_DROP_IP6_EXT);
			return;
		}
	}
	switch (nh) {
	case IPPROTO_ICMPV6:
		dp_icmp6_input(w, m, eth, ip6, l4len);
		break;
	case IPPROTO_UDP:
		if (memcmp(ip6->dst_addr, w->cfg->ip6, 16) != 0) {
			dp_net_drop(w, m, DP_DROP_NOT_FOR_US); /* UDP to a multicast group */
			break;
		}
		dp_udp_input(w, m, eth, (struct rte_udp_hdr *)l4, l4len, ip6->src_addr, true);
		break;
	case IPPROTO_ESP:
		if (memcmp(ip6->dst_addr, w->cfg->ip6, 16) != 0) {
			dp_net_drop(w, m, DP_DROP_NOT_FOR_US);
			break;
		}
		dp_esp_input(w, m, eth, l4, l4len, ip6->src_addr, true);
		break;
	case 0:	  /* Hop-by-Hop anywhere but first */
	case 43:  /* Routing with segments left */
	case 44:  /* Fragment: not reassembled */
	case 51:  /* AH */
	case 60:  /* Destination Options past the limit */
	case 135: /* Mobility */
	case 139: /* HIP */
	case 140: /* Shim6 */
		dp_net_drop(w, m, DP_DROP_IP6_EXT);
		break;
	default:
		dp_net_drop(w, m, DP_DROP_IP_PROTO);
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

/*
 * 802.1Q: a frame of the configured VLAN has its tag taken off (or the port did that, the tag
 * in vlan_tci); anything else is dropped. Without a VLAN only untagged frames are taken.
 */
static bool dp_vlan_input(
	struct dp_worker *w, struct rte_mbuf *m, struct rte_ether_hdr **eth, uint32_t *len)
{
	uint16_t want = w->cfg->vlan_id;

	if ((*eth)->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN)) {
		const struct rte_vlan_hdr *vh = (const struct rte_vlan_hdr *)(*eth + 1);

		if (*len < sizeof(**eth) + sizeof(*vh)) {
			dp_net_drop(w, m, DP_DROP_SHORT);
			return false;
		}
		if (want != 0 && (rte_be_to_cpu_16(vh->vlan_tci) & 0xfff) == want &&
			rte_vlan_strip(m) == 0) {
			*eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
			*len -= sizeof(*vh);
			return true;
		}
	} else if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) {
		if (want != 0 && (m->vlan_tci & 0xfff) == want)
			return true;
	} else if (want == 0) {
		return true;
	}
	dp_net_drop(w, m, DP_DROP_VLAN);
	return false;
}

void dp_net_input(struct dp_worker *w, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	uint32_t len = rte_pktmbuf_data_len(m);

	w->rx_pkts++;
	w->rx_bytes += rte_pktmbuf_pkt_len(m);
	/* The pool's data room holds the largest frame taken (dp_main.c): a frame the port
	 * had to chain is larger than that, and parsing may assume one segment from here on. */
	if (m->nb_segs != 1) {
		dp_net_drop(w, m, DP_DROP_OVERSIZED);
		return;
	}
	if (len < sizeof(*eth)) {
		dp_net_drop(w, m, DP_DROP_SHORT);
		return;
	}
	if (!dp_vlan_input(w, m, &eth, &len))
		return;
	/*
	 * An IP packet of at most mtu bytes and its Ethernet header, the 802.1Q tag (if any) off
	 * by now: what we send at most, so what a peer on our link sends at most. A larger frame
	 * is a peer whose MTU disagrees with ours, or hostile; it is not parsed on the chance
	 * that it is well formed. The CRC is not in len (no port here keeps it).
	 */
	if (len > (uint32_t)w->cfg->mtu + RTE_ETHER_HDR_LEN) {
		dp_net_drop(w, m, DP_DROP_OVERSIZED);
		return;
	}
	if (!dp_mac_accepts(w->cfg, &eth->dst_addr)) {
		dp_net_drop(w, m, DP_DROP_NOT_FOR_US);
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
		dp_net_drop(w, m, DP_DROP_ETHERTYPE);
	}
}
