/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PPSPP seeder against a leecher built from the project's other halves: the codec for
 * every datagram both ways and merkle_verifier for every chunk, with the swarm ID and length
 * from the signed manifest as the leecher's only trust. Over an in-memory "network":
 *
 *   leecher --HANDSHAKE, REQUEST--> seeder --HANDSHAKE+HAVE, INTEGRITY.., DATA--> leecher
 *                                  <--ACK--
 *
 * Cases (numbered in the output):
 *   1  the whole swarm, datagrams of 1400 bytes (chunk + 400 for chunks over 1 KiB), in
 *      order: byte-identical, every chunk verified with the uncles the verifier asked for
 *   2  the same with datagrams of chunk + 100 bytes (INTEGRITY often travels apart)
 *   3  every 5th seeder datagram lost: the leecher re-requests what it could not verify
 *   4  CAM 4 (64-bit chunk ranges) announced by the leecher
 *   5  a chunk altered in transit is refused by the leecher, and fetched again intact
 *   6  hostile handshakes and requests: wrong swarm, no version, wrong hash function, wrong
 *      chunk size, other CIPM, datagram before handshake, wrong channel, out-of-range
 *      request, malformed bytes: each refused with its reason, channel state untouched
 *   7  CANCEL removes queued chunks; a close handshake ends the channel
 *   8  a window kept full one REQUEST at a time while the seeder sends nothing (held back):
 *      the contiguous requests share a queue slot, none is refused, all served in order;
 *      requests with gaps between them are still limited to SEEDER_REQ_MAX ranges
 *   9  serving while ingesting, the project's leecher on both hops: leecher A fetches the
 *      swarm from a seeder of the whole store a few datagrams at a time; a second seeder
 *      serves A's buffer and A's verifier nodes as they fill (the data plane's view, the
 *      count of chunks in from the first published after each step) to leecher B. B is
 *      told of chunks by HAVE as they arrive, asks only for those, is never sent a chunk
 *      beyond the count (nor is a REQUEST for everything answered early), waits (starved)
 *      when it has everything announced, and ends byte-identical, every chunk verified
 *  10  the same with the 2nd HAVE and the first one after the source is complete lost: each
 *      HAVE covers everything from chunk 0, and a keep-alive from a leecher asking nothing
 *      makes the seeder say it again, so B completes
 *  11  one swarm from two sources (ppspp_leecher_attach/link): no chunk is asked of both at
 *      once before the end game (at most a window of chunks left), both are asked; then the first
 * source falls silent half-way, its channel times out and the second gets the rest; byte-identical,
 * every chunk verified once 12  a chunk whose copy from a seeder failed verification is not asked
 * of it again, even after it announces the whole swarm again with HAVE (without the caller's
 *      ppspp_leecher_retry: the leecher alone never asks it again)
 *  13  refused chunks forgiven on the caller's clock (ppspp_leecher_retry, simulated time):
 *      one source that alters chunk k once: k asked again 1 s later, the download completes
 *      byte-identical; one that always alters it: over 600 s k is asked at 0, 1, 3, 7 ...
 *      127 s, then every 64 s (15 times, not 600) and never delivered; two sources, the
 *      first refused k: not forgiven for 100 s while the second has k in flight, forgiven
 *      once the second times out on it
 *  14  the end game: two sources, the second slow (one datagram per round, never timing
 *      out): the last chunks, in flight on the slow one, are asked of the fast one too and
 *      cancelled on the slow one when they arrive; the swarm completes byte-identical, each
 *      chunk delivered once, in a few rounds more than the fast source alone needs (not
 *      the slow source's window of rounds); at most a copy a round comes twice, and it is
 *      ACKed (the slow seeder's LEDBAT has nothing left in flight)
 *  15  the slow source chokes in the end game: no CANCEL stays pending for it
 *  16  chunks lost or late on the way, no timeout ever called: two lost chunks are asked
 *      again as chunks asked after them arrive, within about a window, and the download
 *      completes; a chunk 2 datagrams late is not asked again, one 8 late once
 *  17  one burst of 64 datagrams, each from a seeder that knows nothing of the others (whole
 *      uncle paths: more INTEGRITY than the stash holds): every chunk delivered
 *  18  every other run of 8 chunks asked of one seeder (the others from another source),
 *      more runs than its lists hold: about one uncle per chunk after a run's first
 *  19  a chunk's INTEGRITY alone in the datagram before its DATA, a part boundary of the
 *      burst between them, datagrams with 38 INTEGRITY each after: still verified
 *  20  a seeder that sends two sibling chunks without their INTEGRITY: once, they are asked
 *      again at once and the download completes; always, they are refused after the
 *      second try and asked on the backoff (10 times in 20 s), not every round trip
 * Usage: test_seeder STORE_DIR PUBKEY_FILE CONTENT_FILE
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "chunk_store.h"
#include "ppspp_leecher.h"
#include "ppspp_seeder.h"

static struct crypto_engine eng;
static struct chunk_store store;
static uint8_t *content;
static size_t content_len;
static unsigned case_no;

enum { LEECHER_ID = 0x1eec4e12, SEEDER_ID = 0x5eed0001 };

struct leecher {
	struct merkle_verifier v;
	struct ppspp_ctx ctx;
	uint8_t *out;	      /* reassembled content */
	uint8_t *have;	      /* per chunk: verified */
	uint8_t *node;	      /* every bin's hash as received in INTEGRITY */
	uint8_t *node_known;  /* per bin */
	uint64_t n_have;
	uint64_t refused;     /* chunks that failed verification */
	uint64_t uncles_sent; /* INTEGRITY messages received */
	bool peaks_checked;
	uint8_t cam;
};

static void leecher_init(struct leecher *l, uint8_t cam)
{
	const struct manifest *m = &store.m;

	memset(l, 0, sizeof(*l));
	CHECK(merkle_verifier_init(&l->v, m->hash, m->chunk_size, m->content_len, m->swarm_id) ==
	      0);
	l->ctx = (struct ppspp_ctx){ .cam = cam, .hash_len = (uint8_t)hash_len(m->hash),
				     .chunk_size = m->chunk_size };
	l->cam = cam;
	l->out = calloc(1, content_len);
	l->have = calloc(1, l->v.n_chunks);
	l->node = calloc(l->v.n_bins, l->ctx.hash_len);
	l->node_known = calloc(1, l->v.n_bins);
	if (l->out == NULL || l->have == NULL || l->node == NULL || l->node_known == NULL)
		abort();
}

static void leecher_fini(struct leecher *l)
{
	merkle_verifier_fini(&l->v);
	free(l->out);
	free(l->have);
	free(l->node);
	free(l->node_known);
}

static size_t leecher_handshake(struct leecher *l, uint8_t *buf, size_t cap)
{
	struct ppspp_builder b;
	struct ppspp_ctx base = l->ctx;

	base.cam = PPSPP_CAM_CHUNK32;
	CHECK(ppspp_builder_init(&b, &base, buf, cap, PPSPP_CHANNEL_INITIAL) == 0);
	CHECK(ppspp_builder_handshake_begin(&b, LEECHER_ID) == 0);
	CHECK(ppspp_builder_append_opt_version(&b, 1) == 0);
	CHECK(ppspp_builder_append_opt_min_version(&b, 1) == 0);
	CHECK(ppspp_builder_append_opt_swarm_id(&b, store.m.swarm_id, hash_len(store.m.hash)) ==
	      0);
	CHECK(ppspp_builder_append_opt_cipm(&b, PPSPP_CIPM_MERKLE) == 0);
	CHECK(ppspp_builder_append_opt_mhf(&b, store.m.hash == HASH_SHA1 ? 0 : 2) == 0);
	CHECK(ppspp_builder_append_opt_cam(&b, l->cam) == 0);
	CHECK(ppspp_builder_append_opt_chunk_size(&b, store.m.chunk_size) == 0);
	CHECK(ppspp_builder_handshake_end(&b) == 0);
	return (size_t)ppspp_builder_finish(&b);
}

/* REQUEST for every chunk not verified yet, as few ranges as possible (at most max). */
static size_t leecher_requests(struct leecher *l, uint8_t *buf, size_t cap)
{
	struct ppspp_builder b;
	uint64_t n = l->v.n_chunks, i = 0;

	CHECK(ppspp_builder_init(&b, &l->ctx, buf, cap, SEEDER_ID) == 0);
	while (i < n) {
		uint64_t j;

		if (l->have[i]) {
			i++;
			continue;
		}
		for (j = i; j + 1 < n && !l->have[j + 1]; j++)
			;
		if (ppspp_builder_append_request(&b, (struct ppspp_range){ i, j }) != 0)
			break;
		i = j + 1;
	}
	return (size_t)ppspp_builder_finish(&b);
}

static void leecher_try_peaks(struct leecher *l)
{
	uint64_t bins[MERKLE_MAX_PEAKS];
	uint8_t hashes[MERKLE_MAX_PEAKS * HASH_MAX_LEN];
	unsigned n = merkle_peaks(l->v.n_chunks, bins), hl = l->ctx.hash_len;

	for (unsigned k = 0; k < n; k++) {
		if (!l->node_known[bins[k]])
			return;
		memcpy(hashes + k * hl, l->node + bins[k] * hl, hl);
	}
	CHECKF(merkle_verifier_add_peaks(&l->v, &eng, hashes, n) == 0, "case %u: peaks", case_no);
	l->peaks_checked = true;
}

/* One datagram from the seeder; *ack gets an ACK datagram to send back (or 0). */
static void leecher_input(struct leecher *l, const uint8_t *d, size_t len, uint8_t *ack,
			  size_t *ack_len)
{
	struct ppspp_msg msgs[64];
	struct ppspp_decode_result res;
	int n = ppspp_datagram_decode(&l->ctx, d, len, msgs, 64, &res);
	unsigned hl = l->ctx.hash_len;

	*ack_len = 0;
	CHECKF(n >= 0, "case %u: seeder datagram does not decode: %s", case_no,
	       ppspp_reason_name(res.reason));
	if (n < 0)
		return;
	CHECK(res.dest_channel == LEECHER_ID);
	for (int i = 0; i < n; i++) {
		const struct ppspp_msg *m = &msgs[i];

		if (m->type == PPSPP_MSG_HANDSHAKE) {
			CHECK(m->u.handshake.src_channel == SEEDER_ID);
			CHECK(m->u.handshake.cam == l->cam);
			l->ctx = res.ctx;
		} else if (m->type == PPSPP_MSG_INTEGRITY) {
			struct ppspp_range r = m->u.integrity.range;
			uint64_t w = r.end - r.start + 1;
			unsigned layer = (unsigned)__builtin_ctzll(w);

			CHECK((w & (w - 1)) == 0 && r.start % w == 0);
			uint64_t bin = merkle_bin(layer, r.start >> layer);

			CHECK(bin < l->v.n_bins);
			if (bin >= l->v.n_bins)
				continue;
			memcpy(l->node + bin * hl, m->u.integrity.hash, hl);
			l->node_known[bin] = 1;
			l->uncles_sent++;
		} else if (m->type == PPSPP_MSG_DATA) {
			uint64_t c = m->u.data.range.start, bins[MERKLE_MAX_HEIGHT];
			uint8_t uncles[MERKLE_MAX_HEIGHT * HASH_MAX_LEN];
			int nu;
			bool ok = true;

			if (!l->peaks_checked)
				leecher_try_peaks(l);
			if (c >= l->v.n_chunks || l->have[c])
				continue;
			nu = merkle_verifier_uncles(&l->v, c, bins, MERKLE_MAX_HEIGHT);
			CHECK(nu >= 0);
			for (int k = 0; k < nu && ok; k++) {
				ok = l->node_known[bins[k]];
				memcpy(uncles + k * hl, l->node + bins[k] * hl, hl);
			}
			if (!ok)
				continue; /* an uncle was lost: re-requested later */
			if (merkle_verifier_check(&l->v, &eng, c, m->u.data.payload,
						  m->u.data.payload_len, uncles,
						  (unsigned)nu) != 0) {
				l->refused++;
				continue;
			}
			memcpy(l->out + c * store.m.chunk_size, m->u.data.payload,
			       m->u.data.payload_len);
			l->have[c] = 1;
			l->n_have++;
			struct ppspp_builder b;

			CHECK(ppspp_builder_init(&b, &l->ctx, ack, 64, SEEDER_ID) == 0);
			CHECK(ppspp_builder_append_ack(&b, (struct ppspp_range){ c, c }, 100) == 0);
			*ack_len = (size_t)ppspp_builder_finish(&b);
		}
	}
}

/*
 * Runs a download. mtu: datagram cap; lose: drop every lose-th seeder datagram (0 none);
 * tamper: alter the DATA of this chunk once (UINT64_MAX none). Returns rounds used.
 */
static unsigned download(struct leecher *l, size_t mtu, unsigned lose, uint64_t tamper)
{
	struct seeder_channel ch;
	uint8_t buf[9000], ack[64];
	size_t len, ack_len;
	unsigned rounds = 0, sent = 0;
	int n;

	seeder_channel_init(&ch, &store, SEEDER_ID);
	len = leecher_handshake(l, buf, sizeof(buf));
	CHECKF(seeder_input(&ch, buf, len) == SEEDER_R_OK, "case %u: handshake", case_no);
	n = seeder_output(&ch, buf, mtu, 0);
	CHECK(n > 0);
	leecher_input(l, buf, (size_t)n, ack, &ack_len);
	while (l->n_have < l->v.n_chunks && rounds < 20) {
		rounds++;
		len = leecher_requests(l, buf, sizeof(buf));
		CHECK(seeder_input(&ch, buf, len) == SEEDER_R_OK);
		while ((n = seeder_output(&ch, buf, mtu, rounds)) > 0) {
			CHECKF((size_t)n <= mtu, "case %u: datagram of %d > %zu", case_no, n, mtu);
			if (lose != 0 && ++sent % lose == 0)
				continue;
			if (tamper != UINT64_MAX) {
				struct ppspp_msg msgs[64];
				struct ppspp_decode_result res;
				int k = ppspp_datagram_decode(&l->ctx, buf, (size_t)n, msgs, 64,
							      &res);

				if (k > 0 && msgs[k - 1].type == PPSPP_MSG_DATA &&
				    msgs[k - 1].u.data.range.start == tamper) {
					buf[n - 1] ^= 0x40;
					tamper = UINT64_MAX;
				}
			}
			leecher_input(l, buf, (size_t)n, ack, &ack_len);
			if (ack_len > 0)
				CHECK(seeder_input(&ch, ack, ack_len) == SEEDER_R_OK);
		}
		CHECKF(n == 0, "case %u: seeder_output %d", case_no, n);
	}
	return rounds;
}

static void expect_content(struct leecher *l)
{
	CHECKF(l->n_have == l->v.n_chunks, "case %u: %llu of %llu chunks", case_no,
	       (unsigned long long)l->n_have, (unsigned long long)l->v.n_chunks);
	CHECKF(memcmp(l->out, content, content_len) == 0, "case %u: content differs", case_no);
}

static void case_download(size_t mtu, unsigned lose, uint8_t cam, uint64_t tamper)
{
	struct leecher l;
	unsigned rounds;

	case_no++;
	leecher_init(&l, cam);
	rounds = download(&l, mtu, lose, tamper);
	expect_content(&l);
	if (tamper != UINT64_MAX)
		CHECKF(l.refused == 1, "case %u: %llu refused", case_no,
		       (unsigned long long)l.refused);
	else
		CHECKF(l.refused == 0, "case %u: %llu refused", case_no,
		       (unsigned long long)l.refused);
	if (lose == 0 && tamper == UINT64_MAX)
		CHECKF(rounds == 1, "case %u: %u rounds", case_no, rounds);
	printf("case %u: mtu %zu, lose 1/%u, cam %u: %llu chunks in %u rounds, %llu INTEGRITY "
	       "(%.2f per chunk)\n", case_no, mtu, lose, cam,
	       (unsigned long long)l.v.n_chunks, rounds, (unsigned long long)l.uncles_sent,
	       (double)l.uncles_sent / (double)l.v.n_chunks);
	leecher_fini(&l);
}

/* A handshake the test can bend: which option to leave out or change. */
static size_t bad_handshake(uint8_t *buf, size_t cap, int what)
{
	struct ppspp_builder b;
	struct ppspp_ctx base = { .cam = 2, .hash_len = (uint8_t)hash_len(store.m.hash),
				  .chunk_size = store.m.chunk_size };
	uint8_t swarm[HASH_MAX_LEN];

	memcpy(swarm, store.m.swarm_id, sizeof(swarm));
	if (what == SEEDER_R_WRONG_SWARM)
		swarm[0] ^= 1;
	CHECK(ppspp_builder_init(&b, &base, buf, cap, PPSPP_CHANNEL_INITIAL) == 0);
	CHECK(ppspp_builder_handshake_begin(&b, LEECHER_ID) == 0);
	if (what != SEEDER_R_BAD_VERSION)
		CHECK(ppspp_builder_append_opt_version(&b, 1) == 0);
	CHECK(ppspp_builder_append_opt_swarm_id(&b, swarm, hash_len(store.m.hash)) == 0);
	CHECK(ppspp_builder_append_opt_cipm(&b, what == SEEDER_R_BAD_CIPM ? 3 : 1) == 0);
	if (what == SEEDER_R_BAD_HASH)
		CHECK(ppspp_builder_append_opt_mhf(&b, store.m.hash == HASH_SHA1 ? 2 : 0) == 0);
	else
		CHECK(ppspp_builder_append_opt_mhf(&b, store.m.hash == HASH_SHA1 ? 0 : 2) == 0);
	CHECK(ppspp_builder_append_opt_chunk_size(&b, what == SEEDER_R_BAD_CHUNK_SIZE
							      ? store.m.chunk_size * 2
							      : store.m.chunk_size) == 0);
	CHECK(ppspp_builder_handshake_end(&b) == 0);
	return (size_t)ppspp_builder_finish(&b);
}

static void case_hostile(void)
{
	static const enum seeder_reason bad[] = { SEEDER_R_WRONG_SWARM, SEEDER_R_BAD_VERSION,
						  SEEDER_R_BAD_CIPM, SEEDER_R_BAD_HASH,
						  SEEDER_R_BAD_CHUNK_SIZE };
	struct seeder_channel ch;
	struct ppspp_builder b;
	struct ppspp_ctx ctx = { .cam = 2, .hash_len = (uint8_t)hash_len(store.m.hash),
				 .chunk_size = store.m.chunk_size };
	uint8_t buf[2048];
	size_t len;
	int n;

	case_no++;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		seeder_channel_init(&ch, &store, SEEDER_ID);
		len = bad_handshake(buf, sizeof(buf), (int)bad[i]);
		CHECKF(seeder_input(&ch, buf, len) == bad[i], "case %u: expected %s", case_no,
		       seeder_reason_name(bad[i]));
		CHECK(ch.state == SEEDER_ST_IDLE && ch.refused[bad[i]] == 1);
		CHECK(seeder_output(&ch, buf, sizeof(buf), 0) == 0);
	}
	/* A REQUEST before any handshake. */
	seeder_channel_init(&ch, &store, SEEDER_ID);
	CHECK(ppspp_builder_init(&b, &ctx, buf, sizeof(buf), SEEDER_ID) == 0);
	CHECK(ppspp_builder_append_request(&b, (struct ppspp_range){ 0, 0 }) == 0);
	len = (size_t)ppspp_builder_finish(&b);
	CHECK(seeder_input(&ch, buf, len) == SEEDER_R_NO_HANDSHAKE);
	/* Malformed: every truncation of a good handshake + request is refused or harmless. */
	len = bad_handshake(buf, sizeof(buf), SEEDER_R_OK);
	for (size_t cut = 0; cut < len; cut++) {
		seeder_channel_init(&ch, &store, SEEDER_ID);
		enum seeder_reason r = seeder_input(&ch, buf, cut);

		CHECKF(r != SEEDER_R_OK, "case %u: handshake cut at %zu accepted", case_no, cut);
		CHECK(ch.state == SEEDER_ST_IDLE);
	}
	/* Open the channel properly, then: wrong channel, out of range, garbage. */
	seeder_channel_init(&ch, &store, SEEDER_ID);
	CHECK(seeder_input(&ch, buf, len) == SEEDER_R_OK);
	CHECK(ppspp_builder_init(&b, &ctx, buf, sizeof(buf), SEEDER_ID + 1) == 0);
	CHECK(ppspp_builder_append_request(&b, (struct ppspp_range){ 0, 0 }) == 0);
	len = (size_t)ppspp_builder_finish(&b);
	CHECK(seeder_input(&ch, buf, len) == SEEDER_R_BAD_CHANNEL);
	CHECK(ppspp_builder_init(&b, &ctx, buf, sizeof(buf), SEEDER_ID) == 0);
	CHECK(ppspp_builder_append_request(&b, (struct ppspp_range){ store.tree.n_chunks,
								      store.tree.n_chunks + 5 }) ==
	      0);
	len = (size_t)ppspp_builder_finish(&b);
	CHECK(seeder_input(&ch, buf, len) == SEEDER_R_OK);
	CHECK(ch.refused[SEEDER_R_OUT_OF_RANGE] == 1 && ch.n_req == 0);
	memcpy(buf, (uint8_t[]){ 0x5e, 0xed, 0x00, 0x01, 0xee, 0x01 }, 6);
	CHECK(seeder_input(&ch, buf, 6) == SEEDER_R_MALFORMED);
	/* Only the handshake reply is due; no DATA was asked for. */
	n = seeder_output(&ch, buf, sizeof(buf), 0);
	CHECK(n > 0);
	CHECK(seeder_output(&ch, buf, sizeof(buf), 0) == 0);
	printf("case %u: hostile handshakes and requests refused\n", case_no);
}

static void case_cancel_close(void)
{
	struct seeder_channel ch;
	struct ppspp_builder b;
	uint8_t buf[9000];
	size_t len;
	uint64_t last = store.tree.n_chunks - 1;

	case_no++;
	seeder_channel_init(&ch, &store, SEEDER_ID);
	len = bad_handshake(buf, sizeof(buf), SEEDER_R_OK);
	CHECK(seeder_input(&ch, buf, len) == SEEDER_R_OK);
	CHECK(seeder_output(&ch, buf, sizeof(buf), 0) > 0);
	CHECK(ppspp_builder_init(&b, &ch.ctx, buf, sizeof(buf), SEEDER_ID) == 0);
	CHECK(ppspp_builder_append_request(&b, (struct ppspp_range){ 0, last }) == 0);
	if (last >= 2)
		CHECK(ppspp_builder_append_cancel(&b, (struct ppspp_range){ 1, last - 1 }) == 0);
	len = (size_t)ppspp_builder_finish(&b);
	CHECK(seeder_input(&ch, buf, len) == SEEDER_R_OK);
	unsigned datas = 0;

	while (seeder_output(&ch, buf, sizeof(buf), 0) > 0)
		datas++;
	CHECKF(ch.chunks_sent == (last >= 2 ? 2 : last + 1), "case %u: %llu chunks sent",
	       case_no, (unsigned long long)ch.chunks_sent);
	CHECK(ppspp_builder_init(&b, &ch.ctx, buf, sizeof(buf), SEEDER_ID) == 0);
	CHECK(ppspp_builder_handshake_begin(&b, PPSPP_CHANNEL_CLOSE) == 0);
	CHECK(ppspp_builder_handshake_end(&b) == 0);
	len = (size_t)ppspp_builder_finish(&b);
	CHECK(seeder_input(&ch, buf, len) == SEEDER_R_CLOSED);
	CHECK(ch.state == SEEDER_ST_CLOSED);
	CHECK(seeder_output(&ch, buf, sizeof(buf), 0) == 0);
	printf("case %u: cancel and close (%u datagrams)\n", case_no, datas);
}

static size_t request_dgram(uint8_t *buf, size_t cap, const struct seeder_channel *ch,
	uint64_t start, uint64_t end)
{
	struct ppspp_builder b;

	CHECK(ppspp_builder_init(&b, &ch->ctx, buf, cap, SEEDER_ID) == 0);
	CHECK(ppspp_builder_append_request(&b, (struct ppspp_range){ start, end }) == 0);
	return (size_t)ppspp_builder_finish(&b);
}

static void case_request_stream(void)
{
	struct seeder_channel ch;
	struct ppspp_msg msgs[SEEDER_MSGS_MAX];
	struct ppspp_decode_result res;
	uint8_t buf[9000];
	uint64_t n = store.tree.n_chunks, asked = n < 64 ? n : 64, next = 0;
	size_t len;
	bool in_order = true;

	case_no++;
	seeder_channel_init(&ch, &store, SEEDER_ID);
	len = bad_handshake(buf, sizeof(buf), SEEDER_R_OK);
	CHECK(seeder_input(&ch, buf, len) == SEEDER_R_OK);
	CHECK(seeder_output(&ch, buf, sizeof(buf), 0) > 0);
	/* One chunk per REQUEST, none served in between. */
	for (uint64_t c = 0; c < asked; c++) {
		len = request_dgram(buf, sizeof(buf), &ch, c, c);
		CHECK(seeder_input(&ch, buf, len) == SEEDER_R_OK);
	}
	CHECKF(ch.n_req == 1 && ch.refused[SEEDER_R_TOO_MANY_REQUESTS] == 0,
	       "case %u: %u ranges queued, %llu refused", case_no, ch.n_req,
	       (unsigned long long)ch.refused[SEEDER_R_TOO_MANY_REQUESTS]);
	for (int k; (k = seeder_output(&ch, buf, sizeof(buf), 0)) > 0;) {
		int m = ppspp_datagram_decode(&ch.ctx, buf, (size_t)k, msgs, SEEDER_MSGS_MAX, &res);

		for (int i = 0; i < m; i++)
			if (msgs[i].type == PPSPP_MSG_DATA) {
				in_order &= msgs[i].u.data.range.start == next;
				next = msgs[i].u.data.range.end + 1;
			}
	}
	CHECKF(ch.chunks_sent == asked && next == asked && in_order,
	       "case %u: %llu chunks sent, next %llu, in order %d", case_no,
	       (unsigned long long)ch.chunks_sent, (unsigned long long)next, in_order);
	/* Ranges with gaps between them cannot be joined: the queue still has a bound. */
	if (n >= 2 * (SEEDER_REQ_MAX + 1)) {
		for (unsigned i = 0; i <= SEEDER_REQ_MAX; i++) {
			len = request_dgram(buf, sizeof(buf), &ch, n - 1 - 2 * i, n - 1 - 2 * i);
			CHECK(seeder_input(&ch, buf, len) == SEEDER_R_OK);
		}
		CHECK(ch.n_req == SEEDER_REQ_MAX && ch.refused[SEEDER_R_TOO_MANY_REQUESTS] == 1);
	}
	printf("case %u: %llu one-chunk requests queued as one range, served in order\n",
	       case_no, (unsigned long long)asked);
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) != 0)
		return -1;
	*len = (size_t)st.st_size;
	*out = malloc(*len + 1);
	if (*out == NULL || read(fd, *out, *len) != (ssize_t)*len)
		return -1;
	close(fd);
	return 0;
}

