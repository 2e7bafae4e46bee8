/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every case of Wycheproof's aes_gcm_test.json through every AES-GCM path of crypto/aead.c.
 *
 * Categories (each case falls in exactly one, checked in this order):
 *   key refused  keySize not 128/256 (192): aead_key_init must return -EINVAL.
 *   iv refused   ivSize not 96: seal and open with the vector's IV length return -EINVAL and
 *                leave the output untouched.
 *   tag refused  tagSize not 128: the same with the vector's tag length.
 *   aad refused  AAD longer than AEAD_AAD_MAX (1024): no Wycheproof case has one (the
 *                longest is 513 bytes), so one valid case is re-run with a longer AAD:
 *                -EINVAL from the single-shot calls, status -EINVAL from the burst calls.
 *   applicable   key 128/256, IV 96, tag 128, AAD <= AEAD_AAD_MAX: seal single-shot and burst,
 *                in place and out of place, must reproduce ct and tag for a valid case; open
 *                the same four ways must return 0 and the message for a valid case, and
 *                -EBADMSG with a zeroed output for an invalid one. For an invalid case, seal
 *                must not reproduce the vector (ct or tag differ).
 * "acceptable" results: Wycheproof uses them for inputs a library may legitimately accept or
 * reject (short or long IVs and the like). Our API rejects every non-profile size, so an
 * acceptable case outside the profile lands in a "refused" category; one inside the profile
 * is a correct GCM computation and must behave as valid. Their count is printed.
 * Finally all applicable cases run as one mixed seal burst and one mixed open burst (both key
 * sizes, valid and invalid, more ops than one internal chunk) to exercise the user_data
 * mapping of out-of-order completions.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto.h"
#include "check.h"
#include "vec.h"

struct gcm_case {
	unsigned tc_id;
	unsigned key_bits, iv_bits, tag_bits;
	bool expect_ok;
	uint8_t *key, *iv, *aad, *msg, *ct, *tag;
	size_t key_len, iv_len, aad_len, msg_len, ct_len, tag_len;
	struct aead_key *akey;
};

struct gcm_counts {
	unsigned total, valid, invalid, acceptable;
	unsigned applicable_valid, applicable_invalid;
	unsigned key_refused, iv_refused, tag_refused, aad_refused;
};

static struct crypto_engine eng;

static uint8_t *dup_buf(const uint8_t *p, size_t len)
{
	uint8_t *q = malloc(len + 1);

	if (q == NULL)
		abort();
	memcpy(q, p, len);
	return q;
}

static uint8_t *fill_buf(int v, size_t len)
{
	uint8_t *q = malloc(len + 1);

	if (q == NULL)
		abort();
	memset(q, v, len + 1);
	return q;
}

/* Checks one sealing result against the vector. */
static void check_sealed(const struct gcm_case *c, const char *path, int rc, const uint8_t *ct,
			 const uint8_t *tag)
{
	CHECKF(rc == 0, "tc %u %s: seal rc %d", c->tc_id, path, rc);
	if (c->expect_ok) {
		CHECKF(memcmp(ct, c->ct, c->msg_len) == 0, "tc %u %s: ct", c->tc_id, path);
		CHECKF(memcmp(tag, c->tag, AEAD_TAG_LEN) == 0, "tc %u %s: tag", c->tc_id, path);
	} else {
		CHECKF(memcmp(ct, c->ct, c->msg_len) != 0 ||
			       memcmp(tag, c->tag, AEAD_TAG_LEN) != 0,
		       "tc %u %s: seal reproduced an invalid vector", c->tc_id, path);
	}
}

/* Checks one opening result against the vector. */
static void check_opened(const struct gcm_case *c, const char *path, int rc, const uint8_t *pt)
{
	if (c->expect_ok) {
		CHECKF(rc == 0, "tc %u %s: open rc %d", c->tc_id, path, rc);
		CHECKF(memcmp(pt, c->msg, c->msg_len) == 0, "tc %u %s: plaintext", c->tc_id, path);
	} else {
		CHECKF(rc == -EBADMSG, "tc %u %s: open rc %d", c->tc_id, path, rc);
		CHECKF(vec_all_zero(pt, c->msg_len), "tc %u %s: output not wiped", c->tc_id, path);
	}
}

