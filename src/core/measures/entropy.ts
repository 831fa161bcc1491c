import type { ActivationMatrix } from '../activations';
import { UserError } from '../errors';

/**
 * Which values set the bin range: all measured neurons together (the paper's choice), each
 * layer on its own, or each neuron on its own.
 */
export type Binning = 'global' | 'layer' | 'neuron';

export const BINNINGS: readonly Binning[] = ['global', 'layer', 'neuron'];

/**
 * Most equal-width bins B: 10,000. H cannot exceed ln S (S probe examples, 1,000 to 10,000 in
 * practice), so bins beyond S only split empty space (the paper uses 100). The cap also keeps
 * the cost bounded: a count array of 4 bytes a bin and a pass over it per neuron (N x B steps;
 * 2^32 bins took more than 6 GB before). `--bins` and the `memlens.bins` setting share it.
 */
export const MAX_BINS = 10_000;

/**
 * Checks a bin count B for a job before any work: an integer in 1..{@link MAX_BINS}, else a
 * one-line UserError naming the flag and the setting.
 */
export function checkBins(bins: number): void {
  if (!Number.isInteger(bins) || bins < 1 || bins > MAX_BINS) {
    throw new UserError(
      `bins (--bins, setting memlens.bins): expected an integer in 1..${MAX_BINS}, found ${bins}`,
    );
  }
}

export interface EntropyOptions {
  /** Number of equal-width bins B (default 100). */
  bins?: number;
  /** Range of the bins (default 'global'). */
  binning?: Binning;
}

/**
 * Plug-in Shannon entropy, in nats, of each neuron's binned values (the paper's Eq. 1):
 * H_i = -sum_b p_b ln p_b with p_b the fraction of the neuron's S values in bin b.
 *
 * Bins are B equal-width intervals over [min, max] of the values that set the range: all
 * neurons of the matrix (`global`, the default), the neuron's layer (`layer`) or the neuron
 * itself (`neuron`). A value x goes into bin floor((x - min) / width), width = (max - min) / B,
 * and the maximum itself goes into the last bin B - 1. (numpy's `digitize`, which the paper's
 * authors used, puts values equal to the maximum into an extra bin of their own.) When the
 * range is empty (max = min) every neuron it covers has H = 0. The largest possible H is ln B.
 * Ranges too wide for float64 (max - min above ~1.8e308) are binned on halved values, so
 * that they bin exactly like the same data scaled down.
 *
 * @returns one entropy per neuron, in column order, in nats.
 * @throws RangeError when B is not an integer in 1..MAX_BINS or a value is NaN or infinite.
 */
export function entropies(acts: ActivationMatrix, opts: EntropyOptions = {}): Float64Array {
  const bins = opts.bins ?? 100;
  const binning = opts.binning ?? 'global';
  if (!Number.isInteger(bins) || bins < 1 || bins > MAX_BINS) {
    throw new RangeError(`bins must be an integer in 1..${MAX_BINS}, got ${bins}`);
  }
  const { samples, data } = acts;
  const out = new Float64Array(acts.neurons);
  const counts = new Uint32Array(bins);
  const groups: [number, number][] =
    binning === 'global'
      ? [[0, acts.neurons]]
      : binning === 'layer'
        ? acts.layers.map((l) => [l.start, l.end])
        : Array.from({ length: acts.neurons }, (_, n) => [n, n + 1]);
  for (const [start, end] of groups) {
    const [min, max] = valueRange(data, start * samples, end * samples);
    for (let n = start; n < end; n++) {
      out[n] = binnedEntropyOf(data, n * samples, samples, min, max, counts);
    }
  }
  return out;
}

/**
 * Plug-in entropy (nats) of `values` with B equal-width bins over [min, max], binned as in
 * {@link entropies}. Values outside [min, max] are a RangeError.
 */
export function binnedEntropy(
  values: ArrayLike<number>,
  min: number,
  max: number,
  bins: number,
): number {
  if (!Number.isInteger(bins) || bins < 1 || bins > MAX_BINS) {
    throw new RangeError(`bins must be an integer in 1..${MAX_BINS}, got ${bins}`);
  }
  return binnedEntropyOf(values, 0, values.length, min, max, new Uint32Array(bins));
}

function binnedEntropyOf(
  data: ArrayLike<number>,
  offset: number,
  count: number,
  min: number,
  max: number,
  counts: Uint32Array,
): number {
  if (count === 0 || !(max > min)) return 0;
  const bins = counts.length;
  // max - min overflows to Infinity for ranges wider than ~1.8e308 (e.g. [-1.7e308, 1.7e308]),
  // which would put every value in bin 0. Then both x - min and the width are computed on
  // halved values: exact (halving a normal double is exact), finite, and the same quotient.
  // Ordinary ranges keep the direct formula, bit for bit.
  const scale = Number.isFinite(max - min) ? 1 : 0.5;
  const lo = min * scale;
  const width = (max * scale - lo) / bins;
  counts.fill(0);
  for (let i = offset; i < offset + count; i++) {
    const x = data[i];
    if (!(x >= min && x <= max)) {
      throw new RangeError(`value ${x} outside the bin range [${min}, ${max}]`);
    }
    // Rounding can put a value just below max at index B; it belongs to the last bin.
    const b = Math.floor((x * scale - lo) / width);
    counts[b < bins ? b : bins - 1]++;
  }
  // H = -sum (c/S) ln(c/S) = ln S - (1/S) sum c ln c
  let sum = 0;
  for (let b = 0; b < bins; b++) {
    const c = counts[b];
    if (c > 1) sum += c * Math.log(c);
  }
  const h = Math.log(count) - sum / count;
  return h > 0 ? h : 0;
}

/** The smallest and largest of data[from..to); a non-finite value is a RangeError. */
export function valueRange(data: Float64Array, from: number, to: number): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = from; i < to; i++) {
    const x = data[i];
    if (!Number.isFinite(x)) throw new RangeError(`non-finite activation value ${x}`);
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return [min, max];
}
