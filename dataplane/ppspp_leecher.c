/* SPDX-License-Identifier: BSD-3-Clause */
/* One PPSPP channel, receiving side: see ppspp_leecher.h. Per packet after init. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ppspp_leecher.h"

static const char *const leecher_reason_names[] = {
#define LEECHER_REASON_NAME(e, text) text,
	LEECHER_REASONS(LEECHER_REASON_NAME)
#undef LEECHER_REASON_NAME
};

const char *leecher_reason_name(enum leecher_reason r)
{
	return (unsigned)r < LEECHER_R_COUNT ? leecher_reason_names[r] : "?";
}

static bool bit_get(const uint64_t *m, uint64_t i)
{
	return (m[i / 64] >> (i % 64)) & 1;
}

static void bit_set(uint64_t *m, uint64_t i)
{
	m[i / 64] |= UINT64_C(1) << (i % 64);
}

static void bit_clear(uint64_t *m, uint64_t i)
{
	m[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

/* Words of a chunk bitmap. */
static size_t leecher_words(const struct ppspp_leecher *l)
{
	return (size_t)((l->v.n_chunks + 63) / 64);
}

/* The first channel of l's swarm: the one whose state the others share. */
static struct ppspp_leecher *leecher_first(const struct ppspp_leecher *l)
{
	return l->first != NULL ? l->first : (struct ppspp_leecher *)l;
}

/* Chunk i is in the HAVE set of l's seeder, and its copy from there was not refused. */
static bool leecher_announced(const struct ppspp_leecher *l, uint64_t i)
{
	return (l->n_peer_has == l->v.n_chunks || bit_get(l->peer_has, i)) &&
	       (l->n_refused == 0 || !bit_get(l->refused, i));
}

/* HAVE: the seeder holds chunks r (clamped to the content), counted once each. */
static void leecher_peer_has(struct ppspp_leecher *l, struct ppspp_range r)
{
	uint64_t n = l->v.n_chunks;

	if (r.start >= n || r.end < r.start)
		return;
	if (r.end >= n)
		r.end = n - 1;
	for (uint64_t i = r.start; i <= r.end;) {
		uint64_t *w = &l->peer_has[i / 64], bits;
		unsigned lo = (unsigned)(i % 64),
			 hi = r.end / 64 == i / 64 ? (unsigned)(r.end % 64) : 63;

		bits = (hi == 63 ? ~UINT64_C(0) : (UINT64_C(1) << (hi + 1)) - 1) &
		       ~((UINT64_C(1) << lo) - 1);
		l->n_peer_has += (uint64_t)__builtin_popcountll(bits & ~*w);
		*w |= bits;
		i += hi - lo + 1;
	}
}

/* Chunk i announced by channel l's seeder, and not given up by l (a timeout). */
static bool leecher_offers(const struct ppspp_leecher *l, uint64_t i)
{
	return l->peer_id != 0 && !l->closed && !l->choked && leecher_announced(l, i) &&
	       (l->n_avoid == 0 || !bit_get(l->avoid, i));
}

/* Word w of leecher_offers: the chunks channel l may be asked for, 64 at a time. */
static uint64_t leecher_offers_word(const struct ppspp_leecher *l, size_t w)
{
	uint64_t m;

	if (l->peer_id == 0 || l->closed || l->choked)
		return 0;
	m = l->n_peer_has == l->v.n_chunks ? ~UINT64_C(0) : l->peer_has[w];
	if (l->n_refused > 0)
		m &= ~l->refused[w];
	if (l->n_avoid > 0)
		m &= ~l->avoid[w];
	return m;
}

/* Another linked channel of the swarm may be asked for chunk i. */
static bool leecher_elsewhere(const struct ppspp_leecher *l, uint64_t i)
{
	const struct ppspp_leecher *f = leecher_first(l);

	for (unsigned c = 0; c < f->n_chans; c++)
		if (f->chans[c] != l && leecher_offers(f->chans[c], i))
			return true;
	return false;
}

/* Word w of the chunks in flight on the other linked channels of l's swarm. */
static uint64_t leecher_inflight_elsewhere(const struct ppspp_leecher *l, size_t w)
{
	const struct ppspp_leecher *f = leecher_first(l);
	uint64_t m = 0;

	for (unsigned c = 0; c < f->n_chans; c++)
		if (f->chans[c] != l)
			m |= f->chans[c]->inflight[w];
	return m;
}

/*
 * Chunk i is worth asking for on channel l: announced by its seeder, neither held nor in
 * flight on any channel of the swarm, and not timed out here unless no other channel can be
 * asked for it.
 */
static bool leecher_wanted(const struct ppspp_leecher *l, uint64_t i)
{
	return !bit_get(l->have, i) && !bit_get(l->asked, i) && leecher_announced(l, i) &&
	       (l->n_avoid == 0 || !bit_get(l->avoid, i) || !leecher_elsewhere(l, i));
}

/* The bitmaps each channel has of its own (a later channel shares have and asked). */
static int leecher_channel_alloc(struct ppspp_leecher *l, size_t words)
{
	l->inflight = calloc(words, sizeof(uint64_t));
	l->peer_has = calloc(words, sizeof(uint64_t));
	l->avoid = calloc(words, sizeof(uint64_t));
	l->refused = calloc(words, sizeof(uint64_t));
	l->cancel = calloc(words, sizeof(uint64_t));
	l->relost = calloc(words, sizeof(uint64_t));
	l->bare = calloc(words, sizeof(uint64_t));
	return l->inflight == NULL || l->peer_has == NULL || l->avoid == NULL ||
			       l->refused == NULL || l->cancel == NULL || l->relost == NULL ||
			       l->bare == NULL
		       ? -ENOMEM
		       : 0;
}

