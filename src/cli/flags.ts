import * as path from 'node:path';
import { modelContentFiles, sameModel } from '../core/capture/registry';
import { isActivationDump } from '../core/dumps/dumpFiles';
import { UserError } from '../core/errors';
import type { RunFile } from '../core/io/outputGuard';
import { guardOutputs } from '../core/io/outputGuard';

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

/** What a run reads and writes, for {@link checkOutputs}. */
export interface RunFiles {
  /** Each output by its flag ('--out', '--html' ...); undefined and '-' (stdout) are skipped. */
  outputs: [role: string, file: string | undefined][];
  /** The models or activation dumps read: each with its content files and a folder model's folder. */
  models?: string[];
  /** The other files and folders read ('probe', 'metric CSV' ...); undefined is skipped. */
  inputs?: [role: string, file: string | undefined][];
  /** Create the outputs' missing folders once the checks pass. */
  createFolders?: boolean;
}

/** A model's files as inputs: the path, its content files (weight shards), a folder model's folder. */
async function modelFiles(model: string): Promise<RunFile[]> {
  const dump = isActivationDump(model);
  const files: RunFile[] = [{ file: model, role: dump ? 'activation dump' : 'model' }];
  const content = await modelContentFiles(model).catch(() => [] as string[]);
  for (const file of content) files.push({ file, role: dump ? 'dump file' : 'model file' });
  // A marker file (model.json, saved_model.pb, config.json) stands for its folder.
  for (const file of [model, ...content]) {
    if (sameModel(file, path.dirname(file)))
      files.push({ file: path.dirname(file), role: 'model folder' });
  }
  return files;
}

/**
 * Checks, before any long work, every output of a run with the output guard
 * (src/core/io/outputGuard.ts): none is an input of the run or lies inside an input folder
 * (a model's folder, an image folder), no two name the same file, none is a folder, device,
 * FIFO or socket, and each one's folder exists and is writable. A one-line UserError otherwise.
 */
export async function checkOutputs(run: RunFiles): Promise<void> {
  const present = (pairs: [string, string | undefined][]): RunFile[] =>
    pairs.flatMap(([role, file]) => (file === undefined ? [] : [{ file, role }]));
  const inputs = present(run.inputs ?? []);
  for (const model of run.models ?? []) inputs.push(...(await modelFiles(model)));
  await guardOutputs(present(run.outputs), inputs, { createFolders: run.createFolders });
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
