import assert from 'node:assert/strict';
import test from 'node:test';
import { miEvidence } from '../../src/shared/miEvidence';

const fmt = (n: number): string => n.toFixed(3);

void test('median-I evidence: the ratio, or the signed difference when the core compared by difference', () => {
  const ratio = {
    miComparison: 'ratio' as const,
    miRatio: 3.13,
    miRatioLow: 2.7,
    miRatioHigh: 3.56,
  };
  assert.equal(miEvidence(ratio, fmt), 'x3.130 [2.700, 3.560]');
  assert.equal(miEvidence(ratio, fmt, '×'), '×3.130 [2.700, 3.560]');
  // Both medians negative (-0.178 vs -0.100): lower by 0.078, never "x1.78, higher".
  const negative = {
    miComparison: 'difference' as const,
    miRatio: 1.78,
    miRatioLow: 1.7,
    miRatioHigh: 1.9,
    miDifference: -0.078,
    miDifferenceLow: -0.079,
    miDifferenceHigh: -0.077,
  };
  assert.equal(miEvidence(negative, fmt), '-0.078 nats [-0.079, -0.077]');
  assert.equal(
    miEvidence({ ...negative, miDifference: 0.02 }, fmt),
    '+0.020 nats [-0.079, -0.077]',
  );
});
