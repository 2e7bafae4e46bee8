/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP module tables: anti-replay window (with ESN inference), lifetimes, seal -> open round
 * trips, truncation and tampering, trailer rules, UDP 4500 classification, bursts.
 * Interop with independent implementations is in interop_scapy.py and interop_tshark.py.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "esp_sa.h"

enum {
	SPI = 0x1000a5c3,
	BUF = 9000,
};

static struct crypto_engine eng;
static const uint8_t key32[32] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x10, 0x32,
				   0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, 0xa0, 0xa1, 0xa2, 0xa3,
				   0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad,
				   0xae, 0xaf };
static const uint8_t salt[4] = { 0xca, 0xfe, 0xba, 0xbe };

/* SAs live in 64-byte-aligned static storage, as a caller's allocator would give them. */
static struct esp_sa sa_in, sa_out, sa_out2;

static void sa_make(struct esp_sa *sa, enum esp_sa_dir dir, size_t key_len, bool esn,
		    const struct esp_lifetime *soft, const struct esp_lifetime *hard, uint64_t now)
{
	struct esp_sa_config c = {
		.spi = SPI, .dir = dir, .esn = esn, .key = key32, .key_len = key_len,
		.salt = salt, .now = now,
	};

	if (soft != NULL)
		c.soft = *soft;
	if (hard != NULL)
		c.hard = *hard;
	if (esp_sa_init(&eng, sa, &c) != 0)
		abort();
}

static void payload_fill(uint8_t *p, uint32_t len, uint32_t tag)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + tag);
}

/* Seals len bytes of pattern `tag` as sequence number seq (64-bit). Returns the reason. */
static unsigned seal_at(struct esp_sa *out, uint64_t seq, uint32_t len, uint32_t tag,
			uint8_t *buf, uint32_t *out_len)
{
	uint8_t src[BUF];
	struct esp_seal_pkt p = {
		.sa = out, .src = src, .out = buf, .len = len, .out_cap = BUF, .next_hdr = 17,
	};

	payload_fill(src, len, tag);
	out->seq = seq - 1;
	esp_seal_burst(&eng, &p, 1, 0);
	*out_len = p.out_len;
	return p.reason;
}

static unsigned open_one(struct esp_sa *in, uint8_t *buf, uint32_t len, uint64_t now,
			 struct esp_open_pkt *res)
{
	struct esp_open_pkt p = { .sa = in, .data = buf, .len = len };

	esp_open_burst(&eng, &p, 1, now);
	if (res != NULL)
		*res = p;
	return p.reason;
}

struct replay_case {
	uint64_t seq;	  /* sent with this full sequence number */
	unsigned expect;  /* enum esp_drop */
};

static void replay_table(const char *name, bool esn, const struct replay_case *t, size_t n)
{
	uint8_t buf[BUF];
	uint32_t len;

	sa_make(&sa_in, ESP_SA_INBOUND, 16, esn, NULL, NULL, 0);
	sa_make(&sa_out, ESP_SA_OUTBOUND, 16, esn, NULL, NULL, 0);
	for (size_t i = 0; i < n; i++) {
		struct esp_open_pkt r;
		unsigned got;

		CHECK(seal_at(&sa_out, t[i].seq, 20, (uint32_t)i, buf, &len) == ESP_DROP_NONE);
		got = open_one(&sa_in, buf, len, 0, &r);
		CHECKF(got == t[i].expect, "%s case %zu seq %#llx: got %s want %s", name, i + 1,
		       (unsigned long long)t[i].seq, esp_drop_name(got),
		       esp_drop_name(t[i].expect));
		if (got == ESP_DROP_NONE)
			CHECKF(r.seq == t[i].seq && r.payload_len == 20 && r.next_hdr == 17,
			       "%s case %zu: seq %#llx len %u", name, i + 1,
			       (unsigned long long)r.seq, r.payload_len);
	}
	esp_sa_destroy(&sa_in);
	esp_sa_destroy(&sa_out);
}

