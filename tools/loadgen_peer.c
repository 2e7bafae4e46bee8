/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * superpeer-loadgen, per packet: frames from the data plane to the simulated peers (ARP for
 * their addresses answered in place), the burst's ESP packets opened in one esp_open_burst,
 * every datagram decoded by the PPSPP codec and applied to its peer's channel; then, once
 * per burst, one datagram per peer that has something to say (ACKs, REQUESTs), sealed in
 * one esp_seal_burst. loadgen.h says what is checked and what is skipped.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "loadgen.h"

#define LG_COUNTER_NAME(e, name, text) name,
const char *const lg_counter_names[LG_C_COUNT] = {LG_COUNTERS(LG_COUNTER_NAME)};
#undef LG_COUNTER_NAME

/* ---- transmit --------------------------------------------------------------------------- */

void lg_tx_queue(struct lg *g, struct rte_mbuf *m)
{
	if (g->n_tx == LG_TX_MAX) {
		/* The port has taken nothing for a whole array: it is gone or wedged. */
		g->count[LG_C_TX_FULL]++;
		rte_pktmbuf_free(m);
		return;
	}
	g->tx[g->n_tx++] = m;
}

/* What the port takes now; the rest waits for the next pass (REQUESTs are not dropped). */
static void lg_tx_flush(struct lg *g)
{
	unsigned sent = 0;

	for (unsigned tries = 0; sent < g->n_tx && tries < 4; tries++)
		sent += rte_eth_tx_burst(
			g->port_id, g->queue, g->tx + sent, (uint16_t)(g->n_tx - sent));
	g->tx_pkts += sent;
	if (sent > 0 && sent < g->n_tx)
		memmove(g->tx, g->tx + sent, (g->n_tx - sent) * sizeof(g->tx[0]));
	g->n_tx -= sent;
}

/* Ethernet, IPv4 and UDP in front of len bytes of UDP payload, from peer p. */
static void lg_headers(
	struct lg *g, struct rte_mbuf *m, const struct lg_peer *p, uint16_t dport, uint32_t len)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);

	eth->dst_addr = g->dst_mac;
	eth->src_addr = g->mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = p->ip;
	ip->dst_addr = g->dst_ip;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*u) + len));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	/* UDP checksum 0: allowed over IPv4, and what RFC 3948 says for ESP in UDP. */
	u->src_port = rte_cpu_to_be_16(p->port);
	u->dst_port = rte_cpu_to_be_16(dport);
	u->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*u) + len));
	u->dgram_cksum = 0;
	m->data_len = (uint16_t)(LG_HDRS + len);
	m->pkt_len = m->data_len;
}

static void lg_seal_flush(struct lg *g)
{
	unsigned n = g->n_seal;

	g->n_seal = 0;
	if (n == 0)
		return;
	esp_seal_burst(&g->eng, g->seal, n, g->now_s);
	for (unsigned i = 0; i < n; i++) {
		if (g->seal[i].reason != ESP_DROP_NONE) {
			g->count[LG_C_SEAL]++;
			rte_pktmbuf_free(g->seal_meta[i].m);
			continue;
		}
		lg_headers(
			g, g->seal_meta[i].m, g->seal_meta[i].p, g->esp_port, g->seal[i].out_len);
		lg_tx_queue(g, g->seal_meta[i].m);
	}
}

void lg_flush(struct lg *g)
{
	lg_seal_flush(g);
	if (g->n_tx > 0)
		lg_tx_flush(g);
}

/* A fresh frame for a datagram from a peer: *d is where the PPSPP datagram goes. */
struct rte_mbuf *lg_dgram_begin(struct lg *g, uint8_t **d)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(g->tx_pool);

	if (m == NULL) {
		g->count[LG_C_NO_MBUF]++;
		return NULL;
	}
	*d = rte_pktmbuf_mtod_offset(m, uint8_t *, LG_HDRS);
	if (g->sa_out != NULL)
		*d += ESP_PREFIX_LEN + sizeof(struct rte_udp_hdr);
	return m;
}

