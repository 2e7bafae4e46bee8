/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipsec-mb AES-GCM (crypto/aead.c) against OpenSSL EVP AES-GCM, for every plaintext length
 * from 0 to 9000 bytes and both key sizes, with fresh random key, IV and AAD (0..16 bytes)
 * each time:
 *   1. seal with aead_seal and with aead_seal_burst: both must agree, and OpenSSL must open
 *      the result to the plaintext;
 *   2. seal with OpenSSL, open with aead_open (out of place) and aead_open_burst (in place);
 *   3. flip one bit of the tag, the ciphertext or the AAD (rotating), then both open paths must
 *      return -EBADMSG and leave a zeroed output.
 * Gathered ops (aead_seg lists, ipsec-mb SGL, as ESP seals a chunk straight from the store)
 * run beside each: the message cut at 1 to 4 random places into pieces each in place or out of
 * place, sealed and opened in one burst op; the result must be the contiguous one's, and a
 * tampered gathered open must wipe every piece.
 * Sizes and bit positions come from a seeded generator (printed); keys from crypto_random.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto.h"
#include "check.h"
#include "vec.h"

enum { MAX_LEN = 9000, AAD_MAX_TEST = 16 };

static struct crypto_engine eng;
static EVP_CIPHER_CTX *octx;

static const EVP_CIPHER *ossl_cipher(size_t key_len)
{
	return key_len == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
}

static int ossl_seal(const uint8_t *key, size_t key_len, const uint8_t *iv, const uint8_t *aad,
	int aad_len, const uint8_t *pt, int len, uint8_t *ct, uint8_t *tag)
{
	int n = 0, m = 0;

	if (EVP_EncryptInit_ex(octx, ossl_cipher(key_len), NULL, key, iv) != 1)
		return -1;
	if (aad_len > 0 && EVP_EncryptUpdate(octx, NULL, &n, aad, aad_len) != 1)
		return -1;
	if (len > 0 && (EVP_EncryptUpdate(octx, ct, &n, pt, len) != 1 || n != len))
		return -1;
	if (EVP_EncryptFinal_ex(octx, ct + len, &m) != 1 || m != 0)
		return -1;
	return EVP_CIPHER_CTX_ctrl(octx, EVP_CTRL_GCM_GET_TAG, AEAD_TAG_LEN, tag) == 1 ? 0 : -1;
}

/* 0 when OpenSSL accepts the tag. */
static int ossl_open(const uint8_t *key, size_t key_len, const uint8_t *iv, const uint8_t *aad,
	int aad_len, const uint8_t *ct, int len, uint8_t *pt, const uint8_t *tag)
{
	int n = 0, m = 0;

	if (EVP_DecryptInit_ex(octx, ossl_cipher(key_len), NULL, key, iv) != 1)
		return -1;
	if (aad_len > 0 && EVP_DecryptUpdate(octx, NULL, &n, aad, aad_len) != 1)
		return -1;
	if (len > 0 && (EVP_DecryptUpdate(octx, pt, &n, ct, len) != 1 || n != len))
		return -1;
	if (EVP_CIPHER_CTX_ctrl(octx, EVP_CTRL_GCM_SET_TAG, AEAD_TAG_LEN, (void *)tag) != 1)
		return -1;
	return EVP_DecryptFinal_ex(octx, pt + len, &m) == 1 ? 0 : -1;
}

struct bufs {
	uint8_t key[32], iv[AEAD_IV_LEN], aad[AAD_MAX_TEST];
	uint8_t tag[AEAD_TAG_LEN], tag2[AEAD_TAG_LEN];
	uint8_t *pt, *ct, *ct2, *out;
};

static unsigned n_cases, n_tamper, n_gathered;

/*
 * Cuts [0, len) into 1..AEAD_SEGS_MAX pieces at random distinct places; each piece reads in
 * and writes out at the same offsets, in place (in's bytes copied to out first) or not.
 */
