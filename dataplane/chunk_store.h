/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A packed store (docs/store-format.md) opened for serving: the manifest parsed and its
 * signature checked against the provider's public key, `chunks` and `tree` mapped read-only,
 * the tree header checked against the manifest and the tree's root against the swarm ID.
 * Setup code: opening reads files; serving only reads the mappings.
 *
 * What opening does not do is rehash every chunk (that is `superpeer verify`): a store whose
 * chunk bytes were altered after packing still serves, and the receiver's Merkle check
 * refuses the chunk. Serving never sends a hash the root does not vouch for.
 */
#ifndef SUPERPEER_CHUNK_STORE_H
#define SUPERPEER_CHUNK_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "manifest.h"
#include "merkle.h"
#include "store_format.h"

struct chunk_store {
	struct manifest m;
	const uint8_t *chunks;	 /* m.content_len bytes, mapped */
	struct merkle_tree tree; /* a view over the mapped tree file */
	uint64_t peaks[MERKLE_MAX_PEAKS];
	unsigned n_peaks;
	void *tree_map;
	size_t tree_map_len;
	void *chunks_map;
	size_t chunks_map_len;
	/*
	 * Per chunk, its 16-bit ones'-complement sum (RFC 1071) | 0x10000 once the data plane
	 * has computed it, 0 before: the UDP checksum of a chunk's datagram then costs its
	 * headers only. 4 bytes per chunk; written by whichever worker serves the chunk first
	 * (every writer stores the same value).
	 */
	uint32_t *sums;
	/*
	 * NULL for a whole store. A store still being ingested points at the count of chunks,
	 * from the first, that are verified and in place: the ingest's owner raises it (release)
	 * after writing a chunk and the tree nodes that vouch for it; a seeder reads it
	 * (acquire) before it announces or reads a chunk (docs/dataplane.md, "Serving while
	 * ingesting").
	 */
	const uint64_t *avail;
};

/* Chunks servable from the first: all of them, or what an ingest has verified so far. */
static inline uint64_t chunk_store_avail(const struct chunk_store *s)
{
	return s->avail == NULL ? s->tree.n_chunks : __atomic_load_n(s->avail, __ATOMIC_ACQUIRE);
}

/*
 * Opens the store in dir. pub: the provider's Ed25519 public key the manifest must be signed
 * with. 0, or a negative errno with one line in err naming the file and the problem.
 */
int chunk_store_open(struct chunk_store *s, struct crypto_engine *e, const char *dir,
	const uint8_t pub[static ED25519_PUBLIC_LEN], char *err, size_t cap);
void chunk_store_close(struct chunk_store *s);

/*
 * Writes s as a packed store (include/store_format.h) in the new directory dir, whose parent
 * must exist and dir itself must not: the three files go to a temporary directory next to
 * it, each fsync'd, which is then renamed to dir (and the parent fsync'd), so dir is either
 * a whole store or absent. manifest: the signed manifest's text, len bytes. 0, or a negative
 * errno with one line in err. Blocking I/O: for a thread of its own, not a worker.
 */
int chunk_store_save(const struct chunk_store *s, const char *manifest, size_t len, const char *dir,
	char *err, size_t cap);
/*
 * A provider's public key file (64 hex digits, as superpeer keygen writes it) into pub.
 * 0, or -1 with one line in err naming the file.
 */
int chunk_store_pub_read(
	const char *path, uint8_t pub[static ED25519_PUBLIC_LEN], char *err, size_t cap);
/* The zeroed sums array for s->tree.n_chunks chunks (opening does it); 0 or -ENOMEM. */
int chunk_store_sums_alloc(struct chunk_store *s);

/* Chunk i's bytes and length (chunk_size, or less for the last). NULL when i is past the end. */
const uint8_t *chunk_store_chunk(const struct chunk_store *s, uint64_t i, size_t *len);

/* ---- the tree file header (shared with superpeer pack and verify) -------------------- */

/* Fills a tree header for content of len bytes. */
void store_tree_header_fill(
	struct store_tree_header *h, enum hash_alg alg, uint32_t chunk_size, uint64_t len);
/*
 * Checks a tree header against a parsed manifest: header fields and the exact file size.
 * 0, or -EINVAL with a message in err.
 */
int store_tree_header_check(const struct store_tree_header *h, uint64_t file_len,
	const struct manifest *m, char *err, size_t cap);

#endif