static void run_single(const struct gcm_case *c)
{
	uint8_t tag[AEAD_TAG_LEN];
	uint8_t *buf;
	int rc;

	/* seal, out of place */
	buf = fill_buf(0xa5, c->msg_len);
	rc = aead_seal(&eng, c->akey, c->iv, c->iv_len, c->aad, c->aad_len, c->msg, buf,
		       c->msg_len, tag, sizeof(tag));
	check_sealed(c, "single seal out-of-place", rc, buf, tag);
	free(buf);

	/* seal, in place */
	buf = dup_buf(c->msg, c->msg_len);
	rc = aead_seal(&eng, c->akey, c->iv, c->iv_len, c->aad, c->aad_len, buf, buf, c->msg_len,
		       tag, sizeof(tag));
	check_sealed(c, "single seal in-place", rc, buf, tag);
	free(buf);

	/* open, out of place */
	buf = fill_buf(0xa5, c->msg_len);
	rc = aead_open(&eng, c->akey, c->iv, c->iv_len, c->aad, c->aad_len, c->ct, buf,
		       c->msg_len, c->tag, c->tag_len);
	check_opened(c, "single open out-of-place", rc, buf);
	free(buf);

	/* open, in place */
	buf = dup_buf(c->ct, c->msg_len);
	rc = aead_open(&eng, c->akey, c->iv, c->iv_len, c->aad, c->aad_len, buf, buf, c->msg_len,
		       c->tag, c->tag_len);
	check_opened(c, "single open in-place", rc, buf);
	free(buf);
}

static void op_set(struct aead_op *op, const struct gcm_case *c, const uint8_t *src, uint8_t *dst,
		   uint8_t *tag)
{
	*op = (struct aead_op){
		.key = c->akey,
		.iv = c->iv,
		.aad = c->aad,
		.src = src,
		.dst = dst,
		.tag = tag,
		.len = (uint32_t)c->msg_len,
		.aad_len = (uint16_t)c->aad_len,
		.status = 1, /* neither 0 nor an errno: proves the burst wrote it */
	};
}

static void run_burst(const struct gcm_case *c)
{
	uint8_t tag_oop[AEAD_TAG_LEN], tag_ip[AEAD_TAG_LEN], rtag_oop[AEAD_TAG_LEN];
	uint8_t rtag_ip[AEAD_TAG_LEN];
	uint8_t *oop = fill_buf(0xa5, c->msg_len), *ip = dup_buf(c->msg, c->msg_len);
	struct aead_op ops[2];
	unsigned ok;

	op_set(&ops[0], c, c->msg, oop, tag_oop);
	op_set(&ops[1], c, ip, ip, tag_ip);
	ok = aead_seal_burst(&eng, ops, 2);
	CHECKF(ok == 2, "tc %u: seal burst ok %u", c->tc_id, ok);
	check_sealed(c, "burst seal out-of-place", ops[0].status, oop, tag_oop);
	check_sealed(c, "burst seal in-place", ops[1].status, ip, tag_ip);
	free(oop);
	free(ip);

	oop = fill_buf(0xa5, c->msg_len);
	ip = dup_buf(c->ct, c->msg_len);
	memcpy(rtag_oop, c->tag, AEAD_TAG_LEN);
	memcpy(rtag_ip, c->tag, AEAD_TAG_LEN);
	op_set(&ops[0], c, c->ct, oop, rtag_oop);
	op_set(&ops[1], c, ip, ip, rtag_ip);
	ok = aead_open_burst(&eng, ops, 2);
	CHECKF(ok == (c->expect_ok ? 2u : 0u), "tc %u: open burst ok %u", c->tc_id, ok);
	check_opened(c, "burst open out-of-place", ops[0].status, oop);
	check_opened(c, "burst open in-place", ops[1].status, ip);
	free(oop);
	free(ip);
}

