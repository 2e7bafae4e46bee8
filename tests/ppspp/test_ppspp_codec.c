/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PPSPP codec tests. Every failure names its case number.
 *
 *   1xxx  round trip: every message type x CAM {2,4} x hash {20,32} x chunk sizes, encoded
 *         with the builder, decoded, compared field by field, re-encoded byte for byte
 *   2xxx  the libswift trace (specs/ppspp-tracker-alto.md §4), decoded exactly
 *   3xxx  table of malformed and edge datagrams: reason and offset
 *   4xxx  every truncation of every valid datagram above
 *   5xxx  builder refusals: -ENOSPC without overflow, order and value checks
 *   6xxx  random bytes and mutated valid datagrams: no crash, exact round trip on success
 *
 * Every decode runs on an exact-size heap copy so a sanitizer build sees any overread.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ppspp_codec.h"

enum {
	MAX_MSGS = 64,
	BUF_LEN = 16384,
};

static uint8_t pat[BUF_LEN]; /* pat[i] = i mod 251, filled by main */

/* Valid datagrams collected from the round-trip and trace cases, for the truncation pass. */
struct saved_dgram {
	struct ppspp_ctx ctx;
	uint8_t *buf;
	size_t len;
	int id;
};

static struct saved_dgram saved[1024];
static size_t saved_count;

static void save_dgram(const struct ppspp_ctx *ctx, const uint8_t *buf, size_t len, int id)
{
	if (saved_count == sizeof(saved) / sizeof(saved[0]))
		return;
	saved[saved_count].ctx = *ctx;
	saved[saved_count].buf = malloc(len ? len : 1);
	memcpy(saved[saved_count].buf, buf, len);
	saved[saved_count].len = len;
	saved[saved_count].id = id;
	saved_count++;
}

/* Decodes an exact-size heap copy of buf. */
static int decode_copy(const struct ppspp_ctx *ctx, const uint8_t *buf, size_t len,
		       struct ppspp_msg *msgs, size_t max, struct ppspp_decode_result *res,
		       uint8_t **copy_out)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, buf, len);
	rc = ppspp_datagram_decode(ctx, copy, len, msgs, max, res);
	*copy_out = copy;
	return rc;
}

/* Re-encodes decoded messages; returns the length or a negative errno. */
static int reencode(const struct ppspp_ctx *ctx, uint32_t dest, const struct ppspp_msg *msgs, int n,
		    uint8_t *out, size_t cap)
{
	struct ppspp_builder b;
	int rc = ppspp_builder_init(&b, ctx, out, cap, dest);

	for (int i = 0; i < n && rc == 0; i++)
		rc = ppspp_builder_append_msg(&b, &msgs[i]);
	return rc != 0 ? rc : ppspp_builder_finish(&b);
}

static struct ppspp_ctx mkctx(unsigned cam, unsigned hash_len, uint32_t chunk, unsigned sig)
{
	struct ppspp_ctx c = {
		.cam = (uint8_t)cam,
		.hash_len = (uint8_t)hash_len,
		.sig_len = (uint16_t)sig,
		.chunk_size = chunk,
	};
	return c;
}

/* ---- 1xxx round trip ---------------------------------------------------------------- */

static struct ppspp_range mkrange(const struct ppspp_ctx *ctx, unsigned variant)
{
	struct ppspp_range r;

	if (ctx->cam == PPSPP_CAM_CHUNK64) {
		r.start = UINT64_C(0x123456789) + variant;
		r.end = variant == 1 ? UINT64_MAX : r.start + 7;
	} else {
		r.start = 0x01020304u + variant;
		r.end = variant == 1 ? UINT32_MAX : r.start + 7;
	}
	return r;
}

/* A template message of `type` valid under ctx (the context after its own handshake). */
static void fill_msg(struct ppspp_msg *m, unsigned type, const struct ppspp_ctx *ctx,
		     unsigned variant)
{
	static const uint8_t bitmap[] = { 0xd9, 0xf0 }; /* all but ACK and PEX (§7.10) */
	size_t payload;

	memset(m, 0, sizeof(*m));
	m->type = (uint8_t)type;
	switch (type) {
	case PPSPP_MSG_HANDSHAKE: {
		struct ppspp_handshake *hs = &m->u.handshake;

		hs->src_channel = 0xa123f292u + variant;
		hs->present = (1u << PPSPP_OPT_COUNT) - 1;
		hs->version = 1;
		hs->min_version = 1;
		hs->swarm_id = pat + 7;
		hs->swarm_id_len = ctx->hash_len;
		hs->cipm = variant ? PPSPP_CIPM_UNIFIED_MERKLE : PPSPP_CIPM_MERKLE;
		hs->mhf = ctx->hash_len == 20 ? PPSPP_MHF_SHA1 : PPSPP_MHF_SHA256;
		hs->live_sig_alg = PPSPP_LIVE_SIG_ECDSAP256SHA256;
		hs->cam = ctx->cam;
		hs->live_discard_window =
		    ctx->cam == PPSPP_CAM_CHUNK64 ? UINT64_C(0x100000005) : 0xffffffffu;
		hs->supported_msgs = bitmap;
		hs->supported_msgs_len = sizeof(bitmap);
		hs->chunk_size = ctx->chunk_size;
		break;
	}
	case PPSPP_MSG_DATA:
		payload = ctx->chunk_size == PPSPP_CHUNK_SIZE_VARIABLE ? 3000 : ctx->chunk_size;
		if (variant == 1 && payload > 0)
			payload--; /* a short last chunk */
		m->u.data.range = mkrange(ctx, variant);
		m->u.data.timestamp = UINT64_C(0x0004e94180b7db44);
		m->u.data.payload = pat;
		m->u.data.payload_len = payload;
		break;
	case PPSPP_MSG_ACK:
		m->u.ack.range = mkrange(ctx, variant);
		m->u.ack.delay = 0x6f;
		break;
	case PPSPP_MSG_HAVE:
	case PPSPP_MSG_REQUEST:
	case PPSPP_MSG_CANCEL:
		m->u.range = mkrange(ctx, variant);
		break;
	case PPSPP_MSG_INTEGRITY:
		m->u.integrity.range = mkrange(ctx, variant);
		m->u.integrity.hash = pat + 3;
		break;
	case PPSPP_MSG_SIGNED_INTEGRITY:
		m->u.signed_integrity.range = mkrange(ctx, variant);
		m->u.signed_integrity.ntp_timestamp = UINT64_C(0xe8b1c2d3a4b5c6d7);
		m->u.signed_integrity.sig = pat + 11;
		break;
	case PPSPP_MSG_PEX_RESV4:
	case PPSPP_MSG_PEX_RESV6:
		m->u.pex.addr = pat + 40;
		m->u.pex.port = (uint16_t)(6778 + variant);
		break;
	case PPSPP_MSG_PEX_RESCERT:
		m->u.cert.der = pat + 100;
		m->u.cert.der_len = (uint16_t)(variant ? 1 : 600);
		break;
	default: /* PEX_REQ, CHOKE, UNCHOKE: no body */
		break;
	}
}

