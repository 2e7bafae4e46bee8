/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include "bench_serve_shim.h"
#include "chunk_store.h"
#include "esp_sa.h"
#include "ppspp_leecher.h"
#include "ppspp_seeder.h"

enum { DGRAM_CAP = 9200, SEEDER_ID = 1, LEECHER_ID = 2 };

struct bench_serve {
	struct crypto_engine eng;
	struct chunk_store store;
	uint8_t *content;
	struct seeder_channel ch;
	struct ppspp_leecher l;
	struct esp_sa *out_sa, *in_sa;
	uint8_t dgram[BENCH_SERVE_BURST][DGRAM_CAP];
	uint8_t sealed[BENCH_SERVE_BURST][DGRAM_CAP + 64];
	uint8_t work[BENCH_SERVE_BURST][DGRAM_CAP + 64];
	uint32_t sealed_len[BENCH_SERVE_BURST];
	/* ingest: one whole download, sealed once; replayed with a fresh SA and receiver */
	uint8_t *dl;		/* n_dl datagrams of dl_stride bytes */
	uint32_t *dl_len;
	uint64_t n_dl, dl_next;
	size_t dl_stride;
	uint8_t hs_reply[2048];
	size_t hs_reply_len;
	uint8_t km[20];
	struct esp_seal_pkt seal[BENCH_SERVE_BURST];
	struct esp_open_pkt open[BENCH_SERVE_BURST];
};

static struct esp_sa *sa_new(struct crypto_engine *e, enum esp_sa_dir dir, const uint8_t *km)
{
	struct esp_sa *sa;
	struct esp_sa_config cfg = { .spi = 0x1000, .dir = dir, .key = km, .key_len = 16,
				     .salt = km + 16 };

	if (posix_memalign((void **)&sa, 64, sizeof(*sa)) != 0)
		return NULL;
	if (esp_sa_init(e, sa, &cfg) != 0) {
		free(sa);
		return NULL;
	}
	return sa;
}

static void noop_deliver(void *ctx, uint64_t chunk, const uint8_t *d, size_t len)
{
	(void)ctx;
	(void)chunk;
	(void)d;
	(void)len;
}

/* A channel that has shaken hands and has the whole swarm requested, repeatedly. */
static int serve_channel_open(struct bench_serve *b)
{
	uint8_t buf[2048], ack[128];
	size_t ack_len;
	int n;

	seeder_channel_init(&b->ch, &b->store, SEEDER_ID);
	ppspp_leecher_fini(&b->l);
	if (ppspp_leecher_init(&b->l, &b->eng, HASH_SHA256, b->store.m.chunk_size,
			       b->store.m.content_len, b->store.m.swarm_id, LEECHER_ID,
			       PPSPP_CAM_CHUNK32) != 0)
		return -1;
	n = ppspp_leecher_handshake(&b->l, buf, sizeof(buf));
	if (n <= 0 || seeder_input(&b->ch, buf, (size_t)n) != SEEDER_R_OK)
		return -1;
	n = seeder_output(&b->ch, buf, sizeof(buf), 0);
	if (n <= 0)
		return -1;
	memcpy(b->hs_reply, buf, (size_t)n);
	b->hs_reply_len = (size_t)n;
	ppspp_leecher_input(&b->l, buf, (size_t)n, noop_deliver, NULL, ack, sizeof(ack), &ack_len);
	n = ppspp_leecher_requests(&b->l, buf, sizeof(buf), b->store.tree.n_chunks);
	if (n <= 0 || seeder_input(&b->ch, buf, (size_t)n) != SEEDER_R_OK)
		return -1;
	return 0;
}

struct bench_serve *bench_serve_new(uint32_t chunk_size, uint64_t n_chunks)
{
	struct bench_serve *b;
	uint64_t len = chunk_size * n_chunks;

	if (posix_memalign((void **)&b, 64, sizeof(*b)) != 0)
		return NULL;
	memset(b, 0, sizeof(*b));
	if (crypto_engine_init(&b->eng) != 0)
		goto fail;
	b->content = malloc(len);
	if (b->content == NULL)
		goto fail;
	crypto_random(b->content, len);
	crypto_random(b->km, sizeof(b->km));
	b->store.m.hash = HASH_SHA256;
	b->store.m.chunk_size = chunk_size;
	b->store.m.content_len = len;
	if (merkle_tree_build(&b->store.tree, &b->eng, HASH_SHA256, chunk_size, b->content, len))
		goto fail;
	memcpy(b->store.m.swarm_id, merkle_tree_root(&b->store.tree), HASH_SHA256_LEN);
	b->store.chunks = b->content;
	b->store.n_peaks = merkle_peaks(b->store.tree.n_chunks, b->store.peaks);
	b->out_sa = sa_new(&b->eng, ESP_SA_OUTBOUND, b->km);
	b->in_sa = sa_new(&b->eng, ESP_SA_INBOUND, b->km);
	if (b->out_sa == NULL || b->in_sa == NULL || serve_channel_open(b) != 0)
		goto fail;
	/* One whole download, sealed, for the ingest benchmark. */
	b->dl_stride = DGRAM_CAP + 64;
	b->dl = malloc(n_chunks * 2 * b->dl_stride);
	b->dl_len = calloc(n_chunks * 2, sizeof(*b->dl_len));
	if (b->dl == NULL || b->dl_len == NULL)
		goto fail;
	for (;;) {
		uint8_t d[DGRAM_CAP];
		int n = seeder_output(&b->ch, d, DGRAM_CAP, 0);
		struct esp_seal_pkt p;

		if (n == 0)
			break;
		if (n < 0 || b->n_dl == n_chunks * 2)
			goto fail;
		p = (struct esp_seal_pkt){ .sa = b->out_sa, .src = d,
					   .out = b->dl + b->n_dl * b->dl_stride, .len = (uint32_t)n,
					   .out_cap = (uint32_t)b->dl_stride, .next_hdr = 17 };
		if (esp_seal_burst(&b->eng, &p, 1, 0) != 1)
			goto fail;
		b->dl_len[b->n_dl++] = p.out_len;
	}
	if (serve_channel_open(b) != 0)
		goto fail;
	return b;
fail:
	bench_serve_free(b);
	return NULL;
}

