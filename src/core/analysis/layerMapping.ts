/**
 * Maps the measured layers of one model onto those of another model of the same network
 * saved in another format: an activation dump names its layers as whoever dumped them chose
 * (PyTorch module names `fc1`), the ONNX export of the same net measures nodes (`/fc1/Gemm`),
 * DataParallel and Lightning prefix module names (`module.fc1`, `model.fc1`). Pure: names and
 * widths in, pairs out. Layers of different widths are never mapped.
 */

/** One measured layer: its name and width, in model order. */
export interface NamedLayer {
  name: string;
  neurons: number;
}

/**
 * How a pair was matched: `exact` (the same name), `name` (the same name once format
 * decoration is stripped: see {@link layerKey}) or `position` (the same place and width in two
 * lists of the same widths in the same order).
 */
export type LayerMatch = 'exact' | 'name' | 'position';

export interface LayerPair {
  /** The layer of the mapped model. */
  from: string;
  /** The layer of the model it is mapped onto. */
  to: string;
  how: LayerMatch;
}

export interface LayerMapping {
  /** The matched pairs, in the order of the layers mapped onto. */
  pairs: LayerPair[];
  /** Layers of either side that stayed unmatched, in their model's order. */
  unmatchedFrom: NamedLayer[];
  unmatchedTo: NamedLayer[];
}

/** A graph op closing a scoped node name (`/fc1/Gemm`, `dense/BiasAdd`, `/Relu_1`): CamelCase. */
const OP_SEGMENT = /^[A-Z][A-Za-z0-9]*(_\d+)?$/;
/** Prefixes that wrappers add to module names: DataParallel's `module.`, Lightning's `model.`. */
const WRAPPER_PREFIX = /^(module|model)\./;

/**
 * A layer's name without the decoration its format adds, for matching across formats: no
 * tensor index (`:0`) or ONNX output suffix (`_output_0`), no closing op of a scoped node name
 * (`/fc1/Gemm` -> `fc1`, `dense/BiasAdd` -> `dense`), scopes
 * joined as module paths (`/encoder/layer.0/fc/MatMul` -> `encoder.layer.0.fc`; TorchScript's
 * `/block/block.0/Gemm`, whose scopes repeat the path, -> `block.0`), no `.weight`/`.bias`
 * and no wrapper prefixes (`module.`, `model.`). Empty when nothing is left (`/Relu`).
 */
export function layerKey(name: string): string {
  const bare = name.replace(/:\d+$/, '').replace(/_output_\d+$/, '');
  let key = bare;
  if (bare.includes('/')) {
    const scopes = bare.split('/').filter((s) => s !== '');
    const last = scopes.at(-1);
    if (last !== undefined && OP_SEGMENT.test(last)) scopes.pop();
    const nested = scopes.every((s, i) => i === 0 || s.startsWith(`${scopes[i - 1]}.`));
    key = nested ? (scopes.at(-1) ?? '') : scopes.join('.');
  }
  key = key.replace(/\.(weight|bias)$/, '');
  while (WRAPPER_PREFIX.test(key)) key = key.replace(WRAPPER_PREFIX, '');
  return key;
}

/** The keys that occur exactly once in a list of names (an ambiguous key matches nothing). */
function uniqueKeys(names: readonly string[]): Map<string, number> {
  const count = new Map<string, number>();
  for (const n of names) count.set(n, (count.get(n) ?? 0) + 1);
  const at = new Map<string, number>();
  names.forEach((n, i) => {
    if (n !== '' && count.get(n) === 1) at.set(n, i);
  });
  return at;
}

/**
 * Maps `from` onto `to`: exact names first (equal widths), then equal {@link layerKey}s
 * (equal widths, each key once on each side), then, when layers are still unmatched, by
 * position: only if both lists have as many layers, of the same widths in the same order,
 * every pair matched so far sits at the same position, and no layer's key names a layer at
 * another position (names that contradict the order make it ambiguous). Anything left is
 * listed as unmatched.
 */
