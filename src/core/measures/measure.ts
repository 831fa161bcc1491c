import { availableParallelism, totalmem } from 'node:os';
import type { ActivationMatrix, LayerSlice } from '../activations';
import { UserError, throwIfAborted } from '../errors';
import type { MiMatrix, MiOptions } from '../mi/miMatrix';
import { computeMiMatrix } from '../mi/miMatrix';
import type { JobOptions } from '../progress';
import type {
  BoxSummary,
  InformativeEntropy,
  LayerReport,
  ValueRange,
  MiDensity,
  MiSummary,
  ReportWarning,
} from '../report/schema';
import type { HUninformativeLayer } from './binSpread';
import { hUninformativeLayers, spreadText } from './binSpread';
import { entropyBoxSummary, miSummary } from './boxSummary';
import type { Binning } from './entropy';
import { checkBins, entropies, valueRange } from './entropy';
import type { KsgEstimator } from './ksgKernel';
import { miDensity } from './gmm';
import { capNeurons } from './neuronCap';
import { layerTieStats, neuronMiMeasurable, neuronTieFractions } from './ties';

export interface MeasureOptions extends JobOptions {
  /** Equal-width entropy bins B (default 100). */
  bins?: number;
  /** Entropy bin range (default 'global': all measured neurons). */
  binning?: Binning;
  /** KSG neighbours (default 3). */
  k?: number;
  /** MI estimator (default `ksg`: KSG-1; `mixed`: tie-aware, see computeMiMatrix). */
  estimator?: KsgEstimator;
  /** MI worker threads (default: all cores, os.availableParallelism()). */
  threads?: number;
  /** At most this many neurons per layer enter the MI estimate (default null: all). */
  miNeuronCap?: number | null;
  /** Estimate MI on this many uniformly sampled pairs only (default null: all pairs). */
  pairs?: number | null;
  /** Seed of the neuron cap and the pair sample (default 0). */
  seed?: number;
  /**
   * Most bytes the job may need by {@link planMeasure}'s estimate, checked before the MI
   * (default {@link defaultMemoryLimit}: half the machine's memory, at most 4 GiB; Infinity:
   * no limit). Over it, a UserError names the estimate and the ways out.
   */
  memoryLimit?: number;
  /** Bytes the caller will need to write the result out (e.g. the CLI's JSON), for the plan. */
  outputBytes?: (mi: { neurons: number; pairs: number }) => number;
  /** The input, to name in messages (e.g. the .npy path). */
  source?: string;
  /**
   * Where the values were captured, when known (a model's capture; not a dump): the heavy-ties
   * warning advises by it.
   */
  point?: 'preactivation' | 'output';
}

/** The estimated peak memory of a {@link measure} job, in bytes, by part. */
export interface MeasurePlan {
  /** Neurons entering the MI estimate (measurable ones, after the per-layer cap). */
  miNeurons: number;
  /** Pairs to estimate. */
  pairs: number;
  /** Worker threads that will hold a copy of the MI columns. */
  threads: number;
  bytes: {
    /** The activation matrix, already loaded. */
    activations: number;
    /** The MI columns as float64: one copy, plus one per worker. */
    miColumns: number;
    /** Pair lists (two int32 each), results and the summaries' copies: 24 bytes a pair, 72 sampled. */
    pairs: number;
    /** The m x m float64 MI matrix. */
    matrix: number;
    /** What the caller needs to write the result ({@link MeasureOptions.outputBytes}). */
    output: number;
    /** Node itself, the other arrays (entropies, ties) and slack. */
    runtime: number;
    total: number;
  };
}

const GIB = 1024 ** 3;
/** Largest MI matrix: m x m float64 in one typed array (2^32 elements at most). */
const MAX_MI_NEURONS = 65_536;

/** The default {@link MeasureOptions.memoryLimit}: half the machine's memory, at most 4 GiB. */
export function defaultMemoryLimit(): number {
  return Math.min(4 * GIB, totalmem() / 2);
}

