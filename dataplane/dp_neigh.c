/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Next hops for traffic the data plane starts (ingest): the peer itself when it is on the link,
 * else the configured gateway (ip = A.B.C.D/N, gateway = ...; the same for IPv6); a
 * per-worker neighbour cache filled by ARP (RFC 826) and Neighbor Discovery (RFC 4861), and
 * the requests that fill it. Answers to peers need none of this: they go back to the MAC the
 * peer's packet came from (the router's, for a peer behind one).
 *
 * An entry is learned from an ARP reply or Neighbor Advertisement only while it is being
 * asked for, and from an ARP request or Neighbor Solicitation to us (as Linux does); nothing
 * else creates one, so unsolicited replies cannot fill the cache. A request goes out at most
 * every 100 ms per address while a caller keeps asking. With several workers the reply may
 * come in on another worker's queue (RSS does not hash ARP; a NIC puts it on queue 0): each
 * worker publishes, per cache slot, a tag (a hash) of the address it has asked for there,
 * kept while the slot holds that address; the one that gets a reply hands it to the workers
 * with a matching tag in the slots the address can sit in, which learn it on the usual
 * terms. A reply for an address no worker has asked for goes nowhere and is counted.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_ring_elem.h>

#include "config.h"
#include "dp.h"

enum { ND_NS = 135, ND_OPT_SLLA = 1 };

/* The cache slots an address may sit in: from its hash's slot on. */
enum { DP_NEIGH_WINDOW = 8 };

static uint32_t dp_neigh_hash(const uint8_t a[16])
{
	uint32_t h = 2166136261u;

	for (unsigned i = 0; i < 16; i++)
		h = (h ^ a[i]) * 16777619u;
	return h;
}

/* The entry for a, or (create) a free one to take it; NULL when the probe window is full. */
static struct dp_neigh *dp_neigh_slot(struct dp_worker *w, const uint8_t a[16], bool create)
{
	uint32_t h = dp_neigh_hash(a);
	struct dp_neigh *free_slot = NULL;

	for (unsigned k = 0; k < DP_NEIGH_WINDOW; k++) {
		struct dp_neigh *n = &w->neigh[(h + k) & (DP_NEIGH - 1)];

		if (n->state != DP_NEIGH_FREE && memcmp(n->addr, a, 16) == 0)
			return n;
		if (n->state == DP_NEIGH_FREE && free_slot == NULL)
			free_slot = n;
	}
	if (!create)
		return NULL;
	if (free_slot == NULL) /* full: the oldest-looking slot, the first of the window */
		free_slot = &w->neigh[h & (DP_NEIGH - 1)];
	memset(free_slot, 0, sizeof(*free_slot));
	memcpy(free_slot->addr, a, 16);
	/* Another address now: its tag, if it had one, no longer stands for this slot. */
	__atomic_store_n(&w->neigh_asking[free_slot - w->neigh], 0, __ATOMIC_RELAXED);
	return free_slot;
}

/* The tag an address is published under while a worker asks for it (never 0: free). */
static uint32_t dp_neigh_tag(const uint8_t a[16])
{
	return dp_neigh_hash(a) | 1u;
}

bool dp_neigh_learn(struct dp_worker *w, const uint8_t a[16], const struct rte_ether_addr *mac,
	bool solicited_only)
{
	struct dp_neigh *n = dp_neigh_slot(w, a, !solicited_only);

	if (n == NULL || rte_is_multicast_ether_addr(mac) || rte_is_zero_ether_addr(mac))
		return false;
	n->mac = *mac;
	n->state = DP_NEIGH_KNOWN;
	n->confirmed_tsc = rte_rdtsc();
	w->neigh_learned++;
	return true;
}

bool dp_neigh_reply(struct dp_worker *w, const uint8_t a[16], const struct rte_ether_addr *mac)
{
	const struct dp_config *cfg = w->cfg;
	struct dp_neigh_news n = {.mac = *mac};
	bool learned = dp_neigh_learn(w, a, mac, true), handed = false;
	uint32_t h = dp_neigh_hash(a), tag = dp_neigh_tag(a);
	unsigned others = 0;

	if (cfg->n_workers < 2 || rte_is_multicast_ether_addr(mac) || rte_is_zero_ether_addr(mac))
		return learned;
	memcpy(n.addr, a, 16);
	/* Only to the workers that have asked for a (learned here or not: this one may know a
	 * from the peer's own request while another one asks); a reply for an address nobody
	 * asked for goes nowhere. A worker that has learned a keeps its tag, so a late copy of
	 * the reply refreshes its entry there as it would with one worker. */
	for (unsigned l = 0; l < RTE_MAX_LCORE && others + 1 < cfg->n_workers; l++) {
		struct dp_worker *to = cfg->by_lcore[l];

		if (to == NULL || to == w)
			continue;
		others++;
		/* The window of cache slots a can sit in there, as dp_neigh_slot looks. */
		for (unsigned k = 0; k < DP_NEIGH_WINDOW; k++)
			if (__atomic_load_n(&to->neigh_asking[(h + k) & (DP_NEIGH - 1)],
				    __ATOMIC_RELAXED) == tag) {
				if (to->neigh_news != NULL &&
					rte_ring_mp_enqueue_elem(to->neigh_news, &n, sizeof(n)) ==
						0)
					handed = true;
				break;
			}
	}
	w->neigh_handed += handed;
	return learned || handed;
}

