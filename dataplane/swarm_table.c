/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Swarm table: the writer's side (add, delete, close) and the lookup a worker makes when a
 * handshake opens a channel. Setup code, except swarm_table_find (once per new channel).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_rcu_qsbr.h>

#include "swarm_table.h"

int swarm_table_find(const struct swarm_table *t, const uint8_t *id, size_t id_len)
{
	for (unsigned i = 0; i < DP_MAX_SWARMS; i++) {
		const struct dp_swarm *s = &t->slot[i];

		if (!__atomic_load_n(&s->live, __ATOMIC_ACQUIRE))
			continue;
		if (hash_len(s->store.m.hash) == id_len &&
			memcmp(s->store.m.swarm_id, id, id_len) == 0)
			return (int)i;
	}
	return -1;
}

int swarm_table_find_ingest(const struct swarm_table *t, const uint8_t *id, size_t id_len)
{
	for (unsigned i = 0; i < DP_MAX_SWARMS; i++) {
		const struct dp_swarm *s = &t->slot[i];

		if (s->ingest != NULL && hash_len(s->ingest_hash) == id_len &&
		    memcmp(s->ingest_id, id, id_len) == 0)
			return (int)i;
	}
	return -1;
}

/* The saver thread: the store written, the outcome said on stdout and in save_state. */
static void *swarm_saver(void *arg)
{
	struct dp_swarm *s = arg;
	char err[320];
	int rc = chunk_store_save(
		&s->store, s->manifest_text, s->manifest_len, s->save_dir, err, sizeof(err));

	if (rc == 0)
		printf("superpeer-dataplane: swarm %.63s saved to %s\n", s->store.m.name,
			s->save_dir);
	else
		printf("superpeer-dataplane: swarm %.63s not saved: %s\n", s->store.m.name, err);
	fflush(stdout);
	__atomic_store_n(&s->save_state, rc == 0 ? KR_SAVE_DONE : KR_SAVE_FAILED, __ATOMIC_RELEASE);
	return NULL;
}

/* Waits for the slot's saver, if one was started. */
static void swarm_saver_reap(struct dp_swarm *s)
{
	if (s->saver_started) {
		pthread_join(s->saver, NULL);
		s->saver_started = false;
	}
}

/* A store on disk: its manifest file, read whole into manifest_text. */
static int swarm_manifest_read(struct dp_swarm *s, char *why, size_t cap)
{
	char path[KR_PATH_MAX + 16];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", s->dir, STORE_MANIFEST_FILE);
	s->manifest_text = malloc(MANIFEST_MAX_LEN);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 && s->manifest_text != NULL ? read(fd, s->manifest_text, MANIFEST_MAX_LEN) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0) {
		free(s->manifest_text);
		s->manifest_text = NULL;
		snprintf(why, cap, "%.200s: cannot read", path);
		return -EIO;
	}
	s->manifest_len = (size_t)n;
	return 0;
}

int swarm_table_save(struct swarm_table *t, unsigned slot, const char *dir, bool when_complete,
	char *why, size_t cap)
{
	struct dp_swarm *s;
	int rc;

	if (slot >= DP_MAX_SWARMS || !(s = &t->slot[slot])->live) {
		snprintf(why, cap, "no such swarm served");
		return -ENOENT;
	}
	if (s->ingest != NULL && !when_complete) {
		snprintf(why, cap, "still being ingested (--when-complete saves it then)");
		return -EBUSY;
	}
	if (__atomic_load_n(&s->save_state, __ATOMIC_ACQUIRE) == KR_SAVE_RUNNING ||
		s->save_state == KR_SAVE_PENDING) {
		snprintf(why, cap, "a save of this swarm is still %s",
			s->save_state == KR_SAVE_PENDING ? "pending" : "running");
		return -EBUSY;
	}
	if (memchr(dir, '\0', KR_PATH_MAX) == NULL || dir[0] != '/') {
		snprintf(why, cap, "the directory must be an absolute path");
		return -EINVAL;
	}
	if (access(dir, F_OK) == 0) {
		snprintf(why, cap, "%.200s: exists already", dir);
		return -EEXIST;
	}
	if (s->ingest != NULL) {
		snprintf(s->save_dir, sizeof(s->save_dir), "%s", dir);
		__atomic_store_n(&s->save_state, KR_SAVE_PENDING, __ATOMIC_RELEASE);
		return 0;
	}
	swarm_saver_reap(s);
	if (s->manifest_text == NULL && (rc = swarm_manifest_read(s, why, cap)) != 0)
		return rc;
	snprintf(s->save_dir, sizeof(s->save_dir), "%s", dir);
	s->save_state = KR_SAVE_RUNNING;
	rc = pthread_create(&s->saver, NULL, swarm_saver, s);
	if (rc != 0) {
		s->save_state = KR_SAVE_FAILED;
		snprintf(why, cap, "cannot start a thread: %s", strerror(rc));
		return -rc;
	}
	s->saver_started = true;
	return 0;
}

int swarm_table_add(struct swarm_table *t, struct crypto_engine *e, const char *dir,
	const uint8_t pub[32], bool open, char *why, size_t cap)
{
	struct dp_swarm *s = NULL;
	int slot = -1, rc;

	for (unsigned i = 0; i < DP_MAX_SWARMS; i++)
		if (!t->slot[i].live && t->slot[i].ingest == NULL) {
			slot = (int)i;
			break;
		}
	if (slot < 0) {
		snprintf(why, cap, "already serving %d swarms, the most one data plane holds",
			DP_MAX_SWARMS);
		return -ENOSPC;
	}
	s = &t->slot[slot];
	rc = chunk_store_open(&s->store, e, dir, pub, why, cap);
	if (rc != 0)
		return rc;
	if (swarm_table_find(t, s->store.m.swarm_id, hash_len(s->store.m.hash)) >= 0 ||
	    swarm_table_find_ingest(t, s->store.m.swarm_id, hash_len(s->store.m.hash)) >= 0) {
		chunk_store_close(&s->store);
		snprintf(why, cap, "%s: this swarm is served already", dir);
		return -EEXIST;
	}
	memcpy(s->provider_pub, pub, sizeof(s->provider_pub));
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	s->open = open;
	s->save_state = KR_SAVE_NONE;
	__atomic_store_n(&s->gen, s->gen + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&s->live, 1, __ATOMIC_RELEASE);
	t->n++;
	return slot;
}

int swarm_table_del(struct swarm_table *t, const uint8_t *id, size_t id_len,
	struct rte_rcu_qsbr *qsbr, unsigned self)
{
	int slot = swarm_table_find(t, id, id_len);
	struct dp_swarm *s;

	if (slot < 0)
		return -ENOENT;
	s = &t->slot[slot];
	__atomic_store_n(&s->live, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->gen, s->gen + 1, __ATOMIC_RELEASE);
	if (qsbr != NULL)
		rte_rcu_qsbr_synchronize(qsbr, self);
	swarm_saver_reap(s);
	chunk_store_close(&s->store);
	memset(&s->store, 0, sizeof(s->store));
	free(s->manifest_text);
	s->manifest_text = NULL;
	t->n--;
	return 0;
}

void swarm_table_close(struct swarm_table *t)
{
	for (unsigned i = 0; i < DP_MAX_SWARMS; i++)
		if (t->slot[i].live) {
			t->slot[i].live = 0;
			swarm_saver_reap(&t->slot[i]);
			chunk_store_close(&t->slot[i].store);
			free(t->slot[i].manifest_text);
			t->slot[i].manifest_text = NULL;
		}
	t->n = 0;
}