static bool range_eq(struct ppspp_range a, struct ppspp_range b)
{
	return a.start == b.start && a.end == b.end;
}

static bool bytes_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
	return n == 0 || (a != NULL && b != NULL && memcmp(a, b, n) == 0);
}

/* Field-by-field equality under the effective context. */
static bool msg_eq(const struct ppspp_msg *a, const struct ppspp_msg *b,
		   const struct ppspp_ctx *ctx)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case PPSPP_MSG_HANDSHAKE: {
		const struct ppspp_handshake *x = &a->u.handshake, *y = &b->u.handshake;

		return x->src_channel == y->src_channel && x->present == y->present &&
		       x->version == y->version && x->min_version == y->min_version &&
		       x->swarm_id_len == y->swarm_id_len &&
		       bytes_eq(x->swarm_id, y->swarm_id, x->swarm_id_len) && x->cipm == y->cipm &&
		       x->mhf == y->mhf && x->live_sig_alg == y->live_sig_alg && x->cam == y->cam &&
		       x->live_discard_window == y->live_discard_window &&
		       x->supported_msgs_len == y->supported_msgs_len &&
		       bytes_eq(x->supported_msgs, y->supported_msgs, x->supported_msgs_len) &&
		       x->chunk_size == y->chunk_size;
	}
	case PPSPP_MSG_DATA:
		return range_eq(a->u.data.range, b->u.data.range) &&
		       a->u.data.timestamp == b->u.data.timestamp &&
		       a->u.data.payload_len == b->u.data.payload_len &&
		       bytes_eq(a->u.data.payload, b->u.data.payload, a->u.data.payload_len);
	case PPSPP_MSG_ACK:
		return range_eq(a->u.ack.range, b->u.ack.range) && a->u.ack.delay == b->u.ack.delay;
	case PPSPP_MSG_HAVE:
	case PPSPP_MSG_REQUEST:
	case PPSPP_MSG_CANCEL:
		return range_eq(a->u.range, b->u.range);
	case PPSPP_MSG_INTEGRITY:
		return range_eq(a->u.integrity.range, b->u.integrity.range) &&
		       bytes_eq(a->u.integrity.hash, b->u.integrity.hash, ctx->hash_len);
	case PPSPP_MSG_SIGNED_INTEGRITY:
		return range_eq(a->u.signed_integrity.range, b->u.signed_integrity.range) &&
		       a->u.signed_integrity.ntp_timestamp == b->u.signed_integrity.ntp_timestamp &&
		       bytes_eq(a->u.signed_integrity.sig, b->u.signed_integrity.sig, ctx->sig_len);
	case PPSPP_MSG_PEX_RESV4:
	case PPSPP_MSG_PEX_RESV6:
		return a->u.pex.port == b->u.pex.port &&
		       bytes_eq(a->u.pex.addr, b->u.pex.addr,
				a->type == PPSPP_MSG_PEX_RESV4 ? 4 : 16);
	case PPSPP_MSG_PEX_RESCERT:
		return a->u.cert.der_len == b->u.cert.der_len &&
		       bytes_eq(a->u.cert.der, b->u.cert.der, a->u.cert.der_len);
	default:
		return true;
	}
}

/*
 * Encodes tmpl[0..n) under ctx, decodes, compares, re-encodes and compares the bytes; saves
 * the datagram for the truncation pass.
 */
static void roundtrip(int id, const struct ppspp_ctx *ctx, const struct ppspp_msg *tmpl, int n)
{
	static uint8_t buf[BUF_LEN], again[BUF_LEN];
	struct ppspp_msg msgs[MAX_MSGS];
	struct ppspp_decode_result res;
	struct ppspp_builder b;
	uint8_t *copy;
	int rc, len;

	rc = ppspp_builder_init(&b, ctx, buf, sizeof(buf), 0x01020304u);
	CHECKF(rc == 0, "case %d init %d", id, rc);
	for (int i = 0; i < n && rc == 0; i++) {
		rc = ppspp_builder_append_msg(&b, &tmpl[i]);
		CHECKF(rc == 0, "case %d append #%d type %u: %d", id, i, tmpl[i].type, rc);
	}
	if (rc != 0)
		return;
	len = ppspp_builder_finish(&b);
	CHECKF(len > 0, "case %d finish %d", id, len);
	rc = decode_copy(ctx, buf, (size_t)len, msgs, MAX_MSGS, &res, &copy);
	CHECKF(rc == n, "case %d decode %d (%s at %zu), want %d", id, rc,
	       ppspp_reason_name(res.reason), res.offset, n);
	CHECKF(res.dest_channel == 0x01020304u && res.offset == (size_t)len, "case %d header", id);
	for (int i = 0; i < n && i < rc; i++)
		CHECKF(msg_eq(&tmpl[i], &msgs[i], &res.ctx), "case %d msg #%d type %u differs", id,
		       i, tmpl[i].type);
	if (rc == n) {
		int len2 = reencode(ctx, res.dest_channel, msgs, rc, again, sizeof(again));

		CHECKF(len2 == len && memcmp(buf, again, (size_t)len) == 0,
		       "case %d re-encode differs (%d vs %d)", id, len2, len);
		save_dgram(ctx, buf, (size_t)len, id);
	}
	free(copy);
}

static void test_roundtrip(void)
{
	static const unsigned cams[] = { PPSPP_CAM_CHUNK32, PPSPP_CAM_CHUNK64 };
	static const unsigned hashes[] = { 20, 32 };
	static const uint32_t chunks[] = { 1024, 1, 512, 8192, PPSPP_CHUNK_SIZE_VARIABLE };
	int id = 1000;

	for (size_t c = 0; c < 2; c++)
		for (size_t h = 0; h < 2; h++)
			for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
				struct ppspp_ctx ctx = mkctx(cams[c], hashes[h], chunks[k], 64);
				struct ppspp_msg all[PPSPP_MSG_TYPE_COUNT + 1];
				int n = 0;

				/* Each type alone, two value variants. */
				for (unsigned t = 0; t < PPSPP_MSG_TYPE_COUNT; t++)
					for (unsigned v = 0; v < 2; v++) {
						struct ppspp_msg m;

						fill_msg(&m, t, &ctx, v);
						roundtrip(id++, &ctx, &m, 1);
					}
				/* Everything in one datagram: handshake first, DATA last. */
				fill_msg(&all[n++], PPSPP_MSG_HANDSHAKE, &ctx, 0);
				for (unsigned t = PPSPP_MSG_ACK; t < PPSPP_MSG_TYPE_COUNT; t++)
					fill_msg(&all[n++], t, &ctx, t & 1);
				fill_msg(&all[n++], PPSPP_MSG_DATA, &ctx, 1);
				roundtrip(id++, &ctx, all, n);
			}

	/*
	 * The handshake sets the context for the rest of its datagram: a caller at CAM 2 /
	 * SHA-1 decodes messages encoded under the CAM 4 / SHA-256 the handshake announces.
	 */
	for (size_t c = 0; c < 2; c++)
		for (size_t h = 0; h < 2; h++) {
			struct ppspp_ctx announced = mkctx(cams[c], hashes[h], 700, 64);
			struct ppspp_ctx caller = mkctx(cams[1 - c], hashes[1 - h], 1024, 64);
			struct ppspp_msg m[4];

			fill_msg(&m[0], PPSPP_MSG_HANDSHAKE, &announced, 0);
			fill_msg(&m[1], PPSPP_MSG_INTEGRITY, &announced, 1);
			fill_msg(&m[2], PPSPP_MSG_SIGNED_INTEGRITY, &announced, 0);
			fill_msg(&m[3], PPSPP_MSG_DATA, &announced, 0);
			roundtrip(id++, &caller, m, 4);
		}
}

