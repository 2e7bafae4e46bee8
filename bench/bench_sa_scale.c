/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_sa_scale EAL-ARGS -- N: the data plane's SA tables at scale. Adds N SAs (N/2 inbound
 * by SPI, N/2 outbound by peer address and port) through the writer's path the key ring
 * uses (sa_table_add: key expansion, rte_hash insert), then times lookups as the workers
 * make them (sa_table_in / sa_table_out, random keys). Prints memory per SA (DPDK heap
 * growth / N), adds per second and nanoseconds per lookup, and the memory of a channel.
 * A measurement, not a test: docs/performance.md names the command and the machine.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_malloc.h>

#include "dp.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t heap_used(void)
{
	struct rte_malloc_socket_stats st;
	size_t used = 0;

	for (int s = 0; s < RTE_MAX_NUMA_NODES; s++)
		if (rte_malloc_get_socket_stats(s, &st) == 0)
			used += st.heap_allocsz_bytes;
	return used;
}

static void peer_of(uint32_t i, uint8_t peer[16])
{
	memset(peer, 0, 16);
	peer[10] = peer[11] = 0xff;
	peer[12] = 10;
	peer[13] = (uint8_t)(i >> 16);
	peer[14] = (uint8_t)(i >> 8);
	peer[15] = (uint8_t)i;
}

int main(int argc, char **argv)
{
	struct crypto_engine e;
	struct sa_table t;
	struct kr_sa sa;
	char why[128];
	size_t before, after;
	uint32_t n, half, lookups = 10000000, found = 0;
	double t0, t1, t2, t3;
	int k = rte_eal_init(argc, argv);

	if (k < 0 || argc - k != 2) {
		fprintf(stderr, "usage: bench_sa_scale EAL-ARGS -- N\n");
		return 2;
	}
	n = (uint32_t)strtoul(argv[k + 1], NULL, 10);
	half = n / 2;
	if (half == 0 || crypto_engine_init(&e) != 0)
		return 2;
	before = heap_used();
	if (sa_table_create(&t, "bench", n, 1) != 0) {
		fprintf(stderr, "no memory for tables of %" PRIu32 " SAs (give -m)\n", n);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.key_len = 16;
	for (int i = 0; i < 16; i++)
		sa.key[i] = (uint8_t)i;
	t0 = now_s();
	for (uint32_t i = 0; i < half; i++) {
		sa.id.dir = KR_DIR_IN;
		sa.id.spi = 0x10000 + i;
		memset(sa.id.peer, 0, 16);
		sa.id.peer_port = 0;
		if (sa_table_add(&t, &e, &sa, false, 0, why, sizeof(why)) != 0)
			goto fail;
		sa.id.dir = KR_DIR_OUT;
		peer_of(i, sa.id.peer);
		sa.id.peer_port = 4500;
		if (sa_table_add(&t, &e, &sa, false, 0, why, sizeof(why)) != 0)
			goto fail;
	}
	t1 = now_s();
	after = heap_used();

	srand(1);
	t2 = now_s();
	for (uint32_t i = 0; i < lookups; i++)
		found += sa_table_in(&t, 0x10000 + (uint32_t)rand() % half) != NULL;
	t3 = now_s();
	printf("SAs held:                 %" PRIu32 " (%" PRIu32 " in by SPI, %" PRIu32
	       " out by peer)\n",
	       t.n, half, half);
	printf("memory per SA:            %.0f bytes (DPDK heap growth / SAs; struct dp_sa is %zu)\n",
	       (double)(after - before) / t.n, sizeof(struct dp_sa));
	printf("adds (key expansion + insert): %.0f per second\n", t.n / (t1 - t0));
	printf("inbound lookup (SPI):     %.1f ns (%" PRIu32 " random lookups, %" PRIu32
	       " found; includes rand())\n",
	       (t3 - t2) * 1e9 / lookups, lookups, found);
	found = 0;
	t2 = now_s();
	for (uint32_t i = 0; i < lookups; i++) {
		uint8_t peer[16];

		peer_of((uint32_t)rand() % half, peer);
		found += sa_table_out(&t, peer, 4500) != NULL;
	}
	t3 = now_s();
	printf("outbound lookup (peer):   %.1f ns (%" PRIu32 " found)\n", (t3 - t2) * 1e9 / lookups,
	       found);
	printf("memory per channel:       %zu bytes (struct dp_peer; its seeder channel is %zu)\n",
	       sizeof(struct dp_peer), sizeof(struct seeder_channel));
	sa_table_free(&t);
	crypto_engine_fini(&e);
	rte_eal_cleanup();
	return 0;
fail:
	fprintf(stderr, "add failed at %" PRIu32 ": %s\n", t.n, why);
	return 1;
}
