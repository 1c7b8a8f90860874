// hnswlib's graph search (hnswlib-node 3.0.0's copy) as gist's HNSW build and search run it, each step giving
// exactly hnswlib's result: its candidate heap, batches of its distances, the greedy descent through the upper
// layers and the beam search of one layer.
#pragma once
#include <algorithm>
#include <cstddef>
#include <stdexcept>
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

/** Distances from q to the elements ids[0..n) into out, each exactly as the index's own kernel gives it. */
using Distances = void (*)(const Index& h, const float* q, const tableint* ids, size_t n, float* out);

/** Distances: hnswlib's SSE kernel four at a time where that is the index's kernel, else one call each. */
inline void distances(const Index& h, const float* q, const tableint* ids, size_t n, float* out) {
  if (is_hnswlib_sse(h.fstdistfunc_)) return sse_distances(h, q, ids, n, out);
  for (size_t j = 0; j < n; j++) out[j] = h.fstdistfunc_(q, h.getDataByInternalId(ids[j]), h.dist_func_param_);
}

/** Per-thread buffers of the searches below. */
struct Scratch {
  Heap top, candidates;
  std::vector<tableint> ids;
  std::vector<float> dists;
  void fit(const Index& h) {
    if (ids.size() < h.maxM0_ + 1) ids.resize(h.maxM0_ + 1), dists.resize(h.maxM0_ + 1);
  }
};

/**
 * hnswlib's greedy descent (addPoint's and searchKnn's): from `entry` on layer `from` down to layer above + 1,
 * moving to any neighbour closer than the current node, a node's whole list scored before moving on. Returns the
 * node it ends on.
 */
inline tableint descend(const Index& h, const float* q, tableint entry, int from, int above, Scratch& s, Distances dist) {
  if (from <= above) return entry;
  s.fit(h);
  tableint cur = entry;
  float best = h.fstdistfunc_(q, h.getDataByInternalId(cur), h.dist_func_param_);
  for (int level = from; level > above; level--) {
    bool changed = true;
    while (changed) {
      changed = false;
      hnswlib::linklistsizeint* data = h.get_linklist(cur, level);
      const int size = h.getListCount(data);
      const tableint* nb = reinterpret_cast<const tableint*>(data + 1);
      for (int i = 0; i < size; i++)
        if (nb[i] > h.max_elements_) throw std::runtime_error("cand error");
      dist(h, q, nb, static_cast<size_t>(size), s.dists.data());
      for (int i = 0; i < size; i++)
        if (s.dists[i] < best) best = s.dists[i], cur = nb[i], changed = true;
    }
  }
  return cur;
}

/**
 * hnswlib's beam search of one layer from `entry`, leaving the ef nearest in s.top: searchBaseLayer when
 * `construction` (it stops only once ef results are held), else searchKnn's searchBaseLayerST without deletions
 * (it stops at the first candidate farther than the worst result). A node's unvisited neighbours are collected
 * (marked visited in hnswlib's order) and prefetched, then their distances taken together.
 */
inline void search_layer(const Index& h, const float* q, tableint entry, int layer, size_t ef, bool construction, Scratch& s, Distances dist) {
  s.fit(h);
  hnswlib::VisitedList* vl = h.visited_list_pool_->getFreeVisitedList();
  hnswlib::vl_type* visited = vl->mass;
  const hnswlib::vl_type tag = vl->curV;
  s.top.clear();
  s.candidates.clear();
  float lowerBound = h.fstdistfunc_(q, h.getDataByInternalId(entry), h.dist_func_param_);
  s.top.emplace(lowerBound, entry);
  s.candidates.emplace(-lowerBound, entry);
  visited[entry] = tag;
  const auto links = [&](tableint id) { return layer == 0 ? h.get_linklist0(id) : h.get_linklist(id, layer); };
  while (!s.candidates.empty()) {
    const Pair node = s.candidates.top();
    if (-node.first > lowerBound && (!construction || s.top.size() == ef)) break;
    s.candidates.pop();
    hnswlib::linklistsizeint* data = links(node.second);
    const size_t size = h.getListCount(data);
    const tableint* nb = reinterpret_cast<const tableint*>(data + 1);
    size_t n = 0;
    for (size_t j = 0; j < size; j++) {
      const tableint c = nb[j];
      if (visited[c] == tag) continue;
      visited[c] = tag;
#ifdef GIST_X86
      const char* v = h.getDataByInternalId(c);
      for (size_t line = 0; line < h.data_size_; line += 64) _mm_prefetch(v + line, _MM_HINT_T0);
#endif
      s.ids[n++] = c;
    }
    dist(h, q, s.ids.data(), n, s.dists.data());
    for (size_t j = 0; j < n; j++) {
      const float d = s.dists[j];
      if (s.top.size() < ef || lowerBound > d) {
        s.candidates.emplace(-d, s.ids[j]);
        s.top.emplace(d, s.ids[j]);
        while (s.top.size() > ef) s.top.pop();
        if (!s.top.empty()) lowerBound = s.top.top().first;
      }
    }
#ifdef GIST_X86
    // the next node to expand: its link list starts its block
    if (!s.candidates.empty()) _mm_prefetch(reinterpret_cast<const char*>(links(s.candidates.top().second)), _MM_HINT_T0);
#endif
  }
  h.visited_list_pool_->releaseVisitedList(vl);
}

}  // namespace hnsw_replica
