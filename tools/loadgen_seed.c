/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * superpeer-loadgen --seed: one peer (the first address and port), or --seeds N of them (the
 * first N), serving a packed store to the data plane's ingest (`superpeer swarm ingest ...
 * --from`, once per seeder: its sources), to measure ingest through the data plane: ESP
 * opened, PPSPP decoded, every chunk Merkle-verified before it is stored.
 *
 * The serving side is the project's seeder (dataplane/ppspp_seeder.c, as superpeer seed and
 * the data plane run it), a channel per seeding peer, LEDBAT off: it sends as fast as the
 * data plane asks. The first handshake after a run ends starts the next run; the other
 * seeders' handshakes join it. The data plane ACKs a chunk only once it has verified it, so
 * a run is complete when every chunk has been acknowledged on some channel; its time runs
 * from the first REQUEST to that last ACK, and each run prints one line (with several
 * seeders, what each sent):
 *
 *   ingest N: C chunks (B bytes) acknowledged in T s: X chunks/s, Y Gbit/s
 *
 * No allocation and no system call per packet (the line above is printed once per run).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "loadgen.h"

uint32_t lg_seed_cap(const struct lg *g, bool esp)
{
	/* IPv4 and UDP headers; with ESP, the outer UDP, ESP's header, IV, padding and ICV. */
	return g->mtu - 20 - 8 -
	       (esp ? 8 + ESP_PREFIX_LEN + ESP_TRAILER_LEN + ESP_PAD_ALIGN - 1 + ESP_ICV_LEN : 0);
}

int lg_seed_open(struct lg *g, const char *dir, const char *pub_path)
{
	uint8_t pub[ED25519_PUBLIC_LEN];
	char err[256];

	if (chunk_store_pub_read(pub_path, pub, err, sizeof(err)) != 0) {
		fprintf(stderr, "superpeer-loadgen: --public %s\n", err);
		return -1;
	}
	g->store = calloc(1, sizeof(*g->store));
	if (g->store == NULL ||
		chunk_store_open(g->store, &g->eng, dir, pub, err, sizeof(err)) != 0) {
		fprintf(stderr, "superpeer-loadgen: --seed %s\n", g->store ? err : "no memory");
		free(g->store);
		g->store = NULL;
		return -1;
	}
	g->n_chunks = g->store->tree.n_chunks;
	g->chunk_size = g->store->m.chunk_size;
	g->swarm_id_len = (uint8_t)hash_len(g->store->m.hash);
	memcpy(g->swarm_id, g->store->m.swarm_id, g->swarm_id_len);
	g->ctx = (struct ppspp_ctx){
		.cam = PPSPP_CAM_CHUNK32, .hash_len = g->swarm_id_len, .chunk_size = g->chunk_size};
	g->seed_acked = rte_zmalloc("lg_acked", (g->n_chunks + 7) / 8, 0);
	if (g->seed_acked == NULL) {
		fprintf(stderr, "superpeer-loadgen: no memory for %" PRIu64 " chunks\n",
			g->n_chunks);
		return -1;
	}
	return 0;
}

void lg_seed_close(struct lg *g)
{
	if (g->store == NULL)
		return;
	chunk_store_close(g->store);
	free(g->store);
	g->store = NULL;
	rte_free(g->seed_acked);
	g->seed_acked = NULL;
}

/*
 * A handshake on seeder s: its new channel. The first after a run ends starts a new run, and
 * so does one on a seeder that already has a channel in this run: the ingest was cancelled
 * (`swarm del`) and started again, and the dead run must not be timed with the new one.
 */
static void lg_seed_open_channel(struct lg *g, struct lg_seeder *s)
{
	if (!g->seed_running || s->open) {
		for (unsigned k = 0; k < LG_SEEDS_MAX; k++) {
			g->seeds[k].open = false;
			g->seeds[k].sent = 0;
		}
		memset(g->seed_acked, 0, (g->n_chunks + 7) / 8);
		g->seed_n_acked = 0;
		g->seed_start_tsc = 0;
		g->seed_running = true;
	}
	do
		s->id = ++g->next_id;
	while (s->id == 0);
	seeder_channel_init(&s->sch, g->store, s->id);
	s->open = true;
	s->sent = 0;
	g->channels++;
}

/* Chunks the data plane acknowledged (verified), on any seeder: counted once each. */
static void lg_seed_acked(struct lg *g, struct ppspp_range r)
{
	if (r.start >= g->n_chunks)
		return;
	if (r.end >= g->n_chunks)
		r.end = g->n_chunks - 1;
	for (uint64_t c = r.start; c <= r.end; c++) {
		uint8_t bit = (uint8_t)(1u << (c & 7));

		if (!(g->seed_acked[c >> 3] & bit)) {
			g->seed_acked[c >> 3] |= bit;
			g->seed_n_acked++;
		}
	}
}

static void lg_seed_complete(struct lg *g)
{
	double s = (double)(g->now_tsc - g->seed_start_tsc) / (double)g->tsc_hz;
	uint64_t bytes = g->store->m.content_len;
	char from[16 * LG_SEEDS_MAX] = "";

	g->seed_running = false;
	g->seed_runs++;
	if (s <= 0)
		s = 1e-9;
	g->seed_run_chunks += g->n_chunks;
	g->seed_run_bytes += bytes;
	g->seed_run_tsc += g->now_tsc - g->seed_start_tsc;
	/* With several seeders: what each sent (duplicates of the end game included). */
	for (unsigned k = 0; k < g->n_peers && g->n_peers > 1; k++)
		snprintf(from + strlen(from), sizeof(from) - strlen(from), "%s%" PRIu64,
			k == 0 ? ", sent " : "/", g->seeds[k].sent);
	printf("ingest %u: %" PRIu64 " chunks (%" PRIu64 " bytes) acknowledged in %.3f s: "
	       "%.0f chunks/s, %.2f Gbit/s%s\n",
		g->seed_runs, g->n_chunks, bytes, s, (double)g->n_chunks / s,
		(double)bytes * 8.0 / s / 1e9, from);
	fflush(stdout);
}

void lg_seed_input(struct lg *g, struct lg_peer *p, const uint8_t *d, size_t len)
{
	struct lg_seeder *s = &g->seeds[p - g->peers];
	struct ppspp_msg msgs[LG_MSGS_MAX];
	struct ppspp_decode_result res;
	const uint8_t *id;
	enum seeder_reason r;
	int n = ppspp_datagram_decode(
		s->open ? &s->sch.ctx : &g->ctx, d, len, msgs, LG_MSGS_MAX, &res);

	if (n < 0) {
		g->count[LG_C_PPSPP_BAD]++;
		return;
	}
	if (seeder_handshake_swarm(d, len, &id) > 0) {
		bool again = false; /* this channel's handshake, repeated */

		for (int i = 0; i < n; i++)
			if (msgs[i].type == PPSPP_MSG_HANDSHAKE)
				again = s->open &&
					msgs[i].u.handshake.src_channel == s->sch.peer_id;
		if (!again)
			lg_seed_open_channel(g, s);
	} else if (!s->open) {
		return; /* no channel of this run: a stray datagram */
	}
	seeder_clock(&s->sch, g->now_us);
	r = seeder_input(&s->sch, d, len);
	if (r != SEEDER_R_OK && r != SEEDER_R_CLOSED) {
		g->count[LG_C_SEED_REFUSED]++;
		return;
	}
	/* The run is over: late ACKs; the closing handshake stopped the channel above (what it
	 * still had queued, end-game copies, is not sent). */
	if (!g->seed_running)
		return;
	if (g->seed_start_tsc == 0 && s->sch.n_req > 0)
		g->seed_start_tsc = g->now_tsc;
	/* The ACKs (the seeder keeps only a few ranges of them): each chunk counted once. */
	for (int i = 0; i < n; i++)
		if (msgs[i].type == PPSPP_MSG_ACK)
			lg_seed_acked(g, msgs[i].u.ack.range);
	if (g->seed_n_acked == g->n_chunks)
		lg_seed_complete(g);
	s->due = true;
	g->seed_due = true;
}

/* What seeder s (peer p) has to send, while the port takes it. False: the port is behind. */
static bool lg_seeder_output(struct lg *g, struct lg_seeder *s, struct lg_peer *p)
{
	const uint32_t cap = lg_seed_cap(g, g->sa_out != NULL);

	while (g->n_tx + g->n_seal < LG_TX_MAX - LG_SEAL_MAX) {
		uint64_t chunks = s->sch.chunks_sent, bytes = s->sch.bytes_sent;
		struct rte_mbuf *m;
		uint8_t *d;
		int n;

		m = lg_dgram_begin(g, &d);
		if (m == NULL)
			return false;
		n = seeder_output(&s->sch, d, cap, g->now_us);
		if (n <= 0) {
			rte_pktmbuf_free(m);
			s->due = false;
			return true;
		}
		g->chunks += s->sch.chunks_sent - chunks;
		g->chunk_bytes += s->sch.bytes_sent - bytes;
		if (s->sch.chunks_sent != chunks) {
			s->sent += s->sch.chunks_sent - chunks;
			p->chunks++;
			p->last_progress_tsc = g->now_tsc;
		}
		lg_dgram_send(g, p, m, n);
	}
	return false;
}

void lg_seed_output(struct lg *g)
{
	g->seed_due = false;
	for (uint32_t k = 0; k < g->n_peers; k++) {
		struct lg_seeder *s = &g->seeds[k];

		if (!s->open || !s->due)
			continue;
		if (!lg_seeder_output(g, s, &g->peers[k])) {
			g->seed_due = true; /* the port is behind: go on at the next pass */
			return;
		}
	}
}
