// Exact Recall@K ranks (paper Tables 3 and 5), the native counterpart of pairRanks in src/core/evaluate/recall.ts
// with the same result bit for bit: each cosine is a double sum over k in order of (float32 candidate value ×
// double query value), multiplied and added separately as JS does (no fused multiply-add), and a pair's rank is
// the number of other candidates scoring more than TIE_EPS above its related item (greater) and within TIE_EPS of
// it (ties), the query item itself never counted.
#pragma once
#include <cstdint>

struct PairRanksArgs {
  const float* cand;         // [nc × dim] unit rows, float32
  int nc;
  int dim;
  const double* queries;     // [nq × dim] unit rows, double
  int nq;
  const int32_t* self;       // [nq] candidate index of the query item, −1 when it is not a candidate
  const int32_t* pairStart;  // [nq + 1] query q's pairs are pairStart[q] … pairStart[q+1]−1
  const int32_t* related;    // [pairs] candidate index of each pair's related item (≥ 0, never the query's own)
  double tieEps;
  int threads;
  int32_t* greater;          // [pairs]
  int32_t* ties;             // [pairs]
};

void pair_ranks(const PairRanksArgs& a);
