// Mixed cohorts (issue 15): an activation dump named by PyTorch modules (fc1, fc2) compared
// with the ONNX export of the same network, whose nodes are /fc1/Gemm, /fc2/Gemm. The dump is
// the engine's own capture of that ONNX model on the same probe, so once the layers are
// mapped both must give the same numbers.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compare } from '../../src/core/analysis/compare';
import type { CompareOptions } from '../../src/core/analysis/compare';
import { encodeOnnxModel } from '../../src/core/capture/onnx/onnxProto';
import type { OnnxModelProto } from '../../src/core/capture/onnx/onnxProto';
import { openModel } from '../../src/core/capture/registry';
import { encodeNpy } from '../../src/core/io/npy';
import { loadProbe } from '../../src/core/probe/loadProbe';
import { compareTable } from '../../src/cli/commands/compare';
import { randn, tempDir } from '../fixtures/capture/helpers';
import { floatTensor, valueInfo } from '../fixtures/capture/onnxModels';

/**
 * x[batch, 6] -> fc1 (8) -> ReLU -> fc2 (5) -> tanh -> out (3), named as torch.onnx.export
 * (TorchScript, torch 1.13) names the nodes of a module with attributes fc1, act, fc2, out.
 */
function torchExportedMlp(): OnnxModelProto {
  const node = (name: string, opType: string, input: string[], output?: string) => ({
    name,
    opType,
    input,
    output: [output ?? `${name}_output_0`],
    attribute: [],
  });
  return {
    irVersion: 8,
    producerName: 'pytorch',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'torch_jit',
      node: [
        node('/fc1/Gemm', 'Gemm', ['x', 'fc1.weight', 'fc1.bias']),
        node('/act/Relu', 'Relu', ['/fc1/Gemm_output_0']),
        node('/fc2/Gemm', 'Gemm', ['/act/Relu_output_0', 'fc2.weight', 'fc2.bias']),
        node('/Tanh', 'Tanh', ['/fc2/Gemm_output_0']),
        node('/out/Gemm', 'Gemm', ['/Tanh_output_0', 'out.weight', 'out.bias'], 'y'),
      ],
      initializer: [
        floatTensor('fc1.weight', [6, 8], randn(31, 6, 8, 0.6)),
        floatTensor('fc1.bias', [8], randn(32, 1, 8, 0.1)),
        floatTensor('fc2.weight', [8, 5], randn(33, 8, 5, 0.6)),
        floatTensor('fc2.bias', [5], randn(34, 1, 5, 0.1)),
        floatTensor('out.weight', [5, 3], randn(35, 5, 3)),
        floatTensor('out.bias', [3], randn(36, 1, 3)),
      ],
      input: [valueInfo('x', ['batch', 6])],
      output: [valueInfo('y', ['batch', 3])],
      valueInfo: [],
    },
  };
}

const tmp = tempDir('memlens-mixed-');
after(tmp.cleanup);
const at = (name: string): string => path.join(tmp.dir, name);
const model = at('mlp.onnx');
const probeFile = at('probe.npy');
const samples = 300;

/**
 * Writes an S x N .npy dump with its layer sidecar: the ONNX model's own activations of the
 * given nodes on the probe, each layer under the name given.
 */
async function dumpOf(file: string, layers: [node: string, name: string][]): Promise<void> {
  const probe = await loadProbe(probeFile, { seed: 0 });
  const handle = await openModel(model);
  try {
    const { acts } = await handle.capture(probe, { layers: layers.map(([node]) => node) });
    const rows = new Float64Array(acts.samples * acts.neurons);
    for (let n = 0; n < acts.neurons; n++)
      for (let i = 0; i < acts.samples; i++)
        rows[i * acts.neurons + n] = acts.data[n * acts.samples + i];
    writeFileSync(file, encodeNpy(rows, [acts.samples, acts.neurons]));
    const slices = acts.layers.map((l, i) => ({ name: layers[i][1], start: l.start, end: l.end }));
    writeFileSync(file.replace(/\.npy$/, '.layers.json'), JSON.stringify({ layers: slices }));
  } finally {
    handle.dispose();
  }
}

before(async () => {
  writeFileSync(model, encodeOnnxModel(torchExportedMlp()));
  writeFileSync(probeFile, encodeNpy(randn(37, samples, 6), [samples, 6]));
  await dumpOf(at('torch.npy'), [
    ['/fc1/Gemm', 'fc1'],
    ['/fc2/Gemm', 'fc2'],
  ]);
  await dumpOf(at('renamed.npy'), [
    ['/fc1/Gemm', 'hidden_a'],
    ['/fc2/Gemm', 'hidden_b'],
  ]);
  await dumpOf(at('other.npy'), [
    ['/fc1/Gemm', 'fc1'],
    ['/out/Gemm', 'logits'],
  ]);
});

