// The MI plan on the command line: the one line before the work (exact text at a rate fixed by
// MEMLENS_MI_RATE), the plan in the JSON, and a 12,000-neuron matrix written as an .npy that
// numpy reads back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runMeasure } from '../../src/cli/commands/measure';
import { MI_RATE_ENV } from '../../src/core/analysis/miRate';
import { encodeNpy } from '../../src/core/io/npy';
import { ksgMi } from '../../src/core/measures/ksg';
import { disposeMiPool } from '../../src/core/mi/miMatrix';
import { Rng } from '../../src/core/random';
import type { MiPlanReport } from '../../src/core/report/schema';

const signal = new AbortController().signal;
const dirs: string[] = [];

test.after(async () => {
  await disposeMiPool();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function streams() {
  const err: string[] = [];
  return {
    io: {
      stdout: { write: () => true },
      stderr: { write: (t: string) => err.push(t), isTTY: false },
    },
    stderr: () => err.join(''),
  };
}

/** acts.npy in a new folder: S x N float32 normals, row-major. */
function workdir(
  S: number,
  N: number,
  seed = 1,
): { dir: string; file: string; rows: Float32Array } {
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-plan-'));
  dirs.push(dir);
  const rng = new Rng(seed);
  const rows = Float32Array.from({ length: S * N }, () => rng.normal());
  const file = path.join(dir, 'acts.npy');
  writeFileSync(file, encodeNpy(rows, [S, N]));
  return { dir, file, rows };
}

interface MeasureJson {
  params: { miNeuronCap: number | null; pairs: number | null; pairsComputed: number };
  miPlan: MiPlanReport;
  summary: { layers: { miNeurons: number }[] };
  warnings: { code: string; message: string }[];
}

void test('over the budget, measure says the plan in one line before the work, and records it', async () => {
  process.env[MI_RATE_ENV] = '100';
  try {
    const { dir, file } = workdir(20, 300);
    const out = path.join(dir, 'm.json');
    const io = streams();
    const args = [file, '--layer-sizes', '150,150', '--threads', '2', '--out', out];
    await runMeasure(args, signal, io.io);
    // 300 neurons: 44,850 pairs at 2 x 100 pairs/s = 224 s. 64 per layer: 8,128 pairs, 40.6 s;
    // 96 per layer: 18,336 pairs, 91.7 s, over the 60 s.
    assert.equal(
      io.stderr(),
      'MI: 44,850 pairs would take ~4 min at 2 threads; measuring 64 neurons per layer (128 neurons: 8,128 pairs, ~41 s) to stay within 60 s; --mi-budget 0 for all pairs\n',
    );
    const report = JSON.parse(readFileSync(out, 'utf8')) as MeasureJson;
    assert.equal(report.params.miNeuronCap, 64);
    assert.equal(report.params.pairsComputed, 8128);
    assert.deepEqual(
      report.summary.layers.map((l) => l.miNeurons),
      [64, 64],
    );
    assert.equal(report.miPlan.mode, 'capped');
    assert.equal(report.miPlan.rateSource, 'environment');
    assert.equal(report.miPlan.allPairs, 44_850);
    assert.equal(report.miPlan.budgetSeconds, 60);

    // Within the budget (a faster rate): no line, every pair.
    process.env[MI_RATE_ENV] = '100000';
    const quiet = streams();
    await runMeasure([...args.slice(0, -1), path.join(dir, 'q.json')], signal, quiet.io);
    assert.equal(quiet.stderr(), '');
    const whole = JSON.parse(readFileSync(path.join(dir, 'q.json'), 'utf8')) as MeasureJson;
    assert.equal(whole.params.pairsComputed, 44_850);
    assert.equal(whole.miPlan.mode, 'all');
  } finally {
    delete process.env[MI_RATE_ENV];
  }
});

void test('measure on 12,000 neurons writes the MI matrix as an .npy that numpy reads back', async (t) => {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) return t.skip('python3 with numpy is not installed');
  const S = 6;
  const N = 12_000;
  const { dir, file, rows } = workdir(S, N, 3);
  const out = path.join(dir, 'wide.json');
  const io = streams();
  await runMeasure([file, '--pairs', '50', '--seed', '2', '--out', out], signal, io.io);
  const report = JSON.parse(readFileSync(out, 'utf8')) as { mi: { file: string; shape: number[] } };
  assert.deepEqual(report.mi.shape, [N, N]);
  const npy = path.join(dir, report.mi.file);
  const script = [
    'import json, sys, numpy as np',
    'a = np.load(sys.argv[1])',
    'i, j = np.nonzero(~np.isnan(a))',
    'upper = [[int(x), int(y), float(a[x, y])] for x, y in zip(i, j) if x < y]',
    'print(json.dumps({"shape": list(a.shape), "dtype": str(a.dtype), "finite": int(len(i)),',
    '  "symmetric": bool((a[i, j] == a[j, i]).all()),',
    '  "diagonal": bool(np.isnan(np.diag(a)).all()), "upper": upper}))',
  ].join('\n');
  const run = spawnSync('/usr/bin/python3', ['-c', script, npy], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  assert.equal(run.status, 0, run.stderr);
  const read = JSON.parse(run.stdout) as {
    shape: number[];
    dtype: string;
    finite: number;
    symmetric: boolean;
    diagonal: boolean;
    upper: [number, number, number][];
  };
  assert.deepEqual(read.shape, [N, N]);
  assert.equal(read.dtype, 'float64');
  assert.equal(read.finite, 100); // 50 pairs, both triangles
  assert.equal(read.symmetric, true);
  assert.equal(read.diagonal, true);
  assert.equal(read.upper.length, 50);
  // Each value is KSG-1 of its two columns, computed here by the reference kernel.
  const columnOf = (c: number): Float64Array =>
    Float64Array.from({ length: S }, (_, s) => rows[s * N + c]);
  for (const [i, j, v] of read.upper.slice(0, 5))
    assert.ok(Math.abs(v - ksgMi(columnOf(i), columnOf(j))) < 1e-12, `pair ${i}, ${j}`);
});
