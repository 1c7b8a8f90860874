// GSU exact top-K: see gsu_topk.h. Compiled without -march: each ISA path carries its own target attribute
// and is picked at run time, so one build runs on any x86-64 (and the scalar path anywhere else).
#include "gsu_topk.h"
#include "platform.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#ifdef GIST_X86
#include <immintrin.h>
#endif

namespace {

struct Entry {
  float s;
  int32_t col;
};

const int kIsa = simd_level();

#ifdef GIST_X86
/**
 * keys[0..n) in ascending order, where key i is (score key << 32 | i): each key's place is the number of score keys
 * below its own, counted sixteen 32-bit compares per instruction with no data-dependent branch, and keys whose
 * score keys tie take the consecutive places from there in index order, as their low halves order them. For the
 * ~K keys of a drained query this is several times faster than std::sort (whose branches mispredict about every
 * other compare on scores); counting whole 64-bit keys, eight per instruction, it was 8% of the search at L = 10^4
 * and 32 queries a user, 6.5% now (perf).
 */
__attribute__((target("avx512f"))) void rank_sort_avx512(uint64_t* keys, int n, std::vector<uint32_t>& high, std::vector<uint64_t>& out, std::vector<int32_t>& taken) {
  const int nv = (n + 15) / 16 * 16;
  high.resize(nv);
  for (int i = 0; i < n; i++) high[i] = static_cast<uint32_t>(keys[i] >> 32);
  std::fill(high.begin() + n, high.end(), ~uint32_t{0});  // below no key: the count is strict
  out.resize(n);
  taken.assign(n, 0);
  const __m512i one = _mm512_set1_epi32(1);
  for (int i = 0; i < n; i++) {
    const __m512i ki = _mm512_set1_epi32(static_cast<int>(high[i]));
    __m512i below = _mm512_setzero_si512();
    for (int j = 0; j < nv; j += 16) below = _mm512_mask_add_epi32(below, _mm512_cmplt_epu32_mask(_mm512_loadu_si512(high.data() + j), ki), below, one);
    alignas(64) int32_t lanes[16];
    _mm512_store_si512(lanes, below);
    int place = 0;
    for (int l = 0; l < 16; l++) place += lanes[l];
    out[place + taken[place]++] = keys[i];
  }
  std::copy(out.begin(), out.end(), keys);
}
#endif

#ifdef GIST_X86
#define GIST_AVX512_COMPACT __attribute__((target("avx512f,avx512vl,avx512dq")))
/** Scores of entries i … i+7 (lanes outside m zero), as float bits. */
GIST_AVX512_COMPACT inline __m256 entry_scores(const Entry* e, int i, __mmask8 m) {
  return _mm256_castsi256_ps(_mm512_maskz_cvtepi64_epi32(0xFF, _mm512_maskz_loadu_epi64(m, e + i)));
}
/** How many of the n entries score ≥ t. */
GIST_AVX512_COMPACT inline int count_at_least(const Entry* e, int n, float t) {
  const int full = n / 8 * 8;
  const __m256 tv = _mm256_set1_ps(t);
  int c = 0;
  for (int i = 0; i < n; i += 8) {
    const __mmask8 m = i < full ? 0xFF : static_cast<__mmask8>((1u << (n - full)) - 1);
    c += __builtin_popcount(_mm256_mask_cmp_ps_mask(m, entry_scores(e, i, m), tv, _CMP_GE_OQ));
  }
  return c;
}
/**
 * compact()'s threshold and filter on AVX-512, eight entries per register (scores in the even 32-bit lanes): t is
 * the largest of a bisection of [lo, hi] with at least K entries scoring ≥ t (so t ≤ the K-th best), stopped once
 * at most K + K/8 + 8 entries pass it; then the entries scoring ≥ t are compressed to the front, in order. The
 * histogram it replaces did two dependent read–modify–writes per entry and was half of a drained query's time.
 * Returns the number kept; t goes to *thr.
 */
GIST_AVX512_COMPACT int compact_avx512(Entry* e, int n, int k, float* thr) {
  static_assert(sizeof(Entry) == 8, "an Entry is one 64-bit lane");
  const int full = n / 8 * 8;
  const __mmask8 tail = static_cast<__mmask8>((1u << (n - full)) - 1);
  __m256 lo8 = _mm256_set1_ps(INFINITY), hi8 = _mm256_set1_ps(-INFINITY);
  for (int i = 0; i < n; i += 8) {
    const __mmask8 m = i < full ? 0xFF : tail;
    const __m256 v = entry_scores(e, i, m);
    lo8 = _mm256_mask_min_ps(lo8, m, lo8, v);
    hi8 = _mm256_mask_max_ps(hi8, m, hi8, v);
  }
  alignas(32) float a[8], b[8];
  _mm256_store_ps(a, lo8);
  _mm256_store_ps(b, hi8);
  float lo = a[0], hi = b[0];
  for (int j = 1; j < 8; j++) {
    lo = std::min(lo, a[j]);
    hi = std::max(hi, b[j]);
  }
  float t = lo;  // invariant: ≥ K entries score ≥ t
  int kept = n;
  const int atTop = count_at_least(e, n, hi);
  if (atTop >= k) {
    t = hi;
    kept = atTop;
  } else {
    float top = hi;  // fewer than K entries score ≥ top
    for (int it = 0; it < 32 && kept > k + k / 8 + 8; it++) {
      const float mid = t + (top - t) * 0.5f;
      if (!(mid > t && mid < top)) break;
      const int c = count_at_least(e, n, mid);
      if (c >= k) {
        t = mid;
        kept = c;
      } else {
        top = mid;
      }
    }
  }
  const __m256 tv = _mm256_set1_ps(t);
  int m = 0;
  for (int i = 0; i < n; i += 8) {  // writes at m ≤ i, behind every entry still to read
    const __mmask8 live = i < full ? 0xFF : tail;
    const __m512i v = _mm512_maskz_loadu_epi64(live, e + i);
    const __mmask8 keep = _mm256_mask_cmp_ps_mask(live, _mm256_castsi256_ps(_mm512_maskz_cvtepi64_epi32(0xFF, v)), tv, _CMP_GE_OQ);  // v's scores
    _mm512_mask_compressstoreu_epi64(e + m, keep, v);
    m += __builtin_popcount(keep);
  }
  *thr = t;
  return m;
}
#undef GIST_AVX512_COMPACT
#endif

/** Per-query candidate buffers: everything scoring ≥ the query's threshold; cut back to the K-th best when full. */
class Collector {
 public:
  void reset(int nq, int nqp, int k) {
    k_ = k;
    if (static_cast<int>(lists_.size()) < nq) lists_.resize(nq);
    for (int q = 0; q < nq; q++) {
      lists_[q].n = 0;
      if (lists_[q].e.size() < static_cast<size_t>(std::max(4 * k, 64))) lists_[q].e.resize(std::max(4 * k, 64));
    }
    thr_.assign(nqp, std::numeric_limits<float>::infinity());  // padding lanes never pass
    for (int q = 0; q < nq; q++) thr_[q] = -std::numeric_limits<float>::infinity();
  }
  float* thresholds() { return thr_.data(); }
  /** Entries held for query q now. */
  int count(int q) const { return lists_[q].n; }
  /** Start query q over: no entries, no threshold. */
  void restart(int q) {
    lists_[q].n = 0;
    thr_[q] = -std::numeric_limits<float>::infinity();
  }

