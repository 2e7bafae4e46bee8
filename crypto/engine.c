/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-thread crypto state: the ipsec-mb manager and OpenSSL digests. Setup code only. */
#include <errno.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "crypto.h"

int crypto_engine_init(struct crypto_engine *e)
{
	*e = (struct crypto_engine){ 0 };
	e->bulk = alloc_mb_mgr(0);
	e->md_ctx = EVP_MD_CTX_new();
	e->md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	e->md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (e->bulk == NULL || e->md_ctx == NULL || e->md_sha1 == NULL || e->md_sha256 == NULL) {
		crypto_engine_fini(e);
		return -ENOMEM;
	}
	init_mb_mgr_auto(e->bulk, &e->arch);
	if (e->arch == IMB_ARCH_NONE || e->arch == IMB_ARCH_NOAESNI) {
		crypto_engine_fini(e);
		return -ENOTSUP;
	}
	return 0;
}

void crypto_engine_fini(struct crypto_engine *e)
{
	if (e->bulk != NULL)
		free_mb_mgr(e->bulk);
	EVP_MD_CTX_free(e->md_ctx);
	EVP_MD_free(e->md_sha1);
	EVP_MD_free(e->md_sha256);
	*e = (struct crypto_engine){ 0 };
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
