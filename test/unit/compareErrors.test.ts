// compare: bad input gets one clear error, a failing model is reported and the others
// complete; metric correlation and checkpoint trajectories.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { compare } from '../../src/core/analysis/compare';
import { parseMetricCsv } from '../../src/core/analysis/metricCsv';
import { expandModelSources } from '../../src/core/analysis/sources';
import { CancelledError, UserError } from '../../src/core/errors';
import { encodeNpy } from '../../src/core/io/npy';
import { Rng } from '../../src/core/random';
import { tempDir } from '../fixtures/capture/helpers';

const root = path.resolve(__dirname, '..', '..');
const ex = (name: string): string => path.join(root, 'examples', name);

/** An S x n activation dump: n Gaussian neurons, neighbours correlated with rho. */
function gaussianDump(file: string, n: number, rho: number, seed: number, s = 400): void {
  const rng = new Rng(seed);
  const v = new Float64Array(s * n);
  for (let i = 0; i < s; i++) {
    let prev = rng.normal();
    for (let j = 0; j < n; j++) {
      const x = j === 0 ? prev : rho * prev + Math.sqrt(1 - rho * rho) * rng.normal();
      v[i * n + j] = x;
      prev = x;
    }
  }
  writeFileSync(file, encodeNpy(v, [s, n]));
}

const rejects = (p: Promise<unknown>, re: RegExp) =>
  assert.rejects(
    p,
    (err: unknown) =>
      err instanceof UserError && re.test(err.message) && !err.message.includes('\n'),
  );

void test('metric CSV: header, cells, numbers and duplicates are checked with file and line', () => {
  assert.deepEqual(parseMetricCsv('model,ood_acc\r\na,0.5\n"b, v2",1e-1\n\n', 'm.csv'), {
    file: 'm.csv',
    metric: 'ood_acc',
    rows: [
      { model: 'a', value: 0.5, line: 2 },
      { model: 'b, v2', value: 0.1, line: 3 },
    ],
  });
  assert.throws(
    () => parseMetricCsv('name,acc\na,1\n', 'm.csv'),
    /m\.csv: line 1: expected the header 'model,<metric name>'/,
  );
  assert.throws(
    () => parseMetricCsv('model,acc\na,1,2\n', 'm.csv'),
    /m\.csv: line 2: expected 'model,value'/,
  );
  assert.throws(
    () => parseMetricCsv('model,acc\na,high\n', 'm.csv'),
    /m\.csv: line 2: expected a number for a, found 'high'/,
  );
  assert.throws(
    () => parseMetricCsv('model,acc\na,1\na,2\n', 'm.csv'),
    /line 3: model 'a' is listed twice/,
  );
  assert.throws(() => parseMetricCsv('model,acc\n', 'm.csv'), /expected at least one/);
});

void test('model lists: folders of checkpoints in natural order, globs, empty folders', async () => {
  const { dir, cleanup } = tempDir('memlens-compare-');
  try {
    for (const step of [10, 9, 100]) {
      mkdirSync(path.join(dir, `step-${step}`));
      writeFileSync(path.join(dir, `step-${step}`, 'model.json'), '{}');
    }
    mkdirSync(path.join(dir, 'notes'));
    writeFileSync(path.join(dir, 'readme.txt'), 'x');
    const names = (list: string[]) => list.map((p) => path.basename(p));
    assert.deepEqual(names(await expandModelSources([dir])), ['step-9', 'step-10', 'step-100']);
    assert.deepEqual(names(await expandModelSources([path.join(dir, 'step-1*')])), [
      'step-10',
      'step-100',
    ]);
    await rejects(
      expandModelSources([path.join(dir, 'notes')]),
      /notes: expected model files or model subfolders \(holding model\.json or saved_model\.pb\), found none/,
    );
    await rejects(expandModelSources([path.join(dir, 'x-*')]), /found no match/);
  } finally {
    cleanup();
  }
});

void test('bad cohorts fail before any analysis with one clear line', async () => {
  const probe = ex('probe.npy');
  await rejects(
    compare([ex('shortcut')], { probe }),
    /expected at least two models to compare, found 1/,
  );
  await rejects(
    compare([ex('shortcut'), ex('shortcut-baseline')], { probe, baseline: ex('generalising') }),
    /generalising: the baseline is not among the compared models/,
  );
  await rejects(
    compare([ex('shortcut'), ex('shortcut-baseline')], {}),
    /models need probe inputs: expected --probe/,
  );
  const { dir, cleanup } = tempDir('memlens-compare-');
  try {
    const csv = path.join(dir, 'ood.csv');
    writeFileSync(csv, 'model,acc\nshortcut,0.5\nshortcut-baseline,0.7\nresnet,0.9\n');
    await rejects(
      compare([ex('shortcut'), ex('shortcut-baseline')], { probe, metricCsv: csv }),
      /ood\.csv: names models that are not compared: resnet \(line 4\)/,
    );
    writeFileSync(csv, 'model,acc\nshortcut,0.5\nshortcut-baseline,0.7\n');
    await rejects(
      compare([ex('shortcut'), ex('shortcut-baseline')], { probe, metricCsv: csv }),
      /needs a metric for at least 3 of the compared models, found 2/,
    );
  } finally {
    cleanup();
  }
});

