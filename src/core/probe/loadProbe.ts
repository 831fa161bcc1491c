import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import type { NdArray } from '../io/npy';
import { isNpy, parseNpy, toFloat64 } from '../io/npy';
import { isZip, parseNpz } from '../io/npz';
import { fitProbe } from './fit';
import { loadImageFolder } from './images';
import { probeArrayName } from './probePeek';
import { checkFinite, chooseSamples, gatherRows } from './subset';
import type { RawProbe } from './text';
import { parseCsv, parseJsonl } from './text';
import type { ProbeOptions, ProbeSet } from './types';
import { readInput } from '../io/readInput';

/** The array of an .npz probe: the one named by `array`, the only one, or one called x/input/inputs. */
function pickNpzArray(file: string, bytes: Uint8Array, wanted: string | undefined): NdArray {
  const arrays = parseNpz(bytes, file);
  const names = arrays.map((a) => a.name);
  const chosen = probeArrayName(file, names, wanted);
  return arrays[names.indexOf(chosen)].array;
}

function fromArray(file: string, a: NdArray): RawProbe {
  if (a.shape.length === 0)
    throw new UserError(`${file}: expected a batch-first array, found a scalar`);
  // A 1-D array is a batch of scalar examples.
  const shape = a.shape.length === 1 ? [a.shape[0], 1] : a.shape;
  return { shape, data: toFloat64(a.data) };
}

async function readRaw(file: string, opts: ProbeOptions): Promise<RawProbe> {
  const bytes = await readInput(file, 'the probe');
  const ext = path.extname(file).toLowerCase();
  if (isNpy(bytes)) return fromArray(file, parseNpy(bytes, file));
  if (isZip(bytes)) return fromArray(file, pickNpzArray(file, bytes, opts.array));
  if (ext === '.npy' || ext === '.npz') {
    return fromArray(
      file,
      ext === '.npy' ? parseNpy(bytes, file) : pickNpzArray(file, bytes, opts.array),
    );
  }
  const text = new TextDecoder().decode(bytes);
  if (ext === '.csv' || ext === '.tsv') return parseCsv(text, file, opts.onWarning);
  if (ext === '.jsonl' || ext === '.ndjson') return parseJsonl(text, file);
  throw new UserError(
    `${file}: expected a probe set (.npy, .npz, .csv, .jsonl or a folder of PNG/JPEG images), found a '${ext || 'no extension'}' file`,
  );
}

/**
 * Loads a probe set: .npy / .npz arrays (batch first; integer dtypes converted to float
 * values unchanged), .csv numeric rows (header optional), .jsonl (an array or {"input": ...}
 * per line), or a folder of PNG/JPEG images (resized bilinearly to the model input, scaled per
 * `imageScale`, default 0-1). `samples` + `seed` draw a deterministic subset; NaN/Inf and an
 * empty set are UserErrors; with `inputShape` the examples are checked and reshaped to fit.
 */
export async function loadProbe(file: string, opts: ProbeOptions = {}): Promise<ProbeSet> {
  let isDir: boolean;
  try {
    isDir = (await fs.stat(file)).isDirectory();
  } catch (err) {
    throw new UserError(
      `${file}: cannot read the probe (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let probe: ProbeSet;
  if (isDir) {
    probe = await loadImageFolder(file, opts);
  } else {
    const raw = await readRaw(file, opts);
    const size = raw.shape.slice(1).reduce((a, b) => a * b, 1);
    const indices = chooseSamples(file, raw.shape[0], opts);
    if (size === 0)
      throw new UserError(
        `${file}: expected examples with at least one value, found shape [${raw.shape.join(', ')}]`,
      );
    probe = {
      source: file,
      shape: [indices.length, ...raw.shape.slice(1)],
      data: gatherRows(raw.data, size, indices),
      sampleIndices: indices,
    };
  }
  checkFinite(
    file,
    probe.data,
    probe.shape.slice(1).reduce((a, b) => a * b, 1),
    probe.sampleIndices,
  );
  return opts.inputShape === undefined ? probe : fitProbe(probe, opts.inputShape);
}
