/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the PPSPP leecher's state machine (dataplane/ppspp_leecher.c) with two
 * real seeders (ppspp_seeder.c) of one swarm of 37 chunks (not a power of two: three peaks; or
 * 100, so that bitmaps span two words), over a simulated network the input controls:
 *
 *                 down[0]                                   down[1]
 *   seeder 0 ===============> leecher a    leecher b <=============== seeder 1
 *            <===============  (first) ---- (attached,  ===============>
 *                 up[0]                      linked)        up[1]
 *
 * Each queue holds datagrams in flight; the input drops, reorders, duplicates, corrupts and
 * strips them, delivers several at once as one burst (ppspp_leecher_input_burst), injects
 * raw datagrams, and drives the caller's side: requests with any window, timeouts, a clock
 * for the refusal backoff (ppspp_leecher_retry), forgiveness, peer_has_all, close from
 * either end, choke and unchoke, a seeder whose store is still arriving.
 *
 * After every operation the leecher's state is checked against what ppspp_leecher.h
 * promises (fz_check): counters equal the popcounts of their bitmaps, `asked` is exactly
 * what is in flight on some channel, nothing held is in flight, asked, refused in flight or
 * left to cancel unless held, every trusted tree node is the real one, held_prefix agrees
 * with `have`; each REQUEST datagram asks exactly what became in flight (announced, not held,
 * not refused, within the window; a chunk in flight elsewhere only in the end game) and
 * CANCELs exactly what left the cancel set; each ACK names only chunks held; every chunk is
 * delivered once, byte-identical. At the end the network is made clean and the caller's
 * timers run for a bounded number of rounds: with one channel whose seeder is open,
 * unchoked, no forged or altered datagram on its channel either way, and not known to the
 * leecher as choked or closed, the
 * download must complete.
 *
 * Input: two configuration bytes, then operations (opcode byte, then its argument bytes;
 * missing bytes read as 0), at most FZ_OPS_MAX. See enum fz_op for each one's arguments.
 *   byte 0: bit 0/1: seeder 0/1's handshake answer loses its HAVE; bit 2: one channel only;
 *           bit 3: the seeders run LEDBAT; bit 4: the leecher asks for CAM 4 (64-bit chunks);
 *           bit 5: the swarm of 100 chunks
 *   byte 1: a nibble per seeder: 0..7 a whole store; 8..15 a store still arriving, with
 *           (v - 8) * 5 chunks in at first
 * FZ_TRACE=1 in the environment prints each operation (for reading a reproducer).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppspp_leecher.h"
#include "ppspp_seeder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	FZ_CHUNK = 512,
	FZ_CHUNKS_SMALL = 37,  /* one bitmap word, peaks of 32, 4 and 1 chunks */
	FZ_CHUNKS_LARGE = 100, /* two words (runs and scans across the boundary), peaks 64, 32, 4 */
	FZ_WORDS = (FZ_CHUNKS_LARGE + 63) / 64,
	FZ_CHANS = 2,
	FZ_QUEUES = 2 * FZ_CHANS, /* down[x] = x (seeder to leecher), up[x] = FZ_CHANS + x */
	FZ_QUEUE_LEN = 32,
	FZ_DGRAM_MAX = 1500,
	FZ_BURST_MAX = 16,
	FZ_OPS_MAX = 400,
	FZ_MSGS = 256,
	FZ_ROUNDS = 100,
	FZ_FINAL_WINDOW = 16,
	SEEDER_ID = 0x5eed0000,
	LEECHER_ID = 0x1eec0000,
};

#define FZ_PER_S UINT64_C(1000000) /* the simulated clock is in microseconds */

enum fz_op {
	FZ_OP_REQUEST,	 /* a: channel (bit 0), window 1 + (a >> 1) % 48; b: cap (bits 0-1) */
	FZ_OP_PUMP,	 /* a: seeder (bit 0), 1 + bits 1-4 datagrams, cap (bits 5-6) */
	FZ_OP_DELIVER,	 /* a: queue (bits 0-1), the next 1 + (a >> 2) % 16 (one burst if down) */
	FZ_OP_DROP,	 /* a: queue, index a >> 2 */
	FZ_OP_SWAP,	 /* a: queue, index a >> 2; b: other index */
	FZ_OP_DUP,	 /* a: queue, index a >> 2 */
	FZ_OP_FLIP,	 /* a: queue, index a >> 2; b, c: byte offset; d: XOR mask */
	FZ_OP_STRIP,	 /* a: queue, index a >> 2; b: 0 every INTEGRITY, else message b - 1 */
	FZ_OP_RAW,	 /* a: queue, bit 2: set its channel; b: length; then the bytes */
	FZ_OP_TIMEOUT,	 /* a: channel */
	FZ_OP_CLOCK,	 /* a: bit 7: (a & 127) s, else a * 10 ms; then retry on every channel */
	FZ_OP_FORGIVE,	 /* a: channel */
	FZ_OP_HAS_ALL,	 /* a: channel */
	FZ_OP_CLOSE,	 /* a: channel: the leecher's close handshake into up[x] */
	FZ_OP_SCLOSE,	 /* a: channel: the seeder closes (its close handshake into down[x]) */
	FZ_OP_CHOKE,	 /* a: seeder (bit 0), choke (bit 1) or unchoke */
	FZ_OP_GROW,	 /* a: seeder (bit 0), a >> 1 more chunks arrive in its store */
	FZ_OP_ROUND,	 /* a: channel: ask, serve and deliver everything, clean */
	FZ_OP_KEEPALIVE, /* a: channel: the channel ID alone into up[x] */
	FZ_OP_COUNT,
};