void dp_neigh_news_take(struct dp_worker *w)
{
	struct dp_neigh_news n[16];
	unsigned k;

	/* At most a ring's worth per pass. */
	for (unsigned taken = 0;
		taken < DP_NEIGH_NEWS_SLOTS &&
		(k = rte_ring_sc_dequeue_burst_elem(w->neigh_news, n, sizeof(n[0]), 16, NULL)) > 0;
		taken += k)
		for (unsigned i = 0; i < k; i++)
			dp_neigh_learn(w, n[i].addr, &n[i].mac, true);
}

static void dp_neigh_ask4(struct dp_worker *w, const uint8_t a[16])
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;

	if (m == NULL) {
		w->drops[DP_DROP_NO_MBUF]++;
		return;
	}
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	arp = (struct rte_arp_hdr *)(eth + 1);
	memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	eth->src_addr = w->cfg->mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = 6;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	arp->arp_data.arp_sha = w->cfg->mac;
	arp->arp_data.arp_sip = w->cfg->ip4;
	memset(&arp->arp_data.arp_tha, 0, sizeof(arp->arp_data.arp_tha));
	memcpy(&arp->arp_data.arp_tip, a + 12, 4);
	m->data_len = m->pkt_len = (uint32_t)(sizeof(*eth) + sizeof(*arp));
	dp_net_tx(w, m);
}

/* A Neighbor Solicitation for a, to its solicited-node group, with our link-layer address. */
static void dp_neigh_ask6(struct dp_worker *w, const uint8_t a[16])
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip6;
	uint8_t *icmp;
	const uint32_t len = 4 + 4 + 16 + 8;
	uint16_t c;

	if (m == NULL) {
		w->drops[DP_DROP_NO_MBUF]++;
		return;
	}
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	ip6 = (struct rte_ipv6_hdr *)(eth + 1);
	icmp = (uint8_t *)(ip6 + 1);
	eth->dst_addr = (struct rte_ether_addr){{0x33, 0x33, 0xff, a[13], a[14], a[15]}};
	eth->src_addr = w->cfg->mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	memset(ip6, 0, sizeof(*ip6));
	ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip6->payload_len = rte_cpu_to_be_16((uint16_t)len);
	ip6->proto = IPPROTO_ICMPV6;
	ip6->hop_limits = 255;
	memcpy(ip6->src_addr, w->cfg->ip6, 16);
	memcpy(ip6->dst_addr,
		(const uint8_t[16]){0xff,
			0x02, [11] = 0x01, [12] = 0xff, [13] = a[13], [14] = a[14], [15] = a[15]},
		16);
	memset(icmp, 0, len);
	icmp[0] = ND_NS;
	memcpy(icmp + 8, a, 16);
	icmp[24] = ND_OPT_SLLA;
	icmp[25] = 1;
	memcpy(icmp + 26, w->cfg->mac.addr_bytes, 6);
	c = rte_ipv6_udptcp_cksum(ip6, icmp);
	memcpy(icmp + 2, &c, 2);
	m->data_len = m->pkt_len = (uint32_t)(sizeof(*eth) + sizeof(*ip6) + len);
	dp_net_tx(w, m);
}

/* A request for entry n's address; its tag published (kept until the slot holds another
 * address), so that a reply another worker gets comes here. */
static void dp_neigh_ask(struct dp_worker *w, struct dp_neigh *n, bool v6)
{
	const uint8_t *a = n->addr;

	__atomic_store_n(&w->neigh_asking[n - w->neigh], dp_neigh_tag(a), __ATOMIC_RELAXED);
	if (v6)
		dp_neigh_ask6(w, a);
	else
		dp_neigh_ask4(w, a);
}

bool dp_neigh_next_hop(const struct dp_config *cfg, const uint8_t a[16], bool v6, uint8_t nh[16])
{
	uint32_t a4;

	memcpy(nh, a, 16);
	if (v6) {
		if ((a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || cfg->prefix6 == 0 ||
			dp_same_prefix6(a, cfg->ip6, cfg->prefix6))
			return true;
		if (!cfg->has_gw6)
			return false;
		memcpy(nh, cfg->gw6, 16);
		return true;
	}
	memcpy(&a4, a + 12, 4);
	if (cfg->prefix4 == 0 || dp_same_prefix4(a4, cfg->ip4, cfg->prefix4))
		return true;
	if (cfg->gw4 == 0)
		return false;
	memcpy(nh + 12, &cfg->gw4, 4);
	return true;
}

const struct rte_ether_addr *dp_neigh_resolve(struct dp_worker *w, const uint8_t a[16], bool v6)
{
	struct dp_neigh *n = dp_neigh_slot(w, a, true);
	uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();
	uint64_t reachable = (uint64_t)w->cfg->neigh_reachable_s * hz;

	if (n->state == DP_NEIGH_KNOWN) {
		if (reachable == 0 || now - n->confirmed_tsc < reachable)
			return &n->mac;
		if (now - n->confirmed_tsc < reachable + 3 * hz) {
			/* Stale: still used, asked again once a second until it answers. */
			if (now - n->asked_tsc > hz) {
				n->asked_tsc = now;
				w->neigh_probes++;
				dp_neigh_ask(w, n, v6);
			}
			return &n->mac;
		}
		n->state = DP_NEIGH_ASKED; /* three probes unanswered: unknown again */
		n->asked_tsc = 0;
	}
	if (n->state == DP_NEIGH_FREE || now - n->asked_tsc > hz / 10) {
		n->state = DP_NEIGH_ASKED;
		n->asked_tsc = now;
		dp_neigh_ask(w, n, v6);
	}
	return NULL;
}
