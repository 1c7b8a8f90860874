// See pair_ranks.h. Compiled without -march: the AVX-512 / AVX2 paths carry their own target attribute and are
// picked at run time; every path does the same double operations in the same order, so all agree bit for bit.
#include "pair_ranks.h"
#include "platform.h"

#include <algorithm>
#include <vector>

namespace {

/** Queries scored together: each candidate value is loaded once per group. */
constexpr int QG = 4;

#define GIST_RANKS_BODY                                                                                          \
  /* candidates transposed, [dim][ncp] (ncp: nc rounded up to 8, zero padded): lanes run along candidates */       \
  void scores(const float* candT, int ncp, int dim, const double* const* q, int nqg, double* const* out) {        \
    for (int c0 = 0; c0 < ncp; c0 += 8) {                                                                         \
      vd acc[QG];                                                                                                 \
      for (int j = 0; j < QG; j++) acc[j] = vd{};                                                                 \
      for (int k = 0; k < dim; k++) {                                                                             \
        const float* x = candT + static_cast<size_t>(k) * ncp + c0;                                               \
        const vd xv = {x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]};                                           \
        for (int j = 0; j < QG; j++) acc[j] = acc[j] + xv * q[j][k];                                              \
      }                                                                                                           \
      for (int j = 0; j < nqg; j++)                                                                               \
        for (int l = 0; l < 8; l++) out[j][c0 + l] = acc[j][l];                                                   \
    }                                                                                                             \
  }                                                                                                               \
  /* candidates scoring above hi and within [lo, hi] (over all nc) */                                             \
  void count(const double* s, int nc, double lo, double hi, int64_t* above, int64_t* within) {                    \
    int64_t g = 0, e = 0;                                                                                         \
    for (int c = 0; c < nc; c++) {                                                                                \
      const double v = s[c];                                                                                      \
      g += v > hi ? 1 : 0;                                                                                        \
      e += (v >= lo && !(v > hi)) ? 1 : 0;                                                                        \
    }                                                                                                             \
    *above = g;                                                                                                   \
    *within = e;                                                                                                  \
  }

typedef double vd __attribute__((vector_size(64)));

#ifdef GIST_X86
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx2")
namespace ranks_avx512 {
GIST_RANKS_BODY
}
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx2")
namespace ranks_avx2 {
GIST_RANKS_BODY
}
#pragma GCC pop_options
#endif
namespace ranks_base {
GIST_RANKS_BODY
}

const int kIsa = simd_level();

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
#ifdef GIST_X86
    if (kIsa == 2) ranks_avx512::scores(candT.data(), ncp, a.dim, q, nqg, out);
    else if (kIsa == 1) ranks_avx2::scores(candT.data(), ncp, a.dim, q, nqg, out);
    else
#endif
      ranks_base::scores(candT.data(), ncp, a.dim, q, nqg, out);
    for (int j = 0; j < nqg; j++) {
      const int qi = q0 + j;
      const double* s = out[j];
      const int self = a.self[qi];
      for (int p = a.pairStart[qi]; p < a.pairStart[qi + 1]; p++) {
        const double sr = s[a.related[p]];
        const double hi = sr + a.tieEps;
        const double lo = sr - a.tieEps;
        int64_t g, e;
#ifdef GIST_X86
        if (kIsa == 2) ranks_avx512::count(s, a.nc, lo, hi, &g, &e);
        else if (kIsa == 1) ranks_avx2::count(s, a.nc, lo, hi, &g, &e);
        else
#endif
          ranks_base::count(s, a.nc, lo, hi, &g, &e);
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