/* Case 9's first hop: leecher A's verified chunks land in the buffer a partial store serves. */
static void deliver_into(void *ctx, uint64_t chunk, const uint8_t *data, size_t len)
{
	memcpy((uint8_t *)ctx + chunk * store.m.chunk_size, data, len);
}

struct hop {
	uint8_t *out;	  /* B's reassembled content */
	uint64_t avail;	  /* of the partial store: what the test published last */
	uint64_t beyond;  /* DATA sent past avail, or REQUESTs past what was announced */
	uint64_t haves;	  /* HAVE messages B received after the handshake's */
	uint64_t starved; /* seeder_output calls that waited for chunks */
	/* Case 10: the 2nd datagram with a HAVE is lost, and the first once A is complete. */
	bool lossy, a_done, final_lost;
	uint64_t have_dgrams, lost;
};

static void deliver_out(void *ctx, uint64_t chunk, const uint8_t *data, size_t len)
{
	struct hop *h = ctx;

	memcpy(h->out + chunk * store.m.chunk_size, data, len);
}

/* Every datagram a channel has to send goes to its leecher (ACKs back); counted into h. */
static void pump(struct seeder_channel *ch, struct ppspp_leecher *l, leecher_deliver_fn fn,
	void *ctx, struct hop *h, unsigned max)
{
	uint8_t buf[9000], ack[2048];
	size_t ack_len;
	int n;

	for (unsigned k = 0; k < max && (n = seeder_output(ch, buf, sizeof(buf), 0)) > 0; k++) {
		if (h != NULL) {
			struct ppspp_msg msgs[SEEDER_MSGS_MAX];
			struct ppspp_decode_result res;
			int m = ppspp_datagram_decode(
				&ch->ctx, buf, (size_t)n, msgs, SEEDER_MSGS_MAX, &res);
			bool have = false;

			for (int i = 0; i < m; i++) {
				if (msgs[i].type == PPSPP_MSG_HAVE)
					h->haves++, have = true;
				if (msgs[i].type == PPSPP_MSG_DATA &&
					msgs[i].u.data.range.end >= h->avail)
					h->beyond++;
			}
			if (have && h->lossy &&
				(++h->have_dgrams == 2 || (h->a_done && !h->final_lost))) {
				h->final_lost |= h->a_done;
				h->lost++;
				continue;
			}
		}
		ppspp_leecher_input(l, buf, (size_t)n, fn, ctx, ack, sizeof(ack), &ack_len);
		if (ack_len > 0)
			CHECK(seeder_input(ch, ack, ack_len) == SEEDER_R_OK);
	}
	if (h != NULL && ch->starved)
		h->starved++;
}

