// A shard of `memlens analyze` or `compare`: it computes only its tile of each model's MI job,
// as the single run plans it (the same rows, columns, cap and pairs, so the same fingerprints),
// and nothing else: no entropy, ties or summaries (the merge computes them, src/core/mi/shards.ts).
// An .npy or .safetensors dump, and a model's activations (captured to a temporary float64
// .npy), are read by columns: only a band of columns at a time in the scan, then the columns
// of the tile. An .npz dump is read whole and measured as a single run does.
import type { LayerSlice } from '../activations';
import { modelName } from '../capture/registry';
import { withCapturedDump } from '../dumps/captureDump';
import { isActivationDump } from '../dumps/dumpFiles';
import type { DumpColumns } from '../dumps/dumpColumns';
import { openDumpColumns } from '../dumps/dumpColumns';
import type { ColumnSource } from '../dumps/dumpShard';
import { scanDump, shardDumpMi } from '../dumps/dumpShard';
import { DumpView } from '../dumps/dumpView';
import { CancelledError, throwIfAborted, UserError } from '../errors';
import { checkBins } from '../measures/entropy';
import { capNeurons } from '../measures/neuronCap';
import { chooseSamples } from '../probe/subset';
import type { AnalyzeOptions, ProbeInput, SharedPlan } from './analyze';
import {
  analyzeDetailed,
  captureOptions,
  namedLayers,
  openModel,
  planOf,
  sharedPlanOf,
} from './analyze';
import type { BaselineOptions } from './againstBaseline';
import { baselineLayersError, checkBaseline } from './againstBaseline';
import { planChoice } from './miPlan';

/** What a shard's measurement of a model decides for the next ones: its layers and MI plan. */
export interface ShardMeasured {
  layers: string[];
  sharedPlan: SharedPlan;
}

/**
 * Computes the running shard's tile of the MI job that `analyzeDetailed(source, probe, opts)`
 * starts, and what a compare or a baseline takes from that measurement for the next models.
 */
export async function shardMeasure(
  source: string,
  probe: ProbeInput,
  opts: AnalyzeOptions,
): Promise<ShardMeasured> {
  checkBins(opts.bins ?? 100);
  throwIfAborted(opts.signal);
  const opened = isActivationDump(source) ? await openDumpColumns(source) : undefined;
  if (opened !== undefined) {
    try {
      const { view, layers } = dumpSelection(opened, opts);
      return await shardTile(view, layers, source, opts);
    } finally {
      opened.dump.close();
    }
  }
  if (isActivationDump(source)) {
    const { report } = await analyzeDetailed(source, probe, opts);
    return { layers: report.params.layers, sharedPlan: sharedPlanOf(report) };
  }
  const { handle, probe: set } = await openModel(source, probe, opts, () => undefined);
  try {
    return await withCapturedDump(
      (sink) => handle.capture(set, { ...captureOptions(opts, () => undefined), sink }),
      (dump, captured) => shardTile(dump, captured.acts.layers, handle.path, opts),
      opts.signal,
    );
  } finally {
    handle.dispose();
  }
}

/**
 * What an analysis selects of a dump (activationsOf in ./analyze): its layers, those named in
 * the order named, and a seeded subset of its rows.
 */
function dumpSelection(
  { dump, layers: all }: DumpColumns,
  opts: AnalyzeOptions,
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

/** The shard's tile of the MI job of `layers` of `source`, planned as measureSource plans it. */
async function shardTile(
  source: ColumnSource,
  layers: LayerSlice[],
  modelPath: string,
  opts: AnalyzeOptions,
): Promise<ShardMeasured> {
  const k = opts.k ?? 3;
  const estimator = opts.estimator ?? 'ksg';
  const seed = opts.seed ?? 0;
  const scan = scanDump(source, { k, estimator, dropNonfinite: false });
  const plan = await planOf(scan.samples, layers, scan.measurable, opts);
  opts.onPlan?.(plan);
  const { cap, pairs } = planChoice(plan);
  const columns = capNeurons(layers, cap, seed, (c) => scan.measurable[c]);
  await shardDumpMi(source, scan, columns, {
    k,
    estimator,
    pairs,
    seed,
    ...(opts.threads === undefined ? {} : { threads: opts.threads }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
  });
  return {
    layers: layers.map((l) => l.name),
    sharedPlan: {
      cap,
      pairs,
      model: modelName(modelPath),
      widths: layers.map((l) => l.end - l.start),
    },
  };
}

/**
 * A shard of `analyze`: the model's tile (analyzeDetailed's MI job) and, with a baseline, the
 * baseline's, measured on the model's layers and plan as analyzeAgainstBaseline measures it.
 * What is checked after measuring (is the baseline comparable?) is the merge's.
 */
export async function shardAnalyze(
  source: string,
  baseline: string | undefined,
  opts: BaselineOptions,
): Promise<void> {
  const probe = opts.probe === undefined ? null : { path: opts.probe };
  if (baseline === undefined) {
    await shardMeasure(source, probe, opts);
    return;
  }
  checkBaseline(source, baseline, opts);
  const mine = await shardMeasure(source, probe, opts);
  try {
    await shardMeasure(baseline, isActivationDump(baseline) ? null : probe, {
      ...opts,
      layers: mine.layers,
      sharedPlan: mine.sharedPlan,
    });
  } catch (err) {
    if (err instanceof CancelledError || !(err instanceof UserError)) throw err;
    if (opts.notComparable !== 'alone')
      throw baselineLayersError(source, baseline, mine.layers, err);
  }
}
