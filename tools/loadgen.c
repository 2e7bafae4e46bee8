/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * superpeer-loadgen: a DPDK load generator for the system benchmark (bench/system.sh). On
 * one lcore and one port (net_memif or net_ring to the data plane), it plays N peers of one
 * swarm: each opens a PPSPP channel (handshake, through ESP in UDP when given an SA pair),
 * keeps a window of chunks requested, and acknowledges what arrives. It counts what the data
 * plane serves: datagrams carrying a chunk, their chunk bytes, per second and in total.
 *
 * What it does not do, so that it is not the bottleneck: it opens ESP only until a peer's
 * handshake is answered; after that it counts a sealed datagram long enough to hold a chunk
 * as one chunk without decrypting it, and acknowledges chunks in request order with a zero
 * delay sample (the data plane serves a channel's requests in order). It verifies nothing
 * (the tests do that); a peer that has asked for the whole swarm starts a new channel.
 *
 * --flood BYTES instead sends BYTES-long UDP frames as fast as the port takes them and counts
 * what comes back: with dpdk-testpmd forwarding in io mode on the other end, that is the
 * I/O ceiling of the PMD pair.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "esp_arg.h"
#include "esp_sa.h"
#include "manifest.h"
#include "ppspp_codec.h"

enum { LG_BURST = 32, LG_BASE_PORT = 20000 };

struct lg_peer {
	uint16_t port;
	uint32_t local_id, peer_id; /* peer_id 0 until the handshake is answered */
	uint64_t next_req;	    /* next chunk to request */
	uint64_t next_ack;	    /* next chunk expected (in-order acknowledgement) */
	uint64_t last_rx_tsc, last_hs_tsc;
	uint64_t chunks;
};

struct lg {
	uint16_t port_id;
	struct rte_mempool *pool;
	struct rte_ether_addr mac, dst_mac;
	uint32_t ip, dst_ip; /* network order */
	uint16_t udp_port, esp_port;
	struct manifest m;
	uint64_t n_chunks;
	uint32_t window;
	struct esp_sa *sa_out, *sa_in;
	struct crypto_engine eng;
	struct lg_peer *peers;
	unsigned n_peers;
	struct rte_mbuf *tx[LG_BURST * 4];
	unsigned n_tx;
	uint64_t rx_pkts, tx_pkts, chunks, chunk_bytes, timeouts, channels;
};

static volatile bool lg_stop;

static void lg_on_signal(int sig)
{
	(void)sig;
	lg_stop = true;
}

static void lg_flush(struct lg *g)
{
	unsigned sent = 0, tries = 0;

	while (sent < g->n_tx && tries++ < 1000)
		sent += rte_eth_tx_burst(g->port_id, 0, g->tx + sent, (uint16_t)(g->n_tx - sent));
	g->tx_pkts += sent;
	for (unsigned i = sent; i < g->n_tx; i++)
		rte_pktmbuf_free(g->tx[i]);
	g->n_tx = 0;
}

static void lg_queue(struct lg *g, struct rte_mbuf *m)
{
	if (g->n_tx == sizeof(g->tx) / sizeof(g->tx[0]))
		lg_flush(g);
	g->tx[g->n_tx++] = m;
}

/* Ethernet + IPv4 + UDP around len payload bytes already at the UDP payload. */
static void lg_headers(
	struct lg *g, struct rte_mbuf *m, uint16_t sport, uint16_t dport, uint32_t len)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);

	eth->dst_addr = g->dst_mac;
	eth->src_addr = g->mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = g->ip;
	ip->dst_addr = g->dst_ip;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*u) + len));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	u->src_port = rte_cpu_to_be_16(sport);
	u->dst_port = rte_cpu_to_be_16(dport);
	u->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*u) + len));
	u->dgram_cksum = 0;
	m->data_len = (uint16_t)(sizeof(*eth) + sizeof(*ip) + sizeof(*u) + len);
	m->pkt_len = m->data_len;
}

/* Where a datagram for the data plane is written (after the ESP header and inner UDP). */
static uint8_t *lg_dgram_at(struct lg *g, struct rte_mbuf *m)
{
	uint8_t *pay = rte_pktmbuf_mtod_offset(m, uint8_t *, 14 + 20 + 8);

	return g->sa_out != NULL ? pay + ESP_PREFIX_LEN + 8 : pay;
}