/**
 * The estimated peak memory of a job measuring MI between `miNeurons` neurons of `acts` on
 * `pairs` pairs (sampled or all of them) with `threads` workers. The parts follow
 * computeMiMatrix and the summaries: the columns copied to float64 once and to each worker,
 * the pair lists (a, b as int32, built then copied), the float64 results and the m x m
 * matrix; then the summaries' copies of the pair values (the pair lists freed by then).
 */
export function planMeasure(
  acts: Pick<ActivationMatrix, 'samples' | 'neurons'> & { data: { byteLength: number } },
  miNeurons: number,
  pairs: number,
  opts: { threads: number; sampled: boolean; output?: number },
): MeasurePlan {
  const S = acts.samples;
  const m = miNeurons;
  const chunk = Math.max(1, Math.min(1024, Math.round(100_000 / S)));
  const threads = pairs === 0 ? 0 : Math.max(1, Math.min(opts.threads, Math.ceil(pairs / chunk)));
  const bytes = {
    activations: acts.data.byteLength,
    miColumns: 8 * m * S * (1 + threads),
    // Sampling keeps a Set of the drawn indices (~40 bytes each) and a sorted float64 copy.
    pairs: pairs * (24 + (opts.sampled ? 48 : 0)),
    matrix: 8 * m * m,
    output: opts.output ?? 0,
    runtime: 64 * 1024 ** 2 + 32 * acts.neurons,
    total: 0,
  };
  bytes.total =
    bytes.activations + bytes.miColumns + bytes.pairs + bytes.matrix + bytes.output + bytes.runtime;
  return { miNeurons: m, pairs, threads, bytes };
}

/** Bytes as a short figure: 812 MiB, 7.5 GiB. */
export function formatBytes(n: number): string {
  if (n < 1024 ** 2) return `${Math.ceil(n / 1024)} KiB`;
  if (n < GIB) return `${Math.round(n / 1024 ** 2)} MiB`;
  return `${(n / GIB).toFixed(1)} GiB`;
}

/** Refuses a plan over the memory limit (or beyond what one typed array holds), in one line. */
function checkPlan(plan: MeasurePlan, limit: number, source: string | undefined): void {
  const where = source === undefined ? 'MI' : `${source}: MI`;
  const ways = 'use --mi-neurons N (setting memlens.miNeurons) or --pairs M';
  const m = plan.miNeurons.toLocaleString('en-US');
  if (plan.miNeurons > MAX_MI_NEURONS) {
    throw new UserError(
      `${where}: expected at most ${MAX_MI_NEURONS.toLocaleString('en-US')} neurons (an m x m matrix in one array), found ${m}; ${ways}`,
    );
  }
  if (plan.bytes.total <= limit) return;
  const b = plan.bytes;
  throw new UserError(
    `${where}: expected a job within the ${formatBytes(limit)} memory limit, found one needing about ${formatBytes(b.total)} (${m} neurons: matrix ${formatBytes(b.matrix)}, ${plan.pairs.toLocaleString('en-US')} pairs ${formatBytes(b.pairs)}, output ${formatBytes(b.output)}); ${ways}, or raise --max-memory GiB`,
  );
}

/** The settings a {@link measure} call used, defaults filled in. */
export interface MeasureParams {
  bins: number;
  binning: Binning;
  k: number;
  estimator: KsgEstimator;
  threads: number;
  miNeuronCap: number | null;
  miPairs: number | null;
  seed: number;
  samples: number;
  neurons: number;
  layers: { name: string; neurons: number }[];
}

