/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per packet: PPSPP datagrams to and from peers, plain (UDP to udp_port), ESP in UDP (RFC
 * 3948, to esp_port) or raw ESP (IP protocol 50). Inbound: the SA by SPI, opened in place,
 * the inner UDP checked; the peer's channel found or opened (a handshake picks the swarm by
 * its ID); the datagram to the seeder. Outbound: every datagram the channel has to send, built
 * in a fresh mbuf and, for ESP peers, sealed under the outbound SA for that peer.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>
#include <rte_udp.h>

#include "dp.h"

/* A seeder channel the peer closed (its slot free again); an ingest source's entry keeps
 * other bytes there (the union in struct dp_peer) and is never one. */
static bool dp_peer_closed(const struct dp_peer *p)
{
	return p->role == DP_ROLE_SEEDER && p->ch.state == SEEDER_ST_CLOSED;
}

/* The peer's slot: found, or a free one claimed (channel not yet bound); NULL when full. */
struct dp_peer *dp_peer_get(struct dp_worker *w, const uint8_t addr[16], bool v6, uint16_t port,
	uint16_t encap_port, enum dp_mode mode, bool *fresh)
{
	uint32_t h = (port * 40503u) ^ (encap_port * 2246822519u) ^ (uint32_t)mode, tag;
	uint32_t *tags = w->peer_tags;
	struct dp_peer *free_slot = NULL;
	unsigned free_i = 0;

	for (unsigned i = 0; i < 16; i += 4) {
		uint32_t x;

		memcpy(&x, addr + i, 4);
		h = (h ^ x) * 2654435761u;
	}
	/* The low bits of a product see only the low bits of its factors: without this mix the
	 * home slot ignored an IPv4 address's last two octets (one /16 on one port: one home). */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	tag = ((h >> 16) | (h << 16)) * 2246822519u | 1u; /* odd: never a free slot's 0 */
	*fresh = false;
	/* The peer, by tag first: 256 slots of tags are sixteen cache lines read in order; the
	 * peer itself is fourteen. */
	for (unsigned k = 0; k < DP_PEER_PROBES; k++) {
		unsigned i = (h + k) & w->peers_mask;
		struct dp_peer *p = &w->peers[i];

		if (tags[i] == tag && p->used && !dp_peer_closed(p) && p->port == port &&
			p->encap_port == encap_port && p->mode == mode &&
			memcmp(p->addr, addr, 16) == 0)
			return p;
		if (tags[i] == 0 && free_slot == NULL) {
			free_slot = p;
			free_i = i;
		}
	}
	/* No free tag in reach: a slot whose peer has gone since (its tag not yet cleared). */
	for (unsigned k = 0; free_slot == NULL && k < DP_PEER_PROBES; k++) {
		unsigned i = (h + k) & w->peers_mask;
		struct dp_peer *p = &w->peers[i];

		if (!p->used || dp_peer_closed(p)) {
			free_slot = p;
			free_i = i;
		}
	}
	if (free_slot != NULL) {
		tags[free_i] = tag;
		free_slot->used = true;
		memcpy(free_slot->addr, addr, 16);
		free_slot->v6 = v6;
		free_slot->port = port;
		free_slot->encap_port = encap_port;
		free_slot->mode = (uint8_t)mode;
		*fresh = true;
	}
	return free_slot;
}

/* Bytes of Ethernet + IP (+ outer UDP for plain and ESP in UDP) before the payload. */
static uint32_t dp_reply_hdrs_len(const struct dp_peer *p)
{
	return (uint32_t)(sizeof(struct rte_ether_hdr) +
			  (p->v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr)) +
			  (p->mode == DP_MODE_ESP_RAW ? 0 : sizeof(struct rte_udp_hdr)));
}

/* Ethernet and IP headers towards the peer for protocol proto; returns the L4 start. */
static uint8_t *dp_reply_headers(
	struct dp_worker *w, struct rte_mbuf *m, const struct dp_peer *p, uint8_t proto)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	eth->dst_addr = p->mac;
	eth->src_addr = w->cfg->mac;
	if (p->v6) {
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(eth + 1);

		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
		memset(ip6, 0, sizeof(*ip6));
		ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip6->proto = proto;
		ip6->hop_limits = 64;
		memcpy(ip6->src_addr, w->cfg->ip6, 16);
		memcpy(ip6->dst_addr, p->addr, 16);
		return (uint8_t *)(ip6 + 1);
	}
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);

	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = w->cfg->ip4;
	memcpy(&ip->dst_addr, p->addr + 12, 4);
	return (uint8_t *)(ip + 1);
}

/*
 * UDP checksum of a datagram between us and the peer (IPv6: mandatory; IPv4: computed too).
 * Its last tail_len bytes (a chunk: not read, and maybe not in the packet yet) have the
 * ones'-complement sum tail_sum; the bytes before them are summed here.
 */