/* The leecher's handshake to the channel, and the channel's answer back to it. */
static void shake(struct seeder_channel *ch, struct ppspp_leecher *l, leecher_deliver_fn fn,
	void *ctx, struct hop *h)
{
	uint8_t dg[2048];
	int len = ppspp_leecher_handshake(l, dg, sizeof(dg));

	CHECK(len > 0 && seeder_input(ch, dg, (size_t)len) == SEEDER_R_OK);
	pump(ch, l, fn, ctx, h, 1);
}

/* The leecher's requests to the channel; with h, each checked against what was announced. */
static void ask(struct ppspp_leecher *l, struct seeder_channel *ch, struct hop *h, uint64_t window)
{
	uint8_t buf[9000];
	int n = ppspp_leecher_requests(l, buf, sizeof(buf), window);

	if (n <= 0)
		return;
	if (h != NULL) {
		struct ppspp_msg msgs[SEEDER_MSGS_MAX];
		struct ppspp_decode_result res;
		int m = ppspp_datagram_decode(
			&ch->ctx, buf, (size_t)n, msgs, SEEDER_MSGS_MAX, &res);

		for (int i = 0; i < m; i++)
			if (msgs[i].type == PPSPP_MSG_REQUEST &&
				msgs[i].u.range.end >= ch->have_sent)
				h->beyond++;
	}
	CHECK(seeder_input(ch, buf, (size_t)n) == SEEDER_R_OK);
}

static void case_serve_while_ingesting(bool lossy)
{
	const struct manifest *m = &store.m;
	struct ppspp_leecher a, b;
	struct seeder_channel src, relay;
	struct chunk_store part;
	struct hop h = {.lossy = lossy};
	uint8_t *buf = calloc(1, content_len), dg[9000];
	const uint8_t keepalive[4] = {SEEDER_ID >> 24, (SEEDER_ID >> 16) & 0xff,
		(SEEDER_ID >> 8) & 0xff, SEEDER_ID & 0xff};
	uint64_t n = store.tree.n_chunks, rounds = 0;
	int len;

	case_no++;
	h.out = calloc(1, content_len);
	if (buf == NULL || h.out == NULL)
		abort();
	CHECK(ppspp_leecher_init(&a, &eng, m->hash, m->chunk_size, m->content_len, m->swarm_id, 0xa,
		      PPSPP_CAM_CHUNK32) == 0);
	CHECK(ppspp_leecher_init(&b, &eng, m->hash, m->chunk_size, m->content_len, m->swarm_id, 0xb,
		      PPSPP_CAM_CHUNK32) == 0);
	/* The partial store, as the data plane makes it when an ingest starts. */
	memset(&part, 0, sizeof(part));
	part.m = *m;
	CHECK(merkle_tree_view(&part.tree, m->hash, m->chunk_size, m->content_len, a.v.nodes,
		      a.v.n_bins * a.v.hash_len) == 0);
	part.chunks = buf;
	part.n_peaks = merkle_peaks(n, part.peaks);
	part.avail = &h.avail;

	seeder_channel_init(&src, &store, SEEDER_ID);
	seeder_channel_init(&relay, &part, SEEDER_ID);
	shake(&src, &a, deliver_into, buf, NULL);
	shake(&relay, &b, deliver_out, &h, &h); /* the handshake reply: nothing in, no HAVE */
	CHECK(b.peer_id != 0 && b.n_peer_has == 0);
	ask(&b, &relay, &h, 64); /* nothing announced: nothing asked */
	CHECK(relay.n_req == 0);
	/*
	 * A leecher that asks for everything at once (one that ignores HAVE) is held, and asking
	 * again for what was never sendable is no loss (no resend bookkeeping, no LEDBAT loss).
	 * (Not in case 10: B must depend on HAVE alone there.)
	 */
	for (int k = 0; k < 2 && !lossy; k++) {
		len = (int)request_dgram(dg, sizeof(dg), &relay, 0, n - 1);
		CHECK(seeder_input(&relay, dg, (size_t)len) == SEEDER_R_OK);
		CHECK(seeder_output(&relay, dg, sizeof(dg), 0) == 0 && relay.starved);
		CHECKF(relay.n_req == 1 && relay.resent.n == 0,
			"case %u: a held request asked again: %u queued, %u resent", case_no,
			relay.n_req, relay.resent.n);
	}

	while (!ppspp_leecher_done(&b) && rounds++ < 100000) {
		/* First hop: A asks a window of 16 and gets three datagrams of it per round. */
		if (!ppspp_leecher_done(&a)) {
			if (a.n_inflight <= 8)
				ask(&a, &src, NULL, 16);
			pump(&src, &a, deliver_into, buf, NULL, 3);
		}
		h.avail = ppspp_leecher_held_prefix(&a, h.avail); /* dp_ingest_publish's */
		h.a_done = h.avail == n;
		/* B with nothing to ask sends a keep-alive now and then (superpeer fetch: 1 s). */
		if (lossy && b.n_inflight == 0 && rounds % 16 == 0)
			CHECK(seeder_input(&relay, keepalive, sizeof(keepalive)) == SEEDER_R_OK);
		/* Second hop: B keeps 64 in flight of what it was told of. */
		pump(&relay, &b, deliver_out, &h, &h, 1000); /* HAVE for what came in */
		if (b.n_inflight <= 32)
			ask(&b, &relay, &h, 64);
		pump(&relay, &b, deliver_out, &h, &h, 1000);
	}
	CHECKF(ppspp_leecher_done(&b) && memcmp(h.out, content, content_len) == 0,
		"case %u: B has %llu of %llu chunks after %llu rounds", case_no,
		(unsigned long long)b.n_have, (unsigned long long)n, (unsigned long long)rounds);
	CHECKF(h.beyond == 0, "case %u: %llu DATA or REQUESTs beyond what was in", case_no,
		(unsigned long long)h.beyond);
	CHECKF(b.counts[LEECHER_R_BAD_CHUNK] == 0 && b.counts[LEECHER_R_MISSING_UNCLES] == 0 &&
			b.counts[LEECHER_R_BAD_PEAKS] == 0,
		"case %u: B refused %llu bad, %llu without uncles, %llu bad peaks", case_no,
		(unsigned long long)b.counts[LEECHER_R_BAD_CHUNK],
		(unsigned long long)b.counts[LEECHER_R_MISSING_UNCLES],
		(unsigned long long)b.counts[LEECHER_R_BAD_PEAKS]);
	/* More than one chunk arrives over more than one round: B was told piece by piece. */
	if (n > 3)
		CHECKF(h.haves > 1 && h.starved > 0, "case %u: %llu HAVEs, starved %llu times",
			case_no, (unsigned long long)h.haves, (unsigned long long)h.starved);
	if (lossy)
		CHECKF(h.lost == 2, "case %u: %llu HAVE datagrams lost", case_no,
			(unsigned long long)h.lost);
	printf("case %u: served while ingesting%s: %llu chunks, %llu HAVEs (%llu lost), starved "
	       "%llu times, %llu rounds\n",
		case_no, lossy ? ", HAVEs lost" : "", (unsigned long long)n,
		(unsigned long long)h.haves, (unsigned long long)h.lost,
		(unsigned long long)h.starved, (unsigned long long)rounds);
	ppspp_leecher_fini(&a);
	ppspp_leecher_fini(&b);
	free(buf);
	free(h.out);
}

