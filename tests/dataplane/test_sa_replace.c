/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SAs changed under traffic, in one process on net_ring (rte_eth_from_rings):
 *
 *   test thread (the peer, and `superpeer sa` through the key ring)
 *        | rx ring -> [ worker: dp_worker_loop on lcore 1 ] -> tx ring |
 *   drainer thread: dp_ctl_poll (the key ring's consumer, as the main lcore is)
 *
 * The peer downloads a 2 MiB swarm through ESP in UDP with the real leecher (every chunk
 * Merkle-verified) while control rekeys, numbered:
 *  1. inbound, make-before-break: SA 0x1003 added, the peer moves to it, 0x1001 deleted
 *  2. a packet sealed under the deleted SA afterwards: refused (bad_spi), never answered
 *  3. outbound replaced for the peer (new SPI 0x2004) with `replace`: no gap; the peer holds
 *     both inbound SAs while packets under 0x2002 may still be in flight
 *  4. inbound replaced in place (same SPI 0x1003, KR_F_REPLACE) while requests are queued
 * No loss: the download never times out (no datagram lost), every packet the data plane sent
 * opens at the peer, and the only drop the data plane counted is case 2's packet.
 * Exits 77 when the machine has fewer than 2 cores.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "check.h"
#include "dp.h"
#include "dp_ctl.h"
#include "esp_arg.h"
#include "ppspp_leecher.h"

enum { CHUNK = 1024, N_CHUNKS = 2048, WINDOW = 128 };

static uint8_t content[CHUNK * N_CHUNKS];
static struct dp_ctl ctl;
static volatile int drainer_stop;
static struct rte_ring *rx_r, *tx_r;
static struct rte_mempool *pool;
static struct dp_config cfg;
static struct crypto_engine pe; /* the peer's engine */
static struct keyring kr;	/* the peer's control side */

static const uint8_t peer_ip[4] = {10, 0, 0, 2}, dp_ip[4] = {10, 0, 0, 1};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 2};
enum { PEER_PORT = 40000 };

/* The peer's SAs: its outbound (to the data plane's inbound), its inbound (up to two). */
static struct esp_sa *p_out, *p_in[2];
static uint64_t p_open_fail, p_opened, p_sent;

static void *drainer(void *arg)
{
	(void)arg;
	while (!drainer_stop) {
		dp_ctl_poll(&ctl);
		usleep(200);
	}
	return NULL;
}

static struct esp_sa *peer_sa(const char *arg, enum esp_sa_dir dir)
{
	struct esp_sa *sa;
	char err[128];

	if (esp_arg_sa_new(&pe, arg, dir, false, 0, &sa, err, sizeof(err)) != 0) {
		fprintf(stderr, "peer SA %s: %s\n", arg, err);
		abort();
	}
	return sa;
}

/* `superpeer sa add` through the key ring. */
static int ctl_sa(enum kr_dir dir, const char *spi_key, bool replace)
{
	struct kr_msg m = {.type = KR_SA_ADD, .len = sizeof(struct kr_sa)};
	char why[128], err[128];
	int rc;

	m.flags = replace ? KR_F_REPLACE : 0;
	m.u.sa.id.dir = (uint8_t)dir;
	m.u.sa.id.peer[10] = m.u.sa.id.peer[11] = 0xff;
	memcpy(m.u.sa.id.peer + 12, peer_ip, 4);
	m.u.sa.flags = KR_SA_F_UDP_ENCAP;
	if (dir == KR_DIR_OUT)
		m.u.sa.id.peer_port = PEER_PORT;
	if (esp_arg_parse(spi_key, &m.u.sa.id.spi, m.u.sa.key, &m.u.sa.key_len, m.u.sa.salt, err,
		    sizeof(err)) != 0)
		abort();
	rc = keyring_call(&kr, &m, NULL, 0, NULL, why, sizeof(why), 5000);
	if (rc != 0)
		fprintf(stderr, "sa add: %s\n", why);
	return rc;
}

static int ctl_sa_del_in(uint32_t spi)
{
	struct kr_msg m = {.type = KR_SA_DEL, .len = sizeof(struct kr_sa_id)};
	char why[128];

	m.u.sa_id.dir = KR_DIR_IN;
	m.u.sa_id.spi = spi;
	return keyring_call(&kr, &m, NULL, 0, NULL, why, sizeof(why), 5000);
}