const opts = (extra: CompareOptions = {}): CompareOptions => ({
  probe: probeFile,
  threads: 1,
  bootstrapReplicates: 200,
  ...extra,
});

/** The same activations give the same measures: medians equal to float precision. */
function assertSameMedians(
  a: { summary: { entropy: { median: number }; mi: { median: number } } },
  b: typeof a,
): void {
  assert.ok(Number.isFinite(a.summary.entropy.median) && Number.isFinite(a.summary.mi.median));
  assert.ok(Math.abs(a.summary.entropy.median - b.summary.entropy.median) < 1e-9);
  assert.ok(Math.abs(a.summary.mi.median - b.summary.mi.median) < 1e-9);
}

void describe('a dump against the ONNX model of the same network', () => {
  void it('the dump as baseline: the model is asked fc1, fc2, finds /fc1/Gemm, /fc2/Gemm, and reads the same', async () => {
    const r = await compare([at('torch.npy'), model], opts({ baseline: at('torch.npy') }));
    const [dump, onnx] = r.models;
    assert.equal(onnx.error, undefined);
    assert.equal(onnx.notComparable, undefined);
    assert.deepEqual(onnx.layerMapping, [
      { from: '/fc1/Gemm', to: 'fc1', how: 'name' },
      { from: '/fc2/Gemm', to: 'fc2', how: 'name' },
    ]);
    // Read under the dump's names, the widths its own.
    assert.deepEqual(
      onnx.layers.map((l) => [l.name, l.neurons]),
      [
        ['fc1', 8],
        ['fc2', 5],
      ],
    );
    assertSameMedians(dump, onnx);
    // Nothing moved: no signature, an I ratio of 1, and the mapping said.
    assert.equal(onnx.signature.kind, 'none');
    assert.ok(Math.abs(onnx.signature.miRatio - 1) < 1e-9);
    assert.match(
      onnx.signature.explanation,
      /; layers matched by name \(\/fc1\/Gemm → fc1, \/fc2\/Gemm → fc2\)$/,
    );
    assert.equal(dump.layerMapping, undefined);
    // The CLI text says it on the model's line.
    const text = compareTable(r);
    assert.equal(text.split('\n').filter((l) => l.includes('layers matched by name')).length, 1);
  });

  void it('the model as baseline: the dump is asked /fc1/Gemm, /fc2/Gemm and finds fc1, fc2', async () => {
    const r = await compare([model, at('torch.npy')], opts({ baseline: model }));
    const dump = r.models[1];
    assert.equal(dump.notComparable, undefined);
    assert.deepEqual(dump.layerMapping, [
      { from: 'fc1', to: '/fc1/Gemm', how: 'name' },
      { from: 'fc2', to: '/fc2/Gemm', how: 'name' },
    ]);
    assertSameMedians(r.models[0], dump);
  });

  void it('explicit --layers fc1,fc2 work for both', async () => {
    const r = await compare([at('torch.npy'), model], opts({ layers: ['fc1', 'fc2'] }));
    assert.ok(r.models.every((m) => m.error === undefined && m.notComparable === undefined));
    assertSameMedians(r.models[0], r.models[1]);
    // No reference: no explanation line, so the mapping has a line of its own.
    const lines = compareTable(r).split('\n');
    assert.ok(
      lines.includes('mlp: layers matched by name (/fc1/Gemm → fc1, /fc2/Gemm → fc2)'),
      lines.join('\n'),
    );
  });

  void it('names that share nothing: matched by position and width, and said so', async () => {
    const r = await compare([at('renamed.npy'), model], opts({ baseline: at('renamed.npy') }));
    const onnx = r.models[1];
    assert.equal(onnx.notComparable, undefined);
    assert.deepEqual(onnx.layerMapping, [
      { from: '/fc1/Gemm', to: 'hidden_a', how: 'position' },
      { from: '/fc2/Gemm', to: 'hidden_b', how: 'position' },
    ]);
    assertSameMedians(r.models[0], onnx);
    assert.match(onnx.signature.explanation, /layers matched by position and width/);
  });

  void it('no mapping: not comparable, naming the layers on each side in one line', async () => {
    const r = await compare([at('other.npy'), model], opts({ baseline: at('other.npy') }));
    const onnx = r.models[1];
    assert.equal(onnx.error, undefined);
    assert.equal(onnx.layerMapping, undefined);
    assert.equal(
      onnx.notComparable,
      'measured layers /fc1/Gemm (8), /fc2/Gemm (5); those of other are fc1 (8), logits (3)',
    );
    assert.equal(onnx.signature.kind, 'none');
  });
});
