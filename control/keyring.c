/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The key ring's shared-memory segment and its two rte_rings (layout and rules:
 * include/keyring_abi.h). Setup and control code: nothing here runs per packet.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_ring_peek_zc.h>

#include "crypto.h"
#include "keyring.h"

__attribute__((format(printf, 3, 4))) static void kr_err(
	char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (cap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
}

static size_t kr_align(size_t n)
{
	return (n + 4095) & ~(size_t)4095;
}

const char *keyring_default_name(void)
{
	const char *e = getenv("SUPERPEER_KEYRING");

	return e != NULL && *e != '\0' ? e : "superpeer";
}

static int kr_name(struct keyring *kr, const char *name, char *err, size_t cap)
{
	size_t n = strlen(name);

	if (n == 0 || n >= KR_NAME_MAX) {
		kr_err(err, cap, "keyring name '%s': 1..%d characters", name, KR_NAME_MAX - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '_' || c == '-' || c == '.')) {
			kr_err(err, cap, "keyring name '%s': only letters, digits, '_', '-', '.'",
				name);
			return -EINVAL;
		}
	}
	snprintf(kr->shm_name, sizeof(kr->shm_name), "/superpeer-%s.keyring", name);
	return 0;
}

static void kr_layout(struct keyring *kr)
{
	uint8_t *base = (uint8_t *)kr->h;

	kr->c2d = (struct rte_ring *)(base + kr->h->c2d_off);
	kr->d2c = (struct rte_ring *)(base + kr->h->d2c_off);
	kr->reply = base + kr->h->reply_off;
}

