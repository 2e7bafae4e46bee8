/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ingest, per packet and per tick: the data plane as a leecher. A worker claims an ingest hung
 * on a swarm slot and runs all its sources: for each, resolves the source's MAC, opens a peer
 * entry for it (role INGEST) and runs a PPSPP leecher channel (dataplane/ppspp_leecher.c, the
 * one `superpeer fetch` runs): handshake, requests in a window, timeouts. The channels of one
 * ingest share the verifier and the have-bitmap: a chunk asked of one source is not asked of
 * another until that one times out. Datagrams from a source are kept until the end of the rx
 * burst and verified together (multi-buffer SHA-256 over every chunk and its uncles); only a
 * chunk that verifies against the swarm ID reaches the content buffer. A chunk that does not
 * is dropped and counted against its source (bad_chunk), which the key-ring lcore reports;
 * that source is not asked for that chunk again.
 */
#include <string.h>

#include <rte_cycles.h>

#include "dp.h"

enum { DP_INGEST_WINDOW = 256 };

/* The live ingest whose source entry p is (its index in *k); NULL once cancelled or done. */
static struct dp_ingest *dp_ingest_of(struct dp_worker *w, const struct dp_peer *p, unsigned *k)
{
	const struct dp_swarm *s = &w->cfg->swarms->slot[p->swarm];
	struct dp_ingest *ing = __atomic_load_n(&s->ingest, __ATOMIC_ACQUIRE);
	unsigned n;

	if (ing == NULL || __atomic_load_n(&s->gen, __ATOMIC_ACQUIRE) != p->swarm_gen)
		return NULL;
	n = __atomic_load_n(&ing->n_src, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < n; i++)
		if (ing->src[i].p == p) {
			*k = i;
			return ing;
		}
	return NULL;
}

bool dp_ingest_source_gone(struct dp_worker *w, const struct dp_peer *p)
{
	unsigned k;

	return dp_ingest_of(w, p, &k) == NULL;
}

/* True when a frame from src:sport to our dport comes from source s. */
static bool dp_ingest_from(const struct dp_worker *w, const struct dp_ingest_src *s,
	const uint8_t src[16], uint16_t sport, uint16_t dport)
{
	if (memcmp(s->peer, src, 16) != 0)
		return false;
	return s->encap_port != 0 ? sport == s->encap_port && dport == w->cfg->esp_port
				  : sport == s->port && dport == w->cfg->udp_port;
}

bool dp_ingest_steer(struct dp_worker *w, struct rte_mbuf *m, const uint8_t src[16], uint16_t sport,
	uint16_t dport)
{
	const struct swarm_table *st = w->cfg->swarms;

	for (unsigned i = 0; i < DP_MAX_SWARMS; i++) {
		const struct dp_ingest *ing =
			__atomic_load_n(&st->slot[i].ingest, __ATOMIC_ACQUIRE);
		struct dp_worker *to;
		unsigned n, k;
		uint16_t o;

		if (ing == NULL)
			continue;
		n = __atomic_load_n(&ing->n_src, __ATOMIC_ACQUIRE);
		for (k = 0; k < n && !dp_ingest_from(w, &ing->src[k], src, sport, dport); k++)
			;
		if (k == n)
			continue;
		o = __atomic_load_n(&ing->owner, __ATOMIC_RELAXED);
		if (o == DP_SA_NO_OWNER || o == w->lcore || o >= RTE_MAX_LCORE ||
			(to = w->cfg->by_lcore[o]) == NULL)
			return false;
		/* Counted where it is handled, not twice. */
		w->rx_pkts--;
		w->rx_bytes -= rte_pktmbuf_pkt_len(m);
		if (rte_ring_mp_enqueue(to->steer, m) != 0) {
			w->rx_pkts++;
			dp_net_drop(w, m, DP_DROP_STEER_FULL);
		} else {
			w->steered++;
		}
		return true;
	}
	return false;
}

