// Crafted and damaged model files, as anyone may download them: layers-model topologies that
// made tfjs-layers' Container.fromConfig loop forever (a call reading a missing layer, a
// keras_history whose name is not a string), Keras configs whose class_name is not a string,
// a damaged .h5 whose libhdf5 error stack reached stderr, NaN weights blamed on the probe.
// Anything that used to hang runs in a child process with a time limit: a loop cannot be
// interrupted from inside the process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { strToU8, unzipSync, zipSync } from 'fflate';
import type * as H5wasm from 'h5wasm';
import { normalizeKerasConfig } from '../../src/core/capture/keras/kerasConfig';
import { fileSystemHandler } from '../../src/core/capture/tfjs/fsHandler';
import { TOPOLOGY_LIMITS, checkLayersTopology } from '../../src/core/capture/tfjs/topologyCheck';
import { openModel } from '../../src/core/capture/registry';
import { UserError } from '../../src/core/errors';
import { probeOf, randn, rejectsWith, tempDir } from '../fixtures/capture/helpers';
import { bundleCli } from '../fixtures/cliBundle';

const tmp = tempDir('memlens-crafted-');
after(tmp.cleanup);
const root = path.resolve(__dirname, '..', '..');

type Json = Record<string, unknown>;

const inputLayer = (name: string, width = 4): Json => ({
  class_name: 'InputLayer',
  name,
  config: { batch_input_shape: [null, width], dtype: 'float32', name },
  inbound_nodes: [],
});
const dense = (name: string, inbound: unknown[], units = 3): Json => ({
  class_name: 'Dense',
  name,
  config: {
    name,
    units,
    activation: 'relu',
    use_bias: true,
    kernel_initializer: { class_name: 'Zeros', config: {} },
    bias_initializer: { class_name: 'Zeros', config: {} },
  },
  inbound_nodes: inbound,
});
/** A Keras 2-form call reading each of `refs` (`[layer, node, tensor]`). */
const call = (...refs: [unknown, unknown, unknown][]): unknown[] => refs.map((r) => [...r, {}]);
const functional = (
  layers: Json[],
  inputs: unknown = [['in', 0, 0]],
  outputs: unknown = [['d', 0, 0]],
): Json => ({
  class_name: 'Model',
  config: { name: 'm', layers, input_layers: inputs, output_layers: outputs },
});
/** A Keras 3 call: `{args: [__keras_tensor__], kwargs}` with this keras_history. */
const kerasCall = (history: unknown): Json => ({
  args: [
    {
      class_name: '__keras_tensor__',
      config: { shape: [null, 4], dtype: 'float32', keras_history: history },
    },
  ],
  kwargs: {},
});

function refused(topology: unknown, pattern: RegExp): void {
  assert.throws(
    () => checkLayersTopology('crafted.json', topology),
    (err: unknown) => {
      assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
      assert.match(err.message, /^crafted\.json: /);
      assert.match(err.message, pattern);
      assert.ok(!err.message.includes('\n'), 'one line');
      return true;
    },
  );
}

