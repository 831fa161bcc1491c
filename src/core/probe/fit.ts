import { UserError } from '../errors';
import type { ProbeSet } from './types';

/** A shape for messages: `[?, 28, 28, 1]`, unknown dimensions as `?`. */
export function showShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/**
 * Fits a probe set to a model input shape (batch first, null = any): returned as is when the
 * example shapes agree, reshaped when the known dimensions hold the same number of values
 * (e.g. 784 columns into [28, 28, 1]); otherwise a UserError giving both shapes.
 */
export function fitProbe(probe: ProbeSet, inputShape: readonly (number | null)[]): ProbeSet {
  const example = probe.shape.slice(1);
  const want = inputShape.slice(1);
  const mismatch = (): UserError =>
    new UserError(
      `${probe.source}: probe does not fit the model: expected examples of shape ${showShape(want)}, found ${showShape(example)} (probe shape ${showShape(probe.shape)})`,
    );
  if (want.length === example.length && want.every((d, i) => d === null || d === example[i]))
    return probe;
  if (want.some((d) => d === null)) throw mismatch();
  const wantSize = (want as number[]).reduce((a, b) => a * b, 1);
  const haveSize = example.reduce((a, b) => a * b, 1);
  if (wantSize !== haveSize) throw mismatch();
  return { ...probe, shape: [probe.shape[0], ...(want as number[])] };
}
