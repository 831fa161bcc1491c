// The kernel rate behind the MI plan: measured once per process and (S, k, estimator), or fixed
// by MEMLENS_MI_RATE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelRate, MI_RATE_ENV } from '../../src/core/analysis/miRate';
import { disposeMiPool } from '../../src/core/mi/miMatrix';

test.after(() => disposeMiPool());

void test('the rate is measured once per S, k and estimator, then read back', async () => {
  const first = await kernelRate(500, 3, 'ksg');
  assert.equal(first.source, 'measured');
  assert.ok(first.rate > 0 && Number.isFinite(first.rate));
  // Read back: the very same figure (a new timing would differ in its last digits).
  assert.deepEqual(await kernelRate(500, 3, 'ksg'), first);
  const mixed = await kernelRate(500, 3, 'mixed');
  assert.equal(mixed.source, 'measured');
  assert.notEqual(mixed.rate, first.rate);
});

void test('MEMLENS_MI_RATE fixes the rate; a value that is not a positive number is refused', async () => {
  process.env[MI_RATE_ENV] = '2500';
  try {
    assert.deepEqual(await kernelRate(2000, 3, 'ksg'), { rate: 2500, source: 'environment' });
    process.env[MI_RATE_ENV] = 'fast';
    await assert.rejects(
      kernelRate(2000, 3, 'ksg'),
      /^UserError: MEMLENS_MI_RATE: expected pairs per second on one thread \(a positive number\), found 'fast'$/,
    );
  } finally {
    delete process.env[MI_RATE_ENV];
  }
});