/* One PPSPP datagram from the peer: Ethernet, IPv4, UDP 40000 -> 4500, ESP, inner UDP. */
static void peer_send(struct esp_sa *sa, const uint8_t *dgram, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp, *in;
	uint8_t *esp;
	struct esp_seal_pkt s;

	if (m == NULL)
		abort();
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	udp = (struct rte_udp_hdr *)(ip + 1);
	esp = (uint8_t *)(udp + 1);
	in = (struct rte_udp_hdr *)(esp + ESP_PREFIX_LEN);
	memcpy(eth->src_addr.addr_bytes, peer_mac, 6);
	eth->dst_addr = cfg.mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	in->src_port = rte_cpu_to_be_16(PEER_PORT);
	in->dst_port = rte_cpu_to_be_16(cfg.udp_port);
	in->dgram_len = rte_cpu_to_be_16((uint16_t)(len + sizeof(*in)));
	in->dgram_cksum = 0;
	memcpy(in + 1, dgram, len);
	s = (struct esp_seal_pkt){.sa = sa,
		.src = (const uint8_t *)in,
		.out = esp,
		.len = (uint32_t)(len + sizeof(*in)),
		.out_cap = 1800,
		.next_hdr = ESP_NH_UDP};
	if (esp_seal_burst(&pe, &s, 1, 0) != 1)
		abort();
	udp->src_port = rte_cpu_to_be_16(PEER_PORT);
	udp->dst_port = rte_cpu_to_be_16(cfg.esp_port);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(s.out_len + sizeof(*udp)));
	udp->dgram_cksum = 0;
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	memcpy(&ip->src_addr, peer_ip, 4);
	memcpy(&ip->dst_addr, dp_ip, 4);
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*udp) + s.out_len));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	m->data_len = (uint16_t)(sizeof(*eth) + sizeof(*ip) + sizeof(*udp) + s.out_len);
	m->pkt_len = m->data_len;
	while (rte_ring_enqueue(rx_r, m) != 0)
		usleep(10);
	p_sent++;
}

static void deliver(void *ctx, uint64_t chunk, const uint8_t *data, size_t len)
{
	uint8_t *out = ctx;

	memcpy(out + chunk * CHUNK, data, len);
}

/* Everything the data plane sent so far: opened under the peer's SA for its SPI, to the
 * leecher, ACKs back. Returns the number of packets handled. */
static unsigned peer_receive(struct ppspp_leecher *l, uint8_t *out)
{
	void *objs[64];
	unsigned n = rte_ring_dequeue_burst(tx_r, objs, 64, NULL), k;

	for (k = 0; k < n; k++) {
		struct rte_mbuf *m = objs[k];
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *) + 14 + 20 + 8;
		uint32_t len = rte_pktmbuf_data_len(m) - 14 - 20 - 8;
		struct esp_open_pkt o = {.data = p, .len = len};
		uint8_t ack[2048];
		size_t ack_len = 0;

		for (unsigned i = 0; i < 2; i++)
			if (p_in[i] != NULL && memcmp(p, p_in[i]->spi_be, 4) == 0)
				o.sa = p_in[i];
		if (esp_open_burst(&pe, &o, 1, 0) != 1) {
			p_open_fail++;
		} else {
			p_opened++;
			ppspp_leecher_input(l, p + ESP_PREFIX_LEN + 8, o.payload_len - 8, deliver,
				out, ack, sizeof(ack), &ack_len);
			if (ack_len > 0)
				peer_send(p_out, ack, ack_len);
		}
		rte_pktmbuf_free(m);
	}
	return n;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static struct dp_worker *worker_new(unsigned lcore)
{
	struct dp_worker *w = rte_zmalloc("w", sizeof(*w), RTE_CACHE_LINE_SIZE);

	if (w == NULL)
		abort();
	w->lcore = lcore;
	w->cfg = &cfg;
	w->pool = pool;
	w->next_channel = 99;
	w->peers_mask = DP_PEERS - 1;
	w->peers = rte_zmalloc("p", sizeof(*w->peers) * DP_PEERS, RTE_CACHE_LINE_SIZE);
	w->neigh = rte_zmalloc("n", sizeof(*w->neigh) * DP_NEIGH, RTE_CACHE_LINE_SIZE);
	if (w->peers == NULL || w->neigh == NULL || crypto_engine_init(&w->eng) != 0)
		abort();
	return w;
}