static void leecher_channel_free(struct ppspp_leecher *l)
{
	free(l->inflight);
	free(l->peer_has);
	free(l->avoid);
	free(l->refused);
	free(l->cancel);
	free(l->relost);
	free(l->bare);
}

int ppspp_leecher_init(struct ppspp_leecher *l, struct crypto_engine *e, enum hash_alg alg,
		       uint32_t chunk_size, uint64_t content_len, const uint8_t *swarm_id,
		       uint32_t local_id, uint8_t cam)
{
	size_t words;
	int rc;

	memset(l, 0, sizeof(*l));
	if (local_id == 0 || (cam != PPSPP_CAM_CHUNK32 && cam != PPSPP_CAM_CHUNK64))
		return -EINVAL;
	rc = merkle_verifier_init(&l->v, alg, chunk_size, content_len, swarm_id);
	if (rc != 0)
		return rc;
	words = leecher_words(l);
	l->have = calloc(words, sizeof(uint64_t));
	l->asked = calloc(words, sizeof(uint64_t));
	if (l->have == NULL || l->asked == NULL || leecher_channel_alloc(l, words) != 0) {
		ppspp_leecher_fini(l);
		return -ENOMEM;
	}
	l->n_have_p = &l->n_have;
	l->chans[0] = l;
	l->n_chans = 1;
	l->e = e;
	l->local_id = local_id;
	l->cam = cam;
	memcpy(l->swarm_id, swarm_id, hash_len(alg));
	l->ctx = (struct ppspp_ctx){ .cam = PPSPP_CAM_CHUNK32, .hash_len = (uint8_t)hash_len(alg),
				     .chunk_size = chunk_size };
	return 0;
}

int ppspp_leecher_attach(struct ppspp_leecher *l, struct ppspp_leecher *first, uint32_t local_id)
{
	size_t words = leecher_words(first);

	memset(l, 0, sizeof(*l));
	if (local_id == 0 || first->first != NULL)
		return -EINVAL;
	if (leecher_channel_alloc(l, words) != 0) {
		leecher_channel_free(l);
		return -ENOMEM;
	}
	/* The verifier's state is all in its arrays: a copy of the struct shares them. */
	l->v = first->v;
	l->have = first->have;
	l->asked = first->asked;
	l->n_have_p = &first->n_have;
	l->first = first;
	l->local_id = local_id;
	l->cam = first->cam;
	memcpy(l->swarm_id, first->swarm_id, sizeof(l->swarm_id));
	/* Only what first never changes is read here: its channel may be running elsewhere. */
	l->ctx = (struct ppspp_ctx){.cam = PPSPP_CAM_CHUNK32,
		.hash_len = (uint8_t)l->v.hash_len,
		.chunk_size = l->v.chunk_size};
	return 0;
}

int ppspp_leecher_link(struct ppspp_leecher *l)
{
	struct ppspp_leecher *f = l->first;

	if (f == NULL || f->n_chans == LEECHER_CHANNELS_MAX)
		return -ENOSPC;
	f->chans[f->n_chans++] = l;
	return 0;
}

void ppspp_leecher_fini(struct ppspp_leecher *l)
{
	if (l->first == NULL) { /* the swarm's state is this channel's */
		merkle_verifier_fini(&l->v);
		free(l->have);
		free(l->asked);
	}
	leecher_channel_free(l);
	memset(l, 0, sizeof(*l));
}

bool ppspp_leecher_done(const struct ppspp_leecher *l)
{
	return *l->n_have_p == l->v.n_chunks;
}

int ppspp_leecher_handshake(struct ppspp_leecher *l, uint8_t *buf, size_t cap)
{
	struct ppspp_builder b;
	struct ppspp_ctx base = l->ctx;
	int rc;

	base.cam = PPSPP_CAM_CHUNK32;
	rc = ppspp_builder_init(&b, &base, buf, cap, PPSPP_CHANNEL_INITIAL);
	if (rc == 0)
		rc = ppspp_builder_handshake_begin(&b, l->local_id);
	if (rc == 0)
		rc = ppspp_builder_append_opt_version(&b, PPSPP_VERSION_1);
	if (rc == 0)
		rc = ppspp_builder_append_opt_min_version(&b, PPSPP_VERSION_1);
	if (rc == 0)
		rc = ppspp_builder_append_opt_swarm_id(&b, l->swarm_id, l->v.hash_len);
	if (rc == 0)
		rc = ppspp_builder_append_opt_cipm(&b, PPSPP_CIPM_MERKLE);
	if (rc == 0)
		rc = ppspp_builder_append_opt_mhf(&b, l->v.alg == HASH_SHA1 ? PPSPP_MHF_SHA1
									    : PPSPP_MHF_SHA256);
	if (rc == 0)
		rc = ppspp_builder_append_opt_cam(&b, l->cam);
	if (rc == 0)
		rc = ppspp_builder_append_opt_chunk_size(&b, l->v.chunk_size);
	if (rc == 0)
		rc = ppspp_builder_handshake_end(&b);
	return rc != 0 ? rc : ppspp_builder_finish(&b);
}

int ppspp_leecher_close(const struct ppspp_leecher *l, uint8_t *buf, size_t cap)
{
	struct ppspp_builder b;
	int rc;

	if (l->peer_id == 0 || l->closed)
		return 0;
	rc = ppspp_builder_init(&b, &l->ctx, buf, cap, l->peer_id);
	if (rc == 0)
		rc = ppspp_builder_handshake_begin(&b, PPSPP_CHANNEL_CLOSE);
	if (rc == 0)
		rc = ppspp_builder_handshake_end(&b);
	return rc != 0 ? rc : ppspp_builder_finish(&b);
}

