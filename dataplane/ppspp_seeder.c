/* SPDX-License-Identifier: BSD-3-Clause */
/* One PPSPP channel, serving side: see ppspp_seeder.h for the rules. Per packet. */
#include <errno.h>
#include <string.h>

#include "ppspp_seeder.h"

static const char *const seeder_reason_names[] = {
#define SEEDER_REASON_NAME(e, name, text) text,
	SEEDER_REASONS(SEEDER_REASON_NAME)
#undef SEEDER_REASON_NAME
};

static const char *const seeder_reason_keys[] = {
#define SEEDER_REASON_KEY(e, name, text) name,
	SEEDER_REASONS(SEEDER_REASON_KEY)
#undef SEEDER_REASON_KEY
};

const char *seeder_reason_name(enum seeder_reason r)
{
	return (unsigned)r < SEEDER_R_COUNT ? seeder_reason_names[r] : "?";
}

const char *seeder_reason_key(enum seeder_reason r)
{
	return (unsigned)r < SEEDER_R_COUNT ? seeder_reason_keys[r] : "?";
}

static uint8_t seeder_mhf(const struct chunk_store *s)
{
	return s->m.hash == HASH_SHA1 ? PPSPP_MHF_SHA1 : PPSPP_MHF_SHA256;
}

/* The context a channel starts from: CAM 2, the swarm's hash length and chunk size. */
static void seeder_base_ctx(const struct seeder_channel *ch, struct ppspp_ctx *ctx)
{
	*ctx = (struct ppspp_ctx){
		.cam = PPSPP_CAM_CHUNK32,
		.hash_len = (uint8_t)hash_len(ch->store->m.hash),
		.sig_len = 0,
		.chunk_size = ch->store->m.chunk_size,
	};
}

void seeder_channel_init(
	struct seeder_channel *ch, const struct chunk_store *store, uint32_t local_id)
{
	memset(ch, 0, sizeof(*ch));
	ch->store = store;
	ch->local_id = local_id;
	seeder_base_ctx(ch, &ch->ctx);
	ledbat_init(&ch->cc, false);
}

void seeder_choke(struct seeder_channel *ch, bool choke)
{
	if (ch->choked == choke)
		return;
	ch->choked = choke;
	ch->choke_due = true;
	if (choke)
		ch->n_req = 0;
}

void seeder_congestion(struct seeder_channel *ch, bool on)
{
	ledbat_init(&ch->cc, on);
}

/* ---- chunk range lists -------------------------------------------------------------- */

static bool ranges_touch(const struct seeder_ranges *l, uint64_t first, uint64_t last)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->r[i].start <= last && first <= l->r[i].end)
			return true;
	return false;
}

/*
 * Adds r (ends below 2^64 - 1: the lists hold chunk numbers of one swarm), merging what
 * overlaps or abuts it. When the list is full a range that merges with nothing is dropped,
 * or with keep_newest it takes the place of the range that ends lowest when it ends higher
 * (for what was sent, asked and held, where forgetting costs uncles sent again or a loss not
 * seen as one: chunks go out in ascending runs, and a full list of old runs, left by a peer that
 * asks other sources for the chunks between them, made every later chunk go with its whole uncle
 * path, 7.5 INTEGRITY per chunk from each of two sources instead of 1).
 */
static void ranges_put(struct seeder_ranges *l, struct ppspp_range r, bool keep_newest)
{
	unsigned i = 0;

	while (i < l->n) {
		struct ppspp_range *x = &l->r[i];

		if (x->start <= r.end + 1 && r.start <= x->end + 1) {
			r.start = x->start < r.start ? x->start : r.start;
			r.end = x->end > r.end ? x->end : r.end;
			l->r[i] = l->r[--l->n]; /* take it out; r now covers it */
			continue;
		}
		i++;
	}
	if (l->n < SEEDER_KNOWN_MAX) {
		l->r[l->n++] = r;
	} else if (keep_newest) {
		unsigned low = 0;

		for (i = 1; i < l->n; i++)
			if (l->r[i].end < l->r[low].end)
				low = i;
		if (l->r[low].end < r.end)
			l->r[low] = r;
	}
}