bool dp_ingest_input(struct dp_worker *w, struct dp_peer *p, struct rte_mbuf *m,
	const uint8_t *dgram, size_t len)
{
	unsigned k = 0;
	struct dp_ingest *ing = dp_ingest_of(w, p, &k);

	if (ing == NULL) {
		/* The ingest was cancelled (a complete one frees its entries): its source, still
		 * sending, is told the channel is closed, and its entry goes. */
		dp_ingest_close_gone(w, p);
		p->used = false;
		w->drops[DP_DROP_SWARM_GONE]++;
		return false;
	}
	if (w->n_ing_rx == DP_BURST)
		dp_ingest_flush(w);
	w->ing_rx[w->n_ing_rx++] = (struct dp_ingest_rx){ing, k, m, dgram, len};
	return true;
}

static void dp_ingest_deliver(void *ctx, uint64_t chunk, const uint8_t *data, size_t len)
{
	struct dp_ingest *ing = ctx;

	memcpy(ing->content + chunk * ing->m.chunk_size, data, len);
	ing->chunks_in++;
}

/*
 * The chunks in, from the first, made servable (once every peak is trusted): the leecher
 * requests in order, so this walks about as far as the burst just verified. The release
 * store orders the content and the tree nodes the burst wrote before it, for a seeder on any
 * worker that reads it (acquire); avail_events wakes the workers' waiting peers.
 */
static void dp_ingest_publish(struct dp_worker *w, struct dp_ingest *ing)
{
	uint64_t a = ppspp_leecher_held_prefix(&ing->src[0].l, *ing->avail);

	if (a > *ing->avail) {
		__atomic_store_n(ing->avail, a, __ATOMIC_RELEASE);
		__atomic_fetch_add(&w->cfg->swarms->avail_events, 1, __ATOMIC_RELEASE);
	}
}

/* One datagram of source s's leecher to it: handshake (hs) or requests (with the CANCELs
 * of the end game). True if sent. */
static bool dp_ingest_send(
	struct dp_worker *w, struct dp_ingest *ing, struct dp_ingest_src *s, bool hs)
{
	struct dp_peer *p = s->p;
	struct dp_sa *sa = NULL;
	struct rte_mbuf *m;
	uint32_t cap;
	uint8_t *d;
	int n;

	if (p->mode != DP_MODE_PLAIN && (sa = dp_dgram_sa(w, p)) == NULL)
		return false;
	m = dp_dgram_begin(w, p, sa != NULL, &d, &cap);
	if (m == NULL)
		return false;
	n = hs ? ppspp_leecher_handshake(&s->l, d, cap)
	       : ppspp_leecher_requests(&s->l, d, cap, ing->window);
	if (n <= 0) {
		rte_pktmbuf_free(m);
		return false;
	}
	dp_dgram_finish(w, p, sa, m, (uint32_t)n);
	s->t_sent = rte_rdtsc();
	return true;
}

/* One datagram of buf to p (sealed under its SA when p's mode asks for one). True if sent. */
static bool dp_ingest_peer_send(
	struct dp_worker *w, const struct dp_peer *p, const uint8_t *buf, size_t len)
{
	struct dp_sa *sa = NULL;
	struct rte_mbuf *m;
	uint32_t cap;
	uint8_t *d;

	if (p->mode != DP_MODE_PLAIN && (sa = dp_dgram_sa(w, p)) == NULL)
		return false;
	m = dp_dgram_begin(w, p, sa != NULL, &d, &cap);
	if (m == NULL)
		return false;
	if (len > cap) {
		rte_pktmbuf_free(m);
		return false;
	}
	memcpy(d, buf, len);
	dp_dgram_finish(w, p, sa, m, (uint32_t)len);
	return true;
}

static void dp_ingest_send_bytes(
	struct dp_worker *w, struct dp_ingest_src *s, const uint8_t *buf, size_t len)
{
	if (dp_ingest_peer_send(w, s->p, buf, len))
		s->t_sent = rte_rdtsc();
}

/*
 * The closing datagram of source s's channel, kept in its peer entry up to date: made once the
 * source's handshake has given its channel (again after a new one), none once the source has
 * closed the channel itself. The owner calls it every tick.
 */
static void dp_ingest_keep_close(struct dp_ingest_src *s)
{
	struct dp_ingest_close *c = &s->p->ing;
	int n;

	if (s->l.closed) {
		c->len = 0;
	} else if (c->chan != s->l.peer_id) {
		n = ppspp_leecher_close(&s->l, c->dgram, sizeof(c->dgram));
		c->len = n > 0 ? (uint8_t)n : 0;
		c->chan = s->l.peer_id;
	}
}

