// N-API entry points of gist's native kernels (plain C API: no node-addon-api dependency).
//   gsuTopK(table, dp, qrows, cand, recency | null, limit, k, outItems, outScores, outCounts): exact top-K.
//   isa(): which SIMD path the GSU, attention and GEMM kernels use (platform.h); hnswIsa(): which distance kernel the HNSW search uses.
//   hnswOpen(files, dim, ef) → handle; hnswSearch(handle, queries, k, threads, outLabels, outDistances);
//     hnswClose(handle): batched, threaded search of the HNSW shards, results identical to hnswlib-node's.
//   hnswBuild(vectors, labels, dims, from | null, out) → element count: one shard built (or extended) and written,
//     hnswlib-node's file byte for byte (hnsw_build.h); dims = Int32Array [dim, M, efConstruction, seed (as uint32)].
//   mlpAttentionForward(dims, h, t, side | null, wh, wt, wp, ws | null, b1, w2, outScores, outZ) and
//   mlpAttentionBackward(dims, dy, z, h, t, side | null, wh, wt, wp, ws | null, w2, outDh, outDt, outDside | null,
//     outDwh, outDwt, outDwp, outDws | null, outDb1, outDw2): DIN's MLP attention scorer (mlp_attention.h);
//     dims = Int32Array [B, L, d, S, A, threads].
//   gemm(dims, a, b, bias | null, out): out = act(op(a)·op(b) + bias) (gemm.h); dims = Int32Array
//     [M, N, K, transA, transB, relu, threads].
//   gatherRows(x, idx, row, out) and segmentSum(x, seg, inner, segments, out): embedding-row gather and its
//     gradient (rows.h); x/out of gatherRows may be Float32Array or Int32Array.
//   rowDots(x, dim, a, b, out): out[i] = x[a[i]] · x[b[i]] in double, NaN where an index is negative (rows.h).
//   sparseAdam(table, m, v, step, unique, grad, stepSizeByT, invSqrtBc2ByT, hyper): row-sparse Adam (rows.h);
//     the bias terms by update count, hyper = Float64Array [beta1, beta2, epsilon].
//   esuCandidates(dims, unit, histItems, target, lo, hi, scratch, outEvents, outDistinct): the ESU's candidate
//     sets S_A (esu_candidates.h); dims = Int32Array [dim, R, threads, stampBase].
//   pairRanks(dims, cand, queries, self, pairStart, related, tieEps, greater, ties): exact Recall@K ranks
//     (pair_ranks.h); dims = Int32Array [nc, dim, nq, threads].
//   adviseHugePages(float32Array): platform.h's advise_huge_pages over the array (the score table, before it is
//     filled: a user's candidate rows are scattered over it); returns the bytes advised.
// Typed arrays may sit on SharedArrayBuffers (the score table is one); nothing is copied.
#include <node_api.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "gsu_topk.h"
#include "hnsw_build.h"
#include "hnsw_search.h"
#include "gemm.h"
#include "mlp_attention.h"
#include "rows.h"
#include "esu_candidates.h"
#include "pair_ranks.h"
#include "platform.h"

namespace {

bool fail(napi_env env, const std::string& msg) {
  napi_throw_type_error(env, nullptr, msg.c_str());
  return false;
}

template <class T>
bool typed(napi_env env, napi_value v, napi_typedarray_type want, T** data, size_t* length, const char* what) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (!is) return fail(env, std::string(what) + ": expected a typed array");
  napi_typedarray_type type;
  void* ptr = nullptr;
  if (napi_get_typedarray_info(env, v, &type, length, &ptr, nullptr, nullptr) != napi_ok) return fail(env, std::string(what) + ": unreadable typed array");
  if (type != want) return fail(env, std::string(what) + ": wrong element type");
  *data = static_cast<T*>(ptr);
  return true;
}

/** The call's arguments into argv[0..n); a TypeError unless exactly n were given. */
bool args(napi_env env, napi_callback_info info, napi_value* argv, size_t n, const char* fn) {
  size_t argc = n;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc == n) return true;
  return fail(env, std::string(fn) + ": expected " + std::to_string(n) + " argument(s)");
}

