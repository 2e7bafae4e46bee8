/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Milenage (3GPP TS 35.206): the AKA functions f1, f1*, f2, f3, f4, f5 and f5*.
 *
 * The kernel E_K is AES-128 on one block, run through OpenSSL's ECB without padding. This is
 * authentication-time code (one call per AKA run), not per packet.
 */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto.h"

enum { MILENAGE_BLOCK = 16 };

/* TS 35.206 §4.1: rotations r1..r5 in bytes (64, 0, 32, 64, 96 bits). */
enum {
	MILENAGE_R1 = 8,
	MILENAGE_R2 = 0,
	MILENAGE_R3 = 4,
	MILENAGE_R4 = 8,
	MILENAGE_R5 = 12,
};

/*
 * TS 35.206 §4.1: c1..c5 are 128-bit constants that are zero except for the last byte
 * (c1 = 0, c2 = 1, c3 = 2, c4 = 4, c5 = 8), so only that byte is kept.
 */
enum {
	MILENAGE_C1 = 0x00,
	MILENAGE_C2 = 0x01,
	MILENAGE_C3 = 0x02,
	MILENAGE_C4 = 0x04,
	MILENAGE_C5 = 0x08,
};

static EVP_CIPHER_CTX *milenage_aes_new(const uint8_t k[static MILENAGE_K_LEN])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	if (ctx == NULL)
		return NULL;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, k, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
		/* EVP_CIPHER_CTX_free cleanses the key schedule. */
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* out = E_K(in); one block, ECB needs no IV and keeps no state between blocks. */
static int milenage_aes(EVP_CIPHER_CTX *ctx, const uint8_t in[static MILENAGE_BLOCK],
			uint8_t out[static MILENAGE_BLOCK])
{
	int n = 0;

	if (EVP_EncryptUpdate(ctx, out, &n, in, MILENAGE_BLOCK) != 1 || n != MILENAGE_BLOCK)
		return -EIO;
	return 0;
}

/* out = rot(in, r) with r in bytes: a cyclic left rotation by r bytes (TS 35.206 §4.1). */
static void milenage_rot(const uint8_t in[static MILENAGE_BLOCK], unsigned r,
			 uint8_t out[static MILENAGE_BLOCK])
{
	for (unsigned i = 0; i < MILENAGE_BLOCK; i++)
		out[i] = in[(i + r) % MILENAGE_BLOCK];
}

/* TEMP = E_K(RAND xor OPc). */
static int milenage_temp(EVP_CIPHER_CTX *ctx, const uint8_t opc[static 16],
			 const uint8_t rand[static 16], uint8_t temp[static 16])
{
	uint8_t x[MILENAGE_BLOCK];
	int ret;

	for (unsigned i = 0; i < MILENAGE_BLOCK; i++)
		x[i] = rand[i] ^ opc[i];
	ret = milenage_aes(ctx, x, temp);
	crypto_wipe(x, sizeof(x));
	return ret;
}

/* OUTn = E_K(rot(in xor OPc, r) xor c) xor OPc, with c given by its last byte. */
static int milenage_out(EVP_CIPHER_CTX *ctx, const uint8_t opc[static 16],
			const uint8_t in[static 16], unsigned r, uint8_t c,
			uint8_t out[static 16])
{
	uint8_t x[MILENAGE_BLOCK], y[MILENAGE_BLOCK];
	int ret;

	for (unsigned i = 0; i < MILENAGE_BLOCK; i++)
		x[i] = in[i] ^ opc[i];
	milenage_rot(x, r, y);
	y[MILENAGE_BLOCK - 1] ^= c;
	ret = milenage_aes(ctx, y, out);
	if (ret == 0) {
		for (unsigned i = 0; i < MILENAGE_BLOCK; i++)
			out[i] ^= opc[i];
	}
	crypto_wipe(x, sizeof(x));
	crypto_wipe(y, sizeof(y));
	return ret;
}

