/**
 * How many examples one ONNX run takes: sized from the first batch's real output sizes (a
 * model with dynamic H/W declares none), so that the full tensors the runtime holds for the
 * fetched outputs stay within a budget; and what to say when a batch still does not fit.
 */
import { UserError } from '../../errors';
import { ELEMENT_BYTES } from './onnxOutputs';
import type { ReducedTensor } from './onnxProtocol';

/** Bytes the fetched outputs (whole, before the child reduces them) of one run may take. */
export const ONNX_BATCH_BUDGET = 256 * 1024 * 1024;
/** The most examples per run, however small the model. */
export const MAX_ONNX_BATCH = 256;

/**
 * The batch size under {@link ONNX_BATCH_BUDGET}, from one run of `run` examples: the bytes
 * per example of every fetched output (as the runtime gave it) plus the input's.
 */
export function batchSizeFor(
  outputs: readonly ReducedTensor[],
  run: number,
  inputBytesPerExample: number,
): number {
  let perExample = inputBytesPerExample;
  for (const t of new Set(outputs)) {
    const size = t.dims.reduce((a, b) => a * b, 1);
    perExample += (size / run) * (ELEMENT_BYTES[t.type] ?? 4);
  }
  if (!(perExample > 0)) return MAX_ONNX_BATCH;
  return Math.max(1, Math.min(MAX_ONNX_BATCH, Math.floor(ONNX_BATCH_BUDGET / perExample)));
}

/** The one-line error of a batch the machine's memory cannot hold. */
export function outOfMemory(file: string, run: number, err: Error): UserError {
  const cause = err.message.startsWith(`${file}: `)
    ? err.message.slice(file.length + 2)
    : err.message;
  return new UserError(
    `${file}: out of memory running a batch of ${run} example${run === 1 ? '' : 's'}: expected a smaller batch size (CLI --batch-size, --batch in capture) or fewer layers (${cause})`,
  );
}
