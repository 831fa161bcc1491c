// The value warnings of probe data on small hand-made arrays.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { probeValueWarning } from '../../src/core/probe/probeStats';

void describe('probeValueWarning', () => {
  void it('says nothing of varied, scaled values', () => {
    assert.equal(probeValueWarning('p.npy', [0.1, 0.5, 0.9, 0.3], 2, 2), null);
  });

  void it('warns about integer values (raw pixels), giving their range', () => {
    assert.equal(
      probeValueWarning('digits-int.npy', [0, 255, 17, 3, 128, 64], 3, 2),
      'digits-int.npy: every value is an integer (0–255): expected inputs scaled as in training; MI/H may be dominated by ties',
    );
  });

  void it('says when only the first rows were read', () => {
    assert.match(
      probeValueWarning('labels.csv', [1, 2, 3, 4], 2, 2, 5000) ?? '',
      /^labels\.csv: every value is an integer \(1–4\) in the first 2 rows: /,
    );
  });

  void it('warns about a constant probe: every value the same', () => {
    assert.equal(
      probeValueWarning('zeros.npy', [0.5, 0.5, 0.5, 0.5], 2, 2),
      'zeros.npy: every value is 0.5: the activations would be constant, so H and I are 0',
    );
  });

  void it('warns about identical rows (every column of zero variance), varied within a row', () => {
    assert.equal(
      probeValueWarning('same.npy', [0.1, 0.7, 0.1, 0.7, 0.1, 0.7], 3, 2),
      'same.npy: all 3 rows are identical: the activations would be constant, so H and I are 0',
    );
    // One row differing in one value is enough.
    assert.equal(probeValueWarning('p.npy', [0.1, 0.7, 0.1, 0.7, 0.1, 0.8], 3, 2), null);
  });

  void it('a single example is not "identical rows"; an empty one is silent', () => {
    assert.equal(probeValueWarning('one.npy', [0.1, 0.7], 1, 2), null);
    assert.equal(probeValueWarning('none.npy', [], 0, 2), null);
  });
});
