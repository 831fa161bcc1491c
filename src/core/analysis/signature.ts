import type { BoxSummary, Signature, SignatureKind, ValueRange } from '../report/schema';
import type { MedianComparison, RatioInterval } from './bootstrap';

/** When a difference counts as a direction (see docs/report-schema.md, "Signatures"). */
export interface SignatureThresholds {
  /** |delta median H| in nats at or above which H counts as lower/higher (default 0.1). */
  deltaEntropy: number;
  /** Median-I ratio at or above which I counts as higher, at or below 1/x as lower (default 1.5). */
  miRatio: number;
  /**
   * Factor between two models' global bin-range widths at or above which median H is also
   * compared under per-layer bins, and the H direction must agree under both (default 1.5).
   */
  scaleRatio: number;
}

export const DEFAULT_THRESHOLDS: SignatureThresholds = {
  deltaEntropy: 0.1,
  miRatio: 1.5,
  scaleRatio: 1.5,
};

/**
 * Median I (nats) below which the ratio of medians is not used: near 0 a ratio explodes, and
 * when both medians are negative (KSG-1's bias on nearly independent neurons) it inverts
 * (-0.178 / -0.1 = x1.78 although I is lower). When either median is below this floor, I is
 * compared by the difference of the medians instead.
 */
export const MI_RATIO_FLOOR = 0.01;

/** |difference of median I| (nats) at or above which I counts as lower/higher in difference mode. */
export const MI_MIN_DIFFERENCE = 0.01;

/** How median I was compared with the reference. */
export type MiComparison = 'ratio' | 'difference';

export type Direction = 'lower' | 'higher' | 'equal';

/** What a signature is read from: a model's and its reference's overall summaries. */
export interface SignatureInput {
  entropy: BoxSummary;
  referenceEntropy: BoxSummary;
  /**
   * Median off-diagonal I of the model against the reference: the ratio with its bootstrap
   * interval, and (as `medianRatioInterval` returns it) both medians and their difference
   * with its interval. A bare ratio is read as a ratio.
   */
  mi: RatioInterval | MedianComparison;
  /**
   * Layers left out of H because it is uninformative there under global bins (see
   * reference.ts); `all`: none is left, and H is read as equal.
   */
  uninformative?: { layers: string[]; all: boolean };
  /** The reference in words. */
  reference: string;
  /** Said after the evidence, e.g. that the reference is an untrained initialisation. */
  referenceNote?: string;
  /**
   * Under global binning: both bin ranges and both models' entropies binned per layer, for
   * the scale check (see {@link signatureOf}).
   */
  scale?: {
    range: ValueRange;
    referenceRange: ValueRange;
    entropyLayerBinned: BoxSummary;
    referenceEntropyLayerBinned: BoxSummary;
  };
}

/**
 * How far apart two ranges' widths are: max(w1, w2) / min(w1, w2), 1 for two empty ranges,
 * Infinity when only one is empty.
 */
export function rangeFactor(a: ValueRange, b: ValueRange): number {
  const wa = a.max - a.min;
  const wb = b.max - b.min;
  if (wa === wb) return 1;
  return Math.max(wa, wb) / Math.min(wa, wb);
}

export function notchesOverlap(a: BoxSummary, b: BoxSummary): boolean {
  return a.notchLow <= b.notchHigh && b.notchLow <= a.notchHigh;
}

/**
 * The direction of median H against the reference: lower/higher only when |delta| reaches
 * the threshold (nats) and the notches (95% intervals of the medians) do not overlap.
 */
export function entropyDirection(
  entropy: BoxSummary,
  reference: BoxSummary,
  thresholds: SignatureThresholds,
): Direction {
  const delta = entropy.median - reference.median;
  if (Math.abs(delta) < thresholds.deltaEntropy || notchesOverlap(entropy, reference))
    return 'equal';
  return delta < 0 ? 'lower' : 'higher';
}

/**
 * How median I is compared: by `difference` when both medians are known and either is below
 * {@link MI_RATIO_FLOOR}, else by `ratio`.
 */
