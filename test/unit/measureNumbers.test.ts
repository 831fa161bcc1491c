// Numbers that never mislead: entropy bins at the ends of float64, entropy notches inside
// [0, ln B], and median-I comparisons that never call a lower median "higher".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromRowMajor } from '../../src/core/activations';
import { bootstrapMedian, medianRatioInterval } from '../../src/core/analysis/bootstrap';
import {
  DEFAULT_THRESHOLDS,
  MI_MIN_DIFFERENCE,
  MI_RATIO_FLOOR,
  miComparisonOf,
  miDirection,
  signatureOf,
} from '../../src/core/analysis/signature';
import {
  boxSummary,
  entropyBoxSummary,
  quantileSorted,
  sortedCopy,
} from '../../src/core/measures/boxSummary';
import { binnedEntropy, entropies } from '../../src/core/measures/entropy';
import { Rng } from '../../src/core/random';
import { boxAround } from '../fixtures/boxes';

void test('entropy: a range of [-1.7e308, 1.7e308] bins like the same data scaled down', () => {
  // The two ends plus one value at the centre of each of the 100 bins: bins 0 and 99 hold 2
  // values, the 98 others 1, so H = ln 102 - (2 * 2 ln 2) / 102 = 4.597790570909...
  const big = [-1.7e308, 1.7e308];
  for (let b = 0; b < 100; b++) big.push(1.7e308 * ((2 * b + 1) / 100 - 1));
  const expected = Math.log(102) - (4 * Math.log(2)) / 102;
  const hBig = entropies(fromRowMajor(big, big.length, 1), { bins: 100 })[0];
  const small = big.map((x) => x * 1e-300);
  const hSmall = entropies(fromRowMajor(small, small.length, 1), { bins: 100 })[0];
  assert.ok(Math.abs(hBig - expected) < 1e-12, `H = ${hBig}, expected ${expected}`);
  assert.equal(hBig, hSmall);
  // (max - min) / B overflowed to Infinity and put every value in bin 0 (H was 0.69 here).
  assert.equal(binnedEntropy(big, -1.7e308, 1.7e308, 100), hBig);
  // The extreme doubles: [-max, max] in 2 bins is half and half.
  const m = Number.MAX_VALUE;
  assert.equal(binnedEntropy([-m, -m / 2, m / 2, m], -m, m, 2), Math.log(2));
  // Ordinary ranges bin as before: [0, 1, 2, 3] in 2 bins is ln 2.
  assert.equal(binnedEntropy([0, 1, 2, 3], 0, 3, 2), Math.log(2));
});

void test('entropy notches are clipped to [0, ln B]; other statistics as boxSummary', () => {
  // [0, 0, 0.05, 4.6]: q1 = 0, median = 0.025, q3 = 1.1875; half notch = 1.57 * 1.1875 / 2.
  const values = [0, 0, 0.05, 4.6];
  const raw = boxSummary(values);
  const half = (1.57 * 1.1875) / 2;
  assert.ok(Math.abs(raw.notchLow - (0.025 - half)) < 1e-12);
  assert.ok(raw.notchLow < 0);
  const clipped = entropyBoxSummary(values, 100);
  assert.equal(clipped.notchLow, 0);
  assert.ok(Math.abs(clipped.notchHigh - (0.025 + half)) < 1e-12);
  assert.deepEqual(
    { ...clipped, notchLow: 0, notchHigh: 0 },
    { ...raw, notchLow: 0, notchHigh: 0 },
  );
  // Near the top: [4.6, 4.6, 4.6, 0.2] with B = 100 (ln B = 4.605): the notch stops at ln B.
  const top = entropyBoxSummary([4.6, 4.6, 4.6, 0.2], 100);
  assert.ok(boxSummary([4.6, 4.6, 4.6, 0.2]).notchHigh > Math.log(100));
  assert.equal(top.notchHigh, Math.log(100));
  // No values: NaN stays NaN.
  assert.ok(Number.isNaN(entropyBoxSummary([], 100).notchLow));
});

/** n values around `median` (normal, sd 0.01), seeded. */
function around(median: number, seed: number, n = 2000): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => median + 0.01 * rng.normal());
}

