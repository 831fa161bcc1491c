import { CancelledError, oneLine, UserError } from '../errors';
import { boxSummary, quantileSorted, sortedCopy } from '../measures/boxSummary';
import { loadProbe } from '../probe/loadProbe';
import type { ProbeSet } from '../probe/types';
import type {
  AnalysisParams,
  BoxSummary,
  CompareModel,
  CompareReference,
  CompareReport,
  LayerReport,
  RankingTarget,
  ReportWarning,
  Signature,
} from '../report/schema';
import { COHORT_REFERENCE } from '../report/schema';
import type { AnalyzeOptions, DetailedAnalysis, ProbeInput, SharedPlan } from './analyze';
import { isActivationDump } from '../dumps/dumpFiles';
import { analyzeDetailed, sharedPlanOf } from './analyze';
import { shardMeasure } from './shardAnalysis';
import { subsetNote } from './miPlan';
import type { MetricTable } from './metricCsv';
import { readMetricCsv } from './metricCsv';
import { perAxisOrderings, rankingFlag, rankingRuleText, rankModels } from './ranking';
import { comparability, groupAnchor } from './comparability';
import type { LayerPair } from './layerMapping';
import { mappingNote } from './layerMapping';
import { modelReference, pooledReference, signatureAgainst } from './reference';
import type { SignatureThresholds } from './signature';
import { DEFAULT_THRESHOLDS } from './signature';
import { modelName, sameModel } from '../capture/registry';
import { expandModelSources } from './sources';
import { spearman } from './spearman';
import { parseStep, trajectoryOf, trajectoryOnsets } from './trajectory';

export interface CompareOptions extends AnalyzeOptions {
  /** The baseline model (one of the models): the reference, before any other. */
  baseline?: string;
  /**
   * The reference when there is no baseline: one of the models (a trajectory's reference
   * checkpoint; default the earliest), or `cohort`: each model against the other comparable
   * models pooled, "relative to the cohort median". Without a baseline, a reference or a
   * trajectory there is none, and no signatures.
   */
  reference?: string;
  /**
   * Without a baseline, a reference or a trajectory: `none` (default), no signatures; or
   * `cohort`, the cohort median (the extension's Compare Models, whose reports say so).
   */
  fallback?: 'none' | 'cohort';
  /** A CSV of `model,<metric>` rows (e.g. OOD accuracy): Spearman of median H and I with it. */
  metricCsv?: string;
  /** Signature thresholds (defaults: 0.1 nats, x1.5, scale x1.5). */
  thresholds?: Partial<SignatureThresholds>;
  /** The failure mode the ranking guards against; without one, no ranking (per-axis orderings). */
  target?: RankingTarget;
  /** Bootstrap replicates of the MI-ratio interval (default 1000). */
  bootstrapReplicates?: number;
}

/** Models that have a metric need at least this many for a rank correlation. */
export const MIN_CORRELATION_MODELS = 3;

interface Outcome<R = DetailedAnalysis> {
  path: string;
  step: number | null;
  result?: R;
  /** Analysed, but not comparable with the reference's group: why. */
  notComparable?: string;
  /** Comparable once its layers were mapped onto the group's (some pair not by exact name). */
  layerMapping?: LayerPair[];
  error?: string;
}

/**
 * A measurement read under the group's layer names: its layers renamed by the pairs and put in
 * their order (the group's); the measured values are untouched.
 */
function renamedLayers(d: DetailedAnalysis, pairs: readonly LayerPair[]): DetailedAnalysis {
  const to = new Map(pairs.map((p) => [p.from, p.to]));
  const byName = new Map(d.report.layers.map((l) => [l.name, l]));
  const layers = pairs.map((p) => ({ ...(byName.get(p.from) as LayerReport), name: p.to }));
  const warnings = d.report.warnings.map((w) =>
    w.layer === undefined ? w : { ...w, layer: to.get(w.layer) ?? w.layer },
  );
  const params = { ...d.report.params, layers: pairs.map((p) => p.to) };
  return { ...d, report: { ...d.report, params, layers, warnings } };
}

