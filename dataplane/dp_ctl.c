/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data plane's side of the key ring (include/keyring_abi.h): commands applied to the SA
 * and swarm tables while the workers run, their acknowledgements and replies, and the
 * events control hears about (resync at start, SA soft/hard expiry, replay and ICV alarms per
 * SA's peer, the counters every stats-interval seconds). Runs on the main lcore, or from the
 * only worker's loop between bursts. Also the telemetry commands that read the tables (they
 * take ctl->lock, which the packet path never does).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/mman.h>

#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_telemetry.h>

#include "dp.h"
#include "dp_ctl.h"

volatile uint64_t dp_now_s;

static uint64_t dp_ctl_clock_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec;
}

void dp_ctl_tick_clock(void)
{
	dp_now_s = dp_ctl_clock_s();
}

static void dp_ctl_event(struct dp_ctl *c, uint16_t type, const void *body, size_t len)
{
	struct kr_msg ev = {.type = type, .len = (uint32_t)len};

	memcpy(&ev.u, body, len);
	keyring_event_post(&c->kr, &ev);
}

/* ---- commands ------------------------------------------------------------------------ */

static int dp_ctl_sa_list(struct dp_ctl *c, const struct kr_list_req *q, uint32_t *reply_len)
{
	struct kr_list_reply *r = (struct kr_list_reply *)c->kr.reply;
	struct kr_sa_info *e = (struct kr_sa_info *)(r + 1);
	uint32_t max = q->max == 0 || q->max > KR_LIST_MAX ? KR_LIST_MAX : q->max, i;

	memset(r, 0, sizeof(*r));
	r->total = c->sas.n;
	for (i = q->start; i < c->sas.n && r->count < max; i++)
		sa_table_info(c->sas.all[i], dp_now_s, &e[r->count++]);
	r->next = i < c->sas.n ? i : 0;
	*reply_len = (uint32_t)(sizeof(*r) + r->count * sizeof(*e));
	return 0;
}

static void dp_ctl_swarm_info(const struct dp_ctl *c, unsigned slot, struct kr_swarm_info *e)
{
	const struct dp_swarm *s = &c->swarms.slot[slot];

	memset(e, 0, sizeof(*e));
	if (s->ingest != NULL) {
		const struct dp_ingest *ing = s->ingest;

		e->state = KR_SWARM_INGESTING;
		e->id_len = (uint8_t)hash_len(ing->m.hash);
		memcpy(e->id, ing->m.swarm_id, e->id_len);
		e->open = ing->open;
		e->chunk_size = ing->m.chunk_size;
		e->size = ing->m.content_len;
		e->chunks = (ing->m.content_len + ing->m.chunk_size - 1) / ing->m.chunk_size;
		/* avail first: it never passes chunks_in, so servable <= chunks_in as read */
		e->chunks_servable = __atomic_load_n(&s->avail, __ATOMIC_ACQUIRE);
		e->chunks_in = ing->chunks_in;
		e->n_sources = (uint8_t)ing->n_src;
		for (unsigned k = 0; k < ing->n_src; k++)
			e->bad_chunks += __atomic_load_n(&ing->src[k].bad_chunks, __ATOMIC_RELAXED);
		e->save = __atomic_load_n(&s->save_state, __ATOMIC_ACQUIRE);
		memcpy(e->source, ing->src[0].peer, 16);
		e->source_port = ing->src[0].port;
		snprintf(e->name, sizeof(e->name), "%.63s", ing->m.name);
	} else {
		e->id_len = (uint8_t)hash_len(s->store.m.hash);
		memcpy(e->id, s->store.m.swarm_id, e->id_len);
		e->open = s->open;
		e->save = __atomic_load_n(&s->save_state, __ATOMIC_ACQUIRE);
		e->chunks = s->store.tree.n_chunks;
		e->chunks_servable = e->chunks;
		e->chunk_size = s->store.m.chunk_size;
		e->size = s->store.m.content_len;
		snprintf(e->name, sizeof(e->name), "%s", s->store.m.name);
	}
	/* An ingest is served as it arrives: its channels count too. */
	for (unsigned k = 0; k < c->n_workers; k++) {
		e->channels_opened += c->workers[k]->swarm_channels[slot];
		e->chunks_sent += c->workers[k]->swarm_chunks[slot];
		e->bytes_sent += c->workers[k]->swarm_bytes[slot];
	}
}

static void dp_ctl_swarm_counters_reset(struct dp_ctl *c, unsigned slot)
{
	/* A new swarm in a slot starts from zero; the workers never touch a dead slot's
	 * counters, and the add happens before any channel can bind to it. */
	for (unsigned k = 0; k < c->n_workers; k++) {
		c->workers[k]->swarm_channels[slot] = 0;
		c->workers[k]->swarm_chunks[slot] = 0;
		c->workers[k]->swarm_bytes[slot] = 0;
	}
}

static int dp_ctl_swarm_list(struct dp_ctl *c, const struct kr_list_req *q, uint32_t *reply_len)
{
	struct kr_list_reply *r = (struct kr_list_reply *)c->kr.reply;
	struct kr_swarm_info *e = (struct kr_swarm_info *)(r + 1);
	uint32_t max = q->max == 0 || q->max > KR_LIST_MAX ? KR_LIST_MAX : q->max, i;

	memset(r, 0, sizeof(*r));
	r->total = c->swarms.n;
	for (i = q->start; i < DP_MAX_SWARMS && r->count < max; i++)
		if (c->swarms.slot[i].live || c->swarms.slot[i].ingest != NULL)
			dp_ctl_swarm_info(c, i, &e[r->count++]);
	r->next = 0;
	for (; i < DP_MAX_SWARMS; i++)
		if (c->swarms.slot[i].live || c->swarms.slot[i].ingest != NULL) {
			r->next = i;
			break;
		}
	*reply_len = (uint32_t)(sizeof(*r) + r->count * sizeof(*e));
	return 0;
}

/* Tests only (dp_ctl.h): while set, the prefault thread waits before it starts. */
volatile int dp_ctl_prep_hold;