static void check_replay(void)
{
	/* 32-bit sequence numbers; window 4096: top - 4095 is the oldest still admitted. */
	static const struct replay_case plain[] = {
		{ 1, ESP_DROP_NONE },		 /* 1 in order */
		{ 2, ESP_DROP_NONE },		 /* 2 */
		{ 2, ESP_DROP_REPLAY },		 /* 3 duplicate of the top */
		{ 1, ESP_DROP_REPLAY },		 /* 4 duplicate below the top */
		{ 5000, ESP_DROP_NONE },	 /* 5 jump forward */
		{ 905, ESP_DROP_NONE },		 /* 6 just inside: top - 4095 */
		{ 904, ESP_DROP_TOO_OLD },	 /* 7 just outside: top - 4096 */
		{ 905, ESP_DROP_REPLAY },	 /* 8 */
		{ 4000, ESP_DROP_NONE },	 /* 9 reordered, inside */
		{ 4000, ESP_DROP_REPLAY },	 /* 10 */
		{ 4999, ESP_DROP_NONE },	 /* 11 */
		{ 100000, ESP_DROP_NONE },	 /* 12 big jump: the window is cleared */
		{ 5000, ESP_DROP_TOO_OLD },	 /* 13 far old */
		{ 99999, ESP_DROP_NONE },	 /* 14 */
		{ 100000 - 4095, ESP_DROP_NONE }, /* 15 oldest admitted */
		{ 100000 + 4096, ESP_DROP_NONE }, /* 16 jump of exactly the window */
		{ 100000, ESP_DROP_TOO_OLD },	 /* 17 fell out */
		{ 100001, ESP_DROP_NONE },	 /* 18 bit cleared by the jump */
		{ 104095, ESP_DROP_NONE },	 /* 19 */
		{ 104096, ESP_DROP_REPLAY },	 /* 20 the top again */
		{ 104096 + 63, ESP_DROP_NONE },	 /* 21 advance within a word */
		{ 104096 + 64, ESP_DROP_NONE },	 /* 22 across a word boundary */
		{ 104096 + 64 + 4095, ESP_DROP_NONE }, /* 23 advance by W-1: all but one cleared */
		{ 104096 + 64, ESP_DROP_REPLAY }, /* 24 the one kept */
		{ 104096 + 63, ESP_DROP_TOO_OLD }, /* 25 */
		{ 0xffffffff, ESP_DROP_NONE },	 /* 26 the last 32-bit number */
		{ 0xffffffff, ESP_DROP_REPLAY }, /* 27 */
	};
	/* ESN: seq_hi inferred from the window (RFC 4303 A2.2). */
	static const struct replay_case esn[] = {
		{ 1, ESP_DROP_NONE },			     /* 1 */
		/* 2: from a window at 1, a seq_lo >= Tl = 2^32 - 4094 would be subspace -1. */
		{ 0xfffffff6, ESP_DROP_TOO_OLD },
		{ 0x80000000, ESP_DROP_NONE },		     /* 3 half-way */
		{ 0xfffffff6, ESP_DROP_NONE },		     /* 4 end of subspace 0 */
		{ 0x100000005, ESP_DROP_NONE },		     /* 5 seq_lo wrapped: hi = 1 */
		{ 0xfffffff6, ESP_DROP_REPLAY },	     /* 6 case B: hi - 1 */
		{ 0xfffffff0, ESP_DROP_NONE },		     /* 7 case B, unseen */
		{ 0x100000000, ESP_DROP_NONE },		     /* 8 seq_lo 0 is valid with ESN */
		{ 0x100000000, ESP_DROP_REPLAY },	     /* 9 */
		/* 10: below Tl is taken for the next subspace: the ICV decides (A2.2). */
		{ 0xfffff000, ESP_DROP_ICV },
		{ 0x100001000, ESP_DROP_NONE },		     /* 11 case A from now on */
		/* 12: a jump of 2^32 cannot be told from an old packet: the ICV refuses it. */
		{ 0x200000003, ESP_DROP_ICV },
		{ 0x180000000, ESP_DROP_NONE },		     /* 13 big jump in subspace 1 */
		{ 0x200000001, ESP_DROP_NONE },		     /* 14 case A: lo < Tl -> hi + 1 */
		{ 0x1ffffffff, ESP_DROP_NONE },		     /* 15 case B: previous subspace */
		{ 0x200000001, ESP_DROP_REPLAY },	     /* 16 */
		{ 0x1ffffffff, ESP_DROP_REPLAY },	     /* 17 */
		{ 0x200000001 - 4095, ESP_DROP_NONE },	     /* 18 oldest admitted, across hi */
		/* 19: one below the window is below Tl, so taken for the next subspace. */
		{ 0x200000001 - 4096, ESP_DROP_ICV },
		{ 0xfffffffe00000000, ESP_DROP_ICV },	     /* 20 beyond any inference */
	};

	replay_table("plain", false, plain, sizeof(plain) / sizeof(plain[0]));
	replay_table("esn", true, esn, sizeof(esn) / sizeof(esn[0]));
}