function errorText(err: unknown): string {
  if (err instanceof UserError) return err.message;
  return `internal error: ${oneLine(err instanceof Error ? err.message : String(err))}`;
}

/** The models each metric row names; a row naming no model is a UserError. */
function matchMetrics(table: MetricTable, sources: string[]): (number | null)[] {
  const values: (number | null)[] = sources.map(() => null);
  const unknown: string[] = [];
  for (const row of table.rows) {
    const i = sources.findIndex(
      (s) => s === row.model || modelName(s) === row.model || sameModel(s, row.model),
    );
    if (i < 0) unknown.push(`${row.model} (line ${row.line})`);
    else values[i] = row.value;
  }
  if (unknown.length > 0) {
    throw new UserError(
      `${table.file}: names models that are not compared: ${unknown.join(', ')}; expected names among ${sources.map(modelName).join(', ')}`,
    );
  }
  const have = values.filter((v) => v !== null).length;
  if (have < MIN_CORRELATION_MODELS) {
    throw new UserError(
      `${table.file}: a rank correlation needs a metric for at least ${MIN_CORRELATION_MODELS} of the compared models, found ${have}`,
    );
  }
  return values;
}

/** The signature of a model that is not read against a reference, saying why. */
function noSignature(explanation: string): Signature {
  return {
    kind: 'none',
    deltaEntropy: NaN,
    notchesOverlap: true,
    miRatio: NaN,
    miRatioLow: NaN,
    miRatioHigh: NaN,
    reference: '',
    explanation,
  };
}

/** The reference model's own signature: none, ratio 1. */
function referenceSignature(label: string): Signature {
  return {
    kind: 'none',
    deltaEntropy: 0,
    notchesOverlap: true,
    miRatio: 1,
    miRatioLow: 1,
    miRatioHigh: 1,
    miComparison: 'ratio',
    miDifference: 0,
    miDifferenceLow: 0,
    miDifferenceHigh: 0,
    entropyDirection: 'equal',
    miDirection: 'equal',
    reference: label,
    explanation: `the reference: the other models are read against it (${label})`,
  };
}

const NAN_BOX: BoxSummary = boxSummary([]);

function failedModel(o: Outcome, metric: number | null): CompareModel {
  return {
    path: o.path,
    step: o.step,
    summary: {
      entropy: NAN_BOX,
      mi: { pairs: 0, median: NaN, mean: NaN, q1: NaN, q3: NaN },
      density: { components: [], bic: NaN, x: [], density: [] },
    },
    layers: [],
    signature: noSignature(`not analysed: ${o.error ?? ''}`),
    metric,
    error: o.error ?? 'not analysed',
  };
}

/** How the signatures will be read, decided from the options and the model names alone. */
interface ReferencePlan {
  mode: CompareReference['mode'];
  /** The reference model, for `baseline` and `checkpoint`. */
  path: string | null;
  initialisation: boolean;
  label: string;
  note?: string;
}

const INITIALISATION_NOTE =
  'relative to initialisation: training alone lowers H and raises I, so this shows how far training moved the model, not memorization as such';

