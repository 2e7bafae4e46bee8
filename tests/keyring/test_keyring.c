/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The key ring library (control/keyring.c) on its own, without the EAL, as a producer runs
 * it. Numbered cases:
 *  1. create: segment 0600, magic and layout; ABI fields as the header says
 *  2. a second data plane with the same name is refused while the first runs (-EBUSY);
 *     a segment whose data plane is gone is replaced
 *  3. open: a version mismatch is refused (-EPROTO); a missing ring is -ENOENT
 *  4. call/ack: a consumer thread applies 2000 commands in order; status, reason and reply
 *     reach the producer; every key byte is gone from the ring and the reply area
 *  5. a producer lock held elsewhere: -EBUSY after the timeout; no consumer: -ETIMEDOUT
 *  6. a dead data plane: -ESRCH, quickly
 *  7. events: 1023 queued, the next counted in events_lost; one event consumer at a time
 *  8. a batch does not begin while an earlier command is not acknowledged (-ETIMEDOUT);
 *     a batch: 3000 commands sent without waiting for each, all applied in order; then a
 *     batch whose 500th command fails: keyring_batch_end names it with its reason, none after
 *     it is applied (each answered -ECANCELED), a plain call after it is not cancelled, and
 *     no key byte is left in the ring
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_ring.h>

#include "check.h"
#include "keyring.h"

static char name[64];
static volatile int consumer_stop;

static const uint8_t key_pattern[16] = {0xde, 0xad, 0xbe, 0xef, 0x5e, 0xc7, 0xe7, 0x00, 0x11, 0x22,
	0x33, 0x44, 0x55, 0x66, 0x77, 0x88};

static bool contains(const uint8_t *p, size_t n, const uint8_t *needle, size_t k)
{
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(p + i, needle, k) == 0)
			return true;
	return false;
}

static pid_t dead_pid(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
	return p;
}

/* The data plane's side: takes commands, answers status = -(seq % 3), a reply echoing seq. */
static void *consumer(void *arg)
{
	struct keyring *kr = arg;
	uint64_t expect = 0;
	struct kr_msg m;

	while (!consumer_stop) {
		if (keyring_cmd_take(kr, &m) != 1) {
			usleep(50);
			continue;
		}
		if (expect != 0 && m.seq != expect + 1)
			fprintf(stderr, "out of order: %llu after %llu\n",
				(unsigned long long)m.seq, (unsigned long long)expect);
		expect = m.seq;
		memcpy(kr->reply, &m.seq, sizeof(m.seq));
		memcpy(kr->reply + 8, key_pattern, sizeof(key_pattern));
		keyring_cmd_done(kr, m.seq, -(int)(m.seq % 3), m.seq % 3 ? "refused" : "", 24);
	}
	return NULL;
}

/* The data plane's side of a batch: applies (counts) each command, fails the one whose seq
 * is batch_fail, answers those a failure cancelled -ECANCELED, as dp_ctl_poll does. */
static volatile uint64_t batch_fail;
static unsigned batch_ok, batch_failed, batch_cancelled, batch_disorder;

static void *batch_consumer(void *arg)
{
	struct keyring *kr = arg;
	uint64_t last = 0;
	struct kr_msg m;

	while (!consumer_stop) {
		int st = 0;

		if (keyring_cmd_take(kr, &m) != 1) {
			usleep(50);
			continue;
		}
		batch_disorder += last != 0 && m.seq != last + 1;
		last = m.seq;
		if (keyring_cmd_cancelled(kr, &m)) {
			st = -ECANCELED;
			batch_cancelled++;
		} else if (m.seq == batch_fail) {
			st = -EEXIST;
			batch_failed++;
		} else {
			batch_ok++;
		}
		keyring_cmd_done(kr, m.seq, st, st == -EEXIST ? "SA exists" : "", 0);
	}
	return NULL;
}

