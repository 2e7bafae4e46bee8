/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * C side of bench_serve.cc: the per-chunk work of serving and ingesting, without I/O.
 *   serve:  seeder_output (INTEGRITY + DATA from the store, in order) then esp_seal_burst of
 *           32 such datagrams, out of place: what a data-plane worker does per REQUESTed
 *           chunk before the tx burst.
 *   ingest: esp_open_burst of 32 sealed datagrams of one whole download (replayed with a
 *           fresh SA and receiver when it ends) then ppspp_leecher_input_burst (decode, stash
 *           uncles, all leaves in one multi-buffer hash, Merkle-verify with the verifier's
 *           trust growing as in a real download): receive-side work per chunk.
 */
#ifndef SUPERPEER_BENCH_SERVE_SHIM_H
#define SUPERPEER_BENCH_SERVE_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { BENCH_SERVE_BURST = 32 };

struct bench_serve;

/* A swarm of n_chunks random chunks of chunk_size (SHA-256), an AES-128 ESP SA pair. */
struct bench_serve *bench_serve_new(uint32_t chunk_size, uint64_t n_chunks);
void bench_serve_free(struct bench_serve *b);
/* 32 chunks served and sealed: 0, or -1. */
int bench_serve_burst(struct bench_serve *b);
/* 32 chunks opened and verified: 0, or -1. */
int bench_ingest_burst(struct bench_serve *b);
uint32_t bench_serve_chunk_size(const struct bench_serve *b);

#ifdef __cplusplus
}
#endif

#endif
