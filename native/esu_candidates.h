// The ESU's candidate set S_A (paper eq. 8), the native counterpart of gsuCandidateSets in src/core/pairs/esu.ts
// with the same result bit for bit: per sample, the R distinct items of the user's history before it (the target
// item excluded) that score highest by cos(e_target, e_item) over the source model's L2-normalised item ID
// embeddings — each cosine a double sum of the float32 products in k order, as the JS loop computes it — ties to
// the smaller item id; reported as the indices of those items' latest events, ascending (time order).
#pragma once
#include <cstdint>

struct EsuCandidatesArgs {
  const float* unit;          // [numItems × dim] unit rows
  int dim;
  int numItems;
  int R;
  const int32_t* histItems;   // the history store's item column
  int m;                      // samples
  const int32_t* target;      // [m] target item of each sample
  const int32_t* lo;          // [m] the sample's history: events [lo, hi) of histItems
  const int32_t* hi;
  int32_t* scratch;           // [threads × 2 × numItems]: per worker a stamp table (all < stampBase at first) and an item → local index table
  int32_t stampBase;          // stamps this call writes are stampBase + the index of a run's first sample: never seen before in scratch
  int threads;
  int32_t* outEvents;         // [m × R] written for samples with ≥ R distinct items
  int32_t* outDistinct;       // [m] distinct items before the sample (target excluded)
};

void esu_candidates(const EsuCandidatesArgs& a);
