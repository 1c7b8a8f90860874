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
#define GIST_GEMM_SPLAT return (vf)_mm512_set1_ps(x);
#include "gemm_simd.inc"
#undef GIST_GEMM_SPLAT
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
constexpr long long kGemmMacsPerThread = 4LL << 20;

}  // namespace

void gemm(const GemmArgs& g) {
  if (g.M <= 0 || g.N <= 0) return;
  // B packed into column panels of 32, k-major: panel p holds op(B)(k, 32p … 32p+31), zero beyond N. Panels are
  // packed by the threads that then multiply (a stored-transposed B is read along its rows).
  const int panels = (g.N + 31) / 32;
  std::vector<float> packed(static_cast<size_t>(panels) * g.K * 32, 0.0f);
  auto pack = [&](int p) {
    float* dst = packed.data() + static_cast<size_t>(p) * g.K * 32;
    const int j0 = p * 32;
    const int nj = g.N - j0 < 32 ? g.N - j0 : 32;
    if (g.transB) {
      for (int j = 0; j < nj; j++) {
        const float* src = g.b + static_cast<size_t>(j0 + j) * g.K;
        for (int k = 0; k < g.K; k++) dst[static_cast<size_t>(k) * 32 + j] = src[k];
      }
    } else {
      for (int k = 0; k < g.K; k++) std::memcpy(dst + static_cast<size_t>(k) * 32, g.b + static_cast<size_t>(k) * g.N + j0, sizeof(float) * nj);
    }
  };
  // Rows split in blocks of 6 (the micro-kernel's height) between threads: no element is split.
  // A thread only for each kGemmMacsPerThread multiply-adds: below that, waking a worker costs what it saves.
  const int blocks = (g.M + 5) / 6;
  const long long macs = static_cast<long long>(g.M) * g.N * (g.K > 0 ? g.K : 1);
  const int T = worker_count(g.threads < macs / kGemmMacsPerThread ? g.threads : static_cast<int>(macs / kGemmMacsPerThread), blocks);
  const bool parallelPack = T > 1 && static_cast<long long>(g.K) * g.N >= (1 << 16);
  if (parallelPack) parallel_units(panels, T, [&](int p, int) { pack(p); });
  else
    for (int p = 0; p < panels; p++) pack(p);
  auto bound = [&](int t) { return t == T ? g.M : static_cast<int>(static_cast<long long>(blocks) * t / T) * 6; };
  parallel_units(T, T, [&](int t, int) {
    const int i0 = bound(t), i1 = bound(t + 1);
    // Partial sums between k blocks (none when K fits one block).
    std::vector<float> part(g.K > gemm_base::KC ? static_cast<size_t>(i1 - i0) * panels * 32 : 0);
#ifdef GIST_X86
    if (kIsa == 2) return gemm_avx512::rows(g, packed.data(), i0, i1, part.data());
    if (kIsa == 1) return gemm_avx2::rows(g, packed.data(), i0, i1, part.data());
#endif
    gemm_base::rows(g, packed.data(), i0, i1, part.data());
  });
}
