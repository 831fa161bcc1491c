// The watchdog of the analysis child (src/extension/child/client.ts): a job that does not
// finish in its time limit is killed, and fails with a one-line UserError naming the file. A FIFO,
// whose read would block for ever, is refused before the watchdog is needed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { UserError } from '../../src/core/errors';
import { JOB_TIMEOUT_MS, runJob } from '../../src/extension/child/client';
import { tempDir } from '../fixtures/capture/helpers';
import { defaultJobParams } from '../fixtures/jobParams';

const HOST = path.join(__dirname, 'analysisHost.js');
const EXAMPLES = path.resolve(__dirname, '../../examples');
const params = { ...defaultJobParams(path.join(EXAMPLES, 'probe.npy')), probe: null };
const tmp = tempDir('memlens-watchdog-');
after(tmp.cleanup);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until the process is gone, however long a loaded machine takes (the test's timeout bounds it). */
async function gone(pid: number): Promise<boolean> {
  while (alive(pid)) await new Promise((r) => setTimeout(r, 10));
  return true;
}

void test('default limits: reading a model or probe previews 60 s, identifying 120 s, analyses none (they have Cancel)', () => {
  assert.deepEqual(JOB_TIMEOUT_MS, {
    'job/inspect': 60_000,
    'job/identify': 120_000,
    'job/analyze': null,
    'job/compare': null,
    'job/probeFit': 60_000,
  });
});

void test(
  'a FIFO named as a dump is refused at once, never read (its read would block for ever)',
  { skip: process.platform === 'win32' ? 'no mkfifo' : false, timeout: 30_000 },
  async () => {
    const fifo = path.join(tmp.dir, 'acts.npy');
    execFileSync('mkfifo', [fifo]);
    let pid = 0;
    // The default limit (120 s) is far beyond the test's own: only a refusal passes.
    await assert.rejects(
      runJob(
        HOST,
        { type: 'job/identify', sources: [fifo], probe: null },
        { onSpawn: (p) => (pid = p) },
      ),
      (err: unknown) => {
        assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
        assert.match(err.message, /acts\.npy: expected a regular file, found a special file/);
        return true;
      },
    );
    assert.ok(pid > 0);
    assert.ok(await gone(pid), `the analysis process ${pid} still runs after refusing`);
  },
);

void test('an inspect job over its limit names the model; a job within its limit is untouched', async () => {
  const model = path.join(EXAMPLES, 'generalising', 'model.json');
  let pid = 0;
  // Starting a Node process alone takes longer than 20 ms.
  await assert.rejects(
    runJob(
      HOST,
      { type: 'job/inspect', source: model, params: { ...params, backend: 'cpu' } },
      { timeoutMs: 20, onSpawn: (p) => (pid = p) },
    ),
    (err: unknown) =>
      err instanceof UserError &&
      err.message ===
        `${model}: reading the model took longer than 20 ms; it may be damaged or crafted`,
  );
  assert.ok(await gone(pid), `the analysis process ${pid} still runs 1 s after its watchdog`);
  const outline = await runJob(HOST, {
    type: 'job/inspect',
    source: model,
    params: { ...params, backend: 'cpu' },
  });
  assert.ok(outline.kind === 'model');
  assert.deepEqual(outline.inputShape, [null, 128]);
});
