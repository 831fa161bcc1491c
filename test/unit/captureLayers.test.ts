import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { fileSystemHandler } from '../../src/core/capture/tfjs/fsHandler';
import { openModel } from '../../src/core/capture/registry';
import {
  affine,
  assertColumns,
  conv2dValid,
  keras2Dense,
  meanOverPositions,
  randn,
  relu,
  probeOf,
  tempDir,
} from '../fixtures/capture/helpers';

const tmp = tempDir();
after(tmp.cleanup);

/** 4 -> dense_a(5, relu) -> dense_b(3, tanh) -> logits(2), weights set from seeded arrays. */
async function saveMlp(dir: string) {
  const w = {
    w1: randn(1, 4, 5),
    b1: randn(2, 1, 5),
    w2: randn(3, 5, 3),
    b2: randn(4, 1, 3),
    w3: randn(5, 3, 2),
    b3: randn(6, 1, 2),
  };
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [4], units: 5, activation: 'relu', name: 'dense_a' }),
      tf.layers.dense({ units: 3, activation: 'tanh', name: 'dense_b' }),
      tf.layers.dropout({ rate: 0.5, name: 'drop' }),
      tf.layers.dense({ units: 2, activation: 'softmax', name: 'logits' }),
    ],
  });
  model.setWeights([
    tf.tensor(w.w1, [4, 5]),
    tf.tensor(w.b1, [5]),
    tf.tensor(w.w2, [5, 3]),
    tf.tensor(w.b2, [3]),
    tf.tensor(w.w3, [3, 2]),
    tf.tensor(w.b3, [2]),
  ]);
  const file = path.join(dir, 'model.json');
  await model.save(fileSystemHandler(file));
  model.dispose();
  return { file, w };
}

