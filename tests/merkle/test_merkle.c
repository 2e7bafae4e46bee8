/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Merkle trees (dataplane/merkle.c) against: the PPSPP vectors (tests/vectors/
 * ppspp_merkle.json, SHA-1 roots from libswift); a naive recursive tree of the RFC 7574 §5
 * rules, node by node, for N = 1, 2^k and 2^k +- 1 (across the builder's 4096-leaf blocks);
 * streamed input split at awkward places; uncles, peaks and the incremental verifier with
 * forgeries (tampered chunk, tampered uncle, uncles out of order, wrong index, wrong count).
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "merkle.h"

static struct crypto_engine eng;
static const enum hash_alg algs[] = { HASH_SHA1, HASH_SHA256 };

/* Deterministic content: xorshift bytes. */
static uint8_t *make_content(uint64_t len, uint32_t seed)
{
	uint8_t *p = malloc(len ? len : 1);
	uint32_t x = seed * 2654435761u + 1;

	for (uint64_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
	return p;
}

/* ---- the naive reference: recursion straight from the rules ------------------------ */

static void ref_node(enum hash_alg alg, const uint8_t *c, uint64_t len, uint32_t cs,
		     unsigned l, uint64_t k, uint8_t *nodes)
{
	size_t hl = hash_len(alg);
	uint64_t n = merkle_chunk_count(len, cs), bin = merkle_bin(l, k);
	uint8_t *out = nodes + bin * hl;

	if ((k << l) >= n) {
		memset(out, 0, hl);
		return;
	}
	if (l == 0) {
		uint64_t off = k * cs, clen = len - off < cs ? len - off : cs;

		hash_oneshot(&eng, alg, c + off, clen, out);
		return;
	}
	ref_node(alg, c, len, cs, l - 1, 2 * k, nodes);
	ref_node(alg, c, len, cs, l - 1, 2 * k + 1, nodes);
	{
		uint8_t buf[2 * HASH_MAX_LEN];

		memcpy(buf, nodes + merkle_bin(l - 1, 2 * k) * hl, hl);
		memcpy(buf + hl, nodes + merkle_bin(l - 1, 2 * k + 1) * hl, hl);
		hash_oneshot(&eng, alg, buf, 2 * hl, out);
	}
}

/* ---- vectors ------------------------------------------------------------------------ */

static uint8_t *vector_content(json_t *tc, uint64_t *len)
{
	const char *gen = json_string_value(json_object_get(tc, "generator"));
	uint8_t *p = NULL;

	if (strcmp(gen, "text") == 0) {
		const char *t = json_string_value(json_object_get(tc, "content_text"));

		*len = strlen(t);
		p = malloc(*len);
		memcpy(p, t, *len);
	} else if (strcmp(gen, "repeat") == 0) {
		const char *b = json_string_value(json_object_get(tc, "repeat_byte"));

		*len = (uint64_t)json_integer_value(json_object_get(tc, "length"));
		p = malloc(*len);
		memset(p, b[0], *len);
	} else if (strcmp(gen, "mod251") == 0) {
		*len = (uint64_t)json_integer_value(json_object_get(tc, "length"));
		p = malloc(*len);
		for (uint64_t i = 0; i < *len; i++)
			p[i] = (uint8_t)(i % 251);
	}
	return p;
}

static void test_vectors(void)
{
	static const struct {
		const char *name;
		uint64_t bin;
	} nodes[] = { { "chunks 0..3", 3 }, { "chunk 4", 8 }, { "chunks 2..3", 5 },
		      { "chunk 1", 2 } };
	char path[512];
	json_error_t jerr;
	json_t *root = json_load_file(check_vector_path("ppspp_merkle.json", path, sizeof(path)),
				      0, &jerr);
	json_t *tests, *tc;
	size_t i;
	unsigned seen = 0;

	CHECKF(root != NULL, "%s: %s", path, jerr.text);
	if (root == NULL)
		return;
	tests = json_object_get(root, "tests");
	json_array_foreach(tests, i, tc) {
		uint64_t len;
		uint8_t *c = vector_content(tc, &len);
		uint32_t cs = (uint32_t)json_integer_value(json_object_get(root, "chunk_size"));
		json_t *sn = json_object_get(tc, "sha1_nodes");

		CHECK(c != NULL);
		for (size_t a = 0; a < 2; a++) {
			const char *key = algs[a] == HASH_SHA1 ? "sha1_root" : "sha256_root";
			uint8_t want[HASH_MAX_LEN];
			struct merkle_tree t;
			long wl = check_unhex(json_string_value(json_object_get(tc, key)), want,
					      sizeof(want));

			CHECK(wl == (long)hash_len(algs[a]));
			CHECK(merkle_tree_build(&t, &eng, algs[a], cs, c, len) == 0);
			CHECKF(memcmp(merkle_tree_root(&t), want, (size_t)wl) == 0, "tcId %lld %s",
			       json_integer_value(json_object_get(tc, "tcId")), key);
			if (sn != NULL && algs[a] == HASH_SHA1) {
				for (size_t k = 0; k < 4; k++) {
					const char *h = json_string_value(
						json_object_get(sn, nodes[k].name));

					CHECK(h != NULL);
					if (h == NULL)
						continue;
					check_unhex(h, want, sizeof(want));
					CHECKF(memcmp(merkle_tree_node(&t, nodes[k].bin), want,
						      HASH_SHA1_LEN) == 0,
					       "node %s", nodes[k].name);
				}
			}
			merkle_tree_free(&t);
			seen++;
		}
		free(c);
	}
	CHECK(seen == 8);
	json_decref(root);
}

/* ---- bins --------------------------------------------------------------------------- */

static void test_bins(void)
{
	CHECK(merkle_bin(0, 4) == 8);
	CHECK(merkle_bin(1, 1) == 5);
	CHECK(merkle_bin(2, 0) == 3);
	CHECK(merkle_bin_layer(7) == 3 && merkle_bin_index(11) == 1);
	CHECK(merkle_bin_parent(8) == 9 && merkle_bin_parent(9) == 11);
	CHECK(merkle_bin_parent(11) == 7);
	CHECK(merkle_bin_sibling(3) == 11 && merkle_bin_sibling(2) == 0);
	CHECK(merkle_height(1) == 0 && merkle_height(2) == 1 && merkle_height(5) == 3);
	CHECK(merkle_root_bin(5) == 7 && merkle_bin_count(5) == 15 && merkle_bin_count(1) == 1);
	CHECK(merkle_chunk_size_valid(512) && merkle_chunk_size_valid(8192));
	CHECK(!merkle_chunk_size_valid(256) && !merkle_chunk_size_valid(1000) &&
	      !merkle_chunk_size_valid(16384));
	{
		uint64_t b[MERKLE_MAX_PEAKS];

		CHECK(merkle_peaks(7, b) == 3 && b[0] == 3 && b[1] == 9 && b[2] == 12);
		CHECK(merkle_peaks(8, b) == 1 && b[0] == 7);
		CHECK(merkle_peaks(1, b) == 1 && b[0] == 0);
	}
}

/* ---- whole trees against the reference --------------------------------------------- */

static int sink_mem(void *ctx, uint64_t first, const uint8_t *nodes, uint64_t count)
{
	struct merkle_tree *t = ctx;

	memcpy(t->owned + first * t->hash_len, nodes, count * t->hash_len);
	return 0;
}

static void check_tree(enum hash_alg alg, uint32_t cs, uint64_t len)
{
	size_t hl = hash_len(alg);
	uint8_t *c = make_content(len, (uint32_t)len);
	uint64_t n = merkle_chunk_count(len, cs);
	uint8_t *ref = calloc(merkle_bin_count(n), hl);
	struct merkle_tree t, s;
	struct merkle_builder *b;
	uint8_t root[HASH_MAX_LEN];
	uint64_t off = 0, step = 1;

	ref_node(alg, c, len, cs, merkle_height(n), 0, ref);
	CHECK(merkle_tree_build(&t, &eng, alg, cs, c, len) == 0);
	CHECKF(memcmp(t.nodes, ref, merkle_bin_count(n) * hl) == 0, "%s cs %u len %llu",
	       hash_name(alg), cs, (unsigned long long)len);

	/* Streamed in pieces of growing, odd sizes: chunks split across calls. */
	s = t;
	s.owned = calloc(t.n_bins, hl);
	CHECK(merkle_builder_new(&b, &eng, alg, cs, len, sink_mem, &s) == 0);
	while (off < len) {
		uint64_t take = len - off < step ? len - off : step;

		CHECK(merkle_builder_add(b, c + off, take) == 0);
		off += take;
		step = step * 3 + 1;
	}
	CHECK(merkle_builder_add(b, c, 1) == -EINVAL); /* past the end */
	CHECK(merkle_builder_finish(b, root) == 0);
	CHECK(memcmp(root, merkle_tree_root(&t), hl) == 0);
	CHECKF(memcmp(s.owned, ref, t.n_bins * hl) == 0, "streamed %s len %llu", hash_name(alg),
	       (unsigned long long)len);
	merkle_builder_free(b);
	free(s.owned);

	/* A short read must not finish. */
	if (len > 1) {
		CHECK(merkle_builder_new(&b, &eng, alg, cs, len, sink_mem, &t) == 0);
		CHECK(merkle_builder_add(b, c, len - 1) == 0);
		CHECK(merkle_builder_finish(b, root) == -EINVAL);
		merkle_builder_free(b);
	}
	merkle_tree_free(&t);
	free(ref);
	free(c);
}

static void test_trees(void)
{
	static const uint64_t ns[] = { 1,  2,  3,  4,  5,  7,	 8,    9,    15,   16,	 17,
				       31, 32, 33, 63, 64, 65, 100, 4095, 4096, 4097, 8193 };

	for (size_t a = 0; a < 2; a++) {
		for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
			uint32_t cs = ns[i] > 1000 ? 512 : (uint32_t)(512 << (i % 5));

			check_tree(algs[a], cs, ns[i] * cs);	  /* full last chunk */
			check_tree(algs[a], cs, ns[i] * cs - 37); /* short last chunk */
		}
		check_tree(algs[a], 1024, 1); /* one byte */
	}
	{
		struct merkle_tree t;
		uint8_t x = 0;

		CHECK(merkle_tree_build(&t, &eng, HASH_SHA256, 1024, &x, 0) == -EINVAL);
		CHECK(merkle_tree_build(&t, &eng, HASH_SHA256, 1000, &x, 1) == -EINVAL);
	}
}

/* ---- uncles and stateless verification --------------------------------------------- */

static void check_uncles(enum hash_alg alg, uint64_t n, uint32_t cs)
{
	size_t hl = hash_len(alg);
	uint64_t len = n * cs - (n > 1 ? 100 : 0);
	uint8_t *c = make_content(len, (uint32_t)n + 7);
	struct merkle_tree t;
	uint64_t bins[MERKLE_MAX_HEIGHT], peaks[MERKLE_MAX_PEAKS], rb;
	uint8_t un[MERKLE_MAX_HEIGHT * HASH_MAX_LEN], ph[MERKLE_MAX_PEAKS * HASH_MAX_LEN];
	unsigned np;

	CHECK(merkle_tree_build(&t, &eng, alg, cs, c, len) == 0);
	rb = merkle_root_bin(n);
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *d = c + i * cs;
		size_t dl = i + 1 < n ? cs : len - i * cs;
		int k = merkle_tree_uncles(&t, i, rb, bins, MERKLE_MAX_HEIGHT);

		CHECK(k == (int)t.height);
		for (int j = 0; j < k; j++) {
			CHECK(merkle_bin_layer(bins[j]) == (unsigned)(k - 1 - j)); /* descending */
			memcpy(un + j * hl, merkle_tree_node(&t, bins[j]), hl);
		}
		CHECK(merkle_chunk_verify(&eng, alg, i, d, dl, rb, merkle_tree_root(&t), un,
					  (unsigned)k) == 0);
		/* Tampered chunk. */
		{
			uint8_t *bad = malloc(dl);

			memcpy(bad, d, dl);
			bad[dl / 2] ^= 1;
			CHECK(merkle_chunk_verify(&eng, alg, i, bad, dl, rb, merkle_tree_root(&t),
						  un, (unsigned)k) == -EBADMSG);
			free(bad);
		}
		/* Each tampered uncle. */
		for (int j = 0; j < k; j++) {
			un[j * hl + 3] ^= 0x80;
			CHECK(merkle_chunk_verify(&eng, alg, i, d, dl, rb, merkle_tree_root(&t),
						  un, (unsigned)k) == -EBADMSG);
			un[j * hl + 3] ^= 0x80;
		}
		/* Ascending instead of descending order. */
		if (k >= 2) {
			uint8_t rev[MERKLE_MAX_HEIGHT * HASH_MAX_LEN];

			for (int j = 0; j < k; j++)
				memcpy(rev + j * hl, un + (k - 1 - j) * hl, hl);
			CHECK(merkle_chunk_verify(&eng, alg, i, d, dl, rb, merkle_tree_root(&t),
						  rev, (unsigned)k) == -EBADMSG);
		}
		/* Wrong index: the same data and uncles claimed as a neighbour. */
		if (n > 1) {
			uint64_t other = i ^ 1;
			int r;

			if (other >= n)
				other = i - 1;
			r = merkle_chunk_verify(&eng, alg, other, d, dl, rb, merkle_tree_root(&t),
						un, (unsigned)k);
			CHECK(r == -EBADMSG);
		}
		/* Wrong uncle count. */
		if (k > 0)
			CHECK(merkle_chunk_verify(&eng, alg, i, d, dl, rb, merkle_tree_root(&t), un,
						  (unsigned)k - 1) == -EINVAL);
	}

	/* Peaks: check against the root, then verify a chunk against its peak. */
	np = merkle_peaks(n, peaks);
	CHECK(np == (unsigned)__builtin_popcountll(n));
	for (unsigned j = 0; j < np; j++)
		memcpy(ph + j * hl, merkle_tree_node(&t, peaks[j]), hl);
	{
		uint64_t got = 0;

		CHECK(merkle_peaks_check(&eng, alg, peaks, ph, np, merkle_tree_root(&t), &got) ==
		      0);
		CHECK(got == n);
		ph[(np - 1) * hl] ^= 1;
		CHECK(merkle_peaks_check(&eng, alg, peaks, ph, np, merkle_tree_root(&t), NULL) ==
		      -EBADMSG);
		ph[(np - 1) * hl] ^= 1;
		if (np >= 2) {
			/* A peak left out: the walk runs out of peaks or lands on the wrong N. */
			CHECK(merkle_peaks_check(&eng, alg, peaks + 1, ph + hl, np - 1,
						 merkle_tree_root(&t), NULL) != 0);
			CHECK(merkle_peaks_check(&eng, alg, peaks, ph, np - 1,
						 merkle_tree_root(&t), NULL) != 0);
		}
		/* The last chunk against its peak: fewer uncles than against the root. */
		{
			uint64_t last = n - 1, pk = peaks[np - 1];
			int k = merkle_tree_uncles(&t, last, pk, bins, MERKLE_MAX_HEIGHT);

			CHECK(k == (int)merkle_bin_layer(pk));
			for (int j = 0; j < k; j++)
				memcpy(un + j * hl, merkle_tree_node(&t, bins[j]), hl);
			CHECK(merkle_chunk_verify(&eng, alg, last, c + last * cs,
						  len - last * cs, pk, ph + (np - 1) * hl, un,
						  (unsigned)k) == 0);
			CHECK(merkle_tree_uncles(&t, last, 1, bins, MERKLE_MAX_HEIGHT) ==
			      (n == 2 ? 1 : -EINVAL));
		}
	}
	merkle_tree_free(&t);
	free(c);
}

