/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * superpeer-loadgen: the DPDK load generator of the system benchmark (bench/system.sh).
 * EAL arguments, `--`, then its own options. On DPDK port 0 (net_memif, or any PMD facing
 * superpeer-dataplane), N peers leech one swarm over PPSPP, plain or through ESP in UDP,
 * on one lcore and queue or on several (--queues); loadgen.h describes a peer and what is
 * (not) checked. Once a second and at the end it prints packets/s, chunks/s and Gbit/s of
 * chunk payload received, the peers being served, drops, and the share of its own lcore's
 * time spent on packets (how close the loadgen itself is to being the bottleneck).
 *
 * --seed DIR turns it around: one peer (the first address and port) serves the packed store
 * in DIR to the data plane's ingest and times each complete ingest (loadgen_seed.c).
 *
 * Two modes measure the I/O path alone: --flood BYTES sends frames as fast as the port takes
 * them and counts what comes back (dpdk-testpmd in io mode, or a loadgen in --reflect mode,
 * on the other end); --reflect sends every frame back as it came.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "esp_arg.h"
#include "loadgen.h"
#include "manifest.h"

enum {
	LG_RX_MBUFS = 8191,
	LG_TX_MBUFS = 8191,
	LG_JUMBO = 9216,	/* an 8 KiB chunk through ESP in one segment */
	LG_MAX_PEERS = 1 << 20, /* 100,000 channels held, and more */
};

static volatile bool lg_stop;
static volatile sig_atomic_t lg_signals;

static void lg_on_signal(int sig)
{
	(void)sig;
	lg_stop = true;
	lg_signals++;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: superpeer-loadgen EAL-ARGS -- --target A.B.C.D [--target-mac MAC]\n"
		"           (--swarm HEX --chunk-size N | --manifest FILE) [--ip A.B.C.D]\n"
		"           [--peers N] [--peer-port N] [--udp-port N] [--esp-port N]\n"
		"           [--window CHUNKS] [--seconds S] [--warmup S] [--linger S]\n"
		"           [--link-wait S] [--hold CHUNKS] [--queues Q] [--go-file FILE]\n"
		"           [--sa-out SPI:0xKEYSALT --sa-in SPI:0xKEYSALT [--esn]\n"
		"            [--sa-per-peer]]\n"
		"       superpeer-loadgen EAL-ARGS -- --target A.B.C.D --seed DIR --public FILE\n"
		"           [--seeds N] [--ip A.B.C.D] [--peer-port N] [--seconds S] [--mtu N]\n"
		"           [--sa-out .. --sa-in ..]\n"
		"       superpeer-loadgen EAL-ARGS -- --flood BYTES [--seconds S]\n"
		"       superpeer-loadgen EAL-ARGS -- --reflect [--seconds S]\n\n"
		"Plays --peers simulated PPSPP peers (default 16) leeching the swarm --swarm\n"
		"(its ID in hex: 20 bytes SHA-1, 32 bytes SHA-256) from superpeer-dataplane\n"
		"at --target on DPDK port 0, one lcore. Peer i has address --ip + i (default\n"
		"10.1.0.1) and UDP port --peer-port + i (default 20000; past 65535 the ports\n"
		"start again at --peer-port, up to 1048576 peers). The target's MAC is\n"
		"learnt by ARP unless given. --sa-out/--sa-in: ESP in UDP to --esp-port\n"
		"(default 4500) under one SA pair, keys as `ip xfrm` writes them (the data\n"
		"plane's --sa-in is our --sa-out). Plain PPSPP goes to --udp-port (default\n"
		"6778). --window: chunks each peer keeps asked for (default 256). Prints a\n"
		"line a second and a summary of the --seconds (default 10) after the first\n"
		"--warmup (default 1) seconds: chunks/s, Gbit/s of chunk payload, packets/s,\n"
		"peers served, drops, chunks lost, and the loadgen's own busy share.\n"
		"--seed DIR --public FILE: one peer (--ip, --peer-port) serves the packed store "
		"in\n"
		"DIR (its manifest signed by the key in FILE) to the data plane's ingest and\n"
		"prints each complete ingest (first REQUEST to last ACK) and their total.\n"
		"--seeds N (1-4, default 1): the first N peers serve it, each a source of\n"
		"the same ingest (`superpeer swarm ingest --from` once per peer); a run is\n"
		"complete when every chunk was acknowledged on some channel. --mtu N\n"
		"(1280-9000, default 1500, as the data plane's): the largest IP packet a seeder\n"
		"sends; the data plane drops a frame longer than its own --mtu allows.\n"
		"--flood BYTES: frames of BYTES as fast as the port takes them, counting what\n"
		"comes back; --reflect: every frame sent back as it came (io forwarding).\n"
		"--linger S (any mode): after the run, stop polling and keep the port open\n"
		"until the other side leaves (link down), a second signal, or S seconds: stop\n"
		"the data plane first (a memif peer leaving mid-poll can crash DPDK 22.11).\n"
		"--link-wait S (any mode): how long the link may take to come up (default 5).\n"
		"--go-file FILE: once the link is up and the target answers ARP, wait (as long\n"
		"as --link-wait) for FILE to exist before the run starts (a script makes it when\n"
		"the data plane has its SAs).\n"
		"--sa-per-peer: peer i has its own SA pair, the SPIs of --sa-out and --sa-in\n"
		"plus i (same keys), as the data plane's SAs for that peer must be:\n"
		"`superpeer sa add in spi OUT+i peer IP+i encap ...` and\n"
		"`superpeer sa add out spi IN+i peer IP+i encap PORT+i ...`.\n"
		"--queues Q (1-16, default 1): Q loops on the first Q lcores, each with its own\n"
		"RX/TX queue of port 0 and its block of consecutive peers, so each peer is always\n"
		"on one queue (a data plane worker per queue; ESP needs --sa-per-peer). A line\n"
		"per queue before the summary; its busy share is the busiest loop's.\n"
		"--hold CHUNKS: each peer asks for the swarm's first CHUNKS, then keeps its\n"
		"channel open and idle, a keep-alive every 2 s (the data plane's channels held\n"
		"at once); the summary says how many peers hold an open channel.\n");
}

