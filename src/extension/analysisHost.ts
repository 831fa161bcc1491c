/**
 * The analysis child process (dist/analysisHost.js), forked by the extension once per job.
 * It receives one JobRequest over IPC, runs it with the core (capture, entropy, MI in the
 * worker pool), streams throttled progress, answers with one result or error, and exits.
 * Cancelling = the extension kills this process. No VS Code imports.
 */
import { analyze } from '../core/analysis/analyze';
import type { AnalyzeOptions } from '../core/analysis/analyze';
import { compare } from '../core/analysis/compare';
import type { CompareOptions } from '../core/analysis/compare';
import { openModel } from '../core/capture/registry';
import { UserError } from '../core/errors';
import type { Progress } from '../core/progress';
import { isJobRequest } from './hostProtocol';
import type {
  AnalyzeResult,
  ChildMessage,
  JobParams,
  JobRequest,
  ModelOutline,
} from './hostProtocol';

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
    miNeuronCap: params.miNeurons,
    threads: params.threads,
    ...(params.backend === 'wasm' || params.backend === 'cpu' ? { backend: params.backend } : {}),
    onProgress,
  };
}

async function run(job: JobRequest): Promise<unknown> {
  const onProgress = throttledProgress();
  switch (job.type) {
    case 'job/analyze': {
      const opts = analyzeOptions(job.params, onProgress);
      const report = await analyze(job.source, opts);
      let signature = null;
      if (job.baseline !== null) {
        // The signature against the baseline comes from the core's comparison of the two models.
        const compareOpts: CompareOptions = {
          ...opts,
          baseline: job.baseline,
          thresholds: job.params.thresholds,
        };
        const pair = await compare([job.baseline, job.source], compareOpts);
        const mine = pair.models.find((m) => m.path !== pair.baseline && m.error === undefined);
        const failed = pair.models.find((m) => m.error !== undefined);
        if (failed)
          throw new UserError(
            `${failed.path}: cannot be compared with the baseline ${job.baseline}: ${failed.error}`,
          );
        signature = mine?.signature ?? null;
      }
      const result: AnalyzeResult = { report, signature };
      return result;
    }
    case 'job/compare': {
      const opts: CompareOptions = {
        ...analyzeOptions(job.params, onProgress),
        ...(job.baseline === null ? {} : { baseline: job.baseline }),
        thresholds: job.params.thresholds,
      };
      return compare(job.paths, opts);
    }
    case 'job/inspect': {
      const handle = await openModel(
        job.source,
        job.backend === 'wasm' || job.backend === 'cpu' ? { backend: job.backend } : {},
      );
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

process.once('message', (job: unknown) => void main(job));
// The extension host went away: stop at once.
process.on('disconnect', () => process.exit(0));