export function mapLayers(from: readonly NamedLayer[], to: readonly NamedLayer[]): LayerMapping {
  // matchOf[j]: the index in `from` matched with to[j], and how.
  const matchOf: ({ i: number; how: LayerMatch } | undefined)[] = to.map(() => undefined);
  const taken = new Set<number>();
  const pair = (i: number, j: number, how: LayerMatch): void => {
    matchOf[j] = { i, how };
    taken.add(i);
  };
  const exact = uniqueKeys(from.map((l) => l.name));
  to.forEach((t, j) => {
    const i = exact.get(t.name);
    if (i !== undefined && from[i].neurons === t.neurons) pair(i, j, 'exact');
  });
  const fromKeys = from.map((l) => layerKey(l.name));
  const toKeys = to.map((l) => layerKey(l.name));
  const byKey = uniqueKeys(fromKeys.map((k, i) => (taken.has(i) ? '' : k)));
  const toUnique = uniqueKeys(toKeys.map((k, j) => (matchOf[j] === undefined ? k : '')));
  to.forEach((t, j) => {
    if (matchOf[j] !== undefined || !toUnique.has(toKeys[j])) return;
    const i = byKey.get(toKeys[j]);
    if (i !== undefined && from[i].neurons === t.neurons) pair(i, j, 'name');
  });
  const open = to.some((_, j) => matchOf[j] === undefined) || taken.size < from.length;
  if (open && positionsAgree(from, to, fromKeys, toKeys, matchOf)) {
    to.forEach((_, j) => {
      if (matchOf[j] === undefined) pair(j, j, 'position');
    });
  }
  const pairs: LayerPair[] = [];
  to.forEach((t, j) => {
    const m = matchOf[j];
    if (m !== undefined) pairs.push({ from: from[m.i].name, to: t.name, how: m.how });
  });
  return {
    pairs,
    unmatchedFrom: from.filter((_, i) => !taken.has(i)),
    unmatchedTo: to.filter((_, j) => matchOf[j] === undefined),
  };
}

/** Whether the layers left unmatched can be paired by position without ambiguity. */
function positionsAgree(
  from: readonly NamedLayer[],
  to: readonly NamedLayer[],
  fromKeys: readonly string[],
  toKeys: readonly string[],
  matchOf: readonly ({ i: number } | undefined)[],
): boolean {
  if (from.length !== to.length || from.some((l, i) => l.neurons !== to[i].neurons)) return false;
  if (matchOf.some((m, j) => m !== undefined && m.i !== j)) return false;
  return to.every((_, j) => {
    if (matchOf[j] !== undefined) return true;
    const elsewhere = (key: string, keys: readonly string[]): boolean =>
      key !== '' && keys.some((k, x) => x !== j && k === key);
    return !elsewhere(fromKeys[j], toKeys) && !elsewhere(toKeys[j], fromKeys);
  });
}

/** Whether every layer on both sides is matched. */
export function isComplete(m: LayerMapping): boolean {
  return m.unmatchedFrom.length === 0 && m.unmatchedTo.length === 0;
}

/** Pairs shown in a note before it says how many there are in all. */
const SHOWN_PAIRS = 4;

/**
 * The mapping in words for a note, or null when every pair is exact: "layers matched by name
 * (/fc1/Gemm → fc1, /fc2/Gemm → fc2)", "layers matched by position and width (a → fc1)", or
 * both, each listing at most a few pairs.
 */
export function mappingNote(pairs: readonly LayerPair[]): string | null {
  const parts = (['name', 'position'] as const).flatMap((how) => {
    const mapped = pairs.filter((p) => p.how === how);
    if (mapped.length === 0) return [];
    const shown = mapped.slice(0, SHOWN_PAIRS).map((p) => `${p.from} → ${p.to}`);
    if (mapped.length > SHOWN_PAIRS) shown.push(`... ${mapped.length} in all`);
    return [`${how === 'name' ? 'by name' : 'by position and width'} (${shown.join(', ')})`];
  });
  return parts.length === 0 ? null : `layers matched ${parts.join(' and ')}`;
}
