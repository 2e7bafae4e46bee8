/* SPDX-License-Identifier: BSD-3-Clause */
/* Command-line SA material: parsing of "SPI:0xKEYSALT" and hex keys. Setup code. */
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

/* "0x" optional, then 2 * cap hex digits at most; the byte count, or -1. */
int esp_arg_hex(const char *hex, uint8_t *out, size_t cap)
{
	size_t digits, n;

	if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
		hex += 2;
	digits = strlen(hex);
	if (digits % 2 != 0 || digits / 2 > cap)
		return -1;
	for (n = 0; n < digits / 2; n++) {
		int hi = esp_arg_hexval(hex[2 * n]), lo = esp_arg_hexval(hex[2 * n + 1]);

		if (hi < 0 || lo < 0) {
			crypto_wipe(out, n);
			return -1;
		}
		out[n] = (uint8_t)(hi << 4 | lo);
	}
	return (int)n;
}

int esp_arg_keysalt(const char *hex, uint8_t key[static 32], uint8_t *key_len,
		    uint8_t salt[static ESP_SALT_LEN], char *err, size_t cap)
{
	uint8_t km[32 + ESP_SALT_LEN];
	int n = esp_arg_hex(hex, km, sizeof(km));

	if (n != 16 + ESP_SALT_LEN && n != 32 + ESP_SALT_LEN) {
		crypto_wipe(km, sizeof(km));
		snprintf(err, cap, "key+salt must be 40 or 72 hex digits (AES-128/256 + salt)");
		return -EINVAL;
	}
	*key_len = (uint8_t)(n - ESP_SALT_LEN);
	memcpy(key, km, *key_len);
	memcpy(salt, km + *key_len, ESP_SALT_LEN);
	crypto_wipe(km, sizeof(km));
	return 0;
}

int esp_arg_parse(const char *arg, uint32_t *spi_out, uint8_t key[static 32], uint8_t *key_len,
		  uint8_t salt[static ESP_SALT_LEN], char *err, size_t cap)
{
	const char *colon = strchr(arg, ':');
	unsigned long long spi;
	char *end;

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
	*spi_out = (uint32_t)spi;
	return esp_arg_keysalt(colon + 1, key, key_len, salt, err, cap);
}

int esp_arg_sa_new(struct crypto_engine *e, const char *arg, enum esp_sa_dir dir, bool esn,
		   uint64_t now, struct esp_sa **out, char *err, size_t cap)
{
	uint8_t key[32], salt[ESP_SALT_LEN], key_len = 0;
	uint32_t spi = 0;
	int rc;

	*out = NULL;
	rc = esp_arg_parse(arg, &spi, key, &key_len, salt, err, cap);
	if (rc != 0)
		goto out;
	if (posix_memalign((void **)out, 64, sizeof(**out)) != 0) {
		snprintf(err, cap, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	struct esp_sa_config cfg = {
		.spi = spi,
		.dir = dir,
		.esn = esn,
		.key = key,
		.key_len = key_len,
		.salt = salt,
		.now = now,
	};
	rc = esp_sa_init(e, *out, &cfg);
	if (rc != 0) {
		free(*out);
		*out = NULL;
		snprintf(err, cap, "SA refused");
	}
out:
	crypto_wipe(key, sizeof(key));
	crypto_wipe(salt, sizeof(salt));
	return rc;
}

void esp_arg_sa_free(struct esp_sa *sa)
{
	if (sa == NULL)
		return;
	esp_sa_destroy(sa);
	free(sa);
}
