// Pieces of hnswlib's graph code (hnswlib-node 3.0.0's copy) that gist's HNSW build and search run in their own
// loops, each giving exactly hnswlib's result: its candidate heap, and batches of its distances.
#pragma once
#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "hnswlib.h"
#include "platform.h"

namespace hnsw_replica {

using hnswlib::tableint;
using Index = hnswlib::HierarchicalNSW<float>;
using Pair = std::pair<float, tableint>;
using ByFirst = Index::CompareByFirst;

/**
 * std::priority_queue<Pair, std::vector<Pair>, CompareByFirst> over a vector that keeps its capacity. With
 * libstdc++ the sift loops are its std::push_heap / std::pop_heap step for step (so equal distances end in the
 * same places), the larger child picked without a branch; elsewhere the library's own calls.
 */
struct Heap {
  std::vector<Pair> c;
  bool empty() const { return c.empty(); }
  size_t size() const { return c.size(); }
  const Pair& top() const { return c.front(); }
  void clear() { c.clear(); }
  void emplace(float d, tableint i) {
    c.emplace_back(d, i);
#ifdef __GLIBCXX__
    siftUp(static_cast<ptrdiff_t>(c.size()) - 1, c.back());
#else
    std::push_heap(c.begin(), c.end(), ByFirst());
#endif
  }
  void pop() {
#ifdef __GLIBCXX__
    const ptrdiff_t len = static_cast<ptrdiff_t>(c.size()) - 1;
    if (len > 0) {
      // __pop_heap: the last element goes into the hole left by the top, sifted by __adjust_heap
      const Pair value = c[len];
      c[len] = c[0];
      Pair* f = c.data();
      ptrdiff_t hole = 0, child = 0;
      while (child < (len - 1) / 2) {
        child = 2 * (child + 1);
        child -= f[child].first < f[child - 1].first;
        f[hole] = f[child];
        hole = child;
      }
      if ((len & 1) == 0 && child == (len - 2) / 2) {
        child = 2 * (child + 1);
        f[hole] = f[child - 1];
        hole = child - 1;
      }
      siftUp(hole, value);
    }
    c.pop_back();
#else
    std::pop_heap(c.begin(), c.end(), ByFirst());
    c.pop_back();
#endif
  }

 private:
  /** libstdc++'s __push_heap: value rises from hole while its parent compares below it. */
  void siftUp(ptrdiff_t hole, Pair value) {
    Pair* f = c.data();
    ptrdiff_t parent = (hole - 1) / 2;
    while (hole > 0 && f[parent].first < value.first) {
      f[hole] = f[parent];
      hole = parent;
      parent = (hole - 1) / 2;
    }
    f[hole] = value;
  }
};

/** Whether `fn` is hnswlib's SSE inner-product kernel for dim % 4 == 0, which sse_distances repeats. */
inline bool is_hnswlib_sse(hnswlib::DISTFUNC<float> fn) {
#if defined(USE_SSE) && !defined(USE_AVX)
  return fn == hnswlib::InnerProductDistanceSIMD16ExtSSE || fn == hnswlib::InnerProductDistanceSIMD4ExtSSE;
#else
  (void)fn;
  return false;
#endif
}

/**
 * out[j] = 1 − q·x_j for j < n (x_j the vector of element ids[j]), in exactly the operations of hnswlib's SSE
 * kernels (one 4-lane running sum over the vector, a multiply then an add per 4 values, then ((t0 + t1) + t2) + t3):
 * four distances at a time, as four independent chains instead of one dependent chain per call. `n` of any size;
 * only for an index whose distance is_hnswlib_sse.
 */
inline void sse_distances(const Index& h, const float* q, const tableint* ids, size_t n, float* out) {
  size_t j = 0;
#if defined(USE_SSE) && !defined(USE_AVX)
  const size_t dim = h.data_size_ / sizeof(float);
  const auto finish = [](__m128 s) {
    alignas(16) float t[4];
    _mm_store_ps(t, s);
    return 1.0f - (t[0] + t[1] + t[2] + t[3]);
  };
  for (; j + 4 <= n; j += 4) {
    const float* x0 = reinterpret_cast<const float*>(h.getDataByInternalId(ids[j]));
    const float* x1 = reinterpret_cast<const float*>(h.getDataByInternalId(ids[j + 1]));
    const float* x2 = reinterpret_cast<const float*>(h.getDataByInternalId(ids[j + 2]));
    const float* x3 = reinterpret_cast<const float*>(h.getDataByInternalId(ids[j + 3]));
    __m128 s0 = _mm_set1_ps(0), s1 = s0, s2 = s0, s3 = s0;
    for (size_t e = 0; e < dim; e += 4) {
      const __m128 a = _mm_loadu_ps(q + e);
      s0 = _mm_add_ps(s0, _mm_mul_ps(a, _mm_loadu_ps(x0 + e)));
      s1 = _mm_add_ps(s1, _mm_mul_ps(a, _mm_loadu_ps(x1 + e)));
      s2 = _mm_add_ps(s2, _mm_mul_ps(a, _mm_loadu_ps(x2 + e)));
      s3 = _mm_add_ps(s3, _mm_mul_ps(a, _mm_loadu_ps(x3 + e)));
    }
    out[j] = finish(s0), out[j + 1] = finish(s1), out[j + 2] = finish(s2), out[j + 3] = finish(s3);
  }
#endif
  for (; j < n; j++) out[j] = h.fstdistfunc_(q, h.getDataByInternalId(ids[j]), h.dist_func_param_);
}

}  // namespace hnsw_replica