/* n bytes of datagram written: plain, it is queued; through ESP, it joins the seal batch. */
void lg_dgram_send(struct lg *g, const struct lg_peer *p, struct rte_mbuf *m, int n)
{
	uint8_t *esp = rte_pktmbuf_mtod_offset(m, uint8_t *, LG_HDRS);
	struct rte_udp_hdr *in = (struct rte_udp_hdr *)(esp + ESP_PREFIX_LEN);

	if (n <= 0) {
		rte_pktmbuf_free(m);
		return;
	}
	if (g->sa_out == NULL) {
		lg_headers(g, m, p, g->udp_port, (uint32_t)n);
		lg_tx_queue(g, m);
		return;
	}
	/* Transport mode, as superpeer fetch sends: inner UDP (checksum 0, the ICV covers it)
	 * and the datagram, sealed in place. */
	in->src_port = rte_cpu_to_be_16(p->port);
	in->dst_port = rte_cpu_to_be_16(g->udp_port);
	in->dgram_len = rte_cpu_to_be_16((uint16_t)(n + sizeof(*in)));
	in->dgram_cksum = 0;
	if (g->n_seal == LG_SEAL_MAX)
		lg_seal_flush(g);
	g->seal[g->n_seal] = (struct esp_seal_pkt){
		.sa = p->sa_out != NULL ? p->sa_out : g->sa_out,
		.src = (const uint8_t *)in,
		.out = esp,
		.len = (uint32_t)n + (uint32_t)sizeof(*in),
		.out_cap = (uint32_t)rte_pktmbuf_tailroom(m) - LG_HDRS,
		.next_hdr = ESP_NH_UDP,
	};
	g->seal_meta[g->n_seal++] = (struct lg_seal){.m = m, .p = p};
}

/* ---- one peer's channel ------------------------------------------------------------------ */

void lg_channel_new(struct lg *g, struct lg_peer *p)
{
	struct ppspp_builder b;
	struct rte_mbuf *m;
	uint8_t *d;
	int rc;

	do
		p->local_id = ++g->next_id;
	while (p->local_id == 0);
	p->state = LG_PEER_HS_SENT;
	p->peer_id = 0;
	p->choked = false;
	p->next_req = p->expect = p->inflight = 0;
	p->n_acks = p->n_rereq = 0;
	p->last_hs_tsc = g->now_tsc;
	p->last_data_tsc = g->now_tsc;
	g->channels++;
	m = lg_dgram_begin(g, &d);
	if (m == NULL)
		return;
	/* What ppspp_leecher_handshake sends, without a leecher's Merkle state behind it. */
	rc = ppspp_builder_init(&b, &g->ctx, d, LG_DGRAM_CAP, PPSPP_CHANNEL_INITIAL);
	if (rc == 0)
		rc = ppspp_builder_handshake_begin(&b, p->local_id);
	if (rc == 0)
		rc = ppspp_builder_append_opt_version(&b, PPSPP_VERSION_1);
	if (rc == 0)
		rc = ppspp_builder_append_opt_min_version(&b, PPSPP_VERSION_1);
	if (rc == 0)
		rc = ppspp_builder_append_opt_swarm_id(&b, g->swarm_id, g->swarm_id_len);
	if (rc == 0)
		rc = ppspp_builder_append_opt_cipm(&b, PPSPP_CIPM_MERKLE);
	if (rc == 0)
		rc = ppspp_builder_append_opt_mhf(
			&b, g->swarm_id_len == HASH_SHA1_LEN ? PPSPP_MHF_SHA1 : PPSPP_MHF_SHA256);
	if (rc == 0)
		rc = ppspp_builder_append_opt_cam(&b, PPSPP_CAM_CHUNK32);
	if (rc == 0)
		rc = ppspp_builder_append_opt_chunk_size(&b, g->chunk_size);
	if (rc == 0)
		rc = ppspp_builder_handshake_end(&b);
	lg_dgram_send(g, p, m, rc == 0 ? ppspp_builder_finish(&b) : -1);
}