/* ---- input -------------------------------------------------------------------------- */

static enum seeder_reason seeder_refuse(struct seeder_channel *ch, enum seeder_reason r)
{
	ch->refused[r]++;
	return r;
}

static enum seeder_reason seeder_check_handshake(
	const struct seeder_channel *ch, const struct ppspp_handshake *hs)
{
	const struct chunk_store *s = ch->store;
	size_t hl = hash_len(s->m.hash);

	if (!ppspp_handshake_has(hs, PPSPP_OPT_SWARM_ID) || hs->swarm_id_len != hl ||
		memcmp(hs->swarm_id, s->m.swarm_id, hl) != 0)
		return SEEDER_R_WRONG_SWARM;
	if (!ppspp_handshake_has(hs, PPSPP_OPT_VERSION) || hs->version < PPSPP_VERSION_1 ||
		(ppspp_handshake_has(hs, PPSPP_OPT_MIN_VERSION) &&
			hs->min_version > PPSPP_VERSION_1))
		return SEEDER_R_BAD_VERSION;
	if (ppspp_handshake_has(hs, PPSPP_OPT_CIPM) && hs->cipm != PPSPP_CIPM_MERKLE)
		return SEEDER_R_BAD_CIPM;
	/* Absent: RFC 7574's default, SHA-256. */
	if ((ppspp_handshake_has(hs, PPSPP_OPT_MERKLE_HASH_FUNC) ? hs->mhf : PPSPP_MHF_SHA256) !=
		seeder_mhf(s))
		return SEEDER_R_BAD_HASH;
	/* Absent: accepted (libswift never sends it); ours goes back in our handshake. */
	if (ppspp_handshake_has(hs, PPSPP_OPT_CHUNK_SIZE) && hs->chunk_size != s->m.chunk_size)
		return SEEDER_R_BAD_CHUNK_SIZE;
	return SEEDER_R_OK;
}

static void seeder_request(struct seeder_channel *ch, struct ppspp_range r)
{
	uint64_t last = ch->store->tree.n_chunks - 1;

	if (r.start > last) {
		seeder_refuse(ch, SEEDER_R_OUT_OF_RANGE);
		return;
	}
	if (r.end > last)
		r.end = last;
	/*
	 * Asking again for something already sent means a datagram was lost: the peer may lack
	 * the peaks or uncles it carried, so forget what was sent and send full paths again.
	 */
	if (ranges_touch(&ch->sent, r.start, r.end) ||
		(ranges_touch(&ch->requested, r.start, r.end) &&
			r.start < chunk_store_avail(ch->store))) {
		/* (A range held because none of it has arrived yet cannot have been lost.) */
		ch->sent.n = 0;
		ch->peaks_next = 0;
		ch->integrity_ahead = false;
		/* What is asked again may have been refused (a chunk that failed the peer's
		 * Merkle check is asked again and fails again): sending it again must not make
		 * its hash count as known, or the chunks beside it never get their uncles. */
		/* When full, dropped: forgetting one would count a chunk sent again (perhaps
		 * refused) as known. */
		ranges_put(&ch->resent, r, false);
		/* Lost or refused: LEDBAT's loss response, and nothing is in flight any more. */
		ledbat_loss(&ch->cc, ch->now_us);
	}
	ranges_put(&ch->requested, r, true);
	/*
	 * A leecher keeping a window full asks for the chunks after its last request, one
	 * REQUEST per burst: joined to the queue's last range, a stream of them takes one slot
	 * however long the seeder is held back (by LEDBAT or a full transmit queue). A range
	 * just below it that shares no chunk with it (an end-game request, say) gets its own
	 * slot: requests are answered in the order asked, which our leecher reads losses from
	 * (ppspp_leecher.c). One that shares chunks with it is joined, lower part first: a
	 * leecher asks again for what it still waits for only once it has given it up.
	 */
	if (ch->n_req > 0) {
		struct ppspp_range *t = &ch->req[ch->n_req - 1];

		if (r.start <= t->end + 1 && r.end >= t->start) {
			if (r.start < t->start)
				t->start = r.start;
			if (r.end > t->end)
				t->end = r.end;
			return;
		}
	}
	if (ch->n_req == SEEDER_REQ_MAX) {
		seeder_refuse(ch, SEEDER_R_TOO_MANY_REQUESTS);
		return;
	}
	ch->req[ch->n_req++] = r;
}

