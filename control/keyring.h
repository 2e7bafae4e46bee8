/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The key ring (include/keyring_abi.h): create, open, send a command and wait for its
 * acknowledgement, take commands, post and take events. Used by superpeer-dataplane (the
 * segment's creator and the commands' consumer), by `superpeer sa|swarm|stats` and by the
 * control process (producers). Needs DPDK's ring library but not the EAL: a producer is an
 * ordinary process. docs/keyring.md.
 */
#ifndef SUPERPEER_KEYRING_H
#define SUPERPEER_KEYRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyring_abi.h"

struct rte_ring;

struct keyring {
	int fd;
	bool creator;
	struct kr_header *h;
	size_t size;
	struct rte_ring *c2d, *d2c;
	uint8_t *reply;
	char shm_name[KR_NAME_MAX + 32];
	uint64_t batch_last; /* producer: the last seq a batch sent (0: none yet) */
};

/* "NAME" from --keyring or $SUPERPEER_KEYRING, else "superpeer". */
const char *keyring_default_name(void);

/*
 * Data plane: creates the segment for name, mode 0600, and its rings. A segment left by a
 * data plane that is gone is replaced; one whose data plane runs is -EBUSY. 0 or -errno,
 * with a one-line message in err.
 */
int keyring_create(struct keyring *kr, const char *name, char *err, size_t cap);
/* Data plane: unmaps and removes the segment. */
void keyring_destroy(struct keyring *kr);

/* Producers: maps an existing segment and checks magic and version. 0 or -errno + err. */
int keyring_open(struct keyring *kr, const char *name, char *err, size_t cap);
void keyring_close(struct keyring *kr);

/* True when the segment's data plane still runs. */
bool keyring_alive(const struct keyring *kr);

/*
 * Producer: sends cmd (its seq is assigned here) and waits up to timeout_ms for the data plane
 * to apply it. The reply (up to reply_cap bytes) is copied to reply and wiped from the
 * segment. Returns the command's status (0 or -errno; the data plane's reason in why), or
 * -ETIMEDOUT / -ESRCH (data plane gone) / -EBUSY (another producer held the lock too long).
 */
int keyring_call(struct keyring *kr, struct kr_msg *cmd, void *reply, size_t reply_cap,
	size_t *reply_len, char *why, size_t why_cap, unsigned timeout_ms);

/*
 * Producer, a batch: many commands through one holding of the lock, each sent without
 * waiting for the one before (a command takes about a millisecond to be acknowledged, the
 * data plane's cadence). begin takes the lock (-EBUSY after timeout_ms); send assigns seq,
 * marks the command KR_F_AFTER_OK and queues it, waiting for ring room (-ECANCELED as soon as
 * a command of the batch has failed: send no more; -ESRCH, -ETIMEDOUT); end waits for the
 * last one and releases the lock: 0 when all were applied, else the first failure's status
 * with its seq in *failed and the data plane's reason in why. Commands that reply (lists,
 * KR_SA_GET) do not belong in a batch. begin first waits (within timeout_ms) for commands an
 * earlier producer left in the ring. The lock is per open file description: threads sharing
 * one struct keyring are not kept apart, and a keyring_call inside a batch would end it.
 */
int keyring_batch_begin(struct keyring *kr, char *why, size_t why_cap, unsigned timeout_ms);
int keyring_batch_send(
	struct keyring *kr, struct kr_msg *cmd, char *why, size_t why_cap, unsigned timeout_ms);
int keyring_batch_end(
	struct keyring *kr, uint64_t *failed, char *why, size_t why_cap, unsigned timeout_ms);

/* Data plane: the next command into out, its ring slot wiped. 1, or 0 when none. */
int keyring_cmd_take(struct keyring *kr, struct kr_msg *out);
/* Data plane: true when m belongs to a batch one of whose commands failed (answer it
 * -ECANCELED, do not apply it). */
bool keyring_cmd_cancelled(const struct keyring *kr, const struct kr_msg *m);
/* Data plane: acknowledges seq with status and a reason; reply_len bytes already in kr->reply.
 * A failure of a batch's command is recorded as the batch's first (fail_seq). */
void keyring_cmd_done(
	struct keyring *kr, uint64_t seq, int status, const char *why, uint32_t reply_len);

/* Data plane: queues an event; -ENOBUFS (counted in events_lost) when d2c is full. */
int keyring_event_post(struct keyring *kr, const struct kr_msg *ev);
/* Control: become the one consumer of events (held until close). 0, or -EBUSY. */
int keyring_event_consumer(struct keyring *kr);
/* Control, once the consumer: the next event into out. 1, or 0 when none. */
int keyring_event_take(struct keyring *kr, struct kr_msg *out);

#endif