/* Faulted in so many bytes at a time, the cancel flag looked at between steps. */
#define DP_CTL_PREFAULT_STEP ((size_t)16 << 20)
/* Key ring commands applied per poll (a poll a millisecond): 64,000 a second at most. */
#define DP_CTL_CMDS_PER_POLL 64u

/*
 * An ingest's content buffer made ready for the worker: 2 MiB pages where the kernel gives
 * them (transparent huge pages on madvise), every page faulted in before a worker writes it.
 * Measured on a 2-vCPU VM (docs/performance.md, "Ingest"): with 4 KiB pages, copying a
 * verified 1 KiB chunk into the buffer cost ~3,700 cycles (TLB misses under nested paging),
 * prefaulted or not; with 2 MiB pages ~100, and the ingest went from 225,000 to 450,000
 * chunks/s. In steps, so that a cancel (a `swarm del` of the ingest) waits for one step at
 * most; false when cancelled.
 */
static bool dp_ctl_prefault(struct dp_ctl_prep *pr, uint8_t *p, size_t len)
{
	(void)madvise(p, len, MADV_HUGEPAGE);
	for (size_t at = 0; at < len; at += DP_CTL_PREFAULT_STEP) {
		size_t n = len - at < DP_CTL_PREFAULT_STEP ? len - at : DP_CTL_PREFAULT_STEP;
		volatile uint8_t *v = p + at;

		if (__atomic_load_n(&pr->cancel, __ATOMIC_ACQUIRE))
			return false;
		/* Before Linux 5.14: written by hand; what is there stays (the verifier's root). */
		if (madvise(p + at, n, MADV_POPULATE_WRITE) != 0)
			for (size_t o = 0; o < n; o += 4096)
				v[o] = v[o];
	}
	return true;
}

/*
 * The prefault runs on a control thread, whose CPUs are those of the process less the EAL's
 * lcores (rte_ctrl_thread_create): populating 256 MiB takes ~150 ms (zeroing 2 MiB pages,
 * more when the kernel must reclaim first), and with one lcore the key ring is drained by the
 * worker, which stopped serving every peer for that long (perf: clear_page_erms, 12-62 % of
 * the worker's samples in an ingest benchmark). The verifier's node array (16 MiB for
 * 256 MiB of 1 KiB chunks) is faulted in too, instead of by the worker's first writes.
 */
