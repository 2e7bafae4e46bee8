/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An SA given on a command line as "SPI:KEYSALT", the way `ip xfrm state ... aead
 * 'rfc4106(gcm(aes))' KEYSALT 128` writes it: SPI in decimal or 0x-hex (256..2^32-1), KEYSALT
 * 0x-hex of the 16- or 32-byte AES key followed by the 4-byte salt. Used by superpeer
 * seed/fetch and superpeer-dataplane. Setup code.
 */
#ifndef SUPERPEER_ESP_ARG_H
#define SUPERPEER_ESP_ARG_H

#include <stddef.h>
#include <stdint.h>

#include "esp_sa.h"

/*
 * Makes a 64-byte-aligned SA (free with esp_arg_sa_free) from arg. 0, or -EINVAL with a
 * message in err (which never contains key bytes). The parsed key material is wiped.
 */
int esp_arg_sa_new(struct crypto_engine *e, const char *arg, enum esp_sa_dir dir, bool esn,
		   uint64_t now, struct esp_sa **out, char *err, size_t cap);
void esp_arg_sa_free(struct esp_sa *sa);

/* Parses "SPI:0xKEYSALT" into its parts. 0 or -EINVAL + err; nothing secret in err. */
int esp_arg_parse(const char *arg, uint32_t *spi, uint8_t key[static 32], uint8_t *key_len,
		  uint8_t salt[static ESP_SALT_LEN], char *err, size_t cap);
/* Parses "0xKEYSALT" (16- or 32-byte key, then the 4-byte salt). 0 or -EINVAL + err. */
int esp_arg_keysalt(const char *hex, uint8_t key[static 32], uint8_t *key_len,
		    uint8_t salt[static ESP_SALT_LEN], char *err, size_t cap);
/* Hex ("0x" optional) into at most cap bytes: the count, or -1 (odd, too long, not hex). */
int esp_arg_hex(const char *hex, uint8_t *out, size_t cap);

#endif