napi_value text(napi_env env, const char* s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

napi_value number(napi_env env, double x) {
  napi_value v;
  napi_create_double(env, x, &v);
  return v;
}

bool integer(napi_env env, napi_value v, int32_t* out, const char* what) {
  if (napi_get_value_int32(env, v, out) != napi_ok) return fail(env, std::string(what) + ": expected an integer");
  return true;
}

napi_value GsuTopK(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  if (!args(env, info, argv, 10, "gsuTopK")) return nullptr;
  GsuTopKArgs a{};
  float* table;
  int32_t *qrows, *cand, *limit, *outItems, *outCounts;
  float* outScores;
  double* recency = nullptr;
  size_t nTable, nq, nCand, nLimit, nItems, nScores, nCounts, nRec = 0;
  int32_t dp, k;
  if (!typed(env, argv[0], napi_float32_array, &table, &nTable, "table") || !integer(env, argv[1], &dp, "dp") ||
      !typed(env, argv[2], napi_int32_array, &qrows, &nq, "qrows") || !typed(env, argv[3], napi_int32_array, &cand, &nCand, "cand"))
    return nullptr;
  napi_valuetype rt;
  napi_typeof(env, argv[4], &rt);
  if (rt != napi_null && !typed(env, argv[4], napi_float64_array, &recency, &nRec, "recency")) return nullptr;
  if (!typed(env, argv[5], napi_int32_array, &limit, &nLimit, "limit") || !integer(env, argv[6], &k, "k") ||
      !typed(env, argv[7], napi_int32_array, &outItems, &nItems, "outItems") ||
      !typed(env, argv[8], napi_float32_array, &outScores, &nScores, "outScores") ||
      !typed(env, argv[9], napi_int32_array, &outCounts, &nCounts, "outCounts"))
    return nullptr;
  if (dp <= 0 || dp % 8 != 0 || k <= 0) {
    fail(env, "gsuTopK: dp must be a positive multiple of 8 and k positive");
    return nullptr;
  }
  const size_t rows = nTable / static_cast<size_t>(dp);
  if (nLimit < nq || nItems < nq * k || nScores < nq * k || nCounts < nq || (recency != nullptr && nRec < nCand)) {
    fail(env, "gsuTopK: output or limit arrays too short");
    return nullptr;
  }
  // every row index is checked once here so the kernels never read outside the table
  for (size_t q = 0; q < nq; q++)
    if (qrows[q] < 0 || static_cast<size_t>(qrows[q]) >= rows || limit[q] < 0 || static_cast<size_t>(limit[q]) > nCand) {
      fail(env, "gsuTopK: query row or limit out of range");
      return nullptr;
    }
  for (size_t j = 0; j < nCand; j++)
    if (cand[j] < 0 || static_cast<size_t>(cand[j]) >= rows) {
      fail(env, "gsuTopK: candidate row out of range");
      return nullptr;
    }
  a.table = table;
  a.dp = dp;
  a.qrows = qrows;
  a.nq = static_cast<int>(nq);
  a.cand = cand;
  a.recency = recency;
  a.limit = limit;
  a.k = k;
  a.out_items = outItems;
  a.out_scores = outScores;
  a.out_counts = outCounts;
  gsu_topk(a);
  return nullptr;
}

napi_value AdviseHugePages(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!args(env, info, argv, 1, "adviseHugePages")) return nullptr;
  float* data;
  size_t length;
  if (!typed(env, argv[0], napi_float32_array, &data, &length, "adviseHugePages")) return nullptr;
  return number(env, static_cast<double>(advise_huge_pages(data, length * sizeof(float), false)));
}

/** The handle object keeps its shard set in a wrapped pointer (freed by hnswClose or when collected). */
HnswShardSet** handleSlot(napi_env env, napi_value handle) {
  void* p = nullptr;
  if (napi_unwrap(env, handle, &p) != napi_ok || p == nullptr) {
    fail(env, "hnsw: not an open index handle");
    return nullptr;
  }
  return static_cast<HnswShardSet**>(p);
}

void FinalizeSlot(napi_env, void* data, void*) {
  auto** slot = static_cast<HnswShardSet**>(data);
  hnsw_close(*slot);
  delete slot;
}

