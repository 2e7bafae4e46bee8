/* SPDX-License-Identifier: BSD-3-Clause */
/* The net_ring rig of the in-process data plane tests (ring_rig.h). */
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

#include "ring_rig.h"

const uint8_t ring_rig_peer_ip[4] = {10, 0, 0, 2}, ring_rig_dp_ip[4] = {10, 0, 0, 1};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 2};

int ring_rig_init(struct ring_rig *r, const char *tag, unsigned tx_slots)
{
	char *argv[] = {"test", "-l", "0-1", "--no-huge", "-m", "256", "--no-pci", "--log-level",
		"1", "--file-prefix", r->name, NULL};
	char err[256];
	int port;

	snprintf(r->name, sizeof(r->name), "%s%d", tag, (int)getpid());
	if (rte_eal_init(11, argv) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	if (rte_lcore_count() < 2) {
		fprintf(stderr, "needs 2 cores (a worker and the peers): skipped\n");
		return 77;
	}
	r->pool = rte_pktmbuf_pool_create("pool", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	r->rx = rte_ring_create("rx", 16384, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	r->tx = rte_ring_create("tx", tx_slots, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (r->pool == NULL || r->rx == NULL || r->tx == NULL || crypto_engine_init(&r->eng) != 0) {
		fprintf(stderr, "no memory for the rig\n");
		return 1;
	}
	port = rte_eth_from_rings(r->name, &r->rx, 1, &r->tx, 1, 0);
	if (port < 0) {
		fprintf(stderr, "rte_eth_from_rings failed\n");
		return 1;
	}
	r->cfg = (struct dp_config){.port_id = (uint16_t)port,
		.udp_port = 6778,
		.esp_port = 4500,
		.mtu = 1500,
		.idle_polls = 64,
		.idle_sleep_us = 50};
	memcpy(&r->cfg.ip4, ring_rig_dp_ip, 4);
	if (dp_port_init(&r->cfg, 1, r->pool) != 0)
		return 1;
	if (dp_ctl_init(&r->ctl, r->name, 64, 1, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	r->cfg.sas = &r->ctl.sas;
	r->cfg.swarms = &r->ctl.swarms;
	return 0;
}

int ring_rig_swarm(
	struct ring_rig *r, const uint8_t *content, size_t len, uint32_t chunk, bool open)
{
	struct dp_swarm *sl = &r->ctl.swarms.slot[0];
	struct chunk_store *s = &sl->store;

	s->m.hash = HASH_SHA256;
	s->m.chunk_size = chunk;
	s->m.content_len = len;
	if (merkle_tree_build(&s->tree, &r->eng, HASH_SHA256, chunk, content, len) != 0 ||
		chunk_store_sums_alloc(s) != 0)
		return 1;
	memcpy(s->m.swarm_id, merkle_tree_root(&s->tree), HASH_SHA256_LEN);
	s->chunks = content;
	s->n_peaks = merkle_peaks(s->tree.n_chunks, s->peaks);
	sl->gen = 1;
	sl->open = open;
	sl->live = 1;
	r->ctl.swarms.n = 1;
	return 0;
}

int ring_rig_start(struct ring_rig *r)
{
	unsigned lcore = rte_get_next_lcore(-1, 1, 0);

	r->w = dp_worker_new(&r->cfg, r->pool, lcore, 0);
	if (r->w == NULL)
		return 1;
	r->ws[0] = r->w;
	r->ctl.workers = r->ws;
	r->ctl.n_workers = 1;
	return rte_eal_remote_launch(dp_worker_loop, r->w, lcore) == 0 ? 0 : 1;
}

void ring_rig_stop(struct ring_rig *r)
{
	(void)r;
	dp_stop = true;
	rte_eal_mp_wait_lcore();
}

void ring_rig_fini(struct ring_rig *r)
{
	struct dp_swarm *sl = &r->ctl.swarms.slot[0];

	dp_port_fini(r->cfg.port_id);
	merkle_tree_free(&sl->store.tree);
	free(sl->store.sums);
	sl->store.sums = NULL;
	sl->live = 0;
	dp_ctl_fini(&r->ctl);
	dp_worker_free(r->w);
	crypto_engine_fini(&r->eng);
	rte_eal_cleanup();
}

uint8_t *ring_rig_udp4(
	struct ring_rig *r, struct rte_mbuf *m, uint16_t sport, uint16_t dport, size_t len)
{
	return ring_rig_udp4_to(&r->cfg.mac, m, sport, dport, len);
}

uint8_t *ring_rig_udp4_to(const struct rte_ether_addr *dp_mac, struct rte_mbuf *m, uint16_t sport,
	uint16_t dport, size_t len)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	memcpy(eth->src_addr.addr_bytes, peer_mac, 6);
	eth->dst_addr = *dp_mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	memcpy(&ip->src_addr, ring_rig_peer_ip, 4);
	memcpy(&ip->dst_addr, ring_rig_dp_ip, 4);
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*udp) + len));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(sport);
	udp->dst_port = rte_cpu_to_be_16(dport);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + len));
	udp->dgram_cksum = 0;
	m->data_len = (uint16_t)(sizeof(*eth) + sizeof(*ip) + sizeof(*udp) + len);
	m->pkt_len = m->data_len;
	return (uint8_t *)(udp + 1);
}

struct rte_mbuf *ring_rig_esp4(
	struct ring_rig *r, struct esp_sa *sa, uint16_t sport, const void *dgram, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(r->pool);
	struct rte_udp_hdr *in;
	struct esp_seal_pkt s;
	uint8_t *esp;

	if (m == NULL)
		abort();
	esp = rte_pktmbuf_mtod(m, uint8_t *) + sizeof(struct rte_ether_hdr) +
	      sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr);
	in = (struct rte_udp_hdr *)(esp + ESP_PREFIX_LEN);
	in->src_port = rte_cpu_to_be_16(sport);
	in->dst_port = rte_cpu_to_be_16(r->cfg.udp_port);
	in->dgram_len = rte_cpu_to_be_16((uint16_t)(len + sizeof(*in)));
	in->dgram_cksum = 0;
	memcpy(in + 1, dgram, len);
	s = (struct esp_seal_pkt){.sa = sa,
		.src = (const uint8_t *)in,
		.out = esp,
		.len = (uint32_t)(len + sizeof(*in)),
		.out_cap = 1800,
		.next_hdr = ESP_NH_UDP};
	if (esp_seal_burst(&r->eng, &s, 1, 0) != 1)
		abort();
	ring_rig_udp4(r, m, sport, r->cfg.esp_port, s.out_len);
	return m;
}

static void *ring_rig_drainer(void *arg)
{
	struct ring_rig *r = arg;

	while (!r->drainer_stop) {
		dp_ctl_poll(&r->ctl);
		usleep(200);
	}
	return NULL;
}

void ring_rig_drainer_start(struct ring_rig *r)
{
	r->drainer_stop = 0;
	if (pthread_create(&r->drainer, NULL, ring_rig_drainer, r) != 0)
		abort();
}

void ring_rig_drainer_stop(struct ring_rig *r)
{
	r->drainer_stop = 1;
	pthread_join(r->drainer, NULL);
}

void ring_rig_inject(struct ring_rig *r, struct rte_mbuf *m)
{
	while (rte_ring_enqueue(r->rx, m) != 0)
		usleep(10);
}

uint64_t ring_rig_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}
