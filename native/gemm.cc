// Native GEMM for the tfjs matMul kernels: see gemm.h. Compiled without -march: each ISA path carries its own
// target attribute and is picked at run time (GIST_NATIVE_ISA caps it).
#include "gemm.h"
#include "platform.h"

#include <cmath>
#include <cstring>
#include <vector>

#ifdef GIST_X86
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx2,fma")
#define GIST_GEMM_NS gemm_avx512
#define GIST_GEMM_FMA return (vf)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
#include "gemm_simd.inc"
#undef GIST_GEMM_NS
#undef GIST_GEMM_FMA
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define GIST_GEMM_NS gemm_avx2
#define GIST_GEMM_FMA                                                                        \
  alignas(64) float x[16], y[16], z[16];                                                      \
  std::memcpy(x, &a, 64);                                                                     \
  std::memcpy(y, &b, 64);                                                                     \
  std::memcpy(z, &c, 64);                                                                     \
  _mm256_store_ps(z, _mm256_fmadd_ps(_mm256_load_ps(x), _mm256_load_ps(y), _mm256_load_ps(z))); \
  _mm256_store_ps(z + 8, _mm256_fmadd_ps(_mm256_load_ps(x + 8), _mm256_load_ps(y + 8), _mm256_load_ps(z + 8))); \
  vf r;                                                                                       \
  std::memcpy(&r, z, 64);                                                                     \
  return r;
#include "gemm_simd.inc"
#undef GIST_GEMM_NS
#undef GIST_GEMM_FMA
#pragma GCC pop_options
#endif

#define GIST_GEMM_NS gemm_base
#define GIST_GEMM_FMA \
  vf r;               \
  for (int i = 0; i < 16; i++) r[i] = std::fmaf(a[i], b[i], c[i]); \
  return r;
#include "gemm_simd.inc"
#undef GIST_GEMM_NS
#undef GIST_GEMM_FMA

namespace {

const int kIsa = simd_level();

}  // namespace

void gemm(const GemmArgs& g) {
  if (g.M <= 0 || g.N <= 0) return;
  // B packed into column panels of 32, k-major: panel p holds op(B)(k, 32p … 32p+31), zero beyond N.
  const int panels = (g.N + 31) / 32;
  std::vector<float> packed(static_cast<size_t>(panels) * g.K * 32, 0.0f);
  for (int k = 0; k < g.K; k++)
    for (int j = 0; j < g.N; j++) {
      const float v = g.transB ? g.b[static_cast<size_t>(j) * g.K + k] : g.b[static_cast<size_t>(k) * g.N + j];
      packed[(static_cast<size_t>(j / 32) * g.K + k) * 32 + (j % 32)] = v;
    }
  auto run = [&](int i0, int i1) {
#ifdef GIST_X86
    if (kIsa == 2) return gemm_avx512::rows(g, packed.data(), i0, i1);
    if (kIsa == 1) return gemm_avx2::rows(g, packed.data(), i0, i1);
#endif
    gemm_base::rows(g, packed.data(), i0, i1);
  };
  // Rows split in blocks of 6 (the micro-kernel's height) between threads: no element is split.
  const int blocks = (g.M + 5) / 6;
  const int T = worker_count(g.threads, blocks);
  auto bound = [&](int t) { return t == T ? g.M : static_cast<int>(static_cast<long long>(blocks) * t / T) * 6; };
  parallel_units(T, T, [&](int t, int) { run(bound(t), bound(t + 1)); });
}
