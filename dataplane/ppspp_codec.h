/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PPSPP datagram codec (RFC 7574 §8; digest: specs/ppspp-tracker-alto.md §1.1-1.4). Wire
 * constants live in include/ppspp_wire.h; docs/wire-format.md is the prose version.
 *
 * Decoder: strict, bounds-checked, zero-copy. Decoded messages point into the caller's
 * buffer, which must outlive them. It never reads past buf + len. The first bad message fails
 * the whole datagram (RFC 7574 §3: drop the rest); the result names the reason and the byte
 * offset of the field that failed.
 *
 * Encoder: a bounded builder over a caller buffer. Every append either writes the whole
 * message or nothing and returns -ENOSPC when it does not fit. Anything the decoder accepts
 * the builder re-encodes to the same bytes, and the reverse.
 *
 * Context rule. Messages have no length field, so sizes come from a context (struct
 * ppspp_ctx) the caller gives: CAM 2 or 4, hash length 20 or 32, chunk size, signature
 * length. A HANDSHAKE, which must be the first message of its datagram, may announce the
 * context for the rest of that datagram: the decoder first decodes the whole option list,
 * then decodes the messages after it with
 *   CAM        = option 6 if present, else the caller's;
 *   hash_len   = the length of option 4's function if present, else the caller's;
 *   chunk_size = option 9 if present, else the caller's;
 *   sig_len    = always the caller's (for RSA it depends on the key, not on the wire).
 * The effective context is returned in ppspp_decode_result.ctx; adopting it for the channel
 * is the caller's decision, made after it has checked the handshake. The builder applies the
 * same rule when a handshake is closed (ppspp_builder_handshake_end).
 *
 * DATA has no length: its payload runs to the end of the datagram, so DATA is always the last
 * message. A payload of 0..chunk_size bytes is accepted (the decoder cannot know which chunk
 * is the short last one); longer is rejected as PPSPP_R_DATA_NOT_LAST, because the bytes past
 * one chunk can only be further messages, which the one-DATA-last rule forbids.
 */
#ifndef SUPERPEER_PPSPP_CODEC_H
#define SUPERPEER_PPSPP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ppspp_wire.h"

/* Decode failure reasons: enum ppspp_reason, the name table and (later) drop counters. */
#define PPSPP_REASONS(_)                                                                           \
	_(OK, "ok")                                                                                \
	_(BAD_CONTEXT, "context not supported (CAM 2/4, hash 20/32, chunk size > 0)")              \
	_(TRUNCATED, "truncated")                                                                  \
	_(LENGTH_OVERRUN, "length field runs past datagram end")                                   \
	_(UNKNOWN_MSG_TYPE, "unknown message type")                                                \
	_(TOO_MANY_MSGS, "too many messages for the caller's array")                               \
	_(HANDSHAKE_NOT_FIRST, "handshake not first message")                                      \
	_(DATA_NOT_LAST, "data not last (bytes past one chunk)")                                   \
	_(BAD_RANGE, "bad chunk range (end < start)")                                              \
	_(NO_SIG_LEN, "signed integrity without a signature length in context")                    \
	_(BAD_CERT_LEN, "zero-length membership certificate")                                      \
	_(UNKNOWN_OPTION, "unknown handshake option")                                              \
	_(OPTIONS_OUT_OF_ORDER, "handshake options out of order or repeated")                      \
	_(BAD_VERSION, "bad version (0)")                                                          \
	_(BAD_SWARM_ID_LEN, "bad swarm ID length (0)")                                             \
	_(BAD_CIPM, "bad content integrity protection method")                                     \
	_(BAD_HASH_FUNC, "unknown merkle hash function")                                           \
	_(UNSUPPORTED_HASH_FUNC, "merkle hash function not supported (SHA-1/SHA-256 only)")        \
	_(BAD_CAM, "bad chunk addressing method in handshake")                                     \
	_(UNSUPPORTED_CAM, "chunk addressing method not supported (2/4 only)")                     \
	_(BAD_SUPPORTED_MSGS_LEN, "bad supported messages length (1..32)")                         \
	_(BAD_CHUNK_SIZE, "bad chunk size (0)")

enum ppspp_reason {
#define PPSPP_REASON_ENUM(name, text) PPSPP_R_##name,
	PPSPP_REASONS(PPSPP_REASON_ENUM)
#undef PPSPP_REASON_ENUM
		PPSPP_R_COUNT,
};

/* Caller-supplied context; see the context rule above. */
struct ppspp_ctx {
	uint8_t cam;	     /* PPSPP_CAM_CHUNK32 or PPSPP_CAM_CHUNK64 */
	uint8_t hash_len;    /* 20 (SHA-1) or 32 (SHA-256) */
	uint16_t sig_len;    /* SIGNED_INTEGRITY signature bytes; 0 = refuse the message */
	uint32_t chunk_size; /* >= 1, or PPSPP_CHUNK_SIZE_VARIABLE (no payload limit) */
};

