// Batched, multi-threaded search of gist's HNSW shards (files written by hnswlib-node), for `build-index`
// recall and `gist` searches. hnswlib-node answers one query per call from JavaScript and has no threads;
// here a whole batch runs in C++ on T threads, with the same hnswlib code compiled with the same flags, so
// every query gets exactly the result hnswlib-node's searchKnn gives (the JS fallback in hnsw-shard.ts).
#include "hnsw_search.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "hnswlib.h"

struct HnswShardSet {
  int dim;
  std::vector<hnswlib::InnerProductSpace*> spaces;
  std::vector<hnswlib::HierarchicalNSW<float>*> shards;
};

HnswShardSet* hnsw_open(const std::vector<std::string>& files, int dim, int ef) {
  auto* set = new HnswShardSet{dim, {}, {}};
  try {
    for (const auto& f : files) {
      auto* space = new hnswlib::InnerProductSpace(dim);
      set->spaces.push_back(space);
      auto* index = new hnswlib::HierarchicalNSW<float>(space, f, false, 0, false);
      index->setEf(ef);  // hnswlib does not save ef
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

int hnsw_dim(const HnswShardSet* set) { return set->dim; }

size_t hnsw_count(const HnswShardSet* set) {
  size_t n = 0;
  for (auto* s : set->shards) n += s->cur_element_count;
  return n;
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
