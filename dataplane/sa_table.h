/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data plane's SAs: inbound found by SPI, outbound by peer (address and, for ESP in
 * UDP, the peer's port), each an rte_hash with lock-free readers (RW_CONCURRENCY_LF). One
 * writer, the lcore that drains the key ring, adds, replaces and deletes; workers only look
 * up. Nothing a worker may still hold is freed before every worker has passed a quiescent
 * state (rte_rcu QSBR, through a defer queue), so changing SAs never stops a worker.
 *
 * A replace swaps the table's pointer to a new SA in one store: a packet is opened or sealed
 * under the old SA or the new one, never under none (make-before-break, no loss).
 *
 * Ownership: per-packet state (sequence number, anti-replay window, counters) is written by
 * one worker. The first worker to use an SA claims it (one compare-and-swap); a packet for an
 * SA another worker owns is dropped and counted (RSS keeps a peer's flow on one queue, so
 * this only happens when a peer's packets change queue).
 */
#ifndef SUPERPEER_SA_TABLE_H
#define SUPERPEER_SA_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_hash.h>

#include "esp_sa.h"
#include "keyring_abi.h"

struct rte_rcu_qsbr;
struct rte_rcu_qsbr_dq;

enum { DP_SA_NO_OWNER = 0xffff };

/* One SA: the per-packet part first (cache-aligned), then the control record. */
struct dp_sa {
	struct esp_sa esp;
	struct kr_sa_id id;
	uint8_t flags; /* KR_SA_F_* */
	uint8_t key_len;
	uint8_t reported;    /* ESP_EV_* bits already posted to control */
	uint16_t owner;	     /* lcore that uses it, DP_SA_NO_OWNER until the first packet */
	uint32_t index;	     /* position in sa_table.all */
	uint64_t peer_drops; /* inbound: packets from an address other than id.peer */
	uint64_t alarm_icv;  /* ICV / replay drops already reported to control */
	uint64_t alarm_replay;
	uint8_t key[KR_KEY_MAX]; /* kept for KR_SA_GET (`sa show --xfrm`); wiped at free */
	uint8_t salt[KR_SALT_LEN];
} __attribute__((aligned(64)));

struct sa_out_key {
	uint8_t peer[16];
	uint16_t port;
	uint16_t pad;
};

struct sa_table {
	struct rte_hash *in;
	struct rte_hash *out;
	struct dp_sa **all; /* the writer's list, for list, flush and expiry scans */
	uint32_t n, cap;
	struct rte_rcu_qsbr *qsbr;
	struct rte_rcu_qsbr_dq *dq;
	bool any_out; /* an outbound SA for any peer (all-zero key) exists */
};

/*
 * Tables for up to cap SAs, with a QSBR variable for max_threads reader threads (worker
 * index = thread id). 0 or -errno.
 */
int sa_table_create(struct sa_table *t, const char *name, uint32_t cap, unsigned max_threads);
void sa_table_free(struct sa_table *t);

/*
 * Writer: adds (or with replace, replaces) an SA; its key is expanded with e and the kr_sa
 * copy is not wiped here (the caller owns it). 0, -EEXIST, -ENOENT (replace of nothing),
 * -ENOSPC, -EINVAL with a reason in why.
 */
int sa_table_add(struct sa_table *t, struct crypto_engine *e, const struct kr_sa *sa, bool replace,
	uint64_t now, char *why, size_t cap);
/* Writer: removes one SA (freed after a grace period). 0 or -ENOENT. */
int sa_table_del(struct sa_table *t, const struct kr_sa_id *id);
/* Writer: removes every SA. */
void sa_table_flush(struct sa_table *t);
/* Writer: the SA with this id, or NULL. */
struct dp_sa *sa_table_find(const struct sa_table *t, const struct kr_sa_id *id);
/* Writer: frees what every worker is done with. */
void sa_table_reclaim(struct sa_table *t);

/* Reader (worker): inbound SA for spi (host order), or NULL. */
static inline struct dp_sa *sa_table_in(const struct sa_table *t, uint32_t spi)
{
	void *d;

	return rte_hash_lookup_data(t->in, &spi, &d) >= 0 ? d : NULL;
}

/*
 * Reader: the outbound SA towards peer (IPv4-mapped for IPv4) at UDP port (0 for raw ESP):
 * the SA for (peer, port), else the SA for the peer at any port (added without encap PORT),
 * else the SA for any peer. NULL when none.
 */
static inline struct dp_sa *sa_table_out(
	const struct sa_table *t, const uint8_t peer[16], uint16_t port)
{
	struct sa_out_key k = {.port = port};
	void *d;

	for (unsigned i = 0; i < 16; i++)
		k.peer[i] = peer[i];
	if (rte_hash_lookup_data(t->out, &k, &d) >= 0)
		return d;
	if (port != 0) {
		k.port = 0;
		if (rte_hash_lookup_data(t->out, &k, &d) >= 0)
			return d;
	}
	if (t->any_out) {
		struct sa_out_key any = {.port = 0};

		if (rte_hash_lookup_data(t->out, &any, &d) >= 0)
			return d;
	}
	return NULL;
}

/* Reader: true when this worker (lcore) may use s; the first user claims it. */
static inline bool dp_sa_claim(struct dp_sa *s, uint16_t lcore)
{
	uint16_t o = __atomic_load_n(&s->owner, __ATOMIC_RELAXED);

	if (o == lcore)
		return true;
	return o == DP_SA_NO_OWNER && __atomic_compare_exchange_n(&s->owner, &o, lcore, false,
					      __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

/* Fills an info record (no key) for lists. */
void sa_table_info(const struct dp_sa *s, uint64_t now, struct kr_sa_info *info);

#endif
