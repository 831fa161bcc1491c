/**
 * The analysis child process (dist/analysisHost.js), forked by the extension once per job.
 * It receives one JobRequest over IPC, runs it with the core (capture, entropy, MI in the
 * worker pool), streams throttled progress, answers with one result or error, and exits.
 * Cancelling = the extension kills this process. No VS Code imports.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { analyze, analyzeDetailed } from '../../core/analysis/analyze';
import type { AnalyzeOptions } from '../../core/analysis/analyze';
import type { ReferenceMeasures } from '../../core/analysis/reference';
import { modelReference, signatureAgainst } from '../../core/analysis/reference';
import { DEFAULT_THRESHOLDS } from '../../core/analysis/signature';
import { compare } from '../../core/analysis/compare';
import type { CompareOptions } from '../../core/analysis/compare';
import {
  isModelFolder,
  modelContentFiles,
  openModel,
  openWithProbe,
} from '../../core/capture/registry';
import { loadProbe } from '../../core/probe/loadProbe';
import { hashFiles, hashProbe } from '../logic/cacheKey';
import { UserError } from '../../core/errors';
import { writeFileAtomic } from '../../core/io/atomicWrite';
import { exitOnSignals } from '../../core/io/exitOnSignal';
import { disposeMiPool } from '../../core/mi/miMatrix';
import type { AnalysisReport, BoxSummary, ValueRange } from '../../core/report/schema';
import type { Progress } from '../../core/progress';
import { isJobRequest } from './protocol';
import { withSignatureFlag } from '../logic/lensText';
import type {
  AnalyzeResult,
  ChildMessage,
  IdentifiedSource,
  IdentifyResult,
  JobParams,
  JobRequest,
  ModelOutline,
} from './protocol';

/** Minimum time between two progress messages of the same stage (ms). */
const PROGRESS_INTERVAL_MS = 100;

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

/** Forwards progress, at most every 100 ms per stage, always on a stage change and at the end. */
function throttledProgress(): (p: Progress) => void {
  let lastStage = '';
  let lastAt = 0;
  return (p) => {
    const now = Date.now();
    if (p.stage === lastStage && p.done < p.total && now - lastAt < PROGRESS_INTERVAL_MS) return;
    lastStage = p.stage;
    lastAt = now;
    void send({ type: 'job/progress', progress: p });
  };
}

/** Maps the extension's settings onto the core's analysis options. */
export function analyzeOptions(
  params: JobParams,
  onProgress: (p: Progress) => void,
): AnalyzeOptions {
  return {
    ...(params.probe === null ? {} : { probe: params.probe }),
    ...(params.layers.length > 0 ? { layers: params.layers } : {}),
    point: params.point,
    samples: params.samples,
    seed: params.seed,
    bins: params.bins,
    binning: params.binning,
    k: params.k,
    estimator: params.estimator,
    miNeuronCap: params.miNeurons,
    threads: params.threads,
    ...(params.backend === 'wasm' || params.backend === 'cpu' ? { backend: params.backend } : {}),
    ...(params.input === null ? {} : { input: params.input }),
    ...torchOptions(params),
    onProgress,
  };
}

/** The PyTorch options of the settings: interpreter, factory, the workspace on sys.path. */
function torchOptions(
  params: JobParams,
): Pick<AnalyzeOptions, 'python' | 'torchFactory' | 'searchPaths'> {
  return {
    ...(params.python === null ? {} : { python: params.python }),
    ...(params.torchFactory === null ? {} : { torchFactory: params.torchFactory }),
    ...(params.workspace === null ? {} : { searchPaths: [params.workspace] }),
  };
}

/** What a signature needs of the baseline; kept in the workspace storage between jobs. */
interface CachedBaseline {
  measures: ReferenceMeasures;
  /** Measured layers with their widths, e.g. "hidden1 (64), hidden2 (64)". */
  shape: string;
}

/** The cache layout's version: entries of another version are measured again. */
const BASELINE_CACHE_VERSION = 2;

function shapeOf(report: AnalysisReport): string {
  return report.layers.map((l) => `${l.name} (${l.neurons})`).join(', ');
}

/** Reads cached baseline measures (`<file>.json` + `<file>.f64`); null when absent or damaged. */
async function readBaseline(file: string, label: string): Promise<CachedBaseline | null> {
  try {
    const meta = JSON.parse(await fs.readFile(`${file}.json`, 'utf8')) as {
      version: number;
      entropy: BoxSummary;
      range?: ValueRange;
      entropyLayerBinned?: BoxSummary;
      shape: string;
      pairs: number;
    };
    const bytes = await fs.readFile(`${file}.f64`);
    if (
      meta.version !== BASELINE_CACHE_VERSION ||
      typeof meta.shape !== 'string' ||
      bytes.length !== meta.pairs * 8
    )
      return null;
    const pairValues = new Float64Array(meta.pairs);
    new Uint8Array(pairValues.buffer).set(bytes);
    const measures: ReferenceMeasures = { label, entropy: meta.entropy, pairValues };
    if (meta.range !== undefined) measures.range = meta.range;
    if (meta.entropyLayerBinned !== undefined)
      measures.entropyLayerBinned = meta.entropyLayerBinned;
    return { measures, shape: meta.shape };
  } catch {
    return null;
  }
}

async function writeBaseline(file: string, cached: CachedBaseline): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const { pairValues, entropy, range, entropyLayerBinned } = cached.measures;
  const bytes = new Uint8Array(pairValues.buffer, pairValues.byteOffset, pairValues.byteLength);
  await writeFileAtomic(`${file}.f64`, bytes);
  const meta = {
    version: BASELINE_CACHE_VERSION,
    entropy,
    range,
    entropyLayerBinned,
    shape: cached.shape,
    pairs: pairValues.length,
  };
  await writeFileAtomic(`${file}.json`, JSON.stringify(meta));
}