typedef int (*leecher_append_fn)(struct ppspp_builder *b, struct ppspp_range r);

static bool leecher_log_full(const struct ppspp_leecher *l)
{
	return l->req_head - l->req_tail == LEECHER_REQ_LOG;
}

/* A REQUEST for start..end goes out on l: its place in the channel's request order. */
static void leecher_log(struct ppspp_leecher *l, uint64_t start, uint64_t end)
{
	l->reqs[l->req_head % LEECHER_REQ_LOG] =
		(struct leecher_req){.start = start, .end = end, .pos = l->req_pos};
	l->req_head++;
	l->req_pos += end - start + 1;
}

/*
 * The runs of set bits in m (word w of a chunk bitmap), lowest first, appended as ranges
 * with fn until max chunks are in or the datagram is full. With log (REQUESTs), each run is
 * logged in l's request order, and none is appended once the log is full. Returns the bits
 * appended.
 */
static uint64_t leecher_append_runs(struct ppspp_builder *b, leecher_append_fn fn,
	struct ppspp_leecher *log, size_t w, uint64_t m, uint64_t max)
{
	uint64_t done = 0, n = 0;

	while (m != 0 && n < max) {
		unsigned lo = (unsigned)__builtin_ctzll(m);
		uint64_t rest = ~(m >> lo),
			 run = rest == 0 ? 64 - lo : (uint64_t)__builtin_ctzll(rest), bits;

		if (run > max - n)
			run = max - n;
		bits = (run == 64 ? ~UINT64_C(0) : (UINT64_C(1) << run) - 1) << lo;
		if ((log != NULL && leecher_log_full(log)) ||
			fn(b, (struct ppspp_range){w * 64 + lo, w * 64 + lo + run - 1}) != 0)
			break;
		if (log != NULL)
			leecher_log(log, w * 64 + lo, w * 64 + lo + run - 1);
		done |= bits;
		m &= ~bits;
		n += run;
	}
	return done;
}

/* A seeder that chokes or closes has dropped our requests: no CANCEL is owed to it (and a
 * pending one would have the caller try to send every tick what requests() never will). */
static void leecher_cancels_drop(struct ppspp_leecher *l)
{
	if (l->n_cancel == 0)
		return;
	memset(l->cancel, 0, leecher_words(l) * sizeof(uint64_t));
	l->n_cancel = 0;
}

/* CANCEL for the chunks in flight here that arrived on another channel, as many as fit. */
static void leecher_cancels(struct ppspp_leecher *l, struct ppspp_builder *b)
{
	size_t words = leecher_words(l);

	for (size_t w = 0; w < words && l->n_cancel > 0; w++) {
		uint64_t sent;

		if (l->cancel[w] == 0)
			continue;
		sent = leecher_append_runs(
			b, ppspp_builder_append_cancel, NULL, w, l->cancel[w], UINT64_MAX);
		l->n_cancel -= (uint64_t)__builtin_popcountll(sent);
		if (sent != l->cancel[w]) { /* the datagram is full: the rest go next time */
			l->cancel[w] &= ~sent;
			return;
		}
		l->cancel[w] = 0;
	}
}

/*
 * The end game: nothing is left to ask of anyone but what is in flight, and little of it.
 * Chunks in flight on other channels that this seeder offers are asked of it too, lowest
 * first (the oldest requests, as channels ask in order), within the window. `asked` is
 * already set for them. Costs a scan of the bitmaps, like the request scan at the tail.
 */
static void leecher_endgame(struct ppspp_leecher *l, struct ppspp_builder *b, uint64_t window)
{
	size_t words = leecher_words(l);

	for (size_t w = 0; w < words && l->n_inflight < window; w++) {
		/* Past the last chunk nothing is asked: no bit to mask there. */
		uint64_t m = ~l->have[w] & l->asked[w] & ~l->inflight[w] &
			     leecher_offers_word(l, w),
			 got;

		if (m == 0)
			continue;
		got = leecher_append_runs(
			b, ppspp_builder_append_request, l, w, m, window - l->n_inflight);
		l->inflight[w] |= got;
		l->n_inflight += (uint64_t)__builtin_popcountll(got);
		l->endgame_asked += (uint64_t)__builtin_popcountll(got);
		if (got != m && l->n_inflight < window)
			return; /* the datagram (or the request log) is full */
	}
}

