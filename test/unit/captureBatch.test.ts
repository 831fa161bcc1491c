import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultBatchSize, reductionFor } from '../../src/core/capture/common/batchCapture';

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
    const dense = { name: 'd', point: 'output' as const, convLike: false, channelsFirst: false };
    const conv = { ...dense, convLike: true };
    assert.equal(reductionFor(2, dense, 'first'), 'none');
    assert.equal(reductionFor(3, dense, 'first'), 'first-token');
    assert.equal(reductionFor(3, dense, 'mean'), 'mean-tokens');
    assert.equal(reductionFor(3, conv, 'first'), 'global-average-pool');
    assert.equal(reductionFor(4, dense, 'first'), 'global-average-pool');
    assert.equal(reductionFor(5, dense, 'mean'), 'global-average-pool');
  });
});
