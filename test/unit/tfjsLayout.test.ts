// Channels-first TF.js graphs, as ONNX-to-TF conversions export them: the input is NCHW, a
// Transpose makes it NHWC for the convolution and another makes the result NCHW again, so the
// activations after it ([?, C, H, W]) carry no data_format. Their neurons are the channels,
// checked against an independent per-channel mean of tfjs's own `execute` outputs.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { openModel } from '../../src/core/capture/registry';
import { UserError } from '../../src/core/errors';
import type { NodeSpec } from '../fixtures/capture/helpers';
import { loadGraphModelFile } from '../fixtures/capture/tfjsImageModels';
import {
  assertColumns,
  graphNodes as g,
  probeOf,
  randn,
  tempDir,
  writeGraphModel,
} from '../fixtures/capture/helpers';

const tmp = tempDir('memlens-layout-');
after(tmp.cleanup);

// C input channels, F filters, H x W input, (H-1) x (W-1) conv output; F differs from W - 1.
const [C, H, W, F] = [3, 6, 6, 4];
const kernel = randn(81, 2 * 2 * C, F);
const bias = randn(82, 1, F);

const transpose = (name: string, x: string, perm: string): NodeSpec => ({
  name,
  op: 'Transpose',
  input: [x, perm],
  attr: { T: { type: 'DT_FLOAT' }, Tperm: { type: 'DT_INT32' } },
});
const intConst = (name: string): NodeSpec => ({
  name,
  op: 'Const',
  attr: {
    value: { tensor: { dtype: 'DT_INT32', tensorShape: { dim: [{ size: '4' }] } } },
    dtype: { type: 'DT_INT32' },
  },
});
const leaky = (name: string, x: string): NodeSpec => ({
  name,
  op: 'LeakyRelu',
  input: [x],
  attr: { T: { type: 'DT_FLOAT' }, alpha: { f: 0.1 } },
});

/**
 * x [?, C, H, W] -> Transpose NHWC -> Conv2D -> BiasAdd -> Transpose NCHW -> LeakyRelu
 * (`act`) -> `tail` -> Mean over [2, 3] (the output). Int32 perms are stored as their bits.
 */
function nchwGraph(dir: string, tail: NodeSpec[] = []): string {
  const ints = (v: number[]): Float32Array => new Float32Array(Int32Array.from(v).buffer);
  const last = tail.at(-1)?.name ?? 'act';
  const file = writeGraphModel(
    path.join(tmp.dir, dir),
    [
      g.placeholder('x', [-1, C, H, W]),
      intConst('toNhwc'),
      intConst('toNchw'),
      g.constant('K', [2, 2, C, F]),
      g.constant('cb', [F]),
      intConst('axes2'),
      transpose('in/Transpose', 'x', 'toNhwc'),
      g.conv2d('conv/Conv2D', 'in/Transpose', 'K'),
      g.biasAdd('conv/BiasAdd', 'conv/Conv2D', 'cb'),
      transpose('conv/Transpose', 'conv/BiasAdd', 'toNchw'),
      leaky('act', 'conv/Transpose'),
      ...tail,
      {
        name: 'pool',
        op: 'Mean',
        input: [last, 'axes2'],
        attr: { T: { type: 'DT_FLOAT' }, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } },
      },
    ],
    [
      { name: 'toNhwc', shape: [4], data: ints([0, 2, 3, 1]) },
      { name: 'toNchw', shape: [4], data: ints([0, 3, 1, 2]) },
      { name: 'K', shape: [2, 2, C, F], data: kernel },
      { name: 'cb', shape: [F], data: bias },
      { name: 'axes2', shape: [2], data: ints([2, 3]) },
    ],
  );
  const json = JSON.parse(readFileSync(file, 'utf8')) as {
    modelTopology: { node: NodeSpec[] };
    weightsManifest: { weights: { name: string; dtype: string; shape: number[] }[] }[];
  };
  for (const w of json.weightsManifest[0].weights)
    if (w.name === 'toNhwc' || w.name === 'toNchw' || w.name === 'axes2') w.dtype = 'int32';
  const axes = json.modelTopology.node.find((n) => n.name === 'axes2')!;
  (axes.attr!.value as { tensor: { tensorShape: unknown } }).tensor.tensorShape = {
    dim: [{ size: '2' }],
  };
  writeFileSync(file, JSON.stringify(json));
  return file;
}

