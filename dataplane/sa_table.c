/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SA tables: setup and the writer's side (add, replace, delete, flush, deferred free). The
 * readers' lookups are inline in sa_table.h. Runs on the lcore that drains the key ring.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "sa_table.h"

/* What the defer queue holds until a grace period has passed. */
struct sa_deferred {
	struct dp_sa *sa;
	struct rte_hash *h; /* with pos >= 0: the key slot to give back */
	int32_t pos;
	uint32_t pad;
};

static void sa_free(struct dp_sa *s)
{
	esp_sa_destroy(&s->esp);
	crypto_wipe(s, sizeof(*s));
	rte_free(s);
}

static void sa_deferred_free(void *p, void *e, unsigned n)
{
	struct sa_deferred *d = e;

	(void)p;
	for (unsigned i = 0; i < n; i++) {
		if (d[i].pos >= 0)
			rte_hash_free_key_with_position(d[i].h, d[i].pos);
		if (d[i].sa != NULL)
			sa_free(d[i].sa);
	}
}

static struct rte_hash *sa_hash_new(
	const char *name, const char *what, uint32_t cap, uint32_t key_len)
{
	char n[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters p = {
		.name = n,
		.entries = cap,
		.key_len = key_len,
		.hash_func = rte_jhash,
		.socket_id = (int)rte_socket_id(),
		/* Lock-free readers; a deleted key's slot is reused only after the grace
		 * period (we give it back from the defer queue). */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			      RTE_HASH_EXTRA_FLAGS_NO_FREE_ON_DEL,
	};

	snprintf(n, sizeof(n), "%s_%s", name, what);
	return rte_hash_create(&p);
}

int sa_table_create(struct sa_table *t, const char *name, uint32_t cap, unsigned max_threads)
{
	size_t qsz = rte_rcu_qsbr_get_memsize(max_threads);
	char dqname[RTE_RCU_QSBR_DQ_NAMESIZE];
	struct rte_rcu_qsbr_dq_parameters dp = {
		.name = dqname,
		.size = cap * 2 + 64,
		.esize = sizeof(struct sa_deferred),
		.trigger_reclaim_limit = 0,
		.max_reclaim_size = 256,
		.free_fn = sa_deferred_free,
	};

	memset(t, 0, sizeof(*t));
	t->cap = cap;
	t->in = sa_hash_new(name, "in", cap, sizeof(uint32_t));
	t->out = sa_hash_new(name, "out", cap, sizeof(struct sa_out_key));
	t->all = rte_zmalloc("sa_all", sizeof(*t->all) * cap, 0);
	t->qsbr = rte_zmalloc("sa_qsbr", qsz, RTE_CACHE_LINE_SIZE);
	if (t->in == NULL || t->out == NULL || t->all == NULL || t->qsbr == NULL ||
		rte_rcu_qsbr_init(t->qsbr, max_threads) != 0)
		goto fail;
	snprintf(dqname, sizeof(dqname), "%s_dq", name);
	dp.v = t->qsbr;
	t->dq = rte_rcu_qsbr_dq_create(&dp);
	if (t->dq == NULL)
		goto fail;
	return 0;
fail:
	sa_table_free(t);
	return -ENOMEM;
}

void sa_table_free(struct sa_table *t)
{
	if (t->all != NULL)
		for (uint32_t i = 0; i < t->n; i++)
			sa_free(t->all[i]);
	t->n = 0;
	if (t->dq != NULL) {
		/* Workers have stopped: everything deferred may go now. */
		unsigned freed, pending, avail;

		rte_rcu_qsbr_dq_reclaim(t->dq, ~0u, &freed, &pending, &avail);
		rte_rcu_qsbr_dq_delete(t->dq);
	}
	rte_hash_free(t->in);
	rte_hash_free(t->out);
	rte_free(t->all);
	rte_free(t->qsbr);
	memset(t, 0, sizeof(*t));
}

static struct rte_hash *sa_hash_of(const struct sa_table *t, const struct kr_sa_id *id,
	struct sa_out_key *ok, const void **key)
{
	if (id->dir == KR_DIR_IN) {
		*key = &id->spi;
		return t->in;
	}
	memset(ok, 0, sizeof(*ok));
	memcpy(ok->peer, id->peer, 16);
	ok->port = id->peer_port;
	*key = ok;
	return t->out;
}

struct dp_sa *sa_table_find(const struct sa_table *t, const struct kr_sa_id *id)
{
	struct sa_out_key ok;
	const void *key;
	struct rte_hash *h = sa_hash_of(t, id, &ok, &key);
	void *d;

	return rte_hash_lookup_data(h, key, &d) >= 0 ? d : NULL;
}

static void sa_defer(struct sa_table *t, struct dp_sa *s, struct rte_hash *h, int32_t pos)
{
	struct sa_deferred d = {.sa = s, .h = h, .pos = pos};

	/* The queue holds 2 x cap: it cannot be full while the table is within cap, but if
	 * it ever were, waiting for the grace period here is still correct. */
	if (rte_rcu_qsbr_dq_enqueue(t->dq, &d) != 0) {
		rte_rcu_qsbr_synchronize(t->qsbr, RTE_QSBR_THRID_INVALID);
		sa_deferred_free(NULL, &d, 1);
	}
}

static void sa_list_remove(struct sa_table *t, struct dp_sa *s)
{
	uint32_t i = s->index;

	t->all[i] = t->all[--t->n];
	t->all[i]->index = i;
}

static bool sa_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

int sa_table_add(struct sa_table *t, struct crypto_engine *e, const struct kr_sa *sa, bool replace,
	uint64_t now, char *why, size_t cap)
{
	struct esp_sa_config c = {
		.spi = sa->id.spi,
		.dir = sa->id.dir == KR_DIR_IN ? ESP_SA_INBOUND : ESP_SA_OUTBOUND,
		.esn = (sa->flags & KR_SA_F_ESN) != 0,
		.key = sa->key,
		.key_len = sa->key_len,
		.salt = sa->salt,
		.soft = {sa->soft.packets, sa->soft.bytes, sa->soft.seconds},
		.hard = {sa->hard.packets, sa->hard.bytes, sa->hard.seconds},
		.now = now,
	};
	struct sa_out_key ok;
	const void *key;
	struct rte_hash *h;
	struct dp_sa *s, *old;
	int32_t pos;
	int rc;

	if (sa->id.dir != KR_DIR_IN && sa->id.dir != KR_DIR_OUT) {
		snprintf(why, cap, "direction must be in or out");
		return -EINVAL;
	}
	if (sa->key_len != 16 && sa->key_len != 32) {
		snprintf(why, cap, "key must be 16 or 32 bytes (AES-128/256-GCM), not %u",
			sa->key_len);
		return -EINVAL;
	}
	if (sa->id.spi <= ESP_SPI_RESERVED_MAX) {
		snprintf(why, cap, "SPI %u is reserved (RFC 4303: 256 and up)", sa->id.spi);
		return -EINVAL;
	}
	if (sa->flags & ~(KR_SA_F_ESN | KR_SA_F_UDP_ENCAP)) {
		snprintf(why, cap, "unknown SA flags 0x%x", sa->flags);
		return -EINVAL;
	}
	h = sa_hash_of(t, &sa->id, &ok, &key);
	old = sa_table_find(t, &sa->id);
	if (old != NULL && !replace) {
		snprintf(why, cap, "an SA with this %s exists (use replace)",
			sa->id.dir == KR_DIR_IN ? "SPI" : "peer");
		return -EEXIST;
	}
	if (old == NULL && t->n >= t->cap) {
		snprintf(why, cap, "SA table full (%u SAs)", t->cap);
		return -ENOSPC;
	}
	s = rte_zmalloc("dp_sa", sizeof(*s), 64);
	if (s == NULL) {
		snprintf(why, cap, "out of memory");
		return -ENOMEM;
	}
	rc = esp_sa_init(e, &s->esp, &c);
	if (rc != 0) {
		rte_free(s);
		snprintf(why, cap, "SA refused by ESP setup");
		return rc;
	}
	s->id = sa->id;
	s->flags = sa->flags;
	s->key_len = sa->key_len;
	s->owner = DP_SA_NO_OWNER;
	memcpy(s->key, sa->key, sa->key_len);
	memcpy(s->salt, sa->salt, KR_SALT_LEN);
	/* One store publishes the new SA: readers see the old one or this one. */
	pos = rte_hash_add_key_data(h, key, s);
	if (pos < 0) {
		sa_free(s);
		snprintf(why, cap, "SA hash full");
		return -ENOSPC;
	}
	if (old != NULL) {
		s->index = old->index;
		t->all[s->index] = s;
		sa_defer(t, old, NULL, -1);
	} else {
		s->index = t->n;
		t->all[t->n++] = s;
	}
	if (sa->id.dir == KR_DIR_OUT && sa_zero(sa->id.peer, 16) && sa->id.peer_port == 0)
		t->any_out = true;
	return 0;
}

int sa_table_del(struct sa_table *t, const struct kr_sa_id *id)
{
	struct sa_out_key ok;
	const void *key;
	struct rte_hash *h = sa_hash_of(t, id, &ok, &key);
	struct dp_sa *s = sa_table_find(t, id);
	int32_t pos;

	if (s == NULL)
		return -ENOENT;
	pos = rte_hash_del_key(h, key);
	if (pos < 0)
		return -ENOENT;
	sa_list_remove(t, s);
	if (id->dir == KR_DIR_OUT && sa_zero(id->peer, 16) && id->peer_port == 0)
		t->any_out = false;
	sa_defer(t, s, h, pos);
	return 0;
}

void sa_table_flush(struct sa_table *t)
{
	while (t->n > 0) {
		struct kr_sa_id id = t->all[t->n - 1]->id;

		if (sa_table_del(t, &id) != 0)
			break; /* cannot happen: every listed SA is in its hash */
	}
}

void sa_table_reclaim(struct sa_table *t)
{
	unsigned freed, pending, avail;

	rte_rcu_qsbr_dq_reclaim(t->dq, 256, &freed, &pending, &avail);
}

void sa_table_info(const struct dp_sa *s, uint64_t now, struct kr_sa_info *info)
{
	uint64_t drops = s->peer_drops;

	memset(info, 0, sizeof(*info));
	info->id = s->id;
	info->flags = s->flags;
	info->key_len = s->key_len;
	info->expired = s->esp.expired;
	info->seq = s->esp.seq;
	info->packets = s->esp.packets;
	info->bytes = s->esp.bytes;
	for (unsigned k = 1; k < ESP_DROP_COUNT; k++)
		drops += s->esp.drops[k];
	info->drops = drops;
	info->age_s = now >= s->esp.created ? now - s->esp.created : 0;
	info->soft =
		(struct kr_lifetime){s->esp.soft.packets, s->esp.soft.bytes, s->esp.soft.seconds};
	info->hard =
		(struct kr_lifetime){s->esp.hard.packets, s->esp.hard.bytes, s->esp.hard.seconds};
}
