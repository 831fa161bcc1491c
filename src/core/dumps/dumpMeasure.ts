// Values read by columns (an .npy, .safetensors or stored .npz dump, a view of one, a model's
// capture to a temporary .npy) measured without the whole matrix: the per-neuron statistics
// come band by band from the file (after the scan, which found each neuron's range: global and
// layer bins need theirs first); the MI values from the parts in a merge, else from the MI
// columns alone, read and computed; and measureInput summarises them as a single run does, so
// the result is the in-memory run's bit for bit.
import type { ActivationMatrix, LayerSlice } from '../activations';
import { binnedEntropy, valueRange } from '../measures/entropy';
import type { MeasureInput, NeuronStats } from '../measures/measure';
import { tieFraction } from '../measures/ties';
import { computeMiMatrix, miMatrixOf } from '../mi/miMatrix';
import { currentPairHook } from '../mi/shards';
import type { ColumnSource, DumpScan } from './dumpShard';
import { dumpMiJob, forEachBand, SCAN_BYTES } from './dumpShard';

/** The values as {@link MeasureInput}: the MI from a merge's parts, or computed on its columns. */
export function dumpMeasureInput(
  dump: ColumnSource,
  scan: DumpScan,
  layers: LayerSlice[],
): MeasureInput {
  const N = dump.neurons;
  return {
    samples: scan.samples,
    neurons: N,
    layers,
    // One band and the ranges are held, never the matrix.
    bytes: SCAN_BYTES + scan.ranges.byteLength,
    stats: (opts) => bandStats(dump, scan, layers, opts),
    mi: async (opts) => {
      const hook = currentPairHook();
      if (hook === undefined) {
        // Only the MI columns are held: as computeMiMatrix on the whole matrix, the same bits.
        const m = opts.columns.length;
        const columns: ActivationMatrix = {
          samples: scan.samples,
          neurons: m,
          data: dump.read(opts.columns, scan.keep),
          layers: [{ name: 'mi', start: 0, end: m }],
        };
        return {
          ...(await computeMiMatrix(columns, { ...opts, columns: undefined })),
          columns: opts.columns,
        };
      }
      const job = dumpMiJob(scan, opts.columns, {
        k: opts.k ?? 3,
        estimator: opts.estimator ?? 'ksg',
        pairs: opts.pairs ?? null,
        seed: opts.seed ?? 0,
      });
      const values = await hook(job, () =>
        Promise.reject(new Error('dumpMeasureInput: a merge computes no pair')),
      );
      return miMatrixOf(opts.columns, job.pairs, values, job.k, job.estimator);
    },
  };
}

/** {@link NeuronStats} of the dump, one pass over its bands, as neuronStats computes them. */
function bandStats(
  dump: ColumnSource,
  scan: DumpScan,
  layers: LayerSlice[],
  opts: Parameters<MeasureInput['stats']>[0],
): NeuronStats {
  const N = dump.neurons;
  const R = scan.ranges;
  const ranges: ActivationMatrix = { samples: 2, neurons: N, data: R, layers };
  // The bin ranges: all values' (global), each layer's, each neuron's.
  const global = valueRange(R, 0, 2 * N);
  const layerRange = new Array<[number, number]>(N);
  for (const l of layers) {
    const range = valueRange(R, 2 * l.start, 2 * l.end);
    for (let n = l.start; n < l.end; n++) layerRange[n] = range;
  }
  const entropy = new Float64Array(N);
  const layerBinned = opts.binning === 'global' ? new Float64Array(N) : null;
  const tieFractions = new Float64Array(N);
  const S = scan.samples;
  forEachBand(dump, scan.keep, (c0, width, data) => {
    for (let i = 0; i < width; i++) {
      const n = c0 + i;
      const values = data.subarray(i * S, (i + 1) * S);
      const [min, max] =
        opts.binning === 'global'
          ? global
          : opts.binning === 'layer'
            ? layerRange[n]
            : [R[2 * n], R[2 * n + 1]];
      entropy[n] = binnedEntropy(values, min, max, opts.bins);
      if (layerBinned !== null) layerBinned[n] = binnedEntropy(values, ...layerRange[n], opts.bins);
      tieFractions[n] = tieFraction(values);
    }
  });
  return {
    entropy,
    entropyLayerBinned: layerBinned,
    tieFractions,
    measurable: scan.measurable,
    ranges,
  };
}
