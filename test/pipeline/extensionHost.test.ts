// The analysis child process as the extension runs it: a real fork of the bundled
// analysisHost.js (beside this test file), the real core, the committed example models.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeOnnxModel } from '../../src/core/capture/onnx/onnxProto';
import { CancelledError, UserError } from '../../src/core/errors';
import { encodeNpy } from '../../src/core/io/npy';
import type { Progress } from '../../src/core/progress';
import { runJob } from '../../src/extension/child/client';
import type { JobRequest, JobResults } from '../../src/extension/child/protocol';
import { randn } from '../fixtures/capture/helpers';
import { forward, mlpModel } from '../fixtures/capture/onnxModels';
import { defaultJobParams } from '../fixtures/jobParams';

const HOST = path.join(__dirname, 'analysisHost.js');
const EXAMPLES = path.resolve(__dirname, '../../examples');
const model = (name: string): string => path.join(EXAMPLES, name, 'model.json');

const params = defaultJobParams(path.join(EXAMPLES, 'probe.npy'));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

void test('the shortcut example analysed against its baseline: three hidden layers and the heuristic signature', async () => {
  const stages: Progress[] = [];
  const result = await runJob(
    HOST,
    // 32 neurons per layer in the MI estimate (seeded) keep the test at a quarter of the pairs.
    {
      type: 'job/analyze',
      source: model('shortcut'),
      baseline: model('shortcut-baseline'),
      measurements: null,
      params: { ...params, miNeurons: 32 },
    },
    { onProgress: (p) => stages.push(p) },
  );
  assert.deepEqual(
    result.report.layers.map((l) => [l.name, l.neurons]),
    [
      ['hidden1', 64],
      ['hidden2', 64],
      ['hidden3', 64],
    ],
  );
  // examples/probe.npy holds 600 held-out images (examples/README.md); 1000 asked, all used.
  assert.equal(result.report.probe?.samples, 600);
  assert.equal(result.signature?.kind, 'heuristic');
  assert.ok(stages.some((p) => p.stage === 'capture'));
  assert.ok(stages.length > 0);
});

void test('cancelling kills the child: the job rejects with CancelledError and the process is gone', async () => {
  const controller = new AbortController();
  let pid = 0;
  let miReports = 0;
  const job = runJob(
    HOST,
    {
      type: 'job/compare',
      paths: [model('shortcut'), model('shortcut-baseline'), model('generalising')],
      baseline: null,
      reference: null,
      measurements: null,
      // One MI worker per core in the child: all of them busy when the cancel arrives.
      params: { ...params, threads: availableParallelism() },
    },
    {
      signal: controller.signal,
      onSpawn: (p) => (pid = p),
      // Cancel as soon as the MI workers have reported work: the first of three models.
      onProgress: (p) => {
        if (p.stage === 'mi' && ++miReports === 1) controller.abort();
      },
    },
  );
  await assert.rejects(job, (err: unknown) => err instanceof CancelledError);
  assert.ok(pid > 0);
  assert.equal(miReports, 1, 'no progress arrives after the cancel');
  // The child is killed (SIGTERM, then SIGKILL): wait for it to be gone, however long that
  // takes here; a child that never ends fails by the test's timeout.
  while (alive(pid)) await new Promise((r) => setTimeout(r, 10));
  assert.equal(alive(pid), false);
});

void test('a user error in the child arrives as a UserError with its one-line message', async () => {
  const missing = path.join(EXAMPLES, 'no-such-model', 'model.json');
  await assert.rejects(
    runJob(HOST, {
      type: 'job/analyze',
      source: missing,
      baseline: null,
      measurements: null,
      params,
    }),
    (err: unknown) =>
      err instanceof UserError && err.message.includes(missing) && !err.message.includes('\n'),
  );
});

void test('the model outline lists the layers of a TF.js model', async () => {
  const outline = await runJob(HOST, {
    type: 'job/inspect',
    source: model('generalising'),
    params: { ...params, probe: null },
  });
  assert.ok(outline.kind === 'model');
  assert.deepEqual(
    outline.layers.filter((l) => l.measuredByDefault).map((l) => l.name),
    ['hidden1', 'hidden2', 'hidden3'],
  );
  assert.deepEqual(outline.inputShape, [null, 128]);
});