static uint16_t dp_udp_cksum_tail(const struct dp_worker *w, const struct dp_peer *p,
	const struct rte_udp_hdr *udp, uint32_t tail_len, uint16_t tail_sum)
{
	uint32_t head = rte_be_to_cpu_16(udp->dgram_len) - tail_len, sum;
	uint16_t c;

	if (p->v6) {
		struct rte_ipv6_hdr ph = {.payload_len = udp->dgram_len, .proto = IPPROTO_UDP};

		memcpy(ph.src_addr, w->cfg->ip6, 16);
		memcpy(ph.dst_addr, p->addr, 16);
		sum = rte_ipv6_phdr_cksum(&ph, 0);
	} else {
		struct rte_ipv4_hdr ph = {.version_ihl = RTE_IPV4_VHL_DEF,
			.next_proto_id = IPPROTO_UDP,
			.src_addr = w->cfg->ip4,
			.total_length = rte_cpu_to_be_16(
				(uint16_t)(rte_be_to_cpu_16(udp->dgram_len) + 20))};

		memcpy(&ph.dst_addr, p->addr + 12, 4);
		sum = rte_ipv4_phdr_cksum(&ph, 0);
	}
	sum += rte_raw_cksum(udp, head);
	/* A tail that starts at an odd offset has its bytes in the other half of each word. */
	if (tail_len > 0)
		sum += (head & 1) ? rte_bswap16(tail_sum) : tail_sum;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	c = (uint16_t)~sum;
	return c == 0 ? 0xffff : c; /* RFC 768: a computed 0 is sent as all ones */
}

static uint16_t dp_udp_cksum(
	const struct dp_worker *w, const struct dp_peer *p, const struct rte_udp_hdr *udp)
{
	return dp_udp_cksum_tail(w, p, udp, 0, 0);
}

/*
 * The ones'-complement sum of the chunk the peer's last datagram carries, computed the first
 * time any worker serves that chunk and kept in the store.
 */
static uint16_t dp_chunk_sum(const struct dp_peer *p)
{
	const struct seeder_channel *ch = &p->ch;
	uint32_t *slot = &ch->store->sums[ch->data_chunk];
	uint32_t v = __atomic_load_n(slot, __ATOMIC_RELAXED);

	if (v == 0) {
		v = 0x10000u | rte_raw_cksum(ch->data, ch->data_len);
		__atomic_store_n(slot, v, __ATOMIC_RELAXED);
	}
	return (uint16_t)v;
}

static void dp_udp_hdr(struct rte_udp_hdr *u, uint16_t sport, uint16_t dport, uint32_t len)
{
	u->src_port = rte_cpu_to_be_16(sport);
	u->dst_port = rte_cpu_to_be_16(dport);
	u->dgram_len = rte_cpu_to_be_16((uint16_t)len);
	u->dgram_cksum = 0;
}

/* IP lengths and checksum once the L4 part is l4 bytes. */
static void dp_reply_finish(struct rte_mbuf *m, const struct dp_peer *p, uint32_t l4)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	if (p->v6) {
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(eth + 1);

		ip6->payload_len = rte_cpu_to_be_16((uint16_t)l4);
		m->data_len = (uint16_t)(sizeof(*eth) + sizeof(*ip6) + l4);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);

		ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4));
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		m->data_len = (uint16_t)(sizeof(*eth) + sizeof(*ip) + l4);
	}
	m->pkt_len = m->data_len;
}

/* The outbound SA for an ESP peer, claimed for this worker; NULL (counted) when none. */
struct dp_sa *dp_dgram_sa(struct dp_worker *w, const struct dp_peer *p)
{
	struct dp_sa *sa = sa_table_out(w->cfg->sas, p->addr, p->encap_port);

	if (sa == NULL) {
		w->drops[DP_DROP_NO_OUT_SA]++;
		return NULL;
	}
	if (!dp_sa_claim(sa, (uint16_t)w->lcore)) {
		w->drops[DP_DROP_SA_OWNER]++;
		return NULL;
	}
	return sa;
}

struct rte_mbuf *dp_dgram_begin(
	struct dp_worker *w, const struct dp_peer *p, bool esp, uint8_t **d, uint32_t *cap)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
	uint32_t room, hdrs = dp_reply_hdrs_len(p);
	uint8_t *l4p;

	if (m == NULL) {
		w->drops[DP_DROP_NO_MBUF]++;
		return NULL;
	}
	room = rte_pktmbuf_tailroom(m);
	if (room > (uint32_t)w->cfg->mtu + sizeof(struct rte_ether_hdr))
		room = (uint32_t)w->cfg->mtu + sizeof(struct rte_ether_hdr);
	l4p = dp_reply_headers(w, m, p, p->mode == DP_MODE_ESP_RAW ? IPPROTO_ESP : IPPROTO_UDP);
	*d = l4p + (p->mode == DP_MODE_ESP_RAW ? 0 : sizeof(struct rte_udp_hdr));
	*cap = room - hdrs;
	if (esp) {
		/* ESP header + IV, inner UDP header, then the datagram; room for the trailer
		 * (pad <= 3, pad length, next header) and the ICV. */
		*d += ESP_PREFIX_LEN + sizeof(struct rte_udp_hdr);
		*cap -= ESP_OVERHEAD + sizeof(struct rte_udp_hdr) + 3;
	}
	return m;
}

/* Where the L4 header of a packet to p starts, and the payload after it. */
static uint8_t *dp_dgram_l4(struct rte_mbuf *m, const struct dp_peer *p)
{
	return rte_pktmbuf_mtod_offset(m, uint8_t *,
		sizeof(struct rte_ether_hdr) +
			(p->v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr)));
}

