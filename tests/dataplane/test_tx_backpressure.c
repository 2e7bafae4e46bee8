/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A transmit ring far smaller than what the peers ask for, in one process on net_ring:
 *
 *   test thread: 16 peers (real leechers, plain PPSPP, one UDP port each)
 *        | rx ring -> [ worker: dp_worker_loop on lcore 1 ] -> tx ring (63 frames) |
 *   the test drains the tx ring slowly, a few frames at a time
 *
 * Every peer keeps up to 128 chunks requested, so the worker is asked for ~2,000 frames
 * while the port takes 63 and its own queue holds 512. The worker must slow down, not drop:
 * every download completes byte-identical with no timeout (no datagram lost), the worker
 * counts no drop at all (in particular no tx_full), and it reports that it held output back
 * (tx_held > 0). Without the backpressure of dp_ppspp_output the queue overflows and tx_full
 * drops and leecher timeouts follow.
 * Exits 77 when the machine has fewer than 2 cores.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include "check.h"
#include "ppspp_leecher.h"
#include "ring_rig.h"

enum {
	CHUNK = 1024,
	N_CHUNKS = 1024,
	WINDOW = 128,
	PEERS = 16,
	TX_RING = 64, /* an rte_ring of 64 holds 63 */
	DRAIN = 8,    /* frames taken from the tx ring per pass */
	PEER_PORT = 40000,
};

static uint8_t content[CHUNK * N_CHUNKS];
static uint8_t got[PEERS][CHUNK * N_CHUNKS];
static struct ring_rig rig;
static struct ppspp_leecher lee[PEERS];
static uint64_t timeouts;

/* One plain PPSPP datagram from peer i: UDP (PEER_PORT + i) -> the data plane's udp_port. */
static void peer_send(unsigned i, const uint8_t *dgram, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(rig.pool);

	if (m == NULL)
		abort();
	memcpy(ring_rig_udp4(&rig, m, (uint16_t)(PEER_PORT + i), rig.cfg.udp_port, len), dgram,
		len);
	ring_rig_inject(&rig, m);
}

static void deliver(void *ctx, uint64_t chunk, const uint8_t *data, size_t len)
{
	uint8_t *out = ctx;

	memcpy(out + chunk * CHUNK, data, len);
}

/* A few frames from the tx ring, each to the leecher its UDP destination port names. */
static unsigned peer_receive(void)
{
	void *objs[DRAIN];
	unsigned n = rte_ring_dequeue_burst(rig.tx, objs, DRAIN, NULL), k;

	for (k = 0; k < n; k++) {
		struct rte_mbuf *m = objs[k];
		struct rte_udp_hdr *udp = rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *, 14 + 20);
		unsigned i = rte_be_to_cpu_16(udp->dst_port) - PEER_PORT;
		uint8_t ack[2048];
		size_t ack_len = 0;

		CHECKF(i < PEERS, "frame to port %u", rte_be_to_cpu_16(udp->dst_port));
		if (i < PEERS) {
			ppspp_leecher_input(&lee[i], (uint8_t *)(udp + 1),
				rte_be_to_cpu_16(udp->dgram_len) - sizeof(*udp), deliver, got[i],
				ack, sizeof(ack), &ack_len);
			if (ack_len > 0)
				peer_send(i, ack, ack_len);
		}
		rte_pktmbuf_free(m);
	}
	return n;
}

static bool all_done(void)
{
	for (unsigned i = 0; i < PEERS; i++)
		if (!ppspp_leecher_done(&lee[i]))
			return false;
	return true;
}

int main(void)
{
	struct dp_worker *w;
	uint8_t buf[2048];
	uint64_t last = 0, t0;
	int n, rc;

	rc = ring_rig_init(&rig, "sptxbp", TX_RING);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < sizeof(content); i++)
		content[i] = (uint8_t)(i * 13 + (i >> 10));
	if (ring_rig_swarm(&rig, content, sizeof(content), CHUNK, true) != 0 ||
		ring_rig_start(&rig) != 0)
		return 1;
	w = rig.w;

	for (unsigned i = 0; i < PEERS; i++) {
		CHECK(ppspp_leecher_init(&lee[i], &rig.eng, HASH_SHA256, CHUNK, sizeof(content),
			      rig.ctl.swarms.slot[0].store.m.swarm_id, 0x100 + i,
			      PPSPP_CAM_CHUNK32) == 0);
		n = ppspp_leecher_handshake(&lee[i], buf, sizeof(buf));
		peer_send(i, buf, (size_t)n);
	}
	t0 = last = ring_rig_now_us();
	while (!all_done() && ring_rig_now_us() - t0 < 60 * 1000000ull) {
		if (peer_receive() > 0)
			last = ring_rig_now_us();
		for (unsigned i = 0; i < PEERS; i++)
			if (lee[i].peer_id != 0 && lee[i].n_inflight <= WINDOW / 2 &&
				!ppspp_leecher_done(&lee[i])) {
				n = ppspp_leecher_requests(&lee[i], buf, sizeof(buf), WINDOW);
				if (n > 0)
					peer_send(i, buf, (size_t)n);
			}
		if (ring_rig_now_us() - last > 1000000) {
			/* Nothing for 1 s: a datagram was lost. Ask again so the run still ends. */
			timeouts++;
			for (unsigned i = 0; i < PEERS; i++) {
				ppspp_leecher_timeout(&lee[i]);
				if (lee[i].peer_id == 0) {
					n = ppspp_leecher_handshake(&lee[i], buf, sizeof(buf));
					peer_send(i, buf, (size_t)n);
				}
			}
			last = ring_rig_now_us();
		}
		usleep(20); /* a slow consumer: the worker outpaces the port */
	}
	usleep(50000);
	while (peer_receive() > 0)
		;
	ring_rig_stop(&rig);

	for (unsigned i = 0; i < PEERS; i++) {
		CHECKF(ppspp_leecher_done(&lee[i]), "peer %u stopped at %llu of %u chunks", i,
			(unsigned long long)lee[i].n_have, N_CHUNKS);
		CHECKF(memcmp(got[i], content, sizeof(content)) == 0, "peer %u: content differs",
			i);
		CHECK(lee[i].counts[LEECHER_R_BAD_CHUNK] == 0 &&
			lee[i].counts[LEECHER_R_MALFORMED] == 0);
	}
	CHECKF(timeouts == 0, "%llu timeouts: datagrams were lost", (unsigned long long)timeouts);
	for (unsigned k = 0; k < DP_DROP_COUNT; k++)
		CHECKF(w->drops[k] == 0, "drop %s: %llu", dp_drop_names[k],
			(unsigned long long)w->drops[k]);
	/* Counted whichever path sent them (resumed output included), each chunk once. */
	CHECKF(w->chunks_sent == (uint64_t)PEERS * N_CHUNKS, "chunks_sent %llu",
		(unsigned long long)w->chunks_sent);
	CHECKF(w->tx_held > 0, "the worker never held output back: the test did not fill the port");
	printf("%u peers x %u chunks through a %u-frame tx ring: %llu chunks sent, output held "
	       "%llu times, %llu timeouts\n",
		PEERS, N_CHUNKS, TX_RING - 1, (unsigned long long)w->chunks_sent,
		(unsigned long long)w->tx_held, (unsigned long long)timeouts);

	for (unsigned i = 0; i < PEERS; i++)
		ppspp_leecher_fini(&lee[i]);
	ring_rig_fini(&rig);
	return check_exit();
}
