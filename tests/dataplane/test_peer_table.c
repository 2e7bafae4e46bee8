/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's peer table (dp_peer_get in dp_ppspp.c) without DPDK around it: peers that
 * differ only in the last octets of an IPv4 address, or only in their port, all find a slot
 * in a table three quarters full; a known peer is found again, not added twice; a slot freed
 * elsewhere (used = false, its tag left behind) is taken again once nothing else is in reach.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dp.h"

static struct dp_worker *table(unsigned slots)
{
	struct dp_worker *w = calloc(1, sizeof(*w));

	if (w == NULL)
		abort();
	w->peers_mask = slots - 1;
	w->peers = calloc(slots, sizeof(*w->peers));
	w->peer_tags = calloc(slots, sizeof(*w->peer_tags));
	if (w->peers == NULL || w->peer_tags == NULL)
		abort();
	return w;
}

static void table_free(struct dp_worker *w)
{
	free(w->peers);
	free(w->peer_tags);
	free(w);
}

/* IPv4-mapped a.b.c.d. */
static void v4(uint8_t out[16], unsigned a, unsigned b, unsigned c, unsigned d)
{
	memset(out, 0, 16);
	out[10] = out[11] = 0xff;
	out[12] = (uint8_t)a;
	out[13] = (uint8_t)b;
	out[14] = (uint8_t)c;
	out[15] = (uint8_t)d;
}

/* n peers from addr(i), port(i) in a table of slots: how many got an entry. */
static unsigned fill(struct dp_worker *w, unsigned n, void (*addr)(unsigned, uint8_t[16]),
	uint16_t (*port)(unsigned))
{
	unsigned held = 0;

	for (unsigned i = 0; i < n; i++) {
		uint8_t a[16];
		bool fresh;
		struct dp_peer *p;

		addr(i, a);
		p = dp_peer_get(w, a, false, port(i), 0, DP_MODE_PLAIN, &fresh);
		if (p == NULL)
			continue;
		p->ch.state = SEEDER_ST_OPEN;
		held += fresh;
	}
	return held;
}

static void addr_slash16(unsigned i, uint8_t a[16])
{
	v4(a, 198, 51, (i >> 8) & 0xff, i & 0xff);
}

static void addr_one(unsigned i, uint8_t a[16])
{
	(void)i;
	v4(a, 203, 0, 113, 7);
}

static void addr_wide(unsigned i, uint8_t a[16])
{
	v4(a, 10, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
}

static uint16_t port_fixed(unsigned i)
{
	(void)i;
	return 4500;
}

static uint16_t port_each(unsigned i)
{
	return (uint16_t)(1024 + i);
}

int main(void)
{
	struct dp_worker *w;
	uint8_t a[16];
	bool fresh;
	struct dp_peer *p, *q;
	unsigned held;

	/* 1. One /16 on one port: before the final mix of the hash, 128 of these got a slot. */
	w = table(131072);
	held = fill(w, 60000, addr_slash16, port_fixed);
	CHECKF(held == 60000, "one /16 on port 4500: %u of 60000 held", held);
	table_free(w);

	/* 2. One address, many ports (a NAT's users). */
	w = table(65536);
	held = fill(w, 48000, addr_one, port_each);
	CHECKF(held == 48000, "one address, 48000 ports: %u held", held);
	table_free(w);

	/* 3. 100,000 peers in 131072 slots (76 % full), as bench/system.sh's hold step. */
	w = table(131072);
	held = fill(w, 100000, addr_wide, port_fixed);
	CHECKF(held == 100000, "100,000 in 131072 slots: %u held", held);

	/* 4. A known peer is found, not added again. */
	addr_wide(4242, a);
	p = dp_peer_get(w, a, false, 4500, 0, DP_MODE_PLAIN, &fresh);
	CHECK(p != NULL && !fresh);
	q = dp_peer_get(w, a, false, 4501, 0, DP_MODE_PLAIN, &fresh);
	CHECK(q != NULL && fresh && q != p); /* another port: another peer */
	table_free(w);

	/* 5. A full table: nothing new gets in; a slot freed elsewhere (tag left) is reused. */
	w = table(64);
	held = fill(w, 64, addr_wide, port_fixed);
	CHECKF(held == 64, "64 in 64 slots: %u held", held);
	addr_wide(1000, a);
	CHECK(dp_peer_get(w, a, false, 4500, 0, DP_MODE_PLAIN, &fresh) == NULL);
	addr_wide(17, a);
	p = dp_peer_get(w, a, false, 4500, 0, DP_MODE_PLAIN, &fresh);
	CHECK(p != NULL && !fresh);
	if (p != NULL) {
		p->used = false; /* as the ingest or a refused handshake frees it: tag untouched */
		CHECK(w->peer_tags[p - w->peers] != 0);
		addr_wide(1000, a);
		q = dp_peer_get(w, a, false, 4500, 0, DP_MODE_PLAIN, &fresh);
		CHECK(q == p && fresh);
	}
	table_free(w);
	return check_exit();
}
