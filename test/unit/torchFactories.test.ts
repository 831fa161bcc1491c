import assert from 'node:assert/strict';
import test from 'node:test';
import {
  factoryCandidates,
  importNameFor,
  moduleNameOf,
  sysPathFor,
} from '../../src/core/capture/torch/factoryCandidates';

void test('factory candidates: nn.Module subclasses, then argument-free model builders', () => {
  const source = [
    'import torch',
    'from torch import nn',
    'class Net(nn.Module):',
    '    def forward(self, x): return x',
    'class Lit(pl.LightningModule):',
    '    pass',
    'class Config(object):',
    '    pass',
    'class Plain:',
    '    pass',
    'def make_mlp(width=64):',
    '    return Net()',
    'def build_model(): return Net()',
    'def train(model, data): pass',
    'def get_net(*args, **kw): return Net()',
    'def _private_model(): pass',
    'def helper(): pass',
    '    def nested_model(self): pass',
  ].join('\n');
  assert.deepEqual(factoryCandidates('pkg.nets', source), [
    'pkg.nets:Net',
    'pkg.nets:Lit',
    'pkg.nets:make_mlp',
    'pkg.nets:build_model',
    'pkg.nets:get_net',
  ]);
});

void test('module names of Python files relative to a sys.path folder', () => {
  assert.equal(moduleNameOf('nets.py'), 'nets');
  assert.equal(moduleNameOf('pkg/models/resnet.py'), 'pkg.models.resnet');
  assert.equal(moduleNameOf('pkg/__init__.py'), 'pkg');
  assert.equal(moduleNameOf('my-scripts/train.py'), null);
  assert.equal(moduleNameOf('2020/run.py'), null);
});

void test("a model's sys.path: its folder and each one above it up to the workspace, nearest first", () => {
  const ws = '/ws';
  const sysPath = sysPathFor('/ws/runs/epochs', [ws]);
  assert.deepEqual(sysPath, ['/ws/runs/epochs', '/ws/runs', '/ws']);
  // A model outside the workspace: its folder, then the workspace.
  assert.deepEqual(sysPathFor('/elsewhere/m', [ws]), ['/elsewhere/m', '/ws']);
  // runs/nets.py imports as nets from runs/epochs/x.pt; lib/nets.py as lib.nets.
  assert.equal(importNameFor('/ws/runs/nets.py', sysPath), 'nets');
  assert.equal(importNameFor('/ws/runs/epochs/local.py', sysPath), 'local');
  assert.equal(importNameFor('/ws/lib/nets.py', sysPath), 'lib.nets');
  assert.equal(importNameFor('/other/nets.py', sysPath), null);
});