/* Only what lies inside the content is kept, so the range ends never overflow. */
static void seeder_acked(struct seeder_channel *ch, struct ppspp_range r)
{
	uint64_t last = ch->store->tree.n_chunks - 1;

	if (r.start > last)
		return;
	if (r.end > last)
		r.end = last;
	ranges_put(&ch->acked, r, true);
}

static void seeder_req_remove(struct seeder_channel *ch, unsigned i)
{
	memmove(&ch->req[i], &ch->req[i + 1], (ch->n_req - i - 1) * sizeof(ch->req[0]));
	ch->n_req--;
}

static void seeder_cancel(struct seeder_channel *ch, struct ppspp_range c)
{
	for (unsigned i = 0; i < ch->n_req;) {
		struct ppspp_range *r = &ch->req[i];

		if (c.end < r->start || c.start > r->end) {
			i++;
		} else if (c.start <= r->start && c.end >= r->end) {
			seeder_req_remove(ch, i);
		} else if (c.start <= r->start) {
			r->start = c.end + 1;
			i++;
		} else if (c.end >= r->end) {
			r->end = c.start - 1;
			i++;
		} else if (ch->n_req < SEEDER_REQ_MAX) {
			/* a hole in the middle: split */
			memmove(&ch->req[i + 1], &ch->req[i], (ch->n_req - i) * sizeof(ch->req[0]));
			ch->n_req++;
			ch->req[i].end = c.start - 1;
			ch->req[i + 1].start = c.end + 1;
			i += 2;
		} else {
			/* no slot to split into: keep the whole range (the peer gets extra data) */
			i++;
		}
	}
}

enum seeder_reason seeder_input(struct seeder_channel *ch, const uint8_t *dgram, size_t len)
{
	struct ppspp_msg msgs[SEEDER_MSGS_MAX];
	struct ppspp_decode_result res;
	struct ppspp_ctx ctx;
	enum seeder_reason r;
	int n, i = 0;

	if (ch->state == SEEDER_ST_CLOSED)
		return seeder_refuse(ch, SEEDER_R_CLOSED);
	if (ch->state == SEEDER_ST_IDLE)
		seeder_base_ctx(ch, &ctx);
	else
		ctx = ch->ctx;
	n = ppspp_datagram_decode(&ctx, dgram, len, msgs, SEEDER_MSGS_MAX, &res);
	if (n < 0)
		return seeder_refuse(ch, SEEDER_R_MALFORMED);

	if (ch->state == SEEDER_ST_IDLE) {
		const struct ppspp_handshake *hs = &msgs[0].u.handshake;

		if (n == 0 || msgs[0].type != PPSPP_MSG_HANDSHAKE)
			return seeder_refuse(ch, SEEDER_R_NO_HANDSHAKE);
		if (res.dest_channel != PPSPP_CHANNEL_INITIAL)
			return seeder_refuse(ch, SEEDER_R_BAD_CHANNEL);
		if (hs->src_channel == PPSPP_CHANNEL_CLOSE)
			return seeder_refuse(ch, SEEDER_R_CLOSED);
		r = seeder_check_handshake(ch, hs);
		if (r != SEEDER_R_OK)
			return seeder_refuse(ch, r);
		ch->peer_id = hs->src_channel;
		ch->ctx = res.ctx;
		ch->ctx.chunk_size = ch->store->m.chunk_size;
		ch->state = SEEDER_ST_REPLY_DUE;
		i = 1;
	} else if (res.dest_channel != ch->local_id) {
		return seeder_refuse(ch, SEEDER_R_BAD_CHANNEL);
	}

