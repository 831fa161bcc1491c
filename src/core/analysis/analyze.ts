import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import type { ActivationMatrix, LayerSlice } from '../activations';
import { DEFAULT_MEMORY_BUDGET_MB, inMemoryBytes } from '../activations';
import { modelContentFiles, modelName, openWithProbe } from '../capture/registry';
import type { BackendName, CaptureOptions, CapturePoint, ModelHandle } from '../capture/format';
import { withCapturedDump } from '../dumps/captureDump';
import type { DumpColumns } from '../dumps/dumpColumns';
import { openDumpColumns } from '../dumps/dumpColumns';
import { isActivationDump } from '../dumps/dumpFiles';
import { dumpMeasureInput } from '../dumps/dumpMeasure';
import type { ColumnSource } from '../dumps/dumpShard';
import { scanDump } from '../dumps/dumpShard';
import { loadActivationDump } from '../dumps/loadDump';
import { throwIfAborted, UserError } from '../errors';
import type { Binning } from '../measures/entropy';
import { checkBins } from '../measures/entropy';
import type { KsgEstimator } from '../measures/ksgKernel';
import type { MeasureInput, MeasureResult } from '../measures/measure';
import { matrixInput, measureInput, offDiagonalMi } from '../measures/measure';
import { neuronMiMeasurable } from '../measures/ties';
import { fitProbe } from '../probe/fit';
import { loadProbe } from '../probe/loadProbe';
import { chooseSamples } from '../probe/subset';
import type { ImageScale, ProbeSet } from '../probe/types';
import type { JobOptions } from '../progress';
import type { AnalysisParams, AnalysisReport, MiPlanReport, ReportWarning } from '../report/schema';
import { dumpSelection, namedLayers } from './dumpSelection';
import { loneModelFlags } from './flags';
import { streamInput } from '../io/readInput';
import { currentPairHook, inMerge } from '../mi/shards';
import type { MeasurementCache } from './measurementCache';
import { measurementKeys } from './measurementCache';
import { DEFAULT_MI_BUDGET_SECONDS, medianInterval, planChoice, planSummary } from './miPlan';
import { planForNeurons } from './miRate';

/** Options of {@link analyze} (and, shared by every model, of `compare`). */
export interface AnalyzeOptions extends JobOptions {
  /** Probe inputs (.npy, .npz, .csv, .jsonl or an image folder); required for a model. */
  probe?: string;
  /** Layers to measure, in order; default: the model's hidden layers with parameters. */
  layers?: string[];
  /** Capture point (default 'preactivation', the authors' choice). */
  point?: CapturePoint;
  /** Probe examples to use: a deterministic subset drawn with `seed` (default: all). */
  samples?: number;
  /** Seed of the probe subset, the MI neuron cap and the pair sample (default 0). */
  seed?: number;
  /** Entropy bins B (default 100) and their range (default 'global'). */
  bins?: number;
  binning?: Binning;
  /** KSG neighbours (default 3). */
  k?: number;
  /** MI estimator: `ksg` (default, KSG-1) or the tie-aware `mixed`. */
  estimator?: KsgEstimator;
  /** At most this many neurons per layer in the MI estimate (default: all). */
  miNeuronCap?: number | null;
  /** Estimate MI on this many sampled pairs (default: all pairs). */
  pairs?: number | null;
  /**
   * Seconds the MI estimate may take by the plan's estimate (./miPlan; default 60, 0: no
   * limit). Over it, a seeded neuron cap per layer, then sampled pairs. `miNeuronCap` and
   * `pairs` win over it.
   */
  miBudget?: number;
  /**
   * Bytes the S x N matrix may take in memory, counted at 16 a value (default 1 GiB,
   * `DEFAULT_MEMORY_BUDGET_MB`): a larger model's capture goes to a temporary .npy, and it or a
   * larger dump read by columns (.npy, .safetensors, a stored .npz) is measured a band of
   * columns at a time, holding only its MI columns. The values are the same bits either way.
   */
  memoryBudget?: number;
  /**
   * Another model's plan, taken instead of the budget's when this model's layers have the
   * same widths (a compare's reference, a baseline's model): the two measure alike.
   */
  sharedPlan?: SharedPlan;
  /** Told the plan before the MI starts (the CLI prints it). */
  onPlan?: (plan: MiPlanReport) => void;
  /** MI worker threads (default: all cores). */
  threads?: number;
  /** TF.js backend (default: the first that starts: tfjs-node, wasm, cpu). */
  backend?: BackendName;
  /** The model input the probe feeds, for a model with several inputs (ONNX). */
  input?: string;
  /** Values for the inputs the probe does not feed (NAME -> a scalar, per batch). */
  inputValues?: Record<string, number>;
  /** Examples per forward pass during capture. */
  batchSize?: number;
  /** How image-folder probes' pixels are scaled (default: what the model's input implies, else 0-1). */
  imageScale?: ImageScale;
  /** PyTorch models: the user's Python (default python3 on PATH). */
  python?: string;
  /** PyTorch state_dicts: the `module:callable` building the model. */
  torchFactory?: string;
  /** PyTorch: folders put on sys.path for the user's classes (default: the current directory). */
  searchPaths?: string[];
  /** Where measurements are kept between runs: a hit is returned without measuring. */
  measurements?: MeasurementCache;
}