static const char *const fz_op_names[FZ_OP_COUNT] = {"request", "pump", "deliver", "drop", "swap",
	"dup", "flip", "strip", "raw", "timeout", "clock", "forgive", "has_all", "close", "sclose",
	"choke", "grow", "round", "keepalive"};

struct fz_dgram {
	uint16_t len;
	uint8_t b[FZ_DGRAM_MAX];
};

struct fz_queue {
	unsigned n;
	struct fz_dgram d[FZ_QUEUE_LEN];
};

struct fz_state {
	struct ppspp_leecher l[FZ_CHANS];
	struct seeder_channel s[FZ_CHANS];
	struct chunk_store st[FZ_CHANS];
	uint64_t avail[FZ_CHANS];
	struct fz_queue q[FZ_QUEUES];
	unsigned n_ch;
	/* The seeder took a datagram the leecher did not make (raw or corrupted): it may
	 * believe a forged ACK and never send some uncles again, so it proves nothing about
	 * liveness. */
	bool tainted[FZ_CHANS];
	uint64_t maxwin[FZ_CHANS];	 /* the largest window asked with */
	const struct chunk_store *store; /* this run's swarm */
	uint64_t n, words;		 /* its chunks, and words of a chunk bitmap */
	size_t len;			 /* its content length */
	uint64_t delivered[FZ_WORDS];
	uint64_t n_delivered;
	uint64_t now; /* us */
	unsigned op_no;
	const uint8_t *in;
	size_t left;
};

static struct crypto_engine eng;
static struct chunk_store stores[2]; /* FZ_CHUNKS_SMALL, FZ_CHUNKS_LARGE */
static uint8_t content[FZ_CHUNK * FZ_CHUNKS_LARGE - 200];
static struct fz_state fz;
static struct ppspp_msg fz_msgs[FZ_MSGS];
static bool ready, trace;

/* A store without files over the first n chunks' worth of content (the last one short). */
static void fz_store(struct chunk_store *st, uint64_t n)
{
	size_t len = FZ_CHUNK * n - 200;

	memset(st, 0, sizeof(*st));
	st->m.hash = HASH_SHA256;
	st->m.chunk_size = FZ_CHUNK;
	st->m.content_len = len;
	if (merkle_tree_build(&st->tree, &eng, HASH_SHA256, FZ_CHUNK, content, len) != 0 ||
		st->tree.n_chunks != n)
		abort();
	memcpy(st->m.swarm_id, merkle_tree_root(&st->tree), HASH_SHA256_LEN);
	st->chunks = content;
	st->n_peaks = merkle_peaks(st->tree.n_chunks, st->peaks);
}

static void fz_setup(void)
{
	for (size_t i = 0; i < sizeof(content); i++)
		content[i] = (uint8_t)(i * 13 + (i >> 9) * 7 + 1);
	if (crypto_engine_init(&eng) != 0)
		abort();
	fz_store(&stores[0], FZ_CHUNKS_SMALL);
	fz_store(&stores[1], FZ_CHUNKS_LARGE);
	trace = getenv("FZ_TRACE") != NULL;
	ready = true;
}

/* ---- failure report ----------------------------------------------------------------- */

static void fz_dump_map(const char *name, const uint64_t *m)
{
	fprintf(stderr, " %s=", name);
	for (int w = (int)fz.words - 1; w >= 0; w--)
		fprintf(stderr, "%016llx", (unsigned long long)m[w]);
}

static void fz_dump(void)
{
	const struct ppspp_leecher *f = &fz.l[0];

	fprintf(stderr, "op %u, now %llu us, n_have %llu, delivered %llu\n", fz.op_no,
		(unsigned long long)fz.now, (unsigned long long)f->n_have,
		(unsigned long long)fz.n_delivered);
	fz_dump_map("have", f->have);
	fz_dump_map("asked", f->asked);
	fprintf(stderr, "\n");
	for (unsigned x = 0; x < fz.n_ch; x++) {
		const struct ppspp_leecher *l = &fz.l[x];
		const struct seeder_channel *s = &fz.s[x];

		fprintf(stderr,
			"chan %u: peer %x closed %d choked %d have_seen %d n_inflight %llu "
			"n_refused %llu n_avoid %llu n_cancel %llu log %u..%u lost %llu "
			"retry armed %d at %llu shift %u | seeder state %u choked %d n_req %u "
			"tainted %d\n",
			x, l->peer_id, l->closed, l->choked, l->have_seen,
			(unsigned long long)l->n_inflight, (unsigned long long)l->n_refused,
			(unsigned long long)l->n_avoid, (unsigned long long)l->n_cancel,
			l->req_tail, l->req_head, (unsigned long long)l->lost, l->retry_armed,
			(unsigned long long)l->retry_at, l->retry_shift, s->state, s->choked,
			s->n_req, fz.tainted[x]);
		fprintf(stderr,
			" refusals %llu (no uncles %llu) forgiven %llu endgame %llu bad %llu "
			"missing uncles %llu unwanted %llu\n",
			(unsigned long long)l->refusals, (unsigned long long)l->uncles_refused,
			(unsigned long long)l->forgiven, (unsigned long long)l->endgame_asked,
			(unsigned long long)l->counts[LEECHER_R_BAD_CHUNK],
			(unsigned long long)l->counts[LEECHER_R_MISSING_UNCLES],
			(unsigned long long)l->counts[LEECHER_R_UNWANTED]);
		fz_dump_map("inflight", l->inflight);
		fz_dump_map("refused", l->refused);
		fz_dump_map("avoid", l->avoid);
		fz_dump_map("cancel", l->cancel);
		fz_dump_map("peer_has", l->peer_has);
		fz_dump_map("relost", l->relost);
		fprintf(stderr, "\n");
	}
}

static void __attribute__((noreturn, format(printf, 1, 2))) fz_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_ppspp_leecher: invariant broken: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fz_dump();
	abort();
}

