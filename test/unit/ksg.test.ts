import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { digammaInt, digammaTable } from '../../src/core/measures/digamma';
import type { KsgEstimator } from '../../src/core/measures/ksg';
import { ksgDetail, ksgMi } from '../../src/core/measures/ksg';
import { Rng } from '../../src/core/random';

const EULER_GAMMA = 0.5772156649015329;

/** psi(n) = -gamma + H(n - 1), by direct harmonic summation (independent of digamma.ts). */
function psiBySum(n: number): number {
  let h = 0;
  for (let i = 1; i < n; i++) h += 1 / i;
  return h - EULER_GAMMA;
}

/**
 * Independent O(S^2) KSG-1: every distance, a full sort, linear counts (strict, or where
 * eps = 0 the exact ties, as scikit-learn). `mixed`: psi(k_m), k_m = the points equal to z_m,
 * in place of psi(k) where eps = 0.
 */
function bruteKsg(x: Float64Array, y: Float64Array, k: number, estimator: KsgEstimator = 'ksg') {
  const n = x.length;
  const eps = new Float64Array(n);
  const nx = new Int32Array(n);
  const ny = new Int32Array(n);
  const km = new Int32Array(n).fill(k);
  let sum = 0;
  let sumK = 0;
  for (let m = 0; m < n; m++) {
    const d: number[] = [];
    for (let j = 0; j < n; j++) {
      if (j !== m) d.push(Math.max(Math.abs(x[j] - x[m]), Math.abs(y[j] - y[m])));
    }
    d.sort((a, b) => a - b);
    eps[m] = d[k - 1];
    for (let j = 0; j < n; j++) {
      if (j === m) continue;
      if (eps[m] > 0 ? Math.abs(x[j] - x[m]) < eps[m] : x[j] === x[m]) nx[m]++;
      if (eps[m] > 0 ? Math.abs(y[j] - y[m]) < eps[m] : y[j] === y[m]) ny[m]++;
    }
    if (estimator === 'mixed' && eps[m] === 0) km[m] = d.filter((v) => v === 0).length;
    sum += psiBySum(nx[m] + 1) + psiBySum(ny[m] + 1);
    sumK += psiBySum(km[m]);
  }
  return { eps, nx, ny, km, mi: psiBySum(n) + sumK / n - sum / n };
}

const f64 = (v: number[]): Float64Array => Float64Array.from(v);

void test('digamma of integers matches scipy.special.digamma', () => {
  // Values printed by scipy 1.10 (Debian python3-scipy).
  const scipy: [number, number][] = [
    [1, -0.5772156649015329],
    [2, 0.42278433509846713],
    [3, 0.9227843350984671],
    [9, 2.1406414779556098],
    [10, 2.251752589066721],
    [11, 2.3517525890667215],
    [50, 3.9019896734278925],
    [1000, 6.907255195648812],
    [2000, 7.6006524387087495],
    [10000, 9.21029037114285],
  ];
  const table = digammaTable(10000);
  for (const [n, v] of scipy) {
    assert.ok(Math.abs(digammaInt(n) - v) < 1e-14, `psi(${n}) = ${digammaInt(n)}, scipy ${v}`);
    assert.equal(table[n], digammaInt(n));
  }
  assert.ok(Number.isNaN(table[0]));
});

void test('hand-worked S = 5, k = 2, no ties', () => {
  // Points p0..p4 = (0,0) (1,3) (2,1) (4,0) (2,2). Max-norm distances:
  //   d01=3 d02=2 d03=4 d04=2 d12=2 d13=3 d14=1 d23=2 d24=1 d34=2
  // eps (2nd smallest): p0 {3,2,4,2}->2, p1 {3,2,3,1}->2, p2 {2,2,2,1}->2, p3 {4,3,2,2}->2,
  //   p4 {2,1,1,2}->1.
  // n_x = #{|x_j - x_m| < eps}: p0 x=1 ->1; p1 x=0,2,2 ->3; p2 x=1,2 ->2; p3 (|2-4|=2 not <2) ->0;
  //   p4 eps=1: x=2 ->1.
  // n_y: p0 y=1,0 ->2; p1 y=2 ->1; p2 y=0,0,2 ->3; p3 y=0,1 ->2; p4 (|3-2|=1, |1-2|=1) ->0.
  // psi(n) = H(n-1) - gamma, so I = H4 + H1 - mean H(n_x) - mean H(n_y)
  //   = 25/12 + 1 - (1 + 11/6 + 3/2 + 0 + 1)/5 - (3/2 + 1 + 11/6 + 3/2 + 0)/5
  //   = 25/12 + 1 - 16/15 - 7/6 = 51/60.
  const d = ksgDetail(f64([0, 1, 2, 4, 2]), f64([0, 3, 1, 0, 2]), 2);
  assert.deepEqual(Array.from(d.eps), [2, 2, 2, 2, 1]);
  assert.deepEqual(Array.from(d.nx), [1, 3, 2, 0, 1]);
  assert.deepEqual(Array.from(d.ny), [2, 1, 3, 2, 0]);
  assert.ok(Math.abs(d.mi - 51 / 60) < 1e-12, `${d.mi}`);
});

