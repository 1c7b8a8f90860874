// What gist's native kernels ask of the platform, in one place: the SIMD level (GIST_NATIVE_ISA caps it),
// worker threads, and huge pages.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
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
 * Worker threads kept for one calling thread's parallel_units: starting and joining a std::thread per call cost
 * ~80 µs here, as much as a 16M multiply-add GEMM on one core, so the many small kernel calls of a training step
 * ran slower on two threads than on one. Workers wait on a condition variable between calls (idle, they cost
 * nothing) after spinning briefly for the next call of a step.
 */
class UnitPool {
 public:
  /** fn(w) for w in [0, T): w = 0 on the calling thread, the others on pool workers; returns when all are done. */
  void run(int T, const std::function<void(int)>& fn) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      while (static_cast<int>(workers_.size()) < T - 1) {
        const int w = static_cast<int>(workers_.size()) + 1;
        workers_.emplace_back([this, w] { loop(w); });
      }
      job_ = &fn;
      active_ = T;
      remaining_ = T - 1;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    fn(0);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return remaining_ == 0; });
    job_ = nullptr;
  }

 private:
  void loop(int w) {
    uint64_t seen = 0;
    for (;;) {
      // Spin a little before sleeping: a training step calls the kernels back to back.
      for (int i = 0; i < 2000 && generation_.load(std::memory_order_acquire) == seen; i++) std::this_thread::yield();
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_relaxed) != seen; });
      seen = generation_.load(std::memory_order_relaxed);
      if (w >= active_) continue;
      const std::function<void(int)>* job = job_;
      lock.unlock();
      (*job)(w);
      lock.lock();
      if (--remaining_ == 0) done_.notify_one();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  int active_ = 0;
  int remaining_ = 0;
};

/** This thread's pool, made on first use and never destroyed (its idle workers end with the process). */
inline UnitPool& unit_pool() {
  static thread_local UnitPool* pool = new UnitPool();
  return *pool;
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
  if (T == 1) return run(0);
  unit_pool().run(T, run);
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
