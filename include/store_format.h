/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packed chunk store on disk: the boundary between `superpeer pack` (writer) and
 * everything that maps a store read-only (the data plane, `superpeer verify`, fetch).
 * docs/store-format.md is the prose version of this header.
 *
 * A store is a directory holding three files:
 *   chunks    the content, byte for byte, not padded: chunk i is at offset i * chunk_size,
 *             the last chunk is content_len - (N - 1) * chunk_size bytes long.
 *   tree      a struct store_tree_header, then every node of the Merkle tree (RFC 7574 §5) in
 *             PPSPP bin order: node_count = 2W - 1 hashes of hash_len bytes, W the smallest
 *             power of two >= N. Bin b is at offset STORE_TREE_HEADER_LEN + b * hash_len.
 *             Nodes past the content are zero, as the tree rules make them.
 *   manifest  the signed manifest (include/manifest_format.h).
 *
 * All integers are little-endian, whatever the host; use the accessors below.
 */
#ifndef SUPERPEER_STORE_FORMAT_H
#define SUPERPEER_STORE_FORMAT_H

#include <assert.h>
#include <endian.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_CHUNKS_FILE "chunks"
#define STORE_TREE_FILE "tree"
#define STORE_MANIFEST_FILE "manifest"

/* "SPTREE" then 0x00 0x1a: a NUL stops C strings, 0x1a stops `type` on a text console. */
#define STORE_TREE_MAGIC "SPTREE\0\x1a"

enum {
	STORE_TREE_MAGIC_LEN = 8,
	STORE_TREE_VERSION = 1,
	STORE_TREE_HEADER_LEN = 64, /* nodes start on a cache line */
};

struct store_tree_header {
	uint8_t magic[STORE_TREE_MAGIC_LEN]; /* STORE_TREE_MAGIC */
	uint32_t version_le;		     /* STORE_TREE_VERSION */
	uint32_t header_len_le;		     /* STORE_TREE_HEADER_LEN */
	uint8_t hash_alg;		     /* PPSPP Merkle hash code: 0 SHA-1, 2 SHA-256 */
	uint8_t hash_len;		     /* 20 or 32 */
	uint8_t height;			     /* log2 W */
	uint8_t reserved0;		     /* 0 */
	uint32_t chunk_size_le;		     /* power of two, 512..8192 */
	uint64_t chunk_count_le;	     /* N >= 1 */
	uint64_t content_len_le;	     /* >= 1 */
	uint64_t node_count_le;		     /* 2W - 1 */
	uint8_t reserved1[16];		     /* 0 */
};

static_assert(sizeof(struct store_tree_header) == STORE_TREE_HEADER_LEN, "tree header size");
static_assert(offsetof(struct store_tree_header, version_le) == 8, "version offset");
static_assert(offsetof(struct store_tree_header, header_len_le) == 12, "header_len offset");
static_assert(offsetof(struct store_tree_header, hash_alg) == 16, "hash_alg offset");
static_assert(offsetof(struct store_tree_header, chunk_size_le) == 20, "chunk_size offset");
static_assert(offsetof(struct store_tree_header, chunk_count_le) == 24, "chunk_count offset");
static_assert(offsetof(struct store_tree_header, content_len_le) == 32, "content_len offset");
static_assert(offsetof(struct store_tree_header, node_count_le) == 40, "node_count offset");
static_assert(offsetof(struct store_tree_header, reserved1) == 48, "reserved1 offset");

static inline uint32_t store_le32(uint32_t v)
{
	return le32toh(v);
}

static inline uint64_t store_le64(uint64_t v)
{
	return le64toh(v);
}

#endif