void bench_serve_free(struct bench_serve *b)
{
	if (b == NULL)
		return;
	ppspp_leecher_fini(&b->l);
	merkle_tree_free(&b->store.tree);
	if (b->out_sa != NULL)
		esp_sa_destroy(b->out_sa);
	if (b->in_sa != NULL)
		esp_sa_destroy(b->in_sa);
	free(b->out_sa);
	free(b->in_sa);
	free(b->content);
	free(b->dl);
	free(b->dl_len);
	if (b->eng.bulk != NULL)
		crypto_engine_fini(&b->eng);
	free(b);
}

uint32_t bench_serve_chunk_size(const struct bench_serve *b)
{
	return b->store.m.chunk_size;
}

int bench_serve_burst(struct bench_serve *b)
{
	for (unsigned i = 0; i < BENCH_SERVE_BURST; i++) {
		int n = seeder_output(&b->ch, b->dgram[i], DGRAM_CAP, 0);

		if (n == 0) { /* the whole swarm went out: start a new download */
			if (serve_channel_open(b) != 0)
				return -1;
			n = seeder_output(&b->ch, b->dgram[i], DGRAM_CAP, 0);
		}
		if (n <= 0)
			return -1;
		b->seal[i] = (struct esp_seal_pkt){ .sa = b->out_sa, .src = b->dgram[i],
						    .out = b->sealed[i], .len = (uint32_t)n,
						    .out_cap = DGRAM_CAP + 64, .next_hdr = 17 };
	}
	if (esp_seal_burst(&b->eng, b->seal, BENCH_SERVE_BURST, 0) != BENCH_SERVE_BURST)
		return -1;
	for (unsigned i = 0; i < BENCH_SERVE_BURST; i++)
		b->sealed_len[i] = b->seal[i].out_len;
	return 0;
}

/* The receiver starts the download over: a fresh inbound SA and channel state. */
static int ingest_restart(struct bench_serve *b)
{
	uint8_t ack[128];
	size_t ack_len;

	esp_sa_destroy(b->in_sa);
	free(b->in_sa);
	b->in_sa = sa_new(&b->eng, ESP_SA_INBOUND, b->km);
	ppspp_leecher_fini(&b->l);
	if (b->in_sa == NULL ||
	    ppspp_leecher_init(&b->l, &b->eng, HASH_SHA256, b->store.m.chunk_size,
			       b->store.m.content_len, b->store.m.swarm_id, LEECHER_ID,
			       PPSPP_CAM_CHUNK32) != 0)
		return -1;
	ppspp_leecher_input(&b->l, b->hs_reply, b->hs_reply_len, noop_deliver, NULL, ack,
			    sizeof(ack), &ack_len);
	b->dl_next = 0;
	return b->l.peer_id != 0 ? 0 : -1;
}

int bench_ingest_burst(struct bench_serve *b)
{
	uint8_t ack[2048];
	size_t ack_len;
	unsigned n = 0;

	if (b->dl_next == 0 || b->dl_next + BENCH_SERVE_BURST > b->n_dl)
		if (ingest_restart(b) != 0)
			return -1;
	/* The copy stands for the NIC writing the packet into a receive buffer. */
	for (; n < BENCH_SERVE_BURST; n++, b->dl_next++) {
		memcpy(b->work[n], b->dl + b->dl_next * b->dl_stride, b->dl_len[b->dl_next]);
		b->open[n] = (struct esp_open_pkt){ .sa = b->in_sa, .data = b->work[n],
						    .len = b->dl_len[b->dl_next] };
	}
	if (esp_open_burst(&b->eng, b->open, n, 0) != n)
		return -1;
	struct leecher_rx rx[BENCH_SERVE_BURST];

	for (unsigned i = 0; i < n; i++)
		rx[i] = (struct leecher_rx){ .buf = b->work[i] + ESP_PREFIX_LEN,
					     .len = b->open[i].payload_len };
	ppspp_leecher_input_burst(&b->l, rx, n, noop_deliver, NULL, ack, sizeof(ack), &ack_len);
	for (unsigned i = 0; i < n; i++)
		if (rx[i].reason != LEECHER_R_OK)
			return -1;
	return 0;
}