/* Case 11: the REQUESTs in a leecher datagram, each checked against the other channel. */
static uint64_t both_asked(const uint8_t *d, size_t len, const struct ppspp_leecher *other)
{
	struct ppspp_msg msgs[SEEDER_MSGS_MAX];
	struct ppspp_decode_result res;
	struct ppspp_ctx ctx = {.cam = PPSPP_CAM_CHUNK32,
		.hash_len = (uint8_t)hash_len(store.m.hash),
		.chunk_size = store.m.chunk_size};
	int m = ppspp_datagram_decode(&ctx, d, len, msgs, SEEDER_MSGS_MAX, &res);
	uint64_t twice = 0;

	for (int i = 0; i < m; i++)
		if (msgs[i].type == PPSPP_MSG_REQUEST)
			for (uint64_t c = msgs[i].u.range.start; c <= msgs[i].u.range.end; c++)
				twice += (other->inflight[c / 64] >> (c % 64)) & 1;
	return twice;
}

/* Cases 11 and 14: the shared `asked` is exactly what is in flight on a or b. */
static bool asked_consistent(const struct ppspp_leecher *a, const struct ppspp_leecher *b)
{
	for (uint64_t w = 0; w < (a->v.n_chunks + 63) / 64; w++)
		if (a->asked[w] != (a->inflight[w] | b->inflight[w]))
			return false;
	return true;
}

/* Cases 11 and 14: channels a and b of one swarm (b linked to a), each shaken hands with a
 * seeder of the whole store. */
static void two_channels(struct ppspp_leecher *a, struct ppspp_leecher *b,
	struct seeder_channel *sa, struct seeder_channel *sb, leecher_deliver_fn fn, void *ctx)
{
	const struct manifest *m = &store.m;

	CHECK(ppspp_leecher_init(a, &eng, m->hash, m->chunk_size, m->content_len, m->swarm_id, 0xa,
		      PPSPP_CAM_CHUNK32) == 0);
	CHECK(ppspp_leecher_attach(b, a, 0xb) == 0);
	b->e = &eng;
	CHECK(ppspp_leecher_link(b) == 0);
	seeder_channel_init(sa, &store, SEEDER_ID);
	seeder_channel_init(sb, &store, SEEDER_ID);
	shake(sa, a, fn, ctx, NULL);
	shake(sb, b, fn, ctx, NULL);
	CHECK(a->peer_id != 0 && b->peer_id != 0);
}

static void case_two_sources(void)
{
	struct ppspp_leecher a, b;
	struct seeder_channel sa, sb;
	uint8_t *out = calloc(1, content_len), dg[9000];
	uint64_t n = store.tree.n_chunks, rounds = 0, twice = 0, silent_at = n / 2;
	bool consistent = true;
	int len;

	case_no++;
	if (out == NULL)
		abort();
	two_channels(&a, &b, &sa, &sb, deliver_into, out);
	while (!ppspp_leecher_done(&a) && rounds++ < 10000) {
		/* Each source two datagrams per round; the first goes silent half-way: its
		 * requests are lost from then on, and after a few rounds it times out. */
		bool silent = a.n_have >= silent_at, endgame = n - a.n_have <= 8;

		if (a.n_inflight <= 4 &&
			(len = ppspp_leecher_requests(&a, dg, sizeof(dg), 8)) > 0) {
			if (!endgame)
				twice += both_asked(dg, (size_t)len, &b);
			if (!silent)
				CHECK(seeder_input(&sa, dg, (size_t)len) == SEEDER_R_OK);
		}
		endgame = n - a.n_have <= 8;
		if (b.n_inflight <= 4 &&
			(len = ppspp_leecher_requests(&b, dg, sizeof(dg), 8)) > 0) {
			if (!endgame)
				twice += both_asked(dg, (size_t)len, &a);
			CHECK(seeder_input(&sb, dg, (size_t)len) == SEEDER_R_OK);
		}
		if (!silent)
			pump(&sa, &a, deliver_into, out, NULL, 2);
		else if (rounds % 8 == 0 && a.n_inflight > 0)
			ppspp_leecher_timeout(&a); /* the caller's 300 ms without progress */
		pump(&sb, &b, deliver_into, out, NULL, 2);
		consistent &= asked_consistent(&a, &b);
	}
	/* A timeout of a chunk in flight on both (the end game) keeps it asked. */
	CHECKF(consistent, "case %u: asked differs from what is in flight", case_no);
	CHECKF(ppspp_leecher_done(&a) && ppspp_leecher_done(&b) && a.n_have == n &&
			memcmp(out, content, content_len) == 0,
		"case %u: %llu of %llu chunks after %llu rounds", case_no,
		(unsigned long long)a.n_have, (unsigned long long)n, (unsigned long long)rounds);
	CHECKF(twice == 0, "case %u: %llu chunks asked of both sources at once before the end game",
		case_no, (unsigned long long)twice);
	if (n >= 32)
		CHECKF(sa.chunks_sent > 0 && sb.chunks_sent > 0 && sb.chunks_sent >= n - silent_at,
			"case %u: first source sent %llu, second %llu", case_no,
			(unsigned long long)sa.chunks_sent, (unsigned long long)sb.chunks_sent);
	CHECK(a.counts[LEECHER_R_BAD_CHUNK] == 0 && b.counts[LEECHER_R_BAD_CHUNK] == 0);
	printf("case %u: two sources: %llu chunks, %llu from the first (silent from %llu on), %llu "
	       "from the second, %llu rounds\n",
		case_no, (unsigned long long)n, (unsigned long long)sa.chunks_sent,
		(unsigned long long)silent_at, (unsigned long long)sb.chunks_sent,
		(unsigned long long)rounds);
	ppspp_leecher_fini(&b);
	ppspp_leecher_fini(&a);
	free(out);
}

static void case_refused_stays(void)
{
	const struct manifest *m = &store.m;
	struct ppspp_leecher l;
	struct seeder_channel ch;
	struct ppspp_builder b;
	struct ppspp_msg msgs[SEEDER_MSGS_MAX];
	struct ppspp_decode_result res;
	uint8_t dg[9000], ack[2048];
	size_t ack_len;
	int len, k;
	bool asked0 = false;
	uint8_t *scratch = calloc(1, content_len);

	case_no++;
	if (scratch == NULL)
		abort();
	CHECK(ppspp_leecher_init(&l, &eng, m->hash, m->chunk_size, m->content_len, m->swarm_id, 0xc,
		      PPSPP_CAM_CHUNK32) == 0);
	seeder_channel_init(&ch, &store, SEEDER_ID);
	shake(&ch, &l, deliver_into, scratch, NULL);
	CHECK((len = ppspp_leecher_requests(&l, dg, sizeof(dg), 1)) > 0);
	CHECK(seeder_input(&ch, dg, (size_t)len) == SEEDER_R_OK);
	/* Chunk 0's DATA, its last byte (the chunk's) altered on the way. */
	while ((len = seeder_output(&ch, dg, sizeof(dg), 0)) > 0 && ch.data_len == 0)
		ppspp_leecher_input(
			&l, dg, (size_t)len, deliver_into, scratch, ack, sizeof(ack), &ack_len);
	CHECK(len > 0 && ch.data_chunk == 0);
	dg[len - 1] ^= 1;
	CHECK(ppspp_leecher_input(&l, dg, (size_t)len, deliver_into, scratch, ack, sizeof(ack),
		      &ack_len) == LEECHER_R_BAD_CHUNK);
	/* The seeder says again it has everything. */
	CHECK(ppspp_builder_init(&b, &ch.ctx, dg, sizeof(dg), l.local_id) == 0);
	CHECK(ppspp_builder_append_have(&b, (struct ppspp_range){0, store.tree.n_chunks - 1}) == 0);
	len = ppspp_builder_finish(&b);
	ppspp_leecher_input(&l, dg, (size_t)len, deliver_into, scratch, ack, sizeof(ack), &ack_len);
	ppspp_leecher_timeout(&l);
	len = ppspp_leecher_requests(&l, dg, sizeof(dg), store.tree.n_chunks);
	k = len > 0 ? ppspp_datagram_decode(&l.ctx, dg, (size_t)len, msgs, SEEDER_MSGS_MAX, &res)
		    : 0;
	for (int i = 0; i < k; i++)
		asked0 |= msgs[i].type == PPSPP_MSG_REQUEST && msgs[i].u.range.start == 0;
	CHECKF(!asked0 && l.counts[LEECHER_R_BAD_CHUNK] == 1,
		"case %u: chunk 0 asked again of the seeder that sent it bad", case_no);
	printf("case %u: a refused chunk is not asked of its seeder again, HAVE or not\n", case_no);
	ppspp_leecher_fini(&l);
	free(scratch);
}

/* Case 13: a seeder whose copy of chunk k goes out altered while `bad` lasts (case 20: the
 * datagrams of k and k + 1 without their INTEGRITY while `bare` lasts). */
struct flaky {
	uint64_t k;
	uint64_t bad;	 /* copies of k still to alter; UINT64_MAX: all */
	uint64_t bare;	 /* copies of k or k + 1 still to strip; UINT64_MAX: all */
	uint64_t sent_k; /* copies of k sent */
	uint64_t at[24]; /* simulated ms of the first copies */
	uint64_t got_k;	 /* times k was delivered */
	uint8_t *out;
};

static void flaky_deliver(void *ctx, uint64_t chunk, const uint8_t *data, size_t len)
{
	struct flaky *f = ctx;

	f->got_k += chunk == f->k;
	memcpy(f->out + chunk * store.m.chunk_size, data, len);
}

/* Case 20: datagram d (n bytes, to channel `to`) again without its INTEGRITY messages. */
static int strip_integrity(const struct seeder_channel *ch, uint32_t to, uint8_t *d, int n)
{
	struct ppspp_msg msgs[SEEDER_MSGS_MAX];
	struct ppspp_decode_result res;
	struct ppspp_builder b;
	uint8_t out[9000];
	int m = ppspp_datagram_decode(&ch->ctx, d, (size_t)n, msgs, SEEDER_MSGS_MAX, &res);

	CHECK(m > 0 && ppspp_builder_init(&b, &ch->ctx, out, sizeof(out), to) == 0);
	for (int i = 0; i < m; i++)
		if (msgs[i].type == PPSPP_MSG_DATA)
			CHECK(ppspp_builder_append_data(&b, msgs[i].u.data.range,
				      msgs[i].u.data.timestamp, msgs[i].u.data.payload,
				      msgs[i].u.data.payload_len) == 0);
	n = ppspp_builder_finish(&b);
	CHECK(n > 0);
	memcpy(d, out, (size_t)n);
	return n;
}