/*
 * An ESP peer's datagram of n bytes, ready to seal: the inner UDP header (udp_port -> the
 * peer's port) and the seal descriptor s. Its last ext bytes are the chunk of the peer's
 * channel's DATA (p->ch.data), not in the packet: encrypted from the store into place.
 */
static void dp_dgram_seal_prepare(struct dp_worker *w, const struct dp_peer *p, struct dp_sa *sa,
	struct rte_mbuf *m, uint32_t n, struct esp_seal_pkt *s, uint32_t ext)
{
	const struct dp_config *cfg = w->cfg;
	uint8_t *l4p = dp_dgram_l4(m, p);
	uint8_t *pay = l4p + (p->mode == DP_MODE_ESP_RAW ? 0 : sizeof(struct rte_udp_hdr));
	struct rte_udp_hdr *in = (struct rte_udp_hdr *)(pay + ESP_PREFIX_LEN);
	uint32_t room = rte_pktmbuf_tailroom(m), max = (uint32_t)cfg->mtu + RTE_ETHER_HDR_LEN;

	*s = (struct esp_seal_pkt){
		.sa = &sa->esp,
		.src = (const uint8_t *)in,
		.out = pay,
		.len = n - ext + (uint32_t)sizeof(*in),
		.ext = ext > 0 ? p->ch.data : NULL,
		.ext_len = ext,
		.out_cap = (room > max ? max : room) - dp_reply_hdrs_len(p),
		.next_hdr = ESP_NH_UDP,
	};
	dp_udp_hdr(in, cfg->udp_port, p->port, n + (uint32_t)sizeof(*in));
	if (p->v6)
		in->dgram_cksum = dp_udp_cksum_tail(w, p, in, ext, ext > 0 ? dp_chunk_sum(p) : 0);
}

/*
 * The outer headers of a packet whose L4 payload (a datagram, or the sealed ESP packet) is n
 * bytes, then queued. ESP in UDP goes esp_port -> the peer's encap port with checksum 0 on
 * IPv4 (RFC 3948 2.1), as Linux sends it. A plain datagram's last tail_len bytes are a chunk
 * whose sum is tail_sum (see dp_udp_cksum_tail).
 */
static void dp_dgram_send_tail(struct dp_worker *w, const struct dp_peer *p, struct rte_mbuf *m,
	uint32_t n, uint32_t tail_len, uint16_t tail_sum)
{
	const struct dp_config *cfg = w->cfg;
	uint32_t l4 = n;

	if (p->mode != DP_MODE_ESP_RAW) {
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)dp_dgram_l4(m, p);

		l4 = n + (uint32_t)sizeof(*u);
		if (p->mode == DP_MODE_ESP_UDP) {
			dp_udp_hdr(u, cfg->esp_port, p->encap_port, l4);
			if (p->v6)
				u->dgram_cksum = dp_udp_cksum(w, p, u);
		} else {
			dp_udp_hdr(u, cfg->udp_port, p->port, l4);
			u->dgram_cksum = dp_udp_cksum_tail(w, p, u, tail_len, tail_sum);
		}
	}
	dp_reply_finish(m, p, l4);
	dp_net_tx(w, m);
	((struct dp_peer *)p)->last_tx_s = (uint32_t)dp_now_s;
}

static void dp_dgram_send(
	struct dp_worker *w, const struct dp_peer *p, struct rte_mbuf *m, uint32_t n)
{
	dp_dgram_send_tail(w, p, m, n, 0, 0);
}

/* Seals k prepared packets in one burst and sends those sealed; refusals are counted. */
static void dp_dgram_seal_flush(struct dp_worker *w, const struct dp_peer *p, struct rte_mbuf **ms,
	struct esp_seal_pkt *sp, unsigned k)
{
	if (k == 0)
		return;
	esp_seal_burst(&w->eng, sp, k, dp_now_s);
	for (unsigned i = 0; i < k; i++) {
		if (sp[i].reason != ESP_DROP_NONE) {
			w->esp_drops[sp[i].reason]++;
			w->drops[DP_DROP_ESP]++;
			rte_pktmbuf_free(ms[i]);
			continue;
		}
		dp_dgram_send(w, p, ms[i], sp[i].out_len);
	}
}

void dp_dgram_finish(struct dp_worker *w, const struct dp_peer *p, struct dp_sa *sa,
	struct rte_mbuf *m, uint32_t n)
{
	struct esp_seal_pkt s;

	if (sa == NULL) {
		dp_dgram_send(w, p, m, n);
		return;
	}
	dp_dgram_seal_prepare(w, p, sa, m, n, &s, 0);
	dp_dgram_seal_flush(w, p, &m, &s, 1);
}

enum { DP_SEAL_BURST = 32 };

/*
 * A token bucket of rate bytes/s holding at most 50 ms of it (64 KiB at least): true when
 * need bytes may go now.
 */
