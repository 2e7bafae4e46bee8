/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PPSPP Merkle hash trees (RFC 7574 §5): building (streamed, bounded memory, multi-buffer
 * hashing), uncles, peaks and verification with incremental trust. No DPDK, no I/O.
 *
 * The builder works in blocks of B = 2^b leaves. The subtree of one block is a contiguous
 * run of bins (block k covers bins k*2B .. k*2B + 2B - 2), so it is hashed level by level in
 * bursts and handed to the sink in one piece. Nodes above the blocks are combined with a
 * binary-counter stack of at most one pending left node per layer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "merkle.h"

/* 4096 leaves per block: bursts long enough to fill every SIMD lane, state ~0.5 MiB. */
#define MERKLE_BLOCK_LAYER 12

static const uint8_t merkle_zero[HASH_MAX_LEN];

uint64_t merkle_chunk_count(uint64_t content_len, uint32_t chunk_size)
{
	if (chunk_size == 0)
		return 0;
	return content_len / chunk_size + (content_len % chunk_size != 0);
}

unsigned merkle_height(uint64_t n_chunks)
{
	unsigned h = 0;

	while (h < 64 && (UINT64_C(1) << h) < n_chunks)
		h++;
	return h;
}

uint64_t merkle_bin_count(uint64_t n_chunks)
{
	return (UINT64_C(2) << merkle_height(n_chunks)) - 1;
}

uint64_t merkle_root_bin(uint64_t n_chunks)
{
	return (UINT64_C(1) << merkle_height(n_chunks)) - 1;
}

bool merkle_chunk_size_valid(uint32_t chunk_size)
{
	return chunk_size >= MERKLE_CHUNK_MIN && chunk_size <= MERKLE_CHUNK_MAX &&
	       (chunk_size & (chunk_size - 1)) == 0;
}

unsigned merkle_peaks(uint64_t n_chunks, uint64_t bins[static MERKLE_MAX_PEAKS])
{
	uint64_t pos = 0;
	unsigned c = 0;

	for (int l = MERKLE_MAX_HEIGHT; l >= 0; l--) {
		if ((n_chunks >> l) & 1) {
			bins[c++] = merkle_bin((unsigned)l, pos >> l);
			pos += UINT64_C(1) << l;
		}
	}
	return c;
}

/* Geometry checks shared by every entry point: 1 <= N <= 2^32, a known hash. */
static int merkle_geometry(enum hash_alg alg, uint32_t chunk_size, uint64_t content_len,
			   uint64_t *n_chunks)
{
	if (hash_len(alg) == 0 || !merkle_chunk_size_valid(chunk_size) || content_len == 0)
		return -EINVAL;
	*n_chunks = merkle_chunk_count(content_len, chunk_size);
	if (merkle_height(*n_chunks) > MERKLE_MAX_HEIGHT)
		return -EINVAL;
	return 0;
}

/* H(left || right) for single interior nodes (above the blocks, verification). */
static void merkle_hash_pair(struct crypto_engine *e, enum hash_alg alg, const uint8_t *left,
			     const uint8_t *right, uint8_t *out)
{
	size_t hl = hash_len(alg);
	uint8_t buf[2 * HASH_MAX_LEN];

	memcpy(buf, left, hl);
	memcpy(buf + hl, right, hl);
	hash_oneshot(e, alg, buf, 2 * hl, out);
}

/* ---- builder ------------------------------------------------------------------------ */

struct merkle_builder {
	struct crypto_engine *e;
	enum hash_alg alg;
	uint32_t hl;
	uint32_t chunk_size;
	uint64_t content_len;
	uint64_t n_chunks;
	unsigned height;
	unsigned blayer;      /* b: blocks of 2^b leaves */
	uint64_t bleaves;     /* B = 2^b */
	uint64_t fed;	      /* content bytes taken */
	uint64_t next_leaf;   /* leaves hashed */
	uint64_t filled;      /* leaves hashed in the current block */
	uint64_t block;	      /* index of the current block */
	merkle_sink_fn sink;
	void *ctx;
	uint8_t *levels;      /* level l of a block: B >> l hashes at level_off[l] */
	uint64_t level_off[MERKLE_MAX_HEIGHT + 1];
	uint8_t *binbuf;      /* one block's subtree in bin order: 2B - 1 hashes */
	struct hash_op *ops;  /* B */
	uint8_t *partial;     /* a chunk split across add() calls */
	size_t partial_len;
	bool done;
	uint8_t root[HASH_MAX_LEN];
	uint8_t pending[MERKLE_MAX_HEIGHT + 1][HASH_MAX_LEN];
	bool pending_zero[MERKLE_MAX_HEIGHT + 1];
};