napi_value HnswOpen(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!args(env, info, argv, 3, "hnswOpen")) return nullptr;
  bool isArray = false;
  if (napi_is_array(env, argv[0], &isArray) != napi_ok || !isArray) {
    fail(env, "hnswOpen(files, dim, ef): files must be an array of paths");
    return nullptr;
  }
  int32_t dim, ef;
  if (!integer(env, argv[1], &dim, "dim") || !integer(env, argv[2], &ef, "ef")) return nullptr;
  uint32_t n = 0;
  napi_get_array_length(env, argv[0], &n);
  std::vector<std::string> files;
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    napi_get_element(env, argv[0], i, &v);
    size_t len = 0;
    if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) {
      fail(env, "hnswOpen: files must be strings");
      return nullptr;
    }
    std::string s(len, '\0');
    napi_get_value_string_utf8(env, v, s.data(), len + 1, &len);
    files.push_back(s);
  }
  HnswShardSet* set = nullptr;
  try {
    set = hnsw_open(files, dim, ef);
  } catch (const std::exception& err) {
    napi_throw_error(env, nullptr, (std::string("hnswOpen: ") + err.what()).c_str());
    return nullptr;
  }
  napi_value handle;
  napi_create_object(env, &handle);
  auto** slot = new HnswShardSet*(set);
  napi_wrap(env, handle, slot, FinalizeSlot, nullptr, nullptr);
  return handle;
}

napi_value HnswSearch(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!args(env, info, argv, 6, "hnswSearch")) return nullptr;
  HnswShardSet** slot = handleSlot(env, argv[0]);
  if (slot == nullptr) return nullptr;
  if (*slot == nullptr) {
    fail(env, "hnswSearch: index closed");
    return nullptr;
  }
  float *queries, *distances;
  int32_t* labels;
  size_t nQ, nL, nD;
  int32_t k, threads;
  if (!typed(env, argv[1], napi_float32_array, &queries, &nQ, "queries") || !integer(env, argv[2], &k, "k") ||
      !integer(env, argv[3], &threads, "threads") || !typed(env, argv[4], napi_int32_array, &labels, &nL, "outLabels") ||
      !typed(env, argv[5], napi_float32_array, &distances, &nD, "outDistances"))
    return nullptr;
  const size_t dim = static_cast<size_t>(hnsw_dim(*slot));
  const size_t n = nQ / dim;
  if (k <= 0 || nQ % dim != 0 || nL < n * k || nD < n * k) {
    fail(env, "hnswSearch: queries must be n × dim and the outputs n × k (k > 0)");
    return nullptr;
  }
  hnsw_search(*slot, queries, n, k, threads, labels, distances);
  return nullptr;
}

napi_value HnswClose(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!args(env, info, argv, 1, "hnswClose")) return nullptr;
  HnswShardSet** slot = handleSlot(env, argv[0]);
  if (slot == nullptr) return nullptr;
  hnsw_close(*slot);
  *slot = nullptr;
  return nullptr;
}

/** A Float32Array argument of exactly `want` elements, or (when nullable) null; false after throwing. */
bool floats(napi_env env, napi_value v, size_t want, bool nullable, float** out, const char* what) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_null && nullable) {
    *out = nullptr;
    return true;
  }
  size_t n = 0;
  if (!typed(env, v, napi_float32_array, out, &n, what)) return false;
  if (n != want) return fail(env, std::string(what) + ": expected " + std::to_string(want) + " floats, got " + std::to_string(n));
  return true;
}

/** dims = Int32Array [B, L, d, S, A, threads], each checked. */
bool attentionDims(napi_env env, napi_value v, MlpAttentionDims* D, int* threads) {
  int32_t* p;
  size_t n;
  if (!typed(env, v, napi_int32_array, &p, &n, "dims")) return false;
  if (n != 6) return fail(env, "dims: expected [B, L, d, S, A, threads]");
  *D = MlpAttentionDims{p[0], p[1], p[2], p[3], p[4]};
  *threads = p[5];
  if (D->B < 0 || D->L < 0 || D->d <= 0 || D->S < 0 || D->A <= 0 || *threads < 1) return fail(env, "dims: B, L, S ≥ 0; d, A, threads ≥ 1");
  return true;
}

/** h, t, side, wh, wt, wp, ws at argv[0..7) (side and ws null together, exactly when S = 0) and w2 at argv[w2At]. */
struct AttentionInputs {
  float *h, *t, *side, *wh, *wt, *wp, *ws, *w2;
};

bool attentionInputs(napi_env env, const napi_value* argv, int w2At, const MlpAttentionDims& D, AttentionInputs* in, const char* fn) {
  const size_t N = static_cast<size_t>(D.B) * D.L, d = D.d, S = D.S, A = D.A;
  if (!floats(env, argv[0], N * d, false, &in->h, "h") || !floats(env, argv[1], D.B * d, false, &in->t, "t") ||
      !floats(env, argv[2], N * S, true, &in->side, "side") || !floats(env, argv[3], d * A, false, &in->wh, "wh") ||
      !floats(env, argv[4], d * A, false, &in->wt, "wt") || !floats(env, argv[5], d * A, false, &in->wp, "wp") ||
      !floats(env, argv[6], S * A, true, &in->ws, "ws") || !floats(env, argv[w2At], A, false, &in->w2, "w2"))
    return false;
  if ((S > 0) != (in->side != nullptr) || (in->side != nullptr) != (in->ws != nullptr))
    return fail(env, std::string(fn) + ": side and ws come together, with S > 0");
  return true;
}

