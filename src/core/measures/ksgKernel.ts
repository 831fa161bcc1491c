// The KSG-1 kernel: per-neuron preparation (sort once) and the per-pair computation.
// Conventions (spec section 4): max-norm, k-th neighbour distance eps with the point itself
// excluded and duplicates counted, strict marginal counts |x_j - x_m| < eps evaluated as a
// float64 difference (the same arithmetic as scikit-learn's KDTree), float64 throughout.
// Where eps = 0 the marginal counts are the exact ties, n_x = #{j != m : x_j = x_m}, as in
// scikit-learn's _compute_mi_cc (radius nextafter(0, 0) = 0 counted with <=). The opt-in
// `mixed` estimator (Gao, Kannan, Oh & Viswanath 2017) also replaces k by the number of points
// equal to z_m there: psi(k_m) instead of psi(k); elsewhere it is KSG-1, bit for bit.
// The MI workers run ksgKernel.c, a WebAssembly port of this kernel with bit-identical results
// (ksgWasm.ts); this one serves ksgMi / ksgDetail and is the reference the wasm is tested against.

/** One neuron, sorted once per job and reused for every pair it takes part in. */
export interface PreparedColumn {
  /** Number of samples S. */
  n: number;
  /** The raw values, sample order. */
  values: Float64Array;
  /** The values in ascending order. */
  sorted: Float64Array;
  /** order[pos] = sample index at sorted position pos. */
  order: Int32Array;
  /** rank[sample] = its sorted position. */
  rank: Int32Array;
  /**
   * Tie groups (runs of equal values) in sorted positions: groupStart[pos] / groupEnd[pos] =
   * first / one-past-last position of the run holding pos. Null when all values are distinct.
   */
  groupStart: Int32Array | null;
  groupEnd: Int32Array | null;
  /**
   * A value -> position guide for marginal counts: with bucket(u) = floor((u - min) * scale)
   * clamped to [0, n - 1], bucketStart[b] is the first sorted position whose bucket is >= b.
   * Only a starting guess; the counts themselves use the exact difference predicate.
   */
  bucketStart: Int32Array;
  /**
   * `sorted` with GUARD entries of -Infinity before and +Infinity after (sorted is a view into
   * it), so the branch-free boundary windows of the marginal counts never read out of range.
   */
  guarded: Float64Array;
  min: number;
  scale: number;
  /** Length of the longest run of equal values. */
  maxRun: number;
  /** Rank-space grid bands: band[sample] = floor(rank * G / n), G = gridSize(n). */
  band: Uint16Array;
  /** Smallest and largest value of each band. */
  bandLo: Float64Array;
  bandHi: Float64Array;
}

/** Bands per axis of the rank-space grid: about 2 points per cell when x and y are independent. */
export function gridSize(n: number): number {
  return Math.max(1, Math.min(65535, Math.round(Math.sqrt(n / 2))));
}

/** Sorts one column and finds its tie groups. Values must be finite. */
export function prepareColumn(values: Float64Array): PreparedColumn {
  const n = values.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => values[a] - values[b] || a - b);
  const guarded = new Float64Array(n + 2 * GUARD);
  guarded.fill(-Infinity, 0, GUARD);
  guarded.fill(Infinity, GUARD + n);
  const sorted = guarded.subarray(GUARD, GUARD + n);
  const rank = new Int32Array(n);
  let ties = false;
  for (let pos = 0; pos < n; pos++) {
    const s = order[pos];
    sorted[pos] = values[s];
    rank[s] = pos;
    if (pos > 0 && sorted[pos] === sorted[pos - 1]) ties = true;
  }
  let groupStart: Int32Array | null = null;
  let groupEnd: Int32Array | null = null;
  if (ties) {
    groupStart = new Int32Array(n);
    groupEnd = new Int32Array(n);
    let start = 0;
    for (let pos = 1; pos <= n; pos++) {
      if (pos === n || sorted[pos] !== sorted[start]) {
        for (let q = start; q < pos; q++) {
          groupStart[q] = start;
          groupEnd[q] = pos;
        }
        start = pos;
      }
    }
  }
  const min = sorted[0];
  const range = sorted[n - 1] - min;
  const scale = range > 0 && Number.isFinite(n / range) ? n / range : 0;
  const bucketStart = new Int32Array(n + 1);
  let pos = 0;
  for (let b = 0; b <= n; b++) {
    while (pos < n && bucketOf(sorted[pos], min, scale, n) < b) pos++;
    bucketStart[b] = pos;
  }
  let maxRun = 1;
  for (let run = 1, q = 1; q < n; q++) {
    run = sorted[q] === sorted[q - 1] ? run + 1 : 1;
    if (run > maxRun) maxRun = run;
  }
  const G = gridSize(n);
  const band = new Uint16Array(n);
  const bandLo = new Float64Array(G).fill(Infinity);
  const bandHi = new Float64Array(G).fill(-Infinity);
  for (let q = 0; q < n; q++) {
    const b = Math.floor((q * G) / n);
    band[order[q]] = b;
    if (sorted[q] < bandLo[b]) bandLo[b] = sorted[q];
    if (sorted[q] > bandHi[b]) bandHi[b] = sorted[q];
  }
  return {
    n,
    values,
    sorted,
    order,
    rank,
    groupStart,
    groupEnd,
    bucketStart,
    guarded,
    min,
    scale,
    maxRun,
    band,
    bandLo,
    bandHi,
  };
}

