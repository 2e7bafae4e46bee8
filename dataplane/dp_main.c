/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * superpeer-dataplane: EAL arguments, `--`, then its own options. Opens the packed store,
 * sets up the port and one worker per worker lcore (the main lcore works when there is no
 * other), registers telemetry, and on SIGINT/SIGTERM stops the workers and prints one
 * summary line per counter that moved.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_telemetry.h>

#include "dp.h"
#include "esp_arg.h"

static struct dp_worker *dp_workers[DP_MAX_WORKERS];
static unsigned dp_n_workers;

static void dp_on_signal(int sig)
{
	(void)sig;
	dp_stop = true;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: superpeer-dataplane EAL-ARGS -- --store DIR --public PUBFILE --ip A.B.C.D\n"
		   "           [--ip6 ADDR6] [--udp-port N] [--mtu N] [--idle-polls N] [--idle-sleep-us N]\n"
		   "           [--sa-in SPI:0xKEYSALT --sa-out SPI:0xKEYSALT [--esn]]\n\n"
		   "Serves the packed store DIR over PPSPP on UDP port N (default 6778) at IPv4\n"
		   "address A.B.C.D (and ADDR6) on DPDK port 0, answering ARP, Neighbor\n"
		   "Solicitation and ICMP/ICMPv6 echo. With --sa-in and\n"
		   "--sa-out, peers must use ESP in UDP with that SA pair (one worker lcore).\n"
		   "--mtu: largest IPv4 packet sent (default 1500). Idle workers sleep after\n"
		   "--idle-polls empty polls (default 256), up to --idle-sleep-us (default 200;\n"
		   "0 = never sleep). Stops on SIGINT or SIGTERM with a summary of every counter.\n");
}

static int dp_tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint64_t drops[DP_DROP_COUNT] = { 0 }, rx = 0, tx = 0, chunks = 0;

	(void)cmd;
	(void)params;
	/* Counters are per worker and only ever grow; a racy read is at worst a little old. */
	for (unsigned i = 0; i < dp_n_workers; i++) {
		const struct dp_worker *w = dp_workers[i];

		rx += w->rx_pkts;
		tx += w->tx_pkts;
		chunks += w->chunks_sent;
		for (unsigned k = 0; k < DP_DROP_COUNT; k++)
			drops[k] += w->drops[k];
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "rx_packets", rx);
	rte_tel_data_add_dict_u64(d, "tx_packets", tx);
	rte_tel_data_add_dict_u64(d, "chunks_sent", chunks);
	for (unsigned k = 0; k < DP_DROP_COUNT; k++) {
		char name[64];

		snprintf(name, sizeof(name), "drop_%s", dp_drop_names[k]);
		rte_tel_data_add_dict_u64(d, name, drops[k]);
	}
	return 0;
}

/* Sum over workers of the uint64_t at byte offset off of struct dp_worker. */
static uint64_t dp_sum(size_t off)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < dp_n_workers; i++)
		v += *(const uint64_t *)((const char *)dp_workers[i] + off);
	return v;
}

static void dp_summary(void)
{
	uint64_t v;

	printf("superpeer-dataplane: rx %llu packets, tx %llu packets, %llu chunks served\n",
	       (unsigned long long)dp_sum(offsetof(struct dp_worker, rx_pkts)),
	       (unsigned long long)dp_sum(offsetof(struct dp_worker, tx_pkts)),
	       (unsigned long long)dp_sum(offsetof(struct dp_worker, chunks_sent)));
	for (unsigned k = 0; k < DP_DROP_COUNT; k++)
		if ((v = dp_sum(offsetof(struct dp_worker, drops) + k * sizeof(uint64_t))) != 0)
			printf("drop %s: %llu\n", dp_drop_names[k], (unsigned long long)v);
	for (unsigned k = 0; k < SEEDER_R_COUNT; k++)
		if ((v = dp_sum(offsetof(struct dp_worker, ppspp_refused) +
				k * sizeof(uint64_t))) != 0)
			printf("ppspp refused, %s: %llu\n", seeder_reason_name(k),
			       (unsigned long long)v);
	for (unsigned k = 0; k < ESP_DROP_COUNT; k++)
		if ((v = dp_sum(offsetof(struct dp_worker, esp_drops) + k * sizeof(uint64_t))) != 0)
			printf("esp %s: %llu\n", esp_drop_name(k), (unsigned long long)v);
	fflush(stdout);
}