/* ---- helpers ------------------------------------------------------------------------ */

static bool fz_bit(const uint64_t *m, uint64_t i)
{
	return (m[i / 64] >> (i % 64)) & 1;
}

static uint64_t fz_popcount(const uint64_t *m)
{
	uint64_t n = 0;

	for (unsigned w = 0; w < fz.words; w++)
		n += (uint64_t)__builtin_popcountll(m[w]);
	return n;
}

/* Bits of word w that stand for chunks. */
static uint64_t fz_valid(unsigned w)
{
	uint64_t rest = fz.n - w * 64;

	return rest >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << rest) - 1;
}

static unsigned fz_byte(void)
{
	if (fz.left == 0)
		return 0;
	fz.left--;
	return *fz.in++;
}

static void fz_push(unsigned q, const uint8_t *b, size_t len)
{
	struct fz_queue *qu = &fz.q[q];

	if (len > FZ_DGRAM_MAX)
		fz_fail("datagram of %zu bytes for queue %u", len, q);
	if (qu->n == FZ_QUEUE_LEN)
		return; /* the link's buffer is full: lost */
	qu->d[qu->n].len = (uint16_t)len;
	memcpy(qu->d[qu->n].b, b, len);
	qu->n++;
}

static void fz_remove(unsigned q, unsigned i)
{
	struct fz_queue *qu = &fz.q[q];

	memmove(&qu->d[i], &qu->d[i + 1], (qu->n - i - 1) * sizeof(qu->d[0]));
	qu->n--;
}

/* A queue named by an argument, in this run's channels. */
static unsigned fz_queue_arg(unsigned a)
{
	unsigned x = (a & 1) % fz.n_ch;

	return a & 2 ? FZ_CHANS + x : x;
}

static bool fz_chunk_announced(const struct ppspp_leecher *l, uint64_t c)
{
	return l->n_peer_has == fz.n || fz_bit(l->peer_has, c);
}

/* What ppspp_leecher.h says a channel "can be asked for" chunk c: open, unchoked, announced,
 * neither refused nor timed out there. */
static bool fz_offers(const struct ppspp_leecher *l, uint64_t c)
{
	return l->peer_id != 0 && !l->closed && !l->choked && fz_chunk_announced(l, c) &&
	       !fz_bit(l->refused, c) && !fz_bit(l->avoid, c);
}

/*
 * The chunks a datagram's messages of `type` (into m) and `type2` (into m2) name, or false
 * when it does not decode under ctx, carries another type, names a chunk past the end, or
 * (with once) names a chunk twice.
 */
static bool fz_ranges(const struct ppspp_ctx *ctx, const uint8_t *b, size_t len, uint8_t type,
	uint8_t type2, uint64_t *m, uint64_t *m2, bool once)
{
	struct ppspp_decode_result res;
	int n = ppspp_datagram_decode(ctx, b, len, fz_msgs, FZ_MSGS, &res);

	if (n < 0)
		return false;
	for (int i = 0; i < n; i++) {
		const struct ppspp_msg *msg = &fz_msgs[i];
		struct ppspp_range r = msg->type == PPSPP_MSG_ACK ? msg->u.ack.range : msg->u.range;
		uint64_t *into = msg->type == type ? m : msg->type == type2 ? m2 : NULL;

		if (into == NULL || r.start > r.end || r.end >= fz.n)
			return false;
		for (uint64_t c = r.start; c <= r.end; c++) {
			if (once && fz_bit(into, c))
				return false;
			into[c / 64] |= UINT64_C(1) << (c % 64);
		}
	}
	return true;
}

/* A channel's count of a bitmap's bits equals the bits set. */
static void fz_count_check(unsigned x, const char *name, uint64_t n, const uint64_t *bits)
{
	if (n != fz_popcount(bits))
		fz_fail("chan %u: %s %llu, %llu bits", x, name, (unsigned long long)n,
			(unsigned long long)fz_popcount(bits));
}

/* ---- invariants --------------------------------------------------------------------- */

