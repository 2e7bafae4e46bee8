/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the PPSPP channel state machines (dataplane/ppspp_seeder.c and
 * ppspp_leecher.c) over a small in-memory swarm: whatever datagrams arrive, neither side may
 * crash, read out of bounds, send a datagram larger than its cap, or deliver a chunk that
 * differs from the content.
 *
 * Input: datagrams, each a 2-byte big-endian length then its bytes. If the first input byte
 * is even, the seeder first gets a valid handshake for the swarm (so the fuzzer reaches the
 * open channel at once); every datagram goes to the seeder, and everything the seeder sends
 * goes to a leecher, which also gets each fuzz datagram directly.
 */
#include <stdlib.h>
#include <string.h>

#include "ppspp_leecher.h"
#include "ppspp_seeder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { FUZZ_CHUNK = 512, FUZZ_CHUNKS = 11, SEEDER_ID = 1, LEECHER_ID = 2 };

static struct crypto_engine eng;
static struct chunk_store store;
static uint8_t content[FUZZ_CHUNK * FUZZ_CHUNKS - 100];
static bool ready;

/* A store without files: the manifest fields and a tree built in memory. */
static void fuzz_setup(void)
{
	for (size_t i = 0; i < sizeof(content); i++)
		content[i] = (uint8_t)(i * 7 + 3);
	if (crypto_engine_init(&eng) != 0)
		abort();
	memset(&store, 0, sizeof(store));
	store.m.hash = HASH_SHA256;
	store.m.chunk_size = FUZZ_CHUNK;
	store.m.content_len = sizeof(content);
	if (merkle_tree_build(&store.tree, &eng, HASH_SHA256, FUZZ_CHUNK, content,
			      sizeof(content)) != 0)
		abort();
	memcpy(store.m.swarm_id, merkle_tree_root(&store.tree), HASH_SHA256_LEN);
	store.chunks = content;
	store.n_peaks = merkle_peaks(store.tree.n_chunks, store.peaks);
	ready = true;
}

static void fuzz_deliver(void *ctx, uint64_t chunk, const uint8_t *d, size_t len)
{
	(void)ctx;
	if (chunk >= FUZZ_CHUNKS || chunk * FUZZ_CHUNK + len > sizeof(content) ||
	    memcmp(d, content + chunk * FUZZ_CHUNK, len) != 0)
		abort(); /* a chunk that is not the content got through verification */
}

static void fuzz_drain(struct seeder_channel *ch, struct ppspp_leecher *l)
{
	uint8_t out[1400], ack[128];
	size_t ack_len;
	int n, rounds = 0;

	while ((n = seeder_output(ch, out, sizeof(out), 0)) > 0 && rounds++ < 64) {
		if ((size_t)n > sizeof(out))
			abort();
		ppspp_leecher_input(l, out, (size_t)n, fuzz_deliver, NULL, ack, sizeof(ack),
				    &ack_len);
		if (ack_len > 0)
			seeder_input(ch, ack, ack_len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seeder_channel ch;
	struct ppspp_leecher l;
	uint8_t buf[2048], ack[128];
	size_t ack_len;
	int n;

	if (!ready)
		fuzz_setup();
	if (size == 0)
		return 0;
	seeder_channel_init(&ch, &store, SEEDER_ID);
	if (ppspp_leecher_init(&l, &eng, HASH_SHA256, FUZZ_CHUNK, sizeof(content),
			       store.m.swarm_id, LEECHER_ID, PPSPP_CAM_CHUNK32) != 0)
		abort();
	if ((data[0] & 1) == 0) {
		n = ppspp_leecher_handshake(&l, buf, sizeof(buf));
		if (n <= 0 || seeder_input(&ch, buf, (size_t)n) != SEEDER_R_OK)
			abort();
		fuzz_drain(&ch, &l);
	}
	data++;
	size--;
	while (size >= 2) {
		size_t len = (size_t)data[0] << 8 | data[1];

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		seeder_input(&ch, data, len);
		ppspp_leecher_input(&l, data, len, fuzz_deliver, NULL, ack, sizeof(ack), &ack_len);
		fuzz_drain(&ch, &l);
		n = ppspp_leecher_requests(&l, buf, sizeof(buf), 4);
		if (n > 0) {
			seeder_input(&ch, buf, (size_t)n);
			fuzz_drain(&ch, &l);
		}
		data += len;
		size -= len;
	}
	ppspp_leecher_fini(&l);
	return 0;
}
