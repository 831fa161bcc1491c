import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapMedian, medianRatioInterval } from '../../src/core/analysis/bootstrap';
import {
  DEFAULT_THRESHOLDS,
  entropyDirection,
  miDirection,
  notchesOverlap,
  rangeFactor,
  signatureOf,
} from '../../src/core/analysis/signature';
import { Rng } from '../../src/core/random';
import { boxAround } from '../fixtures/boxes';

const ratio = (r: number, low: number, high: number) => ({ ratio: r, low, high });

void test('notches overlap when the intervals share a point', () => {
  assert.equal(notchesOverlap(boxAround(3, 0.1), boxAround(3.15, 0.1)), true);
  assert.equal(notchesOverlap(boxAround(3, 0.1), boxAround(3.2, 0.1)), true); // touching
  assert.equal(notchesOverlap(boxAround(3, 0.1), boxAround(3.25, 0.1)), false);
});

void test('entropy direction needs both the threshold and separated notches', () => {
  const t = DEFAULT_THRESHOLDS; // 0.1 nats
  assert.equal(entropyDirection(boxAround(2.7, 0.05), boxAround(3.3, 0.05), t), 'lower');
  assert.equal(entropyDirection(boxAround(3.3, 0.05), boxAround(2.7, 0.05), t), 'higher');
  // large shift but wide notches: not established
  assert.equal(entropyDirection(boxAround(2.7, 0.4), boxAround(3.3, 0.4), t), 'equal');
  // separated notches but below the threshold
  assert.equal(entropyDirection(boxAround(3.0, 0.01), boxAround(3.08, 0.01), t), 'equal');
});

void test('MI direction needs the ratio threshold and an interval excluding 1', () => {
  const t = DEFAULT_THRESHOLDS; // x1.5
  assert.equal(miDirection(ratio(8, 6, 10), t), 'higher');
  assert.equal(miDirection(ratio(0.5, 0.4, 0.6), t), 'lower');
  assert.equal(miDirection(ratio(1.4, 1.2, 1.6), t), 'equal');
  assert.equal(miDirection(ratio(2, 0.9, 3), t), 'equal');
  assert.equal(miDirection(ratio(0.7, 0.6, 0.8), t), 'equal'); // 0.7 > 1/1.5
  assert.equal(miDirection(ratio(Number.NaN, Number.NaN, Number.NaN), t), 'equal');
  assert.equal(miDirection(ratio(-2, -3, -1), t), 'equal'); // reference median <= 0
});

void test('signatures follow the table of spec section 6', () => {
  const ref = boxAround(3.3, 0.05);
  const heuristic = signatureOf({
    entropy: boxAround(2.7, 0.05),
    referenceEntropy: ref,
    mi: ratio(8.7, 7, 10),
    reference: 'base',
  });
  assert.equal(heuristic.kind, 'heuristic');
  assert.ok(Math.abs(heuristic.deltaEntropy - -0.6) < 1e-12);
  assert.equal(heuristic.notchesOverlap, false);
  assert.equal(heuristic.miRatio, 8.7);
  assert.equal(heuristic.reference, 'base');
  assert.match(heuristic.explanation, /^heuristic memorization/);

  const example = signatureOf({
    entropy: boxAround(3.9, 0.05),
    referenceEntropy: ref,
    mi: ratio(0.4, 0.3, 0.5),
    reference: 'base',
  });
  assert.equal(example.kind, 'example-level');

  // I lower but H unchanged: no signature, with the partial evidence named
  const partial = signatureOf({
    entropy: boxAround(3.32, 0.05),
    referenceEntropy: ref,
    mi: ratio(0.45, 0.4, 0.5),
    reference: 'base',
  });
  assert.equal(partial.kind, 'none');
  assert.equal(partial.entropyDirection, 'equal');
  assert.equal(partial.miDirection, 'lower');
  assert.match(partial.explanation, /I lower alone/);

  // H lower and I lower is not in the table
  const mixed = signatureOf({
    entropy: boxAround(2.7, 0.05),
    referenceEntropy: ref,
    mi: ratio(0.4, 0.3, 0.5),
    reference: 'base',
  });
  assert.equal(mixed.kind, 'none');
});

void test('thresholds are configurable', () => {
  const input = {
    entropy: boxAround(3.0, 0.01),
    referenceEntropy: boxAround(3.3, 0.01),
    mi: ratio(1.8, 1.6, 2),
    reference: 'r',
  };
  assert.equal(signatureOf(input).kind, 'heuristic');
  assert.equal(
    signatureOf(input, { deltaEntropy: 0.5, miRatio: 1.5, scaleRatio: 1.5 }).kind,
    'none',
  );
  assert.equal(signatureOf(input, { deltaEntropy: 0.1, miRatio: 2, scaleRatio: 1.5 }).kind, 'none');
});