/* The whole window: 4096 numbers in reverse order are all new, then all replays. */
static void check_replay_full_window(void)
{
	static uint8_t bufs[ESP_REPLAY_WINDOW][80];
	static struct esp_open_pkt pk[ESP_REPLAY_WINDOW];
	uint32_t len = 0;
	unsigned ok;

	for (int esn = 0; esn <= 1; esn++) {
		const uint64_t base = esn ? 0x700000000 - 2000 : 10000;

		sa_make(&sa_in, ESP_SA_INBOUND, 32, esn, NULL, NULL, 0);
		sa_make(&sa_out, ESP_SA_OUTBOUND, 32, esn, NULL, NULL, 0);
		for (unsigned i = 0; i < ESP_REPLAY_WINDOW; i++) {
			uint64_t seq = base + ESP_REPLAY_WINDOW - 1 - i;

			CHECK(seal_at(&sa_out, seq, 40, i, bufs[i], &len) == ESP_DROP_NONE);
			CHECK(len <= sizeof(bufs[i]));
		}
		for (unsigned i = 0; i < ESP_REPLAY_WINDOW; i++)
			pk[i] = (struct esp_open_pkt){ .sa = &sa_in, .data = bufs[i], .len = len };
		/* ESN: a receiver that has seen base - 1; seq_hi 6 and 7 (the window wraps) inferred. */
		if (esn)
			sa_in.seq = base - 1;
		ok = esp_open_burst(&eng, pk, ESP_REPLAY_WINDOW, 0);
		CHECKF(ok == ESP_REPLAY_WINDOW, "esn %d: %u of 4096 opened", esn, ok);
		/* Re-seal the same numbers: every one is now a replay. */
		for (unsigned i = 0; i < ESP_REPLAY_WINDOW; i++) {
			seal_at(&sa_out, base + ESP_REPLAY_WINDOW - 1 - i, 40, i, bufs[i], &len);
			pk[i] = (struct esp_open_pkt){ .sa = &sa_in, .data = bufs[i], .len = len };
		}
		ok = esp_open_burst(&eng, pk, ESP_REPLAY_WINDOW, 0);
		CHECK(ok == 0);
		for (unsigned i = 0; i < ESP_REPLAY_WINDOW; i++)
			CHECKF(pk[i].reason == ESP_DROP_REPLAY, "esn %d pkt %u: %s", esn, i,
			       esp_drop_name(pk[i].reason));
		CHECK(sa_in.drops[ESP_DROP_REPLAY] == ESP_REPLAY_WINDOW);
		esp_sa_destroy(&sa_in);
		esp_sa_destroy(&sa_out);
	}
}

static void check_esn_fresh(void)
{
	uint8_t buf[BUF];
	uint32_t len;

	/* A fresh ESN window at 0: a seq_lo near 2^32 would be subspace -1. */
	sa_make(&sa_in, ESP_SA_INBOUND, 16, true, NULL, NULL, 0);
	sa_make(&sa_out, ESP_SA_OUTBOUND, 16, true, NULL, NULL, 0);
	seal_at(&sa_out, 0xffffffff, 10, 0, buf, &len);
	CHECK(open_one(&sa_in, buf, len, 0, NULL) == ESP_DROP_TOO_OLD);
	CHECK(sa_in.seq == 0);
	/* Sequence number 0 is never sent: refused before decryption. */
	seal_at(&sa_out, 7, 10, 0, buf, &len);
	memset(buf + 4, 0, 4);
	CHECK(open_one(&sa_in, buf, len, 0, NULL) == ESP_DROP_SEQ_ZERO);
	/* ESN mismatch between the ends: the ICV catches it. */
	sa_make(&sa_in, ESP_SA_INBOUND, 16, false, NULL, NULL, 0);
	seal_at(&sa_out, 5, 10, 0, buf, &len);
	CHECK(open_one(&sa_in, buf, len, 0, NULL) == ESP_DROP_ICV);
	esp_sa_destroy(&sa_in);
	esp_sa_destroy(&sa_out);
}

struct life_case {
	uint64_t now;
	unsigned expect;
	unsigned events;
};

static void life_run(const char *name, const struct esp_lifetime *soft,
		     const struct esp_lifetime *hard, uint32_t plen, const struct life_case *t,
		     size_t n)
{
	uint8_t buf[BUF];
	uint32_t len;

	sa_make(&sa_in, ESP_SA_INBOUND, 16, false, soft, hard, 1000);
	sa_make(&sa_out, ESP_SA_OUTBOUND, 16, false, NULL, NULL, 0);
	for (size_t i = 0; i < n; i++) {
		struct esp_open_pkt r;

		seal_at(&sa_out, i + 1, plen, 0, buf, &len);
		open_one(&sa_in, buf, len, t[i].now, &r);
		CHECKF(r.reason == t[i].expect && r.events == t[i].events,
		       "%s case %zu: got %s ev %u, want %s ev %u", name, i + 1,
		       esp_drop_name(r.reason), r.events, esp_drop_name(t[i].expect),
		       t[i].events);
	}
	esp_sa_destroy(&sa_in);
	esp_sa_destroy(&sa_out);
}

