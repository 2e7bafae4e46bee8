// SPDX-License-Identifier: BSD-3-Clause
// Google Benchmark fixtures over bench_merkle_shim.c:
//   BM_merkle_verify_chunk/<alg>/<chunk>/<log2 chunks>: one chunk checked with its uncles
//     against the root (what a receiving peer does per DATA), bytes = chunk bytes.
//   BM_pack_tree/<alg>/<chunk>: the streaming builder over 64 MiB in memory (pack's hashing,
//     without file I/O), bytes = content bytes.
// alg: 0 = SHA-1, 2 = SHA-256 (the PPSPP codes).
#include <benchmark/benchmark.h>

#include "bench_merkle_shim.h"

namespace {

void BM_merkle_verify_chunk(benchmark::State &st)
{
	const uint32_t chunk = uint32_t(st.range(1));
	bench_merkle *m = bench_merkle_new(unsigned(st.range(0)), chunk, uint64_t(1) << st.range(2));
	if (m == nullptr) {
		st.SkipWithError("bench_merkle_new failed");
		return;
	}
	st.counters["uncles"] = bench_merkle_height(m);
	uint64_t i = 0;
	for (auto _ : st)
		if (bench_merkle_verify_chunk(m, i++) != 0) {
			st.SkipWithError("verify failed");
			break;
		}
	st.SetBytesProcessed(int64_t(st.iterations()) * chunk);
	st.SetItemsProcessed(int64_t(st.iterations()));
	bench_merkle_free(m);
}

void BM_pack_tree(benchmark::State &st)
{
	const uint32_t chunk = uint32_t(st.range(1));
	bench_merkle *m = bench_merkle_new(unsigned(st.range(0)), chunk, (uint64_t(64) << 20) / chunk);
	if (m == nullptr) {
		st.SkipWithError("bench_merkle_new failed");
		return;
	}
	for (auto _ : st)
		if (bench_merkle_build(m) != 0) {
			st.SkipWithError("build failed");
			break;
		}
	st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(bench_merkle_content_len(m)));
	bench_merkle_free(m);
}

BENCHMARK(BM_merkle_verify_chunk)
	->ArgNames({"alg", "chunk", "log2n"})
	->Args({2, 1024, 10})
	->Args({2, 1024, 16})
	->Args({2, 8192, 16})
	->Args({0, 1024, 16});
BENCHMARK(BM_pack_tree)
	->ArgNames({"alg", "chunk"})
	->Args({2, 1024})
	->Args({2, 8192})
	->Args({0, 1024})
	->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
