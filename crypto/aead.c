/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AES-GCM (RFC 4106 profile) on ipsec-mb: per packet.
 *
 * Single packets use the direct GCM API, which is about 30 ns cheaper per buffer than the job
 * API (performance-anchors.md, A.2). Bursts use the job API so a caller can hand over a
 * receive burst as is. They submit with IMB_SUBMIT_JOB_NOCHECK: aead_op_valid() has already
 * checked everything ipsec-mb's checks would (key length, pointers, AAD; IV and tag lengths
 * are fixed; len is 32-bit, far below the GCM limit), and the checked submit cost 12 ns more
 * per packet (42 vs 30 ns at 64 B, 96 vs 85 ns at 1 KiB; bench_crypto, avx512 manager). Every key
 * is expanded on the bulk manager and used only there: the layout of struct gcm_key_data depends on
 * the architecture that filled it (VAES keeps the GHASH powers in another order than AES-NI), so a
 * key must never cross managers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

/*
 * Open bursts run in chunks with a flush at the end of each, so a chunk's scratch tags can
 * live on the stack and no job is still in flight when they go out of scope. GCM jobs finish
 * inside submit in ipsec-mb 1.3, so the flush costs nothing.
 */
enum { AEAD_BURST_CHUNK = 64 };

/*
 * NIST SP 800-38D: at most 2^39 - 256 bits of plaintext per IV. ipsec-mb 1.3 compares the
 * byte length against 2^39 - 256 (bits taken for bytes), so the real limit is ours to keep.
 */
#define AEAD_LEN_MAX ((UINT64_C(1) << 36) - 32)

/* Target of ipsec-mb pointers when the caller passes NULL for an empty buffer. */
static const uint8_t aead_empty[16];

int aead_key_init(struct crypto_engine *e, struct aead_key *k, const uint8_t *key, size_t key_len)
{
	if (e == NULL || e->bulk == NULL || k == NULL || key == NULL)
		abort();
	switch (key_len) {
	case AEAD_KEY_LEN_128:
		IMB_AES128_GCM_PRE(e->bulk, key, &k->gkd);
		break;
	case AEAD_KEY_LEN_256:
		IMB_AES256_GCM_PRE(e->bulk, key, &k->gkd);
		break;
	default:
		return -EINVAL;
	}
	k->key_len = (uint32_t)key_len;
	return 0;
}

void aead_key_wipe(struct aead_key *k)
{
	crypto_wipe(k, sizeof(*k));
}

static int aead_args_check(const struct aead_key *k, size_t iv_len, const uint8_t *aad,
	size_t aad_len, size_t len, size_t tag_len)
{
	if ((uint64_t)len > AEAD_LEN_MAX)
		return -EINVAL;
	if (iv_len != AEAD_IV_LEN || tag_len != AEAD_TAG_LEN || aad_len > AEAD_AAD_MAX)
		return -EINVAL;
	if (aad == NULL && aad_len > 0)
		return -EINVAL;
	if (k->key_len != AEAD_KEY_LEN_128 && k->key_len != AEAD_KEY_LEN_256)
		return -EINVAL;
	return 0;
}

int aead_seal(struct crypto_engine *e, const struct aead_key *k, const uint8_t *iv, size_t iv_len,
	const uint8_t *aad, size_t aad_len, const uint8_t *src, uint8_t *dst, size_t len,
	uint8_t *tag, size_t tag_len)
{
	struct gcm_context_data ctx;
	int ret;

	ret = aead_args_check(k, iv_len, aad, aad_len, len, tag_len);
	if (ret != 0)
		return ret;
	/* ipsec-mb's parameter checks refuse NULL buffers even when they are empty. */
	if (aad == NULL)
		aad = aead_empty;
	if (len == 0) {
		src = aead_empty;
		dst = (uint8_t *)aead_empty; /* never written: the length is 0 */
	}
	if (k->key_len == AEAD_KEY_LEN_128)
		IMB_AES128_GCM_ENC(
			e->bulk, &k->gkd, &ctx, dst, src, len, iv, aad, aad_len, tag, tag_len);
	else
		IMB_AES256_GCM_ENC(
			e->bulk, &k->gkd, &ctx, dst, src, len, iv, aad, aad_len, tag, tag_len);
	/* The context holds E_K(J0) and the GHASH state: key-dependent material. */
	crypto_wipe(&ctx, sizeof(ctx));
	/*
	 * The direct API returns nothing; ipsec-mb's parameter checks (a NULL pointer, say)
	 * leave their verdict in the manager's errno.
	 */
	if (imb_get_errno(e->bulk) != 0) {
		crypto_wipe(tag, tag_len);
		return -EINVAL;
	}
	return 0;
}

