/**
 * The MI kernel's speed and the plan of one activation matrix (./miPlan). The speed is pairs
 * per second on one thread, measured once per process and (S, k, estimator) by timing the
 * kernel that will run (the worker pool's, as the job will) on synthetic Gaussian columns of S
 * samples; or given by MEMLENS_MI_RATE, which makes plans the same on every machine. A job
 * that fits its budget even at a slow assumed speed is planned without measuring.
 */
import type { ActivationMatrix, LayerSlice } from '../activations';
import { UserError } from '../errors';
import type { KsgEstimator } from '../measures/ksgKernel';
import { neuronMiMeasurable } from '../measures/ties';
import { computeMiMatrix } from '../mi/miMatrix';
import { Rng } from '../random';
import type { MiPlanReport } from '../report/schema';
import type { MiPlanInput } from './miPlan';
import { DEFAULT_MI_BUDGET_SECONDS, planMi } from './miPlan';

/** The environment variable fixing the rate (pairs per second on one thread). */
export const MI_RATE_ENV = 'MEMLENS_MI_RATE';

/** A timing counts once it has run this long (or on the largest column set). */
const ENOUGH_MS = 200;
const MAX_COLUMNS = 128;

const measured = new Map<string, number>();

/** Synthetic columns: independent standard normals (no ties, the common case). */
function syntheticColumns(samples: number, columns: number): ActivationMatrix {
  const rng = new Rng(0x5eed);
  const data = new Float64Array(samples * columns);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { samples, neurons: columns, data, layers: [{ name: 'rate', start: 0, end: columns }] };
}

/**
 * KSG pairs per second on one thread at S = `samples` (the rate the plan divides by), with
 * where it came from. The first call for a given (S, k, estimator) takes a fraction of a
 * second: a warm-up job (the worker starts and loads its kernel), then all pairs of 4, 8,
 * ... columns until a timing lasts long enough.
 */
export async function kernelRate(
  samples: number,
  k: number,
  estimator: KsgEstimator,
  signal?: AbortSignal,
): Promise<{ rate: number; source: MiPlanReport['rateSource'] }> {
  const fixed = process.env[MI_RATE_ENV];
  if (fixed !== undefined && fixed.trim() !== '') {
    const rate = Number(fixed);
    if (!(rate > 0) || !Number.isFinite(rate)) {
      throw new UserError(
        `${MI_RATE_ENV}: expected pairs per second on one thread (a positive number), found '${fixed}'`,
      );
    }
    return { rate, source: 'environment' };
  }
  const key = `${samples}/${k}/${estimator}`;
  const known = measured.get(key);
  if (known !== undefined) return { rate: known, source: 'measured' };
  const acts = syntheticColumns(samples, MAX_COLUMNS);
  const run = (columns: number) =>
    computeMiMatrix(acts, {
      k,
      estimator,
      threads: 1,
      columns: Array.from({ length: columns }, (_, i) => i),
      ...(signal === undefined ? {} : { signal }),
    });
  await run(2);
  let rate = 0;
  for (let columns = 4; columns <= MAX_COLUMNS; columns *= 2) {
    const t0 = performance.now();
    const mi = await run(columns);
    const ms = performance.now() - t0;
    rate = (1000 * mi.pairsComputed) / Math.max(ms, 1e-3);
    if (ms >= ENOUGH_MS) break;
  }
  measured.set(key, rate);
  return { rate, source: 'measured' };
}

/**
 * Points (pairs x S) per second on one thread assumed when a job is small enough not to time
 * the kernel: several times slower than the WebAssembly kernel measures (about 4 million at
 * S = 500 to 2,000 on a 2024 laptop core), below the TypeScript fallback's.
 */
const ASSUMED_POINTS_PER_SECOND = 1e6;

/** What {@link planFor} needs besides the activations. */
export interface PlanForOptions {
  k: number;
  estimator: KsgEstimator;
  threads: number;
  budgetSeconds: number;
  asked?: MiPlanInput['asked'];
  shared?: MiPlanInput['shared'];
  signal?: AbortSignal;
}

/**
 * The MI plan of `acts` (./miPlan): its layers' MI-measurable neurons, the kernel's speed
 * (measured only when even a slow assumed speed would not settle the plan), the budget.
 */
export function planFor(acts: ActivationMatrix, opts: PlanForOptions): Promise<MiPlanReport> {
  const measurable = neuronMiMeasurable(acts, opts.k, opts.estimator);
  return planForNeurons(acts.samples, acts.layers, measurable, opts);
}

/**
 * {@link planFor} from what it reads of the activations: S, the layers and which neurons are
 * MI-measurable (a shard that reads a dump by columns has no matrix).
 */
export async function planForNeurons(
  samples: number,
  slices: readonly LayerSlice[],
  measurable: readonly boolean[],
  opts: PlanForOptions,
): Promise<MiPlanReport> {
  const layers = slices.map((l) => {
    let neurons = 0;
    for (let c = l.start; c < l.end; c++) if (measurable[c]) neurons++;
    return { name: l.name, neurons };
  });
  const m = layers.reduce((s, l) => s + l.neurons, 0);
  const assumed = ASSUMED_POINTS_PER_SECOND / samples;
  const slowSeconds = (m * (m - 1)) / 2 / (assumed * Math.max(1, opts.threads));
  const settled = opts.budgetSeconds > 0 ? opts.budgetSeconds : DEFAULT_MI_BUDGET_SECONDS;
  const speed =
    slowSeconds <= settled && process.env[MI_RATE_ENV] === undefined
      ? { rate: assumed, source: 'assumed' as const }
      : await kernelRate(samples, opts.k, opts.estimator, opts.signal);
  return planMi({
    layers,
    rate: speed.rate,
    rateSource: speed.source,
    threads: opts.threads,
    budgetSeconds: opts.budgetSeconds,
    ...(opts.asked === undefined ? {} : { asked: opts.asked }),
    ...(opts.shared === undefined ? {} : { shared: opts.shared }),
  });
}
