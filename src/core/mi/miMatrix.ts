import { availableParallelism } from 'node:os';
import type { ActivationMatrix } from '../activations';
import { UserError } from '../errors';
import type { JobOptions } from '../progress';
import type { KsgEstimator } from '../measures/ksgKernel';
import type { KsgKernelChoice, KsgKernelName } from './kernel';
import { availableKernel, kernelChoiceFromEnv, slowerKernel } from './kernel';
import type { PairList } from './pairs';
import { samplePairs } from './pairs';
import type { PairValues } from './shards';
import { columnDigest, currentPairHook, jobFingerprint } from './shards';
import type { PairSet } from './tiles';
import { listPairs } from './tiles';
import { getMiPool } from './pool';
import type { PairsEta } from './pool';

export { disposeMiPool } from './pool';

export interface MiOptions extends JobOptions {
  /** Neighbours of the KSG estimator; default 3. */
  k?: number;
  /**
   * `ksg` (default): KSG-1, as the authors and scikit-learn; `mixed`: the tie-aware variant
   * (psi(k_m) where a point's k-th neighbour distance is 0; Gao et al. 2017).
   */
  estimator?: KsgEstimator;
  /** Worker threads; default os.availableParallelism(). */
  threads?: number;
  /** Neuron indices to include, ascending (default: all), e.g. after a per-layer cap. */
  columns?: number[];
  /** Exact KSG on this many distinct pairs drawn uniformly (seeded) instead of all pairs. */
  pairs?: number;
  /** Seed of the pair sample; default 0. */
  seed?: number;
  /** Also fill the diagonal with the estimator's value (default false: NaN). */
  diagonal?: boolean;
  /**
   * The pair kernel: `auto` (the default, unless MEMLENS_MI_KERNEL names one) runs the native
   * kernel when it loads, else the WebAssembly one, else the TypeScript one; a name forces it.
   * Both give the same bits.
   */
  kernel?: KsgKernelChoice;
}

export interface MiMatrix {
  /** The neuron indices measured, ascending; matrix index i <-> neuron columns[i]. */
  columns: number[];
  /** m x m row-major, symmetric, nats; NaN where not computed. */
  values: Float64Array;
  pairsComputed: number;
  /** m(m-1)/2. */
  pairsTotal: number;
  k: number;
  /** The estimator of every pair. */
  estimator: KsgEstimator;
  /** The kernel that computed the pairs (the slowest, if the workers ran different ones). */
  kernel: KsgKernelName;
}

/** Progress reports at most this often. */
const PROGRESS_INTERVAL_MS = 100;

/** A fallback from the native kernel is told once per process, on stderr. */
let fallbackTold = false;

function selectColumns(acts: ActivationMatrix, columns: number[] | undefined): number[] {
  if (columns === undefined) return Array.from({ length: acts.neurons }, (_, i) => i);
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i];
    if (!Number.isInteger(c) || c < 0 || c >= acts.neurons || (i > 0 && c <= columns[i - 1])) {
      throw new RangeError(
        `MI: expected ascending neuron indices in [0, ${acts.neurons}), found ${c} at position ${i}`,
      );
    }
  }
  return columns.slice();
}

/**
 * The symmetric matrix of KSG-1 mutual information (nats; k neighbours, max-norm, strict
 * marginal counts, exact ties where eps = 0, no scaling/noise/clipping, float64; or the `mixed`
 * estimator's) between the selected neurons, computed
 * exactly on all pairs or on a seeded uniform sample of pairs, in the shared worker pool.
 * Reports progress `{stage: 'mi', done, total}` in pairs (diagonal entries included when
 * requested) at most ~10 times a second; rejects with CancelledError when `signal` aborts.
 * Throws UserError when there are fewer than k + 1 samples or a value is NaN or infinite.
 */
export async function computeMiMatrix(
  acts: ActivationMatrix,
  opts: MiOptions = {},
): Promise<MiMatrix> {
  const k = opts.k ?? 3;
  if (!Number.isInteger(k) || k < 1) throw new UserError(`MI: expected k >= 1, found ${k}`);
  const estimator = opts.estimator ?? 'ksg';
  const S = acts.samples;
  if (S < k + 1) {
    throw new UserError(`MI: expected at least k + 1 = ${k + 1} samples, found ${S}`);
  }
  const columns = selectColumns(acts, opts.columns);
  const m = columns.length;
  const data = new Float64Array(m * S);
  for (let i = 0; i < m; i++) {
    const col = acts.data.subarray(columns[i] * S, (columns[i] + 1) * S);
    let bad = 0;
    for (let s = 0; s < S; s++) if (!Number.isFinite(col[s])) bad++;
    if (bad > 0) {
      throw new UserError(
        `MI: expected finite activations, found ${bad} NaN/Inf values in neuron ${columns[i]}`,
      );
    }
    data.set(col, i * S);
  }
  const set = miPairSet(m, opts);
  const runner = (total: number) => miRunner({ ...opts, samples: S, k, estimator, total });
  // A shard computes only its tile, a merge supplies the values (shards.ts).
  const hook = currentPairHook();
  const columnOf = (i: number): Float64Array => data.subarray(i * S, (i + 1) * S);
  let mi: PairValues & PairList;
  if (hook === undefined) {
    const { a, b } = listPairs(set);
    mi = { a, b, ...(await runner(a.length)(data, a, b)) };
  } else {
    const digests = Array.from({ length: m }, (_, i) => columnDigest(columnOf(i)));
    mi = await hook(
      {
        samples: S,
        k,
        estimator,
        fingerprint: jobFingerprint({ samples: S, k, estimator, pairs: set }, digests),
        pairs: set,
      },
      (pa, pb) => runner(pa.length)(data, pa, pb),
    );
  }
  return miMatrixOf(columns, set, mi, k, estimator);
}