static void check_lifetimes(void)
{
	const unsigned S = ESP_EV_SOFT_EXPIRED, H = ESP_EV_HARD_EXPIRED;
	const struct esp_lifetime pk_soft = { .packets = 3 }, pk_hard = { .packets = 5 };
	const struct life_case pk[] = {
		{ 1000, ESP_DROP_NONE, 0 }, { 1000, ESP_DROP_NONE, 0 },
		{ 1000, ESP_DROP_NONE, S }, { 1000, ESP_DROP_NONE, 0 },
		{ 1000, ESP_DROP_NONE, H }, { 1000, ESP_DROP_HARD_EXPIRED, 0 },
		{ 1000, ESP_DROP_HARD_EXPIRED, 0 },
	};
	const struct esp_lifetime by_soft = { .bytes = 100 }, by_hard = { .bytes = 250 };
	const struct life_case by[] = {
		{ 1000, ESP_DROP_NONE, 0 }, { 1000, ESP_DROP_NONE, S }, { 1000, ESP_DROP_NONE, 0 },
		{ 1000, ESP_DROP_NONE, 0 }, { 1000, ESP_DROP_NONE, H },
		{ 1000, ESP_DROP_HARD_EXPIRED, 0 },
	};
	const struct esp_lifetime t_soft = { .seconds = 10 }, t_hard = { .seconds = 20 };
	const struct life_case tm[] = {
		{ 1000, ESP_DROP_NONE, 0 }, { 1009, ESP_DROP_NONE, 0 }, { 1010, ESP_DROP_NONE, S },
		{ 1019, ESP_DROP_NONE, 0 }, { 1020, ESP_DROP_HARD_EXPIRED, H },
		{ 1021, ESP_DROP_HARD_EXPIRED, 0 },
	};
	/* Only the hard limit set: reaching it reports soft too, so control always rekeys. */
	const struct life_case only_hard[] = {
		{ 1000, ESP_DROP_NONE, 0 }, { 1000, ESP_DROP_NONE, S | H },
		{ 1000, ESP_DROP_HARD_EXPIRED, 0 },
	};
	const struct esp_lifetime oh = { .packets = 2 };

	life_run("packets", &pk_soft, &pk_hard, 10, pk, sizeof(pk) / sizeof(pk[0]));
	life_run("bytes", &by_soft, &by_hard, 60, by, sizeof(by) / sizeof(by[0]));
	life_run("seconds", &t_soft, &t_hard, 10, tm, sizeof(tm) / sizeof(tm[0]));
	life_run("only_hard", NULL, &oh, 10, only_hard, sizeof(only_hard) / sizeof(only_hard[0]));
}

static void check_outbound_limits(void)
{
	const struct esp_lifetime hard = { .packets = 2 };
	uint8_t src[64], buf[4][128];
	struct esp_seal_pkt p[4];

	/* Hard limit reached in the middle of a burst: the rest of the burst is refused. */
	sa_make(&sa_out, ESP_SA_OUTBOUND, 16, false, NULL, &hard, 0);
	memset(src, 0x5a, sizeof(src));
	for (int i = 0; i < 4; i++)
		p[i] = (struct esp_seal_pkt){ .sa = &sa_out, .src = src, .out = buf[i], .len = 64,
					      .out_cap = 128, .next_hdr = 17 };
	CHECK(esp_seal_burst(&eng, p, 4, 0) == 2);
	CHECK(p[1].events == (ESP_EV_SOFT_EXPIRED | ESP_EV_HARD_EXPIRED));
	CHECK(p[2].reason == ESP_DROP_HARD_EXPIRED && p[3].reason == ESP_DROP_HARD_EXPIRED);
	CHECK(p[2].out_len == 0 && sa_out.seq == 2);

	/* Sequence number exhaustion, without and with ESN (RFC 4303 3.3.3). */
	for (int esn = 0; esn <= 1; esn++) {
		sa_make(&sa_out, ESP_SA_OUTBOUND, 16, esn, NULL, NULL, 0);
		sa_out.seq = esn ? UINT64_MAX - 1 : UINT32_MAX - 1;
		for (int i = 0; i < 3; i++)
			p[i] = (struct esp_seal_pkt){ .sa = &sa_out, .src = src, .out = buf[i],
						      .len = 10, .out_cap = 128, .next_hdr = 17 };
		CHECK(esp_seal_burst(&eng, p, 3, 0) == 1);
		CHECK(p[0].seq == (esn ? UINT64_MAX : UINT32_MAX));
		CHECK(p[1].reason == ESP_DROP_SEQ_OVERFLOW);
		CHECK(p[1].events == (ESP_EV_SOFT_EXPIRED | ESP_EV_HARD_EXPIRED));
		CHECK(p[2].reason == ESP_DROP_HARD_EXPIRED && p[2].events == 0);
	}
	/* No room, bad descriptors. */
	sa_make(&sa_out, ESP_SA_OUTBOUND, 16, false, NULL, NULL, 0);
	p[0] = (struct esp_seal_pkt){ .sa = &sa_out, .src = src, .out = buf[0], .len = 64,
				      .out_cap = esp_sealed_len(64) - 1, .next_hdr = 17 };
	p[1] = p[0];
	p[1].out_cap = esp_sealed_len(64);
	p[1].len = UINT32_MAX;
	p[2] = p[0];
	p[2].sa = &sa_in;
	p[3] = p[0];
	p[3].sa = NULL;
	sa_make(&sa_in, ESP_SA_INBOUND, 16, false, NULL, NULL, 0);
	CHECK(esp_seal_burst(&eng, p, 4, 0) == 0);
	CHECK(p[0].reason == ESP_DROP_NO_ROOM && p[1].reason == ESP_DROP_NO_ROOM);
	CHECK(p[2].reason == ESP_DROP_BAD_DESC && p[3].reason == ESP_DROP_BAD_DESC);
	CHECK(sa_out.seq == 0); /* refusals consume no sequence number */
	esp_sa_destroy(&sa_out);
	esp_sa_destroy(&sa_in);
}