static void lg_send(struct lg *g, struct lg_peer *p, struct rte_mbuf *m, int n)
{
	uint8_t *pay = rte_pktmbuf_mtod_offset(m, uint8_t *, 14 + 20 + 8);

	if (n <= 0) {
		rte_pktmbuf_free(m);
		return;
	}
	if (g->sa_out != NULL) {
		struct rte_udp_hdr *in = (struct rte_udp_hdr *)(pay + ESP_PREFIX_LEN);
		struct esp_seal_pkt s = {.sa = g->sa_out,
			.src = (const uint8_t *)in,
			.out = pay,
			.len = (uint32_t)n + 8,
			.out_cap = 1400,
			.next_hdr = ESP_NH_UDP};

		in->src_port = rte_cpu_to_be_16(p->port);
		in->dst_port = rte_cpu_to_be_16(g->udp_port);
		in->dgram_len = rte_cpu_to_be_16((uint16_t)s.len);
		in->dgram_cksum = 0;
		if (esp_seal_burst(&g->eng, &s, 1, 0) != 1) {
			rte_pktmbuf_free(m);
			return;
		}
		lg_headers(g, m, p->port, g->esp_port, s.out_len);
	} else {
		lg_headers(g, m, p->port, g->udp_port, (uint32_t)n);
	}
	lg_queue(g, m);
}

static struct ppspp_ctx lg_ctx(const struct lg *g)
{
	return (struct ppspp_ctx){.cam = PPSPP_CAM_CHUNK32,
		.hash_len = (uint8_t)hash_len(g->m.hash),
		.chunk_size = g->m.chunk_size};
}

static void lg_handshake(struct lg *g, struct lg_peer *p)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(g->pool);
	struct ppspp_ctx ctx = lg_ctx(g);
	struct ppspp_builder b;
	int rc;

	if (m == NULL)
		return;
	rc = ppspp_builder_init(&b, &ctx, lg_dgram_at(g, m), 512, PPSPP_CHANNEL_INITIAL);
	if (rc == 0)
		rc = ppspp_builder_handshake_begin(&b, p->local_id);
	if (rc == 0)
		rc = ppspp_builder_append_opt_version(&b, PPSPP_VERSION_1);
	if (rc == 0)
		rc = ppspp_builder_append_opt_swarm_id(&b, g->m.swarm_id, hash_len(g->m.hash));
	if (rc == 0)
		rc = ppspp_builder_append_opt_mhf(
			&b, g->m.hash == HASH_SHA1 ? PPSPP_MHF_SHA1 : PPSPP_MHF_SHA256);
	if (rc == 0)
		rc = ppspp_builder_handshake_end(&b);
	lg_send(g, p, m, rc == 0 ? ppspp_builder_finish(&b) : -1);
	p->last_hs_tsc = rte_rdtsc();
}

/* ACK of `acks` chunks from next_ack on, and a REQUEST for what keeps the window full. */
static void lg_ack_request(struct lg *g, struct lg_peer *p, uint64_t acks)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(g->pool);
	struct ppspp_ctx ctx = lg_ctx(g);
	struct ppspp_builder b;
	uint64_t want;
	int rc;

	if (m == NULL)
		return;
	rc = ppspp_builder_init(&b, &ctx, lg_dgram_at(g, m), 512, p->peer_id);
	if (rc == 0 && acks > 0)
		rc = ppspp_builder_append_ack(
			&b, (struct ppspp_range){p->next_ack, p->next_ack + acks - 1}, 0);
	p->next_ack += acks;
	want = p->next_ack + g->window;
	if (want > g->n_chunks)
		want = g->n_chunks;
	if (rc == 0 && p->next_req < want && want - p->next_req >= g->window / 2) {
		rc = ppspp_builder_append_request(&b, (struct ppspp_range){p->next_req, want - 1});
		p->next_req = want;
	}
	lg_send(g, p, m, rc == 0 ? ppspp_builder_finish(&b) : -1);
}

/* A new channel: the old one is forgotten (the data plane drops it when it falls silent). */
static void lg_new_channel(struct lg *g, struct lg_peer *p)
{
	p->local_id = (uint32_t)(p - g->peers) * 65536u + (uint32_t)g->channels + 1;
	p->peer_id = 0;
	p->next_req = p->next_ack = 0;
	g->channels++;
	lg_handshake(g, p);
}

