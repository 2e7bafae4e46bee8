// SPDX-License-Identifier: BSD-3-Clause
// Google Benchmark fixtures over bench_serve_shim.c: per-core work of serving (PPSPP
// INTEGRITY+DATA from the store, ESP sealed) and ingesting (ESP opened, PPSPP decoded,
// Merkle-verified) in bursts of 32 chunks, no I/O. Bytes = chunk payload bytes. The ceilings
// to compare with are BM_gcm128_seal_burst32 and BM_gcm128_open_burst32 + BM_sha256_mb_burst32
// at the same size (bench_crypto), run by bench/run.sh in the same session.
#include <benchmark/benchmark.h>

#include "bench_serve_shim.h"

namespace {

template <int (*Op)(bench_serve *)>
void run(benchmark::State &st)
{
	const uint32_t chunk = uint32_t(st.range(0));
	// 4 MiB of content per swarm: a few thousand chunks, a tree of realistic height.
	bench_serve *b = bench_serve_new(chunk, (uint64_t(4) << 20) / chunk);
	if (b == nullptr) {
		st.SkipWithError("bench_serve_new failed");
		return;
	}
	for (auto _ : st)
		if (Op(b) != 0) {
			st.SkipWithError("burst failed");
			break;
		}
	st.SetBytesProcessed(int64_t(st.iterations()) * BENCH_SERVE_BURST * chunk);
	st.SetItemsProcessed(int64_t(st.iterations()) * BENCH_SERVE_BURST);
	bench_serve_free(b);
}

void BM_serve_esp_burst32(benchmark::State &st) { run<bench_serve_burst>(st); }
void BM_ingest_esp_burst32(benchmark::State &st) { run<bench_ingest_burst>(st); }

BENCHMARK(BM_serve_esp_burst32)->Arg(1024)->Arg(4096)->Arg(8192);
BENCHMARK(BM_ingest_esp_burst32)->Arg(1024)->Arg(4096)->Arg(8192);

// The same work on 1 and 2 threads at once, each with its own swarm, SAs and crypto engine
// (as each worker has), wall-clock rates summed over the threads: how the per-core work
// scales when cores share caches and memory. bench/run.sh runs these unpinned.
void BM_serve_esp_burst32_mt(benchmark::State &st) { run<bench_serve_burst>(st); }
void BM_ingest_esp_burst32_mt(benchmark::State &st) { run<bench_ingest_burst>(st); }

BENCHMARK(BM_serve_esp_burst32_mt)->Arg(1024)->Arg(8192)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_ingest_esp_burst32_mt)->Arg(1024)->Arg(8192)->Threads(1)->Threads(2)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
