/** Messages between the ONNX capture (parent) and its onnxruntime child process (onnxHost.ts). */
import type { Reduction } from '../common/reduction';

/** A tensor crossing the IPC channel (structured clone keeps typed arrays). */
export interface WireTensor {
  /** onnxruntime element type: float32, int64, int32, float64, bool... */
  type: string;
  dims: number[];
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
}

/**
 * One output to fetch and what of it comes back: the dims of a tensor whose Shape the output
 * is (`shape`), or its values reduced in the child to one row per example, so a whole
 * feature map never crosses IPC.
 */
export interface FetchSpec {
  name: string;
  mode: 'shape' | 'reduce';
  /** Feature maps with channels on axis 1 (NCHW): averaged over the spatial axes. */
  convLike: boolean;
  sequence: 'first' | 'mean';
  /** Leading axes before the batch (a Loop body's iterations), averaged away first. */
  stacked: number;
}

/** A fetched output as it comes back: the runtime's dims and type, the reduced rows. */
export interface ReducedTensor {
  type: string;
  /** Dims as the runtime gave them (before any reduction); a shape fetch's values. */
  dims: number[];
  /** Null for a shape fetch, or an empty tensor (a branch not taken, a loop run 0 times). */
  reduction: Reduction | null;
  /** Values per example after the reduction. */
  width: number;
  /** Example-major rows x width (empty when `reduction` is null). */
  data: Float64Array;
}

export type HostRequest =
  | { kind: 'open'; model: Uint8Array }
  | { kind: 'run'; feeds: Record<string, WireTensor>; fetches: FetchSpec[] };

export type HostReply =
  | { kind: 'opened'; inputs: string[]; outputs: string[] }
  | {
      kind: 'result';
      outputs: Record<string, ReducedTensor>;
      /** The child's peak resident set so far (bytes). */
      maxRss: number;
    }
  | {
      kind: 'error';
      message: string;
      /** The runtime failed to allocate memory (a batch too large for the machine). */
      outOfMemory?: boolean;
    };
