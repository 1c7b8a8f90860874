// Exact cosine top-K of a user's target queries over the user's source sequence (the GSU, paper §4.3),
// native twin of score-kernel.ts + topk.ts: same scores bit for bit, same order, same results.
//
// Score s(q, c) = Σ_k Q[q][k]·T[c][k] is summed exactly as the wasm kernel does: four partial sums
// P_l = fma-chain over k ≡ l (mod 4), k ascending, then s = (P0 + P2) + (P1 + P3). Queries ride the SIMD
// lanes (16 per AVX-512 register, 8 per AVX2 register), candidate values are broadcast, so no candidate row
// is ever packed or transposed: rows are read straight from the table by item id.
#pragma once
#include <cstdint>

struct GsuTopKArgs {
  const float* table;     // rows × dp, row r = item r (unit vectors, zero padded to dp)
  int dp;                 // padded dimension, a multiple of 8
  const int32_t* qrows;   // [nq] table row of each query
  int nq;
  const int32_t* cand;    // [L] table row of each candidate column (the user's source items, time order)
  const double* recency;  // [L] tie-break key, larger first (event time); may be null
  const int32_t* limit;   // [nq] query q sees columns [0, limit[q])
  int k;
  int32_t* out_items;     // [nq × k] best first
  float* out_scores;      // [nq × k]
  int32_t* out_counts;    // [nq]
};

// Returns the number of useful multiply-adds × 2 (Σ limit × 2·dim is the caller's business); 0 always.
void gsu_topk(const GsuTopKArgs& a);

// Which code path runs on this CPU: "avx512", "avx2" or "scalar".
const char* gsu_topk_isa();
