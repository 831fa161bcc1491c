// A fixed pool of worker_threads for KSG-1 pair jobs, shared by the CLI and the extension.
// Each job sends its columns once to each worker it uses (transferred copies), then hands out
// chunks of pairs as workers become free. Every request is answered, errors included.
// Cancellation is cooperative first (a shared flag the workers check between pairs), then
// terminate() and respawn for a worker that does not answer within a grace period.
// Idle workers are unref'd so they never keep the Node process alive.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CancelledError } from '../errors';
import type { KsgEstimator } from '../measures/ksgKernel';
import type { KsgKernelChoice, KsgKernelName } from './kernel';
import type { FromWorker, ToWorker } from './protocol';

/** One batch of pairs over one set of columns. */
export interface PairJob {
  samples: number;
  k: number;
  /** columns x samples, column-major. */
  data: Float64Array;
  /** The pairs: column indices a[i], b[i] into `data`. */
  a: Int32Array;
  b: Int32Array;
  /** Workers to use (at least 1). */
  threads: number;
  /** Pairs per task sent to a worker. */
  chunk: number;
  signal?: AbortSignal;
  /** Called with the cumulative number of pairs done after each task, and the rate so far. */
  onPairsDone?: (done: number, eta: PairsEta) => void;
  /** The kernel the workers run (default `auto`: native, else WebAssembly, else TypeScript). */
  kernel?: KsgKernelChoice;
  /** The estimator (default `ksg`: KSG-1). */
  estimator?: KsgEstimator;
  /** Called once per worker used, when it has loaded the columns: its kernel, and why it fell back. */
  onKernel?: (kernel: KsgKernelName, fallback?: string) => void;
}

/** A job's speed so far: pairs per second over all its workers, and the seconds left at it. */
export interface PairsEta {
  pairsPerSecond: number;
  remainingSeconds: number;
}

/** How long a cancelled worker may take to answer before it is terminated and replaced. */
const CANCEL_GRACE_MS = 250;

interface Slot {
  worker: Worker;
  /** Routes this worker's messages and failures to the job using it, if any. */
  onMessage: ((msg: FromWorker) => void) | null;
  onFailure: ((err: Error) => void) | null;
}

export class MiPool {
  private readonly slots: Slot[] = [];
  private queue: Promise<void> = Promise.resolve();
  private nextJobId = 1;
  private nextTaskId = 1;
  private disposed = false;

  constructor(private readonly workerFile: string = path.join(__dirname, 'miWorker.js')) {}

  /** Number of workers spawned so far. */
  get size(): number {
    return this.slots.length;
  }

  /** Runs a job after the jobs queued before it; resolves with one value per pair. */
  run(job: PairJob): Promise<Float64Array> {
    if (this.disposed) return Promise.reject(new Error('MI pool: used after dispose'));
    return new Promise<Float64Array>((resolve, reject) => {
      // A job cancelled while it waits for the ones before it rejects at once.
      const onQueuedAbort = (): void => reject(new CancelledError());
      job.signal?.addEventListener('abort', onQueuedAbort, { once: true });
      this.queue = this.queue.then(() => {
        job.signal?.removeEventListener('abort', onQueuedAbort);
        return this.execute(job, resolve, reject);
      });
    });
  }

  /** Terminates every worker; the pool cannot be used afterwards. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const workers = this.slots.splice(0).map((s) => s.worker);
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(this.workerFile), onMessage: null, onFailure: null };
    this.wire(slot);
    return slot;
  }

  private wire(slot: Slot): void {
    const w = slot.worker;
    w.unref();
    w.on('message', (msg: FromWorker) => slot.onMessage?.(msg));
    w.on('error', (err: Error) => slot.onFailure?.(err));
    w.on('exit', (code) => {
      if (slot.worker === w)
        slot.onFailure?.(new Error(`MI worker exited unexpectedly (code ${code})`));
    });
  }

  /** Replaces a slot's worker (after a crash or an unanswered cancellation). */
  private respawn(slot: Slot): void {
    const old = slot.worker;
    slot.worker = new Worker(this.workerFile);
    this.wire(slot);
    void old.terminate();
  }