static void fz_check(void)
{
	const struct ppspp_leecher *f = &fz.l[0];
	uint64_t bins[MERKLE_MAX_PEAKS], first_missing = 0;
	unsigned np = merkle_peaks(fz.n, bins);
	bool peaks = true;

	if (f->n_have != fz_popcount(f->have))
		fz_fail("n_have %llu, %llu bits in have", (unsigned long long)f->n_have,
			(unsigned long long)fz_popcount(f->have));
	if (f->n_have != fz.n_delivered || memcmp(f->have, fz.delivered, fz.words * 8))
		fz_fail("have is not what was delivered");
	if (ppspp_leecher_done(f) != (fz.n_delivered == fz.n))
		fz_fail("done() disagrees with the chunks delivered");
	for (unsigned w = 0; w < fz.words; w++) {
		uint64_t in = 0;

		for (unsigned x = 0; x < fz.n_ch; x++)
			in |= fz.l[x].inflight[w];
		if (f->asked[w] != in)
			fz_fail("asked %016llx is not the union of in flight %016llx (word %u)",
				(unsigned long long)f->asked[w], (unsigned long long)in, w);
		if (f->asked[w] & f->have[w])
			fz_fail("a chunk held is still asked (word %u)", w);
		if ((f->have[w] | f->asked[w]) & ~fz_valid(w))
			fz_fail("bits past the last chunk in have or asked");
	}
	for (unsigned x = 0; x < fz.n_ch; x++) {
		const struct ppspp_leecher *l = &fz.l[x];

		if (x > 0 && (l->n_have != 0 || l->n_have_p != &f->n_have || l->have != f->have ||
				     l->asked != f->asked))
			fz_fail("channel %u does not share the first's state", x);
		fz_count_check(x, "n_inflight", l->n_inflight, l->inflight);
		fz_count_check(x, "n_refused", l->n_refused, l->refused);
		fz_count_check(x, "n_avoid", l->n_avoid, l->avoid);
		fz_count_check(x, "n_cancel", l->n_cancel, l->cancel);
		fz_count_check(x, "n_peer_has", l->n_peer_has, l->peer_has);
		if (l->req_head - l->req_tail > LEECHER_REQ_LOG)
			fz_fail("chan %u: request log %u..%u overflows", x, l->req_tail,
				l->req_head);
		if (l->n_inflight > fz.maxwin[x])
			fz_fail("chan %u: %llu in flight, never a window over %llu", x,
				(unsigned long long)l->n_inflight,
				(unsigned long long)fz.maxwin[x]);
		if (fz.n_ch == 1 && l->n_avoid != 0)
			fz_fail("chan %u: chunks avoided with no other channel", x);
		if ((l->closed || l->choked) && l->n_cancel != 0)
			fz_fail("chan %u: CANCEL owed to a seeder that closed or chokes", x);
		if (l->stash_tail > l->stash_added)
			fz_fail("chan %u: stash_tail past stash_added", x);
		for (unsigned w = 0; w < fz.words; w++) {
			uint64_t any = l->inflight[w] | l->refused[w] | l->avoid[w] | l->cancel[w] |
				       l->peer_has[w] | l->relost[w];

			if (any & ~fz_valid(w))
				fz_fail("chan %u: bits past the last chunk", x);
			if (l->inflight[w] & f->have[w])
				fz_fail("chan %u: a chunk held is in flight", x);
			if (l->inflight[w] & l->refused[w])
				fz_fail("chan %u: a refused chunk is in flight", x);
			if (l->cancel[w] & ~f->have[w])
				fz_fail("chan %u: CANCEL owed for a chunk not held", x);
		}
		for (uint64_t c = 0; c < fz.n; c++)
			if (fz_bit(l->inflight, c) && !fz_chunk_announced(l, c))
				fz_fail("chan %u: chunk %llu in flight, never announced", x,
					(unsigned long long)c);
	}
	/* The verifier never trusts a hash that is not the tree's. */
	for (uint64_t bin = 0; bin < f->v.n_bins; bin++)
		if (merkle_verifier_trusts(&f->v, bin) &&
			memcmp(f->v.nodes + bin * f->v.hash_len,
				merkle_tree_node(&fz.store->tree, bin), f->v.hash_len) != 0)
			fz_fail("bin %llu trusted with a wrong hash", (unsigned long long)bin);
	for (unsigned k = 0; k < np; k++)
		peaks &= merkle_verifier_trusts(&f->v, bins[k]);
	while (first_missing < fz.n && fz_bit(f->have, first_missing))
		first_missing++;
	for (unsigned x = 0; x < fz.n_ch; x++) {
		const struct ppspp_leecher *l = &fz.l[x];
		uint64_t want = peaks ? first_missing : 0;

		if (l->peaks_ok && !peaks)
			fz_fail("chan %u: peaks_ok with a peak not trusted", x);
		if (ppspp_leecher_held_prefix(l, 0) != want ||
			ppspp_leecher_held_prefix(l, first_missing / 2) != want ||
			ppspp_leecher_held_prefix(l, first_missing) != want)
			fz_fail("chan %u: held_prefix %llu, %llu held from the first (peaks %d)", x,
				(unsigned long long)ppspp_leecher_held_prefix(l, 0),
				(unsigned long long)first_missing, peaks);
	}
}

/* ---- the leecher's side ------------------------------------------------------------- */

static void fz_deliver(void *ctx, uint64_t chunk, const uint8_t *d, size_t len)
{
	size_t want;

	(void)ctx;
	if (chunk >= fz.n)
		fz_fail("chunk %llu delivered, past the end", (unsigned long long)chunk);
	want = chunk + 1 < fz.n ? FZ_CHUNK : fz.len - chunk * FZ_CHUNK;
	if (len != want || memcmp(d, content + chunk * FZ_CHUNK, len) != 0)
		fz_fail("chunk %llu delivered with other content", (unsigned long long)chunk);
	if (fz_bit(fz.delivered, chunk))
		fz_fail("chunk %llu delivered twice", (unsigned long long)chunk);
	fz.delivered[chunk / 64] |= UINT64_C(1) << (chunk % 64);
	fz.n_delivered++;
}

/*
 * The next k datagrams of down[x] as one burst to leecher x (each in a heap copy of its exact
 * size, so ASan sees a read past its end); its ACK into up[x]. Returns the chunks delivered.
 */