napi_value MlpAttentionForward(napi_env env, napi_callback_info info) {
  napi_value argv[12];  // dims, h, t, side, wh, wt, wp, ws, b1, w2, outScores, outZ
  if (!args(env, info, argv, 12, "mlpAttentionForward")) return nullptr;
  MlpAttentionForwardArgs a{};
  AttentionInputs in{};
  if (!attentionDims(env, argv[0], &a.dims, &a.threads) || !attentionInputs(env, argv + 1, 8, a.dims, &in, "mlpAttentionForward")) return nullptr;
  const size_t N = static_cast<size_t>(a.dims.B) * a.dims.L, A = a.dims.A;
  float* b1;
  if (!floats(env, argv[8], A, false, &b1, "b1") || !floats(env, argv[10], N, false, &a.scores, "outScores") || !floats(env, argv[11], N * A, false, &a.z, "outZ"))
    return nullptr;
  a.h = in.h, a.t = in.t, a.side = in.side, a.wh = in.wh, a.wt = in.wt, a.wp = in.wp, a.ws = in.ws, a.b1 = b1, a.w2 = in.w2;
  mlp_attention_forward(a);
  return nullptr;
}

napi_value MlpAttentionBackward(napi_env env, napi_callback_info info) {
  // dims, dy, z, h, t, side, wh, wt, wp, ws, w2, outDh, outDt, outDside, outDwh, outDwt, outDwp, outDws, outDb1, outDw2
  napi_value argv[20];
  if (!args(env, info, argv, 20, "mlpAttentionBackward")) return nullptr;
  MlpAttentionBackwardArgs a{};
  AttentionInputs in{};
  if (!attentionDims(env, argv[0], &a.dims, &a.threads) || !attentionInputs(env, argv + 3, 7, a.dims, &in, "mlpAttentionBackward")) return nullptr;
  const MlpAttentionDims& D = a.dims;
  const size_t N = static_cast<size_t>(D.B) * D.L, d = D.d, S = D.S, A = D.A;
  float *dy, *z;
  if (!floats(env, argv[1], N, false, &dy, "dy") || !floats(env, argv[2], N * A, false, &z, "z") ||
      !floats(env, argv[11], N * d, false, &a.dh, "outDh") || !floats(env, argv[12], D.B * d, false, &a.dt, "outDt") ||
      !floats(env, argv[13], N * S, true, &a.dside, "outDside") || !floats(env, argv[14], d * A, false, &a.dwh, "outDwh") ||
      !floats(env, argv[15], d * A, false, &a.dwt, "outDwt") || !floats(env, argv[16], d * A, false, &a.dwp, "outDwp") ||
      !floats(env, argv[17], S * A, true, &a.dws, "outDws") || !floats(env, argv[18], A, false, &a.db1, "outDb1") ||
      !floats(env, argv[19], A, false, &a.dw2, "outDw2"))
    return nullptr;
  if ((a.dside != nullptr) != (in.side != nullptr) || (a.dws != nullptr) != (in.side != nullptr)) {
    fail(env, "mlpAttentionBackward: outDside and outDws come with side features");
    return nullptr;
  }
  a.dy = dy, a.z = z, a.h = in.h, a.t = in.t, a.side = in.side, a.wh = in.wh, a.wt = in.wt, a.wp = in.wp, a.ws = in.ws, a.w2 = in.w2;
  mlp_attention_backward(a);
  return nullptr;
}