/* All applicable cases as one seal burst and one open burst, in place. */
static void run_mixed_burst(struct gcm_case **cases, unsigned n)
{
	struct aead_op *ops = calloc(n + 1, sizeof(*ops));
	uint8_t (*tags)[AEAD_TAG_LEN] = calloc(n + 1, AEAD_TAG_LEN);
	uint8_t **bufs = calloc(n + 1, sizeof(*bufs));
	unsigned ok, want = 0;

	if (ops == NULL || tags == NULL || bufs == NULL)
		abort();
	for (unsigned i = 0; i < n; i++) {
		bufs[i] = dup_buf(cases[i]->msg, cases[i]->msg_len);
		op_set(&ops[i], cases[i], bufs[i], bufs[i], tags[i]);
	}
	ok = aead_seal_burst(&eng, ops, n);
	CHECKF(ok == n, "mixed seal burst: %u of %u", ok, n);
	for (unsigned i = 0; i < n; i++) {
		check_sealed(cases[i], "mixed seal burst", ops[i].status, bufs[i], tags[i]);
		free(bufs[i]);
	}

	for (unsigned i = 0; i < n; i++) {
		bufs[i] = dup_buf(cases[i]->ct, cases[i]->msg_len);
		memcpy(tags[i], cases[i]->tag, AEAD_TAG_LEN);
		op_set(&ops[i], cases[i], bufs[i], bufs[i], tags[i]);
		want += cases[i]->expect_ok;
	}
	ok = aead_open_burst(&eng, ops, n);
	CHECKF(ok == want, "mixed open burst: %u ok, want %u", ok, want);
	for (unsigned i = 0; i < n; i++) {
		check_opened(cases[i], "mixed open burst", ops[i].status, bufs[i]);
		free(bufs[i]);
	}
	printf("mixed bursts: %u ops (%u expected to open)\n", n, want);
	free(ops);
	free(tags);
	free(bufs);
}

/* Sizes outside the profile: the calls return -EINVAL and write nothing. */
static void run_refused_sizes(const struct gcm_case *c)
{
	uint8_t tag[AEAD_TAG_LEN + 16];
	uint8_t *buf = fill_buf(0xa5, c->msg_len);
	size_t tag_len = c->tag_bits / 8;
	int rc;

	memset(tag, 0x5a, sizeof(tag));
	rc = aead_seal(&eng, c->akey, c->iv, c->iv_len, c->aad, c->aad_len, c->msg, buf,
		       c->msg_len, tag, tag_len);
	CHECKF(rc == -EINVAL, "tc %u: seal with iv %zu tag %zu: rc %d", c->tc_id, c->iv_len,
	       tag_len, rc);
	CHECKF(vec_all_equal(buf, 0xa5, c->msg_len), "tc %u: refused seal wrote output", c->tc_id);
	CHECKF(vec_all_equal(tag, 0x5a, sizeof(tag)), "tc %u: refused seal wrote a tag", c->tc_id);
	rc = aead_open(&eng, c->akey, c->iv, c->iv_len, c->aad, c->aad_len, c->ct, buf,
		       c->msg_len, c->tag, c->tag_len);
	CHECKF(rc == -EINVAL, "tc %u: open with iv %zu tag %zu: rc %d", c->tc_id, c->iv_len,
	       c->tag_len, rc);
	CHECKF(vec_all_equal(buf, 0xa5, c->msg_len), "tc %u: refused open wrote output", c->tc_id);
	free(buf);
}

