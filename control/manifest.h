/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signed manifests (DESIGN.md §3; format in include/manifest_format.h and
 * docs/store-format.md): parse strictly, write, sign and verify with Ed25519.
 *
 * Returns are 0 (or a length) or a negative errno. Parse errors also fill err with one line
 * that names the file and line: "manifest:4: bad chunk size".
 */
#ifndef SUPERPEER_MANIFEST_H
#define SUPERPEER_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "manifest_format.h"

struct manifest {
	enum hash_alg hash;
	uint8_t swarm_id[MANIFEST_SWARM_ID_MAX]; /* hash_len(hash) bytes used */
	uint32_t chunk_size;
	uint64_t content_len;
	char name[MANIFEST_NAME_MAX + 1]; /* NUL-terminated */
	uint8_t key_id[MANIFEST_KEY_ID_LEN];
	uint8_t sig[MANIFEST_SIG_LEN];
	size_t signed_len; /* parse: bytes of the text the signature covers (lines 1..7) */
};

/*
 * Parses len bytes of text (no NUL needed). file names the source in messages. 0, or
 * -EINVAL with err (may be NULL) set. The signature is not checked here: manifest_verify.
 */
int manifest_parse(struct manifest *m, const char *text, size_t len, const char *file,
		   char *err, size_t err_cap);

/* Provider key ID: the first MANIFEST_KEY_ID_LEN bytes of SHA-256(pub). */
void manifest_key_id(struct crypto_engine *e, const uint8_t pub[static ED25519_PUBLIC_LEN],
		     uint8_t id[static MANIFEST_KEY_ID_LEN]);

/*
 * The signed part (lines 1..7) of m into buf. Returns its length, -EINVAL for fields that
 * break the format's rules, -ENOSPC when cap is too small (MANIFEST_MAX_LEN always fits).
 */
int manifest_format_body(const struct manifest *m, char *buf, size_t cap);

/*
 * Fills m->key_id from the secret key, signs, and writes the whole manifest into buf.
 * Returns its length or a negative errno.
 */
int manifest_sign(struct crypto_engine *e, struct manifest *m,
		  const uint8_t sec[static ED25519_SECRET_LEN], char *buf, size_t cap);

/*
 * Checks a parsed manifest (m and the text it came from) against a provider public key.
 * 0; -EKEYREJECTED when the key ID names another key; -EBADMSG when the signature fails.
 */
int manifest_verify(struct crypto_engine *e, const struct manifest *m, const char *text,
		    const uint8_t pub[static ED25519_PUBLIC_LEN]);

/*
 * Reads and parses a manifest file (at most MANIFEST_MAX_LEN bytes) into m, keeping its text
 * in buf (cap >= MANIFEST_MAX_LEN) for manifest_verify. 0, or a negative errno with err set.
 */
int manifest_load(const char *path, struct manifest *m, char *buf, size_t cap, char *err,
		  size_t err_cap);

#endif