void describe('layers-model topology check', () => {
  void it('refuses calls tfjs-layers would wait for forever', () => {
    // (a) an inbound node naming a layer the model lacks.
    refused(
      functional([inputLayer('in'), dense('d', [call(['nope', 0, 0])])]),
      /layer 'd' inbound node 0 reads layer 'nope': expected a layer of model 'm', found none of that name/,
    );
    // A layer name that is not a string, in the Keras 2 form and as a Keras 3 keras_history.
    refused(
      functional([inputLayer('in'), dense('d', [call([5, 0, 0])])]),
      /layer 'd' inbound node 0: expected a reference \[layer name, node index, tensor index\], found \[5, 0, 0, an object\]/,
    );
    refused(
      functional([inputLayer('in'), dense('d', [kerasCall([5, 0, 0])])]),
      /layer 'd' inbound node 0: expected keras_history \[layer name, node index, tensor index\], found \[5, 0, 0\]/,
    );
    refused(
      functional([inputLayer('in'), dense('d', [kerasCall('in')])]),
      /expected keras_history .*, found 'in'/,
    );
    // A call the layer never makes; a negative or fractional index.
    refused(
      functional([inputLayer('in'), dense('d', [call(['in', 1, 0])])]),
      /layer 'd' inbound node 0 reads call 1 of layer 'in': expected a node index below 1 \(its calls\), found 1/,
    );
    refused(
      functional([inputLayer('in'), dense('d', [call(['in', -1, 0])])]),
      /expected a reference/,
    );
    refused(
      functional([inputLayer('in'), dense('d', [call(['in', 0, 0.5])])]),
      /expected a reference/,
    );
    // A reference one level short: its characters would be read as layer names.
    refused(
      functional([inputLayer('in'), dense('d', [['in', 0, 0, {}]])]),
      /layer 'd' inbound node 0: expected a reference .*, found 'in'/,
    );
    // A call reading nothing makes no node, so its readers wait.
    refused(
      functional([inputLayer('in'), dense('d', [[]])]),
      /layer 'd' inbound node 0: expected at least one input tensor, found none/,
    );
    // Two layers reading each other.
    refused(
      functional([
        inputLayer('in'),
        dense('a', [call(['b', 0, 0])]),
        dense('b', [call(['a', 0, 0])]),
        dense('d', [call(['b', 0, 0])]),
      ]),
      /model 'm': expected layer calls that do not depend on themselves, found a cycle through layer '[ab]'/,
    );
    // A layer's second call before its first can run.
    refused(
      functional([inputLayer('in'), dense('d', [call(['d', 1, 0]), call(['in', 0, 0])])]),
      /found a cycle through layer 'd'/,
    );
  });

  void it('refuses names tfjs-layers would queue calls under twice or nowhere', () => {
    refused(
      functional([
        inputLayer('in'),
        dense('d', [call(['in', 0, 0])]),
        dense('d', [call(['in', 0, 0])]),
      ]),
      /model 'm': expected unique layer names, found 'd' twice/,
    );
    const mismatch = dense('d', [call(['in', 0, 0])]);
    (mismatch.config as Json).name = 'other';
    refused(
      functional([inputLayer('in'), mismatch]),
      /layer 'd': expected its config name to be the same, found 'other'/,
    );
    const unnamed = dense('d', [call(['in', 0, 0])]);
    delete unnamed.name;
    refused(
      functional([inputLayer('in'), unnamed]),
      /model 'm' layer 1 \('Dense'\): expected a string name, found undefined/,
    );
    refused(
      functional([
        { ...inputLayer('in'), inbound_nodes: [call(['in', 0, 0])] },
        dense('d', [call(['in', 0, 0])]),
      ]),
      /InputLayer 'in': expected no inbound nodes, found 1/,
    );
  });

  void it('refuses the inputs and outputs of a model naming layers it lacks', () => {
    const layers = [inputLayer('in'), dense('d', [call(['in', 0, 0])])];
    refused(
      functional(layers, [['in', 0, 0]], [['zz', 0, 0]]),
      /model 'm' output_layers reads layer 'zz'/,
    );
    refused(
      functional(layers, [['in', 3, 0]]),
      /model 'm' input_layers reads call 3 of layer 'in'/,
    );
    refused(functional(layers, [['in', 0, 0]], []), /expected output_layers, a list/);
    refused(
      functional(layers, [['in', 0, 0]], { d: ['d', 0, 0] }),
      /expected output_layers, a list/,
    );
  });

  void it('refuses class names and configs that are not what Keras writes', () => {
    const layers = [inputLayer('in'), dense('d', [call(['in', 0, 0])])];
    refused(
      functional([inputLayer('in'), { ...layers[1], class_name: 7 }]),
      /expected every class_name to be a string, found 7 \(layer 'd'\)/,
    );
    const init = dense('d', [call(['in', 0, 0])]);
    (init.config as Json).kernel_initializer = { class_name: ['Zeros'], config: {} };
    refused(
      functional([inputLayer('in'), init]),
      /expected every class_name to be a string, found \['Zeros'\]/,
    );
    refused(
      functional([inputLayer('in'), { ...layers[1], config: null }]),
      /model 'm' layer 1 \('Dense'\): expected a config object, found null/,
    );
    refused(
      { class_name: 'Dense', config: {} },
      /expected a Sequential or functional model at the top of the topology, found class_name 'Dense'/,
    );
    refused(
      { model_config: null },
      /expected model_config to be a model \(an object\), found null/,
    );
    refused([], /expected a layers-model topology \(an object\), found \[\]/);
    // TF.js reads keys in camelCase: another spelling of a key it relies on is refused...
    refused(
      functional([inputLayer('in'), { ...dense('d', []), inboundNodes: [call(['nope', 0, 0])] }]),
      /expected the key 'inbound_nodes', found 'inboundNodes' \(read by TF\.js as the same\)/,
    );
    refused(
      functional([inputLayer('in'), { ...layers[1], class__name: 'Dense' }]),
      /expected the key 'class_name', found 'class__name'/,
    );
    // ...and so is a model class under a name that TF.js reads as that class.
    const nested = { ...functional(layers), class_name: 'Model_', name: 'inner' };
    refused(
      { class_name: 'Sequential', config: { name: 's', layers: [nested] } },
      /expected the model class 'Model', found 'Model_'/,
    );
  });

  void it('checks models nested anywhere, Keras 3 calls included', () => {
    const inner = functional([inputLayer('in'), dense('d', [call(['gone', 0, 0])])]);
    refused(
      {
        class_name: 'Sequential',
        config: {
          name: 's',
          layers: [{ class_name: 'TimeDistributed', config: { name: 't', layer: inner } }],
        },
      },
      /layer 'd' inbound node 0 reads layer 'gone'/,
    );
    // Keras 3: a mask in kwargs must name a layer too.
    const masked = dense('d', [
      { ...kerasCall(['in', 0, 0]), kwargs: { mask: kerasCall(['nope', 0, 0]).args } },
    ]);
    refused(functional([inputLayer('in'), masked]), /layer 'd' reads layer 'nope'/);
  });

  void it('bounds the layers and the nesting', () => {
    const many = Array.from({ length: TOPOLOGY_LIMITS.layers + 1 }, (_, i) => dense(`d${i}`, []));
    refused(
      { class_name: 'Sequential', config: { name: 's', layers: many } },
      new RegExp(`expected a layers-model of at most ${TOPOLOGY_LIMITS.layers} layers, found more`),
    );
    // A chain listed backwards: tfjs-layers would rebuild one layer per pass over the list.
    const chain = Array.from({ length: 2000 }, (_, i) =>
      dense(`c${i}`, [call([i === 0 ? 'in' : `c${i - 1}`, 0, 0])]),
    );
    refused(
      functional([inputLayer('in'), ...chain.reverse()], [['in', 0, 0]], [['c1999', 0, 0]]),
      /model 'm': expected its layers listed in the order they run, found an order that takes 2000 passes over 2001 layers to rebuild/,
    );
    checkLayersTopology(
      'chain.json',
      functional([inputLayer('in'), ...chain.reverse()], [['in', 0, 0]], [['c1999', 0, 0]]),
    );
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const layer = dense('d', [call(['in', 0, 0])]);
    (layer.config as Json).extra = deep;
    refused(
      functional([inputLayer('in'), layer]),
      /expected a model topology nested at most 100 levels deep, found deeper nesting/,
    );
  });

  void it('accepts shared layers called at several depths, A(B(A(B(x)))), and the example models', async () => {
    // TF.js' own config of such a model: node indices that count each layer's calls.
    const x = tf.input({ shape: [4], name: 'x' });
    const a = tf.layers.dense({ units: 4, name: 'a' });
    const b = tf.layers.dense({ units: 4, name: 'b' });
    const y = b.apply(a.apply(b.apply(a.apply(x)))) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: y });
    const file = path.join(tmp.dir, 'shared', 'model.json');
    await model.save(fileSystemHandler(file));
    model.dispose();
    const json = JSON.parse(readFileSync(file, 'utf8')) as { modelTopology: unknown };
    checkLayersTopology(file, json.modelTopology);
    const handle = await openModel(file, { backend: 'cpu' });
    assert.deepEqual(
      handle.layers.map((l) => l.name),
      ['a', 'b'],
    );
    handle.dispose();
    for (const example of ['shortcut', 'generalising', 'random-labels']) {
      const p = path.join(root, 'examples', example, 'model.json');
      checkLayersTopology(p, (JSON.parse(readFileSync(p, 'utf8')) as Json).modelTopology);
    }
    // Keras 3 configs as written (keras_history calls, ops, masks) and in the Keras 2 form.
    for (const name of ['masked', 'nested', 'standins', 'bigru']) {
      const p = path.join(root, 'test/fixtures/real-keras', `${name}.keras`);
      const config = JSON.parse(
        new TextDecoder().decode(unzipSync(readFileSync(p))['config.json']),
      ) as Json;
      checkLayersTopology(p, config);
      checkLayersTopology(p, normalizeKerasConfig(config, p));
    }
  });
});

