// The progress text and bar of a job, from hand-worked sequences of core progress reports.
// Bar weights per model: capture 30, entropy 3, mi 62, summary 5 (percentage points).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { analyze } from '../../src/core/analysis/analyze';
import { analyzeAgainstBaseline } from '../../src/core/analysis/againstBaseline';
import { diskMeasurementCache } from '../../src/core/analysis/measurementCache';
import { encodeNpy } from '../../src/core/io/npy';
import type { Progress } from '../../src/core/progress';
import { Rng } from '../../src/core/random';
import { ProgressTracker, stageText } from '../../src/extension/logic/progressTracker';
import { tempDir } from '../fixtures/capture/helpers';

const near = (actual: number, expected: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual}, expected ${expected}`);

void test('stage text: the share done in whole percent, rounded down, and the layer summarised', () => {
  assert.equal(stageText('mi', 1200, 3000), 'MI pairs 40%');
  assert.equal(stageText('mi', 2015, 2016), 'MI pairs 99%');
  // With the worker pool's rate: the time left.
  const eta = { pairsPerSecond: 2100, remainingSeconds: 185 };
  assert.equal(stageText('mi', 1200, 3000, undefined, eta), 'MI pairs 40%, ~3 min left');
  assert.equal(
    new ProgressTracker().update({ stage: 'mi', done: 1, total: 4, eta }).message,
    'MI pairs 25%, ~3 min left',
  );
  assert.equal(stageText('capture', 1000, 1000, '/w/net.pt'), 'capturing activations 100%');
  assert.equal(stageText('entropy', 0, 96), 'entropy 0%');
  assert.equal(stageText('summary', 1, 3, 'dense_1'), 'summarising dense_1');
  assert.equal(stageText('summary', 3, 3), 'summarising');
  assert.equal(stageText('open', 0, 0), 'open');
});

void test('one model: the title names it, the message only the stage; the bar never goes back', () => {
  const t = new ProgressTracker(1);
  const steps = [
    t.update({ stage: 'capture', done: 500, total: 1000 }),
    t.update({ stage: 'entropy', done: 0, total: 96 }),
    t.update({ stage: 'mi', done: 50, total: 100 }),
    t.update({ stage: 'summary', done: 1, total: 3, detail: 'dense_1' }),
    t.update({ stage: 'capture', done: 10, total: 1000 }),
  ];
  assert.deepEqual(
    steps.map((s) => s.message),
    [
      'capturing activations 50%',
      'entropy 0%',
      'MI pairs 50%',
      'summarising dense_1',
      'capturing activations 1%',
    ],
  );
  // 30 * 0.5; 30; 33 + 62 * 0.5; 95 + 5 / 3; unchanged.
  const fractions = [0.15, 0.3, 0.64, (95 + 5 / 3) / 100, (95 + 5 / 3) / 100];
  steps.forEach((s, i) => near(s.fraction, fractions[i], `fraction ${i}`));
  near(steps[2].increment, 34, 'increment from 30 to 64');
  assert.equal(steps[4].increment, 0, 'never backwards');
});

void test('an analysis against its baseline names each model as it is measured', () => {
  const t = new ProgressTracker(2);
  const a = t.update({
    stage: 'capture',
    done: 500,
    total: 1000,
    detail: 'shortcut (model 1 of 2)',
  });
  assert.equal(a.message, 'Measuring shortcut (1 of 2): capturing activations 50%');
  near(a.fraction, 0.075, '15 of 200');
  const s1 = t.update({ stage: 'summary', done: 3, total: 3, detail: 'shortcut (model 1 of 2)' });
  near(s1.fraction, 0.5, 'first model done');
  const b = t.update({
    stage: 'capture',
    done: 250,
    total: 1000,
    detail: 'shortcut-baseline (model 2 of 2)',
  });
  assert.equal(b.message, 'Measuring shortcut-baseline (2 of 2): capturing activations 25%');
  near(b.fraction, 0.5375, '(100 + 30 * 0.25) / 2');
  const end = t.update({
    stage: 'summary',
    done: 3,
    total: 3,
    detail: 'shortcut-baseline (model 2 of 2)',
  });
  near(end.fraction, 1, 'all done');
  assert.equal(end.message, 'Measuring shortcut-baseline (2 of 2): summarising');
});

void test('without names, a stage earlier than the last one starts the next model', () => {
  const t = new ProgressTracker(2);
  near(t.update({ stage: 'summary', done: 3, total: 3 }).fraction, 0.5, 'first model done');
  const b = t.update({ stage: 'capture', done: 250, total: 1000 });
  assert.equal(b.message, 'Measuring model (2 of 2): capturing activations 25%');
  near(b.fraction, 0.5375, '(100 + 30 * 0.25) / 2');
  near(t.update({ stage: 'mi', done: 2016, total: 2016 }).fraction, 0.975, '(100 + 95) / 2');
});

void test('a compare names the model its reports are about, also when earlier ones were cached', () => {
  const t = new ProgressTracker(4);
  // Model 1 was read from the measurement cache and reported nothing.
  const a = t.update({
    stage: 'capture',
    done: 0,
    total: 1000,
    detail: 'generalising (model 2 of 4)',
  });
  assert.equal(a.message, 'Measuring generalising (2 of 4): capturing activations 0%');
  near(a.fraction, 0.25, '100 of 400');
  const b = t.update({
    stage: 'summary',
    done: 1,
    total: 3,
    detail: 'generalising (model 2 of 4): dense_1',
  });
  assert.equal(b.message, 'Measuring generalising (2 of 4): summarising dense_1');
  near(b.fraction, (195 + 5 / 3) / 400, '100 + 95 + 5/3 of 400');
  const c = t.update({ stage: 'mi', done: 400, total: 1000, detail: 'shortcut (model 3 of 4)' });
  assert.equal(c.message, 'Measuring shortcut (3 of 4): MI pairs 40%');
  near(c.fraction, (200 + 33 + 24.8) / 400, '200 + 33 + 62 * 0.4 of 400');
});

void test('a compare of a folder learns the number of checkpoints from its reports', () => {
  const t = new ProgressTracker(1);
  const s = t.update({ stage: 'mi', done: 1, total: 2, detail: 'epoch-4 (model 2 of 6)' });
  assert.equal(s.message, 'Measuring epoch-4 (2 of 6): MI pairs 50%');
  near(s.fraction, (100 + 33 + 31) / 600, 'second of six');
});

void test('messages never start with the extension name nor repeat the model count', () => {
  const t = new ProgressTracker(2);
  for (const p of [
    { stage: 'capture', done: 1, total: 2, detail: 'a (model 1 of 2)' },
    { stage: 'summary', done: 1, total: 2, detail: 'a (model 1 of 2): dense' },
    { stage: 'capture', done: 1, total: 2, detail: 'b (model 2 of 2)' },
  ]) {
    const { message } = t.update(p);
    assert.doesNotMatch(message, /^MemLens/);
    assert.equal(message.match(/of 2/g)?.length, 1, message);
  }
});

/** An S x 4 dump (two layers of 2) of normals sharing a latent with weight `coupling`. */
function writeDump(file: string, coupling: number, seed: number): void {
  const S = 300;
  const rng = new Rng(seed);
  const values = new Float64Array(S * 4);
  for (let i = 0; i < S; i++) {
    const z = rng.normal();
    for (let j = 0; j < 4; j++)
      values[i * 4 + j] = coupling * z + Math.sqrt(1 - coupling ** 2) * rng.normal();
  }
  writeFileSync(file, encodeNpy(values, [S, 4]));
  const layers = [
    { name: 'fc1', start: 0, end: 2 },
    { name: 'fc2', start: 2, end: 4 },
  ];
  writeFileSync(file.replace(/\.npy$/, '.layers.json'), JSON.stringify({ layers }));
}

void test('a real analysis against its baseline names the baseline when the model was cached', async () => {
  const { dir, cleanup } = tempDir('memlens-progress-');
  try {
    const model = path.join(dir, 'shortcut.npy');
    const baseline = path.join(dir, 'clean.npy');
    writeDump(model, 0.9, 1);
    writeDump(baseline, 0, 2);
    const measurements = diskMeasurementCache(path.join(dir, 'measurements'));
    const opts = { threads: 1, bins: 20, measurements };
    // The model alone first: its measurement is kept, so the next job measures only the baseline.
    await analyze(model, opts);
    const seen: Progress[] = [];
    await analyzeAgainstBaseline(model, baseline, { ...opts, onProgress: (p) => seen.push(p) });
    assert.ok(seen.length > 0, 'the baseline reported progress');
    const t = new ProgressTracker(2);
    const messages = seen.map((p) => t.update(p).message);
    for (const m of messages) assert.match(m, /^Measuring clean \(2 of 2\): /);
    assert.equal(messages.at(-1), 'Measuring clean (2 of 2): summarising');
  } finally {
    cleanup();
  }
});
