/**
 * The analysis child process (dist/analysisHost.js), forked by the extension once per job.
 * It receives one JobRequest over IPC, runs it with the core (capture, entropy, MI in the
 * worker pool), streams throttled progress, answers with one result or error, and exits.
 * Cancelling = the extension kills this process. No VS Code imports.
 */
import { promises as fs } from 'node:fs';
import { analyzeAgainstBaseline } from '../../core/analysis/againstBaseline';
import { analyze } from '../../core/analysis/analyze';
import type { AnalyzeOptions } from '../../core/analysis/analyze';
import { compare } from '../../core/analysis/compare';
import type { MeasurementCache } from '../../core/analysis/measurementCache';
import { diskMeasurementCache } from '../../core/analysis/measurementCache';
import type { CompareOptions } from '../../core/analysis/compare';
import { isModelFolder, modelContentFiles, sameModel } from '../../core/capture/registry';
import { expandModelSources } from '../../core/analysis/sources';
import { hashFiles, hashProbe } from '../../core/io/contentHash';
import { UserError } from '../../core/errors';
import { exitOnSignals } from '../../core/io/exitOnSignal';
import { disposeMiPool } from '../../core/mi/miMatrix';
import type { Progress } from '../../core/progress';
import { inspectSource } from './inspect';
import { probeFit } from './probeFit';
import { isJobRequest } from './protocol';
import type {
  AnalyzeResult,
  ChildMessage,
  CompareResult,
  IdentifiedSource,
  IdentifyResult,
  JobParams,
  JobRequest,
  MeasuredJob,
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
    miBudget: params.miBudget,
    memoryBudget: params.memoryBudget * 2 ** 20,
    threads: params.threads,
    ...(params.backend === 'wasm' || params.backend === 'cpu' ? { backend: params.backend } : {}),
    ...(params.input === null ? {} : { input: params.input }),
    ...inputValuesOf(params),
    ...(params.imageScale === null ? {} : { imageScale: params.imageScale }),
    ...torchOptions(params),
    onProgress,
  };
}

/** The values the settings give a model's other inputs (ONNX), when any. */
function inputValuesOf(params: JobParams): { inputValues?: Record<string, number> } {
  const values = params.inputValues ?? {};
  return Object.keys(values).length === 0 ? {} : { inputValues: values };
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

/**
 * Whether `memlens.baseline` is one of the compared models (a model folder and its marker
 * file are the same model) or inside a compared folder of checkpoints; otherwise the compare
 * reads each model against the cohort.
 */
async function baselineAmong(baseline: string, paths: string[]): Promise<boolean> {
  const sources = await expandModelSources(paths);
  return sources.some((s) => sameModel(s, baseline));
}

/** What a job measured and what it read back from the measurement cache. */
function measuredOf(cache: MeasurementCache | undefined): MeasuredJob {
  return { measured: cache?.stores.length ?? 0, reused: cache?.hits.length ?? 0 };
}

async function run(job: JobRequest): Promise<unknown> {
  const onProgress = throttledProgress();
  switch (job.type) {
    case 'job/analyze': {
      const measurements =
        job.measurements === null ? undefined : diskMeasurementCache(job.measurements);
      const opts = {
        ...analyzeOptions(job.params, onProgress),
        ...(measurements === undefined ? {} : { measurements }),
      };
      const result: AnalyzeResult =
        job.baseline === null
          ? {
              report: await analyze(job.source, opts),
              signature: null,
              baselineReport: null,
              ...measuredOf(measurements),
            }
          : {
              // memlens.baseline applies to every model of the workspace: one of another
              // architecture is read alone (flagged), not refused after being measured.
              ...(await analyzeAgainstBaseline(job.source, job.baseline, {
                ...opts,
                thresholds: job.params.thresholds,
                notComparable: 'alone',
              })),
              ...measuredOf(measurements),
            };
      return result;
    }
    case 'job/compare': {
      const measurements =
        job.measurements === null ? undefined : diskMeasurementCache(job.measurements);
      const opts: CompareOptions = {
        ...analyzeOptions(job.params, onProgress),
        ...(measurements === undefined ? {} : { measurements }),
        ...(job.baseline !== null && (await baselineAmong(job.baseline, job.paths))
          ? { baseline: job.baseline }
          : {}),
        ...(job.reference === null ? {} : { reference: job.reference }),
        fallback: 'cohort',
        ...(job.params.target === null ? {} : { target: job.params.target }),
        thresholds: job.params.thresholds,
      };
      const result: CompareResult = {
        report: await compare(job.paths, opts),
        ...measuredOf(measurements),
      };
      return result;
    }
    case 'job/identify':
      return identify(job.sources, job.probe);
    case 'job/probeFit': {
      const { backend, input } = job.params;
      return probeFit(job, {
        ...(backend === 'wasm' || backend === 'cpu' ? { backend } : {}),
        ...(input === null ? {} : { input }),
        ...inputValuesOf(job.params),
        ...torchOptions(job.params),
      });
    }
    case 'job/inspect': {
      const { backend, input, probe } = job.params;
      return inspectSource(job.source, probe, {
        ...(backend === 'wasm' || backend === 'cpu' ? { backend } : {}),
        ...(input === null ? {} : { input }),
        ...inputValuesOf(job.params),
        ...torchOptions(job.params),
      });
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
