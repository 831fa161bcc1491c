// The real `memlens measure` process: bundles src/cli/main.ts beside the MI worker (out/test),
// runs it, and checks the exit code, the streams, the output file and that it exits promptly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeNpy } from '../../src/core/io/npy';
import { Rng } from '../../src/core/random';
import { bundleCli } from '../fixtures/cliBundle';

const cli = path.join(__dirname, 'memlensCli.js');

function run(args: string[]) {
  return spawnSync(process.execPath, [cli, 'measure', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

void test('memlens measure as a process: JSON file, exit 0, prompt exit; bad input: one line, exit 1', async () => {
  await bundleCli(cli);
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-proc-'));
  const rng = new Rng(9);
  const S = 300;
  const N = 8;
  writeFileSync(
    path.join(dir, 'acts.npy'),
    encodeNpy(
      Float32Array.from({ length: S * N }, () => rng.normal()),
      [S, N],
    ),
  );
  const out = path.join(dir, 'out.json');
  const ok = run([path.join(dir, 'acts.npy'), '--layer-sizes', '4,4', '--out', out]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.signal, null, 'killed by the timeout: the worker pool kept the process alive');
  assert.equal(ok.stdout, '');
  assert.equal(ok.stderr, ''); // stderr is a pipe, not a terminal: no progress
  const json = JSON.parse(readFileSync(out, 'utf8')) as { entropy: number[]; mi: unknown[][] };
  assert.equal(json.entropy.length, N);
  assert.equal(json.mi.length, N);

  const toStdout = run([path.join(dir, 'acts.npy'), '--pairs', '5']);
  assert.equal(toStdout.status, 0);
  assert.equal(
    (JSON.parse(toStdout.stdout) as { params: { pairsComputed: number } }).params.pairsComputed,
    5,
  );

  writeFileSync(path.join(dir, 'bad.npy'), 'hello');
  const bad = run([path.join(dir, 'bad.npy'), '--out', path.join(dir, 'never.json')]);
  assert.equal(bad.status, 1);
  assert.equal(bad.stdout, '');
  assert.match(
    bad.stderr,
    /^memlens: .*bad\.npy: expected a \.npy file \(magic \\x93NUMPY\), found bytes 68 65 6c 6c 6f\n$/,
  );
  const mismatch = run([
    path.join(dir, 'acts.npy'),
    '--layer-sizes',
    '3,3',
    '--out',
    path.join(dir, 'never.json'),
  ]);
  assert.equal(mismatch.status, 1);
  assert.equal(mismatch.stderr.split('\n').length, 2, mismatch.stderr); // one line + final newline
  assert.deepEqual(readdirSync(dir).sort(), ['acts.npy', 'bad.npy', 'out.json']);
});
