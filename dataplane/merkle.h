/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PPSPP Merkle hash trees (RFC 7574 §5; digest: specs/ppspp-tracker-alto.md §1.6).
 *
 * Rules: leaf = H(chunk) (a short last chunk is hashed as it is); the tree is the smallest
 * balanced binary tree whose base is >= N leaves; unused leaves are all-zero strings of hash
 * length; a parent of two zero nodes is zero (not hashed); any other parent is
 * H(left || right); the root is the swarm ID (for N = 1 it is H(chunk)).
 *
 * Nodes are named by PPSPP bin numbers: leaf i is bin 2i, the node at layer l, index k is
 * (k << (l + 1)) | ((1 << l) - 1). A tree of height h (width W = 2^h leaves) has the bins
 * 0 .. 2W - 2, its root is bin W - 1, and the subtree under any node is a contiguous bin
 * range, which is what lets the builder write it in large pieces.
 *
 * Whether a node is "zero" is decided by position (its leftmost leaf is >= N), never by
 * comparing its bytes with zero.
 *
 * Returns are 0 or a negative errno: -EINVAL for arguments that cannot describe a tree,
 * -EBADMSG for hashes that do not verify, -ENOMEM.
 */
#ifndef SUPERPEER_MERKLE_H
#define SUPERPEER_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

enum {
	/* 32-bit chunk addressing (the PPSPP default): at most 2^32 leaves, height <= 32. */
	MERKLE_MAX_HEIGHT = 32,
	MERKLE_CHUNK_MIN = 512,
	MERKLE_CHUNK_MAX = 8192,
	/* Peaks: one per 1-bit of N. */
	MERKLE_MAX_PEAKS = MERKLE_MAX_HEIGHT + 1,
};

/* ---- bins --------------------------------------------------------------------------- */

static inline uint64_t merkle_bin(unsigned layer, uint64_t index)
{
	return (index << (layer + 1)) | ((UINT64_C(1) << layer) - 1);
}

/* Layer of a bin: the number of trailing 1 bits. */
static inline unsigned merkle_bin_layer(uint64_t bin)
{
	return (unsigned)__builtin_ctzll(~bin);
}

static inline uint64_t merkle_bin_index(uint64_t bin)
{
	return bin >> (merkle_bin_layer(bin) + 1);
}

/* First (leftmost) chunk under a bin, and the number of chunks it spans. */
static inline uint64_t merkle_bin_first_chunk(uint64_t bin)
{
	return merkle_bin_index(bin) << merkle_bin_layer(bin);
}

static inline uint64_t merkle_bin_width(uint64_t bin)
{
	return UINT64_C(1) << merkle_bin_layer(bin);
}

static inline bool merkle_bin_is_left(uint64_t bin)
{
	return (merkle_bin_index(bin) & 1) == 0;
}

static inline uint64_t merkle_bin_parent(uint64_t bin)
{
	unsigned l = merkle_bin_layer(bin);

	return merkle_bin(l + 1, merkle_bin_index(bin) >> 1);
}

static inline uint64_t merkle_bin_sibling(uint64_t bin)
{
	return bin ^ (UINT64_C(1) << (merkle_bin_layer(bin) + 1));
}

/* True when bin a is bin b or one of b's descendants. */
static inline bool merkle_bin_within(uint64_t a, uint64_t b)
{
	uint64_t half = (UINT64_C(1) << merkle_bin_layer(b)) - 1;

	return a >= b - half && a <= b + half;
}

/* ---- geometry ----------------------------------------------------------------------- */

/* Chunks of content_len bytes: ceil(len / chunk_size). */
uint64_t merkle_chunk_count(uint64_t content_len, uint32_t chunk_size);
/* Height of the smallest tree with at least n leaves (0 for n = 1). */
unsigned merkle_height(uint64_t n_chunks);
/* Bins in the full tree of n chunks: 2W - 1. */
uint64_t merkle_bin_count(uint64_t n_chunks);
/* Root bin of the tree of n chunks: W - 1. */
uint64_t merkle_root_bin(uint64_t n_chunks);
/* Chunk size 512..8192 and a power of two. */
bool merkle_chunk_size_valid(uint32_t chunk_size);
/* Peak bins of n chunks, left to right (one per 1-bit of n). Returns the count. */
unsigned merkle_peaks(uint64_t n_chunks, uint64_t bins[static MERKLE_MAX_PEAKS]);

