// Mapping the measured layers of one network saved in two formats (issue 15, mixed cohorts):
// hand-worked mappings of names and widths, and how an asked layer name is looked up.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NamedLayer } from '../../src/core/analysis/layerMapping';
import { isComplete, layerKey, mapLayers, mappingNote } from '../../src/core/analysis/layerMapping';
import { lookupLayer, selectLayers } from '../../src/core/capture/common/layerSelection';
import type { LayerInfo } from '../../src/core/capture/format';
import { UserError } from '../../src/core/errors';

const layers = (spec: string): NamedLayer[] =>
  spec.split(' ').map((s) => {
    const [name, neurons] = s.split('=');
    return { name, neurons: Number(neurons) };
  });

void describe('layerKey: a name without its format decoration', () => {
  void it('strips ONNX scopes and ops, tensor suffixes, wrapper prefixes and parameter names', () => {
    const cases: [string, string][] = [
      ['fc1', 'fc1'],
      ['/fc1/Gemm', 'fc1'],
      ['/fc1/MatMul', 'fc1'],
      ['/fc1/Add', 'fc1'],
      ['/fc1/Gemm_output_0', 'fc1'],
      ['/act/Relu', 'act'],
      // TorchScript scopes repeat the module path; other exporters give one part per scope.
      ['/block/block.0/Gemm', 'block.0'],
      ['/encoder/layer.0/fc/MatMul', 'encoder.layer.0.fc'],
      ['module.fc1', 'fc1'],
      ['model.fc1', 'fc1'],
      ['module.model.block.0', 'block.0'],
      ['fc1.weight', 'fc1'],
      ['dense_1/BiasAdd:0', 'dense_1'],
      ['dense_1', 'dense_1'],
      // A functional op belongs to no module; a lower-case last scope is no op.
      ['/Tanh', ''],
      ['/Relu_1', ''],
      ['/2/gemm', '2.gemm'],
    ];
    for (const [name, key] of cases) assert.equal(layerKey(name), key, name);
  });
});

void describe('mapLayers', () => {
  void it('exact names: every pair exact, nothing to say', () => {
    const m = mapLayers(layers('fc1=8 fc2=5'), layers('fc1=8 fc2=5'));
    assert.deepEqual(m.pairs, [
      { from: 'fc1', to: 'fc1', how: 'exact' },
      { from: 'fc2', to: 'fc2', how: 'exact' },
    ]);
    assert.ok(isComplete(m));
    assert.equal(mappingNote(m.pairs), null);
  });

  void it('the ONNX export of a PyTorch net against its module names', () => {
    const m = mapLayers(layers('/fc1/Gemm=64 /fc2/Gemm=32'), layers('fc1=64 fc2=32'));
    assert.deepEqual(m.pairs, [
      { from: '/fc1/Gemm', to: 'fc1', how: 'name' },
      { from: '/fc2/Gemm', to: 'fc2', how: 'name' },
    ]);
    assert.ok(isComplete(m));
    assert.equal(mappingNote(m.pairs), 'layers matched by name (/fc1/Gemm → fc1, /fc2/Gemm → fc2)');
    // One side measures the head too: the rest is matched, `out` is left over.
    const more = mapLayers(layers('/fc1/Gemm=64 /fc2/Gemm=32'), layers('fc1=64 fc2=32 out=10'));
    assert.equal(more.pairs.length, 2);
    assert.deepEqual(more.unmatchedTo, [{ name: 'out', neurons: 10 }]);
    assert.ok(!isComplete(more));
  });

  void it('DataParallel and Lightning prefixes, in another order', () => {
    const m = mapLayers(layers('module.fc2=5 module.fc1=8'), layers('model.fc1=8 model.fc2=5'));
    assert.deepEqual(m.pairs, [
      { from: 'module.fc1', to: 'model.fc1', how: 'name' },
      { from: 'module.fc2', to: 'model.fc2', how: 'name' },
    ]);
    assert.ok(isComplete(m));
  });

  void it('never maps layers of different widths', () => {
    // fc2 is 4 wide on one side, 5 on the other: neither by name nor by position.
    const m = mapLayers(layers('/fc1/Gemm=8 /fc2/Gemm=4'), layers('fc1=8 fc2=5'));
    assert.deepEqual(m.pairs, [{ from: '/fc1/Gemm', to: 'fc1', how: 'name' }]);
    assert.deepEqual(m.unmatchedFrom, [{ name: '/fc2/Gemm', neurons: 4 }]);
    assert.deepEqual(m.unmatchedTo, [{ name: 'fc2', neurons: 5 }]);
    // Not even under the same name.
    const same = mapLayers(layers('fc1=8'), layers('fc1=9'));
    assert.deepEqual(same.pairs, []);
  });

  void it('by position and width when names disagree, and said so', () => {
    const m = mapLayers(layers('hidden_a=8 hidden_b=5'), layers('fc1=8 fc2=5'));
    assert.deepEqual(m.pairs, [
      { from: 'hidden_a', to: 'fc1', how: 'position' },
      { from: 'hidden_b', to: 'fc2', how: 'position' },
    ]);
    assert.equal(
      mappingNote(m.pairs),
      'layers matched by position and width (hidden_a → fc1, hidden_b → fc2)',
    );
    // Names where they agree, positions for the rest.
    const mixed = mapLayers(layers('/fc1/Gemm=8 q=5'), layers('fc1=8 fc2=5'));
    assert.deepEqual(
      mixed.pairs.map((p) => p.how),
      ['name', 'position'],
    );
    assert.equal(
      mappingNote(mixed.pairs),
      'layers matched by name (/fc1/Gemm → fc1) and by position and width (q → fc2)',
    );
    // Widths in another order, or another number of layers: no position.
    assert.deepEqual(mapLayers(layers('a=5 b=8'), layers('fc1=8 fc2=5')).pairs, []);
    assert.deepEqual(mapLayers(layers('a=8 b=5'), layers('fc1=8 fc2=5 out=3')).pairs, []);
  });

  void it('no position mapping where names contradict the order', () => {
    // fc2 matches by name across positions: the order is not to be trusted for h and x.
    const crossed = mapLayers(layers('/fc2/Gemm=6 h=6'), layers('x=6 fc2=6'));
    assert.deepEqual(crossed.pairs, [{ from: '/fc2/Gemm', to: 'fc2', how: 'name' }]);
    assert.deepEqual(
      crossed.unmatchedFrom.map((l) => l.name),
      ['h'],
    );
    assert.deepEqual(
      crossed.unmatchedTo.map((l) => l.name),
      ['x'],
    );
    // Two nodes of one module (key blk twice): no name match, and blk at position 1 names a
    // layer at position 0, so no position match either.
    const twice = mapLayers(layers('/blk/Gemm=4 /blk/Relu=4'), layers('blk=4 z=4'));
    assert.deepEqual(twice.pairs, []);
    assert.equal(twice.unmatchedFrom.length, 2);
  });
});