void test('median I below the floor: compared by difference, never "higher" when lower', () => {
  const H = boxAround(3, 0.05);
  // Both medians negative (KSG bias): -0.178 against -0.1 is a ratio of 1.78, but lower.
  const both = medianRatioInterval(around(-0.178, 1), around(-0.1, 2), { seed: 0 });
  assert.ok(both.ratio > 1.7);
  assert.ok(Math.abs(both.difference - (both.median - both.referenceMedian)) < 1e-15);
  assert.ok(both.differenceLow < both.difference && both.difference < both.differenceHigh);
  assert.equal(miComparisonOf(both), 'difference');
  assert.equal(miDirection(both, DEFAULT_THRESHOLDS), 'lower');
  const s = signatureOf({ entropy: H, referenceEntropy: H, mi: both, reference: 'ref' });
  assert.equal(s.miComparison, 'difference');
  assert.equal(s.miDirection, 'lower');
  assert.ok(Number.isNaN(s.miRatio) && Number.isNaN(s.miRatioLow) && Number.isNaN(s.miRatioHigh));
  assert.ok(Math.abs((s.miDifference as number) - both.difference) < 1e-15);
  assert.doesNotMatch(s.explanation, /I higher/);
  assert.match(s.explanation, /I lower/);
  assert.match(
    s.explanation,
    /median I -0\.078 nats \[-0\.0\d\d, -0\.0\d\d\] \(-0\.178 vs -0\.100 nats: compared by difference/,
  );

  // Reversed: the model's median is the less negative one: higher, by difference.
  const up = medianRatioInterval(around(-0.1, 3), around(-0.178, 4), { seed: 0 });
  assert.ok(up.ratio < 0.6); // the ratio would have said "lower"
  assert.equal(miDirection(up, DEFAULT_THRESHOLDS), 'higher');

  // One median just below the floor, the other well above: by difference.
  const one = medianRatioInterval(around(0.005, 5), around(0.2, 6), { seed: 0 });
  assert.equal(miComparisonOf(one), 'difference');
  assert.equal(miDirection(one, DEFAULT_THRESHOLDS), 'lower');
  // A difference smaller than MI_MIN_DIFFERENCE is no direction, however narrow its interval.
  const tiny = medianRatioInterval(around(0.004, 7, 20_000), around(0.0, 8, 20_000), {
    seed: 0,
  });
  assert.ok(tiny.differenceLow > 0 && tiny.difference < MI_MIN_DIFFERENCE);
  assert.equal(miDirection(tiny, DEFAULT_THRESHOLDS), 'equal');
  // Both medians at or above the floor: by ratio, as before.
  const ratio = medianRatioInterval(around(0.3, 9), around(0.1, 10), { seed: 0 });
  assert.ok(MI_RATIO_FLOOR <= 0.1);
  assert.equal(miComparisonOf(ratio), 'ratio');
  assert.equal(miDirection(ratio, DEFAULT_THRESHOLDS), 'higher');
  const r = signatureOf({ entropy: H, referenceEntropy: H, mi: ratio, reference: 'ref' });
  assert.equal(r.miComparison, 'ratio');
  assert.ok(Math.abs(r.miRatio - ratio.ratio) < 1e-15);
  assert.match(r.explanation, /median I x(2\.9|3\.0)\d \[/);
  // A bare ratio (no medians) is read as a ratio.
  assert.equal(miComparisonOf({ ratio: 2, low: 1.8, high: 2.2 }), 'ratio');
});

void test('median comparison: the ratio interval is unchanged by the added difference', () => {
  const a = around(0.5, 11, 500);
  const b = around(0.25, 12, 500);
  const c = medianRatioInterval(a, b, { seed: 4, replicates: 300 });
  // The replicates as before: per replicate one resampled median of a, then one of b.
  const rng = new Rng(4);
  const [sa, sb] = [sortedCopy(a), sortedCopy(b)];
  const ratios: number[] = [];
  const diffs: number[] = [];
  for (let i = 0; i < 300; i++) {
    const ma = bootstrapMedian(sa, rng);
    const mb = bootstrapMedian(sb, rng);
    ratios.push(ma / mb);
    diffs.push(ma - mb);
  }
  const q = (v: number[], p: number) => quantileSorted(Float64Array.from(v).sort(), p);
  assert.equal(c.low, q(ratios, 0.025));
  assert.equal(c.high, q(ratios, 0.975));
  assert.equal(c.differenceLow, q(diffs, 0.025));
  assert.equal(c.differenceHigh, q(diffs, 0.975));
  assert.ok(c.low < c.ratio && c.ratio < c.high);
  assert.ok(c.differenceLow < c.difference && c.difference < c.differenceHigh);
  const empty = medianRatioInterval([], b);
  assert.ok(Number.isNaN(empty.ratio) && Number.isNaN(empty.difference));
  assert.equal(miDirection(empty, DEFAULT_THRESHOLDS), 'equal');
});