  inline void add(int q, int32_t col, float s) {
    List& l = lists_[q];
    if (l.n == static_cast<int>(l.e.size())) {
      compact(q);
      if (s < thr_[q]) return;
    }
    l.e[l.n++] = Entry{s, col};
  }

  /** Query q's top K by (score desc, recency desc, item asc, column desc), best first; returns the count. */
  int drain(int q, const int32_t* cand, const double* recency, int32_t* items, float* scores) {
    List& l = lists_[q];
    if (l.n > k_) compact(q);
    const int n = l.n;
    const int got = std::min(n, k_);
    auto better = [&](const Entry& a, const Entry& b) {
      if (a.s != b.s) return a.s > b.s;
      if (recency != nullptr && recency[a.col] != recency[b.col]) return recency[a.col] > recency[b.col];
      if (cand[a.col] != cand[b.col]) return cand[a.col] < cand[b.col];
      return a.col > b.col;
    };
    // One integer sort of (score, position) keys, best score first; only runs of equal scores need the full
    // comparator (a comparator sort over all entries was 13% of the search time).
    keys_.resize(n);
    for (int i = 0; i < n; i++) {
      const float v = l.e[i].s == 0.0f ? 0.0f : l.e[i].s;  // −0 ties +0, as the comparator has it
      uint32_t bits;
      std::memcpy(&bits, &v, 4);
      const uint32_t ascending = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);  // orders like the float
      keys_[i] = (static_cast<uint64_t>(~ascending) << 32) | static_cast<uint32_t>(i);
    }
    sort_keys(keys_, n);
    sorted_.resize(n);
    for (int i = 0; i < n; i++) sorted_[i] = l.e[static_cast<uint32_t>(keys_[i])];
    for (int a = 0; a < got;) {
      int b = a + 1;
      while (b < n && (keys_[b] >> 32) == (keys_[a] >> 32)) b++;
      if (b - a > 1) std::sort(sorted_.begin() + a, sorted_.begin() + b, better);
      a = b;
    }
    for (int t = 0; t < got; t++) {
      items[t] = cand[sorted_[t].col];
      scores[t] = sorted_[t].s;
    }
    return got;
  }

