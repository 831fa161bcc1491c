/**
 * The plan of an MI estimate, made before the work: how many pairs the default (every pair of
 * the MI-measurable neurons, across layers as well as within them) means, how long that would
 * take at the measured kernel rate, and, over the time budget, the authors' own fallback: a
 * seeded per-layer neuron cap (they used 64 per layer for DistilBERT, 768 random neurons for
 * ResNet-18), and past that, sampled pairs with a bootstrap interval on each median. Pure: the
 * rate comes from ./miRate. The rule is docs/measures.md's "The plan".
 */
import { quantileSorted, sortedCopy } from '../measures/boxSummary';
import { aboutText, countText, durationText } from '../progressText';
import type { MiPlanReport, MiPlanMode } from '../report/schema';
import { Rng } from '../random';
import { bootstrapMedian } from './bootstrap';

/** The default time budget of the MI estimate, seconds (`--mi-budget`, `memlens.miBudget`). */
export const DEFAULT_MI_BUDGET_SECONDS = 60;
/** The smallest neuron cap the plan chooses: the authors' 64 per layer. */
export const MIN_PLANNED_CAP = 64;
/** The fewest pairs a sampled plan draws, whatever the budget. */
export const MIN_SAMPLED_PAIRS = 1000;

/** What the plan is made from. */
export interface MiPlanInput {
  /** Each measured layer with its MI-measurable neurons (those the cap draws among). */
  layers: { name: string; neurons: number }[];
  /** KSG pairs per second on one thread at this S, k and estimator (./miRate). */
  rate: number;
  rateSource: MiPlanReport['rateSource'];
  threads: number;
  /** Seconds; 0: no limit (every pair). */
  budgetSeconds: number;
  /** What the user asked for (`--mi-neurons`, `--pairs`): it wins over the budget. */
  asked?: { cap: number | null; pairs: number | null };
  /** The plan of another model to measure alike (a compare's reference, a baseline's model). */
  shared?: { cap: number | null; pairs: number | null; model: string };
}

/** Pairs among n neurons. */
const pairsOf = (n: number): number => (n * (n - 1)) / 2;

/** The caps tried, smallest first: 64, 96, 128, 192, 256, 384, 512, 768, 1024, ... */
function capLadder(widest: number): number[] {
  const caps: number[] = [];
  for (let c = MIN_PLANNED_CAP; c < widest; c *= 2) caps.push(c, c * 1.5);
  return caps.filter((c) => c < widest);
}

/** Neurons entering MI when every layer keeps at most `cap` (null: all). */
function cappedNeurons(layers: MiPlanInput['layers'], cap: number | null): number {
  return layers.reduce((s, l) => s + (cap === null ? l.neurons : Math.min(cap, l.neurons)), 0);
}

/**
 * The plan: every pair when they fit the budget (or the budget is 0); else the largest cap of
 * the ladder 64, 96, 128, 192, ... whose pairs fit; else 64 per layer (when some layer is
 * wider) with as many sampled pairs as fit (at least {@link MIN_SAMPLED_PAIRS}). What the user
 * asked for, and else another model's plan to measure alike, is taken as it is.
 */
export function planMi(input: MiPlanInput): MiPlanReport {
  const { layers, rate, threads, budgetSeconds } = input;
  const seconds = (pairs: number): number => pairs / (rate * Math.max(1, threads));
  const allNeurons = cappedNeurons(layers, null);
  const allPairs = pairsOf(allNeurons);
  const widest = layers.reduce((w, l) => Math.max(w, l.neurons), 0);
  let mode: MiPlanMode;
  let cap: number | null = null;
  let sampled: number | null = null;
  const asked = input.asked;
  if (asked !== undefined && (asked.cap !== null || asked.pairs !== null)) {
    mode = 'asked';
    cap = asked.cap;
    sampled = asked.pairs;
  } else if (input.shared !== undefined) {
    // Measured alike, even when that is every pair: like with like comes before the budget.
    mode = 'shared';
    cap = input.shared.cap;
    sampled = input.shared.pairs;
  } else if (budgetSeconds === 0 || seconds(allPairs) <= budgetSeconds) {
    mode = 'all';
  } else {
    const fits = capLadder(widest).filter(
      (c) => seconds(pairsOf(cappedNeurons(layers, c))) <= budgetSeconds,
    );
    if (fits.length > 0) {
      mode = 'capped';
      cap = fits[fits.length - 1];
    } else {
      mode = 'sampled';
      cap = widest > MIN_PLANNED_CAP ? MIN_PLANNED_CAP : null;
      sampled = Math.max(MIN_SAMPLED_PAIRS, Math.floor(budgetSeconds * rate * threads));
    }
  }
  const neurons = cappedNeurons(layers, cap);
  const pairsCapped = pairsOf(neurons);
  const plannedPairs = sampled === null ? pairsCapped : Math.min(sampled, pairsCapped);
  if (sampled !== null && sampled >= pairsCapped) sampled = null;
  const share = pairsCapped === 0 ? 0 : plannedPairs / pairsCapped;
  return {
    mode,
    budgetSeconds,
    rate,
    rateSource: input.rateSource,
    threads,
    allNeurons,
    allPairs,
    allSeconds: seconds(allPairs),
    cap,
    sampledPairs: sampled,
    plannedNeurons: neurons,
    plannedPairs,
    plannedSeconds: seconds(plannedPairs),
    ...(input.shared === undefined ? {} : { sharedWith: input.shared.model }),
    layers: layers.map((l) => {
      const kept = cap === null ? l.neurons : Math.min(cap, l.neurons);
      return {
        name: l.name,
        neurons: l.neurons,
        miNeurons: kept,
        allPairs: pairsOf(l.neurons),
        // Sampled: the expected number of this layer's pairs among the drawn ones.
        plannedPairs: Math.round(pairsOf(kept) * share),
      };
    }),
  };
}

