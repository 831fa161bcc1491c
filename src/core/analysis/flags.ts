import type { HUninformativeLayer } from '../measures/binSpread';
import type { BoxSummary, LayerReport, MiSummary, ReportFlag } from '../report/schema';

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

/** Median of numbers (numpy's: mean of the two middle values for an even count). */
function medianOf(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * The flags of a lone model: always 'no-reference' (verdicts need a reference), plus
 * 'mi-high', 'mi-low' and 'entropy-low' when the whole-model medians cross the documented
 * thresholds ({@link LONE_MODEL_THRESHOLDS}; entropy in nats relative to ln B). Layers whose H
 * is uninformative under global bins (`hUninformative`, with the model's `layers`) get one
 * 'h-uninformative' flag instead, and entropy-low reads the median H of the other layers'
 * neurons only (none when every layer is uninformative).
 */
export function loneModelFlags(
  summary: { entropy: BoxSummary; mi: MiSummary },
  bins: number,
  hUninformative: readonly HUninformativeLayer[] = [],
  layers: readonly LayerReport[] = [],
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
  const flat = new Set(hUninformative.map((u) => u.layer));
  if (flat.size > 0) {
    const spreads = hUninformative.map((u) => u.medianSpread);
    const named =
      flat.size === layers.length && layers.length > 0
        ? `every layer (${flat.size})`
        : `${flat.size} layer${flat.size === 1 ? '' : 's'} (${listed([...flat])})`;
    flags.push({
      code: 'h-uninformative',
      message: `H uninformative in ${named}: per-neuron spread is below one global bin (median per-neuron spread ${medianOf(spreads).toPrecision(2)} against a global bin width of ${hUninformative[0].binWidth.toPrecision(2)}); their H is not read, and entropy-low is not raised for them. Per-layer or per-neuron binning measures their H.`,
      threshold: "median over a layer of each neuron's max - min < (global max - min) / B",
    });
  }
  const lnB = Math.log(bins);
  const read = layers.filter((l) => !flat.has(l.name));
  const h =
    flat.size === 0
      ? summary.entropy.median
      : read.length === 0
        ? Number.NaN
        : medianOf(read.flatMap((l) => l.entropies));
  if (h <= t.entropyLowFraction * lnB) {
    const where = flat.size === 0 ? '' : ` (layers whose H is read)`;
    flags.push({
      code: 'entropy-low',
      message: `median H${where} ${h.toFixed(2)} nats (of at most ln ${bins} = ${lnB.toFixed(2)}): neurons use few bins, as in the paper's shortcut-learning models`,
      threshold: `median H <= ${t.entropyLowFraction} ln B = ${(t.entropyLowFraction * lnB).toFixed(2)} nats`,
    });
  }
  return flags;
}

/** Names for a flag's one line: up to 5, then how many more (the warnings name each). */
function listed(names: string[]): string {
  const shown = names.slice(0, 5).join(', ');
  return names.length <= 5 ? shown : `${shown} and ${names.length - 5} more, named in the warnings`;
}