/* ---- 2xxx libswift trace -------------------------------------------------------------- */

/* Hex with spaces for readability; returns the byte count. */
static size_t unhex(const char *spaced, uint8_t *out, size_t cap)
{
	char tight[2 * BUF_LEN + 1];
	size_t n = 0;
	long got;

	for (const char *p = spaced; *p != '\0' && n < sizeof(tight) - 1; p++)
		if (*p != ' ')
			tight[n++] = *p;
	tight[n] = '\0';
	got = check_unhex(tight, out, cap);
	if (got < 0) {
		fprintf(stderr, "bad hex in test: %s\n", spaced);
		abort();
	}
	return (size_t)got;
}

static void test_trace(void)
{
	static const char *const nodes[4][3] = {
		{ "00000000", "00000003", "616f0d42dccd13461bcb6c31921e412388c67e84" },
		{ "00000004", "00000004", "a4aabe1654e78da440d2a403015636bf4bb2f329" },
		{ "00000002", "00000003", "5d138c64c79e7be423517f929b11a8933aaf51fb" },
		{ "00000001", "00000001", "12cb9b5124006e2075855a436aa9774ff8c00467" },
	};
	static const uint8_t swarm[20] = { 0xb1, 0x62, 0x53, 0xd5, 0xbd, 0xad, 0x47,
					   0x45, 0x12, 0xe4, 0xf4, 0x95, 0x5d, 0xf0,
					   0x03, 0x49, 0x9a, 0x77, 0xce, 0x60 };
	/* Deliberately SHA-256 / 512: the handshake's options must switch both. */
	struct ppspp_ctx ctx = mkctx(PPSPP_CAM_CHUNK32, 32, 1024, 0);
	struct ppspp_msg msgs[MAX_MSGS];
	struct ppspp_decode_result res;
	uint8_t d[BUF_LEN], again[BUF_LEN];
	uint8_t *copy;
	size_t len;
	int rc;

	/* 2001 L->S: the initiator's handshake to channel 0. */
	len = unhex("00000000 00 a13b0123 0001 0101 020014 b16253d5bdad474512e4f4955df003499a77ce60"
		    " 0301 0400 0602 ff",
		    d, sizeof(d));
	rc = decode_copy(&ctx, d, len, msgs, MAX_MSGS, &res, &copy);
	CHECKF(rc == 1, "2001 rc %d %s", rc, ppspp_reason_name(res.reason));
	if (rc == 1) {
		const struct ppspp_handshake *hs = &msgs[0].u.handshake;

		CHECK(res.dest_channel == 0 && msgs[0].type == PPSPP_MSG_HANDSHAKE);
		CHECK(hs->src_channel == 0xa13b0123u);
		CHECK(hs->present == ((1u << PPSPP_OPT_VERSION) | (1u << PPSPP_OPT_MIN_VERSION) |
				      (1u << PPSPP_OPT_SWARM_ID) | (1u << PPSPP_OPT_CIPM) |
				      (1u << PPSPP_OPT_MERKLE_HASH_FUNC) | (1u << PPSPP_OPT_CAM)));
		CHECK(hs->version == 1 && hs->min_version == 1);
		CHECK(hs->swarm_id_len == 20 && memcmp(hs->swarm_id, swarm, 20) == 0);
		CHECK(hs->swarm_id == copy + 16); /* zero-copy */
		CHECK(hs->cipm == PPSPP_CIPM_MERKLE && hs->mhf == PPSPP_MHF_SHA1);
		CHECK(hs->cam == PPSPP_CAM_CHUNK32);
		CHECK(!ppspp_handshake_has(hs, PPSPP_OPT_CHUNK_SIZE)); /* libswift never sends 9 */
		CHECK(res.ctx.hash_len == 20 && res.ctx.cam == 2 && res.ctx.chunk_size == 1024);
		CHECK(reencode(&ctx, 0, msgs, rc, again, sizeof(again)) == (int)len);
		CHECK_MEM(again, d, len);
		save_dgram(&ctx, d, len, 2001);
	}
	free(copy);

	/* 2002 S->L: the reply, with two HAVEs decoded under the announced context. */
	len = unhex("a13b0123 00 a123f292 0001 0101 0301 0400 0602 ff 03 00000000 00000003"
		    " 03 00000004 00000004",
		    d, sizeof(d));
	rc = decode_copy(&ctx, d, len, msgs, MAX_MSGS, &res, &copy);
	CHECKF(rc == 3, "2002 rc %d %s", rc, ppspp_reason_name(res.reason));
	if (rc == 3) {
		CHECK(res.dest_channel == 0xa13b0123u);
		CHECK(msgs[0].u.handshake.src_channel == 0xa123f292u);
		CHECK(!ppspp_handshake_has(&msgs[0].u.handshake, PPSPP_OPT_SWARM_ID));
		CHECK(msgs[1].type == PPSPP_MSG_HAVE && msgs[1].u.range.start == 0 &&
		      msgs[1].u.range.end == 3);
		CHECK(msgs[2].type == PPSPP_MSG_HAVE && msgs[2].u.range.start == 4 &&
		      msgs[2].u.range.end == 4);
		CHECK(msgs[1].offset == 20 && msgs[2].offset == 29);
		CHECK(reencode(&ctx, res.dest_channel, msgs, rc, again, sizeof(again)) == (int)len);
		CHECK_MEM(again, d, len);
		save_dgram(&ctx, d, len, 2002);
	}
	free(copy);

	/* From here on the channel's context is what the handshake set: SHA-1. */
	ctx = mkctx(PPSPP_CAM_CHUNK32, 20, 1024, 0);

	/* 2003 L->S: REQUEST 0..0 + PEX_REQ. */
	len = unhex("a123f292 08 00000000 00000000 06", d, sizeof(d));
	rc = decode_copy(&ctx, d, len, msgs, MAX_MSGS, &res, &copy);
	CHECKF(rc == 2, "2003 rc %d", rc);
	if (rc == 2) {
		CHECK(msgs[0].type == PPSPP_MSG_REQUEST && msgs[0].u.range.start == 0 &&
		      msgs[0].u.range.end == 0);
		CHECK(msgs[1].type == PPSPP_MSG_PEX_REQ);
		save_dgram(&ctx, d, len, 2003);
	}
	free(copy);

	/* 2004 S->L: peaks, uncles by descending height, DATA of chunk 0: 1161 bytes. */
	{
		char hex[2 * BUF_LEN];
		size_t n = 0;

		n += (size_t)sprintf(hex + n, "a13b0123");
		for (int i = 0; i < 4; i++)
			n += (size_t)sprintf(hex + n, " 04 %s %s %s", nodes[i][0], nodes[i][1],
					     nodes[i][2]);
		n += (size_t)sprintf(hex + n, " 01 00000000 00000000 0004e94180b7db44 ");
		for (int i = 0; i < 1024; i++)
			n += (size_t)sprintf(hex + n, "%02x", i % 251); /* v5 chunk 0 */
		len = unhex(hex, d, sizeof(d));
	}
	CHECK(len == 1161);
	rc = decode_copy(&ctx, d, len, msgs, MAX_MSGS, &res, &copy);
	CHECKF(rc == 5, "2004 rc %d %s", rc, ppspp_reason_name(res.reason));
	if (rc == 5) {
		for (int i = 0; i < 4; i++) {
			uint8_t h[20];
			char want[48];

			CHECK(msgs[i].type == PPSPP_MSG_INTEGRITY);
			unhex(nodes[i][2], h, sizeof(h));
			CHECK(memcmp(msgs[i].u.integrity.hash, h, 20) == 0);
			snprintf(want, sizeof(want), "%08x%08x",
				 (unsigned)msgs[i].u.integrity.range.start,
				 (unsigned)msgs[i].u.integrity.range.end);
			CHECK(strncmp(want, nodes[i][0], 8) == 0 &&
			      strncmp(want + 8, nodes[i][1], 8) == 0);
		}
		CHECK(msgs[4].type == PPSPP_MSG_DATA && msgs[4].u.data.range.start == 0 &&
		      msgs[4].u.data.range.end == 0);
		CHECK(msgs[4].u.data.timestamp == UINT64_C(0x0004e94180b7db44));
		CHECK(msgs[4].u.data.payload_len == 1024 && msgs[4].u.data.payload == copy + 137);
		CHECK(msgs[4].u.data.payload[250] == 250 && msgs[4].u.data.payload[251] == 0);
		CHECK(reencode(&ctx, res.dest_channel, msgs, rc, again, sizeof(again)) == (int)len);
		CHECK_MEM(again, d, len);
		save_dgram(&ctx, d, len, 2004);
	}
	free(copy);

	/* 2005 L->S: HAVE 0..0, ACK 0..0 delay 111 us, REQUEST 4..4. */
	len = unhex("a123f292 03 00000000 00000000 02 00000000 00000000 000000000000006f"
		    " 08 00000004 00000004",
		    d, sizeof(d));
	rc = decode_copy(&ctx, d, len, msgs, MAX_MSGS, &res, &copy);
	CHECKF(rc == 3, "2005 rc %d", rc);
	if (rc == 3) {
		CHECK(msgs[0].type == PPSPP_MSG_HAVE && msgs[0].u.range.end == 0);
		CHECK(msgs[1].type == PPSPP_MSG_ACK && msgs[1].u.ack.delay == 0x6f);
		CHECK(msgs[2].type == PPSPP_MSG_REQUEST && msgs[2].u.range.start == 4);
		CHECK(reencode(&ctx, res.dest_channel, msgs, rc, again, sizeof(again)) == (int)len);
		CHECK_MEM(again, d, len);
		save_dgram(&ctx, d, len, 2005);
	}
	free(copy);

	/* 2006 keep-alive; 2007 close (HANDSHAKE with source channel 0, no options). */
	len = unhex("a13b0123", d, sizeof(d));
	rc = decode_copy(&ctx, d, len, msgs, MAX_MSGS, &res, &copy);
	CHECK(rc == 0 && res.dest_channel == 0xa13b0123u && res.reason == PPSPP_R_OK);
	free(copy);
	len = unhex("a123f292 00 00000000 ff", d, sizeof(d));
	rc = decode_copy(&ctx, d, len, msgs, MAX_MSGS, &res, &copy);
	CHECK(rc == 1 && msgs[0].u.handshake.src_channel == PPSPP_CHANNEL_CLOSE &&
	      msgs[0].u.handshake.present == 0);
	if (rc == 1) {
		CHECK(reencode(&ctx, res.dest_channel, msgs, rc, again, sizeof(again)) == (int)len);
		CHECK_MEM(again, d, len);
		save_dgram(&ctx, d, len, 2007);
	}
	free(copy);
}

