/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the data plane's whole receive path (dataplane/dp_net.c): any frame,
 * from Ethernet up through ARP, IPv4, ICMP, UDP, ESP in UDP and the PPSPP channel, into the
 * actions it causes. Nothing may crash or read out of bounds; every frame either leaves as
 * answers no larger than the MTU or is counted as exactly one drop.
 *
 * The EAL runs without hugepages, PCI or shared files; the worker has no port (answers are
 * checked and freed here). Input: byte 0 selects the plain or the ESP worker, the rest is the
 * frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "esp_arg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { FUZZ_CHUNK = 512 };

static struct dp_config cfg_plain, cfg_esp;
static struct dp_worker *w_plain, *w_esp;
static struct chunk_store store;
static uint8_t content[FUZZ_CHUNK * 11 - 100];
static struct rte_mempool *pool;

static struct dp_worker *fuzz_worker(struct dp_config *cfg)
{
	struct dp_worker *w = rte_zmalloc("w", sizeof(*w), RTE_CACHE_LINE_SIZE);

	if (w == NULL)
		abort();
	w->cfg = cfg;
	w->pool = pool;
	w->next_channel = 7;
	w->peers = rte_zmalloc("p", sizeof(*w->peers) * DP_PEERS, RTE_CACHE_LINE_SIZE);
	if (w->peers == NULL || crypto_engine_init(&w->eng) != 0)
		abort();
	w->sa_in = cfg->sa_in;
	w->sa_out = cfg->sa_out;
	return w;
}

/* At exit: everything the setup made, so LeakSanitizer sees only what a frame leaked. */
static void fuzz_teardown(void)
{
	struct dp_worker *ws[] = { w_plain, w_esp };

	for (unsigned i = 0; i < 2; i++) {
		crypto_engine_fini(&ws[i]->eng);
		rte_free(ws[i]->peers);
		rte_free(ws[i]);
	}
	esp_arg_sa_free(cfg_esp.sa_in);
	esp_arg_sa_free(cfg_esp.sa_out);
	merkle_tree_free(&store.tree);
	rte_mempool_free(pool);
	rte_eal_cleanup();
}

static void fuzz_setup(void)
{
	char prefix[64];
	char *argv[] = { "fuzz", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
			 "--no-telemetry", "--log-level", "0", "--file-prefix", prefix, NULL };
	struct crypto_engine e;
	char err[128];

	snprintf(prefix, sizeof(prefix), "spfuzz%d", (int)getpid());
	if (rte_eal_init(11, argv) < 0)
		abort();
	pool = rte_pktmbuf_pool_create("fz", 2047, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL || crypto_engine_init(&e) != 0)
		abort();
	for (size_t i = 0; i < sizeof(content); i++)
		content[i] = (uint8_t)(i * 13 + 1);
	store.m.hash = HASH_SHA256;
	store.m.chunk_size = FUZZ_CHUNK;
	store.m.content_len = sizeof(content);
	if (merkle_tree_build(&store.tree, &e, HASH_SHA256, FUZZ_CHUNK, content,
			      sizeof(content)) != 0)
		abort();
	memcpy(store.m.swarm_id, merkle_tree_root(&store.tree), HASH_SHA256_LEN);
	store.chunks = content;
	store.n_peaks = merkle_peaks(store.tree.n_chunks, store.peaks);

	cfg_plain = (struct dp_config){ .ip4 = 0x0100000a, /* 10.0.0.1 */ .udp_port = 6778,
					.mtu = 1500, .store = &store, .has_ip6 = true,
					.ip6 = { 0xfd, [15] = 1 }, /* fd00::1 */
					.mac = { { 0x02, 0, 0, 0, 0, 1 } } };
	cfg_esp = cfg_plain;
	cfg_esp.esp = true;
	if (esp_arg_sa_new(&e, "0x1001:0x000102030405060708090a0b0c0d0e0f10111213",
			   ESP_SA_INBOUND, false, 0, &cfg_esp.sa_in, err, sizeof(err)) != 0 ||
	    esp_arg_sa_new(&e, "0x2002:0x000102030405060708090a0b0c0d0e0f10111213",
			   ESP_SA_OUTBOUND, false, 0, &cfg_esp.sa_out, err, sizeof(err)) != 0)
		abort();
	crypto_engine_fini(&e);
	w_plain = fuzz_worker(&cfg_plain);
	w_esp = fuzz_worker(&cfg_esp);
	atexit(fuzz_teardown);
}

static uint64_t fuzz_drops(const struct dp_worker *w)
{
	uint64_t n = 0;

	for (unsigned k = 0; k < DP_DROP_COUNT; k++)
		n += w->drops[k];
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_worker *w;
	struct rte_mbuf *m;
	uint64_t drops_before;

	if (pool == NULL)
		fuzz_setup();
	if (size < 1)
		return 0;
	w = (data[0] & 1) ? w_esp : w_plain;
	data++;
	size--;
	m = rte_pktmbuf_alloc(pool);
	if (m == NULL)
		abort();
	if (size > rte_pktmbuf_tailroom(m))
		size = rte_pktmbuf_tailroom(m);
	memcpy(rte_pktmbuf_mtod(m, void *), data, size);
	m->data_len = (uint16_t)size;
	m->pkt_len = (uint32_t)size;
	drops_before = fuzz_drops(w);
	w->n_tx = 0;
	dp_net_input(w, m);
	/* One frame: answered (n_tx > 0), dropped once, or taken silently by a channel that
	 * had nothing to send (a PPSPP datagram accepted without output). */
	if (fuzz_drops(w) > drops_before + 1 + w->drops[DP_DROP_NO_MBUF])
		abort();
	for (unsigned i = 0; i < w->n_tx; i++) {
		if (rte_pktmbuf_pkt_len(w->tx[i]) > (uint32_t)w->cfg->mtu + 14)
			abort();
		rte_pktmbuf_free(w->tx[i]);
	}
	w->n_tx = 0;
	return 0;
}
