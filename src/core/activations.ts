/** A contiguous run of columns of an activation matrix that belongs to one layer. */
export interface LayerSlice {
  name: string;
  /** First column (inclusive). */
  start: number;
  /** One past the last column. */
  end: number;
}

/**
 * S examples x N neurons, stored neuron-major: the S values of neuron n are
 * `data.subarray(n * samples, (n + 1) * samples)`. Neuron-major because every measure works
 * on whole columns. float64 throughout: the estimators are specified in float64.
 */
export interface ActivationMatrix {
  samples: number;
  neurons: number;
  data: Float64Array;
  /** Layers in column order; a single layer named "all" when the source has no layer info. */
  layers: LayerSlice[];
}

export function column(acts: ActivationMatrix, n: number): Float64Array {
  return acts.data.subarray(n * acts.samples, (n + 1) * acts.samples);
}

/** Builds a neuron-major matrix from row-major S x N values (the .npy C order). */
export function fromRowMajor(
  values: ArrayLike<number>,
  samples: number,
  neurons: number,
  layers?: LayerSlice[],
): ActivationMatrix {
  const data = new Float64Array(samples * neurons);
  for (let s = 0; s < samples; s++) {
    const row = s * neurons;
    for (let n = 0; n < neurons; n++) data[n * samples + s] = values[row + n];
  }
  return {
    samples,
    neurons,
    data,
    layers: layers ?? [{ name: 'all', start: 0, end: neurons }],
  };
}

/** Row-major float32 copy (for writing S x N .npy files). */
export function toRowMajorFloat32(acts: ActivationMatrix): Float32Array {
  const { samples, neurons, data } = acts;
  const out = new Float32Array(samples * neurons);
  for (let n = 0; n < neurons; n++) {
    const col = n * samples;
    for (let s = 0; s < samples; s++) out[s * neurons + n] = data[col + s];
  }
  return out;
}

/**
 * Takes a capture's rows as they are captured, instead of the capture building the matrix:
 * `begin` once with the final shape (S from the probe, N from the first batch), then every
 * row once, in order, a batch at a time.
 */
export interface RowSink {
  begin(samples: number, neurons: number): void | Promise<void>;
  /** `count` rows of N values each, row-major, the first of them row `start`. */
  rows(start: number, count: number, values: Float64Array): void | Promise<void>;
}

/** The sink that builds the neuron-major matrix in memory (what a capture returns). */
export class MatrixBuilder implements RowSink {
  samples = 0;
  neurons = 0;
  data = new Float64Array(0);

  begin(samples: number, neurons: number): void {
    this.samples = samples;
    this.neurons = neurons;
    this.data = new Float64Array(samples * neurons);
  }

  rows(start: number, count: number, values: Float64Array): void {
    const { samples, neurons, data } = this;
    for (let s = 0; s < count; s++) {
      const row = s * neurons;
      for (let n = 0; n < neurons; n++) data[n * samples + start + s] = values[row + n];
    }
  }
}

/** The default budget of an S x N matrix in memory (`--memory-budget`), MiB. */
export const DEFAULT_MEMORY_BUDGET_MB = 1024;

/**
 * Bytes an S x N matrix takes when it is held whole: 16 a value, the float64 matrix and the
 * file's bytes (or its float32 copy, when it is written).
 */
export function inMemoryBytes(samples: number, neurons: number): number {
  return 16 * samples * neurons;
}
