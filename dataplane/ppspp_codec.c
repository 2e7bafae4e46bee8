/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PPSPP datagram decoder and builder. The rules (context, DATA last, handshake first) are
 * stated once in ppspp_codec.h; this file keeps decoder and builder side by side so that each
 * acceptance rule of one has its mirror in the other, which is what makes the round trip
 * exact.
 */
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "ppspp_codec.h"

static const char *const ppspp_reason_names[] = {
#define PPSPP_REASON_NAME(name, text) [PPSPP_R_##name] = text,
	PPSPP_REASONS(PPSPP_REASON_NAME)
#undef PPSPP_REASON_NAME
};

static_assert(sizeof(ppspp_reason_names) / sizeof(ppspp_reason_names[0]) == PPSPP_R_COUNT,
	"one name per reason");

const char *ppspp_reason_name(enum ppspp_reason reason)
{
	if ((unsigned)reason >= PPSPP_R_COUNT)
		return "?";
	return ppspp_reason_names[reason];
}

unsigned ppspp_mhf_hash_len(unsigned mhf)
{
	static const unsigned len[PPSPP_MHF_COUNT] = {
		[PPSPP_MHF_SHA1] = 20,
		[PPSPP_MHF_SHA224] = 28,
		[PPSPP_MHF_SHA256] = 32,
		[PPSPP_MHF_SHA384] = 48,
		[PPSPP_MHF_SHA512] = 64,
	};

	return mhf < PPSPP_MHF_COUNT ? len[mhf] : 0;
}

static bool ppspp_cam_supported(unsigned cam)
{
	return cam == PPSPP_CAM_CHUNK32 || cam == PPSPP_CAM_CHUNK64;
}

static bool ppspp_mhf_supported(unsigned mhf)
{
	return mhf == PPSPP_MHF_SHA1 || mhf == PPSPP_MHF_SHA256;
}

static bool ppspp_hash_len_supported(unsigned len)
{
	return len == PPSPP_SHA1_LEN || len == PPSPP_SHA256_LEN;
}

int ppspp_ctx_check(const struct ppspp_ctx *ctx)
{
	if (ctx == NULL || !ppspp_cam_supported(ctx->cam) ||
		!ppspp_hash_len_supported(ctx->hash_len) || ctx->chunk_size == 0)
		return -EINVAL;
	return 0;
}

int ppspp_ctx_from_handshake(
	const struct ppspp_ctx *base, const struct ppspp_handshake *hs, struct ppspp_ctx *out)
{
	struct ppspp_ctx c = *base; /* out may alias base */

	if (ppspp_handshake_has(hs, PPSPP_OPT_CAM)) {
		if (!ppspp_cam_supported(hs->cam))
			return -EINVAL;
		c.cam = hs->cam;
	}
	if (ppspp_handshake_has(hs, PPSPP_OPT_MERKLE_HASH_FUNC)) {
		if (!ppspp_mhf_supported(hs->mhf))
			return -EINVAL;
		c.hash_len = (uint8_t)ppspp_mhf_hash_len(hs->mhf);
	}
	if (ppspp_handshake_has(hs, PPSPP_OPT_CHUNK_SIZE)) {
		if (hs->chunk_size == 0)
			return -EINVAL;
		c.chunk_size = hs->chunk_size;
	}
	*out = c;
	return 0;
}

static size_t ppspp_spec_len(unsigned cam)
{
	return cam == PPSPP_CAM_CHUNK64 ? PPSPP_CHUNK64_SPEC_LEN : PPSPP_CHUNK32_SPEC_LEN;
}

/* ---- decoder ------------------------------------------------------------------------ */

/* A cursor over the datagram; every read is preceded by rd_has(), so none can overrun. */
struct ppspp_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	struct ppspp_decode_result *res;
};

static bool rd_has(const struct ppspp_rd *r, size_t n)
{
	return r->len - r->off >= n;
}

static int rd_fail(struct ppspp_rd *r, enum ppspp_reason reason, size_t at)
{
	r->res->reason = reason;
	r->res->offset = at;
	return -EBADMSG;
}

static uint8_t rd_u8(struct ppspp_rd *r)
{
	return r->p[r->off++];
}

static uint16_t rd_be16(struct ppspp_rd *r)
{
	uint16_t v;

	memcpy(&v, r->p + r->off, sizeof(v));
	r->off += sizeof(v);
	return be16toh(v);
}

static uint32_t rd_be32(struct ppspp_rd *r)
{
	uint32_t v;

	memcpy(&v, r->p + r->off, sizeof(v));
	r->off += sizeof(v);
	return be32toh(v);
}

static uint64_t rd_be64(struct ppspp_rd *r)
{
	uint64_t v;

	memcpy(&v, r->p + r->off, sizeof(v));
	r->off += sizeof(v);
	return be64toh(v);
}

static const uint8_t *rd_bytes(struct ppspp_rd *r, size_t n)
{
	const uint8_t *p = r->p + r->off;

	r->off += n;
	return p;
}