void test('hand-worked S = 6, k = 2, ties in x and y and a duplicated point', () => {
  // p0 (0,0), p1 (0,0) duplicate, p2 (0,1), p3 (1,0), p4 (0,3), p5 (2,2).
  //   d01=0 d02=1 d03=1 d04=3 d05=2 d12=1 d13=1 d14=3 d15=2 d23=1 d24=2 d25=2 d34=3 d35=2 d45=2
  // eps (2nd smallest, the duplicate counts as a neighbour): p0 {0,1,1,3,2}->1, p1 ->1,
  //   p2 {1,1,1,2,2}->1, p3 {1,1,1,3,2}->1, p4 {3,3,2,3,2}->2, p5 {2,2,2,2,2}->2.
  // n_x: p0,p1: x=0 at three others ->3; p2 ->3 (p0,p1,p4); p3 |0-1|=1 not <1 ->0;
  //   p4 eps 2: p0..p3 ->4; p5: |1-2|=1 ->1.
  // n_y: p0,p1: y=0 at p1/p0 and p3 ->2; p2: |0-1|=1 not <1 ->0; p3: p0,p1 ->2;
  //   p4: |2-3| ->1; p5: |1-2|, |3-2| ->2.
  // I = H5 + H1 - (3 H3 + H0 + H4 + H1)/6 - (4 H2 + H0 + H1)/6
  //   = 137/60 + 1 - 103/72 - 7/6 = 247/360.
  const d = ksgDetail(f64([0, 0, 0, 1, 0, 2]), f64([0, 0, 1, 0, 3, 2]), 2);
  assert.deepEqual(Array.from(d.eps), [1, 1, 1, 1, 2, 2]);
  assert.deepEqual(Array.from(d.nx), [3, 3, 3, 0, 4, 1]);
  assert.deepEqual(Array.from(d.ny), [2, 2, 0, 2, 1, 2]);
  assert.ok(Math.abs(d.mi - 247 / 360) < 1e-12, `${d.mi}`);
});

void test('hand-worked S = 5, k = 1, eps = 0 for duplicated points counts the exact ties', () => {
  // p0 (1,1), p1 (1,1), p2 (2,5), p3 (4,3), p4 (1,2).
  // p0, p1: nearest is the duplicate at distance 0 -> eps 0; as scikit-learn (radius 0, <=),
  //   n_x = #{x_j = 1} = 2 (the duplicate and p4), n_y = #{y_j = 1} = 1 (the duplicate).
  // p2: d = 4,4,2,3 -> eps 2; n_x: |1-2|=1 at p0,p1,p4 -> 3 (|4-2|=2 not <2); n_y: none -> 0.
  // p3: d = 3,3,2,3 -> eps 2; n_x: none -> 0; n_y: |2-3|=1 at p4 -> 1.
  // p4: d = 1,1,3,3 -> eps 1; n_x: p0,p1 -> 2; n_y: none -> 0.
  // I = H4 + H0 - (H2 + H2 + H3 + H0 + H2)/5 - (H1 + H1 + H0 + H1 + H0)/5
  //   = 25/12 - 19/15 - 3/5 = 13/60. (The old rule, n_x = n_y = 0 at eps = 0, gave 73/60.)
  // mixed: k_m = 1 duplicate = k, the same value.
  for (const estimator of ['ksg', 'mixed'] as const) {
    const d = ksgDetail(f64([1, 1, 2, 4, 1]), f64([1, 1, 5, 3, 2]), 1, estimator);
    assert.deepEqual(Array.from(d.eps), [0, 0, 2, 2, 1]);
    assert.deepEqual(Array.from(d.nx), [2, 2, 3, 0, 2]);
    assert.deepEqual(Array.from(d.ny), [1, 1, 0, 1, 0]);
    assert.deepEqual(Array.from(d.km), [1, 1, 1, 1, 1]);
    assert.ok(Math.abs(d.mi - 13 / 60) < 1e-12, `${estimator}: ${d.mi}`);
  }
});