static unsigned fz_burst(unsigned x, unsigned k)
{
	struct fz_queue *qu = &fz.q[x];
	struct ppspp_leecher *l = &fz.l[x];
	struct leecher_rx rx[FZ_BURST_MAX];
	uint8_t *copy[FZ_BURST_MAX], ack[1400];
	uint64_t acked[FZ_WORDS] = {0}, none[FZ_WORDS] = {0};
	uint64_t before = fz.n_delivered;
	size_t ack_len = 0;
	unsigned got;

	if (k > qu->n)
		k = qu->n;
	if (k == 0)
		return 0;
	for (unsigned i = 0; i < k; i++) {
		copy[i] = malloc(qu->d[i].len > 0 ? qu->d[i].len : 1);
		if (copy[i] == NULL)
			abort();
		memcpy(copy[i], qu->d[i].b, qu->d[i].len);
		rx[i] = (struct leecher_rx){.buf = copy[i], .len = qu->d[i].len};
	}
	memmove(&qu->d[0], &qu->d[k], (qu->n - k) * sizeof(qu->d[0]));
	qu->n -= k;
	l->now_us = fz.now;
	got = ppspp_leecher_input_burst(l, rx, k, fz_deliver, NULL, ack, sizeof(ack), &ack_len);
	if (got != fz.n_delivered - before)
		fz_fail("burst says %u delivered, %llu were", got,
			(unsigned long long)(fz.n_delivered - before));
	for (unsigned i = 0; i < k; i++) {
		if ((unsigned)rx[i].reason >= LEECHER_R_COUNT)
			fz_fail("datagram %u of the burst: reason %d", i, rx[i].reason);
		free(copy[i]);
	}
	if (ack_len > sizeof(ack))
		fz_fail("ACK of %zu bytes in %zu", ack_len, sizeof(ack));
	if (ack_len > 0) {
		/* An ACK is the seeder's proof that the peer can compute a node: only for chunks
		 * held. */
		if (!fz_ranges(&l->ctx, ack, ack_len, PPSPP_MSG_ACK, PPSPP_MSG_ACK, acked, none,
			    false))
			fz_fail("ACK datagram that does not decode as ACKs");
		for (unsigned w = 0; w < fz.words; w++)
			if (acked[w] & ~l->have[w])
				fz_fail("ACK for a chunk not held");
		fz_push(FZ_CHANS + x, ack, ack_len);
	}
	return got;
}

/*
 * Leecher x's requests with window and cap, checked against what the header promises,
 * into up[x]. Returns the datagram's length.
 */
static int fz_request(unsigned x, uint64_t window, size_t cap)
{
	struct ppspp_leecher *l = &fz.l[x];
	uint64_t inflight[FZ_WORDS], asked[FZ_WORDS], cancel[FZ_WORDS], n_before = l->n_inflight;
	uint64_t req[FZ_WORDS] = {0}, can[FZ_WORDS] = {0}, other[FZ_WORDS] = {0};
	bool quiet = l->peer_id == 0 || l->closed || l->choked;
	bool endgame = fz.n_ch > 1 && fz.n - *l->n_have_p <= window;
	uint8_t buf[FZ_DGRAM_MAX];
	int n;

	memcpy(inflight, l->inflight, fz.words * 8);
	memcpy(asked, l->asked, fz.words * 8);
	memcpy(cancel, l->cancel, fz.words * 8);
	for (unsigned y = 0; y < fz.n_ch; y++)
		if (y != x)
			for (unsigned w = 0; w < fz.words; w++)
				other[w] |= fz.l[y].inflight[w];
	if (window > fz.maxwin[x])
		fz.maxwin[x] = window;
	n = ppspp_leecher_requests(l, buf, cap, window);
	if (n < 0 || (size_t)n > cap)
		fz_fail("chan %u: requests() returned %d for a cap of %zu", x, n, cap);
	if (quiet && n != 0)
		fz_fail("chan %u: requests while closed, choked or without a peer", x);
	if (!quiet && l->reask_due)
		fz_fail("chan %u: reask_due after requests()", x);
	if (l->n_inflight > n_before && l->n_inflight > window)
		fz_fail("chan %u: %llu in flight after a window of %llu", x,
			(unsigned long long)l->n_inflight, (unsigned long long)window);
	if (n > 0 && !fz_ranges(&l->ctx, buf, (size_t)n, PPSPP_MSG_REQUEST, PPSPP_MSG_CANCEL, req,
			     can, true))
		fz_fail("chan %u: requests datagram with more than REQUEST and CANCEL", x);
	for (unsigned w = 0; w < fz.words; w++) {
		uint64_t fresh = l->inflight[w] & ~inflight[w], gone = cancel[w] & ~l->cancel[w];

		if (inflight[w] & ~l->inflight[w])
			fz_fail("chan %u: requests() took chunks out of flight", x);
		if (l->cancel[w] & ~cancel[w])
			fz_fail("chan %u: requests() added CANCELs", x);
		if (req[w] != fresh)
			fz_fail("chan %u: REQUESTs %016llx, newly in flight %016llx", x,
				(unsigned long long)req[w], (unsigned long long)fresh);
		if (can[w] != gone)
			fz_fail("chan %u: CANCELs %016llx, %016llx left the cancel set", x,
				(unsigned long long)can[w], (unsigned long long)gone);
	}
	for (uint64_t c = 0; c < fz.n; c++) {
		bool elsewhere = false;

		if (!fz_bit(req, c))
			continue;
		if (fz_bit(l->have, c) || !fz_chunk_announced(l, c) || fz_bit(l->refused, c))
			fz_fail("chan %u: asked chunk %llu: held, not announced or refused", x,
				(unsigned long long)c);
		if (fz_bit(asked, c)) {
			/* In flight elsewhere: only the end game asks it here too. */
			if (!endgame || !fz_bit(other, c) || fz_bit(l->avoid, c))
				fz_fail("chan %u: chunk %llu asked twice outside the end game", x,
					(unsigned long long)c);
			continue;
		}
		for (unsigned y = 0; y < fz.n_ch; y++)
			elsewhere |= y != x && fz_offers(&fz.l[y], c);
		if (fz_bit(l->avoid, c) && elsewhere)
			fz_fail("chan %u: chunk %llu timed out here asked again, another offers it",
				x, (unsigned long long)c);
	}
	if (n > 0)
		fz_push(FZ_CHANS + x, buf, (size_t)n);
	return n;
}

/* The next k datagrams of up[x] to seeder x. */
static void fz_uplink(unsigned x, unsigned k)
{
	struct fz_queue *qu = &fz.q[FZ_CHANS + x];

	for (; k > 0 && qu->n > 0; k--) {
		uint8_t *copy = malloc(qu->d[0].len > 0 ? qu->d[0].len : 1);
		size_t len = qu->d[0].len;

		if (copy == NULL)
			abort();
		memcpy(copy, qu->d[0].b, len);
		fz_remove(FZ_CHANS + x, 0);
		seeder_clock(&fz.s[x], fz.now);
		seeder_input(&fz.s[x], copy, len);
		free(copy);
	}
}