static struct dp_worker *dp_worker_new(struct dp_config *cfg, struct rte_mempool *pool,
				       unsigned lcore, uint16_t queue)
{
	struct dp_worker *w = rte_zmalloc_socket("dp_worker", sizeof(*w), RTE_CACHE_LINE_SIZE,
						 (int)rte_lcore_to_socket_id(lcore));

	if (w == NULL)
		return NULL;
	w->lcore = lcore;
	w->queue = queue;
	w->cfg = cfg;
	w->pool = pool;
	w->next_channel = (uint32_t)lcore * 7919u + (uint32_t)time(NULL);
	w->peers = rte_zmalloc_socket("dp_peers", sizeof(*w->peers) * DP_PEERS,
				      RTE_CACHE_LINE_SIZE, (int)rte_lcore_to_socket_id(lcore));
	if (w->peers == NULL || crypto_engine_init(&w->eng) != 0)
		return NULL;
	if (cfg->esp) {
		/* This worker's own SA copies; the key schedule is valid on any engine of the
		 * same architecture, and anti-replay and sequence state become its own. */
		w->sa_in = rte_malloc("sa", sizeof(*w->sa_in), 64);
		w->sa_out = rte_malloc("sa", sizeof(*w->sa_out), 64);
		if (w->sa_in == NULL || w->sa_out == NULL)
			return NULL;
		memcpy(w->sa_in, cfg->sa_in, sizeof(*w->sa_in));
		memcpy(w->sa_out, cfg->sa_out, sizeof(*w->sa_out));
	}
	return w;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "public", required_argument, NULL, 'p' },
		{ "ip", required_argument, NULL, 'a' },
		{ "ip6", required_argument, NULL, '6' },
		{ "udp-port", required_argument, NULL, 'u' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "idle-polls", required_argument, NULL, 'I' },
		{ "idle-sleep-us", required_argument, NULL, 'S' },
		{ "sa-in", required_argument, NULL, 'i' },
		{ "sa-out", required_argument, NULL, 'o' },
		{ "esn", no_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dp_config cfg = { .udp_port = 6778, .idle_polls = 256, .idle_sleep_us = 200,
				 .mtu = 1500 };
	const char *store_dir = NULL, *pub_path = NULL, *sa_in = NULL, *sa_out = NULL;
	struct sigaction sa = { .sa_handler = dp_on_signal };
	uint8_t pub[ED25519_PUBLIC_LEN];
	struct chunk_store store;
	struct crypto_engine e;
	struct rte_mempool *pool;
	char err[512];
	bool esn = false;
	unsigned lcore, q = 0;
	int c, n;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "superpeer-dataplane: EAL init failed: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			store_dir = optarg;
			break;
		case 'p':
			pub_path = optarg;
			break;
		case 'a':
			if (inet_pton(AF_INET, optarg, &cfg.ip4) != 1) {
				fprintf(stderr, "superpeer-dataplane: --ip %s: not IPv4\n", optarg);
				return 2;
			}
			break;
		case '6':
			if (inet_pton(AF_INET6, optarg, cfg.ip6) != 1 || cfg.ip6[0] == 0xff) {
				fprintf(stderr, "superpeer-dataplane: --ip6 %s: not a unicast "
						"IPv6 address\n", optarg);
				return 2;
			}
			cfg.has_ip6 = true;
			break;
		case 'u':
			cfg.udp_port = (uint16_t)strtoul(optarg, NULL, 10);
			break;
		case 'm':
			cfg.mtu = (uint16_t)strtoul(optarg, NULL, 10);
			break;
		case 'I':
			cfg.idle_polls = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'S':
			cfg.idle_sleep_us = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'i':
			sa_in = optarg;
			break;
		case 'o':
			sa_out = optarg;
			break;
		case 'E':
			esn = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (store_dir == NULL || pub_path == NULL || cfg.ip4 == 0 || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (cfg.mtu < 576 || cfg.mtu > 9000 || cfg.udp_port == 0) {
		fprintf(stderr, "superpeer-dataplane: --mtu 576..9000, --udp-port 1..65535\n");
		return 2;
	}
	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "superpeer-dataplane: no DPDK port (give one with -a or --vdev)\n");
		return 1;
	}
	if (crypto_engine_init(&e) != 0) {
		fprintf(stderr, "superpeer-dataplane: this CPU lacks AES-NI\n");
		return 1;
	}
	{
		FILE *f = fopen(pub_path, "r");
		char hex[80] = "";

		if (f == NULL || fgets(hex, sizeof(hex), f) == NULL) {
			fprintf(stderr, "superpeer-dataplane: %s: cannot read\n", pub_path);
			return 1;
		}
		fclose(f);
		for (unsigned i = 0; i < sizeof(pub); i++)
			if (sscanf(hex + 2 * i, "%2hhx", &pub[i]) != 1) {
				fprintf(stderr, "superpeer-dataplane: %s: not a public key\n",
					pub_path);
				return 1;
			}
	}
	if (chunk_store_open(&store, &e, store_dir, pub, err, sizeof(err)) != 0) {
		fprintf(stderr, "superpeer-dataplane: %s\n", err);
		return 1;
	}
	cfg.store = &store;
	if (sa_in != NULL || sa_out != NULL) {
		if (sa_in == NULL || sa_out == NULL) {
			fprintf(stderr, "superpeer-dataplane: ESP needs --sa-in and --sa-out\n");
			return 2;
		}
		if (esp_arg_sa_new(&e, sa_in, ESP_SA_INBOUND, esn, 0, &cfg.sa_in, err,
				   sizeof(err)) != 0 ||
		    esp_arg_sa_new(&e, sa_out, ESP_SA_OUTBOUND, esn, 0, &cfg.sa_out, err,
				   sizeof(err)) != 0) {
			fprintf(stderr, "superpeer-dataplane: SA: %s\n", err);
			return 2;
		}
		cfg.esp = true;
	}
	if ((uint32_t)cfg.mtu < (cfg.esp ? ESP_OVERHEAD + 8u + 3u : 0u) + store.m.chunk_size + 28u + 200u) {
		fprintf(stderr, "superpeer-dataplane: --mtu %u cannot carry %u-byte chunks\n",
			cfg.mtu, store.m.chunk_size);
		return 2;
	}

	dp_n_workers = rte_lcore_count() > 1 ? rte_lcore_count() - 1 : 1;
	if (dp_n_workers > DP_MAX_WORKERS || (cfg.esp && dp_n_workers > 1)) {
		fprintf(stderr, "superpeer-dataplane: %u workers: at most %u, and one with ESP "
				"(one SA pair's sequence numbers cannot be shared)\n",
			dp_n_workers, DP_MAX_WORKERS);
		return 2;
	}
	pool = rte_pktmbuf_pool_create("dp_pool", 8191 * dp_n_workers, 256, 0,
				       (uint16_t)(RTE_PKTMBUF_HEADROOM +
						  RTE_MAX(2048, cfg.mtu + RTE_ETHER_HDR_LEN)),
				       (int)rte_socket_id());
	if (pool == NULL) {
		fprintf(stderr, "superpeer-dataplane: mbuf pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	cfg.port_id = 0;
	if (dp_port_init(&cfg, dp_n_workers, pool) != 0) {
		fprintf(stderr, "superpeer-dataplane: port 0 setup failed\n");
		return 1;
	}
	if (rte_lcore_count() > 1) {
		RTE_LCORE_FOREACH_WORKER(lcore) {
			dp_workers[q] = dp_worker_new(&cfg, pool, lcore, (uint16_t)q);
			if (dp_workers[q] == NULL)
				goto nomem;
			q++;
		}
	} else {
		dp_workers[0] = dp_worker_new(&cfg, pool, rte_lcore_id(), 0);
		if (dp_workers[0] == NULL)
			goto nomem;
	}
	rte_telemetry_register_cmd("/superpeer/stats", dp_tel_stats,
				   "Packets, chunks served and drops by reason, all workers.");
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	{
		char ip[INET_ADDRSTRLEN], mac[RTE_ETHER_ADDR_FMT_SIZE];

		inet_ntop(AF_INET, &cfg.ip4, ip, sizeof(ip));
		rte_ether_format_addr(mac, sizeof(mac), &cfg.mac);
		printf("superpeer-dataplane: serving %s (%llu chunks) on %s:%u, %u worker%s%s, "
		       "mac %s\n", store.m.name, (unsigned long long)store.tree.n_chunks, ip,
		       cfg.udp_port, dp_n_workers, dp_n_workers > 1 ? "s" : "",
		       cfg.esp ? ", ESP in UDP" : "", mac);
		fflush(stdout);
	}
	if (rte_lcore_count() > 1) {
		q = 0;
		RTE_LCORE_FOREACH_WORKER(lcore)
			rte_eal_remote_launch(dp_worker_loop, dp_workers[q++], lcore);
		rte_eal_mp_wait_lcore();
	} else {
		dp_worker_loop(dp_workers[0]);
	}
	dp_summary();
	dp_port_fini(cfg.port_id);
	for (unsigned i = 0; i < dp_n_workers; i++) {
		if (dp_workers[i]->sa_in != NULL)
			esp_sa_destroy(dp_workers[i]->sa_in);
		if (dp_workers[i]->sa_out != NULL)
			esp_sa_destroy(dp_workers[i]->sa_out);
		crypto_engine_fini(&dp_workers[i]->eng);
	}
	esp_arg_sa_free(cfg.sa_in);
	esp_arg_sa_free(cfg.sa_out);
	chunk_store_close(&store);
	crypto_engine_fini(&e);
	rte_eal_cleanup();
	return 0;
nomem:
	fprintf(stderr, "superpeer-dataplane: out of memory for workers\n");
	return 1;
}
