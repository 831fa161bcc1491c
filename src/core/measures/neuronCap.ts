import type { LayerSlice } from '../activations';
import { Rng } from '../random';

/**
 * The columns that enter the MI estimate when each layer keeps at most `cap` neurons: all
 * columns of a layer with at most `cap` neurons, otherwise `cap` of them drawn uniformly
 * without replacement. Deterministic: layer i draws from its own generator seeded by
 * (seed, i), so a layer's subset depends only on the seed, its position and its size.
 * `cap` null keeps every neuron. With `eligible`, only the columns it accepts are candidates
 * (e.g. the MI-measurable neurons): the cap then draws among a layer's eligible columns, and
 * when every column is eligible the result is the same as without it.
 *
 * @returns ascending column indices.
 * @throws RangeError when cap is not a positive integer or null.
 */
export function capNeurons(
  layers: readonly LayerSlice[],
  cap: number | null,
  seed: number,
  eligible?: (column: number) => boolean,
): number[] {
  if (cap !== null && (!Number.isInteger(cap) || cap < 1)) {
    throw new RangeError(`the neuron cap must be a positive integer, got ${cap}`);
  }
  const columns: number[] = [];
  layers.forEach((layer, i) => {
    const candidates: number[] = [];
    for (let c = layer.start; c < layer.end; c++) if (eligible?.(c) ?? true) candidates.push(c);
    const size = candidates.length;
    if (cap === null || size <= cap) {
      for (const c of candidates) columns.push(c);
    } else {
      const rng = new Rng(layerSeed(seed, i));
      for (const offset of rng.sample(size, cap)) columns.push(candidates[offset]);
    }
  });
  return columns.sort((a, b) => a - b);
}

/** Mixes the layer index into the seed (golden-ratio increment, then an integer hash). */
function layerSeed(seed: number, layer: number): number {
  let h = (seed + Math.imul(layer + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