int ppspp_leecher_requests(struct ppspp_leecher *l, uint8_t *buf, size_t cap, uint64_t window)
{
	struct ppspp_builder b;
	uint64_t n = l->v.n_chunks, i, scanned = 0;
	int rc;

	if (l->peer_id == 0 || l->closed || l->choked)
		return 0;
	rc = ppspp_builder_init(&b, &l->ctx, buf, cap, l->peer_id);
	if (rc != 0)
		return rc;
	/* Nothing in flight here: nothing logged is awaited (chunks that arrived on another
	 * channel leave this one's records behind), and a full log must not mute the channel. */
	if (l->n_inflight == 0)
		l->req_tail = l->req_head;
	l->reask_due = false;
	if (l->n_cancel > 0)
		leecher_cancels(l, &b);
	i = l->next_scan % n;
	while (scanned < n && l->n_inflight < window) {
		uint64_t j = i, w = i / 64;
		/* Candidates from i to the word's end: announced, not held, not in flight. */
		uint64_t cand = ~l->have[w] & ~l->asked[w] &
				(l->n_peer_has == n ? ~UINT64_C(0) : l->peer_has[w]) &
				(l->n_refused == 0 ? ~UINT64_C(0) : ~l->refused[w]);

		if (w == (n - 1) / 64 && n % 64 != 0)
			cand &= (UINT64_C(1) << (n % 64)) - 1; /* nothing past the last chunk */
		cand >>= i % 64;
		if (cand == 0 || !leecher_wanted(l, i + (uint64_t)__builtin_ctzll(cand))) {
			/* None in this word (a word at a time: the tail of a large swarm, when
			 * everything is held or in flight, costs n/64 steps), or the first one is
			 * timed out here: past it. */
			uint64_t step =
				cand == 0 ? 64 - i % 64 : (uint64_t)__builtin_ctzll(cand) + 1;

			if (i + step > n)
				step = n - i;
			i = (i + step) % n;
			scanned += step;
			continue;
		}
		scanned += (uint64_t)__builtin_ctzll(cand);
		i += (uint64_t)__builtin_ctzll(cand);
		j = i;
		/* The longest run of wanted chunks from i that fits the window and the file end. */
		while (j + 1 < n && j - i + 1 < window - l->n_inflight && leecher_wanted(l, j + 1))
			j++;
		if (leecher_log_full(l) ||
			ppspp_builder_append_request(&b, (struct ppspp_range){i, j}) != 0)
			break;
		leecher_log(l, i, j);
		for (uint64_t k = i; k <= j; k++) {
			bit_set(l->inflight, k);
			bit_set(l->asked, k);
		}
		l->n_inflight += j - i + 1;
		scanned += j - i + 1;
		i = (j + 1) % n;
	}
	l->next_scan = i;
	/* Every chunk was looked at and none is left to ask: the end game, when the chunks not
	 * held are few (else it would duplicate a large part of the swarm). */
	if (scanned >= n && l->n_inflight < window && leecher_first(l)->n_chans > 1 &&
		n - *l->n_have_p <= window)
		leecher_endgame(l, &b, window);
	rc = ppspp_builder_finish(&b);
	return rc == PPSPP_CHANNEL_LEN ? 0 : rc; /* a bare channel header: nothing to ask */
}

uint64_t ppspp_leecher_held_prefix(const struct ppspp_leecher *l, uint64_t from)
{
	uint64_t bins[MERKLE_MAX_PEAKS], n = l->v.n_chunks, a = from;
	unsigned np = merkle_peaks(n, bins);

	for (unsigned k = 0; k < np; k++)
		if (!merkle_verifier_trusts(&l->v, bins[k]))
			return 0;
	while (a < n) { /* a word at a time: in-order arrival walks about one burst */
		uint64_t missing = ~l->have[a / 64] >> (a % 64);

		if (missing != 0) {
			a += (uint64_t)__builtin_ctzll(missing);
			break;
		}
		a += 64 - a % 64;
	}
	return a < n ? a : n;
}

void ppspp_leecher_peer_has_all(struct ppspp_leecher *l)
{
	l->have_seen = true;
	leecher_peer_has(l, (struct ppspp_range){0, l->v.n_chunks - 1}); /* refused stay masked */
}

uint64_t ppspp_leecher_forgive(struct ppspp_leecher *l)
{
	const struct ppspp_leecher *f = leecher_first(l);
	size_t words = leecher_words(l);
	uint64_t n = 0;

	if (l->n_refused == 0)
		return 0;
	for (size_t w = 0; w < words; w++) {
		uint64_t stuck, held;

		if (l->refused[w] == 0)
			continue;
		stuck = l->refused[w] & ~l->have[w];
		held = l->refused[w] & l->have[w];
		/* Only what no other channel can be asked for: a forger is not asked again for
		 * a chunk an honest source offers. */
		for (unsigned c = 0; c < f->n_chans && stuck != 0; c++)
			if (f->chans[c] != l)
				stuck &= ~leecher_offers_word(f->chans[c], w);
		/* Held ones (from another source since) go too: never asked again anyway, and
		 * n_refused reaching 0 ends the caller's retries. */
		l->refused[w] &= ~(stuck | held);
		l->n_refused -= (uint64_t)__builtin_popcountll(stuck | held);
		n += (uint64_t)__builtin_popcountll(stuck);
	}
	l->forgiven += n;
	return n;
}

uint64_t ppspp_leecher_retry(struct ppspp_leecher *l, uint64_t now, uint64_t per_s)
{
	uint64_t n;

	if (l->refusals != l->retry_bad) {
		bool again = l->retry_forgiven;

		/* Bad again after a forgiveness: this source waits twice as long next time. */
		if (again && l->retry_shift < LEECHER_RETRY_SHIFT_MAX)
			l->retry_shift++;
		l->retry_forgiven = false;
		l->retry_bad = l->refusals;
		l->retry_last_bad = now;
		/* (Still armed after a forgiveness for what stayed refused: the longer delay.) */
		if (!l->retry_armed || again) {
			l->retry_armed = true;
			l->retry_at = now + (per_s << l->retry_shift);
		}
	} else if (l->retry_shift > 0 &&
		   now - l->retry_last_bad > 2 * (per_s << LEECHER_RETRY_SHIFT_MAX)) {
		l->retry_shift = 0; /* clean for a long while: the next bad chunk is news */
	}
	if (!l->retry_armed || now < l->retry_at)
		return 0;
	if (l->n_refused == 0) {
		l->retry_armed = false;
		return 0;
	}
	n = ppspp_leecher_forgive(l);
	/* Those another source can serve stay refused: looked at again later, as that source
	 * may stop offering them (time out, choke, close) with no new refusal here to arm it. */
	l->retry_at = now + (per_s << l->retry_shift);
	if (n == 0)
		return 0;
	l->retry_armed = l->n_refused > 0;
	l->retry_forgiven = true;
	return n;
}