/**
 * SHA-256 (hex) of a model's content: the file itself, and for a TF.js model.json also its
 * weight files in manifest order, so a retrained model with the same topology hashes apart.
 */
export async function modelContentHash(file: string): Promise<string> {
  const hash = createHash('sha256');
  for (const f of await modelContentFiles(file))
    await streamInput(f, 'the model', (chunk) => hash.update(chunk));
  return hash.digest('hex');
}

/** A plan to measure alike: its cap and pair count, the model it is from and its layer widths. */
export interface SharedPlan {
  cap: number | null;
  pairs: number | null;
  model: string;
  widths: number[];
}

/** The plan of an analysis, to measure other models alike (see {@link AnalyzeOptions.sharedPlan}). */
export function sharedPlanOf(report: AnalysisReport): SharedPlan {
  return {
    cap: report.params.miNeuronCap,
    pairs: report.params.miPairs,
    model: modelName(report.model.path),
    widths: report.layers.map((l) => l.neurons),
  };
}

/** What one analysis produced: the report plus the raw pair values a comparison bootstraps. */
export interface DetailedAnalysis {
  report: AnalysisReport;
  /** All computed off-diagonal MI values (nats). */
  pairValues: Float64Array;
  /** Under global binning, the per-neuron entropies binned per layer (the scale check); else null. */
  entropyLayerBinned: Float64Array | null;
  /** The model's output shape when its format tells it (the last layer's), else null. */
  outputShape: (number | null)[] | null;
}

/** A probe already loaded (for a cohort sharing one subset), or the path to load it from. */
export type ProbeInput = { loaded: ProbeSet } | { path: string } | null;

/** A model opened with its probe (loaded to fit its input, or the probe given loaded). */
export async function openModel(
  source: string,
  probe: ProbeInput,
  opts: AnalyzeOptions,
  onProbeNotice: (message: string) => void,
): Promise<{ handle: ModelHandle; probe: ProbeSet }> {
  if (probe === null) {
    throw new UserError(
      `${source}: a model needs probe inputs: expected --probe <file|folder>, found none`,
    );
  }
  return openWithProbe(
    source,
    {
      ...(opts.backend === undefined ? {} : { backend: opts.backend }),
      ...(opts.input === undefined ? {} : { input: opts.input }),
      ...(opts.inputValues === undefined ? {} : { inputValues: opts.inputValues }),
      ...(opts.python === undefined ? {} : { python: opts.python }),
      ...(opts.torchFactory === undefined ? {} : { torchFactory: opts.torchFactory }),
      ...(opts.searchPaths === undefined ? {} : { searchPaths: opts.searchPaths }),
    },
    async (inputShape, implied) =>
      'loaded' in probe
        ? inputShape === undefined
          ? probe.loaded
          : fitProbe(probe.loaded, inputShape)
        : loadProbe(probe.path, {
            ...(opts.samples === undefined ? {} : { samples: opts.samples }),
            seed: opts.seed ?? 0,
            ...(inputShape === undefined ? {} : { inputShape }),
            imageScale: opts.imageScale ?? implied ?? '0-1',
            onWarning: onProbeNotice,
          }),
  );
}