static bool kr_pid_alive(int32_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

bool keyring_alive(const struct keyring *kr)
{
	return kr->h != NULL && kr_pid_alive(kr->h->dp_pid);
}

/* A segment that exists already: -EBUSY if its data plane runs, else 0 (it may go). */
static int kr_check_stale(const char *shm_name, char *err, size_t cap)
{
	struct kr_header h;
	int fd = shm_open(shm_name, O_RDONLY, 0);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = pread(fd, &h, sizeof(h), 0);
	close(fd);
	if (n == (ssize_t)sizeof(h) && h.magic == KR_MAGIC && kr_pid_alive(h.dp_pid) &&
		h.dp_pid != getpid()) {
		kr_err(err, cap, "keyring /dev/shm%s is in use by the data plane pid %d", shm_name,
			(int)h.dp_pid);
		return -EBUSY;
	}
	return 0;
}

int keyring_create(struct keyring *kr, const char *name, char *err, size_t cap)
{
	ssize_t ring_bytes = rte_ring_get_memsize_elem(KR_MSG_SIZE, KR_RING_SLOTS);
	struct kr_header *h;
	size_t size;
	int rc;

	memset(kr, 0, sizeof(*kr));
	kr->fd = -1;
	if ((rc = kr_name(kr, name, err, cap)) != 0)
		return rc;
	if (ring_bytes < 0) {
		kr_err(err, cap, "keyring: ring size refused by DPDK");
		return -EINVAL;
	}
	if ((rc = kr_check_stale(kr->shm_name, err, cap)) != 0)
		return rc;
	shm_unlink(kr->shm_name);
	kr->fd = shm_open(kr->shm_name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (kr->fd < 0) {
		rc = -errno;
		kr_err(err, cap, "keyring /dev/shm%s: %s", kr->shm_name, strerror(errno));
		return rc;
	}
	size = KR_HEADER_SIZE + 2 * kr_align((size_t)ring_bytes) + KR_REPLY_CAP;
	/* 0600 whatever the umask: the segment carries keys. */
	if (fchmod(kr->fd, 0600) != 0 || ftruncate(kr->fd, (off_t)size) != 0) {
		rc = -errno;
		kr_err(err, cap, "keyring /dev/shm%s: %s", kr->shm_name, strerror(errno));
		goto fail;
	}
	h = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, kr->fd, 0);
	if (h == MAP_FAILED) {
		rc = -errno;
		kr_err(err, cap, "keyring: mmap: %s", strerror(errno));
		goto fail;
	}
	/* Keys pass through: keep the pages out of swap and core dumps where allowed. */
	(void)mlock(h, size);
	(void)madvise(h, size, MADV_DONTDUMP);
	kr->h = h;
	kr->size = size;
	kr->creator = true;
	h->abi_version = KR_ABI_VERSION;
	h->header_size = KR_HEADER_SIZE;
	h->msg_size = KR_MSG_SIZE;
	h->ring_slots = KR_RING_SLOTS;
	h->c2d_off = KR_HEADER_SIZE;
	h->d2c_off = h->c2d_off + kr_align((size_t)ring_bytes);
	h->reply_off = h->d2c_off + kr_align((size_t)ring_bytes);
	h->reply_cap = KR_REPLY_CAP;
	h->total_size = size;
	h->dp_pid = (int32_t)getpid();
	if (crypto_random(&h->epoch, sizeof(h->epoch)) != 0) {
		rc = -EIO;
		kr_err(err, cap, "keyring: no randomness");
		goto fail;
	}
	kr_layout(kr);
	if (rte_ring_init(kr->c2d, "kr_c2d", KR_RING_SLOTS, RING_F_SP_ENQ | RING_F_SC_DEQ) != 0 ||
		rte_ring_init(kr->d2c, "kr_d2c", KR_RING_SLOTS, RING_F_SP_ENQ | RING_F_SC_DEQ) !=
			0) {
		rc = -EINVAL;
		kr_err(err, cap, "keyring: rte_ring_init failed");
		goto fail;
	}
	/* The magic last: an opener that sees it sees a complete segment. */
	__atomic_store_n(&h->magic, KR_MAGIC, __ATOMIC_RELEASE);
	return 0;
fail:
	keyring_destroy(kr);
	return rc;
}

void keyring_destroy(struct keyring *kr)
{
	if (kr->h != NULL) {
		crypto_wipe(kr->reply, KR_REPLY_CAP);
		munmap(kr->h, kr->size);
	}
	if (kr->fd >= 0) {
		close(kr->fd);
		shm_unlink(kr->shm_name);
	}
	kr->h = NULL;
	kr->fd = -1;
}

int keyring_open(struct keyring *kr, const char *name, char *err, size_t cap)
{
	struct kr_header h;
	struct stat st;
	void *p;
	int rc;

	memset(kr, 0, sizeof(*kr));
	kr->fd = -1;
	if ((rc = kr_name(kr, name, err, cap)) != 0)
		return rc;
	kr->fd = shm_open(kr->shm_name, O_RDWR, 0);
	if (kr->fd < 0) {
		rc = -errno;
		if (errno == ENOENT)
			kr_err(err, cap, "no data plane with keyring '%s' (/dev/shm%s missing)",
				name, kr->shm_name);
		else
			kr_err(err, cap, "keyring /dev/shm%s: %s", kr->shm_name, strerror(errno));
		return rc;
	}
	if (fstat(kr->fd, &st) != 0 || pread(kr->fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
		__atomic_load_n(&h.magic, __ATOMIC_ACQUIRE) != KR_MAGIC) {
		kr_err(err, cap, "keyring /dev/shm%s: not a superpeer key ring (or not ready)",
			kr->shm_name);
		rc = -EPROTO;
		goto fail;
	}
	if (h.abi_version != KR_ABI_VERSION || h.header_size != KR_HEADER_SIZE ||
		h.msg_size != KR_MSG_SIZE || h.ring_slots != KR_RING_SLOTS ||
		h.total_size != (uint64_t)st.st_size || h.reply_off + h.reply_cap > h.total_size) {
		kr_err(err, cap, "keyring /dev/shm%s: ABI version %u, this tool speaks %u",
			kr->shm_name, h.abi_version, KR_ABI_VERSION);
		rc = -EPROTO;
		goto fail;
	}
	p = mmap(NULL, h.total_size, PROT_READ | PROT_WRITE, MAP_SHARED, kr->fd, 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		kr_err(err, cap, "keyring: mmap: %s", strerror(errno));
		goto fail;
	}
	(void)madvise(p, h.total_size, MADV_DONTDUMP);
	kr->h = p;
	kr->size = h.total_size;
	kr_layout(kr);
	return 0;
fail:
	close(kr->fd);
	kr->fd = -1;
	return rc;
}

void keyring_close(struct keyring *kr)
{
	if (kr->h != NULL)
		munmap(kr->h, kr->size);
	if (kr->fd >= 0)
		close(kr->fd);
	kr->h = NULL;
	kr->fd = -1;
}

static void kr_sleep_us(long us)
{
	struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

/*
 * Open-file-description locks on one byte of the segment each: byte 0 for the producer of
 * commands, byte 1 for the consumer of events. Released on close or process exit.
 */
static int kr_lock(int fd, off_t byte, short type)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1};

	return fcntl(fd, F_OFD_SETLK, &fl) == 0 ? 0 : -errno;
}

static uint64_t kr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The producers' lock (byte 0), waiting until deadline: 0, -EBUSY or -errno. */
static int kr_producer_lock(struct keyring *kr, uint64_t deadline, char *why, size_t why_cap)
{
	int rc;

	while ((rc = kr_lock(kr->fd, 0, F_WRLCK)) != 0) {
		if (rc != -EAGAIN && rc != -EACCES && rc != -EINTR)
			return rc;
		if (kr_now_ms() > deadline) {
			kr_err(why, why_cap, "another producer holds the key ring");
			return -EBUSY;
		}
		kr_sleep_us(1000);
	}
	return 0;
}

/* cmd under the next seq into the ring, waiting for room until deadline. 0, -ETIMEDOUT,
 * -ESRCH, or -ECANCELED once batch_failed says so. cmd_seq moves only when the command is in
 * the ring, so it is always the last seq the data plane will see. */
static int kr_send(struct keyring *kr, struct kr_msg *cmd, uint64_t deadline,
	bool (*batch_failed)(const struct keyring *kr))
{
	struct kr_header *h = kr->h;

	cmd->seq = __atomic_load_n(&h->cmd_seq, __ATOMIC_RELAXED) + 1;
	while (rte_ring_enqueue_elem(kr->c2d, cmd, KR_MSG_SIZE) != 0) {
		if (batch_failed != NULL && batch_failed(kr))
			return -ECANCELED;
		if (!keyring_alive(kr) || kr_now_ms() > deadline)
			return keyring_alive(kr) ? -ETIMEDOUT : -ESRCH;
		kr_sleep_us(100);
	}
	__atomic_store_n(&h->cmd_seq, cmd->seq, __ATOMIC_RELAXED);
	return 0;
}

/* Until done_seq reaches seq: 0, or -ESRCH / -ETIMEDOUT with why. */
static int kr_wait_done(struct keyring *kr, uint64_t seq, uint64_t deadline, unsigned timeout_ms,
	char *why, size_t why_cap)
{
	const struct kr_header *h = kr->h;
	long nap = 50;

	while (__atomic_load_n(&h->done_seq, __ATOMIC_ACQUIRE) < seq) {
		if (!keyring_alive(kr)) {
			kr_err(why, why_cap, "the data plane (pid %d) is gone", (int)h->dp_pid);
			return -ESRCH;
		}
		if (kr_now_ms() > deadline) {
			kr_err(why, why_cap, "the data plane did not answer in %u ms", timeout_ms);
			return -ETIMEDOUT;
		}
		kr_sleep_us(nap);
		if (nap < 2000)
			nap *= 2;
	}
	return 0;
}

int keyring_call(struct keyring *kr, struct kr_msg *cmd, void *reply, size_t reply_cap,
	size_t *reply_len, char *why, size_t why_cap, unsigned timeout_ms)
{
	struct kr_header *h = kr->h;
	uint64_t deadline = kr_now_ms() + timeout_ms;
	int rc;

	if (reply_len != NULL)
		*reply_len = 0;
	kr_err(why, why_cap, "%s", "");
	rc = kr_producer_lock(kr, deadline, why, why_cap);
	if (rc != 0)
		return rc;
	cmd->flags &= (uint16_t)~KR_F_AFTER_OK;
	rc = kr_send(kr, cmd, deadline, NULL);
	if (rc == 0)
		rc = kr_wait_done(kr, cmd->seq, deadline, timeout_ms, why, why_cap);
	if (rc != 0)
		goto out;
	rc = h->done_status;
	if (rc != 0)
		kr_err(why, why_cap, "%.*s", (int)sizeof(h->done_msg), h->done_msg);
	if (h->reply_len > 0) {
		size_t n = h->reply_len < reply_cap ? h->reply_len : reply_cap;

		if (reply != NULL && n > 0)
			memcpy(reply, kr->reply, n);
		if (reply_len != NULL)
			*reply_len = reply != NULL ? n : 0;
		/* A KR_SA_GET reply holds a key: it stays in the segment no longer than this. */
		crypto_wipe(kr->reply, h->reply_len);
		h->reply_len = 0;
	}
out:
	kr_lock(kr->fd, 0, F_UNLCK);
	return rc;
}

/* A command of the current batch failed. */
static bool kr_batch_failed(const struct keyring *kr)
{
	const struct kr_header *h = kr->h;

	return __atomic_load_n(&h->fail_seq, __ATOMIC_ACQUIRE) >= h->batch_from;
}

int keyring_batch_begin(struct keyring *kr, char *why, size_t why_cap, unsigned timeout_ms)
{
	struct kr_header *h = kr->h;
	int rc;

	uint64_t deadline = kr_now_ms() + timeout_ms, last;

	kr_err(why, why_cap, "%s", "");
	rc = kr_producer_lock(kr, deadline, why, why_cap);
	if (rc != 0)
		return rc;
	/*
	 * Commands an earlier producer left in the ring (it timed out, or died) must be done
	 * before batch_from moves past them: cancelling and failure recording go by batch_from,
	 * and would otherwise lose track of that producer's batch.
	 */
	last = __atomic_load_n(&h->cmd_seq, __ATOMIC_RELAXED);
	rc = kr_wait_done(kr, last, deadline, timeout_ms, why, why_cap);
	if (rc != 0) {
		if (rc == -ETIMEDOUT)
			kr_err(why, why_cap, "commands sent before are still not applied");
		kr_lock(kr->fd, 0, F_UNLCK);
		return rc;
	}
	kr->batch_last = 0;
	__atomic_store_n(&h->batch_from, last + 1, __ATOMIC_RELEASE);
	return 0;
}

int keyring_batch_send(
	struct keyring *kr, struct kr_msg *cmd, char *why, size_t why_cap, unsigned timeout_ms)
{
	int rc;

	if (kr_batch_failed(kr))
		return -ECANCELED;
	cmd->flags |= KR_F_AFTER_OK;
	rc = kr_send(kr, cmd, kr_now_ms() + timeout_ms, kr_batch_failed);
	if (rc == 0)
		kr->batch_last = cmd->seq;
	else if (rc != -ECANCELED)
		kr_err(why, why_cap, "%s",
			rc == -ESRCH ? "the data plane is gone" : "the key ring stayed full");
	return rc;
}

int keyring_batch_end(
	struct keyring *kr, uint64_t *failed, char *why, size_t why_cap, unsigned timeout_ms)
{
	const struct kr_header *h = kr->h;
	int rc = 0;

	*failed = 0;
	if (kr->batch_last != 0)
		rc = kr_wait_done(
			kr, kr->batch_last, kr_now_ms() + timeout_ms, timeout_ms, why, why_cap);
	/* A failure recorded comes first, even when the wait for the rest timed out. */
	if (kr_batch_failed(kr)) {
		*failed = h->fail_seq;
		rc = h->fail_status != 0 ? h->fail_status : -EIO;
		kr_err(why, why_cap, "%.*s", (int)sizeof(h->fail_msg), h->fail_msg);
	}
	kr->batch_last = 0;
	kr_lock(kr->fd, 0, F_UNLCK);
	return rc;
}

int keyring_cmd_take(struct keyring *kr, struct kr_msg *out)
{
	struct rte_ring_zc_data zcd;

	__atomic_fetch_add(&kr->h->heartbeat, 1, __ATOMIC_RELAXED);
	if (rte_ring_dequeue_zc_burst_elem_start(kr->c2d, KR_MSG_SIZE, 1, &zcd, NULL) != 1)
		return 0;
	/* One element never wraps: it is all in ptr1. Copy, then wipe the slot before the
	 * producer may reuse it. */
	memcpy(out, zcd.ptr1, KR_MSG_SIZE);
	crypto_wipe(zcd.ptr1, KR_MSG_SIZE);
	rte_ring_dequeue_zc_elem_finish(kr->c2d, 1);
	return 1;
}

bool keyring_cmd_cancelled(const struct keyring *kr, const struct kr_msg *m)
{
	const struct kr_header *h = kr->h;
	uint64_t from = __atomic_load_n(&h->batch_from, __ATOMIC_ACQUIRE);

	return (m->flags & KR_F_AFTER_OK) && from != 0 && m->seq >= from && h->fail_seq >= from;
}

void keyring_cmd_done(
	struct keyring *kr, uint64_t seq, int status, const char *why, uint32_t reply_len)
{
	struct kr_header *h = kr->h;
	uint64_t from = __atomic_load_n(&h->batch_from, __ATOMIC_ACQUIRE);

	if (status != 0 && seq >= from && h->fail_seq < from) {
		h->fail_status = status;
		snprintf(h->fail_msg, sizeof(h->fail_msg), "%s", why != NULL ? why : "");
		__atomic_store_n(&h->fail_seq, seq, __ATOMIC_RELEASE);
	}
	h->done_status = status;
	h->reply_len = reply_len;
	snprintf(h->done_msg, sizeof(h->done_msg), "%s", why != NULL ? why : "");
	h->cmds_applied++;
	__atomic_store_n(&h->done_seq, seq, __ATOMIC_RELEASE);
}

int keyring_event_post(struct keyring *kr, const struct kr_msg *ev)
{
	if (rte_ring_enqueue_elem(kr->d2c, (void *)(uintptr_t)ev, KR_MSG_SIZE) != 0) {
		__atomic_fetch_add(&kr->h->events_lost, 1, __ATOMIC_RELAXED);
		return -ENOBUFS;
	}
	return 0;
}

int keyring_event_consumer(struct keyring *kr)
{
	int rc = kr_lock(kr->fd, 1, F_WRLCK);

	return rc == -EAGAIN || rc == -EACCES ? -EBUSY : rc;
}

int keyring_event_take(struct keyring *kr, struct kr_msg *out)
{
	return rte_ring_dequeue_elem(kr->d2c, out, KR_MSG_SIZE) == 0 ? 1 : 0;
}