/* Chunks a channel asks for: the swarm, or its first --hold chunks. */
static uint64_t lg_quota(const struct lg *g)
{
	return g->hold != 0 && g->hold < g->n_chunks ? g->hold : g->n_chunks;
}

/*
 * The peer's datagram: its ACKs, what it asks for again, and a REQUEST that fills the window
 * again once half of it has arrived. Nothing is sent when there is nothing to say.
 */
static void lg_peer_output(struct lg *g, struct lg_peer *p)
{
	struct ppspp_builder b;
	struct rte_mbuf *m;
	uint8_t *d;
	int rc, len;

	p->touched = false;
	if (p->state != LG_PEER_OPEN)
		return;
	m = lg_dgram_begin(g, &d);
	if (m == NULL)
		return;
	rc = ppspp_builder_init(&b, &g->ctx, d, LG_DGRAM_CAP, p->peer_id);
	for (unsigned i = 0; rc == 0 && i < p->n_acks; i++) {
		uint64_t delay = g->now_us > p->ack_ts[i] ? g->now_us - p->ack_ts[i] : 0;

		rc = ppspp_builder_append_ack(&b, p->acks[i], delay);
	}
	p->n_acks = 0;
	for (unsigned i = 0; rc == 0 && i < p->n_rereq; i++)
		rc = ppspp_builder_append_request(&b, p->rereq[i]);
	p->n_rereq = 0;
	if (rc == 0 && !p->choked && p->next_req < lg_quota(g) &&
		p->inflight + g->window / 2 <= g->window) {
		uint64_t want = g->window - p->inflight;

		if (want > lg_quota(g) - p->next_req)
			want = lg_quota(g) - p->next_req;
		rc = ppspp_builder_append_request(
			&b, (struct ppspp_range){p->next_req, p->next_req + want - 1});
		if (rc == 0) {
			p->next_req += want;
			p->inflight += want;
		}
	}
	len = rc == 0 ? ppspp_builder_finish(&b) : -1;
	lg_dgram_send(g, p, m, len > PPSPP_CHANNEL_LEN ? len : -1);
}

/* The channel ID alone (RFC 7574 3.7): a holding peer keeps its channel from timing out. */
static void lg_peer_keepalive(struct lg *g, struct lg_peer *p)
{
	struct ppspp_builder b;
	struct rte_mbuf *m;
	uint8_t *d;

	m = lg_dgram_begin(g, &d);
	if (m == NULL)
		return;
	lg_dgram_send(g, p, m,
		ppspp_builder_init(&b, &g->ctx, d, LG_DGRAM_CAP, p->peer_id) == 0
			? ppspp_builder_finish(&b)
			: -1);
}

static void lg_touch(struct lg *g, struct lg_peer *p)
{
	if (p->touched)
		return;
	if (g->n_touched == sizeof(g->touched) / sizeof(g->touched[0])) {
		lg_peer_output(g, p); /* no room on the list: it speaks now */
		return;
	}
	p->touched = true;
	g->touched[g->n_touched++] = p;
}