void dp_ingest_close_gone(struct dp_worker *w, struct dp_peer *p)
{
	if (p->ing.len > 0 && dp_ingest_peer_send(w, p, p->ing.dgram, p->ing.len))
		w->ingest_closed++;
	p->ing.len = 0;
}

/*
 * Complete: each source with an open channel is told so (a HANDSHAKE with source channel 0
 * closes it, RFC 7574 8.4: it stops sending what it still had queued, end-game copies
 * included, and frees its channel without waiting for a timeout), the sources' peer entries
 * go, and the content is handed to the key-ring lcore.
 */
static void dp_ingest_complete(struct dp_worker *w, struct dp_ingest *ing)
{
	unsigned n = __atomic_load_n(&ing->n_src, __ATOMIC_ACQUIRE);

	for (unsigned k = 0; k < n; k++) {
		struct dp_ingest_src *s = &ing->src[k];
		uint8_t d[64];
		int len;

		if (s->p == NULL)
			continue;
		if ((len = ppspp_leecher_close(&s->l, d, sizeof(d))) > 0)
			dp_ingest_send_bytes(w, s, d, (size_t)len);
		s->p->used = false;
		s->p = NULL;
	}
	__atomic_store_n(&ing->done, 1, __ATOMIC_RELEASE);
}

/*
 * Source s is asked for more while its window has room, or sent the CANCELs of chunks that
 * arrived from another source (the end game) at once, so it does not spend its bandwidth on
 * them, or asked at once for chunks it lost on the way (a hole holds what is servable).
 * t_req moves only when something was asked for: neither an empty ask nor a CANCEL must hold
 * off the timeout of what is still in flight.
 */
static void dp_ingest_ask(
	struct dp_worker *w, struct dp_ingest *ing, struct dp_ingest_src *s, uint64_t now)
{
	uint64_t before = s->l.n_inflight;

	if ((s->l.n_inflight <= ing->window / 2 || s->l.n_cancel > 0 || s->l.reask_due) &&
		dp_ingest_send(w, ing, s, false) && s->l.n_inflight > before)
		s->t_req = now;
}

/* After input from source s: progress noted, more requested while its window has room. */
static void dp_ingest_after_input(
	struct dp_worker *w, struct dp_ingest *ing, struct dp_ingest_src *s)
{
	if (s->chunks_from != s->have_at_progress) {
		s->have_at_progress = s->chunks_from;
		s->t_progress = rte_rdtsc();
	}
	if (ppspp_leecher_done(&s->l)) {
		dp_ingest_complete(w, ing);
		return;
	}
	if (s->l.peer_id != 0)
		dp_ingest_ask(w, ing, s, rte_rdtsc());
}

void dp_ingest_flush(struct dp_worker *w)
{
	bool done[DP_BURST] = {false};

	for (unsigned i = 0; i < w->n_ing_rx; i++) {
		struct dp_ingest *ing = w->ing_rx[i].ing;
		struct dp_ingest_src *s = &ing->src[w->ing_rx[i].src];
		struct leecher_rx rx[DP_BURST];
		uint8_t ack[2048];
		size_t ack_len = 0;
		unsigned n = 0;

		if (done[i])
			continue;
		/* Every datagram of the burst from this source, in order (sources interleave on
		 * a queue: one verification burst, one ACK and one ask each). */
		for (unsigned j = i; j < w->n_ing_rx; j++)
			if (!done[j] && w->ing_rx[j].ing == ing &&
				w->ing_rx[j].src == w->ing_rx[i].src) {
				done[j] = true;
				rx[n++] = (struct leecher_rx){
					.buf = w->ing_rx[j].dgram, .len = w->ing_rx[j].len};
			}
		if (s->p != NULL) {
			uint64_t before = ing->chunks_in, lost = s->l.lost;

			s->chunks_from += ppspp_leecher_input_burst(
				&s->l, rx, n, dp_ingest_deliver, ing, ack, sizeof(ack), &ack_len);
			for (unsigned k = 0; k < n; k++) {
				if (rx[k].reason == LEECHER_R_BAD_CHUNK) {
					/* read by the key-ring lcore for its alarms */
					__atomic_fetch_add(&s->bad_chunks, 1, __ATOMIC_RELAXED);
					w->drops[DP_DROP_BAD_CHUNK]++;
				} else if (rx[k].reason != LEECHER_R_OK &&
					   rx[k].reason != LEECHER_R_UNWANTED) {
					s->refused++;
					w->drops[DP_DROP_INGEST_REFUSED]++;
				}
			}
			w->chunks_ingested += ing->chunks_in - before;
			w->ingest_lost += s->l.lost - lost;
			if (ing->chunks_in != before)
				dp_ingest_publish(w, ing);
			if (ack_len > 0)
				dp_ingest_send_bytes(w, s, ack, ack_len);
			dp_ingest_after_input(w, ing, s);
		}
	}
	for (unsigned i = 0; i < w->n_ing_rx; i++)
		rte_pktmbuf_free(w->ing_rx[i].m);
	w->n_ing_rx = 0;
}

