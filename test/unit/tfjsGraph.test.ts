import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { openModel } from '../../src/core/capture/registry';
import { UserError } from '../../src/core/errors';
import type { ProbeSet } from '../../src/core/probe/types';
import type { NodeSpec } from '../fixtures/capture/helpers';
import {
  affine,
  assertColumns,
  conv2dValid,
  graphNodes as g,
  meanOverPositions,
  randn,
  relu,
  probeOf,
  tempDir,
  writeGraphModel,
} from '../fixtures/capture/helpers';

const tmp = tempDir();
after(tmp.cleanup);

const w1 = randn(41, 4, 3);
const b1 = randn(42, 1, 3);
const w2 = randn(43, 3, 2);
const b2 = randn(44, 1, 2);
const weights = [
  { name: 'W1', shape: [4, 3], data: w1 },
  { name: 'b1', shape: [3], data: b1 },
  { name: 'W2', shape: [3, 2], data: w2 },
  { name: 'b2', shape: [2], data: b2 },
];
const consts = [
  g.constant('W1', [4, 3]),
  g.constant('b1', [3]),
  g.constant('W2', [3, 2]),
  g.constant('b2', [2]),
];

/** x -> MatMul/BiasAdd/<act> -> MatMul/BiasAdd (logits) -> Softmax, written by hand. */
function mlpGraph(dir: string, fused: boolean, act = 'Relu'): string {
  const hidden = fused
    ? [g.fusedMatMul('dense/Act', 'x', 'W1', 'b1', act)]
    : [
        g.matMul('dense/MatMul', 'x', 'W1'),
        g.biasAdd('dense/BiasAdd', 'dense/MatMul', 'b1'),
        g.unary('dense/Act', act, 'dense/BiasAdd'),
      ];
  return writeGraphModel(
    dir,
    [
      g.placeholder('x', [-1, 4]),
      ...consts,
      ...hidden,
      g.matMul('logits/MatMul', 'dense/Act', 'W2'),
      g.biasAdd('logits/BiasAdd', 'logits/MatMul', 'b2'),
      g.unary('probs', 'Softmax', 'logits/BiasAdd'),
    ],
    weights,
  );
}

