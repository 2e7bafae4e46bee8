/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Vector-file helpers shared by the crypto tests: load a JSON file from SUPERPEER_VECTORS and
 * decode its hex fields into heap buffers, so ASan sees every read past a field's end.
 */
#ifndef SUPERPEER_TESTS_CRYPTO_VEC_H
#define SUPERPEER_TESTS_CRYPTO_VEC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"

/* The parsed file, or NULL after a message on stderr (the caller fails the test). */
static inline json_t *vec_load(const char *name)
{
	char path[1024];
	json_error_t err;
	json_t *root;

	check_vector_path(name, path, sizeof(path));
	root = json_load_file(path, 0, &err);
	if (root == NULL)
		fprintf(stderr, "%s:%d: %s\n", path, err.line, err.text);
	return root;
}

/*
 * Decodes the hex string obj[field] into a fresh heap buffer of exactly its length (at least
 * one byte is allocated so an empty field still has a valid pointer). Aborts on a malformed
 * file: a broken vector file must not pass silently.
 */
static inline uint8_t *vec_hex(const json_t *obj, const char *field, size_t *len)
{
	const char *hex = json_string_value(json_object_get(obj, field));
	uint8_t *buf;
	long n;

	if (hex == NULL) {
		fprintf(stderr, "vector field \"%s\" missing\n", field);
		abort();
	}
	buf = malloc(strlen(hex) / 2 + 1);
	if (buf == NULL)
		abort();
	n = check_unhex(hex, buf, strlen(hex) / 2 + 1);
	if (n < 0) {
		fprintf(stderr, "vector field \"%s\" is not hex\n", field);
		abort();
	}
	*len = (size_t)n;
	return buf;
}

/* Decodes obj[field] into a fixed-size array; false when the length differs. */
static inline bool vec_hex_fixed(const json_t *obj, const char *field, uint8_t *out, size_t len)
{
	size_t n;
	uint8_t *buf = vec_hex(obj, field, &n);
	bool ok = n == len;

	if (ok)
		memcpy(out, buf, len);
	free(buf);
	return ok;
}

static inline bool vec_all_equal(const uint8_t *p, uint8_t v, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != v)
			return false;
	}
	return true;
}

static inline bool vec_all_zero(const uint8_t *p, size_t len)
{
	return vec_all_equal(p, 0, len);
}

/* xorshift64*: a reproducible stream for sizes and positions (not for keys). */
static inline uint64_t vec_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* The seed from SUPERPEER_TEST_SEED, or a fixed one, printed so a failure can be replayed. */
static inline uint64_t vec_seed(void)
{
	const char *s = getenv("SUPERPEER_TEST_SEED");
	uint64_t seed = s != NULL ? strtoull(s, NULL, 0) : 0x5eed5eedcafef00dULL;

	if (seed == 0)
		seed = 1;
	printf("seed 0x%llx (set SUPERPEER_TEST_SEED to replay)\n", (unsigned long long)seed);
	return seed;
}

#endif
