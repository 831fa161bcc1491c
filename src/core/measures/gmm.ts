import type { GmmComponent, MiDensity } from '../report/schema';
import { sortedCopy } from './boxSummary';

export interface GmmOptions {
  /** Largest component count tried; the count is chosen by BIC over 1..maxComponents (10). */
  maxComponents?: number;
  /**
   * Values beyond this many are represented by as many evenly spaced order statistics
   * (empirical quantiles) before fitting: deterministic, and it keeps EM fast on the
   * ~N^2/2 pair values of a wide model (default 10,000).
   */
  maxSamples?: number;
  /**
   * EM stops when the mean log-likelihood per value gains less than this (default 1e-4;
   * scikit-learn's GaussianMixture uses 1e-3).
   */
  tolerance?: number;
  /** EM iteration limit per component count (default 200). */
  maxIterations?: number;
}

export interface GmmFit {
  /** Components in increasing order of mean. */
  components: GmmComponent[];
  /** BIC = -2 ln L + (3K - 1) ln n of the chosen fit, on the n values fitted. */
  bic: number;
  logLikelihood: number;
  /** Number of values the fit used (after the quantile reduction). */
  n: number;
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Fits a 1-D Gaussian mixture by expectation-maximisation and picks the component count K in
 * 1..maxComponents with the lowest BIC. Deterministic: for each K the sorted values are cut
 * into K blocks of equal count, whose weights, means and variances start EM. Each variance
 * is floored at (1e-3 x the data range)^2 so that a tied value cannot become a zero-width
 * spike of infinite likelihood. K never exceeds the number of distinct values or n / 2.
 *
 * Degenerate input: no values gives no components and BIC NaN; a single value or all-equal
 * values give one component of sd 0.
 * @throws RangeError when a value is NaN or infinite.
 */
export function fitGmm1d(values: ArrayLike<number>, opts: GmmOptions = {}): GmmFit {
  const maxComponents = opts.maxComponents ?? 10;
  if (!Number.isInteger(maxComponents) || maxComponents < 1) {
    throw new RangeError(`maxComponents must be a positive integer, got ${maxComponents}`);
  }
  const x = reduceToQuantiles(sortedCopy(values), opts.maxSamples ?? 10_000);
  const n = x.length;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(x[i])) throw new RangeError(`fitGmm1d: non-finite value ${x[i]}`);
  }
  if (n === 0) return { components: [], bic: NaN, logLikelihood: NaN, n: 0 };
  const range = x[n - 1] - x[0];
  if (range === 0) {
    return {
      components: [{ weight: 1, mean: x[0], sd: 0 }],
      bic: NaN,
      logLikelihood: NaN,
      n,
    };
  }
  const varFloor = (1e-3 * range) ** 2;
  const distinct = countDistinct(x);
  const kMax = Math.max(1, Math.min(maxComponents, distinct, Math.floor(n / 2)));
  let best: GmmFit | undefined;
  for (let k = 1; k <= kMax; k++) {
    const fit = emFit(x, k, varFloor, opts.tolerance ?? 1e-4, opts.maxIterations ?? 200);
    if (best === undefined || fit.bic < best.bic) best = fit;
  }
  return best as GmmFit;
}

/** The mixture density at x (per unit of x). */
export function gmmDensity(components: readonly GmmComponent[], x: number): number {
  let d = 0;
  for (const c of components) {
    if (c.sd > 0) d += c.weight * Math.exp(logNormal(x, c.mean, c.sd));
  }
  return d;
}

/**
 * A Gaussian-mixture density of MI values (nats), as the paper plots "density of neuron
 * pairs" against MI: {@link fitGmm1d} with BIC over 1..10 components, evaluated on `points`
 * (default 200) evenly spaced values spanning the data range padded by 10% on each side
 * (at least 3 sd of the narrowest component). Empty input gives empty arrays. Values that
 * are all equal give one component of sd 0, and a grid of the single value with density
 * NaN (a point mass has no density; null in JSON).
 */
export function miDensity(
  values: ArrayLike<number>,
  opts: GmmOptions & { points?: number } = {},
): MiDensity {
  const fit = fitGmm1d(values, opts);
  const { components, bic } = fit;
  if (components.length === 0) return { components, bic, x: [], density: [] };
  if (components.length === 1 && components[0].sd === 0) {
    return { components, bic, x: [components[0].mean], density: [NaN] };
  }
  let lo = Infinity;
  let hi = -Infinity;
  let minSd = Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  for (const c of components) minSd = Math.min(minSd, c.sd);
  const pad = Math.max(0.1 * (hi - lo), 3 * minSd);
  lo -= pad;
  hi += pad;
  const points = opts.points ?? 200;
  const x: number[] = [];
  const density: number[] = [];
  for (let i = 0; i < points; i++) {
    const xi = lo + ((hi - lo) * i) / (points - 1);
    x.push(xi);
    density.push(gmmDensity(components, xi));
  }
  return { components, bic, x, density };
}

