// See esu_candidates.h.
#include "esu_candidates.h"
#include "platform.h"

#include <algorithm>
#include <vector>

void esu_candidates(const EsuCandidatesArgs& a) {
  const int T = worker_count(a.threads, a.m);
  std::vector<std::vector<int32_t>> distinct(T);
  std::vector<std::vector<double>> bestScore(T, std::vector<double>(a.R));
  std::vector<std::vector<int32_t>> bestItem(T, std::vector<int32_t>(a.R));
  parallel_units(a.m, a.threads, [&](int s, int w) {
    int32_t* stamp = a.scratch + static_cast<size_t>(w) * 2 * a.numItems;
    int32_t* lastAt = stamp + a.numItems;
    const int32_t turn = a.stampBase + s;
    const int32_t target = a.target[s];
    std::vector<int32_t>& d = distinct[w];
    d.clear();
    for (int32_t j = a.lo[s]; j < a.hi[s]; j++) {
      const int32_t item = a.histItems[j];
      if (item == target) continue;
      if (stamp[item] != turn) {
        stamp[item] = turn;
        d.push_back(item);
      }
      lastAt[item] = j;
    }
    const int n = static_cast<int>(d.size());
    a.outDistinct[s] = n;
    if (n < a.R) return;
    double* score = bestScore[w].data();
    int32_t* best = bestItem[w].data();
    // the R best so far, best first: (score desc, item asc)
    auto ahead = [&](double dot, int32_t item, int slot) { return dot > score[slot] || (dot == score[slot] && item < best[slot]); };
    const float* t = a.unit + static_cast<size_t>(target) * a.dim;
    int filled = 0;
    for (int i = 0; i < n; i++) {
      const int32_t item = d[i];
      const float* e = a.unit + static_cast<size_t>(item) * a.dim;
      double dot = 0;
      for (int k = 0; k < a.dim; k++) dot += static_cast<double>(t[k]) * static_cast<double>(e[k]);
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
    int32_t* out = a.outEvents + static_cast<size_t>(s) * a.R;
    for (int r = 0; r < a.R; r++) out[r] = lastAt[best[r]];
    std::sort(out, out + a.R);
  });
}