/* Everything ch has to send goes to l at simulated time now_ms (ACKs back). */
static void flaky_pump(
	struct seeder_channel *ch, struct ppspp_leecher *l, struct flaky *f, uint64_t now_ms)
{
	uint8_t buf[9000], ack[2048];
	size_t ack_len;
	int n;

	while ((n = seeder_output(ch, buf, sizeof(buf), 0)) > 0) {
		if (ch->data_len > 0 && ch->data_chunk == f->k) { /* its bytes end the datagram */
			if (f->sent_k < 24)
				f->at[f->sent_k] = now_ms;
			f->sent_k++;
			if (f->bad > 0) {
				buf[n - 1] ^= 1;
				f->bad -= f->bad != UINT64_MAX;
			}
		}
		if (ch->data_len > 0 && (ch->data_chunk | 1) == (f->k | 1) && f->bare > 0) {
			n = strip_integrity(ch, l->local_id, buf, n);
			f->bare -= f->bare != UINT64_MAX;
		}
		ppspp_leecher_input(
			l, buf, (size_t)n, flaky_deliver, f, ack, sizeof(ack), &ack_len);
		if (ack_len > 0)
			CHECK(seeder_input(ch, ack, ack_len) == SEEDER_R_OK);
	}
}

/*
 * l against ch from from_ms for up to secs simulated seconds, in 10 ms steps, with the
 * timers superpeer fetch runs: the window asked again after 300 ms without a verified chunk
 * (the chunks after a refused one can lack the uncles it carried), ppspp_leecher_retry.
 * A window of 64, everything ch sends delivered; until done, or with stop_bad until a bad
 * chunk is counted and everything else is in. Returns the ms it stopped at.
 */
static uint64_t flaky_run(struct ppspp_leecher *l, struct seeder_channel *ch, struct flaky *f,
	uint64_t from_ms, uint64_t secs, bool stop_bad)
{
	uint8_t dg[9000];
	uint64_t t, progress = from_ms, have = *l->n_have_p;
	int len;

	for (t = from_ms; t < from_ms + secs * 1000 && !ppspp_leecher_done(l); t += 10) {
		if (stop_bad && l->counts[LEECHER_R_BAD_CHUNK] > 0 &&
			*l->n_have_p == l->v.n_chunks - 1)
			break;
		if (l->n_inflight > 0 && t - progress > 300) {
			ppspp_leecher_timeout(l);
			progress = t;
		}
		if (!stop_bad)
			ppspp_leecher_retry(l, t * 1000, 1000000);
		if (l->n_inflight <= 32 &&
			(len = ppspp_leecher_requests(l, dg, sizeof(dg), 64)) > 0)
			CHECK(seeder_input(ch, dg, (size_t)len) == SEEDER_R_OK);
		flaky_pump(ch, l, f, t);
		if (*l->n_have_p != have) {
			have = *l->n_have_p;
			progress = t;
		}
	}
	return t;
}

/* Chunk k is among the REQUESTs l makes now. */
static bool asks_for(struct ppspp_leecher *l, uint64_t k)
{
	struct ppspp_msg msgs[SEEDER_MSGS_MAX];
	struct ppspp_decode_result res;
	uint8_t dg[9000];
	int len = ppspp_leecher_requests(l, dg, sizeof(dg), 64), m;
	bool asked = false;

	m = len > 0 ? ppspp_datagram_decode(&l->ctx, dg, (size_t)len, msgs, SEEDER_MSGS_MAX, &res)
		    : 0;
	for (int i = 0; i < m; i++)
		asked |= msgs[i].type == PPSPP_MSG_REQUEST && msgs[i].u.range.start <= k &&
			 k <= msgs[i].u.range.end;
	return asked;
}

static void case_refused_retry(void)
{
	const struct manifest *m = &store.m;
	uint64_t n = store.tree.n_chunks, k = n / 2, t, gap, expect;
	struct flaky f = {.k = k, .out = calloc(1, content_len)};
	struct ppspp_leecher l, a, b;
	struct seeder_channel ch, sb;
	bool ok = true;

	case_no++;
	if (f.out == NULL)
		abort();

	/* One source, k altered once: asked again a second later, and the download completes. */
	f.bad = 1;
	CHECK(ppspp_leecher_init(&l, &eng, m->hash, m->chunk_size, m->content_len, m->swarm_id, 0xd,
		      PPSPP_CAM_CHUNK32) == 0);
	seeder_channel_init(&ch, &store, SEEDER_ID);
	shake(&ch, &l, flaky_deliver, &f, NULL);
	t = flaky_run(&l, &ch, &f, 1, 30, false);
	CHECKF(ppspp_leecher_done(&l) && memcmp(f.out, content, content_len) == 0,
		"case %u: one-off bad chunk %llu: %llu of %llu chunks after %llu ms", case_no,
		(unsigned long long)k, (unsigned long long)l.n_have, (unsigned long long)n,
		(unsigned long long)t);
	CHECKF(f.sent_k == 2 && f.at[1] - f.at[0] >= 1000 && f.at[1] - f.at[0] <= 1020 &&
			l.counts[LEECHER_R_BAD_CHUNK] == 1 && l.forgiven == 1 && f.got_k == 1,
		"case %u: chunk %llu sent %llu times, %llu ms apart, %llu bad, %llu forgiven",
		case_no, (unsigned long long)k, (unsigned long long)f.sent_k,
		(unsigned long long)(f.sent_k > 1 ? f.at[1] - f.at[0] : 0),
		(unsigned long long)l.counts[LEECHER_R_BAD_CHUNK], (unsigned long long)l.forgiven);
	printf("case %u: chunk %llu bad once from the only source: asked again after %llu ms, "
	       "complete at %llu ms\n",
		case_no, (unsigned long long)k, (unsigned long long)(f.at[1] - f.at[0]),
		(unsigned long long)t);
	ppspp_leecher_fini(&l);

	/* One source that always alters k: asked for it at 0, 1, 3, 7 ... 127 s, then every
	 * 64 s; never stored. */
	memset(f.out, 0, content_len);
	f = (struct flaky){.k = k, .bad = UINT64_MAX, .out = f.out};
	CHECK(ppspp_leecher_init(&l, &eng, m->hash, m->chunk_size, m->content_len, m->swarm_id, 0xd,
		      PPSPP_CAM_CHUNK32) == 0);
	seeder_channel_init(&ch, &store, SEEDER_ID);
	shake(&ch, &l, flaky_deliver, &f, NULL);
	t = flaky_run(&l, &ch, &f, 1, 600, false);
	for (uint64_t i = 0; i + 1 < f.sent_k && i + 1 < 24; i++) {
		gap = f.at[i + 1] - f.at[i];
		expect = (i < LEECHER_RETRY_SHIFT_MAX ? UINT64_C(1) << i : 64) * 1000;
		ok &= gap >= expect && gap <= expect + 20;
	}
	/* 0, 1, 3, 7, 15, 31, 63, 127, then 191 ... 575 s: 15 in 600 s. */
	CHECKF(ok && f.sent_k >= 14 && f.sent_k <= 15,
		"case %u: always-bad chunk asked %llu times in %llu s (15 expected), gaps doubling "
		"to 64 s: %s",
		case_no, (unsigned long long)f.sent_k, (unsigned long long)t / 1000,
		ok ? "yes" : "no");
	CHECKF(!ppspp_leecher_done(&l) && l.n_have == n - 1 && f.got_k == 0 &&
			((l.have[k / 64] >> (k % 64)) & 1) == 0 &&
			l.counts[LEECHER_R_BAD_CHUNK] == f.sent_k,
		"case %u: forged chunk %llu stored (%llu of %llu held, delivered %llu times)",
		case_no, (unsigned long long)k, (unsigned long long)l.n_have, (unsigned long long)n,
		(unsigned long long)f.got_k);
	printf("case %u: chunk %llu always bad: asked %llu times in %llu s, never stored\n",
		case_no, (unsigned long long)k, (unsigned long long)f.sent_k,
		(unsigned long long)t / 1000);
	ppspp_leecher_fini(&l);

	/*
	 * Two sources: the first's copy of k is bad, the second (linked once the first has
	 * everything else) has k in flight (slow): the first is not forgiven however long; once
	 * the second times out on k, it is.
	 */
	memset(f.out, 0, content_len);
	f = (struct flaky){.k = k, .bad = UINT64_MAX, .out = f.out};
	CHECK(ppspp_leecher_init(&a, &eng, m->hash, m->chunk_size, m->content_len, m->swarm_id, 0xa,
		      PPSPP_CAM_CHUNK32) == 0);
	CHECK(ppspp_leecher_attach(&b, &a, 0xb) == 0);
	b.e = &eng;
	seeder_channel_init(&ch, &store, SEEDER_ID);
	seeder_channel_init(&sb, &store, SEEDER_ID);
	shake(&ch, &a, flaky_deliver, &f, NULL);
	t = flaky_run(&a, &ch, &f, 1, 30, true); /* all but k, which comes bad */
	CHECK(a.n_have == n - 1 && a.counts[LEECHER_R_BAD_CHUNK] == 1);
	CHECK(ppspp_leecher_link(&b) == 0);
	shake(&sb, &b, flaky_deliver, &f, NULL);
	CHECK(asks_for(&b, k)); /* sent nowhere: the second source is slow */
	for (uint64_t s = 0; s < 100 * 100; s++)
		CHECK(ppspp_leecher_retry(&a, (t + s * 10) * 1000, 1000000) == 0);
	CHECKF(a.forgiven == 0 && !asks_for(&a, k),
		"case %u: chunk %llu forgiven to its forger while another source has it in flight",
		case_no, (unsigned long long)k);
	t += 100 * 1000;
	ppspp_leecher_timeout(&b); /* the caller's 300 ms without progress on the second */
	for (uint64_t s = 0; s < 100 * 65 && a.forgiven == 0; s++)
		ppspp_leecher_retry(&a, (t + s * 10) * 1000, 1000000);
	CHECKF(a.forgiven == 1 && asks_for(&a, k),
		"case %u: chunk %llu not forgiven once the other source timed out on it", case_no,
		(unsigned long long)k);
	printf("case %u: two sources: the forger not forgiven while the other has the chunk in "
	       "flight, forgiven once it timed out\n",
		case_no);
	ppspp_leecher_fini(&b);
	ppspp_leecher_fini(&a);
	free(f.out);
}

/* Case 14: every delivery counted per chunk. */
struct once {
	uint8_t *out;
	uint8_t *got; /* times each chunk was delivered */
};

static void once_deliver(void *ctx, uint64_t chunk, const uint8_t *data, size_t len)
{
	struct once *o = ctx;

	o->got[chunk]++;
	memcpy(o->out + chunk * store.m.chunk_size, data, len);
}

/* The datagram l has to send to ch now (window w, asked again at half), CANCELs included. */
static void ask_half(struct ppspp_leecher *l, struct seeder_channel *ch, uint64_t w)
{
	uint8_t dg[9000];
	int len;

	if ((l->n_inflight <= w / 2 || l->n_cancel > 0) &&
		(len = ppspp_leecher_requests(l, dg, sizeof(dg), w)) > 0)
		CHECK(seeder_input(ch, dg, (size_t)len) == SEEDER_R_OK);
}