int milenage_opc(const uint8_t k[static 16], const uint8_t op[static 16], uint8_t opc[static 16])
{
	uint8_t e[MILENAGE_BLOCK];
	EVP_CIPHER_CTX *ctx;
	int ret;

	ctx = milenage_aes_new(k);
	if (ctx == NULL)
		return -EIO;
	ret = milenage_aes(ctx, op, e);
	if (ret == 0) {
		for (unsigned i = 0; i < MILENAGE_BLOCK; i++)
			opc[i] = op[i] ^ e[i];
	}
	crypto_wipe(e, sizeof(e));
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

int milenage_f1(const uint8_t k[static 16], const uint8_t opc[static 16],
		const uint8_t rand[static 16], const uint8_t sqn[static 6],
		const uint8_t amf[static 2], uint8_t *mac_a, uint8_t *mac_s)
{
	uint8_t temp[MILENAGE_BLOCK], in1[MILENAGE_BLOCK], x[MILENAGE_BLOCK], out1[MILENAGE_BLOCK];
	EVP_CIPHER_CTX *ctx;
	int ret;

	ctx = milenage_aes_new(k);
	if (ctx == NULL)
		return -EIO;
	ret = milenage_temp(ctx, opc, rand, temp);
	if (ret != 0)
		goto out;
	/* IN1 = SQN || AMF || SQN || AMF. */
	memcpy(in1, sqn, MILENAGE_SQN_LEN);
	memcpy(in1 + 6, amf, MILENAGE_AMF_LEN);
	memcpy(in1 + 8, sqn, MILENAGE_SQN_LEN);
	memcpy(in1 + 14, amf, MILENAGE_AMF_LEN);
	/* OUT1 = E_K(TEMP xor rot(IN1 xor OPc, r1) xor c1) xor OPc. */
	for (unsigned i = 0; i < MILENAGE_BLOCK; i++)
		x[i] = in1[i] ^ opc[i];
	milenage_rot(x, MILENAGE_R1, out1);
	for (unsigned i = 0; i < MILENAGE_BLOCK; i++)
		x[i] = temp[i] ^ out1[i];
	x[MILENAGE_BLOCK - 1] ^= MILENAGE_C1;
	ret = milenage_aes(ctx, x, out1);
	if (ret != 0)
		goto out;
	for (unsigned i = 0; i < MILENAGE_BLOCK; i++)
		out1[i] ^= opc[i];
	if (mac_a != NULL)
		memcpy(mac_a, out1, MILENAGE_MAC_LEN);
	if (mac_s != NULL)
		memcpy(mac_s, out1 + 8, MILENAGE_MAC_LEN);
out:
	crypto_wipe(temp, sizeof(temp));
	crypto_wipe(in1, sizeof(in1));
	crypto_wipe(x, sizeof(x));
	crypto_wipe(out1, sizeof(out1));
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

int milenage_f2345(const uint8_t k[static 16], const uint8_t opc[static 16],
		   const uint8_t rand[static 16], uint8_t *res, uint8_t *ck, uint8_t *ik,
		   uint8_t *ak, uint8_t *ak_star)
{
	uint8_t temp[MILENAGE_BLOCK], out[MILENAGE_BLOCK];
	EVP_CIPHER_CTX *ctx;
	int ret;

	ctx = milenage_aes_new(k);
	if (ctx == NULL)
		return -EIO;
	ret = milenage_temp(ctx, opc, rand, temp);
	if (ret != 0)
		goto out;
	/* OUT2 carries both f5 (AK, first 48 bits) and f2 (RES, last 64 bits). */
	if (res != NULL || ak != NULL) {
		ret = milenage_out(ctx, opc, temp, MILENAGE_R2, MILENAGE_C2, out);
		if (ret != 0)
			goto out;
		if (ak != NULL)
			memcpy(ak, out, MILENAGE_AK_LEN);
		if (res != NULL)
			memcpy(res, out + 8, MILENAGE_RES_LEN);
	}
	if (ck != NULL) {
		ret = milenage_out(ctx, opc, temp, MILENAGE_R3, MILENAGE_C3, out);
		if (ret != 0)
			goto out;
		memcpy(ck, out, MILENAGE_CK_LEN);
	}
	if (ik != NULL) {
		ret = milenage_out(ctx, opc, temp, MILENAGE_R4, MILENAGE_C4, out);
		if (ret != 0)
			goto out;
		memcpy(ik, out, MILENAGE_IK_LEN);
	}
	if (ak_star != NULL) {
		ret = milenage_out(ctx, opc, temp, MILENAGE_R5, MILENAGE_C5, out);
		if (ret != 0)
			goto out;
		memcpy(ak_star, out, MILENAGE_AK_LEN);
	}
out:
	crypto_wipe(temp, sizeof(temp));
	crypto_wipe(out, sizeof(out));
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}