void test('hand-worked S = 7, k = 2, four equal points: mixed averages psi(k_m)', () => {
  // p0..p3 (0,0) four times, p4 (0,1), p5 (2,0), p6 (3,3).
  // p0..p3: eps 0 (three others at distance 0); n_x = #{x_j = 0} = 4 (three and p4),
  //   n_y = #{y_j = 0} = 4 (three and p5); mixed: k_m = 3 equal points.
  // p4: d = 1,1,1,1,2,3 -> eps 1; n_x: p0..p3 -> 4; n_y: |0-1| = 1 not < 1 -> 0.
  // p5: d = 2,2,2,2,2,3 -> eps 2; n_x: |3-2| = 1 -> 1; n_y: p0..p4 -> 5.
  // p6: d = 3,3,3,3,3,3 -> eps 3; n_x: p5 -> 1; n_y: p4 (|1-3| = 2) -> 1.
  // KSG-1: I = H6 + H1 - (5 H4 + 2 H1)/7 - (4 H4 + H0 + H5 + H1)/7
  //   = 49/20 + 1 - 149/84 - 697/420 = 1/60.
  // mixed: psi(k) = psi(2) becomes (4 psi(3) + 3 psi(2))/7 = psi(2) + (4/7)(1/2): 1/60 + 2/7.
  const x = f64([0, 0, 0, 0, 0, 2, 3]);
  const y = f64([0, 0, 0, 0, 1, 0, 3]);
  const want = { ksg: 1 / 60, mixed: 1 / 60 + 2 / 7 };
  for (const estimator of ['ksg', 'mixed'] as const) {
    for (const [p, q] of [
      [x, y],
      [y, x],
    ]) {
      const d = ksgDetail(p, q, 2, estimator);
      assert.deepEqual(Array.from(d.eps), [0, 0, 0, 0, 1, 2, 3]);
      assert.deepEqual(Array.from(p === x ? d.nx : d.ny), [4, 4, 4, 4, 4, 1, 1]);
      assert.deepEqual(Array.from(p === x ? d.ny : d.nx), [4, 4, 4, 4, 0, 5, 1]);
      const km = estimator === 'mixed' ? [3, 3, 3, 3, 2, 2, 2] : [2, 2, 2, 2, 2, 2, 2];
      assert.deepEqual(Array.from(d.km), km);
      assert.ok(Math.abs(d.mi - want[estimator]) < 1e-12, `${estimator}: ${d.mi}`);
    }
  }
});

void test('a constant neuron: n_x = S - 1 everywhere and I = 0', () => {
  // y = 0 1 3 6 10, k = 1: eps = nearest |dy| = 1 1 2 3 4, and no other y is strictly closer.
  const d = ksgDetail(f64([7, 7, 7, 7, 7]), f64([0, 1, 3, 6, 10]), 1);
  assert.deepEqual(Array.from(d.eps), [1, 1, 2, 3, 4]);
  assert.deepEqual(Array.from(d.nx), [4, 4, 4, 4, 4]);
  assert.deepEqual(Array.from(d.ny), [0, 0, 0, 0, 0]);
  assert.ok(Math.abs(d.mi) < 1e-12);
});

interface SklearnCase {
  name: string;
  k: number;
  x: number[];
  y: number[];
  mi: number;
  /** Tie-heavy: some points have eps = 0 (scikit-learn then counts exact ties). */
  ties?: boolean;
}

