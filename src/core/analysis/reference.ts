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
  /** Per-neuron entropies by layer, to read H without the layers where it is uninformative. */
  layerEntropies?: { name: string; entropies: number[] }[];
  /** Layers whose H is uninformative under global bins (the `h-uninformative` warning). */
  uninformative?: string[];
}

/** The layers of a report whose H is uninformative under global bins. */
export function uninformativeLayers(report: AnalysisReport): string[] {
  return report.warnings
    .filter((w) => w.code === 'h-uninformative' && w.layer !== undefined)
    .map((w) => w.layer as string);
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
    layerEntropies: report.layers.map((l) => ({ name: l.name, entropies: l.entropies })),
    uninformative: uninformativeLayers(report),
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
  const byLayer = new Map<string, number[]>();
  for (const m of models)
    for (const l of m.report.layers)
      byLayer.set(l.name, [...(byLayer.get(l.name) ?? []), ...l.entropies]);
  const ref: ReferenceMeasures = {
    label,
    entropy: entropyBoxSummary(entropies, bins),
    pairValues: concat(models.map((m) => m.pairValues)),
    layerEntropies: [...byLayer].map(([name, e]) => ({ name, entropies: e })),
    uninformative: [...new Set(models.flatMap((m) => uninformativeLayers(m.report)))],
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
  const { range, entropyLayerBinned } = mine.report.summary;
  const mi = medianRatioInterval(mine.pairValues, ref.pairValues, bootstrap);
  const h = informativeEntropy(mine.report, ref);
  const scaleCheck =
    range !== undefined &&
    entropyLayerBinned !== undefined &&
    ref.range !== undefined &&
    ref.entropyLayerBinned !== undefined;
  return signatureOf(
    {
      entropy: h.entropy,
      referenceEntropy: h.referenceEntropy,
      ...(h.left.length === 0 ? {} : { uninformative: { layers: h.left, all: h.all } }),
      mi,
      reference: ref.label,
      ...(ref.note === undefined ? {} : { referenceNote: ref.note }),
      ...(scaleCheck && !h.all
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

/**
 * Overall H of the model and the reference, without the layers where either's H is
 * uninformative under global bins (each neuron's spread below one bin: H then measures the
 * offsets between neurons, not their diversity). `all`: no layer is left to read H on.
 */
function informativeEntropy(
  report: AnalysisReport,
  ref: ReferenceMeasures,
): { entropy: BoxSummary; referenceEntropy: BoxSummary; left: string[]; all: boolean } {
  const flat = new Set([...uninformativeLayers(report), ...(ref.uninformative ?? [])]);
  const whole = {
    entropy: report.summary.entropy,
    referenceEntropy: ref.entropy,
    left: [],
    all: false,
  };
  if (flat.size === 0) return whole;
  const left = report.layers.filter((l) => flat.has(l.name)).map((l) => l.name);
  const kept = report.layers.filter((l) => !flat.has(l.name));
  if (kept.length === 0) return { ...whole, left, all: true };
  const refKept = ref.layerEntropies?.filter((l) => !flat.has(l.name));
  // A reference without per-layer entropies cannot leave the same layers out: H is not read.
  if (refKept === undefined || refKept.length === 0) return { ...whole, left, all: true };
  const bins = report.params.bins;
  return {
    entropy: entropyBoxSummary(
      kept.flatMap((l) => l.entropies),
      bins,
    ),
    referenceEntropy: entropyBoxSummary(
      refKept.flatMap((l) => l.entropies),
      bins,
    ),
    left,
    all: false,
  };
}