/* An inclusive chunk range; for CAM 2 both ends fit 32 bits. */
struct ppspp_range {
	uint64_t start;
	uint64_t end;
};

/* HANDSHAKE: `present` has bit (1u << code) set for each option carried. */
struct ppspp_handshake {
	uint32_t src_channel; /* PPSPP_CHANNEL_CLOSE (0) closes the channel */
	uint32_t present;
	uint8_t version;
	uint8_t min_version;
	uint8_t cipm;
	uint8_t mhf;
	uint8_t live_sig_alg;
	uint8_t cam;
	uint8_t supported_msgs_len;
	uint16_t swarm_id_len;
	const uint8_t *swarm_id;
	const uint8_t *supported_msgs; /* bitmap, MSB of byte 0 = type 0 */
	uint64_t live_discard_window;  /* 32 or 64 bits wide per the effective CAM */
	uint32_t chunk_size;
};

static inline bool ppspp_handshake_has(const struct ppspp_handshake *hs, enum ppspp_opt opt)
{
	return (hs->present >> opt) & 1;
}

/*
 * One decoded message; the union member is chosen by `type`. Pointers go into the datagram.
 * Hash bytes are ctx.hash_len long, signature bytes ctx.sig_len (the effective context).
 */
struct ppspp_msg {
	uint8_t type;  /* enum ppspp_msg_type */
	size_t offset; /* of the type byte within the datagram */
	union {
		struct ppspp_handshake handshake;
		struct {
			struct ppspp_range range;
			uint64_t timestamp; /* sender clock, us */
			const uint8_t *payload;
			size_t payload_len; /* 0..chunk_size */
		} data;
		struct {
			struct ppspp_range range;
			uint64_t delay; /* one-way delay, us */
		} ack;
		struct ppspp_range range; /* HAVE, REQUEST, CANCEL */
		struct {
			struct ppspp_range range;
			const uint8_t *hash;
		} integrity;
		struct {
			struct ppspp_range range;
			uint64_t ntp_timestamp;
			const uint8_t *sig;
		} signed_integrity;
		struct {
			const uint8_t *addr; /* 4 bytes (v4) or 16 bytes (v6), network order */
			uint16_t port;
		} pex;
		struct {
			const uint8_t *der;
			uint16_t der_len; /* >= 1 */
		} cert;
	} u;
};

struct ppspp_decode_result {
	uint32_t dest_channel;
	enum ppspp_reason reason; /* PPSPP_R_OK on success */
	size_t offset;		  /* failing field's offset; the datagram length on success */
	struct ppspp_ctx ctx;	  /* effective context (after any handshake options) */
};

/* Human-readable name of a reason; "?" when out of range. */
const char *ppspp_reason_name(enum ppspp_reason reason);

/* 0 when the codec can work with ctx, else -EINVAL. */
int ppspp_ctx_check(const struct ppspp_ctx *ctx);

/*
 * The context for the messages after handshake hs: base overridden by options 4, 6 and 9 as
 * the context rule says. Returns 0, or -EINVAL if hs announces a CAM or hash function the
 * codec does not run (the decoder has already refused those).
 */
int ppspp_ctx_from_handshake(
	const struct ppspp_ctx *base, const struct ppspp_handshake *hs, struct ppspp_ctx *out);

/* Digest length of a Merkle hash function code, 0 when unknown. */
unsigned ppspp_mhf_hash_len(unsigned mhf);

/*
 * Decodes the datagram buf[0..len) under ctx into msgs[0..max_msgs).
 * Returns the message count (0 for a keep-alive), or
 *   -EINVAL  ctx not supported (reason BAD_CONTEXT) or NULL arguments,
 *   -ENOBUFS more messages than max_msgs (reason TOO_MANY_MSGS),
 *   -EBADMSG malformed datagram (any other reason).
 * res (required) gets the destination channel, the reason, the offset and the effective ctx.
 * On failure msgs[] holds the messages decoded before the failure, which the caller should
 * not act on (RFC 7574 §3: drop the datagram).
 */
int ppspp_datagram_decode(const struct ppspp_ctx *ctx, const uint8_t *buf, size_t len,
	struct ppspp_msg *msgs, size_t max_msgs, struct ppspp_decode_result *res);

/* ---- encoder ------------------------------------------------------------------------ */

