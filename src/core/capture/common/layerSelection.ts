import { layerKey } from '../../analysis/layerMapping';
import { UserError } from '../../errors';
import type { LayerInfo } from '../format';

/** Levenshtein distance, for suggesting close layer names. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = next;
    }
  }
  return row[b.length];
}

/** Up to five known names closest to `name` (edit distance, case-insensitive). */
export function closeNames(name: string, known: readonly string[]): string[] {
  const lower = name.toLowerCase();
  return known
    .map((k) => ({ k, d: distance(lower, k.toLowerCase()) }))
    .sort((x, y) => x.d - y.d || x.k.localeCompare(y.k))
    .slice(0, 5)
    .map((x) => x.k);
}

/** Characters of names a message lists before it counts the rest (a message is one line). */
const LISTED_CHARACTERS = 120;

/**
 * Names for a one-line message: every name when there are few, else the closest to `name`
 * (or the first); as many as fit in {@link LISTED_CHARACTERS}, then how many more.
 */
function listNames(names: readonly string[], name = ''): { text: string; more: number } {
  const candidates = names.length <= 12 || name === '' ? names : closeNames(name, names);
  const shown: string[] = [];
  let length = 0;
  for (const n of candidates) {
    if (shown.length > 0 && length + n.length > LISTED_CHARACTERS) break;
    shown.push(n);
    length += n.length + 2;
  }
  const more = names.length - shown.length;
  return { text: `${shown.join(', ')}${more === 0 ? '' : ` ... and ${more} more`}`, more };
}

/**
 * Where an asked layer name points among layers known by one or more names each (the first is
 * the layer's own): the layer with that name; else the one layer whose name, once format
 * decoration is stripped, is the asked one's (`fc1` finds `/fc1/Gemm` in the ONNX export of a
 * PyTorch net, `/fc1/Gemm` finds a dump's `fc1`: see layerKey); else none, with the names
 * that come close (several such layers, or a stripped name one or two edits away).
 */
export function lookupLayer(
  asked: string,
  layers: readonly (readonly string[])[],
): { index: number } | { close: string[] } {
  const exact = layers.findIndex((names) => names.includes(asked));
  if (exact >= 0) return { index: exact };
  const key = layerKey(asked);
  if (key === '') return { close: [] };
  const keys = layers.map((names) => names.map(layerKey));
  const hits = keys.flatMap((k, i) => (k.includes(key) ? [i] : []));
  if (hits.length === 1) return { index: hits[0] };
  if (hits.length > 1) return { close: hits.map((i) => layers[i][0]) };
  const near = Math.min(2, Math.floor(key.length / 3));
  const close = keys
    .map((k, i) => ({ i, d: Math.min(...k.filter((x) => x !== '').map((x) => distance(key, x))) }))
    .filter((x) => x.d <= near)
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .slice(0, 3);
  return { close: close.map((x) => layers[x.i][0]) };
}

/** The message for an asked layer that no layer answers to, listing the known ones. */
export function unknownLayerMessage(
  file: string,
  asked: string,
  names: readonly string[],
  close: readonly string[],
): string {
  const hint =
    close.length === 0 ? '' : `; did you mean ${close.map((c) => `'${c}'`).join(' or ')}?`;
  return `${file}: unknown layer '${asked}': expected one of ${listNames(names, asked).text}${hint}`;
}

/**
 * The layers a capture reads, for every format: the requested names in the order given (a
 * layer's name, or one of its `aliases` such as an ONNX output tensor name, or a name that
 * {@link lookupLayer} resolves), each once, or every layer measured by default, in model
 * order. Unknown names list the known (or the closest) ones.
 */
export function selectLayers<L extends LayerInfo>(
  file: string,
  layers: readonly L[],
  requested?: readonly string[],
  aliases: (layer: L) => readonly string[] = () => [],
): L[] {
  const names = layers.map((l) => l.name);
  if (requested === undefined || requested.length === 0) {
    const chosen = layers.filter((l) => l.measuredByDefault);
    if (chosen.length === 0) {
      const { text, more } = listNames(names);
      throw new UserError(
        `${file}: no layer is measured by default: expected --layers naming some of ${text}${more === 0 ? '' : `; run \`memlens layers ${file}\``}`,
      );
    }
    return chosen;
  }
  // A layer's own name before any alias of another layer.
  const byName = new Map<string, L>();
  for (const l of layers) for (const alias of aliases(l)) byName.set(alias, l);
  for (const l of layers) byName.set(l.name, l);
  const known = layers.map((l) => [l.name, ...aliases(l)]);
  const picked: L[] = [];
  for (const name of requested) {
    let layer = byName.get(name);
    if (layer === undefined) {
      const found = lookupLayer(name, known);
      if ('close' in found)
        throw new UserError(unknownLayerMessage(file, name, names, found.close));
      layer = layers[found.index];
    }
    if (picked.includes(layer))
      throw new UserError(
        `${file}: layer '${layer.name}' is named twice: expected each layer once`,
      );
    picked.push(layer);
  }
  return picked;
}
