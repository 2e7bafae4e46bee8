/* SPDX-License-Identifier: BSD-3-Clause */
/* HKDF-SHA-256 (RFC 5869) on OpenSSL's EVP_KDF: key setup only, never per packet. */
#include <errno.h>

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "crypto.h"

/* RFC 5869 §2.3: L <= 255 * HashLen. */
enum { HKDF_SHA256_OUT_MAX = 255 * 32 };

/* OpenSSL wants a non-NULL pointer even for an empty input keying material. */
static const uint8_t hkdf_empty[1];

int crypto_hkdf_sha256(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
		       const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
	OSSL_PARAM params[5];
	EVP_KDF_CTX *ctx = NULL;
	EVP_KDF *kdf = NULL;
	size_t np = 0;
	int ret;

	if (out == NULL || out_len == 0 || out_len > HKDF_SHA256_OUT_MAX)
		return -EINVAL;
	if ((salt == NULL && salt_len > 0) || (ikm == NULL && ikm_len > 0) ||
	    (info == NULL && info_len > 0))
		return -EINVAL;
	if (ikm == NULL)
		ikm = hkdf_empty;

	kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
	if (kdf == NULL) {
		ret = -EIO;
		goto out;
	}
	ctx = EVP_KDF_CTX_new(kdf);
	if (ctx == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	/*
	 * The default mode is extract-then-expand. The casts drop const only: OSSL_PARAM
	 * carries one pointer type for input and output, and HKDF only reads these.
	 */
	params[np++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[np++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
	/* An absent salt is HashLen zero bytes (RFC 5869 §2.2), which HMAC pads to anyway. */
	if (salt_len > 0)
		params[np++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
								 salt_len);
	if (info_len > 0)
		params[np++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info,
								 info_len);
	params[np] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, out_len, params) != 1) {
		crypto_wipe(out, out_len);
		ret = -EIO;
		goto out;
	}
	ret = 0;
out:
	/* EVP_KDF_CTX_free cleanses the key, salt and PRK it copied. */
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ret;
}
