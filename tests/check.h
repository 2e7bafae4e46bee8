/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The small assert header of the test suite: CHECK() records a failure with file and line
 * and goes on, so one run lists every broken case; check_exit() turns the tally into the
 * exit status meson test reads (0 pass, 1 fail, 77 skip).
 */
#ifndef SUPERPEER_TESTS_CHECK_H
#define SUPERPEER_TESTS_CHECK_H

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned check_failures;
static unsigned check_count;

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		check_count++;                                                               \
		if (!(cond)) {                                                               \
			check_failures++;                                                    \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,     \
				#cond);                                                      \
		}                                                                            \
	} while (0)

#define CHECKF(cond, ...)                                                                    \
	do {                                                                                 \
		check_count++;                                                               \
		if (!(cond)) {                                                               \
			check_failures++;                                                    \
			fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__,     \
				#cond);                                                      \
			fprintf(stderr, __VA_ARGS__);                                        \
			fputc('\n', stderr);                                                 \
		}                                                                            \
	} while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

static inline int check_exit(void)
{
	printf("%u checks, %u failed\n", check_count, check_failures);
	return check_failures == 0 ? 0 : 1;
}

/* Decodes lowercase or uppercase hex; returns the byte count or -1. out may be NULL. */
static inline long check_unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex);

	if (n % 2 != 0 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (!isxdigit((unsigned char)hex[2 * i]) || !isxdigit((unsigned char)hex[2 * i + 1]))
			return -1;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		if (out != NULL)
			out[i] = (uint8_t)v;
	}
	return (long)(n / 2);
}

/* Lowercase hex of n bytes into out (2n+1 bytes). */
static inline char *check_hex(const uint8_t *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", in[i]);
	out[2 * n] = '\0';
	return out;
}

/* Path of a vector file: $SUPERPEER_VECTORS or the source tree's tests/vectors. */
static inline const char *check_vector_path(const char *name, char *buf, size_t cap)
{
	const char *dir = getenv("SUPERPEER_VECTORS");

	snprintf(buf, cap, "%s/%s", dir != NULL ? dir : "tests/vectors", name);
	return buf;
}

#endif