/* A packet from the data plane. */
static void lg_input(struct lg *g, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);
	uint32_t len = rte_pktmbuf_data_len(m);
	uint16_t dport;
	struct lg_peer *p;
	uint8_t *pay;
	uint32_t plen;

	if (len < 14 + 20 + 8 || eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
		ip->next_proto_id != IPPROTO_UDP)
		return;
	dport = rte_be_to_cpu_16(u->dst_port);
	if (dport < LG_BASE_PORT || dport >= LG_BASE_PORT + g->n_peers)
		return;
	p = &g->peers[dport - LG_BASE_PORT];
	pay = (uint8_t *)(u + 1);
	plen = rte_be_to_cpu_16(u->dgram_len) - 8;
	if (plen > len - 14 - 20 - 8)
		return;
	p->last_rx_tsc = rte_rdtsc();
	if (p->peer_id == 0) {
		/* Until the handshake reply: open and decode. */
		struct ppspp_ctx ctx = lg_ctx(g);
		struct ppspp_decode_result res;
		struct ppspp_msg msgs[8];
		const uint8_t *d = pay;
		size_t dl = plen;
		int n;

		if (g->sa_in != NULL) {
			struct esp_open_pkt o = {.sa = g->sa_in, .data = pay, .len = plen};

			if (esp_open_burst(&g->eng, &o, 1, 0) != 1 || o.payload_len < 8)
				return;
			d = pay + ESP_PREFIX_LEN + 8;
			dl = o.payload_len - 8;
		}
		n = ppspp_datagram_decode(&ctx, d, dl, msgs, 8, &res);
		if (n > 0 && msgs[0].type == PPSPP_MSG_HANDSHAKE &&
			res.dest_channel == p->local_id) {
			p->peer_id = msgs[0].u.handshake.src_channel;
			lg_ack_request(g, p, 0);
		}
		return;
	}
	if (plen < g->m.chunk_size)
		return; /* INTEGRITY alone, a keep-alive, CHOKE... */
	p->chunks++;
	g->chunks++;
	g->chunk_bytes += g->m.chunk_size;
	if (p->next_ack + 1 >= g->n_chunks) {
		lg_new_channel(g, p);
		return;
	}
	lg_ack_request(g, p, 1);
}

/* ARP for the data plane's address until it answers (2 s). */
static int lg_resolve(struct lg *g)
{
	uint64_t end = rte_rdtsc() + 2 * rte_get_tsc_hz(), next = 0;

	while (rte_rdtsc() < end && !lg_stop) {
		struct rte_mbuf *pkts[LG_BURST];
		uint16_t n;

		if (rte_rdtsc() > next) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(g->pool);
			struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
			struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);

			memset(&eth->dst_addr, 0xff, 6);
			eth->src_addr = g->mac;
			eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
			memset(a, 0, sizeof(*a));
			a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
			a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
			a->arp_hlen = 6;
			a->arp_plen = 4;
			a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
			a->arp_data.arp_sha = g->mac;
			a->arp_data.arp_sip = g->ip;
			a->arp_data.arp_tip = g->dst_ip;
			m->data_len = m->pkt_len = 14 + sizeof(*a);
			lg_queue(g, m);
			lg_flush(g);
			next = rte_rdtsc() + rte_get_tsc_hz() / 10;
		}
		n = rte_eth_rx_burst(g->port_id, 0, pkts, LG_BURST);
		for (uint16_t i = 0; i < n; i++) {
			struct rte_ether_hdr *eth =
				rte_pktmbuf_mtod(pkts[i], struct rte_ether_hdr *);
			struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);

			if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP) &&
				a->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REPLY) &&
				a->arp_data.arp_sip == g->dst_ip) {
				g->dst_mac = a->arp_data.arp_sha;
				rte_pktmbuf_free_bulk(pkts, n);
				return 0;
			}
		}
		rte_pktmbuf_free_bulk(pkts, n);
	}
	return -1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: superpeer-loadgen EAL-ARGS -- --target A.B.C.D --ip A.B.C.D --manifest "
		"FILE\n"
		"       [--peers N] [--window CHUNKS] [--seconds S] [--udp-port N] [--esp-port N]\n"
		"       [--sa-out SPI:0xKEYSALT --sa-in SPI:0xKEYSALT]\n"
		"       superpeer-loadgen EAL-ARGS -- --flood BYTES [--seconds S]\n");
}

