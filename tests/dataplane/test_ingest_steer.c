/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An ingest with two workers, its source's frames arriving on the queue of the worker that
 * does NOT own the ingest (as RSS may put them): they must be steered to the owner, and the
 * ingest must complete with every chunk verified.
 *
 *   test thread (lcore 0): key-ring drainer + the source, a PPSPP seeder of a packed store
 *        |  frames to the non-owner's rx ring         ^ frames from both tx rings
 *   [ worker A: queue 0, lcore 1 ]   [ worker B: queue 1, lcore 2 ]   one net_ring port
 *
 * A leecher (the project's PPSPP leecher, in the test thread too) fetches the swarm from the
 * data plane on the same non-owner queue while the ingest arrives: its channel lives on the
 * worker that does not own the ingest and reads what the owner publishes. The source pauses
 * once 512 chunks are in until the leecher holds them all, so it is served before the ingest
 * completes; it must end byte-identical.
 *
 * The ingest and an SA add come through the key ring back to back, as the control daemon may
 * send them: one poll of the drainer acknowledges both (the SA add does not wait behind the
 * ingest's buffers being faulted in), and no worker claims the ingest before the buffers
 * are in and a later poll has made it ready. Before that, an ingest given a second source
 * (both acknowledged in one poll) and then deleted, while its buffers are still to be faulted
 * in: nothing of it left. dp_ctl_prep_hold keeps the prefault thread from starting until the
 * test lets it, so "not ready yet" is certain, not a race the old code could win.
 *
 * The source's MAC is unknown at first: the owner sends an ARP request, and its reply comes
 * in on the other worker's queue (as a NIC's RSS leaves ARP on queue 0), which hands it over.
 *
 * While it runs, another swarm's ingest, three times over: each goes to the other worker,
 * the one that runs no ingest, so that ingests at once use both cores.
 *
 * Lcores 1 and 2 share CPU 1 (--lcores), so this runs on a 2-core machine. The store is made
 * by `superpeer pack` (argv[1]). Bounded: 60 s. Exit 0, 1, or 77 with fewer than 2 cores.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "check.h"
#include "dp.h"
#include "dp_ctl.h"
#include "ppspp_leecher.h"
#include "ppspp_seeder.h"
#include "ring_rig.h"

enum { SRC_PORT = 7100, LEE_PORT = 7300, N_CHUNKS = 2048, CHUNK = 1024, PAUSE_AT = 512 };

static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 2}; /* ring_rig.c's peer */

struct steer_test {
	struct rte_mempool *pool;
	struct rte_ring *rx[2], *tx[2];
	struct dp_config cfg;
	struct dp_ctl ctl;
	struct dp_worker *w[2];
	struct crypto_engine eng;
	struct chunk_store src;
	struct seeder_channel ch;
	uint32_t next_id;
	char name[64], dir[64];
	/* The leecher of the data plane's swarm while it is ingested. */
	struct ppspp_leecher lee;
	uint8_t *lee_out;
	uint64_t lee_t_hs, lee_t_req, lee_have_paused;
	bool paused; /* the source holds back until the leecher has all that is in */
	unsigned arp_asked; /* ARP requests for the source answered */
};