static int rd_range(struct ppspp_rd *r, const struct ppspp_ctx *ctx, struct ppspp_range *out)
{
	size_t at = r->off;

	if (!rd_has(r, ppspp_spec_len(ctx->cam)))
		return rd_fail(r, PPSPP_R_TRUNCATED, at);
	if (ctx->cam == PPSPP_CAM_CHUNK64) {
		out->start = rd_be64(r);
		out->end = rd_be64(r);
	} else {
		out->start = rd_be32(r);
		out->end = rd_be32(r);
	}
	if (out->end < out->start)
		return rd_fail(r, PPSPP_R_BAD_RANGE, at);
	return 0;
}

static int rd_u64_field(struct ppspp_rd *r, uint64_t *out)
{
	if (!rd_has(r, PPSPP_TIMESTAMP_LEN))
		return rd_fail(r, PPSPP_R_TRUNCATED, r->off);
	*out = rd_be64(r);
	return 0;
}

/* One option's value; r->off is just past the code byte. */
static int rd_option(
	struct ppspp_rd *r, const struct ppspp_ctx *ctx, unsigned code, struct ppspp_handshake *hs)
{
	size_t at = r->off;
	size_t n;
	uint8_t v;

	switch (code) {
	case PPSPP_OPT_VERSION:
	case PPSPP_OPT_MIN_VERSION:
	case PPSPP_OPT_CIPM:
	case PPSPP_OPT_MERKLE_HASH_FUNC:
	case PPSPP_OPT_LIVE_SIG_ALG:
	case PPSPP_OPT_CAM:
		if (!rd_has(r, PPSPP_OPT_U8_LEN))
			return rd_fail(r, PPSPP_R_TRUNCATED, at);
		v = rd_u8(r);
		break;
	case PPSPP_OPT_SWARM_ID:
		if (!rd_has(r, PPSPP_SWARM_ID_LEN_LEN))
			return rd_fail(r, PPSPP_R_TRUNCATED, at);
		n = rd_be16(r);
		if (n == 0)
			return rd_fail(r, PPSPP_R_BAD_SWARM_ID_LEN, at);
		if (!rd_has(r, n))
			return rd_fail(r, PPSPP_R_LENGTH_OVERRUN, at);
		hs->swarm_id_len = (uint16_t)n;
		hs->swarm_id = rd_bytes(r, n);
		return 0;
	case PPSPP_OPT_LIVE_DISCARD_WINDOW: {
		/* Width follows the CAM: this handshake's option 6 (it precedes 7), else ctx. */
		unsigned cam = ppspp_handshake_has(hs, PPSPP_OPT_CAM) ? hs->cam : ctx->cam;

		if (cam == PPSPP_CAM_CHUNK64) {
			if (!rd_has(r, PPSPP_DISCARD_WINDOW64_LEN))
				return rd_fail(r, PPSPP_R_TRUNCATED, at);
			hs->live_discard_window = rd_be64(r);
		} else {
			if (!rd_has(r, PPSPP_DISCARD_WINDOW32_LEN))
				return rd_fail(r, PPSPP_R_TRUNCATED, at);
			hs->live_discard_window = rd_be32(r);
		}
		return 0;
	}
	case PPSPP_OPT_SUPPORTED_MSGS:
		if (!rd_has(r, PPSPP_SUPPORTED_MSGS_LEN_LEN))
			return rd_fail(r, PPSPP_R_TRUNCATED, at);
		n = rd_u8(r);
		if (n == 0 || n > PPSPP_SUPPORTED_MSGS_MAX_LEN)
			return rd_fail(r, PPSPP_R_BAD_SUPPORTED_MSGS_LEN, at);
		if (!rd_has(r, n))
			return rd_fail(r, PPSPP_R_LENGTH_OVERRUN, at);
		hs->supported_msgs_len = (uint8_t)n;
		hs->supported_msgs = rd_bytes(r, n);
		return 0;
	case PPSPP_OPT_CHUNK_SIZE:
		if (!rd_has(r, PPSPP_OPT_CHUNK_SIZE_LEN))
			return rd_fail(r, PPSPP_R_TRUNCATED, at);
		hs->chunk_size = rd_be32(r);
		if (hs->chunk_size == 0)
			return rd_fail(r, PPSPP_R_BAD_CHUNK_SIZE, at);
		return 0;
	default:
		return rd_fail(r, PPSPP_R_UNKNOWN_OPTION, at - 1);
	}

