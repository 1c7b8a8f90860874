// C = act(op(A) · op(B) + bias) for float32 row-major matrices, the native counterpart of tfjs's 2-D matMul and
// _FusedMatMul (linear or relu) on the wasm backend, which runs XNNPACK at 14–20 GFLOP/s on one thread.
//
// Every C element is one fused multiply-add chain over k = 0 … K−1 in every path (AVX-512, AVX2, scalar with
// fmaf), then + bias, then relu, so the paths agree bit for bit; rows are split between threads, so the thread
// count does not change a bit either. XNNPACK sums in another order: the two agree up to float rounding.
#pragma once
#include <cstdint>

struct GemmArgs {
  int M, N, K;
  bool transA, transB;  // A stored [K, M] / B stored [N, K]
  const float* a;
  const float* b;
  const float* bias;    // [N] or null
  bool relu;
  float* c;             // [M, N]
  int threads;
};

void gemm(const GemmArgs& g);
