// Batched, multi-threaded search of gist's HNSW shards (files written by hnswlib-node or hnsw_build.cc).
// hnswlib-node answers one query per call from JavaScript and has no threads; here a whole batch runs in C++ on T
// threads, each query hnswlib's searchKnn replayed step for step (knn below: the neighbours of a node collected,
// then their distances four at a time, and the heaps of hnsw_replica.h; the same results as hnswlib's own call,
// tested; GIST_HNSW_REPLICA=0 runs that call instead). Distances: hnswlib's inner-product space (the SSE kernels
// hnswlib-node and Debian's python3-hnswlib use: every query gets exactly hnswlib-node's result), or, where the
// CPU has AVX-512, gist's own 16-lane kernel (faster; distances can differ in the last bits, so near-tied
// neighbours may swap). GIST_NATIVE_ISA=avx2 or scalar forces hnswlib's.
#include "hnsw_search.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "hnsw_replica.h"
#include "hnswlib.h"
#include "platform.h"


namespace {

#if defined(__x86_64__)
// gcc 12 reports a false "uninitialized" inside its own AVX-512 extract intrinsics (GCC bug 105593)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
/** Σ of a 16-lane sum, 16 → 8 → 4 → 1 lanes (a scalar loop over the lanes cost a dependent add chain per distance). */
__attribute__((target("avx512f"))) inline float sum16(__m512 acc) {
  const __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(acc), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1)));
  __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  s4 = _mm_add_ss(s4, _mm_shuffle_ps(s4, s4, 1));
  return _mm_cvtss_f32(s4);
}

/** 1 − x·y over `dim` floats, 16 lanes at a time (masked tail). */
__attribute__((target("avx512f"))) float ip_distance_avx512(const void* a, const void* b, const void* param) {
  const float* x = static_cast<const float*>(a);
  const float* y = static_cast<const float*>(b);
  const size_t dim = *static_cast<const size_t*>(param);
  __m512 acc = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), acc);
  if (i < dim) {
    const __mmask16 m = static_cast<__mmask16>((1u << (dim - i)) - 1);
    acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i), acc);
  }
  return 1.0f - sum16(acc);
}

/** ip_distance_avx512 of q and the elements ids[0..n), four at a time (the same operations per distance, as
 *  independent chains). */
__attribute__((target("avx512f"))) void wide_distances(const hnsw_replica::Index& h, const float* q, const hnswlib::tableint* ids, size_t n, float* out) {
  const size_t dim = h.data_size_ / sizeof(float);
  const size_t full = dim & ~static_cast<size_t>(15);
  const __mmask16 m = static_cast<__mmask16>((1u << (dim - full)) - 1);
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const float* y[4];
    for (int c = 0; c < 4; c++) y[c] = reinterpret_cast<const float*>(h.getDataByInternalId(ids[j + c]));
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    for (size_t i = 0; i < full; i += 16) {
      const __m512 x = _mm512_loadu_ps(q + i);
      for (int c = 0; c < 4; c++) acc[c] = _mm512_fmadd_ps(x, _mm512_loadu_ps(y[c] + i), acc[c]);
    }
    if (full < dim) {
      const __m512 x = _mm512_maskz_loadu_ps(m, q + full);
      for (int c = 0; c < 4; c++) acc[c] = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(m, y[c] + full), acc[c]);
    }
    for (int c = 0; c < 4; c++) out[j + c] = 1.0f - sum16(acc[c]);
  }
  for (; j < n; j++) out[j] = ip_distance_avx512(q, h.getDataByInternalId(ids[j]), h.dist_func_param_);
}
#pragma GCC diagnostic pop

bool use_avx512() {
  if (const char* force = forced_isa())
    if (std::strcmp(force, "avx512") != 0) return false;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}
#else
bool use_avx512() { return false; }
#endif

const bool kWide = use_avx512();

/** hnswlib's inner-product space with gist's AVX-512 distance. */
class WideInnerProductSpace : public hnswlib::SpaceInterface<float> {
 public:
  explicit WideInnerProductSpace(size_t dim) : dim_(dim) {}
  size_t get_data_size() override { return dim_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override {
#if defined(__x86_64__)
    return ip_distance_avx512;
#else
    return nullptr;
#endif
  }
  void* get_dist_func_param() override { return &dim_; }

 private:
  size_t dim_;
};

}  // namespace

const char* hnsw_isa() { return kWide ? "avx512" : "sse"; }

struct HnswShardSet {
  int dim;
  std::vector<hnswlib::SpaceInterface<float>*> spaces;
  std::vector<hnswlib::HierarchicalNSW<float>*> shards;
};

