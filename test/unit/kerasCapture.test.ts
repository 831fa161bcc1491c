import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { strToU8, zipSync } from 'fflate';
import type * as H5wasm from 'h5wasm';
import { kerasSnakeCase } from '../../src/core/capture/keras/kerasWeightGroups';
import { openModel } from '../../src/core/capture/registry';
import {
  affine,
  assertColumns,
  keras2Dense,
  probeOf,
  randn,
  rejectsWith,
  relu,
  tempDir,
} from '../fixtures/capture/helpers';

const tmp = tempDir('memlens-keras-');
after(tmp.cleanup);

type H5 = typeof H5wasm;

/** Builds an HDF5 file in h5wasm's in-memory file system and returns its bytes. */
async function hdf5Bytes(build: (file: InstanceType<H5['File']>) => void): Promise<Uint8Array> {
  const h5 = await import('h5wasm');
  const { FS } = await h5.ready;
  const name = `/test-${Math.random().toString(36).slice(2)}.h5`;
  const file = new h5.File(name, 'w');
  build(file);
  file.close();
  const bytes = FS.readFile(name);
  FS.unlink(name);
  return bytes;
}

const W = {
  dense_a: { kernel: randn(41, 4, 5), bias: randn(42, 1, 5), shape: [4, 5] },
  dense_b: { kernel: randn(43, 5, 3), bias: randn(44, 1, 3), shape: [5, 3] },
  logits: { kernel: randn(45, 3, 2), bias: randn(46, 1, 2), shape: [3, 2] },
};
const LAYERS = [
  ['dense_a', 5, 'relu'],
  ['dense_b', 3, 'tanh'],
  ['logits', 2, 'linear'],
] as const;

function forward(x: Float32Array, s: number) {
  const a = affine(x, W.dense_a.kernel, W.dense_a.bias, s, 4, 5);
  const b = affine(relu(a), W.dense_b.kernel, W.dense_b.bias, s, 5, 3);
  return { a, b, bOut: b.map(Math.tanh) };
}

/** Keras 2 (tf.keras 2.x) Sequential config, as model.save writes into model_config. */
function keras2Config(denseClass = 'Dense') {
  return {
    class_name: 'Sequential',
    config: {
      name: 'sequential',
      layers: [
        {
          class_name: 'InputLayer',
          config: {
            batch_input_shape: [null, 4],
            dtype: 'float32',
            sparse: false,
            ragged: false,
            name: 'input_1',
          },
        },
        ...LAYERS.map(([name, units, activation], i) =>
          keras2Dense(name, units, activation, i === 1 ? denseClass : 'Dense'),
        ),
      ],
    },
    keras_version: '2.13.1',
    backend: 'tensorflow',
  };
}

/** Keras 3 Sequential config, as config.json of a .keras file. */
function keras3Config() {
  const policy = {
    module: 'keras',
    class_name: 'DTypePolicy',
    config: { name: 'float32' },
    registered_name: null,
  };
  return {
    module: 'keras',
    class_name: 'Sequential',
    config: {
      name: 'sequential',
      trainable: true,
      dtype: policy,
      layers: [
        {
          module: 'keras.layers',
          class_name: 'InputLayer',
          config: { batch_shape: [null, 4], dtype: 'float32', sparse: false, name: 'input_layer' },
          registered_name: null,
        },
        ...LAYERS.map(([name, units, activation]) => ({
          module: 'keras.layers',
          class_name: 'Dense',
          config: {
            name,
            trainable: true,
            dtype: policy,
            units,
            activation,
            use_bias: true,
            kernel_initializer: {
              module: 'keras.initializers',
              class_name: 'GlorotUniform',
              config: { seed: null },
              registered_name: null,
            },
            bias_initializer: {
              module: 'keras.initializers',
              class_name: 'Zeros',
              config: {},
              registered_name: null,
            },
            kernel_regularizer: null,
            bias_regularizer: null,
            kernel_constraint: null,
            bias_constraint: null,
          },
          registered_name: null,
          build_config: { input_shape: [null, 4] },
        })),
      ],
      build_input_shape: [null, 4],
    },
    registered_name: null,
    build_config: { input_shape: [null, 4] },
    compile_config: null,
  };
}

