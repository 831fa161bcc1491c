import type { ActivationMatrix } from '../activations';

/**
 * A layer whose H under global bins says nothing about its neurons: the median of its
 * neurons' value ranges (max - min over the probe set, constant neurons left out) is below
 * one global bin width, so most of them fall into one or two bins (H at most ln 2) whatever
 * they do. Happens when the neurons' offsets spread far wider than each neuron moves, as in
 * global-average-pooled conv layers (values moving by 0.005 while offsets span -19 to 9).
 */
export interface HUninformativeLayer {
  layer: string;
  /** Median over the layer's non-constant neurons of each neuron's max - min. */
  medianSpread: number;
  /** The global bin width: (max - min of all measured values) / B. */
  binWidth: number;
}

/** Median of a non-empty array (mean of the two middle values for an even count). */
function medianOf(values: Float64Array): number {
  const s = Float64Array.from(values).sort();
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * The layers of `acts` whose H under `bins` global bins over `range` (all measured values) is
 * uninformative ({@link HUninformativeLayer}). Only layers with a non-constant neuron; none
 * when the range is empty.
 */
export function hUninformativeLayers(
  acts: ActivationMatrix,
  bins: number,
  range: { min: number; max: number },
): HUninformativeLayer[] {
  const binWidth = (range.max - range.min) / bins;
  if (!(binWidth > 0)) return [];
  const S = acts.samples;
  const out: HUninformativeLayer[] = [];
  for (const layer of acts.layers) {
    const spreads: number[] = [];
    for (let n = layer.start; n < layer.end; n++) {
      let min = Infinity;
      let max = -Infinity;
      for (let i = n * S; i < (n + 1) * S; i++) {
        const x = acts.data[i];
        if (x < min) min = x;
        if (x > max) max = x;
      }
      if (max > min) spreads.push(max - min);
    }
    if (spreads.length === 0) continue;
    const medianSpread = medianOf(Float64Array.from(spreads));
    if (medianSpread < binWidth) out.push({ layer: layer.name, medianSpread, binWidth });
  }
  return out;
}

/** The numbers of an uninformative layer in words, for warnings and flags. */
export function spreadText(l: HUninformativeLayer): string {
  return `median per-neuron spread ${l.medianSpread.toPrecision(2)} against a global bin width of ${l.binWidth.toPrecision(2)}`;
}