/*
 * The MAC frames to source s go to (its own, or the gateway's), or NULL while unknown. Also
 * called when the ingest makes no progress, so a neighbour that went stale is probed and a
 * changed MAC (a replaced router, a moved address) is followed. No route was refused when
 * the source was added (dp_ctl_ingest_start).
 */
static const struct rte_ether_addr *dp_ingest_mac(
	struct dp_worker *w, const struct dp_ingest_src *s)
{
	uint8_t nh[16];

	if (!dp_neigh_next_hop(w->cfg, s->peer, s->v6, nh))
		return NULL;
	return dp_neigh_resolve(w, nh, s->v6);
}

static void dp_ingest_next_hop(struct dp_worker *w, struct dp_ingest_src *s)
{
	const struct rte_ether_addr *mac = dp_ingest_mac(w, s);

	if (mac != NULL)
		s->p->mac = *mac;
}

/* The owner's timers for source s: its MAC, peer entry, handshake every 250 ms until
 * answered, a window re-requested after 300 ms without progress, refused chunks forgiven
 * on a backoff, keep-alives. */
static void dp_ingest_run(
	struct dp_worker *w, unsigned slot, struct dp_ingest *ing, struct dp_ingest_src *s)
{
	uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();

	if (s->p == NULL) {
		enum dp_mode mode = s->encap_port != 0 ? DP_MODE_ESP_UDP : DP_MODE_PLAIN;
		const struct rte_ether_addr *mac = dp_ingest_mac(w, s);
		struct dp_peer *p;
		unsigned k;
		bool fresh;

		if (mac == NULL)
			return;
		p = dp_peer_get(w, s->peer, s->v6, s->port, s->encap_port, mode, &fresh);
		/* The entry of an earlier ingest from this source that was cancelled while the
		 * source was silent (so nothing released it) is taken over. */
		if (p != NULL && !fresh && p->role == DP_ROLE_INGEST &&
			dp_ingest_of(w, p, &k) == NULL) {
			dp_ingest_close_gone(w, p); /* the old channel, before a new one */
			fresh = true;
		}
		if (p == NULL || !fresh)
			return; /* no room, or that address and port talk to us as a peer: later */
		p->role = DP_ROLE_INGEST;
		p->mac = *mac;
		p->swarm = (uint8_t)slot;
		p->swarm_gen = ing->gen;
		memset(&p->ch, 0, sizeof(p->ch));
		s->p = p;
		s->l.e = &w->eng; /* the leecher hashes on its owner's engine */
		s->t_progress = now;
	}
	if (s->l.peer_id == 0) {
		if (now - s->t_hs > hz / 4) {
			dp_ingest_next_hop(w, s);
			dp_ingest_send(w, ing, s, true);
			s->t_hs = now;
		}
		return;
	}
	if (s->t_open == 0)
		s->t_open = now;
	dp_ingest_keep_close(s);
	/* A source that has announced nothing a second after its handshake may never send HAVE
	 * (RFC 7574 does not require it): everything is asked for. */
	if (!s->l.have_seen && now - s->t_open > hz)
		ppspp_leecher_peer_has_all(&s->l);
	/* A chunk it sent bad that no other source can be asked for is asked of it again after
	 * 1 s, 2 s ... 64 s while it keeps sending it bad: the ingest does not stall one chunk
	 * short after a one-off corruption, and a forger is not looped. */
	ppspp_leecher_retry(&s->l, now, hz);
	if (s->l.n_inflight > 0 &&
		now - (s->t_req > s->t_progress ? s->t_req : s->t_progress) > hz * 3 / 10) {
		ppspp_leecher_timeout(&s->l);
		s->t_progress = now;
		dp_ingest_next_hop(w, s);
	}
	dp_ingest_ask(w, ing, s, now);
	/*
	 * Nothing to ask (a source that is itself still receiving the swarm has announced no
	 * more, another source has the rest in flight, or it chokes us): a keep-alive, the
	 * channel ID alone (RFC 7574 3.7), every `keepalive` seconds, so the source does not
	 * drop the channel its next HAVE goes to. (t_sent may be later than now: the sends
	 * above read the clock again.)
	 */
	if (w->cfg->keepalive_s != 0 && rte_rdtsc() - s->t_sent > hz * w->cfg->keepalive_s) {
		const uint8_t ka[4] = {(uint8_t)(s->l.peer_id >> 24), (uint8_t)(s->l.peer_id >> 16),
			(uint8_t)(s->l.peer_id >> 8), (uint8_t)s->l.peer_id};

		dp_ingest_send_bytes(w, s, ka, sizeof(ka));
		w->keepalives_sent++;
	}
}