function bucketOf(u: number, min: number, scale: number, n: number): number {
  const b = Math.floor((u - min) * scale);
  return b < 0 ? 0 : b >= n ? n - 1 : b;
}

/**
 * The k-NN MI estimator: `ksg` is KSG-1 (the authors' and scikit-learn's, ties at eps = 0
 * counted exactly); `mixed` is the tie-aware variant for discrete-continuous mixtures
 * (Gao, Kannan, Oh & Viswanath, NeurIPS 2017): where a point's k-th neighbour distance is 0,
 * k is replaced by the number of points equal to it.
 */
export type KsgEstimator = 'ksg' | 'mixed';

/** The estimators, the default first. */
export const KSG_ESTIMATORS: readonly KsgEstimator[] = ['ksg', 'mixed'];

/** Per-point results, filled only when a caller asks for them (tests, diagnostics). */
export interface KsgPointDetail {
  /** eps of each sample (sample order): max-norm distance to its k-th nearest neighbour. */
  eps: Float64Array;
  /** n_x of each sample: #{j != m : |x_j - x_m| < eps_m}, or #{j != m : x_j = x_m} at eps_m = 0. */
  nx: Int32Array;
  /** n_y of each sample. */
  ny: Int32Array;
  /**
   * The neighbour count in psi(k_m) of each sample: k, except under `mixed` where eps_m = 0:
   * k_m = #{j != m : z_j = z_m}. Filled when present.
   */
  km?: Int32Array;
}

/** Scratch buffers for one sample count, reused across pairs (no allocation per pair). */
export class KsgScratch {
  readonly n: number;
  readonly k: number;
  /** x in (x, y)-lexicographic order. */
  readonly xs: Float64Array;
  /** y in the same order. */
  readonly ys: Float64Array;
  /** Position of the point in y's sorted order. */
  readonly yr: Int32Array;
  /** Sample index of the point (only for per-point detail). */
  readonly sample: Int32Array;
  /** Next free slot of each x tie group during the counting sort. */
  readonly cursor: Int32Array;
  /** The k smallest distances so far, ascending. */
  readonly best: Float64Array;
  /** eps, n_x and n_y of each point, lexicographic order. */
  readonly eps: Float64Array;
  readonly nx: Int32Array;
  readonly ny: Int32Array;
  /** psi(0..n). */
  readonly psi: Float64Array;
  /** Grid bands per axis, and the first point of each cell (cell = bx * G + by) + sentinel. */
  readonly G: number;
  readonly cellStart: Int32Array;
  /** Position of the point in x's sorted order (grid path). */
  readonly xr: Int32Array;
  /** The k best distances of every point (point-major) and the k-th of each (grid path). */
  readonly bestAll: Float64Array;
  readonly kthAll: Float64Array;
  /** psi(n_x + 1) + psi(n_y + 1) of each sample (sample order); under `mixed` also - psi(k_m) + psi(k). */
  readonly term: Float64Array;
  /** The estimator of every pair computed with this scratch. */
  readonly estimator: KsgEstimator;
  /** `mixed`: 1 where the sample's eps is 0 (sample order). */
  readonly zero: Uint8Array;