void describe('asked layers looked up in a model', () => {
  const onnx = ['/fc1/Gemm', '/act/Relu', '/fc2/Gemm', '/Tanh', '/out/Gemm'];
  const info = (name: string): LayerInfo => ({
    name,
    type: 'Gemm',
    outputShape: [null, 4],
    activation: null,
    measuredByDefault: true,
  });

  void it('exact names first, then the one layer a decorated or bare name stands for', () => {
    const known = onnx.map((n) => [n, `${n}_output_0`]);
    assert.deepEqual(lookupLayer('/fc2/Gemm', known), { index: 2 });
    assert.deepEqual(lookupLayer('/fc2/Gemm_output_0', known), { index: 2 });
    assert.deepEqual(lookupLayer('fc1', known), { index: 0 });
    assert.deepEqual(lookupLayer('module.fc2', known), { index: 2 });
    assert.deepEqual(lookupLayer('/fc1/Gemm', [['fc1'], ['fc2']]), { index: 0 });
  });

  void it('none found: the close names, never a guess', () => {
    const known = onnx.map((n) => [n]);
    assert.deepEqual(lookupLayer('fc_1', known), { close: ['/fc1/Gemm'] });
    assert.deepEqual(lookupLayer('hidden', known), { close: [] });
    // Two layers answer to blk: both offered, neither taken.
    assert.deepEqual(lookupLayer('blk', [['/blk/Gemm'], ['/blk/Relu']]), {
      close: ['/blk/Gemm', '/blk/Relu'],
    });
  });

  void it('a capture resolves --layers fc1,fc2 against the ONNX node names', () => {
    const all = onnx.map(info);
    assert.deepEqual(
      selectLayers('m.onnx', all, ['fc1', 'fc2']).map((l) => l.name),
      ['/fc1/Gemm', '/fc2/Gemm'],
    );
    assert.throws(
      () => selectLayers('m.onnx', all, ['fc1', '/fc1/Gemm']),
      /layer '\/fc1\/Gemm' is named twice/,
    );
    assert.throws(
      () => selectLayers('m.onnx', all, ['fc_1']),
      (err: unknown) =>
        err instanceof UserError &&
        err.message ===
          "m.onnx: unknown layer 'fc_1': expected one of /fc1/Gemm, /act/Relu, /fc2/Gemm, /Tanh, /out/Gemm; did you mean '/fc1/Gemm'?",
    );
  });
});
