import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rankModels } from '../../src/core/analysis/ranking';
import { modelName } from '../../src/core/capture/registry';
import { parseStep, trajectoryOf } from '../../src/core/analysis/trajectory';

const cohort = [
  { path: 'A', entropyMedian: 3.0, miMedian: 0.1 },
  { path: 'B', entropyMedian: 2.5, miMedian: 0.6 },
  { path: 'C', entropyMedian: 3.2, miMedian: 0.3 },
  { path: 'D', entropyMedian: 2.8, miMedian: 0.05 },
];

void test('shortcut ranking: mean of the H rank (high first) and I rank (low first), ties by lower I', () => {
  // H ranks C1 A2 D3 B4; I ranks D1 A2 C3 B4; means A2 B4 C2 D2; ties by I: D A C.
  const r = rankModels(cohort);
  assert.deepEqual(
    r.map((e) => [e.path, e.rank]),
    [
      ['D', 1],
      ['A', 2],
      ['C', 3],
      ['B', 4],
    ],
  );
  assert.deepEqual(r[0], { path: 'D', rank: 1, entropyMedian: 2.8, miMedian: 0.05 });
});

void test('single-measure rules', () => {
  assert.deepEqual(
    rankModels(cohort, 'entropy').map((e) => e.path),
    ['C', 'A', 'D', 'B'],
  );
  assert.deepEqual(
    rankModels(cohort, 'mi').map((e) => e.path),
    ['D', 'A', 'C', 'B'],
  );
});

void test('steps are read from checkpoint names', () => {
  assert.equal(parseStep('ckpt-1200.onnx'), 1200);
  assert.equal(parseStep('runs/step_30/model.json'), 30);
  assert.equal(parseStep('epoch3-step400.h5'), 400);
  assert.equal(parseStep('runs/1000.onnx'), 1000);
  assert.equal(parseStep('checkpoints/2500/model.json'), 2500);
  assert.equal(parseStep('model_v2_1000.onnx'), null);
  assert.equal(parseStep('sweep/alpha-0.50-seed-3/model.json'), null);
  assert.equal(parseStep('examples/generalising/model.json'), null);
});

void test('a trajectory needs distinct steps on every model and is ordered by step', () => {
  const t = trajectoryOf([
    { path: 'c/step-200', step: 200, entropyMedian: 2, miMedian: 0.4 },
    { path: 'c/step-100', step: 100, entropyMedian: 3, miMedian: 0.1 },
  ]);
  assert.deepEqual(
    t?.map((p) => p.step),
    [100, 200],
  );
  assert.equal(
    trajectoryOf([
      { path: 'a', step: 1, entropyMedian: 2, miMedian: 0.4 },
      { path: 'b', step: null, entropyMedian: 3, miMedian: 0.1 },
    ]),
    null,
  );
  assert.equal(
    trajectoryOf([
      { path: 'a', step: 1, entropyMedian: 2, miMedian: 0.4 },
      { path: 'b', step: 1, entropyMedian: 3, miMedian: 0.1 },
    ]),
    null,
  );
});

void test('model names: folder names keep their dots, model files lose their extension', () => {
  assert.equal(modelName('out/alpha-0.50-seed-1'), 'alpha-0.50-seed-1');
  assert.equal(modelName('out/alpha-0.50-seed-1/model.json'), 'alpha-0.50-seed-1');
  assert.equal(modelName('runs/ckpt-3.onnx'), 'ckpt-3');
  assert.equal(modelName('acts.v2.npy'), 'acts.v2');
});