/* ---- setup ------------------------------------------------------------------------------- */

static int lg_port_init(struct lg *gs, unsigned nq)
{
	struct rte_eth_conf conf = {0};
	struct lg *g = &gs[0];
	int sock = rte_eth_dev_socket_id(g->port_id);

	if (rte_eth_dev_configure(g->port_id, (uint16_t)nq, (uint16_t)nq, &conf) != 0)
		return -EIO;
	/* One pair of pools per queue: each loop allocates and frees only its own. */
	for (unsigned q = 0; q < nq; q++) {
		char rx[RTE_MEMPOOL_NAMESIZE], tx[RTE_MEMPOOL_NAMESIZE];

		snprintf(rx, sizeof(rx), "lg_rx%u", q);
		snprintf(tx, sizeof(tx), "lg_tx%u", q);
		gs[q].rx_pool = rte_pktmbuf_pool_create(rx, LG_RX_MBUFS, 256, 0,
			RTE_PKTMBUF_HEADROOM + LG_JUMBO, (int)rte_socket_id());
		/* A seeder's datagrams carry whole chunks (8 KiB and more): jumbo buffers then. */
		gs[q].tx_pool = rte_pktmbuf_pool_create(tx, LG_TX_MBUFS, 256, 0,
			g->store != NULL ? RTE_PKTMBUF_HEADROOM + LG_JUMBO
					 : RTE_MBUF_DEFAULT_BUF_SIZE,
			(int)rte_socket_id());
		if (gs[q].rx_pool == NULL || gs[q].tx_pool == NULL)
			return -ENOMEM;
		if (rte_eth_rx_queue_setup(g->port_id, (uint16_t)q, 1024, (unsigned)sock, NULL,
			    gs[q].rx_pool) != 0 ||
			rte_eth_tx_queue_setup(
				g->port_id, (uint16_t)q, 1024, (unsigned)sock, NULL) != 0)
			return -EIO;
	}
	if (rte_eth_dev_start(g->port_id) != 0 || rte_eth_macaddr_get(g->port_id, &g->mac) != 0)
		return -EIO;
	return 0;
}

/*
 * A memif link comes up once the other side has connected: up to --link-wait s. The line on
 * stderr tells a script that the port is open (a memif server listens from here on, on an
 * abstract socket it cannot see in the file system).
 */
static bool lg_link_wait(struct lg *g)
{
	struct rte_eth_link link;

	fprintf(stderr, "superpeer-loadgen: port open, waiting up to %u s for the link\n",
		g->link_wait_s);
	for (uint64_t i = 0; i < (uint64_t)g->link_wait_s * 100 && !lg_stop; i++) {
		if (rte_eth_link_get_nowait(g->port_id, &link) == 0 && link.link_status)
			return true;
		rte_delay_ms(10);
	}
	return false;
}

/*
 * --linger: after the run, no more polling, the port kept open until the other side has gone
 * (link down), a second signal, or S seconds. DPDK 22.11's memif PMD unmaps a departing
 * peer's shared memory from its interrupt thread while the local lcore may be inside an rx or
 * tx burst on it (a SIGSEGV in librte_net_memif, seen in the data plane twice): whichever
 * side leaves first must leave a peer that has stopped polling.
 */
static void lg_linger(struct lg *g, unsigned seconds)
{
	struct rte_eth_link link;
	sig_atomic_t signals = lg_signals;

	fflush(stdout);
	for (unsigned i = 0; i < seconds * 100 && lg_signals == signals; i++) {
		if (rte_eth_link_get_nowait(g->port_id, &link) == 0 && !link.link_status) {
			/*
			 * The link goes down as the interrupt thread starts taking the connection
			 * apart; closing the port while it still does crashed that thread (2 of
			 * 12 exits in bench/system.sh). It is done within microseconds: wait.
			 */
			rte_delay_ms(200);
			return;
		}
		rte_delay_ms(10);
	}
}

