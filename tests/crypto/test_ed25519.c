/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ed25519 (crypto/sign.c):
 *   - every case of Wycheproof's ed25519_test.json through ed25519_verify: valid -> 0,
 *     invalid (malleable S, truncated or padded signatures, bad encodings) -> -EBADMSG;
 *   - RFC 8032 §7.1 tests 1-3: public key from the seed, and a signature that reproduces the
 *     RFC's bytes (Ed25519 is deterministic);
 *   - keygen / sign / verify round trips, with tampered message, signature and key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto.h"
#include "check.h"
#include "vec.h"

static unsigned n_valid, n_invalid;

static void run_wycheproof(void)
{
	json_t *root = vec_load("wycheproof/ed25519_test.json");
	json_t *group, *t;
	size_t gi, ti;
	long declared;

	CHECK(root != NULL);
	if (root == NULL)
		return;
	declared = (long)json_integer_value(json_object_get(root, "numberOfTests"));
	json_array_foreach(json_object_get(root, "testGroups"), gi, group) {
		uint8_t pk[ED25519_PUBLIC_LEN];

		CHECK(vec_hex_fixed(json_object_get(group, "publicKey"), "pk", pk, sizeof(pk)));
		json_array_foreach(json_object_get(group, "tests"), ti, t) {
			unsigned tc = (unsigned)json_integer_value(json_object_get(t, "tcId"));
			const char *result = json_string_value(json_object_get(t, "result"));
			size_t msg_len, sig_len;
			uint8_t *msg = vec_hex(t, "msg", &msg_len);
			uint8_t *sig = vec_hex(t, "sig", &sig_len);
			int rc = ed25519_verify(pk, msg, msg_len, sig, sig_len);

			if (result != NULL && strcmp(result, "valid") == 0) {
				n_valid++;
				CHECKF(rc == 0, "tc %u: valid signature rc %d", tc, rc);
			} else {
				/* The file has no "acceptable" cases; treat any as must-reject. */
				n_invalid++;
				CHECKF(rc == -EBADMSG, "tc %u: invalid signature rc %d", tc, rc);
			}
			free(msg);
			free(sig);
		}
	}
	CHECKF(declared == (long)(n_valid + n_invalid), "numberOfTests %ld, ran %u", declared,
	       n_valid + n_invalid);
	CHECK(n_valid > 0 && n_invalid > 0);
	json_decref(root);
}

static void run_rfc8032(void)
{
	static const struct {
		const char *sec, *pub, *msg, *sig;
	} kat[] = {
		{ "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
		  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
		  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
		  "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
		{ "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
		  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
		  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e"
		  "458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
		{ "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
		  "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
		  "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290"
		  "ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a" },
	};

	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		uint8_t sec[32], pub[32], want_pub[32], sig[64], want_sig[64], msg[8];
		long msg_len = check_unhex(kat[i].msg, msg, sizeof(msg));

		CHECK(check_unhex(kat[i].sec, sec, sizeof(sec)) == 32);
		CHECK(check_unhex(kat[i].pub, want_pub, sizeof(want_pub)) == 32);
		CHECK(check_unhex(kat[i].sig, want_sig, sizeof(want_sig)) == 64);
		CHECK(msg_len >= 0);
		memset(pub, 0, sizeof(pub));
		CHECK(ed25519_public(sec, pub) == 0);
		CHECKF(memcmp(pub, want_pub, 32) == 0, "RFC 8032 test %zu: public key", i + 1);
		memset(sig, 0, sizeof(sig));
		CHECK(ed25519_sign(sec, msg, (size_t)msg_len, sig) == 0);
		CHECKF(memcmp(sig, want_sig, 64) == 0, "RFC 8032 test %zu: signature", i + 1);
		CHECK(ed25519_verify(want_pub, msg, (size_t)msg_len, want_sig, 64) == 0);
		crypto_wipe(sec, sizeof(sec));
	}
	/* An empty message as NULL signs like the empty buffer (test 1). */
	{
		uint8_t sec[32], sig[64], want_sig[64];

		CHECK(check_unhex(kat[0].sec, sec, sizeof(sec)) == 32);
		CHECK(check_unhex(kat[0].sig, want_sig, sizeof(want_sig)) == 64);
		CHECK(ed25519_sign(sec, NULL, 0, sig) == 0);
		CHECK_MEM(sig, want_sig, 64);
	}
}

static void run_round_trip(void)
{
	uint8_t pub[32], sec[32], pub2[32], sec2[32], pub3[32], sig[64], sig2[64], big[65];
	uint8_t msg[100];

	CHECK(ed25519_keygen(pub, sec) == 0);
	CHECK(ed25519_keygen(pub2, sec2) == 0);
	CHECK(memcmp(sec, sec2, 32) != 0 && memcmp(pub, pub2, 32) != 0);
	CHECK(ed25519_public(sec, pub3) == 0);
	CHECK_MEM(pub3, pub, 32);
	CHECK(crypto_random(msg, sizeof(msg)) == 0);

	for (size_t len = 0; len <= sizeof(msg); len += 25) {
		CHECK(ed25519_sign(sec, msg, len, sig) == 0);
		CHECK(ed25519_sign(sec, msg, len, sig2) == 0);
		CHECK_MEM(sig, sig2, 64); /* deterministic */
		CHECK(ed25519_verify(pub, msg, len, sig, 64) == 0);
		CHECK(ed25519_verify(pub2, msg, len, sig, 64) == -EBADMSG);
		CHECK(ed25519_verify(pub, msg, len, sig, 63) == -EBADMSG);
		memcpy(big, sig, 64);
		big[64] = 0;
		CHECK(ed25519_verify(pub, msg, len, big, 65) == -EBADMSG);
		CHECK(ed25519_verify(pub, msg, len, NULL, 64) == -EBADMSG);
		if (len > 0) {
			msg[len - 1] ^= 1;
			CHECK(ed25519_verify(pub, msg, len, sig, 64) == -EBADMSG);
			msg[len - 1] ^= 1;
		}
		for (unsigned bit = 0; bit < 512; bit += 37) {
			sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			CHECKF(ed25519_verify(pub, msg, len, sig, 64) == -EBADMSG, "bit %u", bit);
			sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
	}
	/* y = 2 has no x on the curve: not a valid public key. */
	memset(pub3, 0, sizeof(pub3));
	pub3[0] = 2;
	CHECK(ed25519_verify(pub3, msg, 10, sig, 64) == -EBADMSG);
	crypto_wipe(sec, sizeof(sec));
	crypto_wipe(sec2, sizeof(sec2));
}

int main(void)
{
	run_wycheproof();
	run_rfc8032();
	run_round_trip();
	printf("wycheproof ed25519: %u valid accepted, %u invalid rejected; RFC 8032 tests 1-3; "
	       "round trips\n",
	       n_valid, n_invalid);
	return check_exit();
}