/* Up to k datagrams of seeder x into down[x]. Returns how many. */
static unsigned fz_pump(unsigned x, unsigned k, size_t cap)
{
	uint8_t buf[FZ_DGRAM_MAX];
	unsigned made = 0;

	while (made < k && fz.q[x].n < FZ_QUEUE_LEN) {
		int n = seeder_output(&fz.s[x], buf, cap, fz.now);

		if (n <= 0)
			break;
		if ((size_t)n > cap)
			fz_fail("seeder %u: datagram of %d bytes in a cap of %zu", x, n, cap);
		fz_push(x, buf, (size_t)n);
		made++;
	}
	return made;
}

/* The caller's retry timer on channel x, checked. */
static void fz_retry(unsigned x)
{
	struct ppspp_leecher *l = &fz.l[x];
	uint64_t refused = l->n_refused, forgiven = l->forgiven;
	uint64_t n = ppspp_leecher_retry(l, fz.now, FZ_PER_S);

	if (refused - l->n_refused < n || l->forgiven != forgiven + n || l->n_refused > refused)
		fz_fail("chan %u: retry forgave %llu, refused %llu -> %llu", x,
			(unsigned long long)n, (unsigned long long)refused,
			(unsigned long long)l->n_refused);
}

static void fz_forgive(unsigned x)
{
	struct ppspp_leecher *l = &fz.l[x];
	uint64_t refused = l->n_refused, forgiven = l->forgiven;
	uint64_t n = ppspp_leecher_forgive(l);

	if (refused - l->n_refused < n || l->forgiven != forgiven + n || l->n_refused > refused)
		fz_fail("chan %u: forgive returned %llu, refused %llu -> %llu", x,
			(unsigned long long)n, (unsigned long long)refused,
			(unsigned long long)l->n_refused);
	/* Whatever stays refused is held or offered by another channel. */
	for (uint64_t c = 0; c < fz.n; c++) {
		bool elsewhere = false;

		if (!fz_bit(l->refused, c))
			continue;
		for (unsigned y = 0; y < fz.n_ch; y++)
			elsewhere |= y != x && fz_offers(&fz.l[y], c);
		if (!elsewhere || fz_bit(l->have, c))
			fz_fail("chan %u: chunk %llu still refused after forgive", x,
				(unsigned long long)c);
	}
}

/*
 * Datagram i of queue q without some of its messages (every one of `type`, or with type < 0
 * the one at index which % count), re-encoded under the context of its channel; left as it
 * is when it does not decode.
 */
static void fz_strip(unsigned q, unsigned i, int type, unsigned which)
{
	struct fz_dgram *d = &fz.q[q].d[i];
	const struct ppspp_ctx *ctx = q < FZ_CHANS ? &fz.l[q].ctx : &fz.s[q - FZ_CHANS].ctx;
	struct ppspp_decode_result res;
	struct ppspp_builder b;
	uint8_t out[FZ_DGRAM_MAX];
	int n = ppspp_datagram_decode(ctx, d->b, d->len, fz_msgs, FZ_MSGS, &res), rc;

	if (n <= 0)
		return;
	rc = ppspp_builder_init(&b, ctx, out, sizeof(out), res.dest_channel);
	for (int k = 0; k < n && rc == 0; k++) {
		if (type >= 0 ? fz_msgs[k].type == type : (unsigned)k == which % (unsigned)n)
			continue;
		rc = ppspp_builder_append_msg(&b, &fz_msgs[k]);
	}
	if (rc == 0)
		rc = ppspp_builder_finish(&b);
	if (rc < 0)
		return;
	memcpy(d->b, out, (size_t)rc);
	d->len = (uint16_t)rc;
}

/* ---- setup -------------------------------------------------------------------------- */

static void fz_open(unsigned cfg, unsigned avail_cfg)
{
	uint8_t buf[FZ_DGRAM_MAX];
	int n;

	memset(&fz.l, 0, sizeof(fz.l));
	memset(&fz.s, 0, sizeof(fz.s));
	for (unsigned q = 0; q < FZ_QUEUES; q++)
		fz.q[q].n = 0;
	memset(fz.tainted, 0, sizeof(fz.tainted));
	memset(fz.maxwin, 0, sizeof(fz.maxwin));
	memset(fz.delivered, 0, sizeof(fz.delivered));
	fz.n_delivered = 0;
	fz.now = FZ_PER_S;
	fz.op_no = 0;
	fz.n_ch = cfg & 4 ? 1 : 2;
	fz.store = &stores[cfg & 32 ? 1 : 0];
	fz.n = fz.store->tree.n_chunks;
	fz.words = (fz.n + 63) / 64;
	fz.len = fz.store->m.content_len;
	if (ppspp_leecher_init(&fz.l[0], &eng, HASH_SHA256, FZ_CHUNK, fz.len, fz.store->m.swarm_id,
		    LEECHER_ID, cfg & 16 ? PPSPP_CAM_CHUNK64 : PPSPP_CAM_CHUNK32) != 0)
		abort();
	if (fz.n_ch > 1) {
		if (ppspp_leecher_attach(&fz.l[1], &fz.l[0], LEECHER_ID + 1) != 0)
			abort();
		fz.l[1].e = &eng;
		if (ppspp_leecher_link(&fz.l[1]) != 0)
			abort();
	}
	for (unsigned x = 0; x < fz.n_ch; x++) {
		unsigned v = (avail_cfg >> (4 * x)) & 15;

		fz.st[x] = *fz.store;
		fz.avail[x] = v < 8 ? fz.n : (v - 8) * 5;
		fz.st[x].avail = v < 8 ? NULL : &fz.avail[x];
		seeder_channel_init(&fz.s[x], &fz.st[x], SEEDER_ID + x);
		seeder_congestion(&fz.s[x], cfg & 8);
		/* The handshakes are not fuzzed (fuzz_ppspp_channel.c does): a seeder channel
		 * refuses a second opening handshake, so a lost answer needs a new channel. */
		n = ppspp_leecher_handshake(&fz.l[x], buf, sizeof(buf));
		if (n <= 0 || seeder_input(&fz.s[x], buf, (size_t)n) != SEEDER_R_OK ||
			fz_pump(x, 1, 1400) != 1)
			abort();
		if (cfg & (1u << x)) /* a seeder that never says HAVE (RFC 7574 allows it) */
			fz_strip(x, 0, PPSPP_MSG_HAVE, 0);
		fz_burst(x, 1);
		if (fz.l[x].peer_id != SEEDER_ID + x)
			abort();
	}
}