type H5 = typeof H5wasm;

/** Builds an HDF5 file in h5wasm's in-memory file system and returns its bytes. */
async function hdf5Bytes(fill: (file: InstanceType<H5['File']>) => void): Promise<Uint8Array> {
  const h5 = await import('h5wasm');
  const { FS } = await h5.ready;
  const name = `/crafted-${Math.random().toString(36).slice(2)}.h5`;
  const file = new h5.File(name, 'w');
  fill(file);
  file.close();
  const bytes = FS.readFile(name);
  FS.unlink(name);
  return bytes;
}

/** model.weights.h5 of a .keras with one Dense layer (4 -> 3): layers/dense/vars/0 and 1. */
function denseWeights(kernel: Float32Array): Promise<Uint8Array> {
  return hdf5Bytes((f) => {
    f.create_group('layers');
    f.create_group('layers/dense');
    f.create_group('layers/dense/vars');
    const vars = f.get('layers/dense/vars') as InstanceType<H5['Group']>;
    vars.create_dataset({ name: '0', data: kernel, shape: [4, 3], dtype: '<f' });
    vars.create_dataset({ name: '1', data: new Float32Array(3), shape: [3], dtype: '<f' });
  });
}

/** A Keras 3 .keras file: a functional model in -> d (Dense 3) whose call has `history`. */
async function writeKeras(
  name: string,
  history: unknown,
  opts: { className?: unknown; kernel?: Float32Array } = {},
): Promise<string> {
  const config = {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config: {
      name: 'f',
      trainable: true,
      layers: [
        {
          module: 'keras.layers',
          class_name: 'InputLayer',
          config: { batch_shape: [null, 4], dtype: 'float32', name: 'in' },
          name: 'in',
          inbound_nodes: [],
        },
        {
          module: 'keras.layers',
          class_name: opts.className ?? 'Dense',
          config: { name: 'd', units: 3, activation: 'linear', use_bias: true },
          name: 'd',
          inbound_nodes: [kerasCall(history)],
        },
      ],
      input_layers: [['in', 0, 0]],
      output_layers: [['d', 0, 0]],
    },
  };
  const file = path.join(tmp.dir, name);
  writeFileSync(
    file,
    zipSync({
      'metadata.json': strToU8(JSON.stringify({ keras_version: '3.3.3' })),
      'config.json': strToU8(JSON.stringify(config)),
      'model.weights.h5': await denseWeights(opts.kernel ?? randn(5, 4, 3)),
    }),
  );
  return file;
}