static size_t merkle_builder_chunk_len(const struct merkle_builder *b, uint64_t chunk)
{
	if (chunk + 1 < b->n_chunks)
		return b->chunk_size;
	return (size_t)(b->content_len - (b->n_chunks - 1) * b->chunk_size);
}

int merkle_builder_new(struct merkle_builder **out, struct crypto_engine *e, enum hash_alg alg,
		       uint32_t chunk_size, uint64_t content_len, merkle_sink_fn sink, void *ctx)
{
	struct merkle_builder *b;
	uint64_t n, off = 0;
	int rc;

	*out = NULL;
	rc = merkle_geometry(alg, chunk_size, content_len, &n);
	if (rc != 0)
		return rc;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return -ENOMEM;
	b->e = e;
	b->alg = alg;
	b->hl = (uint32_t)hash_len(alg);
	b->chunk_size = chunk_size;
	b->content_len = content_len;
	b->n_chunks = n;
	b->height = merkle_height(n);
	b->blayer = b->height < MERKLE_BLOCK_LAYER ? b->height : MERKLE_BLOCK_LAYER;
	b->bleaves = UINT64_C(1) << b->blayer;
	b->sink = sink;
	b->ctx = ctx;
	for (unsigned l = 0; l <= b->blayer; l++) {
		b->level_off[l] = off;
		off += (b->bleaves >> l) * b->hl;
	}
	b->levels = malloc(off);
	b->binbuf = malloc((2 * b->bleaves - 1) * b->hl);
	b->ops = malloc(b->bleaves * sizeof(*b->ops));
	b->partial = malloc(chunk_size);
	if (b->levels == NULL || b->binbuf == NULL || b->ops == NULL || b->partial == NULL) {
		merkle_builder_free(b);
		return -ENOMEM;
	}
	*out = b;
	return 0;
}

void merkle_builder_free(struct merkle_builder *b)
{
	if (b == NULL)
		return;
	free(b->levels);
	free(b->binbuf);
	free(b->ops);
	free(b->partial);
	free(b);
}

/* Zero by position: the node's leftmost leaf lies past the last chunk. */
static bool merkle_builder_is_zero(const struct merkle_builder *b, unsigned layer, uint64_t index)
{
	return (index << layer) >= b->n_chunks;
}

/* Carries a finished node at (layer, index) up the pending stack. */
static int merkle_builder_push(struct merkle_builder *b, unsigned layer, uint64_t index,
			       const uint8_t *h, bool zero)
{
	uint8_t cur[HASH_MAX_LEN];
	int rc;

	memcpy(cur, h, b->hl);
	while (layer < b->height) {
		bool pzero;

		if ((index & 1) == 0) {
			memcpy(b->pending[layer], cur, b->hl);
			b->pending_zero[layer] = zero;
			return 0;
		}
		/* A zero left node with a real right one cannot happen: zeros are on the right. */
		pzero = b->pending_zero[layer] && zero;
		if (!pzero)
			merkle_hash_pair(b->e, b->alg, b->pending[layer], zero ? merkle_zero : cur,
					 cur);
		else
			memset(cur, 0, b->hl);
		layer++;
		index >>= 1;
		zero = pzero;
		if (!zero) {
			rc = b->sink(b->ctx, merkle_bin(layer, index), cur, 1);
			if (rc != 0)
				return rc;
		}
	}
	memcpy(b->root, cur, b->hl);
	return 0;
}

