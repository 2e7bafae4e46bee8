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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_ip.h>

#include "check.h"
#include "esp_arg.h"
#include "ppspp_leecher.h"
#include "ring_rig.h"

enum { CHUNK = 1024, N_CHUNKS = 2048, WINDOW = 128 };

static uint8_t content[CHUNK * N_CHUNKS];
static struct ring_rig rig;
static struct keyring kr; /* the peer's control side */

enum { PEER_PORT = 40000 };

/* The peer's SAs: its outbound (to the data plane's inbound), its inbound (up to two). */
static struct esp_sa *p_out, *p_in[2];
static uint64_t p_open_fail, p_opened, p_sent;

static struct esp_sa *peer_sa(const char *arg, enum esp_sa_dir dir)
{
	struct esp_sa *sa;
	char err[128];

	if (esp_arg_sa_new(&rig.eng, arg, dir, false, 0, &sa, err, sizeof(err)) != 0) {
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
	memcpy(m.u.sa.id.peer + 12, ring_rig_peer_ip, 4);
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
	ring_rig_inject(&rig, ring_rig_esp4(&rig, sa, PEER_PORT, dgram, len));
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
	unsigned n = rte_ring_dequeue_burst(rig.tx, objs, 64, NULL), k;

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
		if (esp_open_burst(&rig.eng, &o, 1, 0) != 1) {
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

int main(void)
{
	char err[256];
	static uint8_t got[sizeof(content)];
	struct ppspp_leecher l;
	struct dp_worker *w;
	uint8_t buf[2048];
	uint64_t last = 0, timeouts = 0, t0;
	int n, rc, phase = 0;

	rc = ring_rig_init(&rig, "sprep", 16384);
	if (rc != 0)
		return rc;
	/* A protected swarm built in memory (no store on disk needed here). */
	for (size_t i = 0; i < sizeof(content); i++)
		content[i] = (uint8_t)(i * 7 + (i >> 10));
	if (ring_rig_swarm(&rig, content, sizeof(content), CHUNK, false) != 0 ||
		ring_rig_start(&rig) != 0)
		return 1;
	w = rig.w;
	ring_rig_drainer_start(&rig);
	CHECK(keyring_open(&kr, rig.name, err, sizeof(err)) == 0);

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

	CHECK(ppspp_leecher_init(&l, &rig.eng, HASH_SHA256, CHUNK, sizeof(content),
		      rig.ctl.swarms.slot[0].store.m.swarm_id, 0x77, PPSPP_CAM_CHUNK32) == 0);
	n = ppspp_leecher_handshake(&l, buf, sizeof(buf));
	peer_send(p_out, buf, (size_t)n);
	t0 = last = ring_rig_now_us();
	while (!ppspp_leecher_done(&l) && ring_rig_now_us() - t0 < 60 * 1000000ull) {
		if (peer_receive(&l, got) > 0)
			last = ring_rig_now_us();
		if (l.peer_id != 0 && l.n_inflight <= WINDOW / 2) {
			n = ppspp_leecher_requests(&l, buf, sizeof(buf), WINDOW);
			if (n > 0)
				peer_send(p_out, buf, (size_t)n);
		}
		if (ring_rig_now_us() - last > 500000) {
			/* Nothing for 0.5 s: something was lost. */
			timeouts++;
			ppspp_leecher_timeout(&l);
			if (l.peer_id == 0) {
				n = ppspp_leecher_handshake(&l, buf, sizeof(buf));
				peer_send(p_out, buf, (size_t)n);
			}
			last = ring_rig_now_us();
		}
		if (phase == 0 && l.n_have >= N_CHUNKS / 4) {
			struct esp_sa *old = p_out;
			uint8_t stale[32] = {0};

			/* 1: make-before-break: add, move, wait for in-flight packets, delete. */
			CHECK(ctl_sa(KR_DIR_IN, "0x1003:0x102132435465768798a9bacbdcedfe0f11121314",
				      false) == 0);
			p_out = peer_sa("0x1003:0x102132435465768798a9bacbdcedfe0f11121314",
				ESP_SA_OUTBOUND);
			while (rte_ring_count(rig.rx) > 0)
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
	ring_rig_stop(&rig);
	ring_rig_drainer_stop(&rig);

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
	CHECK(rig.ctl.sas.n == 2);
	for (unsigned i = 0; i < rig.ctl.sas.n; i++)
		CHECK(rig.ctl.sas.all[i]->id.spi ==
			(rig.ctl.sas.all[i]->id.dir == KR_DIR_IN ? 0x1003u : 0x2004u));
	printf("%llu packets sent, %llu opened, %llu chunks sent by the worker\n",
		(unsigned long long)p_sent, (unsigned long long)p_opened,
		(unsigned long long)w->chunks_sent);

	keyring_close(&kr);
	ppspp_leecher_fini(&l);
	esp_arg_sa_free(p_out);
	esp_arg_sa_free(p_in[0]);
	esp_arg_sa_free(p_in[1]);
	ring_rig_fini(&rig);
	return check_exit();
}
