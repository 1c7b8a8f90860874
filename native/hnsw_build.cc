// One HNSW shard built in C++. The insertion is hnswlib's own HierarchicalNSW::addPoint (hnswlib-node 3.0.0's
// copy) step for step — the same level draws, the same candidate order, the same heuristic — on one thread, so
// without its per-element locks, with the heaps of hnsw_replica.h (kept between insertions) and each candidate's
// unvisited neighbours gathered and prefetched before their distances are taken, four at a time in the operations
// of hnswlib's SSE kernel. The file is hnswlib-node's byte for byte (tested), 30–40% sooner. A label already in a
// shard being extended goes through hnswlib's own addPoint (its update path).
#include "hnsw_build.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "hnsw_replica.h"
#include "hnswlib.h"
#include "platform.h"

namespace {

using hnswlib::linklistsizeint;
using hnsw_replica::Heap;
using hnsw_replica::Index;
using hnsw_replica::Pair;
using hnswlib::tableint;

class Builder {
 public:
  explicit Builder(Index& index) : h_(index), ids_(index.maxM0_ + 1), dists_(index.maxM0_ + 1) {}

  /** hnswlib's addPoint(point, label, −1) for a label not in the index (no deletions, no replacement). */
  void add(const float* point, hnswlib::labeltype label) {
    if (h_.label_lookup_.count(label)) {
      h_.addPoint(point, label, -1);
      return;
    }
    if (h_.cur_element_count >= h_.max_elements_) throw std::runtime_error("The number of elements exceeds the specified limit");
    const tableint cur = static_cast<tableint>(h_.cur_element_count);
    h_.cur_element_count++;
    h_.label_lookup_[label] = cur;
    const int level = h_.getRandomLevel(h_.mult_);
    h_.element_levels_[cur] = level;
    const int maxLevel = h_.maxlevel_;
    tableint obj = h_.enterpoint_node_;
    std::memset(h_.data_level0_memory_ + cur * h_.size_data_per_element_ + h_.offsetLevel0_, 0, h_.size_data_per_element_);
    std::memcpy(h_.getExternalLabeLp(cur), &label, sizeof(label));
    std::memcpy(h_.getDataByInternalId(cur), point, h_.data_size_);
    if (level) {
      h_.linkLists_[cur] = static_cast<char*>(std::malloc(h_.size_links_per_element_ * level + 1));
      if (h_.linkLists_[cur] == nullptr) throw std::runtime_error("Not enough memory: addPoint failed to allocate linklist");
      std::memset(h_.linkLists_[cur], 0, h_.size_links_per_element_ * level + 1);
    }
    if (static_cast<signed>(obj) != -1) {
      if (level < maxLevel) {
        float best = dist(point, vec(obj));
        for (int l = maxLevel; l > level; l--) {
          bool changed = true;
          while (changed) {
            changed = false;
            linklistsizeint* data = h_.get_linklist(obj, l);
            const int size = h_.getListCount(data);
            const tableint* nb = reinterpret_cast<tableint*>(data + 1);
            for (int i = 0; i < size; i++) {
              const float d = dist(point, vec(nb[i]));
              if (d < best) best = d, obj = nb[i], changed = true;
            }
          }
        }
      }
      for (int l = std::min(level, maxLevel); l >= 0; l--) {
        searchLayer(obj, point, l);
        obj = connect(cur, l);
      }
    } else {
      h_.enterpoint_node_ = 0;
      h_.maxlevel_ = level;
    }
    if (level > maxLevel) h_.enterpoint_node_ = cur, h_.maxlevel_ = level;
  }

 private:
  Index& h_;
  Heap top_, candidates_, pruned_;
  std::vector<tableint> ids_;
  std::vector<float> dists_;
  std::vector<tableint> selected_;

  const char* vec(tableint i) const { return h_.getDataByInternalId(i); }
  float dist(const void* a, const void* b) const { return h_.fstdistfunc_(a, b, h_.dist_func_param_); }

  const bool sse_ = hnsw_replica::is_hnswlib_sse(h_.fstdistfunc_);

  /** out[j] = dist(q, vec(ids[j])) for j < n: four at a time in hnswlib's SSE operations where that is the kernel. */
  void batchDistances(const void* q, const tableint* ids, size_t n, float* out) const {
    if (sse_) return hnsw_replica::sse_distances(h_, static_cast<const float*>(q), ids, n, out);
    for (size_t j = 0; j < n; j++) out[j] = dist(q, vec(ids[j]));
  }