 private:
  struct List {
    std::vector<Entry> e;
    int n = 0;
  };
  /**
   * Keep only entries scoring ≥ a threshold t ≤ the K-th best score (so the top K and its ties all stay), and
   * raise the query's threshold to t. On AVX-512, t comes from compact_avx512's bisection; otherwise from a
   * 64-bucket histogram of the scores: the smallest score in
   * the highest bucket where the count from the top reaches K. Two branch-light passes instead of a select
   * (nth_element was a quarter of the search time); a few entries more than K survive, which is harmless.
   * Grows the buffer when ties keep it over half full.
   */
  void compact(int q) {
    List& l = lists_[q];
#ifdef GIST_X86
    if (kIsa == 2 && l.n > k_) {
      float t;
      l.n = compact_avx512(l.e.data(), l.n, k_, &t);
      if (t > thr_[q]) thr_[q] = t;
    } else
#endif
    if (l.n > k_) {
      float lo = l.e[0].s, hi = l.e[0].s;
      for (int i = 1; i < l.n; i++) {
        lo = std::min(lo, l.e[i].s);
        hi = std::max(hi, l.e[i].s);
      }
      float t = lo;
      if (hi > lo) {
        constexpr int B = 64;
        // bucket(s) = ⌊(s − lo)·scale⌋ is non-decreasing in s, so a higher bucket only holds higher scores
        const float scale = static_cast<float>(B) / (hi - lo);
        int count[B] = {0};
        float least[B];
        for (int b = 0; b < B; b++) least[b] = INFINITY;
        for (int i = 0; i < l.n; i++) {
          const float x = l.e[i].s;
          const int b = std::min(B - 1, static_cast<int>((x - lo) * scale));
          count[b]++;
          least[b] = std::min(least[b], x);
        }
        int above = 0;
        int b = B - 1;
        for (; b > 0; b--) {
          above += count[b];
          if (above >= k_) break;
        }
        t = least[b];  // ≥ K entries score ≥ t, hence t ≤ the K-th best
      }
      int m = 0;
      for (int i = 0; i < l.n; i++)
        if (l.e[i].s >= t) l.e[m++] = l.e[i];
      l.n = m;
      if (t > thr_[q]) thr_[q] = t;
    }
    if (l.n * 2 > static_cast<int>(l.e.size())) l.e.resize(l.e.size() * 2);
  }
  /** keys_[0..n) ascending (the keys are distinct: each carries its entry's index). */
  void sort_keys(std::vector<uint64_t>& keys, int n) {
#ifdef GIST_X86
    if (kIsa == 2 && n <= 512) {  // quadratic: only for the ~K entries a compacted query holds
      rank_sort_avx512(keys.data(), n, rank_high_, rank_out_, rank_taken_);
      return;
    }
#endif
    std::sort(keys.begin(), keys.begin() + n);
  }
  int k_ = 0;
  std::vector<uint32_t> rank_high_;
  std::vector<uint64_t> rank_out_;
  std::vector<int32_t> rank_taken_;
  std::vector<uint64_t> keys_;
  std::vector<Entry> sorted_;
  std::vector<List> lists_;
  std::vector<float> thr_;
};