/* Seal -> open for both key sizes, ESN on/off, in place and out of place, many sizes. */
static void check_round_trips(void)
{
	static const uint32_t sizes[] = { 1400, 1472, 4000, 8192 };
	static uint8_t src[BUF], a[BUF], b[BUF];
	unsigned cases = 0;

	for (size_t kl = 16; kl <= 32; kl += 16) {
		for (int esn = 0; esn <= 1; esn++) {
			sa_make(&sa_in, ESP_SA_INBOUND, kl, esn, NULL, NULL, 0);
			sa_make(&sa_out, ESP_SA_OUTBOUND, kl, esn, NULL, NULL, 0);
			sa_make(&sa_out2, ESP_SA_OUTBOUND, kl, esn, NULL, NULL, 0);
			sa_out.seq = sa_out2.seq = esn ? 0x3fffffff0 : 0;
			sa_in.seq = sa_out.seq;
			for (uint32_t i = 0; i < 300 + 4; i++) {
				uint32_t len = i < 300 ? i : sizes[i - 300];
				uint32_t pad = (4 - (len + 2) % 4) % 4;
				struct esp_seal_pkt po = {
					.sa = &sa_out, .src = src, .out = a, .len = len,
					.out_cap = BUF, .next_hdr = (uint8_t)(i % 250 + 1),
				};
				struct esp_seal_pkt pi = po;
				struct esp_open_pkt r;

				if (po.next_hdr == ESP_NH_NONE)
					po.next_hdr = pi.next_hdr = 17;
				payload_fill(src, len, i);
				/* In place: the payload already sits behind the header room. */
				pi.sa = &sa_out2;
				pi.out = b;
				memcpy(b + ESP_PREFIX_LEN, src, len);
				pi.src = b + ESP_PREFIX_LEN;
				CHECK(esp_seal_burst(&eng, &po, 1, 0) == 1);
				CHECK(esp_seal_burst(&eng, &pi, 1, 0) == 1);
				CHECK(po.out_len == ESP_OVERHEAD + len + pad);
				CHECK(po.out_len % 4 == 0);
				CHECK(pi.out_len == po.out_len && memcmp(a, b, po.out_len) == 0);
				CHECK(esp_be32_get(a) == SPI);
				CHECK(esp_be32_get(a + 4) == (uint32_t)po.seq);
				CHECK(esp_be32_get(a + 8) == (uint32_t)(po.seq >> 32));
				CHECK(esp_be32_get(a + 12) == (uint32_t)po.seq);
				CHECK(open_one(&sa_in, a, po.out_len, 0, &r) == ESP_DROP_NONE);
				CHECK(r.payload_len == len && r.next_hdr == po.next_hdr);
				CHECK(memcmp(a + ESP_PREFIX_LEN, src, len) == 0);
				/* Linux's padding: 1, 2, 3, then pad length, next header. */
				for (uint32_t k = 0; k < pad; k++)
					CHECK(a[ESP_PREFIX_LEN + len + k] == k + 1);
				CHECK(a[ESP_PREFIX_LEN + len + pad] == pad);
				cases++;
			}
			esp_sa_destroy(&sa_in);
			esp_sa_destroy(&sa_out);
			esp_sa_destroy(&sa_out2);
		}
	}
	CHECK(cases == 4 * 304);

	/* A source overlapping the output (payload at the very start of the buffer). */
	sa_make(&sa_in, ESP_SA_INBOUND, 16, false, NULL, NULL, 0);
	sa_make(&sa_out, ESP_SA_OUTBOUND, 16, false, NULL, NULL, 0);
	for (uint32_t off = 0; off < 40; off += 3) {
		struct esp_seal_pkt p = { .sa = &sa_out, .src = a + off, .out = a, .len = 333,
					  .out_cap = BUF, .next_hdr = 17 };
		struct esp_open_pkt r;

		payload_fill(src, 333, off);
		memcpy(a + off, src, 333);
		CHECK(esp_seal_burst(&eng, &p, 1, 0) == 1);
		CHECK(open_one(&sa_in, a, p.out_len, 0, &r) == ESP_DROP_NONE);
		CHECKF(r.payload_len == 333 && memcmp(a + ESP_PREFIX_LEN, src, 333) == 0,
		       "overlap at %u", off);
	}
	esp_sa_destroy(&sa_in);
	esp_sa_destroy(&sa_out);
}

