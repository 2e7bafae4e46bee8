/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SHA-1 and SHA-256 of crypto/hash.c (ipsec-mb) against OpenSSL:
 *   - the FIPS 180 "abc" and empty-string digests;
 *   - hash_oneshot for every length 0..9000;
 *   - hash_burst for bursts of 1..40 jobs of mixed lengths (0..9000), repeated, plus one
 *     burst of every length 0..9000 at once;
 *   - the name/length helpers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto.h"
#include "check.h"
#include "vec.h"

enum { MAX_LEN = 9000, BURST_MAX = 40, BURST_ROUNDS = 8 };

static struct crypto_engine eng;

static void ossl_digest(enum hash_alg alg, const uint8_t *p, size_t len, uint8_t *out)
{
	unsigned n = 0;
	int rc = EVP_Digest(p, len, out, &n, alg == HASH_SHA1 ? EVP_sha1() : EVP_sha256(), NULL);

	if (rc != 1 || n != hash_len(alg))
		abort();
}

static void check_known(void)
{
	static const struct {
		enum hash_alg alg;
		const char *msg;
		const char *hex;
	} kat[] = {
		{ HASH_SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
		{ HASH_SHA1, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
		{ HASH_SHA1, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
		{ HASH_SHA256, "abc",
		  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ HASH_SHA256, "",
		  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ HASH_SHA256, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};

	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		uint8_t want[HASH_MAX_LEN], got[HASH_MAX_LEN];
		size_t n = hash_len(kat[i].alg);
		struct hash_op op = { .src = kat[i].msg, .out = got,
				      .len = (uint32_t)strlen(kat[i].msg) };

		CHECK(check_unhex(kat[i].hex, want, sizeof(want)) == (long)n);
		memset(got, 0, sizeof(got));
		hash_oneshot(&eng, kat[i].alg, kat[i].msg, strlen(kat[i].msg), got);
		CHECKF(memcmp(got, want, n) == 0, "oneshot %s(\"%s\")", hash_name(kat[i].alg),
		       kat[i].msg);
		memset(got, 0, sizeof(got));
		hash_burst(&eng, kat[i].alg, &op, 1);
		CHECKF(memcmp(got, want, n) == 0, "burst %s(\"%s\")", hash_name(kat[i].alg),
		       kat[i].msg);
		if (kat[i].msg[0] != '\0')
			continue;
		/* An empty message may come as NULL. */
		memset(got, 0, sizeof(got));
		hash_oneshot(&eng, kat[i].alg, NULL, 0, got);
		CHECKF(memcmp(got, want, n) == 0, "oneshot %s(NULL, 0)", hash_name(kat[i].alg));
		op.src = NULL;
		memset(got, 0, sizeof(got));
		hash_burst(&eng, kat[i].alg, &op, 1);
		CHECKF(memcmp(got, want, n) == 0, "burst %s(NULL, 0)", hash_name(kat[i].alg));
	}
}

static void check_helpers(void)
{
	enum hash_alg alg = HASH_SHA1;

	CHECK(hash_len(HASH_SHA1) == 20 && hash_len(HASH_SHA256) == 32);
	CHECK(hash_len((enum hash_alg)1) == 0);
	CHECK(strcmp(hash_name(HASH_SHA1), "sha1") == 0);
	CHECK(strcmp(hash_name(HASH_SHA256), "sha256") == 0);
	CHECK(hash_name((enum hash_alg)7) == NULL);
	CHECK(hash_from_name("sha256", &alg) == 0 && alg == HASH_SHA256);
	CHECK(hash_from_name("sha1", &alg) == 0 && alg == HASH_SHA1);
	CHECK(hash_from_name("md5", &alg) == -EINVAL);
}

static unsigned n_oneshot, n_burst_jobs, n_bursts;

/* Every length 0..MAX_LEN through hash_oneshot; each input is its own exact-size buffer. */
static void check_oneshot(enum hash_alg alg, const uint8_t *data)
{
	size_t n = hash_len(alg);

	for (size_t len = 0; len <= MAX_LEN; len++) {
		uint8_t want[HASH_MAX_LEN], got[HASH_MAX_LEN];
		uint8_t *buf = malloc(len + !len);

		if (buf == NULL)
			abort();
		memcpy(buf, data, len);
		ossl_digest(alg, buf, len, want);
		memset(got, 0, sizeof(got));
		hash_oneshot(&eng, alg, buf, len, got);
		CHECKF(memcmp(got, want, n) == 0, "oneshot %s len %zu", hash_name(alg), len);
		n_oneshot++;
		free(buf);
	}
}

static void check_burst(enum hash_alg alg, const uint8_t *data, struct hash_op *ops,
			const size_t *lens, unsigned count)
{
	size_t n = hash_len(alg);
	uint8_t *outs = calloc(count, HASH_MAX_LEN);
	uint8_t want[HASH_MAX_LEN];

	if (outs == NULL)
		abort();
	for (unsigned i = 0; i < count; i++) {
		/* Different start offsets, so each job hashes different bytes. */
		ops[i] = (struct hash_op){ .src = data + (i * 7) % 64,
					   .out = outs + i * HASH_MAX_LEN,
					   .len = (uint32_t)lens[i] };
	}
	hash_burst(&eng, alg, ops, count);
	for (unsigned i = 0; i < count; i++) {
		ossl_digest(alg, data + (i * 7) % 64, lens[i], want);
		CHECKF(memcmp(outs + i * HASH_MAX_LEN, want, n) == 0, "burst %s job %u/%u len %zu",
		       hash_name(alg), i, count, lens[i]);
	}
	n_burst_jobs += count;
	n_bursts++;
	free(outs);
}

int main(void)
{
	uint64_t rs = vec_seed();
	static const enum hash_alg algs[] = { HASH_SHA1, HASH_SHA256 };
	struct hash_op *ops = calloc(MAX_LEN + 1, sizeof(*ops));
	size_t *lens = calloc(MAX_LEN + 1, sizeof(*lens));
	uint8_t *data = malloc(MAX_LEN + 64);

	if (ops == NULL || lens == NULL || data == NULL)
		abort();
	if (crypto_engine_init(&eng) != 0) {
		fprintf(stderr, "no AES-NI: cannot run ipsec-mb\n");
		free(ops);
		free(lens);
		free(data);
		return 77;
	}
	CHECK(crypto_random(data, MAX_LEN + 64) == 0);
	check_helpers();
	check_known();
	for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
		check_oneshot(algs[a], data);
		for (unsigned round = 0; round < BURST_ROUNDS; round++) {
			for (unsigned count = 1; count <= BURST_MAX; count++) {
				for (unsigned i = 0; i < count; i++)
					lens[i] = vec_rand(&rs) % (MAX_LEN + 1);
				/* Force the edges in: an empty job and a full-size one. */
				if (round == 0 && count > 1) {
					lens[0] = 0;
					lens[count - 1] = MAX_LEN;
				}
				check_burst(algs[a], data, ops, lens, count);
			}
		}
		for (unsigned i = 0; i <= MAX_LEN; i++)
			lens[i] = i;
		check_burst(algs[a], data, ops, lens, MAX_LEN + 1);
	}
	printf("hash: %u oneshot digests, %u bursts with %u jobs (sha1 and sha256)\n", n_oneshot,
	       n_bursts, n_burst_jobs);
	free(ops);
	free(lens);
	free(data);
	crypto_engine_fini(&eng);
	return check_exit();
}
