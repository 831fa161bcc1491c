// TF.js graph-models as they are exported: a fixed batch dimension ([1, H, W, C]) and integer
// image inputs (int32, uint8) fed a float probe. Each capture is checked against an
// independent tfjs `execute` of the same model.json, one example at a time.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { openModel } from '../../src/core/capture/registry';
import { assertColumns, probeOf, randn, tempDir } from '../fixtures/capture/helpers';
import { IMAGE, imageConvModel, loadGraphModelFile } from '../fixtures/capture/tfjsImageModels';

const tmp = tempDir();
after(tmp.cleanup);

const { H, W, C, F } = IMAGE;

/** input [batch, H, W, C] of `dtype` -> (Cast) -> Conv2D -> BiasAdd -> Relu -> Sigmoid. */
const convGraph = (dir: string, batch: number, dtype = 'DT_FLOAT'): string =>
  imageConvModel(path.join(tmp.dir, dir), batch, dtype);

/**
 * The per-channel spatial mean of `node` from tfjs's own `execute` of the model.json, run on
 * each example alone (padded with zeros to `batch`), input values given as they are fed.
 */
async function executeEach(
  file: string,
  node: string,
  examples: ArrayLike<number>,
  dtype: 'float32' | 'int32',
  batch: number,
): Promise<Float64Array> {
  const model = await loadGraphModelFile(file);
  const size = H * W * C;
  const S = examples.length / size;
  const out = new Float64Array(S * F);
  for (let s = 0; s < S; s++) {
    const values = new Array<number>(batch * size).fill(0);
    for (let i = 0; i < size; i++) values[i] = examples[s * size + i];
    const y = tf.tidy(() => {
      const t = model.execute(tf.tensor(values, [batch, H, W, C], dtype), node) as tf.Tensor;
      return tf.mean(t.slice(0, 1), [1, 2]);
    });
    out.set(await y.data(), s * F);
    y.dispose();
  }
  model.dispose();
  return out;
}

void describe('TF.js graph-model with a fixed batch dimension', () => {
  for (const batch of [1, 3]) {
    void it(`runs batches of exactly ${batch} for an input saved as [${batch}, ${H}, ${W}, ${C}]`, async () => {
      const file = convGraph(`fixed-${batch}`, batch);
      const handle = await openModel(file, { backend: 'cpu' });
      try {
        assert.deepEqual(handle.inputShape, [null, H, W, C]);
        assert.deepEqual(handle.layers.find((l) => l.name === 'conv/Relu')?.outputShape, [
          null,
          4,
          4,
          F,
        ]);
        const S = 7;
        const x = randn(73, S, H * W * C);
        // A batch size asked for gives way to the model's own.
        const pre = await handle.capture(probeOf(x, [S, H, W, C]), {
          layers: ['conv/Relu'],
          batchSize: 4,
        });
        assert.deepEqual(pre.acts.layers, [{ name: 'conv/Relu', start: 0, end: F }]);
        assertColumns(pre.acts, 0, await executeEach(file, 'conv/BiasAdd', x, 'float32', batch), F);
        const out = await handle.capture(probeOf(x, [S, H, W, C]), {
          point: 'output',
          layers: ['conv/Relu'],
        });
        assertColumns(out.acts, 0, await executeEach(file, 'conv/Relu', x, 'float32', batch), F);
      } finally {
        handle.dispose();
      }
    });
  }
});

void describe('TF.js graph-model with an integer image input', () => {
  for (const [dtype, name] of [
    ['DT_INT32', 'int32'],
    ['DT_UINT8', 'uint8'],
  ] as const) {
    void it(`scales a [0, 1] float probe to 0-255 for an input of type ${name}, says so, and rounds`, async () => {
      const file = convGraph(`int-${name}`, 1, dtype);
      const handle = await openModel(file, { backend: 'cpu' });
      try {
        assert.equal(handle.imageScale, '0-255');
        const S = 6;
        const x = Float32Array.from(randn(74, S, H * W * C), (v) => 1 / (1 + Math.exp(-v)));
        const warnings: string[] = [];
        const r = await handle.capture(probeOf(x, [S, H, W, C]), {
          point: 'output',
          layers: ['conv/Relu'],
          onWarning: (m) => warnings.push(m),
        });
        assert.deepEqual(warnings, [
          `${file}: the model's input is ${name}: probe values in [0, 1] were scaled to 0-255`,
        ]);
        const ints = Array.from(x, (v) => Math.round(v * 255));
        assertColumns(r.acts, 0, await executeEach(file, 'conv/Relu', ints, 'int32', 1), F, 1e-4);
      } finally {
        handle.dispose();
      }
    });
  }

  void it('rounds 0-255 float values to the nearest integer, as the ONNX reader does', async () => {
    const file = convGraph('int-round', 1, 'DT_INT32');
    const handle = await openModel(file, { backend: 'cpu' });
    try {
      const S = 5;
      // Fractions near .7 and .3: rounding and truncation differ on most of them.
      const x = Float32Array.from(
        { length: S * H * W * C },
        (_, i) => ((i * 37) % 250) + (i % 2 ? 0.7 : 0.3),
      );
      const warnings: string[] = [];
      const r = await handle.capture(probeOf(x, [S, H, W, C]), {
        point: 'output',
        layers: ['conv/Relu'],
        onWarning: (m) => warnings.push(m),
      });
      assert.deepEqual(warnings, [], 'values beyond [0, 1] are not scaled');
      const rounded = await executeEach(file, 'conv/Relu', Array.from(x, Math.round), 'int32', 1);
      const truncated = await executeEach(file, 'conv/Relu', Array.from(x, Math.trunc), 'int32', 1);
      assertColumns(r.acts, 0, rounded, F, 1e-4);
      assert.ok(
        rounded.some((v, i) => Math.abs(v - truncated[i]) > 1e-3),
        'the check tells rounding from truncation',
      );
    } finally {
      handle.dispose();
    }
  });

  void it('leaves a float input and integer-valued probes alone', async () => {
    const file = convGraph('float-input', 1);
    const handle = await openModel(file, { backend: 'cpu' });
    assert.equal(handle.imageScale, undefined);
    handle.dispose();
    const intFile = convGraph('int-binary', 1, 'DT_INT32');
    const ints = await openModel(intFile, { backend: 'cpu' });
    try {
      const S = 4;
      const x = Float32Array.from({ length: S * H * W * C }, (_, i) => i % 2);
      const warnings: string[] = [];
      const r = await ints.capture(probeOf(x, [S, H, W, C]), {
        point: 'output',
        layers: ['conv/Relu'],
        onWarning: (m) => warnings.push(m),
      });
      assert.deepEqual(warnings, []);
      assertColumns(r.acts, 0, await executeEach(intFile, 'conv/Relu', x, 'int32', 1), F, 1e-4);
    } finally {
      ints.dispose();
    }
  });
});
