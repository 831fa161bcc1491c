import { test } from 'node:test';
import assert from 'node:assert/strict';
import { perAxisOrderings, rankingFlag, rankModels } from '../../src/core/analysis/ranking';
import type { Direction } from '../../src/core/analysis/signature';
import type { Signature } from '../../src/core/report/schema';
import { modelName } from '../../src/core/capture/registry';
import { parseStep, trajectoryOf, trajectoryOnsets } from '../../src/core/analysis/trajectory';

const cohort = [
  { path: 'A', entropyMedian: 3.0, miMedian: 0.1, flag: null },
  { path: 'B', entropyMedian: 2.5, miMedian: 0.6, flag: null },
  { path: 'C', entropyMedian: 3.2, miMedian: 0.3, flag: null },
  { path: 'D', entropyMedian: 2.8, miMedian: 0.05, flag: null },
];

void test('shortcut target: mean of the H rank (high first) and I rank (low first), ties by lower I', () => {
  // H ranks C1 A2 D3 B4; I ranks D1 A2 C3 B4; means A2 B4 C2 D2; ties by I: D A C.
  const r = rankModels(cohort, 'shortcut');
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

void test('label-noise target: the mirror order, H low first and I high first, ties by higher I', () => {
  // H ranks (low first) B1 D2 A3 C4; I ranks (high first) B1 C2 A3 D4; means A3 B1 C3 D3;
  // ties by higher I: C (0.3), A (0.1), D (0.05).
  assert.deepEqual(
    rankModels(cohort, 'label-noise').map((e) => [e.path, e.rank]),
    [
      ['B', 1],
      ['C', 2],
      ['A', 3],
      ['D', 4],
    ],
  );
});

void test('a flagged model is never ranked best: it comes last, without a rank', () => {
  const flagged = cohort.map((c) => (c.path === 'D' ? { ...c, flag: 'I lower' } : c));
  const r = rankModels(flagged, 'shortcut');
  assert.deepEqual(
    r.map((e) => [e.path, e.rank]),
    [
      ['A', 1],
      ['C', 2],
      ['B', 3],
      ['D', null],
    ],
  );
  assert.equal(r[3].flag, 'I lower');
  // Only flagged models: none is ranked.
  assert.deepEqual(
    rankModels([{ ...cohort[0], flag: 'x' }], 'shortcut').map((e) => e.rank),
    [null],
  );
});

/** A signature with only its directions set (what rankingFlag reads). */
const sig = (h: Direction, i: Direction): Signature => ({
  kind:
    h === 'lower' && i === 'higher'
      ? 'heuristic'
      : h === 'higher' && i === 'lower'
        ? 'example-level'
        : 'none',
  deltaEntropy: 0,
  notchesOverlap: false,
  miRatio: 1,
  miRatioLow: 1,
  miRatioHigh: 1,
  entropyDirection: h,
  miDirection: i,
  reference: 'r',
  explanation: '',
});

void test('flags: the other failure mode, in full or its I half, but not the target mode', () => {
  // Target shortcut: I lower with H higher (example-level) or equal (its I half) is flagged.
  assert.match(rankingFlag('shortcut', sig('higher', 'lower')) ?? '', /example-level signature/);
  assert.match(rankingFlag('shortcut', sig('equal', 'lower')) ?? '', /I lower/);
  assert.equal(rankingFlag('shortcut', sig('lower', 'lower')), null);
  assert.equal(rankingFlag('shortcut', sig('lower', 'higher')), null);
  assert.equal(rankingFlag('shortcut', sig('higher', 'equal')), null);
  // Target label-noise: the heuristic side is flagged.
  assert.match(rankingFlag('label-noise', sig('lower', 'higher')) ?? '', /heuristic signature/);
  assert.match(rankingFlag('label-noise', sig('equal', 'higher')) ?? '', /I higher/);
  assert.equal(rankingFlag('label-noise', sig('higher', 'higher')), null);
  assert.equal(rankingFlag('label-noise', sig('higher', 'lower')), null);
});

void test('per-axis orderings: each measure highest first, NaN last', () => {
  const o = perAxisOrderings([...cohort, { path: 'E', entropyMedian: NaN, miMedian: NaN }]);
  assert.deepEqual(o.entropy, ['C', 'A', 'D', 'B', 'E']);
  assert.deepEqual(o.mi, ['B', 'C', 'A', 'D', 'E']);
});

void test('onsets: the first checkpoint of each signature, and whether it persists', () => {
  const o = trajectoryOnsets([
    { step: 2, path: 's2', kind: 'none' },
    { step: 4, path: 's4', kind: 'heuristic' },
    { step: 6, path: 's6', kind: 'none' },
    { step: 8, path: 's8', kind: 'heuristic' },
    { step: 10, path: 's10', kind: 'example-level' },
  ]);
  assert.deepEqual(o, [
    { kind: 'heuristic', step: 4, path: 's4', persists: false },
    { kind: 'example-level', step: 10, path: 's10', persists: true },
  ]);
  assert.deepEqual(trajectoryOnsets([{ step: 1, path: 'a', kind: 'none' }]), []);
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
