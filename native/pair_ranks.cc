// See pair_ranks.h. Compiled without -march: the AVX-512 / AVX2 paths carry their own target attribute and are
// picked at run time (GIST_NATIVE_ISA caps it); every path does the same double operations in the same order, so
// all agree bit for bit.
#include "pair_ranks.h"
#include "platform.h"

#include <algorithm>
#include <vector>

namespace {

/** Queries scored together: each candidate value is loaded once per group. */
constexpr int QG = 4;

#ifdef GIST_X86
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx2")
#define GIST_RANKS_NS ranks_avx512
#include "pair_ranks_simd.inc"
#undef GIST_RANKS_NS
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx2")
#define GIST_RANKS_NS ranks_avx2
#include "pair_ranks_simd.inc"
#undef GIST_RANKS_NS
#pragma GCC pop_options
#endif
#define GIST_RANKS_NS ranks_base
#include "pair_ranks_simd.inc"
#undef GIST_RANKS_NS

/** The ISA path's two functions, picked once. */
struct RankKernels {
  void (*scores)(const float*, int, int, const double* const*, int, double* const*);
  void (*count)(const double*, int, double, double, int64_t*, int64_t*);
};

const RankKernels kKernels = [] {
#ifdef GIST_X86
  const int isa = simd_level();
  if (isa == 2) return RankKernels{ranks_avx512::scores, ranks_avx512::count};
  if (isa == 1) return RankKernels{ranks_avx2::scores, ranks_avx2::count};
#endif
  return RankKernels{ranks_base::scores, ranks_base::count};
}();

}  // namespace

void pair_ranks(const PairRanksArgs& a) {
  const int ncp = (a.nc + 7) / 8 * 8;
  std::vector<float> candT(static_cast<size_t>(a.dim) * ncp, 0.0f);
  for (int c = 0; c < a.nc; c++)
    for (int k = 0; k < a.dim; k++) candT[static_cast<size_t>(k) * ncp + c] = a.cand[static_cast<size_t>(c) * a.dim + k];
  const int groups = (a.nq + QG - 1) / QG;
  const int T = worker_count(a.threads, groups);
  std::vector<std::vector<double>> buf(T, std::vector<double>(static_cast<size_t>(QG) * ncp));
  parallel_units(groups, a.threads, [&](int g, int w) {
    const int q0 = g * QG;
    const int nqg = std::min(QG, a.nq - q0);
    const double* q[QG];
    double* out[QG];
    for (int j = 0; j < QG; j++) {
      q[j] = a.queries + static_cast<size_t>(q0 + std::min(j, nqg - 1)) * a.dim;
      out[j] = buf[w].data() + static_cast<size_t>(j) * ncp;
    }
    kKernels.scores(candT.data(), ncp, a.dim, q, nqg, out);
    for (int j = 0; j < nqg; j++) {
      const int qi = q0 + j;
      const double* s = out[j];
      const int self = a.self[qi];
      for (int p = a.pairStart[qi]; p < a.pairStart[qi + 1]; p++) {
        const double sr = s[a.related[p]];
        const double hi = sr + a.tieEps;
        const double lo = sr - a.tieEps;
        int64_t g, e;
        kKernels.count(s, a.nc, lo, hi, &g, &e);
        // the related item itself (within) and the query item are not competitors
        e -= 1;
        if (self >= 0) {
          const double v = s[self];
          if (v > hi) g--;
          else if (v >= lo) e--;
        }
        a.greater[p] = static_cast<int32_t>(g);
        a.ties[p] = static_cast<int32_t>(e);
      }
    }
  });
}
