/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bench_shim.h"
#include "crypto.h"

struct bench_ctx {
	struct crypto_engine eng;
	struct aead_key key;
	uint8_t raw_key[32];
	unsigned key_len;
	size_t size;
	unsigned nbuf;
	uint8_t iv[AEAD_IV_LEN];
	uint8_t aad[8];
	uint8_t *buf[BENCH_BURST_MAX];	/* plaintext, sealed in place */
	uint8_t *ct[BENCH_BURST_MAX];	/* a valid ciphertext, opened out of place */
	uint8_t *out[BENCH_BURST_MAX];
	uint8_t tag[BENCH_BURST_MAX][AEAD_TAG_LEN];
	uint8_t ct_tag[BENCH_BURST_MAX][AEAD_TAG_LEN];
	uint8_t digest[BENCH_BURST_MAX][HASH_MAX_LEN];
	struct aead_op seal_ops[BENCH_BURST_MAX];
	struct aead_op open_ops[BENCH_BURST_MAX];
	struct hash_op hash_ops[BENCH_BURST_MAX];
	EVP_CIPHER_CTX *ossl_gcm;
	EVP_MD_CTX *ossl_md;
	const EVP_CIPHER *ossl_cipher;
	const EVP_MD *ossl_sha256;
};

struct bench_ctx *bench_ctx_new(size_t size, unsigned nbuf, unsigned key_len)
{
	struct bench_ctx *c;

	if (nbuf == 0 || nbuf > BENCH_BURST_MAX)
		return NULL;
	if (posix_memalign((void **)&c, 64, sizeof(*c)) != 0)
		return NULL;
	memset(c, 0, sizeof(*c));
	if (crypto_engine_init(&c->eng) != 0)
		goto fail;
	c->size = size;
	c->nbuf = nbuf;
	c->key_len = key_len;
	crypto_random(c->raw_key, sizeof(c->raw_key));
	crypto_random(c->iv, sizeof(c->iv));
	crypto_random(c->aad, sizeof(c->aad));
	if (aead_key_init(&c->eng, &c->key, c->raw_key, key_len) != 0)
		goto fail;
	for (unsigned i = 0; i < nbuf; i++) {
		/* +1 so a zero size still gets a valid pointer */
		c->buf[i] = aligned_alloc(64, (size + 64) & ~(size_t)63);
		c->ct[i] = aligned_alloc(64, (size + 64) & ~(size_t)63);
		c->out[i] = aligned_alloc(64, (size + 64) & ~(size_t)63);
		if (c->buf[i] == NULL || c->ct[i] == NULL || c->out[i] == NULL)
			goto fail;
		crypto_random(c->buf[i], size);
		if (aead_seal(&c->eng, &c->key, c->iv, AEAD_IV_LEN, c->aad, sizeof(c->aad),
			      c->buf[i], c->ct[i], size, c->ct_tag[i], AEAD_TAG_LEN) != 0)
			goto fail;
		c->seal_ops[i] = (struct aead_op){ .key = &c->key, .iv = c->iv, .aad = c->aad,
						   .src = c->buf[i], .dst = c->buf[i],
						   .tag = c->tag[i], .len = (uint32_t)size,
						   .aad_len = sizeof(c->aad) };
		c->open_ops[i] = (struct aead_op){ .key = &c->key, .iv = c->iv, .aad = c->aad,
						   .src = c->ct[i], .dst = c->out[i],
						   .tag = c->ct_tag[i], .len = (uint32_t)size,
						   .aad_len = sizeof(c->aad) };
		c->hash_ops[i] = (struct hash_op){ .src = c->buf[i], .out = c->digest[i],
						   .len = (uint32_t)size };
	}
	c->ossl_gcm = EVP_CIPHER_CTX_new();
	c->ossl_md = EVP_MD_CTX_new();
	c->ossl_cipher = EVP_CIPHER_fetch(NULL, key_len == 16 ? "AES-128-GCM" : "AES-256-GCM", NULL);
	c->ossl_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (c->ossl_gcm == NULL || c->ossl_md == NULL || c->ossl_cipher == NULL ||
	    c->ossl_sha256 == NULL)
		goto fail;
	return c;
fail:
	bench_ctx_free(c);
	return NULL;
}

void bench_ctx_free(struct bench_ctx *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < BENCH_BURST_MAX; i++) {
		free(c->buf[i]);
		free(c->ct[i]);
		free(c->out[i]);
	}
	EVP_CIPHER_CTX_free(c->ossl_gcm);
	EVP_MD_CTX_free(c->ossl_md);
	EVP_CIPHER_free((EVP_CIPHER *)c->ossl_cipher);
	EVP_MD_free((EVP_MD *)c->ossl_sha256);
	aead_key_wipe(&c->key);
	crypto_wipe(c->raw_key, sizeof(c->raw_key));
	crypto_engine_fini(&c->eng);
	free(c);
}

const char *bench_ctx_arch(const struct bench_ctx *c)
{
	return crypto_engine_arch_name(&c->eng);
}

int bench_aead_seal_one(struct bench_ctx *c)
{
	return aead_seal(&c->eng, &c->key, c->iv, AEAD_IV_LEN, c->aad, sizeof(c->aad), c->buf[0],
			 c->buf[0], c->size, c->tag[0], AEAD_TAG_LEN);
}

int bench_aead_open_one(struct bench_ctx *c)
{
	return aead_open(&c->eng, &c->key, c->iv, AEAD_IV_LEN, c->aad, sizeof(c->aad), c->ct[0],
			 c->out[0], c->size, c->ct_tag[0], AEAD_TAG_LEN);
}

int bench_aead_seal_burst(struct bench_ctx *c)
{
	return aead_seal_burst(&c->eng, c->seal_ops, c->nbuf) == c->nbuf ? 0 : -EIO;
}

int bench_aead_open_burst(struct bench_ctx *c)
{
	return aead_open_burst(&c->eng, c->open_ops, c->nbuf) == c->nbuf ? 0 : -EIO;
}

void bench_sha256_one(struct bench_ctx *c)
{
	hash_oneshot(&c->eng, HASH_SHA256, c->buf[0], c->size, c->digest[0]);
}

void bench_sha256_burst(struct bench_ctx *c)
{
	hash_burst(&c->eng, HASH_SHA256, c->hash_ops, c->nbuf);
}

/* What an OpenSSL user does per record: init with the IV, AAD, update, final, get tag. */
int bench_ossl_gcm_seal_one(struct bench_ctx *c)
{
	int n;

	if (EVP_EncryptInit_ex2(c->ossl_gcm, c->ossl_cipher, c->raw_key, c->iv, NULL) != 1 ||
	    EVP_EncryptUpdate(c->ossl_gcm, NULL, &n, c->aad, sizeof(c->aad)) != 1 ||
	    EVP_EncryptUpdate(c->ossl_gcm, c->buf[0], &n, c->buf[0], (int)c->size) != 1 ||
	    EVP_EncryptFinal_ex(c->ossl_gcm, c->buf[0] + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c->ossl_gcm, EVP_CTRL_GCM_GET_TAG, AEAD_TAG_LEN, c->tag[0]) != 1)
		return -EIO;
	return 0;
}

void bench_ossl_sha256_one(struct bench_ctx *c)
{
	unsigned int n;

	EVP_DigestInit_ex2(c->ossl_md, c->ossl_sha256, NULL);
	EVP_DigestUpdate(c->ossl_md, c->buf[0], c->size);
	EVP_DigestFinal_ex(c->ossl_md, c->digest[0], &n);
}
