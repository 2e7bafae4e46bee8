/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rig of the in-process net_ring tests: one data plane worker on lcore 1 behind a port
 * made of two rte_rings, the test thread on lcore 0 playing the peers.
 *
 *   test thread --frames--> rx ring -> [ worker: dp_worker_loop ] -> tx ring --> test thread
 *
 * The data plane is 10.0.0.1 (UDP 6778 plain, 4500 ESP in UDP); every peer is 10.0.0.2 with
 * MAC 02:00:00:00:00:02, told apart by UDP port.
 */
#ifndef SUPERPEER_TESTS_RING_RIG_H
#define SUPERPEER_TESTS_RING_RIG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dp.h"
#include "dp_ctl.h"

struct ring_rig {
	struct rte_mempool *pool;
	struct rte_ring *rx, *tx;
	struct dp_config cfg;
	struct dp_ctl ctl;
	struct dp_worker *w, *ws[1];
	struct crypto_engine eng; /* the peers' engine (lcore 0) */
	char name[64];		  /* EAL file prefix and key ring name */
	pthread_t drainer;
	volatile int drainer_stop;
};

extern const uint8_t ring_rig_peer_ip[4], ring_rig_dp_ip[4];

/*
 * EAL on lcores 0-1 without hugepages under a file prefix of tag and the pid, an mbuf pool,
 * the port (a tx ring of tx_slots slots: tx_slots - 1 frames), the data plane's config and
 * key ring. 0, 77 when the machine has fewer than 2 cores, 1 on any other failure (said).
 */
int ring_rig_init(struct ring_rig *r, const char *tag, unsigned tx_slots);
/* Swarm slot 0 serving len bytes of content from memory, SHA-256 tree; open: plain PPSPP. */
int ring_rig_swarm(
	struct ring_rig *r, const uint8_t *content, size_t len, uint32_t chunk, bool open);
/* The worker, launched on lcore 1. 0 or 1. */
int ring_rig_start(struct ring_rig *r);
/* Stops the worker and waits for it. */
void ring_rig_stop(struct ring_rig *r);
void ring_rig_fini(struct ring_rig *r);

/*
 * Writes Ethernet, IPv4 and UDP headers (sport -> dport, l4 payload of len bytes) from the
 * peer to the data plane at the start of m and sets its length. Returns the UDP payload.
 */
uint8_t *ring_rig_udp4(
	struct ring_rig *r, struct rte_mbuf *m, uint16_t sport, uint16_t dport, size_t len);
/* The same to a data plane whose MAC is dp_mac (a test with a port of its own). */
uint8_t *ring_rig_udp4_to(const struct rte_ether_addr *dp_mac, struct rte_mbuf *m, uint16_t sport,
	uint16_t dport, size_t len);
/*
 * A frame from the peer: ESP in UDP (sport -> the data plane's esp_port) sealed under sa,
 * holding the UDP datagram sport -> udp_port of payload dgram (len bytes). Not injected.
 */
struct rte_mbuf *ring_rig_esp4(
	struct ring_rig *r, struct esp_sa *sa, uint16_t sport, const void *dgram, size_t len);
/* A thread that drains the key ring (dp_ctl_poll every 200 us), as the main lcore does. */
void ring_rig_drainer_start(struct ring_rig *r);
void ring_rig_drainer_stop(struct ring_rig *r);
/* Hands m to the data plane (waits while the rx ring is full). */
void ring_rig_inject(struct ring_rig *r, struct rte_mbuf *m);
uint64_t ring_rig_now_us(void);

#endif