int aead_open(struct crypto_engine *e, const struct aead_key *k, const uint8_t *iv, size_t iv_len,
	const uint8_t *aad, size_t aad_len, const uint8_t *src, uint8_t *dst, size_t len,
	const uint8_t *tag, size_t tag_len)
{
	struct gcm_context_data ctx;
	uint8_t calc[AEAD_TAG_LEN];
	uint8_t *out = dst;
	int ret;

	ret = aead_args_check(k, iv_len, aad, aad_len, len, tag_len);
	if (ret != 0)
		return ret;
	if (tag == NULL)
		return -EINVAL;
	if (aad == NULL)
		aad = aead_empty;
	if (len == 0) {
		src = aead_empty;
		out = (uint8_t *)aead_empty; /* never written: the length is 0 */
	}
	if (k->key_len == AEAD_KEY_LEN_128)
		IMB_AES128_GCM_DEC(e->bulk, &k->gkd, &ctx, out, src, len, iv, aad, aad_len, calc,
			sizeof(calc));
	else
		IMB_AES256_GCM_DEC(e->bulk, &k->gkd, &ctx, out, src, len, iv, aad, aad_len, calc,
			sizeof(calc));
	crypto_wipe(&ctx, sizeof(ctx));
	if (imb_get_errno(e->bulk) != 0) {
		/* Refused by ipsec-mb's parameter checks (see aead_seal): nothing trustworthy. */
		if (len > 0)
			crypto_wipe(dst, len);
		ret = -EINVAL;
	} else if (!crypto_ct_equal(calc, tag, AEAD_TAG_LEN)) {
		/* Unauthenticated plaintext must never reach the caller. */
		if (len > 0)
			crypto_wipe(dst, len);
		ret = -EBADMSG;
	}
	crypto_wipe(calc, sizeof(calc));
	return ret;
}

/* Total bytes of a gathered op. */
static uint64_t aead_segs_len(const struct aead_op *op)
{
	uint64_t n = 0;

	for (unsigned k = 0; k < op->n_segs; k++)
		n += op->segs[k].len;
	return n;
}

/* Wipes every output byte of op (a failed open). */
static void aead_op_wipe_out(const struct aead_op *op)
{
	if (op->n_segs == 0) {
		if (op->len > 0)
			crypto_wipe(op->dst, op->len);
		return;
	}
	for (unsigned k = 0; k < op->n_segs; k++)
		crypto_wipe(op->segs[k].out, op->segs[k].len);
}

/*
 * Fills the job for one op; tag_out is where ipsec-mb writes the computed tag; ctx the GCM
 * context a gathered op runs in (one per op in flight).
 */
static void aead_job_fill(
	IMB_JOB *job, struct aead_op *op, uint8_t *tag_out, bool seal, struct gcm_context_data *ctx)
{
	job->enc_keys = &op->key->gkd;
	job->dec_keys = &op->key->gkd;
	job->key_len_in_bytes = op->key->key_len;
	job->cipher_mode = IMB_CIPHER_GCM;
	job->hash_alg = IMB_AUTH_AES_GMAC;
	if (seal) {
		job->cipher_direction = IMB_DIR_ENCRYPT;
		job->chain_order = IMB_ORDER_CIPHER_HASH;
	} else {
		job->cipher_direction = IMB_DIR_DECRYPT;
		job->chain_order = IMB_ORDER_HASH_CIPHER;
	}
	/* ipsec-mb's job checks refuse NULL buffers even for an empty message. */
	if (op->len == 0) {
		job->src = aead_empty;
		job->dst = (uint8_t *)aead_empty; /* never written: the length is 0 */
	} else {
		job->src = op->src;
		job->dst = op->dst;
	}
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = op->len;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = op->len;
	job->iv = op->iv;
	job->iv_len_in_bytes = AEAD_IV_LEN;
	job->u.GCM.aad = op->aad_len > 0 ? (const void *)op->aad : (const void *)aead_empty;
	job->u.GCM.aad_len_in_bytes = op->aad_len;
	job->auth_tag_output = tag_out;
	job->auth_tag_output_len_in_bytes = AEAD_TAG_LEN;
	job->user_data = op;
	if (op->n_segs > 0) {
		/* IMB_SGL_ALL: the whole message from a segment list in one job. */
		uint64_t len = aead_segs_len(op);

		job->cipher_mode = IMB_CIPHER_GCM_SGL;
		job->hash_alg = IMB_AUTH_GCM_SGL;
		job->sgl_state = IMB_SGL_ALL;
		job->sgl_io_segs = op->segs;
		job->num_sgl_io_segs = op->n_segs;
		job->msg_len_to_cipher_in_bytes = len;
		job->msg_len_to_hash_in_bytes = len;
		job->u.GCM.ctx = ctx;
	}
}