  private execute(
    job: PairJob,
    resolve: (v: Float64Array) => void,
    reject: (e: Error) => void,
  ): Promise<void> {
    const total = job.a.length;
    if (job.signal?.aborted) {
      reject(new CancelledError());
      return Promise.resolve();
    }
    if (total === 0) {
      resolve(new Float64Array(0));
      return Promise.resolve();
    }
    const threads = Math.max(1, Math.min(job.threads, Math.ceil(total / job.chunk)));
    while (this.slots.length < threads) this.slots.push(this.spawn());
    const slots = this.slots.slice(0, threads);
    const jobId = this.nextJobId++;
    const cancelBuf = new SharedArrayBuffer(4);
    const cancelFlag = new Int32Array(cancelBuf);
    const results = new Float64Array(total);
    const taskStart = new Map<number, number>();
    const busy = new Set<Slot>();
    let next = 0;
    let done = 0;
    let settled = false;
    // The rate is timed from the first worker ready to compute (spawning and loading excluded).
    let computeStart: number | null = null;
    const eta = (): PairsEta => {
      const seconds = (performance.now() - (computeStart ?? performance.now())) / 1000;
      const pairsPerSecond = seconds > 0 ? done / seconds : 0;
      const remainingSeconds = pairsPerSecond > 0 ? (total - done) / pairsPerSecond : Infinity;
      return { pairsPerSecond, remainingSeconds };
    };

    return new Promise<void>((finished) => {
      let graceTimer: NodeJS.Timeout | null = null;
      let cleaned = false;
      const cleanup = (): void => {
        if (cleaned) return;
        cleaned = true;
        if (graceTimer !== null) clearTimeout(graceTimer);
        job.signal?.removeEventListener('abort', onAbort);
        for (const slot of slots) {
          slot.onMessage = null;
          slot.onFailure = null;
          if (this.slots.includes(slot)) {
            this.post(slot, { type: 'unload', jobId });
            slot.worker.unref();
          }
        }
        finished();
      };
      const settleIfIdle = (): void => {
        if (settled && busy.size === 0) cleanup();
      };
      const fail = (err: Error): void => {
        if (!settled) {
          settled = true;
          Atomics.store(cancelFlag, 0, 1);
          reject(err);
          if (busy.size > 0) {
            graceTimer = setTimeout(() => {
              for (const slot of busy) if (this.slots.includes(slot)) this.respawn(slot);
              busy.clear();
              cleanup();
            }, CANCEL_GRACE_MS);
          }
        }
        settleIfIdle();
      };
      const onAbort = (): void => fail(new CancelledError());
      const dispatch = (slot: Slot): void => {
        if (settled) return settleIfIdle();
        if (next >= total) {
          if (done === total) {
            settled = true;
            resolve(results);
            settleIfIdle();
          }
          return;
        }
        const start = next;
        const end = Math.min(total, start + job.chunk);
        next = end;
        const taskId = this.nextTaskId++;
        taskStart.set(taskId, start);
        busy.add(slot);
        this.post(slot, {
          type: 'pairs',
          jobId,
          taskId,
          a: job.a.slice(start, end),
          b: job.b.slice(start, end),
        });
      };
      for (const slot of slots) {
        slot.onMessage = (msg) => {
          if (msg.jobId !== jobId) return;
          busy.delete(slot);
          switch (msg.type) {
            case 'loaded':
              computeStart ??= performance.now();
              try {
                job.onKernel?.(msg.kernel, msg.fallback);
              } catch (err) {
                fail(err instanceof Error ? err : new Error(String(err)));
              }
              dispatch(slot);
              break;
            case 'result': {
              const start = taskStart.get(msg.taskId) ?? 0;
              taskStart.delete(msg.taskId);
              results.set(msg.values, start);
              done += msg.values.length;
              try {
                if (!settled) job.onPairsDone?.(done, eta());
              } catch (err) {
                // A throwing progress callback fails the job instead of the process.
                fail(err instanceof Error ? err : new Error(String(err)));
              }
              dispatch(slot);
              break;
            }
            case 'cancelled':
              settleIfIdle();
              break;
            case 'error': {
              const err = new Error(msg.message);
              err.name = msg.name;
              fail(err);
              break;
            }
          }
        };
        slot.onFailure = (err) => {
          busy.delete(slot);
          if (this.slots.includes(slot)) this.respawn(slot);
          fail(err);
        };
      }
      job.signal?.addEventListener('abort', onAbort, { once: true });
      for (const slot of slots) {
        slot.worker.ref();
        const copy = job.data.slice();
        busy.add(slot);
        this.post(
          slot,
          {
            type: 'load',
            jobId,
            samples: job.samples,
            columns: job.data.length / job.samples,
            k: job.k,
            data: copy,
            cancel: cancelBuf,
            ...(job.kernel !== undefined ? { kernel: job.kernel } : {}),
            ...(job.estimator !== undefined ? { estimator: job.estimator } : {}),
          },
          [copy.buffer],
        );
      }
    });
  }

  private post(slot: Slot, msg: ToWorker, transfer: ArrayBuffer[] = []): void {
    slot.worker.postMessage(msg, transfer);
  }
}

let shared: MiPool | null = null;

/** The process-wide pool, created on first use. */
export function getMiPool(): MiPool {
  shared ??= new MiPool();
  return shared;
}

/** Terminates the shared pool (CLI exit, extension deactivate); the next job creates a new one. */
export async function disposeMiPool(): Promise<void> {
  const pool = shared;
  shared = null;
  if (pool !== null) await pool.dispose();
}
