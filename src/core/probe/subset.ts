import { UserError } from '../errors';
import { Rng } from '../random';
import type { ProbeOptions } from './types';

/**
 * The examples to keep out of `total`: all of them, or `samples` distinct indices drawn with
 * the seeded generator (same seed, same subset), in increasing order.
 */
export function chooseSamples(source: string, total: number, opts: ProbeOptions): number[] {
  if (total === 0)
    throw new UserError(`${source}: expected at least one probe example, found an empty probe set`);
  const wanted = opts.samples;
  if (wanted === undefined || wanted >= total) {
    if (wanted !== undefined && wanted > total) {
      opts.onWarning?.(
        `${source}: ${wanted} samples requested, the probe set holds ${total}: using all of them`,
      );
    }
    return Array.from({ length: total }, (_, i) => i);
  }
  if (!Number.isInteger(wanted) || wanted < 1) {
    throw new UserError(`${source}: expected a positive whole number of samples, found ${wanted}`);
  }
  return new Rng(opts.seed ?? 0).sample(total, wanted);
}

/** Copies the chosen examples (each `size` values) into a new array, in `indices` order. */
export function gatherRows(data: ArrayLike<number>, size: number, indices: number[]): Float32Array {
  const out = new Float32Array(indices.length * size);
  indices.forEach((src, dst) => {
    for (let j = 0; j < size; j++) out[dst * size + j] = data[src * size + j];
  });
  return out;
}

/** A UserError for the first NaN or infinite value, naming the example (by source index). */
export function checkFinite(
  source: string,
  data: Float32Array,
  size: number,
  indices: number[],
): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const example = indices[Math.floor(i / size)];
      throw new UserError(
        `${source}: expected finite probe values, found ${String(data[i])} in example ${example} (value ${i % size})`,
      );
    }
  }
}