/** Everything the analysis layer and the CLI report about one activation matrix. */
export interface MeasureResult {
  params: MeasureParams;
  /** Binned entropy per neuron, column order, nats. */
  entropy: Float64Array;
  /** Under global binning, each neuron's entropy binned over its layer's range; else null. */
  entropyLayerBinned: Float64Array | null;
  /** Fraction of each neuron's values tied with another of its values, column order. */
  tieFractions: Float64Array;
  /**
   * Whether each neuron (column order) has the continuous part KSG-1 needs
   * (`miMeasurable` in ./ties); those that have not are left out of `mi` and of the MI summaries.
   */
  miMeasurable: boolean[];
  /** KSG-1 MI over the columns kept by the neuron cap (`mi.columns`), nats. */
  mi: MiMatrix;
  /** Per-layer summaries: entropy over all of the layer's neurons, MI over pairs inside it. */
  layers: LayerReport[];
  /** Over all neurons (entropy) and all computed off-diagonal pairs (MI). */
  summary: {
    entropy: BoxSummary;
    mi: MiSummary;
    density: MiDensity;
    /** All values' range: the global bin range. */
    range: ValueRange;
    /** Under global binning: the entropies binned per layer, summarised. */
    entropyLayerBinned?: BoxSummary;
    /** H without the layers where it is uninformative, when some but not all are. */
    entropyInformative?: InformativeEntropy;
  };
  warnings: ReportWarning[];
  /**
   * Under global binning, the layers whose neurons each move by less than one bin (their H
   * says nothing: see ./binSpread); empty otherwise.
   */
  hUninformative: HUninformativeLayer[];
  timing: { entropyMs: number; miMs: number; summaryMs: number };
}

/** A layer whose neurons have on average this fraction of tied values or more gets a warning. */
export const HEAVY_TIES = 0.1;
/** Probe sets smaller than this get a warning (the paper used 2,500 to 10,000). */
export const SMALL_PROBE = 1000;

/** What {@link measure} computes of each neuron before it summarises. */
export interface NeuronStats {
  /** Binned entropy (nats) under the job's binning. */
  entropy: Float64Array;
  /** Under global binning, the entropies binned over each neuron's layer; else null. */
  entropyLayerBinned: Float64Array | null;
  tieFractions: Float64Array;
  measurable: boolean[];
  /**
   * Each neuron's smallest and largest value, as a 2 x N matrix (column n holds them) with the
   * values' layers: it stands for the values in the ranges, dead neurons and spreads.
   */
  ranges: ActivationMatrix;
}

/**
 * The values {@link measureInput} measures: their shape, the per-neuron statistics and the MI
 * of chosen columns, computed from a matrix in memory ({@link measure}) or otherwise (e.g.
 * band by band from a file, with the MI values of shards).
 */
export interface MeasureInput {
  samples: number;
  neurons: number;
  layers: LayerSlice[];
  /** Bytes the values take in memory, for the plan. */
  bytes: number;
  stats(opts: { bins: number; binning: Binning; k: number; estimator: KsgEstimator }): NeuronStats;
  mi(opts: MiOptions & { columns: number[] }): Promise<MiMatrix>;
}

/** {@link NeuronStats} of a matrix in memory. */
export function neuronStats(
  acts: ActivationMatrix,
  opts: { bins: number; binning: Binning; k: number; estimator: KsgEstimator },
): NeuronStats {
  const S = acts.samples;
  const ranges = new Float64Array(2 * acts.neurons);
  for (let n = 0; n < acts.neurons; n++) {
    const [min, max] = valueRange(acts.data, n * S, (n + 1) * S);
    ranges[2 * n] = min;
    ranges[2 * n + 1] = max;
  }
  return {
    entropy: entropies(acts, { bins: opts.bins, binning: opts.binning }),
    entropyLayerBinned:
      opts.binning === 'global' ? entropies(acts, { bins: opts.bins, binning: 'layer' }) : null,
    tieFractions: neuronTieFractions(acts),
    measurable: neuronMiMeasurable(acts, opts.k, opts.estimator),
    ranges: { samples: 2, neurons: acts.neurons, data: ranges, layers: acts.layers },
  };
}

