/**
 * Measurements kept between runs: one model (or dump) measured on one probe with one set of
 * parameters is measured once, then every analysis, baseline and comparison that needs it
 * reads it back. A key is the SHA-256 of the model's content files, the probe's content and
 * every option that changes the numbers; an entry is a JSON report plus the raw values a
 * comparison needs (off-diagonal MI, per-layer-binned entropies) as float64, written
 * atomically. A damaged or foreign entry reads as absent and is measured again.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { modelContentFiles } from '../capture/registry';
import { isActivationDump } from '../dumps/dumpFiles';
import { writeFileAtomic } from '../io/atomicWrite';
import { canonicalJson, hashFiles, hashProbe } from '../io/contentHash';
import type { AnalysisReport } from '../report/schema';
import type { AnalyzeOptions, DetailedAnalysis } from './analyze';
import { DEFAULT_MI_BUDGET_SECONDS } from './miPlan';

/** Bumped when the measures' numbers or the entry layout change: older entries are not read. */
const ENTRY_VERSION = 1;

export interface MeasurementCache {
  get(key: string): Promise<DetailedAnalysis | null>;
  /** Keeps one measurement under each of its keys. */
  put(keys: readonly string[], measured: DetailedAnalysis): Promise<void>;
  /** The keys read back, and the first key of each measurement kept (what a job reused and measured). */
  readonly hits: string[];
  readonly stores: string[];
}

/** The options that change a measurement's numbers, with the layers asked for (null: default). */
function numbersOf(opts: AnalyzeOptions, layers: readonly string[] | null): unknown {
  const asked = opts.miNeuronCap != null || opts.pairs != null;
  return {
    version: ENTRY_VERSION,
    layers,
    point: opts.point ?? 'preactivation',
    samples: opts.samples ?? null,
    seed: opts.seed ?? 0,
    bins: opts.bins ?? 100,
    binning: opts.binning ?? 'global',
    k: opts.k ?? 3,
    estimator: opts.estimator ?? 'ksg',
    miNeuronCap: opts.miNeuronCap ?? null,
    pairs: opts.pairs ?? null,
    // The plan's inputs (the plan itself also follows the kernel's measured speed); a cap or
    // pair count the user asked for wins over both, so they do not change the numbers then.
    miBudget: asked ? null : (opts.miBudget ?? DEFAULT_MI_BUDGET_SECONDS),
    sharedPlan:
      asked || opts.sharedPlan === undefined
        ? null
        : {
            cap: opts.sharedPlan.cap,
            pairs: opts.sharedPlan.pairs,
            widths: opts.sharedPlan.widths,
          },
    backend: opts.backend ?? null,
    input: opts.input ?? null,
    inputValues: opts.inputValues ?? null,
    python: opts.python ?? null,
    torchFactory: opts.torchFactory ?? null,
    imageScale: opts.imageScale ?? null,
  };
}

/**
 * The keys of a measurement of `source`: under the layers asked for, and a function giving
 * the key under other layers (null: the default ones), so a measurement serves every later
 * request for the same layers, named or default. A model's probe is part of the key; a dump has none. The
 * paths are too: a report names its model and probe files, so a copy is measured anew.
 */
export async function measurementKeys(
  source: string,
  probePath: string | null,
  opts: AnalyzeOptions,
): Promise<{
  asked: string;
  /** The key under other layers, and optionally other plan options (`miBudget`, `sharedPlan`). */
  measuredOn: (
    layers: readonly string[] | null,
    plan?: Pick<AnalyzeOptions, 'miBudget' | 'sharedPlan'>,
  ) => string;
}> {
  const files = await modelContentFiles(source);
  const model = { path: path.resolve(files[0]), sha256: await hashFiles(files, opts.signal) };
  const probe =
    isActivationDump(source) || probePath === null
      ? null
      : { path: path.resolve(probePath), sha256: await hashProbe(probePath, opts.signal) };
  const key = (layers: readonly string[] | null, o: AnalyzeOptions = opts): string =>
    createHash('sha256')
      .update(canonicalJson({ model, probe, numbers: numbersOf(o, layers) }))
      .digest('hex');
  const layers = opts.layers !== undefined && opts.layers.length > 0 ? opts.layers : null;
  return {
    asked: key(layers),
    measuredOn: (measured, plan) => key(measured, plan === undefined ? opts : { ...opts, ...plan }),
  };
}

interface EntryMeta {
  version: number;
  report: AnalysisReport;
  pairs: number;
  layerBinned: number | null;
  outputShape: (number | null)[] | null;
}

/** JSON keeps NaN and the infinities of a report (a degenerate fit's BIC) as themselves. */
const nonFinite = (_key: string, v: unknown): unknown =>
  typeof v === 'number' && !Number.isFinite(v) ? { $number: String(v) } : v;
const revive = (_key: string, v: unknown): unknown =>
  v !== null && typeof v === 'object' && typeof (v as { $number?: unknown }).$number === 'string'
    ? Number((v as { $number: string }).$number)
    : v;

/** A measurement cache in a folder: `<key>.json` (report, lengths) and `<key>.f64` (values). */
export function diskMeasurementCache(dir: string): MeasurementCache {
  const file = (key: string, ext: string): string => path.join(dir, `${key}${ext}`);
  const hits: string[] = [];
  const stores: string[] = [];
  return {
    hits,
    stores,
    async get(key) {
      try {
        const meta = JSON.parse(await fs.readFile(file(key, '.json'), 'utf8'), revive) as EntryMeta;
        const bytes = await fs.readFile(file(key, '.f64'));
        const extra = meta.layerBinned ?? 0;
        if (
          meta.version !== ENTRY_VERSION ||
          meta.report?.schema !== 'memlens.report' ||
          bytes.length !== (meta.pairs + extra) * 8
        )
          return null;
        const values = new Float64Array(meta.pairs + extra);
        new Uint8Array(values.buffer).set(bytes);
        hits.push(key);
        return {
          report: meta.report,
          pairValues: values.slice(0, meta.pairs),
          entropyLayerBinned: meta.layerBinned === null ? null : values.slice(meta.pairs),
          outputShape: meta.outputShape,
        };
      } catch {
        return null;
      }
    },
    async put(keys, measured) {
      const { pairValues, entropyLayerBinned } = measured;
      const values = new Float64Array(pairValues.length + (entropyLayerBinned?.length ?? 0));
      values.set(pairValues);
      if (entropyLayerBinned !== null) values.set(entropyLayerBinned, pairValues.length);
      const meta: EntryMeta = {
        version: ENTRY_VERSION,
        report: measured.report,
        pairs: pairValues.length,
        layerBinned: entropyLayerBinned?.length ?? null,
        outputShape: measured.outputShape,
      };
      await fs.mkdir(dir, { recursive: true });
      for (const key of keys) {
        // Values first: an entry whose JSON exists is complete.
        await writeFileAtomic(file(key, '.f64'), new Uint8Array(values.buffer));
        await writeFileAtomic(file(key, '.json'), JSON.stringify(meta, nonFinite));
      }
      stores.push(keys[0]);
    },
  };
}