/** The neuron cap and pair count a plan measures with (what `measure` takes). */
export function planChoice(plan: MiPlanReport): { cap: number | null; pairs: number | null } {
  return { cap: plan.cap, pairs: plan.sampledPairs };
}

const threadsText = (n: number): string => `${n} thread${n === 1 ? '' : 's'}`;

/**
 * What a plan measures, in words: "64 neurons per layer (192 neurons: 18,336 pairs, ~1 s)";
 * without the time estimate when `time` is false.
 */
function measuredText(plan: MiPlanReport, time = true): string {
  const about = time ? `, ${aboutText(plan.plannedSeconds)}` : '';
  const capText = plan.cap === null ? null : `${countText(plan.cap)} neurons per layer`;
  if (plan.sampledPairs !== null) {
    const of = capText ?? `all ${countText(plan.plannedNeurons)} neurons`;
    return `${countText(plan.plannedPairs)} sampled pairs of ${of} (medians with 95% bootstrap intervals${about})`;
  }
  const pairs = `${countText(plan.plannedPairs)} pairs${about}`;
  return capText === null
    ? `all ${pairs}`
    : `${capText} (${countText(plan.plannedNeurons)} neurons: ${pairs})`;
}

/** Whether the plan is worth a line before the work: a fallback, or a long estimate. */
export function planIsNotable(plan: MiPlanReport): boolean {
  return (
    plan.mode === 'capped' ||
    plan.mode === 'sampled' ||
    plan.plannedSeconds > DEFAULT_MI_BUDGET_SECONDS
  );
}

/**
 * The plan in one line, before the work and without naming a flag or setting (the CLI adds
 * how to get all pairs): "MI: 62.7 M pairs would take ~19 h at 2 threads; measuring 64
 * neurons per layer (3,776 neurons: 7.1 M pairs, ~40 s)".
 */
export function planLine(plan: MiPlanReport): string {
  const all = `${countText(plan.allPairs)} pairs`;
  const at = `at ${threadsText(plan.threads)}`;
  const allTime = `${aboutText(plan.allSeconds)} ${at}`;
  switch (plan.mode) {
    case 'all':
      return plan.budgetSeconds === 0 && plan.allSeconds > DEFAULT_MI_BUDGET_SECONDS
        ? `MI: ${all}, ${allTime} (no time budget)`
        : `MI: ${all}, ${allTime}`;
    case 'capped':
    case 'sampled':
      return `MI: ${all} would take ${allTime}; measuring ${measuredText(plan)} to stay within ${durationText(plan.budgetSeconds)}`;
    case 'asked':
      return `MI: measuring ${measuredText(plan)} ${at}, as asked; all ${all} would take ${aboutText(plan.allSeconds)}`;
    case 'shared':
      return `MI: measuring ${measuredText(plan)} ${at}, as for ${plan.sharedWith ?? 'the first model'} (like with like); all ${all} would take ${aboutText(plan.allSeconds)}`;
  }
}

/**
 * The report's statement of a plan that measured a subset (null when every pair was
 * measured): why, what, and with which seed; names no flag or setting.
 */
export function planSummary(plan: MiPlanReport, seed: number): string | null {
  if (plan.cap === null && plan.sampledPairs === null) return null;
  const what = `${measuredText(plan, false)}, seed ${seed}`;
  const all = `all ${countText(plan.allPairs)} pairs would take ${aboutText(plan.allSeconds)} at ${threadsText(plan.threads)}`;
  switch (plan.mode) {
    case 'capped':
    case 'sampled':
      return `MI measured on a subset to stay within the ${durationText(plan.budgetSeconds)} time budget: ${all}, so ${what}`;
    case 'shared':
      return `MI measured on a subset as for ${plan.sharedWith ?? 'the first model'}, so the models compare like with like: ${what}; ${all}`;
    default:
      return `MI measured on a subset, as asked: ${what}; ${all}`;
  }
}

/** The note a signature read from subset MI carries (null: every pair was measured). */
export function subsetNote(params: {
  miNeuronCap: number | null;
  miPairs: number | null;
}): string | null {
  const parts: string[] = [];
  if (params.miNeuronCap !== null) parts.push(`${params.miNeuronCap} neurons per layer`);
  if (params.miPairs !== null) parts.push(`${countText(params.miPairs)} sampled pairs`);
  return parts.length === 0
    ? null
    : `MI of both models read on a seeded subset (${parts.join(', ')}), not on every pair`;
}

/**
 * The percentile bootstrap interval (95% by default) of the median of `values`, seeded; NaN
 * bounds for no values. How precise a median of sampled pairs is.
 */
export function medianInterval(
  values: Float64Array,
  seed: number,
  replicates = 1000,
  level = 0.95,
): { low: number; high: number } {
  if (values.length === 0) return { low: NaN, high: NaN };
  const sorted = sortedCopy(values);
  const rng = new Rng(seed);
  const medians = new Float64Array(replicates);
  for (let r = 0; r < replicates; r++) medians[r] = bootstrapMedian(sorted, rng);
  medians.sort();
  const tail = (1 - level) / 2;
  return { low: quantileSorted(medians, tail), high: quantileSorted(medians, 1 - tail) };
}
