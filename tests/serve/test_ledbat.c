/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LEDBAT in chunks (dataplane/ledbat.c), numbered cases:
 *  1. off: never holds anything back
 *  2. on: the initial window (16 chunks), then held until ACKs come
 *  3. no queuing delay: the window grows about one chunk per window acknowledged
 *  4. queuing delay at twice the target: the window shrinks to the minimum
 *  5. a clock offset of any size (even "negative") changes nothing
 *  6. a loss halves the window, once per 100 ms, never below 2 chunks
 *  7. the base delay forgets a minimum older than ten minutes
 *  8. an application-limited sender does not grow its window past what it uses
 */
#include <string.h>

#include "check.h"
#include "ledbat.h"

/*
 * One round trip of an ACK-clocked sender: the window is filled, then each ACK (one chunk,
 * this delay sample) lets the sender fill it again, for one window's worth of ACKs.
 */
static void round_trip(struct ledbat *l, uint64_t delay, uint64_t *now)
{
	uint32_t acks = ledbat_cwnd(l);

	while (ledbat_can_send(l))
		ledbat_sent(l);
	for (uint32_t i = 0; i < acks; i++) {
		*now += 10;
		ledbat_acked(l, 1, delay, *now);
		while (ledbat_can_send(l))
			ledbat_sent(l);
	}
}

int main(void)
{
	struct ledbat l, m;
	uint64_t now = 1000000;

	/* 1 */
	ledbat_init(&l, false);
	for (int i = 0; i < 1000; i++)
		ledbat_sent(&l);
	CHECK(ledbat_can_send(&l));

	/* 2 */
	ledbat_init(&l, true);
	for (int i = 0; i < LEDBAT_INIT_CWND; i++) {
		CHECK(ledbat_can_send(&l));
		ledbat_sent(&l);
	}
	CHECK(!ledbat_can_send(&l));
	ledbat_acked(&l, 1, 5000, now);
	CHECK(ledbat_can_send(&l));

	/* 3 */
	ledbat_init(&l, true);
	for (int r = 0; r < 10; r++)
		round_trip(&l, 5000, &now);
	CHECKF(ledbat_cwnd(&l) >= LEDBAT_INIT_CWND + 9 && ledbat_cwnd(&l) <= LEDBAT_INIT_CWND + 11,
		"cwnd %u after 10 round trips without queuing", ledbat_cwnd(&l));

	/* 4: the base is 5 ms; then every sample is 55 ms (50 ms of queue, twice the target) */
	ledbat_init(&l, true);
	round_trip(&l, 5000, &now);
	for (int r = 0; r < 200 && ledbat_cwnd(&l) > LEDBAT_MIN_CWND; r++)
		round_trip(&l, 5000 + 2 * LEDBAT_TARGET_US, &now);
	CHECKF(ledbat_cwnd(&l) == LEDBAT_MIN_CWND, "cwnd %u under a long queue", ledbat_cwnd(&l));

	/* 5: the same as 3 with the receiver's clock far behind or far ahead */
	for (int s = 0; s < 2; s++) {
		uint64_t off = s == 0 ? (uint64_t)-123456789000ll : 987654321000ull;

		ledbat_init(&m, true);
		ledbat_init(&l, true);
		for (int r = 0; r < 10; r++) {
			uint64_t t = now;

			round_trip(&l, 5000, &now);
			round_trip(&m, 5000 + off, &t);
		}
		CHECKF(ledbat_cwnd(&m) == ledbat_cwnd(&l), "offset %d: cwnd %u vs %u", s,
			ledbat_cwnd(&m), ledbat_cwnd(&l));
	}

	/* 6 */
	ledbat_init(&l, true);
	for (int r = 0; r < 20; r++)
		round_trip(&l, 5000, &now);
	{
		uint32_t before = ledbat_cwnd(&l);

		ledbat_sent(&l);
		ledbat_loss(&l, now);
		CHECK(ledbat_cwnd(&l) == before / 2 && l.in_flight == 0);
		ledbat_loss(&l, now + 50000);
		CHECK(ledbat_cwnd(&l) == before / 2);
		for (int i = 0; i < 20; i++)
			ledbat_loss(&l, now + 200000 + 200000 * (uint64_t)i);
		CHECK(ledbat_cwnd(&l) == LEDBAT_MIN_CWND && l.losses >= 3);
	}

	/* 7: a 1 ms minimum long ago; now 51 ms samples (twice the target above it) are the new
	 * base: no queue, so the window grows (with the old base it would shrink) */
	ledbat_init(&l, true);
	ledbat_sent(&l);
	ledbat_acked(&l, 1, 1000, now);
	for (int minute = 1; minute <= 11; minute++) {
		now += 61000000ull;
		ledbat_sent(&l);
		ledbat_acked(&l, 1, 1000 + 2 * LEDBAT_TARGET_US, now);
	}
	{
		uint32_t before = ledbat_cwnd(&l);

		round_trip(&l, 1000 + 2 * LEDBAT_TARGET_US, &now);
		round_trip(&l, 1000 + 2 * LEDBAT_TARGET_US, &now);
		CHECKF(ledbat_cwnd(&l) > before, "cwnd %u -> %u: old base not forgotten", before,
			ledbat_cwnd(&l));
	}

	/* 8: one chunk at a time for a long while: the window stays near what is used */
	ledbat_init(&l, true);
	for (int i = 0; i < 1000; i++) {
		ledbat_sent(&l);
		now += 100;
		ledbat_acked(&l, 1, 5000, now);
	}
	CHECKF(ledbat_cwnd(&l) <= LEDBAT_INIT_CWND + LEDBAT_ALLOWED_INCREASE,
		"cwnd %u grew while the sender used 1", ledbat_cwnd(&l));
	return check_exit();
}