static bool dp_rate_ok(
	uint64_t *tokens, uint64_t *refill_us, uint64_t rate, uint64_t now_us, uint32_t need)
{
	uint64_t cap = rate / 20 > 65536 ? rate / 20 : 65536;

	if (rate == 0)
		return true;
	if (*refill_us == 0) {
		*tokens = cap;
		*refill_us = now_us;
	} else if (now_us > *refill_us) {
		uint64_t dt = now_us - *refill_us > 1000000 ? 1000000 : now_us - *refill_us;

		*tokens += dt * rate / 1000000;
		if (*tokens > cap)
			*tokens = cap;
		*refill_us = now_us;
	}
	return *tokens >= need;
}

static void dp_rate_take(uint64_t *tokens, uint64_t rate, uint32_t n)
{
	if (rate != 0)
		*tokens = *tokens > n ? *tokens - n : 0;
}

/* The policy for a peer address (DP_POL_*), 0 when none. */
static uint64_t dp_policy(const struct dp_worker *w, const uint8_t addr[16])
{
	void *d;

	if (w->cfg->policies == NULL || rte_hash_count(w->cfg->policies) == 0 ||
		rte_hash_lookup_data(w->cfg->policies, addr, &d) < 0)
		return 0;
	return (uint64_t)(uintptr_t)d;
}

/* Room under the peer's and the swarm's rate limits for one more chunk's datagram. */
static bool dp_rate_room(struct dp_worker *w, struct dp_peer *p)
{
	const struct dp_config *cfg = w->cfg;
	uint32_t need = cfg->swarms->slot[p->swarm].store.m.chunk_size;

	if (dp_rate_ok(&p->tokens, &p->refill_us, p->rate != 0 ? p->rate : cfg->peer_rate,
		    w->now_us, need) &&
		dp_rate_ok(&w->swarm_tokens[p->swarm], &w->swarm_refill_us[p->swarm],
			cfg->swarm_rate, w->now_us, need))
		return true;
	w->rate_held++;
	if (!p->blocked && w->n_blocked < DP_BLOCKED_MAX) {
		p->blocked = true;
		w->blocked[w->n_blocked++] = p;
	}
	return false;
}

/* Queues p for its turn to send (once: it is on the queue or it is not). */
static void dp_out_queue(struct dp_worker *w, struct dp_peer *p)
{
	if (p->tx_wait || w->tx_wait_n == w->tx_wait_cap)
		return;
	p->tx_wait = true;
	w->tx_wait[(w->tx_wait_head + w->tx_wait_n++) % w->tx_wait_cap] = p;
}

/* Queues p until the ingest of its swarm brings more chunks in (once; a full FIFO leaves it
 * to its next datagram: a waiting leecher sends keep-alives). */
static void dp_avail_wait_push(struct dp_worker *w, struct dp_peer *p)
{
	if (p->avail_wait || w->avail_wait_n == w->avail_wait_cap)
		return;
	p->avail_wait = true;
	w->avail_wait[(w->avail_wait_head + w->avail_wait_n++) % w->avail_wait_cap] = p;
}

static bool dp_tx_room(const struct dp_worker *w, unsigned pending)
{
	return w->n_tx + pending + DP_SEAL_ROOM <= DP_TX_MAX;
}

/*
 * Everything the peer's channel has to send, one datagram per packet, each chunk read once
 * from the store: copied into its packet, or for an ESP peer encrypted from the store into
 * place, DP_SEAL_BURST at a time (one ipsec-mb burst), in order, so sequence numbers follow
 * the send order. Each DP_SEAL_BURST frames go to the port at once: the mbufs it frees come
 * back to the next frames while still in cache (flushed only per rx burst, up to 512 frames
 * and their 9 KB buffers cycled through memory: ~440 cycles more per frame in mbuf set-up and
 * ~230 more in sealing into cold buffers, measured at 1 KiB). Output pauses (the peer queued
 * to resume) when the transmit queue lacks room for another burst: frames are not built to
 * be dropped.
 */
