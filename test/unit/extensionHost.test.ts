// The analysis child process as the extension runs it: a real fork of the bundled
// analysisHost.js (beside this test file), the real core, the committed example models.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CancelledError, UserError } from '../../src/core/errors';
import type { Progress } from '../../src/core/progress';
import { runJob } from '../../src/extension/analysisClient';
import type { JobParams } from '../../src/extension/hostProtocol';

const HOST = path.join(__dirname, 'analysisHost.js');
const EXAMPLES = path.resolve(__dirname, '../../examples');
const model = (name: string): string => path.join(EXAMPLES, name, 'model.json');

const params: JobParams = {
  probe: path.join(EXAMPLES, 'probe.npy'),
  samples: 1000,
  seed: 0,
  layers: [],
  point: 'preactivation',
  bins: 100,
  binning: 'global',
  k: 3,
  miNeurons: null,
  threads: 1,
  backend: 'auto',
  thresholds: { deltaEntropy: 0.1, miRatio: 1.5 },
};

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
      baselineCache: null,
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

void test('cancelling kills the child: the promise rejects at once and the process is gone within a second', async () => {
  const controller = new AbortController();
  let pid = 0;
  const started = Date.now();
  const job = runJob(
    HOST,
    {
      type: 'job/compare',
      paths: [model('shortcut'), model('shortcut-baseline'), model('generalising')],
      baseline: null,
      params,
    },
    {
      signal: controller.signal,
      onSpawn: (p) => (pid = p),
      // Cancel as soon as the work has visibly started.
      onProgress: () => controller.abort(),
    },
  );
  await assert.rejects(job, (err: unknown) => err instanceof CancelledError);
  const cancelledAt = Date.now();
  assert.ok(pid > 0);
  while (alive(pid) && Date.now() - cancelledAt < 1000) await new Promise((r) => setTimeout(r, 10));
  assert.equal(alive(pid), false, `the analysis process ${pid} still runs 1 s after cancel`);
  assert.ok(cancelledAt - started < 60_000);
});

void test('a user error in the child arrives as a UserError with its one-line message', async () => {
  const missing = path.join(EXAMPLES, 'no-such-model', 'model.json');
  await assert.rejects(
    runJob(HOST, {
      type: 'job/analyze',
      source: missing,
      baseline: null,
      baselineCache: null,
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
    backend: 'auto',
  });
  assert.deepEqual(
    outline.layers.filter((l) => l.measuredByDefault).map((l) => l.name),
    ['hidden1', 'hidden2', 'hidden3'],
  );
  assert.deepEqual(outline.inputShape, [null, 128]);
});

void test('a cached baseline is measured once: the second job captures one model and gives the same signature', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-baseline-'));
  try {
    const job = {
      type: 'job/analyze' as const,
      source: model('shortcut'),
      baseline: model('shortcut-baseline'),
      baselineCache: path.join(dir, 'baseline'),
      params: { ...params, miNeurons: 16 },
    };
    const captures = async (): Promise<{
      runs: number;
      kind: string | undefined;
      ratio: number | undefined;
    }> => {
      let runs = 0;
      let last = '';
      const result = await runJob(HOST, job, {
        onProgress: (p) => {
          if (p.stage === 'capture' && last !== 'capture') runs++;
          last = p.stage;
        },
      });
      return { runs, kind: result.signature?.kind, ratio: result.signature?.miRatio };
    };
    const first = await captures();
    const second = await captures();
    assert.equal(first.runs, 2);
    assert.equal(second.runs, 1);
    assert.equal(second.kind, first.kind);
    assert.equal(second.ratio, first.ratio);
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.f64')).length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
