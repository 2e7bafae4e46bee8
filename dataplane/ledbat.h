/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LEDBAT (RFC 6817) for a PPSPP sender, counted in chunks: a congestion window that grows
 * while the one-way queuing delay the receiver reports (in its ACKs, RFC 7574 8.7) stays
 * under the 25 ms target and shrinks as it rises above it, so bulk chunk transfer yields to
 * interactive traffic on the same path. One per channel; no clock of its own (the caller
 * passes microseconds), no allocation. docs/serving.md.
 *
 * Delay samples carry the two hosts' clock offset; only differences from the base delay (the
 * minimum over the last ten minutes, kept per minute) are used, so the offset cancels.
 */
#ifndef SUPERPEER_LEDBAT_H
#define SUPERPEER_LEDBAT_H

#include <stdbool.h>
#include <stdint.h>

enum {
	LEDBAT_TARGET_US = 25000, /* RFC 6817 2.5.1: at most 100 ms; PPSPP deployments use 25 */
	LEDBAT_BASE_MINUTES = 10, /* base delay history */
	LEDBAT_CUR_SAMPLES = 4,	  /* current delay: the minimum of the last few samples */
	LEDBAT_MIN_CWND = 2,	  /* chunks */
	LEDBAT_INIT_CWND = 16,
	LEDBAT_MAX_CWND = 1 << 16,
	LEDBAT_ALLOWED_INCREASE = 1, /* chunks above what is in flight */
};

struct ledbat {
	bool on;
	uint32_t cwnd_q8;   /* chunks, 8 fractional bits */
	uint32_t in_flight; /* chunks sent and not acknowledged */
	int64_t base[LEDBAT_BASE_MINUTES];
	uint8_t base_n;
	uint64_t minute_start_us;
	int64_t cur[LEDBAT_CUR_SAMPLES];
	uint8_t cur_n, cur_next;
	uint64_t last_loss_us;
	uint64_t losses, samples;
};

/* Off: never holds anything back (can_send is always true). */
void ledbat_init(struct ledbat *l, bool on);

static inline bool ledbat_can_send(const struct ledbat *l)
{
	return !l->on || ((uint64_t)l->in_flight << 8) < l->cwnd_q8;
}

static inline uint32_t ledbat_cwnd(const struct ledbat *l)
{
	return l->cwnd_q8 >> 8;
}

static inline void ledbat_sent(struct ledbat *l)
{
	l->in_flight++;
}

/* chunks newly acknowledged with the receiver's one-way delay sample (us, any offset). */
void ledbat_acked(struct ledbat *l, uint32_t chunks, uint64_t delay_us, uint64_t now_us);
/* Something was lost (asked for again): the window halves, at most once per 100 ms, and
 * nothing is counted in flight any more. */
void ledbat_loss(struct ledbat *l, uint64_t now_us);

#endif