void ppspp_leecher_timeout(struct ppspp_leecher *l)
{
	size_t words = leecher_words(l);
	const struct ppspp_leecher *f = leecher_first(l);

	/*
	 * What this channel had in flight may be asked again. With other channels linked, of
	 * them first: left alone here until this channel delivers again (else a source that
	 * died would take the same chunks back right after each timeout).
	 */
	for (size_t k = 0; k < words; k++) {
		uint64_t gone = l->inflight[k];

		/* A first copy still on its way comes out of order: it shows no loss. */
		l->relost[k] |= gone;

		/* Those in flight on another channel too (the end game) are still asked there. */
		if (gone != 0 && f->n_chans > 1)
			gone &= ~leecher_inflight_elsewhere(l, k);
		l->asked[k] &= ~gone;
		if (f->n_chans > 1) {
			l->n_avoid += (uint64_t)__builtin_popcountll(l->inflight[k] & ~l->avoid[k]);
			l->avoid[k] |= l->inflight[k];
			/*
			 * A channel that timed out on them before is no worse than this one now:
			 * it may be asked again. Else, once every channel avoids a chunk, the one
			 * that timed out last takes it back at once after each timeout (nothing
			 * else is asking it), and a source that died keeps it from a live one
			 * for good (the end game's copies time out last).
			 */
			for (unsigned c = 0; c < f->n_chans; c++) {
				struct ppspp_leecher *o = f->chans[c];
				uint64_t back;

				if (o == l || o->n_avoid == 0)
					continue;
				back = o->avoid[k] & l->inflight[k];
				o->avoid[k] &= ~back;
				o->n_avoid -= (uint64_t)__builtin_popcountll(back);
			}
		}
	}
	memset(l->inflight, 0, words * sizeof(uint64_t));
	l->n_inflight = 0;
	l->next_scan = 0;
	l->req_tail = l->req_head; /* nothing logged is in flight any more */
}

/* Chunk c, in flight here, is not any more; still asked where it is in flight on another
 * channel too (the end game). */
static void leecher_unask(struct ppspp_leecher *l, uint64_t c)
{
	uint64_t o = leecher_inflight_elsewhere(l, c / 64);

	bit_clear(l->inflight, c);
	l->n_inflight--;
	if (!bit_get(&o, c % 64))
		bit_clear(l->asked, c);
}

/*
 * Chunk c, in flight here, will not come (lost, or it came without the uncles to check it):
 * askable again at once, here first (the scan goes back to it).
 */
static void leecher_lost(struct ppspp_leecher *l, uint64_t c)
{
	leecher_unask(l, c);
	bit_set(l->relost, c);
	if (c < l->next_scan)
		l->next_scan = c;
	l->reask_due = true;
}

/* Chunk c's copy from this seeder refused: not asked of it again until forgiven. */
static void leecher_refuse(struct ppspp_leecher *l, uint64_t c)
{
	if (!bit_get(l->refused, c)) {
		bit_set(l->refused, c);
		l->n_refused++;
	}
	l->refusals++;
}

/* Chunk c is asked in a record after the t-th: asked again since that one. */
static bool leecher_logged_later(const struct ppspp_leecher *l, uint32_t t, uint64_t c)
{
	for (t++; t != l->req_head; t++) {
		const struct leecher_req *r = &l->reqs[t % LEECHER_REQ_LOG];

		if (r->start <= c && c <= r->end)
			return true;
	}
	return false;
}

/*
 * Chunk c, asked of this channel, arrived (verified or not). Seeders answer in request
 * order, so chunks asked LEECHER_REORDER places or more before it that are still in flight
 * were lost. The log's oldest ranges are consumed as they are passed or arrive; each chunk
 * is looked at once. A chunk asked again after a loss or a timeout tells nothing (its first
 * copy may be the one arriving now, late).
 */
static void leecher_passed(struct ppspp_leecher *l, uint64_t c)
{
	uint64_t upto = 0;
	uint32_t t;
	bool order = false;

	if (bit_get(l->relost, c)) {
		bit_clear(l->relost, c);
	} else {
		for (t = l->req_tail; t != l->req_head; t++) {
			const struct leecher_req *r = &l->reqs[t % LEECHER_REQ_LOG];

			if (r->start <= c && c <= r->end) {
				uint64_t p = r->pos + (c - r->start);

				order = p >= LEECHER_REORDER;
				upto = p - LEECHER_REORDER;
				break;
			}
		}
	}
	while (l->req_tail != l->req_head) {
		struct leecher_req *r = &l->reqs[l->req_tail % LEECHER_REQ_LOG];

		for (; r->start <= r->end; r->start++, r->pos++) {
			if (!bit_get(l->inflight, r->start))
				continue; /* arrived, or given up: nothing to wait for */
			if (!order || r->pos > upto)
				return;
			/* Given up outside this sweep (it came without its uncles, or was refused
			 * and forgiven) and asked again already: only the newer entry counts. */
			if (leecher_logged_later(l, l->req_tail, r->start))
				continue;
			leecher_lost(l, r->start);
			l->lost++;
		}
		l->req_tail++;
	}
}

