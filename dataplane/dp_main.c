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
#include <pthread.h>
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
#include "config.h"
#include "dp_ctl.h"
#include "esp_arg.h"

static struct dp_worker *dp_workers[DP_MAX_WORKERS];
static unsigned dp_n_workers;
/* The telemetry thread reads the workers' counters under this; at exit they are taken away
 * under it before they are freed. */
static pthread_mutex_t dp_tel_lock = PTHREAD_MUTEX_INITIALIZER;
static bool dp_tel_gone;

static void dp_on_signal(int sig)
{
	(void)sig;
	dp_stop = true;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: superpeer-dataplane EAL-ARGS -- [--config FILE] --ip A.B.C.D[/N]\n"
		"           [--ip6 ADDR6[/N]] [--gateway A.B.C.D] [--gateway6 ADDR6] [--vlan ID]\n"
		"           [--store DIR --public PUBFILE [--open]]... [--keyring NAME]\n"
		"           [--udp-port N] [--esp-port N] [--mtu N] [--max-sas N]\n"
		"           [--idle-polls N] [--idle-sleep-us N] [--mbufs N]\n"
		"           [--sa-in SPI:0xKEYSALT --sa-out SPI:0xKEYSALT [--esn]]\n\n"
		"Serves PPSPP swarms at IPv4 address A.B.C.D (and ADDR6) on DPDK port 0,\n"
		"answering ARP, Neighbor Solicitation and ICMP/ICMPv6 echo. Plain PPSPP on UDP\n"
		"--udp-port (default 6778) for open swarms; ESP (RFC 4303, AES-GCM) as IP\n"
		"protocol 50 or in UDP on --esp-port (default 4500) for every swarm.\n"
		"SAs and swarms are added and removed while it runs through the key ring NAME\n"
		"(default $SUPERPEER_KEYRING or 'superpeer'): `superpeer sa`, `superpeer swarm`.\n"
		"--store/--public: a swarm to serve from the start (--open: also plain).\n"
		"--config FILE: the same options from an INI file ([dataplane] with these\n"
		"names, [swarm NAME] with store, public, open), applied at its place among\n"
		"the options (docs/dataplane.md).\n"
		"/N: the on-link prefix; a peer outside it is reached through --gateway\n"
		"(--gateway6; an IPv6 gateway may be link-local). Without /N every peer\n"
		"is taken to be on the link. --vlan: every frame tagged 802.1Q ID (1-4094).\n"
		"--sa-in/--sa-out: one SA pair for any peer, installed at start.\n"
		"--mtu: largest IP packet sent (default 1500). Idle workers sleep after\n"
		"--idle-polls empty polls (default 256), up to --idle-sleep-us (default 200;\n"
		"0 = never sleep). --mbufs: packet buffers per worker (default 8191; more when\n"
		"the port's rings hold many, e.g. net_memif zero-copy). --stats-interval N:\n"
		"the counters to control as a key ring event every N s (default 10; 0 =\n"
		"never; `superpeer monitor` prints them). Stops on SIGINT or\n"
		"SIGTERM with a summary of every counter.\n");
}

/* Sum over workers of the uint64_t at byte offset off of struct dp_worker. */
static uint64_t dp_sum(size_t off)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < dp_n_workers; i++)
		v += *(const uint64_t *)((const char *)dp_workers[i] + off);
	return v;
}

/* The counter at off of worker one, or summed over the workers when one is NULL. */
static uint64_t dp_count(const struct dp_worker *one, size_t off)
{
	return one != NULL ? *(const uint64_t *)((const char *)one + off) : dp_sum(off);
}

/*
 * Every counter of worker one (or of all workers, summed, when one is NULL) into dict d:
 * packets, bytes, chunks, the loop's events and every drop reason, with what drop_esp and
 * drop_ppspp hold by reason. Counters only ever grow; a racy read is at worst a little old.
 */
