// See rows.h.
#include "rows.h"

#include <cstring>

void gather_rows(const uint32_t* x, const int32_t* idx, size_t n, size_t row, uint32_t* out) {
  const size_t bytes = row * sizeof(uint32_t);
  for (size_t i = 0; i < n; i++) std::memcpy(out + i * row, x + static_cast<size_t>(idx[i]) * row, bytes);
}

void segment_sum(const float* x, const int32_t* seg, size_t n, size_t inner, size_t segments, float* out) {
  std::memset(out, 0, segments * inner * sizeof(float));
  for (size_t i = 0; i < n; i++) {
    const int32_t s = seg[i];
    if (s < 0 || static_cast<size_t>(s) >= segments) continue;
    float* o = out + static_cast<size_t>(s) * inner;
    const float* xi = x + i * inner;
    for (size_t j = 0; j < inner; j++) o[j] += xi[j];
  }
}

#include <cmath>
#include <limits>

namespace {
/** x[a, :] · x[b, :]: each product and the running sum in double, k in order. */
inline double row_dot(const float* x, size_t dim, int32_t a, int32_t b) {
  const float* xa = x + static_cast<size_t>(a) * dim;
  const float* xb = x + static_cast<size_t>(b) * dim;
  double s = 0;
  for (size_t k = 0; k < dim; k++) s += static_cast<double>(xa[k]) * static_cast<double>(xb[k]);
  return s;
}

/**
 * row_dots into float or double: eight pairs at a time, each its own chain in k order (the same bits as one at a
 * time: a pair's sum was a chain of dependent adds, so one pair at a time waited on the adder's latency).
 */
template <typename Out>
void row_dots_into(const float* x, size_t dim, const int32_t* a, const int32_t* b, size_t n, Out* out) {
  constexpr size_t P = 8;
  size_t i = 0;
  for (; i + P <= n; i += P) {
    bool valid = true;
    for (size_t j = 0; j < P; j++) valid = valid && a[i + j] >= 0 && b[i + j] >= 0;
    if (!valid) {
      for (size_t j = 0; j < P; j++) out[i + j] = a[i + j] < 0 || b[i + j] < 0 ? std::numeric_limits<Out>::quiet_NaN() : static_cast<Out>(row_dot(x, dim, a[i + j], b[i + j]));
      continue;
    }
    const float* xa[P];
    const float* xb[P];
    for (size_t j = 0; j < P; j++) {
      xa[j] = x + static_cast<size_t>(a[i + j]) * dim;
      xb[j] = x + static_cast<size_t>(b[i + j]) * dim;
    }
    double s[P] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (size_t k = 0; k < dim; k++)
      for (size_t j = 0; j < P; j++) s[j] += static_cast<double>(xa[j][k]) * static_cast<double>(xb[j][k]);
    for (size_t j = 0; j < P; j++) out[i + j] = static_cast<Out>(s[j]);
  }
  for (; i < n; i++) out[i] = a[i] < 0 || b[i] < 0 ? std::numeric_limits<Out>::quiet_NaN() : static_cast<Out>(row_dot(x, dim, a[i], b[i]));
}
}  // namespace

void row_dots(const float* x, size_t dim, const int32_t* a, const int32_t* b, size_t n, float* out) { row_dots_into(x, dim, a, b, n, out); }

void row_dots_f64(const float* x, size_t dim, const int32_t* a, const int32_t* b, size_t n, double* out) { row_dots_into(x, dim, a, b, n, out); }

void sparse_adam(float* table, float* m, float* v, int32_t* step, const int32_t* unique, size_t n, size_t dim, const float* grad,
                 const double* step_size_by_t, const double* inv_sqrt_bc2_by_t, double b1, double b2, double eps) {
  const double c1 = 1 - b1;
  const double c2 = 1 - b2;
  for (size_t r = 0; r < n; r++) {
    const size_t row = static_cast<size_t>(unique[r]);
    const int32_t t = ++step[row];
    const double ss = step_size_by_t[t];
    const double ib = inv_sqrt_bc2_by_t[t];
    float* tr = table + row * dim;
    float* mr = m + row * dim;
    float* vr = v + row * dim;
    const float* g = grad + r * dim;
    for (size_t j = 0; j < dim; j++) {
      const double gj = g[j];
      const double mj = b1 * mr[j] + c1 * gj;
      const double vj = b2 * vr[j] + c2 * gj * gj;
      mr[j] = static_cast<float>(mj);
      vr[j] = static_cast<float>(vj);
      tr[j] = static_cast<float>(tr[j] - (ss * mj) / (std::sqrt(vj) * ib + eps));
    }
  }
}