/* ---- building: streamed, bounded memory --------------------------------------------- */

/*
 * Receives count consecutive nodes (bins first_bin .. first_bin + count - 1, hash_len bytes
 * each). Bins the builder never emits are zero: the sink's storage must start zeroed. Returns
 * 0 or a negative errno, which aborts the build.
 */
typedef int (*merkle_sink_fn)(void *ctx, uint64_t first_bin, const uint8_t *nodes,
			      uint64_t count);

struct merkle_builder;

/*
 * A builder for content of exactly content_len bytes (>= 1). It hashes leaves and the
 * lower levels of each block of leaves with hash_burst and keeps O(block + log N) state.
 * e must stay valid until merkle_builder_free.
 */
int merkle_builder_new(struct merkle_builder **out, struct crypto_engine *e, enum hash_alg alg,
		       uint32_t chunk_size, uint64_t content_len, merkle_sink_fn sink, void *ctx);
/* Feeds the next len bytes of content (any split). -EINVAL past content_len. */
int merkle_builder_add(struct merkle_builder *b, const void *data, size_t len);
/* After all content: emits the last nodes and copies the root (hash_len bytes). -EINVAL if
 * content is missing. */
int merkle_builder_finish(struct merkle_builder *b, uint8_t *root);
void merkle_builder_free(struct merkle_builder *b);

/* ---- a whole tree in memory (or over a mapped tree file) ---------------------------- */

struct merkle_tree {
	enum hash_alg alg;
	uint32_t hash_len;
	uint32_t chunk_size;
	uint64_t content_len;
	uint64_t n_chunks;
	unsigned height;
	uint64_t n_bins;
	const uint8_t *nodes; /* n_bins * hash_len bytes in bin order */
	uint8_t *owned;	      /* == nodes when this struct allocated them */
	size_t owned_map_len; /* owned was mmap'd (taken from a verifier): its length */
};

/* Builds the tree of content (len >= 1 bytes) in memory. */
int merkle_tree_build(struct merkle_tree *t, struct crypto_engine *e, enum hash_alg alg,
		      uint32_t chunk_size, const void *content, uint64_t len);
/*
 * Describes nodes someone else holds (a mapped tree file). nodes_len must be exactly
 * merkle_bin_count(n) * hash_len. Nothing is checked against content here.
 */
int merkle_tree_view(struct merkle_tree *t, enum hash_alg alg, uint32_t chunk_size,
		     uint64_t content_len, const uint8_t *nodes, uint64_t nodes_len);
void merkle_tree_free(struct merkle_tree *t);
/* Hash of a bin, or NULL outside the tree. */
const uint8_t *merkle_tree_node(const struct merkle_tree *t, uint64_t bin);
const uint8_t *merkle_tree_root(const struct merkle_tree *t);
/*
 * Uncle bins of chunk up to trusted_bin (an ancestor of the chunk's leaf, or the leaf itself)
 * in wire order: descending height. Writes at most cap bins; returns the count (the layer of
 * trusted_bin) or -EINVAL.
 */
int merkle_tree_uncles(const struct merkle_tree *t, uint64_t chunk, uint64_t trusted_bin,
		       uint64_t *bins, unsigned cap);

/* ---- verification ------------------------------------------------------------------- */

/*
 * Verifies chunk data against the trusted hash of trusted_bin (an ancestor of the chunk's
 * leaf), given the uncles (n_uncles * hash_len bytes) in descending height. 0, -EBADMSG when
 * the hashes do not lead to the trusted one, -EINVAL when n_uncles is not the layer of
 * trusted_bin or the bin is not above the chunk.
 */
