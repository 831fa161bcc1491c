import type { BoxSummary, MiSummary, ReportFlag } from '../report/schema';

/**
 * Thresholds behind the indicative flags of a lone model. They are rough anchors read off the
 * paper's figures (spec section 7), not verdicts: a model's measures only mean something
 * relative to a reference of the same architecture.
 */
export const LONE_MODEL_THRESHOLDS = {
  /** Median off-diagonal I at or above this (nats): neurons largely redundant, as in shortcut models. */
  miHigh: 0.5,
  /** Median off-diagonal I at or below this (nats): neurons nearly independent, as under random labels. */
  miLow: 0.03,
  /** Median H at or below this fraction of ln B: neurons confined to a few bins. */
  entropyLowFraction: 0.2,
} as const;

/**
 * The flags of a lone model: always 'no-reference' (verdicts need a reference), plus
 * 'mi-high', 'mi-low' and 'entropy-low' when the whole-model medians cross the documented
 * thresholds ({@link LONE_MODEL_THRESHOLDS}; entropy in nats relative to ln B).
 */
export function loneModelFlags(
  summary: { entropy: BoxSummary; mi: MiSummary },
  bins: number,
): ReportFlag[] {
  const t = LONE_MODEL_THRESHOLDS;
  const flags: ReportFlag[] = [
    {
      code: 'no-reference',
      message:
        'A lone model has no verdict: memorization signatures are relative to a reference of the same architecture (a baseline, an earlier checkpoint, other candidates); use memlens compare. The flags below are indicative only.',
      threshold: 'always',
    },
  ];
  const mi = summary.mi.median;
  if (mi >= t.miHigh) {
    flags.push({
      code: 'mi-high',
      message: `median I ${mi.toFixed(3)} nats: neurons share much information, as in the paper's shortcut-learning models (possible heuristic memorization)`,
      threshold: `median I >= ${t.miHigh} nats`,
    });
  } else if (mi <= t.miLow) {
    flags.push({
      code: 'mi-low',
      message: `median I ${mi.toFixed(3)} nats: neurons nearly independent, as in the paper's random-label models (possible example-level memorization)`,
      threshold: `median I <= ${t.miLow} nats`,
    });
  }
  const lnB = Math.log(bins);
  const h = summary.entropy.median;
  if (h <= t.entropyLowFraction * lnB) {
    flags.push({
      code: 'entropy-low',
      message: `median H ${h.toFixed(2)} nats (of at most ln ${bins} = ${lnB.toFixed(2)}): neurons use few bins, as in the paper's shortcut-learning models`,
      threshold: `median H <= ${t.entropyLowFraction} ln B = ${(t.entropyLowFraction * lnB).toFixed(2)} nats`,
    });
  }
  return flags;
}
