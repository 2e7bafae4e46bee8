/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The key ring's events and the commands no tool test reaches, against a running data plane
 * in one process on net_ring (ring_rig.h), control's side through the producer library:
 *
 *   test thread: the peer (ESP in UDP frames) and control (commands, the event consumer)
 *        | rx ring -> [ worker: dp_worker_loop on lcore 1 ] -> tx ring |
 *   drainer thread: dp_ctl_poll (the key ring's consumer, as the main lcore is)
 *
 * Numbered:
 *  1. the first event is KR_EV_RESYNC with the ring's epoch; KR_RESYNC_DONE is applied
 *  2. packet lifetimes through the engine: an inbound SA with soft 2 / hard 4 packets reports
 *     KR_EV_SA_SOFT after the 2nd packet, KR_EV_SA_HARD after the 4th, refuses the 5th
 *     (hard_expired)
 *  3. time lifetimes: an outbound SA with soft 1 s / hard 2 s reports both, in that order
 *  4. per-peer alarms: a packet under the wrong key (KR_ALARM_ICV), one replayed and one
 *     older than the window (KR_ALARM_REPLAY, counting both)
 *  5. KR_SA_FLUSH: every SA gone (list empty), a packet under a flushed SPI refused (bad_spi)
 *  6. KR_EV_STATS every second: the counters the worker has, SAs and swarms now
 * Events are waited for with a bound (10 s each); no timing is asserted.
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
#include "ring_rig.h"

enum { CHUNK = 1024, N_CHUNKS = 64, PEER_PORT = 40000, WAIT_MS = 10000 };

static const char key_in[] = "0x00112233445566778899aabbccddeeff01020304";
static const char key_bad[] = "0xffeeddccbbaa99887766554433221100f0e0d0c0";
static const char key_out[] = "0xa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3";

static uint8_t content[CHUNK * N_CHUNKS];
static struct ring_rig rig;
static struct keyring kr;    /* control's side */
static struct kr_stats last; /* the newest KR_EV_STATS seen */
static unsigned n_stats;

static void ms_sleep(unsigned ms)
{
	usleep(ms * 1000u);
}

/* The next event other than KR_EV_STATS (those are kept in `last`); 0 when none came. */
static int next_event(struct kr_msg *m)
{
	for (unsigned t = 0; t < WAIT_MS; t++) {
		if (keyring_event_take(&kr, m) == 1) {
			if (m->type != KR_EV_STATS)
				return 1;
			last = m->u.stats;
			n_stats++;
			t--;
			continue;
		}
		ms_sleep(1);
	}
	return 0;
}

static void mapped(uint8_t *peer16, const uint8_t *ip4)
{
	memset(peer16, 0, 16);
	peer16[10] = peer16[11] = 0xff;
	memcpy(peer16 + 12, ip4, 4);
}

/* `superpeer sa add` with lifetimes. */
static int ctl_sa_add(enum kr_dir dir, uint32_t spi, const char *key,
	const struct kr_lifetime *soft, const struct kr_lifetime *hard)
{
	struct kr_msg m = {.type = KR_SA_ADD, .len = sizeof(struct kr_sa)};
	char arg[128], why[128], err[128];
	uint32_t spi_got;
	int rc;

	snprintf(arg, sizeof(arg), "0x%x:%s", spi, key);
	m.u.sa.id.dir = (uint8_t)dir;
	mapped(m.u.sa.id.peer, ring_rig_peer_ip);
	m.u.sa.flags = KR_SA_F_UDP_ENCAP;
	if (dir == KR_DIR_OUT)
		m.u.sa.id.peer_port = PEER_PORT;
	if (esp_arg_parse(
		    arg, &spi_got, m.u.sa.key, &m.u.sa.key_len, m.u.sa.salt, err, sizeof(err)) != 0)
		abort();
	m.u.sa.id.spi = spi_got;
	if (soft != NULL)
		m.u.sa.soft = *soft;
	if (hard != NULL)
		m.u.sa.hard = *hard;
	rc = keyring_call(&kr, &m, NULL, 0, NULL, why, sizeof(why), 5000);
	if (rc != 0)
		fprintf(stderr, "sa add: %s\n", why);
	return rc;
}

static int ctl_simple(uint16_t type)
{
	struct kr_msg m = {.type = type};
	char why[128];
	int rc = keyring_call(&kr, &m, NULL, 0, NULL, why, sizeof(why), 5000);

	if (rc != 0)
		fprintf(stderr, "command %u: %s\n", type, why);
	return rc;
}

static struct esp_sa *peer_sa(uint32_t spi, const char *key)
{
	struct esp_sa *sa;
	char arg[128], err[128];

	snprintf(arg, sizeof(arg), "0x%x:%s", spi, key);
	if (esp_arg_sa_new(&rig.eng, arg, ESP_SA_OUTBOUND, false, 0, &sa, err, sizeof(err)) != 0) {
		fprintf(stderr, "peer SA %s: %s\n", arg, err);
		abort();
	}
	return sa;
}

/*
 * One ESP in UDP frame from the peer under sa (a PPSPP keep-alive for channel 7 inside: the
 * worker opens it, then refuses the datagram, which no test here looks at), and waits until
 * the worker has read it.
 */
static void peer_send(struct esp_sa *sa)
{
	static const uint8_t dgram[4] = {0, 0, 0, 7};
	uint64_t rx = __atomic_load_n(&rig.w->rx_pkts, __ATOMIC_RELAXED);

	ring_rig_inject(&rig, ring_rig_esp4(&rig, sa, PEER_PORT, dgram, sizeof(dgram)));
	for (unsigned t = 0;
		t < WAIT_MS && __atomic_load_n(&rig.w->rx_pkts, __ATOMIC_RELAXED) == rx; t++)
		ms_sleep(1);
}

/* Whether the worker's counter *p reaches want within 10 s (it counts after rx_pkts). */
static bool reaches(const uint64_t *p, uint64_t want)
{
	for (unsigned t = 0; t < WAIT_MS && __atomic_load_n(p, __ATOMIC_RELAXED) != want; t++)
		ms_sleep(1);
	return __atomic_load_n(p, __ATOMIC_RELAXED) == want;
}

static uint64_t drops_now(const struct dp_worker *w)
{
	uint64_t drops = 0;

	for (unsigned k = 0; k < DP_DROP_COUNT; k++)
		drops += __atomic_load_n(&w->drops[k], __ATOMIC_RELAXED);
	return drops;
}

static void drain_tx(void)
{
	void *objs[64];
	unsigned n;

	while ((n = rte_ring_dequeue_burst(rig.tx, objs, 64, NULL)) > 0)
		rte_pktmbuf_free_bulk((struct rte_mbuf **)objs, n);
}

static bool is_sa(const struct kr_msg *m, uint16_t type, enum kr_dir dir, uint32_t spi)
{
	return m->type == type && m->u.sa_id.dir == dir && m->u.sa_id.spi == spi;
}

int main(void)
{
	const struct kr_lifetime pk_soft = {.packets = 2}, pk_hard = {.packets = 4};
	const struct kr_lifetime s_soft = {.seconds = 1}, s_hard = {.seconds = 2};
	struct esp_sa *p1, *p3, *p3_bad;
	uint8_t peer16[16];
	struct kr_msg m;
	char err[256];
	struct dp_worker *w;
	int rc;

	rc = ring_rig_init(&rig, "spkev", 1024);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < sizeof(content); i++)
		content[i] = (uint8_t)(i * 13 + (i >> 10));
	if (ring_rig_swarm(&rig, content, sizeof(content), CHUNK, false) != 0)
		return 1;
	rig.ctl.stats_interval_s = 1;
	if (ring_rig_start(&rig) != 0)
		return 1;
	w = rig.w;
	dp_ctl_started(&rig.ctl);
	ring_rig_drainer_start(&rig);
	CHECK(keyring_open(&kr, rig.name, err, sizeof(err)) == 0);
	CHECK(keyring_event_consumer(&kr) == 0);
	mapped(peer16, ring_rig_peer_ip);

	printf("case 1: KR_EV_RESYNC first, with the ring's epoch; KR_RESYNC_DONE applied\n");
	CHECK(next_event(&m) == 1 && m.type == KR_EV_RESYNC);
	CHECK(memcmp(m.u.raw, &kr.h->epoch, sizeof(kr.h->epoch)) == 0);
	CHECK(!rig.ctl.resynced);
	CHECK(ctl_simple(KR_RESYNC_DONE) == 0);
	CHECK(rig.ctl.resynced);

	printf("case 2: soft 2 / hard 4 packets on an inbound SA, through the worker\n");
	CHECK(ctl_sa_add(KR_DIR_IN, 0x1001, key_in, &pk_soft, &pk_hard) == 0);
	p1 = peer_sa(0x1001, key_in);
	peer_send(p1);
	peer_send(p1);
	CHECK(next_event(&m) == 1 && is_sa(&m, KR_EV_SA_SOFT, KR_DIR_IN, 0x1001));
	CHECK(memcmp(m.u.sa_id.peer, peer16, 16) == 0);
	peer_send(p1);
	peer_send(p1);
	CHECK(next_event(&m) == 1 && is_sa(&m, KR_EV_SA_HARD, KR_DIR_IN, 0x1001));
	CHECK(w->esp_drops[ESP_DROP_HARD_EXPIRED] == 0);
	peer_send(p1);
	CHECK(reaches(&w->esp_drops[ESP_DROP_HARD_EXPIRED], 1));

	printf("case 3: soft 1 s / hard 2 s on an outbound SA\n");
	CHECK(ctl_sa_add(KR_DIR_OUT, 0x2002, key_out, &s_soft, &s_hard) == 0);
	CHECK(next_event(&m) == 1 && is_sa(&m, KR_EV_SA_SOFT, KR_DIR_OUT, 0x2002));
	CHECK(m.u.sa_id.peer_port == PEER_PORT);
	CHECK(next_event(&m) == 1 && is_sa(&m, KR_EV_SA_HARD, KR_DIR_OUT, 0x2002));

	printf("case 4: alarms: a wrong key (ICV), a replay and a far-old sequence number\n");
	CHECK(ctl_sa_add(KR_DIR_IN, 0x1003, key_in, NULL, NULL) == 0);
	p3 = peer_sa(0x1003, key_in);
	p3_bad = peer_sa(0x1003, key_bad);
	peer_send(p3_bad);
	CHECK(next_event(&m) == 1 && m.type == KR_EV_PEER_ALARM);
	CHECK(m.u.alarm.reason == KR_ALARM_ICV && m.u.alarm.spi == 0x1003 && m.u.alarm.count == 1 &&
		memcmp(m.u.alarm.peer, peer16, 16) == 0);
	p3->seq = 9999; /* the next is 10000 */
	peer_send(p3);
	p3->seq = 9999; /* 10000 again */
	peer_send(p3);
	p3->seq = 10; /* 11: far below the 4096-packet window's bottom */
	peer_send(p3);
	CHECK(reaches(&w->esp_drops[ESP_DROP_REPLAY], 1));
	CHECK(reaches(&w->esp_drops[ESP_DROP_TOO_OLD], 1));
	/* One alarm or two, as the once-a-second scan saw them: the last counts both. */
	CHECK(next_event(&m) == 1 && m.type == KR_EV_PEER_ALARM);
	CHECK(m.u.alarm.reason == KR_ALARM_REPLAY && m.u.alarm.spi == 0x1003);
	if (m.u.alarm.count == 1)
		CHECK(next_event(&m) == 1 && m.type == KR_EV_PEER_ALARM &&
			m.u.alarm.reason == KR_ALARM_REPLAY);
	CHECK(m.u.alarm.count == 2);

	printf("case 5: KR_SA_FLUSH: every SA gone, a packet under a flushed SPI refused\n");
	CHECK(rig.ctl.sas.n == 3);
	CHECK(ctl_simple(KR_SA_FLUSH) == 0);
	CHECK(rig.ctl.sas.n == 0);
	{
		struct kr_msg l = {.type = KR_SA_LIST, .len = sizeof(struct kr_list_req)};
		struct kr_list_reply r;
		uint8_t reply[256];
		size_t reply_len = 0;
		char why[128];

		l.u.list.max = 16;
		CHECK(keyring_call(&kr, &l, reply, sizeof(reply), &reply_len, why, sizeof(why),
			      5000) == 0);
		CHECK(reply_len >= sizeof(r));
		memcpy(&r, reply, sizeof(r));
		CHECK(r.count == 0 && r.total == 0);
	}
	peer_send(p3);
	CHECK(reaches(&w->esp_drops[ESP_DROP_BAD_SPI], 1));

	printf("case 6: KR_EV_STATS every second: the worker's counters, SAs and swarms now\n");
	{
		unsigned seen = n_stats;

		/* Up to 10 s for one posted after the last packet was counted everywhere (its
		 * drop comes after rx_pkts) and after the flush. */
		for (unsigned t = 0; t < WAIT_MS; t++) {
			if (keyring_event_take(&kr, &m) == 1) {
				CHECK(m.type == KR_EV_STATS); /* nothing else is due */
				last = m.u.stats;
				n_stats++;
				if (last.rx_packets == w->rx_pkts && last.sas == 0 &&
					last.drops == drops_now(w))
					break;
			}
			ms_sleep(1);
		}
		CHECK(n_stats > seen);
	}
	printf("stats: uptime %llu s, rx %llu, drops %llu, busy %u permille, %u stats events\n",
		(unsigned long long)last.uptime_s, (unsigned long long)last.rx_packets,
		(unsigned long long)last.drops, last.busy_permille, n_stats);
	CHECK(last.rx_packets == 10 && last.rx_packets == w->rx_pkts); /* 5 + 4 + 1 sent */
	CHECK(last.rx_bytes == w->rx_bytes && last.tx_packets == w->tx_pkts);
	CHECK(last.sas == 0 && last.swarms == 1 && last.workers == 1 && last.interval_s == 1);
	CHECK(last.uptime_s >= 1 && last.busy_permille <= 1000);
	/* 5 ESP refusals, and the keep-alives the channels refused. */
	CHECK(last.drops == drops_now(w) && last.drops >= 5);
	CHECK(last.chunks_sent == 0 && last.chunks_ingested == 0 && last.bad_chunks == 0);
	CHECK(kr.h->events_lost == 0);

	drain_tx();
	keyring_close(&kr);
	ring_rig_drainer_stop(&rig);
	ring_rig_stop(&rig);
	esp_arg_sa_free(p1);
	esp_arg_sa_free(p3);
	esp_arg_sa_free(p3_bad);
	ring_rig_fini(&rig);
	return check_exit();
}