/* ---- operations --------------------------------------------------------------------- */

/* A keep-alive (the channel ID alone, RFC 7574 3.7) from leecher x: a seeder whose store is
 * still arriving says HAVE again. */
static void fz_keepalive(unsigned x)
{
	uint32_t id = fz.l[x].peer_id;
	const uint8_t ka[4] = {
		(uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8), (uint8_t)id};

	fz_push(FZ_CHANS + x, ka, sizeof(ka));
}

static void fz_round(unsigned x, uint64_t window, unsigned *got)
{
	for (unsigned it = 0; it < 4; it++) {
		if (fz_request(x, window, 1400) == 0)
			fz_keepalive(x);
		fz_uplink(x, FZ_QUEUE_LEN);
		for (unsigned k = 0; k < 64 && (fz_pump(x, 8, 1400) > 0 || fz.q[x].n > 0); k++) {
			*got += fz_burst(x, 8);
			fz_uplink(x, FZ_QUEUE_LEN);
		}
		fz_check();
	}
}

static void fz_op(unsigned op)
{
	unsigned a = fz_byte(), x = (a & 1) % fz.n_ch, q = fz_queue_arg(a), i, j;
	struct fz_queue *qu = &fz.q[q];
	uint8_t buf[FZ_DGRAM_MAX];
	size_t len;
	int n;

	if (trace)
		fprintf(stderr, "op %u: %s %02x\n", fz.op_no, fz_op_names[op], a);
	switch (op) {
	case FZ_OP_REQUEST: {
		static const size_t caps[] = {1400, 64, 24, 13};

		fz_request(x, 1 + (a >> 1) % 48, caps[fz_byte() & 3]);
		break;
	}
	case FZ_OP_PUMP: {
		static const size_t caps[] = {1400, 1000, 600, 560};

		fz_pump(x, 1 + ((a >> 1) & 15), caps[(a >> 5) & 3]);
		break;
	}
	case FZ_OP_DELIVER:
		if (q < FZ_CHANS)
			fz_burst(q, 1 + (a >> 2) % FZ_BURST_MAX);
		else
			fz_uplink(q - FZ_CHANS, 1 + (a >> 2) % FZ_BURST_MAX);
		break;
	case FZ_OP_DROP:
		if (qu->n > 0)
			fz_remove(q, (a >> 2) % qu->n);
		break;
	case FZ_OP_SWAP:
		j = fz_byte();
		if (qu->n > 1) {
			struct fz_dgram t;

			i = (a >> 2) % qu->n;
			j %= qu->n;
			t = qu->d[i];
			qu->d[i] = qu->d[j];
			qu->d[j] = t;
		}
		break;
	case FZ_OP_DUP:
		if (qu->n > 0 && qu->n < FZ_QUEUE_LEN) {
			i = (a >> 2) % qu->n;
			memmove(&qu->d[i + 1], &qu->d[i], (qu->n - i) * sizeof(qu->d[0]));
			qu->n++;
		}
		break;
	case FZ_OP_FLIP: {
		unsigned pos = fz_byte() << 8, mask;

		pos |= fz_byte();
		mask = fz_byte();
		if (qu->n > 0) {
			struct fz_dgram *d = &qu->d[(a >> 2) % qu->n];

			if (d->len > 0)
				d->b[pos % d->len] ^= (uint8_t)(mask != 0 ? mask : 0x80);
			/* Either way: a forged HAVE to the leecher (one announcing only part of
			 * the swarm, after the handshake's was lost) stalls it as surely as a
			 * forged ACK to the seeder. */
			fz.tainted[q % FZ_CHANS] = true;
		}
		break;
	}
	case FZ_OP_STRIP:
		j = fz_byte();
		if (qu->n > 0)
			fz_strip(q, (a >> 2) % qu->n, j == 0 ? PPSPP_MSG_INTEGRITY : -1, j - 1);
		break;
	case FZ_OP_RAW:
		len = fz_byte();
		if (len > fz.left)
			len = fz.left;
		memcpy(buf, fz.in, len);
		fz.in += len;
		fz.left -= len;
		if ((a & 4) && len >= 4) { /* addressed to the channel, so it is read past that */
			uint32_t id = q < FZ_CHANS ? fz.l[q].local_id : fz.s[q - FZ_CHANS].local_id;

			buf[0] = (uint8_t)(id >> 24);
			buf[1] = (uint8_t)(id >> 16);
			buf[2] = (uint8_t)(id >> 8);
			buf[3] = (uint8_t)id;
		}
		fz_push(q, buf, len);
		fz.tainted[q % FZ_CHANS] = true; /* either way, as for FLIP */
		break;
	case FZ_OP_TIMEOUT:
		ppspp_leecher_timeout(&fz.l[x]);
		if (fz.l[x].n_inflight != 0 || fz.l[x].req_tail != fz.l[x].req_head)
			fz_fail("chan %u: in flight after a timeout", x);
		break;
	case FZ_OP_CLOCK:
		fz.now += a & 0x80 ? (a & 0x7f) * FZ_PER_S : a * (FZ_PER_S / 100);
		for (unsigned y = 0; y < fz.n_ch; y++)
			fz_retry(y);
		break;
	case FZ_OP_FORGIVE:
		fz_forgive(x);
		break;
	case FZ_OP_HAS_ALL:
		ppspp_leecher_peer_has_all(&fz.l[x]);
		if (fz.l[x].n_peer_has != fz.n || !fz.l[x].have_seen)
			fz_fail("chan %u: peer_has_all left chunks unannounced", x);
		break;
	case FZ_OP_CLOSE:
		n = ppspp_leecher_close(&fz.l[x], buf, 64);
		if ((fz.l[x].peer_id == 0 || fz.l[x].closed) != (n == 0) || n < 0 || n > 64)
			fz_fail("chan %u: close returned %d", x, n);
		if (n > 0)
			fz_push(FZ_CHANS + x, buf, (size_t)n);
		break;
	case FZ_OP_SCLOSE: {
		struct seeder_channel *s = &fz.s[x];
		struct ppspp_builder b;

		if (s->state != SEEDER_ST_OPEN)
			break;
		if (ppspp_builder_init(&b, &s->ctx, buf, 64, s->peer_id) != 0 ||
			ppspp_builder_handshake_begin(&b, PPSPP_CHANNEL_CLOSE) != 0 ||
			ppspp_builder_handshake_end(&b) != 0 || (n = ppspp_builder_finish(&b)) <= 0)
			abort();
		fz_push(x, buf, (size_t)n);
		s->state = SEEDER_ST_CLOSED;
		break;
	}
	case FZ_OP_CHOKE:
		seeder_choke(&fz.s[x], a & 2);
		break;
	case FZ_OP_GROW:
		if (fz.st[x].avail != NULL)
			fz.avail[x] = fz.avail[x] + (a >> 1) > fz.n ? fz.n : fz.avail[x] + (a >> 1);
		break;
	case FZ_OP_ROUND: {
		unsigned got = 0;

		fz_round(x, 8, &got);
		break;
	}
	case FZ_OP_KEEPALIVE:
		fz_keepalive(x);
		break;
	}
}

