import { quantileSorted, sortedCopy } from '../measures/boxSummary';
import { Rng } from '../random';

export interface RatioInterval {
  /** median(a) / median(b) on the full samples. */
  ratio: number;
  /** Percentile bootstrap interval of the ratio (level given by the caller, default 95%). */
  low: number;
  high: number;
}

/** A Gamma(shape, 1) variate, shape >= 1 (Marsaglia and Tsang, 2000). */
function gamma(shape: number, rng: Rng): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = rng.normal();
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    const u = rng.next();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
      return d * v;
    }
  }
}

/** A Beta(a, b) variate, a, b >= 1. */
function beta(a: number, b: number, rng: Rng): number {
  const x = gamma(a, rng);
  return x / (x + gamma(b, rng));
}

/**
 * The median of one bootstrap resample (n draws with replacement) of ascending `sorted`
 * values, drawn in O(1): a resample is n uniform indices floor(n U_i), and sorting them
 * sorts the values, so its k-th smallest value is sorted[floor(n U_(k))], where the k-th
 * order statistic of n uniforms is Beta(k, n - k + 1). For even n the next order statistic is
 * U_(k) plus the smallest of n - k uniforms on (U_(k), 1). Same distribution as resampling.
 */
export function bootstrapMedian(sorted: Float64Array, rng: Rng): number {
  const n = sorted.length;
  const k = Math.floor((n + 1) / 2);
  const uk = n === 1 ? rng.next() : beta(k, n - k + 1, rng);
  const at = (u: number): number => sorted[Math.min(n - 1, Math.floor(n * u))];
  if (n % 2 === 1) return at(uk);
  const next = uk + (1 - uk) * (1 - (1 - rng.next()) ** (1 / (n - k)));
  return (at(uk) + at(next)) / 2;
}

/**
 * The two medians of {@link medianRatioInterval} and their difference, with its interval:
 * what a comparison needs when a median is near or below 0, where the ratio misleads.
 */
export interface MedianComparison extends RatioInterval {
  /** median(a) and median(b) on the full samples. */
  median: number;
  referenceMedian: number;
  /** median(a) - median(b), with a percentile bootstrap interval from the same replicates. */
  difference: number;
  differenceLow: number;
  differenceHigh: number;
}

/**
 * The ratio of the medians of two samples (e.g. off-diagonal MI values of two models, nats /
 * nats) with a percentile bootstrap interval: each replicate resamples both samples with
 * replacement, independently, and takes the ratio of their medians (each resample median
 * drawn exactly in O(1), see {@link bootstrapMedian}). Deterministic for a seed. Pairs of
 * neurons share neurons, so the values are not independent and the interval is indicative
 * (somewhat too narrow), not exact. The same replicates give the difference of the medians
 * and its interval, returned alongside (with both medians), for medians near or below 0.
 */
export function medianRatioInterval(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  opts: { replicates?: number; level?: number; seed?: number } = {},
): MedianComparison {
  const replicates = opts.replicates ?? 1000;
  const level = opts.level ?? 0.95;
  const sa = sortedCopy(a);
  const sb = sortedCopy(b);
  if (sa.length === 0 || sb.length === 0) {
    return {
      ratio: NaN,
      low: NaN,
      high: NaN,
      median: quantileSorted(sa, 0.5),
      referenceMedian: quantileSorted(sb, 0.5),
      difference: NaN,
      differenceLow: NaN,
      differenceHigh: NaN,
    };
  }
  const median = quantileSorted(sa, 0.5);
  const referenceMedian = quantileSorted(sb, 0.5);
  const rng = new Rng(opts.seed ?? 0);
  const ratios = new Float64Array(replicates);
  const differences = new Float64Array(replicates);
  for (let r = 0; r < replicates; r++) {
    const ma = bootstrapMedian(sa, rng);
    const mb = bootstrapMedian(sb, rng);
    ratios[r] = ma / mb;
    differences[r] = ma - mb;
  }
  ratios.sort();
  differences.sort();
  const tail = (1 - level) / 2;
  return {
    ratio: median / referenceMedian,
    low: quantileSorted(ratios, tail),
    high: quantileSorted(ratios, 1 - tail),
    median,
    referenceMedian,
    difference: median - referenceMedian,
    differenceLow: quantileSorted(differences, tail),
    differenceHigh: quantileSorted(differences, 1 - tail),
  };
}
