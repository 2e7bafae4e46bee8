/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The signed manifest: the boundary between a content service provider and every super-peer
 * and user peer (security domain C). docs/store-format.md describes it in prose.
 *
 * A manifest is UTF-8/ASCII text, LF line ends, exactly these lines in this order, each
 * "key: value\n" with one space after the colon and no other spaces around the value:
 *
 *   1 superpeer-manifest: 1
 *   2 swarm-id: <lowercase hex of the Merkle root, 40 or 64 digits>
 *   3 hash: sha256 | sha1
 *   4 chunk-size: <decimal, power of two 512..8192, no leading zero>
 *   5 content-length: <decimal >= 1, no leading zero>
 *   6 name: <1..255 bytes, none below 0x20 nor 0x7f>
 *   7 provider-key: <16 lowercase hex: first 8 bytes of SHA-256 of the Ed25519 public key>
 *   8 signature: <128 lowercase hex: Ed25519 over the exact bytes of lines 1..7, LFs included>
 *
 * Nothing may follow line 8. The whole file is at most MANIFEST_MAX_LEN bytes.
 */
#ifndef SUPERPEER_MANIFEST_FORMAT_H
#define SUPERPEER_MANIFEST_FORMAT_H

#include <assert.h>

#define MANIFEST_MAGIC_LINE "superpeer-manifest: 1\n"

#define MANIFEST_KEY_MAGIC "superpeer-manifest"
#define MANIFEST_KEY_SWARM_ID "swarm-id"
#define MANIFEST_KEY_HASH "hash"
#define MANIFEST_KEY_CHUNK_SIZE "chunk-size"
#define MANIFEST_KEY_CONTENT_LENGTH "content-length"
#define MANIFEST_KEY_NAME "name"
#define MANIFEST_KEY_PROVIDER_KEY "provider-key"
#define MANIFEST_KEY_SIGNATURE "signature"

enum {
	MANIFEST_VERSION = 1,
	MANIFEST_LINES = 8,
	MANIFEST_MAX_LEN = 1024,
	MANIFEST_NAME_MAX = 255,
	MANIFEST_KEY_ID_LEN = 8,  /* bytes; 16 hex digits */
	MANIFEST_SIG_LEN = 64,	  /* Ed25519 */
	MANIFEST_SWARM_ID_MAX = 32,
};

/* The longest possible manifest must fit: 8 keys, separators and the largest values. */
static_assert(sizeof(MANIFEST_MAGIC_LINE) - 1 + sizeof("swarm-id: \n") - 1 + 64 +
			      sizeof("hash: sha256\n") - 1 + sizeof("chunk-size: 8192\n") - 1 +
			      sizeof("content-length: 18446744073709551615\n") - 1 +
			      sizeof("name: \n") - 1 + MANIFEST_NAME_MAX +
			      sizeof("provider-key: \n") - 1 + 2 * MANIFEST_KEY_ID_LEN +
			      sizeof("signature: \n") - 1 + 2 * MANIFEST_SIG_LEN <=
		      MANIFEST_MAX_LEN,
	      "MANIFEST_MAX_LEN too small");

#endif
