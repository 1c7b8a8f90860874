// DIN's MLP attention scorer, forward and backward: see mlp_attention.h. Compiled without -march: each ISA path
// carries its own target attribute and is picked at run time (GIST_NATIVE_ISA caps it), so one build runs on
// any x86-64 and the baseline path anywhere else.
#include "mlp_attention.h"
#include "platform.h"

#include <cstring>
#include <vector>

namespace {

/** Samples per chunk: weight gradients sum positions within a chunk, then chunks in order (thread-count free). */
constexpr int kChunk = 16;

constexpr int round16(int x) { return (x + 15) / 16 * 16; }

/** The weights laid out once per call for the kernels: zero-padded to whole 16-float vectors. */
struct Prepared {
  int Ap, Kc, Kp, Dp;
  std::vector<float> wc;   // [Kc, Ap]: rows Wh, then Wp, then Ws
  std::vector<float> wcT;  // [A, Kp]: its transpose
  std::vector<float> wt;   // [d, Ap]
  std::vector<float> wtT;  // [A, Dp]
  std::vector<float> b1, w2;  // [Ap]

  Prepared(const MlpAttentionDims& D, const float* wh, const float* wt_, const float* wp, const float* ws, const float* b1_, const float* w2_)
      : Ap(round16(D.A)), Kc(2 * D.d + D.S), Kp(round16(2 * D.d + D.S)), Dp(round16(D.d)),
        wc(static_cast<size_t>(Kc) * Ap, 0.0f), wcT(static_cast<size_t>(D.A) * Kp, 0.0f), wt(static_cast<size_t>(D.d) * Ap, 0.0f),
        wtT(static_cast<size_t>(D.A) * Dp, 0.0f), b1(Ap, 0.0f), w2(Ap, 0.0f) {
    for (int k = 0; k < Kc; k++) {
      const float* src = k < D.d ? wh + static_cast<size_t>(k) * D.A
                         : k < 2 * D.d ? wp + static_cast<size_t>(k - D.d) * D.A
                                       : ws + static_cast<size_t>(k - 2 * D.d) * D.A;
      for (int a = 0; a < D.A; a++) {
        wc[static_cast<size_t>(k) * Ap + a] = src[a];
        wcT[static_cast<size_t>(a) * Kp + k] = src[a];
      }
    }
    for (int k = 0; k < D.d; k++)
      for (int a = 0; a < D.A; a++) {
        wt[static_cast<size_t>(k) * Ap + a] = wt_[static_cast<size_t>(k) * D.A + a];
        wtT[static_cast<size_t>(a) * Dp + k] = wt_[static_cast<size_t>(k) * D.A + a];
      }
    if (b1_) std::memcpy(b1.data(), b1_, sizeof(float) * D.A);
    std::memcpy(w2.data(), w2_, sizeof(float) * D.A);
  }
};

}  // namespace

#ifdef GIST_X86
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx2")
#define GIST_ATTN_NS attn_avx512
#include "mlp_attention_simd.inc"
#undef GIST_ATTN_NS
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2")
#define GIST_ATTN_NS attn_avx2
#include "mlp_attention_simd.inc"
#undef GIST_ATTN_NS
#pragma GCC pop_options
#endif

#define GIST_ATTN_NS attn_base
#include "mlp_attention_simd.inc"
#undef GIST_ATTN_NS

namespace {

const int kIsa = simd_level();

}  // namespace

void mlp_attention_forward(const MlpAttentionForwardArgs& a) {
  const MlpAttentionDims& D = a.dims;
  const Prepared P(D, a.wh, a.wt, a.wp, a.ws, a.b1, a.w2);
  const int chunks = (D.B + kChunk - 1) / kChunk;
  const size_t per = static_cast<size_t>(P.Kp) + 2 * P.Ap;
  std::vector<float> scratch(per * worker_count(a.threads, chunks));
  parallel_units(chunks, a.threads, [&](int c, int w) {
    const int b0 = c * kChunk, b1 = b0 + kChunk < D.B ? b0 + kChunk : D.B;
    float* s = scratch.data() + per * w;
#ifdef GIST_X86
    if (kIsa == 2) return attn_avx512::forward_chunk(P, a, b0, b1, s);
    if (kIsa == 1) return attn_avx2::forward_chunk(P, a, b0, b1, s);
#endif
    attn_base::forward_chunk(P, a, b0, b1, s);
  });
}

void mlp_attention_backward(const MlpAttentionBackwardArgs& a) {
  const MlpAttentionDims& D = a.dims;
  const Prepared P(D, a.wh, a.wt, a.wp, a.ws, nullptr, a.w2);
  const int chunks = (D.B + kChunk - 1) / kChunk;
  const size_t per = 5 * static_cast<size_t>(P.Kp) + 6 * P.Ap + 2 * P.Dp;  // x [4, Kp], dx, zr, dz [4, Ap], dzL, dtv, dtAcc
  const size_t part = (static_cast<size_t>(P.Kc) + D.d + 2) * P.Ap;
  std::vector<float> scratch(per * worker_count(a.threads, chunks));
  std::vector<float> partials(part * (chunks < 1 ? 1 : chunks), 0.0f);
  parallel_units(chunks, a.threads, [&](int c, int w) {
    const int b0 = c * kChunk, b1 = b0 + kChunk < D.B ? b0 + kChunk : D.B;
    float* s = scratch.data() + per * w;
    float* p = partials.data() + part * c;
#ifdef GIST_X86
    if (kIsa == 2) return attn_avx512::backward_chunk(P, a, b0, b1, p, s);
    if (kIsa == 1) return attn_avx2::backward_chunk(P, a, b0, b1, p, s);
#endif
    attn_base::backward_chunk(P, a, b0, b1, p, s);
  });
  // Σ over chunks, in chunk order.
  auto reduce = [&](size_t offset, int rows, float* out) {
    for (int r = 0; r < rows; r++)
      for (int j = 0; j < D.A; j++) {
        float acc = 0.0f;
        for (int c = 0; c < chunks; c++) acc += partials[part * c + offset + static_cast<size_t>(r) * P.Ap + j];
        out[static_cast<size_t>(r) * D.A + j] = acc;
      }
  };
  reduce(0, D.d, a.dwh);
  reduce(static_cast<size_t>(D.d) * P.Ap, D.d, a.dwp);
  if (a.dws && D.S > 0) reduce(static_cast<size_t>(2 * D.d) * P.Ap, D.S, a.dws);
  const size_t wtAt = static_cast<size_t>(P.Kc) * P.Ap;
  reduce(wtAt, D.d, a.dwt);
  reduce(wtAt + static_cast<size_t>(D.d) * P.Ap, 1, a.db1);
  reduce(wtAt + static_cast<size_t>(D.d + 1) * P.Ap, 1, a.dw2);
}