static unsigned dp_ppspp_output(struct dp_worker *w, struct dp_peer *p, unsigned budget)
{
	struct rte_mbuf *ms[DP_SEAL_BURST];
	struct esp_seal_pkt sp[DP_SEAL_BURST];
	struct dp_sa *sa = NULL;
	unsigned k = 0, plain = 0, built = 0;
	uint64_t chunks = p->ch.chunks_sent, bytes = p->ch.bytes_sent, held = p->ch.cc_held;

	if (p->mode != DP_MODE_PLAIN && (sa = dp_dgram_sa(w, p)) == NULL)
		return 0;
	for (;;) {
		uint32_t cap;
		uint8_t *d;
		struct rte_mbuf *m;
		int n;

		if (built == budget) {
			/* The pass's share is spent: the rest at the peer's next turn (a turn with
			 * nothing left to send costs one seeder_output that returns 0). */
			dp_out_queue(w, p);
			break;
		}

		if ((w->cfg->peer_rate != 0 || w->cfg->swarm_rate != 0 || p->rate != 0) &&
			p->ch.n_req > 0 && !dp_rate_room(w, p))
			break;
		if (!dp_tx_room(w, k)) {
			dp_dgram_seal_flush(w, p, ms, sp, k);
			k = 0;
			dp_tx_flush(w);
			if (!dp_tx_room(w, 0)) {
				if (seeder_output_due(&p->ch))
					w->tx_held++;
				dp_out_queue(w, p);
				break;
			}
		}
		m = dp_dgram_begin(w, p, sa != NULL, &d, &cap);
		if (m == NULL)
			break;
		n = seeder_output(&p->ch, d, cap, w->now_us);
		if (n <= 0) {
			rte_pktmbuf_free(m);
			break;
		}
		built++;
		dp_rate_take(&p->tokens, p->rate != 0 ? p->rate : w->cfg->peer_rate, (uint32_t)n);
		dp_rate_take(&w->swarm_tokens[p->swarm], w->cfg->swarm_rate, (uint32_t)n);
		if (sa == NULL) {
			uint32_t cl = p->ch.data_len;

			if (cl > 0) {
				rte_memcpy(d + n - cl, p->ch.data, cl);
				dp_dgram_send_tail(w, p, m, (uint32_t)n, cl, dp_chunk_sum(p));
			} else {
				dp_dgram_send(w, p, m, (uint32_t)n);
			}
			if (++plain == DP_SEAL_BURST) {
				plain = 0;
				dp_tx_flush(w);
			}
			continue;
		}
		dp_dgram_seal_prepare(w, p, sa, m, (uint32_t)n, &sp[k], p->ch.data_len);
		/* The chunk is read from the store when the burst is sealed: its start asked for
		 * now (the hardware prefetcher follows a longer chunk on its own). */
		for (uint32_t off = 0; off < p->ch.data_len && off < 1024;
			off += RTE_CACHE_LINE_SIZE)
			rte_prefetch0(p->ch.data + off);
		ms[k++] = m;
		if (k == DP_SEAL_BURST) {
			dp_dgram_seal_flush(w, p, ms, sp, k);
			k = 0;
			dp_tx_flush(w);
		}
	}
	dp_dgram_seal_flush(w, p, ms, sp, k);
	if (p->ch.starved)
		dp_avail_wait_push(w, p);
	/* Counted here, whichever path (input, rate or transmit resume) sent them. */
	w->chunks_sent += p->ch.chunks_sent - chunks;
	w->swarm_chunks[p->swarm] += p->ch.chunks_sent - chunks;
	w->swarm_bytes[p->swarm] += p->ch.bytes_sent - bytes;
	w->chunk_bytes_sent += p->ch.bytes_sent - bytes;
	w->cc_held += p->ch.cc_held - held;
	return built;
}

void dp_ppspp_resume(struct dp_worker *w)
{
	/* Each turn checks its peer is still a live channel (a handshake's reply may be what
	 * was held) and blocks it again if the bucket is still short. */
	for (unsigned i = 0; i < w->n_blocked; i++) {
		w->blocked[i]->blocked = false;
		dp_out_queue(w, w->blocked[i]);
	}
	w->n_blocked = 0;
}

void dp_ppspp_out_turn(struct dp_worker *w)
{
	unsigned budget = DP_OUT_BUDGET;

	/* Each peer at most once per call: one that has more to send goes to the back. */
	for (uint32_t todo = w->tx_wait_n;
		todo > 0 && w->tx_wait_n > 0 && budget > 0 && dp_tx_room(w, 0); todo--) {
		struct dp_peer *p = w->tx_wait[w->tx_wait_head];

		w->tx_wait_head = (w->tx_wait_head + 1) % w->tx_wait_cap;
		w->tx_wait_n--;
		if (!p->tx_wait)
			continue; /* the slot was freed and reused since */
		p->tx_wait = false;
		/* Any state but idle: a handshake's reply is output too, and a closing one. */
		if (!p->used || p->role != DP_ROLE_SEEDER || p->ch.state == SEEDER_ST_IDLE ||
			!swarm_table_valid(w->cfg->swarms, p->swarm, p->swarm_gen))
			continue;
		budget -= dp_ppspp_output(w, p, budget);
	}
	if (w->n_tx > 0)
		dp_tx_flush(w); /* now, not after the next pass's input */
}

void dp_ppspp_avail_resume(struct dp_worker *w)
{
	const struct swarm_table *st = w->cfg->swarms;
	uint64_t ev;

	if (w->avail_wait_n == 0)
		return;
	/* Only when some ingest made chunks servable since the last look. */
	ev = __atomic_load_n(&st->avail_events, __ATOMIC_ACQUIRE);
	if (ev == w->avail_seen)
		return;
	w->avail_seen = ev;
	for (uint32_t todo = w->avail_wait_n; todo > 0 && w->avail_wait_n > 0; todo--) {
		struct dp_peer *p = w->avail_wait[w->avail_wait_head];

		w->avail_wait_head = (w->avail_wait_head + 1) % w->avail_wait_cap;
		w->avail_wait_n--;
		if (!p->avail_wait)
			continue;
		p->avail_wait = false;
		if (!p->used || p->role != DP_ROLE_SEEDER || p->ch.state != SEEDER_ST_OPEN ||
			!swarm_table_valid(st, p->swarm, p->swarm_gen))
			continue;
		if (chunk_store_avail(p->ch.store) > p->ch.have_sent)
			dp_out_queue(w, p); /* waits again if the chunks are not there yet */
		else
			dp_avail_wait_push(w, p);
	}
}