/* ARP for the target from the first peer's address until it answers (3 s). */
static int lg_resolve(struct lg *g)
{
	uint64_t end = rte_rdtsc() + 3 * g->tsc_hz, next = 0;
	uint32_t sip = rte_cpu_to_be_32(g->base_ip);

	while (rte_rdtsc() < end && !lg_stop) {
		struct rte_mbuf *pkts[LG_BURST];
		uint16_t n;

		if (rte_rdtsc() > next) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(g->tx_pool);
			struct rte_ether_hdr *eth;
			struct rte_arp_hdr *a;

			if (m == NULL)
				return -ENOMEM;
			eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
			a = (struct rte_arp_hdr *)(eth + 1);
			memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
			eth->src_addr = g->mac;
			eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
			memset(a, 0, sizeof(*a));
			a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
			a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
			a->arp_hlen = RTE_ETHER_ADDR_LEN;
			a->arp_plen = 4;
			a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
			a->arp_data.arp_sha = g->mac;
			a->arp_data.arp_sip = sip;
			a->arp_data.arp_tip = g->dst_ip;
			m->data_len = m->pkt_len = (uint32_t)(sizeof(*eth) + sizeof(*a));
			lg_tx_queue(g, m);
			lg_flush(g);
			next = rte_rdtsc() + g->tsc_hz / 10;
		}
		n = rte_eth_rx_burst(g->port_id, 0, pkts, LG_BURST);
		for (uint16_t i = 0; i < n; i++) {
			struct rte_ether_hdr *eth =
				rte_pktmbuf_mtod(pkts[i], struct rte_ether_hdr *);
			struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);

			if (rte_pktmbuf_data_len(pkts[i]) >= sizeof(*eth) + sizeof(*a) &&
				eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP) &&
				a->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REPLY) &&
				a->arp_data.arp_sip == g->dst_ip) {
				g->dst_mac = a->arp_data.arp_sha;
				rte_pktmbuf_free_bulk(pkts, n);
				return 0;
			}
		}
		rte_pktmbuf_free_bulk(pkts, n);
	}
	return -ETIMEDOUT;
}

/*
 * Quiet before leaving: nothing more is acknowledged or asked for, and what the data plane
 * still sends is taken and dropped until 50 ms pass without a frame (1 s at most). The memif
 * PMD of DPDK 22.11 can crash the server when the client disconnects while the server is
 * transmitting (seen here: a segfault in librte_net_memif of superpeer-dataplane).
 */
static void lg_drain(struct lg *g)
{
	uint64_t t0 = rte_rdtsc(), last = t0;

	for (uint64_t now = t0; now - last < g->tsc_hz / 20 && now - t0 < g->tsc_hz;
		now = rte_rdtsc()) {
		struct rte_mbuf *pkts[LG_BURST];
		uint16_t n = rte_eth_rx_burst(g->port_id, g->queue, pkts, LG_BURST);

		if (n > 0) {
			rte_pktmbuf_free_bulk(pkts, n);
			last = now;
		}
	}
	/* Frames never handed to the port. */
	rte_pktmbuf_free_bulk(g->tx, g->n_tx);
	g->n_tx = 0;
	for (unsigned i = 0; i < g->n_seal; i++)
		rte_pktmbuf_free(g->seal_meta[i].m);
	g->n_seal = 0;
}

/* ---- the I/O-only modes ------------------------------------------------------------------ */

/* --flood: frames out as fast as the port takes them, frames back counted. */
static int lg_flood(struct lg *g, uint32_t bytes, unsigned seconds)
{
	uint64_t t0, end, rx = 0, tx = 0;
	uint32_t sip = rte_cpu_to_be_32(g->base_ip);

	if (!lg_link_wait(g)) {
		fprintf(stderr, "superpeer-loadgen: link down\n");
		return 1;
	}
	memset(&g->dst_mac, 0xff, RTE_ETHER_ADDR_LEN);
	t0 = rte_rdtsc();
	end = t0 + seconds * g->tsc_hz;
	while (rte_rdtsc() < end && !lg_stop) {
		struct rte_mbuf *pkts[LG_BURST];
		uint16_t n;

		if (rte_pktmbuf_alloc_bulk(g->rx_pool, pkts, LG_BURST) == 0) {
			for (unsigned i = 0; i < LG_BURST; i++) {
				struct rte_ether_hdr *eth =
					rte_pktmbuf_mtod(pkts[i], struct rte_ether_hdr *);
				struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
				struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);
				uint32_t len = bytes - LG_HDRS;

				/* Headers only: the payload is whatever the mbuf held. */
				eth->dst_addr = g->dst_mac;
				eth->src_addr = g->mac;
				eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
				memset(ip, 0, sizeof(*ip));
				ip->version_ihl = RTE_IPV4_VHL_DEF;
				ip->time_to_live = 64;
				ip->next_proto_id = IPPROTO_UDP;
				ip->src_addr = sip;
				ip->dst_addr = g->dst_ip;
				ip->total_length = rte_cpu_to_be_16((uint16_t)(bytes - 14));
				u->src_port = u->dst_port = rte_cpu_to_be_16(9); /* discard */
				u->dgram_len = rte_cpu_to_be_16((uint16_t)(len + 8));
				u->dgram_cksum = 0;
				pkts[i]->data_len = (uint16_t)bytes;
				pkts[i]->pkt_len = bytes;
			}
			n = rte_eth_tx_burst(g->port_id, 0, pkts, LG_BURST);
			tx += n;
			if (n < LG_BURST)
				rte_pktmbuf_free_bulk(pkts + n, LG_BURST - n);
		}
		n = rte_eth_rx_burst(g->port_id, 0, pkts, LG_BURST);
		rx += n;
		rte_pktmbuf_free_bulk(pkts, n);
	}
	{
		double s = (double)(rte_rdtsc() - t0) / (double)g->tsc_hz;

		lg_drain(g);
		printf("flood %u-byte frames: sent %.3f Mpps, back %.3f Mpps, %.2f Gbit/s back\n",
			bytes, (double)tx / s / 1e6, (double)rx / s / 1e6,
			(double)rx * bytes * 8.0 / s / 1e9);
	}
	return 0;
}