export function miComparisonOf(mi: RatioInterval | MedianComparison): MiComparison {
  if (!('median' in mi)) return 'ratio';
  return mi.median < MI_RATIO_FLOOR || mi.referenceMedian < MI_RATIO_FLOOR ? 'difference' : 'ratio';
}

/**
 * The direction of median I against the reference. By ratio: higher when the ratio reaches
 * the threshold and its bootstrap interval lies above 1; lower when it is at or below
 * 1/threshold and its interval lies below 1; an undefined ratio (reference median <= 0) is
 * 'equal'. By difference (a median below {@link MI_RATIO_FLOOR}, see {@link miComparisonOf}):
 * higher when the difference is at least {@link MI_MIN_DIFFERENCE} and its interval lies above
 * 0, lower when it is at most -{@link MI_MIN_DIFFERENCE} and its interval lies below 0.
 */
export function miDirection(
  mi: RatioInterval | MedianComparison,
  thresholds: SignatureThresholds,
): Direction {
  if (miComparisonOf(mi) === 'difference') {
    const d = mi as MedianComparison;
    if (d.difference >= MI_MIN_DIFFERENCE && d.differenceLow > 0) return 'higher';
    if (d.difference <= -MI_MIN_DIFFERENCE && d.differenceHigh < 0) return 'lower';
    return 'equal';
  }
  if (!Number.isFinite(mi.ratio) || mi.ratio <= 0) return 'equal';
  if (mi.ratio >= thresholds.miRatio && mi.low > 1) return 'higher';
  if (mi.ratio <= 1 / thresholds.miRatio && mi.high < 1) return 'lower';
  return 'equal';
}

function kindOf(h: Direction, i: Direction): SignatureKind {
  if (h === 'lower' && i === 'higher') return 'heuristic';
  if (h === 'higher' && i === 'lower') return 'example-level';
  return 'none';
}

const fmt = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const signed = (x: number, d = 2): string => (x >= 0 ? '+' : '') + fmt(x, d);

/** The MI evidence in words: the ratio, or the difference and why. */
function miEvidence(mi: RatioInterval | MedianComparison): string {
  if (miComparisonOf(mi) === 'ratio')
    return `median I x${fmt(mi.ratio)} [${fmt(mi.low)}, ${fmt(mi.high)}]`;
  const d = mi as MedianComparison;
  return (
    `median I ${signed(d.difference, 3)} nats [${signed(d.differenceLow, 3)}, ${signed(d.differenceHigh, 3)}] ` +
    `(${fmt(d.median, 3)} vs ${fmt(d.referenceMedian, 3)} nats: compared by difference, a median is below ${MI_RATIO_FLOOR} nats)`
  );
}

const range = (r: ValueRange): string => `[${fmt(r.min)}, ${fmt(r.max)}]`;

/** What the scale check found, when it overruled the H direction under global bins. */
function scaleEvidence(scale: NonNullable<Signature['scale']>): string {
  const layer = scale.layerBinned;
  if (layer === undefined || layer.direction === scale.globalDirection) return '';
  return (
    `; the H change follows the activation scale: H ${scale.globalDirection} under global bins but ` +
    `${layer.direction} under per-layer bins (median H ${signed(layer.deltaEntropy)} nats, notches ` +
    `${layer.notchesOverlap ? 'overlap' : 'apart'}), bin ranges ${range(scale.range)} against ` +
    `${range(scale.referenceRange)} (width x${fmt(scale.factor)}), so H is read as equal`
  );
}

/** Which layers H was read without, when its spread there is below one global bin. */
function uninformativeEvidence(u: SignatureInput['uninformative']): string {
  if (u === undefined) return '';
  const names = u.layers.length > 6 ? `${u.layers.slice(0, 6).join(', ')}, …` : u.layers.join(', ');
  return u.all
    ? '; H not read: in every layer each neuron spreads over less than one global bin (H uninformative), so H is read as equal'
    : `; H read without ${names} (H uninformative there: each neuron spreads over less than one global bin)`;
}

