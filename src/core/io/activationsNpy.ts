import { promises as fs } from 'node:fs';
import type { ActivationMatrix, LayerSlice } from '../activations';
import { fromRowMajor } from '../activations';
import { UserError } from '../errors';
import { NPY_DTYPE_NAMES, isNpy, parseNpy } from './npy';

export interface ActivationsNpyOptions {
  /** k of the MI estimator: the file needs at least k + 1 examples (default 3). */
  k?: number;
  /** Drop the examples (rows) holding NaN or Inf instead of refusing the file. */
  dropNonfinite?: boolean;
  /** Neurons per layer, in column order; must sum to N. Without it: one layer "all". */
  layerSizes?: readonly number[];
}

export interface LoadedActivations {
  acts: ActivationMatrix;
  dtype: 'float32' | 'float64';
  /** Examples dropped for NaN/Inf values (0 unless dropNonfinite). */
  droppedRows: number;
}

/**
 * Reads an S x N activation matrix (S examples, N neurons) from a float32 or float64 C-order
 * .npy file. Every refusal is a one-line UserError naming the file, what was expected and
 * what was found: not a .npy or truncated, a dtype other than float32/float64, not 2-D,
 * N = 0, S < k + 1, NaN/Inf values (naming the neuron and the count, unless dropNonfinite),
 * layer sizes that do not sum to N.
 */
export async function readActivationsNpy(
  file: string,
  opts: ActivationsNpyOptions = {},
): Promise<LoadedActivations> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    throw unreadable(file, err);
  }
  return activationsFromNpy(bytes, file, opts);
}

/** The one-line refusal of an activation .npy that cannot be read (missing, a folder...). */
export function unreadable(file: string, err: unknown): UserError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  return new UserError(
    `${file}: cannot read the file (${code}): expected an S x N .npy activation matrix`,
  );
}

/** {@link readActivationsNpy} on bytes already in memory; `name` is used in messages. */
export function activationsFromNpy(
  bytes: Uint8Array,
  name: string,
  opts: ActivationsNpyOptions = {},
): LoadedActivations {
  const k = opts.k ?? 3;
  checkActivationsDescr(bytes, name);
  // A plain Uint8Array view: a Node Buffer's slice() shares memory instead of copying, which
  // parseNpy's aligned copy relies on.
  const arr = parseNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), name);
  const [rows, neurons] = checkActivationsShape(arr.shape, name);
  const values = arr.data as Float32Array | Float64Array;
  const bad = nonfiniteByColumn(values, rows, neurons);
  let data: ArrayLike<number> = values;
  let samples = rows;
  let droppedRows = 0;
  if (bad.total > 0) {
    if (!opts.dropNonfinite) throw nonfiniteError(name, bad.perColumn, bad.total);
    ({ data, samples } = dropRows(values, rows, neurons, bad.badRow));
    droppedRows = rows - samples;
  }
  checkEnoughRows(name, samples, droppedRows, k);
  const layers = opts.layerSizes ? layersFromSizes(opts.layerSizes, neurons, name) : undefined;
  return {
    acts: fromRowMajor(data, samples, neurons, layers),
    dtype: arr.dtype === 'f4' ? 'float32' : 'float64',
    droppedRows,
  };
}

/**
 * Refuses a .npy whose dtype is not float32 or float64, from its first bytes (the header), in
 * one line naming the dtype; bytes that are no readable .npy header pass (parseNpy says why).
 */
export function checkActivationsDescr(bytes: Uint8Array, name: string): void {
  const descr = peekDescr(bytes);
  if (descr !== undefined && !/^[<>=|]f[48]$/.test(descr)) {
    const known = NPY_DTYPE_NAMES[descr.replace(/^[<>=|]/, '')];
    throw new UserError(
      `${name}: unsupported dtype '${descr}'${known ? ` (${known})` : ''}: expected float32 or float64 activations`,
    );
  }
}