static void *dp_ctl_prep_run(void *arg)
{
	struct dp_ctl_prep *pr = arg;
	struct dp_ingest *ing = pr->ing;
	const struct merkle_verifier *v = &ing->src[0].l.v;

	while (dp_ctl_prep_hold && !__atomic_load_n(&pr->cancel, __ATOMIC_ACQUIRE))
		usleep(1000);
	if (dp_ctl_prefault(pr, ing->content, ing->map_len) &&
		v->nodes_len >= (size_t)2 << 20) /* mapped, not malloc'd (merkle.c) */
		dp_ctl_prefault(pr, v->nodes, v->nodes_len);
	__atomic_store_n(&pr->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void dp_ctl_prep_start(struct dp_ctl *c, struct dp_ingest *ing, int slot)
{
	struct dp_ctl_prep *pr = &c->prep;

	pr->ing = ing;
	pr->slot = slot;
	pr->done = 0;
	pr->cancel = 0;
	pr->running =
		rte_ctrl_thread_create(&pr->thread, "sp-prefault", NULL, dp_ctl_prep_run, pr) == 0;
	if (!pr->running) /* no thread: faulted in here, as before */
		dp_ctl_prep_run(pr);
}

/* The prefault's thread joined (waiting for it when wait, else only once it is done); true
 * when nothing runs any more. */
static bool dp_ctl_prep_join(struct dp_ctl *c, bool wait)
{
	struct dp_ctl_prep *pr = &c->prep;

	if (!pr->running)
		return true;
	if (!wait && !__atomic_load_n(&pr->done, __ATOMIC_ACQUIRE))
		return false;
	pthread_join(pr->thread, NULL);
	pr->running = false;
	return true;
}

/* An ingest made but not hung on a slot: every part of it freed. */
static void dp_ctl_ingest_unmake(struct dp_ingest *ing)
{
	if (ing->src[0].l.v.nodes != NULL)
		ppspp_leecher_fini(&ing->src[0].l);
	if (ing->content != NULL)
		munmap(ing->content, ing->map_len);
	free(ing->manifest_text);
	rte_free(ing);
}

/* The prefix of an IPv4-mapped IPv6 address (::ffff:a.b.c.d), how the key ring gives IPv4. */
static const uint8_t dp_ctl_mapped[12] = {[10] = 0xff, [11] = 0xff};

/* A source's peer, as KR_SWARM_INGEST gives it. */
static void dp_ctl_ingest_src_set(struct dp_ingest_src *s, const struct kr_ingest *in)
{
	memcpy(s->peer, in->peer, 16);
	s->v6 = memcmp(in->peer, dp_ctl_mapped, 12) != 0;
	s->port = in->peer_port;
	s->encap_port = in->encap_port;
}

/*
 * KR_SWARM_INGEST of a swarm being ingested: the peer becomes another source, a leecher
 * channel sharing the first one's verifier (the owner links it in on its lcore).
 */
static int dp_ctl_ingest_add_source(
	struct dp_ingest *ing, const struct kr_ingest *in, char *why, size_t cap)
{
	unsigned k = ing->n_src;
	uint32_t id = 0;

	if (__atomic_load_n(&ing->done, __ATOMIC_ACQUIRE)) {
		snprintf(why, cap, "this ingest is complete already");
		return -EEXIST;
	}
	for (unsigned i = 0; i < k; i++)
		if (memcmp(ing->src[i].peer, in->peer, 16) == 0 &&
			ing->src[i].port == in->peer_port) {
			snprintf(why, cap, "that peer is a source of this ingest already");
			return -EEXIST;
		}
	if (k == DP_INGEST_SOURCES) {
		snprintf(why, cap, "this ingest has %d sources, the most it takes",
			DP_INGEST_SOURCES);
		return -ENOSPC;
	}
	while (id == 0)
		crypto_random(&id, sizeof(id));
	if (ppspp_leecher_attach(&ing->src[k].l, &ing->src[0].l, id) != 0) {
		snprintf(why, cap, "out of memory");
		return -ENOMEM;
	}
	dp_ctl_ingest_src_set(&ing->src[k], in);
	__atomic_store_n(&ing->n_src, k + 1, __ATOMIC_RELEASE);
	return 0;
}

/*
 * KR_SWARM_INGEST, first part: the manifest checked, a slot, the content buffer, the leecher,
 * kept in c->prep for the second part (dp_ctl_ingest_start then starts the prefault). A
 * source added to a running ingest is done here: *pending says whether the second part must
 * follow.
 */
static int dp_ctl_ingest_begin(
	struct dp_ctl *c, const struct kr_ingest *in, char *why, size_t cap, bool *pending)
{
	static char text[MANIFEST_MAX_LEN + 1];
	static const uint8_t zero[16];
	uint8_t nh[16];
	struct dp_ingest *ing;
	size_t hl;
	int slot = -1, rc;

	if (memchr(in->manifest, '\0', sizeof(in->manifest)) == NULL || in->manifest[0] == '\0') {
		snprintf(why, cap, "manifest path missing or not terminated");
		return -EINVAL;
	}
	if (in->peer_port == 0 || memcmp(in->peer, zero, 16) == 0) {
		snprintf(why, cap, "the source's address and port are needed");
		return -EINVAL;
	}
	if (memcmp(in->peer, dp_ctl_mapped, 12) == 0 ? c->kr.h->ip4[0] == 0 : !c->kr.h->has_ip6) {
		snprintf(why, cap, "no address of that family to fetch from");
		return -EINVAL;
	}
	if (c->n_workers > 0 && !dp_neigh_next_hop(c->workers[0]->cfg, in->peer,
					memcmp(in->peer, dp_ctl_mapped, 12) != 0, nh)) {
		snprintf(why, cap,
			"no route to the source: off the link and no gateway of that "
			"family (gateway = / gateway6 =)");
		return -ENETUNREACH;
	}
	ing = rte_zmalloc("dp_ingest", sizeof(*ing), RTE_CACHE_LINE_SIZE);
	if (ing == NULL) {
		snprintf(why, cap, "out of memory");
		return -ENOMEM;
	}
	rc = manifest_load(in->manifest, &ing->m, text, sizeof(text), why, cap);
	if (rc == 0 && manifest_verify(&c->eng, &ing->m, text, in->provider_pub) != 0) {
		snprintf(why, cap, "%.80s: not signed by the given provider key", in->manifest);
		rc = -EPERM;
	}
	if (rc == 0) {
		ing->manifest_len = strnlen(text, sizeof(text));
		ing->manifest_text = malloc(ing->manifest_len);
		if (ing->manifest_text == NULL) {
			snprintf(why, cap, "out of memory");
			rc = -ENOMEM;
		} else {
			memcpy(ing->manifest_text, text, ing->manifest_len);
		}
	}
	if (rc != 0)
		goto fail;
	hl = hash_len(ing->m.hash);
	slot = swarm_table_find_ingest(&c->swarms, ing->m.swarm_id, hl);
	if (slot >= 0) { /* being ingested: the peer is another source */
		rc = dp_ctl_ingest_add_source(c->swarms.slot[slot].ingest, in, why, cap);
		goto fail; /* this message's own ingest is not needed */
	}
	if (swarm_table_find(&c->swarms, ing->m.swarm_id, hl) >= 0) {
		snprintf(why, cap, "this swarm is served already");
		rc = -EEXIST;
		goto fail;
	}
	if (c->prep.ing != NULL) { /* one prefault at a time: this command waits for it */
		rc = -EINPROGRESS;
		goto fail;
	}
	for (unsigned i = 0; i < DP_MAX_SWARMS; i++)
		if (!c->swarms.slot[i].live && c->swarms.slot[i].ingest == NULL) {
			slot = (int)i;
			break;
		}
	if (slot < 0) {
		snprintf(why, cap, "no free swarm slot (%d)", DP_MAX_SWARMS);
		rc = -ENOSPC;
		goto fail;
	}
	ing->map_len = (size_t)ing->m.content_len;
	ing->content = mmap(
		NULL, ing->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ing->content == MAP_FAILED) {
		ing->content = NULL;
		snprintf(why, cap, "no memory for %llu bytes of content",
			(unsigned long long)ing->m.content_len);
		rc = -ENOMEM;
		goto fail;
	}
	{
		uint32_t id = 0;

		while (id == 0)
			crypto_random(&id, sizeof(id));
		if (ppspp_leecher_init(&ing->src[0].l, &c->eng, ing->m.hash, ing->m.chunk_size,
			    ing->m.content_len, ing->m.swarm_id, id, PPSPP_CAM_CHUNK32) != 0) {
			snprintf(why, cap, "cannot set up the Merkle verifier (memory)");
			rc = -ENOMEM;
			goto fail;
		}
	}
	c->prep.ing = ing;
	c->prep.slot = slot;
	*pending = true;
	return 0;
fail:
	if (ing->content != NULL)
		munmap(ing->content, ing->map_len);
	free(ing->manifest_text);
	rte_free(ing);
	return rc;
}

/*
 * KR_SWARM_INGEST, second part: the ingest hung on its slot at once, listed and served (as far
 * as it has arrived), but claimed by no worker before it is ready (its buffers faulted in,
 * dp_ctl_prep_finish).
 */
static int dp_ctl_ingest_hang(struct dp_ctl *c, const struct kr_ingest *in, char *why, size_t cap)
{
	struct dp_ingest *ing = c->prep.ing;
	int slot = c->prep.slot;
	size_t hl = hash_len(ing->m.hash);
	struct dp_swarm *s;

	dp_ctl_ingest_src_set(&ing->src[0], in);
	ing->n_src = 1;
	ing->open = in->open != 0;
	ing->owner = DP_SA_NO_OWNER;
	s = &c->swarms.slot[slot];
	memcpy(s->ingest_id, ing->m.swarm_id, hl);
	s->ingest_hash = ing->m.hash;
	memcpy(s->provider_pub, in->provider_pub, sizeof(s->provider_pub));
	snprintf(s->dir, sizeof(s->dir), "%s", in->manifest);
	dp_ctl_swarm_counters_reset(c, (unsigned)slot);
	/*
	 * Served from the start, as far as it has arrived: the store is a view over the content
	 * buffer and the verifier's node array, with nothing in (avail 0) until the owner
	 * verifies the first chunks (docs/dataplane.md, "Serving while ingesting").
	 */
	{
		struct chunk_store *st = &s->store;

		memset(st, 0, sizeof(*st));
		st->m = ing->m;
		if (merkle_tree_view(&st->tree, ing->m.hash, ing->m.chunk_size, ing->m.content_len,
			    ing->src[0].l.v.nodes,
			    ing->src[0].l.v.n_bins * ing->src[0].l.v.hash_len) != 0 ||
			chunk_store_sums_alloc(st) != 0) {
			memset(st, 0, sizeof(*st));
			dp_ctl_ingest_unmake(ing);
			c->prep.ing = NULL;
			snprintf(why, cap, "out of memory");
			return -ENOMEM;
		}
		st->chunks = ing->content;
		st->n_peaks = merkle_peaks(st->tree.n_chunks, st->peaks);
		__atomic_store_n(&s->avail, 0, __ATOMIC_RELAXED);
		st->avail = &s->avail;
		ing->avail = &s->avail;
		s->open = ing->open;
		s->save_state = KR_SAVE_NONE;
	}
	ing->gen = s->gen + 1;
	__atomic_store_n(&s->gen, ing->gen, __ATOMIC_RELEASE);
	__atomic_store_n(&s->ingest, ing, __ATOMIC_RELEASE);
	__atomic_store_n(&c->swarms.n_ingests, c->swarms.n_ingests + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&s->live, 1, __ATOMIC_RELEASE);
	c->swarms.n++;
	return 0;
}

/*
 * An ingest's prefault done: the ingest made ready (workers may claim it) and forgotten here.
 * Without wait, false while the thread still runs. True when no prefault is under way.
 */
static bool dp_ctl_prep_finish(struct dp_ctl *c, bool wait)
{
	struct dp_ingest *ing = c->prep.ing;

	if (ing == NULL)
		return true;
	if (!dp_ctl_prep_join(c, wait))
		return false;
	__atomic_store_n(&ing->ready, 1, __ATOMIC_RELEASE);
	c->prep.ing = NULL;
	return true;
}

/*
 * KR_SWARM_INGEST: begun and hung on its slot, its buffers faulted in by a thread meanwhile;
 * acknowledged at once (with wait, once they are in), so that no producer waits behind the
 * prefault (up to ~2 s). A new ingest while another one's prefault runs is the one case that
 * still waits: -EINPROGRESS without wait (the caller applies the same command again later,
 * and takes no other before).
 */
static int dp_ctl_ingest_start(
	struct dp_ctl *c, const struct kr_ingest *in, char *why, size_t cap, bool wait)
{
	bool pending = false;
	int rc;

	/* Busy: only another source of the ingest being prepared (its manifest) goes on now;
	 * anything else waits without reading its manifest on every poll. */
	if (!dp_ctl_prep_finish(c, wait) &&
		strncmp(in->manifest, c->swarms.slot[c->prep.slot].dir, sizeof(in->manifest)) != 0)
		return -EINPROGRESS;
	rc = dp_ctl_ingest_begin(c, in, why, cap, &pending);
	if (rc != 0 || !pending)
		return rc;
	rc = dp_ctl_ingest_hang(c, in, why, cap);
	if (rc != 0)
		return rc;
	dp_ctl_prep_start(c, c->prep.ing, c->prep.slot);
	if (wait)
		dp_ctl_prep_finish(c, true);
	return 0;
}

/* Takes an ingest off its slot (or the ingest and the swarm it is served as: cancel), waits
 * until no worker can hold it, frees it. */
static void dp_ctl_ingest_release(struct dp_ctl *c, struct dp_swarm *s, bool cancel)
{
	struct dp_ingest *ing = s->ingest;

	if (ing == c->prep.ing) {
		/* Cancelled while its buffers are faulted in: the thread stops within a step
		 * (16 MiB), and the ingest is never made ready. */
		__atomic_store_n(&c->prep.cancel, 1, __ATOMIC_RELEASE);
		dp_ctl_prep_join(c, true);
		c->prep.ing = NULL;
	}
	if (cancel) {
		__atomic_store_n(&s->live, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&s->gen, s->gen + 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&s->ingest, NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&c->swarms.n_ingests, c->swarms.n_ingests - 1, __ATOMIC_RELEASE);
	rte_rcu_qsbr_synchronize(c->sas.qsbr, c->self_tid);
	for (unsigned k = ing->n_src; k-- > 0;) /* later channels before the first */
		ppspp_leecher_fini(&ing->src[k].l);
	free(ing->manifest_text);
	if (cancel) {
		munmap(ing->content, ing->map_len);
		free(s->store.sums);
		memset(&s->store, 0, sizeof(s->store));
		s->save_state = KR_SAVE_NONE; /* a save --when-complete: nothing to save */
		c->swarms.n--;
	}
	rte_free(ing);
}

static void dp_ctl_ingest_drop(struct dp_ctl *c, struct dp_swarm *s)
{
	dp_ctl_ingest_release(c, s, true);
}

/*
 * A complete ingest: the swarm it was served as all along keeps its generation (its channels
 * go on) and takes over the content buffer and the verifier's node array, which already hold
 * every node under the peaks (each one checked against the swarm ID): only the few above them
 * are computed, no second pass over the content.
 */
static void dp_ctl_ingest_finish(struct dp_ctl *c, unsigned slot)
{
	struct dp_swarm *s = &c->swarms.slot[slot];
	struct dp_ingest *ing = s->ingest;
	struct chunk_store *st = &s->store;
	struct merkle_tree t;

	if (merkle_tree_adopt(&t, &ing->src[0].l.v, &c->eng) != 0) {
		dp_ctl_ingest_drop(c, s); /* cannot happen: every chunk was verified */
		return;
	}
	if (t.nodes != st->tree.nodes ||
		memcmp(merkle_tree_root(&t), ing->m.swarm_id, hash_len(ing->m.hash)) != 0) {
		dp_ctl_ingest_drop(c, s); /* cannot happen either; workers are gone from t now */
		merkle_tree_free(&t);
		return;
	}
	/* Ownership only: the fields workers read (nodes, chunks, avail) stay as they are. The
	 * owner published every chunk already; said once more, atomically, so that no channel
	 * can wait on a count short of the whole. */
	__atomic_store_n(&s->avail, st->tree.n_chunks, __ATOMIC_RELEASE);
	__atomic_fetch_add(&c->swarms.avail_events, 1, __ATOMIC_RELEASE);
	st->tree.owned = t.owned;
	st->tree.owned_map_len = t.owned_map_len;
	st->chunks_map = ing->content;
	st->chunks_map_len = ing->map_len;
	s->manifest_text = ing->manifest_text;
	s->manifest_len = ing->manifest_len;
	ing->manifest_text = NULL;
	c->ingested++;
	dp_ctl_ingest_release(c, s, false);
	if (s->save_state == KR_SAVE_PENDING) { /* swarm save --when-complete / ingest --save */
		char why[256], dir[KR_PATH_MAX];

		memcpy(dir, s->save_dir, sizeof(dir)); /* swarm_table_save writes save_dir */
		s->save_state = KR_SAVE_NONE;
		if (swarm_table_save(&c->swarms, slot, dir, false, why, sizeof(why)) != 0) {
			printf("superpeer-dataplane: swarm %.63s not saved: %s\n", st->m.name, why);
			fflush(stdout);
			__atomic_store_n(&s->save_state, KR_SAVE_FAILED, __ATOMIC_RELEASE);
		}
	}
}

/* Ingests: complete ones served; bad chunks reported against their source. */
static void dp_ctl_ingest_scan(struct dp_ctl *c)
{
	for (unsigned i = 0; i < DP_MAX_SWARMS; i++) {
		struct dp_ingest *ing = c->swarms.slot[i].ingest;
		bool done;

		if (ing == NULL)
			continue;
		/* done first: bad chunks counted before completion are then all seen below. */
		done = __atomic_load_n(&ing->done, __ATOMIC_ACQUIRE);
		for (unsigned k = 0; k < ing->n_src; k++) {
			struct dp_ingest_src *s = &ing->src[k];
			uint64_t bad = __atomic_load_n(&s->bad_chunks, __ATOMIC_RELAXED);

			if (bad > s->bad_reported) {
				struct kr_alarm a = {.peer_port = s->port,
					.reason = KR_ALARM_BAD_CHUNK,
					.count = bad};

				memcpy(a.peer, s->peer, 16);
				s->bad_reported = bad;
				dp_ctl_event(c, KR_EV_PEER_ALARM, &a, sizeof(a));
			}
		}
		if (done)
			dp_ctl_ingest_finish(c, i);
	}
}

static int dp_ctl_apply_one(
	struct dp_ctl *c, struct kr_msg *m, char *why, size_t cap, uint32_t *reply_len, bool wait)
{
	struct dp_sa *s;
	int rc;

	switch (m->type) {
	case KR_SA_ADD:
		rc = sa_table_add(&c->sas, &c->eng, &m->u.sa, (m->flags & KR_F_REPLACE) != 0,
			dp_now_s, why, cap);
		return rc;
	case KR_SA_DEL:
		rc = sa_table_del(&c->sas, &m->u.sa_id);
		if (rc != 0)
			snprintf(why, cap, "no such SA");
		return rc;
	case KR_SA_FLUSH:
		sa_table_flush(&c->sas);
		return 0;
	case KR_SA_GET: {
		struct kr_sa *out = (struct kr_sa *)c->kr.reply;

		s = sa_table_find(&c->sas, &m->u.sa_id);
		if (s == NULL) {
			snprintf(why, cap, "no such SA");
			return -ENOENT;
		}
		memset(out, 0, sizeof(*out));
		out->id = s->id;
		out->flags = s->flags;
		out->key_len = s->key_len;
		memcpy(out->key, s->key, s->key_len);
		memcpy(out->salt, s->salt, KR_SALT_LEN);
		out->soft = (struct kr_lifetime){
			s->esp.soft.packets, s->esp.soft.bytes, s->esp.soft.seconds};
		out->hard = (struct kr_lifetime){
			s->esp.hard.packets, s->esp.hard.bytes, s->esp.hard.seconds};
		*reply_len = sizeof(*out);
		return 0;
	}
	case KR_SA_LIST:
		return dp_ctl_sa_list(c, &m->u.list, reply_len);
	case KR_SWARM_ADD: {
		struct kr_swarm *sw = &m->u.swarm;

		if (memchr(sw->store, '\0', sizeof(sw->store)) == NULL || sw->store[0] == '\0') {
			snprintf(why, cap, "store path missing or not terminated");
			return -EINVAL;
		}
		rc = swarm_table_add(
			&c->swarms, &c->eng, sw->store, sw->provider_pub, sw->open, why, cap);
		if (rc < 0)
			return rc;
		if (sw->id_len > 0) {
			const struct dp_swarm *d = &c->swarms.slot[rc];

			if (sw->id_len != hash_len(d->store.m.hash) ||
				memcmp(sw->id, d->store.m.swarm_id, sw->id_len) != 0) {
				swarm_table_del(&c->swarms, d->store.m.swarm_id,
					hash_len(d->store.m.hash), c->sas.qsbr, c->self_tid);
				snprintf(why, cap, "%.80s: its swarm ID is not the one given",
					sw->store);
				return -EINVAL;
			}
		}
		dp_ctl_swarm_counters_reset(c, (unsigned)rc);
		return 0;
	}
	case KR_SWARM_DEL:
		if (m->u.swarm.id_len == 0 || m->u.swarm.id_len > KR_SWARM_ID_MAX) {
			snprintf(why, cap, "swarm ID missing");
			return -EINVAL;
		}
		rc = swarm_table_find_ingest(&c->swarms, m->u.swarm.id, m->u.swarm.id_len);
		if (rc >= 0) { /* an ingest in progress: stopped, nothing of it kept */
			dp_ctl_ingest_drop(c, &c->swarms.slot[rc]);
			return 0;
		}
		rc = swarm_table_del(
			&c->swarms, m->u.swarm.id, m->u.swarm.id_len, c->sas.qsbr, c->self_tid);
		if (rc != 0)
			snprintf(why, cap, "no such swarm");
		return rc;
	case KR_SWARM_LIST:
		return dp_ctl_swarm_list(c, &m->u.list, reply_len);
	case KR_RESYNC_DONE:
		c->resynced = true;
		return 0;
	case KR_SWARM_INGEST:
		return dp_ctl_ingest_start(c, &m->u.ingest, why, cap, wait);
	case KR_SWARM_SAVE: {
		const struct kr_swarm_save *sv = &m->u.save;

		rc = sv->id_len == 0 || sv->id_len > KR_SWARM_ID_MAX
			     ? -1
			     : swarm_table_find(&c->swarms, sv->id, sv->id_len);
		if (rc < 0) {
			snprintf(why, cap, "no such swarm served");
			return -ENOENT;
		}
		return swarm_table_save(
			&c->swarms, (unsigned)rc, sv->dir, sv->when_complete != 0, why, cap);
	}
	case KR_PEER_POLICY: {
		const struct kr_peer_policy *pp = &m->u.policy;
		uint64_t v = 0;

		if (pp->rate > DP_POL_RATE_MASK) {
			snprintf(why, cap, "rate above %llu bytes/s",
				(unsigned long long)DP_POL_RATE_MASK);
			return -EINVAL;
		}
		/* The value is stored in the hash itself: a worker reads it in one lookup and
		 * nothing is ever freed; "delete" stores the defaults (0). */
		if (!(m->flags & KR_F_DELETE))
			v = pp->rate | (pp->block ? DP_POL_BLOCK : 0) |
			    (pp->choke ? DP_POL_CHOKE : 0);
		if (rte_hash_add_key_data(c->policies, pp->peer, (void *)(uintptr_t)v) < 0) {
			snprintf(why, cap, "peer policy table full");
			return -ENOSPC;
		}
		return 0;
	}
	default:
		snprintf(why, cap, "unknown command %u", m->type);
		return -EOPNOTSUPP;
	}
}

/* ---- periodic scan: expiry and alarms -------------------------------------------------- */

static bool dp_ctl_time_reached(const struct esp_sa *sa, uint64_t secs, uint64_t now)
{
	return secs != 0 && now >= sa->created && now - sa->created >= secs;
}

static void dp_ctl_scan(struct dp_ctl *c)
{
	uint64_t now = dp_now_s;

	for (uint32_t i = 0; i < c->sas.n; i++) {
		struct dp_sa *s = c->sas.all[i];
		/* Racy reads of a worker's SA: a bit or a counter a little old at worst. */
		uint8_t exp = __atomic_load_n(&s->esp.expired, __ATOMIC_RELAXED);
		uint64_t alarms;

		if (dp_ctl_time_reached(&s->esp, s->esp.soft.seconds, now))
			exp |= ESP_EV_SOFT_EXPIRED;
		if (dp_ctl_time_reached(&s->esp, s->esp.hard.seconds, now))
			exp |= ESP_EV_HARD_EXPIRED | ESP_EV_SOFT_EXPIRED;
		if ((exp & ESP_EV_SOFT_EXPIRED) && !(s->reported & ESP_EV_SOFT_EXPIRED)) {
			s->reported |= ESP_EV_SOFT_EXPIRED;
			dp_ctl_event(c, KR_EV_SA_SOFT, &s->id, sizeof(s->id));
		}
		if ((exp & ESP_EV_HARD_EXPIRED) && !(s->reported & ESP_EV_HARD_EXPIRED)) {
			s->reported |= ESP_EV_HARD_EXPIRED;
			dp_ctl_event(c, KR_EV_SA_HARD, &s->id, sizeof(s->id));
		}
		if (s->id.dir != KR_DIR_IN)
			continue;
		alarms = s->esp.drops[ESP_DROP_ICV];
		if (alarms > s->alarm_icv) {
			struct kr_alarm a = {.peer_port = s->id.peer_port,
				.reason = KR_ALARM_ICV,
				.spi = s->id.spi,
				.count = alarms};

			memcpy(a.peer, s->id.peer, 16);
			s->alarm_icv = alarms;
			dp_ctl_event(c, KR_EV_PEER_ALARM, &a, sizeof(a));
		}
		alarms = s->esp.drops[ESP_DROP_REPLAY] + s->esp.drops[ESP_DROP_TOO_OLD];
		if (alarms > s->alarm_replay) {
			struct kr_alarm a = {.peer_port = s->id.peer_port,
				.reason = KR_ALARM_REPLAY,
				.spi = s->id.spi,
				.count = alarms};

			memcpy(a.peer, s->id.peer, 16);
			s->alarm_replay = alarms;
			dp_ctl_event(c, KR_EV_PEER_ALARM, &a, sizeof(a));
		}
	}
}

/*
 * KR_EV_STATS: every worker's counters summed (racy reads of counters that only grow: a
 * little old at worst). Skipped while the event ring is half full, so that a control process
 * that is away finds its expiry events and alarms, not a ring of stale counters.
 */
static void dp_ctl_stats_post(struct dp_ctl *c, uint64_t now)
{
	struct kr_stats st = {.uptime_s = now - c->start_s,
		.sas = c->sas.n,
		.swarms = c->swarms.n,
		.workers = c->n_workers,
		.interval_s = c->stats_interval_s};
	uint64_t busy = 0, run = 0, tsc = rte_rdtsc();

	c->last_stats_s = now;
	if (rte_ring_count(c->kr.d2c) >= KR_RING_SLOTS / 2) {
		c->stats_skipped++;
		return;
	}
	for (unsigned i = 0; i < c->n_workers; i++) {
		const struct dp_worker *w = c->workers[i];

		st.rx_packets += w->rx_pkts;
		st.rx_bytes += w->rx_bytes;
		st.tx_packets += w->tx_pkts;
		st.tx_bytes += w->tx_bytes;
		st.chunks_sent += w->chunks_sent;
		st.chunks_ingested += w->chunks_ingested;
		st.bad_chunks += w->drops[DP_DROP_BAD_CHUNK];
		st.channels_open += w->channels_open;
		st.peers_timed_out += w->peers_timed_out;
		st.chunk_bytes_sent += w->chunk_bytes_sent;
		for (unsigned k = 0; k < DP_DROP_COUNT; k++)
			st.drops += w->drops[k];
		if (dp_worker_run_tsc(w, tsc) != 0) {
			busy += w->busy_tsc;
			run += dp_worker_run_tsc(w, tsc);
		}
	}
	if (run > c->stats_run_tsc && busy >= c->stats_busy_tsc)
		st.busy_permille = dp_permille(busy - c->stats_busy_tsc, run - c->stats_run_tsc);
	c->stats_busy_tsc = busy;
	c->stats_run_tsc = run;
	dp_ctl_event(c, KR_EV_STATS, &st, sizeof(st));
	c->stats_posted++;
}

int dp_ctl_apply(struct dp_ctl *c, struct kr_msg *m, char *why, size_t cap, uint32_t *reply_len)
{
	/* Not beside a command dp_ctl_poll holds: an ingest would take the held one's place. */
	if (c->holding) {
		snprintf(why, cap, "another command is being applied");
		return -EBUSY;
	}
	return dp_ctl_apply_one(c, m, why, cap, reply_len, true);
}

void dp_ctl_poll(struct dp_ctl *c)
{
	uint64_t now = dp_ctl_clock_s();

	dp_now_s = now;
	dp_ctl_prep_finish(c, false);
	/* A batch may have queued many: a bounded number per poll, so that a worker that
	 * drains the ring (one lcore) goes back to its packets within about as long. */
	for (unsigned n = 0;
		n < DP_CTL_CMDS_PER_POLL && (c->holding || keyring_cmd_take(&c->kr, &c->held) == 1);
		n++) {
		char why[120] = "";
		uint32_t reply_len = 0;
		int rc;

		c->holding = true;
		if (keyring_cmd_cancelled(&c->kr, &c->held)) {
			rc = -ECANCELED; /* an earlier command of its batch failed */
			snprintf(why, sizeof(why),
				"not applied: an earlier command of the batch failed");
		} else {
			pthread_mutex_lock(&c->lock);
			rc = dp_ctl_apply_one(c, &c->held, why, sizeof(why), &reply_len, false);
			pthread_mutex_unlock(&c->lock);
		}
		if (rc == -EINPROGRESS)
			break; /* the same command on a later poll */
		c->holding = false;
		/* The command may have carried a key: gone before it is acknowledged. */
		crypto_wipe(&c->held.u, sizeof(c->held.u));
		keyring_cmd_done(&c->kr, c->held.seq, rc, why, reply_len);
		c->applied++;
	}
	pthread_mutex_lock(&c->lock);
	dp_ctl_ingest_scan(c);
	pthread_mutex_unlock(&c->lock);
	if (now != c->last_scan) {
		c->last_scan = now;
		pthread_mutex_lock(&c->lock);
		dp_ctl_scan(c);
		sa_table_reclaim(&c->sas);
		pthread_mutex_unlock(&c->lock);
	} else if (c->sas.dq != NULL) {
		pthread_mutex_lock(&c->lock);
		sa_table_reclaim(&c->sas);
		pthread_mutex_unlock(&c->lock);
	}
	if (c->stats_interval_s != 0 && c->workers != NULL &&
		now - c->last_stats_s >= c->stats_interval_s)
		dp_ctl_stats_post(c, now);
}

/* ---- telemetry ----------------------------------------------------------------------- */

static struct dp_ctl *dp_ctl_tel;

static void dp_ctl_hex(char *out, const uint8_t *p, size_t n)
{
	static const char x[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = x[p[i] >> 4];
		out[2 * i + 1] = x[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Text form of an IPv6 or IPv4-mapped address; "any" for all zeros. */
static void dp_ctl_addr(const uint8_t a[16], char *out, size_t cap)
{
	static const uint8_t zero[16];

	if (memcmp(a, zero, 16) == 0)
		snprintf(out, cap, "any");
	else if (memcmp(a, dp_ctl_mapped, 12) == 0)
		inet_ntop(AF_INET, a + 12, out, (socklen_t)cap);
	else
		inet_ntop(AF_INET6, a, out, (socklen_t)cap);
}

/* /superpeer/sa[,START]: up to 64 SAs from START with their counters (no keys). */
static int dp_ctl_tel_sa(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp_ctl *c = dp_ctl_tel;
	uint32_t start = params != NULL ? (uint32_t)strtoul(params, NULL, 10) : 0, i;

	(void)cmd;
	if (c == NULL)
		return -1;
	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&c->lock);
	rte_tel_data_add_dict_u64(d, "total", c->sas.n);
	for (i = start; i < c->sas.n && i < start + 64; i++) {
		struct rte_tel_data *e = rte_tel_data_alloc();
		struct kr_sa_info info;
		char name[32], peer[INET6_ADDRSTRLEN];

		if (e == NULL)
			break;
		sa_table_info(c->sas.all[i], dp_now_s, &info);
		rte_tel_data_start_dict(e);
		rte_tel_data_add_dict_string(e, "dir", info.id.dir == KR_DIR_IN ? "in" : "out");
		rte_tel_data_add_dict_u64(e, "spi", info.id.spi);
		dp_ctl_addr(info.id.peer, peer, sizeof(peer));
		rte_tel_data_add_dict_string(e, "peer", peer);
		rte_tel_data_add_dict_u64(e, "peer_port", info.id.peer_port);
		rte_tel_data_add_dict_u64(e, "seq", info.seq);
		rte_tel_data_add_dict_u64(e, "packets", info.packets);
		rte_tel_data_add_dict_u64(e, "bytes", info.bytes);
		rte_tel_data_add_dict_u64(e, "drops", info.drops);
		rte_tel_data_add_dict_u64(e, "expired", info.expired);
		snprintf(name, sizeof(name), "sa%u", i);
		rte_tel_data_add_dict_container(d, name, e, 0);
	}
	rte_tel_data_add_dict_u64(d, "next", i < c->sas.n ? i : 0);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/* /superpeer/swarms: every swarm served with its counters. */
static int dp_ctl_tel_swarms(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp_ctl *c = dp_ctl_tel;

	if (c == NULL)
		return -1;
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&c->lock);
	for (unsigned i = 0; i < DP_MAX_SWARMS; i++) {
		struct rte_tel_data *e;
		struct kr_swarm_info info;
		char id[2 * KR_SWARM_ID_MAX + 1];

		if (!c->swarms.slot[i].live || (e = rte_tel_data_alloc()) == NULL)
			continue;
		dp_ctl_swarm_info(c, i, &info);
		dp_ctl_hex(id, info.id, info.id_len);
		rte_tel_data_start_dict(e);
		rte_tel_data_add_dict_string(e, "name", info.name);
		rte_tel_data_add_dict_u64(e, "open", info.open);
		rte_tel_data_add_dict_u64(e, "chunks", info.chunks);
		rte_tel_data_add_dict_u64(e, "chunk_size", info.chunk_size);
		rte_tel_data_add_dict_u64(e, "channels_opened", info.channels_opened);
		rte_tel_data_add_dict_u64(e, "chunks_sent", info.chunks_sent);
		rte_tel_data_add_dict_u64(e, "bytes_sent", info.bytes_sent);
		/* Served while it arrives: chunks_in of chunks so far. */
		rte_tel_data_add_dict_u64(e, "chunks_in",
			info.state == KR_SWARM_INGESTING ? info.chunks_in : info.chunks);
		rte_tel_data_add_dict_u64(e, "chunks_servable", info.chunks_servable);
		rte_tel_data_add_dict_string(e, "save",
			info.save == KR_SAVE_RUNNING   ? "saving"
			: info.save == KR_SAVE_DONE    ? "saved"
			: info.save == KR_SAVE_FAILED  ? "failed"
			: info.save == KR_SAVE_PENDING ? "pending"
						       : "none");
		rte_tel_data_add_dict_container(d, id, e, 0);
	}
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/* /superpeer/keyring: the ring's own counters. */
static int dp_ctl_tel_keyring(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp_ctl *c = dp_ctl_tel;

	if (c == NULL)
		return -1;
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "commands_applied", c->applied);
	rte_tel_data_add_dict_u64(d, "events_lost", c->kr.h->events_lost);
	rte_tel_data_add_dict_u64(d, "sas", c->sas.n);
	rte_tel_data_add_dict_u64(d, "swarms", c->swarms.n);
	rte_tel_data_add_dict_u64(d, "resynced", c->resynced);
	rte_tel_data_add_dict_u64(d, "stats_interval_s", c->stats_interval_s);
	rte_tel_data_add_dict_u64(d, "stats_posted", c->stats_posted);
	rte_tel_data_add_dict_u64(d, "stats_skipped", c->stats_skipped);
	return 0;
}

int dp_ctl_init(struct dp_ctl *c, const char *name, uint32_t max_sas, unsigned n_threads, char *err,
	size_t cap)
{
	int rc;

	pthread_mutex_init(&c->lock, NULL);
	c->self_tid = RTE_QSBR_THRID_INVALID;
	dp_now_s = dp_ctl_clock_s();
	c->last_scan = dp_now_s;
	c->start_s = c->last_stats_s = dp_now_s;
	if (crypto_engine_init(&c->eng) != 0) {
		snprintf(err, cap, "this CPU lacks AES-NI");
		return -ENOTSUP;
	}
	rc = sa_table_create(&c->sas, "dp_sa", max_sas, n_threads);
	if (rc != 0) {
		snprintf(err, cap, "SA tables for %u SAs: out of memory", max_sas);
		return rc;
	}
	{
		struct rte_hash_parameters hp = {
			.name = "dp_policies",
			.entries = 4096,
			.key_len = 16,
			.hash_func = rte_jhash,
			.socket_id = (int)rte_socket_id(),
			.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
		};

		c->policies = rte_hash_create(&hp);
		if (c->policies == NULL) {
			snprintf(err, cap, "peer policy table: out of memory");
			return -ENOMEM;
		}
	}
	rc = keyring_create(&c->kr, name, err, cap);
	if (rc != 0)
		return rc;
	dp_ctl_tel = c;
	rte_telemetry_register_cmd("/superpeer/sa", dp_ctl_tel_sa,
		"SAs with counters, 64 at a time. Parameter: first index.");
	rte_telemetry_register_cmd(
		"/superpeer/swarms", dp_ctl_tel_swarms, "Swarms served with their counters.");
	rte_telemetry_register_cmd("/superpeer/keyring", dp_ctl_tel_keyring,
		"Key ring: commands applied, events lost, SAs, swarms, stats events.");
	return 0;
}

void dp_ctl_started(struct dp_ctl *c)
{
	struct kr_header *h = c->kr.h;
	uint64_t epoch = h->epoch;

	/* A (re)started data plane holds no SA: control replays its state. */
	dp_ctl_event(c, KR_EV_RESYNC, &epoch, sizeof(epoch));
	/* The first stats a full interval after the workers started, not after set-up. */
	c->last_stats_s = dp_ctl_clock_s();
}

void dp_ctl_fini(struct dp_ctl *c)
{
	dp_ctl_tel = NULL;
	dp_ctl_prep_finish(c, true); /* the ingest itself goes with its slot below */
	crypto_wipe(&c->held, sizeof(c->held));
	for (unsigned i = 0; i < DP_MAX_SWARMS; i++)
		if (c->swarms.slot[i].ingest != NULL)
			dp_ctl_ingest_drop(c, &c->swarms.slot[i]);
	sa_table_free(&c->sas);
	swarm_table_close(&c->swarms);
	rte_hash_free(c->policies);
	c->policies = NULL;
	keyring_destroy(&c->kr);
	crypto_engine_fini(&c->eng);
	pthread_mutex_destroy(&c->lock);
}