/* ---- 3xxx malformed and edge datagrams ---------------------------------------------- */

struct decode_case {
	int id;
	const char *what;
	const char *hex;
	uint8_t cam;
	uint8_t hash_len;
	uint16_t sig_len;
	uint32_t chunk_size;
	size_t max_msgs;
	int want_rc; /* count, or -errno */
	enum ppspp_reason want_reason;
	size_t want_offset; /* checked on failure only */
};

#define HS "00000000 00 00000002 " /* handshake to channel 0 from channel 2; options follow */

static const struct decode_case decode_cases[] = {
	{ 3001, "keep-alive", "a13b0123", 2, 20, 0, 1024, 8, 0, PPSPP_R_OK, 0 },
	{ 3002, "empty", "", 2, 20, 0, 1024, 8, -EBADMSG, PPSPP_R_TRUNCATED, 0 },
	{ 3003, "3 bytes", "a13b01", 2, 20, 0, 1024, 8, -EBADMSG, PPSPP_R_TRUNCATED, 0 },
	{ 3004, "type 14", "00000001 0e", 2, 20, 0, 1024, 8, -EBADMSG, PPSPP_R_UNKNOWN_MSG_TYPE,
	  4 },
	{ 3005, "type 255", "00000001 06 ff", 2, 20, 0, 1024, 8, -EBADMSG, PPSPP_R_UNKNOWN_MSG_TYPE,
	  5 },
	{ 3006, "options out of order", HS "0101 0001 ff", 2, 20, 0, 1024, 8, -EBADMSG,
	  PPSPP_R_OPTIONS_OUT_OF_ORDER, 11 },
	{ 3007, "option repeated", HS "0001 0001 ff", 2, 20, 0, 1024, 8, -EBADMSG,
	  PPSPP_R_OPTIONS_OUT_OF_ORDER, 11 },
	{ 3008, "unknown option 10", HS "0001 0a00 ff", 2, 20, 0, 1024, 8, -EBADMSG,
	  PPSPP_R_UNKNOWN_OPTION, 11 },
	{ 3009, "unknown option 254", HS "fe00 ff", 2, 20, 0, 1024, 8, -EBADMSG,
	  PPSPP_R_UNKNOWN_OPTION, 9 },
	{ 3010, "no 0xff terminator", HS "0001", 2, 20, 0, 1024, 8, -EBADMSG, PPSPP_R_TRUNCATED,
	  11 },
	{ 3011, "swarm ID length 0", HS "020000 ff", 2, 20, 0, 1024, 8, -EBADMSG,
	  PPSPP_R_BAD_SWARM_ID_LEN, 10 },
	{ 3012, "swarm ID overrun", HS "020005 0102 ff", 2, 20, 0, 1024, 8, -EBADMSG,
	  PPSPP_R_LENGTH_OVERRUN, 10 },
	{ 3013, "CAM 5", HS "0605 ff", 2, 20, 0, 1024, 8, -EBADMSG, PPSPP_R_BAD_CAM, 10 },
	{ 3014, "CAM 0 (bins)", HS "0600 ff", 2, 20, 0, 1024, 8, -EBADMSG, PPSPP_R_UNSUPPORTED_CAM,
	  10 },
	{ 3015, "CAM 1 (bytes)", HS "0601 ff", 2, 20, 0, 1024, 8, -EBADMSG, PPSPP_R_UNSUPPORTED_CAM,
	  10 },
	{ 3016, "CIPM 0 (eid4880)", HS "0300 ff", 2, 20, 0, 1024, 8, -EBADMSG, PPSPP_R_BAD_CIPM,
	  10 },
	{ 3017, "CIPM 4", HS "0304 ff", 2, 20, 0, 1024, 8, -EBADMSG, PPSPP_R_BAD_CIPM, 10 },
	{ 3018, "hash function 5", HS "0405 ff", 2, 20, 0, 1024, 8, -EBADMSG, PPSPP_R_BAD_HASH_FUNC,
	  10 },
	{ 3019, "SHA-224", HS "0401 ff", 2, 20, 0, 1024, 8, -EBADMSG, PPSPP_R_UNSUPPORTED_HASH_FUNC,
	  10 },
	{ 3020, "version 0", HS "0000 ff", 2, 20, 0, 1024, 8, -EBADMSG, PPSPP_R_BAD_VERSION, 10 },
	{ 3021, "supported msgs len 0", HS "0800 ff", 2, 20, 0, 1024, 8, -EBADMSG,
	  PPSPP_R_BAD_SUPPORTED_MSGS_LEN, 10 },
	{ 3022, "supported msgs len 33", HS "0821 ff", 2, 20, 0, 1024, 8, -EBADMSG,
	  PPSPP_R_BAD_SUPPORTED_MSGS_LEN, 10 },
	{ 3023, "supported msgs overrun", HS "0803 d9f0", 2, 20, 0, 1024, 8, -EBADMSG,
	  PPSPP_R_LENGTH_OVERRUN, 10 },
	{ 3024, "chunk size 0", HS "0900000000 ff", 2, 20, 0, 1024, 8, -EBADMSG,
	  PPSPP_R_BAD_CHUNK_SIZE, 10 },
	{ 3025, "handshake second", "00000001 06 00 00000002 ff", 2, 20, 0, 1024, 8, -EBADMSG,
	  PPSPP_R_HANDSHAKE_NOT_FIRST, 5 },
	{ 3026, "HAVE end < start (CAM 2)", "00000001 03 00000005 00000004", 2, 20, 0, 1024, 8,
	  -EBADMSG, PPSPP_R_BAD_RANGE, 5 },
	{ 3027, "REQUEST end < start (CAM 4)", "00000001 08 0000000100000000 00000000ffffffff", 4,
	  20, 0, 1024, 8, -EBADMSG, PPSPP_R_BAD_RANGE, 5 },
	{ 3028, "ACK end < start", "00000001 02 00000001 00000000 0000000000000000", 2, 20, 0, 1024,
	  8, -EBADMSG, PPSPP_R_BAD_RANGE, 5 },
	{ 3029, "DATA not last",
	  "00000001 01 00000000 00000000 0000000000000000 0102030405060708 03 00000000 00000000", 2,
	  20, 0, 8, 8, -EBADMSG, PPSPP_R_DATA_NOT_LAST, 29 },
	{ 3030, "DATA payload > chunk", "00000001 01 00000000 00000000 0000000000000000 0102030405",
	  2, 20, 0, 4, 8, -EBADMSG, PPSPP_R_DATA_NOT_LAST, 25 },
	{ 3031, "DATA short payload", "00000001 01 00000000 00000000 0000000000000000 010203", 2,
	  20, 0, 8, 8, 1, PPSPP_R_OK, 0 },
	{ 3032, "DATA empty payload", "00000001 01 00000000 00000000 0000000000000000", 2, 20, 0, 8,
	  8, 1, PPSPP_R_OK, 0 },
	{ 3033, "too many messages", "00000001 06 06 06", 2, 20, 0, 1024, 2, -ENOBUFS,
	  PPSPP_R_TOO_MANY_MSGS, 6 },
	{ 3034, "exactly max messages", "00000001 06 0a 0b", 2, 20, 0, 1024, 3, 3, PPSPP_R_OK, 0 },
	{ 3035, "zero max, keep-alive", "00000001", 2, 20, 0, 1024, 0, 0, PPSPP_R_OK, 0 },
	{ 3036, "PEX_REScert overrun", "00000001 0d 0005 3082", 2, 20, 0, 1024, 8, -EBADMSG,
	  PPSPP_R_LENGTH_OVERRUN, 5 },
	{ 3037, "PEX_REScert length ffff", "00000001 0d ffff", 2, 20, 0, 1024, 8, -EBADMSG,
	  PPSPP_R_LENGTH_OVERRUN, 5 },
	{ 3038, "PEX_REScert length 0", "00000001 0d 0000", 2, 20, 0, 1024, 8, -EBADMSG,
	  PPSPP_R_BAD_CERT_LEN, 5 },
	{ 3039, "PEX_REScert exact", "00000001 0d 0002 3000 0a", 2, 20, 0, 1024, 8, 2, PPSPP_R_OK,
	  0 },
	{ 3040, "SIGNED_INTEGRITY without sig_len",
	  "00000001 07 00000000 00000001 0000000000000000", 2, 20, 0, 1024, 8, -EBADMSG,
	  PPSPP_R_NO_SIG_LEN, 4 },
	{ 3041, "SIGNED_INTEGRITY sig_len 2", "00000001 07 00000000 00000001 0000000000000000 abcd",
	  2, 20, 2, 1024, 8, 1, PPSPP_R_OK, 0 },
	{ 3042, "handshake switches to CAM 4", HS "0604 ff 03 0000000100000000 0000000100000001", 2,
	  20, 0, 1024, 8, 2, PPSPP_R_OK, 0 },
	{ 3043, "handshake CAM 4, HAVE sized for CAM 2", HS "0604 ff 03 00000000 00000001", 2, 20,
	  0, 1024, 8, -EBADMSG, PPSPP_R_TRUNCATED, 13 },
	{ 3044, "handshake SHA-256, INTEGRITY with 32 bytes",
	  HS "0402 ff 04 00000000 00000000"
	     " 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	  2, 20, 0, 1024, 8, 2, PPSPP_R_OK, 0 },
	{ 3045, "handshake chunk size 4, DATA of 5",
	  HS "0900000004 ff 01 00000000 00000000"
	     " 0000000000000000 0102030405",
	  2, 20, 0, 1024, 8, -EBADMSG, PPSPP_R_DATA_NOT_LAST, 36 },
	{ 3046, "discard window 4 bytes under CAM 2", HS "07ffffffff ff", 2, 20, 0, 1024, 8, 1,
	  PPSPP_R_OK, 0 },
	{ 3047, "discard window 8 bytes after option 6 = 4", HS "0604 07ffffffffffffffff ff", 2, 20,
	  0, 1024, 8, 1, PPSPP_R_OK, 0 },
	{ 3048, "discard window 8 bytes under ctx CAM 4", HS "070000000000000005 ff", 4, 20, 0,
	  1024, 8, 1, PPSPP_R_OK, 0 },
	{ 3049, "discard window 8 bytes under CAM 2", HS "070000000000000005 ff", 2, 20, 0, 1024, 8,
	  -EBADMSG, PPSPP_R_OPTIONS_OUT_OF_ORDER, 14 },
	{ 3050, "bad context CAM 3", "00000001", 3, 20, 0, 1024, 8, -EINVAL, PPSPP_R_BAD_CONTEXT,
	  0 },
	{ 3051, "bad context hash 28", "00000001", 2, 28, 0, 1024, 8, -EINVAL, PPSPP_R_BAD_CONTEXT,
	  0 },
	{ 3052, "bad context chunk 0", "00000001", 2, 20, 0, 0, 8, -EINVAL, PPSPP_R_BAD_CONTEXT,
	  0 },
	{ 3053, "INTEGRITY hash truncated", "00000001 04 00000000 00000000 0102", 2, 20, 0, 1024, 8,
	  -EBADMSG, PPSPP_R_TRUNCATED, 13 },
	{ 3054, "PEX_RESv6 truncated", "00000001 0c 20010db8", 2, 20, 0, 1024, 8, -EBADMSG,
	  PPSPP_R_TRUNCATED, 5 },
	{ 3055, "PEX_RESv4", "00000001 05 c0000201 1a7a", 2, 20, 0, 1024, 8, 1, PPSPP_R_OK, 0 },
	{ 3056, "DATA variable chunk size, long",
	  "00000001 01 00000000 00000000 0000000000000000"
	  " 0102030405060708090a",
	  2, 20, 0, PPSPP_CHUNK_SIZE_VARIABLE, 8, 1, PPSPP_R_OK, 0 },
	{ 3057, "handshake full option set",
	  HS "0001 0101 020003aabbcc 0303 0402 050d 0604 07ffffffffffffffff 0802d9f0"
	     " 0900000400 ff",
	  2, 20, 0, 1024, 8, 1, PPSPP_R_OK, 0 },
	{ 3058, "handshake truncated source channel", "00000000 00 000000", 2, 20, 0, 1024, 8,
	  -EBADMSG, PPSPP_R_TRUNCATED, 5 },
};

static void test_decode_cases(void)
{
	for (size_t i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
		const struct decode_case *c = &decode_cases[i];
		struct ppspp_ctx ctx = mkctx(c->cam, c->hash_len, c->chunk_size, c->sig_len);
		struct ppspp_msg msgs[MAX_MSGS];
		struct ppspp_decode_result res;
		uint8_t d[BUF_LEN], again[BUF_LEN];
		size_t len = unhex(c->hex, d, sizeof(d));
		uint8_t *copy;
		int rc = decode_copy(&ctx, d, len, msgs, c->max_msgs, &res, &copy);

		CHECKF(rc == c->want_rc && res.reason == c->want_reason,
		       "case %d (%s): rc %d reason '%s' at %zu; want rc %d reason '%s'", c->id,
		       c->what, rc, ppspp_reason_name(res.reason), res.offset, c->want_rc,
		       ppspp_reason_name(c->want_reason));
		if (rc < 0 && c->want_rc < 0 && c->want_reason != PPSPP_R_BAD_CONTEXT)
			CHECKF(res.offset == c->want_offset, "case %d (%s): offset %zu, want %zu",
			       c->id, c->what, res.offset, c->want_offset);
		if (rc > 0) {
			CHECKF(reencode(&ctx, res.dest_channel, msgs, rc, again, sizeof(again)) ==
				       (int)len &&
				   memcmp(again, d, len) == 0,
			       "case %d (%s): re-encode differs", c->id, c->what);
			save_dgram(&ctx, d, len, c->id);
		}
		free(copy);
	}

	/* 3100..3341: every unassigned or reserved type code, at the start and after a HAVE. */
	for (unsigned t = PPSPP_MSG_TYPE_COUNT; t <= 255; t++) {
		struct ppspp_ctx ctx = mkctx(2, 20, 1024, 64);
		uint8_t d[32] = { 0, 0, 0, 1, PPSPP_MSG_HAVE, 0, 0, 0, 1, 0, 0, 0, 2, (uint8_t)t };
		struct ppspp_msg msgs[4];
		struct ppspp_decode_result res;
		int rc = ppspp_datagram_decode(&ctx, d + 9, 5, msgs, 4, &res);

		/* d + 9 = [00 00 00 02][t]: type at offset 4. */
		CHECKF(rc == -EBADMSG && res.reason == PPSPP_R_UNKNOWN_MSG_TYPE && res.offset == 4,
		       "case %u: type %u rc %d", 3100 + t - PPSPP_MSG_TYPE_COUNT, t, rc);
		rc = ppspp_datagram_decode(&ctx, d, 14, msgs, 4, &res);
		CHECKF(rc == -EBADMSG && res.reason == PPSPP_R_UNKNOWN_MSG_TYPE && res.offset == 13,
		       "case %u: type %u after HAVE rc %d", 3100 + t, t, rc);
	}

	/* 3400: every unknown option code 10..254. */
	for (unsigned o = PPSPP_OPT_COUNT; o < PPSPP_OPT_END; o++) {
		struct ppspp_ctx ctx = mkctx(2, 20, 1024, 0);
		uint8_t d[] = { 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, (uint8_t)o, 0, 0xff };
		struct ppspp_msg msgs[2];
		struct ppspp_decode_result res;
		int rc = ppspp_datagram_decode(&ctx, d, sizeof(d), msgs, 2, &res);

		CHECKF(rc == -EBADMSG && res.reason == PPSPP_R_UNKNOWN_OPTION && res.offset == 11,
		       "case 3400: option %u rc %d", o, rc);
	}

	/* 3500: the name table covers every reason. */
	for (int r = 0; r < PPSPP_R_COUNT; r++)
		CHECKF(ppspp_reason_name(r) != NULL && strcmp(ppspp_reason_name(r), "?") != 0,
		       "case 3500: reason %d unnamed", r);
	CHECK(strcmp(ppspp_reason_name(PPSPP_R_COUNT), "?") == 0);
	CHECK(strcmp(ppspp_reason_name(PPSPP_R_TRUNCATED), "truncated") == 0);
}

/* ---- 4xxx truncations --------------------------------------------------------------- */

/*
 * A cut at k is legitimately complete only at a message boundary (decodes as the messages
 * before k) or inside a DATA payload (decodes with a payload of the bytes left). Anything
 * else must fail, with the failure at or before the cut.
 */
static void test_truncations(void)
{
	for (size_t s = 0; s < saved_count; s++) {
		const struct saved_dgram *sd = &saved[s];
		struct ppspp_msg full[MAX_MSGS], msgs[MAX_MSGS];
		struct ppspp_decode_result res;
		uint8_t *copy;
		int n = decode_copy(&sd->ctx, sd->buf, sd->len, full, MAX_MSGS, &res, &copy);
		size_t payload_off = SIZE_MAX;

		CHECKF(n >= 0, "case 4%03d: saved %d does not decode", (int)s, sd->id);
		if (n < 0) {
			free(copy);
			continue;
		}
		if (n > 0 && full[n - 1].type == PPSPP_MSG_DATA)
			payload_off = (size_t)(full[n - 1].u.data.payload - copy);
		free(copy);

		for (size_t k = 0; k < sd->len; k++) {
			int boundary = -1;
			int rc;

			if (k == PPSPP_CHANNEL_LEN)
				boundary = 0;
			for (int i = 0; i < n; i++)
				if (full[i].offset == k)
					boundary = i;
			rc = decode_copy(&sd->ctx, sd->buf, k, msgs, MAX_MSGS, &res, &copy);
			if (k >= payload_off) {
				CHECKF(rc == n && msgs[n - 1].u.data.payload_len == k - payload_off,
				       "case 4%03d (from %d): cut %zu in DATA payload: rc %d",
				       (int)s, sd->id, k, rc);
			} else if (boundary >= 0) {
				CHECKF(rc == boundary,
				       "case 4%03d (from %d): cut %zu at boundary: rc %d want %d",
				       (int)s, sd->id, k, rc, boundary);
			} else {
				CHECKF(rc == -EBADMSG && res.offset <= k &&
					   (res.reason == PPSPP_R_TRUNCATED ||
					    res.reason == PPSPP_R_LENGTH_OVERRUN),
				       "case 4%03d (from %d): cut %zu: rc %d %s at %zu", (int)s,
				       sd->id, k, rc, ppspp_reason_name(res.reason), res.offset);
			}
			free(copy);
		}
	}
	CHECKF(saved_count > 100, "only %zu datagrams saved", saved_count);
}

/* ---- 5xxx builder refusals ---------------------------------------------------------- */

static void test_builder(void)
{
	struct ppspp_ctx ctx2 = mkctx(2, 20, 1024, 64);
	struct ppspp_ctx ctx4 = mkctx(4, 32, 1024, 64);
	uint8_t buf[BUF_LEN];
	struct ppspp_builder b;
	struct ppspp_range r = { 5, 9 };

	/* 5001 ENOSPC at every capacity: never writes past cap, and what it wrote is a prefix. */
	for (int which = 0; which < 2; which++) {
		const struct ppspp_ctx *ctx = which ? &ctx4 : &ctx2;
		struct ppspp_msg all[PPSPP_MSG_TYPE_COUNT + 1];
		uint8_t ref[BUF_LEN];
		int n = 0, ref_len;

		fill_msg(&all[n++], PPSPP_MSG_HANDSHAKE, ctx, 0);
		for (unsigned t = PPSPP_MSG_ACK; t < PPSPP_MSG_TYPE_COUNT; t++)
			fill_msg(&all[n++], t, ctx, 0);
		fill_msg(&all[n++], PPSPP_MSG_DATA, ctx, 1);
		ref_len = reencode(ctx, 7, all, n, ref, sizeof(ref));
		CHECK(ref_len > 0);
		for (int cap = 0; cap < ref_len; cap++) {
			uint8_t *out = malloc((size_t)cap + 16);
			int rc;

			memset(out, 0xa5, (size_t)cap + 16);
			rc = ppspp_builder_init(&b, ctx, out, (size_t)cap, 7);
			for (int i = 0; i < n && rc == 0; i++)
				rc = ppspp_builder_append_msg(&b, &all[i]);
			CHECKF(rc == -ENOSPC, "case 5001: cap %d rc %d", cap, rc);
			CHECKF(b.len <= (size_t)cap && memcmp(out, ref, b.len) == 0,
			       "case 5001: cap %d wrote %zu", cap, b.len);
			for (int g = 0; g < 16; g++)
				CHECKF(out[cap + g] == 0xa5, "case 5001: cap %d overflow", cap);
			free(out);
		}
	}

	/* 5002 options out of order, repeated, or outside a handshake. */
	CHECK(ppspp_builder_init(&b, &ctx2, buf, sizeof(buf), 0) == 0);
	CHECK(ppspp_builder_append_opt_version(&b, 1) == -EINVAL);
	CHECK(ppspp_builder_handshake_begin(&b, 2) == 0);
	CHECK(ppspp_builder_append_opt_cam(&b, 2) == 0);
	CHECK(ppspp_builder_append_opt_cipm(&b, 1) == -EINVAL);
	CHECK(ppspp_builder_append_opt_cam(&b, 2) == -EINVAL);
	CHECK(ppspp_builder_append_have(&b, r) == -EINVAL); /* options still open */
	CHECK(ppspp_builder_finish(&b) == -EINVAL);
	CHECK(ppspp_builder_append_opt_chunk_size(&b, 1024) == 0);
	CHECK(ppspp_builder_handshake_end(&b) == 0);
	CHECK(ppspp_builder_handshake_end(&b) == -EINVAL);
	CHECK(ppspp_builder_finish(&b) == 4 + 1 + 4 + 2 + 5 + 1);

	/* 5003 values the wire cannot carry or the decoder would refuse. */
	CHECK(ppspp_builder_init(&b, &ctx2, buf, sizeof(buf), 0) == 0);
	CHECK(ppspp_builder_handshake_begin(&b, 2) == 0);
	CHECK(ppspp_builder_append_opt_version(&b, 0) == -EINVAL);
	CHECK(ppspp_builder_append_opt_swarm_id(&b, pat, 0) == -EINVAL);
	CHECK(ppspp_builder_append_opt_swarm_id(&b, pat, 65536) == -EINVAL);
	CHECK(ppspp_builder_append_opt_cipm(&b, 0) == -EINVAL);
	CHECK(ppspp_builder_append_opt_mhf(&b, PPSPP_MHF_SHA512) == -EINVAL);
	CHECK(ppspp_builder_append_opt_cam(&b, 0) == -EINVAL);
	CHECK(ppspp_builder_append_opt_live_discard_window(&b, UINT64_C(1) << 32) == -EINVAL);
	CHECK(ppspp_builder_append_opt_supported_msgs(&b, pat, 33) == -EINVAL);
	CHECK(ppspp_builder_append_opt_chunk_size(&b, 0) == -EINVAL);
	CHECK(ppspp_builder_handshake_end(&b) == 0);
	CHECK(ppspp_builder_finish(&b) == 10);			/* nothing but 0xFF was written */
	CHECK(ppspp_builder_handshake_begin(&b, 3) == -EINVAL); /* handshake first only */

	/* 5004 ranges and DATA. */
	{
		struct ppspp_range back = { 9, 5 }, wide = { 0, UINT64_C(1) << 32 };
		const uint8_t a4[4] = { 10, 0, 0, 1 };

		CHECK(ppspp_builder_init(&b, &ctx2, buf, sizeof(buf), 0) == 0);
		CHECK(ppspp_builder_append_have(&b, back) == -EINVAL);
		CHECK(ppspp_builder_append_request(&b, wide) == -EINVAL);
		CHECK(ppspp_builder_append_data(&b, r, 0, pat, 1025) == -EINVAL);
		CHECK(ppspp_builder_append_pex_rescert(&b, pat, 0) == -EINVAL);
		CHECK(ppspp_builder_append_data(&b, r, 0, pat, 1024) == 0);
		CHECK(ppspp_builder_append_choke(&b) == -EINVAL); /* nothing after DATA */
		CHECK(ppspp_builder_append_pex_resv4(&b, a4, 1) == -EINVAL);
		CHECK(ppspp_builder_finish(&b) == 4 + 1 + 8 + 8 + 1024);
		CHECK(ppspp_builder_init(&b, &ctx4, buf, sizeof(buf), 0) == 0);
		CHECK(ppspp_builder_append_request(&b, wide) == 0);
		ctx2.sig_len = 0;
		CHECK(ppspp_builder_init(&b, &ctx2, buf, sizeof(buf), 0) == 0);
		CHECK(ppspp_builder_append_signed_integrity(&b, r, 0, pat) == -EINVAL);
	}

	/* 5005 a refused whole handshake leaves the builder untouched. */
	{
		struct ppspp_handshake hs = { .src_channel = 9 };
		int len0;

		hs.present = (1u << PPSPP_OPT_VERSION) | (1u << PPSPP_OPT_CIPM);
		hs.version = 1;
		hs.cipm = 0;
		CHECK(ppspp_builder_init(&b, &ctx4, buf, sizeof(buf), 0) == 0);
		len0 = ppspp_builder_finish(&b);
		CHECK(ppspp_builder_append_handshake(&b, &hs) == -EINVAL);
		CHECK(ppspp_builder_finish(&b) == len0 && !b.in_handshake);
		hs.cipm = 1;
		CHECK(ppspp_builder_append_handshake(&b, &hs) == 0);
		hs.present = 1u << PPSPP_OPT_COUNT;
		CHECK(ppspp_builder_init(&b, &ctx4, buf, sizeof(buf), 0) == 0);
		CHECK(ppspp_builder_append_handshake(&b, &hs) == -EINVAL);
	}

	/* 5006 bad contexts. */
	{
		struct ppspp_ctx bad = mkctx(1, 20, 1024, 0);

		CHECK(ppspp_builder_init(&b, &bad, buf, sizeof(buf), 0) == -EINVAL);
		bad = mkctx(2, 64, 1024, 0);
		CHECK(ppspp_builder_init(&b, &bad, buf, sizeof(buf), 0) == -EINVAL);
		CHECK(ppspp_builder_init(&b, &ctx4, buf, 3, 0) == -ENOSPC);
	}
}

/* ---- 6xxx random input -------------------------------------------------------------- */

static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Decodes; on success the re-encoding must equal the input exactly. */
static void random_one(int id, const struct ppspp_ctx *ctx, const uint8_t *d, size_t len)
{
	static uint8_t again[BUF_LEN];
	struct ppspp_msg msgs[MAX_MSGS];
	struct ppspp_decode_result res;
	uint8_t *copy;
	int rc = decode_copy(ctx, d, len, msgs, MAX_MSGS, &res, &copy);

	if (rc >= 0) {
		int len2 = reencode(ctx, res.dest_channel, msgs, rc, again, sizeof(again));

		CHECKF(len2 == (int)len && memcmp(again, d, len) == 0,
		       "case %d: decoded (%d msgs) but re-encodes differently (%d)", id, rc, len2);
	} else {
		CHECKF(res.offset <= len && res.reason != PPSPP_R_OK,
		       "case %d: failure without reason or offset past end", id);
	}
	free(copy);
}

static void test_random(void)
{
	static const unsigned cams[] = { 2, 4 }, hashes[] = { 20, 32 };
	static const uint32_t chunks[] = { 1024, 16, 1, PPSPP_CHUNK_SIZE_VARIABLE };
	uint8_t d[BUF_LEN];

	/* 6001: random bytes, biased towards small type and option codes. */
	for (int i = 0; i < 200000; i++) {
		struct ppspp_ctx ctx = mkctx(cams[rng() & 1], hashes[rng() & 1], chunks[rng() & 3],
					     (unsigned)(rng() % 3) * 32);
		size_t len = rng() % 96;

		for (size_t j = 0; j < len; j++) {
			uint64_t x = rng();

			d[j] = (x & 0x300) != 0 ? (uint8_t)(x % 16) : (uint8_t)x;
		}
		if (len > 4 && (rng() & 1))
			d[4] = PPSPP_MSG_HANDSHAKE;
		random_one(6001, &ctx, d, len);
	}

	/* 6002: one to three byte mutations of every saved valid datagram. */
	for (size_t s = 0; s < saved_count; s++)
		for (int i = 0; i < 200; i++) {
			const struct saved_dgram *sd = &saved[s];
			int muts = 1 + (int)(rng() % 3);

			memcpy(d, sd->buf, sd->len);
			for (int m = 0; m < muts && sd->len > 0; m++)
				d[rng() % sd->len] = (uint8_t)rng();
			random_one(6002, &sd->ctx, d, sd->len);
		}
}

int main(void)
{
	for (size_t i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(i % 251);
	test_roundtrip();
	test_trace();
	test_decode_cases();
	test_truncations();
	test_builder();
	test_random();
	printf("%zu valid datagrams truncated at every offset\n", saved_count);
	for (size_t s = 0; s < saved_count; s++)
		free(saved[s].buf);
	return check_exit();
}