static void case_slow_source(void)
{
	enum { W = 32 };
	uint64_t n = store.tree.n_chunks, rounds = 0, fast_alone, once = 0, dups;
	bool consistent = true;
	struct once o = {.out = calloc(1, content_len), .got = calloc(1, n)};
	struct ppspp_leecher a, b;
	struct seeder_channel sa, sb;

	case_no++;
	if (o.out == NULL || o.got == NULL)
		abort();
	two_channels(&a, &b, &sa, &sb, once_deliver, &o);
	/* Per round the first source sends all it was asked, the second one datagram: it is
	 * alive, so it never times out, and holds up to W chunks in flight. */
	while (!ppspp_leecher_done(&a) && rounds++ < 100000) {
		ask_half(&a, &sa, W);
		ask_half(&b, &sb, W);
		pump(&sa, &a, once_deliver, &o, NULL, UINT32_MAX);
		pump(&sb, &b, once_deliver, &o, NULL, 1);
		consistent &= asked_consistent(&a, &b);
	}
	CHECKF(consistent, "case %u: asked differs from what is in flight", case_no);
	/* The caller's ticks go on: what the slow source still sends arrives, duplicates. */
	for (unsigned k = 0; k < W; k++) {
		ask_half(&b, &sb, W);
		pump(&sb, &b, once_deliver, &o, NULL, 1);
	}
	for (uint64_t i = 0; i < n; i++)
		once += o.got[i] == 1;
	dups = a.counts[LEECHER_R_UNWANTED] + b.counts[LEECHER_R_UNWANTED];
	CHECKF(ppspp_leecher_done(&a) && once == n && memcmp(o.out, content, content_len) == 0,
		"case %u: %llu of %llu chunks delivered once after %llu rounds", case_no,
		(unsigned long long)once, (unsigned long long)n, (unsigned long long)rounds);
	/*
	 * The first source alone: a whole window a round (it empties it every round), so
	 * about n / W rounds and one for the handshake; the slow one takes a chunk a round off
	 * that. Without the end game the tail waits on the W / 2 .. W chunks the slow one
	 * holds: W / 2 rounds more at least. With it, a round or two.
	 */
	fast_alone = (n + W - 1) / W + 1;
	if (n > 2 * W)
		CHECKF(rounds <= fast_alone + 2 && a.endgame_asked > 0,
			"case %u: %llu rounds (the fast source alone: %llu), %llu chunks asked in "
			"the end game",
			case_no, (unsigned long long)rounds, (unsigned long long)fast_alone,
			(unsigned long long)a.endgame_asked);
	/* The slow source's copies are cancelled (without CANCEL: most of its window comes),
	 * and the few that come anyway are ACKed: else its LEDBAT counts them in flight for
	 * good and, with enough of them, stops sending. */
	CHECKF(dups <= 3 && b.n_cancel == 0 && sb.n_req == 0 && a.n_inflight == 0 &&
			b.n_inflight == 0 && sb.cc.in_flight == 0,
		"case %u: %llu duplicate copies, %u ranges queued, %llu and %llu left in flight, "
		"%u unacked",
		case_no, (unsigned long long)dups, sb.n_req, (unsigned long long)a.n_inflight,
		(unsigned long long)b.n_inflight, sb.cc.in_flight);
	CHECK(a.counts[LEECHER_R_BAD_CHUNK] == 0 && b.counts[LEECHER_R_BAD_CHUNK] == 0);
	/* Nothing is lost here: the seeders answer in the order asked, end-game requests
	 * included (one just below a queued range is not joined to it and served first). */
	CHECKF(a.lost == 0 && b.lost == 0, "case %u: %llu and %llu chunks taken as lost", case_no,
		(unsigned long long)a.lost, (unsigned long long)b.lost);
	printf("case %u: end game: %llu chunks in %llu rounds (fast source alone: %llu), %llu "
	       "from the slow one, %llu asked of both, %llu duplicates\n",
		case_no, (unsigned long long)n, (unsigned long long)rounds,
		(unsigned long long)fast_alone, (unsigned long long)sb.chunks_sent,
		(unsigned long long)(a.endgame_asked + b.endgame_asked), (unsigned long long)dups);
	ppspp_leecher_fini(&b);
	ppspp_leecher_fini(&a);
	free(o.got);
	free(o.out);
}

/*
 * Case 15: the slow source of case 14 chokes while the fast one holds its last chunks in the
 * end game. A choking seeder has dropped what was asked of it: no CANCEL is owed to it, and
 * none may stay pending (the ingest would try every tick to send what requests() will not).
 */
static void case_choked_source(void)
{
	enum { W = 32 };
	uint64_t n = store.tree.n_chunks, rounds = 0;
	struct once o = {.out = calloc(1, content_len), .got = calloc(1, n)};
	struct ppspp_leecher a, b;
	struct seeder_channel sa, sb;
	uint8_t dg[9000];
	bool choked = false;

	case_no++;
	if (o.out == NULL || o.got == NULL)
		abort();
	two_channels(&a, &b, &sa, &sb, once_deliver, &o);
	while (!ppspp_leecher_done(&a) && rounds++ < 100000) {
		ask_half(&a, &sa, W);
		ask_half(&b, &sb, W);
		if (!choked && a.endgame_asked > 0 && b.n_inflight > 0) {
			seeder_choke(&sb, true); /* its CHOKE goes out first */
			pump(&sb, &b, once_deliver, &o, NULL, 1);
			choked = b.choked;
		}
		pump(&sa, &a, once_deliver, &o, NULL, UINT32_MAX);
		if (!choked)
			pump(&sb, &b, once_deliver, &o, NULL, 1);
	}
	if (n > 2 * W) {
		CHECKF(choked, "case %u: the slow source was never choked in the end game",
			case_no);
		CHECKF(ppspp_leecher_done(&a) && memcmp(o.out, content, content_len) == 0,
			"case %u: not complete after %llu rounds", case_no,
			(unsigned long long)rounds);
		CHECKF(b.n_cancel == 0 && ppspp_leecher_requests(&b, dg, sizeof(dg), W) == 0,
			"case %u: %llu CANCELs pending for a choked source", case_no,
			(unsigned long long)b.n_cancel);
	}
	ppspp_leecher_fini(&b);
	ppspp_leecher_fini(&a);
	free(o.got);
	free(o.out);
}

/*
 * Case 16: the seeder's datagrams through a network that loses the first copy of chunks k1
 * and k2, or delivers the first copy of chunk k `by` datagrams late. No timeout is ever
 * called: whatever is asked again is asked because later chunks arrived.
 */
struct wire {
	uint64_t drop1, drop2; /* chunks whose first copy is lost (UINT64_MAX: none) */
	uint64_t late;	       /* chunk whose first copy comes `by` datagrams late */
	unsigned by;
	uint8_t held[9000];
	size_t held_len;
	unsigned held_for;   /* datagrams still to pass the held one; 0: none held */
	uint64_t k1;	     /* drop1's chunk */
	uint64_t have_at_k1; /* chunks held when k1 came at last */
	bool eager;	     /* the leecher asks after every datagram (as the callers do) */
	uint8_t *sends;	     /* copies of each chunk the seeder sent */
	struct once o;
};

/* As superpeer fetch and the ingest ask: when half the window is free, or at once when chunks
 * were given up (ppspp_leecher.reask_due). */
static void wire_ask(struct ppspp_leecher *l, struct seeder_channel *ch)
{
	uint8_t dg[9000];
	int len;

	if ((l->n_inflight <= 32 || l->reask_due) &&
		(len = ppspp_leecher_requests(l, dg, sizeof(dg), 64)) > 0)
		CHECK(seeder_input(ch, dg, (size_t)len) == SEEDER_R_OK);
}

static void wire_deliver(void *ctx, uint64_t chunk, const uint8_t *data, size_t len)
{
	struct wire *w = ctx;

	once_deliver(&w->o, chunk, data, len);
}

static void wire_input(struct ppspp_leecher *l, struct seeder_channel *ch, struct wire *w,
	const uint8_t *d, size_t len)
{
	uint8_t ack[2048];
	size_t ack_len;
	uint64_t had_k1 = w->o.got[w->k1];

	ppspp_leecher_input(l, d, len, wire_deliver, w, ack, sizeof(ack), &ack_len);
	if (had_k1 == 0 && w->o.got[w->k1] > 0)
		w->have_at_k1 = *l->n_have_p;
	if (ack_len > 0)
		CHECK(seeder_input(ch, ack, ack_len) == SEEDER_R_OK);
}

static void wire_pump(struct ppspp_leecher *l, struct seeder_channel *ch, struct wire *w)
{
	uint8_t buf[9000];
	int n;

	while ((n = seeder_output(ch, buf, sizeof(buf), 0)) > 0) {
		uint64_t c = ch->data_len > 0 ? ch->data_chunk : UINT64_MAX;

		if (c != UINT64_MAX && w->sends[c] < UINT8_MAX)
			w->sends[c]++;
		if (w->eager)
			wire_ask(l, ch);
		if (c != UINT64_MAX && (c == w->drop1 || c == w->drop2)) {
			if (c == w->drop1)
				w->drop1 = UINT64_MAX;
			else
				w->drop2 = UINT64_MAX;
			continue;
		}
		if (c != UINT64_MAX && c == w->late) {
			w->late = UINT64_MAX;
			memcpy(w->held, buf, (size_t)n);
			w->held_len = (size_t)n;
			w->held_for = w->by;
			continue;
		}
		wire_input(l, ch, w, buf, (size_t)n);
		if (w->held_for > 0 && --w->held_for == 0)
			wire_input(l, ch, w, w->held, w->held_len);
	}
}

/* l downloads from ch through w, a window of 64 asked again at 32; rounds it took. */
static uint64_t wire_run(struct ppspp_leecher *l, struct seeder_channel *ch, struct wire *w)
{
	uint64_t rounds = 0;

	while (!ppspp_leecher_done(l) && rounds++ < 10000) {
		wire_ask(l, ch);
		wire_pump(l, ch, w);
	}
	return rounds;
}

/* Every chunk sent once, and once more for each given up (lost, or without its uncles);
 * a chunk given up that came late after all is not asked again. */
static void wire_check_sends(const struct ppspp_leecher *l, const struct wire *w, uint64_t n)
{
	uint64_t extra = 0, most = 0;

	for (uint64_t i = 0; i < n; i++) {
		extra += w->sends[i] - 1u;
		most = w->sends[i] > most ? w->sends[i] : most;
	}
	CHECKF(most <= 2 && extra <= l->lost + l->counts[LEECHER_R_MISSING_UNCLES],
		"case %u%s: a chunk sent %llu times, %llu copies more than chunks for %llu lost "
		"and %llu without uncles",
		case_no, w->eager ? " (asking after every datagram)" : "", (unsigned long long)most,
		(unsigned long long)extra, (unsigned long long)l->lost,
		(unsigned long long)l->counts[LEECHER_R_MISSING_UNCLES]);
}

/* One download of the store by a fresh leecher through w; the rounds it took. */
static uint64_t wire_download(struct ppspp_leecher *l, struct wire *w)
{
	const struct manifest *m = &store.m;
	struct seeder_channel ch;
	uint64_t n = store.tree.n_chunks;

	memset(w->o.got, 0, n);
	memset(w->sends, 0, n);
	w->have_at_k1 = 0;
	w->held_for = 0;
	CHECK(ppspp_leecher_init(l, &eng, m->hash, m->chunk_size, m->content_len, m->swarm_id, 0xa,
		      PPSPP_CAM_CHUNK32) == 0);
	seeder_channel_init(&ch, &store, SEEDER_ID);
	shake(&ch, l, wire_deliver, w, NULL);
	return wire_run(l, &ch, w);
}