/** A legacy Keras 2 .h5 (model.save): model_config plus model_weights/<layer>/<layer>/kernel:0. */
async function writeLegacyH5(name: string, config: unknown, withWeights = true): Promise<string> {
  const bytes = await hdf5Bytes((f) => {
    // h5py writes these attributes as fixed-length byte strings (numpy 'S' arrays).
    const text = JSON.stringify(config);
    f.create_attribute('model_config', text, null, `S${text.length}`);
    f.create_attribute('keras_version', '2.13.1');
    f.create_attribute('backend', 'tensorflow');
    if (!withWeights) return;
    f.create_group('model_weights');
    const mw = f.get('model_weights') as InstanceType<H5['Group']>;
    mw.create_attribute('layer_names', ['input_1', ...LAYERS.map(([n]) => n)]);
    mw.create_group('input_1');
    (mw.get('input_1') as InstanceType<H5['Group']>).create_attribute('weight_names', []);
    for (const [layer] of LAYERS) {
      mw.create_group(layer);
      const g = mw.get(layer) as InstanceType<H5['Group']>;
      const names = [`${layer}/kernel:0`, `${layer}/bias:0`];
      g.create_attribute(
        'weight_names',
        names,
        null,
        `S${Math.max(...names.map((n) => n.length))}`,
      );
      g.create_group(layer);
      const inner = g.get(layer) as InstanceType<H5['Group']>;
      const w = W[layer];
      inner.create_dataset({ name: 'kernel:0', data: w.kernel, shape: w.shape, dtype: '<f' });
      inner.create_dataset({ name: 'bias:0', data: w.bias, shape: [w.shape[1]], dtype: '<f' });
    }
  });
  const file = path.join(tmp.dir, name);
  writeFileSync(file, bytes);
  return file;
}

/** Writes a Dense layer's kernel and bias as `<group>/vars/0` and `/1`, creating the groups. */
function putDense(
  f: InstanceType<H5['File']>,
  group: string,
  w: { kernel: Float32Array; bias: Float32Array; shape: number[] },
): void {
  let at = '';
  for (const part of `${group}/vars`.split('/')) {
    at = at === '' ? part : `${at}/${part}`;
    if (f.get(at) === null) f.create_group(at);
  }
  const vars = f.get(`${group}/vars`) as InstanceType<H5['Group']>;
  vars.create_dataset({ name: '0', data: w.kernel, shape: w.shape, dtype: '<f' });
  vars.create_dataset({ name: '1', data: w.bias, shape: [w.shape[1]], dtype: '<f' });
}

/**
 * A Keras 3 .keras: zip of config.json, metadata.json and model.weights.h5. Keras addresses
 * layers by class and position, not name: the three Dense layers are layers/dense,
 * layers/dense_1 and layers/dense_2.
 */
async function writeKeras3(
  name: string,
  options: { weights?: boolean; root?: string } = {},
): Promise<string> {
  const root = options.root ?? 'layers';
  const weights = await hdf5Bytes((f) => {
    putDense(f, `${root}/dense`, W.dense_a);
    putDense(f, `${root}/dense_1`, W.dense_b);
    putDense(f, `${root}/dense_2`, W.logits);
  });
  const entries: Record<string, Uint8Array> = {
    'metadata.json': strToU8(
      JSON.stringify({ keras_version: '3.3.3', date_saved: '2024-05-01@12:00:00' }),
    ),
    'config.json': strToU8(JSON.stringify(keras3Config())),
  };
  if (options.weights !== false) entries['model.weights.h5'] = weights;
  const file = path.join(tmp.dir, name);
  writeFileSync(file, zipSync(entries));
  return file;
}

const S = 29;
const X = randn(51, S, 4);