/* Every truncation and every single-bit change is refused; a failed ICV wipes the output. */
static void check_truncate_tamper(void)
{
	uint8_t ref[BUF], buf[BUF];
	uint32_t len;

	for (int esn = 0; esn <= 1; esn++) {
		sa_make(&sa_in, ESP_SA_INBOUND, 32, esn, NULL, NULL, 0);
		sa_make(&sa_out, ESP_SA_OUTBOUND, 32, esn, NULL, NULL, 0);
		CHECK(seal_at(&sa_out, 42, 45, 3, ref, &len) == ESP_DROP_NONE);
		for (uint32_t l = 0; l < len; l++) {
			unsigned got;

			memcpy(buf, ref, l);
			got = open_one(&sa_in, buf, l, 0, NULL);
			CHECKF(got == (l < ESP_MIN_LEN ? ESP_DROP_SHORT : ESP_DROP_ICV),
			       "truncated to %u: %s", l, esp_drop_name(got));
		}
		for (uint32_t pos = 0; pos < len; pos++) {
			for (unsigned bit = 0; bit < 8; bit++) {
				unsigned got;

				memcpy(buf, ref, len);
				buf[pos] ^= (uint8_t)(1u << bit);
				got = open_one(&sa_in, buf, len, 0, NULL);
				CHECKF(got != ESP_DROP_NONE, "flip %u.%u accepted", pos, bit);
				if (got == ESP_DROP_ICV) {
					uint8_t zero[BUF] = { 0 };
					uint32_t ct = len - ESP_PREFIX_LEN - ESP_ICV_LEN;

					CHECKF(memcmp(buf + ESP_PREFIX_LEN, zero, ct) == 0,
					       "flip %u.%u: output not wiped", pos, bit);
				} else {
					/* Only the seq field can turn into seq 0 or an old one. */
					CHECKF(pos >= 4 && pos < 8, "flip %u.%u: %s", pos, bit,
					       esp_drop_name(got));
				}
			}
		}
		CHECK(sa_in.seq == 0 && sa_in.packets == 0); /* no refusal moved the window */
		CHECK(open_one(&sa_in, ref, len, 0, NULL) == ESP_DROP_NONE);
		esp_sa_destroy(&sa_in);
		esp_sa_destroy(&sa_out);
	}
}

/* Builds an authentic packet with a chosen plaintext (payload, pad bytes, trailer). */
static uint32_t craft(uint64_t seq, const uint8_t *pt, uint32_t pt_len, uint8_t *out)
{
	struct aead_key k;
	uint8_t nonce[12];

	esp_be32_put(out, SPI);
	esp_be32_put(out + 4, (uint32_t)seq);
	esp_be64_put(out + 8, seq);
	memcpy(nonce, salt, 4);
	memcpy(nonce + 4, out + 8, 8);
	if (aead_key_init(&eng, &k, key32, 16) != 0 ||
	    aead_seal(&eng, &k, nonce, 12, out, 8, pt, out + 16, pt_len, out + 16 + pt_len, 16))
		abort();
	aead_key_wipe(&k);
	return 16 + pt_len + 16;
}