napi_value Gemm(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!args(env, info, argv, 5, "gemm")) return nullptr;
  int32_t* d;
  size_t nd;
  if (!typed(env, argv[0], napi_int32_array, &d, &nd, "dims")) return nullptr;
  if (nd != 7 || d[0] < 0 || d[1] < 0 || d[2] < 0 || d[6] < 1) {
    fail(env, "gemm: dims must be [M, N, K, transA, transB, relu, threads] with M, N, K ≥ 0 and threads ≥ 1");
    return nullptr;
  }
  GemmArgs g{};
  g.M = d[0], g.N = d[1], g.K = d[2], g.transA = d[3] != 0, g.transB = d[4] != 0, g.relu = d[5] != 0, g.threads = d[6];
  const size_t M = g.M, N = g.N, K = g.K;
  float *a, *b, *bias, *c;
  if (!floats(env, argv[1], M * K, false, &a, "a") || !floats(env, argv[2], K * N, false, &b, "b") ||
      !floats(env, argv[3], N, true, &bias, "bias") || !floats(env, argv[4], M * N, false, &c, "out"))
    return nullptr;
  g.a = a, g.b = b, g.bias = bias, g.c = c;
  gemm(g);
  return nullptr;
}


/** A Float32Array or Int32Array (4-byte elements, copied as bits); false after throwing. */
bool words(napi_env env, napi_value v, uint32_t** data, size_t* length, const char* what) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (!is) return fail(env, std::string(what) + ": expected a typed array");
  napi_typedarray_type type;
  void* ptr = nullptr;
  if (napi_get_typedarray_info(env, v, &type, length, &ptr, nullptr, nullptr) != napi_ok) return fail(env, std::string(what) + ": unreadable typed array");
  if (type != napi_float32_array && type != napi_int32_array) return fail(env, std::string(what) + ": expected a Float32Array or Int32Array");
  *data = static_cast<uint32_t*>(ptr);
  return true;
}

napi_value GatherRows(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!args(env, info, argv, 4, "gatherRows")) return nullptr;
  uint32_t *x, *out;
  int32_t* idx;
  size_t nx, ni, no;
  int32_t row;
  if (!words(env, argv[0], &x, &nx, "x") || !typed(env, argv[1], napi_int32_array, &idx, &ni, "idx") || !integer(env, argv[2], &row, "row") ||
      !words(env, argv[3], &out, &no, "out"))
    return nullptr;
  if (row <= 0 || nx % static_cast<size_t>(row) != 0 || no < ni * static_cast<size_t>(row)) {
    fail(env, "gatherRows: row must be positive, x whole rows, out idx.length rows");
    return nullptr;
  }
  const size_t rows = nx / static_cast<size_t>(row);
  for (size_t i = 0; i < ni; i++)
    if (idx[i] < 0 || static_cast<size_t>(idx[i]) >= rows) {
      fail(env, "gatherRows: index out of range");
      return nullptr;
    }
  gather_rows(x, idx, ni, static_cast<size_t>(row), out);
  return nullptr;
}

napi_value SegmentSum(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!args(env, info, argv, 5, "segmentSum")) return nullptr;
  float *x, *out;
  int32_t* seg;
  size_t nx, ns, no;
  int32_t inner, segments;
  if (!typed(env, argv[0], napi_float32_array, &x, &nx, "x") || !typed(env, argv[1], napi_int32_array, &seg, &ns, "seg") ||
      !integer(env, argv[2], &inner, "inner") || !integer(env, argv[3], &segments, "segments") || !typed(env, argv[4], napi_float32_array, &out, &no, "out"))
    return nullptr;
  if (inner < 0 || segments < 0 || nx < ns * static_cast<size_t>(inner) || no < static_cast<size_t>(segments) * static_cast<size_t>(inner)) {
    fail(env, "segmentSum: x must hold seg.length rows of inner values and out segments rows");
    return nullptr;
  }
  segment_sum(x, seg, ns, static_cast<size_t>(inner), static_cast<size_t>(segments), out);
  return nullptr;
}

