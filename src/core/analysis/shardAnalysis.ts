// A shard of `memlens analyze` or `compare`: it computes only its tile of each model's MI job,
// as the single run plans it (the same rows, columns, cap and pairs, so the same fingerprints),
// and nothing else: no entropy, ties or summaries (the merge computes them, src/core/mi/shards.ts).
// A dump read by columns (.npy, .safetensors, a stored .npz) and a model's activations
// (captured to a temporary float64 .npy) are read a band of columns at a time in the scan,
// then only the columns of the tile. A compressed .npz is read whole and measured as a single
// run does.
import type { LayerSlice } from '../activations';
import { modelName } from '../capture/registry';
import { isActivationDump } from '../dumps/dumpFiles';
import type { ColumnSource } from '../dumps/dumpShard';
import { scanDump, shardDumpMi } from '../dumps/dumpShard';
import { CancelledError, throwIfAborted, UserError } from '../errors';
import { checkBins } from '../measures/entropy';
import { capNeurons } from '../measures/neuronCap';
import type { AnalyzeOptions, ProbeInput, SharedPlan } from './analyze';
import { analyzeDetailed, planOf, sharedPlanOf, withSourceColumns } from './analyze';
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
  const tile = await withSourceColumns(
    source,
    probe,
    opts,
    () => undefined,
    (values, layers, info) => shardTile(values, layers, info.modelPath, opts),
  );
  if (tile !== undefined) return tile;
  const { report } = await analyzeDetailed(source, probe, opts);
  return { layers: report.params.layers, sharedPlan: sharedPlanOf(report) };
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