static void check_trailer(void)
{
	uint8_t pt[64], buf[BUF];
	struct esp_open_pkt r;
	uint32_t len;

	sa_make(&sa_in, ESP_SA_INBOUND, 16, false, NULL, NULL, 0);
	/* 1: pad length past the plaintext. */
	memset(pt, 0xab, sizeof(pt));
	pt[10] = 11, pt[11] = 17;
	len = craft(1, pt, 12, buf);
	CHECK(open_one(&sa_in, buf, len, 0, NULL) == ESP_DROP_BAD_TRAILER);
	/* 2: pad length exactly the plaintext less the trailer: an empty payload. */
	pt[10] = 10;
	len = craft(2, pt, 12, buf);
	CHECK(open_one(&sa_in, buf, len, 0, &r) == ESP_DROP_NONE && r.payload_len == 0);
	/* 3: pad bytes not 1, 2, 3 and a pad longer than Linux writes: accepted (lenient). */
	pt[10] = 7;
	len = craft(3, pt, 12, buf);
	CHECK(open_one(&sa_in, buf, len, 0, &r) == ESP_DROP_NONE && r.payload_len == 3);
	/* 4: a plaintext length not a multiple of 4: accepted, as Linux does for GCM. */
	pt[4] = 0, pt[5] = 17;
	len = craft(4, pt, 6, buf);
	CHECK(open_one(&sa_in, buf, len, 0, &r) == ESP_DROP_NONE && r.payload_len == 4);
	/* 5: next header 59: a dummy packet, dropped but it takes its sequence number. */
	pt[4] = 0, pt[5] = ESP_NH_NONE;
	len = craft(5, pt, 6, buf);
	CHECK(open_one(&sa_in, buf, len, 0, NULL) == ESP_DROP_DUMMY);
	len = craft(5, pt, 6, buf);
	CHECK(open_one(&sa_in, buf, len, 0, NULL) == ESP_DROP_REPLAY);
	/* 6: a bad trailer does not take its sequence number (the sender may resend). */
	pt[4] = 200;
	len = craft(6, pt, 6, buf);
	CHECK(open_one(&sa_in, buf, len, 0, NULL) == ESP_DROP_BAD_TRAILER);
	pt[4] = 0, pt[5] = 17;
	len = craft(6, pt, 6, buf);
	CHECK(open_one(&sa_in, buf, len, 0, NULL) == ESP_DROP_NONE);
	esp_sa_destroy(&sa_in);

	/* 7, 8: strict-pad SAs check the pad bytes. */
	{
		struct esp_sa_config c = { .spi = SPI, .dir = ESP_SA_INBOUND, .strict_pad = true,
					   .key = key32, .key_len = 16, .salt = salt };

		CHECK(esp_sa_init(&eng, &sa_in, &c) == 0);
	}
	memcpy(pt, "abcd\x01\x02\x03\x03\x11", 9);
	len = craft(7, pt, 9, buf);
	CHECK(open_one(&sa_in, buf, len, 0, &r) == ESP_DROP_NONE && r.payload_len == 4);
	memcpy(pt, "abcd\x01\x02\x04\x03\x11", 9);
	len = craft(8, pt, 9, buf);
	CHECK(open_one(&sa_in, buf, len, 0, NULL) == ESP_DROP_BAD_PAD);
	esp_sa_destroy(&sa_in);
}

static void check_udp_classify(void)
{
	uint8_t p[64] = { 0 };

	p[0] = 0xff;
	CHECK(esp_udp_classify(p, 1) == ESP_DROP_KEEPALIVE);
	CHECK(esp_udp_classify(p, 2) == ESP_DROP_SHORT);
	CHECK(esp_udp_classify(p, 0) == ESP_DROP_SHORT);
	p[0] = 0xfe;
	CHECK(esp_udp_classify(p, 1) == ESP_DROP_SHORT);
	p[0] = 0;
	CHECK(esp_udp_classify(p, 3) == ESP_DROP_SHORT);
	CHECK(esp_udp_classify(p, 4) == ESP_DROP_NON_ESP);
	CHECK(esp_udp_classify(p, 64) == ESP_DROP_NON_ESP);
	p[3] = 1;
	CHECK(esp_udp_classify(p, ESP_MIN_LEN - 1) == ESP_DROP_SHORT);
	CHECK(esp_udp_classify(p, ESP_MIN_LEN) == ESP_DROP_NONE);
}