napi_value RowDots(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!args(env, info, argv, 5, "rowDots")) return nullptr;
  float* x;
  int32_t *a, *b;
  size_t nx, na, nb, no;
  int32_t dim;
  if (!typed(env, argv[0], napi_float32_array, &x, &nx, "x") || !integer(env, argv[1], &dim, "dim") || !typed(env, argv[2], napi_int32_array, &a, &na, "a") ||
      !typed(env, argv[3], napi_int32_array, &b, &nb, "b"))
    return nullptr;
  // out: a Float32Array (the dots rounded to float) or a Float64Array (kept in double)
  bool isArray = false;
  napi_typedarray_type outType = napi_float32_array;
  napi_is_typedarray(env, argv[4], &isArray);
  if (isArray) napi_get_typedarray_info(env, argv[4], &outType, nullptr, nullptr, nullptr, nullptr);
  float* out = nullptr;
  double* out64 = nullptr;
  if (outType == napi_float64_array ? !typed(env, argv[4], napi_float64_array, &out64, &no, "out") : !typed(env, argv[4], napi_float32_array, &out, &no, "out")) return nullptr;
  if (dim <= 0 || nx % static_cast<size_t>(dim) != 0 || nb != na || no < na) {
    fail(env, "rowDots: dim must be positive, x whole rows, b as long as a, out at least as long");
    return nullptr;
  }
  const size_t rows = nx / static_cast<size_t>(dim);
  for (size_t i = 0; i < na; i++)
    if (static_cast<size_t>(a[i] < 0 ? 0 : a[i]) >= rows || static_cast<size_t>(b[i] < 0 ? 0 : b[i]) >= rows) {
      fail(env, "rowDots: index out of range");
      return nullptr;
    }
  if (out64 != nullptr) row_dots_f64(x, static_cast<size_t>(dim), a, b, na, out64);
  else row_dots(x, static_cast<size_t>(dim), a, b, na, out);
  return nullptr;
}

napi_value SparseAdam(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  if (!args(env, info, argv, 9, "sparseAdam")) return nullptr;
  float *table, *m, *v, *grad;
  int32_t *step, *unique;
  double *stepSize, *invSqrtBc2, *hyper;
  size_t nTable, nM, nV, nStep, nUnique, nGrad, nSs, nIb, nHyper;
  if (!typed(env, argv[0], napi_float32_array, &table, &nTable, "table") || !typed(env, argv[1], napi_float32_array, &m, &nM, "m") ||
      !typed(env, argv[2], napi_float32_array, &v, &nV, "v") || !typed(env, argv[3], napi_int32_array, &step, &nStep, "step") ||
      !typed(env, argv[4], napi_int32_array, &unique, &nUnique, "unique") || !typed(env, argv[5], napi_float32_array, &grad, &nGrad, "grad") ||
      !typed(env, argv[6], napi_float64_array, &stepSize, &nSs, "stepSize") || !typed(env, argv[7], napi_float64_array, &invSqrtBc2, &nIb, "invSqrtBc2") ||
      !typed(env, argv[8], napi_float64_array, &hyper, &nHyper, "hyper"))
    return nullptr;
  if (nStep == 0 || nTable % nStep != 0 || nM != nTable || nV != nTable || nHyper != 3) {
    fail(env, "sparseAdam: table, m and v must be rows × dim with one step count per row, hyper [beta1, beta2, epsilon]");
    return nullptr;
  }
  const size_t dim = nTable / nStep;
  if (nGrad < nUnique * dim) {
    fail(env, "sparseAdam: grad must cover every row of unique");
    return nullptr;
  }
  for (size_t r = 0; r < nUnique; r++) {
    if (unique[r] < 0 || static_cast<size_t>(unique[r]) >= nStep) {
      fail(env, "sparseAdam: row id out of range");
      return nullptr;
    }
    const size_t t = static_cast<size_t>(step[unique[r]]) + 1;  // the row's new update count
    if (step[unique[r]] < 0 || t >= nSs || t >= nIb) {
      fail(env, "sparseAdam: stepSize and invSqrtBc2 (by update count) must reach every row's next count");
      return nullptr;
    }
  }
  sparse_adam(table, m, v, step, unique, nUnique, dim, grad, stepSize, invSqrtBc2, hyper[0], hyper[1], hyper[2]);
  return nullptr;
}