thread_local Collector tl_collector;

/**
 * (query, column, score) of every lane that passed its threshold in the current sweep, appended by the
 * AVX-512 tiles without a branch (each append writes a whole register, so W slots of slack) and handed to the
 * collector in one predictable loop.
 */
struct PassLog {
  static constexpr int CAP = 4096;
  std::vector<int32_t> qv = std::vector<int32_t>(CAP + 16);
  std::vector<int32_t> colv = std::vector<int32_t>(CAP + 16);
  std::vector<float> sv = std::vector<float>(CAP + 16);
  int32_t* q = qv.data();
  int32_t* col = colv.data();
  float* s = sv.data();
  int n = 0;
  void flush(Collector& coll) {
    for (int i = 0; i < n; i++) coll.add(q[i], col[i], s[i]);
    n = 0;
  }
};
thread_local PassLog tl_log;
thread_local std::vector<int32_t> tl_redo_lim;
thread_local std::vector<float> tl_qt;     // queries transposed: [dp][nqp]
thread_local std::vector<int32_t> tl_lim;  // [nqp], 0 for padding lanes
thread_local std::vector<int32_t> tl_sample_cols;
thread_local std::vector<float> tl_sample_scores;  // [S][nqp]
thread_local std::vector<float> tl_select;
thread_local std::vector<uint8_t> tl_seeded;

/** Score of one (query, candidate) exactly as every path sums it: one fused multiply-add per dimension, in order. */
inline float score_scalar(const float* q, const float* e, int dp) {
  float s = 0;
  for (int k = 0; k < dp; k++) s = std::fma(e[k], q[k], s);
  return s;
}

/**
 * GIST_GSU_SEED: "off" (no starting thresholds) or "high" (each seeded query starts at its best sampled score, so
 * nearly every one fails the check and is redone) — for tests that the results never depend on the seeding.
 */
enum class Seed { normal, off, high };
const Seed kSeed = [] {
  const char* v = std::getenv("GIST_GSU_SEED");
  return v == nullptr ? Seed::normal : std::strcmp(v, "off") == 0 ? Seed::off : std::strcmp(v, "high") == 0 ? Seed::high : Seed::normal;
}();

/**
 * Starting thresholds: each seeded query starts at the score ranked SEED_RANK among its sampled columns, sampled
 * at a rate that puts about SEED_MARGIN × K of its columns above that score. The rank of a sample's order
 * statistic spreads like a Gamma(SEED_RANK) variable, so fewer than K columns reach the threshold (and the query
 * is redone) about once in a thousand queries (P(Gamma(8) < 2) ≈ 0.001); a rank of 1 failed one query in four.
 */
constexpr int SEED_RANK = 8;
constexpr int SEED_MARGIN = 4;
constexpr int SEED_MAX_SAMPLE = 4096;