static void test_uncles(void)
{
	static const uint64_t ns[] = { 1, 2, 3, 5, 7, 8, 9, 16, 17, 31, 33, 64, 127, 129, 1000 };

	for (size_t a = 0; a < 2; a++)
		for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
			check_uncles(algs[a], ns[i], 512);
}

/* ---- the incremental verifier ------------------------------------------------------ */

static unsigned fill_uncles(const struct merkle_verifier *v, const struct merkle_tree *t,
			    uint64_t i, uint8_t *un)
{
	uint64_t bins[MERKLE_MAX_HEIGHT];
	int k = merkle_verifier_uncles(v, i, bins, MERKLE_MAX_HEIGHT);

	CHECK(k >= 0);
	for (int j = 0; j < k; j++)
		memcpy(un + j * t->hash_len, merkle_tree_node(t, bins[j]), t->hash_len);
	return (unsigned)k;
}

static void check_verifier(enum hash_alg alg, uint64_t n, bool with_peaks)
{
	const uint32_t cs = 1024;
	size_t hl = hash_len(alg);
	uint64_t len = n * cs - 5, total = 0;
	uint8_t *c = make_content(len, (uint32_t)n * 3 + 1);
	uint8_t un[MERKLE_MAX_HEIGHT * HASH_MAX_LEN];
	struct merkle_verifier v;
	struct merkle_tree t;

	CHECK(merkle_tree_build(&t, &eng, alg, cs, c, len) == 0);
	CHECK(merkle_verifier_init(&v, alg, cs, len, merkle_tree_root(&t)) == 0);
	if (with_peaks) {
		uint64_t pb[MERKLE_MAX_PEAKS];
		uint8_t ph[MERKLE_MAX_PEAKS * HASH_MAX_LEN];
		unsigned np = merkle_peaks(n, pb);

		for (unsigned j = 0; j < np; j++)
			memcpy(ph + j * hl, merkle_tree_node(&t, pb[j]), hl);
		ph[0] ^= 1;
		CHECK(merkle_verifier_add_peaks(&v, &eng, ph, np) == -EBADMSG);
		CHECK(np == 1 || !merkle_verifier_trusts(&v, pb[0]));
		ph[0] ^= 1;
		CHECK(merkle_verifier_add_peaks(&v, &eng, ph, np) == 0);
		for (unsigned j = 0; j < np; j++)
			CHECK(merkle_verifier_trusts(&v, pb[j]));
	}
	/* A chunk from the middle first, then all in order. */
	for (uint64_t step = 0; step <= n; step++) {
		uint64_t i = step == 0 ? n / 2 : step - 1;
		const uint8_t *d = c + i * cs;
		size_t dl = i + 1 < n ? cs : len - i * cs;
		unsigned k = fill_uncles(&v, &t, i, un);

		if (step == 0 && !with_peaks)
			CHECK(k == t.height);
		if (step == 1 && n > 1)
			CHECK(k <= t.height);
		/* Forgeries first: each must be refused and leave trust as it was. */
		{
			uint8_t *bad = malloc(dl);

			memcpy(bad, d, dl);
			bad[0] ^= 0x40;
			CHECK(merkle_verifier_check(&v, &eng, i, bad, dl, un, k) == -EBADMSG);
			CHECK(merkle_verifier_check(&v, &eng, i, d, dl - 1, un, k) == -EINVAL);
			free(bad);
		}
		if (k > 0) {
			un[(k - 1) * hl] ^= 1;
			CHECK(merkle_verifier_check(&v, &eng, i, d, dl, un, k) == -EBADMSG);
			un[(k - 1) * hl] ^= 1;
			CHECK(merkle_verifier_check(&v, &eng, i, d, dl, un, k - 1) == -EINVAL);
		}
		CHECK(fill_uncles(&v, &t, i, un) == k);
		CHECK(merkle_verifier_check(&v, &eng, i, d, dl, un, k) == 0);
		CHECK(merkle_verifier_trusts(&v, 2 * i));
		if (step > 0)
			total += k;
	}
	/* In order, each pair's second chunk needs none: about N uncles, not N * height. */
	CHECKF(n < 4 || total <= n, "n %llu: %llu uncles in all", (unsigned long long)n,
	       (unsigned long long)total);
	/* After all that, a forged chunk 0 with no uncles is still refused. */
	{
		uint8_t *bad = make_content(cs, 999);

		CHECK(fill_uncles(&v, &t, 0, un) == 0);
		CHECK(merkle_verifier_check(&v, &eng, 0, bad, n > 1 ? cs : len, un, 0) ==
		      -EBADMSG);
		free(bad);
	}
	/* Every chunk checked: the verifier's nodes become the tree, equal to the built one. */
	{
		struct merkle_tree a;
		int rc = merkle_tree_adopt(&a, &v, &eng);

		CHECKF(rc == 0 && a.n_bins == t.n_bins &&
			       memcmp(a.nodes, t.nodes, t.n_bins * hl) == 0,
		       "n %llu: adopted tree differs (%d)", (unsigned long long)n, rc);
		if (rc == 0)
			merkle_tree_free(&a);
	}
	merkle_verifier_fini(&v);
	merkle_tree_free(&t);
	free(c);
}