napi_value EsuCandidates(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  if (!args(env, info, argv, 9, "esuCandidates")) return nullptr;
  int32_t *dims, *hist, *target, *lo, *hi, *scratch, *outEvents, *outDistinct;
  float* unit;
  size_t nDims, nUnit, nHist, m, nLo, nHi, nScratch, nEvents, nDistinct;
  if (!typed(env, argv[0], napi_int32_array, &dims, &nDims, "dims") || !typed(env, argv[1], napi_float32_array, &unit, &nUnit, "unit") ||
      !typed(env, argv[2], napi_int32_array, &hist, &nHist, "histItems") || !typed(env, argv[3], napi_int32_array, &target, &m, "target") ||
      !typed(env, argv[4], napi_int32_array, &lo, &nLo, "lo") || !typed(env, argv[5], napi_int32_array, &hi, &nHi, "hi") ||
      !typed(env, argv[6], napi_int32_array, &scratch, &nScratch, "scratch") || !typed(env, argv[7], napi_int32_array, &outEvents, &nEvents, "outEvents") ||
      !typed(env, argv[8], napi_int32_array, &outDistinct, &nDistinct, "outDistinct"))
    return nullptr;
  if (nDims != 4 || dims[0] < 1 || dims[1] < 1 || dims[2] < 1 || dims[3] < 0 || nUnit % static_cast<size_t>(dims[0]) != 0) {
    fail(env, "esuCandidates: dims must be [dim ≥ 1, R ≥ 1, threads ≥ 1, stampBase ≥ 0] and unit whole rows");
    return nullptr;
  }
  const size_t numItems = nUnit / static_cast<size_t>(dims[0]);
  const size_t T = static_cast<size_t>(worker_count(dims[2], static_cast<int>(m)));
  if (nLo != m || nHi != m || nDistinct < m || nEvents < m * static_cast<size_t>(dims[1]) || nScratch < T * 2 * numItems) {
    fail(env, "esuCandidates: lo, hi, outDistinct need one entry per sample, outEvents R per sample, scratch 2 × items per thread");
    return nullptr;
  }
  // every index is checked here so the kernel never reads outside its arrays (each event once per run of samples
  // with the same history start: a user's samples share the front of their histories)
  int32_t checkedLo = -1, checkedEnd = -1;
  for (size_t s = 0; s < m; s++) {
    if (target[s] < 0 || static_cast<size_t>(target[s]) >= numItems || lo[s] < 0 || hi[s] < lo[s] || static_cast<size_t>(hi[s]) > nHist) {
      fail(env, "esuCandidates: target item or history range out of bounds");
      return nullptr;
    }
    int32_t from = lo[s];
    if (lo[s] == checkedLo) from = std::max(checkedEnd, lo[s]);
    else checkedEnd = lo[s];
    checkedLo = lo[s];
    for (int32_t j = from; j < hi[s]; j++)
      if (hist[j] < 0 || static_cast<size_t>(hist[j]) >= numItems) {
        fail(env, "esuCandidates: history item out of range");
        return nullptr;
      }
    checkedEnd = std::max(checkedEnd, hi[s]);
  }
  EsuCandidatesArgs a{};
  a.unit = unit, a.dim = dims[0], a.numItems = static_cast<int>(numItems), a.R = dims[1], a.histItems = hist, a.m = static_cast<int>(m);
  a.target = target, a.lo = lo, a.hi = hi, a.scratch = scratch, a.stampBase = dims[3], a.threads = dims[2];
  a.outEvents = outEvents, a.outDistinct = outDistinct;
  esu_candidates(a);
  return nullptr;
}

napi_value PairRanks(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  if (!args(env, info, argv, 9, "pairRanks")) return nullptr;
  int32_t *dims, *self, *pairStart, *related, *greater, *ties;
  float* cand;
  double* queries;
  size_t nDims, nCand, nQueries, nSelf, nStart, nPairs, nGreater, nTies;
  double tieEps;
  if (!typed(env, argv[0], napi_int32_array, &dims, &nDims, "dims") || !typed(env, argv[1], napi_float32_array, &cand, &nCand, "cand") ||
      !typed(env, argv[2], napi_float64_array, &queries, &nQueries, "queries") || !typed(env, argv[3], napi_int32_array, &self, &nSelf, "self") ||
      !typed(env, argv[4], napi_int32_array, &pairStart, &nStart, "pairStart") || !typed(env, argv[5], napi_int32_array, &related, &nPairs, "related") ||
      !typed(env, argv[7], napi_int32_array, &greater, &nGreater, "greater") || !typed(env, argv[8], napi_int32_array, &ties, &nTies, "ties"))
    return nullptr;
  if (napi_get_value_double(env, argv[6], &tieEps) != napi_ok) {
    fail(env, "pairRanks: tieEps: expected a number");
    return nullptr;
  }
  if (nDims != 4 || dims[0] < 1 || dims[1] < 1 || dims[2] < 0 || dims[3] < 1) {
    fail(env, "pairRanks: dims must be [nc ≥ 1, dim ≥ 1, nq ≥ 0, threads ≥ 1]");
    return nullptr;
  }
  const size_t nc = static_cast<size_t>(dims[0]), dim = static_cast<size_t>(dims[1]), nq = static_cast<size_t>(dims[2]);
  if (nCand < nc * dim || nQueries < nq * dim || nSelf < nq || nStart != nq + 1 || nGreater < nPairs || nTies < nPairs) {
    fail(env, "pairRanks: arrays too short for [nc, dim, nq]");
    return nullptr;
  }
  // every index is checked once here so the kernel never reads outside its arrays
  if (pairStart[0] != 0 || static_cast<size_t>(pairStart[nq]) != nPairs) {
    fail(env, "pairRanks: pairStart must run from 0 to related.length");
    return nullptr;
  }
  for (size_t q = 0; q < nq; q++) {
    if (pairStart[q + 1] < pairStart[q] || self[q] < -1 || self[q] >= dims[0]) {
      fail(env, "pairRanks: pairStart not ascending or self out of range");
      return nullptr;
    }
    for (int32_t p = pairStart[q]; p < pairStart[q + 1]; p++)
      if (related[p] < 0 || related[p] >= dims[0] || related[p] == self[q]) {
        fail(env, "pairRanks: related candidate out of range or the query itself");
        return nullptr;
      }
  }
  PairRanksArgs a{};
  a.cand = cand, a.nc = dims[0], a.dim = dims[1], a.queries = queries, a.nq = dims[2], a.self = self, a.pairStart = pairStart;
  a.related = related, a.tieEps = tieEps, a.threads = dims[3], a.greater = greater, a.ties = ties;
  pair_ranks(a);
  return nullptr;
}

