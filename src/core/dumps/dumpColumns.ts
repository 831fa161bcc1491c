// Dumps a shard reads by columns, never whole: an .npy (NpyColumns) and a .safetensors, whose
// tensors are its layers (ArrayColumns over them at their byte offsets). The layers and the
// values are those loadActivationDump reads.
import * as path from 'node:path';
import type { LayerSlice } from '../activations';
import { ArrayColumns } from '../io/arrayColumns';
import { NpyColumns } from '../io/npyColumns';
import { safetensorsHeaderEnd, safetensorsLayout } from '../io/safetensors';
import type { ColumnSource } from './dumpShard';
import { checkSomeTensor, dumpLayout, readSidecarLayers } from './loadDump';

/** A dump open by columns, and its layers. */
export interface DumpColumns {
  dump: ColumnSource & { close(): void };
  layers: LayerSlice[];
}

/** `file` open by columns, or undefined for a dump that is read whole (an .npz). */
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
  if (ext !== '.safetensors') return undefined;
  let layers: LayerSlice[] = [];
  const dump = ArrayColumns.open(file, (read, size) => {
    const end = safetensorsHeaderEnd(read(Math.min(size, 8), 0), size, file);
    const { dataStart, tensors } = safetensorsLayout(read(end, 0), size, file);
    checkSomeTensor(file, tensors.length);
    const shape = dumpLayout(file, tensors);
    layers = shape.layers;
    return {
      samples: shape.samples,
      arrays: tensors.map((t, i) => ({
        dataStart: dataStart + t.begin,
        width: layers[i].end - layers[i].start,
        dtype: t.dtype,
      })),
    };
  });
  return { dump, layers };
}