/**
 * Entropy, MI and their summaries for one activation matrix: per-neuron binned entropy
 * ({@link entropies}, nats), KSG-1 MI (or the tie-aware `mixed` estimator's) between the
 * neurons kept by the per-layer cap (`computeMiMatrix`, k neighbours, max-norm, nats;
 * optionally on M sampled pairs), and per
 * layer and overall: the entropy box summary, the off-diagonal MI summary (pairs inside the
 * layer; all pairs overall) and its Gaussian-mixture density, the mean tie fraction and the
 * count of dead (constant) neurons, with warnings for heavy ties, dead neurons, small probe
 * sets and subsampled MI. Neurons without a continuous part (`miMeasurable` in ./ties:
 * constant, binary, ...; under `mixed` only constant ones) are left out of the MI estimate and
 * its summaries, with an
 * `mi-unmeasurable` warning per layer; the neuron cap draws among the measurable ones. Entropy
 * notches are clipped to [0, ln B]. Cancellable through `signal`; reports stages 'entropy',
 * the MI kernel's progress, and 'summary' (layers done).
 */
export function measure(acts: ActivationMatrix, opts: MeasureOptions = {}): Promise<MeasureResult> {
  return measureInput(matrixInput(acts), opts);
}

/** A matrix in memory as {@link MeasureInput}. */
export function matrixInput(acts: ActivationMatrix): MeasureInput {
  return {
    samples: acts.samples,
    neurons: acts.neurons,
    layers: acts.layers,
    bytes: acts.data.byteLength,
    stats: (o) => neuronStats(acts, o),
    mi: (o) => computeMiMatrix(acts, o),
  };
}

