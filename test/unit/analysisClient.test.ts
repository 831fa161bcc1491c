// MEMLENS_INSPECT_CHILD=1: the analysis child listens for a debugger on the fixed port that
// the "Attach to analysis child" launch configuration (.vscode/launch.json) attaches to.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { test } from 'node:test';
import { CancelledError } from '../../src/core/errors';
import { CHILD_INSPECT_PORT, childExecArgv, runJob } from '../../src/extension/child/client';
import { defaultJobParams } from '../fixtures/jobParams';

const HOST = path.join(__dirname, 'analysisHost.js');

void test('childExecArgv: nothing by default; --inspect-brk on the fixed port when asked', () => {
  assert.equal(childExecArgv({}, ['--inspect=9229']), undefined);
  assert.equal(childExecArgv({ MEMLENS_INSPECT_CHILD: '0' }), undefined);
  assert.deepEqual(
    childExecArgv({ MEMLENS_INSPECT_CHILD: '1' }, [
      '--inspect=9229',
      '--max-old-space-size=4096',
      '--inspect-port',
      '--inspect-brk=1',
    ]),
    ['--max-old-space-size=4096', `--inspect-brk=${CHILD_INSPECT_PORT}`],
  );
});

void test('launch.json attaches to the port the child listens on', () => {
  const launch = readFileSync(path.resolve(__dirname, '../../.vscode/launch.json'), 'utf8');
  const attach = /"name": "Attach to analysis child",[^}]*"port": (\d+)/.exec(launch);
  assert.equal(Number(attach?.[1]), CHILD_INSPECT_PORT);
});

/** True when nothing listens on the port (the test skips otherwise). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The inspector's target list on the port, or null while nothing answers. */
function inspectorTargets(port: number): Promise<{ type: string; url: string }[] | null> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/json/list', timeout: 500 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as { type: string; url: string }[]);
        } catch {
          resolve(null);
        }
      });
    });
    req.on('error', () => resolve(null));
    req.on('timeout', () => req.destroy());
  });
}

void test(
  'MEMLENS_INSPECT_CHILD=1: the child waits for a debugger on the port; cancel kills it',
  { timeout: 120_000 },
  async (t) => {
    if (!(await portFree(CHILD_INSPECT_PORT))) {
      return t.skip(`port ${CHILD_INSPECT_PORT} is in use`);
    }
    const before = process.env.MEMLENS_INSPECT_CHILD;
    process.env.MEMLENS_INSPECT_CHILD = '1';
    const controller = new AbortController();
    try {
      const job = runJob(
        HOST,
        {
          type: 'job/analyze',
          source: path.resolve(__dirname, '../../examples/shortcut/model.json'),
          baseline: null,
          measurements: null,
          params: defaultJobParams(path.resolve(__dirname, '../../examples/probe.npy')),
        },
        { signal: controller.signal },
      );
      let targets: { type: string; url: string }[] | null = null;
      // Until the child listens, however long that takes here (the test's timeout bounds it).
      while (targets === null) {
        targets = await inspectorTargets(CHILD_INSPECT_PORT);
        if (targets === null) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(
        targets.some((x) => x.type === 'node' && x.url.endsWith('analysisHost.js')),
        JSON.stringify(targets),
      );
      controller.abort();
      await assert.rejects(job, CancelledError);
    } finally {
      controller.abort();
      if (before === undefined) delete process.env.MEMLENS_INSPECT_CHILD;
      else process.env.MEMLENS_INSPECT_CHILD = before;
    }
  },
);
