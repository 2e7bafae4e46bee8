/* SPDX-License-Identifier: BSD-3-Clause */
/* Opening a packed store for serving; the tree file header shared with the tools. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chunk_store.h"

void store_tree_header_fill(
	struct store_tree_header *h, enum hash_alg alg, uint32_t chunk_size, uint64_t len)
{
	uint64_t n = merkle_chunk_count(len, chunk_size);

	memset(h, 0, sizeof(*h));
	memcpy(h->magic, STORE_TREE_MAGIC, STORE_TREE_MAGIC_LEN);
	h->version_le = htole32(STORE_TREE_VERSION);
	h->header_len_le = htole32(STORE_TREE_HEADER_LEN);
	h->hash_alg = (uint8_t)alg;
	h->hash_len = (uint8_t)hash_len(alg);
	h->height = (uint8_t)merkle_height(n);
	h->chunk_size_le = htole32(chunk_size);
	h->chunk_count_le = htole64(n);
	h->content_len_le = htole64(len);
	h->node_count_le = htole64(merkle_bin_count(n));
}

int store_tree_header_check(const struct store_tree_header *h, uint64_t file_len,
	const struct manifest *m, char *err, size_t cap)
{
	struct store_tree_header want;
	uint64_t expect;
	static const uint8_t zero[sizeof(h->reserved1)];

	if (file_len < sizeof(*h)) {
		snprintf(err, cap, "tree file is truncated (%llu bytes, no complete header)",
			(unsigned long long)file_len);
		return -EINVAL;
	}
	if (memcmp(h->magic, STORE_TREE_MAGIC, STORE_TREE_MAGIC_LEN) != 0) {
		snprintf(err, cap, "tree file has a bad magic number (not a superpeer tree)");
		return -EINVAL;
	}
	if (store_le32(h->version_le) != STORE_TREE_VERSION ||
		store_le32(h->header_len_le) != STORE_TREE_HEADER_LEN) {
		snprintf(err, cap, "tree file version %u is not supported",
			store_le32(h->version_le));
		return -EINVAL;
	}
	store_tree_header_fill(&want, m->hash, m->chunk_size, m->content_len);
	if (h->hash_alg != want.hash_alg || h->hash_len != want.hash_len ||
		h->chunk_size_le != want.chunk_size_le ||
		h->content_len_le != want.content_len_le ||
		h->chunk_count_le != want.chunk_count_le ||
		h->node_count_le != want.node_count_le || h->height != want.height ||
		h->reserved0 != 0 || memcmp(h->reserved1, zero, sizeof(zero)) != 0) {
		snprintf(err, cap,
			"tree header does not match the manifest (hash, chunk size or "
			"length)");
		return -EINVAL;
	}
	expect = STORE_TREE_HEADER_LEN + store_le64(want.node_count_le) * want.hash_len;
	if (file_len != expect) {
		snprintf(err, cap, "tree file is %s (%llu bytes, expected %llu)",
			file_len < expect ? "truncated" : "too long", (unsigned long long)file_len,
			(unsigned long long)expect);
		return -EINVAL;
	}
	return 0;
}

/* Maps path read-only; an empty file cannot be mapped and is never valid here. */
static int chunk_store_map(
	const char *dir, const char *name, void **map, size_t *len, char *err, size_t cap)
{
	char path[4096];
	struct stat st;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		rc = -EINVAL;
		snprintf(err, cap, "%s: not a non-empty regular file", path);
		goto out;
	}
	*len = (size_t)st.st_size;
	*map = mmap(NULL, *len, PROT_READ, MAP_SHARED, fd, 0);
	if (*map == MAP_FAILED) {
		rc = -errno;
		*map = NULL;
		snprintf(err, cap, "%s: cannot map: %s", path, strerror(errno));
	}
out:
	close(fd);
	return rc;
}

