/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SHA-1 and SHA-256 on ipsec-mb's job API.
 *
 * Bursts go to the bulk (multi-buffer) manager, single hashes to the SSE manager: a lone job
 * on the AVX-512 manager costs all 16 lanes, and IMB_SHA256() is slow on every manager in 1.3
 * (performance-anchors.md, traps 1 and 2). IMB_SUBMIT_HASH_BURST() refuses plain SHA in 1.3
 * (trap 3), so the job API is used.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

size_t hash_len(enum hash_alg alg)
{
	switch (alg) {
	case HASH_SHA1:
		return HASH_SHA1_LEN;
	case HASH_SHA256:
		return HASH_SHA256_LEN;
	}
	return 0;
}

const char *hash_name(enum hash_alg alg)
{
	switch (alg) {
	case HASH_SHA1:
		return "sha1";
	case HASH_SHA256:
		return "sha256";
	}
	return NULL;
}

int hash_from_name(const char *name, enum hash_alg *alg)
{
	if (strcmp(name, "sha256") == 0 || strcmp(name, "sha-256") == 0)
		*alg = HASH_SHA256;
	else if (strcmp(name, "sha1") == 0 || strcmp(name, "sha-1") == 0)
		*alg = HASH_SHA1;
	else
		return -EINVAL;
	return 0;
}

static IMB_HASH_ALG hash_imb_alg(enum hash_alg alg)
{
	switch (alg) {
	case HASH_SHA1:
		return IMB_AUTH_SHA_1;
	case HASH_SHA256:
		return IMB_AUTH_SHA_256;
	}
	abort(); /* an impossible algorithm is a programming error */
}

/* A job that ipsec-mb reports as failed can only mean a bad job layout: abort loudly. */
static void hash_job_check(IMB_MGR *mgr, const IMB_JOB *job)
{
	if (job->status != IMB_STATUS_COMPLETED)
		abort();
	(void)mgr;
}

static void hash_run(IMB_MGR *mgr, IMB_HASH_ALG ialg, uint32_t out_len, struct hash_op *ops,
		     unsigned n)
{
	IMB_JOB *job;

	for (unsigned i = 0; i < n; i++) {
		job = IMB_GET_NEXT_JOB(mgr);
		job->cipher_mode = IMB_CIPHER_NULL;
		job->cipher_direction = IMB_DIR_ENCRYPT;
		job->chain_order = IMB_ORDER_HASH_CIPHER;
		job->hash_alg = ialg;
		job->src = ops[i].src;
		job->dst = NULL;
		job->msg_len_to_cipher_in_bytes = 0;
		job->cipher_start_src_offset_in_bytes = 0;
		job->hash_start_src_offset_in_bytes = 0;
		job->msg_len_to_hash_in_bytes = ops[i].len;
		job->auth_tag_output = ops[i].out;
		job->auth_tag_output_len_in_bytes = out_len;
		job->user_data = &ops[i];
		job = IMB_SUBMIT_JOB(mgr);
		while (job != NULL) {
			hash_job_check(mgr, job);
			job = IMB_GET_COMPLETED_JOB(mgr);
		}
	}
	while ((job = IMB_FLUSH_JOB(mgr)) != NULL)
		hash_job_check(mgr, job);
}

void hash_oneshot(struct crypto_engine *e, enum hash_alg alg, const void *data, size_t len,
		  uint8_t *out)
{
	struct hash_op op = { .src = data, .out = out, .len = (uint32_t)len };

	if (len > UINT32_MAX)
		abort();
	hash_run(e->lone, hash_imb_alg(alg), (uint32_t)hash_len(alg), &op, 1);
}

void hash_burst(struct crypto_engine *e, enum hash_alg alg, struct hash_op *ops, unsigned n)
{
	hash_run(e->bulk, hash_imb_alg(alg), (uint32_t)hash_len(alg), ops, n);
}