/* A DATA for chunk c on p's open channel. */
static void lg_data(struct lg *g, struct lg_peer *p, uint64_t c, uint64_t ts, size_t len)
{
	g->chunks++;
	g->chunk_bytes += len;
	p->chunks++;
	p->last_data_tsc = p->last_progress_tsc = g->now_tsc;
	if (p->inflight > 0)
		p->inflight--;
	if (c >= p->expect) {
		/*
		 * The seeder serves a channel's requests in order: chunks skipped were lost on
		 * the way (its transmit queue was full). Asked for again, as a leecher would;
		 * the seeder takes that as a loss (LEDBAT halves its window) and sends full
		 * uncle paths again. Without room to ask, they are given up.
		 */
		if (c > p->expect) {
			g->count[LG_C_LOST] += c - p->expect;
			if (p->n_rereq < LG_REREQ)
				p->rereq[p->n_rereq++] = (struct ppspp_range){p->expect, c - 1};
			else
				p->inflight -=
					p->inflight > c - p->expect ? c - p->expect : p->inflight;
		}
		p->expect = c + 1;
	}
	if (p->n_acks > 0 && p->acks[p->n_acks - 1].end + 1 == c) {
		p->acks[p->n_acks - 1].end = c;
		p->ack_ts[p->n_acks - 1] = ts;
	} else {
		if (p->n_acks == LG_ACKS)
			lg_peer_output(g, p);
		p->acks[p->n_acks] = (struct ppspp_range){c, c};
		p->ack_ts[p->n_acks++] = ts;
	}
	lg_touch(g, p);
}

/* One PPSPP datagram to p (opened already when it came through ESP). */
static void lg_dgram_input(struct lg *g, struct lg_peer *p, const uint8_t *d, size_t len)
{
	struct ppspp_msg msgs[LG_MSGS_MAX];
	struct ppspp_decode_result res;
	int n;

	if (g->store != NULL) {
		lg_seed_input(g, p, d, len);
		return;
	}
	n = ppspp_datagram_decode(&g->ctx, d, len, msgs, LG_MSGS_MAX, &res);
	if (n < 0) {
		g->count[LG_C_PPSPP_BAD]++;
		return;
	}
	if (p->state == LG_PEER_IDLE || res.dest_channel != p->local_id) {
		g->count[LG_C_STALE]++;
		return;
	}
	for (int i = 0; i < n; i++) {
		const struct ppspp_msg *msg = &msgs[i];
		const struct ppspp_handshake *hs = &msg->u.handshake;

		switch (msg->type) {
		case PPSPP_MSG_HANDSHAKE:
			if (hs->src_channel == PPSPP_CHANNEL_CLOSE) {
				p->state = LG_PEER_IDLE; /* the tick opens another */
				return;
			}
			if (p->state != LG_PEER_HS_SENT)
				break;
			if (!ppspp_handshake_has(hs, PPSPP_OPT_SWARM_ID) ||
				hs->swarm_id_len != g->swarm_id_len ||
				memcmp(hs->swarm_id, g->swarm_id, g->swarm_id_len) != 0) {
				g->count[LG_C_BAD_HANDSHAKE]++;
				return;
			}
			p->peer_id = hs->src_channel;
			p->state = LG_PEER_OPEN;
			lg_touch(g, p); /* the first REQUEST */
			break;
		case PPSPP_MSG_HAVE:
			/* The seeder announces all it has with its handshake: the swarm's size. */
			if (g->n_chunks == 0)
				g->n_chunks = msg->u.range.end + 1;
			break;
		case PPSPP_MSG_DATA:
			if (p->state == LG_PEER_OPEN)
				lg_data(g, p, msg->u.data.range.start, msg->u.data.timestamp,
					msg->u.data.payload_len);
			break;
		case PPSPP_MSG_CHOKE:
			p->choked = true;
			break;
		case PPSPP_MSG_UNCHOKE:
			/* A choke dropped the seeder's queue: what was in flight is asked again. */
			if (p->choked) {
				p->choked = false;
				p->next_req = p->expect;
				p->inflight = 0;
				lg_touch(g, p);
			}
			break;
		default:
			break; /* INTEGRITY (not verified: loadgen.h), ACK, PEX... */
		}
	}
}

/* What p asks for and has, arrived or given up (--hold: its chunks are in, it idles). */
static bool lg_peer_done(const struct lg *g, const struct lg_peer *p)
{
	return p->state == LG_PEER_OPEN && g->n_chunks != 0 && p->next_req >= lg_quota(g) &&
	       p->inflight == 0 && p->n_rereq == 0;
}

