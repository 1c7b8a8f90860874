// The DIN target-attention MLP scorer (paper eq. 8's Attention(v_i, s_j), as src/core/ctr/attention.ts's
// mlpScores) forward and backward in one pass over the [B, L] positions, the native counterpart of its tfjs ops:
//
//   x_n   = [h_n, h_n ⊙ t_b, side_n]                       (Kc = 2d + S values; n = b·L + l)
//   z_n   = relu(b1 + t_b·Wt + x_n·[Wh; Wp; Ws])           [A]
//   s_n   = z_n · w2                                        scalar score
//
// Every value is a fixed sequence of float multiplies and adds (no fused multiply-add: -ffp-contract=off), the
// same in each ISA path (AVX-512, AVX2, baseline SSE through GCC vector extensions of 16 lanes; lanes run along A
// or along the gradient's columns, never along a reduction), so the paths agree bit for bit. Weight gradients
// sum over positions in chunks of kChunk samples and then over chunks in order, so the result does not depend on
// the thread count either. tfjs's kernels sum in other orders: the two agree up to float rounding.
#pragma once
#include <cstdint>

struct MlpAttentionDims {
  int B, L, d, S, A;  // samples, positions per sample, item dim, side-feature dim (0: none), hidden units
};

struct MlpAttentionForwardArgs {
  MlpAttentionDims dims;
  const float *h, *t, *side;          // [B, L, d], [B, d], [B, L, S] or null
  const float *wh, *wt, *wp, *ws;     // [d, A] ×3, [S, A] or null
  const float *b1, *w2;               // [A], [A]
  float *scores, *z;                  // [B·L], [B·L, A] (relu activations, kept for the backward pass)
  int threads;
};

struct MlpAttentionBackwardArgs {
  MlpAttentionDims dims;
  const float *dy, *h, *t, *side, *z; // [B·L], inputs as forward, z from forward
  const float *wh, *wt, *wp, *ws, *w2;
  float *dh, *dt, *dside;             // [B, L, d], [B, d], [B, L, S] or null
  float *dwh, *dwt, *dwp, *dws, *db1, *dw2;  // [d, A] ×3, [S, A] or null, [A], [A]
  int threads;
};

void mlp_attention_forward(const MlpAttentionForwardArgs& a);
void mlp_attention_backward(const MlpAttentionBackwardArgs& a);
