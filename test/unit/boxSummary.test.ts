import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { BoxSummary } from '../../src/core/report/schema';
import { boxSummary, miSummary, quantileSorted } from '../../src/core/measures/boxSummary';
import { activationsFromNpy } from '../../src/core/io/activationsNpy';
import { column } from '../../src/core/activations';

const fixtures = path.join(__dirname, '../../test/fixtures/measure');

function close(a: number, b: number, tol = 1e-12): boolean {
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
}

void test('numpy linear quantiles, hand-worked', () => {
  // (n - 1) q = 2.25 -> 3 + 0.25 (4 - 3)
  assert.equal(quantileSorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 100], 0.25), 3.25);
  assert.equal(quantileSorted([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantileSorted([5], 0.75), 5);
  assert.ok(Number.isNaN(quantileSorted([], 0.5)));
});

void test('box summary of 1..9, 100 (hand-worked; an outlier beyond the whisker)', () => {
  // Unsorted on purpose. q1 = 3.25, median = 5.5, q3 = 7.75, IQR = 4.5, upper limit
  // 7.75 + 6.75 = 14.5 -> whisker at 9 (100 is an outlier); lower limit -3.5 -> whisker 1.
  // Notch half-width 1.57 * 4.5 / sqrt(10) = 2.23414916690896 (numpy).
  const b = boxSummary([9, 1, 100, 2, 8, 3, 7, 4, 6, 5]);
  const want: BoxSummary = {
    n: 10,
    min: 1,
    q1: 3.25,
    median: 5.5,
    q3: 7.75,
    max: 100,
    mean: 14.5,
    whiskerLow: 1,
    whiskerHigh: 9,
    notchLow: 5.5 - 2.23414916690896,
    notchHigh: 5.5 + 2.23414916690896,
  };
  for (const key of Object.keys(want) as (keyof BoxSummary)[]) {
    assert.ok(close(b[key], want[key]), `${key}: ${b[key]} vs ${want[key]}`);
  }
});

void test('whiskers clamp to the box when no value lies between box and limit (matplotlib)', () => {
  // [0, 1, 2, 100]: q1 = 0.75, q3 = 2 + 0.25 * 98 = 26.5, IQR = 25.75; the largest value
  // <= 26.5 + 38.625 is 2 < q3, so matplotlib puts the upper whisker at q3.
  const b = boxSummary([0, 1, 2, 100]);
  assert.equal(b.q3, 26.5);
  assert.equal(b.whiskerHigh, 26.5);
  assert.equal(b.whiskerLow, 0);
});

void test('constant values: zero-width box and notch; empty input is all NaN', () => {
  const b = boxSummary([2, 2, 2]);
  assert.deepEqual(
    [b.q1, b.median, b.q3, b.whiskerLow, b.whiskerHigh, b.notchLow, b.notchHigh],
    [2, 2, 2, 2, 2, 2, 2],
  );
  const e = boxSummary([]);
  assert.equal(e.n, 0);
  assert.ok(Number.isNaN(e.median) && Number.isNaN(e.whiskerLow) && Number.isNaN(e.notchHigh));
  assert.throws(() => boxSummary([1, NaN]), RangeError);
});

void test('agrees with matplotlib cbook.boxplot_stats (plt.boxplot notch=True) on fixture columns', () => {
  const expected = JSON.parse(readFileSync(path.join(fixtures, 'expected.json'), 'utf8')) as Record<
    string,
    BoxSummary
  >;
  const { acts } = activationsFromNpy(
    readFileSync(path.join(fixtures, 'activations.npy')),
    'fixture',
  );
  for (const n of [0, 4, 5]) {
    const want = expected[`boxOfColumn${n}`];
    const got = boxSummary(column(acts, n));
    for (const key of Object.keys(want) as (keyof BoxSummary)[]) {
      assert.ok(close(got[key], want[key]), `column ${n} ${key}: ${got[key]} vs ${want[key]}`);
    }
  }
  // The clamped-whisker case above, by matplotlib.
  const small = boxSummary([0, 1, 2, 100]);
  for (const key of Object.keys(expected.boxSmall) as (keyof BoxSummary)[]) {
    assert.ok(
      close(small[key], expected.boxSmall[key]),
      `${key}: ${small[key]} vs ${expected.boxSmall[key]}`,
    );
  }
});

void test('MI summary: median, mean, quartiles and pair count', () => {
  // [0.1, 0.2, 0.4, 0.9]: q1 at 0.75 -> 0.175, median 0.3, q3 at 2.25 -> 0.525, mean 0.4.
  const s = miSummary([0.9, 0.1, 0.4, 0.2]);
  assert.equal(s.pairs, 4);
  assert.ok(close(s.q1, 0.175) && close(s.median, 0.3) && close(s.q3, 0.525) && close(s.mean, 0.4));
  const e = miSummary([]);
  assert.equal(e.pairs, 0);
  assert.ok(Number.isNaN(e.median) && Number.isNaN(e.mean));
  assert.throws(() => miSummary([0.1, NaN]), RangeError);
});