static const uint8_t *leecher_stash_find(const struct ppspp_leecher *l, uint64_t bin)
{
	for (unsigned k = 0; k < LEECHER_STASH; k++) {
		/* newest first: the DATA's own INTEGRITY wins over an older copy */
		const struct leecher_stash_entry *s =
			&l->stash[(l->stash_next + LEECHER_STASH - 1 - k) % LEECHER_STASH];

		if (s->bin == bin + 1) /* bin + 1: 0 marks an empty slot */
			return s->hash;
	}
	return NULL;
}

static void leecher_try_peaks(struct ppspp_leecher *l)
{
	uint64_t bins[MERKLE_MAX_PEAKS];
	uint8_t hashes[MERKLE_MAX_PEAKS * HASH_MAX_LEN];
	unsigned n = merkle_peaks(l->v.n_chunks, bins), hl = l->v.hash_len;

	for (unsigned k = 0; k < n; k++) {
		const uint8_t *h = merkle_verifier_trusts(&l->v, bins[k])
					   ? l->v.nodes + bins[k] * hl
					   : leecher_stash_find(l, bins[k]);

		if (h == NULL)
			return;
		memcpy(hashes + k * hl, h, hl);
	}
	if (merkle_verifier_add_peaks(&l->v, l->e, hashes, n) == 0)
		l->peaks_ok = true;
	else
		l->counts[LEECHER_R_BAD_PEAKS]++;
}

/* Fewer DATA than this in a burst are hashed one by one. */
enum { LEECHER_MB_MIN = 8 };

/* A DATA message waiting for the burst's leaf hashes. */
struct leecher_pending {
	uint64_t chunk;
	uint64_t timestamp; /* the seeder's, from the DATA */
	const uint8_t *payload;
	size_t len;
	unsigned rx; /* index of its datagram */
	uint8_t leaf[HASH_MAX_LEN];
};

/* A DATA for a chunk already held (the end game's later copy): only ACKed. */
struct leecher_dup {
	uint64_t chunk;
	uint64_t timestamp;
};

static void leecher_note(struct ppspp_leecher *l, struct leecher_rx *rx, enum leecher_reason r)
{
	if (r == LEECHER_R_OK)
		return;
	l->counts[r]++;
	if (rx->reason == LEECHER_R_OK)
		rx->reason = r;
}

/* Phase 1 for one datagram: handshake and INTEGRITY now, DATA into pending. */
static void leecher_take(struct ppspp_leecher *l, struct leecher_rx *rx, unsigned idx,
	struct leecher_pending *pend, unsigned *n_pend, struct leecher_dup *dup, unsigned *n_dup)
{
	struct ppspp_msg msgs[LEECHER_MSGS_MAX];
	struct ppspp_decode_result res;
	int n = ppspp_datagram_decode(&l->ctx, rx->buf, rx->len, msgs, LEECHER_MSGS_MAX, &res);

	rx->reason = LEECHER_R_OK;
	if (n < 0) {
		leecher_note(l, rx, LEECHER_R_MALFORMED);
		return;
	}
	if (res.dest_channel != l->local_id) {
		leecher_note(l, rx, LEECHER_R_BAD_CHANNEL);
		return;
	}
	for (int i = 0; i < n; i++) {
		const struct ppspp_msg *m = &msgs[i];
		const struct ppspp_handshake *hs = &m->u.handshake;

		switch (m->type) {
		case PPSPP_MSG_HANDSHAKE:
			if (hs->src_channel == PPSPP_CHANNEL_CLOSE) {
				l->closed = true;
				leecher_cancels_drop(l);
				leecher_note(l, rx, LEECHER_R_CLOSED);
				break;
			}
			if (l->peer_id != 0)
				break; /* a repeated answer to a resent handshake */
			if (!ppspp_handshake_has(hs, PPSPP_OPT_SWARM_ID) ||
			    hs->swarm_id_len != l->v.hash_len ||
			    memcmp(hs->swarm_id, l->swarm_id, l->v.hash_len) != 0 ||
			    (ppspp_handshake_has(hs, PPSPP_OPT_CHUNK_SIZE) &&
			     hs->chunk_size != l->v.chunk_size) ||
			    (ppspp_handshake_has(hs, PPSPP_OPT_CAM) && hs->cam != l->cam)) {
				leecher_note(l, rx, LEECHER_R_BAD_HANDSHAKE);
				return; /* nothing else in it is acted on */
			}
			l->peer_id = hs->src_channel;
			l->ctx = res.ctx;
			break;
		case PPSPP_MSG_INTEGRITY: {
			struct ppspp_range rg = m->u.integrity.range;
			uint64_t w = rg.end - rg.start + 1;
			unsigned layer;

			if (w == 0 || (w & (w - 1)) != 0 || rg.start % w != 0)
				break; /* not a bin: ignored */
			layer = (unsigned)__builtin_ctzll(w);
			if (layer > l->v.height)
				break;
			l->stash[l->stash_next].bin = merkle_bin(layer, rg.start >> layer) + 1;
			memcpy(l->stash[l->stash_next].hash, m->u.integrity.hash, l->v.hash_len);
			l->stash_next = (l->stash_next + 1) % LEECHER_STASH;
			l->stash_added++;
			break;
		}
		case PPSPP_MSG_DATA: {
			uint64_t c = m->u.data.range.start;

			if (l->peer_id == 0)
				break;
			if (m->u.data.range.end != c || c >= l->v.n_chunks || bit_get(l->have, c) ||
			    *n_pend == LEECHER_BURST_MAX) {
				leecher_note(l, rx, LEECHER_R_UNWANTED);
				/* A copy of a chunk held (asked of two sources in the end game) is
				 * ACKed all the same: the seeder's congestion window counts what it
				 * sent in flight until ACKed, and would fill up with such copies.
				 */
				if (m->u.data.range.end == c && c < l->v.n_chunks &&
					bit_get(l->have, c) && *n_dup < LEECHER_BURST_MAX)
					dup[(*n_dup)++] = (struct leecher_dup){
						.chunk = c, .timestamp = m->u.data.timestamp};
				break;
			}
			pend[*n_pend] = (struct leecher_pending){ .chunk = c,
								  .timestamp = m->u.data.timestamp,
								  .payload = m->u.data.payload,
								  .len = m->u.data.payload_len,
								  .rx = idx };
			(*n_pend)++;
			break;
		}
		case PPSPP_MSG_CHOKE:
			/* Our requests are dropped from now on: ask nothing until UNCHOKE, and
			 * nothing queued there is left to cancel. */
			l->choked = true;
			leecher_cancels_drop(l);
			break;
		case PPSPP_MSG_UNCHOKE:
			if (l->choked) {
				l->choked = false;
				ppspp_leecher_timeout(l); /* what was in flight was dropped */
			}
			break;
		case PPSPP_MSG_HAVE:
			/* Only a HAVE of something in the swarm counts as one: a seeder that
			 * announces nothing real is still asked for everything after a while
			 * (ppspp_leecher_peer_has_all, by the caller). */
			if (l->peer_id != 0 && m->u.range.start < l->v.n_chunks &&
				m->u.range.start <= m->u.range.end) {
				l->have_seen = true;
				leecher_peer_has(l, m->u.range);
			}
			break;
		default:
			break; /* ACK, PEX...: nothing a leecher of one seeder needs */
		}
	}
}