static uint8_t make_segs(aead_seg *sg, const uint8_t *in, uint8_t *out, size_t len, uint64_t *rs)
{
	size_t cut[AEAD_SEGS_MAX + 1];
	unsigned n = 1 + (unsigned)(vec_rand(rs) % AEAD_SEGS_MAX), k = 1;

	if (n > len)
		n = (unsigned)len;
	cut[0] = 0;
	while (k < n) {
		size_t c = 1 + vec_rand(rs) % (len - 1), j = k;

		for (unsigned i = 1; i < k; i++)
			if (cut[i] == c)
				j = 0;
		if (j == 0)
			continue;
		while (j > 1 && cut[j - 1] > c) { /* insertion sort */
			cut[j] = cut[j - 1];
			j--;
		}
		cut[j] = c;
		k++;
	}
	cut[n] = len;
	for (unsigned i = 0; i < n; i++) {
		size_t a = cut[i], l = cut[i + 1] - cut[i];

		if (vec_rand(rs) & 1) {
			memcpy(out + a, in + a, l);
			sg[i] = (aead_seg){out + a, out + a, l};
		} else {
			sg[i] = (aead_seg){in + a, out + a, l};
		}
	}
	return (uint8_t)n;
}

/*
 * One op through the burst API over in -> out with b's IV and AAD: sealed (tag written) or
 * opened (tag checked); contiguous, or (gather) len bytes cut in random pieces, *pieces of
 * them. Returns its status (-EIO when the burst's count disagrees with the status).
 */
static int burst_op(const struct aead_key *key, struct bufs *b, size_t aad_len, const uint8_t *in,
	uint8_t *out, uint8_t *tag, size_t len, bool seal, bool gather, uint64_t *rs,
	unsigned *pieces)
{
	aead_seg sg[AEAD_SEGS_MAX];
	struct aead_op op = {.key = key,
		.iv = b->iv,
		.aad = b->aad,
		.tag = tag,
		.aad_len = (uint16_t)aad_len,
		.status = 1};
	unsigned ok;

	if (gather) {
		op.segs = sg;
		op.n_segs = make_segs(sg, in, out, len, rs);
	} else {
		op.src = in;
		op.dst = out;
		op.len = (uint32_t)len;
	}
	ok = seal ? aead_seal_burst(&eng, &op, 1) : aead_open_burst(&eng, &op, 1);
	*pieces = op.n_segs;
	return (ok == 1) == (op.status == 0) ? op.status : -EIO;
}

