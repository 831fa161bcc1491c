import { test } from 'node:test';
import assert from 'node:assert/strict';
import { averageRanks, spearman } from '../../src/core/analysis/spearman';

void test('average ranks give tied values the mean of their ranks', () => {
  assert.deepEqual(averageRanks([10, 30, 20, 30]), [1, 3.5, 2, 3.5]);
  assert.deepEqual(averageRanks([5, 5, 5]), [2, 2, 2]);
});

void test('without ties Spearman equals 1 - 6 sum d^2 / (n (n^2 - 1))', () => {
  // ranks of y: 3 1 4 2 -> d = -2 1 -1 2, sum d^2 = 10, rho = 1 - 60 / 60 = 0
  assert.equal(spearman([10, 20, 30, 40], [3, 1, 4, 2]), 0);
  // ranks 1 3 2 4 -> sum d^2 = 2, rho = 1 - 12 / 60 = 0.8
  assert.ok(Math.abs(spearman([1, 2, 3, 4], [0.1, 0.3, 0.2, 0.4]) - 0.8) < 1e-12);
  assert.equal(spearman([1, 2, 3], [30, 20, 10]), -1);
});

void test('with ties Spearman is the Pearson correlation of average ranks (hand-worked)', () => {
  // y ranks 1 2 3.5 5 3.5: sxy = 8, sxx = 10, syy = 9.5 -> 8 / sqrt(95) (scipy: 0.82078...)
  assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) - 8 / Math.sqrt(95)) < 1e-12);
});

void test('Spearman is NaN for a constant sample or fewer than two pairs, and rejects unequal lengths', () => {
  assert.ok(Number.isNaN(spearman([1, 2, 3], [4, 4, 4])));
  assert.ok(Number.isNaN(spearman([1], [2])));
  assert.throws(() => spearman([1, 2], [1]), RangeError);
});
