/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the data plane's whole receive path (dataplane/dp_net.c): any frame,
 * from Ethernet up through ARP, IPv4, ICMP, UDP, ESP in UDP and the PPSPP channel, into the
 * actions it causes. Nothing may crash or read out of bounds; every frame either leaves as
 * answers no larger than the MTU or is counted as exactly one drop.
 *
 * The EAL runs without hugepages, PCI or shared files; the worker has no port (answers are
 * checked and freed here). One swarm (open, so plain PPSPP reaches the channel too) and one
 * SA pair for any peer (inbound SPI 0x1001, outbound 0x2002, key 00..0f, salt 10..13), in the
 * real SA and swarm tables. Input: the frame (beyond 2048 bytes in two chained mbufs); one of
 * odd length is taken with vlan = 100.
 * A second worker (no frames of its own) has asked for 10.0.0.2 and fd00::2, so that replies
 * about them take the hand-over between workers (dp_neigh_reply, dp_neigh_news_take).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring_elem.h>

#include "dp.h"
#include "esp_arg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { FUZZ_CHUNK = 512 };

static struct dp_config cfg;
/* w2 stands for a second worker that has asked for 10.0.0.2 and fd00::2: an ARP reply or
 * Neighbor Advertisement about them that reaches w1 is handed to it (dp_neigh_reply). */
static struct dp_worker *w1, *w2;
static const uint8_t fuzz_asked4[16] = {[10] = 0xff, [11] = 0xff, 10, 0, 0, 2};
static const uint8_t fuzz_asked6[16] = {0xfd, [15] = 2};
static struct sa_table sas;
static struct swarm_table swarms;
static uint8_t content[FUZZ_CHUNK * 11 - 100];
static struct rte_mempool *pool;

static struct dp_worker *fuzz_worker(void)
{
	struct dp_worker *w = rte_zmalloc("w", sizeof(*w), RTE_CACHE_LINE_SIZE);

	if (w == NULL)
		abort();
	w->cfg = &cfg;
	w->pool = pool;
	w->next_channel = 7;
	w->peers_mask = DP_PEERS - 1;
	w->peers = rte_zmalloc("p", sizeof(*w->peers) * DP_PEERS, RTE_CACHE_LINE_SIZE);
	w->peer_tags = rte_zmalloc("t", sizeof(*w->peer_tags) * DP_PEERS, RTE_CACHE_LINE_SIZE);
	w->neigh = rte_zmalloc("n", sizeof(*w->neigh) * DP_NEIGH, RTE_CACHE_LINE_SIZE);
	/* The queue of peers with output due, as dp_worker_new makes it. */
	w->tx_wait_cap = 2 * DP_PEERS;
	w->tx_wait = rte_zmalloc("q", sizeof(*w->tx_wait) * w->tx_wait_cap, RTE_CACHE_LINE_SIZE);
	if (w->peers == NULL || w->peer_tags == NULL || w->neigh == NULL || w->tx_wait == NULL ||
		crypto_engine_init(&w->eng) != 0)
		abort();
	return w;
}

/* At exit: everything the setup made, so LeakSanitizer sees only what a frame leaked. */
static void fuzz_teardown(void)
{
	for (int i = 0; i < 2; i++) {
		struct dp_worker *w = i == 0 ? w1 : w2;

		crypto_engine_fini(&w->eng);
		rte_ring_free(w->neigh_news);
		rte_free(w->peers);
		rte_free(w->peer_tags);
		rte_free(w->neigh);
		rte_free(w->tx_wait);
		rte_free(w);
	}
	sa_table_free(&sas);
	merkle_tree_free(&swarms.slot[0].store.tree);
	rte_mempool_free(pool);
	rte_eal_cleanup();
}

static void fuzz_sa(struct crypto_engine *e, const char *arg, enum kr_dir dir)
{
	struct kr_sa sa = { .id = { .dir = (uint8_t)dir } };
	char err[128];

	if (esp_arg_parse(arg, &sa.id.spi, sa.key, &sa.key_len, sa.salt, err, sizeof(err)) != 0 ||
	    sa_table_add(&sas, e, &sa, false, 0, err, sizeof(err)) != 0)
		abort();
}