  constructor(n: number, k: number, psi: Float64Array, estimator: KsgEstimator = 'ksg') {
    if (psi.length < n + 1) throw new RangeError('KsgScratch: digamma table shorter than n + 1');
    this.n = n;
    this.k = k;
    this.estimator = estimator;
    this.zero = new Uint8Array(estimator === 'mixed' ? n : 0);
    this.xs = new Float64Array(n);
    this.ys = new Float64Array(n);
    this.yr = new Int32Array(n);
    this.sample = new Int32Array(n);
    this.cursor = new Int32Array(n);
    this.best = new Float64Array(k);
    this.eps = new Float64Array(n);
    this.nx = new Int32Array(n);
    this.ny = new Int32Array(n);
    this.psi = psi;
    this.G = gridSize(n);
    this.cellStart = new Int32Array(this.G * this.G + 1);
    this.xr = new Int32Array(n);
    this.bestAll = new Float64Array(n * k);
    this.kthAll = new Float64Array(n);
    this.term = new Float64Array(n);
  }
}

/**
 * Lays the points of the pair out in (x, y)-lexicographic order: x ascending, and within a
 * run of equal x, y ascending. Without ties in x this is x's sorted order; with ties it is a
 * stable counting sort of y's order by x tie group, O(S).
 */
function layout(X: PreparedColumn, Y: PreparedColumn, sc: KsgScratch): void {
  const n = X.n;
  const { xs, ys, yr, sample } = sc;
  const xSorted = X.sorted;
  const gs = X.groupStart;
  if (gs === null) {
    const xOrder = X.order;
    const yValues = Y.values;
    const yRank = Y.rank;
    for (let i = 0; i < n; i++) {
      const s = xOrder[i];
      xs[i] = xSorted[i];
      ys[i] = yValues[s];
      yr[i] = yRank[s];
      sample[i] = s;
    }
    return;
  }
  const cursor = sc.cursor;
  for (let i = 0; i < n; i++) cursor[i] = gs[i];
  const xRank = X.rank;
  const yOrder = Y.order;
  const ySorted = Y.sorted;
  for (let t = 0; t < n; t++) {
    const s = yOrder[t];
    const g = gs[xRank[s]];
    const pos = cursor[g]++;
    xs[pos] = xSorted[pos];
    ys[pos] = ySorted[t];
    yr[pos] = t;
    sample[pos] = s;
  }
}

/** Width of the branch-free boundary windows; guard entries on each side of `guarded`. */
const WINDOW = 8;
const GUARD = WINDOW + 1;

/**
 * Number of sorted positions q != self of column C with |C.sorted[q] - v| < eps (difference
 * predicate), where C.sorted[self] === v; at eps = 0, the positions q != self with
 * C.sorted[q] === v (scikit-learn's count at radius 0).
 * Fast path: the bucket guide puts each end of the window in a bucket of a few values; when a
 * WINDOW-wide stretch from that bucket brackets the end (one predictable check on each side),
 * the end is the bracket start plus the number of positions in the stretch that satisfy the
 * predicate, summed without branches (the predicate is monotone along the sorted values).
 * Otherwise (ties, crowded buckets, outliers) a galloping search finds it.
 */
function countWithin(C: PreparedColumn, self: number, v: number, eps: number): number {
  if (!(eps > 0)) return exactTies(C, self);
  const n = C.n;
  const guide = C.bucketStart;
  const g = C.guarded;
  // Upper end U = max q with sorted[q] - v < eps. Stretch: positions gu .. gu + WINDOW - 1.
  const gu = guide[bucketOf(v + eps, C.min, C.scale, n)];
  const iu = gu + GUARD; // index of position gu in `guarded`
  // Lower end L = min q with v - sorted[q] < eps. Stretch: gl - WINDOW + 1 .. gl.
  const gl = guide[bucketOf(v - eps, C.min, C.scale, n) + 1] - 1;
  const il = gl + GUARD;
  if (
    g[iu - 1] - v < eps &&
    !(g[iu + WINDOW] - v < eps) &&
    v - g[il + 1] < eps &&
    !(v - g[il - WINDOW] < eps)
  ) {
    let up = 0;
    let low = 0;
    for (let i = 0; i < WINDOW; i++) {
      up += +(g[iu + i] - v < eps);
      low += +(v - g[il - i] < eps);
    }
    // U = gu - 1 + up, L = gl + 1 - low; count U - L + 1 minus self.
    return gu - 1 + up - (gl + 1 - low);
  }
  return countWithinSearch(C, self, v, eps);
}

