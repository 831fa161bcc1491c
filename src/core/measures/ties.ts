import type { ActivationMatrix, LayerSlice } from '../activations';
import { column } from '../activations';
import type { KsgEstimator } from './ksgKernel';

/**
 * Fraction of a neuron's values that equal at least one other of its values (0 when all are
 * distinct, 1 for a constant neuron). Ties (post-ReLU zeros, quantised values) bias the
 * k-NN MI estimator, so a high fraction deserves a warning.
 */
export function tieFraction(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  let tied = 0;
  let run = 1;
  for (let i = 1; i <= n; i++) {
    if (i < n && sorted[i] === sorted[i - 1]) {
      run++;
    } else {
      if (run > 1) tied += run;
      run = 1;
    }
  }
  return tied / n;
}

/** Whether every value equals the first (a dead neuron over the probe set). */
export function isConstant(values: ArrayLike<number>): boolean {
  for (let i = 1; i < values.length; i++) if (values[i] !== values[0]) return false;
  return true;
}

export interface TieStats {
  /** Mean over the layer's neurons of {@link tieFraction}. */
  tieFraction: number;
  /** Neurons whose values are all equal. */
  deadNeurons: number;
  /** Largest per-neuron tie fraction. */
  maxTieFraction: number;
}

/** {@link tieFraction} of every neuron (column) of the matrix, in column order. */
export function neuronTieFractions(acts: ActivationMatrix): Float64Array {
  const out = new Float64Array(acts.neurons);
  for (let n = 0; n < acts.neurons; n++) out[n] = tieFraction(column(acts, n));
  return out;
}

/**
 * Tie and dead-neuron statistics of the columns of one layer. `fractions` are the per-neuron
 * tie fractions of the whole matrix when already computed ({@link neuronTieFractions}).
 */
export function layerTieStats(
  acts: ActivationMatrix,
  layer: LayerSlice,
  fractions?: Float64Array,
): TieStats {
  let sum = 0;
  let max = 0;
  let dead = 0;
  for (let n = layer.start; n < layer.end; n++) {
    const col = column(acts, n);
    const t = fractions ? fractions[n] : tieFraction(col);
    sum += t;
    if (t > max) max = t;
    if (isConstant(col)) dead++;
  }
  const count = layer.end - layer.start;
  return { tieFraction: count > 0 ? sum / count : 0, deadNeurons: dead, maxTieFraction: max };
}

/**
 * Whether KSG-1 MI with k neighbours can be estimated for a neuron: it needs a continuous
 * part. A neuron has none, and is not MI-measurable, when
 * - it takes fewer than k + 1 distinct values (constant, binary, and for k = 3 ternary
 *   neurons), or
 * - every value it takes occurs at least k + 1 times, so that every sample's k-th nearest
 *   neighbour in the neuron's own values is at distance 0 (a discrete neuron, e.g. a one-hot
 *   or coarsely quantised unit).
 * For such neurons the k-NN distances of a pair are mostly 0 and KSG-1 gives meaningless
 * values: with the exact ties counted at eps = 0 (scikit-learn's rule) psi(k) - psi(S), e.g.
 * -4.37 nats at S = 200, for two constant neurons, and about psi(S) + psi(k) - 2 psi(S / 2),
 * -2.98 nats, for two independent binary ones (the earlier rule, no ties counted, gave
 * +7.37 for both). A neuron with a continuous part next to many ties (post-ReLU zeros) stays
 * measurable: its ties are reported as a tie fraction instead.
 * Under the `mixed` estimator, which handles discrete values, only a constant neuron is left
 * out (its MI with any neuron is 0).
 */
export function miMeasurable(
  values: ArrayLike<number>,
  k: number,
  estimator: KsgEstimator = 'ksg',
): boolean {
  if (estimator === 'mixed') return values.length > 0 && !isConstant(values);
  return discreteProfile(Float64Array.from(values).sort(), k);
}

/** {@link miMeasurable} on ascending values. */
function discreteProfile(sorted: Float64Array, k: number): boolean {
  const n = sorted.length;
  let distinct = 0;
  let everyRunLong = true;
  let run = 0;
  for (let i = 0; i <= n; i++) {
    if (i < n && i > 0 && sorted[i] === sorted[i - 1]) {
      run++;
      continue;
    }
    if (i > 0 && run < k + 1) everyRunLong = false;
    if (i < n) {
      distinct++;
      run = 1;
    }
  }
  return n > 0 && distinct >= k + 1 && !everyRunLong;
}

/** {@link miMeasurable} of every neuron (column) of the matrix, in column order. */
export function neuronMiMeasurable(
  acts: ActivationMatrix,
  k: number,
  estimator: KsgEstimator = 'ksg',
): boolean[] {
  const out: boolean[] = [];
  for (let n = 0; n < acts.neurons; n++) out.push(miMeasurable(column(acts, n), k, estimator));
  return out;
}