static bool aead_op_valid(const struct aead_op *op)
{
	if (op->key == NULL || op->iv == NULL || op->tag == NULL)
		return false;
	if (op->key->key_len != AEAD_KEY_LEN_128 && op->key->key_len != AEAD_KEY_LEN_256)
		return false;
	if (op->aad_len > AEAD_AAD_MAX || (op->aad_len > 0 && op->aad == NULL))
		return false;
	if (op->n_segs > 0) {
		if (op->n_segs > AEAD_SEGS_MAX || op->segs == NULL)
			return false;
		for (unsigned k = 0; k < op->n_segs; k++)
			if (op->segs[k].in == NULL || op->segs[k].out == NULL ||
				op->segs[k].len > AEAD_LEN_MAX)
				return false;
		return aead_segs_len(op) <= AEAD_LEN_MAX;
	}
	if (op->len > 0 && (op->src == NULL || op->dst == NULL))
		return false;
	return true;
}

/*
 * Settles one job that ipsec-mb handed back. Jobs can come back out of submission order,
 * so the op is found through user_data; scratch is the chunk's tag array, indexed by the
 * op's position in the chunk.
 */
static void aead_job_done(
	IMB_JOB *job, struct aead_op *first, uint8_t (*scratch)[AEAD_TAG_LEN], bool seal)
{
	struct aead_op *op = job->user_data;
	uint8_t *calc;

	if (job->status != IMB_STATUS_COMPLETED) {
		op->status = -EINVAL;
		if (!seal)
			aead_op_wipe_out(op);
		return;
	}
	if (seal) {
		op->status = 0;
		return;
	}
	calc = scratch[op - first];
	if (crypto_ct_equal(calc, op->tag, AEAD_TAG_LEN)) {
		op->status = 0;
	} else {
		aead_op_wipe_out(op);
		op->status = -EBADMSG;
	}
	crypto_wipe(calc, AEAD_TAG_LEN);
}

static void aead_burst_chunk(IMB_MGR *mgr, struct aead_op *ops, unsigned n, bool seal)
{
	uint8_t scratch[AEAD_BURST_CHUNK][AEAD_TAG_LEN];
	/* Contexts of gathered ops, in use order; they hold GHASH state and E_K(J0). */
	struct gcm_context_data ctx[AEAD_BURST_CHUNK];
	unsigned n_ctx = 0;
	IMB_JOB *job;

	for (unsigned i = 0; i < n; i++) {
		struct aead_op *op = &ops[i];

		/* Stays -EINVAL unless ipsec-mb hands the job back completed. */
		op->status = -EINVAL;
		if (!aead_op_valid(op))
			continue;
		job = IMB_GET_NEXT_JOB(mgr);
		aead_job_fill(job, op, seal ? op->tag : scratch[i], seal,
			op->n_segs > 0 ? &ctx[n_ctx++] : NULL);
		job = IMB_SUBMIT_JOB_NOCHECK(mgr);
		while (job != NULL) {
			aead_job_done(job, ops, scratch, seal);
			job = IMB_GET_COMPLETED_JOB(mgr);
		}
	}
	while ((job = IMB_FLUSH_JOB(mgr)) != NULL)
		aead_job_done(job, ops, scratch, seal);
	if (n_ctx > 0)
		crypto_wipe(ctx, n_ctx * sizeof(ctx[0]));
}

static unsigned aead_burst(struct crypto_engine *e, struct aead_op *ops, unsigned n, bool seal)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i += AEAD_BURST_CHUNK) {
		unsigned m = n - i < AEAD_BURST_CHUNK ? n - i : AEAD_BURST_CHUNK;

		aead_burst_chunk(e->bulk, ops + i, m, seal);
	}
	for (unsigned i = 0; i < n; i++)
		ok += ops[i].status == 0;
	return ok;
}

unsigned aead_seal_burst(struct crypto_engine *e, struct aead_op *ops, unsigned n)
{
	return aead_burst(e, ops, n, true);
}

unsigned aead_open_burst(struct crypto_engine *e, struct aead_op *ops, unsigned n)
{
	return aead_burst(e, ops, n, false);
}
