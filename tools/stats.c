/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `superpeer stats` — a running data plane's counters in a human form, read from its DPDK
 * telemetry socket (found through the key ring's header): packets, chunks, every drop reason
 * that moved, each worker's share, swarms, SAs. --json prints the telemetry replies as they are.
 * `superpeer monitor` — the data plane's events (resync, SA soft/hard expiry, alarms by
 * peer) as they come, like `ip xfrm monitor`; it becomes the ring's one event consumer.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "keyring.h"
#include "tool.h"

static json_t *stats_query(int fd, const char *cmd)
{
	static char buf[1 << 16];
	json_error_t e;
	ssize_t n;

	if (write(fd, cmd, strlen(cmd)) < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return json_loads(buf, 0, &e);
}

static void stats_print_dict(const char *title, json_t *d, bool skip_zero)
{
	const char *k;
	json_t *v;

	printf("%s\n", title);
	json_object_foreach(d, k, v)
	{
		if (json_is_integer(v)) {
			if (skip_zero && json_integer_value(v) == 0)
				continue;
			printf("  %-28s %" JSON_INTEGER_FORMAT "\n", k, json_integer_value(v));
		} else if (json_is_string(v)) {
			printf("  %-28s %s\n", k, json_string_value(v));
		}
	}
}

int tool_stats_main(int argc, char **argv)
{
	static const char *const cmds[] = {"/superpeer/stats", "/superpeer/workers",
		"/superpeer/swarms", "/superpeer/sa", "/superpeer/keyring"};
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct keyring kr;
	bool as_json = false;
	char hello[1024];
	int fd, rc = 0;

	if (tool_keyring_open(&argc, &argv, &kr) != 0)
		return 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			as_json = true;
		} else {
			keyring_close(&kr);
			fprintf(stderr, "usage: superpeer stats [--keyring NAME] [--json]\n");
			return 2;
		}
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", kr.h->telemetry);
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
		read(fd, hello, sizeof(hello)) <= 0) {
		rc = tool_err("telemetry socket %s: %s", sun.sun_path, strerror(errno));
		goto out;
	}
	printf("superpeer-dataplane pid %d, keyring %s\n", (int)kr.h->dp_pid, kr.shm_name + 1);
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
		json_t *j = stats_query(fd, cmds[c]), *d;
		const char *k;
		json_t *v;

		if (j == NULL || (d = json_object_get(j, cmds[c])) == NULL) {
			rc = tool_err("telemetry %s: no answer", cmds[c]);
			json_decref(j);
			break;
		}
		if (as_json) {
			char *s = json_dumps(j, JSON_COMPACT);

			printf("%s\n", s);
			free(s);
		} else if (c == 0 || c == 4) {
			stats_print_dict(
				c == 0 ? "counters (zeros left out):" : "key ring:", d, c == 0);
		} else {
			printf("%s:\n", c == 1 ? "workers" : c == 2 ? "swarms" : "SAs (first 64)");
			json_object_foreach(d, k, v)
			{
				if (!json_is_object(v))
					continue;
				printf("  %s", k);
				const char *kk;
				json_t *vv;

				json_object_foreach(v, kk, vv)
				{
					if (json_is_integer(vv))
						printf(" %s %" JSON_INTEGER_FORMAT, kk,
							json_integer_value(vv));
					else if (json_is_string(vv))
						printf(" %s %s", kk, json_string_value(vv));
				}
				printf("\n");
			}
		}
		json_decref(j);
	}
out:
	if (fd >= 0)
		close(fd);
	keyring_close(&kr);
	return rc;
}

static volatile sig_atomic_t monitor_stop;

static void monitor_on_signal(int sig)
{
	(void)sig;
	monitor_stop = 1;
}

int tool_monitor_main(int argc, char **argv)
{
	static const char *const alarms[] = {"?", "replay", "icv", "bad-chunk"};
	struct sigaction sa = {.sa_handler = monitor_on_signal};
	uint64_t count = 0, want = 0, timeout_s = 0;
	struct keyring kr;
	time_t start = time(NULL);
	bool stats = true;
	struct kr_msg m;

	if (tool_keyring_open(&argc, &argv, &kr) != 0)
		return 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
			if (tool_num("--count", argv[++i], 0, UINT64_MAX, &want) != 0) {
				keyring_close(&kr);
				return 1;
			}
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			if (tool_num("--timeout", argv[++i], 0, 86400 * 365, &timeout_s) != 0) {
				keyring_close(&kr);
				return 1;
			}
		} else if (strcmp(argv[i], "--no-stats") == 0) {
			stats = false;
		} else {
			keyring_close(&kr);
			fprintf(stderr, "usage: superpeer monitor [--keyring NAME] [--count N] "
					"[--timeout SECONDS] [--no-stats]\n");
			return 2;
		}
	}
	if (keyring_event_consumer(&kr) != 0) {
		keyring_close(&kr);
		return tool_err("another process consumes this key ring's events");
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!monitor_stop && (want == 0 || count < want)) {
		char peer[64];

		if (timeout_s != 0 && (uint64_t)(time(NULL) - start) >= timeout_s)
			break;
		if (!keyring_alive(&kr)) {
			keyring_close(&kr);
			return tool_err("the data plane is gone");
		}
		if (keyring_event_take(&kr, &m) != 1) {
			struct timespec ts = {0, 10 * 1000 * 1000};

			nanosleep(&ts, NULL);
			continue;
		}
		if (m.type == KR_EV_STATS && !stats)
			continue; /* neither printed nor counted */
		count++;
		switch (m.type) {
		case KR_EV_RESYNC:
			printf("resync\n");
			break;
		case KR_EV_SA_SOFT:
		case KR_EV_SA_HARD:
			tool_addr_format(m.u.sa_id.peer, peer, sizeof(peer));
			printf("sa-%s %s spi 0x%08x peer %s\n",
				m.type == KR_EV_SA_SOFT ? "soft-expired" : "hard-expired",
				m.u.sa_id.dir == KR_DIR_IN ? "in" : "out", m.u.sa_id.spi, peer);
			break;
		case KR_EV_PEER_ALARM:
			tool_addr_format(m.u.alarm.peer, peer, sizeof(peer));
			printf("alarm %s peer %s spi 0x%08x count %" PRIu64 "\n",
				alarms[m.u.alarm.reason < 4 ? m.u.alarm.reason : 0], peer,
				m.u.alarm.spi, m.u.alarm.count);
			break;
		case KR_EV_STATS: {
			const struct kr_stats *st = &m.u.stats;

			printf("stats uptime %" PRIu64 " rx-packets %" PRIu64 " rx-bytes %" PRIu64
			       " tx-packets %" PRIu64 " tx-bytes %" PRIu64 " chunks-served %" PRIu64
			       " chunk-bytes-served %" PRIu64 " chunks-ingested %" PRIu64
			       " drops %" PRIu64 " bad-chunks %" PRIu64 " channels %" PRIu64
			       " peers-timed-out %" PRIu64
			       " sas %u swarms %u workers %u busy %u.%u%%"
			       " interval %u\n",
				st->uptime_s, st->rx_packets, st->rx_bytes, st->tx_packets,
				st->tx_bytes, st->chunks_sent, st->chunk_bytes_sent,
				st->chunks_ingested, st->drops, st->bad_chunks, st->channels_open,
				st->peers_timed_out, st->sas, st->swarms, st->workers,
				st->busy_permille / 10, st->busy_permille % 10, st->interval_s);
			break;
		}
		default:
			printf("event %u\n", m.type);
		}
		fflush(stdout);
	}
	keyring_close(&kr);
	return 0;
}
