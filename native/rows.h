// Embedding-row kernels behind the wasm GatherV2 and UnsortedSegmentSum fixes (src/core/engine/kernels.ts): the
// same element operations in the same order as their JS loops (a copy; float32 adds row by row in input order), so
// the results are bit-identical with or without the addon.
#pragma once
#include <cstddef>
#include <cstdint>

// out[i, :] = x[idx[i], :] for rows of `row` 4-byte elements; every idx[i] already checked to lie in the table.
void gather_rows(const uint32_t* x, const int32_t* idx, size_t n, size_t row, uint32_t* out);

// out[seg[i], :] += x[i, :] in i order, skipping ids outside [0, segments); out is zeroed first.
void segment_sum(const float* x, const int32_t* seg, size_t n, size_t inner, size_t segments, float* out);
