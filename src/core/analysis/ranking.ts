import type { RankingEntry, RankingTarget, Signature } from '../report/schema';
import { averageRanks } from './spearman';

/**
 * Model selection (spec section 6) needs a declared target: the failure mode the ranking
 * guards against. H moves in opposite directions for the two modes, so one order cannot guard
 * against both:
 * - `shortcut`: heuristic memorization (H lower, I higher) is the failure; higher median H
 *   and lower median I are better.
 * - `label-noise`: example-level memorization (H higher, I lower) is the failure; lower median
 *   H and higher median I are better.
 * The order is by the mean of the model's two ranks (each measure in the target's direction),
 * ties broken by median I then median H in the target's direction.
 *
 * Such an order rewards the other failure mode's signature, so a model that carries it
 * against a reference model is flagged and never ranked: for `shortcut`, I lower and H not
 * lower (example-level, or its I half alone: I is the robust signal, and the H rise needs
 * paper-scale data); for `label-noise`, I higher and H not higher. Against the cohort median
 * no model is flagged: relative to a cohort, the two modes' signatures mirror each other (the
 * best shortcut candidates read "example-level" against a cohort holding shortcut learners).
 */
export const RANKING_TARGETS: readonly RankingTarget[] = ['shortcut', 'label-noise'];

/** The rule in words, for reports. */
export function rankingRuleText(target: RankingTarget | null, flagsApply: boolean): string {
  if (target === null) {
    return 'no target: no single best; the models are ordered by each measure alone (name the failure mode to guard against to rank them)';
  }
  const rule =
    target === 'shortcut'
      ? 'target shortcut learning: higher median H and lower median I are better; ordered by the mean of the rank by median H (highest first) and the rank by median I (lowest first)'
      : 'target label-noise memorization: lower median H and higher median I are better; ordered by the mean of the rank by median H (lowest first) and the rank by median I (highest first)';
  const flags = flagsApply
    ? target === 'shortcut'
      ? 'a model whose I is lower than the reference, with H not lower (the example-level signature or its I half), is flagged and not ranked'
      : 'a model whose I is higher than the reference, with H not higher (the heuristic signature or its I half), is flagged and not ranked'
    : 'no model is flagged: flags need a reference model (a baseline or a reference checkpoint), since against the cohort median the two failure modes mirror each other';
  return `${rule}; ${flags}`;
}

/** Why a model cannot be ranked best for the target, or null. */
export function rankingFlag(target: RankingTarget, s: Signature): string | null {
  const h = s.entropyDirection ?? 'equal';
  const i = s.miDirection ?? 'equal';
  if (target === 'shortcut' && i === 'lower' && h !== 'lower') {
    return h === 'higher'
      ? 'carries the example-level signature (H higher, I lower): a possible label-noise memoriser'
      : 'I lower than the reference: points towards example-level memorization (a possible label-noise memoriser)';
  }
  if (target === 'label-noise' && i === 'higher' && h !== 'higher') {
    return h === 'lower'
      ? 'carries the heuristic signature (H lower, I higher): a possible shortcut learner'
      : 'I higher than the reference: points towards heuristic memorization (a possible shortcut learner)';
  }
  return null;
}

export interface RankingCandidate {
  path: string;
  entropyMedian: number;
  miMedian: number;
  /** Why the model is not ranked (see {@link rankingFlag}), or null. */
  flag: string | null;
}

/**
 * Orders candidates for the target: ranks 1..n for the models without a flag, best first,
 * then the flagged ones with rank null (in the same order).
 */
export function rankModels(
  candidates: readonly RankingCandidate[],
  target: RankingTarget,
): RankingEntry[] {
  // +1: the measure counts highest first; -1: lowest first.
  const hSign = target === 'shortcut' ? -1 : 1;
  const iSign = -hSign;
  const byH = averageRanks(candidates.map((c) => hSign * c.entropyMedian));
  const byI = averageRanks(candidates.map((c) => iSign * c.miMedian));
  const order = candidates
    .map((c, i) => ({ c, i }))
    .sort(
      (a, b) =>
        Number(a.c.flag !== null) - Number(b.c.flag !== null) ||
        (byH[a.i] + byI[a.i]) / 2 - (byH[b.i] + byI[b.i]) / 2 ||
        iSign * (a.c.miMedian - b.c.miMedian) ||
        hSign * (a.c.entropyMedian - b.c.entropyMedian),
    );
  let rank = 0;
  return order.map(({ c }) => ({
    path: c.path,
    rank: c.flag === null ? ++rank : null,
    entropyMedian: c.entropyMedian,
    miMedian: c.miMedian,
    ...(c.flag === null ? {} : { flag: c.flag }),
  }));
}

/** The paths by median H and by median I, each highest first (NaN last). */
export function perAxisOrderings(
  models: readonly { path: string; entropyMedian: number; miMedian: number }[],
): { entropy: string[]; mi: string[] } {
  const by = (key: 'entropyMedian' | 'miMedian'): string[] =>
    [...models]
      .sort((a, b) => (Number.isNaN(a[key]) ? 1 : Number.isNaN(b[key]) ? -1 : b[key] - a[key]))
      .map((m) => m.path);
  return { entropy: by('entropyMedian'), mi: by('miMedian') };
}