/* A keep-alive (RFC 7574 3.7: a datagram holding only the channel ID) to the peer. */
static void dp_keepalive(struct dp_worker *w, struct dp_peer *p)
{
	struct dp_sa *sa = NULL;
	struct rte_mbuf *m;
	uint32_t cap;
	uint8_t *d;

	if (p->mode != DP_MODE_PLAIN && (sa = dp_dgram_sa(w, p)) == NULL)
		return;
	m = dp_dgram_begin(w, p, sa != NULL, &d, &cap);
	if (m == NULL)
		return;
	d[0] = (uint8_t)(p->ch.peer_id >> 24);
	d[1] = (uint8_t)(p->ch.peer_id >> 16);
	d[2] = (uint8_t)(p->ch.peer_id >> 8);
	d[3] = (uint8_t)p->ch.peer_id;
	dp_dgram_finish(w, p, sa, m, 4);
	w->keepalives_sent++;
}

/* Slot i is free again, its tag with it (so a lookup skips it without reading the peer). */
static void dp_peer_release(struct dp_worker *w, unsigned i)
{
	w->peers[i].used = false;
	w->peers[i].ch.state = SEEDER_ST_CLOSED;
	w->peer_tags[i] = 0;
}

void dp_ppspp_sweep(struct dp_worker *w)
{
	const struct dp_config *cfg = w->cfg;
	uint32_t now = (uint32_t)dp_now_s;
	unsigned open = 0;
	uint64_t held = 0, sources = 0;

	for (unsigned i = 0; i <= w->peers_mask; i++) {
		struct dp_peer *p = &w->peers[i];

		if (w->peer_tags[i] == 0)
			continue; /* free: the peer itself is not read */
		if (!p->used) {
			w->peer_tags[i] = 0; /* freed since (ingest sources, refused handshakes) */
			continue;
		}
		if (p->role == DP_ROLE_INGEST) {
			/* A source of an ingest cancelled while it was silent: nothing else would
			 * close its channel and free its entry (its next datagram would). */
			if (dp_ingest_source_gone(w, p)) {
				dp_ingest_close_gone(w, p);
				dp_peer_release(w, i);
			} else
				sources++;
			continue;
		}
		if (p->role != DP_ROLE_SEEDER)
			continue;
		/*
		 * Silent for too long (RFC 7574 3.7), or closed: the slot is free again. The clock
		 * counts whole seconds, so "more than" the timeout: a peer whose keep-alives come
		 * a little over a second apart was dropped by ">=" with a 2 s timeout when two
		 * second boundaries fell between them (seen in the e2e test).
		 */
		if (p->ch.state == SEEDER_ST_CLOSED ||
			(cfg->peer_timeout_s != 0 && now - p->last_rx_s > cfg->peer_timeout_s)) {
			if (p->ch.state != SEEDER_ST_CLOSED)
				w->peers_timed_out++;
			dp_peer_release(w, i);
			continue;
		}
		if (p->ch.state != SEEDER_ST_OPEN)
			continue;
		if (cfg->policies != NULL) {
			uint64_t pol = dp_policy(w, p->addr);
			bool live;

			if (pol & DP_POL_BLOCK) {
				w->peers_blocked++;
				dp_peer_release(w, i);
				continue;
			}
			p->rate = pol & DP_POL_RATE_MASK;
			/* A deleted swarm's store may be closed: its channels send nothing more. */
			live = swarm_table_valid(cfg->swarms, p->swarm, p->swarm_gen);
			if (live && (pol & DP_POL_CHOKE) && !p->ch.choked) {
				seeder_choke(&p->ch, true);
				p->policy_choked = true;
				w->channels_choked++;
				dp_out_queue(w, p); /* the CHOKE */
			} else if (live && !(pol & DP_POL_CHOKE) && p->policy_choked) {
				seeder_choke(&p->ch, false);
				p->policy_choked = false;
				w->channels_unchoked++;
				dp_out_queue(w, p); /* the UNCHOKE */
			}
		}
		held++;
		if (!p->ch.choked)
			open++;
		if (cfg->keepalive_s != 0 && now - p->last_tx_s >= cfg->keepalive_s)
			dp_keepalive(w, p);
	}
	/* Room again: choked channels are let in, first found first. */
	for (unsigned i = 0;
		cfg->max_channels != 0 && open < cfg->max_channels && i <= w->peers_mask; i++) {
		struct dp_peer *p = &w->peers[i];

		if (w->peer_tags[i] == 0 || !p->used || p->role != DP_ROLE_SEEDER ||
			p->ch.state != SEEDER_ST_OPEN || !p->ch.choked || p->policy_choked ||
			!swarm_table_valid(cfg->swarms, p->swarm, p->swarm_gen))
			continue;
		seeder_choke(&p->ch, false);
		p->counted = true;
		open++;
		w->channels_unchoked++;
		dp_out_queue(w, p); /* the UNCHOKE */
	}
	w->n_channels = open;
	w->channels_open = held;
	w->ingest_sources = sources;
	if (held > w->channels_peak)
		w->channels_peak = held;
}

/*
 * One PPSPP datagram from a peer, already opened if it came through ESP. A new peer's first
 * datagram must be a handshake for a swarm we serve (through ESP unless the swarm is open).
 */