function planReference(
  sources: readonly string[],
  steps: readonly (number | null)[],
  opts: CompareOptions,
): ReferencePlan {
  const find = (given: string, what: string): string => {
    const found = sources.find((s) => sameModel(s, given));
    if (found === undefined) {
      throw new UserError(
        `${given}: the ${what} is not among the compared models: expected one of ${sources.join(', ')}`,
      );
    }
    return found;
  };
  if (opts.baseline !== undefined) {
    const path = find(opts.baseline, 'baseline');
    return { mode: 'baseline', path, initialisation: false, label: path };
  }
  if (opts.reference === COHORT_REFERENCE) {
    return { mode: 'cohort', path: null, initialisation: false, label: 'the cohort median' };
  }
  const trajectory =
    steps.every((s) => s !== null) && new Set(steps).size === steps.length && steps.length >= 2;
  let path: string | null = null;
  if (opts.reference !== undefined) path = find(opts.reference, 'reference');
  else if (trajectory) {
    const earliest = Math.min(...(steps as number[]));
    path = sources[steps.indexOf(earliest)];
  }
  if (path === null) {
    return opts.fallback === 'cohort'
      ? { mode: 'cohort', path: null, initialisation: false, label: 'the cohort median' }
      : { mode: 'none', path: null, initialisation: false, label: 'no reference' };
  }
  if (!trajectory) return { mode: 'baseline', path, initialisation: false, label: path };
  const step = steps[sources.indexOf(path)];
  if (step === 0) {
    return {
      mode: 'checkpoint',
      path,
      initialisation: true,
      label: `initialisation (${path})`,
      note: INITIALISATION_NOTE,
    };
  }
  return {
    mode: 'checkpoint',
    path,
    initialisation: false,
    label: `the reference checkpoint ${path} (step ${step})`,
  };
}

const NO_REFERENCE =
  'no signature: no reference to read it against (a baseline, a reference checkpoint, or the cohort median)';

/** What a comparison reads before measuring: the models, the reference, metrics and probe. */
interface CompareSetup {
  sources: string[];
  steps: (number | null)[];
  plan: ReferencePlan;
  table: MetricTable | null;
  metrics: (number | null)[];
  probe: ProbeSet | null;
  /** Notices of the probe loader (a CSV header skipped ...), added to every model's warnings. */
  probeNotices: ReportWarning[];
}

async function compareSetup(
  inputs: readonly string[],
  opts: CompareOptions,
): Promise<CompareSetup> {
  if (opts.baseline !== undefined && opts.reference !== undefined) {
    throw new UserError(
      `${opts.reference}: a reference was named beside the baseline ${opts.baseline}: expected one of them (the baseline is the reference)`,
    );
  }
  const sources = await expandModelSources(inputs);
  if (sources.length < 2) {
    throw new UserError(
      `${inputs.join(' ')}: expected at least two models to compare, found ${sources.length}${sources.length === 1 ? ` (${sources[0]})` : ''}`,
    );
  }
  const steps = sources.map(parseStep);
  const plan = planReference(sources, steps, opts);
  const table = opts.metricCsv === undefined ? null : await readMetricCsv(opts.metricCsv);
  const metrics = table === null ? sources.map(() => null) : matchMetrics(table, sources);

  let probe: ProbeSet | null = null;
  const probeNotices: ReportWarning[] = [];
  if (sources.some((s) => !isActivationDump(s))) {
    if (opts.probe === undefined) {
      throw new UserError(
        `${sources.find((s) => !isActivationDump(s))}: models need probe inputs: expected --probe <file|folder>, found none`,
      );
    }
    probe = await loadProbe(opts.probe, {
      ...(opts.samples === undefined ? {} : { samples: opts.samples }),
      seed: opts.seed ?? 0,
      ...(opts.imageScale === undefined ? {} : { imageScale: opts.imageScale }),
      onWarning: (message) => probeNotices.push({ code: 'probe-notice', message }),
    });
  }

  return { sources, steps, plan, table, metrics, probe, probeNotices };
}

/** What the first model measured decides for the others: their layers and MI plan. */
type Decided = { layers: string[]; sharedPlan: SharedPlan };

/**
 * Measures the models with `measureOne`, the reference first: the others on its layers and
 * under the plan of the first measured (`decided`). A model that fails is recorded with its
 * error (measured again on its own layers when the layers were another model's); a reference
 * that fails is a UserError.
 */
