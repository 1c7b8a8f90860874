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
