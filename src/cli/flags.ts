import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../core/errors';

/** What a <model> argument may be (the formats of src/core/capture/registry.ts), for --help. */
export const MODEL_FORMATS_HELP = `A model is a TF.js model.json or the folder holding it, an ONNX .onnx, a Keras .keras, .h5
or .hdf5, a TF SavedModel folder (saved_model.pb; needs @tensorflow/tfjs-node), a PyTorch
.pt, .pth, .ckpt or pytorch_model.bin, or a Hugging Face save_pretrained folder (config.json;
PyTorch and transformers run in your own Python).`;

/** An integer flag in min..max; each invalid value is a one-line UserError naming the flag. */
export function intFlag(
  flag: string,
  value: string | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range =
      max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in ${min}..${max}`;
    throw new UserError(`--${flag}: expected ${range}, found '${value}'`);
  }
  return n;
}

/** A real-valued flag >= min. */
export function numberFlag(
  flag: string,
  value: string | undefined,
  min: number,
): number | undefined {
  if (value === undefined) return undefined;
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || x < min) {
    throw new UserError(`--${flag}: expected a number >= ${min}, found '${value}'`);
  }
  return x;
}

/** A flag whose value is one of a fixed set of words. */
export function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UserError(`--${flag}: expected one of ${allowed.join(', ')}, found '${value}'`);
  }
  return value as T;
}

/**
 * Checks, before any long work, that each output file can be created: its folder exists and
 * is writable, and the path is not a folder. '-' (stdout) and undefined are skipped.
 */
export async function checkOutputs(files: (string | undefined)[]): Promise<void> {
  for (const file of files) {
    if (file === undefined || file === '-') continue;
    const dir = path.dirname(path.resolve(file));
    try {
      await fs.access(dir, constants.W_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new UserError(
        `${file}: cannot write output (${code}): expected an existing, writable folder '${dir}'`,
      );
    }
    const stat = await fs.stat(file).catch(() => null);
    if (stat?.isDirectory()) {
      throw new UserError(`${file}: cannot write output: expected a file path, found a folder`);
    }
  }
}

/** Formats a number for tables: fixed digits, '-' for NaN/null. */
export function num(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits);
}

/** A plain-text table: the first `left` columns left-aligned, the others right-aligned. */
export function formatTable(header: string[], rows: string[][], left = 1): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => (c < left ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