/** {@link measure} of values given by their {@link MeasureInput}: the same results. */
export async function measureInput(
  acts: MeasureInput,
  opts: MeasureOptions = {},
): Promise<MeasureResult> {
  const { signal, onProgress } = opts;
  const params: MeasureParams = {
    bins: opts.bins ?? 100,
    binning: opts.binning ?? 'global',
    k: opts.k ?? 3,
    estimator: opts.estimator ?? 'ksg',
    threads: opts.threads ?? availableParallelism(),
    miNeuronCap: opts.miNeuronCap ?? null,
    miPairs: opts.pairs ?? null,
    seed: opts.seed ?? 0,
    samples: acts.samples,
    neurons: acts.neurons,
    layers: acts.layers.map((l) => ({ name: l.name, neurons: l.end - l.start })),
  };
  checkBins(params.bins);
  throwIfAborted(signal);

  let t = performance.now();
  onProgress?.({ stage: 'entropy', done: 0, total: acts.neurons });
  const stats = acts.stats(params);
  const { entropy, entropyLayerBinned, tieFractions, measurable, ranges } = stats;
  onProgress?.({ stage: 'entropy', done: acts.neurons, total: acts.neurons });
  const entropyMs = performance.now() - t;
  throwIfAborted(signal);

  t = performance.now();
  // Neurons without a continuous part (constant, binary, ...) have no KSG-1 estimate: left out.
  const columns = capNeurons(acts.layers, params.miNeuronCap, params.seed, (c) => measurable[c]);
  // The memory the MI and its output will take, checked before any of it is allocated.
  const m = columns.length;
  const pairs = Math.min(params.miPairs ?? Infinity, (m * (m - 1)) / 2);
  const plan = planMeasure({ ...acts, data: { byteLength: acts.bytes } }, m, pairs, {
    threads: params.threads,
    sampled: params.miPairs !== null && pairs < (m * (m - 1)) / 2,
    output: opts.outputBytes?.({ neurons: m, pairs }) ?? 0,
  });
  checkPlan(plan, opts.memoryLimit ?? defaultMemoryLimit(), opts.source);
  const mi = await acts.mi({
    k: params.k,
    estimator: params.estimator,
    columns,
    seed: params.seed,
    threads: params.threads,
    signal,
    onProgress,
    ...(params.miPairs !== null ? { pairs: params.miPairs } : {}),
  });
  const miMs = performance.now() - t;

  t = performance.now();
  const layers: LayerReport[] = [];
  const total = acts.layers.length + 1;
  for (const layer of acts.layers) {
    throwIfAborted(signal);
    onProgress?.({ stage: 'summary', done: layers.length, total, detail: layer.name });
    const inLayer = columns.filter((c) => c >= layer.start && c < layer.end);
    const pairValues = offDiagonalMi(mi, inLayer);
    const ties = layerTieStats(ranges, layer, tieFractions);
    const layerEntropy = entropy.subarray(layer.start, layer.end);
    const [min, max] = valueRange(ranges.data, 2 * layer.start, 2 * layer.end);
    let unmeasurable = 0;
    for (let c = layer.start; c < layer.end; c++) if (!measurable[c]) unmeasurable++;
    layers.push({
      name: layer.name,
      neurons: layer.end - layer.start,
      miNeurons: inLayer.length,
      miUnmeasurable: unmeasurable,
      entropies: Array.from(layerEntropy),
      entropy: entropyBoxSummary(layerEntropy, params.bins),
      mi: miSummary(pairValues),
      density: miDensity(pairValues),
      tieFraction: ties.tieFraction,
      deadNeurons: ties.deadNeurons,
      range: { min, max },
    });
    // Let an abort (or other work) in between layers' mixture fits.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throwIfAborted(signal);
  onProgress?.({ stage: 'summary', done: layers.length, total, detail: 'all layers' });
  // A single layer holding every MI column has the overall pairs summarised already.
  let overall: { mi: MiSummary; density: MiDensity };
  if (layers.length === 1 && layers[0].miNeurons === columns.length) {
    overall = { mi: layers[0].mi, density: layers[0].density };
  } else {
    const allPairs = offDiagonalMi(mi);
    overall = { mi: miSummary(allPairs), density: miDensity(allPairs) };
  }
  const summary: MeasureResult['summary'] = {
    entropy: entropyBoxSummary(entropy, params.bins),
    ...overall,
    range: overallRange(layers),
  };
  // What a comparison checks an H change against when two models' scales differ.
  if (entropyLayerBinned !== null) {
    summary.entropyLayerBinned = entropyBoxSummary(entropyLayerBinned, params.bins);
  }
  const hUninformative =
    params.binning === 'global' ? hUninformativeLayers(ranges, params.bins, summary.range) : [];
  if (hUninformative.length > 0 && hUninformative.length < layers.length) {
    const left = new Set(hUninformative.map((u) => u.layer));
    summary.entropyInformative = {
      left: [...left],
      entropy: entropyBoxSummary(
        layers.filter((l) => !left.has(l.name)).flatMap((l) => l.entropies),
        params.bins,
      ),
    };
  }
  onProgress?.({ stage: 'summary', done: total, total });
  const summaryMs = performance.now() - t;

  return {
    params,
    entropy,
    entropyLayerBinned,
    tieFractions,
    miMeasurable: measurable,
    mi,
    layers,
    summary,
    warnings: warningsFor(params, layers, mi, opts.point, hUninformative),
    hUninformative,
    timing: { entropyMs, miMs, summaryMs },
  };
}

/**
 * The computed off-diagonal MI values (nats) of the pairs i < j of `m`, optionally only of
 * the pairs whose both neurons are in `subset` (activation column indices; columns not in
 * `m.columns` are skipped). Pairs not computed (NaN, e.g. under pair sampling) are left out.
 */
export function offDiagonalMi(m: MiMatrix, subset?: readonly number[]): Float64Array {
  const size = m.columns.length;
  let positions: number[];
  if (subset === undefined) {
    positions = Array.from({ length: size }, (_, i) => i);
  } else {
    const wanted = new Set(subset);
    positions = [];
    m.columns.forEach((c, i) => {
      if (wanted.has(c)) positions.push(i);
    });
  }
  // Counted first, then filled: no growing JS array (a billion pairs would not fit the heap).
  let count = 0;
  for (let a = 0; a < positions.length; a++) {
    const row = positions[a] * size;
    for (let b = a + 1; b < positions.length; b++)
      if (!Number.isNaN(m.values[row + positions[b]])) count++;
  }
  const out = new Float64Array(count);
  let at = 0;
  for (let a = 0; a < positions.length; a++) {
    const row = positions[a] * size;
    for (let b = a + 1; b < positions.length; b++) {
      const v = m.values[row + positions[b]];
      if (!Number.isNaN(v)) out[at++] = v;
    }
  }
  return out;
}

/** The range over all layers (an empty matrix: NaN). */
function overallRange(layers: readonly LayerReport[]): ValueRange {
  let min = Infinity;
  let max = -Infinity;
  for (const l of layers) {
    const r = l.range as ValueRange;
    if (r.min < min) min = r.min;
    if (r.max > max) max = r.max;
  }
  return layers.length === 0 ? { min: NaN, max: NaN } : { min, max };
}

/** What the heavy-ties warning advises, by where the values were captured. */
function tiesAdvice(point: MeasureOptions['point']): string {
  if (point === 'preactivation') {
    return 'the capture is pre-activation already: prefer the tie-aware estimator (mixed)';
  }
  if (point === 'output') {
    return 'prefer pre-activation values (capture point preactivation) or the tie-aware estimator (mixed)';
  }
  return 'prefer pre-activation values if these are layer outputs, or the tie-aware estimator (mixed)';
}

function warningsFor(
  params: MeasureParams,
  layers: LayerReport[],
  mi: MiMatrix,
  point: MeasureOptions['point'],
  hUninformative: readonly HUninformativeLayer[],
): ReportWarning[] {
  const warnings: ReportWarning[] = [];
  for (const l of layers) {
    if (l.tieFraction >= HEAVY_TIES) {
      warnings.push({
        code: 'heavy-ties',
        layer: l.name,
        message:
          params.estimator === 'mixed'
            ? `${l.name}: on average ${(100 * l.tieFraction).toFixed(1)}% of each neuron's values are tied (e.g. post-ReLU zeros); the mixed estimator counts them as discrete values`
            : `${l.name}: on average ${(100 * l.tieFraction).toFixed(1)}% of each neuron's values are tied (e.g. post-ReLU zeros); KSG MI is biased by ties, ${tiesAdvice(point)}`,
      });
    }
    const flat = hUninformative.find((u) => u.layer === l.name);
    if (flat !== undefined) {
      warnings.push({
        code: 'h-uninformative',
        layer: l.name,
        message: `${l.name}: H uninformative: per-neuron spread is below one global bin (${spreadText(flat)}); its H is not read (per-layer or per-neuron binning measures it)`,
      });
    }
    const unmeasurable = l.miUnmeasurable ?? 0;
    if (unmeasurable > 0) {
      warnings.push({
        code: 'mi-unmeasurable',
        layer: l.name,
        message:
          params.estimator === 'mixed'
            ? `${l.name}: ${unmeasurable} of ${l.neurons} neurons left out of MI: constant over the probe set (their MI with any neuron is 0)`
            : `${l.name}: ${unmeasurable} of ${l.neurons} neurons left out of MI (not measurable): no continuous part (fewer than k + 1 = ${params.k + 1} distinct values, or every value repeated at least ${params.k + 1} times: constant, binary ...), where KSG-1 gives meaningless values`,
      });
    }
    if (l.deadNeurons > 0) {
      warnings.push({
        code: 'dead-neurons',
        layer: l.name,
        message: `${l.name}: ${l.deadNeurons} of ${l.neurons} neurons are constant over the probe set (H = 0)`,
      });
    }
  }
  if (params.samples < SMALL_PROBE) {
    warnings.push({
      code: 'small-probe',
      message: `${params.samples} probe examples: below ${SMALL_PROBE} the estimates are noisy (1,000 to 2,500 recommended)`,
    });
  }
  const capped = layers.filter((l) => l.miNeurons < l.neurons - (l.miUnmeasurable ?? 0));
  if (capped.length > 0 || mi.pairsComputed < mi.pairsTotal) {
    const parts: string[] = [];
    if (capped.length > 0) {
      parts.push(
        `at most ${params.miNeuronCap} neurons per layer (seed ${params.seed}) in ${capped.map((l) => l.name).join(', ')}`,
      );
    }
    if (mi.pairsComputed < mi.pairsTotal) {
      parts.push(`${mi.pairsComputed} of ${mi.pairsTotal} pairs sampled (seed ${params.seed})`);
    }
    warnings.push({
      code: 'mi-subsampled',
      message: `MI estimated on a subset: ${parts.join('; ')}`,
    });
  }
  return warnings;
}