static int setup_port(struct steer_test *t)
{
	struct rte_eth_conf conf = {0};
	int port;

	for (int q = 0; q < 2; q++) {
		char n[32];

		snprintf(n, sizeof(n), "rx%d", q);
		t->rx[q] = rte_ring_create(n, 16384, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(n, sizeof(n), "tx%d", q);
		t->tx[q] = rte_ring_create(n, 16384, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (t->rx[q] == NULL || t->tx[q] == NULL)
			return -1;
	}
	port = rte_eth_from_rings(t->name, t->rx, 2, t->tx, 2, 0);
	if (port < 0 || rte_eth_dev_configure((uint16_t)port, 2, 2, &conf) != 0)
		return -1;
	for (uint16_t q = 0; q < 2; q++)
		if (rte_eth_rx_queue_setup((uint16_t)port, q, 1024, 0, NULL, t->pool) != 0 ||
			rte_eth_tx_queue_setup((uint16_t)port, q, 1024, 0, NULL) != 0)
			return -1;
	if (rte_eth_dev_start((uint16_t)port) != 0 ||
		rte_eth_macaddr_get((uint16_t)port, &t->cfg.mac) != 0)
		return -1;
	t->cfg.port_id = (uint16_t)port;
	return 0;
}

/* One datagram of the source's (or, from sport, the leecher's) to the data plane, into queue
 * q's rx ring. */
static void send_from(struct steer_test *t, int q, uint16_t sport, const uint8_t *d, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(t->pool);

	CHECK(m != NULL);
	if (m == NULL)
		return;
	memcpy(ring_rig_udp4_to(&t->cfg.mac, m, sport, 6778, len), d, len);
	while (rte_ring_enqueue(t->rx[q], m) != 0)
		usleep(10);
}

static void send_dgram(struct steer_test *t, int q, const uint8_t *d, size_t len)
{
	send_from(t, q, SRC_PORT, d, len);
}

static void lee_deliver(void *ctx, uint64_t chunk, const uint8_t *data, size_t len)
{
	memcpy((uint8_t *)ctx + chunk * CHUNK, data, len);
}

/* A datagram from the data plane to the leecher: verified, ACKed on queue q. */
static void lee_input(struct steer_test *t, int q, const uint8_t *d, size_t len)
{
	static uint8_t ack[2048];
	size_t ack_len = 0;
	uint64_t had = t->lee.n_have;

	t->lee.now_us = ring_rig_now_us();
	(void)ppspp_leecher_input(
		&t->lee, d, len, lee_deliver, t->lee_out, ack, sizeof(ack), &ack_len);
	if (ack_len > 0)
		send_from(t, q, LEE_PORT, ack, ack_len);
	if (t->lee.n_have != had)
		t->lee_t_req = ring_rig_now_us();
}

/* The leecher's timers: handshake until answered, a window of 64, re-asked after 300 ms. */
static void lee_run(struct steer_test *t, int q)
{
	static uint8_t out[2048];
	uint64_t now = ring_rig_now_us();
	int n;

	if (ppspp_leecher_done(&t->lee))
		return;
	if (t->lee.peer_id == 0) {
		if (now - t->lee_t_hs > 100000) {
			n = ppspp_leecher_handshake(&t->lee, out, sizeof(out));
			if (n > 0)
				send_from(t, q, LEE_PORT, out, (size_t)n);
			t->lee_t_hs = now;
		}
		return;
	}
	if (t->lee.n_inflight > 0 && now - t->lee_t_req > 300000)
		ppspp_leecher_timeout(&t->lee);
	if (t->lee.n_inflight <= 32 &&
		(n = ppspp_leecher_requests(&t->lee, out, sizeof(out), 64)) > 0) {
		send_from(t, q, LEE_PORT, out, (size_t)n);
		t->lee_t_req = now;
	}
}

/* An ARP request for the source's address, answered on queue q's rx ring: the request
 * comes from the ingest's owner, q is the other worker's queue. Takes m. */
static void arp_answer(struct steer_test *t, int q, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);

	if (a->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
		memcmp(&a->arp_data.arp_tip, ring_rig_peer_ip, 4) != 0) {
		rte_pktmbuf_free(m);
		return;
	}
	t->arp_asked++;
	a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	a->arp_data.arp_tha = a->arp_data.arp_sha;
	a->arp_data.arp_tip = a->arp_data.arp_sip;
	memcpy(&a->arp_data.arp_sha, peer_mac, 6);
	memcpy(&a->arp_data.arp_sip, ring_rig_peer_ip, 4);
	eth->dst_addr = a->arp_data.arp_tha;
	memcpy(&eth->src_addr, peer_mac, 6);
	while (rte_ring_enqueue(t->rx[q], m) != 0)
		usleep(10);
}

/* The source: every datagram the data plane sent to it, answered on queue q's rx ring. */
static void serve_source(struct steer_test *t, int q)
{
	struct rte_mbuf *ms[32];
	static uint8_t out[2048];

	for (int k = 0; k < 2; k++) {
		unsigned n = rte_ring_dequeue_burst(t->tx[k], (void **)ms, 32, NULL);

		for (unsigned i = 0; i < n; i++) {
			struct rte_ether_hdr *eth = rte_pktmbuf_mtod(ms[i], struct rte_ether_hdr *);
			struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
			struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
			const uint8_t *id;
			const uint8_t *d = (const uint8_t *)(udp + 1);
			size_t len;

			if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
				arp_answer(t, q, ms[i]);
				continue;
			}
			if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
				ip->next_proto_id != IPPROTO_UDP ||
				(udp->dst_port != rte_cpu_to_be_16(SRC_PORT) &&
					udp->dst_port != rte_cpu_to_be_16(LEE_PORT))) {
				rte_pktmbuf_free(ms[i]);
				continue;
			}
			len = rte_be_to_cpu_16(udp->dgram_len) - sizeof(*udp);
			if (udp->dst_port == rte_cpu_to_be_16(LEE_PORT)) {
				lee_input(t, q, d, len);
				rte_pktmbuf_free(ms[i]);
				continue;
			}
			if (seeder_handshake_swarm(d, len, &id) > 0 && t->ch.peer_id == 0) {
				do
					t->next_id++;
				while (t->next_id == 0);
				seeder_channel_init(&t->ch, &t->src, t->next_id);
			}
			seeder_clock(&t->ch, ring_rig_now_us());
			(void)seeder_input(&t->ch, d, len);
			rte_pktmbuf_free(ms[i]);
		}
	}
	lee_run(t, q);
	/* Paused once PAUSE_AT chunks are in, until the leecher holds all that is in. */
	{
		uint64_t in = __atomic_load_n(&t->ctl.swarms.slot[0].avail, __ATOMIC_ACQUIRE);

		if (!t->paused && t->lee_have_paused == 0 && in >= PAUSE_AT)
			t->paused = true;
		if (t->paused && t->lee.n_have >= in) {
			t->paused = false;
			t->lee_have_paused = t->lee.n_have;
		}
		if (t->paused)
			return;
	}
	for (int k = 0; k < 64; k++) {
		int n = seeder_output(&t->ch, out, 1400, ring_rig_now_us());

		if (n <= 0)
			break;
		send_dgram(t, q, out, (size_t)n);
	}
}

