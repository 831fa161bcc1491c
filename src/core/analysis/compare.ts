import { CancelledError, oneLine, UserError } from '../errors';
import { boxSummary, entropyBoxSummary, quantileSorted, sortedCopy } from '../measures/boxSummary';
import { loadProbe } from '../probe/loadProbe';
import type { ProbeSet } from '../probe/types';
import type {
  AnalysisParams,
  AnalysisReport,
  BoxSummary,
  CompareModel,
  CompareReport,
  ReportWarning,
  Signature,
} from '../report/schema';
import type { AnalyzeOptions, DetailedAnalysis } from './analyze';
import { isActivationDump } from '../dumps/dumpFiles';
import { analyzeDetailed } from './analyze';
import { medianRatioInterval } from './bootstrap';
import type { MetricTable } from './metricCsv';
import { readMetricCsv } from './metricCsv';
import type { RankingRule } from './ranking';
import { RANKING_RULE_TEXT, rankModels } from './ranking';
import type { SignatureThresholds } from './signature';
import { DEFAULT_THRESHOLDS, signatureOf } from './signature';
import { modelName, sameModel } from '../capture/registry';
import { expandModelSources } from './sources';
import { spearman } from './spearman';
import { parseStep, trajectoryOf } from './trajectory';

export interface CompareOptions extends AnalyzeOptions {
  /** The reference model (one of the models); default: for each model, the rest of the cohort. */
  baseline?: string;
  /** A CSV of `model,<metric>` rows (e.g. OOD accuracy): Spearman of median H and I with it. */
  metricCsv?: string;
  /** Signature thresholds (defaults: 0.1 nats, x1.5). */
  thresholds?: Partial<SignatureThresholds>;
  /** Ranking rule (default 'shortcut'). */
  ranking?: RankingRule;
  /** Bootstrap replicates of the MI-ratio interval (default 1000). */
  bootstrapReplicates?: number;
}

/** Models that have a metric need at least this many for a rank correlation. */
export const MIN_CORRELATION_MODELS = 3;

interface Outcome {
  path: string;
  step: number | null;
  result?: DetailedAnalysis;
  error?: string;
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

/** Checks a model's measured layers against the reference's: same names, same widths. */
function architectureMismatch(
  report: AnalysisReport,
  reference: AnalysisReport,
  refPath: string,
): string | null {
  const mine = report.layers.map((l) => `${l.name} (${l.neurons})`).join(', ');
  const theirs = reference.layers.map((l) => `${l.name} (${l.neurons})`).join(', ');
  return mine === theirs
    ? null
    : `different architecture: measured layers ${mine}, expected those of ${refPath}: ${theirs}`;
}

/** The signature of a model that has no reference to be read against, saying why. */
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

function allEntropies(r: AnalysisReport): number[] {
  return r.layers.flatMap((l) => l.entropies);
}

function concat(arrays: Float64Array[]): Float64Array {
  const out = new Float64Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/**
 * Compares a cohort of models of the same architecture on one shared probe subset with one
 * bin rule (B bins, each model binned over its own global range: see docs/report-schema.md).
 * Each model gets a memorization signature against the baseline, or without one against the
 * rest of the cohort pooled (per-neuron entropies and MI pair values of the other models);
 * the evidence is delta median H with notch overlap and the median-I ratio with a bootstrap
 * interval. Also: a ranking (documented rule), Spearman correlations with a metric CSV, and
 * a trajectory when every model name carries a distinct step. A model that fails is reported
 * with its error and the others complete.
 */
export async function compare(
  inputs: readonly string[],
  opts: CompareOptions = {},
): Promise<CompareReport> {
  const sources = await expandModelSources(inputs);
  if (sources.length < 2) {
    throw new UserError(
      `${inputs.join(' ')}: expected at least two models to compare, found ${sources.length}${sources.length === 1 ? ` (${sources[0]})` : ''}`,
    );
  }
  let baseline: string | null = null;
  if (opts.baseline !== undefined) {
    baseline = sources.find((s) => sameModel(s, opts.baseline as string)) ?? null;
    if (baseline === null) {
      throw new UserError(
        `${opts.baseline}: the baseline is not among the compared models: expected one of ${sources.join(', ')}`,
      );
    }
  }
  const table = opts.metricCsv === undefined ? null : await readMetricCsv(opts.metricCsv);
  const metrics = table === null ? sources.map(() => null) : matchMetrics(table, sources);

  let probe: ProbeSet | null = null;
  // Notices of the probe loader (a CSV header skipped ...), added to every model's warnings.
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
      onWarning: (message) => probeNotices.push({ code: 'probe-notice', message }),
    });
  }

  // The baseline first: its measured layers are what the other models are matched against.
  const order = sources.map((_, i) => i);
  if (baseline !== null) {
    const b = sources.indexOf(baseline);
    order.splice(order.indexOf(b), 1);
    order.unshift(b);
  }
  const outcomes: Outcome[] = sources.map((p) => ({ path: p, step: parseStep(p) }));
  let reference: { report: AnalysisReport; path: string } | null = null;
  for (const [done, i] of order.entries()) {
    const o = outcomes[i];
    const layers = opts.layers ?? reference?.report.params.layers;
    try {
      const result = await analyzeDetailed(o.path, probe === null ? null : { loaded: probe }, {
        ...opts,
        ...(layers === undefined ? {} : { layers }),
        onProgress: (p) =>
          opts.onProgress?.({
            ...p,
            detail: `${modelName(o.path)} (model ${done + 1} of ${sources.length})${p.detail === undefined ? '' : `: ${p.detail}`}`,
          }),
      });
      const mismatch =
        reference === null
          ? null
          : architectureMismatch(result.report, reference.report, reference.path);
      if (mismatch !== null) o.error = mismatch;
      else {
        o.result = result;
        reference ??= { report: result.report, path: o.path };
      }
    } catch (err) {
      if (err instanceof CancelledError) throw err;
      o.error = errorText(err);
    }
    if (baseline !== null && o.path === baseline && o.error !== undefined) {
      throw new UserError(`${baseline}: the baseline could not be analysed: ${o.error}`);
    }
  }

  const thresholds: SignatureThresholds = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
  const ok = outcomes.filter((o) => o.result !== undefined);
  const seed = opts.seed ?? 0;
  const models: CompareModel[] = outcomes.map((o, i) => {
    if (o.result === undefined) return failedModel(o, metrics[i]);
    const { report } = o.result;
    return {
      path: o.path,
      step: o.step,
      summary: report.summary,
      layers: report.layers,
      signature: signatureFor(
        o,
        ok,
        baseline,
        thresholds,
        opts.bootstrapReplicates ?? 1000,
        seed,
        opts.bins ?? 100,
      ),
      metric: metrics[i],
      warnings: isActivationDump(o.path) ? report.warnings : [...probeNotices, ...report.warnings],
    };
  });

  const done = models.filter((m) => m.error === undefined);
  const rule = opts.ranking ?? 'shortcut';
  const ranking = rankModels(
    done.map((m) => ({
      path: m.path,
      entropyMedian: m.summary.entropy.median,
      miMedian: m.summary.mi.median,
    })),
    rule,
  );
  const withMetric = done.filter((m) => m.metric !== null);
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
    ? trajectoryOf(
        done.map((m) => ({
          path: m.path,
          step: m.step,
          entropyMedian: m.summary.entropy.median,
          miMedian: m.summary.mi.median,
        })),
      )
    : null;

  const first = reference?.report;
  const params: AnalysisParams = first?.params ?? {
    bins: opts.bins ?? 100,
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
    version: 1,
    createdAt: new Date().toISOString(),
    probe: probe === null ? null : { path: probe.source, samples: probe.shape[0] },
    params,
    baseline,
    thresholds,
    models,
    ranking,
    rankingRule: RANKING_RULE_TEXT[rule],
    correlation,
    trajectory,
    reference: referencePoint(ok, baseline),
  };
}

