import { entropyBoxSummary, quantileSorted, sortedCopy } from '../measures/boxSummary';
import type { AnalysisReport, BoxSummary, Signature, ValueRange } from '../report/schema';
import type { DetailedAnalysis } from './analyze';
import { medianRatioInterval } from './bootstrap';
import type { SignatureThresholds } from './signature';
import { signatureOf } from './signature';

/** What a signature is read against: a reference model's measures, or a pooled cohort's. */
export interface ReferenceMeasures {
  /** The reference in words ("the baseline x", "the cohort median (3 other models pooled)"). */
  label: string;
  /** Said after every explanation read against it (e.g. that it is an initialisation). */
  note?: string;
  entropy: BoxSummary;
  pairValues: Float64Array;
  /** Under global binning: the bin range and the per-layer-binned entropies (scale check). */
  range?: ValueRange;
  entropyLayerBinned?: BoxSummary;
}

/** A reference model's measures, from its report and pair values. */
export function modelReference(
  report: AnalysisReport,
  pairValues: Float64Array,
  label: string,
  note?: string,
): ReferenceMeasures {
  const { entropy, range, entropyLayerBinned } = report.summary;
  return {
    label,
    ...(note === undefined ? {} : { note }),
    entropy,
    pairValues,
    ...(range === undefined ? {} : { range }),
    ...(entropyLayerBinned === undefined ? {} : { entropyLayerBinned }),
  };
}

const median = (values: number[]): number => quantileSorted(sortedCopy(values), 0.5);

function concat(arrays: ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/**
 * The cohort median as a reference: every given model's per-neuron entropies and MI pair
 * values pooled; its bin range is the median of the models' lower and upper ends.
 */
export function pooledReference(
  models: readonly DetailedAnalysis[],
  bins: number,
  label: string,
): ReferenceMeasures {
  const entropies = models.flatMap((m) => m.report.layers.flatMap((l) => l.entropies));
  const ref: ReferenceMeasures = {
    label,
    entropy: entropyBoxSummary(entropies, bins),
    pairValues: concat(models.map((m) => m.pairValues)),
  };
  const ranges = models.map((m) => m.report.summary.range);
  const layerBinned = models.map((m) => m.entropyLayerBinned);
  if (ranges.every((r) => r !== undefined) && layerBinned.every((e) => e !== null)) {
    ref.range = { min: median(ranges.map((r) => r.min)), max: median(ranges.map((r) => r.max)) };
    ref.entropyLayerBinned = entropyBoxSummary(concat(layerBinned), bins);
  }
  return ref;
}

/**
 * A model's signature against a reference: the MI comparison (bootstrap interval) and, under
 * global binning, the scale check (see signatureOf).
 */
export function signatureAgainst(
  mine: { report: AnalysisReport; pairValues: Float64Array },
  ref: ReferenceMeasures,
  thresholds: SignatureThresholds,
  bootstrap: { replicates: number; seed: number },
): Signature {
  const { entropy, range, entropyLayerBinned } = mine.report.summary;
  const mi = medianRatioInterval(mine.pairValues, ref.pairValues, bootstrap);
  const scaleCheck =
    range !== undefined &&
    entropyLayerBinned !== undefined &&
    ref.range !== undefined &&
    ref.entropyLayerBinned !== undefined;
  return signatureOf(
    {
      entropy,
      referenceEntropy: ref.entropy,
      mi,
      reference: ref.label,
      ...(ref.note === undefined ? {} : { referenceNote: ref.note }),
      ...(scaleCheck
        ? {
            scale: {
              range,
              referenceRange: ref.range as ValueRange,
              entropyLayerBinned,
              referenceEntropyLayerBinned: ref.entropyLayerBinned as BoxSummary,
            },
          }
        : {}),
    },
    thresholds,
  );
}