/*
 * A second swarm's ingest while the first runs on the worker of queue owner_q: it goes to
 * the other worker, which runs none (a new ingest goes to a worker that runs fewest). Three
 * times, as the first worker to look could win by luck one time in two. Its source
 * (SRC_PORT + 9) never answers; it is deleted each time.
 */
static void other_ingest(struct steer_test *t, const struct kr_msg *first, int owner_q)
{
	const struct kr_header *h = t->ctl.kr.h;
	static uint64_t seq = 100;

	for (unsigned r = 0; r < 3; r++) {
		struct kr_msg m = *first,
			      del = {.type = KR_SWARM_DEL, .len = sizeof(struct kr_swarm)};
		const struct dp_swarm *s = NULL;
		uint16_t o = DP_SA_NO_OWNER;
		uint64_t end = ring_rig_now_us() + 10 * 1000000ull;

		m.seq = ++seq;
		m.u.ingest.peer_port = SRC_PORT + 9;
		snprintf(m.u.ingest.manifest, sizeof(m.u.ingest.manifest), "%s/store2/manifest",
			t->dir);
		CHECK(rte_ring_enqueue_elem(t->ctl.kr.c2d, &m, KR_MSG_SIZE) == 0);
		while (ring_rig_now_us() < end && o == DP_SA_NO_OWNER) {
			dp_ctl_poll(&t->ctl);
			for (unsigned i = 1; s == NULL && i < DP_MAX_SWARMS; i++)
				if (t->ctl.swarms.slot[i].ingest != NULL)
					s = &t->ctl.swarms.slot[i];
			if (s != NULL && s->ingest != NULL)
				o = __atomic_load_n(&s->ingest->owner, __ATOMIC_ACQUIRE);
			usleep(100);
		}
		CHECKF(h->done_seq >= m.seq && h->done_status == 0 && s != NULL,
			"second ingest: status %d: %.*s", (int)h->done_status,
			(int)sizeof(h->done_msg), h->done_msg);
		/* Worker q runs on lcore q + 1. */
		CHECKF(o == 2 - owner_q,
			"round %u: the second ingest went to lcore %u, the first "
			"runs on lcore %d",
			r, o, owner_q + 1);
		if (s == NULL)
			return;
		del.seq = ++seq;
		del.u.swarm.id_len = (uint8_t)hash_len(s->ingest_hash);
		memcpy(del.u.swarm.id, s->ingest_id, del.u.swarm.id_len);
		CHECK(rte_ring_enqueue_elem(t->ctl.kr.c2d, &del, KR_MSG_SIZE) == 0);
		while (ring_rig_now_us() < end && h->done_seq < del.seq) {
			dp_ctl_poll(&t->ctl);
			usleep(100);
		}
		CHECKF(h->done_seq == del.seq && h->done_status == 0 && s->ingest == NULL,
			"second ingest not deleted: status %d", (int)h->done_status);
	}
}

