import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ActivationMatrix, LayerSlice } from '../activations';
import { UserError } from '../errors';
import { activationsFromNpy } from '../io/activationsNpy';
import { isNpy, toFloat64 } from '../io/npy';
import { isZip, parseNpz } from '../io/npz';
import { parseSafetensors } from '../io/safetensors';
import { readInput } from '../io/readInput';

/** The sidecar written beside an activation .npy: `acts.npy` -> `acts.layers.json`. */
export function sidecarPath(npyFile: string): string {
  return npyFile.replace(/\.npy$/i, '') + '.layers.json';
}

/** One layer of a dump: S x n values, row-major. */
interface DumpLayer {
  name: string;
  shape: number[];
  data: ArrayLike<number>;
}

/**
 * The rows and layers of per-layer S x n arrays side by side (a 1-D array: one neuron), or a
 * one-line UserError: an array not 1-D or 2-D, rows unlike the first's, no sample or neuron.
 */
export function dumpLayout(
  file: string,
  parts: readonly { name: string; shape: readonly number[] }[],
): { samples: number; neurons: number; layers: LayerSlice[] } {
  const samples = parts[0].shape[0];
  const layers: LayerSlice[] = [];
  let neurons = 0;
  for (const p of parts) {
    if (p.shape.length < 1 || p.shape.length > 2) {
      throw new UserError(
        `${file}: array '${p.name}' has shape [${p.shape.join(', ')}]: expected samples x neurons (2-D)`,
      );
    }
    if (p.shape[0] !== samples) {
      throw new UserError(
        `${file}: array '${p.name}' has ${p.shape[0]} samples: expected ${samples} like '${parts[0].name}'`,
      );
    }
    const width = p.shape.length === 1 ? 1 : p.shape[1];
    layers.push({ name: p.name, start: neurons, end: neurons + width });
    neurons += width;
  }
  if (samples === 0 || neurons === 0) {
    throw new UserError(
      `${file}: expected at least one sample and one neuron, found ${samples} x ${neurons}`,
    );
  }
  return { samples, neurons, layers };
}

/** Joins per-layer S x n arrays into one neuron-major matrix, checking shapes and finiteness. */
function assemble(file: string, parts: DumpLayer[]): ActivationMatrix {
  const { samples, neurons, layers } = dumpLayout(file, parts);
  const data = new Float64Array(samples * neurons);
  parts.forEach((p, li) => {
    const { start, end } = layers[li];
    const width = end - start;
    for (let s = 0; s < samples; s++) {
      for (let j = 0; j < width; j++) {
        const v = p.data[s * width + j];
        if (!Number.isFinite(v)) {
          throw new UserError(
            `${file}: expected finite activations, found ${String(v)} in '${p.name}' at sample ${s}, neuron ${j}`,
          );
        }
        data[(start + j) * samples + s] = v;
      }
    }
  });
  return { samples, neurons, data, layers };
}

/**
 * Layer slices from the capture sidecar of an .npy (`<name>.layers.json`), checked to tile the
 * columns 0..neurons; undefined when there is no sidecar.
 */
export async function readSidecarLayers(
  file: string,
  neurons: number,
): Promise<LayerSlice[] | undefined> {
  const side = sidecarPath(file);
  let text: string;
  try {
    text = await fs.readFile(side, 'utf8');
  } catch {
    return undefined;
  }
  let layers: unknown;
  try {
    layers = (JSON.parse(text) as { layers?: unknown }).layers;
  } catch {
    throw new UserError(
      `${side}: expected the JSON layer sidecar of ${path.basename(file)}, found invalid JSON`,
    );
  }
  const ok =
    Array.isArray(layers) &&
    layers.length > 0 &&
    layers.every(
      (l: LayerSlice, i) =>
        typeof l?.name === 'string' &&
        l.start === (i === 0 ? 0 : (layers as LayerSlice[])[i - 1].end) &&
        Number.isInteger(l.end) &&
        l.end > l.start,
    ) &&
    (layers as LayerSlice[])[layers.length - 1].end === neurons;
  if (!ok)
    throw new UserError(
      `${side}: expected layers with contiguous column ranges covering ${neurons} columns, found another layout`,
    );
  return (layers as LayerSlice[]).map(({ name, start, end }) => ({ name, start, end }));
}

/**
 * Reads an activation dump written by any framework into a neuron-major float64 matrix:
 * `.npy` one S x N matrix (layer ranges from a `<name>.layers.json` sidecar when present, else
 * one layer "all"); `.npz` one S x n array per layer, named by its key, in archive order;
 * `.safetensors` one S x n tensor per layer (F32/F64/F16/BF16), in header order or
 * `__metadata__.order`. A 1-D array counts as one neuron. NaN/Inf values are UserErrors.
 */
export async function loadActivationDump(file: string): Promise<ActivationMatrix> {
  const bytes = await readInput(file, 'the activations');
  const ext = path.extname(file).toLowerCase();
  if (isNpy(bytes) || ext === '.npy') {
    const { acts } = activationsFromNpy(bytes, file);
    const layers = await readSidecarLayers(file, acts.neurons);
    return layers === undefined ? acts : { ...acts, layers };
  }
  if (isZip(bytes) || ext === '.npz') {
    return assemble(
      file,
      parseNpz(bytes, file).map(({ name, array }) => ({
        name,
        shape: array.shape,
        data: toFloat64(array.data),
      })),
    );
  }
  if (ext === '.safetensors') {
    const tensors = parseSafetensors(bytes, file);
    checkSomeTensor(file, tensors.length);
    return assemble(file, tensors);
  }
  throw new UserError(
    `${file}: expected activations in .npy, .npz or .safetensors, found a '${ext || 'no extension'}' file`,
  );
}

/** A .safetensors dump holds at least one tensor read (a layer). */
export function checkSomeTensor(file: string, count: number): void {
  if (count === 0) throw new UserError(`${file}: expected at least one tensor, found none`);
}