	switch (code) {
	case PPSPP_OPT_VERSION:
	case PPSPP_OPT_MIN_VERSION:
		if (v == 0)
			return rd_fail(r, PPSPP_R_BAD_VERSION, at);
		if (code == PPSPP_OPT_VERSION)
			hs->version = v;
		else
			hs->min_version = v;
		return 0;
	case PPSPP_OPT_CIPM:
		if (v < PPSPP_CIPM_MERKLE || v > PPSPP_CIPM_UNIFIED_MERKLE)
			return rd_fail(r, PPSPP_R_BAD_CIPM, at);
		hs->cipm = v;
		return 0;
	case PPSPP_OPT_MERKLE_HASH_FUNC:
		if (v >= PPSPP_MHF_COUNT)
			return rd_fail(r, PPSPP_R_BAD_HASH_FUNC, at);
		if (!ppspp_mhf_supported(v))
			return rd_fail(r, PPSPP_R_UNSUPPORTED_HASH_FUNC, at);
		hs->mhf = v;
		return 0;
	case PPSPP_OPT_LIVE_SIG_ALG:
		/* Any DNSSEC number is well-formed; whether we verify it is the caller's call. */
		hs->live_sig_alg = v;
		return 0;
	default: /* PPSPP_OPT_CAM */
		if (v >= PPSPP_CAM_COUNT)
			return rd_fail(r, PPSPP_R_BAD_CAM, at);
		if (!ppspp_cam_supported(v))
			return rd_fail(r, PPSPP_R_UNSUPPORTED_CAM, at);
		hs->cam = v;
		return 0;
	}
}

static int rd_handshake(struct ppspp_rd *r, const struct ppspp_ctx *ctx, struct ppspp_handshake *hs)
{
	int last = -1;

	if (!rd_has(r, PPSPP_CHANNEL_LEN))
		return rd_fail(r, PPSPP_R_TRUNCATED, r->off);
	hs->src_channel = rd_be32(r);
	for (;;) {
		size_t at = r->off;
		unsigned code;
		int rc;

		/* The list must end with 0xFF: running out of bytes first is truncation. */
		if (!rd_has(r, 1))
			return rd_fail(r, PPSPP_R_TRUNCATED, at);
		code = rd_u8(r);
		if (code == PPSPP_OPT_END)
			return 0;
		if (code >= PPSPP_OPT_COUNT)
			return rd_fail(r, PPSPP_R_UNKNOWN_OPTION, at);
		if ((int)code <= last)
			return rd_fail(r, PPSPP_R_OPTIONS_OUT_OF_ORDER, at);
		last = (int)code;
		rc = rd_option(r, ctx, code, hs);
		if (rc != 0)
			return rc;
		hs->present |= UINT32_C(1) << code;
	}
}

/* One message after its type byte; ctx is the effective context. */
static int rd_message(struct ppspp_rd *r, const struct ppspp_ctx *ctx, struct ppspp_msg *m)
{
	size_t n;
	int rc;

	switch (m->type) {
	case PPSPP_MSG_DATA:
		rc = rd_range(r, ctx, &m->u.data.range);
		if (rc == 0)
			rc = rd_u64_field(r, &m->u.data.timestamp);
		if (rc != 0)
			return rc;
		n = r->len - r->off;
		/* More than one chunk left can only be further messages: DATA must be last. */
		if (ctx->chunk_size != PPSPP_CHUNK_SIZE_VARIABLE && n > ctx->chunk_size)
			return rd_fail(r, PPSPP_R_DATA_NOT_LAST, r->off + ctx->chunk_size);
		m->u.data.payload_len = n;
		m->u.data.payload = rd_bytes(r, n);
		return 0;
	case PPSPP_MSG_ACK:
		rc = rd_range(r, ctx, &m->u.ack.range);
		return rc != 0 ? rc : rd_u64_field(r, &m->u.ack.delay);
	case PPSPP_MSG_HAVE:
	case PPSPP_MSG_REQUEST:
	case PPSPP_MSG_CANCEL:
		return rd_range(r, ctx, &m->u.range);
	case PPSPP_MSG_INTEGRITY:
		rc = rd_range(r, ctx, &m->u.integrity.range);
		if (rc != 0)
			return rc;
		if (!rd_has(r, ctx->hash_len))
			return rd_fail(r, PPSPP_R_TRUNCATED, r->off);
		m->u.integrity.hash = rd_bytes(r, ctx->hash_len);
		return 0;
	case PPSPP_MSG_SIGNED_INTEGRITY:
		/* Without a length the signature cannot be delimited; refuse rather than guess. */
		if (ctx->sig_len == 0)
			return rd_fail(r, PPSPP_R_NO_SIG_LEN, m->offset);
		rc = rd_range(r, ctx, &m->u.signed_integrity.range);
		if (rc == 0)
			rc = rd_u64_field(r, &m->u.signed_integrity.ntp_timestamp);
		if (rc != 0)
			return rc;
		if (!rd_has(r, ctx->sig_len))
			return rd_fail(r, PPSPP_R_TRUNCATED, r->off);
		m->u.signed_integrity.sig = rd_bytes(r, ctx->sig_len);
		return 0;
	case PPSPP_MSG_PEX_RESV4:
	case PPSPP_MSG_PEX_RESV6:
		n = m->type == PPSPP_MSG_PEX_RESV4 ? PPSPP_IPV4_LEN : PPSPP_IPV6_LEN;
		if (!rd_has(r, n + PPSPP_PORT_LEN))
			return rd_fail(r, PPSPP_R_TRUNCATED, r->off);
		m->u.pex.addr = rd_bytes(r, n);
		m->u.pex.port = rd_be16(r);
		return 0;
	case PPSPP_MSG_PEX_REQ:
	case PPSPP_MSG_CHOKE:
	case PPSPP_MSG_UNCHOKE:
		return 0;
	case PPSPP_MSG_PEX_RESCERT: {
		size_t at = r->off;

		if (!rd_has(r, PPSPP_CERT_LEN_LEN))
			return rd_fail(r, PPSPP_R_TRUNCATED, at);
		n = rd_be16(r);
		if (n == 0)
			return rd_fail(r, PPSPP_R_BAD_CERT_LEN, at);
		if (!rd_has(r, n))
			return rd_fail(r, PPSPP_R_LENGTH_OVERRUN, at);
		m->u.cert.der_len = (uint16_t)n;
		m->u.cert.der = rd_bytes(r, n);
		return 0;
	}
	default:
		return rd_fail(r, PPSPP_R_UNKNOWN_MSG_TYPE, m->offset);
	}
}