int main(void)
{
	char prefix[64], name[64], err[256];
	char *argv[] = {"test", "-l", "0-1", "--no-huge", "-m", "256", "--no-pci", "--log-level",
		"1", "--file-prefix", prefix, NULL};
	static uint8_t got[sizeof(content)];
	struct chunk_store *store = &ctl.swarms.slot[0].store;
	struct ppspp_leecher l;
	struct dp_worker *w, *ws[1];
	pthread_t dt;
	uint8_t buf[2048];
	uint64_t last = 0, timeouts = 0, t0;
	unsigned lcore;
	int port, n, phase = 0;

	snprintf(prefix, sizeof(prefix), "sprep%d", (int)getpid());
	snprintf(name, sizeof(name), "sprep%d", (int)getpid());
	if (rte_eal_init(11, argv) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	if (rte_lcore_count() < 2) {
		fprintf(stderr, "needs 2 cores (a worker and the peer)\n");
		return 77;
	}
	pool = rte_pktmbuf_pool_create("pool", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	rx_r = rte_ring_create("rx", 16384, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	tx_r = rte_ring_create("tx", 16384, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (pool == NULL || rx_r == NULL || tx_r == NULL || crypto_engine_init(&pe) != 0)
		return 1;
	port = rte_eth_from_rings("spring", &rx_r, 1, &tx_r, 1, 0);
	CHECK(port >= 0);
	cfg = (struct dp_config){.port_id = (uint16_t)port,
		.udp_port = 6778,
		.esp_port = 4500,
		.mtu = 1500,
		.idle_polls = 64,
		.idle_sleep_us = 50};
	memcpy(&cfg.ip4, dp_ip, 4);
	if (dp_port_init(&cfg, 1, pool) != 0)
		return 1;
	if (dp_ctl_init(&ctl, name, 64, 1, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	cfg.sas = &ctl.sas;
	cfg.swarms = &ctl.swarms;

	/* A protected swarm built in memory (no store on disk needed here). */
	for (size_t i = 0; i < sizeof(content); i++)
		content[i] = (uint8_t)(i * 7 + (i >> 10));
	store->m.hash = HASH_SHA256;
	store->m.chunk_size = CHUNK;
	store->m.content_len = sizeof(content);
	if (merkle_tree_build(&store->tree, &pe, HASH_SHA256, CHUNK, content, sizeof(content)) != 0)
		return 1;
	memcpy(store->m.swarm_id, merkle_tree_root(&store->tree), HASH_SHA256_LEN);
	store->chunks = content;
	store->n_peaks = merkle_peaks(store->tree.n_chunks, store->peaks);
	ctl.swarms.slot[0].gen = 1;
	ctl.swarms.slot[0].live = 1;
	ctl.swarms.n = 1;

	lcore = rte_get_next_lcore(-1, 1, 0);
	w = worker_new(lcore);
	ws[0] = w;
	ctl.workers = ws;
	ctl.n_workers = 1;
	pthread_create(&dt, NULL, drainer, NULL);
	rte_eal_remote_launch(dp_worker_loop, w, lcore);
	CHECK(keyring_open(&kr, name, err, sizeof(err)) == 0);

	/* The SA pair: data plane in 0x1001 (peer out), data plane out 0x2002 (peer in). */
	CHECK(ctl_sa(KR_DIR_IN, "0x1001:0x00112233445566778899aabbccddeeff01020304", false) == 0);
	CHECK(ctl_sa(KR_DIR_OUT,
		      "0x2002:0xa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbc"
		      "bdbebfc0c1c2c3",
		      false) == 0);
	p_out = peer_sa("0x1001:0x00112233445566778899aabbccddeeff01020304", ESP_SA_OUTBOUND);
	p_in[0] =
		peer_sa("0x2002:0xa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
			"c0c1c2c3",
			ESP_SA_INBOUND);

	CHECK(ppspp_leecher_init(&l, &pe, HASH_SHA256, CHUNK, sizeof(content), store->m.swarm_id,
		      0x77, PPSPP_CAM_CHUNK32) == 0);
	n = ppspp_leecher_handshake(&l, buf, sizeof(buf));
	peer_send(p_out, buf, (size_t)n);
	t0 = last = now_us();
	while (!ppspp_leecher_done(&l) && now_us() - t0 < 60 * 1000000ull) {
		if (peer_receive(&l, got) > 0)
			last = now_us();
		if (l.peer_id != 0 && l.n_inflight <= WINDOW / 2) {
			n = ppspp_leecher_requests(&l, buf, sizeof(buf), WINDOW);
			if (n > 0)
				peer_send(p_out, buf, (size_t)n);
		}
		if (now_us() - last > 500000) {
			/* Nothing for 0.5 s: something was lost. */
			timeouts++;
			ppspp_leecher_timeout(&l);
			if (l.peer_id == 0) {
				n = ppspp_leecher_handshake(&l, buf, sizeof(buf));
				peer_send(p_out, buf, (size_t)n);
			}
			last = now_us();
		}
		if (phase == 0 && l.n_have >= N_CHUNKS / 4) {
			struct esp_sa *old = p_out;
			uint8_t stale[32] = {0};

			/* 1: make-before-break: add, move, wait for in-flight packets, delete. */
			CHECK(ctl_sa(KR_DIR_IN, "0x1003:0x102132435465768798a9bacbdcedfe0f11121314",
				      false) == 0);
			p_out = peer_sa("0x1003:0x102132435465768798a9bacbdcedfe0f11121314",
				ESP_SA_OUTBOUND);
			while (rte_ring_count(rx_r) > 0)
				usleep(100);
			usleep(20000);
			CHECK(ctl_sa_del_in(0x1001) == 0);
			/* 2: the deleted SA's key still seals; the data plane must refuse. */
			peer_send(old, stale, sizeof(stale));
			esp_arg_sa_free(old);
			phase = 1;
		} else if (phase == 1 && l.n_have >= N_CHUNKS / 2) {
			/* 3: the peer accepts the new SPI first, then control replaces. */
			p_in[1] = peer_sa("0x2004:0x5a5b5c5d5e5f606162636465666768696a6b6c6d",
				ESP_SA_INBOUND);
			CHECK(ctl_sa(KR_DIR_OUT,
				      "0x2004:0x5a5b5c5d5e5f606162636465666768696a6b6c6d",
				      true) == 0);
			phase = 2;
		} else if (phase == 2 && l.n_have >= 3 * N_CHUNKS / 4) {
			/* 4: same SPI, same key, a new SA object, requests in the rx ring. */
			n = ppspp_leecher_requests(&l, buf, sizeof(buf), WINDOW * 2);
			if (n > 0)
				peer_send(p_out, buf, (size_t)n);
			CHECK(ctl_sa(KR_DIR_IN, "0x1003:0x102132435465768798a9bacbdcedfe0f11121314",
				      true) == 0);
			phase = 3;
		}
	}
	usleep(50000);
	while (peer_receive(&l, got) > 0)
		;
	dp_stop = true;
	rte_eal_mp_wait_lcore();
	drainer_stop = 1;
	pthread_join(dt, NULL);

	CHECKF(ppspp_leecher_done(&l), "download stopped at %llu of %u chunks",
		(unsigned long long)l.n_have, N_CHUNKS);
	CHECK(phase == 3);
	CHECK(memcmp(got, content, sizeof(content)) == 0);
	CHECKF(timeouts == 0, "%llu timeouts: datagrams were lost", (unsigned long long)timeouts);
	CHECKF(p_open_fail == 0, "%llu packets from the data plane did not open",
		(unsigned long long)p_open_fail);
	CHECK(l.counts[LEECHER_R_BAD_CHUNK] == 0 && l.counts[LEECHER_R_MALFORMED] == 0);
	for (unsigned k = 0; k < DP_DROP_COUNT; k++)
		CHECKF(w->drops[k] == (k == DP_DROP_ESP ? 1u : 0u), "drop %s: %llu",
			dp_drop_names[k], (unsigned long long)w->drops[k]);
	for (unsigned k = 0; k < ESP_DROP_COUNT; k++)
		CHECKF(w->esp_drops[k] == (k == ESP_DROP_BAD_SPI ? 1u : 0u), "esp %s: %llu",
			esp_drop_name(k), (unsigned long long)w->esp_drops[k]);
	/* What is left: in 0x1003 and out 0x2004. */
	CHECK(ctl.sas.n == 2);
	for (unsigned i = 0; i < ctl.sas.n; i++)
		CHECK(ctl.sas.all[i]->id.spi ==
			(ctl.sas.all[i]->id.dir == KR_DIR_IN ? 0x1003u : 0x2004u));
	printf("%llu packets sent, %llu opened, %llu chunks sent by the worker\n",
		(unsigned long long)p_sent, (unsigned long long)p_opened,
		(unsigned long long)w->chunks_sent);

	keyring_close(&kr);
	ppspp_leecher_fini(&l);
	esp_arg_sa_free(p_out);
	esp_arg_sa_free(p_in[0]);
	esp_arg_sa_free(p_in[1]);
	dp_port_fini(cfg.port_id);
	merkle_tree_free(&store->tree);
	ctl.swarms.slot[0].live = 0;
	dp_ctl_fini(&ctl);
	crypto_engine_fini(&w->eng);
	crypto_engine_fini(&pe);
	rte_free(w->peers);
	rte_free(w->neigh);
	rte_free(w);
	rte_eal_cleanup();
	return check_exit();
}