function explain(
  kind: SignatureKind,
  h: Direction,
  i: Direction,
  input: SignatureInput,
  scale: Signature['scale'],
): string {
  const delta = input.entropy.median - input.referenceEntropy.median;
  const evidence =
    `median H ${signed(delta)} nats (notches ${notchesOverlap(input.entropy, input.referenceEntropy) ? 'overlap' : 'apart'}), ` +
    `${miEvidence(input.mi)} vs ${input.reference}` +
    (scale === undefined ? '' : scaleEvidence(scale)) +
    uninformativeEvidence(input.uninformative) +
    (input.referenceNote === undefined ? '' : `; ${input.referenceNote}`);
  if (kind === 'heuristic') {
    return `heuristic memorization (shortcut learning): H lower and I higher; ${evidence}`;
  }
  if (kind === 'example-level') {
    return `example-level memorization: H higher and I lower; ${evidence}`;
  }
  const partial =
    i === 'lower'
      ? '; I lower alone points towards example-level memorization (the H rise may need more data)'
      : i === 'higher'
        ? '; I higher alone points towards heuristic memorization'
        : h !== 'equal'
          ? `; only H is ${h}`
          : '';
  return `no memorization signature: H ${h}, I ${i}${partial}; ${evidence}`;
}

/**
 * The memorization signature of a model relative to a reference (spec section 6): heuristic
 * when H is lower and I higher, example-level when H is higher and I lower, none otherwise.
 * Each direction needs both the effect size (thresholds) and non-overlapping uncertainty
 * (notches for H, the bootstrap interval for I). Median I is compared by ratio, or by
 * difference when a median is below {@link MI_RATIO_FLOOR} (`miComparison` says which; the
 * unused ratio is then NaN).
 *
 * Scale check (under global binning, `input.scale`): H under global bins partly measures the
 * activation scale (docs/measures.md). When the two bin ranges' widths differ by
 * `thresholds.scaleRatio` or more, median H is compared under per-layer bins too, and the H
 * direction stands only when both binnings give the same one; else H reads `equal` and the
 * explanation says the change follows the scale.
 *
 * Layers where H is uninformative under global bins (`input.uninformative`) are left out of H
 * by the caller; with none left, H reads `equal` and the explanation says H was not read.
 */
export function signatureOf(
  input: SignatureInput,
  thresholds: SignatureThresholds = DEFAULT_THRESHOLDS,
): Signature {
  const globalH: Direction = input.uninformative?.all
    ? 'equal'
    : entropyDirection(input.entropy, input.referenceEntropy, thresholds);
  let h = globalH;
  let scale: Signature['scale'];
  if (input.scale !== undefined) {
    const {
      range: r,
      referenceRange,
      entropyLayerBinned: mine,
      referenceEntropyLayerBinned: ref,
    } = input.scale;
    scale = {
      range: r,
      referenceRange,
      factor: rangeFactor(r, referenceRange),
      globalDirection: globalH,
    };
    if (scale.factor >= thresholds.scaleRatio) {
      const direction = entropyDirection(mine, ref, thresholds);
      scale.layerBinned = {
        deltaEntropy: mine.median - ref.median,
        notchesOverlap: notchesOverlap(mine, ref),
        direction,
      };
      // The H half holds only when both binnings agree.
      if (direction !== globalH) h = 'equal';
    }
  }
  const i = miDirection(input.mi, thresholds);
  const kind = kindOf(h, i);
  const comparison = miComparisonOf(input.mi);
  // A ratio that was not used (a median below the floor) is not reported: it can invert.
  const byRatio = comparison === 'ratio';
  const mi = input.mi as Partial<MedianComparison>;
  return {
    kind,
    deltaEntropy: input.entropy.median - input.referenceEntropy.median,
    notchesOverlap: notchesOverlap(input.entropy, input.referenceEntropy),
    miRatio: byRatio ? input.mi.ratio : NaN,
    miRatioLow: byRatio ? input.mi.low : NaN,
    miRatioHigh: byRatio ? input.mi.high : NaN,
    miComparison: comparison,
    ...(mi.difference === undefined
      ? {}
      : {
          miDifference: mi.difference,
          miDifferenceLow: mi.differenceLow as number,
          miDifferenceHigh: mi.differenceHigh as number,
        }),
    entropyDirection: h,
    miDirection: i,
    reference: input.reference,
    explanation: explain(kind, h, i, input, scale),
    ...(scale === undefined ? {} : { scale }),
  };
}