static void dp_tel_counters(struct rte_tel_data *d, const struct dp_worker *one)
{
	static const struct {
		const char *name;
		size_t off;
	} counters[] = {
		{"rx_packets", offsetof(struct dp_worker, rx_pkts)},
		{"rx_bytes", offsetof(struct dp_worker, rx_bytes)},
		{"tx_packets", offsetof(struct dp_worker, tx_pkts)},
		{"tx_bytes", offsetof(struct dp_worker, tx_bytes)},
		{"chunks_sent", offsetof(struct dp_worker, chunks_sent)},
		{"chunk_bytes_sent", offsetof(struct dp_worker, chunk_bytes_sent)},
		{"chunks_ingested", offsetof(struct dp_worker, chunks_ingested)},
		{"ingest_lost", offsetof(struct dp_worker, ingest_lost)},
		{"ingest_closed", offsetof(struct dp_worker, ingest_closed)},
		{"peers_timed_out", offsetof(struct dp_worker, peers_timed_out)},
		{"keepalives_sent", offsetof(struct dp_worker, keepalives_sent)},
		{"rate_held", offsetof(struct dp_worker, rate_held)},
		{"tx_held", offsetof(struct dp_worker, tx_held)},
		{"ledbat_held", offsetof(struct dp_worker, cc_held)},
		{"channels_choked", offsetof(struct dp_worker, channels_choked)},
		{"channels_unchoked", offsetof(struct dp_worker, channels_unchoked)},
		{"channels_open", offsetof(struct dp_worker, channels_open)},
		{"channels_peak", offsetof(struct dp_worker, channels_peak)},
		{"ingest_sources", offsetof(struct dp_worker, ingest_sources)},
		{"peers_blocked", offsetof(struct dp_worker, peers_blocked)},
		{"neighbours_learned", offsetof(struct dp_worker, neigh_learned)},
		{"neighbour_probes", offsetof(struct dp_worker, neigh_probes)},
		{"ingest_steered", offsetof(struct dp_worker, steered)},
		{"neighbour_replies_handed", offsetof(struct dp_worker, neigh_handed)},
	};
	char name[64];

	for (size_t k = 0; k < sizeof(counters) / sizeof(counters[0]); k++)
		rte_tel_data_add_dict_u64(d, counters[k].name, dp_count(one, counters[k].off));
	for (unsigned k = 0; k < DP_DROP_COUNT; k++) {
		snprintf(name, sizeof(name), "drop_%s", dp_drop_names[k]);
		rte_tel_data_add_dict_u64(d, name,
			dp_count(one, offsetof(struct dp_worker, drops) + k * sizeof(uint64_t)));
	}
	/* What drop_esp and drop_ppspp hold, by reason (the summary's esp and ppspp lines). */
	for (unsigned k = 1; k < ESP_DROP_COUNT; k++) {
		snprintf(name, sizeof(name), "esp_%s", esp_drop_name(k));
		rte_tel_data_add_dict_u64(d, name,
			dp_count(
				one, offsetof(struct dp_worker, esp_drops) + k * sizeof(uint64_t)));
	}
	for (unsigned k = 1; k < SEEDER_R_COUNT; k++) {
		snprintf(name, sizeof(name), "ppspp_%s", seeder_reason_key(k));
		rte_tel_data_add_dict_u64(d, name,
			dp_count(one,
				offsetof(struct dp_worker, ppspp_refused) + k * sizeof(uint64_t)));
	}
}

static int dp_tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	pthread_mutex_lock(&dp_tel_lock);
	if (dp_tel_gone) {
		pthread_mutex_unlock(&dp_tel_lock);
		return -1; /* stopping: the workers are gone */
	}
	rte_tel_data_start_dict(d);
	dp_tel_counters(d, NULL);
	{
		uint64_t busy = 0, run = 0, now = rte_rdtsc();

		for (unsigned i = 0; i < dp_n_workers; i++)
			if (dp_worker_run_tsc(dp_workers[i], now) != 0) {
				busy += dp_workers[i]->busy_tsc;
				run += dp_worker_run_tsc(dp_workers[i], now);
			}
		/* Load of all workers since they started, in tenths of a percent. */
		rte_tel_data_add_dict_u64(d, "workers_busy_permille", dp_permille(busy, run));
	}
	{
		/* What the port lost before a worker saw it, or could not send. */
		struct rte_eth_stats st = {0};

		(void)rte_eth_stats_get(dp_workers[0]->cfg->port_id, &st);
		rte_tel_data_add_dict_u64(d, "port_rx_missed", st.imissed);
		rte_tel_data_add_dict_u64(d, "port_rx_no_mbuf", st.rx_nombuf);
		rte_tel_data_add_dict_u64(d, "port_rx_errors", st.ierrors);
		rte_tel_data_add_dict_u64(d, "port_tx_errors", st.oerrors);
	}
	pthread_mutex_unlock(&dp_tel_lock);
	return 0;
}

