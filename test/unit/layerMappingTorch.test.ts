// Mixed cohorts with a real export (issue 15): a PyTorch net exported by torch.onnx.export
// (Debian's python3-torch; MEMLENS_TEST_PYTHON names another Python) is compared with dumps
// of the same network under PyTorch module names: the engine's own capture of the export
// (the same activations: the same medians), and PyTorch's forward hooks on the net wrapped in
// DataParallel (`module.fc1`: the same values to float32 precision).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compare } from '../../src/core/analysis/compare';
import { openModel } from '../../src/core/capture/registry';
import { encodeNpy } from '../../src/core/io/npy';
import { loadProbe } from '../../src/core/probe/loadProbe';
import { tempDir } from '../fixtures/capture/helpers';
import { skipWithout } from '../fixtures/optionalDeps';

const python = process.env.MEMLENS_TEST_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

const EXPORT = `
import json, os, sys
import numpy as np
import torch
from torch import nn

out = sys.argv[1]
torch.manual_seed(0)

class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 8)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(8, 5)
        self.out = nn.Linear(5, 3)

    def forward(self, x):
        return self.out(torch.tanh(self.fc2(self.act(self.fc1(x)))))

net = Mlp().eval()
x = torch.randn(300, 6)
np.save(os.path.join(out, 'probe.npy'), x.numpy())
torch.onnx.export(net, x[:2], os.path.join(out, 'mlp.onnx'), input_names=['x'],
                  output_names=['y'], dynamic_axes={'x': {0: 'batch'}, 'y': {0: 'batch'}})
wrapped = nn.DataParallel(net)
got = {}
modules = dict(wrapped.named_modules())
for name in ['module.fc1', 'module.fc2']:
    modules[name].register_forward_hook(lambda _m, _i, o, name=name: got.__setitem__(name, o))
with torch.no_grad():
    wrapped(x)
acts = torch.cat([got['module.fc1'], got['module.fc2']], 1).double().numpy()
np.save(os.path.join(out, 'hooks.npy'), acts)
json.dump({'layers': [{'name': 'module.fc1', 'start': 0, 'end': 8},
                      {'name': 'module.fc2', 'start': 8, 'end': 13}]},
          open(os.path.join(out, 'hooks.layers.json'), 'w'))
`;

const tmp = tempDir('memlens-mixed-torch-');
after(tmp.cleanup);
const at = (name: string): string => path.join(tmp.dir, name);

void describe('a dump against the torch.onnx.export of the same net', () => {
  before(async () => {
    if (!hasTorch) return;
    const run = spawnSync(python, ['-c', EXPORT, tmp.dir], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    // The engine's own capture of the export, saved under the module names.
    const probe = await loadProbe(at('probe.npy'), { seed: 0 });
    const handle = await openModel(at('mlp.onnx'));
    try {
      const { acts } = await handle.capture(probe, { layers: ['/fc1/Gemm', '/fc2/Gemm'] });
      const rows = new Float64Array(acts.samples * acts.neurons);
      for (let n = 0; n < acts.neurons; n++)
        for (let i = 0; i < acts.samples; i++)
          rows[i * acts.neurons + n] = acts.data[n * acts.samples + i];
      writeFileSync(at('engine.npy'), encodeNpy(rows, [acts.samples, acts.neurons]));
      const names = ['fc1', 'fc2'];
      const layers = acts.layers.map((l, i) => ({ name: names[i], start: l.start, end: l.end }));
      writeFileSync(at('engine.layers.json'), JSON.stringify({ layers }));
    } finally {
      handle.dispose();
    }
  });

  const skip = skipWithout('python3-torch', hasTorch);
  const opts = { probe: at('probe.npy'), threads: 1, bootstrapReplicates: 200 };

  void it(
    'the engine dump and the export: comparable, mapped by name, the same medians',
    { skip },
    async () => {
      const r = await compare([at('engine.npy'), at('mlp.onnx')], {
        ...opts,
        baseline: at('engine.npy'),
      });
      const [dump, onnx] = r.models;
      assert.equal(onnx.notComparable, undefined, onnx.notComparable ?? onnx.error);
      assert.deepEqual(onnx.layerMapping, [
        { from: '/fc1/Gemm', to: 'fc1', how: 'name' },
        { from: '/fc2/Gemm', to: 'fc2', how: 'name' },
      ]);
      assert.ok(Math.abs(dump.summary.entropy.median - onnx.summary.entropy.median) < 1e-9);
      assert.ok(Math.abs(dump.summary.mi.median - onnx.summary.mi.median) < 1e-9);
    },
  );

  void it(
    'PyTorch hooks under DataParallel (module.fc1): comparable, mapped by name, no signature',
    { skip },
    async () => {
      const r = await compare([at('hooks.npy'), at('mlp.onnx')], {
        ...opts,
        baseline: at('hooks.npy'),
      });
      const [dump, onnx] = r.models;
      assert.equal(onnx.notComparable, undefined, onnx.notComparable ?? onnx.error);
      assert.deepEqual(onnx.layerMapping, [
        { from: '/fc1/Gemm', to: 'module.fc1', how: 'name' },
        { from: '/fc2/Gemm', to: 'module.fc2', how: 'name' },
      ]);
      // Two runtimes, float32 rounding apart: the same reading.
      assert.equal(onnx.signature.kind, 'none');
      assert.ok(Math.abs(dump.summary.entropy.median - onnx.summary.entropy.median) < 0.05);
      assert.ok(Math.abs(onnx.signature.miRatio - 1) < 0.05);
    },
  );
});
