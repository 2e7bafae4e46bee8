/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the manifest parser (control/manifest.c): arbitrary bytes must parse
 * or be refused with a message that names the file, never crash or read out of bounds. An
 * accepted manifest must also be canonical: writing its fields back gives exactly the bytes
 * the signature covers, so no two spellings of one manifest exist.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], body[MANIFEST_MAX_LEN + 1];
	struct manifest m;
	int n;

	err[0] = '\0';
	if (manifest_parse(&m, (const char *)data, size, "fuzz", err, sizeof(err)) != 0) {
		if (strncmp(err, "fuzz:", 5) != 0)
			abort();
		return 0;
	}
	n = manifest_format_body(&m, body, sizeof(body));
	if (n < 0 || (size_t)n != m.signed_len || memcmp(body, data, (size_t)n) != 0)
		abort();
	return 0;
}