void test('median ratio: exact point ratio, and a bootstrap interval as wide as the normal theory says', () => {
  const rng = new Rng(7);
  const n = 2000;
  const a = Array.from({ length: n }, () => 2 + 0.1 * rng.normal());
  const b = Array.from({ length: n }, () => 1 + 0.1 * rng.normal());
  const sortedMedian = (v: number[]): number => {
    const s = [...v].sort((x, y) => x - y);
    return (s[n / 2 - 1] + s[n / 2]) / 2;
  };
  const r = medianRatioInterval(a, b, { seed: 3, replicates: 400 });
  assert.equal(r.ratio, sortedMedian(a) / sortedMedian(b));
  assert.ok(r.low < r.ratio && r.ratio < r.high);
  // SE of a normal median = sqrt(pi/2) sigma / sqrt(n); ratio ~ a/b: relative SEs add in
  // quadrature: se(r) = 2 * sqrt((0.0028/2)^2 + (0.0028/1)^2) = 0.00626 -> 95% half width 0.0123.
  const se = (Math.sqrt(Math.PI / 2) * 0.1) / Math.sqrt(n);
  const half = 1.96 * 2 * Math.sqrt((se / 2) ** 2 + se ** 2);
  const measured = (r.high - r.low) / 2;
  assert.ok(measured > 0.6 * half && measured < 1.6 * half, `half width ${measured} vs ${half}`);
  // deterministic for a seed
  assert.deepEqual(medianRatioInterval(a, b, { seed: 3, replicates: 400 }), r);
});

void test('an O(1) bootstrap median has the distribution of a resampled median (odd and even n)', () => {
  for (const values of [
    [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5],
    [2.5, 7, 1, 8, 2, 8, 1, 8, 2, 8],
  ]) {
    const sorted = Float64Array.from(values).sort();
    const n = sorted.length;
    const draws = 20000;
    const fast: number[] = [];
    const slow: number[] = [];
    const rng = new Rng(9);
    const resample = new Float64Array(n);
    for (let d = 0; d < draws; d++) {
      fast.push(bootstrapMedian(sorted, rng));
      for (let i = 0; i < n; i++) resample[i] = sorted[rng.int(n)];
      resample.sort();
      slow.push(n % 2 === 1 ? resample[(n - 1) / 2] : (resample[n / 2 - 1] + resample[n / 2]) / 2);
    }
    // the two empirical CDFs agree at every value the medians take (MC error ~ 0.005)
    for (const t of new Set([...slow, ...fast])) {
      const pf = fast.filter((x) => x <= t).length / draws;
      const ps = slow.filter((x) => x <= t).length / draws;
      assert.ok(Math.abs(pf - ps) < 0.02, `n = ${n}, t = ${t}: ${pf} vs ${ps}`);
    }
  }
});

void test('range factor: the ratio of the two widths, either way round', () => {
  assert.equal(rangeFactor({ min: -15, max: 21 }, { min: -39, max: 65 }), 104 / 36);
  assert.equal(rangeFactor({ min: -39, max: 65 }, { min: -15, max: 21 }), 104 / 36);
  assert.equal(rangeFactor({ min: 1, max: 1 }, { min: 2, max: 2 }), 1);
  assert.equal(rangeFactor({ min: 0, max: 0 }, { min: 0, max: 1 }), Infinity);
});

void test('scale check: an H fall under global bins that per-layer bins reverse is read as equal', () => {
  // The paper-scale case of issue 14: complete-shortcut pre-activations span [-39, 65]
  // against [-15, 21]; layer-1 H falls 0.3 nats under global bins but rises under per-layer
  // bins (2.67 against 2.51).
  const input = {
    entropy: boxAround(2.2, 0.02),
    referenceEntropy: boxAround(2.5, 0.02),
    mi: ratio(2.0, 1.8, 2.2),
    reference: 'r',
    scale: {
      range: { min: -39, max: 65 },
      referenceRange: { min: -15, max: 21 },
      entropyLayerBinned: boxAround(2.67, 0.02),
      referenceEntropyLayerBinned: boxAround(2.51, 0.02),
    },
  };
  const s = signatureOf(input);
  assert.equal(s.entropyDirection, 'equal');
  assert.equal(s.kind, 'none');
  assert.equal(s.scale?.globalDirection, 'lower');
  assert.equal(s.scale?.layerBinned?.direction, 'higher');
  assert.ok(Math.abs((s.scale?.layerBinned?.deltaEntropy ?? NaN) - 0.16) < 1e-12);
  assert.match(
    s.explanation,
    /the H change follows the activation scale: H lower under global bins but higher under per-layer bins .*bin ranges \[-39\.00, 65\.00\] against \[-15\.00, 21\.00\] \(width x2\.89\)/,
  );
  // Both binnings agree: the heuristic signature stands.
  const agree = signatureOf({
    ...input,
    scale: { ...input.scale, entropyLayerBinned: boxAround(2.2, 0.02) },
  });
  assert.equal(agree.kind, 'heuristic');
  assert.equal(agree.scale?.layerBinned?.direction, 'lower');
  // Ranges within the factor: no per-layer comparison, the global direction stands.
  const close = signatureOf({
    ...input,
    scale: { ...input.scale, range: { min: -16, max: 24 } },
  });
  assert.equal(close.kind, 'heuristic');
  assert.equal(close.scale?.layerBinned, undefined);
  // The factor is a threshold: at x3 the check does not run for x2.89.
  assert.equal(
    signatureOf(input, { deltaEntropy: 0.1, miRatio: 1.5, scaleRatio: 3 }).kind,
    'heuristic',
  );
});