/*
 * merkle_tree_adopt after chunks checked in a shuffled order (peaks first, as the leecher
 * does): refused while one is missing, equal to merkle_tree_build once all are in, refused
 * when a peak it computes from was forged. Large n puts the node array on mmap.
 */
static void check_adopt(enum hash_alg alg, uint64_t n)
{
	const uint32_t cs = 512;
	size_t hl = hash_len(alg);
	uint64_t len = n * cs - 7, *order = malloc(n * sizeof(*order)), pb[MERKLE_MAX_PEAKS];
	uint8_t *c = make_content(len, (uint32_t)n + 11), ph[MERKLE_MAX_PEAKS * HASH_MAX_LEN];
	uint8_t un[MERKLE_MAX_HEIGHT * HASH_MAX_LEN];
	unsigned np = merkle_peaks(n, pb);
	struct merkle_verifier v;
	struct merkle_tree t, a;
	uint32_t r = 12345;

	CHECK(merkle_tree_build(&t, &eng, alg, cs, c, len) == 0);
	for (int forge = 0; forge < 2; forge++) {
		CHECK(merkle_verifier_init(&v, alg, cs, len, merkle_tree_root(&t)) == 0);
		for (unsigned j = 0; j < np; j++)
			memcpy(ph + j * hl, merkle_tree_node(&t, pb[j]), hl);
		CHECK(merkle_verifier_add_peaks(&v, &eng, ph, np) == 0);
		for (uint64_t i = 0; i < n; i++)
			order[i] = i;
		for (uint64_t i = n - 1; i > 0; i--) {
			uint64_t j, x;

			r = r * 1103515245u + 12345u;
			j = (r >> 4) % (i + 1);
			x = order[i], order[i] = order[j], order[j] = x;
		}
		for (uint64_t s = 0; s < n; s++) {
			uint64_t i = order[s];
			unsigned k = fill_uncles(&v, &t, i, un);

			/* One chunk short (unless that leaf is a peak, known already). */
			if (s == n - 1 && !merkle_verifier_trusts(&v, 2 * i))
				CHECK(merkle_tree_adopt(&a, &v, &eng) == -EAGAIN);
			CHECK(merkle_verifier_check(&v, &eng, i, c + i * cs,
						    i + 1 < n ? cs : len - i * cs, un, k) == 0);
		}
		if (forge) {
			/* A peak's stored hash altered after the fact: the root no longer follows. */
			v.nodes[pb[np - 1] * hl] ^= 1;
			CHECKF(merkle_tree_adopt(&a, &v, &eng) == (np > 1 ? -EBADMSG : 0),
			       "n %llu: forged peak", (unsigned long long)n);
			if (np == 1)
				merkle_tree_free(&a);
		} else if (merkle_tree_adopt(&a, &v, &eng) == 0) {
			CHECKF(memcmp(a.nodes, t.nodes, t.n_bins * hl) == 0,
			       "n %llu: adopted tree differs", (unsigned long long)n);
			CHECK(memcmp(merkle_tree_root(&a), merkle_tree_root(&t), hl) == 0);
			CHECK(v.nodes == NULL);
			merkle_tree_free(&a);
		} else {
			CHECKF(false, "n %llu: not adopted", (unsigned long long)n);
		}
		merkle_verifier_fini(&v);
	}
	merkle_tree_free(&t);
	free(order);
	free(c);
}