/** A string argument, or "" with *isNull set when it is null. */
bool path(napi_env env, napi_value v, std::string* out, bool* isNull, const char* what) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  *isNull = t == napi_null;
  if (*isNull) return true;
  size_t len = 0;
  if (t != napi_string || napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) return fail(env, std::string(what) + ": expected a string");
  out->assign(len, '\0');
  napi_get_value_string_utf8(env, v, out->data(), len + 1, &len);
  return true;
}

napi_value HnswBuild(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!args(env, info, argv, 5, "hnswBuild")) return nullptr;
  float* vectors;
  int32_t *labels, *dims;
  size_t nV, nL, nD;
  std::string from, out;
  bool noFrom = false, noOut = false;
  if (!typed(env, argv[0], napi_float32_array, &vectors, &nV, "vectors") || !typed(env, argv[1], napi_int32_array, &labels, &nL, "labels") ||
      !typed(env, argv[2], napi_int32_array, &dims, &nD, "dims") || !path(env, argv[3], &from, &noFrom, "from") || !path(env, argv[4], &out, &noOut, "out"))
    return nullptr;
  if (nD != 4 || dims[0] <= 0 || dims[1] <= 1 || dims[2] <= 0 || noOut || nV != nL * static_cast<size_t>(dims[0])) {
    fail(env, "hnswBuild: dims = [dim > 0, M > 1, efConstruction > 0, seed], vectors n × dim for n labels, out a path");
    return nullptr;
  }
  for (size_t i = 0; i < nL; i++)
    if (labels[i] < 0) {
      fail(env, "hnswBuild: labels must be non-negative");
      return nullptr;
    }
  HnswBuildArgs a{};
  a.vectors = vectors, a.labels = labels, a.n = nL, a.dim = dims[0], a.m = dims[1], a.ef_construction = dims[2];
  a.seed = static_cast<uint32_t>(dims[3]);
  a.from = noFrom ? nullptr : from.c_str(), a.out = out.c_str();
  try {
    return number(env, static_cast<double>(hnsw_build(a)));
  } catch (const std::exception& err) {
    napi_throw_error(env, nullptr, (std::string("hnswBuild: ") + err.what()).c_str());
    return nullptr;
  }
}

napi_value Isa(napi_env env, napi_callback_info) { return text(env, gsu_topk_isa()); }

napi_value HnswIsa(napi_env env, napi_callback_info) { return text(env, hnsw_isa()); }

}  // namespace

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"gsuTopK", nullptr, GsuTopK, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"adviseHugePages", nullptr, AdviseHugePages, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"hnswOpen", nullptr, HnswOpen, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"hnswSearch", nullptr, HnswSearch, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"hnswClose", nullptr, HnswClose, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"hnswIsa", nullptr, HnswIsa, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"hnswBuild", nullptr, HnswBuild, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"mlpAttentionForward", nullptr, MlpAttentionForward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"mlpAttentionBackward", nullptr, MlpAttentionBackward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"gatherRows", nullptr, GatherRows, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"segmentSum", nullptr, SegmentSum, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"rowDots", nullptr, RowDots, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"sparseAdam", nullptr, SparseAdam, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"esuCandidates", nullptr, EsuCandidates, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"pairRanks", nullptr, PairRanks, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"isa", nullptr, Isa, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
