import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fitGmm1d, gmmDensity, miDensity } from '../../src/core/measures/gmm';
import { parseNpy, toFloat64 } from '../../src/core/io/npy';
import { Rng } from '../../src/core/random';

function mixtureSample(
  n: number,
  seed: number,
  parts: { weight: number; mean: number; sd: number }[],
): number[] {
  const rng = new Rng(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let u = rng.next();
    let p = parts[parts.length - 1];
    for (const c of parts) {
      if (u < c.weight) {
        p = c;
        break;
      }
      u -= c.weight;
    }
    out.push(p.mean + p.sd * rng.normal());
  }
  return out;
}

void test('recovers a known two-component mixture and BIC picks 2', () => {
  const truth = [
    { weight: 0.3, mean: 0.1, sd: 0.03 },
    { weight: 0.7, mean: 0.6, sd: 0.1 },
  ];
  const fit = fitGmm1d(mixtureSample(5000, 1, truth));
  assert.equal(fit.components.length, 2);
  fit.components.forEach((c, i) => {
    assert.ok(Math.abs(c.weight - truth[i].weight) < 0.03, `weight ${c.weight}`);
    assert.ok(Math.abs(c.mean - truth[i].mean) < 0.01, `mean ${c.mean}`);
    assert.ok(Math.abs(c.sd - truth[i].sd) < 0.01, `sd ${c.sd}`);
  });
});

void test('recovers three overlapping-free components from 10,000 values (quantile reduction)', () => {
  const truth = [
    { weight: 0.5, mean: -1, sd: 0.2 },
    { weight: 0.25, mean: 1, sd: 0.3 },
    { weight: 0.25, mean: 4, sd: 0.5 },
  ];
  const fit = fitGmm1d(mixtureSample(40_000, 2, truth));
  assert.equal(fit.n, 10_000);
  assert.equal(fit.components.length, 3);
  fit.components.forEach((c, i) => {
    assert.ok(Math.abs(c.weight - truth[i].weight) < 0.03, `weight ${c.weight}`);
    assert.ok(Math.abs(c.mean - truth[i].mean) < 0.05, `mean ${c.mean}`);
    assert.ok(Math.abs(c.sd - truth[i].sd) < 0.05, `sd ${c.sd}`);
  });
});

void test('a single Gaussian gets one component: the MLE, with the analytic BIC', () => {
  const x = mixtureSample(3000, 3, [{ weight: 1, mean: 0.4, sd: 0.05 }]);
  const fit = fitGmm1d(x);
  assert.equal(fit.components.length, 1);
  const n = x.length;
  const mean = x.reduce((a, b) => a + b, 0) / n;
  const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
  const [c] = fit.components;
  assert.ok(Math.abs(c.weight - 1) < 1e-12);
  assert.ok(Math.abs(c.mean - mean) < 1e-12);
  assert.ok(Math.abs(c.sd - Math.sqrt(variance)) < 1e-12);
  // ln L of the MLE = -n/2 (ln(2 pi s^2) + 1); BIC = -2 ln L + 2 ln n.
  const bic = n * (Math.log(2 * Math.PI * variance) + 1) + 2 * Math.log(n);
  assert.ok(Math.abs(fit.bic - bic) < 1e-6 * Math.abs(bic), `${fit.bic} vs ${bic}`);
});

void test('deterministic: the same values give the same fit', () => {
  const x = mixtureSample(2000, 4, [
    { weight: 0.5, mean: 0, sd: 1 },
    { weight: 0.5, mean: 3, sd: 1 },
  ]);
  assert.deepEqual(fitGmm1d(x), fitGmm1d(x));
  assert.deepEqual(fitGmm1d(x), fitGmm1d([...x].reverse()));
});

void test('degenerate inputs: none, one, all equal, two values', () => {
  assert.deepEqual(fitGmm1d([]).components, []);
  assert.deepEqual(fitGmm1d([0.5]).components, [{ weight: 1, mean: 0.5, sd: 0 }]);
  assert.deepEqual(fitGmm1d([2, 2, 2]).components, [{ weight: 1, mean: 2, sd: 0 }]);
  const two = fitGmm1d([0, 1]);
  assert.equal(two.components.length, 1);
  assert.equal(two.components[0].mean, 0.5);
  assert.equal(two.components[0].sd, 0.5);
  assert.throws(() => fitGmm1d([0, NaN]), RangeError);
  assert.deepEqual(miDensity([]), { components: [], bic: NaN, x: [], density: [] });
  const point = miDensity([0.3, 0.3]);
  assert.deepEqual(point.x, [0.3]);
  assert.ok(Number.isNaN(point.density[0]));
});

void test('a variance floor keeps a heavy tie from becoming an infinite spike', () => {
  // 500 values exactly 0 plus a spread of others: EM must stay finite.
  const x = [
    ...new Array<number>(500).fill(0),
    ...mixtureSample(500, 5, [{ weight: 1, mean: 1, sd: 0.2 }]),
  ];
  const fit = fitGmm1d(x);
  assert.ok(Number.isFinite(fit.bic));
  for (const c of fit.components)
    assert.ok(c.sd >= 1e-3 * (Math.max(...x) - Math.min(...x)) * (1 - 1e-12));
});

void test('miDensity: 200 grid points over the padded range; the density integrates to about 1', () => {
  const x = mixtureSample(4000, 6, [
    { weight: 0.4, mean: 0.05, sd: 0.02 },
    { weight: 0.6, mean: 0.3, sd: 0.05 },
  ]);
  const d = miDensity(x);
  assert.equal(d.x.length, 200);
  assert.equal(d.density.length, 200);
  const lo = Math.min(...x);
  const hi = Math.max(...x);
  assert.ok(d.x[0] < lo && d.x[199] > hi);
  let area = 0;
  for (let i = 1; i < 200; i++)
    area += ((d.density[i] + d.density[i - 1]) / 2) * (d.x[i] - d.x[i - 1]);
  assert.ok(Math.abs(area - 1) < 0.01, `area ${area}`);
  assert.equal(d.density[57], gmmDensity(d.components, d.x[57]));
});

void test('agrees with scikit-learn GaussianMixture on a three-component fixture', () => {
  // test/fixtures/measure/make_gmm_fixture.py: sklearn fits K = 1..10 (4 random inits each);
  // its lowest BIC is at K = 3. BIC = -2 ln L + (3K - 1) ln n in both.
  const dir = path.join(__dirname, '../../test/fixtures/measure');
  const bytes = readFileSync(path.join(dir, 'gmm_values.npy'));
  const x = toFloat64(
    parseNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), 'gmm_values.npy').data,
  );
  const want = JSON.parse(readFileSync(path.join(dir, 'gmm_expected.json'), 'utf8')) as {
    bic: number[];
    components: { weight: number; mean: number; sd: number }[];
  };
  const fit = fitGmm1d(x);
  assert.equal(fit.components.length, 3);
  assert.ok(Math.abs(fit.bic - want.bic[2]) < 0.05, `BIC ${fit.bic} vs ${want.bic[2]}`);
  fit.components.forEach((c, i) => {
    const w = want.components[i];
    assert.ok(Math.abs(c.weight - w.weight) < 5e-4, `weight ${c.weight} vs ${w.weight}`);
    assert.ok(Math.abs(c.mean - w.mean) < 5e-4, `mean ${c.mean} vs ${w.mean}`);
    assert.ok(Math.abs(c.sd - w.sd) < 5e-4, `sd ${c.sd} vs ${w.sd}`);
  });
});
