/**
 * Models with several inputs (a text model taking token ids and an attention mask): which
 * input the probe feeds, and what the others get. Shared by the ONNX and TF.js readers.
 */
import type { DataType, Tensor } from '@tensorflow/tfjs';
import { UserError } from '../../errors';
import type { Tf } from '../tfjs/tfjsRuntime';

/**
 * The index of the input the probe feeds: the one `requested` names, else the only one. A
 * name that is not an input, or several inputs and no name, is a UserError listing them.
 */
export function pickInput(file: string, names: string[], requested: string | undefined): number {
  if (requested !== undefined) {
    const at = names.indexOf(requested);
    if (at < 0) {
      throw new UserError(
        `${file}: unknown input '${requested}': expected one of ${names.join(', ')}`,
      );
    }
    return at;
  }
  if (names.length === 1) return 0;
  throw new UserError(
    names.length === 0
      ? `${file}: expected a model input that is not a weight, found none`
      : `${file}: the model has ${names.length} inputs (${names.join(', ')}): expected the name of the one the probe feeds (CLI --input, setting memlens.modelInput)`,
  );
}

/** The value an input the probe does not feed is filled with: 1 for a mask, else 0. */
export function fillValue(inputName: string): number {
  return /mask/i.test(inputName) ? 1 : 0;
}

/** The one-line notice of what the other inputs get. */
export function otherInputsNotice(file: string, fed: string, others: string[]): string {
  return `${file}: the probe feeds input '${fed}'; ${others.map((n) => `'${n}'`).join(', ')} get ${others.map((n) => (fillValue(n) === 1 ? 'ones' : 'zeros')).join(', ')}`;
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
 * (ones for a mask, zeros otherwise). The caller disposes the filled ones.
 */
export function tfjsInputTensors(tf: Tf, inputs: TfjsInput[], fed: number, x: Tensor): Tensor[] {
  return inputs.map((input, i) =>
    i === fed
      ? x
      : tf.fill(
          filledShape(
            input.shape.map((d) => (d !== null && d < 0 ? null : d)),
            x.shape,
          ),
          fillValue(input.name),
          input.dtype as 'float32',
        ),
  );
}