/* Phase 3 for one chunk whose leaf is hashed: uncles from the stash, then the Merkle check. */
static enum leecher_reason leecher_verify(struct ppspp_leecher *l,
					  const struct leecher_pending *p)
{
	uint64_t bins[MERKLE_MAX_HEIGHT];
	uint8_t uncles[MERKLE_MAX_HEIGHT * HASH_MAX_LEN];
	unsigned hl = l->v.hash_len;
	int n;

	if (bit_get(l->have, p->chunk))
		return LEECHER_R_UNWANTED; /* twice in one burst */
	n = merkle_verifier_uncles(&l->v, p->chunk, bins, MERKLE_MAX_HEIGHT);
	if (n < 0)
		return LEECHER_R_UNWANTED;
	for (int k = 0; k < n; k++) {
		const uint8_t *h = leecher_stash_find(l, bins[k]);

		if (h == NULL)
			return LEECHER_R_MISSING_UNCLES;
		memcpy(uncles + k * hl, h, hl);
	}
	if (merkle_verifier_check_leaf(&l->v, l->e, p->chunk, p->len, p->leaf, uncles,
				       (unsigned)n) != 0)
		return LEECHER_R_BAD_CHUNK;
	return LEECHER_R_OK;
}

/* The ACK datagram of a burst, begun at the first chunk to acknowledge. */
struct leecher_ack {
	struct ppspp_builder b;
	uint8_t *buf;
	size_t cap;
	bool tried, on;
};

static void leecher_ack_begin(struct ppspp_leecher *l, struct leecher_ack *a)
{
	if (a->tried)
		return;
	a->tried = true;
	a->on = a->buf != NULL &&
		ppspp_builder_init(&a->b, &l->ctx, a->buf, a->cap, l->peer_id) == 0;
}

/*
 * Phases 2 and 3 for the DATA taken so far: every leaf in one multi-buffer pass, then each
 * chunk checked against its uncles, delivered and acknowledged. Returns the chunks delivered.
 */
static unsigned leecher_settle(struct ppspp_leecher *l, struct leecher_rx *rx,
	struct leecher_pending *pend, unsigned n_pend, leecher_deliver_fn deliver, void *ctx,
	struct leecher_ack *a)
{
	struct hash_op ops[LEECHER_BURST_MAX];
	unsigned delivered = 0;