int chunk_store_open(struct chunk_store *s, struct crypto_engine *e, const char *dir,
	const uint8_t pub[static ED25519_PUBLIC_LEN], char *err, size_t cap)
{
	char text[MANIFEST_MAX_LEN + 1], path[4096], why[256];
	const struct store_tree_header *h;
	size_t hl;
	int rc;

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_MANIFEST_FILE);
	rc = manifest_load(path, &s->m, text, sizeof(text), err, cap);
	if (rc != 0)
		return rc < 0 ? rc : -EINVAL;
	if (manifest_verify(e, &s->m, text, pub) != 0) {
		snprintf(err, cap, "%s: signature does not verify with the provider key", path);
		return -EBADMSG;
	}
	rc = chunk_store_map(dir, STORE_TREE_FILE, &s->tree_map, &s->tree_map_len, err, cap);
	if (rc != 0)
		goto fail;
	h = s->tree_map;
	if (store_tree_header_check(h, s->tree_map_len, &s->m, why, sizeof(why)) != 0) {
		snprintf(err, cap, "%s/%s: %s", dir, STORE_TREE_FILE, why);
		rc = -EINVAL;
		goto fail;
	}
	hl = hash_len(s->m.hash);
	rc = merkle_tree_view(&s->tree, s->m.hash, s->m.chunk_size, s->m.content_len,
		(const uint8_t *)s->tree_map + STORE_TREE_HEADER_LEN,
		s->tree_map_len - STORE_TREE_HEADER_LEN);
	if (rc != 0) {
		snprintf(err, cap, "%s/%s: does not describe a tree", dir, STORE_TREE_FILE);
		goto fail;
	}
	if (!crypto_ct_equal(merkle_tree_root(&s->tree), s->m.swarm_id, hl)) {
		snprintf(err, cap, "%s/%s: root is not the manifest's swarm ID", dir,
			STORE_TREE_FILE);
		rc = -EBADMSG;
		goto fail;
	}
	rc = chunk_store_map(dir, STORE_CHUNKS_FILE, &s->chunks_map, &s->chunks_map_len, err, cap);
	if (rc != 0)
		goto fail;
	if (s->chunks_map_len != s->m.content_len) {
		snprintf(err, cap, "%s/%s: %zu bytes, the manifest says %llu", dir,
			STORE_CHUNKS_FILE, s->chunks_map_len, (unsigned long long)s->m.content_len);
		rc = -EINVAL;
		goto fail;
	}
	s->chunks = s->chunks_map;
	s->n_peaks = merkle_peaks(s->tree.n_chunks, s->peaks);
	if (chunk_store_sums_alloc(s) != 0) {
		snprintf(err, cap, "%s: out of memory for %" PRIu64 " chunk checksums", dir,
			s->tree.n_chunks);
		rc = -ENOMEM;
		goto fail;
	}
	return 0;
fail:
	chunk_store_close(s);
	return rc;
}

