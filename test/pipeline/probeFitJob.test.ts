// The analysis child's probeFit job (a real fork of the bundled analysisHost.js) on the
// committed probes and models: shapes from the headers, fit by the model's input as its files
// declare it, the value warnings, and one-line reasons for files that cannot be used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadProbe } from '../../src/core/probe/loadProbe';
import { runJob } from '../../src/extension/child/client';
import { defaultJobParams } from '../fixtures/jobParams';

const HOST = path.join(__dirname, 'analysisHost.js');
const EXAMPLES = path.resolve(__dirname, '../../examples');
const KERAS = path.resolve(__dirname, '../../test/fixtures/real-keras');
const digits = path.join(EXAMPLES, 'probe.npy');
const conv = path.join(KERAS, 'conv-probe.npy');
const masked = path.join(KERAS, 'masked-probe.npy');
const ood = path.join(EXAMPLES, 'ood.csv');
const params = defaultJobParams(null as unknown as string);

const fitJob = (model: string | null, candidates: string[]) =>
  runJob(HOST, { type: 'job/probeFit', model, candidates, params: { ...params, probe: null } });

void test('against the shortcut model (input [null, 128] in its model.json): the digits probe fits, the others do not', async () => {
  const model = path.join(EXAMPLES, 'shortcut', 'model.json');
  const declared = (
    JSON.parse(readFileSync(model, 'utf8')) as {
      modelTopology: { config: { layers: { config: { batch_input_shape?: unknown } }[] } };
    }
  ).modelTopology.config.layers[0].config.batch_input_shape;
  assert.deepEqual(declared, [null, 128]);
  const result = await fitJob(model, [digits, conv, masked, ood]);
  assert.deepEqual(result.inputShape, declared);
  assert.equal(result.modelNote, null);
  const [d, c, m, o] = result.candidates;
  // examples/README.md: float32 600 x 128, pixels scaled to [0, 1].
  assert.deepEqual(d, {
    path: digits,
    shape: [600, 128],
    dtype: 'float32',
    fits: true,
    why: 'fits [128]',
    warning: null,
  });
  // 24 images of 8 x 8 x 1 = 64 values, not 128.
  assert.deepEqual(
    [c.shape, c.fits, c.why],
    [[24, 8, 8, 1], false, 'does not fit: the model expects [128], the examples are [8, 8, 1]'],
  );
  // masked-probe.npy holds token ids: integers, whose range the whole file gives.
  const ids = await loadProbe(masked);
  const [lo, hi] = [Math.min(...ids.data), Math.max(...ids.data)];
  assert.ok(ids.data.every((v) => Number.isInteger(v)));
  assert.deepEqual(m.shape, ids.shape);
  assert.equal(m.fits, false);
  assert.equal(
    m.warning,
    `masked-probe.npy: every value is an integer (${lo}–${hi}): expected inputs scaled as in training; MI/H may be dominated by ties`,
  );
  // ood.csv is a table of accuracies (model,metric): its rows are not numbers.
  assert.equal(o.shape, null);
  assert.equal(o.fits, false);
  assert.match(o.why, /ood\.csv: line 2: expected numeric cells/);
});

void test('against the conv Keras model (8 x 8 x 1 images): its own probe fits and the digits probe does not', async () => {
  const result = await fitJob(path.join(KERAS, 'conv.keras'), [conv, digits]);
  assert.deepEqual(result.inputShape, [null, 8, 8, 1]);
  assert.deepEqual(
    result.candidates.map((c) => [c.fits, c.why]),
    [
      [true, 'fits [8, 8, 1]'],
      [false, 'does not fit: the model expects [8, 8, 1], the examples are [128]'],
    ],
  );
});

void test('without a model: shapes and warnings only; a model that cannot open says why', async () => {
  const alone = await fitJob(null, [digits]);
  assert.equal(alone.inputShape, null);
  assert.equal(alone.candidates[0].fits, null);
  assert.equal(alone.candidates[0].why, 'examples of shape [128]');
  const broken = await fitJob(path.join(EXAMPLES, 'README.md'), [digits]);
  assert.equal(broken.inputShape, null);
  assert.match(broken.modelNote ?? '', /README\.md/);
  assert.equal(broken.candidates[0].shape?.join(), '600,128');
});
