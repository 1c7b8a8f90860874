// Exact cosine top-K of a user's target queries over the user's source sequence (the GSU, paper §4.3),
// the native counterpart of score-kernel.ts + topk.ts (same order of results; see below for scores).
//
// Score s(q, c) = Σ_k Q[q][k]·T[c][k] is one fused multiply-add chain over k = 0 … dp−1 in every native path
// (AVX-512, AVX2, scalar), so they agree bit for bit. Queries ride the SIMD lanes (16 per AVX-512 register, 8
// per AVX2 register) and candidate values are broadcast: rows are read straight from the table by item id,
// never packed, and one chain per accumulator lets a tile hold 10 candidates × 32 queries. The WebAssembly
// kernel sums four strided partial sums instead (its lanes run along k), so its scores can differ from these
// in the last bit; keeping the two identical cost 30% of this kernel's speed (measured), so they are not.
//
// Long histories (≥ 8 K columns) start each query at a threshold taken from a strided sample of the columns
// (the 8th best sampled score, about the 4K-th best overall) instead of −∞: a threshold rising only as candidates
// arrive let ~20% of a 10^4-event history through the collector, the seeded one ~4K. A query whose seed proves too
// high (fewer than K columns reach it, about once in a thousand) is redone without one, so the results never
// depend on the seeding (GIST_GSU_SEED=off|high in the tests). On AVX-512 the lanes that pass are appended to a
// log by compress instructions (no branch per lane) and handed to the per-query collectors in one loop; the final
// top K is ordered by counting ranks, and compaction bisects the score with vector counts. Moving these off
// data-dependent branches made the search 1.6–2× faster (measured at L = 10^3 … 10^4, 32 queries per user) with
// the same results bit for bit.
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