static void case_lost_in_order(void)
{
	uint64_t n = store.tree.n_chunks, rounds;
	struct ppspp_leecher l;
	struct wire *w = calloc(1, sizeof(*w));

	case_no++;
	if (w == NULL || (w->o.out = calloc(1, content_len)) == NULL ||
		(w->o.got = calloc(1, n)) == NULL || (w->sends = calloc(1, n)) == NULL)
		abort();
	if (n < 16) {
		printf("case %u: skipped, %llu chunks are too few to lose one mid-stream\n",
			case_no, (unsigned long long)n);
		free(w->o.out), free(w->o.got), free(w->sends), free(w);
		return;
	}
	/* Two chunks lost: each asked again once chunks asked after it came, long before the
	 * end (within about a window), and the download completes without a timeout. Asking
	 * at half a window, then after every datagram as the callers do. */
	for (int eager = 0; eager < 2; eager++) {
		w->eager = eager;
		w->drop1 = w->k1 = n / 8;
		w->drop2 = n / 2;
		w->late = UINT64_MAX;
		rounds = wire_download(&l, w);
		CHECKF(ppspp_leecher_done(&l) && memcmp(w->o.out, content, content_len) == 0,
			"case %u: %llu of %llu chunks after %llu rounds with two lost, no timeout",
			case_no, (unsigned long long)l.n_have, (unsigned long long)n,
			(unsigned long long)rounds);
		CHECKF(l.lost + l.counts[LEECHER_R_MISSING_UNCLES] >= 2 && w->have_at_k1 > 0 &&
				w->have_at_k1 <= n / 8 + 64 + 2 * LEECHER_REORDER,
			"case %u: %llu taken as lost; chunk %llu came with %llu held", case_no,
			(unsigned long long)l.lost, (unsigned long long)(n / 8),
			(unsigned long long)w->have_at_k1);
		wire_check_sends(&l, w, n);
		printf("case %u: chunks %llu and %llu lost once%s: asked again as later ones came "
		       "(%llu taken as lost, %llu came without uncles; chunk %llu in with %llu "
		       "held), %llu rounds, no timeout\n",
			case_no, (unsigned long long)(n / 8), (unsigned long long)(n / 2),
			eager ? ", asking after every datagram" : "", (unsigned long long)l.lost,
			(unsigned long long)l.counts[LEECHER_R_MISSING_UNCLES],
			(unsigned long long)(n / 8), (unsigned long long)w->have_at_k1,
			(unsigned long long)rounds);
		ppspp_leecher_fini(&l);
	}
	w->eager = false;

	/* Reordered by fewer than LEECHER_REORDER datagrams: nothing taken as lost (chunks that
	 * needed the uncles the late datagram carried are asked again); by more: the chunk asked
	 * again once, its late copy unwanted, nothing else taken as lost. */
	for (unsigned by = LEECHER_REORDER - 1; by <= LEECHER_REORDER + 5; by += 6) {
		w->drop1 = w->drop2 = UINT64_MAX;
		w->k1 = 0; /* (delivered first: have_at_k1 stays 0) */
		w->late = n / 4;
		w->by = by;
		rounds = wire_download(&l, w);
		CHECKF(ppspp_leecher_done(&l) && memcmp(w->o.out, content, content_len) == 0,
			"case %u: %llu of %llu chunks, chunk %llu %u late", case_no,
			(unsigned long long)l.n_have, (unsigned long long)n,
			(unsigned long long)(n / 4), by);
		/* (The late copy may come before the chunk is asked again: nothing unwanted.) */
		CHECKF(l.lost == (by < LEECHER_REORDER ? 0 : 1) &&
				l.counts[LEECHER_R_UNWANTED] <= l.lost,
			"case %u: chunk %llu %u datagrams late: %llu taken as lost, %llu unwanted",
			case_no, (unsigned long long)(n / 4), by, (unsigned long long)l.lost,
			(unsigned long long)l.counts[LEECHER_R_UNWANTED]);
		wire_check_sends(&l, w, n);
		printf("case %u: chunk %llu %u datagrams late: %llu taken as lost, %llu came "
		       "without uncles, %llu rounds\n",
			case_no, (unsigned long long)(n / 4), by, (unsigned long long)l.lost,
			(unsigned long long)l.counts[LEECHER_R_MISSING_UNCLES],
			(unsigned long long)rounds);
		ppspp_leecher_fini(&l);
	}
	free(w->o.out);
	free(w->o.got);
	free(w->sends);
	free(w);
}

/*
 * Case 17: one burst of LEECHER_BURST_MAX datagrams, each from a seeder that knows nothing
 * of the others (a fresh channel per chunk, as from many sources: each carries its chunk's
 * whole uncle path, and the peak). More INTEGRITY than the stash holds arrives in one burst:
 * every chunk must still be checked against its own uncles.
 */
static void case_uncle_heavy_burst(void)
{
	const struct manifest *m = &store.m;
	uint64_t n = store.tree.n_chunks, k = n < LEECHER_BURST_MAX ? n : LEECHER_BURST_MAX;
	struct leecher_rx rx[LEECHER_BURST_MAX];
	static uint8_t dg[LEECHER_BURST_MAX][9000];
	struct seeder_channel ch;
	struct ppspp_leecher l;
	uint8_t hs[2048], req[256], ack[4096], *out = calloc(1, content_len);
	size_t ack_len;
	unsigned got;
	int len;

	case_no++;
	if (out == NULL)
		abort();
	CHECK(ppspp_leecher_init(&l, &eng, m->hash, m->chunk_size, m->content_len, m->swarm_id, 0xa,
		      PPSPP_CAM_CHUNK32) == 0);
	for (uint64_t c = 0; c < k; c++) {
		seeder_channel_init(&ch, &store, SEEDER_ID);
		len = ppspp_leecher_handshake(&l, hs, sizeof(hs));
		CHECK(len > 0 && seeder_input(&ch, hs, (size_t)len) == SEEDER_R_OK);
		if (c == 0)
			pump(&ch, &l, deliver_into, out, NULL,
				1); /* the seeder's handshake reply */
		CHECK(seeder_input(&ch, req, request_dgram(req, sizeof(req), &ch, c, c)) ==
			SEEDER_R_OK);
		do
			len = seeder_output(&ch, dg[c], sizeof(dg[c]), 0);
		while (len > 0 && ch.data_len == 0);
		CHECK(len > 0 && ch.data_chunk == c);
		rx[c] = (struct leecher_rx){.buf = dg[c], .len = (size_t)len};
	}
	got = ppspp_leecher_input_burst(
		&l, rx, (unsigned)k, deliver_into, out, ack, sizeof(ack), &ack_len);
	CHECKF(got == k && l.counts[LEECHER_R_MISSING_UNCLES] == 0 &&
			memcmp(out, content,
				k * m->chunk_size < content_len ? k * m->chunk_size
								: content_len) == 0,
		"case %u: %u of %llu chunks of an uncle-heavy burst delivered, %llu without uncles "
		"(%llu INTEGRITY entries in it, a stash of %u)",
		case_no, got, (unsigned long long)k,
		(unsigned long long)l.counts[LEECHER_R_MISSING_UNCLES],
		(unsigned long long)l.stash_added, LEECHER_STASH);
	printf("case %u: a burst of %llu datagrams with %llu INTEGRITY entries (stash %u): %u "
	       "delivered\n",
		case_no, (unsigned long long)k, (unsigned long long)l.stash_added, LEECHER_STASH,
		got);
	ppspp_leecher_fini(&l);
	free(out);
}

/*
 * Case 18: a peer that takes every other run of 8 chunks from this seeder (the runs between
 * come from another source): more runs than the seeder's lists of what it sent hold. Each
 * chunk after the first of a run needs about one uncle, as from a single source; a seeder
 * whose list of sent runs stays full of the oldest ones sends every chunk its whole path.
 */
static void case_runs_with_gaps(void)
{
	const struct manifest *m = &store.m;
	uint64_t n = store.tree.n_chunks, runs = 0, late_chunks = 0, late_integrity = 0;
	struct seeder_channel ch;
	struct ppspp_leecher l;
	uint8_t req[256], *out = calloc(1, content_len);

	case_no++;
	if (out == NULL)
		abort();
	if (n < 96) {
		printf("case %u: skipped, %llu chunks make too few runs\n", case_no,
			(unsigned long long)n);
		free(out);
		return;
	}
	CHECK(ppspp_leecher_init(&l, &eng, m->hash, m->chunk_size, m->content_len, m->swarm_id, 0xa,
		      PPSPP_CAM_CHUNK32) == 0);
	seeder_channel_init(&ch, &store, SEEDER_ID);
	shake(&ch, &l, deliver_into, out, NULL);
	for (uint64_t first = 0; first + 8 <= n; first += 16, runs++) {
		uint64_t before = l.stash_added, had = l.n_have;

		CHECK(seeder_input(
			      &ch, req, request_dgram(req, sizeof(req), &ch, first, first + 7)) ==
			SEEDER_R_OK);
		pump(&ch, &l, deliver_into, out, NULL, UINT32_MAX);
		CHECK(l.n_have == had + 8);
		if (runs >= SEEDER_KNOWN_MAX + 1) { /* the list of sent runs is full */
			late_chunks += 8;
			late_integrity += l.stash_added - before;
		}
	}
	/* The first chunk of a run: up to the tree's height; the 7 others: 3 in all (1, 2, 1,
	 * 3, 1, 2, 1 within an aligned run of 8, less those the first one sent). */
	CHECKF(late_integrity <= late_chunks / 8 * (l.v.height + 11),
		"case %u: %llu INTEGRITY for %llu chunks in runs past the first %u (height %u)",
		case_no, (unsigned long long)late_integrity, (unsigned long long)late_chunks,
		SEEDER_KNOWN_MAX + 1, l.v.height);
	printf("case %u: %llu runs of 8 with gaps: %.2f INTEGRITY per chunk once the seeder's list "
	       "of sent runs is full\n",
		case_no, (unsigned long long)runs,
		late_chunks ? (double)late_integrity / (double)late_chunks : 0.0);
	ppspp_leecher_fini(&l);
	free(out);
}

static bool bit_is_set(const uint64_t *m, uint64_t i)
{
	return (m[i / 64] >> (i % 64)) & 1;
}

enum { LEECHER_ID_19 = 0xa }; /* the leecher's channel, where the seeders' datagrams go */

/*
 * Case 19 helpers: seeder datagrams rebuilt with `fill` extra INTEGRITY messages (right
 * hashes of nodes nobody needs here, as a foreign seeder may send) after their own.
 */
static size_t rebuild_n(const struct seeder_channel *ch, uint8_t in[][9000], const size_t *len,
	unsigned n_in, unsigned fill, bool data, uint8_t *out, size_t cap)
{
	struct ppspp_msg msgs[SEEDER_MSGS_MAX];
	struct ppspp_decode_result res;
	struct ppspp_builder b;
	uint64_t leaves = store.tree.n_chunks;
	int n = 0;

	CHECK(ppspp_builder_init(&b, &ch->ctx, out, cap, LEECHER_ID_19) == 0);
	for (unsigned d = 0; d < n_in; d++) {
		n = ppspp_datagram_decode(&ch->ctx, in[d], len[d], msgs, SEEDER_MSGS_MAX, &res);
		CHECK(n > 0);
		for (int i = 0; i < n; i++)
			if (msgs[i].type == PPSPP_MSG_INTEGRITY)
				CHECK(ppspp_builder_append_integrity(&b, msgs[i].u.integrity.range,
					      msgs[i].u.integrity.hash) == 0);
	}
	for (unsigned k = 0; k < fill; k++) { /* leaves from the end of the swarm */
		uint64_t c = leaves - 1 - k % leaves;

		CHECK(ppspp_builder_append_integrity(&b, (struct ppspp_range){c, c},
			      merkle_tree_node(&store.tree, merkle_bin(0, c))) == 0);
	}
	for (int i = 0; i < n && data; i++) /* the last datagram's DATA */
		if (msgs[i].type == PPSPP_MSG_DATA)
			CHECK(ppspp_builder_append_data(&b, msgs[i].u.data.range, 0,
				      msgs[i].u.data.payload, msgs[i].u.data.payload_len) == 0);
	return (size_t)ppspp_builder_finish(&b);
}

static size_t rebuild(const struct seeder_channel *ch, uint8_t in[][9000], const size_t *len,
	unsigned fill, uint8_t *out, size_t cap)
{
	return rebuild_n(ch, in, len, 1, fill, true, out, cap);
}

/* The datagrams a fresh seeder channel sends for chunk c alone (its whole uncle path), at
 * most 3 (with a small cap the peaks and the uncles go first, alone); their count. */
static unsigned fresh_dgrams(struct ppspp_leecher *l, uint64_t c, size_t cap,
	struct seeder_channel *ch, uint8_t out[3][9000], size_t len[3])
{
	uint8_t hs[2048], req[256], tmp[9000];
	unsigned k = 0;
	int n;

