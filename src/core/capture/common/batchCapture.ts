import type { DataType, Tensor } from '@tensorflow/tfjs';
import type { ActivationMatrix, LayerSlice } from '../../activations';
import { MatrixBuilder } from '../../activations';
import { UserError, throwIfAborted } from '../../errors';
import { showShape } from '../../probe/fit';
import type { ProbeSet } from '../../probe/types';
import type { Tf } from '../tfjs/tfjsRuntime';
import type { Reduction } from './reduction';
import { reductionFor } from './reduction';
import type { CaptureOptions, CapturedLayer, CapturePoint, SequenceReduction } from '../format';

/** One tensor the forward pass yields per batch, and how to read it. */
export interface CaptureTarget {
  name: string;
  point: CapturePoint;
  /** Conv/pooling outputs: every axis but batch and channels is spatial. */
  convLike: boolean;
  /** Channels on axis 1 (NCHW) instead of the last axis. */
  channelsFirst: boolean;
}

/** Reduces one batch output to a 2-D tensor (batch x features); call inside tf.tidy. */
export function reduceTo2d(
  tf: Tf,
  t: Tensor,
  reduction: Reduction,
  channelsFirst: boolean,
): Tensor {
  const rank = t.shape.length;
  switch (reduction) {
    case 'none':
      return rank === 1 ? t.reshape([t.shape[0], 1]) : t;
    case 'global-average-pool': {
      const axes: number[] = [];
      for (let a = channelsFirst ? 2 : 1; a < (channelsFirst ? rank : rank - 1); a++) axes.push(a);
      return tf.mean(t, axes);
    }
    case 'first-token':
      return tf.squeeze(tf.slice(t, [0, 0, 0], [-1, 1, -1]), [1]);
    case 'mean-tokens':
      return tf.mean(t, 1);
  }
}

/** Bytes the largest activation tensor of one batch may take when the batch size is chosen. */
export const BATCH_TENSOR_BUDGET = 64 * 1024 * 1024;

/**
 * The default examples per forward pass: 256, or fewer so that the largest known per-layer
 * output (float32, batch included) stays within 64 MiB: a 224 x 224 x 64 feature map gives 5.
 * Peak memory is a small multiple of that (a layer's input and output coexist).
 */
export function defaultBatchSize(shapes: readonly (readonly (number | null)[])[]): number {
  let largest = 1;
  for (const shape of shapes) {
    const dims = shape.slice(1);
    if (dims.some((d) => d === null)) continue;
    largest = Math.max(
      largest,
      (dims as number[]).reduce((a, b) => a * b, 1),
    );
  }
  return Math.max(1, Math.min(256, Math.floor(BATCH_TENSOR_BUDGET / (4 * largest))));
}

/**
 * The batching options of one capture call: the caller's, with a batch size by default that
 * keeps the probe batch and every layer output bounded, and sequences read at their first token.
 */
export function batchOptions(
  copts: CaptureOptions,
  probe: ProbeSet,
  layerShapes: readonly (readonly (number | null)[])[],
  inputDtype?: DataType,
  fixedBatch?: number,
): BatchRunOptions {
  return {
    ...copts,
    batchSize:
      fixedBatch ??
      copts.batchSize ??
      defaultBatchSize([[null, ...probe.shape.slice(1)], ...layerShapes]),
    sequence: copts.sequence ?? 'first',
    ...(inputDtype === undefined ? {} : { inputDtype }),
    ...(fixedBatch === undefined ? {} : { fixedBatch }),
  };
}

/** How {@link captureBatches} feeds the model. */
export interface BatchRunOptions extends CaptureOptions {
  batchSize: number;
  sequence: SequenceReduction;
  /** The fed input's dtype (default float32); integer inputs get the probe values rounded. */
  inputDtype?: DataType;
  /**
   * The batch size the model was saved with (a graph-model whose input is [1, 128, 128, 3]):
   * every forward pass gets exactly that many examples, the last one padded with zeros.
   */
  fixedBatch?: number;
}

/** Values one forward pass may feed: far above real inputs (a 4K RGB image is 25 M). */
export const MAX_FEED_VALUES = 2 ** 28;

/**
 * Refuses, in one line, an input whose declared shape cannot be fed: a dimension that is not a
 * whole number, or one batch (`batch` examples; unknown sizes count as 1) over
 * MAX_FEED_VALUES, as a corrupt or crafted model.json or .onnx declares.
 */
export function checkFeedSize(
  file: string,
  input: string,
  batch: number,
  example: readonly (number | null)[],
): void {
  const dims = [batch, ...example.map((d) => d ?? 1)];
  const total = dims.reduce((a, b) => a * b, 1);
  if (dims.every((d) => Number.isSafeInteger(d) && d >= 0) && total <= MAX_FEED_VALUES) return;
  throw new UserError(
    `${file}: input '${input}' declares shape ${showShape([batch, ...example])}: expected at most ${MAX_FEED_VALUES} values per batch`,
  );
}

/**
 * The batch dimension a model input was saved with, or undefined when it is dynamic (null or
 * -1, as TF.js and ONNX write an unknown size).
 */
export function fixedBatchOf(shape: readonly (number | null)[] | undefined): number | undefined {
  const d = shape?.[0];
  return d !== undefined && d !== null && d > 0 ? d : undefined;
}

