/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * C side of the Merkle benchmarks (bench_merkle.cc): verifying one chunk with its uncles
 * against the root, and building the whole tree of an in-memory content buffer (the hashing
 * half of `superpeer pack`; bench/run.sh times the whole command on a file separately).
 */
#ifndef SUPERPEER_BENCH_MERKLE_SHIM_H
#define SUPERPEER_BENCH_MERKLE_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bench_merkle;

/* Content of n_chunks chunks of chunk_size random bytes; alg 0 = SHA-1, 2 = SHA-256. */
struct bench_merkle *bench_merkle_new(unsigned alg, uint32_t chunk_size, uint64_t n_chunks);
void bench_merkle_free(struct bench_merkle *m);
/* Uncles per chunk (the tree height). */
unsigned bench_merkle_height(const struct bench_merkle *m);
/* Verifies the (i mod 128)th of 128 chunks spread over the tree, with its uncles, against
 * the root: 0 on success. */
int bench_merkle_verify_chunk(struct bench_merkle *m, uint64_t i);
/* Builds the tree of the whole content with the streaming builder: 0 on success. */
int bench_merkle_build(struct bench_merkle *m);
uint64_t bench_merkle_content_len(const struct bench_merkle *m);

#ifdef __cplusplus
}
#endif

#endif
