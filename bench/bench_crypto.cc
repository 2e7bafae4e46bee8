// SPDX-License-Identifier: BSD-3-Clause
// Google Benchmark fixtures over the C shim: AES-GCM seal/open (single and burst of 32) and
// SHA-256 (single stream vs multi-buffer), with OpenSSL EVP in the same binary for the
// ratio. Bytes per second are counted over payload bytes.
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "bench_shim.h"

namespace {

constexpr unsigned kBurst = 32;

struct Ctx {
	bench_ctx *c;
	Ctx(size_t size, unsigned n, unsigned key_len) : c(bench_ctx_new(size, n, key_len)) {}
	~Ctx() { bench_ctx_free(c); }
};

template <int (*Op)(bench_ctx *)>
void run_aead(benchmark::State &st, unsigned n, unsigned key_len)
{
	Ctx ctx(st.range(0), n, key_len);
	if (ctx.c == nullptr) {
		st.SkipWithError("bench_ctx_new failed");
		return;
	}
	st.SetLabel(bench_ctx_arch(ctx.c));
	for (auto _ : st)
		if (Op(ctx.c) != 0) {
			st.SkipWithError("operation failed");
			break;
		}
	st.SetBytesProcessed(int64_t(st.iterations()) * st.range(0) * n);
	st.SetItemsProcessed(int64_t(st.iterations()) * n);
}

template <void (*Op)(bench_ctx *)>
void run_hash(benchmark::State &st, unsigned n)
{
	Ctx ctx(st.range(0), n, 16);
	if (ctx.c == nullptr) {
		st.SkipWithError("bench_ctx_new failed");
		return;
	}
	st.SetLabel(bench_ctx_arch(ctx.c));
	for (auto _ : st)
		Op(ctx.c);
	st.SetBytesProcessed(int64_t(st.iterations()) * st.range(0) * n);
	st.SetItemsProcessed(int64_t(st.iterations()) * n);
}

void BM_gcm128_seal(benchmark::State &st) { run_aead<bench_aead_seal_one>(st, 1, 16); }
void BM_gcm128_open(benchmark::State &st) { run_aead<bench_aead_open_one>(st, 1, 16); }
void BM_gcm128_seal_burst32(benchmark::State &st) { run_aead<bench_aead_seal_burst>(st, kBurst, 16); }
void BM_gcm128_open_burst32(benchmark::State &st) { run_aead<bench_aead_open_burst>(st, kBurst, 16); }
void BM_gcm256_seal(benchmark::State &st) { run_aead<bench_aead_seal_one>(st, 1, 32); }
void BM_gcm256_seal_burst32(benchmark::State &st) { run_aead<bench_aead_seal_burst>(st, kBurst, 32); }
void BM_ossl_gcm128_seal(benchmark::State &st) { run_aead<bench_ossl_gcm_seal_one>(st, 1, 16); }
void BM_sha256_single(benchmark::State &st) { run_hash<bench_sha256_one>(st, 1); }
void BM_sha256_mb_burst32(benchmark::State &st) { run_hash<bench_sha256_burst>(st, kBurst); }
void BM_ossl_sha256(benchmark::State &st) { run_hash<bench_ossl_sha256_one>(st, 1); }

#define SIZES Arg(64)->Arg(256)->Arg(1024)->Arg(1500)->Arg(4096)->Arg(8192)

BENCHMARK(BM_gcm128_seal)->SIZES;
BENCHMARK(BM_gcm128_open)->SIZES;
BENCHMARK(BM_gcm128_seal_burst32)->SIZES;
BENCHMARK(BM_gcm128_open_burst32)->SIZES;
BENCHMARK(BM_gcm256_seal)->SIZES;
BENCHMARK(BM_gcm256_seal_burst32)->SIZES;
BENCHMARK(BM_ossl_gcm128_seal)->SIZES;
BENCHMARK(BM_sha256_single)->Arg(64)->Arg(1024)->Arg(4096)->Arg(8192);
BENCHMARK(BM_sha256_mb_burst32)->Arg(64)->Arg(1024)->Arg(4096)->Arg(8192);
BENCHMARK(BM_ossl_sha256)->Arg(64)->Arg(1024)->Arg(4096)->Arg(8192);

} // namespace

BENCHMARK_MAIN();
