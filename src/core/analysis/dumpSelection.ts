// What an analysis selects of a dump: the layers named (in the order named) and a seeded
// subset of its rows, in memory (./analyze) or read by columns (a shard, a merge).
import type { LayerSlice } from '../activations';
import { lookupLayer, unknownLayerMessage } from '../capture/common/layerSelection';
import type { DumpColumns } from '../dumps/dumpColumns';
import type { ColumnSource } from '../dumps/dumpShard';
import { scanDump } from '../dumps/dumpShard';
import { DumpView } from '../dumps/dumpView';
import { UserError } from '../errors';
import { chooseSamples } from '../probe/subset';

/**
 * The named layers of a dump, in the order asked (looked up as a capture does; an unknown
 * name is a UserError): their slices of the dump's columns, and their layers once put side by
 * side in that order.
 */
export function namedLayers(
  file: string,
  layers: readonly LayerSlice[],
  names: string[],
): { slices: LayerSlice[]; layers: LayerSlice[] } {
  const known = layers.map((l) => [l.name]);
  const slices = names.map((name) => {
    const found = lookupLayer(name, known);
    if ('close' in found) {
      throw new UserError(
        unknownLayerMessage(
          file,
          name,
          layers.map((l) => l.name),
          found.close,
        ),
      );
    }
    return layers[found.index];
  });
  let start = 0;
  const placed = slices.map((s) => {
    const layer = { name: s.name, start, end: start + s.end - s.start };
    start = layer.end;
    return layer;
  });
  return { slices, layers: placed };
}

/**
 * A dump open by columns as an analysis selects it (activationsOf in ./analyze, in memory):
 * its layers, those named in the order named, and the rows `samples` of them seeded by `seed`.
 */
export function dumpSelection(
  { dump, layers: all }: DumpColumns,
  opts: { layers?: string[]; samples?: number; seed?: number },
): { view: ColumnSource; layers: LayerSlice[] } {
  const file = dump.file;
  const names = opts.layers ?? [];
  const named = names.length > 0;
  const { slices, layers } = named ? namedLayers(file, all, names) : { slices: all, layers: all };
  const columns = slices.flatMap((s) =>
    Array.from({ length: s.end - s.start }, (_, i) => s.start + i),
  );
  let rows: Uint8Array | undefined;
  if (opts.samples !== undefined && opts.samples < dump.samples) {
    rows = new Uint8Array(dump.samples);
    for (const r of chooseSamples(file, dump.samples, {
      samples: opts.samples,
      seed: opts.seed ?? 0,
    }))
      rows[r] = 1;
  }
  // A single run reads the file whole and refuses any NaN/Inf in it, selected or not.
  if (named || rows !== undefined) scanDump(dump, { k: 3, estimator: 'ksg', dropNonfinite: false });
  return { view: new DumpView(dump, columns, rows), layers };
}