struct ppspp_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	struct ppspp_ctx ctx;	   /* effective context for the next message */
	struct ppspp_handshake hs; /* options of the open handshake */
	int last_opt;		   /* last option code written, -1 = none yet */
	bool in_handshake;	   /* options open: only options or _handshake_end allowed */
	bool sealed;		   /* DATA written: nothing may follow */
	bool any_msg;		   /* a message was written: HANDSHAKE no longer allowed */
};

/*
 * Starts a datagram to dest_channel in buf[0..cap). Returns 0, -EINVAL (bad ctx), -ENOSPC.
 * Every append below returns 0, -ENOSPC (does not fit; nothing written), or -EINVAL (a value
 * the wire cannot carry, an order violation, or a message after DATA; nothing written).
 */
int ppspp_builder_init(struct ppspp_builder *b, const struct ppspp_ctx *ctx, uint8_t *buf,
	size_t cap, uint32_t dest_channel);

/* HANDSHAKE: begin, options in ascending code order, end (writes 0xFF, applies the ctx). */
int ppspp_builder_handshake_begin(struct ppspp_builder *b, uint32_t src_channel);
int ppspp_builder_append_opt_version(struct ppspp_builder *b, uint8_t version);
int ppspp_builder_append_opt_min_version(struct ppspp_builder *b, uint8_t version);
int ppspp_builder_append_opt_swarm_id(struct ppspp_builder *b, const uint8_t *id, size_t len);
int ppspp_builder_append_opt_cipm(struct ppspp_builder *b, uint8_t cipm);
int ppspp_builder_append_opt_mhf(struct ppspp_builder *b, uint8_t mhf);
int ppspp_builder_append_opt_live_sig_alg(struct ppspp_builder *b, uint8_t alg);
int ppspp_builder_append_opt_cam(struct ppspp_builder *b, uint8_t cam);
/* Width follows the CAM in effect (option 6 of this handshake, else the builder's ctx). */
int ppspp_builder_append_opt_live_discard_window(struct ppspp_builder *b, uint64_t window);
int ppspp_builder_append_opt_supported_msgs(
	struct ppspp_builder *b, const uint8_t *bitmap, size_t len);
int ppspp_builder_append_opt_chunk_size(struct ppspp_builder *b, uint32_t chunk_size);
int ppspp_builder_handshake_end(struct ppspp_builder *b);
/* A whole handshake from a decoded struct: every option whose bit is in hs->present. */
int ppspp_builder_append_handshake(struct ppspp_builder *b, const struct ppspp_handshake *hs);

int ppspp_builder_append_data(struct ppspp_builder *b, struct ppspp_range r, uint64_t timestamp,
	const uint8_t *payload, size_t payload_len);
/*
 * DATA whose payload_len bytes the caller puts at the end of the datagram itself (straight
 * from the store, or encrypted into place): the header is written and the bytes counted,
 * not touched. The datagram's last payload_len bytes are then the caller's to fill.
 */
int ppspp_builder_append_data_hdr(
	struct ppspp_builder *b, struct ppspp_range r, uint64_t timestamp, size_t payload_len);
int ppspp_builder_append_ack(struct ppspp_builder *b, struct ppspp_range r, uint64_t delay);
int ppspp_builder_append_have(struct ppspp_builder *b, struct ppspp_range r);
/* hash: ctx.hash_len bytes. */
int ppspp_builder_append_integrity(
	struct ppspp_builder *b, struct ppspp_range r, const uint8_t *hash);
int ppspp_builder_append_pex_resv4(
	struct ppspp_builder *b, const uint8_t addr[static 4], uint16_t port);
int ppspp_builder_append_pex_req(struct ppspp_builder *b);
/* sig: ctx.sig_len bytes (must be > 0). */
int ppspp_builder_append_signed_integrity(
	struct ppspp_builder *b, struct ppspp_range r, uint64_t ntp_timestamp, const uint8_t *sig);
int ppspp_builder_append_request(struct ppspp_builder *b, struct ppspp_range r);
int ppspp_builder_append_cancel(struct ppspp_builder *b, struct ppspp_range r);
int ppspp_builder_append_choke(struct ppspp_builder *b);
int ppspp_builder_append_unchoke(struct ppspp_builder *b);
int ppspp_builder_append_pex_resv6(
	struct ppspp_builder *b, const uint8_t addr[static 16], uint16_t port);
int ppspp_builder_append_pex_rescert(struct ppspp_builder *b, const uint8_t *der, size_t der_len);

/* Appends any decoded message (dispatch on m->type); used to re-encode for round trips. */
int ppspp_builder_append_msg(struct ppspp_builder *b, const struct ppspp_msg *m);

/* Datagram length, or -EINVAL while a handshake's option list is still open. */
int ppspp_builder_finish(const struct ppspp_builder *b);

#endif
