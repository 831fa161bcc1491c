// PyTorch capture speed, in the user's Python (MEMLENS_BENCH_PYTHON, default /usr/bin/python3,
// Debian's python3-torch): the Python start with the torch import, then open + capture of a
// 784-256-128-10 MLP on 1,000 probe inputs (the goal: under 3 s end to end) and of a small
// conv net on 1,000 32 x 32 x 3 images, and of the real-size conv net (bench/realConv.ts) on 64
// 3 x 224 x 224 images, with the peak RSS of the Python child and of this process.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openModel } from '../src/core/capture/registry';
import { randomProbe } from './capture';
import { REAL_CONV, benchRealConv, realConvConvolutions } from './realConv';

const MODELS = `
import json, sys, torch
from torch import nn
torch.manual_seed(0)
mlp = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
conv = nn.Sequential(nn.Conv2d(3, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
torch.save(mlp, sys.argv[1] + '/mlp.pt')
torch.save(conv, sys.argv[1] + '/conv.pt')
blocks, channels = [], 3
for filters, stride in json.loads(sys.argv[2]):
    blocks += [nn.Conv2d(channels, filters, 3, stride, 1), nn.ReLU()]
    channels = filters
real = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, int(sys.argv[3])))
torch.save(real, sys.argv[1] + '/real.pt')
`;

export async function benchTorch(): Promise<void> {
  const python = process.env.MEMLENS_BENCH_PYTHON ?? '/usr/bin/python3';
  console.log(`\n## PyTorch capture (${python})`);
  const t0 = performance.now();
  try {
    execFileSync(python, ['-c', 'import torch']);
  } catch {
    console.log(`  skipped: ${python} cannot import torch`);
    return;
  }
  console.log(`  Python start + import torch: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-bench-torch-'));
  try {
    const convolutions = realConvConvolutions().map((c) => [c.filters, c.stride]);
    execFileSync(python, [
      '-c',
      MODELS,
      dir,
      JSON.stringify(convolutions),
      String(REAL_CONV.classes),
    ]);
    for (const [name, shape] of [
      ['mlp', [1000, 784]],
      ['conv', [1000, 3, 32, 32]],
    ] as const) {
      const p = randomProbe(1, [...shape]);
      const start = performance.now();
      const handle = await openModel(path.join(dir, `${name}.pt`), { probe: p, python });
      const opened = performance.now();
      try {
        const result = await handle.capture(p);
        const end = performance.now();
        console.log(
          `  ${name} on ${shape[0]} inputs: open ${((opened - start) / 1000).toFixed(2)} s, capture ${((end - opened) / 1000).toFixed(2)} s (${Math.round(shape[0] / ((end - opened) / 1000))} examples/s, ${result.acts.neurons} neurons), end to end ${((end - start) / 1000).toFixed(2)} s`,
        );
      } finally {
        handle.dispose();
      }
    }
    const real = await benchRealConv('.pt', path.join(dir, 'real.pt'), {
      python,
      channelsFirst: true,
      child: 'Python child',
    });
    console.log(`  ${real.figures}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
