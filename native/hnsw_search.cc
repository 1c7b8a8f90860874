// Batched, multi-threaded search of gist's HNSW shards (files written by hnswlib-node). hnswlib-node answers
// one query per call from JavaScript and has no threads; here a whole batch runs in C++ on T threads with
// hnswlib's own graph code, compiled with hnswlib-node's flags. Distances: hnswlib's inner-product space (the
// SSE kernels hnswlib-node and Debian's python3-hnswlib use: every query gets exactly hnswlib-node's result),
// or, where the CPU has AVX-512, gist's own 16-lane kernel (faster; distances can differ in the last bits, so
// near-tied neighbours may swap). GIST_NATIVE_ISA=avx2 or scalar forces hnswlib's.
#include "hnsw_search.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "hnswlib.h"
#include "platform.h"


namespace {

#if defined(__x86_64__)
// gcc 12 reports a false "uninitialized" inside its own AVX-512 extract intrinsics (GCC bug 105593)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
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
  // 16 → 8 → 4 → 1 lanes (a scalar loop over the 16 lanes cost a dependent add chain per distance)
  const __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(acc), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1)));
  __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  s4 = _mm_add_ss(s4, _mm_shuffle_ps(s4, s4, 1));
  return 1.0f - _mm_cvtss_f32(s4);
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
/** One query: unit length as the JS path makes it (double sum, float result), every shard, merged by (distance, label). */
void search_one(const HnswShardSet& set, const float* query, int k, int32_t* labels, float* distances, std::vector<float>& q,
                std::vector<std::pair<float, int32_t>>& hits) {
  const int d = set.dim;
  double ss = 0;
  for (int x = 0; x < d; x++) ss += static_cast<double>(query[x]) * static_cast<double>(query[x]);
  const double inv = ss > 0 ? 1 / std::sqrt(ss) : 0;
  for (int x = 0; x < d; x++) q[x] = static_cast<float>(static_cast<double>(query[x]) * inv);
  hits.clear();
  for (auto* shard : set.shards) {
    const size_t kk = std::min(static_cast<size_t>(k), static_cast<size_t>(shard->cur_element_count));
    if (kk == 0) continue;
    auto knn = shard->searchKnn(q.data(), kk);
    while (!knn.empty()) {
      hits.emplace_back(knn.top().first, static_cast<int32_t>(knn.top().second));
      knn.pop();
    }
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
    for (;;) {
      const size_t a = next.fetch_add(chunk);
      if (a >= n) return;
      const size_t b = std::min(n, a + chunk);
      for (size_t i = a; i < b; i++) search_one(*set, queries + i * set->dim, k, labels + i * k, distances + i * k, q, hits);
    }
  };
  const int t = std::max(1, std::min(threads, static_cast<int>((n + chunk - 1) / chunk)));
  std::vector<std::thread> pool;
  for (int i = 1; i < t; i++) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
}

