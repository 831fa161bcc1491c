import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupDir, groupModels, treeLabel } from '../../src/extension/logic/modelGroups';
import { contextLabel, settingsText } from '../../src/extension/logic/resultContext';
import type { ResultEntry } from '../../src/extension/logic/resultStore';

function entry(modelPath: string): ResultEntry {
  return {
    modelPath,
    key: 'k',
    analysedAt: '2026-01-01T00:00:00.000Z',
    checkedAt: '2026-01-01T00:00:00.000Z',
    entropyMedian: 1,
    miMedian: 0.5,
    backend: null,
    signature: null,
    signatureSource: null,
    compareKey: null,
    context: { id: 'a', kind: 'alone', probe: null, reference: null, settings: '' },
  };
}

void test('a folder model is listed in its parent folder by folder/marker; files by name', () => {
  assert.equal(treeLabel('/w/runs/a/epoch-1/model.json'), 'epoch-1/model.json');
  assert.equal(groupDir('/w/runs/a/epoch-1/model.json'), '/w/runs/a');
  assert.equal(treeLabel('/w/ckpt/net.onnx'), 'net.onnx');
  assert.equal(groupDir('/w/ckpt/net.onnx'), '/w/ckpt');
});

void test('models group by folder, sorted; names that repeat across runs are told apart by their group', () => {
  const groups = groupModels([
    entry('/w/runs/b/epoch-1/model.json'),
    entry('/w/runs/a/epoch-2/model.json'),
    entry('/w/runs/a/epoch-1/model.json'),
    entry('/w/ckpt/net.onnx'),
  ]);
  assert.deepEqual(
    groups.map((g) => [g.dir, g.models.map((m) => m.label)]),
    [
      ['/w/ckpt', ['net.onnx']],
      ['/w/runs/a', ['epoch-1/model.json', 'epoch-2/model.json']],
      ['/w/runs/b', ['epoch-1/model.json']],
    ],
  );
});

void test('a context in words: alone, against a baseline, in a compare; the settings that change numbers', () => {
  const rel = (p: string) => p.replace('/w/', '');
  assert.equal(
    contextLabel(
      { id: '1', kind: 'alone', probe: '/w/data/digits.npy', reference: null, settings: '' },
      rel,
    ),
    'alone, on digits.npy',
  );
  assert.equal(
    contextLabel(
      {
        id: '2',
        kind: 'baseline',
        probe: '/w/p.npy',
        reference: '/w/base/model.json',
        settings: '',
      },
      rel,
    ),
    'against base/model.json, on p.npy',
  );
  assert.equal(
    contextLabel(
      {
        id: '3',
        kind: 'compare',
        probe: null,
        reference: 'the cohort median (compare of 4 models)',
        settings: '',
      },
      rel,
    ),
    'in a compare against the cohort median (compare of 4 models), on its own activations',
  );
  assert.equal(
    settingsText({
      bins: 100,
      binning: 'global',
      k: 3,
      samples: 1000,
      seed: 0,
      point: 'preactivation',
      layers: [],
      miNeuronCap: null,
      miPairs: null,
    }),
    '1000 samples, 100 global bins, k 3, seed 0',
  );
  assert.equal(
    settingsText({
      bins: 30,
      binning: 'layer',
      k: 5,
      estimator: 'mixed',
      samples: 600,
      seed: 2,
      point: 'output',
      layers: [],
      miNeuronCap: 64,
      miPairs: null,
    }),
    '600 samples, 30 layer bins, k 5, seed 2, mixed estimator, layer outputs, MI on 64 neurons',
  );
});