HnswShardSet* hnsw_open(const std::vector<std::string>& files, int dim, int ef) {
  auto* set = new HnswShardSet{dim, {}, {}};
  try {
    for (const auto& f : files) {
      hnswlib::SpaceInterface<float>* space = kWide ? static_cast<hnswlib::SpaceInterface<float>*>(new WideInnerProductSpace(dim))
                                                    : new hnswlib::InnerProductSpace(dim);
      set->spaces.push_back(space);
      auto* index = new hnswlib::HierarchicalNSW<float>(space, f, false, 0, false);
      index->setEf(ef);  // hnswlib does not save ef
      // every query visits the level-0 block (vectors and links) at random
      advise_huge_pages(index->data_level0_memory_, index->max_elements_ * index->size_data_per_element_, true);
      set->shards.push_back(index);
    }
  } catch (...) {
    hnsw_close(set);
    throw;
  }
  return set;
}

void hnsw_close(HnswShardSet* set) {
  if (set == nullptr) return;
  for (auto* s : set->shards) delete s;
  for (auto* s : set->spaces) delete s;
  delete set;
}

namespace {
using hnsw_replica::Index;
using hnswlib::tableint;

using hnsw_replica::Scratch;

/** The shard's distances from q to ids[0..n): four at a time in its kernel's own operations. */
void distances(const Index& h, const float* q, const tableint* ids, size_t n, float* out) {
#if defined(__x86_64__)
  if (h.fstdistfunc_ == ip_distance_avx512) return wide_distances(h, q, ids, n, out);
#endif
  hnsw_replica::distances(h, q, ids, n, out);
}

/**
 * hnswlib's searchKnn(q, k) on a shard without deletions, step for step — the greedy descent, then the layer-0
 * search with ef = max(ef, k) — on hnsw_replica.h's pieces: the same k results. Appends (distance, label).
 */
void knn(const Index& h, const float* q, size_t k, Scratch& s, std::vector<std::pair<float, int32_t>>& hits) {
  if (h.cur_element_count == 0) return;
  if (h.num_deleted_ != 0) {  // not gist's shards: hnswlib's own search
    auto r = h.searchKnn(q, k);
    for (; !r.empty(); r.pop()) hits.emplace_back(r.top().first, static_cast<int32_t>(r.top().second));
    return;
  }
  const tableint entry = hnsw_replica::descend(h, q, h.enterpoint_node_, h.maxlevel_, 0, s, distances);
  hnsw_replica::search_layer(h, q, entry, 0, std::max(h.ef_, k), false, s, distances);
  while (s.top.size() > k) s.top.pop();
  for (const auto& p : s.top.c) hits.emplace_back(p.first, static_cast<int32_t>(h.getExternalLabel(p.second)));
}

/** GIST_HNSW_REPLICA=0: hnswlib's own searchKnn instead of knn() (the tests compare the two). */
const bool kReplica = [] {
  const char* v = std::getenv("GIST_HNSW_REPLICA");
  return v == nullptr || std::strcmp(v, "0") != 0;
}();

/** One query: unit length as the JS path makes it (double sum, float result), every shard, merged by (distance, label). */
void search_one(const HnswShardSet& set, const float* query, int k, int32_t* labels, float* distances, std::vector<float>& q,
                std::vector<std::pair<float, int32_t>>& hits, Scratch& scratch) {
  const int d = set.dim;
  double ss = 0;
  for (int x = 0; x < d; x++) ss += static_cast<double>(query[x]) * static_cast<double>(query[x]);
  const double inv = ss > 0 ? 1 / std::sqrt(ss) : 0;
  for (int x = 0; x < d; x++) q[x] = static_cast<float>(static_cast<double>(query[x]) * inv);
  hits.clear();
  for (auto* shard : set.shards) {
    const size_t kk = std::min(static_cast<size_t>(k), static_cast<size_t>(shard->cur_element_count));
    if (kk == 0) continue;
    if (kReplica) {
      knn(*shard, q.data(), kk, scratch, hits);
      continue;
    }
    for (auto r = shard->searchKnn(q.data(), kk); !r.empty(); r.pop()) hits.emplace_back(r.top().first, static_cast<int32_t>(r.top().second));
  }
  std::sort(hits.begin(), hits.end());  // distance, then label
  const int got = std::min(k, static_cast<int>(hits.size()));
  for (int t = 0; t < got; t++) {
    labels[t] = hits[t].second;
    distances[t] = hits[t].first;
  }
  for (int t = got; t < k; t++) {
    labels[t] = -1;
    distances[t] = INFINITY;
  }
}
}  // namespace

int hnsw_dim(const HnswShardSet* set) { return set->dim; }

void hnsw_search(const HnswShardSet* set, const float* queries, size_t n, int k, int threads, int32_t* labels, float* distances) {
  std::atomic<size_t> next{0};
  const size_t chunk = 16;
  auto work = [&]() {
    std::vector<float> q(set->dim);
    std::vector<std::pair<float, int32_t>> hits;
    Scratch scratch;
    for (;;) {
      const size_t a = next.fetch_add(chunk);
      if (a >= n) return;
      const size_t b = std::min(n, a + chunk);
      for (size_t i = a; i < b; i++) search_one(*set, queries + i * set->dim, k, labels + i * k, distances + i * k, q, hits, scratch);
    }
  };
  const int t = std::max(1, std::min(threads, static_cast<int>((n + chunk - 1) / chunk)));
  std::vector<std::thread> pool;
  for (int i = 1; i < t; i++) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
}