/**
 * Sampled columns for starting thresholds: S = ⌈SEED_RANK·L / (SEED_MARGIN·K)⌉ columns spread evenly over [0, L),
 * L the longest limit. None (returns 0) when that would be more than L/16 columns (K < 32: the threshold rises
 * fast anyway) or when L < 8 K (the top K is over 1/8 of the history: a start threshold saves little; from 8 K to
 * 32 K it saved 30% of the search, measured at L = 2,000 and 3,000 with K = 100).
 */
int sample_columns(const GsuTopKArgs& a, std::vector<int32_t>& cols) {
  if (kSeed == Seed::off) return 0;
  int L = 0;
  for (int q = 0; q < a.nq; q++) L = std::max(L, a.limit[q]);
  if (L < 8 * a.k) return 0;
  const int64_t want = (static_cast<int64_t>(SEED_RANK) * L + static_cast<int64_t>(SEED_MARGIN) * a.k - 1) / (static_cast<int64_t>(SEED_MARGIN) * a.k);
  if (want * 16 > L) return 0;
  const int S = static_cast<int>(std::min<int64_t>(want, SEED_MAX_SAMPLE));
  cols.resize(S);
  for (int i = 0; i < S; i++) cols[i] = static_cast<int32_t>((2 * static_cast<int64_t>(i) + 1) * L / (2 * S));
  return S;
}

/**
 * The rank-th largest of the s scores v[0], v[stride], …: the best `rank` so far kept sorted, so after the
 * first few each score costs one well-predicted compare (nth_element over the copied scores mispredicted
 * half its compares and was a tenth of the search time).
 */
float ranked_score(const float* v, int stride, int s, int rank) {
  tl_select.assign(rank, -std::numeric_limits<float>::infinity());
  float* best = tl_select.data();  // descending
  for (int i = 0; i < s; i++) {
    const float x = v[static_cast<size_t>(i) * stride];
    if (!(x > best[rank - 1])) continue;
    int p = rank - 1;
    for (; p > 0 && best[p - 1] < x; p--) best[p] = best[p - 1];
    best[p] = x;
  }
  return best[rank - 1];
}

/**
 * Starting thresholds from the sampled columns' scores (sc[i·nqp + q]): for each query, the score ranked
 * ⌈SEED_MARGIN·K · s / limit⌉ among its s sampled columns below its limit — about SEED_MARGIN·K of its columns
 * score at least that, so the sweep passes ~4K candidates instead of the ~20% of a 10^4-event history that a
 * threshold rising from −∞ lets through. Queries whose rank would fall under SEED_RANK / 2 (too few samples
 * below a short limit, or L beyond what SEED_MAX_SAMPLE covers) start from −∞. It is only a guess: gsu_topk
 * checks afterwards that K columns did reach it and redoes any query where they did not, so results never
 * depend on it.
 */
void seed_thresholds(const GsuTopKArgs& a, Collector& coll, int nqp, const int32_t* cols, int S, const float* sc, std::vector<uint8_t>& seeded) {
  seeded.assign(a.nq, 0);
  float* thr = coll.thresholds();
  for (int q = 0; q < a.nq; q++) {
    const int s = static_cast<int>(std::lower_bound(cols, cols + S, a.limit[q]) - cols);  // sampled columns below its limit
    const int64_t want = (static_cast<int64_t>(SEED_MARGIN) * a.k * s + a.limit[q] - 1) / std::max(1, a.limit[q]);
    const int64_t rank = kSeed == Seed::high ? 1 : want;
    if (want * 2 < SEED_RANK || want * 4 > s) continue;
    thr[q] = ranked_score(sc + q, nqp, s, static_cast<int>(rank));
    seeded[q] = 1;
  }
}

