/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * superpeer verify: checks a chunk store the way a super-peer must before serving it. In
 * order: the manifest parses and is signed by the given provider key; the tree header agrees
 * with the manifest and the file has the exact size; the tree's root is the swarm ID; every
 * chunk hashes to its leaf and every interior node to its children; nodes past the content are
 * zero. The first problem found is the one reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

/* Tree nodes per pread: 256 KiB of SHA-256 nodes. */
#define VERIFY_BUF_NODES 8192

static void usage(FILE *f)
{
	fprintf(f, "usage: superpeer verify --public PUBFILE STOREDIR\n\n"
		   "Checks the store made by superpeer pack: manifest signature (by the provider\n"
		   "public key PUBFILE), tree against manifest, every chunk against the tree.\n"
		   "Exits 0 when all is well; otherwise prints one line naming the first problem\n"
		   "(for a damaged chunk, its number) and exits 1.\n");
}

/* Compares what the builder recomputes with the stored tree, bin by bin. */
struct verify_ctx {
	int fd; /* the tree file, read with pread so memory stays bounded */
	uint8_t *buf;
	uint64_t buf_nodes;
	uint32_t hl;
	uint32_t chunk_size;
	uint64_t bad_chunk; /* UINT64_MAX: none */
	uint64_t bad_bin;   /* UINT64_MAX: none */
};

