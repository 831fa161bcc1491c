import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { column } from '../../src/core/activations';
import { fromRowMajor } from '../../src/core/activations';
import {
  isConstant,
  layerTieStats,
  neuronTieFractions,
  tieFraction,
} from '../../src/core/measures/ties';
import { activationsFromNpy } from '../../src/core/io/activationsNpy';

const fixtures = path.join(__dirname, '../../test/fixtures/measure');

void test('tie fraction, hand-worked', () => {
  assert.equal(tieFraction([1, 2, 3, 4]), 0);
  // 0 appears three times, 5 twice: 5 of 8 values are tied.
  assert.equal(tieFraction([0, 5, 0, 1, 5, 2, 0, 3]), 5 / 8);
  assert.equal(tieFraction([7, 7, 7]), 1);
  assert.equal(tieFraction([]), 0);
  // -0 and +0 are the same activation value.
  assert.equal(tieFraction([-0, 0, 1]), 2 / 3);
});

void test('tie fractions agree with numpy np.unique counts on fixture columns', () => {
  const expected = JSON.parse(readFileSync(path.join(fixtures, 'expected.json'), 'utf8')) as {
    tieFraction: number[];
  };
  const { acts } = activationsFromNpy(
    readFileSync(path.join(fixtures, 'activations.npy')),
    'fixture',
  );
  expected.tieFraction.forEach((want, n) => assert.equal(tieFraction(column(acts, n)), want));
});

void test('dead neurons and per-layer statistics', () => {
  assert.equal(isConstant([3, 3, 3]), true);
  assert.equal(isConstant([3, 3, 4]), false);
  // Columns: constant, post-ReLU with two zeros of four, all distinct.
  const acts = fromRowMajor([1, 0, 5, 1, 0, 6, 1, 2, 7, 1, 3, 8], 4, 3, [
    { name: 'a', start: 0, end: 2 },
    { name: 'b', start: 2, end: 3 },
  ]);
  assert.deepEqual(layerTieStats(acts, acts.layers[0]), {
    tieFraction: 0.75,
    deadNeurons: 1,
    maxTieFraction: 1,
  });
  assert.deepEqual(layerTieStats(acts, acts.layers[1]), {
    tieFraction: 0,
    deadNeurons: 0,
    maxTieFraction: 0,
  });
  const fractions = neuronTieFractions(acts);
  assert.deepEqual(Array.from(fractions), [1, 0.5, 0]);
  assert.deepEqual(
    layerTieStats(acts, acts.layers[0], fractions),
    layerTieStats(acts, acts.layers[0]),
  );
});
