/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by pack and verify: a content file streamed through a Merkle builder in large
 * reads, so memory stays bounded whatever the content size. (The tree file header code lives
 * in dataplane/chunk_store.c, which the data plane uses too.)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

/* 4 MiB reads: a multiple of every chunk size, long bursts. */
#define STORE_READ_LEN (4u << 20)

static double store_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Reading (and copying to the store) runs on its own thread, a few pieces ahead of the
 * hashing on the calling thread, so a pack costs about max(I/O, hashing) instead of their
 * sum. STORE_PIECES buffers of STORE_READ_LEN bound the memory: 16 MiB.
 */
enum { STORE_PIECES = 4 };

struct store_pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint8_t *buf[STORE_PIECES];
	size_t len[STORE_PIECES];
	unsigned head, tail, filled; /* reader fills head, hasher takes tail */
	bool eof, failed, quit;
	/* reader's arguments */
	int fd, copy_fd;
	const char *path, *copy_path;
	uint64_t total;
};

static bool store_write_all(int fd, const uint8_t *p, size_t n, const char *path)
{
	for (size_t w = 0; w < n;) {
		ssize_t r = write(fd, p + w, n - w);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			tool_err("cannot write %s: %s", path, strerror(errno));
			return false;
		}
		w += (size_t)r;
	}
	return true;
}

static void *store_reader(void *arg)
{
	struct store_pipe *p = arg;
	uint64_t done = 0;
	bool ok = true;

	while (ok && done < p->total) {
		size_t want = p->total - done < STORE_READ_LEN ? (size_t)(p->total - done)
							       : STORE_READ_LEN;
		size_t got = 0;
		uint8_t *buf;

		pthread_mutex_lock(&p->mu);
		while (p->filled == STORE_PIECES && !p->quit)
			pthread_cond_wait(&p->cv, &p->mu);
		buf = p->buf[p->head];
		ok = !p->quit;
		pthread_mutex_unlock(&p->mu);
		while (ok && got < want) {
			ssize_t r = read(p->fd, buf + got, want - got);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				tool_err("cannot read %s: %s", p->path, strerror(errno));
				ok = false;
			} else if (r == 0) {
				tool_err("%s: file shrank while being read (%llu of %llu bytes)",
					 p->path, (unsigned long long)(done + got),
					 (unsigned long long)p->total);
				ok = false;
			} else {
				got += (size_t)r;
			}
		}
		if (ok && p->copy_fd >= 0)
			ok = store_write_all(p->copy_fd, buf, got, p->copy_path);
		pthread_mutex_lock(&p->mu);
		if (ok) {
			p->len[p->head] = got;
			p->head = (p->head + 1) % STORE_PIECES;
			p->filled++;
			done += got;
		}
		p->failed |= !ok && !p->quit;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	pthread_mutex_lock(&p->mu);
	p->eof = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Waits for the next piece: its buffer and length, or NULL when the reader stopped. */
static const uint8_t *store_next_piece(struct store_pipe *p, size_t *len, volatile int *stop)
{
	const uint8_t *buf = NULL;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (p->failed || (stop != NULL && *stop))
			break;
		if (p->filled > 0) {
			buf = p->buf[p->tail];
			*len = p->len[p->tail];
			break;
		}
		if (p->eof)
			break;
		/* A signal only sets *stop: wake up now and then to look at it. */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000 * 1000 * 1000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000 * 1000 * 1000;
		}
		pthread_cond_timedwait(&p->cv, &p->mu, &ts);
	}
	pthread_mutex_unlock(&p->mu);
	return buf;
}

static void store_piece_done(struct store_pipe *p)
{
	pthread_mutex_lock(&p->mu);
	p->tail = (p->tail + 1) % STORE_PIECES;
	p->filled--;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

int store_stream(int fd, const char *path, uint64_t len, struct merkle_builder *b, int copy_fd,
		 const char *copy_path, bool progress, volatile int *stop)
{
	struct store_pipe p = {
		.mu = PTHREAD_MUTEX_INITIALIZER,
		.cv = PTHREAD_COND_INITIALIZER,
		.fd = fd,
		.copy_fd = copy_fd,
		.path = path,
		.copy_path = copy_path,
		.total = len,
	};
	sigset_t all, old;
	pthread_t reader;
	uint64_t done = 0;
	double last = 0;
	int rc = 1, brc, err;

	for (unsigned i = 0; i < STORE_PIECES; i++) {
		p.buf[i] = malloc(STORE_READ_LEN);
		if (p.buf[i] == NULL) {
			tool_err("out of memory");
			goto free;
		}
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	/* Signals go to this thread, which watches *stop; the reader never sees them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&reader, NULL, store_reader, &p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		tool_err("cannot start the reader thread: %s", strerror(err));
		goto free;
	}
	while (done < len) {
		size_t got;
		const uint8_t *buf = store_next_piece(&p, &got, stop);

		if (buf == NULL) {
			if (stop != NULL && *stop)
				tool_err("interrupted");
			/* else the reader has printed what went wrong */
			goto out;
		}
		brc = merkle_builder_add(b, buf, got);
		store_piece_done(&p);
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
	pthread_mutex_lock(&p.mu);
	p.quit = true;
	pthread_cond_broadcast(&p.cv);
	pthread_mutex_unlock(&p.mu);
	pthread_join(reader, NULL);
	if (progress && rc != 0 && done > 0)
		fputc('\n', stderr);
free:
	for (unsigned i = 0; i < STORE_PIECES; i++)
		free(p.buf[i]);
	return rc;
}
