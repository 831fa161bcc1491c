/** Messages between the ONNX capture (parent) and its onnxruntime child process (onnxHost.ts). */

/** A tensor crossing the IPC channel (structured clone keeps typed arrays). */
export interface WireTensor {
  /** onnxruntime element type: float32, int64, int32, float64, bool... */
  type: string;
  dims: number[];
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
}

export type HostRequest =
  | { kind: 'open'; model: Uint8Array }
  | { kind: 'run'; feeds: Record<string, WireTensor>; fetches: string[] };

export type HostReply =
  | { kind: 'opened'; inputs: string[]; outputs: string[] }
  | { kind: 'result'; outputs: Record<string, WireTensor> }
  | { kind: 'error'; message: string };