void run_scalar(const GsuTopKArgs& a, Collector& coll) {
  const float* thr = coll.thresholds();
  for (int q = 0; q < a.nq; q++) {
    const float* qv = a.table + static_cast<size_t>(a.qrows[q]) * a.dp;
    for (int j = a.limit[q] - 1; j >= 0; j--) {  // most recent first, as the SIMD paths
      const float s = score_scalar(qv, a.table + static_cast<size_t>(a.cand[j]) * a.dp, a.dp);
      if (s >= thr[q]) coll.add(q, j, s);
    }
  }
}

#ifdef GIST_X86
// ---- SIMD paths: the same kernel source compiled twice, once per target (gsu_simd.inc) --------------------
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx2,fma")
#define GIST_SIMD_NS avx512
#define GIST_SIMD_W 16
#include "gsu_simd.inc"
#undef GIST_SIMD_NS
#undef GIST_SIMD_W
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define GIST_SIMD_NS avx2
#define GIST_SIMD_W 8
#include "gsu_simd.inc"
#undef GIST_SIMD_NS
#undef GIST_SIMD_W
#pragma GCC pop_options

#endif

}  // namespace

const char* gsu_topk_isa() { return simd_level_name(kIsa); }

void gsu_topk(const GsuTopKArgs& a) {
  const int W = kIsa == 2 ? 16 : kIsa == 1 ? 8 : 1;
  const int nqp = (a.nq + W - 1) / W * W;
  // The thread-locals are reached once here and passed down as plain pointers. In this shared object each
  // access is a call to __tls_get_addr, and GCC, seeing run() always given these two, folded them back into it
  // as constants and re-issued those calls inside the sweep (3% of the search, measured); the empty asm makes
  // the addresses opaque to it.
  Collector* collp = &tl_collector;
  PassLog* logp = &tl_log;
  asm("" : "+r"(collp), "+r"(logp));
  Collector& coll = *collp;
  PassLog& log = *logp;
  coll.reset(a.nq, nqp, a.k);
#ifdef GIST_X86
  if (kIsa > 0) {
    // QT[k][q] = Q[q][k]: query vectors transposed so queries sit in the lanes; padding lanes are zero
    tl_qt.assign(static_cast<size_t>(a.dp) * nqp, 0.0f);
    tl_lim.assign(nqp, 0);
    for (int q = 0; q < a.nq; q++) {
      const float* qv = a.table + static_cast<size_t>(a.qrows[q]) * a.dp;
      for (int k = 0; k < a.dp; k++) tl_qt[static_cast<size_t>(k) * nqp + q] = qv[k];
      tl_lim[q] = a.limit[q];
    }
    const int S = sample_columns(a, tl_sample_cols);
    if (S > 0) {
      tl_sample_scores.resize(static_cast<size_t>(S) * nqp);
      if (kIsa == 2) avx512::sample_scores(a, tl_qt.data(), nqp, tl_sample_cols.data(), S, tl_sample_scores.data());
      else avx2::sample_scores(a, tl_qt.data(), nqp, tl_sample_cols.data(), S, tl_sample_scores.data());
      seed_thresholds(a, coll, nqp, tl_sample_cols.data(), S, tl_sample_scores.data(), tl_seeded);
    }
    if (kIsa == 2) avx512::run(a, coll, log, nqp, tl_qt.data(), tl_lim.data());
    else avx2::run(a, coll, log, nqp, tl_qt.data(), tl_lim.data());
    // a seeded query that kept fewer than min(K, limit) entries may have missed some of its top K: redo it
    if (S > 0)
      for (int q = 0; q < a.nq; q++)
        if (tl_seeded[q] && coll.count(q) < std::min(a.k, a.limit[q])) {
          if (kIsa == 2) avx512::redo(a, coll, log, nqp, tl_qt.data(), q);
          else avx2::redo(a, coll, log, nqp, tl_qt.data(), q);
        }
  } else
#endif
    run_scalar(a, coll);
  for (int q = 0; q < a.nq; q++)
    a.out_counts[q] = coll.drain(q, a.cand, a.recency, a.out_items + static_cast<size_t>(q) * a.k, a.out_scores + static_cast<size_t>(q) * a.k);
}