/* Hashes the interior levels of the current block, emits its subtree, carries its root. */
static int merkle_builder_flush_block(struct merkle_builder *b)
{
	uint64_t first_leaf = b->block << b->blayer;
	uint8_t *lv0 = b->levels + b->level_off[0];
	int rc;

	memset(lv0 + b->filled * b->hl, 0, (b->bleaves - b->filled) * b->hl);
	for (unsigned l = 1; l <= b->blayer; l++) {
		uint8_t *below = b->levels + b->level_off[l - 1];
		uint8_t *cur = b->levels + b->level_off[l];
		uint64_t count = b->bleaves >> l;
		unsigned nops = 0;

		for (uint64_t j = 0; j < count; j++) {
			if (first_leaf + (j << l) >= b->n_chunks) {
				memset(cur + j * b->hl, 0, b->hl);
				continue;
			}
			b->ops[nops].src = below + 2 * j * b->hl;
			b->ops[nops].len = 2 * b->hl;
			b->ops[nops].out = cur + j * b->hl;
			nops++;
		}
		hash_burst(b->e, b->alg, b->ops, nops);
	}
	for (unsigned l = 0; l <= b->blayer; l++) {
		const uint8_t *src = b->levels + b->level_off[l];

		for (uint64_t j = 0; j < (b->bleaves >> l); j++)
			memcpy(b->binbuf + merkle_bin(l, j) * b->hl, src + j * b->hl, b->hl);
	}
	rc = b->sink(b->ctx, b->block * 2 * b->bleaves, b->binbuf, 2 * b->bleaves - 1);
	if (rc != 0)
		return rc;
	rc = merkle_builder_push(b, b->blayer, b->block,
				 b->levels + b->level_off[b->blayer], false);
	b->block++;
	b->filled = 0;
	return rc;
}

