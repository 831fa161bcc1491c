/**
 * Ranks 1..n of the values, ties getting the mean of the ranks they span (the "fractional"
 * ranking used by Spearman's rho and by scipy.stats.rankdata's default).
 */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const ranks = new Array<number>(values.length);
  let start = 0;
  while (start < order.length) {
    let end = start + 1;
    while (end < order.length && order[end].v === order[start].v) end++;
    const rank = (start + 1 + end) / 2;
    for (let t = start; t < end; t++) ranks[order[t].i] = rank;
    start = end;
  }
  return ranks;
}

/**
 * Spearman's rank correlation of two paired samples: the Pearson correlation of their
 * average ranks (so ties are handled as scipy.stats.spearmanr does). Unitless, in [-1, 1].
 * NaN when fewer than two pairs or when either sample is constant.
 */
export function spearman(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) {
    throw new RangeError(`spearman: samples differ in length (${x.length} vs ${y.length})`);
  }
  const n = x.length;
  if (n < 2) return NaN;
  const rx = averageRanks(x);
  const ry = averageRanks(y);
  const mean = (n + 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = rx[i] - mean;
    const dy = ry[i] - mean;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  return sxy / Math.sqrt(sxx * syy);
}
