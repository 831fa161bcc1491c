/**
 * What an .npy, .npz or .safetensors file holds, for the model viewer: each array's name, dtype
 * and shape, whether it reads as an activation dump (samples x neurons per layer) and whether it
 * reads as probe data. Read by the dump and probe readers themselves, so the verdicts are the
 * ones an analysis would reach.
 */
import * as path from 'node:path';
import { UserError } from '../errors';
import { NPY_DTYPE_NAMES, isNpy, parseNpy } from '../io/npy';
import { isZip, parseNpz } from '../io/npz';
import { readInput } from '../io/readInput';
import { parseSafetensors } from '../io/safetensors';
import { loadProbe } from '../probe/loadProbe';
import { loadActivationDump } from './loadDump';

/** One array of the file. */
export interface ArraySummary {
  name: string;
  dtype: string;
  shape: number[];
}

/** The file's arrays and how MemLens can use them. */
export interface ArraysDescription {
  /** Null when the file cannot be read at all (see `error`). */
  arrays: ArraySummary[] | null;
  /** The reader's one-line message when the file cannot be read. */
  error?: string;
  /** Read as an activation dump: its size, or why it is not one. */
  dump: { samples: number; neurons: number; layers: number } | { error: string };
  /** Read as probe data (.npy, .npz): its shape, or why it is not usable. */
  probe?: { shape: number[] } | { error: string };
}

const SAFETENSORS_DTYPES: Record<string, string> = {
  F64: 'float64',
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
};

async function readArrays(file: string): Promise<ArraySummary[]> {
  const bytes = await readInput(file, 'the arrays');
  const ext = path.extname(file).toLowerCase();
  if (isNpy(bytes) || ext === '.npy') {
    const a = parseNpy(bytes, file);
    return [
      {
        name: path.basename(file, path.extname(file)),
        dtype: NPY_DTYPE_NAMES[a.dtype],
        shape: a.shape,
      },
    ];
  }
  if (isZip(bytes) || ext === '.npz')
    return parseNpz(bytes, file).map(({ name, array }) => ({
      name,
      dtype: NPY_DTYPE_NAMES[array.dtype],
      shape: array.shape,
    }));
  return parseSafetensors(bytes, file).map(({ name, dtype, shape }) => ({
    name,
    dtype: SAFETENSORS_DTYPES[dtype] ?? dtype,
    shape,
  }));
}

/** A UserError's message, or the error itself when it is not one (an internal fault). */
function userMessage(err: unknown): string {
  if (err instanceof UserError) return err.message;
  throw err;
}

/** Describes an .npy, .npz or .safetensors file; any reader's refusal is reported, not thrown. */
export async function describeArrays(file: string): Promise<ArraysDescription> {
  let arrays: ArraySummary[];
  try {
    arrays = await readArrays(file);
  } catch (err) {
    const error = userMessage(err);
    return { arrays: null, error, dump: { error } };
  }
  let dump: ArraysDescription['dump'];
  try {
    const acts = await loadActivationDump(file);
    dump = { samples: acts.samples, neurons: acts.neurons, layers: acts.layers.length };
  } catch (err) {
    dump = { error: userMessage(err) };
  }
  let probe: ArraysDescription['probe'];
  if (path.extname(file).toLowerCase() !== '.safetensors') {
    try {
      probe = { shape: (await loadProbe(file)).shape };
    } catch (err) {
      probe = { error: userMessage(err) };
    }
  }
  return { arrays, dump, ...(probe === undefined ? {} : { probe }) };
}