int main(void)
{
	struct keyring dp, dp2, ctl, ctl2;
	char err[256], why[128], path[128];
	uint64_t left_seq = 0;
	struct stat st;
	int rc;

	snprintf(name, sizeof(name), "sptest%d", (int)getpid());
	snprintf(path, sizeof(path), "/dev/shm/superpeer-%s.keyring", name);

	/* 1 */
	umask(0);
	rc = keyring_create(&dp, name, err, sizeof(err));
	CHECKF(rc == 0, "%s", err);
	if (rc != 0)
		return check_exit();
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(dp.h->magic == KR_MAGIC && dp.h->abi_version == KR_ABI_VERSION);
	CHECK(dp.h->dp_pid == getpid() && dp.h->total_size == (uint64_t)st.st_size);
	CHECK(rte_ring_get_capacity(dp.c2d) == KR_RING_SLOTS - 1);

	/* 2 */
	dp.h->dp_pid = getppid();
	CHECK(keyring_create(&dp2, name, err, sizeof(err)) == -EBUSY);
	CHECK(strstr(err, "in use") != NULL);
	dp.h->dp_pid = dead_pid();
	keyring_close(&dp); /* as if that data plane had crashed: the segment stays */
	CHECK(access(path, F_OK) == 0);
	rc = keyring_create(&dp, name, err, sizeof(err));
	CHECKF(rc == 0, "%s", err);
	if (rc != 0)
		return check_exit();

	/* 3 */
	CHECK(keyring_open(&ctl, "sp-no-such-ring", err, sizeof(err)) == -ENOENT);
	CHECK(keyring_open(&ctl, "bad/name", err, sizeof(err)) == -EINVAL);
	dp.h->abi_version = KR_ABI_VERSION + 1;
	CHECK(keyring_open(&ctl, name, err, sizeof(err)) == -EPROTO);
	dp.h->abi_version = KR_ABI_VERSION;
	rc = keyring_open(&ctl, name, err, sizeof(err));
	CHECKF(rc == 0, "%s", err);
	if (rc != 0)
		return check_exit();

	/* 4 */
	{
		pthread_t t;
		unsigned bad = 0;

		consumer_stop = 0;
		pthread_create(&t, NULL, consumer, &dp);
		for (unsigned i = 0; i < 2000; i++) {
			struct kr_msg m = {.type = KR_SA_ADD, .len = sizeof(struct kr_sa)};
			uint8_t reply[64];
			uint64_t seq;
			size_t got;

			memcpy(m.u.sa.key, key_pattern, sizeof(key_pattern));
			rc = keyring_call(
				&ctl, &m, reply, sizeof(reply), &got, why, sizeof(why), 2000);
			memcpy(&seq, reply, sizeof(seq));
			if (rc != -(int)(m.seq % 3) || got != 24 || seq != m.seq ||
				(rc != 0 && strcmp(why, "refused") != 0))
				bad++;
		}
		consumer_stop = 1;
		pthread_join(t, NULL);
		CHECKF(bad == 0, "%u of 2000 calls answered wrongly", bad);
		CHECK(dp.h->cmds_applied == 2000 && dp.h->done_seq == 2000);
		/* Every slot the commands passed through, and the reply area, hold no key. */
		CHECK(!contains((const uint8_t *)dp.h + dp.h->c2d_off,
			dp.h->d2c_off - dp.h->c2d_off, key_pattern, sizeof(key_pattern)));
		CHECK(!contains(dp.reply, KR_REPLY_CAP, key_pattern, sizeof(key_pattern)));
	}

	/* 5 */
	{
		struct flock fl = {
			.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
		struct kr_msg m = {.type = KR_SA_FLUSH};

		rc = keyring_open(&ctl2, name, err, sizeof(err));
		CHECK(rc == 0);
		CHECK(fcntl(ctl2.fd, F_OFD_SETLK, &fl) == 0);
		CHECK(keyring_call(&ctl, &m, NULL, 0, NULL, why, sizeof(why), 100) == -EBUSY);
		keyring_close(&ctl2);
		CHECK(keyring_call(&ctl, &m, NULL, 0, NULL, why, sizeof(why), 100) == -ETIMEDOUT);
		/* The unanswered command is still queued: take it so later cases start clean. */
		CHECK(keyring_cmd_take(&dp, &m) == 1 && m.type == KR_SA_FLUSH);
		keyring_cmd_done(&dp, m.seq, 0, "", 0);
	}

	/* 6 */
	{
		struct kr_msg m = {.type = KR_SA_FLUSH};
		pid_t me = dp.h->dp_pid;

		dp.h->dp_pid = dead_pid();
		CHECK(keyring_call(&ctl, &m, NULL, 0, NULL, why, sizeof(why), 5000) == -ESRCH);
		CHECK(strstr(why, "gone") != NULL);
		CHECK(!keyring_alive(&ctl));
		dp.h->dp_pid = me;
		CHECK(keyring_cmd_take(&dp, &m) == 1);
		left_seq = m.seq; /* taken, never acknowledged: case 8 */
	}

	/* 7 */
	{
		struct kr_msg ev = {.type = KR_EV_SA_SOFT}, out;
		unsigned queued = 0, taken = 0;

		for (unsigned i = 0; i < KR_RING_SLOTS; i++)
			queued += keyring_event_post(&dp, &ev) == 0;
		CHECK(queued == KR_RING_SLOTS - 1 && dp.h->events_lost == 1);
		CHECK(keyring_event_consumer(&ctl) == 0);
		rc = keyring_open(&ctl2, name, err, sizeof(err));
		CHECK(rc == 0 && keyring_event_consumer(&ctl2) == -EBUSY);
		keyring_close(&ctl2);
		while (keyring_event_take(&ctl, &out) == 1)
			taken += out.type == KR_EV_SA_SOFT;
		CHECK(taken == KR_RING_SLOTS - 1);
	}

	/* 8 */
	{
		pthread_t t;
		uint64_t first, failed = 1;
		unsigned sent = 0, bad_send = 0;
		struct kr_msg m = {.type = KR_SA_ADD, .len = sizeof(struct kr_sa)};

		/* Case 6's command, still not acknowledged: a batch may not begin past it. */
		CHECK(keyring_batch_begin(&ctl, why, sizeof(why), 100) == -ETIMEDOUT &&
			strstr(why, "still not applied") != NULL);
		keyring_cmd_done(&dp, left_seq, 0, "", 0);
		consumer_stop = 0;
		batch_fail = 0;
		pthread_create(&t, NULL, batch_consumer, &dp);
		CHECK(keyring_batch_begin(&ctl, why, sizeof(why), 1000) == 0);
		for (unsigned i = 0; i < 3000; i++) {
			memcpy(m.u.sa.key, key_pattern, sizeof(key_pattern));
			bad_send += keyring_batch_send(&ctl, &m, why, sizeof(why), 2000) != 0;
		}
		CHECK(bad_send == 0);
		CHECK(keyring_batch_end(&ctl, &failed, why, sizeof(why), 5000) == 0 && failed == 0);
		CHECKF(batch_ok == 3000 && batch_failed == 0 && batch_cancelled == 0 &&
				batch_disorder == 0,
			"clean batch: %u applied, %u failed, %u cancelled, %u out of order",
			batch_ok, batch_failed, batch_cancelled, batch_disorder);

		batch_ok = 0;
		CHECK(keyring_batch_begin(&ctl, why, sizeof(why), 1000) == 0);
		first = dp.h->batch_from;
		batch_fail = first + 499;
		for (unsigned i = 0; i < 3000; i++) {
			memcpy(m.u.sa.key, key_pattern, sizeof(key_pattern));
			rc = keyring_batch_send(&ctl, &m, why, sizeof(why), 2000);
			if (rc == -ECANCELED)
				break; /* the failure is known: no need to send more */
			bad_send += rc != 0;
			sent++;
		}
		rc = keyring_batch_end(&ctl, &failed, why, sizeof(why), 5000);
		CHECKF(rc == -EEXIST && failed == first + 499 && strcmp(why, "SA exists") == 0,
			"end: %d, failed %llu of %llu.., '%s'", rc, (unsigned long long)failed,
			(unsigned long long)first, why);
		CHECKF(bad_send == 0 && batch_ok == 499 && batch_failed == 1 &&
				batch_cancelled == sent - 500,
			"%u sent: %u applied, %u failed, %u cancelled", sent, batch_ok,
			batch_failed, batch_cancelled);
		/* A plain call after a failed batch is not cancelled. */
		batch_ok = 0;
		CHECK(keyring_call(&ctl, &m, NULL, 0, NULL, why, sizeof(why), 2000) == 0 &&
			batch_ok == 1);
		consumer_stop = 1;
		pthread_join(t, NULL);
		CHECK(!contains((const uint8_t *)dp.h + dp.h->c2d_off,
			dp.h->d2c_off - dp.h->c2d_off, key_pattern, sizeof(key_pattern)));
	}

	keyring_close(&ctl);
	keyring_destroy(&dp);
	CHECK(access(path, F_OK) != 0);
	return check_exit();
}
