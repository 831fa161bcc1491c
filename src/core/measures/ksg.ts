import { digammaTable } from './digamma';
import type { KsgPointDetail } from './ksgKernel';
import { KsgScratch, ksgPair, prepareColumn } from './ksgKernel';

export type { KsgPointDetail } from './ksgKernel';

function checkPair(x: Float64Array, y: Float64Array, k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`KSG: expected k >= 1, found ${k}`);
  if (x.length !== y.length) {
    throw new RangeError(
      `KSG: expected x and y of equal length, found ${x.length} and ${y.length}`,
    );
  }
  if (x.length < k + 1) {
    throw new RangeError(`KSG: expected at least k + 1 = ${k + 1} samples, found ${x.length}`);
  }
  for (const v of [x, y]) {
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i]))
        throw new RangeError(`KSG: expected finite values, found ${v[i]} at sample ${i}`);
    }
  }
}

/**
 * KSG-1 mutual information (Kraskov, Stoegbauer & Grassberger 2004, algorithm 1) of one pair,
 * in nats: k nearest neighbours in the max-norm, strict marginal counts |x_j - x_m| < eps_m,
 * no scaling, no noise, no clipping (negative estimates are kept), float64.
 * Matches scikit-learn's `_compute_mi_cc` before its clipping at 0 (except that when eps_m = 0
 * the strict count is 0, where scikit-learn counts exact ties).
 */
export function ksgMi(x: Float64Array, y: Float64Array, k = 3): number {
  checkPair(x, y, k);
  const scratch = new KsgScratch(x.length, k, digammaTable(x.length));
  return ksgPair(prepareColumn(x), prepareColumn(y), scratch);
}

/**
 * The per-sample quantities behind {@link ksgMi}: eps_m (max-norm distance to the k-th
 * nearest neighbour), n_x(m) and n_y(m), plus the estimate itself (nats).
 */
export function ksgDetail(
  x: Float64Array,
  y: Float64Array,
  k = 3,
): KsgPointDetail & { mi: number } {
  checkPair(x, y, k);
  const n = x.length;
  const detail: KsgPointDetail = {
    eps: new Float64Array(n),
    nx: new Int32Array(n),
    ny: new Int32Array(n),
  };
  const mi = ksgPair(
    prepareColumn(x),
    prepareColumn(y),
    new KsgScratch(n, k, digammaTable(n)),
    detail,
  );
  return { ...detail, mi };
}