int ppspp_datagram_decode(const struct ppspp_ctx *ctx, const uint8_t *buf, size_t len,
	struct ppspp_msg *msgs, size_t max_msgs, struct ppspp_decode_result *res)
{
	struct ppspp_rd r = {.p = buf, .len = len, .off = 0, .res = res};
	size_t count = 0;

	if (res == NULL)
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	if (ppspp_ctx_check(ctx) != 0 || (buf == NULL && len != 0) ||
		(msgs == NULL && max_msgs != 0)) {
		res->reason = PPSPP_R_BAD_CONTEXT;
		return -EINVAL;
	}
	res->ctx = *ctx;
	/* The count is returned as an int. */
	if (max_msgs > INT_MAX)
		max_msgs = INT_MAX;
	if (!rd_has(&r, PPSPP_CHANNEL_LEN))
		return rd_fail(&r, PPSPP_R_TRUNCATED, 0);
	res->dest_channel = rd_be32(&r);

	while (r.off < len) {
		struct ppspp_msg *m;
		int rc;

		if (count == max_msgs) {
			rd_fail(&r, PPSPP_R_TOO_MANY_MSGS, r.off);
			return -ENOBUFS;
		}
		m = &msgs[count];
		memset(m, 0, sizeof(*m));
		m->offset = r.off;
		m->type = rd_u8(&r);
		if (m->type == PPSPP_MSG_HANDSHAKE) {
			/*
			 * Handshake first only: its options are the context for what follows, so
			 * a later one would change the rules mid-datagram.
			 */
			if (count != 0)
				return rd_fail(&r, PPSPP_R_HANDSHAKE_NOT_FIRST, m->offset);
			rc = rd_handshake(&r, &res->ctx, &m->u.handshake);
			/* Cannot fail: rd_option refused unsupported CAM and hash values. */
			if (rc == 0)
				rc = ppspp_ctx_from_handshake(
					&res->ctx, &m->u.handshake, &res->ctx);
		} else {
			rc = rd_message(&r, &res->ctx, m);
		}
		if (rc != 0)
			return rc;
		count++;
	}
	res->offset = len;
	return (int)count;
}

/* ---- builder ------------------------------------------------------------------------ */

static int bld_room(const struct ppspp_builder *b, size_t n)
{
	/* An open handshake keeps one byte back for its 0xFF, so _handshake_end cannot fail. */
	size_t reserve = b->in_handshake ? 1 : 0;

	return b->cap - b->len >= n + reserve ? 0 : -ENOSPC;
}

static void bld_u8(struct ppspp_builder *b, uint8_t v)
{
	b->buf[b->len++] = v;
}

static void bld_be16(struct ppspp_builder *b, uint16_t v)
{
	v = htobe16(v);
	memcpy(b->buf + b->len, &v, sizeof(v));
	b->len += sizeof(v);
}

static void bld_be32(struct ppspp_builder *b, uint32_t v)
{
	v = htobe32(v);
	memcpy(b->buf + b->len, &v, sizeof(v));
	b->len += sizeof(v);
}

static void bld_be64(struct ppspp_builder *b, uint64_t v)
{
	v = htobe64(v);
	memcpy(b->buf + b->len, &v, sizeof(v));
	b->len += sizeof(v);
}

static void bld_bytes(struct ppspp_builder *b, const uint8_t *p, size_t n)
{
	if (n != 0)
		memcpy(b->buf + b->len, p, n);
	b->len += n;
}

int ppspp_builder_init(struct ppspp_builder *b, const struct ppspp_ctx *ctx, uint8_t *buf,
	size_t cap, uint32_t dest_channel)
{
	if (b == NULL || ppspp_ctx_check(ctx) != 0 || (buf == NULL && cap != 0))
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	b->buf = buf;
	b->cap = cap;
	b->ctx = *ctx;
	b->last_opt = -1;
	if (bld_room(b, PPSPP_CHANNEL_LEN) != 0)
		return -ENOSPC;
	bld_be32(b, dest_channel);
	return 0;
}

/* A non-handshake message of n bytes (type byte included) may be appended. */
static int bld_msg_begin(struct ppspp_builder *b, size_t n)
{
	if (b->in_handshake || b->sealed)
		return -EINVAL;
	return bld_room(b, n);
}

