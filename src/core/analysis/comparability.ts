import { modelName } from '../capture/registry';
import { oneLine } from '../errors';
import type { DetailedAnalysis } from './analyze';
import type { LayerPair, NamedLayer } from './layerMapping';
import { isComplete, mapLayers } from './layerMapping';

/**
 * Like with like: signatures and rankings compare only models measured on the same layers
 * (widths, and names up to a format's decoration or else order: ./layerMapping), with the same output shape when their formats tell it (2 outputs
 * against 10 is another task), on the same number of probe examples (dumps bring their own),
 * with MI on the same subset (neuron cap and sampled pairs: the same plan, ./miPlan).
 */
export interface Measured {
  path: string;
  result: DetailedAnalysis;
}

const layersOf = (d: DetailedAnalysis): NamedLayer[] =>
  d.report.layers.map((l) => ({ name: l.name, neurons: l.neurons }));

const shapeText = (s: (number | null)[]): string =>
  `[${s.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;

/** Layers listed in a reason before it says how many there are in all. */
const LISTED_LAYERS = 6;

/** "fc1 (64), fc2 (32), ... (9 in all)": few enough that a reason stays one short line. */
function layerList(layers: readonly NamedLayer[]): string {
  const shown = layers.slice(0, LISTED_LAYERS).map((l) => `${l.name} (${l.neurons})`);
  if (layers.length > LISTED_LAYERS) shown.push(`... (${layers.length} in all)`);
  return shown.join(', ');
}

/**
 * Whether `m` is comparable with `ref`: its layers map onto ref's one to one (./layerMapping:
 * the same names, names that differ only by format decoration, or the same widths in the same
 * order), and it has the same output shape and number of probe examples. Comparable: the
 * pairs (in ref's layer order); else why, in one line.
 */
export function comparability(
  m: Measured,
  ref: Measured,
): { pairs: LayerPair[] } | { why: string } {
  const refName = modelName(ref.path);
  const mine = layersOf(m.result);
  const theirs = layersOf(ref.result);
  const mapping = mapLayers(mine, theirs);
  if (!isComplete(mapping)) {
    return {
      why: oneLine(
        `measured layers ${layerList(mine)}; those of ${refName} are ${layerList(theirs)}`,
      ),
    };
  }
  const a = m.result.outputShape;
  const b = ref.result.outputShape;
  if (a !== null && b !== null && shapeText(a) !== shapeText(b)) {
    return {
      why: `output shape ${shapeText(a)} against ${shapeText(b)} for ${refName}: a model of another task`,
    };
  }
  const sa = m.result.report.params.samples;
  const sb = ref.result.report.params.samples;
  if (sa !== sb) {
    return { why: `measured on ${sa} examples, ${refName} on ${sb}: not the same probe` };
  }
  const pa = miSubsetText(m.result.report.params);
  const pb = miSubsetText(ref.result.report.params);
  if (pa !== pb) return { why: `MI measured on ${pa}, ${refName} on ${pb}: not the same plan` };
  return { pairs: mapping.pairs };
}

/** Which MI pairs a measurement covers: "every pair", "64 neurons per layer, 5,000 sampled pairs". */
function miSubsetText(p: { miNeuronCap: number | null; miPairs: number | null }): string {
  const parts: string[] = [];
  if (p.miNeuronCap !== null) parts.push(`${p.miNeuronCap} neurons per layer`);
  if (p.miPairs !== null) parts.push(`${p.miPairs.toLocaleString('en-US')} sampled pairs`);
  return parts.length === 0 ? 'every pair' : parts.join(', ');
}

/** Why `m` is not comparable with `ref`, in words, or null when it is (see comparability). */
export function notComparableReason(m: Measured, ref: Measured): string | null {
  const c = comparability(m, ref);
  return 'why' in c ? c.why : null;
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
