/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SHA-1 and SHA-256 on ipsec-mb's job API.
 *
 * Bursts go to the bulk (multi-buffer) manager through the job API (IMB_SUBMIT_HASH_BURST()
 * refuses plain SHA in 1.3: performance-anchors.md, trap 3). Single hashes go to OpenSSL: a
 * lone job costs all 16 lanes on the AVX-512 manager (trap 1), IMB_SHA256() is slow everywhere
 * (trap 2), and a lone job on the SSE manager measured 1.4-1.6x slower than OpenSSL's SHA-NI
 * code on our machines (docs/performance.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

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

/* ipsec-mb refuses a NULL source even for an empty message; an empty input may be NULL. */
static const uint8_t hash_empty[1];

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
		job->src = ops[i].len == 0 && ops[i].src == NULL ? hash_empty : ops[i].src;
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
	EVP_MD *md = alg == HASH_SHA256 ? e->md_sha256 : alg == HASH_SHA1 ? e->md_sha1 : NULL;
	unsigned int n;

	/* Only a broken engine or an impossible algorithm can fail here: abort loudly. */
	if (md == NULL || EVP_DigestInit_ex(e->md_ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(e->md_ctx, data == NULL ? hash_empty : data, len) != 1 ||
	    EVP_DigestFinal_ex(e->md_ctx, out, &n) != 1 || n != hash_len(alg))
		abort();
}

void hash_burst(struct crypto_engine *e, enum hash_alg alg, struct hash_op *ops, unsigned n)
{
	hash_run(e->bulk, hash_imb_alg(alg), (uint32_t)hash_len(alg), ops, n);
}
