import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultBatchSize } from '../../src/core/capture/common/batchCapture';
import { reduceRowMajor, reductionFor } from '../../src/core/capture/common/reduction';

void describe('batching and reduction rules', () => {
  void it('keeps the largest float32 batch tensor within 64 MiB', () => {
    // A 3 x 64 MLP: tiny outputs, the cap of 256 applies.
    assert.equal(
      defaultBatchSize([
        [null, 128],
        [null, 64],
        [null, 10],
      ]),
      256,
    );
    // 224 x 224 x 64 floats = 12,845,056 bytes per example: floor(67,108,864 / that) = 5.
    assert.equal(
      defaultBatchSize([
        [null, 224, 224, 3],
        [null, 224, 224, 64],
        [null, 1000],
      ]),
      5,
    );
    // 64 x 64 x 32 floats = 524,288 bytes per example: 128.
    assert.equal(defaultBatchSize([[null, 64, 64, 32]]), 128);
    // Unknown dimensions are skipped; a huge example still gets a batch of 1.
    assert.equal(
      defaultBatchSize([
        [null, null, 512],
        [null, 4096, 4096, 8],
      ]),
      1,
    );
  });

  void it('pools conv-like and rank >= 4 outputs, reduces other rank-3 outputs as sequences', () => {
    assert.equal(reductionFor(2, false, 'first'), 'none');
    assert.equal(reductionFor(3, false, 'first'), 'first-token');
    assert.equal(reductionFor(3, false, 'mean'), 'mean-tokens');
    assert.equal(reductionFor(3, true, 'first'), 'global-average-pool');
    assert.equal(reductionFor(4, false, 'first'), 'global-average-pool');
    assert.equal(reductionFor(5, false, 'mean'), 'global-average-pool');
  });

  void it('reduces row-major arrays by hand-worked values: pooling either layout, tokens', () => {
    // 2 examples x 2 channels x 3 positions (NCHW), values 0..11.
    const x = Array.from({ length: 12 }, (_, i) => i);
    const rows = (r: { width: number; at: (s: number, j: number) => number }): number[][] =>
      [0, 1].map((s) => Array.from({ length: r.width }, (_, j) => r.at(s, j)));
    const get = (i: number): number => x[i];
    assert.deepEqual(rows(reduceRowMajor(get, [2, 2, 3], 'global-average-pool', true)), [
      [1, 4],
      [7, 10],
    ]);
    // The same bytes read as 2 examples x 3 positions x 2 channels (NHWC).
    assert.deepEqual(rows(reduceRowMajor(get, [2, 3, 2], 'global-average-pool', false)), [
      [2, 3],
      [8, 9],
    ]);
    assert.deepEqual(rows(reduceRowMajor(get, [2, 3, 2], 'first-token', false)), [
      [0, 1],
      [6, 7],
    ]);
    assert.deepEqual(rows(reduceRowMajor(get, [2, 3, 2], 'mean-tokens', false)), [
      [2, 3],
      [8, 9],
    ]);
    assert.deepEqual(rows(reduceRowMajor(get, [2, 6], 'none', false)), [
      [0, 1, 2, 3, 4, 5],
      [6, 7, 8, 9, 10, 11],
    ]);
  });
});