/**
 * The other positions holding the value at sorted position `self`: its tie run less itself.
 * A zero k-th distance needs a duplicate point, hence a tie run, so the groups are present.
 */
function exactTies(C: PreparedColumn, self: number): number {
  const gs = C.groupStart;
  const ge = C.groupEnd;
  return gs === null || ge === null ? 0 : ge[self] - gs[self] - 1;
}

/** countWithin by galloping from the guide's guesses: O(log distance) for any guess. */
function countWithinSearch(C: PreparedColumn, self: number, v: number, eps: number): number {
  if (!(eps > 0)) return exactTies(C, self);
  const sorted = C.sorted;
  const n = C.n;
  // Upper end: the largest q >= self with sorted[q] - v < eps (true at self).
  let g = C.bucketStart[bucketOf(v + eps, C.min, C.scale, n) + 1] - 1;
  if (g < self) g = self;
  let lo: number; // predicate true
  let hi: number; // predicate false, or n
  if (sorted[g] - v < eps) {
    lo = g;
    hi = g + 1;
    let step = 1;
    while (hi < n && sorted[hi] - v < eps) {
      lo = hi;
      step <<= 1;
      hi = g + step;
    }
    if (hi > n) hi = n;
  } else {
    hi = g;
    lo = g - 1;
    let step = 1;
    while (lo > self && !(sorted[lo] - v < eps)) {
      hi = lo;
      step <<= 1;
      lo = g - step;
    }
    if (lo < self) lo = self;
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] - v < eps) lo = mid;
    else hi = mid;
  }
  const upper = lo;
  // Lower end: the smallest q <= self with v - sorted[q] < eps (true at self).
  g = C.bucketStart[bucketOf(v - eps, C.min, C.scale, n)];
  if (g > self) g = self;
  if (v - sorted[g] < eps) {
    hi = g;
    lo = g - 1;
    let step = 1;
    while (lo >= 0 && v - sorted[lo] < eps) {
      hi = lo;
      step <<= 1;
      lo = g - step;
    }
    if (lo < -1) lo = -1;
  } else {
    lo = g;
    hi = g + 1;
    let step = 1;
    while (hi < self && !(v - sorted[hi] < eps)) {
      lo = hi;
      step <<= 1;
      hi = g + step;
    }
    if (hi > self) hi = self;
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (v - sorted[mid] < eps) hi = mid;
    else lo = mid;
  }
  return upper - hi; // positions hi..upper, minus self
}

/**
 * eps and n_x of every point when x has no ties: sweep outward in x order, nearer side first,
 * until the x gap alone reaches the current k-th distance.
 */
function knnDistinct(sc: KsgScratch): void {
  const { n, k, xs, ys, best, eps, nx } = sc;
  for (let i = 0; i < n; i++) {
    const xp = xs[i];
    const yp = ys[i];
    // Seed the k best with the k nearest positions on each side, then scan each side alone
    // (predictable branches) until the x gap reaches the k-th distance.
    for (let j = 0; j < k; j++) best[j] = Infinity;
    let kth = Infinity;
    const r0 = i + k < n - 1 ? i + k : n - 1;
    const l0 = i - k > 0 ? i - k : 0;
    for (let q = l0; q <= r0; q++) {
      if (q === i) continue;
      let dx = xs[q] - xp;
      if (dx < 0) dx = -dx;
      let dy = ys[q] - yp;
      if (dy < 0) dy = -dy;
      const d = dx > dy ? dx : dy;
      if (d < kth) kth = offer(best, k, d);
    }
    let r = r0 + 1;
    for (; r < n; r++) {
      const dx = xs[r] - xp;
      if (dx >= kth) break;
      let dy = ys[r] - yp;
      if (dy < 0) dy = -dy;
      if (dy < kth) kth = offer(best, k, dx > dy ? dx : dy);
    }
    let l = l0 - 1;
    for (; l >= 0; l--) {
      const dx = xp - xs[l];
      if (dx >= kth) break;
      let dy = ys[l] - yp;
      if (dy < 0) dy = -dy;
      if (dy < kth) kth = offer(best, k, dx > dy ? dx : dy);
    }
    // Every position strictly between l and r was visited; trim those whose x gap is not
    // below the final eps (visited while the k-th distance was still larger).
    let lo = l + 1;
    while (lo < i && xp - xs[lo] >= kth) lo++;
    let hi = r - 1;
    while (hi > i && xs[hi] - xp >= kth) hi--;
    eps[i] = kth;
    nx[i] = hi - lo;
  }
}