async function measureModels<R>(
  setup: CompareSetup,
  opts: CompareOptions,
  measureOne: (source: string, probe: ProbeInput, opts: AnalyzeOptions) => Promise<R>,
  decided: (result: R) => Decided,
): Promise<Outcome<R>[]> {
  const { sources, steps, plan, probe } = setup;
  // The reference model first: the other models are measured on its layers.
  const order = sources.map((_, i) => i);
  if (plan.path !== null) {
    const b = sources.indexOf(plan.path);
    order.splice(order.indexOf(b), 1);
    order.unshift(b);
  }
  const outcomes: Outcome<R>[] = sources.map((p, i) => ({ path: p, step: steps[i] }));
  let forcedLayers: string[] | undefined = opts.layers;
  // The first model measured sets the MI plan of the others (like with like, not each its own).
  let sharedPlan: SharedPlan | undefined;
  for (const [done, i] of order.entries()) {
    const o = outcomes[i];
    const run = (layers: string[] | undefined): Promise<R> =>
      measureOne(o.path, probe === null ? null : { loaded: probe }, {
        ...opts,
        ...(layers === undefined ? {} : { layers }),
        ...(sharedPlan === undefined ? {} : { sharedPlan }),
        onProgress: (p) =>
          opts.onProgress?.({
            ...p,
            detail: `${modelName(o.path)} (model ${done + 1} of ${sources.length})${p.detail === undefined ? '' : `: ${p.detail}`}`,
          }),
      });
    try {
      o.result = await run(forcedLayers);
      const first = decided(o.result);
      forcedLayers ??= first.layers;
      sharedPlan ??= first.sharedPlan;
    } catch (err) {
      if (err instanceof CancelledError) throw err;
      o.error = errorText(err);
      // Layers taken from another model may not exist in this one: measured on its own
      // layers, it is checked like with like below (its layers may still map onto the
      // group's by position and width) rather than failed.
      if (forcedLayers !== undefined && opts.layers === undefined) {
        try {
          o.result = await run(undefined);
          delete o.error;
        } catch (again) {
          if (again instanceof CancelledError) throw again;
        }
      }
    }
    if (o.path === plan.path && o.error !== undefined) {
      throw new UserError(
        `${o.path}: the ${plan.mode === 'baseline' ? 'baseline' : 'reference checkpoint'} could not be analysed: ${o.error}`,
      );
    }
  }

  return outcomes;
}

/**
 * A shard of {@link compare}: the running shard's tile of each model's MI job, the models
 * measured as compare measures them (shardMeasure). Returns whether any model was measured.
 */
export async function compareShard(
  inputs: readonly string[],
  opts: CompareOptions = {},
): Promise<boolean> {
  const setup = await compareSetup(inputs, opts);
  const outcomes = await measureModels(setup, opts, shardMeasure, (r) => r);
  return outcomes.some((o) => o.result !== undefined);
}

/**
 * Compares models on one shared probe subset with one bin rule (B bins, each model binned
 * over its own global range: see docs/report-schema.md). Signatures are read only where the
 * paper's logic applies:
 * - against a named reference: the baseline; else the reference checkpoint of a trajectory
 *   (every model name carries a distinct step; by default the earliest, an initialisation at
 *   step 0 said so); else, asked for, the cohort median (the other comparable models pooled);
 *   with none of these, no signatures. The reference itself gets none.
 * - like with like: only the models comparable with the reference's group (same measured
 *   layers and widths, same output shape, same probe: ./comparability) get signatures and
 *   ranks; the others are listed as not comparable, with why. A model whose layers match the
 *   group's only once mapped (./layerMapping: `/fc1/Gemm` as `fc1`, or by position and
 *   width) is read under the group's layer names, its mapping recorded and said.
 * The evidence is delta median H with notch overlap (and, where the bin ranges differ in
 * scale, the same under per-layer bins) and the median-I ratio with a bootstrap interval.
 * With a target, a ranking (./ranking); always the per-axis orderings, Spearman correlations
 * with a metric CSV, and a trajectory with the onsets of signatures. A model that fails is
 * reported with its error and the others complete.
 */