	for (; i < n; i++) {
		const struct ppspp_msg *m = &msgs[i];

		switch (m->type) {
		case PPSPP_MSG_HANDSHAKE:
			/* A later handshake can only close the channel (§8.4). */
			if (m->u.handshake.src_channel == PPSPP_CHANNEL_CLOSE) {
				ch->state = SEEDER_ST_CLOSED;
				return SEEDER_R_CLOSED;
			}
			break;
		case PPSPP_MSG_REQUEST:
			if (ch->choked)
				seeder_refuse(ch, SEEDER_R_CHOKED);
			else
				seeder_request(ch, m->u.range);
			break;
		case PPSPP_MSG_CANCEL:
			seeder_cancel(ch, m->u.range);
			break;
		case PPSPP_MSG_ACK: {
			uint64_t width = m->u.ack.range.end - m->u.ack.range.start + 1;

			ledbat_acked(&ch->cc, width > UINT32_MAX ? UINT32_MAX : (uint32_t)width,
				m->u.ack.delay, ch->now_us);
			seeder_acked(ch, m->u.ack.range);
			break;
		}
		case PPSPP_MSG_HAVE:
			seeder_acked(ch, m->u.range);
			break;
		default:
			/* DATA, INTEGRITY, PEX, CHOKE...: nothing a seeder acts on (yet). */
			break;
		}
	}
	/*
	 * A store still arriving, and the peer asks for nothing (a keep-alive, an ACK): it may
	 * have lost a HAVE, so the next output says again all that is in.
	 */
	if (ch->state == SEEDER_ST_OPEN && ch->n_req == 0 && ch->partial)
		ch->have_due = true;
	return SEEDER_R_OK;
}

/* ---- output ------------------------------------------------------------------------- */

static struct ppspp_range seeder_bin_range(uint64_t bin)
{
	uint64_t first = merkle_bin_first_chunk(bin);

	return (struct ppspp_range){first, first + merkle_bin_width(bin) - 1};
}

/* The peer can compute node u: a chunk under u's parent is acknowledged or was sent. */
static bool seeder_peer_knows(const struct seeder_channel *ch, uint64_t u)
{
	struct ppspp_range p = seeder_bin_range(merkle_bin_parent(u));

	return ranges_touch(&ch->acked, p.start, p.end) || ranges_touch(&ch->sent, p.start, p.end);
}

/* Uncles of chunk c up to its peak that the peer cannot compute, in descending height. */
static unsigned seeder_uncles(
	const struct seeder_channel *ch, uint64_t c, uint64_t bins[static MERKLE_MAX_HEIGHT])
{
	const struct chunk_store *s = ch->store;
	unsigned peak_layer = 0, n = 0;
	uint64_t leaf = merkle_bin(0, c), node = leaf;

	for (unsigned k = 0; k < s->n_peaks; k++)
		if (merkle_bin_within(leaf, s->peaks[k]))
			peak_layer = merkle_bin_layer(s->peaks[k]);
	/* Collected bottom-up, then reversed into wire order. */
	/*
	 * Known is monotonic going up: the peer knows u when a chunk under parent(u) was sent or
	 * acknowledged, and every higher uncle's parent covers that range too. So the first
	 * known uncle ends the walk (for chunks sent in order, after one or two levels).
	 */
	for (unsigned l = 0; l < peak_layer; l++) {
		uint64_t u = merkle_bin_sibling(node);

		if (seeder_peer_knows(ch, u))
			break;
		bins[n++] = u;
		node = merkle_bin_parent(node);
	}
	for (unsigned a = 0, b = n ? n - 1 : 0; a < b; a++, b--) {
		uint64_t t = bins[a];

		bins[a] = bins[b];
		bins[b] = t;
	}
	return n;
}

static int seeder_append_node(struct ppspp_builder *b, const struct chunk_store *s, uint64_t bin)
{
	return ppspp_builder_append_integrity(
		b, seeder_bin_range(bin), merkle_tree_node(&s->tree, bin));
}