async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const data = a.weightData as ArrayBuffer;
      writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(data));
      writeFileSync(
        path.join(dir, 'model.json'),
        JSON.stringify({
          format: 'layers-model',
          modelTopology: a.modelTopology,
          weightsManifest: [{ paths: ['./weights.bin'], weights: a.weightSpecs }],
        }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
}

void test('a model that fails (unreadable, probe does not fit) is reported and the others complete', async () => {
  const { dir, cleanup } = tempDir('memlens-compare-');
  try {
    const broken = path.join(dir, 'broken');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'model.json'), '{"modelTopology": ');
    // same layer names, but 64 inputs: the 128-value probe does not fit it
    const small = tf.sequential({
      layers: [
        tf.layers.dense({ name: 'hidden1', units: 64, inputShape: [64], activation: 'relu' }),
      ],
    });
    await saveModel(small, path.join(dir, 'narrow'));
    small.dispose();
    const r = await compare(
      [ex('generalising'), broken, path.join(dir, 'narrow'), ex('random-labels')],
      {
        probe: ex('probe.npy'),
        samples: 300,
        pairs: 2000,
        reference: 'cohort',
      },
    );
    assert.equal(r.models.length, 4);
    assert.match(r.models[1].error ?? '', /broken.*model\.json/);
    assert.match(
      r.models[2].error ?? '',
      /probe does not fit the model: expected examples of shape \[64\], found \[128\]/,
    );
    for (const i of [0, 3]) {
      assert.equal(r.models[i].error, undefined);
      assert.ok(Number.isFinite(r.models[i].summary.mi.median));
      assert.match(r.models[i].signature.reference, /^the cohort median \(1 other model pooled\)$/);
    }
    assert.deepEqual([...r.orderings.mi].sort(), [ex('generalising'), ex('random-labels')].sort());
    assert.equal(r.probe?.samples, 300);
    // the failed models carry no numbers (null in JSON)
    const json = JSON.parse(JSON.stringify(r)) as {
      models: { summary: { mi: { median: unknown } } }[];
    };
    assert.equal(json.models[1].summary.mi.median, null);
  } finally {
    cleanup();
  }
});

void test('like with like: another layer width is listed as not comparable, an unknown layer fails', async () => {
  const { dir, cleanup } = tempDir('memlens-compare-');
  try {
    gaussianDump(path.join(dir, 'a.npy'), 3, 0.5, 1);
    gaussianDump(path.join(dir, 'b.npy'), 3, 0.5, 2);
    gaussianDump(path.join(dir, 'c.npy'), 4, 0.5, 3);
    const r = await compare(
      [path.join(dir, 'a.npy'), path.join(dir, 'b.npy'), path.join(dir, 'c.npy')],
      {
        threads: 1,
      },
    );
    assert.equal(r.models[0].error, undefined);
    assert.equal(r.models[1].error, undefined);
    // c is measured (its own summary) but not compared: no signature, not in the orderings.
    assert.equal(r.models[2].error, undefined);
    assert.match(
      r.models[2].notComparable ?? '',
      /^measured layers all \(4\); those of a are all \(3\)$/,
    );
    assert.match(r.models[2].signature.explanation, /^not comparable: /);
    assert.ok(Number.isFinite(r.models[2].summary.entropy.median));
    assert.deepEqual([...r.orderings.entropy].sort(), [
      path.join(dir, 'a.npy'),
      path.join(dir, 'b.npy'),
    ]);
    await rejects(
      compare([path.join(dir, 'a.npy'), path.join(dir, 'b.npy')], {
        layers: ['dense_9'],
        threads: 1,
      }).then((x) => {
        throw new UserError(x.models.map((m) => m.error).join(' | '));
      }),
      /unknown layer 'dense_9'/,
    );
  } finally {
    cleanup();
  }
});

void test('Spearman with a metric CSV, and a checkpoint trajectory ordered by step', async () => {
  const { dir, cleanup } = tempDir('memlens-compare-');
  try {
    // MI between neighbouring neurons grows with rho: -0.5 ln(1 - rho^2)
    gaussianDump(path.join(dir, 'step-10.npy'), 3, 0.9, 1, 800);
    gaussianDump(path.join(dir, 'step-2.npy'), 3, 0.3, 2, 800);
    gaussianDump(path.join(dir, 'step-5.npy'), 3, 0.6, 3, 800);
    const csv = path.join(dir, 'metric.csv');
    writeFileSync(csv, 'model,ood\nstep-2,0.9\nstep-5,0.8\nstep-10,0.7\n');
    const r = await compare([path.join(dir, 'step-*.npy')], { metricCsv: csv, threads: 1 });
    assert.deepEqual(
      r.models.map((m) => path.basename(m.path)),
      ['step-2.npy', 'step-5.npy', 'step-10.npy'],
    );
    assert.deepEqual(
      r.models.map((m) => m.metric),
      [0.9, 0.8, 0.7],
    );
    assert.equal(r.correlation?.metric, 'ood');
    assert.equal(r.correlation?.miSpearman, -1);
    assert.deepEqual(
      r.trajectory?.map((t) => t.step),
      [2, 5, 10],
    );
    const mis = r.trajectory?.map((t) => t.miMedian) ?? [];
    assert.ok(mis[0] < mis[1] && mis[1] < mis[2], mis.join(' '));
  } finally {
    cleanup();
  }
});

void test('cancellation stops the whole comparison instead of failing one model', async () => {
  const { dir, cleanup } = tempDir('memlens-compare-');
  try {
    gaussianDump(path.join(dir, 'a.npy'), 3, 0.5, 1);
    gaussianDump(path.join(dir, 'b.npy'), 3, 0.5, 2);
    const abort = new AbortController();
    abort.abort();
    await assert.rejects(
      compare([path.join(dir, 'a.npy'), path.join(dir, 'b.npy')], {
        signal: abort.signal,
        threads: 1,
      }),
      CancelledError,
    );
  } finally {
    cleanup();
  }
});