export async function compare(
  inputs: readonly string[],
  opts: CompareOptions = {},
): Promise<CompareReport> {
  const setup = await compareSetup(inputs, opts);
  const { sources, steps, plan, table, metrics, probe, probeNotices } = setup;
  const outcomes = await measureModels(setup, opts, analyzeDetailed, (r) => ({
    layers: r.report.params.layers,
    sharedPlan: sharedPlanOf(r.report),
  }));

  // Like with like: the group comparable with the reference (or the largest group).
  const measured = outcomes.filter((o) => o.result !== undefined && o.notComparable === undefined);
  const anchor = groupAnchor(
    measured.map((o) => ({ path: o.path, result: o.result as DetailedAnalysis })),
    plan.path,
  );
  if (anchor !== null) {
    for (const o of measured) {
      const c = comparability({ path: o.path, result: o.result as DetailedAnalysis }, anchor);
      if ('why' in c) o.notComparable = c.why;
      else if (c.pairs.some((p) => p.how !== 'exact')) {
        // Read under the group's names: the mapping is recorded and said.
        o.layerMapping = c.pairs;
        o.result = renamedLayers(o.result as DetailedAnalysis, c.pairs);
      }
    }
  }
  const comparable = outcomes.filter(
    (o) => o.result !== undefined && o.notComparable === undefined,
  );

  const thresholds: SignatureThresholds = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
  const seed = opts.seed ?? 0;
  const bins = opts.bins ?? 100;
  const bootstrap = { replicates: opts.bootstrapReplicates ?? 1000, seed };
  const refOutcome = comparable.find((o) => o.path === plan.path);
  const refMeasures =
    refOutcome === undefined
      ? null
      : modelReference(
          (refOutcome.result as DetailedAnalysis).report,
          (refOutcome.result as DetailedAnalysis).pairValues,
          plan.label,
          plan.note,
        );
  const signatureOfModel = (o: Outcome): Signature => {
    const sig = signatureRead(o);
    const read = o.notComparable === undefined && o.path !== plan.path && o.result !== undefined;
    const notes = [
      o.layerMapping === undefined ? null : mappingNote(o.layerMapping),
      read ? subsetNote((o.result as DetailedAnalysis).report.params) : null,
    ].filter((n) => n !== null);
    return notes.length === 0
      ? sig
      : { ...sig, explanation: [sig.explanation, ...notes].join('; ') };
  };
  const signatureRead = (o: Outcome): Signature => {
    if (o.notComparable !== undefined) return noSignature(`not comparable: ${o.notComparable}`);
    if (o.path === plan.path) return referenceSignature(plan.label);
    const mine = o.result as DetailedAnalysis;
    if (plan.mode === 'cohort') {
      const rest = comparable.filter((x) => x !== o).map((x) => x.result as DetailedAnalysis);
      if (rest.length === 0) {
        return noSignature('no signature: no other comparable model to form a cohort median');
      }
      const label = `the cohort median (${rest.length} other model${rest.length === 1 ? '' : 's'} pooled)`;
      return signatureAgainst(mine, pooledReference(rest, bins, label), thresholds, bootstrap);
    }
    if (refMeasures === null) return noSignature(NO_REFERENCE);
    return signatureAgainst(mine, refMeasures, thresholds, bootstrap);
  };

  const models: CompareModel[] = outcomes.map((o, i) => {
    if (o.result === undefined) return failedModel(o, metrics[i]);
    const { report } = o.result;
    return {
      path: o.path,
      step: o.step,
      summary: report.summary,
      layers: report.layers,
      signature: signatureOfModel(o),
      metric: metrics[i],
      warnings: isActivationDump(o.path) ? report.warnings : [...probeNotices, ...report.warnings],
      ...(report.miPlan === undefined ? {} : { miPlan: report.miPlan }),
      ...(o.result.outputShape === null ? {} : { outputShape: o.result.outputShape }),
      ...(o.notComparable === undefined ? {} : { notComparable: o.notComparable }),
      ...(o.layerMapping === undefined ? {} : { layerMapping: o.layerMapping }),
    };
  });

  const comparableModels = models.filter(
    (m) => m.error === undefined && m.notComparable === undefined,
  );
  const candidates = comparableModels.filter((m) => m.path !== plan.path);
  const medians = (m: CompareModel): { path: string; entropyMedian: number; miMedian: number } => ({
    path: m.path,
    entropyMedian: m.summary.entropy.median,
    miMedian: m.summary.mi.median,
  });
  const flagsApply = plan.mode === 'baseline' || plan.mode === 'checkpoint';
  const target = opts.target ?? null;
  const ranking =
    target === null
      ? []
      : rankModels(
          candidates.map((m) => ({
            ...medians(m),
            flag: flagsApply ? rankingFlag(target, m.signature) : null,
          })),
          target,
        );
  const withMetric = comparableModels.filter((m) => m.metric !== null);
  const correlation =
    table === null
      ? null
      : {
          metric: table.metric,
          entropySpearman: spearman(
            withMetric.map((m) => m.summary.entropy.median),
            withMetric.map((m) => m.metric as number),
          ),
          miSpearman: spearman(
            withMetric.map((m) => m.summary.mi.median),
            withMetric.map((m) => m.metric as number),
          ),
        };
  const trajectory = outcomes.every((o) => o.step !== null)
    ? trajectoryOf(comparableModels.map((m) => ({ ...medians(m), step: m.step })))
    : null;
  const refStep = plan.path === null ? null : steps[sources.indexOf(plan.path)];
  const onsets =
    trajectory === null || !flagsApply
      ? []
      : trajectoryOnsets(
          candidates
            .filter((m) => refStep === null || (m.step as number) > refStep)
            .map((m) => ({ step: m.step as number, path: m.path, kind: m.signature.kind }))
            .sort((a, b) => a.step - b.step),
        );

  const first = (refOutcome ?? comparable[0] ?? outcomes.find((o) => o.result))?.result?.report;
  const params: AnalysisParams = first?.params ?? {
    bins,
    binning: opts.binning ?? 'global',
    k: opts.k ?? 3,
    estimator: opts.estimator ?? 'ksg',
    samples: probe?.shape[0] ?? 0,
    seed,
    point: opts.point ?? 'preactivation',
    layers: opts.layers ?? [],
    miNeuronCap: opts.miNeuronCap ?? null,
    miPairs: opts.pairs ?? null,
  };
  return {
    schema: 'memlens.compare',
    version: 2,
    createdAt: new Date().toISOString(),
    probe: probe === null ? null : { path: probe.source, samples: probe.shape[0] },
    params,
    baseline: plan.mode === 'baseline' ? plan.path : null,
    reference: referenceOf(plan, comparable, bins),
    thresholds,
    models,
    target,
    ranking,
    rankingRule: rankingRuleText(target, flagsApply),
    orderings: perAxisOrderings(candidates.map(medians)),
    correlation,
    trajectory,
    onsets,
  };
}

/**
 * The reference in the report, with the medians the compare chart draws its quadrants
 * around: the reference model's; in cohort mode every comparable model pooled (each model's
 * own signature leaves that model out of the pool); NaN without a reference.
 */
function referenceOf(
  plan: ReferencePlan,
  comparable: readonly Outcome[],
  bins: number,
): CompareReference {
  const base = {
    mode: plan.mode,
    path: plan.path,
    initialisation: plan.initialisation,
    label: plan.label,
  };
  const results = comparable.map((o) => o.result as DetailedAnalysis);
  if (plan.mode === 'cohort' && results.length > 0) {
    const pooled = pooledReference(results, bins, plan.label);
    return {
      ...base,
      entropyMedian: pooled.entropy.median,
      miMedian:
        pooled.pairValues.length === 0 ? NaN : quantileSorted(sortedCopy(pooled.pairValues), 0.5),
    };
  }
  const ref = comparable.find((o) => o.path === plan.path)?.result;
  return {
    ...base,
    entropyMedian: ref?.report.summary.entropy.median ?? NaN,
    miMedian: ref?.report.summary.mi.median ?? NaN,
  };
}