/** Offers d to the ascending k best stored at best[base .. base + k); returns the k-th. */
function offerAt(best: Float64Array, base: number, k: number, d: number): number {
  if (k === 3) {
    // The default k, unrolled (callers ensure d < best[base + 2]).
    const b1 = best[base + 1];
    if (d < b1) {
      const b0 = best[base];
      best[base + 2] = b1;
      if (d < b0) {
        best[base + 1] = b0;
        best[base] = d;
      } else {
        best[base + 1] = d;
      }
    } else {
      best[base + 2] = d;
    }
    return best[base + 2];
  }
  let j = base + k - 1;
  while (j > base && best[j - 1] > d) {
    best[j] = best[j - 1];
    j--;
  }
  best[j] = d;
  return best[base + k - 1];
}

/** Offers distance d to the ascending list of the k best; returns the new k-th distance. */
function offer(best: Float64Array, k: number, d: number): number {
  let j = k - 1;
  while (j > 0 && best[j - 1] > d) {
    best[j] = best[j - 1];
    j--;
  }
  best[j] = d;
  return best[k - 1];
}

/**
 * eps and n_x of every point when x has ties. Points are in (x, y)-lexicographic order, so
 * each run of equal x is sorted by y: the own run is merged outward by |dy| (dx = 0 there),
 * other runs are entered at the first y >= yp and walked outward while |dy| < eps. A run of
 * 1,000 equal values therefore costs O(log run + k) per point, not O(run).
 */
function knnTies(gsArr: Int32Array, geArr: Int32Array, sc: KsgScratch): void {
  const { n, k, xs, ys, best, eps, nx } = sc;
  for (let i = 0; i < n; i++) {
    const xp = xs[i];
    const yp = ys[i];
    for (let j = 0; j < k; j++) best[j] = Infinity;
    let kth = Infinity;
    const g0 = gsArr[i];
    const g1 = geArr[i];
    let a = i - 1;
    let b = i + 1;
    for (;;) {
      const da = a >= g0 ? yp - ys[a] : Infinity;
      const db = b < g1 ? ys[b] - yp : Infinity;
      if (da <= db) {
        if (da >= kth) break;
        kth = offer(best, k, da);
        a--;
      } else {
        if (db >= kth) break;
        kth = offer(best, k, db);
        b++;
      }
    }
    let l = g0 - 1;
    let r = g1;
    for (;;) {
      const dl = l >= 0 ? xp - xs[l] : Infinity;
      const dr = r < n ? xs[r] - xp : Infinity;
      let s: number;
      let e: number;
      let dx: number;
      if (dl <= dr) {
        if (dl >= kth) break;
        s = gsArr[l];
        e = l + 1;
        dx = dl;
        l = s - 1;
      } else {
        if (dr >= kth) break;
        s = r;
        e = geArr[r];
        dx = dr;
        r = e;
      }
      let split = s;
      if (e - s > 8) {
        let hi2 = e;
        while (split < hi2) {
          const mid = (split + hi2) >>> 1;
          if (ys[mid] < yp) split = mid + 1;
          else hi2 = mid;
        }
      } else {
        while (split < e && ys[split] < yp) split++;
      }
      for (let q = split; q < e; q++) {
        const dy = ys[q] - yp;
        if (dy >= kth) break;
        const d = dx > dy ? dx : dy;
        if (d < kth) kth = offer(best, k, d);
      }
      for (let q = split - 1; q >= s; q--) {
        const dy = yp - ys[q];
        if (dy >= kth) break;
        const d = dx > dy ? dx : dy;
        if (d < kth) kth = offer(best, k, d);
      }
    }
    eps[i] = kth;
    if (kth > 0) {
      // Runs between l and r were visited whole; trim the outer ones whose x gap is not
      // below eps. The own run (dx = 0) always counts.
      let lo = l + 1;
      while (lo < g0 && xp - xs[lo] >= kth) lo = geArr[lo];
      let hi = r - 1;
      while (hi >= g1 && xs[hi] - xp >= kth) hi = gsArr[hi] - 1;
      nx[i] = hi - lo;
    } else {
      nx[i] = g1 - g0 - 1; // eps = 0: the exact ties of x, the own run less the point
    }
  }
}

