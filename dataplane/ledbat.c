/* SPDX-License-Identifier: BSD-3-Clause */
/* LEDBAT (RFC 6817) in chunks: the per-ACK window update and the delay filters. */
#include <string.h>

#include "ledbat.h"

void ledbat_init(struct ledbat *l, bool on)
{
	memset(l, 0, sizeof(*l));
	l->on = on;
	l->cwnd_q8 = LEDBAT_INIT_CWND << 8;
}

static int64_t ledbat_min(const int64_t *v, unsigned n)
{
	int64_t m = v[0];

	for (unsigned i = 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

/* RFC 6817 2.4.2: the base delay, a minimum per minute over the last ten minutes. */
static void ledbat_base_update(struct ledbat *l, int64_t d, uint64_t now_us)
{
	if (l->base_n == 0) {
		l->base[0] = d;
		l->base_n = 1;
		l->minute_start_us = now_us;
		return;
	}
	if (now_us - l->minute_start_us >= 60000000ull) {
		if (l->base_n < LEDBAT_BASE_MINUTES)
			l->base_n++;
		memmove(l->base + 1, l->base, (size_t)(l->base_n - 1) * sizeof(l->base[0]));
		l->base[0] = d;
		l->minute_start_us = now_us;
		return;
	}
	if (d < l->base[0])
		l->base[0] = d;
}

void ledbat_acked(struct ledbat *l, uint32_t chunks, uint64_t delay_us, uint64_t now_us)
{
	int64_t d = (int64_t)delay_us, queuing, cwnd, max_allowed;

	l->in_flight = chunks >= l->in_flight ? 0 : l->in_flight - chunks;
	if (!l->on || chunks == 0)
		return;
	l->samples++;
	ledbat_base_update(l, d, now_us);
	l->cur[l->cur_next] = d;
	l->cur_next = (uint8_t)((l->cur_next + 1) % LEDBAT_CUR_SAMPLES);
	if (l->cur_n < LEDBAT_CUR_SAMPLES)
		l->cur_n++;
	queuing = ledbat_min(l->cur, l->cur_n) - ledbat_min(l->base, l->base_n);
	if (queuing < 0)
		queuing = 0;
	/* cwnd += GAIN * off_target * acked / cwnd, GAIN = 1, in 1/256 chunk. */
	cwnd = (int64_t)l->cwnd_q8;
	cwnd += ((int64_t)LEDBAT_TARGET_US - queuing) * (int64_t)chunks * 65536 /
		((int64_t)LEDBAT_TARGET_US * cwnd);
	max_allowed = ((int64_t)l->in_flight + chunks + LEDBAT_ALLOWED_INCREASE) << 8;
	if (cwnd > max_allowed && cwnd > (int64_t)l->cwnd_q8)
		cwnd = max_allowed > (int64_t)l->cwnd_q8 ? max_allowed : (int64_t)l->cwnd_q8;
	if (cwnd < (LEDBAT_MIN_CWND << 8))
		cwnd = LEDBAT_MIN_CWND << 8;
	if (cwnd > ((int64_t)LEDBAT_MAX_CWND << 8))
		cwnd = (int64_t)LEDBAT_MAX_CWND << 8;
	l->cwnd_q8 = (uint32_t)cwnd;
}

void ledbat_loss(struct ledbat *l, uint64_t now_us)
{
	l->in_flight = 0;
	if (!l->on || (l->last_loss_us != 0 && now_us - l->last_loss_us < 100000))
		return;
	l->last_loss_us = now_us;
	l->losses++;
	l->cwnd_q8 /= 2;
	if (l->cwnd_q8 < (LEDBAT_MIN_CWND << 8))
		l->cwnd_q8 = LEDBAT_MIN_CWND << 8;
}