/**
 * One batch's input values: `count` examples from `start`, padded with zeros to `run`
 * examples; rounded to the nearest integer for an integer input, as ONNX Runtime's readers
 * are fed (Math.round), where a float tensor cast by TF.js would truncate.
 */
function batchValues(
  probe: ProbeSet,
  start: number,
  count: number,
  run: number,
  exampleSize: number,
  integer: boolean,
): Float32Array | Int32Array {
  const values = probe.data.subarray(start * exampleSize, (start + count) * exampleSize);
  const out = integer ? new Int32Array(run * exampleSize) : new Float32Array(run * exampleSize);
  if (integer) for (let i = 0; i < values.length; i++) out[i] = Math.round(values[i]);
  else out.set(values);
  return out;
}

/**
 * Runs `forward` over the probe set in batches of `batchSize` (input tensors of `inputDtype`,
 * default float32) and gathers the reduced outputs
 * into a neuron-major S x N float64 matrix, layers in the order of `targets`. Each batch's
 * tensors are disposed before the next one starts, so peak memory is the model, one batch of
 * intermediates and the result. With `opts.sink`, each batch's rows go to the sink instead
 * and the result's `acts.data` is empty: then no S x N matrix is held.
 */
export async function captureBatches(
  tf: Tf,
  probe: ProbeSet,
  targets: CaptureTarget[],
  forward: (x: Tensor) => Tensor[] | Promise<Tensor[]>,
  opts: BatchRunOptions,
): Promise<{ acts: ActivationMatrix; layers: CapturedLayer[] }> {
  const samples = probe.shape[0];
  if (!(samples > 0))
    throw new UserError(
      `${probe.source}: expected at least one probe example, found an empty probe set`,
    );
  const exampleShape = probe.shape.slice(1);
  const exampleSize = exampleShape.reduce((a, b) => a * b, 1);
  const builder = new MatrixBuilder();
  const sink = opts.sink ?? builder;
  let layers: CapturedLayer[] = [];
  let neurons = 0;
  for (let start = 0; start < samples; start += opts.batchSize) {
    // A turn of the event loop between batches, so that Ctrl-C (SIGINT) can abort the signal.
    await new Promise<void>((resolve) => setImmediate(resolve));
    throwIfAborted(opts.signal);
    const count = Math.min(opts.batchSize, samples - start);
    const run = opts.fixedBatch ?? count;
    const dtype = opts.inputDtype ?? 'float32';
    const x = tf.tensor(
      batchValues(probe, start, count, run, exampleSize, dtype === 'int32'),
      [run, ...exampleShape],
      dtype,
    );
    let raw: Tensor[];
    try {
      raw = await forward(x);
      // A padded batch: the rows past the probe's examples are dropped.
      if (run !== count) {
        const padded = raw;
        raw = padded.map((t) => tf.slice(t, 0, count));
        tf.dispose(padded);
      }
    } finally {
      x.dispose();
    }
    if (layers.length === 0) {
      let col = 0;
      layers = targets.map((t, i) => {
        const reduction = reductionFor(raw[i].shape.length, t.convLike, opts.sequence);
        const shape = raw[i].shape as number[];
        const width =
          reduction === 'none'
            ? shape.slice(1).reduce((a, b) => a * b, 1)
            : reduction === 'global-average-pool'
              ? shape[t.channelsFirst ? 1 : shape.length - 1]
              : shape[2];
        const layer: CapturedLayer = {
          name: t.name,
          start: col,
          end: col + width,
          point: t.point,
          reduction,
        };
        col += width;
        return layer;
      });
      neurons = col;
      await sink.begin(samples, neurons);
    }
    const rows = new Float64Array(count * neurons);
    const flatten = tf.tidy(() =>
      raw.map((r, i) =>
        reduceTo2d(tf, r, layers[i].reduction, targets[i].channelsFirst).reshape([count, -1]),
      ),
    );
    for (const r of raw) r.dispose();
    try {
      for (let i = 0; i < layers.length; i++) {
        const values = await flatten[i].data();
        const { name, start: c0, end: c1 } = layers[i];
        const width = c1 - c0;
        if (values.length !== count * width) {
          throw new UserError(
            `${probe.source}: layer '${name}' gave ${values.length / count} values per example in a later batch: expected ${width} like the first`,
          );
        }
        for (let s = 0; s < count; s++) {
          for (let j = 0; j < width; j++) {
            const v = values[s * width + j];
            if (!Number.isFinite(v)) {
              throw new UserError(
                `${probe.source}: layer '${name}' produced ${String(v)} on probe example ${probe.sampleIndices[start + s] ?? start + s} (neuron ${j}): expected finite activations`,
              );
            }
            rows[s * neurons + c0 + j] = v;
          }
        }
      }
    } finally {
      for (const f of flatten) f.dispose();
    }
    await sink.rows(start, count, rows);
    opts.onProgress?.({ stage: 'capture', done: start + count, total: samples });
  }
  const slices: LayerSlice[] = layers.map(({ name, start, end }) => ({ name, start, end }));
  return { acts: { samples, neurons, data: builder.data, layers: slices }, layers };
}