/* AAD longer than AEAD_AAD_MAX: refused by every path. */
static void run_refused_aad(const struct gcm_case *c)
{
	uint8_t tag[AEAD_TAG_LEN];
	uint8_t *buf = fill_buf(0xa5, c->msg_len);
	struct aead_op op;
	unsigned ok;
	int rc;

	rc = aead_seal(&eng, c->akey, c->iv, c->iv_len, c->aad, c->aad_len, c->msg, buf,
		       c->msg_len, tag, sizeof(tag));
	CHECKF(rc == -EINVAL, "tc %u: seal with aad %zu: rc %d", c->tc_id, c->aad_len, rc);
	rc = aead_open(&eng, c->akey, c->iv, c->iv_len, c->aad, c->aad_len, c->ct, buf,
		       c->msg_len, c->tag, c->tag_len);
	CHECKF(rc == -EINVAL, "tc %u: open with aad %zu: rc %d", c->tc_id, c->aad_len, rc);
	op_set(&op, c, c->msg, buf, tag);
	ok = aead_seal_burst(&eng, &op, 1);
	CHECKF(ok == 0 && op.status == -EINVAL, "tc %u: seal burst aad %zu: %u/%d", c->tc_id,
	       c->aad_len, ok, op.status);
	memcpy(tag, c->tag, AEAD_TAG_LEN);
	op_set(&op, c, c->ct, buf, tag);
	ok = aead_open_burst(&eng, &op, 1);
	CHECKF(ok == 0 && op.status == -EINVAL, "tc %u: open burst aad %zu: %u/%d", c->tc_id,
	       c->aad_len, ok, op.status);
	CHECKF(vec_all_equal(buf, 0xa5, c->msg_len), "tc %u: refused call wrote output", c->tc_id);
	free(buf);
}

static void case_free(struct gcm_case *c)
{
	if (c->akey != NULL) {
		aead_key_wipe(c->akey);
		free(c->akey);
	}
	free(c->key);
	free(c->iv);
	free(c->aad);
	free(c->msg);
	free(c->ct);
	free(c->tag);
	free(c);
}