	seeder_channel_init(ch, &store, SEEDER_ID);
	n = ppspp_leecher_handshake(l, hs, sizeof(hs));
	CHECK(n > 0 && seeder_input(ch, hs, (size_t)n) == SEEDER_R_OK);
	CHECK(seeder_input(ch, req, request_dgram(req, sizeof(req), ch, c, c)) == SEEDER_R_OK);
	while (k < 3 && (n = seeder_output(ch, tmp, cap, 0)) > 0) {
		struct ppspp_msg msgs[SEEDER_MSGS_MAX];
		struct ppspp_decode_result res;
		int m = ppspp_datagram_decode(
			&ch->ctx, tmp, (size_t)n, msgs, SEEDER_MSGS_MAX, &res);
		bool hs_reply = m > 0 && msgs[0].type == PPSPP_MSG_HANDSHAKE;

		if (hs_reply)
			continue; /* the handshake's answer: the leecher has its channel already */
		memcpy(out[k], tmp, (size_t)n);
		len[k++] = (size_t)n;
		if (ch->data_len > 0)
			break;
	}
	return k;
}

/*
 * Case 19: a burst checked in parts (case 17), where the part boundary falls between a
 * chunk's INTEGRITY, sent alone in the datagram before (too big to go with it), and its
 * DATA; then datagrams with many INTEGRITY each come before that DATA is checked. Its
 * uncles must still be in the stash.
 */
static void case_integrity_alone(void)
{
	const struct manifest *m = &store.m;
	uint64_t n = store.tree.n_chunks, x;
	static uint8_t dg[LEECHER_BURST_MAX][9000];
	struct leecher_rx rx[LEECHER_BURST_MAX];
	static uint8_t two[3][9000];
	uint8_t hs[2048], ack[8192], *out = calloc(1, content_len);
	struct seeder_channel ch;
	struct ppspp_leecher l;
	size_t len2[3], ack_len;
	unsigned k = 0, got, entries = 0, nd;

	case_no++;
	if (out == NULL)
		abort();
	if (n < 64 || m->chunk_size > 1024) {
		printf("case %u: skipped (%llu chunks of %u)\n", case_no, (unsigned long long)n,
			m->chunk_size);
		free(out);
		return;
	}
	CHECK(ppspp_leecher_init(&l, &eng, m->hash, m->chunk_size, m->content_len, m->swarm_id, 0xa,
		      PPSPP_CAM_CHUNK32) == 0);
	seeder_channel_init(&ch, &store, SEEDER_ID);
	{
		int hl = ppspp_leecher_handshake(&l, hs, sizeof(hs));

		CHECK(hl > 0 && seeder_input(&ch, hs, (size_t)hl) == SEEDER_R_OK);
		pump(&ch, &l, deliver_into, out, NULL, 1);
	}
	/* 1. Chunks with their paths and 10 more entries each, until 133-192 entries are in. */
	for (uint64_t c = 0; entries <= 140; c++) {
		CHECK(fresh_dgrams(&l, c, sizeof(two[0]), &ch, two, len2) == 1);
		rx[k].len = rebuild(&ch, two, len2, 10, dg[k], sizeof(dg[k]));
		rx[k].buf = dg[k];
		k++;
		entries += 10 + l.v.height + 1;
	}
	/* 2. Chunk x's INTEGRITY alone (its path, then 50 more), then its DATA alone. */
	x = n - 2;
	nd = fresh_dgrams(&l, x, m->chunk_size + 60, &ch, two, len2);
	CHECK(nd >= 2 && ch.data_len > 0);
	rx[k].len = rebuild_n(&ch, two, len2, nd - 1, 50, false, dg[k], sizeof(dg[k]));
	rx[k].buf = dg[k];
	k++;
	rx[k].len = rebuild_n(&ch, &two[nd - 1], &len2[nd - 1], 1, 0, true, dg[k], sizeof(dg[k]));
	rx[k].buf = dg[k];
	k++;
	/* 3. Six chunks with 38 entries each. */
	for (uint64_t c = 20; c < 26; c++) {
		CHECK(fresh_dgrams(&l, c, sizeof(two[0]), &ch, two, len2) == 1);
		rx[k].len = rebuild(&ch, two, len2, 38 - (l.v.height + 1), dg[k], sizeof(dg[k]));
		rx[k].buf = dg[k];
		k++;
	}
	got = ppspp_leecher_input_burst(&l, rx, k, deliver_into, out, ack, sizeof(ack), &ack_len);
	CHECKF(l.counts[LEECHER_R_MISSING_UNCLES] == 0 && bit_is_set(l.have, x),
		"case %u: chunk %llu, its INTEGRITY alone before a part boundary: %llu without "
		"uncles, %u of %u datagrams delivered",
		case_no, (unsigned long long)x,
		(unsigned long long)l.counts[LEECHER_R_MISSING_UNCLES], got, k);
	printf("case %u: INTEGRITY alone before its DATA across a part boundary: %u chunks "
	       "delivered, %llu stashed\n",
		case_no, got, (unsigned long long)l.stash_added);
	ppspp_leecher_fini(&l);
	free(out);
}

/*
 * Case 20: a seeder that sends chunks k and k + 1 (k even, so that neither's uncles are known
 * from elsewhere) without their INTEGRITY. Once (both copies): asked again at once, the whole
 * path comes with the second copies, the download completes. Always: asked again at once,
 * then, without the uncles again, refused like a bad copy and asked on the backoff (about
 * twice per forgiveness: 0, 1, 3, 7, 15 s), not every round trip; never stored.
 */
static void case_uncles_withheld(void)
{
	const struct manifest *m = &store.m;
	uint64_t n = store.tree.n_chunks, k = n / 2 & ~UINT64_C(1), t;
	struct flaky f = {.k = k, .bare = 2, .out = calloc(1, content_len)};
	struct ppspp_leecher l;
	struct seeder_channel ch;

	case_no++;
	if (f.out == NULL)
		abort();
	if (n < 4) { /* one or two chunks: the peaks are all the uncles there are */
		printf("case %u: not run: %llu chunks (4 or more needed)\n", case_no,
			(unsigned long long)n);
		free(f.out);
		return;
	}
	CHECK(ppspp_leecher_init(&l, &eng, m->hash, m->chunk_size, m->content_len, m->swarm_id, 0xd,
		      PPSPP_CAM_CHUNK32) == 0);
	seeder_channel_init(&ch, &store, SEEDER_ID);
	shake(&ch, &l, flaky_deliver, &f, NULL);
	t = flaky_run(&l, &ch, &f, 1, 30, false);
	CHECKF(ppspp_leecher_done(&l) && memcmp(f.out, content, content_len) == 0 &&
			f.sent_k == 2 && f.at[1] - f.at[0] < 100 && l.uncles_refused == 0,
		"case %u: chunks %llu, %llu once without uncles: %llu of %llu held after %llu ms, "
		"%llu sent %llu times, %llu missing uncles, %llu refused",
		case_no, (unsigned long long)k, (unsigned long long)k + 1,
		(unsigned long long)l.n_have, (unsigned long long)n, (unsigned long long)t,
		(unsigned long long)k, (unsigned long long)f.sent_k,
		(unsigned long long)l.counts[LEECHER_R_MISSING_UNCLES],
		(unsigned long long)l.uncles_refused);
	printf("case %u: chunks %llu and %llu once without their uncles (%llu chunks came "
	       "without them): asked again after %llu ms, complete at %llu ms\n",
		case_no, (unsigned long long)k, (unsigned long long)k + 1,
		(unsigned long long)l.counts[LEECHER_R_MISSING_UNCLES],
		(unsigned long long)(f.at[1] - f.at[0]), (unsigned long long)t);
	ppspp_leecher_fini(&l);

	memset(f.out, 0, content_len);
	f = (struct flaky){.k = k, .bare = UINT64_MAX, .out = f.out};
	CHECK(ppspp_leecher_init(&l, &eng, m->hash, m->chunk_size, m->content_len, m->swarm_id, 0xd,
		      PPSPP_CAM_CHUNK32) == 0);
	seeder_channel_init(&ch, &store, SEEDER_ID);
	shake(&ch, &l, flaky_deliver, &f, NULL);
	t = flaky_run(&l, &ch, &f, 1, 20, false);
	/* 2 at 0 s, 1 s, 3 s, 7 s, 15 s: 10 in 20 s (every 10 ms step: about 2,000). */
	CHECKF(!ppspp_leecher_done(&l) && l.n_have == n - 2 && f.got_k == 0 && f.sent_k >= 8 &&
			f.sent_k <= 12 && l.uncles_refused >= 8 && f.at[2] - f.at[0] >= 1000,
		"case %u: chunk %llu always without uncles: sent %llu times in %llu ms (10 "
		"expected), the third %llu ms after the first, %llu refused, %llu of %llu held",
		case_no, (unsigned long long)k, (unsigned long long)f.sent_k, (unsigned long long)t,
		(unsigned long long)(f.sent_k > 2 ? f.at[2] - f.at[0] : 0),
		(unsigned long long)l.uncles_refused, (unsigned long long)l.n_have,
		(unsigned long long)n);
	printf("case %u: chunks %llu and %llu always without their uncles: %llu asked %llu times "
	       "in %llu s, never stored\n",
		case_no, (unsigned long long)k, (unsigned long long)k + 1, (unsigned long long)k,
		(unsigned long long)f.sent_k, (unsigned long long)t / 1000);
	ppspp_leecher_fini(&l);
	free(f.out);
}

int main(int argc, char **argv)
{
	uint8_t pub[ED25519_PUBLIC_LEN], *hex;
	size_t hex_len;
	char err[512];

	if (argc != 4) {
		fprintf(stderr, "usage: test_seeder STORE PUBFILE CONTENT\n");
		return 1;
	}
	if (crypto_engine_init(&eng) != 0)
		return 77;
	if (read_file(argv[2], &hex, &hex_len) != 0 || read_file(argv[3], &content,
								   &content_len) != 0) {
		fprintf(stderr, "cannot read inputs\n");
		return 1;
	}
	hex[hex_len > 64 ? 64 : hex_len] = '\0';
	CHECK(check_unhex((char *)hex, pub, sizeof(pub)) == ED25519_PUBLIC_LEN);
	/* A key that did not sign the manifest is refused. */
	pub[0] ^= 1;
	CHECK(chunk_store_open(&store, &eng, argv[1], pub, err, sizeof(err)) == -EBADMSG);
	pub[0] ^= 1;
	if (chunk_store_open(&store, &eng, argv[1], pub, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("store: %llu chunks of %u, %s, %u peaks\n", (unsigned long long)store.tree.n_chunks,
	       store.m.chunk_size, hash_name(store.m.hash), store.n_peaks);

	/* An Ethernet MTU less ESP for chunks up to 1 KiB, a jumbo frame above. */
	size_t mtu = store.m.chunk_size <= 1024 ? 1400 : store.m.chunk_size + 400;

	case_download(mtu, 0, PPSPP_CAM_CHUNK32, UINT64_MAX);
	case_download(store.m.chunk_size + 100, 0, PPSPP_CAM_CHUNK32, UINT64_MAX);
	case_download(mtu, 5, PPSPP_CAM_CHUNK32, UINT64_MAX);
	case_download(mtu, 0, PPSPP_CAM_CHUNK64, UINT64_MAX);
	case_download(mtu, 0, PPSPP_CAM_CHUNK32, store.tree.n_chunks / 2);
	case_hostile();
	case_cancel_close();
	case_request_stream();
	case_serve_while_ingesting(false);
	case_serve_while_ingesting(true);
	case_two_sources();
	case_refused_stays();
	case_refused_retry();
	case_slow_source();
	case_choked_source();
	case_lost_in_order();
	case_uncle_heavy_burst();
	case_runs_with_gaps();
	case_integrity_alone();
	case_uncles_withheld();

	chunk_store_close(&store);
	crypto_engine_fini(&eng);
	free(hex);
	free(content);
	return check_exit();
}