/** [S, N] of an S x N activation matrix's shape: 2-D with N > 0, else a one-line UserError. */
export function checkActivationsShape(shape: readonly number[], name: string): [number, number] {
  if (shape.length !== 2) {
    const text = `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
    throw new UserError(
      `${name}: expected a 2-D S x N array (examples x neurons), found ${shape.length}-D shape ${text}`,
    );
  }
  const [rows, neurons] = shape;
  if (neurons === 0)
    throw new UserError(`${name}: expected at least one neuron (column), found shape (${rows}, 0)`);
  return [rows, neurons];
}

/** The refusal of NaN/Inf values: `perColumn` counts them per neuron, `total` in all. */
export function nonfiniteError(
  name: string,
  perColumn: readonly number[],
  total: number,
): UserError {
  const first = perColumn.findIndex((c) => c > 0);
  const cols = perColumn.filter((c) => c > 0).length;
  const rest = cols > 1 ? ` (${total} in ${cols} neurons in all)` : '';
  return new UserError(
    `${name}: expected finite values, found ${perColumn[first]} NaN/Inf in neuron (column) ${first}${rest}; ` +
      `choose drop-nonfinite to drop those examples`,
  );
}

/** Refuses fewer than k + 1 examples (rows), `dropped` of them dropped for NaN/Inf. */
export function checkEnoughRows(name: string, samples: number, dropped: number, k: number): void {
  if (samples >= k + 1) return;
  const after = dropped > 0 ? ` after dropping ${dropped} with NaN/Inf` : '';
  throw new UserError(
    `${name}: expected at least k + 1 = ${k + 1} examples (rows), found ${samples}${after}`,
  );
}

/**
 * Layer slices from consecutive sizes (named "layer1", "layer2", ...). `name` (the file) is
 * used in the error when the sizes are not positive integers summing to `neurons`.
 */
export function layersFromSizes(
  sizes: readonly number[],
  neurons: number,
  name: string,
): LayerSlice[] {
  const sum = sizes.reduce((a, b) => a + b, 0);
  if (sizes.length === 0 || sizes.some((s) => !Number.isInteger(s) || s < 1) || sum !== neurons) {
    throw new UserError(
      `${name}: layer sizes ${sizes.join(',')} must be positive integers summing to the file's ${neurons} neurons (columns), found sum ${sum}`,
    );
  }
  const layers: LayerSlice[] = [];
  let start = 0;
  sizes.forEach((size, i) => {
    layers.push({ name: `layer${i + 1}`, start, end: start + size });
    start += size;
  });
  return layers;
}

/** The 'descr' of a .npy header, or undefined when the bytes are not a readable .npy header. */
function peekDescr(bytes: Uint8Array): string | undefined {
  if (!isNpy(bytes) || bytes.length < 10) return undefined;
  const head = new TextDecoder('latin1').decode(bytes.subarray(8, Math.min(bytes.length, 4096)));
  return /'descr'\s*:\s*'([^']*)'/.exec(head)?.[1];
}

function nonfiniteByColumn(values: ArrayLike<number>, rows: number, neurons: number) {
  const perColumn = new Array<number>(neurons).fill(0);
  const badRow = new Uint8Array(rows);
  let total = 0;
  for (let s = 0; s < rows; s++) {
    const base = s * neurons;
    for (let n = 0; n < neurons; n++) {
      if (!Number.isFinite(values[base + n])) {
        perColumn[n]++;
        badRow[s] = 1;
        total++;
      }
    }
  }
  return { perColumn, badRow, total };
}

function dropRows(values: ArrayLike<number>, rows: number, neurons: number, badRow: Uint8Array) {
  let kept = 0;
  for (let s = 0; s < rows; s++) if (!badRow[s]) kept++;
  const out = new Float64Array(kept * neurons);
  let r = 0;
  for (let s = 0; s < rows; s++) {
    if (badRow[s]) continue;
    for (let n = 0; n < neurons; n++) out[r * neurons + n] = values[s * neurons + n];
    r++;
  }
  return { data: out, samples: kept };
}
