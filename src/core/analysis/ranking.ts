import { averageRanks } from './spearman';

/**
 * How candidates are ordered (model selection, spec section 6):
 * - 'shortcut' (default): higher median H and lower median I are better. The order is by the
 *   mean of the model's two ranks (by median H, highest first; by median I, lowest first),
 *   ties broken by lower median I then higher median H. Both measures stay in the output.
 * - 'entropy': by median H alone, highest first.
 * - 'mi': by median I alone, lowest first.
 */
export type RankingRule = 'shortcut' | 'entropy' | 'mi';

export const RANKING_RULES: readonly RankingRule[] = ['shortcut', 'entropy', 'mi'];

export const RANKING_RULE_TEXT: Record<RankingRule, string> = {
  shortcut:
    'shortcut-learning target: higher median H and lower median I are better; models are ordered by the mean of their rank by median H (highest first) and their rank by median I (lowest first), ties broken by lower median I, then higher median H',
  entropy: 'median H alone, highest first (ties: lower median I first)',
  mi: 'median I alone, lowest first (ties: higher median H first)',
};

export interface RankingEntry {
  path: string;
  /** 1 = best. */
  rank: number;
  entropyMedian: number;
  miMedian: number;
}

export interface RankingCandidate {
  path: string;
  entropyMedian: number;
  miMedian: number;
}

/** Orders candidates by the rule (see RankingRule). Ranks are 1..n, 1 the best. */
export function rankModels(
  candidates: readonly RankingCandidate[],
  rule: RankingRule = 'shortcut',
): RankingEntry[] {
  const byH = averageRanks(candidates.map((c) => -c.entropyMedian));
  const byI = averageRanks(candidates.map((c) => c.miMedian));
  const score = (i: number): number =>
    rule === 'shortcut' ? (byH[i] + byI[i]) / 2 : rule === 'entropy' ? byH[i] : byI[i];
  const order = candidates
    .map((c, i) => ({ c, i }))
    .sort(
      (a, b) =>
        score(a.i) - score(b.i) ||
        (rule === 'mi'
          ? b.c.entropyMedian - a.c.entropyMedian
          : a.c.miMedian - b.c.miMedian || b.c.entropyMedian - a.c.entropyMedian),
    );
  return order.map(({ c }, r) => ({
    path: c.path,
    rank: r + 1,
    entropyMedian: c.entropyMedian,
    miMedian: c.miMedian,
  }));
}