void describe('TF.js layers-model capture', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    void it(`matches a hand-written MLP forward pass at both capture points (${backend})`, async () => {
      const { file, w } = await saveMlp(path.join(tmp.dir, `mlp-${backend}`));
      const handle = await openModel(file, { backend });
      assert.equal(handle.backend, backend);
      assert.equal(handle.format, 'tfjs-layers');
      assert.deepEqual(handle.inputShape, [null, 4]);
      assert.deepEqual(
        handle.layers.map((l) => [
          l.name,
          l.type,
          l.outputShape,
          l.activation,
          l.measuredByDefault,
        ]),
        [
          ['dense_a', 'Dense', [null, 5], 'relu', true],
          ['dense_b', 'Dense', [null, 3], 'tanh', true],
          ['drop', 'Dropout', [null, 3], null, false],
          ['logits', 'Dense', [null, 2], 'softmax', false],
        ],
      );
      const S = 23;
      const x = randn(7, S, 4);
      const pre1 = affine(x, w.w1, w.b1, S, 4, 5);
      const out1 = relu(pre1);
      const pre2 = affine(out1, w.w2, w.b2, S, 5, 3);
      const out2 = pre2.map(Math.tanh);

      const pre = await handle.capture(probeOf(x, [S, 4]), { batchSize: 5 });
      assert.deepEqual(pre.acts.layers, [
        { name: 'dense_a', start: 0, end: 5 },
        { name: 'dense_b', start: 5, end: 8 },
      ]);
      assert.deepEqual(
        pre.layers.map((l) => [l.point, l.reduction]),
        [
          ['preactivation', 'none'],
          ['preactivation', 'none'],
        ],
      );
      assertColumns(pre.acts, 0, pre1, 5);
      assertColumns(pre.acts, 5, pre2, 3);

      // Named layers come in the order given; `output` reads the activated values.
      const out = await handle.capture(probeOf(x, [S, 4]), {
        layers: ['dense_b', 'dense_a', 'drop'],
        point: 'output',
      });
      assert.deepEqual(
        out.acts.layers.map((l) => [l.name, l.start, l.end]),
        [
          ['dense_b', 0, 3],
          ['dense_a', 3, 8],
          ['drop', 8, 11],
        ],
      );
      assertColumns(out.acts, 0, out2, 3);
      assertColumns(out.acts, 3, out1, 5);
      assertColumns(out.acts, 8, out2, 3); // dropout is the identity at inference
      handle.dispose();
    });
  }

  void it('reads weights split over several shards and manifest groups', async () => {
    const { file, w } = await saveMlp(path.join(tmp.dir, 'mlp-shards'));
    const dir = path.dirname(file);
    const json = JSON.parse(readFileSync(file, 'utf8')) as {
      weightsManifest: { paths: string[]; weights: { name: string }[] }[];
    };
    const bytes = readFileSync(path.join(dir, 'weights.bin'));
    // Group 1: the first two weights (4x5 + 5 floats = 100 bytes) over two shards; group 2: the rest.
    const [all] = json.weightsManifest;
    writeFileSync(path.join(dir, 'g1-a.bin'), bytes.subarray(0, 37));
    writeFileSync(path.join(dir, 'g1-b.bin'), bytes.subarray(37, 100));
    writeFileSync(path.join(dir, 'g2.bin'), bytes.subarray(100));
    json.weightsManifest = [
      { paths: ['g1-a.bin', 'g1-b.bin'], weights: all.weights.slice(0, 2) },
      { paths: ['g2.bin'], weights: all.weights.slice(2) },
    ];
    writeFileSync(file, JSON.stringify(json));
    const handle = await openModel(file, { backend: 'cpu' });
    const S = 6;
    const x = randn(9, S, 4);
    const r = await handle.capture(probeOf(x, [S, 4]), { layers: ['dense_a'] });
    assertColumns(r.acts, 0, affine(x, w.w1, w.b1, S, 4, 5), 5);
    handle.dispose();
  });

  void it('reads a Keras-converted model.json (model_config wrapper, snake_case config, weight names)', async () => {
    const dir = path.join(tmp.dir, 'keras');
    const w1 = randn(71, 3, 4);
    const b1 = randn(72, 1, 4);
    const w2 = randn(73, 4, 2);
    const b2 = randn(74, 1, 2);
    const dense = (name: string, units: number, activation: string) =>
      keras2Dense(name, units, activation);
    const json = {
      format: 'layers-model',
      generatedBy: 'keras v2.15.0',
      convertedBy: 'TensorFlow.js Converter v4.22.0',
      modelTopology: {
        keras_version: '2.15.0',
        backend: 'tensorflow',
        model_config: {
          class_name: 'Sequential',
          config: {
            name: 'sequential',
            layers: [
              {
                class_name: 'InputLayer',
                config: {
                  batch_input_shape: [null, 3],
                  dtype: 'float32',
                  sparse: false,
                  ragged: false,
                  name: 'dense_input',
                },
              },
              dense('dense', 4, 'elu'),
              dense('dense_1', 2, 'softmax'),
            ],
          },
        },
      },
      weightsManifest: [
        {
          paths: ['group1-shard1of1.bin'],
          weights: [
            { name: 'dense/kernel', shape: [3, 4], dtype: 'float32' },
            { name: 'dense/bias', shape: [4], dtype: 'float32' },
            { name: 'dense_1/kernel', shape: [4, 2], dtype: 'float32' },
            { name: 'dense_1/bias', shape: [2], dtype: 'float32' },
          ],
        },
      ],
    };
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    writeFileSync(
      path.join(dir, 'group1-shard1of1.bin'),
      Buffer.concat([w1, b1, w2, b2].map((a) => Buffer.from(a.buffer))),
    );
    const handle = await openModel(dir, { backend: 'wasm' });
    assert.deepEqual(
      handle.layers.map((l) => [l.name, l.activation, l.measuredByDefault]),
      [
        ['dense', 'elu', true],
        ['dense_1', 'softmax', false],
      ],
    );
    const S = 8;
    const x = randn(75, S, 3);
    const pre = affine(x, w1, b1, S, 3, 4);
    const r = await handle.capture(probeOf(x, [S, 3]));
    assertColumns(r.acts, 0, pre, 4);
    const o = await handle.capture(probeOf(x, [S, 3]), { point: 'output' });
    assertColumns(
      o.acts,
      0,
      pre.map((v) => (v > 0 ? v : Math.expm1(v))),
      4,
    );
    handle.dispose();
  });

  void it('feeds integer token ids to an Embedding model; embeddings are not measured by default', async () => {
    const dir = path.join(tmp.dir, 'emb');
    const [V, T, D, U] = [7, 3, 4, 2];
    const table = randn(81, V, D);
    const w1 = randn(82, D, U);
    const b1 = randn(83, 1, U);
    const model = tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: V, outputDim: D, inputLength: T, name: 'emb' }),
        tf.layers.dense({ units: U, activation: 'relu', name: 'tok' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 1, name: 'head' }),
      ],
    });
    model.layers[0].setWeights([tf.tensor(table, [V, D])]);
    model.layers[1].setWeights([tf.tensor(w1, [D, U]), tf.tensor(b1, [U])]);
    await model.save(fileSystemHandler(path.join(dir, 'model.json')));
    const handle = await openModel(dir, { backend: 'wasm' });
    assert.deepEqual(
      handle.layers.filter((l) => l.measuredByDefault).map((l) => l.name),
      ['tok'],
    );
    const ids = [
      [3, 1, 0],
      [6, 6, 2],
      [0, 5, 4],
    ];
    const r = await handle.capture(probeOf(Float32Array.from(ids.flat()), [3, T]));
    const firstTokens = Float32Array.from(
      ids.flatMap((row) => Array.from(table.subarray(row[0] * D, row[0] * D + D))),
    );
    assertColumns(r.acts, 0, affine(firstTokens, w1, b1, 3, D, U), U);
    handle.dispose();
  });

  void it('treats logits followed only by parameter-free layers as the head, not a hidden layer', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 4, activation: 'relu', name: 'hidden' }),
        tf.layers.dense({ units: 2, name: 'logits' }),
        tf.layers.dropout({ rate: 0.1, name: 'drop' }),
        tf.layers.activation({ activation: 'softmax', name: 'probs' }),
      ],
    });
    const dir = path.join(tmp.dir, 'head');
    await model.save(fileSystemHandler(path.join(dir, 'model.json')));
    model.dispose();
    const handle = await openModel(dir, { backend: 'cpu' });
    assert.deepEqual(
      handle.layers.map((l) => [l.name, l.measuredByDefault]),
      [
        ['hidden', true],
        ['logits', false],
        ['drop', false],
        ['probs', false],
      ],
    );
    handle.dispose();
  });

  void it('captures a functional model with a residual branch', async () => {
    const w1 = randn(91, 4, 4);
    const b1 = randn(92, 1, 4);
    const w2 = randn(93, 4, 4);
    const b2 = randn(94, 1, 4);
    const input = tf.input({ shape: [4], name: 'x' });
    const d1 = tf.layers.dense({ units: 4, activation: 'relu', name: 'd1' });
    const d2 = tf.layers.dense({ units: 4, activation: 'relu', name: 'd2' });
    const h1 = d1.apply(input) as tf.SymbolicTensor;
    const h2 = d2.apply(h1) as tf.SymbolicTensor;
    const sum = tf.layers.add({ name: 'res' }).apply([h1, h2]) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2, name: 'out' }).apply(sum) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    d1.setWeights([tf.tensor(w1, [4, 4]), tf.tensor(b1, [4])]);
    d2.setWeights([tf.tensor(w2, [4, 4]), tf.tensor(b2, [4])]);
    const dir = path.join(tmp.dir, 'residual');
    await model.save(fileSystemHandler(path.join(dir, 'model.json')));
    const handle = await openModel(dir, { backend: 'wasm' });
    assert.deepEqual(
      handle.layers.map((l) => [l.name, l.type, l.measuredByDefault]),
      [
        ['d1', 'Dense', true],
        ['d2', 'Dense', true],
        ['res', 'Add', false],
        ['out', 'Dense', false],
      ],
    );
    const S = 12;
    const x = randn(95, S, 4);
    const pre1 = affine(x, w1, b1, S, 4, 4);
    const pre2 = affine(relu(pre1), w2, b2, S, 4, 4);
    const res = relu(pre1).map((v, i) => v + relu(pre2)[i]);
    const r = await handle.capture(probeOf(x, [S, 4]), { layers: ['d1', 'd2', 'res'] });
    assertColumns(r.acts, 0, pre1, 4);
    assertColumns(r.acts, 4, pre2, 4);
    assertColumns(r.acts, 8, res, 4);
    handle.dispose();
  });

  void it('captures the layers of a nested model (a Sequential inside a functional model)', async () => {
    const w1 = randn(101, 4, 6);
    const b1 = randn(102, 1, 6);
    const w2 = randn(103, 6, 3);
    const b2 = randn(104, 1, 3);
    const backbone = tf.sequential({
      name: 'backbone',
      layers: [
        tf.layers.dense({ inputShape: [4], units: 6, activation: 'relu', name: 'inner_a' }),
        tf.layers.dense({ units: 3, activation: 'tanh', name: 'inner_b' }),
      ],
    });
    backbone.setWeights([
      tf.tensor(w1, [4, 6]),
      tf.tensor(b1, [6]),
      tf.tensor(w2, [6, 3]),
      tf.tensor(b2, [3]),
    ]);
    const input = tf.input({ shape: [4], name: 'x' });
    const features = backbone.apply(input) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2, name: 'head' }).apply(features) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const dir = path.join(tmp.dir, 'nested');
    await model.save(fileSystemHandler(path.join(dir, 'model.json')));
    model.dispose();
    const handle = await openModel(dir, { backend: 'cpu' });
    try {
      assert.deepEqual(
        handle.layers.map((l) => [l.name, l.activation, l.measuredByDefault]),
        [
          ['inner_a', 'relu', true],
          ['inner_b', 'tanh', true],
          ['head', null, false],
        ],
      );
      const S = 17;
      const x = randn(105, S, 4);
      const pre1 = affine(x, w1, b1, S, 4, 6);
      const pre2 = affine(relu(pre1), w2, b2, S, 6, 3);
      const r = await handle.capture(probeOf(x, [S, 4]));
      assertColumns(r.acts, 0, pre1, 6);
      assertColumns(r.acts, 6, pre2, 3);
      const o = await handle.capture(probeOf(x, [S, 4]), { layers: ['inner_b'], point: 'output' });
      assertColumns(o.acts, 0, pre2.map(Math.tanh), 3);
    } finally {
      handle.dispose();
    }
  });

  void it('feeds the named input of a two-input model and fills the mask input with ones', async () => {
    const w = randn(111, 4, 3);
    const b = randn(112, 1, 3);
    const x = tf.input({ shape: [4], name: 'pixels' });
    const mask = tf.input({ shape: [3], name: 'padding_mask' });
    const dense = tf.layers.dense({ units: 3, activation: 'relu', name: 'hidden' });
    const h = dense.apply(x) as tf.SymbolicTensor;
    const masked = tf.layers.multiply({ name: 'masked' }).apply([h, mask]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [x, mask], outputs: masked });
    dense.setWeights([tf.tensor(w, [4, 3]), tf.tensor(b, [3])]);
    const dir = path.join(tmp.dir, 'two-inputs');
    await model.save(fileSystemHandler(path.join(dir, 'model.json')));
    model.dispose();
    const handle = await openModel(dir, { backend: 'cpu', input: 'pixels' });
    try {
      const S = 9;
      const probe = randn(113, S, 4);
      const warnings: string[] = [];
      const r = await handle.capture(probeOf(probe, [S, 4]), {
        layers: ['hidden', 'masked'],
        onWarning: (m) => warnings.push(m),
      });
      const pre = affine(probe, w, b, S, 4, 3);
      assertColumns(r.acts, 0, pre, 3);
      assertColumns(r.acts, 3, relu(pre), 3);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /the probe feeds input 'pixels'; 'padding_mask' gets ones$/);
    } finally {
      handle.dispose();
    }
  });

  void it('loads a layer shared by two calls; capturing it is refused by name', async () => {
    const w = randn(101, 4, 4);
    const b = randn(102, 1, 4);
    const wo = randn(103, 4, 2);
    const bo = randn(104, 1, 2);
    const input = tf.input({ shape: [4] });
    const shared = tf.layers.dense({ units: 4, activation: 'relu', name: 'shared' });
    const a = shared.apply(input) as tf.SymbolicTensor;
    const twice = shared.apply(a) as tf.SymbolicTensor;
    const sum = tf.layers.add({ name: 'sum' }).apply([a, twice]) as tf.SymbolicTensor;
    const outLayer = tf.layers.dense({ units: 2, activation: 'softmax', name: 'out' });
    const model = tf.model({ inputs: input, outputs: outLayer.apply(sum) as tf.SymbolicTensor });
    shared.setWeights([tf.tensor(w, [4, 4]), tf.tensor(b, [4])]);
    outLayer.setWeights([tf.tensor(wo, [4, 2]), tf.tensor(bo, [2])]);
    const dir = path.join(tmp.dir, 'shared');
    await model.save(fileSystemHandler(path.join(dir, 'model.json')));
    const handle = await openModel(dir, { backend: 'cpu' });
    const S = 7;
    const x = randn(105, S, 4);
    const h1 = relu(affine(x, w, b, S, 4, 4));
    const h2 = relu(affine(h1, w, b, S, 4, 4));
    const r = await handle.capture(probeOf(x, [S, 4]), { layers: ['sum', 'out'] });
    assertColumns(
      r.acts,
      0,
      h1.map((v, i) => v + h2[i]),
      4,
    );
    assertColumns(
      r.acts,
      4,
      affine(
        h1.map((v, i) => v + h2[i]),
        wo,
        bo,
        S,
        4,
        2,
      ),
      2,
    );
    // The softmax output layer (split in two inside) still gives probabilities at `output`.
    const logits = affine(
      h1.map((v, i) => v + h2[i]),
      wo,
      bo,
      S,
      4,
      2,
    );
    const probs = logits.map((v, i) => {
      const row = i - (i % 2);
      return Math.exp(v) / (Math.exp(logits[row]) + Math.exp(logits[row + 1]));
    });
    const o = await handle.capture(probeOf(x, [S, 4]), { layers: ['out'], point: 'output' });
    assertColumns(o.acts, 0, probs, 2);
    assert.deepEqual(
      handle.layers.map((l) => [l.name, l.activation, l.measuredByDefault]),
      [
        ['shared', 'relu', false],
        ['sum', null, false],
        ['out', 'softmax', false],
      ],
    );
    await assert.rejects(
      handle.capture(probeOf(x, [S, 4]), { layers: ['shared'] }),
      /layer 'shared' is called more than once in the model/,
    );
    handle.dispose();
  });

  void it('keeps no tensors beyond the result, whatever the batch size', async () => {
    const { file } = await saveMlp(path.join(tmp.dir, 'mlp-mem'));
    const handle = await openModel(file, { backend: 'cpu' });
    const x = randn(8, 50, 4);
    await handle.capture(probeOf(x, [50, 4]), { batchSize: 7 });
    const before = tf.memory().numTensors;
    await handle.capture(probeOf(x, [50, 4]), { batchSize: 7 });
    await handle.capture(probeOf(x, [50, 4]), { batchSize: 50, point: 'output' });
    assert.equal(tf.memory().numTensors, before);
    handle.dispose();
  });

  void it('reads the value before a separate Activation layer as its pre-activation', async () => {
    const dir = path.join(tmp.dir, 'act');
    const w1 = randn(11, 3, 4);
    const b1 = randn(12, 1, 4);
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 4, name: 'lin' }),
        tf.layers.activation({ activation: 'relu', name: 'act' }),
        tf.layers.dense({ units: 2, name: 'head' }),
      ],
    });
    model.layers[0].setWeights([tf.tensor(w1, [3, 4]), tf.tensor(b1, [4])]);
    await model.save(fileSystemHandler(path.join(dir, 'model.json')));
    const handle = await openModel(dir, { backend: 'cpu' });
    // Parameter-free layers (the Activation) are not measured by default; named, they are.
    assert.deepEqual(
      handle.layers.map((l) => [l.name, l.measuredByDefault]),
      [
        ['lin', true],
        ['act', false],
        ['head', false],
      ],
    );
    const S = 9;
    const x = randn(13, S, 3);
    const lin = affine(x, w1, b1, S, 3, 4);
    const r = await handle.capture(probeOf(x, [S, 3]), { layers: ['act'] });
    assert.equal(r.layers[0].point, 'preactivation');
    assertColumns(r.acts, 0, lin, 4);
    const o = await handle.capture(probeOf(x, [S, 3]), { layers: ['act'], point: 'output' });
    assertColumns(o.acts, 0, relu(lin), 4);
    handle.dispose();
  });

  void it('global-average-pools conv feature maps per channel, before and after the ReLU', async () => {
    const dir = path.join(tmp.dir, 'conv');
    const [H, W, C, F] = [6, 5, 2, 3];
    const kernel = randn(21, 3 * 3 * C, F);
    const bias = randn(22, 1, F);
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [H, W, C],
          filters: F,
          kernelSize: 3,
          activation: 'relu',
          name: 'conv',
        }),
        tf.layers.flatten({ name: 'flat' }),
        tf.layers.dense({ units: 2, name: 'out' }),
      ],
    });
    model.layers[0].setWeights([tf.tensor(kernel, [3, 3, C, F]), tf.tensor(bias, [F])]);
    await model.save(fileSystemHandler(path.join(dir, 'model.json')));
    const handle = await openModel(path.join(dir, 'model.json'), { backend: 'wasm' });
    assert.deepEqual(handle.layers[0].outputShape, [null, 4, 3, F]);
    const S = 6;
    const x = randn(23, S, H * W * C);
    const conv = conv2dValid(x, S, H, W, C, kernel, 3, 3, F, bias);
    const positions = conv.oh * conv.ow;
    // The probe is given flat (S x 60): it is reshaped to the model's [6, 5, 2] input.
    const pre = await handle.capture(probeOf(x, [S, H * W * C]), { layers: ['conv'] });
    assert.equal(pre.layers[0].reduction, 'global-average-pool');
    assertColumns(pre.acts, 0, meanOverPositions(conv.data, S, positions, F), F);
    const out = await handle.capture(probeOf(x, [S, H * W * C]), {
      layers: ['conv'],
      point: 'output',
    });
    assertColumns(out.acts, 0, meanOverPositions(relu(conv.data), S, positions, F), F);
    handle.dispose();
  });

  void it('global-average-pools channels-first conv maps over their spatial axes', async () => {
    const dir = path.join(tmp.dir, 'conv-nchw');
    const [H, W, C, F] = [5, 4, 2, 3];
    const kernel = randn(24, 2 * 2 * C, F);
    const bias = randn(25, 1, F);
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [C, H, W],
          filters: F,
          kernelSize: 2,
          dataFormat: 'channelsFirst',
          activation: 'relu',
          name: 'conv',
        }),
        tf.layers.flatten({ name: 'flat' }),
        tf.layers.dense({ units: 2, name: 'out' }),
      ],
    });
    model.layers[0].setWeights([tf.tensor(kernel, [2, 2, C, F]), tf.tensor(bias, [F])]);
    await model.save(fileSystemHandler(path.join(dir, 'model.json')));
    const handle = await openModel(dir, { backend: 'cpu' });
    assert.deepEqual(handle.layers[0].outputShape, [null, F, 4, 3]);
    const S = 4;
    const nhwc = randn(26, S, H * W * C);
    // The same images laid out channels first for the model.
    const nchw = new Float32Array(nhwc.length);
    for (let s = 0; s < S; s++)
      for (let y = 0; y < H; y++)
        for (let xx = 0; xx < W; xx++)
          for (let c = 0; c < C; c++)
            nchw[((s * C + c) * H + y) * W + xx] = nhwc[((s * H + y) * W + xx) * C + c];
    const conv = conv2dValid(nhwc, S, H, W, C, kernel, 2, 2, F, bias);
    const r = await handle.capture(probeOf(nchw, [S, C, H, W]), { layers: ['conv'] });
    assertColumns(r.acts, 0, meanOverPositions(conv.data, S, conv.oh * conv.ow, F), F);
    handle.dispose();
  });

  void it('reduces sequence outputs to the first token, or the mean over tokens', async () => {
    const dir = path.join(tmp.dir, 'seq');
    const [T, D, U] = [4, 3, 2];
    const w1 = randn(31, D, U);
    const b1 = randn(32, 1, U);
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [T, D], units: U, activation: 'relu', name: 'tok' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 1, name: 'o' }),
      ],
    });
    model.layers[0].setWeights([tf.tensor(w1, [D, U]), tf.tensor(b1, [U])]);
    await model.save(fileSystemHandler(path.join(dir, 'model.json')));
    const handle = await openModel(dir, { backend: 'cpu' });
    const S = 5;
    const x = randn(33, S, T * D);
    const perToken = affine(x, w1, b1, S * T, D, U); // (S*T) x U
    const first = new Float64Array(S * U);
    for (let s = 0; s < S; s++)
      for (let u = 0; u < U; u++) first[s * U + u] = perToken[s * T * U + u];
    const mean = meanOverPositions(perToken, S, T, U);
    const a = await handle.capture(probeOf(x, [S, T, D]), { layers: ['tok'] });
    assert.equal(a.layers[0].reduction, 'first-token');
    assertColumns(a.acts, 0, first, U);
    const b = await handle.capture(probeOf(x, [S, T, D]), { layers: ['tok'], sequence: 'mean' });
    assert.equal(b.layers[0].reduction, 'mean-tokens');
    assertColumns(b.acts, 0, mean, U);
    handle.dispose();
  });
});

void describe('TF.js layers-model with a broken input dtype', () => {
  void it('refuses an input layer whose dtype is not one name, in one line (fuzz seed 20261203)', async () => {
    for (const [dtype, shown] of [
      [['float32'], '["float32"]'],
      ['int32int32', '"int32int32"'],
    ] as const) {
      const { file } = await saveMlp(path.join(tmp.dir, `dtype-${shown.length}`));
      const json = JSON.parse(readFileSync(file, 'utf8')) as {
        modelTopology: { config: { layers: { config: Record<string, unknown> }[] } };
      };
      // A Sequential's first layer carries its input's dtype.
      json.modelTopology.config.layers[0].config.dtype = dtype;
      writeFileSync(file, JSON.stringify(json));
      await assert.rejects(
        openModel(file, { backend: 'cpu' }),
        (err: unknown) =>
          err instanceof Error &&
          err.name === 'UserError' &&
          err.message ===
            `${file}: input 'dense_a_input' has dtype ${shown}: expected one of float32, int32, bool`,
      );
    }
  });
});