/* --reflect: every frame back as it came (io forwarding), for a flooding loadgen. */
static int lg_reflect(struct lg *g, unsigned seconds)
{
	uint64_t t0, end, fwd = 0;

	if (!lg_link_wait(g)) {
		fprintf(stderr, "superpeer-loadgen: link down\n");
		return 1;
	}
	t0 = rte_rdtsc();
	end = t0 + seconds * g->tsc_hz;
	while (rte_rdtsc() < end && !lg_stop) {
		struct rte_mbuf *pkts[LG_BURST];
		uint16_t n = rte_eth_rx_burst(g->port_id, 0, pkts, LG_BURST), k;

		if (n == 0)
			continue;
		k = rte_eth_tx_burst(g->port_id, 0, pkts, n);
		fwd += k;
		if (k < n)
			rte_pktmbuf_free_bulk(pkts + k, n - k);
	}
	printf("reflect: %.3f Mpps forwarded\n",
		(double)fwd / ((double)(rte_rdtsc() - t0) / (double)g->tsc_hz) / 1e6);
	return 0;
}

/* ---- reports ----------------------------------------------------------------------------- */

static uint64_t lg_drops(const struct lg *g)
{
	uint64_t d = 0;

	/* Frames or datagrams the loadgen could not use or send; chunks lost are apart. */
	for (unsigned k = 0; k < LG_C_COUNT; k++)
		if (k != LG_C_LOST && k != LG_C_REASKS && k != LG_C_STALLS &&
			k != LG_C_HS_RETRIES && k != LG_C_STALE && k != LG_C_TICK_HELD)
			d += g->count[k];
	return d;
}

static void lg_snap_take(const struct lg *g, uint64_t busy, struct lg_snap *s)
{
	struct rte_eth_stats st;

	s->tsc = rte_rdtsc();
	s->busy = busy;
	s->rx = g->rx_pkts;
	s->tx = g->tx_pkts;
	s->chunks = g->chunks;
	s->bytes = g->chunk_bytes;
	s->drops = lg_drops(g);
	s->lost = g->count[LG_C_LOST];
	s->port_missed = 0;
	/* The port's own counts are the port's: the first queue's loop reports them. */
	if (g->queue == 0 && rte_eth_stats_get(g->port_id, &st) == 0)
		s->port_missed = st.imissed + st.rx_nombuf + st.ierrors;
}

/* Peers that received DATA since tsc. */
static uint32_t lg_active(const struct lg *g, uint64_t tsc)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < g->n_peers; i++)
		n += g->peers[i].chunks > 0 && g->peers[i].last_progress_tsc >= tsc;
	return n;
}

/* Busy share of a loop between two snapshots, in percent. */
static double lg_busy(const struct lg_snap *a, const struct lg_snap *b)
{
	return b->tsc > a->tsc ? 100.0 * (double)(b->busy - a->busy) / (double)(b->tsc - a->tsc)
			       : 0;
}

/* Figures between two snapshots: one report line (prefix, then the rates). */
static void lg_report(const struct lg *g, const char *prefix, const struct lg_snap *a,
	const struct lg_snap *b, uint32_t active, uint32_t n_peers, double busy)
{
	double s = (double)(b->tsc - a->tsc) / (double)g->tsc_hz;

	if (s <= 0)
		s = 1e-9;
	printf("%s%.0f chunks/s, %.2f Gbit/s of chunk payload, rx %.3f Mpps, tx %.3f Mpps, "
	       "%u/%u peers served, drops %" PRIu64 ", chunks lost %" PRIu64
	       ", loadgen busy %.0f %%\n",
		prefix, (double)(b->chunks - a->chunks) / s,
		(double)(b->bytes - a->bytes) * 8.0 / s / 1e9, (double)(b->rx - a->rx) / s / 1e6,
		(double)(b->tx - a->tx) / s / 1e6, active, n_peers,
		(b->drops - a->drops) + (b->port_missed - a->port_missed), b->lost - a->lost, busy);
	fflush(stdout);
}

/* ---- the loop ---------------------------------------------------------------------------- */

/* One loop: its queue, its block of peers, --seconds; a line a second (named by queue when
 * there are several). The measured part of the run is left in g->run_start/run_end. */
static void lg_run(struct lg *g, unsigned seconds, unsigned warmup)
{
	uint64_t t0 = rte_rdtsc(), busy = 0, tick_next = t0, report_next = t0 + g->tsc_hz;
	uint64_t end = t0 + (uint64_t)seconds * g->tsc_hz;
	uint64_t measure_at = t0 + (uint64_t)warmup * g->tsc_hz;
	struct lg_snap last, now;
	bool measuring = warmup == 0;
	unsigned sec = 0;
	char prefix[96];

	lg_snap_take(g, 0, &last);
	g->run_start = last;
	g->tick_tsc = t0; /* the timer passes owe visits from now on */
	while (!lg_stop) {
		struct rte_mbuf *pkts[LG_BURST];
		uint16_t n;

		g->now_tsc = rte_rdtsc();
		if (g->now_tsc >= end)
			break;
		g->now_us = g->now_tsc / g->tsc_per_us;
		g->now_s = (g->now_tsc - t0) / g->tsc_hz;
		if (g->now_tsc >= tick_next) {
			lg_tick(g);
			tick_next = g->now_tsc + g->tsc_hz / (100 * LG_TICK_SLICES);
			busy += rte_rdtsc() - g->now_tsc;
		}
		if (!measuring && g->now_tsc >= measure_at) {
			lg_snap_take(g, busy, &g->run_start);
			measuring = true;
		}
		if (g->now_tsc >= report_next) {
			lg_snap_take(g, busy, &now);
			if (g->n_queues > 1)
				snprintf(
					prefix, sizeof(prefix), "queue %u %3us: ", g->queue, ++sec);
			else
				snprintf(prefix, sizeof(prefix), "%3us: ", ++sec);
			lg_report(g, prefix, &last, &now, lg_active(g, last.tsc), g->n_peers,
				lg_busy(&last, &now));
			last = now;
			report_next += g->tsc_hz;
		}
		n = rte_eth_rx_burst(g->port_id, g->queue, pkts, LG_BURST);
		if (n == 0) {
			if (g->n_tx > 0)
				lg_flush(g);
			continue;
		}
		lg_rx_burst(g, pkts, n);
		busy += rte_rdtsc() - g->now_tsc;
	}
	lg_snap_take(g, busy, &g->run_end);
	if (!measuring)
		g->run_start = last;
	lg_drain(g);
}