int main(int argc, char **argv)
{
	char *eal[] = {"test", "--lcores", "0@0,1@1,2@1", "--no-huge", "-m", "256", "--no-pci",
		"--log-level", "1", "--file-prefix", NULL, NULL};
	static struct steer_test t;
	uint8_t pub[ED25519_PUBLIC_LEN];
	struct kr_msg m = {.type = KR_SWARM_INGEST, .len = sizeof(struct kr_ingest)};
	char cmd[1024], err[256], path[128];
	const struct dp_ingest *ing;
	uint64_t end;
	int owner = -1, rc;

	if (argc != 2) {
		fprintf(stderr, "usage: test_ingest_steer SUPERPEER\n");
		return 2;
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		fprintf(stderr, "needs 2 cores (the workers and the source): skipped\n");
		return 77;
	}
	snprintf(t.name, sizeof(t.name), "spsteer%d", (int)getpid());
	eal[10] = t.name;
	snprintf(t.dir, sizeof(t.dir), "/tmp/spsteerXXXXXX");
	if (mkdtemp(t.dir) == NULL)
		return 1;
	snprintf(cmd, sizeof(cmd),
		"%s keygen -o %s/key >/dev/null && head -c %d /dev/urandom >%s/content && "
		"%s pack --key %s/key/provider.key -o %s/store %s/content >/dev/null && "
		"head -c 65536 /dev/urandom >%s/content2 && "
		"%s pack --key %s/key/provider.key -o %s/store2 %s/content2 >/dev/null",
		argv[1], t.dir, N_CHUNKS * CHUNK - 100, t.dir, argv[1], t.dir, t.dir, t.dir, t.dir,
		argv[1], t.dir, t.dir, t.dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "could not make the store\n");
		return 1;
	}
	if (rte_eal_init(11, eal) < 0 || rte_lcore_count() != 3) {
		fprintf(stderr, "EAL init (3 lcores on 2 CPUs) failed\n");
		return 1;
	}
	t.pool = rte_pktmbuf_pool_create("pool", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	t.lee_out = calloc(N_CHUNKS, CHUNK);
	if (t.lee_out == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/key/provider.pub", t.dir);
	if (t.pool == NULL || crypto_engine_init(&t.eng) != 0 ||
		chunk_store_pub_read(path, pub, err, sizeof(err)) != 0) {
		fprintf(stderr, "setup: %s\n", err);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/store", t.dir);
	if (chunk_store_open(&t.src, &t.eng, path, pub, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	t.cfg = (struct dp_config){.udp_port = 6778,
		.esp_port = 4500,
		.mtu = 1500,
		.idle_polls = 64,
		.idle_sleep_us = 50};
	memcpy(&t.cfg.ip4, ring_rig_dp_ip, 4);
	if (setup_port(&t) != 0 || dp_ctl_init(&t.ctl, t.name, 64, 2, err, sizeof(err)) != 0) {
		fprintf(stderr, "port or key ring: %s\n", err);
		return 1;
	}
	t.cfg.sas = &t.ctl.sas;
	t.cfg.swarms = &t.ctl.swarms;
	memcpy(t.ctl.kr.h->ip4, &t.cfg.ip4, 4); /* what the data plane says it is (dp_main.c) */
	for (unsigned q = 0; q < 2; q++) {
		/* The source's MAC is not known: the owner asks, and the reply comes in on the
		 * other worker's queue (serve_source), which must hand it over. */
		t.w[q] = dp_worker_new(&t.cfg, t.pool, q + 1, (uint16_t)q);
		if (t.w[q] == NULL)
			return 1;
		t.cfg.by_lcore[q + 1] = t.w[q];
	}
	t.cfg.n_workers = 2;
	t.ctl.workers = t.w;
	t.ctl.n_workers = 2;
	for (unsigned q = 0; q < 2; q++)
		if (rte_eal_remote_launch(dp_worker_loop, t.w[q], q + 1) != 0)
			return 1;

	m.u.ingest.peer[10] = m.u.ingest.peer[11] = 0xff;
	memcpy(m.u.ingest.peer + 12, ring_rig_peer_ip, 4);
	m.u.ingest.peer_port = SRC_PORT;
	m.u.ingest.open = 1;
	memcpy(m.u.ingest.provider_pub, pub, sizeof(pub));
	snprintf(m.u.ingest.manifest, sizeof(m.u.ingest.manifest), "%s/store/manifest", t.dir);
	{
		/* Ingest and a second source (same manifest) in one poll, then a delete, all
		 * while the prefault is held. */
		struct kr_msg m2 = m, del = {.type = KR_SWARM_DEL, .len = sizeof(struct kr_swarm)};
		const struct kr_header *h = t.ctl.kr.h;

		/* Other ports than the source's: whatever a worker sends them (a handshake, once
		 * ready, a closing datagram after the delete) the source below ignores. */
		m.seq = 1;
		m.u.ingest.peer_port = SRC_PORT + 2;
		m2.seq = 2;
		m2.u.ingest.peer_port = SRC_PORT + 3;
		del.seq = 3;
		del.u.swarm.id_len = (uint8_t)hash_len(t.src.m.hash);
		memcpy(del.u.swarm.id, t.src.m.swarm_id, del.u.swarm.id_len);
		dp_ctl_prep_hold = 1;
		CHECK(rte_ring_enqueue_elem(t.ctl.kr.c2d, &m, KR_MSG_SIZE) == 0 &&
			rte_ring_enqueue_elem(t.ctl.kr.c2d, &m2, KR_MSG_SIZE) == 0);
		dp_ctl_poll(&t.ctl);
		ing = t.ctl.swarms.slot[0].ingest;
		CHECKF(h->cmds_applied == 2 && h->done_seq == 2 && h->done_status == 0,
			"ingest + source: %llu commands applied, the last %llu (status %d: %.*s)",
			(unsigned long long)h->cmds_applied, (unsigned long long)h->done_seq,
			(int)h->done_status, (int)sizeof(h->done_msg), h->done_msg);
		CHECK(ing != NULL && ing->n_src == 2 && !ing->ready && t.ctl.prep.ing == ing);
		CHECK(rte_ring_enqueue_elem(t.ctl.kr.c2d, &del, KR_MSG_SIZE) == 0);
		dp_ctl_poll(&t.ctl);
		CHECKF(h->cmds_applied == 3 && h->done_seq == 3 && h->done_status == 0,
			"delete: %llu commands applied (status %d: %.*s)",
			(unsigned long long)h->cmds_applied, (int)h->done_status,
			(int)sizeof(h->done_msg), h->done_msg);
		CHECK(t.ctl.swarms.slot[0].ingest == NULL && !t.ctl.swarms.slot[0].live &&
			t.ctl.swarms.n == 0 && t.ctl.prep.ing == NULL);
		m.u.ingest.peer_port = SRC_PORT;
	}
	{
		struct kr_msg sa = {.type = KR_SA_ADD, .len = sizeof(struct kr_sa), .seq = 5};
		const struct kr_header *h = t.ctl.kr.h;

		sa.u.sa.id = (struct kr_sa_id){.spi = 0x5a5a, .dir = KR_DIR_IN};
		sa.u.sa.key_len = 16;
		m.seq = 4;
		dp_ctl_prep_hold = 1;
		CHECK(rte_ring_enqueue_elem(t.ctl.kr.c2d, &m, KR_MSG_SIZE) == 0 &&
			rte_ring_enqueue_elem(t.ctl.kr.c2d, &sa, KR_MSG_SIZE) == 0);
		dp_ctl_poll(&t.ctl);
		CHECKF(h->cmds_applied == 5 && h->done_seq == 5 && h->done_status == 0,
			"one poll: %llu commands applied, the last %llu (status %d: %.*s)",
			(unsigned long long)h->cmds_applied, (unsigned long long)h->done_seq,
			(int)h->done_status, (int)sizeof(h->done_msg), h->done_msg);
		ing = t.ctl.swarms.slot[0].ingest;
		rc = ing != NULL ? 0 : -1;
		CHECKF(ing != NULL, "the ingest is not on its slot after the poll");
	}
	if (ing != NULL) {
		/* Not ready until a poll sees its buffers in: the running workers leave it. */
		CHECK(!__atomic_load_n(&ing->ready, __ATOMIC_ACQUIRE));
		usleep(20000);
		dp_ctl_poll(&t.ctl); /* still held: not ready */
		CHECK(!__atomic_load_n(&ing->ready, __ATOMIC_ACQUIRE));
		CHECK(__atomic_load_n(&ing->owner, __ATOMIC_ACQUIRE) == DP_SA_NO_OWNER);
	}
	dp_ctl_prep_hold = 0; /* the polls below make it ready */
	CHECK(ppspp_leecher_init(&t.lee, &t.eng, t.src.m.hash, CHUNK, t.src.m.content_len,
		      t.src.m.swarm_id, 0x1ee, PPSPP_CAM_CHUNK32) == 0);

	/* Until complete (served) or 60 s: the source answers on the other worker's queue. */
	end = ring_rig_now_us() + 60 * 1000000ull;
	/* The slot is live (served as it arrives) from the start; complete when the ingest is off
	 * it and it is still live. */
#define COMPLETE (t.ctl.swarms.slot[0].live && t.ctl.swarms.slot[0].ingest == NULL)
	while (rc == 0 && ring_rig_now_us() < end && (!COMPLETE || !ppspp_leecher_done(&t.lee))) {
		dp_ctl_poll(&t.ctl);
		if (owner < 0 && ing != NULL &&
			__atomic_load_n(&ing->owner, __ATOMIC_ACQUIRE) != DP_SA_NO_OWNER) {
			owner = __atomic_load_n(&ing->owner, __ATOMIC_ACQUIRE) == 1 ? 0 : 1;
			other_ingest(&t, &m, owner);
		}
		if (owner >= 0)
			serve_source(
				&t, 1 - owner); /* the queue of the worker that does not own it */
		usleep(100);
	}
	CHECKF(COMPLETE, "ingest not complete in 60 s (owner queue %d)", owner);
	printf("leecher: %llu of %u chunks, %llu of them while the source was paused at %u\n",
		(unsigned long long)t.lee.n_have, N_CHUNKS, (unsigned long long)t.lee_have_paused,
		PAUSE_AT);
	CHECKF(ppspp_leecher_done(&t.lee) &&
			memcmp(t.lee_out, t.src.chunks, t.src.m.content_len) == 0,
		"leecher: %llu of %u chunks", (unsigned long long)t.lee.n_have, N_CHUNKS);
	CHECKF(t.lee_have_paused >= PAUSE_AT, "served before complete: %llu",
		(unsigned long long)t.lee_have_paused);
	CHECK(t.lee.counts[LEECHER_R_BAD_CHUNK] == 0 && t.lee.counts[LEECHER_R_BAD_PEAKS] == 0);
	dp_stop = true;
	rte_eal_mp_wait_lcore();
	if (owner >= 0) {
		const struct dp_worker *a = t.w[1 - owner], *b = t.w[owner];

		printf("owner: worker on queue %d; steered %llu frames; chunks ingested %llu\n",
			owner, (unsigned long long)a->steered,
			(unsigned long long)(a->chunks_ingested + b->chunks_ingested));
		CHECKF(a->steered > 0, "nothing steered");
		/* The owner asked for the source's MAC; the other worker got the reply. */
		printf("ARP requests answered %u; replies handed over %llu\n", t.arp_asked,
			(unsigned long long)a->neigh_handed);
		CHECKF(t.arp_asked > 0 && a->neigh_handed > 0 && b->neigh_handed == 0,
			"ARP: %u asked, %llu handed over", t.arp_asked,
			(unsigned long long)a->neigh_handed);
		/* The leecher's channel is on the worker that does not own the ingest. */
		CHECKF(a->chunks_sent >= N_CHUNKS && b->chunks_sent == 0,
			"chunks sent: non-owner %llu, owner %llu",
			(unsigned long long)a->chunks_sent, (unsigned long long)b->chunks_sent);
		CHECKF(b->chunks_ingested == N_CHUNKS && a->chunks_ingested == 0,
			"chunks ingested: owner %llu, other %llu",
			(unsigned long long)b->chunks_ingested,
			(unsigned long long)a->chunks_ingested);
		for (unsigned k = 0; k < DP_DROP_COUNT; k++)
			CHECKF(a->drops[k] == 0 && b->drops[k] == 0, "drop %s: %llu + %llu",
				dp_drop_names[k], (unsigned long long)a->drops[k],
				(unsigned long long)b->drops[k]);
	}
	if (COMPLETE)
		CHECK(memcmp(t.ctl.swarms.slot[0].store.chunks, t.src.chunks,
			      t.src.m.content_len) == 0);
	dp_port_fini(t.cfg.port_id);
	dp_ctl_fini(&t.ctl);
	for (unsigned q = 0; q < 2; q++)
		dp_worker_free(t.w[q]);
	chunk_store_close(&t.src);
	ppspp_leecher_fini(&t.lee);
	free(t.lee_out);
	crypto_engine_fini(&t.eng);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t.dir);
	(void)system(cmd);
	rte_eal_cleanup();
	return check_exit();
}