for (const kind of ['legacy .h5', '.keras (Keras 3)'] as const) {
  void describe(`Keras ${kind} capture`, () => {
    const fileP =
      kind === 'legacy .h5' ? writeLegacyH5('mlp.h5', keras2Config()) : writeKeras3('mlp.keras');

    void it('measures the hidden Dense layers at their pre-activation, matching a hand-written forward pass', async () => {
      const handle = await openModel(await fileP, { backend: 'cpu' });
      try {
        assert.equal(handle.format, 'keras');
        assert.deepEqual(
          handle.layers.map((l) => [l.name, l.type, l.activation, l.measuredByDefault]),
          [
            ['dense_a', 'Dense', 'relu', true],
            ['dense_b', 'Dense', 'tanh', true],
            ['logits', 'Dense', null, false],
          ],
        );
        const result = await handle.capture(probeOf(X, [S, 4]), { batchSize: 8 });
        const { a, b } = forward(X, S);
        assert.deepEqual(result.acts.layers, [
          { name: 'dense_a', start: 0, end: 5 },
          { name: 'dense_b', start: 5, end: 8 },
        ]);
        assertColumns(result.acts, 0, a, 5, 1e-5);
        assertColumns(result.acts, 5, b, 3, 1e-5);
        const out = await handle.capture(probeOf(X, [S, 4]), {
          layers: ['dense_b', 'dense_a'],
          point: 'output',
        });
        assertColumns(out.acts, 0, forward(X, S).bOut, 3, 1e-5);
        assertColumns(out.acts, 3, relu(a), 5, 1e-5);
      } finally {
        handle.dispose();
      }
    });

    void it('a truncated file gives a one-line error', async () => {
      const bytes = readFileSync(await fileP);
      const file = path.join(tmp.dir, `truncated${path.extname(await fileP)}`);
      writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 3)));
      await rejectsWith(
        openModel(file),
        /truncated\.(h5|keras)(: model\.weights\.h5)?: expected (an HDF5 file|a \.keras zip archive)/,
      );
    });
  });
}

