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
