import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceCandidates } from '../../src/extension/logic/referenceCandidates';
import type { MeasuredModel } from '../../src/extension/logic/referenceCandidates';

const m = (modelPath: string, analysedAt: string, widths: number[]): MeasuredModel => ({
  modelPath,
  analysedAt,
  layers: widths.map((n, i) => [`hidden${i + 1}`, n]),
});

void test('reference candidates: the other models of the same layers and widths, newest first', () => {
  const models = [
    m('/w/a/model.json', '2026-01-01', [64, 64]),
    m('/w/b/model.json', '2026-03-01', [64, 64]),
    m('/w/wide/model.json', '2026-04-01', [128, 64]),
    m('/w/deep/model.json', '2026-05-01', [64, 64, 64]),
    m('/w/target/model.json', '2026-06-01', [64, 64]),
  ];
  const target = [
    ['hidden1', 64],
    ['hidden2', 64],
  ] as MeasuredModel['layers'];
  assert.deepEqual(
    referenceCandidates('/w/target/model.json', target, models).map((c) => c.modelPath),
    ['/w/b/model.json', '/w/a/model.json'],
  );
  // The target named by its folder is still left out.
  assert.deepEqual(
    referenceCandidates('/w/target', target, models).map((c) => c.modelPath),
    ['/w/b/model.json', '/w/a/model.json'],
  );
  // Not measured yet: every other model, newest first.
  assert.deepEqual(
    referenceCandidates('/w/target/model.json', null, models).map((c) => c.modelPath),
    ['/w/deep/model.json', '/w/wide/model.json', '/w/b/model.json', '/w/a/model.json'],
  );
});