static int verify_read(int fd, uint64_t first_bin, uint64_t count, uint32_t hl, uint8_t *out)
{
	size_t len = count * hl, done = 0;
	off_t off = STORE_TREE_HEADER_LEN + (off_t)(first_bin * hl);

	while (done < len) {
		ssize_t r = pread(fd, out + done, len - done, off + (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		done += (size_t)r;
	}
	return 0;
}

/* Compares stored bins with computed ones, of one parity (leaves: 0, interior: 1). */
static int verify_compare(struct verify_ctx *v, uint64_t first_bin, const uint8_t *nodes,
			  uint64_t count, unsigned parity)
{
	for (uint64_t done = 0; done < count; done += v->buf_nodes) {
		uint64_t n = count - done < v->buf_nodes ? count - done : v->buf_nodes;
		int rc = verify_read(v->fd, first_bin + done, n, v->hl, v->buf);

		if (rc != 0)
			return rc;
		for (uint64_t i = 0; i < n; i++) {
			uint64_t bin = first_bin + done + i;

			if ((bin & 1) != parity ||
			    memcmp(v->buf + i * v->hl, nodes + (done + i) * v->hl, v->hl) == 0)
				continue;
			if (parity == 0)
				v->bad_chunk = bin / 2;
			else
				v->bad_bin = bin;
			return -EBADMSG;
		}
	}
	return 0;
}

static int verify_sink(void *ctx, uint64_t first_bin, const uint8_t *nodes, uint64_t count)
{
	int rc;

	/* Leaves first, so a damaged chunk is named as such and not as its parent. */
	rc = verify_compare(ctx, first_bin, nodes, count, 0);
	if (rc == 0)
		rc = verify_compare(ctx, first_bin, nodes, count, 1);
	return rc;
}

/*
 * Bins the builder never emits must be zero: those whose first chunk is past the content.
 * Returns the first that is not, UINT64_MAX when all are, or UINT64_MAX - 1 on a read error.
 */
static uint64_t verify_zero_bins(struct verify_ctx *v, uint64_t n_chunks)
{
	uint64_t n_bins = merkle_bin_count(n_chunks);
	static const uint8_t zero[HASH_MAX_LEN];

	for (uint64_t first = 0; first < n_bins; first += v->buf_nodes) {
		uint64_t count = n_bins - first < v->buf_nodes ? n_bins - first : v->buf_nodes;

		if (verify_read(v->fd, first, count, v->hl, v->buf) != 0)
			return UINT64_MAX - 1;
		for (uint64_t i = 0; i < count; i++)
			if (merkle_bin_first_chunk(first + i) >= n_chunks &&
			    memcmp(v->buf + i * v->hl, zero, v->hl) != 0)
				return first + i;
	}
	return UINT64_MAX;
}

static int verify_open(int dir_fd, const char *dir, const char *name, struct stat *st)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		tool_err("%s/%s: %s", dir, name, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		tool_err("%s/%s is not a regular file", dir, name);
		close(fd);
		return -1;
	}
	return fd;
}

int tool_verify_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "public", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pub_path = NULL, *dir;
	char path[PATH_MAX], text[MANIFEST_MAX_LEN + 1], err[PATH_MAX + 128];
	char a[2 * MANIFEST_KEY_ID_LEN + 1], bhex[2 * MANIFEST_KEY_ID_LEN + 1];
	char hex[2 * HASH_MAX_LEN + 1];
	uint8_t pub[ED25519_PUBLIC_LEN], kid[MANIFEST_KEY_ID_LEN], root[HASH_MAX_LEN];
	struct verify_ctx vc = { .bad_chunk = UINT64_MAX, .bad_bin = UINT64_MAX };
	struct merkle_builder *b = NULL;
	struct crypto_engine e = { 0 };
	struct manifest m;
	struct stat st;
	struct store_tree_header hdr;
	int dir_fd = -1, tree_fd = -1, chunks_fd = -1, c, rc = 1, n;
	bool have_engine = false;
	uint64_t bin;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pub_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc || pub_path == NULL) {
		tool_err("need --public PUBFILE and one STOREDIR (see --help)");
		return 2;
	}
	dir = argv[optind];
	if (tool_key_read(pub_path, pub, sizeof(pub)) != 0)
		return 1;
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return tool_err("cannot open store %s: %s", dir, strerror(errno));
	if (crypto_engine_init(&e) != 0) {
		tool_err("cannot start the crypto engine");
		goto out;
	}
	have_engine = true;

	snprintf(path, sizeof(path), "%s/%s", dir, STORE_MANIFEST_FILE);
	if (manifest_load(path, &m, text, sizeof(text), err, sizeof(err)) != 0) {
		tool_err("%s", err);
		goto out;
	}
	n = manifest_verify(&e, &m, text, pub);
	if (n == -EKEYREJECTED) {
		manifest_key_id(&e, pub, kid);
		tool_hex(m.key_id, sizeof(m.key_id), a);
		tool_hex(kid, sizeof(kid), bhex);
		tool_err("%s: signed by provider key %s, not by %s (key %s)", path, a, pub_path,
			 bhex);
		goto out;
	}
	if (n != 0) {
		tool_err("%s: the signature does not verify with %s", path, pub_path);
		goto out;
	}

	tree_fd = verify_open(dir_fd, dir, STORE_TREE_FILE, &st);
	if (tree_fd < 0)
		goto out;
	if (pread(tree_fd, &hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
		memset(&hdr, 0, sizeof(hdr));
	if (store_tree_header_check(&hdr, (uint64_t)st.st_size, &m, err, sizeof(err)) != 0) {
		tool_err("%s/%s: %s", dir, STORE_TREE_FILE, err);
		goto out;
	}
	vc.fd = tree_fd;
	vc.hl = hdr.hash_len;
	vc.buf_nodes = VERIFY_BUF_NODES;
	vc.buf = malloc(VERIFY_BUF_NODES * vc.hl);
	if (vc.buf == NULL) {
		tool_err("out of memory");
		goto out;
	}
	if (verify_read(tree_fd, merkle_root_bin(store_le64(hdr.chunk_count_le)), 1, vc.hl,
			vc.buf) != 0 ||
	    memcmp(vc.buf, m.swarm_id, vc.hl) != 0) {
		tool_err("%s/%s: root does not match the manifest's swarm ID", dir,
			 STORE_TREE_FILE);
		goto out;
	}

	chunks_fd = verify_open(dir_fd, dir, STORE_CHUNKS_FILE, &st);
	if (chunks_fd < 0)
		goto out;
	if ((uint64_t)st.st_size != m.content_len) {
		tool_err("%s/%s is %lld bytes, the manifest says %llu", dir, STORE_CHUNKS_FILE,
			 (long long)st.st_size, (unsigned long long)m.content_len);
		goto out;
	}
	n = merkle_builder_new(&b, &e, m.hash, m.chunk_size, m.content_len, verify_sink, &vc);
	if (n != 0) {
		tool_err("cannot start the Merkle tree: %s", strerror(-n));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_CHUNKS_FILE);
	n = store_stream(chunks_fd, path, m.content_len, b, -1, NULL, isatty(STDERR_FILENO),
			 NULL);
	if (n == 0)
		n = merkle_builder_finish(b, root);
	if (vc.bad_chunk != UINT64_MAX) {
		uint64_t off = vc.bad_chunk * m.chunk_size;

		tool_err("%s: chunk %llu (bytes %llu..%llu) does not match the tree", path,
			 (unsigned long long)vc.bad_chunk, (unsigned long long)off,
			 (unsigned long long)((off + m.chunk_size < m.content_len ?
						       off + m.chunk_size :
						       m.content_len) -
					      1));
		goto out;
	}
	if (vc.bad_bin != UINT64_MAX) {
		tool_err("%s/%s: node at bin %llu does not match its children", dir,
			 STORE_TREE_FILE, (unsigned long long)vc.bad_bin);
		goto out;
	}
	if (n < 0)
		tool_err("cannot finish the Merkle tree: %s", strerror(-n));
	if (n != 0)
		goto out;
	bin = verify_zero_bins(&vc, store_le64(hdr.chunk_count_le));
	if (bin == UINT64_MAX - 1) {
		tool_err("cannot read %s/%s: %s", dir, STORE_TREE_FILE, strerror(errno));
		goto out;
	}
	if (bin != UINT64_MAX) {
		tool_err("%s/%s: node at bin %llu is past the content but not zero", dir,
			 STORE_TREE_FILE, (unsigned long long)bin);
		goto out;
	}
	tool_hex(root, vc.hl, hex);
	printf("ok: %s, %llu bytes, %llu chunks of %u, %s\n%s\n", m.name,
	       (unsigned long long)m.content_len,
	       (unsigned long long)store_le64(hdr.chunk_count_le), m.chunk_size,
	       hash_name(m.hash), hex);
	rc = 0;
out:
	merkle_builder_free(b);
	if (have_engine)
		crypto_engine_fini(&e);
	free(vc.buf);
	if (tree_fd >= 0)
		close(tree_fd);
	if (chunks_fd >= 0)
		close(chunks_fd);
	close(dir_fd);
	return rc;
}
