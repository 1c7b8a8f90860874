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

// out[i] = Σ_k x[a[i], k] · x[b[i], k] over rows of `dim` floats, each product and the running sum in double, k in
// order (asi.ts rowDot's JS loop, so the same bits), stored as float32; NaN where a[i] or b[i] is negative. Every
// non-negative index already checked to lie in the table.
void row_dots(const float* x, size_t dim, const int32_t* a, const int32_t* b, size_t n, float* out);

// The same dots kept in double (planted-neighbour recall's JS loop, dot then scaled in double).
void row_dots_f64(const float* x, size_t dim, const int32_t* a, const int32_t* b, size_t n, double* out);

// Row-sparse (lazy) Adam over the rows `unique[0..n)` of an embedding table of `dim` columns, exactly as
// SparseEmbedding.applyGradient's JS loop does it (double arithmetic in its order, float32 stores):
//   t = ++step[row]; m = b1·m + (1−b1)·g; v = b2·v + (1−b2)·g·g;
//   table −= (step_size_by_t[t]·m) / (√v · inv_sqrt_bc2_by_t[t] + eps)
// with step_size_by_t[t] = lr / (1 − b1^t) and inv_sqrt_bc2_by_t[t] = 1 / √(1 − b2^t), tables by update count that
// the caller fills past every row's new t (JS's Math.pow, so the values are the JS loop's). grad holds n rows of dim
// values; unique holds distinct rows.
void sparse_adam(float* table, float* m, float* v, int32_t* step, const int32_t* unique, size_t n, size_t dim, const float* grad,
                 const double* step_size_by_t, const double* inv_sqrt_bc2_by_t, double b1, double b2, double eps);