uint32_t lg_holding(const struct lg *g, uint32_t *open)
{
	uint32_t n = 0;

	*open = 0;
	for (uint32_t i = 0; i < g->n_peers; i++) {
		*open += g->peers[i].state == LG_PEER_OPEN;
		n += lg_peer_done(g, &g->peers[i]);
	}
	return n;
}

/* The whole swarm was asked for on p's channel and has arrived: time for a new channel. */
static bool lg_peer_complete(const struct lg *g, const struct lg_peer *p)
{
	return g->hold == 0 && lg_peer_done(g, p);
}

/* ---- receive ----------------------------------------------------------------------------- */

/* The peer whose address (network order) this is, or NULL. */
static struct lg_peer *lg_peer_of(struct lg *g, uint32_t ip)
{
	uint32_t i = rte_be_to_cpu_32(ip) - g->base_ip;

	return i < g->n_peers ? &g->peers[i] : NULL;
}

/* An ARP request for one of our peers' addresses, answered in place (true: m is used). */
static bool lg_arp_input(struct lg *g, struct rte_mbuf *m, struct rte_ether_hdr *eth)
{
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);

	if (rte_pktmbuf_data_len(m) < sizeof(*eth) + sizeof(*a) ||
		a->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
		lg_peer_of(g, a->arp_data.arp_tip) == NULL)
		return false;
	a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	a->arp_data.arp_tha = a->arp_data.arp_sha;
	a->arp_data.arp_sha = g->mac;
	{
		uint32_t tip = a->arp_data.arp_tip;

		a->arp_data.arp_tip = a->arp_data.arp_sip;
		a->arp_data.arp_sip = tip;
	}
	eth->dst_addr = a->arp_data.arp_tha;
	eth->src_addr = g->mac;
	m->data_len = m->pkt_len = (uint32_t)(sizeof(*eth) + sizeof(*a));
	lg_tx_queue(g, m);
	return true;
}

/* The burst's ESP packets opened in one call, then on to their peers. */
static void lg_open_flush(struct lg *g)
{
	unsigned n = g->n_open;

	g->n_open = 0;
	if (n == 0)
		return;
	esp_open_burst(&g->eng, g->open, n, g->now_s);
	for (unsigned i = 0; i < n; i++) {
		const struct esp_open_pkt *o = &g->open[i];
		const struct rte_udp_hdr *in =
			(const struct rte_udp_hdr *)(o->data + ESP_PREFIX_LEN);

		if (o->reason != ESP_DROP_NONE) {
			g->esp_drops[o->reason]++;
			g->count[LG_C_ESP]++;
			continue;
		}
		if (o->next_hdr != ESP_NH_UDP || o->payload_len < sizeof(*in) ||
			rte_be_to_cpu_16(in->dgram_len) != o->payload_len ||
			rte_be_to_cpu_16(in->dst_port) != g->open_meta[i].p->port) {
			g->count[LG_C_INNER_BAD]++;
			continue;
		}
		lg_dgram_input(g, g->open_meta[i].p, (const uint8_t *)(in + 1),
			o->payload_len - sizeof(*in));
	}
}

