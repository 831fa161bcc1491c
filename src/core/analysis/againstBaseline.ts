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
import { analyzeDetailed } from './analyze';
import { notComparableReason } from './comparability';
import { modelReference, signatureAgainst } from './reference';
import type { SignatureThresholds } from './signature';
import { DEFAULT_THRESHOLDS } from './signature';

export interface BaselineOptions extends AnalyzeOptions {
  thresholds?: Partial<SignatureThresholds>;
  /** Bootstrap replicates of the median-I interval (default 1,000). */
  bootstrapReplicates?: number;
}

export interface BaselineAnalysis {
  /** The model's report, carrying the signature and the baseline-signature flag. */
  report: AnalysisReport;
  signature: Signature;
  /** The baseline's own report, measured on the model's layers (for charts beside the model's). */
  baselineReport: AnalysisReport;
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
    });
  } catch (err) {
    if (err instanceof CancelledError || !(err instanceof UserError)) throw err;
    throw new UserError(
      `${baseline}: the baseline must have the layers of ${source} (${layers.join(', ')}): ${err.message}`,
    );
  }
  const why = notComparableReason(
    { path: baseline, result: theirs },
    { path: source, result: mine },
  );
  if (why !== null) {
    throw new UserError(`${baseline}: the baseline is not comparable with ${source}: ${why}`);
  }
  const thresholds = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
  const signature = signatureAgainst(
    mine,
    modelReference(theirs.report, theirs.pairValues, baseline),
    thresholds,
    { replicates: opts.bootstrapReplicates ?? 1000, seed: opts.seed ?? 0 },
  );
  return {
    report: withSignatureFlag(mine.report, signature, thresholds),
    signature,
    baselineReport: theirs.report,
  };
}
