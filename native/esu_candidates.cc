// See esu_candidates.h.
#include "esu_candidates.h"
#include "platform.h"

#include <algorithm>
#include <vector>

#ifdef GIST_X86
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx2,fma")
#define GIST_ESU_NS esu_avx512
#include "esu_dots.inc"
#undef GIST_ESU_NS
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define GIST_ESU_NS esu_avx2
#include "esu_dots.inc"
#undef GIST_ESU_NS
#pragma GCC pop_options
#endif

#define GIST_ESU_NS esu_base
#include "esu_dots.inc"
#undef GIST_ESU_NS

namespace {

const int kIsa = simd_level();

void dots32(const float* t, const float* block, int dim, double* out) {
#ifdef GIST_X86
  if (kIsa == 2) return esu_avx512::dots32(t, block, dim, out);
  if (kIsa == 1) return esu_avx2::dots32(t, block, dim, out);
#endif
  esu_base::dots32(t, block, dim, out);
}

/** A worker's buffers, reused from user to user. */
struct UserTables {
  std::vector<int32_t> local;     // local index → item, in order of first occurrence
  std::vector<int32_t> firstAt;   // local index → its first event
  std::vector<int32_t> start;     // local index → its events in `at`: [start[i], start[i + 1])
  std::vector<int32_t> at;        // event indices grouped by local index, ascending within each
  std::vector<float> blocks;      // unit rows of the local items, 32 at a time, each block [dim][32]
  std::vector<double> score;      // one block's cosines
};

}  // namespace

void esu_candidates(const EsuCandidatesArgs& a) {
  // Samples come in runs of one user (the same history start): each run gathers its user's distinct items once —
  // their unit rows into contiguous k-major blocks, their events by item — and every sample of the run scores the
  // prefix of them first seen before it. The R best by (cosine desc, item asc) are a set whatever the order they
  // are met in, so the result is the one-sample-at-a-time scan's bit for bit.
  std::vector<int> runs{0};
  for (int s = 1; s < a.m; s++)
    if (a.lo[s] != a.lo[s - 1]) runs.push_back(s);
  runs.push_back(a.m);
  const int units = static_cast<int>(runs.size()) - 1;
  const int T = worker_count(a.threads, units);
  std::vector<UserTables> tables(T);
  std::vector<std::vector<double>> bestScore(T, std::vector<double>(a.R));
  std::vector<std::vector<int32_t>> bestItem(T, std::vector<int32_t>(a.R));
  parallel_units(units, a.threads, [&](int u, int w) {
    const int s0 = runs[u], s1 = runs[u + 1];
    int32_t* stamp = a.scratch + static_cast<size_t>(w) * 2 * a.numItems;
    int32_t* localOf = stamp + a.numItems;
    const int32_t turn = a.stampBase + s0;
    const int32_t lo = a.lo[s0];
    int32_t end = lo;
    for (int s = s0; s < s1; s++) end = std::max(end, a.hi[s]);
    UserTables& ut = tables[w];
    ut.local.clear();
    ut.firstAt.clear();
    for (int32_t j = lo; j < end; j++) {
      const int32_t item = a.histItems[j];
      if (stamp[item] != turn) {
        stamp[item] = turn;
        localOf[item] = static_cast<int32_t>(ut.local.size());
        ut.local.push_back(item);
        ut.firstAt.push_back(j);
      }
    }
    const int nd = static_cast<int>(ut.local.size());
    // Events by local item (counting sort keeps them ascending).
    ut.start.assign(static_cast<size_t>(nd) + 1, 0);
    for (int32_t j = lo; j < end; j++) ut.start[localOf[a.histItems[j]] + 1]++;
    for (int i = 0; i < nd; i++) ut.start[i + 1] += ut.start[i];
    ut.at.resize(static_cast<size_t>(end - lo));
    {
      std::vector<int32_t> fill(ut.start.begin(), ut.start.end() - 1);
      for (int32_t j = lo; j < end; j++) ut.at[fill[localOf[a.histItems[j]]]++] = j;
    }
    const int nb = (nd + 31) / 32;
    ut.blocks.assign(static_cast<size_t>(nb) * a.dim * 32, 0.0f);
    for (int i = 0; i < nd; i++) {
      const float* e = a.unit + static_cast<size_t>(ut.local[i]) * a.dim;
      float* dst = ut.blocks.data() + static_cast<size_t>(i / 32) * a.dim * 32 + (i % 32);
      for (int k = 0; k < a.dim; k++) dst[static_cast<size_t>(k) * 32] = e[k];
    }
    ut.score.resize(32);
    double* score = bestScore[w].data();
    int32_t* best = bestItem[w].data();
    auto ahead = [&](double dot, int32_t item, int slot) { return dot > score[slot] || (dot == score[slot] && item < best[slot]); };
    for (int s = s0; s < s1; s++) {
      const int32_t target = a.target[s];
      // Items first seen before the sample: a prefix of the local order.
      const int np = static_cast<int>(std::lower_bound(ut.firstAt.begin(), ut.firstAt.end(), a.hi[s]) - ut.firstAt.begin());
      const bool targetSeen = stamp[target] == turn && localOf[target] < np;
      const int n = np - (targetSeen ? 1 : 0);
      a.outDistinct[s] = n;
      if (n < a.R) continue;
      const float* t = a.unit + static_cast<size_t>(target) * a.dim;
      int filled = 0;
      for (int b = 0; b * 32 < np; b++) {
        dots32(t, ut.blocks.data() + static_cast<size_t>(b) * a.dim * 32, a.dim, ut.score.data());
        const int top = std::min(32, np - b * 32);
        for (int q = 0; q < top; q++) {
          const int32_t item = ut.local[b * 32 + q];
          if (item == target) continue;
          const double dot = ut.score[q];
          if (filled == a.R && !ahead(dot, item, a.R - 1)) continue;
          int at = filled < a.R ? filled++ : a.R - 1;
          while (at > 0 && ahead(dot, item, at - 1)) {
            score[at] = score[at - 1];
            best[at] = best[at - 1];
            at--;
          }
          score[at] = dot;
          best[at] = item;
        }
      }
      // Each chosen item's latest event before the sample.
      int32_t* out = a.outEvents + static_cast<size_t>(s) * a.R;
      for (int r = 0; r < a.R; r++) {
        const int i = localOf[best[r]];
        const int32_t* first = ut.at.data() + ut.start[i];
        const int32_t* last = ut.at.data() + ut.start[i + 1];
        out[r] = *(std::lower_bound(first, last, a.hi[s]) - 1);
      }
      std::sort(out, out + a.R);
    }
  });
}