static void test_verifier(void)
{
	static const uint64_t ns[] = { 1, 2, 3, 4, 5, 7, 8, 9, 31, 32, 33, 100, 1025 };

	for (size_t a = 0; a < 2; a++)
		for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
			check_verifier(algs[a], ns[i], false);
			check_verifier(algs[a], ns[i], true);
		}
	for (size_t a = 0; a < 2; a++) {
		check_adopt(algs[a], 1);
		check_adopt(algs[a], 6);
		check_adopt(algs[a], 1000);
		check_adopt(algs[a], 70001); /* SHA-256: a 8 MiB node array, mmap'd */
	}
	/* Trust really saves uncles: chunk 1 after chunk 0 needs none. */
	{
		uint8_t *c = make_content(16 * 1024, 5);
		uint8_t un[MERKLE_MAX_HEIGHT * HASH_MAX_LEN];
		struct merkle_verifier v;
		struct merkle_tree t;

		CHECK(merkle_tree_build(&t, &eng, HASH_SHA256, 1024, c, 16 * 1024) == 0);
		CHECK(merkle_verifier_init(&v, HASH_SHA256, 1024, 16 * 1024,
					   merkle_tree_root(&t)) == 0);
		CHECK(fill_uncles(&v, &t, 0, un) == 4);
		CHECK(merkle_verifier_check(&v, &eng, 0, c, 1024, un, 4) == 0);
		CHECK(fill_uncles(&v, &t, 1, un) == 0);
		CHECK(fill_uncles(&v, &t, 2, un) == 1);
		CHECK(fill_uncles(&v, &t, 15, un) == 3);
		merkle_verifier_fini(&v);
		merkle_tree_free(&t);
		free(c);
	}
}

int main(void)
{
	int rc = crypto_engine_init(&eng);

	if (rc != 0) {
		fprintf(stderr, "crypto engine: %s\n", strerror(-rc));
		return rc == -ENOTSUP ? 77 : 1;
	}
	test_bins();
	test_vectors();
	test_trees();
	test_uncles();
	test_verifier();
	crypto_engine_fini(&eng);
	return check_exit();
}
