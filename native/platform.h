// What gist's native kernels ask of the platform, in one place: the GIST_NATIVE_ISA override and huge pages.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#if defined(__linux__)
#include <sys/mman.h>
#endif

/** GIST_NATIVE_ISA ("avx512", "avx2" or "scalar") when set: the SIMD level the kernels may use at most; else null. */
inline const char* forced_isa() { return std::getenv("GIST_NATIVE_ISA"); }

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