/**
 * Analyses a model and its baseline (two runs, where a two-model compare would add a third;
 * one when the baseline's measures are cached) and reads the model's signature against the
 * baseline with the core's `signatureAgainst`, as `compare` does with a baseline: delta
 * median H with notches (and the scale check), and the ratio of median off-diagonal I with a
 * seeded bootstrap interval (1,000 replicates).
 */
async function analyzeAgainst(
  source: string,
  baseline: string,
  opts: AnalyzeOptions,
  params: JobParams,
  cachePrefix: string | null,
): Promise<AnalyzeResult> {
  const probe = opts.probe === undefined ? null : { path: opts.probe };
  const mine = await analyzeDetailed(source, probe, opts);
  const layers = mine.report.params.layers;
  const cacheFile =
    cachePrefix === null
      ? null
      : `${cachePrefix}-${createHash('sha256').update(layers.join('\n')).digest('hex').slice(0, 16)}`;
  let cached = cacheFile === null ? null : await readBaseline(cacheFile, baseline);
  if (cached === null) {
    const measured = await analyzeDetailed(baseline, probe, { ...opts, layers });
    cached = {
      measures: modelReference(measured.report, measured.pairValues, baseline),
      shape: shapeOf(measured.report),
    };
    if (cacheFile !== null) await writeBaseline(cacheFile, cached);
  }
  if (shapeOf(mine.report) !== cached.shape) {
    throw new UserError(
      `${baseline}: the baseline must have the architecture of ${source}: expected measured layers ${shapeOf(mine.report)}, found ${cached.shape}`,
    );
  }
  const thresholds = { ...DEFAULT_THRESHOLDS, ...params.thresholds };
  const signature = signatureAgainst(mine, cached.measures, thresholds, {
    replicates: 1000,
    seed: params.seed,
  });
  return { report: withSignatureFlag(mine.report, signature, thresholds), signature };
}

/** Resolves each source and hashes its content (a folder of checkpoints: its listing). */
async function identify(sources: string[], probe: string | null): Promise<IdentifyResult> {
  const identified: IdentifiedSource[] = [];
  for (const source of sources) {
    const stat = await fs.stat(source).catch(() => {
      throw new UserError(
        `${source}: expected a model, an activation dump or a folder of checkpoints, found nothing at that path (has the training script saved it yet?)`,
      );
    });
    if (stat.isDirectory() && !(await isModelFolder(source))) {
      identified.push({ file: source, cohort: true, sha256: await hashProbe(source) });
      continue;
    }
    const files = await modelContentFiles(source);
    identified.push({ file: files[0], cohort: false, sha256: await hashFiles(files) });
  }
  return { sources: identified, probeSha256: probe === null ? null : await hashProbe(probe) };
}

async function run(job: JobRequest): Promise<unknown> {
  const onProgress = throttledProgress();
  switch (job.type) {
    case 'job/analyze': {
      const opts = analyzeOptions(job.params, onProgress);
      if (job.baseline === null) {
        const report = await analyze(job.source, opts);
        const result: AnalyzeResult = { report, signature: null };
        return result;
      }
      return analyzeAgainst(job.source, job.baseline, opts, job.params, job.baselineCache);
    }
    case 'job/compare': {
      const opts: CompareOptions = {
        ...analyzeOptions(job.params, onProgress),
        ...(job.baseline === null ? {} : { baseline: job.baseline }),
        fallback: 'cohort',
        ...(job.params.target === null ? {} : { target: job.params.target }),
        thresholds: job.params.thresholds,
      };
      return compare(job.paths, opts);
    }
    case 'job/identify':
      return identify(job.sources, job.probe);
    case 'job/inspect': {
      const { backend, input, probe } = job.params;
      const open = {
        ...(backend === 'wasm' || backend === 'cpu' ? { backend } : {}),
        ...(input === null ? {} : { input }),
        ...torchOptions(job.params),
      };
      const handle =
        probe === null
          ? await openModel(job.source, open)
          : (
              await openWithProbe(job.source, open, (inputShape) =>
                loadProbe(probe, { samples: 3, seed: 0, ...(inputShape ? { inputShape } : {}) }),
              )
            ).handle;
      try {
        const outline: ModelOutline = {
          path: handle.path,
          format: handle.format,
          backend: handle.backend,
          inputShape: handle.inputShape,
          layers: handle.layers,
        };
        return outline;
      } finally {
        handle.dispose();
      }
    }
  }
}

async function main(job: unknown): Promise<void> {
  if (!isJobRequest(job)) {
    await send({
      type: 'job/error',
      message: 'the analysis process received a malformed job',
      user: false,
    });
    process.exit(2);
  }
  try {
    const result = await run(job);
    await send({ type: 'job/result', result });
    await disposeMiPool();
    process.exit(0);
  } catch (err) {
    const user = err instanceof UserError;
    const message = err instanceof Error ? err.message : String(err);
    // The stack goes to stderr, which the extension copies into the MemLens output channel.
    if (!user) process.stderr.write(`${err instanceof Error ? (err.stack ?? message) : message}\n`);
    await send({ type: 'job/error', message, user });
    process.exit(1);
  }
}

// Cancelling kills this process (SIGTERM): a write in flight leaves no temporary file.
exitOnSignals(['SIGTERM', 'SIGINT', 'SIGHUP']);
process.once('message', (job: unknown) => void main(job));
// The extension host went away: stop at once.
process.on('disconnect', () => process.exit(0));
