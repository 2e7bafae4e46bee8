/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the PPSPP datagram decoder. Input: one selector byte, then the
 * datagram. The selector picks the context the caller would hold:
 *   bit 0     CAM 2 / CAM 4
 *   bit 1     hash length 20 / 32
 *   bits 2-3  chunk size 1024, 16, 1, variable
 *   bits 4-5  signature length 0 (SIGNED_INTEGRITY refused), 64, 96, 7
 *   bits 6-7  message array size 64, 1, 3, 0
 * A successful decode must re-encode to exactly the input bytes (abort otherwise): the
 * decoder accepts nothing the builder would write differently, and every pointer it returns
 * lies within the datagram (the builder reads through all of them).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ppspp_codec.h"

enum {
	FUZZ_MAX_MSGS = 64,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t chunks[] = { 1024, 16, 1, PPSPP_CHUNK_SIZE_VARIABLE };
	static const uint16_t sigs[] = { 0, 64, 96, 7 };
	static const size_t maxes[] = { FUZZ_MAX_MSGS, 1, 3, 0 };
	static struct ppspp_msg msgs[FUZZ_MAX_MSGS];
	struct ppspp_decode_result res;
	struct ppspp_builder b;
	struct ppspp_ctx ctx;
	const uint8_t *dgram;
	uint8_t *out;
	size_t len;
	int n, rc;

	if (size < 1)
		return 0;
	ctx.cam = (data[0] & 1) ? PPSPP_CAM_CHUNK64 : PPSPP_CAM_CHUNK32;
	ctx.hash_len = (data[0] & 2) ? PPSPP_SHA256_LEN : PPSPP_SHA1_LEN;
	ctx.chunk_size = chunks[(data[0] >> 2) & 3];
	ctx.sig_len = sigs[(data[0] >> 4) & 3];
	dgram = data + 1;
	len = size - 1;

	n = ppspp_datagram_decode(&ctx, dgram, len, msgs, maxes[data[0] >> 6], &res);
	if (n < 0) {
		if (res.reason == PPSPP_R_OK || res.offset > len ||
		    ppspp_reason_name(res.reason)[0] == '?')
			abort();
		return 0;
	}
	if (res.reason != PPSPP_R_OK || res.offset != len)
		abort();

	/* Exact capacity: a builder that wanted more than the input would fail with -ENOSPC. */
	out = malloc(len);
	if (out == NULL)
		abort();
	rc = ppspp_builder_init(&b, &ctx, out, len, res.dest_channel);
	for (int i = 0; i < n && rc == 0; i++)
		rc = ppspp_builder_append_msg(&b, &msgs[i]);
	if (rc != 0 || ppspp_builder_finish(&b) != (int)len || memcmp(out, dgram, len) != 0)
		abort();
	/* The builder's context after the handshake must match the decoder's. */
	if (memcmp(&b.ctx, &res.ctx, sizeof(b.ctx)) != 0)
		abort();
	free(out);
	return 0;
}
