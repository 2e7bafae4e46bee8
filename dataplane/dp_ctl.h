/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data plane's control state: the key ring it drains, the SA and swarm tables the
 * commands change, and the lock the telemetry thread and the drainer share (never taken on
 * the packet path). Setup and control code only.
 */
#ifndef SUPERPEER_DP_CTL_H
#define SUPERPEER_DP_CTL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "keyring.h"
#include "sa_table.h"
#include "swarm_table.h"

struct rte_hash;

struct dp_worker;

struct dp_ingest;

/*
 * An ingest being started: its buffers faulted in by a control thread (off the lcores) while
 * the key ring's drainer, on one lcore the worker itself, goes on (dp_ctl.c).
 */
struct dp_ctl_prep {
	pthread_t thread;
	bool running; /* started and not joined yet */
	int done;     /* set (release) by the thread */
	int cancel;   /* set (release) by the drainer: the thread stops at its next step */
	struct dp_ingest *ing;
	int slot;
};

struct dp_ctl {
	struct keyring kr;
	struct sa_table sas;
	struct swarm_table swarms;
	struct rte_hash *policies; /* peer address -> DP_POL_* (KR_PEER_POLICY), readers lock-free */
	struct crypto_engine eng; /* key expansion, manifest checks */
	pthread_mutex_t lock;
	unsigned self_tid; /* QSBR id of the drainer when it is also the worker */
	uint64_t last_scan;
	uint64_t applied;
	uint64_t ingested; /* ingests completed and served */
	bool resynced;
	/* KR_EV_STATS every stats_interval_s seconds (0: never); the last one's time and the
	 * workers' busy and run cycles then, for the load between two. */
	uint32_t stats_interval_s;
	uint64_t start_s, last_stats_s, stats_busy_tsc, stats_run_tsc;
	uint64_t stats_posted, stats_skipped; /* skipped: the event ring was half full */
	struct dp_worker **workers;
	unsigned n_workers;
	/* dp_ctl_poll: a command taken and not finished (a new ingest while another one's
	 * buffers are faulted in): applied again on the next polls, no other taken before it
	 * is done. */
	struct kr_msg held;
	bool holding;
	struct dp_ctl_prep prep;
};

/*
 * Creates the key ring `name`, SA tables for max_sas SAs read by n_threads workers, and
 * registers the telemetry commands. 0 or -errno with one line in err.
 */
int dp_ctl_init(struct dp_ctl *c, const char *name, uint32_t max_sas, unsigned n_threads, char *err,
	size_t cap);
/* Once the workers run: tells control to resync (KR_EV_RESYNC). */
void dp_ctl_started(struct dp_ctl *c);
/* After the workers stopped. */
void dp_ctl_fini(struct dp_ctl *c);
/*
 * One command applied (what dp_ctl_poll does for each it takes, under c->lock; an ingest's
 * buffers are waited for here). Returns its status; the reason in why, a reply of *reply_len
 * bytes in c->kr.reply. Exposed for the fuzzer and tests.
 */
int dp_ctl_apply(struct dp_ctl *c, struct kr_msg *m, char *why, size_t cap, uint32_t *reply_len);
/* Tests only: while non-zero, an ingest's prefault thread waits before it starts (so that
 * a test sees the ingest hung and not ready, deterministically); a cancel still ends it. */
extern volatile int dp_ctl_prep_hold;
/* Refreshes dp_now_s (for runs where no drainer loop does it). */
void dp_ctl_tick_clock(void);

#endif