/*
 * /superpeer/worker,LCORE: every counter of the worker on that lcore (the /superpeer/stats
 * set, drop reasons included, for one worker), its queue and load. -EINVAL for no such
 * worker.
 */
static int dp_tel_worker(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct dp_worker *w = NULL;
	unsigned long lcore;
	char *end;

	(void)cmd;
	if (params == NULL || params[0] < '0' || params[0] > '9')
		return -EINVAL;
	errno = 0;
	lcore = strtoul(params, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	pthread_mutex_lock(&dp_tel_lock);
	if (dp_tel_gone) {
		pthread_mutex_unlock(&dp_tel_lock);
		return -1;
	}
	for (unsigned i = 0; i < dp_n_workers; i++)
		if (dp_workers[i]->lcore == lcore)
			w = dp_workers[i];
	if (w == NULL) {
		pthread_mutex_unlock(&dp_tel_lock);
		return -EINVAL;
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "lcore", w->lcore);
	rte_tel_data_add_dict_u64(d, "queue", w->queue);
	dp_tel_counters(d, w);
	rte_tel_data_add_dict_u64(
		d, "busy_permille", dp_permille(w->busy_tsc, dp_worker_run_tsc(w, rte_rdtsc())));
	pthread_mutex_unlock(&dp_tel_lock);
	return 0;
}

/*
 * /superpeer/workers: each worker (its lcore and queue) with its own packets, bytes, chunks
 * served and ingested, open channels, drops (every reason) and load: how RSS spreads the
 * peers, and which worker runs an ingest.
 */
static int dp_tel_workers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint64_t now = rte_rdtsc();

	(void)cmd;
	(void)params;
	pthread_mutex_lock(&dp_tel_lock);
	if (dp_tel_gone) {
		pthread_mutex_unlock(&dp_tel_lock);
		return -1;
	}
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < dp_n_workers; i++) {
		const struct dp_worker *w = dp_workers[i];
		struct rte_tel_data *e = rte_tel_data_alloc();
		uint64_t drops = 0, run;
		char name[32];

		if (e == NULL)
			break;
		for (unsigned k = 0; k < DP_DROP_COUNT; k++)
			drops += w->drops[k];
		run = dp_worker_run_tsc(w, now);
		rte_tel_data_start_dict(e);
		rte_tel_data_add_dict_u64(e, "queue", w->queue);
		rte_tel_data_add_dict_u64(e, "rx_packets", w->rx_pkts);
		rte_tel_data_add_dict_u64(e, "rx_bytes", w->rx_bytes);
		rte_tel_data_add_dict_u64(e, "tx_packets", w->tx_pkts);
		rte_tel_data_add_dict_u64(e, "tx_bytes", w->tx_bytes);
		rte_tel_data_add_dict_u64(e, "chunks_sent", w->chunks_sent);
		rte_tel_data_add_dict_u64(e, "chunk_bytes_sent", w->chunk_bytes_sent);
		rte_tel_data_add_dict_u64(e, "chunks_ingested", w->chunks_ingested);
		rte_tel_data_add_dict_u64(e, "channels_open", w->channels_open);
		rte_tel_data_add_dict_u64(e, "ingest_steered", w->steered);
		rte_tel_data_add_dict_u64(e, "drops", drops);
		rte_tel_data_add_dict_u64(e, "busy_permille", dp_permille(w->busy_tsc, run));
		snprintf(name, sizeof(name), "lcore_%u", w->lcore);
		rte_tel_data_add_dict_container(d, name, e, 0);
	}
	pthread_mutex_unlock(&dp_tel_lock);
	return 0;
}

