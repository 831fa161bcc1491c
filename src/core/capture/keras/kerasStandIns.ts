/**
 * Keras layers and activations that TF.js lacks, or defines differently, rewritten in a Keras
 * 2-form config as TF.js equivalents with the same inference-time function:
 * - augmentation and spatial dropout layers, the identity at inference: linear Activations;
 * - Normalization, `(x - mean) / max(sqrt(variance), 1e-7)`: a BatchNormalization without
 *   centre or scale, epsilon 0, fed the mean and the variance floored at 1e-14 (the same
 *   division);
 * - global pooling with `keepdims` (TF.js pools to [batch, channels] only): a pooling layer
 *   of MemLens' that keeps the spatial axes with size 1;
 * - GRU with reset_after=True (Keras' default; TF.js has only the other form): MemLens' GRU;
 * - the activations `silu` (TF.js: swish), `hard_silu`/`hard_swish` (x * relu6(x + 3) / 6), and Keras 3's
 *   `hard_sigmoid` (relu6(x + 3) / 6, where Keras 2 and TF.js use 0.2x + 0.5 clipped): classes
 *   registered with TF.js under names of their own.
 */
import { UserError } from '../../errors';
import { SCALAR_OP, isObject } from './kerasConfig';
import { BIDIRECTIONAL_GRU, GRU_RESET_AFTER, KEEPDIMS_POOLING } from './kerasStandInClasses';
import type { Hdf5Array } from './kerasHdf5';

type Json = unknown;

/** The weights a stand-in layer takes, from what the file holds for the original layer. */
export type StandInWeights = (found: Hdf5Array[] | undefined, shapes: number[][]) => Hdf5Array[];

const IDENTITY_AT_INFERENCE = new Set([
  'RandomFlip',
  'RandomRotation',
  'RandomZoom',
  'RandomTranslation',
  'RandomContrast',
  'RandomBrightness',
  'SpatialDropout2D',
  'SpatialDropout3D',
]);

/** Keras' floor on the standard deviation Normalization divides by (backend.epsilon()). */
const KERAS_EPSILON = 1e-7;

function constantArray(file: string, layer: string, value: Json, shape: number[]): Hdf5Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const list = Array.isArray(value) ? value.flat(Infinity) : [value];
  if (!list.every((v) => typeof v === 'number') || (list.length !== 1 && list.length !== size)) {
    throw new UserError(
      `${file}: Normalization layer '${layer}' has a constant of ${list.length} values: expected 1 or ${size}`,
    );
  }
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = list[list.length === 1 ? 0 : i] as number;
  return { shape, values };
}

function normalization(
  file: string,
  entry: Record<string, Json>,
  weights: Map<string, StandInWeights>,
): Record<string, Json> {
  const c = isObject(entry.config) ? entry.config : {};
  const name = String(c.name ?? entry.name ?? '');
  const axis = Array.isArray(c.axis) ? c.axis : c.axis === null ? [] : [c.axis ?? -1];
  if (axis.length !== 1 || typeof axis[0] !== 'number') {
    throw new UserError(
      `${file}: Normalization layer '${name}' normalises over axes ${JSON.stringify(c.axis ?? null)}: expected one axis`,
    );
  }
  if (c.invert === true) {
    throw new UserError(
      `${file}: Normalization layer '${name}' has invert=True: expected a forward normalisation`,
    );
  }
  const fixed = c.mean !== null && c.mean !== undefined;
  weights.set(name, (found, shapes) => {
    const [mean, variance] = fixed
      ? [
          constantArray(file, name, c.mean, shapes[0]),
          constantArray(file, name, c.variance, shapes[1]),
        ]
      : (found ?? []);
    if (mean === undefined || variance === undefined) {
      throw new UserError(
        `${file}: Normalization layer '${name}': expected its adapted mean and variance, found none`,
      );
    }
    const floor = KERAS_EPSILON * KERAS_EPSILON;
    return [
      mean,
      { shape: variance.shape, values: variance.values.map((v) => Math.max(v, floor)) },
    ];
  });
  return {
    ...entry,
    class_name: 'BatchNormalization',
    config: {
      name,
      trainable: false,
      dtype: c.dtype ?? 'float32',
      axis: axis[0],
      momentum: 0.99,
      epsilon: 0,
      center: false,
      scale: false,
      moving_mean_initializer: { class_name: 'Zeros', config: {} },
      moving_variance_initializer: { class_name: 'Ones', config: {} },
    },
  };
}

const GLOBAL_POOLING = /^Global(Average|Max)Pooling([123])D$/;

/** A global pooling with keepdims as MemLens' keepdims pooling layer; else undefined. */
function keepdimsPooling(entry: Record<string, Json>): Record<string, Json> | undefined {
  const c = isObject(entry.config) ? entry.config : {};
  const match = typeof entry.class_name === 'string' && GLOBAL_POOLING.exec(entry.class_name);
  if (!match || c.keepdims !== true) return undefined;
  return {
    ...entry,
    class_name: KEEPDIMS_POOLING,
    config: {
      name: c.name,
      trainable: false,
      dtype: c.dtype ?? 'float32',
      mode: match[1] === 'Average' ? 'mean' : 'max',
      spatial_axes: Number(match[2]),
      data_format: c.data_format ?? 'channels_last',
    },
  };
}

