/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Milenage (crypto/milenage.c) against tests/vectors/milenage.json: OPc from OP, f1, f1*, f2,
 * f3, f4, f5 and f5* of every set, each output also computed alone (the others NULL) to show
 * the optional outputs are independent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto.h"
#include "check.h"
#include "vec.h"

static unsigned n_sets;

static void run_set(const json_t *t)
{
	unsigned tc = (unsigned)json_integer_value(json_object_get(t, "tcId"));
	uint8_t k[16], rand[16], sqn[6], amf[2], op[16], opc_want[16], opc[16];
	uint8_t f1_want[8], f1s_want[8], f2_want[8], f3_want[16], f4_want[16], f5_want[6];
	uint8_t f5s_want[6];
	uint8_t mac_a[8], mac_s[8], res[8], ck[16], ik[16], ak[6], ak_s[6];

	CHECK(vec_hex_fixed(t, "K", k, sizeof(k)));
	CHECK(vec_hex_fixed(t, "RAND", rand, sizeof(rand)));
	CHECK(vec_hex_fixed(t, "SQN", sqn, sizeof(sqn)));
	CHECK(vec_hex_fixed(t, "AMF", amf, sizeof(amf)));
	CHECK(vec_hex_fixed(t, "OP", op, sizeof(op)));
	CHECK(vec_hex_fixed(t, "OPc", opc_want, sizeof(opc_want)));
	CHECK(vec_hex_fixed(t, "f1", f1_want, sizeof(f1_want)));
	CHECK(vec_hex_fixed(t, "f1star", f1s_want, sizeof(f1s_want)));
	CHECK(vec_hex_fixed(t, "f2", f2_want, sizeof(f2_want)));
	CHECK(vec_hex_fixed(t, "f3", f3_want, sizeof(f3_want)));
	CHECK(vec_hex_fixed(t, "f4", f4_want, sizeof(f4_want)));
	CHECK(vec_hex_fixed(t, "f5", f5_want, sizeof(f5_want)));
	CHECK(vec_hex_fixed(t, "f5star", f5s_want, sizeof(f5s_want)));

	memset(opc, 0, sizeof(opc));
	CHECK(milenage_opc(k, op, opc) == 0);
	CHECKF(memcmp(opc, opc_want, 16) == 0, "set %u: OPc", tc);

	/* Everything at once, from the computed OPc. */
	memset(mac_a, 0, sizeof(mac_a));
	memset(mac_s, 0, sizeof(mac_s));
	CHECK(milenage_f1(k, opc, rand, sqn, amf, mac_a, mac_s) == 0);
	CHECKF(memcmp(mac_a, f1_want, 8) == 0, "set %u: f1", tc);
	CHECKF(memcmp(mac_s, f1s_want, 8) == 0, "set %u: f1*", tc);
	memset(res, 0, sizeof(res));
	memset(ck, 0, sizeof(ck));
	memset(ik, 0, sizeof(ik));
	memset(ak, 0, sizeof(ak));
	memset(ak_s, 0, sizeof(ak_s));
	CHECK(milenage_f2345(k, opc, rand, res, ck, ik, ak, ak_s) == 0);
	CHECKF(memcmp(res, f2_want, 8) == 0, "set %u: f2", tc);
	CHECKF(memcmp(ck, f3_want, 16) == 0, "set %u: f3", tc);
	CHECKF(memcmp(ik, f4_want, 16) == 0, "set %u: f4", tc);
	CHECKF(memcmp(ak, f5_want, 6) == 0, "set %u: f5", tc);
	CHECKF(memcmp(ak_s, f5s_want, 6) == 0, "set %u: f5*", tc);

	/* One output at a time. */
	memset(mac_s, 0, sizeof(mac_s));
	CHECK(milenage_f1(k, opc_want, rand, sqn, amf, NULL, mac_s) == 0);
	CHECKF(memcmp(mac_s, f1s_want, 8) == 0, "set %u: f1* alone", tc);
	memset(mac_a, 0, sizeof(mac_a));
	CHECK(milenage_f1(k, opc_want, rand, sqn, amf, mac_a, NULL) == 0);
	CHECKF(memcmp(mac_a, f1_want, 8) == 0, "set %u: f1 alone", tc);
	memset(res, 0, sizeof(res));
	CHECK(milenage_f2345(k, opc_want, rand, res, NULL, NULL, NULL, NULL) == 0);
	CHECKF(memcmp(res, f2_want, 8) == 0, "set %u: f2 alone", tc);
	memset(ck, 0, sizeof(ck));
	CHECK(milenage_f2345(k, opc_want, rand, NULL, ck, NULL, NULL, NULL) == 0);
	CHECKF(memcmp(ck, f3_want, 16) == 0, "set %u: f3 alone", tc);
	memset(ik, 0, sizeof(ik));
	CHECK(milenage_f2345(k, opc_want, rand, NULL, NULL, ik, NULL, NULL) == 0);
	CHECKF(memcmp(ik, f4_want, 16) == 0, "set %u: f4 alone", tc);
	memset(ak, 0, sizeof(ak));
	CHECK(milenage_f2345(k, opc_want, rand, NULL, NULL, NULL, ak, NULL) == 0);
	CHECKF(memcmp(ak, f5_want, 6) == 0, "set %u: f5 alone", tc);
	memset(ak_s, 0, sizeof(ak_s));
	CHECK(milenage_f2345(k, opc_want, rand, NULL, NULL, NULL, NULL, ak_s) == 0);
	CHECKF(memcmp(ak_s, f5s_want, 6) == 0, "set %u: f5* alone", tc);

	/* A different RAND must change the outputs (guards against ignoring an input). */
	rand[15] ^= 1;
	CHECK(milenage_f2345(k, opc_want, rand, res, NULL, NULL, NULL, NULL) == 0);
	CHECK(memcmp(res, f2_want, 8) != 0);
	n_sets++;
}

int main(void)
{
	json_t *root = vec_load("milenage.json");
	json_t *t;
	size_t i;

	CHECK(root != NULL);
	if (root == NULL)
		return check_exit();
	json_array_foreach(json_object_get(root, "tests"), i, t)
		run_set(t);
	json_decref(root);
	CHECK(n_sets > 0);
	printf("milenage: %u test sets (OPc, f1, f1*, f2, f3, f4, f5, f5*)\n", n_sets);
	return check_exit();
}