static bool dp_ppspp_input(struct dp_worker *w, struct rte_mbuf *m, const struct rte_ether_hdr *eth,
	const uint8_t src[16], bool v6, uint16_t port, uint16_t encap_port, enum dp_mode mode,
	const uint8_t *dgram, size_t dlen)
{
	const struct swarm_table *st = w->cfg->swarms;
	struct dp_peer *p;
	enum seeder_reason r;
	bool fresh;

	p = dp_peer_get(w, src, v6, port, encap_port, mode, &fresh);
	if (p == NULL) {
		w->drops[DP_DROP_PEERS_FULL]++;
		return false;
	}
	p->last_rx_s = (uint32_t)dp_now_s;
	if (!fresh && p->role == DP_ROLE_INGEST)
		return dp_ingest_input(w, p, m, dgram, dlen);
	if (!fresh && dlen >= 4 && dgram[0] == 0 && dgram[1] == 0 && dgram[2] == 0 &&
		dgram[3] == 0 &&
		(p->ch.state == SEEDER_ST_OPEN || p->ch.state == SEEDER_ST_REPLY_DUE)) {
		/* A handshake to channel 0 from a peer we have a channel with, or whose
		 * handshake we have yet to answer (our reply still waits for its turn and the
		 * peer tried again): it started a new one (a restart on the same port); the old
		 * channel ends here. */
		if (p->counted && w->n_channels > 0)
			w->n_channels--;
		fresh = true;
	}
	if (fresh) {
		uint64_t pol = dp_policy(w, src);

		if (pol & DP_POL_BLOCK) {
			p->used = false;
			w->drops[DP_DROP_PEER_BLOCKED]++;
			return false;
		}
		p->rate = pol & DP_POL_RATE_MASK;
		p->policy_choked = false;
		p->role = DP_ROLE_SEEDER;
		p->blocked = false;
		p->counted = false;
		p->tokens = p->refill_us = 0;
		p->last_tx_s = (uint32_t)dp_now_s;
		const uint8_t *id;
		size_t id_len = seeder_handshake_swarm(dgram, dlen, &id);
		int slot = id_len > 0 ? swarm_table_find(st, id, id_len) : -1;

		if (slot < 0) {
			p->used = false;
			if (id_len > 0) {
				w->drops[DP_DROP_NO_SWARM]++;
			} else {
				w->ppspp_refused[SEEDER_R_NO_HANDSHAKE]++;
				w->drops[DP_DROP_PPSPP]++;
			}
			return false;
		}
		if (mode == DP_MODE_PLAIN && !st->slot[slot].open) {
			p->used = false;
			w->drops[DP_DROP_SWARM_PROTECTED]++;
			return false;
		}
		p->swarm = (uint8_t)slot;
		p->swarm_gen = __atomic_load_n(&st->slot[slot].gen, __ATOMIC_ACQUIRE);
		do
			w->next_channel = w->next_channel * 1103515245u + 12345u;
		while (w->next_channel == 0);
		seeder_channel_init(&p->ch, &st->slot[slot].store, w->next_channel);
		seeder_congestion(&p->ch, w->cfg->ledbat);
		p->ch.data_by_caller = true; /* dp_ppspp_output puts the chunk in */
	} else if (!swarm_table_valid(st, p->swarm, p->swarm_gen)) {
		p->ch.state = SEEDER_ST_CLOSED; /* the slot is free for the peer's next handshake */
		w->drops[DP_DROP_SWARM_GONE]++;
		return false;
	}
	p->mac = eth->src_addr;
	seeder_clock(&p->ch, w->now_us);
	r = seeder_input(&p->ch, dgram, dlen);
	if (r != SEEDER_R_OK && r != SEEDER_R_CLOSED) {
		w->ppspp_refused[r]++;
		w->drops[DP_DROP_PPSPP]++;
		if (p->ch.state == SEEDER_ST_IDLE) {
			p->used = false; /* a refused first datagram opens nothing */
			return false;
		}
	}
	if (fresh && p->ch.state != SEEDER_ST_IDLE) {
		w->swarm_channels[p->swarm]++;
		/* Choked by policy, or over the channel limit: served nothing until the policy
		 * changes or room frees (the sweep). */
		if (dp_policy(w, src) & DP_POL_CHOKE) {
			seeder_choke(&p->ch, true);
			p->policy_choked = true;
			w->channels_choked++;
		} else if (w->cfg->max_channels != 0 && w->n_channels >= w->cfg->max_channels) {
			seeder_choke(&p->ch, true);
			w->channels_choked++;
		} else {
			p->counted = true;
			w->n_channels++;
		}
	}
	dp_out_queue(w, p); /* its turn comes once the pass's input is read */
	return false;
}

/*
 * ESP from src (raw, or in UDP from encap_port): the SA by SPI, owner and peer checks, then
 * queued; dp_esp_flush opens the rx burst's ESP packets in one esp_open_burst (one
 * ipsec-mb burst; the replay window is re-checked per packet after authentication, so a
 * number seen twice in one burst is still refused). The mbuf is consumed.
 */