static int bld_range_check(const struct ppspp_builder *b, struct ppspp_range r)
{
	if (r.end < r.start)
		return -EINVAL;
	if (b->ctx.cam == PPSPP_CAM_CHUNK32 && r.end > UINT32_MAX)
		return -EINVAL;
	return 0;
}

static void bld_range(struct ppspp_builder *b, struct ppspp_range r)
{
	if (b->ctx.cam == PPSPP_CAM_CHUNK64) {
		bld_be64(b, r.start);
		bld_be64(b, r.end);
	} else {
		bld_be32(b, (uint32_t)r.start);
		bld_be32(b, (uint32_t)r.end);
	}
}

/* Messages whose body is one chunk spec: HAVE, REQUEST, CANCEL. */
static int bld_range_msg(struct ppspp_builder *b, uint8_t type, struct ppspp_range r)
{
	int rc = bld_range_check(b, r);

	if (rc == 0)
		rc = bld_msg_begin(b, PPSPP_TYPE_LEN + ppspp_spec_len(b->ctx.cam));
	if (rc != 0)
		return rc;
	bld_u8(b, type);
	bld_range(b, r);
	b->any_msg = true;
	return 0;
}

static int bld_bare_msg(struct ppspp_builder *b, uint8_t type)
{
	int rc = bld_msg_begin(b, PPSPP_TYPE_LEN);

	if (rc != 0)
		return rc;
	bld_u8(b, type);
	b->any_msg = true;
	return 0;
}

int ppspp_builder_handshake_begin(struct ppspp_builder *b, uint32_t src_channel)
{
	if (b->any_msg || b->in_handshake || b->sealed)
		return -EINVAL;
	/* Room for the fixed part and the terminator, so a begun handshake can always end. */
	if (bld_room(b, PPSPP_TYPE_LEN + PPSPP_CHANNEL_LEN + 1) != 0)
		return -ENOSPC;
	bld_u8(b, PPSPP_MSG_HANDSHAKE);
	bld_be32(b, src_channel);
	memset(&b->hs, 0, sizeof(b->hs));
	b->hs.src_channel = src_channel;
	b->in_handshake = true;
	b->last_opt = -1;
	return 0;
}

/* Option code may follow the last one and its value_len bytes fit. */
static int bld_opt_begin(struct ppspp_builder *b, unsigned code, size_t value_len)
{
	if (!b->in_handshake || (int)code <= b->last_opt)
		return -EINVAL;
	if (bld_room(b, 1 + value_len) != 0)
		return -ENOSPC;
	bld_u8(b, (uint8_t)code);
	b->last_opt = (int)code;
	b->hs.present |= UINT32_C(1) << code;
	return 0;
}

/* A one-byte option; field (the copy kept in b->hs) is set only once the byte is written. */
static int bld_opt_u8(struct ppspp_builder *b, unsigned code, uint8_t v, uint8_t *field)
{
	int rc = bld_opt_begin(b, code, PPSPP_OPT_U8_LEN);

	if (rc != 0)
		return rc;
	bld_u8(b, v);
	*field = v;
	return 0;
}

int ppspp_builder_append_opt_version(struct ppspp_builder *b, uint8_t version)
{
	if (version == 0)
		return -EINVAL;
	return bld_opt_u8(b, PPSPP_OPT_VERSION, version, &b->hs.version);
}

int ppspp_builder_append_opt_min_version(struct ppspp_builder *b, uint8_t version)
{
	if (version == 0)
		return -EINVAL;
	return bld_opt_u8(b, PPSPP_OPT_MIN_VERSION, version, &b->hs.min_version);
}

int ppspp_builder_append_opt_swarm_id(struct ppspp_builder *b, const uint8_t *id, size_t len)
{
	int rc;

	if (len == 0 || len > UINT16_MAX || id == NULL)
		return -EINVAL;
	rc = bld_opt_begin(b, PPSPP_OPT_SWARM_ID, PPSPP_SWARM_ID_LEN_LEN + len);
	if (rc != 0)
		return rc;
	bld_be16(b, (uint16_t)len);
	bld_bytes(b, id, len);
	b->hs.swarm_id = id;
	b->hs.swarm_id_len = (uint16_t)len;
	return 0;
}

int ppspp_builder_append_opt_cipm(struct ppspp_builder *b, uint8_t cipm)
{
	if (cipm < PPSPP_CIPM_MERKLE || cipm > PPSPP_CIPM_UNIFIED_MERKLE)
		return -EINVAL;
	return bld_opt_u8(b, PPSPP_OPT_CIPM, cipm, &b->hs.cipm);
}

int ppspp_builder_append_opt_mhf(struct ppspp_builder *b, uint8_t mhf)
{
	if (!ppspp_mhf_supported(mhf))
		return -EINVAL;
	return bld_opt_u8(b, PPSPP_OPT_MERKLE_HASH_FUNC, mhf, &b->hs.mhf);
}

