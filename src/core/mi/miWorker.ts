// Worker thread of the MI pool: prepares (sorts) a job's columns once, copies them into its
// KSG-1 kernel (native, WebAssembly or TypeScript, as kernel.ts chooses), then computes the
// pairs it is sent. Checks the job's shared cancel flag between pairs.
import { parentPort } from 'node:worker_threads';
import { digammaTable } from '../measures/digamma';
import { prepareColumn } from '../measures/ksgKernel';
import type { KsgKernelChoice, PairKernel } from './kernel';
import { loadPairKernel } from './kernel';
import type { FromWorker, LoadMessage, PairsMessage, ToWorker } from './protocol';

interface LoadedJob {
  jobId: number;
  /** Column handles in the kernel's memory. */
  columns: number[];
  scratch: number;
  cancel: Int32Array;
}

let job: LoadedJob | null = null;
let kernel: PairKernel | null = null;
/** The choice `kernel` was loaded for. */
let kernelChoice: KsgKernelChoice = 'auto';
/** Set when `auto` did not get the native kernel: why. */
let fallback: string | undefined;

function load(msg: LoadMessage): void {
  const { samples, columns: m, k, data } = msg;
  if (!Number.isInteger(k) || k < 1 || samples < k + 1) {
    throw new RangeError(
      `MI worker: expected k >= 1 and at least k + 1 samples, found k = ${k}, ${samples} samples`,
    );
  }
  if (data.length !== samples * m) {
    throw new RangeError(`MI worker: expected ${samples * m} values, found ${data.length}`);
  }
  job = null;
  const choice = msg.kernel ?? 'auto';
  if (kernel === null || kernelChoice !== choice) {
    ({ kernel, fallback } = loadPairKernel(choice));
    kernelChoice = choice;
  }
  kernel.reset();
  const cancel = new Int32Array(msg.cancel);
  const columns: number[] = [];
  for (let c = 0; c < m; c++) {
    if (Atomics.load(cancel, 0) !== 0) return;
    columns.push(kernel.addColumn(prepareColumn(data.subarray(c * samples, (c + 1) * samples))));
  }
  job = {
    jobId: msg.jobId,
    columns,
    scratch: kernel.newScratch(samples, k, digammaTable(samples), msg.estimator ?? 'ksg'),
    cancel,
  };
}

/** Returns the values, or null when cancelled. */
function pairs(msg: PairsMessage): Float64Array | null {
  if (job === null || kernel === null || job.jobId !== msg.jobId)
    throw new Error(`MI worker: job ${msg.jobId} is not loaded`);
  const { columns, scratch, cancel } = job;
  const m = columns.length;
  const out = new Float64Array(msg.a.length);
  for (let i = 0; i < out.length; i++) {
    if (Atomics.load(cancel, 0) !== 0) return null;
    const a = msg.a[i];
    const b = msg.b[i];
    if (!(a >= 0 && a < m && b >= 0 && b < m)) {
      throw new RangeError(`MI worker: pair (${a}, ${b}) is outside the ${m} loaded columns`);
    }
    out[i] = kernel.pair(columns[a], columns[b], scratch);
  }
  return out;
}

function reply(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(msg, transfer);
}

parentPort?.on('message', (msg: ToWorker) => {
  const taskId = msg.type === 'pairs' ? msg.taskId : -1;
  try {
    switch (msg.type) {
      case 'load':
        load(msg);
        reply({
          type: 'loaded',
          jobId: msg.jobId,
          kernel: kernel?.name ?? 'wasm',
          ...(fallback !== undefined ? { fallback } : {}),
        });
        break;
      case 'pairs': {
        const values = pairs(msg);
        if (values === null) reply({ type: 'cancelled', jobId: msg.jobId, taskId });
        else
          reply({ type: 'result', jobId: msg.jobId, taskId, values }, [
            values.buffer as ArrayBuffer,
          ]);
        break;
      }
      case 'unload':
        if (job?.jobId === msg.jobId) {
          job = null;
          // The native kernel frees its memory at reset; wasm linear memory never shrinks, so
          // the instance is dropped too, and a big job's memory is freed.
          kernel?.reset();
          kernel = null;
        }
        break;
    }
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    reply({ type: 'error', jobId: msg.jobId, taskId, name: e.name, message: e.message });
  }
});
