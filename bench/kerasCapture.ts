// Keras capture speed: the real-size conv net (bench/realConv.ts) written as a Keras 3 .keras
// (config.json, metadata.json and model.weights.h5, zipped, as keras.Model.save writes it; built
// here with h5wasm, as the tests build theirs, for this machine has no Keras), read by MemLens
// with h5wasm and rebuilt as a TF.js layers-model, captured on the first backend that starts
// (tfjs-node, wasm, cpu).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { REAL_CONV, benchRealConv, realConvConvolutions, realConvLayersModel } from './realConv';

const POLICY = {
  module: 'keras',
  class_name: 'DTypePolicy',
  config: { name: 'float32' },
  registered_name: null,
};

/** A Keras 3 layer entry of a Sequential config. */
function kerasLayer(className: string, config: Record<string, unknown>) {
  return {
    module: 'keras.layers',
    class_name: className,
    config: { trainable: true, dtype: POLICY, ...config },
    registered_name: null,
  };
}

/** The net's Keras 3 config.json: a Sequential of Conv2D, GlobalAveragePooling2D and Dense. */
function kerasConfig() {
  const batchShape = [null, REAL_CONV.size, REAL_CONV.size, 3];
  return {
    module: 'keras',
    class_name: 'Sequential',
    config: {
      name: 'sequential',
      trainable: true,
      dtype: POLICY,
      layers: [
        kerasLayer('InputLayer', { batch_shape: batchShape, dtype: 'float32', name: 'input' }),
        ...realConvConvolutions().map(({ name, filters, stride }) =>
          kerasLayer('Conv2D', {
            name,
            filters,
            kernel_size: [3, 3],
            strides: [stride, stride],
            padding: 'same',
            data_format: 'channels_last',
            dilation_rate: [1, 1],
            groups: 1,
            activation: 'relu',
            use_bias: true,
          }),
        ),
        kerasLayer('GlobalAveragePooling2D', {
          name: 'pool',
          data_format: 'channels_last',
          keepdims: false,
        }),
        kerasLayer('Dense', {
          name: 'logits',
          units: REAL_CONV.classes,
          activation: 'linear',
          use_bias: true,
        }),
      ],
      build_input_shape: batchShape,
    },
    registered_name: null,
    build_config: { input_shape: batchShape },
    compile_config: null,
  };
}

/**
 * model.weights.h5 of the net, with the TF.js net's weights: Keras addresses a layer by class
 * and position, each layer's kernel and bias in `layers/<class>[_k]/vars/0` and `/1`.
 */
async function kerasWeights(): Promise<Uint8Array> {
  const h5 = await import('h5wasm');
  const { FS } = await h5.ready;
  const name = '/bench-model.weights.h5';
  const file = new h5.File(name, 'w');
  file.create_group('layers');
  const model = realConvLayersModel();
  const count = new Map<string, number>();
  for (const layer of model.layers) {
    const weights = layer.getWeights();
    if (weights.length === 0) continue;
    const base = layer.getClassName() === 'Conv2D' ? 'conv2d' : 'dense';
    const k = count.get(base) ?? 0;
    count.set(base, k + 1);
    const group = `layers/${k === 0 ? base : `${base}_${k}`}`;
    file.create_group(group);
    file.create_group(`${group}/vars`);
    const vars = file.get(`${group}/vars`) as InstanceType<typeof h5.Group>;
    weights.forEach((w, i) =>
      vars.create_dataset({ name: String(i), data: w.dataSync(), shape: w.shape, dtype: '<f' }),
    );
  }
  model.dispose();
  file.close();
  const bytes = FS.readFile(name);
  FS.unlink(name);
  return bytes;
}

export async function benchKeras(log: (line: string) => void = console.log): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-bench-keras-'));
  try {
    const file = path.join(dir, 'conv.keras');
    writeFileSync(
      file,
      zipSync({
        'metadata.json': strToU8(JSON.stringify({ keras_version: '3.3.3' })),
        'config.json': strToU8(JSON.stringify(kerasConfig())),
        'model.weights.h5': await kerasWeights(),
      }),
    );
    const r = await benchRealConv('.keras', file, {});
    log(`keras ${r.backend}: ${r.figures}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
