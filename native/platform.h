// What gist's native kernels ask of the platform, in one place: the SIMD level (GIST_NATIVE_ISA caps it),
// worker threads, and huge pages.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>
#if defined(__x86_64__) || defined(_M_X64)
#ifndef GIST_X86
#define GIST_X86 1
#endif
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif

/** GIST_NATIVE_ISA ("avx512", "avx2" or "scalar") when set: the SIMD level the kernels may use at most; else null. */
inline const char* forced_isa() { return std::getenv("GIST_NATIVE_ISA"); }

/** The SIMD path a kernel with AVX-512 / AVX2 / scalar paths runs: 2 = AVX-512 (F, DQ, VL), 1 = AVX2 + FMA, 0 = scalar. */
inline int simd_level() {
#ifdef GIST_X86
  if (const char* force = forced_isa()) {
    if (std::strcmp(force, "scalar") == 0) return 0;
    if (std::strcmp(force, "avx2") == 0) return 1;
  }
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) return 2;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
  return 0;
}

inline const char* simd_level_name(int level) { return level == 2 ? "avx512" : level == 1 ? "avx2" : "scalar"; }

/** Workers for `units` independent pieces of work: `threads` clamped to [1, max(units, 1)]. */
inline int worker_count(int threads, int units) {
  const int most = units < 1 ? 1 : units;
  return threads < 1 ? 1 : threads > most ? most : threads;
}

/**
 * body(unit, worker) for every unit in [0, units): unit u on worker u mod T (T = worker_count), the calling thread
 * being worker 0. Which worker runs a unit never changes its result: callers give each unit its own output.
 */
template <class F>
void parallel_units(int units, int threads, F body) {
  const int T = worker_count(threads, units);
  auto run = [&](int w) {
    for (int u = w; u < units; u += T) body(u, w);
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < T; w++) pool.emplace_back(run, w);
  run(0);
  for (auto& th : pool) th.join();
}

/**
 * Ask Linux for transparent huge pages under the 2 MiB-aligned interior of [data, data + bytes); with `collapse`,
 * also MADV_COLLAPSE (Linux ≥ 6.1) the pages already touched. Memory gathered at random (a score table, an HNSW
 * level-0 block) otherwise spends much of its time on TLB misses. Returns the bytes advised (0: none or
 * unsupported). Best effort: contents and results never change.
 */
inline size_t advise_huge_pages(void* data, size_t bytes, bool collapse) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const uintptr_t huge = uintptr_t{2} << 20;
  const uintptr_t lo = (reinterpret_cast<uintptr_t>(data) + huge - 1) & ~(huge - 1);
  const uintptr_t hi = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(huge - 1);
  if (hi <= lo || madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE) != 0) return 0;
  if (collapse) madvise(reinterpret_cast<void*>(lo), hi - lo, 25 /* MADV_COLLAPSE */);
  return hi - lo;
#else
  (void)data;
  (void)bytes;
  (void)collapse;
  return 0;
#endif
}
