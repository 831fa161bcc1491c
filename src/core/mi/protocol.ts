// Messages between the MI pool (main thread) and its workers (miWorker.ts).
import type { KsgEstimator } from '../measures/ksgKernel';
import type { KsgKernelChoice, KsgKernelName } from './kernel';

/** main -> worker: the columns of one job, sent once per job and per worker (transferred). */
export interface LoadMessage {
  type: 'load';
  jobId: number;
  samples: number;
  columns: number;
  k: number;
  /** columns x samples, column-major (column c = data[c * samples .. (c + 1) * samples)). */
  data: Float64Array;
  /** Int32 flag, set to 1 by the main thread to cancel the job cooperatively. */
  cancel: SharedArrayBuffer;
  /** The kernel to run (default `auto`: native, else WebAssembly, else TypeScript). */
  kernel?: KsgKernelChoice;
  /** The estimator of every pair of the job (default `ksg`: KSG-1). */
  estimator?: KsgEstimator;
}

/** main -> worker: compute the pairs (a[i], b[i]) of the loaded job (indices into its columns). */
export interface PairsMessage {
  type: 'pairs';
  jobId: number;
  taskId: number;
  a: Int32Array;
  b: Int32Array;
}

/** main -> worker: drop the job's columns. */
export interface UnloadMessage {
  type: 'unload';
  jobId: number;
}

export type ToWorker = LoadMessage | PairsMessage | UnloadMessage;

/** worker -> main: the columns are prepared, in the memory of this kernel. */
export interface LoadedMessage {
  type: 'loaded';
  jobId: number;
  kernel: KsgKernelName;
  /** Why the worker runs a slower kernel than the native one when the job asked for `auto`. */
  fallback?: string;
}

/** worker -> main: MI (nats) of each pair of a task, in task order (transferred). */
export interface ResultMessage {
  type: 'result';
  jobId: number;
  taskId: number;
  values: Float64Array;
}

/** worker -> main: the task stopped because the job's cancel flag was set. */
export interface CancelledMessage {
  type: 'cancelled';
  jobId: number;
  taskId: number;
}

/** worker -> main: a load or a task failed; every request is answered, errors included. */
export interface ErrorMessage {
  type: 'error';
  jobId: number;
  taskId: number;
  name: string;
  message: string;
}

export type FromWorker = LoadedMessage | ResultMessage | CancelledMessage | ErrorMessage;
