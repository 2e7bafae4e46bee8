/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * crypto_hkdf_sha256 against every case of Wycheproof's hkdf_sha256_test.json. Valid cases
 * must reproduce okm (an empty salt is tried both as NULL and as an empty buffer); invalid
 * ones (output longer than 255 * 32) must return -EINVAL and write nothing. Plus the size
 * limits at their edges.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto.h"
#include "check.h"
#include "vec.h"

static unsigned n_valid, n_invalid, n_empty_salt;

static void run_case(const json_t *t)
{
	unsigned tc = (unsigned)json_integer_value(json_object_get(t, "tcId"));
	size_t size = (size_t)json_integer_value(json_object_get(t, "size"));
	const char *result = json_string_value(json_object_get(t, "result"));
	size_t ikm_len, salt_len, info_len, okm_len;
	uint8_t *ikm = vec_hex(t, "ikm", &ikm_len);
	uint8_t *salt = vec_hex(t, "salt", &salt_len);
	uint8_t *info = vec_hex(t, "info", &info_len);
	uint8_t *okm = vec_hex(t, "okm", &okm_len);
	uint8_t *out = malloc(size + !size);
	int rc;

	if (out == NULL || result == NULL)
		abort();
	memset(out, 0xa5, size);
	rc = crypto_hkdf_sha256(salt, salt_len, ikm, ikm_len, info, info_len, out, size);
	if (strcmp(result, "invalid") == 0) {
		n_invalid++;
		CHECKF(rc == -EINVAL, "tc %u: size %zu rc %d", tc, size, rc);
		CHECKF(vec_all_equal(out, 0xa5, size), "tc %u: refused call wrote output", tc);
	} else {
		n_valid++;
		CHECKF(okm_len == size, "tc %u: vector okm length", tc);
		CHECKF(rc == 0, "tc %u: rc %d", tc, rc);
		CHECKF(memcmp(out, okm, okm_len) == 0, "tc %u: okm", tc);
		if (salt_len == 0) {
			n_empty_salt++;
			memset(out, 0xa5, size);
			rc = crypto_hkdf_sha256(NULL, 0, ikm, ikm_len, info, info_len, out, size);
			CHECKF(rc == 0 && memcmp(out, okm, okm_len) == 0, "tc %u: NULL salt", tc);
		}
	}
	free(ikm);
	free(salt);
	free(info);
	free(okm);
	free(out);
}

static void check_limits(void)
{
	static const uint8_t ikm[22] = { 0x0b, 0x0b, 0x0b };
	uint8_t *out = malloc(255 * 32 + 1);

	if (out == NULL)
		abort();
	CHECK(crypto_hkdf_sha256(NULL, 0, ikm, sizeof(ikm), NULL, 0, out, 0) == -EINVAL);
	CHECK(crypto_hkdf_sha256(NULL, 0, ikm, sizeof(ikm), NULL, 0, out, 1) == 0);
	CHECK(crypto_hkdf_sha256(NULL, 0, ikm, sizeof(ikm), NULL, 0, out, 255 * 32) == 0);
	CHECK(crypto_hkdf_sha256(NULL, 0, ikm, sizeof(ikm), NULL, 0, out, 255 * 32 + 1) ==
	      -EINVAL);
	CHECK(crypto_hkdf_sha256(NULL, 0, ikm, sizeof(ikm), NULL, 0, out, SIZE_MAX) == -EINVAL);
	free(out);
}

/* RFC 5869 test case 3 (empty salt and info), independent of the Wycheproof file. */
static void check_rfc5869_tc3(void)
{
	uint8_t ikm[22], okm[42], out[42];

	memset(ikm, 0x0b, sizeof(ikm));
	CHECK(check_unhex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395"
			  "faa4b61a96c8",
			  okm, sizeof(okm)) == 42);
	CHECK(crypto_hkdf_sha256(NULL, 0, ikm, sizeof(ikm), NULL, 0, out, sizeof(out)) == 0);
	CHECK_MEM(out, okm, sizeof(okm));
}

/*
 * Empty input keying material, which no Wycheproof case has; expected values from Python's
 * hmac module (HKDF written out per RFC 5869 §2.2-2.3).
 */
static void check_empty_ikm(void)
{
	uint8_t want[32], out[32];

	CHECK(check_unhex("eb70f01dede9afafa449eee1b1286504e1f62388b3f7dd4f956697b0e828fe18", want,
			  sizeof(want)) == 32);
	memset(out, 0, sizeof(out));
	CHECK(crypto_hkdf_sha256(NULL, 0, NULL, 0, NULL, 0, out, sizeof(out)) == 0);
	CHECK_MEM(out, want, sizeof(want));
	CHECK(check_unhex("7aac7b8120501c2c8e1ee50e6cde135361e99ceb9d8d406ac528b9e9175614c0", want,
			  sizeof(want)) == 32);
	memset(out, 0, sizeof(out));
	CHECK(crypto_hkdf_sha256((const uint8_t *)"salt", 4, (const uint8_t *)"", 0,
				 (const uint8_t *)"info", 4, out, sizeof(out)) == 0);
	CHECK_MEM(out, want, sizeof(want));
}

int main(void)
{
	json_t *root = vec_load("wycheproof/hkdf_sha256_test.json");
	json_t *group, *t;
	size_t gi, ti;
	long declared;

	CHECK(root != NULL);
	if (root == NULL)
		return check_exit();
	declared = (long)json_integer_value(json_object_get(root, "numberOfTests"));
	json_array_foreach(json_object_get(root, "testGroups"), gi, group) {
		json_array_foreach(json_object_get(group, "tests"), ti, t)
			run_case(t);
	}
	json_decref(root);
	CHECKF(declared == (long)(n_valid + n_invalid), "numberOfTests %ld, ran %u", declared,
	       n_valid + n_invalid);
	CHECK(n_valid > 0 && n_invalid > 0);
	check_limits();
	check_rfc5869_tc3();
	check_empty_ikm();
	printf("wycheproof hkdf_sha256: %u valid (%u with empty salt, also run as NULL), "
	       "%u invalid refused\n",
	       n_valid, n_empty_salt, n_invalid);
	return check_exit();
}