function logNormal(x: number, mean: number, sd: number): number {
  const z = (x - mean) / sd;
  return -0.5 * z * z - Math.log(sd) - LOG_SQRT_2PI;
}

/** m evenly spaced order statistics of sorted x (x itself when it has at most m values). */
function reduceToQuantiles(sorted: Float64Array, m: number): Float64Array {
  const n = sorted.length;
  if (n <= m) return sorted;
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) out[i] = sorted[Math.floor(((i + 0.5) * n) / m)];
  return out;
}

function countDistinct(sorted: Float64Array): number {
  let d = sorted.length > 0 ? 1 : 0;
  for (let i = 1; i < sorted.length; i++) if (sorted[i] !== sorted[i - 1]) d++;
  return d;
}

/** EM for k components on sorted x, started from k equal-count blocks. */
function emFit(
  x: Float64Array,
  k: number,
  varFloor: number,
  tolerance: number,
  maxIterations: number,
): GmmFit {
  const n = x.length;
  const w = new Float64Array(k);
  const mu = new Float64Array(k);
  const variance = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const from = Math.floor((j * n) / k);
    const to = Math.floor(((j + 1) * n) / k);
    let s = 0;
    for (let i = from; i < to; i++) s += x[i];
    const m = s / (to - from);
    let v = 0;
    for (let i = from; i < to; i++) v += (x[i] - m) ** 2;
    w[j] = (to - from) / n;
    mu[j] = m;
    variance[j] = Math.max(v / (to - from), varFloor);
  }
  const resp = new Float64Array(n * k);
  const logp = new Float64Array(k);
  const nk = new Float64Array(k);
  const sx = new Float64Array(k);
  const sxx = new Float64Array(k);
  let logL = -Infinity;
  for (let iter = 0; iter < maxIterations; iter++) {
    // E step: responsibilities and log-likelihood, via log-sum-exp per point.
    let total = 0;
    const logW = Array.from(w, (wj) => Math.log(wj));
    const logSd = Array.from(variance, (v) => 0.5 * Math.log(v));
    nk.fill(0);
    sx.fill(0);
    sxx.fill(0);
    for (let i = 0; i < n; i++) {
      const xi = x[i];
      let mx = -Infinity;
      for (let j = 0; j < k; j++) {
        const d = xi - mu[j];
        logp[j] = logW[j] - logSd[j] - LOG_SQRT_2PI - (0.5 * d * d) / variance[j];
        if (logp[j] > mx) mx = logp[j];
      }
      let s = 0;
      for (let j = 0; j < k; j++) {
        logp[j] = Math.exp(logp[j] - mx);
        s += logp[j];
      }
      total += mx + Math.log(s);
      for (let j = 0; j < k; j++) {
        const r = logp[j] / s;
        resp[i * k + j] = r;
        nk[j] += r;
        sx[j] += r * xi;
      }
    }
    // M step (variances about the new means, in a second pass for accuracy).
    for (let j = 0; j < k; j++) mu[j] = nk[j] > 0 ? sx[j] / nk[j] : mu[j];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) {
        const d = x[i] - mu[j];
        sxx[j] += resp[i * k + j] * d * d;
      }
    }
    for (let j = 0; j < k; j++) {
      // A component that lost all its points keeps a tiny weight rather than log(0).
      w[j] = Math.max(nk[j] / n, 1e-300);
      variance[j] = nk[j] > 0 ? Math.max(sxx[j] / nk[j], varFloor) : varFloor;
    }
    const gain = (total - logL) / n;
    logL = total;
    if (gain < tolerance) break;
  }
  // The log-likelihood of the final parameters.
  logL = logLikelihood(x, w, mu, variance);
  const components = Array.from(mu, (m, j) => ({
    weight: w[j],
    mean: m,
    sd: Math.sqrt(variance[j]),
  }));
  components.sort((a, b) => a.mean - b.mean);
  return { components, bic: -2 * logL + (3 * k - 1) * Math.log(n), logLikelihood: logL, n };
}

function logLikelihood(
  x: Float64Array,
  w: Float64Array,
  mu: Float64Array,
  variance: Float64Array,
): number {
  let total = 0;
  const k = w.length;
  for (let i = 0; i < x.length; i++) {
    let mx = -Infinity;
    const lp = new Array<number>(k);
    for (let j = 0; j < k; j++) {
      lp[j] = Math.log(w[j]) + logNormal(x[i], mu[j], Math.sqrt(variance[j]));
      if (lp[j] > mx) mx = lp[j];
    }
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(lp[j] - mx);
    total += mx + Math.log(s);
  }
  return total;
}