/* One frame: true when it was used (an ARP reply), else the caller frees it. */
static bool lg_frame_input(struct lg *g, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);
	uint32_t len = rte_pktmbuf_data_len(m), plen;
	struct esp_sa *sa;
	struct lg_peer *p;
	uint8_t *pay;

	if (m->nb_segs != 1) {
		g->count[LG_C_MULTISEG]++;
		return false;
	}
	if (len >= sizeof(*eth) && eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP))
		return lg_arp_input(g, m, eth);
	if (len < LG_HDRS || eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
		ip->version_ihl != RTE_IPV4_VHL_DEF || ip->next_proto_id != IPPROTO_UDP ||
		ip->src_addr != g->dst_ip || (p = lg_peer_of(g, ip->dst_addr)) == NULL ||
		rte_be_to_cpu_16(u->dst_port) != p->port) {
		g->count[LG_C_NOT_OURS]++;
		return false;
	}
	plen = rte_be_to_cpu_16(u->dgram_len);
	if (plen < sizeof(*u) || plen > len - LG_HDRS + sizeof(*u)) {
		g->count[LG_C_NOT_OURS]++;
		return false;
	}
	plen -= (uint32_t)sizeof(*u);
	pay = (uint8_t *)(u + 1);
	if (g->sa_in == NULL) {
		if (rte_be_to_cpu_16(u->src_port) != g->udp_port) {
			g->count[LG_C_NOT_OURS]++;
			return false;
		}
		lg_dgram_input(g, p, pay, plen);
		return false;
	}
	if (rte_be_to_cpu_16(u->src_port) != g->esp_port ||
		esp_udp_classify(pay, plen) != ESP_DROP_NONE) {
		g->count[LG_C_NOT_OURS]++;
		return false;
	}
	/* The data plane's outbound SA for this peer is our inbound one: one pair for every
	 * peer, or each peer its own (--sa-per-peer). Another SPI is refused (bad_spi). */
	sa = p->sa_in != NULL ? p->sa_in : g->sa_in;
	g->open[g->n_open] = (struct esp_open_pkt){
		.sa = memcmp(pay, sa->spi_be, sizeof(sa->spi_be)) == 0 ? sa : NULL,
		.data = pay,
		.len = plen};
	g->open_meta[g->n_open++] = (struct lg_open){.p = p};
	return false;
}

void lg_rx_burst(struct lg *g, struct rte_mbuf **pkts, unsigned n)
{
	struct rte_mbuf *done[LG_BURST];
	unsigned n_done = 0;

	g->rx_pkts += n;
	for (unsigned i = 0; i < n; i++)
		if (!lg_frame_input(g, pkts[i]))
			done[n_done++] = pkts[i];
	lg_open_flush(g);
	/* The datagrams pointed into these frames; nothing refers to them any more. */
	rte_pktmbuf_free_bulk(done, n_done);
	for (unsigned i = 0; i < g->n_touched; i++) {
		struct lg_peer *p = g->touched[i];

		if (!p->touched)
			continue;
		lg_peer_output(g, p);
		if (lg_peer_complete(g, p))
			lg_channel_new(g, p); /* the whole swarm arrived: again, on a new channel */
	}
	g->n_touched = 0;
	if (g->seed_due)
		lg_seed_output(g);
	lg_flush(g);
}

/* ---- timers ------------------------------------------------------------------------------ */

/*
 * Nothing arrived for a while with chunks asked for: the last ones were lost, and no later
 * chunk showed the gap. What is in flight is asked for again (what fetch does); after `stall`
 * without DATA the channel is given up and a new one opened.
 */
static void lg_peer_reask(struct lg *g, struct lg_peer *p, uint64_t stall)
{
	uint64_t since =
		p->last_progress_tsc > p->last_hs_tsc ? p->last_progress_tsc : p->last_hs_tsc;

	if (g->now_tsc - since > stall) {
		g->count[LG_C_STALLS]++;
		lg_channel_new(g, p);
		return;
	}
	g->count[LG_C_REASKS]++;
	p->n_rereq = 0;
	p->inflight = 0;
	if (p->expect < p->next_req) {
		p->rereq[p->n_rereq++] = (struct ppspp_range){p->expect, p->next_req - 1};
		p->inflight = p->next_req - p->expect;
	}
	p->last_data_tsc = g->now_tsc; /* the next re-ask only after as long again */
	lg_peer_output(g, p);
}