void describe('TF.js graph-model capture', () => {
  const S = 17;
  const x = randn(45, S, 4);
  const pre = affine(x, w1, b1, S, 4, 3);

  for (const fused of [false, true]) {
    void it(`captures the node feeding the activation and the activation itself (${fused ? '_FusedMatMul' : 'MatMul/BiasAdd/Relu'})`, async () => {
      const file = mlpGraph(path.join(tmp.dir, fused ? 'fused' : 'plain'), fused);
      const handle = await openModel(file, { backend: 'wasm' });
      assert.equal(handle.format, 'tfjs-graph');
      assert.deepEqual(handle.inputShape, [null, 4]);
      const act = handle.layers.find((l) => l.name === 'dense/Act');
      assert.deepEqual(act, {
        name: 'dense/Act',
        type: fused ? '_FusedMatMul' : 'Relu',
        outputShape: [null, 3],
        activation: 'relu',
        measuredByDefault: true,
      });
      // Only the hidden activation is measured by default: not the logits, not the softmax output.
      assert.deepEqual(
        handle.layers.filter((l) => l.measuredByDefault).map((l) => l.name),
        ['dense/Act'],
      );
      const a = await handle.capture(probeOf(x, [S, 4]), { batchSize: 4 });
      assert.deepEqual(a.acts.layers, [{ name: 'dense/Act', start: 0, end: 3 }]);
      assert.equal(a.layers[0].point, 'preactivation');
      assertColumns(a.acts, 0, pre, 3);
      const b = await handle.capture(probeOf(x, [S, 4]), {
        point: 'output',
        layers: ['dense/Act', 'logits/BiasAdd'],
      });
      assertColumns(b.acts, 0, relu(pre), 3);
      assertColumns(b.acts, 3, affine(relu(pre), w2, b2, S, 3, 2), 2);
      handle.dispose();
    });
  }

  for (const [act, fn] of [
    ['Sigmoid', (v: number) => 1 / (1 + Math.exp(-v))],
    ['LeakyRelu', (v: number) => (v > 0 ? v : 0.3 * v)],
  ] as const) {
    void it(`splits a fused ${act} into the linear node and the activation`, async () => {
      const file = mlpGraph(path.join(tmp.dir, act), true, act);
      if (act === 'LeakyRelu') {
        const json = JSON.parse(readFileSync(file, 'utf8')) as {
          modelTopology: { node: NodeSpec[] };
        };
        const node = json.modelTopology.node.find((n) => n.name === 'dense/Act')!;
        node.attr = { ...node.attr, leakyrelu_alpha: { f: 0.3 } };
        writeFileSync(file, JSON.stringify(json));
      }
      const handle = await openModel(file, { backend: 'cpu' });
      assert.equal(
        handle.layers.find((l) => l.name === 'dense/Act')?.activation,
        act.toLowerCase(),
      );
      const a = await handle.capture(probeOf(x, [S, 4]));
      assertColumns(a.acts, 0, pre, 3);
      const b = await handle.capture(probeOf(x, [S, 4]), { point: 'output' });
      assertColumns(b.acts, 0, pre.map(fn), 3);
      handle.dispose();
    });
  }

  void it('global-average-pools a conv node (NHWC)', async () => {
    const [H, W, C, F] = [5, 5, 2, 4];
    const k = randn(51, 2 * 2 * C, F);
    const bias = randn(52, 1, F);
    const file = writeGraphModel(
      path.join(tmp.dir, 'conv'),
      [
        g.placeholder('img', [-1, H, W, C]),
        g.constant('K', [2, 2, C, F]),
        g.constant('cb', [F]),
        g.conv2d('conv/Conv2D', 'img', 'K'),
        g.biasAdd('conv/BiasAdd', 'conv/Conv2D', 'cb'),
        g.unary('conv/Relu', 'Relu', 'conv/BiasAdd'),
        g.unary('out', 'Sigmoid', 'conv/Relu'),
      ],
      [
        { name: 'K', shape: [2, 2, C, F], data: k },
        { name: 'cb', shape: [F], data: bias },
      ],
    );
    const handle = await openModel(file, { backend: 'wasm' });
    assert.deepEqual(handle.layers.find((l) => l.name === 'conv/Relu')?.outputShape, [
      null,
      4,
      4,
      F,
    ]);
    const S = 3;
    const xs = randn(53, S, H * W * C);
    const conv = conv2dValid(xs, S, H, W, C, k, 2, 2, F, bias);
    const a = await handle.capture(probeOf(xs, [S, H, W, C]), { layers: ['conv/Relu'] });
    assert.equal(a.layers[0].reduction, 'global-average-pool');
    assertColumns(a.acts, 0, meanOverPositions(conv.data, S, 16, F), F);
    const before = tf.memory().numTensors;
    const b = await handle.capture(probeOf(xs, [S, H, W, C]), {
      layers: ['conv/Relu'],
      point: 'output',
      batchSize: 2,
    });
    assert.equal(tf.memory().numTensors, before, 'no tensor outlives the capture');
    assertColumns(b.acts, 0, meanOverPositions(relu(conv.data), S, 16, F), F);
    handle.dispose();
  });

  void it('sizes the batches of a graph with dynamic H and W from one pass at the probe size', async () => {
    // img [?, ?, ?, 1] -> 1x1 Conv2D (16 filters) + bias: on 512 x 512 inputs each example's
    // conv output is 16 MiB, so 4 fit the 64 MiB budget (the input alone, 1 MiB, would let all
    // 10 run at once). Pooled, each value is k[f] * mean(x) + b[f].
    const F = 16;
    const k = randn(54, 1, F);
    const bias = randn(55, 1, F);
    const file = writeGraphModel(
      path.join(tmp.dir, 'conv-dynamic'),
      [
        g.placeholder('img', [-1, -1, -1, 1]),
        g.constant('K', [1, 1, 1, F]),
        g.constant('cb', [F]),
        g.conv2d('conv/Conv2D', 'img', 'K'),
        g.biasAdd('conv/BiasAdd', 'conv/Conv2D', 'cb'),
        g.unary('out', 'Relu', 'conv/BiasAdd'),
      ],
      [
        { name: 'K', shape: [1, 1, 1, F], data: k },
        { name: 'cb', shape: [F], data: bias },
      ],
    );
    const handle = await openModel(file, { backend: 'cpu' });
    try {
      const S = 10;
      const side = 512;
      const xs = randn(56, S, side * side);
      const done: number[] = [];
      const r = await handle.capture(probeOf(xs, [S, side, side, 1]), {
        layers: ['out'],
        onProgress: (p) => {
          if (p.stage === 'capture') done.push(p.done);
        },
      });
      assert.deepEqual(done, [4, 8, 10]);
      const want = new Float64Array(S * F);
      for (let s = 0; s < S; s++) {
        let mean = 0;
        for (let i = 0; i < side * side; i++) mean += xs[s * side * side + i];
        mean /= side * side;
        for (let f = 0; f < F; f++) want[s * F + f] = k[f] * mean + bias[f];
      }
      assertColumns(r.acts, 0, want, F, 1e-4);
    } finally {
      handle.dispose();
    }
  });

  void it('moves to cpu when the wasm backend lacks a kernel (Einsum), and says so', async () => {
    const einsum = {
      name: 'dense/Einsum',
      op: 'Einsum',
      input: ['x', 'W1'],
      attr: {
        equation: { s: Buffer.from('ij,jk->ik').toString('base64') },
        N: { i: '2' },
        T: { type: 'DT_FLOAT' },
      },
    };
    const file = writeGraphModel(
      path.join(tmp.dir, 'einsum'),
      [
        g.placeholder('x', [-1, 4]),
        ...consts,
        einsum,
        g.biasAdd('dense/BiasAdd', 'dense/Einsum', 'b1'),
        g.unary('dense/Act', 'Relu', 'dense/BiasAdd'),
        g.matMul('logits', 'dense/Act', 'W2'),
      ],
      weights,
    );
    const warnings: string[] = [];
    const handle = await openModel(file, { backend: 'wasm', onWarning: (m) => warnings.push(m) });
    assert.equal(handle.backend, 'cpu');
    assert.match(warnings[0], /the wasm backend has no Einsum kernel: running on cpu instead/);
    const a = await handle.capture(probeOf(x, [S, 4]));
    assert.equal(a.backend, 'cpu');
    assertColumns(a.acts, 0, pre, 3);
    handle.dispose();
  });

  void it('reads uint8-quantized weights (value = q * scale + min)', async () => {
    const file = mlpGraph(path.join(tmp.dir, 'quant'), false);
    const json = JSON.parse(readFileSync(file, 'utf8')) as {
      weightsManifest: { paths: string[]; weights: Record<string, unknown>[] }[];
    };
    // W1 as 12 uint8 codes with scale 0.05 and min -0.3; the other weights stay float32.
    const codes = Uint8Array.from({ length: 12 }, (_, i) => (i * 37) % 256);
    const w1q = Float32Array.from(codes, (q) => q * 0.05 - 0.3);
    json.weightsManifest[0].weights[0].quantization = { dtype: 'uint8', scale: 0.05, min: -0.3 };
    const rest = [b1, w2, b2].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    writeFileSync(
      path.join(path.dirname(file), 'weights.bin'),
      Buffer.concat([Buffer.from(codes), ...rest]),
    );
    writeFileSync(file, JSON.stringify(json));
    const handle = await openModel(file, { backend: 'cpu' });
    const r = await handle.capture(probeOf(x, [S, 4]));
    assertColumns(r.acts, 0, affine(x, w1q, b1, S, 4, 3), 3);
    handle.dispose();
    // One byte short of the 12 + 4 * (3 + 6 + 2) bytes needed.
    writeFileSync(
      path.join(path.dirname(file), 'weights.bin'),
      Buffer.concat([Buffer.from(codes.subarray(1)), ...rest]),
    );
    await assert.rejects(
      openModel(file, { backend: 'cpu' }),
      /are short: expected 56 bytes for 4 weights, found 55/,
    );
  });

  void it('switches to executeAsync for graphs with dynamic ops (Where)', async () => {
    const file = writeGraphModel(
      path.join(tmp.dir, 'dynamic'),
      [
        g.placeholder('x', [-1, 4]),
        ...consts,
        g.constant('zero', []),
        g.matMul('dense/MatMul', 'x', 'W1'),
        g.biasAdd('dense/BiasAdd', 'dense/MatMul', 'b1'),
        g.unary('dense/Act', 'Relu', 'dense/BiasAdd'),
        {
          name: 'positive',
          op: 'Greater',
          input: ['dense/Act', 'zero'],
          attr: { T: { type: 'DT_FLOAT' } },
        },
        { name: 'where', op: 'Where', input: ['positive'], attr: { T: { type: 'DT_BOOL' } } },
      ],
      [...weights, { name: 'zero', shape: [], data: Float32Array.from([0]) }],
    );
    const handle = await openModel(file, { backend: 'cpu' });
    // The listing pass fetched every node, Where included: only executeAsync runs it.
    assert.deepEqual(handle.layers.find((l) => l.name === 'where')?.outputShape.length, 2);
    const a = await handle.capture(probeOf(x, [S, 4]));
    assertColumns(a.acts, 0, pre, 3);
    handle.dispose();
  });

  void it('does not measure the output activation behind an Identity (a converted sigmoid head)', async () => {
    const file = writeGraphModel(
      path.join(tmp.dir, 'sigmoid-head'),
      [
        g.placeholder('x', [-1, 4]),
        ...consts,
        g.fusedMatMul('hidden/Relu', 'x', 'W1', 'b1', 'Relu'),
        g.matMul('head/MatMul', 'hidden/Relu', 'W2'),
        g.biasAdd('head/BiasAdd', 'head/MatMul', 'b2'),
        g.unary('head/Sigmoid', 'Sigmoid', 'head/BiasAdd'),
        g.unary('Identity', 'Identity', 'head/Sigmoid'),
      ],
      weights,
    );
    const handle = await openModel(file, { backend: 'cpu' });
    assert.deepEqual(
      handle.layers.filter((l) => l.activation !== null).map((l) => [l.name, l.measuredByDefault]),
      [
        ['hidden/Relu', true],
        ['head/Sigmoid', false],
      ],
    );
    handle.dispose();
  });

  void it('refuses non-finite activations from a finite probe, naming the layer, the example and the model', async () => {
    const file = writeGraphModel(
      path.join(tmp.dir, 'log'),
      [g.placeholder('x', [-1, 2]), g.unary('log', 'Log', 'x'), g.unary('out', 'Relu', 'log')],
      [],
    );
    const handle = await openModel(file, { backend: 'cpu' });
    const probe: ProbeSet = {
      source: 'p.csv',
      shape: [3, 2],
      data: Float32Array.from([1, 2, 3, -4, 5, 6]),
      sampleIndices: [10, 20, 30],
    };
    await assert.rejects(
      handle.capture(probe, { layers: ['log'] }),
      (e: unknown) =>
        e instanceof UserError &&
        e.message.startsWith(`${file}: `) &&
        /layer 'log' produced NaN on probe example 20 \(neuron 1\) from finite probe values: the model computes it \(its weights are finite/.test(
          e.message,
        ),
    );
    handle.dispose();
  });

  void it('names an unsupported op and a dangling input', async () => {
    const bad = writeGraphModel(
      path.join(tmp.dir, 'badop'),
      [g.placeholder('x', [-1, 4]), ...consts, g.unary('weird', 'FancyOp', 'x')],
      weights,
    );
    await assert.rejects(
      openModel(bad, { backend: 'cpu' }),
      (e: unknown) => e instanceof UserError && /unsupported graph op 'FancyOp'/.test(e.message),
    );
    const dangling = writeGraphModel(
      path.join(tmp.dir, 'dangling'),
      [g.placeholder('x', [-1, 4]), g.unary('r', 'Relu', 'nothere')],
      [],
    );
    await assert.rejects(
      openModel(dangling, { backend: 'cpu' }),
      (e: unknown) => e instanceof UserError && /'nothere', which is not a node/.test(e.message),
    );
  });
});

void describe('TF.js graph-model with two inputs', () => {
  // x -> fused MatMul+Relu -> * attention_mask -> logits: the mask, filled with ones, must
  // leave the hidden values as they are.
  const file = () =>
    writeGraphModel(
      path.join(tmp.dir, 'two-inputs'),
      [
        g.placeholder('x', [-1, 4]),
        g.placeholder('attention_mask', [-1, 3]),
        ...consts,
        g.fusedMatMul('dense/Act', 'x', 'W1', 'b1', 'Relu'),
        {
          name: 'masked',
          op: 'Mul',
          input: ['dense/Act', 'attention_mask'],
          attr: { T: { type: 'DT_FLOAT' } },
        },
        g.matMul('logits/MatMul', 'masked', 'W2'),
        g.biasAdd('logits/BiasAdd', 'logits/MatMul', 'b2'),
      ],
      weights,
    );

  void it('feeds the input that is not a mask by default; fills the mask with ones', async () => {
    const model = file();
    await assert.rejects(
      openModel(model, { input: 'pixels' }),
      /unknown input 'pixels': expected one of x, attention_mask/,
    );
    const handle = await openModel(model, { backend: 'cpu' });
    try {
      assert.deepEqual(handle.inputShape, [null, 4]);
      const S = 11;
      const x = randn(61, S, 4);
      const warnings: string[] = [];
      const r = await handle.capture(probeOf(x, [S, 4]), {
        layers: ['dense/Act', 'masked'],
        onWarning: (w) => warnings.push(w),
      });
      const pre = affine(x, w1, b1, S, 4, 3);
      assertColumns(r.acts, 0, pre, 3);
      assertColumns(r.acts, 3, relu(pre), 3);
      assert.deepEqual(warnings, [
        `${model}: the probe feeds input 'x' (the only input with a batch dimension first that is not a mask; --input chooses another); 'attention_mask' gets ones`,
      ]);
    } finally {
      handle.dispose();
    }
  });

  void it('fills another input with the value given (--input-value), as ONNX does', async () => {
    const model = file();
    await assert.rejects(
      openModel(model, { backend: 'cpu', inputValues: { mask: 1 } }),
      /a value is given for input 'mask': expected one of the inputs the probe does not feed \(attention_mask\)/,
    );
    const handle = await openModel(model, { backend: 'cpu', inputValues: { attention_mask: 0.5 } });
    try {
      const S = 7;
      const x = randn(62, S, 4);
      const warnings: string[] = [];
      const r = await handle.capture(probeOf(x, [S, 4]), {
        layers: ['masked'],
        onWarning: (w) => warnings.push(w),
      });
      const half = relu(affine(x, w1, b1, S, 4, 3)).map((v) => v * 0.5);
      assertColumns(r.acts, 0, half, 3);
      assert.match(warnings.join('\n'), /'attention_mask' gets 0\.5$/);
    } finally {
      handle.dispose();
    }
  });
});

void describe('TF.js graph-model whose other input breaks the run when filled by default', () => {
  // x [?, 4] reshaped to the shape an int32 input gives: zeros cannot hold the values.
  const shapeInput: NodeSpec = {
    name: 'shape',
    op: 'Placeholder',
    attr: { dtype: { type: 'DT_INT32' }, shape: { shape: { dim: [{ size: '2' }] } } },
  };
  const model = () =>
    writeGraphModel(
      path.join(tmp.dir, 'reshape-input'),
      [
        g.placeholder('x', [-1, 4]),
        shapeInput,
        {
          name: 'reshaped',
          op: 'Reshape',
          input: ['x', 'shape'],
          attr: { T: { type: 'DT_FLOAT' }, Tshape: { type: 'DT_INT32' } },
        },
        g.unary('out', 'Relu', 'reshaped'),
      ],
      [],
    );

  void it('names the inputs filled by default, and how to set them, in the one line', async () => {
    const file = model();
    await assert.rejects(
      openModel(file, { backend: 'cpu' }),
      (e: unknown) =>
        e instanceof UserError &&
        /cannot run the TF\.js graph-model: .* \(inputs shape=0 were filled by default: --input-value NAME=VALUE, or the setting memlens\.inputValues, gives another value\)$/.test(
          e.message,
        ),
    );
    // A value given: the runtime's own message, with no hint about filling.
    await assert.rejects(
      openModel(file, { backend: 'cpu', inputValues: { shape: 3 } }),
      (e: unknown) =>
        e instanceof UserError &&
        /cannot run the TF\.js graph-model: /.test(e.message) &&
        !/filled by default/.test(e.message),
    );
  });
});
