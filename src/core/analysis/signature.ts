import type { BoxSummary, Signature, SignatureKind } from '../report/schema';
import type { RatioInterval } from './bootstrap';

/** When a difference counts as a direction (see docs/report-schema.md, "Signatures"). */
export interface SignatureThresholds {
  /** |delta median H| in nats at or above which H counts as lower/higher (default 0.1). */
  deltaEntropy: number;
  /** Median-I ratio at or above which I counts as higher, at or below 1/x as lower (default 1.5). */
  miRatio: number;
}

export const DEFAULT_THRESHOLDS: SignatureThresholds = { deltaEntropy: 0.1, miRatio: 1.5 };

export type Direction = 'lower' | 'higher' | 'equal';

/** What a signature is read from: a model's and its reference's overall summaries. */
export interface SignatureInput {
  entropy: BoxSummary;
  referenceEntropy: BoxSummary;
  /** Ratio of median off-diagonal I (model / reference) with its bootstrap interval. */
  mi: RatioInterval;
  reference: string;
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
 * The direction of median I against the reference: higher when the ratio reaches the
 * threshold and its bootstrap interval lies above 1; lower when it is at or below
 * 1/threshold and its interval lies below 1. An undefined ratio (reference median <= 0) is
 * 'equal'.
 */
export function miDirection(mi: RatioInterval, thresholds: SignatureThresholds): Direction {
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
const signed = (x: number): string => (x >= 0 ? '+' : '') + fmt(x);

function explain(kind: SignatureKind, h: Direction, i: Direction, input: SignatureInput): string {
  const delta = input.entropy.median - input.referenceEntropy.median;
  const evidence =
    `median H ${signed(delta)} nats (notches ${notchesOverlap(input.entropy, input.referenceEntropy) ? 'overlap' : 'apart'}), ` +
    `median I x${fmt(input.mi.ratio)} [${fmt(input.mi.low)}, ${fmt(input.mi.high)}] vs ${input.reference}`;
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
 * (notches for H, the bootstrap interval for I).
 */
export function signatureOf(
  input: SignatureInput,
  thresholds: SignatureThresholds = DEFAULT_THRESHOLDS,
): Signature {
  const h = entropyDirection(input.entropy, input.referenceEntropy, thresholds);
  const i = miDirection(input.mi, thresholds);
  const kind = kindOf(h, i);
  return {
    kind,
    deltaEntropy: input.entropy.median - input.referenceEntropy.median,
    notchesOverlap: notchesOverlap(input.entropy, input.referenceEntropy),
    miRatio: input.mi.ratio,
    miRatioLow: input.mi.low,
    miRatioHigh: input.mi.high,
    entropyDirection: h,
    miDirection: i,
    reference: input.reference,
    explanation: explain(kind, h, i, input),
  };
}
