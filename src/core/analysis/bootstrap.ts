import { quantileSorted, sortedCopy } from '../measures/boxSummary';
import { Rng } from '../random';

export interface RatioInterval {
  /** median(a) / median(b) on the full samples. */
  ratio: number;
  /** Percentile bootstrap interval of the ratio (level given by the caller, default 95%). */
  low: number;
  high: number;
}

/** The k-th smallest value (0-based) of `a[0..n)`, partially reordering `a` (Hoare quickselect). */
function select(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/** Median (numpy's: mean of the two middle values for an even count) of a resample. */
function resampledMedian(values: Float64Array, rng: Rng, scratch: Float64Array): number {
  const n = values.length;
  for (let i = 0; i < n; i++) scratch[i] = values[rng.int(n)];
  const upper = select(scratch, n, n >> 1);
  if (n % 2 === 1) return upper;
  // After selection every value left of n/2 is <= upper: the lower middle is their maximum.
  let lower = -Infinity;
  for (let i = 0; i < n >> 1; i++) if (scratch[i] > lower) lower = scratch[i];
  return (lower + upper) / 2;
}

/**
 * The ratio of the medians of two samples (e.g. off-diagonal MI values of two models, nats /
 * nats) with a percentile bootstrap interval: each replicate resamples both samples with
 * replacement, independently, and takes the ratio of their medians. Deterministic for a
 * seed. Pairs of neurons share neurons, so the values are not independent and the interval
 * is indicative (somewhat too narrow), not exact.
 */
export function medianRatioInterval(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  opts: { replicates?: number; level?: number; seed?: number } = {},
): RatioInterval {
  const replicates = opts.replicates ?? 1000;
  const level = opts.level ?? 0.95;
  const va = Float64Array.from(a);
  const vb = Float64Array.from(b);
  const ratio = quantileSorted(sortedCopy(va), 0.5) / quantileSorted(sortedCopy(vb), 0.5);
  if (va.length === 0 || vb.length === 0) return { ratio: NaN, low: NaN, high: NaN };
  const rng = new Rng(opts.seed ?? 0);
  const sa = new Float64Array(va.length);
  const sb = new Float64Array(vb.length);
  const ratios = new Float64Array(replicates);
  for (let r = 0; r < replicates; r++) {
    ratios[r] = resampledMedian(va, rng, sa) / resampledMedian(vb, rng, sb);
  }
  ratios.sort();
  const tail = (1 - level) / 2;
  return { ratio, low: quantileSorted(ratios, tail), high: quantileSorted(ratios, 1 - tail) };
}