static void fuzz_setup(void)
{
	char prefix[64];
	char *argv[] = { "fuzz", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
			 "--no-telemetry", "--log-level", "0", "--file-prefix", prefix, NULL };
	struct chunk_store *store = &swarms.slot[0].store;
	struct crypto_engine e;

	snprintf(prefix, sizeof(prefix), "spfuzz%d", (int)getpid());
	if (rte_eal_init(11, argv) < 0)
		abort();
	pool = rte_pktmbuf_pool_create("fz", 2047, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL || crypto_engine_init(&e) != 0)
		abort();
	for (size_t i = 0; i < sizeof(content); i++)
		content[i] = (uint8_t)(i * 13 + 1);
	store->m.hash = HASH_SHA256;
	store->m.chunk_size = FUZZ_CHUNK;
	store->m.content_len = sizeof(content);
	if (merkle_tree_build(&store->tree, &e, HASH_SHA256, FUZZ_CHUNK, content,
			      sizeof(content)) != 0)
		abort();
	memcpy(store->m.swarm_id, merkle_tree_root(&store->tree), HASH_SHA256_LEN);
	store->chunks = content;
	store->n_peaks = merkle_peaks(store->tree.n_chunks, store->peaks);
	swarms.slot[0].live = 1;
	swarms.slot[0].open = 1;
	swarms.slot[0].gen = 1;
	swarms.n = 1;
	if (sa_table_create(&sas, "fz", 16, 1) != 0)
		abort();
	fuzz_sa(&e, "0x1001:0x000102030405060708090a0b0c0d0e0f10111213", KR_DIR_IN);
	fuzz_sa(&e, "0x2002:0x000102030405060708090a0b0c0d0e0f10111213", KR_DIR_OUT);
	crypto_engine_fini(&e);

	cfg = (struct dp_config){ .ip4 = 0x0100000a, /* 10.0.0.1 */ .udp_port = 6778,
				  .esp_port = 4500, .mtu = 1500, .sas = &sas, .swarms = &swarms,
				  .has_ip6 = true, .ip6 = { 0xfd, [15] = 1 }, /* fd00::1 */
				  .mac = { { 0x02, 0, 0, 0, 0, 1 } } };
	w1 = fuzz_worker();
	w2 = fuzz_worker();
	w2->neigh_news = rte_ring_create_elem("fzn", sizeof(struct dp_neigh_news),
		DP_NEIGH_NEWS_SLOTS, SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (w2->neigh_news == NULL)
		abort();
	cfg.by_lcore[0] = w1;
	cfg.by_lcore[1] = w2;
	cfg.n_workers = 2;
	atexit(fuzz_teardown);
}

/* w2 as it is before every input: asking for the two addresses (its requests freed), so
 * that what one input makes it learn does not leave the next without the hand-over. */
static void fuzz_w2_asks(void)
{
	memset(w2->neigh, 0, sizeof(*w2->neigh) * DP_NEIGH);
	memset(w2->neigh_asking, 0, sizeof(w2->neigh_asking));
	dp_neigh_resolve(w2, fuzz_asked4, false);
	dp_neigh_resolve(w2, fuzz_asked6, true);
	for (unsigned i = 0; i < w2->n_tx; i++)
		rte_pktmbuf_free(w2->tx[i]);
	w2->n_tx = 0;
}

static uint64_t fuzz_drops(const struct dp_worker *w)
{
	uint64_t n = 0;

	for (unsigned k = 0; k < DP_DROP_COUNT; k++)
		n += w->drops[k];
	return n;
}

/* The frame in one mbuf, or chained over two as a port chains a frame larger than its mbufs'
 * data room (the rest beyond two cut off). */
static struct rte_mbuf *fuzz_mbuf(const uint8_t *data, size_t size)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool), *m2;
	size_t n;

	if (m == NULL)
		abort();
	n = RTE_MIN(size, (size_t)rte_pktmbuf_tailroom(m));
	memcpy(rte_pktmbuf_mtod(m, void *), data, n);
	m->data_len = (uint16_t)n;
	m->pkt_len = (uint32_t)n;
	if (n == size)
		return m;
	m2 = rte_pktmbuf_alloc(pool);
	if (m2 == NULL)
		abort();
	size = RTE_MIN(size - n, (size_t)rte_pktmbuf_tailroom(m2));
	memcpy(rte_pktmbuf_mtod(m2, void *), data + n, size);
	m2->data_len = (uint16_t)size;
	m2->pkt_len = (uint32_t)size;
	if (rte_pktmbuf_chain(m, m2) != 0)
		abort();
	return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_worker *w;
	struct rte_mbuf *m;
	uint64_t drops_before, handed_before, learned_before;

	if (pool == NULL)
		fuzz_setup();
	w = w1;
	m = fuzz_mbuf(data, size);
	fuzz_w2_asks();
	drops_before = fuzz_drops(w);
	handed_before = w->neigh_handed;
	learned_before = w2->neigh_learned;
	w->n_tx = 0;
	/* Odd lengths run with vlan = 100 (the tag taken off and put on in software). */
	cfg.vlan_id = size & 1 ? 100 : 0;
	dp_net_input(w, m);
	dp_esp_flush(w);
	dp_ingest_flush(w);
	/* The output the frame made due, as the loop builds it after a pass's input. */
	dp_ppspp_out_turn(w);
	/* One frame: answered (n_tx > 0), dropped once, or taken silently by a channel that
	 * had nothing to send (a PPSPP datagram accepted without output). */
	if (fuzz_drops(w) > drops_before + 1 + w->drops[DP_DROP_NO_MBUF])
		abort();
	for (unsigned i = 0; i < w->n_tx; i++) {
		if (rte_pktmbuf_pkt_len(w->tx[i]) >
			(uint32_t)w->cfg->mtu + 14 + (cfg.vlan_id ? 4 : 0))
			abort();
		rte_pktmbuf_free(w->tx[i]);
	}
	w->n_tx = 0;
	/* What w1 handed over, taken by w2 as its loop would: a handed reply is neither a drop
	 * nor an answer of w1's, w2 learns it (it asked) and sends nothing for it. */
	dp_neigh_news_take(w2);
	if (w2->n_tx != 0)
		abort();
	if (w->neigh_handed != handed_before &&
		(fuzz_drops(w) != drops_before ||
			w2->neigh_learned - learned_before != w->neigh_handed - handed_before))
		abort();
	return 0;
}
