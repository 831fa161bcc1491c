/**
 * Models with several inputs (a text model taking token ids and an attention mask): which
 * input the probe feeds, and what the others get. Shared by the ONNX and TF.js readers.
 */
import type { DataType, Tensor } from '@tensorflow/tfjs';
import { UserError } from '../../errors';
import type { Tf } from '../tfjs/tfjsRuntime';

/** A model input as the choice of the fed one sees it: its name and dims (null unknown). */
export interface InputSignature {
  name: string;
  dims: readonly (number | null)[];
}

/** The fed input and, when several were possible and none was named, why it was chosen. */
export interface InputChoice {
  index: number;
  reason?: string;
}

/**
 * The input the probe feeds: the one `requested` names, else the only one, else the only
 * input shaped for examples (a batch first: its first dimension unknown) that is not a mask.
 * That default serves stateful models (Silero VAD: `input: [?, ?]` beside `state: [2, ?, 128]`
 * and a scalar `sr`). A name that is not an input, or no way to choose, is a UserError
 * listing the inputs.
 */
export function pickInput(
  file: string,
  inputs: readonly InputSignature[],
  requested: string | undefined,
): InputChoice {
  const names = inputs.map((i) => i.name);
  if (requested !== undefined) {
    const at = names.indexOf(requested);
    if (at < 0) {
      throw new UserError(
        `${file}: unknown input '${requested}': expected one of ${names.join(', ')}`,
      );
    }
    return { index: at };
  }
  if (inputs.length === 1) return { index: 0 };
  if (inputs.length === 0)
    throw new UserError(`${file}: expected a model input that is not a weight, found none`);
  const batchFirst = inputs.flatMap((input, i) => {
    const first = input.dims[0];
    const unknown = input.dims.length > 0 && (first === null || first < 0);
    return unknown && !MASK.test(input.name) ? [i] : [];
  });
  if (batchFirst.length === 1)
    return {
      index: batchFirst[0],
      reason: 'the only input with a batch dimension first that is not a mask',
    };
  throw new UserError(
    `${file}: the model has ${names.length} inputs (${names.join(', ')}): expected the name of the one the probe feeds (CLI --input, setting memlens.modelInput)`,
  );
}

/** An attention or padding mask, by its name: filled with ones (nothing masked). */
const MASK = /mask/i;
/** A sample-rate input (Silero VAD's scalar `sr`), by its name. */
const SAMPLE_RATE = /^(sr|sample_?rate|sampling_?rate)$/i;
/** The rate a sample-rate input gets unless told: 16 kHz, the rate of speech models. */
const DEFAULT_SAMPLE_RATE = 16000;
/**
 * A multiplier, by its name (RVM's `downsample_ratio`, a `scale_factor`): filled with 1, its
 * neutral value, where 0 would make the model divide by zero or collapse its input.
 */
const MULTIPLIER = /(^|_)(ratio|scale|factor)$/i;

/**
 * The value an input the probe does not feed is filled with: 16000 for a sample rate, 1 for
 * a mask or a multiplier, else 0.
 */
export function fillValue(inputName: string): number {
  if (SAMPLE_RATE.test(inputName)) return DEFAULT_SAMPLE_RATE;
  return MASK.test(inputName) || MULTIPLIER.test(inputName) ? 1 : 0;
}

/**
 * Checks `values` (NAME -> number, from --input-value or memlens.inputValues) against the
 * model's inputs: each names an input other than the fed one.
 */
export function checkInputValues(
  file: string,
  fed: string,
  others: readonly string[],
  values: Readonly<Record<string, number>>,
): void {
  for (const [name, value] of Object.entries(values)) {
    if (name === fed)
      throw new UserError(
        `${file}: input '${name}' is the one the probe feeds: expected a value for another input (${others.join(', ') || 'none'})`,
      );
    if (!others.includes(name))
      throw new UserError(
        `${file}: a value is given for input '${name}': expected one of the inputs the probe does not feed (${others.join(', ') || 'none'})`,
      );
    if (!Number.isFinite(value))
      throw new UserError(`${file}: input '${name}' is given ${value}: expected a finite number`);
  }
}

/** Whether `values` (--input-value) gives input `name` a number. */
function given(values: Readonly<Record<string, number>>, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(values, name);
}

/** The value another input is filled with: the one given, else its fill value. */
export function otherValue(name: string, values: Readonly<Record<string, number>>): number {
  return given(values, name) ? values[name] : fillValue(name);
}

/**
 * What a failed run says of the inputs filled by default (none given in `values`): a state or
 * a ratio filled with 0 is a likely cause (RVM's downsample_ratio). Empty when none was.
 */
export function filledInputsHint(
  others: readonly string[],
  values: Readonly<Record<string, number>>,
): string {
  const filled = others.filter((n) => !given(values, n));
  return filled.length === 0
    ? ''
    : ` (inputs ${filled.map((n) => `${n}=${fillValue(n)}`).join(', ')} were filled by default: --input-value NAME=VALUE, or the setting memlens.inputValues, gives another value)`;
}

/**
 * The one-line notice of which input the probe feeds (and why, when it was chosen) and what
 * the others get: the value given (`values`, from --input-value), else the fill value.
 */
export function otherInputsNotice(
  file: string,
  fed: string,
  others: string[],
  reason?: string,
  values: Readonly<Record<string, number>> = {},
): string {
  const what = (n: string): string => {
    if (given(values, n)) return `${values[n]}`;
    const v = fillValue(n);
    if (SAMPLE_RATE.test(n)) return `${v} (a sample rate; --input-value ${n}=N sets another)`;
    if (MULTIPLIER.test(n)) return `1 (a ratio or scale; --input-value ${n}=N sets another)`;
    return v === 1 ? 'ones' : 'zeros';
  };
  const why = reason === undefined ? '' : ` (${reason}; --input chooses another)`;
  return `${file}: the probe feeds input '${fed}'${why}; ${others.map((n) => `'${n}' gets ${what(n)}`).join(', ')}`;
}

/**
 * The shape of a filled input for a batch: its batch dimension is the batch's; an unknown
 * dimension takes the fed input's size at the same position when the ranks agree, else 1.
 */
function filledShape(dims: readonly (number | null)[], fedShape: readonly number[]): number[] {
  return dims.map((d, i) => {
    if (i === 0) return fedShape[0];
    if (d !== null && d >= 0) return d;
    return dims.length === fedShape.length ? fedShape[i] : 1;
  });
}

/** A TF.js model input: its name, shape (batch first, null or -1 unknown) and dtype. */
export interface TfjsInput {
  name: string;
  shape: readonly (number | null)[];
  dtype: DataType;
}

/**
 * The tensors a TF.js model takes for a probe batch `x`: `x` at input `fed`, the others filled
 * (the value given in `values`, else their fill value). The caller disposes the filled ones.
 */
export function tfjsInputTensors(
  tf: Tf,
  inputs: TfjsInput[],
  fed: number,
  x: Tensor,
  values: Readonly<Record<string, number>> = {},
): Tensor[] {
  return inputs.map((input, i) =>
    i === fed
      ? x
      : tf.fill(
          filledShape(
            input.shape.map((d) => (d !== null && d < 0 ? null : d)),
            x.shape,
          ),
          otherValue(input.name, values),
          input.dtype as 'float32',
        ),
  );
}