/* A worker lcore's loop (--queues). */
static int lg_run_lcore(void *arg)
{
	struct lg *g = arg;

	lg_run(g, g->run_seconds, g->run_warmup);
	return 0;
}

/* After every loop has stopped: the counters and the summary, the last line (scripts read
 * it); with several queues, a line per queue before it. */
static void lg_summary(struct lg *gs, unsigned nq)
{
	struct lg *g = &gs[0];
	struct lg_snap a = {0}, b = {0};
	uint64_t count[LG_C_COUNT] = {0}, esp_drops[ESP_DROP_COUNT] = {0}, channels = 0, chunks = 0;
	uint32_t active = 0, n_peers = 0;
	double busy = 0;
	char prefix[96];

	for (unsigned q = 0; q < nq; q++) {
		const struct lg *l = &gs[q];
		uint32_t act = lg_active(l, l->run_end.tsc - l->tsc_hz);
		double b_q = lg_busy(&l->run_start, &l->run_end);

		for (unsigned k = 0; k < LG_C_COUNT; k++)
			count[k] += l->count[k];
		for (unsigned k = 0; k < ESP_DROP_COUNT; k++)
			esp_drops[k] += l->esp_drops[k];
		channels += l->channels;
		chunks += l->chunks;
		active += act;
		n_peers += l->n_peers;
		/* The busiest loop is the one that would limit the run. */
		busy = b_q > busy ? b_q : busy;
		a.rx += l->run_start.rx, b.rx += l->run_end.rx;
		a.tx += l->run_start.tx, b.tx += l->run_end.tx;
		a.chunks += l->run_start.chunks, b.chunks += l->run_end.chunks;
		a.bytes += l->run_start.bytes, b.bytes += l->run_end.bytes;
		a.drops += l->run_start.drops, b.drops += l->run_end.drops;
		a.lost += l->run_start.lost, b.lost += l->run_end.lost;
		a.port_missed += l->run_start.port_missed, b.port_missed += l->run_end.port_missed;
		if (nq > 1 && g->store == NULL && g->hold == 0) {
			snprintf(prefix, sizeof(prefix), "loadgen queue %u: ", q);
			lg_report(l, prefix, &l->run_start, &l->run_end, act, l->n_peers, b_q);
		}
	}
	a.tsc = g->run_start.tsc;
	b.tsc = g->run_end.tsc;
	for (unsigned k = 0; k < LG_C_COUNT; k++)
		if (count[k] != 0)
			printf("loadgen %s: %" PRIu64 "\n", lg_counter_names[k], count[k]);
	for (unsigned k = 1; k < ESP_DROP_COUNT; k++)
		if (esp_drops[k] != 0)
			printf("loadgen esp %s: %" PRIu64 "\n", esp_drop_name(k), esp_drops[k]);
	if (g->store != NULL) {
		double s = (double)g->seed_run_tsc / (double)g->tsc_hz;

		/* The summary is the last line: scripts read it. */
		printf("loadgen: seeding %u-byte chunks, %s", g->chunk_size,
			g->sa_in != NULL ? "ESP" : "plain");
		if (g->n_peers > 1)
			printf(" from %u seeders", g->n_peers);
		printf(": %u ingests complete", g->seed_runs);
		if (g->seed_runs > 0 && s > 0)
			printf(": %.0f chunks/s, %.2f Gbit/s of chunk payload verified",
				(double)g->seed_run_chunks / s,
				(double)g->seed_run_bytes * 8.0 / s / 1e9);
		printf(", loadgen busy %.0f %%\n", busy);
		return;
	}
	printf("loadgen channels opened: %" PRIu64 ", chunks received: %" PRIu64 " in all\n",
		channels, chunks);
	if (g->hold != 0) {
		uint32_t open = 0, done = 0;

		for (unsigned q = 0; q < nq; q++) {
			uint32_t o;

			done += lg_holding(&gs[q], &o);
			open += o;
		}
		printf("loadgen: hold: %u of %u peers have an open channel, %u of them with their "
		       "%" PRIu64 " chunks in\n",
			open, n_peers, done, g->hold);
		return;
	}
	/* The summary is the last line: scripts read it. */
	snprintf(prefix, sizeof(prefix), "loadgen: %u peers, %u-byte chunks, %s: ", n_peers,
		g->chunk_size, g->sa_in != NULL ? "ESP" : "plain");
	lg_report(g, prefix, &a, &b, active, n_peers, busy);
}

/* --go-file: true once the file exists (within seconds), the link up and the target found. */
static bool lg_go_wait(const char *path, unsigned seconds)
{
	for (uint64_t i = 0; i < (uint64_t)seconds * 100 && !lg_stop; i++) {
		if (access(path, F_OK) == 0)
			return true;
		rte_delay_ms(10);
	}
	return false;
}

/* ---- options ----------------------------------------------------------------------------- */