int main(void)
{
	struct gcm_counts n = { 0 };
	struct gcm_case **applicable = NULL, **all = NULL;
	unsigned n_app = 0, n_all = 0;
	json_t *root, *groups, *group, *tests, *t;
	size_t gi, ti;
	long declared;

	if (crypto_engine_init(&eng) != 0) {
		fprintf(stderr, "no AES-NI: cannot run ipsec-mb\n");
		return 77;
	}
	printf("ipsec-mb bulk arch: %s\n", crypto_engine_arch_name(&eng));
	root = vec_load("wycheproof/aes_gcm_test.json");
	CHECK(root != NULL);
	if (root == NULL)
		goto out;
	declared = (long)json_integer_value(json_object_get(root, "numberOfTests"));
	groups = json_object_get(root, "testGroups");
	CHECK(json_array_size(groups) > 0);
	json_array_foreach(groups, gi, group) {
		unsigned key_bits = (unsigned)json_integer_value(json_object_get(group, "keySize"));
		unsigned iv_bits = (unsigned)json_integer_value(json_object_get(group, "ivSize"));
		unsigned tag_bits = (unsigned)json_integer_value(json_object_get(group, "tagSize"));

		tests = json_object_get(group, "tests");
		json_array_foreach(tests, ti, t) {
			struct gcm_case *c = calloc(1, sizeof(*c));
			const char *result = json_string_value(json_object_get(t, "result"));
			int rc;

			if (c == NULL || result == NULL)
				abort();
			c->tc_id = (unsigned)json_integer_value(json_object_get(t, "tcId"));
			c->key_bits = key_bits;
			c->iv_bits = iv_bits;
			c->tag_bits = tag_bits;
			c->key = vec_hex(t, "key", &c->key_len);
			c->iv = vec_hex(t, "iv", &c->iv_len);
			c->aad = vec_hex(t, "aad", &c->aad_len);
			c->msg = vec_hex(t, "msg", &c->msg_len);
			c->ct = vec_hex(t, "ct", &c->ct_len);
			c->tag = vec_hex(t, "tag", &c->tag_len);
			CHECKF(c->ct_len == c->msg_len && c->key_len * 8 == key_bits &&
				       c->iv_len * 8 == iv_bits && c->tag_len * 8 == tag_bits,
			       "tc %u: vector lengths disagree with the group", c->tc_id);
			n.total++;
			if (strcmp(result, "valid") == 0) {
				n.valid++;
				c->expect_ok = true;
			} else if (strcmp(result, "acceptable") == 0) {
				n.acceptable++;
				c->expect_ok = true;
			} else {
				CHECKF(strcmp(result, "invalid") == 0, "tc %u: result %s", c->tc_id,
				       result);
				n.invalid++;
			}
			all = realloc(all, (n_all + 1) * sizeof(*all));
			if (all == NULL)
				abort();
			all[n_all++] = c;

			c->akey = aligned_alloc(64, sizeof(*c->akey));
			if (c->akey == NULL)
				abort();
			memset(c->akey, 0, sizeof(*c->akey));
			rc = aead_key_init(&eng, c->akey, c->key, c->key_len);
			if (key_bits != 128 && key_bits != 256) {
				CHECKF(rc == -EINVAL, "tc %u: key of %u bits: rc %d", c->tc_id,
				       key_bits, rc);
				n.key_refused++;
				continue;
			}
			CHECKF(rc == 0, "tc %u: key init rc %d", c->tc_id, rc);
			if (rc != 0)
				continue;
			if (iv_bits != 96 || tag_bits != 128) {
				run_refused_sizes(c);
				if (iv_bits != 96)
					n.iv_refused++;
				else
					n.tag_refused++;
				continue;
			}
			if (c->aad_len > AEAD_AAD_MAX) {
				run_refused_aad(c);
				n.aad_refused++;
				continue;
			}
			if (c->expect_ok)
				n.applicable_valid++;
			else
				n.applicable_invalid++;
			run_single(c);
			run_burst(c);
			applicable = realloc(applicable, (n_app + 1) * sizeof(*applicable));
			if (applicable == NULL)
				abort();
			applicable[n_app++] = c;
		}
	}
	if (n_app > 0) {
		run_mixed_burst(applicable, n_app);
		/* No Wycheproof AAD exceeds the cap: take a valid case and lengthen its AAD. */
		struct gcm_case big = *applicable[0];
		uint8_t *aad = calloc(1, AEAD_AAD_MAX + 1);

		if (aad == NULL)
			abort();
		big.aad = aad;
		big.aad_len = AEAD_AAD_MAX + 1;
		run_refused_aad(&big);
		n.aad_refused++;
		free(aad);
	}

	CHECKF(declared == (long)n.total, "numberOfTests %ld, ran %u", declared, n.total);
	CHECK(n.total == n.applicable_valid + n.applicable_invalid + n.key_refused + n.iv_refused +
				 n.tag_refused);
	CHECK(n.aad_refused == 1);
	/* Guards against a vector file that silently lost its content. */
	CHECK(n.applicable_valid > 0 && n.applicable_invalid > 0);
	printf("wycheproof aes_gcm: %u cases (%u valid, %u invalid, %u acceptable)\n", n.total,
	       n.valid, n.invalid, n.acceptable);
	printf("  applicable (128/256-bit key, 96-bit iv, 128-bit tag, aad <= %d): %u valid, "
	       "%u invalid; each through single-shot and burst, in place and out of place\n",
	       AEAD_AAD_MAX, n.applicable_valid, n.applicable_invalid);
	printf("  refused -EINVAL: key size %u, iv size %u, tag size %u; plus one case with "
	       "aad of %d bytes\n", n.key_refused, n.iv_refused, n.tag_refused, AEAD_AAD_MAX + 1);
	json_decref(root);
out:
	for (unsigned i = 0; i < n_all; i++)
		case_free(all[i]);
	free(all);
	free(applicable);
	crypto_engine_fini(&eng);
	return check_exit();
}
