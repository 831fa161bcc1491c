import type { BoxSummary, MiSummary } from '../report/schema';

/**
 * The q-quantile (0 <= q <= 1) of ascending-sorted values with numpy's default 'linear'
 * method: position h = (n - 1) q, interpolated between the neighbouring order statistics.
 * NaN when there are no values.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** An ascending float64 copy of the values. */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/**
 * Box-plot summary with matplotlib's conventions (`cbook.boxplot_stats`, whis = 1.5):
 * quartiles and median by numpy 'linear' quantiles; whiskers at the most extreme values
 * within [q1 - 1.5 IQR, q3 + 1.5 IQR] (never inside the box); notch = median -/+
 * 1.57 IQR / sqrt(n), the 95% interval of the median. Values keep their unit (nats for
 * entropy). With no values every statistic is NaN (null in JSON) and n = 0.
 * @throws RangeError when a value is NaN.
 */
export function boxSummary(values: ArrayLike<number>): BoxSummary {
  const sorted = sortedCopy(values);
  const n = sorted.length;
  if (n > 0 && Number.isNaN(sorted[n - 1])) throw new RangeError('boxSummary: NaN value');
  const q1 = quantileSorted(sorted, 0.25);
  const median = quantileSorted(sorted, 0.5);
  const q3 = quantileSorted(sorted, 0.75);
  const iqr = q3 - q1;
  const loLimit = q1 - 1.5 * iqr;
  const hiLimit = q3 + 1.5 * iqr;
  let whiskerLow = NaN;
  let whiskerHigh = NaN;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = sorted[i];
    sum += x;
    if (Number.isNaN(whiskerLow) && x >= loLimit) whiskerLow = x;
    if (x <= hiLimit) whiskerHigh = x;
  }
  // matplotlib clamps the whiskers to the box when no value lies between box and limit.
  if (n > 0) {
    if (Number.isNaN(whiskerLow) || whiskerLow > q1) whiskerLow = q1;
    if (Number.isNaN(whiskerHigh) || whiskerHigh < q3) whiskerHigh = q3;
  }
  const half = (1.57 * iqr) / Math.sqrt(n);
  return {
    n,
    min: n > 0 ? sorted[0] : NaN,
    q1,
    median,
    q3,
    max: n > 0 ? sorted[n - 1] : NaN,
    mean: n > 0 ? sum / n : NaN,
    whiskerLow,
    whiskerHigh,
    notchLow: median - half,
    notchHigh: median + half,
  };
}

/**
 * {@link boxSummary} of per-neuron entropies binned with B bins: the notch is clipped to
 * [0, ln B], the range H can take (median -/+ 1.57 IQR / sqrt(n) can reach below 0 or above
 * ln B for few neurons). Quartiles, whiskers and extremes are values of H, inside already.
 * The unclipped notch is median -/+ 1.57 (q3 - q1) / sqrt(n) of the same summary.
 */
export function entropyBoxSummary(values: ArrayLike<number>, bins: number): BoxSummary {
  const box = boxSummary(values);
  const top = Math.log(bins);
  const clip = (x: number): number => Math.min(top, Math.max(0, x));
  return { ...box, notchLow: clip(box.notchLow), notchHigh: clip(box.notchHigh) };
}

/**
 * Median, mean and quartiles (numpy 'linear') of a set of MI values (nats). `pairs` is the
 * number of values. With no values the statistics are NaN (null in JSON).
 * @throws RangeError when a value is NaN (drop uncomputed pairs first: {@link offDiagonalMi}).
 */
export function miSummary(values: ArrayLike<number>): MiSummary {
  const sorted = sortedCopy(values);
  const n = sorted.length;
  if (n > 0 && Number.isNaN(sorted[n - 1])) throw new RangeError('miSummary: NaN value');
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i];
  return {
    pairs: n,
    median: quantileSorted(sorted, 0.5),
    mean: n > 0 ? sum / n : NaN,
    q1: quantileSorted(sorted, 0.25),
    q3: quantileSorted(sorted, 0.75),
  };
}