struct lg_opts {
	const char *manifest, *swarm, *sa_out, *sa_in, *target_mac, *seed, *pub, *go_file;
	unsigned seconds, warmup, flood, linger, seeds, queues;
	bool reflect, esn, sa_per_peer;
};

static int lg_number(const char *s, unsigned long lo, unsigned long hi, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 0);
	return errno != 0 || end == s || *end != '\0' || *v < lo || *v > hi ? -1 : 0;
}

static int lg_parse(struct lg *g, struct lg_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{"target", required_argument, NULL, 't'},
		{"target-mac", required_argument, NULL, 'M'},
		{"ip", required_argument, NULL, 'i'},
		{"swarm", required_argument, NULL, 'S'},
		{"chunk-size", required_argument, NULL, 'c'},
		{"manifest", required_argument, NULL, 'm'},
		{"peers", required_argument, NULL, 'p'},
		{"peer-port", required_argument, NULL, 'P'},
		{"window", required_argument, NULL, 'w'},
		{"seconds", required_argument, NULL, 's'},
		{"warmup", required_argument, NULL, 'W'},
		{"linger", required_argument, NULL, 'L'},
		{"link-wait", required_argument, NULL, 'l'},
		{"mtu", required_argument, NULL, 'T'},
		{"hold", required_argument, NULL, 'H'},
		{"udp-port", required_argument, NULL, 'u'},
		{"esp-port", required_argument, NULL, 'e'},
		{"sa-out", required_argument, NULL, 'O'},
		{"sa-in", required_argument, NULL, 'I'},
		{"esn", no_argument, NULL, 'E'},
		{"sa-per-peer", no_argument, NULL, 'A'},
		{"go-file", required_argument, NULL, 'G'},
		{"flood", required_argument, NULL, 'f'},
		{"reflect", no_argument, NULL, 'r'},
		{"seed", required_argument, NULL, 'd'},
		{"public", required_argument, NULL, 'k'},
		{"seeds", required_argument, NULL, 'n'},
		{"queues", required_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct in_addr a;
	unsigned long v;
	int c, idx;

	while ((c = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
		int bad = 0;

		switch (c) {
		case 't':
		case 'i':
			bad = inet_pton(AF_INET, optarg, &a) != 1;
			if (c == 't')
				g->dst_ip = a.s_addr;
			else
				g->base_ip = rte_be_to_cpu_32(a.s_addr);
			break;
		case 'M':
			o->target_mac = optarg;
			bad = rte_ether_unformat_addr(optarg, &g->dst_mac) != 0;
			break;
		case 'S':
			o->swarm = optarg;
			break;
		case 'c':
			bad = lg_number(optarg, 1, 65536, &v);
			g->chunk_size = (uint32_t)v;
			break;
		case 'm':
			o->manifest = optarg;
			break;
		case 'p':
			bad = lg_number(optarg, 1, LG_MAX_PEERS, &v);
			g->n_peers = (uint32_t)v;
			break;
		case 'P':
		case 'u':
		case 'e':
			bad = lg_number(optarg, 1, 65535, &v);
			*(c == 'P'	   ? &g->peer_port
				: c == 'u' ? &g->udp_port
					   : &g->esp_port) = (uint16_t)v;
			break;
		case 'w':
			bad = lg_number(optarg, 2, 1 << 20, &v);
			g->window = (uint32_t)v;
			break;
		case 's':
		case 'W':
		case 'L':
			bad = lg_number(optarg, c == 's' ? 1 : 0, 86400, &v);
			*(c == 's'	   ? &o->seconds
				: c == 'W' ? &o->warmup
					   : &o->linger) = (unsigned)v;
			break;
		case 'l':
			bad = lg_number(optarg, 1, 3600, &v);
			g->link_wait_s = (uint32_t)v;
			break;
		case 'T':
			bad = lg_number(optarg, 1280, 9000, &v);
			g->mtu = (uint32_t)v;
			break;
		case 'H':
			bad = lg_number(optarg, 1, UINT32_MAX, &v);
			g->hold = v;
			break;
		case 'O':
			o->sa_out = optarg;
			break;
		case 'I':
			o->sa_in = optarg;
			break;
		case 'E':
			o->esn = true;
			break;
		case 'A':
			o->sa_per_peer = true;
			break;
		case 'G':
			o->go_file = optarg;
			break;
		case 'f':
			bad = lg_number(optarg, 64, LG_JUMBO, &v);
			o->flood = (unsigned)v;
			break;
		case 'r':
			o->reflect = true;
			break;
		case 'd':
			o->seed = optarg;
			break;
		case 'k':
			o->pub = optarg;
			break;
		case 'n':
			bad = lg_number(optarg, 1, LG_SEEDS_MAX, &v);
			o->seeds = (unsigned)v;
			break;
		case 'q':
			bad = lg_number(optarg, 1, LG_QUEUES_MAX, &v);
			o->queues = (unsigned)v;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
		if (bad) {
			fprintf(stderr, "superpeer-loadgen: --%s '%s': not valid\n", opts[idx].name,
				optarg);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* The swarm from --manifest, or --swarm and --chunk-size. */
static int lg_swarm(struct lg *g, const struct lg_opts *o)
{
	char err[256];
	int n;

	if (o->manifest != NULL) {
		static char text[MANIFEST_MAX_LEN + 1];
		struct manifest m;

		if (manifest_load(o->manifest, &m, text, sizeof(text), err, sizeof(err)) != 0) {
			fprintf(stderr, "superpeer-loadgen: %s\n", err);
			return -EINVAL;
		}
		g->swarm_id_len = (uint8_t)hash_len(m.hash);
		memcpy(g->swarm_id, m.swarm_id, g->swarm_id_len);
		g->chunk_size = m.chunk_size;
		g->n_chunks = (m.content_len + m.chunk_size - 1) / m.chunk_size;
		return 0;
	}
	if (o->swarm == NULL || g->chunk_size == 0) {
		fprintf(stderr, "superpeer-loadgen: --swarm and --chunk-size, or --manifest\n");
		return -EINVAL;
	}
	n = esp_arg_hex(o->swarm, g->swarm_id, sizeof(g->swarm_id));
	if (n != HASH_SHA1_LEN && n != HASH_SHA256_LEN) {
		fprintf(stderr, "superpeer-loadgen: --swarm: 20 or 32 bytes of hex\n");
		return -EINVAL;
	}
	g->swarm_id_len = (uint8_t)n;
	return 0;
}

int main(int argc, char **argv)
{
	static struct lg gs[LG_QUEUES_MAX];
	struct lg *g = &gs[0];
	struct lg_opts o = {.seconds = 10, .warmup = 1, .seeds = 1, .queues = 1};
	struct sigaction sa = {.sa_handler = lg_on_signal};
	struct lg_peer *peers = NULL;
	uint32_t n_all = 0; /* peers in all, over every queue */
	unsigned nq = 1, lcore;
	char err[256];
	int rc = 1, n = rte_eal_init(argc, argv);

	*g = (struct lg){
		.udp_port = 6778,
		.esp_port = 4500,
		.peer_port = 20000,
		.window = 256,
		.link_wait_s = 5,
		.mtu = 1500,
		.n_peers = 16,
		.n_queues = 1,
		.base_ip = (10u << 24) | (1u << 16) | 1u,
	};

	if (n < 0) {
		fprintf(stderr, "superpeer-loadgen: EAL init failed: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	if (lg_parse(g, &o, argc - n, argv + n) != 0) {
		rc = 2;
		goto out;
	}
	if (o.queues > 1) {
		const char *no =
			o.seed != NULL		    ? "--seed"
			: o.flood != 0 || o.reflect ? "--flood and --reflect"
			: o.sa_out != NULL && !o.sa_per_peer
				? "one SA pair for every peer (the data plane's runs on one "
				  "worker): give --sa-per-peer"
				: NULL;

		if (no != NULL || o.queues > rte_lcore_count() || o.queues > g->n_peers) {
			if (no != NULL)
				fprintf(stderr,
					"superpeer-loadgen: --queues is for leeching peers; "
					"not with %s\n",
					no);
			else
				fprintf(stderr,
					"superpeer-loadgen: --queues %u needs as many lcores (has "
					"%u) "
					"and peers (has %u)\n",
					o.queues, rte_lcore_count(), g->n_peers);
			rc = 2;
			goto out;
		}
		nq = o.queues;
	}
	g->n_queues = (uint16_t)nq;
	g->run_seconds = o.seconds;
	g->run_warmup = o.warmup < o.seconds ? o.warmup : 0;
	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "superpeer-loadgen: no DPDK port (give one with -a or --vdev)\n");
		goto out;
	}
	g->tsc_hz = rte_get_tsc_hz();
	g->tsc_per_us = g->tsc_hz / 1000000 ? g->tsc_hz / 1000000 : 1;
	if (crypto_engine_init(&g->eng) != 0) {
		fprintf(stderr, "superpeer-loadgen: no crypto engine\n");
		goto out;
	}
	if (o.seed != NULL) {
		if (o.pub == NULL) {
			fprintf(stderr, "superpeer-loadgen: --seed needs --public\n");
			rc = 2;
			goto out;
		}
		if (lg_seed_open(g, o.seed, o.pub) != 0) {
			rc = 2;
			goto out;
		}
		/* A DATA message and its header at least, or the seeders never send a chunk. */
		if (lg_seed_cap(g, o.sa_out != NULL) < g->chunk_size + 64u) {
			fprintf(stderr,
				"superpeer-loadgen: --mtu %u cannot carry a %u-byte chunk%s\n",
				g->mtu, g->chunk_size, o.sa_out != NULL ? " in ESP" : "");
			rc = 2;
			goto out;
		}
		g->n_peers = o.seeds; /* the seeders */
	}
	if (lg_port_init(gs, nq) != 0) {
		fprintf(stderr, "superpeer-loadgen: port 0 setup failed\n");
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (o.flood != 0 || o.reflect) {
		rc = o.flood != 0 ? lg_flood(g, o.flood, o.seconds) : lg_reflect(g, o.seconds);
		lg_linger(g, o.linger);
		goto stop;
	}
	rc = 2;
	if (g->dst_ip == 0 || (g->store == NULL && lg_swarm(g, &o) != 0)) {
		if (g->dst_ip == 0)
			usage(stderr);
		goto stop;
	}
	if (g->base_ip + g->n_peers - 1 < g->base_ip ||
		(rte_be_to_cpu_32(g->dst_ip) - g->base_ip) < g->n_peers) {
		fprintf(stderr, "superpeer-loadgen: the peers' addresses overlap the target's\n");
		goto stop;
	}
	if ((o.sa_out == NULL) != (o.sa_in == NULL) || (o.sa_per_peer && o.sa_out == NULL)) {
		fprintf(stderr, "superpeer-loadgen: --sa-out and --sa-in go together (and with "
				"--sa-per-peer)\n");
		goto stop;
	}
	if (o.sa_out != NULL && (esp_arg_sa_new(&g->eng, o.sa_out, ESP_SA_OUTBOUND, o.esn, 0,
					 &g->sa_out, err, sizeof(err)) != 0 ||
					esp_arg_sa_new(&g->eng, o.sa_in, ESP_SA_INBOUND, o.esn, 0,
						&g->sa_in, err, sizeof(err)) != 0)) {
		fprintf(stderr, "superpeer-loadgen: SA: %s\n", err);
		goto stop;
	}
	g->ctx = (struct ppspp_ctx){
		.cam = PPSPP_CAM_CHUNK32, .hash_len = g->swarm_id_len, .chunk_size = g->chunk_size};
	peers = rte_zmalloc("lg_peers", sizeof(*peers) * g->n_peers, RTE_CACHE_LINE_SIZE);
	if (peers == NULL) {
		fprintf(stderr, "superpeer-loadgen: no memory for %u peers\n", g->n_peers);
		goto stop;
	}
	n_all = g->n_peers;
	for (uint32_t i = 0; i < n_all; i++) {
		peers[i].ip = rte_cpu_to_be_32(g->base_ip + i);
		/* Addresses tell the peers apart (lg_peer_of): ports may repeat past 65535. */
		peers[i].port = (uint16_t)(g->peer_port + i % (65536u - g->peer_port));
	}
	/* --sa-per-peer: peer i's pair has the SPIs of --sa-out and --sa-in plus i, same keys. */
	for (uint32_t i = 0; o.sa_per_peer && i < n_all; i++) {
		const char *arg[2] = {o.sa_out, o.sa_in};
		struct esp_sa **own[2] = {&peers[i].sa_out, &peers[i].sa_in};
		char one[160];
		int bad = 0;

		for (unsigned d = 0; d < 2 && bad == 0; d++) {
			const struct esp_sa *t = d == 0 ? g->sa_out : g->sa_in;

			if ((uint64_t)t->spi + i > UINT32_MAX) {
				snprintf(err, sizeof(err), "SPI %#x + %u peers is past 2^32",
					t->spi, n_all);
				bad = -1;
				break;
			}
			snprintf(one, sizeof(one), "%u:%s", t->spi + i, strchr(arg[d], ':') + 1);
			bad = esp_arg_sa_new(&g->eng, one,
				d == 0 ? ESP_SA_OUTBOUND : ESP_SA_INBOUND, o.esn, 0, own[d], err,
				sizeof(err));
			explicit_bzero(one, sizeof(one));
		}
		if (bad != 0) {
			fprintf(stderr, "superpeer-loadgen: --sa-per-peer: %s\n", err);
			goto stop;
		}
	}
	/* --queues: each loop a copy of the configuration with its own queue, pools, crypto
	 * engine and block of consecutive peers; the first keeps the first block. */
	for (unsigned q = nq; q-- > 0;) {
		uint32_t first = (uint32_t)((uint64_t)n_all * q / nq);
		uint32_t last = (uint32_t)((uint64_t)n_all * (q + 1) / nq);

		if (q > 0) {
			struct rte_mempool *rx = gs[q].rx_pool, *tx = gs[q].tx_pool;

			gs[q] = *g;
			gs[q].queue = (uint16_t)q;
			gs[q].rx_pool = rx;
			gs[q].tx_pool = tx;
			if (crypto_engine_init(&gs[q].eng) != 0) {
				fprintf(stderr, "superpeer-loadgen: no crypto engine\n");
				goto stop;
			}
		}
		gs[q].peers = peers + first;
		gs[q].n_peers = last - first;
		gs[q].base_ip = g->base_ip + first;
	}
	rc = 1;
	if (!lg_link_wait(g)) {
		fprintf(stderr, "superpeer-loadgen: link down\n");
		goto stop;
	}
	if (o.target_mac == NULL && lg_resolve(g) != 0) {
		fprintf(stderr, "superpeer-loadgen: no ARP reply from the target\n");
		goto stop;
	}
	if (o.go_file != NULL && !lg_go_wait(o.go_file, g->link_wait_s)) {
		fprintf(stderr, "superpeer-loadgen: %s did not appear within %u s\n", o.go_file,
			g->link_wait_s);
		goto stop;
	}
	{
		unsigned q = 1;

		RTE_LCORE_FOREACH_WORKER(lcore)
		{
			if (q == nq)
				break;
			gs[q].dst_mac = g->dst_mac; /* learnt just now */
			if (rte_eal_remote_launch(lg_run_lcore, &gs[q], lcore) != 0)
				break;
			q++;
		}
		if (q < nq) {
			fprintf(stderr, "superpeer-loadgen: lcore %u would not start\n", lcore);
			lg_stop = true; /* the loops already started stop at once */
			rte_eal_mp_wait_lcore();
			goto stop;
		}
	}
	lg_run(g, g->run_seconds, g->run_warmup);
	rte_eal_mp_wait_lcore();
	lg_summary(gs, nq);
	lg_linger(g, o.linger);
	rc = 0;
stop:
	rte_eth_dev_stop(g->port_id);
	rte_eth_dev_close(g->port_id);
	esp_arg_sa_free(g->sa_out);
	esp_arg_sa_free(g->sa_in);
	for (uint32_t i = 0; peers != NULL && i < n_all; i++) {
		esp_arg_sa_free(peers[i].sa_out);
		esp_arg_sa_free(peers[i].sa_in);
	}
	rte_free(peers);
out:
	lg_seed_close(g);
	for (unsigned q = 0; q < nq; q++)
		crypto_engine_fini(&gs[q].eng);
	rte_eal_cleanup();
	return rc;
}
