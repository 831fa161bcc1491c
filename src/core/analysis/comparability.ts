import { modelName } from '../capture/registry';
import type { DetailedAnalysis } from './analyze';

/**
 * Like with like: signatures and rankings compare only models measured on the same layers
 * (names and widths), with the same output shape when their formats tell it (2 outputs
 * against 10 is another task), on the same number of probe examples (dumps bring their own).
 */
export interface Measured {
  path: string;
  result: DetailedAnalysis;
}

const layersOf = (d: DetailedAnalysis): string =>
  d.report.layers.map((l) => `${l.name} (${l.neurons})`).join(', ');

const shapeText = (s: (number | null)[]): string =>
  `[${s.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;

/** Why `m` is not comparable with `ref`, in words, or null when it is. */
export function notComparableReason(m: Measured, ref: Measured): string | null {
  const refName = modelName(ref.path);
  const mine = layersOf(m.result);
  const theirs = layersOf(ref.result);
  if (mine !== theirs) {
    return `measured layers ${mine}; those of ${refName} are ${theirs}`;
  }
  const a = m.result.outputShape;
  const b = ref.result.outputShape;
  if (a !== null && b !== null && shapeText(a) !== shapeText(b)) {
    return `output shape ${shapeText(a)} against ${shapeText(b)} for ${refName}: a model of another task`;
  }
  const sa = m.result.report.params.samples;
  const sb = ref.result.report.params.samples;
  if (sa !== sb) {
    return `measured on ${sa} examples, ${refName} on ${sb}: not the same probe`;
  }
  return null;
}

/**
 * The model the comparable group is built around: the reference model when there is one;
 * else one of the largest group of mutually comparable models (the first listed of it).
 */
export function groupAnchor(
  models: readonly Measured[],
  reference: string | null,
): Measured | null {
  if (models.length === 0) return null;
  const ref = reference === null ? undefined : models.find((m) => m.path === reference);
  if (ref !== undefined) return ref;
  let best = models[0];
  let bestSize = 0;
  for (const m of models) {
    const size = models.filter((o) => notComparableReason(o, m) === null).length;
    if (size > bestSize) {
      best = m;
      bestSize = size;
    }
  }
  return best;
}
