/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers for secrets: wipes that survive optimisation, constant-time compare, randomness. */
#include <errno.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "crypto.h"

void crypto_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		OPENSSL_cleanse(p, len);
}

bool crypto_ct_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

int crypto_random(void *buf, size_t len)
{
	if (len > (size_t)INT32_MAX)
		return -EINVAL;
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -EIO;
}