int merkle_builder_add(struct merkle_builder *b, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint8_t *lv0 = b->levels + b->level_off[0];
	int rc;

	if (b->done || len > b->content_len - b->fed)
		return -EINVAL;
	b->fed += len;
	while (len > 0) {
		size_t want = merkle_builder_chunk_len(b, b->next_leaf);
		unsigned nops = 0;

		if (b->partial_len > 0 || len < want) {
			/* Gather a chunk that arrives in pieces. */
			size_t take = want - b->partial_len;

			if (take > len)
				take = len;
			memcpy(b->partial + b->partial_len, p, take);
			b->partial_len += take;
			p += take;
			len -= take;
			if (b->partial_len < want)
				break;
			hash_oneshot(b->e, b->alg, b->partial, want, lv0 + b->filled * b->hl);
			b->partial_len = 0;
			b->next_leaf++;
			b->filled++;
		} else {
			/* Whole chunks straight from the caller's buffer, one burst. */
			while (b->filled + nops < b->bleaves && len >= want && want > 0) {
				b->ops[nops].src = p;
				b->ops[nops].len = (uint32_t)want;
				b->ops[nops].out = lv0 + (b->filled + nops) * b->hl;
				nops++;
				p += want;
				len -= want;
				want = b->next_leaf + nops < b->n_chunks ?
					       merkle_builder_chunk_len(b, b->next_leaf + nops) :
					       0;
			}
			hash_burst(b->e, b->alg, b->ops, nops);
			b->next_leaf += nops;
			b->filled += nops;
		}
		if (b->filled == b->bleaves) {
			rc = merkle_builder_flush_block(b);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

int merkle_builder_finish(struct merkle_builder *b, uint8_t *root)
{
	uint64_t blocks = (UINT64_C(1) << b->height) >> b->blayer;
	int rc;

	if (b->done || b->fed != b->content_len || b->next_leaf != b->n_chunks)
		return -EINVAL;
	if (b->filled > 0) {
		rc = merkle_builder_flush_block(b);
		if (rc != 0)
			return rc;
	}
	/* Blocks past the content are zero subtrees: nothing to emit, only carries. */
	for (; b->block < blocks; b->block++) {
		rc = merkle_builder_push(b, b->blayer, b->block, merkle_zero,
					 merkle_builder_is_zero(b, b->blayer, b->block));
		if (rc != 0)
			return rc;
	}
	b->done = true;
	memcpy(root, b->root, b->hl);
	return 0;
}

/* ---- in-memory tree ----------------------------------------------------------------- */

static int merkle_tree_sink(void *ctx, uint64_t first_bin, const uint8_t *nodes, uint64_t count)
{
	struct merkle_tree *t = ctx;

	if (first_bin + count > t->n_bins)
		return -EINVAL;
	memcpy(t->owned + first_bin * t->hash_len, nodes, count * t->hash_len);
	return 0;
}

static int merkle_tree_describe(struct merkle_tree *t, enum hash_alg alg, uint32_t chunk_size,
				uint64_t content_len)
{
	uint64_t n;
	int rc = merkle_geometry(alg, chunk_size, content_len, &n);

	if (rc != 0)
		return rc;
	memset(t, 0, sizeof(*t));
	t->alg = alg;
	t->hash_len = (uint32_t)hash_len(alg);
	t->chunk_size = chunk_size;
	t->content_len = content_len;
	t->n_chunks = n;
	t->height = merkle_height(n);
	t->n_bins = merkle_bin_count(n);
	return 0;
}

int merkle_tree_build(struct merkle_tree *t, struct crypto_engine *e, enum hash_alg alg,
		      uint32_t chunk_size, const void *content, uint64_t len)
{
	struct merkle_builder *b = NULL;
	uint8_t root[HASH_MAX_LEN];
	int rc;

	rc = merkle_tree_describe(t, alg, chunk_size, len);
	if (rc != 0)
		return rc;
	if (len > SIZE_MAX)
		return -EINVAL;
	t->owned = calloc(t->n_bins, t->hash_len);
	if (t->owned == NULL)
		return -ENOMEM;
	t->nodes = t->owned;
	rc = merkle_builder_new(&b, e, alg, chunk_size, len, merkle_tree_sink, t);
	if (rc == 0)
		rc = merkle_builder_add(b, content, (size_t)len);
	if (rc == 0)
		rc = merkle_builder_finish(b, root);
	merkle_builder_free(b);
	if (rc != 0)
		merkle_tree_free(t);
	return rc;
}

int merkle_tree_view(struct merkle_tree *t, enum hash_alg alg, uint32_t chunk_size,
		     uint64_t content_len, const uint8_t *nodes, uint64_t nodes_len)
{
	int rc = merkle_tree_describe(t, alg, chunk_size, content_len);

	if (rc != 0)
		return rc;
	if (nodes_len != t->n_bins * t->hash_len)
		return -EINVAL;
	t->nodes = nodes;
	return 0;
}

void merkle_tree_free(struct merkle_tree *t)
{
	if (t->owned != NULL && t->owned_map_len != 0)
		munmap(t->owned, t->owned_map_len);
	else
		free(t->owned);
	t->owned = NULL;
	t->owned_map_len = 0;
	t->nodes = NULL;
}

const uint8_t *merkle_tree_node(const struct merkle_tree *t, uint64_t bin)
{
	if (t->nodes == NULL || bin >= t->n_bins)
		return NULL;
	return t->nodes + bin * t->hash_len;
}

const uint8_t *merkle_tree_root(const struct merkle_tree *t)
{
	return merkle_tree_node(t, merkle_root_bin(t->n_chunks));
}

int merkle_tree_uncles(const struct merkle_tree *t, uint64_t chunk, uint64_t trusted_bin,
		       uint64_t *bins, unsigned cap)
{
	unsigned n;

	if (chunk >= t->n_chunks || trusted_bin >= t->n_bins ||
	    !merkle_bin_within(2 * chunk, trusted_bin))
		return -EINVAL;
	n = merkle_bin_layer(trusted_bin);
	if (n > cap)
		return -EINVAL;
	for (unsigned l = 0; l < n; l++)
		bins[n - 1 - l] = merkle_bin_sibling(merkle_bin(l, chunk >> l));
	return (int)n;
}

/* ---- verification ------------------------------------------------------------------- */

/* Walks from the leaf hash in path[0] up n layers; path[l] receives the node at layer l. */
static void merkle_path_up(struct crypto_engine *e, enum hash_alg alg, uint64_t chunk,
			   const uint8_t *uncles, unsigned n, uint8_t path[][HASH_MAX_LEN])
{
	size_t hl = hash_len(alg);

	for (unsigned l = 0; l < n; l++) {
		const uint8_t *u = uncles + (size_t)(n - 1 - l) * hl;

		if ((chunk >> l) & 1)
			merkle_hash_pair(e, alg, u, path[l], path[l + 1]);
		else
			merkle_hash_pair(e, alg, path[l], u, path[l + 1]);
	}
}

static void merkle_path(struct crypto_engine *e, enum hash_alg alg, uint64_t chunk,
			const void *data, size_t len, const uint8_t *uncles, unsigned n,
			uint8_t path[][HASH_MAX_LEN])
{
	hash_oneshot(e, alg, data, len, path[0]);
	merkle_path_up(e, alg, chunk, uncles, n, path);
}

int merkle_chunk_verify(struct crypto_engine *e, enum hash_alg alg, uint64_t chunk,
			const void *data, size_t len, uint64_t trusted_bin,
			const uint8_t *trusted_hash, const uint8_t *uncles, unsigned n_uncles)
{
	uint8_t path[MERKLE_MAX_HEIGHT + 1][HASH_MAX_LEN];
	size_t hl = hash_len(alg);

	if (hl == 0 || len == 0 || len > UINT32_MAX || chunk > UINT32_MAX ||
	    trusted_bin >= (UINT64_C(2) << MERKLE_MAX_HEIGHT) ||
	    !merkle_bin_within(2 * chunk, trusted_bin) ||
	    merkle_bin_layer(trusted_bin) != n_uncles || n_uncles > MERKLE_MAX_HEIGHT)
		return -EINVAL;
	merkle_path(e, alg, chunk, data, len, uncles, n_uncles, path);
	return crypto_ct_equal(path[n_uncles], trusted_hash, hl) ? 0 : -EBADMSG;
}

int merkle_peaks_check(struct crypto_engine *e, enum hash_alg alg, const uint64_t *bins,
		       const uint8_t *hashes, unsigned n, const uint8_t *root,
		       uint64_t *n_chunks)
{
	size_t hl = hash_len(alg);
	uint64_t pos = 0, node, root_bin;
	unsigned prev = 64, idx;
	uint8_t h[HASH_MAX_LEN];

	if (hl == 0 || n == 0 || n > MERKLE_MAX_PEAKS)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		unsigned l;

		if (bins[i] >= (UINT64_C(2) << MERKLE_MAX_HEIGHT))
			return -EINVAL;
		l = merkle_bin_layer(bins[i]);
		if (l >= prev || l > MERKLE_MAX_HEIGHT || merkle_bin_first_chunk(bins[i]) != pos)
			return -EINVAL;
		pos += merkle_bin_width(bins[i]);
		prev = l;
	}
	if (merkle_height(pos) > MERKLE_MAX_HEIGHT)
		return -EINVAL;
	/* §5.6: from the last peak up; a left child pairs with zero, a right child with the
	 * previous peak; every peak must be used by the time the walk reaches the root. */
	root_bin = merkle_root_bin(pos);
	idx = n - 1;
	node = bins[idx];
	memcpy(h, hashes + (size_t)idx * hl, hl);
	while (node != root_bin) {
		if (merkle_bin_is_left(node)) {
			merkle_hash_pair(e, alg, h, merkle_zero, h);
		} else {
			if (idx == 0 || bins[idx - 1] != merkle_bin_sibling(node))
				return -EINVAL;
			idx--;
			merkle_hash_pair(e, alg, hashes + (size_t)idx * hl, h, h);
		}
		node = merkle_bin_parent(node);
	}
	if (idx != 0 || !crypto_ct_equal(h, root, hl))
		return -EBADMSG;
	if (n_chunks != NULL)
		*n_chunks = pos;
	return 0;
}

/*
 * A trusted node is never written again (its value cannot differ: everything trusted hashes up
 * to the root): a seeder serving an ingest reads the trusted nodes from other lcores while the
 * verifier goes on (docs/dataplane.md, "Serving while ingesting").
 */
static void merkle_verifier_trust(struct merkle_verifier *v, uint64_t bin, const uint8_t *h)
{
	uint64_t bit = UINT64_C(1) << (bin % 64);

	if (v->trust[bin / 64] & bit)
		return;
	memcpy(v->nodes + bin * v->hash_len, h, v->hash_len);
	v->trust[bin / 64] |= bit;
}

bool merkle_verifier_trusts(const struct merkle_verifier *v, uint64_t bin)
{
	return bin < v->n_bins && (v->trust[bin / 64] >> (bin % 64)) & 1;
}

int merkle_verifier_init(struct merkle_verifier *v, enum hash_alg alg, uint32_t chunk_size,
			 uint64_t content_len, const uint8_t *root)
{
	uint64_t n;
	int rc = merkle_geometry(alg, chunk_size, content_len, &n);

	memset(v, 0, sizeof(*v));
	if (rc != 0)
		return rc;
	v->alg = alg;
	v->hash_len = (uint32_t)hash_len(alg);
	v->chunk_size = chunk_size;
	v->content_len = content_len;
	v->n_chunks = n;
	v->height = merkle_height(n);
	v->n_bins = merkle_bin_count(n);
	/*
	 * The node array of a large swarm (16 MiB for 256 MiB of 1 KiB chunks) on 2 MiB pages
	 * where the kernel gives them: each verified chunk writes its path into it, and on
	 * 4 KiB pages those writes missed the TLB as the ingest buffer's copies did.
	 */
	v->nodes_len = (size_t)v->n_bins * v->hash_len;
	if (v->nodes_len >= (size_t)2 << 20) {
		void *p = mmap(NULL, v->nodes_len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		v->nodes = p == MAP_FAILED ? NULL : p;
		if (v->nodes != NULL)
			(void)madvise(v->nodes, v->nodes_len, MADV_HUGEPAGE);
	} else {
		v->nodes = calloc(v->n_bins, v->hash_len);
	}
	v->trust = calloc((v->n_bins + 63) / 64, sizeof(uint64_t));
	if (v->nodes == NULL || v->trust == NULL) {
		merkle_verifier_fini(v);
		return -ENOMEM;
	}
	merkle_verifier_trust(v, merkle_root_bin(n), root);
	return 0;
}

void merkle_verifier_fini(struct merkle_verifier *v)
{
	if (v->nodes != NULL && v->nodes_len >= (size_t)2 << 20)
		munmap(v->nodes, v->nodes_len);
	else
		free(v->nodes);
	free(v->trust);
	v->nodes = NULL;
	v->trust = NULL;
}

int merkle_verifier_add_peaks(struct merkle_verifier *v, struct crypto_engine *e,
			      const uint8_t *hashes, unsigned n)
{
	uint64_t bins[MERKLE_MAX_PEAKS], n_chunks;
	unsigned count = merkle_peaks(v->n_chunks, bins);
	int rc;

	if (n != count)
		return -EINVAL;
	rc = merkle_peaks_check(e, v->alg, bins, hashes, n,
				v->nodes + merkle_root_bin(v->n_chunks) * v->hash_len, &n_chunks);
	if (rc != 0)
		return rc;
	for (unsigned i = 0; i < n; i++)
		merkle_verifier_trust(v, bins[i], hashes + (size_t)i * v->hash_len);
	return 0;
}

/* Layer of the lowest trusted ancestor-or-self of the chunk's leaf (the root always is). */
static unsigned merkle_verifier_anchor(const struct merkle_verifier *v, uint64_t chunk)
{
	unsigned l = 0;

	while (l < v->height && !merkle_verifier_trusts(v, merkle_bin(l, chunk >> l)))
		l++;
	return l;
}

int merkle_verifier_uncles(const struct merkle_verifier *v, uint64_t chunk, uint64_t *bins,
			   unsigned cap)
{
	unsigned n;

	if (chunk >= v->n_chunks)
		return -EINVAL;
	n = merkle_verifier_anchor(v, chunk);
	if (n > cap)
		return -EINVAL;
	for (unsigned l = 0; l < n; l++)
		bins[n - 1 - l] = merkle_bin_sibling(merkle_bin(l, chunk >> l));
	return (int)n;
}

/* Checks the path whose leaf hash is in path[0] and trusts it on success. */
static int merkle_verifier_settle(struct merkle_verifier *v, struct crypto_engine *e,
				  uint64_t chunk, size_t len, const uint8_t *uncles,
				  unsigned n_uncles, uint8_t path[][HASH_MAX_LEN])
{
	size_t want;
	unsigned n;

	if (chunk >= v->n_chunks)
		return -EINVAL;
	want = chunk + 1 < v->n_chunks ?
		       v->chunk_size :
		       (size_t)(v->content_len - (v->n_chunks - 1) * v->chunk_size);
	n = merkle_verifier_anchor(v, chunk);
	if (len != want || n_uncles != n)
		return -EINVAL;
	merkle_path_up(e, v->alg, chunk, uncles, n, path);
	if (!crypto_ct_equal(path[n], v->nodes + merkle_bin(n, chunk >> n) * v->hash_len,
			     v->hash_len))
		return -EBADMSG;
	/* The whole chain hashed to a trusted node, so every hash in it is now authentic. */
	for (unsigned l = 0; l < n; l++) {
		uint64_t a = merkle_bin(l, chunk >> l);

		merkle_verifier_trust(v, a, path[l]);
		merkle_verifier_trust(v, merkle_bin_sibling(a),
				      uncles + (size_t)(n - 1 - l) * v->hash_len);
	}
	if (n == 0)
		merkle_verifier_trust(v, 2 * chunk, path[0]);
	return 0;
}

int merkle_verifier_check(struct merkle_verifier *v, struct crypto_engine *e, uint64_t chunk,
			  const void *data, size_t len, const uint8_t *uncles, unsigned n_uncles)
{
	uint8_t path[MERKLE_MAX_HEIGHT + 1][HASH_MAX_LEN];

	if (chunk >= v->n_chunks)
		return -EINVAL;
	hash_oneshot(e, v->alg, data, len, path[0]);
	return merkle_verifier_settle(v, e, chunk, len, uncles, n_uncles, path);
}

int merkle_verifier_check_leaf(struct merkle_verifier *v, struct crypto_engine *e,
			       uint64_t chunk, size_t len, const uint8_t *leaf,
			       const uint8_t *uncles, unsigned n_uncles)
{
	uint8_t path[MERKLE_MAX_HEIGHT + 1][HASH_MAX_LEN];

	memcpy(path[0], leaf, v->hash_len);
	return merkle_verifier_settle(v, e, chunk, len, uncles, n_uncles, path);
}

int merkle_tree_adopt(struct merkle_tree *t, struct merkle_verifier *v,
		      struct crypto_engine *e)
{
	uint64_t root_bin = merkle_root_bin(v->n_chunks);
	uint8_t h[HASH_MAX_LEN];
	size_t hl = v->hash_len;
	int rc;

	if (v->nodes == NULL)
		return -EINVAL;
	for (uint64_t c = 0; c < v->n_chunks; c++)
		if (!merkle_verifier_trusts(v, 2 * c))
			return -EAGAIN;
	/* Layer by layer, so children are final before their parent; the root last. */
	for (unsigned l = 1; l <= v->height; l++) {
		for (uint64_t i = 0; (i << l) < v->n_chunks; i++) {
			uint64_t bin = merkle_bin(l, i), half = UINT64_C(1) << (l - 1);
			uint8_t *node = v->nodes + bin * hl;

			if (bin != root_bin && merkle_verifier_trusts(v, bin))
				continue;
			merkle_hash_pair(e, v->alg, v->nodes + (bin - half) * hl,
					 v->nodes + (bin + half) * hl, h);
			if (bin == root_bin) {
				if (!crypto_ct_equal(h, node, hl))
					return -EBADMSG;
			} else {
				merkle_verifier_trust(v, bin, h);
			}
		}
	}
	rc = merkle_tree_describe(t, v->alg, v->chunk_size, v->content_len);
	if (rc != 0)
		return rc;
	t->owned = v->nodes;
	t->nodes = v->nodes;
	t->owned_map_len = v->nodes_len >= (size_t)2 << 20 ? v->nodes_len : 0;
	v->nodes = NULL;
	return 0;
}
