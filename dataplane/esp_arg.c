/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_arg.h"

static int esp_arg_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int esp_arg_sa_new(struct crypto_engine *e, const char *arg, enum esp_sa_dir dir, bool esn,
		   uint64_t now, struct esp_sa **out, char *err, size_t cap)
{
	uint8_t km[32 + ESP_SALT_LEN];
	const char *colon = strchr(arg, ':'), *hex;
	unsigned long long spi;
	size_t n, digits;
	char *end;
	int rc = -EINVAL;

	*out = NULL;
	if (colon == NULL) {
		snprintf(err, cap, "expected SPI:0xKEYSALT");
		return -EINVAL;
	}
	errno = 0;
	spi = strtoull(arg, &end, 0);
	if (errno != 0 || end != colon || spi < 256 || spi > UINT32_MAX) {
		snprintf(err, cap, "SPI must be a number from 256 to 4294967295");
		return -EINVAL;
	}
	hex = colon + 1;
	if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
		hex += 2;
	digits = strlen(hex);
	if (digits != 2 * (16 + ESP_SALT_LEN) && digits != 2 * (32 + ESP_SALT_LEN)) {
		snprintf(err, cap, "key+salt must be 40 or 72 hex digits (AES-128/256 + salt)");
		return -EINVAL;
	}
	for (n = 0; n < digits / 2; n++) {
		int hi = esp_arg_hexval(hex[2 * n]), lo = esp_arg_hexval(hex[2 * n + 1]);

		if (hi < 0 || lo < 0) {
			snprintf(err, cap, "key+salt is not hex");
			goto out;
		}
		km[n] = (uint8_t)(hi << 4 | lo);
	}
	if (posix_memalign((void **)out, 64, sizeof(**out)) != 0) {
		snprintf(err, cap, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	struct esp_sa_config cfg = {
		.spi = (uint32_t)spi,
		.dir = dir,
		.esn = esn,
		.key = km,
		.key_len = n - ESP_SALT_LEN,
		.salt = km + n - ESP_SALT_LEN,
		.now = now,
	};
	rc = esp_sa_init(e, *out, &cfg);
	if (rc != 0) {
		free(*out);
		*out = NULL;
		snprintf(err, cap, "SA refused");
	}
out:
	crypto_wipe(km, sizeof(km));
	return rc;
}

void esp_arg_sa_free(struct esp_sa *sa)
{
	if (sa == NULL)
		return;
	esp_sa_destroy(sa);
	free(sa);
}
