/** Ranking and calibration metrics: AUC, gAUC, logloss. */

/** ROC AUC with tied scores counted half (rank-sum form); NaN when one class is absent. */
export function auc(labels: ArrayLike<number>, scores: ArrayLike<number>, index?: ArrayLike<number>): number {
  const n = index ? index.length : labels.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = index ? index[i] : i;
  order.sort((a, b) => scores[a] - scores[b]);
  let pos = 0;
  let rankSum = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]] === 1) {
        pos++;
        rankSum += avgRank;
      }
    }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Group AUC: per-user AUC weighted by the user's sample count, over users with both labels. */
export function gauc(users: ArrayLike<number>, labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < users.length; i++) {
    let g = groups.get(users[i]);
    if (!g) groups.set(users[i], (g = []));
    g.push(i);
  }
  let num = 0;
  let den = 0;
  for (const idx of groups.values()) {
    const a = auc(labels, scores, idx);
    if (Number.isNaN(a)) continue;
    num += a * idx.length;
    den += idx.length;
  }
  return den === 0 ? NaN : num / den;
}

/** Mean binary cross-entropy with probabilities clipped to [1e-7, 1 − 1e-7]. */
export function logloss(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(1 - 1e-7, Math.max(1e-7, scores[i]));
    s += labels[i] === 1 ? -Math.log(p) : -Math.log(1 - p);
  }
  return labels.length ? s / labels.length : NaN;
}

/**
 * ROC curve points (FPR, TPR), one per distinct score threshold from (0,0) to (1,1); tied scores move
 * both rates at once, so the trapezoid area under these points equals `auc`. Evenly thinned to at most
 * `maxPoints` points (end points kept). Empty when one class is absent.
 */
export function rocCurve(labels: ArrayLike<number>, scores: ArrayLike<number>, index?: ArrayLike<number>, maxPoints = 400): { fpr: Float64Array; tpr: Float64Array } {
  const n = index ? index.length : labels.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = index ? index[i] : i;
  order.sort((a, b) => scores[b] - scores[a]);
  let pos = 0;
  for (let i = 0; i < n; i++) if (labels[order[i]] === 1) pos++;
  const neg = n - pos;
  if (pos === 0 || neg === 0) return { fpr: new Float64Array(0), tpr: new Float64Array(0) };
  const fx: number[] = [0];
  const ty: number[] = [0];
  let tp = 0;
  let fp = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j < n && scores[order[j]] === scores[order[i]]) {
      if (labels[order[j]] === 1) tp++;
      else fp++;
      j++;
    }
    fx.push(fp / neg);
    ty.push(tp / pos);
    i = j;
  }
  const keep = Math.max(2, maxPoints);
  if (fx.length <= keep) return { fpr: Float64Array.from(fx), tpr: Float64Array.from(ty) };
  const fpr = new Float64Array(keep);
  const tpr = new Float64Array(keep);
  for (let k = 0; k < keep; k++) {
    const src = Math.round((k * (fx.length - 1)) / (keep - 1));
    fpr[k] = fx[src];
    tpr[k] = ty[src];
  }
  return { fpr, tpr };
}

/** DeLong's paired comparison of two models' AUCs on the same samples. */
export interface PairedAucTest {
  /** AUC of the run, and of the run it is compared with (the baseline), on the shared samples. */
  auc: number;
  auc_baseline: number;
  /** auc − auc_baseline */
  diff: number;
  /** DeLong standard error of diff (the two AUCs' covariance from the same samples included). */
  se: number;
  /** 95% confidence interval of diff, diff ± 1.96·se. */
  ci95: [number, number];
  /** Two-sided p-value of "no difference" (normal approximation); 1 when se is 0 and diff is 0. */
  p: number;
}

/**
 * The structural components of one model's AUC (DeLong et al. 1988): for each positive, the share of negatives
 * it outscores (ties half), and for each negative, the share of positives that outscore it. Their means are the AUC.
 */
function delongComponents(pos: Float64Array, neg: Float64Array): { v10: Float64Array; v01: Float64Array } {
  const sortedNeg = Float64Array.from(neg).sort();
  const sortedPos = Float64Array.from(pos).sort();
  // first index with a[i] >= x (strict: a[i] > x)
  const bound = (a: Float64Array, x: number, strict: boolean): number => {
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (strict ? a[mid] <= x : a[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const v10 = new Float64Array(pos.length);
  for (let i = 0; i < pos.length; i++) {
    const below = bound(sortedNeg, pos[i], false);
    v10[i] = (below + 0.5 * (bound(sortedNeg, pos[i], true) - below)) / neg.length;
  }
  const v01 = new Float64Array(neg.length);
  for (let j = 0; j < neg.length; j++) {
    const upTo = bound(sortedPos, neg[j], true);
    v01[j] = (pos.length - upTo + 0.5 * (upTo - bound(sortedPos, neg[j], false))) / pos.length;
  }
  return { v10, v01 };
}

/** Sample covariance of two equally long series (n − 1 in the denominator). */
function covariance(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let s = 0;
  for (let i = 0; i < n; i++) s += (a[i] - ma) * (b[i] - mb);
  return s / (n - 1);
}

/** Complementary error function, |error| < 1.2e-7 (Numerical Recipes' erfcc, Chebyshev fit). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

/**
 * DeLong's test of AUC(scores) − AUC(baseline) on the same labelled samples, O(n log n): the difference, its standard
 * error with both AUCs' covariance, a 95% interval and a two-sided p-value. Null when a class has fewer than 2 samples.
 */
export function pairedAucTest(labels: ArrayLike<number>, scores: ArrayLike<number>, baseline: ArrayLike<number>): PairedAucTest | null {
  let m = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) m++;
  const n = labels.length - m;
  if (m < 2 || n < 2) return null;
  const split = (s: ArrayLike<number>): [Float64Array, Float64Array] => {
    const pos = new Float64Array(m);
    const neg = new Float64Array(n);
    let p = 0;
    let q = 0;
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] === 1) pos[p++] = s[i];
      else neg[q++] = s[i];
    }
    return [pos, neg];
  };
  const a = delongComponents(...split(scores));
  const b = delongComponents(...split(baseline));
  const mean = (x: Float64Array): number => x.reduce((s, v) => s + v, 0) / x.length;
  const aucA = mean(a.v10);
  const aucB = mean(b.v10);
  const diff = aucA - aucB;
  const variance =
    (covariance(a.v10, a.v10) + covariance(b.v10, b.v10) - 2 * covariance(a.v10, b.v10)) / m +
    (covariance(a.v01, a.v01) + covariance(b.v01, b.v01) - 2 * covariance(a.v01, b.v01)) / n;
  const se = Math.sqrt(Math.max(0, variance));
  const p = se > 0 ? erfc(Math.abs(diff) / se / Math.SQRT2) : diff === 0 ? 1 : 0;
  return { auc: aucA, auc_baseline: aucB, diff, se, ci95: [diff - 1.959964 * se, diff + 1.959964 * se], p };
}