static void dp_esp_deliver(struct dp_worker *w, struct rte_mbuf *m, struct rte_ether_hdr *eth,
	uint8_t *esp, uint32_t len, const uint8_t src[16], bool v6, uint16_t encap_port)
{
	struct esp_open_pkt o = {.data = esp, .len = len};
	struct dp_sa *sa = NULL;

	if (len >= ESP_HDR_LEN) {
		uint32_t spi = ((uint32_t)esp[0] << 24) | ((uint32_t)esp[1] << 16) |
			       ((uint32_t)esp[2] << 8) | esp[3];

		sa = sa_table_in(w->cfg->sas, spi);
	}
	if (sa != NULL) {
		static const uint8_t any[16];

		if (!dp_sa_claim(sa, (uint16_t)w->lcore)) {
			dp_net_drop(w, m, DP_DROP_SA_OWNER);
			return;
		}
		if (memcmp(sa->id.peer, any, 16) != 0 && memcmp(sa->id.peer, src, 16) != 0) {
			sa->peer_drops++;
			dp_net_drop(w, m, DP_DROP_SA_PEER);
			return;
		}
		o.sa = &sa->esp;
	}
	if (w->n_esp_rx == DP_BURST)
		dp_esp_flush(w);
	w->esp_open[w->n_esp_rx] = o;
	w->esp_rx[w->n_esp_rx] =
		(struct dp_esp_rx){.m = m, .eth = eth, .v6 = v6, .encap_port = encap_port};
	memcpy(w->esp_rx[w->n_esp_rx].src, src, 16);
	w->n_esp_rx++;
}

void dp_esp_flush(struct dp_worker *w)
{
	unsigned n = w->n_esp_rx;

	w->n_esp_rx = 0;
	if (n == 0)
		return;
	esp_open_burst(&w->eng, w->esp_open, n, dp_now_s);
	for (unsigned i = 0; i < n; i++) {
		const struct esp_open_pkt *o = &w->esp_open[i];
		const struct dp_esp_rx *r = &w->esp_rx[i];
		const struct rte_udp_hdr *in =
			(const struct rte_udp_hdr *)(o->data + ESP_PREFIX_LEN);

		if (o->reason != ESP_DROP_NONE) {
			w->esp_drops[o->reason]++;
			dp_net_drop(w, r->m, DP_DROP_ESP);
			continue;
		}
		if (o->next_hdr != ESP_NH_UDP || o->payload_len < sizeof(*in) ||
			rte_be_to_cpu_16(in->dgram_len) != o->payload_len ||
			rte_be_to_cpu_16(in->dst_port) != w->cfg->udp_port) {
			dp_net_drop(w, r->m, DP_DROP_INNER_BAD);
			continue;
		}
		if (!dp_ppspp_input(w, r->m, r->eth, r->src, r->v6, rte_be_to_cpu_16(in->src_port),
			    r->encap_port, r->encap_port != 0 ? DP_MODE_ESP_UDP : DP_MODE_ESP_RAW,
			    (const uint8_t *)(in + 1), o->payload_len - sizeof(*in)))
			rte_pktmbuf_free(r->m);
	}
}

void dp_esp_input(struct dp_worker *w, struct rte_mbuf *m, struct rte_ether_hdr *eth, uint8_t *esp,
	uint32_t len, const uint8_t src[16], bool v6)
{
	dp_esp_deliver(w, m, eth, esp, len, src, v6, 0);
}

void dp_udp_input(struct dp_worker *w, struct rte_mbuf *m, struct rte_ether_hdr *eth,
	struct rte_udp_hdr *udp, uint32_t l4len, const uint8_t src[16], bool v6)
{
	uint8_t *pay = (uint8_t *)(udp + 1);
	uint16_t dport, sport;
	uint32_t plen;

	if (l4len < sizeof(*udp) || rte_be_to_cpu_16(udp->dgram_len) != l4len) {
		dp_net_drop(w, m, DP_DROP_UDP_BAD);
		return;
	}
	plen = l4len - (uint32_t)sizeof(*udp);
	dport = rte_be_to_cpu_16(udp->dst_port);
	sport = rte_be_to_cpu_16(udp->src_port);
	/* Several workers, an ingest running: its source's frames go to the ingest's owner. */
	if (w->cfg->n_workers > 1 &&
		__atomic_load_n(&w->cfg->swarms->n_ingests, __ATOMIC_RELAXED) != 0 &&
		dp_ingest_steer(w, m, src, sport, dport))
		return;
	if (dport == w->cfg->esp_port) {
		enum esp_drop c = esp_udp_classify(pay, plen);

		if (c != ESP_DROP_NONE) {
			/* Keep-alives and IKE markers are counted, never answered. */
			w->esp_drops[c]++;
			dp_net_drop(w, m, DP_DROP_ESP);
			return;
		}
		if (sport == 0) {
			dp_net_drop(w, m, DP_DROP_UDP_BAD);
			return;
		}
		dp_esp_deliver(w, m, eth, pay, plen, src, v6, sport);
		return;
	}
	if (dport != w->cfg->udp_port) {
		dp_net_drop(w, m, DP_DROP_UDP_PORT);
		return;
	}
	if (!dp_ppspp_input(w, m, eth, src, v6, sport, 0, DP_MODE_PLAIN, pay, plen))
		rte_pktmbuf_free(m);
}