/**
 * The MiMatrix over `columns` of a job's pairs `set` from the values of pairs (a[t], b[t]):
 * the pairs not given read NaN.
 */
export function miMatrixOf(
  columns: number[],
  set: PairSet,
  mi: PairValues & PairList,
  k: number,
  estimator: KsgEstimator,
): MiMatrix {
  const m = columns.length;
  const values = new Float64Array(m * m).fill(NaN);
  const { a, b } = mi;
  for (let t = 0; t < a.length; t++) {
    values[a[t] * m + b[t]] = mi.values[t];
    values[b[t] * m + a[t]] = mi.values[t];
  }
  const pairsTotal = (m * (m - 1)) / 2;
  const pairsComputed = set.sample === null ? pairsTotal : set.sample.a.length;
  return { columns, values, pairsComputed, pairsTotal, k, estimator, kernel: mi.kernel };
}

/**
 * The pairs computeMiMatrix estimates among m columns: all off-diagonal pairs, or `pairs` of
 * them drawn with `seed` (all of them when that is as many), and the diagonal when asked.
 */
export function miPairSet(
  m: number,
  opts: Pick<MiOptions, 'pairs' | 'seed' | 'diagonal'>,
): PairSet {
  const count = opts.pairs === undefined ? Infinity : Math.max(0, Math.floor(opts.pairs));
  const sample = count >= (m * (m - 1)) / 2 ? null : samplePairs(m, count, opts.seed ?? 0);
  return { m, diagonal: opts.diagonal ?? false, sample };
}

/** What {@link miRunner} needs: the estimator, the pool's options and the job's size. */
export interface MiRunnerOptions extends Pick<
  MiOptions,
  'threads' | 'kernel' | 'signal' | 'onProgress'
> {
  samples: number;
  k: number;
  estimator: KsgEstimator;
  /** Pairs the progress reports count up to. */
  total: number;
}

/**
 * Runs pairs of columns in the shared worker pool: `data` holds columns of S float64 values,
 * column-major, and pair t is (a[t], b[t]) of them. Reports progress `{stage: 'mi'}` at most
 * ~10 times a second; resolves with the kernel the workers ran (the slowest, if they ran
 * different ones; the one they would run when there are no pairs).
 */
export function miRunner(
  opts: MiRunnerOptions,
): (data: Float64Array, a: Int32Array, b: Int32Array) => Promise<PairValues> {
  const { samples: S, k, estimator, total } = opts;
  let lastReport = 0;
  const report = (done: number, eta?: PairsEta): void => {
    const now = Date.now();
    if (done === total || now - lastReport >= PROGRESS_INTERVAL_MS) {
      lastReport = now;
      opts.onProgress?.({ stage: 'mi', done, total, ...(eta === undefined ? {} : { eta }) });
    }
  };
  const threads = Math.max(1, Math.floor(opts.threads ?? availableParallelism()));
  // About 100k points per task (~0.05-0.2 s): small enough for prompt cancellation and balance.
  const chunk = Math.max(1, Math.min(1024, Math.round(100_000 / S)));
  const choice = opts.kernel ?? kernelChoiceFromEnv();
  return async (data, a, b) => {
    /** What the workers ran: the slowest kernel any of them ran. */
    let reported: KsgKernelName | null = null;
    const values = await getMiPool().run({
      samples: S,
      k,
      data,
      a,
      b,
      threads,
      chunk,
      signal: opts.signal,
      onPairsDone: report,
      kernel: choice,
      estimator,
      onKernel: (name, fallback) => {
        reported = reported === null ? name : slowerKernel(reported, name);
        if (fallback !== undefined && !fallbackTold) {
          fallbackTold = true;
          process.stderr.write(`memlens: ${fallback}\n`);
        }
      },
    });
    // No worker starts when there are no pairs: then the kernel they would have run.
    return { values, kernel: reported ?? availableKernel(choice) };
  };
}