static int seeder_handshake_reply(struct seeder_channel *ch, uint8_t *buf, size_t cap)
{
	const struct chunk_store *s = ch->store;
	struct ppspp_builder b;
	struct ppspp_ctx base;
	int rc;

	seeder_base_ctx(ch, &base);
	rc = ppspp_builder_init(&b, &base, buf, cap, ch->peer_id);
	if (rc == 0)
		rc = ppspp_builder_handshake_begin(&b, ch->local_id);
	if (rc == 0)
		rc = ppspp_builder_append_opt_version(&b, PPSPP_VERSION_1);
	if (rc == 0)
		rc = ppspp_builder_append_opt_min_version(&b, PPSPP_VERSION_1);
	if (rc == 0)
		rc = ppspp_builder_append_opt_swarm_id(&b, s->m.swarm_id, hash_len(s->m.hash));
	if (rc == 0)
		rc = ppspp_builder_append_opt_cipm(&b, PPSPP_CIPM_MERKLE);
	if (rc == 0)
		rc = ppspp_builder_append_opt_mhf(&b, seeder_mhf(s));
	if (rc == 0)
		rc = ppspp_builder_append_opt_cam(&b, ch->ctx.cam);
	if (rc == 0)
		rc = ppspp_builder_append_opt_chunk_size(&b, s->m.chunk_size);
	if (rc == 0)
		rc = ppspp_builder_handshake_end(&b);
	ch->have_sent = chunk_store_avail(s);
	ch->partial = ch->have_sent < s->tree.n_chunks;
	if (rc == 0 && ch->have_sent > 0)
		rc = ppspp_builder_append_have(&b, (struct ppspp_range){0, ch->have_sent - 1});
	if (rc != 0)
		return rc;
	ch->state = SEEDER_ST_OPEN;
	return ppspp_builder_finish(&b);
}

/*
 * HAVE for every chunk in, from the first (one range whatever came before: a lost HAVE is
 * made good by the next one).
 */
static int seeder_have(struct seeder_channel *ch, uint8_t *buf, size_t cap, uint64_t avail)
{
	struct ppspp_builder b;
	int rc = ppspp_builder_init(&b, &ch->ctx, buf, cap, ch->peer_id);

	if (rc == 0)
		rc = ppspp_builder_append_have(&b, (struct ppspp_range){0, avail - 1});
	if (rc != 0)
		return rc;
	ch->have_sent = avail;
	ch->have_due = false;
	return ppspp_builder_finish(&b);
}

/* The first queued range with a chunk in (0 for a whole store), or n_req when none has. */
static unsigned seeder_servable(const struct seeder_channel *ch, uint64_t avail)
{
	unsigned k = 0;

	while (k < ch->n_req && ch->req[k].start >= avail)
		k++;
	return k;
}

