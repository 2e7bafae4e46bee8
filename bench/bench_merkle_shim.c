/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench_merkle_shim.h"
#include "crypto.h"
#include "merkle.h"

enum { BENCH_SAMPLES = 128 };

struct bench_merkle {
	struct crypto_engine eng;
	enum hash_alg alg;
	uint32_t chunk_size;
	uint64_t n_chunks;
	uint8_t *content;
	struct merkle_tree tree;
	/*
	 * The chunks the loop verifies: BENCH_SAMPLES spread over the whole tree, with their
	 * uncles gathered once. Few enough that chunk and uncles stay in cache, as a chunk that
	 * just arrived in a packet buffer would be: the loop measures hashing, not DRAM.
	 */
	uint64_t sample[BENCH_SAMPLES];
	unsigned n_samples;
	uint8_t *uncles;
	unsigned height;
	uint8_t *sink_nodes; /* the builder's output, as pack's tree file would hold it */
};

struct bench_merkle *bench_merkle_new(unsigned alg, uint32_t chunk_size, uint64_t n_chunks)
{
	struct bench_merkle *m = calloc(1, sizeof(*m));
	uint64_t len = n_chunks * chunk_size;
	uint64_t bins[MERKLE_MAX_HEIGHT];

	if (m == NULL)
		return NULL;
	if (crypto_engine_init(&m->eng) != 0) {
		free(m);
		return NULL;
	}
	m->alg = (enum hash_alg)alg;
	m->chunk_size = chunk_size;
	m->n_chunks = n_chunks;
	m->content = malloc(len);
	if (m->content == NULL)
		goto fail;
	crypto_random(m->content, len);
	if (merkle_tree_build(&m->tree, &m->eng, m->alg, chunk_size, m->content, len) != 0)
		goto fail;
	m->height = m->tree.height;
	m->n_samples = n_chunks < BENCH_SAMPLES ? (unsigned)n_chunks : BENCH_SAMPLES;
	m->uncles = malloc((size_t)m->n_samples * (m->height + 1) * m->tree.hash_len);
	m->sink_nodes = calloc(m->tree.n_bins, m->tree.hash_len);
	if (m->uncles == NULL || m->sink_nodes == NULL)
		goto fail;
	for (unsigned k = 0; k < m->n_samples; k++) {
		uint64_t c = (uint64_t)k * n_chunks / m->n_samples;
		uint8_t *u = m->uncles + (size_t)k * (m->height + 1) * m->tree.hash_len;
		int n = merkle_tree_uncles(&m->tree, c, merkle_root_bin(n_chunks), bins,
					   MERKLE_MAX_HEIGHT);

		m->sample[k] = c;
		if (n != (int)m->height)
			goto fail;
		for (int j = 0; j < n; j++)
			memcpy(u + (size_t)j * m->tree.hash_len, merkle_tree_node(&m->tree, bins[j]),
			       m->tree.hash_len);
	}
	return m;
fail:
	bench_merkle_free(m);
	return NULL;
}

void bench_merkle_free(struct bench_merkle *m)
{
	if (m == NULL)
		return;
	merkle_tree_free(&m->tree);
	free(m->content);
	free(m->uncles);
	free(m->sink_nodes);
	crypto_engine_fini(&m->eng);
	free(m);
}

unsigned bench_merkle_height(const struct bench_merkle *m)
{
	return m->height;
}

uint64_t bench_merkle_content_len(const struct bench_merkle *m)
{
	return m->n_chunks * m->chunk_size;
}

int bench_merkle_verify_chunk(struct bench_merkle *m, uint64_t i)
{
	unsigned k = (unsigned)(i % m->n_samples);
	uint64_t c = m->sample[k];

	return merkle_chunk_verify(&m->eng, m->alg, c, m->content + c * m->chunk_size,
				   m->chunk_size, merkle_root_bin(m->n_chunks),
				   merkle_tree_root(&m->tree),
				   m->uncles + (size_t)k * (m->height + 1) * m->tree.hash_len,
				   m->height);
}

static int sink(void *ctx, uint64_t first_bin, const uint8_t *nodes, uint64_t count)
{
	struct bench_merkle *m = ctx;

	memcpy(m->sink_nodes + first_bin * m->tree.hash_len, nodes, count * m->tree.hash_len);
	return 0;
}

int bench_merkle_build(struct bench_merkle *m)
{
	struct merkle_builder *b;
	uint8_t root[HASH_MAX_LEN];
	uint64_t len = bench_merkle_content_len(m);
	int rc;

	rc = merkle_builder_new(&b, &m->eng, m->alg, m->chunk_size, len, sink, m);
	if (rc != 0)
		return rc;
	/* pack reads the file in 4 MiB pieces; feed the same */
	for (uint64_t off = 0; off < len && rc == 0; off += 4u << 20) {
		uint64_t n = len - off < (4u << 20) ? len - off : (4u << 20);

		rc = merkle_builder_add(b, m->content + off, n);
	}
	if (rc == 0)
		rc = merkle_builder_finish(b, root);
	merkle_builder_free(b);
	if (rc == 0 && memcmp(root, merkle_tree_root(&m->tree), m->tree.hash_len) != 0)
		rc = -EBADMSG;
	return rc;
}