static void dp_summary(uint16_t port_id)
{
	uint64_t v;

	printf("superpeer-dataplane: rx %llu packets, tx %llu packets, %llu chunks served\n",
		(unsigned long long)dp_sum(offsetof(struct dp_worker, rx_pkts)),
		(unsigned long long)dp_sum(offsetof(struct dp_worker, tx_pkts)),
		(unsigned long long)dp_sum(offsetof(struct dp_worker, chunks_sent)));
	{
		static const struct {
			const char *name;
			size_t off;
		} more[] = {
			{"chunks ingested", offsetof(struct dp_worker, chunks_ingested)},
			{"chunks lost on the way to an ingest, asked again",
				offsetof(struct dp_worker, ingest_lost)},
			{"channels of cancelled ingests closed at their source",
				offsetof(struct dp_worker, ingest_closed)},
			{"peers timed out", offsetof(struct dp_worker, peers_timed_out)},
			{"keep-alives sent", offsetof(struct dp_worker, keepalives_sent)},
			{"held by rate limits", offsetof(struct dp_worker, rate_held)},
			{"paused for transmit room", offsetof(struct dp_worker, tx_held)},
			{"held by LEDBAT's window", offsetof(struct dp_worker, cc_held)},
			{"channels choked", offsetof(struct dp_worker, channels_choked)},
			{"channels unchoked", offsetof(struct dp_worker, channels_unchoked)},
			{"channels open at most (once a second, summed over workers)",
				offsetof(struct dp_worker, channels_peak)},
			{"peers closed by policy", offsetof(struct dp_worker, peers_blocked)},
			{"neighbours probed again", offsetof(struct dp_worker, neigh_probes)},
			{"ingest frames steered to their owner",
				offsetof(struct dp_worker, steered)},
			{"neighbour replies handed to the other workers",
				offsetof(struct dp_worker, neigh_handed)},
		};

		for (size_t k = 0; k < sizeof(more) / sizeof(more[0]); k++)
			if ((v = dp_sum(more[k].off)) != 0)
				printf("%s: %llu\n", more[k].name, (unsigned long long)v);
	}
	for (unsigned i = 0; i < dp_n_workers; i++) {
		const struct dp_worker *w = dp_workers[i];
		uint64_t run = (w->stop_tsc != 0 ? w->stop_tsc : rte_rdtsc()) - w->start_tsc;

		/* With several workers, what each did: how the flows spread. */
		if (w->start_tsc != 0 && run > 0)
			printf("worker lcore %u busy: %.1f %% of %.1f s, queue %u: %llu chunks "
			       "served, %llu ingested\n",
				w->lcore, 100.0 * (double)w->busy_tsc / (double)run,
				(double)run / (double)rte_get_tsc_hz(), w->queue,
				(unsigned long long)w->chunks_sent,
				(unsigned long long)w->chunks_ingested);
	}
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
	{
		/* Below the workers: frames the port lost (its ring full, no mbuf, bad) or could
		 * not send, as its PMD counts them (not every PMD counts every kind). */
		struct rte_eth_stats st = {0};

		if (rte_eth_stats_get(port_id, &st) == 0 &&
			(st.imissed | st.rx_nombuf | st.ierrors | st.oerrors) != 0)
			printf("port: rx missed %llu, rx without an mbuf %llu, rx errors %llu, tx "
			       "errors %llu\n",
				(unsigned long long)st.imissed, (unsigned long long)st.rx_nombuf,
				(unsigned long long)st.ierrors, (unsigned long long)st.oerrors);
	}
	fflush(stdout);
}

/* "SPI:0xKEYSALT" from the command line into an any-peer SA of the table. */
static int dp_static_sa(struct dp_ctl *ctl, const char *arg, enum kr_dir dir, bool esn)
{
	struct kr_sa sa = {.id = {.dir = (uint8_t)dir}, .flags = esn ? KR_SA_F_ESN : 0};
	char err[256];
	int rc = esp_arg_parse(arg, &sa.id.spi, sa.key, &sa.key_len, sa.salt, err, sizeof(err));

	if (rc == 0)
		rc = sa_table_add(&ctl->sas, &ctl->eng, &sa, false, dp_now_s, err, sizeof(err));
	crypto_wipe(&sa, sizeof(sa));
	if (rc != 0)
		fprintf(stderr, "superpeer-dataplane: --sa-%s: %s\n",
			dir == KR_DIR_IN ? "in" : "out", err);
	return rc;
}