	if (n_pend == 0)
		return 0;
	if (!l->peaks_ok)
		leecher_try_peaks(l);
	/*
	 * A few alone are cheaper on OpenSSL: a short burst leaves most multi-buffer lanes empty
	 * (performance-anchors.md, trap 1).
	 */
	if (n_pend >= LEECHER_MB_MIN) {
		for (unsigned i = 0; i < n_pend; i++)
			ops[i] = (struct hash_op){ .src = pend[i].payload, .out = pend[i].leaf,
						   .len = (uint32_t)pend[i].len };
		hash_burst(l->e, l->v.alg, ops, n_pend);
	} else {
		for (unsigned i = 0; i < n_pend; i++)
			hash_oneshot(l->e, l->v.alg, pend[i].payload, pend[i].len, pend[i].leaf);
	}
	leecher_ack_begin(l, a);
	for (unsigned i = 0; i < n_pend; i++) {
		const struct leecher_pending *p = &pend[i];
		enum leecher_reason r = leecher_verify(l, p);
		/* Asked of this channel: its arrival says what before it was lost. */
		bool mine = r != LEECHER_R_UNWANTED && bit_get(l->inflight, p->chunk);

		if (r != LEECHER_R_OK) {
			leecher_note(l, &rx[p->rx], r);
			/*
			 * Without the uncles a lost datagram carried it cannot be checked: asked
			 * again at once (the seeder then sends whole paths again), not left in
			 * flight until the channel times out. Without them again when asked
			 * again, the seeder is not sending them: refused as a bad copy is, so
			 * a seeder that omits them is asked on the backoff, not every round trip.
			 */
			if (r == LEECHER_R_MISSING_UNCLES && mine) {
				leecher_passed(l, p->chunk);
				if (bit_get(l->inflight, p->chunk)) {
					if (bit_get(l->bare, p->chunk)) {
						bit_clear(l->bare, p->chunk);
						leecher_refuse(l, p->chunk);
						leecher_unask(l, p->chunk);
						l->uncles_refused++;
					} else {
						bit_set(l->bare, p->chunk);
						leecher_lost(l, p->chunk);
					}
				}
			}
			/* A seeder whose copy of the chunk is bad is not asked for it again, and
			 * it is not in flight here any more: askable at once of another channel. */
			if (r == LEECHER_R_BAD_CHUNK) {
				bit_clear(l->bare, p->chunk); /* its last copy had its uncles */
				leecher_refuse(l, p->chunk);
				if (mine) {
					leecher_unask(l, p->chunk);
					leecher_passed(l, p->chunk);
				}
			}
			continue;
		}
		bit_set(l->have, p->chunk);
		(*l->n_have_p)++;
		bit_clear(l->asked, p->chunk);
		if (l->n_avoid > 0) { /* it delivers again: nothing left to the others */
			memset(l->avoid, 0, leecher_words(l) * sizeof(uint64_t));
			l->n_avoid = 0;
		}
		/* Wherever it was in flight (asked again of another channel after a timeout
		 * here, or in the end game), it is not any more. Channels are linked before they
		 * run, so l is one. */
		for (unsigned c = 0; c < leecher_first(l)->n_chans; c++) {
			struct ppspp_leecher *o = leecher_first(l)->chans[c];

			if (bit_get(o->inflight, p->chunk)) {
				bit_clear(o->inflight, p->chunk);
				o->n_inflight--;
				/* Its copy from there would be wasted: CANCEL with o's next
				 * requests (a copy already on its way is dropped as UNWANTED). */
				if (o != l && !o->choked && !o->closed &&
					!bit_get(o->cancel, p->chunk)) {
					bit_set(o->cancel, p->chunk);
					o->n_cancel++;
				}
			}
		}
		if (mine)
			leecher_passed(l, p->chunk);
		deliver(ctx, p->chunk, p->payload, p->len);
		delivered++;
		/* ACKs are advisory: what does not fit the datagram is simply not acked. */
		if (a->on)
			ppspp_builder_append_ack(&a->b, (struct ppspp_range){p->chunk, p->chunk},
				l->now_us != 0 ? l->now_us - p->timestamp : 0);
	}
	return delivered;
}

unsigned ppspp_leecher_input_burst(struct ppspp_leecher *l, struct leecher_rx *rx, unsigned n,
	leecher_deliver_fn deliver, void *ctx, uint8_t *ack, size_t ack_cap, size_t *ack_len)
{
	struct leecher_pending pend[LEECHER_BURST_MAX];
	struct leecher_dup dup[LEECHER_BURST_MAX];
	struct leecher_ack a = {.buf = ack, .cap = ack_cap};
	unsigned n_pend = 0, n_dup = 0, delivered = 0;
	/* Entries stashed before those a DATA not checked yet may need: INTEGRITY that came
	 * alone (too big to go with its DATA, RFC 7574 lets it travel apart) belongs to the
	 * DATA after it, perhaps in the next burst (l->stash_tail). */
	uint64_t stash_from = l->stash_tail;

	*ack_len = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned had = n_pend;

		/*
		 * The uncles of every DATA taken and not yet checked must still be in the stash.
		 * A datagram adds at most LEECHER_MSGS_MAX entries: when the next one could push
		 * out some taken since the last check, what is pending is checked first. (From
		 * several sources each datagram carries more uncles: its seeder cannot know what
		 * the others sent. Before, the stash overflowed within a burst and such chunks
		 * failed as MISSING_UNCLES, 40 % of them with two sources.)
		 */
		if (n_pend > 0 && l->stash_added - stash_from + LEECHER_MSGS_MAX > LEECHER_STASH) {
			delivered += leecher_settle(l, rx, pend, n_pend, deliver, ctx, &a);
			n_pend = 0;
			stash_from = l->stash_tail;
		}
		leecher_take(l, &rx[i], i, pend, &n_pend, dup, &n_dup);
		if (n_pend > had) /* what came with or before its DATA is the pending DATA's */
			l->stash_tail = l->stash_added;
	}
	delivered += leecher_settle(l, rx, pend, n_pend, deliver, ctx, &a);
	if (n_dup > 0)
		leecher_ack_begin(l, &a);
	for (unsigned i = 0; i < n_dup && a.on; i++)
		ppspp_builder_append_ack(&a.b, (struct ppspp_range){dup[i].chunk, dup[i].chunk},
			l->now_us != 0 ? l->now_us - dup[i].timestamp : 0);
	if (a.on && (delivered > 0 || n_dup > 0)) {
		int len = ppspp_builder_finish(&a.b);

		*ack_len = len > PPSPP_CHANNEL_LEN ? (size_t)len : 0;
	}
	return delivered;
}

enum leecher_reason ppspp_leecher_input(struct ppspp_leecher *l, const uint8_t *buf, size_t len,
					leecher_deliver_fn deliver, void *ctx, uint8_t *ack,
					size_t ack_cap, size_t *ack_len)
{
	struct leecher_rx rx = { .buf = buf, .len = len };

	ppspp_leecher_input_burst(l, &rx, 1, deliver, ctx, ack, ack_cap, ack_len);
	return rx.reason;
}
