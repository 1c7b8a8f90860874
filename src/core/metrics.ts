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