/* A peer's timers, each time the timer pass comes to it (every 10 ms). */
static void lg_peer_timers(struct lg *g, struct lg_peer *p)
{
	/* Re-asked after 300 ms without DATA, as superpeer fetch and the data plane's ingest
	 * do: well above LEDBAT's 25 ms target, so queueing alone never looks like loss. */
	const uint64_t hs_wait = g->tsc_hz / 10, reask = g->tsc_hz * 3 / 10, stall = g->tsc_hz;

	switch (p->state) {
	case LG_PEER_IDLE:
		lg_channel_new(g, p);
		break;
	case LG_PEER_HS_SENT:
		if (g->now_tsc - p->last_hs_tsc > hs_wait) {
			g->count[LG_C_HS_RETRIES]++;
			lg_channel_new(g, p);
		}
		break;
	case LG_PEER_OPEN:
		if (g->hold != 0 && lg_peer_done(g, p)) {
			if (p->n_acks > 0)
				lg_peer_output(g, p); /* the last ACKs; then it idles */
			/* Idle, not gone: a keep-alive every 2 s, inside any peer timeout
			 * the data plane may have (180 s by default, 3 s in tests). */
			if (g->now_tsc - p->last_data_tsc > 2 * g->tsc_hz) {
				lg_peer_keepalive(g, p);
				p->last_data_tsc = g->now_tsc;
			}
		} else if (lg_peer_complete(g, p)) {
			lg_channel_new(g, p); /* the whole swarm arrived: again */
		} else if (p->inflight > 0 && !p->choked && g->now_tsc - p->last_data_tsc > reask) {
			lg_peer_reask(g, p, stall);
		} else if (p->n_rereq > 0 || p->n_acks > 0 || (p->inflight == 0 && !p->choked)) {
			lg_peer_output(g, p);
		}
		break;
	}
}

/*
 * The timer pass, every millisecond: the peers owed a visit since the last pass (each peer
 * once per 10 ms), from where the last pass stopped. A visit to every peer at once (8,192
 * handshakes or re-asks in one go) overflowed the port's ring and dropped the loadgen's own
 * frames (docs/performance.md, "Ninth sitting"). When the port takes nothing more, the pass
 * stops where it is; what it still owes is visited by the next ones, in the same order, so
 * no peer is passed over for long.
 */
void lg_tick(struct lg *g)
{
	/* Every peer once per 10 ms of the clock, however few the peers (with fewer than 10,
	 * a tenth each millisecond visited each every few milliseconds): the visits owed grow
	 * with the time since the last pass. */
	const uint64_t period = g->tsc_hz / 100;
	uint64_t owed = (g->now_tsc - g->tick_tsc) * g->n_peers + g->tick_rem;
	uint32_t visits = (g->n_peers + LG_TICK_SLICES - 1) / LG_TICK_SLICES;

	g->tick_tsc = g->now_tsc;
	g->tick_rem = owed % period;
	owed = g->tick_owed + owed / period;
	g->tick_owed = owed > g->n_peers ? g->n_peers : (uint32_t)owed;
	if (g->store != NULL) {
		/* Seeding: the data plane's ingest drives the channel; nothing to time here. */
		if (g->seed_due)
			lg_seed_output(g);
		lg_flush(g);
		return;
	}
	/* A late pass does not catch up at once: a tenth of the peers at most, as on time
	 * (catching up queued a burst of frames the port's ring could not take). */
	while (g->tick_owed > 0 && visits-- > 0) {
		if (g->n_tx + g->n_seal >= LG_TX_MAX / 2) {
			lg_flush(g);
			if (g->n_tx >= LG_TX_MAX / 2) {
				g->count[LG_C_TICK_HELD]++;
				break; /* the port is full: the rest when it has room */
			}
		}
		lg_peer_timers(g, &g->peers[g->tick_cursor]);
		g->tick_cursor = g->tick_cursor + 1 == g->n_peers ? 0 : g->tick_cursor + 1;
		g->tick_owed--;
	}
	lg_flush(g);
}