  /** hnswlib's searchBaseLayer (construction search): leaves the ef_construction nearest in top_. */
  void searchLayer(tableint entry, const void* q, int layer) {
    hnswlib::VisitedList* vl = h_.visited_list_pool_->getFreeVisitedList();
    hnswlib::vl_type* visited = vl->mass;
    const hnswlib::vl_type tag = vl->curV;
    top_.clear();
    candidates_.clear();
    const float d0 = dist(q, vec(entry));
    top_.emplace(d0, entry);
    float lowerBound = d0;
    candidates_.emplace(-d0, entry);
    visited[entry] = tag;
    const size_t ef = h_.ef_construction_;
    while (!candidates_.empty()) {
      const Pair cur = candidates_.top();
      if (-cur.first > lowerBound && top_.size() == ef) break;
      candidates_.pop();
      int* data = layer == 0 ? reinterpret_cast<int*>(h_.get_linklist0(cur.second)) : reinterpret_cast<int*>(h_.get_linklist(cur.second, layer));
      const size_t size = h_.getListCount(reinterpret_cast<linklistsizeint*>(data));
      const tableint* nb = reinterpret_cast<tableint*>(data + 1);
      // the neighbours hnswlib would score, in its order (marking them visited as it does), then their distances
      size_t n = 0;
      for (size_t j = 0; j < size; j++) {
        const tableint c = nb[j];
        if (visited[c] == tag) continue;
        visited[c] = tag;
#ifdef GIST_X86
        const char* v = vec(c);
        for (size_t line = 0; line < h_.data_size_; line += 64) _mm_prefetch(v + line, _MM_HINT_T0);
#endif
        ids_[n++] = c;
      }
      batchDistances(q, ids_.data(), n, dists_.data());
      for (size_t j = 0; j < n; j++) {
        const float d = dists_[j];
        if (top_.size() < ef || lowerBound > d) {
          candidates_.emplace(-d, ids_[j]);
          top_.emplace(d, ids_[j]);
          if (top_.size() > ef) top_.pop();
          if (!top_.empty()) lowerBound = top_.top().first;
        }
      }
#ifdef GIST_X86
      // the next node to expand: its link list starts its block
      if (!candidates_.empty()) _mm_prefetch(reinterpret_cast<const char*>(layer == 0 ? h_.get_linklist0(candidates_.top().second) : h_.get_linklist(candidates_.top().second, layer)), _MM_HINT_T0);
#endif
    }
    h_.visited_list_pool_->releaseVisitedList(vl);
  }

  /** hnswlib's getNeighborsByHeuristic2 on `heap` (a max-heap by distance), in place. */
  void heuristic(Heap& heap, size_t M) {
    if (heap.size() < M) return;
    std::priority_queue<Pair> closest;
    std::vector<Pair> kept;
    while (heap.size() > 0) {
      closest.emplace(-heap.top().first, heap.top().second);
      heap.pop();
    }
    while (closest.size()) {
      if (kept.size() >= M) break;
      const Pair p = closest.top();
      const float toQuery = -p.first;
      closest.pop();
      bool good = true;
      for (const Pair& k : kept)
        if (dist(vec(k.second), vec(p.second)) < toQuery) {
          good = false;
          break;
        }
      if (good) kept.push_back(p);
    }
    for (const Pair& p : kept) heap.emplace(-p.first, p.second);
  }

  /** hnswlib's mutuallyConnectNewElement(…, isUpdate = false) for top_; returns the next entry point. */
  tableint connect(tableint cur, int level) {
    const size_t maxLinks = level ? h_.maxM_ : h_.maxM0_;
    heuristic(top_, h_.M_);
    if (top_.size() > h_.M_) throw std::runtime_error("Should be not be more than M_ candidates returned by the heuristic");
    selected_.clear();
    while (top_.size() > 0) {
      selected_.push_back(top_.top().second);
      top_.pop();
    }
    const tableint next = selected_.back();
    linklistsizeint* own = level == 0 ? h_.get_linklist0(cur) : h_.get_linklist(cur, level);
    h_.setListCount(own, static_cast<unsigned short>(selected_.size()));
    tableint* links = reinterpret_cast<tableint*>(own + 1);
    for (size_t i = 0; i < selected_.size(); i++) {
      if (level > h_.element_levels_[selected_[i]]) throw std::runtime_error("Trying to make a link on a non-existent level");
      links[i] = selected_[i];
    }
    for (const tableint s : selected_) {
      linklistsizeint* other = level == 0 ? h_.get_linklist0(s) : h_.get_linklist(s, level);
      const size_t size = h_.getListCount(other);
      if (size > maxLinks) throw std::runtime_error("Bad value of sz_link_list_other");
      tableint* data = reinterpret_cast<tableint*>(other + 1);
      if (size < maxLinks) {
        data[size] = cur;
        h_.setListCount(other, static_cast<unsigned short>(size + 1));
        continue;
      }
      // full: keep the heuristic's choice among its links and the new element
      pruned_.clear();
      pruned_.emplace(dist(vec(cur), vec(s)), cur);
      batchDistances(vec(s), data, size, dists_.data());
      for (size_t j = 0; j < size; j++) pruned_.emplace(dists_[j], data[j]);
      heuristic(pruned_, maxLinks);
      int n = 0;
      while (pruned_.size() > 0) {
        data[n++] = pruned_.top().second;
        pruned_.pop();
      }
      h_.setListCount(other, static_cast<unsigned short>(n));
    }
    return next;
  }
};

}  // namespace

size_t hnsw_build(const HnswBuildArgs& a) {
  auto space = std::make_unique<hnswlib::InnerProductSpace>(static_cast<size_t>(a.dim));
  std::unique_ptr<Index> index;
  if (a.from != nullptr) {
    index = std::make_unique<Index>(space.get(), std::string(a.from), false, 0, false);
    const size_t need = index->cur_element_count + a.n;
    if (need > index->max_elements_) index->resizeIndex(need);
  } else {
    index = std::make_unique<Index>(space.get(), std::max<size_t>(1, a.n), static_cast<size_t>(a.m), static_cast<size_t>(a.ef_construction), a.seed, false);
  }
  // every insertion reads the level-0 block (links and vectors) at random: huge pages spare the TLB misses
  advise_huge_pages(index->data_level0_memory_, index->max_elements_ * index->size_data_per_element_, a.from != nullptr);
  Builder builder(*index);
  const size_t d = static_cast<size_t>(a.dim);
  for (size_t i = 0; i < a.n; i++) builder.add(a.vectors + i * d, static_cast<hnswlib::labeltype>(a.labels[i]));
  index->saveIndex(std::string(a.out));
  return index->cur_element_count;
}