/* ---- liveness ----------------------------------------------------------------------- */

/*
 * Channel x can still serve the swarm: its seeder is open and unchokes, took nothing forged,
 * and the leecher knows it as open and unchoked. (A lost UNCHOKE leaves the leecher choked
 * with nothing to end it but a new channel: the caller's concern, not this check's.)
 */
static bool fz_healthy(unsigned x)
{
	const struct ppspp_leecher *l = &fz.l[x];
	const struct seeder_channel *s = &fz.s[x];

	return !fz.tainted[x] && l->peer_id == s->local_id && !l->closed && !l->choked &&
	       s->state == SEEDER_ST_OPEN && !s->choked;
}

/*
 * The network made clean (what is in transit is lost), the sources' stores complete, and the
 * caller's timers run as the data plane's ingest runs them: peer_has_all for a source that
 * announced nothing, the retry backoff, a timeout for a channel that delivered nothing in a
 * round, requests and keep-alives. Rounds are 2 s apart, so the longest backoff (64 s) passes
 * several times.
 */
static void fz_finish(void)
{
	bool alive = false;

	for (unsigned x = 0; x < fz.n_ch; x++) {
		fz.avail[x] = fz.n;
		alive |= fz_healthy(x);
	}
	for (unsigned q = 0; q < FZ_QUEUES; q++)
		fz.q[q].n = 0;
	for (unsigned r = 0; r < FZ_ROUNDS && !ppspp_leecher_done(&fz.l[0]); r++) {
		unsigned got[FZ_CHANS] = {0};

		fz.now += 2 * FZ_PER_S;
		for (unsigned x = 0; x < fz.n_ch; x++) {
			if (!fz.l[x].have_seen)
				ppspp_leecher_peer_has_all(&fz.l[x]);
			fz_retry(x);
		}
		for (unsigned x = 0; x < fz.n_ch; x++)
			fz_round(x, FZ_FINAL_WINDOW, &got[x]);
		for (unsigned x = 0; x < fz.n_ch; x++)
			if (got[x] == 0 && fz.l[x].n_inflight > 0)
				ppspp_leecher_timeout(&fz.l[x]);
		fz_check();
		if (trace) {
			fprintf(stderr, "final round %u: %u, %u delivered\n", r, got[0], got[1]);
			fz_dump();
		}
	}
	if (alive && !ppspp_leecher_done(&fz.l[0]))
		fz_fail("not complete after %u clean rounds with a healthy channel", FZ_ROUNDS);
	if (ppspp_leecher_done(&fz.l[0]))
		for (unsigned x = 0; x < fz.n_ch; x++)
			if (fz.l[x].n_inflight != 0)
				fz_fail("chan %u: chunks in flight once done", x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned cfg, avail_cfg;

	if (!ready)
		fz_setup();
	fz.in = data;
	fz.left = size;
	cfg = fz_byte();
	avail_cfg = fz_byte();
	fz_open(cfg, avail_cfg);
	fz_check();
	while (fz.left > 0 && fz.op_no < FZ_OPS_MAX) {
		fz_op(fz_byte() % FZ_OP_COUNT);
		fz_check();
		if (trace)
			fz_dump();
		fz.op_no++;
	}
	fz_finish();
	if (trace)
		fz_dump();
	for (unsigned x = fz.n_ch; x-- > 0;) /* a later channel is finished before its first */
		ppspp_leecher_fini(&fz.l[x]);
	return 0;
}