/* I/O ceiling: frames out as fast as the port takes them, frames back counted. */
static int lg_flood(struct lg *g, uint32_t bytes, unsigned seconds)
{
	uint64_t hz = rte_get_tsc_hz(), t0, end, rx = 0, tx = 0;
	struct rte_eth_link link;

	/* A memif link comes up once the other side has connected. */
	for (int i = 0; i < 500; i++) {
		if (rte_eth_link_get_nowait(g->port_id, &link) == 0 && link.link_status)
			break;
		rte_delay_ms(10);
	}
	t0 = rte_rdtsc();
	end = t0 + seconds * hz;
	while (rte_rdtsc() < end && !lg_stop) {
		struct rte_mbuf *pkts[LG_BURST];
		uint16_t n;

		if (rte_pktmbuf_alloc_bulk(g->pool, pkts, LG_BURST) == 0) {
			for (unsigned i = 0; i < LG_BURST; i++)
				lg_headers(g, pkts[i], 9, 9, bytes - 14 - 20 - 8);
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
		double s = (double)(rte_rdtsc() - t0) / (double)hz;

		printf("flood %u-byte frames: sent %.2f Mpps, back %.2f Mpps, %.2f Gbit/s back\n",
			bytes, tx / s / 1e6, rx / s / 1e6, rx * bytes * 8.0 / s / 1e9);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"target", required_argument, NULL, 't'},
		{"ip", required_argument, NULL, 'i'},
		{"manifest", required_argument, NULL, 'm'},
		{"peers", required_argument, NULL, 'p'},
		{"window", required_argument, NULL, 'w'},
		{"seconds", required_argument, NULL, 's'},
		{"udp-port", required_argument, NULL, 'u'},
		{"esp-port", required_argument, NULL, 'e'},
		{"sa-out", required_argument, NULL, 'O'},
		{"sa-in", required_argument, NULL, 'I'},
		{"flood", required_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	static struct lg g = {.udp_port = 6778, .esp_port = 4500, .window = 256, .n_peers = 16};
	const char *man = NULL, *sa_out = NULL, *sa_in = NULL;
	struct rte_eth_conf conf = {0};
	struct sigaction sa = {.sa_handler = lg_on_signal};
	static char text[MANIFEST_MAX_LEN + 1];
	unsigned seconds = 10, flood = 0;
	uint64_t hz, t0, t_last, last_chunks = 0;
	char err[256];
	int c, n = rte_eal_init(argc, argv);

	if (n < 0)
		return 1;
	argc -= n;
	argv += n;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			inet_pton(AF_INET, optarg, &g.dst_ip);
			break;
		case 'i':
			inet_pton(AF_INET, optarg, &g.ip);
			break;
		case 'm':
			man = optarg;
			break;
		case 'p':
			g.n_peers = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'w':
			g.window = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 's':
			seconds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'u':
			g.udp_port = (uint16_t)strtoul(optarg, NULL, 10);
			break;
		case 'e':
			g.esp_port = (uint16_t)strtoul(optarg, NULL, 10);
			break;
		case 'O':
			sa_out = optarg;
			break;
		case 'I':
			sa_in = optarg;
			break;
		case 'f':
			flood = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
			return 2;
		}
	}
	if (rte_eth_dev_count_avail() == 0 || crypto_engine_init(&g.eng) != 0 || g.n_peers == 0 ||
		g.n_peers > 40000 || g.window < 2) {
		usage();
		return 2;
	}
	g.pool = rte_pktmbuf_pool_create(
		"lg", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE + 8192, (int)rte_socket_id());
	if (g.pool == NULL || rte_eth_dev_configure(0, 1, 1, &conf) != 0 ||
		rte_eth_rx_queue_setup(0, 0, 1024, rte_eth_dev_socket_id(0), NULL, g.pool) != 0 ||
		rte_eth_tx_queue_setup(0, 0, 1024, rte_eth_dev_socket_id(0), NULL) != 0 ||
		rte_eth_dev_start(0) != 0 || rte_eth_macaddr_get(0, &g.mac) != 0) {
		fprintf(stderr, "superpeer-loadgen: port 0 setup failed\n");
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (flood != 0) {
		memset(&g.dst_mac, 0xff, 6);
		return lg_flood(&g, flood < 64 ? 64 : flood, seconds);
	}
	if (man == NULL || g.dst_ip == 0 || g.ip == 0) {
		usage();
		return 2;
	}
	if (manifest_load(man, &g.m, text, sizeof(text), err, sizeof(err)) != 0) {
		fprintf(stderr, "superpeer-loadgen: %s\n", err);
		return 1;
	}
	g.n_chunks = (g.m.content_len + g.m.chunk_size - 1) / g.m.chunk_size;
	if ((sa_out == NULL) != (sa_in == NULL) ||
		(sa_out != NULL && (esp_arg_sa_new(&g.eng, sa_out, ESP_SA_OUTBOUND, false, 0,
					    &g.sa_out, err, sizeof(err)) != 0 ||
					   esp_arg_sa_new(&g.eng, sa_in, ESP_SA_INBOUND, false, 0,
						   &g.sa_in, err, sizeof(err)) != 0))) {
		fprintf(stderr, "superpeer-loadgen: SA: %s\n", err);
		return 2;
	}
	if (lg_resolve(&g) != 0) {
		fprintf(stderr, "superpeer-loadgen: no ARP reply from the target\n");
		return 1;
	}
	g.peers = calloc(g.n_peers, sizeof(*g.peers));
	if (g.peers == NULL)
		return 1;
	hz = rte_get_tsc_hz();
	for (unsigned i = 0; i < g.n_peers; i++) {
		g.peers[i].port = (uint16_t)(LG_BASE_PORT + i);
		lg_new_channel(&g, &g.peers[i]);
	}
	lg_flush(&g);
	t0 = t_last = rte_rdtsc();
	while (!lg_stop && rte_rdtsc() - t0 < seconds * hz) {
		struct rte_mbuf *pkts[LG_BURST];
		uint16_t k = rte_eth_rx_burst(g.port_id, 0, pkts, LG_BURST);
		uint64_t now = rte_rdtsc();

		g.rx_pkts += k;
		for (uint16_t i = 0; i < k; i++)
			lg_input(&g, pkts[i]);
		rte_pktmbuf_free_bulk(pkts, k);
		if (now - t_last >= hz) {
			/* Once a second: a peer silent for 100 ms asks again (new channel). */
			for (unsigned i = 0; i < g.n_peers; i++)
				if (now - g.peers[i].last_rx_tsc > hz / 10 &&
					now - g.peers[i].last_hs_tsc > hz / 10) {
					g.timeouts++;
					lg_new_channel(&g, &g.peers[i]);
				}
			printf("%.0f chunks/s, %.2f Gbit/s\n",
				(double)(g.chunks - last_chunks) * hz / (double)(now - t_last),
				(double)(g.chunks - last_chunks) * g.m.chunk_size * 8 * hz /
					(double)(now - t_last) / 1e9);
			fflush(stdout);
			last_chunks = g.chunks;
			t_last = now;
		}
		if (g.n_tx > 0)
			lg_flush(&g);
	}
	{
		double s = (double)(rte_rdtsc() - t0) / (double)hz;

		printf("loadgen: %u peers, %u-byte chunks, %s: %.0f chunks/s, %.2f Gbit/s of chunk "
		       "payload over %.1f s (rx %" PRIu64 " tx %" PRIu64 " packets, %" PRIu64
		       " channels, %" PRIu64 " restarts after silence)\n",
			g.n_peers, g.m.chunk_size, g.sa_out != NULL ? "ESP" : "plain", g.chunks / s,
			g.chunk_bytes * 8.0 / s / 1e9, s, g.rx_pkts, g.tx_pkts, g.channels,
			g.timeouts);
	}
	rte_eth_dev_stop(0);
	rte_eth_dev_close(0);
	esp_arg_sa_free(g.sa_out);
	esp_arg_sa_free(g.sa_in);
	free(g.peers);
	rte_eal_cleanup();
	return 0;
}