function sklearnCases(): SklearnCase[] {
  const file = path.join(__dirname, '../../test/fixtures/ksg/sklearn.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { cases: SklearnCase[] }).cases;
}

void test('agrees with scikit-learn _compute_mi_cc (unclipped) to 1e-9', () => {
  const cases = sklearnCases();
  assert.ok(cases.filter((c) => c.ties !== true).length >= 9);
  for (const c of cases.filter((c) => c.ties !== true)) {
    const x = f64(c.x);
    const y = f64(c.y);
    const a = ksgMi(x, y, c.k);
    const b = ksgMi(y, x, c.k);
    assert.ok(Math.abs(a - c.mi) < 1e-9, `${c.name}: ${a} vs sklearn ${c.mi}`);
    assert.ok(Math.abs(b - c.mi) < 1e-9, `${c.name} (swapped): ${b} vs sklearn ${c.mi}`);
    // No eps = 0 anywhere: the mixed estimator is KSG-1, bit for bit.
    assert.ok(Object.is(ksgMi(x, y, c.k, 'mixed'), a), `${c.name}: mixed differs`);
  }
});

void test('tie-heavy data (post-ReLU, quantised, duplicated, binary, constant): scikit-learn to 1e-9', () => {
  // eps = 0 at many points: scikit-learn (the authors' code) counts the exact ties there.
  const cases = sklearnCases().filter((c) => c.ties === true);
  assert.ok(cases.length >= 15, `${cases.length} tie-heavy cases`);
  for (const c of cases) {
    const x = f64(c.x);
    const y = f64(c.y);
    assert.ok(
      ksgDetail(x, y, c.k).eps.some((e) => e === 0),
      `${c.name}: expected points with eps = 0`,
    );
    const a = ksgMi(x, y, c.k);
    const b = ksgMi(y, x, c.k);
    assert.ok(Math.abs(a - c.mi) < 1e-9, `${c.name}: ${a} vs sklearn ${c.mi}`);
    assert.ok(Math.abs(b - c.mi) < 1e-9, `${c.name} (swapped): ${b} vs sklearn ${c.mi}`);
  }
});

void test('agrees exactly with a brute-force O(S^2) KSG on ties, duplicates, zeros, constants', () => {
  const rng = new Rng(7);
  const kinds = [
    'gaussian',
    'relu both',
    'quantised',
    'duplicated rows',
    'constant x',
    'half zeros y',
  ];
  for (let t = 0; t < 180; t++) {
    const kind = kinds[t % kinds.length];
    const k = 1 + rng.int(4);
    const n = k + 1 + rng.int(150);
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const a = rng.normal();
      const b = 0.6 * a + 0.8 * rng.normal();
      switch (kind) {
        case 'gaussian':
          x[i] = a;
          y[i] = b;
          break;
        case 'relu both':
          x[i] = Math.max(0, a);
          y[i] = Math.max(0, b);
          break;
        case 'quantised':
          x[i] = Math.round(a * 2) / 2;
          y[i] = Math.round(b * 3) / 3;
          break;
        case 'duplicated rows':
          x[i] = i % 3 === 0 || i === 0 ? a : x[i - 1];
          y[i] = i % 3 === 0 || i === 0 ? b : y[i - 1];
          break;
        case 'constant x':
          x[i] = -2.5;
          y[i] = b;
          break;
        case 'half zeros y':
          x[i] = a;
          y[i] = rng.next() < 0.5 ? 0 : b;
          break;
      }
    }
    for (const estimator of ['ksg', 'mixed'] as const) {
      const want = bruteKsg(x, y, k, estimator);
      for (const [p, q, swapped] of [
        [x, y, false],
        [y, x, true],
      ] as const) {
        const got = ksgDetail(p, q, k, estimator);
        const label = `${estimator} ${kind} S=${n} k=${k}${swapped ? ' swapped' : ''}`;
        assert.deepEqual(Array.from(got.km), Array.from(want.km), `${label}: k_m`);
        assert.deepEqual(Array.from(got.eps), Array.from(want.eps), `${label}: eps`);
        assert.deepEqual(
          Array.from(got.nx),
          Array.from(swapped ? want.ny : want.nx),
          `${label}: n_x`,
        );
        assert.deepEqual(
          Array.from(got.ny),
          Array.from(swapped ? want.nx : want.ny),
          `${label}: n_y`,
        );
        assert.ok(Math.abs(got.mi - want.mi) < 1e-10, `${label}: ${got.mi} vs ${want.mi}`);
      }
    }
  }
});

void test('bivariate Gaussians at S = 2000: within 0.05 nats of -0.5 ln(1 - rho^2)', () => {
  const rng = new Rng(2022);
  const S = 2000;
  for (const rho of [0, 0.3, 0.6, 0.9, 0.99]) {
    const x = new Float64Array(S);
    const y = new Float64Array(S);
    for (let i = 0; i < S; i++) {
      x[i] = rng.normal();
      y[i] = rho * x[i] + Math.sqrt(1 - rho * rho) * rng.normal();
    }
    const truth = -0.5 * Math.log(1 - rho * rho);
    const est = ksgMi(x, y);
    assert.ok(Math.abs(est - truth) < 0.05, `rho ${rho}: ${est} vs ${truth}`);
  }
});