int ppspp_builder_append_opt_live_sig_alg(struct ppspp_builder *b, uint8_t alg)
{
	return bld_opt_u8(b, PPSPP_OPT_LIVE_SIG_ALG, alg, &b->hs.live_sig_alg);
}

int ppspp_builder_append_opt_cam(struct ppspp_builder *b, uint8_t cam)
{
	if (!ppspp_cam_supported(cam))
		return -EINVAL;
	return bld_opt_u8(b, PPSPP_OPT_CAM, cam, &b->hs.cam);
}

int ppspp_builder_append_opt_live_discard_window(struct ppspp_builder *b, uint64_t window)
{
	unsigned cam = ppspp_handshake_has(&b->hs, PPSPP_OPT_CAM) ? b->hs.cam : b->ctx.cam;
	int rc;

	if (cam == PPSPP_CAM_CHUNK64) {
		rc = bld_opt_begin(b, PPSPP_OPT_LIVE_DISCARD_WINDOW, PPSPP_DISCARD_WINDOW64_LEN);
		if (rc == 0)
			bld_be64(b, window);
	} else {
		if (window > UINT32_MAX)
			return -EINVAL;
		rc = bld_opt_begin(b, PPSPP_OPT_LIVE_DISCARD_WINDOW, PPSPP_DISCARD_WINDOW32_LEN);
		if (rc == 0)
			bld_be32(b, (uint32_t)window);
	}
	if (rc == 0)
		b->hs.live_discard_window = window;
	return rc;
}

int ppspp_builder_append_opt_supported_msgs(
	struct ppspp_builder *b, const uint8_t *bitmap, size_t len)
{
	int rc;

	if (len == 0 || len > PPSPP_SUPPORTED_MSGS_MAX_LEN || bitmap == NULL)
		return -EINVAL;
	rc = bld_opt_begin(b, PPSPP_OPT_SUPPORTED_MSGS, PPSPP_SUPPORTED_MSGS_LEN_LEN + len);
	if (rc != 0)
		return rc;
	bld_u8(b, (uint8_t)len);
	bld_bytes(b, bitmap, len);
	b->hs.supported_msgs = bitmap;
	b->hs.supported_msgs_len = (uint8_t)len;
	return 0;
}

int ppspp_builder_append_opt_chunk_size(struct ppspp_builder *b, uint32_t chunk_size)
{
	int rc;

	if (chunk_size == 0)
		return -EINVAL;
	rc = bld_opt_begin(b, PPSPP_OPT_CHUNK_SIZE, PPSPP_OPT_CHUNK_SIZE_LEN);
	if (rc != 0)
		return rc;
	bld_be32(b, chunk_size);
	b->hs.chunk_size = chunk_size;
	return 0;
}

int ppspp_builder_handshake_end(struct ppspp_builder *b)
{
	if (!b->in_handshake)
		return -EINVAL;
	/* The byte was reserved by _handshake_begin and every option since. */
	bld_u8(b, PPSPP_OPT_END);
	b->in_handshake = false;
	b->any_msg = true;
	/* The options only ever hold values the builder accepted, so this cannot fail. */
	return ppspp_ctx_from_handshake(&b->ctx, &b->hs, &b->ctx);
}

static int bld_handshake_opts(struct ppspp_builder *b, const struct ppspp_handshake *hs)
{
	int rc = 0;

	for (unsigned code = 0; code < PPSPP_OPT_COUNT && rc == 0; code++) {
		if (!ppspp_handshake_has(hs, code))
			continue;
		switch (code) {
		case PPSPP_OPT_VERSION:
			rc = ppspp_builder_append_opt_version(b, hs->version);
			break;
		case PPSPP_OPT_MIN_VERSION:
			rc = ppspp_builder_append_opt_min_version(b, hs->min_version);
			break;
		case PPSPP_OPT_SWARM_ID:
			rc = ppspp_builder_append_opt_swarm_id(b, hs->swarm_id, hs->swarm_id_len);
			break;
		case PPSPP_OPT_CIPM:
			rc = ppspp_builder_append_opt_cipm(b, hs->cipm);
			break;
		case PPSPP_OPT_MERKLE_HASH_FUNC:
			rc = ppspp_builder_append_opt_mhf(b, hs->mhf);
			break;
		case PPSPP_OPT_LIVE_SIG_ALG:
			rc = ppspp_builder_append_opt_live_sig_alg(b, hs->live_sig_alg);
			break;
		case PPSPP_OPT_CAM:
			rc = ppspp_builder_append_opt_cam(b, hs->cam);
			break;
		case PPSPP_OPT_LIVE_DISCARD_WINDOW:
			rc = ppspp_builder_append_opt_live_discard_window(
				b, hs->live_discard_window);
			break;
		case PPSPP_OPT_SUPPORTED_MSGS:
			rc = ppspp_builder_append_opt_supported_msgs(
				b, hs->supported_msgs, hs->supported_msgs_len);
			break;
		default: /* PPSPP_OPT_CHUNK_SIZE */
			rc = ppspp_builder_append_opt_chunk_size(b, hs->chunk_size);
			break;
		}
	}
	return rc;
}

