/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-thread ipsec-mb managers. Setup code: never called per packet. */
#include <errno.h>
#include <stdlib.h>

#include "crypto.h"

int crypto_engine_init(struct crypto_engine *e)
{
	e->bulk = alloc_mb_mgr(0);
	e->lone = alloc_mb_mgr(0);
	if (e->bulk == NULL || e->lone == NULL) {
		crypto_engine_fini(e);
		return -ENOMEM;
	}
	init_mb_mgr_auto(e->bulk, &e->arch);
	if (e->arch == IMB_ARCH_NONE || e->arch == IMB_ARCH_NOAESNI) {
		crypto_engine_fini(e);
		return -ENOTSUP;
	}
	/* SSE manager: SHA-NI and AES-NI on one lane, cheap for single jobs. */
	init_mb_mgr_sse(e->lone);
	if (imb_get_errno(e->lone) != 0) {
		crypto_engine_fini(e);
		return -ENOTSUP;
	}
	return 0;
}

void crypto_engine_fini(struct crypto_engine *e)
{
	if (e->bulk != NULL)
		free_mb_mgr(e->bulk);
	if (e->lone != NULL)
		free_mb_mgr(e->lone);
	e->bulk = NULL;
	e->lone = NULL;
}

const char *crypto_engine_arch_name(const struct crypto_engine *e)
{
	switch (e->arch) {
	case IMB_ARCH_SSE:
		return "sse";
	case IMB_ARCH_AVX:
		return "avx";
	case IMB_ARCH_AVX2:
		return "avx2";
	case IMB_ARCH_AVX512:
		return "avx512";
	default:
		return "none";
	}
}