int main(int argc, char **argv)
{
	/* val 'G': a [dataplane] option of the same name (config.c). */
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'C'},
		{"store", required_argument, NULL, 's'},
		{"public", required_argument, NULL, 'p'},
		{"open", no_argument, NULL, 'O'},
		{"ip", required_argument, NULL, 'G'},
		{"ip6", required_argument, NULL, 'G'},
		{"gateway", required_argument, NULL, 'G'},
		{"gateway6", required_argument, NULL, 'G'},
		{"udp-port", required_argument, NULL, 'G'},
		{"esp-port", required_argument, NULL, 'G'},
		{"mtu", required_argument, NULL, 'G'},
		{"max-sas", required_argument, NULL, 'G'},
		{"keyring", required_argument, NULL, 'G'},
		{"idle-polls", required_argument, NULL, 'G'},
		{"idle-sleep-us", required_argument, NULL, 'G'},
		{"ledbat", required_argument, NULL, 'G'},
		{"peer-timeout", required_argument, NULL, 'G'},
		{"keepalive", required_argument, NULL, 'G'},
		{"stats-interval", required_argument, NULL, 'G'},
		{"neigh-reachable", required_argument, NULL, 'G'},
		{"vlan", required_argument, NULL, 'G'},
		{"peer-rate", required_argument, NULL, 'G'},
		{"swarm-rate", required_argument, NULL, 'G'},
		{"max-channels", required_argument, NULL, 'G'},
		{"max-peers", required_argument, NULL, 'G'},
		{"mbufs", required_argument, NULL, 'G'},
		{"sa-in", required_argument, NULL, 'i'},
		{"sa-out", required_argument, NULL, 'o'},
		{"esn", no_argument, NULL, 'E'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct dp_config cfg = {0};
	struct dp_options o;
	const char *sa_in = NULL, *sa_out = NULL;
	char cur_swarm[32] = "";
	unsigned n_cli_swarms = 0;
	struct sigaction sa = {.sa_handler = dp_on_signal};
	static struct dp_ctl ctl;
	struct rte_mempool *pool;
	char err[512];
	bool esn = false;
	unsigned lcore, q = 0;
	int c, n, idx;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "superpeer-dataplane: EAL init failed: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	dp_options_init(&o, keyring_default_name());
	/* Options apply in order: --config FILE at its place, later options override it. */
	while ((c = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
		int rc = 0;

		switch (c) {
		case 'C':
			if (dp_config_load(&o, optarg, err, sizeof(err)) != 0) {
				fprintf(stderr, "superpeer-dataplane: %s\n", err);
				return 2;
			}
			break;
		case 'G':
			rc = dp_options_set(&o, opts[idx].name, optarg, err, sizeof(err));
			break;
		case 's':
			snprintf(cur_swarm, sizeof(cur_swarm), "command-line-%u", ++n_cli_swarms);
			rc = dp_options_swarm_set(&o, cur_swarm, "store", optarg, err, sizeof(err));
			break;
		case 'p':
		case 'O':
			if (cur_swarm[0] == '\0') {
				snprintf(err, sizeof(err), "belongs after a --store");
				rc = -EINVAL;
			} else {
				rc = dp_options_swarm_set(&o, cur_swarm,
					c == 'p' ? "public" : "open", c == 'p' ? optarg : "yes",
					err, sizeof(err));
			}
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
		if (rc != 0) {
			fprintf(stderr, "superpeer-dataplane: --%s: %s\n", opts[idx].name, err);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (dp_options_check(&o, err, sizeof(err)) != 0) {
		fprintf(stderr, "superpeer-dataplane: %s\n", err);
		return 2;
	}
	if ((sa_in == NULL) != (sa_out == NULL)) {
		fprintf(stderr, "superpeer-dataplane: --sa-in and --sa-out go together\n");
		return 2;
	}
	cfg.ip4 = o.ip4;
	memcpy(cfg.ip6, o.ip6, 16);
	cfg.has_ip6 = o.has_ip6;
	cfg.prefix4 = o.prefix4;
	cfg.prefix6 = o.prefix6;
	cfg.gw4 = o.gw4;
	memcpy(cfg.gw6, o.gw6, 16);
	cfg.has_gw6 = o.has_gw6;
	cfg.udp_port = o.udp_port;
	cfg.esp_port = o.esp_port;
	cfg.mtu = o.mtu;
	cfg.idle_polls = o.idle_polls;
	cfg.idle_sleep_us = o.idle_sleep_us;
	cfg.ledbat = o.ledbat;
	cfg.peer_timeout_s = o.peer_timeout_s;
	cfg.keepalive_s = o.keepalive_s;
	cfg.neigh_reachable_s = o.neigh_reachable_s;
	cfg.vlan_id = o.vlan_id;
	cfg.peer_rate = o.peer_rate;
	cfg.swarm_rate = o.swarm_rate;
	cfg.max_channels = o.max_channels;
	cfg.max_peers = o.max_peers;
	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "superpeer-dataplane: no DPDK port (give one with -a or --vdev)\n");
		return 1;
	}
	dp_n_workers = rte_lcore_count() > 1 ? rte_lcore_count() - 1 : 1;
	if (dp_n_workers > DP_MAX_WORKERS) {
		fprintf(stderr, "superpeer-dataplane: %u workers: at most %u\n", dp_n_workers,
			DP_MAX_WORKERS);
		return 2;
	}
	if (dp_ctl_init(&ctl, o.keyring, o.max_sas, dp_n_workers, err, sizeof(err)) != 0) {
		fprintf(stderr, "superpeer-dataplane: %s\n", err);
		return 1;
	}
	ctl.stats_interval_s = o.stats_interval_s;
	cfg.sas = &ctl.sas;
	cfg.swarms = &ctl.swarms;
	cfg.policies = ctl.policies;
	for (unsigned i = 0; i < o.n_swarms; i++) {
		uint8_t pub[ED25519_PUBLIC_LEN];
		int slot;

		if (chunk_store_pub_read(o.swarms[i].pub, pub, err, sizeof(err)) != 0) {
			fprintf(stderr, "superpeer-dataplane: %s\n", err);
			goto fail;
		}
		slot = swarm_table_add(&ctl.swarms, &ctl.eng, o.swarms[i].store, pub,
			o.swarms[i].open, err, sizeof(err));
		if (slot < 0) {
			fprintf(stderr, "superpeer-dataplane: swarm %s: %s\n", o.swarms[i].name,
				err);
			goto fail;
		}
		if ((uint32_t)cfg.mtu < ESP_OVERHEAD + 8u + 3u + 48u + 200u +
						ctl.swarms.slot[slot].store.m.chunk_size) {
			fprintf(stderr,
				"superpeer-dataplane: --mtu %u cannot carry %u-byte chunks\n",
				cfg.mtu, ctl.swarms.slot[slot].store.m.chunk_size);
			goto fail;
		}
	}
	if (sa_in != NULL && (dp_static_sa(&ctl, sa_in, KR_DIR_IN, esn) != 0 ||
				     dp_static_sa(&ctl, sa_out, KR_DIR_OUT, esn) != 0))
		goto fail;
	if (sa_in != NULL && dp_n_workers > 1)
		fprintf(stderr,
			"superpeer-dataplane: warning: --sa-in/--sa-out make one SA pair for any "
			"peer, and an SA is used by one worker: with %u workers, the peers whose "
			"flows land on another worker's queue are dropped (sa_owner). Add an SA "
			"pair per peer through the key ring (superpeer sa add) instead.\n",
			dp_n_workers);

	/* One segment holds the largest frame taken, its 802.1Q tag still in it when the port
	 * does not strip it (dp_net.c drops a chained frame as oversized). */
	pool = rte_pktmbuf_pool_create("dp_pool", o.mbufs * dp_n_workers, 256, 0,
		(uint16_t)(RTE_PKTMBUF_HEADROOM +
			   RTE_MAX(2048, cfg.mtu + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN)),
		(int)rte_socket_id());
	if (pool == NULL) {
		fprintf(stderr, "superpeer-dataplane: mbuf pool: %s\n", rte_strerror(rte_errno));
		goto fail;
	}
	cfg.port_id = 0;
	if (dp_port_init(&cfg, dp_n_workers, pool) != 0) {
		fprintf(stderr, "superpeer-dataplane: port 0 setup failed\n");
		goto fail;
	}
	if (rte_lcore_count() > 1) {
		RTE_LCORE_FOREACH_WORKER(lcore)
		{
			dp_workers[q] = dp_worker_new(&cfg, pool, lcore, (uint16_t)q);
			if (dp_workers[q] == NULL)
				goto nomem;
			q++;
		}
	} else {
		dp_workers[0] = dp_worker_new(&cfg, pool, rte_lcore_id(), 0);
		if (dp_workers[0] == NULL)
			goto nomem;
		/* The only lcore works and drains the key ring between bursts. */
		dp_workers[0]->ctl = &ctl;
		ctl.self_tid = 0;
	}
	ctl.workers = dp_workers;
	ctl.n_workers = dp_n_workers;
	for (unsigned i = 0; i < dp_n_workers; i++)
		cfg.by_lcore[dp_workers[i]->lcore] = dp_workers[i];
	cfg.n_workers = dp_n_workers;
	{
		struct kr_header *h = ctl.kr.h;

		memcpy(h->ip4, &cfg.ip4, 4);
		memcpy(h->ip6, cfg.ip6, 16);
		h->has_ip6 = cfg.has_ip6;
		h->udp_port = cfg.udp_port;
		h->esp_port = cfg.esp_port;
		snprintf(h->telemetry, sizeof(h->telemetry), "%s/dpdk_telemetry.v2",
			rte_eal_get_runtime_dir());
	}
	rte_telemetry_register_cmd("/superpeer/stats", dp_tel_stats,
		"Packets, chunks served and drops by reason, all workers.");
	rte_telemetry_register_cmd("/superpeer/workers", dp_tel_workers,
		"Per worker lcore: packets, bytes, chunks served and ingested, drops, load.");
	rte_telemetry_register_cmd("/superpeer/worker", dp_tel_worker,
		"One worker's every counter, drop reasons included. Parameter: its lcore.");
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	{
		char ip[INET_ADDRSTRLEN], mac[RTE_ETHER_ADDR_FMT_SIZE];

		inet_ntop(AF_INET, &cfg.ip4, ip, sizeof(ip));
		rte_ether_format_addr(mac, sizeof(mac), &cfg.mac);
		char vlan[32] = "";

		if (cfg.vlan_id != 0)
			snprintf(vlan, sizeof(vlan), " vlan %u (tag %s)", cfg.vlan_id,
				cfg.vlan_tx_hw ? "by the port" : "in software");
		printf("superpeer-dataplane: %s, udp %u, esp-in-udp %u, %u worker%s, mac %s%s, "
		       "%u swarm%s, %u SA%s, keyring %s\n",
			ip, cfg.udp_port, cfg.esp_port, dp_n_workers, dp_n_workers > 1 ? "s" : "",
			mac, vlan, ctl.swarms.n, ctl.swarms.n == 1 ? "" : "s", ctl.sas.n,
			ctl.sas.n == 1 ? "" : "s", o.keyring);
		if (cfg.spread != NULL)
			printf("superpeer-dataplane: flows spread over the workers' queues by %s\n",
				cfg.spread);
		printf("superpeer-dataplane: peer table %u slots per worker of %zu bytes (%.1f MiB "
		       "in all), %u mbufs per worker\n",
			cfg.max_peers, sizeof(struct dp_peer),
			(double)cfg.max_peers * sizeof(struct dp_peer) * dp_n_workers / (1 << 20),
			o.mbufs);
		fflush(stdout);
	}
	dp_ctl_started(&ctl);
	if (rte_lcore_count() > 1) {
		q = 0;
		RTE_LCORE_FOREACH_WORKER(lcore)
		rte_eal_remote_launch(dp_worker_loop, dp_workers[q++], lcore);
		/* The main lcore drains the key ring. */
		while (!dp_stop) {
			dp_ctl_poll(&ctl);
			rte_delay_us_sleep(1000);
		}
		rte_eal_mp_wait_lcore();
	} else {
		dp_worker_loop(dp_workers[0]);
	}
	dp_summary(cfg.port_id);
	dp_port_fini(cfg.port_id);
	/* No telemetry handler (ours or the key ring's) may read a worker from here on. */
	pthread_mutex_lock(&dp_tel_lock);
	dp_tel_gone = true;
	pthread_mutex_unlock(&dp_tel_lock);
	pthread_mutex_lock(&ctl.lock);
	ctl.n_workers = 0;
	pthread_mutex_unlock(&ctl.lock);
	for (unsigned i = 0; i < dp_n_workers; i++)
		dp_worker_free(dp_workers[i]);
	dp_ctl_fini(&ctl);
	rte_eal_cleanup();
	return 0;
nomem:
	fprintf(stderr, "superpeer-dataplane: out of memory for workers\n");
fail:
	dp_ctl_fini(&ctl);
	rte_eal_cleanup();
	return 1;
}