void test('memlens.modelInput names the input of a two-input ONNX model, for analysis and outline', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-two-inputs-'));
  try {
    const file = path.join(dir, 'two-inputs.onnx');
    writeFileSync(file, encodeOnnxModel(mlpModel(true)));
    const s = 40;
    const x = randn(81, s, 3);
    const probe = path.join(dir, 'probe.npy');
    writeFileSync(probe, encodeNpy(x, [s, 3]));
    const job = (input: string | null) => ({
      type: 'job/analyze' as const,
      source: file,
      baseline: null,
      measurements: null,
      params: { ...params, probe, input, binning: 'neuron' as const, bins: 4 },
    });
    await assert.rejects(
      runJob(HOST, job('ids')),
      (err: unknown) =>
        err instanceof UserError &&
        /unknown input 'ids': expected one of x, attention_mask/.test(err.message),
    );
    const result = await runJob(HOST, job('x'));
    assert.ok('report' in result);
    assert.deepEqual(
      result.report.layers.map((l) => l.name),
      ['/0/Gemm', '/2/Gemm'],
    );
    // The overall entropy's median over the 6 neurons, each binned on its own range into 4
    // bins: recomputed from the hand-written forward pass.
    const { z1, z2 } = forward(x, s);
    const entropies = [...columnEntropies(z1, s, 4), ...columnEntropies(z2, s, 2)].sort(
      (a, b) => a - b,
    );
    assert.ok(
      Math.abs(result.report.summary.entropy.median - (entropies[2] + entropies[3]) / 2) < 1e-12,
    );
    const outline = await runJob(HOST, {
      type: 'job/inspect',
      source: file,
      params: { ...params, probe: null, input: 'x' },
    });
    assert.ok('layers' in outline && 'inputShape' in outline);
    assert.deepEqual(outline.inputShape, [null, 3]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Entropy (nats) of each column of a row-major [s, width] matrix, 4 equal bins on its range. */
function columnEntropies(m: Float64Array, s: number, width: number): number[] {
  return Array.from({ length: width }, (_, j) => {
    const col = Array.from({ length: s }, (_, i) => m[i * width + j]);
    const lo = Math.min(...col);
    const step = (Math.max(...col) - lo) / 4;
    const counts = [0, 0, 0, 0];
    for (const v of col) counts[Math.min(3, Math.floor((v - lo) / step))]++;
    return -counts.filter((c) => c > 0).reduce((h, c) => h + (c / s) * Math.log(c / s), 0);
  });
}

void test('one measurement per model: a baseline run and a compare reuse what an analysis measured', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-measurements-'));
  try {
    const quick = { ...params, miNeurons: 16 };
    /** Runs a job, counting the models it captured (a capture stage begun). */
    const counted = async <T extends JobRequest>(
      job: T,
    ): Promise<[JobResults[T['type']], number]> => {
      let captures = 0;
      let last = '';
      const result = await runJob(HOST, job, {
        onProgress: (p) => {
          if (p.stage === 'capture' && last !== 'capture') captures++;
          last = p.stage;
        },
      });
      return [result, captures];
    };
    const [alone, aloneCaptures] = await counted({
      type: 'job/analyze',
      source: model('shortcut'),
      baseline: null,
      measurements: dir,
      params: quick,
    });
    assert.equal(aloneCaptures, 1);
    assert.deepEqual([alone.measured, alone.reused], [1, 0]);
    const [against, againstCaptures] = await counted({
      type: 'job/analyze',
      source: model('shortcut'),
      baseline: model('shortcut-baseline'),
      measurements: dir,
      params: quick,
    });
    // Only the baseline is captured; the model's measures are read back unchanged.
    assert.equal(againstCaptures, 1);
    assert.deepEqual([against.measured, against.reused], [1, 1]);
    assert.deepEqual(against.report.summary, alone.report.summary);
    const compareJob = {
      type: 'job/compare' as const,
      paths: [model('shortcut'), model('shortcut-baseline')],
      baseline: model('shortcut-baseline'),
      reference: null,
      params: quick,
    };
    const [cached, cachedCaptures] = await counted({ ...compareJob, measurements: dir });
    assert.deepEqual([cached.measured, cached.reused, cachedCaptures], [0, 2, 0]);
    assert.deepEqual([cached.measured, cached.reused], [0, 2]);
    // The compare's signature is the baseline run's, and a compare measuring afresh (its
    // probe loaded once for both models) gives the same numbers.
    const fromCache = cached.report.models.find((m) => m.path === model('shortcut'));
    assert.deepEqual(fromCache?.signature, against.signature);
    const [fresh, freshCaptures] = await counted({ ...compareJob, measurements: null });
    assert.equal(freshCaptures, 2);
    assert.deepEqual(
      fresh.report.models.map((m) => m.signature),
      cached.report.models.map((m) => m.signature),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