void describe('Keras bad input', () => {
  void it('a .keras without model.weights.h5 says the weights are missing', async () => {
    const file = await writeKeras3('noweights.keras', { weights: false });
    await rejectsWith(
      openModel(file),
      /noweights\.keras: expected model\.weights\.h5 in the \.keras archive \(the model's weights\), found metadata\.json, config\.json/,
    );
  });

  void it('an .h5 with a config but no weight groups names the first layer without weights', async () => {
    const file = await writeLegacyH5('noweights.h5', keras2Config(), false);
    await rejectsWith(
      openModel(file),
      /noweights\.h5: expected weights for layer 'dense_a' \(Dense\), found none: the file is missing its weights/,
    );
  });

  void it('an .h5 of weights only (save_weights) asks for the whole model', async () => {
    const bytes = await hdf5Bytes((f) => {
      f.create_attribute(
        'layer_names',
        LAYERS.map(([n]) => n),
      );
      f.create_attribute('keras_version', '2.13.1');
    });
    const file = path.join(tmp.dir, 'weights-only.h5');
    writeFileSync(file, bytes);
    await rejectsWith(
      openModel(file),
      /weights-only\.h5: expected a Keras model file with a model_config attribute \(the architecture\), found weights only \(save the whole model, not save_weights\)/,
    );
  });

  void it('a layer class TF.js does not have is named', async () => {
    const file = await writeLegacyH5('custom.h5', keras2Config('MyFancyDense'));
    await rejectsWith(openModel(file), /custom\.h5: unsupported layer 'MyFancyDense'/);
  });

  void it('a file named .h5 that is neither HDF5 nor zip says what it starts with', async () => {
    const file = path.join(tmp.dir, 'text.h5');
    writeFileSync(file, 'hello, not a model');
    await rejectsWith(
      openModel(file),
      /text\.h5: expected a Keras model \(a \.keras zip or an HDF5 \.h5\), found bytes 68 65 6c 6c/,
    );
  });

  void it('reads the tf.keras 2.13 weight layout (_layer_checkpoint_dependencies/<class>/vars)', async () => {
    const file = await writeKeras3('keras30.keras', { root: '_layer_checkpoint_dependencies' });
    const handle = await openModel(file, { backend: 'cpu' });
    try {
      const result = await handle.capture(probeOf(X, [S, 4]), { layers: ['dense_a'] });
      assertColumns(result.acts, 0, forward(X, S).a, 5, 1e-5);
    } finally {
      handle.dispose();
    }
  });

  void it('a probe of the wrong width is refused with both shapes', async () => {
    const handle = await openModel(await writeKeras3('probe.keras'), { backend: 'cpu' });
    try {
      await rejectsWith(
        handle.capture(probeOf(new Float32Array(15), [5, 3])),
        /expected examples of shape \[4\], found \[3\]/,
      );
    } finally {
      handle.dispose();
    }
  });
});

void describe('Keras 3 functional model (.keras) with a residual Add', () => {
  const Wc = { kernel: randn(47, 4, 3), bias: randn(48, 1, 3) };
  const tensor = (layer: string, shape: (number | null)[]) => ({
    class_name: '__keras_tensor__',
    config: { shape, dtype: 'float32', keras_history: [layer, 0, 0] },
  });
  const dense = (
    name: string,
    units: number,
    activation: string,
    input: string,
    inShape: number,
  ) => ({
    module: 'keras.layers',
    class_name: 'Dense',
    config: { name, trainable: true, dtype: 'float32', units, activation, use_bias: true },
    registered_name: null,
    build_config: { input_shape: [null, inShape] },
    name,
    inbound_nodes: [{ args: [tensor(input, [null, inShape])], kwargs: {} }],
  });
  const config = {
    module: 'keras',
    class_name: 'Functional',
    config: {
      name: 'functional',
      trainable: true,
      layers: [
        {
          module: 'keras.layers',
          class_name: 'InputLayer',
          config: { batch_shape: [null, 4], dtype: 'float32', sparse: false, name: 'input_layer' },
          registered_name: null,
          name: 'input_layer',
          inbound_nodes: [],
        },
        dense('dense_a', 5, 'relu', 'input_layer', 4),
        dense('dense_b', 3, 'tanh', 'dense_a', 5),
        dense('dense_c', 3, 'linear', 'input_layer', 4),
        {
          module: 'keras.layers',
          class_name: 'Add',
          config: { name: 'add', trainable: true, dtype: 'float32' },
          registered_name: null,
          build_config: {
            input_shape: [
              [null, 3],
              [null, 3],
            ],
          },
          name: 'add',
          inbound_nodes: [
            { args: [[tensor('dense_b', [null, 3]), tensor('dense_c', [null, 3])]], kwargs: {} },
          ],
        },
        dense('logits', 2, 'linear', 'add', 3),
      ],
      // Keras 3 writes a single input or output as one [layer, node, tensor] triple.
      input_layers: ['input_layer', 0, 0],
      output_layers: [['logits', 0, 0]],
    },
    registered_name: 'Functional',
  };

  void it('rebuilds the graph and captures each branch against a hand-written forward pass', async () => {
    // Config order input_layer, dense_a, dense_b, dense_c, add, logits: the four Dense
    // layers are dense, dense_1, dense_2 and dense_3 in the weights file.
    const weights = await hdf5Bytes((f) => {
      putDense(f, 'layers/dense', W.dense_a);
      putDense(f, 'layers/dense_1', W.dense_b);
      putDense(f, 'layers/dense_2', { ...Wc, shape: [4, 3] });
      putDense(f, 'layers/dense_3', W.logits);
    });
    const file = path.join(tmp.dir, 'residual.keras');
    writeFileSync(
      file,
      zipSync({ 'config.json': strToU8(JSON.stringify(config)), 'model.weights.h5': weights }),
    );
    const handle = await openModel(file, { backend: 'cpu' });
    try {
      assert.deepEqual(
        handle.layers.filter((l) => l.measuredByDefault).map((l) => l.name),
        ['dense_a', 'dense_b', 'dense_c'],
      );
      const result = await handle.capture(probeOf(X, [S, 4]), {
        layers: ['dense_c', 'add', 'logits'],
      });
      const { bOut } = forward(X, S);
      const c = affine(X, Wc.kernel, Wc.bias, S, 4, 3);
      const sum = bOut.map((v, i) => v + c[i]);
      const logits = affine(sum, W.logits.kernel, W.logits.bias, S, 3, 2);
      assertColumns(result.acts, 0, c, 3, 1e-5);
      assertColumns(result.acts, 3, sum, 3, 1e-5);
      assertColumns(result.acts, 6, logits, 2, 1e-5);
    } finally {
      handle.dispose();
    }
  });
});

void describe('Keras nested models (a model used as a layer)', () => {
  const { a, b, bOut } = forward(X, S);
  const kerasTensor = (layer: string, node: number, shape: (number | null)[]) => ({
    class_name: '__keras_tensor__',
    config: { shape, dtype: 'float32', keras_history: [layer, node, 0] },
  });
  /** Keras 3: Sequential 'backbone' = input, dense_a(relu), dense_b(tanh), called `calls` times. */
  const backbone = (calls: number) => ({
    module: 'keras',
    class_name: 'Sequential',
    config: {
      name: 'backbone',
      trainable: true,
      layers: keras3Config()
        .config.layers.slice(0, 3)
        .map((l, i) => (i === 0 ? { ...l, config: { ...l.config, name: 'backbone_input' } } : l)),
    },
    registered_name: null,
    name: 'backbone',
    inbound_nodes: Array.from({ length: calls }, () => ({
      args: [kerasTensor('input_layer', 0, [null, 4])],
      kwargs: {},
    })),
  });
  const input = keras3Config().config.layers[0];
  const logits = (from: string) => ({
    ...keras3Config().config.layers[3],
    name: 'logits',
    inbound_nodes: [{ args: [kerasTensor(from, 0, [null, 3])], kwargs: {} }],
  });
  const functional = (layers: unknown[]) => ({
    module: 'keras',
    class_name: 'Functional',
    config: {
      name: 'outer',
      trainable: true,
      layers: [{ ...input, name: 'input_layer', inbound_nodes: [] }, ...layers],
      input_layers: ['input_layer', 0, 0],
      output_layers: ['logits', 0, 0],
    },
    registered_name: 'Functional',
  });
  /** The nested model's layers are layers/sequential/layers/dense and .../dense_1. */
  const weightsFile = (outerDense: string) =>
    hdf5Bytes((f) => {
      putDense(f, 'layers/sequential/layers/dense', W.dense_a);
      putDense(f, 'layers/sequential/layers/dense_1', W.dense_b);
      putDense(f, outerDense, W.logits);
    });
  const writeKerasZip = async (name: string, config: unknown, weights: Uint8Array) => {
    const file = path.join(tmp.dir, name);
    writeFileSync(
      file,
      zipSync({ 'config.json': strToU8(JSON.stringify(config)), 'model.weights.h5': weights }),
    );
    return file;
  };

  void it('.keras: the inner layers become layers of the model, captured at their pre-activation', async () => {
    const file = await writeKerasZip(
      'nested.keras',
      functional([backbone(1), logits('backbone')]),
      await weightsFile('layers/dense'),
    );
    const handle = await openModel(file, { backend: 'cpu' });
    try {
      assert.deepEqual(
        handle.layers.map((l) => [l.name, l.activation, l.measuredByDefault]),
        [
          ['dense_a', 'relu', true],
          ['dense_b', 'tanh', true],
          ['logits', null, false],
        ],
      );
      const result = await handle.capture(probeOf(X, [S, 4]));
      assertColumns(result.acts, 0, a, 5, 1e-5);
      assertColumns(result.acts, 5, b, 3, 1e-5);
      const out = await handle.capture(probeOf(X, [S, 4]), { layers: ['logits'] });
      assertColumns(out.acts, 0, affine(bOut, W.logits.kernel, W.logits.bias, S, 3, 2), 2, 1e-5);
    } finally {
      handle.dispose();
    }
  });

  void it('.keras: an inner layer whose name the outer model uses is renamed <model>/<name>', async () => {
    const head = { ...logits('backbone'), name: 'dense_a' };
    head.config = { ...head.config, name: 'dense_a' };
    const config = functional([backbone(1), head]);
    config.config.output_layers = ['dense_a', 0, 0];
    const file = await writeKerasZip('clash.keras', config, await weightsFile('layers/dense'));
    const handle = await openModel(file, { backend: 'cpu' });
    try {
      assert.deepEqual(
        handle.layers.map((l) => l.name),
        ['backbone/dense_a', 'dense_b', 'dense_a'],
      );
      const result = await handle.capture(probeOf(X, [S, 4]), {
        layers: ['backbone/dense_a', 'dense_a'],
      });
      assertColumns(result.acts, 0, a, 5, 1e-5);
      assertColumns(result.acts, 5, affine(bOut, W.logits.kernel, W.logits.bias, S, 3, 2), 2, 1e-5);
    } finally {
      handle.dispose();
    }
  });

  void it('a nested model called twice (shared) is refused by name', async () => {
    const add = {
      module: 'keras.layers',
      class_name: 'Add',
      config: { name: 'add', trainable: true, dtype: 'float32' },
      registered_name: null,
      name: 'add',
      inbound_nodes: [
        {
          args: [[kerasTensor('backbone', 0, [null, 3]), kerasTensor('backbone', 1, [null, 3])]],
          kwargs: {},
        },
      ],
    };
    const file = await writeKerasZip(
      'siamese.keras',
      functional([backbone(2), add, logits('add')]),
      await weightsFile('layers/dense'),
    );
    await rejectsWith(
      openModel(file),
      /siamese\.keras: layer 'backbone' is a nested model called 2 times \(shared weights\): expected each nested model to be called once/,
    );
  });

  void it('legacy .h5: a nested Sequential reads its weights from the top-level group by variable name', async () => {
    const outer = {
      class_name: 'Sequential',
      config: {
        name: 'outer',
        layers: [
          {
            class_name: 'Sequential',
            config: { name: 'backbone', layers: keras2Config().config.layers.slice(0, 3) },
          },
          keras2Config().config.layers[3],
        ],
      },
      keras_version: '2.13.1',
      backend: 'tensorflow',
    };
    const bytes = await hdf5Bytes((f) => {
      f.create_attribute('model_config', JSON.stringify(outer));
      f.create_group('model_weights');
      // Keras 2 stores the whole backbone in one group: weight_names are variable names.
      f.create_group('model_weights/backbone');
      const names = ['dense_a/kernel:0', 'dense_a/bias:0', 'dense_b/kernel:0', 'dense_b/bias:0'];
      (f.get('model_weights/backbone') as InstanceType<H5['Group']>).create_attribute(
        'weight_names',
        names,
      );
      for (const layer of ['dense_a', 'dense_b'] as const) {
        f.create_group(`model_weights/backbone/${layer}`);
        const g = f.get(`model_weights/backbone/${layer}`) as InstanceType<H5['Group']>;
        g.create_dataset({
          name: 'kernel:0',
          data: W[layer].kernel,
          shape: W[layer].shape,
          dtype: '<f',
        });
        g.create_dataset({
          name: 'bias:0',
          data: W[layer].bias,
          shape: [W[layer].shape[1]],
          dtype: '<f',
        });
      }
      f.create_group('model_weights/logits');
      (f.get('model_weights/logits') as InstanceType<H5['Group']>).create_attribute(
        'weight_names',
        ['logits/kernel:0', 'logits/bias:0'],
      );
      f.create_group('model_weights/logits/logits');
      const g = f.get('model_weights/logits/logits') as InstanceType<H5['Group']>;
      g.create_dataset({
        name: 'kernel:0',
        data: W.logits.kernel,
        shape: W.logits.shape,
        dtype: '<f',
      });
      g.create_dataset({ name: 'bias:0', data: W.logits.bias, shape: [2], dtype: '<f' });
    });
    const file = path.join(tmp.dir, 'nested.h5');
    writeFileSync(file, bytes);
    const handle = await openModel(file, { backend: 'cpu' });
    try {
      assert.deepEqual(
        handle.layers.map((l) => l.name),
        ['dense_a', 'dense_b', 'logits'],
      );
      const result = await handle.capture(probeOf(X, [S, 4]), { layers: ['dense_b', 'logits'] });
      assertColumns(result.acts, 0, b, 3, 1e-5);
      assertColumns(result.acts, 3, affine(bOut, W.logits.kernel, W.logits.bias, S, 3, 2), 2, 1e-5);
    } finally {
      handle.dispose();
    }
  });

  void it('a nested layer without weights in the file is named with its model', async () => {
    const file = await writeKerasZip(
      'nested-missing.keras',
      functional([backbone(1), logits('backbone')]),
      await hdf5Bytes((f) => putDense(f, 'layers/dense', W.logits)),
    );
    await rejectsWith(
      openModel(file),
      /nested-missing\.keras: expected weights for layer 'backbone\/dense_a' \(Dense\), found none/,
    );
  });
});

void describe('Keras class keys', () => {
  void it("snake_case matches Keras' default layer names", () => {
    // Keras names unnamed layers with the same function: these are its default names.
    for (const [cls, name] of [
      ['Dense', 'dense'],
      ['Conv2D', 'conv2d'],
      ['Conv2DTranspose', 'conv2d_transpose'],
      ['BatchNormalization', 'batch_normalization'],
      ['DepthwiseConv2D', 'depthwise_conv2d'],
      ['GlobalAveragePooling2D', 'global_average_pooling2d'],
      ['LSTM', 'lstm'],
      ['MultiHeadAttention', 'multi_head_attention'],
    ]) {
      assert.equal(kerasSnakeCase(cls), name);
    }
  });
});
