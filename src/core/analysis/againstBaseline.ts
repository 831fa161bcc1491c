/**
 * One model read against a baseline of the same architecture: both measured on the same probe
 * and layers (the baseline on the model's), checked like with like, and the model's signature
 * read as `compare` reads one against its baseline: delta median H with notches (and the
 * scale check), the median-I ratio with a seeded bootstrap interval.
 */
import { modelName, sameModel } from '../capture/registry';
import { isActivationDump } from '../dumps/dumpFiles';
import { CancelledError, UserError } from '../errors';
import type { AnalysisReport, Signature } from '../report/schema';
import { withSignatureFlag } from '../report/signatureText';
import type { AnalyzeOptions } from './analyze';
import { analyzeDetailed, sharedPlanOf } from './analyze';
import { subsetNote } from './miPlan';
import { notComparableReason } from './comparability';
import { modelReference, signatureAgainst } from './reference';
import type { SignatureThresholds } from './signature';
import { DEFAULT_THRESHOLDS } from './signature';

export interface BaselineOptions extends AnalyzeOptions {
  thresholds?: Partial<SignatureThresholds>;
  /** Bootstrap replicates of the median-I interval (default 1,000). */
  bootstrapReplicates?: number;
  /**
   * A baseline that turns out not comparable after measuring (other layers, widths, outputs):
   * `refuse` (default) throws; `alone` keeps the model's measurement and reads it alone, with
   * a flag saying why (a workspace-wide baseline meets models of other architectures).
   */
  notComparable?: 'refuse' | 'alone';
}

export interface BaselineAnalysis {
  /** The model's report, carrying the signature and the baseline-signature flag. */
  report: AnalysisReport;
  /** Null only with `notComparable: 'alone'` when the baseline could not serve. */
  signature: Signature | null;
  /** The baseline's own report, measured on the model's layers (for charts beside the model's). */
  baselineReport: AnalysisReport | null;
}

/** The model read alone, flagged with why the baseline could not serve. */
function readAlone(report: AnalysisReport, baseline: string, why: string): BaselineAnalysis {
  const flag = {
    code: 'baseline-not-comparable',
    message: `the baseline ${baseline} is not comparable with this model (${why}): read alone, without a signature`,
    threshold: 'same measured layers, widths, outputs and probe',
  };
  return {
    report: { ...report, flags: [flag, ...report.flags] },
    signature: null,
    baselineReport: null,
  };
}

/**
 * Refuses, before any work, a baseline that is the model itself or a model without a probe.
 */
export function checkBaseline(source: string, baseline: string, opts: AnalyzeOptions): void {
  if (sameModel(source, baseline)) {
    throw new UserError(
      `${baseline}: the baseline is the analysed model itself: expected another model of its architecture`,
    );
  }
  if (!isActivationDump(baseline) && opts.probe === undefined) {
    throw new UserError(
      `${baseline}: the baseline is a model, which runs on probe inputs: expected probe data, found none`,
    );
  }
}

/** The refusal of a baseline that could not be measured on the model's layers. */
export function baselineLayersError(
  source: string,
  baseline: string,
  layers: readonly string[],
  err: UserError,
): UserError {
  return new UserError(
    `${baseline}: the baseline must have the layers of ${source} (${layers.join(', ')}): ${err.message}`,
  );
}

/**
 * Analyses `source` and `baseline` (a dump against a dump of the same layers, or anything
 * against a model run on the same probe) and reads the signature. Refused before any work
 * when the baseline is the model itself or a model without a probe; refused after measuring
 * when the two are not comparable (other layers, widths, outputs or sample counts).
 */
export async function analyzeAgainstBaseline(
  source: string,
  baseline: string,
  opts: BaselineOptions = {},
): Promise<BaselineAnalysis> {
  checkBaseline(source, baseline, opts);
  const probe = opts.probe === undefined ? null : { path: opts.probe };
  // Progress names the model it is about, as a compare's does (the model may come from the
  // measurement cache, and then reports nothing).
  const { onProgress } = opts;
  const naming = (file: string, i: number): BaselineOptions =>
    onProgress === undefined
      ? opts
      : {
          ...opts,
          onProgress: (p) =>
            onProgress({
              ...p,
              detail: `${modelName(file)} (model ${i} of 2)${p.detail === undefined ? '' : `: ${p.detail}`}`,
            }),
        };
  const mine = await analyzeDetailed(source, probe, naming(source, 1));
  const layers = mine.report.params.layers;
  let theirs;
  try {
    theirs = await analyzeDetailed(baseline, isActivationDump(baseline) ? null : probe, {
      ...naming(baseline, 2),
      layers,
      // Measured under the model's MI plan, so the two compare like with like.
      sharedPlan: sharedPlanOf(mine.report),
    });
  } catch (err) {
    if (err instanceof CancelledError || !(err instanceof UserError)) throw err;
    if (opts.notComparable === 'alone')
      return readAlone(mine.report, baseline, `it lacks the layers ${layers.join(', ')}`);
    throw baselineLayersError(source, baseline, layers, err);
  }
  const why = notComparableReason(
    { path: baseline, result: theirs },
    { path: source, result: mine },
  );
  if (why !== null) {
    if (opts.notComparable === 'alone') return readAlone(mine.report, baseline, why);
    throw new UserError(`${baseline}: the baseline is not comparable with ${source}: ${why}`);
  }
  const thresholds = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
  const read = signatureAgainst(
    mine,
    modelReference(theirs.report, theirs.pairValues, baseline),
    thresholds,
    { replicates: opts.bootstrapReplicates ?? 1000, seed: opts.seed ?? 0 },
  );
  const note = subsetNote(mine.report.params);
  const signature = note === null ? read : { ...read, explanation: `${read.explanation}; ${note}` };
  return {
    report: withSignatureFlag(mine.report, signature, thresholds),
    signature,
    baselineReport: theirs.report,
  };
}
