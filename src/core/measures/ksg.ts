import { digammaTable } from './digamma';
import type { KsgEstimator, KsgPointDetail } from './ksgKernel';
import { KSG_ESTIMATORS, KsgScratch, ksgPair, prepareColumn } from './ksgKernel';

export type { KsgEstimator, KsgPointDetail } from './ksgKernel';
export { KSG_ESTIMATORS } from './ksgKernel';

function checkPair(x: Float64Array, y: Float64Array, k: number, estimator: KsgEstimator): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`KSG: expected k >= 1, found ${k}`);
  if (!KSG_ESTIMATORS.includes(estimator)) {
    throw new RangeError(
      `KSG: expected estimator ${KSG_ESTIMATORS.join(' or ')}, found ${String(estimator)}`,
    );
  }
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
 * and where eps_m = 0 the exact ties #{j != m : x_j = x_m}; no scaling, no noise, no clipping
 * (negative estimates are kept), float64. Matches scikit-learn's `_compute_mi_cc` before its
 * clipping at 0. `estimator` `mixed`: the tie-aware variant (Gao, Kannan, Oh & Viswanath
 * 2017), psi(k_m) with k_m = #{j != m : z_j = z_m} in place of psi(k) where eps_m = 0.
 */
export function ksgMi(
  x: Float64Array,
  y: Float64Array,
  k = 3,
  estimator: KsgEstimator = 'ksg',
): number {
  checkPair(x, y, k, estimator);
  const scratch = new KsgScratch(x.length, k, digammaTable(x.length), estimator);
  return ksgPair(prepareColumn(x), prepareColumn(y), scratch);
}

/**
 * The per-sample quantities behind {@link ksgMi}: eps_m (max-norm distance to the k-th
 * nearest neighbour), n_x(m), n_y(m) and k_m (k, or under `mixed` where eps_m = 0 the number
 * of other points equal to z_m), plus the estimate itself (nats).
 */
export function ksgDetail(
  x: Float64Array,
  y: Float64Array,
  k = 3,
  estimator: KsgEstimator = 'ksg',
): Required<KsgPointDetail> & { mi: number } {
  checkPair(x, y, k, estimator);
  const n = x.length;
  const detail: Required<KsgPointDetail> = {
    eps: new Float64Array(n),
    nx: new Int32Array(n),
    ny: new Int32Array(n),
    km: new Int32Array(n),
  };
  const mi = ksgPair(
    prepareColumn(x),
    prepareColumn(y),
    new KsgScratch(n, k, digammaTable(n), estimator),
    detail,
  );
  return { ...detail, mi };
}