int ppspp_builder_append_handshake(struct ppspp_builder *b, const struct ppspp_handshake *hs)
{
	struct ppspp_builder saved = *b;
	int rc;

	if (hs->present >> PPSPP_OPT_COUNT != 0)
		return -EINVAL;
	rc = ppspp_builder_handshake_begin(b, hs->src_channel);
	if (rc != 0)
		return rc;
	rc = bld_handshake_opts(b, hs);
	if (rc == 0)
		rc = ppspp_builder_handshake_end(b);
	/* All or nothing: a refused option leaves the builder as it was before the call. */
	if (rc != 0)
		*b = saved;
	return rc;
}

/* DATA's header; payload (NULL: left to the caller) and its length after it. */
static int bld_data(struct ppspp_builder *b, struct ppspp_range r, uint64_t timestamp,
	const uint8_t *payload, size_t payload_len)
{
	int rc = bld_range_check(b, r);

	if (rc != 0)
		return rc;
	if (b->ctx.chunk_size != PPSPP_CHUNK_SIZE_VARIABLE && payload_len > b->ctx.chunk_size)
		return -EINVAL;
	rc = bld_msg_begin(
		b, PPSPP_TYPE_LEN + ppspp_spec_len(b->ctx.cam) + PPSPP_TIMESTAMP_LEN + payload_len);
	if (rc != 0)
		return rc;
	bld_u8(b, PPSPP_MSG_DATA);
	bld_range(b, r);
	bld_be64(b, timestamp);
	if (payload != NULL)
		bld_bytes(b, payload, payload_len);
	else
		b->len += payload_len;
	/* The payload has no length: whatever followed would be read as payload. */
	b->sealed = true;
	b->any_msg = true;
	return 0;
}

int ppspp_builder_append_data(struct ppspp_builder *b, struct ppspp_range r, uint64_t timestamp,
	const uint8_t *payload, size_t payload_len)
{
	if (payload == NULL && payload_len != 0)
		return -EINVAL;
	return bld_data(b, r, timestamp, payload, payload_len);
}

int ppspp_builder_append_data_hdr(
	struct ppspp_builder *b, struct ppspp_range r, uint64_t timestamp, size_t payload_len)
{
	return bld_data(b, r, timestamp, NULL, payload_len);
}

int ppspp_builder_append_ack(struct ppspp_builder *b, struct ppspp_range r, uint64_t delay)
{
	int rc = bld_range_check(b, r);

	if (rc == 0)
		rc = bld_msg_begin(
			b, PPSPP_TYPE_LEN + ppspp_spec_len(b->ctx.cam) + PPSPP_TIMESTAMP_LEN);
	if (rc != 0)
		return rc;
	bld_u8(b, PPSPP_MSG_ACK);
	bld_range(b, r);
	bld_be64(b, delay);
	b->any_msg = true;
	return 0;
}

int ppspp_builder_append_have(struct ppspp_builder *b, struct ppspp_range r)
{
	return bld_range_msg(b, PPSPP_MSG_HAVE, r);
}

int ppspp_builder_append_integrity(
	struct ppspp_builder *b, struct ppspp_range r, const uint8_t *hash)
{
	int rc = bld_range_check(b, r);

	if (rc == 0 && hash == NULL)
		rc = -EINVAL;
	if (rc == 0)
		rc = bld_msg_begin(
			b, PPSPP_TYPE_LEN + ppspp_spec_len(b->ctx.cam) + b->ctx.hash_len);
	if (rc != 0)
		return rc;
	bld_u8(b, PPSPP_MSG_INTEGRITY);
	bld_range(b, r);
	/*
	 * A SHA-256 hash as a fixed-size copy: gcc makes the copy of a length it cannot see into
	 * `rep movsq`, whose start-up was half of this function's time when serving 1 KiB chunks
	 * (perf annotate, one uncle per chunk).
	 */
	if (b->ctx.hash_len == PPSPP_SHA256_LEN) {
		memcpy(b->buf + b->len, hash, PPSPP_SHA256_LEN);
		b->len += PPSPP_SHA256_LEN;
	} else {
		bld_bytes(b, hash, b->ctx.hash_len);
	}
	b->any_msg = true;
	return 0;
}

static int bld_pex(
	struct ppspp_builder *b, uint8_t type, const uint8_t *addr, size_t addr_len, uint16_t port)
{
	int rc = bld_msg_begin(b, PPSPP_TYPE_LEN + addr_len + PPSPP_PORT_LEN);

	if (rc != 0)
		return rc;
	bld_u8(b, type);
	bld_bytes(b, addr, addr_len);
	bld_be16(b, port);
	b->any_msg = true;
	return 0;
}

int ppspp_builder_append_pex_resv4(
	struct ppspp_builder *b, const uint8_t addr[static 4], uint16_t port)
{
	return bld_pex(b, PPSPP_MSG_PEX_RESV4, addr, PPSPP_IPV4_LEN, port);
}