/** A GRU with reset_after=True as MemLens' GRU layer (TF.js' GRU lacks reset_after). */
function gruResetAfter(file: string, entry: Record<string, Json>): Record<string, Json> {
  const c = isObject(entry.config) ? entry.config : {};
  if (c.return_state === true) {
    throw new UserError(
      `${file}: GRU layer '${String(c.name)}' returns its state: expected a GRU with one output`,
    );
  }
  return {
    ...entry,
    class_name: GRU_RESET_AFTER,
    config: {
      name: c.name,
      trainable: false,
      dtype: c.dtype ?? 'float32',
      units: c.units,
      activation: c.activation ?? 'tanh',
      recurrent_activation: c.recurrent_activation ?? 'sigmoid',
      use_bias: c.use_bias ?? true,
      return_sequences: c.return_sequences ?? false,
      go_backwards: c.go_backwards ?? false,
    },
  };
}

/** The Keras names of the stand-in activations, as TF.js reports them. */
export const KERAS_ACTIVATION_NAMES: Record<string, string> = {
  memlensHardSigmoid: 'hard_sigmoid',
  memlensHardSilu: 'hard_silu',
};

/**
 * A Bidirectional whose GRUs (already rewritten, children first) have reset_after as MemLens'
 * bidirectional GRU; the backward GRU is the forward one going backwards unless given.
 */
function bidirectionalGru(file: string, entry: Record<string, Json>): Record<string, Json> {
  const c = isObject(entry.config) ? entry.config : {};
  const layerConfig = (l: Json): Record<string, Json> =>
    isObject(l) && isObject(l.config) ? l.config : {};
  const forward = layerConfig(c.layer);
  const backward = isObject(c.backward_layer)
    ? layerConfig(c.backward_layer)
    : { ...forward, go_backwards: !forward.go_backwards };
  const mode = c.merge_mode ?? 'concat';
  if (!['concat', 'sum', 'mul', 'ave'].includes(String(mode))) {
    throw new UserError(
      `${file}: Bidirectional layer '${String(c.name)}' has merge_mode ${JSON.stringify(mode)}: expected concat, sum, mul or ave`,
    );
  }
  return {
    ...entry,
    class_name: BIDIRECTIONAL_GRU,
    config: {
      name: c.name,
      trainable: false,
      dtype: c.dtype ?? 'float32',
      merge_mode: mode,
      forward,
      backward,
    },
  };
}

/** Activation names TF.js lacks or defines differently, by Keras major version. */
function activationName(name: Json, kerasMajor: number): Json {
  if (name === 'silu') return 'swish'; // x * sigmoid(x) under both names
  if (name === 'hard_silu' || name === 'hard_swish') return 'memlens_hard_silu';
  if (name === 'hard_sigmoid' && kerasMajor >= 3) return 'memlens_hard_sigmoid';
  return name;
}

/**
 * Rewrites the layers of a Keras 2-form config of `file` (written by Keras `kerasMajor`) with
 * their TF.js stand-ins; returns the config and, by layer name, how stand-in layers take
 * their weights and the Keras class each stand-in replaces (what listings show).
 */
export function withStandIns(
  file: string,
  config: Json,
  kerasMajor: number,
): { config: Json; weights: Map<string, StandInWeights>; kerasClasses: Map<string, string> } {
  const weights = new Map<string, StandInWeights>();
  const kerasClasses = new Map<string, string>();
  const visit = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(visit);
    if (!isObject(v)) return v;
    const out: Record<string, Json> = {};
    for (const [key, value] of Object.entries(v)) {
      out[key] =
        key === 'activation' || key === 'recurrent_activation'
          ? activationName(value, kerasMajor)
          : visit(value);
    }
    const cls = out.class_name;
    const c = isObject(out.config) ? out.config : {};
    const replaced = standIn(out, cls, c);
    if (replaced !== out && typeof cls === 'string') kerasClasses.set(String(c.name), cls);
    if (cls === SCALAR_OP) kerasClasses.set(String(c.name), String(c.keras_class));
    return replaced;
  };
  const standIn = (
    out: Record<string, Json>,
    cls: Json,
    c: Record<string, Json>,
  ): Record<string, Json> => {
    if (typeof cls === 'string' && IDENTITY_AT_INFERENCE.has(cls)) {
      return {
        ...out,
        class_name: 'Activation',
        config: { name: c.name, trainable: false, dtype: c.dtype, activation: 'linear' },
      };
    }
    if (cls === 'Normalization') return normalization(file, out, weights);
    if (cls === 'GRU' && c.reset_after === true) return gruResetAfter(file, out);
    if (cls === 'Bidirectional' && isObject(c.layer) && c.layer.class_name === GRU_RESET_AFTER)
      return bidirectionalGru(file, out);
    return keepdimsPooling(out) ?? out;
  };
  return { config: visit(config), weights, kerasClasses };
}
