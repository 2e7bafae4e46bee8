/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Swarm table: the writer's side (add, delete, close) and the lookup a worker makes when a
 * handshake opens a channel. Setup code, except swarm_table_find (once per new channel).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

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
	chunk_store_close(&s->store);
	memset(&s->store, 0, sizeof(s->store));
	t->n--;
	return 0;
}

void swarm_table_close(struct swarm_table *t)
{
	for (unsigned i = 0; i < DP_MAX_SWARMS; i++)
		if (t->slot[i].live) {
			t->slot[i].live = 0;
			chunk_store_close(&t->slot[i].store);
		}
	t->n = 0;
}