/* Mixed bursts: several SAs, a missing SA, duplicates inside one burst, > one chunk. */
static void check_bursts(void)
{
	static uint8_t bufs[200][128];
	static struct esp_open_pkt pk[200];
	static struct esp_sa sa_in2;
	uint32_t len = 0;

	sa_make(&sa_in, ESP_SA_INBOUND, 16, true, NULL, NULL, 0);
	sa_make(&sa_in2, ESP_SA_INBOUND, 16, true, NULL, NULL, 0);
	sa_make(&sa_out, ESP_SA_OUTBOUND, 16, true, NULL, NULL, 0);
	for (unsigned i = 0; i < 200; i++) {
		/* Even packets to sa_in, odd to sa_in2; 150..199 repeat 100..149. */
		uint64_t seq = i < 150 ? i + 1 : i - 50 + 1;

		seal_at(&sa_out, seq, 60, i, bufs[i], &len);
		pk[i] = (struct esp_open_pkt){ .sa = (i % 2) ? &sa_in2 : &sa_in, .data = bufs[i],
					       .len = len };
	}
	pk[7].sa = NULL;
	CHECK(esp_open_burst(&eng, pk, 200, 0) == 149);
	CHECK(pk[7].reason == ESP_DROP_BAD_SPI);
	for (unsigned i = 150; i < 200; i++)
		CHECKF(pk[i].reason == ESP_DROP_REPLAY, "dup %u: %s", i,
		       esp_drop_name(pk[i].reason));
	CHECK(sa_in.packets + sa_in2.packets == 149);
	CHECK(sa_in.seq == 149 && sa_in2.seq == 150);
	/* The window moves inside a burst: 5000 first, then 1 and 904 fall out of it. */
	sa_make(&sa_in2, ESP_SA_INBOUND, 16, true, NULL, NULL, 0);
	seal_at(&sa_out, 5000, 60, 0, bufs[0], &len);
	seal_at(&sa_out, 1, 60, 1, bufs[1], &len);
	seal_at(&sa_out, 904, 60, 2, bufs[2], &len);
	seal_at(&sa_out, 905, 60, 3, bufs[3], &len);
	for (unsigned i = 0; i < 4; i++)
		pk[i] = (struct esp_open_pkt){ .sa = &sa_in2, .data = bufs[i], .len = len };
	CHECK(esp_open_burst(&eng, pk, 4, 0) == 2);
	CHECK(pk[0].reason == ESP_DROP_NONE && pk[3].reason == ESP_DROP_NONE);
	CHECK(pk[1].reason == ESP_DROP_TOO_OLD && pk[2].reason == ESP_DROP_TOO_OLD);
	/* An outbound SA handed to open. */
	pk[0].sa = &sa_out;
	CHECK(esp_open_burst(&eng, pk, 1, 0) == 0 && pk[0].reason == ESP_DROP_BAD_DESC);
	esp_sa_destroy(&sa_in);
	esp_sa_destroy(&sa_in2);
	esp_sa_destroy(&sa_out);
}

static void check_setup(void)
{
	struct esp_sa_config c = { .spi = SPI, .dir = ESP_SA_OUTBOUND, .key = key32,
				   .key_len = 16, .salt = salt };
	static const uint8_t zero[sizeof(struct esp_sa)];

	CHECK(esp_sa_init(&eng, &sa_out, &c) == 0);
	c.key_len = 24;
	CHECK(esp_sa_init(&eng, &sa_out, &c) == -EINVAL);
	CHECK(memcmp(&sa_out, zero, sizeof(sa_out)) == 0); /* a failed init leaves no key */
	c.key_len = 32;
	c.spi = ESP_SPI_RESERVED_MAX;
	CHECK(esp_sa_init(&eng, &sa_out, &c) == -EINVAL);
	c.spi = SPI;
	c.salt = NULL;
	CHECK(esp_sa_init(&eng, &sa_out, &c) == -EINVAL);
	c.salt = salt;
	c.dir = 7;
	CHECK(esp_sa_init(&eng, &sa_out, &c) == -EINVAL);
	c.dir = ESP_SA_OUTBOUND;
	CHECK(esp_sa_init(&eng, &sa_out, &c) == 0);
	esp_sa_destroy(&sa_out);
	CHECK(memcmp(&sa_out, zero, sizeof(sa_out)) == 0);
	/* Every reason has a distinct name. */
	for (unsigned i = 0; i < ESP_DROP_COUNT; i++) {
		CHECK(esp_drop_name(i)[0] != '?' && esp_drop_text(i)[0] != '?');
		for (unsigned j = 0; j < i; j++)
			CHECK(strcmp(esp_drop_name(i), esp_drop_name(j)) != 0);
	}
	CHECK(strcmp(esp_drop_name(ESP_DROP_COUNT), "?") == 0);
	CHECK(esp_sealed_len(0) == 36 && esp_sealed_len(2) == 36 && esp_sealed_len(3) == 40);
}

int main(void)
{
	if (crypto_engine_init(&eng) != 0) {
		fprintf(stderr, "no AES-NI: cannot run ipsec-mb\n");
		return 77;
	}
	check_setup();
	check_udp_classify();
	check_replay();
	check_replay_full_window();
	check_esn_fresh();
	check_lifetimes();
	check_outbound_limits();
	check_round_trips();
	check_truncate_tamper();
	check_trailer();
	check_bursts();
	crypto_engine_fini(&eng);
	return check_exit();
}