static void one_case(struct bufs *b, size_t key_len, size_t len, uint64_t *rs)
{
	size_t aad_len = vec_rand(rs) % (AAD_MAX_TEST + 1);
	struct aead_key key __attribute__((aligned(64)));
	unsigned which, pieces;
	int rc;

	CHECK(crypto_random(b->key, key_len) == 0);
	CHECK(crypto_random(b->iv, sizeof(b->iv)) == 0);
	CHECK(crypto_random(b->aad, sizeof(b->aad)) == 0);
	/* Exactly len bytes each, so ASan flags any write past the end. */
	b->pt = malloc(len + !len);
	b->ct = malloc(len + !len);
	b->ct2 = malloc(len + !len);
	b->out = malloc(len + !len);
	if (b->pt == NULL || b->ct == NULL || b->ct2 == NULL || b->out == NULL)
		abort();
	CHECK(crypto_random(b->pt, len) == 0);
	rc = aead_key_init(&eng, &key, b->key, key_len);
	CHECK(rc == 0);
	n_cases++;

	/* 1. ipsec-mb seals (single and burst agree), OpenSSL opens. */
	rc = aead_seal(&eng, &key, b->iv, sizeof(b->iv), b->aad, aad_len, b->pt, b->ct, len, b->tag,
		sizeof(b->tag));
	CHECKF(rc == 0, "len %zu: seal rc %d", len, rc);
	rc = burst_op(&key, b, aad_len, b->pt, b->ct2, b->tag2, len, true, false, rs, &pieces);
	CHECKF(rc == 0, "len %zu: seal burst %d", len, rc);
	CHECKF(memcmp(b->ct, b->ct2, len) == 0 && memcmp(b->tag, b->tag2, AEAD_TAG_LEN) == 0,
		"len %zu: single and burst seal differ", len);
	memset(b->out, 0xa5, len);
	rc = ossl_open(
		b->key, key_len, b->iv, b->aad, (int)aad_len, b->ct, (int)len, b->out, b->tag);
	CHECKF(rc == 0 && memcmp(b->out, b->pt, len) == 0, "len %zu key %zu: OpenSSL open", len,
		key_len);

	/* 1b. Gathered seal: the same ciphertext and tag. */
	if (len > 0) {
		memset(b->ct2, 0xa5, len);
		memset(b->tag2, 0, sizeof(b->tag2));
		rc = burst_op(
			&key, b, aad_len, b->pt, b->ct2, b->tag2, len, true, true, rs, &pieces);
		CHECKF(rc == 0, "len %zu: gathered seal %d", len, rc);
		CHECKF(memcmp(b->ct, b->ct2, len) == 0 &&
				memcmp(b->tag, b->tag2, AEAD_TAG_LEN) == 0,
			"len %zu (%u pieces): gathered and contiguous seal differ", len, pieces);
		n_gathered++;
	}

	/* 2. OpenSSL seals, ipsec-mb opens single (out of place) and burst (in place). */
	CHECK(ossl_seal(b->key, key_len, b->iv, b->aad, (int)aad_len, b->pt, (int)len, b->ct,
		      b->tag) == 0);
	CHECKF(memcmp(b->ct, b->ct2, len) == 0 && memcmp(b->tag, b->tag2, AEAD_TAG_LEN) == 0,
		"len %zu: OpenSSL and ipsec-mb seal differ", len);
	memset(b->out, 0xa5, len);
	rc = aead_open(&eng, &key, b->iv, sizeof(b->iv), b->aad, aad_len, b->ct, b->out, len,
		b->tag, sizeof(b->tag));
	CHECKF(rc == 0 && memcmp(b->out, b->pt, len) == 0, "len %zu: open rc %d", len, rc);
	memcpy(b->ct2, b->ct, len);
	rc = burst_op(&key, b, aad_len, b->ct2, b->ct2, b->tag, len, false, false, rs, &pieces);
	CHECKF(rc == 0 && memcmp(b->ct2, b->pt, len) == 0, "len %zu: open burst %d", len, rc);
	if (len > 0) {
		memset(b->out, 0xa5, len);
		rc = burst_op(
			&key, b, aad_len, b->ct, b->out, b->tag, len, false, true, rs, &pieces);
		CHECKF(rc == 0 && memcmp(b->out, b->pt, len) == 0,
			"len %zu (%u pieces): gathered open %d", len, pieces, rc);
	}

	/* 3. One flipped bit in tag, ciphertext or AAD (whichever exists, rotating). */
	which = (unsigned)(len % 3);
	if (which == 1 && len == 0)
		which = 0;
	if (which == 2 && aad_len == 0)
		which = 0;
	switch (which) {
	case 0:
		b->tag[vec_rand(rs) % AEAD_TAG_LEN] ^= (uint8_t)(1u << (vec_rand(rs) % 8));
		break;
	case 1:
		b->ct[vec_rand(rs) % len] ^= (uint8_t)(1u << (vec_rand(rs) % 8));
		break;
	default:
		b->aad[vec_rand(rs) % aad_len] ^= (uint8_t)(1u << (vec_rand(rs) % 8));
		break;
	}
	n_tamper++;
	memset(b->out, 0xa5, len);
	rc = aead_open(&eng, &key, b->iv, sizeof(b->iv), b->aad, aad_len, b->ct, b->out, len,
		b->tag, sizeof(b->tag));
	CHECKF(rc == -EBADMSG, "len %zu tamper %u: open rc %d", len, which, rc);
	CHECKF(vec_all_zero(b->out, len), "len %zu tamper %u: output not wiped", len, which);
	memcpy(b->ct2, b->ct, len);
	rc = burst_op(&key, b, aad_len, b->ct2, b->ct2, b->tag, len, false, false, rs, &pieces);
	CHECKF(rc == -EBADMSG, "len %zu tamper %u: open burst %d", len, which, rc);
	CHECKF(vec_all_zero(b->ct2, len), "len %zu tamper %u: burst output not wiped", len, which);
	if (len > 0) {
		memset(b->out, 0xa5, len);
		rc = burst_op(
			&key, b, aad_len, b->ct, b->out, b->tag, len, false, true, rs, &pieces);
		CHECKF(rc == -EBADMSG, "len %zu tamper %u: gathered open %d", len, which, rc);
		CHECKF(vec_all_zero(b->out, len), "len %zu tamper %u: gathered output not wiped",
			len, which);
	}
	aead_key_wipe(&key);
	free(b->pt);
	free(b->ct);
	free(b->ct2);
	free(b->out);
}

/*
 * Argument checks that no vector reaches: a NULL AAD with a length, a NULL IV, and messages
 * beyond the GCM limit of 2^36 - 32 bytes (which ipsec-mb 1.3 does not enforce itself). The
 * buffers are small on purpose: a missing check would write far out of bounds and crash.
 */