int chunk_store_pub_read(
	const char *path, uint8_t pub[static ED25519_PUBLIC_LEN], char *err, size_t cap)
{
	FILE *f = fopen(path, "re");
	char hex[2 * ED25519_PUBLIC_LEN + 2] = "";

	if (f == NULL || fgets(hex, sizeof(hex), f) == NULL) {
		snprintf(err, cap, "%s: cannot read", path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	fclose(f);
	for (unsigned i = 0; i < ED25519_PUBLIC_LEN; i++)
		if (sscanf(hex + 2 * i, "%2hhx", &pub[i]) != 1) {
			snprintf(err, cap, "%s: not a public key (64 hex digits)", path);
			return -1;
		}
	return 0;
}

int chunk_store_sums_alloc(struct chunk_store *s)
{
	s->sums = calloc(s->tree.n_chunks ? s->tree.n_chunks : 1, sizeof(s->sums[0]));
	return s->sums != NULL ? 0 : -ENOMEM;
}

void chunk_store_close(struct chunk_store *s)
{
	free(s->sums);
	if (s->tree_map != NULL)
		munmap(s->tree_map, s->tree_map_len);
	if (s->chunks_map != NULL)
		munmap(s->chunks_map, s->chunks_map_len);
	merkle_tree_free(
		&s->tree); /* a tree built in memory (ingest); a mapped view owns nothing */
	memset(s, 0, sizeof(*s));
}

const uint8_t *chunk_store_chunk(const struct chunk_store *s, uint64_t i, size_t *len)
{
	uint64_t off;

	if (i >= s->tree.n_chunks)
		return NULL;
	off = i * s->m.chunk_size;
	*len = s->m.content_len - off < s->m.chunk_size ? (size_t)(s->m.content_len - off)
							: s->m.chunk_size;
	return s->chunks + off;
}

/* All of buf to fd, then fsync. */
static int store_write_file(
	int dirfd, const char *name, const void *a, size_t alen, const void *b, size_t blen)
{
	const void *part[2] = {a, b};
	size_t plen[2] = {alen, blen};
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), rc = 0;

	if (fd < 0)
		return -errno;
	for (int k = 0; k < 2 && rc == 0; k++) {
		const uint8_t *p = part[k];
		size_t left = plen[k];

		while (left > 0) {
			ssize_t w = write(fd, p, left > ((size_t)8 << 20) ? (size_t)8 << 20 : left);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				rc = w < 0 ? -errno : -EIO;
				break;
			}
			p += w;
			left -= (size_t)w;
		}
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

int chunk_store_save(const struct chunk_store *s, const char *manifest, size_t len, const char *dir,
	char *err, size_t cap)
{
	char parent[PATH_MAX], tmp[PATH_MAX + 16];
	struct store_tree_header h;
	struct stat st;
	const char *what = "";
	int pfd = -1, tfd = -1, rc;

	if (strlen(dir) >= sizeof(parent) || dir[0] != '/') {
		snprintf(
			err, cap, "%.200s: an absolute path, shorter than %d bytes", dir, PATH_MAX);
		return -EINVAL;
	}
	if (stat(dir, &st) == 0 || errno != ENOENT) {
		snprintf(err, cap, "%.200s: exists already", dir);
		return -EEXIST;
	}
	memcpy(parent, dir, strlen(dir) + 1);
	snprintf(tmp, sizeof(tmp), "%s.partXXXXXX", dir);
	if (mkdtemp(tmp) == NULL) {
		rc = -errno;
		snprintf(err, cap, "%.200s: cannot make a directory beside it: %s", dir,
			strerror(-rc));
		return rc;
	}
	tfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pfd = open(dirname(parent), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	rc = tfd < 0 || pfd < 0 ? -errno : 0;
	store_tree_header_fill(&h, s->m.hash, s->m.chunk_size, s->m.content_len);
	if (rc == 0) {
		what = STORE_CHUNKS_FILE;
		rc = store_write_file(tfd, STORE_CHUNKS_FILE, s->chunks, s->m.content_len, NULL, 0);
	}
	if (rc == 0) {
		what = STORE_TREE_FILE;
		rc = store_write_file(tfd, STORE_TREE_FILE, &h, sizeof(h), s->tree.nodes,
			s->tree.n_bins * s->tree.hash_len);
	}
	if (rc == 0) {
		what = STORE_MANIFEST_FILE;
		rc = store_write_file(tfd, STORE_MANIFEST_FILE, manifest, len, NULL, 0);
	}
	if (rc == 0 && fsync(tfd) != 0)
		rc = -errno;
	if (rc == 0) {
		what = "rename";
		rc = renameat(AT_FDCWD, tmp, AT_FDCWD, dir) == 0 ? 0 : -errno;
	}
	if (rc == 0) {
		/* In place: only its durability is in question from here on. */
		if (fsync(pfd) != 0) {
			rc = -errno;
			snprintf(err, cap, "%.200s: fsync of its parent: %s", dir, strerror(-rc));
		}
	} else {
		snprintf(err, cap, "%.200s: %s: %s", dir, what, strerror(-rc));
		if (tfd >= 0) {
			unlinkat(tfd, STORE_CHUNKS_FILE, 0);
			unlinkat(tfd, STORE_TREE_FILE, 0);
			unlinkat(tfd, STORE_MANIFEST_FILE, 0);
		}
		rmdir(tmp);
	}
	if (tfd >= 0)
		close(tfd);
	if (pfd >= 0)
		close(pfd);
	return rc;
}