int ppspp_builder_append_pex_req(struct ppspp_builder *b)
{
	return bld_bare_msg(b, PPSPP_MSG_PEX_REQ);
}

int ppspp_builder_append_signed_integrity(
	struct ppspp_builder *b, struct ppspp_range r, uint64_t ntp_timestamp, const uint8_t *sig)
{
	int rc = bld_range_check(b, r);

	if (rc == 0 && (b->ctx.sig_len == 0 || sig == NULL))
		rc = -EINVAL;
	if (rc == 0)
		rc = bld_msg_begin(b, PPSPP_TYPE_LEN + ppspp_spec_len(b->ctx.cam) +
					      PPSPP_TIMESTAMP_LEN + b->ctx.sig_len);
	if (rc != 0)
		return rc;
	bld_u8(b, PPSPP_MSG_SIGNED_INTEGRITY);
	bld_range(b, r);
	bld_be64(b, ntp_timestamp);
	bld_bytes(b, sig, b->ctx.sig_len);
	b->any_msg = true;
	return 0;
}

int ppspp_builder_append_request(struct ppspp_builder *b, struct ppspp_range r)
{
	return bld_range_msg(b, PPSPP_MSG_REQUEST, r);
}

int ppspp_builder_append_cancel(struct ppspp_builder *b, struct ppspp_range r)
{
	return bld_range_msg(b, PPSPP_MSG_CANCEL, r);
}

int ppspp_builder_append_choke(struct ppspp_builder *b)
{
	return bld_bare_msg(b, PPSPP_MSG_CHOKE);
}

int ppspp_builder_append_unchoke(struct ppspp_builder *b)
{
	return bld_bare_msg(b, PPSPP_MSG_UNCHOKE);
}

int ppspp_builder_append_pex_resv6(
	struct ppspp_builder *b, const uint8_t addr[static 16], uint16_t port)
{
	return bld_pex(b, PPSPP_MSG_PEX_RESV6, addr, PPSPP_IPV6_LEN, port);
}

int ppspp_builder_append_pex_rescert(struct ppspp_builder *b, const uint8_t *der, size_t der_len)
{
	int rc;

	if (der_len == 0 || der_len > UINT16_MAX || der == NULL)
		return -EINVAL;
	rc = bld_msg_begin(b, PPSPP_TYPE_LEN + PPSPP_CERT_LEN_LEN + der_len);
	if (rc != 0)
		return rc;
	bld_u8(b, PPSPP_MSG_PEX_RESCERT);
	bld_be16(b, (uint16_t)der_len);
	bld_bytes(b, der, der_len);
	b->any_msg = true;
	return 0;
}

int ppspp_builder_append_msg(struct ppspp_builder *b, const struct ppspp_msg *m)
{
	switch (m->type) {
	case PPSPP_MSG_HANDSHAKE:
		return ppspp_builder_append_handshake(b, &m->u.handshake);
	case PPSPP_MSG_DATA:
		return ppspp_builder_append_data(b, m->u.data.range, m->u.data.timestamp,
			m->u.data.payload, m->u.data.payload_len);
	case PPSPP_MSG_ACK:
		return ppspp_builder_append_ack(b, m->u.ack.range, m->u.ack.delay);
	case PPSPP_MSG_HAVE:
		return ppspp_builder_append_have(b, m->u.range);
	case PPSPP_MSG_INTEGRITY:
		return ppspp_builder_append_integrity(b, m->u.integrity.range, m->u.integrity.hash);
	case PPSPP_MSG_PEX_RESV4:
		if (m->u.pex.addr == NULL)
			return -EINVAL;
		return ppspp_builder_append_pex_resv4(b, m->u.pex.addr, m->u.pex.port);
	case PPSPP_MSG_PEX_REQ:
		return ppspp_builder_append_pex_req(b);
	case PPSPP_MSG_SIGNED_INTEGRITY:
		return ppspp_builder_append_signed_integrity(b, m->u.signed_integrity.range,
			m->u.signed_integrity.ntp_timestamp, m->u.signed_integrity.sig);
	case PPSPP_MSG_REQUEST:
		return ppspp_builder_append_request(b, m->u.range);
	case PPSPP_MSG_CANCEL:
		return ppspp_builder_append_cancel(b, m->u.range);
	case PPSPP_MSG_CHOKE:
		return ppspp_builder_append_choke(b);
	case PPSPP_MSG_UNCHOKE:
		return ppspp_builder_append_unchoke(b);
	case PPSPP_MSG_PEX_RESV6:
		if (m->u.pex.addr == NULL)
			return -EINVAL;
		return ppspp_builder_append_pex_resv6(b, m->u.pex.addr, m->u.pex.port);
	case PPSPP_MSG_PEX_RESCERT:
		return ppspp_builder_append_pex_rescert(b, m->u.cert.der, m->u.cert.der_len);
	default:
		return -EINVAL;
	}
}

int ppspp_builder_finish(const struct ppspp_builder *b)
{
	if (b->in_handshake || b->len > INT_MAX)
		return -EINVAL;
	return (int)b->len;
}