/** The capture of an analysis: its point, layers, batches, cancellation and progress. */
export function captureOptions(
  opts: AnalyzeOptions,
  onProbeNotice: (message: string) => void,
): CaptureOptions {
  return {
    point: opts.point ?? 'preactivation',
    ...(opts.layers === undefined || opts.layers.length === 0 ? {} : { layers: opts.layers }),
    ...(opts.batchSize === undefined ? {} : { batchSize: opts.batchSize }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
    // The capture's notices (a probe scaled for an integer input) go with the probe's.
    onWarning: onProbeNotice,
  };
}

/** What an analysis reports of its source besides the measures. */
interface SourceInfo {
  modelPath: string;
  format: string;
  backend: string | null;
  captureMs: number;
  probeInfo: AnalysisReport['probe'];
  /** The scale an image-folder probe was read at; undefined for other probes. */
  imageScale: ImageScale | undefined;
  point: CapturePoint;
  outputShape: (number | null)[] | null;
  /** The layers measured when none are named (a dump's: all of them). */
  defaultLayers: string[];
}

function dumpInfo(source: string, layers: readonly LayerSlice[], t0: number): SourceInfo {
  return {
    modelPath: source,
    format: `activations${path.extname(source).toLowerCase()}`,
    backend: null,
    captureMs: performance.now() - t0,
    probeInfo: null,
    imageScale: undefined,
    point: 'output',
    outputShape: null,
    defaultLayers: layers.map((l) => l.name),
  };
}

function modelInfo(
  handle: ModelHandle,
  set: ProbeSet,
  backend: string | null,
  opts: AnalyzeOptions,
  t0: number,
): SourceInfo {
  return {
    modelPath: handle.path,
    format: handle.format,
    backend,
    captureMs: performance.now() - t0,
    probeInfo: { path: set.source, samples: set.shape[0] },
    imageScale: set.imageScale,
    point: opts.point ?? 'preactivation',
    outputShape: handle.layers.at(-1)?.outputShape ?? null,
    defaultLayers: handle.layers.filter((l) => l.measuredByDefault).map((l) => l.name),
  };
}

/** A dump loaded whole, as an analysis selects it (its layers named, its rows subset). */
async function dumpActivations(
  source: string,
  opts: AnalyzeOptions,
): Promise<{ acts: ActivationMatrix; all: LayerSlice[] }> {
  const acts = await loadActivationDump(source);
  let selected = acts;
  if (opts.layers !== undefined && opts.layers.length > 0)
    selected = selectLayers(source, acts, opts.layers);
  if (opts.samples !== undefined && opts.samples < selected.samples) {
    const rows = chooseSamples(source, selected.samples, {
      samples: opts.samples,
      seed: opts.seed ?? 0,
    });
    selected = selectRows(selected, rows);
  }
  return { acts: selected, all: acts.layers };
}

/**
 * A dump open by columns when its matrix would take more than `budget` bytes in memory; else
 * undefined, and the dump is read whole (which also says, in its words, what is wrong with a
 * broken file).
 */
async function openLargeDump(file: string, budget: number): Promise<DumpColumns | undefined> {
  // At 2 bytes a value or more in the file, 8 file bytes bound its 16 in memory: a file that
  // fits that way is not opened twice (an .npz's CRC pass would read it all).
  const size = await stat(file).then(
    (st) => st.size,
    () => 0,
  );
  if (8 * size <= budget) return undefined;
  const opened = await openDumpColumns(file).catch((err: unknown) => {
    if (err instanceof UserError) return undefined;
    throw err;
  });
  if (opened === undefined) return undefined;
  if (inMemoryBytes(opened.dump.samples, opened.dump.neurons) > budget) return opened;
  opened.dump.close();
  return undefined;
}

/**
 * Runs `use` on the source's values read by columns, never whole: a dump's (the layers and
 * rows the analysis selects), or a model's capture streamed to a temporary float64 .npy
 * (src/core/dumps/captureDump.ts). Undefined, without calling `use`, for a dump that
 * `how.openDump` (default openDumpColumns) leaves to be read whole (a compressed .npz). With
 * `how.held`, a capture that fits its budget is held and given to `how.held.use` instead.
 */
export async function withSourceColumns<T>(
  source: string,
  probe: ProbeInput,
  opts: AnalyzeOptions,
  onProbeNotice: (message: string) => void,
  use: (values: ColumnSource, layers: LayerSlice[], info: SourceInfo) => Promise<T>,
  how: {
    openDump?: (file: string) => Promise<DumpColumns | undefined>;
    held?: { budget: number; use: (acts: ActivationMatrix, info: SourceInfo) => Promise<T> };
  } = {},
): Promise<T | undefined> {
  const t0 = performance.now();
  if (isActivationDump(source)) {
    const opened = await (how.openDump ?? openDumpColumns)(source);
    if (opened === undefined) return undefined;
    try {
      const { view, layers } = dumpSelection(opened, opts);
      return await use(view, layers, dumpInfo(source, opened.layers, t0));
    } finally {
      opened.dump.close();
    }
  }
  const { handle, probe: set } = await openModel(source, probe, opts, onProbeNotice);
  try {
    throwIfAborted(opts.signal);
    const info = (backend: string | null) => modelInfo(handle, set, backend, opts, t0);
    const { held } = how;
    return await withCapturedDump(
      (sink) => handle.capture(set, { ...captureOptions(opts, onProbeNotice), sink }),
      (dump, captured) => use(dump, captured.acts.layers, info(captured.backend)),
      opts.signal,
      held && {
        budget: held.budget,
        use: (data, captured) => held.use({ ...captured.acts, data }, info(captured.backend)),
      },
    );
  } finally {
    handle.dispose();
  }
}

/** The given examples (rows) of a matrix, in the order given. */
function selectRows(acts: ActivationMatrix, rows: number[]): ActivationMatrix {
  const samples = rows.length;
  const data = new Float64Array(samples * acts.neurons);
  for (let n = 0; n < acts.neurons; n++) {
    const from = n * acts.samples;
    const to = n * samples;
    rows.forEach((r, i) => (data[to + i] = acts.data[from + r]));
  }
  return { samples, neurons: acts.neurons, data, layers: acts.layers };
}

/** The named layers of a dump, in the order asked ({@link namedLayers}). */
function selectLayers(file: string, acts: ActivationMatrix, names: string[]): ActivationMatrix {
  const { slices, layers } = namedLayers(file, acts.layers, names);
  const S = acts.samples;
  const neurons = layers.at(-1)?.end ?? 0;
  const data = new Float64Array(neurons * S);
  slices.forEach((s, i) =>
    data.set(acts.data.subarray(s.start * S, s.end * S), layers[i].start * S),
  );
  return { samples: S, neurons, data, layers };
}

/**
 * Analyses one model (run on a probe) or one activation dump, returning the report and the
 * raw off-diagonal MI values. See {@link analyze}. With `opts.measurements`, a measurement
 * kept there is returned as it was, and a new one is kept.
 */
export async function analyzeDetailed(
  source: string,
  probe: ProbeInput,
  opts: AnalyzeOptions = {},
): Promise<DetailedAnalysis> {
  const cache = opts.measurements;
  // A probe loaded elsewhere is keyed by its path: without one there is no key.
  const probePath = probe === null ? null : 'path' in probe ? probe.path : (opts.probe ?? null);
  if (cache === undefined || (probe !== null && probePath === null))
    return (await measureSource(source, probe, opts)).measured;
  const keys = await measurementKeys(source, probePath, opts);
  const kept = await cache.get(keys.asked);
  if (kept !== null) return kept;
  const { measured, defaultLayers } = await measureSource(source, probe, opts);
  // Kept under the layers asked for, those measured, and "default" when they are the default.
  const layers = measured.report.params.layers;
  const layerSets: (readonly string[] | null)[] = [layers];
  if (layers.join('\n') === defaultLayers.join('\n')) layerSets.push(null);
  const all = [keys.asked];
  for (const plan of interchangeablePlans(measured.report, opts))
    for (const l of layerSets) all.push(keys.measuredOn(l, plan));
  await cache.put([...new Set(all)], measured);
  return measured;
}

/**
 * The plan options a measurement of every pair also answers: a compare measures its first
 * model by the budget and the others under its plan, so a checkpoint measured either way
 * serves the other way when both measure every pair (the same numbers). A subset (cap or
 * sampled pairs) is kept only under the options that chose it.
 */
function interchangeablePlans(
  report: AnalysisReport,
  opts: AnalyzeOptions,
): Pick<AnalyzeOptions, 'miBudget' | 'sharedPlan'>[] {
  const asIs = [{ miBudget: opts.miBudget, sharedPlan: opts.sharedPlan }];
  const plan = report.miPlan;
  if (plan === undefined || plan.cap !== null || plan.sampledPairs !== null) return asIs;
  if (opts.miNeuronCap != null || opts.pairs != null) return asIs;
  const everyPair = {
    miBudget: opts.miBudget,
    sharedPlan: {
      cap: null,
      pairs: null,
      model: '',
      widths: report.layers.map((l) => l.neurons),
    },
  };
  // Every pair fits this budget too: a request planned by it would measure them all.
  const fits = plan.budgetSeconds === 0 || plan.allSeconds <= plan.budgetSeconds;
  return fits
    ? [...asIs, everyPair, { miBudget: opts.miBudget, sharedPlan: undefined }]
    : [...asIs, everyPair];
}

async function measureSource(
  source: string,
  probe: ProbeInput,
  opts: AnalyzeOptions,
): Promise<{ measured: DetailedAnalysis; defaultLayers: string[] }> {
  const t0 = performance.now();
  // Settings that measure() would refuse, refused before the capture.
  checkBins(opts.bins ?? 100);
  throwIfAborted(opts.signal);
  // Notices of the probe loader (a CSV header skipped, a subset larger than the set).
  const probeNotices: string[] = [];
  const notice = (m: string): void => void probeNotices.push(m);
  const k = opts.k ?? 3;
  const estimator = opts.estimator ?? 'ksg';
  // A merge has the MI from the parts, a single run over the memory budget computes it on the
  // MI columns alone; the rest comes band by band from a file: never the whole matrix. (A
  // shard measures here only a dump it reads whole, in memory: ./shardAnalysis.ts.)
  const shard = currentPairHook() !== undefined && !inMerge();
  const budget = shard ? Infinity : (opts.memoryBudget ?? DEFAULT_MEMORY_BUDGET_MB * 2 ** 20);
  const byColumns = (values: ColumnSource, layers: LayerSlice[], info: SourceInfo) => {
    const scan = scanDump(values, { k, estimator, dropNonfinite: false });
    const input = dumpMeasureInput(values, scan, layers);
    return measureValues(source, input, scan.measurable, info, probeNotices, opts, t0);
  };
  const inMemory = (acts: ActivationMatrix, info: SourceInfo) => {
    const measurable = neuronMiMeasurable(acts, k, estimator);
    return measureValues(source, matrixInput(acts), measurable, info, probeNotices, opts, t0);
  };
  if (!shard || !isActivationDump(source)) {
    const measured = await withSourceColumns(source, probe, opts, notice, byColumns, {
      openDump: inMerge() ? openDumpColumns : (file) => openLargeDump(file, budget),
      // A model's capture is held in memory within the budget, else streamed to a file.
      held: { budget, use: inMemory },
    });
    if (measured !== undefined) return measured;
  }
  const t1 = performance.now();
  const { acts, all } = await dumpActivations(source, opts);
  return inMemory(acts, dumpInfo(source, all, t1));
}

/** The analysis of `input` (the values of `source`, `measurable` marking the MI-measurable neurons). */
async function measureValues(
  source: string,
  input: MeasureInput,
  measurable: readonly boolean[],
  got: SourceInfo,
  probeNotices: readonly string[],
  opts: AnalyzeOptions,
  t0: number,
): Promise<{ measured: DetailedAnalysis; defaultLayers: string[] }> {
  const sha256 = await modelContentHash(got.modelPath);
  const plan = await planOf(input.samples, input.layers, measurable, opts);
  opts.onPlan?.(plan);
  const choice = planChoice(plan);
  const m = await measureInput(input, {
    bins: opts.bins ?? 100,
    binning: opts.binning ?? 'global',
    k: opts.k ?? 3,
    estimator: opts.estimator ?? 'ksg',
    miNeuronCap: choice.cap,
    pairs: choice.pairs,
    seed: opts.seed ?? 0,
    // A dump does not say where its values were taken: the ties warning then advises either way.
    point: isActivationDump(source) ? undefined : got.point,
    ...(opts.threads === undefined ? {} : { threads: opts.threads }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
  });
  const params: AnalysisParams = {
    bins: m.params.bins,
    binning: m.params.binning,
    k: m.params.k,
    estimator: m.params.estimator,
    samples: input.samples,
    seed: m.params.seed,
    point: got.point,
    layers: input.layers.map((l) => l.name),
    miNeuronCap: m.params.miNeuronCap,
    miPairs: m.params.miPairs,
    miKernel: m.mi.kernel,
    ...(got.imageScale === undefined ? {} : { imageScale: got.imageScale }),
  };
  const report: AnalysisReport = {
    schema: 'memlens.report',
    version: 1,
    createdAt: new Date().toISOString(),
    model: { path: got.modelPath, format: got.format, sha256 },
    probe: got.probeInfo,
    params,
    backend: got.backend,
    timing: {
      captureMs: got.captureMs,
      entropyMs: m.timing.entropyMs,
      miMs: m.timing.miMs,
      totalMs: performance.now() - t0,
    },
    warnings: [
      ...probeNotices.map((message) => ({ code: 'probe-notice' as const, message })),
      ...withPlanWarning(m.warnings, plan, params.seed),
    ],
    flags: loneModelFlags(m.summary, params.bins, m.hUninformative, m.layers),
    layers: m.layers,
    miPlan: plan,
    summary: m.summary,
  };
  const pairValues = offDiagonalMi(m.mi);
  if (plan.sampledPairs !== null)
    addMedianIntervals(plan, m, input.layers, pairValues, params.seed);
  return {
    measured: {
      report,
      pairValues,
      entropyLayerBinned: m.entropyLayerBinned,
      outputShape: got.outputShape,
    },
    defaultLayers: got.defaultLayers,
  };
}

/**
 * The MI plan of a measurement of S samples of `layers`, `measurable` marking the
 * MI-measurable neurons: the user's cap or pairs, else a shared plan that fits, else the
 * budget's.
 */
export function planOf(
  samples: number,
  layers: readonly LayerSlice[],
  measurable: readonly boolean[],
  opts: AnalyzeOptions,
): Promise<MiPlanReport> {
  const shared = opts.sharedPlan;
  const widths = layers.map((l) => l.end - l.start);
  const alike = shared !== undefined && shared.widths.join(',') === widths.join(',');
  return planForNeurons(samples, layers, measurable, {
    k: opts.k ?? 3,
    estimator: opts.estimator ?? 'ksg',
    threads: opts.threads ?? availableParallelism(),
    budgetSeconds: opts.miBudget ?? DEFAULT_MI_BUDGET_SECONDS,
    asked: { cap: opts.miNeuronCap ?? null, pairs: opts.pairs ?? null },
    ...(alike ? { shared: { cap: shared.cap, pairs: shared.pairs, model: shared.model } } : {}),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  });
}

/** The subset warning of a plan that chose one states the plan (why, what, the seed). */
function withPlanWarning(
  warnings: ReportWarning[],
  plan: MiPlanReport,
  seed: number,
): ReportWarning[] {
  const text = plan.mode === 'asked' ? null : planSummary(plan, seed);
  if (text === null) return warnings;
  return warnings.map((w) => (w.code === 'mi-subsampled' ? { ...w, message: text } : w));
}

/** Sampled pairs: the 95% bootstrap interval of each layer's median I and of the whole model's. */
function addMedianIntervals(
  plan: MiPlanReport,
  m: MeasureResult,
  layers: readonly LayerSlice[],
  pairValues: Float64Array,
  seed: number,
): void {
  layers.forEach((layer, i) => {
    const inLayer = m.mi.columns.filter((c) => c >= layer.start && c < layer.end);
    plan.layers[i].miMedianInterval = medianInterval(offDiagonalMi(m.mi, inLayer), seed);
  });
  plan.miMedianInterval = medianInterval(pairValues, seed);
}

/**
 * Measures one model or activation dump: captures the layers' activations on the probe
 * (pre-activation by default), then per-neuron binned entropy (nats, B equal-width bins over
 * the global range by default) and pairwise KSG-1 MI (k = 3, max-norm, nats), with per-layer
 * and whole-model summaries, warnings, timings, the content hash, and indicative lone-model
 * flags (a lone model has no verdict; see docs/report-schema.md). Cancellable; reports
 * progress of capture and measures.
 */
export async function analyze(source: string, opts: AnalyzeOptions = {}): Promise<AnalysisReport> {
  const probe = opts.probe === undefined ? null : { path: opts.probe };
  return (await analyzeDetailed(source, probe, opts)).report;
}