/** n_y of every point, by guided galloping search in y's sorted values. */
function countY(Y: PreparedColumn, sc: KsgScratch): void {
  const { n, ys, yr, eps, ny } = sc;
  for (let i = 0; i < n; i++) ny[i] = countWithin(Y, yr[i], ys[i], eps[i]);
}

/** Offers the points [from, to) except p to the k best of (xp, yp); returns the k-th distance. */
function scanCells(
  xs: Float64Array,
  ys: Float64Array,
  best: Float64Array,
  k: number,
  p: number,
  xp: number,
  yp: number,
  kth: number,
  from: number,
  to: number,
): number {
  for (let q = from; q < to; q++) {
    // Math.abs / Math.max compile to branch-free instructions; the signs are unpredictable.
    const d = Math.max(Math.abs(xs[q] - xp), Math.abs(ys[q] - yp));
    if (d < kth && q !== p) kth = offer(best, k, d);
  }
  return kth;
}

/**
 * eps, n_x and n_y of every point through a rank-space grid: cells are quantile bands of x
 * times quantile bands of y, so they hold about two points each when x and y are independent.
 * The search visits square rings of cells around the point's cell and stops once the value
 * gap to the next ring is at least the k-th distance (exact: every point outside has a
 * distance >= that gap). Used when no tie run is long enough to give bands zero width.
 */
function knnGrid(X: PreparedColumn, Y: PreparedColumn, sc: KsgScratch): void {
  const { n, G, xs, ys, xr, yr, sample, cellStart } = sc;
  const xBand = X.band;
  const yBand = Y.band;
  const cells = G * G;
  cellStart.fill(0);
  for (let s = 0; s < n; s++) cellStart[xBand[s] * G + yBand[s] + 1]++;
  for (let c = 0; c < cells; c++) cellStart[c + 1] += cellStart[c];
  // Place points by cell; cellStart[c] is advanced to the end of cell c, then restored.
  const xv = X.values;
  const yv = Y.values;
  const xRank = X.rank;
  const yRank = Y.rank;
  for (let s = 0; s < n; s++) {
    const pos = cellStart[xBand[s] * G + yBand[s]]++;
    xs[pos] = xv[s];
    ys[pos] = yv[s];
    xr[pos] = xRank[s];
    yr[pos] = yRank[s];
    sample[pos] = s;
  }
  for (let c = cells; c > 0; c--) cellStart[c] = cellStart[c - 1];
  cellStart[0] = 0;
  nearPairs(sc);
  farRings(X, Y, sc);
}

/**
 * Grid pass 1, rings 0 and 1 of every point at once: each pair of points in the same or
 * adjacent cells is measured once and offered to both (half stencil: the rest of the own cell
 * and the cell above, which follow it in memory, plus rows by-1..by+1 of the next column,
 * also contiguous).
 */