/**
 * The medians the signatures are read against, for the compare chart's quadrants: the
 * baseline's, or without one the medians of the whole cohort pooled (every model's
 * per-neuron entropies and MI pair values; each model's own signature leaves that model out
 * of the pool). Null when no model, or no MI pair, was analysed.
 */
function referencePoint(ok: Outcome[], baseline: string | null): CompareReport['reference'] {
  const results = ok.map((o) => o.result as DetailedAnalysis);
  if (results.length === 0) return null;
  if (baseline !== null) {
    const base = ok.find((o) => o.path === baseline)?.result;
    if (base === undefined) return null;
    return {
      label: 'baseline',
      entropyMedian: base.report.summary.entropy.median,
      miMedian: base.report.summary.mi.median,
    };
  }
  const pairs = sortedCopy(concat(results.map((r) => r.pairValues)));
  if (pairs.length === 0) return null;
  return {
    label: 'pooled cohort',
    entropyMedian: boxSummary(results.flatMap((r) => allEntropies(r.report))).median,
    miMedian: quantileSorted(pairs, 0.5),
  };
}

function signatureFor(
  o: Outcome,
  ok: Outcome[],
  baseline: string | null,
  thresholds: SignatureThresholds,
  replicates: number,
  seed: number,
  bins: number,
): Signature {
  const mine = o.result as DetailedAnalysis;
  let refEntropy: BoxSummary;
  let refPairs: Float64Array;
  let refName: string;
  if (baseline !== null) {
    const base = ok.find((x) => x.path === baseline)?.result as DetailedAnalysis;
    if (o.path === baseline) {
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
        reference: baseline,
        explanation: 'the baseline: the reference the other models are compared with',
      };
    }
    refEntropy = base.report.summary.entropy;
    refPairs = base.pairValues;
    refName = baseline;
  } else {
    const rest = ok.filter((x) => x !== o).map((x) => x.result as DetailedAnalysis);
    if (rest.length === 0) {
      return noSignature('no signature: no other model of the cohort was analysed to compare with');
    }
    refEntropy = entropyBoxSummary(
      rest.flatMap((r) => allEntropies(r.report)),
      bins,
    );
    refPairs = concat(rest.map((r) => r.pairValues));
    refName = `rest of cohort (${rest.length} model${rest.length === 1 ? '' : 's'} pooled)`;
  }
  const mi = medianRatioInterval(mine.pairValues, refPairs, { replicates, seed });
  return signatureOf(
    { entropy: mine.report.summary.entropy, referenceEntropy: refEntropy, mi, reference: refName },
    thresholds,
  );
}
