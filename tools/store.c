/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Store files shared by pack and verify: the tree header (include/store_format.h) and the
 * streaming of a content file through a Merkle builder in large reads, so memory stays
 * bounded whatever the content size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

/* 4 MiB reads: a multiple of every chunk size, long bursts, small next to the 64 MiB budget. */
#define STORE_READ_LEN (4u << 20)

void store_tree_header_fill(struct store_tree_header *h, enum hash_alg alg, uint32_t chunk_size,
			    uint64_t len)
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
	    h->chunk_size_le != want.chunk_size_le || h->content_len_le != want.content_len_le ||
	    h->chunk_count_le != want.chunk_count_le || h->node_count_le != want.node_count_le ||
	    h->height != want.height || h->reserved0 != 0 ||
	    memcmp(h->reserved1, zero, sizeof(zero)) != 0) {
		snprintf(err, cap, "tree header does not match the manifest (hash, chunk size or "
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

static double store_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int store_stream(int fd, const char *path, uint64_t len, struct merkle_builder *b, int copy_fd,
		 const char *copy_path, bool progress, volatile int *stop)
{
	uint8_t *buf = malloc(STORE_READ_LEN);
	uint64_t done = 0;
	double last = 0;
	int rc = 1, brc;

	if (buf == NULL)
		return tool_err("out of memory");
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while (done < len) {
		size_t want = len - done < STORE_READ_LEN ? (size_t)(len - done) : STORE_READ_LEN;
		size_t got = 0;

		while (got < want) {
			ssize_t r = read(fd, buf + got, want - got);

			if (r < 0 && errno == EINTR && (stop == NULL || !*stop))
				continue;
			if (r < 0) {
				tool_err("cannot read %s: %s", path, strerror(errno));
				goto out;
			}
			if (r == 0) {
				tool_err("%s: file shrank while being read (%llu of %llu bytes)",
					 path, (unsigned long long)(done + got),
					 (unsigned long long)len);
				goto out;
			}
			got += (size_t)r;
		}
		if (stop != NULL && *stop) {
			tool_err("interrupted");
			goto out;
		}
		for (size_t w = 0; copy_fd >= 0 && w < got;) {
			ssize_t r = write(copy_fd, buf + w, got - w);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				tool_err("cannot write %s: %s", copy_path, strerror(errno));
				goto out;
			}
			w += (size_t)r;
		}
		brc = merkle_builder_add(b, buf, got);
		if (brc != 0) {
			/* The sink reports its own findings; anything else is internal. */
			if (brc != -EBADMSG)
				tool_err("hashing failed: %s", strerror(-brc));
			rc = brc == -EBADMSG ? 2 : 1;
			goto out;
		}
		done += got;
		if (progress && (store_now() - last > 0.25 || done == len)) {
			last = store_now();
			fprintf(stderr, "\r%s: %3u%% (%llu / %llu MiB)", tool_cmd,
				(unsigned)(done * 100 / len), (unsigned long long)(done >> 20),
				(unsigned long long)(len >> 20));
			if (done == len)
				fputc('\n', stderr);
		}
	}
	rc = 0;
out:
	if (progress && rc != 0 && done > 0)
		fputc('\n', stderr);
	free(buf);
	return rc;
}