/*
 * Whether w runs no more ingests than any other worker does: a new ingest goes to a worker
 * that runs fewest, so that ingests at once use several cores (the first to claim wins a
 * tie). Counted only when an ingest is waiting for its owner.
 */
static bool dp_ingest_fewest(const struct dp_worker *w)
{
	const struct dp_config *cfg = w->cfg;
	uint8_t n[RTE_MAX_LCORE] = {0};

	if (cfg->n_workers <= 1)
		return true;
	for (unsigned i = 0; i < DP_MAX_SWARMS; i++) {
		const struct dp_ingest *ing =
			__atomic_load_n(&cfg->swarms->slot[i].ingest, __ATOMIC_ACQUIRE);
		uint16_t o;

		if (ing == NULL || __atomic_load_n(&ing->done, __ATOMIC_ACQUIRE))
			continue;
		o = __atomic_load_n(&ing->owner, __ATOMIC_RELAXED);
		if (o < RTE_MAX_LCORE)
			n[o]++;
	}
	for (unsigned l = 0; l < RTE_MAX_LCORE; l++)
		if (cfg->by_lcore[l] != NULL && n[l] < n[w->lcore])
			return false;
	return true;
}

void dp_ingest_tick(struct dp_worker *w)
{
	struct swarm_table *st = w->cfg->swarms;
	int fewest = -1; /* dp_ingest_fewest, once needed in this tick */

	for (unsigned i = 0; i < DP_MAX_SWARMS; i++) {
		struct dp_swarm *s = &st->slot[i];
		struct dp_ingest *ing = __atomic_load_n(&s->ingest, __ATOMIC_ACQUIRE);
		unsigned n;
		uint16_t o;

		if (ing == NULL || !__atomic_load_n(&ing->ready, __ATOMIC_ACQUIRE) ||
			__atomic_load_n(&ing->done, __ATOMIC_ACQUIRE) ||
			__atomic_load_n(&s->gen, __ATOMIC_ACQUIRE) != ing->gen)
			continue;
		o = __atomic_load_n(&ing->owner, __ATOMIC_RELAXED);
		if (o == DP_SA_NO_OWNER) {
			if (fewest < 0)
				fewest = dp_ingest_fewest(w);
			if (!fewest ||
				!__atomic_compare_exchange_n(&ing->owner, &o, (uint16_t)w->lcore,
					false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
				continue;
			fewest = -1; /* one more now: counted again for the next */
			ing->window = DP_INGEST_WINDOW;
		} else if (o != w->lcore) {
			continue;
		}
		n = __atomic_load_n(&ing->n_src, __ATOMIC_ACQUIRE);
		for (unsigned k = 0; k < n && !__atomic_load_n(&ing->done, __ATOMIC_RELAXED); k++) {
			struct dp_ingest_src *src = &ing->src[k];

			/* A source added while the ingest runs joins the first one's channels here,
			 * on the lcore that runs them. */
			if (k > 0 && !src->linked) {
				if (ppspp_leecher_link(&src->l) != 0)
					continue;
				src->linked = true;
			}
			dp_ingest_run(w, i, ing, src);
		}
	}
}
