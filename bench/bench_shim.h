/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The C side of the benchmarks: set-up and one operation per call, over our own functions,
 * in a header C++ can include (crypto.h's `[static N]` parameters are C only). The Google
 * Benchmark fixtures in *.cc only loop and count bytes.
 */
#ifndef SUPERPEER_BENCH_SHIM_H
#define SUPERPEER_BENCH_SHIM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { BENCH_BURST_MAX = 64 };

struct bench_ctx;

/* size bytes per buffer, nbuf buffers (1..BENCH_BURST_MAX), AES key of key_len bytes. */
struct bench_ctx *bench_ctx_new(size_t size, unsigned nbuf, unsigned key_len);
void bench_ctx_free(struct bench_ctx *c);
const char *bench_ctx_arch(const struct bench_ctx *c);

/* ipsec-mb, ours */
int bench_aead_seal_one(struct bench_ctx *c);
int bench_aead_open_one(struct bench_ctx *c);
int bench_aead_seal_burst(struct bench_ctx *c);
int bench_aead_open_burst(struct bench_ctx *c);
void bench_sha256_one(struct bench_ctx *c);
void bench_sha256_burst(struct bench_ctx *c);

/* OpenSSL EVP in the same harness, for the ratio */
int bench_ossl_gcm_seal_one(struct bench_ctx *c);
void bench_ossl_sha256_one(struct bench_ctx *c);

#ifdef __cplusplus
}
#endif

#endif