static void check_limits(void)
{
	struct aead_key key __attribute__((aligned(64)));
	uint8_t k[32] = {1}, iv[AEAD_IV_LEN] = {2}, buf[32], tag[AEAD_TAG_LEN];
	size_t huge = sizeof(size_t) > 4 ? ((size_t)1 << 36) - 31 : 0;

	CHECK(aead_key_init(&eng, &key, k, 24) == -EINVAL);
	CHECK(aead_key_init(&eng, &key, k, 0) == -EINVAL);
	CHECK(aead_key_init(&eng, &key, k, AEAD_KEY_LEN_128) == 0);
	memset(buf, 0x11, sizeof(buf));
	CHECK(aead_seal(&eng, &key, iv, sizeof(iv), NULL, 8, buf, buf, 16, tag, sizeof(tag)) ==
		-EINVAL);
	CHECK(aead_open(&eng, &key, iv, sizeof(iv), NULL, 8, buf, buf, 16, tag, sizeof(tag)) ==
		-EINVAL);
	CHECK(aead_seal(&eng, &key, iv, sizeof(iv), NULL, 0, buf, buf, 16, tag, sizeof(tag)) == 0);
	CHECK(aead_open(&eng, &key, iv, sizeof(iv), NULL, 0, buf, buf, 16, tag, sizeof(tag)) == 0);
	CHECK(vec_all_equal(buf, 0x11, sizeof(buf)));
	CHECK(aead_seal(&eng, &key, iv, sizeof(iv), NULL, 0, NULL, NULL, 0, tag, sizeof(tag)) == 0);
	CHECK(aead_open(&eng, &key, iv, sizeof(iv), NULL, 0, NULL, NULL, 0, tag, sizeof(tag)) == 0);
	if (huge != 0) {
		CHECK(aead_seal(&eng, &key, iv, sizeof(iv), NULL, 0, buf, buf, huge, tag,
			      sizeof(tag)) == -EINVAL);
		CHECK(aead_open(&eng, &key, iv, sizeof(iv), NULL, 0, buf, buf, huge, tag,
			      sizeof(tag)) == -EINVAL);
	}
	CHECK(aead_seal(&eng, &key, NULL, sizeof(iv), NULL, 0, buf, buf, 16, tag, sizeof(tag)) ==
		-EINVAL);
	/* Gathered ops: too many pieces, or a piece without a buffer, are refused. */
	{
		aead_seg sg[AEAD_SEGS_MAX + 1];
		struct aead_op op = {.key = &key, .iv = iv, .tag = tag, .segs = sg};

		for (unsigned i = 0; i <= AEAD_SEGS_MAX; i++)
			sg[i] = (aead_seg){buf, buf, 4};
		op.n_segs = AEAD_SEGS_MAX + 1;
		CHECK(aead_seal_burst(&eng, &op, 1) == 0 && op.status == -EINVAL);
		op.n_segs = 2;
		sg[1].in = NULL;
		CHECK(aead_seal_burst(&eng, &op, 1) == 0 && op.status == -EINVAL);
		sg[1] = (aead_seg){buf + 4, NULL, 4};
		CHECK(aead_open_burst(&eng, &op, 1) == 0 && op.status == -EINVAL);
		op.segs = NULL;
		CHECK(aead_seal_burst(&eng, &op, 1) == 0 && op.status == -EINVAL);
	}
	aead_key_wipe(&key);
	CHECK(vec_all_zero((const uint8_t *)&key, sizeof(key)));
}

int main(void)
{
	uint64_t rs = vec_seed();
	struct bufs b;

	if (crypto_engine_init(&eng) != 0) {
		fprintf(stderr, "no AES-NI: cannot run ipsec-mb\n");
		return 77;
	}
	octx = EVP_CIPHER_CTX_new();
	if (octx == NULL)
		abort();
	check_limits();
	for (size_t len = 0; len <= MAX_LEN; len++) {
		one_case(&b, AEAD_KEY_LEN_128, len, &rs);
		one_case(&b, AEAD_KEY_LEN_256, len, &rs);
	}
	printf("crosscheck: %u cases (lengths 0..%d, 128- and 256-bit keys), %u tampered opens "
	       "(single, burst and gathered each), %u gathered seals and opens\n",
		n_cases, MAX_LEN, n_tamper, n_gathered);
	EVP_CIPHER_CTX_free(octx);
	crypto_engine_fini(&eng);
	return check_exit();
}
