// Dumps a shard reads by columns, never whole: an .npy (NpyColumns), and a .safetensors or an
// .npz whose members are stored (np.savez), whose tensors or arrays are its layers (ArrayColumns
// over them at their byte offsets). The layers and the values are those loadActivationDump
// reads; an .npz with a deflated member (np.savez_compressed) cannot be read by offset.
import * as path from 'node:path';
import type { LayerSlice } from '../activations';
import { ArrayColumns } from '../io/arrayColumns';
import type { ColumnDtype } from '../io/npyColumns';
import { NpyColumns } from '../io/npyColumns';
import { isZip, storedNpzArrays } from '../io/npz';
import { safetensorsHeaderEnd, safetensorsLayout } from '../io/safetensors';
import type { ColumnSource } from './dumpShard';
import { checkSomeTensor, dumpLayout, readSidecarLayers } from './loadDump';

/** A dump open by columns, and its layers. */
export interface DumpColumns {
  dump: ColumnSource & { close(): void };
  layers: LayerSlice[];
}

/** `file` open by columns, or undefined for a dump that is read whole (see {@link npzLayers}). */
export async function openDumpColumns(file: string): Promise<DumpColumns | undefined> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.npy') {
    const dump = NpyColumns.open(file);
    try {
      const layers = (await readSidecarLayers(file, dump.neurons)) ?? [
        { name: 'all', start: 0, end: dump.neurons },
      ];
      return { dump, layers };
    } catch (err) {
      dump.close();
      throw err;
    }
  }
  if (ext === '.safetensors') return layerColumns(file, safetensorsLayers);
  if (ext === '.npz') return layerColumns(file, npzLayers);
  return undefined;
}

/** A layer of a dump as it lies in the file: an S x n (or S) array from byte `dataStart`. */
interface LayerAt {
  name: string;
  shape: readonly number[];
  dataStart: number;
  dtype: ColumnDtype;
}

type Read = (length: number, position: number) => Uint8Array;

/** `file` open by columns over the layers `find` finds (undefined: a file read whole). */
function layerColumns(
  file: string,
  find: (file: string, read: Read, size: number) => LayerAt[] | undefined,
): DumpColumns | undefined {
  let layers: LayerSlice[] = [];
  const dump = ArrayColumns.open(file, (read, size) => {
    const parts = find(file, read, size);
    if (parts === undefined) return undefined;
    const shape = dumpLayout(file, parts);
    layers = shape.layers;
    return {
      samples: shape.samples,
      arrays: parts.map((p, i) => ({
        dataStart: p.dataStart,
        width: layers[i].end - layers[i].start,
        dtype: p.dtype,
      })),
    };
  });
  return dump && { dump, layers };
}

/** The tensors of a .safetensors, from its header. */
function safetensorsLayers(file: string, read: Read, size: number): LayerAt[] {
  const end = safetensorsHeaderEnd(read(Math.min(size, 8), 0), size, file);
  const { dataStart, tensors } = safetensorsLayout(read(end, 0), size, file);
  checkSomeTensor(file, tensors.length);
  return tensors.map((t) => ({ ...t, dataStart: dataStart + t.begin }));
}

/**
 * The arrays of an .npz whose .npy members are all stored float32 or float64; otherwise
 * undefined, and loadActivationDump reads the file whole: a deflated member, integer arrays
 * (which it converts), or a file that is no zip (which it reads as an .npy, or refuses).
 */
function npzLayers(file: string, read: Read, size: number): LayerAt[] | undefined {
  if (!isZip(read(Math.min(size, 4), 0))) return undefined;
  const arrays = storedNpzArrays({ size, read }, file);
  if (
    arrays === undefined ||
    arrays.some((a) => a.layout.dtype !== 'f4' && a.layout.dtype !== 'f8')
  )
    return undefined;
  return arrays.map((a) => ({
    name: a.name,
    shape: a.layout.shape,
    dataStart: a.dataStart,
    dtype: a.layout.dtype === 'f4' ? 'F32' : 'F64',
  }));
}