int merkle_chunk_verify(struct crypto_engine *e, enum hash_alg alg, uint64_t chunk,
			const void *data, size_t len, uint64_t trusted_bin,
			const uint8_t *trusted_hash, const uint8_t *uncles, unsigned n_uncles);

/*
 * Checks peak hashes (n * hash_len bytes, left to right, as sent on the wire with their bins)
 * against the root with the RFC 7574 §5.6 walk. The bins must be the peaks of some N: the
 * first starts at chunk 0, each next starts where the previous ends, heights strictly fall.
 * On success *n_chunks (may be NULL) is N. 0, -EBADMSG or -EINVAL.
 */
int merkle_peaks_check(struct crypto_engine *e, enum hash_alg alg, const uint64_t *bins,
		       const uint8_t *hashes, unsigned n, const uint8_t *root,
		       uint64_t *n_chunks);

/*
 * A receiver's view of one swarm: the nodes it trusts. At start the root is trusted (and the
 * zero nodes, known by position). A chunk is checked against its lowest trusted ancestor;
 * when it verifies, its leaf, every ancestor computed on the way and every uncle used become
 * trusted, so later chunks need fewer uncles. A failed check changes nothing.
 */
struct merkle_verifier {
	enum hash_alg alg;
	uint32_t hash_len;
	uint32_t chunk_size;
	uint64_t content_len;
	uint64_t n_chunks;
	unsigned height;
	uint64_t n_bins;
	uint8_t *nodes;	  /* n_bins * hash_len */
	size_t nodes_len; /* bytes; mapped (not malloc'd) from 2 MiB up */
	uint64_t *trust;  /* bitmap of trusted bins */
};

int merkle_verifier_init(struct merkle_verifier *v, enum hash_alg alg, uint32_t chunk_size,
			 uint64_t content_len, const uint8_t *root);
void merkle_verifier_fini(struct merkle_verifier *v);
bool merkle_verifier_trusts(const struct merkle_verifier *v, uint64_t bin);
/* Trusts the peaks (hashes left to right, as many as merkle_peaks gives) after checking them
 * against the root. 0, -EBADMSG. */
int merkle_verifier_add_peaks(struct merkle_verifier *v, struct crypto_engine *e,
			      const uint8_t *hashes, unsigned n);
/* The uncle bins chunk still needs, descending height. Returns the count or -EINVAL. */
int merkle_verifier_uncles(const struct merkle_verifier *v, uint64_t chunk, uint64_t *bins,
			   unsigned cap);
/*
 * Checks chunk (its exact length: chunk_size, or the remainder for the last chunk) with the
 * uncles merkle_verifier_uncles named, in that order. 0, -EBADMSG, -EINVAL.
 */
int merkle_verifier_check(struct merkle_verifier *v, struct crypto_engine *e, uint64_t chunk,
			  const void *data, size_t len, const uint8_t *uncles, unsigned n_uncles);
/*
 * The same with the chunk's leaf hash already computed (by a caller that hashed many chunks
 * in one multi-buffer burst); len is the chunk's length, checked as above.
 */
int merkle_verifier_check_leaf(struct merkle_verifier *v, struct crypto_engine *e,
			       uint64_t chunk, size_t len, const uint8_t *leaf,
			       const uint8_t *uncles, unsigned n_uncles);

/*
 * The tree of a verifier that has checked every chunk, without hashing the content again:
 * every node inside a peak's subtree is then trusted (the first chunk checked below a trusted
 * node trusts both its children), so only the nodes above the peaks are computed, from their
 * children, and the padding past the last chunk stays zero, as merkle_tree_build makes them.
 * The root computed that way must equal the verifier's root. The verifier gives its node
 * array to t (it may then only be finished). 0, -EAGAIN while a leaf hash is not known yet
 * (a chunk unchecked; a chunk that is a peak of its own is known from the peaks), or
 * -EBADMSG.
 */
int merkle_tree_adopt(struct merkle_tree *t, struct merkle_verifier *v,
		      struct crypto_engine *e);

#endif