function nearPairs(sc: KsgScratch): void {
  const { k, G, xs, ys, cellStart, bestAll, kthAll } = sc;
  bestAll.fill(Infinity);
  kthAll.fill(Infinity);
  for (let bx = 0; bx < G; bx++) {
    const nextCol = bx + 1 < G ? (bx + 1) * G : -1;
    for (let by = 0; by < G; by++) {
      const cell = bx * G + by;
      const end = cellStart[cell + 1];
      const upEnd = cellStart[by + 1 < G ? cell + 2 : cell + 1];
      const rFrom = nextCol < 0 ? 0 : cellStart[nextCol + (by > 0 ? by - 1 : 0)];
      const rTo = nextCol < 0 ? 0 : cellStart[nextCol + (by + 2 <= G ? by + 2 : G)];
      for (let p = cellStart[cell]; p < end; p++) {
        const xp = xs[p];
        const yp = ys[p];
        let kp = kthAll[p];
        const bp = p * k;
        for (let q = p + 1; q < upEnd; q++) {
          const d = Math.max(Math.abs(xs[q] - xp), Math.abs(ys[q] - yp));
          if (d < kp) kp = offerAt(bestAll, bp, k, d);
          if (d < kthAll[q]) kthAll[q] = offerAt(bestAll, q * k, k, d);
        }
        for (let q = rFrom; q < rTo; q++) {
          const d = Math.max(Math.abs(xs[q] - xp), Math.abs(ys[q] - yp));
          if (d < kp) kp = offerAt(bestAll, bp, k, d);
          if (d < kthAll[q]) kthAll[q] = offerAt(bestAll, q * k, k, d);
        }
        kthAll[p] = kp;
      }
    }
  }
}

/**
 * Grid pass 2: points whose k-th distance reaches past the 3 x 3 block continue ring by
 * ring; then eps, n_x and n_y of every point.
 */
function farRings(X: PreparedColumn, Y: PreparedColumn, sc: KsgScratch): void {
  const { k, G, xs, ys, xr, yr, cellStart, best, bestAll, kthAll, eps, nx, ny } = sc;
  const xLo = X.bandLo;
  const xHi = X.bandHi;
  const yLo = Y.bandLo;
  const yHi = Y.bandHi;
  for (let bx = 0; bx < G; bx++) {
    for (let by = 0; by < G; by++) {
      const cell = bx * G + by;
      const end = cellStart[cell + 1];
      for (let p = cellStart[cell]; p < end; p++) {
        const xp = xs[p];
        const yp = ys[p];
        let kth = kthAll[p];
        for (let r = 2; ; r++) {
          let gap = Infinity;
          if (bx - r >= 0) gap = xp - xHi[bx - r];
          if (bx + r < G) {
            const g = xLo[bx + r] - xp;
            if (g < gap) gap = g;
          }
          if (by - r >= 0) {
            const g = yp - yHi[by - r];
            if (g < gap) gap = g;
          }
          if (by + r < G) {
            const g = yLo[by + r] - yp;
            if (g < gap) gap = g;
          }
          if (gap >= kth) break;
          if (r === 2) {
            for (let j = 0; j < k; j++) best[j] = bestAll[p * k + j];
          }
          const c0 = bx - r > 0 ? bx - r : 0;
          const c1 = bx + r < G - 1 ? bx + r : G - 1;
          const r0 = by - r > 0 ? by - r : 0;
          const r1 = by + r < G - 1 ? by + r : G - 1;
          for (let cx = c0; cx <= c1; cx++) {
            const gx = cx < bx ? xp - xHi[cx] : cx > bx ? xLo[cx] - xp : 0;
            if (gx >= kth) continue;
            const base = cx * G;
            if (cx === bx - r || cx === bx + r) {
              kth = scanCells(
                xs,
                ys,
                best,
                k,
                p,
                xp,
                yp,
                kth,
                cellStart[base + r0],
                cellStart[base + r1 + 1],
              );
            } else {
              if (by - r >= 0 && yp - yHi[by - r] < kth) {
                const c = base + by - r;
                kth = scanCells(xs, ys, best, k, p, xp, yp, kth, cellStart[c], cellStart[c + 1]);
              }
              if (by + r < G && yLo[by + r] - yp < kth) {
                const c = base + by + r;
                kth = scanCells(xs, ys, best, k, p, xp, yp, kth, cellStart[c], cellStart[c + 1]);
              }
            }
          }
        }
        eps[p] = kth;
        nx[p] = countWithin(X, xr[p], xp, kth);
        ny[p] = countWithin(Y, yr[p], yp, kth);
      }
    }
  }
}

