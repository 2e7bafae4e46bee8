/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ed25519 (RFC 8032, pure EdDSA) on OpenSSL's EVP_PKEY. Used for manifests and control
 * messages, not per packet, so the EVP object churn per call does not matter.
 */
#include <errno.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto.h"

/* OpenSSL wants a non-NULL message pointer even for an empty message. */
static const uint8_t sign_empty[1];

int ed25519_keygen(uint8_t pub[static ED25519_PUBLIC_LEN], uint8_t sec[static ED25519_SECRET_LEN])
{
	int ret;

	ret = crypto_random(sec, ED25519_SECRET_LEN);
	if (ret != 0)
		return ret;
	ret = ed25519_public(sec, pub);
	if (ret != 0)
		crypto_wipe(sec, ED25519_SECRET_LEN);
	return ret;
}

int ed25519_public(const uint8_t sec[static ED25519_SECRET_LEN],
		   uint8_t pub[static ED25519_PUBLIC_LEN])
{
	size_t len = ED25519_PUBLIC_LEN;
	EVP_PKEY *pkey;
	int ret = 0;

	/* OpenSSL copies the seed into secure storage and cleanses it in EVP_PKEY_free. */
	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, sec, ED25519_SECRET_LEN);
	if (pkey == NULL)
		return -EIO;
	if (EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1 || len != ED25519_PUBLIC_LEN)
		ret = -EIO;
	EVP_PKEY_free(pkey);
	return ret;
}

int ed25519_sign(const uint8_t sec[static ED25519_SECRET_LEN], const void *msg, size_t len,
		 uint8_t sig[static ED25519_SIG_LEN])
{
	size_t sig_len = ED25519_SIG_LEN;
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY *pkey;
	int ret;

	if (msg == NULL)
		msg = sign_empty;
	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, sec, ED25519_SECRET_LEN);
	if (pkey == NULL)
		return -EIO;
	mctx = EVP_MD_CTX_new();
	if (mctx == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	/* Pure Ed25519 hashes internally: the digest must be NULL and the call one-shot. */
	if (EVP_DigestSignInit(mctx, NULL, NULL, NULL, pkey) != 1 ||
	    EVP_DigestSign(mctx, sig, &sig_len, msg, len) != 1 || sig_len != ED25519_SIG_LEN) {
		crypto_wipe(sig, ED25519_SIG_LEN);
		ret = -EIO;
		goto out;
	}
	ret = 0;
out:
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_free(pkey);
	return ret;
}

int ed25519_verify(const uint8_t pub[static ED25519_PUBLIC_LEN], const void *msg, size_t len,
		   const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY *pkey;
	int ret;

	if (sig == NULL || sig_len != ED25519_SIG_LEN)
		return -EBADMSG;
	if (msg == NULL)
		msg = sign_empty;
	/* A public key that is not a point on the curve fails here or in the verify below. */
	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, ED25519_PUBLIC_LEN);
	if (pkey == NULL) {
		ERR_clear_error();
		return -EBADMSG;
	}
	mctx = EVP_MD_CTX_new();
	if (mctx == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	if (EVP_DigestVerifyInit(mctx, NULL, NULL, NULL, pkey) != 1) {
		ret = -EBADMSG;
		goto out;
	}
	ret = EVP_DigestVerify(mctx, sig, sig_len, msg, len) == 1 ? 0 : -EBADMSG;
out:
	/* A rejected signature is an expected outcome: leave no stale error in the queue. */
	if (ret != 0)
		ERR_clear_error();
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_free(pkey);
	return ret;
}
