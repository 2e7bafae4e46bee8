/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the key ring's commands as the data plane applies them
 * (dataplane/dp_ctl.c: dp_ctl_apply) on the real SA and swarm tables: the input is a run of
 * 512-byte kr_msg slots. Whatever a producer writes, the data plane must answer with a status,
 * never crash, never reply more than the reply area holds, and never hold more SAs than its
 * table. The EAL runs without hugepages or PCI; the ring's segment is this process's own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>

#include "dp.h"
#include "dp_ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dp_ctl ctl;
static struct dp_worker *none[1];
static bool ready;

static void fuzz_teardown(void)
{
	dp_ctl_fini(&ctl);
	rte_eal_cleanup();
}

static void fuzz_setup(void)
{
	char prefix[64], name[64], err[256];
	char *argv[] = {"fuzz", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
		"--no-telemetry", "--log-level", "1", "--file-prefix", prefix, NULL};

	snprintf(prefix, sizeof(prefix), "spfzkr%d", (int)getpid());
	snprintf(name, sizeof(name), "spfzkr%d", (int)getpid());
	if (rte_eal_init(11, argv) < 0)
		abort();
	if (dp_ctl_init(&ctl, name, 32, 1, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	ctl.workers = none;
	ctl.n_workers = 0;
	ready = true;
	atexit(fuzz_teardown);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready)
		fuzz_setup();
	for (size_t off = 0; off < size; off += KR_MSG_SIZE) {
		struct kr_msg m;
		size_t n = size - off < KR_MSG_SIZE ? size - off : KR_MSG_SIZE;
		uint32_t reply_len = 0;
		char why[120] = "";

		memset(&m, 0, sizeof(m));
		memcpy(&m, data + off, n);
		/* Swarm stores come from the seed corpus's paths only: a fuzzed path must not
		 * wander the file system (it is refused all the same, just slowly). */
		if (m.type == KR_SWARM_ADD)
			m.u.swarm.store[0] = '\0';
		if (m.type == KR_SWARM_SAVE) /* nor create directories */
			m.u.save.dir[0] = '\0';
		dp_ctl_apply(&ctl, &m, why, sizeof(why), &reply_len);
		if (reply_len > KR_REPLY_CAP || ctl.sas.n > ctl.sas.cap ||
			memchr(why, '\0', sizeof(why)) == NULL)
			abort();
	}
	/* Each input starts from empty tables; what it freed goes after the grace period
	 * (no reader is registered, so at once). */
	sa_table_flush(&ctl.sas);
	sa_table_reclaim(&ctl.sas);
	return 0;
}