int seeder_output(struct seeder_channel *ch, uint8_t *buf, size_t cap, uint64_t now_us)
{
	const struct chunk_store *s = ch->store;
	uint64_t bins[MERKLE_MAX_HEIGHT], c;
	struct ppspp_builder b;
	const uint8_t *chunk;
	unsigned n_uncles = 0, k, r = 0; /* r: the queued range served */
	bool integrity;
	size_t clen;
	int rc;

	ch->data_len = 0;
	ch->starved = false;
	if (ch->state == SEEDER_ST_REPLY_DUE)
		return seeder_handshake_reply(ch, buf, cap);
	if (ch->state == SEEDER_ST_OPEN && ch->choke_due) {
		rc = ppspp_builder_init(&b, &ch->ctx, buf, cap, ch->peer_id);
		if (rc == 0)
			rc = ch->choked ? ppspp_builder_append_choke(&b)
					: ppspp_builder_append_unchoke(&b);
		if (rc != 0)
			return rc;
		ch->choke_due = false;
		return ppspp_builder_finish(&b);
	}
	if (ch->state != SEEDER_ST_OPEN)
		return 0;
	if (ch->have_sent < s->tree.n_chunks || ch->have_due) {
		/* A store still arriving: announce what came in, and hold what did not. */
		uint64_t avail = chunk_store_avail(s);
		bool waiting;

		r = seeder_servable(ch, avail);
		waiting = r == ch->n_req;
		if (avail > 0 && (ch->have_due || (avail > ch->have_sent &&
							  (waiting || avail - ch->have_sent >=
									      SEEDER_HAVE_BATCH))))
			return seeder_have(ch, buf, cap, avail);
		if (waiting) {
			ch->starved = true;
			return 0;
		}
	}
	if (ch->n_req == 0)
		return 0;
	ch->now_us = now_us;
	if (!ledbat_can_send(&ch->cc)) {
		ch->cc_held++; /* the peer's ACKs open the window again */
		return 0;
	}
	c = ch->req[r].start;
	chunk = chunk_store_chunk(s, c, &clen);
	integrity = !(ch->integrity_ahead && ch->integrity_for == c);
	if (integrity)
		n_uncles = seeder_uncles(ch, c, bins);

	/* 1. Everything in one datagram: peaks still due, uncles, DATA. */
	rc = ppspp_builder_init(&b, &ch->ctx, buf, cap, ch->peer_id);
	for (k = ch->peaks_next; rc == 0 && integrity && k < s->n_peaks; k++)
		rc = seeder_append_node(&b, s, s->peaks[k]);
	for (k = 0; rc == 0 && k < n_uncles; k++)
		rc = seeder_append_node(&b, s, bins[k]);
	if (rc == 0 && ch->data_by_caller)
		rc = ppspp_builder_append_data_hdr(&b, (struct ppspp_range){c, c}, now_us, clen);
	else if (rc == 0)
		rc = ppspp_builder_append_data(&b, (struct ppspp_range){c, c}, now_us, chunk, clen);
	if (rc == 0) {
		ch->data = chunk;
		ch->data_len = (uint32_t)clen;
		ch->data_chunk = c;
		if (integrity)
			ch->peaks_next = (uint8_t)s->n_peaks;
		ch->integrity_ahead = false;
		if (!ranges_touch(&ch->resent, c, c))
			ranges_put(&ch->sent, (struct ppspp_range){c, c}, true);
		if (++ch->req[r].start > ch->req[r].end)
			seeder_req_remove(ch, r);
		ch->chunks_sent++;
		ch->bytes_sent += clen;
		ledbat_sent(&ch->cc);
		return ppspp_builder_finish(&b);
	}
	if (rc != -ENOSPC || !integrity)
		return rc; /* even a bare DATA does not fit: cap is too small */

	/* 2. Too big: peaks first (as many as fit), then the uncles alone; DATA next call. */
	rc = ppspp_builder_init(&b, &ch->ctx, buf, cap, ch->peer_id);
	if (rc != 0)
		return rc;
	if (ch->peaks_next < s->n_peaks) {
		for (k = ch->peaks_next; k < s->n_peaks; k++)
			if (seeder_append_node(&b, s, s->peaks[k]) != 0)
				break;
		if (k == ch->peaks_next)
			return -ENOSPC;
		ch->peaks_next = (uint8_t)k;
		return ppspp_builder_finish(&b);
	}
	for (k = 0; k < n_uncles; k++)
		if (seeder_append_node(&b, s, bins[k]) != 0)
			return -ENOSPC;
	ch->integrity_ahead = true;
	ch->integrity_for = c;
	return ppspp_builder_finish(&b);
}

size_t seeder_handshake_swarm(const uint8_t *dgram, size_t len, const uint8_t **id)
{
	/* Only the first message is decoded: a HANDSHAKE's options describe themselves. */
	const struct ppspp_ctx ctx = {
		.cam = PPSPP_CAM_CHUNK32, .hash_len = 32, .chunk_size = PPSPP_CHUNK_SIZE_VARIABLE};
	struct ppspp_decode_result res;
	struct ppspp_msg msg;
	int n = ppspp_datagram_decode(&ctx, dgram, len, &msg, 1, &res);

	if ((n != 1 && n != -ENOBUFS) || msg.type != PPSPP_MSG_HANDSHAKE ||
		res.dest_channel != PPSPP_CHANNEL_INITIAL ||
		!ppspp_handshake_has(&msg.u.handshake, PPSPP_OPT_SWARM_ID))
		return 0;
	*id = msg.u.handshake.swarm_id;
	return msg.u.handshake.swarm_id_len;
}