/** Per-channel spatial mean (axes 2, 3) of `node`, from tfjs's `execute` of the model.json. */
async function channelMeans(file: string, node: string, x: Float32Array, S: number) {
  const model = await loadGraphModelFile(file);
  const y = tf.tidy(() => {
    const t = model.execute(tf.tensor(x, [S, C, H, W]), node) as tf.Tensor;
    assert.deepEqual(t.shape, [S, F, H - 1, W - 1], 'the activation is channels-first');
    return tf.mean(t, [2, 3]);
  });
  const values = Float64Array.from(await y.data());
  y.dispose();
  model.dispose();
  return values;
}

void describe('channels-first TF.js graphs (ONNX-to-TF conversions)', () => {
  void it('reads the channel axis from the Transposes: neurons are the channels', async () => {
    const file = nchwGraph('nchw');
    const handle = await openModel(file, { backend: 'cpu' });
    try {
      const layer = handle.layers.find((l) => l.name === 'act')!;
      assert.deepEqual(layer.outputShape, [null, F, H - 1, W - 1]);
      const S = 6;
      const x = randn(83, S, C * H * W);
      const r = await handle.capture(probeOf(x, [S, C, H, W]), {
        layers: ['act'],
        point: 'output',
      });
      assert.deepEqual(r.acts.layers, [{ name: 'act', start: 0, end: F }]);
      assert.equal(r.layers[0].reduction, 'global-average-pool');
      assertColumns(r.acts, 0, await channelMeans(file, 'act', x, S), F);
      // The NHWC conv inside the Transposes is read channels-last.
      const conv = await handle.capture(probeOf(x, [S, C, H, W]), { layers: ['conv/BiasAdd'] });
      assertColumns(conv.acts, 0, await channelMeans(file, 'conv/Transpose', x, S), F);
    } finally {
      handle.dispose();
    }
  });

  void it('refuses a 4-D layer whose order the graph does not show, in one line', async () => {
    // A Reshape to [?, F, 5, 5] hides the order: it could be anything.
    const ints = [
      intConst('shape4'),
      {
        name: 'reshaped',
        op: 'Reshape',
        input: ['act', 'shape4'],
        attr: { T: { type: 'DT_FLOAT' }, Tshape: { type: 'DT_INT32' } },
      },
      g.unary('after/Relu', 'Relu', 'reshaped'),
    ];
    const file = nchwGraph('ambiguous', ints);
    const json = JSON.parse(readFileSync(file, 'utf8')) as {
      weightsManifest: { weights: { name: string; dtype: string; shape: number[] }[] }[];
    };
    json.weightsManifest[0].weights.push({ name: 'shape4', shape: [4], dtype: 'int32' });
    writeFileSync(file, JSON.stringify(json));
    const bin = path.join(path.dirname(file), 'weights.bin');
    writeFileSync(
      bin,
      Buffer.concat([
        readFileSync(bin),
        Buffer.from(Int32Array.from([-1, H - 1, W - 1, F]).buffer),
      ]),
    );
    const handle = await openModel(file, { backend: 'cpu' });
    try {
      const S = 3;
      const probe = probeOf(randn(84, S, C * H * W), [S, C, H, W]);
      await assert.rejects(
        handle.capture(probe, { layers: ['after/Relu'], point: 'output' }),
        (e: unknown) =>
          e instanceof UserError &&
          e.message ===
            `${file}: cannot tell the channel axis of layer 'after/Relu' (output [?, ${H - 1}, ${W - 1}, ${F}]): the graph holds channels-first (NCHW) tensors, and no Transpose or data_format shows this one's order; measure other layers`,
      );
      // The layers whose order is known still capture.
      const r = await handle.capture(probe, { layers: ['act'], point: 'output' });
      assert.equal(r.acts.neurons, F);
    } finally {
      handle.dispose();
    }
  });
});