/**
 * The per-sample terms of the `mixed` estimator: KSG-1's psi(n_x + 1) + psi(n_y + 1), plus
 * psi(k) - psi(k_m) where eps = 0, k_m = the number of other points equal to the point, so that
 * psi(S) + psi(k) - mean(term) averages psi(k_m) in place of psi(k). Equal points are adjacent
 * in (x, y)-lexicographic order, which the sweep paths have already laid out; the grid path is
 * laid out so first (`relayout`; O(S), and only when some eps is 0). Points with eps > 0 get
 * KSG-1's term, bit for bit. `km` (sample order), when given, receives each k_m.
 */
function mixedTerms(
  X: PreparedColumn,
  Y: PreparedColumn,
  sc: KsgScratch,
  nx: Int32Array,
  ny: Int32Array,
  relayout: boolean,
  km: Int32Array | undefined,
): void {
  const { n, k, psi, eps, sample, term, zero } = sc;
  let zeros = 0;
  for (let i = 0; i < n; i++) {
    const s = sample[i];
    term[s] = psi[nx[i] + 1] + psi[ny[i] + 1];
    const z = eps[i] > 0 ? 0 : 1;
    zero[s] = z;
    zeros += z;
  }
  if (zeros === 0) return;
  // A zero distance needs a duplicate point, so both columns have tie groups here.
  if (relayout) layout(X, Y, sc);
  const { xs, ys } = sc;
  const pk = psi[k];
  let start = 0;
  for (let i = 1; i <= n; i++) {
    if (i < n && xs[i] === xs[i - 1] && ys[i] === ys[i - 1]) continue;
    // Positions start .. i - 1 hold one point; each has i - start - 1 (>= k where eps = 0) equals.
    const dup = i - start - 1;
    for (let q = start; q < i; q++) {
      const s = sample[q];
      if (zero[s] !== 0) {
        term[s] += pk - psi[dup];
        if (km !== undefined) km[s] = dup;
      }
    }
    start = i;
  }
}

/**
 * KSG-1 mutual information (nats) of two prepared columns of the same length:
 * psi(S) + psi(k) - mean psi(n_x + 1) - mean psi(n_y + 1); under the scratch's `mixed`
 * estimator psi(S) + mean psi(k_m) - mean psi(n_x + 1) - mean psi(n_y + 1). Allocates nothing.
 * When `detail` is given, also stores eps, n_x, n_y (and k_m when it has `km`) per sample.
 */
export function ksgPair(
  X: PreparedColumn,
  Y: PreparedColumn,
  sc: KsgScratch,
  detail?: KsgPointDetail,
): number {
  const n = X.n;
  const longRun = Math.max(1, Math.floor(n / sc.G / 2));
  const grid = X.maxRun <= longRun && Y.maxRun <= longRun;
  let swapped = false;
  if (grid) {
    knnGrid(X, Y, sc);
  } else {
    // Sweep along the column with the shorter tie runs (cheaper: its sweep needs no run
    // handling or shorter runs); the estimate is symmetric in x and y.
    swapped = X.maxRun > Y.maxRun;
    const A = swapped ? Y : X;
    const B = swapped ? X : Y;
    layout(A, B, sc);
    if (A.groupStart === null || A.groupEnd === null) knnDistinct(sc);
    else knnTies(A.groupStart, A.groupEnd, sc);
    countY(B, sc);
  }
  const { psi } = sc;
  const nx = swapped ? sc.ny : sc.nx;
  const ny = swapped ? sc.nx : sc.ny;
  if (detail !== undefined) {
    for (let i = 0; i < n; i++) {
      const s = sc.sample[i];
      detail.eps[s] = sc.eps[i] + 0; // a zero distance can come out as -0 (from -0 - 0)
      detail.nx[s] = nx[i];
      detail.ny[s] = ny[i];
    }
    detail.km?.fill(sc.k);
  }
  // Summed in sample order, so the result does not depend on the search's point order (the
  // wasm kernel may search on a finer grid and gets the same bits).
  const { sample, term } = sc;
  if (sc.estimator === 'mixed') {
    mixedTerms(X, Y, sc, nx, ny, grid, detail?.km);
  } else {
    for (let i = 0; i < n; i++) term[sample[i]] = psi[nx[i] + 1] + psi[ny[i] + 1];
  }
  let sum = 0;
  for (let s = 0; s < n; s++) sum += term[s];
  return psi[n] + psi[sc.k] - sum / n;
}
