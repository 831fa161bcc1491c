// The model viewer's outline (the analysis child's inspect job) against values read
// independently: ONNX facts from the `onnx` Python package on the same file, a TF.js model's
// parameter count summed here from its weights manifest, a .keras's from its weights file, a
// PyTorch module's as torch counts it, and dump files written here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { unzipSync } from 'fflate';
import { encodeNpy } from '../../src/core/io/npy';
import { skipWithout } from '../fixtures/optionalDeps';
import { inspectSource } from '../../src/extension/child/inspect';
import type {
  ArrayFileOutline,
  ModelFileOutline,
  ModelOutline,
} from '../../src/extension/child/protocol';

const root = path.resolve(__dirname, '..', '..');
const at = (p: string): string => path.join(root, p);
const python = process.env.MEMLENS_TEST_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

function asModel(o: ModelOutline): ModelFileOutline {
  assert.equal(o.kind, 'model');
  return o as ModelFileOutline;
}

function asArrays(o: ModelOutline): ArrayFileOutline {
  assert.equal(o.kind, 'arrays');
  return o as ArrayFileOutline;
}

/** What the onnx package reads from a model file: opset, producer, initializers, inputs, outputs. */
function onnxFacts(file: string): {
  opset: number;
  producer: string;
  parameters: number;
  inputs: [string, (number | null)[], number][];
  outputs: string[];
} {
  const script = `
import json, sys, onnx
m = onnx.load(sys.argv[1])
g = m.graph
size = lambda t: __import__('math').prod(t.dims)
weights = {t.name for t in g.initializer}
dims = lambda v: [d.dim_value if d.HasField('dim_value') else None for d in v.type.tensor_type.shape.dim]
print(json.dumps({
  'opset': [o.version for o in m.opset_import if o.domain in ('', 'ai.onnx')][0],
  'producer': (m.producer_name + ' ' + m.producer_version).strip(),
  'parameters': sum(size(t) for t in g.initializer),
  'inputs': [[v.name, dims(v), v.type.tensor_type.elem_type] for v in g.input if v.name not in weights],
  'outputs': [v.name for v in g.output],
}))`;
  const r = spawnSync(python, ['-c', script, file], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${python} with the onnx package (python3-onnx): ${r.stderr}`);
  return JSON.parse(r.stdout) as ReturnType<typeof onnxFacts>;
}

void describe('model viewer outline', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'memlens-viewer-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  for (const name of ['mlp', 'conv']) {
    void it(`${name}.onnx: opset, producer, parameters and inputs as the onnx package reads them`, async () => {
      const file = at(`test/capture/files/${name}.onnx`);
      const want = onnxFacts(file);
      const o = asModel(await inspectSource(file, null, {}));
      assert.equal(o.opset, want.opset);
      assert.equal(o.producer, want.producer);
      assert.equal(o.parameters, want.parameters);
      // TensorProto.FLOAT is 1.
      assert.deepEqual(
        o.inputs,
        want.inputs.map(([n, shape, type]) => ({
          name: n,
          shape,
          ...(type === 1 ? { dtype: 'float32' } : {}),
        })),
      );
      assert.deepEqual(
        o.outputs?.map((t) => t.name),
        want.outputs,
      );
      assert.equal(o.probeFit, null);
      assert.equal(o.generatedBy, undefined);
    });
  }

  void it('checks the probe against the model input with the analysis check', async () => {
    const mlp = at('test/capture/files/mlp.onnx');
    const fits = asModel(await inspectSource(mlp, at('test/capture/files/mlp-probe.npy'), {}));
    assert.deepEqual(fits.probeFit && { ...fits.probeFit, probe: '' }, {
      probe: '',
      fits: true,
      exampleShape: [6],
      fedShape: [6],
    });
    // conv-probe.npy holds 1x6x6 images; the MLP takes 6 features.
    const misfit = asModel(await inspectSource(mlp, at('test/capture/files/conv-probe.npy'), {}));
    assert.ok(misfit.probeFit !== null && !misfit.probeFit.fits && 'modelInput' in misfit.probeFit);
    assert.deepEqual(misfit.probeFit.exampleShape, [1, 6, 6]);
    assert.deepEqual(misfit.probeFit.modelInput, [null, 6]);
    const missing = asModel(await inspectSource(mlp, path.join(tmp, 'none.npy'), {}));
    assert.ok(missing.probeFit !== null && 'error' in missing.probeFit);
    assert.match(missing.probeFit.error, /none\.npy: cannot read the probe/);
  });

  void it('a TF.js model: its parameters are the sum over its weights manifest', async () => {
    const file = at('examples/generalising/model.json');
    const json = JSON.parse(readFileSync(file, 'utf8')) as {
      generatedBy: string;
      weightsManifest: { weights: { shape: number[] }[] }[];
    };
    let sum = 0;
    for (const group of json.weightsManifest)
      for (const w of group.weights) sum += w.shape.reduce((a, b) => a * b, 1);
    const o = asModel(await inspectSource(file, at('examples/probe.npy'), {}));
    assert.equal(o.parameters, sum);
    assert.equal(o.generatedBy, json.generatedBy);
    assert.equal(o.convertedBy, undefined, 'convertedBy is null in this file');
    assert.equal(o.opset, undefined);
    assert.deepEqual(o.inputs?.[0]?.shape, [null, 128]);
    assert.equal(o.outputs?.[0]?.name, 'output');
    assert.deepEqual(o.outputs?.[0]?.shape, [null, 10]);
    assert.equal(o.probeFit?.fits, true);
  });

  void it('a .keras model: its parameters are the values of every dataset in its weights file', async () => {
    const file = at('test/fixtures/real-keras/conv.keras');
    // Counted here from the archive's model.weights.h5 (h5wasm), not from the rebuilt model.
    const zip = unzipSync(new Uint8Array(readFileSync(file)));
    const h5 = await import('h5wasm');
    const { FS } = await h5.ready;
    const name = `/viewer-${process.pid}.h5`;
    FS.writeFile(name, zip['model.weights.h5']);
    const weights = new h5.File(name, 'r');
    let sum = 0;
    const walk = (group: InstanceType<typeof h5.Group>): void => {
      for (const key of group.keys()) {
        const item = group.get(key);
        if (item instanceof h5.Dataset) sum += (item.shape ?? []).reduce((a, b) => a * b, 1);
        else if (item instanceof h5.Group) walk(item);
      }
    };
    walk(weights);
    weights.close();
    FS.unlink(name);
    assert.ok(sum > 0);
    const o = asModel(await inspectSource(file, at('test/fixtures/real-keras/conv-probe.npy'), {}));
    assert.equal(o.parameters, sum);
  });

  void it(
    'a PyTorch module: its parameters as torch counts them (buffers aside)',
    { skip: skipWithout('python3-torch', hasTorch) },
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'memlens-viewer-torch-'));
      try {
        // BatchNorm's running mean and variance are buffers, not parameters: left out, as
        // sum(p.numel() for p in model.parameters()) leaves them.
        const made = spawnSync(
          python,
          [
            '-c',
            `import sys, torch
from torch import nn
torch.manual_seed(0)
m = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))
torch.save(m, sys.argv[1] + '/m.pt')
print(sum(p.numel() for p in m.parameters()))`,
            dir,
          ],
          { encoding: 'utf8' },
        );
        assert.equal(made.status, 0, made.stderr);
        writeFileSync(path.join(dir, 'probe.npy'), encodeNpy(new Float32Array(8 * 6), [8, 6]));
        const o = asModel(
          await inspectSource(path.join(dir, 'm.pt'), path.join(dir, 'probe.npy'), { python }),
        );
        assert.equal(o.parameters, Number(made.stdout.trim()));
        assert.equal(o.parameters, 6 * 5 + 5 + 2 * 5 + 5 * 2 + 2);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  void it('a file of arrays: its arrays, and whether it is a dump or probe data', async () => {
    const acts = path.join(tmp, 'acts.npz');
    const npz = spawnSync(
      python,
      [
        '-c',
        'import numpy as np, sys; np.savez(sys.argv[1], dense=np.ones((10, 4), "f4"), relu=np.ones((10, 3)))',
        acts,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(npz.status, 0, npz.stderr);
    const dump = asArrays(await inspectSource(acts, null, {}));
    assert.deepEqual(dump.arrays, [
      { name: 'dense', dtype: 'float32', shape: [10, 4] },
      { name: 'relu', dtype: 'float64', shape: [10, 3] },
    ]);
    assert.deepEqual(dump.dump, { samples: 10, neurons: 7, layers: 2 });
    assert.equal(dump.isProbe, false);

    const images = path.join(tmp, 'images.npy');
    writeFileSync(images, encodeNpy(new Float32Array(5 * 4 * 4), [5, 4, 4]));
    const probe = asArrays(await inspectSource(images, images, {}));
    assert.deepEqual(probe.arrays, [{ name: 'images', dtype: 'float32', shape: [5, 4, 4] }]);
    assert.ok('error' in probe.dump && /expected a 2-D S x N array/.test(probe.dump.error));
    assert.deepEqual(probe.probe, { shape: [5, 4, 4] });
    assert.equal(probe.isProbe, true);

    // Weights of different lengths: safetensors, read, but no dump (and never probe data).
    const weights = path.join(tmp, 'weights.safetensors');
    const header = JSON.stringify({
      kernel: { dtype: 'F32', shape: [3, 2], data_offsets: [0, 24] },
      bias: { dtype: 'F32', shape: [2], data_offsets: [24, 32] },
    });
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeFileSync(weights, Buffer.concat([len, Buffer.from(header), Buffer.alloc(32)]));
    const w = asArrays(await inspectSource(weights, null, {}));
    assert.deepEqual(
      w.arrays?.map((a) => [a.name, a.dtype, a.shape]),
      [
        ['kernel', 'float32', [3, 2]],
        ['bias', 'float32', [2]],
      ],
    );
    assert.ok('error' in w.dump && /has 2 samples: expected 3/.test(w.dump.error));
    assert.equal(w.probe, undefined);

    const broken = path.join(tmp, 'broken.npy');
    writeFileSync(broken, 'not an array');
    const b = asArrays(await inspectSource(broken, null, {}));
    assert.equal(b.arrays, null);
    assert.match(b.error ?? '', /broken\.npy: expected a \.npy file/);
  });
});