void test('independent uniform variables give about 0', () => {
  const rng = new Rng(99);
  const S = 2000;
  const u = Float64Array.from({ length: S }, () => rng.next());
  const v = Float64Array.from({ length: S }, () => rng.next());
  assert.ok(Math.abs(ksgMi(u, v)) < 0.03, `uniform ${ksgMi(u, v)}`);
});

/** psi(S) + mean psi(c_m - 1) - 2 mean psi(c_m): mixed on Y = X, X discrete with counts c. */
function mixedOnEqualDiscrete(x: Float64Array): number {
  const counts = new Map<number, number>();
  for (const v of x) counts.set(v, (counts.get(v) ?? 0) + 1);
  let sum = 0;
  for (const v of x) {
    const c = counts.get(v) ?? 0;
    sum += psiBySum(c - 1) - 2 * psiBySum(c);
  }
  return psiBySum(x.length) + sum / x.length;
}

void test('mixed estimator, S = 2000: ln 4 on Y = X and on Y = X + U(0, 0.5); about 0 on ReLUs', () => {
  // Tolerances. Y = X, X uniform on 4 values: every point has eps = 0 and the estimate is
  // exactly psi(S) + mean psi(c - 1) - 2 mean psi(c) over the value counts c (about S / 4),
  // i.e. ln 4 less O(1/c) and the plug-in bias (K - 1) / 2S: about -0.002 nats, 0.0006 sd over
  // seeds; 0.01 allows 5x that. Y = X + U(0, 0.5): no ties in y, eps > 0, n_x = c - 1 and
  // n_y = k - 1 (the groups are 0.5 apart in y), so psi(S) - mean psi(c): the same +-0.002.
  // Independent post-ReLU Gaussians (a quarter of the points at (0, 0)): the mixed estimate is
  // +0.031 nats on average at S = 2000 with 0.013 sd over 30 seeds (KSG-1 gives -1.3), a
  // finite-sample bias that shrinks with S (+0.05 at S = 500, +0.02 at S = 8000); 0.1 allows
  // the bias and 5 sd.
  const S = 2000;
  const ln4 = Math.log(4);
  for (let seed = 1; seed <= 3; seed++) {
    const rng = new Rng(100 + seed);
    const x = Float64Array.from({ length: S }, () => rng.int(4));
    const equal = ksgMi(x, x, 3, 'mixed');
    assert.ok(Math.abs(equal - ln4) < 0.01, `Y = X: ${equal} vs ln 4 = ${ln4}`);
    assert.ok(Math.abs(equal - mixedOnEqualDiscrete(x)) < 1e-10, `Y = X closed form: ${equal}`);
    // KSG-1 (the authors' rule) is far off here: psi(S) + psi(k) - 2 mean psi(c), about -3.9.
    assert.ok(Math.abs(ksgMi(x, x, 3) + 3.9) < 0.05, `Y = X, KSG-1: ${ksgMi(x, x, 3)}`);
    const y = Float64Array.from(x, (v) => v + 0.5 * rng.next());
    const plus = ksgMi(x, y, 3, 'mixed');
    assert.ok(Math.abs(plus - ln4) < 0.01, `Y = X + U(0, 0.5): ${plus} vs ln 4`);
    assert.ok(Object.is(plus, ksgMi(x, y, 3)), 'no eps = 0: mixed is KSG-1');
    const relu = (): number => Math.max(0, rng.normal());
    const a = Float64Array.from({ length: S }, relu);
    const b = Float64Array.from({ length: S }, relu);
    const indep = ksgMi(a, b, 3, 'mixed');
    assert.ok(Math.abs(indep) < 0.1, `independent ReLUs: ${indep}`);
    assert.ok(ksgMi(a, b, 3) < -1, `independent ReLUs, KSG-1: ${ksgMi(a, b, 3)}`);
  }
});

void test('rejects bad arguments', () => {
  assert.throws(
    () => ksgMi(f64([1, 2, 3]), f64([1, 2, 3]), 3),
    /at least k \+ 1 = 4 samples, found 3/,
  );
  assert.throws(() => ksgMi(f64([1, 2, 3, 4]), f64([1, 2, 3]), 1), /equal length/);
  assert.throws(
    () => ksgMi(f64([1, NaN, 3, 4]), f64([1, 2, 3, 4]), 1),
    /finite values, found NaN at sample 1/,
  );
  assert.throws(
    () => ksgMi(f64([1, 2, 3, 4]), f64([1, 2, 3, 4]), 1, 'gao' as KsgEstimator),
    /expected estimator ksg or mixed, found gao/,
  );
});