/** A TF.js model.json (functional: in -> d1, Dense 4 -> 3) with this topology's layers. */
function writeTfjs(name: string, layers: Json[], kernel: Float32Array = randn(7, 4, 3)): string {
  const dir = path.join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  const bias = new Float32Array(3);
  writeFileSync(
    path.join(dir, 'weights.bin'),
    Buffer.concat([Buffer.from(kernel.buffer), Buffer.from(bias.buffer)]),
  );
  const json = {
    format: 'layers-model',
    modelTopology: functional(layers, [['in', 0, 0]], [['d1', 0, 0]]),
    weightsManifest: [
      {
        paths: ['weights.bin'],
        weights: [
          { name: 'd1/kernel', shape: [4, 3], dtype: 'float32' },
          { name: 'd1/bias', shape: [3], dtype: 'float32' },
        ],
      },
    ],
  };
  const file = path.join(dir, 'model.json');
  writeFileSync(file, JSON.stringify(json));
  return file;
}

void describe('crafted model files through the CLI: one line on stderr, never a hang', () => {
  const cli = path.join(__dirname, 'memlensCliCrafted.js');
  before(async () => {
    await bundleCli(cli);
  });

  /** `memlens layers <file>`: it must end (within 60 s) with exit 1 and one stderr line. */
  function oneLine(file: string, pattern: RegExp): void {
    assert.ok(existsSync(cli));
    const run = spawnSync(process.execPath, [cli, 'layers', file], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.notEqual(run.signal, 'SIGTERM', `memlens layers ${file} did not finish in 60 s`);
    assert.equal(run.status, 1, run.stderr);
    const lines = run.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, `one stderr line, found:\n${run.stderr.slice(0, 2000)}`);
    assert.ok(lines[0].startsWith(`memlens: ${file}: `), lines[0]);
    assert.doesNotMatch(lines[0], /internal error/);
    assert.match(lines[0], pattern);
  }

  void it('TF.js model.json: a call reading a missing layer, a layer name that is not a string', () => {
    oneLine(
      writeTfjs('missing', [inputLayer('in'), dense('d1', [call(['nope', 0, 0])])]),
      /layer 'd1' inbound node 0 reads layer 'nope': expected a layer of model 'm'/,
    );
    oneLine(
      writeTfjs('number', [inputLayer('in'), dense('d1', [call([5, 0, 0])])]),
      /expected a reference \[layer name/,
    );
  });

  void it('.keras: a keras_history naming no layer or not by a string; a class_name that is not a string', async () => {
    oneLine(
      await writeKeras('history.keras', [5, 0, 0]),
      /config\.json: layer 'd' inbound node 0: expected keras_history \[layer name, node index, tensor index\], found \[5, 0, 0\]/,
    );
    oneLine(await writeKeras('object.keras', [{ a: 1 }, 0, 0]), /expected keras_history/);
    oneLine(
      await writeKeras('missing.keras', ['nope', 0, 0]),
      /layer 'd' inbound node 0 reads layer 'nope'/,
    );
    oneLine(await writeKeras('index.keras', ['in', 7, 0]), /reads call 7 of layer 'in'/);
    // These gave "internal error: TypeError: className.replace is not a function" and a stack.
    oneLine(
      await writeKeras('class.keras', ['in', 0, 0], { className: 7 }),
      /config\.json: expected every class_name to be a string, found 7 \(layer 'd'\)/,
    );
    oneLine(
      await writeKeras('classlist.keras', ['in', 0, 0], { className: ['Dense'] }),
      /expected every class_name to be a string, found \['Dense'\]/,
    );
  });

  void it('a damaged legacy .h5: libhdf5 prints nothing, the error is one line', async () => {
    const text = JSON.stringify({
      class_name: 'Sequential',
      config: {
        name: 's',
        layers: [
          { class_name: 'Dense', config: { name: 'd', units: 3, batch_input_shape: [null, 4] } },
        ],
      },
    });
    const good = await hdf5Bytes((f) => {
      f.create_attribute('model_config', text, null, `S${text.length}`);
      f.create_group('model_weights');
    });
    // Every 7th byte from 100 on flipped: the superblock reads, the root group's header does not.
    const mutated = Uint8Array.from(good, (b, i) =>
      i >= 100 && (i - 100) % 7 === 0 ? b ^ 0x5a : b,
    );
    const file = path.join(tmp.dir, 'damaged.h5');
    writeFileSync(file, mutated);
    oneLine(file, /expected an HDF5 file libhdf5 can read, found damaged data reading '\/'/);
    const truncated = path.join(tmp.dir, 'truncated.h5');
    writeFileSync(truncated, good.subarray(0, good.length >> 1));
    oneLine(truncated, /expected an HDF5 file, found bytes libhdf5 cannot open/);
  });
});

void describe('non-finite activations from a finite probe blame the model', () => {
  const nanKernel = (): Float32Array => {
    const k = randn(9, 4, 3);
    k[5] = NaN;
    return k;
  };

  void it('TF.js model.json whose weights.bin holds a NaN: names the layer and the weight', async () => {
    const file = writeTfjs(
      'nan',
      [inputLayer('in'), dense('d1', [call(['in', 0, 0])])],
      nanKernel(),
    );
    const handle = await openModel(file, { backend: 'cpu' });
    try {
      const probe = { ...probeOf(randn(3, 6, 4), [6, 4]), source: 'probe.npy' };
      await rejectsWith(
        handle.capture(probe, { layers: ['d1'] }),
        /layer 'd1' produced NaN on probe example 0 \(neuron 2\) from finite probe values: expected finite weights, found NaN in weight 'd1\/kernel' of layer 'd1' \(value 5\): the model file may be corrupt/,
      );
      await assert.rejects(handle.capture(probe, { layers: ['d1'] }), (e: Error) =>
        e.message.startsWith(`${file}: `),
      );
      // A probe holding a NaN (loadProbe refuses one; here it reaches capture) keeps the blame.
      const bad = randn(3, 6, 4);
      bad[0] = NaN;
      await rejectsWith(
        handle.capture({ ...probeOf(bad, [6, 4]), source: 'bad.npy' }, { layers: ['d1'] }),
        /^bad\.npy: layer 'd1' produced NaN on probe example 0/,
      );
    } finally {
      handle.dispose();
    }
  });

  void it('.keras whose weights hold a NaN: names the layer and the weight', async () => {
    const file = await writeKeras('nan.keras', ['in', 0, 0], { kernel: nanKernel() });
    const handle = await openModel(file, { backend: 'cpu' });
    try {
      await rejectsWith(
        handle.capture(probeOf(randn(11, 20, 4), [20, 4]), { layers: ['d'] }),
        /nan\.keras: layer 'd' produced NaN on probe example 0 \(neuron 2\) from finite probe values: expected finite weights, found NaN in weight 'd\/kernel' of layer 'd' \(value 5\)/,
      );
    } finally {
      handle.dispose();
    }
  });
});
