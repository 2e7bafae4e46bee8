/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The swarms a data plane serves: a fixed array of slots, each a packed store opened for
 * serving and whether plain (unprotected) PPSPP may fetch it. One writer (the lcore that
 * drains the key ring, or setup) adds and deletes; workers find a swarm by ID when a peer's
 * handshake opens a channel and remember (slot, generation). A delete marks the slot dead
 * and bumps its generation, waits one QSBR grace period, then unmaps the store: a worker
 * that still holds the old generation sees the change before it touches the store again.
 */
#ifndef SUPERPEER_SWARM_TABLE_H
#define SUPERPEER_SWARM_TABLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "chunk_store.h"
#include "keyring_abi.h"

struct rte_rcu_qsbr;
struct dp_ingest;

enum { DP_MAX_SWARMS = 64 };

struct dp_swarm {
	uint32_t gen; /* bumped by every add and delete */
	uint8_t live; /* read by workers with acquire after gen */
	uint8_t open; /* plain PPSPP allowed */
	struct chunk_store store;
	uint8_t provider_pub[32];
	char dir[KR_PATH_MAX];
	/*
	 * Non-NULL while the swarm is being ingested; its ID. The slot is live from the start:
	 * store is then a view over the ingest's content buffer and its verifier's nodes, with
	 * store.avail pointing at avail (chunks in, from the first), which the ingest's owner
	 * raises. Completion hands the buffers to the store without a new generation, so the
	 * channels already open go on.
	 */
	struct dp_ingest *ingest;
	uint64_t avail;
	uint8_t ingest_id[32];
	enum hash_alg ingest_hash;
	/* An ingested swarm's signed manifest (a store on disk has its own file); malloc'd. */
	char *manifest_text;
	size_t manifest_len;
	/* KR_SWARM_SAVE: a thread writing the store to save_dir; joined before the store goes. */
	pthread_t saver;
	bool saver_started;
	uint8_t save_state; /* enum kr_save_state; the saver stores it with release */
	char save_dir[KR_PATH_MAX];
};

struct swarm_table {
	struct dp_swarm slot[DP_MAX_SWARMS];
	unsigned n;	    /* live slots, ingests included */
	unsigned n_ingests; /* slots with an ingest hung on them; workers read it relaxed */
	/* Raised (release) by an ingest's owner each time it makes more chunks servable: a
	 * worker with peers waiting for chunks looks at them only when it moved. */
	uint64_t avail_events;
};

/*
 * Writer: opens the store in dir (checked against pub), refuses a swarm ID already served.
 * Returns the slot, or -errno with one line in why.
 */
int swarm_table_add(struct swarm_table *t, struct crypto_engine *e, const char *dir,
	const uint8_t pub[32], bool open, char *why, size_t cap);
/*
 * Writer: stops serving the swarm with this ID. qsbr/self: the grace period to wait (self is
 * the caller's own QSBR thread id when it is also a worker, else RTE_QSBR_THRID_INVALID).
 * 0 or -ENOENT.
 */
int swarm_table_del(struct swarm_table *t, const uint8_t *id, size_t id_len,
	struct rte_rcu_qsbr *qsbr, unsigned self);
/* Writer, at exit (workers stopped): closes every store. */
void swarm_table_close(struct swarm_table *t);
/*
 * Writer: starts writing the live swarm in slot to dir (chunk_store_save) in a thread of its
 * own. 0, or -errno with one line in why (a save of it still running, dir taken, ...). A swarm
 * still being ingested is refused, unless when_complete: then dir is checked and kept, and
 * the caller starts the save (swarm_table_save again) when the ingest completes.
 */
int swarm_table_save(struct swarm_table *t, unsigned slot, const char *dir, bool when_complete,
	char *why, size_t cap);

/* Writer: the slot ingesting swarm id, or -1. */
int swarm_table_find_ingest(const struct swarm_table *t, const uint8_t *id, size_t id_len);

/* Reader: the live slot serving swarm id, or -1. */
int swarm_table_find(const struct swarm_table *t, const uint8_t *id, size_t id_len);

/* Reader: true while the slot still holds generation gen. */
static inline bool swarm_table_valid(const struct swarm_table *t, unsigned slot, uint32_t gen)
{
	const struct dp_swarm *s = &t->slot[slot];

	return __atomic_load_n(&s->gen, __ATOMIC_ACQUIRE) == gen &&
	       __atomic_load_n(&s->live, __ATOMIC_ACQUIRE);
}

#endif
