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

/** Every name when there are few, else the closest to `name` (or the first) and the count. */
function listNames(names: readonly string[], name = ''): string {
  if (names.length <= 12) return names.join(', ');
  const shown = name === '' ? names.slice(0, 5) : closeNames(name, names);
  return `${shown.join(', ')}, ... (${names.length} in all)`;
}

/**
 * The layers a capture reads, for every format: the requested names in the order given (a
 * layer's name, or one of its `aliases` such as an ONNX output tensor name), each once, or
 * every layer measured by default, in model order. Unknown names list the known (or the
 * closest) ones.
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
      throw new UserError(
        `${file}: no layer is measured by default: expected --layers naming some of ${listNames(names)}`,
      );
    }
    return chosen;
  }
  const byName = new Map<string, L>();
  for (const l of layers) for (const alias of aliases(l)) byName.set(alias, l);
  for (const l of layers) byName.set(l.name, l);
  const picked: L[] = [];
  for (const name of requested) {
    const layer = byName.get(name);
    if (layer === undefined)
      throw new UserError(
        `${file}: unknown layer '${name}': expected one of ${listNames(names, name)}`,
      );
    if (picked.includes(layer))
      throw new UserError(
        `${file}: layer '${layer.name}' is named twice: expected each layer once`,
      );
    picked.push(layer);
  }
  return picked;
}
