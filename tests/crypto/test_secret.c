/* SPDX-License-Identifier: BSD-3-Clause */
/* crypto_ct_equal, crypto_wipe and crypto_random: the basics every secret path relies on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "check.h"
#include "vec.h"

static void check_ct_equal(void)
{
	uint8_t a[64], b[64];

	CHECK(crypto_random(a, sizeof(a)) == 0);
	memcpy(b, a, sizeof(b));
	CHECK(crypto_ct_equal(a, b, 0));
	for (size_t len = 1; len <= sizeof(a); len++) {
		CHECKF(crypto_ct_equal(a, b, len), "equal, len %zu", len);
		/* A difference in any byte and any bit is seen. */
		for (size_t i = 0; i < len; i++) {
			b[i] ^= (uint8_t)(1u << (i % 8));
			CHECKF(!crypto_ct_equal(a, b, len), "len %zu differ at %zu", len, i);
			b[i] ^= (uint8_t)(1u << (i % 8));
		}
	}
	/* Only the first len bytes count. */
	b[63] ^= 0x80;
	CHECK(crypto_ct_equal(a, b, 63));
	CHECK(!crypto_ct_equal(a, b, 64));
}

static void check_wipe(void)
{
	uint8_t buf[100];

	for (size_t len = 1; len <= sizeof(buf); len++) {
		memset(buf, 0xa5, sizeof(buf));
		crypto_wipe(buf, len);
		CHECKF(vec_all_zero(buf, len), "wipe len %zu", len);
		/* Nothing past len is touched. */
		for (size_t i = len; i < sizeof(buf); i++)
			CHECKF(buf[i] == 0xa5, "wipe len %zu touched byte %zu", len, i);
	}
	crypto_wipe(NULL, 10); /* tolerated: a no-op */
	crypto_wipe(buf, 0);
}

static void check_random(void)
{
	uint8_t a[32], b[32], big[4096];
	unsigned ones = 0;

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	CHECK(crypto_random(a, sizeof(a)) == 0);
	CHECK(crypto_random(b, sizeof(b)) == 0);
	CHECK(!vec_all_zero(a, sizeof(a)));
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	CHECK(crypto_random(a, 0) == 0);
	CHECK(crypto_random(big, sizeof(big)) == 0);
	/* 32768 bits: the count of ones lies far inside 16384 +- 1000 (over 10 sigma). */
	for (size_t i = 0; i < sizeof(big); i++)
		ones += (unsigned)__builtin_popcount(big[i]);
	CHECKF(ones > 15384 && ones < 17384, "%u ones in 32768 random bits", ones);
	CHECK(crypto_random(big, (size_t)INT32_MAX + 1) == -EINVAL);
}

int main(void)
{
	check_ct_equal();
	check_wipe();
	check_random();
	printf("secret: ct_equal, wipe, random\n");
	return check_exit();
}
